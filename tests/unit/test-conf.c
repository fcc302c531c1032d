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
#include "m2c-paths.h"

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
	char *text = tap_read_file(src, NULL), *path;

	if (text == NULL) {
		perror(src);
		exit(99);
	}
	free(src);
	path = write_conf(text);
	free(text);
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
	p = xasprintf("%s/convert", tmpdir);
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
#define LONG100 "0123456789012345678901234567890123456789012345678901234567890123456789" \
	"012345678901234567890123456789"
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
	      "failed_folder, deny_senders, authenticated_senders_only, "
	      "trust_unauthenticated_from, authserv_id, tenant_domains, rules, hold, "
	      "print_body, reply, rejected_folder, idle, deliver_only, print_folders, "
	      "session_timeout, max_sessions, folder_users)" } } },
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
	/* Issue 11: the wake-up socket of the Dovecot plugin; idle. */
	{ "idle not a bool", HEAD "    idle = \"no\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": idle: must be true or false, not a string" } } },
	{ "wake_socket relative", "wake_socket = \"run/wake.sock\";\n" HEAD HOST PW PRN TAIL,
	  { { 1, "wake_socket: \"run/wake.sock\" is not an absolute path of at most 107 bytes" } } },
	{ "wake_socket too long", "wake_socket = \"/run/" LONG100 "/wake.sock\";\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "wake_socket: \"/run/" LONG100 "/wake.sock\" is not an absolute path" } } },
	{ "wake_socket_group unknown", "wake_socket = \"/run/w.sock\";\n"
	  "wake_socket_group = \"no-such-group-m2c\";\n" HEAD HOST PW PRN TAIL,
	  { { 2, "wake_socket_group: no group \"no-such-group-m2c\" on this system" } } },
	{ "wake_socket_group alone", "wake_socket_group = \"root\";\n" HEAD HOST PW PRN TAIL,
	  { { 1, "wake_socket_group: set without wake_socket (set both, or neither)" } } },
	{ "wake_interval out of range", "wake_interval = 3601;\n" HEAD HOST PW PRN TAIL,
	  { { 1, "wake_interval: 3601 is out of range (use 0 to 3600)" } } },
	{ "deliver_lock_wait out of range", "deliver_lock_wait = -1;\n" HEAD HOST PW PRN TAIL,
	  { { 1, "deliver_lock_wait: -1 is out of range (use 0 to 3600)" } } },
	{ "deliver_only with IMAP keys", "accounts = (\n  { name = \"office\";\n"
	  "    deliver_only = true;\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": host: an account with deliver_only = true reads no "
	      "mailbox (remove host)" },
	    { 5, "account \"office\": password_file: an account with deliver_only = true "
	      "reads no mailbox (remove password_file)" } } },
	{ "deliver_only replies without a From", "accounts = (\n  { name = \"office\";\n"
	  "    deliver_only = true;\n" PRN "    allow_senders = [ \"*@example.org\" ];\n"
	  "    authserv_id = \"mx.example.org\";\n    reply = [ \"accepted\" ];\n" TAIL
	  "smtp = { host = \"localhost\"; port = 25; security = \"none\"; auth = \"none\"; };\n",
	  { { 7, "account \"office\": reply: replies come from the account's username, and it "
	      "has none" } } },
	{ "print_folders with sender keys", "accounts = (\n  { name = \"pf\";\n"
	  "    print_folders = true;\n    username = \"x\";\n    login_user = \"m\";\n"
	  "    allow_senders = [ \"*\" ];\n    after = \"seen\";\n    auth = \"login\";\n"
	  HOST PW PRN TAIL,
	  { { 6, "account \"pf\": allow_senders: an account with print_folders = true prints "
	      "what each user put in their own folder, as that user" },
	    { 4, "account \"pf\": username: an account with print_folders = true" },
	    { 8, "account \"pf\": auth: print_folders = true signs in with AUTHENTICATE PLAIN" },
	    { 7, "account \"pf\": after: \"seen\" would leave printed mail in every user's "
	      "folder" } } },
	{ "print_folders without a master user", "accounts = (\n  { name = \"pf\";\n"
	  "    print_folders = true;\n" HOST PW PRN TAIL,
	  { { 2, "account \"pf\": login_user: missing (required: the Dovecot master user" } } },
	{ "print_folders keys elsewhere", HEAD "    session_timeout = 5;\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": session_timeout: an account with print_folders = false "
	      "reads one mailbox" } } },
	/* Issue 5: rules, users, converters, smtp, replies, sender trust. */
	{ "bad option phrase", "rules = ( { options = [ \"duplex\", \"dupplex\" ]; } );\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "rules.[0].options: \"dupplex\" is not a print option (" } } },
	{ "copies out of range in options", "rules = ( { options = [ \"1000 copies\" ]; } );\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "rules.[0].options: \"1000 copies\": the number of copies must be 1 to 999 "
	      "(see PRINT OPTIONS in mail2cups.conf(5))" } } },
	{ "unknown allow_options name", "rules = ( { allow_options = [ \"copies\", \"colour\" ]; } );\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "rules.[0].allow_options: \"colour\" is not an option name (use any of "
	      "\"copies\", \"sides\", \"color\", \"media\", \"pages\", \"orientation\", \"fit\", "
	      "\"hold\", \"body\")" } } },
	{ "rule: bad values", "rules = (\n { max_copies = 1000;\n printer = \"a b\";\n"
	  " print_body = \"sometimes\";\n hold = \"yes\"; }\n);\n" HEAD HOST PW PRN TAIL,
	  { { 2, "rules.[0].max_copies: 1000 is out of range (use 1 to 999)" },
	    { 3, "rules.[0].printer: \"a b\" may not contain spaces" },
	    { 5, "rules.[0].hold: must be true or false, not a string (write true or false "
	      "without quotes)" },
	    { 4, "rules.[0].print_body: \"sometimes\" is not allowed (use one of \"never\", "
	      "\"no-attachment\", \"always\")" } } },
	{ "unknown key in a rule", "rules = ( { pritner = \"x\"; } );\n" HEAD HOST PW PRN TAIL,
	  { { 1, "rules.[0].pritner: unknown key (did you mean \"printer\"?)" } } },
	{ "unknown key in an account's rule", HEAD "    rules = ( { printer = \"p\"; },\n"
	  "      { sendres = [ \"a@b\" ]; } );\n" HOST PW PRN TAIL,
	  { { 5, "account \"office\": rules.[1].sendres: unknown key (did you mean \"senders\"?)" } } },
	{ "rule not a group", "rules = ( \"x\" );\n" HEAD HOST PW PRN TAIL,
	  { { 1, "rules.[0]: must be a group { ... }, not a string" } } },
	{ "rules as a group", "rules = { printer = \"x\"; };\n" HEAD HOST PW PRN TAIL,
	  { { 1, "rules: must be a list of groups ( { ... }, { ... } ), not a group" } } },
	{ "bad template variable", "replies = { accepted = {\n body = \"${sender} ${jobid}\"; }; };\n"
	  HEAD HOST PW PRN TAIL,
	  { { 2, "replies.accepted.body: ${jobid} is not a template variable (use ${sender}, "
	      "${subject}, ${files}, ${queue}, ${jobs}, ${reason}, ${options}, ${notes}, "
	      "${release}, ${account}, ${mailbox})" } } },
	{ "template: unclosed, two lines, unknown key",
	  "replies = { rejected = { subject = \"a\\nb ${subject\"; subjet = \"x\"; }; };\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "replies.rejected.subjet: unknown key (did you mean \"subject\"?)" },
	    { 1, "replies.rejected.subject: a \"${\" is not closed" },
	    { 1, "replies.rejected.subject: must be one line (remove the line breaks)" } } },
	{ "replies: bad values", "replies = { from = \"printer\"; rate_limit = 0; sent = {}; };\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "replies.sent: unknown key (valid keys here: from, rate_limit, rate_period, "
	      "accepted, rejected, failed, printed)" },
	    { 1, "replies.from: \"printer\" is not an address" },
	    { 1, "replies.rate_limit: 0 is out of range (use 1 to 10000)" } } },
	{ "replies: a name without angle brackets", "replies = { from = \"Printer print@example.org\"; };\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "replies.from: \"Printer print@example.org\" is not an address" } } },
	{ "converter not absolute", "converters = ( { types = [ \"application/msword\" ];\n"
	  " command = [ \"soffice\", \"%i\" ]; } );\n" HEAD HOST PW PRN TAIL,
	  { { 2, "converters.[0].command: \"soffice\" is not an absolute path (give the program's "
	      "full path: no shell is used to find it)" } } },
	{ "converter not executable", "converters = ( { types = [ \"application/msword\" ];\n"
	  " command = [ \"@DIR@/pass\", \"%i\" ]; } );\n" HEAD HOST PW PRN TAIL,
	  { { 2, "converters.[0].command: cannot run /tmp/m2c-test-conf-" } } },
	{ "converter is a folder", "converters = ( { types = [ \"application/msword\" ];\n"
	  " command = [ \"/tmp\", \"%i\" ]; } );\n" HEAD HOST PW PRN TAIL,
	  { { 2, "converters.[0].command: /tmp is not a program" } } },
	{ "converter without %i", "converters = ( { types = [ \"application/msword\" ];\n"
	  " command = [ \"/bin/sh\", \"-c\", \"true\" ];\n timeout = 0; } );\n"
	  HEAD HOST PW PRN TAIL,
	  { { 2, "converters.[0].command: no argument contains %i, the file to convert "
	      "(add \"%i\" where the program expects its input)" },
	    { 3, "converters.[0].timeout: 0 is out of range (use 1 to 3600)" } } },
	{ "converter: bad types, no command", "converters = ( { types = [ \"pdf\", \"a/b/c\" ]; } );\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "converters.[0].types: \"pdf\" is not a media type (write type/subtype" },
	    { 1, "converters.[0].types: \"a/b/c\" is not a media type" },
	    { 1, "converters.[0].command: missing (required: the program and its arguments" } } },
	{ "converter: sandbox limits out of range, relative read_only_paths",
	  "converters = ( { types = [ \"application/msword\" ];\n command = [ \"/bin/sh\", \"%i\" ];\n"
	  " memory_limit = 1; max_processes = 1;\n read_only_paths = [ \"opt\" ]; } );\n"
	  "converters_unsandboxed = 1;\n" HEAD HOST PW PRN TAIL,
	  { { 3, "converters.[0].memory_limit: 1 is out of range (use 64 to 1048576)" },
	    { 3, "converters.[0].max_processes: 1 is out of range (use 4 to 4096)" },
	    { 4, "converters.[0].read_only_paths: \"opt\" is not an absolute path" },
	    { 5, "converters_unsandboxed: " } } },
	{ "converter: empty types", "converters = ( { types = [ ];\n command = [ \"/bin/sh\", \"%i\" ]; } );\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "converters.[0].types: is empty (list the media types this command converts)" } } },
	{ "smtp security none to a remote host",
	  "smtp = { host = \"smtp.example.org\";\n security = \"none\"; };\n" HEAD HOST PW PRN TAIL,
	  { { 2, "smtp.security: \"none\" is only allowed to a loopback host (localhost, 127.x, "
	      "::1), not \"smtp.example.org\"" } } },
	{ "smtp: plain without password_file, unknown key",
	  "smtp = { hots = \"x\"; auth = \"plain\"; };\n" HEAD HOST PW PRN TAIL,
	  { { 1, "smtp.hots: unknown key (did you mean \"host\"?)" },
	    { 1, "smtp.password_file: missing (required: a file holding the SMTP password" } } },
	{ "smtp: password_file without auth", "smtp = { password_file = \"@DIR@/pass\"; };\n"
	  HEAD HOST PW PRN TAIL,
	  { { 1, "smtp.password_file: is only used with auth = \"plain\" or \"login\"" } } },
	{ "authenticated_senders_only without a way to judge",
	  HEAD "    authenticated_senders_only = true;\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": authenticated_senders_only: there is no way to judge who "
	      "authenticated (set authserv_id to the name your mail server writes at the start "
	      "of its Authentication-Results header)" } } },
	{ "reply without SMTP", HEAD "    authserv_id = \"mx.example.org\";\n"
	  "    reply = [ \"accepted\" ];\n" HOST PW PRN TAIL,
	  { { 5, "account \"office\": reply: there is no SMTP server to send replies through "
	      "(set smtp = { host = \"...\"; }, or remove reply)" } } },
	{ "reply without a way to judge", "smtp = { host = \"smtp.example.org\"; };\n"
	  HEAD "    reply = [ \"rejected\" ];\n" HOST PW PRN TAIL,
	  { { 5, "account \"office\": reply: a reply only ever goes to a sender who "
	      "authenticated, and there is no way to judge that here (set authserv_id" } } },
	{ "reply with xoauth2 from a password account",
	  "smtp = { host = \"smtp.example.org\"; auth = \"xoauth2\"; };\n"
	  HEAD "    reply = [ \"failed\" ];\n    authserv_id = \"mx.example.org\";\n" HOST PW PRN TAIL,
	  { { 5, "account \"office\": reply: smtp.auth = \"xoauth2\" needs an OAuth account" } } },
	{ "reply from a username that is no address",
	  "smtp = { host = \"smtp.example.org\"; };\n"
	  "accounts = (\n  { name = \"office\";\n    username = \"office\";\n"
	  "    reply = [ \"failed\" ];\n    authserv_id = \"mx.example.org\";\n" HOST PW PRN TAIL,
	  { { 5, "account \"office\": reply: replies come from the account's username, and "
	      "\"office\" is not a mail address (set replies = { from = " } } },
	{ "bad reply kind and authserv_id", HEAD "    reply = [ \"sent\" ];\n"
	  "    authserv_id = \"mx example\";\n" HOST PW PRN TAIL,
	  { { 5, "account \"office\": authserv_id: \"mx example\" cannot be an authserv-id" },
	    { 4, "account \"office\": reply: \"sent\" is not allowed (use one of \"accepted\", "
	      "\"rejected\", \"failed\", \"printed\")" } } },
	{ "rejected_folder is the mailbox", HEAD "    rejected_folder = \"INBOX\";\n" HOST PW PRN TAIL,
	  { { 4, "account \"office\": rejected_folder: \"INBOX\" is the mailbox being watched" } } },
	{ "account: hold and print_body", HEAD "    hold = 1;\n    print_body = \"yes\";\n"
	  HOST PW PRN TAIL,
	  { { 5, "account \"office\": print_body: \"yes\" is not allowed" },
	    { 4, "account \"office\": hold: must be true or false, not a whole number" } } },
	{ "users entry with a bad user name", "users = (\n { sender = \"a@b\"; user = \"al ice\"; },\n"
	  " { user = \"%u\"; }\n);\n" HEAD HOST PW PRN TAIL,
	  { { 2, "users.[0].user: \"al ice\" is not a user name (use 1 to 32 letters, digits, "
	      "'.', '_' or '-', or \"%l\" for the local part of the sender's address)" },
	    { 3, "users.[1].sender: missing (required:" },
	    { 3, "users.[1].user: \"%u\" is not a user name" } } },
	{ "users: name too long", "users = ( { sender = \"a@b\"; user = "
	  "\"abcdefghijklmnopqrstuvwxyz0123456\"; } );\n" HEAD HOST PW PRN TAIL,
	  { { 1, "users.[0].user: \"abcdefghijklmnopqrstuvwxyz0123456\" is not a user name" } } },
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
		is_str(c->state_dir, M2C_STATE_DIR, "default state_dir for root");
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
	is_int(a->deliver_only, 0, "default deliver_only false");
	is_int(c->deliver_lock_wait, 5, "default deliver_lock_wait 5");
 out:
	conf_free(&c);
	free(err);
	free(path);
}

