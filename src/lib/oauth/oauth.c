/*
 * oauth.c - OAuth 2.0 for mail: providers, flows, refresh; see oauth.h.
 *
 * Implements: RFC 6749 (OAuth 2.0), RFC 8628 (device authorization grant),
 * RFC 7636 (PKCE, S256), RFC 7523 (JWT
 * client assertion, JWT bearer grant), RFC 7628 (OAUTHBEARER), RFC 5801
 * (GS2 name escaping), OpenID Connect Discovery 1.0 section 4.  The
 * authorization code's redirect (the loopback listener, a pasted address)
 * is oauth-listen.c.
 */
#include "m2c-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "advice.h"
#include "error.h"
#include "http.h"
#include "jwt.h"
#include "log.h"
#include "oauth-error.h"
#include "oauth.h"
#include "secret.h"
#include "util.h"

#define GT_DEVICE "urn:ietf:params:oauth:grant-type:device_code"
#define GT_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define ASSERTION_LIFETIME 600
#define MAX_FIELDS 12

/* idp_post results besides 0 and errors. */
#define POST_PENDING 1
#define POST_SLOW_DOWN 2
#define POST_EXPIRED 3

struct cloud {
	const char *login;	/* authority */
	const char *res;	/* delegated scopes' resource */
	const char *app_res;	/* client credentials resource */
};

static const struct cloud clouds[] = {
	[CONF_CLOUD_GLOBAL] = { "https://login.microsoftonline.com", "https://outlook.office.com",
	    "https://outlook.office365.com" },
	[CONF_CLOUD_GCCHIGH] = { "https://login.microsoftonline.us",
	    "https://outlook.office365.us", "https://outlook.office365.us" },
	[CONF_CLOUD_DOD] = { "https://login.microsoftonline.us", "https://outlook.office365.us",
	    "https://outlook.office365.us" },
	[CONF_CLOUD_CHINA] = { "https://login.partner.microsoftonline.cn",
	    "https://partner.outlook.cn", "https://partner.outlook.cn" },
};

#define GOOGLE_AUTHORITY "https://oauth2.googleapis.com"
#define GOOGLE_AUTHORIZE "https://accounts.google.com/o/oauth2/v2/auth"
#define GOOGLE_SCOPE "https://mail.google.com/"
#define GENERIC_SCOPE "openid profile email offline_access"

int
oauth_global_init(void)
{
	return http_global_init();
}

/* ---------------------------------------------------------------- client */

void
oauth_client_clear(struct oauth_client *c)
{
	if (c == NULL)
		return;
	free(c->provider_name);
	free(c->client_id);
	free_secret(c->client_secret);
	free(c->cert_file);
	free(c->key_file);
	free(c->device_endpoint);
	free(c->token_endpoint);
	free(c->authorize_endpoint);
	free(c->scope);
	free(c->app_scope);
	free(c->subject);
	free(c->account);
	free(c->login);
	memset(c, 0, sizeof(*c));
}

static char *
strip_slash(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	return xstrndup(s, n);
}

static char *
join_scopes(const struct conf_strlist *l)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			buf_appendc(&b, ' ');
		buf_append(&b, l->v[i], strlen(l->v[i]));
	}
	return buf_steal(&b);
}

/* A string member of a JSON object, copied, or NULL. */
static char *
jdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? xstrdup(s) : NULL;
}

/* An endpoint from a discovery document: present and allowed. */
static int
discovered(json_t *doc, const char *key, int required, const char *url, char **out,
    char **errstr)
{
	*out = jdup(doc, key);
	if (*out == NULL)
		return required ? m2c_fail(errstr, M2C_E_CONFIG, "the OpenID configuration at "
		    "%s has no %s: check issuer", url, key) : 0;
	if (!http_url_allowed(*out)) {
		free(*out);
		*out = NULL;
		return m2c_fail(errstr, M2C_E_CONFIG, "the OpenID configuration at %s names a "
		    "%s that is not https (plain http is only allowed to loopback): check issuer",
		    url, key);
	}
	return 0;
}

