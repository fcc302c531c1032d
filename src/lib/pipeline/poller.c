/* poller.c - one pass over one account; see poller.h. */
#include "m2c-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "advice.h"
#include "convert.h"
#include "cupsjob.h"
#include "error.h"
#include "imap.h"
#include "lock.h"
#include "log.h"
#include "mime.h"
#include "policy.h"
#include "poller.h"
#include "reply.h"
#include "rules.h"
#include "secret.h"
#include "signin.h"
#include "testhook.h"
#include "util.h"

#define SCRATCH_MSG "msg"
/*
 * Printed messages whose post-action waits, at most: one UID STORE and one
 * UID MOVE for them all.  Also flushed at the end of every pass (so before
 * IDLE).  Until then they are PRINTED in the state database, which is what
 * reconcile_owed repairs after a crash: never by printing again.
 */
#define POSTACTION_BATCH 100

/* The next message's body, asked for before the current one is processed. */
struct prefetch {
	uint32_t uid;		/* 0: none in flight */
	int fd;
	char *path;		/* owned: its scratch file */
};

/* Everything one session needs; borrowed from the caller except where noted. */
struct poller_session {
	const struct conf *cf;
	const struct conf_account *a;
	struct state *st;
	const struct poller_opts *o;
	struct poller_summary *sum;
	struct imap *imap;	/* owned */
	char *scratch;		/* owned */
	uint32_t uidvalidity;
	const char **convert_types;	/* every converter's types; array owned */
	size_t nconvert_types;
	struct cups_session *cups;	/* owned: one CUPS connection for a pass */
	uint32_t *batch;		/* owned: printed UIDs owing their post-action */
	size_t nbatch;
	/* during a pass (else NULL): the UIDs it works on, their sizes */
	const uint32_t *uids;
	const uint64_t *sizes;
	size_t nuids;
	struct prefetch pf;
};

/*
 * What is decided about one message: who sent it, where and how it
 * prints, which jobs it became.  For its jobs and its reply.
 */
struct msg_work {
	struct state_key k;
	struct mime_message *m;		/* owned */
	struct policy_verdict v;	/* owned */
	struct rules_route route;	/* owned */
	char *options;			/* popt_describe(&route.opts); NULL before routing; owned */
	char *user;			/* CUPS user name; owned */
	int user_mapped;		/* from the users table */
	int *jobs;			/* CUPS job ids; owned */
	size_t njobs;
	struct buf files;		/* "a.pdf, b.png" */
	struct buf skipped;		/* why documents were skipped at printing */
	int fd;				/* the fetched message (scratch file); -1: none */
	char *msgpath;			/* its path; owned */
	off_t size;			/* its size */
	char hash[65];			/* its SHA-256, hex */
	int judged;			/* v, refused and why_refused are set */
	int refused;			/* the sender may not print */
	char *why_refused;		/* owned */
	char *reason;			/* why it failed; owned */
	int decided;			/* a verdict was reached (printed, failed, rejected) */
};

static enum imap_security
imap_security_of(enum conf_security s)
{
	switch (s) {
	case CONF_SEC_STARTTLS: return IMAP_SEC_STARTTLS;
	case CONF_SEC_NONE: return IMAP_SEC_NONE;
	case CONF_SEC_SSL:
	default: return IMAP_SEC_SSL;
	}
}

/*
 * Sign in with the account's mechanism.  For OAuth, *used receives the
 * access token that was sent (allocated secret), so that a refusal can force
 * a refresh.
 */
static int
sign_in(const struct conf *cf, const struct conf_account *a, struct imap *imap, char **used,
    enum m2c_step *step, char **errstr)
{
	struct oauth_tokens t = { 0 };
	char *password = NULL, *ir = NULL;
	int r;

	*used = NULL;
	if (!conf_account_is_oauth(a)) {
		if ((r = secret_file_read(a->password_file, &password, errstr)) != 0)
			return r;
		r = imap_login_password(imap, a->auth == CONF_AUTH_PLAIN ? "PLAIN" : "LOGIN",
		    conf_account_login_user(a), password, errstr);
		free_secret(password);
		return r;
	}
	if ((r = signin_token(cf, a, NULL, &t, errstr)) != 0) {
		*step = M2C_STEP_SIGNIN;
		goto out;
	}
	ir = signin_sasl_ir(a, t.access_token);
	r = imap_authenticate(imap, a->auth == CONF_AUTH_OAUTHBEARER ? "OAUTHBEARER" : "XOAUTH2",
	    ir, errstr);
	*used = xstrdup(t.access_token);
out:
	free_secret(ir);
	oauth_tokens_clear(&t);
	return r;
}

/* A token refused even after a refresh (advice.c says why that happens). */
static int
refused_after_refresh(const struct conf_account *a, char **errstr)
{
	char *said = *errstr;
	int r;

	*errstr = NULL;
	r = m2c_fail(errstr, M2C_E_AUTH, "the IMAP server refused the access token for %s, "
	    "also after a refresh (%s)", a->username, said ? said : "no reason given");
	free(said);
	return r;
}

int
poller_open_session(const struct conf *cf, const struct conf_account *a, struct imap **imap,
    enum m2c_step *step, char **errstr)
{
	struct imap_opts io = { 0 };
	struct oauth_tokens t = { 0 };
	char *used = NULL, *said = NULL;
	int r;

	*imap = NULL;
	io.host = a->host;
	io.port = a->port;
	io.security = imap_security_of(a->security);
	io.ca_file = a->ca_file;
	io.timeout_ms = cf->timeout * 1000;
	io.trace = log_get_level() >= LOG_LVL_DEBUG;
	/* A dead peer is noticed within about keepalive_interval (TCP keepalive
	 * after half of it, then 4 probes), and a silent one by a check. */
	io.keepalive_s = cf->keepalive_interval / 2 > 0 ? cf->keepalive_interval / 2 : 1;
	io.alive_ms = cf->keepalive_interval * 1000;
	for (int tries = 0;; tries++) {
		free_secret(used);
		used = NULL;
		imap_close(imap);
		*step = M2C_STEP_IMAP;
		if ((r = imap_connect(&io, imap, errstr)) == 0)
			r = sign_in(cf, a, *imap, &used, step, errstr);
		/* M2C_E_AUTH: refused, or a session ended for an expired token. */
		if (r == 0 || used == NULL || r != M2C_E_AUTH)
			break;
		if (tries > 0) {
			r = refused_after_refresh(a, errstr);
			break;
		}
		imap_close(imap);
		log_info("the server refused the access token (%s); refreshing it and trying again",
		    *errstr);
		said = *errstr;
		*errstr = NULL;
		/* Refresh before reconnecting: no new connection when it cannot be. */
		r = signin_token(cf, a, used, &t, errstr);
		oauth_tokens_clear(&t);
		if (r != 0) {
			char *e = *errstr;

			*step = M2C_STEP_SIGNIN;
			*errstr = xasprintf("%s; and the token could not be refreshed: %s", said,
			    e ? e : m2c_err_name(r));
			free(e);
			break;
		}
		free(said);
		said = NULL;
	}
	if (r != 0)
		imap_close(imap);
	free(said);
	free_secret(used);
	return r;
}

