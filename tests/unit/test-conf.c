/*
 * test-conf.c - the configuration loader: values, defaults, and every kind
 * of error message with its file name and line number.
 *
 * Configs are written into a private temporary folder (@DIR@ in a config is
 * replaced by that folder, which also holds the referenced files); the
 * bigger examples are templates in tests/data/conf/, found through
 * $top_srcdir.
 */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "error.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/m2c-test-conf-XXXXXX";
static int nfiles;

/* Write text (with @DIR@ replaced) to a new file in tmpdir; allocated path. */
static char *
write_conf(const char *text)
{
	struct buf b = { 0 };
	const char *p, *q;
	char *path;
	FILE *fp;

	for (p = text; (q = strstr(p, "@DIR@")) != NULL; p = q + 5) {
		buf_append(&b, p, (size_t)(q - p));
		buf_append(&b, tmpdir, strlen(tmpdir));
	}
	buf_append(&b, p, strlen(p));
	path = xasprintf("%s/case%d.conf", tmpdir, ++nfiles);
	if ((fp = fopen(path, "w")) == NULL || fwrite(b.data, 1, b.len, fp) != b.len ||
	    fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
	buf_free(&b);
	return path;
}

/* A template from tests/data/conf/, written out like write_conf(). */
static char *
data_conf(const char *name)
{
	const char *top = getenv("top_srcdir");
	char *src = xasprintf("%s/tests/data/conf/%s", top ? top : ".", name);
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;
	FILE *fp;
	char *path;

	if ((fp = fopen(src, "r")) == NULL) {
		perror(src);
		exit(99);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	free(src);
	path = write_conf(b.data ? b.data : "");
	buf_free(&b);
	return path;
}

static void
touch(const char *name)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs("secret\n", fp) < 0 || fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
	free(path);
}

static void
cleanup(void)
{
	char *p;

	for (int i = 1; i <= nfiles; i++) {
		p = xasprintf("%s/case%d.conf", tmpdir, i);
		unlink(p);
		free(p);
	}
	p = xasprintf("%s/pass", tmpdir);
	unlink(p);
	free(p);
	p = xasprintf("%s/ca.pem", tmpdir);
	unlink(p);
	free(p);
	rmdir(tmpdir);
}

/* Lines 1-3 of most cases; the line under test is line 4. */
#define HEAD "accounts = (\n  { name = \"office\";\n    username = \"print@example.org\";\n"
#define HOST "    host = \"mail.example.org\";\n"
#define PW "    password_file = \"@DIR@/pass\";\n"
#define PRN "    printer = \"office\";\n"
#define TAIL "  }\n);\n"
/* A complete valid account as one list element starting on its own line. */
#define ACCT(name) "  { name = \"" name "\"; host = \"h.example\"; username = \"u\";\n" \
	"    password_file = \"@DIR@/pass\"; printer = \"p\"; }"

struct expect {
	int line;		/* 0: the message has no line number */
	const char *msg;	/* what follows "FILE:LINE: " */
};

static const struct bad_case {
	const char *name;
	const char *text;
	struct expect e[4];	/* every problem reported, in order */
} bad_cases[] = {
	{ "wrong type", HEAD "    port = \"993\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": port: must be a whole number, not a string "
	      "(write a whole number without quotes)" } } },
	{ "float for an int", "timeout = 1.5;\n" HEAD HOST PW PRN TAIL,
	  { { 1, "timeout: must be a whole number, not a decimal number" } } },
	{ "out of range", HEAD "    port = 70000;\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": port: 70000 is out of range (use 1 to 65535)" } } },
	{ "global out of range", "timeout = 0;\nmax_attempts = 1001;\n" HEAD HOST PW PRN TAIL,
	  { { 1, "timeout: 0 is out of range (use 1 to 3600)" },
	    { 2, "max_attempts: 1001 is out of range (use 1 to 1000)" } } },
	{ "bad enum", HEAD "    security = \"tls\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": security: \"tls\" is not allowed "
	      "(use one of \"ssl\", \"starttls\", \"none\")" } } },
	{ "bad log level", "log_level = \"verbose\";\n" HEAD HOST PW PRN TAIL,
	  { { 1, "log_level: \"verbose\" is not allowed "
	      "(use one of \"error\", \"warn\", \"info\", \"debug\")" } } },
	{ "unknown key, close", HEAD "    prot = 993;\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": prot: unknown key (did you mean \"port\"?)" } } },
	{ "unknown key, transposed", HEAD "    pirnter = \"x\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": pirnter: unknown key (did you mean \"printer\"?)" } } },
	{ "unknown key, prefix", HEAD "    printed_fol = \"x\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": printed_fol: unknown key (did you mean \"printed_folder\"?)" } } },
	{ "unknown global key", "stat_dir = \"/tmp\";\n" HEAD HOST PW PRN TAIL,
	  { { 1, "stat_dir: unknown key (did you mean \"state_dir\"?)" } } },
	{ "unknown key, far", HEAD "    colour = \"red\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": colour: unknown key (valid keys here: name, host, port, "
	      "security, ca_file, username, login_user, mailbox, auth, password_file, "
	      "poll_interval, oauth, printer, allow_senders, after, printed_folder, "
	      "failed_folder)" } } },
	{ "unknown limits key", "limits = { max_size = 5; };\n" HEAD HOST PW PRN TAIL,
	  { { 1, "limits.max_size: unknown key (valid keys here: max_message_size, "
	      "max_attachment_size, max_parts, max_depth, max_attachments)" } } },
	{ "unknown limits key, close", "limits = { max_dept = 5; };\n" HEAD HOST PW PRN TAIL,
	  { { 1, "limits.max_dept: unknown key (did you mean \"max_depth\"?)" } } },
	{ "missing required", HEAD HOST PW TAIL,
	  { { 2, "account \"office\": printer: missing (required: the CUPS queue" } } },
	{ "missing several", "accounts = (\n  { name = \"office\";\n  }\n);\n",
	  { { 2, "account \"office\": password_file: missing (required:" },
	    { 2, "account \"office\": host: missing (required: the IMAP server's name)" },
	    { 2, "account \"office\": username: missing" },
	    { 2, "account \"office\": printer: missing" } } },
	{ "missing accounts", "log_level = \"info\";\n",
	  { { 0, "accounts: missing (required: at least one account" } } },
	{ "empty accounts", "accounts = ( );\n",
	  { { 1, "accounts: is empty (add at least one account" } } },
	{ "accounts as a group", "accounts = { name = \"x\"; };\n",
	  { { 1, "accounts: must be a list of groups ( { ... }, { ... } ), not a group" } } },
	{ "unnamed account", "accounts = (\n  { username = \"u\"; port = 0;\n" HOST PW PRN TAIL,
	  { { 2, "accounts.[0].name: missing (required:" },
	    { 2, "accounts.[0].port: 0 is out of range" } } },
	{ "bad account name", "accounts = (\n  { name = \"of fice\"; username = \"u\";\n" HOST PW PRN TAIL,
	  { { 2, "accounts.[0].name: \"of fice\" may only use letters, digits" } } },
	{ "duplicate name", "accounts = (\n" ACCT("a") ",\n" ACCT("a") "\n);\n",
	  { { 4, "account \"a\": name: duplicate account name, first used on line 2" } } },
	{ "security none, remote host", HEAD "    security = \"none\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": security: \"none\" is only allowed to a loopback host "
	      "(localhost, 127.x, ::1), not \"mail.example.org\": the password would go over "
	      "the network in clear" } } },
	{ "password_file with xoauth2", HEAD "    auth = \"oauthbearer\";\n" PW
	  "    oauth = { provider = \"google\"; client_id = \"c\"; };\n" PRN TAIL,
	  { { 5, "account \"office\": password_file: an OAuth account never uses a password" } } },
	{ "oauth group with plain", HEAD "    oauth = { provider = \"google\"; client_id = \"c\"; };\n"
	  "    auth = \"plain\";\n" PW PRN TAIL,
	  { { 4, "account \"office\": oauth: auth = \"plain\" uses a password, and an OAuth account "
	      "never uses a password" } } },
	{ "reserved global key", "smtp = { host = \"x\"; };\n" HEAD HOST PW PRN TAIL,
	  { { 1, "smtp: not supported yet in this release (" } } },
	{ "reserved account key", HEAD "    hold = true;\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": hold: not supported yet in this release (" } } },
	{ "size with a bad suffix", "limits = {\n  max_message_size = \"12X\";\n};\n" HEAD HOST PW PRN TAIL,
	  { { 2, "limits.max_message_size: \"12X\" is not a size (write bytes, or a number with a "
	      "K, M or G suffix, like \"25M\")" } } },
	{ "size zero and negative", "limits = { max_message_size = 0;\n max_attachment_size = -5; };\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "limits.max_message_size: 0 is out of range (give a positive size" },
	    { 2, "limits.max_attachment_size: -5 is out of range" } } },
	{ "size of the wrong type", "limits = { max_attachment_size = true; };\n" HEAD HOST PW PRN TAIL,
	  { { 1, "limits.max_attachment_size: must be a size (bytes, or a string like \"25M\"), "
	      "not true/false" } } },
	{ "printer name", HEAD "    printer = \"office laser\";\n" HOST PW TAIL,
	  { { 4, "account \"office\": printer: \"office laser\" may not contain spaces, '/', '#'" } } },
	{ "printer with slash", HEAD "    printer = \"a/b\";\n" HOST PW TAIL,
	  { { 4, "account \"office\": printer: \"a/b\" may not contain" } } },
	{ "empty string", HEAD "    mailbox = \"\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": mailbox: must not be empty" } } },
	{ "unreadable ca_file", HEAD "    ca_file = \"@DIR@/nope.pem\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": ca_file: cannot read " } } },
	{ "relative password_file", HEAD "    password_file = \"pass\";\n" HOST PRN TAIL,
	  { { 4, "account \"office\": password_file: \"pass\" is not an absolute path" } } },
	{ "move into the watched mailbox", HEAD "    after = \"move\";\n    printed_folder = \"INBOX\";\n"
	  HOST PW PRN TAIL,
	  { { 5, "account \"office\": printed_folder: \"INBOX\" is the mailbox being watched" } } },
	{ "allow_senders of numbers", HEAD "    allow_senders = ( \"a@b\", 5 );\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": allow_senders: item 2 must be a non-empty string, "
	      "not a whole number" } } },
	{ "oauth: provider missing, cert without key",
	  HEAD "    oauth = { client_id = \"c\";\n      certificate_file = \"@DIR@/ca.pem\"; };\n" PRN TAIL,
	  { { 4, "account \"office\": oauth.provider: missing (required:" },
	    { 5, "account \"office\": oauth.certificate_file: is given without private_key_file" },
	    { 2, "account \"office\": host: missing" } } },
	{ "oauth: bad provider", HEAD "    oauth = { provider = \"yahoo\"; client_id = \"c\"; };\n" PRN TAIL,
	  { { 4, "account \"office\": oauth.provider: \"yahoo\" is not allowed (use one of \"microsoft\", \"google\", \"generic\")" },
	    { 2, "account \"office\": host: missing" } } },
	{ "oauth: http authority", HEAD "    oauth = { provider = \"microsoft\"; client_id = \"c\";\n"
	  "      authority = \"http://login.example\"; };\n" PRN TAIL,
	  { { 5, "account \"office\": oauth.authority: \"http://login.example\" uses http:// to a "
	      "host that is not loopback" } } },
	{ "oauth: issuer and cloud for google", HEAD "    oauth = { provider = \"google\"; client_id = \"c\";\n"
	  "      cloud = \"china\";\n      issuer = \"https://idp.example\"; };\n" PRN TAIL,
	  { { 5, "account \"office\": oauth.cloud: only applies to provider = \"microsoft\"" },
	    { 6, "account \"office\": oauth.issuer: only applies to provider = \"generic\"" } } },
	{ "oauth: generic needs issuer and host", HEAD "    oauth = { provider = \"generic\"; client_id = \"c\"; };\n"
	  PRN TAIL,
	  { { 4, "account \"office\": oauth.issuer: missing (required:" },
	    { 2, "account \"office\": host: missing" } } },
	{ "accounts of scalars", "accounts = ( 1 );\n",
	  { { 1, "accounts.[0]: must be a group { ... }, not a whole number" } } },
	{ "oauth: client_credentials", HEAD "    oauth = { provider = \"microsoft\"; client_id = \"c\";\n"
	  "      flow = \"client_credentials\"; };\n" PRN TAIL,
	  { { 4, "account \"office\": oauth.flow: \"client_credentials\" needs client_secret_file, "
	      "or certificate_file and private_key_file (add one)" },
	    { 4, "account \"office\": oauth.flow: \"client_credentials\" needs tenant" } } },
	{ "google service account without its key", HEAD "    oauth = { provider = \"google\"; client_id = \"c\";\n"
	  "      flow = \"client_credentials\"; };\n" PRN TAIL,
	  { { 4, "account \"office\": oauth.flow: \"client_credentials\" with provider = \"google\" "
	      "needs private_key_file = the service account's JSON key (add it)" } } },
	{ "google service account with a certificate", HEAD "    oauth = { provider = \"google\"; client_id = \"c\";\n"
	  "      flow = \"client_credentials\";\n      private_key_file = \"@DIR@/pass\";\n"
	  "      certificate_file = \"@DIR@/pass\"; };\n" PRN TAIL,
	  { { 7, "account \"office\": oauth.certificate_file: a Google service account needs only "
	      "private_key_file" } } },
	{ "syntax error", NULL, { { 6, "syntax error (fix the syntax" } } },
};

static size_t
count_lines(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
test_bad(const struct bad_case *t)
{
	struct conf *c = (struct conf *)1;
	char *path = t->text ? write_conf(t->text) : data_conf("syntax-error.conf");
	char *err = NULL;
	size_t want = 0;
	int r;

	r = conf_load(path, &c, &err);
	is_int(r, M2C_E_CONFIG, "%s: configuration error", t->name);
	ok(c == NULL, "%s: no config returned", t->name);
	for (size_t i = 0; i < ARRAY_SIZE(t->e) && t->e[i].msg; i++, want++) {
		char *exp = t->e[i].line ? xasprintf("%s:%d: %s", path, t->e[i].line, t->e[i].msg)
		    : xasprintf("%s: %s", path, t->e[i].msg);

		has_str(err, exp, "%s: message %zu", t->name, i + 1);
		free(exp);
	}
	is_int(err ? count_lines(err) : 0, want, "%s: exactly %zu problem(s) reported", t->name, want);
	free(err);
	free(path);
}

static void
test_full(void)
{
	char *path = data_conf("good-full.conf"), *err = NULL, *exp;
	struct conf *c = NULL;
	const struct conf_account *a;
	int r;

	r = conf_load(path, &c, &err);
	is_int(r, 0, "full config loads");
	is_str(err, NULL, "full config: no message");
	if (c == NULL) {
		free(err);
		free(path);
		return;
	}
	is_str(c->path, path, "path kept");
	exp = xasprintf("%s/state", tmpdir);
	is_str(c->state_dir, exp, "state_dir");
	free(exp);
	is_str(c->cups_server, "/run/cups/cups.sock", "cups_server");
	is_int(c->log_level, LOG_LVL_DEBUG, "log_level");
	is_int(c->timeout, 30, "timeout");
	is_int(c->max_attempts, 7, "max_attempts");
	is_int(c->limits.max_message_size, 10 * 1024 * 1024, "size \"10M\"");
	is_int(c->limits.max_attachment_size, 1048576, "size 1048576");
	is_int(c->limits.max_parts, 100, "max_parts");
	is_int(c->limits.max_depth, 8, "max_depth");
	is_int(c->limits.max_attachments, 20, "max_attachments");
	is_int(c->naccounts, 2, "two accounts");
	a = conf_account_find(c, "school-1.print");
	ok(a == &c->accounts[0], "find the first account");
	ok(conf_account_find(c, "nope") == NULL, "find: unknown name");
	if (a != NULL) {
		is_int(a->line, 16, "account line");
		is_str(a->host, "127.0.0.1", "host");
		is_int(a->port, 10143, "port");
		is_str(conf_security_name(a->security), "none", "security none on loopback");
		exp = xasprintf("%s/ca.pem", tmpdir);
		is_str(a->ca_file, exp, "ca_file");
		free(exp);
		is_str(a->username, "print@school.example", "username");
		is_str(a->login_user, "admin@school.example", "login_user");
		is_str(a->mailbox, "Print", "mailbox");
		is_str(conf_auth_name(a->auth), "login", "auth");
		ok(a->password_file != NULL && strstr(a->password_file, "/pass") != NULL, "password_file");
		is_int(a->poll_interval, 15, "poll_interval");
		ok(!a->oauth.present, "no oauth group");
		is_str(a->printer, "office-laser", "printer");
		is_int(a->allow_senders.n, 2, "allow_senders count");
		if (a->allow_senders.n == 2)
			is_str(a->allow_senders.v[1], "partner@example.org", "allow_senders[1]");
		is_str(conf_after_name(a->after), "move", "after");
		is_str(a->printed_folder, "Print/Done", "printed_folder");
		is_str(a->failed_folder, "Print/Failed", "failed_folder");
	}
	a = conf_account_find(c, "second");
	if (a != NULL) {
		is_int(a->port, 143, "starttls: default port 143");
		is_str(conf_auth_name(a->auth), "plain", "default auth plain");
		is_str(a->printer, "lab_2", "second printer");
	} else
		ok(0, "second account found");
	conf_free(&c);
	ok(c == NULL, "conf_free sets NULL");
	conf_free(&c);
	conf_free(NULL);
	free(path);
}

static void
test_defaults(void)
{
	char *path = data_conf("good-minimal.conf"), *err = NULL;
	struct conf *c = NULL;
	const struct conf_account *a;

	is_int(conf_load(path, &c, &err), 0, "minimal config loads");
	is_str(err, NULL, "minimal config: no message");
	if (c == NULL || c->naccounts != 1) {
		ok(0, "minimal config has one account");
		goto out;
	}
	a = &c->accounts[0];
	if (geteuid() == 0)
		is_str(c->state_dir, "/var/lib/mail2cups", "default state_dir for root");
	else
		ok(c->state_dir[0] == '/' && strstr(c->state_dir, "/mail2cups") != NULL,
		    "default state_dir for a user");
	is_str(c->cups_server, NULL, "no cups_server");
	is_int(c->log_level, LOG_LVL_INFO, "default log_level info");
	is_int(c->timeout, 60, "default timeout");
	is_int(c->max_attempts, 5, "default max_attempts");
	is_int(c->limits.max_message_size, 50 * 1024 * 1024, "default max_message_size");
	is_int(c->limits.max_attachment_size, 25 * 1024 * 1024, "default max_attachment_size");
	is_int(c->limits.max_parts, 200, "default max_parts");
	is_int(c->limits.max_depth, 20, "default max_depth");
	is_int(c->limits.max_attachments, 50, "default max_attachments");
	is_int(a->port, 993, "default port 993");
	is_int(a->security, CONF_SEC_SSL, "default security ssl");
	is_str(a->mailbox, "INBOX", "default mailbox");
	is_str(a->login_user, "print@example.org", "login_user defaults to username");
	is_int(a->auth, CONF_AUTH_PLAIN, "default auth plain");
	is_int(a->poll_interval, 60, "default poll_interval");
	is_int(a->after, CONF_AFTER_SEEN, "default after seen");
	is_str(a->printed_folder, "Printed", "default printed_folder");
	is_str(a->failed_folder, "Print Failed", "default failed_folder");
	is_int(a->allow_senders.n, 0, "allow_senders missing: empty, accepted");
	is_str(a->ca_file, NULL, "no ca_file");
 out:
	conf_free(&c);
	free(err);
	free(path);
}

/* Configs that must load, with one value to check each. */
static void
test_good_variants(void)
{
	static const struct {
		const char *name, *text;
		long long off_t_limit;	/* expected max_message_size */
		int port;
	} cases[] = {
		{ "size \"25M\"", "limits = { max_message_size = \"25M\"; };\n" HEAD HOST PW PRN TAIL,
		  25LL * 1024 * 1024, 993 },
		{ "size 1048576", "limits = { max_message_size = 1048576; };\n" HEAD HOST PW PRN TAIL,
		  1048576, 993 },
		{ "size int64 and \"2G\"", "limits = { max_message_size = 5368709120L; "
		  "max_attachment_size = \"2G\"; };\n" HEAD HOST PW PRN TAIL, 5368709120LL, 993 },
		{ "security none to localhost", HEAD "    security = \"none\";\n    host = \"localhost\";\n"
		  PW PRN TAIL, 50LL * 1024 * 1024, 143 },
		{ "security none to ::1", HEAD "    security = \"none\";\n    host = \"::1\";\n"
		  PW PRN TAIL, 50LL * 1024 * 1024, 143 },
		{ "empty allow_senders", HEAD "    allow_senders = [ ];\n" HOST PW PRN TAIL,
		  50LL * 1024 * 1024, 993 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *path = write_conf(cases[i].text), *err = NULL;
		struct conf *c = NULL;

		is_int(conf_load(path, &c, &err), 0, "%s: loads", cases[i].name);
		if (err)
			printf("#   %s\n", err);
		if (c != NULL) {
			is_int(c->limits.max_message_size, cases[i].off_t_limit, "%s: size", cases[i].name);
			is_int(c->accounts[0].port, cases[i].port, "%s: port", cases[i].name);
		}
		conf_free(&c);
		free(err);
		free(path);
	}
}

static void
test_oauth_group(void)
{
	char *path = data_conf("oauth-microsoft.conf"), *err = NULL;
	struct conf *c = NULL;
	const struct conf_account *a;

	is_int(conf_load(path, &c, &err), 0, "a Microsoft 365 OAuth account loads");
	is_str(err, NULL, "... with no problem");
	a = c ? conf_account_find(c, "office") : NULL;
	ok(a != NULL, "the account is there");
	if (a != NULL) {
		is_int(a->auth, CONF_AUTH_XOAUTH2, "an oauth group means auth = xoauth2");
		is_str(a->host, "outlook.office365.us", "gcchigh's IMAP host by default");
		is_int(a->port, 993, "port 993 by default");
		is_int(a->security, CONF_SEC_SSL, "implicit TLS by default");
		is_int(a->oauth.provider, CONF_PROVIDER_MICROSOFT, "provider");
		is_int(a->oauth.cloud, CONF_CLOUD_GCCHIGH, "cloud");
		is_int(a->oauth.flow, CONF_FLOW_DEVICE, "flow");
		is_int(a->oauth.assertion_rs256, 0, "client assertions use PS256 by default");
		is_str(a->login_user, "admin@contoso.com", "login_user (a delegate)");
		is_int(a->oauth.scopes.n, 2, "scopes override");
	}
	conf_free(&c);
	free(err);
	free(path);
}

/* A Google service account is its JSON key alone. */
static void
test_google_service_account(void)
{
	char *path = write_conf(HEAD "    oauth = { provider = \"google\"; client_id = \"c\";\n"
	    "      flow = \"client_credentials\";\n      private_key_file = \"@DIR@/pass\"; };\n"
	    PRN TAIL), *err = NULL;
	struct conf *c = NULL;

	is_int(conf_load(path, &c, &err), 0, "a Google service account with only its JSON key loads");
	is_str(err, NULL, "... with no problem");
	if (c != NULL) {
		is_str(c->accounts[0].host, "imap.gmail.com", "... Gmail's IMAP host by default");
		is_int(c->accounts[0].oauth.flow, CONF_FLOW_CLIENT_CREDENTIALS, "... client credentials");
	}
	conf_free(&c);
	free(err);
	free(path);
}

/* A file with very many problems: the report is capped, and says so. */
static void
test_many_problems(void)
{
	struct buf b = { 0 };
	char *path, *err = NULL, *exp;
	struct conf *c = NULL;

	for (int i = 0; i < 60; i++)
		buf_appendf(&b, "junk%d = %d;\n", i, i);
	path = write_conf(b.data);
	is_int(conf_load(path, &c, &err), M2C_E_CONFIG, "many problems: configuration error");
	is_int(err ? count_lines(err) : 0, 51, "many problems: 50 lines and a summary");
	exp = xasprintf("%s:50: junk49: unknown key", path);
	has_str(err, exp, "many problems: the 50th is reported");
	free(exp);
	exp = xasprintf("%s: ... and 11 more problems", path);
	has_str(err, exp, "many problems: the rest are counted (60 keys + missing accounts)");
	free(exp);
	free(err);
	free(path);
	buf_free(&b);
}

static void
test_missing_file(void)
{
	struct conf *c = NULL;
	char *err = NULL, *path = xasprintf("%s/does-not-exist.conf", tmpdir);

	is_int(conf_load(path, &c, &err), M2C_E_SYS, "missing file: system error");
	has_str(err, "does-not-exist.conf: cannot read the configuration file: No such file",
	    "missing file: message");
	is_int(conf_load(path, &c, NULL), M2C_E_SYS, "errstr may be NULL");
	free(err);
	free(path);
}

static void
test_names_and_paths(void)
{
	char *p;

	is_str(conf_security_name(CONF_SEC_STARTTLS), "starttls", "security name");
	is_str(conf_auth_name(CONF_AUTH_OAUTHBEARER), "oauthbearer", "auth name");
	is_str(conf_after_name(CONF_AFTER_DELETE), "delete", "after name");
	is_str(conf_after_name((enum conf_after)42), "?", "out-of-range name");
	p = conf_default_path();
	if (geteuid() == 0)
		is_str(p, SYSCONFDIR "/mail2cups.conf", "default path for root");
	else {
		setenv("XDG_CONFIG_HOME", "/xdg", 1);
		free(p);
		p = conf_default_path();
		is_str(p, "/xdg/mail2cups/mail2cups.conf", "default path for a user");
	}
	free(p);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	touch("pass");
	touch("ca.pem");
	test_full();
	test_defaults();
	test_good_variants();
	test_oauth_group();
	test_google_service_account();
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++)
		test_bad(&bad_cases[i]);
	test_many_problems();
	test_missing_file();
	test_names_and_paths();
	cleanup();
	return tap_done();
}
