/*
 * rules.h - where and how a message prints: routing, options, users.
 *
 * The account's rules, then the global ones, are tried in order; the
 * first that matches (conf.h: struct conf_rule) gives the queue, the
 * default options, which options a sender may set with subject tags
 * (printopts.h), hold and body printing; what a rule leaves unset is the
 * account's.  No rule matching means the account's printer and settings.
 *
 * The From address is the sender's claim.  It picks a rule by `senders`
 * or a name from the users table only when it can be believed
 * (from_trusted: the mailbox provider authenticated the sender, or the
 * account says trust_unauthenticated_from = true; policy_from_trusted()).
 * Otherwise rules with a `senders` list do not match, and a sender the
 * users table would map prints as RULES_UNVERIFIED_USER.
 */
#ifndef M2C_RULES_H
#define M2C_RULES_H

#include "conf.h"
#include "mime.h"
#include "printopts.h"

/* The CUPS user of a sender whose From cannot be believed (and of a mapping to a reserved name). */
#define RULES_UNVERIFIED_USER "mail2cups-unverified"

struct rules_route {
	const struct conf_rule *rule;	/* the rule that matched, or NULL; borrowed */
	const struct conf_rule *passed_over;	/* the `senders` rule a believed From would
						 * have picked instead, or NULL; borrowed */
	const char *name;		/* its name, or "default"; borrowed */
	const char *printer;		/* borrowed from the config */
	struct print_opts opts;		/* the rule's, with the sender's allowed tags on top */
	enum conf_body print_body;
	char *notes;			/* tags not used and why, or NULL; owned */
};

/* Route m for account a.  Never fails; clear with rules_route_clear. */
void rules_route(const struct conf *cf, const struct conf_account *a, const struct mime_message *m,
    int from_trusted, struct rules_route *out);
void rules_route_clear(struct rules_route *r);

/*
 * The CUPS requesting-user-name for a sender: the users table's name for
 * the first entry matching addr ("%l": its local part, when that is 1 to 32
 * of [A-Za-z0-9._-]), with *mapped = 1 (a local name, sent as it is); else
 * the address itself as cups_job_user_for_sender() makes it, with
 * *mapped = 0.  When an entry matches but the From is not trusted, or the
 * name it gives is reserved (rules_user_reserved), the result is
 * RULES_UNVERIFIED_USER with *mapped = 1 and *note (allocated; else NULL)
 * saying why, for the log.  Allocated.
 */
char *rules_cups_user(const struct conf *cf, const char *addr, int from_trusted, int *mapped,
    char **note);

/*
 * The CUPS requesting-user-name for the owner of a Print folder
 * (print_folders), who signed in as login: the users table's name for the
 * first entry matching login, as rules_cups_user() with a trusted From;
 * else login itself when CUPS can take it as it is (1 to
 * 255 of [A-Za-z0-9._@+-]) and it is not reserved
 * (RULES_UNVERIFIED_USER then, with *note saying why); else as
 * cups_job_user_for_sender() makes it.  Allocated; *note allocated or NULL.
 */
char *rules_owner_user(const struct conf *cf, const char *login, char **note);

/*
 * Nonzero when name must never be a mapped sender's CUPS user: root, lp,
 * daemon, bin, sys, nobody, cups, admin and other system and
 * administrative names (ASCII case-insensitive), and any account of this
 * machine whose uid is below 1000 or 65534 (nobody) and above.
 */
int rules_user_reserved(const char *name);

#endif
