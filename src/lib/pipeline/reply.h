/*
 * reply.h - replies to the sender: composed, queued, rate-limited, sent.
 *
 * A reply is queued in the state database (never lost by a crash between
 * the verdict and the SMTP session) and sent by reply_flush(): accepted,
 * rejected and failed replies at once; a printed reply when every job of
 * the message has completed in CUPS (a job that was cancelled or aborted
 * turns it into a failed reply).  Each reply is composed with GMime from
 * the account's template (conf_replies): From the account (or
 * replies.from), To the sender, Subject and body from the template,
 * In-Reply-To and References, Auto-Submitted: auto-replied,
 * X-Auto-Response-Suppress: All, a fresh Message-ID and Date; header text
 * from the mail is RFC 2047-encoded, never copied raw.  At most
 * replies.rate_limit replies go to one address per replies.rate_period;
 * over it, the reply is dropped and logged.
 *
 * Whether a reply may go at all (the sender authenticated, not a
 * mailer-daemon, not Auto-Submitted, not list mail) is decided by the
 * caller, policy_may_reply() (policy.h), before it queues one.
 */
#ifndef M2C_REPLY_H
#define M2C_REPLY_H

#include <stddef.h>

#include "conf.h"
#include "mime.h"
#include "state.h"
#include "util.h"

/* What a reply is about; all borrowed, any may be NULL. */
struct reply_ctx {
	const char *to;			/* the sender's address (required) */
	const char *subject;		/* the original subject, UTF-8 */
	const char *message_id;		/* the original Message-ID, without <> */
	const char *references;		/* the original References */
	const char *queue;		/* the CUPS queue */
	const char *files;		/* "report.pdf, photo.jpg" */
	const char *reason;		/* rejected, failed: why, in words */
	const char *options;		/* popt_describe() of the options used */
	const char *notes;		/* tags not used, and why */
	int held;			/* the jobs are held: the reply says how to release */
	const int *job_ids;		/* the CUPS jobs */
	size_t njobs;
};

/*
 * What the sender learns of a failure: plain words and a reference, never
 * the detail (a converter's output, paths, program names, CUPS errors,
 * config keys), which goes to the log under the same reference.
 * reply_ref_new(): "YYYYMMDD-xxxxxx" (the UTC date, 6 random hex digits),
 * allocated.  reply_public_reason(): the plain words for a reply of kind
 * (rejected or failed) about a failure logged under ref: `plain` (from
 * reply_sender_problem) with the reference, or, when it is NULL, a
 * sentence that says only that it failed; allocated.
 */
char *reply_ref_new(void);
char *reply_public_reason(enum conf_reply_kind kind, const char *plain, const char *ref);

/*
 * Why m could not print, when that is the sender's own business, in plain
 * words built only from what was found in the message itself (never from
 * a converter, CUPS, a path or the configuration): "report.pdf arrived
 * damaged; send it again", "report.pdf: larger than the limit of 26214400
 * bytes; send a smaller file", "notes.docx: Word documents are not printed;
 * send a PDF", "letter.odt could not be converted for printing", "the
 * message has more than 200 MIME parts; it is not processed", "the message
 * has no attachment".  NULL when m says nothing of the kind.  Allocated.
 */
char *reply_sender_problem(const struct mime_message *m);

/*
 * Template variables (conf_template_vars, conf.h): ${sender} ${subject}
 * ${files} ${queue} ${jobs} ("office-12, office-13") ${reason} ${options}
 * ${notes} ${release} (how to release held jobs; "" when not held)
 * ${account} (the account's name) ${mailbox} (its address, username).
 * The config refuses any other.
 */

/*
 * Render a's template for kind with ctx into a whole message (CRLF line
 * ends) in *out; *from receives the envelope sender (allocated).  For
 * tests and reply_flush.
 */
int reply_compose(const struct conf *cf, const struct conf_account *a, enum conf_reply_kind kind,
    const struct reply_ctx *ctx, struct buf *out, char **from, char **errstr);

/*
 * Queue a reply of kind for a (which must have kind in a->reply; otherwise
 * this does nothing and returns 0).  For CONF_REPLY_PRINTED the reply waits
 * for ctx->job_ids on ctx->queue to complete.
 */
int reply_queue(struct state *st, const struct conf *cf, const struct conf_account *a,
    enum conf_reply_kind kind, const struct reply_ctx *ctx, char **errstr);

/*
 * Send a's due replies, and turn printed replies whose jobs completed into
 * due ones.  A reply the SMTP server refuses permanently is dropped (and
 * logged); a temporary failure keeps it for the next flush.  *waiting
 * (optional) receives the number of printed replies still waiting for their
 * jobs (the daemon then checks again sooner).  Returns 0, or the temporary
 * error that stopped it.
 */
int reply_flush(const struct conf *cf, const struct conf_account *a, struct state *st,
    int *waiting, char **errstr);

#endif
