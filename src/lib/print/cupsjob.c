/*
 * cupsjob.c - one document as one CUPS job, through libcups; see cupsjob.h.
 *
 * IPP (RFC 8011): Print-Job, Cancel-Job, Get-Jobs, Get-Job-Attributes,
 * Get-Printer-Attributes, sent to cupsd at cupsServer()/ippPort() (a
 * domain socket path works as the server).  The requests are built here,
 * not with cupsPrintFile(), so that requesting-user-name (the sender), the
 * job-name (the attachment's file name, exactly) and the nonce are ours.
 *
 * One request per job: Print-Job carries the job's attributes, the nonce
 * and the document, where Create-Job + Send-Document took two round trips
 * (every job has exactly one document: cupsjob.h).  What cupsd does with a
 * Print-Job whose upload is cut off, tried against CUPS 2.4.2 (the rig's
 * cupsd, a raw queue to ippeveprinter, a 300 KB document; a libcups client
 * that sent the request with Content-Length, then 100,000 bytes of the
 * document, and was SIGKILLed; the same with a chunked body; one stopped
 * half-way and looked at from outside; one killed after the whole body but
 * before reading the answer):
 *   - while the body arrives there is no job: Get-Jobs (which-jobs all)
 *     lists none, and the bytes so far sit in a request file of cupsd's
 *     (RequestRoot/0000000N, 100,000 bytes); cupsd makes the job only
 *     from a complete request;
 *   - cut off (the client dies, the connection closes), cupsd removes that
 *     file and makes no job: none in Get-Jobs, none in the history, nothing
 *     at the printer, never part of the file printed;
 *   - the whole body sent, the client killed before the answer: the job is
 *     made and prints, complete (job-k-octets 293 for the 300,017 bytes),
 *     and Get-Jobs shows it with its nonce.
 * So a job is found by its nonce exactly when cupsd had the whole
 * document, and an interrupted upload needs no clean-up: the intent row
 * finds nothing, and the part is submitted again (crash-every-step.sh
 * kills a run at the test hook "mid-upload").  A job with the nonce but no
 * document (job-k-octets 0) can still come from Create-Job, as versions
 * before Print-Job sent, or from cupsd failing after it made the job;
 * cups_job_find_by_nonce cancels it and reports it not found.  Retrying a
 * Print-Job is safe only while the request has not gone out whole
 * (print_job's *whole): after that a lost answer may hide a job.
 *
 * Where the nonce lives: in a job attribute of our own, "mail2cups-nonce"
 * (text), sent in the job group of Print-Job.  Tried against CUPS 2.4.2:
 * cupsd keeps job-template attributes it does not know in the job's
 * control file, returns them in Get-Jobs and Get-Job-Attributes when they
 * are requested by name, keeps them across a cupsd restart (with
 * PreserveJobHistory), and does not hide them under the default
 * JobPrivateValues (which hides job-name and the user).  The job name
 * stays the file name (lpq shows it), and job-uuid, which cupsd also
 * keeps when a client supplies one, is left to cupsd: it is meant to be
 * the server's own identifier.
 *
 * Print options (add_job_options) go in the job group of Print-Job.
 * Tried against CUPS 2.4.2 with a raw queue to ippeveprinter (the test
 * rig): cupsd keeps copies, sides, print-color-mode, media, page-ranges,
 * orientation-requested, print-scaling, fit-to-page and job-hold-until as
 * given, without checking them against the printer, and the ipp backend
 * hands them on.  A printer that cannot do a value refuses it, and the
 * backend then cancels the job ("Printer cannot print with supplied
 * options"): seen for sides=two-sided-* on a simplex printer, while
 * print-color-mode=color on a monochrome one still printed.  Through an
 * "everywhere" queue the same job printed (simplex): the filters drop what
 * the generated PPD does not offer.  job-hold-until=indefinite leaves the
 * job held (job-state 4, job-hold-until-specified) until released (lp -i
 * ID -H resume).
 */
#include "m2c-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cups/cups.h>

#include "cupsjob.h"
#include "error.h"
#include "log.h"
#include "testhook.h"
#include "utf8.h"
#include "util.h"

#define CUPS_JOB_NONCE_ATTR	"mail2cups-nonce"
#define CUPS_JOB_CHUNK		(64 * 1024)
#define CUPS_JOB_NAME_MAX	255	/* IPP name(MAX) */
#define CUPS_JOB_USER_MAX	255
#define CUPS_JOB_UNKNOWN_USER	"unknown-sender"

/* Settable (cups_job_set_timeouts): connecting, and any one read or write. */
static int connect_ms = 10000;
static int io_ms = 60000;

void
cups_job_set_timeouts(int connect_timeout_ms, int io_timeout_ms)
{
	if (connect_timeout_ms > 0)
		connect_ms = connect_timeout_ms;
	if (io_timeout_ms > 0)
		io_ms = io_timeout_ms;
}

/* cupsServer() is this machine: its socket, or a loopback address. */
static int
server_is_local(void)
{
	const char *server = cupsServer();

	return *server == '/' || host_is_loopback(server);
}

