/*
 * convert.c - converting a document to PDF with an external command; see
 * convert.h.
 *
 * One conversion:
 *   1. a private folder "conv.XXXXXX" (mkdtemp, 0700) under the scratch
 *      folder, holding a copy of the input as "document.EXT";
 *   2. the command, argv from the config with %i/%o/%% replaced, run by
 *      fork + execve (no shell, no PATH search) in its own session, with
 *      stdin /dev/null, stdout and stderr to "converter.log" in the folder,
 *      the folder as its working directory, HOME and TMPDIR, a four-entry
 *      environment and no other open descriptor.  An exec failure comes
 *      back to the parent through a close-on-exec pipe (stage and errno);
 *   3. the parent polls with waitid(WNOHANG|WNOWAIT) until the time limit,
 *      then kills the whole process group; it also kills the group when the
 *      command exits by itself (what it left running in the background),
 *      before the leader is reaped, so the group id cannot have been reused.
 *      No SIGCHLD handler is installed: the caller's signals are untouched;
 *   4. exactly one *.pdf must be left in the folder, a regular file (opened
 *      with O_NOFOLLOW) starting with "%PDF-"; it is copied into a new
 *      "part.XXXXXX" scratch file (0600, our own inode), and the folder is
 *      removed recursively without ever following a symbolic link.
 * convert_clean_scratch() removes the conv.* folders a crash left behind.
 */
#include "m2c-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define CONV_PREFIX		"conv."		/* the private folders */
#define CONV_LOG		"converter.log"	/* the command's output */
#define CONV_PART		"part"		/* the result (poller's clean-up) */
#define CONV_DEFAULT_TIMEOUT	120		/* seconds, when unset */
#define CONV_TAIL_LINES		10		/* of output kept for the message */
#define CONV_TAIL_BYTES		2048		/* at most this much of it */
#define CONV_COPY_CHUNK		(64 * 1024)
#define CONV_DEFAULT_MEMORY	4096		/* MiB of address space */
#define CONV_DEFAULT_FSIZE	256		/* MiB, largest file */
#define CONV_DEFAULT_NPROC	64
#define CONV_NOBODY		65534		/* converters of a root process */
#define CONV_ROOT_BASE		"/tmp"		/* ... and their folders */
#define CONV_INFO_FD		4		/* bwrap --info-fd */
#define CONV_FOLDER_FD		5		/* bwrap --bind-fd */
#define CONV_PROG_FD		6		/* bwrap --ro-bind-fd */

/*
 * What the sandbox shows of /etc: what programs need to load libraries,
 * find fonts, resolve alternatives and user names, and nothing secret.
 */
static const char *const conv_etc[] = {
	"/etc/alternatives", "/etc/fonts", "/etc/group", "/etc/ld.so.cache",
	"/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/libreoffice", "/etc/localtime",
	"/etc/mime.types", "/etc/nsswitch.conf", "/etc/papersize", "/etc/passwd",
	"/etc/ImageMagick-6", "/etc/ghostscript", "/etc/texmf",
};

/* The top-level folders besides /usr (symbolic links into it on merged-/usr). */
static const char *const conv_top[] = {
	"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
};

/* File name extension of the input copy, by sniffed type. */
static const struct {
	const char *type;
	const char *ext;
} conv_exts[] = {
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx" },
	{ "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx" },
	{ "application/msword", "doc" },
	{ "application/vnd.ms-excel", "xls" },
	{ "application/vnd.ms-powerpoint", "ppt" },
	{ "application/vnd.oasis.opendocument.text", "odt" },
	{ "application/vnd.oasis.opendocument.spreadsheet", "ods" },
	{ "application/vnd.oasis.opendocument.presentation", "odp" },
	{ "application/vnd.oasis.opendocument.graphics", "odg" },
	{ "application/rtf", "rtf" },
	{ "text/rtf", "rtf" },
	{ "text/plain", "txt" },
	{ "text/csv", "csv" },
	{ "text/html", "html" },
	{ "application/xhtml+xml", "xhtml" },
	{ "image/png", "png" },
	{ "image/jpeg", "jpg" },
	{ "image/svg+xml", "svg" },
};

