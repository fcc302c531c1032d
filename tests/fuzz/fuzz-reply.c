/*
 * fuzz-reply.c - libFuzzer target for reply_compose with hostile values.
 *
 * The input is split at NUL bytes into the values a mail controls: the
 * subject, Message-ID, References, file names, reason, and the sender's
 * address.  Whatever they hold, the reply must either be refused
 * (M2C_E_DATA: the address) or be a message with CRLF line ends only,
 * whose header lines are exactly the ones reply_compose writes (a value
 * never adds a header), and whose Subject is one logical line.  Built with
 * -fsanitize=fuzzer under --enable-fuzzing, else with tests/fuzz/standalone.c
 * as a regression test over tests/fuzz/corpus/reply.
 */
#include "m2c-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reply.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The header names reply_compose writes (folded lines start with space/tab). */
static const char *const headers[] = {
	"Date:", "From:", "Subject:", "To:", "Message-Id:", "In-Reply-To:", "References:",
	"Auto-Submitted:", "X-Auto-Response-Suppress:", "MIME-Version:", "Content-Type:",
	"Content-Transfer-Encoding:",
};

static void
check_message(const char *m, size_t len)
{
	const char *p = m, *eol, *end = m + len;
	size_t i, nsubject = 0;

	for (i = 0; i < len; i++)
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			abort();	/* a bare LF */
	/* The header block: every line a known header or a continuation. */
	while (p < end && (eol = strstr(p, "\r\n")) != NULL && eol != p) {
		int known = *p == ' ' || *p == '\t';

		for (i = 0; i < ARRAY_SIZE(headers) && !known; i++)
			if (strncmp(p, headers[i], strlen(headers[i])) == 0)
				known = 1;
		if (!known)
			abort();	/* an injected header */
		if (strncmp(p, "Subject:", 8) == 0)
			nsubject++;
		p = eol + 2;
	}
	if (nsubject != 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *field[6] = { 0 };
	char *copy = xmalloc(size + 1), *p, *from = NULL;
	struct conf cf;
	struct conf_account a;
	struct reply_ctx ctx = { 0 };
	struct buf out = { 0 };
	static const int jobs[] = { 7, 8 };
	size_t n = 0;
	int r, k;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy; n < ARRAY_SIZE(field); n++) {
		field[n] = p;
		if ((size_t)(p - copy) >= size)
			break;
		p += strlen(p) + 1;
		if ((size_t)(p - copy) > size)
			break;
	}
	memset(&cf, 0, sizeof(cf));
	memset(&a, 0, sizeof(a));
	for (k = 0; k < CONF_REPLY_NKINDS; k++) {
		cf.replies.t[k].subject = "Re: ${subject} ${files} ${reason} ${sender}";
		cf.replies.t[k].body = "${sender}\n${subject}\n${files}\n${reason}\n${release}\n";
	}
	a.name = "fuzz";
	a.username = "print@example.org";
	ctx.subject = field[0];
	ctx.message_id = field[1];
	ctx.references = field[2];
	ctx.files = field[3];
	ctx.reason = field[4];
	ctx.to = field[5] && *field[5] ? field[5] : "bob@example.org";
	ctx.queue = "q";
	ctx.held = size & 1;
	ctx.job_ids = jobs;
	ctx.njobs = ARRAY_SIZE(jobs);
	r = reply_compose(&cf, &a, (enum conf_reply_kind)(size % CONF_REPLY_NKINDS), &ctx, &out,
	    &from, NULL);
	if (r == 0)
		check_message(out.data, out.len);
	else if (r != M2C_E_DATA)
		abort();
	buf_free(&out);
	free(from);
	free(copy);
	return 0;
}
