/* secret.c - secret files; see secret.h. */
#include "m2c-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "secret.h"
#include "util.h"

#define SECRET_MAX 65536

int
secret_check_perms(const struct stat *st, const char *what, char **errstr)
{
	if (!S_ISREG(st->st_mode))
		return m2c_fail(errstr, M2C_E_CONFIG, "%s is not a regular file", what);
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		struct passwd *pw = getpwuid(geteuid());
		char *owner = pw != NULL ? xstrdup(pw->pw_name) :
		    xasprintf("%u", (unsigned)geteuid());
		int r = m2c_fail(errstr, M2C_E_CONFIG, "%s belongs to uid %u, not to the user "
		    "mail2cups runs as (uid %u) (run: chown %s: %s)", what, (unsigned)st->st_uid,
		    (unsigned)geteuid(), owner, what);

		free(owner);
		return r;
	}
	if (st->st_mode & 077)
		return m2c_fail(errstr, M2C_E_CONFIG,
		    "%s has mode %04o: other users can read it, so it is refused "
		    "(run: chmod 600 %s)", what, (unsigned)(st->st_mode & 07777), what);
	return 0;
}

/*
 * Open path for reading as a secret: no symbolic link, secret_check_perms.
 * The fd, M2C_E_NOTFOUND without a message when it does not exist, or
 * another code with the fix.
 */
static int
secret_open(const char *path, char **errstr)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		struct passwd *pw;

		if (errno == ENOENT)
			return M2C_E_NOTFOUND;
		if (errno == ELOOP)
			return m2c_fail(errstr, M2C_E_CONFIG, "%s is a symbolic link, so it is "
			    "refused (replace the link with the file itself)", path);
		if (errno != EACCES)
			return m2c_fail(errstr, m2c_err_from_errno(errno), "cannot open %s: %s",
			    path, strerror(errno));
		/* After the switch (privdrop.h): the service user must own it. */
		pw = getpwuid(geteuid());
		if (pw != NULL)
			return m2c_fail(errstr, M2C_E_CONFIG, "cannot open %s: %s: it must be "
			    "readable by user %s, the user mail2cups runs as (run: chown %s: %s; "
			    "chmod 600 %s)", path, strerror(EACCES), pw->pw_name, pw->pw_name, path,
			    path);
		return m2c_fail(errstr, M2C_E_CONFIG, "cannot open %s: %s: it must be readable "
		    "by uid %u, the user mail2cups runs as (run: chown %u: %s; chmod 600 %s)",
		    path, strerror(EACCES), (unsigned)geteuid(), (unsigned)geteuid(), path, path);
	}
	if (fstat(fd, &st) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot stat %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	if ((r = secret_check_perms(&st, path, errstr)) != 0) {
		close(fd);
		return r;
	}
	return fd;
}

int
secret_file_check(const char *path, char **errstr)
{
	int fd = secret_open(path, errstr);

	if (fd == M2C_E_NOTFOUND)
		return m2c_fail(errstr, M2C_E_CONFIG, "cannot open %s: %s", path, strerror(ENOENT));
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/*
 * secret_file_load: see secret.h.  M2C_E_NOTFOUND without a message when it does not
 * exist; too_big is the code for a file larger than max.
 */
int
secret_file_load(const char *path, size_t max, int too_big, struct buf *b, char **errstr)
{
	char chunk[4096];
	ssize_t n;
	int fd, r = 0;

	if ((fd = secret_open(path, errstr)) < 0)
		return fd;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = m2c_fail(errstr, M2C_E_SYS, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (b->len + (size_t)n > max) {
			r = m2c_fail(errstr, too_big, "%s is larger than %zu bytes, so it is refused",
			    path, max);
			goto out;
		}
		buf_append(b, chunk, (size_t)n);
	}
out:
	wipe(chunk, sizeof(chunk));
	close(fd);
	return r;
}

int
secret_file_read(const char *path, char **out, char **errstr)
{
	struct buf b = { 0 };
	int r;

	*out = NULL;
	r = secret_file_load(path, SECRET_MAX, M2C_E_CONFIG, &b, errstr);
	if (r == M2C_E_NOTFOUND)
		r = m2c_fail(errstr, M2C_E_CONFIG, "cannot open %s: %s", path, strerror(ENOENT));
	if (r != 0)
		goto out;
	if (b.data != NULL)
		b.len = strcspn(b.data, "\r\n"), b.data[b.len] = '\0';
	if (b.len == 0) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "%s is empty: put the secret on its first line",
		    path);
		goto out;
	}
	log_secret_add(b.data);
	*out = xstrdup(b.data);
out:
	buf_free_secret(&b);
	return r;
}
