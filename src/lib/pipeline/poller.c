/* poller.c - one pass over one account; see poller.h. */
#include "m2c-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "advice.h"
#include "convert.h"
#include "cupsjob.h"
#include "error.h"
#include "imap.h"
#include "lock.h"
#include "log.h"
#include "msgflow.h"
#include "poller.h"
#include "secret.h"
#include "signin.h"
#include "testhook.h"
#include "util.h"

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
	int fd;			/* owned: its anonymous scratch file */
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
	char *key_mailbox;	/* owned: the mailbox in state keys: "USER/FOLDER" for a
				 * user's Print folder (folders.h), else a->mailbox */
	struct msgflow_source src;
	struct msgflow flow;	/* the per-message pipeline (msgflow.h); owned */
	struct cups_session *cups;	/* owned: one CUPS connection for a pass */
	uint32_t *batch;		/* owned: printed UIDs owing their post-action */
	size_t nbatch;
	/* during a pass (else NULL): the UIDs it works on, their sizes */
	const uint32_t *uids;
	const uint64_t *sizes;
	size_t nuids;
	struct prefetch pf;
};

/* The state key of uid in the session's mailbox (uid 0: of the mailbox). */
static struct state_key
key_of(const struct poller_session *p, uint32_t uid)
{
	struct state_key k = { p->a->name, p->key_mailbox, p->uidvalidity, uid };

	return k;
}

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
		/* A user's Print folder: the master user signs in for its owner. */
		if (a->print_folders)
			r = imap_login_as(imap, a->username, a->login_user, password, errstr);
		else
			r = imap_login_password(imap, a->auth == CONF_AUTH_PLAIN ? "PLAIN" :
			    "LOGIN", conf_account_login_user(a), password, errstr);
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
	struct state_key k = key_of(p, 0);
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
 * A printed message's post-action joins the batch (flush_postactions):
 * MSGFLOW_POST_DEFERRED, it stays PRINTED until the batch is flushed.  A
 * batch that cannot take it in UID order, or is full, is flushed here; its
 * failure is this message's (it stays PRINTED for reconcile_owed).
 */
static int
defer_postaction(struct poller_session *p, uint32_t uid, char **errstr)
{
	int r;

	if (p->nbatch > 0 && p->batch[p->nbatch - 1] >= uid &&
	    (r = flush_postactions(p, errstr)) != 0)
		return r;
	p->batch = xreallocarray(p->batch, p->nbatch + 1, sizeof(*p->batch));
	p->batch[p->nbatch++] = uid;
	if (p->nbatch >= POSTACTION_BATCH && (r = flush_postactions(p, errstr)) != 0)
		return r;
	return MSGFLOW_POST_DEFERRED;
}

