/* test-convert.c - convert.c with the stub converters of tests/data/convert. */
#include "m2c-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "convert.h"
#include "error.h"
#include "tap.h"
#include "util.h"

#define ODT	"application/vnd.oasis.opendocument.text"
#define DOCX	"application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#define MAXARGS	8

static char *stubs;	/* absolute tests/data/convert */
static char *tmp;	/* private test folder */
static char *scratch;	/* tmp/scratch */
static char *input;	/* tmp/input */

/* "@S" at the start of an argument is the stub folder, "@T" the test folder. */
static char *
expand(const char *arg)
{
	if (str_has_prefix(arg, "@S"))
		return xasprintf("%s%s", stubs, arg + 2);
	if (str_has_prefix(arg, "@T"))
		return xasprintf("%s%s", tmp, arg + 2);
	return xstrdup(arg);
}

static struct conf_converter limits;	/* the sandbox's settings for run() */

static int
run(const char *const *argv, const char *type, int timeout, char **pdf, char **err)
{
	struct conf_converter cv = limits;
	int r;

	cv.timeout = timeout;
	for (size_t i = 0; i < MAXARGS && argv[i] != NULL; i++)
		cv.command.n++;
	cv.command.v = xcalloc(cv.command.n + 1, sizeof(char *));
	for (size_t i = 0; i < cv.command.n; i++)
		cv.command.v[i] = expand(argv[i]);
	r = convert_to_pdf(&cv, input, type, scratch, pdf, err);
	for (size_t i = 0; i < cv.command.n; i++)
		free(cv.command.v[i]);
	free(cv.command.v);
	return r;
}

/* How many entries of dir start with prefix. */
static int
count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += str_has_prefix(de->d_name, prefix);
	closedir(d);
	return n;
}

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write_all(fd, text, strlen(text)) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(99);
	}
	close(fd);
}

/*
 * How many live processes run "sleep 1000 MARK" (zombies nobody reaps, as
 * under a container's init, do not count), after waiting up to 5 s for
 * them to go.
 */
static int
marked_alive(const char *mark)
{
	char *want = xasprintf("sleep%c1000%c%s", 0, 0, mark);
	size_t wlen = strlen("sleep 1000 ") + strlen(mark) + 1;
	int alive = 0;

	for (int i = 0; i < 250; i++) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		alive = 0;
		while (d != NULL && (de = readdir(d)) != NULL) {
			char *path, *data, *p;
			size_t len = 0;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			path = xasprintf("/proc/%s/cmdline", de->d_name);
			data = tap_read_file(path, &len);
			free(path);
			if (data != NULL && len == wlen && memcmp(data, want, wlen) == 0) {
				path = xasprintf("/proc/%s/stat", de->d_name);
				free(data);
				data = tap_read_file(path, NULL);
				free(path);
				p = data ? strrchr(data, ')') : NULL;
				alive += p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
			}
			free(data);
		}
		if (d != NULL)
			closedir(d);
		if (alive == 0)
			break;
		usleep(20000);
	}
	free(want);
	return alive;
}

