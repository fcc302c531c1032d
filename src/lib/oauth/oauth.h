/*
 * oauth.h - OAuth 2.0 for mail: providers, flows, refresh.
 *
 * Implements: RFC 6749 (OAuth 2.0), RFC 8628 (device authorization grant),
 * RFC 7636 (PKCE, S256), RFC 8252 (native apps: loopback redirect),
 * RFC 7523 (JWT client assertion and JWT bearer grant), OpenID Connect
 * Discovery 1.0 (generic provider).
 *
 * Errors from the identity provider are turned into one line that says what
 * to do (oauth-error.c), in Microsoft's words where it has some (AADSTS
 * codes); the provider's own description, trace id and correlation id go to
 * the log at warning level.  Codes: M2C_E_AUTH = sign-in required (no
 * tokens, refresh token expired/revoked/invalid), M2C_E_CONFIG = the app
 * registration or config is wrong (AADSTS7000218, 700016, 50011...),
 * M2C_E_UNAVAIL / M2C_E_TIMEOUT = network, M2C_E_TEMP = try again.
 */
#ifndef M2C_OAUTH_H
#define M2C_OAUTH_H

#include <time.h>

#include "conf.h"
#include "jwt.h"

/* Where to go and what to ask for: from the provider table or discovery. */
struct oauth_client {
	char *provider_name;		/* "microsoft", "google", "generic" */
	char *client_id;
	char *client_secret;		/* secret, or NULL */
	char *cert_file, *key_file;	/* client assertion, or NULL */
	char *device_endpoint;		/* NULL when the provider has none */
	char *token_endpoint;
	char *authorize_endpoint;
	char *scope;			/* space-separated, delegated flows */
	char *app_scope;		/* client credentials (".../.default") */
	char *subject;			/* mailbox for Google domain-wide delegation */
	int is_microsoft;
	int timeout_ms;
	char *account;			/* the account name, for messages */
	char *login;			/* its sign-in command (advice_login) */
	enum jwt_alg assertion_alg;	/* client assertion: JWT_PS256 (x5t#S256,
					 * default) or JWT_RS256 (x5t) */
	int service_account;		/* google + client_credentials: key_file is
					 * the service account's JSON key (RFC 7523
					 * JWT bearer grant, subject = the mailbox) */
};

/*
 * Once per program, before any thread: curl_global_init (http.h).  Every
 * request also calls it lazily.  0 or M2C_E_SYS.
 */
int oauth_global_init(void);

/*
 * Fill c for account a: built-in endpoints per provider and cloud (or the
 * authority override: tests point it at a loopback fake), OpenID discovery
 * for generic (issuer), the client secret read from its file (secret.h).
 * cf (may be NULL) gives the config path the advice in messages names.
 * Free with oauth_client_clear.
 *
 *   microsoft global  https://login.microsoftonline.com/{tenant}/oauth2/v2.0/...
 *             scopes  https://outlook.office.com/IMAP.AccessAsUser.All
 *                     https://outlook.office.com/SMTP.Send offline_access
 *                     openid profile email; app: https://outlook.office365.com/.default
 *   gcchigh, dod      https://login.microsoftonline.us, outlook.office365.us
 *   china             https://login.partner.microsoftonline.cn, partner.outlook.cn
 *   google            https://oauth2.googleapis.com/{token,device/code},
 *                     https://accounts.google.com/o/oauth2/v2/auth,
 *                     scope https://mail.google.com/
 *   generic           issuer + /.well-known/openid-configuration
 */
int oauth_client_init(const struct conf *cf, const struct conf_account *a, int timeout_s,
    struct oauth_client *c, char **errstr);
void oauth_client_clear(struct oauth_client *c);

struct oauth_tokens {
	char *access_token;		/* secret */
	char *refresh_token;		/* secret, or NULL */
	char *id_token;			/* or NULL */
	char *scope;			/* granted scope, or NULL */
	time_t expires_at;		/* 0: unknown */
	char *identity;			/* who signed in (id_token preferred_username,
					 * upn, email; or the access token's upn) */
};
void oauth_tokens_clear(struct oauth_tokens *t);	/* wipes secrets */

/* A pending device authorization (RFC 8628 3.2). */
struct oauth_device {
	char *device_code;		/* secret */
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete;	/* or NULL */
	char *message;			/* the provider's text, or NULL */
	time_t expires_at;
	int interval;			/* seconds between polls */
};
void oauth_device_clear(struct oauth_device *d);

int oauth_device_start(const struct oauth_client *c, struct oauth_device *d, char **errstr);

enum oauth_poll {
	OAUTH_POLL_DONE,		/* tokens filled */
	OAUTH_POLL_PENDING,		/* not approved yet: wait d->interval */
	OAUTH_POLL_SLOW_DOWN,		/* d->interval was raised by 5 s */
};
/*
 * One poll.  Returns 0 with *state; or an error: expired code (M2C_E_AUTH,
 * message says to start again), declined (M2C_E_AUTH), other errors mapped.
 */
int oauth_device_poll(const struct oauth_client *c, struct oauth_device *d,
    enum oauth_poll *state, struct oauth_tokens *t, char **errstr);

/* Refresh; a rotated refresh token replaces t->refresh_token. */
int oauth_refresh(const struct oauth_client *c, struct oauth_tokens *t, char **errstr);

/* Client credentials (client secret or certificate assertion). */
int oauth_client_credentials(const struct oauth_client *c, struct oauth_tokens *t,
    char **errstr);

/* Authorization code + PKCE. */
struct oauth_pkce {
	char verifier[64];		/* 43..128 chars, RFC 7636 4.1 */
	char challenge[48];
	char state[33];
};
void oauth_pkce_new(struct oauth_pkce *p);
/* The URL to open in a browser; allocated. */
char *oauth_authorize_url(const struct oauth_client *c, const struct oauth_pkce *p,
    const char *redirect_uri, const char *login_hint);
/*
 * The redirect (oauth-listen.c).  Wait for the browser on a loopback
 * listener (fd from oauth_loopback_listen) and return the code; checks
 * state.  Times out after timeout_s.
 */
int oauth_loopback_listen(int *fd, int *port, char **errstr);
int oauth_loopback_wait(int fd, const struct oauth_pkce *p, int timeout_s, char **code,
    char **errstr);
/* Take the code out of a pasted redirect URL (headless mode); checks state. */
int oauth_code_from_url(const char *url, const struct oauth_pkce *p, char **code, char **errstr);
int oauth_authcode_exchange(const struct oauth_client *c, const struct oauth_pkce *p,
    const char *code, const char *redirect_uri, struct oauth_tokens *t, char **errstr);

/*
 * The SASL initial response for mech ("XOAUTH2" or "OAUTHBEARER") and user,
 * base64-encoded; allocated secret.
 */
char *oauth_sasl_ir(const char *mech, const char *user, const char *token, const char *host,
    int port);

/*
 * Who signed in: compare t->identity with the expected login user,
 * case-insensitively.  M2C_E_AUTH with the explanation when they differ;
 * account (may be NULL) names the account in it; advice.h says what to do.
 */
int oauth_check_identity_for(const struct oauth_tokens *t, const char *expected,
    const char *account, char **errstr);

#endif
