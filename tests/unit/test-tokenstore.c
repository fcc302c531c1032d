/* test-tokenstore.c - tokenstore.c: files, modes, atomicity, encryption, locking. */
#include "m2c-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "error.h"
#include "log.h"
#include "tap.h"
#include "testhook.h"
#include "tokenstore.h"
#include "util.h"

#define CHILDREN 20
#define ACCT "office"

static char *base;		/* the test's private folder under /tmp */
static int state_seq;

/* A fresh state_dir for one test; allocated. */
static char *
new_state(void)
{
	return xasprintf("%s/state%d", base, ++state_seq);
}

static void
sample_tokens(struct oauth_tokens *t, const char *access)
{
	t->access_token = xstrdup(access);
	t->refresh_token = xstrdup("refresh-0.AXEA-secret");
	t->id_token = xstrdup("eyJhbGciOiJub25lIn0.eyJ1cG4iOiJhIn0.");
	t->scope = xstrdup("https://outlook.office.com/IMAP.AccessAsUser.All offline_access");
	t->expires_at = 1893456000;
	t->identity = xstrdup("print@contoso.com");
}

static void
sample_device(struct oauth_device *d)
{
	d->device_code = xstrdup("DAQABAAEAAAD-device-secret");
	d->user_code = xstrdup("ABCD-EFGH");
	d->verification_uri = xstrdup("https://microsoft.com/devicelogin");
	d->verification_uri_complete = xstrdup("https://microsoft.com/devicelogin?code=ABCD-EFGH");
	d->message = xstrdup("To sign in, use a web browser to open the page ...");
	d->expires_at = 1893450000;
	d->interval = 5;
}

static char *
path_of(const char *state, const char *name)
{
	return xasprintf("%s/tokens/%s", state, name);
}

static void
file_write(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write_all(fd, text, strlen(text)) != 0 || fchmod(fd, mode) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(99);
	}
	close(fd);
}

static void
file_copy(const char *from, const char *to)
{
	char *s = tap_read_file(from, NULL);

	file_write(to, s ? s : "", 0600);
	free(s);
}

