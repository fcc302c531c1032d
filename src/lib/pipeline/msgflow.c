/* msgflow.c - one message through the pipeline, whatever brought it; see msgflow.h. */
#include "m2c-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "advice.h"
#include "convert.h"
#include "cupsjob.h"
#include "error.h"
#include "log.h"
#include "mime.h"
#include "msgflow.h"
#include "policy.h"
#include "poller.h"
#include "reply.h"
#include "rules.h"
#include "testhook.h"
#include "util.h"

/*
 * What is decided about one message: who sent it, where and how it
 * prints, which jobs it became.  For its jobs and its reply.
 */
struct msg_work {
	struct state_key k;
	const char *label;		/* log prefix; foreign */
	const struct msgflow_msg *in;	/* foreign */
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
	int fd_owned;			/* fd is ours to close (an anonymous file) */
	off_t size;			/* its size */
	char hash[65];			/* its SHA-256, hex */
	int judged;			/* v, refused and why_refused are set */
	int refused;			/* the sender may not print */
	char *why_refused;		/* owned */
	char *reason;			/* why it failed; owned */
	int decided;			/* a verdict was reached (printed, failed, rejected) */
	enum state_msg_status verdict;	/* which, when decided */
};

int
msgflow_finish(struct msgflow *p, const struct state_key *k, enum state_msg_status outcome,
    const char *reason, char **errstr)
{
	int r;

	if (!p->dry_run && (r = state_msg_set(p->st, k, outcome, reason, errstr)) != 0)
		return r;
	if (p->src->post_action != NULL &&
	    (r = p->src->post_action(p->src->arg, k, outcome, errstr)) != 0)
		return r == MSGFLOW_POST_DEFERRED ? 0 : r;
	if (p->dry_run)
		return 0;
	testhook_point("after-postaction");
	return state_msg_set(p->st, k, STATE_MSG_DONE, reason, errstr);
}

/*
 * Queue the reply of kind about w, when the account sends that kind and
 * the sender may get one (policy_may_reply).  A reply that cannot be
 * queued is logged, never an error of the message.
 */
