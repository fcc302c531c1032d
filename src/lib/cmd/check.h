/*
 * check.h - `mail2cups check`: try every part an account needs, change
 * nothing, and say what to do about each failure.
 *
 * Per account, in this order (a failed step skips only the steps that
 * need it):
 *     NAME: config ........ ok
 *     NAME: CUPS queue .... ok (Q: accepting jobs)
 *     NAME: sign-in ....... ok (token valid for 52 min; signed in as U)   OAuth only
 *     NAME: IMAP .......... ok (HOST:PORT, ssl, XOAUTH2)
 *     NAME: mailbox ....... ok (INBOX: 12 messages, 3 unseen, UIDVALIDITY 14)
 *     NAME: replies ....... ok (smtp.office365.com:587, starttls, XOAUTH2)  with reply only
 *     NAME: CUPS backend .. ok (queues home: smtp.office365.com:587, ...)  when a CUPS
 *                                     queue's device URI is mail2cups://NAME/...
 * A failure reads "FAILED: <what failed>" followed by an indented
 * "    fix: <what to do>" line; a warning ("    warning: ...") leaves the
 * verdict ok.  Nothing is modified: no FETCH, no STORE, no CUPS job, no
 * state written (an OAuth token refresh is the one exception, as in a
 * normal pass).  Unseen messages are counted with UID SEARCH UNSEEN.
 */
#ifndef M2C_CHECK_H
#define M2C_CHECK_H

#include <stdio.h>

#include "conf.h"

/*
 * Check one account, writing its block of lines to out.  Returns 0 when
 * every step is ok (warnings allowed), else the M2C_E_* code of the first
 * failed step (m2c_err_exit_code() gives the exit status).
 */
int check_account(const struct conf *cf, const struct conf_account *a, FILE *out);

/* Nonzero when an account signs in with OAuth (the check reads the token store). */
int check_uses_tokens(const struct conf *cf);


#endif
