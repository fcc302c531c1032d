/*
 * test-reply.c - reply.c and smtp.c without a server: composing (parsed
 * back with GMime), the queue in a real state database, flushing to a
 * closed port and the rate limit, and smtp_settings' provider defaults.
 * Sending through a real SMTP server is in test-smtp.sh.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "addr.h"
#include "cupsjob.h"
#include "error.h"
#include "log.h"
#include "reply.h"
#include "smtp.h"
#include "state.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/m2c-reply.XXXXXX";
static struct buf logged;	/* what the code logged, one line each */

static void
log_capture(enum log_level level, const char *line, void *arg)
{
	(void)arg;
	buf_appendf(&logged, "%d %s\n", (int)level, line);
}

static void
setup(struct conf *cf, struct conf_account *a)
{
	int k;

	memset(cf, 0, sizeof(*cf));
	memset(a, 0, sizeof(*a));
	cf->state_dir = dir;
	cf->timeout = 5;
	cf->max_attempts = 3;
	cf->replies.rate_limit = 10;
	cf->replies.rate_period = 3600;
	for (k = 0; k < CONF_REPLY_NKINDS; k++) {
		cf->replies.t[k].subject = "Re: ${subject}";
		cf->replies.t[k].body = "Hello ${sender},\n${reason}\n";
	}
	cf->replies.t[CONF_REPLY_PRINTED].subject = "Printed: ${subject} [${queue}]";
	cf->replies.t[CONF_REPLY_PRINTED].body =
	    "Hello ${sender},\nyour files ${files} went to ${queue} as ${jobs}.\n"
	    "Options: ${options}\nNotes: ${notes}\n${release}\n"
	    "-- ${account}/${mailbox} ${unknown} $x ${\n"
	    "\xc3\xa4\xc3\xb6\xc3\xbc \xe2\x82\xac\n";
	a->name = "office";
	a->username = "print@school.example";
	a->mailbox = "INBOX";
	a->reply = (1u << CONF_REPLY_NKINDS) - 1;
}

/* The headers of a composed message (up to the blank line). */
static char *
head_of(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	return xstrndup(msg, end ? (size_t)(end - msg) + 2 : strlen(msg));
}

static GMimeMessage *
parse(const char *msg)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(s);
	return m;
}

static char *
body_of(GMimeMessage *m)
{
	GMimeObject *part = m ? g_mime_message_get_mime_part(m) : NULL;

	if (part == NULL || !GMIME_IS_TEXT_PART(part))
		return NULL;
	return g_mime_text_part_get_text(GMIME_TEXT_PART(part));
}

static int
has_bare_lf(const char *s)
{
	for (; *s; s++)
		if (*s == '\n' && (s[-1] != '\r'))
			return 1;
	return 0;
}