/* What one job group of a Get-Jobs reply said. */
struct job_seen {
	int id;
	int state;
	int koctets;		/* job-k-octets: 0 until a document arrived */
	int match;
	char nonce[33];		/* CUPS_JOB_NONCE_ATTR, when it is one of ours */
	char user[CUPS_JOB_USER_MAX + 1];	/* job-originating-user-name */
};

struct cups_session {
	http_t *http;		/* owned; NULL until the first request or after a failure */
	/* The jobs of one queue that carry a nonce (cups_job_find_by_nonce). */
	char *snap_printer;	/* owned; NULL: no snapshot */
	struct job_seen *snap;	/* owned */
	size_t nsnap;
	int submitted;		/* a job was submitted since the snapshot */
};

struct cups_session *
cups_session_new(void)
{
	return xcalloc(1, sizeof(struct cups_session));
}

static void
session_forget_jobs(struct cups_session *cs)
{
	free(cs->snap_printer);
	free(cs->snap);
	cs->snap_printer = NULL;
	cs->snap = NULL;
	cs->nsnap = 0;
	cs->submitted = 0;
}

void
cups_session_free(struct cups_session **csp)
{
	struct cups_session *cs;

	if (csp == NULL || (cs = *csp) == NULL)
		return;
	httpClose(cs->http);
	session_forget_jobs(cs);
	free(cs);
	*csp = NULL;
}

void
cups_job_set_server(const char *server)
{
	/* NULL restores libcups' default: CUPS_SERVER, client.conf, socket. */
	cupsSetServer(server);
	/*
	 * Documents and user names never cross a network in clear: a CUPS
	 * on another machine is reached over TLS or not at all.
	 */
	if (!server_is_local()) {
		cupsSetEncryption(HTTP_ENCRYPTION_REQUIRED);
		log_debug("CUPS at %s is not on this machine: TLS is required", cupsServer());
	} else {
		cupsSetEncryption(HTTP_ENCRYPTION_IF_REQUESTED);
	}
}

/* A queue name CUPS could have made: no '/', '#', '?', space or control. */
static int
check_printer(const char *printer, char **errstr)
{
	const unsigned char *p;

	if (printer == NULL || *printer == '\0')
		return m2c_fail(errstr, M2C_E_CONFIG, "no CUPS queue given (set printer = ...)");
	if (strlen(printer) > 127)
		goto bad;
	for (p = (const unsigned char *)printer; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '/' || *p == '#' || *p == '?' ||
		    *p == '\\' || *p == '\'' || *p == '"')
			goto bad;
	return 0;
bad:
	return m2c_fail(errstr, M2C_E_CONFIG, "\"%s\" is not a CUPS queue name "
	    "(lpstat -p lists the queues; set printer = ...)", printer);
}

/* Why the last libcups call failed, in words. */
static const char *
last_reason(void)
{
	const char *s = cupsLastErrorString();

	return s != NULL && *s != '\0' ? s : ippErrorString(cupsLastError());
}

/* The server for messages: a socket path, or host:port. */
static const char *
server_name(char *buf, size_t size)
{
	const char *server = cupsServer();

	if (*server == '/')
		return server;
	snprintf(buf, size, "%s:%d", server, ippPort());
	return buf;
}

static int
connect_server(http_t **http, char **errstr)
{
	char name[300];
	const char *why;
	struct stat st;

	*http = httpConnect2(cupsServer(), ippPort(), NULL, AF_UNSPEC,
	    cupsEncryption(), 1, connect_ms, NULL);
	if (*http == NULL) {
		/*
		 * libcups leaves errno useless here and says "Host is down"
		 * for any failed connect; a missing socket is worth naming.
		 */
		why = last_reason();
		if (*cupsServer() == '/' && stat(cupsServer(), &st) != 0)
			why = strerror(errno);
		if (cupsEncryption() == HTTP_ENCRYPTION_REQUIRED)
			return m2c_fail(errstr, M2C_E_UNAVAIL, "cannot reach CUPS at %s over "
			    "TLS: %s (a cups_server on another machine is used over TLS only, "
			    "so that documents and user names never cross the network in "
			    "clear: let that cupsd take TLS (it does by default with a "
			    "certificate), or print through the local cupsd)",
			    server_name(name, sizeof(name)), why);
		return m2c_fail(errstr, M2C_E_UNAVAIL, "cannot reach CUPS at %s: %s "
		    "(is cupsd running? check cups_server)",
		    server_name(name, sizeof(name)), why);
	}
	httpSetTimeout(*http, io_ms / 1000.0, NULL, NULL);
	return 0;
}

/*
 * The connection for a request: the session's (opened at its first use),
 * or a new one of its own when cs is NULL (closed by put_http).  *reused:
 * the session's connection had served a request already.
 */
