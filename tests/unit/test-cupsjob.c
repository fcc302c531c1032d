/*
 * test-cupsjob.c - CUPS job submission.
 *
 * The cups_job_user_for_sender() table always runs.  The rest needs a
 * private cupsd set up by test-cupsjob.sh (M2C_CUPS_SERVER, M2C_CUPS_QUEUE
 * with QREJ rejecting and QSTOP stopped, M2C_CUPS_SPOOL where ippeveprinter
 * keeps what it receives, M2C_CUPS_RESTART to restart cupsd, M2C_CUPS_PORT
 * its TCP port for ipptool, which reads the print options back); without
 * it that part is reported as skipped.
 */
#include "m2c-config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cups/cups.h>

#include "cupsjob.h"
#include "error.h"
#include "tap.h"
#include "util.h"

static const struct {
	const char *in;
	const char *want;
} user_cases[] = {
	{ NULL, "unknown-sender" },
	{ "", "unknown-sender" },
	{ "alice@example.org", "alice@example.org" },
	{ "Alice.Smith+print@Example.ORG", "Alice.Smith+print@Example.ORG" },
	{ "bob_o-k@ex-ample.co.uk", "bob_o-k@ex-ample.co.uk" },
	{ "eve; rm -rf /@example.org", "eve__rm_-rf__@example.org" },
	{ "\"quoted name\"@example.org", "_quoted_name_@example.org" },
	{ "j\xc3\xbcrgen@example.de", "j__rgen@example.de" },
	{ "a\nb@c", "a_b@c" },
	{ "alice", "unknown-sender-alice" },
	{ "root", "unknown-sender-root" },
	{ "../../etc", "unknown-sender-.._.._etc" },
	{ "@", "@" },
};

static void
test_user_for_sender(void)
{
	char *long_in, *got;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(user_cases); i++) {
		got = cups_job_user_for_sender(user_cases[i].in);
		/* the input may hold a newline: name the case by its result */
		is_str(got, user_cases[i].want, "user_for_sender case %zu -> %s", i,
		    user_cases[i].want);
		free(got);
	}

	/* 300 bytes with the '@' at the end: cut before it, so prefixed. */
	long_in = xmalloc(301);
	memset(long_in, 'x', 300);
	memcpy(long_in + 290, "@example.o", 10);
	long_in[300] = '\0';
	got = cups_job_user_for_sender(long_in);
	is_int(strlen(got), 255, "long address capped at 255 bytes");
	ok(str_has_prefix(got, "unknown-sender-"), "cut before '@': prefixed (%.20s...)",
	    got);
	free(got);
	/* '@' early: kept, capped. */
	long_in[1] = '@';
	got = cups_job_user_for_sender(long_in);
	is_int(strlen(got), 255, "long address with early '@' capped");
	ok(got[1] == '@' && got[0] == 'x', "keeps the address itself");
	free(got);
	free(long_in);
}

/* ---------------------------------------------------------------- with cupsd */

static const char *queue, *spool, *argv0;
static const char *server;	/* M2C_CUPS_SERVER */
static char tmpdir[] = "/tmp/m2c-cjt.XXXXXX";

static char *
write_file(const char *name, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write_all(fd, data, len) != 0)
		printf("# cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
	return path;
}

static int
read_file(const char *path, struct buf *b)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(b, chunk, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

/* One attribute of job id on queue, as a string (allocated), via Get-Jobs. */
static char *
job_attr(const char *q, int id, const char *attr)
{
	char uri[HTTP_MAX_URI], resource[256], value[1024];
	ipp_t *req, *resp;
	ipp_attribute_t *a;
	int cur = 0;
	char *found = NULL;
	const char *name;

	httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof(uri), "ipp", NULL,
	    "localhost", ippPort(), "/printers/%s", q);
	snprintf(resource, sizeof(resource), "/printers/%s", q);
	req = ippNewRequest(IPP_OP_GET_JOBS);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", NULL, "all");
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
	    NULL, "all");
	resp = cupsDoRequest(CUPS_HTTP_DEFAULT, req, resource);
	/* cupsd puts job-id last in a group: remember values, match at the end. */
	for (a = ippFirstAttribute(resp); a; a = ippNextAttribute(resp)) {
		name = ippGetName(a);
		if (name == NULL) {
			if (cur == id)
				break;
			free(found);
			found = NULL;
			cur = 0;
			continue;
		}
		if (strcmp(name, "job-id") == 0)
			cur = ippGetInteger(a, 0);
		if (strcmp(name, attr) == 0 && found == NULL) {
			ippAttributeString(a, value, sizeof(value));
			found = xstrdup(value);
		}
	}
	if (cur != id) {
		free(found);
		found = NULL;
	}
	ippDelete(resp);
	return found;
}

