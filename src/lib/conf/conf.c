/*
 * conf.c - load and validate the configuration file; see conf.h and
 * mail2cups.conf(5).
 *
 * The file is parsed by libconfig, then walked once: every setting is
 * checked against the schema table below (unknown keys get a "did you mean"
 * hint, reserved keys are refused as "not supported yet"), then every known
 * key is read with a typed getter that checks type, range and allowed
 * values.  Problems are collected, one line each, and returned together.
 */
#include "m2c-config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "error.h"
#include "addr.h"
#include "util.h"

#define CONF_ROOT_STATE_DIR	"/var/lib/mail2cups"
#define CONF_MAX_PROBLEMS	50	/* lines reported before "and N more" */
#define CONF_MAX_SIZE		((int64_t)1 << 40)	/* 1 TiB: surely a typo */
#define CUPS_QUEUE_MAX		127

/* Which group a key belongs to. */
enum conf_scope { SC_GLOBAL, SC_LIMITS, SC_ACCOUNT, SC_OAUTH, SC_RULE, SC_USER, SC_CONVERTER,
	SC_SMTP, SC_REPLIES, SC_TEMPLATE };

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
	{ SC_ACCOUNT, "authserv_id", NULL },
	{ SC_ACCOUNT, "tenant_domains", NULL },
	{ SC_ACCOUNT, "rules", NULL },
	{ SC_ACCOUNT, "hold", NULL },
	{ SC_ACCOUNT, "print_body", NULL },
	{ SC_ACCOUNT, "reply", NULL },
	{ SC_ACCOUNT, "rejected_folder", NULL },
	{ SC_ACCOUNT, "idle", "remove it; the account is polled every poll_interval" },

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

const char *const conf_template_vars[] = {
	"sender", "subject", "files", "queue", "jobs", "reason", "options", "notes",
	"release", "account", "mailbox", NULL,
};

/* OAuth sign-in (xoauth2/oauthbearer): built (mail2cups-oauth, signin.c). */
static const int conf_oauth_supported = 1;

static const char *const security_names[] = { "ssl", "starttls", "none" };
static const char *const auth_names[] = { "xoauth2", "oauthbearer", "plain", "login" };
static const char *const auth_sasl_names[] = { "XOAUTH2", "OAUTHBEARER", "PLAIN", "LOGIN" };
static const char *const after_names[] = { "seen", "move", "delete" };
/* conf_provider minus CONF_PROVIDER_NONE: index i is provider i + 1. */
static const char *const provider_names[] = { "microsoft", "google", "generic" };
static const char *const cloud_names[] = { "global", "gcchigh", "dod", "china" };
static const char *const flow_names[] = { "device", "authcode", "client_credentials" };
static const char *const assertion_alg_names[] = { "PS256", "RS256" };
static const char *const log_level_names[] = { "error", "warn", "info", "debug" };
static const char *const body_names[] = { "never", "no-attachment", "always" };
static const char *const reply_kind_names[] = { "accepted", "rejected", "failed", "printed" };
static const char *const smtp_auth_names[] = { "xoauth2", "plain", "login", "none" };

/*
 * The default reply templates, by enum conf_reply_kind.  ${release} and
 * ${notes} are empty when there is nothing to say, so they stand on their
 * own lines.
 */
static const struct {
	const char *subject, *body;
} default_templates[CONF_REPLY_NKINDS] = {
	[CONF_REPLY_ACCEPTED] = {
		"Printing: ${subject}",
		"Your message \"${subject}\" was accepted for printing.\n"
		"\n"
		"Files:   ${files}\n"
		"Printer: ${queue}\n"
		"Jobs:    ${jobs}\n"
		"Options: ${options}\n"
		"${notes}\n"
		"${release}\n"
		"\n"
		"This is an automatic reply from the print mailbox ${mailbox}.\n",
	},
	[CONF_REPLY_REJECTED] = {
		"Not printed: ${subject}",
		"Your message \"${subject}\" was not printed: ${reason}.\n"
		"\n"
		"Nothing from it will be printed.  If you should be allowed to print\n"
		"here, ask the administrator of the printer to add your address, then\n"
		"send the message again from that address.\n"
		"\n"
		"This is an automatic reply from the print mailbox ${mailbox}.\n",
	},
	[CONF_REPLY_FAILED] = {
		"Print failed: ${subject}",
		"Your message \"${subject}\" could not be printed: ${reason}.\n"
		"\n"
		"Files: ${files}\n"
		"It will not be tried again.  Send the files again as PDF, or ask the\n"
		"printer's administrator for help, giving the reference above.\n"
		"\n"
		"This is an automatic reply from the print mailbox ${mailbox}.\n",
	},
	[CONF_REPLY_PRINTED] = {
		"Printed: ${subject}",
		"Your message \"${subject}\" has been printed on ${queue}.\n"
		"\n"
		"Files: ${files}\n"
		"Jobs:  ${jobs}\n"
		"\n"
		"This is an automatic reply from the print mailbox ${mailbox}.\n",
	},
};
/* Default IMAP host of a Microsoft 365 mailbox, by cloud. */
static const char *const microsoft_hosts[] = {
	"outlook.office365.com", "outlook.office365.us", "outlook.office365.us", "partner.outlook.cn"
};

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

static void
where_set(struct conf_where *w, const char *join, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
where_set(struct conf_where *w, const char *join, const char *fmt, ...)
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
static void __attribute__((format(printf, 5, 6)))
problem(struct conf_check *ck, const config_setting_t *at, const struct conf_where *w,
    const char *key, const char *fmt, ...)
{
	const char *file = NULL;
	char *msg;
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
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	buf_append(&ck->msgs, msg, strlen(msg));
	free(msg);
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
static void
check_members(struct conf_check *ck, const config_setting_t *group, enum conf_scope scope,
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
			problem(ck, s, w, name, "not supported yet in this release (%s)", k->reserved);
			continue;
		}
		if (k != NULL)
			continue;
		if ((hint = closest_key(scope, name)) != NULL) {
			problem(ck, s, w, name, "unknown key (did you mean \"%s\"?)", hint);
			continue;
		}
		for (size_t j = 0; j < ARRAY_SIZE(conf_schema); j++) {
			if (conf_schema[j].scope != scope || conf_schema[j].reserved != NULL)
				continue;
			buf_appendf(&valid, "%s%s", valid.len ? ", " : "", conf_schema[j].name);
		}
		problem(ck, s, w, name, "unknown key (valid keys here: %s)", valid.data);
		buf_free(&valid);
	}
}

/* ------------------------------------------------------------ typed getters */

/* "a string", "a number", ...: what the user wrote, for type errors. */
static const char *
type_desc(const config_setting_t *s)
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
 * Look up key in group.  Absent: NULL.  Present with a type in `types`
 * (a bit per CONFIG_TYPE_*): the setting.  Otherwise a problem is reported
 * saying it must be `want`, and *bad is set.
 */
