/* advice.c - what to do about a failure: the one table; see advice.h. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "error.h"
#include "util.h"

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

/* Each step's name (stored, shown by status) and label (check's lines). */
static const struct step_words {
	const char *name, *label;
} steps[] = {
	[M2C_STEP_CONFIG] = { "config", "config" },
	[M2C_STEP_CUPS] = { "cups", "CUPS queue" },
	[M2C_STEP_SIGNIN] = { "signin", "sign-in" },
	[M2C_STEP_IMAP] = { "imap", "IMAP" },
	[M2C_STEP_MAILBOX] = { "mailbox", "mailbox" },
	[M2C_STEP_LOCAL] = { "local", "local" },
	[M2C_STEP_FETCH] = { "fetch", "fetch" },
	[M2C_STEP_RECOGNISE] = { "recognise", "recognise" },
	[M2C_STEP_EXTRACT] = { "extract", "extract" },
	[M2C_STEP_JUDGE] = { "judge", "judge" },
	[M2C_STEP_ROUTE] = { "route", "route" },
	[M2C_STEP_PRINT] = { "print", "print" },
	[M2C_STEP_FINISH] = { "finish", "finish" },
	[M2C_STEP_SMTP] = { "smtp", "replies" },
	[M2C_STEP_BACKEND] = { "backend", "CUPS backend" },
};

static const struct step_words *
step_words(enum m2c_step step)
{
	return (size_t)step < ARRAY_SIZE(steps) && steps[step].name != NULL ? &steps[step] : NULL;
}

const char *
m2c_step_name(enum m2c_step step)
{
	const struct step_words *w = step_words(step);

	return w != NULL ? w->name : "unknown";
}

const char *
m2c_step_label(enum m2c_step step)
{
	const struct step_words *w = step_words(step);

	return w != NULL ? w->label : "?";
}

int
m2c_step_from_name(const char *name, enum m2c_step *step)
{
	for (size_t i = 0; name != NULL && i < ARRAY_SIZE(steps); i++)
		if (steps[i].name != NULL && strcmp(name, steps[i].name) == 0) {
			*step = (enum m2c_step)i;
			return 0;
		}
	return M2C_E_NOTFOUND;
}

/* s quoted for a POSIX shell when it needs it, appended to b. */
static void
append_shell_word(struct buf *b, const char *s)
{
	if (*s != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_./@%+=:,-") == strlen(s)) {
		buf_appendf(b, "%s", s);
		return;
	}
	buf_appendc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_appendf(b, "'\\''");
		else
			buf_appendc(b, *s);
	}
	buf_appendc(b, '\'');
}

static void
append_command(struct buf *b, const struct conf *cf, const char *program, const char *args)
{
	char *def = conf_default_path();

	buf_appendf(b, "%s", program);
	if (cf != NULL && cf->path != NULL && strcmp(cf->path, def) != 0) {
		buf_appendf(b, " -c ");
		append_shell_word(b, cf->path);
	}
	if (args != NULL && *args != '\0')
		buf_appendf(b, " %s", args);
	free(def);
}

char *
advice_command(const struct conf *cf, const char *program, const char *args)
{
	struct buf b = { 0 };

	append_command(&b, cf, program, args);
	return buf_steal(&b);
}

char *
advice_login(const struct conf *cf, const char *account)
{
	char *args = xasprintf("login %s", account ? account : "NAME");
	char *s = advice_command(cf, "mail2cups-oauth", args);

	free(args);
	return s;
}

/* "mail2cups-oauth [-c FILE] login NAME" */
static void
append_login(struct buf *b, const struct conf *cf, const struct conf_account *a)
{
	char *s = advice_login(cf, a->name);

	buf_appendf(b, "%s", s);
	free(s);
}

/* The mailbox is refused to the token's user ("User is authenticated but
 * not connected"), or the wrong person signed in. */
