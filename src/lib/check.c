/* check.c - `mail2cups check`: try an account's every part; see check.h. */
#include "m2c-config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cupsjob.h"
#include "error.h"
#include "imap.h"
#include "log.h"
#include "oauth.h"
#include "poller.h"
#include "signin.h"
#include "smtp.h"
#include "util.h"

/* Where one account's check stands. */
struct check {
	const struct conf *cf;
	const struct conf_account *a;
	FILE *out;
	int first;		/* the first failure's code, 0 so far */
};

static const char *const step_label[] = {
	[CHECK_STEP_CONFIG] = "config",
	[CHECK_STEP_CUPS] = "CUPS queue",
	[CHECK_STEP_SIGNIN] = "sign-in",
	[CHECK_STEP_IMAP] = "IMAP",
	[CHECK_STEP_MAILBOX] = "mailbox",
	[CHECK_STEP_SMTP] = "replies",
	[CHECK_STEP_BACKEND] = "CUPS backend",
};

/* "NAME: label ....... " (the label and its dots are 15 columns). */
static void
put_head(struct check *c, enum check_step step)
{
	static const char dots[] = "...............";
	const char *l = step_label[step];
	int n = 15 - 1 - (int)strlen(l);

	fprintf(c->out, "%s: %s %.*s ", c->a->name, l, n > 0 ? n : 1, dots);
}

static void __attribute__((format(printf, 3, 4)))
put_ok(struct check *c, enum check_step step, const char *fmt, ...)
{
	va_list ap;

	put_head(c, step);
	fputs("ok", c->out);
	if (fmt != NULL) {
		fputs(" (", c->out);
		va_start(ap, fmt);
		vfprintf(c->out, fmt, ap);
		va_end(ap);
		fputc(')', c->out);
	}
	fputc('\n', c->out);
}

static void
put_warning(struct check *c, const char *text)
{
	fprintf(c->out, "    warning: %s\n", text);
}

/* A failed step: the message, the fix, and the first failure remembered. */
static void
put_failed(struct check *c, enum check_step step, int err, const char *text)
{
	char *fix;

	if (err == 0)
		err = M2C_E_TEMP;
	if (text == NULL)
		text = m2c_err_name(err);
	fix = check_fix(c->a, step, err, text);
	put_head(c, step);
	fprintf(c->out, "FAILED: %s\n    fix: %s\n", text, fix);
	free(fix);
	if (c->first == 0)
		c->first = err;
}

static void
put_skipped(struct check *c, enum check_step step, const char *why)
{
	put_head(c, step);
	fprintf(c->out, "skipped (%s)\n", why);
}

/* ------------------------------------------------------------------ fixes */

/*
 * The host is, or ends in, one of Microsoft's IMAP domains (the host, not
 * the provider: a test or proxy host speaks its own rules).
 */
static int
is_microsoft_host(const struct conf_account *a)
{
	static const char *const domains[] = {
		"office365.com", "office365.us", "outlook.com", "outlook.cn",
	};
	size_t hl, dl;

	if (a->host == NULL)
		return 0;
	hl = strlen(a->host);
	for (size_t i = 0; i < ARRAY_SIZE(domains); i++) {
		dl = strlen(domains[i]);
		if (hl >= dl && str_casecmp(a->host + hl - dl, domains[i]) == 0 &&
		    (hl == dl || a->host[hl - dl - 1] == '.'))
			return 1;
	}
	return 0;
}

/* "XOAUTH2", "PLAIN": the SASL name of the account's mechanism. */
static void
mech_name(const struct conf_account *a, char *buf, size_t size)
{
	const char *n = conf_auth_name(a->auth);
	size_t i;

	for (i = 0; i + 1 < size && n[i]; i++)
		buf[i] = (char)toupper((unsigned char)n[i]);
	buf[i] = '\0';
}

static const char *
login_user(const struct conf_account *a)
{
	return a->login_user ? a->login_user : a->username;
}