static int
get_http(struct cups_session *cs, http_t **http, int *reused, char **errstr)
{
	int r;

	*reused = 0;
	if (cs == NULL)
		return connect_server(http, errstr);
	/* Readable while it was idle: cupsd closed it (its Timeout). */
	if (cs->http != NULL && httpWait(cs->http, 0)) {
		httpClose(cs->http);
		cs->http = NULL;
	}
	if (cs->http != NULL) {
		*http = cs->http;
		*reused = 1;
		return 0;
	}
	if ((r = connect_server(&cs->http, errstr)) == 0)
		*http = cs->http;
	return r;
}

/* Done with http: kept by the session when ok, else closed (reconnect next time). */
static void
put_http(struct cups_session *cs, http_t *http, int ok)
{
	if (cs == NULL || cs->http != http) {
		httpClose(http);
		return;
	}
	if (!ok) {
		httpClose(cs->http);
		cs->http = NULL;
	}
}

/* The last request failed at the HTTP or socket level (libcups' own statuses). */
static int
connection_failed(void)
{
	ipp_status_t st = cupsLastError();

	return st == IPP_STATUS_ERROR_INTERNAL || st == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE;
}

/*
 * The one mapping from an IPP status (cupsLastError() after a request) to
 * our codes.  what: "submitting report.pdf", "checking" ...
 */
static int
map_status(const char *printer, const char *what, char **errstr)
{
	ipp_status_t st = cupsLastError();
	const char *why = last_reason();
	char name[300];

	switch (st) {
	case IPP_STATUS_ERROR_NOT_FOUND:
		return m2c_fail(errstr, M2C_E_NOTFOUND, "CUPS has no queue named %s "
		    "(lpstat -p lists the queues; set printer = ...)", printer);
	case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
		return m2c_fail(errstr, M2C_E_TEMP, "queue %s is not accepting jobs "
		    "(cupsaccept %s)", printer, printer);
	case IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED:
		return m2c_fail(errstr, M2C_E_REFUSED, "%s on queue %s: CUPS cannot "
		    "print this type of document: %s", what, printer, why);
	case IPP_STATUS_ERROR_REQUEST_ENTITY:
		return m2c_fail(errstr, M2C_E_LIMIT, "%s on queue %s: too large for "
		    "CUPS (MaxRequestSize in cupsd.conf): %s", what, printer, why);
	case IPP_STATUS_ERROR_FORBIDDEN:
	case IPP_STATUS_ERROR_NOT_AUTHENTICATED:
	case IPP_STATUS_ERROR_NOT_AUTHORIZED:
	case IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED:
		return m2c_fail(errstr, M2C_E_SERVER, "%s on queue %s: CUPS refused: "
		    "%s (check the queue's policy and allowed users: lpadmin -p %s "
		    "-u allow:all)", what, printer, why, printer);
	case IPP_STATUS_ERROR_INTERNAL:
	case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
		/* libcups' own status for HTTP and socket failures */
		return m2c_fail(errstr, M2C_E_UNAVAIL, "%s on queue %s: lost the "
		    "connection to CUPS at %s: %s (is cupsd running?)", what, printer,
		    server_name(name, sizeof(name)), why);
	case IPP_STATUS_ERROR_BUSY:
	case IPP_STATUS_ERROR_TEMPORARY:
	case IPP_STATUS_ERROR_PRINTER_IS_DEACTIVATED:
		return m2c_fail(errstr, M2C_E_TEMP, "%s on queue %s: CUPS is busy: %s",
		    what, printer, why);
	default:
		if (st >= IPP_STATUS_ERROR_BAD_REQUEST &&
		    st < IPP_STATUS_ERROR_INTERNAL)
			return m2c_fail(errstr, M2C_E_SERVER, "%s on queue %s: CUPS "
			    "refused the request: %s", what, printer, why);
		return m2c_fail(errstr, M2C_E_TEMP, "%s on queue %s: CUPS failed: %s",
		    what, printer, why);
	}
}

/*
 * The job name for a file name: the name itself when it is valid UTF-8
 * without control characters (what cupsd accepts as a name), otherwise
 * with each offending byte as '_'; "untitled" for none; at most 255 bytes,
 * never cut inside a character.  Allocated.
 */
static char *
job_name(const char *title)
{
	const unsigned char *p;
	struct buf b = { 0 };
	size_t n, len, i;

	if (title == NULL || *title == '\0')
		title = "untitled";
	p = (const unsigned char *)title;
	n = strlen(title);
	for (i = 0; i < n; i += len) {
		len = utf8_seq(p + i, n - i, NULL);
		if (b.len + (len ? len : 1) > CUPS_JOB_NAME_MAX)
			break;
		if (len == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			buf_appendc(&b, '_');
			len = 1;
		} else
			buf_append(&b, p + i, len);
	}
	return buf_steal(&b);
}

