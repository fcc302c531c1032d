/*
 * smtp.c - sending one message with libcurl's SMTP; see smtp.h.
 *
 * RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS), RFC 4954
 * (AUTH), Google's and Microsoft's XOAUTH2 SASL mechanism.  libcurl speaks
 * the protocol and does the dot-stuffing; this file chooses the server and
 * the credentials, keeps TLS verified, and maps what went wrong to our
 * codes in one function (smtp_error).
 *
 * The trust anchors: the system's store always, plus ca_file when set.
 * CURLOPT_CAINFO would replace the system bundle, so ca_file is added to
 * the OpenSSL store through CURLOPT_SSL_CTX_FUNCTION instead (libcurl is
 * built with OpenSSL on Debian; with another TLS back end ca_file is
 * refused with a message rather than silently ignored).
 *
 * Secrets: the token or password goes to libcurl only (CURLOPT_PASSWORD,
 * CURLOPT_XOAUTH2_BEARER), is wiped afterwards, and is never traced: the
 * debug trace logs the server's replies and only the verbs of our commands
 * (an AUTH line and its continuations are shown as "[redacted]").
 */
#include "m2c-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "addr.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "oauth.h"
#include "secret.h"
#include "signin.h"
#include "smtp.h"
#include "util.h"

#define SMTP_LINE_MAX	512	/* the last server reply kept for messages */

/* Where each provider takes mail for sending (SMTP AUTH submission). */
static const char *const microsoft_smtp_hosts[] = {
	[CONF_CLOUD_GLOBAL] = "smtp.office365.com",
	[CONF_CLOUD_GCCHIGH] = "smtp.office365.us",
	[CONF_CLOUD_DOD] = "smtp.office365.us",
	[CONF_CLOUD_CHINA] = "smtp.partner.outlook.cn",
};

static int
account_is_oauth(const struct conf_account *a)
{
	return a->oauth.present &&
	    (a->auth == CONF_AUTH_XOAUTH2 || a->auth == CONF_AUTH_OAUTHBEARER);
}

int
smtp_settings(const struct conf *cf, const struct conf_account *a, struct conf_smtp *out,
    char **errstr)
{
	enum conf_provider prov = a->oauth.present ? a->oauth.provider : CONF_PROVIDER_NONE;

	memset(out, 0, sizeof(*out));
	*out = cf->smtp;
	if (out->host == NULL) {
		if (prov == CONF_PROVIDER_MICROSOFT &&
		    (unsigned)a->oauth.cloud < ARRAY_SIZE(microsoft_smtp_hosts)) {
			out->host = (char *)microsoft_smtp_hosts[a->oauth.cloud];
			out->port = 587;
			out->security = CONF_SEC_STARTTLS;
		} else if (prov == CONF_PROVIDER_GOOGLE) {
			out->host = "smtp.gmail.com";
			out->port = 465;
			out->security = CONF_SEC_SSL;
		} else {
			memset(out, 0, sizeof(*out));
			return m2c_fail(errstr, M2C_E_CONFIG, "account %s: no SMTP server to "
			    "send replies through: its provider has no default one; set "
			    "smtp.host (and port, security, auth) in the config, or remove "
			    "\"reply\" from the account", a->name);
		}
	}
	if (out->max_message_size == 0)
		out->max_message_size = prov == CONF_PROVIDER_MICROSOFT ?
		    SMTP_MAX_MESSAGE_MICROSOFT : SMTP_MAX_MESSAGE_DEFAULT;
	if (out->port == 0)
		out->port = out->security == CONF_SEC_SSL ? 465 :
		    out->security == CONF_SEC_STARTTLS ? 587 : 25;
	if (!out->auth_set)
		out->auth = account_is_oauth(a) ? CONF_SMTP_XOAUTH2 : CONF_SMTP_NONE;
	if (out->username == NULL)
		out->username = out->auth == CONF_SMTP_XOAUTH2 && a->login_user != NULL ?
		    a->login_user : a->username;
	if (out->security == CONF_SEC_NONE && !host_is_loopback(out->host)) {
		memset(out, 0, sizeof(*out));
		return m2c_fail(errstr, M2C_E_CONFIG, "smtp.security \"none\" is only "
		    "allowed to a loopback host (localhost, 127.x, ::1), not \"%s\": use "
		    "\"starttls\" or \"ssl\"", cf->smtp.host);
	}
	if (out->auth == CONF_SMTP_XOAUTH2 && !account_is_oauth(a)) {
		memset(out, 0, sizeof(*out));
		return m2c_fail(errstr, M2C_E_CONFIG, "account %s: smtp.auth \"xoauth2\" "
		    "needs an account that signs in with OAuth; set smtp.auth to \"plain\" "
		    "or \"login\" with smtp.password_file, or \"none\" for a local relay",
		    a->name);
	}
	if ((out->auth == CONF_SMTP_PLAIN || out->auth == CONF_SMTP_LOGIN) &&
	    (out->password_file == NULL || out->username == NULL)) {
		memset(out, 0, sizeof(*out));
		return m2c_fail(errstr, M2C_E_CONFIG, "smtp.auth \"%s\" needs "
		    "smtp.password_file (and a user name): set them, or use \"xoauth2\" "
		    "with an OAuth account", cf->smtp.auth == CONF_SMTP_LOGIN ? "login" : "plain");
	}
	return 0;
}