#define T(x) (1u << (x))
static config_setting_t *
member(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, unsigned int types, const char *want, int *bad)
{
	config_setting_t *s = config_setting_get_member(group, key);

	*bad = 0;
	if (s == NULL)
		return NULL;
	if ((T(config_setting_type(s)) & types) == 0) {
		problem(ck, s, w, key, "must be %s, not %s (%s)", want, type_desc(s),
		    (types & T(CONFIG_TYPE_STRING)) ? "put the value in double quotes" :
		    (types & T(CONFIG_TYPE_INT)) ? "write a whole number without quotes" :
		    (types & T(CONFIG_TYPE_BOOL)) ? "write true or false without quotes" :
		    "see mail2cups.conf(5)");
		*bad = 1;
		return NULL;
	}
	return s;
}

/* Report a missing required key; `at` is the group it belongs in. */
static void
missing(struct conf_check *ck, const config_setting_t *at, const struct conf_where *w,
    const char *key, const char *what)
{
	problem(ck, at, w, key, "missing (required: %s)", what);
}

/* A non-empty string: 1 found, 0 absent, -1 bad.  *out is borrowed. */
static int
get_string(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, const char **out)
{
	config_setting_t *s;
	int bad;

	s = member(ck, group, w, key, T(CONFIG_TYPE_STRING), "a string", &bad);
	if (s == NULL)
		return bad ? -1 : 0;
	*out = config_setting_get_string(s);
	if (**out == '\0') {
		problem(ck, s, w, key, "must not be empty (give a value, or remove the line)");
		return -1;
	}
	return 1;
}

/* Replace *dst with a copy of the string key when present. */
static int
get_string_dup(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, char **dst)
{
	const char *v;
	int r = get_string(ck, group, w, key, &v);

	if (r == 1) {
		free(*dst);
		*dst = xstrdup(v);
	}
	return r;
}

/* A whole number in [min, max]. */
static int
get_int(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, long long min, long long max, int *out)
{
	config_setting_t *s;
	long long v;
	int bad;

	s = member(ck, group, w, key, T(CONFIG_TYPE_INT) | T(CONFIG_TYPE_INT64),
	    "a whole number", &bad);
	if (s == NULL)
		return bad ? -1 : 0;
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		problem(ck, s, w, key, "%lld is out of range (use %lld to %lld)", v, min, max);
		return -1;
	}
	*out = (int)v;
	return 1;
}

/* true or false. */
static int
get_bool(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, int *out)
{
	config_setting_t *s;
	int bad;

	s = member(ck, group, w, key, T(CONFIG_TYPE_BOOL), "true or false", &bad);
	if (s == NULL)
		return bad ? -1 : 0;
	*out = config_setting_get_bool(s) ? 1 : 0;
	return 1;
}

/* A group { ... }, or NULL when absent (or not a group: reported). */
static config_setting_t *
get_group(struct conf_check *ck, const config_setting_t *parent, const struct conf_where *w,
    const char *key)
{
	int bad;

	return member(ck, parent, w, key, T(CONFIG_TYPE_GROUP), "a group { ... }", &bad);
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
static int
bad_enum(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, const char *v, const char *const *names, size_t nnames)
{
	char *allowed = quoted_names(names, nnames);

	problem(ck, config_setting_get_member(group, key), w, key,
	    "\"%s\" is not allowed (use one of %s)", v, allowed);
	free(allowed);
	return -1;
}

/* One of names[]: the index goes to *out. */
static int
get_enum(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, const char *const *names, size_t nnames, int *out)
{
	const char *v;
	int r;

	if ((r = get_string(ck, group, w, key, &v)) != 1)
		return r;
	for (size_t i = 0; i < nnames; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 1;
		}
	}
	return bad_enum(ck, group, w, key, v, names, nnames);
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
static int
get_size(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, off_t *out)
{
	config_setting_t *s;
	int64_t v;
	int bad;

	s = member(ck, group, w, key,
	    T(CONFIG_TYPE_INT) | T(CONFIG_TYPE_INT64) | T(CONFIG_TYPE_STRING),
	    "a size (bytes, or a string like \"25M\")", &bad);
	if (s == NULL)
		return bad ? -1 : 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = config_setting_get_string(s);

		if (parse_size(str, &v) != 0) {
			problem(ck, s, w, key, "\"%s\" is not a size (write bytes, or a number with "
			    "a K, M or G suffix, like \"25M\")", str);
			return -1;
		}
	} else
		v = config_setting_get_int64(s);
	if (v <= 0 || v > CONF_MAX_SIZE) {
		problem(ck, s, w, key, "%lld is out of range (give a positive size up to 1024G, "
		    "like \"25M\")", (long long)v);
		return -1;
	}
	*out = (off_t)v;
	return 1;
}

static void
strlist_free(struct conf_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A list or array of non-empty strings; replaces *out when present. */
static int
get_strlist(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, struct conf_strlist *out)
{
	config_setting_t *s;
	struct conf_strlist l = { 0 };
	int n, bad, ret = 1;

	s = member(ck, group, w, key, T(CONFIG_TYPE_ARRAY) | T(CONFIG_TYPE_LIST),
	    "a list of strings [ \"...\", \"...\" ]", &bad);
	if (s == NULL)
		return bad ? -1 : 0;
	n = config_setting_length(s);
	l.v = xcalloc((size_t)n + 1, sizeof(*l.v));
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
		const char *v = config_setting_get_string(e);

		if (v == NULL || *v == '\0') {
			problem(ck, e, w, key, "item %d must be a non-empty string, not %s "
			    "(put each value in double quotes)", i + 1,
			    v ? "an empty string" : type_desc(e));
			ret = -1;
			continue;
		}
		l.v[l.n++] = xstrdup(v);
	}
	strlist_free(out);
	*out = l;
	return ret;
}

/* A path to a file we read: absolute and readable now. */
static int
get_file(struct conf_check *ck, const config_setting_t *group, const struct conf_where *w,
    const char *key, char **dst)
{
	const char *v;
	int r;

	if ((r = get_string(ck, group, w, key, &v)) != 1)
		return r;
	if (v[0] != '/') {
		problem(ck, config_setting_get_member(group, key), w, key,
		    "\"%s\" is not an absolute path (start it with /)", v);
		return -1;
	}
	if (access(v, R_OK) != 0) {
		problem(ck, config_setting_get_member(group, key), w, key,
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
static int
check_url(const char *url, const char **why)
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
static int
valid_account_name(const char *s)
{
	if (*s == '\0')
		return 0;
	return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")] == '\0';
}

/* A CUPS queue name: printable ASCII, no space, '/' or '#', at most 127 bytes. */
static const char *
cups_queue_problem(const char *s)
{
	if (strlen(s) > CUPS_QUEUE_MAX)
		return "is longer than 127 characters";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == '#')
			return "may not contain spaces, '/', '#' or control characters";
	return NULL;
}

/* A CUPS user name for users: [A-Za-z0-9._-]{1,32}, or exactly "%l". */
static int
valid_user_name(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "%l") == 0)
		return 1;
	return n >= 1 && n <= 32 &&
	    s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")] == '\0';
}