static void
fix_wrong_user(struct buf *b, const struct conf *cf, const struct conf_account *a)
{
	const char *who = conf_account_login_user(a);

	buf_appendf(b, "sign in as %s: ", who);
	append_login(b, cf, a);
	buf_appendf(b, "; to read %s as another user (a shared mailbox), give that user Full "
	    "Access (Add-MailboxPermission -Identity %s -User USER -AccessRights FullAccess) "
	    "and set login_user = \"USER\"", a->username, a->username);
}

/*
 * Exchange Online refused the token ("NO AUTHENTICATE failed.", also
 * after a refresh): the causes that fit the account.
 */
static void
fix_exchange_refused(struct buf *b, const struct conf *cf, const struct conf_account *a)
{
	const char *client_id = a->oauth.client_id ? a->oauth.client_id : "<client_id>";
	const char *who = conf_account_login_user(a);
	int n = 2;

	buf_appendf(b, "Exchange refused the token (\"AUTHENTICATE failed.\"). The usual causes: "
	    "(1) IMAP is turned off for the mailbox: Set-CASMailbox -Identity %s "
	    "-ImapEnabled $true (Exchange Online PowerShell; the admin center: Mail > "
	    "Manage email apps > IMAP)", a->username);
	if (a->oauth.flow == CONF_FLOW_CLIENT_CREDENTIALS) {
		buf_appendf(b, "; (2) the app may not open the mailbox (app-only access): "
		    "New-ServicePrincipal -AppId %s -ObjectId <object id of its Enterprise "
		    "application>, then Add-MailboxPermission -Identity %s -User <that service "
		    "principal> -AccessRights FullAccess", client_id, a->username);
		return;
	}
	if (str_casecmp(who, a->username) != 0)
		buf_appendf(b, "; (%d) %s may not open the shared mailbox: Add-MailboxPermission "
		    "-Identity %s -User %s -AccessRights FullAccess", n++, who, a->username, who);
	buf_appendf(b, "; (%d) the token is for another account (someone else, an admin, "
	    "signed in): sign in as %s: ", n, who);
	append_login(b, cf, a);
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
fix_signin(struct buf *b, const struct conf *cf, const struct conf_account *a, int err)
{
	switch (err) {
	case M2C_E_SIGNIN:
		buf_appendf(b, "sign in as %s: ", conf_account_login_user(a));
		append_login(b, cf, a);
		if (a->oauth.flow == CONF_FLOW_DEVICE)
			buf_appendf(b, " (the daemon, when it runs, shows a sign-in code in its "
			    "log and in mail2cups status)");
		break;
	case M2C_E_AUTH:
		if (a->oauth.flow != CONF_FLOW_CLIENT_CREDENTIALS)
			fix_wrong_user(b, cf, a);
		else if (a->oauth.provider == CONF_PROVIDER_MICROSOFT)
			buf_appendf(b, "check client_id, the client secret or certificate, and "
			    "that the app has the application permission for IMAP "
			    "(IMAP.AccessAsApp) with admin consent");
		else
			buf_appendf(b, "check client_id and the client secret, certificate or "
			    "service account key, and that the app may read the mailbox");
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
		buf_appendf(b, "fix the oauth settings named in the message, in %s",
		    cf && cf->path ? cf->path : "the config file");
		break;
	default: {
		char *args = xasprintf("status %s", a->name);

		buf_appendf(b, "try again later; if it persists, ");
		append_command(b, cf, "mail2cups-oauth", args);
		buf_appendf(b, " shows the stored sign-in");
		free(args);
		break;
	}
	}
}

/* "mail2cups [-c FILE] -v check": its IMAP exchange, credentials hidden. */
static void
append_verbose_check(struct buf *b, const struct conf *cf)
{
	append_command(b, cf, "mail2cups", "-v check");
}

static void
fix_imap(struct buf *b, const struct conf *cf, const struct conf_account *a, int err)
{
	const char *mech = conf_auth_sasl_name(a->auth);

	switch (err) {
	case M2C_E_AUTH:
		if (conf_account_is_oauth(a) && (a->oauth.provider == CONF_PROVIDER_MICROSOFT ||
		    is_microsoft_host(a)))
			fix_exchange_refused(b, cf, a);
		else if (conf_account_is_oauth(a)) {
			buf_appendf(b, "the server refused the token, also after a refresh: sign "
			    "in again as %s: ", conf_account_login_user(a));
			append_login(b, cf, a);
		} else if (a->print_folders)
			buf_appendf(b, "check login_user (%s, the Dovecot master user: a passdb "
			    "with master = yes) and its password in password_file (%s)",
			    a->login_user, a->password_file);
		else
			buf_appendf(b, "check username (%s) and the password in password_file "
			    "(%s)", conf_account_login_user(a), a->password_file ? a->password_file : "unset");
		break;
	case M2C_E_SIGNIN:
		fix_signin(b, cf, a, err);
		break;
	case M2C_E_NOTSUP:
		if (conf_account_is_oauth(a)) {
			buf_appendf(b, "the server offers no %s here: check host and security "
			    "(Microsoft 365: outlook.office365.com, 993, ssl)", mech);
		} else {
			buf_appendf(b, "the server offers no %s here: set auth to a mechanism "
			    "it offers (", mech);
			append_verbose_check(b, cf);
			buf_appendf(b, " shows its CAPABILITY)");
		}
		break;
	case M2C_E_TLS:
		buf_appendf(b, "make port and security match (993 with security = \"ssl\", 143 "
		    "with \"starttls\"); if the server's certificate was refused, set ca_file to "
		    "its CA (a private CA) or host to a name on its certificate (verification "
		    "is never turned off)");
		break;
	case M2C_E_UNAVAIL:
	case M2C_E_TIMEOUT:
		buf_appendf(b, "check host (%s) and port (%d), that the server is up, and that "
		    "no firewall blocks the way from here", a->host, a->port);
		break;
	case M2C_E_CONFIG:
		buf_appendf(b, "fix the setting named in the message, in %s",
		    cf && cf->path ? cf->path : "the config file");
		break;
	case M2C_E_PROTO:
		buf_appendf(b, "the server broke the protocol: ");
		append_verbose_check(b, cf);
		buf_appendf(b, " shows the exchange (credentials hidden)");
		break;
	default:
		buf_appendf(b, "try again later; ");
		append_verbose_check(b, cf);
		buf_appendf(b, " shows the exchange (credentials hidden)");
		break;
	}
}

/* A local failure (M2C_E_SYS): the state folder, the disk. */
static void
fix_local(struct buf *b, const struct conf *cf)
{
	buf_appendf(b, "fix the file or folder the message names: mail2cups needs "
	    "state_dir (%s) writable by its owner, and free disk space there",
	    cf && cf->state_dir ? cf->state_dir : "see mail2cups.conf(5)");
}

char *
advice_fix(const struct conf *cf, const struct conf_account *a, enum m2c_step step, int err)
{
	struct buf b = { 0 };

	/* Whatever the step: a person must sign in, or the machine itself failed. */
	if (err == M2C_E_SIGNIN && step != M2C_STEP_SMTP) {
		fix_signin(&b, cf, a, err);
		return buf_steal(&b);
	}
	if (err == M2C_E_SYS && step != M2C_STEP_CUPS) {
		fix_local(&b, cf);
		return buf_steal(&b);
	}
	switch (step) {
	case M2C_STEP_CONFIG:
		buf_appendf(&b, "fix the settings named in the message, in %s",
		    cf && cf->path ? cf->path : "the config file");
		break;
	case M2C_STEP_CUPS:
	case M2C_STEP_PRINT:
		fix_cups(&b, a, err);
		break;
	case M2C_STEP_SIGNIN:
		fix_signin(&b, cf, a, err);
		break;
	case M2C_STEP_IMAP:
		/* Microsoft takes OAuth over implicit TLS on 993 only. */
		if (conf_account_is_oauth(a) && is_microsoft_host(a) &&
		    (a->port != 993 || a->security != CONF_SEC_SSL))
			buf_appendf(&b, "use port = 993 and security = \"ssl\" (Microsoft 365 "
			    "takes %s only over TLS on port 993; port %d with %s fails with "
			    "\"AUTHENTICATE failed.\" or \"no login methods\")",
			    conf_auth_name(a->auth), a->port, conf_security_name(a->security));
		else
			fix_imap(&b, cf, a, err);
		break;
	case M2C_STEP_MAILBOX:
		if (err == M2C_E_AUTH && conf_account_is_oauth(a))
			fix_wrong_user(&b, cf, a);
		else if (err == M2C_E_SERVER || err == M2C_E_NOTFOUND)
			buf_appendf(&b, "set mailbox to a folder that exists (now \"%s\"; names "
			    "other than INBOX are case-sensitive)", a->mailbox);
		else
			fix_imap(&b, cf, a, err);
		break;
	case M2C_STEP_FINISH:
		if (err == M2C_E_SERVER || err == M2C_E_NOTFOUND)
			buf_appendf(&b, "the server refused to move or flag the message: set "
			    "printed_folder, failed_folder and rejected_folder to folders it "
			    "accepts, or after = \"seen\"");
		else
			fix_imap(&b, cf, a, err);
		break;
	case M2C_STEP_LOCAL:
		if (err == M2C_E_CONFIG) {
			/* runas.h, privdrop.h: the message names the command. */
			buf_appendf(&b, "run the chown/chmod the message gives, as root: state_dir "
			    "(%s), its folders and the secret files belong to the user mail2cups "
			    "runs as (mail2cups check says which), folders 0700, secret files 0600",
			    cf && cf->state_dir ? cf->state_dir : "see mail2cups.conf(5)");
			break;
		}
		/* FALLTHROUGH */
	case M2C_STEP_RECOGNISE:
	case M2C_STEP_EXTRACT:
	case M2C_STEP_JUDGE:
	case M2C_STEP_ROUTE:
		/* What reaches here is not the message's fault (that one goes to
		 * the failed folder with its reason): it stays for the next pass. */
		buf_appendf(&b, "nothing to change if it passes next time; the message stays "
		    "unseen until then");
		break;
	case M2C_STEP_FETCH:
		fix_imap(&b, cf, a, err);
		break;
	case M2C_STEP_SMTP:
		/* smtp.c's messages carry the provider's fix; add where to change it. */
		buf_appendf(&b, "replies go out through the smtp settings (mail2cups.conf(5), "
		    "REPLIES); fix them as the message says, or remove reply from account %s",
		    a->name);
		break;
	case M2C_STEP_BACKEND:
		buf_appendf(&b, "the CUPS backend sends through the smtp settings "
		    "(mail2cups.conf(5), REPLIES, and mail2cups-backend(8)); fix them as the "
		    "message says, then release the held jobs (lp -i JOB -H resume)");
		break;
	}
	return buf_steal(&b);
}

char *
advice_sign_in_waiting(const struct conf *cf, const struct conf_account *a, const char *uri,
    const char *code, time_t expires_at, time_t now)
{
	struct buf b = { 0 };

	if (uri == NULL)
		uri = "the sign-in page";
	if (code == NULL)
		code = "the code";
	if (expires_at <= now) {
		buf_appendf(&b, "the sign-in code %s expired %ld min ago", code,
		    (long)((now - expires_at) / 60));
		return buf_steal(&b);
	}
	buf_appendf(&b, "open %s and enter %s, signing in as %s (%ld min left; or start "
	    "again: ", uri, code, conf_account_login_user(a),
	    (long)((expires_at - now + 59) / 60));
	append_login(&b, cf, a);
	buf_appendc(&b, ')');
	return buf_steal(&b);
}
