/*
 * poller-private.h - poller internals that `mail2cups check` (check.c)
 * shares, so that it signs in exactly as a pass does.  Not an API: a
 * temporary seam until the poller exports prefixed functions for these
 * (see the wip-check report).
 */
#ifndef M2C_POLLER_PRIVATE_H
#define M2C_POLLER_PRIVATE_H

#include <stdint.h>

#include "conf.h"
#include "imap.h"
#include "poller.h"
#include "state.h"

/* Everything one pass needs; borrowed from the caller except where noted. */
struct pass {
	const struct conf *cf;
	const struct conf_account *a;
	struct state *st;
	const struct poller_opts *o;
	struct poller_summary *sum;
	struct imap *imap;	/* owned */
	char *scratch;		/* owned */
	uint32_t uidvalidity;
};

/* The IMAP client's security setting for the account's. */
enum imap_security imap_security_of(enum conf_security s);

/* Nonzero for the OAuth mechanisms (XOAUTH2, OAUTHBEARER). */
int is_oauth(const struct conf_account *a);

/*
 * Sign in on p->imap with p->a's mechanism (uses p->cf, p->a, p->imap only).
 * For OAuth, *used receives the access token that was sent (allocated
 * secret), so that a refusal can force a refresh; rejected is the token a
 * previous try had refused, or NULL.
 */
int sign_in(struct pass *p, const char *rejected, char **used, char **errstr);

/*
 * Turn Microsoft's "User is authenticated but not connected" (a SELECT
 * refused for a token of someone who cannot open the mailbox) into
 * M2C_E_AUTH with the fix; any other r is returned unchanged.  Uses p->a.
 */
int explain_not_connected(struct pass *p, int r, char **errstr);

#endif
