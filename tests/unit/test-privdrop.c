/*
 * test-privdrop.c - mail is never handled as root (privdrop.h), run as
 * root: the service user is state_dir's owner, or service_user, or the
 * default user; a root-owned or missing state_dir with no such user is
 * refused with the fix; a state_dir behind a symbolic link, in a folder
 * others may write, with group or other permission, or in /tmp without
 * service_user naming its owner is refused; a missing one is made 0700 for
 * the user; after the switch every uid and gid is the user's and root
 * cannot be regained (setresuid(0,0,0) fails); no core dumps.
 */
#include "m2c-config.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "privdrop.h"
#include "tap.h"
#include "util.h"

#define SVC 5001		/* the rig's service uid (no passwd entry) */
#define NOUSER "m2c-no-such-user"

static char top[] = "/tmp/m2c-privdrop.XXXXXX";

static char *
path(const char *name)
{
	return xasprintf("%s/%s", top, name);
}

static void
mkdir_owned(const char *p, mode_t mode, uid_t uid)
{
	if (mkdir(p, mode) != 0 || chmod(p, mode) != 0 || chown(p, uid, uid) != 0) {
		printf("Bail out! cannot make %s: %s\n", p, strerror(errno));
		exit(1);
	}
}

/* privdrop_find_user + privdrop_become in a child: 0 or the code; the message in e. */
static int
become(const char *state_dir, const char *service_user, char **e)
{
	struct privdrop_user u;
	int r;

	*e = NULL;
	if ((r = privdrop_find_user(state_dir, service_user, NOUSER, &u, e)) != 0)
		return r;
	/* The check alone: a refusal is said before anyone switches. */
	r = privdrop_check_state_dir(state_dir, &u, NULL, e);
	privdrop_user_clear(&u);
	return r;
}

/* Make p with mode and owner, unless an earlier case made it. */
static void
mkdir_once(const char *p, mode_t mode, uid_t uid)
{
	struct stat st;

	if (lstat(p, &st) != 0)
		mkdir_owned(p, mode, uid);
}

static void
test_refusals(void)
{
	/*
	 * A state_dir under top, below parent (NULL: top itself), each made
	 * with its mode and owner by the first case that names it; the
	 * service_user (NULL: none); the result and what the message says
	 * (NULL: not checked).
	 */
	static const struct {
		const char *parent;
		mode_t pmode;
		uid_t powner;
		const char *dir;
		mode_t mode;
		uid_t owner;
		const char *user;
		int want;
		const char *has;
		const char *desc;
	} t[] = {
		/* The old code kept root here: a root-owned state_dir. */
		{ NULL, 0, 0, "root-owned", 0700, 0, NULL, M2C_E_CONFIG, "useradd --system",
		  "a root-owned state_dir with no service user is refused (root never "
		  "handles mail), saying how to make the service user" },
		{ NULL, 0, 0, "root-owned", 0700, 0, NULL, M2C_E_CONFIG, "service_user",
		  "... or to name one" },
		{ NULL, 0, 0, "root-owned", 0700, 0, "5001", M2C_E_CONFIG, "run: chown -R 5001: ",
		  "service_user set, but state_dir is root's: refused, with the chown -R "
		  "that fixes it" },
		{ NULL, 0, 0, "root-owned", 0700, 0, NOUSER, M2C_E_CONFIG, "no such user",
		  "service_user names nobody: refused, saying so" },
		{ NULL, 0, 0, "root-owned", 0700, 0, "root", M2C_E_CONFIG, NULL,
		  "service_user = root: refused" },
		{ NULL, 0, 0, "open", 0755, SVC, NULL, M2C_E_CONFIG, "run: chmod 700 ",
		  "a state_dir others may read is refused, with chmod 700" },
		/* A folder above it anyone may write (not sticky): state_dir could be swapped. */
		{ "wide", 0777, 0, "wide/state", 0700, SVC, "5001", M2C_E_CONFIG, "chmod go-w ",
		  "a parent writable by others is refused, with the chmod that fixes it" },
		{ "theirs", 0755, 4242, "theirs/state", 0700, SVC, "5001", M2C_E_CONFIG,
		  "belongs to another user", "a parent of another user is refused, saying so" },
		/* /tmp: a local user made state_dir first; its owner is not trusted. */
		{ "sticky", 01777, 0, "sticky/state", 0700, SVC, NULL, M2C_E_CONFIG,
		  "anyone may create files", "a state_dir in a sticky folder anyone may "
		  "write is not trusted by its owner alone, saying why" },
		{ "sticky", 01777, 0, "sticky/state", 0700, SVC, "5001", 0, NULL,
		  "... but is, when service_user names that owner" },
	};
	char *e = NULL, *p, *q;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (t[i].parent != NULL) {
			p = path(t[i].parent);
			mkdir_once(p, t[i].pmode, t[i].powner);
			free(p);
		}
		p = path(t[i].dir);
		mkdir_once(p, t[i].mode, t[i].owner);
		is_int(become(p, t[i].user, &e), t[i].want, "%s", t[i].desc);
		if (t[i].has != NULL)
			has_str(e, t[i].has, "%s: the message", t[i].desc);
		free(e);
		free(p);
	}

	q = xasprintf("%s/missing", top);
	is_int(become(q, NULL, &e), M2C_E_CONFIG, "a missing state_dir with no service user "
	    "is refused");
	has_str(e, "does not exist", "... saying it does not exist");
	free(e);
	free(q);

	/* A symbolic link, as state_dir and above it. */
	p = path("real");
	mkdir_owned(p, 0700, SVC);
	q = path("link");
	if (symlink(p, q) != 0)
		ok(0, "symlink");
	is_int(become(q, "5001", &e), M2C_E_CONFIG, "a state_dir that is a symbolic link is "
	    "refused (lstat)");
	has_str(e, "symbolic link", "... saying so");
	free(e);
	free(p);
	p = xasprintf("%s/link/sub", top);
	mkdir_owned(p, 0700, SVC);
	is_int(become(p, "5001", &e), M2C_E_CONFIG, "a symbolic link above state_dir is refused");
	free(e);
	free(p);
	free(q);
}

