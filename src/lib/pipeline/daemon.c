/* daemon.c - the supervisor and its per-account workers; see daemon.h. */
#include "m2c-config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon.h"
#include "error.h"
#include "imap.h"
#include "log.h"
#include "mime.h"
#include "poller.h"
#include "signin.h"
#include "state.h"
#include "status.h"
#include "util.h"

/* ------------------------------------------------------------------ worker */

static volatile sig_atomic_t worker_stop;

static void
worker_on_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static int
worker_stopping(void *arg)
{
	(void)arg;
	return worker_stop;
}

/* Sleep ms, waking early (within 250 ms) when told to stop. */
static void
worker_sleep(long long ms)
{
	long long end = monotonic_ms() + ms;

	while (!worker_stop) {
		long long left = end - monotonic_ms();

		if (left <= 0)
			break;
		(void)poll(NULL, 0, left > 250 ? 250 : (int)left);
	}
}

/* 1 s doubling per failure up to max_s, with +-20 % jitter. */
static long long
backoff_ms(int failures, int max_s)
{
	long long d = 1000LL << (failures < 20 ? failures : 20);

	if (d > max_s * 1000LL)
		d = max_s * 1000LL;
	return d * (80 + random() % 41) / 100;
}

/* Store the outcome of a pass or a failure for `mail2cups status`. */
static void
worker_record(struct state *st, const struct conf *cf, const struct conf_account *a, int r,
    const char *msg)
{
	char *e = NULL;

	if (status_record(st, cf, a, r, msg, time(NULL), &e) != 0)
		log_warn("cannot record the outcome for mail2cups status: %s",
		    e ? e : "unknown error");
	free(e);
}

/*
 * The account needs a person to sign in (no tokens, or its refresh token
 * expired or was revoked): run the device flow from here, showing the code
 * in the log and in `mail2cups status`, with a fresh code whenever one
 * expires, until someone signs in (here or with mail2cups-oauth login).
 */
static void
worker_sign_in(struct state *st, const struct conf *cf, const struct conf_account *a,
    int r, char **e)
{
	int done = 0, wait_s = 5;

	/* The stored tokens cannot be refreshed: they are of no use now. */
	if (signin_forget_tokens(cf, a, e) != 0) {
		log_error("%s", *e);
		free(*e);
		*e = NULL;
	}
	while (!worker_stop && !done) {
		if ((r = signin_device_step(cf, a, &done, &wait_s, e)) != 0) {
			log_error("%s", *e ? *e : m2c_err_name(r));
			if (wait_s < 5)
				wait_s = 5;
		}
		worker_record(st, cf, a, r ? r : M2C_E_AUTH, *e ? *e :
		    SIGNIN_REQUIRED ": waiting for someone to sign in");
		free(*e);
		*e = NULL;
		if (!done)
			worker_sleep(wait_s * 1000LL);
	}
}

/*
 * Serve one account until SIGTERM: a session, its unseen mail, then IDLE
 * (or NOOP every poll_interval) and again; reconnect after failures.
 */
static int
worker_main(const struct conf *cf, const struct conf_account *a)
{
	struct poller_opts o = { 0 };
	struct state *st = NULL;
	char *e = NULL;
	int failures = 0, r;

	log_set_account(a->name);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	if ((r = state_open(cf->state_dir, &st, &e)) != 0 || (r = mime_init(&e)) != 0) {
		log_error("%s", e ? e : m2c_err_name(r));
		free(e);
		state_close(&st);
		return m2c_err_exit_code(r);
	}
	log_info("serving %s on %s:%d for queue %s", a->mailbox, a->host, a->port, a->printer);
	while (!worker_stop) {
		struct poller_session *s = NULL;

		r = poller_session_open(cf, a, st, &o, &s, &e);
		while (r == 0 && !worker_stop) {
			struct poller_summary sum;
			int changed = 0, idle_s;

			if ((r = poller_session_process(s, &sum, worker_stopping, NULL, &e)) != 0)
				break;
			worker_record(st, cf, a, 0, NULL);
			failures = 0;
			if (sum.fetched || sum.failed)
				log_info("%d fetched, %d jobs, %d skipped, %d failed", sum.fetched,
				    sum.jobs, sum.skipped, sum.failed);
			if (worker_stop)
				break;
			/* Replies wait for jobs to complete: look again sooner. */
			idle_s = sum.replies_waiting && a->poll_interval < cf->idle_interval ?
			    a->poll_interval : cf->idle_interval;
			/* The pass is over: tests wait for this line, not for time. */
			log_debug("idle: waiting for new mail (at most %d s)", idle_s);
			r = imap_idle(poller_session_imap(s), idle_s * 1000, worker_stopping, NULL,
			    &changed, &e);
			if (r == M2C_E_NOTSUP) {
				/* No IDLE here: poll. */
				free(e);
				e = NULL;
				worker_sleep(a->poll_interval * 1000LL);
				if (!worker_stop)
					r = imap_noop(poller_session_imap(s), &changed, &e);
				else
					r = 0;
			}
		}
		poller_session_close(&s, r == 0);
		if (worker_stop)
			break;
		if (r == M2C_E_AUTH && conf_account_is_oauth(a) && a->oauth.flow == CONF_FLOW_DEVICE &&
		    e != NULL && strstr(e, SIGNIN_REQUIRED) != NULL) {
			log_warn("%s", e);
			free(e);
			e = NULL;
			worker_sign_in(st, cf, a, r, &e);
			failures = 0;
			continue;
		}
		worker_record(st, cf, a, r, e);
		{
			long long delay = backoff_ms(failures++, cf->backoff_max);

			log_error("%s; trying again in %lld.%lld s", e ? e : m2c_err_name(r),
			    delay / 1000, delay % 1000 / 100);
			free(e);
			e = NULL;
			worker_sleep(delay);
		}
	}
	log_info("stopped");
	free(e);
	state_close(&st);
	mime_shutdown();
	return 0;
}

