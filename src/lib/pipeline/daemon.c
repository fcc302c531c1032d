/* daemon.c - the supervisor and its per-account workers; see daemon.h. */
#include "m2c-config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "advice.h"
#include "cupsjob.h"
#include "daemon.h"
#include "error.h"
#include "folders.h"
#include "imap.h"
#include "lock.h"
#include "log.h"
#include "mime.h"
#include "poller.h"
#include "summary.h"
#include "signin.h"
#include "state.h"
#include "status.h"
#include "util.h"
#include "wakesock.h"

/* ------------------------------------------------------------------ worker */

static volatile sig_atomic_t worker_stop;
/* SIGUSR1 from the supervisor: the Dovecot plugin says mail came (wake.h). */
static volatile sig_atomic_t worker_woken;

static void
worker_on_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static void
worker_on_wake(int sig)
{
	(void)sig;
	worker_woken = 1;
}

/* IDLE ends early for a wake-up too (imap_idle's stop callback). */
static int
worker_idle_stop(void *arg)
{
	(void)arg;
	return worker_stop || worker_woken;
}

static pid_t worker_parent;	/* the supervisor that started this worker */
/* print_folders: where the supervisor sends the users to wake (a datagram each). */
static int worker_wake_fd = -1;

/* Told to stop, or orphaned (the supervisor died: PR_SET_PDEATHSIG's signal may race). */
static int
worker_stopping(void *arg)
{
	(void)arg;
	if (!worker_stop && getppid() != worker_parent)
		worker_stop = 1;
	return worker_stop;
}

static void
worker_waiting(pid_t holder, const char *who, void *arg)
{
	(void)holder;
	(void)arg;
	log_info("waiting for %s to let go of the account (it finishes the message "
	    "in hand first)", who);
}

/*
 * Sleep ms, waking early when told to stop and, when wakeable, when woken
 * (SIGUSR1 is blocked between the check and the wait, so no wake-up is
 * missed: ppoll unblocks it atomically).
 */
static void
worker_sleep(long long ms, int wakeable)
{
	long long end = monotonic_ms() + ms;
	sigset_t usr1, waiting;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &waiting);
	sigdelset(&waiting, SIGUSR1);
	while (!worker_stop && !(wakeable && worker_woken)) {
		long long left = end - monotonic_ms();
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > 250)
			left = 250;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		(void)ppoll(NULL, 0, &ts, &waiting);
	}
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
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
    enum m2c_step step, const char *msg)
{
	char *e = NULL;

	if (status_record(st, cf, a, r, step, msg, time(NULL), &e) != 0)
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
		worker_record(st, cf, a, r ? r : M2C_E_SIGNIN, M2C_STEP_SIGNIN, *e);
		free(*e);
		*e = NULL;
		if (!done)
			worker_sleep(wait_s * 1000LL, 0);
	}
}

/*
 * Wait up to ms for worker_wake_fd to be readable, or until told to stop
 * (ppoll unblocks SIGTERM atomically; at most 250 ms at a time besides).
 */
static void
worker_wait_wake(long long ms)
{
	long long end = monotonic_ms() + ms;

	while (!worker_stop) {
		long long left = end - monotonic_ms();
		struct pollfd p = { worker_wake_fd, POLLIN, 0 };

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)(left > 250 ? 250 : left)) > 0)
			break;
	}
}

/* After a print_folders pass: the outcome for mail2cups status, errors logged. */
static void
folders_outcome(struct state *st, const struct conf *cf, const struct conf_account *a,
    const char *user, int r, enum m2c_step step, const char *e)
{
	char *fix, *msg;

	if (r == 0) {
		worker_record(st, cf, a, 0, step, NULL);
		return;
	}
	msg = user ? xasprintf("%s: %s", user, e ? e : m2c_err_name(r)) :
	    xstrdup(e ? e : m2c_err_name(r));
	if (folders_user_error(r, step)) {
		/* One user's trouble (or a wake-up naming nobody): not the account's. */
		log_warn("%s", msg);
	} else {
		fix = advice_fix(cf, a, step, r);
		log_error("%s", msg);
		log_error("fix: %s", fix);
		worker_record(st, cf, a, r, step, msg);
		free(fix);
	}
	free(msg);
}

/*
 * Serve a print_folders account until SIGTERM (folders.h): the safety pass
 * at start and every poll_interval, a pass over a user's folder for each
 * user the supervisor sends, idle sessions closed on time.
 */
