/*
 * oauth-error.h - an identity provider's error answer, turned into one line
 * that says what failed and what to do (RFC 6749 5.2, RFC 8628 3.5, and
 * Microsoft's AADSTS codes).
 *
 * The provider's own description, error code, trace id, correlation id and
 * timestamp go to the log at warning level; the message for a person holds
 * the AADSTS code (when there is one) and the advice, never a token.
 */
#ifndef M2C_OAUTH_ERROR_H
#define M2C_OAUTH_ERROR_H

#include <stddef.h>

/*
 * Map an error answer (status and body, any content: JSON, an HTML page,
 * nothing) to an M2C_E_* class, returned, with the message in *errstr
 * (allocated; optional).  provider: "microsoft", "google", "generic" (for
 * Google-only hints); login: the sign-in command advice names, with the
 * config's -c (advice_login(); NULL: "mail2cups-oauth login NAME");
 * context: what failed
 * ("sign-in", "token refresh", ...).  Never returns 0.
 *
 *   sign-in needed (refresh token expired, code expired, declined)  M2C_E_AUTH
 *   app registration or config mistakes                              M2C_E_CONFIG
 *   5xx, 429                                                         M2C_E_TEMP
 *   anything else                                                    M2C_E_AUTH
 */
int oauth_error_from_response(const char *provider, const char *login, long http_status,
    const char *body, size_t len, const char *context, char **errstr);

/* The AADSTS code in an error_description or page ("AADSTS70020: ..."), or 0. */
long oauth_error_aadsts(const char *text);

/* What every "the device code expired" message says (RFC 8628 expired_token). */
#define OAUTH_MSG_CODE_EXPIRED "the sign-in code expired"

#endif
