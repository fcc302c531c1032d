/*
 * state.c - the state database (SQLite 3, WAL); see state.h.
 *
 * Durability (state.h says which rows must be on disk when, and why):
 * WAL mode, synchronous = FULL for every commit by default, so a COMMIT
 * has reached the disk when sqlite3_step() returns; state_part_intent()
 * relies on that (the intent row must exist before the CUPS job does), and
 * its fsync of the WAL also carries every relaxed commit before it.  The
 * poller's bookkeeping writes (state_msg_attempt, state_msg_set,
 * state_msg_set_many, state_msg_set_identity, state_part_submitted) switch
 * to NORMAL for their commit: no fsync, which was most of a message's
 * time; a restart repairs their loss.  Statements are prepared once per
 * connection and kept (prep, stmt_release).
 *
 * Every statement is a constant string with bound parameters.  The only
 * exception is "PRAGMA user_version = N", which cannot take a parameter;
 * N is one of this file's own schema numbers, never outside input.
 */
#include "m2c-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "error.h"
#include "state.h"
#include "util.h"

#define STATE_DB_NAME	"state.db"
#define STATE_BUSY_MS	5000

/*
 * Statements are prepared once per connection and kept (reset after each
 * use), keyed by their SQL text's address: every statement of this file is
 * a constant string.
 */
#define STATE_STMT_CACHE 48
struct state_stmt {
	const char *sql;	/* foreign: a string constant of this file */
	sqlite3_stmt *st;	/* owned */
	int in_use;		/* handed out by prep, not yet released */
};

struct state {
	sqlite3 *db;	/* owned */
	char *path;	/* owned: state_dir/state.db */
	int old_schema;	/* read-only open of a schema without the accounts table */
	int no_step;	/* read-only open of a schema without accounts.step */
	int relaxed;	/* synchronous is NORMAL now (sync_relaxed) */
	struct state_stmt stmts[STATE_STMT_CACHE];
	size_t nstmts;
};

/*
 * Schema migrations: step i takes user_version i to i + 1.  Later issues
 * append steps (ALTER TABLE ... ADD COLUMN); never edit a released one.
 */
struct migration {
	const char *sql;		/* the change */
	const char *set_version;	/* "PRAGMA user_version = i + 1" */
};
static const struct migration migrations[] = {
	/* 0 -> 1: the first schema */
	{ "CREATE TABLE messages ("
	" account TEXT NOT NULL, mailbox TEXT NOT NULL,"
	" uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT, message_id TEXT,"
	" first_seen INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" PRIMARY KEY (account, mailbox, uidvalidity, uid));"
	"CREATE TABLE parts ("
	" account TEXT NOT NULL, mailbox TEXT NOT NULL,"
	" uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" part TEXT NOT NULL, status TEXT NOT NULL, nonce TEXT NOT NULL,"
	" printer TEXT NOT NULL, filename TEXT, job_id INTEGER,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" PRIMARY KEY (account, mailbox, uidvalidity, uid, part),"
	" FOREIGN KEY (account, mailbox, uidvalidity, uid)"
	"  REFERENCES messages (account, mailbox, uidvalidity, uid) ON DELETE CASCADE);"
	"CREATE INDEX parts_account_status ON parts (account, status);",
	"PRAGMA user_version = 1" },
	/* 1 -> 2: each account's last pass, for `mail2cups status` */
	{ "CREATE TABLE accounts ("
	" name TEXT NOT NULL PRIMARY KEY, status TEXT NOT NULL,"
	" reason TEXT, fix TEXT, error_class INTEGER NOT NULL DEFAULT 0,"
	" last_check INTEGER, last_ok INTEGER,"
	" since INTEGER NOT NULL, updated INTEGER NOT NULL);",
	"PRAGMA user_version = 2" },
	/* 2 -> 3: each message's content hash, to know it again after a
	 * UIDVALIDITY change */
	{ "ALTER TABLE messages ADD COLUMN content_hash TEXT;"
	"CREATE INDEX messages_content ON messages (account, mailbox, content_hash);",
	"PRAGMA user_version = 3" },
	/* 3 -> 4: replies to senders, queued until sent (reply.c) */
	{ "CREATE TABLE replies ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,"
	" kind TEXT NOT NULL, rcpt TEXT NOT NULL, ctx TEXT NOT NULL,"
	" status TEXT NOT NULL, created INTEGER NOT NULL, sent_at INTEGER,"
	" attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);"
	"CREATE INDEX replies_account_status ON replies (account, status, id);"
	"CREATE INDEX replies_rcpt_sent ON replies (rcpt COLLATE NOCASE, sent_at);",
	"PRAGMA user_version = 4" },
	/* 4 -> 5: the CUPS backend's jobs sent as mail, so a retried job is
	 * never sent twice */
	{ "CREATE TABLE backend_jobs ("
	" printer TEXT NOT NULL, job_id INTEGER NOT NULL, content_hash TEXT NOT NULL,"
	" account TEXT NOT NULL, rcpt TEXT NOT NULL, message_id TEXT NOT NULL,"
	" status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, sent_at INTEGER,"
	" PRIMARY KEY (printer, job_id, content_hash));",
	"PRAGMA user_version = 5" },
	/* 5 -> 6: the step of a pass that failed (advice.h), with its code */
	{ "ALTER TABLE accounts ADD COLUMN step TEXT;",
	"PRAGMA user_version = 6" },
	/* 6 -> 7: the messages `mail2cups deliver` took, by what they are
	 * (state_delivery_number); message_id and recipient '' when absent */
	{ "CREATE TABLE deliveries ("
	" account TEXT NOT NULL, message_id TEXT NOT NULL, content_hash TEXT NOT NULL,"
	" recipient TEXT NOT NULL, number INTEGER NOT NULL, created INTEGER NOT NULL,"
	" PRIMARY KEY (account, message_id, content_hash, recipient),"
	" UNIQUE (account, number));",
	"PRAGMA user_version = 7" },
	/* 7 -> 8: the users whose Print folder a print_folders account has
	 * printed from, for its safety pass (folders.h) */
	{ "CREATE TABLE folder_users ("
	" account TEXT NOT NULL, user TEXT NOT NULL, last_used INTEGER NOT NULL,"
	" PRIMARY KEY (account, user));",
	"PRAGMA user_version = 8" },
};
/* The first schema with the accounts table, and with its step column. */
#define STATE_SCHEMA_ACCOUNTS	2
#define STATE_SCHEMA_STEP	6

/* Status names as stored (readable with the sqlite3 shell). */
static const char *const msg_status_names[] = {
	[STATE_MSG_NEW] = "new",
	[STATE_MSG_ACTIVE] = "active",
	[STATE_MSG_PRINTED] = "printed",
	[STATE_MSG_FAILED] = "failed",
	[STATE_MSG_DONE] = "done",
	[STATE_MSG_REJECTED] = "rejected",
};
static const char *const account_status_names[] = {
	[STATE_ACCOUNT_NONE] = "none",
	[STATE_ACCOUNT_OK] = "ok",
	[STATE_ACCOUNT_ERROR] = "error",
	[STATE_ACCOUNT_WAITING] = "waiting-to-sign-in",
};
static const char *const reply_status_names[] = {
	[STATE_REPLY_WAITING] = "waiting-jobs",
	[STATE_REPLY_DUE] = "due",
	[STATE_REPLY_SENT] = "sent",
	[STATE_REPLY_DROPPED] = "dropped",
};
static const char *const part_status_names[] = {
	[STATE_PART_NONE] = "none",
	[STATE_PART_INTENT] = "intent",
	[STATE_PART_SUBMITTED] = "submitted",
};

