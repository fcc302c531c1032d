/*
 * imap-conn.c - the IMAP client's transport; see imap-conn.h.
 *
 * Implements: RFC 8314 (implicit TLS) and the TLS half of RFC 2595
 * (STARTTLS), with certificate and host name verification (RFC 6125).
 */
#include "m2c-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "imap-conn.h"
#include "log.h"
#include "util.h"

static int
fail_dead(struct imap_conn *c, char **errstr, int err, const char *what, const char *why)
{
	return m2c_fail(errstr, err, "IMAP connection to %s:%d: %s: %s", c->host, c->port,
	    what, why);
}
static int
net_wait(struct imap_conn *c, short events, char **errstr)
{
	struct pollfd pfd;
	int r;

	pfd.fd = c->fd;
	pfd.events = events;
	for (;;) {
		r = poll(&pfd, 1, c->timeout_ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return m2c_fail(errstr, M2C_E_TIMEOUT,
			    "IMAP server %s:%d did not answer within %d ms; check that the "
			    "server is up, or raise the timeout", c->host, c->port, c->timeout_ms);
		if (errno != EINTR)
			return fail_dead(c, errstr, M2C_E_SYS, "poll", strerror(errno));
	}
}

static const char *
ssl_reason(void)
{
	unsigned long e = ERR_get_error();
	const char *s = e ? ERR_reason_error_string(e) : NULL;

	return s ? s : "unknown TLS error";
}

/*
 * SSL_ERROR_* to a wait or a failure: 0 = retry after waiting,
 * IMAP_CONN_CLOSED, or M2C_E_*.
 */
static int
ssl_retry(struct imap_conn *c, int ret, const char *what, char **errstr)
{
	int e = SSL_get_error(c->ssl, ret);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return net_wait(c, POLLIN, errstr);
	case SSL_ERROR_WANT_WRITE:
		return net_wait(c, POLLOUT, errstr);
	case SSL_ERROR_ZERO_RETURN:
		return IMAP_CONN_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == EPIPE || errno == ECONNRESET)
			return IMAP_CONN_CLOSED;
		return fail_dead(c, errstr, M2C_E_UNAVAIL, what, strerror(errno));
	default:
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
		/* OpenSSL 3: the peer closed without close_notify */
		if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return IMAP_CONN_CLOSED;
#endif
		return fail_dead(c, errstr, M2C_E_TLS, what, ssl_reason());
	}
}

/*
 * OpenSSL writes to the socket with write(2): a peer that closed would
 * kill the process with SIGPIPE.  A program that ignores SIGPIPE (mail2cups
 * does, once, at start) needs nothing more: imap_conn_open notices that.
 * Otherwise hold it back around OpenSSL calls and swallow one raised
 * meanwhile (not one that was pending before): three system calls a side,
 * for every read and write.
 */
static int
sigpipe_is_ignored(void)
{
	struct sigaction sa;

	return sigaction(SIGPIPE, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
	    sa.sa_handler == SIG_IGN;
}

struct sigpipe_guard {
	sigset_t old;
	int was_pending;
	int skip;		/* SIGPIPE is ignored: nothing to do */
};

/* *set = { SIGPIPE }; whether a SIGPIPE is pending now. */
static int
sigpipe_pending(sigset_t *set)
{
	sigset_t pending;

	sigemptyset(set);
	sigaddset(set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	return sigismember(&pending, SIGPIPE);
}

static void
sigpipe_hold(const struct imap_conn *c, struct sigpipe_guard *g)
{
	sigset_t set;

	g->skip = c->sigpipe_ignored;
	if (g->skip)
		return;
	g->was_pending = sigpipe_pending(&set);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void
sigpipe_release(struct sigpipe_guard *g)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	if (g->skip)
		return;
	if (sigpipe_pending(&set) && !g->was_pending)
		(void)sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/*
 * After a record's worth: the records OpenSSL has read ahead as well, up
 * to n bytes, without a wait (the socket is non-blocking: a record not
 * whole yet stays for the next call).  A server sends a large literal in
 * records of a few KB; taking several at a time saves a read and a write
 * of the scratch file for each.
 */
static void
ssl_read_more(struct imap_conn *c, void *buf, size_t n, size_t *got)
{
	struct sigpipe_guard g;
	int k;

	while (*got < n && SSL_has_pending(c->ssl)) {
		size_t want = n - *got;

		ERR_clear_error();
		sigpipe_hold(c, &g);
		k = SSL_read(c->ssl, (char *)buf + *got, want > INT32_MAX ? INT32_MAX : (int)want);
		sigpipe_release(&g);
		if (k <= 0) {
			ERR_clear_error();	/* WANT_READ, or an error the next call meets */
			break;
		}
		*got += (size_t)k;
	}
}

int
imap_conn_read(struct imap_conn *c, void *buf, size_t n, int soft_ms, size_t *got, char **errstr)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct sigpipe_guard g;
	ssize_t r;
	int k;

	*got = 0;
	for (;;) {
		/* With read-ahead, OpenSSL may hold records the socket no longer shows. */
		if (soft_ms >= 0 && !(c->ssl && SSL_has_pending(c->ssl))) {
			if ((k = poll(&pfd, 1, soft_ms)) < 0 && errno != EINTR)
				return fail_dead(c, errstr, M2C_E_SYS, "poll", strerror(errno));
			if (k <= 0)
				return 0;
		}
		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			sigpipe_hold(c, &g);
			k = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
			sigpipe_release(&g);
			if (k > 0) {
				*got = (size_t)k;
				ssl_read_more(c, buf, n, got);
				c->last_rx = monotonic_ms();
				return 0;
			}
			/* a TLS record without application data, or half of one */
			if (soft_ms >= 0 && SSL_get_error(c->ssl, k) == SSL_ERROR_WANT_READ)
				return 0;
			if ((k = ssl_retry(c, k, "read", errstr)) != 0)
				return k;
			continue;
		}
		r = read(c->fd, buf, n);
		if (r > 0) {
			*got = (size_t)r;
			c->last_rx = monotonic_ms();
			return 0;
		}
		if (r == 0)
			return IMAP_CONN_CLOSED;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (soft_ms >= 0)
				return 0;
			if ((k = net_wait(c, POLLIN, errstr)) != 0)
				return k;
		} else if (errno == ECONNRESET) {
			return IMAP_CONN_CLOSED;
		} else if (errno != EINTR) {
			return fail_dead(c, errstr, M2C_E_UNAVAIL, "read", strerror(errno));
		}
	}
}