/* Number of leftover temp files of ACCT in state's tokens folder. */
static int
count_tmp(const char *state)
{
	char *dir = xasprintf("%s/tokens", state);
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += str_has_prefix(de->d_name, ACCT ".tmp.");
	if (d != NULL)
		closedir(d);
	free(dir);
	return n;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* Open ACCT's store in state (with key or NULL); bail out on failure. */
static struct tokenstore *
must_open(const char *state, const char *key)
{
	struct tokenstore *ts = NULL;
	char *err = NULL;

	if (tokenstore_open(state, ACCT, key, &ts, &err) != 0) {
		printf("Bail out! tokenstore_open: %s\n", err);
		exit(99);
	}
	return ts;
}

/* Save sample tokens with this access token; 0 or the error code. */
static int
save_access(struct tokenstore *ts, const char *access)
{
	struct oauth_tokens t = { 0 };
	int r;

	sample_tokens(&t, access);
	r = tokenstore_save(ts, &t, NULL);
	oauth_tokens_clear(&t);
	return r;
}

/* The stored access token (allocated), or NULL with *code set. */
static char *
load_access(struct tokenstore *ts, int *code, char **err)
{
	struct oauth_tokens t = { 0 };
	char *s;

	*code = tokenstore_load(ts, &t, err);
	s = t.access_token;
	t.access_token = NULL;
	oauth_tokens_clear(&t);
	return s;
}

/* Load and expect failure code with a message containing want. */
static void
expect_load_error(struct tokenstore *ts, int code, const char *want, const char *what)
{
	char *err = NULL, *s;
	int r;

	s = load_access(ts, &r, &err);
	is_int(r, code, "%s: load fails with %s", what, m2c_err_name(code));
	has_str(err, want, "%s: the message says \"%s\"", what, want);
	ok(s == NULL, "%s: no token handed out", what);
	free_secret(s);
	free(err);
}

static void
test_round_trip(void)
{
	struct oauth_tokens t = { 0 }, u = { 0 };
	struct tokenstore *ts;
	char *state = new_state(), *p, *dir;
	int r;

	ts = must_open(state, NULL);
	sample_tokens(&t, "EwBwA8l6-access-secret");
	is_int(tokenstore_save(ts, &t, NULL), 0, "save tokens");
	r = tokenstore_load(ts, &u, NULL);
	is_int(r, 0, "load tokens");
	is_str(u.access_token, t.access_token, "access_token survives");
	is_str(u.refresh_token, t.refresh_token, "refresh_token survives");
	is_str(u.id_token, t.id_token, "id_token survives");
	is_str(u.scope, t.scope, "scope survives");
	is_int(u.expires_at, t.expires_at, "expires_at survives");
	is_str(u.identity, t.identity, "identity survives");
	oauth_tokens_clear(&u);

	/* NULL fields stay NULL (and a former value is dropped). */
	free_secret(t.refresh_token);
	free_secret(t.id_token);
	t.refresh_token = t.id_token = NULL;
	t.expires_at = 0;
	is_int(tokenstore_save(ts, &t, NULL), 0, "save tokens without refresh/id token");
	is_int(tokenstore_load(ts, &u, NULL), 0, "load them");
	ok(u.refresh_token == NULL && u.id_token == NULL && u.expires_at == 0,
	    "absent fields load as NULL / 0");
	is_str(u.access_token, t.access_token, "access_token still there");
	oauth_tokens_clear(&u);
	oauth_tokens_clear(&t);

	p = path_of(state, ACCT ".json");
	dir = xasprintf("%s/tokens", state);
	is_int(mode_of(p), 0600, "token file is 0600");
	is_int(mode_of(dir), 0700, "tokens folder is 0700 (created)");
	is_int(count_tmp(state), 0, "no temp file left after saves");
	free(p);
	free(dir);

	/* The loaded tokens are registered with the logger. */
	is_int(tokenstore_load(ts, &u, NULL), 0, "load again");
	tokenstore_close(&ts);
	ok(ts == NULL, "tokenstore_close sets the pointer to NULL");
	tokenstore_close(&ts);
	oauth_tokens_clear(&u);
	free(state);
}

static char *last_log;

static void
log_sink(enum log_level lvl, const char *line, void *arg)
{
	free(last_log);
	last_log = xstrdup(line);
}

static void
test_redaction(void)
{
	struct oauth_tokens t = { 0 };
	struct tokenstore *ts;
	char *state = new_state();

	ts = must_open(state, NULL);
	save_access(ts, "redact-me-access-token");
	log_secret_clear();
	is_int(tokenstore_load(ts, &t, NULL), 0, "load for redaction check");
	log_set_sink(log_sink, NULL);
	log_error("token is %s and %s", t.access_token, t.refresh_token);
	log_set_sink(NULL, NULL);
	ok(last_log && !strstr(last_log, "redact-me") && !strstr(last_log, "refresh-0"),
	    "loaded access and refresh tokens are redacted from logs");
	has_str(last_log, "[redacted]", "the log line says [redacted]");
	free(last_log);
	last_log = NULL;
	oauth_tokens_clear(&t);
	tokenstore_close(&ts);
	free(state);
}

static void
test_pending(void)
{
	struct oauth_device d = { 0 }, e = { 0 };
	struct oauth_tokens u = { 0 };
	struct tokenstore *ts;
	char *state = new_state(), *err = NULL;

	ts = must_open(state, NULL);
	is_int(tokenstore_load_pending(ts, &e, &err), M2C_E_NOTFOUND,
	    "no pending sign-in before anything is saved");
	has_str(err, "no sign-in is pending", "and says so");
	free(err);
	err = NULL;

	sample_device(&d);
	is_int(tokenstore_save_pending(ts, &d, NULL), 0, "save a pending device code");
	expect_load_error(ts, M2C_E_SIGNIN, "no tokens", "pending only");
	is_int(tokenstore_load_pending(ts, &e, NULL), 0, "load the pending device code");
	is_str(e.device_code, d.device_code, "device_code survives");
	is_str(e.user_code, d.user_code, "user_code survives");
	is_str(e.verification_uri, d.verification_uri, "verification_uri survives");
	is_str(e.verification_uri_complete, d.verification_uri_complete,
	    "verification_uri_complete survives");
	is_str(e.message, d.message, "message survives");
	is_int(e.expires_at, d.expires_at, "pending expires_at survives");
	is_int(e.interval, d.interval, "interval survives");
	oauth_device_clear(&e);

	is_int(save_access(ts, "tokens-next-to-pending"), 0, "save tokens while pending");
	is_int(tokenstore_load_pending(ts, &e, NULL), 0, "pending kept by a tokens save");
	is_str(e.user_code, "ABCD-EFGH", "same user code");
	oauth_device_clear(&e);
	free(d.user_code);
	d.user_code = xstrdup("WXYZ-1234");
	is_int(tokenstore_save_pending(ts, &d, NULL), 0, "replace the pending code");
	is_int(tokenstore_load(ts, &u, NULL), 0, "tokens kept by a pending save");
	is_str(u.access_token, "tokens-next-to-pending", "same access token");
	oauth_tokens_clear(&u);
	is_int(tokenstore_load_pending(ts, &e, NULL), 0, "load the new pending code");
	is_str(e.user_code, "WXYZ-1234", "the new user code");
	oauth_device_clear(&e);

	is_int(tokenstore_clear_pending(ts, NULL), 0, "clear pending");
	is_int(tokenstore_load_pending(ts, &e, NULL), M2C_E_NOTFOUND, "pending is gone");
	is_int(tokenstore_load(ts, &u, NULL), 0, "tokens kept by clear_pending");
	oauth_tokens_clear(&u);
	oauth_device_clear(&d);
	tokenstore_close(&ts);
	free(state);
}

static void
test_missing_and_remove(void)
{
	struct tokenstore *ts;
	char *state = new_state(), *p;

	ts = must_open(state, NULL);
	expect_load_error(ts, M2C_E_SIGNIN, "no tokens for account " ACCT,
	    "missing file");
	expect_load_error(ts, M2C_E_SIGNIN, "signed out", "missing file");
	save_access(ts, "to-be-removed");
	is_int(tokenstore_remove(ts, NULL), 0, "logout removes the tokens");
	p = path_of(state, ACCT ".json");
	ok(access(p, F_OK) != 0 && errno == ENOENT, "the token file is gone");
	expect_load_error(ts, M2C_E_SIGNIN, "no tokens", "after logout");
	is_int(tokenstore_remove(ts, NULL), 0, "logout with no tokens is fine");
	free(p);
	tokenstore_close(&ts);
	free(state);
}

static void
test_permissions(void)
{
	struct tokenstore *ts = NULL;
	char *state = new_state(), *p, *dir, *err = NULL, *other;

	ts = must_open(state, NULL);
	save_access(ts, "perm-test");
	p = path_of(state, ACCT ".json");
	chmod(p, 0644);
	expect_load_error(ts, M2C_E_CONFIG, "chmod 600", "0644 token file");
	expect_load_error(ts, M2C_E_CONFIG, "mode 0644", "0644 token file");
	is_int(save_access(ts, "x"), M2C_E_CONFIG, "a 0644 token file is not silently replaced");
	chmod(p, 0600);

	/* A symlink to a good file is still refused. */
	other = xasprintf("%s/elsewhere.json", base);
	file_copy(p, other);
	unlink(p);
	if (symlink(other, p) != 0)
		printf("# symlink: %s\n", strerror(errno));
	expect_load_error(ts, M2C_E_CONFIG, "symbolic link", "symlinked token file");
	unlink(p);
	unlink(other);
	free(other);
	tokenstore_close(&ts);

	dir = xasprintf("%s/tokens", state);
	chmod(dir, 0755);
	is_int(tokenstore_open(state, ACCT, NULL, &ts, &err), M2C_E_CONFIG,
	    "a 0755 tokens folder is refused");
	has_str(err, "has mode 0755", "the message gives the mode");
	has_str(err, "chmod 700", "the message gives the fix");
	ok(ts == NULL, "no store on failure");
	free(err);
	err = NULL;
	chmod(dir, 0700);
	free(dir);
	free(p);
	free(state);
}

static void
test_account_names(void)
{
	static const char *bad[] = { "", ".hidden", "..", "../x", "a/b", "a b", "x\n" };
	struct tokenstore *ts = NULL;
	char *state = new_state(), *err = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		is_int(tokenstore_open(state, bad[i], NULL, &ts, &err), M2C_E_CONFIG,
		    "account name #%zu refused", i);
		ok(ts == NULL, "account name #%zu: no store", i);
		free(err);
		err = NULL;
	}
	is_int(tokenstore_open(state, "A-b_c.9", NULL, &ts, &err), 0, "A-b_c.9 is accepted");
	tokenstore_close(&ts);
	free(state);
}

