/*
 * test-oauth.c - OAuth flows against the fake identity provider
 * (tests/idp/fake_idp.py), started by test-oauth.sh, which passes
 * IDP_URL, IDP_TID and IDP_WORK (certificates, secret files).
 */
#include "m2c-config.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "error.h"
#include "http.h"
#include "jwt.h"
#include "log.h"
#include "oauth.h"
#include "tap.h"
#include "util.h"

#define PUB "aaaaaaaa-0000-0000-0000-000000000001"
#define DAEMON "aaaaaaaa-0000-0000-0000-000000000003"
#define TENANT "contoso.onmicrosoft.com"

static const char *idp, *tid, *work;
static char *err;

/* ------------------------------------------------------------ helpers */

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	buf_append(arg, p, size * n);
	return size * n;
}

/*
 * A request with libcurl: POST json (when not NULL) to IDP_URL + path, or
 * GET url.  Returns the status; *location gets a redirect target.
 */
static long
curl_req(const char *url, const char *json, char **location, char **body)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	struct buf b = { 0 };
	long status = 0;
	char *loc = NULL;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (json != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
	}
	if (curl_easy_perform(h) == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
	}
	if (location != NULL)
		*location = loc ? xstrdup(loc) : NULL;
	if (body != NULL)
		*body = buf_steal(&b);
	buf_free(&b);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return status;
}

/* POST /test/NAME with a JSON body; 1 when the fake said ok. */
static int
ctl(const char *name, const char *json)
{
	char *url = xasprintf("%s/test/%s", idp, name);
	long st = curl_req(url, json, NULL, NULL);

	free(url);
	return st == 200;
}

static char *
wpath(const char *name)
{
	return xasprintf("%s/%s", work, name);
}

/* An account like the config would give, pointed at the fake. */
static void
account(struct conf_account *a, const char *client_id)
{
	memset(a, 0, sizeof(*a));
	a->name = "office";
	a->username = "alice@contoso.com";
	a->login_user = "alice@contoso.com";
	a->oauth.present = 1;
	a->oauth.provider = CONF_PROVIDER_MICROSOFT;
	a->oauth.cloud = CONF_CLOUD_GLOBAL;
	a->oauth.tenant = TENANT;
	a->oauth.client_id = (char *)client_id;
	a->oauth.authority = (char *)idp;
}