/* Give up the prefetched body (its message needed no fetch after all, or the pass ends). */
static void
prefetch_drop(struct poller_session *p)
{
	struct prefetch *pf = &p->pf;
	char *e = NULL;

	if (pf->uid == 0)
		return;
	(void)imap_fetch_finish(p->imap, pf->uid, NULL, NULL, &e);
	free(e);
	close(pf->fd);
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

/* Over max_message_size (not to be downloaded). */
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
		struct state_key k = key_of(p, p->uids[i]);
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
	if ((pf->fd = private_tmpfile(p->scratch, MSGFLOW_SCRATCH_MSG, NULL, &e)) < 0)
		goto out;
	if (imap_fetch_start(p->imap, p->uids[i], pf->fd, p->cf->limits.max_message_size,
	    &e) != 0) {
		close(pf->fd);
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

/*
 * The source for msgflow: IMAP.  In a pass the sizes are known already
 * (gone or too big: no download), and the body may be on its way since
 * the message before (prefetch_next): then its scratch file is handed
 * over as it is.  Else a new one is filled now.
 */
static int
fetch_cb(void *arg, const struct state_key *k, off_t limit, int *fd, off_t *size,
    char hash[65], char **errstr)
{
	struct poller_session *p = arg;
	uint32_t uid = k->uid;
	uint64_t known = p->sizes != NULL ? size_of(p, uid) : 0;
	int r = 0, f;

	if (p->sizes != NULL && known == IMAP_SIZE_GONE)
		return M2C_E_NOTFOUND;
	if (p->sizes != NULL && too_big(p, known))
		return m2c_fail(errstr, M2C_E_LIMIT, "message UID %u is %llu bytes, more than "
		    "the limit of %lld; it is not fetched (raise the size limit to print it)",
		    uid, (unsigned long long)known, (long long)limit);
	if (p->pf.uid == uid) {
		/* Asked for while the message before was processed. */
		f = p->pf.fd;
		memset(&p->pf, 0, sizeof(p->pf));
		r = imap_fetch_finish(p->imap, uid, size, hash, errstr);
	} else {
		prefetch_drop(p);	/* for a message that needed none */
		if ((f = private_tmpfile(p->scratch, MSGFLOW_SCRATCH_MSG, NULL, errstr)) < 0)
			return f;
		/* The size is known already in a pass: straight to the body. */
		if (p->sizes != NULL && (r = imap_fetch_start(p->imap, uid, f, limit,
		    errstr)) == 0)
			r = imap_fetch_finish(p->imap, uid, size, hash, errstr);
		else if (p->sizes == NULL)
			r = imap_fetch_message(p->imap, uid, f, limit, size, hash, errstr);
	}
	if (r != 0) {
		close(f);
		return r;
	}
	*fd = f;
	testhook_point("after-fetch");
	prefetch_next(p, uid);
	return 0;
}

static int
post_action_cb(void *arg, const struct state_key *k, enum state_msg_status outcome,
    char **errstr)
{
	struct poller_session *p = arg;

	if (!p->o->dry_run && outcome == STATE_MSG_PRINTED)
		return defer_postaction(p, k->uid, errstr);
	if (!p->o->dry_run)
		return post_action(p, k->uid, outcome, errstr);
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

/*
 * One message through the pipeline (msgflow.h).  On failure *step is the
 * stage that failed.
 */
static int
process_message(struct poller_session *p, uint32_t uid, enum m2c_step *step, char **errstr)
{
	struct msgflow_msg in = { .k = key_of(p, uid), .fd = -1 };
	enum state_msg_status verdict;
	char label[24];

	int r;

	snprintf(label, sizeof(label), "uid %u", uid);
	in.label = label;
	p->flow.sum = p->sum;
	r = msgflow_process(&p->flow, &in, &verdict, step, errstr);
	if (p->pf.uid == uid)
		prefetch_drop(p);	/* settled before its fetch */
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
	struct state_key k = key_of(p, 0);
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
			r = msgflow_finish(&p->flow, &k, sts[i], sm.reason, errstr);
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
	struct state_key k = key_of(p, 0);
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
	static const char *const prefixes[] = { MSGFLOW_SCRATCH_MSG ".", "part.", NULL };

	rm_prefixed(dir, prefixes);
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
	p->key_mailbox = a->print_folders ? xasprintf("%s/%s", a->username, a->mailbox) :
	    xstrdup(a->mailbox);
	if (a->allow_senders.n == 0 && !a->print_folders)
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

	p->scratch = xasprintf("%s/scratch", cf->state_dir);
	p->src.fetch = fetch_cb;
	p->src.post_action = post_action_cb;
	p->src.arg = p;
	p->src.recognise = 1;
	msgflow_init(&p->flow, cf, a, st, o->dry_run, p->scratch, &p->src, NULL);
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
	p->flow.cups = p->cups;
	*step = M2C_STEP_FINISH;	/* reconcile: earlier messages' post-actions */
	if ((r = reconcile(p, errstr)) != 0)
		goto out;
	*step = M2C_STEP_MAILBOX;
	/* A Print folder is emptied by its post-action, and what a user files
	 * there may be \Seen already: every message not on its way out. */
	if ((r = p->a->print_folders ? imap_search(p->imap, "UNDELETED", &uids, &nuids, errstr) :
	    imap_search_unseen(p->imap, &uids, &nuids, errstr)) != 0)
		goto out;
	log_debug("%s: %zu %s", p->a->mailbox, nuids, p->a->print_folders ? "to print" :
	    "unseen");
	/* One FETCH for every size: oversize mail is never downloaded, and
	 * the next body can be asked for before the current one is done. */
	if (nuids > 0 && (r = fetch_sizes(p, uids, nuids, &sizes, errstr)) != 0)
		goto out;
	p->uids = uids;
	p->sizes = sizes;
	p->nuids = nuids;
	for (size_t i = 0; i < nuids; i++) {
		sum->left = (int)(nuids - i);
		if (stop && stop(arg))
			break;
		r = process_message(p, uids[i], step, &e);
		sum->left--;
		if (r == 0)
			continue;
		/* CUPS or the connection is in trouble (AUTH: the server ended the
		 * session for its token): stop this pass. */
		if (m2c_err_is_temporary(r) || r == M2C_E_NOTFOUND || r == M2C_E_AUTH) {
			sum->left++;	/* this one too stays unseen */
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
	if (r == 0) {
		p->flow.sum = sum;
		msgflow_flush_replies(&p->flow);
	}
	p->flow.cups = NULL;
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
	free(p->key_mailbox);
	msgflow_clear(&p->flow);
	free(p);
	*s = NULL;
}

int
poller_once_account(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o, struct poller_summary *sum, enum m2c_step *step,
    char **errstr, poller_pass_fn *pass)
{
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
	r = pass(cf, a, st, o, sum, step, errstr);
out:
	lock_release(&lk);
	log_set_account(NULL);
	return r;
}

int
poller_pass(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o, struct poller_summary *sum, enum m2c_step *step,
    char **errstr)
{
	struct poller_session *s = NULL;
	int r;

	if ((r = poller_session_open(cf, a, st, o, &s, step, errstr)) == 0)
		r = poller_session_process(s, sum, NULL, NULL, step, errstr);
	poller_session_close(&s, r == 0);
	return r;
}