static void
test_corrupt(void)
{
	static const char *bad[] = {
		"{\"version\": 1, \"access_token\": \"SECRETXYZ",
		"",
		"[1, 2]",
		"{\"version\": 2, \"access_token\": \"a\"}",
		"{\"version\": 1, \"access_token\": 42}",
		"{\"version\": 1, \"access_token\": \"a\", \"access_token\": \"b\"}",
	};
	struct tokenstore *ts;
	char *state = new_state(), *p, *q, *err = NULL, *s;
	int r;

	ts = must_open(state, NULL);
	p = path_of(state, ACCT ".json");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		file_write(p, bad[i], 0600);
		s = load_access(ts, &r, &err);
		is_int(r, M2C_E_DATA, "damaged file #%zu: M2C_E_DATA", i);
		has_str(err, p, "damaged file #%zu: the message names the file", i);
		has_str(err, "login " ACCT, "damaged file #%zu: the message says to log in", i);
		ok(err && !strstr(err, "SECRETXYZ"), "damaged file #%zu: no token text quoted", i);
		free_secret(s);
		free(err);
		err = NULL;
	}
	/* Over the size cap. */
	{
		struct buf big = { 0 };

		buf_appendf(&big, "{\"version\": 1, \"access_token\": \"a\"");
		while (big.len <= 1024 * 1024)
			buf_appendf(&big, "%64s", "");
		buf_appendc(&big, '}');
		file_write(p, big.data, 0600);
		buf_free(&big);
		expect_load_error(ts, M2C_E_DATA, "larger than", "a file over 1 MiB");
	}
	/* A damaged pending part. */
	{
		struct oauth_device d = { 0 };

		file_write(p, "{\"version\": 1, \"pending\": {\"interval\": -1}}", 0600);
		is_int(tokenstore_load_pending(ts, &d, &err), M2C_E_DATA,
		    "a negative pending interval is damage");
		has_str(err, "\"interval\"", "naming the member");
		free(err);
		err = NULL;
		file_write(p, "{\"version\": 1, \"pending\": {\"user_code\": \"A\", "
		    "\"device_code\": [1]}}", 0600);
		is_int(tokenstore_load_pending(ts, &d, NULL), M2C_E_DATA,
		    "a device_code of the wrong type is damage");
		ok(d.user_code == NULL, "nothing half-filled is handed out");
	}
	is_int(save_access(ts, "after-damage"), 0, "a save replaces a damaged file");
	s = load_access(ts, &r, NULL);
	is_str(s, "after-damage", "and it loads again");
	free_secret(s);

	/* A file copied from another account is refused. */
	q = path_of(state, "other.json");
	file_copy(p, q);
	{
		struct tokenstore *o = NULL;

		tokenstore_open(state, "other", NULL, &o, NULL);
		expect_load_error(o, M2C_E_DATA, "holds the tokens of account", "copied plain file");
		tokenstore_close(&o);
	}
	free(q);
	free(p);
	tokenstore_close(&ts);
	free(state);
}

