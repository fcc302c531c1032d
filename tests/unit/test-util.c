/* test-util.c - util.c and error.c. */
#include "m2c-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "error.h"
#include "tap.h"
#include "util.h"

static void
test_wildcard(void)
{
	static const struct { const char *pat, *s; int want; } t[] = {
		{ "*@contoso.com", "alice@contoso.com", 1 },
		{ "*@contoso.com", "ALICE@Contoso.COM", 1 },
		{ "*@contoso.com", "alice@evil-contoso.com", 0 },
		{ "*@contoso.com", "alice@contoso.com.evil.org", 0 },
		{ "*@contoso.com", "\"x@contoso.com\"@evil.org", 0 },
		{ "partner@example.org", "partner@example.org", 1 },
		{ "partner@example.org", "partner@example.org.uk", 0 },
		{ "partner@example.org", "xpartner@example.org", 0 },
		{ "*@*.contoso.com", "bob@mail.contoso.com", 1 },
		{ "*@*.contoso.com", "bob@contoso.com", 0 },
		{ "a?c@x", "abc@x", 1 },
		{ "a?c@x", "ac@x", 0 },
		{ "*", "", 1 },
		{ "", "a", 0 },
		{ "**@x", "a@x", 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(str_wildcard_match(t[i].pat, t[i].s), t[i].want, "wildcard \"%s\" vs \"%s\"",
		    t[i].pat, t[i].s);
}

static void
test_buf(void)
{
	struct buf b = { 0 };
	char *s;

	for (int i = 0; i < 1000; i++)
		buf_appendf(&b, "%d,", i);
	ok(b.len > 1000 && b.data[b.len] == '\0', "buf grows and stays NUL-terminated");
	has_str(b.data, "999,", "buf holds everything appended");
	buf_reset(&b);
	buf_appendf(&b, "%s", "x");
	buf_appendf(&b, "%0200d|", 7);
	is_int(b.len, 202, "a long buf_appendf in one piece");
	ok(b.data[0] == 'x' && b.data[200] == '7' && b.data[201] == '|' && b.data[202] == '\0',
	    "appended after what was there, NUL-terminated");
	buf_reset(&b);
	is_int(b.len, 0, "buf_reset empties");
	buf_append(&b, "a\0b", 3);
	is_int(b.len, 3, "buf holds NUL bytes");
	s = buf_steal(&b);
	ok(b.data == NULL && b.len == 0, "buf_steal leaves an empty buf");
	free(s);
	s = buf_steal(&b);
	is_str(s, "", "buf_steal of an empty buf is \"\"");
	free(s);
}

static void
test_errors(void)
{
	char *e = NULL;

	is_int(m2c_fail(&e, M2C_E_DATA, "bad %d", 7), M2C_E_DATA, "m2c_fail returns its code");
	is_str(e, "bad 7", "m2c_fail formats the message");
	m2c_fail(&e, M2C_E_TEMP, "second");
	is_str(e, "second", "m2c_fail replaces an earlier message");
	free(e);
	is_int(m2c_fail(NULL, M2C_E_SYS, "x"), M2C_E_SYS, "m2c_fail with no errstr");
	is_int(m2c_err_exit_code(M2C_OK), EX_OK, "ok -> 0");
	is_int(m2c_err_exit_code(M2C_E_CONFIG), EX_CONFIG, "config -> 78");
	is_int(m2c_err_exit_code(M2C_E_AUTH), EX_NOPERM, "auth -> 77");
	is_int(m2c_err_exit_code(M2C_E_SIGNIN), EX_NOPERM, "sign-in required -> 77");
	ok(strcmp(m2c_err_name(M2C_E_SIGNIN), m2c_err_name(M2C_E_AUTH)) != 0,
	    "sign-in required and credentials refused have their own names");
	is_int(m2c_err_exit_code(M2C_E_UNAVAIL), EX_UNAVAILABLE, "unavailable -> 69");
	is_int(m2c_err_exit_code(M2C_E_TIMEOUT), EX_TEMPFAIL, "timeout -> 75");
	is_int(m2c_err_exit_code(M2C_E_DATA), EX_DATAERR, "data -> 65");
	is_int(m2c_err_exit_code(M2C_E_USAGE), EX_USAGE, "usage -> 64");
	ok(m2c_err_is_temporary(M2C_E_UNAVAIL) && m2c_err_is_temporary(M2C_E_TIMEOUT),
	    "unreachable and timeout are temporary");
	ok(!m2c_err_is_temporary(M2C_E_REFUSED) && !m2c_err_is_temporary(M2C_E_AUTH) &&
	    !m2c_err_is_temporary(M2C_E_SIGNIN) && !m2c_err_is_temporary(M2C_E_CONFIG),
	    "refused, auth, sign-in and config are permanent");
}

static void
test_files(void)
{
	char dir[] = "/tmp/m2c-util.XXXXXX", *sub, *path = NULL, *e = NULL;
	struct stat st;
	int fd;

	ok(mkdtemp(dir) != NULL, "mkdtemp");
	sub = xasprintf("%s/a/b/c", dir);
	is_int(mkdir_p(sub, 0700, &e), 0, "mkdir_p creates parents");
	ok(stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	    "mkdir_p mode 0700");
	is_int(mkdir_p(sub, 0700, &e), 0, "mkdir_p accepts an existing directory");
	fd = private_tmpfile(sub, "part", &path, &e);
	ok(fd >= 0 && path != NULL, "private_tmpfile");
	ok(fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600, "scratch file is 0600");
	is_int(write_all(fd, "hello", 5), 0, "write_all");
	close(fd);
	is_int(mkdir_p(path, 0700, &e), M2C_E_SYS, "mkdir_p over a file fails");
	has_str(e, "not a directory", "... saying so");
	unlink(path);
	free(path);
	free(e);
	e = NULL;
	fd = private_tmpfile("/nonexistent-dir", "part", NULL, &e);
	ok(fd < 0, "private_tmpfile in a missing dir fails");
	has_str(e, "/nonexistent-dir", "... naming the dir");
	free(e);
	rmdir(sub);
	*strrchr(sub, '/') = '\0';
	rmdir(sub);
	*strrchr(sub, '/') = '\0';
	rmdir(sub);
	rmdir(dir);
	free(sub);
}

static void
test_loopback(void)
{
	static const struct { const char *host; int want; } t[] = {
		{ "localhost", 1 }, { "LocalHost", 1 }, { "127.0.0.1", 1 }, { "127.8.9.10", 1 },
		{ "::1", 1 }, { "[::1]", 1 }, { "128.0.0.1", 0 }, { "::2", 0 }, { "[::1", 0 },
		{ "localhost.example.org", 0 }, { "10.0.0.1", 0 }, { "", 0 }, { "[]", 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(host_is_loopback(t[i].host), t[i].want, "loopback \"%s\"", t[i].host);
}

/* #10: text from servers and identity providers, safe for a terminal. */
static void
test_for_terminal(void)
{
	static const struct {
		const char *in, *want;
		size_t max;
	} t[] = {
		{ "plain text", "plain text", 100 },
		{ "\x1b[2J\x1b]8;;https://evil/\x07link", "?[2J?]8;;https://evil/?link", 100 },
		{ "csi \xc2\x9b" "31m", "csi ?31m", 100 },
		{ "line\r\nnext\tx\x7f", "line??next?x?", 100 },
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac", 100 },
		{ "bad \xff\xc3 utf8 \xed\xa0\x80", "bad ?? utf8 ???", 100 },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9...", 4 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char *got = str_for_terminal(t[i].in, strlen(t[i].in), t[i].max);

		is_str(got, t[i].want, "str_for_terminal case %zu", i);
		free(got);
	}
}

static void
test_path_dir(void)
{
	static const struct { const char *path, *want; } t[] = {
		{ "/etc/mail2cups.conf", "/etc" }, { "/x", "/" }, { "x.conf", "." },
		{ "conf.d/a.conf", "conf.d" }, { "/var/lib/mail2cups/", "/var/lib/mail2cups" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *d = path_dir(t[i].path);

		is_str(d, t[i].want, "path_dir(\"%s\")", t[i].path);
		free(d);
	}
}

static int
exists(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

static void
touch(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);

	ok(fd >= 0, "created %s", name);
	if (fd >= 0)
		close(fd);
	free(p);
}

/* rm_prefixed: what a crash left in a scratch folder, and nothing else. */
static void
test_rm_prefixed(void)
{
	static const char *const prefixes[] = { "msg.", "conv.", NULL };
	char tmpl[] = "/tmp/m2c-test-rm.XXXXXX", outside[] = "/tmp/m2c-test-out.XXXXXX";
	char *dir = mkdtemp(tmpl), *out = mkdtemp(outside), *p;

	if (dir == NULL || out == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	touch(dir, "msg.1");
	touch(dir, "keep.msg.1");
	touch(out, "precious");
	p = xasprintf("%s/conv.a", dir);
	ok(mkdir(p, 0700) == 0, "made conv.a");
	free(p);
	p = xasprintf("%s/conv.a/deep", dir);
	ok(mkdir(p, 0700) == 0, "made conv.a/deep");
	touch(p, "f");
	ok(chmod(p, 0) == 0, "conv.a/deep has no rights left");
	free(p);
	p = xasprintf("%s/conv.link", dir);
	ok(symlink(out, p) == 0, "conv.link points outside");
	free(p);

	rm_prefixed(dir, prefixes);
	ok(!exists(dir, "msg.1"), "msg.1 removed");
	ok(!exists(dir, "conv.a"), "conv.a removed with a folder it could not read");
	ok(!exists(dir, "conv.link"), "the link removed");
	ok(exists(out, "precious"), "what the link pointed at is untouched");
	ok(exists(dir, "keep.msg.1"), "a name that only contains a prefix stays");
	rm_prefixed("/nonexistent/m2c", prefixes);	/* a missing folder: nothing to do */

	ok(rm_tree_at(AT_FDCWD, dir) == 0 && rm_tree_at(AT_FDCWD, out) == 0, "rm_tree_at cleans up");
	ok(access(dir, F_OK) != 0 && access(out, F_OK) != 0, "both folders gone");
}

int
main(void)
{
	test_for_terminal();
	test_wildcard();
	test_path_dir();
	test_rm_prefixed();
	test_loopback();
	test_buf();
	test_errors();
	test_files();
	{
		int fd = open("/dev/null", O_RDONLY), was = fd;

		fd_close(&fd);
		ok(fd == -1 && fcntl(was, F_GETFD) == -1, "fd_close closes and sets -1");
		fd_close(&fd);
		is_int(fd, -1, "fd_close of a closed one does nothing");
	}
	is_int(str_casecmp("ABC", "abc"), 0, "str_casecmp");
	ok(str_has_prefix("msg.123", "msg.") && !str_has_prefix("ms", "msg."), "str_has_prefix");
	return tap_done();
}
