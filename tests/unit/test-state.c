/* test-state.c - the state database against a real SQLite file in /tmp. */
#include "m2c-config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "error.h"
#include "state.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/m2c-state.XXXXXX";

static int
is_hex32(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[32] == '\0';
}

static void
test_messages(struct state *s)
{
	static const struct {
		enum state_msg_status status;
		const char *reason;
	} steps[] = {
		{ STATE_MSG_PRINTED, NULL },
		{ STATE_MSG_FAILED, "no printable part" },
		{ STATE_MSG_DONE, NULL },
	};
	struct state_key k = { "office", "INBOX", 7, 42 };
	struct state_msg m;
	char *err = NULL;
	int attempts = -1, i;
	size_t j;

	is_int(state_msg_get(s, &k, &m, &err), 0, "get on a new message");
	is_int(m.status, STATE_MSG_NEW, "a new message reads NEW");
	is_int(m.attempts, 0, "a new message has 0 attempts");
	ok(m.reason == NULL, "a new message has no reason");
	state_msg_clear(&m);

	for (i = 1; i <= 3; i++) {
		is_int(state_msg_attempt(s, &k, &attempts, &err), 0, "attempt %d", i);
		is_int(attempts, i, "attempt count is %d", i);
	}
	is_int(state_msg_get(s, &k, &m, &err), 0, "get after attempts");
	is_int(m.status, STATE_MSG_ACTIVE, "attempted message is ACTIVE");
	is_int(m.attempts, 3, "attempts stored");
	state_msg_clear(&m);

	for (j = 0; j < ARRAY_SIZE(steps); j++) {
		is_int(state_msg_set(s, &k, steps[j].status, steps[j].reason, &err), 0,
		    "set status %d", (int)steps[j].status);
		is_int(state_msg_get(s, &k, &m, &err), 0, "get after set %zu", j);
		is_int(m.status, steps[j].status, "status %d read back",
		    (int)steps[j].status);
		is_str(m.reason, steps[j].reason, "reason read back");
		is_int(m.attempts, 3, "status change keeps attempts");
		state_msg_clear(&m);
	}
	is_int(state_msg_set(s, &k, STATE_MSG_NEW, NULL, &err), M2C_E_USAGE,
	    "setting NEW is refused");
	free(err);
	err = NULL;

	/* state_msg_set on a message without a row creates it. */
	k.uid = 43;
	is_int(state_msg_set(s, &k, STATE_MSG_FAILED, "too big", &err), 0,
	    "set on a new message");
	is_int(state_msg_get(s, &k, &m, &err), 0, "get it");
	is_int(m.status, STATE_MSG_FAILED, "set created the row");
	is_int(m.attempts, 0, "with 0 attempts");
	state_msg_clear(&m);

	/* A batch of post-actions done: one transaction for many rows. */
	{
		static const uint32_t batch[] = { 43, 50, 51 };
		struct state_key kb = { "office", "INBOX", 7, 0 };
		uint32_t *owed = NULL;
		enum state_msg_status *sts = NULL;
		size_t n = 0;

		kb.uid = 50;
		is_int(state_msg_set(s, &kb, STATE_MSG_PRINTED, NULL, &err), 0, "uid 50 printed");
		kb.uid = 51;
		is_int(state_msg_set(s, &kb, STATE_MSG_PRINTED, NULL, &err), 0, "uid 51 printed");
		is_int(state_msg_list_owed(s, &kb, &owed, &sts, &n, &err), 0, "list owed");
		is_int((int)n, 3, "43 (failed), 50 and 51 (printed) are owed");
		free(owed);
		free(sts);
		is_int(state_msg_set_many(s, &kb, batch, ARRAY_SIZE(batch), STATE_MSG_DONE, &err), 0,
		    "set_many done");
		is_int(state_msg_list_owed(s, &kb, &owed, &sts, &n, &err), 0, "list owed again");
		is_int((int)n, 0, "nothing owed after set_many");
		free(owed);
		free(sts);
		kb.uid = 43;
		is_int(state_msg_get(s, &kb, &m, &err), 0, "get 43");
		ok(m.status == STATE_MSG_DONE && m.reason == NULL, "43 done, reason cleared");
		state_msg_clear(&m);
		is_int(state_msg_set_many(s, &kb, batch, 0, STATE_MSG_DONE, &err), 0,
		    "set_many of nothing");
		is_int(state_msg_set_many(s, &kb, batch, 1, STATE_MSG_NEW, &err), M2C_E_USAGE,
		    "set_many NEW is refused");
		free(err);
		err = NULL;
	}
}

