/*
 * mail2cups-plugin.c - the Dovecot plugin: wake the mail2cups daemon when a
 * watched mailbox gets messages; see mail2cups-plugin.h.
 *
 * Dovecot's pools, data stack and event logging only (the datagram is
 * written by src/lib/wake.c, which allocates nothing).  Nothing here may
 * fail, block or change a delivery: every problem is logged and dropped.
 */
#include "lib.h"
#include "array.h"
#include "ioloop.h"
#include "seq-range-array.h"
#include "sort.h"
#include "str-sanitize.h"
#include "mail-user.h"
#include "mail-storage-private.h"
#include "notify-plugin.h"
#include "mail2cups-plugin.h"

#include <sys/socket.h>
#include <sys/un.h>

#include "wake.h"

#define MAIL2CUPS_MAX_MAILBOXES	100	/* mail2cups_mailbox .. mail2cups_mailbox100 */
#define MAIL2CUPS_LOG_INTERVAL	60	/* s between two logs of a failed send */

#define MAIL2CUPS_USER_CONTEXT(obj) \
	MODULE_CONTEXT(obj, mail2cups_user_module)

struct mail2cups_user {
	union mail_user_module_context module_ctx;
	struct event *event;			/* "mail2cups: " prefix */
	const char *socket_path;		/* user pool */
	ARRAY_TYPE(const_string) mailboxes;	/* vnames, user pool */
};

/* A transaction on a watched mailbox (others get no context at all). */
struct mail2cups_txn {
	struct mail2cups_user *muser;
	struct mailbox *box;
	unsigned int saved;			/* messages saved or copied */
};

const char *mail2cups_plugin_version = DOVECOT_ABI_VERSION;
const char *mail2cups_plugin_dependencies[] = { "notify", NULL };

static MODULE_CONTEXT_DEFINE_INIT(mail2cups_user_module, &mail_user_module_register);
static struct notify_context *mail2cups_notify_ctx;

/* Per process: each settings problem is logged once; send failures once a minute. */
static bool mail2cups_warned_socket_missing, mail2cups_warned_socket_bad;
static time_t mail2cups_last_send_log;
static unsigned int mail2cups_unlogged_failures;

static void
mail2cups_user_deinit(struct mail_user *user)
{
	struct mail2cups_user *muser = MAIL2CUPS_USER_CONTEXT(user);

	i_assert(muser != NULL);
	event_unref(&muser->event);
	muser->module_ctx.super.deinit(user);
}

/* The socket path is usable: absolute and fits in sun_path. */
static bool
mail2cups_socket_ok(const char *path)
{
	struct sockaddr_un sun;

	return path[0] == '/' && strlen(path) < sizeof(sun.sun_path);
}

