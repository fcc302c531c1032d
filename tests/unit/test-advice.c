/*
 * test-advice.c - advice.h: (config path, account, step, code) -> what to
 * do.  The cases assert the key command or setting of each advice, never
 * whole sentences, so wording can change without breaking them.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "error.h"
#include "tap.h"
#include "util.h"

/* The accounts the table refers to. */
enum acct {
	MS_OK, MS_143, MS_STARTTLS_993, MS_APPONLY, MS_SHARED, DOVE_PW, DOVE_OAUTH,
	DOVE_OAUTH_OTHER,
};

static struct conf_account *
make_account(enum acct k)
{
	static struct conf_account a[8];
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
	case DOVE_OAUTH_OTHER:
		x->host = "imap.example.org";
		x->oauth.provider = CONF_PROVIDER_GENERIC;
		break;
	default:
		break;
	}
	return x;
}

static const struct {
	const char *name;
	enum acct acct;
	enum m2c_step step;
	int err;
	const char *want[4];	/* each must appear */
	const char *not[3];	/* none may appear */
} cases[] = {
	/* Microsoft: OAuth over 143/STARTTLS or none: whatever failed, the port is the fix. */
	{ "MS 143 starttls, refused", MS_143, M2C_STEP_IMAP, M2C_E_AUTH,
	  { "port = 993", "security = \"ssl\"", "port 143 with starttls" },
	  { "Set-CASMailbox" } },
	{ "MS 143, no XOAUTH2 offered", MS_143, M2C_STEP_IMAP, M2C_E_NOTSUP,
	  { "port = 993", "security = \"ssl\"" } },
	{ "MS security none on 993", MS_STARTTLS_993, M2C_STEP_IMAP, M2C_E_TLS,
	  { "port = 993", "security = \"ssl\"" } },
	/* Exchange refused the token with the right port: the causes, once. */
	{ "MS delegated, refused", MS_OK, M2C_STEP_IMAP, M2C_E_AUTH,
	  { "Set-CASMailbox -Identity print@contoso.com -ImapEnabled $true",
	    "mail2cups-oauth -c /etc/m2c-test.conf login office", "print@contoso.com" },
	  { "New-ServicePrincipal", "port = 993" } },
	{ "MS app-only, refused", MS_APPONLY, M2C_STEP_IMAP, M2C_E_AUTH,
	  { "Set-CASMailbox -Identity print@contoso.com -ImapEnabled $true",
	    "New-ServicePrincipal -AppId 11111111-2222",
	    "Add-MailboxPermission -Identity print@contoso.com",
	    "-AccessRights FullAccess" },
	  { "mail2cups-oauth login" } },
	{ "MS shared mailbox, refused", MS_SHARED, M2C_STEP_IMAP, M2C_E_AUTH,
	  { "Set-CASMailbox", "-User admin@contoso.com -AccessRights FullAccess",
	    "(3)", "mail2cups-oauth -c /etc/m2c-test.conf login office" },
	  { "New-ServicePrincipal" } },
	/* "No login methods supported": no XOAUTH2 on the right port either. */
	{ "no XOAUTH2 offered", MS_OK, M2C_STEP_IMAP, M2C_E_NOTSUP,
	  { "XOAUTH2", "outlook.office365.com, 993, ssl" } },
	{ "password mech not offered", DOVE_PW, M2C_STEP_IMAP, M2C_E_NOTSUP,
	  { "PLAIN", "auth", "mail2cups -c /etc/m2c-test.conf -v check" }, { "office365" } },
	/* Other IMAP failures. */
	{ "wrong password", DOVE_PW, M2C_STEP_IMAP, M2C_E_AUTH,
	  { "username (alice)", "/etc/m2c/alice.pass" }, { "Set-CASMailbox", "oauth" } },
	{ "MS provider on a test host, port 10993", DOVE_OAUTH, M2C_STEP_IMAP, M2C_E_UNAVAIL,
	  { "imap.example.org", "10993" }, { "port = 993" } },
	{ "token refused by another server", DOVE_OAUTH_OTHER, M2C_STEP_IMAP, M2C_E_AUTH,
	  { "mail2cups-oauth -c /etc/m2c-test.conf login office" }, { "Set-CASMailbox" } },
	{ "TLS", DOVE_PW, M2C_STEP_IMAP, M2C_E_TLS,
	  { "ca_file", "security = \"ssl\"", "\"starttls\"" } },
	{ "connection refused", DOVE_PW, M2C_STEP_IMAP, M2C_E_UNAVAIL,
	  { "127.0.0.1", "993", "firewall" } },
	{ "timeout", DOVE_OAUTH, M2C_STEP_IMAP, M2C_E_TIMEOUT,
	  { "imap.example.org", "firewall" } },
	{ "protocol error", DOVE_PW, M2C_STEP_IMAP, M2C_E_PROTO,
	  { "mail2cups -c /etc/m2c-test.conf -v check" } },
	/* Mailbox. */
	{ "not connected", MS_SHARED, M2C_STEP_MAILBOX, M2C_E_AUTH,
	  { "mail2cups-oauth -c /etc/m2c-test.conf login office", "Add-MailboxPermission -Identity print@contoso.com",
	    "login_user" } },
	{ "no such folder", DOVE_PW, M2C_STEP_MAILBOX, M2C_E_SERVER,
	  { "mailbox", "\"INBOX\"" } },
	{ "connection lost at SELECT", DOVE_PW, M2C_STEP_MAILBOX, M2C_E_UNAVAIL,
	  { "127.0.0.1" } },
	/* Sign-in: sign-in required is its own code, whatever the step. */
	{ "no tokens", MS_OK, M2C_STEP_SIGNIN, M2C_E_SIGNIN,
	  { "mail2cups-oauth -c /etc/m2c-test.conf login office", "print@contoso.com" } },
	{ "refresh refused while connecting", MS_OK, M2C_STEP_IMAP, M2C_E_SIGNIN,
	  { "mail2cups-oauth -c /etc/m2c-test.conf login office" }, { "Set-CASMailbox", "port" } },
	{ "the wrong person signed in", MS_SHARED, M2C_STEP_SIGNIN, M2C_E_AUTH,
	  { "mail2cups-oauth -c /etc/m2c-test.conf login office", "admin@contoso.com", "login_user" } },
	{ "app-only refused", MS_APPONLY, M2C_STEP_SIGNIN, M2C_E_AUTH,
	  { "client_id", "IMAP.AccessAsApp" }, { "mail2cups-oauth login" } },
	{ "IdP unreachable", MS_OK, M2C_STEP_SIGNIN, M2C_E_UNAVAIL,
	  { "login.microsoftonline.com", "443", "https_proxy" } },
	{ "IdP answers oddly", MS_OK, M2C_STEP_SIGNIN, M2C_E_PROTO,
	  { "mail2cups-oauth -c /etc/m2c-test.conf status office" } },
	/* CUPS, at the pass's queue check and at a message's print stage. */
	{ "queue missing", MS_OK, M2C_STEP_CUPS, M2C_E_NOTFOUND,
	  { "lpstat -p", "lpadmin -p office-laser" } },
	{ "queue not accepting", MS_OK, M2C_STEP_CUPS, M2C_E_TEMP,
	  { "cupsaccept office-laser" } },
	{ "cupsd down", MS_OK, M2C_STEP_CUPS, M2C_E_UNAVAIL,
	  { "systemctl start cups", "cups_server" } },
	{ "CUPS forbids", MS_OK, M2C_STEP_CUPS, M2C_E_SERVER,
	  { "lpadmin -p office-laser -u allow:all" } },
	{ "cupsd down while printing", MS_OK, M2C_STEP_PRINT, M2C_E_UNAVAIL,
	  { "systemctl start cups" } },
	/* A message's other stages. */
	{ "connection lost fetching", DOVE_PW, M2C_STEP_FETCH, M2C_E_UNAVAIL,
	  { "127.0.0.1", "993" } },
	{ "folder refused at the post-action", DOVE_PW, M2C_STEP_FINISH, M2C_E_SERVER,
	  { "printed_folder", "failed_folder" } },
	/* Local: the state folder, never "-v shows more". */
	{ "state database", DOVE_PW, M2C_STEP_LOCAL, M2C_E_SYS,
	  { "state_dir", "/var/lib/m2c-test" }, { "-v" } },
	{ "scratch full while extracting", DOVE_PW, M2C_STEP_EXTRACT, M2C_E_SYS,
	  { "state_dir" }, { "-v" } },
	/* Config. */
	{ "config", DOVE_PW, M2C_STEP_CONFIG, M2C_E_CONFIG, { "m2c-test.conf" } },
	/* Replies. */
	{ "smtp", MS_OK, M2C_STEP_SMTP, M2C_E_AUTH, { "smtp", "reply" } },
};