/* ------------------------------------------------------------ one session */

/* What a session sends: a message in memory, or one in a file. */
struct smtp_source {
	const char *data;		/* foreign: the message, or NULL */
	int fd;				/* foreign: the message's file when data is NULL */
	size_t len;
};

struct smtp_session {
	const struct smtp_source *src;	/* foreign; NULL for smtp_check */
	size_t off;
	int read_error;			/* errno of a failed read of src->fd */
	char last[SMTP_LINE_MAX];	/* the server's last 4xx/5xx line, sanitised */
	int in_auth;			/* our AUTH exchange is going on: trace nothing */
};

/*
 * libcurl asks for the message in pieces; from a file they are read with
 * pread at our own offset, so a second session (after a token refresh)
 * starts again from the top without seeking.
 */
static size_t
read_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct smtp_session *ss = arg;
	const struct smtp_source *src = ss->src;
	size_t n = size * nmemb;
	ssize_t got;

	if (n > src->len - ss->off)
		n = src->len - ss->off;
	if (n == 0)
		return 0;
	if (src->data != NULL) {
		memcpy(ptr, src->data + ss->off, n);
	} else {
		do
			got = pread(src->fd, ptr, n, (off_t)ss->off);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			/* A file that shrank is as bad as a read error. */
			ss->read_error = got < 0 ? errno : EIO;
			return CURL_READFUNC_ABORT;
		}
		n = (size_t)got;
	}
	ss->off += n;
	return n;
}

/* Copy one line into dst (NUL-terminated), controls replaced, no CR/LF. */
static void
copy_line(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\r' || c == '\n')
			break;
		dst[j++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[j] = '\0';
}

/*
 * The trace.  Server replies (CURLINFO_HEADER_IN) are logged at debug
 * level, and the last refusal is kept for error messages; of our own lines
 * only the command verb is shown, and nothing from AUTH until the server's
 * final answer to it.
 */
static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct smtp_session *ss = arg;
	char line[SMTP_LINE_MAX];

	(void)h;
	if (type == CURLINFO_HEADER_IN) {
		copy_line(line, sizeof(line), data, size);
		/* The last refusal (4xx/5xx): QUIT's 221 must not hide it. */
		if (line[0] == '4' || line[0] == '5')
			memcpy(ss->last, line, sizeof(line));
		/* 334: an AUTH challenge; anything else ends the exchange. */
		if (ss->in_auth && strncmp(line, "334", 3) != 0)
			ss->in_auth = 0;
		if (log_get_level() >= LOG_LVL_DEBUG)
			log_debug("smtp: S: %s", line);
	} else if (type == CURLINFO_HEADER_OUT) {
		copy_line(line, sizeof(line), data, size);
		if (str_has_prefix(line, "AUTH") || str_has_prefix(line, "auth"))
			ss->in_auth = 1;
		if (log_get_level() < LOG_LVL_DEBUG)
			return 0;
		if (ss->in_auth)
			log_debug("smtp: C: [redacted]");
		else
			log_debug("smtp: C: %s", line);
	}
	return 0;
}