static void
test_issue5_rules(const struct conf *c, const struct conf_account *a)
{
	const struct conf_rule *r;

	is_int(c->nrules, 2, "two global rules");
	if (c->nrules == 2) {
		r = &c->rules[0];
		is_str(r->name, "staff-color", "rule name");
		is_int(r->line, 6, "rule line");
		is_int(r->senders.n, 1, "rule senders");
		is_int(r->subjects.n, 2, "rule subjects");
		is_str(r->recipients.n ? r->recipients.v[0] : NULL, "print+color@contoso.com",
		    "rule recipients");
		is_str(r->printer, "color-laser", "rule printer");
		is_int(r->options.set, POPT_COLOR | POPT_SIDES | POPT_MEDIA | POPT_COPIES,
		    "rule options: four fields set");
		is_str(r->options.color, "color", "rule options: color");
		is_str(r->options.sides, "two-sided-long-edge", "rule options: duplex");
		is_str(r->options.media, "iso_a4_210x297mm", "rule options: A4");
		is_int(r->options.copies, 2, "rule options: 2 copies");
		is_int(r->allow_options, POPT_COPIES | POPT_PAGES, "allow_options");
		is_int(r->force_options.set, POPT_MEDIA | POPT_ORIENTATION,
		    "force_options: two fields set");
		is_int(r->force_options.orientation, 4, "force_options: landscape");
		is_int(r->max_copies, 3, "max_copies");
		is_int(r->hold, 0, "rule hold false");
		is_int(r->print_body, CONF_BODY_ALWAYS, "rule print_body");
		r = &c->rules[1];
		is_str(r->name, "rule 2", "rule default name");
		is_int(r->allow_options, POPT_ALLOW_DEFAULT,
		    "rule default allow_options: the conservative default (rules.c)");
		is_int(r->force_options.set, 0, "rule without force_options");
		is_int(r->max_copies, 10, "rule default max_copies");
		is_int(r->hold, -1, "rule hold unset");
		is_int(r->print_body, -1, "rule print_body unset");
		is_int(r->options.set, 0, "rule without options");
		is_int(r->senders.n + r->recipients.n + r->subjects.n, 0, "rule matches everything");
	}
	is_int(a->nrules, 2, "two account rules");
	if (a->nrules == 2) {
		is_str(a->rules[0].printer, "floor2", "account rule printer");
		is_int(a->rules[0].hold, 1, "account rule hold");
		is_str(a->rules[1].name, "posters", "account rule name");
		is_int(a->rules[1].options.nranges, 2, "pages 1-2,4: two ranges");
		is_int(a->rules[1].options.ranges[1][0], 4, "pages 1-2,4: second range");
		is_int(a->rules[1].options.orientation, 4, "landscape");
		is_int(a->rules[1].print_body, CONF_BODY_NEVER, "account rule print_body never");
	}
}

