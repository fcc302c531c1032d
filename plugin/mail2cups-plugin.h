/*
 * mail2cups-plugin.h - the Dovecot plugin "mail2cups" (lib20_mail2cups_plugin.so).
 *
 * A thin notifier: after Dovecot has committed messages into a mailbox the
 * plugin watches (a delivery by LDA or LMTP, an APPEND, a COPY or MOVE by
 * the user), it sends one wake-up datagram (src/lib/wake.h: user,
 * mailbox, UIDVALIDITY, UIDs) to the mail2cups daemon's wake_socket, which
 * wakes the account serving that mailbox.  Built on the notify plugin: its
 * mail_transaction_commit hook runs after the storage commit succeeded, so
 * the plugin can neither fail nor delay a delivery, and it changes nothing.
 *
 * Settings (plugin {} block, or userdb extra fields for one user), see
 * mail2cups-plugin(7):
 *   mail2cups_socket = /run/mail2cups/wake.sock   the daemon's wake_socket
 *   mail2cups_mailbox = INBOX                     a mailbox to watch;
 *   mail2cups_mailbox2 = Print ...                more, numbered from 2
 * No mailbox set: the user is not watched (nothing logged).  A missing or
 * broken setting is logged once per process and nothing is sent; a
 * missing, full or refusing socket is logged at most once a minute.
 */
#ifndef MAIL2CUPS_PLUGIN_H
#define MAIL2CUPS_PLUGIN_H

struct module;

extern const char *mail2cups_plugin_version;
extern const char *mail2cups_plugin_dependencies[];

void mail2cups_plugin_init(struct module *module);
void mail2cups_plugin_deinit(void);

#endif