/*
 * The post-action for a message whose verdict is `outcome`: PRINTED,
 * FAILED (to the failed folder) or REJECTED (to the rejected folder).
 */
static int
post_action(struct poller_session *p, uint32_t uid, enum state_msg_status outcome, char **errstr)
{
	int flagged_only = 0, r;

	if (outcome != STATE_MSG_PRINTED) {
		const char *folder = outcome == STATE_MSG_REJECTED ? p->a->rejected_folder :
		    p->a->failed_folder;

		r = imap_move(p->imap, uid, folder, &flagged_only, errstr);
		if (r == 0)
			log_info("uid %u: moved to \"%s\"%s", uid, folder,
			    flagged_only ? " (copied; the original is flagged \\Deleted: "
			    "the server has no UIDPLUS, so it is not expunged)" : "");
		return r;
	}
	switch (p->a->after) {
	case CONF_AFTER_MOVE:
		/* Printed means dealt with: \Seen in the printed folder.  (Failed
		 * messages stay unseen there, so that someone notices them.) */
		if ((r = imap_add_flags(p->imap, uid, "\\Seen", errstr)) != 0)
			return r;
		r = imap_move(p->imap, uid, p->a->printed_folder, &flagged_only, errstr);
		if (r == 0 && flagged_only)
			log_warn("uid %u: copied to \"%s\"; the original stays flagged \\Deleted "
			    "(no UIDPLUS: mail2cups never sends a plain EXPUNGE)", uid,
			    p->a->printed_folder);
		return r;
	case CONF_AFTER_DELETE:
		return imap_delete(p->imap, uid, &flagged_only, errstr);
	case CONF_AFTER_SEEN:
	default:
		return imap_add_flags(p->imap, uid, "\\Seen", errstr);
	}
}

/* "uid 4" or "4 messages (uid 3 to 9)", for the log. */
static char *
uids_text(const uint32_t *uids, size_t n)
{
	return n == 1 ? xasprintf("uid %u", uids[0]) :
	    xasprintf("%zu messages (uid %u to %u)", n, uids[0], uids[n - 1]);
}

/*
 * The post-action of every printed message in the batch, as one command
 * each: UID STORE set +FLAGS.SILENT (\Seen) and UID MOVE set (or the
 * delete), then all marked DONE in one transaction.  A failure leaves them
 * PRINTED for reconcile_owed, which finds out what was done; the batch is
 * emptied either way.
 */
static int
flush_postactions(struct poller_session *p, char **errstr)
{
	struct state_key k = { p->a->name, p->a->mailbox, p->uidvalidity, 0 };
	uint32_t *uids = p->batch;
	size_t n = p->nbatch;
	char *what;
	int flagged_only = 0, r;

	if (n == 0)
		return 0;
	p->batch = NULL;
	p->nbatch = 0;
	what = uids_text(uids, n);
	switch (p->a->after) {
	case CONF_AFTER_MOVE:
		/* Printed means dealt with: \Seen in the printed folder.  (Failed
		 * messages stay unseen there, so that someone notices them.) */
		if ((r = imap_add_flags_set(p->imap, uids, n, "\\Seen", errstr)) != 0)
			break;
		testhook_point("postaction-batch-flagged");
		r = imap_move_set(p->imap, uids, n, p->a->printed_folder, &flagged_only, errstr);
		if (r == 0)
			log_info("%s: moved to \"%s\"", what, p->a->printed_folder);
		if (r == 0 && flagged_only)
			log_warn("%s: copied to \"%s\"; the originals stay flagged \\Deleted "
			    "(no UIDPLUS: mail2cups never sends a plain EXPUNGE)", what,
			    p->a->printed_folder);
		break;
	case CONF_AFTER_DELETE:
		if ((r = imap_delete_set(p->imap, uids, n, &flagged_only, errstr)) == 0)
			log_info("%s: deleted", what);
		break;
	case CONF_AFTER_SEEN:
	default:
		if ((r = imap_add_flags_set(p->imap, uids, n, "\\Seen", errstr)) == 0)
			log_info("%s: marked \\Seen", what);
		break;
	}
	if (r == 0) {
		testhook_point("after-postaction");
		r = state_msg_set_many(p->st, &k, uids, n, STATE_MSG_DONE, errstr);
	}
	free(what);
	free(uids);
	return r;
}

/*
 * Record the message's verdict (PRINTED, FAILED or REJECTED), then do its
 * post-action and mark it DONE.  A failing post-action leaves the status
 * for the next pass.
 */
static int
finish_message(struct poller_session *p, const struct state_key *k, enum state_msg_status outcome,
    const char *reason, char **errstr)
{
	int r;

	if (p->o->dry_run) {
		if (outcome == STATE_MSG_REJECTED)
			log_info("uid %u: would move it to \"%s\"", k->uid, p->a->rejected_folder);
		else if (outcome == STATE_MSG_FAILED)
			log_info("uid %u: would move it to \"%s\"", k->uid, p->a->failed_folder);
		else if (p->a->after == CONF_AFTER_MOVE)
			log_info("uid %u: would move it to \"%s\"", k->uid, p->a->printed_folder);
		else if (p->a->after == CONF_AFTER_DELETE)
			log_info("uid %u: would delete it", k->uid);
		else
			log_info("uid %u: would mark it \\Seen", k->uid);
		return 0;
	}
	if ((r = state_msg_set(p->st, k, outcome, reason, errstr)) != 0)
		return r;
	if (outcome == STATE_MSG_PRINTED && p->imap != NULL) {
		/* Its post-action goes with the batch (flush_postactions). */
		if (p->nbatch > 0 && p->batch[p->nbatch - 1] >= k->uid &&
		    (r = flush_postactions(p, errstr)) != 0)
			return r;
		p->batch = xreallocarray(p->batch, p->nbatch + 1, sizeof(*p->batch));
		p->batch[p->nbatch++] = k->uid;
		return p->nbatch >= POSTACTION_BATCH ? flush_postactions(p, errstr) : 0;
	}
	if ((r = post_action(p, k->uid, outcome, errstr)) != 0)
		return r;
	testhook_point("after-postaction");
	return state_msg_set(p->st, k, STATE_MSG_DONE, reason, errstr);
}