/* Add ca_file to the OpenSSL store libcurl built (the system's stays). */
static CURLcode
ssl_ctx_cb(CURL *h, void *sslctx, void *arg)
{
	const char *ca_file = arg;
	X509_STORE *store = SSL_CTX_get_cert_store(sslctx);

	(void)h;
	if (store == NULL || X509_STORE_load_file(store, ca_file) != 1) {
		ERR_clear_error();
		return CURLE_SSL_CACERT_BADFILE;
	}
	return CURLE_OK;
}

/*
 * The one mapping from a finished transfer to our codes.  code is the
 * SMTP reply code of the last command (0 if none).
 */
static int
smtp_error(const struct conf_account *a, const struct conf_smtp *set, CURLcode rc, long code,
    const char *last, const char *curl_msg, char **errstr)
{
	const char *srv = last[0] ? last : curl_msg;
	const char *host = set->host;
	int port = set->port;

	if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT)
		return m2c_fail(errstr, M2C_E_UNAVAIL, "cannot reach the SMTP server %s:%d: "
		    "%s (check smtp.host and smtp.port, and that the network allows it)",
		    host, port, curl_msg);
	switch (http_curl_class(rc)) {
	case M2C_E_TIMEOUT:
		return m2c_fail(errstr, M2C_E_TIMEOUT, "the SMTP server %s:%d did not answer "
		    "in time (%s); will try again", host, port, curl_msg);
	case M2C_E_TLS:
		return m2c_fail(errstr, M2C_E_TLS, "TLS with the SMTP server %s:%d failed: %s; "
		    "check smtp.security (\"ssl\" for port 465, \"starttls\" for 587) and, "
		    "for a private CA, smtp.ca_file", host, port, curl_msg);
	default:
		break;
	}
	switch (rc) {
	case CURLE_LOGIN_DENIED:
		if (strstr(srv, "5.7.139") != NULL)
			return m2c_fail(errstr, M2C_E_AUTH, "the SMTP server %s refused the "
			    "sign-in of %s: %s; SMTP AUTH (SmtpClientAuthentication) is "
			    "disabled: turn it on for the mailbox (Exchange Online PowerShell: "
			    "Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled "
			    "$false) or for the tenant (Microsoft 365 admin center, Settings > "
			    "Org settings > Mail, or Set-TransportConfig "
			    "-SmtpClientAuthenticationDisabled $false)", host, set->username,
			    srv, set->username);
		if (set->auth == CONF_SMTP_XOAUTH2)
			return m2c_fail(errstr, M2C_E_AUTH, "the SMTP server %s refused the "
			    "OAuth token of %s: %s; the token may lack the SMTP.Send permission "
			    "(Microsoft) or the mailbox may not allow SMTP AUTH: sign in again "
			    "with mail2cups-oauth login %s", host, set->username, srv, a->name);
		return m2c_fail(errstr, M2C_E_AUTH, "the SMTP server %s refused the user "
		    "name or password of %s: %s; check smtp.username and the password in "
		    "smtp.password_file", host, set->username, srv);
	default:
		break;
	}
	if (code == 530)	/* 5.7.57 and kin: this server wants a sign-in */
		return m2c_fail(errstr, M2C_E_AUTH, "the SMTP server %s wants a sign-in before "
		    "it takes mail: %s; set smtp.auth (and, for plain or login, "
		    "smtp.password_file)", host, srv);
	if (code >= 400 && code < 500)
		return m2c_fail(errstr, M2C_E_TEMP, "the SMTP server %s refused for now: %s; "
		    "will try again", host, srv);
	if (code >= 500)
		return m2c_fail(errstr, M2C_E_SERVER, "the SMTP server %s refused the reply: %s",
		    host, srv);
	return m2c_fail(errstr, M2C_E_UNAVAIL, "sending through the SMTP server %s:%d "
	    "failed: %s%s%s", host, port, curl_msg, last[0] ? "; last reply: " : "", last);
}