/* OpenID Connect Discovery 1.0 section 4. */
static int
discover(struct oauth_client *c, const char *issuer, char **errstr)
{
	struct http_resp resp;
	json_t *doc = NULL;
	char *iss = strip_slash(issuer);
	char *url = xasprintf("%s/.well-known/openid-configuration", iss);
	const char *got;
	int r;

	if ((r = http_get(url, c->timeout_ms, &resp, errstr)) != 0)
		goto out;
	if (resp.status != 200 ||
	    (doc = json_loadb(resp.body, resp.len, 0, NULL)) == NULL || !json_is_object(doc)) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "OpenID discovery at %s failed (HTTP %ld, "
		    "no JSON configuration): check issuer", url, resp.status);
		goto out;
	}
	got = json_string_value(json_object_get(doc, "issuer"));
	if (got == NULL || (strcmp(got, issuer) != 0 && strcmp(got, iss) != 0)) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "OpenID discovery at %s names the issuer "
		    "\"%s\", not the configured \"%s\": set issuer to the provider's exact issuer",
		    url, got ? got : "(none)", issuer);
		goto out;
	}
	if ((r = discovered(doc, "token_endpoint", 1, url, &c->token_endpoint, errstr)) != 0 ||
	    (r = discovered(doc, "device_authorization_endpoint", 0, url, &c->device_endpoint,
	    errstr)) != 0 ||
	    (r = discovered(doc, "authorization_endpoint", 0, url, &c->authorize_endpoint,
	    errstr)) != 0)
		goto out;
out:
	json_decref(doc);
	http_resp_clear(&resp);
	free(url);
	free(iss);
	return r;
}

int
oauth_client_init(const struct conf *cf, const struct conf_account *a, int timeout_s,
    struct oauth_client *c, char **errstr)
{
	const struct conf_oauth *o = &a->oauth;
	char *base = NULL;
	int r = 0;

	memset(c, 0, sizeof(*c));
	c->account = xstrdup(a->name ? a->name : "NAME");
	c->login = advice_login(cf, a->name);
	c->timeout_ms = (timeout_s > 0 ? timeout_s : 30) * 1000;
	c->assertion_alg = a->oauth.assertion_rs256 ? JWT_RS256 : JWT_PS256;
	if (o->client_id == NULL) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "account %s: oauth.client_id is not set: set "
		    "it to the Application (client) ID of the app registration", c->account);
		goto out;
	}
	c->client_id = xstrdup(o->client_id);
	if (o->certificate_file)
		c->cert_file = xstrdup(o->certificate_file);
	if (o->private_key_file)
		c->key_file = xstrdup(o->private_key_file);
	if (a->username)
		c->subject = xstrdup(a->username);
	if (o->client_secret_file != NULL &&
	    (r = secret_file_read(o->client_secret_file, &c->client_secret, errstr)) != 0)
		goto out;
	if (o->authority != NULL) {
		if (!http_url_allowed(o->authority)) {
			r = m2c_fail(errstr, M2C_E_CONFIG, "account %s: oauth.authority \"%s\" "
			    "is refused: use https (plain http only to a loopback address)",
			    c->account, o->authority);
			goto out;
		}
		base = strip_slash(o->authority);
	}

	switch (o->provider) {
	case CONF_PROVIDER_MICROSOFT: {
		const struct cloud *cl = &clouds[o->cloud];
		const char *tenant = o->tenant ? o->tenant : "organizations";
		char *ep;

		c->provider_name = xstrdup("microsoft");
		c->is_microsoft = 1;
		ep = xasprintf("%s/%s/oauth2/v2.0", base ? base : cl->login, tenant);
		c->device_endpoint = xasprintf("%s/devicecode", ep);
		c->token_endpoint = xasprintf("%s/token", ep);
		c->authorize_endpoint = xasprintf("%s/authorize", ep);
		free(ep);
		c->scope = xasprintf("%s/IMAP.AccessAsUser.All %s/SMTP.Send offline_access "
		    "openid profile email", cl->res, cl->res);
		c->app_scope = xasprintf("%s/.default", cl->app_res);
		break;
	}
	case CONF_PROVIDER_GOOGLE:
		c->provider_name = xstrdup("google");
		c->token_endpoint = xasprintf("%s/token", base ? base : GOOGLE_AUTHORITY);
		c->device_endpoint = xasprintf("%s/device/code", base ? base : GOOGLE_AUTHORITY);
		c->authorize_endpoint = base ? xasprintf("%s/o/oauth2/v2/auth", base) :
		    xstrdup(GOOGLE_AUTHORIZE);
		c->scope = xstrdup(GOOGLE_SCOPE);
		c->app_scope = xstrdup(GOOGLE_SCOPE);
		c->service_account = o->flow == CONF_FLOW_CLIENT_CREDENTIALS;
		break;
	case CONF_PROVIDER_GENERIC:
		c->provider_name = xstrdup("generic");
		if (o->issuer == NULL) {
			r = m2c_fail(errstr, M2C_E_CONFIG, "account %s: the generic provider needs "
			    "oauth.issuer (OpenID discovery)", c->account);
			goto out;
		}
		if (!http_url_allowed(o->issuer)) {
			r = m2c_fail(errstr, M2C_E_CONFIG, "account %s: oauth.issuer \"%s\" is "
			    "refused: use https (plain http only to a loopback address)",
			    c->account, o->issuer);
			goto out;
		}
		if ((r = discover(c, o->issuer, errstr)) != 0)
			goto out;
		c->scope = xstrdup(GENERIC_SCOPE);
		c->app_scope = xstrdup(GENERIC_SCOPE);
		break;
	default:
		r = m2c_fail(errstr, M2C_E_CONFIG, "account %s has no oauth provider: set "
		    "oauth.provider to microsoft, google or generic", c->account);
		goto out;
	}
	if (o->scopes.n > 0) {
		free(c->scope);
		free(c->app_scope);
		c->scope = join_scopes(&o->scopes);
		c->app_scope = xstrdup(c->scope);
	}
