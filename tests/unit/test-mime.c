/*
 * test-mime.c - mime_extract over the messages in tests/data/mime (made by
 * tests/data/mime/gen-mime-data.py): structure, labels, types, reasons,
 * limits, and that scratch files are 0600, stay inside the scratch folder
 * and are all gone after mime_message_free.
 */
#include "m2c-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "mime.h"
#include "tap.h"
#include "util.h"

#define MAX_ATT 6

struct att_want {
	const char *part;
	const char *filename;
	const char *format;	/* NULL: not printable */
	const char *reason;	/* substring of the reason when not printable */
};

struct mime_case {
	const char *file;
	struct mime_limits lim;
	int rc;
	size_t natt;
	size_t nprintable;
	const char *from_addr;
	const char *subject;
	const char *problem;	/* substring, when a limit stops the walk */
	const char *same_as;	/* first attachment equals this data file */
	const char *content;	/* or this text */
	struct att_want att[MAX_ATT];
	const char *from_name;	/* checked when not NULL */
	const char *message_id;	/* checked when not NULL */
};

#define PDF "application/pdf"
#define ALICE "Alice@example.com"
/* A 300-byte name cut to the 66 whole euro signs (198 bytes) that fit in 200. */
#define EURO6 "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
#define EURO66 EURO6 EURO6 EURO6 EURO6 EURO6 EURO6 EURO6 EURO6 EURO6 EURO6 EURO6

