/*
 * state.h - the state database (SQLite, WAL) in state_dir/state.db.
 *
 * Keyed by (account, mailbox, UIDVALIDITY, UID) for messages and, for each
 * attachment, by the MIME part too.  It is what makes submission exactly
 * once: before a job is created an intent row with a fresh random nonce is
 * committed; the nonce goes with the job; then the job id is recorded.  A
 * part whose intent has no job id is looked up in CUPS by its nonce before
 * anything is submitted again.
 *
 * What must be on disk when (a crash here means the process dying, a power
 * loss the machine): SQLite in WAL mode writes commits in order, so a
 * durable commit also makes every earlier one durable, and a loss can only
 * ever cut off the newest commits.
 *   - the intent row (state_part_intent) is durable (fsync'd) before it
 *     returns, because CUPS may hold the job as soon as the Print-Job's
 *     last byte is sent (cupsjob.c): without the row and its nonce, a
 *     restart would print the part again;
 *   - the backend's "sending"/"sent" rows and the replies are durable for
 *     the same reason (a mail sent twice);
 *   - the poller's bookkeeping rows are relaxed (synchronous = NORMAL: they
 *     survive the process dying, and may be lost with the newest commits
 *     at a power loss), because a restart repairs each loss without
 *     printing: attempts and identity (state_msg_attempt,
 *     state_msg_set_identity: counted or recorded again), the job id
 *     (state_part_submitted: the intent's nonce finds the job in CUPS),
 *     the verdict and done (state_msg_set, state_msg_set_many: the message
 *     is recognised again by its parts, or was already moved out of the
 *     mailbox).
 */
#ifndef M2C_STATE_H
#define M2C_STATE_H

#include <stddef.h>
#include <stdint.h>

struct state;

struct state_key {
	const char *account;
	const char *mailbox;
	uint32_t uidvalidity;
	uint32_t uid;
};

enum state_msg_status {
	STATE_MSG_NEW = 0,	/* no row yet */
	STATE_MSG_ACTIVE,	/* being printed; attempts counted */
	STATE_MSG_PRINTED,	/* every printable part submitted; post-action pending */
	STATE_MSG_FAILED,	/* permanent failure; move to failed folder pending */
	STATE_MSG_DONE,		/* post-action done */
	STATE_MSG_REJECTED,	/* refused by policy; move to rejected folder pending */
};

struct state_msg {
	enum state_msg_status status;
	int attempts;
	char *reason;		/* owned by the caller after state_msg_get; may be NULL */
};

enum state_part_status {
	STATE_PART_NONE = 0,	/* no row */
	STATE_PART_INTENT,	/* nonce written, job maybe created */
	STATE_PART_SUBMITTED,	/* job id known */
};

struct state_part {
	enum state_part_status status;
	char nonce[33];		/* 32 hex digits */
	int job_id;		/* 0 when unknown */
	char *printer;		/* owned by the caller; NULL when no row */
};

/* Create state_dir/state.db if needed (0600), migrate the schema. */
int state_open(const char *state_dir, struct state **out, char **errstr);
void state_close(struct state **s);

/* Read a message row; a missing row reads as STATE_MSG_NEW, attempts 0. */
int state_msg_get(struct state *s, const struct state_key *k, struct state_msg *out,
    char **errstr);
void state_msg_clear(struct state_msg *m);	/* frees reason */
/* Count one more attempt (creates the row, status ACTIVE); *attempts = new count. */
int state_msg_attempt(struct state *s, const struct state_key *k, int *attempts,
    char **errstr);
int state_msg_set(struct state *s, const struct state_key *k,
    enum state_msg_status status, const char *reason, char **errstr);
/* state_msg_set for the UIDs uids[0..n) of k's mailbox, in one transaction, no reason. */
int state_msg_set_many(struct state *s, const struct state_key *k, const uint32_t *uids, size_t n,
    enum state_msg_status status, char **errstr);

/* Read a part row; a missing row reads as STATE_PART_NONE. */
int state_part_get(struct state *s, const struct state_key *k, const char *part,
    struct state_part *out, char **errstr);
void state_part_clear(struct state_part *p);	/* frees printer */
/*
 * Write (commit, durable) the intent to submit part to printer, with a new
 * random nonce returned in nonce_out (33 bytes).  Replaces an earlier intent
 * whose job was not found; a part already SUBMITTED (by another process
 * since it was read) is refused with M2C_E_TEMP: it must never be
 * submitted again, and the next pass finds it submitted.  The message row is
 * created (ACTIVE) if missing.
 */
int state_part_intent(struct state *s, const struct state_key *k, const char *part,
    const char *printer, const char *filename, char nonce_out[33], char **errstr);
int state_part_submitted(struct state *s, const struct state_key *k, const char *part,
    int job_id, char **errstr);

/*
 * Remember what the message is: its Message-ID (may be NULL) and the
 * SHA-256 of its whole text (hex), so that it is known again when the
 * server changes UIDVALIDITY.  The row must exist (state_msg_attempt).
 */
int state_msg_set_identity(struct state *s, const struct state_key *k, const char *message_id,
    const char *content_hash, char **errstr);