/* Wait (up to 20 s) until job id reaches a final state; returns the state. */
static int
wait_job(const char *q, int id)
{
	char *st;
	int i, state = 0;

	for (i = 0; i < 200; i++) {
		st = job_attr(q, id, "job-state");
		state = st ? ippEnumValue("job-state", st) : 0;
		free(st);
		if (state >= IPP_JSTATE_CANCELED)
			break;
		usleep(100 * 1000);
	}
	return state;
}

/*
 * The file ippeveprinter kept for a document titled title: it names it
 * <id>-<title, lower-case, runs of other characters as one '_'>.<ext>.
 */
static char *
spooled_file(const char *title)
{
	char *want = xmalloc(strlen(title) + 3), *p = want, *found = NULL;
	struct dirent *d;
	DIR *dir;
	size_t n;

	*p++ = '-';
	for (; *title; title++) {
		if ((*title >= 'a' && *title <= 'z') || (*title >= '0' && *title <= '9'))
			*p++ = *title;
		else if (*title >= 'A' && *title <= 'Z')
			*p++ = (char)(*title - 'A' + 'a');
		else if (p[-1] != '_')
			*p++ = '_';
	}
	if (p[-1] == '_')
		p--;
	*p++ = '.';
	*p = '\0';
	if ((dir = opendir(spool)) == NULL)
		goto out;
	while ((d = readdir(dir)) != NULL) {
		n = strlen(d->d_name);
		if (strstr(d->d_name, want) != NULL &&
		    !(n > 4 && strcmp(d->d_name + n - 4, ".prn") == 0)) {
			free(found);
			found = xasprintf("%s/%s", spool, d->d_name);
		}
	}
	closedir(dir);
out:
	free(want);
	return found;
}

static void
test_check_queue(void)
{
	static const struct {
		const char *q;
		int want;
		const char *msg;
	} cases[] = {
		{ NULL, 0, NULL },	/* M2C_CUPS_QUEUE */
		{ "m2c-no-such-queue", M2C_E_NOTFOUND, "lpstat -p" },
		{ "QREJ", M2C_E_TEMP, "cupsaccept QREJ" },
		{ "QSTOP", 0, NULL },	/* stopped: a warning, below */
		{ "a/b", M2C_E_CONFIG, "not a CUPS queue name" },
		{ "", M2C_E_CONFIG, "set printer" },
	};
	char *err, *warn = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *q = cases[i].q ? cases[i].q : queue;

		err = NULL;
		is_int(cups_job_check_queue(q, NULL, &err), cases[i].want, "check_queue(%s)", q);
		if (cases[i].msg)
			has_str(err, cases[i].msg, "check_queue(%s) says what to do", q);
		else
			ok(err == NULL, "no error for %s", q);
		free(err);
	}
	err = NULL;
	is_int(cups_job_check_queue("QSTOP", &warn, &err), 0, "a stopped queue still takes jobs");
	has_str(warn, "cupsenable QSTOP", "... with a warning that says what to do");
	ok(err == NULL, "... and no error");
	free(warn);
	warn = NULL;
	cups_job_check_queue(queue, &warn, &err);
	ok(warn == NULL, "no warning for a running queue");
}

struct sub {
	const char *title;
	const char *format;
	const char *nonce;
	char *path;
	struct buf data;
	int id;
};

static void
make_documents(struct sub *pdf, struct sub *png)
{
	/* A 1x1 PNG. */
	static const unsigned char png1[] = {
		0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
		0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
		0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
		0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00,
		0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
	};
	int i;

	/* A PDF of about 200 KiB: several 64 KiB chunks, and not a multiple. */
	buf_appendf(&pdf->data, "%%PDF-1.4\n");
	for (i = 0; i < 3000; i++)
		buf_appendf(&pdf->data, "%% padding line %06d of a test document\n", i);
	buf_appendf(&pdf->data, "%%%%EOF\n");
	pdf->path = write_file("doc.pdf", pdf->data.data, pdf->data.len);
	buf_append(&png->data, png1, sizeof(png1));
	png->path = write_file("pic.png", png->data.data, png->data.len);
}