static void
reset_err(void)
{
	free(err);
	err = NULL;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ tests */

static void
test_urls(void)
{
	static const struct {
		const char *url;
		int allowed;
	} t[] = {
		{ "https://login.microsoftonline.com/x", 1 },
		{ "http://127.0.0.1:8080/", 1 },
		{ "http://127.9.8.7/", 1 },
		{ "http://[::1]:99/x", 1 },
		{ "http://localhost/", 1 },
		{ "http://LOCALHOST:5/", 1 },
		{ "http://10.0.0.1/", 0 },
		{ "http://login.microsoftonline.com/", 0 },
		{ "http://localhost.evil.example/", 0 },
		{ "http://128.0.0.1/", 0 },
		{ "ftp://127.0.0.1/", 0 },
		{ "file:///etc/passwd", 0 },
		{ "not a url", 0 },
	};
	char *h;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(http_url_allowed(t[i].url), t[i].allowed, "http_url_allowed(%s)", t[i].url);
	h = http_urlencode("a b&c=d/~é");
	is_str(h, "a%20b%26c%3Dd%2F~%C3%A9", "http_urlencode");
	free(h);
}

/*
 * A one-shot HTTP server in a child process on a loopback port: it answers
 * head plus bodylen bytes, or (head NULL) nothing at all.
 */
static pid_t
serve_once(int *port, const char *head, size_t bodylen)
{
	int lfd;
	pid_t pid;

	if (oauth_loopback_listen(&lfd, port, NULL) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char req[4096], chunk[8192];
		int cfd = accept(lfd, NULL, NULL);

		if (read(cfd, req, sizeof(req)) < 0 || head == NULL) {
			pause_ms(3000);
			_exit(0);
		}
		write_all(cfd, head, strlen(head));
		memset(chunk, 'a', sizeof(chunk));
		for (size_t n = 0; n < bodylen; n += sizeof(chunk))
			if (write_all(cfd, chunk, sizeof(chunk)) != 0)
				break;
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
test_http_errors(void)
{
	pid_t pid;
	int port;
	char *url;
	struct http_resp r;
	struct http_field f[] = { { "a", "b" } };

	reset_err();
	is_int(http_get("http://192.0.2.1/", 2000, &r, &err), M2C_E_CONFIG,
	    "plain http to a non-loopback host is refused");
	has_str(err, "plain http is only allowed to a loopback", "  saying why");
	reset_err();
	is_int(http_post_form("http://127.0.0.1:1/token", f, 1, 2000, &r, &err), M2C_E_UNAVAIL,
	    "a closed port: unavailable");
	has_str(err, "cannot reach 127.0.0.1 on port 1:", "  naming host and port");
	has_str(err, "check the network", "  and what to check");
	reset_err();

	pid = serve_once(&port, "HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\n",
	    2097152);
	url = xasprintf("http://127.0.0.1:%d/big", port);
	is_int(http_get(url, 5000, &r, &err), M2C_E_PROTO, "an answer over 1 MiB is refused");
	has_str(err, "larger than", "  saying so");
	reset_err();
	reap(pid);
	free(url);

	pid = serve_once(&port, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "200000\r\n", 2097152);
	url = xasprintf("http://127.0.0.1:%d/big", port);
	is_int(http_get(url, 5000, &r, &err), M2C_E_PROTO,
	    "an answer over 1 MiB without a length is refused too");
	reset_err();
	reap(pid);
	free(url);

	pid = serve_once(&port, NULL, 0);
	url = xasprintf("http://127.0.0.1:%d/slow", port);
	is_int(http_get(url, 500, &r, &err), M2C_E_TIMEOUT, "no answer in time: timeout");
	has_str(err, "127.0.0.1 on port", "  naming host and port");
	reset_err();
	reap(pid);
	free(url);

	pid = serve_once(&port, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\n"
	    "Content-Length: 0\r\n\r\n", 0);
	url = xasprintf("http://127.0.0.1:%d/moved", port);
	ok(http_get(url, 5000, &r, &err) == 0 && r.status == 302,
	    "redirects are not followed");
	http_resp_clear(&r);
	reset_err();
	reap(pid);
	free(url);
}

static void
test_client_init(void)
{
	struct conf_account a;
	struct oauth_client c;
	char *want;
	char *scopes[] = { "https://outlook.office365.com/.default" };
	static const struct {
		enum conf_cloud cloud;
		const char *token, *scope;
	} clouds[] = {
		{ CONF_CLOUD_GLOBAL, "https://login.microsoftonline.com/t/oauth2/v2.0/token",
		  "https://outlook.office.com/IMAP.AccessAsUser.All" },
		{ CONF_CLOUD_GCCHIGH, "https://login.microsoftonline.us/t/oauth2/v2.0/token",
		  "https://outlook.office365.us/IMAP.AccessAsUser.All" },
		{ CONF_CLOUD_DOD, "https://login.microsoftonline.us/t/oauth2/v2.0/token",
		  "https://outlook.office365.us/SMTP.Send" },
		{ CONF_CLOUD_CHINA, "https://login.partner.microsoftonline.cn/t/oauth2/v2.0/token",
		  "https://partner.outlook.cn/IMAP.AccessAsUser.All" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(clouds); i++) {
		account(&a, PUB);
		a.oauth.authority = NULL;
		a.oauth.tenant = "t";
		a.oauth.cloud = clouds[i].cloud;
		is_int(oauth_client_init(NULL, &a, 5, &c, &err), 0, "cloud %zu: init", i);
		is_str(c.token_endpoint, clouds[i].token, "cloud %zu: token endpoint", i);
		has_str(c.scope, clouds[i].scope, "cloud %zu: scope", i);
		has_str(c.scope, "offline_access openid profile email", "cloud %zu: OIDC scopes", i);
		oauth_client_clear(&c);
	}

	account(&a, PUB);
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), 0, "authority override");
	want = xasprintf("%s/%s/oauth2/v2.0/devicecode", idp, TENANT);
	is_str(c.device_endpoint, want, "  device endpoint at the authority");
	free(want);
	is_str(c.app_scope, "https://outlook.office365.com/.default", "  app-only scope");
	ok(c.is_microsoft && c.assertion_alg == JWT_PS256, "  microsoft, PS256 assertions");
	oauth_client_clear(&c);
	oauth_client_clear(&c);

	account(&a, PUB);
	a.oauth.scopes.v = scopes;
	a.oauth.scopes.n = 1;
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), 0, "scopes override");
	is_str(c.scope, scopes[0], "  replaces the provider's");
	oauth_client_clear(&c);

	account(&a, PUB);
	a.oauth.provider = CONF_PROVIDER_GOOGLE;
	a.oauth.authority = NULL;
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), 0, "google");
	is_str(c.token_endpoint, "https://oauth2.googleapis.com/token", "  token endpoint");
	is_str(c.device_endpoint, "https://oauth2.googleapis.com/device/code", "  device endpoint");
	is_str(c.authorize_endpoint, "https://accounts.google.com/o/oauth2/v2/auth",
	    "  authorize endpoint");
	is_str(c.scope, "https://mail.google.com/", "  scope");
	{
		struct oauth_pkce p;
		char *url;

		oauth_pkce_new(&p);
		url = oauth_authorize_url(&c, &p, "http://127.0.0.1:5/", NULL);
		has_str(url, "prompt=consent", "  authorize URL asks for consent");
		has_str(url, "access_type=offline", "  and offline access (a refresh token)");
		ok(strstr(url, "login_hint") == NULL, "  no login_hint when none is given");
		free(url);
	}
	oauth_client_clear(&c);

	reset_err();
	account(&a, PUB);
	a.oauth.authority = "http://login.example.com";
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), M2C_E_CONFIG,
	    "an http authority that is not loopback is refused");
	has_str(err, "oauth.authority", "  naming the setting");
	reset_err();
	account(&a, NULL);
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), M2C_E_CONFIG, "no client_id");
	has_str(err, "client_id", "  says so");
	reset_err();

	/* Generic: OpenID discovery; the issuer must be the configured one. */
	account(&a, PUB);
	a.oauth.provider = CONF_PROVIDER_GENERIC;
	a.oauth.authority = NULL;
	a.oauth.issuer = xasprintf("%s/%s/v2.0", idp, tid);
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), 0, "generic: discovery");
	want = xasprintf("%s/%s/oauth2/v2.0/token", idp, tid);
	is_str(c.token_endpoint, want, "  token endpoint discovered");
	free(want);
	ok(c.device_endpoint && c.authorize_endpoint, "  device and authorize endpoints");
	oauth_client_clear(&c);
	free(a.oauth.issuer);
	a.oauth.issuer = xasprintf("%s/%s/v2.0", idp, TENANT);
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), M2C_E_CONFIG,
	    "generic: an issuer that differs from the document's is refused");
	has_str(err, "not the configured", "  saying so");
	reset_err();
	free(a.oauth.issuer);
	a.oauth.issuer = xasprintf("%s/nowhere", idp);
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), M2C_E_CONFIG, "generic: no discovery document");
	reset_err();
	free(a.oauth.issuer);
}

