/*
 * imap.h - an IMAP4rev1 client (RFC 3501) over OpenSSL.
 *
 * Implements: RFC 3501 (IMAP4rev1), RFC 2595 / RFC 8314 (STARTTLS and
 * implicit TLS), RFC 4616 (SASL PLAIN), RFC 4959 (SASL-IR), RFC 6851 (MOVE),
 * RFC 4315 (UIDPLUS: UID EXPUNGE), RFC 2342 (NAMESPACE), RFC 2177 (IDLE),
 * RFC 3501 5.1.3 (modified UTF-7 mailbox names).  Response parsing lives in imap-parse.c,
 * which does no I/O.
 *
 * TLS is always verified: the certificate chain against the system store
 * plus the optional ca_file, and the host name (or IP address) against the
 * certificate.  A failed STARTTLS is fatal, never a downgrade.  Security
 * "none" is accepted only for a loopback address.
 *
 * Every read and write has a timeout.  Errors follow error.h: a negative
 * M2C_E_* code and an allocated *errstr.  After a network-level failure
 * (M2C_E_UNAVAIL, M2C_E_TIMEOUT, M2C_E_PROTO, M2C_E_TLS) the connection is
 * dead and only imap_close() may be called.
 */
#ifndef M2C_IMAP_H
#define M2C_IMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct imap;

enum imap_security { IMAP_SEC_SSL, IMAP_SEC_STARTTLS, IMAP_SEC_NONE };

struct imap_opts {
	const char *host;		/* borrowed */
	int port;
	enum imap_security security;
	const char *ca_file;		/* borrowed; optional extra trust anchor */
	int timeout_ms;			/* every network read and write */
	int trace;			/* log the protocol at debug level (never credentials) */
	/*
	 * Dead-connection detection (0: the default; see imap_idle()).
	 * keepalive_s: TCP keepalive starts after this many idle seconds and
	 * probes every keepalive_s / 4 s, 4 times: 60 (the default) notices a
	 * dead peer in about 2 minutes; negative: no TCP keepalive.
	 * alive_ms: inside IDLE, after this long without a single byte from the
	 * server (default 120000) the IDLE is ended to see that it answers;
	 * negative: never.
	 * tick_ms: how often imap_idle() asks its stop callback (default 500).
	 */
	int keepalive_s;
	int alive_ms;
	int tick_ms;
	/*
	 * security starttls or none: after this long without a greeting
	 * (default 5000, at most timeout_ms) see whether the port speaks TLS
	 * at once, and refuse it with the fix (M2C_E_CONFIG) if so.
	 */
	int greeting_ms;
};

/*
 * Connect, handshake TLS, read the greeting and CAPABILITY.  The wrong
 * security for the port is M2C_E_CONFIG with the fix, found within
 * greeting_ms: "ssl" against a plain port (it greets in plain text), or
 * "starttls"/"none" against a port that speaks TLS at once.
 */
int imap_connect(const struct imap_opts *o, struct imap **out, char **errstr);

/*
 * Password sign-in: mech is "LOGIN" (the LOGIN command) or "PLAIN"
 * (AUTHENTICATE PLAIN, with SASL-IR when offered).  Refused with
 * M2C_E_AUTH when the server refuses the credentials.  CAPABILITY is re-read
 * afterwards.  The password is never logged.
 */
int imap_login_password(struct imap *c, const char *mech, const char *user,
    const char *password, char **errstr);

/*
 * AUTHENTICATE PLAIN as authzid, with user's credentials (RFC 4616): a
 * Dovecot master user (user) signing in for another user (authzid).
 * Otherwise as imap_login_password; M2C_E_REFUSED when the server accepts
 * the credentials but not for authzid (AUTHORIZATIONFAILED: no such user,
 * or the master user may not act for them).
 */
int imap_login_as(struct imap *c, const char *authzid, const char *user, const char *password,
    char **errstr);