/*
 * A job with a nonce and no document, as an earlier version's Create-Job
 * left one when it stopped before Send-Document: not found, and cancelled.
 */
static void
test_half_job(const char *q, const char *sender)
{
	static const char nonce[] = "66666666666666666666666666666666";
	char uri[HTTP_MAX_URI], resource[256], *err = NULL, *s;
	ipp_attribute_t *a;
	ipp_t *req, *resp;
	int half = 0, id = 0;

	httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof(uri), "ipp", NULL,
	    "localhost", ippPort(), "/printers/%s", q);
	snprintf(resource, sizeof(resource), "/printers/%s", q);
	req = ippNewRequest(IPP_OP_CREATE_JOB);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
	    sender);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, "half.pdf");
	ippAddString(req, IPP_TAG_JOB, IPP_TAG_TEXT, "mail2cups-nonce", NULL, nonce);
	resp = cupsDoRequest(CUPS_HTTP_DEFAULT, req, resource);
	if ((a = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER)) != NULL)
		half = ippGetInteger(a, 0);
	ippDelete(resp);
	ok(half > 0, "a Create-Job without its document (job %d)", half);
	is_int(cups_job_find_by_nonce(NULL, q, nonce, &id, &err), M2C_E_NOTFOUND,
	    "the half job does not count as submitted");
	ok(id == 0, "... no job id for it");
	free(err);
	s = job_attr(q, half, "job-state");
	is_str(s, "canceled", "the half job was cancelled");
	free(s);
}

/*
 * A Print-Job cut off half-way through its document (the process dies at
 * the test hook "mid-upload", as a crash would): cupsd makes no job of
 * it, the nonce finds nothing, and submitting again makes one job.
 */
static void
test_cut_off(const char *q, const char *sender, const char *path)
{
	static const char nonce[] = "77777777777777777777777777777777";
	struct cups_job_req r = { q, "cut.pdf", sender, nonce, path, "application/pdf" };
	char *err = NULL, *s;
	int status = 0, before = 0, id = 0;
	pid_t pid;

	r.nonce = NULL;
	is_int(cups_job_submit(NULL, &r, &before, &err), 0, "a job before the cut-off one");
	r.nonce = nonce;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		setenv("MAIL2CUPS_TEST_STOP_AT", "mid-upload", 1);
		execl(argv0, argv0, "--submit", q, server, nonce, path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = -1;
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 98,
	    "the upload stopped half-way (wait status %#x)", status);
	is_int(cups_job_find_by_nonce(NULL, q, nonce, &id, &err), M2C_E_NOTFOUND,
	    "the cut-off upload left no job with its nonce");
	free(err);
	err = NULL;
	is_int(cups_job_submit(NULL, &r, &id, &err), 0, "submitting it again");
	is_int(id, before + 1, "... is the next job: cupsd made none of the cut-off one");
	is_int(cups_job_find_by_nonce(NULL, q, nonce, &id, &err), 0, "the nonce finds it now");
	is_int(wait_job(q, id), IPP_JSTATE_COMPLETED, "and it prints");
	/* By now cupsd has long seen the cut-off connection close. */
	s = job_attr(q, id + 1, "job-state");
	ok(s == NULL, "no job came of the cut-off upload later (%s)", s ? s : "none");
	free(s);
	free(err);
}

