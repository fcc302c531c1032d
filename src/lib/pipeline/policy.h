/*
 * policy.h - who may print, and who may get a reply.
 *
 * allow_senders and deny_senders hold addresses ("partner@example.org") and
 * domain wildcards ("*@contoso.com"); '*' and '?' match as in a shell,
 * ASCII case-insensitively, against the whole addr-spec.  An empty allow
 * list allows nobody; deny wins over allow.  With
 * authenticated_senders_only the From address must also be vouched for by
 * the mailbox provider's own Authentication-Results (authres.h), so a
 * forged From never prints; and whatever the settings, a reply only ever
 * goes to such an authenticated sender.
 */
#ifndef M2C_POLICY_H
#define M2C_POLICY_H

#include "conf.h"
#include "mime.h"

/*
 * 0 when addr may print; M2C_E_REFUSED with a reason in *errstr (naming
 * the address and the config key to change) when not.
 */
int policy_check_sender(const struct conf_strlist *allow, const char *addr, char **errstr);

/* What policy_check_message found out about the sender. */
struct policy_verdict {
	int known;		/* the account has a provider verdict to read (authserv_id
				 * or Microsoft 365) */
	int authenticated;	/* and it passed */
	char *why;		/* what decided it; owned, NULL when !known */
};

/*
 * May m print from account a: the message has exactly one From address
 * (m->nfrom; several, or none, are refused), it is plausible,
 * not in deny_senders, in allow_senders, and, with
 * authenticated_senders_only, authenticated by the provider (authres.h).
 * Fills *v in every case (clear with policy_verdict_clear).  0, or
 * M2C_E_REFUSED with the reason in *errstr.
 */
int policy_check_message(const struct conf_account *a, const struct mime_message *m,
    struct policy_verdict *v, char **errstr);
void policy_verdict_clear(struct policy_verdict *v);

/*
 * Nonzero when m's From address may choose for the sender (a rule keyed on
 * `senders`, a name from the users table; rules.h): the provider
 * authenticated it (v), or the account trusts the From line as it is
 * (trust_unauthenticated_from = true).
 */
int policy_from_trusted(const struct conf_account *a, const struct policy_verdict *v);

/*
 * May a reply go to m's sender: only to an authenticated sender (no
 * backscatter to forged addresses), never to a mailer-daemon or postmaster,
 * a null Return-Path, Auto-Submitted or mailing-list mail, or the mailbox
 * itself.  1, or 0 with *why (a constant string).
 */
int policy_may_reply(const struct conf_account *a, const struct mime_message *m,
    const struct policy_verdict *v, const char **why);

#endif