static void
approve(const char *user_code, const char *user)
{
	char *j = xasprintf("{\"user_code\": \"%s\", \"user\": \"%s\"}", user_code, user);

	ok(ctl("approve", j), "the fake approved %s as %s", user_code, user);
	free(j);
}

static int
device_begin(const struct oauth_client *c, struct oauth_device *d, const char *what)
{
	enum oauth_poll st;
	struct oauth_tokens t = { 0 };
	int r;

	is_int(oauth_device_start(c, d, &err), 0, "%s: device code", what);
	r = oauth_device_poll(c, d, &st, &t, &err);
	ok(r == 0 && st == OAUTH_POLL_PENDING, "%s: first poll is pending", what);
	oauth_tokens_clear(&t);
	return r;
}

static void
test_device(struct oauth_tokens *alice)
{
	struct conf_account a;
	struct oauth_client c;
	struct oauth_device d;
	struct oauth_tokens t = { 0 };
	enum oauth_poll st;
	char *j;

	account(&a, PUB);
	oauth_client_init(NULL, &a, 5, &c, &err);

	/* Approved. */
	device_begin(&c, &d, "approve");
	ok(d.user_code && strlen(d.user_code) == 9, "  a 9-letter user code");
	is_str(d.verification_uri, "https://microsoft.com/devicelogin", "  verification URI");
	is_int(d.interval, 1, "  the server's interval");
	ok(d.expires_at > time(NULL) + 800, "  expires in 15 minutes");
	has_str(d.message, d.user_code, "  the provider's message");
	approve(d.user_code, "alice@contoso.com");
	pause_ms(900);
	is_int(oauth_device_poll(&c, &d, &st, alice, &err), 0, "approved: poll ok");
	is_int(st, OAUTH_POLL_DONE, "  done");
	ok(alice->access_token && alice->refresh_token && alice->id_token, "  tokens");
	is_str(alice->identity, "alice@contoso.com", "  identity from the id_token");
	ok(alice->expires_at > time(NULL) + 3000, "  expires_at from expires_in");
	has_str(alice->scope, "IMAP.AccessAsUser.All", "  granted scope");
	is_int(oauth_check_identity_for(alice, "ALICE@Contoso.com", "office", &err), 0,
	    "  identity check is case-insensitive");
	oauth_device_clear(&d);

	/* slow_down. */
	device_begin(&c, &d, "slow_down");
	is_int(oauth_device_poll(&c, &d, &st, &t, &err), 0, "polled too soon: no error");
	is_int(st, OAUTH_POLL_SLOW_DOWN, "  slow_down");
	is_int(d.interval, 6, "  interval raised by 5 s");
	oauth_device_clear(&d);

	/* Expired at the server, and locally. */
	device_begin(&c, &d, "expired");
	j = xasprintf("{\"user_code\": \"%s\"}", d.user_code);
	ok(ctl("expire-device", j), "the fake expired the code");
	free(j);
	reset_err();
	is_int(oauth_device_poll(&c, &d, &st, &t, &err), M2C_E_AUTH, "expired code: sign-in needed");
	has_str(err, "the sign-in code expired", "  says so");
	has_str(err, "AADSTS70020", "  with the code");
	has_str(err, "mail2cups-oauth login office", "  and what to do");
	reset_err();
	d.expires_at = time(NULL) - 1;
	is_int(oauth_device_poll(&c, &d, &st, &t, &err), M2C_E_AUTH,
	    "a code past its expiry is not polled");
	has_str(err, "the sign-in code expired", "  says so");
	oauth_device_clear(&d);

	/* Declined. */
	device_begin(&c, &d, "declined");
	j = xasprintf("{\"user_code\": \"%s\"}", d.user_code);
	ok(ctl("decline", j), "the fake declined the code");
	free(j);
	reset_err();
	is_int(oauth_device_poll(&c, &d, &st, &t, &err), M2C_E_AUTH, "declined: sign-in needed");
	has_str(err, "sign-in was declined", "  says so");
	oauth_device_clear(&d);

	/* The wrong user signs in. */
	device_begin(&c, &d, "wrong user");
	approve(d.user_code, "bob@contoso.com");
	pause_ms(900);
	is_int(oauth_device_poll(&c, &d, &st, &t, &err), 0, "wrong user: tokens");
	is_str(t.identity, "bob@contoso.com", "  identity bob");
	reset_err();
	is_int(oauth_check_identity_for(&t, "alice@contoso.com", "office", &err), M2C_E_AUTH,
	    "  refused for alice's mailbox");
	has_str(err, "bob@contoso.com", "  naming who signed in");
	has_str(err, "alice@contoso.com", "  and whose mailbox it is");
	has_str(err, "User is authenticated but not connected", "  with the mailbox's words");
	is_int(oauth_check_identity_for(&t, "bob@contoso.com", "office", NULL), 0,
	    "  accepted when login_user is bob (shared mailbox)");
	reset_err();
	oauth_tokens_clear(&t);
	oauth_device_clear(&d);
	oauth_client_clear(&c);
}