/* What the child reports when it cannot exec. */
enum conv_stage { CONV_STAGE_SETUP = 1, CONV_STAGE_EXEC = 2, CONV_STAGE_USER = 3 };
struct conv_report {
	int stage;
	int err;
};

/* Everything the child needs, prepared before fork (the child allocates nothing). */
struct conv_child {
	char **argv;		/* owned */
	char *envp[5];		/* owned; NULL-terminated */
	const char *folder;	/* foreign */
	int nullfd;		/* /dev/null */
	int logfd;		/* converter.log, read and written */
	int reportfd;		/* write end of the report pipe */
	int infofd;		/* write end of bwrap's --info-fd pipe, or -1 */
	int folderfd;		/* the private folder (O_PATH), or -1 */
	int progfd;		/* the program (O_PATH), or -1 */
	long maxfd;		/* for the close loop when close_range fails */
	int as_nobody;		/* we are root: the sandbox runs as nobody */
	struct rlimit lim[5];	/* RLIMIT_AS, FSIZE, NPROC, CPU, CORE */
};

static const int conv_rlimits[5] = {
	RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC, RLIMIT_CPU, RLIMIT_CORE,
};

const struct conf_converter *
convert_find(const struct conf *cf, const char *sniffed_type)
{
	if (cf == NULL || sniffed_type == NULL)
		return NULL;
	for (size_t i = 0; i < cf->nconverters; i++) {
		const struct conf_strlist *t = &cf->converters[i].types;
		for (size_t j = 0; j < t->n; j++)
			if (str_wildcard_match(t->v[j], sniffed_type))
				return &cf->converters[i];
	}
	return NULL;
}

static const char *
conv_ext(const char *sniffed_type)
{
	for (size_t i = 0; i < ARRAY_SIZE(conv_exts); i++)
		if (str_casecmp(conv_exts[i].type, sniffed_type) == 0)
			return conv_exts[i].ext;
	return "bin";
}

/* arg with "%i" -> input, "%o" -> folder, "%%" -> "%"; allocated. */
static char *
subst_arg(const char *arg, const char *input, const char *folder)
{
	struct buf b = { 0 };

	for (const char *p = arg; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'i') {
			buf_append(&b, input, strlen(input));
			p++;
		} else if (p[0] == '%' && p[1] == 'o') {
			buf_append(&b, folder, strlen(folder));
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			buf_appendc(&b, '%');
			p++;
		} else {
			buf_appendc(&b, *p);
		}
	}
	return buf_steal(&b);
}

static void
free_strv(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * Move fd (close-on-exec) above the descriptors the child sets up (0 to
 * CONV_PROG_FD), so its dup2s never overwrite a source; closes fd on failure.
 */
static int
fd_above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > CONV_PROG_FD)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, CONV_PROG_FD + 1);
	close(fd);
	return nfd;
}

/* Read up to len bytes, retrying on EINTR and short reads: bytes read or -1. */
static ssize_t
read_full(int fd, void *p, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Copy the rest of in to out: 0 or an errno value. */
static int
copy_fd(int in, int out)
{
	char *chunk = xmalloc(CONV_COPY_CHUNK);
	ssize_t n;
	int e = 0;

	while ((n = read_full(in, chunk, CONV_COPY_CHUNK)) > 0)
		if (write_all(out, chunk, (size_t)n) != 0) {
			e = errno ? errno : EIO;
			break;
		}
	if (n < 0)
		e = errno;
	free(chunk);
	return e;
}

static void
remove_folder(const char *folder)
{
	if (rm_tree_at(AT_FDCWD, folder) != 0)
		log_warn("cannot remove the converter's folder %s completely: %s",
		    folder, strerror(errno));
}

void
convert_clean_scratch(const char *scratch_dir)
{
	static const char *const prefixes[] = { CONV_PREFIX, NULL };

	rm_prefixed(scratch_dir, prefixes);
}

/*
 * The last lines the command wrote (at most CONV_TAIL_LINES, and
 * CONV_TAIL_BYTES), control and non-ASCII bytes as '?', lines joined with
 * " | ".  Allocated; "" when it said nothing.
 */
static char *
log_tail(int logfd)
{
	char raw[CONV_TAIL_BYTES];
	struct buf b = { 0 };
	struct stat st;
	off_t from = 0;
	ssize_t n;
	size_t start, end, lines = 0;

	if (fstat(logfd, &st) != 0)
		return xstrdup("");
	if (st.st_size > (off_t)sizeof(raw))
		from = st.st_size - (off_t)sizeof(raw);
	do
		n = pread(logfd, raw, sizeof(raw), from);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return xstrdup("");
	end = (size_t)n;
	while (end > 0 && (raw[end - 1] == '\n' || raw[end - 1] == '\r' ||
	    raw[end - 1] == ' ' || raw[end - 1] == '\t'))
		end--;
	for (start = end; start > 0; start--)
		if (raw[start - 1] == '\n' && ++lines == CONV_TAIL_LINES)
			break;
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c == '\n') {
			if (b.len > 0 && !(b.len >= 3 && strcmp(b.data + b.len - 3, " | ") == 0))
				buf_append(&b, " | ", 3);
		} else if (c == '\r') {
			continue;
		} else {
			buf_appendc(&b, c >= 0x20 && c < 0x7f ? (char)c : '?');
		}
	}
	return buf_steal(&b);
}

