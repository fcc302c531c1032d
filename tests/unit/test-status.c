/*
 * test-status.c - account status rows in the state database (and the
 * migration that adds them), the status decision with injected times,
 * recording a pass's outcome, and the text and JSON output.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "conf.h"
#include "error.h"
#include "oauth.h"
#include "state.h"
#include "status.h"
#include "tap.h"
#include "tokenstore.h"
#include "util.h"

static char dir[] = "/tmp/m2c-status.XXXXXX";

/* ------------------------------------------------------------------ rows */

static void
test_account_rows(void)
{
	static const struct {
		enum state_account_status status;
		const char *reason;
		int64_t now;
		int64_t want_last_ok, want_since;
	} steps[] = {
		{ STATE_ACCOUNT_OK, NULL, 1000, 1000, 1000 },
		{ STATE_ACCOUNT_ERROR, "IMAP server refused the sign-in", 2000, 1000, 2000 },
		{ STATE_ACCOUNT_ERROR, "still refused", 3000, 1000, 2000 },
		{ STATE_ACCOUNT_WAITING, "sign-in required", 3500, 1000, 3500 },
		{ STATE_ACCOUNT_OK, NULL, 4000, 4000, 4000 },
		{ STATE_ACCOUNT_OK, NULL, 5000, 5000, 4000 },
	};
	struct state *s = NULL;
	struct state_account a;
	char *err = NULL, *sub = xasprintf("%s/rows", dir);

	is_int(state_open(sub, &s, &err), 0, "open a new database");
	is_int(state_account_get(s, "office", &a, &err), 0, "get a missing account row");
	is_int(a.status, STATE_ACCOUNT_NONE, "a missing row reads NONE");
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		is_int(state_account_set(s, "office", steps[i].status, steps[i].reason,
		    steps[i].reason ? "the fix" : NULL, steps[i].reason ? M2C_E_AUTH : 0,
		    steps[i].reason ? "imap" : NULL, steps[i].now, &err), 0, "step %zu: set", i);
		is_int(state_account_get(s, "office", &a, &err), 0, "step %zu: get", i);
		is_int(a.status, steps[i].status, "step %zu: status", i);
		is_str(a.reason, steps[i].reason, "step %zu: reason", i);
		is_int(a.last_check, steps[i].now, "step %zu: last_check", i);
		is_int(a.last_ok, steps[i].want_last_ok, "step %zu: last_ok", i);
		is_int(a.since, steps[i].want_since, "step %zu: since (kept while the same)", i);
		is_int(a.error_class, steps[i].reason ? M2C_E_AUTH : 0, "step %zu: class", i);
		is_str(a.step, steps[i].reason ? "imap" : NULL, "step %zu: the failed step", i);
		state_account_clear(&a);
	}
	is_int(state_account_set(s, "office", STATE_ACCOUNT_NONE, NULL, NULL, 0, NULL, 1, &err),
	    M2C_E_USAGE, "NONE cannot be stored");
	free(err);
	err = NULL;
	is_int(state_account_set(s, "annex", STATE_ACCOUNT_ERROR, "down", NULL,
	    M2C_E_UNAVAIL, "cups", 10, &err), 0, "a second account");
	is_int(state_account_get(s, "annex", &a, &err), 0, "read the second account");
	is_int(a.status, STATE_ACCOUNT_ERROR, "its own row");
	is_int(a.last_ok, 0, "never ok reads 0");
	state_account_clear(&a);
	is_int(state_account_get(s, "office", &a, &err), 0, "the first account again");
	is_int(a.last_check, steps[ARRAY_SIZE(steps) - 1].now, "unchanged by the second");
	state_account_clear(&a);
	state_close(&s);
	free(sub);
}