/* Run ourselves to save "crashed" and stop at the hook before the rename. */
static int
run_crash_save(const char *state)
{
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		char *argv[] = { "test-tokenstore", "crash-save", (char *)state, NULL };

		char *errlog = xasprintf("%s/crash.err", base);
		int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0)
			dup2(fd, 2);
		setenv("MAIL2CUPS_TEST_STOP_AT", "tokens-before-rename", 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
test_atomic(void)
{
	struct tokenstore *ts;
	char *state = new_state(), *s, *err;
	int r;

	ts = must_open(state, NULL);
	save_access(ts, "last-good");
	is_int(run_crash_save(state), TESTHOOK_EXIT, "a save crashes before the rename");
	s = xasprintf("%s/crash.err", base);
	err = tap_read_file(s, NULL);
	has_str(err, "stopping at tokens-before-rename", "at the tokens-before-rename hook");
	free(err);
	free(s);
	is_int(count_tmp(state), 1, "the crash left its temp file");
	s = load_access(ts, &r, NULL);
	is_int(r, 0, "load after the crash");
	is_str(s, "last-good", "load reads the last good file");
	free_secret(s);
	is_int(save_access(ts, "next"), 0, "the next save works");
	is_int(count_tmp(state), 0, "and removes the stale temp file");
	tokenstore_close(&ts);
	free(state);
}

/* Write a key file; allocated path. */
static char *
key_file(const char *name, const char *content, size_t len, mode_t mode)
{
	char *p = xasprintf("%s/%s", base, name);
	int fd;

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write_all(fd, content, len) != 0 || fchmod(fd, mode) != 0)
		exit(99);
	close(fd);
	return p;
}