int
imap_conn_write(struct imap_conn *c, const void *buf, size_t n, char **errstr)
{
	struct sigpipe_guard g;
	const char *p = buf;
	ssize_t r;
	int k, err = 0;

	sigpipe_hold(c, &g);
	while (n > 0 && err == 0) {
		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			k = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
			if (k > 0) {
				p += k;
				n -= (size_t)k;
			} else if ((k = ssl_retry(c, k, "write", errstr)) != 0) {
				err = k;
			}
			continue;
		}
		r = send(c->fd, p, n, MSG_NOSIGNAL);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			err = net_wait(c, POLLOUT, errstr);
		} else if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			err = IMAP_CONN_CLOSED;
		} else if (r < 0 && errno != EINTR) {
			err = fail_dead(c, errstr, M2C_E_UNAVAIL, "write", strerror(errno));
		}
	}
	sigpipe_release(&g);
	return err;
}

static int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return 0;
}

/*
 * TCP keepalive: the first probe after idle_s seconds of silence, then
 * every idle_s / 4 s, 4 probes: a dead peer is noticed after 2 * idle_s.
 */
static void
set_keepalive(int fd, int idle_s)
{
	int one = 1, intvl = idle_s / 4 > 0 ? idle_s / 4 : 1, cnt = 4;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
#else
	(void)intvl;
	(void)cnt;
#endif
}

/* Non-blocking connect to one address within the timeout: 0 or errno. */
static int
try_connect(struct imap_conn *c, const struct addrinfo *ai)
{
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, e = 0, one = 1, r;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			e = errno;
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		while ((r = poll(&pfd, 1, c->timeout_ms)) < 0 && errno == EINTR)
			;
		if (r == 0)
			e = ETIMEDOUT;
		else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0)
			e = errno;
	}
	if (e == 0) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (c->keepalive_s > 0)
			set_keepalive(fd, c->keepalive_s);
	}
 out:
	if (e != 0)
		close(fd);
	else
		c->fd = fd;
	return e;
}

int
imap_conn_open(struct imap_conn *c, int loopback_only, char **errstr)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	const char *why = "no usable address";
	int e, r = M2C_E_UNAVAIL, skipped = 0, tried = 0;

	c->sigpipe_ignored = sigpipe_is_ignored();
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", c->port);
	if ((e = getaddrinfo(c->host, port, &hints, &res)) != 0) {
		r = m2c_fail(errstr, M2C_E_UNAVAIL, "cannot reach %s:%d: %s; check the host "
		    "name and the network", c->host, c->port, gai_strerror(e));
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (loopback_only && !is_loopback(ai->ai_addr)) {
			skipped++;
			continue;
		}
		tried++;
		if ((e = try_connect(c, ai)) == 0) {
			r = 0;
			goto out;
		}
		why = e == ETIMEDOUT ? "connection timed out" : strerror(e);
	}
	if (skipped && !tried)
		r = m2c_fail(errstr, M2C_E_CONFIG, "%s is not a loopback address: security "
		    "\"none\" sends the password in clear and is allowed only to loopback; "
		    "use security = \"ssl\" or \"starttls\"", c->host);
	else
		r = m2c_fail(errstr, M2C_E_UNAVAIL, "cannot reach %s:%d: %s; check host, port "
		    "and that the server is up", c->host, c->port, why);
 out:
	if (res)
		freeaddrinfo(res);
	return r;
}

