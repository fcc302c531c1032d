/*
 * test-lock.c - one process per account, one daemon per state_dir: a
 * second process is refused (naming the first), a waiter gets the lock
 * once the holder dies, a fork does not inherit it, and the daemon probe
 * tells running, stopped and never apart without taking the lock.
 */
#include "m2c-config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "lock.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/m2c-lock.XXXXXX";

/*
 * A child that takes the daemon lock (daemon != 0) or account "office"'s
 * lock as a worker, says so on a pipe, and holds it until killed.
 */
static pid_t
holder(int daemon)
{
	int p[2];
	pid_t pid;
	char c = 0;

	if (pipe(p) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		struct lock *l = NULL;
		int r;

		close(p[0]);
		r = daemon ? lock_daemon(dir, &l, NULL) :
		    lock_account(dir, "office", LOCK_ROLE_WORKER, &l, NULL, NULL);
		c = r == 0 ? 'y' : 'n';
		(void)write(p[1], &c, 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1 || c != 'y')
		pid = -1;
	close(p[0]);
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

struct waiter {
	int asked;	/* times stop was asked */
	pid_t told;	/* whom waiting() named */
};

static int
stop_after_some(void *arg)
{
	struct waiter *w = arg;

	return ++w->asked > 3;
}

static void
note_wait(pid_t h, const char *who, void *arg)
{
	struct waiter *w = arg;

	(void)who;
	w->told = h;
}

static void
test_account(void)
{
	struct lock *l = NULL, *l2 = NULL;
	char *err = NULL, *path;
	struct stat sb;
	pid_t h, who = 0;
	struct waiter w = { 0, 0 };

	is_int(lock_account(dir, "office", LOCK_ROLE_ONCE, &l, &h, &err), 0, "free: taken");
	path = xasprintf("%s/locks/office.lock", dir);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "lock file is 0600");
	free(path);
	lock_release(&l);
	ok(l == NULL, "release clears the pointer");

	h = holder(0);
	ok(h > 0, "a worker holds office");
	is_int(lock_account(dir, "office", LOCK_ROLE_ONCE, &l, &who, &err), M2C_E_TEMP,
	    "once on a served account: temporary (exit 75)");
	ok(l == NULL, "nothing held");
	is_int(who, h, "the holder's PID");
	has_str(err, "account office is being served by mail2cups run (PID ", "names the daemon");
	has_str(err, "stop the daemon first (systemctl stop mail2cups)", "names the fix");
	free(err);
	err = NULL;
	is_int(lock_account(dir, "annex", LOCK_ROLE_ONCE, &l, NULL, &err), 0,
	    "another account is free");
	lock_release(&l);

	/* A waiter that is told to stop gives up; one that is not gets it at the holder's death. */
	is_int(lock_account_wait(dir, "office", LOCK_ROLE_WORKER, stop_after_some, note_wait,
	    &w, &l, &err), M2C_E_TEMP, "waiting, then told to stop: gives up");
	is_int(w.told, h, "the waiter was told whom it waits for");
	free(err);
	err = NULL;
	reap(h);
	is_int(lock_account_wait(dir, "office", LOCK_ROLE_WORKER, NULL, NULL, NULL, &l, &err), 0,
	    "the holder was killed: the lock is free at once");

	/* A fork does not inherit it: the child cannot think it holds it. */
	if ((h = fork()) == 0)
		_exit(lock_account(dir, "office", LOCK_ROLE_ONCE, &l2, NULL, NULL) == M2C_E_TEMP ?
		    0 : 1);
	{
		int st = -1;

		waitpid(h, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child of the holder is refused too");
	}
	lock_release(&l);
	free(err);
}

static void
test_daemon(void)
{
	struct lock *l = NULL;
	char *err = NULL;
	pid_t h, pid;

	is_int(lock_daemon_probe(dir, &pid), LOCK_DAEMON_NEVER, "no daemon ever: never");
	h = holder(1);
	ok(h > 0, "a daemon runs");
	is_int(lock_daemon_probe(dir, &pid), LOCK_DAEMON_RUNNING, "probe: running");
	is_int(pid, h, "probe: its PID");
	is_int(lock_daemon(dir, &l, &err), M2C_E_TEMP, "a second daemon is refused");
	has_str(err, "mail2cups run is already running as PID ", "with the first one's PID");
	has_str(err, "stop it first", "and the fix");
	free(err);
	err = NULL;
	lock_daemon_forget(dir);
	is_int(lock_daemon_probe(dir, &pid), LOCK_DAEMON_RUNNING, "once does not remove a live daemon's lock");
	reap(h);
	is_int(lock_daemon_probe(dir, &pid), LOCK_DAEMON_STOPPED, "killed: stopped");
	is_int(pid, h, "stopped: names the last daemon");
	is_int(lock_daemon(dir, &l, &err), 0, "a new daemon starts at once");
	lock_release(&l);
	lock_daemon_forget(dir);
	is_int(lock_daemon_probe(dir, &pid), LOCK_DAEMON_NEVER, "once ran since: never");
	free(err);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_account();
	test_daemon();
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		ok(0, "clean up %s", dir);
	free(cmd);
	return tap_done();
}
