/* deliver.c - `mail2cups deliver`, an MDA; see deliver.h. */
#include "m2c-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cupsjob.h"
#include "deliver.h"
#include "error.h"
#include "lock.h"
#include "log.h"
#include "msgflow.h"
#include "poller.h"
#include "testhook.h"
#include "util.h"

/* The start of the message read before anything is stored: the MTA's
 * trace lines and the Message-ID are looked for in it. */
#define HEAD_MAX	65536
#define MID_MAX		998

/* The fields an MTA (or fetchmail) prepends at delivery. */
static const char *const trace_fields[] = {
	"Return-Path", "Received", "Delivered-To", "X-Original-To", "X-Envelope-From",
	"X-Envelope-To",
};

/* The end of the line at off (after its LF), or 0 when buf has no LF after off. */
static size_t
line_end(const char *buf, size_t len, size_t off)
{
	const char *nl = memchr(buf + off, '\n', len - off);

	return nl != NULL ? (size_t)(nl - buf) + 1 : 0;
}

/* The end of the header field at off, folded lines included; 0 when it
 * does not end inside buf. */
static size_t
field_end(const char *buf, size_t len, size_t off)
{
	size_t e = line_end(buf, len, off);

	while (e != 0 && e < len && (buf[e] == ' ' || buf[e] == '\t'))
		e = line_end(buf, len, e);
	/* A field that may go on past buf is not known to end. */
	return e != 0 && e < len ? e : 0;
}

/* Nonzero when the field at off is named name (ASCII case-insensitively). */
static int
field_is(const char *buf, size_t len, size_t off, const char *name)
{
	size_t n = strlen(name);

	return len - off > n && strncasecmp(buf + off, name, n) == 0 &&
	    (buf[off + n] == ':' || buf[off + n] == ' ' || buf[off + n] == '\t');
}

size_t
deliver_trace_end(const char *buf, size_t len)
{
	size_t off = 0, e;

	if (len >= 5 && memcmp(buf, "From ", 5) == 0) {
		if ((e = line_end(buf, len, 0)) == 0)
			return 0;
		off = e;
	}
	while (off < len) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(trace_fields); i++)
			if (field_is(buf, len, off, trace_fields[i]))
				break;
		if (i == ARRAY_SIZE(trace_fields) || (e = field_end(buf, len, off)) == 0)
			break;
		off = e;
	}
	return off;
}

char *
deliver_message_id(const char *buf, size_t len)
{
	size_t off = 0, e;

	while (off < len && buf[off] != '\n' && buf[off] != '\r') {
		if ((e = field_end(buf, len, off)) == 0)
			return NULL;
		if (field_is(buf, len, off, "Message-ID")) {
			const char *v = memchr(buf + off, ':', e - off), *lt, *gt;
			const char *end = buf + e;

			if (v == NULL)
				return NULL;
			for (v++; v < end && (*v == ' ' || *v == '\t' || *v == '\r' ||
			    *v == '\n'); v++)
				;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
			    end[-1] == '\n'))
				end--;
			lt = memchr(v, '<', (size_t)(end - v));
			gt = lt != NULL ? memchr(lt, '>', (size_t)(end - lt)) : NULL;
			if (lt != NULL && gt != NULL)
				v = lt + 1, end = gt;
			if (end <= v || end - v > MID_MAX)
				return NULL;
			return xstrndup(v, (size_t)(end - v));
		}
		off = e;
	}
	return NULL;
}

/* What stream_in found. */
struct intake {
	off_t size;		/* bytes of the whole message */
	int too_big;		/* over the limit: the file holds its start only */
	char hash[65];		/* SHA-256 from the end of the trace lines, hex */
	char *message_id;	/* owned; NULL when none */
};

