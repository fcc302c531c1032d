/*
 * conf.c - load and validate the configuration file; see conf.h and
 * mail2cups.conf(5).
 *
 * The file is parsed by libconfig, then walked once: every setting is
 * checked against the schema table below (unknown keys get a "did you mean"
 * hint, reserved keys are refused as "not supported yet"), then every known
 * key is read with a typed getter that checks type, range and allowed
 * values.  Problems are collected, one line each, and returned together.
 *
 * This file holds the schema, problems, the typed getters and value checks
 * (conf-private.h), the global settings and the top level (conf_load); the
 * groups are read in conf-account.c, conf-oauth.c, conf-rules.c (rules,
 * users, converters) and conf-replies.c (smtp, replies).
 */
#include "m2c-config.h"
#include "m2c-paths.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libconfig.h>

#include "addr.h"
#include "conf.h"
#include "conf-private.h"
#include "error.h"
#include "util.h"

/*
 * The whole schema, in one table; a group has a scope of its own, so an
 * unknown key inside it gets a "did you mean".  A key whose feature is not built yet has
 * `reserved` set to what the user should do instead; it is refused with
 * "not supported yet".  Supporting it later means setting reserved to NULL
 * (and reading the key below).
 */
static const struct conf_key {
	enum conf_scope scope;
	const char *name;
	const char *reserved;
} conf_schema[] = {
	{ SC_GLOBAL, "state_dir", NULL },
	{ SC_GLOBAL, "service_user", NULL },
	{ SC_GLOBAL, "cups_server", NULL },
	{ SC_GLOBAL, "log_level", NULL },
	{ SC_GLOBAL, "timeout", NULL },
	{ SC_GLOBAL, "max_attempts", NULL },
	{ SC_GLOBAL, "limits", NULL },
	{ SC_GLOBAL, "accounts", NULL },
	{ SC_GLOBAL, "rules", NULL },
	{ SC_GLOBAL, "users", NULL },
	{ SC_GLOBAL, "replies", NULL },
	{ SC_GLOBAL, "smtp", NULL },
	{ SC_GLOBAL, "converters", NULL },
	{ SC_GLOBAL, "converters_unsandboxed", NULL },
	{ SC_GLOBAL, "idle_interval", NULL },
	{ SC_GLOBAL, "keepalive_interval", NULL },
	{ SC_GLOBAL, "backoff_max", NULL },
	{ SC_GLOBAL, "shutdown_timeout", NULL },
	{ SC_GLOBAL, "token_encryption_key_file", NULL },
	{ SC_GLOBAL, "wake_socket", NULL },
	{ SC_GLOBAL, "wake_socket_group", NULL },
	{ SC_GLOBAL, "wake_interval", NULL },
	{ SC_GLOBAL, "deliver_lock_wait", NULL },

	{ SC_LIMITS, "max_message_size", NULL },
	{ SC_LIMITS, "max_attachment_size", NULL },
	{ SC_LIMITS, "max_parts", NULL },
	{ SC_LIMITS, "max_depth", NULL },
	{ SC_LIMITS, "max_attachments", NULL },

	{ SC_ACCOUNT, "name", NULL },
	{ SC_ACCOUNT, "host", NULL },
	{ SC_ACCOUNT, "port", NULL },
	{ SC_ACCOUNT, "security", NULL },
	{ SC_ACCOUNT, "ca_file", NULL },
	{ SC_ACCOUNT, "username", NULL },
	{ SC_ACCOUNT, "login_user", NULL },
	{ SC_ACCOUNT, "mailbox", NULL },
	{ SC_ACCOUNT, "auth", NULL },
	{ SC_ACCOUNT, "password_file", NULL },
	{ SC_ACCOUNT, "poll_interval", NULL },
	{ SC_ACCOUNT, "oauth", NULL },
	{ SC_ACCOUNT, "printer", NULL },
	{ SC_ACCOUNT, "allow_senders", NULL },
	{ SC_ACCOUNT, "after", NULL },
	{ SC_ACCOUNT, "printed_folder", NULL },
	{ SC_ACCOUNT, "failed_folder", NULL },
	{ SC_ACCOUNT, "deny_senders", NULL },
	{ SC_ACCOUNT, "authenticated_senders_only", NULL },
	{ SC_ACCOUNT, "trust_unauthenticated_from", NULL },
	{ SC_ACCOUNT, "authserv_id", NULL },
	{ SC_ACCOUNT, "tenant_domains", NULL },
	{ SC_ACCOUNT, "rules", NULL },
	{ SC_ACCOUNT, "hold", NULL },
	{ SC_ACCOUNT, "print_body", NULL },
	{ SC_ACCOUNT, "reply", NULL },
	{ SC_ACCOUNT, "rejected_folder", NULL },
	{ SC_ACCOUNT, "idle", NULL },
	{ SC_ACCOUNT, "deliver_only", NULL },
	{ SC_ACCOUNT, "print_folders", NULL },
	{ SC_ACCOUNT, "session_timeout", NULL },
	{ SC_ACCOUNT, "max_sessions", NULL },
	{ SC_ACCOUNT, "folder_users", NULL },

	{ SC_OAUTH, "provider", NULL },
	{ SC_OAUTH, "cloud", NULL },
	{ SC_OAUTH, "tenant", NULL },
	{ SC_OAUTH, "client_id", NULL },
	{ SC_OAUTH, "client_secret_file", NULL },
	{ SC_OAUTH, "certificate_file", NULL },
	{ SC_OAUTH, "private_key_file", NULL },
	{ SC_OAUTH, "flow", NULL },
	{ SC_OAUTH, "authority", NULL },
	{ SC_OAUTH, "issuer", NULL },
	{ SC_OAUTH, "scopes", NULL },
	{ SC_OAUTH, "assertion_alg", NULL },

	{ SC_RULE, "name", NULL },
	{ SC_RULE, "recipients", NULL },
	{ SC_RULE, "senders", NULL },
	{ SC_RULE, "subjects", NULL },
	{ SC_RULE, "printer", NULL },
	{ SC_RULE, "options", NULL },
	{ SC_RULE, "allow_options", NULL },
	{ SC_RULE, "force_options", NULL },
	{ SC_RULE, "max_copies", NULL },
	{ SC_RULE, "hold", NULL },
	{ SC_RULE, "print_body", NULL },

	{ SC_USER, "sender", NULL },
	{ SC_USER, "user", NULL },

	{ SC_CONVERTER, "types", NULL },
	{ SC_CONVERTER, "command", NULL },
	{ SC_CONVERTER, "timeout", NULL },
	{ SC_CONVERTER, "memory_limit", NULL },
	{ SC_CONVERTER, "file_size_limit", NULL },
	{ SC_CONVERTER, "max_processes", NULL },
	{ SC_CONVERTER, "cpu_time_limit", NULL },
	{ SC_CONVERTER, "read_only_paths", NULL },

	{ SC_SMTP, "host", NULL },
	{ SC_SMTP, "port", NULL },
	{ SC_SMTP, "security", NULL },
	{ SC_SMTP, "ca_file", NULL },
	{ SC_SMTP, "auth", NULL },
	{ SC_SMTP, "username", NULL },
	{ SC_SMTP, "password_file", NULL },
	{ SC_SMTP, "max_message_size", NULL },

	{ SC_REPLIES, "from", NULL },
	{ SC_REPLIES, "rate_limit", NULL },
	{ SC_REPLIES, "rate_period", NULL },
	{ SC_REPLIES, "accepted", NULL },
	{ SC_REPLIES, "rejected", NULL },
	{ SC_REPLIES, "failed", NULL },
	{ SC_REPLIES, "printed", NULL },

	{ SC_TEMPLATE, "subject", NULL },
	{ SC_TEMPLATE, "body", NULL },
};