static void
test_compose(void)
{
	struct conf cf;
	struct conf_account a;
	static const int jobs[] = { 12, 13 };
	struct reply_ctx ctx = {
		.to = "bob@example.org", .subject = "Quarterly report",
		.message_id = "abc.123@mail.example.org",
		.references = "<root@x.example> <mid@x.example>",
		.queue = "office", .files = "report.pdf, photo.jpg",
		.options = "duplex, 2 copies", .notes = "tag [color] not allowed",
		.held = 1, .job_ids = jobs, .njobs = 2,
	};
	struct buf out = { 0 };
	GMimeMessage *m;
	char *from = NULL, *err = NULL, *head, *body;
	const char *v;

	setup(&cf, &a);
	is_int(reply_compose(&cf, &a, CONF_REPLY_PRINTED, &ctx, &out, &from, &err), 0,
	    "compose a printed reply");
	if (out.data == NULL) {
		printf("# %s\n", err ? err : "no output");
		free(err);
		return;
	}
	is_str(from, "print@school.example", "envelope sender is the account");
	head = head_of(out.data);
	ok(!has_bare_lf(out.data), "CRLF line ends only");
	has_str(head, "From: print@school.example\r\n", "From header");
	has_str(head, "To: bob@example.org\r\n", "To header");
	has_str(head, "Subject: Printed: Quarterly report [office]\r\n", "Subject rendered");
	has_str(head, "In-Reply-To: <abc.123@mail.example.org>\r\n", "In-Reply-To");
	has_str(head, "<root@x.example> <mid@x.example> <abc.123@mail.example.org>",
	    "References: original ones, then the Message-ID");
	has_str(head, "Auto-Submitted: auto-replied\r\n", "Auto-Submitted");
	has_str(head, "X-Auto-Response-Suppress: All\r\n", "X-Auto-Response-Suppress");
	has_str(head, "@school.example>\r\n", "Message-ID in the From domain");
	has_str(head, "Message-Id: <", "Message-ID header present");
	has_str(head, "Date: ", "Date header");
	has_str(head, "MIME-Version: 1.0", "MIME-Version");
	has_str(head, "Content-Type: text/plain; charset=utf-8", "text/plain utf-8");
	m = parse(out.data);
	ok(m != NULL, "the reply parses");
	body = body_of(m);
	has_str(body, "Hello bob@example.org,", "${sender}");
	has_str(body, "your files report.pdf, photo.jpg went to office as office-12, office-13.",
	    "${files} ${queue} ${jobs}");
	has_str(body, "Options: duplex, 2 copies", "${options}");
	has_str(body, "Notes: tag [color] not allowed", "${notes}");
	has_str(body, "Your job is held. Release it at the printer, or an administrator can "
	    "run: lp -i 12 -H resume\r\n", "${release} for the first job when held");
	has_str(body, "Your job is held. Release it at the printer, or an administrator can "
	    "run: lp -i 13 -H resume\r\n", "${release} for the second job");
	has_str(body, "-- office/print@school.example ${unknown} $x ${", "account, mailbox (its address); others kept");
	has_str(body, "\xc3\xa4\xc3\xb6\xc3\xbc \xe2\x82\xac", "UTF-8 body text round-trips");
	has_str(head, "Content-Transfer-Encoding: quoted-printable", "non-ASCII body: QP");
	g_free(body);
	if (m != NULL)
		g_object_unref(m);
	free(head);
	free(from);
	from = NULL;
	buf_free(&out);

	/* Not held: no release text; replies.from; no Message-ID given. */
	ctx.held = 0;
	ctx.message_id = NULL;
	ctx.references = NULL;
	cf.replies.from = "noreply@print.example";
	is_int(reply_compose(&cf, &a, CONF_REPLY_PRINTED, &ctx, &out, &from, &err), 0,
	    "compose without hold");
	is_str(from, "noreply@print.example", "replies.from is the sender");
	ok(out.data && strstr(out.data, "lp -i") == NULL, "no release text when not held");
	ok(out.data && strstr(out.data, "In-Reply-To") == NULL &&
	    strstr(out.data, "References") == NULL, "no In-Reply-To/References without an id");
	ok(out.data && strstr(out.data, "@print.example>") != NULL,
	    "Message-ID in replies.from's domain");
	free(from);
	from = NULL;
	buf_free(&out);

	/* replies.from with a display name: the envelope gets the address. */
	cf.replies.from = "\"Print Room\" <print@print.example>";
	is_int(reply_compose(&cf, &a, CONF_REPLY_PRINTED, &ctx, &out, &from, &err), 0,
	    "compose with a display name in replies.from");
	is_str(from, "print@print.example", "... the envelope sender is the address");
	ok(out.data && strstr(out.data, "From: Print Room <print@print.example>") != NULL,
	    "... the From header has the name");
	free(from);
	from = NULL;
	buf_free(&out);
	cf.replies.from = "noreply@print.example";

	/* A hostile subject: CRLF header injection, controls, non-ASCII, bad UTF-8. */
	ctx.subject = "Hi\r\nBcc: evil@attacker.example\r\n\x01\x1b[31m Gr\xc3\xbc\xc3\x9f" "e \xff!";
	ctx.message_id = "x@y>\r\nBcc: evil@attacker.example";
	ctx.references = "<ok@ref>\r\nBcc: evil@attacker.example <a b@c>";
	is_int(reply_compose(&cf, &a, CONF_REPLY_PRINTED, &ctx, &out, &from, &err), 0,
	    "compose with a hostile subject");
	head = out.data ? head_of(out.data) : xstrdup("");
	ok(strstr(head, "\nBcc:") == NULL && !str_has_prefix(head, "Bcc:"),
	    "no injected header");
	has_str(head, "Subject: Printed: Hi  Bcc: evil@attacker.example  [31m",
	    "the injection stays inside the Subject, controls dropped");
	ok(!has_bare_lf(head), "headers: CRLF only");
	has_str(head, "=?", "non-ASCII subject is RFC 2047 encoded");
	ok(strstr(head, "In-Reply-To") == NULL, "a malformed Message-ID is not used");
	has_str(head, "References: <ok@ref>\r\n", "only well-formed References kept");
	m = out.data ? parse(out.data) : NULL;
	v = m ? g_mime_message_get_subject(m) : NULL;
	has_str(v, "Gr\xc3\xbc\xc3\x9f" "e", "decoded subject keeps the UTF-8 text");
	ok(v && strchr(v, '\r') == NULL && strchr(v, '\n') == NULL && strchr(v, '\x1b') == NULL &&
	    strchr(v, '\x01') == NULL, "decoded subject has no CR, LF or controls");
	ok(v && g_utf8_validate(v, -1, NULL), "decoded subject is valid UTF-8");
	if (m != NULL)
		g_object_unref(m);
	free(head);
	free(from);
	from = NULL;
	buf_free(&out);

	/* A very long subject is cut; a long References list is bounded. */
	{
		struct buf refs = { 0 }, subj = { 0 };
		int i, n = 0;
		const char *p;

		for (i = 0; i < 50; i++)
			buf_appendf(&refs, "<r%d@x.example> ", i);
		for (i = 0; i < 500; i++)
			buf_append(&subj, "\xc3\xa9", 2);
		ctx.references = refs.data;
		ctx.subject = subj.data;
		ctx.message_id = "last@x.example";
		is_int(reply_compose(&cf, &a, CONF_REPLY_ACCEPTED, &ctx, &out, &from, &err),
		    0, "compose with 50 references and a long subject");
		head = out.data ? head_of(out.data) : xstrdup("");
		has_str(head, "<r0@x.example>", "the thread root is kept");
		has_str(head, "<last@x.example>", "the replied-to id is kept");
		ok(strstr(head, "<r20@x.example>") == NULL, "the middle is left out");
		p = strstr(head, "References:");
		for (; p && (p = strchr(p + 1, '<')) != NULL && p < strstr(head, "Auto-Submitted");)
			n++;
		ok(n > 0 && n <= 10, "at most 10 ids in References (%d)", n);
		m = out.data ? parse(out.data) : NULL;
		v = m ? g_mime_message_get_subject(m) : NULL;
		ok(v && strlen(v) <= 310 && g_utf8_validate(v, -1, NULL),
		    "long subject cut at a character boundary");
		if (m != NULL)
			g_object_unref(m);
		free(head);
		free(from);
		from = NULL;
		buf_free(&out);
		buf_free(&refs);
		buf_free(&subj);
	}

	/* Errors. */
	ctx.to = "bob@example.org>\r\nBcc: x@y";
	is_int(reply_compose(&cf, &a, CONF_REPLY_ACCEPTED, &ctx, &out, &from, &err),
	    M2C_E_DATA, "a recipient that is not a plain address is refused");
	ok(from == NULL && out.len == 0, "nothing written on failure");
	ctx.to = "bob@example.org";
	cf.replies.t[CONF_REPLY_REJECTED].body = NULL;
	is_int(reply_compose(&cf, &a, CONF_REPLY_REJECTED, &ctx, &out, &from, &err),
	    M2C_E_CONFIG, "no template is a config error");
	has_str(err, "replies.rejected", "the error names the setting");
	free(err);
	buf_free(&out);
}

