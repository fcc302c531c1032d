/* test-oauth-error.c - identity provider errors -> class and advice. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "oauth-error.h"
#include "tap.h"
#include "util.h"

/* The sign-in command the advice names: the config's -c included (advice_login). */
#define LOGIN "mail2cups-oauth -c /srv/print/m2c.conf login office"

static struct buf logged;

static void
sink(enum log_level level, const char *line, void *arg)
{
	(void)arg;
	buf_appendf(&logged, "%d|%s\n", (int)level, line);
}

/* A body shaped like Microsoft's (and tests/idp/fake_idp.py's error_body). */
static char *
ms_body(long code, const char *error, const char *text)
{
	return xasprintf("{\"error\": \"%s\", \"error_description\": \"AADSTS%ld: %s\\r\\n"
	    "Trace ID: 0b1c2d3e-0000-4000-8000-000000000001\\r\\nCorrelation ID: "
	    "c0ffee00-0000-4000-8000-000000000002\\r\\nTimestamp: 2026-01-01 10:00:00Z\", "
	    "\"error_codes\": [%ld], \"timestamp\": \"2026-01-01 10:00:00Z\", "
	    "\"trace_id\": \"0b1c2d3e-0000-4000-8000-000000000001\", "
	    "\"correlation_id\": \"c0ffee00-0000-4000-8000-000000000002\", "
	    "\"error_uri\": \"https://login.microsoftonline.com/error?code=%ld\"}",
	    error, code, text, code, code);
}

static const struct {
	long code;
	const char *error;
	long status;
	int cls;
	const char *advice;
} ms[] = {
	{ 7000218, "invalid_client", 401, M2C_E_CONFIG, "\"Allow public client flows\" under Authentication > Advanced settings" },
	{ 70020, "expired_token", 400, M2C_E_AUTH, "the sign-in code expired: start again" },
	{ 70000, "invalid_grant", 400, M2C_E_AUTH, "sign in again: " LOGIN },
	{ 65001, "invalid_grant", 400, M2C_E_CONFIG, "Grant admin consent" },
	{ 50076, "invalid_grant", 400, M2C_E_AUTH, "multi-factor authentication is required" },
	{ 50079, "invalid_grant", 400, M2C_E_AUTH, "device flow supports MFA" },
	{ 53003, "invalid_grant", 400, M2C_E_CONFIG, "flow = \"authcode\"" },
	{ 50011, "invalid_request", 400, M2C_E_CONFIG, "\"Mobile and desktop applications\" with http://localhost" },
	{ 700016, "unauthorized_client", 400, M2C_E_CONFIG, "check client_id and tenant" },
	{ 90002, "invalid_request", 400, M2C_E_CONFIG, "check tenant" },
	{ 50194, "invalid_request", 400, M2C_E_CONFIG, "Directory (tenant) ID" },
	{ 7000215, "invalid_client", 401, M2C_E_CONFIG, "Value, not its Secret ID" },
	{ 7000222, "invalid_client", 401, M2C_E_CONFIG, "create a new one under Certificates & secrets" },
	{ 700027, "invalid_client", 401, M2C_E_CONFIG, "certificate_file and private_key_file match" },
	{ 500011, "invalid_resource", 400, M2C_E_CONFIG, "Office 365 Exchange Online service principal" },
	{ 700082, "invalid_grant", 400, M2C_E_AUTH, "refresh token expired: sign in again: " LOGIN },
	{ 50173, "invalid_grant", 400, M2C_E_AUTH, "revoked" },
	{ 70043, "invalid_grant", 400, M2C_E_AUTH, "sign-in frequency" },
	{ 50034, "invalid_grant", 400, M2C_E_AUTH, "does not exist in the tenant" },
	{ 65004, "authorization_declined", 400, M2C_E_AUTH, "sign-in was declined" },
	{ 70018, "bad_verification_code", 400, M2C_E_AUTH, "start again" },
	/* Unknown code: the provider's text, sign-in class. */
	{ 9999999, "invalid_request", 400, M2C_E_AUTH, "invalid_request: Something new happened.; check the account's oauth settings" },
	/* A known code on a 5xx answer is still temporary. */
	{ 90002, "server_error", 503, M2C_E_TEMP, "try again later" },
};