/* One side of a media type pattern: RFC 6838 name characters and wildcards. */
static size_t
type_token_len(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	    "!#$&^_.+-*?");
}

/* "type/subtype" where either may hold '*' or '?': "application/vnd.oasis.*". */
static int
valid_type_pattern(const char *s)
{
	size_t a = type_token_len(s), b;

	if (a == 0 || s[a] != '/')
		return 0;
	b = type_token_len(s + a + 1);
	return b > 0 && s[a + 1 + b] == '\0';
}

/* An authserv-id as a mail server writes it: printable, no blank or ';'. */
static int
valid_authserv_id(const char *s)
{
	if (strlen(s) > 255)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ';' || *p == '(' || *p == ')' || *p == '"')
			return 0;
	return 1;
}

/* ASCII lower-case in place. */
static void
str_lower(char *s)
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
	int bad;

	lim->max_message_size = 50 * 1024 * 1024;
	lim->max_attachment_size = 25 * 1024 * 1024;
	lim->max_parts = 200;
	lim->max_depth = 20;
	lim->max_attachments = 50;
	g = member(ck, root, NULL, "limits", T(CONFIG_TYPE_GROUP), "a group { ... }", &bad);
	if (g == NULL)
		return;
	where_set(&w, ".", "limits");
	check_members(ck, g, SC_LIMITS, &w);
	get_size(ck, g, &w, "max_message_size", &lim->max_message_size);
	get_size(ck, g, &w, "max_attachment_size", &lim->max_attachment_size);
	get_int(ck, g, &w, "max_parts", 1, 100000, &lim->max_parts);
	get_int(ck, g, &w, "max_depth", 1, 1000, &lim->max_depth);
	get_int(ck, g, &w, "max_attachments", 1, 10000, &lim->max_attachments);
}

static void
oauth_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *aw,
    struct conf_oauth *o)
{
	struct conf_where w;
	int v = 0, has_cloud, has_cert, has_key, service_account;
	const char *why;

	o->present = 1;
	where_set(&w, ".", "%s%soauth", aw->label, aw->join);
	check_members(ck, g, SC_OAUTH, &w);

	if (get_enum(ck, g, &w, "provider", provider_names, ARRAY_SIZE(provider_names), &v) == 1)
		o->provider = (enum conf_provider)(v + 1);
	else if (config_setting_get_member(g, "provider") == NULL)
		missing(ck, g, &w, "provider", "\"microsoft\", \"google\" or \"generic\"");

	has_cloud = get_enum(ck, g, &w, "cloud", cloud_names, ARRAY_SIZE(cloud_names), &v) == 1;
	if (has_cloud)
		o->cloud = (enum conf_cloud)v;
	if (has_cloud && o->provider != CONF_PROVIDER_MICROSOFT && o->provider != CONF_PROVIDER_NONE)
		problem(ck, config_setting_get_member(g, "cloud"), &w, "cloud",
		    "only applies to provider = \"microsoft\" (remove it)");

	if (get_string_dup(ck, g, &w, "tenant", &o->tenant) == 1 &&
	    o->provider != CONF_PROVIDER_MICROSOFT && o->provider != CONF_PROVIDER_NONE)
		problem(ck, config_setting_get_member(g, "tenant"), &w, "tenant",
		    "only applies to provider = \"microsoft\" (remove it)");
	if (get_string_dup(ck, g, &w, "client_id", &o->client_id) == 0)
		missing(ck, g, &w, "client_id", "the application (client) ID of the app registration");
	get_file(ck, g, &w, "client_secret_file", &o->client_secret_file);
	has_cert = config_setting_get_member(g, "certificate_file") != NULL;
	has_key = config_setting_get_member(g, "private_key_file") != NULL;
	get_file(ck, g, &w, "certificate_file", &o->certificate_file);
	get_file(ck, g, &w, "private_key_file", &o->private_key_file);
	o->flow = o->provider == CONF_PROVIDER_GOOGLE ? CONF_FLOW_AUTHCODE : CONF_FLOW_DEVICE;
	if (get_enum(ck, g, &w, "flow", flow_names, ARRAY_SIZE(flow_names), &v) == 1)
		o->flow = (enum conf_flow)v;
	/* A Google service account is one JSON key file: private_key_file alone. */
	service_account = o->provider == CONF_PROVIDER_GOOGLE &&
	    o->flow == CONF_FLOW_CLIENT_CREDENTIALS;
	if (service_account && has_cert)
		problem(ck, config_setting_get_member(g, "certificate_file"), &w, "certificate_file",
		    "a Google service account needs only private_key_file (its JSON key): "
		    "remove certificate_file");
	else if (!service_account && has_cert != has_key)
		problem(ck, config_setting_get_member(g, has_cert ? "certificate_file" : "private_key_file"),
		    &w, has_cert ? "certificate_file" : "private_key_file",
		    "is given without %s (give both, or neither)",
		    has_cert ? "private_key_file" : "certificate_file");
	if (service_account && !has_key)
		problem(ck, g, &w, "flow", "\"client_credentials\" with provider = \"google\" "
		    "needs private_key_file = the service account's JSON key (add it)");
	else if (!service_account && o->flow == CONF_FLOW_CLIENT_CREDENTIALS &&
	    o->client_secret_file == NULL && !has_cert)
		problem(ck, g, &w, "flow", "\"client_credentials\" needs client_secret_file, or "
		    "certificate_file and private_key_file (add one)");
	if (o->flow == CONF_FLOW_CLIENT_CREDENTIALS && o->provider == CONF_PROVIDER_MICROSOFT &&
	    o->tenant == NULL)
		problem(ck, g, &w, "flow", "\"client_credentials\" needs tenant (add the "
		    "directory (tenant) ID)");