#define HEXKEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void
test_keys(void)
{
	static const struct { const char *content; size_t len; int want; } t[] = {
		{ HEXKEY "\n", sizeof(HEXKEY), 0 },
		{ "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=\n", 45, 0 },
		{ "0123456789abcdef0123456789abcdef", 32, 0 },	/* raw 32 bytes */
		{ "too short\n", 10, M2C_E_CONFIG },
		{ HEXKEY "0\n", sizeof(HEXKEY) + 1, M2C_E_CONFIG },
		{ "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7g==\n", 45, M2C_E_CONFIG },
		{ "", 0, M2C_E_CONFIG },
	};
	struct tokenstore *ts = NULL;
	char *state = new_state(), *k, *err = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		k = key_file("key", t[i].content, t[i].len, 0600);
		is_int(tokenstore_open(state, ACCT, k, &ts, &err), t[i].want, "key file #%zu", i);
		if (t[i].want != 0)
			has_str(err, "256-bit key", "key file #%zu: says what a key is", i);
		else
			ok(tokenstore_remove(ts, NULL) == 0 && save_access(ts, "k") == 0,
			    "key file #%zu: a save works", i);
		tokenstore_close(&ts);
		free(err);
		err = NULL;
		free(k);
	}
	k = key_file("key", HEXKEY, 64, 0644);
	is_int(tokenstore_open(state, ACCT, k, &ts, &err), M2C_E_CONFIG, "a 0644 key is refused");
	has_str(err, "chmod 600", "with the fix");
	free(err);
	err = NULL;
	unlink(k);
	is_int(tokenstore_open(state, ACCT, k, &ts, &err), M2C_E_CONFIG, "a missing key file");
	has_str(err, "openssl rand", "says how to make one");
	free(err);
	free(k);
	free(state);
}

/* Change one base64 character of member name of the JSON file at p. */
static void
tamper(const char *p, const char *name)
{
	char *s = tap_read_file(p, NULL), *v, *out;
	json_t *j = json_loads(s, 0, NULL);

	v = xstrdup(json_string_value(json_object_get(j, name)));
	v[0] = v[0] == 'A' ? 'B' : 'A';
	json_object_set_new(j, name, json_string(v));
	out = json_dumps(j, 0);
	file_write(p, out, 0600);
	free(out);
	free(v);
	json_decref(j);
	free(s);
}

