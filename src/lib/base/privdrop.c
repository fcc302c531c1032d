/* privdrop.c - see privdrop.h. */
#include "m2c-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "privdrop.h"
#include "util.h"

void
privdrop_user_clear(struct privdrop_user *u)
{
	if (u == NULL)
		return;
	free(u->name);
	u->name = NULL;
	u->named = 0;
}

static void
user_set(struct privdrop_user *u, uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);

	u->uid = uid;
	u->gid = pw != NULL ? pw->pw_gid : gid;
	u->named = pw != NULL;
	u->name = pw != NULL ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)uid);
}

/* A folder where anyone may create files (/tmp, /var/tmp). */
static int
dir_open_to_all(const char *dir)
{
	struct stat st;

	return lstat(dir, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

static int
is_number(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int
privdrop_find_user(const char *state_dir, const char *service_user, const char *default_user,
    struct privdrop_user *u, char **errstr)
{
	struct stat st;
	struct passwd *pw;
	char *parent;
	int open_to_all;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0) {
		user_set(u, geteuid(), getegid());
		return 0;
	}
	if (service_user != NULL) {
		if ((pw = getpwnam(service_user)) != NULL)
			user_set(u, pw->pw_uid, pw->pw_gid);
		else if (is_number(service_user))
			user_set(u, (uid_t)strtoul(service_user, NULL, 10),
			    (gid_t)strtoul(service_user, NULL, 10));
		else
			return m2c_fail(errstr, M2C_E_CONFIG, "service_user \"%s\": there is no such "
			    "user (create it: useradd --system --home-dir %s --shell "
			    "/usr/sbin/nologin %s; or name another)", service_user, state_dir,
			    service_user);
		if (u->uid == 0) {
			privdrop_user_clear(u);
			return m2c_fail(errstr, M2C_E_CONFIG, "service_user \"%s\" is root: "
			    "mail2cups never handles mail as root (name an unprivileged user, "
			    "e.g. mail2cups)", service_user);
		}
		return 0;
	}
	parent = path_dir(state_dir);
	open_to_all = dir_open_to_all(parent);
	free(parent);
	if (lstat(state_dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid != 0 && !open_to_all) {
		user_set(u, st.st_uid, st.st_gid);
		return 0;
	}
	if (default_user != NULL && (pw = getpwnam(default_user)) != NULL && pw->pw_uid != 0) {
		user_set(u, pw->pw_uid, pw->pw_gid);
		return 0;
	}
	if (open_to_all)
		return m2c_fail(errstr, M2C_E_CONFIG, "mail2cups runs as root and state_dir %s is "
		    "in a folder where anyone may create files, so its owner is not trusted as "
		    "the user to run as: set service_user to that user in the configuration, or "
		    "move state_dir (e.g. to /var/lib/mail2cups)", state_dir);
	return m2c_fail(errstr, M2C_E_CONFIG, "mail2cups runs as root and never handles mail "
	    "as root, but state_dir %s %s and there is no user %s to switch to: create the "
	    "service user (useradd --system --home-dir %s --shell /usr/sbin/nologin %s) and "
	    "give it state_dir (install -d -m 0700 -o %s -g %s %s), or set service_user "
	    "to the user to run as", state_dir,
	    lstat(state_dir, &st) == 0 ? "belongs to root" : "does not exist",
	    default_user ? default_user : "mail2cups", state_dir,
	    default_user ? default_user : "mail2cups", default_user ? default_user : "mail2cups",
	    default_user ? default_user : "mail2cups", state_dir);
}

char *
privdrop_perm_fix(const char *path, const struct stat *st, const struct privdrop_user *u,
    mode_t forbid)
{
	struct buf b = { 0 };

	if (st->st_uid != 0 && st->st_uid != u->uid)
		buf_appendf(&b, "chown %s: %s", u->name, path);
	if ((st->st_mode & forbid & 07777) && (forbid & 077) == 077) {
		/* A secret: its owner's alone. */
		buf_appendf(&b, "%schmod 600 %s", b.len ? "; " : "", path);
	} else if (st->st_mode & forbid & 07777) {
		char who[4];
		size_t n = 0;

		if (forbid & S_IRWXG & st->st_mode)
			who[n++] = 'g';
		if (forbid & S_IRWXO & st->st_mode)
			who[n++] = 'o';
		who[n] = '\0';
		buf_appendf(&b, "%schmod %s-%s%s%s %s", b.len ? "; " : "", who,
		    (forbid & (S_IRGRP | S_IROTH)) ? "r" : "", "w",
		    (forbid & (S_IXGRP | S_IXOTH)) ? "x" : "", path);
	}
	return b.len ? buf_steal(&b) : NULL;
}

/* One folder above state_dir: a link, another owner, writable by others. */
static int
check_parent(const char *dir, const struct stat *st, const struct privdrop_user *u,
    const char *state_dir, char **errstr)
{
	char *fix;
	int r;

	if (S_ISLNK(st->st_mode))
		return m2c_fail(errstr, M2C_E_CONFIG, "%s, above state_dir %s, is a symbolic "
		    "link, so state_dir is refused (give state_dir a path without links: "
		    "readlink -f %s)", dir, state_dir, state_dir);
	if (!S_ISDIR(st->st_mode))
		return m2c_fail(errstr, M2C_E_CONFIG, "%s, above state_dir %s, is not a folder",
		    dir, state_dir);
	/* /tmp: anyone may add, nobody may rename or remove what is not theirs. */
	if (st->st_uid == 0 && (st->st_mode & S_ISVTX))
		return 0;
	if ((fix = privdrop_perm_fix(dir, st, u, S_IWGRP | S_IWOTH)) == NULL)
		return 0;
	r = m2c_fail(errstr, M2C_E_CONFIG, "%s, above state_dir %s, %s, so another user could "
	    "replace state_dir (run: %s)", dir, state_dir,
	    st->st_uid != 0 && st->st_uid != u->uid ? "belongs to another user" :
	    "is writable by group or others", fix);
	free(fix);
	return r;
}

int
privdrop_check_private_dir(const char *path, const struct privdrop_user *u, char **errstr)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return m2c_fail(errstr, m2c_err_from_errno(errno), "%s: %s (run as %s%s)", path,
		    strerror(errno), u->named ? "" : "uid ", u->name);
	}
	if (S_ISLNK(st.st_mode))
		return m2c_fail(errstr, M2C_E_CONFIG, "%s is a symbolic link, so it is refused "
		    "(make it a folder: rm %s; install -d -m 0700 -o %s %s)", path, path, u->name,
		    path);
	if (!S_ISDIR(st.st_mode))
		return m2c_fail(errstr, M2C_E_CONFIG, "%s is not a folder (move it away)", path);
	if (st.st_uid != u->uid)
		return m2c_fail(errstr, M2C_E_CONFIG, "%s belongs to uid %u, not to %s%s, the user "
		    "mail2cups runs as (run: chown -R %s: %s)", path, (unsigned)st.st_uid,
		    u->named ? "" : "uid ", u->name, u->name, path);
	if (st.st_mode & 077)
		return m2c_fail(errstr, M2C_E_CONFIG, "%s has mode %04o: other users could read "
		    "or change what is in it (run: chmod 700 %s)", path,
		    (unsigned)(st.st_mode & 07777), path);
	return 0;
}

int
privdrop_check_state_dir(const char *state_dir, const struct privdrop_user *u, int *exists,
    char **errstr)
{
	char *copy = xstrdup(state_dir), *p;
	struct stat st;
	int r = 0;

	if (exists != NULL)
		*exists = 0;
	if (state_dir[0] != '/') {
		r = m2c_fail(errstr, M2C_E_CONFIG, "state_dir %s is not an absolute path",
		    state_dir);
		goto out;
	}
	/* Every folder above it, from / down; stop at the first missing one. */
	if (lstat("/", &st) == 0 && (r = check_parent("/", &st, u, state_dir, errstr)) != 0)
		goto out;
	for (p = copy + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (lstat(copy, &st) != 0) {
			if (errno == ENOENT)
				goto out;
			r = m2c_fail(errstr, m2c_err_from_errno(errno), "%s: %s", copy,
			    strerror(errno));
			goto out;
		}
		if ((r = check_parent(copy, &st, u, state_dir, errstr)) != 0)
			goto out;
		*p = '/';
	}
	if (lstat(state_dir, &st) != 0) {
		if (errno != ENOENT)
			r = m2c_fail(errstr, m2c_err_from_errno(errno), "state_dir %s: %s",
			    state_dir, strerror(errno));
		goto out;
	}
	if (exists != NULL)
		*exists = 1;
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "state_dir %s is %s, so it is refused (make it "
		    "a folder of the user mail2cups runs as: install -d -m 0700 -o %s %s)",
		    state_dir, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a folder", u->name,
		    state_dir);
		goto out;
	}
	r = privdrop_check_private_dir(state_dir, u, errstr);
