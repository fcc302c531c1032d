/* imap-parse.h - placeholder: the IMAP response push parser (no I/O). */
#ifndef M2C_IMAP_PARSE_H
#define M2C_IMAP_PARSE_H
#endif