static void
test_outcomes(void)
{
	static const struct {
		const char *name;
		const char *argv[MAXARGS];
		const char *type;
		int timeout;
		int want;
		const char *msg, *msg2, *notmsg;
	} t[] = {
		{ "good", { "@S/stub-to-pdf", "%i", "%o" }, DOCX, 10, 0, NULL, NULL, NULL },
		{ "not a PDF", { "@S/stub-not-pdf", "%i", "%o" }, ODT, 10, M2C_E_DATA,
		    "wrote document.pdf, which is not a PDF", "send the document as PDF", NULL },
		{ "two PDFs", { "@S/stub-two", "%i", "%o" }, ODT, 10, M2C_E_DATA,
		    "left 2 PDF files", NULL, NULL },
		{ "exit 3", { "@S/stub-fail", "%i", "%o" }, DOCX, 10, M2C_E_DATA,
		    "with exit status 3 (it said: stub-fail: line 8 | ",
		    "line 15 | stub-fail: ?[31mred?[0m | stub-fail: cannot read document.docx: "
		    "general input/output error); send the document as PDF", "line 7" },
		{ "no output", { "/bin/true" }, ODT, 10, M2C_E_DATA,
		    "finished but left no PDF file", "into %o", NULL },
		{ "killed", { "/bin/sh", "-c", "echo dying; kill -9 $$" }, ODT, 10, M2C_E_DATA,
		    "was killed by signal 9", "(it said: dying)", NULL },
		{ "missing command", { "/nonexistent/soffice", "--convert-to", "pdf", "%i" }, ODT,
		    10, M2C_E_CONFIG, "cannot run /nonexistent/soffice: No such file or directory "
		    "(install it, or fix the command of the converter for " ODT, NULL, NULL },
		{ "not executable", { "@S/README", "%i" }, ODT, 10, M2C_E_CONFIG,
		    "README: Permission denied (install it", NULL, NULL },
		{ "relative command", { "soffice", "%i" }, ODT, 10, M2C_E_CONFIG,
		    "not an absolute path", NULL, NULL },
		{ "no command", { NULL }, ODT, 10, M2C_E_CONFIG, "has no command", NULL, NULL },
		{ "symlinked PDF, mess", { "@S/stub-mess", "%i", "%o", "@T/outside" }, ODT, 10,
		    M2C_E_DATA, "left document.pdf, which is not a regular file", NULL, NULL },
	};
	char *outside = xasprintf("%s/outside", tmp), *keep = xasprintf("%s/keep", outside);
	char *data;

	if (mkdir(outside, 0700) != 0) {
		printf("Bail out! mkdir %s\n", outside);
		exit(99);
	}
	write_file(keep, "keep me\n");
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char *pdf = NULL, *err = NULL;
		struct stat st;
		int r = run(t[i].argv, t[i].type, t[i].timeout, &pdf, &err);

		is_int(r, t[i].want, "%s: %s", t[i].name, err ? err : "ok");
		if (t[i].msg)
			has_str(err, t[i].msg, "%s: message", t[i].name);
		if (t[i].msg2)
			has_str(err, t[i].msg2, "%s: message (2)", t[i].name);
		if (t[i].notmsg)
			ok(err != NULL && strstr(err, t[i].notmsg) == NULL,
			    "%s: message without \"%s\"", t[i].name, t[i].notmsg);
		is_int(count_prefix(scratch, "conv."), 0, "%s: folder removed", t[i].name);
		if (t[i].want != 0) {
			ok(pdf == NULL, "%s: no output path", t[i].name);
			is_int(count_prefix(scratch, "part."), 0, "%s: no output file", t[i].name);
		} else {
			ok(pdf != NULL && str_has_prefix(pdf, scratch) &&
			    strstr(pdf, "/part.") != NULL, "%s: output is a part. file", t[i].name);
			ok(pdf && stat(pdf, &st) == 0 && S_ISREG(st.st_mode) &&
			    (st.st_mode & 07777) == 0600, "%s: output 0600", t[i].name);
			data = pdf ? tap_read_file(pdf, NULL) : NULL;
			ok(data && str_has_prefix(data, "%PDF-1.4") && strstr(data, "%%EOF"),
			    "%s: output is the PDF", t[i].name);
			has_str(data, "(Quarterly report) Tj", "%s: made from the input", t[i].name);
			free(data);
			if (pdf)
				unlink(pdf);
		}
		free(pdf);
		free(err);
	}
	data = tap_read_file(keep, NULL);
	is_str(data, "keep me\n", "a folder linked from the mess survived");
	free(data);
	free(keep);
	free(outside);
}