const char *const conf_security_names[3] = { "ssl", "starttls", "none" };

const char *const conf_auth_names[4] = { "xoauth2", "oauthbearer", "plain", "login" };

static const char *const auth_sasl_names[] = { "XOAUTH2", "OAUTHBEARER", "PLAIN", "LOGIN" };

const char *const conf_after_names[3] = { "seen", "move", "delete" };

/* conf_provider minus CONF_PROVIDER_NONE: index i is provider i + 1. */
const char *const conf_provider_names[3] = { "microsoft", "google", "generic" };

const char *const conf_cloud_names[4] = { "global", "gcchigh", "dod", "china" };

const char *const conf_flow_names[3] = { "device", "authcode", "client_credentials" };

const char *const conf_assertion_alg_names[2] = { "PS256", "RS256" };

static const char *const log_level_names[] = { "error", "warn", "info", "debug" };

const char *const conf_body_names[3] = { "never", "no-attachment", "always" };

const char *const conf_reply_kind_names[4] = { "accepted", "rejected", "failed", "printed" };

const char *const conf_smtp_auth_names[4] = { "xoauth2", "plain", "login", "none" };

/* Default IMAP host of a Microsoft 365 mailbox, by cloud. */
const char *const conf_microsoft_hosts[4] = {
	"outlook.office365.com", "outlook.office365.us", "outlook.office365.us",
	    "partner.outlook.cn"
};

void
conf_where_set(struct conf_where *w, const char *join, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->label, sizeof(w->label), fmt, ap);
	va_end(ap);
	w->join = join;
}

/*
 * Report one problem: "FILE:LINE: LABEL: KEY: message" (the label and key
 * joined as struct conf_where says).  `at` is the setting
 * it is about (or the group a missing key belongs to); key may be NULL when
 * the message is about the group itself.
 */
void __attribute__((format(printf, 5, 6)))
conf_problem(struct conf_check *ck, const config_setting_t *at, const struct conf_where *w,
    const char *key, const char *fmt, ...)
{
	const char *file = NULL;
	int line = 0;
	va_list ap;

	if (++ck->nproblems > CONF_MAX_PROBLEMS)
		return;
	if (at != NULL) {
		file = config_setting_source_file(at);
		line = config_setting_source_line(at);
	}
	if (file == NULL)
		file = ck->path;
	if (ck->msgs.len > 0)
		buf_appendc(&ck->msgs, '\n');
	if (line > 0)
		buf_appendf(&ck->msgs, "%s:%d: ", file, line);
	else
		buf_appendf(&ck->msgs, "%s: ", file);
	if (w != NULL && w->label[0] != '\0')
		buf_appendf(&ck->msgs, "%s%s", w->label, key != NULL ? w->join : ": ");
	if (key != NULL)
		buf_appendf(&ck->msgs, "%s: ", key);
	va_start(ap, fmt);
	buf_vappendf(&ck->msgs, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ unknown keys */

static size_t
min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

static int
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * Optimal string alignment distance (Damerau-Levenshtein with adjacent
 * transpositions), ASCII case-insensitive.  Keys are short; longer strings
 * are simply "far".
 */
static size_t
edit_distance(const char *a, const char *b)
{
	enum { N = 40 };
	size_t la = strlen(a), lb = strlen(b);
	size_t d[N + 1][N + 1];

	if (la > N || lb > N)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);

			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

/* The schema key closest to name in this scope, or NULL when none is close. */
static const char *
closest_key(enum conf_scope scope, const char *name)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < ARRAY_SIZE(conf_schema); i++) {
		const struct conf_key *k = &conf_schema[i];
		size_t d;

		if (k->scope != scope)
			continue;
		d = edit_distance(name, k->name);
		/* "printed" for "printed_folder", "max_message" for "max_message_size" */
		if (d > 2 && strlen(name) >= 4 && str_has_prefix(k->name, name))
			d = 2;
		if (d <= 2 && d < best_d) {
			best = k->name;
			best_d = d;
		}
	}
	return best;
}