static void
test_submit(void)
{
	struct sub docs[] = {
		{ "Report 2026 (final).pdf", "application/pdf",
		    "0123456789abcdef0123456789abcdef", NULL, { 0 }, 0 },
		{ "holiday.png", "image/png", "fedcba9876543210fedcba9876543210",
		    NULL, { 0 }, 0 },
	};
	const char *sender = "Alice.Smith+print@example.org";
	struct cups_job_req r;
	struct buf got = { 0 };
	char *err = NULL, *s, *file, *restart, *empty;
	long long t0, ms;
	int id, st;
	size_t i;

	make_documents(&docs[0], &docs[1]);
	for (i = 0; i < ARRAY_SIZE(docs); i++) {
		r = (struct cups_job_req){ queue, docs[i].title, sender, docs[i].nonce,
		    docs[i].path, docs[i].format };
		t0 = monotonic_ms();
		is_int(cups_job_submit(NULL, &r, &docs[i].id, &err), 0, "submit %s",
		    docs[i].title);
		ms = monotonic_ms() - t0;
		printf("# submitting %s (%zu bytes) took %lld ms\n", docs[i].title,
		    docs[i].data.len, ms);
		if (err)
			printf("# %s\n", err);
		ok(docs[i].id > 0, "job id %d", docs[i].id);
	}
	ok(docs[1].id > docs[0].id, "second job has a later id");

	for (i = 0; i < ARRAY_SIZE(docs); i++) {
		s = job_attr(queue, docs[i].id, "job-name");
		is_str(s, docs[i].title, "job-name is exactly the file name");
		free(s);
		s = job_attr(queue, docs[i].id, "job-originating-user-name");
		is_str(s, sender, "job user is the sender");
		free(s);
		st = wait_job(queue, docs[i].id);
		is_int(st, IPP_JSTATE_COMPLETED, "job %d completed", docs[i].id);
		file = spooled_file(docs[i].title);
		ok(file != NULL, "ippeveprinter kept %s", docs[i].title);
		buf_reset(&got);
		if (file == NULL || read_file(file, &got) != 0)
			buf_reset(&got);
		ok(file && got.len == docs[i].data.len &&
		    memcmp(got.data, docs[i].data.data, got.len) == 0,
		    "printer received the exact bytes of %s (%zu/%zu)", docs[i].title,
		    got.len, docs[i].data.len);
		free(file);
	}

	for (i = 0; i < ARRAY_SIZE(docs); i++) {
		is_int(cups_job_find_by_nonce(NULL, queue, docs[i].nonce, &id, &err), 0,
		    "find_by_nonce finds %s", docs[i].title);
		is_int(id, docs[i].id, "with its job id");
	}
	is_int(cups_job_find_by_nonce(NULL, queue, "00000000000000000000000000000000", &id,
	    &err), M2C_E_NOTFOUND, "a made-up nonce is not found");
	has_str(err, "no job with nonce", "and says so");
	ok(id == 0, "no job id for a made-up nonce");
	free(err);
	err = NULL;

	/* Job history survives a cupsd restart (PreserveJobHistory). */
	restart = getenv("M2C_CUPS_RESTART");
	ok(restart != NULL && system(restart) == 0, "cupsd restarted");
	is_int(cups_job_find_by_nonce(NULL, queue, docs[0].nonce, &id, &err), 0,
	    "find_by_nonce after a cupsd restart");
	is_int(id, docs[0].id, "same job id after restart");
	if (err)
		printf("# %s\n", err);
	free(err);
	err = NULL;

	/* A format CUPS does not know: the Print-Job is refused, no job made. */
	r = (struct cups_job_req){ queue, "odd.bin", sender,
	    "11111111111111111111111111111111", docs[1].path,
	    "application/x-m2c-no-such-format" };
	is_int(cups_job_submit(NULL, &r, &id, &err), M2C_E_REFUSED,
	    "unknown document format is refused");
	has_str(err, "cannot print this type", "error says why");
	ok(id == 0, "no job id on failure");
	free(err);
	err = NULL;
	is_int(cups_job_find_by_nonce(NULL, queue, r.nonce, &id, &err), M2C_E_NOTFOUND,
	    "the refused job is not found");
	free(err);
	err = NULL;
	s = job_attr(queue, docs[1].id + 1, "job-state");
	ok(s == NULL, "cupsd made no job of it (%s)", s ? s : "none");
	free(s);
	test_half_job(queue, sender);
	test_cut_off(queue, sender, docs[0].path);

	/* A file name that is no valid job name, and one that is too long. */
	{
		static const struct {
			const char *title;
			const char *want;
		} names[] = {
			{ "\x01" "bad\xff name\x7f.pdf", "_bad_ name_.pdf" },
			{ "", "untitled" },
			{ "caf\xc3\xa9 \xe2\x82\xac.pdf", "caf\xc3\xa9 \xe2\x82\xac.pdf" },
			{ "\xc0\xaf\xed\xa0\x80.pdf", "_____.pdf" },	/* overlong, surrogate */
		};
		char longname[301], want[255];
		size_t j;

		for (j = 0; j < ARRAY_SIZE(names); j++) {
			r = (struct cups_job_req){ queue, names[j].title, sender, NULL,
			    docs[1].path, "image/png" };
			is_int(cups_job_submit(NULL, &r, &id, &err), 0, "submit with name %zu", j);
			s = job_attr(queue, id, "job-name");
			is_str(s, names[j].want, "job name %zu made valid", j);
			free(s);
		}
		/* 150 two-byte characters: cut to 127 of them (254 bytes). */
		for (j = 0; j < 150; j++)
			memcpy(longname + 2 * j, "\xc3\xa9", 2);
		longname[300] = '\0';
		memcpy(want, longname, 254);
		want[254] = '\0';
		r.title = longname;
		is_int(cups_job_submit(NULL, &r, &id, &err), 0, "submit with a long name");
		s = job_attr(queue, id, "job-name");
		is_str(s, want, "long name cut to 254 bytes, between characters");
		free(s);
		free(err);
		err = NULL;
	}

	/* Refused or missing queues, missing file. */
	r = (struct cups_job_req){ "QREJ", "x.png", sender, NULL, docs[1].path,
	    "image/png" };
	is_int(cups_job_submit(NULL, &r, &id, &err), M2C_E_TEMP, "submit to a rejecting queue");
	has_str(err, "cupsaccept QREJ", "says cupsaccept");
	free(err);
	err = NULL;
	r.printer = "m2c-no-such-queue";
	is_int(cups_job_submit(NULL, &r, &id, &err), M2C_E_NOTFOUND, "submit to a missing queue");
	has_str(err, "no queue named m2c-no-such-queue", "names the queue");
	free(err);
	err = NULL;
	r.printer = queue;
	empty = write_file("empty.pdf", "", 0);
	r.path = empty;
	is_int(cups_job_submit(NULL, &r, &id, &err), M2C_E_DATA, "submit an empty file");
	has_str(err, "is empty", "says why");
	free(err);
	err = NULL;
	unlink(empty);
	free(empty);
	r.path = "/nonexistent/m2c.pdf";
	is_int(cups_job_submit(NULL, &r, &id, &err), M2C_E_SYS, "submit a missing file");
	has_str(err, "/nonexistent/m2c.pdf", "names the file");
	free(err);
	err = NULL;

	/* A session: one connection for many jobs, one Get-Jobs for many lookups,
	 * a new connection after cupsd went away. */
	{
		static const char *const nonces[] = {
			"22222222222222222222222222222222", "33333333333333333333333333333333",
			"44444444444444444444444444444444",
		};
		struct cups_session *cs = cups_session_new();
		int sid[3] = { 0 };

		for (i = 0; i < 2; i++) {
			r = (struct cups_job_req){ queue, "session.png", sender, nonces[i],
			    docs[1].path, "image/png" };
			is_int(cups_job_submit(cs, &r, &sid[i], &err), 0, "session: submit %zu", i);
		}
		ok(sid[0] > 0 && sid[1] > sid[0], "session: two jobs (%d, %d)", sid[0], sid[1]);
		for (i = 0; i < 2; i++) {
			is_int(cups_job_find_by_nonce(cs, queue, nonces[i], &id, &err), 0,
			    "session: find %zu", i);
			is_int(id, sid[i], "session: lookup %zu finds its job", i);
		}
		is_int(cups_job_find_by_nonce(cs, queue, docs[0].nonce, &id, &err), 0,
		    "session: an older job from the same Get-Jobs");
		is_int(id, docs[0].id, "session: with its id");
		ok(restart != NULL && system(restart) == 0, "cupsd restarted again");
		r = (struct cups_job_req){ queue, "session.png", sender, nonces[2], docs[1].path,
		    "image/png" };
		is_int(cups_job_submit(cs, &r, &sid[2], &err), 0,
		    "session: a submit after cupsd restarted connects again");
		if (err)
			printf("# %s\n", err);
		ok(sid[2] > sid[1], "session: a new job (%d)", sid[2]);
		is_int(cups_job_find_by_nonce(cs, queue, nonces[2], &id, &err), 0,
		    "session: a job submitted after the first lookup is found too");
		is_int(id, sid[2], "session: with its id");
		is_int(cups_job_find_by_nonce(cs, queue, "55555555555555555555555555555555", &id,
		    &err), M2C_E_NOTFOUND, "session: a made-up nonce is not found");
		cups_session_free(&cs);
		ok(cs == NULL, "session free sets NULL");
		cups_session_free(&cs);
		free(err);
		err = NULL;
	}

	for (i = 0; i < ARRAY_SIZE(docs); i++) {
		unlink(docs[i].path);
		free(docs[i].path);
		buf_free(&docs[i].data);
	}
	buf_free(&got);
}

