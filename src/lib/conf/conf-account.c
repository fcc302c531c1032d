/*
 * conf-account.c - the accounts = ( ... ) list: each account's settings,
 * their defaults (which depend on auth and the provider), and the checks
 * between them; see conf-private.h.
 */
#include "m2c-config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "addr.h"
#include "conf.h"
#include "conf-private.h"
#include "error.h"
#include "util.h"

/* A CUPS queue name given as key; reported when it cannot be one. */
void
conf_check_printer(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    const char *key, const char *printer)
{
	const char *why;

	if ((why = conf_cups_queue_problem(printer)) != NULL)
		conf_problem(ck, config_setting_get_member(g, key), w, key,
		    "\"%s\" %s (use the queue name lpstat -p shows)", printer, why);
}

/* security = "none" (the group's key "security") only to a loopback host. */
void
conf_check_clear_host(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    const char *host)
{
	if (host != NULL && host_is_loopback(host))
		return;
	conf_problem(ck, config_setting_get_member(g, "security"), w, "security",
	    "\"none\" is only allowed to a loopback host (localhost, 127.x, ::1), not \"%s\": "
	    "the password would go over the network in clear (use \"ssl\" or \"starttls\")",
	    host != NULL ? host : "the provider's server");
}

/* reply = [ "accepted", "rejected" ]: 1u << CONF_REPLY_* bits. */
static void
reply_kinds_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    unsigned int *bits)
{
	struct conf_strlist l = { 0 };

	*bits = 0;
	conf_get_strlist(ck, g, w, "reply", &l);
	for (size_t i = 0; i < l.n; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(conf_reply_kind_names); k++)
			if (strcmp(l.v[i], conf_reply_kind_names[k]) == 0)
				break;
		if (k < ARRAY_SIZE(conf_reply_kind_names))
			*bits |= 1u << k;
		else
			conf_bad_enum(ck, g, w, "reply", l.v[i], conf_reply_kind_names,
			    ARRAY_SIZE(conf_reply_kind_names));
	}
	conf_strlist_free(&l);
}

/* tenant_domains, or by default the username's domain and a dotted tenant. */
static void
tenant_domains_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    struct conf_account *a)
{
	struct conf_strlist *l = &a->tenant_domains;
	const char *at, *dom[2] = { NULL, NULL };

	if (conf_get_strlist(ck, g, w, "tenant_domains", l) == 0) {
		if (a->username != NULL && (at = strrchr(a->username,
		    '@')) != NULL && at[1] != '\0')
			dom[0] = at + 1;
		if (a->oauth.tenant != NULL && strchr(a->oauth.tenant, '.') != NULL &&
		    (dom[0] == NULL || str_casecmp(dom[0], a->oauth.tenant) != 0))
			dom[1] = a->oauth.tenant;
		l->v = xcalloc(3, sizeof(*l->v));
		for (size_t i = 0; i < 2; i++)
			if (dom[i] != NULL)
				l->v[l->n++] = xstrdup(dom[i]);
	}
	for (size_t i = 0; i < l->n; i++)
		conf_str_lower(l->v[i]);
}

/*
 * Sender trust and replies: whose Authentication-Results count, and
 * whether replies can be sent at all (a reply only ever goes to a sender
 * who authenticated).
 */