static void
test_counts(void)
{
	struct state_key k1 = { "office", "INBOX", 7, 1 }, k2 = { "office", "INBOX", 7, 2 };
	struct state *s = NULL;
	char nonce[33], *err = NULL, *sub = xasprintf("%s/counts", dir);
	int printed = -1, pending = -1, attempts;

	is_int(state_open(sub, &s, &err), 0, "open");
	is_int(state_account_counts(s, "office", 0, &printed, &pending, &err), 0, "empty counts");
	is_int(printed, 0, "nothing printed");
	is_int(pending, 0, "nothing pending");
	state_part_intent(s, &k1, "2", "q", "a.pdf", nonce, &err);
	state_part_intent(s, &k1, "3", "q", "b.pdf", nonce, &err);
	state_part_submitted(s, &k1, "2", 17, &err);
	state_msg_attempt(s, &k2, &attempts, &err);
	is_int(state_account_counts(s, "office", 0, &printed, &pending, &err), 0, "counts");
	is_int(printed, 1, "one part with a job id (the intent without one does not count)");
	is_int(pending, 2, "two ACTIVE messages");
	is_int(state_account_counts(s, "office", (int64_t)time(NULL) + 3600, &printed,
	    &pending, &err), 0, "counts since a later time");
	is_int(printed, 0, "nothing printed since then");
	state_msg_set(s, &k1, STATE_MSG_DONE, NULL, &err);
	is_int(state_account_counts(s, "other", 0, &printed, &pending, &err), 0, "other account");
	is_int(printed + pending, 0, "counts are per account");
	is_int(state_account_counts(s, "office", 0, &printed, &pending, &err), 0, "after done");
	is_int(pending, 1, "a DONE message is no longer pending");
	state_close(&s);
	free(sub);
}

/* ------------------------------------------------------------------ migration */

static int
user_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int
exec_db(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return rc;
}