/* The time limit kills the command and everything it started, even in a session of its own. */
static void
test_timeout(void)
{
	char *mark = xasprintf("0.%ld", (long)getpid());
	const char *argv[] = { "@S/stub-sleep", "%i", "%o", mark, NULL };
	char *pdf = NULL, *err = NULL;
	long long t0 = monotonic_ms(), ms;
	int r = run(argv, ODT, 1, &pdf, &err);

	ms = monotonic_ms() - t0;
	is_int(r, M2C_E_DATA, "timeout: %s", err ? err : "ok");
	has_str(err, "did not finish within 1 s and was stopped (it said: stub-sleep: "
	    "working on ", "timeout: message");
	has_str(err, "raise the converter's timeout", "timeout: what to do");
	ok(ms >= 900 && ms < 4000, "timeout: stopped after %lld ms", ms);
	is_int(count_prefix(scratch, "conv."), 0, "timeout: folder removed");
	is_int(marked_alive(mark), 0, "timeout: the command and both its sleepers are dead");
	free(mark);
	free(pdf);
	free(err);
}

/* The environment, arguments, working directory and descriptors it gets. */
static void
test_env(void)
{
	static const char *const allowed[] = {
		"PATH=/usr/bin:/bin", "HOME=", "LANG=C.UTF-8", "TMPDIR=",
		"PWD=", "OLDPWD=", "SHLVL=", "_=",	/* what a shell adds itself */
	};
	const char *argv[] = { "@S/stub-env", "%o", "--in=%i", "--outdir=%o", "100%%", "%x",
		"%", "%%i", NULL };
	char *pdf = NULL, *err = NULL, *data = NULL, *folder = NULL, *want, *line, *save;
	int leak = open("/dev/null", O_RDONLY), r, bad = 0, nenv = 0;

	setenv("M2C_TEST_SECRET", "hunter2", 1);
	r = run(argv, ODT, 10, &pdf, &err);
	unsetenv("M2C_TEST_SECRET");
	is_int(r, 0, "env: %s", err ? err : "ok");
	data = pdf ? tap_read_file(pdf, NULL) : NULL;
	ok(data != NULL && strstr(data, "hunter2") == NULL, "env: no secret from our environment");
	has_str(data, "\nfds=0 1 2 3 \n", "env: only stdio (and ls's own) descriptors");
	if (data && (line = strstr(data, "\ncwd=")) != NULL)
		folder = xstrndup(line + 5, strcspn(line + 5, "\n"));
	/* Run by root, the sandbox runs as nobody in a folder under /tmp. */
	want = geteuid() == 0 ? xstrdup("/tmp/conv.") : xasprintf("%s/conv.", scratch);
	ok(folder && str_has_prefix(folder, want), "env: runs in %s", folder ? folder : "?");
	free(want);
	if (folder) {
		static const struct { const char *pre, *post; } w[] = {
			{ "\narg=[", "]\n" }, { "\narg=[--in=", "/document.odt]\n" },
			{ "\narg=[--outdir=", "]\n" }, { "\nenv=HOME=", "\n" },
			{ "\nenv=TMPDIR=", "\n" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
			want = xasprintf("%s%s%s", w[i].pre, folder, w[i].post);
			has_str(data, want, "env: %s", w[i].pre + 1);
			free(want);
		}
	}
	has_str(data, "\narg=[100%]\narg=[%x]\narg=[%]\narg=[%i]\n", "env: %%%% and other %%");
	has_str(data, "\nenv=PATH=/usr/bin:/bin\n", "env: PATH");
	has_str(data, "\nenv=LANG=C.UTF-8\n", "env: LANG");
	for (line = data ? strtok_r(data, "\n", &save) : NULL; line;
	    line = strtok_r(NULL, "\n", &save)) {
		int known = 0;
		if (!str_has_prefix(line, "env="))
			continue;
		nenv++;
		for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
			known |= strncmp(line + 4, allowed[i], strlen(allowed[i])) == 0;
		if (!known) {
			printf("# unexpected variable %s\n", line + 4);
			bad++;
		}
	}
	ok(nenv >= 4 && bad == 0, "env: only the minimal environment (%d variables)", nenv);
	is_int(count_prefix(scratch, "conv."), 0, "env: folder removed");
	if (pdf)
		unlink(pdf);
	if (leak >= 0)
		close(leak);
	free(folder);
	free(data);
	free(pdf);
	free(err);
}

/* A listening socket: TCP on 127.0.0.1 (its port in *port) or Unix at path. */
static int
listener(const char *path, int *port)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(in);
	int fd = socket(path ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (path != NULL) {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
		if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) != 0 ||
		    listen(fd, 4) != 0)
			goto fail;
		return fd;
	}
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&in, sizeof(in)) != 0 || listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&in, &len) != 0)
		goto fail;
	*port = ntohs(in.sin_port);
	return fd;
