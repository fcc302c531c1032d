/* check.c - `mail2cups check`: try an account's every part; see check.h. */
#include "m2c-config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "check.h"
#include "cupsjob.h"
#include "error.h"
#include "folders.h"
#include "imap.h"
#include "log.h"
#include "oauth.h"
#include "poller.h"
#include "privdrop.h"
#include "runas.h"
#include "secret.h"
#include "signin.h"
#include "rules.h"
#include "smtp.h"
#include "util.h"

/* Where one account's check stands (a NULL: the local block, "local: ..."). */
struct check {
	const struct conf *cf;
	const struct conf_account *a;
	FILE *out;
	int first;		/* the first failure's code, 0 so far */
};

/* The local block's lines (check_local). */
enum local_line { LOCAL_USER, LOCAL_STATE_DIR, LOCAL_DATABASE, LOCAL_SCRATCH,
	LOCAL_SECRETS };
static const char *const local_label[] = {
	[LOCAL_USER] = "runs as",
	[LOCAL_STATE_DIR] = "state_dir",
	[LOCAL_DATABASE] = "database",
	[LOCAL_SCRATCH] = "scratch",
	[LOCAL_SECRETS] = "secret files",
};

/* "NAME: label ....... " (the label and its dots are 15 columns). */
static void
put_head_label(struct check *c, const char *l)
{
	static const char dots[] = "...............";
	int n = 15 - 1 - (int)strlen(l);

	fprintf(c->out, "%s: %s %.*s ", c->a ? c->a->name : "local", l, n > 0 ? n : 1, dots);
}

static void
put_head(struct check *c, enum m2c_step step)
{
	put_head_label(c, m2c_step_label(step));
}

/* After the head: "ok", or "ok (DETAIL)" when fmt is not NULL. */
static void __attribute__((format(printf, 2, 0)))
put_ok_rest(struct check *c, const char *fmt, va_list ap)
{
	fputs("ok", c->out);
	if (fmt != NULL) {
		fputs(" (", c->out);
		vfprintf(c->out, fmt, ap);
		fputc(')', c->out);
	}
	fputc('\n', c->out);
}

static void __attribute__((format(printf, 3, 4)))
put_ok(struct check *c, enum m2c_step step, const char *fmt, ...)
{
	va_list ap;

	put_head(c, step);
	va_start(ap, fmt);
	put_ok_rest(c, fmt, ap);
	va_end(ap);
}

static void
put_warning(struct check *c, const char *text)
{
	fprintf(c->out, "    warning: %s\n", text);
}

/*
 * A failed step: the message, the fix, and the first failure remembered.
 * line: the check's line; step: the step that failed inside it (a sign-in
 * while connecting), for the advice.
 */
static void
put_failed_at(struct check *c, enum m2c_step line, enum m2c_step step, int err,
    const char *text)
{
	char *fix;

	if (err == 0)
		err = M2C_E_TEMP;
	if (text == NULL)
		text = m2c_err_name(err);
	fix = advice_fix(c->cf, c->a, step, err);
	put_head(c, line);
	fprintf(c->out, "FAILED: %s\n    fix: %s\n", text, fix);
	free(fix);
	if (c->first == 0)
		c->first = err;
}

static void
put_failed(struct check *c, enum m2c_step step, int err, const char *text)
{
	put_failed_at(c, step, step, err, text);
}

static void
put_skipped(struct check *c, enum m2c_step step, const char *why)
{
	put_head(c, step);
	fprintf(c->out, "skipped (%s)\n", why);
}

/* A local line (check_local): ok with its detail, or FAILED with the fix. */
static void __attribute__((format(printf, 5, 6)))
put_local(struct check *c, enum local_line line, int err, const char *text,
    const char *fmt, ...)
{
	va_list ap;
	char *fix;

	put_head_label(c, local_label[line]);
	if (err == 0) {
		va_start(ap, fmt);
		put_ok_rest(c, fmt, ap);
		va_end(ap);
		return;
	}
	fix = advice_fix(c->cf, NULL, M2C_STEP_LOCAL, err);
	fprintf(c->out, "FAILED: %s\n    fix: %s\n", text ? text : m2c_err_name(err), fix);
	free(fix);
	if (c->first == 0)
		c->first = err;
}