/* Index of name in names, or -1. */
static int
status_from_name(const char *const *names, size_t n, const unsigned char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], (const char *)name) == 0)
			return (int)i;
	return -1;
}

/*
 * The one mapping from SQLite results to our codes.  Busy/locked is
 * temporary; a damaged or unreadable file names the file and the way out.
 */
static int
state_fail_rc(const char *path, int rc, const char *errmsg, const char *what,
    char **errstr)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return m2c_fail(errstr, M2C_E_TEMP,
		    "state database %s: %s: %s (another mail2cups is using it; "
		    "will try again)", path, what, errmsg);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return m2c_fail(errstr, M2C_E_SYS,
		    "state database %s is damaged (%s: %s): stop mail2cups, restore "
		    "it from a backup or move it aside (mv %s %s.bad) to start an "
		    "empty one; mail not yet marked seen may then print again",
		    path, what, errmsg, path, path);
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_AUTH:
		return m2c_fail(errstr, M2C_E_CONFIG,
		    "state database %s: %s: %s (check that state_dir and the "
		    "file belong to the user mail2cups runs as and are writable)",
		    path, what, errmsg);
	case SQLITE_FULL:
		return m2c_fail(errstr, M2C_E_SYS,
		    "state database %s: %s: %s (free some disk space)", path, what,
		    errmsg);
	default:
		return m2c_fail(errstr, M2C_E_SYS, "state database %s: %s: %s",
		    path, what, errmsg);
	}
}

static int
state_fail(struct state *s, const char *what, char **errstr)
{
	return state_fail_rc(s->path, sqlite3_extended_errcode(s->db),
	    sqlite3_errmsg(s->db), what, errstr);
}

static int
check_key(const struct state_key *k, const char *part, int need_part, char **errstr)
{
	if (k == NULL || k->account == NULL || k->mailbox == NULL ||
	    (need_part && part == NULL))
		return m2c_fail(errstr, M2C_E_USAGE,
		    "state: incomplete message key (internal error)");
	return 0;
}

/*
 * *st = the statement for sql (a string constant): the kept one when it is
 * free, else a new one, kept when there is room.  Give it back with
 * stmt_release().
 */
static int
prep(struct state *s, const char *sql, sqlite3_stmt **st, char **errstr)
{
	struct state_stmt *c = NULL;
	size_t i;

	*st = NULL;
	for (i = 0; i < s->nstmts; i++) {
		if (s->stmts[i].sql != sql)
			continue;
		if (s->stmts[i].in_use)
			break;	/* used twice at once: a fresh one */
		s->stmts[i].in_use = 1;
		*st = s->stmts[i].st;
		return 0;
	}
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return state_fail(s, "preparing a statement", errstr);
	if (i == s->nstmts && s->nstmts < STATE_STMT_CACHE) {
		c = &s->stmts[s->nstmts++];
		c->sql = sql;
		c->st = *st;
		c->in_use = 1;
	}
	return 0;
}

/* Give back a statement from prep(): reset when kept, else finalized.  NULL is fine. */
static void
stmt_release(struct state *s, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; s != NULL && i < s->nstmts; i++) {
		if (s->stmts[i].st != st)
			continue;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		s->stmts[i].in_use = 0;
		return;
	}
	sqlite3_finalize(st);
}

/*
 * The values of a statement's parameters ?1, ?2, ... in order, written
 * VALS(TXT(account), NUM(now), ...): a text (copied; NULL binds NULL) or
 * an integer each.  KEY(k) is the message key, ?1..?4 of its four.
 */
struct sqlval {
	const char *text;
	int64_t num;
	int is_text;
};
#define TXT(v)	{ (v), 0, 1 }
#define NUM(v)	{ NULL, (int64_t)(v), 0 }
#define KEY(k)	TXT((k)->account), TXT((k)->mailbox), NUM((k)->uidvalidity), NUM((k)->uid)
#define VALS(...) (const struct sqlval[]){ __VA_ARGS__ }, \
	sizeof((const struct sqlval[]){ __VA_ARGS__ }) / sizeof(struct sqlval)

/* prep() sql, then bind vals[0..n) to ?1..?n; on failure *st is NULL. */
static int
prep_bind(struct state *s, const char *sql, const struct sqlval *vals, size_t n,
    sqlite3_stmt **st, char **errstr)
{
	int r, rc;

	if ((r = prep(s, sql, st, errstr)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		rc = vals[i].is_text ?
		    sqlite3_bind_text(*st, (int)i + 1, vals[i].text, -1, SQLITE_TRANSIENT) :
		    sqlite3_bind_int64(*st, (int)i + 1, vals[i].num);
		if (rc != SQLITE_OK) {
			r = state_fail(s, "binding", errstr);
			stmt_release(s, *st);
			*st = NULL;
			return r;
		}
	}
	return 0;
}

/*
 * prep_bind() and step once: 1 with *st on the first row (the caller
 * reads it and releases *st), 0 when there is none, or a failure (what
 * names the statement); *st is NULL but on a row.
 */
static int
query_row(struct state *s, const char *sql, const struct sqlval *vals, size_t n,
    sqlite3_stmt **st, const char *what, char **errstr)
{
	int r, rc;

	if ((r = prep_bind(s, sql, vals, n, st, errstr)) != 0)
		return r;
	if ((rc = sqlite3_step(*st)) == SQLITE_ROW)
		return 1;
	r = rc == SQLITE_DONE ? 0 : state_fail(s, what, errstr);
	stmt_release(s, *st);
	*st = NULL;
	return r;
}

/* prep_bind() a statement that returns no rows and run it. */
static int
exec_vals(struct state *s, const char *sql, const struct sqlval *vals, size_t n,
    const char *what, char **errstr)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prep_bind(s, sql, vals, n, &st, errstr)) != 0)
		return r;
	if (sqlite3_step(st) != SQLITE_DONE)
		r = state_fail(s, what, errstr);
	stmt_release(s, st);
	return r;
}

/*
 * Converts the current row of st into the element at elem (zeroed
 * before); on failure it leaves nothing allocated in it.
 */
typedef int (*row_fn)(struct state *s, sqlite3_stmt *st, void *elem, char **errstr);

/*
 * The first row of sql, converted by from_row into elem: 1, 0 when there
 * is none (elem untouched), or a failure.
 */
static int
query_one(struct state *s, const char *sql, const struct sqlval *vals, size_t n,
    row_fn from_row, void *elem, const char *what, char **errstr)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = query_row(s, sql, vals, n, &st, what, errstr)) <= 0)
		return r;
	r = from_row(s, st, elem, errstr);
	stmt_release(s, st);
	return r == 0 ? 1 : r;
}

static int
int_from_row(struct state *s, sqlite3_stmt *st, void *elem, char **errstr)
{
	(void)s;
	(void)errstr;
	*(int *)elem = sqlite3_column_int(st, 0);
	return 0;
}