static int
read_some(int fd, void *buf, size_t n, ssize_t *got, char **errstr)
{
	ssize_t r;

	while ((r = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot read the message on standard input: %s",
		    strerror(errno));
	*got = r;
	return 0;
}

/* Store what fits under limit (0: no limit) of n bytes at message offset at. */
static int
store(int out, const void *buf, size_t n, off_t at, off_t limit, struct intake *in,
    char **errstr)
{
	if (limit > 0 && at + (off_t)n > limit) {
		in->too_big = 1;
		n = at < limit ? (size_t)(limit - at) : 0;
	}
	if (n > 0 && write_all(out, buf, n) != 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot write the message to its scratch "
		    "file: %s (is state_dir's disk full?)", strerror(errno));
	return 0;
}

/*
 * Read the message from in to its end, storing it in out (up to limit
 * bytes), with its content hash and Message-ID.  Memory: two 64 KiB
 * buffers, whatever the message's size.
 */
static int
stream_in(int in, int out, off_t limit, struct intake *it, char **errstr)
{
	char *head = xmalloc(HEAD_MAX), *buf = xmalloc(HEAD_MAX);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t hlen = 0, skip;
	ssize_t n = 1;
	int r = 0;

	memset(it, 0, sizeof(*it));
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot start a SHA-256 digest");
		goto out;
	}
	while (hlen < HEAD_MAX && n > 0) {
		if ((r = read_some(in, head + hlen, HEAD_MAX - hlen, &n, errstr)) != 0)
			goto out;
		hlen += (size_t)n;
	}
	skip = deliver_trace_end(head, hlen);
	it->message_id = deliver_message_id(head + skip, hlen - skip);
	EVP_DigestUpdate(ctx, head + skip, hlen - skip);
	if ((r = store(out, head, hlen, 0, limit, it, errstr)) != 0)
		goto out;
	it->size = (off_t)hlen;
	while (n > 0) {
		if ((r = read_some(in, buf, HEAD_MAX, &n, errstr)) != 0)
			goto out;
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		if ((r = store(out, buf, (size_t)n, it->size, limit, it, errstr)) != 0)
			goto out;
		it->size += n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	hex_encode(md, mdlen < 32 ? mdlen : 32, it->hash);
out:
	EVP_MD_CTX_free(ctx);
	free(head);
	free(buf);
	return r;
}

/* Waiting for the account's lock: until the deadline, and who holds it. */
struct lock_wait {
	long long deadline;	/* monotonic ms */
	char *who;		/* owned */
};

static int
lock_wait_over(void *arg)
{
	struct lock_wait *lw = arg;

	return monotonic_ms() >= lw->deadline;
}

static void
lock_waiting(pid_t holder, const char *who, void *arg)
{
	struct lock_wait *lw = arg;

	(void)holder;
	free(lw->who);
	lw->who = xstrdup(who);
	log_info("waiting up to deliver_lock_wait for %s, which serves the account", who);
}

/* Take a's lock within cf->deliver_lock_wait seconds. */
static int
take_lock(const struct conf *cf, const struct conf_account *a, struct lock **lk, int *busy,
    char **errstr)
{
	struct lock_wait lw = { monotonic_ms() + (long long)cf->deliver_lock_wait * 1000, NULL };
	char *e = NULL;
	int r;

	r = lock_account_wait(cf->state_dir, a->name, LOCK_ROLE_DELIVER, lock_wait_over,
	    lock_waiting, &lw, lk, &e);
	if (r == M2C_E_TEMP && lw.who != NULL) {
		*busy = 1;
		free(e);
		e = NULL;
		r = m2c_fail(errstr, M2C_E_TEMP, "account %s is busy: %s served it for all of "
		    "deliver_lock_wait (%d s)%s; the MTA keeps the message and tries again later",
		    a->name, lw.who, cf->deliver_lock_wait, strstr(lw.who, "mail2cups run") ?
		    " (an account that mail2cups deliver feeds must not be one the daemon "
		    "serves)" : "");
	} else if (r != 0) {
		free(*errstr);
		*errstr = e;
	}
	free(lw.who);
	return r;
}

/* The outcome in words, for the MTA's log. */
static char *
outcome_words(struct state *st, const struct state_key *k, enum state_msg_status verdict,
    const struct poller_summary *sum, const char *label, enum deliver_outcome *outcome)
{
	struct state_msg sm = { 0 };
	char *w;

	(void)state_msg_get(st, k, &sm, NULL);
	switch (verdict) {
	case STATE_MSG_PRINTED:
		*outcome = DELIVER_PRINTED;
		w = xasprintf("%s: printed (%d document(s) in CUPS%s)", label,
		    sum->jobs + sum->already, sum->already ? ", some from an earlier try" : "");
		break;
	case STATE_MSG_REJECTED:
		*outcome = DELIVER_REFUSED;
		w = xasprintf("%s: not printed on purpose: %s", label,
		    sm.reason ? sm.reason : "the sender may not print");
		break;
	case STATE_MSG_FAILED:
		*outcome = DELIVER_FAILED;
		w = xasprintf("%s: not printed on purpose: %s", label,
		    sm.reason ? sm.reason : "it cannot be printed");
		break;
	case STATE_MSG_DONE:
	default:
		*outcome = DELIVER_ALREADY;
		w = xasprintf("%s: dealt with already by an earlier delivery of this message%s%s",
		    label, sm.reason ? ": " : "", sm.reason ? sm.reason : "");
		break;
	}
	state_msg_clear(&sm);
	return w;
}

int
deliver_message(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct deliver_opts *o, enum deliver_outcome *outcome, char **words, int *busy,
    enum m2c_step *step, char **errstr)
{
	static const struct msgflow_source no_source = { 0 };
	struct poller_summary sum = { 0 };
	struct lock *lk = NULL;
	struct intake it = { 0 };
	struct msgflow flow = { 0 };
	struct msgflow_msg in = { .fd = -1 };
	enum state_msg_status verdict = STATE_MSG_NEW;
	char *scratch = NULL, *msgpath = NULL, *warning = NULL, *rcpt = NULL, *toobig = NULL;
	char label[32];
	uint32_t number = 0;
	int fd = -1, is_new = 0, r;

	*words = NULL;
	*busy = 0;
	*outcome = DELIVER_FAILED;
	*step = M2C_STEP_LOCAL;
	if ((r = take_lock(cf, a, &lk, busy, errstr)) != 0)
		goto out;
	/* Under the lock no other deliver of this account uses its folder. */
	scratch = xasprintf("%s/scratch/deliver-%s", cf->state_dir, a->name);
	if ((r = mkdir_p(scratch, 0700, errstr)) != 0)
		goto out;
	poller_clean_scratch(scratch);

	/* CUPS first: with the queue unusable, the MTA keeps the message. */
	*step = M2C_STEP_CUPS;
	r = cups_job_check_queue(a->printer, &warning, errstr);
	if (warning != NULL)
		log_warn("%s", warning);
	if (r != 0)
		goto out;

	*step = M2C_STEP_FETCH;
	if ((fd = private_tmpfile(scratch, MSGFLOW_SCRATCH_MSG, &msgpath, errstr)) < 0) {
		r = fd;
		goto out;
	}
	if ((r = stream_in(o->fd, fd, cf->limits.max_message_size, &it, errstr)) != 0)
		goto out;
	testhook_point("after-fetch");

	*step = M2C_STEP_RECOGNISE;
	if (o->recipient != NULL && *o->recipient != '\0') {
		rcpt = xstrdup(o->recipient);
		for (char *c = rcpt; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	if ((r = state_delivery_number(st, a->name, it.message_id, it.hash, rcpt, &number,
	    &is_new, errstr)) != 0)
		goto out;
	snprintf(label, sizeof(label), "delivery %u", number);
	log_info("%s: Message-ID %s%s%s, %lld bytes, envelope from <%s> to <%s>%s", label,
	    it.message_id ? "<" : "", it.message_id ? it.message_id : "(none)",
	    it.message_id ? ">" : "", (long long)it.size, o->sender ? o->sender : "",
	    rcpt ? rcpt : "", is_new ? "" : " (seen before: the MTA tries it again)");
	if (it.too_big)
		toobig = xasprintf("the message is %lld bytes, more than limits.max_message_size "
		    "(%lld)", (long long)it.size, (long long)cf->limits.max_message_size);

	in.k = (struct state_key){ a->name, STATE_DELIVER_MAILBOX, 0, number };
	in.label = label;
	in.fd = fd;
	in.size = it.size;
	in.hash = it.hash;
	in.failed = toobig;
	in.env_sender = o->sender;
	in.env_recipient = rcpt;
	msgflow_init(&flow, cf, a, st, 0, scratch, &no_source, &sum);
	if ((r = msgflow_process(&flow, &in, &verdict, step, errstr)) != 0)
		goto out;
	*words = outcome_words(st, &in.k, verdict, &sum, label, outcome);
	/* Replies go out now, as after a poller's pass; one that cannot go
	 * waits for the next deliver or pass, and never fails this one. */
	msgflow_flush_replies(&flow);
out:
	msgflow_clear(&flow);
	if (fd >= 0)
		close(fd);
	if (msgpath != NULL)
		unlink(msgpath);
	free(msgpath);
	free(it.message_id);
	free(toobig);
	free(rcpt);
	free(warning);
	free(scratch);
	lock_release(&lk);
	return r;
}
