/*
 * imap-conn.h - the IMAP client's transport (private to net): a TCP
 * connection with timeouts and keepalive, TLS with the certificate and the
 * host name verified, and reads and writes that never raise SIGPIPE.  The
 * protocol (imap.c) lies on top; nothing here knows IMAP.
 *
 * Errors: 0, or a negative M2C_E_* with *errstr (allocated; caller frees),
 * after which the connection is unusable; or IMAP_CONN_CLOSED, without a
 * message: the peer closed the connection, which the caller words (it knows
 * what the server said before).
 */
#ifndef M2C_IMAP_CONN_H
#define M2C_IMAP_CONN_H

#include <stddef.h>

#include <openssl/ssl.h>

#define IMAP_CONN_CLOSED 1

struct imap_conn {
	const char *host;	/* foreign: the caller's, outlives the connection */
	int port;
	int timeout_ms;		/* each connect, read, write and handshake */
	int keepalive_s;	/* <= 0: no TCP keepalive */
	int trace;		/* log the TLS version and cipher */
	long long last_rx;	/* monotonic ms of the last byte read */
	int fd;			/* owned; -1: none */
	SSL_CTX *ctx;		/* owned */
	SSL *ssl;		/* owned; NULL: plain TCP */
	unsigned char first_rx[5];	/* the first TLS record header received */
	int have_first_rx;
	int sigpipe_ignored;	/* the process ignores SIGPIPE (seen at open) */
};

/* What the peer sent first during a TLS handshake (imap_conn_peer_spoke). */
enum imap_conn_peer { IMAP_CONN_PEER_UNKNOWN, IMAP_CONN_PEER_TLS, IMAP_CONN_PEER_PLAIN };

/*
 * Connect to host:port, trying each address within timeout_ms.
 * loopback_only: refuse any address that is not loopback (M2C_E_CONFIG),
 * for a connection without TLS.  Set fd to -1 before.
 */
int imap_conn_open(struct imap_conn *c, int loopback_only, char **errstr);
/*
 * TLS on the open connection, TLS 1.2 at least, verified against the
 * system's CAs and ca_file (PEM; NULL or "": none), for host.
 */
int imap_conn_tls(struct imap_conn *c, const char *ca_file, char **errstr);
/*
 * Read what is there (at least one byte) into buf.  soft_ms < 0: wait up
 * to timeout_ms; a timeout is M2C_E_TIMEOUT.  soft_ms >= 0: wait at most
 * soft_ms and read once; nothing there is not an error (*got = 0).
 */
int imap_conn_read(struct imap_conn *c, void *buf, size_t n, int soft_ms, size_t *got,
    char **errstr);
/*
 * After imap_conn_tls() (either result): did the peer answer with a TLS
 * record (a port that speaks TLS at once), with plain text starting "* "
 * (an IMAP greeting: a port for STARTTLS or no TLS), or neither?
 */
enum imap_conn_peer imap_conn_peer_spoke(const struct imap_conn *c);
/*
 * Wait up to ms for something to read: 1 when there is, 0 when the peer
 * stayed silent, or a negative M2C_E_*.
 */
int imap_conn_wait_readable(struct imap_conn *c, int ms, char **errstr);
/* Write all of buf within timeout_ms; EPIPE is an error, never a signal. */
int imap_conn_write(struct imap_conn *c, const void *buf, size_t n, char **errstr);
/* Close (notify: send TLS close_notify first) and free; safe to call twice. */
void imap_conn_close(struct imap_conn *c, int notify);

#endif