/* ------------------------------------------------------------------ steps */

static int
has_sender_rule(const struct conf_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].senders.n > 0)
			return 1;
	return 0;
}

/*
 * The users table and rules keyed on `senders` trust the From address
 * only when the provider authenticated it (SENDER TRUST): without a way to
 * judge that they never apply, which is worth a warning; and a users entry
 * naming a reserved user is never used.
 */
static void
check_sender_trust(struct check *c)
{
	const struct conf *cf = c->cf;
	const struct conf_account *a = c->a;
	const char *what = NULL;
	char *w;

	if (cf->nusers > 0)
		what = "the users table maps senders to CUPS users";
	else if (has_sender_rule(a->rules, a->nrules) || has_sender_rule(cf->rules, cf->nrules))
		what = "rules choose by sender (senders = [ ... ])";
	if (what != NULL && !conf_account_judges_senders(a) && !a->trust_unauthenticated_from) {
		w = xasprintf("%s, but this account has no way to judge who sent a message, so "
		    "every sender prints as CUPS user %s and rules with senders never match (set "
		    "authserv_id to the name your mail server writes in its Authentication-Results "
		    "header; or, only if nobody outside can reach this mailbox, "
		    "trust_unauthenticated_from = true)", what, RULES_UNVERIFIED_USER);
		put_warning(c, w);
		free(w);
	}
	for (size_t i = 0; i < cf->nusers; i++) {
		if (cf->users[i].user == NULL || strcmp(cf->users[i].user, "%l") == 0 ||
		    !rules_user_reserved(cf->users[i].user))
			continue;
		w = xasprintf("users: \"%s\" maps to \"%s\", a reserved or system user name: "
		    "never used, those jobs print as %s (name an ordinary user)",
		    cf->users[i].sender, cf->users[i].user, RULES_UNVERIFIED_USER);
		put_warning(c, w);
		free(w);
	}
}

static void
check_config(struct check *c)
{
	put_ok(c, M2C_STEP_CONFIG, NULL);
	if (c->a->allow_senders.n == 0)
		put_warning(c, "allow_senders is empty: nobody may print from this mailbox "
		    "(allow_senders = [ \"*@example.com\" ])");
	check_sender_trust(c);
}

/*
 * The queues the routing rules name: each must exist and accept jobs, or
 * the mail routed there waits; said as a warning naming the rule.
 */
static void
check_rule_queues(struct check *c, const struct conf_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *q = rules[i].printer, *name = rules[i].name ? rules[i].name : "?";
		char *warning = NULL, *e = NULL, *text = NULL;

		if (q == NULL || strcmp(q, c->a->printer) == 0)
			continue;
		if (cups_job_check_queue(q, &warning, &e) != 0)
			text = xasprintf("rule \"%s\": %s; mail routed there waits in the mailbox "
			    "until it is fixed", name, e);
		else if (warning != NULL)
			text = xasprintf("rule \"%s\": %s", name, warning);
		if (text != NULL)
			put_warning(c, text);
		free(text);
		free(warning);
		free(e);
	}
}

static void
check_cups(struct check *c)
{
	char *warning = NULL, *e = NULL;
	int r;

	r = cups_job_check_queue(c->a->printer, &warning, &e);
	if (r != 0) {
		put_failed(c, M2C_STEP_CUPS, r, e);
	} else {
		put_ok(c, M2C_STEP_CUPS, "%s: accepting jobs%s", c->a->printer,
		    warning ? ", stopped" : "");
		if (warning)
			put_warning(c, warning);
	}
	free(warning);
	free(e);
	check_rule_queues(c, c->a->rules, c->a->nrules);
	check_rule_queues(c, c->cf->rules, c->cf->nrules);
}

