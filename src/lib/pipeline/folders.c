/* folders.c - a Print folder for every user; see folders.h. */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#include "error.h"
#include "folders.h"
#include "imap.h"
#include "log.h"
#include "summary.h"
#include "util.h"

#define FOLDERS_RETRY_FIRST_MS	2000	/* first back-off after a temporary failure */

/* One user's session. */
struct fsession {
	char *user;			/* owned */
	struct conf_account acct;	/* folders_user_account(a, user): the session's */
	struct poller_session *s;	/* owned */
	long long used_at;		/* monotonic ms of its last pass */
};

/* A user whose last pass failed temporarily: tried again at retry_at. */
struct fretry {
	char *user;			/* owned */
	long long retry_at;		/* monotonic ms */
	int failures;
};

struct folders {
	const struct conf *cf;		/* foreign */
	const struct conf_account *a;	/* foreign */
	struct state *st;		/* foreign */
	const struct poller_opts *o;	/* foreign */
	struct fsession **sess;		/* owned; each allocated (the poller keeps &acct) */
	size_t nsess;
	struct fretry *retry;		/* owned */
	size_t nretry;
};

struct folders *
folders_new(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o)
{
	struct folders *f = xcalloc(1, sizeof(*f));

	f->cf = cf;
	f->a = a;
	f->st = st;
	f->o = o;
	return f;
}

void
folders_user_account(const struct conf_account *a, const char *user, struct conf_account *out)
{
	*out = *a;
	out->username = (char *)user;
}

size_t
folders_open_count(const struct folders *f)
{
	return f->nsess;
}

/* "office/alice": the log's account while a user's folder is served. */
static void
log_user(const struct folders *f, const char *user)
{
	char *name = user ? xasprintf("%s/%s", f->a->name, user) : NULL;

	log_set_account(name ? name : f->a->name);
	free(name);
}

static struct fsession *
session_find(struct folders *f, const char *user, size_t *at)
{
	for (size_t i = 0; i < f->nsess; i++)
		if (strcmp(f->sess[i]->user, user) == 0) {
			*at = i;
			return f->sess[i];
		}
	return NULL;
}

/* Close session i (LOGOUT when logout) and drop it; why is for the log. */
static void
session_close(struct folders *f, size_t i, int logout, const char *why)
{
	struct fsession *fs = f->sess[i];

	log_user(f, fs->user);
	poller_session_close(&fs->s, logout);
	log_info("session closed (%s)", why);
	log_user(f, NULL);
	free(fs->user);
	free(fs);
	f->sess[i] = f->sess[--f->nsess];
}

/* Room for one more session: close the one unused longest when full. */
static void
make_room(struct folders *f)
{
	size_t lru = 0;

	if (f->nsess < (size_t)f->a->max_sessions)
		return;
	for (size_t i = 1; i < f->nsess; i++)
		if (f->sess[i]->used_at < f->sess[lru]->used_at)
			lru = i;
	session_close(f, lru, 1, "max_sessions are open: it was unused longest");
}

/* Open a session for user's folder (SELECT done) into *out. */
static int
session_open(struct folders *f, const char *user, struct fsession **out, enum m2c_step *step,
    char **errstr)
{
	struct fsession *fs = xcalloc(1, sizeof(*fs));
	int r;

	*out = NULL;
	make_room(f);
	log_user(f, user);
	fs->user = xstrdup(user);
	folders_user_account(f->a, fs->user, &fs->acct);
	if ((r = poller_session_open(f->cf, &fs->acct, f->st, f->o, &fs->s, step,
	    errstr)) != 0) {
		free(fs->user);
		free(fs);
		return r;
	}
	log_info("session opened as %s (master user %s)", user, f->a->login_user);
	f->sess = xreallocarray(f->sess, f->nsess + 1, sizeof(*f->sess));
	f->sess[f->nsess++] = fs;
	*out = fs;
	return 0;
}

/* Forget user's pending retry, if any. */
static void
retry_drop(struct folders *f, const char *user)
{
	for (size_t i = 0; i < f->nretry; i++)
		if (strcmp(f->retry[i].user, user) == 0) {
			free(f->retry[i].user);
			f->retry[i] = f->retry[--f->nretry];
			return;
		}
}