static const struct conf_key *
schema_find(enum conf_scope scope, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(conf_schema); i++)
		if (conf_schema[i].scope == scope && strcmp(conf_schema[i].name, name) == 0)
			return &conf_schema[i];
	return NULL;
}

/* Check every member of group against the schema of scope. */
void
conf_check_members(struct conf_check *ck, const config_setting_t *group, enum conf_scope scope,
    const struct conf_where *w)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned int)i);
		const char *name = config_setting_name(s);
		const struct conf_key *k;
		const char *hint;
		struct buf valid = { 0 };

		if (name == NULL)
			continue;
		k = schema_find(scope, name);
		if (k != NULL && k->reserved != NULL) {
			conf_problem(ck, s, w, name, "not supported yet in this release (%s)",
			    k->reserved);
			continue;
		}
		if (k != NULL)
			continue;
		if ((hint = closest_key(scope, name)) != NULL) {
			conf_problem(ck, s, w, name, "unknown key (did you mean \"%s\"?)", hint);
			continue;
		}
		for (size_t j = 0; j < ARRAY_SIZE(conf_schema); j++) {
			if (conf_schema[j].scope != scope || conf_schema[j].reserved != NULL)
				continue;
			buf_appendf(&valid, "%s%s", valid.len ? ", " : "", conf_schema[j].name);
		}
		conf_problem(ck, s, w, name, "unknown key (valid keys here: %s)", valid.data);
		buf_free(&valid);
	}
}

/* ------------------------------------------------------------ typed getters */

/* "a string", "a number", ...: what the user wrote, for type errors. */
const char *
conf_type_desc(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "a whole number";
	case CONFIG_TYPE_FLOAT: return "a decimal number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "true/false";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	default: return "nothing";
	}
}

/*
 * Look up key in group.  Present with a type in `types` (a bit per
 * CONFIG_TYPE_*): the setting, *got 1.  Absent: NULL, *got 0.  Otherwise
 * a problem is reported saying it must be `want`: NULL, *got -1.  *got is
 * what a conf_get_* function returns for it.
 */
config_setting_t *
conf_member(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, unsigned int types, const char *want, int *got)
{
	config_setting_t *s = config_setting_get_member(group, key);

	*got = 0;
	if (s == NULL)
		return NULL;
	if ((T(config_setting_type(s)) & types) == 0) {
		conf_problem(ck, s, w, key, "must be %s, not %s (%s)", want, conf_type_desc(s),
		    (types & T(CONFIG_TYPE_STRING)) ? "put the value in double quotes" :
		    (types & T(CONFIG_TYPE_INT)) ? "write a whole number without quotes" :
		    (types & T(CONFIG_TYPE_BOOL)) ? "write true or false without quotes" :
		    "see mail2cups.conf(5)");
		*got = -1;
		return NULL;
	}
	*got = 1;
	return s;
}

/* Report a missing required key; `at` is the group it belongs in. */
void
conf_missing(struct conf_check *ck, const config_setting_t *at, const struct conf_where *w,
    const char *key, const char *what)
{
	conf_problem(ck, at, w, key, "missing (required: %s)", what);
}

/* A non-empty string: 1 found, 0 absent, -1 bad.  *out is borrowed. */
int
conf_get_string(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, const char **out)
{
	config_setting_t *s;
	int got;

	if ((s = conf_member(ck, group, w, key, T(CONFIG_TYPE_STRING), "a string", &got)) == NULL)
		return got;
	*out = config_setting_get_string(s);
	if (**out == '\0') {
		conf_problem(ck, s, w, key, "must not be empty (give a value, or remove the line)");
		return -1;
	}
	return 1;
}

/* Replace *dst with a copy of the string key when present. */
int
conf_get_string_dup(struct conf_check *ck, const config_setting_t *group,
    const struct conf_where *w,
    const char *key, char **dst)
{
	const char *v;
	int r = conf_get_string(ck, group, w, key, &v);

	if (r == 1) {
		free(*dst);
		*dst = xstrdup(v);
	}
	return r;
}

/* A whole number in [min, max]. */
int
conf_get_int(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, long long min, long long max, int *out)
{
	config_setting_t *s;
	long long v;
	int got;

	if ((s = conf_member(ck, group, w, key, T(CONFIG_TYPE_INT) | T(CONFIG_TYPE_INT64),
	    "a whole number", &got)) == NULL)
		return got;
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		conf_problem(ck, s, w, key, "%lld is out of range (use %lld to %lld)", v, min, max);
		return -1;
	}
	*out = (int)v;
	return 1;
}

/* true or false. */
int
conf_get_bool(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, int *out)
{
	config_setting_t *s;
	int got;

	if ((s = conf_member(ck, group, w, key, T(CONFIG_TYPE_BOOL), "true or false", &got)) == NULL)
		return got;
	*out = config_setting_get_bool(s) ? 1 : 0;
	return 1;
}

