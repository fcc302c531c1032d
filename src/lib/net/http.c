/*
 * http.c - the few HTTP requests OAuth needs, over libcurl; see http.h.
 *
 * Every request: TLS verified, no redirects, http/https only, plain http
 * only to loopback, a total and a connect timeout, no signals, a capped
 * response body.  Request bodies (which carry secrets) are wiped.
 */
#include "m2c-config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "error.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define HTTP_BODY_MAX (1024 * 1024)
#define HTTP_USER_AGENT "mail2cups/" PACKAGE_VERSION

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc = CURLE_OK;

static void
http_do_global_init(void)
{
	http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
http_global_init(void)
{
	pthread_once(&http_once, http_do_global_init);
	return http_init_rc == CURLE_OK ? 0 : M2C_E_SYS;
}

/* Scheme, host (without brackets) and port of url; 0 or -1. */
static int
url_split(const char *url, char **scheme, char **host, long *port)
{
	CURLU *u;
	char *s = NULL, *h = NULL, *p = NULL;
	int r = -1;

	*scheme = *host = NULL;
	*port = 0;
	if (url == NULL || (u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	*scheme = xstrdup(s);
	if (h[0] == '[' && h[strlen(h) - 1] == ']')
		*host = xstrndup(h + 1, strlen(h) - 2);
	else
		*host = xstrdup(h);
	*port = strtol(p, NULL, 10);
	r = 0;
out:
	curl_free(s);
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return r;
}

int
http_url_allowed(const char *url)
{
	char *scheme, *host;
	long port;
	int ok = 0;

	if (url_split(url, &scheme, &host, &port) != 0)
		return 0;
	if (str_casecmp(scheme, "https") == 0)
		ok = 1;
	else if (str_casecmp(scheme, "http") == 0)
		ok = host_is_loopback(host);
	free(scheme);
	free(host);
	return ok;
}

char *
http_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = { 0 };

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~')
			buf_appendc(&b, (char)c);
		else {
			buf_appendc(&b, '%');
			buf_appendc(&b, hex[c >> 4]);
			buf_appendc(&b, hex[c & 15]);
		}
	}
	return buf_steal(&b);
}

void
http_resp_clear(struct http_resp *resp)
{
	if (resp == NULL)
		return;
	if (resp->body != NULL) {
		wipe(resp->body, resp->len);
		free(resp->body);
	}
	free(resp->content_type);
	memset(resp, 0, sizeof(*resp));
}

struct sink {
	struct buf b;
	int too_big;
};

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->b.len + n > HTTP_BODY_MAX) {
		s->too_big = 1;
		return 0;
	}
	buf_append(&s->b, ptr, n);
	return n;
}

int
http_curl_class(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OPERATION_TIMEDOUT:
		return M2C_E_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return M2C_E_TLS;
	default:
		return M2C_E_UNAVAIL;
	}
}

/* GET (form == NULL) or POST form to url. */
static int
request(const char *url, const char *form, size_t formlen, int timeout_ms,
    struct http_resp *resp, char **errstr)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	struct sink sink = { { 0 }, 0 };
	char ebuf[CURL_ERROR_SIZE] = "";
	char *scheme = NULL, *host = NULL, *ctype = NULL;
	long port = 0;
	CURLcode cc;
	int r;

	memset(resp, 0, sizeof(*resp));
	if (url_split(url, &scheme, &host, &port) != 0) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "invalid URL \"%s\": check the "
		    "authority, issuer or endpoint setting", url ? url : "");
		goto out;
	}
	if (!http_url_allowed(url)) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "refusing %s: plain http is only "
		    "allowed to a loopback address (127.0.0.1, ::1, localhost): use an "
		    "https URL", url);
		goto out;
	}
	if (http_global_init() != 0 || (h = curl_easy_init()) == NULL) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot initialise libcurl");
		goto out;
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 30000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(timeout_ms > 0 && timeout_ms < 15000 ? timeout_ms : 15000));
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_BODY_MAX);
	if (form != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)formlen);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	}

	cc = curl_easy_perform(h);
	if (sink.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		r = m2c_fail(errstr, M2C_E_PROTO, "the answer from %s on port %ld is larger "
		    "than %d bytes: check the authority or endpoint setting", host, port,
		    HTTP_BODY_MAX);
		goto out;
	}
	if (cc != CURLE_OK) {
		const char *why = ebuf[0] ? ebuf : curl_easy_strerror(cc);

		r = http_curl_class(cc);
		if (r == M2C_E_TIMEOUT)
			m2c_fail(errstr, r, "no answer from %s on port %ld in time (%s): check the "
			    "network, proxy (https_proxy) and firewall, then try again", host, port, why);
		else if (r == M2C_E_TLS)
			m2c_fail(errstr, r, "TLS with %s on port %ld failed: %s; check the system's "
			    "CA certificates, the clock, and any proxy that intercepts TLS", host, port, why);
		else
			m2c_fail(errstr, r, "cannot reach %s on port %ld: %s; check the network, "
			    "DNS, proxy (https_proxy) and firewall", host, port, why);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != NULL)
		resp->content_type = xstrdup(ctype);
	resp->len = sink.b.len;
	resp->body = buf_steal(&sink.b);
	r = 0;
out:
	buf_free_secret(&sink.b);
	curl_slist_free_all(hdrs);
	if (h != NULL)
		curl_easy_cleanup(h);
	free(scheme);
	free(host);
	return r;
}

int
http_post_form(const char *url, const struct http_field *fields, size_t nfields,
    int timeout_ms, struct http_resp *resp, char **errstr)
{
	struct buf b = { 0 };
	int r;

	for (size_t i = 0; i < nfields; i++) {
		char *n, *v;

		if (fields[i].value == NULL)
			continue;
		n = http_urlencode(fields[i].name);
		v = http_urlencode(fields[i].value);
		if (b.len > 0)
			buf_appendc(&b, '&');
		buf_append(&b, n, strlen(n));
		buf_appendc(&b, '=');
		buf_append(&b, v, strlen(v));
		free(n);
		free_secret(v);
	}
	r = request(url, b.data ? b.data : "", b.len, timeout_ms, resp, errstr);
	buf_free_secret(&b);
	return r;
}

int
http_get(const char *url, int timeout_ms, struct http_resp *resp, char **errstr)
{
	return request(url, NULL, 0, timeout_ms, resp, errstr);
}