out:
	free(base);
	if (r != 0)
		oauth_client_clear(c);
	return r;
}

/* ---------------------------------------------------------------- tokens */

void
oauth_tokens_clear(struct oauth_tokens *t)
{
	if (t == NULL)
		return;
	free_secret(t->access_token);
	free_secret(t->refresh_token);
	free_secret(t->id_token);
	free(t->scope);
	free(t->identity);
	memset(t, 0, sizeof(*t));
}

void
oauth_device_clear(struct oauth_device *d)
{
	if (d == NULL)
		return;
	free_secret(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	free(d->message);
	memset(d, 0, sizeof(*d));
}

/* A number of seconds: a JSON integer, or a string of digits (some IdPs). */
static long
jseconds(json_t *o, const char *key, long dflt)
{
	json_t *v = json_object_get(o, key);
	long n;

	if (json_is_integer(v))
		n = (long)json_integer_value(v);
	else if (json_is_string(v))
		n = strtol(json_string_value(v), NULL, 10);
	else
		return dflt;
	return n > 0 && n < 100L * 24 * 3600 ? n : dflt;
}

/* The first of the claims keys that is a non-empty string; allocated or NULL. */
static char *
claim_identity(const char *jwt, const char *const *keys)
{
	json_t *cl = jwt_claims(jwt);
	char *r = NULL;

	for (; cl != NULL && *keys != NULL && r == NULL; keys++) {
		const char *s = json_string_value(json_object_get(cl, *keys));

		if (s != NULL && *s != '\0')
			r = xstrdup(s);
	}
	json_decref(cl);
	return r;
}

static void
replace_secret(char **dst, char *val)
{
	free_secret(*dst);
	*dst = val;
	log_secret_add(val);
}

/* Fill t from a successful token response (RFC 6749 5.1). */
static int
parse_tokens(const struct oauth_client *c, json_t *j, struct oauth_tokens *t, char **errstr)
{
	static const char *const id_keys[] = { "preferred_username", "upn", "email", NULL };
	static const char *const at_keys[] = { "upn", "unique_name", "preferred_username", NULL };
	char *at = jdup(j, "access_token"), *rt = jdup(j, "refresh_token");
	char *idt = jdup(j, "id_token"), *who = NULL;
	long exp = jseconds(j, "expires_in", 0);

	if (at == NULL || *at == '\0') {
		free_secret(at);
		free_secret(rt);
		free_secret(idt);
		return m2c_fail(errstr, M2C_E_PROTO, "the identity provider (%s) answered "
		    "without an access_token: check the token endpoint (authority, issuer)",
		    c->token_endpoint);
	}
	replace_secret(&t->access_token, at);
	if (rt != NULL)
		replace_secret(&t->refresh_token, rt);	/* rotation; else keep the old one */
	if (idt != NULL) {
		free_secret(t->id_token);
		t->id_token = idt;
	}
	if (json_is_string(json_object_get(j, "scope"))) {
		free(t->scope);
		t->scope = jdup(j, "scope");
	}
	t->expires_at = exp > 0 ? time(NULL) + exp : 0;
	if (t->id_token != NULL && idt != NULL)
		who = claim_identity(t->id_token, id_keys);
	if (who == NULL)
		who = claim_identity(t->access_token, at_keys);
	if (who != NULL) {
		free(t->identity);
		t->identity = who;
	}
	return 0;
}

/* ---------------------------------------------------------------- requests */

/*
 * POST fields to url.  0 with *out (a JSON object) on a 2xx answer.  With
 * device_poll, authorization_pending and slow_down (the error string is read
 * first, RFC 8628 3.5) return POST_PENDING / POST_SLOW_DOWN, and expired_token
 * POST_EXPIRED (with its explanation in *errstr).  Other error
 * answers are mapped by oauth_error_from_response.
 */
static int
idp_post(const struct oauth_client *c, const char *url, const struct http_field *f,
    size_t n, const char *context, int device_poll, json_t **out, char **errstr)
{
	struct http_resp resp;
	json_t *j = NULL;
	int r;

	*out = NULL;
	if (url == NULL)
		return m2c_fail(errstr, M2C_E_CONFIG, "%s failed: the provider has no endpoint "
		    "for this flow: choose another flow", context);
	if ((r = http_post_form(url, f, n, c->timeout_ms, &resp, errstr)) != 0)
		return r;
	if (resp.len > 0)
		j = json_loadb(resp.body, resp.len, 0, NULL);
	if (resp.status >= 200 && resp.status < 300) {
		if (json_is_object(j)) {
			*out = j;
			j = NULL;
			r = 0;
		} else
			r = m2c_fail(errstr, M2C_E_PROTO, "%s failed: the identity provider's "
			    "answer is not a JSON object: check authority and issuer", context);
		goto out;
	}
	if (device_poll && json_is_object(j)) {
		const char *e = json_string_value(json_object_get(j, "error"));

		if (e != NULL && strcmp(e, "authorization_pending") == 0) {
			r = POST_PENDING;
			goto out;
		}
		if (e != NULL && strcmp(e, "slow_down") == 0) {
			r = POST_SLOW_DOWN;
			goto out;
		}
		/* The code is dead (RFC 8628 3.5): explained below, remembered. */
		if (e != NULL && strcmp(e, "expired_token") == 0) {
			(void)oauth_error_from_response(c->provider_name, c->login, resp.status,
			    resp.body, resp.len, context, errstr);
			r = POST_EXPIRED;
			goto out;
		}
	}
	r = oauth_error_from_response(c->provider_name, c->login, resp.status, resp.body,
	    resp.len, context, errstr);
out:
	json_decref(j);
	http_resp_clear(&resp);
	return r;
}

static char *
random_b64url(size_t nbytes)
{
	unsigned char b[64];

	if (nbytes > sizeof(b) || RAND_bytes(b, (int)nbytes) != 1) {
		log_error("the random number generator failed");
		abort();
	}
	return b64url_encode(b, nbytes);
}

/* A client assertion (RFC 7523 2.2) signed with the certificate's key. */
static int
make_assertion(const struct oauth_client *c, char **out, char **errstr)
{
	struct jwt_key k;
	json_t *claims;
	char *jti = random_b64url(18);
	time_t now = time(NULL);
	int r;

	*out = NULL;
	if ((r = jwt_key_load(c->key_file, c->cert_file, &k, errstr)) != 0) {
		free(jti);
		return r;
	}
	if (!k.has_cert) {
		jwt_key_clear(&k);
		free(jti);
		return m2c_fail(errstr, M2C_E_CONFIG, "a client assertion needs the certificate "
		    "registered with the app: set certificate_file (or put the certificate after "
		    "the key in private_key_file)");
	}
	claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "aud", c->token_endpoint,
	    "iss", c->client_id, "sub", c->client_id, "jti", jti, "nbf", (json_int_t)now,
	    "iat", (json_int_t)now, "exp", (json_int_t)(now + ASSERTION_LIFETIME));
	r = jwt_sign(&k, c->assertion_alg, NULL, claims, out, errstr);
	json_decref(claims);
	jwt_key_clear(&k);
	free(jti);
	return r;
}

