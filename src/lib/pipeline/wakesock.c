/* wakesock.c - the daemon's wake-up socket; see wakesock.h. */
#include "m2c-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "util.h"
#include "wakesock.h"

#define WAKE_SOCK_LOG_INTERVAL 60	/* s between two logs of refused datagrams */
#define WAKE_SOCK_RETRY_MS	50	/* a busy account is woken again this much later */

/*
 * When an account (for print_folders: one user's folder of it) was last
 * woken, and whether a wake-up is held back.  A slot with nothing held
 * back whose interval is over says nothing more, and is dropped.
 */
struct wake_account {
	char *name;			/* owned */
	char *user;			/* owned; NULL but for a print_folders account */
	long long woken_at;		/* monotonic ms; 0: never */
	long long retry_at;		/* monotonic ms: it was busy, not before; 0: no */
	int pending;
};

struct wake_sock {
	int fd;
	char *path;			/* owned */
	time_t last_log;		/* when refused datagrams were last logged */
	unsigned long refused;		/* since then */
	struct wake_account *acct;	/* owned: the accounts and users woken within
					 * wake_interval, or held back */
	size_t nacct;
};

/* Somebody listens on path: a datagram socket we can connect to. */
static int
someone_listens(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return 0;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return r;
}

int
wake_sock_open(const char *path, const char *group, struct wake_sock **out, char **errstr)
{
	struct sockaddr_un sun;
	struct wake_sock *ws;
	struct stat st;
	gid_t gid = (gid_t)-1;
	mode_t old;
	int fd, r;

	*out = NULL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return m2c_fail(errstr, M2C_E_CONFIG, "wake_socket %s: longer than a socket path "
		    "may be (%zu bytes)", path, sizeof(sun.sun_path) - 1);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (group != NULL) {
		long long g = conf_group_gid(group);

		if (g < 0)
			return m2c_fail(errstr, M2C_E_CONFIG, "wake_socket_group %s: no such group",
			    group);
		gid = (gid_t)g;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return m2c_fail(errstr, M2C_E_CONFIG, "wake_socket %s: exists and is not a "
			    "socket; remove it or choose another path", path);
		if (someone_listens(&sun))
			return m2c_fail(errstr, M2C_E_CONFIG, "wake_socket %s: another process "
			    "(another mail2cups?) listens there already; stop it, or give each "
			    "its own wake_socket", path);
		(void)unlink(path);	/* left by a daemon that is gone */
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return m2c_fail(errstr, M2C_E_SYS, "wake_socket: socket: %s", strerror(errno));
	{
		int one = 1;	/* the sender's uid, for the log of refused datagrams */

		(void)setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	}
	/* Nobody may write to it before its group and mode are right. */
	old = umask(0177);
	r = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0) {
		r = m2c_fail(errstr, errno == ENOENT || errno == EACCES ? M2C_E_CONFIG : M2C_E_SYS,
		    "wake_socket %s: cannot create it: %s (its folder must exist and be "
		    "writable by the user mail2cups runs as)", path, strerror(errno));
		close(fd);
		return r;
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "wake_socket %s: cannot give it to group %s: "
		    "%s (the user mail2cups runs as must be a member of %s: usermod -a -G %s "
		    "USER)", path, group, strerror(errno), group, group);
		goto fail;
	}
	if (chmod(path, gid != (gid_t)-1 ? 0660 : 0600) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "wake_socket %s: chmod: %s", path, strerror(errno));
		goto fail;
	}
	ws = xcalloc(1, sizeof(*ws));
	ws->fd = fd;
	ws->path = xstrdup(path);
	*out = ws;
	log_info("listening for wake-ups from Dovecot on %s%s%s", path,
	    group ? " for group " : "", group ? group : "");
	return 0;
fail:
	(void)unlink(path);
	close(fd);
	return r;
}

int
wake_sock_fd(const struct wake_sock *ws)
{
	return ws->fd;
}

/*
 * Log what was refused (or matched no account) at most once a minute, with
 * how many such datagrams came since the last such line.
 */
static void
refused(struct wake_sock *ws, const char *why, uid_t uid, int has_uid)
{
	time_t now = time(NULL);
	char from[40] = "";

	ws->refused++;
	if (ws->last_log != 0 && now - ws->last_log < WAKE_SOCK_LOG_INTERVAL)
		return;
	if (has_uid)
		snprintf(from, sizeof(from), " from uid %u", (unsigned)uid);
	log_warn("wake_socket: ignored a datagram%s: %s (%lu ignored in the last minute; "
	    "these logs come at most once a minute)", from, why, ws->refused);
	ws->last_log = now;
	ws->refused = 0;
}

/* Account a serves the mailbox w names (print_folders: that folder of any user). */
static int
wake_matches(const struct conf_account *a, const struct wake *w)
{
	if (a->print_folders)
		return strcmp(a->mailbox, w->mailbox) == 0;
	if (str_casecmp(a->username, w->user) != 0)
		return 0;
	if (str_casecmp(a->mailbox, "INBOX") == 0)
		return str_casecmp(w->mailbox, "INBOX") == 0;
	return strcmp(a->mailbox, w->mailbox) == 0;
}

