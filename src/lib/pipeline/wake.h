/*
 * wake.h - the wake-up datagram from the Dovecot plugin to the daemon.
 *
 * After Dovecot commits messages into a watched mailbox, the plugin
 * (plugin/mail2cups-plugin.c) sends one datagram to the daemon's
 * wake_socket; the daemon wakes the account serving that mailbox.  A
 * datagram is only a hint: it carries no content and never decides what
 * prints (the woken account searches its mailbox over IMAP as always).
 *
 * The format, version 1: ASCII keys, one field a line, in this order, each
 * line ended by "\n", nothing after the last:
 *
 *     mail2cups-wake 1
 *     user alice@example.org
 *     mailbox INBOX
 *     uidvalidity 1733480000
 *     uids 4,7:9
 *
 * user (1 to WAKE_MAX_USER bytes) and mailbox (the name IMAP clients see,
 * 1 to WAKE_MAX_MAILBOX bytes) are UTF-8 without control characters.
 * uidvalidity is a nonzero 32-bit number, uids an IMAP sequence set of
 * nonzero UIDs in ascending order without overlaps (at most
 * WAKE_MAX_RANGES ranges; a writer with more joins the tail into its last
 * range).  Numbers have no sign and no leading zero.  The whole datagram is
 * at most WAKE_MAX_SIZE bytes.  Anything else is refused: another version,
 * a missing, repeated, unknown or misplaced field, a NUL byte.
 *
 * This module allocates nothing and uses no other module, so the plugin
 * compiles it into Dovecot (whose pools it must not bypass).
 */
#ifndef M2C_WAKE_H
#define M2C_WAKE_H

#include <stddef.h>
#include <stdint.h>

#define WAKE_VERSION		1
#define WAKE_MAX_SIZE		4096	/* bytes in one datagram */
#define WAKE_MAX_USER		255	/* bytes */
#define WAKE_MAX_MAILBOX	1000	/* bytes */
#define WAKE_MAX_RANGES		64	/* UID ranges */

struct wake_range {
	uint32_t first, last;		/* first <= last */
};

struct wake {
	char user[WAKE_MAX_USER + 1];
	char mailbox[WAKE_MAX_MAILBOX + 1];
	uint32_t uidvalidity;
	struct wake_range uids[WAKE_MAX_RANGES];
	size_t nuids;			/* ranges used, 1 to WAKE_MAX_RANGES */
};

/*
 * Parse one datagram of len bytes (not NUL-terminated) into *out.  0, or
 * M2C_E_DATA with *why (optional) set to a constant reason such as
 * "version 2 not understood" ("borrowed": never freed).  *out is
 * unspecified on failure.
 */
int wake_parse(const void *buf, size_t len, struct wake *out, const char **why);

/*
 * Add the UIDs first..last (ascending: after every UID added so far) to
 * w's set, joining them to the last range when adjacent; with
 * WAKE_MAX_RANGES ranges used already, the last one is stretched to cover
 * them.  0, or M2C_E_DATA for UID 0, first > last or an out-of-order range
 * (then w is unchanged).
 */
int wake_add_range(struct wake *w, uint32_t first, uint32_t last);

/*
 * Write w as a datagram into buf (size bytes).  The length written (no NUL
 * is counted; one is written after it when there is room), or M2C_E_DATA
 * when w breaks the rules above (a field empty, too long or with a control
 * character, no UID) or it would not fit in size or WAKE_MAX_SIZE.
 */
int wake_format(const struct wake *w, char *buf, size_t size);

#endif