/* *out = the first column of the one row sql returns (a count, attempts). */
static int
query_int(struct state *s, const char *sql, const struct sqlval *vals, size_t n,
    int *out, const char *what, char **errstr)
{
	int r;

	*out = 0;
	if ((r = query_one(s, sql, vals, n, int_from_row, out, what, errstr)) == 0)
		return state_fail(s, what, errstr);
	return r < 0 ? r : 0;
}

/* Column i as an allocated string, or NULL. */
static char *
column_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *txt = sqlite3_column_text(st, i);

	return txt != NULL ? xstrdup((const char *)txt) : NULL;
}

/* exec_vals() that must change a row, else M2C_E_NOTFOUND (no message). */
static int
exec_change(struct state *s, const char *sql, const struct sqlval *vals, size_t n,
    const char *what, char **errstr)
{
	int r;

	if ((r = exec_vals(s, sql, vals, n, what, errstr)) == 0 &&
	    sqlite3_changes(s->db) == 0)
		r = M2C_E_NOTFOUND;
	return r;
}

static int
exec_sql(struct state *s, const char *sql, const char *what, char **errstr)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return state_fail(s, what, errstr);
	return 0;
}

/* One statement without rows, through the kept statements (BEGIN, COMMIT, PRAGMA). */
static int
run_sql(struct state *s, const char *sql, const char *what, char **errstr)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = prep(s, sql, &st, errstr)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		r = state_fail(s, what, errstr);
	stmt_release(s, st);
	return r;
}

/*
 * The rows a restart repairs (see the top of this file) are committed with
 * synchronous = NORMAL: sync_relaxed() before the transaction (SQLite
 * refuses to change it inside one), sync_durable() after it, so that
 * everything else stays FULL.
 */
static int
sync_relaxed(struct state *s, char **errstr)
{
	int r;

	if (s->relaxed)
		return 0;
	if ((r = run_sql(s, "PRAGMA synchronous = NORMAL", "setting synchronous", errstr)) == 0)
		s->relaxed = 1;
	return r;
}

static int
sync_durable(struct state *s, int r, char **errstr)
{
	int r2;

	if (!s->relaxed)
		return r;
	if ((r2 = run_sql(s, "PRAGMA synchronous = FULL", "setting synchronous",
	    r == 0 ? errstr : NULL)) == 0)
		s->relaxed = 0;
	return r != 0 ? r : r2;
}

static int
tx_begin(struct state *s, char **errstr)
{
	/* IMMEDIATE: take the write lock now, so busy_timeout applies here. */
	return run_sql(s, "BEGIN IMMEDIATE", "starting a transaction", errstr);
}

static int
tx_end(struct state *s, int r, char **errstr)
{
	if (r == 0 && (r = run_sql(s, "COMMIT", "committing", errstr)) == 0)
		return 0;
	if (!sqlite3_get_autocommit(s->db))
		(void)run_sql(s, "ROLLBACK", "rolling back", NULL);
	return r;
}

/* *version = the file's schema version; a newer one than ours is refused. */
static int
schema_version(struct state *s, long long *version, char **errstr)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prep(s, "PRAGMA user_version", &st, errstr)) != 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		*version = sqlite3_column_int64(st, 0);
	else
		r = state_fail(s, "reading the schema version", errstr);
	stmt_release(s, st);
	if (r == 0 && *version > (long long)ARRAY_SIZE(migrations))
		r = m2c_fail(errstr, M2C_E_NOTSUP,
		    "state database %s has schema version %lld, newer than this "
		    "mail2cups knows (%zu): install the newer mail2cups again",
		    s->path, *version, ARRAY_SIZE(migrations));
	return r;
}

static int
migrate(struct state *s, char **errstr)
{
	long long version = 0;
	int r;

	if ((r = schema_version(s, &version, errstr)) != 0)
		return r;
	for (; version < (long long)ARRAY_SIZE(migrations); version++) {
		if ((r = tx_begin(s, errstr)) != 0)
			return r;
		r = exec_sql(s, migrations[version].sql, "upgrading the schema", errstr);
		if (r == 0)
			r = exec_sql(s, migrations[version].set_version,
			    "recording the schema version", errstr);
		if ((r = tx_end(s, r, errstr)) != 0)
			return r;
	}
	return 0;
}

/* Create the file 0600 (whatever the umask) and tighten an existing one. */
static int
create_private(const char *path, char **errstr)
{
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return m2c_fail(errstr, m2c_err_from_errno(errno),
		    "cannot open state database %s: %s (check that state_dir "
		    "exists and belongs to the user mail2cups runs as)",
		    path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		r = m2c_fail(errstr, M2C_E_SYS, "state database %s is not a regular file",
		    path);
	else if ((st.st_mode & 0777) != 0600 && fchmod(fd, 0600) != 0)
		r = m2c_fail(errstr, M2C_E_SYS, "cannot make %s private (chmod 0600): %s",
		    path, strerror(errno));
	close(fd);
	return r;
}

/* Open s->path with flags (SQLITE_OPEN_READWRITE or _READONLY). */
static int
db_open(struct state *s, int flags, char **errstr)
{
	if (sqlite3_open_v2(s->path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		return s->db ? state_fail(s, "opening", errstr) :
		    m2c_fail(errstr, M2C_E_SYS, "state database %s: out of memory",
		    s->path);
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STATE_BUSY_MS);
	return 0;
}

/* A new handle for state_dir/state.db, not yet open. */
static struct state *
state_new(const char *state_dir)
{
	struct state *s = xcalloc(1, sizeof(*s));

	s->path = xasprintf("%s/%s", state_dir, STATE_DB_NAME);
	return s;
}

int
state_open(const char *state_dir, struct state **out, char **errstr)
{
	struct state *s;
	const char *mode;
	sqlite3_stmt *st = NULL;
	int r;

	*out = NULL;
	s = state_new(state_dir);
	if ((r = mkdir_p(state_dir, 0700, errstr)) != 0 ||
	    (r = create_private(s->path, errstr)) != 0 ||
	    (r = db_open(s, SQLITE_OPEN_READWRITE, errstr)) != 0)
		goto out;
	/* The first read: a damaged or foreign file fails here. */
	if ((r = prep(s, "PRAGMA journal_mode = WAL", &st, errstr)) != 0)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = state_fail(s, "switching to WAL mode", errstr);
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "state database %s: cannot use WAL "
		    "mode (journal mode is %s): state_dir must be on a local file "
		    "system", s->path, mode ? mode : "unknown");
		goto out;
	}
	stmt_release(s, st);	/* an open statement would block COMMIT */
	st = NULL;
	if ((r = exec_sql(s, "PRAGMA synchronous = FULL", "setting synchronous",
	    errstr)) != 0 ||
	    (r = exec_sql(s, "PRAGMA foreign_keys = ON", "enabling foreign keys",
	    errstr)) != 0 ||
	    (r = migrate(s, errstr)) != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	stmt_release(s, st);
	state_close(&s);
	return r;
}

void
state_close(struct state **sp)
{
	struct state *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i].st);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	*sp = NULL;
}

void
state_set_busy_timeout(struct state *s, int ms)
{
	sqlite3_busy_timeout(s->db, ms);
}

/* ---------------------------------------------------------------- messages */