fail:
	printf("Bail out! cannot listen: %s\n", strerror(errno));
	exit(99);
}

/* Nonzero when someone connected to the listening socket fd. */
static int
connected(int fd)
{
	int c = accept(fd, NULL, NULL);

	if (c >= 0)
		close(c);
	return c >= 0;
}

/*
 * A converter taken over by a hostile document (stub-hostile) tries to read
 * the tokens, the database and another message, to reach the network and a
 * local socket, to write a huge file, to take 1 GiB, to fork 200 processes
 * and to leave a sleeper in a session of its own: each fails, and nothing
 * it read is in what comes back.
 */
static void
test_hostile(void)
{
	static const char *const blocked[] = {
		"tokens: blocked", "database: blocked", "message: blocked", "scratch: blocked",
		"tcp: blocked", "unix: blocked", "bigfile: blocked", "memory: blocked",
		"fork: blocked",
	};
	char *mark = xasprintf("0.%ld1", (long)getpid()), *portstr, *path, *sock;
	const char *argv[] = { "@S/stub-hostile", "%i", "%o", NULL, NULL, "@T", NULL };
	char *pdf = NULL, *err = NULL;
	int port = 0, tcp, unx, r;

	path = xasprintf("%s/tokens", tmp);
	(void)mkdir(path, 0700);
	free(path);
	path = xasprintf("%s/tokens/acct.json", tmp);
	write_file(path, "{\"refresh_token\": \"SECRET-REFRESH-TOKEN\"}\n");
	free(path);
	path = xasprintf("%s/state.db", tmp);
	write_file(path, "SQLite format 3 SECRET-DATABASE\n");
	free(path);
	path = xasprintf("%s/part.other", scratch);
	write_file(path, "SECRET-MESSAGE of another sender\n");
	sock = xasprintf("%s/ctl.sock", tmp);
	tcp = listener(NULL, &port);
	unx = listener(sock, NULL);
	portstr = xasprintf("%d", port);
	argv[3] = portstr;
	argv[4] = mark;

	limits.memory_limit = 512;
	limits.file_size_limit = 8;
	limits.max_processes = 32;
	r = run(argv, ODT, 60, &pdf, &err);
	memset(&limits, 0, sizeof(limits));
	is_int(r, M2C_E_DATA, "hostile: fails: %s", err ? err : "ok");
	for (size_t i = 0; i < ARRAY_SIZE(blocked); i++)
		has_str(err, blocked[i], "hostile: %s", blocked[i]);
	ok(err != NULL && strstr(err, "ESCAPED") == NULL, "hostile: nothing escaped");
	ok(err != NULL && strstr(err, "SECRET") == NULL, "hostile: no secret in its output");
	ok(!connected(tcp), "hostile: nobody connected to 127.0.0.1:%d", port);
	ok(!connected(unx), "hostile: nobody connected to %s", sock);
	is_int(marked_alive(mark), 0, "hostile: its setsid sleeper died with it");
	is_int(count_prefix(scratch, "conv."), 0, "hostile: folder removed");
	ok(pdf == NULL, "hostile: no output");

	close(tcp);
	close(unx);
	unlink(sock);
	unlink(path);
	free(path);
	free(sock);
	free(portstr);
	free(mark);
	free(pdf);
	free(err);
}