/* The slot of account name (and user, or NULL). */
static struct wake_account *
account_slot(struct wake_sock *ws, const char *name, const char *user)
{
	struct wake_account *wa;

	for (size_t i = 0; i < ws->nacct; i++) {
		wa = &ws->acct[i];
		if (strcmp(wa->name, name) == 0 && (wa->user == NULL) == (user == NULL) &&
		    (user == NULL || strcmp(wa->user, user) == 0))
			return wa;
	}
	ws->acct = xreallocarray(ws->acct, ws->nacct + 1, sizeof(*ws->acct));
	wa = &ws->acct[ws->nacct++];
	memset(wa, 0, sizeof(*wa));
	wa->name = xstrdup(name);
	wa->user = user ? xstrdup(user) : NULL;
	return wa;
}

/* When wa may be woken again: wake_interval after the last, or its retry. */
static long long
slot_due(const struct wake_account *wa, const struct conf *cf)
{
	long long at = wa->woken_at != 0 ? wa->woken_at + cf->wake_interval * 1000LL : 0;

	return wa->retry_at > at ? wa->retry_at : at;
}

/* Wake wa now, or hold the wake-up back until it is due (slot_due). */
static void
wake_account(struct wake_account *wa, const struct conf *cf, long long now,
    wake_sock_fn *wake, void *arg)
{
	int r;

	if (slot_due(wa, cf) > now) {
		wa->pending = 1;
		return;
	}
	wa->pending = 0;
	wa->retry_at = 0;
	r = wake(arg, wa->name, wa->user);
	if (r == 0) {
		wa->woken_at = now;
	} else if (r > 0) {
		/* Busy: again in a moment. */
		wa->pending = 1;
		wa->retry_at = now + WAKE_SOCK_RETRY_MS;
	}
}

static void
wake_datagram(struct wake_sock *ws, const struct wake *w, const struct conf *cf,
    wake_sock_fn *wake, void *arg, uid_t uid, int has_uid)
{
	long long now = monotonic_ms();
	int found = 0;

	for (size_t i = 0; i < cf->naccounts; i++) {
		const struct conf_account *a = &cf->accounts[i];
		struct wake_account *wa;

		if (!wake_matches(a, w))
			continue;
		found = 1;
		wa = account_slot(ws, a->name, a->print_folders ? w->user : NULL);
		/* Logged only when it is sent now: at most once per wake_interval. */
		if (wa->woken_at == 0 || now - wa->woken_at >= cf->wake_interval * 1000LL)
			log_debug("%s: wake-up from Dovecot: %s in %s, UIDVALIDITY %u, UIDs "
			    "%u..%u", a->name, w->user, w->mailbox, (unsigned)w->uidvalidity,
			    (unsigned)w->uids[0].first, (unsigned)w->uids[w->nuids - 1].last);
		wake_account(wa, cf, now, wake, arg);
	}
	if (!found)
		refused(ws, "no account has that username and mailbox", uid, has_uid);
}

/* Read up to WAKE_SOCK_BATCH datagrams; wake whom the good ones name. */
static void
drain(struct wake_sock *ws, const struct conf *cf, wake_sock_fn *wake, void *arg)
{
	/* One spare byte: a datagram longer than WAKE_MAX_SIZE shows as too long. */
	char buf[WAKE_MAX_SIZE + 1];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct wake w;

	for (int n = 0; n < WAKE_SOCK_BATCH; n++) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh;
		struct cmsghdr *c;
		const char *why = NULL;
		uid_t uid = 0;
		int has_uid = 0;
		ssize_t len;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		len = recvmsg(ws->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("wake_socket: %s", strerror(errno));
			break;
		}
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred cr;

				memcpy(&cr, CMSG_DATA(c), sizeof(cr));
				uid = cr.uid;
				has_uid = 1;
			}
		}
		if ((size_t)len > WAKE_MAX_SIZE) {
			refused(ws, "longer than any wake-up datagram", uid, has_uid);
			continue;
		}
		if (wake_parse(buf, (size_t)len, &w, &why) != 0) {
			refused(ws, why, uid, has_uid);
			continue;
		}
		wake_datagram(ws, &w, cf, wake, arg, uid, has_uid);
	}
}

long long
wake_sock_serve(struct wake_sock *ws, int readable, const struct conf *cf, wake_sock_fn *wake,
    void *arg)
{
	long long now, next = -1;

	if (readable)
		drain(ws, cf, wake, arg);
	now = monotonic_ms();
	for (size_t i = 0; i < ws->nacct;) {
		struct wake_account *wa = &ws->acct[i];
		long long at = slot_due(wa, cf);

		if (!wa->pending && at <= now) {
			/* Its interval is over: as good as never woken. */
			free(wa->name);
			free(wa->user);
			*wa = ws->acct[--ws->nacct];
			continue;
		}
		i++;
		if (!wa->pending)
			continue;
		if (at <= now) {
			wake_account(wa, cf, now, wake, arg);
			at = slot_due(wa, cf);
		}
		if (wa->pending && (next < 0 || at - now < next))
			next = at - now;
	}
	return next;
}

void
wake_sock_close(struct wake_sock **wsp)
{
	struct wake_sock *ws;

	if (wsp == NULL || (ws = *wsp) == NULL)
		return;
	close(ws->fd);
	(void)unlink(ws->path);
	free(ws->path);
	for (size_t i = 0; i < ws->nacct; i++) {
		free(ws->acct[i].name);
		free(ws->acct[i].user);
	}
	free(ws->acct);
	free(ws);
	*wsp = NULL;
}