/* " (it said: ...)" for a message, or "" when it said nothing; allocated. */
static char *
said(int logfd)
{
	char *t = log_tail(logfd), *s;

	s = *t != '\0' ? xasprintf(" (it said: %s)", t) : xstrdup("");
	free(t);
	return s;
}

/* said() for the log in the folder dirfd (after the run). */
static char *
said_at(int dirfd)
{
	int fd = openat(dirfd, CONV_LOG, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	char *s;

	if (fd < 0)
		return xstrdup("");
	s = said(fd);
	close(fd);
	return s;
}

/* Close every descriptor from `from` up (async-signal-safe). */
static void
close_from(int from, long maxfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)from, ~0U, 0U) == 0)
		return;
#endif
	for (long fd = from; fd < maxfd; fd++)
		(void)close((int)fd);
}

/*
 * In the child, after fork: only async-signal-safe calls (the caller may
 * have threads).  Never returns.
 */
static void __attribute__((noreturn))
child_exec(const struct conv_child *c)
{
	struct conv_report rep = { CONV_STAGE_SETUP, 0 };
	struct sigaction sa;
	sigset_t none;
	int rfd = c->reportfd;

	/* Default signal handling, nothing blocked: not what the caller chose. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	if (setsid() < 0 || chdir(c->folder) != 0 ||
	    dup2(c->nullfd, STDIN_FILENO) < 0 || dup2(c->logfd, STDOUT_FILENO) < 0 ||
	    dup2(c->logfd, STDERR_FILENO) < 0)
		goto fail;
	/*
	 * The report pipe becomes fd 3 (still close-on-exec); the sandbox's
	 * descriptors 4, 5, 6 (inherited by bwrap, which closes them); the
	 * rest goes.  Each source is above 6 (child_prepare), so no dup2
	 * overwrites one still to be moved.
	 */
	if (dup3(rfd, 3, O_CLOEXEC) < 0)
		goto fail;
	rfd = 3;
	if ((c->infofd >= 0 && dup2(c->infofd, CONV_INFO_FD) < 0) ||
	    (c->folderfd >= 0 && dup2(c->folderfd, CONV_FOLDER_FD) < 0) ||
	    (c->progfd >= 0 && dup2(c->progfd, CONV_PROG_FD) < 0))
		goto fail;
	close_from(c->progfd >= 0 ? CONV_PROG_FD + 1 : c->folderfd >= 0 ?
	    CONV_FOLDER_FD + 1 : c->infofd >= 0 ? CONV_INFO_FD + 1 : 4, c->maxfd);
	for (size_t i = 0; i < ARRAY_SIZE(conv_rlimits); i++)
		if (setrlimit(conv_rlimits[i], &c->lim[i]) != 0)
			goto fail;
	if (c->as_nobody) {
		/* Never root in the sandbox: nobody, with every step checked. */
		rep.stage = CONV_STAGE_USER;
		if (setgroups(0, NULL) != 0 ||
		    setresgid(CONV_NOBODY, CONV_NOBODY, CONV_NOBODY) != 0 ||
		    setresuid(CONV_NOBODY, CONV_NOBODY, CONV_NOBODY) != 0)
			goto fail;
		if (setresuid(0, 0, 0) == 0) {
			errno = EPERM;
			goto fail;
		}
	}
	if (c->infofd >= 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		goto fail;
	rep.stage = CONV_STAGE_EXEC;
	execve(c->argv[0], c->argv, c->envp);
fail:
	rep.err = errno;
	(void)!write(rfd, &rep, sizeof(rep));
	_exit(127);
}

/*
 * Wait for pid until deadline_ms (monotonic): 0 when it ended, 1 at the
 * deadline, -1 on error (errno).  The child is left unreaped (WNOWAIT).
 */
static int
wait_until(pid_t pid, long long deadline_ms)
{
	long long step = 1;

	for (;;) {
		siginfo_t si;
		struct timespec ts;
		long long left;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si.si_pid == pid)
			return 0;
		if ((left = deadline_ms - monotonic_ms()) <= 0)
			return 1;
		if (step > left)
			step = left;
		ts.tv_sec = (time_t)(step / 1000);
		ts.tv_nsec = (long)(step % 1000) * 1000000L;
		(void)nanosleep(&ts, NULL);
		if (step < 50)
			step *= 2;
	}
}

