/*
 * daemon.h - `mail2cups run`: the unattended daemon.
 *
 * One supervisor process and one worker process per account, so that a
 * slow or broken account never delays another (Dovecot's and Postfix's
 * process model, in small).  A worker keeps one signed-in session: it
 * prints what is unseen, then waits in IMAP IDLE (RFC 2177, re-issued every
 * idle_interval) or, without IDLE, polls every poll_interval with NOOP; a
 * silent connection is checked after keepalive_interval.  Any failure
 * closes the session and reconnects after a capped exponential back-off
 * with jitter (1 s doubling up to backoff_max).
 *
 * Signals to the supervisor: SIGHUP reloads the configuration (a broken
 * one is refused and logged, the old one kept); only the workers whose
 * settings changed (conf_account_digest) are restarted, healthy ones keep
 * running.  SIGTERM/SIGINT stop every worker: each finishes the message in
 * hand (attachments already in CUPS are recorded) and exits; the
 * supervisor exits once they have, within shutdown_timeout seconds.
 */
#ifndef M2C_DAEMON_H
#define M2C_DAEMON_H

#include "conf.h"

/*
 * Run until SIGTERM.  cf is the loaded configuration, path where it came
 * from (read again on SIGHUP); *cf may be replaced by a reloaded one (the
 * caller frees whatever *cf is on return).  0 after a clean stop.
 */
int daemon_run(const char *path, struct conf **cf, char **errstr);

#endif