/* OAuth only: a token, and who it is for. */
static int
check_signin(struct check *c)
{
	const struct conf_account *a = c->a;
	struct oauth_tokens t = { 0 };
	char *e = NULL;
	long left;
	int r;

	if ((r = signin_token(c->cf, a, NULL, &t, &e)) != 0) {
		put_failed(c, M2C_STEP_SIGNIN, r, e);
		goto out;
	}
	/* A token for someone else opens nobody's mailbox (PaperCut's trap). */
	if (a->oauth.flow != CONF_FLOW_CLIENT_CREDENTIALS && t.identity != NULL &&
	    (r = oauth_check_identity_for(&t, conf_account_login_user(a), a->name, &e)) != 0) {
		put_failed(c, M2C_STEP_SIGNIN, r, e);
		goto out;
	}
	left = t.expires_at ? (long)(t.expires_at - time(NULL)) / 60 : -1;
	if (left >= 0)
		put_ok(c, M2C_STEP_SIGNIN, "token valid for %ld min; %s%s", left,
		    t.identity ? "signed in as " : "app-only token (client credentials)",
		    t.identity ? t.identity : "");
	else
		put_ok(c, M2C_STEP_SIGNIN, "token of unknown lifetime; %s%s",
		    t.identity ? "signed in as " : "app-only token (client credentials)",
		    t.identity ? t.identity : "");
out:
	oauth_tokens_clear(&t);
	free(e);
	return r;
}

/* Connect and sign in exactly as a pass does (poller_open_session). */
static int
check_imap(struct check *c, struct imap **imap)
{
	const struct conf_account *a = c->a;
	enum m2c_step step = M2C_STEP_IMAP;
	char *e = NULL;
	int r;

	if ((r = poller_open_session(c->cf, a, imap, &step, &e)) != 0)
		put_failed_at(c, M2C_STEP_IMAP, step, r, e);
	else
		put_ok(c, M2C_STEP_IMAP, "%s:%d, %s, %s", a->host, a->port,
		    conf_security_name(a->security), conf_auth_sasl_name(a->auth));
	free(e);
	return r;
}

/* SELECT (flags untouched) and count the unseen messages. */
static void
check_mailbox(struct check *c, struct imap *imap)
{
	uint32_t uidvalidity = 0, exists = 0, *uids = NULL;
	size_t nuids = 0;
	char *e = NULL;
	int r;

	r = imap_select(imap, c->a->mailbox, &uidvalidity, &exists, &e);
	if (r == 0)
		r = imap_search_unseen(imap, &uids, &nuids, &e);
	if (r != 0)
		put_failed(c, M2C_STEP_MAILBOX, r, e);
	else
		put_ok(c, M2C_STEP_MAILBOX, "%s: %u message%s, %zu unseen, UIDVALIDITY %u",
		    c->a->mailbox, exists, exists == 1 ? "" : "s", nuids, uidvalidity);
	free(uids);
	free(e);
}

/* With replies: the SMTP server takes our sign-in (nothing is sent). */
static void
check_smtp(struct check *c)
{
	char *where = NULL, *e = NULL;
	int r;

	if (c->a->reply == 0)
		return;
	if ((r = smtp_check(c->cf, c->a, &where, &e)) != 0)
		put_failed(c, M2C_STEP_SMTP, r, e);
	else
		put_ok(c, M2C_STEP_SMTP, "%s", where);
	free(where);
	free(e);
}

/* Does the device URI send through account name (mail2cups://NAME[/?]...)? */
static int
uri_is_account(const char *uri, const char *name)
{
	static const char scheme[] = "mail2cups://";
	size_t n = strlen(name);

	return uri != NULL && str_has_prefix(uri, scheme) &&
	    strncmp(uri + sizeof(scheme) - 1, name, n) == 0 &&
	    strchr("/?#", uri[sizeof(scheme) - 1 + n]) != NULL;
}

/*
 * The CUPS queues whose jobs leave as mail through this account: the SMTP
 * sign-in works (unless the replies step tried it already), and no such
 * queue has the stop-printer error policy.  Nothing is said for an account
 * no queue sends through, or when CUPS cannot be asked (the CUPS step has
 * said so).
 */