out:
	free(copy);
	return r;
}

/* As root: state_dir, 0700, owned by u; missing parents 0755 root's. */
static int
create_state_dir(const char *state_dir, const struct privdrop_user *u, char **errstr)
{
	char *parent = path_dir(state_dir);
	int fd, r = 0;

	if (geteuid() != 0) {
		r = mkdir_p(state_dir, 0700, errstr);
		goto out;
	}
	if ((r = mkdir_p(parent, 0755, errstr)) != 0)
		goto out;
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
		r = m2c_fail(errstr, m2c_err_from_errno(errno), "cannot create state_dir %s: %s",
		    state_dir, strerror(errno));
		goto out;
	}
	if ((fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "cannot open state_dir %s: %s", state_dir,
		    strerror(errno));
		goto out;
	}
	if (fchown(fd, u->uid, u->gid) != 0 || fchmod(fd, 0700) != 0)
		r = m2c_fail(errstr, M2C_E_SYS, "cannot give state_dir %s to %s: %s", state_dir,
		    u->name, strerror(errno));
	close(fd);
out:
	free(parent);
	return r;
}

int
privdrop_switch(const struct privdrop_user *u, char **errstr)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() != 0)
		return 0;
	if (u->uid == 0)
		return m2c_fail(errstr, M2C_E_CONFIG, "refusing to handle mail as root");
	if (u->named ? initgroups(u->name, u->gid) != 0 : setgroups(1, &u->gid) != 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot set the groups of %s: %s", u->name,
		    strerror(errno));
	if (setresgid(u->gid, u->gid, u->gid) != 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot switch to gid %u: %s",
		    (unsigned)u->gid, strerror(errno));
	if (setresuid(u->uid, u->uid, u->uid) != 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot switch to uid %u: %s",
		    (unsigned)u->uid, strerror(errno));
	if (getresuid(&ru, &eu, &su) != 0 || ru != u->uid || eu != u->uid || su != u->uid ||
	    getresgid(&rg, &eg, &sg) != 0 || rg != u->gid || eg != u->gid || sg != u->gid)
		return m2c_fail(errstr, M2C_E_SYS, "the switch to uid %u / gid %u did not take",
		    (unsigned)u->uid, (unsigned)u->gid);
	/* No way back: these must fail now. */
	if (setresuid(0, 0, 0) == 0 || setuid(0) == 0 || setresgid(0, 0, 0) == 0)
		return m2c_fail(errstr, M2C_E_SYS, "could regain root after the switch to uid %u",
		    (unsigned)u->uid);
	/* A change of user sets "dumpable" to fs.suid_dumpable, which may be 1. */
	return privdrop_no_core_dumps(errstr);
}

int
privdrop_become(const char *state_dir, const struct privdrop_user *u, int create,
    char **errstr)
{
	int exists, r;

	if ((r = privdrop_check_state_dir(state_dir, u, &exists, errstr)) != 0)
		return r;
	if (!exists && create) {
		if ((r = create_state_dir(state_dir, u, errstr)) != 0 ||
		    (r = privdrop_check_state_dir(state_dir, u, &exists, errstr)) != 0)
			return r;
	}
	return privdrop_switch(u, errstr);
}

int
privdrop_no_core_dumps(char **errstr)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot turn core dumps off: %s",
		    strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot make the process non-dumpable: %s",
		    strerror(errno));
	return 0;
}