/* Exchange's "NO AUTHENTICATE failed.": the causes that fit the account. */
static void
fix_authenticate_failed(struct buf *b, const struct conf_account *a)
{
	const char *client_id = a->oauth.client_id ? a->oauth.client_id : "<client_id>";

	buf_appendf(b, "Exchange refused the token (\"AUTHENTICATE failed.\"). The usual causes: "
	    "(1) IMAP is turned off for the mailbox: Set-CASMailbox -Identity %s "
	    "-ImapEnabled $true (Exchange Online PowerShell; the admin center: Mail > "
	    "Manage email apps > IMAP)", a->username);
	if (a->oauth.flow == CONF_FLOW_CLIENT_CREDENTIALS) {
		buf_appendf(b, "; (2) the app may not open the mailbox (app-only access): "
		    "New-ServicePrincipal -AppId %s -ObjectId <object id of its Enterprise "
		    "application>, then Add-MailboxPermission -Identity %s -User <that service "
		    "principal> -AccessRights FullAccess", client_id, a->username);
	} else {
		if (str_casecmp(login_user(a), a->username) != 0)
			buf_appendf(b, "; (2) %s may not open the shared mailbox: "
			    "Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess",
			    login_user(a), a->username, login_user(a));
		buf_appendf(b, "; (%d) the token is for another account (someone else, an "
		    "admin, signed in): run mail2cups-oauth login %s and sign in as %s",
		    str_casecmp(login_user(a), a->username) != 0 ? 3 : 2, a->name,
		    login_user(a));
	}
}

static void
fix_cups(struct buf *b, const struct conf_account *a, int err)
{
	const char *q = a->printer ? a->printer : "QUEUE";

	switch (err) {
	case M2C_E_NOTFOUND:
	case M2C_E_CONFIG:
		buf_appendf(b, "set printer to a queue that `lpstat -p` lists, or create "
		    "queue %s (lpadmin -p %s -E -v URI -m everywhere)", q, q);
		break;
	case M2C_E_TEMP:
		buf_appendf(b, "let the queue accept jobs: cupsaccept %s", q);
		break;
	case M2C_E_UNAVAIL:
	case M2C_E_TIMEOUT:
		buf_appendf(b, "start CUPS (systemctl start cups), or set cups_server to "
		    "where it listens (`lpstat -r` says whether it runs)");
		break;
	case M2C_E_SERVER:
		buf_appendf(b, "allow this user on the queue: lpadmin -p %s -u allow:all, "
		    "and check the policy in cupsd.conf", q);
		break;
	default:
		buf_appendf(b, "see `lpstat -l -p %s` and CUPS' error_log", q);
		break;
	}
}

static void
fix_signin(struct buf *b, const struct conf_account *a, int err)
{
	switch (err) {
	case M2C_E_AUTH:
		if (a->oauth.flow == CONF_FLOW_CLIENT_CREDENTIALS)
			buf_appendf(b, "check client_id, the client secret or certificate, and "
			    "that the app has the application permission for IMAP "
			    "(IMAP.AccessAsApp) with admin consent");
		else
			buf_appendf(b, "sign in: mail2cups-oauth login %s, as %s", a->name,
			    login_user(a));
		break;
	case M2C_E_UNAVAIL:
	case M2C_E_TIMEOUT:
	case M2C_E_TLS:
		buf_appendf(b, "let this machine reach the identity provider over HTTPS "
		    "(port 443; Microsoft: login.microsoftonline.com, or your cloud's), "
		    "through https_proxy if there is a proxy");
		break;
	case M2C_E_CONFIG:
	case M2C_E_NOTSUP:
		buf_appendf(b, "fix the oauth settings named in the message, in the config file");
		break;
	default:
		buf_appendf(b, "try again; if it persists, run mail2cups-oauth status %s", a->name);
		break;
	}
}