static void
test_issue5(void)
{
	char *path = data_conf("good-issue5.conf"), *err = NULL, *exp;
	struct conf *c = NULL;
	const struct conf_account *a;
	const struct conf_replies *rp;

	is_int(conf_load(path, &c, &err), 0, "issue 5 config loads");
	is_str(err, NULL, "issue 5 config: no message");
	if (c == NULL || (a = conf_account_find(c, "own")) == NULL) {
		ok(0, "issue 5 config: account \"own\"");
		goto out;
	}
	test_issue5_rules(c, a);
	is_int(c->nusers, 2, "users");
	if (c->nusers == 2) {
		is_str(c->users[0].sender, "alice@contoso.com", "users[0].sender");
		is_str(c->users[0].user, "alice", "users[0].user");
		is_str(c->users[1].user, "%l", "users[1].user %%l");
	}
	is_int(c->nconverters, 1, "converters");
	if (c->nconverters == 1) {
		is_int(c->converters[0].types.n, 2, "converter types");
		is_int(c->converters[0].command.n, 7, "converter command");
		is_str(c->converters[0].command.v[6], "%i", "converter %%i kept as written");
		is_int(c->converters[0].timeout, 30, "converter timeout");
		is_int(c->converters[0].unsandboxed, 0, "converters sandboxed by default");
		is_int(c->converters[0].memory_limit, 4096, "converter memory_limit default");
		is_int(c->converters[0].file_size_limit, 256, "converter file_size_limit default");
		is_int(c->converters[0].max_processes, 64, "converter max_processes default");
		is_int(c->converters[0].cpu_time_limit, 30, "converter cpu_time_limit: its timeout");
	}
	is_str(c->smtp.host, "127.0.0.1", "smtp host");
	is_int(c->smtp.port, 2525, "smtp port");
	is_int(c->smtp.security, CONF_SEC_NONE, "smtp security none to loopback");
	ok(c->smtp.ca_file != NULL, "smtp ca_file");
	is_int(c->smtp.auth, CONF_SMTP_PLAIN, "smtp auth");
	is_int(c->smtp.auth_set, 1, "smtp auth_set");
	is_str(c->smtp.username, "relay-user", "smtp username");
	ok(c->smtp.password_file != NULL, "smtp password_file");
	rp = &c->replies;
	is_str(rp->from, "Printer <print@contoso.com>", "replies from");
	is_int(rp->rate_limit, 3, "rate_limit");
	is_int(rp->rate_period, 600, "rate_period");
	is_str(rp->t[CONF_REPLY_ACCEPTED].subject, "OK: ${subject}", "accepted subject");
	is_str(rp->t[CONF_REPLY_ACCEPTED].body, "Jobs ${jobs} on ${queue}.\n${release}\n",
	    "accepted body (escapes decoded)");
	is_str(rp->t[CONF_REPLY_REJECTED].subject, "Not printed: ${subject}", "rejected subject");
	has_str(rp->t[CONF_REPLY_REJECTED].body, "${reason}", "rejected body: the default");
	is_str(rp->t[CONF_REPLY_FAILED].body, "Failed: ${reason}\n", "failed body");
	is_str(rp->t[CONF_REPLY_FAILED].subject, "Print failed: ${subject}", "failed subject: default");
	is_str(rp->t[CONF_REPLY_PRINTED].subject, "Done: ${subject}", "printed subject");

	is_int(a->deny_senders.n, 2, "deny_senders");
	is_int(a->authenticated_senders_only, 1, "authenticated_senders_only");
	is_str(a->authserv_id, "mx.contoso.com", "authserv_id");
	is_int(a->tenant_domains.n, 2, "tenant_domains given");
	if (a->tenant_domains.n == 2)
		is_str(a->tenant_domains.v[0], "contoso.com", "tenant_domains lower-cased");
	is_int(a->hold, 1, "hold");
	is_int(a->print_body, CONF_BODY_NO_ATTACHMENT, "print_body");
	is_int(a->reply, 0xf, "reply: all four kinds");
	is_str(a->rejected_folder, "Print/Rejected", "rejected_folder");

	if ((a = conf_account_find(c, "m365")) != NULL) {
		is_str(a->authserv_id, NULL, "microsoft: no authserv_id (topmost header)");
		is_int(a->tenant_domains.n, 2, "microsoft: username's domain and the tenant");
		if (a->tenant_domains.n == 2) {
			is_str(a->tenant_domains.v[0], "contoso.com", "... the username's domain");
			is_str(a->tenant_domains.v[1], "contoso.onmicrosoft.com", "... the tenant");
		}
		is_int(a->reply, 1u << CONF_REPLY_REJECTED, "reply rejected");
	} else
		ok(0, "account m365");
	if ((a = conf_account_find(c, "gmail")) != NULL) {
		is_str(a->authserv_id, "mx.google.com", "google: authserv_id mx.google.com");
		is_int(a->reply, 1u << CONF_REPLY_PRINTED, "reply printed");
	} else
		ok(0, "account gmail");
	exp = xasprintf("%s/convert", tmpdir);
	if (c->nconverters == 1)
		is_str(c->converters[0].command.v[0], exp, "converter program");
	free(exp);
 out:
	conf_free(&c);
	free(err);
	free(path);
}