static void
test_migration(void)
{
	struct state_key k = { "office", "INBOX", 7, 42 };
	struct state *s = NULL;
	struct state_account a;
	struct state_msg m;
	char *err = NULL, *sub = xasprintf("%s/old", dir), *path;

	mkdir(sub, 0700);
	path = xasprintf("%s/state.db", sub);
	/* A database as the first release left it: schema version 1. */
	ok(exec_db(path, "CREATE TABLE messages (account TEXT NOT NULL, mailbox TEXT NOT NULL,"
	    " uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL, status TEXT NOT NULL,"
	    " attempts INTEGER NOT NULL DEFAULT 0, reason TEXT, message_id TEXT,"
	    " first_seen INTEGER NOT NULL, updated INTEGER NOT NULL,"
	    " PRIMARY KEY (account, mailbox, uidvalidity, uid));"
	    "CREATE TABLE parts (account TEXT NOT NULL, mailbox TEXT NOT NULL,"
	    " uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL, part TEXT NOT NULL,"
	    " status TEXT NOT NULL, nonce TEXT NOT NULL, printer TEXT NOT NULL, filename TEXT,"
	    " job_id INTEGER, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	    " PRIMARY KEY (account, mailbox, uidvalidity, uid, part));"
	    "INSERT INTO messages VALUES ('office', 'INBOX', 7, 42, 'printed', 1, NULL, NULL, 1, 1);"
	    "PRAGMA user_version = 1;"), "make a version 1 database");
	is_int(user_version(path), 1, "it is at version 1");

	/* Read-only: no accounts table yet reads as no rows, nothing changes. */
	is_int(state_open_readonly(sub, &s, &err), 0, "read-only open of version 1");
	is_int(state_account_get(s, "office", &a, &err), 0, "get from version 1");
	is_int(a.status, STATE_ACCOUNT_NONE, "version 1 has no account rows");
	state_close(&s);
	is_int(user_version(path), 1, "the read-only open did not migrate");

	is_int(state_open(sub, &s, &err), 0, "open migrates");
	is_int(user_version(path), 8, "now at the current version (8)");
	is_int(state_msg_get(s, &k, &m, &err), 0, "old message row read");
	is_int(m.status, STATE_MSG_PRINTED, "old message row kept");
	state_msg_clear(&m);
	is_int(state_account_set(s, "office", STATE_ACCOUNT_ERROR, "refused", NULL, M2C_E_AUTH,
	    "mailbox", 5, &err), 0, "account row written after the migration");
	state_close(&s);

	is_int(state_open_readonly(sub, &s, &err), 0, "read-only open of the current version");
	is_int(state_account_get(s, "office", &a, &err), 0, "get read-only");
	is_int(a.status, STATE_ACCOUNT_ERROR, "row read back read-only");
	is_str(a.step, "mailbox", "with its step");
	is_int(a.error_class, M2C_E_AUTH, "and its code");
	state_account_clear(&a);
	is_int(state_account_set(s, "office", STATE_ACCOUNT_OK, NULL, NULL, 0, NULL, 6, &err),
	    M2C_E_CONFIG, "a read-only handle cannot write (SQLITE_READONLY: a permission problem)");
	free(err);
	err = NULL;
	state_close(&s);

	/* A daemon not yet upgraded: schema 5 has rows but no step. */
	ok(exec_db(path, "ALTER TABLE accounts DROP COLUMN step; DROP TABLE deliveries; "
	    "DROP TABLE folder_users; "
	    "PRAGMA user_version = 5"),
	    "back to schema 5");
	is_int(state_open_readonly(sub, &s, &err), 0, "read-only open of version 5");
	is_int(state_account_get(s, "office", &a, &err), 0, "get from version 5");
	is_int(a.status, STATE_ACCOUNT_ERROR, "version 5: the row is read");
	ok(a.step == NULL, "version 5: no step");
	state_account_clear(&a);
	state_close(&s);
	is_int(user_version(path), 5, "the read-only open did not migrate");
	is_int(state_open(sub, &s, &err), 0, "open migrates 5 -> 8");
	is_int(user_version(path), 8, "at version 8 again");
	state_close(&s);

	ok(exec_db(path, "PRAGMA user_version = 99"), "pretend a newer schema");
	is_int(state_open_readonly(sub, &s, &err), M2C_E_NOTSUP, "a newer schema is refused");
	has_str(err, "newer", "and says so");
	free(err);
	err = NULL;
	free(path);
	free(sub);

	sub = xasprintf("%s/none", dir);
	is_int(state_open_readonly(sub, &s, &err), M2C_E_NOTFOUND, "no database: NOTFOUND");
	ok(s == NULL && err == NULL, "no handle, no message");
	ok(access(sub, F_OK) != 0, "nothing created");
	free(sub);
}

/* ------------------------------------------------------------------ evaluate */

static void
init_account(struct conf_account *a, const char *name, enum conf_auth auth)
{
	memset(a, 0, sizeof(*a));
	a->name = (char *)name;
	a->username = (char *)"print@example.com";
	a->host = (char *)"imap.example.com";
	a->port = 993;
	a->mailbox = (char *)"INBOX";
	a->auth = auth;
	a->password_file = auth == CONF_AUTH_PLAIN ? (char *)"/etc/m2c/pass" : NULL;
	a->poll_interval = 60;
	a->oauth.flow = CONF_FLOW_DEVICE;
}