static void
test_refresh(struct oauth_tokens *alice)
{
	struct conf_account a;
	struct oauth_client c;
	struct oauth_tokens old = { 0 };
	char *at = xstrdup(alice->access_token);

	account(&a, PUB);
	oauth_client_init(NULL, &a, 5, &c, &err);
	old.refresh_token = xstrdup(alice->refresh_token);
	is_int(oauth_refresh(&c, alice, &err), 0, "refresh");
	ok(strcmp(alice->refresh_token, old.refresh_token) != 0, "  the refresh token rotated");
	ok(strcmp(alice->access_token, at) != 0, "  a new access token");
	is_str(alice->identity, "alice@contoso.com", "  identity kept");
	reset_err();
	is_int(oauth_refresh(&c, &old, &err), M2C_E_AUTH, "the old refresh token is refused");
	has_str(err, "AADSTS70000", "  AADSTS70000");
	has_str(err, "mail2cups-oauth login office", "  sign in again");
	reset_err();

	ok(ctl("revoke", "{\"user\": \"alice@contoso.com\"}"), "the fake revoked alice's tokens");
	is_int(oauth_refresh(&c, alice, &err), M2C_E_AUTH, "a revoked refresh token");
	has_str(err, "AADSTS50173", "  AADSTS50173");
	reset_err();
	free_secret(old.refresh_token);
	old.refresh_token = NULL;
	is_int(oauth_refresh(&c, &old, &err), M2C_E_AUTH, "no refresh token at all");
	has_str(err, "sign in again", "  sign in again");
	reset_err();
	oauth_tokens_clear(&old);
	free(at);
	oauth_client_clear(&c);
}

