/*
 * mail2cups.c - the CUPS backend: print to email with the account's own
 * sign-in (mail2cups-backend(8)).
 *
 * A queue whose device URI is mail2cups://ACCOUNT/RCPT (or
 * mail2cups://ACCOUNT?to=owner&domain=D) sends each job as one mail,
 * through the SMTP server and sign-in of ACCOUNT in mail2cups.conf (the
 * same code the replies use: XOAUTH2 with the account's tokens, a password
 * file, or a relay).  The URI holds no secret.  The mail's subject is the
 * job's title with its print options written as mail2cups subject tags, so
 * a mail2cups at the other end prints it as asked.
 *
 * backend(7): argv is "job user title copies options [file]", the data on
 * stdin when there is no file; run without arguments it lists one URI per
 * account that can send mail.  Run by CUPS as root (installed 0700), it
 * opens the job's file, then switches to the service user (runas.h: the
 * owner of state_dir) before it reads any secret or token; never as root.
 *
 * It never stops the queue: a temporary failure exits RETRY ("will
 * retry: ..."), a refusal by the server exits CANCEL with the server's
 * words, a sign-in or configuration problem HOLDs the job with the fix and
 * the release command.  Exactly once: the job (queue, id, the document's
 * SHA-256) is recorded "sending" with its Message-ID before the SMTP
 * session and "sent" as soon as the server took it, before exiting OK; a
 * retried job already sent is not sent again.
 */
#include "m2c-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cups/backend.h>
#include <cups/cups.h>
#include <gmime/gmime.h>
#include <openssl/evp.h>

#include "conf.h"
#include "error.h"
#include "log.h"
#include "printopts.h"
#include "privdrop.h"
#include "runas.h"
#include "addr.h"
#include "smtp.h"
#include "state.h"
#include "testhook.h"
#include "util.h"

#define BK_SCHEME		"mail2cups"
#define BK_CHUNK		(64 * 1024)
#define BK_HEADER_ALLOWANCE	(16 * 1024)	/* headers and the text part */
#define BK_FILENAME_MAX		120		/* bytes of an attachment's name */

static volatile sig_atomic_t bk_terminated;

static void
on_sigterm(int sig)
{
	static const char msg[] = "INFO: cancelled: stopping\n";
	ssize_t w;

	(void)sig;
	bk_terminated = 1;
	w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
}

/* Every log line as a filter(7) message on stderr. */
static void
log_to_cups(enum log_level level, const char *line, void *arg)
{
	static const char *const prefix[] = {
		[LOG_LVL_ERROR] = "ERROR", [LOG_LVL_WARN] = "WARNING",
		[LOG_LVL_INFO] = "INFO", [LOG_LVL_DEBUG] = "DEBUG",
	};

	(void)arg;
	fprintf(stderr, "%s: %s\n", (unsigned)level < ARRAY_SIZE(prefix) ? prefix[level] : "DEBUG",
	    line);
}

/* ---------------------------------------------------------------- the URI */

struct bk_uri {
	char *account;		/* owned */
	char *to;		/* owned: an address, or "owner" */
	char *domain;		/* owned; NULL: the owner must be an address */
};

static void
bk_uri_clear(struct bk_uri *u)
{
	free(u->account);
	free(u->to);
	free(u->domain);
	memset(u, 0, sizeof(*u));
}

/* Percent-decode n bytes of s; NULL when an escape is bad or decodes to NUL. */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/*
 * mail2cups://ACCOUNT/ADDRESS, mail2cups://ACCOUNT?to=ADDRESS,
 * mail2cups://ACCOUNT?to=owner[&domain=example.org].
 */