/* ---------------------------------------------------------------- options */

static const char *cups_port;

/* A real one-page PDF. */
static const char one_page_pdf[] =
    "%PDF-1.4\n"
    "1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    "trailer<</Root 1 0 R>>\n%%EOF\n";

/*
 * What `ipptool -tv ipp://127.0.0.1:PORT/jobs/ID get-job-attributes.test`
 * says about job id: its output into *out (reset first); 0 when it passed.
 */
static int
ipptool_job(int id, struct buf *out)
{
	char chunk[4096], *cmd;
	size_t n;
	FILE *f;

	buf_reset(out);
	cmd = xasprintf("ipptool -tv ipp://127.0.0.1:%s/jobs/%d get-job-attributes.test "
	    "2>&1", cups_port, id);
	f = popen(cmd, "r");
	free(cmd);
	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	buf_appendc(out, '\0');
	out->len--;
	return pclose(f) == 0 ? 0 : -1;
}

/* The value of "    NAME (type) = VALUE" in ipptool's output, or NULL. */
static char *
ipptool_value(const struct buf *out, const char *name)
{
	const char *p, *eq, *end;
	size_t n = strlen(name);

	for (p = out->data; p != NULL && *p; p = end + (*end != '\0')) {
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		while (*p == ' ')
			p++;
		if (strncmp(p, name, n) != 0 || strncmp(p + n, " (", 2) != 0)
			continue;
		if ((eq = strstr(p, ") = ")) == NULL || eq > end)
			continue;
		return xasprintf("%.*s", (int)(end - eq - 4), eq + 4);
	}
	return NULL;
}