/* The credentials on h; *secret receives what must be wiped afterwards. */
static int
set_auth(CURL *h, const struct conf *cf, const struct conf_account *a,
    const struct conf_smtp *set, char **secret, char **errstr)
{
	struct oauth_tokens t = { 0 };
	int r = 0;

	*secret = NULL;
	switch (set->auth) {
	case CONF_SMTP_NONE:
		return 0;
	case CONF_SMTP_XOAUTH2:
		if ((r = signin_token(cf, a, NULL, &t, errstr)) != 0)
			goto out;
		*secret = t.access_token;
		t.access_token = NULL;
		curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, *secret);
		break;
	case CONF_SMTP_PLAIN:
	case CONF_SMTP_LOGIN:
		if ((r = secret_file_read(set->password_file, secret, errstr)) != 0)
			goto out;
		curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS,
		    set->auth == CONF_SMTP_PLAIN ? "AUTH=PLAIN" : "AUTH=LOGIN");
		curl_easy_setopt(h, CURLOPT_PASSWORD, *secret);
		break;
	}
	curl_easy_setopt(h, CURLOPT_USERNAME, set->username);
out:
	oauth_tokens_clear(&t);
	return r;
}

/*
 * One SMTP session with a's server: send data from `from` to `rcpt`, or,
 * with from NULL, only sign in and say NOOP (smtp_check).  *used (optional)
 * receives the access token sent with XOAUTH2 (an allocated secret), else
 * NULL.
 */
static int
smtp_session_run(const struct conf *cf, const struct conf_account *a, const char *from,
    const char *rcpt, const struct smtp_source *src, char **where, char **used, char **errstr)
{
	struct conf_smtp set;
	struct smtp_session ss = { 0 };
	struct curl_slist *rcpts = NULL;
	char ebuf[CURL_ERROR_SIZE] = "", *url = NULL, *mfrom = NULL, *to = NULL;
	char *secret = NULL;
	CURL *h = NULL;
	CURLcode rc;
	long code = 0, timeout = cf->timeout > 0 ? cf->timeout : 60;
	int r;

	if ((r = smtp_settings(cf, a, &set, errstr)) != 0)
		goto out;
	if (where != NULL)
		*where = xasprintf("%s:%d, %s, %s", set.host, set.port,
		    conf_security_name(set.security), set.auth == CONF_SMTP_XOAUTH2 ? "XOAUTH2" :
		    set.auth == CONF_SMTP_PLAIN ? "PLAIN" : set.auth == CONF_SMTP_LOGIN ? "LOGIN" :
		    "no sign-in");
	if (from != NULL && ((r = addr_check("sender", from, errstr)) != 0 ||
	    (r = addr_check("recipient", rcpt, errstr)) != 0))
		goto out;
	if ((h = curl_easy_init()) == NULL) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot start an SMTP session (libcurl)");
		goto out;
	}
	ss.src = src;
	url = xasprintf(strchr(set.host, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
	    set.security == CONF_SEC_SSL ? "smtps" : "smtp", set.host, set.port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, timeout);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (set.security != CONF_SEC_NONE)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* The store is changed in ssl_ctx_cb: never share a cached one. */
	if (set.ca_file != NULL && *set.ca_file != '\0')
		curl_easy_setopt(h, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
	if (set.ca_file != NULL && *set.ca_file != '\0' &&
	    (curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, set.ca_file) != CURLE_OK)) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "smtp.ca_file %s cannot be used: this "
		    "libcurl's TLS library is not OpenSSL; add the CA to the system store "
		    "(update-ca-certificates) instead", set.ca_file);
		goto out;
	}
	if (from != NULL) {
		mfrom = xasprintf("<%s>", from);
		to = xasprintf("<%s>", rcpt);
		rcpts = curl_slist_append(NULL, to);
		curl_easy_setopt(h, CURLOPT_MAIL_FROM, mfrom);
		curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, &ss);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src->len);
	} else {
		/* No mail and no recipient: libcurl signs in, then sends this. */
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "NOOP");
	}
	/* The trace hook sees every reply: it keeps the last for messages. */
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, &ss);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	if ((r = set_auth(h, cf, a, &set, &secret, errstr)) != 0)
		goto out;
	if (used != NULL && set.auth == CONF_SMTP_XOAUTH2)
		*used = xstrdup(secret);
	if (from != NULL)
		log_debug("smtp: sending %zu bytes to %s through %s", src->len, rcpt, url);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK && ss.read_error != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot read the message to send: %s",
		    strerror(ss.read_error));
	} else if (rc != CURLE_OK) {
		if (ebuf[0] == '\0')
			snprintf(ebuf, sizeof(ebuf), "%s", curl_easy_strerror(rc));
		r = smtp_error(a, &set, rc, code, ss.last, ebuf, errstr);
	}
