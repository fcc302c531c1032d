/*
 * addr.h - mail addresses as the configuration and outgoing mail use them.
 *
 * Only the plain forms mail2cups itself writes into SMTP envelopes and
 * headers: "user@domain" (at most 254 bytes, RFC 5321 4.5.3.1.3) and
 * "Display Name <user@domain>".  Addresses of incoming mail are parsed by
 * GMime (mime.h), not here.
 */
#ifndef M2C_ADDR_H
#define M2C_ADDR_H

/*
 * 0 when addr can go into MAIL FROM / RCPT TO / a header as it is: at most
 * 254 bytes, an '@', no spaces, controls or angle brackets.  Else
 * M2C_E_DATA with a message naming what ("sender", "recipient").
 */
int addr_check(const char *what, const char *addr, char **errstr);

/*
 * A sender as replies.from gives it, "print@example.org" or "Printer
 * <print@example.org>" (the name may be quoted): 0 with *name (NULL when
 * there is none) and *addr, both allocated; or M2C_E_DATA when the address
 * is not a plain one (addr_check).
 */
int addr_parse_from(const char *from, char **name, char **addr, char **errstr);

#endif
