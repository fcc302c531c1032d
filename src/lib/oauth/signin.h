/*
 * signin.h - an account's OAuth sign-in, as the programs use it.
 *
 * signin_token() is what the poller and `mail2cups-oauth token` call: a
 * valid access token, from the token store when it has over five minutes
 * left, else refreshed (or, for client credentials, requested anew) under
 * the store's lock, so that concurrent callers make one request between
 * them and the rotated refresh token is saved before the new access token
 * is used.  It never involves a person: with no usable tokens (none, or a
 * refresh token refused) it returns M2C_E_SIGNIN; M2C_E_AUTH means the
 * app's own credentials were refused (client credentials).
 *
 * signin_login() is the interactive part (`mail2cups-oauth login`).
 */
#ifndef M2C_SIGNIN_H
#define M2C_SIGNIN_H

#include <stdio.h>

#include "conf.h"
#include "oauth.h"

/* Refresh when fewer than this many seconds are left. */
#define SIGNIN_REFRESH_MARGIN 300

/*
 * A valid token for a.  rejected: an access token the server has just
 * refused though it looked valid (NULL normally): unless the store already
 * holds a different one (another process refreshed), a refresh is forced.
 * *t is filled (caller clears with oauth_tokens_clear).
 */
int signin_token(const struct conf *cf, const struct conf_account *a, const char *rejected,
    struct oauth_tokens *t, char **errstr);

struct signin_login_opts {
	int headless;		/* authcode: print the URL, read the redirect URL pasted back */
	int no_qr;		/* device: no QR code */
	int max_codes;		/* device: fresh codes offered after expiry (default 3) */
	FILE *out;		/* where instructions go (stdout) */
	FILE *in;		/* where a pasted URL comes from (stdin) */
};

/*
 * Sign a in with its configured flow, check who signed in against
 * login_user (default username), and store the tokens.
 */
int signin_login(const struct conf *cf, const struct conf_account *a,
    const struct signin_login_opts *o, char **errstr);

/*
 * The daemon's device flow, one step at a time, with no person attached:
 * reuse the pending code in the token store (shared with mail2cups-oauth
 * login) or start a new one when there is none or it expired, logging the
 * address and the code (so `mail2cups status` and the log show them); then
 * poll once.  *done = 1 once tokens for the right user are stored (by this
 * poll, or by a login elsewhere).  *wait_s: when to call again.
 */
int signin_device_step(const struct conf *cf, const struct conf_account *a, int *done,
    int *wait_s, char **errstr);

/* Forget a's tokens but keep a pending sign-in (their refresh token is dead). */
int signin_forget_tokens(const struct conf *cf, const struct conf_account *a, char **errstr);

/* Forget a's tokens and any pending sign-in. */
int signin_logout(const struct conf *cf, const struct conf_account *a, char **errstr);

/*
 * The base64 SASL initial response for a's mechanism (XOAUTH2 or
 * OAUTHBEARER) with token; allocated secret.
 */
char *signin_sasl_ir(const struct conf_account *a, const char *token);

#endif