static int
is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* OpenSSL's protocol tracer: keep the first record header the peer sent. */
static void
first_rx_cb(int write_p, int version, int content_type, const void *buf, size_t len,
    SSL *ssl, void *arg)
{
	struct imap_conn *c = arg;

	(void)version;
	(void)ssl;
	if (!write_p && content_type == SSL3_RT_HEADER && len >= sizeof(c->first_rx) &&
	    !c->have_first_rx) {
		memcpy(c->first_rx, buf, sizeof(c->first_rx));
		c->have_first_rx = 1;
	}
}

enum imap_conn_peer
imap_conn_peer_spoke(const struct imap_conn *c)
{
	if (!c->have_first_rx)
		return IMAP_CONN_PEER_UNKNOWN;
	/* A handshake or alert record of TLS (major version 3). */
	if ((c->first_rx[0] == SSL3_RT_HANDSHAKE || c->first_rx[0] == SSL3_RT_ALERT) &&
	    c->first_rx[1] == 3)
		return IMAP_CONN_PEER_TLS;
	if (c->first_rx[0] == '*' && c->first_rx[1] == ' ')
		return IMAP_CONN_PEER_PLAIN;
	return IMAP_CONN_PEER_UNKNOWN;
}

int
imap_conn_wait_readable(struct imap_conn *c, int ms, char **errstr)
{
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	int r;

	while ((r = poll(&pfd, 1, ms)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return fail_dead(c, errstr, M2C_E_SYS, "poll", strerror(errno));
	return r > 0;
}

int
imap_conn_tls(struct imap_conn *c, const char *ca_file, char **errstr)
{
	struct sigpipe_guard g;
	char *why = NULL;
	long vr;
	int k, r = 0;

	ERR_clear_error();
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return fail_dead(c, errstr, M2C_E_TLS, "TLS setup", ssl_reason());
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		log_warn("imap: cannot load the system's trusted certificates: %s", ssl_reason());
	if (ca_file && *ca_file && SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1)
		return m2c_fail(errstr, M2C_E_CONFIG, "cannot load ca_file %s: %s; it must be a "
		    "PEM file with the CA certificate", ca_file, ssl_reason());
	if ((c->ssl = SSL_new(c->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return fail_dead(c, errstr, M2C_E_TLS, "TLS setup", ssl_reason());
	/* Whole socket buffers at a time, not a record header then its body
	 * (imap_conn_read looks at SSL_has_pending before it polls). */
	SSL_set_read_ahead(c->ssl, 1);
	c->have_first_rx = 0;
	SSL_set_msg_callback(c->ssl, first_rx_cb);
	SSL_set_msg_callback_arg(c->ssl, c);
	if (is_ip_literal(c->host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host) != 1)
			return fail_dead(c, errstr, M2C_E_TLS, "TLS setup", ssl_reason());
	} else {
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set_tlsext_host_name(c->ssl, c->host) != 1 ||
		    SSL_set1_host(c->ssl, c->host) != 1)
			return fail_dead(c, errstr, M2C_E_TLS, "TLS setup", ssl_reason());
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		sigpipe_hold(c, &g);
		k = SSL_connect(c->ssl);
		sigpipe_release(&g);
		if (k == 1)
			break;
		vr = SSL_get_verify_result(c->ssl);
		if (vr != X509_V_OK)
			return m2c_fail(errstr, M2C_E_TLS, "cannot verify the TLS certificate of "
			    "%s:%d: %s; if the server uses a private CA, set ca_file to it, else "
			    "set host to a name on the server's certificate", c->host, c->port,
			    X509_verify_cert_error_string(vr));
		if ((r = ssl_retry(c, k, "TLS handshake", &why)) != 0) {
			if (r == IMAP_CONN_CLOSED)
				why = xasprintf("IMAP connection to %s:%d: connection lost: the "
				    "server closed the connection", c->host, c->port);
			if (r != M2C_E_TIMEOUT)
				r = m2c_fail(errstr, M2C_E_TLS, "TLS handshake with %s:%d failed "
				    "(%s); check that the port speaks TLS (993 for ssl, 143 with "
				    "starttls)", c->host, c->port, why);
			else if (errstr)
				free(*errstr), *errstr = why, why = NULL;
			free(why);
			return r;
		}
	}
	if (c->trace)
		log_debug("imap: %s with %s, certificate verified", SSL_get_version(c->ssl),
		    SSL_get_cipher(c->ssl));
	return 0;
}

void
imap_conn_close(struct imap_conn *c, int notify)
{
	struct sigpipe_guard g;

	if (c->ssl) {
		if (notify) {
			sigpipe_hold(c, &g);
			(void)SSL_shutdown(c->ssl);
			sigpipe_release(&g);
		}
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