static void
test_settings(void)
{
	static const struct {
		enum conf_provider prov;
		enum conf_cloud cloud;
		const char *host;
		int port;
		enum conf_security sec;
	} cases[] = {
		{ CONF_PROVIDER_MICROSOFT, CONF_CLOUD_GLOBAL, "smtp.office365.com", 587, CONF_SEC_STARTTLS },
		{ CONF_PROVIDER_MICROSOFT, CONF_CLOUD_GCCHIGH, "smtp.office365.us", 587, CONF_SEC_STARTTLS },
		{ CONF_PROVIDER_MICROSOFT, CONF_CLOUD_DOD, "smtp.office365.us", 587, CONF_SEC_STARTTLS },
		{ CONF_PROVIDER_MICROSOFT, CONF_CLOUD_CHINA, "smtp.partner.outlook.cn", 587, CONF_SEC_STARTTLS },
		{ CONF_PROVIDER_GOOGLE, CONF_CLOUD_GLOBAL, "smtp.gmail.com", 465, CONF_SEC_SSL },
	};
	struct conf cf;
	struct conf_account a;
	struct conf_smtp s;
	char *err = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		setup(&cf, &a);
		a.oauth.present = 1;
		a.oauth.provider = cases[i].prov;
		a.oauth.cloud = cases[i].cloud;
		a.auth = CONF_AUTH_XOAUTH2;
		a.login_user = "admin@school.example";
		is_int(smtp_settings(&cf, &a, &s, &err), 0, "settings %zu", i);
		is_str(s.host, cases[i].host, "provider host %zu", i);
		is_int(s.port, cases[i].port, "provider port %zu", i);
		is_int(s.security, cases[i].sec, "provider security %zu", i);
		is_int(s.auth, CONF_SMTP_XOAUTH2, "OAuth account: xoauth2 %zu", i);
		is_str(s.username, "admin@school.example", "xoauth2 user is login_user %zu", i);
	}

	/* A password account with no smtp.host: a config error with the fix. */
	setup(&cf, &a);
	a.auth = CONF_AUTH_PLAIN;
	is_int(smtp_settings(&cf, &a, &s, &err), M2C_E_CONFIG, "no host, no provider");
	has_str(err, "smtp.host", "the error says to set smtp.host");
	free(err);
	err = NULL;

	/* A local relay: auth none by default, port from security. */
	cf.smtp.host = "127.0.0.1";
	cf.smtp.security = CONF_SEC_NONE;
	is_int(smtp_settings(&cf, &a, &s, &err), 0, "loopback relay");
	is_int(s.auth, CONF_SMTP_NONE, "password account: auth none");
	is_int(s.port, 25, "none: port 25");
	cf.smtp.security = CONF_SEC_SSL;
	is_int(smtp_settings(&cf, &a, &s, &err), 0, "ssl relay");
	is_int(s.port, 465, "ssl: port 465");
	cf.smtp.security = CONF_SEC_STARTTLS;
	is_int(smtp_settings(&cf, &a, &s, &err), 0, "starttls relay");
	is_int(s.port, 587, "starttls: port 587");
	cf.smtp.host = "mail.example.org";
	cf.smtp.security = CONF_SEC_NONE;
	is_int(smtp_settings(&cf, &a, &s, &err), M2C_E_CONFIG,
	    "security none to a remote host is refused");
	has_str(err, "loopback", "and says why");
	free(err);
	err = NULL;
	cf.smtp.security = CONF_SEC_STARTTLS;
	cf.smtp.auth = CONF_SMTP_XOAUTH2;
	cf.smtp.auth_set = 1;
	is_int(smtp_settings(&cf, &a, &s, &err), M2C_E_CONFIG,
	    "xoauth2 without an OAuth account is refused");
	free(err);
	err = NULL;
	cf.smtp.auth = CONF_SMTP_PLAIN;
	is_int(smtp_settings(&cf, &a, &s, &err), M2C_E_CONFIG, "plain without a password file");
	has_str(err, "password_file", "names password_file");
	free(err);
	err = NULL;
	cf.smtp.password_file = "/nonexistent";
	is_int(smtp_settings(&cf, &a, &s, &err), 0, "plain with a password file");
	is_str(s.username, "print@school.example", "plain user defaults to the username");
	is_int(addr_check("recipient", "a@b", NULL), 0, "plain address ok");
	is_int(addr_check("recipient", "a b@c", NULL), M2C_E_DATA, "space refused");
	is_int(addr_check("recipient", "nobody", NULL), M2C_E_DATA, "no @ refused");
	is_int(addr_check("recipient", "<a@b>", NULL), M2C_E_DATA, "<> refused");
}

