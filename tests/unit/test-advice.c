/* test-advice.c - advice_fix(): (account, step, error, message) -> advice. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "error.h"
#include "tap.h"

/* The accounts the table refers to. */
enum acct { MS_OK, MS_143, MS_STARTTLS_993, MS_APPONLY, MS_SHARED, DOVE_PW, DOVE_OAUTH };

static struct conf_account *
make_account(enum acct k)
{
	static struct conf_account a[7];
	struct conf_account *x = &a[k];

	memset(x, 0, sizeof(*x));
	x->name = "office";
	x->host = "outlook.office365.com";
	x->port = 993;
	x->security = CONF_SEC_SSL;
	x->username = "print@contoso.com";
	x->login_user = "print@contoso.com";
	x->mailbox = "INBOX";
	x->auth = CONF_AUTH_XOAUTH2;
	x->printer = "office-laser";
	x->oauth.present = 1;
	x->oauth.provider = CONF_PROVIDER_MICROSOFT;
	x->oauth.client_id = "11111111-2222";
	x->oauth.flow = CONF_FLOW_DEVICE;
	switch (k) {
	case MS_143:
		x->port = 143;
		x->security = CONF_SEC_STARTTLS;
		break;
	case MS_STARTTLS_993:
		x->security = CONF_SEC_NONE;
		break;
	case MS_APPONLY:
		x->oauth.flow = CONF_FLOW_CLIENT_CREDENTIALS;
		break;
	case MS_SHARED:
		x->login_user = "admin@contoso.com";
		break;
	case DOVE_PW:
		x->name = "test";
		x->host = "127.0.0.1";
		x->auth = CONF_AUTH_PLAIN;
		x->username = x->login_user = "alice";
		x->password_file = "/etc/m2c/alice.pass";
		x->oauth.present = 0;
		x->oauth.provider = CONF_PROVIDER_NONE;
		break;
	case DOVE_OAUTH:
		x->host = "imap.example.org";
		x->port = 10993;
		break;
	default:
		break;
	}
	return x;
}

#define EXCH_FAILED "IMAP server outlook.office365.com refused the sign-in (AUTHENTICATE " \
	"XOAUTH2): \"AUTHENTICATE failed.\"; check the user name and the password, or sign in again"