	if (get_string_dup(ck, g, &w, "authority", &o->authority) == 1 &&
	    check_url(o->authority, &why) != 0)
		problem(ck, config_setting_get_member(g, "authority"), &w, "authority",
		    "\"%s\" %s", o->authority, why);
	if (get_string_dup(ck, g, &w, "issuer", &o->issuer) == 1) {
		if (o->provider != CONF_PROVIDER_GENERIC && o->provider != CONF_PROVIDER_NONE)
			problem(ck, config_setting_get_member(g, "issuer"), &w, "issuer",
			    "only applies to provider = \"generic\" (remove it)");
		else if (check_url(o->issuer, &why) != 0)
			problem(ck, config_setting_get_member(g, "issuer"), &w, "issuer",
			    "\"%s\" %s", o->issuer, why);
	} else if (o->provider == CONF_PROVIDER_GENERIC && o->authority == NULL &&
	    config_setting_get_member(g, "issuer") == NULL)
		missing(ck, g, &w, "issuer", "the identity provider's URL, for OpenID discovery");
	o->assertion_rs256 = 0;
	if (get_enum(ck, g, &w, "assertion_alg", assertion_alg_names,
	    ARRAY_SIZE(assertion_alg_names), &v) == 1)
		o->assertion_rs256 = v == 1;
	if (get_strlist(ck, g, &w, "scopes", &o->scopes) == 1 && o->scopes.n == 0)
		problem(ck, config_setting_get_member(g, "scopes"), &w, "scopes",
		    "is empty (remove it to use the provider's scopes)");
}

/* A CUPS queue name given as key; reported when it cannot be one. */
static void
check_printer(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    const char *key, const char *printer)
{
	const char *why;

	if ((why = cups_queue_problem(printer)) != NULL)
		problem(ck, config_setting_get_member(g, key), w, key,
		    "\"%s\" %s (use the queue name lpstat -p shows)", printer, why);
}

/* security = "none" (the group's key "security") only to a loopback host. */
static void
check_clear_host(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    const char *host)
{
	if (host != NULL && host_is_loopback(host))
		return;
	problem(ck, config_setting_get_member(g, "security"), w, "security",
	    "\"none\" is only allowed to a loopback host (localhost, 127.x, ::1), not \"%s\": "
	    "the password would go over the network in clear (use \"ssl\" or \"starttls\")",
	    host != NULL ? host : "the provider's server");
}

/*
 * A list of groups ( { ... }, ... ) at key in parent: an array of n
 * elements of elsize bytes (zeroed, then filled by load for each group;
 * anything that is not a group is reported and skipped).  NULL when absent,
 * bad or empty.  Allocated; *n is its length.
 */
static void *
group_list_load(struct conf_check *ck, const config_setting_t *parent, const struct conf_where *pw,
    const char *key, size_t elsize, size_t *n,
    void (*load)(struct conf_check *, const config_setting_t *, const struct conf_where *, size_t,
    void *))
{
	config_setting_t *list;
	struct conf_where w;
	unsigned char *v;
	int len, bad;

	*n = 0;
	list = member(ck, parent, pw, key, T(CONFIG_TYPE_LIST),
	    "a list of groups ( { ... }, { ... } )", &bad);
	if (list == NULL || (len = config_setting_length(list)) == 0)
		return NULL;
	v = xcalloc((size_t)len, elsize);
	for (int i = 0; i < len; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned int)i);

		where_set(&w, ".", "%s%s%s.[%d]", pw->label, pw->label[0] ? pw->join : "", key, i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			problem(ck, g, &w, NULL, "must be a group { ... }, not %s", type_desc(g));
			continue;
		}
		load(ck, g, &w, (size_t)i, v + *n * elsize);
		(*n)++;
	}
	return v;
}

/* options = [ "duplex", "A4" ]: every phrase through the print option parser. */
static void
options_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    struct print_opts *o)
{
	struct conf_strlist l = { 0 };

	get_strlist(ck, g, w, "options", &l);
	for (size_t i = 0; i < l.n; i++) {
		char *msg = NULL;

		/* The parser's message names the phrase and the words it knows. */
		if (popt_parse_item(l.v[i], o, &msg) != 0)
			problem(ck, config_setting_get_member(g, "options"), w, "options",
			    "%s (see PRINT OPTIONS in mail2cups.conf(5))", msg);
		free(msg);
	}
	strlist_free(&l);
}

/* allow_options = [ "copies", "sides" ]: POPT_* bits; absent: all of them. */
static void
allow_options_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    unsigned int *bits)
{
	struct conf_strlist l = { 0 };
	unsigned int bit;

	*bits = POPT_ALL;
	if (get_strlist(ck, g, w, "allow_options", &l) == 0)
		return;
	*bits = 0;
	for (size_t i = 0; i < l.n; i++) {
		struct buf valid = { 0 };

		if (popt_field_parse(l.v[i], &bit) == 0) {
			*bits |= bit;
			continue;
		}
		for (bit = 1; bit & POPT_ALL; bit <<= 1)
			buf_appendf(&valid, "%s\"%s\"", valid.len ? ", " : "", popt_field_name(bit));
		problem(ck, config_setting_get_member(g, "allow_options"), w, "allow_options",
		    "\"%s\" is not an option name (use any of %s)", l.v[i], valid.data);
		buf_free(&valid);
	}
	strlist_free(&l);
}

static void
rule_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    size_t idx, void *elem)
{
	struct conf_rule *r = elem;
	int v = 0;

	r->line = config_setting_source_line(g);
	r->allow_options = POPT_ALL;
	r->max_copies = 10;
	r->hold = -1;
	r->print_body = -1;
	check_members(ck, g, SC_RULE, w);
	get_string_dup(ck, g, w, "name", &r->name);
	if (r->name == NULL)
		r->name = xasprintf("rule %zu", idx + 1);
	get_strlist(ck, g, w, "recipients", &r->recipients);
	get_strlist(ck, g, w, "senders", &r->senders);
	get_strlist(ck, g, w, "subjects", &r->subjects);
	if (get_string_dup(ck, g, w, "printer", &r->printer) == 1)
		check_printer(ck, g, w, "printer", r->printer);
	options_load(ck, g, w, &r->options);
	allow_options_load(ck, g, w, &r->allow_options);
	get_int(ck, g, w, "max_copies", 1, POPT_MAX_COPIES, &r->max_copies);
	get_bool(ck, g, w, "hold", &r->hold);
	if (get_enum(ck, g, w, "print_body", body_names, ARRAY_SIZE(body_names), &v) == 1)
		r->print_body = v;
}

static void
user_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    size_t idx, void *elem)
{
	struct conf_user *u = elem;

	(void)idx;
	check_members(ck, g, SC_USER, w);
	if (get_string_dup(ck, g, w, "sender", &u->sender) == 0)
		missing(ck, g, w, "sender", "an address or pattern, like \"*@staff.example.org\"");
	if (get_string_dup(ck, g, w, "user", &u->user) == 0)
		missing(ck, g, w, "user", "the CUPS user name, or \"%l\" for the address's local part");
	else if (u->user != NULL && !valid_user_name(u->user))
		problem(ck, config_setting_get_member(g, "user"), w, "user",
		    "\"%s\" is not a user name (use 1 to 32 letters, digits, '.', '_' or '-', "
		    "or \"%%l\" for the local part of the sender's address)", u->user);
}