/* A group { ... }, or NULL when absent (or not a group: reported). */
config_setting_t *
conf_get_group(struct conf_check *ck, const config_setting_t *parent, const struct conf_where *w,
    const char *key)
{
	int got;

	return conf_member(ck, parent, w, key, T(CONFIG_TYPE_GROUP), "a group { ... }", &got);
}

/* "\"a\", \"b\", \"c\"" for a message; allocated. */
static char *
quoted_names(const char *const *names, size_t nnames)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < nnames; i++)
		buf_appendf(&b, "%s\"%s\"", i ? ", " : "", names[i]);
	return buf_steal(&b);
}

/* Report that the string key is not one of names[]; returns -1. */
int
conf_bad_enum(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, const char *v, const char *const *names, size_t nnames)
{
	char *allowed = quoted_names(names, nnames);

	conf_problem(ck, config_setting_get_member(group, key), w, key,
	    "\"%s\" is not allowed (use one of %s)", v, allowed);
	free(allowed);
	return -1;
}

/* One of names[]: the index goes to *out. */
int
conf_get_enum(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, const char *const *names, size_t nnames, int *out)
{
	const char *v;
	int r;

	if ((r = conf_get_string(ck, group, w, key, &v)) != 1)
		return r;
	for (size_t i = 0; i < nnames; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 1;
		}
	}
	return conf_bad_enum(ck, group, w, key, v, names, nnames);
}

/*
 * Parse a size: digits with an optional K, M or G suffix (powers of 1024).
 * Returns 0 and *out, or -1.
 */
static int
parse_size(const char *s, int64_t *out)
{
	int64_t v = 0, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (CONF_MAX_SIZE * 1024) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': mult = 1024; p++; break;
	case 'm': case 'M': mult = 1024 * 1024; p++; break;
	case 'g': case 'G': mult = 1024 * 1024 * 1024; p++; break;
	default: return -1;
	}
	if (*p != '\0' || v > INT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* A size: an integer of bytes, or a string like "25M". */
int
conf_get_size(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, off_t *out)
{
	config_setting_t *s;
	int64_t v;
	int got;

	if ((s = conf_member(ck, group, w, key,
	    T(CONFIG_TYPE_INT) | T(CONFIG_TYPE_INT64) | T(CONFIG_TYPE_STRING),
	    "a size (bytes, or a string like \"25M\")", &got)) == NULL)
		return got;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = config_setting_get_string(s);

		if (parse_size(str, &v) != 0) {
			conf_problem(ck, s, w, key, "\"%s\" is not a size (write bytes, or a "
			    "number with a K, M or G suffix, like \"25M\")", str);
			return -1;
		}
	} else
		v = config_setting_get_int64(s);
	if (v <= 0 || v > CONF_MAX_SIZE) {
		conf_problem(ck, s, w, key,
		    "%lld is out of range (give a positive size up to 1024G, "
		    "like \"25M\")", (long long)v);
		return -1;
	}
	*out = (off_t)v;
	return 1;
}

void
conf_strlist_free(struct conf_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A list or array of non-empty strings; replaces *out when present. */
int
conf_get_strlist(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, struct conf_strlist *out)
{
	config_setting_t *s;
	struct conf_strlist l = { 0 };
	int n, got, ret = 1;

	if ((s = conf_member(ck, group, w, key, T(CONFIG_TYPE_ARRAY) | T(CONFIG_TYPE_LIST),
	    "a list of strings [ \"...\", \"...\" ]", &got)) == NULL)
		return got;
	n = config_setting_length(s);
	l.v = xcalloc((size_t)n + 1, sizeof(*l.v));
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
		const char *v = config_setting_get_string(e);

		if (v == NULL || *v == '\0') {
			conf_problem(ck, e, w, key, "item %d must be a non-empty string, not %s "
			    "(put each value in double quotes)", i + 1,
			    v ? "an empty string" : conf_type_desc(e));
			ret = -1;
			continue;
		}
		l.v[l.n++] = xstrdup(v);
	}
	conf_strlist_free(out);
	*out = l;
	return ret;
}

/* A path to a file we read: absolute and readable now. */
int
conf_get_file(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, char **dst)
{
	const char *v;
	int r;

	if ((r = conf_get_string(ck, group, w, key, &v)) != 1)
		return r;
	if (v[0] != '/') {
		conf_problem(ck, config_setting_get_member(group, key), w, key,
		    "\"%s\" is not an absolute path (start it with /)", v);
		return -1;
	}
	if (access(v, R_OK) != 0) {
		conf_problem(ck, config_setting_get_member(group, key), w, key,
		    "cannot read %s: %s (create the file, or fix the path)", v, strerror(errno));
		return -1;
	}
	free(*dst);
	*dst = xstrdup(v);
	return 1;
}

/* ------------------------------------------------------------ value checks */

/*
 * An http(s) URL: 0 when it is https://, or http:// to a loopback host;
 * -1 otherwise, with *why set to a constant explanation.
 */
int
conf_check_url(const char *url, const char **why)
{
	const char *h, *end;
	char host[256];

	if (str_has_prefix(url, "https://") && url[8] != '\0')
		return 0;
	if (!str_has_prefix(url, "http://")) {
		*why = "is not an https:// URL";
		return -1;
	}
	h = url + 7;
	if (*h == '[')
		end = strchr(h, ']') ? strchr(h, ']') + 1 : h + strlen(h);
	else
		end = h + strcspn(h, ":/?#");
	if ((size_t)(end - h) < sizeof(host)) {
		memcpy(host, h, (size_t)(end - h));
		host[end - h] = '\0';
		if (host_is_loopback(host))
			return 0;
	}
	*why = "uses http:// to a host that is not loopback: sign-in secrets would "
	    "travel in clear (use https://)";
	return -1;
}