static const struct {
	const char *name;
	enum acct acct;
	enum m2c_step step;
	int err;
	const char *text;
	const char *want[4];	/* each must appear */
	const char *not[3];	/* none may appear */
} cases[] = {
	/* Microsoft: OAuth over 143/STARTTLS or none: whatever failed, the port is the fix. */
	{ "MS 143 starttls, AUTHENTICATE failed", MS_143, M2C_STEP_IMAP, M2C_E_AUTH, EXCH_FAILED,
	  { "use port = 993 and security = \"ssl\"", "port 143 with starttls" },
	  { "Set-CASMailbox" } },
	{ "MS 143, no XOAUTH2 offered", MS_143, M2C_STEP_IMAP, M2C_E_NOTSUP,
	  "IMAP server outlook.office365.com does not offer AUTHENTICATE XOAUTH2",
	  { "use port = 993 and security = \"ssl\"" } },
	{ "MS security none on 993", MS_STARTTLS_993, M2C_STEP_IMAP, M2C_E_TLS, "x",
	  { "use port = 993 and security = \"ssl\"" } },
	/* "NO AUTHENTICATE failed." with the right port: the three causes. */
	{ "MS delegated, AUTHENTICATE failed", MS_OK, M2C_STEP_IMAP, M2C_E_AUTH, EXCH_FAILED,
	  { "Set-CASMailbox -Identity print@contoso.com -ImapEnabled $true",
	    "mail2cups-oauth login office", "sign in as print@contoso.com" },
	  { "New-ServicePrincipal", "use port" } },
	{ "MS app-only, AUTHENTICATE failed", MS_APPONLY, M2C_STEP_IMAP, M2C_E_AUTH, EXCH_FAILED,
	  { "Set-CASMailbox -Identity print@contoso.com -ImapEnabled $true",
	    "New-ServicePrincipal -AppId 11111111-2222",
	    "Add-MailboxPermission -Identity print@contoso.com",
	    "-AccessRights FullAccess" },
	  { "mail2cups-oauth login" } },
	{ "MS shared mailbox, AUTHENTICATE failed", MS_SHARED, M2C_STEP_IMAP, M2C_E_AUTH,
	  EXCH_FAILED,
	  { "Set-CASMailbox", "-User admin@contoso.com -AccessRights FullAccess",
	    "(3) the token is for another account", "sign in as admin@contoso.com" },
	  { "New-ServicePrincipal" } },
	/* "No login methods supported": no XOAUTH2 on the right port either. */
	{ "no XOAUTH2 offered", MS_OK, M2C_STEP_IMAP, M2C_E_NOTSUP,
	  "IMAP server outlook.office365.com does not offer AUTHENTICATE XOAUTH2",
	  { "the server offers no XOAUTH2 here: check host and security",
	    "outlook.office365.com, 993, ssl" } },
	{ "password mech not offered", DOVE_PW, M2C_STEP_IMAP, M2C_E_NOTSUP, "no PLAIN",
	  { "offers no PLAIN", "set auth" }, { "office365" } },
	/* Other IMAP failures. */
	{ "wrong password", DOVE_PW, M2C_STEP_IMAP, M2C_E_AUTH,
	  "IMAP server 127.0.0.1 refused the sign-in (AUTHENTICATE PLAIN): \"Authentication failed.\"",
	  { "check username (alice)", "/etc/m2c/alice.pass" }, { "Set-CASMailbox", "oauth" } },
	{ "MS provider on a test host, port 10993", DOVE_OAUTH, M2C_STEP_IMAP, M2C_E_UNAVAIL,
	  "cannot reach imap.example.org:10993: Connection refused",
	  { "check host (imap.example.org) and port (10993)" }, { "use port = 993" } },
	{ "token refused by Dovecot", DOVE_OAUTH, M2C_STEP_IMAP, M2C_E_AUTH,
	  "refused the sign-in: \"[AUTHENTICATIONFAILED] Authentication failed.\"",
	  { "sign in again (mail2cups-oauth login office)" }, { "Set-CASMailbox" } },
	{ "bad certificate", DOVE_PW, M2C_STEP_IMAP, M2C_E_TLS,
	  "cannot verify the TLS certificate of 127.0.0.1:993: self-signed certificate",
	  { "ca_file", "name on the server's certificate" } },
	{ "TLS handshake on a plain port", DOVE_PW, M2C_STEP_IMAP, M2C_E_TLS,
	  "TLS handshake with 127.0.0.1:143 failed (wrong version number)",
	  { "993 with security = \"ssl\"", "143 with \"starttls\"" }, { "ca_file" } },
	{ "connection refused", DOVE_PW, M2C_STEP_IMAP, M2C_E_UNAVAIL,
	  "cannot reach 127.0.0.1:993: Connection refused",
	  { "check host (127.0.0.1) and port (993)", "firewall" } },
	{ "timeout", DOVE_OAUTH, M2C_STEP_IMAP, M2C_E_TIMEOUT, "timed out",
	  { "imap.example.org", "firewall" } },
	/* Mailbox. */
	{ "not connected", MS_SHARED, M2C_STEP_MAILBOX, M2C_E_AUTH,
	  "(\"User is authenticated but not connected\")",
	  { "sign in as admin@contoso.com", "Add-MailboxPermission -Identity print@contoso.com "
	    "-User admin@contoso.com" } },
	{ "no such folder", DOVE_PW, M2C_STEP_MAILBOX, M2C_E_SERVER, "NO Mailbox doesn't exist",
	  { "set mailbox", "\"INBOX\"" } },
	{ "connection lost at SELECT", DOVE_PW, M2C_STEP_MAILBOX, M2C_E_UNAVAIL, "closed",
	  { "check host (127.0.0.1)" } },
	/* Sign-in. */
	{ "no tokens", MS_OK, M2C_STEP_SIGNIN, M2C_E_AUTH, "sign-in required",
	  { "mail2cups-oauth login office", "as print@contoso.com" } },
	{ "app-only refused", MS_APPONLY, M2C_STEP_SIGNIN, M2C_E_AUTH, "AADSTS7000215",
	  { "client secret", "IMAP.AccessAsApp" }, { "mail2cups-oauth login" } },
	{ "IdP unreachable", MS_OK, M2C_STEP_SIGNIN, M2C_E_UNAVAIL, "cannot reach",
	  { "login.microsoftonline.com", "443" } },
	/* CUPS. */
	{ "queue missing", MS_OK, M2C_STEP_CUPS, M2C_E_NOTFOUND,
	  "CUPS has no queue named office-laser",
	  { "lpstat -p", "office-laser" } },
	{ "queue not accepting", MS_OK, M2C_STEP_CUPS, M2C_E_TEMP, "not accepting",
	  { "cupsaccept office-laser" } },
	{ "cupsd down", MS_OK, M2C_STEP_CUPS, M2C_E_UNAVAIL, "cannot reach CUPS",
	  { "start CUPS", "cups_server" } },
	{ "CUPS forbids", MS_OK, M2C_STEP_CUPS, M2C_E_SERVER, "Forbidden",
	  { "lpadmin -p office-laser -u allow:all" } },
	/* Config. */
	{ "config", DOVE_PW, M2C_STEP_CONFIG, M2C_E_CONFIG, "m2c.conf:3: port: out of range",
	  { "config file" } },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *fix = advice_fix(make_account(cases[i].acct), cases[i].step, cases[i].err,
		    cases[i].text);

		ok(fix != NULL && *fix != '\0', "%s: a fix", cases[i].name);
		for (size_t j = 0; j < 4 && cases[i].want[j]; j++)
			has_str(fix, cases[i].want[j], "%s: says \"%s\"", cases[i].name,
			    cases[i].want[j]);
		for (size_t j = 0; j < 3 && cases[i].not[j]; j++) {
			int absent = fix != NULL && strstr(fix, cases[i].not[j]) == NULL;

			ok(absent, "%s: does not say \"%s\"", cases[i].name, cases[i].not[j]);
			if (!absent)
				printf("#   %s\n", fix ? fix : "(null)");
		}
		free(fix);
	}
	/* A NULL message is fine (no server text). */
	{
		char *fix = advice_fix(make_account(DOVE_PW), M2C_STEP_IMAP, M2C_E_AUTH, NULL);

		has_str(fix, "check username", "NULL text: still a fix");
		free(fix);
	}
	return tap_done();
}