/* -------------------------------------------------------------- supervisor */

struct worker {
	char *name;		/* owned: the account */
	char *digest;		/* owned: conf_account_digest of what it runs */
	pid_t pid;		/* 0: not running */
	int failures;		/* unexpected exits in a row */
	long long start_at;	/* monotonic ms: (re)start not before */
	int retire;		/* the account is gone: do not restart */
	int renew;		/* its settings changed: restart at once */
};

struct super {
	const char *path;
	struct conf *cf;	/* owned by the caller (through daemon_run's cf) */
	struct worker *w;	/* owned */
	size_t nw;
	sigset_t oldmask;
	int stopping;
};

static void
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	(void)sd_notify(0, state);
#else
	(void)state;
#endif
}

static void
worker_add(struct super *sv, const struct conf_account *a)
{
	struct worker *w;

	sv->w = xreallocarray(sv->w, sv->nw + 1, sizeof(*sv->w));
	w = &sv->w[sv->nw++];
	memset(w, 0, sizeof(*w));
	w->name = xstrdup(a->name);
	w->digest = conf_account_digest(sv->cf, a);
}

static void
worker_spawn(struct super *sv, struct worker *w)
{
	const struct conf_account *a = conf_account_find(sv->cf, w->name);
	pid_t pid;

	if (a == NULL)
		return;
	pid = fork();
	if (pid < 0) {
		log_error("cannot start the worker for %s: %s; trying again soon", w->name,
		    strerror(errno));
		w->start_at = monotonic_ms() + 5000;
		return;
	}
	if (pid == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = worker_on_term;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, &sv->oldmask, NULL);
		_exit(worker_main(sv->cf, a));
	}
	w->pid = pid;
	w->renew = 0;
}

static struct worker *
worker_by_pid(struct super *sv, pid_t pid)
{
	for (size_t i = 0; i < sv->nw; i++)
		if (sv->w[i].pid == pid)
			return &sv->w[i];
	return NULL;
}

static void
worker_drop(struct super *sv, struct worker *w)
{
	free(w->name);
	free(w->digest);
	*w = sv->w[--sv->nw];
}

/* Collect exited workers; schedule restarts for the ones that crashed. */
static void
reap(struct super *sv)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct worker *w = worker_by_pid(sv, pid);

		if (w == NULL)
			continue;
		w->pid = 0;
		if (w->retire) {
			log_info("%s: removed", w->name);
			worker_drop(sv, w);
		} else if (w->renew || sv->stopping) {
			w->start_at = 0;
		} else {
			long long delay = backoff_ms(w->failures++, sv->cf->backoff_max);

			if (WIFSIGNALED(status))
				log_error("%s: the worker was killed by signal %d; restarting it in "
				    "%lld s", w->name, WTERMSIG(status), delay / 1000);
			else
				log_error("%s: the worker exited with status %d; restarting it in "
				    "%lld s", w->name, WEXITSTATUS(status), delay / 1000);
			w->start_at = monotonic_ms() + delay;
		}
	}
}