/* The config path: cases run with a non-default one. */
static struct conf cf_custom = { .path = "/etc/m2c-test.conf", .state_dir = "/var/lib/m2c-test" };

static void
test_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *fix = advice_fix(&cf_custom, make_account(cases[i].acct), cases[i].step,
		    cases[i].err);

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
}

/* A command carries -c FILE exactly when the config is not the default. */
static void
test_config_path(void)
{
	struct conf dflt = { .path = conf_default_path() };
	struct conf spaced = { .path = "/tmp/my print/m2c.conf" };
	char *fix;

	fix = advice_fix(&cf_custom, make_account(MS_OK), M2C_STEP_SIGNIN, M2C_E_SIGNIN);
	has_str(fix, "mail2cups-oauth -c /etc/m2c-test.conf login office", "-c FILE given: kept");
	free(fix);
	fix = advice_fix(&dflt, make_account(MS_OK), M2C_STEP_SIGNIN, M2C_E_SIGNIN);
	has_str(fix, "mail2cups-oauth login office", "the default config: plain");
	ok(fix != NULL && strstr(fix, " -c ") == NULL, "the default config: no -c");
	free(fix);
	fix = advice_fix(NULL, make_account(MS_OK), M2C_STEP_SIGNIN, M2C_E_SIGNIN);
	has_str(fix, "mail2cups-oauth login office", "no config: plain");
	free(fix);
	fix = advice_login(&cf_custom, "office");
	is_str(fix, "mail2cups-oauth -c /etc/m2c-test.conf login office", "advice_login: -c kept");
	free(fix);
	fix = advice_login(&dflt, NULL);
	is_str(fix, "mail2cups-oauth login NAME", "advice_login: no account, a placeholder");
	free(fix);
	fix = advice_command(&spaced, "mail2cups", "once");
	is_str(fix, "mail2cups -c '/tmp/my print/m2c.conf' once", "a path with a space is quoted");
	free(fix);
	fix = advice_fix(&cf_custom, make_account(DOVE_PW), M2C_STEP_IMAP, M2C_E_PROTO);
	has_str(fix, "mail2cups -c /etc/m2c-test.conf -v check", "mail2cups with -c too");
	free(fix);
	free(dflt.path);
}

