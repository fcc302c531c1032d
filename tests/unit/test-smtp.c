/*
 * test-smtp.c - a driver for test-smtp.sh: sends through smtp.c and
 * reply.c to a real SMTP server (tests/smtp/sink.py) and prints what
 * happened, for the script to check.
 *
 *   test-smtp send|flush|check key=value...
 *     state=DIR host=H port=P security=ssl|starttls|none ca=FILE
 *     auth=none|plain|login|xoauth2 password_file=F smtp_user=U
 *     user=ADDR        the account's username (default print@example.org)
 *     token=T          seed the account's token store with access token T
 *     to=ADDR          the recipient (default bob@example.org)
 *     n=N              flush: queue N replies first (default 1)
 *     kind=accepted|printed   what they are (default accepted)
 *     jobs=ID,ID       printed: the CUPS job ids; held=1: the jobs are held
 *     cups=SERVER      the CUPS server to ask about jobs
 *     rate_limit=N max_attempts=N
 *
 * Output, one per line: "rc=CODE NAME" (the M2C_E_* number and
 * m2c_err_name), "err=TEXT" (the error message, if any); flush adds
 * "sent=N due=N dropped=N waiting=N" first and then, for each reply
 * sent or due, "reply=KIND LAST_ERROR".
 * Logging goes to stderr at debug level, so the script can check that no
 * secret reaches it.
 */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cupsjob.h"
#include "error.h"
#include "log.h"
#include "oauth.h"
#include "reply.h"
#include "smtp.h"
#include "state.h"
#include "tokenstore.h"
#include "util.h"

#define ACCT "acct"

static const char *
arg(int argc, char **argv, const char *key, const char *def)
{
	size_t n = strlen(key);
	int i;

	for (i = 2; i < argc; i++)
		if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	return def;
}

static int
seed_token(const char *state_dir, const char *token, char **errstr)
{
	struct tokenstore *ts = NULL;
	struct oauth_tokens t = { 0 };
	int r;

	if ((r = tokenstore_open(state_dir, ACCT, NULL, &ts, errstr)) != 0)
		return r;
	t.access_token = xstrdup(token);
	t.expires_at = time(NULL) + 3600;
	r = tokenstore_save(ts, &t, errstr);
	oauth_tokens_clear(&t);
	tokenstore_close(&ts);
	return r;
}

/* How many replies have status; with show, print each one's kind and error. */
static size_t
count(struct state *st, enum state_reply_status status, int show)
{
	struct state_reply *l = NULL;
	size_t n = 0, i;

	if (state_reply_list(st, ACCT, status, &l, &n, NULL) != 0)
		return 0;
	for (i = 0; i < n && show; i++)
		printf("reply=%s %s\n", l[i].kind, l[i].last_error ? l[i].last_error : "");
	state_reply_list_free(&l, n);
	return n;
}