/*
 * A message of the same account and mailbox, under another UIDVALIDITY,
 * with this content hash, that was printed (PRINTED or DONE): 0 and its
 * UIDVALIDITY and UID, or M2C_E_NOTFOUND (no message).
 */
int state_msg_find_printed(struct state *s, const struct state_key *k, const char *content_hash,
    uint32_t *uidvalidity, uint32_t *uid, char **errstr);

/*
 * Messages that came through `mail2cups deliver` (an MDA: one message on
 * stdin, no IMAP UID) use the same rows as IMAP ones under the key
 *     (account, STATE_DELIVER_MAILBOX, 0, N)
 * UIDVALIDITY 0 is never a server's (RFC 3501: nz-number), so these keys
 * never meet an IMAP mailbox's, and reconciliation (state_msg_list_owed of
 * a real UIDVALIDITY) never lists them.  N, the delivery number, stands for
 * what the message is, within the account (the deliveries table):
 *     (Message-ID, content hash, envelope recipient)
 * where the content hash is the SHA-256 of the message without the lines
 * the MTA prepends at each delivery attempt (deliver.h says which), so an
 * MTA retry after a crash or a timeout, or fetchmail fetching it again, finds
 * the same N, and with it the intent rows and job ids of the earlier try:
 * nothing prints twice.  The same message delivered to two addresses of the
 * account (print+floor2@, print+floor3@) is two deliveries.
 *
 * state_delivery_number: N for that identity, created (committed) on first
 * use as the account's next number; *is_new (optional) says so.
 * message_id and recipient may be NULL (absent: stored as '').
 */
#define STATE_DELIVER_MAILBOX	"(deliver)"
int state_delivery_number(struct state *s, const char *account, const char *message_id,
    const char *content_hash, const char *recipient, uint32_t *number, int *is_new,
    char **errstr);

/*
 * The UIDs of mailbox (account, mailbox, uidvalidity: k's uid is ignored)
 * whose verdict is recorded but whose post-action is not known to be done:
 * status PRINTED, FAILED or REJECTED; statuses[i] says which.  Both arrays allocated
 * (caller frees); no rows: NULL and 0.
 */
int state_msg_list_owed(struct state *s, const struct state_key *k, uint32_t **uids,
    enum state_msg_status **statuses, size_t *n, char **errstr);

/*
 * The users whose Print folder a print_folders account (folders.h) found
 * mail in, for its safety pass: state_folder_user_used records user (now),
 * state_folder_user_forget drops it, state_folder_users lists them, the
 * most recently used first (out allocated: free with state_names_free).
 */
struct state_names {
	char **v;
	size_t n;
};
int state_folder_user_used(struct state *s, const char *account, const char *user,
    char **errstr);
int state_folder_user_forget(struct state *s, const char *account, const char *user,
    char **errstr);
int state_folder_users(struct state *s, const char *account, struct state_names *out,
    char **errstr);
void state_names_free(struct state_names *l);

/*
 * How long a write waits for another connection's lock before it fails
 * with M2C_E_TEMP (default 5000 ms).
 */
void state_set_busy_timeout(struct state *s, int ms);

/* ---------------------------------------------------------------- accounts */

/*
 * Each account's outcome of its last pass (schema version 2), written by
 * `mail2cups once` (and the daemon) after every pass and read by
 * `mail2cups status`.
 */
enum state_account_status {
	STATE_ACCOUNT_NONE = 0,	/* no row: the account was never checked */
	STATE_ACCOUNT_OK,	/* stored "ok" */
	STATE_ACCOUNT_ERROR,	/* stored "error" */
	STATE_ACCOUNT_WAITING,	/* stored "waiting-to-sign-in" */
};

struct state_account {
	enum state_account_status status;
	char *reason;		/* owned; NULL when ok */
	char *fix;		/* owned; may be NULL */
	int error_class;	/* the M2C_E_* code of the failure; 0 when ok */
	char *step;		/* owned: the step that failed (advice.h's
				 * m2c_step_name); NULL when ok or unknown */
	int64_t last_check;	/* when the last pass ended (UNIX time); 0: never */
	int64_t last_ok;	/* when a pass last succeeded; 0: never */
	int64_t since;		/* when the current status began */
	int64_t updated;	/* when the row was last written */
};

/*
 * Open state_dir/state.db for reading only: nothing is created, migrated
 * or written (`mail2cups status`).  M2C_E_NOTFOUND (no message) when the
 * database does not exist.  A database of an older schema reads as having
 * no account rows; a newer one is refused (M2C_E_NOTSUP).
 */
int state_open_readonly(const char *state_dir, struct state **out, char **errstr);

/*
 * Record the outcome of a pass over account at time now: last_check =
 * now; last_ok = now when status is OK (else kept); since = now unless
 * the stored status was the same.  reason, fix and step may be NULL.
 */
int state_account_set(struct state *s, const char *account,
    enum state_account_status status, const char *reason, const char *fix,
    int error_class, const char *step, int64_t now, char **errstr);