static void
worker_folders(struct state *st, const struct conf *cf, const struct conf_account *a)
{
	struct poller_opts o = { 0 };
	struct folders *f = folders_new(cf, a, st, &o);
	long long safety_at = 0;

	while (!worker_stop) {
		struct poller_summary sum;
		enum m2c_step step = M2C_STEP_IMAP;
		char user[WAKE_MAX_USER + 1], *e = NULL;
		long long wait, due;
		ssize_t n;
		int r;

		if (monotonic_ms() >= safety_at) {
			r = folders_safety_pass(f, &sum, worker_stopping, NULL, &step, &e);
			folders_outcome(st, cf, a, NULL, r, step, e);
			free(e);
			e = NULL;
			safety_at = monotonic_ms() + a->poll_interval * 1000LL;
		}
		while (!worker_stop && (n = recv(worker_wake_fd, user, sizeof(user) - 1,
		    MSG_DONTWAIT)) > 0) {
			user[n] = '\0';
			step = M2C_STEP_IMAP;
			r = folders_wake(f, user, &sum, worker_stopping, NULL, &step, &e);
			folders_outcome(st, cf, a, user, r, step, e);
			free(e);
			e = NULL;
		}
		due = folders_tick(f, worker_stopping, NULL);
		wait = safety_at - monotonic_ms();
		if (due >= 0 && due < wait)
			wait = due;
		/* Tests wait for this line, not for time. */
		log_debug("print folders: %zu session(s) open; waiting for wake-ups",
		    folders_open_count(f));
		worker_wait_wake(wait);
	}
	folders_free(&f);
}

/*
 * Serve one account until SIGTERM: a session, its unseen mail, then IDLE
 * (or NOOP every poll_interval) and again; reconnect after failures.  With
 * idle = false no session is kept: a pass, then the session is closed until
 * a wake-up (SIGUSR1) or poll_interval, the safety poll.
 */
static int
worker_main(const struct conf *cf, const struct conf_account *a)
{
	struct poller_opts o = { 0 };
	struct state *st = NULL;
	enum m2c_step step = M2C_STEP_IMAP;
	struct lock *lk = NULL;
	char *e = NULL, *fix;
	int failures = 0, r;

	log_set_account(a->name);
	/*
	 * The CUPS server of the configuration this worker runs: the
	 * supervisor may have forked it after a reload changed cups_server.
	 */
	cups_job_set_server(cf->cups_server);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	/* One process per account: a worker of an earlier daemon may still be
	 * finishing its message; its exit is what we wait for. */
	if ((r = lock_account_wait(cf->state_dir, a->name, LOCK_ROLE_WORKER, worker_stopping,
	    worker_waiting, NULL, &lk, &e)) != 0) {
		if (worker_stop)
			r = 0;
		else
			log_error("%s", e ? e : m2c_err_name(r));
		free(e);
		return m2c_err_exit_code(r);
	}
	if ((r = state_open(cf->state_dir, &st, &e)) != 0 || (r = mime_init(&e)) != 0) {
		log_error("%s", e ? e : m2c_err_name(r));
		free(e);
		state_close(&st);
		lock_release(&lk);
		return m2c_err_exit_code(r);
	}
	log_info("serving %s%s on %s:%d for queue %s", a->print_folders ? "every user's " : "",
	    a->mailbox, a->host, a->port, a->printer);
	if (a->print_folders)
		worker_folders(st, cf, a);
	while (!worker_stop) {
		struct poller_session *s = NULL;

		r = poller_session_open(cf, a, st, &o, &s, &step, &e);
		while (r == 0 && !worker_stop) {
			struct poller_summary sum;
			int changed = 0, idle_s;

			worker_woken = 0;
			if ((r = poller_session_process(s, &sum, worker_stopping, NULL, &step,
			    &e)) != 0)
				break;
			worker_record(st, cf, a, 0, step, NULL);
			failures = 0;
			if (sum.fetched || sum.failed) {
				char *words = poller_summary_words(&sum, 0);

				log_info("%s", words);
				free(words);
			}
			if (worker_stop || !a->idle)
				break;
			/* Replies wait for jobs to complete: look again sooner. */
			step = M2C_STEP_MAILBOX;
			idle_s = sum.replies_waiting && a->poll_interval < cf->idle_interval ?
			    a->poll_interval : cf->idle_interval;
			/* The pass is over: tests wait for this line, not for time. */
			log_debug("idle: waiting for new mail (at most %d s)", idle_s);
			r = imap_idle(poller_session_imap(s), idle_s * 1000, worker_idle_stop, NULL,
			    &changed, &e);
			/*
			 * A wake-up can come before Dovecot's IDLE has seen the new mail;
			 * until a command syncs the mailbox, a SEARCH would miss it.
			 */
			if (r == 0 && worker_woken && !worker_stop)
				r = imap_noop(poller_session_imap(s), &changed, &e);
			if (r == M2C_E_NOTSUP) {
				/* No IDLE here: poll. */
				free(e);
				e = NULL;
				worker_sleep(a->poll_interval * 1000LL, 1);
				if (!worker_stop)
					r = imap_noop(poller_session_imap(s), &changed, &e);
				else
					r = 0;
			}
		}
		poller_session_close(&s, r == 0);
		if (worker_stop)
			break;
		if (r == 0 && !a->idle) {
			/* idle = false: no connection until a wake-up or the safety poll. */
			worker_sleep(a->poll_interval * 1000LL, 1);
			continue;
		}
		if (r == M2C_E_SIGNIN && conf_account_is_oauth(a) &&
		    a->oauth.flow == CONF_FLOW_DEVICE) {
			log_warn("%s", e ? e : m2c_err_name(r));
			free(e);
			e = NULL;
			worker_sign_in(st, cf, a, r, &e);
			failures = 0;
			continue;
		}
		worker_record(st, cf, a, r, step, e);
		{
			long long delay = backoff_ms(failures++, cf->backoff_max);

			fix = advice_fix(cf, a, step, r);
			log_error("%s; trying again in %lld.%lld s", e ? e : m2c_err_name(r),
			    delay / 1000, delay % 1000 / 100);
			log_error("fix: %s", fix);
			free(fix);
			free(e);
			e = NULL;
			worker_sleep(delay, 0);
		}
	}
	log_info("stopped");
	free(e);
	state_close(&st);
	mime_shutdown();
	lock_release(&lk);
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
	int wake_fd;		/* print_folders: the users to wake go here (a
				 * datagram each; the worker reads the other end);
				 * -1 while it is not running, or not that kind */
};