/* Count account's replies with status. */
static size_t
count(struct state *st, const char *acct, enum state_reply_status status)
{
	struct state_reply *l = NULL;
	size_t n = 0;

	if (state_reply_list(st, acct, status, &l, &n, NULL) != 0)
		return (size_t)-1;
	state_reply_list_free(&l, n);
	return n;
}

static void
test_queue_flush(void)
{
	struct conf cf;
	struct conf_account a;
	struct state *st = NULL;
	struct state_reply *l = NULL;
	static const int jobs[] = { 41 };
	struct reply_ctx ctx = { .to = "carol@example.org", .subject = "S\xff", .queue = "q",
	    .job_ids = jobs, .njobs = 1 };
	json_t *j;
	size_t n = 0;
	int waiting = -1, r;
	char *err = NULL;

	setup(&cf, &a);
	if (state_open(dir, &st, &err) != 0) {
		ok(0, "state_open: %s", err);
		free(err);
		return;
	}
	a.reply = 1u << CONF_REPLY_ACCEPTED;
	is_int(reply_queue(st, &cf, &a, CONF_REPLY_PRINTED, &ctx, &err), 0,
	    "a kind the account does not send: nothing, no error");
	is_int(count(st, "office", STATE_REPLY_WAITING), 0, "not queued");
	a.reply |= 1u << CONF_REPLY_PRINTED;
	is_int(reply_queue(st, &cf, &a, CONF_REPLY_PRINTED, &ctx, &err), 0, "queue printed");
	is_int(count(st, "office", STATE_REPLY_WAITING), 1, "printed waits for its jobs");
	is_int(state_reply_list(st, "office", STATE_REPLY_WAITING, &l, &n, &err), 0, "list");
	j = n == 1 ? json_loads(l[0].ctx, 0, NULL) : NULL;
	ok(j != NULL, "ctx is JSON");
	is_str(json_string_value(json_object_get(j, "to")), "carol@example.org", "ctx to");
	is_str(json_string_value(json_object_get(j, "queue")), "q", "ctx queue");
	is_int(json_integer_value(json_array_get(json_object_get(j, "job_ids"), 0)), 41,
	    "ctx job ids");
	ok(g_utf8_validate(json_string_value(json_object_get(j, "subject")), -1, NULL),
	    "bad UTF-8 stored as valid UTF-8");
	json_decref(j);
	state_reply_list_free(&l, n);
	is_int(reply_queue(st, &cf, &a, CONF_REPLY_ACCEPTED, &ctx, &err), 0, "queue accepted");
	is_int(count(st, "office", STATE_REPLY_DUE), 1, "accepted is due at once");
	ctx.to = "not an address";
	is_int(reply_queue(st, &cf, &a, CONF_REPLY_ACCEPTED, &ctx, &err), M2C_E_DATA,
	    "a bad recipient is refused");
	free(err);
	err = NULL;
	ctx.to = "carol@example.org";

	/*
	 * Flush with CUPS unreachable and the SMTP port closed: the printed
	 * reply keeps waiting; the accepted one fails to send (unavailable),
	 * counts an attempt and stays due.
	 */
	cups_job_set_server("/nonexistent/cups.sock");
	cups_job_set_timeouts(1000, 1000);
	cf.smtp.host = "127.0.0.1";
	cf.smtp.port = 1;
	cf.smtp.security = CONF_SEC_NONE;
	r = reply_flush(&cf, &a, st, &waiting, &err);
	ok(m2c_err_is_temporary(r), "flush: temporary error (%s)", m2c_err_name(r));
	has_str(err, "127.0.0.1:1", "the error names the server");
	free(err);
	err = NULL;
	is_int(waiting, 1, "one printed reply still waiting");
	is_int(count(st, "office", STATE_REPLY_DUE), 1, "the accepted reply is kept");
	is_int(state_reply_list(st, "office", STATE_REPLY_DUE, &l, &n, &err), 0, "list due");
	is_int(n == 1 ? l[0].attempts : -1, 1, "one attempt counted");
	ok(n == 1 && l[0].last_error != NULL, "with its error");
	state_reply_list_free(&l, n);
	cf.max_attempts = 2;
	r = reply_flush(&cf, &a, st, &waiting, &err);
	free(err);
	err = NULL;
	is_int(count(st, "office", STATE_REPLY_DUE), 0, "after max_attempts: not due");
	has_str(logged.data, "0 reply (accepted) to carol@example.org dropped after 2 attempts",
	    "the drop is logged as an error");
	is_int(count(st, "office", STATE_REPLY_DROPPED), 1, "dropped");

	/* The rate limit: one sent already, limit 1: the next is dropped unsent. */
	is_int(state_reply_add(st, "other", "accepted", "Carol@Example.org", "{}",
	    STATE_REPLY_SENT, 0, NULL, &err), 0, "a sent reply to carol");
	is_int(state_reply_list(st, "other", STATE_REPLY_SENT, &l, &n, &err), 0, "list sent");
	if (n == 1)
		state_reply_set(st, l[0].id, STATE_REPLY_SENT, NULL, NULL, NULL,
		    (int64_t)time(NULL), NULL);
	state_reply_list_free(&l, n);
	cf.replies.rate_limit = 1;
	is_int(reply_queue(st, &cf, &a, CONF_REPLY_ACCEPTED, &ctx, &err), 0, "queue another");
	is_int(reply_flush(&cf, &a, st, &waiting, &err), M2C_E_UNAVAIL,
	    "flush: only CUPS is unavailable");
	free(err);
	err = NULL;
	is_int(count(st, "office", STATE_REPLY_DROPPED), 2, "over the rate limit: dropped");
	is_int(state_reply_list(st, "office", STATE_REPLY_DROPPED, &l, &n, &err), 0, "list");
	is_int(n == 2 ? l[1].attempts : -1, 0, "dropped without an attempt");
	has_str(n == 2 ? l[1].last_error : NULL, "rate limit", "the reason is the rate limit");
	has_str(logged.data, "1 reply (accepted) to carol@example.org dropped: rate limit",
	    "the rate-limit drop is logged as a warning");
	state_reply_list_free(&l, n);
	state_close(&st);
	free(err);
}

