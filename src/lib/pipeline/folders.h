/*
 * folders.h - a Print folder for every user: the sessions of one
 * print_folders account (mail2cups.conf(5) PRINT FOLDERS).
 *
 * The account signs in to Dovecot as any user through a master user
 * (login_user, AUTHENTICATE PLAIN with the user as authorization identity)
 * and runs the poller's pass (poller.h) over that user's folder `mailbox`
 * (default "Print"): every message there not flagged \Deleted, printed as
 * its owner (rules_owner_user: the login name through the users table), no
 * sender check, then the post-action.  State keys carry the user
 * ("USER/Print" as the mailbox), so two users' UID 1 are two messages.
 *
 * Sessions are opened on demand (a wake-up naming the user and folder) and
 * kept for session_timeout seconds after their last pass, at most
 * max_sessions at once (the one unused longest is closed for a new one).
 * A user whose folder held mail is remembered in the state database; the
 * safety pass (every poll_interval, and at start) looks at those users and
 * at folder_users, one session at a time, so mail filed while the daemon
 * was down prints without signing in as every user of the server.
 *
 * Nothing here decides from a wake-up what prints: a user named by a
 * forged datagram gets a pass over their own folder, nothing more.
 */
#ifndef M2C_FOLDERS_H
#define M2C_FOLDERS_H

#include "advice.h"
#include "conf.h"
#include "poller.h"
#include "state.h"

struct folders;

/* For account a (print_folders); cf, a and st borrowed, for its lifetime. */
struct folders *folders_new(const struct conf *cf, const struct conf_account *a,
    struct state *st, const struct poller_opts *o);

/* Close every session (LOGOUT); NULL is fine; *f = NULL. */
void folders_free(struct folders **f);

/*
 * *out becomes a's settings for user's folder: a shallow copy (every
 * string borrowed from a, username borrowed from user).
 */
void folders_user_account(const struct conf_account *a, const char *user,
    struct conf_account *out);

/*
 * A pass over user's folder now, on the user's open session or a new one.
 * 0 with *sum filled, or the error with *step and *errstr (errstr not
 * NULL); a session that failed is closed.  A temporary failure is tried
 * again by folders_retry after a back-off.  stop (optional) is asked
 * between messages.
 */
int folders_wake(struct folders *f, const char *user, struct poller_summary *sum,
    int (*stop)(void *arg), void *arg, enum m2c_step *step, char **errstr);

/*
 * The safety pass: a pass over the folder of every user the state
 * database remembers and every one of folder_users, each on its own
 * session, closed afterwards (one already open is used and kept).  Errors
 * are logged per user; a remembered user the server will not sign in as
 * (M2C_E_REFUSED: gone) is forgotten.  *sum adds up every pass.  0, or
 * the last error that was not about one user (*step, *errstr).
 */
int folders_safety_pass(struct folders *f, struct poller_summary *sum,
    int (*stop)(void *arg), void *arg, enum m2c_step *step, char **errstr);

/*
 * Close the sessions unused for session_timeout and run the passes of
 * users whose last one failed temporarily and whose back-off is over.
 * Returns the ms until one of these is next due, or -1 when none is.
 */
long long folders_tick(struct folders *f, int (*stop)(void *arg), void *arg);

/*
 * `mail2cups once` for a print_folders account (a poller_pass_fn, for
 * poller_once_account): the safety pass.
 */
poller_pass_fn folders_pass;

/*
 * Nonzero when the failure r at step is about one user, not the account:
 * the server will not sign in as them (M2C_E_REFUSED), or their folder
 * cannot be opened (M2C_STEP_MAILBOX).  A forged wake-up for a user who
 * does not exist puts no account in error.
 */
int folders_user_error(int r, enum m2c_step step);

/* Sessions open now. */
size_t folders_open_count(const struct folders *f);

#endif