static void
test_evaluate(void)
{
	const time_t now = 1700000000;
	struct conf cf = { .idle_interval = 60 };
	static const struct {
		const char *desc;
		enum conf_auth auth;
		enum state_account_status row;
		long age;		/* now - last_check */
		int have_tokens;
		long pending;		/* 0: none; else expires_at - now */
		enum status_kind want;
		const char *reason;	/* substring, or NULL for no reason */
		const char *fix;	/* substring, or NULL for no fix */
	} t[] = {
		{ "never checked", CONF_AUTH_PLAIN, STATE_ACCOUNT_NONE, 0, 0, 0,
		  STATUS_NOT_CONFIGURED, "never checked", "mail2cups once" },
		{ "ok, fresh", CONF_AUTH_PLAIN, STATE_ACCOUNT_OK, 100, 0, 0, STATUS_OK, NULL, NULL },
		{ "ok, at the threshold", CONF_AUTH_PLAIN, STATE_ACCOUNT_OK, 780, 0, 0,
		  STATUS_OK, NULL, NULL },
		{ "ok, stale", CONF_AUTH_PLAIN, STATE_ACCOUNT_OK, 781, 0, 0, STATUS_ERROR,
		  "(is the timer or the daemon running?)", "poll_interval" },
		{ "error", CONF_AUTH_PLAIN, STATE_ACCOUNT_ERROR, 10, 0, 0, STATUS_ERROR,
		  "stored reason", "stored fix" },
		{ "oauth, code pending", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_WAITING, 10, 0, 600,
		  STATUS_WAITING, "ABCD-1234", NULL },
		{ "oauth, code pending: where", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_WAITING, 10, 0, 600,
		  STATUS_WAITING, "https://login.example/device", NULL },
		{ "oauth, code pending: time left", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_WAITING, 10, 0,
		  600, STATUS_WAITING, "10 min", NULL },
		{ "oauth, never run, code pending", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_NONE, 0, 0, 61,
		  STATUS_WAITING, "2 min", NULL },
		{ "oauth, code expired", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_ERROR, 10, 0, -300,
		  STATUS_WAITING, "expired 5 min ago", "mail2cups-oauth login office" },
		{ "oauth, signed in, old code left", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_OK, 10, 1, 600,
		  STATUS_OK, NULL, NULL },
		{ "oauth, no tokens, never run", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_NONE, 0, 0, 0,
		  STATUS_NOT_CONFIGURED, "no tokens", "mail2cups-oauth login office" },
		{ "oauth, signed out after a good pass", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_OK, 10,
		  0, 0, STATUS_ERROR, "no tokens", "mail2cups-oauth login office" },
		{ "oauth, signed in after waiting", CONF_AUTH_XOAUTH2, STATE_ACCOUNT_WAITING, 10,
		  1, 0, STATUS_WAITING, "next pass", NULL },
	};
	struct conf_account a;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct state_account row = { 0 };
		struct status_account sa = { 0 };
		struct oauth_device d = { 0 };

		init_account(&a, "office", t[i].auth);
		row.status = t[i].row;
		if (t[i].row != STATE_ACCOUNT_NONE) {
			row.last_check = row.since = (int64_t)(now - t[i].age);
			row.last_ok = t[i].row == STATE_ACCOUNT_OK ? row.last_check : 0;
		}
		if (t[i].row == STATE_ACCOUNT_ERROR) {
			row.reason = (char *)"stored reason";
			row.fix = (char *)"stored fix";
			row.error_class = M2C_E_AUTH;
		}
		d.user_code = (char *)"ABCD-1234";
		d.verification_uri = (char *)"https://login.example/device";
		d.expires_at = now + t[i].pending;
		status_evaluate(&sa, &cf, &a, &row, t[i].have_tokens, t[i].pending ? &d : NULL, now);
		is_str(status_kind_name(sa.kind), status_kind_name(t[i].want), "%s: status",
		    t[i].desc);
		if (t[i].reason)
			has_str(sa.reason, t[i].reason, "%s: reason", t[i].desc);
		else
			ok(sa.reason == NULL, "%s: no reason", t[i].desc);
		if (t[i].fix)
			has_str(sa.fix, t[i].fix, "%s: fix", t[i].desc);
		else
			ok(sa.fix == NULL, "%s: no fix", t[i].desc);
		is_int(sa.sign_in.present, t[i].want == STATUS_WAITING && t[i].pending != 0,
		    "%s: sign-in details", t[i].desc);
		free(sa.reason);
		free(sa.fix);
		free(sa.sign_in.user_code);
		free(sa.sign_in.verification_uri);
	}
	/* An error row with its step: the fix is advice for (step, code), never
	 * read from the reason; a row from before steps keeps its stored fix. */
	{
		static const struct {
			const char *step;
			int code;
			const char *reason;
			const char *fix;
		} e[] = {
			{ "imap", M2C_E_AUTH, "the CUPS queue said no", "password_file" },
			{ "cups", M2C_E_UNAVAIL, "IMAP server refused", "cups_server" },
			{ "mailbox", M2C_E_SERVER, "whatever", "mailbox" },
			{ "print", M2C_E_TEMP, "whatever", "cupsaccept" },
			{ NULL, M2C_E_AUTH, "an old row", "stored fix" },
			{ "from-the-future", M2C_E_AUTH, "a newer row", "stored fix" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(e); i++) {
			struct state_account row = { 0 };
			struct status_account sa = { 0 };

			init_account(&a, "office", CONF_AUTH_PLAIN);
			a.printer = (char *)"q";
			row.status = STATE_ACCOUNT_ERROR;
			row.last_check = row.since = (int64_t)now - 10;
			row.reason = (char *)e[i].reason;
			row.fix = (char *)"stored fix";
			row.error_class = e[i].code;
			row.step = (char *)e[i].step;
			status_evaluate(&sa, &cf, &a, &row, 0, NULL, now);
			is_str(sa.reason, e[i].reason, "error at %s: the reason as recorded",
			    e[i].step ? e[i].step : "(no step)");
			has_str(sa.fix, e[i].fix, "error at %s, %s: the fix",
			    e[i].step ? e[i].step : "(no step)", m2c_err_name(e[i].code));
			/* The step as data only when it is one status knows. */
			is_str(sa.step, e[i].step != NULL &&
			    strcmp(e[i].step, "from-the-future") != 0 ? e[i].step : NULL,
			    "error at %s: the step", e[i].step ? e[i].step : "(no step)");
			is_int(sa.code, e[i].code, "error at %s: the code",
			    e[i].step ? e[i].step : "(no step)");
			free(sa.reason);
			free(sa.fix);
		}
	}
	init_account(&a, "office", CONF_AUTH_PLAIN);
	a.poll_interval = 300;
	cf.idle_interval = 60;
	is_int(status_stale_after(&cf, &a), 1500, "stale after 3 x 300 s + 600 s (timer)");
	cf.idle_interval = 1500;
	is_int(status_stale_after(&cf, &a), 3600, "stale after 2 x 1500 s + 600 s (daemon)");
}

