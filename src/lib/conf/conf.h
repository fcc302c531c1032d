/*
 * conf.h - the configuration file (libconfig syntax), loaded and validated.
 *
 * conf_load() reads the whole schema of DESIGN.md (and the developer-named
 * keys documented in mail2cups.conf(5)), checks every key's type, range and
 * allowed values, fills defaults, and reports every problem at once, each as
 * "FILE:LINE: key: what is wrong (what to do)".  An unknown key is an error
 * with a "did you mean" hint; a known key whose feature is not built yet is
 * refused with "not supported yet".
 *
 * All strings in these structs are owned by the struct conf and freed by
 * conf_free().
 */
#ifndef M2C_CONF_H
#define M2C_CONF_H

#include <stddef.h>
#include <sys/types.h>

#include "log.h"
#include "printopts.h"

enum conf_security { CONF_SEC_SSL, CONF_SEC_STARTTLS, CONF_SEC_NONE };
enum conf_auth { CONF_AUTH_XOAUTH2, CONF_AUTH_OAUTHBEARER, CONF_AUTH_PLAIN, CONF_AUTH_LOGIN };
enum conf_after { CONF_AFTER_SEEN, CONF_AFTER_MOVE, CONF_AFTER_DELETE };
enum conf_provider { CONF_PROVIDER_NONE, CONF_PROVIDER_MICROSOFT, CONF_PROVIDER_GOOGLE, CONF_PROVIDER_GENERIC };
enum conf_cloud { CONF_CLOUD_GLOBAL, CONF_CLOUD_GCCHIGH, CONF_CLOUD_DOD, CONF_CLOUD_CHINA };
enum conf_flow { CONF_FLOW_DEVICE, CONF_FLOW_AUTHCODE, CONF_FLOW_CLIENT_CREDENTIALS };

struct conf_strlist {
	char **v;
	size_t n;
};

struct conf_oauth {
	int present;			/* an oauth group was given */
	enum conf_provider provider;
	enum conf_cloud cloud;
	char *tenant;
	char *client_id;
	char *client_secret_file;
	char *certificate_file;
	char *private_key_file;
	enum conf_flow flow;
	char *authority;
	char *issuer;
	struct conf_strlist scopes;
	int assertion_rs256;		/* client assertion: RS256 + x5t (else PS256 + x5t#S256) */
};

/* When the message text is printed. */
enum conf_body { CONF_BODY_NEVER, CONF_BODY_NO_ATTACHMENT, CONF_BODY_ALWAYS };

/* The replies an account may send (bits of conf_account.reply). */
enum conf_reply_kind { CONF_REPLY_ACCEPTED, CONF_REPLY_REJECTED, CONF_REPLY_FAILED,
	CONF_REPLY_PRINTED, CONF_REPLY_NKINDS };

/*
 * A routing rule (mail2cups.conf(5) RULES).  A rule matches when every
 * match list it has matches (a rule with none matches every message):
 * recipients against any of the message's recipients, senders against the
 * From address, subjects against the whole subject; '*' and '?' wildcards,
 * ASCII case-insensitive.  The first matching rule decides; unset fields
 * fall back to the account's.
 */
struct conf_rule {
	char *name;			/* for logs; default "rule N" */
	int line;
	struct conf_strlist recipients;
	struct conf_strlist senders;
	struct conf_strlist subjects;
	char *printer;			/* NULL: the account's printer */
	struct print_opts options;	/* from options = [ "duplex", ... ]: defaults */
	struct print_opts force_options;	/* force_options = [ "mono" ]: binding, no
						 * subject tag changes them */
	unsigned int allow_options;	/* POPT_* a sender may set by subject tag;
					 * POPT_ALLOW_DEFAULT when not given (rules.h) */
	int max_copies;			/* default 10 */
	int hold;			/* -1: the account's */
	int print_body;			/* -1: the account's, else enum conf_body */
};

/* users: sender pattern -> CUPS user name ("%l": the address's local part). */
struct conf_user {
	char *sender;
	char *user;
};