static int
bk_uri_parse(const char *uri, struct bk_uri *u, char **errstr)
{
	static const char usage[] = "write mail2cups://ACCOUNT/RECIPIENT@DOMAIN, or "
	    "mail2cups://ACCOUNT?to=owner&domain=DOMAIN to mail each job to its owner";
	const char *p, *end, *q;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (uri == NULL || !str_has_prefix(uri, BK_SCHEME "://"))
		return m2c_fail(errstr, M2C_E_CONFIG, "the device URI \"%s\" is not a %s: URI "
		    "(%s)", uri ? uri : "", BK_SCHEME, usage);
	p = uri + strlen(BK_SCHEME "://");
	n = strcspn(p, "/?#");
	if (n == 0) {
		m2c_fail(errstr, M2C_E_CONFIG, "the device URI names no account (%s)", usage);
		goto bad;
	}
	u->account = xstrndup(p, n);
	for (q = u->account; *q; q++)
		if (!(*q == '-' || *q == '_' || *q == '.' || (*q >= '0' && *q <= '9') ||
		    ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z'))) {
			m2c_fail(errstr, M2C_E_CONFIG, "the device URI's account \"%s\" is not an "
			    "account name ([A-Za-z0-9_.-]) (%s)", u->account, usage);
			goto bad;
		}
	p += n;
	if (*p == '/') {
		p++;
		n = strcspn(p, "?#");
		if (n > 0 && (u->to = pct_decode(p, n)) == NULL) {
			m2c_fail(errstr, M2C_E_CONFIG, "the device URI's recipient has a bad "
			    "%%-escape (%s)", usage);
			goto bad;
		}
		p += n;
	}
	if (*p == '?') {
		for (p++; *p && *p != '#'; p = *end == '&' ? end + 1 : end) {
			const char *eq;
			char *v;

			end = p + strcspn(p, "&#");
			eq = memchr(p, '=', (size_t)(end - p));
			if (eq == NULL || (v = pct_decode(eq + 1, (size_t)(end - eq - 1))) == NULL) {
				m2c_fail(errstr, M2C_E_CONFIG, "the device URI's parameter \"%.*s\" "
				    "is not NAME=VALUE (%s)", (int)(end - p), p, usage);
				goto bad;
			}
			if ((size_t)(eq - p) == 2 && strncmp(p, "to", 2) == 0 && u->to == NULL) {
				u->to = v;
			} else if ((size_t)(eq - p) == 6 && strncmp(p, "domain", 6) == 0 &&
			    u->domain == NULL) {
				u->domain = v;
			} else {
				free(v);
				m2c_fail(errstr, M2C_E_CONFIG, "the device URI's parameter \"%.*s\" "
				    "is unknown or repeated (to, domain) (%s)", (int)(eq - p), p,
				    usage);
				goto bad;
			}
		}
	}
	if (u->to == NULL || *u->to == '\0') {
		m2c_fail(errstr, M2C_E_CONFIG, "the device URI names no recipient (%s)", usage);
		goto bad;
	}
	if (strcmp(u->to, "owner") != 0 &&
	    addr_check("recipient (in the device URI)", u->to, errstr) != 0) {
		if (errstr != NULL) {
			free(*errstr);
			*errstr = NULL;
		}
		m2c_fail(errstr, M2C_E_CONFIG, "the device URI's recipient \"%s\" is not a mail "
		    "address (%s)", u->to, usage);
		goto bad;
	}
	if (u->domain != NULL && (strchr(u->domain, '.') == NULL || strchr(u->domain, '@') ||
	    strpbrk(u->domain, " <>\t") != NULL)) {
		m2c_fail(errstr, M2C_E_CONFIG, "the device URI's domain \"%s\" is not a mail "
		    "domain (%s)", u->domain, usage);
		goto bad;
	}
	return 0;
bad:
	bk_uri_clear(u);
	return M2C_E_CONFIG;
}

/* ---------------------------------------------------------------- discovery */

/* One line per account that can send mail: its own address as the recipient. */
static int
discover(void)
{
	struct conf *cf = NULL;
	char *path = getenv("MAIL2CUPS_CONF") ? xstrdup(getenv("MAIL2CUPS_CONF")) :
	    xstrdup(SYSCONFDIR "/mail2cups.conf");
	char *e = NULL;

	if (access(path, R_OK) != 0 || conf_load(path, &cf, &e) != 0) {
		/* lpinfo must not fail because of us: say why, list nothing. */
		fprintf(stderr, "DEBUG: mail2cups: no accounts to list from %s: %s\n", path,
		    e ? e : strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < cf->naccounts; i++) {
		const struct conf_account *a = &cf->accounts[i];
		struct conf_smtp set;
		char *name = NULL, *addr = NULL;

		if (smtp_settings(cf, a, &set, NULL) != 0 ||
		    addr_parse_from(cf->replies.from ? cf->replies.from : a->username, &name,
		    &addr, NULL) != 0)
			continue;
		printf("network %s://%s/%s \"mail2cups\" \"Email through %s (%s)\" "
		    "\"MFG:mail2cups;MDL:email;\" \"\"\n", BK_SCHEME, a->name, addr, a->name, addr);
		free(name);
		free(addr);
	}
	fflush(stdout);
out:
	free(e);
	free(path);
	conf_free(&cf);
	return CUPS_BACKEND_OK;
}

/* ---------------------------------------------------------------- the job */

struct bk_job {
	int id;
	const char *user, *title, *printer;	/* borrowed from argv / environment */
	const struct conf_account *a;		/* borrowed from cf */
	struct conf *cf;			/* owned */
	struct bk_uri uri;
	char *rcpt;				/* owned */
	char *from, *from_name;			/* owned */
	struct conf_smtp set;			/* borrowed strings */
	int in_fd;				/* the job's data */
	int doc_fd, msg_fd;			/* unlinked scratch files */
	off_t doc_len, msg_len;
	char hash[65];				/* SHA-256 of the document */
	char *ctype;				/* owned */
	char *filename;				/* owned */
	char *subject;				/* owned */
	char *options;				/* owned: popt_describe */
	char *job_uuid;				/* owned; may be NULL */
	char *message_id;			/* owned */
	struct state *st;
};

/* The report of a failure: its class decides the exit code. */
static int
bk_fail(const struct bk_job *j, int r, const char *e)
{
	const char *what = e ? e : m2c_err_name(r);

	/* One line: the job's state message is the first ERROR line. */
	switch (r) {
	case M2C_E_AUTH:
	case M2C_E_SIGNIN:
		if (j->a != NULL && j->a->oauth.present)
			fprintf(stderr, "ERROR: job held: %s; sign the account in again (as root "
			    "or the service user: mail2cups-oauth login %s), then release the "
			    "job: lp -i %d -H resume\n", what, j->a->name, j->id);
		else
			fprintf(stderr, "ERROR: job held: %s; fix the SMTP sign-in in "
			    "mail2cups.conf (smtp.username, smtp.password_file), then release the "
			    "job: lp -i %d -H resume\n", what, j->id);
		return CUPS_BACKEND_HOLD;
	case M2C_E_CONFIG:
	case M2C_E_NOTSUP:
	case M2C_E_USAGE:
	case M2C_E_NOTFOUND:
		fprintf(stderr, "ERROR: job held: %s; fix it, then release the job: "
		    "lp -i %d -H resume\n", what, j->id);
		return CUPS_BACKEND_HOLD;
	case M2C_E_DATA:
	case M2C_E_REFUSED:
	case M2C_E_LIMIT:
	case M2C_E_SERVER:
		fprintf(stderr, "ERROR: not sent, job cancelled: %s\n", what);
		return CUPS_BACKEND_CANCEL;
	default:
		fprintf(stderr, "ERROR: will retry: %s\n", what);
		return CUPS_BACKEND_RETRY;
	}
}

/* "application/vnd.cups-pdf" and kin are PDF and PostScript to a mail reader. */
static char *
content_type(void)
{
	static const char *const vars[] = { "FINAL_CONTENT_TYPE", "CONTENT_TYPE" };

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *t = getenv(vars[i]);

		if (t == NULL || strchr(t, '/') == NULL || strpbrk(t, " ;\"\r\n") != NULL ||
		    str_has_prefix(t, "printer/") || strcmp(t, "application/vnd.cups-raw") == 0 ||
		    strcmp(t, "application/octet-stream") == 0)
			continue;
		if (strcmp(t, "application/vnd.cups-pdf") == 0)
			return xstrdup("application/pdf");
		if (strcmp(t, "application/vnd.cups-postscript") == 0)
			return xstrdup("application/postscript");
		if (str_has_prefix(t, "application/vnd.cups-"))
			continue;
		return xstrdup(t);
	}
	return xstrdup("application/octet-stream");
}

static const char *
extension_for(const char *ctype)
{
	static const struct { const char *type, *ext; } t[] = {
		{ "application/pdf", ".pdf" }, { "application/postscript", ".ps" },
		{ "image/png", ".png" }, { "image/jpeg", ".jpg" }, { "image/tiff", ".tif" },
		{ "image/pwg-raster", ".pwg" }, { "image/urf", ".urf" }, { "text/plain", ".txt" },
		{ "text/html", ".html" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(ctype, t[i].type) == 0)
			return t[i].ext;
	return "";
}

/*
 * The attachment's name from the title: its last path element, controls
 * and quotes out, at most BK_FILENAME_MAX bytes (cut on a UTF-8 boundary),
 * with the content type's extension when it has none of its own.
 */
static char *
make_filename(const char *title, const char *ctype)
{
	const char *base = title ? title : "", *p, *ext = extension_for(ctype);
	struct buf b = { NULL, 0, 0 };
	size_t n;

	for (p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (p = base; *p; p++) {
		unsigned char c = (unsigned char)*p;

		buf_appendc(&b, c < 0x20 || c == 0x7f || c == '"' || c == ':' || c == '*' ||
		    c == '?' || c == '<' || c == '>' || c == '|' ? '_' : (char)c);
	}
	while (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '.'))
		b.len--;
	n = b.len;
	if (n > BK_FILENAME_MAX) {
		n = BK_FILENAME_MAX;
		while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
			n--;
	}
	b.len = n;
	buf_appendc(&b, '\0');
	b.len--;
	if (b.len == 0 || b.data[0] == '.')
		buf_appendf(&b, "%sdocument", b.len ? "-" : "");
	if (*ext && (b.len < strlen(ext) ||
	    str_casecmp(b.data + b.len - strlen(ext), ext) != 0))
		buf_appendf(&b, "%s", ext);
	return buf_steal(&b);
}

/*
 * Copy the job's data into an unlinked 0600 scratch file, hashing it; stop
 * early once it can no longer fit in a mail of the account's size.
 */
static int
spool(struct bk_job *j, const char *scratch, char **errstr)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	char *path = NULL, *buf = NULL;
	ssize_t n;
	int r;

	if ((j->doc_fd = private_tmpfile(scratch, "backend-doc.", &path, errstr)) < 0)
		return j->doc_fd;
	unlink(path);		/* no scratch file outlives the run, on any path */
	buf = xmalloc(BK_CHUNK);
	if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot hash the job (OpenSSL)");
		goto out;
	}
	for (;;) {
		n = read(j->in_fd, buf, BK_CHUNK);
		if (n < 0 && errno == EINTR && !bk_terminated)
			continue;
		if (n < 0) {
			r = m2c_fail(errstr, M2C_E_SYS, "cannot read the job's data: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		j->doc_len += n;
		/* base64 alone makes it 4/3 as big: past the limit already? */
		if ((j->doc_len + 2) / 3 * 4 > j->set.max_message_size) {
			r = m2c_fail(errstr, M2C_E_LIMIT, "the document is over %lld bytes, too "
			    "big for a mail through %s: its limit is %lld bytes (%.1f MB, "
			    "smtp.max_message_size) for the whole mail, and attachments grow by a "
			    "third when encoded", (long long)j->doc_len, j->a->name,
			    (long long)j->set.max_message_size,
			    j->set.max_message_size / (1024.0 * 1024.0));
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		if ((r = write_all(j->doc_fd, buf, (size_t)n)) != 0) {
			r = m2c_fail(errstr, M2C_E_SYS, "cannot write the job to %s: %s", scratch,
			    strerror(errno));
			goto out;
		}
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(j->hash + 2 * i, 3, "%02x", md[i]);
	if (j->doc_len == 0) {
		r = m2c_fail(errstr, M2C_E_DATA, "the job has no data: nothing to send");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	free(path);
	return r;
}

/*
 * The job's options (argv[4], argv[5]) as print_opts, for the subject.
 * CUPS adds the queue's defaults to every job (a raw queue says
 * print-color-mode=monochrome): an option whose value is the queue's
 * default is left to the far printer's own default, so only what the
 * person chose becomes a tag.  Copies come from argv[4].
 */
static void
job_options(struct bk_job *j, const char *copies, const char *optstr, struct print_opts *o)
{
	cups_option_t *opts = NULL;
	cups_dest_t *dest = cupsGetNamedDest(CUPS_HTTP_DEFAULT, j->printer, NULL);
	int n = cupsParseOptions(optstr, 0, &opts);
	char *e = NULL;

	memset(o, 0, sizeof(*o));
	if (dest == NULL)
		log_debug("the queue's defaults are unknown (%s): every option becomes a tag",
		    cupsLastErrorString());
	if (popt_from_cups("copies", copies, o, &e) < 0)
		log_warn("%s", e);
	for (int i = 0; i < n; i++) {
		const char *def = dest ? cupsGetOption(opts[i].name, dest->num_options,
		    dest->options) : NULL;

		free(e);
		e = NULL;
		if (strcmp(opts[i].name, "job-uuid") == 0 && j->job_uuid == NULL)
			j->job_uuid = xstrdup(opts[i].value);
		else if (strcmp(opts[i].name, "copies") == 0 ||
		    (def != NULL && strcmp(def, opts[i].value) == 0))
			continue;
		else if (popt_from_cups(opts[i].name, opts[i].value, o, &e) < 0)
			log_warn("%s", e);
	}
	free(e);
	cupsFreeOptions(n, opts);
	cupsFreeDests(dest ? 1 : 0, dest);
}

/* The whole mail, written with GMime into an unlinked scratch file. */
static int
compose(struct bk_job *j, const char *scratch, char **errstr)
{
	GMimeMessage *msg = NULL;
	GMimeMultipart *mixed = NULL;
	GMimeTextPart *text = NULL;
	GMimePart *att = NULL;
	GMimeStream *doc = NULL, *out = NULL, *textstream = NULL;
	GMimeDataWrapper *content = NULL, *textcontent = NULL;
	GMimeFormatOptions *fo = NULL;
	GDateTime *now = NULL;
	char *path = NULL, *body = NULL, *hdr = NULL;
	struct stat sb;
	int fd = -1, r;

	if ((j->msg_fd = private_tmpfile(scratch, "backend-msg.", &path, errstr)) < 0)
		return j->msg_fd;
	unlink(path);
	msg = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, j->from_name, j->from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, j->rcpt);
	g_mime_message_set_subject(msg, j->subject, "utf-8");
	now = g_date_time_new_now_local();
	g_mime_message_set_date(msg, now);
	g_mime_message_set_message_id(msg, j->message_id);
	hdr = xasprintf("%s-%d; user=%s%s%s", j->printer, j->id, j->user,
	    j->job_uuid ? "; uuid=" : "", j->job_uuid ? j->job_uuid : "");
	g_mime_object_set_header(GMIME_OBJECT(msg), "X-Mail2cups-Job", hdr, "utf-8");

	mixed = g_mime_multipart_new_with_subtype("mixed");
	body = xasprintf("Printed by %s to %s (job %d) and sent by mail2cups.\r\n"
	    "Document: %s\r\nOptions: %s\r\n", j->user, j->printer, j->id, j->filename,
	    *j->options ? j->options : "the printer's defaults");
	text = g_mime_text_part_new_with_subtype("plain");
	textstream = g_mime_stream_mem_new_with_buffer(body, strlen(body));
	textcontent = g_mime_data_wrapper_new_with_stream(textstream,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(text), textcontent);
	g_mime_text_part_set_charset(text, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(text),
	    g_mime_part_get_best_content_encoding(GMIME_PART(text),
	    GMIME_ENCODING_CONSTRAINT_7BIT));
	g_mime_multipart_add(mixed, GMIME_OBJECT(text));

	{
		char *slash = strchr(j->ctype, '/'), *type = xstrndup(j->ctype,
		    (size_t)(slash - j->ctype));

		att = g_mime_part_new_with_type(type, slash + 1);
		free(type);
	}
	if ((fd = dup(j->doc_fd)) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot read the spooled job: %s", strerror(errno));
		goto out;
	}
	doc = g_mime_stream_fs_new(fd);		/* owns fd now */
	fd = -1;
	content = g_mime_data_wrapper_new_with_stream(doc, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(att, content);
	g_mime_part_set_content_encoding(att, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_object_set_disposition(GMIME_OBJECT(att), "attachment");
	g_mime_part_set_filename(att, j->filename);
	g_mime_multipart_add(mixed, GMIME_OBJECT(att));
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));

	if ((fd = dup(j->msg_fd)) < 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot write the mail: %s", strerror(errno));
		goto out;
	}
	out = g_mime_stream_fs_new(fd);
	fd = -1;
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, out) < 0 ||
	    g_mime_stream_flush(out) != 0 || fstat(j->msg_fd, &sb) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot write the mail to %s (disk full?)",
		    scratch);
		goto out;
	}
	j->msg_len = sb.st_size;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (fo != NULL)
		g_mime_format_options_free(fo);
	if (out != NULL)
		g_object_unref(out);
	if (content != NULL)
		g_object_unref(content);
	if (doc != NULL)
		g_object_unref(doc);
	if (att != NULL)
		g_object_unref(att);
	if (textcontent != NULL)
		g_object_unref(textcontent);
	if (textstream != NULL)
		g_object_unref(textstream);
	if (text != NULL)
		g_object_unref(text);
	if (mixed != NULL)
		g_object_unref(mixed);
	if (msg != NULL)
		g_object_unref(msg);
	if (now != NULL)
		g_date_time_unref(now);
	free(hdr);
	free(body);
	free(path);
	return r;
}

/* The recipient: the URI's address, or the job's owner (with domain=). */
static int
recipient(struct bk_job *j, char **errstr)
{
	if (strcmp(j->uri.to, "owner") != 0) {
		j->rcpt = xstrdup(j->uri.to);
		return 0;
	}
	if (strchr(j->user, '@') == NULL && j->uri.domain != NULL)
		j->rcpt = xasprintf("%s@%s", j->user, j->uri.domain);
	else
		j->rcpt = xstrdup(j->user);
	if (addr_check("recipient", j->rcpt, NULL) != 0)
		return m2c_fail(errstr, M2C_E_DATA, "the job's owner \"%s\" is not a mail address "
		    "and the device URI gives no domain to make one (add &domain=example.org to "
		    "it)", j->user);
	return 0;
}

static void
bk_job_free(struct bk_job *j)
{
	if (j->doc_fd >= 0)
		close(j->doc_fd);
	if (j->msg_fd >= 0)
		close(j->msg_fd);
	if (j->in_fd > 0)
		close(j->in_fd);
	state_close(&j->st);
	bk_uri_clear(&j->uri);
	free(j->rcpt);
	free(j->from);
	free(j->from_name);
	free(j->ctype);
	free(j->filename);
	free(j->subject);
	free(j->options);
	free(j->job_uuid);
	free(j->message_id);
	conf_free(&j->cf);
}

static int
run_job(struct bk_job *j, char **argv, int argc, char **errstr)
{
	const char *uri = getenv("DEVICE_URI");
	char *path = NULL, *scratch = NULL, *tags = NULL, *safe = NULL, *end = NULL;
	struct print_opts o;
	struct state_bjob b = { 0 };
	long id;
	int r;

	id = strtol(argv[1], &end, 10);
	if (end == argv[1] || *end != '\0' || id <= 0 || id > 0x7fffffff)
		return m2c_fail(errstr, M2C_E_USAGE, "\"%s\" is not a job id", argv[1]);
	j->id = (int)id;
	j->user = argv[2];
	j->title = argv[3];
	j->printer = getenv("PRINTER");
	if (j->printer == NULL || *j->printer == '\0')
		return m2c_fail(errstr, M2C_E_USAGE, "PRINTER is not set: run by CUPS, a backend "
		    "gets the queue's name in PRINTER (set it when testing by hand)");
	if (uri == NULL && strchr(argv[0], ':') != NULL)
		uri = argv[0];
	if ((r = bk_uri_parse(uri, &j->uri, errstr)) != 0)
		return r;

	/* The job's file is CUPS's (root:lp): open it before switching users. */
	if (argc == 7) {
		if ((j->in_fd = open(argv[6], O_RDONLY | O_CLOEXEC)) < 0)
			return m2c_fail(errstr, M2C_E_DATA, "cannot open the job's file %s: %s",
			    argv[6], strerror(errno));
	} else
		j->in_fd = STDIN_FILENO;

	path = getenv("MAIL2CUPS_CONF") ? xstrdup(getenv("MAIL2CUPS_CONF")) :
	    xstrdup(SYSCONFDIR "/mail2cups.conf");
	if ((r = conf_load(path, &j->cf, errstr)) != 0) {
		r = M2C_E_CONFIG;
		/* Installed 0755, CUPS runs it as lp, who may read none of it. */
		if (geteuid() != 0 && errstr != NULL && *errstr != NULL &&
		    strstr(*errstr, strerror(EACCES)) != NULL) {
			char *e = *errstr;

			*errstr = xasprintf("%s; the backend runs as uid %u: install it with mode "
			    "0700 so that CUPS runs it as root and it switches to the owner of "
			    "state_dir (see mail2cups-backend(8))", e, (unsigned)geteuid());
			free(e);
		}
		goto out;
	}
	log_set_level(j->cf->log_level);
	for (size_t i = 0; i < j->cf->naccounts; i++)
		if (strcmp(j->cf->accounts[i].name, j->uri.account) == 0)
			j->a = &j->cf->accounts[i];
	if (j->a == NULL) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "the device URI names the account \"%s\", and "
		    "%s has none of that name (lpinfo -v lists the accounts that can send)",
		    j->uri.account, path);
		goto out;
	}
	/* Before any secret, token or state is touched. */
	if ((r = runas_service_user(j->cf, 1, NULL, errstr)) != 0) {
		r = M2C_E_CONFIG;
		goto out;
	}
	if ((r = smtp_settings(j->cf, j->a, &j->set, errstr)) != 0 ||
	    (r = addr_parse_from(j->cf->replies.from ? j->cf->replies.from : j->a->username,
	    &j->from_name, &j->from, errstr)) != 0 || (r = recipient(j, errstr)) != 0)
		goto out;
	scratch = xasprintf("%s/scratch", j->cf->state_dir);
	if ((r = mkdir_p(scratch, 0700, errstr)) != 0) {
		if (errno == EACCES)
			r = m2c_fail(errstr, M2C_E_CONFIG, "cannot use %s as uid %u: install the "
			    "backend with mode 0700 so that CUPS runs it as root and it switches to "
			    "the owner of state_dir (see mail2cups-backend(8))", scratch,
			    (unsigned)geteuid());
		goto out;
	}
	if ((r = state_open(j->cf->state_dir, &j->st, errstr)) != 0) {
		if (r != M2C_E_TEMP && access(j->cf->state_dir, W_OK) != 0)
			r = m2c_fail(errstr, M2C_E_CONFIG, "cannot use %s as uid %u: install the "
			    "backend with mode 0700 so that CUPS runs it as root and it switches to "
			    "the owner of state_dir (see mail2cups-backend(8))", j->cf->state_dir,
			    (unsigned)geteuid());
		goto out;
	}
	if ((r = spool(j, scratch, errstr)) != 0)
		goto out;
	if (bk_terminated)
		goto out;
	if ((r = state_bjob_get(j->st, j->printer, j->id, j->hash, &b, errstr)) != 0)
		goto out;
	if (b.status == STATE_BJOB_SENT) {
		log_info("job %d was sent already (Message-ID <%s>): not sending it again", j->id,
		    b.message_id);
		goto out;
	}

	job_options(j, argv[4], argv[5], &o);
	j->options = popt_describe(&o);
	tags = popt_tags(&o);
	safe = popt_subject_text(j->title && *j->title ? j->title : "Print job");
	j->subject = *tags ? xasprintf("%s %s", safe, tags) : xstrdup(safe);
	j->ctype = content_type();
	j->filename = make_filename(j->title, j->ctype);
	/* A try that died in its session: the same Message-ID again. */
	j->message_id = b.status == STATE_BJOB_SENDING && b.message_id && *b.message_id ?
	    xstrdup(b.message_id) : NULL;
	if (j->message_id == NULL) {
		char *g = g_mime_utils_generate_message_id(strrchr(j->from, '@') + 1);

		j->message_id = xstrdup(g);
		g_free(g);
	}
	if ((r = compose(j, scratch, errstr)) != 0)
		goto out;
	if (j->msg_len > j->set.max_message_size) {
		r = m2c_fail(errstr, M2C_E_LIMIT, "the mail would be %lld bytes, over the limit "
		    "of %lld bytes (%.1f MB, smtp.max_message_size) of the SMTP server of %s",
		    (long long)j->msg_len, (long long)j->set.max_message_size,
		    j->set.max_message_size / (1024.0 * 1024.0), j->a->name);
		goto out;
	}
	fprintf(stderr, "INFO: sending \"%s\" (%lld bytes) to %s through %s\n", j->filename,
	    (long long)j->msg_len, j->rcpt, j->a->name);
	if ((r = state_bjob_sending(j->st, j->printer, j->id, j->hash, j->a->name, j->rcpt,
	    j->message_id, errstr)) != 0)
		goto out;
	if (bk_terminated)
		goto out;
	if ((r = smtp_send_fd(j->cf, j->a, j->from, j->rcpt, j->msg_fd, (size_t)j->msg_len,
	    errstr)) != 0)
		goto out;
	testhook_point("backend-after-send");
	if ((r = state_bjob_sent(j->st, j->printer, j->id, j->hash, errstr)) != 0) {
		/* It went: a retry would send it twice.  Say so, and succeed. */
		log_warn("job %d was sent, but recording it failed (%s): if CUPS runs it again "
		    "it may be sent twice", j->id, errstr && *errstr ? *errstr : m2c_err_name(r));
		r = 0;
	}
	testhook_point("backend-after-record");
	fprintf(stderr, "INFO: sent to %s through %s (Message-ID <%s>)\n", j->rcpt, j->a->name,
	    j->message_id);