/*
 * Queue the reply of kind about w, when the account sends that kind and
 * the sender may get one (policy_may_reply).  A reply that cannot be
 * queued is logged, never an error of the message.
 */
static void
queue_reply(struct poller_session *p, struct msg_work *w, enum conf_reply_kind kind,
    const char *reason)
{
	struct reply_ctx c = { 0 };
	const char *why;
	char *e = NULL;

	if (p->o->dry_run || p->st == NULL || w->m == NULL || !(p->a->reply & (1u << kind)))
		return;
	if (!policy_may_reply(p->a, w->m, &w->v, &why)) {
		log_info("uid %u: no %s reply to %s: %s", w->k.uid, conf_reply_kind_name(kind),
		    w->m->from_addr ? w->m->from_addr : "(no address)", why);
		return;
	}
	c.to = w->m->from_addr;
	c.subject = w->m->subject;
	c.message_id = w->m->message_id;
	c.references = w->m->references;
	c.queue = w->route.printer;
	c.files = w->files.data;
	c.reason = reason;
	c.options = w->options && *w->options ? w->options : "the queue's defaults";
	c.notes = w->route.notes;
	c.held = (w->route.opts.set & POPT_HOLD) && w->route.opts.hold;
	c.job_ids = w->jobs;
	c.njobs = w->njobs;
	if (reply_queue(p->st, p->cf, p->a, kind, &c, &e) != 0)
		log_warn("uid %u: could not queue the %s reply to %s: %s", w->k.uid,
		    conf_reply_kind_name(kind), c.to, e ? e : "unknown error");
	free(e);
}

/*
 * A message that cannot print (FAILED) or may not (REJECTED): log why,
 * count it, send it to its folder, and tell the sender when that is allowed.
 */
static int
fail_message(struct poller_session *p, struct msg_work *w, enum state_msg_status outcome,
    const char *reason, char **errstr)
{
	enum conf_reply_kind kind = outcome == STATE_MSG_REJECTED ? CONF_REPLY_REJECTED :
	    CONF_REPLY_FAILED;
	char *ref = reply_ref_new(), *pub = reply_public_reason(kind, ref);
	int r;

	/* The detail stays in the log; the sender gets plain words and the reference. */
	log_warn("uid %u: not printed (ref %s): %s", w->k.uid, ref, reason);
	p->sum->failed++;
	r = finish_message(p, &w->k, outcome, reason, errstr);
	queue_reply(p, w, kind, pub);
	free(pub);
	free(ref);
	return r;
}

/* One document of a message to print: an attachment, or the message text. */
struct doc {
	const char *part;	/* state key: the MIME part, or "body" */
	const char *title;	/* the job name */
	const char *path;	/* scratch file */
	const char *format;	/* document-format; NULL: convert first */
	const char *sniffed;	/* sniffed type, for the converter */
	off_t size;
};

/* Remember a job of the message, for its reply. */
static void
add_job(struct msg_work *w, const char *title, int job_id)
{
	w->jobs = xreallocarray(w->jobs, w->njobs + 1, sizeof(*w->jobs));
	w->jobs[w->njobs++] = job_id;
	buf_appendf(&w->files, "%s%s", w->files.len ? ", " : "", title);
}

/*
 * Submit one document exactly once.  Returns 0 when it is (now or
 * already) in CUPS; M2C_E_DATA when its conversion failed (the document is
 * skipped, the reason in *errstr).
 */
static int
print_document(struct poller_session *p, struct msg_work *w, const struct doc *d, char **errstr)
{
	const struct state_key *k = &w->k;
	const char *printer = w->route.printer;
	struct state_part sp = { 0 };
	struct cups_job_req req = { 0 };
	const struct conf_converter *cv = NULL;
	char nonce[33];
	char *pdf = NULL;
	int job_id = 0, r;

	if ((r = state_part_get(p->st, k, d->part, &sp, errstr)) != 0)
		goto out;
	if (sp.status == STATE_PART_SUBMITTED) {
		log_info("uid %u: \"%s\" was already printed as job %d; not printing it again",
		    k->uid, d->title, sp.job_id);
		p->sum->already++;
		add_job(w, d->title, sp.job_id);
		goto out;
	}
	if (sp.status == STATE_PART_INTENT) {
		/* A run died between the intent and recording the job: ask CUPS. */
		r = cups_job_find_by_nonce(p->cups, sp.printer ? sp.printer : printer, sp.nonce,
		    &job_id, errstr);
		if (r == 0) {
			log_info("uid %u: \"%s\" found in CUPS as job %d from an interrupted run; "
			    "not printing it again", k->uid, d->title, job_id);
			r = state_part_submitted(p->st, k, d->part, job_id, errstr);
			p->sum->already++;
			add_job(w, d->title, job_id);
			goto out;
		}
		if (r != M2C_E_NOTFOUND)
			goto out;
		free(*errstr);	/* not in CUPS: submitting again is right */
		*errstr = NULL;
	}
	if (d->format == NULL && (cv = convert_find(p->cf, d->sniffed)) == NULL) {
		r = m2c_fail(errstr, M2C_E_DATA, "\"%s\" (%s): no converter for this type any "
		    "more (see converters)", d->title, d->sniffed ? d->sniffed : "unknown type");
		goto out;
	}
	if (p->o->dry_run) {
		log_info("uid %u: would print \"%s\" (%s, %lld bytes%s) on %s", k->uid, d->title,
		    d->format ? d->format : d->sniffed, (long long)d->size,
		    cv ? ", converted to PDF first" : "", printer);
		p->sum->jobs++;
		r = 0;
		goto out;
	}
	req.path = d->path;
	req.format = d->format;
	if (cv != NULL) {
		if ((r = convert_to_pdf(cv, d->path, d->sniffed, p->scratch, &pdf, errstr)) != 0)
			goto out;
		log_info("uid %u: converted \"%s\" (%s) to PDF", k->uid, d->title, d->sniffed);
		req.path = pdf;
		req.format = "application/pdf";
	}
	if ((r = state_part_intent(p->st, k, d->part, printer, d->title, nonce, errstr)) != 0)
		goto out;
	testhook_point("after-intent");
	req.printer = printer;
	req.title = d->title;
	req.user = w->user_mapped ? w->user : w->m->from_addr;
	req.user_mapped = w->user_mapped;
	req.nonce = nonce;
	req.opts = &w->route.opts;
	if ((r = cups_job_submit(p->cups, &req, &job_id, errstr)) != 0)
		goto out;
	testhook_point("after-submit");
	if ((r = state_part_submitted(p->st, k, d->part, job_id, errstr)) != 0)
		goto out;
	testhook_point("after-record");
	log_info("uid %u: printed \"%s\" from %s on %s as job %s-%d%s", k->uid, d->title,
	    w->user, printer, printer, job_id, w->route.opts.hold ? " (held)" : "");
	p->sum->jobs++;
	add_job(w, d->title, job_id);
out:
	if (pdf != NULL) {
		unlink(pdf);
		free(pdf);
	}
	state_part_clear(&sp);
	return r;
}