/* "PROG -h SERVER ARGSID" against the private cupsd; 0 when it succeeded. */
static int
run_cups(const char *prog, const char *args, int id)
{
	char *cmd = xasprintf("%s -h '%s' %s%d", prog, server, args, id);
	int rc = system(cmd);

	free(cmd);
	return rc;
}

/* Poll cups_job_get_state (up to 20 s) until it is want; the last state. */
static enum cups_job_state
wait_state(int id, enum cups_job_state want)
{
	enum cups_job_state st = 0;
	char *err = NULL;
	int i;

	for (i = 0; i < 200; i++) {
		if (cups_job_get_state(id, &st, NULL, &err) != 0 || st == want)
			break;
		usleep(100 * 1000);
	}
	if (err)
		printf("# %s\n", err);
	free(err);
	return st;
}

struct want_attr {
	const char *name;
	const char *value;	/* NULL: absent */
};

/* Every attribute of want[] as ipptool shows it for job id. */
static void
check_attrs(int id, const char *what, const struct want_attr *want, size_t n)
{
	struct buf out = { 0 };
	char *v;
	size_t i;

	ok(ipptool_job(id, &out) == 0, "%s: ipptool get-job-attributes for job %d", what, id);
	for (i = 0; i < n; i++) {
		v = ipptool_value(&out, want[i].name);
		if (want[i].value == NULL)
			ok(v == NULL, "%s: no %s (%s)", what, want[i].name, v ? v : "absent");
		else
			is_str(v, want[i].value, "%s: %s", what, want[i].name);
		free(v);
	}
	buf_free(&out);
}

static int
submit_opts(const char *title, const char *path, const struct print_opts *o)
{
	struct cups_job_req r = { queue, title, "bob@example.org", NULL, path,
	    "application/pdf", o };
	char *err = NULL;
	int id = 0;

	is_int(cups_job_submit(NULL, &r, &id, &err), 0, "submit %s", title);
	if (err)
		printf("# %s\n", err);
	free(err);
	return id;
}