/* A request for printer with printer-uri and requesting-user-name. */
static ipp_t *
new_request(ipp_op_t op, const char *printer, const char *user, char *resource,
    size_t rsize)
{
	char uri[HTTP_MAX_URI], scheme[32], userpass[8], host[256];
	ipp_t *req = ippNewRequest(op);
	int port;

	/* The resource comes out of the URI, so it is %-encoded the same way. */
	httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof(uri), "ipp", NULL,
	    "localhost", ippPort(), "/printers/%s", printer);
	if (httpSeparateURI(HTTP_URI_CODING_NONE, uri, scheme, sizeof(scheme),
	    userpass, sizeof(userpass), host, sizeof(host), &port, resource,
	    (int)rsize) < HTTP_URI_STATUS_OK)
		snprintf(resource, rsize, "/printers/%s", printer);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name",
	    NULL, user);
	return req;
}

/*
 * Send req (taken) on http asking for the attributes attrs of what it
 * names: the response, to ippDelete; cupsLastError() tells how it went.
 */
static ipp_t *
ask(http_t *http, ipp_t *req, const char *resource, const char *const *attrs,
    size_t nattrs)
{
	ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
	    (int)nattrs, NULL, attrs);
	return cupsDoRequest(http, req, resource);
}

/* Best effort: cancel a job we created but could not finish. */
static void
cancel_job(const char *printer, const char *user, int job_id)
{
	char resource[256];
	http_t *http = NULL;
	ipp_t *req;
	char *err = NULL;

	/* A fresh connection: the failed one may be in any state. */
	if (connect_server(&http, &err) != 0) {
		log_warn("could not cancel the unfinished CUPS job %s-%d: %s", printer,
		    job_id, err);
		goto out;
	}
	req = new_request(IPP_OP_CANCEL_JOB, printer, user, resource, sizeof(resource));
	ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
	ippDelete(cupsDoRequest(http, req, resource));
	if (cupsLastError() > IPP_STATUS_OK_CONFLICTING)
		log_warn("could not cancel the unfinished CUPS job %s-%d: %s (cancel "
		    "%s-%d)", printer, job_id, last_reason(), printer, job_id);
	else
		log_debug("cancelled the unfinished CUPS job %s-%d", printer, job_id);
out:
	free(err);
	httpClose(http);
}

/*
 * The print options of o that are set (o->set), as job template attributes
 * of a Print-Job request.  Values out of range are left out (the queue's
 * default applies): print_opts comes from popt_* which never makes them.
 */
static void
add_job_options(ipp_t *req, const struct print_opts *o)
{
	int lo[POPT_MAX_RANGES], hi[POPT_MAX_RANGES], i;

	if (o == NULL)
		return;
	if ((o->set & POPT_COPIES) && o->copies >= 1 && o->copies <= POPT_MAX_COPIES)
		ippAddInteger(req, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", o->copies);
	if ((o->set & POPT_SIDES) && o->sides != NULL)
		ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "sides", NULL, o->sides);
	if ((o->set & POPT_COLOR) && o->color != NULL)
		ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-color-mode", NULL,
		    o->color);
	if ((o->set & POPT_MEDIA) && o->media != NULL)
		ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", NULL, o->media);
	if ((o->set & POPT_PAGES) && o->nranges >= 1 && o->nranges <= POPT_MAX_RANGES) {
		for (i = 0; i < o->nranges; i++) {
			lo[i] = o->ranges[i][0];
			hi[i] = o->ranges[i][1];
		}
		ippAddRanges(req, IPP_TAG_JOB, "page-ranges", o->nranges, lo, hi);
	}
	if ((o->set & POPT_ORIENTATION) && o->orientation >= IPP_ORIENT_PORTRAIT &&
	    o->orientation <= IPP_ORIENT_REVERSE_PORTRAIT)
		ippAddInteger(req, IPP_TAG_JOB, IPP_TAG_ENUM, "orientation-requested",
		    o->orientation);
	if ((o->set & POPT_FIT) && o->fit) {
		ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-scaling", NULL, "fit");
		/* what the CUPS filters (pdftopdf) look at */
		ippAddBoolean(req, IPP_TAG_JOB, "fit-to-page", 1);
	}
	if ((o->set & POPT_HOLD) && o->hold)
		ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-hold-until", NULL,
		    "indefinite");
}

/*
 * Submit r as one Print-Job: the job's name, nonce and options and the
 * open file fd (r->path, fstat st) in one request, the file streamed 64
 * KiB at a time; *job_id from cupsd's answer.  *whole: the whole request
 * reached the socket, so cupsd may hold the job even when this fails (its
 * answer lost): the nonce finds it.  Not *whole, cupsd has made no job
 * (see the top of this file).  A crash half-way through the document is
 * the test hook "mid-upload".
 */