/* The SHA-256 of everything in fd (read from offset 0), as 64 hex digits. */
static int
sha256_fd_hex(int fd, char hex[65], char **errstr)
{
	unsigned char buf[65536], md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	ssize_t n;
	off_t off = 0;
	int r = 0;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot start a SHA-256 digest");
		goto out;
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = m2c_fail(errstr, M2C_E_SYS, "cannot read the fetched message: %s",
			    strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		off += n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Join the reasons of the skipped attachments into one line (allocated). */
static char *
skipped_reasons(const struct mime_message *m)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < m->natt; i++) {
		if (m->att[i].printable)
			continue;
		if (b.len)
			buf_append(&b, "; ", 2);
		buf_appendf(&b, "%s", m->att[i].reason ? m->att[i].reason : m->att[i].filename);
	}
	return b.len ? buf_steal(&b) : (buf_free(&b), xstrdup("the message has no attachment"));
}

/* Print the message text: asked for by print_body or a "body" tag. */
static int
wants_body(const struct msg_work *w)
{
	if (w->route.opts.body)
		return 1;
	switch (w->route.print_body) {
	case CONF_BODY_ALWAYS: return 1;
	/* No attachment at all: one that cannot print is not replaced by the
	 * text ("see the attached file"); the message fails with its reason. */
	case CONF_BODY_NO_ATTACHMENT: return w->m->natt == 0;
	case CONF_BODY_NEVER:
	default: return 0;
	}
}

/*
 * Print every printable document of w's message: its attachments and,
 * when wanted, its text.  Returns 0 with *printed the number of documents
 * now in CUPS (skipped ones logged and counted), or the error that
 * stopped it.
 */
static int
print_documents(struct poller_session *p, struct msg_work *w, int *printed, char **errstr)
{
	const struct mime_message *m = w->m;
	char *title = NULL, *e = NULL;
	int r = 0;

	*printed = 0;
	for (size_t i = 0; i < m->natt && r == 0; i++) {
		const struct mime_attachment *at = &m->att[i];
		struct doc d = { .part = at->part, .title = at->filename, .path = at->path,
			.format = at->convert ? NULL : at->format, .sniffed = at->sniffed_type,
			.size = at->size };

		if (!at->printable)
			continue;
		if ((r = print_document(p, w, &d, &e)) == M2C_E_DATA) {
			log_warn("uid %u: skipped \"%s\": %s", w->k.uid, at->filename, e);
			buf_appendf(&w->skipped, "%s%s", w->skipped.len ? "; " : "", e);
			p->sum->skipped++;
			r = 0;
		} else if (r == 0)
			(*printed)++;
		if (r != 0)
			break;	/* e is the reason: kept for *errstr below */
		free(e);
		e = NULL;
	}
	if (r == 0 && wants_body(w)) {
		if (m->body_path == NULL) {
			log_info("uid %u: no message text to print%s%s", w->k.uid,
			    m->body_problem ? ": " : "", m->body_problem ? m->body_problem : "");
		} else {
			struct doc d = { .part = "body", .path = m->body_path,
				.format = "text/plain", .sniffed = "text/plain", .size = m->body_size };

			title = m->subject && *m->subject ? xstrdup(m->subject) :
			    xasprintf("message from %s", m->from_addr);
			d.title = title;
			if ((r = print_document(p, w, &d, errstr)) == 0)
				(*printed)++;
		}
	}
	if (r != 0 && e != NULL) {
		free(*errstr);
		*errstr = e, e = NULL;
	}
	free(e);
	free(title);
	return r;
}

/*
 * One message goes through these stages, in this order.  A stage returns
 * 0 to go on, MSG_SETTLED when the message needs nothing more (printed,
 * refused, failed or gone: its verdict and post-action are done), or the
 * error that stopped it (*errstr set), reported with the stage's step.
 */
#define MSG_SETTLED 1

/* Recognise by UID: a verdict recorded earlier needs only its post-action;
 * too many attempts fail the message. */
static int
stage_recall(struct poller_session *p, struct msg_work *w, char **errstr)
{
	struct state_msg sm = { 0 };
	int attempts = 0, r;

	if (p->st == NULL)
		return 0;
	if ((r = state_msg_get(p->st, &w->k, &sm, errstr)) != 0)
		goto out;
	switch (sm.status) {
	case STATE_MSG_PRINTED:
	case STATE_MSG_DONE:
		/* Printed already; only the post-action is missing. */
		log_info("uid %u: already printed; finishing its post-action", w->k.uid);
		w->decided = 1;
		r = finish_message(p, &w->k, STATE_MSG_PRINTED, sm.reason, errstr);
		goto out;
	case STATE_MSG_FAILED:
	case STATE_MSG_REJECTED:
		w->decided = 1;
		r = finish_message(p, &w->k, sm.status, sm.reason, errstr);
		goto out;
	default:
		break;
	}
	if (p->o->dry_run)
		goto out;
	if ((r = state_msg_attempt(p->st, &w->k, &attempts, errstr)) != 0)
		goto out;
	if (attempts > p->cf->max_attempts) {
		w->reason = xasprintf("gave up after %d attempts (max_attempts)%s%s",
		    attempts - 1, sm.reason ? "; last error: " : "", sm.reason ? sm.reason : "");
		r = fail_message(p, w, STATE_MSG_FAILED, w->reason, errstr);
		w->decided = 1;
	}
out:
	state_msg_clear(&sm);
	return r != 0 ? r : w->decided ? MSG_SETTLED : 0;
}