static void
test_parts(struct state *s)
{
	struct state_key k = { "office", "INBOX", 7, 100 };
	struct state_key k2 = { "office", "INBOX", 8, 100 };
	struct state_part p;
	char n1[33], n2[33], n3[33], *err = NULL;
	int jobs = -1, pending = -1;

	is_int(state_part_get(s, &k, "2", &p, &err), 0, "get a missing part");
	is_int(p.status, STATE_PART_NONE, "missing part reads NONE");
	ok(p.printer == NULL && p.job_id == 0, "missing part has no printer, no job");
	state_part_clear(&p);

	is_int(state_part_intent(s, &k, "2", "laser", "report.pdf", n1, &err), 0,
	    "intent");
	ok(is_hex32(n1), "nonce is 32 lower-case hex digits (%s)", n1);
	is_int(state_part_get(s, &k, "2", &p, &err), 0, "get after intent");
	is_int(p.status, STATE_PART_INTENT, "part is INTENT");
	is_str(p.nonce, n1, "nonce stored");
	is_str(p.printer, "laser", "printer stored");
	is_int(p.job_id, 0, "no job id yet");
	state_part_clear(&p);

	is_int(state_part_intent(s, &k, "3", "laser", "photo.png", n2, &err), 0,
	    "intent for another part");
	ok(strcmp(n1, n2) != 0, "nonces differ across calls");

	is_int(state_part_submitted(s, &k, "2", 17, &err), 0, "submitted");
	is_int(state_part_get(s, &k, "2", &p, &err), 0, "get after submitted");
	is_int(p.status, STATE_PART_SUBMITTED, "part is SUBMITTED");
	is_int(p.job_id, 17, "job id stored");
	is_str(p.nonce, n1, "nonce kept");
	state_part_clear(&p);

	is_int(state_part_intent(s, &k, "2", "laser", "report.pdf", n3, &err),
	    M2C_E_TEMP, "no new intent for a submitted part (temporary: the next pass finds it)");
	has_str(err, "submitted as job 17 by another process", "error names the job and the cause");
	free(err);
	err = NULL;
	is_int(state_part_get(s, &k, "2", &p, &err), 0, "get the submitted part");
	ok(p.status == STATE_PART_SUBMITTED && p.job_id == 17 &&
	    strcmp(p.nonce, n1) == 0, "submitted part left as it was");
	state_part_clear(&p);

	is_int(state_part_intent(s, &k, "3", "inkjet", "photo.png", n3, &err), 0,
	    "second intent for the same part");
	ok(strcmp(n2, n3) != 0, "second intent has a new nonce");
	is_int(state_part_get(s, &k, "3", &p, &err), 0, "get replaced intent");
	is_str(p.nonce, n3, "nonce replaced");
	is_str(p.printer, "inkjet", "printer replaced");
	state_part_clear(&p);

	is_int(state_part_get(s, &k2, "2", &p, &err), 0, "get with other UIDVALIDITY");
	is_int(p.status, STATE_PART_NONE, "other UIDVALIDITY is another key");
	state_part_clear(&p);
	is_int(state_part_submitted(s, &k2, "2", 5, &err), M2C_E_NOTFOUND,
	    "submitted without intent is NOTFOUND");
	has_str(err, "no print intent", "error says why");
	free(err);
	err = NULL;

	is_int(state_part_get(s, &k, "2", &p, &err), 0, "get the first part again");
	ok(p.status == STATE_PART_SUBMITTED && p.job_id == 17, "first part: job 17");
	state_part_clear(&p);
	is_int(state_part_get(s, &k, "3", &p, &err), 0, "get the second part again");
	is_int(p.status, STATE_PART_INTENT, "second part: INTENT");
	state_part_clear(&p);

	is_int(state_account_counts(s, "office", 0, &jobs, &pending, &err), 0, "count jobs");
	is_int(jobs, 1, "one submitted job");
	is_int(state_account_counts(s, "other", 0, &jobs, &pending, &err), 0, "count other");
	is_int(jobs, 0, "no jobs for another account");
}