/* user's pass failed temporarily: try again after a doubling back-off. */
static void
retry_add(struct folders *f, const char *user)
{
	struct fretry *fr = NULL;
	long long d;

	for (size_t i = 0; i < f->nretry && fr == NULL; i++)
		if (strcmp(f->retry[i].user, user) == 0)
			fr = &f->retry[i];
	if (fr == NULL) {
		f->retry = xreallocarray(f->retry, f->nretry + 1, sizeof(*f->retry));
		fr = &f->retry[f->nretry++];
		memset(fr, 0, sizeof(*fr));
		fr->user = xstrdup(user);
	}
	d = (long long)FOLDERS_RETRY_FIRST_MS << (fr->failures < 16 ? fr->failures : 16);
	if (d > f->cf->backoff_max * 1000LL)
		d = f->cf->backoff_max * 1000LL;
	fr->failures++;
	fr->retry_at = monotonic_ms() + d;
}

/*
 * A pass over user's folder; keep: leave a new session open afterwards
 * (an open one always stays open).
 */
static int
serve(struct folders *f, const char *user, int keep, struct poller_summary *sum,
    int (*stop)(void *arg), void *arg, enum m2c_step *step, char **errstr)
{
	struct fsession *fs;
	size_t at = 0;
	int changed = 0, existed, r = 0;

	memset(sum, 0, sizeof(*sum));
	log_user(f, user);
	fs = session_find(f, user, &at);
	existed = fs != NULL;
	/* A kept session sees the new mail once a command syncs its mailbox. */
	if (fs != NULL && (r = imap_noop(poller_session_imap(fs->s), &changed, errstr)) != 0) {
		log_info("the session ended (%s); opening a new one", *errstr ? *errstr : "");
		free(*errstr);
		*errstr = NULL;
		session_close(f, at, 0, "it ended");
		log_user(f, user);
		fs = NULL;
		existed = 0;
	}
	if (fs == NULL && (r = session_open(f, user, &fs, step, errstr)) != 0)
		goto failed;
	r = poller_session_process(fs->s, sum, stop, arg, step, errstr);
	session_find(f, user, &at);
	if (r != 0) {
		session_close(f, at, 0, "its pass failed");
		goto failed;
	}
	fs->used_at = monotonic_ms();
	retry_drop(f, user);
	if (sum->fetched > 0 || sum->failed > 0) {
		char *words = poller_summary_words(sum, f->o->dry_run), *e = NULL;

		log_info("%s", words);
		free(words);
		/* Mail was there: the safety pass looks at this user from now on. */
		if (!f->o->dry_run && state_folder_user_used(f->st, f->a->name, user, &e) != 0)
			log_warn("cannot remember %s for the safety pass: %s", user,
			    e ? e : "unknown error");
		free(e);
	}
	if (!keep && !existed)
		session_close(f, at, 1, "safety pass done");
	log_user(f, NULL);
	return 0;
failed:
	if (m2c_err_is_temporary(r))
		retry_add(f, user);
	log_user(f, NULL);
	return r;
}

int
folders_wake(struct folders *f, const char *user, struct poller_summary *sum,
    int (*stop)(void *arg), void *arg, enum m2c_step *step, char **errstr)
{
	return serve(f, user, 1, sum, stop, arg, step, errstr);
}

/* Add b's counts to a. */
static void
sum_add(struct poller_summary *a, const struct poller_summary *b)
{
	a->fetched += b->fetched;
	a->jobs += b->jobs;
	a->skipped += b->skipped;
	a->failed += b->failed;
	a->already += b->already;
	a->replies_waiting += b->replies_waiting;
	a->left += b->left;
}