/* The sandbox's limits of a converter (mail2cups.conf(5) CONVERTERS). */
static void
converter_limits_load(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *w, struct conf_converter *cv)
{
	const config_setting_t *s = config_setting_get_member(g, "read_only_paths");

	cv->memory_limit = 4096;
	get_int(ck, g, w, "memory_limit", 64, 1048576, &cv->memory_limit);
	cv->file_size_limit = 256;
	get_int(ck, g, w, "file_size_limit", 1, 1048576, &cv->file_size_limit);
	cv->max_processes = 64;
	get_int(ck, g, w, "max_processes", 4, 4096, &cv->max_processes);
	cv->cpu_time_limit = cv->timeout;
	get_int(ck, g, w, "cpu_time_limit", 1, 86400, &cv->cpu_time_limit);
	get_strlist(ck, g, w, "read_only_paths", &cv->read_only_paths);
	for (size_t i = 0; i < cv->read_only_paths.n; i++)
		if (cv->read_only_paths.v[i][0] != '/')
			problem(ck, s, w, "read_only_paths", "\"%s\" is not an absolute path "
			    "(give the folders the converter needs to read, like "
			    "\"/opt/libreoffice\")", cv->read_only_paths.v[i]);
}

static void
converter_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    size_t idx, void *elem)
{
	struct conf_converter *cv = elem;
	const config_setting_t *s;
	struct stat st;
	const char *prog;
	int r, has_input = 0;

	(void)idx;
	cv->timeout = 120;
	check_members(ck, g, SC_CONVERTER, w);
	r = get_strlist(ck, g, w, "types", &cv->types);
	if (r == 0)
		missing(ck, g, w, "types", "the media types it converts, like "
		    "[ \"application/vnd.oasis.opendocument.*\" ]");
	else if (r == 1 && cv->types.n == 0)
		problem(ck, config_setting_get_member(g, "types"), w, "types",
		    "is empty (list the media types this command converts)");
	for (size_t i = 0; i < cv->types.n; i++)
		if (!valid_type_pattern(cv->types.v[i]))
			problem(ck, config_setting_get_member(g, "types"), w, "types",
			    "\"%s\" is not a media type (write type/subtype, '*' and '?' allowed, "
			    "like \"application/vnd.oasis.opendocument.*\")", cv->types.v[i]);

	r = get_strlist(ck, g, w, "command", &cv->command);
	s = config_setting_get_member(g, "command");
	if (r == 0)
		missing(ck, g, w, "command", "the program and its arguments, like "
		    "[ \"/usr/bin/soffice\", \"--headless\", \"--convert-to\", \"pdf\", \"--outdir\", "
		    "\"%o\", \"%i\" ]");
	else if (r == 1 && cv->command.n == 0)
		problem(ck, s, w, "command", "is empty (give the program and its arguments)");
	if (cv->command.n > 0) {
		prog = cv->command.v[0];
		if (prog[0] != '/')
			problem(ck, s, w, "command", "\"%s\" is not an absolute path (give the "
			    "program's full path: no shell is used to find it)", prog);
		else if (access(prog, X_OK) != 0)
			problem(ck, s, w, "command", "cannot run %s: %s (install the program, or "
			    "fix the path)", prog, strerror(errno));
		else if (stat(prog, &st) != 0 || !S_ISREG(st.st_mode))
			problem(ck, s, w, "command", "%s is not a program (give the path of the "
			    "program itself)", prog);
		for (size_t i = 1; i < cv->command.n; i++)
			has_input |= strstr(cv->command.v[i], "%i") != NULL;
		if (!has_input)
			problem(ck, s, w, "command", "no argument contains %%i, the file to convert "
			    "(add \"%%i\" where the program expects its input)");
	}
	get_int(ck, g, w, "timeout", 1, 3600, &cv->timeout);
	converter_limits_load(ck, g, w, cv);
}

static void
smtp_load(struct conf_check *ck, const config_setting_t *root, struct conf_smtp *sm)
{
	struct conf_where top = { "", "" }, w;
	config_setting_t *g;
	int v = 0;

	sm->security = CONF_SEC_STARTTLS;
	sm->auth = CONF_SMTP_NONE;
	if ((g = get_group(ck, root, &top, "smtp")) == NULL)
		return;
	where_set(&w, ".", "smtp");
	check_members(ck, g, SC_SMTP, &w);
	get_string_dup(ck, g, &w, "host", &sm->host);
	get_int(ck, g, &w, "port", 1, 65535, &sm->port);
	if (get_enum(ck, g, &w, "security", security_names, ARRAY_SIZE(security_names), &v) == 1)
		sm->security = (enum conf_security)v;
	if (sm->security == CONF_SEC_NONE)
		check_clear_host(ck, g, &w, sm->host);
	get_file(ck, g, &w, "ca_file", &sm->ca_file);
	if (get_enum(ck, g, &w, "auth", smtp_auth_names, ARRAY_SIZE(smtp_auth_names), &v) == 1) {
		sm->auth = (enum conf_smtp_auth)v;
		sm->auth_set = 1;
	}
	get_string_dup(ck, g, &w, "username", &sm->username);
	if (sm->auth == CONF_SMTP_PLAIN || sm->auth == CONF_SMTP_LOGIN) {
		if (get_file(ck, g, &w, "password_file", &sm->password_file) == 0)
			missing(ck, g, &w, "password_file", "a file holding the SMTP password, for "
			    "auth = \"plain\" or \"login\"");
	} else if (config_setting_get_member(g, "password_file") != NULL)
		problem(ck, config_setting_get_member(g, "password_file"), &w, "password_file",
		    "is only used with auth = \"plain\" or \"login\" (set auth, or remove it)");
}

/* Is name (len bytes) one of conf_template_vars? */
static int
template_var_known(const char *name, size_t len)
{
	for (size_t i = 0; conf_template_vars[i] != NULL; i++)
		if (strlen(conf_template_vars[i]) == len &&
		    strncmp(conf_template_vars[i], name, len) == 0)
			return 1;
	return 0;
}

/* Every ${name} in text must be a template variable. */
static void
check_template_vars(struct conf_check *ck, const config_setting_t *s, const struct conf_where *w,
    const char *key, const char *text)
{
	const char *p = text, *end;

	while ((p = strstr(p, "${")) != NULL) {
		p += 2;
		if ((end = strchr(p, '}')) == NULL) {
			problem(ck, s, w, key, "a \"${\" is not closed (write ${name}, like ${subject})");
			return;
		}
		if (!template_var_known(p, (size_t)(end - p))) {
			struct buf valid = { 0 };

			for (size_t i = 0; conf_template_vars[i] != NULL; i++)
				buf_appendf(&valid, "%s${%s}", i ? ", " : "", conf_template_vars[i]);
			problem(ck, s, w, key, "${%.*s} is not a template variable (use %s)",
			    (int)(end - p > 40 ? 40 : end - p), p, valid.data);
			buf_free(&valid);
		}
		p = end + 1;
	}
}

