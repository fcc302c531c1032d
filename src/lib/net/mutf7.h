/*
 * mutf7.h - modified UTF-7 (RFC 3501 5.1.3), the way IMAP writes mailbox
 * names: printable ASCII as itself ("&" as "&-"), anything else as UTF-16
 * in a modified base64 between "&" and "-".  Private to net (the IMAP
 * client's).
 */
#ifndef M2C_MUTF7_H
#define M2C_MUTF7_H

/* The name in modified UTF-7: allocated (caller frees); NULL if utf8 is not strict UTF-8. */
char *mutf7_from_utf8(const char *utf8);

#endif