static const struct mime_case cases[] = {
	{ "simple-pdf.eml", { 0 }, 0, 1, 1, ALICE, "Monthly report", NULL, "tiny.pdf", NULL,
	  { { "2", "report.pdf", PDF, NULL } }, "Alice Example", "abc@example.com" },
	{ "pdf-png.eml", { 0 }, 0, 2, 2, ALICE, "Test", NULL, "tiny.pdf", NULL,
	  { { "2", "a.pdf", PDF, NULL }, { "3", "b.png", "image/png", NULL } } },
	{ "nested.eml", { 0 }, 0, 2, 2, ALICE, "Test", NULL, "tiny.pdf", NULL,
	  { { "1.1.2.2", "inner.pdf", PDF, NULL }, { "2", "photo.gif", "image/gif", NULL } } },
	{ "rfc2231.eml", { 0 }, 0, 1, 1, ALICE, "Test", NULL, NULL, NULL,
	  { { "2", "Pr\xc3\xbc" "fung \xe2\x82\xac.pdf", PDF, NULL } } },
	{ "rfc2047.eml", { 0 }, 0, 1, 1, ALICE, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln", NULL,
	  NULL, NULL, { { "2", "Gr\xc3\xbc\xc3\x9f" "e.pdf", PDF, NULL } } },
	{ "qp-text.eml", { 0 }, 0, 1, 1, ALICE, "Test", NULL, NULL,
	  "caf\xc3\xa9 au lait, a soft break, = sign\n",
	  { { "2", "notes.txt", "text/plain", NULL } } },
	{ "related-logo.eml", { 0 }, 0, 2, 2, ALICE, "Test", NULL, NULL, NULL,
	  { { "2", "photo.jpg", "image/jpeg", NULL }, { "3.3", "scan.gif", "image/gif", NULL } } },
	{ "rfc822.eml", { 0 }, 0, 2, 2, ALICE, "Test", NULL, "tiny.pdf", NULL,
	  { { "2.2", "inner.pdf", PDF, NULL }, { "3.1", "bare.pdf", PDF, NULL } } },
	{ "octet-pdf.eml", { 0 }, 0, 1, 1, ALICE, "Test", NULL, "tiny.pdf", NULL,
	  { { "2", "scan.bin", PDF, NULL } } },
	{ "elf-as-pdf.eml", { 0 }, 0, 1, 0, ALICE, "Test", NULL, NULL, NULL,
	  { { "2", "report.pdf", NULL, "report.pdf: refused: it claims to be a PDF but is "
	      "really an executable (application/x-executable)" } } },
	{ "office.eml", { 0 }, 0, 4, 0, ALICE, "Test", NULL, NULL, NULL,
	  { { "2", "report.docx", NULL, "report.docx: Word documents are not printed; send a PDF" },
	    { "3", "x.zip", NULL, "x.zip: ZIP archives (application/zip) are not printed; "
	      "send a PDF, an image or plain text" },
	    { "4", "page.html", NULL, "page.html: HTML attachments are not printed" },
	    { "5", "empty.pdf", NULL, "empty.pdf: empty" } } },
	{ "hostile.eml", { 0 }, 0, 6, 6, ALICE, "bad subject", NULL, "tiny.pdf", NULL,
	  { { "2", "x.pdf", PDF, NULL }, { "3", "evil.pdf", PDF, NULL },
	    { "4", "badnamefdp.pdf", PDF, NULL }, { "5", "attachment-4.pdf", PDF, NULL },
	    { "6", "attachment-5.pdf", PDF, NULL }, { "7", EURO66, PDF, NULL } } },
	{ "big.eml", { .max_attachment_size = 1000 }, M2C_E_LIMIT, 1, 0, ALICE, "Test",
	  "big.pdf (part 2) is larger than the limit of 1000 bytes", NULL, NULL,
	  { { "2", "big.pdf", NULL, "big.pdf: larger than the limit of 1000 bytes" } } },
	{ "big.eml", { .max_attachment_size = 100000 }, 0, 1, 1, ALICE, "Test", NULL, NULL, NULL,
	  { { "2", "big.pdf", PDF, NULL } } },
	{ "deep.eml", { .max_depth = 5 }, M2C_E_LIMIT, 0, 0, ALICE, "Test",
	  "more than 5 levels deep", NULL, NULL, { { NULL } } },
	{ "deep.eml", { .max_depth = 20 }, 0, 1, 1, ALICE, "Test", NULL, "tiny.pdf", NULL,
	  { { "1.1.1.1.1.1.1.1.1.1.1.1", "deep.pdf", PDF, NULL } } },
	{ "many.eml", { .max_parts = 10 }, M2C_E_LIMIT, 0, 0, ALICE, "Test",
	  "more than 10 MIME parts", NULL, NULL, { { NULL } } },
	{ "pdf-png.eml", { .max_attachments = 1 }, M2C_E_LIMIT, 2, 0, ALICE, "Test",
	  "more than 1 printable attachments", NULL, NULL,
	  { { "2", "a.pdf", NULL, "a.pdf: not printed: the message has more than 1" },
	    { "3", "b.png", NULL, "b.png: not printed" } } },
	{ "empty-parts.eml", { .max_parts = 10 }, M2C_E_LIMIT, 0, 0, ALICE, "Test",
	  "more than 1080 lines that could separate MIME parts", NULL, NULL, { { NULL } } },
	{ "many-headers.eml", { .max_parts = 10 }, M2C_E_LIMIT, 0, 0, ALICE, "Test",
	  "more than 1320 header lines or", NULL, NULL, { { NULL } } },
	{ "long-header.eml", { 0 }, M2C_E_LIMIT, 0, 0, ALICE, "Test",
	  "a header line longer than 65536 bytes", NULL, NULL, { { NULL } } },
	{ "big-headers.eml", { .max_parts = 10 }, M2C_E_LIMIT, 0, 0, ALICE, "Test",
	  "or 272384 bytes of headers", NULL, NULL, { { NULL } } },
	{ "big-headers.eml", { 0 }, 0, 1, 1, ALICE, "Test", NULL, "tiny.pdf", NULL,
	  { { "2", "a.pdf", PDF, NULL } } },
	{ "dash-text.eml", { .max_parts = 10 }, 0, 1, 1, ALICE, "Test", NULL, NULL, NULL,
	  { { "2", "table.txt", "text/plain", NULL } } },
	{ "no-from.eml", { 0 }, 0, 1, 1, NULL, "Test", NULL, "tiny.pdf", NULL,
	  { { "2", "a.pdf", PDF, NULL } } },
	{ "truncated.eml", { 0 }, M2C_E_DATA, 1, 0, ALICE, "Test",
	  "cut.pdf arrived damaged; send it again (its base64 encoding holds characters "
	  "that are not base64)", NULL, NULL, { { "2", "cut.pdf", NULL, "cut.pdf: arrived damaged" } } },
	{ "cut-quantum.eml", { 0 }, M2C_E_DATA, 1, 0, ALICE, "Test",
	  "report.pdf arrived damaged; send it again (its base64 encoding stops in the middle",
	  NULL, NULL, { { "2", "report.pdf", NULL, "report.pdf: arrived damaged" } } },
	{ "half-pdf.eml", { 0 }, M2C_E_DATA, 1, 0, ALICE, "Test",
	  "report.pdf arrived damaged; send it again (the PDF stops before its end",
	  NULL, NULL, { { "2", "report.pdf", NULL, "report.pdf: arrived damaged" } } },
	{ "garbage.eml", { .max_parts = 50, .max_depth = 10, .max_attachment_size = 1 << 20 },
	  M2C_E_DATA, 0, 0, NULL, NULL, NULL, NULL, NULL, { { NULL } } },
};