static int
print_job(http_t *http, const struct cups_job_req *r, int fd, const struct stat *st,
    const char *user, int *job_id, int *whole, char **errstr)
{
	char resource[256], *title, *buf = NULL;
	ipp_t *req, *resp = NULL;
	ipp_attribute_t *a;
	off_t left, half, sent = 0;
	size_t want;
	ssize_t n;
	int ret = 0, id = 0, hooked = 0;

	*job_id = 0;
	*whole = 0;
	req = new_request(IPP_OP_PRINT_JOB, r->printer, user, resource, sizeof(resource));
	title = job_name(r->title);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, title);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "document-name", NULL, title);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL,
	    r->format != NULL ? r->format : "application/octet-stream");
	if (r->nonce != NULL)
		ippAddString(req, IPP_TAG_JOB, IPP_TAG_TEXT, CUPS_JOB_NONCE_ATTR, NULL,
		    r->nonce);
	add_job_options(req, r->opts);
	/* The length is that of the whole body: the IPP message and the file. */
	if (cupsSendRequest(http, req, resource, S_ISREG(st->st_mode) ?
	    ippLength(req) + (size_t)st->st_size : CUPS_LENGTH_VARIABLE) !=
	    HTTP_STATUS_CONTINUE)
		goto ipp_fail;
	buf = xmalloc(CUPS_JOB_CHUNK);
	/* A regular file: exactly the announced length, no more, no less. */
	left = S_ISREG(st->st_mode) ? st->st_size : -1;
	half = S_ISREG(st->st_mode) ? st->st_size / 2 : CUPS_JOB_CHUNK;
	while (left != 0) {
		want = left < 0 || left > CUPS_JOB_CHUNK ? CUPS_JOB_CHUNK : (size_t)left;
		if (!hooked && sent < half && (off_t)want > half - sent)
			want = (size_t)(half - sent);
		n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && left > 0)) {
			ret = m2c_fail(errstr, M2C_E_SYS, "cannot read the document %s: %s",
			    r->path, n < 0 ? strerror(errno) : "it shrank while being sent");
			goto out;
		}
		if (n == 0)
			break;
		if (cupsWriteRequestData(http, buf, (size_t)n) != HTTP_STATUS_CONTINUE)
			goto ipp_fail;
		sent += n;
		if (left > 0)
			left -= n;
		if (!hooked && sent >= half) {
			/* cupsd holds half the request: a crash here is a test's */
			hooked = 1;
			(void)httpFlushWrite(http);
			testhook_point("mid-upload");
		}
	}
	/*
	 * From here cupsd may have the whole request, and so the job: only a
	 * length-delimited body whose last bytes did not leave is surely not
	 * (a chunked one ends in cupsGetResponse).
	 */
	*whole = !S_ISREG(st->st_mode) || httpFlushWrite(http) >= 0;
	resp = cupsGetResponse(http, resource);
	a = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER);
	id = a != NULL ? ippGetInteger(a, 0) : 0;
	if (cupsLastError() > IPP_STATUS_OK_CONFLICTING)
		goto ipp_fail;
	if (id <= 0) {
		ret = m2c_fail(errstr, M2C_E_PROTO, "CUPS took a job on %s without saying "
		    "its job id (the next try looks for it by its nonce)", r->printer);
		goto out;
	}
	*job_id = id;
	goto out;
ipp_fail:
	ret = map_status(r->printer, "printing the document", errstr);
	/* Refused, yet with a job id: no job of ours may print later. */
	if (id > 0)
		cancel_job(r->printer, user, id);
out:
	free(buf);
	free(title);
	ippDelete(resp);
	ippDelete(req);
	return ret;
}

int
cups_job_submit(struct cups_session *cs, const struct cups_job_req *r, int *job_id,
    char **errstr)
{
	http_t *http = NULL;
	struct stat st;
	char *user = NULL;
	int fd = -1, ret, id = 0, reused = 0, whole = 0, ok = 0;

	*job_id = 0;
	if ((ret = check_printer(r->printer, errstr)) != 0)
		return ret;
	if (r->path == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "cups_job_submit: no document "
		    "(internal error)");
	/*
	 * Open first: an unreadable file must not leave an empty job behind.
	 * An empty one is refused: it prints nothing, and a job without data
	 * would look unfinished to cups_job_find_by_nonce.
	 */
	if ((fd = open(r->path, O_RDONLY | O_CLOEXEC)) < 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot read the document %s: %s",
		    r->path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		ret = m2c_fail(errstr, M2C_E_SYS, "cannot read the document %s: %s",
		    r->path, strerror(errno));
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		ret = m2c_fail(errstr, M2C_E_DATA, "the document %s is empty: nothing "
		    "to print", r->title != NULL ? r->title : r->path);
		goto out;
	}
	/* Sanitised unless it is a user name the administrator chose. */
	user = r->user_mapped && r->user != NULL && *r->user != '\0' ? xstrdup(r->user) :
	    cups_job_user_for_sender(r->user);
	if ((ret = get_http(cs, &http, &reused, errstr)) != 0)
		goto out;
	if (cs != NULL)
		cs->submitted = 1;	/* from here the job may exist */
	ret = print_job(http, r, fd, &st, user, &id, &whole, errstr);
	if (ret != 0 && reused && !whole && connection_failed() && S_ISREG(st.st_mode) &&
	    lseek(fd, 0, SEEK_SET) == 0) {
		/*
		 * The kept connection was closed by cupsd meanwhile (its
		 * Timeout): once more on a new one.  Safe: the request did
		 * not get through whole, and cupsd makes no job of less.
		 */
		log_debug("the connection to CUPS was closed; connecting again");
		put_http(cs, http, 0);
		http = NULL;
		free(*errstr);
		*errstr = NULL;
		if ((ret = get_http(cs, &http, &reused, errstr)) != 0)
			goto out;
		ret = print_job(http, r, fd, &st, user, &id, &whole, errstr);
	}
	if (ret != 0) {
		if (whole)
			log_debug("%s: CUPS may hold the job: the next try looks for it by "
			    "its nonce", r->title != NULL ? r->title : r->path);
		goto out;
	}
	*job_id = id;
	ok = 1;
out:
	if (http != NULL)
		put_http(cs, http, ok);
	free(user);
	close(fd);
	return ret;
}