/* Make sure the message row exists (status ACTIVE, no attempts yet). */
static int
msg_ensure(struct state *s, const struct state_key *k, char **errstr)
{
	return exec_vals(s, "INSERT OR IGNORE INTO messages (account, mailbox, "
	    "uidvalidity, uid, status, attempts, first_seen, updated) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)",
	    VALS(KEY(k), TXT(msg_status_names[STATE_MSG_ACTIVE]), NUM(time(NULL))),
	    "adding a message row", errstr);
}

static int
msg_from_row(struct state *s, sqlite3_stmt *st, void *elem, char **errstr)
{
	struct state_msg *out = elem;
	int status;

	status = status_from_name(msg_status_names, ARRAY_SIZE(msg_status_names),
	    sqlite3_column_text(st, 0));
	if (status < 0)
		return m2c_fail(errstr, M2C_E_SYS, "state database %s: unknown message "
		    "status \"%s\" (written by a newer mail2cups?)", s->path,
		    (const char *)sqlite3_column_text(st, 0));
	out->status = (enum state_msg_status)status;
	out->attempts = sqlite3_column_int(st, 1);
	out->reason = column_strdup(st, 2);
	return 0;
}

int
state_msg_get(struct state *s, const struct state_key *k, struct state_msg *out,
    char **errstr)
{
	int r;

	memset(out, 0, sizeof(*out));	/* no row: STATE_MSG_NEW */
	if ((r = check_key(k, NULL, 0, errstr)) != 0 ||
	    (r = query_one(s, "SELECT status, attempts, reason FROM messages WHERE "
	    "account = ?1 AND mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4",
	    VALS(KEY(k)), msg_from_row, out, "reading a message row", errstr)) < 0)
		return r;
	return 0;
}

void
state_msg_clear(struct state_msg *m)
{
	if (m == NULL)
		return;
	free(m->reason);
	memset(m, 0, sizeof(*m));
}

static int
msg_attempt_tx(struct state *s, const struct state_key *k, int *attempts,
    char **errstr)
{
	int r, n;

	if ((r = check_key(k, NULL, 0, errstr)) != 0 || (r = tx_begin(s, errstr)) != 0)
		return r;
	if ((r = msg_ensure(s, k, errstr)) == 0 &&
	    (r = exec_vals(s, "UPDATE messages SET attempts = attempts + 1, updated = ?5 "
	    "WHERE account = ?1 AND mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4",
	    VALS(KEY(k), NUM(time(NULL))), "counting an attempt", errstr)) == 0 &&
	    (r = query_int(s, "SELECT attempts FROM messages WHERE account = ?1 AND "
	    "mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4", VALS(KEY(k)), &n,
	    "reading the attempt count", errstr)) == 0 && attempts != NULL)
		*attempts = n;
	return tx_end(s, r, errstr);
}

static int msg_set_rows(struct state *s, const struct state_key *k,
    enum state_msg_status status, const char *reason, char **errstr);

static int
msg_set_tx(struct state *s, const struct state_key *k,
    enum state_msg_status status, const char *reason, char **errstr)
{
	int r;

	if ((r = tx_begin(s, errstr)) != 0)
		return r;
	return tx_end(s, msg_set_rows(s, k, status, reason, errstr), errstr);
}

/* msg_set_tx inside the caller's transaction. */
static int
msg_set_rows(struct state *s, const struct state_key *k, enum state_msg_status status,
    const char *reason, char **errstr)
{
	int r;

	if ((r = check_key(k, NULL, 0, errstr)) != 0)
		return r;
	if ((unsigned)status >= ARRAY_SIZE(msg_status_names) || status == STATE_MSG_NEW)
		return m2c_fail(errstr, M2C_E_USAGE,
		    "state: cannot set message status %d (internal error)", (int)status);
	if ((r = msg_ensure(s, k, errstr)) != 0)
		return r;
	return exec_vals(s, "UPDATE messages SET status = ?5, reason = ?6, updated = ?7 "
	    "WHERE account = ?1 AND mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4",
	    VALS(KEY(k), TXT(msg_status_names[status]), TXT(reason), NUM(time(NULL))),
	    "setting a message status", errstr);
}

/* ---------------------------------------------------------------- parts */

/*
 * Step st to the end, converting each row with from_row into a growing
 * array of elements of size esz (at most max of them; what names them in
 * messages).  *list and *len hold what was collected even on failure, so
 * the caller frees them with its own list free function.
 */
static int
collect_rows(struct state *s, sqlite3_stmt *st, size_t esz, size_t max, const char *what,
    row_fn from_row, void **list, size_t *len, char **errstr)
{
	int r, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*len >= max)
			return m2c_fail(errstr, M2C_E_LIMIT, "state database %s: more than %zu %s",
			    s->path, max, what);
		*list = xreallocarray(*list, *len + 1, esz);
		memset((char *)*list + *len * esz, 0, esz);
		if ((r = from_row(s, st, (char *)*list + *len * esz, errstr)) != 0)
			return r;
		(*len)++;
	}
	if (rc != SQLITE_DONE)
		return state_fail(s, what, errstr);
	return 0;
}

static int
part_from_row(struct state *s, sqlite3_stmt *st, void *elem, char **errstr)
{
	struct state_part *out = elem;
	const unsigned char *nonce;
	int status;

	status = status_from_name(part_status_names, ARRAY_SIZE(part_status_names),
	    sqlite3_column_text(st, 0));
	nonce = sqlite3_column_text(st, 1);
	if (status <= STATE_PART_NONE || nonce == NULL ||
	    strlen((const char *)nonce) != sizeof(out->nonce) - 1)
		return m2c_fail(errstr, M2C_E_SYS, "state database %s: a part row "
		    "has an unknown status or a bad nonce (written by a newer "
		    "mail2cups?)", s->path);
	out->status = (enum state_part_status)status;
	memcpy(out->nonce, nonce, sizeof(out->nonce));
	out->job_id = sqlite3_column_int(st, 2);
	out->printer = column_strdup(st, 3);
	return 0;
}



int
state_part_get(struct state *s, const struct state_key *k, const char *part,
    struct state_part *out, char **errstr)
{
	int r;

	memset(out, 0, sizeof(*out));	/* no row: STATE_PART_NONE */
	if ((r = check_key(k, part, 1, errstr)) != 0 ||
	    (r = query_one(s, "SELECT status, nonce, job_id, printer FROM parts WHERE "
	    "account = ?1 AND mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4 AND "
	    "part = ?5", VALS(KEY(k), TXT(part)), part_from_row, out,
	    "reading a part row", errstr)) < 0)
		return r;
	return 0;
}

void
state_part_clear(struct state_part *p)
{
	if (p == NULL)
		return;
	free(p->printer);
	memset(p, 0, sizeof(*p));
}

/* 16 random bytes as 32 lower-case hex digits. */
static int
make_nonce(char out[33], char **errstr)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return m2c_fail(errstr, M2C_E_SYS,
		    "cannot make a random nonce (OpenSSL RAND_bytes failed)");
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	out[32] = '\0';
	return 0;
}

/*
 * Exactly once: a part with a job id is never given a new intent (which
 * would forget the job and let the part print again).
 */
