/* poller.c - one pass over one account; see poller.h. */
#include "m2c-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cupsjob.h"
#include "error.h"
#include "imap.h"
#include "log.h"
#include "mime.h"
#include "policy.h"
#include "poller.h"
#include "secret.h"
#include "signin.h"
#include "testhook.h"
#include "util.h"

#define SCRATCH_MSG "msg"


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

int
poller_is_oauth(const struct conf_account *a)
{
	return a->auth == CONF_AUTH_XOAUTH2 || a->auth == CONF_AUTH_OAUTHBEARER;
}

/*
 * Sign in with the account's mechanism.  For OAuth, *used receives the
 * access token that was sent (allocated secret), so that a refusal can force
 * a refresh.
 */
static int
sign_in(const struct conf *cf, const struct conf_account *a, struct imap *imap, char **used,
    char **errstr)
{
	struct oauth_tokens t = { 0 };
	char *password = NULL, *ir = NULL;
	int r;

	*used = NULL;
	if (!poller_is_oauth(a)) {
		if ((r = secret_file_read(a->password_file, &password, errstr)) != 0)
			return r;
		r = imap_login_password(imap, a->auth == CONF_AUTH_PLAIN ? "PLAIN" : "LOGIN",
		    a->login_user ? a->login_user : a->username, password, errstr);
		free_secret(password);
		return r;
	}
	if ((r = signin_token(cf, a, NULL, &t, errstr)) != 0)
		goto out;
	ir = signin_sasl_ir(a, t.access_token);
	r = imap_authenticate(imap, a->auth == CONF_AUTH_OAUTHBEARER ? "OAUTHBEARER" : "XOAUTH2",
	    ir, errstr);
	*used = xstrdup(t.access_token);
out:
	free_secret(ir);
	oauth_tokens_clear(&t);
	return r;
}

/* The server refused a token we believed valid, or ended the session for it. */
static int
token_refused(int r, const char *err)
{
	return r == M2C_E_AUTH || (err != NULL && strstr(err, "AccessTokenExpired") != NULL);
}

/* A token refused even after a refresh: say why that happens and what to do. */
static int
explain_refused_token(const struct conf_account *a, char **errstr)
{
	const char *who = a->login_user ? a->login_user : a->username;
	char *said = *errstr;
	int r;

	*errstr = NULL;
	if (a->oauth.provider == CONF_PROVIDER_MICROSOFT)
		r = m2c_fail(errstr, M2C_E_AUTH, "the IMAP server refused the access token for %s, "
		    "also after a refresh (%s). Exchange Online says this when IMAP is turned off "
		    "for the mailbox (Set-CASMailbox -Identity %s -ImapEnabled $true), when an app "
		    "with app-only access has no right to the mailbox (Add-MailboxPermission "
		    "-Identity %s -User <service principal id> -AccessRights FullAccess), or for a "
		    "token for another account (sign in as %s: mail2cups-oauth login %s)",
		    a->username, said, a->username, a->username, who, a->name);
	else
		r = m2c_fail(errstr, M2C_E_AUTH, "the IMAP server refused the access token for %s, "
		    "also after a refresh (%s); sign in again as %s: mail2cups-oauth login %s",
		    a->username, said, who, a->name);
	free(said);
	return r;
}