static char *
data_path(const char *name)
{
	const char *top = getenv("top_srcdir");

	return xasprintf("%s/tests/data/mime/%s", top ? top : ".", name);
}

/* Names in dir, except . and ..: count, and whether `only` is the only one. */
static int
count_entries(const char *dir, const char *only, int *only_ok)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (only_ok)
		*only_ok = 1;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		if (only_ok && (only == NULL || strcmp(de->d_name, only) != 0))
			*only_ok = 0;
	}
	closedir(d);
	return n;
}

static int
same_file_content(const char *path, const char *want, size_t wantlen)
{
	size_t len = 0;
	char *got = tap_read_file(path, &len);
	int same = got && len == wantlen && memcmp(got, want, len) == 0;

	free(got);
	return same;
}

static void
check_attachment(const struct mime_case *c, const struct mime_attachment *a,
    const struct att_want *w, const char *scratch)
{
	struct stat st;
	char *dir;

	is_str(a->part, w->part, "%s: part path %s", c->file, w->part);
	is_str(a->filename, w->filename, "%s: label of part %s", c->file, w->part);
	is_str(a->format, w->format, "%s: document-format of %s", c->file, w->filename);
	is_int(a->printable, w->format != NULL, "%s: %s printable", c->file, w->filename);
	if (!w->format) {
		has_str(a->reason, w->reason, "%s: reason for %s", c->file, w->filename);
		ok(a->path == NULL, "%s: no scratch file for skipped %s", c->file, w->filename);
		return;
	}
	ok(a->path != NULL && stat(a->path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0600 && st.st_size == a->size && a->size > 0,
	    "%s: %s is a 0600 file of %lld bytes", c->file, w->filename, (long long)a->size);
	dir = a->path ? xstrndup(a->path, (size_t)(strrchr(a->path, '/') - a->path)) : NULL;
	is_str(dir, scratch, "%s: %s is in the scratch folder", c->file, w->filename);
	free(dir);
}

static void
run_case(const struct mime_case *c, const char *top, const char *scratch)
{
	struct mime_message *m = NULL;
	char *path = data_path(c->file), *err = NULL;
	int fd = open(path, O_RDONLY), rc, only, i;

	ok(fd >= 0, "open %s", path);
	if (fd < 0)
		goto out;
	rc = mime_extract(fd, scratch, &c->lim, &m, &err);
	is_int(rc, c->rc, "%s: result (%s)", c->file, err ? err : "no message");
	if (c->rc == M2C_E_LIMIT)
		has_str(err, c->problem, "%s: error message names the limit", c->file);
	if (c->rc == M2C_E_DATA && c->problem != NULL)
		has_str(err, c->problem, "%s: error message says what arrived damaged", c->file);
	if (c->rc != 0 && c->rc != M2C_E_LIMIT && c->problem == NULL) {
		ok(m == NULL && err != NULL, "%s: no message, an explanation", c->file);
		is_int(count_entries(scratch, NULL, NULL), 0, "%s: scratch folder empty",
		    c->file);
		goto out;
	}
	ok(m != NULL, "%s: a message is returned", c->file);
	if (m == NULL)
		goto out;
	is_str(m->from_addr, c->from_addr, "%s: From address", c->file);
	if (c->from_name)
		is_str(m->from_name, c->from_name, "%s: From name", c->file);
	if (c->message_id)
		is_str(m->message_id, c->message_id, "%s: Message-ID", c->file);
	is_str(m->subject, c->subject, "%s: subject", c->file);
	if (c->problem)
		has_str(m->problem, c->problem, "%s: problem", c->file);
	else
		ok(m->problem == NULL, "%s: no problem", c->file);
	is_int(m->natt, c->natt, "%s: attachments", c->file);
	is_int(m->nprintable, c->nprintable, "%s: printable attachments", c->file);
	for (i = 0; i < MAX_ATT && c->att[i].part; i++)
		if ((size_t)i < m->natt)
			check_attachment(c, &m->att[i], &c->att[i], scratch);
	is_int(count_entries(scratch, NULL, NULL), (int)m->nprintable,
	    "%s: one scratch file per printable attachment", c->file);
	if ((c->same_as || c->content) && m->natt > 0 && m->att[0].path) {
		size_t len = 0;
		char *want = c->content ? xstrdup(c->content) : NULL;

		if (c->same_as) {
			char *p = data_path(c->same_as);
			want = tap_read_file(p, &len);
			free(p);
		} else {
			len = strlen(want);
		}
		ok(want && same_file_content(m->att[0].path, want, len),
		    "%s: %s decoded byte for byte", c->file, m->att[0].filename);
		free(want);
	}
	mime_message_free(&m);
	ok(m == NULL, "%s: free sets the pointer to NULL", c->file);
	is_int(count_entries(scratch, NULL, NULL), 0, "%s: scratch folder empty after free",
	    c->file);
	count_entries(top, "scratch", &only);
	ok(only, "%s: nothing written outside the scratch folder", c->file);
 out:
	if (fd >= 0)
		close(fd);
	free(err);
	free(path);
}

/* Local failures: no scratch folder; a non-seekable fd. */
static void
run_errors(const char *top, const char *scratch)
{
	struct mime_message *m = (struct mime_message *)&m;
	char *path = data_path("simple-pdf.eml"), *err = NULL, *missing;
	int fd = open(path, O_RDONLY), pfd[2], rc;

	missing = xasprintf("%s/missing", top);
	rc = mime_extract(fd, missing, NULL, &m, &err);
	is_int(rc, M2C_E_SYS, "missing scratch folder: local error");
	ok(m == NULL, "missing scratch folder: no message");
	has_str(err, "cannot create a scratch file", "missing scratch folder: says why");
	free(err);
	err = NULL;
	close(fd);
	if (pipe(pfd) == 0) {
		rc = mime_extract(pfd[0], scratch, NULL, &m, &err);
		is_int(rc, M2C_E_SYS, "pipe: refused as not seekable");
		has_str(err, "not a seekable file", "pipe: says why");
		close(pfd[0]);
		close(pfd[1]);
	}
	free(err);
	free(missing);
	free(path);
	mime_message_free(NULL);
}

/* ---------------------------------------------------------------- issue 5 */

/* Extract file with lim; NULL (and a failed test) when that fails. */
static struct mime_message *
extract(const char *file, const struct mime_limits *lim, const char *scratch)
{
	struct mime_message *m = NULL;
	char *path = data_path(file), *err = NULL;
	int fd = open(path, O_RDONLY), rc = -1;

	if (fd >= 0) {
		rc = mime_extract(fd, scratch, lim, &m, &err);
		close(fd);
	}
	is_int(rc, 0, "%s: extracted%s%s", file, err ? ": " : "", err ? err : "");
	free(err);
	free(path);
	return m;
}

/* A list joined with sep, for one comparison: allocated, "" when empty. */
static char *
join(char **v, size_t n, const char *sep)
{
	struct buf b = { 0 };
	size_t i;

	for (i = 0; i < n; i++)
		buf_appendf(&b, "%s%s", i ? sep : "", v[i]);
	return buf_steal(&b);
}

/* The trace headers as "A:value|R:value": allocated, "" when none. */
static char *
join_trace(const struct mime_message *m)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < m->ntrace; i++)
		buf_appendf(&b, "%s%s:%s", i ? "|" : "", m->trace[i].received ? "R" : "A",
		    m->trace[i].value);
	return buf_steal(&b);
}