static int
refuse_submitted(struct state *s, const struct state_key *k, const char *part,
    char **errstr)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = query_row(s, "SELECT job_id FROM parts WHERE account = ?1 AND "
	    "mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4 AND part = ?5 AND "
	    "status = ?6", VALS(KEY(k), TXT(part),
	    TXT(part_status_names[STATE_PART_SUBMITTED])), &st, "reading a part row",
	    errstr)) <= 0)
		return r;
	r = m2c_fail(errstr, M2C_E_TEMP, "%s/%s UID %u part %s was submitted "
	    "as job %d by another process meanwhile (a second mail2cups on this "
	    "account?); it is not submitted again, and the next pass finishes "
	    "the message", k->account, k->mailbox, k->uid, part,
	    sqlite3_column_int(st, 0));
	stmt_release(s, st);
	return r;
}

int
state_part_intent(struct state *s, const struct state_key *k, const char *part,
    const char *printer, const char *filename, char nonce_out[33], char **errstr)
{
	char nonce[33];
	int r;

	if ((r = check_key(k, part, 1, errstr)) != 0)
		return r;
	if (printer == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "state: intent without a printer "
		    "(internal error)");
	if ((r = make_nonce(nonce, errstr)) != 0 || (r = tx_begin(s, errstr)) != 0)
		return r;
	if ((r = msg_ensure(s, k, errstr)) == 0 &&
	    (r = refuse_submitted(s, k, part, errstr)) == 0)
		r = exec_vals(s, "INSERT OR REPLACE INTO parts (account, mailbox, "
		    "uidvalidity, uid, part, status, nonce, printer, filename, job_id, "
		    "created, updated) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?10)",
		    VALS(KEY(k), TXT(part), TXT(part_status_names[STATE_PART_INTENT]),
		    TXT(nonce), TXT(printer), TXT(filename), NUM(time(NULL))),
		    "writing a print intent", errstr);
	/* synchronous=FULL: the intent is on disk once COMMIT returns. */
	if ((r = tx_end(s, r, errstr)) == 0)
		memcpy(nonce_out, nonce, sizeof(nonce));
	return r;
}

static int
part_submitted_tx(struct state *s, const struct state_key *k, const char *part,
    int job_id, char **errstr)
{
	int r;

	if ((r = check_key(k, part, 1, errstr)) != 0)
		return r;
	if (job_id <= 0)
		return m2c_fail(errstr, M2C_E_USAGE, "state: job id %d is not valid "
		    "(internal error)", job_id);
	r = exec_change(s, "UPDATE parts SET status = ?6, job_id = ?7, updated = ?8 "
	    "WHERE account = ?1 AND mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4 "
	    "AND part = ?5", VALS(KEY(k), TXT(part),
	    TXT(part_status_names[STATE_PART_SUBMITTED]), NUM(job_id), NUM(time(NULL))),
	    "recording a job id", errstr);
	if (r == M2C_E_NOTFOUND)
		r = m2c_fail(errstr, M2C_E_NOTFOUND, "state database %s: no print "
		    "intent for %s/%s UID %u part %s, so job %d cannot be recorded "
		    "(internal error)", s->path, k->account, k->mailbox, k->uid, part,
		    job_id);
	return r;
}

static int
msg_set_identity_tx(struct state *s, const struct state_key *k, const char *message_id,
    const char *content_hash, char **errstr)
{
	int r;

	if ((r = check_key(k, NULL, 0, errstr)) != 0)
		return r;
	return exec_vals(s, "UPDATE messages SET message_id = ?5, content_hash = ?6 WHERE "
	    "account = ?1 AND mailbox = ?2 AND uidvalidity = ?3 AND uid = ?4",
	    VALS(KEY(k), TXT(message_id), TXT(content_hash)),
	    "recording a message's identity", errstr);
}

int
state_msg_find_printed(struct state *s, const struct state_key *k, const char *content_hash,
    uint32_t *uidvalidity, uint32_t *uid, char **errstr)
{
	sqlite3_stmt *st = NULL;
	int r;

	*uidvalidity = *uid = 0;
	if ((r = check_key(k, NULL, 0, errstr)) != 0 ||
	    (r = query_row(s, "SELECT uidvalidity, uid FROM messages WHERE account = ?1 AND "
	    "mailbox = ?2 AND uidvalidity != ?3 AND content_hash = ?5 AND status IN (?6, ?7) "
	    "LIMIT 1", VALS(KEY(k), TXT(content_hash), TXT(msg_status_names[STATE_MSG_PRINTED]),
	    TXT(msg_status_names[STATE_MSG_DONE])), &st,
	    "looking a message up by content", errstr)) < 0)
		return r;
	if (r == 0)
		return M2C_E_NOTFOUND;
	*uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
	*uid = (uint32_t)sqlite3_column_int64(st, 1);
	stmt_release(s, st);
	return 0;
}

int
state_delivery_number(struct state *s, const char *account, const char *message_id,
    const char *content_hash, const char *recipient, uint32_t *number, int *is_new,
    char **errstr)
{
	sqlite3_stmt *st = NULL;
	const char *mid = message_id != NULL ? message_id : "";
	const char *rcpt = recipient != NULL ? recipient : "";
	int r;

	*number = 0;
	if (is_new != NULL)
		*is_new = 0;
	if (account == NULL || content_hash == NULL || *content_hash == '\0')
		return m2c_fail(errstr, M2C_E_USAGE,
		    "state: incomplete delivery identity (internal error)");
	if ((r = tx_begin(s, errstr)) != 0)
		return r;
	if ((r = query_row(s, "SELECT number FROM deliveries WHERE account = ?1 AND "
	    "message_id = ?2 AND content_hash = ?3 AND recipient = ?4",
	    VALS(TXT(account), TXT(mid), TXT(content_hash), TXT(rcpt)), &st,
	    "looking a delivery up", errstr)) != 0) {
		if (r == 1) {
			*number = (uint32_t)sqlite3_column_int64(st, 0);
			r = 0;
		}
		goto out;
	}
	/* A new one: the next number of the account (inside this write
	 * transaction, so two processes never take the same). */
	if ((r = query_row(s, "INSERT INTO deliveries (account, message_id, content_hash, "
	    "recipient, number, created) VALUES (?1, ?2, ?3, ?4, (SELECT "
	    "COALESCE(MAX(number), 0) + 1 FROM deliveries WHERE account = ?1), ?5) "
	    "RETURNING number", VALS(TXT(account), TXT(mid), TXT(content_hash), TXT(rcpt),
	    NUM(time(NULL))), &st, "recording a delivery", errstr)) != 1) {
		if (r == 0)
			r = state_fail(s, "recording a delivery", errstr);
		goto out;
	}
	r = 0;
	*number = (uint32_t)sqlite3_column_int64(st, 0);
	if (*number == 0 || sqlite3_column_int64(st, 0) > UINT32_MAX) {
		r = m2c_fail(errstr, M2C_E_SYS, "state database %s: account %s has used up "
		    "its delivery numbers", s->path, account);
		goto out;
	}
	if (is_new != NULL)
		*is_new = 1;
out:
	stmt_release(s, st);	/* reset: an open statement would block COMMIT */
	return tx_end(s, r, errstr);
}