/* The issue 5 defaults, from the minimal config. */
static void
test_issue5_defaults(void)
{
	char *path = data_conf("good-minimal.conf"), *err = NULL;
	struct conf *c = NULL;
	const struct conf_account *a;

	is_int(conf_load(path, &c, &err), 0, "minimal config loads (issue 5 defaults)");
	if (c == NULL || c->naccounts != 1)
		goto out;
	a = &c->accounts[0];
	is_int(c->nrules + c->nusers + c->nconverters, 0, "no rules, users or converters");
	ok(c->rules == NULL && c->users == NULL && c->converters == NULL, "... and no arrays");
	is_str(c->smtp.host, NULL, "smtp host: the provider's");
	is_int(c->smtp.port, 0, "smtp port: by security");
	is_int(c->smtp.security, CONF_SEC_STARTTLS, "smtp security starttls");
	is_int(c->smtp.auth_set, 0, "smtp auth not set");
	is_str(c->replies.from, NULL, "replies from: the account");
	is_int(c->replies.rate_limit, 10, "default rate_limit");
	is_int(c->replies.rate_period, 3600, "default rate_period");
	for (int k = 0; k < CONF_REPLY_NKINDS; k++) {
		const struct conf_template *t = &c->replies.t[k];

		ok(t->subject != NULL && strstr(t->subject, "${subject}") != NULL &&
		    strchr(t->subject, '\n') == NULL, "default %s subject: one line, names the "
		    "message", conf_reply_kind_name((enum conf_reply_kind)k));
		ok(t->body != NULL && strlen(t->body) > 40, "default %s body",
		    conf_reply_kind_name((enum conf_reply_kind)k));
	}
	has_str(c->replies.t[CONF_REPLY_ACCEPTED].body, "${files}", "accepted lists the files");
	has_str(c->replies.t[CONF_REPLY_ACCEPTED].body, "${queue}", "accepted names the queue");
	has_str(c->replies.t[CONF_REPLY_ACCEPTED].body, "${jobs}", "accepted names the jobs");
	has_str(c->replies.t[CONF_REPLY_ACCEPTED].body, "${options}", "accepted gives the options");
	has_str(c->replies.t[CONF_REPLY_ACCEPTED].body, "${notes}", "accepted gives the notes");
	has_str(c->replies.t[CONF_REPLY_ACCEPTED].body, "${release}", "accepted says how to release");
	has_str(c->replies.t[CONF_REPLY_REJECTED].body, "${reason}", "rejected says why");
	has_str(c->replies.t[CONF_REPLY_FAILED].body, "${reason}", "failed says why");
	has_str(c->replies.t[CONF_REPLY_PRINTED].body, "printed", "printed says so");
	is_int(a->deny_senders.n, 0, "no deny_senders");
	is_int(a->authenticated_senders_only, 0, "authenticated_senders_only off");
	is_str(a->authserv_id, NULL, "no authserv_id");
	is_int(a->tenant_domains.n, 1, "tenant_domains: the username's domain");
	if (a->tenant_domains.n == 1)
		is_str(a->tenant_domains.v[0], "example.org", "... example.org");
	is_int(a->nrules, 0, "no account rules");
	is_int(a->hold, 0, "hold off");
	is_int(a->print_body, CONF_BODY_NEVER, "print_body never");
	is_int(a->reply, 0, "no replies");
	is_str(a->rejected_folder, "Print Rejected", "default rejected_folder");
 out:
	conf_free(&c);
	free(err);
	free(path);
}