static void
test_client_credentials(void)
{
	struct conf_account a;
	struct oauth_client c;
	struct oauth_tokens t = { 0 };
	char *secret = wpath("secret"), *wrong = wpath("wrong-secret");
	char *cert = wpath("app.pem"), *key = wpath("app.key");
	char *ocert = wpath("other.pem"), *okey = wpath("other.key");
	json_t *cl;

	account(&a, DAEMON);
	a.oauth.client_secret_file = secret;
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), 0, "client secret read");
	is_int(oauth_client_credentials(&c, &t, &err), 0, "client credentials with a secret");
	cl = jwt_claims(t.access_token);
	is_str(json_string_value(json_object_get(cl, "idtyp")), "app", "  an app-only token");
	json_decref(cl);
	ok(t.refresh_token == NULL && t.identity == NULL, "  no refresh token, no user");
	oauth_tokens_clear(&t);
	oauth_client_clear(&c);

	a.oauth.client_secret_file = wrong;
	oauth_client_init(NULL, &a, 5, &c, &err);
	reset_err();
	is_int(oauth_client_credentials(&c, &t, &err), M2C_E_CONFIG, "a wrong secret");
	has_str(err, "AADSTS7000215", "  AADSTS7000215");
	has_str(err, "Value, not its Secret ID", "  what to do");
	reset_err();
	oauth_client_clear(&c);

	a.oauth.client_secret_file = NULL;
	a.oauth.certificate_file = cert;
	a.oauth.private_key_file = key;
	for (int alg = 0; alg < 2; alg++) {
		oauth_client_init(NULL, &a, 5, &c, &err);
		c.assertion_alg = alg ? JWT_RS256 : JWT_PS256;
		is_int(oauth_client_credentials(&c, &t, &err), 0, "certificate, %s",
		    alg ? "RS256 + x5t" : "PS256 + x5t#S256");
		ok(t.access_token != NULL, "  access token");
		oauth_tokens_clear(&t);
		oauth_client_clear(&c);
	}
	a.oauth.certificate_file = ocert;
	a.oauth.private_key_file = okey;
	oauth_client_init(NULL, &a, 5, &c, &err);
	reset_err();
	is_int(oauth_client_credentials(&c, &t, &err), M2C_E_CONFIG, "an unregistered certificate");
	has_str(err, "AADSTS700027", "  AADSTS700027");
	reset_err();
	oauth_client_clear(&c);

	a.oauth.certificate_file = NULL;
	a.oauth.private_key_file = NULL;
	oauth_client_init(NULL, &a, 5, &c, &err);
	is_int(oauth_client_credentials(&c, &t, &err), M2C_E_CONFIG, "no secret, no certificate");
	reset_err();
	oauth_client_clear(&c);

	/* Every mapped AADSTS code, injected by the fake. */
	static const struct {
		int code, cls;
	} inj[] = {
		{ 7000218, M2C_E_CONFIG }, { 70020, M2C_E_AUTH }, { 70000, M2C_E_AUTH },
		{ 65001, M2C_E_CONFIG }, { 50076, M2C_E_AUTH }, { 50079, M2C_E_AUTH },
		{ 53003, M2C_E_CONFIG }, { 50011, M2C_E_CONFIG }, { 700016, M2C_E_CONFIG },
		{ 90002, M2C_E_CONFIG }, { 50194, M2C_E_CONFIG }, { 7000215, M2C_E_CONFIG },
		{ 7000222, M2C_E_CONFIG }, { 700027, M2C_E_CONFIG }, { 500011, M2C_E_CONFIG },
		{ 700082, M2C_E_AUTH }, { 50173, M2C_E_AUTH }, { 70043, M2C_E_AUTH },
		{ 50034, M2C_E_AUTH },
	};
	a.oauth.client_secret_file = secret;
	oauth_client_init(NULL, &a, 5, &c, &err);
	for (size_t i = 0; i < ARRAY_SIZE(inj); i++) {
		char *j = xasprintf("{\"code\": %d, \"endpoint\": \"token\"}", inj[i].code);
		char code[32];

		ctl("fail", j);
		free(j);
		reset_err();
		is_int(oauth_client_credentials(&c, &t, &err), inj[i].cls, "injected AADSTS%d -> %s",
		    inj[i].code, m2c_err_name(inj[i].cls));
		snprintf(code, sizeof(code), "AADSTS%d", inj[i].code);
		has_str(err, code, "  the message names %s", code);
		oauth_tokens_clear(&t);
	}
	reset_err();
	oauth_client_clear(&c);

	free(secret);
	free(wrong);
	free(cert);
	free(key);
	free(ocert);
	free(okey);
}