static void
test_durable_and_shared(void)
{
	struct state_key k = { "office", "INBOX", 9, 1 };
	struct state *a = NULL, *b = NULL;
	struct state_part p;
	struct state_msg m;
	char nonce[33], *err = NULL;

	is_int(state_open(dir, &a, &err), 0, "open connection a");
	is_int(state_open(dir, &b, &err), 0, "open connection b");
	if (a == NULL || b == NULL)
		goto out;
	is_int(state_part_intent(a, &k, "1", "laser", "x.pdf", nonce, &err), 0,
	    "intent via a");
	is_int(state_part_get(b, &k, "1", &p, &err), 0, "get via b");
	is_str(p.nonce, nonce, "b sees a's committed intent");
	state_part_clear(&p);
	is_int(state_msg_set(b, &k, STATE_MSG_PRINTED, NULL, &err), 0, "set via b");
	is_int(state_msg_get(a, &k, &m, &err), 0, "get via a");
	is_int(m.status, STATE_MSG_PRINTED, "a sees b's write");
	state_msg_clear(&m);

	state_close(&a);
	ok(a == NULL, "close sets NULL");
	state_close(&b);
	is_int(state_open(dir, &a, &err), 0, "reopen");
	if (a == NULL)
		goto out;
	is_int(state_part_get(a, &k, "1", &p, &err), 0, "get after reopen");
	is_int(p.status, STATE_PART_INTENT, "intent survived close/reopen");
	is_str(p.nonce, nonce, "nonce survived close/reopen");
	state_part_clear(&p);
out:
	if (err)
		printf("# %s\n", err);
	free(err);
	state_close(&a);
	state_close(&b);
}