static void
test_waiting(void)
{
	char *say;

	say = advice_sign_in_waiting(&cf_custom, make_account(MS_SHARED),
	    "https://microsoft.com/devicelogin", "ABCD-1234", 1000 + 600, 1000);
	has_str(say, "https://microsoft.com/devicelogin", "waiting: the address");
	has_str(say, "ABCD-1234", "waiting: the code");
	has_str(say, "admin@contoso.com", "waiting: who signs in");
	has_str(say, "10 min", "waiting: the time left");
	has_str(say, "mail2cups-oauth -c /etc/m2c-test.conf login office", "waiting: start again");
	free(say);
	say = advice_sign_in_waiting(NULL, make_account(MS_OK), "https://x", "ABCD-1234", 900,
	    1000);
	has_str(say, "ABCD-1234 expired 1 min ago", "expired code: says so");
	free(say);
}

static void
test_step_names(void)
{
	enum m2c_step back;

	for (int s = M2C_STEP_CONFIG; s <= M2C_STEP_BACKEND; s++) {
		back = s == M2C_STEP_CONFIG ? M2C_STEP_SMTP : M2C_STEP_CONFIG;
		is_int(m2c_step_from_name(m2c_step_name((enum m2c_step)s), &back), 0,
		    "step %s: read back", m2c_step_name((enum m2c_step)s));
		is_int(back, s, "step %s: the same step", m2c_step_name((enum m2c_step)s));
		ok(strcmp(m2c_step_label((enum m2c_step)s), "?") != 0, "step %s: has a label",
		    m2c_step_name((enum m2c_step)s));
	}
	is_str(m2c_step_label(M2C_STEP_CUPS), "CUPS queue", "check's label for the CUPS step");
	is_str(m2c_step_name(M2C_STEP_BACKEND + 1), "unknown", "a step past the last: unknown");
	is_str(m2c_step_label((enum m2c_step)-1), "?", "a negative step: no label");
	is_int(m2c_step_from_name("nonsense", &back), M2C_E_NOTFOUND, "unknown step name");
	is_int(m2c_step_from_name(NULL, &back), M2C_E_NOTFOUND, "no step name");
}

int
main(void)
{
	test_table();
	test_config_path();
	test_waiting();
	test_step_names();
	return tap_done();
}