static void
trust_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    const struct conf *c, struct conf_account *a)
{
	const struct conf_smtp *smtp = &c->smtp;
	static const char how[] = "set authserv_id to the name your mail server writes at the "
	    "start of its Authentication-Results header";
	enum conf_provider p = a->oauth.provider;
	int can_judge;
	int v = 0;

	conf_get_strlist(ck, g, w, "deny_senders", &a->deny_senders);
	if (conf_get_bool(ck, g, w, "authenticated_senders_only", &v) == 1)
		a->authenticated_senders_only = v;
	if (conf_get_bool(ck, g, w, "trust_unauthenticated_from", &v) == 1)
		a->trust_unauthenticated_from = v;
	if (conf_get_string_dup(ck, g, w, "authserv_id", &a->authserv_id) == 1 &&
	    !conf_valid_authserv_id(a->authserv_id))
		conf_problem(ck, config_setting_get_member(g, "authserv_id"), w, "authserv_id",
		    "\"%s\" cannot be an authserv-id (%s, like \"mx.example.org\")",
		    a->authserv_id, how);
	if (a->authserv_id == NULL && p == CONF_PROVIDER_GOOGLE)
		a->authserv_id = xstrdup("mx.google.com");
	tenant_domains_load(ck, g, w, a);
	can_judge = conf_account_judges_senders(a);
	if (a->authenticated_senders_only && !can_judge)
		conf_problem(ck, config_setting_get_member(g, "authenticated_senders_only"), w,
		    "authenticated_senders_only", "there is no way to judge who authenticated (%s)",
		    how);

	reply_kinds_load(ck, g, w, &a->reply);
	if (a->reply == 0)
		return;
	if (!can_judge)
		conf_problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "a reply only ever goes to a sender who authenticated, and there is no way "
		    "to judge that here (%s, or remove reply)", how);
	if (p != CONF_PROVIDER_MICROSOFT && p != CONF_PROVIDER_GOOGLE && smtp->host == NULL)
		conf_problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "there is no SMTP server to send replies through (set smtp = { host = "
		    "\"...\"; }, or remove reply)");
	if (c->replies.from == NULL && a->username == NULL)
		conf_problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "replies come from the account's username, and it has none (set username "
		    "= \"print@example.org\"; or replies = { from = \"print@example.org\"; };)");
	if (c->replies.from == NULL && a->username != NULL && strchr(a->username, '@') == NULL)
		conf_problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "replies come from the account's username, and \"%s\" is not a mail address "
		    "(set replies = { from = \"print@example.org\"; };)", a->username);
	if (smtp->auth_set && smtp->auth == CONF_SMTP_XOAUTH2 && !a->oauth.present)
		conf_problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "smtp.auth = \"xoauth2\" needs an OAuth account, and this one signs in with a "
		    "password (set smtp.auth to \"plain\" or \"login\", or remove reply)");
}

void
conf_account_free_fields(struct conf_account *a)
{
	free(a->name);
	free(a->host);
	free(a->ca_file);
	free(a->username);
	free(a->login_user);
	free(a->mailbox);
	free(a->password_file);
	free(a->oauth.tenant);
	free(a->oauth.client_id);
	free(a->oauth.client_secret_file);
	free(a->oauth.certificate_file);
	free(a->oauth.private_key_file);
	free(a->oauth.authority);
	free(a->oauth.issuer);
	conf_strlist_free(&a->oauth.scopes);
	free(a->printer);
	conf_strlist_free(&a->allow_senders);
	free(a->printed_folder);
	free(a->failed_folder);
	conf_strlist_free(&a->deny_senders);
	free(a->authserv_id);
	conf_strlist_free(&a->tenant_domains);
	conf_rules_free(a->rules, a->nrules);
	free(a->rejected_folder);
	conf_strlist_free(&a->folder_users);
}

/* A folder key that must differ from the watched mailbox. */
static void
check_folder_not_mailbox(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *w, const struct conf_account *a, const char *key, const char *folder)
{
	if (strcmp(folder, a->mailbox) != 0)
		return;
	conf_problem(ck, config_setting_get_member(g, key) ? config_setting_get_member(g,
	    key) : g, w, key,
	    "\"%s\" is the mailbox being watched: messages would be processed again "
	    "(choose another folder)", folder);
}

/* Each of keys that is set is a problem: "an account with WHAT ... (remove KEY)". */
static void
refuse_keys(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    const char *const *keys, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_member(g, keys[i]);

		if (s != NULL)
			conf_problem(ck, s, w, keys[i], "an account with %s (remove %s)", what,
			    keys[i]);
	}
}

/*
 * deliver_only = true: the IMAP keys have no use, and one that is set is
 * a mistake worth naming; username (the replies' From, the tenant's
 * domain) may stay.
 */
