/*
 * oauth-error.c - identity provider errors -> class and advice; see
 * oauth-error.h.  RFC 6749 5.2, RFC 8628 3.5, Microsoft AADSTS codes.
 *
 * The one place where a provider's error answer becomes an M2C_E_* code
 * and a sentence.  "LOGIN" in an advice is replaced by the sign-in command
 * (oauth-error.h).
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "log.h"
#include "oauth-error.h"
#include "util.h"

#define DESC_MAX 300		/* of the provider's text, in a message */

#define SIGN_IN_AGAIN "sign in again: LOGIN"
#define START_AGAIN "start again: LOGIN offers a new code"
#define CONSENT_AGAIN "run LOGIN again and accept the permissions"
#define SIGN_IN_MFA "sign in interactively with LOGIN (the device flow supports MFA)"

struct advice {
	long code;		/* AADSTS code, or 0 */
	const char *error;	/* RFC 6749 / 8628 error, or NULL */
	int cls;
	const char *what;
	const char *todo;
};

/* Looked up by AADSTS code first, then by the error string. */
static const struct advice table[] = {
	{ 7000218, NULL, M2C_E_CONFIG, "the app registration does not allow public client flows",
	  "turn on \"Allow public client flows\" under Authentication > Advanced settings "
	  "in the app registration" },
	{ 70020, "expired_token", M2C_E_AUTH, OAUTH_MSG_CODE_EXPIRED, START_AGAIN },
	{ 70018, "bad_verification_code", M2C_E_AUTH, "the sign-in (device) code is not valid",
	  START_AGAIN },
	{ 65004, "authorization_declined", M2C_E_AUTH, "sign-in was declined", CONSENT_AGAIN },
	{ 0, "access_denied", M2C_E_AUTH, "sign-in was declined", CONSENT_AGAIN },
	{ 70000, NULL, M2C_E_AUTH, "the grant (refresh token or code) is invalid or was "
	  "already used", SIGN_IN_AGAIN },
	{ 70008, NULL, M2C_E_AUTH, "the code or refresh token expired from inactivity",
	  SIGN_IN_AGAIN },
	{ 65001, NULL, M2C_E_CONFIG, "consent is missing for this app",
	  "an administrator must grant admin consent for the API permissions "
	  "(IMAP.AccessAsUser.All, SMTP.Send, offline_access) in API permissions > "
	  "Grant admin consent" },
	{ 50076, NULL, M2C_E_AUTH, "multi-factor authentication is required",
	  SIGN_IN_MFA },
	{ 50079, NULL, M2C_E_AUTH, "multi-factor authentication enrollment is required",
	  SIGN_IN_MFA },
	{ 53003, NULL, M2C_E_CONFIG, "sign-in was blocked by Conditional Access",
	  "use flow = \"authcode\" or ask for an exclusion for this app" },
	{ 50011, NULL, M2C_E_CONFIG, "the redirect URI is not registered for the app",
	  "add the platform \"Mobile and desktop applications\" with http://localhost under "
	  "Authentication in the app registration" },
	{ 700016, NULL, M2C_E_CONFIG, "the application was not found in the tenant",
	  "check client_id and tenant" },
	{ 90002, NULL, M2C_E_CONFIG, "the tenant was not found", "check tenant (and cloud)" },
	{ 50194, NULL, M2C_E_CONFIG, "the app is single-tenant but was used with /common",
	  "set tenant to the Directory (tenant) ID" },
	{ 7000215, NULL, M2C_E_CONFIG, "the client secret is wrong",
	  "put the secret's Value, not its Secret ID, in client_secret_file" },
	{ 7000222, NULL, M2C_E_CONFIG, "the client secret has expired",
	  "create a new one under Certificates & secrets and put its Value in "
	  "client_secret_file" },
	{ 700027, NULL, M2C_E_CONFIG, "the certificate is not registered or the assertion "
	  "signature is invalid", "upload the certificate under Certificates & secrets; check "
	  "that certificate_file and private_key_file match" },
	{ 500011, NULL, M2C_E_CONFIG, "the resource is not in the tenant (the Office 365 "
	  "Exchange Online service principal is missing)", "check cloud and scopes" },
	{ 700082, NULL, M2C_E_AUTH, "the refresh token expired", SIGN_IN_AGAIN },
	{ 50173, NULL, M2C_E_AUTH, "the refresh token was revoked (password change or an "
	  "administrator)", SIGN_IN_AGAIN },
	{ 70043, NULL, M2C_E_AUTH, "the refresh token is past the sign-in frequency of "
	  "Conditional Access", SIGN_IN_AGAIN },
	{ 50034, NULL, M2C_E_AUTH, "the user account does not exist in the tenant",
	  "sign in with an account of the tenant (LOGIN), or check tenant" },
	/* RFC 6749 5.2 and RFC 8628 3.5, when there is no known AADSTS code. */
	{ 0, "invalid_client", M2C_E_CONFIG, "the client was refused",
	  "check client_id, client_secret_file or the certificate" },
	{ 0, "invalid_grant", M2C_E_AUTH, "the grant is invalid, expired or revoked",
	  SIGN_IN_AGAIN },
	{ 0, "unauthorized_client", M2C_E_CONFIG, "the client may not use this grant",
	  "check flow and the app registration" },
	{ 0, "invalid_scope", M2C_E_CONFIG, "the requested scope is not valid",
	  "check scopes (and cloud)" },
	{ 0, "unsupported_grant_type", M2C_E_CONFIG, "the provider does not support this flow",
	  "choose another flow" },
	{ 0, "temporarily_unavailable", M2C_E_TEMP, "the identity provider is busy",
	  "try again later" },
	{ 0, "server_error", M2C_E_TEMP, "the identity provider had an internal error",
	  "try again later" },
};