/*
 * The seam for OAuth (XOAUTH2, OAUTHBEARER): AUTHENTICATE mech with the
 * already base64-encoded initial response, sent as SASL-IR when the server
 * offers it, else after the first continuation.  A failure continuation is
 * answered as the mechanism requires (empty line for XOAUTH2, "AQ==" for
 * OAUTHBEARER), and its decoded text is appended to *errstr.  Never falls
 * back to another mechanism.
 */
int imap_authenticate(struct imap *c, const char *mech, const char *ir_b64, char **errstr);

/* Nonzero when the server advertised the capability (case-insensitive). */
int imap_has_cap(const struct imap *c, const char *cap);

/*
 * SELECT mailbox (UTF-8 name, sent as is in modified UTF-7: no namespace
 * prefix is added).  Outputs optional.
 */
int imap_select(struct imap *c, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *exists, char **errstr);

/* UID SEARCH UNSEEN: *uids allocated (caller frees), ascending. */
int imap_search_unseen(struct imap *c, uint32_t **uids, size_t *nuids, char **errstr);
/*
 * UID SEARCH criteria (our own fixed text, e.g. "UID 4,9 SEEN": never
 * anything from a mail): *uids allocated (caller frees), ascending.
 */
int imap_search(struct imap *c, const char *criteria, uint32_t **uids, size_t *nuids,
    char **errstr);

/*
 * Fetch the whole message (BODY.PEEK[], so it stays unseen) into fd,
 * streamed: never held in memory.  RFC822.SIZE is asked first; a message
 * larger than max_size (0: no limit) is not fetched and M2C_E_LIMIT is
 * returned.  A UID that no longer exists gives M2C_E_NOTFOUND.  sha256
 * (optional) receives the SHA-256 of the body, 64 hex digits, computed as
 * it was written (no second pass over fd), or "" if it could not be.
 */
int imap_fetch_message(struct imap *c, uint32_t uid, int fd, off_t max_size,
    off_t *size_out, char sha256[65], char **errstr);

/*
 * Pipelining a backlog (the poller): the sizes of many messages in one
 * command, and the next message's body asked for before the current one
 * is processed.
 *
 * imap_fetch_sizes: one UID FETCH set (RFC822.SIZE); sizes[i] is the size
 * of uids[i], or IMAP_SIZE_GONE when the server reported none (expunged).
 *
 * imap_fetch_start sends UID FETCH uid BODY.PEEK[] and returns without
 * waiting; the body goes into fd (borrowed: open until imap_fetch_finish),
 * streamed, never held in memory, at most max_size bytes (0: no limit;
 * check the size with imap_fetch_sizes first: a larger body is read and
 * dropped).  At most one such FETCH is in flight: any other command first
 * reads its replies into fd, so commands may be sent meanwhile.
 * imap_fetch_finish(uid) waits for it and says how it ended, as
 * imap_fetch_message does (its size and SHA-256); after imap_fetch_start
 * succeeded it must be called (or the connection closed) before fd is
 * closed.
 */
#define IMAP_SIZE_GONE UINT64_MAX
int imap_fetch_sizes(struct imap *c, const uint32_t *uids, size_t n, uint64_t *sizes,
    char **errstr);
int imap_fetch_start(struct imap *c, uint32_t uid, int fd, off_t max_size, char **errstr);
int imap_fetch_finish(struct imap *c, uint32_t uid, off_t *size_out, char sha256[65],
    char **errstr);

/*
 * The commands on a set of messages take uids ascending, without repeats,
 * 1 to IMAP_SET_MAX of them, sent as one UID set ("3:7,9").  UIDs that are
 * gone are skipped by the server.
 */
#define IMAP_SET_MAX 1000

/* UID STORE uid +FLAGS.SILENT (flags), e.g. flags = "\\Seen". */
int imap_add_flags(struct imap *c, uint32_t uid, const char *flags, char **errstr);
int imap_add_flags_set(struct imap *c, const uint32_t *uids, size_t n, const char *flags,
    char **errstr);