/* Read account's row; a missing row reads as STATE_ACCOUNT_NONE. */
int state_account_get(struct state *s, const char *account, struct state_account *out,
    char **errstr);
void state_account_clear(struct state_account *a);	/* frees reason, fix, step */


/*
 * For status: *printed = the parts of account submitted to CUPS (a job id
 * recorded) whose row was created or updated at or after since (UNIX
 * time, e.g. local midnight); *pending = the messages of account still
 * being printed (ACTIVE).
 */
int state_account_counts(struct state *s, const char *account, int64_t since,
    int *printed, int *pending, char **errstr);

/* ---------------------------------------------------------------- replies */

/*
 * Replies to senders (schema version 4), queued by reply_queue() and sent
 * by reply_flush() (reply.h).  kind is conf_reply_kind_name()'s string,
 * ctx the reply's context as JSON (reply.c owns its format).
 */
enum state_reply_status {
	STATE_REPLY_WAITING = 0,	/* "waiting-jobs": a printed reply, jobs not done */
	STATE_REPLY_DUE,		/* "due": to be sent */
	STATE_REPLY_SENT,		/* "sent" */
	STATE_REPLY_DROPPED,		/* "dropped": refused, over the rate limit, too many tries */
};

struct state_reply {
	int64_t id;
	char *account;			/* owned */
	char *kind;			/* owned */
	char *rcpt;			/* owned */
	char *ctx;			/* owned: JSON */
	enum state_reply_status status;
	int64_t created;		/* UNIX time */
	int64_t sent_at;		/* 0: not sent */
	int attempts;			/* temporary failures so far */
	char *last_error;		/* owned; may be NULL */
};

/* The most rows state_reply_list returns at once (oldest first). */
#define STATE_REPLY_LIST_MAX 1000

/*
 * Queue a reply with status (WAITING or DUE) at time now; *id (optional)
 * receives its row id.  Committed (durable) on return.
 */
int state_reply_add(struct state *s, const char *account, const char *kind, const char *rcpt,
    const char *ctx, enum state_reply_status status, int64_t now, int64_t *id, char **errstr);

/*
 * account's replies with status, oldest first, at most
 * STATE_REPLY_LIST_MAX.  *out (allocated; free with state_reply_list_free)
 * gets *n entries; no rows: *out NULL, *n 0.
 */
int state_reply_list(struct state *s, const char *account, enum state_reply_status status,
    struct state_reply **out, size_t *n, char **errstr);
void state_reply_list_free(struct state_reply **list, size_t n);

/*
 * Change reply id: its status (SENT sets sent_at = now), and, when not
 * NULL, its kind and ctx (a printed reply turned into a failed one);
 * last_error replaces the stored one (NULL clears it).  M2C_E_NOTFOUND
 * when there is no such row.
 */
int state_reply_set(struct state *s, int64_t id, enum state_reply_status status,
    const char *kind, const char *ctx, const char *last_error, int64_t now, char **errstr);

/* Count one more failed attempt of reply id with its error; *attempts = new count. */
int state_reply_attempt(struct state *s, int64_t id, const char *last_error, int *attempts,
    char **errstr);

/*
 * *n = replies sent to rcpt (any account, ASCII case-insensitively) at or
 * after since (UNIX time): the rate limit.
 */
int state_reply_count_sent(struct state *s, const char *rcpt, int64_t since, int *n,
    char **errstr);

/* ------------------------------------------------------------ backend jobs */

/*
 * The CUPS backend's jobs (schema version 5): a job is known by its queue,
 * its CUPS job id and the SHA-256 (hex) of its document, so that a cupsd
 * whose job ids started again does not skip a new job.  A row is written
 * "sending" (committed) before the SMTP session, with the Message-ID the
 * mail carries, and "sent" as soon as the server took the mail, before the
 * backend reports success; a retried job that finds "sent" is not sent
 * again.
 */
enum state_bjob_status {
	STATE_BJOB_NONE = 0,	/* no row */
	STATE_BJOB_SENDING,	/* tried; the server may or may not have it */
	STATE_BJOB_SENT,	/* the server took it */
};
struct state_bjob {
	enum state_bjob_status status;
	char *message_id;	/* owned; NULL when no row */
	int attempts;		/* sessions started */
	int64_t sent_at;	/* UNIX time; 0 when not sent */
};
int state_bjob_get(struct state *s, const char *printer, int job_id, const char *content_hash,
    struct state_bjob *out, char **errstr);
void state_bjob_clear(struct state_bjob *b);	/* frees message_id */
/*
 * Record (durably) a send about to start with message_id; counts an
 * attempt.  A job already SENT is refused (M2C_E_USAGE).
 */
int state_bjob_sending(struct state *s, const char *printer, int job_id, const char *content_hash,
    const char *account, const char *rcpt, const char *message_id, char **errstr);
/* The server took the mail: status SENT, sent_at now. */
int state_bjob_sent(struct state *s, const char *printer, int job_id, const char *content_hash,
    char **errstr);
/* "none", "sending", "sent". */
const char *state_bjob_status_name(enum state_bjob_status st);

#endif
