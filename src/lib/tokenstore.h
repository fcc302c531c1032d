/*
 * tokenstore.h - one JSON file of tokens per account, kept safe.
 *
 * state_dir/tokens/NAME.json, 0600 in a 0700 folder; a file or folder that
 * group or others can access, or that belongs to another user, is refused
 * with the fix.  Writes are atomic (temp file, fsync, rename, fsync of the
 * folder).  An exclusive lock (flock on NAME.lock) is held across a
 * refresh, so that concurrent callers make exactly one request to the
 * identity provider and no rotated refresh token is lost.  Optional
 * encryption at rest: AES-256-GCM with a 32-byte key from a file.
 *
 * The file also keeps a pending device authorization, so a second
 * `login` (or the daemon) shows the same code instead of a rival one.
 */
#ifndef M2C_TOKENSTORE_H
#define M2C_TOKENSTORE_H

#include "oauth.h"

struct tokenstore;

/* key_file: NULL for plain JSON. */
int tokenstore_open(const char *state_dir, const char *account, const char *key_file,
    struct tokenstore **out, char **errstr);
void tokenstore_close(struct tokenstore **ts);	/* releases the lock */

int tokenstore_lock(struct tokenstore *ts, char **errstr);
void tokenstore_unlock(struct tokenstore *ts);

/* M2C_E_AUTH "sign-in required: run mail2cups-oauth login NAME" when empty. */
int tokenstore_load(struct tokenstore *ts, struct oauth_tokens *t, char **errstr);
int tokenstore_save(struct tokenstore *ts, const struct oauth_tokens *t, char **errstr);

int tokenstore_load_pending(struct tokenstore *ts, struct oauth_device *d, char **errstr);
int tokenstore_save_pending(struct tokenstore *ts, const struct oauth_device *d, char **errstr);
int tokenstore_clear_pending(struct tokenstore *ts, char **errstr);

/* Remove the account's tokens (logout). */
int tokenstore_remove(struct tokenstore *ts, char **errstr);

#endif