struct header_case {
	const char *file;
	const char *recipients;		/* joined with "," */
	const char *auth_results;	/* trace headers, "A:" or "R:" (Received) and the
					 * value, joined with "|" */
	const char *ms_authas;
	const char *return_path;
	const char *references;
	int auto_submitted;
	int list_mail;
};

static const struct header_case header_cases[] = {
	{ "headers.eml",
	  "print+floor2@example.org,print@example.org,bob@example.net,carol@example.net",
	  "A:mx.example.org; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"
	  "|R:from a by b; Mon, 1 Jan 2024 00:00:00 +0000|A:forged.example; dmarc=pass",
	  "Internal", "", "<a@example.com> <b@example.com>", 1, 1 },
	{ "precedence.eml", "print@example.org", "", NULL, "Bounce@example.com", NULL, 0, 1 },
	{ "plain-headers.eml", "print@example.org", "", NULL, NULL, NULL, 0, 0 },
	{ "simple-pdf.eml", "print@example.org", "", NULL, NULL, NULL, 0, 0 },
};

static void
run_header_case(const struct header_case *c, const char *scratch)
{
	struct mime_message *m = extract(c->file, NULL, scratch);
	char *s;

	if (m == NULL)
		return;
	s = join(m->recipients, m->nrecipients, ",");
	is_str(s, c->recipients, "%s: recipients", c->file);
	free(s);
	s = join_trace(m);
	is_str(s, c->auth_results, "%s: Authentication-Results and Received, topmost first",
	    c->file);
	free(s);
	is_str(m->ms_authas, c->ms_authas, "%s: topmost AuthAs", c->file);
	is_str(m->return_path, c->return_path, "%s: Return-Path", c->file);
	is_str(m->references, c->references, "%s: References", c->file);
	is_int(m->auto_submitted, c->auto_submitted, "%s: Auto-Submitted", c->file);
	is_int(m->list_mail, c->list_mail, "%s: list mail", c->file);
	ok(m->body_path == NULL && m->body_problem == NULL, "%s: no body unless wanted",
	    c->file);
	mime_message_free(&m);
}