/* An account name: [A-Za-z0-9_.-]+. */
int
conf_valid_account_name(const char *s)
{
	if (*s == '\0')
		return 0;
	return s[strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")] == '\0';
}

/* A CUPS queue name: printable ASCII, no space, '/' or '#', at most 127 bytes. */
const char *
conf_cups_queue_problem(const char *s)
{
	if (strlen(s) > CUPS_QUEUE_MAX)
		return "is longer than 127 characters";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == '#')
			return "may not contain spaces, '/', '#' or control characters";
	return NULL;
}

/* A CUPS user name for users: [A-Za-z0-9._-]{1,32}, or exactly "%l". */
int
conf_valid_user_name(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "%l") == 0)
		return 1;
	return n >= 1 && n <= 32 &&
	    s[strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")] == '\0';
}

/* One side of a media type pattern: RFC 6838 name characters and wildcards. */
static size_t
type_token_len(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	    "!#$&^_.+-*?");
}

/* "type/subtype" where either may hold '*' or '?': "application/vnd.oasis.*". */
int
conf_valid_type_pattern(const char *s)
{
	size_t a = type_token_len(s), b;

	if (a == 0 || s[a] != '/')
		return 0;
	b = type_token_len(s + a + 1);
	return b > 0 && s[a + 1 + b] == '\0';
}

/* An authserv-id as a mail server writes it: printable, no blank or ';'. */
int
conf_valid_authserv_id(const char *s)
{
	if (strlen(s) > 255)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ';' || *p == '(' || *p == ')' || *p == '"')
			return 0;
	return 1;
}

/* ASCII lower-case in place. */
void
conf_str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)lower(*s);
}

/* ------------------------------------------------------------ groups */

static void
limits_load(struct conf_check *ck, const config_setting_t *root, struct conf_limits *lim)
{
	struct conf_where w;
	config_setting_t *g;
	int got;

	lim->max_message_size = 50 * 1024 * 1024;
	lim->max_attachment_size = 25 * 1024 * 1024;
	lim->max_parts = 200;
	lim->max_depth = 20;
	lim->max_attachments = 50;
	g = conf_member(ck, root, NULL, "limits", T(CONFIG_TYPE_GROUP), "a group { ... }", &got);
	if (g == NULL)
		return;
	conf_where_set(&w, ".", "limits");
	conf_check_members(ck, g, SC_LIMITS, &w);
	conf_get_size(ck, g, &w, "max_message_size", &lim->max_message_size);
	conf_get_size(ck, g, &w, "max_attachment_size", &lim->max_attachment_size);
	conf_get_int(ck, g, &w, "max_parts", 1, 100000, &lim->max_parts);
	conf_get_int(ck, g, &w, "max_depth", 1, 1000, &lim->max_depth);
	conf_get_int(ck, g, &w, "max_attachments", 1, 10000, &lim->max_attachments);
}

/* ------------------------------------------------------------ paths */

/* $HOME, else the password database, else "/". Borrowed. */
static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] == '/')
		return h;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/')
		return pw->pw_dir;
	return "/";
}

/* $ENVVAR/leaf when ENVVAR is an absolute path, else ~/home_rel/leaf. */
static char *
xdg_path(const char *envvar, const char *home_rel, const char *leaf)
{
	const char *base = getenv(envvar);

	if (base != NULL && base[0] == '/')
		return xasprintf("%s/%s", base, leaf);
	return xasprintf("%s/%s/%s", home_dir(), home_rel, leaf);
}

char *
conf_default_path(void)
{
	if (geteuid() == 0)
		return xstrdup(M2C_CONF_PATH);
	return xdg_path("XDG_CONFIG_HOME", ".config", "mail2cups/mail2cups.conf");
}

static char *
default_state_dir(void)
{
	if (geteuid() == 0)
		return xstrdup(M2C_STATE_DIR);
	return xdg_path("XDG_STATE_HOME", ".local/state", "mail2cups");
}

/* ------------------------------------------------------------ load */

/* A group name, or a number: its gid, or -1 when there is no such group. */
long long
conf_group_gid(const char *group)
{
	struct group *g = getgrnam(group);
	char *end;
	unsigned long v;

	if (g != NULL)
		return g->gr_gid;
	if (*group < '0' || *group > '9')
		return -1;
	errno = 0;
	v = strtoul(group, &end, 10);
	if (errno != 0 || *end != '\0' || v > 0x7fffffffUL)
		return -1;
	return (long long)v;
}

/* The daemon's wake-up socket for the Dovecot plugin (wake.h). */
static void
wake_load(struct conf_check *ck, const config_setting_t *root, const struct conf_where *w,
    struct conf *c)
{
	struct sockaddr_un sun;

	if (conf_get_string_dup(ck, root, w, "wake_socket", &c->wake_socket) == 1 &&
	    (c->wake_socket[0] != '/' || strlen(c->wake_socket) >= sizeof(sun.sun_path)))
		conf_problem(ck, config_setting_get_member(root, "wake_socket"), w, "wake_socket",
		    "\"%s\" is not an absolute path of at most %zu bytes (a socket path must "
		    "be that short; /run/mail2cups/wake.sock is usual)", c->wake_socket,
		    sizeof(sun.sun_path) - 1);
	if (conf_get_string_dup(ck, root, w, "wake_socket_group", &c->wake_socket_group) == 1) {
		if (conf_group_gid(c->wake_socket_group) < 0)
			conf_problem(ck, config_setting_get_member(root, "wake_socket_group"), w,
			    "wake_socket_group", "no group \"%s\" on this system (the group "
			    "Dovecot's mail processes run as, e.g. vmail or mail, or its number)",
			    c->wake_socket_group);
		else if (c->wake_socket == NULL)
			conf_problem(ck, config_setting_get_member(root, "wake_socket_group"), w,
			    "wake_socket_group", "set without wake_socket (set both, or neither)");
	}
	c->wake_interval = 1;
	conf_get_int(ck, root, w, "wake_interval", 0, 3600, &c->wake_interval);
}