/*
 * The jobs of printer that carry a nonce, from one Get-Jobs (which-jobs
 * all), into the session's snapshot.
 */
static int
snapshot_jobs(struct cups_session *cs, http_t *http, const char *printer, char **errstr)
{
	static const char *const attrs[] = {
		"job-id", "job-state", "job-k-octets", CUPS_JOB_NONCE_ATTR,
		"job-originating-user-name",
	};
	char resource[256];
	struct job_seen cur = { 0 };
	ipp_attribute_t *a;
	ipp_t *req, *resp;
	const char *name;
	int ret = 0;

	session_forget_jobs(cs);
	req = new_request(IPP_OP_GET_JOBS, printer, CUPS_JOB_UNKNOWN_USER, resource,
	    sizeof(resource));
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", NULL, "all");
	resp = ask(http, req, resource, attrs, ARRAY_SIZE(attrs));
	if (cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
		ret = map_status(printer, "looking for an earlier job", errstr);
		goto out;
	}
	/* Job groups are separated by an attribute without a name. */
	for (a = ippFirstAttribute(resp);; a = ippNextAttribute(resp)) {
		name = a != NULL ? ippGetName(a) : NULL;
		if (name == NULL || ippGetGroupTag(a) != IPP_TAG_JOB) {
			if (cur.match && cur.id > 0) {
				cs->snap = xreallocarray(cs->snap, cs->nsnap + 1, sizeof(*cs->snap));
				cs->snap[cs->nsnap++] = cur;
			}
			memset(&cur, 0, sizeof(cur));
			if (a == NULL)
				break;
			continue;
		}
		if (strcmp(name, "job-id") == 0)
			cur.id = ippGetInteger(a, 0);
		else if (strcmp(name, "job-state") == 0)
			cur.state = ippGetInteger(a, 0);
		else if (strcmp(name, "job-k-octets") == 0)
			cur.koctets = ippGetInteger(a, 0);
		else if (strcmp(name, CUPS_JOB_NONCE_ATTR) == 0) {
			const char *v = ippGetString(a, 0, NULL);

			cur.match = v != NULL && strlen(v) < sizeof(cur.nonce);
			if (cur.match)
				snprintf(cur.nonce, sizeof(cur.nonce), "%s", v);
		} else if (strcmp(name, "job-originating-user-name") == 0) {
			const char *v = ippGetString(a, 0, NULL);

			snprintf(cur.user, sizeof(cur.user), "%s", v ? v : "");
		}
	}
	cs->snap_printer = xstrdup(printer);
out:
	ippDelete(resp);
	return ret;
}

int
cups_job_find_by_nonce(struct cups_session *cs, const char *printer, const char *nonce,
    int *job_id, char **errstr)
{
	struct job_seen best = { 0 }, half = { 0 };
	struct cups_session *own = NULL;
	http_t *http = NULL;
	int ret, reused = 0;

	*job_id = 0;
	if ((ret = check_printer(printer, errstr)) != 0)
		return ret;
	if (nonce == NULL || *nonce == '\0')
		return m2c_fail(errstr, M2C_E_USAGE, "no nonce to look for (internal error)");
	if (cs == NULL)
		cs = own = cups_session_new();
	/*
	 * One Get-Jobs per session and queue: the nonces looked up are those
	 * of intents written before (an interrupted run's), whose jobs, if
	 * any, are all in it.  A job submitted through the session since
	 * makes it ask again, so a lookup never misses a newer job.
	 */
	if (cs->snap_printer == NULL || strcmp(cs->snap_printer, printer) != 0 ||
	    cs->submitted) {
		if ((ret = get_http(cs, &http, &reused, errstr)) != 0)
			goto out;
		ret = snapshot_jobs(cs, http, printer, errstr);
		if (ret != 0 && reused && connection_failed()) {
			put_http(cs, http, 0);
			free(*errstr);
			*errstr = NULL;
			if ((ret = get_http(cs, &http, &reused, errstr)) != 0)
				goto out;
			ret = snapshot_jobs(cs, http, printer, errstr);
		}
		put_http(cs, http, ret == 0);
		if (ret != 0)
			goto out;
	}
	for (size_t i = 0; i < cs->nsnap; i++) {
		const struct job_seen *j = &cs->snap[i];

		if (strcmp(j->nonce, nonce) != 0)
			continue;
		if (j->koctets > 0 && j->id > best.id)
			best = *j;
		else if (j->koctets == 0 && j->id > half.id)
			half = *j;
	}
	if (best.id > 0) {
		*job_id = best.id;
		goto out;
	}
	/*
	 * A job with our nonce but no document: Create-Job without the end of
	 * Send-Document (an earlier version's), or cupsd failing after it
	 * made a Print-Job's job (see the top of this file).  It never got its file,
	 * so it counts as not submitted; cancel it so it cannot linger (as
	 * its owner, when CUPS shows who that is).  "No document" is
	 * job-k-octets 0: cupsd adds to it when a whole document arrived and
	 * keeps it in the job history, while number-of-documents reads 0
	 * again once a completed job's files are gone (CUPS 2.4.2).
	 */
	if (half.id > 0 && half.state < IPP_JSTATE_CANCELED)
		cancel_job(printer, *half.user ? half.user : CUPS_JOB_UNKNOWN_USER,
		    half.id);
	ret = m2c_fail(errstr, M2C_E_NOTFOUND, "queue %s has no job with nonce %s",
	    printer, nonce);
out:
	cups_session_free(&own);
	return ret;
}