/*
 * Append client authentication: client_secret, or a client assertion
 * (*assertion receives it; caller frees), or nothing (public client).
 */
static int
add_client_auth(const struct oauth_client *c, struct http_field *f, size_t *n,
    char **assertion, char **errstr)
{
	int r;

	*assertion = NULL;
	if (c->client_secret != NULL) {
		f[(*n)++] = (struct http_field){ "client_secret", c->client_secret };
		return 0;
	}
	if (c->key_file != NULL && !c->service_account) {
		if ((r = make_assertion(c, assertion, errstr)) != 0)
			return r;
		f[(*n)++] = (struct http_field){ "client_assertion_type", ASSERTION_TYPE };
		f[(*n)++] = (struct http_field){ "client_assertion", *assertion };
	}
	return 0;
}

/* A token request with client authentication; tokens parsed into t. */
static int
token_request(const struct oauth_client *c, struct http_field *f, size_t n,
    const char *context, int device_poll, struct oauth_tokens *t, char **errstr)
{
	char *assertion = NULL;
	json_t *j = NULL;
	int r;

	if ((r = add_client_auth(c, f, &n, &assertion, errstr)) != 0)
		return r;
	r = idp_post(c, c->token_endpoint, f, n, context, device_poll, &j, errstr);
	if (r == 0)
		r = parse_tokens(c, j, t, errstr);
	json_decref(j);
	free_secret(assertion);
	return r;
}