/* Give up the prefetched body (its message needed no fetch after all, or the pass ends). */
static void
prefetch_drop(struct poller_session *p)
{
	struct prefetch *pf = &p->pf;
	char *e = NULL;

	if (pf->uid == 0)
		return;
	(void)imap_fetch_finish(p->imap, pf->uid, NULL, &e);
	free(e);
	close(pf->fd);
	unlink(pf->path);
	free(pf->path);
	memset(pf, 0, sizeof(*pf));
}

/* The size the pass found for uid (imap_fetch_sizes); IMAP_SIZE_GONE if none. */
static uint64_t
size_of(const struct poller_session *p, uint32_t uid)
{
	size_t lo = 0, hi = p->nuids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->uids[mid] == uid)
			return p->sizes[mid];
		if (p->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return IMAP_SIZE_GONE;
}

/* Not to be downloaded: gone, or over max_message_size. */
static int
too_big(const struct poller_session *p, uint64_t size)
{
	off_t max = p->cf->limits.max_message_size;

	return size != IMAP_SIZE_GONE && max > 0 && size > (uint64_t)max;
}

/*
 * Ask for the body of the next message of the pass that will need one
 * (after `after`: not gone, not too big, no verdict recorded), so that the
 * server sends it while this one is processed.  Best effort: a failure
 * here only means no prefetch (the connection's own failure shows at the
 * next command).
 */
static void
prefetch_next(struct poller_session *p, uint32_t after)
{
	struct prefetch *pf = &p->pf;
	struct state_msg sm = { 0 };
	char *e = NULL;
	size_t i;

	if (p->sizes == NULL || pf->uid != 0 || p->st == NULL)
		return;
	for (i = 0; i < p->nuids && p->uids[i] <= after; i++)
		;
	for (; i < p->nuids; i++) {
		struct state_key k = { p->a->name, p->a->mailbox, p->uidvalidity, p->uids[i] };
		int need;

		if (p->sizes[i] == IMAP_SIZE_GONE || too_big(p, p->sizes[i]))
			continue;
		if (state_msg_get(p->st, &k, &sm, &e) != 0)
			goto out;
		need = sm.status == STATE_MSG_NEW || sm.status == STATE_MSG_ACTIVE;
		state_msg_clear(&sm);
		if (need)
			break;
	}
	if (i == p->nuids)
		goto out;
	if ((pf->fd = private_tmpfile(p->scratch, SCRATCH_MSG, &pf->path, &e)) < 0)
		goto out;
	if (imap_fetch_start(p->imap, p->uids[i], pf->fd, p->cf->limits.max_message_size,
	    &e) != 0) {
		close(pf->fd);
		unlink(pf->path);
		free(pf->path);
		memset(pf, 0, sizeof(*pf));
		goto out;
	}
	pf->uid = p->uids[i];
	testhook_point("fetch-in-flight");
out:
	if (e != NULL)
		log_debug("no prefetch: %s", e);
	free(e);
}

/* Download the message into a private scratch file. */
static int
stage_fetch(struct poller_session *p, struct msg_work *w, char **errstr)
{
	uint32_t uid = w->k.uid;
	uint64_t size = p->sizes != NULL ? size_of(p, uid) : 0;
	char *e = NULL;
	int r = 0;

	if (p->sizes != NULL && size == IMAP_SIZE_GONE) {
		r = M2C_E_NOTFOUND;
	} else if (p->sizes != NULL && too_big(p, size)) {
		r = m2c_fail(&e, M2C_E_LIMIT, "message UID %u is %llu bytes, more than the limit "
		    "of %lld; it is not fetched (raise the size limit to print it)", uid,
		    (unsigned long long)size, (long long)p->cf->limits.max_message_size);
	} else if (p->pf.uid == uid) {
		/* Asked for while the message before was processed. */
		w->fd = p->pf.fd;
		w->msgpath = p->pf.path;
		memset(&p->pf, 0, sizeof(p->pf));
		r = imap_fetch_finish(p->imap, uid, &w->size, &e);
	} else {
		prefetch_drop(p);	/* for a message that needed none */
		if ((w->fd = private_tmpfile(p->scratch, SCRATCH_MSG, &w->msgpath, errstr)) < 0)
			return w->fd;
		/* The size is known already in a pass: straight to the body. */
		if (p->sizes != NULL && (r = imap_fetch_start(p->imap, uid, w->fd,
		    p->cf->limits.max_message_size, &e)) == 0)
			r = imap_fetch_finish(p->imap, uid, &w->size, &e);
		else if (p->sizes == NULL)
			r = imap_fetch_message(p->imap, uid, w->fd, p->cf->limits.max_message_size,
			    &w->size, &e);
	}
	if (r == M2C_E_NOTFOUND) {
		log_info("uid %u: gone from the mailbox before it was fetched", uid);
		r = MSG_SETTLED;
	} else if (r == M2C_E_LIMIT) {
		w->decided = 1;
		r = fail_message(p, w, STATE_MSG_FAILED, e, errstr);
		r = r != 0 ? r : MSG_SETTLED;
	} else if (r != 0) {
		free(*errstr);
		*errstr = e, e = NULL;
	} else {
		p->sum->fetched++;
		testhook_point("after-fetch");
		prefetch_next(p, uid);
	}
	free(e);
	return r;
}

/* Recognise by content: the same message printed before the server changed
 * UIDVALIDITY is only finished. */
static int
stage_recognise(struct poller_session *p, struct msg_work *w, char **errstr)
{
	uint32_t ouv, ouid;
	int r;

	if ((r = sha256_fd_hex(w->fd, w->hash, errstr)) != 0 || p->st == NULL)
		return r;
	r = state_msg_find_printed(p->st, &w->k, w->hash, &ouv, &ouid, errstr);
	if (r == M2C_E_NOTFOUND) {
		free(*errstr);
		*errstr = NULL;
		return 0;
	}
	if (r != 0)
		return r;
	log_info("uid %u: this message was printed before, as uid %u when the mailbox had "
	    "UIDVALIDITY %u; not printing it again", w->k.uid, ouid, ouv);
	w->decided = 1;
	r = finish_message(p, &w->k, STATE_MSG_PRINTED,
	    "printed before under another UIDVALIDITY", errstr);
	return r != 0 ? r : MSG_SETTLED;
}

