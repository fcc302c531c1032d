/*
 * smtp.h - sending one message with libcurl's SMTP.
 *
 * TLS is always verified (ca_file adds a trust anchor); security "none"
 * is allowed only to a loopback host (the config refuses anything else).
 * Authentication: XOAUTH2 with the account's own OAuth access token (the
 * same app registration and token as IMAP; Microsoft needs the SMTP.Send
 * scope, which mail2cups asks for by default), PLAIN/LOGIN with a password
 * file, or none (a local relay).  No secret is logged or put in argv.
 */
#ifndef M2C_SMTP_H
#define M2C_SMTP_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"

/*
 * The largest mail a provider takes by default, encoded, as its server
 * counts it: Exchange Online's 35 MB (36,700,160 bytes; a tenant may raise
 * it to 150 MB), Gmail's 25 MB; any other server is given Gmail's unless
 * smtp.max_message_size says otherwise.
 */
#define SMTP_MAX_MESSAGE_MICROSOFT	((off_t)35 * 1024 * 1024)
#define SMTP_MAX_MESSAGE_DEFAULT	((off_t)25 * 1024 * 1024)

/*
 * The SMTP settings that apply to account a: cf->smtp with the provider's
 * defaults filled in (host, port, auth, username, max_message_size).  0 and *out (strings borrowed from cf or static), or
 * M2C_E_CONFIG when a has no SMTP server to use.
 */
int smtp_settings(const struct conf *cf, const struct conf_account *a, struct conf_smtp *out,
    char **errstr);

/*
 * Send data (a whole RFC 5322 message, CRLF line ends) from `from` to `rcpt`
 * through a's SMTP server.  Errors: M2C_E_UNAVAIL / M2C_E_TIMEOUT / M2C_E_TLS
 * (temporary), M2C_E_AUTH (credentials refused: the message says what to
 * fix, e.g. for Exchange Online "SMTP AUTH is disabled for the tenant"),
 * M2C_E_SERVER (the recipient or message refused: permanent).
 */
int smtp_send(const struct conf *cf, const struct conf_account *a, const char *from,
    const char *rcpt, const char *data, size_t len, char **errstr);

/*
 * smtp_send for a message in a file: the first len bytes of fd (borrowed;
 * read with pread from offset 0, so its position does not matter), streamed
 * to the server a piece at a time, never held in memory whole (the CUPS
 * backend's 35 MB documents).  The same session and errors as smtp_send,
 * and M2C_E_SYS when the file cannot be read.
 */
int smtp_send_fd(const struct conf *cf, const struct conf_account *a, const char *from,
    const char *rcpt, int fd, size_t len, char **errstr);

/*
 * Try a's SMTP server without sending anything: connect, TLS, sign in,
 * NOOP, QUIT (`mail2cups check`).  0, or the error smtp_send would give.
 * *where (optional) receives "HOST:PORT, SECURITY, AUTH" (allocated).
 */
int smtp_check(const struct conf *cf, const struct conf_account *a, char **where,
    char **errstr);

#endif
