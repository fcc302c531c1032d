/* tokenstore.c - per-account token files; see tokenstore.h. */
#include "m2c-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base64.h"
#include "advice.h"
#include "error.h"
#include "log.h"
#include "secret.h"
#include "testhook.h"
#include "tokenstore.h"
#include "util.h"

#define TS_VERSION		1
#define TS_FILE_MAX		(1024 * 1024)
#define TS_KEY_FILE_MAX		256
#define TS_KEY_LEN		32
#define TS_IV_LEN		12
#define TS_TAG_LEN		16
#define TS_AAD_PREFIX		"mail2cups-tokens-v1:"
#define TS_ENC_NAME		"A256GCM"
#define TS_LOCK_TIMEOUT_MS	60000
#define TS_LOCK_POLL_US		10000
#define TS_KEY_HOWTO		"(umask 077; openssl rand -hex 32 > %s)"

struct tokenstore {
	char *account;			/* owned */
	char *cmd;			/* "mail2cups-oauth [-c FILE]", for advice */
	char *dir;			/* owned: state_dir/tokens */
	char *path;			/* owned: dir/NAME.json */
	char *lock_path;		/* owned: dir/NAME.lock */
	char *tmp_prefix;		/* owned: "NAME.tmp" */
	unsigned char key[TS_KEY_LEN];	/* secret; valid when has_key */
	int has_key;
	int lock_fd;			/* -1 unless locked */
	int lock_timeout_ms;
	int poll_fd;			/* -1 unless this store polls the pending code */
};

/*
 * The fields of struct oauth_tokens and struct oauth_device as JSON members:
 * one table each, so reading, writing and freeing are written once.
 */
enum field_type {
	F_STR,		/* char * */
	F_SECRET,	/* char *, registered with the logger when loaded */
	F_TIME,		/* time_t */
	F_INT,		/* int */
};

struct field {
	const char *name;
	enum field_type type;
	size_t off;
};

#define TOK(name, type) { #name, type, offsetof(struct oauth_tokens, name) }
static const struct field token_fields[] = {
	TOK(access_token, F_SECRET),
	TOK(refresh_token, F_SECRET),
	TOK(id_token, F_STR),
	TOK(scope, F_STR),
	TOK(expires_at, F_TIME),
	TOK(identity, F_STR),
};
#undef TOK

#define DEV(name, type) { #name, type, offsetof(struct oauth_device, name) }
static const struct field device_fields[] = {
	DEV(device_code, F_SECRET),
	DEV(user_code, F_STR),
	DEV(verification_uri, F_STR),
	DEV(verification_uri_complete, F_STR),
	DEV(message, F_STR),
	DEV(expires_at, F_TIME),
	DEV(interval, F_INT),
};
#undef DEV

#define FIELD(st, f, T) ((T *)(void *)((char *)(st) + (f)->off))
#define CFIELD(st, f, T) ((const T *)(const void *)((const char *)(st) + (f)->off))

/* Wipe and free every string field; zero the rest. */
static void
fields_free(const struct field *f, size_t n, void *st)
{
	for (size_t i = 0; i < n; i++) {
		switch (f[i].type) {
		case F_STR:
		case F_SECRET:
			free_secret(*FIELD(st, &f[i], char *));
			*FIELD(st, &f[i], char *) = NULL;
			break;
		case F_TIME:
			*FIELD(st, &f[i], time_t) = 0;
			break;
		case F_INT:
			*FIELD(st, &f[i], int) = 0;
			break;
		}
	}
}

/* Copy obj's members into st (zeroed by the caller); on error st is freed. */
static int
fields_from_json(const struct tokenstore *ts, const struct field *f, size_t n, json_t *obj,
    void *st, char **errstr)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(obj, f[i].name);

		if (v == NULL || json_is_null(v))
			continue;
		switch (f[i].type) {
		case F_STR:
		case F_SECRET:
			if (!json_is_string(v))
				goto bad;
			*FIELD(st, &f[i], char *) = xstrndup(json_string_value(v),
			    json_string_length(v));
			if (f[i].type == F_SECRET)
				log_secret_add(*FIELD(st, &f[i], char *));
			break;
		case F_TIME:
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				goto bad;
			*FIELD(st, &f[i], time_t) = (time_t)json_integer_value(v);
			break;
		case F_INT:
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > INT_MAX)
				goto bad;
			*FIELD(st, &f[i], int) = (int)json_integer_value(v);
			break;
		}
		continue;
