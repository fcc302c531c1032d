/*
 * conf-replies.c - mail sent back: the smtp = { ... } group and the
 * replies = { ... } templates with their ${variables}; see conf-private.h.
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

const char *const conf_template_vars[] = {
	"sender", "subject", "files", "queue", "jobs", "reason", "options", "notes",
	"release", "account", "mailbox", NULL,
};

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

void
conf_smtp_load(struct conf_check *ck, const config_setting_t *root, struct conf_smtp *sm)
{
	struct conf_where top = { "", "" }, w;
	config_setting_t *g;
	int v = 0;

	sm->security = CONF_SEC_STARTTLS;
	sm->auth = CONF_SMTP_NONE;
	if ((g = conf_get_group(ck, root, &top, "smtp")) == NULL)
		return;
	conf_where_set(&w, ".", "smtp");
	conf_check_members(ck, g, SC_SMTP, &w);
	conf_get_string_dup(ck, g, &w, "host", &sm->host);
	conf_get_int(ck, g, &w, "port", 1, 65535, &sm->port);
	if (conf_get_enum(ck, g, &w, "security", conf_security_names,
	    ARRAY_SIZE(conf_security_names), &v) == 1)
		sm->security = (enum conf_security)v;
	if (sm->security == CONF_SEC_NONE)
		conf_check_clear_host(ck, g, &w, sm->host);
	conf_get_file(ck, g, &w, "ca_file", &sm->ca_file);
	if (conf_get_enum(ck, g, &w, "auth", conf_smtp_auth_names,
	    ARRAY_SIZE(conf_smtp_auth_names), &v) == 1) {
		sm->auth = (enum conf_smtp_auth)v;
		sm->auth_set = 1;
	}
	conf_get_string_dup(ck, g, &w, "username", &sm->username);
	if (sm->auth == CONF_SMTP_PLAIN || sm->auth == CONF_SMTP_LOGIN) {
		if (conf_get_file(ck, g, &w, "password_file", &sm->password_file) == 0)
			conf_missing(ck, g, &w, "password_file",
			    "a file holding the SMTP password, for "
			    "auth = \"plain\" or \"login\"");
	} else if (config_setting_get_member(g, "password_file") != NULL)
		conf_problem(ck, config_setting_get_member(g, "password_file"), &w, "password_file",
		    "is only used with auth = \"plain\" or \"login\" (set auth, or remove it)");
	conf_get_size(ck, g, &w, "max_message_size", &sm->max_message_size);
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
			conf_problem(ck, s, w, key,
			    "a \"${\" is not closed (write ${name}, like ${subject})");
			return;
		}
		if (!template_var_known(p, (size_t)(end - p))) {
			struct buf valid = { 0 };

			for (size_t i = 0; conf_template_vars[i] != NULL; i++)
				buf_appendf(&valid, "%s${%s}", i ? ", " : "",
				    conf_template_vars[i]);
			conf_problem(ck, s, w, key, "${%.*s} is not a template variable (use %s)",
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

	if ((g = conf_get_group(ck, parent, pw, key)) == NULL)
		return;
	conf_where_set(&w, ".", "%s.%s", pw->label, key);
	conf_check_members(ck, g, SC_TEMPLATE, &w);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		config_setting_t *s = config_setting_get_member(g, keys[i]);

		if (conf_get_string_dup(ck, g, &w, keys[i], fields[i]) != 1)
			continue;
		check_template_vars(ck, s, &w, keys[i], *fields[i]);
		if (fields[i] == &t->subject && strpbrk(t->subject, "\r\n") != NULL)
			conf_problem(ck, s, &w, keys[i],
			    "must be one line (remove the line breaks)");
	}
}

void
conf_replies_load(struct conf_check *ck, const config_setting_t *root, struct conf_replies *rp)
{
	struct conf_where top = { "", "" }, w;
	config_setting_t *g;

	rp->rate_limit = 10;
	rp->rate_period = 3600;
	for (size_t k = 0; k < CONF_REPLY_NKINDS; k++) {
		rp->t[k].subject = xstrdup(default_templates[k].subject);
		rp->t[k].body = xstrdup(default_templates[k].body);
	}
	if ((g = conf_get_group(ck, root, &top, "replies")) == NULL)
		return;
	conf_where_set(&w, ".", "replies");
	conf_check_members(ck, g, SC_REPLIES, &w);
	if (conf_get_string_dup(ck, g, &w, "from", &rp->from) == 1) {
		char *name = NULL, *addr = NULL;

		if (strpbrk(rp->from, "\r\n\t") != NULL ||
		    addr_parse_from(rp->from, &name, &addr, NULL) != 0)
			conf_problem(ck, config_setting_get_member(g, "from"), &w, "from",
			    "\"%s\" is not an address (write one line, like \"print@example.org\" "
			    "or \"Printer <print@example.org>\")", rp->from);
		free(name);
		free(addr);
	}
	conf_get_int(ck, g, &w, "rate_limit", 1, 10000, &rp->rate_limit);
	conf_get_int(ck, g, &w, "rate_period", 1, 604800, &rp->rate_period);
	for (size_t k = 0; k < CONF_REPLY_NKINDS; k++)
		template_load(ck, g, &w, conf_reply_kind_names[k], &rp->t[k]);
}