/* ---------------------------------------------------------------- device flow */

int
oauth_device_start(const struct oauth_client *c, struct oauth_device *d, char **errstr)
{
	struct http_field f[] = {
		{ "client_id", c->client_id },
		{ "scope", c->scope },
	};
	json_t *j = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	if (c->device_endpoint == NULL)
		return m2c_fail(errstr, M2C_E_CONFIG, "%s: the provider has no device "
		    "authorization endpoint: use flow = \"authcode\"", c->account);
	if ((r = idp_post(c, c->device_endpoint, f, ARRAY_SIZE(f), "sign-in (device code)", 0,
	    &j, errstr)) != 0)
		return r;
	d->device_code = jdup(j, "device_code");
	d->user_code = jdup(j, "user_code");
	d->verification_uri = jdup(j, "verification_uri");
	if (d->verification_uri == NULL)	/* Google's name for it */
		d->verification_uri = jdup(j, "verification_url");
	d->verification_uri_complete = jdup(j, "verification_uri_complete");
	d->message = jdup(j, "message");
	d->expires_at = time(NULL) + jseconds(j, "expires_in", 900);
	d->interval = (int)jseconds(j, "interval", 5);
	json_decref(j);
	if (d->device_code == NULL || d->user_code == NULL || d->verification_uri == NULL) {
		oauth_device_clear(d);
		return m2c_fail(errstr, M2C_E_PROTO, "sign-in (device code) failed: the answer "
		    "of %s lacks device_code, user_code or verification_uri: check authority "
		    "and issuer", c->device_endpoint);
	}
	log_secret_add(d->device_code);
	return 0;
}

int
oauth_device_poll(const struct oauth_client *c, struct oauth_device *d,
    enum oauth_poll *state, struct oauth_tokens *t, char **errstr)
{
	struct http_field f[MAX_FIELDS] = {
		{ "grant_type", GT_DEVICE },
		{ "device_code", d->device_code },
		{ "client_id", c->client_id },
	};
	int r;

	*state = OAUTH_POLL_PENDING;
	if (d->expires_at != 0 && time(NULL) >= d->expires_at)
		return m2c_fail(errstr, M2C_E_AUTH, "sign-in failed: " OAUTH_MSG_CODE_EXPIRED
		    ": start again: %s offers a new code", c->login);
	r = token_request(c, f, 3, "sign-in", 1, t, errstr);
	/* The server's word counts over our clock: the code is dead. */
	if (r == POST_EXPIRED) {
		d->expires_at = time(NULL);
		r = M2C_E_AUTH;
	} else if (r == POST_PENDING)
		r = 0;
	else if (r == POST_SLOW_DOWN) {
		d->interval += 5;
		*state = OAUTH_POLL_SLOW_DOWN;
		r = 0;
	} else if (r == 0)
		*state = OAUTH_POLL_DONE;
	return r;
}