static void
globals_load(struct conf_check *ck, const config_setting_t *root, struct conf *c)
{
	struct conf_where w = { "", "" };
	const char *v;

	conf_check_members(ck, root, SC_GLOBAL, &w);
	c->state_dir = default_state_dir();
	if (conf_get_string_dup(ck, root, &w, "state_dir",
	    &c->state_dir) == 1 && c->state_dir[0] != '/')
		conf_problem(ck, config_setting_get_member(root, "state_dir"), &w, "state_dir",
		    "\"%s\" is not an absolute path (start it with /)", c->state_dir);
	conf_get_string_dup(ck, root, &w, "service_user", &c->service_user);
	conf_get_string_dup(ck, root, &w, "cups_server", &c->cups_server);
	conf_get_file(ck, root, &w, "token_encryption_key_file", &c->token_key_file);
	c->log_level = LOG_LVL_INFO;
	if (conf_get_string(ck, root, &w, "log_level", &v) == 1 && log_level_parse(v,
	    &c->log_level) != 0)
		conf_bad_enum(ck, root, &w, "log_level", v, log_level_names,
		    ARRAY_SIZE(log_level_names));
	c->timeout = 60;
	conf_get_int(ck, root, &w, "timeout", 1, 3600, &c->timeout);
	c->max_attempts = 5;
	conf_get_int(ck, root, &w, "max_attempts", 1, 1000, &c->max_attempts);
	/* RFC 2177: re-issue IDLE at least every 29 minutes. */
	c->idle_interval = 1500;
	conf_get_int(ck, root, &w, "idle_interval", 1, 1740, &c->idle_interval);
	c->keepalive_interval = 120;
	conf_get_int(ck, root, &w, "keepalive_interval", 1, 3600, &c->keepalive_interval);
	c->backoff_max = 300;
	conf_get_int(ck, root, &w, "backoff_max", 1, 86400, &c->backoff_max);
	c->shutdown_timeout = 30;
	conf_get_int(ck, root, &w, "shutdown_timeout", 1, 600, &c->shutdown_timeout);
	c->deliver_lock_wait = 5;
	conf_get_int(ck, root, &w, "deliver_lock_wait", 0, 3600, &c->deliver_lock_wait);
	wake_load(ck, root, &w, c);
	limits_load(ck, root, &c->limits);
	c->rules = conf_group_list_load(ck, root, &w, "rules", sizeof(*c->rules), &c->nrules,
	    conf_rule_load);
	c->users = conf_group_list_load(ck, root, &w, "users", sizeof(*c->users), &c->nusers,
	    conf_user_load);
	c->converters = conf_group_list_load(ck, root, &w, "converters", sizeof(*c->converters),
	    &c->nconverters, conf_converter_load);
	conf_get_bool(ck, root, &w, "converters_unsandboxed", &c->converters_unsandboxed);
	for (size_t i = 0; i < c->nconverters; i++)
		c->converters[i].unsandboxed = c->converters_unsandboxed;
	conf_smtp_load(ck, root, &c->smtp);
	conf_replies_load(ck, root, &c->replies);
	conf_accounts_load(ck, root, c);
}

/*
 * config_read() with @include resolved as mail2cups.conf(5) says: an
 * absolute path as written, a relative one from the including file's
 * folder.  libconfig 1.5 (Debian 12) puts its include_dir in front of every
 * @include path, absolute ones too ("/etc//etc/x.conf": "cannot open include
 * file"); with no include_dir every version opens the path as written.  So
 * the read runs with the file's folder as the working directory, restored
 * afterwards.  Returns config_read()'s result, or a negative code.
 */
static int
read_with_includes(config_t *cfg, FILE *fp, const char *dir, char **errstr)
{
	int cwd, ok;

	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd >= 0 && chdir(dir) != 0) {
		close(cwd);
		cwd = -1;	/* relative includes then start from here */
	}
	ok = config_read(cfg, fp);
	if (cwd >= 0) {
		int back = fchdir(cwd);
		int e = errno;

		close(cwd);
		if (back != 0)
			return m2c_fail(errstr, M2C_E_SYS, "cannot return to the working "
			    "directory after reading %s: %s", dir, strerror(e));
	}
	return ok;
}