int
cups_job_get_state(int job_id, enum cups_job_state *state, char **reason, char **errstr)
{
	static const char *const attrs[] = {
		"job-state", "job-state-reasons", "job-printer-state-message",
	};
	char uri[HTTP_MAX_URI], what[64];
	struct buf why = { 0 };
	ipp_attribute_t *a;
	http_t *http = NULL;
	ipp_t *req, *resp = NULL;
	int ret;

	*state = 0;
	if (reason != NULL)
		*reason = NULL;
	if ((ret = connect_server(&http, errstr)) != 0)
		goto out;
	req = ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES);
	httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof(uri), "ipp", NULL, "localhost",
	    ippPort(), "/jobs/%d", job_id);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "job-uri", NULL, uri);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
	    CUPS_JOB_UNKNOWN_USER);
	resp = ask(http, req, "/", attrs, ARRAY_SIZE(attrs));
	snprintf(what, sizeof(what), "asking about job %d", job_id);
	if (cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND) {
		ret = m2c_fail(errstr, M2C_E_NOTFOUND, "CUPS no longer knows job %d", job_id);
		goto out;
	}
	if (cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
		ret = map_status("(any)", what, errstr);
		goto out;
	}
	if ((a = ippFindAttribute(resp, "job-state", IPP_TAG_ENUM)) == NULL) {
		ret = m2c_fail(errstr, M2C_E_PROTO, "CUPS gave no state for job %d", job_id);
		goto out;
	}
	*state = (enum cups_job_state)ippGetInteger(a, 0);
	if (reason == NULL)
		goto out;
	if ((a = ippFindAttribute(resp, "job-state-reasons", IPP_TAG_KEYWORD)) != NULL)
		for (int i = 0; i < ippGetCount(a); i++)
			buf_appendf(&why, "%s%s", why.len ? ", " : "", ippGetString(a, i, NULL));
	if ((a = ippFindAttribute(resp, "job-printer-state-message", IPP_TAG_TEXT)) != NULL &&
	    ippGetString(a, 0, NULL) != NULL && *ippGetString(a, 0, NULL) != '\0')
		buf_appendf(&why, "%s%s", why.len ? ": " : "", ippGetString(a, 0, NULL));
	*reason = why.len ? buf_steal(&why) : NULL;
out:
	buf_free(&why);
	ippDelete(resp);
	httpClose(http);
	return ret;
}

