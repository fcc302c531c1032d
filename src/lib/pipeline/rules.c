/* rules.c - routing rules, print options and the users table; see rules.h. */
#include "m2c-config.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "cupsjob.h"
#include "rules.h"
#include "util.h"

#define RULES_USER_MAX 32	/* longest local part used as a CUPS user name */
#define RULES_OWNER_MAX 255	/* longest login name used as it is (IPP name)  */

/* An empty list matches everything; otherwise some pattern must match s. */
static int
list_matches(const struct conf_strlist *l, const char *s)
{
	if (l->n == 0)
		return 1;
	if (s == NULL)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (str_wildcard_match(l->v[i], s))
			return 1;
	return 0;
}

/* Some recipient of m matches some pattern of l (an empty l matches). */
static int
recipients_match(const struct conf_strlist *l, const struct mime_message *m)
{
	if (l->n == 0)
		return 1;
	for (size_t i = 0; i < m->nrecipients; i++)
		if (list_matches(l, m->recipients[i]))
			return 1;
	return 0;
}

/* A rule with a `senders` list matches only a From that can be believed. */
static int
rule_matches(const struct conf_rule *r, const struct mime_message *m, int from_trusted)
{
	if (r->senders.n > 0 && !from_trusted)
		return 0;
	return recipients_match(&r->recipients, m) && list_matches(&r->senders, m->from_addr) &&
	    list_matches(&r->subjects, m->subject ? m->subject : "");
}

/* The first matching rule of the account's, then the global ones; or NULL. */
static const struct conf_rule *
first_match(const struct conf *cf, const struct conf_account *a, const struct mime_message *m,
    int from_trusted)
{
	for (size_t i = 0; i < a->nrules; i++)
		if (rule_matches(&a->rules[i], m, from_trusted))
			return &a->rules[i];
	for (size_t i = 0; i < cf->nrules; i++)
		if (rule_matches(&cf->rules[i], m, from_trusted))
			return &cf->rules[i];
	return NULL;
}

/* Append "what" to the notes, "; "-separated. */
static void
add_note(char **notes, const char *what)
{
	char *n;

	if (what == NULL || *what == '\0')
		return;
	n = *notes ? xasprintf("%s; %s", *notes, what) : xstrdup(what);
	free(*notes);
	*notes = n;
}

/* What the sender may change where the rule has no allow_options (printopts.h). */
static unsigned int
default_allowed(const struct print_opts *base)
{
	return POPT_SENDER_DEFAULT | ((POPT_COLOR | POPT_MEDIA) & ~base->set);
}

void
rules_route(const struct conf *cf, const struct conf_account *a, const struct mime_message *m,
    int from_trusted, struct rules_route *out)
{
	const struct conf_rule *r = first_match(cf, a, m, from_trusted), *believed;
	struct print_opts base = { 0 }, req = { 0 };
	unsigned int allowed;
	int max_copies = 10, hold = a->hold;
	char *unknown = NULL, *refused = NULL;

	memset(out, 0, sizeof(*out));
	out->rule = r;
	if (!from_trusted && (believed = first_match(cf, a, m, 1)) != r)
		out->passed_over = believed;
	out->name = "default";
	out->printer = a->printer;
	out->print_body = a->print_body;
	if (r != NULL) {
		out->name = r->name ? r->name : "rule";
		if (r->printer != NULL)
			out->printer = r->printer;
		/* The binding options on top of the defaults; no tag changes them. */
		popt_merge(&r->options, &r->force_options, POPT_ALL, POPT_MAX_COPIES, &base,
		    &refused);
		free(refused);
		refused = NULL;
		allowed = r->allow_options == POPT_ALLOW_DEFAULT ? default_allowed(&base) :
		    r->allow_options;
		allowed &= ~r->force_options.set;
		max_copies = r->max_copies;
		if (r->hold >= 0)
			hold = r->hold;
		if (r->print_body >= 0)
			out->print_body = (enum conf_body)r->print_body;
	}
	if (r == NULL)
		allowed = default_allowed(&base);
	if (hold && !(base.set & POPT_HOLD)) {
		base.hold = 1;
		base.set |= POPT_HOLD;
	}
	popt_parse_subject(m->subject, &req, &unknown);
	popt_merge(&base, &req, allowed, max_copies, &out->opts, &refused);
	if (unknown != NULL) {
		char *n = xasprintf("not an option, so not used: %s", unknown);

		add_note(&out->notes, n);
		free(n);
	}
	if (refused != NULL) {
		char *n = xasprintf("not used: %s", refused);

		add_note(&out->notes, n);
		free(n);
	}
	free(unknown);
	free(refused);
}