/* Kill what is left of pid's process group, then reap pid: its wait status. */
static int
finish_child(pid_t pid)
{
	int status = 0;

	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);	/* in case it never got to setsid() */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* The sandbox program: MAIL2CUPS_TEST_BWRAP (tests), else bwrap where configure found it. */
static const char *
bwrap_path(void)
{
	const char *p = getenv("MAIL2CUPS_TEST_BWRAP");

	return p != NULL && *p != '\0' ? p : BWRAP_PATH;
}

/* Nonzero when the program at path (symbolic links resolved) is under /usr, in the sandbox. */
static int
under_usr(const char *path)
{
	char *real = realpath(path, NULL);
	int r = real != NULL && str_has_prefix(real, "/usr/");

	free(real);
	return r;
}

/*
 * The bwrap command line around the converter's argv (cmd, n arguments):
 * every namespace new (no network: only a loopback of its own; its own
 * PID namespace, so everything it starts dies with it), no capabilities,
 * a new session (no TIOCSTI into a terminal), killed when we die; a root
 * of its own, read-only, with /usr, the top-level library folders, a few
 * files of /etc and the admin's read_only_paths; the program itself when
 * it lives elsewhere; its private folder (the only thing it can write) at
 * the same path.  Nothing of state_dir (tokens, database, other messages)
 * is there.
 */