static void
test_options(void)
{
	static const struct want_attr all[] = {
		{ "copies", "2" },
		{ "sides", "two-sided-long-edge" },
		{ "print-color-mode", "monochrome" },
		{ "media", "iso_a4_210x297mm" },
		{ "page-ranges", "1-1" },
		{ "orientation-requested", "landscape" },
		{ "print-scaling", "fit" },
		{ "fit-to-page", "true" },
		{ "job-hold-until", "no-hold" },
	};
	static const struct want_attr ranges[] = {
		{ "page-ranges", "1-2,4-5,7-7" },
		{ "orientation-requested", "portrait" },
		{ "sides", "two-sided-short-edge" },
		{ "print-color-mode", "color" },
		{ "copies", NULL },
	};
	static const struct want_attr held[] = {
		{ "job-state", "pending-held" },
		{ "job-hold-until", "indefinite" },
		{ "copies", "3" },
		{ "sides", NULL },
		{ "print-scaling", NULL },
	};
	static const struct want_attr none[] = {
		{ "copies", NULL },
		{ "sides", NULL },
		{ "print-color-mode", NULL },
		{ "media", NULL },
		{ "page-ranges", NULL },
		{ "orientation-requested", NULL },
		{ "print-scaling", NULL },
		{ "fit-to-page", NULL },
		{ "job-hold-until", "no-hold" },
	};
	struct print_opts o = {
		.set = POPT_COPIES | POPT_SIDES | POPT_COLOR | POPT_MEDIA | POPT_PAGES |
		    POPT_ORIENTATION | POPT_FIT | POPT_BODY,
		.copies = 2, .sides = "two-sided-long-edge", .color = "monochrome",
		.media = "iso_a4_210x297mm", .ranges = { { 1, 1 } }, .nranges = 1,
		.orientation = 4, .fit = 1, .body = 1,
	};
	struct print_opts o2 = {
		.set = POPT_PAGES | POPT_ORIENTATION | POPT_SIDES | POPT_COLOR,
		.copies = 5, .sides = "two-sided-short-edge", .color = "color",
		.ranges = { { 1, 2 }, { 4, 5 }, { 7, 7 } }, .nranges = 3, .orientation = 3,
	};
	struct print_opts oh = { .set = POPT_HOLD | POPT_COPIES, .copies = 3, .hold = 1,
	    .sides = "two-sided-long-edge", .fit = 1 };
	/* every field filled, none in set: nothing may be sent */
	struct print_opts unset = o;
	const struct print_opts *nothing[] = { NULL, &unset };
	enum cups_job_state st;
	char *pdf, *err = NULL, *reason = NULL, *title;
	int id, id2, held_id, cancel_id;
	size_t i;

	unset.set = 0;
	unset.hold = 1;
	pdf = write_file("opts.pdf", one_page_pdf, sizeof(one_page_pdf) - 1);

	id = submit_opts("all-options.pdf", pdf, &o);
	check_attrs(id, "all options", all, ARRAY_SIZE(all));
	is_int(wait_state(id, CUPS_JOB_COMPLETED), CUPS_JOB_COMPLETED,
	    "the printer printed it with those options (job %d completed)", id);
	id2 = submit_opts("three-ranges.pdf", pdf, &o2);
	check_attrs(id2, "three ranges", ranges, ARRAY_SIZE(ranges));
	is_int(wait_state(id2, CUPS_JOB_COMPLETED), CUPS_JOB_COMPLETED,
	    "job %d completed", id2);

	for (i = 0; i < ARRAY_SIZE(nothing); i++) {
		title = xasprintf("no-options-%zu.pdf", i);
		id = submit_opts(title, pdf, nothing[i]);
		check_attrs(id, nothing[i] ? "set = 0" : "opts NULL", none, ARRAY_SIZE(none));
		is_int(wait_state(id, CUPS_JOB_COMPLETED), CUPS_JOB_COMPLETED,
		    "job %d completed", id);
		free(title);
	}

	/* Held until released. */
	held_id = submit_opts("held.pdf", pdf, &oh);
	check_attrs(held_id, "held", held, ARRAY_SIZE(held));
	is_int(cups_job_get_state(held_id, &st, &reason, &err), 0, "get_state of a held job");
	is_int(st, CUPS_JOB_HELD, "held job is in state 4");
	has_str(reason, "job-hold-until-specified", "... because of job-hold-until");
	free(reason);
	reason = NULL;
	/* A job submitted after it prints: the held one was passed over. */
	id = submit_opts("after-held.pdf", pdf, NULL);
	is_int(wait_state(id, CUPS_JOB_COMPLETED), CUPS_JOB_COMPLETED,
	    "a later job %d completed", id);
	is_int(cups_job_get_state(held_id, &st, NULL, &err), 0, "get_state again");
	is_int(st, CUPS_JOB_HELD, "still held after a later job completed");
	is_int(run_cups("lp", "-H resume -i ", held_id), 0, "lp -H resume -i %d", held_id);
	is_int(wait_state(held_id, CUPS_JOB_COMPLETED), CUPS_JOB_COMPLETED,
	    "released job %d completed", held_id);

	/* Cancelled while held. */
	cancel_id = submit_opts("cancelled.pdf", pdf, &oh);
	is_int(run_cups("cancel", "", cancel_id), 0, "cancel %d", cancel_id);
	is_int(wait_state(cancel_id, CUPS_JOB_CANCELED), CUPS_JOB_CANCELED, "cancelled");
	is_int(cups_job_get_state(cancel_id, &st, &reason, &err), 0, "get_state of a cancelled job");
	is_int(st, CUPS_JOB_CANCELED, "cancelled job is in state 7");
	/* CUPS 2.4.2 says "processing-to-stop-point" here, not who cancelled */
	ok(reason != NULL && *reason != '\0', "... with a reason (%s)", reason ? reason : "none");
	free(reason);
	reason = NULL;

	is_int(cups_job_get_state(held_id, &st, NULL, &err), 0, "get_state of a completed job");
	is_int(st, CUPS_JOB_COMPLETED, "completed job is in state 9");
	is_int(cups_job_get_state(987654, &st, &reason, &err), M2C_E_NOTFOUND,
	    "get_state of an unknown job");
	has_str(err, "no longer knows job 987654", "... says so");
	ok(st == 0 && reason == NULL, "... with no state and no reason");
	free(err);
	unlink(pdf);
	free(pdf);
}