/* The sender's verdict, once (also for a message that cannot print: it
 * decides whether the sender may get a reply). */
static void
judge_sender(struct poller_session *p, struct msg_work *w)
{
	if (w->judged || w->m == NULL)
		return;
	w->refused = policy_check_message(p->a, w->m, &w->v, &w->why_refused);
	w->judged = 1;
}

/* MIME to documents in scratch files; a message that cannot be read fails. */
static int
stage_extract(struct poller_session *p, struct msg_work *w, char **errstr)
{
	const struct conf *cf = p->cf;
	struct mime_limits lim = {
		.max_attachment_size = cf->limits.max_attachment_size,
		.max_parts = cf->limits.max_parts, .max_depth = cf->limits.max_depth,
		.max_attachments = cf->limits.max_attachments,
		.convert_types = p->convert_types, .nconvert_types = p->nconvert_types,
		.want_body = 1,
	};
	char *e = NULL;
	int r;

	r = mime_extract(w->fd, p->scratch, &lim, &w->m, &e);
	if (r == M2C_E_DATA || r == M2C_E_LIMIT) {
		judge_sender(p, w);
		w->decided = 1;
		r = fail_message(p, w, STATE_MSG_FAILED, e, errstr);
		r = r != 0 ? r : MSG_SETTLED;
		goto out;
	}
	if (r != 0) {
		free(*errstr);
		*errstr = e, e = NULL;
		goto out;
	}
	if (!p->o->dry_run &&
	    (r = state_msg_set_identity(p->st, &w->k, w->m->message_id, w->hash, errstr)) != 0)
		goto out;
	log_info("uid %u: from %s, \"%s\", %lld bytes, %zu attachment(s), %zu printable",
	    w->k.uid, w->m->from_addr ? w->m->from_addr : "(no address)",
	    w->m->subject ? w->m->subject : "", (long long)w->size, w->m->natt,
	    w->m->nprintable);
out:
	free(e);
	return r;
}

/* May the sender print?  A refused one is rejected. */
static int
stage_judge(struct poller_session *p, struct msg_work *w, char **errstr)
{
	int r;

	judge_sender(p, w);
	if (w->v.why != NULL)
		log_info("uid %u: sender %s: %s", w->k.uid, w->v.authenticated ?
		    "authenticated" : "not authenticated", w->v.why);
	if (w->refused == 0)
		return 0;
	w->decided = 1;
	r = fail_message(p, w, STATE_MSG_REJECTED, w->why_refused, errstr);
	return r != 0 ? r : MSG_SETTLED;
}

/* Which queue, as which CUPS user, with which options. */
static int
stage_route(struct poller_session *p, struct msg_work *w, char **errstr)
{
	(void)errstr;
	rules_route(p->cf, p->a, w->m, &w->route);
	w->user = rules_cups_user(p->cf, w->m->from_addr, &w->user_mapped);
	w->options = popt_describe(&w->route.opts);
	log_info("uid %u: rule %s: queue %s, user %s%s%s", w->k.uid, w->route.name,
	    w->route.printer, w->user, *w->options ? ", " : "", w->options);
	if (w->route.notes != NULL)
		log_warn("uid %u: subject tags %s", w->k.uid, w->route.notes);
	return 0;
}

/* Every printable document into CUPS, exactly once; nothing printable fails. */
static int
stage_print(struct poller_session *p, struct msg_work *w, char **errstr)
{
	int printed = 0, r;

	for (size_t i = 0; i < w->m->natt; i++) {
		if (w->m->att[i].printable)
			continue;
		p->sum->skipped++;
		/* With nothing printable the failure below gives every reason. */
		if (w->m->nprintable > 0 || wants_body(w))
			log_info("uid %u: skipped %s", w->k.uid, w->m->att[i].reason);
	}
	if ((r = print_documents(p, w, &printed, errstr)) != 0 || printed > 0)
		return r;
	{
		char *why = w->skipped.len ? xstrdup(w->skipped.data) : skipped_reasons(w->m);

		w->reason = xasprintf("nothing printable: %s", why);
		free(why);
	}
	w->decided = 1;
	r = fail_message(p, w, STATE_MSG_FAILED, w->reason, errstr);
	return r != 0 ? r : MSG_SETTLED;
}

/* Printed: record it, do the post-action, queue the sender's replies. */
static int
stage_finish(struct poller_session *p, struct msg_work *w, char **errstr)
{
	int r;

	w->decided = 1;
	r = finish_message(p, &w->k, STATE_MSG_PRINTED, NULL, errstr);
	queue_reply(p, w, CONF_REPLY_ACCEPTED, NULL);
	queue_reply(p, w, CONF_REPLY_PRINTED, NULL);
	return r != 0 ? r : MSG_SETTLED;
}

static const struct {
	enum m2c_step step;
	int (*run)(struct poller_session *p, struct msg_work *w, char **errstr);
} msg_stages[] = {
	{ M2C_STEP_RECOGNISE, stage_recall },
	{ M2C_STEP_FETCH, stage_fetch },
	{ M2C_STEP_RECOGNISE, stage_recognise },
	{ M2C_STEP_EXTRACT, stage_extract },
	{ M2C_STEP_JUDGE, stage_judge },
	{ M2C_STEP_ROUTE, stage_route },
	{ M2C_STEP_PRINT, stage_print },
	{ M2C_STEP_FINISH, stage_finish },
};

/*
 * One message through its stages.  On failure *step is the stage that
 * failed (FINISH when the verdict was reached but its recording or
 * post-action failed).
 */
static int
process_message(struct poller_session *p, uint32_t uid, enum m2c_step *step, char **errstr)
{
	struct msg_work w = { .k = { p->a->name, p->a->mailbox, p->uidvalidity, uid }, .fd = -1 };
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(msg_stages) && r == 0; i++) {
		*step = msg_stages[i].step;
		r = msg_stages[i].run(p, &w, errstr);
	}
	if (p->pf.uid == uid)
		prefetch_drop(p);	/* settled before its fetch */
	if (r == MSG_SETTLED)
		r = 0;
	if (r != 0 && w.decided)
		*step = M2C_STEP_FINISH;
	/* A failure before the verdict is remembered as the last error. */
	if (r != 0 && !w.decided && p->st != NULL && !p->o->dry_run && *errstr != NULL)
		(void)state_msg_set(p->st, &w.k, STATE_MSG_ACTIVE, *errstr, NULL);
	mime_message_free(&w.m);
	policy_verdict_clear(&w.v);
	rules_route_clear(&w.route);
	free(w.user);
	free(w.jobs);
	buf_free(&w.files);
	buf_free(&w.skipped);
	if (w.fd >= 0)
		close(w.fd);
	if (w.msgpath)
		unlink(w.msgpath);
	free(w.msgpath);
	free(w.options);
	free(w.why_refused);
	free(w.reason);
	return r;
}