static char **
bwrap_argv(const struct conf_converter *cv, char **cmd, size_t n, const char *folder)
{
	struct conf_strlist a = { 0 };
	size_t cap = 64 + 3 * ARRAY_SIZE(conv_etc) + 3 * ARRAY_SIZE(conv_top) +
	    3 * cv->read_only_paths.n + n;
	char link[PATH_MAX];
	struct stat st;

	a.v = xcalloc(cap + 1, sizeof(*a.v));
#define ARG(x) (a.v[a.n++] = xstrdup(x))
	ARG(bwrap_path());
	ARG("--unshare-all");
	ARG("--unshare-user");
	ARG("--disable-userns");
	ARG("--die-with-parent");
	ARG("--new-session");
	ARG("--cap-drop");
	ARG("ALL");
	ARG("--ro-bind");
	ARG("/usr");
	ARG("/usr");
	for (size_t i = 0; i < ARRAY_SIZE(conv_top); i++) {
		ssize_t len;

		if (lstat(conv_top[i], &st) != 0)
			continue;
		if (S_ISLNK(st.st_mode) &&
		    (len = readlink(conv_top[i], link, sizeof(link) - 1)) > 0) {
			link[len] = '\0';
			ARG("--symlink");
			ARG(link);
		} else if (S_ISDIR(st.st_mode)) {
			ARG("--ro-bind");
			ARG(conv_top[i]);
		} else {
			continue;
		}
		ARG(conv_top[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(conv_etc); i++) {
		ARG("--ro-bind-try");
		ARG(conv_etc[i]);
		ARG(conv_etc[i]);
	}
	for (size_t i = 0; i < cv->read_only_paths.n; i++) {
		ARG("--ro-bind");
		ARG(cv->read_only_paths.v[i]);
		ARG(cv->read_only_paths.v[i]);
	}
	ARG("--dev");
	ARG("/dev");
	ARG("--proc");
	ARG("/proc");
	if (!under_usr(cv->command.v[0])) {
		ARG("--ro-bind-fd");
		a.v[a.n++] = xasprintf("%d", CONV_PROG_FD);
		ARG(cmd[0]);
	}
	ARG("--bind-fd");
	a.v[a.n++] = xasprintf("%d", CONV_FOLDER_FD);
	ARG(folder);
	ARG("--chdir");
	ARG(folder);
	ARG("--remount-ro");
	ARG("/");
	ARG("--info-fd");
	a.v[a.n++] = xasprintf("%d", CONV_INFO_FD);
	ARG("--");
#undef ARG
	for (size_t i = 0; i < n; i++)
		a.v[a.n++] = cmd[i];
	a.v[a.n] = NULL;
	return a.v;
}

/* The limits of the child (RLIMIT_AS, FSIZE, NPROC, CPU, CORE), 0 meaning the default. */
static void
child_limits(struct conv_child *c, const struct conf_converter *cv)
{
	rlim_t mem = (rlim_t)(cv->memory_limit > 0 ? cv->memory_limit : CONV_DEFAULT_MEMORY);
	rlim_t fsize = (rlim_t)(cv->file_size_limit > 0 ? cv->file_size_limit :
	    CONV_DEFAULT_FSIZE);
	rlim_t nproc = (rlim_t)(cv->max_processes > 0 ? cv->max_processes : CONV_DEFAULT_NPROC);
	rlim_t cpu = (rlim_t)(cv->cpu_time_limit > 0 ? cv->cpu_time_limit :
	    cv->timeout > 0 ? cv->timeout : CONV_DEFAULT_TIMEOUT);

	c->lim[0].rlim_cur = c->lim[0].rlim_max = mem << 20;
	c->lim[1].rlim_cur = c->lim[1].rlim_max = fsize << 20;
	c->lim[2].rlim_cur = c->lim[2].rlim_max = nproc;
	c->lim[3].rlim_cur = cpu;
	c->lim[3].rlim_max = cpu + 1;	/* SIGXCPU first, then SIGKILL */
	c->lim[4].rlim_cur = c->lim[4].rlim_max = 0;
}

/* Prepare c (descriptors, argv, environment) for running cv in folder. */
static int
child_prepare(struct conv_child *c, const struct conf_converter *cv, const char *folder,
    const char *docpath, int *readfd, int *inforead, char **errstr)
{
	struct rlimit rl;
	char *logpath = xasprintf("%s/%s", folder, CONV_LOG);
	char **cmd;
	int pfd[2], r = 0;

	cmd = xcalloc(cv->command.n + 1, sizeof(*cmd));
	for (size_t i = 0; i < cv->command.n; i++)
		cmd[i] = subst_arg(cv->command.v[i], docpath, folder);
	if (cv->unsandboxed) {
		c->argv = cmd;
	} else {
		c->argv = bwrap_argv(cv, cmd, cv->command.n, folder);
		free(cmd);	/* its strings moved into c->argv */
	}
	c->envp[0] = xstrdup("PATH=/usr/bin:/bin");
	c->envp[1] = xasprintf("HOME=%s", folder);
	c->envp[2] = xstrdup("LANG=C.UTF-8");
	c->envp[3] = xasprintf("TMPDIR=%s", folder);
	c->envp[4] = NULL;
	c->folder = folder;
	c->maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 1048576 ? (long)rl.rlim_cur : 1048576;
	child_limits(c, cv);

	c->nullfd = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
	c->logfd = fd_above_stdio(open(logpath, O_RDWR | O_CREAT | O_EXCL | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600));
	if (c->nullfd < 0 || c->logfd < 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot set up the converter's output in %s: %s",
		    folder, strerror(errno));
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot make a pipe for the converter: %s",
		    strerror(errno));
		goto out;
	}
	*readfd = fd_above_stdio(pfd[0]);
	c->reportfd = fd_above_stdio(pfd[1]);
	if (*readfd < 0 || c->reportfd < 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot make a pipe for the converter: %s",
		    strerror(errno));
		goto out;
	}
	if (cv->unsandboxed)
		goto out;

	/* The sandbox: bwrap's status pipe, the folder and the program by descriptor. */
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot make a pipe for the converter: %s",
		    strerror(errno));
		goto out;
	}
	*inforead = fd_above_stdio(pfd[0]);
	c->infofd = fd_above_stdio(pfd[1]);
	c->folderfd = fd_above_stdio(open(folder, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!under_usr(cv->command.v[0]))
		c->progfd = fd_above_stdio(open(cv->command.v[0], O_PATH | O_CLOEXEC));
	if (*inforead < 0 || c->infofd < 0 || c->folderfd < 0 ||
	    (!under_usr(cv->command.v[0]) && c->progfd < 0)) {
		r = m2c_fail(errstr, errno == ENOENT || errno == EACCES ? M2C_E_CONFIG : M2C_E_SYS,
		    "cannot set up the converter's sandbox for %s: %s", cv->command.v[0],
		    strerror(errno));
		goto out;
	}
	/* Root runs no converter: the sandbox runs as nobody, who needs its folder. */
	c->as_nobody = geteuid() == 0;
	if (c->as_nobody && (chown(folder, CONV_NOBODY, CONV_NOBODY) != 0 ||
	    chown(docpath, CONV_NOBODY, CONV_NOBODY) != 0))
		r = m2c_fail(errstr, M2C_E_SYS, "cannot give the converter's folder %s to "
		    "nobody: %s", folder, strerror(errno));
out:
	free(logpath);
	return r;
}