int
state_msg_list_owed(struct state *s, const struct state_key *k, uint32_t **uids,
    enum state_msg_status **statuses, size_t *n, char **errstr)
{
	sqlite3_stmt *st = NULL;
	uint32_t *u = NULL;
	enum state_msg_status *v = NULL;
	size_t len = 0;
	int r, rc;

	*uids = NULL;
	*statuses = NULL;
	*n = 0;
	if ((r = check_key(k, NULL, 0, errstr)) != 0 ||
	    (r = prep_bind(s, "SELECT uid, status FROM messages WHERE account = ?1 AND "
	    "mailbox = ?2 AND uidvalidity = ?3 AND status IN (?5, ?6, ?7) ORDER BY uid",
	    VALS(KEY(k), TXT(msg_status_names[STATE_MSG_PRINTED]),
	    TXT(msg_status_names[STATE_MSG_FAILED]),
	    TXT(msg_status_names[STATE_MSG_REJECTED])), &st, errstr)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int status = status_from_name(msg_status_names, ARRAY_SIZE(msg_status_names),
		    sqlite3_column_text(st, 1));

		u = xreallocarray(u, len + 1, sizeof(*u));
		v = xreallocarray(v, len + 1, sizeof(*v));
		u[len] = (uint32_t)sqlite3_column_int64(st, 0);
		v[len] = status == STATE_MSG_FAILED || status == STATE_MSG_REJECTED ?
		    (enum state_msg_status)status : STATE_MSG_PRINTED;
		len++;
	}
	if (rc != SQLITE_DONE) {
		r = state_fail(s, "listing messages", errstr);
		goto out;
	}
	*uids = u, u = NULL;
	*statuses = v, v = NULL;
	*n = len;
out:
	stmt_release(s, st);
	free(u);
	free(v);
	return r;
}

/*
 * The relaxed writes (see the top of this file): committed with
 * synchronous = NORMAL.
 */
int
state_msg_attempt(struct state *s, const struct state_key *k, int *attempts, char **errstr)
{
	int r;

	if ((r = sync_relaxed(s, errstr)) != 0)
		return r;
	return sync_durable(s, msg_attempt_tx(s, k, attempts, errstr), errstr);
}

int
state_msg_set(struct state *s, const struct state_key *k, enum state_msg_status status,
    const char *reason, char **errstr)
{
	int r;

	if ((r = sync_relaxed(s, errstr)) != 0)
		return r;
	return sync_durable(s, msg_set_tx(s, k, status, reason, errstr), errstr);
}

int
state_msg_set_many(struct state *s, const struct state_key *k, const uint32_t *uids, size_t n,
    enum state_msg_status status, char **errstr)
{
	struct state_key one = *k;
	int r;

