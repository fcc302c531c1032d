/*
 * lock.h - one process per account, one daemon per state_dir.
 *
 *   state_dir/locks/ACCOUNT.lock   held by the one process that reads or
 *       changes that account's mail: a daemon worker, `mail2cups once`,
 *       `mail2cups deliver` (later the Print-folder sessions), for as long
 *       as it serves the account.  Two processes working on the same UIDs would
 *       race past the state database's intent rows and print twice.
 *   state_dir/locks/daemon.lock    held by the daemon's supervisor
 *       (`mail2cups run`) for its whole life: a second `run` refuses to
 *       start.  Left behind when the daemon stops, so that `mail2cups
 *       status` can tell "the daemon is not running" from "it never ran
 *       here"; `once` removes it (whoever runs once has no daemon).
 *
 * The locks are POSIX record locks (fcntl F_SETLK) on the whole file: the
 * kernel drops them when the holder exits or is killed, so a crash never
 * leaves one behind, and a fork's child does not inherit them (a worker
 * never holds the daemon lock; a converter never holds an account lock).
 * F_GETLK names the holder's PID without taking the lock, which is how
 * `status` (read-only) asks.  The file's text ("PID ROLE DAEMON-PID") is
 * for people and messages only; the lock is what counts.  The files are
 * 0600 in a 0700 folder.
 *
 * A process must not open and close a lock file besides through this
 * module while it holds the lock: closing any descriptor of the file
 * drops a POSIX lock.
 */
#ifndef M2C_LOCK_H
#define M2C_LOCK_H

#include <sys/types.h>

struct lock;

/* Who holds an account lock: what the messages call it. */
enum lock_role {
	LOCK_ROLE_ONCE,		/* mail2cups once */
	LOCK_ROLE_WORKER,	/* a worker of mail2cups run */
	LOCK_ROLE_DELIVER,	/* mail2cups deliver */
};

/*
 * Take account's lock without waiting.  0: *out holds it (release with
 * lock_release).  Held by another process: M2C_E_TEMP with *errstr naming
 * the holder ("served by mail2cups run (PID 1234)") and what to do, and
 * *holder (optional) its PID.  Other failures: M2C_E_SYS with the path.
 */
int lock_account(const char *state_dir, const char *account, enum lock_role role,
    struct lock **out, pid_t *holder, char **errstr);

/*
 * Wait until account's lock is free and take it (a restarted daemon's
 * worker, while the worker of the daemon before it finishes the message
 * in hand).  stop(arg), optional, is asked every 100 ms: nonzero gives up
 * with M2C_E_TEMP.  waiting(holder, arg), optional, is called once when
 * the lock is busy, to say whom it waits for.
 */
int lock_account_wait(const char *state_dir, const char *account, enum lock_role role,
    int (*stop)(void *arg), void (*waiting)(pid_t holder, const char *who, void *arg),
    void *arg, struct lock **out, char **errstr);

/*
 * The daemon's lock, taken by `run` at start: M2C_E_TEMP when another
 * daemon holds it, *errstr with its PID and the fix.
 */
int lock_daemon(const char *state_dir, struct lock **out, char **errstr);

/* What lock_daemon_probe found. */
enum lock_daemon_state {
	LOCK_DAEMON_NEVER,	/* no daemon lock file: no daemon has run here (or once ran since) */
	LOCK_DAEMON_RUNNING,	/* held: *pid is the daemon */
	LOCK_DAEMON_STOPPED,	/* present, not held: *pid is the daemon that last ran (0: unknown) */
};

/*
 * Is the daemon running?  Reads only (F_GETLK takes no lock), so
 * `mail2cups status` can ask.  A lock file that cannot be read counts
 * as LOCK_DAEMON_NEVER.
 */
enum lock_daemon_state lock_daemon_probe(const char *state_dir, pid_t *pid);

/*
 * `once` runs here, so no daemon is expected: remove a daemon lock file
 * that no daemon holds.  Does nothing while a daemon holds it.
 */
void lock_daemon_forget(const char *state_dir);

/* Drop the lock and free; *l = NULL; NULL is fine. */
void lock_release(struct lock **l);

#endif
