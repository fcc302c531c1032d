/*
 * http.h - the few HTTP requests OAuth needs, over libcurl.
 *
 * TLS is always verified (CURLOPT_SSL_VERIFYPEER/HOST stay on).  Plain
 * http:// is refused unless the host is a loopback address (127.0.0.0/8,
 * ::1, localhost): tests and local identity providers only.  Redirects are
 * not followed.  Response bodies are capped (1 MiB).  Request bodies may
 * hold secrets: they are never logged, and are wiped after use.
 */
#ifndef M2C_HTTP_H
#define M2C_HTTP_H

#include <stddef.h>

struct http_resp {
	long status;		/* HTTP status code */
	char *body;		/* owned, NUL-terminated; may hold secrets: free with http_resp_clear */
	size_t len;
	char *content_type;	/* owned or NULL */
};

/* One name=value pair of an application/x-www-form-urlencoded body. */
struct http_field {
	const char *name;
	const char *value;	/* NULL: field left out */
};

/*
 * curl_global_init, once (thread-safe; every request calls it too).  A
 * program calls it early, before it starts threads.  0 or M2C_E_SYS.
 */
int http_global_init(void);

/*
 * The class of a failed libcurl transfer (a CURLcode), for every protocol
 * we speak through libcurl: M2C_E_TIMEOUT, M2C_E_TLS (handshake,
 * certificate, STARTTLS refused), else M2C_E_UNAVAIL.
 */
int http_curl_class(int curl_code);

/* Nonzero when url is https, or http to a loopback host. */
int http_url_allowed(const char *url);

/*
 * POST the fields, url-encoded.  0 for any HTTP answer (check resp->status);
 * M2C_E_UNAVAIL when the server cannot be reached ("cannot reach
 * login.microsoftonline.com on port 443: <curl's reason>; check the
 * network, proxy and firewall"); M2C_E_TIMEOUT; M2C_E_CONFIG for a refused
 * URL.
 */
int http_post_form(const char *url, const struct http_field *fields, size_t nfields,
    int timeout_ms, struct http_resp *resp, char **errstr);
int http_get(const char *url, int timeout_ms, struct http_resp *resp, char **errstr);
void http_resp_clear(struct http_resp *resp);

/* URL-encode s (RFC 3986 unreserved kept); allocated. */
char *http_urlencode(const char *s);

#endif
