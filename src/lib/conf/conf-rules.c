/*
 * conf-rules.c - the lists of groups: rules (routing), users (sender to
 * CUPS user) and converters, and the print options they carry; see
 * conf-private.h.
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

/*
 * A list of groups ( { ... }, ... ) at key in parent: an array of n
 * elements of elsize bytes (zeroed, then filled by load for each group;
 * anything that is not a group is reported and skipped).  NULL when absent,
 * bad or empty.  Allocated; *n is its length.
 */
void *
conf_group_list_load(struct conf_check *ck, const config_setting_t *parent,
    const struct conf_where *pw,
    const char *key, size_t elsize, size_t *n,
    void (*load)(struct conf_check *, const config_setting_t *, const struct conf_where *, size_t,
    void *))
{
	config_setting_t *list;
	struct conf_where w;
	unsigned char *v;
	int len, got;

	*n = 0;
	list = conf_member(ck, parent, pw, key, T(CONFIG_TYPE_LIST),
	    "a list of groups ( { ... }, { ... } )", &got);
	if (list == NULL || (len = config_setting_length(list)) == 0)
		return NULL;
	v = xcalloc((size_t)len, elsize);
	for (int i = 0; i < len; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned int)i);

		conf_where_set(&w, ".", "%s%s%s.[%d]", pw->label, pw->label[0] ? pw->join : "",
		    key, i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_problem(ck, g, &w, NULL, "must be a group { ... }, not %s",
			    conf_type_desc(g));
			continue;
		}
		load(ck, g, &w, (size_t)i, v + *n * elsize);
		(*n)++;
	}
	return v;
}

/* options = [ "duplex", "A4" ] (or force_options): every phrase through the print option parser. */
static void
options_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    const char *key, struct print_opts *o)
{
	struct conf_strlist l = { 0 };

	conf_get_strlist(ck, g, w, key, &l);
	for (size_t i = 0; i < l.n; i++) {
		char *msg = NULL;

		/* The parser's message names the phrase and the words it knows. */
		if (popt_parse_item(l.v[i], o, &msg) != 0)
			conf_problem(ck, config_setting_get_member(g, key), w, key,
			    "%s (see PRINT OPTIONS in mail2cups.conf(5))", msg);
		free(msg);
	}
	conf_strlist_free(&l);
}

/* allow_options = [ "copies", "sides" ]: POPT_* bits; absent: POPT_ALLOW_DEFAULT. */
static void
allow_options_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    unsigned int *bits)
{
	struct conf_strlist l = { 0 };
	unsigned int bit;

	*bits = POPT_ALLOW_DEFAULT;
	if (conf_get_strlist(ck, g, w, "allow_options", &l) == 0)
		return;
	*bits = 0;
	for (size_t i = 0; i < l.n; i++) {
		struct buf valid = { 0 };

		if (popt_field_parse(l.v[i], &bit) == 0) {
			*bits |= bit;
			continue;
		}
		for (bit = 1; bit & POPT_ALL; bit <<= 1)
			buf_appendf(&valid, "%s\"%s\"", valid.len ? ", " : "",
			    popt_field_name(bit));
		conf_problem(ck, config_setting_get_member(g, "allow_options"), w, "allow_options",
		    "\"%s\" is not an option name (use any of %s)", l.v[i], valid.data);
		buf_free(&valid);
	}
	conf_strlist_free(&l);
}

void
conf_rule_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    size_t idx, void *elem)
{
	struct conf_rule *r = elem;
	int v = 0;

	r->line = config_setting_source_line(g);
	r->allow_options = POPT_ALLOW_DEFAULT;
	r->max_copies = 10;
	r->hold = -1;
	r->print_body = -1;
	conf_check_members(ck, g, SC_RULE, w);
	conf_get_string_dup(ck, g, w, "name", &r->name);
	if (r->name == NULL)
		r->name = xasprintf("rule %zu", idx + 1);
	conf_get_strlist(ck, g, w, "recipients", &r->recipients);
	conf_get_strlist(ck, g, w, "senders", &r->senders);
	conf_get_strlist(ck, g, w, "subjects", &r->subjects);
	if (conf_get_string_dup(ck, g, w, "printer", &r->printer) == 1)
		conf_check_printer(ck, g, w, "printer", r->printer);
	options_load(ck, g, w, "options", &r->options);
	options_load(ck, g, w, "force_options", &r->force_options);
	allow_options_load(ck, g, w, &r->allow_options);
	conf_get_int(ck, g, w, "max_copies", 1, POPT_MAX_COPIES, &r->max_copies);
	conf_get_bool(ck, g, w, "hold", &r->hold);
	if (conf_get_enum(ck, g, w, "print_body", conf_body_names, ARRAY_SIZE(conf_body_names),
	    &v) == 1)
		r->print_body = v;
}

