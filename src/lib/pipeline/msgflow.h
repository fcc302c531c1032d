/*
 * msgflow.h - one message through the pipeline, whatever brought it.
 *
 * The IMAP poller (poller.c) and `mail2cups deliver` (deliver.c) both hand
 * their messages to msgflow_process, so sender trust, rules, options,
 * replies, exactly once and the recorded verdicts are one piece of code.
 * The stages, in order (advice.h's steps):
 *   recall     a verdict recorded earlier needs only its post-action;
 *              too many attempts fail the message
 *   fetch      the source brings the message into a scratch file (the
 *              poller: IMAP BODY.PEEK[]); a message the caller read
 *              already (deliver: stdin) skips it
 *   recognise  its content hash; with source->recognise, the same message
 *              printed before under another UIDVALIDITY is only finished
 *   extract    MIME to documents; the envelope (deliver) is added
 *   judge      the sender policy; a refused sender is REJECTED
 *   route      queue, CUPS user, options (rules)
 *   print      per document: intent row (nonce) -> CUPS job -> job id
 *   finish     verdict recorded, the source's post-action, DONE, replies
 * What the source does (fetch, post-action) comes from struct
 * msgflow_source; everything else is here.
 */
#ifndef M2C_MSGFLOW_H
#define M2C_MSGFLOW_H

#include <stdint.h>
#include <sys/types.h>

#include "advice.h"
#include "conf.h"
#include "state.h"

struct cups_session;
struct poller_summary;

/* The name prefix of a message's scratch file (poller_clean_scratch). */
#define MSGFLOW_SCRATCH_MSG "msg"

/* post_action's "later": the verdict stays recorded, not DONE yet. */
#define MSGFLOW_POST_DEFERRED 1

/* What the message's source does; every member may be NULL/0. */
struct msgflow_source {
	/*
	 * Bring the message with key k, at most limit bytes (0: no limit),
	 * into an anonymous private scratch file in the scratch folder
	 * (private_tmpfile with no path: nothing to remove) and hand it
	 * over in *fd (read with pread or after a seek; msgflow closes it).
	 * The source makes the file, so that one it filled ahead of time (a
	 * prefetch) is handed over as it is.  *size its size, hash its
	 * SHA-256 (64 hex digits) when the source computed it while
	 * writing, else "" (msgflow then reads *fd again for it).  On
	 * failure *fd stays -1:
	 * M2C_E_NOTFOUND: gone from the source (nothing is recorded);
	 * M2C_E_LIMIT: too big (the message fails with *errstr); anything
	 * else stops the message.
	 */
	int (*fetch)(void *arg, const struct state_key *k, off_t limit, int *fd, off_t *size,
	    char hash[65], char **errstr);
	/*
	 * After the verdict outcome (PRINTED, FAILED or REJECTED) is recorded:
	 * move, flag or delete the message at its source (also called in a
	 * dry run, to say what it would do).  A failure leaves the verdict
	 * recorded for a later try.  MSGFLOW_POST_DEFERRED: the source does
	 * it later (a batch) and marks the message DONE itself.  NULL: the
	 * verdict settles the message.
	 */
	int (*post_action)(void *arg, const struct state_key *k, enum state_msg_status outcome,
	    char **errstr);
	void *arg;
	int recognise;	/* look for the same content printed under another UIDVALIDITY */
};

/* What msgflow_process works with; fill with msgflow_init. */
struct msgflow {
	const struct conf *cf;			/* foreign */
	const struct conf_account *a;		/* foreign */
	struct state *st;			/* foreign; NULL only in a dry run */
	int dry_run;				/* say what would happen; change nothing */
	const char *scratch;			/* foreign: the scratch folder (0700) */
	const struct msgflow_source *src;	/* foreign */
	struct poller_summary *sum;		/* foreign: counts go here (poller.h) */
	struct cups_session *cups;		/* foreign: the CUPS connection its jobs
						 * go through (cupsjob.h; the poller's, for
						 * one pass); NULL: one per request */
	const char **convert_types;		/* every converter's types; array owned */
	size_t nconvert_types;
};

void msgflow_init(struct msgflow *f, const struct conf *cf, const struct conf_account *a,
    struct state *st, int dry_run, const char *scratch, const struct msgflow_source *src,
    struct poller_summary *sum);
void msgflow_clear(struct msgflow *f);

/* One message to process. */
struct msgflow_msg {
	struct state_key k;		/* its state key (state.h) */
	const char *label;		/* log prefix: "uid 12", "delivery 3" */
	int fd;				/* -1: the source fetches it; else the message
					 * already in a scratch file (borrowed: not
					 * closed or removed) of size bytes */
	off_t size;
	const char *hash;		/* with fd: its content hash (64 hex digits) as
					 * recorded; NULL: the SHA-256 of fd */
	const char *env_sender;		/* envelope sender from the MTA; "" the null
					 * sender; NULL unknown */
	const char *env_recipient;	/* envelope recipient from the MTA; NULL unknown */
	const char *failed;		/* with fd: the source could not take the whole
					 * message (too big): it fails with this reason */
};

/*
 * Run in through the stages.  Returns 0 when the message needs nothing
 * more now (*verdict PRINTED, FAILED or REJECTED as recorded, or NEW when
 * it was gone from its source), or the error that stopped it (*errstr set,
 * errstr must not be NULL), *step the stage that failed (FINISH when the
 * verdict was reached but recording it or the post-action failed: then
 * *verdict is that verdict).  A failure before the verdict is recorded as
 * the message's last error and counts as an attempt.
 */
int msgflow_process(struct msgflow *f, const struct msgflow_msg *in,
    enum state_msg_status *verdict, enum m2c_step *step, char **errstr);

/*
 * Send the account's replies that are due (reply.h); one that cannot go
 * now is kept for the next try and logged, never an error.  Sets
 * f->sum->replies_waiting.
 */
void msgflow_flush_replies(struct msgflow *f);

/*
 * Record the verdict outcome (PRINTED, FAILED or REJECTED) of k with
 * reason (may be NULL), do the source's post-action and mark it DONE; a
 * failing post-action leaves the verdict recorded for a later try (the
 * poller's reconciliation finishes earlier messages this way).  In a dry
 * run only the post-action is asked to say what it would do.
 */
int msgflow_finish(struct msgflow *f, const struct state_key *k, enum state_msg_status outcome,
    const char *reason, char **errstr);

/* The SHA-256 of fd from offset off to its end, as 64 hex digits. */
int msgflow_sha256_fd(int fd, off_t off, char hex[65], char **errstr);

#endif