/* Many trace headers: the lists are bounded, the first ones kept. */
static void
run_header_bounds(const char *scratch)
{
	struct mime_message *m = extract("many-trace.eml", NULL, scratch);

	if (m == NULL)
		return;
	is_int(m->ntrace, MIME_TRACE_MAX, "many-trace.eml: the first %d trace headers kept",
	    MIME_TRACE_MAX);
	ok(m->ntrace > 2 && strlen(m->trace[0].value) == 8192 &&
	    str_has_prefix(m->trace[0].value, "x; aaa"), "many-trace.eml: a value is cut at 8 KiB");
	is_str(m->ntrace > 2 ? m->trace[1].value : NULL, "mx0.example.org; spf=pass",
	    "many-trace.eml: in order, topmost first");
	ok(m->ntrace > 2 && !m->trace[1].received && m->trace[2].received &&
	    strcmp(m->trace[2].value, "by r0.example.org; Mon") == 0,
	    "many-trace.eml: Received headers in their place");
	is_int(m->nrecipients, 100, "many-trace.eml: 100 recipients kept");
	is_str(m->nrecipients ? m->recipients[0] : NULL, "user0@example.org",
	    "many-trace.eml: in header order");
	mime_message_free(&m);
}

/* Sender trust counts every From mailbox, in one header or in two. */
static void
run_from_count(const char *scratch)
{
	static const struct {
		const char *file;
		size_t nfrom;
		const char *list;
	} t[] = {
		{ "simple-pdf.eml", 1, NULL },
		{ "no-from.eml", 0, NULL },
		{ "two-from.eml", 2, "ann@example.com, bob@example.com" },
		{ "two-from-lines.eml", 2, "ann@example.com, bob@example.com" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct mime_message *m = extract(t[i].file, NULL, scratch);

		if (m == NULL)
			continue;
		is_int(m->nfrom, t[i].nfrom, "%s: %zu From address(es)", t[i].file, t[i].nfrom);
		is_str(m->from_list, t[i].list, "%s: the list of them", t[i].file);
		mime_message_free(&m);
	}
}

/* Conversion: by the sniffed type only. */
struct convert_case {
	const char *pattern;	/* NULL: no conversion configured */
	size_t nprintable;
	int convert[3];		/* letter.odt (octet-stream), fake.odt (ELF), second.odt */
};

static const struct convert_case convert_cases[] = {
	{ NULL, 0, { 0, 0, 0 } },
	{ "application/vnd.oasis.opendocument.*", 2, { 1, 0, 1 } },
	{ "APPLICATION/VND.OASIS.OPENDOCUMENT.TEXT", 2, { 1, 0, 1 } },
	{ "application/msword", 0, { 0, 0, 0 } },
};

static void
run_convert_case(const struct convert_case *c, const char *scratch)
{
	const char *types[1] = { c->pattern };
	struct mime_limits lim = { .convert_types = c->pattern ? types : NULL,
	    .nconvert_types = c->pattern ? 1 : 0 };
	const char *pat = c->pattern ? c->pattern : "none";
	struct mime_message *m = extract("odt.eml", &lim, scratch);
	char *want = NULL, *p;
	size_t i, len = 0;

	if (m == NULL)
		return;
	is_int(m->natt, 3, "odt.eml (%s): attachments", pat);
	is_int(m->nprintable, c->nprintable, "odt.eml (%s): printable", pat);
	for (i = 0; i < 3 && i < m->natt; i++) {
		struct mime_attachment *a = &m->att[i];

		is_int(a->convert, c->convert[i], "odt.eml (%s): %s convert", pat, a->filename);
		is_int(a->printable, c->convert[i], "odt.eml (%s): %s printable", pat, a->filename);
		ok(a->format == NULL, "odt.eml (%s): %s has no document-format", pat, a->filename);
		ok((a->path != NULL) == c->convert[i] && (a->reason == NULL) == c->convert[i],
		    "odt.eml (%s): %s scratch file and reason", pat, a->filename);
	}
	if (m->natt > 1)
		is_str(m->att[1].reason, "fake.odt: programs are never printed",
		    "odt.eml (%s): the fake is refused", pat);
	if (c->convert[0] && m->att[0].path) {
		p = data_path("tiny.odt");
		want = tap_read_file(p, &len);
		free(p);
		ok(want && same_file_content(m->att[0].path, want, len),
		    "odt.eml (%s): letter.odt decoded byte for byte", pat);
		free(want);
	}
	is_int(count_entries(scratch, NULL, NULL), (int)c->nprintable,
	    "odt.eml (%s): one scratch file per kept part", pat);
	mime_message_free(&m);
	is_int(count_entries(scratch, NULL, NULL), 0, "odt.eml (%s): none left after free", pat);
}

/* More printable parts than allowed, counting the ones to convert. */
static void
run_convert_limit(const char *scratch)
{
	const char *types[] = { "application/vnd.oasis.opendocument.text" };
	struct mime_limits lim = { .max_attachments = 1, .convert_types = types,
	    .nconvert_types = 1 };
	struct mime_message *m = NULL;
	char *path = data_path("odt.eml"), *err = NULL;
	int fd = open(path, O_RDONLY);

	is_int(mime_extract(fd, scratch, &lim, &m, &err), M2C_E_LIMIT,
	    "odt.eml: parts to convert count toward max_attachments");
	ok(m && m->nprintable == 0 && m->att[0].convert == 0 && m->att[0].path == NULL,
	    "odt.eml: after the limit nothing is kept");
	mime_message_free(&m);
	is_int(count_entries(scratch, NULL, NULL), 0, "odt.eml: scratch folder empty");
	close(fd);
	free(err);
	free(path);
}

struct body_case {
	const char *file;
	off_t max;		/* max_attachment_size */
	const char *body;	/* exact text, or NULL for no body */
	const char *problem;	/* substring of body_problem, or NULL for none */
	size_t nprintable;
};

static const struct body_case body_cases[] = {
	{ "body-qp.eml", 0, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln,bitte drucken.\n\n-- \nAlice\n",
	  NULL, 1 },
	{ "body-html.eml", 0, "Hello\xc2\xa0" "Bob,\n\nYour invoice is attached \xe2\x82\xac 10.\n\n"
	  "- one\n- two\n", NULL, 1 },
	{ "body-alt.eml", 0, "Plain version.\n", NULL, 0 },
	{ "body-big.eml", 1000, NULL, "larger than the limit of 1000 bytes", 0 },
	{ "body-big.eml", 100000, NULL, NULL, 0 },	/* body checked by size below */
	{ "body-charset.eml", 0, NULL, "unknown character set (x-no-such-charset)", 0 },
	{ "body-blank.eml", 0, NULL, NULL, 1 },
	{ "body-blank-html.eml", 0, NULL, NULL, 0 },
	{ "simple-pdf.eml", 0, "Please print.\n", NULL, 1 },
	{ "nested.eml", 0, "Please print.\n", NULL, 2 },
	{ "rfc822.eml", 0, "Please print.\n", NULL, 2 },
	{ "pdf-png.eml", 0, "Please print.\n", NULL, 2 },
};

static void
run_body_case(const struct body_case *c, const char *scratch)
{
	struct mime_limits lim = { .max_attachment_size = c->max, .want_body = 1 };
	struct mime_message *m = extract(c->file, &lim, scratch);
	int big = strcmp(c->file, "body-big.eml") == 0 && c->problem == NULL;
	struct stat st;
	char *got = NULL;
	size_t len = 0;

	if (m == NULL)
		return;
	if (c->body || big) {
		ok(m->body_path && stat(m->body_path, &st) == 0 && (st.st_mode & 07777) == 0600 &&
		    st.st_size == m->body_size, "%s: body is a 0600 file of body_size bytes",
		    c->file);
		got = m->body_path ? tap_read_file(m->body_path, &len) : NULL;
		ok(m->body_path && strncmp(m->body_path, scratch, strlen(scratch)) == 0 &&
		    str_has_prefix(strrchr(m->body_path, '/'), "/part."),
		    "%s: body in the scratch folder, named part.*", c->file);
	} else {
		ok(m->body_path == NULL, "%s: no body", c->file);
	}
	if (c->body)
		is_str(got, c->body, "%s: body text", c->file);
	if (big)
		is_int(len, 22 * 300, "%s: whole body under a larger limit", c->file);
	if (c->problem)
		has_str(m->body_problem, c->problem, "%s: body problem", c->file);
	else
		ok(m->body_problem == NULL, "%s: no body problem", c->file);
	ok(got == NULL || (strstr(got, "http") == NULL && strstr(got, "logo") == NULL &&
	    strstr(got, "pixel") == NULL && strstr(got, "Newsletter") == NULL &&
	    strstr(got, "color") == NULL), "%s: no images, links, title or style", c->file);
	is_int(m->nprintable, c->nprintable, "%s: attachments unchanged", c->file);
	is_int(count_entries(scratch, NULL, NULL), (int)m->nprintable + (m->body_path != NULL),
	    "%s: scratch files: attachments and body", c->file);
	mime_message_free(&m);
	is_int(count_entries(scratch, NULL, NULL), 0, "%s: body unlinked by free", c->file);
	free(got);
}

static void
run_issue5(const char *scratch)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(header_cases); i++)
		run_header_case(&header_cases[i], scratch);
	run_header_bounds(scratch);
	run_from_count(scratch);
	for (i = 0; i < ARRAY_SIZE(convert_cases); i++)
		run_convert_case(&convert_cases[i], scratch);
	run_convert_limit(scratch);
	for (i = 0; i < ARRAY_SIZE(body_cases); i++)
		run_body_case(&body_cases[i], scratch);
}

int
main(void)
{
	char top[] = "/tmp/m2c-test-mime.XXXXXX";
	char *scratch, *err = NULL;
	size_t i;

	if (mkdtemp(top) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 99;
	}
	scratch = xasprintf("%s/scratch", top);
	if (mkdir(scratch, 0700) != 0) {
		printf("Bail out! mkdir %s: %s\n", scratch, strerror(errno));
		return 99;
	}
	is_int(mime_init(&err), 0, "mime_init");
	is_int(mime_init(&err), 0, "mime_init again is fine");
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i], top, scratch);
	run_errors(top, scratch);
	run_issue5(scratch);
	mime_shutdown();
	rmdir(scratch);
	rmdir(top);
	free(scratch);
	free(err);
	return tap_done();
}