void
conf_user_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    size_t idx, void *elem)
{
	struct conf_user *u = elem;

	(void)idx;
	conf_check_members(ck, g, SC_USER, w);
	if (conf_get_string_dup(ck, g, w, "sender", &u->sender) == 0)
		conf_missing(ck, g, w, "sender",
		    "an address or pattern, like \"*@staff.example.org\"");
	if (conf_get_string_dup(ck, g, w, "user", &u->user) == 0)
		conf_missing(ck, g, w, "user",
		    "the CUPS user name, or \"%l\" for the address's local part");
	else if (u->user != NULL && !conf_valid_user_name(u->user))
		conf_problem(ck, config_setting_get_member(g, "user"), w, "user",
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
	conf_get_int(ck, g, w, "memory_limit", 64, 1048576, &cv->memory_limit);
	cv->file_size_limit = 256;
	conf_get_int(ck, g, w, "file_size_limit", 1, 1048576, &cv->file_size_limit);
	cv->max_processes = 64;
	conf_get_int(ck, g, w, "max_processes", 4, 4096, &cv->max_processes);
	cv->cpu_time_limit = cv->timeout;
	conf_get_int(ck, g, w, "cpu_time_limit", 1, 86400, &cv->cpu_time_limit);
	conf_get_strlist(ck, g, w, "read_only_paths", &cv->read_only_paths);
	for (size_t i = 0; i < cv->read_only_paths.n; i++)
		if (cv->read_only_paths.v[i][0] != '/')
			conf_problem(ck, s, w, "read_only_paths", "\"%s\" is not an absolute path "
			    "(give the folders the converter needs to read, like "
			    "\"/opt/libreoffice\")", cv->read_only_paths.v[i]);
}

void
conf_converter_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *w,
    size_t idx, void *elem)
{
	struct conf_converter *cv = elem;
	const config_setting_t *s;
	struct stat st;
	const char *prog;
	int r, has_input = 0;

	(void)idx;
	cv->timeout = 120;
	conf_check_members(ck, g, SC_CONVERTER, w);
	r = conf_get_strlist(ck, g, w, "types", &cv->types);
	if (r == 0)
		conf_missing(ck, g, w, "types", "the media types it converts, like "
		    "[ \"application/vnd.oasis.opendocument.*\" ]");
	else if (r == 1 && cv->types.n == 0)
		conf_problem(ck, config_setting_get_member(g, "types"), w, "types",
		    "is empty (list the media types this command converts)");
	for (size_t i = 0; i < cv->types.n; i++)
		if (!conf_valid_type_pattern(cv->types.v[i]))
			conf_problem(ck, config_setting_get_member(g, "types"), w, "types",
			    "\"%s\" is not a media type (write type/subtype, '*' and '?' allowed, "
			    "like \"application/vnd.oasis.opendocument.*\")", cv->types.v[i]);

	r = conf_get_strlist(ck, g, w, "command", &cv->command);
	s = config_setting_get_member(g, "command");
	if (r == 0)
		conf_missing(ck, g, w, "command", "the program and its arguments, like "
		    "[ \"/usr/bin/soffice\", \"--headless\", \"--convert-to\", \"pdf\", \"--outdir\", "
		    "\"%o\", \"%i\" ]");
	else if (r == 1 && cv->command.n == 0)
		conf_problem(ck, s, w, "command", "is empty (give the program and its arguments)");
	if (cv->command.n > 0) {
		prog = cv->command.v[0];
		if (prog[0] != '/')
			conf_problem(ck, s, w, "command",
			    "\"%s\" is not an absolute path (give the "
			    "program's full path: no shell is used to find it)", prog);
		else if (access(prog, X_OK) != 0)
			conf_problem(ck, s, w, "command",
			    "cannot run %s: %s (install the program, or "
			    "fix the path)", prog, strerror(errno));
		else if (stat(prog, &st) != 0 || !S_ISREG(st.st_mode))
			conf_problem(ck, s, w, "command",
			    "%s is not a program (give the path of the "
			    "program itself)", prog);
		for (size_t i = 1; i < cv->command.n; i++)
			has_input |= strstr(cv->command.v[i], "%i") != NULL;
		if (!has_input)
			conf_problem(ck, s, w, "command",
			    "no argument contains %%i, the file to convert "
			    "(add \"%%i\" where the program expects its input)");
	}
	conf_get_int(ck, g, w, "timeout", 1, 3600, &cv->timeout);
	converter_limits_load(ck, g, w, cv);
}

void
conf_rules_free(struct conf_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].name);
		conf_strlist_free(&r[i].recipients);
		conf_strlist_free(&r[i].senders);
		conf_strlist_free(&r[i].subjects);
		free(r[i].printer);
	}
	free(r);
}