static const struct {
	const char *provider;
	long status;
	const char *body;
	int cls;
	const char *advice;
} other[] = {
	/* RFC 6749 / 8628 errors without AADSTS codes. */
	{ "generic", 401, "{\"error\":\"invalid_client\"}", M2C_E_CONFIG, "check client_id" },
	{ "generic", 400, "{\"error\":\"invalid_grant\",\"error_description\":\"grant expired\"}", M2C_E_AUTH, "sign in again: " LOGIN },
	{ "generic", 400, "{\"error\":\"unauthorized_client\"}", M2C_E_CONFIG, "check flow" },
	{ "generic", 400, "{\"error\":\"invalid_scope\"}", M2C_E_CONFIG, "check scopes" },
	{ "generic", 400, "{\"error\":\"access_denied\"}", M2C_E_AUTH, "sign-in was declined" },
	{ "generic", 400, "{\"error\":\"authorization_declined\"}", M2C_E_AUTH, "sign-in was declined" },
	{ "generic", 400, "{\"error\":\"expired_token\"}", M2C_E_AUTH, "the sign-in code expired" },
	{ "generic", 400, "{\"error\":\"bad_verification_code\"}", M2C_E_AUTH, "start again" },
	{ "generic", 400, "{\"error\":\"made_up\",\"error_description\":\"line one\\r\\nline two\"}", M2C_E_AUTH, "made_up: line one;" },
	/* Google's invalid_grant of an app in Testing. */
	{ "google", 400, "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or revoked.\"}", M2C_E_AUTH, "publish the app (In production)" },
	{ "microsoft", 400, "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or revoked.\"}", M2C_E_AUTH, "sign in again" },
	/* Not JSON. */
	{ "microsoft", 400, "<!DOCTYPE html><html><body><p id=\"error\">AADSTS50011: The redirect URI 'http://127.0.0.1:5/' specified in the request does not match</p></body></html>", M2C_E_CONFIG, "AADSTS50011: the redirect URI is not registered" },
	{ "microsoft", 404, "<html><body>Not Found</body></html>", M2C_E_CONFIG, "HTTP 404" },
	{ "microsoft", 400, "this is not json", M2C_E_PROTO, "without an OAuth error" },
	{ "microsoft", 200, "", M2C_E_PROTO, "without an OAuth error" },
	{ "microsoft", 502, "<html>Bad Gateway</html>", M2C_E_TEMP, "HTTP 502" },
	{ "microsoft", 429, "", M2C_E_TEMP, "try again later" },
	{ "microsoft", 400, "{\"error\": 5}", M2C_E_PROTO, "without an OAuth error" },
	{ "microsoft", 400, "[\"error\"]", M2C_E_PROTO, "without an OAuth error" },
	{ "microsoft", 400, "{\"error\":\"temporarily_unavailable\"}", M2C_E_TEMP, "try again later" },
};

static void
check_one_line(const char *err, const char *what)
{
	ok(err != NULL && strchr(err, '\n') == NULL && strchr(err, '\r') == NULL,
	    "%s: one line", what);
	ok(err != NULL && str_has_prefix(err, "sign-in failed: "), "%s: starts with what failed",
	    what);
}

int
main(void)
{
	char *err = NULL, *body;
	int r;

	log_init("test-oauth-error", 0, LOG_LVL_INFO);
	log_set_sink(sink, NULL);

	for (size_t i = 0; i < ARRAY_SIZE(ms); i++) {
		char code[32];

		body = ms_body(ms[i].code, ms[i].error, ms[i].code == 9999999 ?
		    "Something new happened." : "Text of the provider.");
		buf_reset(&logged);
		r = oauth_error_from_response("microsoft", LOGIN, ms[i].status, body,
		    strlen(body), "sign-in", &err);
		is_int(r, ms[i].cls, "AADSTS%ld -> %s", ms[i].code, m2c_err_name(ms[i].cls));
		has_str(err, ms[i].advice, "AADSTS%ld: advice", ms[i].code);
		snprintf(code, sizeof(code), "AADSTS%ld", ms[i].code);
		has_str(err, code, "AADSTS%ld: the message names the code", ms[i].code);
		check_one_line(err, code);
		has_str(logged.data, "trace_id 0b1c2d3e-0000-4000-8000-000000000001",
		    "AADSTS%ld: trace id logged", ms[i].code);
		has_str(logged.data, "correlation_id c0ffee00-0000-4000-8000-000000000002",
		    "AADSTS%ld: correlation id logged", ms[i].code);
		ok(logged.data && logged.data[0] == '1', "AADSTS%ld: logged at warning level",
		    ms[i].code);
		free(body);
	}
	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		const char *b = other[i].body;

		r = oauth_error_from_response(other[i].provider, LOGIN, other[i].status, b,
		    strlen(b), NULL, &err);
		is_int(r, other[i].cls, "body %zu (HTTP %ld) -> %s", i, other[i].status,
		    m2c_err_name(other[i].cls));
		has_str(err, other[i].advice, "body %zu: advice", i);
		check_one_line(err, "other body");
	}
	/* A NULL body, a NULL account, a context. */
	r = oauth_error_from_response(NULL, NULL, 400, NULL, 0, "token refresh", &err);
	is_int(r, M2C_E_PROTO, "no body at all");
	has_str(err, "token refresh failed: ", "the context names what failed");
	body = ms_body(70000, "invalid_grant", "x");
	r = oauth_error_from_response("microsoft", NULL, 400, body, strlen(body), NULL, &err);
	has_str(err, "mail2cups-oauth login NAME", "without a sign-in command, a placeholder");
	free(body);
	r = oauth_error_from_response("microsoft", LOGIN, 400, "{}", 2, NULL, NULL);
	ok(r < 0, "errstr is optional");

	is_int(oauth_error_aadsts("AADSTS7000218: The request"), 7000218, "oauth_error_aadsts");
	is_int(oauth_error_aadsts("AADSTSx"), 0, "oauth_error_aadsts without digits");
	is_int(oauth_error_aadsts(NULL), 0, "oauth_error_aadsts(NULL)");

	free(err);
	buf_free(&logged);
	log_set_sink(NULL, NULL);
	return tap_done();
}
