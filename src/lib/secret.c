/* secret.c - secret files; see secret.h. */
#include "m2c-config.h"

#include <errno.h>
#include <fcntl.h>
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
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return m2c_fail(errstr, M2C_E_CONFIG,
		    "%s belongs to uid %u, not to the user mail2cups runs as (uid %u): "
		    "chown it to that user", what, (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_mode & 077)
		return m2c_fail(errstr, M2C_E_CONFIG,
		    "%s has mode %04o: other users can read it, so it is refused "
		    "(run: chmod 600 %s)", what, (unsigned)(st->st_mode & 07777), what);
	return 0;
}

int
secret_file_read(const char *path, char **out, char **errstr)
{
	struct stat st;
	struct buf b = { 0 };
	char chunk[4096];
	int fd, r = 0;
	ssize_t n;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return m2c_fail(errstr, errno == ENOENT ? M2C_E_CONFIG : M2C_E_SYS,
		    "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if ((r = secret_check_perms(&st, path, errstr)) != 0)
		goto out;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = m2c_fail(errstr, M2C_E_SYS, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (b.len + (size_t)n > SECRET_MAX) {
			r = m2c_fail(errstr, M2C_E_CONFIG, "%s is too large for a secret", path);
			goto out;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	if (b.data != NULL)
		b.len = strcspn(b.data, "\r\n"), b.data[b.len] = '\0';
	if (b.len == 0) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "%s is empty: put the secret on its first line",
		    path);
		goto out;
	}
	log_secret_add(b.data);
	*out = buf_steal(&b);
out:
	wipe(chunk, sizeof(chunk));
	if (b.data)
		wipe(b.data, b.cap);
	buf_free(&b);
	close(fd);
	return r;
}
