/*
 * runas.h - who the programs run as, and what is checked before they
 * switch to that user (privdrop.h says who the service user is).
 *
 * StrictModes (OpenSSH's word): what decides what runs and as whom must be
 * changeable by nobody but root and the service user:
 *   - the configuration file and every file it @includes;
 *   - secret files: password_file (accounts and smtp), client_secret_file,
 *     private_key_file, token_encryption_key_file; these must also have no
 *     group or other permission (no symbolic link either);
 *   - converter programs (command[0]), after symbolic links.
 * Each file must belong to root or the service user and not be writable by
 * group or others, and so must every folder above it (a sticky folder of
 * root's, like /tmp, excepted).  Every problem is listed, one per line,
 * with the exact chown/chmod that fixes it; M2C_E_CONFIG (exit 78).
 */
#ifndef M2C_RUNAS_H
#define M2C_RUNAS_H

#include "conf.h"
#include "privdrop.h"

/*
 * Call fn for each secret file cf names (above), with the key's name
 * ("password_file", ...); the order is stable.
 */
void runas_secret_files(const struct conf *cf, void (*fn)(const char *path,
    const char *what, void *arg), void *arg);

/* The StrictModes check of cf for the service user u (above). */
int runas_strict_check(const struct conf *cf, const struct privdrop_user *u, char **errstr);

/*
 * What every program that reads mail, secrets or state does first: find
 * the service user (cf->service_user, state_dir's owner, M2C_SERVICE_USER),
 * the StrictModes check, then privdrop_become() (create: make a missing
 * state_dir).  *as (optional; clear it with privdrop_user_clear) receives
 * who the program now runs as.  0, or an M2C_E_* code with the fix.
 */
int runas_service_user(const struct conf *cf, int create, struct privdrop_user *as,
    char **errstr);

/* "user mail2cups (uid 998)" or "uid 5001": allocated, for messages. */
char *runas_describe(const struct privdrop_user *u);

#endif
