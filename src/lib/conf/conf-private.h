/*
 * conf-private.h - what the parts of the configuration loader share
 * (private to conf): conf.c (the file, the schema, problems, typed getters,
 * value checks, the top level), conf-account.c, conf-oauth.c,
 * conf-rules.c and conf-replies.c.
 *
 * Every loader reads one group: it reports each problem with
 * conf_problem() (or through a getter, which reports its own) and goes on,
 * so that one run lists every problem of the file.  Getters return 1 when
 * the key is there and good, 0 when it is absent, -1 when it is bad.
 */
#ifndef M2C_CONF_PRIVATE_H
#define M2C_CONF_PRIVATE_H

#include <stddef.h>

#include <libconfig.h>

#include "conf.h"
#include "util.h"

#define CONF_MAX_PROBLEMS	50	/* lines reported before "and N more" */
#define CONF_MAX_SIZE		((int64_t)1 << 40)	/* 1 TiB: surely a typo */
#define CUPS_QUEUE_MAX		127

/* Which group a key belongs to. */
enum conf_scope { SC_GLOBAL, SC_LIMITS, SC_ACCOUNT, SC_OAUTH, SC_RULE, SC_USER, SC_CONVERTER,
	SC_SMTP, SC_REPLIES, SC_TEMPLATE };

/* The validation pass: where we are and what went wrong so far. */
struct conf_check {
	const char *path;	/* borrowed: the file being read */
	struct buf msgs;	/* the problems, one per line */
	int nproblems;
};

/*
 * Where a group is: its label ("limits", "account \"x\"", "accounts.[2]",
 * "account \"x\": oauth"; empty for the top level) and how a key is joined
 * to it: "limits.max_parts", "account \"x\": port".
 */
struct conf_where {
	char label[160];
	const char *join;	/* "." or ": " */
};

#define T(x) (1u << (x))	/* a libconfig type in a mask of types */

/* Enum names, by value (conf.c). */
extern const char *const conf_security_names[3];
extern const char *const conf_auth_names[4];
extern const char *const conf_after_names[3];
extern const char *const conf_provider_names[3];
extern const char *const conf_cloud_names[4];
extern const char *const conf_flow_names[3];
extern const char *const conf_assertion_alg_names[2];
extern const char *const conf_body_names[3];
extern const char *const conf_reply_kind_names[4];
extern const char *const conf_smtp_auth_names[4];
extern const char *const conf_microsoft_hosts[4];

/* Set where a group is: its label (printf) and how a key joins it ("." or ": "). */
void conf_where_set(struct conf_where *w, const char *join, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Report one problem: "FILE:LINE: LABEL: KEY: message" (the label and key
 * joined as struct conf_where says).  `at` is the setting
 * it is about (or the group a missing key belongs to); key may be NULL when
 * the message is about the group itself.
 */
void conf_problem(struct conf_check *ck, const config_setting_t *at, const struct conf_where *w,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Check every member of group against the schema of scope. */
void conf_check_members(struct conf_check *ck, const config_setting_t *group,
    enum conf_scope scope, const struct conf_where *w);

/* "a string", "a number", ...: what the user wrote, for type errors. */
const char *conf_type_desc(const config_setting_t *s);

/*
 * Look up key in group.  Present with a type in `types` (a bit per
 * CONFIG_TYPE_*): the setting, *got 1.  Absent: NULL, *got 0.  Otherwise
 * a problem is reported saying it must be `want`: NULL, *got -1.  *got is
 * what a conf_get_* function returns for it.
 */
config_setting_t *conf_member(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, unsigned int types, const char *want,
    int *got);

/* Report a missing required key; `at` is the group it belongs in. */
void conf_missing(struct conf_check *ck, const config_setting_t *at, const struct conf_where *w,
    const char *key, const char *what);

/* A non-empty string: 1 found, 0 absent, -1 bad.  *out is borrowed. */
int conf_get_string(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, const char **out);

/* Replace *dst with a copy of the string key when present. */
int conf_get_string_dup(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, char **dst);

/* A whole number in [min, max]. */
int conf_get_int(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, long long min, long long max, int *out);

/* true or false. */
int conf_get_bool(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, int *out);

/* A group { ... }, or NULL when absent (or not a group: reported). */
config_setting_t *conf_get_group(struct conf_check *ck, const config_setting_t *parent,
    const struct conf_where *w, const char *key);

/* Report that the string key is not one of names[]; returns -1. */
int conf_bad_enum(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, const char *v, const char *const *names,
    size_t nnames);

/* One of names[]: the index goes to *out. */
int conf_get_enum(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, const char *const *names, size_t nnames,
    int *out);

void conf_strlist_free(struct conf_strlist *l);

/* A list or array of non-empty strings; replaces *out when present. */
int conf_get_strlist(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, struct conf_strlist *out);

/* A path to a file we read: absolute and readable now. */
/* A size: an integer of bytes, or a string like "25M". */
int conf_get_size(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, off_t *out);
int conf_get_file(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w, const char *key, char **dst);

/*
 * An http(s) URL: 0 when it is https://, or http:// to a loopback host;
 * -1 otherwise, with *why set to a constant explanation.
 */
int conf_check_url(const char *url, const char **why);

/* An account name: [A-Za-z0-9_.-]+. */
int conf_valid_account_name(const char *s);

/* A CUPS queue name: printable ASCII, no space, '/' or '#', at most 127 bytes. */
const char *conf_cups_queue_problem(const char *s);

/* A CUPS user name for users: [A-Za-z0-9._-]{1,32}, or exactly "%l". */
int conf_valid_user_name(const char *s);

/* "type/subtype" where either may hold '*' or '?': "application/vnd.oasis.*". */
int conf_valid_type_pattern(const char *s);

/* An authserv-id as a mail server writes it: printable, no blank or ';'. */
int conf_valid_authserv_id(const char *s);

/* ASCII lower-case in place. */
void conf_str_lower(char *s);

void conf_oauth_load(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *aw, struct conf_oauth *o);

/* A CUPS queue name given as key; reported when it cannot be one. */
void conf_check_printer(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *w, const char *key, const char *printer);

/* security = "none" (the group's key "security") only to a loopback host. */
void conf_check_clear_host(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *w, const char *host);

void conf_account_free_fields(struct conf_account *a);

void conf_accounts_load(struct conf_check *ck, const config_setting_t *root, struct conf *c);

/*
 * A list of groups ( { ... }, ... ) at key in parent: an array of n
 * elements of elsize bytes (zeroed, then filled by load for each group;
 * anything that is not a group is reported and skipped).  NULL when absent,
 * bad or empty.  Allocated; *n is its length.
 */
void *conf_group_list_load(struct conf_check *ck, const config_setting_t *parent,
    const struct conf_where *pw, const char *key, size_t elsize, size_t *n,
    void (*load)(struct conf_check *, const config_setting_t *, const struct conf_where *,
    size_t, void *));

void conf_rule_load(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *w, size_t idx, void *elem);

void conf_user_load(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *w, size_t idx, void *elem);

void conf_converter_load(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *w, size_t idx, void *elem);

void conf_rules_free(struct conf_rule *r, size_t n);

void conf_smtp_load(struct conf_check *ck, const config_setting_t *root, struct conf_smtp *sm);

void conf_replies_load(struct conf_check *ck, const config_setting_t *root,
    struct conf_replies *rp);

#endif