/* The digest changes exactly when something a worker uses changes. */
static void
test_digest(void)
{
	static const struct {
		const char *name, *before, *in_account;
	} cases[] = {
		{ "nothing", "", "" },
		{ "deny_senders", "", "    deny_senders = [ \"x@y\" ];\n" },
		{ "authenticated_senders_only", "",
		  "    authenticated_senders_only = true; authserv_id = \"mx\";\n" },
		{ "tenant_domains", "", "    tenant_domains = [ \"other.example\" ];\n" },
		{ "account rules", "", "    rules = ( { printer = \"b\"; } );\n" },
		{ "hold", "", "    hold = true;\n" },
		{ "print_body", "", "    print_body = \"always\";\n" },
		{ "reply", "smtp = { host = \"localhost\"; };\n",
		  "    reply = [ \"printed\" ]; authserv_id = \"mx\";\n" },
		{ "rejected_folder", "", "    rejected_folder = \"R\";\n" },
		{ "global rules", "rules = ( { options = [ \"duplex\" ]; } );\n", "" },
		{ "users", "users = ( { sender = \"*\"; user = \"%l\"; } );\n", "" },
		{ "converters", "converters = ( { types = [ \"a/b\" ]; "
		  "command = [ \"/bin/sh\", \"%i\" ]; } );\n", "" },
		{ "smtp", "smtp = { host = \"localhost\"; };\n", "" },
		{ "replies", "replies = { printed = { body = \"${files}\"; }; };\n", "" },
	};
	char *base = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text = xasprintf("%s" HEAD HOST PW PRN "%s" TAIL, cases[i].before,
		    cases[i].in_account);
		char *path = write_conf(text), *err = NULL, *d;
		struct conf *c = NULL;

		if (conf_load(path, &c, &err) != 0) {
			ok(0, "digest: %s loads: %s", cases[i].name, err);
			goto next;
		}
		d = conf_account_digest(c, &c->accounts[0]);
		if (base == NULL) {
			base = d;
			d = NULL;
		} else
			ok(strcmp(base, d) != 0, "digest: %s changes it", cases[i].name);
		free(d);
 next:
		conf_free(&c);
		free(err);
		free(path);
		free(text);
	}
	free(base);
}