bad:
		fields_free(f, n, st);
		return m2c_fail(errstr, M2C_E_DATA, "%s is damaged (member \"%s\" has the wrong "
		    "type): sign in again: run %s login %s", ts->path, f[i].name,
		    ts->cmd, ts->account);
	}
	return 0;
}

static void json_wipe(json_t *j);

/* Set obj's members from st; a NULL string removes its member. */
static void
fields_to_json(const struct field *f, size_t n, const void *st, json_t *obj)
{
	for (size_t i = 0; i < n; i++) {
		const char *s;

		json_wipe(json_object_get(obj, f[i].name));	/* the old value */
		switch (f[i].type) {
		case F_STR:
		case F_SECRET:
			s = *CFIELD(st, &f[i], char *);
			if (s == NULL)
				json_object_del(obj, f[i].name);
			else
				json_object_set_new(obj, f[i].name, json_string(s));
			break;
		case F_TIME:
			json_object_set_new(obj, f[i].name,
			    json_integer((json_int_t)*CFIELD(st, &f[i], time_t)));
			break;
		case F_INT:
			json_object_set_new(obj, f[i].name,
			    json_integer(*CFIELD(st, &f[i], int)));
			break;
		}
	}
}

/*
 * Wipe the strings of a JSON tree that held secrets, before it (or a value
 * in it that is being replaced) is released.  jansson keeps each string in
 * its own buffer, so writing over it in place is safe in a tree only we
 * hold.  NULL is fine.
 */
static void
json_wipe(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j))
		wipe((char *)json_string_value(j), json_string_length(j));
	else if (json_is_object(j))
		json_object_foreach(j, k, v)
			json_wipe(v);
	else if (json_is_array(j))
		json_array_foreach(j, i, v)
			json_wipe(v);
}

/* Wipe (when we are the only holder) and release. */
static void
json_wipe_decref(json_t *j)
{
	if (j != NULL && j->refcount == 1)
		json_wipe(j);
	json_decref(j);
}

static void
set_b64(json_t *obj, const char *name, const unsigned char *p, size_t n)
{
	char *s = b64_encode(p, n);

	json_object_set_new(obj, name, json_string_nocheck(s));
	free(s);
}

/* 0 when s (2 * TS_KEY_LEN characters) is hex; the key goes to key. */
static int
hex_key(const char *s, unsigned char *key)
{
	for (size_t i = 0; i < TS_KEY_LEN; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Read the key file into ts->key: 32 raw bytes, 64 hex digits or base64. */
static int
key_load(struct tokenstore *ts, const char *key_file, char **errstr)
{
	struct buf b = { 0 };
	unsigned char *dec = NULL;
	size_t len, declen = 0;
	int r;

	r = secret_file_load(key_file, TS_KEY_FILE_MAX, M2C_E_CONFIG, &b, errstr);
	if (r == M2C_E_NOTFOUND) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "token encryption key file %s does not exist: "
		    "create one with: " TS_KEY_HOWTO, key_file, key_file);
		goto out;
	}
	if (r != 0)
		goto out;
	if (b.len == TS_KEY_LEN) {
		memcpy(ts->key, b.data, TS_KEY_LEN);
		ts->has_key = 1;
		goto out;
	}
	len = b.len;
	while (len > 0 && strchr(" \t\r\n", b.data[len - 1]) != NULL)
		len--;
	if (b.data != NULL)
		b.data[len] = '\0';
	if (len == 2 * TS_KEY_LEN && hex_key(b.data, ts->key) == 0)
		ts->has_key = 1;
	else if (len > 0 && b64_decode(b.data, &dec, &declen) == 0 && declen == TS_KEY_LEN) {
		memcpy(ts->key, dec, TS_KEY_LEN);
		ts->has_key = 1;
	} else
		r = m2c_fail(errstr, M2C_E_CONFIG, "token encryption key file %s does not hold a "
		    "256-bit key (32 raw bytes, 64 hex digits or base64 of 32 bytes): make one "
		    "with: " TS_KEY_HOWTO, key_file, key_file);
out:
	if (dec != NULL) {
		wipe(dec, declen);
		free(dec);
	}
	buf_free_secret(&b);
	return r;
}

