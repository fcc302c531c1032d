/*
 * oauth-listen.c - the authorization code's way back (part of the oauth
 * module; declared in oauth.h): a loopback HTTP listener the browser is
 * redirected to, or the redirect address pasted by hand, and the checks of
 * what it carries (state, code, or the provider's error).
 *
 * Implements: RFC 8252 7.3 (loopback interface redirection), RFC 6749
 * 4.1.2 (authorization response) and 4.1.2.1 (error response), the part
 * of HTTP/1.1 (RFC 9112) a browser's GET needs.
 */
#include "m2c-config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "error.h"
#include "oauth-error.h"
#include "oauth.h"
#include "util.h"

#define REQUEST_MAX 8192	/* one request's head */
#define LB_CLIENTS 8		/* connections at once */

/* The decoded value of name in a query string (a=b&c=d); allocated or NULL. */
static char *
query_get(const char *q, const char *name)
{
	size_t nl = strlen(name);

	while (q != NULL && *q) {
		const char *end = q + strcspn(q, "&#");

		if ((size_t)(end - q) > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
			struct buf b = { 0 };
			const char *s;

			for (s = q + nl + 1; s < end; s++) {
				if (*s == '+')
					buf_appendc(&b, ' ');
				else if (*s == '%' && end - s >= 3 &&
				    hex_digit(s[1]) >= 0 && hex_digit(s[2]) >= 0) {
					buf_appendc(&b, (char)(hex_digit(s[1]) * 16 + hex_digit(s[2])));
					s += 2;
				} else
					buf_appendc(&b, *s);
			}
			return buf_steal(&b);
		}
		if (*end != '&')
			break;
		q = end + 1;
	}
	return NULL;
}

/*
 * The code from a redirect's query string: state checked, an error answer
 * mapped.  provider/account may be NULL.
 */
static int
redirect_code(const char *query, const struct oauth_pkce *p, const char *provider,
    const char *account, char **code, char **errstr)
{
	char *state = query_get(query, "state"), *c = query_get(query, "code");
	char *err = query_get(query, "error"), *desc = NULL;
	int r;

	*code = NULL;
	if (state == NULL || strcmp(state, p->state) != 0) {
		r = m2c_fail(errstr, M2C_E_AUTH, "sign-in failed: the redirect's state does not "
		    "match this sign-in, so it was refused: start again: mail2cups-oauth login %s",
		    account ? account : "NAME");
		goto out;
	}
	if (err != NULL) {
		json_t *j;
		char *body;

		desc = query_get(query, "error_description");
		j = json_pack("{s:s, s:s}", "error", err, "error_description", desc ? desc : "");
		body = json_dumps(j, 0);
		r = oauth_error_from_response(provider, account, 400, body, strlen(body),
		    "sign-in", errstr);
		free(body);
		json_decref(j);
		goto out;
	}
	if (c == NULL || *c == '\0') {
		r = m2c_fail(errstr, M2C_E_DATA, "sign-in failed: the redirect holds no code: "
		    "copy the whole address from the browser after signing in");
		goto out;
	}
	*code = c;
	c = NULL;
	r = 0;
out:
	free(state);
	free_secret(c);
	free(err);
	free(desc);
	return r;
}

int
oauth_code_from_url(const char *url, const struct oauth_pkce *p, char **code, char **errstr)
{
	const char *q = url ? strchr(url, '?') : NULL;

	*code = NULL;
	if (q == NULL)
		return m2c_fail(errstr, M2C_E_DATA, "sign-in failed: that is not the address "
		    "the browser was sent to after signing in (no ?code=...): copy the whole "
		    "address from the browser's address bar");
	return redirect_code(q + 1, p, NULL, NULL, code, errstr);
}

int
oauth_loopback_listen(int *fd, int *port, char **errstr)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s;

	*fd = -1;
	*port = 0;
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot open a loopback socket: %s",
		    strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(s, 4) != 0 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) != 0) {
		int e = errno;

		close(s);
		return m2c_fail(errstr, M2C_E_SYS, "cannot listen on 127.0.0.1: %s", strerror(e));
	}
	*fd = s;
	*port = ntohs(sin.sin_port);
	return 0;
}