int
conf_load(const char *path, struct conf **out, char **errstr)
{
	struct conf_check ck = { .path = path };
	struct conf *c = NULL;
	config_t cfg;
	char *dir = NULL;
	FILE *fp = NULL;
	int r;

	*out = NULL;
	config_init(&cfg);
	if ((fp = fopen(path, "r")) == NULL) {
		/* Missing or unreadable: a person must act, so 78, not "try later". */
		int e = errno;

		r = m2c_fail(errstr, e == ENOENT || e == ENOTDIR ? M2C_E_CONFIG :
		    m2c_err_from_errno(e), "%s: cannot read the configuration file: %s "
		    "(%s, see mail2cups.conf(5), or give another with -c FILE)", path,
		    strerror(e), e == ENOENT ? "create it" : e == EACCES ?
		    "let the user who runs mail2cups read it: chgrp mail2cups FILE; "
		    "chmod 0640 FILE" : "fix it");
		goto out;
	}
	dir = path_dir(path);
	if ((r = read_with_includes(&cfg, fp, dir, errstr)) < 0)
		goto out;
	if (r != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			r = m2c_fail(errstr, M2C_E_CONFIG, "%s: cannot read the configuration file: %s",
			    config_error_file(&cfg) ? config_error_file(&cfg) : path,
			    config_error_text(&cfg));
		else if (strcmp(config_error_text(&cfg), "cannot open include file") == 0)
			r = m2c_fail(errstr, M2C_E_CONFIG, "%s:%d: cannot open the file of this "
			    "@include (check its name: an absolute path, or one relative to %s, "
			    "readable by the user mail2cups runs as)",
			    config_error_file(&cfg) ? config_error_file(&cfg) : path,
			    config_error_line(&cfg), dir);
		else
			r = m2c_fail(errstr, M2C_E_CONFIG, "%s:%d: %s (fix the syntax: settings "
			    "look like key = value; see mail2cups.conf(5))",
			    config_error_file(&cfg) ? config_error_file(&cfg) : path,
			    config_error_line(&cfg), config_error_text(&cfg));
		goto out;
	}

	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	globals_load(&ck, config_root_setting(&cfg), c);
	if (ck.nproblems > 0) {
		if (ck.nproblems > CONF_MAX_PROBLEMS)
			buf_appendf(&ck.msgs, "\n%s: ... and %d more problems", path,
			    ck.nproblems - CONF_MAX_PROBLEMS);
		r = M2C_E_CONFIG;
		if (errstr != NULL) {
			free(*errstr);
			*errstr = buf_steal(&ck.msgs);
		}
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
 out:
	if (fp != NULL)
		fclose(fp);
	config_destroy(&cfg);
	buf_free(&ck.msgs);
	conf_free(&c);
	free(dir);
	return r;
}

void
conf_free(struct conf **cp)
{
	struct conf *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	for (size_t i = 0; i < c->naccounts; i++)
		conf_account_free_fields(&c->accounts[i]);
	free(c->accounts);
	conf_rules_free(c->rules, c->nrules);
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].sender);
		free(c->users[i].user);
	}
	free(c->users);
	for (size_t i = 0; i < c->nconverters; i++) {
		conf_strlist_free(&c->converters[i].types);
		conf_strlist_free(&c->converters[i].command);
		conf_strlist_free(&c->converters[i].read_only_paths);
	}
	free(c->converters);
	free(c->wake_socket);
	free(c->wake_socket_group);
	free(c->smtp.host);
	free(c->smtp.ca_file);
	free(c->smtp.username);
	free(c->smtp.password_file);
	free(c->replies.from);
	for (size_t k = 0; k < CONF_REPLY_NKINDS; k++) {
		free(c->replies.t[k].subject);
		free(c->replies.t[k].body);
	}
	free(c->path);
	free(c->state_dir);
	free(c->service_user);
	free(c->cups_server);
	free(c->token_key_file);
	free(c);
	*cp = NULL;
}

static void
digest_str(struct buf *b, const char *key, const char *v)
{
	/* Length-prefixed, so no value can imitate another field. */
	buf_appendf(b, "%s=%zu:%s;", key, v ? strlen(v) : (size_t)0, v ? v : "");
}

static void
digest_list(struct buf *b, const char *key, const struct conf_strlist *l)
{
	buf_appendf(b, "%s[%zu]", key, l->n);
	for (size_t i = 0; i < l->n; i++)
		digest_str(b, key, l->v[i]);
}

static void
digest_opts(struct buf *b, const struct print_opts *o)
{
	buf_appendf(b, "opts=%u,%d,%d,%d,%d,%d,%d;", o->set, o->copies, o->orientation, o->fit,
	    o->hold, o->body, o->nranges);
	for (int i = 0; i < o->nranges && i < POPT_MAX_RANGES; i++)
		buf_appendf(b, "%d-%d,", o->ranges[i][0], o->ranges[i][1]);
	digest_str(b, "sides", o->sides);
	digest_str(b, "color", o->color);
	digest_str(b, "media", o->media);
}

static void
digest_rules(struct buf *b, const char *key, const struct conf_rule *r, size_t n)
{
	buf_appendf(b, "%s[%zu]", key, n);
	for (size_t i = 0; i < n; i++) {
		digest_str(b, "rule", r[i].name);
		digest_list(b, "rcpt", &r[i].recipients);
		digest_list(b, "from", &r[i].senders);
		digest_list(b, "subj", &r[i].subjects);
		digest_str(b, "printer", r[i].printer);
		digest_opts(b, &r[i].options);
		digest_opts(b, &r[i].force_options);
		buf_appendf(b, "allow=%u;max=%d;hold=%d;body=%d;", r[i].allow_options,
		    r[i].max_copies, r[i].hold, r[i].print_body);
	}
}