/*
 * No sandbox (bwrap missing): a converter is refused, with the fix, unless
 * converters_unsandboxed says to run it without one.
 */
static void
test_no_sandbox(void)
{
	const char *argv[] = { "@S/stub-to-pdf", "%i", "%o", NULL };
	char *pdf = NULL, *err = NULL;
	int r;

	setenv("MAIL2CUPS_TEST_BWRAP", "/nonexistent/bwrap", 1);
	r = run(argv, ODT, 10, &pdf, &err);
	is_int(r, M2C_E_CONFIG, "no sandbox: refused: %s", err ? err : "ok");
	has_str(err, "install bubblewrap", "no sandbox: how to get one");
	has_str(err, "converters_unsandboxed = true", "no sandbox: how to do without");
	ok(pdf == NULL, "no sandbox: no output");
	free(err);
	err = NULL;

	limits.unsandboxed = 1;
	r = run(argv, ODT, 10, &pdf, &err);
	limits.unsandboxed = 0;
	unsetenv("MAIL2CUPS_TEST_BWRAP");
	is_int(r, 0, "converters_unsandboxed: runs without one: %s", err ? err : "ok");
	if (pdf)
		unlink(pdf);
	is_int(count_prefix(scratch, "conv."), 0, "no sandbox: folders removed");
	free(pdf);
	free(err);
}

/* Local failures: M2C_E_SYS, nothing left behind. */
static void
test_local_errors(void)
{
	const char *argv[] = { "@S/stub-to-pdf", "%i", "%o", NULL };
	struct conf_converter cv = { .timeout = 10 };
	char *pdf = NULL, *err = NULL, *saved = input, *cmd = expand(argv[0]);
	char *nodir = xasprintf("%s/no-such-folder", tmp);
	int r;

	input = xasprintf("%s/no-such-input", tmp);
	r = run(argv, ODT, 10, &pdf, &err);
	is_int(r, M2C_E_SYS, "missing input: %s", err ? err : "ok");
	has_str(err, "cannot read ", "missing input: message");
	is_int(count_prefix(scratch, "conv."), 0, "missing input: folder removed");
	free(input);
	input = saved;
	free(err);
	err = NULL;

	cv.command.v = &cmd;
	cv.command.n = 1;
	r = convert_to_pdf(&cv, input, ODT, nodir, &pdf, &err);
	is_int(r, M2C_E_SYS, "missing scratch folder: %s", err ? err : "ok");
	ok(pdf == NULL, "missing scratch folder: no output");
	free(err);
	free(nodir);
	free(cmd);
}

/* Clean-up after a crash: conv.* folders go, with everything in them. */
static void
test_clean(void)
{
	static const char *const mk[] = {
		"conv.AAAAAA", "conv.AAAAAA/sub", "conv.AAAAAA/sub/deeper", "conv.BBBBBB",
		"other",
	};
	char *path, *data, *keep = xasprintf("%s/outside/keep", tmp);
	int n;

	for (size_t i = 0; i < ARRAY_SIZE(mk); i++) {
		path = xasprintf("%s/%s", scratch, mk[i]);
		(void)mkdir(path, 0700);
		free(path);
	}
	path = xasprintf("%s/conv.AAAAAA/sub/deeper/f", scratch);
	write_file(path, "x");
	free(path);
	path = xasprintf("%s/conv.AAAAAA/sub/out", scratch);
	(void)symlink(keep, path);
	free(path);
	path = xasprintf("%s/conv.BBBBBB/dir", scratch);
	(void)symlink(tmp, path);
	free(path);
	path = xasprintf("%s/part.CCCCCC", scratch);
	write_file(path, "y");

	convert_clean_scratch(scratch);
	is_int(count_prefix(scratch, "conv."), 0, "clean: conv.* folders removed");
	is_int(count_prefix(scratch, "part."), 1, "clean: a part. file stays (not ours)");
	is_int(count_prefix(scratch, "other"), 1, "clean: another folder stays");
	data = tap_read_file(keep, NULL);
	is_str(data, "keep me\n", "clean: the target of a link stays");
	free(data);
	unlink(path);
	free(path);
	path = xasprintf("%s/other", scratch);
	rmdir(path);
	free(path);
	free(keep);
	n = count_prefix(scratch, "");
	convert_clean_scratch(scratch);	/* nothing to do */
	is_int(count_prefix(scratch, ""), n, "clean: no conv.* folder: nothing changes");
	convert_clean_scratch("/nonexistent/scratch");
	ok(access("/nonexistent", F_OK) != 0, "clean: a missing folder is not created");
}