/* The reply queue: add, list by status, change, count attempts, rate count. */
static void
test_replies(struct state *s)
{
	struct state_reply *l = NULL;
	size_t n = 0;
	int64_t id1 = 0, id2 = 0, id3 = 0;
	int cnt = -1, att = -1;
	char *err = NULL;

	is_int(state_reply_add(s, "office", "printed", "Bob@Example.org", "{\"a\":1}",
	    STATE_REPLY_WAITING, 1000, &id1, &err), 0, "reply add waiting");
	is_int(state_reply_add(s, "office", "accepted", "bob@example.org", "{}",
	    STATE_REPLY_DUE, 1001, &id2, &err), 0, "reply add due");
	is_int(state_reply_add(s, "other", "accepted", "bob@example.org", "{}",
	    STATE_REPLY_DUE, 1002, &id3, &err), 0, "reply add for another account");
	ok(id1 > 0 && id2 > id1 && id3 > id2, "reply ids grow");
	is_int(state_reply_add(s, "office", NULL, "x@y", "{}", STATE_REPLY_DUE, 1, NULL,
	    &err), M2C_E_USAGE, "reply without kind refused");
	free(err);
	err = NULL;
	is_int(state_reply_add(s, "office", "k", "x@y", "{}", (enum state_reply_status)9, 1,
	    NULL, &err), M2C_E_USAGE, "bad reply status refused");
	free(err);
	err = NULL;

	is_int(state_reply_list(s, "office", STATE_REPLY_WAITING, &l, &n, &err), 0,
	    "list waiting");
	is_int(n, 1, "one waiting");
	if (n == 1) {
		is_int(l[0].id, id1, "waiting id");
		is_str(l[0].kind, "printed", "waiting kind");
		is_str(l[0].rcpt, "Bob@Example.org", "waiting rcpt");
		is_str(l[0].ctx, "{\"a\":1}", "waiting ctx");
		is_int(l[0].created, 1000, "created");
		is_int(l[0].sent_at, 0, "not sent");
		is_int(l[0].attempts, 0, "no attempts");
		ok(l[0].last_error == NULL, "no error");
	}
	state_reply_list_free(&l, n);
	ok(l == NULL, "list free sets NULL");
	is_int(state_reply_list(s, "office", STATE_REPLY_DUE, &l, &n, &err), 0, "list due");
	is_int(n, 1, "one due for office (other account's not listed)");
	state_reply_list_free(&l, n);
	is_int(state_reply_list(s, "nobody", STATE_REPLY_DUE, &l, &n, &err), 0,
	    "list for an account without replies");
	ok(l == NULL && n == 0, "empty list is NULL, 0");

	/* printed -> failed (kind and ctx change), then due. */
	is_int(state_reply_set(s, id1, STATE_REPLY_DUE, "failed", "{\"b\":2}", NULL, 1100,
	    &err), 0, "turn waiting into due failed");
	is_int(state_reply_list(s, "office", STATE_REPLY_DUE, &l, &n, &err), 0, "list due again");
	is_int(n, 2, "two due, oldest first");
	if (n == 2) {
		is_int(l[0].id, id1, "oldest first");
		is_str(l[0].kind, "failed", "kind changed");
		is_str(l[0].ctx, "{\"b\":2}", "ctx changed");
		is_str(l[1].ctx, "{}", "other ctx kept");
	}
	state_reply_list_free(&l, n);

	is_int(state_reply_attempt(s, id2, "421 try later", &att, &err), 0, "attempt 1");
	is_int(att, 1, "one attempt");
	is_int(state_reply_attempt(s, id2, "421 again", &att, &err), 0, "attempt 2");
	is_int(att, 2, "two attempts");
	is_int(state_reply_attempt(s, 999999, "x", &att, &err), M2C_E_NOTFOUND,
	    "attempt on a missing reply");
	free(err);
	err = NULL;
	is_int(state_reply_set(s, 999999, STATE_REPLY_SENT, NULL, NULL, NULL, 1, &err),
	    M2C_E_NOTFOUND, "set on a missing reply");
	free(err);
	err = NULL;

	/* Sent: sent_at set, counted case-insensitively across accounts. */
	is_int(state_reply_set(s, id1, STATE_REPLY_SENT, NULL, NULL, NULL, 2000, &err), 0,
	    "mark sent 1");
	is_int(state_reply_set(s, id3, STATE_REPLY_SENT, NULL, NULL, NULL, 3000, &err), 0,
	    "mark sent 3");
	is_int(state_reply_set(s, id2, STATE_REPLY_DROPPED, NULL, NULL, "550 no", 3000, &err),
	    0, "mark dropped 2");
	is_int(state_reply_count_sent(s, "BOB@example.org", 0, &cnt, &err), 0, "count all");
	is_int(cnt, 2, "two sent to bob (dropped not counted)");
	is_int(state_reply_count_sent(s, "bob@example.org", 2001, &cnt, &err), 0, "count since");
	is_int(cnt, 1, "one sent since 2001");
	is_int(state_reply_count_sent(s, "bob@example.org", 3001, &cnt, &err), 0,
	    "count after the last");
	is_int(cnt, 0, "none sent since 3001");
	is_int(state_reply_list(s, "office", STATE_REPLY_DROPPED, &l, &n, &err), 0,
	    "list dropped");
	is_int(n, 1, "one dropped");
	if (n == 1) {
		is_str(l[0].last_error, "550 no", "dropped keeps its error");
		is_int(l[0].attempts, 2, "attempts kept");
		is_int(l[0].sent_at, 0, "dropped has no sent_at");
	}
	state_reply_list_free(&l, n);
	is_int(state_reply_list(s, "office", STATE_REPLY_SENT, &l, &n, &err), 0, "list sent");
	is_int(n, 1, "one sent for office");
	if (n == 1)
		is_int(l[0].sent_at, 2000, "sent_at");
	state_reply_list_free(&l, n);
	if (err)
		printf("# %s\n", err);
	free(err);
}

