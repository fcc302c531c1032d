/*
 * privdrop.h - never handle mail as root: run as the service user.
 *
 * Run as root, the programs switch to the service user before they read
 * mail, secrets or state.  The service user is
 *   1. service_user, when the configuration names one;
 *   2. else the owner of state_dir, when that is not root and the folder
 *      holding state_dir is not one where anyone may create files (/tmp:
 *      there a local user could have made state_dir first);
 *   3. else default_user (configure --with-service-user, "mail2cups"),
 *      when such a user exists.
 * Otherwise the programs refuse, with the fix.
 *
 * Before anyone switches, state_dir and every folder above it are checked
 * with lstat (privdrop_check_state_dir): no symbolic link; each parent owned
 * by root or the service user and not writable by group or others (a sticky
 * folder owned by root, like /tmp, excepted); state_dir itself a directory
 * owned by the service user with no group or other permission (0700).
 * Every refusal is M2C_E_CONFIG with the chown/chmod that fixes it.
 *
 * The switch: setgroups (the user's groups, or none), setresgid, setresuid,
 * each result checked, then a check that root cannot be regained.
 *
 * Not root: no switch; the current user is "the service user" and state_dir
 * is checked (and created) the same way.
 */
#ifndef M2C_PRIVDROP_H
#define M2C_PRIVDROP_H

#include <sys/stat.h>
#include <sys/types.h>

struct privdrop_user {
	uid_t uid;
	gid_t gid;
	char *name;	/* owned: the user's name, or "uid N" when it has none */
	int named;	/* name is a user name from the passwd database */
};

/* Free the fields (NULL-safe, idempotent). */
void privdrop_user_clear(struct privdrop_user *u);

/*
 * Who the programs run as (rules above); service_user and default_user may
 * be NULL.  0 with *u filled, or M2C_E_CONFIG with the fix.
 */
int privdrop_find_user(const char *state_dir, const char *service_user,
    const char *default_user, struct privdrop_user *u, char **errstr);

/*
 * Check state_dir and its parents for u (above).  *exists (optional) says
 * whether state_dir exists; a missing one is not an error, its parents are
 * checked.  0, or M2C_E_CONFIG (M2C_E_SYS for an I/O error) with the fix.
 */
int privdrop_check_state_dir(const char *state_dir, const struct privdrop_user *u,
    int *exists, char **errstr);

/*
 * A private folder of u inside state_dir (scratch/, tokens/): when it
 * exists, a directory (not a link) owned by u with no group or other
 * permission.  0 also when it does not exist; else M2C_E_CONFIG with the fix.
 */
int privdrop_check_private_dir(const char *path, const struct privdrop_user *u,
    char **errstr);

/*
 * The fix for a file or folder at path (st from lstat) that only root or
 * uid may change: "chown USER: PATH", "chmod go-w PATH" (for a secret,
 * forbid 077: "chmod 600 PATH") joined by "; ", for what is wrong; NULL
 * when nothing is.  forbid is the mode bits that must be clear
 * (S_IWGRP|S_IWOTH, or 077 for a secret).  Allocated, caller frees.
 */
char *privdrop_perm_fix(const char *path, const struct stat *st, const struct privdrop_user *u,
    mode_t forbid);

/*
 * Switch to u (as root; a no-op otherwise), then privdrop_no_core_dumps()
 * again (the kernel resets "dumpable" on a change of user).  0, or M2C_E_SYS.
 */
int privdrop_switch(const struct privdrop_user *u, char **errstr);

/*
 * Become u (from privdrop_find_user): check state_dir, create it when
 * missing and create is set (0700, owned by u), switch.  0, or an M2C_E_*
 * code with the fix.
 */
int privdrop_become(const char *state_dir, const struct privdrop_user *u, int create,
    char **errstr);

/*
 * No core dumps with secrets in them: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0
 * (which also keeps other processes of the same user from ptrace).
 * 0, or M2C_E_SYS.
 */
int privdrop_no_core_dumps(char **errstr);

#endif