static void
test_encryption(void)
{
	struct oauth_tokens u = { 0 };
	struct tokenstore *ts, *plain, *other;
	char *state = new_state(), *k1, *k2, *p, *q, *s;
	int r;

	k1 = key_file("k1", HEXKEY "\n", 65, 0600);
	k2 = key_file("k2", "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
	    64, 0600);
	p = path_of(state, ACCT ".json");
	q = path_of(state, "other.json");

	ts = must_open(state, k1);
	is_int(save_access(ts, "sealed-access-token"), 0, "save encrypted");
	is_int(tokenstore_load(ts, &u, NULL), 0, "load encrypted");
	is_str(u.access_token, "sealed-access-token", "access token round trip");
	is_str(u.refresh_token, "refresh-0.AXEA-secret", "refresh token round trip");
	is_str(u.identity, "print@contoso.com", "identity round trip");
	oauth_tokens_clear(&u);
	s = tap_read_file(p, NULL);
	ok(s && !strstr(s, "sealed-access") && !strstr(s, "refresh-0") && !strstr(s, "contoso"),
	    "the file holds no token in clear");
	has_str(s, "\"A256GCM\"", "the file says A256GCM");
	free(s);
	is_int(mode_of(p), 0600, "encrypted file is 0600");
	tokenstore_close(&ts);

	ts = must_open(state, k2);
	expect_load_error(ts, M2C_E_CONFIG, "wrong token_encryption_key_file?", "wrong key");
	is_int(save_access(ts, "x"), M2C_E_CONFIG, "a wrong key does not overwrite the file");
	tokenstore_close(&ts);

	plain = must_open(state, NULL);
	expect_load_error(plain, M2C_E_CONFIG, "no token_encryption_key_file", "no key");
	tokenstore_close(&plain);

	/* Swap between accounts: same key, other AAD. */
	file_copy(p, q);
	other = NULL;
	tokenstore_open(state, "other", k1, &other, NULL);
	expect_load_error(other, M2C_E_CONFIG, "cannot decrypt", "file moved to another account");
	tokenstore_close(&other);

	ts = must_open(state, k1);
	s = tap_read_file(p, NULL);
	tamper(p, "ct");
	expect_load_error(ts, M2C_E_CONFIG, "cannot decrypt", "tampered ciphertext");
	file_write(p, s, 0600);
	tamper(p, "tag");
	expect_load_error(ts, M2C_E_CONFIG, "cannot decrypt", "tampered tag");
	file_write(p, s, 0600);
	tamper(p, "iv");
	expect_load_error(ts, M2C_E_CONFIG, "cannot decrypt", "tampered iv");
	file_write(p, s, 0600);
	free(s);
	s = load_access(ts, &r, NULL);
	is_str(s, "sealed-access-token", "the restored file loads");
	free_secret(s);
	tokenstore_close(&ts);

	/* Migration: a plain file is read with a key and sealed at the next save. */
	plain = must_open(state, NULL);
	tokenstore_remove(plain, NULL);
	save_access(plain, "was-plain");
	tokenstore_close(&plain);
	ts = must_open(state, k1);
	s = load_access(ts, &r, NULL);
	is_str(s, "was-plain", "a plain file loads with a key set");
	free_secret(s);
	s = tap_read_file(p, NULL);
	has_str(s, "was-plain", "still plain before the next save");
	free(s);
	is_int(tokenstore_clear_pending(ts, NULL), 0, "the next save");
	s = tap_read_file(p, NULL);
	ok(s && !strstr(s, "was-plain") && strstr(s, "A256GCM"), "now encrypted");
	free(s);
	s = load_access(ts, &r, NULL);
	is_str(s, "was-plain", "and loads");
	free_secret(s);
	tokenstore_close(&ts);

	free(p);
	free(q);
	free(k1);
	free(k2);
	free(state);
}

static void
test_lock_basic(void)
{
	struct tokenstore *a, *b;
	char *state = new_state(), *err = NULL;
	long long t0;

	a = must_open(state, NULL);
	b = must_open(state, NULL);
	is_int(tokenstore_lock(a, NULL), 0, "lock");
	is_int(tokenstore_lock(a, NULL), 0, "locking again in the same store is a no-op");
	tokenstore_set_lock_timeout(b, 200);
	t0 = monotonic_ms();
	is_int(tokenstore_lock(b, &err), M2C_E_TEMP, "a second holder times out");
	ok(monotonic_ms() - t0 >= 190, "after the timeout");
	has_str(err, "try again later", "and says to try again");
	free(err);
	is_int(save_access(a, "saved-under-lock"), 0, "the holder can save");
	tokenstore_unlock(a);
	tokenstore_unlock(a);
	is_int(tokenstore_lock(b, NULL), 0, "after unlock the other store locks");
	{
		char *lp = path_of(state, ACCT ".lock");
		is_int(mode_of(lp), 0600, "lock file is 0600");
		free(lp);
	}
	tokenstore_close(&b);	/* releases the lock */
	is_int(tokenstore_lock(a, NULL), 0, "close released the lock");
	tokenstore_close(&a);
	free(state);
}