static void
deliver_only_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    struct conf_account *a)
{
	static const char *const imap_keys[] = {
		"host", "port", "security", "ca_file", "login_user", "mailbox", "auth",
		"password_file", "poll_interval", "idle", "after", "printed_folder",
		"failed_folder", "rejected_folder", "print_folders",
	};

	refuse_keys(ck, g, w, imap_keys, ARRAY_SIZE(imap_keys),
	    "deliver_only = true reads no mailbox");
	conf_get_string_dup(ck, g, w, "username", &a->username);
	a->mailbox = xstrdup("INBOX");
	a->auth = CONF_AUTH_PLAIN;
	a->security = CONF_SEC_SSL;
	a->port = 993;
	a->poll_interval = 60;
	a->idle = 0;
}

/*
 * print_folders = true: each user's own folder, read as that user (the
 * master user login_user signs in for them with AUTHENTICATE PLAIN and the
 * user as authorization identity), so the owner needs no sender check and
 * gets no reply; the keys about senders and the one mailbox have no use.
 * Its own keys elsewhere are a mistake too.
 */
static void
print_folders_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    struct conf_account *a)
{
	static const char *const sender_keys[] = {
		"username", "oauth", "allow_senders", "deny_senders",
		"authenticated_senders_only", "trust_unauthenticated_from", "authserv_id",
		"tenant_domains", "reply", "idle",
	};
	static const char *const own_keys[] = {
		"session_timeout", "max_sessions", "folder_users",
	};
	config_setting_t *s;

	if (!a->print_folders) {
		refuse_keys(ck, g, w, own_keys, ARRAY_SIZE(own_keys), "print_folders = false "
		    "reads one mailbox, and this key is about every user's folder");
		return;
	}
	refuse_keys(ck, g, w, sender_keys, ARRAY_SIZE(sender_keys), "print_folders = true "
	    "prints what each user put in their own folder, as that user: no sender is "
	    "checked, no reply sent, and the user comes from each wake-up");
	if ((s = config_setting_get_member(g, "auth")) != NULL &&
	    config_setting_type(s) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), "plain") != 0)
		conf_problem(ck, s, w, "auth", "print_folders = true signs in with AUTHENTICATE "
		    "PLAIN, the master user for each user (remove auth, or set it to \"plain\")");
	if (config_setting_get_member(g, "login_user") == NULL)
		conf_missing(ck, g, w, "login_user", "the Dovecot master user that signs in "
		    "for every user (a passdb with master = yes)");
	a->session_timeout = 60;
	conf_get_int(ck, g, w, "session_timeout", 1, 86400, &a->session_timeout);
	a->max_sessions = 20;
	conf_get_int(ck, g, w, "max_sessions", 1, 10000, &a->max_sessions);
	conf_get_strlist(ck, g, w, "folder_users", &a->folder_users);
	for (size_t i = 0; i < a->folder_users.n; i++)
		if (a->folder_users.v[i][0] == '\0' || strlen(a->folder_users.v[i]) > 255)
			conf_problem(ck, config_setting_get_member(g, "folder_users"), w,
			    "folder_users", "\"%s\" cannot be a user name (1 to 255 bytes)",
			    a->folder_users.v[i]);
}