static void
mail2cups_user_created(struct mail_user *user)
{
	struct mail_user_vfuncs *v = user->vlast;
	struct mail2cups_user *muser;
	const char *path, *name;
	unsigned int i;

	muser = p_new(user->pool, struct mail2cups_user, 1);
	p_array_init(&muser->mailboxes, user->pool, 4);
	for (i = 1; i <= MAIL2CUPS_MAX_MAILBOXES; i++) {
		const char *key = i == 1 ? "mail2cups_mailbox" :
		    t_strdup_printf("mail2cups_mailbox%u", i);

		name = mail_user_plugin_getenv(user, key);
		if (name == NULL || name[0] == '\0')
			break;
		name = p_strdup(user->pool, name);
		array_push_back(&muser->mailboxes, &name);
	}
	if (array_count(&muser->mailboxes) == 0)
		return;	/* this user is not watched */

	path = mail_user_plugin_getenv(user, "mail2cups_socket");
	if (path == NULL || path[0] == '\0') {
		if (!mail2cups_warned_socket_missing) {
			e_warning(user->event, "mail2cups: mail2cups_mailbox is set but "
			    "mail2cups_socket is not: no wake-ups are sent (set "
			    "mail2cups_socket to mail2cups's wake_socket in plugin {})");
			mail2cups_warned_socket_missing = TRUE;
		}
		return;
	}
	if (!mail2cups_socket_ok(path)) {
		if (!mail2cups_warned_socket_bad) {
			e_error(user->event, "mail2cups: mail2cups_socket = %s is not an "
			    "absolute path of at most %u bytes: no wake-ups are sent (fix it "
			    "in plugin {})", str_sanitize(path, 200),
			    (unsigned int)sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
			mail2cups_warned_socket_bad = TRUE;
		}
		return;
	}
	muser->socket_path = p_strdup(user->pool, path);
	muser->event = event_create(user->event);
	event_set_append_log_prefix(muser->event, "mail2cups: ");

	muser->module_ctx.super = *v;
	user->vlast = &muser->module_ctx.super;
	v->deinit = mail2cups_user_deinit;
	MODULE_CONTEXT_SET(user, mail2cups_user_module, muser);
}

static bool
mail2cups_watched(const struct mail2cups_user *muser, const char *vname)
{
	const char *name;

	array_foreach_elem(&muser->mailboxes, name) {
		if (strcmp(name, vname) == 0 ||
		    (strcasecmp(name, "INBOX") == 0 && strcasecmp(vname, "INBOX") == 0))
			return TRUE;
	}
	return FALSE;
}

static void *
mail2cups_transaction_begin(struct mailbox_transaction_context *t)
{
	struct mailbox *box = mailbox_transaction_get_mailbox(t);
	struct mail2cups_user *muser = MAIL2CUPS_USER_CONTEXT(box->storage->user);
	struct mail2cups_txn *ctx;

	if (muser == NULL || !mail2cups_watched(muser, mailbox_get_vname(box)))
		return NULL;
	ctx = i_new(struct mail2cups_txn, 1);
	ctx->muser = muser;
	ctx->box = box;
	return ctx;
}

/* A message is saved or copied in a watched mailbox: have it get its UID. */
static void
mail2cups_saved(struct mail2cups_txn *ctx, struct mail *mail)
{
	if (ctx == NULL)
		return;
	mail->transaction->flags |= MAILBOX_TRANSACTION_FLAG_ASSIGN_UIDS;
	ctx->saved++;
}

static void
mail2cups_mail_save(void *txn, struct mail *mail)
{
	mail2cups_saved(txn, mail);
}

static void
mail2cups_mail_copy(void *txn, struct mail *src ATTR_UNUSED, struct mail *dst)
{
	mail2cups_saved(txn, dst);
}

static int
mail2cups_range_cmp(const struct seq_range *a, const struct seq_range *b)
{
	return a->seq1 < b->seq1 ? -1 : a->seq1 > b->seq1;
}

/* Log a failed send, at most once a minute (counting the ones left out). */
static void
mail2cups_send_failed(struct mail2cups_txn *ctx, const char *fmt, ...) ATTR_FORMAT(2, 3);

static void
mail2cups_send_failed(struct mail2cups_txn *ctx, const char *fmt, ...)
{
	va_list args;
	const char *msg;

	if (mail2cups_last_send_log != 0 &&
	    ioloop_time - mail2cups_last_send_log < MAIL2CUPS_LOG_INTERVAL) {
		mail2cups_unlogged_failures++;
		return;
	}
	va_start(args, fmt);
	msg = t_strdup_vprintf(fmt, args);
	va_end(args);
	if (mail2cups_unlogged_failures > 0)
		msg = t_strdup_printf("%s (and %u more since the last such message)", msg,
		    mail2cups_unlogged_failures);
	e_warning(ctx->muser->event, "%s; the messages print at mail2cups's next poll", msg);
	mail2cups_last_send_log = ioloop_time;
	mail2cups_unlogged_failures = 0;
}

static void
mail2cups_send(struct mail2cups_txn *ctx, const struct mail_transaction_commit_changes *changes)
{
	const char *user = ctx->box->storage->user->username;
	const char *vname = mailbox_get_vname(ctx->box);
	const char *path = ctx->muser->socket_path;
	const struct seq_range *src;
	struct seq_range *ranges;
	struct sockaddr_un sun;
	struct wake *w;
	char *buf;
	unsigned int i, count;
	int len, fd;

	if (changes->no_read_perm || changes->uid_validity == 0 ||
	    array_count(&changes->saved_uids) == 0) {
		e_debug(ctx->muser->event, "%u message(s) in %s but no UIDs to send", ctx->saved,
		    str_sanitize(vname, 100));
		return;
	}
	w = t_new(struct wake, 1);
	if (strlen(user) > WAKE_MAX_USER || strlen(vname) > WAKE_MAX_MAILBOX) {
		mail2cups_send_failed(ctx, "user or mailbox name too long for a wake-up");
		return;
	}
	memcpy(w->user, user, strlen(user) + 1);
	memcpy(w->mailbox, vname, strlen(vname) + 1);
	w->uidvalidity = changes->uid_validity;
	/* Not necessarily ascending (mail-storage.h): sort a copy. */
	src = array_get(&changes->saved_uids, &count);
	ranges = t_new(struct seq_range, count);
	memcpy(ranges, src, sizeof(*ranges) * count);
	i_qsort(ranges, count, sizeof(*ranges), mail2cups_range_cmp);
	for (i = 0; i < count; i++)
		(void)wake_add_range(w, ranges[i].seq1, ranges[i].seq2);
	buf = t_malloc_no0(WAKE_MAX_SIZE + 1);
	if ((len = wake_format(w, buf, WAKE_MAX_SIZE + 1)) < 0) {
		mail2cups_send_failed(ctx, "cannot write a wake-up for %s in %s (a control "
		    "character or invalid UTF-8 in a name?)", str_sanitize(user, 100),
		    str_sanitize(vname, 100));
		return;
	}

	i_zero(&sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		mail2cups_send_failed(ctx, "socket() failed: %m");
		return;
	}
	if (sendto(fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (const struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			mail2cups_send_failed(ctx, "cannot wake mail2cups at %s: %m (is mail2cups "
			    "running, with wake_socket = \"%s\"?)", path, path);
		else if (errno == EACCES || errno == EPERM)
			mail2cups_send_failed(ctx, "cannot wake mail2cups at %s: %m (set "
			    "wake_socket_group in mail2cups.conf to a group of this process)",
			    path);
		else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			mail2cups_send_failed(ctx, "mail2cups at %s is not keeping up (its socket "
			    "is full); a wake-up was dropped", path);
		else
			mail2cups_send_failed(ctx, "cannot wake mail2cups at %s: %m", path);
	} else {
		e_debug(ctx->muser->event, "woke mail2cups for %s in %s (%u message(s))",
		    str_sanitize(user, 100), str_sanitize(vname, 100), ctx->saved);
	}
	i_close_fd(&fd);
}

static void
mail2cups_transaction_commit(void *txn, struct mail_transaction_commit_changes *changes)
{
	struct mail2cups_txn *ctx = txn;

	if (ctx == NULL)
		return;
	if (ctx->saved > 0) T_BEGIN {
		mail2cups_send(ctx, changes);
	} T_END;
	i_free(ctx);
}

static void
mail2cups_transaction_rollback(void *txn)
{
	struct mail2cups_txn *ctx = txn;

	i_free(ctx);
}

static const struct notify_vfuncs mail2cups_vfuncs = {
	.mail_transaction_begin = mail2cups_transaction_begin,
	.mail_save = mail2cups_mail_save,
	.mail_copy = mail2cups_mail_copy,
	.mail_transaction_commit = mail2cups_transaction_commit,
	.mail_transaction_rollback = mail2cups_transaction_rollback,
};

static struct mail_storage_hooks mail2cups_storage_hooks = {
	.mail_user_created = mail2cups_user_created,
};

void
mail2cups_plugin_init(struct module *module)
{
	mail2cups_notify_ctx = notify_register(&mail2cups_vfuncs);
	mail_storage_hooks_add(module, &mail2cups_storage_hooks);
}

void
mail2cups_plugin_deinit(void)
{
	mail_storage_hooks_remove(&mail2cups_storage_hooks);
	notify_unregister(mail2cups_notify_ctx);
}