/* converters: sniffed types -> a command writing a PDF (argv, no shell). */
struct conf_converter {
	struct conf_strlist types;	/* wildcards: "application/vnd.oasis.opendocument.*" */
	struct conf_strlist command;	/* [0] absolute path; "%i" input file, "%o" output folder */
	int timeout;			/* seconds, default 120 */
	/* The sandbox (convert.h): limits set before the command starts. */
	int unsandboxed;		/* converters_unsandboxed = true: no sandbox */
	int memory_limit;		/* MiB of address space per process, default 4096 */
	int file_size_limit;		/* MiB, largest file it may write, default 256 */
	int max_processes;		/* processes of its user, default 64 */
	int cpu_time_limit;		/* CPU seconds per process, default: timeout */
	struct conf_strlist read_only_paths;	/* more folders it may read */
};

enum conf_smtp_auth { CONF_SMTP_XOAUTH2, CONF_SMTP_PLAIN, CONF_SMTP_LOGIN, CONF_SMTP_NONE };

/*
 * How replies are sent.  An unset host means the account's provider's
 * (Microsoft: smtp.office365.com:587 starttls; Google: smtp.gmail.com:465
 * ssl), with the account's own OAuth token (XOAUTH2).
 */
struct conf_smtp {
	char *host;			/* NULL: the provider's */
	int port;			/* 0: 465 for ssl, 587 for starttls, 25 for none */
	enum conf_security security;	/* default starttls */
	char *ca_file;
	enum conf_smtp_auth auth;	/* default xoauth2 for an OAuth account, else none */
	int auth_set;			/* auth was given */
	char *username;			/* plain/login; default the account's username */
	char *password_file;		/* plain/login */
	off_t max_message_size;		/* bytes a mail may have (the CUPS backend); 0: the
					 * provider's (smtp_settings: 35M Microsoft, 25M else) */
};

/* One reply template; ${subject} ${files} ${queue} ${jobs} ${reason} ... */
struct conf_template {
	char *subject;
	char *body;
};

/*
 * The variables a template may use as ${name}, NULL-terminated: sender,
 * subject, files, queue, jobs, reason, options, notes, release, account,
 * mailbox (reply.h says what each holds).  conf_load refuses any other.
 */
extern const char *const conf_template_vars[];

struct conf_replies {
	char *from;			/* NULL: the account's username */
	int rate_limit;			/* replies to one sender per rate_period; default 10 */
	int rate_period;		/* seconds, default 3600 */
	struct conf_template t[CONF_REPLY_NKINDS];	/* defaults filled in */
};

struct conf_limits {
	off_t max_message_size;		/* bytes; a bigger message is not fetched */
	off_t max_attachment_size;	/* bytes, decoded */
	int max_parts;			/* MIME parts in one message */
	int max_depth;			/* MIME nesting depth */
	int max_attachments;		/* printable attachments in one message */
};

struct conf_account {
	char *name;
	int line;			/* where it starts in the file */
	char *host;
	int port;
	enum conf_security security;
	char *ca_file;
	char *username;
	char *login_user;		/* defaults to username */
	char *mailbox;			/* default "INBOX" */
	enum conf_auth auth;
	char *password_file;
	int poll_interval;		/* seconds */
	int idle;			/* default 1; 0: no connection kept between passes: a
					 * pass at each wake-up (wake.h) and every poll_interval */
	struct conf_oauth oauth;
	char *printer;
	struct conf_strlist allow_senders;
	enum conf_after after;
	char *printed_folder;		/* default "Printed" */
	char *failed_folder;		/* default "Print Failed" */
	struct conf_strlist deny_senders;	/* wins over allow_senders */
	int authenticated_senders_only;
	int trust_unauthenticated_from;	/* the From line alone picks `senders` rules and
					 * users table names (default 0: only an
					 * authenticated one does) */
	char *authserv_id;		/* whose Authentication-Results count; NULL: Microsoft
					 * style (provider microsoft); google: "mx.google.com" */
	struct conf_strlist tenant_domains;	/* Microsoft: the tenant's domains; default the
						 * username's domain (and tenant's, if a domain) */
	struct conf_rule *rules;
	size_t nrules;
	int hold;			/* submit jobs held (job-hold-until=indefinite) */
	enum conf_body print_body;	/* default never */
	unsigned int reply;		/* 1u << CONF_REPLY_* */
	char *rejected_folder;		/* default "Print Rejected" */
	int deliver_only;		/* only `mail2cups deliver` feeds it: no IMAP keys
					 * (host, username NULL); once, run and check
					 * leave its mailbox alone */
	/*
	 * print_folders = true: every user's folder `mailbox` (default
	 * "Print"), read as that user through the Dovecot master user
	 * login_user (folders.h); username is NULL, the user comes from
	 * each wake-up.  No sender check; the CUPS user is the owner.
	 */
	int print_folders;
	int session_timeout;		/* s: a user's session unused this long is closed */
	int max_sessions;		/* users' sessions open at once */
	struct conf_strlist folder_users;	/* looked at by every safety pass */
};

