/*
 * secret.h - reading secrets from files (passwords, client secrets).
 *
 * A secret file must be a regular file owned by the user we run as (after
 * the switch to the service user, privdrop.h; root's is accepted when it is
 * readable at all), with no group or other permission bits (OpenSSH's
 * sshkey_perm_ok): a file anyone else can read is refused with the chmod
 * that fixes it.  The secret is the first line, without its line ending.
 */
#ifndef M2C_SECRET_H
#define M2C_SECRET_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Check an open file's ownership and mode; what names it in messages.
 * 0, or M2C_E_CONFIG with the fix in *errstr.
 */
int secret_check_perms(const struct stat *st, const char *what, char **errstr);

/*
 * Read a private file of at most max bytes into b (appended; free with
 * buf_free_secret), refusing a symbolic link and anything
 * secret_check_perms() refuses.  M2C_E_NOTFOUND, with no message, when it
 * does not exist; too_big is the code for a file larger than max.
 */
struct buf;
int secret_file_load(const char *path, size_t max, int too_big, struct buf *b, char **errstr);

/*
 * Open path as secret_file_load() would and close it: 0 when the user we
 * run as may read it, else M2C_E_CONFIG with the fix (mail2cups check).
 */
int secret_file_check(const char *path, char **errstr);

/*
 * Read the secret in path into *out (allocated; free with free_secret()).
 * The value is registered with the logger so it can never be logged.
 */
int secret_file_read(const char *path, char **out, char **errstr);

#endif
