/* advice.c - what to do about a failure: the one table; see advice.h. */
#include "m2c-config.h"

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
		if (str_casecmp(conf_account_login_user(a), a->username) != 0)
			buf_appendf(b, "; (2) %s may not open the shared mailbox: "
			    "Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess",
			    conf_account_login_user(a), a->username, conf_account_login_user(a));
		buf_appendf(b, "; (%d) the token is for another account (someone else, an "
		    "admin, signed in): run mail2cups-oauth login %s and sign in as %s",
		    str_casecmp(conf_account_login_user(a), a->username) != 0 ? 3 : 2, a->name,
		    conf_account_login_user(a));
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
			    conf_account_login_user(a));
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
	const char *mech = conf_auth_sasl_name(a->auth);

	switch (err) {
	case M2C_E_AUTH:
		if (strstr(text, "AUTHENTICATE failed") != NULL && conf_account_is_oauth(a))
			fix_authenticate_failed(b, a);
		else if (conf_account_is_oauth(a))
			buf_appendf(b, "the server refused the token: sign in again "
			    "(mail2cups-oauth login %s) as %s", a->name, conf_account_login_user(a));
		else
			buf_appendf(b, "check username (%s) and the password in password_file "
			    "(%s)", conf_account_login_user(a), a->password_file ? a->password_file : "unset");
		break;
	case M2C_E_NOTSUP:
		if (conf_account_is_oauth(a))
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
advice_fix(const struct conf_account *a, enum m2c_step step, int err, const char *text)
{
	struct buf b = { 0 };

	if (text == NULL)
		text = "";
	switch (step) {
	case M2C_STEP_CONFIG:
		buf_appendf(&b, "fix the settings named in the message, in the config file");
		break;
	case M2C_STEP_CUPS:
		fix_cups(&b, a, err);
		break;
	case M2C_STEP_SIGNIN:
		fix_signin(&b, a, err);
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
			fix_imap(&b, a, err, text);
		break;
	case M2C_STEP_MAILBOX:
		if (err == M2C_E_AUTH && strstr(text, "not connected") != NULL)
			buf_appendf(&b, "sign in as %s (mail2cups-oauth login %s); for a shared "
			    "mailbox: Add-MailboxPermission -Identity %s -User %s -AccessRights "
			    "FullAccess, and login_user = \"%s\"", conf_account_login_user(a), a->name,
			    a->username, conf_account_login_user(a), conf_account_login_user(a));
		else if (err == M2C_E_SERVER || err == M2C_E_NOTFOUND)
			buf_appendf(&b, "set mailbox to a folder that exists (now \"%s\"; names "
			    "other than INBOX are case-sensitive)", a->mailbox);
		else
			fix_imap(&b, a, err, text);
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