static void
append_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	if (fd >= 0) {
		(void)write_all(fd, line, strlen(line));
		close(fd);
	}
}

/* One `token` call: lock, load, refresh if still "old", save, unlock. */
static int
child_refresh(const char *state, const char *side)
{
	struct oauth_tokens t = { 0 };
	struct tokenstore *ts = NULL;
	char *line;

	if (tokenstore_open(state, ACCT, NULL, &ts, NULL) != 0 ||
	    tokenstore_lock(ts, NULL) != 0 || tokenstore_load(ts, &t, NULL) != 0)
		return 1;
	if (strcmp(t.access_token, "old") == 0) {
		usleep(100000);	/* the request to the identity provider */
		free_secret(t.access_token);
		t.access_token = xasprintf("new-%d", (int)getpid());
		if (tokenstore_save(ts, &t, NULL) != 0)
			return 1;
		line = xasprintf("R %s\n", t.access_token);
		append_line(side, line);
		free(line);
	}
	tokenstore_unlock(ts);
	line = xasprintf("S %s\n", t.access_token);
	append_line(side, line);
	free(line);
	oauth_tokens_clear(&t);
	tokenstore_close(&ts);
	return 0;
}

static void
test_lock_concurrent(void)
{
	struct tokenstore *ts;
	char *state = new_state(), *side = xasprintf("%s/side.txt", base), *s, *line, *tok;
	int gate[2], failed = 0, refreshes = 0, seen = 0, same = 1, r;
	char *saveptr = NULL;

	ts = must_open(state, NULL);
	save_access(ts, "old");
	if (pipe(gate) != 0)
		exit(99);
	fflush(stdout);
	for (int i = 0; i < CHILDREN; i++) {
		pid_t pid = fork();
		char c;

		if (pid == 0) {
			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(child_refresh(state, side));
		}
		if (pid < 0)
			failed++;
	}
	close(gate[0]);
	close(gate[1]);		/* let them all go at once */
	for (int i = 0; i < CHILDREN; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	is_int(failed, 0, "%d concurrent token calls all succeed", CHILDREN);
	s = tap_read_file(side, NULL);
	tok = load_access(ts, &r, NULL);
	for (line = strtok_r(s ? s : "", "\n", &saveptr); line != NULL;
	    line = strtok_r(NULL, "\n", &saveptr)) {
		if (line[0] == 'R')
			refreshes++;
		else
			seen++;
		if (tok == NULL || strcmp(line + 2, tok) != 0)
			same = 0;
	}
	is_int(refreshes, 1, "exactly one of them refreshed");
	is_int(seen, CHILDREN, "all of them got a token");
	ok(same && tok && str_has_prefix(tok, "new-"), "all ended with the one new token (%s)",
	    tok ? tok : "none");
	free_secret(tok);
	free(s);
	free(side);
	tokenstore_close(&ts);
	free(state);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(int argc, char **argv)
{
	char tmpl[] = "/tmp/test-tokenstore.XXXXXX";

	if (argc == 3 && strcmp(argv[1], "crash-save") == 0) {
		struct tokenstore *ts = NULL;

		base = argv[2];
		if (tokenstore_open(argv[2], ACCT, NULL, &ts, NULL) != 0)
			return 1;
		save_access(ts, "crashed");
		tokenstore_close(&ts);
		return 0;
	}
	log_init("test-tokenstore", 0, LOG_LVL_ERROR);
	umask(022);
	if ((base = mkdtemp(tmpl)) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 99;
	}
	test_round_trip();
	test_redaction();
	test_pending();
	test_missing_and_remove();
	test_permissions();
	test_account_names();
	test_corrupt();
	test_atomic();
	test_keys();
	test_encryption();
	test_lock_basic();
	test_lock_concurrent();
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	log_secret_clear();
	return tap_done();
}
