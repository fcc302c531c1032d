/*
 * poller.h - one pass over one account: the heart of `mail2cups once`.
 *
 *   connect, sign in, SELECT (UIDVALIDITY), UID SEARCH UNSEEN, then per
 *   message: fetch (streamed to a scratch file) -> extract -> sender policy
 *   -> per printable attachment: intent row (nonce) -> CUPS job -> job id
 *   -> post-action (\Seen, move or delete); permanent failures go to the
 *   failed folder with the reason logged and recorded.
 *
 * Exactly once: a part whose job id is recorded is never submitted again;
 * a part with an intent but no job id is first looked up in CUPS by its
 * nonce.  A message whose parts are all submitted only needs its
 * post-action.  A temporary failure leaves the message unseen for the next
 * pass; after conf->max_attempts attempts it becomes permanent.
 */
#ifndef M2C_POLLER_H
#define M2C_POLLER_H

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
};

/*
 * Run one pass.  st may be NULL only in dry-run mode.  Returns 0 when the
 * pass completed (individual messages may still have failed: see *sum), or
 * the error that stopped it (connection, sign-in, CUPS unreachable) with
 * *errstr set (errstr must not be NULL).
 */
int poller_once_account(const struct conf *cf, const struct conf_account *a,
    struct state *st, const struct poller_opts *o, struct poller_summary *sum,
    char **errstr);

/* Remove scratch files a crashed run left in dir (only our own names). */
void poller_clean_scratch(const char *dir);

#endif