/* Configs that must load, with one value to check each. */
/* An account only `mail2cups deliver` feeds: no IMAP key needed. */
static void
test_deliver_only(void)
{
	char *path = write_conf("deliver_lock_wait = 2;\naccounts = (\n  { name = \"office\";\n"
	    "    deliver_only = true;\n" PRN TAIL), *err = NULL;
	struct conf *c = NULL;

	is_int(conf_load(path, &c, &err), 0, "deliver_only: loads without host, username, auth");
	is_str(err, NULL, "deliver_only: no message");
	if (c != NULL && c->naccounts == 1) {
		is_int(c->accounts[0].deliver_only, 1, "deliver_only: set");
		is_str(c->accounts[0].host, NULL, "deliver_only: no host");
		is_str(c->accounts[0].username, NULL, "deliver_only: no username");
		is_str(c->accounts[0].password_file, NULL, "deliver_only: no password_file");
		is_int(c->deliver_lock_wait, 2, "deliver_lock_wait read");
	} else {
		ok(0, "deliver_only: one account");
	}
	conf_free(&c);
	free(err);
	free(path);
}

/* print_folders: every user's Print folder through a master user. */
static void
test_print_folders(void)
{
	char *path = write_conf("accounts = (\n  { name = \"pf\";\n    print_folders = true;\n"
	    "    login_user = \"m2c\";\n    folder_users = [ \"alice\", \"bob\" ];\n"
	    "    session_timeout = 5;\n    max_sessions = 3;\n" HOST PW PRN TAIL), *err = NULL;
	struct conf *c = NULL;

	is_int(conf_load(path, &c, &err), 0, "print_folders: loads without username");
	is_str(err, NULL, "print_folders: no message");
	if (c != NULL && c->naccounts == 1) {
		const struct conf_account *a = &c->accounts[0];

		is_int(a->print_folders, 1, "print_folders: set");
		is_str(a->mailbox, "Print", "print_folders: mailbox defaults to Print");
		is_int((int)a->after, (int)CONF_AFTER_MOVE, "print_folders: after defaults to move");
		is_int(a->poll_interval, 3600, "print_folders: the safety pass hourly");
		is_int(a->idle, 0, "print_folders: no IDLE");
		is_int(a->session_timeout, 5, "session_timeout read");
		is_int(a->max_sessions, 3, "max_sessions read");
		ok(a->folder_users.n == 2 && strcmp(a->folder_users.v[1], "bob") == 0,
		    "folder_users read");
		is_str(a->username, NULL, "print_folders: no username");
		is_str(a->login_user, "m2c", "print_folders: the master user");
	} else {
		ok(0, "print_folders: one account");
	}
	conf_free(&c);
	free(err);
	free(path);
}

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

