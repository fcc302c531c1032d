/* util.c - allocation, strings, secrets, private files; see util.h. */
#include "m2c-config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "utf8.h"
#include "util.h"

static void
oom(void)
{
	static const char msg[] = "mail2cups: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EX_OSERR);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	void *q;

	if (size != 0 && nmemb > (size_t)-1 / size)
		oom();
	q = realloc(p, (nmemb * size) != 0 ? nmemb * size : 1);
	if (q == NULL)
		oom();
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
wipe(void *p, size_t n)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
#endif
}

void
free_secret(char *s)
{
	if (s == NULL)
		return;
	wipe(s, strlen(s));
	free(s);
}

static void
buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need < b->len)
		oom();
	if (need <= b->cap)
		return;
	while (b->cap < need)
		b->cap = b->cap ? b->cap * 2 : 64;
	b->data = xreallocarray(b->data, 1, b->cap);
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_appendc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_vappendf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	/* Formatted in place: no copy of a secret is left behind. */
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		oom();
	buf_grow(b, (size_t)n);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vappendf(b, fmt, ap);
	va_end(ap);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_free_secret(struct buf *b)
{
	if (b->data != NULL)
		wipe(b->data, b->cap);
	buf_free(b);
}

char *
buf_steal(struct buf *b)
{
	char *p;

	if (b->data == NULL)
		buf_grow(b, 0), b->data[0] = '\0';
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
str_casecmp(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b))
		a++, b++;
	return lower((unsigned char)*a) - lower((unsigned char)*b);
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
str_wildcard_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' || (*p && lower((unsigned char)*p) == lower((unsigned char)*s))) {
			p++, s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int
mkdir_p(const char *path, mode_t mode, char **errstr)
{
	char *copy = xstrdup(path), *p;
	struct stat st;
	int r = 0;

	for (p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST) {
			r = m2c_fail(errstr, m2c_err_from_errno(errno), "cannot create directory %s: %s",
			    copy, strerror(errno));
			goto out;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		r = m2c_fail(errstr, M2C_E_SYS, "%s exists and is not a directory", path);
out:
	free(copy);
	return r;
}

int
private_tmpfile(const char *dir, const char *prefix, char **path_out, char **errstr)
{
	char *path;
	int fd;

	if (path_out)
		*path_out = NULL;
#ifdef O_TMPFILE
	if (path_out == NULL && (fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
	/* else (a file system without it): a name, removed at once below */
#endif
	path = xasprintf("%s/%s.XXXXXX", dir, prefix);
#ifdef HAVE_MKOSTEMP
	fd = mkostemp(path, O_CLOEXEC);
#else
	fd = mkstemp(path);
#endif
	if (fd < 0) {
		int e = errno;
		free(path);
		return m2c_fail(errstr, m2c_err_from_errno(e),
		    "cannot create a scratch file in %s: %s", dir, strerror(e));
	}
	(void)fchmod(fd, 0600);
	if (path_out) {
		*path_out = path;
		return fd;
	}
	(void)unlink(path);
	free(path);
	return fd;
}

static int
rm_tree_depth(int dirfd, const char *name, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	if (depth >= RM_TREE_DEPTH)
		return -1;
	if ((st.st_mode & S_IRWXU) != S_IRWXU)
		(void)fchmodat(dirfd, name, S_IRWXU, 0);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_tree_depth(fd, de->d_name, depth + 1) != 0)
			r = -1;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		r = -1;
	return r;
}

int
rm_tree_at(int dirfd, const char *name)
{
	return rm_tree_depth(dirfd, name, 0);
}

void
rm_prefixed(const char *dir, const char *const *prefixes)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		for (const char *const *p = prefixes; *p != NULL; p++)
			if (str_has_prefix(de->d_name, *p)) {
				if (rm_tree_at(dirfd(d), de->d_name) != 0)
					log_warn("cannot remove %s/%s completely", dir, de->d_name);
				break;
			}
	closedir(d);
}

void
fd_close(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return M2C_E_SYS;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

long long
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(host);

	if (str_casecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (len > 2 && len < sizeof(buf) && host[0] == '[' && host[len - 1] == ']') {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/*
 * The length of the UTF-8 sequence at s (n bytes left) that is safe to
 * show: valid (utf8.h) and not a C1 control (U+0080..U+009F); 0 if none.
 */
static size_t
utf8_seq_shown(const unsigned char *s, size_t n)
{
	uint32_t cp = 0;
	size_t len = utf8_seq(s, n, &cp);

	return len == 2 && cp < 0xa0 ? 0 : len;
}

char *
str_for_terminal(const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf b = { 0 };
	size_t i = 0, k;

	while (i < len) {
		if (b.len >= max) {
			buf_append(&b, "...", 3);
			break;
		}
		k = utf8_seq_shown(p + i, len - i);
		/* A C1 control (CSI is U+009B) is one character: one '?'. */
		if (k == 0 && p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] < 0xa0) {
			buf_appendc(&b, '?');
			i += 2;
			continue;
		}
		if (k == 0 || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			buf_appendc(&b, '?');
			i++;
			continue;
		}
		buf_append(&b, p + i, k);
		i += k;
	}
	return buf_steal(&b);
}

char *
path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}
