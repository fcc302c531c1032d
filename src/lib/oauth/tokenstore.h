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
 *
 * File format (version 1):
 *     {"version": 1, "account": NAME, "saved_at": UNIX,
 *      "access_token", "refresh_token", "id_token", "scope", "identity",
 *      "expires_at": UNIX,
 *      "pending": {"device_code", "user_code", "verification_uri",
 *                  "verification_uri_complete", "message", "expires_at",
 *                  "interval"}}
 * A NULL field is left out.  Encrypted, the same JSON is sealed with
 * AES-256-GCM (12-byte random IV, 16-byte tag, AAD "mail2cups-tokens-v1:"
 * NAME, so a file cannot be moved to another account) and stored as
 *     {"version": 1, "enc": "A256GCM", "iv": B64, "tag": B64, "ct": B64}.
 * The key file holds 32 raw bytes, 64 hex digits or base64 of 32 bytes and
 * is checked like any secret file (secret.h).  A plain file is still read
 * when a key is set, and encrypted at the next save (migration).
 *
 * Intended use (mail2cups-oauth token, the poller):
 *     tokenstore_lock; tokenstore_load; if expiring: oauth_refresh and
 *     tokenstore_save; tokenstore_unlock
 * so that of N concurrent processes exactly one refreshes.
 *
 * Test hook (testhook.h): step "tokens-before-rename" stops a save after
 * the temp file is written and synced, before it replaces the old file.
 */
#ifndef M2C_TOKENSTORE_H
#define M2C_TOKENSTORE_H

#include "oauth.h"

struct tokenstore;

/*
 * Open the store of account (creating state_dir/tokens, 0700, if missing;
 * refusing it if group/others can access it or it is another user's).
 * key_file: NULL for plain JSON; else the key is read and checked now.
 * *out: allocated; free with tokenstore_close.
 */
int tokenstore_open(const char *state_dir, const char *account, const char *key_file,
    struct tokenstore **out, char **errstr);
/* The same for account a of cf: its state_dir and token_encryption_key_file,
 * and the config's -c in the commands its messages advise. */
int tokenstore_open_conf(const struct conf *cf, const struct conf_account *a,
    struct tokenstore **out, char **errstr);
void tokenstore_close(struct tokenstore **ts);	/* releases the lock; NULL ok */

/*
 * Take the account's exclusive lock, waiting up to the lock timeout
 * (default 60 s): M2C_E_TEMP when another process holds it that long.
 * Locking a store that is already locked is a no-op returning 0 (not
 * counted: one tokenstore_unlock releases it).  Two tokenstore objects of
 * one account in one process exclude each other like two processes.
 */
int tokenstore_lock(struct tokenstore *ts, char **errstr);
void tokenstore_unlock(struct tokenstore *ts);	/* no-op when not locked */
/* The lock timeout in milliseconds (tests shorten it). */
void tokenstore_set_lock_timeout(struct tokenstore *ts, int timeout_ms);

/*
 * Become the one process that polls the identity provider for the pending
 * device code (flock on NAME.poll, without waiting; held until
 * tokenstore_close or the process's death).  0: ts polls (again 0 when it
 * does already); M2C_E_TEMP: another process does, so this one waits for
 * the store to change instead: two pollers of one code make the provider
 * answer slow_down, and the interval grows for everyone.
 */
int tokenstore_poll_claim(struct tokenstore *ts, char **errstr);

/*
 * Fill *t (set to zeros on entry, so clear it first if it holds anything;
 * filled only on success; the caller frees it with oauth_tokens_clear).
 * The access and refresh tokens are registered with log_secret_add.
 * M2C_E_SIGNIN when there are no tokens (advice.h says what to do); M2C_E_DATA for a damaged file; M2C_E_CONFIG for
 * refused permissions or a wrong key.
 */
int tokenstore_load(struct tokenstore *ts, struct oauth_tokens *t, char **errstr);
/*
 * Save t (the pending device authorization, if any, is kept).  Takes the
 * lock for its duration unless the caller holds it.  A damaged old file is
 * replaced (with a warning); one that cannot be read for another reason
 * (permissions, wrong key) is not.
 */
int tokenstore_save(struct tokenstore *ts, const struct oauth_tokens *t, char **errstr);

/*
 * The pending device authorization, as stored (the caller checks
 * d->expires_at).  *d as for tokenstore_load; free with oauth_device_clear.
 * M2C_E_NOTFOUND when none is pending.
 */
int tokenstore_load_pending(struct tokenstore *ts, struct oauth_device *d, char **errstr);
/* Save d, keeping the tokens; clear drops it, keeping the tokens. */
int tokenstore_save_pending(struct tokenstore *ts, const struct oauth_device *d, char **errstr);
int tokenstore_clear_pending(struct tokenstore *ts, char **errstr);

/* Remove the account's tokens (logout); 0 when there were none. */
int tokenstore_remove(struct tokenstore *ts, char **errstr);

#endif