/*
 * What the message itself was found to be is the sender's business and is
 * said in plain words; what a converter, CUPS or the configuration said is
 * not (#10-5 kept, #10 replies follow-up).
 */
static void
test_sender_problem(void)
{
	struct mime_attachment att[] = {
		{ .part = "2", .filename = "report.pdf", .reason = "report.pdf: arrived damaged" },
		{ .part = "3", .filename = "big.pdf",
		  .reason = "big.pdf: larger than the limit of 1024 bytes" },
		{ .part = "4", .filename = "notes.docx",
		  .reason = "notes.docx: Word documents are not printed; send a PDF" },
		{ .part = "5", .filename = "sheet.ods", .printable = 1, .convert = 1,
		  .path = "/var/lib/mail2cups/scratch/part.x" },
		{ .part = "6", .filename = "late.png",
		  .reason = "late.png: not printed: big.pdf (part 3) is larger than the limit of "
		  "1024 bytes; send a smaller file or raise the attachment size limit" },
	};
	struct mime_message m = { 0 };
	char *s, *pub;

	m.att = att;
	m.natt = ARRAY_SIZE(att);
	m.problem = "big.pdf (part 3) is larger than the limit of 1024 bytes; send a smaller "
	    "file or raise the attachment size limit";
	s = reply_sender_problem(&m);
	is_str(s, "report.pdf arrived damaged; send it again; big.pdf: larger than the limit "
	    "of 1024 bytes; send a smaller file; notes.docx: Word documents are not printed; "
	    "send a PDF; sheet.ods could not be converted for printing; late.png: not printed",
	    "each attachment in plain words; no path, no setting");
	pub = reply_public_reason(CONF_REPLY_FAILED, s, "20261206-abcdef");
	is_str(pub, "report.pdf arrived damaged; send it again; big.pdf: larger than the limit "
	    "of 1024 bytes; send a smaller file; notes.docx: Word documents are not printed; "
	    "send a PDF; sheet.ods could not be converted for printing; late.png: not printed "
	    "(ref 20261206-abcdef: the printer's administrator can look it up in the log)",
	    "... with the reference");
	free(pub);
	free(s);

	m.natt = 0;
	m.problem = "the message has more than 200 MIME parts; it is not processed";
	s = reply_sender_problem(&m);
	is_str(s, "the message has more than 200 MIME parts; it is not processed",
	    "a limit of the message itself is said");
	free(s);
	m.problem = NULL;
	s = reply_sender_problem(&m);
	is_str(s, "the message has no attachment", "no attachment at all");
	free(s);
	att[0].reason = NULL;
	m.att = att;
	m.natt = 1;
	ok(reply_sender_problem(&m) == NULL, "nothing to say: NULL");
	pub = reply_public_reason(CONF_REPLY_FAILED, NULL, "20261206-abcdef");
	has_str(pub, "could not be printed (ref 20261206-abcdef", "... then the plain sentence");
	free(pub);
	pub = reply_public_reason(CONF_REPLY_REJECTED, "x.pdf arrived damaged", "20261206-abcdef");
	ok(strstr(pub, "x.pdf") == NULL, "a rejected reply never takes such words");
	free(pub);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 99;
	}
	log_init("test-reply", 0, LOG_LVL_INFO);
	log_set_sink(log_capture, NULL);
	test_compose();
	test_settings();
	test_queue_flush();
	test_sender_problem();
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	log_set_sink(NULL, NULL);
	buf_free(&logged);
	return tap_done();
}