static void
test_unreachable(const char *good_server)
{
	static const char *const servers[] = {
		"/tmp/m2c-no-such-dir/cups.sock",
		"127.0.0.1:1",
	};
	struct cups_job_req r = { "Q", "x.pdf", "a@b", NULL, "/dev/null",
	    "application/pdf" };
	char *err;
	long long t0, ms;
	int id;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(servers); i++) {
		err = NULL;
		cups_job_set_server(servers[i]);
		t0 = monotonic_ms();
		is_int(cups_job_submit(NULL, &r, &id, &err), M2C_E_UNAVAIL,
		    "submit to %s is unavailable", servers[i]);
		ms = monotonic_ms() - t0;
		ok(ms < 3000, "and fails quickly (%lld ms)", ms);
		has_str(err, "cannot reach CUPS at", "says what failed");
		has_str(err, servers[i], "names the server");
		has_str(err, "is cupsd running", "says what to check");
		free(err);
		err = NULL;
		is_int(cups_job_check_queue("Q", NULL, &err), M2C_E_UNAVAIL,
		    "check_queue at %s is unavailable", servers[i]);
		free(err);
	}
	cups_job_set_server(good_server);
}

/* #10: a CUPS on another machine gets documents and user names over TLS only. */
static void
test_remote_encryption(void)
{
	static const struct {
		const char *server;
		http_encryption_t want;
	} t[] = {
		{ "printhost.example.org:631", HTTP_ENCRYPTION_REQUIRED },
		{ "192.0.2.10", HTTP_ENCRYPTION_REQUIRED },
		{ "/run/cups/cups.sock", HTTP_ENCRYPTION_IF_REQUESTED },
		{ "localhost:631", HTTP_ENCRYPTION_IF_REQUESTED },
		{ "127.0.0.1:631", HTTP_ENCRYPTION_IF_REQUESTED },
		{ "[::1]:631", HTTP_ENCRYPTION_IF_REQUESTED },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		cups_job_set_server(t[i].server);
		is_int(cupsEncryption(), t[i].want, "cups_server %s: %s", t[i].server,
		    t[i].want == HTTP_ENCRYPTION_REQUIRED ? "TLS required" :
		    "this machine: no TLS needed");
	}
	cups_job_set_server(NULL);
}

int
main(int argc, char **argv)
{
	/* test_cut_off's child: the hook is read once, at its first use. */
	if (argc == 6 && strcmp(argv[1], "--submit") == 0) {
		struct cups_job_req r = { argv[2], "cut.pdf", "cut@example.org", argv[4],
		    argv[5], "application/pdf" };
		char *err = NULL;
		int id = 0;

		cups_job_set_server(argv[3]);
		return cups_job_submit(NULL, &r, &id, &err) == 0 ? 0 : 1;
	}
	argv0 = argv[0];
	test_user_for_sender();
	test_remote_encryption();
	server = getenv("M2C_CUPS_SERVER");
	queue = getenv("M2C_CUPS_QUEUE");
	spool = getenv("M2C_CUPS_SPOOL");
	cups_port = getenv("M2C_CUPS_PORT");
	if (server == NULL || queue == NULL || spool == NULL || cups_port == NULL) {
		tap_skip("no private cupsd (run test-cupsjob.sh)");
		return tap_done();
	}
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 99;
	}
	cups_job_set_server(server);
	test_check_queue();
	test_submit();
	test_options();
	test_unreachable(server);
	rmdir(tmpdir);
	return tap_done();
}