static void
fix_imap(struct buf *b, const struct conf_account *a, int err, const char *text)
{
	char mech[16];

	mech_name(a, mech, sizeof(mech));
	switch (err) {
	case M2C_E_AUTH:
		if (strstr(text, "AUTHENTICATE failed") != NULL && poller_is_oauth(a))
			fix_authenticate_failed(b, a);
		else if (poller_is_oauth(a))
			buf_appendf(b, "the server refused the token: sign in again "
			    "(mail2cups-oauth login %s) as %s", a->name, login_user(a));
		else
			buf_appendf(b, "check username (%s) and the password in password_file "
			    "(%s)", login_user(a), a->password_file ? a->password_file : "unset");
		break;
	case M2C_E_NOTSUP:
		if (poller_is_oauth(a))
			buf_appendf(b, "the server offers no %s here: check host and security "
			    "(Microsoft 365: outlook.office365.com, 993, ssl)", mech);
		else
			buf_appendf(b, "the server offers no %s here: set auth to a mechanism "
			    "it offers (mail2cups -v check shows its CAPABILITY)", mech);
		break;
	case M2C_E_TLS:
		if (strstr(text, "certificate") != NULL)
			buf_appendf(b, "set ca_file to the CA of a server with a private CA, or "
			    "host to a name on the server's certificate (verification is never "
			    "turned off)");
		else
			buf_appendf(b, "make port and security match: 993 with security = "
			    "\"ssl\", 143 with \"starttls\"");
		break;
	case M2C_E_UNAVAIL:
	case M2C_E_TIMEOUT:
		buf_appendf(b, "check host (%s) and port (%d), that the server is up, and that "
		    "no firewall blocks the way from here", a->host, a->port);
		break;
	case M2C_E_CONFIG:
		buf_appendf(b, "fix the setting named in the message, in the config file");
		break;
	case M2C_E_PROTO:
		buf_appendf(b, "the server broke the protocol: mail2cups -v check shows the "
		    "exchange (credentials hidden)");
		break;
	default:
		buf_appendf(b, "try again later; mail2cups -v check shows the exchange "
		    "(credentials hidden)");
		break;
	}
}

char *
check_fix(const struct conf_account *a, enum check_step step, int err, const char *text)
{
	struct buf b = { 0 };

	if (text == NULL)
		text = "";
	switch (step) {
	case CHECK_STEP_CONFIG:
		buf_appendf(&b, "fix the settings named in the message, in the config file");
		break;
	case CHECK_STEP_CUPS:
		fix_cups(&b, a, err);
		break;
	case CHECK_STEP_SIGNIN:
		fix_signin(&b, a, err);
		break;
	case CHECK_STEP_IMAP:
		/* Microsoft takes OAuth over implicit TLS on 993 only. */
		if (poller_is_oauth(a) && is_microsoft_host(a) &&
		    (a->port != 993 || a->security != CONF_SEC_SSL))
			buf_appendf(&b, "use port = 993 and security = \"ssl\" (Microsoft 365 "
			    "takes %s only over TLS on port 993; port %d with %s fails with "
			    "\"AUTHENTICATE failed.\" or \"no login methods\")",
			    conf_auth_name(a->auth), a->port, conf_security_name(a->security));
		else
			fix_imap(&b, a, err, text);
		break;
	case CHECK_STEP_MAILBOX:
		if (err == M2C_E_AUTH && strstr(text, "not connected") != NULL)
			buf_appendf(&b, "sign in as %s (mail2cups-oauth login %s); for a shared "
			    "mailbox: Add-MailboxPermission -Identity %s -User %s -AccessRights "
			    "FullAccess, and login_user = \"%s\"", login_user(a), a->name,
			    a->username, login_user(a), login_user(a));
		else if (err == M2C_E_SERVER || err == M2C_E_NOTFOUND)
			buf_appendf(&b, "set mailbox to a folder that exists (now \"%s\"; names "
			    "other than INBOX are case-sensitive)", a->mailbox);
		else
			fix_imap(&b, a, err, text);
		break;
	case CHECK_STEP_SMTP:
		/* smtp.c's messages carry the provider's fix; add where to change it. */
		buf_appendf(&b, "replies go out through the smtp settings (mail2cups.conf(5), "
		    "REPLIES); fix them as the message says, or remove reply from account %s",
		    a->name);
		break;
	case CHECK_STEP_BACKEND:
		buf_appendf(&b, "the CUPS backend sends through the smtp settings "
		    "(mail2cups.conf(5), REPLIES, and mail2cups-backend(8)); fix them as the "
		    "message says, then release the held jobs (lp -i JOB -H resume)");
		break;
	}
	return buf_steal(&b);
}

/* ------------------------------------------------------------------ steps */