/* replies.KIND = { subject = "..."; body = "..."; }: replaces the defaults given. */
static void
template_load(struct conf_check *ck, const config_setting_t *parent, const struct conf_where *pw,
    const char *key, struct conf_template *t)
{
	static const char *const keys[] = { "subject", "body" };
	char **fields[] = { &t->subject, &t->body };
	struct conf_where w;
	config_setting_t *g;

	if ((g = get_group(ck, parent, pw, key)) == NULL)
		return;
	where_set(&w, ".", "%s.%s", pw->label, key);
	check_members(ck, g, SC_TEMPLATE, &w);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		config_setting_t *s = config_setting_get_member(g, keys[i]);

		if (get_string_dup(ck, g, &w, keys[i], fields[i]) != 1)
			continue;
		check_template_vars(ck, s, &w, keys[i], *fields[i]);
		if (fields[i] == &t->subject && strpbrk(t->subject, "\r\n") != NULL)
			problem(ck, s, &w, keys[i], "must be one line (remove the line breaks)");
	}
}

static void
replies_load(struct conf_check *ck, const config_setting_t *root, struct conf_replies *rp)
{
	struct conf_where top = { "", "" }, w;
	config_setting_t *g;

	rp->rate_limit = 10;
	rp->rate_period = 3600;
	for (size_t k = 0; k < CONF_REPLY_NKINDS; k++) {
		rp->t[k].subject = xstrdup(default_templates[k].subject);
		rp->t[k].body = xstrdup(default_templates[k].body);
	}
	if ((g = get_group(ck, root, &top, "replies")) == NULL)
		return;
	where_set(&w, ".", "replies");
	check_members(ck, g, SC_REPLIES, &w);
	if (get_string_dup(ck, g, &w, "from", &rp->from) == 1) {
		char *name = NULL, *addr = NULL;

		if (strpbrk(rp->from, "\r\n\t") != NULL ||
		    addr_parse_from(rp->from, &name, &addr, NULL) != 0)
			problem(ck, config_setting_get_member(g, "from"), &w, "from",
			    "\"%s\" is not an address (write one line, like \"print@example.org\" "
			    "or \"Printer <print@example.org>\")", rp->from);
		free(name);
		free(addr);
	}
	get_int(ck, g, &w, "rate_limit", 1, 10000, &rp->rate_limit);
	get_int(ck, g, &w, "rate_period", 1, 604800, &rp->rate_period);
	for (size_t k = 0; k < CONF_REPLY_NKINDS; k++)
		template_load(ck, g, &w, reply_kind_names[k], &rp->t[k]);
}

/* reply = [ "accepted", "rejected" ]: 1u << CONF_REPLY_* bits. */
static void
reply_kinds_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    unsigned int *bits)
{
	struct conf_strlist l = { 0 };

	*bits = 0;
	get_strlist(ck, g, w, "reply", &l);
	for (size_t i = 0; i < l.n; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(reply_kind_names); k++)
			if (strcmp(l.v[i], reply_kind_names[k]) == 0)
				break;
		if (k < ARRAY_SIZE(reply_kind_names))
			*bits |= 1u << k;
		else
			bad_enum(ck, g, w, "reply", l.v[i], reply_kind_names,
			    ARRAY_SIZE(reply_kind_names));
	}
	strlist_free(&l);
}

/* tenant_domains, or by default the username's domain and a dotted tenant. */
static void
tenant_domains_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    struct conf_account *a)
{
	struct conf_strlist *l = &a->tenant_domains;
	const char *at, *dom[2] = { NULL, NULL };

	if (get_strlist(ck, g, w, "tenant_domains", l) == 0) {
		if (a->username != NULL && (at = strrchr(a->username, '@')) != NULL && at[1] != '\0')
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
		str_lower(l->v[i]);
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

	get_strlist(ck, g, w, "deny_senders", &a->deny_senders);
	if (get_bool(ck, g, w, "authenticated_senders_only", &v) == 1)
		a->authenticated_senders_only = v;
	if (get_string_dup(ck, g, w, "authserv_id", &a->authserv_id) == 1 &&
	    !valid_authserv_id(a->authserv_id))
		problem(ck, config_setting_get_member(g, "authserv_id"), w, "authserv_id",
		    "\"%s\" cannot be an authserv-id (%s, like \"mx.example.org\")",
		    a->authserv_id, how);
	if (a->authserv_id == NULL && p == CONF_PROVIDER_GOOGLE)
		a->authserv_id = xstrdup("mx.google.com");
	tenant_domains_load(ck, g, w, a);
	can_judge = conf_account_judges_senders(a);
	if (a->authenticated_senders_only && !can_judge)
		problem(ck, config_setting_get_member(g, "authenticated_senders_only"), w,
		    "authenticated_senders_only", "there is no way to judge who authenticated (%s)",
		    how);

	reply_kinds_load(ck, g, w, &a->reply);
	if (a->reply == 0)
		return;
	if (!can_judge)
		problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "a reply only ever goes to a sender who authenticated, and there is no way "
		    "to judge that here (%s, or remove reply)", how);
	if (p != CONF_PROVIDER_MICROSOFT && p != CONF_PROVIDER_GOOGLE && smtp->host == NULL)
		problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "there is no SMTP server to send replies through (set smtp = { host = "
		    "\"...\"; }, or remove reply)");
	if (c->replies.from == NULL && a->username != NULL && strchr(a->username, '@') == NULL)
		problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "replies come from the account's username, and \"%s\" is not a mail address "
		    "(set replies = { from = \"print@example.org\"; };)", a->username);
	if (smtp->auth_set && smtp->auth == CONF_SMTP_XOAUTH2 && !a->oauth.present)
		problem(ck, config_setting_get_member(g, "reply"), w, "reply",
		    "smtp.auth = \"xoauth2\" needs an OAuth account, and this one signs in with a "
		    "password (set smtp.auth to \"plain\" or \"login\", or remove reply)");
}

static void
rules_free(struct conf_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].name);
		strlist_free(&r[i].recipients);
		strlist_free(&r[i].senders);
		strlist_free(&r[i].subjects);
		free(r[i].printer);
	}
	free(r);
}

static void
account_free_fields(struct conf_account *a)
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
	strlist_free(&a->oauth.scopes);
	free(a->printer);
	strlist_free(&a->allow_senders);
	free(a->printed_folder);
	free(a->failed_folder);
	strlist_free(&a->deny_senders);
	free(a->authserv_id);
	strlist_free(&a->tenant_domains);
	rules_free(a->rules, a->nrules);
	free(a->rejected_folder);
}

