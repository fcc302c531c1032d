/*
 * wakesock.h - the daemon's wake-up socket: where the Dovecot plugin's
 * datagrams (wake.h) arrive.
 *
 * A local datagram socket (AF_UNIX, SOCK_DGRAM) at wake_socket, mode 0660
 * with group wake_socket_group (so Dovecot's mail processes, and nobody
 * else, can write to it; without a group, 0600), bound by the daemon's
 * supervisor.  wake_sock_serve() reads what is waiting, refuses every
 * datagram that does not parse, and wakes each account whose username
 * (ASCII case-insensitive) and mailbox (INBOX in any case) a good one
 * names, and each print_folders account whose folder it names for the
 * user it names, at most once per wake_interval per account (and user): a wake-up within the
 * interval is held back until it has passed, so none is lost and a flood
 * costs each account at most one pass per interval.  Refused datagrams are
 * logged at most once a minute, with their count.  A datagram is only a
 * hint: nothing in it decides what prints.
 */
#ifndef M2C_WAKESOCK_H
#define M2C_WAKESOCK_H

#include "conf.h"
#include "wake.h"

#define WAKE_SOCK_BATCH 256	/* datagrams read by one wake_sock_drain() */

/*
 * Wake the account called name; user is the user a print_folders account
 * is woken for (else NULL).  0 when it was woken; 1 when it is busy (the
 * wake-up is held back and sent again shortly); -1 when it cannot be (not
 * running: its next pass looks anyway; the wake-up is dropped).
 */
typedef int wake_sock_fn(void *arg, const char *name, const char *user);

struct wake_sock;

/*
 * Bind path (replacing a stale socket file left by a daemon that is gone;
 * refusing one another process still listens on), set its group and
 * mode.  0 and *out allocated, or M2C_E_CONFIG / M2C_E_SYS with *errstr
 * saying what to do.
 */
int wake_sock_open(const char *path, const char *group, struct wake_sock **out, char **errstr);

/* The descriptor to poll for POLLIN. */
int wake_sock_fd(const struct wake_sock *ws);

/*
 * When readable, read up to WAKE_SOCK_BATCH datagrams without blocking and
 * wake (wake_sock_fn) the accounts of cf they name; then send the
 * held-back wake-ups that are due.  Returns the ms until a held-back
 * wake-up is due, or -1 when none is.
 */
long long wake_sock_serve(struct wake_sock *ws, int readable, const struct conf *cf,
    wake_sock_fn *wake, void *arg);

/* Close and remove the socket file; NULL is fine; sets *ws to NULL. */
void wake_sock_close(struct wake_sock **ws);

#endif