	if (n == 0)
		return 0;
	if ((r = sync_relaxed(s, errstr)) != 0)
		return r;
	if ((r = tx_begin(s, errstr)) == 0) {
		for (size_t i = 0; i < n && r == 0; i++) {
			one.uid = uids[i];
			r = msg_set_rows(s, &one, status, NULL, errstr);
		}
		r = tx_end(s, r, errstr);
	}
	return sync_durable(s, r, errstr);
}

int
state_part_submitted(struct state *s, const struct state_key *k, const char *part, int job_id,
    char **errstr)
{
	int r;

	if ((r = sync_relaxed(s, errstr)) != 0)
		return r;
	return sync_durable(s, part_submitted_tx(s, k, part, job_id, errstr), errstr);
}

int
state_msg_set_identity(struct state *s, const struct state_key *k, const char *message_id,
    const char *content_hash, char **errstr)
{
	int r;

	if ((r = sync_relaxed(s, errstr)) != 0)
		return r;
	return sync_durable(s, msg_set_identity_tx(s, k, message_id, content_hash, errstr),
	    errstr);
}

/* ---------------------------------------------------------------- accounts */

int
state_open_readonly(const char *state_dir, struct state **out, char **errstr)
{
	struct state *s;
	struct stat sb;
	long long version = 0;
	int r = 0;

	*out = NULL;
	s = state_new(state_dir);
	if (stat(s->path, &sb) != 0 && errno == ENOENT) {
		r = M2C_E_NOTFOUND;
		goto out;
	}
	/* The first read (schema_version): a damaged or foreign file fails here. */
	if ((r = db_open(s, SQLITE_OPEN_READONLY, errstr)) != 0 ||
	    (r = schema_version(s, &version, errstr)) != 0)
		goto out;
	s->old_schema = version < STATE_SCHEMA_ACCOUNTS;
	s->no_step = version < STATE_SCHEMA_STEP;
	*out = s;
	s = NULL;
out:
	state_close(&s);
	return r;
}

static int
check_account_name(const char *account, char **errstr)
{
	if (account == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "state: no account (internal error)");
	return 0;
}

int
state_account_set(struct state *s, const char *account,
    enum state_account_status status, const char *reason, const char *fix,
    int error_class, const char *step, int64_t now, char **errstr)
{
	int r;

	if ((r = check_account_name(account, errstr)) != 0)
		return r;
	if ((unsigned)status >= ARRAY_SIZE(account_status_names) ||
	    status == STATE_ACCOUNT_NONE)
		return m2c_fail(errstr, M2C_E_USAGE,
		    "state: cannot set account status %d (internal error)", (int)status);
	/* One statement: since and last_ok carry over from the old row. */
	return exec_vals(s, "INSERT INTO accounts (name, status, reason, fix, "
	    "error_class, last_check, last_ok, since, updated, step) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?7 THEN ?6 END, ?6, ?6, ?8) "
	    "ON CONFLICT (name) DO UPDATE SET status = excluded.status, "
	    "reason = excluded.reason, fix = excluded.fix, "
	    "error_class = excluded.error_class, step = excluded.step, "
	    "last_check = excluded.last_check, "
	    "last_ok = coalesce(excluded.last_ok, accounts.last_ok), "
	    "since = CASE WHEN accounts.status = excluded.status "
	    "THEN accounts.since ELSE excluded.since END, "
	    "updated = excluded.updated",
	    VALS(TXT(account), TXT(account_status_names[status]), TXT(reason), TXT(fix),
	    NUM(error_class), NUM(now), NUM(status == STATE_ACCOUNT_OK), TXT(step)),
	    "recording an account's status", errstr);
}

/* The last column is the step, NULL before schema 6 (it has none). */
#define ACCOUNT_COLUMNS \
	"status, reason, fix, error_class, last_check, last_ok, since, updated, "

static int
account_from_row(struct state *s, sqlite3_stmt *st, void *elem, char **errstr)
{
	struct state_account *out = elem;
	int status;

	status = status_from_name(account_status_names, ARRAY_SIZE(account_status_names),
	    sqlite3_column_text(st, 0));
	if (status <= STATE_ACCOUNT_NONE)
		return m2c_fail(errstr, M2C_E_SYS, "state database %s: unknown account "
		    "status \"%s\" (written by a newer mail2cups?)", s->path,
		    (const char *)sqlite3_column_text(st, 0));
	out->status = (enum state_account_status)status;
	out->reason = column_strdup(st, 1);
	out->fix = column_strdup(st, 2);
	out->error_class = sqlite3_column_int(st, 3);
	out->last_check = sqlite3_column_int64(st, 4);
	out->last_ok = sqlite3_column_int64(st, 5);
	out->since = sqlite3_column_int64(st, 6);
	out->updated = sqlite3_column_int64(st, 7);
	out->step = column_strdup(st, 8);
	return 0;
}

int
state_account_get(struct state *s, const char *account, struct state_account *out,
    char **errstr)
{
	int r;

	memset(out, 0, sizeof(*out));	/* no row: STATE_ACCOUNT_NONE */
	if ((r = check_account_name(account, errstr)) != 0 || s->old_schema ||
	    (r = query_one(s, s->no_step ?
	    "SELECT " ACCOUNT_COLUMNS "NULL FROM accounts WHERE name = ?1" :
	    "SELECT " ACCOUNT_COLUMNS "step FROM accounts WHERE name = ?1",
	    VALS(TXT(account)), account_from_row, out, "reading an account row",
	    errstr)) < 0)
		return r;
	return 0;
}

void
state_account_clear(struct state_account *a)
{
	if (a == NULL)
		return;
	free(a->reason);
	free(a->fix);
	free(a->step);
	memset(a, 0, sizeof(*a));
}



int
state_account_counts(struct state *s, const char *account, int64_t since,
    int *printed, int *pending, char **errstr)
{
	int r;

	*printed = *pending = 0;
	if ((r = check_account_name(account, errstr)) != 0 ||
	    (r = query_int(s, "SELECT count(*) FROM parts WHERE account = ?1 AND "
	    "status = ?2 AND job_id IS NOT NULL AND max(created, updated) >= ?3",
	    VALS(TXT(account), TXT(part_status_names[STATE_PART_SUBMITTED]), NUM(since)),
	    printed, "counting", errstr)) != 0)
		return r;
	return query_int(s, "SELECT count(*) FROM messages WHERE account = ?1 AND "
	    "status = ?2", VALS(TXT(account), TXT(msg_status_names[STATE_MSG_ACTIVE])),
	    pending, "counting", errstr);
}

/* ---------------------------------------------------------------- replies */

#define REPLY_COLUMNS \
	"id, account, kind, rcpt, ctx, status, created, sent_at, attempts, last_error"

static int
reply_from_row(struct state *s, sqlite3_stmt *st, void *elem, char **errstr)
{
	struct state_reply *e = elem;
	int status;

	memset(e, 0, sizeof(*e));
	status = status_from_name(reply_status_names, ARRAY_SIZE(reply_status_names),
	    sqlite3_column_text(st, 5));
	if (status < 0)
		return m2c_fail(errstr, M2C_E_SYS, "state database %s: unknown reply "
		    "status \"%s\" (written by a newer mail2cups?)", s->path,
		    (const char *)sqlite3_column_text(st, 5));
	e->id = sqlite3_column_int64(st, 0);
	e->account = column_strdup(st, 1);
	e->kind = column_strdup(st, 2);
	e->rcpt = column_strdup(st, 3);
	e->ctx = column_strdup(st, 4);
	e->status = (enum state_reply_status)status;
	e->created = sqlite3_column_int64(st, 6);
	e->sent_at = sqlite3_column_int64(st, 7);
	e->attempts = sqlite3_column_int(st, 8);
	e->last_error = column_strdup(st, 9);
	return 0;
}

static int
check_reply_status(enum state_reply_status status, char **errstr)
{
	if ((unsigned)status >= ARRAY_SIZE(reply_status_names))
		return m2c_fail(errstr, M2C_E_USAGE,
		    "state: reply status %d is not valid (internal error)", (int)status);
	return 0;
}

int
state_reply_add(struct state *s, const char *account, const char *kind, const char *rcpt,
    const char *ctx, enum state_reply_status status, int64_t now, int64_t *id, char **errstr)
{
	int r;

	if (id != NULL)
		*id = 0;
	if ((r = check_account_name(account, errstr)) != 0 ||
	    (r = check_reply_status(status, errstr)) != 0)
		return r;
	if (kind == NULL || rcpt == NULL || ctx == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "state: incomplete reply (internal error)");
	if ((r = exec_vals(s, "INSERT INTO replies (account, kind, rcpt, ctx, status, "
	    "created, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)", VALS(TXT(account),
	    TXT(kind), TXT(rcpt), TXT(ctx), TXT(reply_status_names[status]), NUM(now)),
	    "queueing a reply", errstr)) == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int
state_reply_list(struct state *s, const char *account, enum state_reply_status status,
    struct state_reply **out, size_t *n, char **errstr)
{
	struct state_reply *list = NULL;
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = check_account_name(account, errstr)) != 0 ||
	    (r = check_reply_status(status, errstr)) != 0 ||
	    (r = prep_bind(s, "SELECT " REPLY_COLUMNS " FROM replies WHERE account = ?1 AND "
	    "status = ?2 ORDER BY id LIMIT ?3", VALS(TXT(account),
	    TXT(reply_status_names[status]), NUM(STATE_REPLY_LIST_MAX)), &st, errstr)) != 0)
		return r;
	if ((r = collect_rows(s, st, sizeof(*list), STATE_REPLY_LIST_MAX, "replies",
	    reply_from_row, (void **)&list, &len, errstr)) != 0)
		goto out;
	*out = list;
	*n = len;
	list = NULL;
out:
	stmt_release(s, st);
	state_reply_list_free(&list, len);
	return r;
}

void
state_reply_list_free(struct state_reply **list, size_t n)
{
	size_t i;

	if (list == NULL || *list == NULL)
		return;
	for (i = 0; i < n; i++) {
		struct state_reply *e = &(*list)[i];

		free(e->account);
		free(e->kind);
		free(e->rcpt);
		free(e->ctx);
		free(e->last_error);
	}
	free(*list);
	*list = NULL;
}

/* A statement on one reply row (?1 = id) that must change exactly it. */
static int
reply_change(struct state *s, const char *sql, const struct sqlval *vals, size_t n,
    const char *what, char **errstr)
{
	int r;

	if ((r = exec_change(s, sql, vals, n, what, errstr)) == M2C_E_NOTFOUND)
		r = m2c_fail(errstr, M2C_E_NOTFOUND, "state database %s: no reply %lld "
		    "(internal error)", s->path, (long long)vals[0].num);
	return r;
}

int
state_reply_set(struct state *s, int64_t id, enum state_reply_status status,
    const char *kind, const char *ctx, const char *last_error, int64_t now, char **errstr)
{
	int r;

	if ((r = check_reply_status(status, errstr)) != 0)
		return r;
	return reply_change(s, "UPDATE replies SET status = ?2, kind = coalesce(?3, kind), "
	    "ctx = coalesce(?4, ctx), last_error = ?5, "
	    "sent_at = CASE WHEN ?6 THEN ?7 ELSE sent_at END WHERE id = ?1",
	    VALS(NUM(id), TXT(reply_status_names[status]), TXT(kind), TXT(ctx),
	    TXT(last_error), NUM(status == STATE_REPLY_SENT), NUM(now)),
	    "updating a reply", errstr);
}

int
state_reply_attempt(struct state *s, int64_t id, const char *last_error, int *attempts,
    char **errstr)
{
	int r, n;

	if (attempts != NULL)
		*attempts = 0;
	if ((r = tx_begin(s, errstr)) != 0)
		return r;
	if ((r = reply_change(s, "UPDATE replies SET attempts = attempts + 1, "
	    "last_error = ?2 WHERE id = ?1", VALS(NUM(id), TXT(last_error)),
	    "counting a reply attempt", errstr)) == 0 &&
	    (r = query_int(s, "SELECT attempts FROM replies WHERE id = ?1", VALS(NUM(id)),
	    &n, "reading a reply's attempts", errstr)) == 0 && attempts != NULL)
		*attempts = n;
	return tx_end(s, r, errstr);
}

int
state_reply_count_sent(struct state *s, const char *rcpt, int64_t since, int *n,
    char **errstr)
{
	if (rcpt == NULL) {
		*n = 0;
		return m2c_fail(errstr, M2C_E_USAGE, "state: no recipient (internal error)");
	}
	return query_int(s, "SELECT count(*) FROM replies WHERE rcpt = ?1 COLLATE NOCASE "
	    "AND status = ?2 AND sent_at >= ?3", VALS(TXT(rcpt),
	    TXT(reply_status_names[STATE_REPLY_SENT]), NUM(since)), n, "counting",
	    errstr);
}

/* ------------------------------------------------------------ backend jobs */

static const char *const bjob_status_names[] = {
	[STATE_BJOB_NONE] = "none",
	[STATE_BJOB_SENDING] = "sending",
	[STATE_BJOB_SENT] = "sent",
};

/* The backend job key as ?1..?3. */
#define BJOB_KEY(printer, job_id, content_hash) \
	TXT(printer), NUM(job_id), TXT(content_hash)

static int
bjob_check_key(const char *printer, int job_id, const char *content_hash, char **errstr)
{
	if (printer == NULL || *printer == '\0' || job_id <= 0 || content_hash == NULL ||
	    *content_hash == '\0')
		return m2c_fail(errstr, M2C_E_USAGE, "state: incomplete backend job key "
		    "(internal error)");
	return 0;
}

static int
bjob_from_row(struct state *s, sqlite3_stmt *st, void *elem, char **errstr)
{
	struct state_bjob *out = elem;
	const char *status = (const char *)sqlite3_column_text(st, 0);
	const char *mid = (const char *)sqlite3_column_text(st, 1);

	(void)s;
	(void)errstr;
	out->status = status != NULL && strcmp(status, "sent") == 0 ? STATE_BJOB_SENT :
	    STATE_BJOB_SENDING;
	out->message_id = xstrdup(mid ? mid : "");
	out->attempts = sqlite3_column_int(st, 2);
	out->sent_at = sqlite3_column_int64(st, 3);
	return 0;
}

int
state_bjob_get(struct state *s, const char *printer, int job_id, const char *content_hash,
    struct state_bjob *out, char **errstr)
{
	int r;