/* ---------------------------------------------------------------- refresh */

int
oauth_refresh(const struct oauth_client *c, struct oauth_tokens *t, char **errstr)
{
	struct http_field f[MAX_FIELDS] = {
		{ "grant_type", "refresh_token" },
		{ "refresh_token", t->refresh_token },
		{ "client_id", c->client_id },
		{ "scope", c->is_microsoft ? c->scope : NULL },
	};

	if (t->refresh_token == NULL)
		return m2c_fail(errstr, M2C_E_AUTH, "token refresh failed: there is no refresh "
		    "token: sign in again: %s", c->login);
	return token_request(c, f, 4, "token refresh", 0, t, errstr);
}

/* ---------------------------------------------------------------- app-only */

/* Google service account: JWT bearer grant (RFC 7523 2.1). */
static int
service_account_token(const struct oauth_client *c, struct oauth_tokens *t, char **errstr)
{
	struct http_field f[2] = { { "grant_type", GT_JWT_BEARER }, { "assertion", NULL } };
	struct jwt_key k = { 0 };
	struct stat st;
	json_t *key = NULL, *claims = NULL, *j = NULL;
	const char *email, *pem, *uri;
	char *jwt = NULL, *token_uri = NULL;
	time_t now = time(NULL);
	int r;

	if (c->key_file == NULL) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "%s: a Google service account needs "
		    "private_key_file = the service account's JSON key", c->account);
		goto out;
	}
	if (stat(c->key_file, &st) != 0) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "cannot read %s: %s", c->key_file,
		    strerror(errno));
		goto out;
	}
	if ((r = secret_check_perms(&st, c->key_file, errstr)) != 0)
		goto out;
	key = json_load_file(c->key_file, 0, NULL);
	email = json_string_value(json_object_get(key, "client_email"));
	pem = json_string_value(json_object_get(key, "private_key"));
	uri = json_string_value(json_object_get(key, "token_uri"));
	if (email == NULL || pem == NULL) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "%s is not a service account JSON key "
		    "(client_email, private_key): download a key for the service account",
		    c->key_file);
		goto out;
	}
	token_uri = xstrdup(uri ? uri : c->token_endpoint);
	if (!http_url_allowed(token_uri)) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "%s: token_uri %s is not https",
		    c->key_file, token_uri);
		goto out;
	}
	if ((r = jwt_key_from_pem(pem, c->key_file, &k, errstr)) != 0)
		goto out;
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", email, "scope", c->app_scope,
	    "aud", token_uri, "iat", (json_int_t)now, "exp", (json_int_t)(now + 3600));
	if (c->subject != NULL)
		json_object_set_new(claims, "sub", json_string(c->subject));
	if ((r = jwt_sign(&k, JWT_RS256, NULL, claims, &jwt, errstr)) != 0)
		goto out;
	f[1].value = jwt;
	if ((r = idp_post(c, token_uri, f, 2, "service account sign-in", 0, &j, errstr)) != 0)
		goto out;
	r = parse_tokens(c, j, t, errstr);
out:
	jwt_key_clear(&k);
	json_decref(key);
	json_decref(claims);
	json_decref(j);
	free_secret(jwt);
	free(token_uri);
	return r;
}

int
oauth_client_credentials(const struct oauth_client *c, struct oauth_tokens *t, char **errstr)
{
	struct http_field f[MAX_FIELDS] = {
		{ "grant_type", "client_credentials" },
		{ "client_id", c->client_id },
		{ "scope", c->app_scope },
	};

	if (c->service_account)
		return service_account_token(c, t, errstr);
	if (c->client_secret == NULL && c->key_file == NULL)
		return m2c_fail(errstr, M2C_E_CONFIG, "%s: client credentials need "
		    "client_secret_file, or certificate_file and private_key_file", c->account);
	return token_request(c, f, 3, "app-only sign-in", 0, t, errstr);
}

/* ---------------------------------------------------------------- PKCE */

