/*
 * deliver.h - `mail2cups deliver`: an MDA.  One message on a descriptor
 * (stdin, from Postfix pipe(8), Exim, fetchmail's mda, procmail or Sieve
 * `pipe`) goes through the pipeline the poller uses (msgflow.h), with the
 * same state, rules, sender trust, replies and account status.
 *
 *   1. the account's lock (lock.h), waiting at most deliver_lock_wait
 *   2. the account's CUPS queue answers and accepts jobs
 *   3. the message is streamed into a private scratch file in
 *      state_dir/scratch/deliver-ACCOUNT (cleared of a crashed run's files
 *      under the lock), never held in memory; past
 *      limits.max_message_size the rest is read and thrown away, and the
 *      message fails (too big) as the poller's would
 *   4. its identity, the key of exactly once (state.h,
 *      state_delivery_number): (Message-ID, content hash, envelope
 *      recipient).  The content hash is the SHA-256 of the message from
 *      the first header line that is not one an MTA prepends at delivery
 *      (a leading "From " line, Return-Path, Received, Delivered-To,
 *      X-Original-To, X-Envelope-From, X-Envelope-To), so a retry by the
 *      MTA, or fetchmail fetching the message again with a new Received
 *      line, is the same delivery.
 *   5. msgflow_process with the key (account, STATE_DELIVER_MAILBOX, 0, N)
 *      and no post-action: its verdict is final.
 */
#ifndef M2C_DELIVER_H
#define M2C_DELIVER_H

#include <stddef.h>

#include "advice.h"
#include "conf.h"
#include "state.h"

struct deliver_opts {
	const char *sender;	/* envelope sender (-f, $SENDER); NULL unknown; "" or
				 * "<>" or MAILER-DAEMON: the null sender */
	const char *recipient;	/* envelope recipient (-r, $RECIPIENT); NULL unknown */
	int fd;			/* the message (stdin), read to its end */
};

/* What became of a message deliver_message took. */
enum deliver_outcome {
	DELIVER_PRINTED,	/* CUPS holds every job */
	DELIVER_REFUSED,	/* refused on purpose: the sender may not print (REJECTED) */
	DELIVER_FAILED,		/* cannot print on purpose: nothing printable, too big... */
	DELIVER_ALREADY,	/* dealt with by an earlier delivery of the same message */
};

/*
 * Take one message for account a.  0 when it is dealt with: *outcome says
 * how, and *words (allocated) says it in one line for the MTA's log
 * ("printed as job m2c-12", "refused: ...").  Otherwise the error:
 * M2C_E_TEMP when another process holds the account for longer than
 * cf->deliver_lock_wait (*busy set), M2C_E_CONFIG for a configuration
 * problem, anything else (CUPS down, the state busy) a failure the MTA
 * should retry; *step the step that failed, *errstr (not NULL) why.
 * st is the open state database (as the owner of state_dir).
 */
int deliver_message(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct deliver_opts *o, enum deliver_outcome *outcome, char **words, int *busy,
    enum m2c_step *step, char **errstr);

/*
 * The end of the leading block of lines an MTA prepends at delivery in
 * buf (the first len bytes of a message): a "From " line, then header
 * fields named Return-Path, Received, Delivered-To, X-Original-To,
 * X-Envelope-From or X-Envelope-To (with their folded lines).  An offset
 * into buf; 0 when the message starts with another field.
 */
size_t deliver_trace_end(const char *buf, size_t len);

/*
 * The Message-ID of the header block at the start of buf (len bytes):
 * the addr-spec between <> of the first Message-ID field (or its
 * trimmed value), allocated; NULL when there is none within buf.
 */
char *deliver_message_id(const char *buf, size_t len);

#endif