/* Nonzero when name is one of the first n of v. */
static int
listed(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/* The server says user cannot be signed in for (imap_login_as): gone. */
static void
forget_user(struct folders *f, const char *user)
{
	char *e = NULL;

	log_info("%s: no longer looked at by the safety pass: the server will not sign in as "
	    "this user", user);
	if (f->st != NULL && state_folder_user_forget(f->st, f->a->name, user, &e) != 0)
		log_warn("%s", e ? e : "cannot forget a user");
	free(e);
}

int
folders_safety_pass(struct folders *f, struct poller_summary *total,
    int (*stop)(void *arg), void *arg, enum m2c_step *step, char **errstr)
{
	struct state_names known = { 0 };
	char **users = NULL, *e = NULL;
	size_t n = 0;
	int r, last = 0;

	memset(total, 0, sizeof(*total));
	if (f->st != NULL && (r = state_folder_users(f->st, f->a->name, &known, errstr)) != 0)
		return r;
	users = xreallocarray(NULL, known.n + f->a->folder_users.n + 1, sizeof(*users));
	for (size_t i = 0; i < f->a->folder_users.n; i++)
		if (!listed(users, n, f->a->folder_users.v[i]))
			users[n++] = f->a->folder_users.v[i];
	for (size_t i = 0; i < known.n; i++)
		if (!listed(users, n, known.v[i]))
			users[n++] = known.v[i];
	log_debug("safety pass over %zu users' %s folders", n, f->a->mailbox);
	for (size_t i = 0; i < n && !(stop && stop(arg)); i++) {
		struct poller_summary sum;

		r = serve(f, users[i], 0, &sum, stop, arg, step, &e);
		sum_add(total, &sum);
		if (r == 0)
			continue;
		log_user(f, users[i]);
		log_error("%s", e ? e : m2c_err_name(r));
		log_user(f, NULL);
		if (r == M2C_E_REFUSED && !listed(f->a->folder_users.v, f->a->folder_users.n,
		    users[i]))
			forget_user(f, users[i]);
		else if (!folders_user_error(r, *step)) {
			/* Not about this user (the server, the master user, CUPS). */
			free(*errstr);
			*errstr = e, e = NULL;
			last = r;
		}
		free(e);
		e = NULL;
	}
	state_names_free(&known);
	free(users);
	return last;
}

int
folders_user_error(int r, enum m2c_step step)
{
	return r == M2C_E_REFUSED || step == M2C_STEP_MAILBOX;
}

long long
folders_tick(struct folders *f, int (*stop)(void *arg), void *arg)
{
	long long now = monotonic_ms(), next = -1, idle_ms = f->a->session_timeout * 1000LL;
	size_t open = f->nsess;

	for (size_t i = f->nsess; i-- > 0;) {
		long long at = f->sess[i]->used_at + idle_ms;

		if (at <= now) {
			char why[64];

			snprintf(why, sizeof(why), "unused for %d s", f->a->session_timeout);
			session_close(f, i, 1, why);
		} else if (next < 0 || at - now < next) {
			next = at - now;
		}
	}
#ifdef __GLIBC__
	/* The last session closed: give the memory of the sessions (about
	 * 1 MB each, bench/print-folders.sh) back, so idle costs nothing. */
	if (open > 0 && f->nsess == 0)
		(void)malloc_trim(0);
#endif
	for (size_t i = 0; i < f->nretry && !(stop && stop(arg));) {
		struct poller_summary sum;
		enum m2c_step step = M2C_STEP_IMAP;
		char *user, *e = NULL;
		size_t before = f->nretry;
		int r;

		if (f->retry[i].retry_at > now) {
			if (next < 0 || f->retry[i].retry_at - now < next)
				next = f->retry[i].retry_at - now;
			i++;
			continue;
		}
		user = xstrdup(f->retry[i].user);
		if ((r = serve(f, user, 1, &sum, stop, arg, &step, &e)) != 0) {
			log_user(f, user);
			log_error("%s; trying again later", e ? e : m2c_err_name(r));
			log_user(f, NULL);
		}
		if (r != 0 && !m2c_err_is_temporary(r))
			retry_drop(f, user);
		free(user);
		free(e);
		/* serve dropped it (done) or moved its time on: look again from 0. */
		i = f->nretry < before || r != 0 ? 0 : i + 1;
		now = monotonic_ms();
	}
	return next;
}

void
folders_free(struct folders **fp)
{
	struct folders *f;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	while (f->nsess > 0)
		session_close(f, f->nsess - 1, 1, "stopping");
	for (size_t i = 0; i < f->nretry; i++)
		free(f->retry[i].user);
	free(f->retry);
	free(f->sess);
	free(f);
	*fp = NULL;
}

int
folders_pass(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct poller_opts *o, struct poller_summary *sum, enum m2c_step *step,
    char **errstr)
{
	struct folders *f = folders_new(cf, a, st, o);
	int r = folders_safety_pass(f, sum, NULL, NULL, step, errstr);

	folders_free(&f);
	return r;
}
