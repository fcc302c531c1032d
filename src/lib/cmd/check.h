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

/*
 * What once and run need locally, checked as the user they run as (as,
 * after runas_service_user(); was_root: the program was started as root):
 *     local: runs as ...... ok (user mail2cups (uid 998), as once and run)
 *     local: state_dir .... ok (/var/lib/mail2cups, 0700, mail2cups's)
 *     local: database ..... ok (state.db opens for writing)
 *     local: scratch ...... ok (scratch/ and tokens/ private to mail2cups)
 *     local: secret files . ok (2 readable by mail2cups, none by others)
 * A missing state_dir is ok when once and run can make it.  Each failure
 * with its fix (chown -R mail2cups: /var/lib/mail2cups); returns the first
 * failure's code, or 0.
 */
struct privdrop_user;
int check_local(const struct conf *cf, const struct privdrop_user *as, int was_root,
    FILE *out);

/* The switch itself was refused (runas_service_user): the local line for it. */
void check_refused(const struct conf *cf, int err, const char *text, FILE *out);



#endif
