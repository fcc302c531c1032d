/* lock.c - one process per account, one daemon per state_dir; see lock.h. */
#include "m2c-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "lock.h"
#include "util.h"

#define LOCK_DIR	"locks"
#define DAEMON_LOCK	"daemon.lock"
#define LOCK_POLL_MS	100

struct lock {
	int fd;
	char *path;	/* owned */
};

static const char *const role_names[] = {
	[LOCK_ROLE_ONCE] = "once",
	[LOCK_ROLE_WORKER] = "run",
	[LOCK_ROLE_DELIVER] = "deliver",
};

static char *
lock_path(const char *state_dir, const char *name)
{
	return xasprintf("%s/" LOCK_DIR "/%s", state_dir, name);
}

static int
open_lock_file(const char *state_dir, const char *name, int *fd, char **path, char **errstr)
{
	char *dir = xasprintf("%s/" LOCK_DIR, state_dir);
	int r;

	*fd = -1;
	*path = lock_path(state_dir, name);
	if ((r = mkdir_p(dir, 0700, errstr)) != 0)
		goto out;
	*fd = open(*path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		r = m2c_fail(errstr, M2C_E_SYS, "cannot open the lock file %s: %s (the "
		    "state_dir must belong to the user mail2cups runs as)", *path,
		    strerror(errno));
out:
	free(dir);
	return r;
}

/* F_SETLK on the whole file: 0, 1 when another process holds it, -errno. */
static int
try_lock(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : -errno;
}

/* The PID of the process holding fd's file locked, 0 when nobody does. */
static pid_t
holder_of(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid;
}

/* The holder's text: "PID ROLE DAEMON-PID". */
static void
read_text(int fd, char *role, size_t rsize, long *pid, long *daemon_pid)
{
	char buf[128], r[16] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	*pid = *daemon_pid = 0;
	snprintf(role, rsize, "?");
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %15s %ld", pid, r, daemon_pid) >= 2)
		snprintf(role, rsize, "%s", r);
}

static void
write_text(int fd, const char *text)
{
	if (ftruncate(fd, 0) == 0)
		(void)write_all(fd, text, strlen(text));
}

/* "mail2cups run (PID 12, worker 14)" for the holder of fd. */
static char *
describe_holder(int fd, pid_t holder)
{
	char role[16];
	long pid, daemon_pid;

	read_text(fd, role, sizeof(role), &pid, &daemon_pid);
	if (pid != (long)holder)	/* the text is not (yet) the holder's */
		return xasprintf("another mail2cups process (PID %ld)", (long)holder);
	if (strcmp(role, "run") == 0 && daemon_pid > 0)
		return xasprintf("mail2cups run (PID %ld, its worker %ld)", daemon_pid,
		    (long)holder);
	return xasprintf("mail2cups %s (PID %ld)", role, (long)holder);
}

static struct lock *
lock_new(int fd, char *path, enum lock_role role)
{
	struct lock *l = xcalloc(1, sizeof(*l));
	char *text = xasprintf("%ld %s %ld\n", (long)getpid(), role_names[role],
	    role == LOCK_ROLE_WORKER ? (long)getppid() : 0L);

	write_text(fd, text);
	free(text);
	l->fd = fd;
	l->path = path;
	return l;
}

static int
lock_failed(const char *path, int err, char **errstr)
{
	return m2c_fail(errstr, M2C_E_SYS, "cannot lock %s: %s", path, strerror(err));
}

/*
 * Try once to take the lock on *fd: 1 when another process holds it, 0 when
 * it is ours (*out made, *fd and *path handed over to it), or the error.
 */
static int
take(int *fd, char **path, enum lock_role role, struct lock **out, char **errstr)
{
	int t = try_lock(*fd);

	if (t < 0)
		return lock_failed(*path, -t, errstr);
	if (t > 0)
		return 1;
	*out = lock_new(*fd, *path, role);
	*fd = -1, *path = NULL;
	return 0;
}

int
lock_account(const char *state_dir, const char *account, enum lock_role role,
    struct lock **out, pid_t *holder, char **errstr)
{
	char *name = xasprintf("%s.lock", account), *path = NULL, *who = NULL;
	int fd = -1, r;
	pid_t h;

	*out = NULL;
	if (holder != NULL)
		*holder = 0;
	if ((r = open_lock_file(state_dir, name, &fd, &path, errstr)) != 0)
		goto out;
	if ((r = take(&fd, &path, role, out, errstr)) <= 0)
		goto out;
	h = holder_of(fd);
	if (holder != NULL)
		*holder = h;
	who = describe_holder(fd, h);
	if (role == LOCK_ROLE_ONCE && strstr(who, "mail2cups run") != NULL)
		r = m2c_fail(errstr, M2C_E_TEMP, "account %s is being served by %s: the "
		    "daemon prints its mail already, so this pass did nothing; to run a "
		    "pass by hand, stop the daemon first (systemctl stop mail2cups)",
		    account, who);
	else
		r = m2c_fail(errstr, M2C_E_TEMP, "account %s is being served by %s: one "
		    "process at a time reads an account's mail; try again when it has "
		    "finished", account, who);
out:
	if (fd >= 0)
		close(fd);
	free(who);
	free(path);
	free(name);
	return r;
}

int
lock_account_wait(const char *state_dir, const char *account, enum lock_role role,
    int (*stop)(void *arg), void (*waiting)(pid_t holder, const char *who, void *arg),
    void *arg, struct lock **out, char **errstr)
{
	char *name = xasprintf("%s.lock", account), *path = NULL;
	int fd = -1, told = 0, r;

	*out = NULL;
	if ((r = open_lock_file(state_dir, name, &fd, &path, errstr)) != 0)
		goto out;
	for (;;) {
		if ((r = take(&fd, &path, role, out, errstr)) <= 0)
			goto out;
		if (!told && waiting != NULL) {
			pid_t h = holder_of(fd);
			char *who = describe_holder(fd, h);

			waiting(h, who, arg);
			free(who);
		}
		told = 1;
		if (stop != NULL && stop(arg)) {
			r = m2c_fail(errstr, M2C_E_TEMP, "stopped while waiting for the lock "
			    "of account %s", account);
			goto out;
		}
		/* The holder's exit is the condition; the kernel tells no one. */
		(void)poll(NULL, 0, LOCK_POLL_MS);
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	free(name);
	return r;
}

/* Nonzero when fd is still the file at path (not removed by lock_daemon_forget). */
static int
same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino;
}

int
lock_daemon(const char *state_dir, struct lock **out, char **errstr)
{
	char *path = NULL, *text;
	int fd = -1, r, t;

	*out = NULL;
	for (;;) {
		free(path);
		path = NULL;
		if ((r = open_lock_file(state_dir, DAEMON_LOCK, &fd, &path, errstr)) != 0)
			goto out;
		if ((t = try_lock(fd)) < 0) {
			r = lock_failed(path, -t, errstr);
			goto out;
		}
		if (t == 0 && same_file(fd, path))
			break;
		if (t == 1) {
			pid_t h = holder_of(fd);

			if (h != 0) {
				r = m2c_fail(errstr, M2C_E_TEMP, "mail2cups run is already "
				    "running as PID %ld for state_dir %s: one daemon serves "
				    "these accounts; stop it first (systemctl stop mail2cups, "
				    "or kill %ld), or give this one its own state_dir",
				    (long)h, state_dir, (long)h);
				goto out;
			}
		}
		/* Removed under us, or the holder let go just now: again. */
		close(fd);
		fd = -1;
	}
	text = xasprintf("%ld run 0\n", (long)getpid());
	write_text(fd, text);
	free(text);
	*out = xcalloc(1, sizeof(**out));
	(*out)->fd = fd;
	(*out)->path = path;
	fd = -1, path = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

enum lock_daemon_state
lock_daemon_probe(const char *state_dir, pid_t *pid)
{
	char *path = lock_path(state_dir, DAEMON_LOCK), role[16];
	long p, dp;
	pid_t h;
	int fd;

	*pid = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return LOCK_DAEMON_NEVER;
	h = holder_of(fd);
	read_text(fd, role, sizeof(role), &p, &dp);
	close(fd);
	if (h != 0) {
		*pid = h;
		return LOCK_DAEMON_RUNNING;
	}
	*pid = p > 0 ? (pid_t)p : 0;
	return LOCK_DAEMON_STOPPED;
}

void
lock_daemon_forget(const char *state_dir)
{
	char *path = lock_path(state_dir, DAEMON_LOCK);
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	/* Only while nobody holds it: a daemon starting now finds it gone
	 * (same_file) and makes a new one. */
	if (fd >= 0 && try_lock(fd) == 0 && same_file(fd, path))
		(void)unlink(path);
	if (fd >= 0)
		close(fd);
	free(path);
}

void
lock_release(struct lock **lp)
{
	struct lock *l;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	close(l->fd);	/* drops the lock */
	free(l->path);
	free(l);
	*lp = NULL;
}