/*
 * AES-256-GCM over in (len bytes) into out (len bytes), with the account's
 * AAD.  Sealing fills tag; opening checks it.  0 or -1.
 */
static int
gcm(const struct tokenstore *ts, int seal, const unsigned char *in, size_t len,
    const unsigned char *iv, unsigned char *tag, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx;
	char *aad = xasprintf("%s%s", TS_AAD_PREFIX, ts->account);
	int n, ok = 0;

	if (len > INT_MAX || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, seal) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, TS_IV_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, ts->key, iv, seal) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto free_ctx;
	if (!seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TS_TAG_LEN, tag) != 1)
		goto free_ctx;
	if (EVP_CipherFinal_ex(ctx, out + n, &n) != 1)
		goto free_ctx;
	if (seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TS_TAG_LEN, tag) != 1)
		goto free_ctx;
	ok = 1;
free_ctx:
	EVP_CIPHER_CTX_free(ctx);
out:
	free(aad);
	return ok ? 0 : -1;
}

/* Parse a JSON document (plain text of the file, or decrypted). */
static int
parse_doc(const struct tokenstore *ts, const char *text, size_t len, json_t **out,
    char **errstr)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	/* Never quote jerr.text: it may hold a piece of a token. */
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return m2c_fail(errstr, M2C_E_DATA, "%s is damaged (not valid JSON at line %d, "
		    "column %d): sign in again: run %s login %s", ts->path,
		    jerr.line, jerr.column, ts->cmd, ts->account);
	if (!json_is_object(j) || json_integer_value(json_object_get(j, "version")) != TS_VERSION) {
		json_wipe_decref(j);
		return m2c_fail(errstr, M2C_E_DATA, "%s is not a version %d mail2cups token file: "
		    "sign in again: run %s login %s", ts->path, TS_VERSION,
		    ts->cmd, ts->account);
	}
	*out = j;
	return 0;
}

/* Open the sealed document env into *out. */
static int
doc_open_sealed(const struct tokenstore *ts, json_t *env, json_t **out, char **errstr)
{
	const char *enc = json_string_value(json_object_get(env, "enc"));
	const char *s_iv = json_string_value(json_object_get(env, "iv"));
	const char *s_tag = json_string_value(json_object_get(env, "tag"));
	const char *s_ct = json_string_value(json_object_get(env, "ct"));
	unsigned char *iv = NULL, *tag = NULL, *ct = NULL, *pt = NULL;
	size_t ivlen = 0, taglen = 0, ctlen = 0;
	int r;

	*out = NULL;
	if (!ts->has_key)
		return m2c_fail(errstr, M2C_E_CONFIG, "%s is encrypted, but no "
		    "token_encryption_key_file is set: set it to the key the tokens were saved "
		    "with, or sign in again (%s logout %s, then login %s)",
		    ts->path, ts->cmd, ts->account, ts->account);
	if (enc == NULL || strcmp(enc, TS_ENC_NAME) != 0)
		return m2c_fail(errstr, M2C_E_DATA, "%s is encrypted with a method this mail2cups "
		    "does not know: sign in again: run %s login %s", ts->path,
		    ts->cmd, ts->account);
	if (s_iv == NULL || s_tag == NULL || s_ct == NULL ||
	    b64_decode(s_iv, &iv, &ivlen) != 0 || ivlen != TS_IV_LEN ||
	    b64_decode(s_tag, &tag, &taglen) != 0 || taglen != TS_TAG_LEN ||
	    b64_decode(s_ct, &ct, &ctlen) != 0)
		goto fail;
	pt = xmalloc(ctlen + 1);
	if (gcm(ts, 0, ct, ctlen, iv, tag, pt) != 0)
		goto fail;
	r = parse_doc(ts, (const char *)pt, ctlen, out, errstr);
	goto out;
fail:
	r = m2c_fail(errstr, M2C_E_CONFIG, "cannot decrypt %s (wrong "
	    "token_encryption_key_file?): it was saved with another key, changed, or copied "
	    "from another account; set the key it was saved with, or sign in again "
	    "(%s logout %s, then login %s)", ts->path, ts->cmd, ts->account, ts->account);
out:
	if (pt != NULL) {
		wipe(pt, ctlen);
		free(pt);
	}
	free(iv);
	free(tag);
	free(ct);
	return r;
}