static void
child_release(struct conv_child *c)
{
	int *fds[] = { &c->nullfd, &c->logfd, &c->reportfd, &c->infofd, &c->folderfd,
	    &c->progfd };

	free_strv(c->argv);
	c->argv = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(c->envp); i++) {
		free(c->envp[i]);
		c->envp[i] = NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fd_close(fds[i]);
}

/* Nonzero when bwrap said, on its --info-fd, that the sandbox was set up. */
static int
sandbox_started(int inforead)
{
	char buf[512];
	ssize_t n;

	do
		n = read(inforead, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "\"child-pid\"") != NULL;
}

/*
 * The failure of a command that ran, from its wait status; M2C_E_DATA.
 * In the sandbox, bwrap exits 128 + N for a command killed by signal N.
 */
static int
status_fail(const char *cmd, int sandboxed, int status, int logfd, char **errstr)
{
	char *s = said(logfd);
	int r;

	if (sandboxed && WIFEXITED(status) && WEXITSTATUS(status) > 128 &&
	    WEXITSTATUS(status) < 128 + NSIG)
		status = WEXITSTATUS(status) - 128;	/* as a signal's wait status */
	if (WIFEXITED(status))
		r = m2c_fail(errstr, M2C_E_DATA, "converter %s failed on this document "
		    "with exit status %d%s; send the document as PDF instead",
		    cmd, WEXITSTATUS(status), s);
	else
		r = m2c_fail(errstr, M2C_E_DATA, "converter %s was killed by signal %d (%s) "
		    "on this document%s; send the document as PDF instead",
		    cmd, WTERMSIG(status), strsignal(WTERMSIG(status)), s);
	free(s);
	return r;
}