int
main(int argc, char **argv)
{
	struct conf cf = { 0 };
	struct conf_account a = { 0 };
	struct reply_ctx ctx = { 0 };
	struct state *st = NULL;
	struct buf msg = { 0 };
	const char *sec, *auth, *token;
	enum conf_reply_kind kind;
	const char *jobs_arg;
	char *err = NULL, *from = NULL, *endp;
	int r = 0, i, n, waiting = 0, jobs[16];

	if (argc < 2 || (strcmp(argv[1], "send") != 0 && strcmp(argv[1], "flush") != 0 &&
	    strcmp(argv[1], "check") != 0)) {
		fprintf(stderr, "usage: test-smtp send|flush|check key=value...\n");
		return 64;
	}
	log_init("test-smtp", 0, LOG_LVL_DEBUG);
	cf.state_dir = (char *)arg(argc, argv, "state", "/tmp");
	cf.timeout = 10;
	cf.max_attempts = atoi(arg(argc, argv, "max_attempts", "3"));
	cf.smtp.host = (char *)arg(argc, argv, "host", "127.0.0.1");
	cf.smtp.port = atoi(arg(argc, argv, "port", "0"));
	sec = arg(argc, argv, "security", "none");
	cf.smtp.security = strcmp(sec, "ssl") == 0 ? CONF_SEC_SSL :
	    strcmp(sec, "starttls") == 0 ? CONF_SEC_STARTTLS : CONF_SEC_NONE;
	cf.smtp.ca_file = (char *)arg(argc, argv, "ca", NULL);
	auth = arg(argc, argv, "auth", "none");
	cf.smtp.auth_set = 1;
	cf.smtp.auth = strcmp(auth, "plain") == 0 ? CONF_SMTP_PLAIN :
	    strcmp(auth, "login") == 0 ? CONF_SMTP_LOGIN :
	    strcmp(auth, "xoauth2") == 0 ? CONF_SMTP_XOAUTH2 : CONF_SMTP_NONE;
	cf.smtp.password_file = (char *)arg(argc, argv, "password_file", NULL);
	cf.smtp.username = (char *)arg(argc, argv, "smtp_user", NULL);
	cf.replies.rate_limit = atoi(arg(argc, argv, "rate_limit", "10"));
	cf.replies.rate_period = 3600;
	for (i = 0; i < CONF_REPLY_NKINDS; i++) {
		cf.replies.t[i].subject = "Your print: ${subject}";
		cf.replies.t[i].body = "Hello ${sender},\n.\n.. dots stay\n${files} went to ${queue} "
		    "as ${jobs}.\n${release}\nReason: ${reason}\n";
	}
	a.name = ACCT;
	a.username = (char *)arg(argc, argv, "user", "print@example.org");
	a.mailbox = "INBOX";
	a.reply = (1u << CONF_REPLY_NKINDS) - 1;
	if (cf.smtp.auth == CONF_SMTP_XOAUTH2) {
		a.oauth.present = 1;
		a.oauth.provider = CONF_PROVIDER_GENERIC;
		a.auth = CONF_AUTH_XOAUTH2;
	} else {
		a.auth = CONF_AUTH_PLAIN;
	}
	ctx.to = arg(argc, argv, "to", "bob@example.org");
	ctx.subject = "Caf\xc3\xa9 menu";
	ctx.message_id = "orig.1@example.org";
	ctx.files = "menu.pdf";
	ctx.queue = "office";
	kind = strcmp(arg(argc, argv, "kind", "accepted"), "printed") == 0 ?
	    CONF_REPLY_PRINTED : CONF_REPLY_ACCEPTED;
	jobs_arg = arg(argc, argv, "jobs", "");
	while (*jobs_arg && ctx.njobs < ARRAY_SIZE(jobs)) {
		jobs[ctx.njobs++] = (int)strtol(jobs_arg, &endp, 10);
		jobs_arg = *endp == ',' ? endp + 1 : endp;
		if (endp == jobs_arg && *endp != '\0')
			break;
	}
	ctx.job_ids = jobs;
	ctx.held = atoi(arg(argc, argv, "held", "0"));
	cups_job_set_server(arg(argc, argv, "cups", "/nonexistent/cups.sock"));

	if ((token = arg(argc, argv, "token", NULL)) != NULL &&
	    (r = seed_token(cf.state_dir, token, &err)) != 0)
		goto out;
	if (strcmp(argv[1], "check") == 0) {
		char *where = NULL;

		r = smtp_check(&cf, &a, &where, &err);
		printf("where=%s\n", where ? where : "");
		free(where);
		goto out;
	}
	if (strcmp(argv[1], "send") == 0) {
		if ((r = reply_compose(&cf, &a, CONF_REPLY_ACCEPTED, &ctx, &msg, &from, &err)) == 0)
			r = smtp_send(&cf, &a, from, ctx.to, msg.data, msg.len, &err);
		goto out;
	}
	if ((r = state_open(cf.state_dir, &st, &err)) != 0)
		goto out;
	n = atoi(arg(argc, argv, "n", "1"));
	for (i = 0; i < n && r == 0; i++)
		r = reply_queue(st, &cf, &a, kind, &ctx, &err);
	if (r == 0)
		r = reply_flush(&cf, &a, st, &waiting, &err);
	printf("sent=%zu due=%zu dropped=%zu waiting=%d\n", count(st, STATE_REPLY_SENT, 0),
	    count(st, STATE_REPLY_DUE, 0), count(st, STATE_REPLY_DROPPED, 0), waiting);
	count(st, STATE_REPLY_SENT, 1);
	count(st, STATE_REPLY_DUE, 1);
out:
	printf("rc=%d %s\n", r, r == 0 ? "ok" : m2c_err_name(r));
	if (err != NULL)
		printf("err=%s\n", err);
	state_close(&st);
	buf_free(&msg);
	free(from);
	free(err);
	return 0;
}