/*
 * The plain document of the file into *root; M2C_E_NOTFOUND (no message)
 * when there is no file.
 */
static int
doc_read(struct tokenstore *ts, json_t **root, char **errstr)
{
	struct buf b = { 0 };
	json_t *j = NULL, *plain = NULL;
	const char *acct;
	int r;

	*root = NULL;
	if ((r = secret_file_load(ts->path, TS_FILE_MAX, M2C_E_DATA, &b, errstr)) != 0)
		goto out;
	if ((r = parse_doc(ts, b.data ? b.data : "", b.len, &j, errstr)) != 0)
		goto out;
	if (json_object_get(j, "enc") != NULL) {
		if ((r = doc_open_sealed(ts, j, &plain, errstr)) != 0)
			goto out;
		json_wipe_decref(j);
		j = plain;
	} else if (ts->has_key)
		log_debug("%s is not encrypted yet: it will be at the next save", ts->path);
	acct = json_string_value(json_object_get(j, "account"));
	if (acct != NULL && strcmp(acct, ts->account) != 0) {
		r = m2c_fail(errstr, M2C_E_DATA, "%s holds the tokens of account \"%s\", not "
		    "\"%s\": sign in again: run %s login %s", ts->path, acct,
		    ts->account, ts->cmd, ts->account);
		goto out;
	}
	*root = j;
	j = NULL;
out:
	json_wipe_decref(j);
	buf_free_secret(&b);
	return r;
}

/* The JSON text of j, with a final newline; secret (free_secret). */
static char *
dump(json_t *j, size_t flags)
{
	char *text = json_dumps(j, flags), *out;

	if (text == NULL)
		return NULL;
	out = xasprintf("%s\n", text);
	free_secret(text);
	return out;
}