static void
check_backend(struct check *c, int smtp_checked)
{
	struct cups_queue *qs = NULL;
	struct buf names = { 0 };
	char *where = NULL, *e = NULL, *w;
	size_t n = 0, used = 0;
	int r;

	if (cups_job_list_queues(&qs, &n, NULL) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (uri_is_account(qs[i].device_uri, c->a->name)) {
			buf_appendf(&names, "%s%s", used++ ? ", " : "", qs[i].name);
		}
	if (used == 0)
		goto out;
	if (!smtp_checked && (r = smtp_check(c->cf, c->a, &where, &e)) != 0) {
		put_failed(c, M2C_STEP_BACKEND, r, e);
	} else {
		put_ok(c, M2C_STEP_BACKEND, "queue%s %s; %s", used == 1 ? "" : "s", names.data,
		    where ? where : "SMTP as for the replies");
	}
	for (size_t i = 0; i < n; i++)
		if (uri_is_account(qs[i].device_uri, c->a->name) && qs[i].error_policy != NULL &&
		    strcmp(qs[i].error_policy, "stop-printer") == 0) {
			w = xasprintf(CUPS_JOB_STOP_PRINTER_WARNING, qs[i].name, qs[i].name);
			put_warning(c, w);
			free(w);
		}
out:
	buf_free(&names);
	free(where);
	free(e);
	cups_job_queues_free(&qs, n);
}

/* The nearest folder at or above path that exists (allocated). */
static char *
existing_ancestor(const char *path)
{
	char *p = xstrdup(path), *slash;
	struct stat st;

	while (lstat(p, &st) != 0 && (slash = strrchr(p, '/')) != NULL) {
		if (slash == p) {
			p[1] = '\0';
			break;
		}
		*slash = '\0';
	}
	return p;
}

/*
 * A missing state_dir: once and run will make it, as root (then give it to
 * the user) or as the user itself.  Refused where nothing can be created:
 * a read-only or virtual file system (/proc, /sys), or, not as root, a
 * folder the user may not write.
 */
static int
state_dir_creatable(const char *state_dir, int was_root, char **errstr)
{
	char *anc = existing_ancestor(state_dir);
	struct statvfs vfs;
	struct statfs fs;
	int r = 0;

	if (statvfs(anc, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		r = m2c_fail(errstr, M2C_E_CONFIG, "state_dir %s does not exist and cannot be "
		    "made: %s is on a read-only file system (set state_dir to a folder on a "
		    "writable one, e.g. /var/lib/mail2cups)", state_dir, anc);
	else if (statfs(anc, &fs) == 0 && (fs.f_type == PROC_SUPER_MAGIC ||
	    fs.f_type == SYSFS_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC))
		r = m2c_fail(errstr, M2C_E_CONFIG, "state_dir %s does not exist and cannot be "
		    "made: %s is a virtual file system (set state_dir to a real folder, e.g. "
		    "/var/lib/mail2cups)", state_dir, anc);
	else if (!was_root && access(anc, W_OK | X_OK) != 0)
		r = m2c_fail(errstr, M2C_E_CONFIG, "state_dir %s does not exist and uid %u may "
		    "not create it in %s (run as root: install -d -m 0700 -o %u %s)", state_dir,
		    (unsigned)geteuid(), anc, (unsigned)geteuid(), state_dir);
	free(anc);
	return r;
}

/* Every file of state_dir's database that exists opens for writing. */
static int
database_writable(const char *state_dir, const struct privdrop_user *as, int *exists,
    char **errstr)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	int r = 0;

	*exists = 0;
	for (size_t i = 0; i < ARRAY_SIZE(suffix) && r == 0; i++) {
		char *p = xasprintf("%s/state.db%s", state_dir, suffix[i]);
		int fd = open(p, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

		if (fd >= 0) {
			close(fd);
			if (i == 0)
				*exists = 1;
		} else if (errno != ENOENT) {
			r = m2c_fail(errstr, m2c_err_from_errno(errno), "%s does not open for "
			    "writing as %s: %s (run: chown -R %s: %s)", p, as->name,
			    strerror(errno), as->name, state_dir);
		}
		free(p);
	}
	return r;
}

struct secrets_seen {
	struct check *c;
	size_t n;
	int failed;
};

static void
check_one_secret(const char *path, const char *what, void *arg)
{
	struct secrets_seen *s = arg;
	char *e = NULL, *text;
	int r;

	s->n++;
	if ((r = secret_file_check(path, &e)) == 0)
		return;
	text = xasprintf("%s: %s", what, e ? e : m2c_err_name(r));
	put_local(s->c, LOCAL_SECRETS, r, text, NULL);
	s->failed = 1;
	free(text);
	free(e);
}

int
check_local(const struct conf *cf, const struct privdrop_user *as, int was_root, FILE *out)
{
	struct check c = { cf, NULL, out, 0 };
	struct secrets_seen seen = { &c, 0, 0 };
	char *who = runas_describe(as), *e = NULL, *dir;
	int r, exists, db;

	put_local(&c, LOCAL_USER, 0, NULL, "%s, as once and run%s", who,
	    was_root ? "; switched from root" : "");
	/* runas_service_user() checked it and its folders, as root. */
	if ((r = privdrop_check_state_dir(cf->state_dir, as, &exists, &e)) != 0) {
		put_local(&c, LOCAL_STATE_DIR, r, e, NULL);
		goto out;
	}
	if (!exists) {
		r = state_dir_creatable(cf->state_dir, was_root, &e);
		put_local(&c, LOCAL_STATE_DIR, r, e, "%s does not exist yet: once and run make it, "
		    "0700, owned by %s", cf->state_dir, as->name);
		goto secrets;
	}
	if (access(cf->state_dir, R_OK | W_OK | X_OK) != 0) {
		r = m2c_fail(&e, M2C_E_CONFIG, "%s is not writable by %s (run: chown -R %s: %s; "
		    "chmod 700 %s)", cf->state_dir, as->name, as->name, cf->state_dir,
		    cf->state_dir);
		put_local(&c, LOCAL_STATE_DIR, r, e, NULL);
		goto secrets;
	}
	put_local(&c, LOCAL_STATE_DIR, 0, NULL, "%s, 0700, %s's", cf->state_dir, as->name);
	r = database_writable(cf->state_dir, as, &db, &e);
	put_local(&c, LOCAL_DATABASE, r, e, db ? "state.db opens for writing" :
	    "no state.db yet: the first pass makes it");
	free(e);
	e = NULL;
	dir = xasprintf("%s/scratch", cf->state_dir);
	if ((r = privdrop_check_private_dir(dir, as, &e)) == 0) {
		free(dir);
		dir = xasprintf("%s/tokens", cf->state_dir);
		r = privdrop_check_private_dir(dir, as, &e);
	}
	put_local(&c, LOCAL_SCRATCH, r, e, "scratch/ and tokens/ private to %s", as->name);
	free(dir);
secrets:
	runas_secret_files(cf, check_one_secret, &seen);
	if (!seen.failed)
		put_local(&c, LOCAL_SECRETS, 0, NULL, "%zu readable by %s, none by others", seen.n,
		    as->name);
out:
	fflush(out);
	free(e);
	free(who);
	return c.first;
}

void
check_refused(const struct conf *cf, int err, const char *text, FILE *out)
{
	struct check c = { cf, NULL, out, 0 };

	put_local(&c, LOCAL_USER, err, text, NULL);
	fflush(out);
}

int
check_account(const struct conf *cf, const struct conf_account *a, FILE *out)
{
	struct check c = { cf, a, out, 0 };
	struct conf_account as_user;
	struct imap *imap = NULL;

	check_config(&c);
	/* Independent of the mailbox: a CUPS failure does not stop the rest. */
	check_cups(&c);
	if (a->deliver_only) {
		/* mail2cups deliver feeds it: there is no mailbox to try. */
		put_skipped(&c, M2C_STEP_IMAP, "deliver_only: no mailbox");
		goto out;
	}
	if (a->print_folders && a->folder_users.n == 0) {
		/* The master user signs in for a user, and none is named here. */
		put_skipped(&c, M2C_STEP_IMAP, "print_folders: no user to sign in as (name one "
		    "in folder_users to try the master user's sign-in)");
		goto out;
	}
	if (a->print_folders) {
		/* The master user signs in for the first of folder_users. */
		folders_user_account(a, a->folder_users.v[0], &as_user);
		c.a = &as_user;
	}
	if (conf_account_is_oauth(a) && check_signin(&c) != 0) {
		put_skipped(&c, M2C_STEP_IMAP, "no token");
		put_skipped(&c, M2C_STEP_MAILBOX, "not signed in");
		goto out;
	}
	if (check_imap(&c, &imap) != 0) {
		put_skipped(&c, M2C_STEP_MAILBOX, "not signed in");
		goto out;
	}
	check_mailbox(&c, imap);
	imap_logout(&imap);
out:
	c.a = a;
	check_smtp(&c);
	check_backend(&c, c.a->reply != 0);
	imap_close(&imap);
	fflush(out);
	return c.first;
}