/* The schema of the database at path: every CREATE statement, in name order. */
static char *
schema_of(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct buf b = { 0 };

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
	    "ORDER BY name", -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			buf_appendf(&b, "%s;\n", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf_steal(&b);
}

/*
 * Migration 3 -> 7: a database at version 3 (the later tables and columns
 * removed again) gains them, keeps its messages, and ends with the schema
 * a new database has.
 */
static void
test_migration(void)
{
	struct state_key k = { "mig", "INBOX", 7, 3 };
	struct state *s = NULL;
	struct state_msg m;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *path, *err = NULL, *fresh, *migrated;
	int64_t id = 0;
	long long version = -1;

	is_int(state_open(dir, &s, &err), 0, "open for migration");
	if (s == NULL)
		goto out;
	is_int(state_msg_set(s, &k, STATE_MSG_DONE, "kept", &err), 0, "a message row");
	state_close(&s);
	path = xasprintf("%s/state.db", dir);
	fresh = schema_of(path);
	has_str(fresh, "CREATE TABLE deliveries", "the current schema read back");
	ok(sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, "DROP TABLE replies; DROP TABLE backend_jobs; "
	    "ALTER TABLE accounts DROP COLUMN step; DROP TABLE deliveries; "
	    "DROP TABLE folder_users; "
	    "PRAGMA user_version = 3", NULL, NULL,
	    NULL) == SQLITE_OK, "back to schema 3");
	sqlite3_close(db);
	db = NULL;
	is_int(state_open(dir, &s, &err), 0, "reopen migrates");
	if (s == NULL) {
		free(fresh);
		free(path);
		goto out;
	}
	is_int(state_reply_add(s, "mig", "accepted", "a@b.c", "{}", STATE_REPLY_DUE, 5, &id,
	    &err), 0, "the replies table is back");
	is_int(state_msg_get(s, &k, &m, &err), 0, "message survives");
	is_str(m.reason, "kept", "with its reason");
	state_msg_clear(&m);
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	is_int(version, 8, "schema version 8");
	sqlite3_finalize(st);
	sqlite3_close(db);
	migrated = schema_of(path);
	is_str(migrated, fresh, "migrated from 3: the same schema as a new database");
	free(migrated);
	free(fresh);
	free(path);
out:
	if (err)
		printf("# %s\n", err);
	free(err);
	state_close(&s);
}

/* The users a print_folders account remembers for its safety pass. */
static void
test_folder_users(struct state *s)
{
	struct state_names l = { 0 };
	char *err = NULL;

	is_int(state_folder_users(s, "pf", &l, &err), 0, "folder users: none yet");
	is_int((int)l.n, 0, "folder users: empty list");
	is_int(state_folder_user_used(s, "pf", "alice", &err), 0, "folder users: alice");
	is_int(state_folder_user_used(s, "pf", "bob", &err), 0, "folder users: bob");
	is_int(state_folder_user_used(s, "pf", "alice", &err), 0, "folder users: alice again");
	is_int(state_folder_user_used(s, "other", "carol", &err), 0, "another account's user");
	is_int(state_folder_users(s, "pf", &l, &err), 0, "folder users: listed");
	is_int((int)l.n, 2, "folder users: each once, this account's only");
	state_names_free(&l);
	is_int(state_folder_user_forget(s, "pf", "alice", &err), 0, "folder users: forget alice");
	is_int(state_folder_users(s, "pf", &l, &err), 0, "folder users: listed again");
	ok(l.n == 1 && strcmp(l.v[0], "bob") == 0, "folder users: bob is left");
	state_names_free(&l);
	if (err)
		printf("# %s\n", err);
	free(err);
}