/* @include: an absolute path as written, a relative one from the file's folder. */
static void
test_include(void)
{
	char *inc = write_conf("accounts = ( { name = \"inc\"; host = \"mail.example.org\";\n"
	    "  username = \"p@example.org\"; password_file = \"@DIR@/pass\"; printer = \"q\"; } );\n");
	const char *base = strrchr(inc, '/') + 1;
	char *text, *path, *err = NULL, cwd_before[4096], cwd_after[4096];
	struct conf *c = NULL;

	text = xasprintf("log_level = \"debug\";\n@include \"%s\"\n", inc);
	path = write_conf(text);
	if (getcwd(cwd_before, sizeof(cwd_before)) == NULL)
		exit(99);
	is_int(conf_load(path, &c, &err), 0, "@include with an absolute path loads");
	if (err)
		printf("# %s\n", err);
	is_str(c && c->naccounts == 1 ? c->accounts[0].name : "(none)", "inc",
	    "... the included account is there");
	is_str(getcwd(cwd_after, sizeof(cwd_after)), cwd_before, "... the working directory is kept");
	conf_free(&c);
	free(err);
	err = NULL;
	free(text);
	free(path);

	text = xasprintf("@include \"%s\"\n", base);
	path = write_conf(text);
	is_int(conf_load(path, &c, &err), 0, "@include with a name relative to the file's folder loads");
	if (err)
		printf("# %s\n", err);
	conf_free(&c);
	free(err);
	err = NULL;
	free(text);
	free(path);

	path = write_conf("@include \"@DIR@/no-such.conf\"\n");
	is_int(conf_load(path, &c, &err), M2C_E_CONFIG, "a missing include: configuration error");
	has_str(err, ":1: cannot open the file of this @include (check its name", "... naming the line and what to check");
	free(err);
	free(path);
	free(inc);
}