/* A folder key that must differ from the watched mailbox. */
static void
check_folder_not_mailbox(struct conf_check *ck, const config_setting_t *g,
    const struct conf_where *w, const struct conf_account *a, const char *key, const char *folder)
{
	if (strcmp(folder, a->mailbox) != 0)
		return;
	problem(ck, config_setting_get_member(g, key) ? config_setting_get_member(g, key) : g, w, key,
	    "\"%s\" is the mailbox being watched: messages would be processed again "
	    "(choose another folder)", folder);
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
	where_set(&w, ".", "accounts.[%zu]", idx);
	r = get_string(ck, g, &w, "name", &name);
	if (r == 1 && !valid_account_name(name)) {
		problem(ck, config_setting_get_member(g, "name"), &w, "name",
		    "\"%s\" may only use letters, digits, '_', '.' and '-' (rename it)", name);
		r = -1;
	}
	if (r == 0)
		missing(ck, g, &w, "name", "a short name for the account, like \"office\"");
	if (r == 1) {
		a->name = xstrdup(name);
		where_set(&w, ": ", "account \"%s\"", name);
	}
	check_members(ck, g, SC_ACCOUNT, &w);

	if ((s = config_setting_get_member(g, "oauth")) != NULL) {
		if (config_setting_type(s) == CONFIG_TYPE_GROUP)
			oauth_load(ck, s, &w, &a->oauth);
		else
			problem(ck, s, &w, "oauth", "must be a group { ... }, not %s (write "
			    "oauth = { provider = \"microsoft\"; ... };)", type_desc(s));
	}

	/* auth first: it decides the other keys' defaults and requirements. */
	a->auth = a->oauth.present ? CONF_AUTH_XOAUTH2 : CONF_AUTH_PLAIN;
	if (get_enum(ck, g, &w, "auth", auth_names, ARRAY_SIZE(auth_names), &v) == 1)
		a->auth = (enum conf_auth)v;
	s = config_setting_get_member(g, "auth");
	if (a->auth == CONF_AUTH_XOAUTH2 || a->auth == CONF_AUTH_OAUTHBEARER) {
		if (!conf_oauth_supported)
			problem(ck, s ? s : g, &w, NULL, "auth = \"%s\": OAuth sign-in is not supported "
			    "yet in this release; use auth = \"plain\" with a password_file for now",
			    auth_names[a->auth]);
		if (!a->oauth.present)
			problem(ck, s ? s : g, &w, "auth", "\"%s\" needs an oauth group (add oauth = "
			    "{ provider = ...; client_id = ...; };)", auth_names[a->auth]);
		if (config_setting_get_member(g, "password_file") != NULL)
			problem(ck, config_setting_get_member(g, "password_file"), &w, "password_file",
			    "an OAuth account never uses a password (remove password_file)");
	} else {
		if (a->oauth.present)
			problem(ck, config_setting_get_member(g, "oauth"), &w, "oauth",
			    "auth = \"%s\" uses a password, and an OAuth account never uses a password "
			    "(remove the oauth group, or set auth = \"xoauth2\")", auth_names[a->auth]);
		if (get_file(ck, g, &w, "password_file", &a->password_file) == 0)
			missing(ck, g, &w, "password_file", "a file holding the password, for "
			    "auth = \"plain\" or \"login\"");
	}

	a->security = CONF_SEC_SSL;
	if (get_enum(ck, g, &w, "security", security_names, ARRAY_SIZE(security_names), &v) == 1)
		a->security = (enum conf_security)v;
	a->port = a->security == CONF_SEC_SSL ? 993 : 143;
	get_int(ck, g, &w, "port", 1, 65535, &a->port);

	if (get_string_dup(ck, g, &w, "host", &a->host) == 0) {
		if (a->oauth.provider == CONF_PROVIDER_MICROSOFT)
			a->host = xstrdup(microsoft_hosts[a->oauth.cloud]);
		else if (a->oauth.provider == CONF_PROVIDER_GOOGLE)
			a->host = xstrdup("imap.gmail.com");
		else
			missing(ck, g, &w, "host", "the IMAP server's name");
	}
	if (a->security == CONF_SEC_NONE && a->host != NULL)
		check_clear_host(ck, g, &w, a->host);
	get_file(ck, g, &w, "ca_file", &a->ca_file);

	if (get_string_dup(ck, g, &w, "username", &a->username) == 0)
		missing(ck, g, &w, "username", "the mailbox's user name, like \"print@example.org\"");
	if (get_string_dup(ck, g, &w, "login_user", &a->login_user) == 0 && a->username != NULL)
		a->login_user = xstrdup(a->username);
	a->mailbox = xstrdup("INBOX");
	get_string_dup(ck, g, &w, "mailbox", &a->mailbox);
	a->poll_interval = 60;
	get_int(ck, g, &w, "poll_interval", 1, 86400, &a->poll_interval);

	if (get_string_dup(ck, g, &w, "printer", &a->printer) == 0)
		missing(ck, g, &w, "printer", "the CUPS queue to print to, as lpstat -p shows it");
	else if (a->printer != NULL)
		check_printer(ck, g, &w, "printer", a->printer);
	get_strlist(ck, g, &w, "allow_senders", &a->allow_senders);

	a->after = CONF_AFTER_SEEN;
	if (get_enum(ck, g, &w, "after", after_names, ARRAY_SIZE(after_names), &v) == 1)
		a->after = (enum conf_after)v;
	a->printed_folder = xstrdup("Printed");
	get_string_dup(ck, g, &w, "printed_folder", &a->printed_folder);
	a->failed_folder = xstrdup("Print Failed");
	get_string_dup(ck, g, &w, "failed_folder", &a->failed_folder);
	if (a->after == CONF_AFTER_MOVE)
		check_folder_not_mailbox(ck, g, &w, a, "printed_folder", a->printed_folder);
	check_folder_not_mailbox(ck, g, &w, a, "failed_folder", a->failed_folder);
	a->rejected_folder = xstrdup("Print Rejected");
	get_string_dup(ck, g, &w, "rejected_folder", &a->rejected_folder);
	check_folder_not_mailbox(ck, g, &w, a, "rejected_folder", a->rejected_folder);

	trust_load(ck, g, &w, c, a);
	a->rules = group_list_load(ck, g, &w, "rules", sizeof(*a->rules), &a->nrules, rule_load);
	if (get_bool(ck, g, &w, "hold", &v) == 1)
		a->hold = v;
	a->print_body = CONF_BODY_NEVER;
	if (get_enum(ck, g, &w, "print_body", body_names, ARRAY_SIZE(body_names), &v) == 1)
		a->print_body = (enum conf_body)v;
}