static void
test_fmt_age(void)
{
	static const struct {
		long s;
		const char *want;
	} t[] = {
		{ 0, "just now" }, { 59, "just now" }, { 60, "1 min ago" },
		{ 3599, "59 min ago" }, { 3600, "1 h 0 min ago" }, { 7260, "2 h 1 min ago" },
		{ 2 * 86400, "2 days ago" },
	};
	char buf[48];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		status_fmt_age(t[i].s, buf, sizeof(buf));
		is_str(buf, t[i].want, "age %ld s", t[i].s);
	}
}

/* ------------------------------------------------------------------ record, collect, print */

static void
test_record_and_report(void)
{
	struct conf cf = { 0 };
	struct conf_account acc[3];
	struct state *s = NULL;
	struct status_report *rep = NULL;
	struct tokenstore *ts = NULL;
	struct oauth_device d = { 0 };
	char *err = NULL, *text = NULL;
	size_t len = 0;
	time_t now = time(NULL);
	FILE *f;
	json_t *j, *list;
	json_error_t je;

	cf.state_dir = xasprintf("%s/rec", dir);
	init_account(&acc[0], "annex", CONF_AUTH_PLAIN);
	init_account(&acc[1], "cloud", CONF_AUTH_XOAUTH2);
	init_account(&acc[2], "office", CONF_AUTH_PLAIN);
	cf.accounts = acc;
	cf.naccounts = 3;

	is_int(status_collect(&cf, now, &rep, &err), 0, "collect without a state_dir");
	is_int(rep ? (long long)rep->n : -1, 3, "one entry per account");
	is_int(rep ? status_exit_code(rep) : -1, 1, "never run: exit 1");
	status_report_free(&rep);
	ok(access(cf.state_dir, F_OK) != 0, "collect created nothing");

	is_int(state_open(cf.state_dir, &s, &err), 0, "open");
	/* cloud: a pending device sign-in in its token store, no tokens. */
	d.device_code = xstrdup("dev-secret");
	d.user_code = xstrdup("WXYZ-9876");
	d.verification_uri = xstrdup("https://login.example/device");
	d.expires_at = now + 900;
	d.interval = 5;
	is_int(tokenstore_open(cf.state_dir, "cloud", NULL, &ts, &err), 0, "token store");
	is_int(tokenstore_save_pending(ts, &d, &err), 0, "pending sign-in saved");
	tokenstore_close(&ts);
	oauth_device_clear(&d);

	is_int(status_record(s, &cf, &acc[0], M2C_E_AUTH, M2C_STEP_IMAP, "IMAP server "
	    "imap.example.com refused the sign-in (AUTHENTICATE): \"NO [AUTHENTICATIONFAILED]\"",
	    now, &err), 0, "record a refused password");
	/* The words do not matter: the code does. */
	is_int(status_record(s, &cf, &acc[1], M2C_E_SIGNIN, M2C_STEP_SIGNIN, "no words", now,
	    &err), 0, "record an OAuth account without tokens");
	is_int(status_record(s, &cf, &acc[2], 0, M2C_STEP_IMAP, NULL, now, &err), 0,
	    "record a good pass");
	{
		struct state_account row = { 0 };

		is_int(state_account_get(s, "annex", &row, &err), 0, "annex's row");
		is_str(row.step, "imap", "annex: the step is stored");
		is_int(row.error_class, M2C_E_AUTH, "annex: the code is stored");
		state_account_clear(&row);
		is_int(state_account_get(s, "cloud", &row, &err), 0, "cloud's row");
		is_int(row.status, STATE_ACCOUNT_WAITING, "cloud: sign-in required + a code: waiting");
		is_int(row.error_class, M2C_E_SIGNIN, "cloud: the code is stored");
		state_account_clear(&row);
		is_int(state_account_get(s, "office", &row, &err), 0, "office's row");
		ok(row.step == NULL && row.error_class == 0, "office: ok has no step, no code");
		state_account_clear(&row);
	}
	state_close(&s);

	is_int(status_collect(&cf, now + 30, &rep, &err), 0, "collect");
	if (rep == NULL || rep->n != 3) {
		ok(0, "report has three accounts");
		goto out;
	}
	is_str(status_kind_name(rep->accounts[0].kind), "error", "annex: error");
	has_str(rep->accounts[0].fix, "password_file (/etc/m2c/pass)", "annex: fix names the password file");
	is_str(status_kind_name(rep->accounts[1].kind), "waiting-to-sign-in", "cloud: waiting");
	is_str(rep->accounts[1].sign_in.user_code, "WXYZ-9876", "cloud: the code");
	is_str(status_kind_name(rep->accounts[2].kind), "ok", "office: ok");
	is_int(status_exit_code(rep), 2, "an error wins: exit 2");

	f = open_memstream(&text, &len);
	status_print_text(f, rep);
	fclose(f);
	has_str(text, "annex: error since ", "text: error line");
	has_str(text, "\n    fix: check username", "text: fix line");
	has_str(text, "cloud: waiting-to-sign-in (", "text: waiting line");
	has_str(text, "https://login.example/device", "text: waiting line: where");
	has_str(text, "WXYZ-9876", "text: waiting line: the code");
	has_str(text, "office: ok (last pass just now; 0 printed today; 0 pending)\n",
	    "text: ok line");
	free(text);
	text = NULL;

	f = open_memstream(&text, &len);
	is_int(status_print_json(f, rep, &err), 0, "print JSON");
	fclose(f);
	j = json_loads(text, 0, &je);
	ok(j != NULL, "JSON parses");
	list = json_object_get(j, "accounts");
	is_int(json_array_size(list), 3, "JSON: three accounts");
	is_str(json_string_value(json_object_get(json_array_get(list, 1), "status")),
	    "waiting-to-sign-in", "JSON: cloud status");
	is_str(json_string_value(json_object_get(json_object_get(json_array_get(list, 1),
	    "sign_in"), "user_code")), "WXYZ-9876", "JSON: sign_in.user_code");
	is_int(json_integer_value(json_object_get(json_array_get(list, 2), "last_check")),
	    now, "JSON: last_check");
	ok(json_is_null(json_object_get(json_array_get(list, 2), "reason")),
	    "JSON: ok has a null reason");
	/* An account in error: the failed step and the code, as data. */
	is_str(json_string_value(json_object_get(json_array_get(list, 0), "step")), "imap",
	    "JSON: annex's failed step");
	is_str(json_string_value(json_object_get(json_array_get(list, 0), "code")), "auth",
	    "JSON: annex's error code");
	ok(json_is_null(json_object_get(json_array_get(list, 2), "step")) &&
	    json_is_null(json_object_get(json_array_get(list, 2), "code")),
	    "JSON: ok has a null step and code");
	ok(json_is_null(json_object_get(json_array_get(list, 1), "step")) &&
	    json_is_null(json_object_get(json_array_get(list, 1), "code")),
	    "JSON: waiting (code not expired) has a null step and code");
	json_decref(j);
	free(text);
out:
	status_report_free(&rep);
	free(cf.state_dir);
	free(err);
}