/* The global settings for issue 5 features: rules, users, converters, smtp, replies. */
static void
digest_features(struct buf *b, const struct conf *c)
{
	const struct conf_smtp *sm = &c->smtp;

	digest_rules(b, "rules", c->rules, c->nrules);
	buf_appendf(b, "users[%zu]", c->nusers);
	for (size_t i = 0; i < c->nusers; i++) {
		digest_str(b, "sender", c->users[i].sender);
		digest_str(b, "user", c->users[i].user);
	}
	buf_appendf(b, "converters[%zu]", c->nconverters);
	for (size_t i = 0; i < c->nconverters; i++) {
		digest_list(b, "types", &c->converters[i].types);
		digest_list(b, "command", &c->converters[i].command);
		buf_appendf(b, "ctimeout=%d;", c->converters[i].timeout);
		buf_appendf(b, "climits=%d,%d,%d,%d,%d;", c->converters[i].unsandboxed,
		    c->converters[i].memory_limit, c->converters[i].file_size_limit,
		    c->converters[i].max_processes, c->converters[i].cpu_time_limit);
		digest_list(b, "ro", &c->converters[i].read_only_paths);
	}
	digest_str(b, "smtp_host", sm->host);
	buf_appendf(b, "smtp=%d,%d,%d,%d;", sm->port, (int)sm->security, (int)sm->auth,
	    sm->auth_set);
	digest_str(b, "smtp_ca", sm->ca_file);
	digest_str(b, "smtp_user", sm->username);
	digest_str(b, "smtp_pass", sm->password_file);
	buf_appendf(b, "smtp_max=%lld;", (long long)sm->max_message_size);
	digest_str(b, "reply_from", c->replies.from);
	buf_appendf(b, "rate=%d/%d;", c->replies.rate_limit, c->replies.rate_period);
	for (size_t k = 0; k < CONF_REPLY_NKINDS; k++) {
		digest_str(b, "t_subject", c->replies.t[k].subject);
		digest_str(b, "t_body", c->replies.t[k].body);
	}
}

char *
conf_account_digest(const struct conf *c, const struct conf_account *a)
{
	const struct conf_oauth *o = &a->oauth;
	struct buf b = { 0 };

	digest_str(&b, "state_dir", c->state_dir);
	digest_str(&b, "cups_server", c->cups_server);
	digest_str(&b, "token_key", c->token_key_file);
	buf_appendf(&b, "log=%d;timeout=%d;attempts=%d;idle=%d;keepalive=%d;backoff=%d;",
	    (int)c->log_level, c->timeout, c->max_attempts, c->idle_interval,
	    c->keepalive_interval, c->backoff_max);
	buf_appendf(&b, "limits=%lld,%lld,%d,%d,%d;", (long long)c->limits.max_message_size,
	    (long long)c->limits.max_attachment_size, c->limits.max_parts,
	    c->limits.max_depth, c->limits.max_attachments);
	digest_str(&b, "name", a->name);
	digest_str(&b, "host", a->host);
	buf_appendf(&b, "port=%d;security=%d;auth=%d;poll=%d;idle=%d;after=%d;", a->port,
	    (int)a->security, (int)a->auth, a->poll_interval, a->idle, (int)a->after);
	digest_str(&b, "ca_file", a->ca_file);
	digest_str(&b, "username", a->username);
	digest_str(&b, "login_user", a->login_user);
	digest_str(&b, "mailbox", a->mailbox);
	digest_str(&b, "password_file", a->password_file);
	digest_str(&b, "printer", a->printer);
	digest_list(&b, "allow", &a->allow_senders);
	digest_str(&b, "printed", a->printed_folder);
	digest_str(&b, "failed", a->failed_folder);
	buf_appendf(&b, "oauth=%d,%d,%d,%d,%d;", o->present, (int)o->provider, (int)o->cloud,
	    (int)o->flow, o->assertion_rs256);
	digest_str(&b, "tenant", o->tenant);
	digest_str(&b, "client_id", o->client_id);
	digest_str(&b, "secret_file", o->client_secret_file);
	digest_str(&b, "cert", o->certificate_file);
	digest_str(&b, "key", o->private_key_file);
	digest_str(&b, "authority", o->authority);
	digest_str(&b, "issuer", o->issuer);
	digest_list(&b, "scopes", &o->scopes);
	digest_list(&b, "deny", &a->deny_senders);
	digest_str(&b, "authserv_id", a->authserv_id);
	digest_list(&b, "tenant_domains", &a->tenant_domains);
	buf_appendf(&b, "aso=%d;tuf=%d;hold=%d;body=%d;reply=%u;", a->authenticated_senders_only,
	    a->trust_unauthenticated_from, a->hold, (int)a->print_body, a->reply);
	digest_str(&b, "rejected", a->rejected_folder);
	buf_appendf(&b, "folders=%d,%d,%d;", a->print_folders, a->session_timeout,
	    a->max_sessions);
	digest_list(&b, "folder_users", &a->folder_users);
	digest_rules(&b, "account_rules", a->rules, a->nrules);
	digest_features(&b, c);
	return buf_steal(&b);
}

int
conf_account_judges_senders(const struct conf_account *a)
{
	return a->authserv_id != NULL || a->oauth.provider == CONF_PROVIDER_MICROSOFT;
}

const struct conf_account *
conf_account_find(const struct conf *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->naccounts; i++)
		if (c->accounts[i].name != NULL && strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}

ENUM_NAME_FN(conf_security_name, enum conf_security, conf_security_names, "?")
ENUM_NAME_FN(conf_auth_name, enum conf_auth, conf_auth_names, "?")
ENUM_NAME_FN(conf_auth_sasl_name, enum conf_auth, auth_sasl_names, "?")
ENUM_NAME_FN(conf_after_name, enum conf_after, conf_after_names, "?")
ENUM_NAME_FN(conf_reply_kind_name, enum conf_reply_kind, conf_reply_kind_names, "?")
ENUM_NAME_FN(conf_body_name, enum conf_body, conf_body_names, "?")

int
conf_account_is_oauth(const struct conf_account *a)
{
	return a->auth == CONF_AUTH_XOAUTH2 || a->auth == CONF_AUTH_OAUTHBEARER;
}

const char *
conf_account_login_user(const struct conf_account *a)
{
	return a->login_user ? a->login_user : a->username;
}