/* Nonzero when uid is in the ascending array v of n. */
static int
uid_in(uint32_t uid, const uint32_t *v, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] == uid)
			return 1;
		if (v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* UID SEARCH "UID <uids> <what>" (what may be ""); see imap_search. */
static int
search_uids(struct imap *c, const uint32_t *uids, size_t n, const char *what,
    uint32_t **out, size_t *nout, char **errstr)
{
	struct buf b = { 0 };
	int r;

	buf_append(&b, "UID ", 4);
	for (size_t i = 0; i < n; i++)
		buf_appendf(&b, "%s%u", i ? "," : "", uids[i]);
	if (*what != '\0')
		buf_appendf(&b, " %s", what);
	r = imap_search(c, b.data, out, nout, errstr);
	buf_free(&b);
	return r;
}

#define RECONCILE_CHUNK 500	/* UIDs asked about in one SEARCH */

/*
 * Messages whose verdict is recorded but whose post-action may not have
 * happened (the program died after it, or it failed: a refused folder, a
 * dropped connection): ask the server where they are, finish what is
 * missing, and mark them done.  Gone from the mailbox, or already flagged
 * \Deleted (moved without UIDPLUS), means the post-action happened; a
 * printed message that is \Seen under after = "seen" too.  Nothing is ever
 * printed here.
 */
static int
reconcile_owed(struct poller_session *p, const uint32_t *uids,
    const enum state_msg_status *sts, size_t n, char **errstr)
{
	struct state_key k = { p->a->name, p->a->mailbox, p->uidvalidity, 0 };
	uint32_t *present = NULL, *settled = NULL;
	size_t npresent = 0, nsettled = 0;
	int r;

	if ((r = search_uids(p->imap, uids, n, "", &present, &npresent, errstr)) != 0 ||
	    (r = search_uids(p->imap, uids, n, p->a->after == CONF_AFTER_SEEN ?
	    "OR DELETED SEEN" : "DELETED", &settled, &nsettled, errstr)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct state_msg sm = { 0 };
		int printed = sts[i] == STATE_MSG_PRINTED;

		k.uid = uids[i];
		if (!uid_in(uids[i], present, npresent) || (uid_in(uids[i], settled, nsettled) &&
		    (printed || p->a->after != CONF_AFTER_SEEN))) {
			r = state_msg_set(p->st, &k, STATE_MSG_DONE, NULL, errstr);
		} else if ((r = state_msg_get(p->st, &k, &sm, errstr)) == 0) {
			log_info("uid %u: %s earlier; finishing its post-action", uids[i],
			    printed ? "printed" : sts[i] == STATE_MSG_REJECTED ? "rejected" : "refused");
			r = finish_message(p, &k, sts[i], sm.reason, errstr);
		}
		state_msg_clear(&sm);
		if (r != 0 && !m2c_err_is_temporary(r)) {
			/* This message's post-action is refused: say so, go on. */
			log_error("uid %u: its post-action failed again: %s; trying again next "
			    "time", uids[i], *errstr ? *errstr : m2c_err_name(r));
			free(*errstr);
			*errstr = NULL;
			r = 0;
		}
		if (r != 0)
			goto out;
	}
	if ((r = flush_postactions(p, errstr)) != 0 && !m2c_err_is_temporary(r)) {
		log_error("the post-action of printed messages failed again: %s; trying again "
		    "next time", *errstr ? *errstr : m2c_err_name(r));
		free(*errstr);
		*errstr = NULL;
		r = 0;
	}
out:
	free(present);
	free(settled);
	return r;
}

/* reconcile_owed over every owed message of the mailbox, in chunks. */
static int
reconcile(struct poller_session *p, char **errstr)
{
	struct state_key k = { p->a->name, p->a->mailbox, p->uidvalidity, 0 };
	uint32_t *uids = NULL;
	enum state_msg_status *sts = NULL;
	size_t n = 0;
	int r;

	if (p->o->dry_run || p->st == NULL)
		return 0;
	if ((r = state_msg_list_owed(p->st, &k, &uids, &sts, &n, errstr)) != 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i += RECONCILE_CHUNK)
		r = reconcile_owed(p, uids + i, sts + i,
		    n - i < RECONCILE_CHUNK ? n - i : RECONCILE_CHUNK, errstr);
	free(uids);
	free(sts);
	return r;
}

void
poller_clean_scratch(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (str_has_prefix(de->d_name, SCRATCH_MSG ".") ||
		    str_has_prefix(de->d_name, "part.")) {
			char *path = xasprintf("%s/%s", dir, de->d_name);
			(void)unlink(path);
			free(path);
		}
	}
	closedir(d);
	convert_clean_scratch(dir);
}

int
poller_session_open(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o, struct poller_session **out, enum m2c_step *step,
    char **errstr)
{
	struct poller_session *p = xcalloc(1, sizeof(*p));
	char *warning = NULL, *e = NULL;
	uint32_t exists = 0;
	int r;

	*out = NULL;
	p->cf = cf;
	p->a = a;
	p->st = st;
	p->o = o;
	if (a->allow_senders.n == 0)
		log_warn("allow_senders is empty: nobody may print from this mailbox");

	/* CUPS first: with the queue unusable, leave every message where it is. */
	*step = M2C_STEP_CUPS;
	r = cups_job_check_queue(a->printer, &warning, &e);
	if (warning != NULL)
		log_warn("%s", warning);
	free(warning);
	if (r != 0 && !o->dry_run) {
		free(*errstr);
		*errstr = e;
		goto out;
	}
	if (r != 0)
		log_warn("%s", e);
	free(e);

	for (size_t i = 0; i < cf->nconverters; i++) {
		const struct conf_strlist *t = &cf->converters[i].types;

		p->convert_types = xreallocarray(p->convert_types, p->nconvert_types + t->n,
		    sizeof(*p->convert_types));
		for (size_t j = 0; j < t->n; j++)
			p->convert_types[p->nconvert_types++] = t->v[j];
	}
	p->scratch = xasprintf("%s/scratch", cf->state_dir);
	*step = M2C_STEP_LOCAL;
	if ((r = mkdir_p(p->scratch, 0700, errstr)) != 0)
		goto out;
	if ((r = poller_open_session(cf, a, &p->imap, step, errstr)) != 0)
		goto out;
	*step = M2C_STEP_MAILBOX;
	if ((r = imap_select(p->imap, a->mailbox, &p->uidvalidity, &exists, errstr)) != 0)
		goto out;
	log_debug("%s: %u messages, UIDVALIDITY %u", a->mailbox, exists, p->uidvalidity);
out:
	if (r != 0)
		poller_session_close(&p, 0);
	*out = p;
	return r;
}

struct imap *
poller_session_imap(struct poller_session *s)
{
	return s->imap;
}

/*
 * Send the replies that are due.  A reply that cannot go now is kept for
 * the next pass; that never stops printing.
 */
static void
flush_replies(struct poller_session *p)
{
	char *e = NULL, *fix;
	int waiting = 0, r;

	if (p->o->dry_run || p->st == NULL || p->a->reply == 0)
		return;
	if ((r = reply_flush(p->cf, p->a, p->st, &waiting, &e)) != 0) {
		fix = advice_fix(p->cf, p->a, M2C_STEP_SMTP, r);
		log_warn("replies could not all be sent now: %s; trying again next pass",
		    e ? e : "unknown error");
		log_warn("fix: %s", fix);
		free(fix);
	} else if (waiting > 0)
		log_debug("%d printed replies wait for their jobs to complete", waiting);
	p->sum->replies_waiting = waiting;
	free(e);
}

/* The sizes of every message of the pass, in sets of IMAP_SET_MAX. */
static int
fetch_sizes(struct poller_session *p, const uint32_t *uids, size_t n, uint64_t **sizes,
    char **errstr)
{
	int r = 0;

	*sizes = xreallocarray(NULL, n ? n : 1, sizeof(**sizes));
	for (size_t i = 0; i < n && r == 0; i += IMAP_SET_MAX)
		r = imap_fetch_sizes(p->imap, uids + i, n - i < IMAP_SET_MAX ? n - i :
		    IMAP_SET_MAX, *sizes + i, errstr);
	return r;
}

int
poller_session_process(struct poller_session *p, struct poller_summary *sum,
    int (*stop)(void *arg), void *arg, enum m2c_step *step, char **errstr)
{
	uint32_t *uids = NULL;
	uint64_t *sizes = NULL;
	size_t nuids = 0;
	char *e = NULL;
	int r, r2;

	memset(sum, 0, sizeof(*sum));
	p->sum = sum;
	p->cups = cups_session_new();	/* one CUPS connection for the pass */
	*step = M2C_STEP_FINISH;	/* reconcile: earlier messages' post-actions */
	if ((r = reconcile(p, errstr)) != 0)
		goto out;
	*step = M2C_STEP_MAILBOX;
	if ((r = imap_search_unseen(p->imap, &uids, &nuids, errstr)) != 0)
		goto out;
	log_debug("%s: %zu unseen", p->a->mailbox, nuids);
	/* One FETCH for every size: oversize mail is never downloaded, and
	 * the next body can be asked for before the current one is done. */
	if (nuids > 0 && (r = fetch_sizes(p, uids, nuids, &sizes, errstr)) != 0)
		goto out;
	p->uids = uids;
	p->sizes = sizes;
	p->nuids = nuids;
	for (size_t i = 0; i < nuids && !(stop && stop(arg)); i++) {
		r = process_message(p, uids[i], step, &e);
		if (r == 0)
			continue;
		/* CUPS or the connection is in trouble (AUTH: the server ended the
		 * session for its token): stop this pass. */
		if (m2c_err_is_temporary(r) || r == M2C_E_NOTFOUND || r == M2C_E_AUTH) {
			log_error("uid %u: %s; it stays unseen and is tried again next time",
			    uids[i], e ? e : m2c_err_name(r));
			free(*errstr);
			*errstr = e, e = NULL;
			goto out;
		}
		log_error("uid %u: %s", uids[i], e ? e : m2c_err_name(r));
		free(e);
		e = NULL;
		r = 0;
	}
out:
	prefetch_drop(p);
	p->uids = NULL;
	p->sizes = NULL;
	p->nuids = 0;
	/* The post-actions still owed: before the pass ends (before IDLE). */
	if ((r2 = flush_postactions(p, &e)) != 0) {
		log_error("the post-action of printed messages failed: %s; they are finished "
		    "next time", e ? e : m2c_err_name(r2));
		if (r == 0 && m2c_err_is_temporary(r2)) {
			*step = M2C_STEP_FINISH;
			free(*errstr);
			*errstr = e, e = NULL;
			r = r2;
		}
	}
	free(e);
	if (r == 0)
		flush_replies(p);
	cups_session_free(&p->cups);
	p->sum = NULL;
	free(uids);
	free(sizes);
	return r;
}

void
poller_session_close(struct poller_session **s, int logout)
{
	struct poller_session *p = *s;

	if (p == NULL)
		return;
	if (logout)
		imap_logout(&p->imap);
	prefetch_drop(p);
	imap_close(&p->imap);
	cups_session_free(&p->cups);
	free(p->batch);
	free(p->scratch);
	free(p->convert_types);
	free(p);
	*s = NULL;
}

int
poller_once_account(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o, struct poller_summary *sum, enum m2c_step *step,
    char **errstr)
{
	struct poller_session *s = NULL;
	struct lock *lk = NULL;
	pid_t holder = 0;
	int r;

	memset(sum, 0, sizeof(*sum));
	log_set_account(a->name);
	/* One process per account (lock.h); a dry run changes nothing. */
	if (!o->dry_run &&
	    (r = lock_account(cf->state_dir, a->name, LOCK_ROLE_ONCE, &lk, &holder, errstr)) != 0) {
		sum->busy = holder != 0;
		*step = M2C_STEP_LOCAL;
		goto out;
	}
	if ((r = poller_session_open(cf, a, st, o, &s, step, errstr)) == 0)
		r = poller_session_process(s, sum, NULL, NULL, step, errstr);
	poller_session_close(&s, r == 0);
out:
	lock_release(&lk);
	log_set_account(NULL);
	return r;
}