/* A daemon that ran here and is not running now: every account says so. */
static void
test_daemon(void)
{
	struct status_report rep = { 0 };
	struct status_account sa[2];

	memset(sa, 0, sizeof(sa));
	sa[0].name = xstrdup("office");
	sa[0].kind = STATUS_OK;
	sa[1].name = xstrdup("annex");
	sa[1].kind = STATUS_ERROR;
	sa[1].reason = xstrdup("IMAP login refused");
	sa[1].step = "imap";
	sa[1].code = M2C_E_AUTH;
	rep.accounts = sa;
	rep.n = 2;

	status_apply_daemon(&rep, LOCK_DAEMON_RUNNING, 42);
	is_int(status_exit_code(&rep), 2, "running: the statuses stay as they are");
	is_str(status_kind_name(sa[0].kind), "ok", "running: ok stays ok");
	status_apply_daemon(&rep, LOCK_DAEMON_NEVER, 0);
	is_str(status_kind_name(sa[0].kind), "ok", "no daemon here (once): ok stays ok");
	status_apply_daemon(&rep, LOCK_DAEMON_STOPPED, 42);
	is_str(status_kind_name(sa[0].kind), "error", "stopped: ok becomes an error");
	is_str(sa[0].reason, "daemon not running: mail2cups run (PID 42) stopped or was killed, "
	    "so no mail is read or printed", "stopped: the reason, not \"no pass since\"");
	has_str(sa[0].fix, "systemctl start mail2cups", "stopped: the fix");
	has_str(sa[1].reason, "daemon not running: ", "an account in error: the daemon first");
	has_str(sa[1].reason, "; before that: IMAP login refused", "then its own error");
	ok(sa[1].step == NULL && sa[1].code == 0,
	    "stopped: no step or code (no pass failed; the fix is not advice for one)");
	is_int(status_exit_code(&rep), 2, "stopped: exit 2");
	is_int(rep.daemon_pid, 42, "the PID is kept for the JSON");
	for (size_t i = 0; i < 2; i++) {
		free(sa[i].name);
		free(sa[i].reason);
		free(sa[i].fix);
	}
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_account_rows();
	test_counts();
	test_migration();
	test_evaluate();
	test_fmt_age();
	test_record_and_report();
	test_daemon();
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		ok(0, "clean up %s", dir);
	free(cmd);
	return tap_done();
}
