/* runas.c - see runas.h. */
#include "m2c-config.h"
#include "m2c-paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "runas.h"
#include "util.h"

#define INCLUDE_DEPTH_MAX 10

char *
runas_describe(const struct privdrop_user *u)
{
	if (u->named)
		return xasprintf("user %s (uid %u)", u->name, (unsigned)u->uid);
	return xasprintf("uid %u", (unsigned)u->uid);
}

/* One problem line: "WHAT PATH ...: why (run: FIX)". */
static void
problem(struct buf *msgs, const char *what, const char *path, const char *why,
    const char *fix)
{
	buf_appendf(msgs, "%s%s %s %s, so it is refused (run: %s)", msgs->len ? "\n" : "",
	    what, path, why, fix);
}

/* Each folder above path: root's or u's, not writable by group or others. */
static void
check_parents(const char *path, const char *what, const struct privdrop_user *u,
    struct buf *msgs)
{
	char *copy = xstrdup(path), *slash;
	struct stat st;

	while ((slash = strrchr(copy, '/')) != NULL) {
		char *fix;

		if (slash == copy)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(copy, &st) == 0 && !(st.st_uid == 0 && (st.st_mode & S_ISVTX)) &&
		    (fix = privdrop_perm_fix(copy, &st, u, S_IWGRP | S_IWOTH)) != NULL) {
			char *why = xasprintf("is in folder %s, which %s", copy,
			    st.st_uid != 0 && st.st_uid != u->uid ? "belongs to another user" :
			    "group or others may write");

			problem(msgs, what, path, why, fix);
			free(why);
			free(fix);
		}
		if (slash == copy)
			break;
	}
	free(copy);
}

/*
 * A file that decides what runs: owned by root or u, not writable by group
 * or others (forbid: 077 for a secret), nor is any folder above it.
 * A missing file is someone else's error (conf_load, or its reader).
 */
static void
check_file(const char *path, const char *what, int secret, const struct privdrop_user *u,
    struct buf *msgs)
{
	struct stat st;
	char *real = NULL, *fix;

	if (secret) {
		if (lstat(path, &st) != 0)
			return;
		if (S_ISLNK(st.st_mode)) {
			buf_appendf(msgs, "%s%s %s is a symbolic link, so it is refused (replace "
			    "the link with the file itself)", msgs->len ? "\n" : "", what, path);
			return;
		}
	} else {
		if ((real = realpath(path, NULL)) == NULL || stat(real, &st) != 0) {
			free(real);
			return;
		}
		path = real;
	}
	fix = privdrop_perm_fix(path, &st, u, secret ? 077 : S_IWGRP | S_IWOTH);
	if (fix != NULL) {
		char *why = st.st_uid != 0 && st.st_uid != u->uid ?
		    xasprintf("belongs to uid %u, neither root nor the user mail2cups runs as",
		    (unsigned)st.st_uid) : secret ?
		    xasprintf("has mode %04o: other users could read it",
		    (unsigned)(st.st_mode & 07777)) :
		    xasprintf("has mode %04o: other users could change it",
		    (unsigned)(st.st_mode & 07777));

		problem(msgs, what, path, why, fix);
		free(why);
		free(fix);
	}
	check_parents(path, what, u, msgs);
	free(real);
}

/*
 * The configuration file and what it @includes (libconfig: a line
 * `@include "FILE"`, relative to the including file's folder).
 */
static void
check_config_file(const char *path, int depth, const struct privdrop_user *u,
    struct buf *msgs)
{
	char line[PATH_MAX + 64];
	FILE *fp;

	check_file(path, depth == 0 ? "the configuration file" : "the included file", 0, u,
	    msgs);
	if (depth >= INCLUDE_DEPTH_MAX || (fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line + strspn(line, " \t"), *end, *inc;

		if (strncmp(p, "@include", 8) != 0)
			continue;
		p += 8;
		p += strspn(p, " \t");
		if (*p++ != '"' || (end = strchr(p, '"')) == NULL)
			continue;
		*end = '\0';
		if (p[0] == '/') {
			inc = xstrdup(p);
		} else {
			char *dir = path_dir(path);

			inc = xasprintf("%s/%s", dir, p);
			free(dir);
		}
		check_config_file(inc, depth + 1, u, msgs);
		free(inc);
	}
	fclose(fp);
}

void
runas_secret_files(const struct conf *cf, void (*fn)(const char *path, const char *what,
    void *arg), void *arg)
{
	if (cf->token_key_file != NULL)
		fn(cf->token_key_file, "token_encryption_key_file", arg);
	if (cf->smtp.password_file != NULL)
		fn(cf->smtp.password_file, "smtp password_file", arg);
	for (size_t i = 0; i < cf->naccounts; i++) {
		const struct conf_account *a = &cf->accounts[i];

		if (a->password_file != NULL)
			fn(a->password_file, "password_file", arg);
		if (a->oauth.client_secret_file != NULL)
			fn(a->oauth.client_secret_file, "client_secret_file", arg);
		if (a->oauth.private_key_file != NULL)
			fn(a->oauth.private_key_file, "private_key_file", arg);
	}
}

struct strict {
	const struct privdrop_user *u;
	struct buf *msgs;
};

static void
strict_secret(const char *path, const char *what, void *arg)
{
	struct strict *s = arg;

	check_file(path, what, 1, s->u, s->msgs);
}

int
runas_strict_check(const struct conf *cf, const struct privdrop_user *u, char **errstr)
{
	struct buf msgs = { 0 };
	struct strict s = { u, &msgs };
	int r = 0;

	check_config_file(cf->path, 0, u, &msgs);
	runas_secret_files(cf, strict_secret, &s);
	for (size_t i = 0; i < cf->nconverters; i++)
		if (cf->converters[i].command.n > 0)
			check_file(cf->converters[i].command.v[0], "the converter", 0, u, &msgs);
	if (msgs.len > 0) {
		char *who = runas_describe(u);

		buf_appendf(&msgs, "\n(only root and %s, the user mail2cups runs as, may change "
		    "these files and the folders above them; secret files are the user's own, "
		    "mode 0600)", who);
		free(who);
		r = M2C_E_CONFIG;
		if (errstr != NULL) {
			free(*errstr);
			*errstr = buf_steal(&msgs);
		}
	}
	buf_free(&msgs);
	return r;
}

int
runas_service_user(const struct conf *cf, int create, struct privdrop_user *as,
    char **errstr)
{
	struct privdrop_user u;
	int r;

	char *e_dir = NULL, *e_strict = NULL;
	int r_dir, r_strict;

	if ((r = privdrop_find_user(cf->state_dir, cf->service_user, M2C_SERVICE_USER, &u,
	    errstr)) != 0)
		return r;
	/* Both checks, so that one run names everything to fix. */
	r_dir = privdrop_check_state_dir(cf->state_dir, &u, NULL, &e_dir);
	r_strict = runas_strict_check(cf, &u, &e_strict);
	if (r_dir != 0 || r_strict != 0) {
		r = r_dir != 0 ? r_dir : r_strict;
		if (errstr != NULL) {
			free(*errstr);
			*errstr = xasprintf("%s%s%s", e_dir ? e_dir : "",
			    e_dir && e_strict ? "\n" : "", e_strict ? e_strict : "");
		}
	} else {
		r = privdrop_become(cf->state_dir, &u, create, errstr);
	}
	free(e_dir);
	free(e_strict);
	if (r == 0 && as != NULL)
		*as = u;
	else
		privdrop_user_clear(&u);
	return r;
}