static void
account_load(struct conf_check *ck, const config_setting_t *g, size_t idx,
    const struct conf *c, struct conf_account *a)
{
	struct conf_where w;
	config_setting_t *s;
	const char *name = NULL;
	int v = 0, r;

	a->line = config_setting_source_line(g);
	conf_where_set(&w, ".", "accounts.[%zu]", idx);
	r = conf_get_string(ck, g, &w, "name", &name);
	if (r == 1 && !conf_valid_account_name(name)) {
		conf_problem(ck, config_setting_get_member(g, "name"), &w, "name",
		    "\"%s\" may only use letters, digits, '_', '.' and '-' (rename it)", name);
		r = -1;
	}
	if (r == 0)
		conf_missing(ck, g, &w, "name", "a short name for the account, like \"office\"");
	if (r == 1) {
		a->name = xstrdup(name);
		conf_where_set(&w, ": ", "account \"%s\"", name);
	}
	conf_check_members(ck, g, SC_ACCOUNT, &w);

	if ((s = config_setting_get_member(g, "oauth")) != NULL) {
		if (config_setting_type(s) == CONFIG_TYPE_GROUP)
			conf_oauth_load(ck, s, &w, &a->oauth);
		else
			conf_problem(ck, s, &w, "oauth", "must be a group { ... }, not %s (write "
			    "oauth = { provider = \"microsoft\"; ... };)", conf_type_desc(s));
	}

	/* An account that only `mail2cups deliver` feeds reads no mailbox:
	 * none of the IMAP keys is needed. */
	conf_get_bool(ck, g, &w, "deliver_only", &a->deliver_only);
	if (!a->deliver_only)
		conf_get_bool(ck, g, &w, "print_folders", &a->print_folders);
	print_folders_load(ck, g, &w, a);
	if (a->deliver_only) {
		deliver_only_load(ck, g, &w, a);
		goto printing;
	}

	/* auth first: it decides the other keys' defaults and requirements. */
	a->auth = a->oauth.present ? CONF_AUTH_XOAUTH2 : CONF_AUTH_PLAIN;
	if (!a->print_folders && conf_get_enum(ck, g, &w, "auth", conf_auth_names,
	    ARRAY_SIZE(conf_auth_names), &v) == 1)
		a->auth = (enum conf_auth)v;
	s = config_setting_get_member(g, "auth");
	if (a->auth == CONF_AUTH_XOAUTH2 || a->auth == CONF_AUTH_OAUTHBEARER) {
		if (!a->oauth.present)
			conf_problem(ck, s ? s : g, &w, "auth",
			    "\"%s\" needs an oauth group (add oauth = "
			    "{ provider = ...; client_id = ...; };)", conf_auth_names[a->auth]);
		if (config_setting_get_member(g, "password_file") != NULL)
			conf_problem(ck, config_setting_get_member(g, "password_file"), &w,
			    "password_file",
			    "an OAuth account never uses a password (remove password_file)");
	} else {
		if (a->oauth.present)
			conf_problem(ck, config_setting_get_member(g, "oauth"), &w, "oauth",
			    "auth = \"%s\" uses a password, and an OAuth account never uses a password "
			    "(remove the oauth group, or set auth = \"xoauth2\")",
			    conf_auth_names[a->auth]);
		if (conf_get_file(ck, g, &w, "password_file", &a->password_file) == 0)
			conf_missing(ck, g, &w, "password_file", "a file holding the password, for "
			    "auth = \"plain\" or \"login\"");
	}

	a->security = CONF_SEC_SSL;
	if (conf_get_enum(ck, g, &w, "security", conf_security_names,
	    ARRAY_SIZE(conf_security_names), &v) == 1)
		a->security = (enum conf_security)v;
	a->port = a->security == CONF_SEC_SSL ? 993 : 143;
	conf_get_int(ck, g, &w, "port", 1, 65535, &a->port);

	if (conf_get_string_dup(ck, g, &w, "host", &a->host) == 0) {
		if (a->oauth.provider == CONF_PROVIDER_MICROSOFT)
			a->host = xstrdup(conf_microsoft_hosts[a->oauth.cloud]);
		else if (a->oauth.provider == CONF_PROVIDER_GOOGLE)
			a->host = xstrdup("imap.gmail.com");
		else
			conf_missing(ck, g, &w, "host", "the IMAP server's name");
	}
	if (a->security == CONF_SEC_NONE && a->host != NULL)
		conf_check_clear_host(ck, g, &w, a->host);
	conf_get_file(ck, g, &w, "ca_file", &a->ca_file);

	if (!a->print_folders && conf_get_string_dup(ck, g, &w, "username", &a->username) == 0)
		conf_missing(ck, g, &w, "username",
		    "the mailbox's user name, like \"print@example.org\"");
	if (conf_get_string_dup(ck, g, &w, "login_user",
	    &a->login_user) == 0 && a->username != NULL)
		a->login_user = xstrdup(a->username);
	a->mailbox = xstrdup(a->print_folders ? "Print" : "INBOX");
	conf_get_string_dup(ck, g, &w, "mailbox", &a->mailbox);
	/* print_folders: the safety pass over the users known to print. */
	a->poll_interval = a->print_folders ? 3600 : 60;
	conf_get_int(ck, g, &w, "poll_interval", 1, 86400, &a->poll_interval);
	a->idle = !a->print_folders;
	if (!a->print_folders)
		conf_get_bool(ck, g, &w, "idle", &a->idle);

printing:
	if (conf_get_string_dup(ck, g, &w, "printer", &a->printer) == 0)
		conf_missing(ck, g, &w, "printer",
		    "the CUPS queue to print to, as lpstat -p shows it");
	else if (a->printer != NULL)
		conf_check_printer(ck, g, &w, "printer", a->printer);
	conf_get_strlist(ck, g, &w, "allow_senders", &a->allow_senders);

	/* A Print folder is emptied: what a user files there is often \Seen already. */
	a->after = a->print_folders ? CONF_AFTER_MOVE : CONF_AFTER_SEEN;
	if (conf_get_enum(ck, g, &w, "after", conf_after_names, ARRAY_SIZE(conf_after_names),
	    &v) == 1)
		a->after = (enum conf_after)v;
	if (a->print_folders && a->after == CONF_AFTER_SEEN)
		conf_problem(ck, config_setting_get_member(g, "after"), &w, "after",
		    "\"seen\" would leave printed mail in every user's folder, and a message "
		    "filed there already read would look the same (use \"move\" or \"delete\")");
	a->printed_folder = xstrdup("Printed");
	conf_get_string_dup(ck, g, &w, "printed_folder", &a->printed_folder);
	a->failed_folder = xstrdup("Print Failed");
	conf_get_string_dup(ck, g, &w, "failed_folder", &a->failed_folder);
	if (a->after == CONF_AFTER_MOVE)
		check_folder_not_mailbox(ck, g, &w, a, "printed_folder", a->printed_folder);
	check_folder_not_mailbox(ck, g, &w, a, "failed_folder", a->failed_folder);
	a->rejected_folder = xstrdup("Print Rejected");
	conf_get_string_dup(ck, g, &w, "rejected_folder", &a->rejected_folder);
	check_folder_not_mailbox(ck, g, &w, a, "rejected_folder", a->rejected_folder);

	trust_load(ck, g, &w, c, a);
	a->rules = conf_group_list_load(ck, g, &w, "rules", sizeof(*a->rules), &a->nrules,
	    conf_rule_load);
	if (conf_get_bool(ck, g, &w, "hold", &v) == 1)
		a->hold = v;
	a->print_body = CONF_BODY_NEVER;
	if (conf_get_enum(ck, g, &w, "print_body", conf_body_names, ARRAY_SIZE(conf_body_names),
	    &v) == 1)
		a->print_body = (enum conf_body)v;
}