void
rules_route_clear(struct rules_route *r)
{
	free(r->notes);
	memset(r, 0, sizeof(*r));
}

/* The n bytes of s are all of chars ("" is never). */
static int
only_chars(const char *s, size_t n, const char *chars)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(chars, s[i]) == NULL)
			return 0;
	return n > 0;
}

#define RULES_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* addr's local part when it can be a CUPS user name, else NULL.  Allocated. */
static char *
local_part_user(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : 0;

	if (n > RULES_USER_MAX || !only_chars(addr, n, RULES_NAME_CHARS))
		return NULL;
	return xstrndup(addr, n);
}

int
rules_user_reserved(const char *name)
{
	/* System, administrative and CUPS's own names; "remroot" is CUPS's remote root. */
	static const char *const reserved[] = {
		"root", "toor", "remroot", "daemon", "bin", "sys", "sync", "adm", "admin",
		"administrator", "operator", "wheel", "sudo", "staff", "shadow", "lp", "lpadmin",
		"cups", "cupsd", "cups-*", "nobody", "nogroup", "anonymous", "guest", "unknown",
		"mail", "postmaster", "mailer-daemon", "www-data", "news", "uucp", "proxy",
		"backup", "list", "irc", "gnats", "man", "games", "messagebus", "dovecot",
		"dovenull", "mail2cups", "systemd-*", "_*",
	};
	struct passwd *pw;

	if (name == NULL || *name == '\0')
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (str_wildcard_match(reserved[i], name))
			return 1;
	pw = getpwnam(name);
	return pw != NULL && (pw->pw_uid < 1000 || pw->pw_uid >= 65534);
}

char *
rules_cups_user(const struct conf *cf, const char *addr, int from_trusted, int *mapped,
    char **note)
{
	char *user = NULL;
	size_t i;

	*mapped = 1;
	*note = NULL;
	for (i = 0; addr != NULL && i < cf->nusers; i++) {
		if (!str_wildcard_match(cf->users[i].sender, addr))
			continue;
		if (strcmp(cf->users[i].user, "%l") != 0)
			user = xstrdup(cf->users[i].user);
		else
			user = local_part_user(addr);
		break;		/* NULL: a local part CUPS cannot take: keep the address */
	}
	if (user == NULL) {
		*mapped = 0;
		return cups_job_user_for_sender(addr);
	}
	if (!from_trusted) {
		*note = xasprintf("the users table maps %s to \"%s\", but the mailbox provider "
		    "did not authenticate that sender, so the job's user is %s (see SENDER TRUST "
		    "in mail2cups.conf(5))", addr, user, RULES_UNVERIFIED_USER);
	} else if (rules_user_reserved(user)) {
		*note = xasprintf("the users table maps %s to \"%s\", a reserved or system user "
		    "name that a sender never gets, so the job's user is %s (fix the users "
		    "entry)", addr, user, RULES_UNVERIFIED_USER);
	} else {
		return user;
	}
	free(user);
	return xstrdup(RULES_UNVERIFIED_USER);
}

char *
rules_owner_user(const struct conf *cf, const char *login, char **note)
{
	int mapped = 0;
	char *user = rules_cups_user(cf, login, 1, &mapped, note);

	/* No entry: the login name itself, when CUPS can take it as it is. */
	if (mapped || strlen(login) > RULES_OWNER_MAX ||
	    !only_chars(login, strlen(login), RULES_NAME_CHARS "@+"))
		return user;
	free(user);
	if (!rules_user_reserved(login))
		return xstrdup(login);
	*note = xasprintf("the Print folder's owner %s has a reserved or system user name, so "
	    "the job's user is %s (map it in the users table)", login, RULES_UNVERIFIED_USER);
	return xstrdup(RULES_UNVERIFIED_USER);
}