/* In a child: become the owner of state_dir; report over the exit code. */
static void
test_switch(void)
{
	char *p = path("svc"), *q = path("svc-missing/state");
	pid_t pid;
	int status;
	struct stat st;

	mkdir_owned(p, 0700, SVC);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct privdrop_user u;
		uid_t r, e, s;
		gid_t rg, eg, sg, groups[8];
		char *err = NULL;
		int n;

		if (privdrop_find_user(p, NULL, NOUSER, &u, &err) != 0)
			_exit(10);
		if (u.uid != SVC)
			_exit(11);
		if (privdrop_become(p, &u, 1, &err) != 0) {
			printf("# %s\n", err);
			_exit(12);
		}
		if (getresuid(&r, &e, &s) != 0 || r != SVC || e != SVC || s != SVC)
			_exit(13);
		if (getresgid(&rg, &eg, &sg) != 0 || rg != SVC || eg != SVC || sg != SVC)
			_exit(14);
		n = getgroups(8, groups);
		if (n != 1 || groups[0] != SVC)
			_exit(15);
		/* No way back to root. */
		if (setresuid(0, 0, 0) == 0 || setuid(0) == 0 || seteuid(0) == 0)
			_exit(16);
		if (setresgid(0, 0, 0) == 0 || setgroups(0, NULL) == 0)
			_exit(17);
		if (getuid() != SVC || geteuid() != SVC)
			_exit(18);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0, "switched to the owner of "
	    "state_dir: real, effective and saved uid and gid, groups; setresuid(0,0,0), "
	    "setuid(0), seteuid(0), setresgid(0,0,0) and setgroups all fail afterwards");

	/* A missing state_dir: made 0700, owned by the user, then the switch. */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct privdrop_user u;
		char *err = NULL;

		if (privdrop_find_user(q, "5001", NOUSER, &u, &err) != 0 ||
		    privdrop_become(q, &u, 1, &err) != 0) {
			printf("# %s\n", err ? err : "?");
			_exit(1);
		}
		_exit(geteuid() == SVC ? 0 : 2);
	}
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0, "a missing state_dir is made "
	    "and the switch done");
	ok(stat(q, &st) == 0 && st.st_uid == SVC && (st.st_mode & 07777) == 0700,
	    "... state_dir is 0700 and the service user's");
	free(p);
	free(q);
}

static void
test_no_core_dumps(void)
{
	struct rlimit rl;
	char *e = NULL;

	is_int(privdrop_no_core_dumps(&e), 0, "privdrop_no_core_dumps");
	is_int(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0, "... the process is not dumpable");
	ok(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0,
	    "... RLIMIT_CORE is 0 (soft and hard)");
	free(e);
}

int
main(void)
{
	if (geteuid() != 0)
		tap_skip_all("the privilege switch is tested as root");
	if (mkdtemp(top) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	chmod(top, 0755);
	test_refusals();
	test_switch();
	test_no_core_dumps();
	{
		char *cmd = xasprintf("rm -rf '%s'", top);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", top);
		free(cmd);
	}
	return tap_done();
}