static void
reply_page(int fd, int status, const char *text)
{
	char *page = xasprintf("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
	    "<title>mail2cups</title></head><body><p>%s</p></body></html>", text);
	char *resp = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n%s",
	    status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request",
	    strlen(page), page);

	(void)write_all(fd, resp, strlen(resp));
	free(page);
	free(resp);
}

/*
 * The loopback listener serves a few connections at once: browsers open
 * speculative connections that send nothing, and ask for /favicon.ico.
 */
struct lb_client {
	int fd;
	struct buf head;
};

static void
lb_drop(struct lb_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	if (cl->head.data != NULL)
		wipe(cl->head.data, cl->head.len);
	buf_free(&cl->head);
}

/*
 * A complete request head in cl: answer it.  1 when it was the redirect
 * (result in *r), 0 when it was something else (answered and dropped).
 */
static int
lb_handle(struct lb_client *cl, const struct oauth_pkce *p, char **code, int *r,
    char **errstr)
{
	char *target = cl->head.data + 4;

	/* "GET /?code=...&state=... HTTP/1.1" */
	if (strncmp(cl->head.data, "GET /", 5) != 0) {
		reply_page(cl->fd, 400, "Not a sign-in redirect.");
		return 0;
	}
	target[strcspn(target, " \r\n")] = '\0';
	if (strncmp(target, "/?", 2) != 0) {
		reply_page(cl->fd, 404, "Not found.");	/* /favicon.ico and such */
		return 0;
	}
	*r = redirect_code(target + 2, p, NULL, NULL, code, errstr);
	reply_page(cl->fd, *r == 0 ? 200 : 400, *r == 0 ?
	    "Signed in; you can close this window." :
	    "Sign-in failed; see the terminal for what to do.");
	return 1;
}

int
oauth_loopback_wait(int fd, const struct oauth_pkce *p, int timeout_s, char **code,
    char **errstr)
{
	struct lb_client cl[LB_CLIENTS];
	struct pollfd pfd[LB_CLIENTS + 1];
	long long deadline = monotonic_ms() + (long long)timeout_s * 1000;
	int r = 1, i, n;

	*code = NULL;
	for (i = 0; i < LB_CLIENTS; i++)
		cl[i] = (struct lb_client){ -1, { 0 } };
	while (r > 0) {
		long long left = deadline - monotonic_ms();

		pfd[0] = (struct pollfd){ fd, POLLIN, 0 };
		for (i = 0; i < LB_CLIENTS; i++)
			pfd[i + 1] = (struct pollfd){ cl[i].fd, POLLIN, 0 };
		if (left <= 0 || (n = poll(pfd, LB_CLIENTS + 1, (int)left)) == 0) {
			r = m2c_fail(errstr, M2C_E_TIMEOUT, "sign-in failed: no answer from the "
			    "browser within %d s: start again (with a browser on another machine, "
			    "use the headless mode and paste the address)", timeout_s);
			break;
		}
		if (n < 0) {
			if (errno != EINTR)
				r = m2c_fail(errstr, M2C_E_SYS, "waiting for the browser failed: %s",
				    strerror(errno));
			continue;
		}
		for (i = 0; i < LB_CLIENTS && r > 0; i++) {
			char tmp[1024];
			ssize_t got;

			if (cl[i].fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(cl[i].fd, tmp, sizeof(tmp));
			if (got <= 0 || cl[i].head.len + (size_t)got > REQUEST_MAX) {
				lb_drop(&cl[i]);
				continue;
			}
			buf_append(&cl[i].head, tmp, (size_t)got);
			if (strstr(cl[i].head.data, "\r\n\r\n") == NULL)
				continue;
			if (lb_handle(&cl[i], p, code, &r, errstr) == 0)
				r = 1;
			lb_drop(&cl[i]);
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (cfd >= 0) {
				/* Full: the oldest connection makes room. */
				for (i = 0; i < LB_CLIENTS && cl[i].fd >= 0; i++)
					;
				if (i == LB_CLIENTS) {
					lb_drop(&cl[0]);
					i = 0;
				}
				cl[i].fd = cfd;
			}
		}
	}
	for (i = 0; i < LB_CLIENTS; i++)
		lb_drop(&cl[i]);
	return r;
}