static void
test_find(void)
{
	static char *odf[] = { "application/vnd.oasis.opendocument.*", "application/msword" };
	static char *ooxml[] = { "application/vnd.openxmlformats-officedocument.*" };
	static char *txt[] = { "text/plain" };
	static const struct { const char *type; int want; } t[] = {
		{ ODT, 0 },
		{ "application/vnd.oasis.opendocument.spreadsheet", 0 },
		{ "APPLICATION/MSWORD", 0 },
		{ DOCX, 1 },
		{ "application/vnd.openxmlformats-officedocument.presentationml.presentation", 1 },
		{ "text/plain", 2 },
		{ "text/plainx", -1 },
		{ "application/pdf", -1 },
		{ "application/vnd.oasis.opendocument", -1 },
		{ "", -1 },
	};
	struct conf_converter cvs[3] = {
		{ .types = { odf, ARRAY_SIZE(odf) } },
		{ .types = { ooxml, ARRAY_SIZE(ooxml) } },
		{ .types = { txt, ARRAY_SIZE(txt) } },
	};
	struct conf *cf = xcalloc(1, sizeof(*cf));

	cf->converters = cvs;
	cf->nconverters = ARRAY_SIZE(cvs);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		const struct conf_converter *got = convert_find(cf, t[i].type);
		is_int(got ? (int)(got - cvs) : -1, t[i].want, "find: \"%s\"", t[i].type);
	}
	ok(convert_find(cf, NULL) == NULL, "find: no type");
	cf->nconverters = 0;
	ok(convert_find(cf, ODT) == NULL, "find: no converters");
	free(cf);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char *rel, abs[PATH_MAX];

	rel = xasprintf("%s/tests/data/convert", top && *top ? top : ".");
	if (realpath(rel, abs) == NULL) {
		printf("Bail out! no stubs at %s\n", rel);
		return 99;
	}
	free(rel);
	stubs = xstrdup(abs);
	tmp = xstrdup("/tmp/test-convert.XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 99;
	}
	scratch = xasprintf("%s/scratch", tmp);
	input = xasprintf("%s/input", tmp);
	if (mkdir(scratch, 0700) != 0) {
		printf("Bail out! mkdir %s\n", scratch);
		return 99;
	}
	write_file(input, "\n  Quarterly report\nsecond line\n");

	test_find();
	test_outcomes();
	test_timeout();
	test_env();
	test_hostile();
	test_no_sandbox();
	test_local_errors();
	test_clean();

	/* Leave nothing: the scratch folder must be empty by now. */
	is_int(count_prefix(scratch, ""), 2, "scratch holds only . and ..");
	rel = xasprintf("rm -rf '%s'", tmp);
	if (system(rel) != 0)
		printf("# cannot remove %s\n", tmp);
	free(rel);
	free(input);
	free(scratch);
	free(tmp);
	free(stubs);
	return tap_done();
}