/* SIGHUP: load the file again; restart only the workers that changed. */
static void
reload(struct super *sv)
{
	struct conf *nc = NULL;
	char *e = NULL;
	int r;

	notify("RELOADING=1");
	if ((r = conf_load(sv->path, &nc, &e)) != 0) {
		log_error("reload refused, the running configuration is kept:");
		/* One log line per problem (a log line holds no newline). */
		for (char *line = e, *next; line != NULL && *line != '\0'; line = next) {
			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			log_error("reload refused: %s", line);
		}
		if (e == NULL)
			log_error("reload refused: %s", m2c_err_name(r));
		free(e);
		notify("READY=1");
		return;
	}
	if (strcmp(nc->state_dir, sv->cf->state_dir) != 0)
		log_warn("state_dir changed: restart mail2cups for that to take effect");
	for (size_t i = 0; i < sv->nw; i++) {
		struct worker *w = &sv->w[i];
		const struct conf_account *a = conf_account_find(nc, w->name);
		char *d;

		if (a == NULL) {
			w->retire = 1;
		} else if (strcmp((d = conf_account_digest(nc, a)), w->digest) != 0) {
			free(w->digest);
			w->digest = d, d = NULL;
			w->renew = 1;
			w->failures = 0;
			log_info("%s: settings changed; restarting its worker", w->name);
		} else {
			free(d);
		}
		if ((w->retire || w->renew) && w->pid > 0)
			kill(w->pid, SIGTERM);
	}
	/* Drop retired workers that are not running; add new accounts. */
	for (size_t i = sv->nw; i-- > 0;)
		if (sv->w[i].retire && sv->w[i].pid == 0)
			worker_drop(sv, &sv->w[i]);
	conf_free(&sv->cf);
	sv->cf = nc;
	log_set_level(nc->log_level);
	for (size_t i = 0; i < nc->naccounts; i++) {
		int known = 0;

		for (size_t j = 0; j < sv->nw; j++)
			known |= strcmp(sv->w[j].name, nc->accounts[i].name) == 0;
		if (!known) {
			log_info("%s: new account", nc->accounts[i].name);
			worker_add(sv, &nc->accounts[i]);
		}
	}
	log_info("configuration reloaded: %zu account(s)", nc->naccounts);
	notify("READY=1");
}

/* Start the workers that are due; the ms until the next one is (or -1). */
static long long
start_due(struct super *sv)
{
	long long now = monotonic_ms(), next = -1;

	for (size_t i = 0; i < sv->nw; i++) {
		struct worker *w = &sv->w[i];

		if (w->pid != 0 || w->retire)
			continue;
		if (w->start_at <= now)
			worker_spawn(sv, w);
		if (w->pid == 0 && (next < 0 || w->start_at - now < next))
			next = w->start_at - now;
	}
	return next;
}

static int
live_workers(const struct super *sv)
{
	int n = 0;

	for (size_t i = 0; i < sv->nw; i++)
		n += sv->w[i].pid != 0;
	return n;
}

/* SIGTERM every worker; wait for them, then SIGKILL what is left. */
static void
stop_all(struct super *sv, sigset_t *set)
{
	long long deadline = monotonic_ms() + sv->cf->shutdown_timeout * 1000LL;

	notify("STOPPING=1");
	for (size_t i = 0; i < sv->nw; i++)
		if (sv->w[i].pid > 0)
			kill(sv->w[i].pid, SIGTERM);
	while (live_workers(sv) > 0) {
		long long left = deadline - monotonic_ms();
		struct timespec ts;

		if (left <= 0) {
			for (size_t i = 0; i < sv->nw; i++) {
				if (sv->w[i].pid > 0) {
					log_warn("%s: no exit after %d s; killing it", sv->w[i].name,
					    sv->cf->shutdown_timeout);
					kill(sv->w[i].pid, SIGKILL);
				}
			}
			deadline = monotonic_ms() + 5000;
			left = 5000;
		}
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		(void)sigtimedwait(set, NULL, &ts);
		reap(sv);
	}
}

int
daemon_run(const char *path, struct conf **cf, char **errstr)
{
	struct super sv;
	sigset_t set;

	(void)errstr;
	memset(&sv, 0, sizeof(sv));
	sv.path = path;
	sv.cf = *cf;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Signals are taken synchronously (sigtimedwait): no handler races. */
	sigprocmask(SIG_BLOCK, &set, &sv.oldmask);
	signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < sv.cf->naccounts; i++)
		worker_add(&sv, &sv.cf->accounts[i]);
	log_info("mail2cups %s running: %zu account(s)", PACKAGE_VERSION, sv.nw);
	notify("READY=1");

	while (!sv.stopping) {
		long long next = start_due(&sv);
		struct timespec ts;
		int sig;

		if (next < 0 || next > 60000)
			next = 60000;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000L;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGCHLD)
			reap(&sv);
		else if (sig == SIGHUP)
			reload(&sv);
		else if (sig == SIGTERM || sig == SIGINT)
			sv.stopping = 1;
	}
	log_info("stopping");
	stop_all(&sv, &set);
	while (sv.nw > 0)
		worker_drop(&sv, &sv.w[0]);
	free(sv.w);
	*cf = sv.cf;
	sigprocmask(SIG_SETMASK, &sv.oldmask, NULL);
	log_info("stopped");
	return 0;
}