static void
check_config(struct check *c)
{
	put_ok(c, CHECK_STEP_CONFIG, NULL);
	if (c->a->allow_senders.n == 0)
		put_warning(c, "allow_senders is empty: nobody may print from this mailbox "
		    "(allow_senders = [ \"*@example.com\" ])");
}

/*
 * The queues the routing rules name: each must exist and accept jobs, or
 * the mail routed there waits; said as a warning naming the rule.
 */
static void
check_rule_queues(struct check *c, const struct conf_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *q = rules[i].printer, *name = rules[i].name ? rules[i].name : "?";
		char *warning = NULL, *e = NULL, *text = NULL;

		if (q == NULL || strcmp(q, c->a->printer) == 0)
			continue;
		if (cups_job_check_queue(q, &warning, &e) != 0)
			text = xasprintf("rule \"%s\": %s; mail routed there waits in the mailbox "
			    "until it is fixed", name, e);
		else if (warning != NULL)
			text = xasprintf("rule \"%s\": %s", name, warning);
		if (text != NULL)
			put_warning(c, text);
		free(text);
		free(warning);
		free(e);
	}
}

static void
check_cups(struct check *c)
{
	char *warning = NULL, *e = NULL;
	int r;

	r = cups_job_check_queue(c->a->printer, &warning, &e);
	if (r != 0) {
		put_failed(c, CHECK_STEP_CUPS, r, e);
	} else {
		put_ok(c, CHECK_STEP_CUPS, "%s: accepting jobs%s", c->a->printer,
		    warning ? ", stopped" : "");
		if (warning)
			put_warning(c, warning);
	}
	free(warning);
	free(e);
	check_rule_queues(c, c->a->rules, c->a->nrules);
	check_rule_queues(c, c->cf->rules, c->cf->nrules);
}

/* OAuth only: a token, and who it is for. */
static int
check_signin(struct check *c)
{
	const struct conf_account *a = c->a;
	struct oauth_tokens t = { 0 };
	char *e = NULL;
	long left;
	int r;

	if ((r = signin_token(c->cf, a, NULL, &t, &e)) != 0) {
		put_failed(c, CHECK_STEP_SIGNIN, r, e);
		goto out;
	}
	/* A token for someone else opens nobody's mailbox (PaperCut's trap). */
	if (a->oauth.flow != CONF_FLOW_CLIENT_CREDENTIALS && t.identity != NULL &&
	    (r = oauth_check_identity_for(&t, login_user(a), a->name, &e)) != 0) {
		put_failed(c, CHECK_STEP_SIGNIN, r, e);
		goto out;
	}
	left = t.expires_at ? (long)(t.expires_at - time(NULL)) / 60 : -1;
	if (left >= 0)
		put_ok(c, CHECK_STEP_SIGNIN, "token valid for %ld min; %s%s", left,
		    t.identity ? "signed in as " : "app-only token (client credentials)",
		    t.identity ? t.identity : "");
	else
		put_ok(c, CHECK_STEP_SIGNIN, "token of unknown lifetime; %s%s",
		    t.identity ? "signed in as " : "app-only token (client credentials)",
		    t.identity ? t.identity : "");
out:
	oauth_tokens_clear(&t);
	free(e);
	return r;
}

/* Connect and sign in exactly as a pass does (poller_open_session). */
static int
check_imap(struct check *c, struct imap **imap)
{
	const struct conf_account *a = c->a;
	char *e = NULL, mech[16];
	int r;

	if ((r = poller_open_session(c->cf, a, imap, &e)) != 0) {
		put_failed(c, CHECK_STEP_IMAP, r, e);
	} else {
		mech_name(a, mech, sizeof(mech));
		put_ok(c, CHECK_STEP_IMAP, "%s:%d, %s, %s", a->host, a->port,
		    conf_security_name(a->security), mech);
	}
	free(e);
	return r;
}

/* SELECT (flags untouched) and count the unseen messages. */
static void
check_mailbox(struct check *c, struct imap *imap)
{
	uint32_t uidvalidity = 0, exists = 0, *uids = NULL;
	size_t nuids = 0;
	char *e = NULL;
	int r;

	r = poller_select(imap, c->a, &uidvalidity, &exists, &e);
	if (r == 0)
		r = imap_search_unseen(imap, &uids, &nuids, &e);
	if (r != 0)
		put_failed(c, CHECK_STEP_MAILBOX, r, e);
	else
		put_ok(c, CHECK_STEP_MAILBOX, "%s: %u message%s, %zu unseen, UIDVALIDITY %u",
		    c->a->mailbox, exists, exists == 1 ? "" : "s", nuids, uidvalidity);
	free(uids);
	free(e);
}