static void
accounts_load(struct conf_check *ck, const config_setting_t *root, struct conf *c)
{
	config_setting_t *list;
	struct conf_where w = { "", "" };
	int n, bad;

	list = member(ck, root, &w, "accounts", T(CONFIG_TYPE_LIST),
	    "a list of groups ( { ... }, { ... } )", &bad);
	if (list == NULL) {
		if (!bad)
			missing(ck, NULL, &w, "accounts", "at least one account: accounts = ( { name = "
			    "...; ... } );");
		return;
	}
	if ((n = config_setting_length(list)) == 0) {
		problem(ck, list, &w, "accounts", "is empty (add at least one account { ... })");
		return;
	}
	c->accounts = xcalloc((size_t)n, sizeof(*c->accounts));
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned int)i);
		struct conf_account *a = &c->accounts[c->naccounts];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			where_set(&w, ".", "accounts.[%d]", i);
			problem(ck, g, &w, NULL, "must be a group { ... }, not %s", type_desc(g));
			continue;
		}
		c->naccounts++;
		account_load(ck, g, (size_t)i, c, a);
		for (size_t j = 0; a->name != NULL && j + 1 < c->naccounts; j++) {
			if (c->accounts[j].name == NULL || strcmp(c->accounts[j].name, a->name) != 0)
				continue;
			where_set(&w, ": ", "account \"%s\"", a->name);
			problem(ck, config_setting_get_member(g, "name"), &w, "name",
			    "duplicate account name, first used on line %d (give each account its "
			    "own name)", c->accounts[j].line);
			break;
		}
	}
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
		return xstrdup(SYSCONFDIR "/mail2cups.conf");
	return xdg_path("XDG_CONFIG_HOME", ".config", "mail2cups/mail2cups.conf");
}

static char *
default_state_dir(void)
{
	if (geteuid() == 0)
		return xstrdup(CONF_ROOT_STATE_DIR);
	return xdg_path("XDG_STATE_HOME", ".local/state", "mail2cups");
}

/* ------------------------------------------------------------ load */

static void
globals_load(struct conf_check *ck, const config_setting_t *root, struct conf *c)
{
	struct conf_where w = { "", "" };
	const char *v;

	check_members(ck, root, SC_GLOBAL, &w);
	c->state_dir = default_state_dir();
	if (get_string_dup(ck, root, &w, "state_dir", &c->state_dir) == 1 && c->state_dir[0] != '/')
		problem(ck, config_setting_get_member(root, "state_dir"), &w, "state_dir",
		    "\"%s\" is not an absolute path (start it with /)", c->state_dir);
	get_string_dup(ck, root, &w, "cups_server", &c->cups_server);
	get_file(ck, root, &w, "token_encryption_key_file", &c->token_key_file);
	c->log_level = LOG_LVL_INFO;
	if (get_string(ck, root, &w, "log_level", &v) == 1 && log_level_parse(v, &c->log_level) != 0)
		bad_enum(ck, root, &w, "log_level", v, log_level_names, ARRAY_SIZE(log_level_names));
	c->timeout = 60;
	get_int(ck, root, &w, "timeout", 1, 3600, &c->timeout);
	c->max_attempts = 5;
	get_int(ck, root, &w, "max_attempts", 1, 1000, &c->max_attempts);
	/* RFC 2177: re-issue IDLE at least every 29 minutes. */
	c->idle_interval = 1500;
	get_int(ck, root, &w, "idle_interval", 1, 1740, &c->idle_interval);
	c->keepalive_interval = 120;
	get_int(ck, root, &w, "keepalive_interval", 1, 3600, &c->keepalive_interval);
	c->backoff_max = 300;
	get_int(ck, root, &w, "backoff_max", 1, 86400, &c->backoff_max);
	c->shutdown_timeout = 30;
	get_int(ck, root, &w, "shutdown_timeout", 1, 600, &c->shutdown_timeout);
	limits_load(ck, root, &c->limits);
	c->rules = group_list_load(ck, root, &w, "rules", sizeof(*c->rules), &c->nrules, rule_load);
	c->users = group_list_load(ck, root, &w, "users", sizeof(*c->users), &c->nusers, user_load);
	c->converters = group_list_load(ck, root, &w, "converters", sizeof(*c->converters),
	    &c->nconverters, converter_load);
	get_bool(ck, root, &w, "converters_unsandboxed", &c->converters_unsandboxed);
	for (size_t i = 0; i < c->nconverters; i++)
		c->converters[i].unsandboxed = c->converters_unsandboxed;
	smtp_load(ck, root, &c->smtp);
	replies_load(ck, root, &c->replies);
	accounts_load(ck, root, c);
}

/* The directory part of path, for libconfig's @include. Allocated. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
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
		r = m2c_fail(errstr, M2C_E_SYS, "%s: cannot read the configuration file: %s "
		    "(create it, see mail2cups.conf(5), or give another with -c FILE)",
		    path, strerror(errno));
		goto out;
	}
	dir = dir_of(path);
	config_set_include_dir(&cfg, dir);
	if (config_read(&cfg, fp) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			r = m2c_fail(errstr, M2C_E_SYS, "%s: cannot read the configuration file: %s",
			    config_error_file(&cfg) ? config_error_file(&cfg) : path,
			    config_error_text(&cfg));
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
		account_free_fields(&c->accounts[i]);
	free(c->accounts);
	rules_free(c->rules, c->nrules);
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].sender);
		free(c->users[i].user);
	}
	free(c->users);
	for (size_t i = 0; i < c->nconverters; i++) {
		strlist_free(&c->converters[i].types);
		strlist_free(&c->converters[i].command);
		strlist_free(&c->converters[i].read_only_paths);
	}
	free(c->converters);
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
	buf_appendf(&b, "port=%d;security=%d;auth=%d;poll=%d;after=%d;", a->port,
	    (int)a->security, (int)a->auth, a->poll_interval, (int)a->after);
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
	buf_appendf(&b, "aso=%d;hold=%d;body=%d;reply=%u;", a->authenticated_senders_only,
	    a->hold, (int)a->print_body, a->reply);
	digest_str(&b, "rejected", a->rejected_folder);
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

/* names[i] when i is in range, else "?". */
static const char *
enum_name(const char *const *names, size_t n, int i)
{
	return i >= 0 && (size_t)i < n ? names[i] : "?";
}

const char *
conf_security_name(enum conf_security s)
{
	return enum_name(security_names, ARRAY_SIZE(security_names), (int)s);
}

const char *
conf_auth_name(enum conf_auth a)
{
	return enum_name(auth_names, ARRAY_SIZE(auth_names), (int)a);
}

const char *
conf_auth_sasl_name(enum conf_auth a)
{
	return enum_name(auth_sasl_names, ARRAY_SIZE(auth_sasl_names), (int)a);
}

const char *
conf_after_name(enum conf_after a)
{
	return enum_name(after_names, ARRAY_SIZE(after_names), (int)a);
}

const char *
conf_reply_kind_name(enum conf_reply_kind k)
{
	return enum_name(reply_kind_names, ARRAY_SIZE(reply_kind_names), (int)k);
}

const char *
conf_body_name(enum conf_body b)
{
	return enum_name(body_names, ARRAY_SIZE(body_names), (int)b);
}

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
