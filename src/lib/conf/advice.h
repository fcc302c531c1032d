/*
 * advice.h - what a person should do about a failure: the one place where
 * fix texts live, keyed by the step that failed, the error code, and the
 * account's settings (provider, host, flow), including the usual Microsoft
 * 365 causes.  `mail2cups check`, `status` and the daemon's log take their
 * "fix:" lines from here.
 */
#ifndef M2C_ADVICE_H
#define M2C_ADVICE_H

#include "conf.h"

/* The steps an account's work goes through, in order. */
enum m2c_step {
	M2C_STEP_CONFIG,
	M2C_STEP_CUPS,
	M2C_STEP_SIGNIN,	/* getting a token (OAuth accounts) */
	M2C_STEP_IMAP,		/* connect, TLS, sign-in on the IMAP server */
	M2C_STEP_MAILBOX,	/* SELECT and SEARCH UNSEEN */
	M2C_STEP_SMTP,		/* replies: connect, TLS, sign-in on the SMTP server */
	M2C_STEP_BACKEND,	/* CUPS queues sending through the account (cups-backend/) */
};

/*
 * What to do about a failed step: from (the account's settings, the step,
 * the error code, the client's message, which quotes the server) to advice.
 * Never NULL; allocated, caller frees.
 */
char *advice_fix(const struct conf_account *a, enum m2c_step step, int err,
    const char *text);

#endif