/* With replies: the SMTP server takes our sign-in (nothing is sent). */
static void
check_smtp(struct check *c)
{
	char *where = NULL, *e = NULL;
	int r;

	if (c->a->reply == 0)
		return;
	if ((r = smtp_check(c->cf, c->a, &where, &e)) != 0)
		put_failed(c, CHECK_STEP_SMTP, r, e);
	else
		put_ok(c, CHECK_STEP_SMTP, "%s", where);
	free(where);
	free(e);
}

/* Does the device URI send through account name (mail2cups://NAME[/?]...)? */
static int
uri_is_account(const char *uri, const char *name)
{
	static const char scheme[] = "mail2cups://";
	size_t n = strlen(name);

	return uri != NULL && str_has_prefix(uri, scheme) &&
	    strncmp(uri + sizeof(scheme) - 1, name, n) == 0 &&
	    strchr("/?#", uri[sizeof(scheme) - 1 + n]) != NULL;
}

/*
 * The CUPS queues whose jobs leave as mail through this account: the SMTP
 * sign-in works (unless the replies step tried it already), and no such
 * queue has the stop-printer error policy.  Nothing is said for an account
 * no queue sends through, or when CUPS cannot be asked (the CUPS step has
 * said so).
 */
static void
check_backend(struct check *c, int smtp_checked)
{
	struct cups_queue *qs = NULL;
	struct buf names = { 0 };
	char *where = NULL, *e = NULL, *w;
	size_t n = 0, used = 0;
	int r;

	if (cups_job_list_queues(&qs, &n, NULL) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (uri_is_account(qs[i].device_uri, c->a->name)) {
			buf_appendf(&names, "%s%s", used++ ? ", " : "", qs[i].name);
		}
	if (used == 0)
		goto out;
	if (!smtp_checked && (r = smtp_check(c->cf, c->a, &where, &e)) != 0) {
		put_failed(c, CHECK_STEP_BACKEND, r, e);
	} else {
		put_ok(c, CHECK_STEP_BACKEND, "queue%s %s; %s", used == 1 ? "" : "s", names.data,
		    where ? where : "SMTP as for the replies");
	}
	for (size_t i = 0; i < n; i++)
		if (uri_is_account(qs[i].device_uri, c->a->name) && qs[i].error_policy != NULL &&
		    strcmp(qs[i].error_policy, "stop-printer") == 0) {
			w = xasprintf(CUPS_JOB_STOP_PRINTER_WARNING, qs[i].name, qs[i].name);
			put_warning(c, w);
			free(w);
		}
out:
	buf_free(&names);
	free(where);
	free(e);
	cups_job_queues_free(&qs, n);
}

int
check_uses_tokens(const struct conf *cf)
{
	for (size_t i = 0; i < cf->naccounts; i++)
		if (poller_is_oauth(&cf->accounts[i]))
			return 1;
	return 0;
}

int
check_account(const struct conf *cf, const struct conf_account *a, FILE *out)
{
	struct check c = { cf, a, out, 0 };
	struct imap *imap = NULL;

	check_config(&c);
	/* Independent of the mailbox: a CUPS failure does not stop the rest. */
	check_cups(&c);
	if (poller_is_oauth(a) && check_signin(&c) != 0) {
		put_skipped(&c, CHECK_STEP_IMAP, "no token");
		put_skipped(&c, CHECK_STEP_MAILBOX, "not signed in");
		goto out;
	}
	if (check_imap(&c, &imap) != 0) {
		put_skipped(&c, CHECK_STEP_MAILBOX, "not signed in");
		goto out;
	}
	check_mailbox(&c, imap);
	imap_logout(&imap);
out:
	check_smtp(&c);
	check_backend(&c, c.a->reply != 0);
	imap_close(&imap);
	fflush(out);
	return c.first;
}
