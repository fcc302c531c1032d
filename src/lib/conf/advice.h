/*
 * advice.h - what a person should do about a failure: the one place where
 * fix texts live, keyed by the step that failed, the error code (error.h)
 * and the account's settings (provider, host, flow), including the usual
 * Microsoft 365 causes.  `mail2cups check`, `status`, `once`, the daemon's
 * log and `mail2cups-oauth` take their "fix:" lines and their sign-in
 * instructions from here; nothing here reads an error message.
 *
 * A command in the advice is written so that it can be pasted as printed:
 * with `-c FILE` when the program was given a config file other than the
 * default one (cf->path), plain otherwise.
 */
#ifndef M2C_ADVICE_H
#define M2C_ADVICE_H

#include <time.h>

#include "conf.h"

/*
 * The steps an account's work goes through, in order: a pass (connect,
 * sign in, SELECT), then each message's stages (poller.c), then replies.
 * A failure is reported as (step, M2C_E_* code); status stores both.
 */
enum m2c_step {
	M2C_STEP_CONFIG,
	M2C_STEP_CUPS,		/* the account's CUPS queue */
	M2C_STEP_SIGNIN,	/* getting a token (OAuth accounts) */
	M2C_STEP_IMAP,		/* connect, TLS, sign-in on the IMAP server */
	M2C_STEP_MAILBOX,	/* SELECT and SEARCH UNSEEN */
	M2C_STEP_LOCAL,		/* state_dir: the state database, scratch files */
	M2C_STEP_FETCH,		/* a message: download it */
	M2C_STEP_RECOGNISE,	/* a message: printed before (state, content hash)? */
	M2C_STEP_EXTRACT,	/* a message: MIME parts to documents */
	M2C_STEP_JUDGE,		/* a message: may its sender print? */
	M2C_STEP_ROUTE,		/* a message: queue, CUPS user, options */
	M2C_STEP_PRINT,		/* a message: its CUPS jobs */
	M2C_STEP_FINISH,	/* a message: verdict recorded, post-action done */
	M2C_STEP_SMTP,		/* replies: connect, TLS, sign-in on the SMTP server */
	M2C_STEP_BACKEND,	/* CUPS queues sending through the account (cups-backend/) */
};

/* The step's name as stored and shown ("imap", "print", ...): constant. */
const char *m2c_step_name(enum m2c_step step);
/* The step's label on check's lines ("IMAP", "CUPS queue", ...): constant. */
const char *m2c_step_label(enum m2c_step step);
/* The step named name (m2c_step_name's words): 0, or M2C_E_NOTFOUND. */
int m2c_step_from_name(const char *name, enum m2c_step *step);

/*
 * What to do about err at step for account a (one line, no trailing
 * period); cf gives the config path for commands (NULL: plain commands).
 * Never NULL; allocated, caller frees.
 */
char *advice_fix(const struct conf *cf, const struct conf_account *a, enum m2c_step step,
    int err);

/*
 * A command line to paste: "PROGRAM [-c FILE] ARGS" (ARGS may be NULL).
 * Allocated, caller frees.
 */
char *advice_command(const struct conf *cf, const char *program, const char *args);

/*
 * The sign-in command for account: "mail2cups-oauth [-c FILE] login
 * ACCOUNT" (ACCOUNT NULL: "NAME").  Allocated, caller frees.
 */
char *advice_login(const struct conf *cf, const char *account);

/*
 * The words for a pending device sign-in of a, the same everywhere
 * (status, the daemon's log, mail2cups-oauth status): "open URI and enter
 * CODE, signing in as USER (N min left; or start again: COMMAND)", or,
 * once expires_at has passed, that the code expired (then advice_fix()
 * for M2C_E_SIGNIN says how to get a new one).  uri and code may be NULL.
 * Allocated, caller frees.
 */
char *advice_sign_in_waiting(const struct conf *cf, const struct conf_account *a,
    const char *uri, const char *code, time_t expires_at, time_t now);

#endif