int
cups_job_check_queue(const char *printer, char **warning, char **errstr)
{
	static const char *const attrs[] = {
		"printer-state", "printer-is-accepting-jobs", "printer-state-message",
		"printer-error-policy",
	};
	char resource[256];
	http_t *http = NULL;
	ipp_t *req, *resp = NULL;
	ipp_attribute_t *a;
	const char *msg;
	char *w = NULL;
	int ret;

	if (warning != NULL)
		*warning = NULL;
	if ((ret = check_printer(printer, errstr)) != 0)
		return ret;
	if ((ret = connect_server(&http, errstr)) != 0)
		goto out;
	req = new_request(IPP_OP_GET_PRINTER_ATTRIBUTES, printer, CUPS_JOB_UNKNOWN_USER,
	    resource, sizeof(resource));
	resp = ask(http, req, resource, attrs, ARRAY_SIZE(attrs));
	if (cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
		ret = map_status(printer, "checking the queue", errstr);
		goto out;
	}
	a = ippFindAttribute(resp, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
	if (a != NULL && !ippGetBoolean(a, 0)) {
		ret = m2c_fail(errstr, M2C_E_TEMP, "queue %s is not accepting jobs "
		    "(cupsaccept %s)", printer, printer);
		goto out;
	}
	a = ippFindAttribute(resp, "printer-state", IPP_TAG_ENUM);
	if (a != NULL && ippGetInteger(a, 0) == IPP_PSTATE_STOPPED) {
		a = ippFindAttribute(resp, "printer-state-message", IPP_TAG_TEXT);
		msg = a != NULL ? ippGetString(a, 0, NULL) : NULL;
		/* CUPS still takes jobs for a stopped queue: they wait there. */
		(void)m2c_fail(&w, M2C_E_TEMP, "queue %s is stopped%s%s%s: jobs wait "
		    "in CUPS until it is started again (cupsenable %s)", printer,
		    msg && *msg ? " (" : "", msg && *msg ? msg : "", msg && *msg ? ")" : "",
		    printer);
	}
	a = ippFindAttribute(resp, "printer-error-policy", IPP_TAG_NAME);
	if (a != NULL && strcmp(ippGetString(a, 0, NULL), "stop-printer") == 0) {
		char *both = xasprintf("%s%s" CUPS_JOB_STOP_PRINTER_WARNING, w ? w : "",
		    w ? "; " : "", printer, printer);

		free(w);
		w = both;
	}
	if (warning != NULL)
		*warning = w;
	else
		free(w);
out:
	ippDelete(resp);
	httpClose(http);
	return ret;
}

/*
 * Keep [A-Za-z0-9@._+-], '_' for anything else, at most 255 bytes.  A
 * result without '@' (a From without a domain, or one cut before it) is
 * prefixed "unknown-sender-": a bare word could be taken for a local user
 * by CUPS policies, quotas and accounting; an '@' or that prefix cannot.
 */
char *
cups_job_user_for_sender(const char *addr)
{
	static const char prefix[] = CUPS_JOB_UNKNOWN_USER "-";
	char *out;
	size_t i, n, off = 0;

	if (addr == NULL || *addr == '\0')
		return xstrdup(CUPS_JOB_UNKNOWN_USER);
	n = strnlen(addr, CUPS_JOB_USER_MAX);
	if (memchr(addr, '@', n) == NULL) {
		off = sizeof(prefix) - 1;
		if (n > CUPS_JOB_USER_MAX - off)
			n = CUPS_JOB_USER_MAX - off;
	}
	out = xmalloc(off + n + 1);
	memcpy(out, prefix, off);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)addr[i];

		out[off + i] = ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '@' || c == '.' || c == '_' ||
		    c == '+' || c == '-') ? (char)c : '_';
	}
	out[off + n] = '\0';
	return out;
}

int
cups_job_list_queues(struct cups_queue **out, size_t *n, char **errstr)
{
	static const char *const attrs[] = {
		"printer-name", "device-uri", "printer-error-policy",
	};
	http_t *http = NULL;
	ipp_t *req, *resp = NULL;
	ipp_attribute_t *a;
	struct cups_queue *list = NULL, q = { 0 };
	size_t len = 0;
	int ret;

	*out = NULL;
	*n = 0;
	if ((ret = connect_server(&http, errstr)) != 0)
		return ret;
	req = ippNewRequest(IPP_OP_CUPS_GET_PRINTERS);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
	    CUPS_JOB_UNKNOWN_USER);
	resp = ask(http, req, "/", attrs, ARRAY_SIZE(attrs));
	if (cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
		/* No queue at all reads as "not found": an empty list. */
		if (cupsLastError() != IPP_STATUS_ERROR_NOT_FOUND)
			ret = map_status("(all)", "listing the queues", errstr);
		goto out;
	}
	for (a = ippFirstAttribute(resp); ; a = ippNextAttribute(resp)) {
		const char *name = a ? ippGetName(a) : NULL;

		if (a == NULL || name == NULL) {
			/* A printer's group ended. */
			if (q.name != NULL) {
				list = xreallocarray(list, len + 1, sizeof(*list));
				list[len++] = q;
			} else {
				free(q.device_uri);
				free(q.error_policy);
			}
			memset(&q, 0, sizeof(q));
			if (a == NULL)
				break;
			continue;
		}
		if (strcmp(name, "printer-name") == 0 && q.name == NULL)
			q.name = xstrdup(ippGetString(a, 0, NULL));
		else if (strcmp(name, "device-uri") == 0 && q.device_uri == NULL)
			q.device_uri = xstrdup(ippGetString(a, 0, NULL));
		else if (strcmp(name, "printer-error-policy") == 0 && q.error_policy == NULL)
			q.error_policy = xstrdup(ippGetString(a, 0, NULL));
	}
	*out = list;
	*n = len;
	list = NULL;
out:
	cups_job_queues_free(&list, len);
	ippDelete(resp);
	httpClose(http);
	return ret;
}

void
cups_job_queues_free(struct cups_queue **list, size_t n)
{
	if (list == NULL || *list == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*list)[i].name);
		free((*list)[i].device_uri);
		free((*list)[i].error_policy);
	}
	free(*list);
	*list = NULL;
}