void
conf_accounts_load(struct conf_check *ck, const config_setting_t *root, struct conf *c)
{
	config_setting_t *list;
	struct conf_where w = { "", "" };
	int n, got;

	list = conf_member(ck, root, &w, "accounts", T(CONFIG_TYPE_LIST),
	    "a list of groups ( { ... }, { ... } )", &got);
	if (list == NULL) {
		if (got == 0)
			conf_missing(ck, NULL, &w, "accounts",
			    "at least one account: accounts = ( { name = "
			    "...; ... } );");
		return;
	}
	if ((n = config_setting_length(list)) == 0) {
		conf_problem(ck, list, &w, "accounts",
		    "is empty (add at least one account { ... })");
		return;
	}
	c->accounts = xcalloc((size_t)n, sizeof(*c->accounts));
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned int)i);
		struct conf_account *a = &c->accounts[c->naccounts];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_where_set(&w, ".", "accounts.[%d]", i);
			conf_problem(ck, g, &w, NULL, "must be a group { ... }, not %s",
			    conf_type_desc(g));
			continue;
		}
		c->naccounts++;
		account_load(ck, g, (size_t)i, c, a);
		for (size_t j = 0; a->name != NULL && j + 1 < c->naccounts; j++) {
			if (c->accounts[j].name == NULL || strcmp(c->accounts[j].name,
			    a->name) != 0)
				continue;
			conf_where_set(&w, ": ", "account \"%s\"", a->name);
			conf_problem(ck, config_setting_get_member(g, "name"), &w, "name",
			    "duplicate account name, first used on line %d (give each account its "
			    "own name)", c->accounts[j].line);
			break;
		}
	}
}