/* A child process GETs urls[0], then urls[1], ... (following redirects
 * when follow), each after the answer to the one before: its exit status
 * has bit i set when answer i does not contain wants[i]. */
static pid_t
browser_seq(int n, const char *const *urls, int follow, const char *const *wants)
{
	pid_t pid = fork();

	if (pid == 0) {
		int failed = 0, i;

		for (i = 0; i < n; i++) {
			CURL *h = curl_easy_init();
			struct buf b = { 0 };

			curl_easy_setopt(h, CURLOPT_URL, urls[i]);
			curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, (long)follow);
			curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
			curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
			if (curl_easy_perform(h) != CURLE_OK || b.data == NULL ||
			    strstr(b.data, wants[i]) == NULL)
				failed |= 1 << i;
			curl_easy_cleanup(h);
			free(b.data);
		}
		_exit(failed);
	}
	return pid;
}

/* A child process GETs url; it exits 0 when the answer contains want. */
static pid_t
browser(const char *url, int follow, const char *want)
{
	return browser_seq(1, &url, follow, &want);
}

/* A connection that sends nothing, as browsers open speculatively. */
static int
preconnect(int port)
{
	struct sockaddr_in sin = { 0 };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		printf("# preconnect failed\n");
	return s;
}

/* The browser's exit status (see browser_seq); -1 when it did not exit. */
static int
browser_status(pid_t pid)
{
	int status = 0;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int
browser_ok(pid_t pid)
{
	return browser_status(pid) == 0;
}

static void
test_authcode(void)
{
	struct conf_account a;
	struct oauth_client c;
	struct oauth_pkce p;
	struct oauth_tokens t = { 0 };
	unsigned char dg[32];
	unsigned int dl = sizeof(dg);
	char *url, *loc = NULL, *code = NULL, *ch, *bad, *redirect, *favicon;
	const char *urls[2], *const wants[2] = { "Not found", "Sign-in failed" };
	int fd, port, idle, st;
	pid_t pid;

	oauth_pkce_new(&p);
	is_int(strlen(p.verifier), 43, "PKCE verifier: 43 characters");
	EVP_Digest(p.verifier, strlen(p.verifier), dg, &dl, EVP_sha256(), NULL);
	ch = b64url_encode(dg, dl);
	is_str(p.challenge, ch, "PKCE challenge = base64url(SHA-256(verifier))");
	free(ch);
	is_int(strlen(p.state), 32, "state: 32 characters");

	account(&a, PUB);
	oauth_client_init(NULL, &a, 5, &c, &err);
	url = oauth_authorize_url(&c, &p, "http://localhost:5000/", "alice@contoso.com");
	has_str(url, "response_type=code", "authorize URL: response_type");
	has_str(url, "code_challenge_method=S256", "  S256");
	has_str(url, "redirect_uri=http%3A%2F%2Flocalhost%3A5000%2F", "  redirect_uri encoded");
	has_str(url, "prompt=select_account", "  Microsoft: select_account");
	has_str(url, "login_hint=alice%40contoso.com", "  login_hint");
	is_int(curl_req(url, NULL, &loc, NULL), 302, "the fake answers 302");
	free(url);

	bad = xstrdup(loc ? loc : "");
	if (strstr(bad, "state=") != NULL)
		strstr(bad, "state=")[6] ^= 1;
	reset_err();
	is_int(oauth_code_from_url(bad, &p, &code, &err), M2C_E_AUTH, "pasted URL, wrong state");
	has_str(err, "state does not match", "  refused");
	free(bad);
	reset_err();
	is_int(oauth_code_from_url("http://localhost:5000/", &p, &code, &err), M2C_E_DATA,
	    "pasted URL without a code");
	reset_err();

	is_int(oauth_code_from_url(loc, &p, &code, &err), 0, "pasted URL: code");
	is_int(oauth_authcode_exchange(&c, &p, code, "http://localhost:5000/", &t, &err), 0,
	    "code exchanged with the verifier");
	is_str(t.identity, "alice@contoso.com", "  signed in as alice");
	ok(t.refresh_token != NULL, "  with a refresh token");
	reset_err();
	is_int(oauth_authcode_exchange(&c, &p, code, "http://localhost:5000/", &t, &err),
	    M2C_E_AUTH, "a code used twice is refused");
	free_secret(code);
	code = NULL;
	free(loc);
	loc = NULL;
	oauth_tokens_clear(&t);
	reset_err();

	/* An error at /authorize comes back in the redirect. */
	ctl("fail", "{\"code\": 65001, \"endpoint\": \"authorize\"}");
	url = oauth_authorize_url(&c, &p, "http://localhost:5000/", NULL);
	curl_req(url, NULL, &loc, NULL);
	is_int(oauth_code_from_url(loc, &p, &code, &err), M2C_E_CONFIG,
	    "an error redirect is mapped");
	has_str(err, "AADSTS65001", "  AADSTS65001");
	free(url);
	free(loc);
	reset_err();

	/* The loopback listener: a browser that follows the redirect. */
	is_int(oauth_loopback_listen(&fd, &port, &err), 0, "loopback listener");
	ok(port > 0, "  on a port");
	redirect = xasprintf("http://127.0.0.1:%d/", port);
	url = oauth_authorize_url(&c, &p, redirect, "alice@contoso.com");
	idle = preconnect(port);
	pid = browser(url, 1, "Signed in; you can close this window");
	is_int(oauth_loopback_wait(fd, &p, 10, &code, &err), 0,
	    "the browser came back (past an idle speculative connection)");
	ok(browser_ok(pid), "  and was told it can close the window");
	close(idle);
	is_int(oauth_authcode_exchange(&c, &p, code, redirect, &t, &err), 0, "  code exchanged");
	is_str(t.identity, "alice@contoso.com", "  signed in as alice");
	free_secret(code);
	code = NULL;
	free(url);
	oauth_tokens_clear(&t);

	/* Another path first (favicon), then, once it was answered, the
	 * wrong state. */
	urls[0] = favicon = xasprintf("http://127.0.0.1:%d/favicon.ico", port);
	urls[1] = url = xasprintf("http://127.0.0.1:%d/?code=abc&state=nope", port);
	pid = browser_seq(2, urls, 0, wants);
	reset_err();
	is_int(oauth_loopback_wait(fd, &p, 10, &code, &err), M2C_E_AUTH,
	    "loopback: wrong state refused");
	has_str(err, "state does not match", "  saying so");
	st = browser_status(pid);
	ok(st >= 0 && !(st & 1), "  another path (favicon.ico) got 404 first");
	ok(st >= 0 && !(st & 2), "  and the browser is told");
	free(favicon);
	free(url);
	reset_err();
	is_int(oauth_loopback_wait(fd, &p, 1, &code, &err), M2C_E_TIMEOUT,
	    "loopback: times out");
	reset_err();
	close(fd);
	free(redirect);
	oauth_client_clear(&c);
}

/* Google service account: the JWT bearer grant reaches the token endpoint. */
static void
test_service_account(void)
{
	struct conf_account a;
	struct oauth_client c;
	struct oauth_tokens t = { 0 };
	char *keyf = wpath("app.key"), *jsonf = wpath("sa.json"), *badf = wpath("sa-bad.json");
	char *pem = NULL, *stats = NULL, *url;
	json_t *j;
	FILE *f;

	j = json_load_file(keyf, JSON_DECODE_ANY, NULL);	/* not JSON: fails */
	ok(j == NULL, "the PEM key is not JSON");
	f = fopen(keyf, "r");
	{
		struct buf b = { 0 };
		char line[256];

		while (f && fgets(line, sizeof(line), f))
			buf_append(&b, line, strlen(line));
		pem = buf_steal(&b);
		if (f)
			fclose(f);
	}
	url = xasprintf("%s/%s/oauth2/v2.0/token", idp, TENANT);
	j = json_pack("{s:s, s:s, s:s, s:s}", "type", "service_account", "client_email",
	    "sa@project.iam.gserviceaccount.com", "private_key", pem, "token_uri", url);
	json_dump_file(j, jsonf, 0);
	chmod(jsonf, 0600);
	json_decref(j);
	f = fopen(badf, "w");
	fputs("{\"type\": \"service_account\"}", f);
	fclose(f);
	chmod(badf, 0600);

	account(&a, DAEMON);
	a.oauth.provider = CONF_PROVIDER_GOOGLE;
	a.oauth.flow = CONF_FLOW_CLIENT_CREDENTIALS;
	a.oauth.authority = NULL;
	a.oauth.private_key_file = jsonf;
	is_int(oauth_client_init(NULL, &a, 5, &c, &err), 0, "google service account client");
	ok(c.service_account, "  is a service account");
	ctl("reset-stats", "{}");
	reset_err();
	/* The fake does not know the JWT bearer grant (no client_id): 900144. */
	is_int(oauth_client_credentials(&c, &t, &err), M2C_E_AUTH,
	    "the JWT bearer grant was sent to token_uri");
	has_str(err, "AADSTS900144", "  and its answer mapped");
	free(url);
	url = xasprintf("%s/test/stats", idp);
	curl_req(url, NULL, NULL, &stats);
	has_str(stats, "\"urn:ietf:params:oauth:grant-type:jwt-bearer\": 1",
	    "  with grant_type jwt-bearer");
	oauth_client_clear(&c);
	a.oauth.private_key_file = badf;
	oauth_client_init(NULL, &a, 5, &c, &err);
	reset_err();
	is_int(oauth_client_credentials(&c, &t, &err), M2C_E_CONFIG,
	    "a JSON key without client_email/private_key");
	has_str(err, "not a service account JSON key", "  says so");
	reset_err();
	oauth_client_clear(&c);
	oauth_tokens_clear(&t);
	unlink(jsonf);
	unlink(badf);
	free(stats);
	free(url);
	free(pem);
	free(keyf);
	free(jsonf);
	free(badf);
}

static void
test_unreachable(void)
{
	struct conf_account a;
	struct oauth_client c;
	struct oauth_device d;

	account(&a, PUB);
	a.oauth.authority = "http://127.0.0.1:1";
	oauth_client_init(NULL, &a, 5, &c, &err);
	reset_err();
	is_int(oauth_device_start(&c, &d, &err), M2C_E_UNAVAIL, "unreachable IdP: unavailable");
	has_str(err, "cannot reach 127.0.0.1 on port 1", "  naming host and port");
	reset_err();
	oauth_client_clear(&c);
}

static void
test_sasl(void)
{
	static const struct {
		const char *mech, *user, *want;
	} t[] = {
		{ "XOAUTH2", "alice@contoso.com", "user=alice@contoso.com\001auth=Bearer tok\001\001" },
		{ "OAUTHBEARER", "alice@contoso.com",
		  "n,a=alice@contoso.com,\001host=imap.example\001port=993\001auth=Bearer tok\001\001" },
		{ "oauthbearer", "a,b=c",
		  "n,a=a=2Cb=3Dc,\001host=imap.example\001port=993\001auth=Bearer tok\001\001" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char *ir = oauth_sasl_ir(t[i].mech, t[i].user, "tok", "imap.example", 993);
		char *want = b64_encode((const unsigned char *)t[i].want, strlen(t[i].want));

		is_str(ir, want, "SASL %s for %s", t[i].mech, t[i].user);
		free(ir);
		free(want);
	}
	ok(oauth_sasl_ir("PLAIN", "a", "b", "h", 1) == NULL, "SASL: unknown mechanism");
}

int
main(void)
{
	struct oauth_tokens alice = { 0 };

	idp = getenv("IDP_URL");
	tid = getenv("IDP_TID");
	work = getenv("IDP_WORK");
	if (idp == NULL || tid == NULL || work == NULL) {
		tap_skip_all("run through test-oauth.sh (IDP_URL not set)");
	}
	log_init("test-oauth", 0, LOG_LVL_ERROR);
	oauth_global_init();

	test_urls();
	test_http_errors();
	test_sasl();
	test_client_init();
	test_device(&alice);
	test_refresh(&alice);
	test_client_credentials();
	test_authcode();
	test_service_account();
	test_unreachable();

	oauth_tokens_clear(&alice);
	reset_err();
	log_secret_clear();
	curl_global_cleanup();
	return tap_done();
}