struct super {
	const char *path;
	struct conf *cf;	/* owned by the caller (through daemon_run's cf) */
	struct worker *w;	/* owned */
	size_t nw;
	sigset_t oldmask;
	int stopping;
	struct wake_sock *wake;	/* owned; NULL without wake_socket */
	int sigfd;		/* signalfd of the blocked signals, with wake */
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

/* ------------------------------------------- wake-ups (Dovecot plugin) */

/*
 * wake_socket (wakesock.h) says which account to wake; its worker gets
 * SIGUSR1 and looks at its mailbox now (worker_idle_stop, worker_sleep).
 */

/* The two settings differ (either may be NULL). */
static int
wake_setting_changed(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

static int
wake_deliver(void *arg, const char *name, const char *user)
{
	struct super *sv = arg;

	for (size_t i = 0; i < sv->nw; i++) {
		struct worker *w = &sv->w[i];

		if (strcmp(w->name, name) != 0 || w->pid <= 0)
			continue;
		if (user == NULL)
			return kill(w->pid, SIGUSR1) == 0 ? 0 : -1;
		if (w->wake_fd >= 0 && send(w->wake_fd, user, strlen(user), MSG_DONTWAIT) >= 0)
			return 0;
		/* Full: the worker is busy with other users; again shortly. */
		return w->wake_fd >= 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS) ? 1 : -1;
	}
	return -1;	/* (re)starting: its first pass looks anyway */
}

/* Bind wake_socket (when set); SIGUSR1 stays blocked here (workers get it). */
static int
wake_start(struct super *sv, const sigset_t *set, char **errstr)
{
	sigset_t usr1;
	int r;

	sv->sigfd = -1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	if (sv->cf->wake_socket == NULL)
		return 0;
	if ((r = wake_sock_open(sv->cf->wake_socket, sv->cf->wake_socket_group, &sv->wake,
	    errstr)) != 0)
		return r;
	if ((sv->sigfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "signalfd: %s", strerror(errno));
		wake_sock_close(&sv->wake);
	}
	return r;
}

static void
wake_stop(struct super *sv)
{
	wake_sock_close(&sv->wake);
	if (sv->sigfd >= 0)
		close(sv->sigfd);
	sv->sigfd = -1;
}

/* In a new worker: none of the supervisor's descriptors; SIGUSR1 wakes it. */
static void
wake_child(struct super *sv)
{
	struct sigaction sa;

	if (sv->wake != NULL)
		close(wake_sock_fd(sv->wake));
	if (sv->sigfd >= 0)
		close(sv->sigfd);
	for (size_t i = 0; i < sv->nw; i++)
		if (sv->w[i].wake_fd >= 0)
			close(sv->w[i].wake_fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_wake;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/*
 * sigtimedwait(set, ts) that also serves wake_socket meanwhile: returns a
 * signal of set, or -1 when the time is up (or a datagram was handled).
 */
static int
wake_wait(struct super *sv, const sigset_t *set, const struct timespec *ts)
{
	static const struct timespec zero = { 0, 0 };
	long long ms = ts->tv_sec * 1000LL + ts->tv_nsec / 1000000L, due;
	struct pollfd p[2];
	int sig;

	if (sv->wake == NULL)
		return sigtimedwait(set, NULL, ts);
	if ((due = wake_sock_serve(sv->wake, 0, sv->cf, wake_deliver, sv)) >= 0 && due < ms)
		ms = due;
	if ((sig = sigtimedwait(set, NULL, &zero)) > 0)
		return sig;
	p[0].fd = sv->sigfd;
	p[1].fd = wake_sock_fd(sv->wake);
	p[0].events = p[1].events = POLLIN;
	p[0].revents = p[1].revents = 0;
	(void)poll(p, 2, (int)ms);
	(void)wake_sock_serve(sv->wake, (p[1].revents & POLLIN) != 0, sv->cf, wake_deliver, sv);
	return sigtimedwait(set, NULL, &zero);
}

static void
worker_add(struct super *sv, const struct conf_account *a)
{
	struct worker *w;

	/* Only `mail2cups deliver` serves it: no mailbox to read. */
	if (a->deliver_only)
		return;
	sv->w = xreallocarray(sv->w, sv->nw + 1, sizeof(*sv->w));
	w = &sv->w[sv->nw++];
	memset(w, 0, sizeof(*w));
	w->name = xstrdup(a->name);
	w->digest = conf_account_digest(sv->cf, a);
	w->wake_fd = -1;
}

static void
worker_spawn(struct super *sv, struct worker *w)
{
	const struct conf_account *a = conf_account_find(sv->cf, w->name);
	pid_t pid, parent = getpid();
	int sp[2] = { -1, -1 };

	if (a == NULL)
		return;
	if (a->print_folders && socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) != 0) {
		log_error("cannot start the worker for %s: socketpair: %s; trying again soon",
		    w->name, strerror(errno));
		w->start_at = monotonic_ms() + 5000;
		return;
	}
	pid = fork();
	if (pid < 0) {
		log_error("cannot start the worker for %s: %s; trying again soon", w->name,
		    strerror(errno));
		w->start_at = monotonic_ms() + 5000;
		if (sp[0] >= 0) {
			close(sp[0]);
			close(sp[1]);
		}
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
		wake_child(sv);
		if (sp[0] >= 0) {
			close(sp[0]);
			worker_wake_fd = sp[1];
		}
		sigprocmask(SIG_SETMASK, &sv->oldmask, NULL);
		/* Never outlive the supervisor (killed, or the OOM killer): a
		 * restarted daemon's worker must not serve the account beside
		 * us.  SIGTERM finishes the message in hand.  Died already? */
		worker_parent = parent;
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
			_exit(0);
		_exit(worker_main(sv->cf, a));
	}
	w->pid = pid;
	w->renew = 0;
	if (sp[0] >= 0) {
		close(sp[1]);
		w->wake_fd = sp[0];
	}
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
		if (w->wake_fd >= 0)
			close(w->wake_fd);
		w->wake_fd = -1;
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
	if (wake_setting_changed(nc->wake_socket, sv->cf->wake_socket) ||
	    wake_setting_changed(nc->wake_socket_group, sv->cf->wake_socket_group))
		log_warn("wake_socket changed: restart mail2cups for that to take effect");
	for (size_t i = 0; i < sv->nw; i++) {
		struct worker *w = &sv->w[i];
		const struct conf_account *a = conf_account_find(nc, w->name);
		char *d;

		if (a == NULL || a->deliver_only) {
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
		if (!known && !nc->accounts[i].deliver_only) {
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
	int r;

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
	if ((r = wake_start(&sv, &set, errstr)) != 0) {
		sigprocmask(SIG_SETMASK, &sv.oldmask, NULL);
		return r;
	}

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
		sig = wake_wait(&sv, &set, &ts);
		if (sig == SIGCHLD)
			reap(&sv);
		else if (sig == SIGHUP)
			reload(&sv);
		else if (sig == SIGTERM || sig == SIGINT)
			sv.stopping = 1;
	}
	log_info("stopping");
	wake_stop(&sv);
	stop_all(&sv, &set);
	while (sv.nw > 0)
		worker_drop(&sv, &sv.w[0]);
	free(sv.w);
	*cf = sv.cf;
	sigprocmask(SIG_SETMASK, &sv.oldmask, NULL);
	log_info("stopped");
	return 0;
}