void
oauth_pkce_new(struct oauth_pkce *p)
{
	unsigned char digest[32];
	unsigned char st[16];
	unsigned int dlen = sizeof(digest);
	char *v = random_b64url(32), *ch;
	size_t i;

	memset(p, 0, sizeof(*p));
	snprintf(p->verifier, sizeof(p->verifier), "%s", v);	/* 43 chars */
	EVP_Digest(p->verifier, strlen(p->verifier), digest, &dlen, EVP_sha256(), NULL);
	ch = b64url_encode(digest, dlen);
	snprintf(p->challenge, sizeof(p->challenge), "%s", ch);
	if (RAND_bytes(st, sizeof(st)) != 1) {
		log_error("the random number generator failed");
		abort();
	}
	for (i = 0; i < sizeof(st); i++)
		snprintf(p->state + 2 * i, 3, "%02x", st[i]);
	free_secret(v);
	free(ch);
}

char *
oauth_authorize_url(const struct oauth_client *c, const struct oauth_pkce *p,
    const char *redirect_uri, const char *login_hint)
{
	int google = c->provider_name != NULL && strcmp(c->provider_name, "google") == 0;
	/* Microsoft: let the person pick the account; Google: ask again for
	 * consent and offline access, or no refresh token comes back. */
	const struct http_field f[] = {
		{ "client_id", c->client_id },
		{ "response_type", "code" },
		{ "redirect_uri", redirect_uri },
		{ "scope", c->scope },
		{ "state", p->state },
		{ "code_challenge", p->challenge },
		{ "code_challenge_method", "S256" },
		{ "login_hint", login_hint },
		{ "prompt", c->is_microsoft ? "select_account" : google ? "consent" : NULL },
		{ "access_type", google ? "offline" : NULL },
	};
	struct buf b = { 0 };
	size_t i;

	if (c->authorize_endpoint == NULL)
		return NULL;
	buf_append(&b, c->authorize_endpoint, strlen(c->authorize_endpoint));
	buf_appendc(&b, strchr(c->authorize_endpoint, '?') ? '&' : '?');
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		char *v;

		if (f[i].value == NULL)
			continue;
		v = http_urlencode(f[i].value);
		buf_appendf(&b, "%s%s=%s", i ? "&" : "", f[i].name, v);
		free(v);
	}
	return buf_steal(&b);
}

int
oauth_authcode_exchange(const struct oauth_client *c, const struct oauth_pkce *p,
    const char *code, const char *redirect_uri, struct oauth_tokens *t, char **errstr)
{
	struct http_field f[MAX_FIELDS] = {
		{ "grant_type", "authorization_code" },
		{ "code", code },
		{ "redirect_uri", redirect_uri },
		{ "client_id", c->client_id },
		{ "code_verifier", p->verifier },
	};

	return token_request(c, f, 5, "sign-in", 0, t, errstr);
}

/* ---------------------------------------------------------------- SASL */

char *
oauth_sasl_ir(const char *mech, const char *user, const char *token, const char *host,
    int port)
{
	struct buf b = { 0 };
	char *r;

	if (str_casecmp(mech, "XOAUTH2") == 0) {
		buf_appendf(&b, "user=%s\001auth=Bearer %s\001\001", user, token);
	} else if (str_casecmp(mech, "OAUTHBEARER") == 0) {
		const char *s;

		/* RFC 7628 3.1 with the GS2 header of RFC 5801 (',' and '=' escaped). */
		buf_append(&b, "n,a=", 4);
		for (s = user; *s; s++) {
			if (*s == ',')
				buf_append(&b, "=2C", 3);
			else if (*s == '=')
				buf_append(&b, "=3D", 3);
			else
				buf_appendc(&b, *s);
		}
		buf_appendf(&b, ",\001host=%s\001port=%d\001auth=Bearer %s\001\001", host, port,
		    token);
	} else
		return NULL;
	r = b64_encode((unsigned char *)b.data, b.len);
	buf_free_secret(&b);
	log_secret_add(r);
	return r;
}

/* ---------------------------------------------------------------- identity */

int
oauth_check_identity_for(const struct oauth_tokens *t, const char *expected,
    const char *account, char **errstr)
{
	if (expected == NULL || t->identity == NULL) {
		if (expected != NULL)
			log_info("the identity provider did not say who signed in; cannot check "
			    "that it is %s", expected);
		return 0;
	}
	if (str_casecmp(t->identity, expected) == 0)
		return 0;
	return m2c_fail(errstr, M2C_E_AUTH, "signed in as %s, but account %s reads the mailbox "
	    "as %s: the mailbox would refuse the token (\"User is authenticated but not "
	    "connected\")", t->identity, account ? account : "NAME", expected);
}
