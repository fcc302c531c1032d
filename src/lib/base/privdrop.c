/* privdrop.c - see privdrop.h. */
#include "m2c-config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "privdrop.h"
#include "util.h"

int
privdrop_to_state_owner(const char *state_dir, char **errstr)
{
	struct stat st;
	struct passwd *pw;
	int r;

	if (stat(state_dir, &st) != 0) {
		if (errno != ENOENT)
			return m2c_fail(errstr, m2c_err_from_errno(errno), "state_dir %s: %s",
			    state_dir, strerror(errno));
		if ((r = mkdir_p(state_dir, 0700, errstr)) != 0)
			return r;
		if (stat(state_dir, &st) != 0)
			return m2c_fail(errstr, M2C_E_SYS, "state_dir %s: %s", state_dir,
			    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return m2c_fail(errstr, M2C_E_CONFIG, "state_dir %s is not a directory",
		    state_dir);
	if (geteuid() != 0 || st.st_uid == 0)
		return 0;

	pw = getpwuid(st.st_uid);
	if (setgroups(0, NULL) != 0 && errno != EPERM)
		return m2c_fail(errstr, M2C_E_SYS, "setgroups: %s", strerror(errno));
	if (pw != NULL && initgroups(pw->pw_name, st.st_gid) != 0)
		return m2c_fail(errstr, M2C_E_SYS, "initgroups(%s): %s", pw->pw_name,
		    strerror(errno));
	if (setgid(st.st_gid) != 0 || setuid(st.st_uid) != 0)
		return m2c_fail(errstr, M2C_E_SYS,
		    "cannot switch to uid %u / gid %u (the owner of %s): %s",
		    (unsigned)st.st_uid, (unsigned)st.st_gid, state_dir, strerror(errno));
	if (setuid(0) == 0)
		return m2c_fail(errstr, M2C_E_SYS, "could regain root after dropping privileges");
	return 0;
}