/* The CUPS backend's sent jobs: sending, sent, never turned back. */
static void
test_bjobs(struct state *s)
{
	static const char hash[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	struct state_bjob b;
	char *err = NULL;

	is_int(state_bjob_get(s, "office", 12, hash, &b, &err), 0, "no backend job yet");
	is_int(b.status, STATE_BJOB_NONE, "... reads as none");
	ok(b.message_id == NULL, "... without a Message-ID");
	state_bjob_clear(&b);
	is_int(state_bjob_sending(s, "office", 12, hash, "office", "print@example.org",
	    "m1@example.org", &err), 0, "sending recorded");
	is_int(state_bjob_sending(s, "office", 12, hash, "office", "print@example.org",
	    "m1@example.org", &err), 0, "a second try of the same job");
	is_int(state_bjob_get(s, "office", 12, hash, &b, &err), 0, "read it back");
	is_int(b.status, STATE_BJOB_SENDING, "... sending");
	is_str(b.message_id, "m1@example.org", "... with its Message-ID");
	is_int(b.attempts, 2, "... two attempts");
	state_bjob_clear(&b);
	is_int(state_bjob_sent(s, "office", 12, hash, &err), 0, "sent recorded");
	is_int(state_bjob_get(s, "office", 12, hash, &b, &err), 0, "read it back");
	is_int(b.status, STATE_BJOB_SENT, "... sent");
	ok(b.sent_at > 0, "... with the time");
	state_bjob_clear(&b);
	is_int(state_bjob_sending(s, "office", 12, hash, "office", "print@example.org",
	    "m2@example.org", &err), M2C_E_USAGE, "a sent job is never sent again");
	free(err);
	err = NULL;
	is_int(state_bjob_get(s, "office", 12, "00", &b, &err), 0, "the same job id with other content");
	is_int(b.status, STATE_BJOB_NONE, "... is another job (a cupsd that started its ids again)");
	state_bjob_clear(&b);
	is_int(state_bjob_sent(s, "office", 13, hash, &err), M2C_E_NOTFOUND,
	    "no sent without sending");
	free(err);
	err = NULL;
	is_int(state_bjob_get(s, "", 12, hash, &b, &err), M2C_E_USAGE, "an empty printer is refused");
	free(err);
}

/* A write while another connection holds the write lock: M2C_E_TEMP. */
/*
 * Deliveries (mail2cups deliver): the same (Message-ID, content hash,
 * recipient) in an account is always the same number, across a reopen;
 * anything different, or another account, is a new one; the key the
 * number makes never meets an IMAP mailbox's.
 */
static void
test_deliveries(void)
{
	static const char h1[] = "1111111111111111111111111111111111111111111111111111111111111111";
	static const char h2[] = "2222222222222222222222222222222222222222222222222222222222222222";
	static const struct {
		const char *account, *mid, *hash, *rcpt;
		uint32_t want;
		int is_new;
		const char *what;
	} cases[] = {
		{ "office", "a@x", h1, "print@x", 1, 1, "a first delivery is number 1" },
		{ "office", "a@x", h1, "print@x", 1, 0, "the same message again: number 1, not new" },
		{ "office", "a@x", h2, "print@x", 2, 1, "same Message-ID, other content: new" },
		{ "office", "b@x", h1, "print@x", 3, 1, "same content, other Message-ID: new" },
		{ "office", "a@x", h1, "print+2@x", 4, 1, "another recipient: new" },
		{ "office", NULL, h1, NULL, 5, 1, "no Message-ID, no recipient" },
		{ "office", NULL, h1, NULL, 5, 0, "... the same again: number 5" },
		{ "office", "", h1, "", 5, 0, "... empty strings are the same as absent" },
		{ "other", "a@x", h1, "print@x", 1, 1, "another account counts on its own" },
	};
	struct state *s = NULL;
	struct state_key k = { "office", STATE_DELIVER_MAILBOX, 0, 0 };
	struct state_msg m;
	uint32_t n = 0, *uids = NULL;
	enum state_msg_status *sts = NULL;
	size_t nowed = 0;
	char *err = NULL;
	int is_new = -1;

	if (state_open(dir, &s, &err) != 0) {
		ok(0, "state_open for deliveries: %s", err ? err : "?");
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		is_int(state_delivery_number(s, cases[i].account, cases[i].mid, cases[i].hash,
		    cases[i].rcpt, &n, &is_new, &err), 0, "%s: no error", cases[i].what);
		is_int((int)n, (int)cases[i].want, "%s", cases[i].what);
		is_int(is_new, cases[i].is_new, "%s: is_new %d", cases[i].what, cases[i].is_new);
	}
	is_int(state_delivery_number(s, "office", "a@x", NULL, "r", &n, NULL, &err),
	    M2C_E_USAGE, "no content hash: refused");
	free(err);
	err = NULL;
	/* Its key works with the message rows like an IMAP one. */
	k.uid = 1;
	is_int(state_msg_attempt(s, &k, NULL, &err), 0, "delivery 1: an attempt");
	is_int(state_msg_set(s, &k, STATE_MSG_PRINTED, NULL, &err), 0, "delivery 1: printed");
	is_int(state_msg_list_owed(s, &(struct state_key){ "office", STATE_DELIVER_MAILBOX, 7, 0 },
	    &uids, &sts, &nowed, &err), 0, "owed list of a real UIDVALIDITY");
	is_int((int)nowed, 0, "... never lists a delivery");
	free(uids);
	free(sts);
	state_close(&s);
	if (state_open(dir, &s, &err) != 0) {
		ok(0, "state_open again: %s", err ? err : "?");
		goto out;
	}
	is_int(state_delivery_number(s, "office", "a@x", h1, "print@x", &n, &is_new, &err), 0,
	    "after a reopen");
	is_int((int)n, 1, "... the same message is still number 1");
	is_int(is_new, 0, "... and not new");
	is_int(state_msg_get(s, &k, &m, &err), 0, "its message row");
	is_int(m.status, STATE_MSG_PRINTED, "... is still PRINTED");
	state_msg_clear(&m);
out:
	if (err)
		printf("# %s\n", err);
	free(err);
	state_close(&s);
}

static void
test_locked(void)
{
	struct state_key k = { "office", "INBOX", 9, 2 };
	struct state *s = NULL;
	sqlite3 *other = NULL;
	char *path = xasprintf("%s/state.db", dir), *err = NULL;
	long long t0;
	int attempts = 0;

	ok(sqlite3_open(path, &other) == SQLITE_OK &&
	    sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK,
	    "another connection takes the write lock");
	is_int(state_open(dir, &s, &err), 0, "open while locked (reads only)");
	if (s != NULL) {
		state_set_busy_timeout(s, 200);
		t0 = monotonic_ms();
		is_int(state_msg_attempt(s, &k, &attempts, &err), M2C_E_TEMP,
		    "a write while locked is M2C_E_TEMP");
		ok(monotonic_ms() - t0 >= 150, "after waiting for the lock");
		has_str(err, "locked", "error says the database is locked");
		sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
		is_int(state_msg_attempt(s, &k, &attempts, &err), 0,
		    "the write works once the lock is gone");
		is_int(attempts, 1, "and counted once");
	}
	free(err);
	free(path);
	sqlite3_close(other);
	state_close(&s);
}

static void
test_errors(void)
{
	struct state *s = NULL;
	char *path, *bad, *err = NULL;
	int fd;

	/* A file that is not a database. */
	bad = xasprintf("%s/bad", dir);
	ok(mkdir(bad, 0700) == 0, "mkdir bad");
	path = xasprintf("%s/state.db", bad);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, "this is not an SQLite database, not at all.......",
	    49) == 49, "write garbage db");
	if (fd >= 0)
		close(fd);
	is_int(state_open(bad, &s, &err), M2C_E_SYS, "garbage db is M2C_E_SYS");
	ok(s == NULL, "no handle on failure");
	has_str(err, path, "error names the file");
	has_str(err, "move it aside", "error says what to do");
	free(err);
	err = NULL;
	unlink(path);
	free(path);

	/* state_dir is a file. */
	path = xasprintf("%s/file", bad);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	is_int(state_open(path, &s, &err), M2C_E_SYS, "state_dir that is a file");
	ok(err != NULL, "with a message");
	free(err);
	unlink(path);
	free(path);
	rmdir(bad);
	free(bad);
}

int
main(void)
{
	struct state *s = NULL;
	struct stat st;
	char *err = NULL, *path;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 99;
	}
	umask(022);
	is_int(state_open(dir, &s, &err), 0, "state_open in a new folder");
	if (s == NULL) {
		printf("Bail out! %s\n", err ? err : "state_open failed");
		return 99;
	}
	path = xasprintf("%s/state.db", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "state.db is mode 0600 (umask 022)");
	test_messages(s);
	test_parts(s);
	test_replies(s);
	test_bjobs(s);
	test_folder_users(s);
	state_close(&s);
	test_migration();
	test_deliveries();
	test_durable_and_shared();
	test_locked();
	test_errors();

	/* Tidy up: the db and its WAL files. */
	unlink(path);
	free(path);
	path = xasprintf("%s/state.db-wal", dir);
	unlink(path);
	free(path);
	path = xasprintf("%s/state.db-shm", dir);
	unlink(path);
	free(path);
	rmdir(dir);
	free(err);
	return tap_done();
}