struct conf {
	char *path;			/* the file it was read from */
	char *state_dir;
	char *service_user;		/* run as root: switch to this user (privdrop.h);
					 * NULL: state_dir's owner, else M2C_SERVICE_USER */
	char *cups_server;		/* NULL: CUPS_SERVER / client.conf */
	char *token_key_file;		/* token_encryption_key_file, or NULL */
	enum log_level log_level;
	int timeout;			/* seconds, every network read/write */
	int max_attempts;		/* temporary failures before permanent */
	int idle_interval;		/* s: IDLE is re-issued at least this often */
	int keepalive_interval;		/* s: silence while idling before a liveness check */
	int backoff_max;		/* s: cap of the reconnection back-off */
	int shutdown_timeout;		/* s: SIGTERM to SIGKILL for workers */
	int deliver_lock_wait;		/* s: deliver waits this long for the account's lock */
	char *wake_socket;		/* NULL: none; the Dovecot plugin's datagrams (wake.h) */
	char *wake_socket_group;	/* NULL: the daemon's own group */
	int wake_interval;		/* s: an account is woken at most this often (default 1) */
	struct conf_limits limits;
	struct conf_account *accounts;
	size_t naccounts;
	struct conf_rule *rules;	/* global rules: after each account's own */
	size_t nrules;
	struct conf_user *users;
	size_t nusers;
	struct conf_converter *converters;
	size_t nconverters;
	int converters_unsandboxed;	/* run converters without a sandbox */
	struct conf_smtp smtp;
	struct conf_replies replies;
};

/*
 * Load and validate path.  On success *out is an allocated struct conf
 * (free with conf_free).  On failure returns M2C_E_CONFIG (or M2C_E_SYS when
 * the file cannot be read) with every problem in *errstr, one per line.
 */
int conf_load(const char *path, struct conf **out, char **errstr);
void conf_free(struct conf **c);

/*
 * The default config path: /etc/mail2cups.conf for root,
 * $XDG_CONFIG_HOME/mail2cups/mail2cups.conf (~/.config/...) otherwise.
 * Allocated.
 */
char *conf_default_path(void);

/*
 * Everything a worker serving account a depends on (its settings and the
 * global ones), as one string: two configurations serve a the same way
 * exactly when the digests are equal.  Allocated.  (SIGHUP reload.)
 */
char *conf_account_digest(const struct conf *c, const struct conf_account *a);

/*
 * Nonzero when a has a provider verdict on senders to read: an authserv_id
 * (Google's is filled in), or Microsoft 365's header without one.
 */
int conf_account_judges_senders(const struct conf_account *a);

/* Nonzero when a signs in with OAuth (XOAUTH2 or OAUTHBEARER). */
int conf_account_is_oauth(const struct conf_account *a);

/* Who signs in for a: login_user, else the mailbox (username).  Borrowed. */
const char *conf_account_login_user(const struct conf_account *a);

/* wake_socket_group's gid: a group name or number; -1 when there is no such group. */
long long conf_group_gid(const char *group);

/* Find an account by name; borrowed, or NULL. */
const struct conf_account *conf_account_find(const struct conf *c, const char *name);

/* "ssl", "xoauth2", "seen", ...: constant strings for messages. */
const char *conf_security_name(enum conf_security s);
const char *conf_auth_name(enum conf_auth a);
const char *conf_auth_sasl_name(enum conf_auth a);	/* "XOAUTH2", "PLAIN", ... */
const char *conf_after_name(enum conf_after a);
const char *conf_reply_kind_name(enum conf_reply_kind k);	/* "accepted", ... */
const char *conf_body_name(enum conf_body b);			/* "never", ... */

#endif