out:
	state_bjob_clear(&b);
	free(tags);
	free(safe);
	free(scratch);
	free(path);
	return r;
}

int
main(int argc, char **argv)
{
	struct bk_job j;
	struct sigaction sa;
	char *e = NULL;
	int r, rc;

	setbuf(stderr, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	log_init("mail2cups", 0, LOG_LVL_INFO);
	log_set_sink(log_to_cups, NULL);
	/* Before any secret is read: no core dump may hold one. */
	if (privdrop_no_core_dumps(&e) != 0) {
		fprintf(stderr, "ERROR: %s\n", e);
		free(e);
		return CUPS_BACKEND_FAILED;
	}

	if (argc == 1)
		return discover();
	if (argc < 6 || argc > 7) {
		fprintf(stderr, "Usage: %s job-id user title copies options [file]\n"
		    "INFO: mail2cups is a CUPS backend: set a queue's device URI to "
		    "mail2cups://ACCOUNT/RECIPIENT (see mail2cups-backend(8))\n", argv[0]);
		return CUPS_BACKEND_FAILED;
	}
	memset(&j, 0, sizeof(j));
	j.doc_fd = j.msg_fd = -1;
	g_mime_init();
	r = run_job(&j, argv, argc, &e);
	if (r == 0)
		rc = CUPS_BACKEND_OK;	/* sent, or cancelled by CUPS before it was */
	else
		rc = bk_fail(&j, r, e);
	if (r == 0 && bk_terminated)
		fprintf(stderr, "INFO: cancelled before it was sent\n");
	bk_job_free(&j);
	free(e);
	g_mime_shutdown();
	return rc;
}
