/*
 * rules.h - where and how a message prints: routing, options, users.
 *
 * The account's rules, then the global ones, are tried in order; the
 * first that matches (conf.h: struct conf_rule) gives the queue, the
 * default options, which options a sender may set with subject tags
 * (printopts.h), hold and body printing; what a rule leaves unset is the
 * account's.  No rule matching means the account's printer and settings.
 */
#ifndef M2C_RULES_H
#define M2C_RULES_H

#include "conf.h"
#include "mime.h"
#include "printopts.h"

struct rules_route {
	const struct conf_rule *rule;	/* the rule that matched, or NULL; borrowed */
	const char *name;		/* its name, or "default"; borrowed */
	const char *printer;		/* borrowed from the config */
	struct print_opts opts;		/* the rule's, with the sender's allowed tags on top */
	enum conf_body print_body;
	char *notes;			/* tags not used and why, or NULL; owned */
};

/* Route m for account a.  Never fails; clear with rules_route_clear. */
void rules_route(const struct conf *cf, const struct conf_account *a, const struct mime_message *m,
    struct rules_route *out);
void rules_route_clear(struct rules_route *r);

/*
 * The CUPS requesting-user-name for a sender: the users table's name for
 * the first entry matching addr ("%l": its local part, when that is 1 to 32
 * of [A-Za-z0-9._-]), with *mapped = 1; else the address itself as
 * cups_job_user_for_sender() makes it, with *mapped = 0.  Allocated.
 */
char *rules_cups_user(const struct conf *cf, const char *addr, int *mapped);

#endif