/* Run cv for docpath in folder, to its end or its time limit. */
static int
run_command(const struct conf_converter *cv, const char *folder, const char *docpath,
    const char *sniffed_type, char **errstr)
{
	struct conv_child c = { .nullfd = -1, .logfd = -1, .reportfd = -1, .infofd = -1,
		.folderfd = -1, .progfd = -1 };
	struct conv_report rep;
	const char *cmd = cv->command.v[0];
	int timeout = cv->timeout > 0 ? cv->timeout : CONV_DEFAULT_TIMEOUT;
	int readfd = -1, inforead = -1, r, status;
	long long deadline;
	ssize_t n;
	pid_t pid;
	char *s;

	if ((r = child_prepare(&c, cv, folder, docpath, &readfd, &inforead, errstr)) != 0)
		goto out;
	deadline = monotonic_ms() + (long long)timeout * 1000;
	if ((pid = fork()) < 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot start converter %s: fork: %s",
		    cmd, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(&c);
	close(c.reportfd);
	c.reportfd = -1;
	if (c.infofd >= 0)
		close(c.infofd);
	c.infofd = -1;

	/* EOF: the exec worked; a report: it did not. */
	if ((n = read_full(readfd, &rep, sizeof(rep))) == (ssize_t)sizeof(rep)) {
		(void)finish_child(pid);
		if (rep.stage == CONV_STAGE_EXEC && !cv->unsandboxed)
			r = m2c_fail(errstr, M2C_E_CONFIG, "cannot run the converters' sandbox "
			    "%s: %s; converters run only in a sandbox: install bubblewrap "
			    "(apt install bubblewrap), or set converters_unsandboxed = true "
			    "to run them without one (not recommended)", c.argv[0],
			    strerror(rep.err));
		else if (rep.stage == CONV_STAGE_EXEC)
			r = m2c_fail(errstr, M2C_E_CONFIG, "cannot run %s: %s (install it, or "
			    "fix the command of the converter for %s in the config)",
			    cmd, strerror(rep.err), sniffed_type);
		else
			r = m2c_fail(errstr, M2C_E_SYS, "cannot set up converter %s in %s: %s",
			    cmd, folder, strerror(rep.err));
		goto out;
	}

	if ((r = wait_until(pid, deadline)) < 0) {
		int e = errno;
		(void)finish_child(pid);
		r = m2c_fail(errstr, M2C_E_SYS, "cannot wait for converter %s: %s",
		    cmd, strerror(e));
		goto out;
	}
	status = finish_child(pid);
	if (r == 0 && inforead >= 0 && !sandbox_started(inforead)) {
		s = said(c.logfd);
		r = m2c_fail(errstr, M2C_E_CONFIG, "the converters' sandbox (%s) could not be "
		    "set up%s; converters run only in a sandbox: let the service user make "
		    "user namespaces (sysctl user.max_user_namespaces, and on Debian "
		    "kernel.unprivileged_userns_clone=1), or set converters_unsandboxed = true "
		    "to run them without one (not recommended)", c.argv[0], s);
		free(s);
		goto out;
	}
	if (r == 1) {
		s = said(c.logfd);
		r = m2c_fail(errstr, M2C_E_DATA, "converter %s did not finish within %d s and "
		    "was stopped%s; send the document as PDF, or raise the converter's timeout",
		    cmd, timeout, s);
		free(s);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		r = status_fail(cmd, !cv->unsandboxed, status, c.logfd, errstr);
		goto out;
	}
	r = 0;
out:
	if (readfd >= 0)
		close(readfd);
	if (inforead >= 0)
		close(inforead);
	child_release(&c);
	return r;
}

static int
is_pdf_name(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && str_casecmp(name + n - 4, ".pdf") == 0;
}

/* The one PDF the command left in folder, copied to a new scratch file. */
static int
take_pdf(const char *cmd, const char *folder, const char *scratch_dir, char **out,
    char **errstr)
{
	char head[5], *name = NULL, *path = NULL, *s = NULL;
	struct dirent *de;
	struct stat st;
	size_t count = 0;
	DIR *d;
	int fd = -1, outfd = -1, e = 0, r = 0;

	if ((d = opendir(folder)) == NULL)
		return m2c_fail(errstr, M2C_E_SYS, "cannot read the converter's folder %s: %s",
		    folder, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (is_pdf_name(de->d_name) && count++ == 0)
			name = xstrdup(de->d_name);
	if (count == 0) {
		s = said_at(dirfd(d));
		r = m2c_fail(errstr, M2C_E_DATA, "converter %s finished but left no PDF file "
		    "in its output folder%s; check that its command writes one *.pdf into %%o, "
		    "or send the document as PDF", cmd, s);
		goto out;
	}
	if (count > 1) {
		r = m2c_fail(errstr, M2C_E_DATA, "converter %s left %zu PDF files in its output "
		    "folder where exactly one was expected; check its command", cmd, count);
		goto out;
	}
	fd = openat(dirfd(d), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = m2c_fail(errstr, M2C_E_DATA, "converter %s left %s, which is not a regular "
		    "file%s%s; check its command", cmd, name,
		    fd < 0 ? ": " : "", fd < 0 ? strerror(errno) : "");
		goto out;
	}
	if (read_full(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    memcmp(head, "%PDF-", sizeof(head)) != 0) {
		r = m2c_fail(errstr, M2C_E_DATA, "converter %s wrote %s, which is not a PDF "
		    "(it does not start with %%PDF-); send the document as PDF instead",
		    cmd, name);
		goto out;
	}
	if ((outfd = private_tmpfile(scratch_dir, CONV_PART, &path, errstr)) < 0) {
		r = outfd;
		goto out;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		e = errno;
	else if ((e = copy_fd(fd, outfd)) == 0 && fsync(outfd) != 0)
		e = errno;
	if (e != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot copy the converted PDF to %s: %s",
		    path, strerror(e));
		(void)unlink(path);
		goto out;
	}
	*out = path;
	path = NULL;
out:
	if (outfd >= 0)
		close(outfd);
	if (fd >= 0)
		close(fd);
	closedir(d);
	free(name);
	free(path);
	free(s);
	return r;
}

/* Copy input into the new file docpath (0600). */
static int
copy_input(const char *input, const char *docpath, char **errstr)
{
	int in, out = -1, e = 0, r = 0;

	if ((in = open(input, O_RDONLY | O_CLOEXEC)) < 0)
		return m2c_fail(errstr, M2C_E_SYS, "cannot read %s for conversion: %s",
		    input, strerror(errno));
	out = open(docpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0 || (e = copy_fd(in, out)) != 0)
		r = m2c_fail(errstr, M2C_E_SYS, "cannot copy %s to %s for conversion: %s",
		    input, docpath, strerror(out < 0 ? errno : e));
	if (out >= 0 && close(out) != 0 && r == 0)
		r = m2c_fail(errstr, M2C_E_SYS, "cannot copy %s to %s for conversion: %s",
		    input, docpath, strerror(errno));
	close(in);
	return r;
}

int
convert_to_pdf(const struct conf_converter *cv, const char *input, const char *sniffed_type,
    const char *scratch_dir, char **pdf_path, char **errstr)
{
	char *folder = NULL, *docpath = NULL, *out = NULL;
	const char *base;
	int r;

	*pdf_path = NULL;
	if (sniffed_type == NULL)
		sniffed_type = "application/octet-stream";
	if (cv == NULL || cv->command.n == 0 || cv->command.v[0][0] != '/') {
		r = m2c_fail(errstr, M2C_E_CONFIG, "the converter for %s has %s; give its "
		    "command as an absolute path and its arguments", sniffed_type,
		    cv == NULL || cv->command.n == 0 ? "no command" :
		    "a command that is not an absolute path");
		goto out;
	}
	if (access(cv->command.v[0], X_OK) != 0) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "cannot run %s: %s (install it, or fix the "
		    "command of the converter for %s in the config)", cv->command.v[0],
		    strerror(errno), sniffed_type);
		goto out;
	}
	if (access(scratch_dir, W_OK | X_OK) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot make a folder for the converter in "
		    "%s: %s", scratch_dir, strerror(errno));
		goto out;
	}
	/*
	 * Run by root, the sandbox runs as nobody, who cannot reach the
	 * scratch folder: its folder is made under CONV_ROOT_BASE instead.
	 */
	base = !cv->unsandboxed && geteuid() == 0 ? CONV_ROOT_BASE : scratch_dir;
	folder = xasprintf("%s/" CONV_PREFIX "XXXXXX", base);
	if (mkdtemp(folder) == NULL) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot make a folder for the converter in "
		    "%s: %s", base, strerror(errno));
		free(folder);
		folder = NULL;
		goto out;
	}
	docpath = xasprintf("%s/document.%s", folder, conv_ext(sniffed_type));
	if ((r = copy_input(input, docpath, errstr)) != 0)
		goto out;
	if ((r = run_command(cv, folder, docpath, sniffed_type, errstr)) != 0)
		goto out;
	if ((r = take_pdf(cv->command.v[0], folder, scratch_dir, &out, errstr)) != 0)
		goto out;
	*pdf_path = out;
	out = NULL;
out:
	if (folder != NULL)
		remove_folder(folder);
	free(folder);
	free(docpath);
	free(out);
	return r;
}