long
oauth_error_aadsts(const char *text)
{
	const char *p;

	if (text == NULL || (p = strstr(text, "AADSTS")) == NULL)
		return 0;
	p += 6;
	if (*p < '0' || *p > '9')
		return 0;
	return strtol(p, NULL, 10);
}

static const struct advice *
lookup(long code, const char *error)
{
	size_t i;

	for (i = 0; code != 0 && i < ARRAY_SIZE(table); i++)
		if (table[i].code == code)
			return &table[i];
	for (i = 0; error != NULL && i < ARRAY_SIZE(table); i++)
		if (table[i].error != NULL && strcmp(table[i].error, error) == 0)
			return &table[i];
	return NULL;
}

/* The first line of s, control characters replaced, at most max bytes; allocated. */
static char *
one_line(const char *s, size_t max)
{
	struct buf b = { 0 };

	for (; s != NULL && *s && *s != '\r' && *s != '\n' && b.len < max; s++)
		buf_appendc(&b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	if (s != NULL && *s && *s != '\r' && *s != '\n')
		buf_append(&b, "...", 3);
	return buf_steal(&b);
}

/* Advice text with "LOGIN" replaced by the sign-in command; allocated. */
static char *
subst_login(const char *todo, const char *login)
{
	const char *p = strstr(todo, "LOGIN");

	if (p == NULL)
		return xstrdup(todo);
	return xasprintf("%.*s%s%s", (int)(p - todo), todo,
	    login ? login : "mail2cups-oauth login NAME", p + 5);
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

int
oauth_error_from_response(const char *provider, const char *login, long http_status,
    const char *body, size_t len, const char *context, char **errstr)
{
	json_t *j = NULL;
	const struct advice *a;
	const char *error = NULL, *desc = NULL;
	char *line = NULL, *todo = NULL, *code_txt = NULL, *extra = NULL;
	long code = 0;
	int r;

	if (context == NULL)
		context = "sign-in";
	if (body != NULL && len > 0)
		j = json_loadb(body, len, 0, NULL);
	if (j != NULL && json_is_object(j)) {
		json_t *codes = json_object_get(j, "error_codes");

		error = json_string_value(json_object_get(j, "error"));
		desc = json_string_value(json_object_get(j, "error_description"));
		if (json_is_array(codes) && json_is_integer(json_array_get(codes, 0)))
			code = (long)json_integer_value(json_array_get(codes, 0));
		if (code == 0)
			code = oauth_error_aadsts(desc);
		line = one_line(desc, 1000);
		log_warn("%s: %s answered HTTP %ld, error %s: %s (trace_id %s, correlation_id %s, "
		    "timestamp %s)", context, provider ? provider : "the identity provider",
		    http_status, error ? error : "-", line, jstr(j, "trace_id"),
		    jstr(j, "correlation_id"), jstr(j, "timestamp"));
		free(line);
		line = NULL;
	} else {
		/* An HTML error page or anything else: it may still name a code. */
		char *text = body != NULL ? xstrndup(body, len) : xstrdup("");

		code = oauth_error_aadsts(text);
		line = one_line(text, 200);
		log_warn("%s: %s answered HTTP %ld without an OAuth error object: %s", context,
		    provider ? provider : "the identity provider", http_status, line);
		free(line);
		line = NULL;
		free(text);
	}
	if (code != 0)
		code_txt = xasprintf("AADSTS%ld: ", code);
	else
		code_txt = xstrdup("");

	a = lookup(code, error);
	if (a != NULL && a->cls != M2C_E_TEMP && http_status < 500) {
		todo = subst_login(a->todo, login);
		if (provider != NULL && strcmp(provider, "google") == 0 && error != NULL &&
		    strcmp(error, "invalid_grant") == 0 && desc != NULL &&
		    strstr(desc, "expired or revoked") != NULL)
			extra = xstrdup("; if the app's OAuth consent screen is in \"Testing\", "
			    "refresh tokens expire after 7 days: publish the app (In production)");
		r = m2c_fail(errstr, a->cls, "%s failed: %s%s: %s%s", context, code_txt, a->what,
		    todo, extra ? extra : "");
	} else if (http_status >= 500 || http_status == 429 || (a && a->cls == M2C_E_TEMP)) {
		r = m2c_fail(errstr, M2C_E_TEMP, "%s failed: %sthe identity provider answered "
		    "HTTP %ld (%s): try again later", context, code_txt, http_status,
		    error ? error : "server error");
	} else if (error != NULL) {
		const char *d = desc;

		/* Microsoft's text starts with "AADSTSnnnn: ": already in code_txt. */
		if (d != NULL && code != 0 && strncmp(d, "AADSTS", 6) == 0 && strstr(d, ": "))
			d = strstr(d, ": ") + 2;
		line = one_line(d ? d : "no description", DESC_MAX);
		todo = subst_login("check the account's oauth settings, or sign in again: "
		    "LOGIN", login);
		r = m2c_fail(errstr, M2C_E_AUTH, "%s failed: %s%s: %s; %s", context, code_txt,
		    error, line, todo);
	} else if (http_status == 404) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "%s failed: the identity provider has no such "
		    "endpoint (HTTP 404): check authority, tenant and issuer", context);
	} else {
		r = m2c_fail(errstr, M2C_E_PROTO, "%s failed: %sthe identity provider answered "
		    "HTTP %ld without an OAuth error: check authority, tenant and issuer", context,
		    code_txt, http_status);
	}
	free(line);
	free(todo);
	free(extra);
	free(code_txt);
	json_decref(j);
	return r;
}
