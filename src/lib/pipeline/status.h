/*
 * status.h - each account's state at a glance: `mail2cups status`.
 *
 * Written: after every pass over an account (`mail2cups once`, later the
 * daemon) status_record() stores its outcome in the state database (ok,
 * error with the reason and a fix, or waiting-to-sign-in).
 *
 * Read: status_collect() reads the state database (read-only) and each
 * OAuth account's token store (never refreshing, never connecting) and
 * gives every configured account one of
 *     not-configured       no pass recorded yet
 *     waiting-to-sign-in   a device sign-in is pending: the code, the URL
 *                          and the time left (or that the code expired)
 *     ok                   the last pass, printed today, pending, and for
 *                          OAuth the stored token's remaining lifetime
 *     error                the reason, what to do, since when
 * An ok row older than status_stale_after() reads as an error: no pass
 * has run since (the timer or the daemon is not running).  A daemon that
 * ran here and is not running now is an error of its own ("daemon not
 * running"), told at once, not after the data goes stale.
 */
#ifndef M2C_STATUS_H
#define M2C_STATUS_H

#include <stdio.h>
#include <time.h>

#include "advice.h"
#include "conf.h"
#include "lock.h"
#include "oauth.h"
#include "state.h"

enum status_kind {
	STATUS_NOT_CONFIGURED,
	STATUS_WAITING,		/* waiting-to-sign-in */
	STATUS_OK,
	STATUS_ERROR,
};

struct status_account {
	char *name;		/* owned */
	enum status_kind kind;
	char *reason;		/* owned; NULL when ok */
	char *fix;		/* owned; may be NULL */
	/*
	 * The failure fix is the advice for (advice_fix): the step that failed
	 * (m2c_step_name()'s constant; NULL when not known, e.g. a row from
	 * before steps were recorded) and its M2C_E_* code (0: none: ok, not
	 * configured, no pass for too long, the daemon not running).
	 */
	const char *step;
	int code;
	time_t since;		/* when the recorded status began; 0: unknown */
	time_t last_check;	/* 0: never */
	time_t last_ok;		/* 0: never */
	int printed_today;
	int pending;
	int oauth;		/* the account signs in with OAuth */
	time_t token_expires_at;	/* OAuth: the stored access token's expiry; 0: none/unknown */
	struct {
		int present;	/* a device sign-in is pending */
		char *user_code;	/* owned */
		char *verification_uri;	/* owned */
		time_t expires_at;
	} sign_in;
};

struct status_report {
	struct status_account *accounts;	/* owned; one per configured account */
	size_t n;
	time_t now;		/* when it was collected */
	enum lock_daemon_state daemon;	/* is `mail2cups run` running (lock.h) */
	pid_t daemon_pid;	/* running: its PID; stopped: the last one's (0: unknown) */
};

/*
 * Seconds after which an ok row is stale: the longest a healthy setup goes
 * without recording a pass, plus 10 min.  A timer running `once` records
 * every poll_interval; the daemon at least every idle_interval (each IDLE
 * round ends with a pass).  So: max(3 x poll_interval, 2 x idle_interval)
 * + 10 min.
 */
long status_stale_after(const struct conf *cf, const struct conf_account *a);

/* A status as status prints it ("ok", "waiting-to-sign-in", ...): constant. */
const char *status_kind_name(enum status_kind k);

/*
 * Decide one account's status from what is stored, at time now (pure: no
 * I/O, for the tests).  row: the account's row (STATE_ACCOUNT_NONE when
 * none).  have_tokens: the token store holds an access token.  pending:
 * the pending device sign-in, or NULL.  Fills sa->kind, reason, fix,
 * since, last_check, last_ok and sign_in; the other fields are left alone.
 * sa's strings must be NULL on entry (a fresh struct).
 */
void status_evaluate(struct status_account *sa, const struct conf *cf,
    const struct conf_account *a,
    const struct state_account *row, int have_tokens, const struct oauth_device *pending,
    time_t now);

/*
 * Record the outcome of a pass over a that ended at now: r, step and msg
 * are poller_once_account()'s return value, failed step and message (msg
 * may be NULL).  An OAuth account that needs a sign-in (M2C_E_SIGNIN) is
 * waiting-to-sign-in when a device sign-in is pending in its token store,
 * else an error.  The step and code are stored; status shows the advice
 * for them (advice_fix()), so nothing is ever guessed from a message.
 */
int status_record(struct state *st, const struct conf *cf, const struct conf_account *a,
    int r, enum m2c_step step, const char *msg, time_t now, char **errstr);

/*
 * The daemon's state as lock_daemon_probe() found it, applied to r's
 * accounts (pure, for the tests): when a daemon ran here and is not
 * running now (stopped or killed), every account is in error "daemon not
 * running", with the fix; its earlier reason, if any, follows.  When no
 * daemon ever ran here (or `once` runs instead) or it runs, nothing
 * changes.
 */
void status_apply_daemon(struct status_report *r, enum lock_daemon_state daemon, pid_t pid);

/*
 * Collect every configured account's status at now, reading only
 * (the daemon's state through lock_daemon_probe, which takes no lock).  A
 * missing state_dir or database reads as no rows.  *out is allocated;
 * free with status_report_free.
 */
int status_collect(const struct conf *cf, time_t now, struct status_report **out,
    char **errstr);
void status_report_free(struct status_report **r);

/* One line per account (an error adds an indented "fix:" line). */
void status_print_text(FILE *f, const struct status_report *r);
/* {"accounts": [...], "daemon", "daemon_pid"} and a newline (mail2cups(8)). */
int status_print_json(FILE *f, const struct status_report *r, char **errstr);

/* 0 all ok; 1 some waiting-to-sign-in or not-configured; 2 some error. */
int status_exit_code(const struct status_report *r);

/* "just now", "5 min ago", "3 h 4 min ago", "2 days ago" into buf. */
void status_fmt_age(long seconds, char *buf, size_t size);

#endif