	memset(out, 0, sizeof(*out));	/* no row: STATE_BJOB_NONE */
	if ((r = bjob_check_key(printer, job_id, content_hash, errstr)) != 0 ||
	    (r = query_one(s, "SELECT status, message_id, attempts, sent_at FROM "
	    "backend_jobs WHERE printer = ?1 AND job_id = ?2 AND content_hash = ?3",
	    VALS(BJOB_KEY(printer, job_id, content_hash)), bjob_from_row, out,
	    "reading a backend job row", errstr)) < 0)
		return r;
	return 0;
}

void
state_bjob_clear(struct state_bjob *b)
{
	if (b == NULL)
		return;
	free(b->message_id);
	memset(b, 0, sizeof(*b));
}

int
state_bjob_sending(struct state *s, const char *printer, int job_id, const char *content_hash,
    const char *account, const char *rcpt, const char *message_id, char **errstr)
{
	int r;

	if ((r = bjob_check_key(printer, job_id, content_hash, errstr)) != 0)
		return r;
	if (account == NULL || rcpt == NULL || message_id == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "state: incomplete backend job (internal error)");
	/* A sent row is never turned back: the WHERE keeps it as it is. */
	r = exec_change(s, "INSERT INTO backend_jobs (printer, job_id, content_hash, account, "
	    "rcpt, message_id, status, attempts, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "'sending', 1, ?7) ON CONFLICT (printer, job_id, content_hash) DO UPDATE SET "
	    "attempts = attempts + 1, account = ?4, rcpt = ?5, message_id = ?6 "
	    "WHERE status != 'sent'", VALS(BJOB_KEY(printer, job_id, content_hash),
	    TXT(account), TXT(rcpt), TXT(message_id), NUM(time(NULL))),
	    "recording a backend job", errstr);
	if (r == M2C_E_NOTFOUND)
		r = m2c_fail(errstr, M2C_E_USAGE, "state: job %d of %s was already sent "
		    "(internal error: check state_bjob_get first)", job_id, printer);
	return r;
}

int
state_bjob_sent(struct state *s, const char *printer, int job_id, const char *content_hash,
    char **errstr)
{
	int r;

	if ((r = bjob_check_key(printer, job_id, content_hash, errstr)) != 0)
		return r;
	r = exec_change(s, "UPDATE backend_jobs SET status = 'sent', sent_at = ?4 WHERE "
	    "printer = ?1 AND job_id = ?2 AND content_hash = ?3",
	    VALS(BJOB_KEY(printer, job_id, content_hash), NUM(time(NULL))),
	    "recording a sent backend job", errstr);
	if (r == M2C_E_NOTFOUND)
		r = m2c_fail(errstr, M2C_E_NOTFOUND, "state: no backend job %d of %s to "
		    "mark sent (internal error)", job_id, printer);
	return r;
}

ENUM_NAME_FN(state_bjob_status_name, enum state_bjob_status, bjob_status_names, "?")

int
state_folder_user_used(struct state *s, const char *account, const char *user, char **errstr)
{
	int r;

	if ((r = check_account_name(account, errstr)) != 0)
		return r;
	return exec_vals(s, "INSERT INTO folder_users (account, user, last_used) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (account, user) DO UPDATE SET "
	    "last_used = excluded.last_used", VALS(TXT(account), TXT(user), NUM(time(NULL))),
	    "recording a Print folder's user", errstr);
}

int
state_folder_user_forget(struct state *s, const char *account, const char *user,
    char **errstr)
{
	int r;

	if ((r = check_account_name(account, errstr)) != 0)
		return r;
	return exec_vals(s, "DELETE FROM folder_users WHERE account = ?1 AND user = ?2",
	    VALS(TXT(account), TXT(user)), "forgetting a Print folder's user", errstr);
}

static int
name_from_row(struct state *s, sqlite3_stmt *st, void *elem, char **errstr)
{
	(void)s;
	(void)errstr;
	*(char **)elem = column_strdup(st, 0);
	return 0;
}

int
state_folder_users(struct state *s, const char *account, struct state_names *out,
    char **errstr)
{
	sqlite3_stmt *st = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_account_name(account, errstr)) != 0 ||
	    (r = prep_bind(s, "SELECT user FROM folder_users WHERE account = ?1 ORDER BY "
	    "last_used DESC, user", VALS(TXT(account)), &st, errstr)) != 0)
		return r;
	r = collect_rows(s, st, sizeof(*out->v), SIZE_MAX, "Print folders' users",
	    name_from_row, (void **)&out->v, &out->n, errstr);
	stmt_release(s, st);
	if (r != 0)
		state_names_free(out);
	return r;
}

void
state_names_free(struct state_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