static void
test_missing_file(void)
{
	struct conf *c = NULL;
	char *err = NULL, *path = xasprintf("%s/does-not-exist.conf", tmpdir);

	is_int(conf_load(path, &c, &err), M2C_E_CONFIG, "missing file: configuration error (78)");
	has_str(err, "does-not-exist.conf: cannot read the configuration file: No such file",
	    "missing file: message");
	is_int(conf_load(path, &c, NULL), M2C_E_CONFIG, "errstr may be NULL");
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
	is_str(conf_reply_kind_name(CONF_REPLY_PRINTED), "printed", "reply kind name");
	is_str(conf_reply_kind_name(CONF_REPLY_NKINDS), "?", "reply kind out of range");
	is_str(conf_body_name(CONF_BODY_NO_ATTACHMENT), "no-attachment", "body name");
	p = conf_default_path();
	if (geteuid() == 0)
		is_str(p, M2C_CONF_PATH, "default path for root");
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
	touch("convert");
	{
		char *conv = xasprintf("%s/convert", tmpdir);

		if (chmod(conv, 0755) != 0) {
			perror(conv);
			return 99;
		}
		free(conv);
	}
	test_full();
	test_defaults();
	test_issue5();
	test_issue5_defaults();
	test_digest();
	test_good_variants();
	test_deliver_only();
	test_print_folders();
	test_oauth_group();
	test_google_service_account();
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++)
		test_bad(&bad_cases[i]);
	test_many_problems();
	test_include();
	test_missing_file();
	test_names_and_paths();
	cleanup();
	return tap_done();
}
