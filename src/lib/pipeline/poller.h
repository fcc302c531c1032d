/*
 * poller.h - one pass over one account: the heart of `mail2cups once`.
 *
 *   connect, sign in, SELECT (UIDVALIDITY), UID SEARCH UNSEEN, then each
 *   message through the stages msgflow.h runs (shared with `mail2cups
 *   deliver`; the poller gives the IMAP fetch and post-action):
 *     recognise  a verdict recorded earlier? too many attempts?
 *     fetch      streamed to a scratch file
 *     recognise  printed before under another UIDVALIDITY (content hash)?
 *     extract    MIME to documents
 *     judge      the sender policy
 *     route      queue, CUPS user, options (rules)
 *     print      per document: intent row (nonce) -> CUPS job -> job id
 *     finish     verdict recorded, post-action (\Seen, move or delete),
 *                replies queued
 *   Permanent failures go to the failed folder with the reason logged and
 *   recorded.
 *
 * A backlog drains at the speed of CUPS: a pass asks the sizes of every
 * message in one FETCH after the SEARCH (oversize mail is never
 * downloaded), asks for the next message's body before it processes the
 * current one (one FETCH in flight, streamed to its scratch file), keeps
 * one CUPS connection (cupsjob.h's session, reconnecting on error), and
 * does the post-actions of printed messages in batches: one UID STORE and
 * one UID MOVE for up to 100, flushed when the batch is full and at the
 * end of every pass (so before IDLE).  Until its batch is flushed a printed
 * message is PRINTED in the state database; a crash there is repaired by
 * the next pass's reconciliation (reconcile_owed), never by printing
 * again.  Failed and rejected messages are moved at once.
 *
 * Exactly once: a part whose job id is recorded is never submitted again;
 * a part with an intent but no job id is first looked up in CUPS by its
 * nonce.  A message whose parts are all submitted only needs its
 * post-action.  A temporary failure leaves the message unseen for the next
 * pass; after conf->max_attempts attempts it becomes permanent.
 */
#ifndef M2C_POLLER_H
#define M2C_POLLER_H

#include <stdint.h>

#include "advice.h"
#include "conf.h"
#include "state.h"

struct poller_opts {
	int dry_run;		/* say what would print; change nothing */
};

struct poller_summary {
	int fetched;		/* messages fetched */
	int jobs;		/* CUPS jobs created (or, dry-run, that would be) */
	int skipped;		/* attachments not printed (type, size, ...) */
	int failed;		/* messages that failed permanently */
	int already;		/* attachments found already printed */
	int replies_waiting;	/* "printed" replies waiting for their jobs to complete */
	int busy;		/* another process serves the account: nothing was done */
	int left;		/* unseen messages the pass did not reach (an error
				 * stopped it, or the daemon is stopping): they
				 * are tried again next time */
};

/*
 * A pass over one account, as `mail2cups once` runs it: poller_pass (one
 * pass over the account's mailbox) or folders_pass (folders.h: the safety
 * pass of a print_folders account).  st may be NULL only in dry-run mode.
 * Returns 0 when the pass completed (individual messages may still have
 * failed: see *sum), or the error that stopped it (connection, sign-in,
 * CUPS unreachable) with *errstr set (errstr must not be NULL) and *step
 * the step that failed (advice_fix() says what to do about the pair).
 */
typedef int poller_pass_fn(const struct conf *cf, const struct conf_account *a,
    struct state *st, const struct poller_opts *o, struct poller_summary *sum,
    enum m2c_step *step, char **errstr);
poller_pass_fn poller_pass;

/*
 * Run pass, holding the account's lock (lock.h) for it (not in a dry run,
 * which changes nothing).  When another process holds the lock (the daemon
 * serves the account) nothing is done: M2C_E_TEMP with *errstr naming it,
 * and sum->busy set.  Otherwise what pass returns.
 */
int poller_once_account(const struct conf *cf, const struct conf_account *a,
    struct state *st, const struct poller_opts *o, struct poller_summary *sum,
    enum m2c_step *step, char **errstr, poller_pass_fn *pass);

/*
 * Connect to a's server and sign in, as every command does: a password
 * mechanism, or OAuth (XOAUTH2/OAUTHBEARER with the token from signin.c,
 * never falling back to a password).  An OAuth token the server refuses
 * though it looked valid (M2C_E_AUTH: revoked, our clock off, BYE
 * AccessTokenExpired) is refreshed once, before reconnecting, and tried
 * again; a token refused after that is M2C_E_AUTH at M2C_STEP_IMAP (for
 * advice_fix).  *imap is the signed-in connection (caller closes).  On
 * failure *step is M2C_STEP_SIGNIN (no token) or M2C_STEP_IMAP.  errstr
 * not NULL.
 */
struct imap;
int poller_open_session(const struct conf *cf, const struct conf_account *a,
    struct imap **imap, enum m2c_step *step, char **errstr);

/*
 * The same pass in steps, for the daemon, whose worker holds the
 * account's lock (lock.h) while it serves it: open (CUPS queue check, scratch
 * folder, connect, sign in, SELECT), then process as often as needed on the
 * same connection (UID SEARCH UNSEEN and every message; stop, optional, is
 * asked between messages), then close.  After a failed process the session
 * must be closed.  On failure *step is the step that failed.  errstr must
 * not be NULL.
 */
struct poller_session;
int poller_session_open(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o, struct poller_session **out, enum m2c_step *step,
    char **errstr);
int poller_session_process(struct poller_session *s, struct poller_summary *sum,
    int (*stop)(void *arg), void *arg, enum m2c_step *step, char **errstr);
/* The session's connection, borrowed (for IDLE between passes). */
struct imap *poller_session_imap(struct poller_session *s);
/* LOGOUT first when logout is nonzero; *s = NULL; NULL is fine. */
void poller_session_close(struct poller_session **s, int logout);

/* Remove scratch files and converter folders a crashed run left in dir (only our own names). */
void poller_clean_scratch(const char *dir);

#endif