out:
	if (h != NULL) {
		/*
		 * libcurl keeps its own copies of the credentials and frees
		 * them without wiping; drop them as early as we can.
		 */
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, NULL);
		curl_easy_setopt(h, CURLOPT_PASSWORD, NULL);
		curl_easy_cleanup(h);
	}
	free_secret(secret);
	curl_slist_free_all(rcpts);
	free(url);
	free(mfrom);
	free(to);
	return r;
}

/*
 * A session, and, when the server refuses an OAuth access token that
 * looked valid (revoked, or issued before SMTP.Send was granted), one more
 * with a refreshed token, as the IMAP sign-in does.
 */
static int
smtp_run(const struct conf *cf, const struct conf_account *a, const char *from,
    const char *rcpt, const struct smtp_source *src, char **where, char **errstr)
{
	struct oauth_tokens t = { 0 };
	char *used = NULL, *said = NULL, *local = NULL, *e;
	int r, rr;

	if (errstr == NULL)
		errstr = &local;
	r = smtp_session_run(cf, a, from, rcpt, src, where, &used, errstr);
	if (r != M2C_E_AUTH || used == NULL)
		goto out;
	said = *errstr;
	*errstr = NULL;
	log_info("the SMTP server refused the access token (%s); refreshing it and trying "
	    "again", said ? said : m2c_err_name(r));
	/* Refresh first: no second session when it cannot be. */
	rr = signin_token(cf, a, used, &t, errstr);
	oauth_tokens_clear(&t);
	if (rr != 0) {
		e = *errstr;
		*errstr = xasprintf("%s; and the token could not be refreshed: %s",
		    said ? said : m2c_err_name(r), e ? e : m2c_err_name(rr));
		free(e);
		/* A provider out of reach now may do next time; else it stays a sign-in problem. */
		r = m2c_err_is_temporary(rr) ? rr : M2C_E_AUTH;
		goto out;
	}
	if (where != NULL) {
		free(*where);
		*where = NULL;
	}
	r = smtp_session_run(cf, a, from, rcpt, src, where, NULL, errstr);
	if (r == M2C_E_AUTH) {
		e = *errstr;
		*errstr = xasprintf("%s (also after refreshing the token)", e ? e : said);
		free(e);
	}
out:
	free(said);
	free(local);
	free_secret(used);
	return r;
}

int
smtp_send(const struct conf *cf, const struct conf_account *a, const char *from,
    const char *rcpt, const char *data, size_t len, char **errstr)
{
	struct smtp_source src = { data, -1, len };

	if (from == NULL || rcpt == NULL || data == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "smtp_send without a sender, recipient or message");
	return smtp_run(cf, a, from, rcpt, &src, NULL, errstr);
}

int
smtp_send_fd(const struct conf *cf, const struct conf_account *a, const char *from,
    const char *rcpt, int fd, size_t len, char **errstr)
{
	struct smtp_source src = { NULL, fd, len };

	if (from == NULL || rcpt == NULL || fd < 0)
		return m2c_fail(errstr, M2C_E_USAGE, "smtp_send_fd without a sender, recipient or file");
	return smtp_run(cf, a, from, rcpt, &src, NULL, errstr);
}

int
smtp_check(const struct conf *cf, const struct conf_account *a, char **where, char **errstr)
{
	if (where != NULL)
		*where = NULL;
	return smtp_run(cf, a, NULL, NULL, NULL, where, errstr);
}