int
poller_open_session(const struct conf *cf, const struct conf_account *a, struct imap **imap,
    char **errstr)
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
		if ((r = imap_connect(&io, imap, errstr)) == 0)
			r = sign_in(cf, a, *imap, &used, errstr);
		if (r == 0 || used == NULL || !token_refused(r, *errstr))
			break;
		if (tries > 0) {
			r = explain_refused_token(a, errstr);
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

int
poller_select(struct imap *imap, const struct conf_account *a, uint32_t *uidvalidity,
    uint32_t *exists, char **errstr)
{
	int r = imap_select(imap, a->mailbox, uidvalidity, exists, errstr);

	/* Microsoft's answer to a token for someone who cannot open this mailbox. */
	if (r == 0 || *errstr == NULL ||
	    strstr(*errstr, "User is authenticated but not connected") == NULL)
		return r;
	return m2c_fail(errstr, M2C_E_AUTH,
	    "the server accepted the token but will not open mailbox %s (\"User is "
	    "authenticated but not connected\"): the token belongs to someone who cannot read "
	    "it. Sign in as %s (mail2cups-oauth login %s); for a shared mailbox, give the "
	    "signed-in user Full Access (Add-MailboxPermission) and set login_user to that user",
	    a->username, a->login_user ? a->login_user : a->username, a->name);
}

/* The post-action for a printed (ok = 1) or failed (ok = 0) message. */
static int
post_action(struct poller_session *p, uint32_t uid, int ok, char **errstr)
{
	int flagged_only = 0, r;

	if (!ok) {
		r = imap_move(p->imap, uid, p->a->failed_folder, &flagged_only, errstr);
		if (r == 0)
			log_info("uid %u: moved to \"%s\"%s", uid, p->a->failed_folder,
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

/*
 * Record the message as PRINTED or FAILED, then do its post-action and
 * mark it DONE.  A failing post-action leaves the status for the next pass.
 */
static int
finish_message(struct poller_session *p, const struct state_key *k, int ok, const char *reason,
    char **errstr)
{
	int r;

	if (p->o->dry_run) {
		if (!ok)
			log_info("uid %u: would move it to \"%s\"", k->uid, p->a->failed_folder);
		else if (p->a->after == CONF_AFTER_MOVE)
			log_info("uid %u: would move it to \"%s\"", k->uid, p->a->printed_folder);
		else if (p->a->after == CONF_AFTER_DELETE)
			log_info("uid %u: would delete it", k->uid);
		else
			log_info("uid %u: would mark it \\Seen", k->uid);
		return 0;
	}
	if ((r = state_msg_set(p->st, k, ok ? STATE_MSG_PRINTED : STATE_MSG_FAILED, reason,
	    errstr)) != 0)
		return r;
	if ((r = post_action(p, k->uid, ok, errstr)) != 0)
		return r;
	testhook_point("after-postaction");
	return state_msg_set(p->st, k, STATE_MSG_DONE, reason, errstr);
}

/* A message that cannot print: log why, count it, send it to the failed folder. */
static int
fail_message(struct poller_session *p, const struct state_key *k, const char *reason, char **errstr)
{
	log_warn("uid %u: not printed: %s", k->uid, reason);
	p->sum->failed++;
	return finish_message(p, k, 0, reason, errstr);
}

/*
 * Submit one attachment exactly once.  Returns 0 when it is (now or
 * already) in CUPS.
 */
static int
print_attachment(struct poller_session *p, const struct state_key *k, const struct mime_message *m,
    const struct mime_attachment *at, char **errstr)
{
	struct state_part sp = { 0 };
	struct cups_job_req req = { 0 };
	char nonce[33];
	char *user = NULL;
	int job_id = 0, r;

	if ((r = state_part_get(p->st, k, at->part, &sp, errstr)) != 0)
		goto out;
	if (sp.status == STATE_PART_SUBMITTED) {
		log_info("uid %u: \"%s\" was already printed as job %d; not printing it again",
		    k->uid, at->filename, sp.job_id);
		p->sum->already++;
		goto out;
	}
	if (sp.status == STATE_PART_INTENT) {
		/* A run died between the intent and recording the job: ask CUPS. */
		r = cups_job_find_by_nonce(sp.printer ? sp.printer : p->a->printer, sp.nonce,
		    &job_id, errstr);
		if (r == 0) {
			log_info("uid %u: \"%s\" found in CUPS as job %d from an interrupted run; "
			    "not printing it again", k->uid, at->filename, job_id);
			r = state_part_submitted(p->st, k, at->part, job_id, errstr);
			p->sum->already++;
			goto out;
		}
		if (r != M2C_E_NOTFOUND)
			goto out;
		free(*errstr);	/* not in CUPS: submitting again is right */
		*errstr = NULL;
	}
	if (p->o->dry_run) {
		log_info("uid %u: would print \"%s\" (%s, %lld bytes) on %s", k->uid,
		    at->filename, at->format, (long long)at->size, p->a->printer);
		p->sum->jobs++;
		r = 0;
		goto out;
	}
	if ((r = state_part_intent(p->st, k, at->part, p->a->printer, at->filename, nonce,
	    errstr)) != 0)
		goto out;
	testhook_point("after-intent");
	user = cups_job_user_for_sender(m->from_addr);
	req.printer = p->a->printer;
	req.title = at->filename;
	req.user = user;
	req.nonce = nonce;
	req.path = at->path;
	req.format = at->format;
	if ((r = cups_job_submit(&req, &job_id, errstr)) != 0)
		goto out;
	testhook_point("after-submit");
	if ((r = state_part_submitted(p->st, k, at->part, job_id, errstr)) != 0)
		goto out;
	testhook_point("after-record");
	log_info("uid %u: printed \"%s\" from %s on %s as job %s-%d", k->uid, at->filename,
	    user, p->a->printer, p->a->printer, job_id);
	p->sum->jobs++;
out:
	free(user);
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

/* Fetch, extract, check and print one message. */
static int
process_message(struct poller_session *p, uint32_t uid, char **errstr)
{
	const struct conf *cf = p->cf;
	struct state_key k = { p->a->name, p->a->mailbox, p->uidvalidity, uid };
	struct state_msg sm = { 0 };
	struct mime_limits lim = {
		cf->limits.max_attachment_size, cf->limits.max_parts,
		cf->limits.max_depth, cf->limits.max_attachments,
	};
	struct mime_message *m = NULL;
	char *msgpath = NULL, *reason = NULL, *e = NULL, hash[65];
	off_t size = 0;
	int fd = -1, attempts = 0, decided = 0, r;

	if (p->st != NULL && (r = state_msg_get(p->st, &k, &sm, errstr)) != 0)
		goto out;
	switch (sm.status) {
	case STATE_MSG_PRINTED:
	case STATE_MSG_DONE:
		/* Printed already; only the post-action is missing. */
		log_info("uid %u: already printed; finishing its post-action", uid);
		decided = 1;
		r = finish_message(p, &k, 1, sm.reason, errstr);
		goto out;
	case STATE_MSG_FAILED:
		decided = 1;
		r = finish_message(p, &k, 0, sm.reason, errstr);
		goto out;
	default:
		break;
	}
	if (!p->o->dry_run) {
		if ((r = state_msg_attempt(p->st, &k, &attempts, errstr)) != 0)
			goto out;
		if (attempts > cf->max_attempts) {
			reason = xasprintf("gave up after %d attempts (max_attempts)%s%s",
			    attempts - 1, sm.reason ? "; last error: " : "",
			    sm.reason ? sm.reason : "");
			decided = 1;
			r = fail_message(p, &k, reason, errstr);
			goto out;
		}
	}

	if ((fd = private_tmpfile(p->scratch, SCRATCH_MSG, &msgpath, errstr)) < 0) {
		r = fd;
		goto out;
	}
	r = imap_fetch_message(p->imap, uid, fd, cf->limits.max_message_size, &size, &e);
	if (r == M2C_E_NOTFOUND) {
		log_info("uid %u: gone from the mailbox before it was fetched", uid);
		r = 0;
		goto out;
	}
	if (r == M2C_E_LIMIT) {
		decided = 1;
		r = fail_message(p, &k, e, errstr);
		goto out;
	}
	if (r != 0) {
		*errstr = e, e = NULL;
		goto out;
	}
	p->sum->fetched++;
	testhook_point("after-fetch");

	/* The same message printed before the server changed UIDVALIDITY? */
	if ((r = sha256_fd_hex(fd, hash, errstr)) != 0)
		goto out;
	if (p->st != NULL) {
		uint32_t ouv, ouid;

		r = state_msg_find_printed(p->st, &k, hash, &ouv, &ouid, errstr);
		if (r == 0) {
			log_info("uid %u: this message was printed before, as uid %u when the "
			    "mailbox had UIDVALIDITY %u; not printing it again", uid, ouid, ouv);
			decided = 1;
			r = finish_message(p, &k, 1, "printed before under another UIDVALIDITY",
			    errstr);
			goto out;
		}
		if (r != M2C_E_NOTFOUND)
			goto out;
	}

	r = mime_extract(fd, p->scratch, &lim, &m, &e);
	if (r == M2C_E_DATA || r == M2C_E_LIMIT) {
		decided = 1;
		r = fail_message(p, &k, e, errstr);
		goto out;
	}
	if (r != 0) {
		*errstr = e, e = NULL;
		goto out;
	}
	if (!p->o->dry_run &&
	    (r = state_msg_set_identity(p->st, &k, m->message_id, hash, errstr)) != 0)
		goto out;
	log_info("uid %u: from %s, \"%s\", %lld bytes, %zu attachment(s), %zu printable", uid,
	    m->from_addr ? m->from_addr : "(no address)", m->subject ? m->subject : "",
	    (long long)size, m->natt, m->nprintable);

	if ((r = policy_check_sender(&p->a->allow_senders, m->from_addr, &e)) != 0) {
		decided = 1;
		r = fail_message(p, &k, e, errstr);
		goto out;
	}
	for (size_t i = 0; i < m->natt; i++) {
		if (m->att[i].printable)
			continue;
		p->sum->skipped++;
		/* With nothing printable the failure below gives every reason. */
		if (m->nprintable > 0)
			log_info("uid %u: skipped %s", uid, m->att[i].reason);
	}
	if (m->nprintable == 0) {
		char *why = skipped_reasons(m);
		reason = xasprintf("nothing printable: %s", why);
		free(why);
		decided = 1;
		r = fail_message(p, &k, reason, errstr);
		goto out;
	}
	for (size_t i = 0; i < m->natt; i++) {
		if (!m->att[i].printable)
			continue;
		if ((r = print_attachment(p, &k, m, &m->att[i], errstr)) != 0)
			goto out;
	}
	decided = 1;
	r = finish_message(p, &k, 1, NULL, errstr);
out:
	/* A failure before the verdict is remembered as the last error. */
	if (r != 0 && !decided && p->st != NULL && !p->o->dry_run && errstr && *errstr)
		(void)state_msg_set(p->st, &k, STATE_MSG_ACTIVE, *errstr, NULL);
	mime_message_free(&m);
	if (fd >= 0)
		close(fd);
	if (msgpath)
		unlink(msgpath);
	free(msgpath);
	free(reason);
	free(e);
	state_msg_clear(&sm);
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
			    printed ? "printed" : "refused");
			r = finish_message(p, &k, printed, sm.reason, errstr);
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
}

int
poller_session_open(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o, struct poller_session **out, char **errstr)
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
	if ((r = mkdir_p(p->scratch, 0700, errstr)) != 0)
		goto out;
	if ((r = poller_open_session(cf, a, &p->imap, errstr)) != 0)
		goto out;
	if ((r = poller_select(p->imap, a, &p->uidvalidity, &exists, errstr)) != 0)
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

int
poller_session_process(struct poller_session *p, struct poller_summary *sum,
    int (*stop)(void *arg), void *arg, char **errstr)
{
	uint32_t *uids = NULL;
	size_t nuids = 0;
	int r;

	memset(sum, 0, sizeof(*sum));
	p->sum = sum;
	if ((r = reconcile(p, errstr)) != 0 ||
	    (r = imap_search_unseen(p->imap, &uids, &nuids, errstr)) != 0)
		goto out;
	log_debug("%s: %zu unseen", p->a->mailbox, nuids);
	for (size_t i = 0; i < nuids && !(stop && stop(arg)); i++) {
		char *e = NULL;

		r = process_message(p, uids[i], &e);
		if (r == 0)
			continue;
		if (m2c_err_is_temporary(r) || r == M2C_E_NOTFOUND) {
			/* CUPS or the connection is in trouble: stop this pass. */
			log_error("uid %u: %s; it stays unseen and is tried again next time",
			    uids[i], e ? e : m2c_err_name(r));
			free(*errstr);
			*errstr = e;
			goto out;
		}
		log_error("uid %u: %s", uids[i], e ? e : m2c_err_name(r));
		free(e);
		r = 0;
	}
out:
	p->sum = NULL;
	free(uids);
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
	imap_close(&p->imap);
	free(p->scratch);
	free(p);
	*s = NULL;
}

int
poller_once_account(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o, struct poller_summary *sum, char **errstr)
{
	struct poller_session *s = NULL;
	int r;

	memset(sum, 0, sizeof(*sum));
	log_set_account(a->name);
	if ((r = poller_session_open(cf, a, st, o, &s, errstr)) == 0)
		r = poller_session_process(s, sum, NULL, NULL, errstr);
	poller_session_close(&s, r == 0);
	log_set_account(NULL);
	return r;
}