/*
 * Move a message to folder (UTF-8, "/" separates levels; the NAMESPACE
 * prefix and the server's delimiter are applied), creating and subscribing
 * the folder when missing.  UID MOVE where offered, else UID COPY + STORE
 * \Deleted + UID EXPUNGE (UIDPLUS).  Without UIDPLUS no EXPUNGE is ever
 * sent: the original stays flagged \Deleted (and \Seen), and *flagged_only
 * (optional) is set to 1.
 */
int imap_move(struct imap *c, uint32_t uid, const char *folder, int *flagged_only,
    char **errstr);
int imap_move_set(struct imap *c, const uint32_t *uids, size_t n, const char *folder,
    int *flagged_only, char **errstr);

/* Delete: STORE \Deleted then UID EXPUNGE (UIDPLUS) or leave it flagged. */
int imap_delete(struct imap *c, uint32_t uid, int *flagged_only, char **errstr);
int imap_delete_set(struct imap *c, const uint32_t *uids, size_t n, int *flagged_only,
    char **errstr);

/*
 * The server's full name for a folder ("Printed" -> "INBOX.Printed"), allocated.
 * Asks NAMESPACE (or LIST "" "") once per connection when signed in; NULL
 * when folder is not valid UTF-8.  "INBOX" is never prefixed.
 */
char *imap_folder_name(struct imap *c, const char *folder);

/*
 * IDLE (RFC 2177) in the selected mailbox, for at most max_ms (the caller's
 * re-issue period, at most 29 minutes by the RFC; 25 is usual).
 *
 * Sends IDLE only when the server advertises it (else M2C_E_NOTSUP and
 * nothing is sent), waits for the continuation, then waits for the server.
 * When an earlier command's replies already grew EXISTS (mail that came
 * during a SEARCH or FETCH), returns 0 with *changed = 1 at once and sends
 * nothing: the caller's next search finds that mail.
 * The IDLE is ended with DONE and its tagged OK read, and 0 returned, when:
 *   - an untagged EXISTS (or a nonzero RECENT) arrives: *changed = 1 (it
 *     may be spurious; the caller searches anyway);
 *   - max_ms has passed: *changed = 0;
 *   - stop(arg) returns nonzero; it is asked every tick_ms (imap_opts) and
 *     before IDLE is sent (then nothing is sent at all);
 *   - nothing at all was read for alive_ms (imap_opts): the DONE is the
 *     liveness probe for servers that stay silent while idling (Exchange),
 *     so a caller simply calls imap_idle() again.  Servers that send
 *     "* OK Still here" (Dovecot) are never probed.
 * EXPUNGE and FETCH only update the connection and do not end the IDLE.
 *
 * Errors (the connection is dead afterwards): an untagged BYE gives
 * M2C_E_UNAVAIL with the server's text in *errstr (e.g. "Session
 * invalidated - AccessTokenExpired"); no tagged reply within timeout_ms of
 * the DONE gives M2C_E_TIMEOUT ("no answer from HOST for N s; the
 * connection is dead").  stop may be NULL; changed is optional.
 */
int imap_idle(struct imap *c, int max_ms, int (*stop)(void *arg), void *arg, int *changed,
    char **errstr);

/*
 * NOOP: lets the server report changes; *changed (optional) is set to 1 when
 * an EXISTS or a nonzero RECENT came with it, or an earlier command's
 * replies grew EXISTS (see imap_idle), else 0.
 */
int imap_noop(struct imap *c, int *changed, char **errstr);

/* The message count of the selected mailbox as last reported (EXISTS). */
uint32_t imap_exists(const struct imap *c);

/* LOGOUT (best effort), close and free; *c = NULL.  NULL is fine. */
void imap_logout(struct imap **c);
/* Close without LOGOUT and free; *c = NULL.  NULL is fine. */
void imap_close(struct imap **c);

#endif