/* The file's text for root: plain JSON or the sealed envelope; secret. */
static char *
doc_serialize(const struct tokenstore *ts, json_t *root)
{
	unsigned char iv[TS_IV_LEN], tag[TS_TAG_LEN], *ct = NULL;
	char *text = NULL, *out = NULL;
	json_t *env = NULL;
	size_t len;

	if (!ts->has_key)
		return dump(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (RAND_bytes(iv, sizeof(iv)) != 1 ||
	    (text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	len = strlen(text);
	ct = xmalloc(len + 1);
	if (gcm(ts, 1, (const unsigned char *)text, len, iv, tag, ct) != 0)
		goto out;
	env = json_object();
	json_object_set_new(env, "version", json_integer(TS_VERSION));
	json_object_set_new(env, "enc", json_string(TS_ENC_NAME));
	set_b64(env, "iv", iv, sizeof(iv));
	set_b64(env, "tag", tag, sizeof(tag));
	set_b64(env, "ct", ct, len);
	out = dump(env, JSON_INDENT(2));
out:
	json_decref(env);
	free(ct);
	free_secret(text);
	return out;
}

static int
sync_dir(const char *dir, char **errstr)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || fsync(fd) != 0)
		r = m2c_fail(errstr, M2C_E_SYS, "cannot sync folder %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * Remove temp files a crashed save left behind.  Only called with the lock
 * held: every writer holds it, so no other save of ours is in progress.
 */
static void
remove_stale_tmp(const struct tokenstore *ts)
{
	size_t plen = strlen(ts->tmp_prefix);
	struct dirent *de;
	DIR *d;

	if ((d = opendir(ts->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ts->tmp_prefix, plen) != 0 || de->d_name[plen] != '.')
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_debug("removed %s/%s, left by an interrupted save", ts->dir,
			    de->d_name);
	}
	closedir(d);
}

/* Write data to the token file atomically: temp file, fsync, rename. */
static int
write_atomic(struct tokenstore *ts, const char *data, char **errstr)
{
	char *tmp = NULL;
	int fd, r;

	remove_stale_tmp(ts);
	if ((fd = private_tmpfile(ts->dir, ts->tmp_prefix, &tmp, errstr)) < 0)
		return fd;
	if (write_all(fd, data, strlen(data)) != 0 || fsync(fd) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	testhook_point("tokens-before-rename");
	if (rename(tmp, ts->path) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot rename %s to %s: %s", tmp, ts->path,
		    strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	r = sync_dir(ts->dir, errstr);
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	return r;
}

/* What a save changes in the document. */
struct change {
	const struct oauth_tokens *tokens;	/* set these, or NULL */
	const struct oauth_device *pending;	/* set this, or NULL */
	int clear_pending;
};

static void
apply_change(json_t *root, const struct change *c)
{
	json_t *p;

	if (c->pending != NULL || c->clear_pending)
		json_wipe(json_object_get(root, "pending"));
	if (c->tokens != NULL)
		fields_to_json(token_fields, ARRAY_SIZE(token_fields), c->tokens, root);
	if (c->pending != NULL) {
		p = json_object();
		fields_to_json(device_fields, ARRAY_SIZE(device_fields), c->pending, p);
		json_object_set_new(root, "pending", p);
	}
	if (c->clear_pending)
		json_object_del(root, "pending");
}

/* Read, change and write the document, under the lock. */
static int
doc_update(struct tokenstore *ts, const struct change *c, char **errstr)
{
	json_t *root = NULL;
	char *text = NULL, *why = NULL;
	int r, took_lock = ts->lock_fd < 0;

	if (took_lock && (r = tokenstore_lock(ts, errstr)) != 0)
		return r;
	r = doc_read(ts, &root, &why);
	if (r == M2C_E_DATA)
		log_warn("replacing a damaged token file: %s", why);
	else if (r != 0 && r != M2C_E_NOTFOUND) {
		r = m2c_fail(errstr, r, "%s", why);
		goto out;
	}
	r = 0;
	if (root == NULL)
		root = json_object();
	apply_change(root, c);
	json_object_set_new(root, "version", json_integer(TS_VERSION));
	json_object_set_new(root, "account", json_string(ts->account));
	json_object_set_new(root, "saved_at", json_integer((json_int_t)time(NULL)));
	if ((text = doc_serialize(ts, root)) == NULL) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot encode the tokens of account %s",
		    ts->account);
		goto out;
	}
	r = write_atomic(ts, text, errstr);
out:
	free(why);
	free_secret(text);
	json_wipe_decref(root);
	if (took_lock)
		tokenstore_unlock(ts);
	return r;
}

/* The tokens folder: create it, or check an existing one. */
static int
check_dir(const char *dir, char **errstr)
{
	struct stat st;
	int r;

	if ((r = mkdir_p(dir, 0700, errstr)) != 0)
		return r;
	if (lstat(dir, &st) != 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot stat %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return m2c_fail(errstr, M2C_E_CONFIG, "%s is not a folder (a symbolic link?): "
		    "replace it with a folder of mode 700", dir);
	if (st.st_uid != geteuid())
		return m2c_fail(errstr, M2C_E_CONFIG, "%s belongs to uid %u, not to the user "
		    "mail2cups runs as (uid %u): chown it to that user", dir,
		    (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 077)
		return m2c_fail(errstr, M2C_E_CONFIG, "%s has mode %04o: other users could reach "
		    "the tokens in it, so it is refused (run: chmod 700 %s)", dir,
		    (unsigned)(st.st_mode & 07777), dir);
	return 0;
}

static int
account_ok(const char *a)
{
	if (a == NULL || *a == '\0' || *a == '.')
		return 0;
	for (; *a != '\0'; a++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
		    *a) == NULL)
			return 0;
	return 1;
}

int
tokenstore_open(const char *state_dir, const char *account, const char *key_file,
    struct tokenstore **out, char **errstr)
{
	struct tokenstore *ts;
	int r;

	*out = NULL;
	if (!account_ok(account))
		return m2c_fail(errstr, M2C_E_CONFIG, "account name \"%s\" cannot name a token "
		    "file: use only letters, digits, '_', '.' and '-', not starting with '.'",
		    account ? account : "");
	ts = xcalloc(1, sizeof(*ts));
	ts->lock_fd = -1;
	ts->poll_fd = -1;
	ts->lock_timeout_ms = TS_LOCK_TIMEOUT_MS;
	ts->account = xstrdup(account);
	ts->cmd = xstrdup("mail2cups-oauth");
	ts->dir = xasprintf("%s/tokens", state_dir);
	ts->path = xasprintf("%s/%s.json", ts->dir, account);
	ts->lock_path = xasprintf("%s/%s.lock", ts->dir, account);
	ts->tmp_prefix = xasprintf("%s.tmp", account);
	if ((r = check_dir(ts->dir, errstr)) != 0)
		goto out;
	if (key_file != NULL && (r = key_load(ts, key_file, errstr)) != 0)
		goto out;
	*out = ts;
	ts = NULL;
out:
	tokenstore_close(&ts);
	return r;
}

int
tokenstore_open_conf(const struct conf *cf, const struct conf_account *a,
    struct tokenstore **out, char **errstr)
{
	int r = tokenstore_open(cf->state_dir, a->name, cf->token_key_file, out, errstr);

	if (r == 0) {
		free((*out)->cmd);
		(*out)->cmd = advice_command(cf, "mail2cups-oauth", NULL);
	}
	return r;
}

void
tokenstore_close(struct tokenstore **tsp)
{
	struct tokenstore *ts = *tsp;

	if (ts == NULL)
		return;
	tokenstore_unlock(ts);
	if (ts->poll_fd >= 0)
		close(ts->poll_fd);	/* lets another process poll */
	wipe(ts->key, sizeof(ts->key));
	free(ts->account);
	free(ts->cmd);
	free(ts->dir);
	free(ts->path);
	free(ts->lock_path);
	free(ts->tmp_prefix);
	free(ts);
	*tsp = NULL;
}

void
tokenstore_set_lock_timeout(struct tokenstore *ts, int timeout_ms)
{
	ts->lock_timeout_ms = timeout_ms < 0 ? 0 : timeout_ms;
}

int
tokenstore_lock(struct tokenstore *ts, char **errstr)
{
	struct stat st;
	long long deadline;
	int fd, r = 0;

	if (ts->lock_fd >= 0)
		return 0;
	fd = open(ts->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return m2c_fail(errstr, m2c_err_from_errno(errno), "cannot open lock file %s: %s",
		    ts->lock_path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot stat %s: %s", ts->lock_path,
		    strerror(errno));
		goto out;
	}
	if ((r = secret_check_perms(&st, ts->lock_path, errstr)) != 0)
		goto out;
	deadline = monotonic_ms() + ts->lock_timeout_ms;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = m2c_fail(errstr, M2C_E_SYS, "cannot lock %s: %s", ts->lock_path,
			    strerror(errno));
			goto out;
		}
		if (monotonic_ms() >= deadline) {
			r = m2c_fail(errstr, M2C_E_TEMP, "the tokens of account %s stayed locked "
			    "by another process for %.1f s (%s): try again later", ts->account,
			    ts->lock_timeout_ms / 1000.0, ts->lock_path);
			goto out;
		}
		usleep(TS_LOCK_POLL_US);
	}
	ts->lock_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

void
tokenstore_unlock(struct tokenstore *ts)
{
	if (ts == NULL || ts->lock_fd < 0)
		return;
	(void)flock(ts->lock_fd, LOCK_UN);
	close(ts->lock_fd);
	ts->lock_fd = -1;
}

/*
 * Read the document and fill out from the object pick() finds in it (the
 * fields f).  M2C_E_NOTFOUND, out untouched, when there is no file or
 * pick() finds nothing: the caller says what that means.
 */
static int
load_part(struct tokenstore *ts, json_t *(*pick)(json_t *root), const struct field *f,
    size_t n, void *out, char **errstr)
{
	json_t *root = NULL, *obj = NULL;
	int r;

	r = doc_read(ts, &root, errstr);
	if (r == 0 && (obj = pick(root)) == NULL)
		r = M2C_E_NOTFOUND;
	if (r == 0)
		r = fields_from_json(ts, f, n, obj, out, errstr);
	json_wipe_decref(root);
	return r;
}

/* The document itself, unless its access token is missing, null or empty
 * (signed out); one of the wrong type is damage, which the fields report. */
static json_t *
pick_tokens(json_t *root)
{
	json_t *at = json_object_get(root, "access_token");

	if (at == NULL || json_is_null(at) || (json_is_string(at) && json_string_length(at) == 0))
		return NULL;
	return root;
}

/* Its pending device sign-in. */
static json_t *
pick_pending(json_t *root)
{
	json_t *p = json_object_get(root, "pending");

	return json_is_object(p) ? p : NULL;
}

int
tokenstore_load(struct tokenstore *ts, struct oauth_tokens *t, char **errstr)
{
	int r;

	memset(t, 0, sizeof(*t));
	r = load_part(ts, pick_tokens, token_fields, ARRAY_SIZE(token_fields), t, errstr);
	if (r == M2C_E_NOTFOUND)
		r = m2c_fail(errstr, M2C_E_SIGNIN, "sign-in required: no tokens for account %s "
		    "(nobody has signed in, or they signed out)", ts->account);
	return r;
}

int
tokenstore_save(struct tokenstore *ts, const struct oauth_tokens *t, char **errstr)
{
	struct change c = { .tokens = t };

	return doc_update(ts, &c, errstr);
}

int
tokenstore_load_pending(struct tokenstore *ts, struct oauth_device *d, char **errstr)
{
	int r;

	memset(d, 0, sizeof(*d));
	r = load_part(ts, pick_pending, device_fields, ARRAY_SIZE(device_fields), d, errstr);
	if (r == M2C_E_NOTFOUND)
		r = m2c_fail(errstr, M2C_E_NOTFOUND, "no sign-in is pending for account %s",
		    ts->account);
	return r;
}

int
tokenstore_save_pending(struct tokenstore *ts, const struct oauth_device *d, char **errstr)
{
	struct change c = { .pending = d };

	return doc_update(ts, &c, errstr);
}

int
tokenstore_clear_pending(struct tokenstore *ts, char **errstr)
{
	struct change c = { .clear_pending = 1 };

	return doc_update(ts, &c, errstr);
}

int
tokenstore_remove(struct tokenstore *ts, char **errstr)
{
	int r, took_lock = ts->lock_fd < 0;

	if (took_lock && (r = tokenstore_lock(ts, errstr)) != 0)
		return r;
	if (unlink(ts->path) != 0 && errno != ENOENT)
		r = m2c_fail(errstr, M2C_E_SYS, "cannot remove %s: %s", ts->path, strerror(errno));
	else
		r = sync_dir(ts->dir, errstr);
	if (took_lock)
		tokenstore_unlock(ts);
	return r;
}

int
tokenstore_poll_claim(struct tokenstore *ts, char **errstr)
{
	char *path;
	int fd, r = 0;

	if (ts->poll_fd >= 0)
		return 0;
	path = xasprintf("%s/%s.poll", ts->dir, ts->account);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot open %s: %s", path, strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? m2c_fail(errstr, M2C_E_TEMP, "another process polls "
		    "the sign-in of account %s", ts->account) :
		    m2c_fail(errstr, M2C_E_SYS, "cannot lock %s: %s", path, strerror(errno));
		close(fd);
	} else {
		ts->poll_fd = fd;
	}
	free(path);
	return r;
}