static void
queue_reply(struct msgflow *p, struct msg_work *w, enum conf_reply_kind kind,
    const char *reason)
{
	struct reply_ctx c = { 0 };
	const char *why;
	char *e = NULL;

	if (p->dry_run || p->st == NULL || w->m == NULL || !(p->a->reply & (1u << kind)))
		return;
	if (!policy_may_reply(p->a, w->m, &w->v, &why)) {
		log_info("%s: no %s reply to %s: %s", w->label, conf_reply_kind_name(kind),
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
		log_warn("%s: could not queue the %s reply to %s: %s", w->label,
		    conf_reply_kind_name(kind), c.to, e ? e : "unknown error");
	free(e);
}

/*
 * A message that cannot print (FAILED) or may not (REJECTED): log why,
 * count it, send it to its folder, and tell the sender when that is allowed.
 */
static int
fail_message(struct msgflow *p, struct msg_work *w, enum state_msg_status outcome,
    const char *reason, char **errstr)
{
	enum conf_reply_kind kind = outcome == STATE_MSG_REJECTED ? CONF_REPLY_REJECTED :
	    CONF_REPLY_FAILED;
	/* What the message itself was found to be is the sender's business. */
	char *plain = kind == CONF_REPLY_FAILED && w->m != NULL ? reply_sender_problem(w->m) :
	    NULL;
	char *ref = reply_ref_new(), *pub = reply_public_reason(kind, plain, ref);
	int r;

	/* The detail stays in the log; the sender gets plain words and the reference. */
	log_warn("%s: not printed (ref %s): %s", w->label, ref, reason);
	p->sum->failed++;
	w->verdict = outcome;
	r = msgflow_finish(p, &w->k, outcome, reason, errstr);
	queue_reply(p, w, kind, pub);
	free(plain);
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
print_document(struct msgflow *p, struct msg_work *w, const struct doc *d, char **errstr)
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
		log_info("%s: \"%s\" was already printed as job %d; not printing it again",
		    w->label, d->title, sp.job_id);
		p->sum->already++;
		add_job(w, d->title, sp.job_id);
		goto out;
	}
	if (sp.status == STATE_PART_INTENT) {
		/* A run died between the intent and recording the job: ask CUPS. */
		r = cups_job_find_by_nonce(p->cups, sp.printer ? sp.printer : printer, sp.nonce,
		    &job_id, errstr);
		if (r == 0) {
			log_info("%s: \"%s\" found in CUPS as job %d from an interrupted run; "
			    "not printing it again", w->label, d->title, job_id);
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
	if (p->dry_run) {
		log_info("%s: would print \"%s\" (%s, %lld bytes%s) on %s", w->label, d->title,
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
		log_info("%s: converted \"%s\" (%s) to PDF", w->label, d->title, d->sniffed);
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
	log_info("%s: printed \"%s\" from %s on %s as job %s-%d%s", w->label, d->title,
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

int
msgflow_sha256_fd(int fd, off_t off, char hex[65], char **errstr)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	ssize_t n;
	int r = 0;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot start a SHA-256 digest");
		goto out;
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = m2c_fail(errstr, M2C_E_SYS, "cannot read the message's scratch file: %s",
			    strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		off += n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	hex_encode(md, mdlen < 32 ? mdlen : 32, hex);
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
print_documents(struct msgflow *p, struct msg_work *w, int *printed, char **errstr)
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
			log_warn("%s: skipped \"%s\": %s", w->label, at->filename, e);
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
			log_info("%s: no message text to print%s%s", w->label,
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
stage_recall(struct msgflow *p, struct msg_work *w, char **errstr)
{
	struct state_msg sm = { 0 };
	int attempts = 0, r;

	if (p->st == NULL)
		return 0;
	if ((r = state_msg_get(p->st, &w->k, &sm, errstr)) != 0)
		goto out;
	switch (sm.status) {
	case STATE_MSG_DONE:
		if (p->src->post_action == NULL) {
			/* Nothing owed at the source: the same message again (an
			 * MTA's retry) needs nothing. */
			log_info("%s: dealt with already%s%s; nothing to do", w->label,
			    sm.reason ? ": " : "", sm.reason ? sm.reason : "");
			w->decided = 1;
			w->verdict = STATE_MSG_DONE;
			goto out;
		}
		/* FALLTHROUGH */
	case STATE_MSG_PRINTED:
		/* Printed already; only the post-action is missing. */
		log_info("%s: already printed; finishing its post-action", w->label);
		w->decided = 1;
		w->verdict = STATE_MSG_PRINTED;
		r = msgflow_finish(p, &w->k, STATE_MSG_PRINTED, sm.reason, errstr);
		goto out;
	case STATE_MSG_FAILED:
	case STATE_MSG_REJECTED:
		w->decided = 1;
		w->verdict = sm.status;
		r = msgflow_finish(p, &w->k, sm.status, sm.reason, errstr);
		goto out;
	default:
		break;
	}
	if (p->dry_run)
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

/* The source brings the message into a private scratch file (unless the
 * caller has it already). */
static int
stage_fetch(struct msgflow *p, struct msg_work *w, char **errstr)
{
	char *e = NULL;
	int r;

	if (w->in->fd >= 0) {
		w->fd = w->in->fd;
		w->size = w->in->size;
		p->sum->fetched++;
		if (w->in->failed == NULL)
			return 0;
		/* The source could not take all of it (too big). */
		w->decided = 1;
		r = fail_message(p, w, STATE_MSG_FAILED, w->in->failed, errstr);
		return r != 0 ? r : MSG_SETTLED;
	}
	if (p->src->fetch == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "%s: no message and no way to fetch it "
		    "(internal error)", w->label);
	w->fd = -1;
	r = p->src->fetch(p->src->arg, &w->k, p->cf->limits.max_message_size, &w->fd,
	    &w->size, w->hash, &e);
	w->fd_owned = w->fd >= 0;
	if (r == M2C_E_NOTFOUND) {
		log_info("%s: gone from the mailbox before it was fetched", w->label);
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
	}
	free(e);
	return r;
}

/* Recognise by content: the same message printed before the server changed
 * UIDVALIDITY is only finished. */
static int
stage_recognise(struct msgflow *p, struct msg_work *w, char **errstr)
{
	uint32_t ouv, ouid;
	int r;

	/* The source's, or computed as the fetch wrote it; else a pass over fd. */
	if (w->in->hash != NULL)
		snprintf(w->hash, sizeof(w->hash), "%s", w->in->hash);
	else if (w->hash[0] == '\0' && (r = msgflow_sha256_fd(w->fd, 0, w->hash, errstr)) != 0)
		return r;
	if (!p->src->recognise || p->st == NULL)
		return 0;
	r = state_msg_find_printed(p->st, &w->k, w->hash, &ouv, &ouid, errstr);
	if (r == M2C_E_NOTFOUND) {
		free(*errstr);
		*errstr = NULL;
		return 0;
	}
	if (r != 0)
		return r;
	log_info("%s: this message was printed before, as uid %u when the mailbox had "
	    "UIDVALIDITY %u; not printing it again", w->label, ouid, ouv);
	w->decided = 1;
	w->verdict = STATE_MSG_PRINTED;
	r = msgflow_finish(p, &w->k, STATE_MSG_PRINTED,
	    "printed before under another UIDVALIDITY", errstr);
	return r != 0 ? r : MSG_SETTLED;
}

/* The sender's verdict, once (also for a message that cannot print: it
 * decides whether the sender may get a reply). */
static void
judge_sender(struct msgflow *p, struct msg_work *w)
{
	if (w->judged || w->m == NULL)
		return;
	w->judged = 1;
	/* A user's own Print folder: owning the mailbox is the authentication. */
	if (p->a->print_folders)
		return;
	w->refused = policy_check_message(p->a, w->m, &w->v, &w->why_refused);
}

/*
 * What the MTA said about the message counts as if the message said it: the
 * envelope recipient is one of its recipients (routing by plus-address
 * works for Bcc too), and a missing Return-Path is the envelope sender
 * (the null sender, which Postfix calls MAILER-DAEMON, gets no reply).
 */
static void
add_envelope(struct mime_message *m, const struct msgflow_msg *in)
{
	const char *s = in->env_sender;

	if (in->env_recipient != NULL && *in->env_recipient != '\0') {
		char *rcpt = xstrdup(in->env_recipient);
		size_t i;

		for (char *c = rcpt; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		for (i = 0; i < m->nrecipients && strcmp(m->recipients[i], rcpt) != 0; i++)
			;
		if (i == m->nrecipients) {
			m->recipients = xreallocarray(m->recipients, m->nrecipients + 1,
			    sizeof(*m->recipients));
			m->recipients[m->nrecipients++] = rcpt, rcpt = NULL;
		}
		free(rcpt);
	}
	if (s != NULL && m->return_path == NULL) {
		if (strcmp(s, "<>") == 0 || strcasecmp(s, "MAILER-DAEMON") == 0)
			s = "";
		m->return_path = xstrdup(s);
	}
}

/* MIME to documents in scratch files; a message that cannot be read fails. */
static int
stage_extract(struct msgflow *p, struct msg_work *w, char **errstr)
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
	add_envelope(w->m, w->in);
	if (!p->dry_run &&
	    (r = state_msg_set_identity(p->st, &w->k, w->m->message_id, w->hash, errstr)) != 0)
		goto out;
	log_info("%s: from %s, \"%s\", %lld bytes, %zu attachment(s), %zu printable",
	    w->label, w->m->from_addr ? w->m->from_addr : "(no address)",
	    w->m->subject ? w->m->subject : "", (long long)w->size, w->m->natt,
	    w->m->nprintable);
out:
	free(e);
	return r;
}

/* May the sender print?  A refused one is rejected. */
static int
stage_judge(struct msgflow *p, struct msg_work *w, char **errstr)
{
	int r;

	judge_sender(p, w);
	if (w->v.why != NULL)
		log_info("%s: sender %s: %s", w->label, w->v.authenticated ?
		    "authenticated" : "not authenticated", w->v.why);
	if (w->refused == 0)
		return 0;
	w->decided = 1;
	r = fail_message(p, w, STATE_MSG_REJECTED, w->why_refused, errstr);
	return r != 0 ? r : MSG_SETTLED;
}

/* Which queue, as which CUPS user, with which options. */
static int
stage_route(struct msgflow *p, struct msg_work *w, char **errstr)
{
	int trusted = policy_from_trusted(p->a, &w->v);
	char *note = NULL;

	(void)errstr;
	rules_route(p->cf, p->a, w->m, trusted, &w->route);
	if (w->route.passed_over != NULL && !p->a->print_folders)
		log_warn("%s: rule %s is for senders, and the mailbox provider did not "
		    "authenticate %s: not used (see SENDER TRUST in mail2cups.conf(5))", w->label,
		    w->route.passed_over->name, w->m->from_addr ? w->m->from_addr : "the sender");
	if (p->a->print_folders) {
		/* As the folder's owner, whoever wrote the message. */
		w->user = rules_owner_user(p->cf, p->a->username, &note);
		w->user_mapped = 1;
	} else {
		w->user = rules_cups_user(p->cf, w->m->from_addr, trusted, &w->user_mapped,
		    &note);
	}
	if (note != NULL)
		log_warn("%s: %s", w->label, note);
	free(note);
	w->options = popt_describe(&w->route.opts);
	log_info("%s: rule %s: queue %s, user %s%s%s", w->label, w->route.name,
	    w->route.printer, w->user, *w->options ? ", " : "", w->options);
	if (w->route.notes != NULL)
		log_warn("%s: subject tags %s", w->label, w->route.notes);
	return 0;
}

/* Every printable document into CUPS, exactly once; nothing printable fails. */
static int
stage_print(struct msgflow *p, struct msg_work *w, char **errstr)
{
	int printed = 0, r;

	for (size_t i = 0; i < w->m->natt; i++) {
		if (w->m->att[i].printable)
			continue;
		p->sum->skipped++;
		/* With nothing printable the failure below gives every reason. */
		if (w->m->nprintable > 0 || wants_body(w))
			log_info("%s: skipped %s", w->label, w->m->att[i].reason);
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
stage_finish(struct msgflow *p, struct msg_work *w, char **errstr)
{
	int r;

	w->decided = 1;
	w->verdict = STATE_MSG_PRINTED;
	r = msgflow_finish(p, &w->k, STATE_MSG_PRINTED, NULL, errstr);
	queue_reply(p, w, CONF_REPLY_ACCEPTED, NULL);
	queue_reply(p, w, CONF_REPLY_PRINTED, NULL);
	return r != 0 ? r : MSG_SETTLED;
}

static const struct {
	enum m2c_step step;
	int (*run)(struct msgflow *p, struct msg_work *w, char **errstr);
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

void
msgflow_init(struct msgflow *f, const struct conf *cf, const struct conf_account *a,
    struct state *st, int dry_run, const char *scratch, const struct msgflow_source *src,
    struct poller_summary *sum)
{
	memset(f, 0, sizeof(*f));
	f->cf = cf;
	f->a = a;
	f->st = st;
	f->dry_run = dry_run;
	f->scratch = scratch;
	f->src = src;
	f->sum = sum;
	for (size_t i = 0; i < cf->nconverters; i++) {
		const struct conf_strlist *t = &cf->converters[i].types;

		f->convert_types = xreallocarray(f->convert_types, f->nconvert_types + t->n,
		    sizeof(*f->convert_types));
		for (size_t j = 0; j < t->n; j++)
			f->convert_types[f->nconvert_types++] = t->v[j];
	}
}

void
msgflow_flush_replies(struct msgflow *p)
{
	char *e = NULL, *fix;
	int waiting = 0, r;

	if (p->dry_run || p->st == NULL || p->a->reply == 0)
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

void
msgflow_clear(struct msgflow *f)
{
	free(f->convert_types);
	f->convert_types = NULL;
	f->nconvert_types = 0;
}

int
msgflow_process(struct msgflow *p, const struct msgflow_msg *in,
    enum state_msg_status *verdict, enum m2c_step *step, char **errstr)
{
	struct msg_work w = { .k = in->k, .label = in->label, .in = in, .fd = -1 };
	int r = 0;

	*verdict = STATE_MSG_NEW;
	for (size_t i = 0; i < ARRAY_SIZE(msg_stages) && r == 0; i++) {
		*step = msg_stages[i].step;
		r = msg_stages[i].run(p, &w, errstr);
	}
	if (r == MSG_SETTLED)
		r = 0;
	if (w.decided)
		*verdict = w.verdict;
	if (r != 0 && w.decided)
		*step = M2C_STEP_FINISH;
	/* A failure before the verdict is remembered as the last error. */
	if (r != 0 && !w.decided && p->st != NULL && !p->dry_run && *errstr != NULL)
		(void)state_msg_set(p->st, &w.k, STATE_MSG_ACTIVE, *errstr, NULL);
	mime_message_free(&w.m);
	policy_verdict_clear(&w.v);
	rules_route_clear(&w.route);
	free(w.user);
	free(w.jobs);
	buf_free(&w.files);
	buf_free(&w.skipped);
	if (w.fd_owned && w.fd >= 0)
		close(w.fd);
	free(w.options);
	free(w.why_refused);
	free(w.reason);
	return r;
}
