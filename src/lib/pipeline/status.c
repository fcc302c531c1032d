/*
 * status.c - each account's state at a glance; see status.h.
 *
 * Reading never writes: the state database is opened read-only, and a
 * token store is opened only when its file exists (tokenstore_open would
 * otherwise create the tokens folder); tokens are read, never refreshed.
 */
#include "m2c-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "advice.h"
#include "error.h"
#include "status.h"
#include "tokenstore.h"
#include "util.h"

#define STATUS_STALE_FACTOR	3	/* poll intervals ... */
#define STATUS_STALE_SLACK	600	/* ... plus ten minutes */

static const char *const kind_names[] = {
	[STATUS_NOT_CONFIGURED] = "not-configured",
	[STATUS_WAITING] = "waiting-to-sign-in",
	[STATUS_OK] = "ok",
	[STATUS_ERROR] = "error",
};

ENUM_NAME_FN(status_kind_name, enum status_kind, kind_names, "unknown")

long
status_stale_after(const struct conf *cf, const struct conf_account *a)
{
	long poll = STATUS_STALE_FACTOR * (long)a->poll_interval;
	long idle = 2L * cf->idle_interval;

	return (poll > idle ? poll : idle) + STATUS_STALE_SLACK;
}

void
status_fmt_age(long s, char *buf, size_t size)
{
	if (s < 60)
		snprintf(buf, size, "just now");
	else if (s < 3600)
		snprintf(buf, size, "%ld min ago", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, size, "%ld h %ld min ago", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%ld days ago", s / 86400);
}

/* "2026-11-28 21:05 (3 min ago)" */
static void
fmt_when(time_t t, time_t now, char *buf, size_t size)
{
	struct tm tm;
	char stamp[32] = "?", age[48];

	if (localtime_r(&t, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M", &tm);
	status_fmt_age(now > t ? (long)(now - t) : 0, age, sizeof(age));
	snprintf(buf, size, "%s (%s)", stamp, age);
}

static void
set_text(char **dst, char *src)
{
	free(*dst);
	*dst = src;
}

/* sa's fix: the advice for a failure of step with code, which sa records. */
static void
set_advice(struct status_account *sa, const struct conf *cf, const struct conf_account *a,
    enum m2c_step step, int code)
{
	sa->step = m2c_step_name(step);
	sa->code = code;
	set_text(&sa->fix, advice_fix(cf, a, step, code));
}

/* The pending device sign-in: the code and URL, or that it expired. */
static void
evaluate_waiting(struct status_account *sa, const struct conf *cf,
    const struct conf_account *a, const struct oauth_device *d, time_t now)
{
	sa->kind = STATUS_WAITING;
	sa->sign_in.present = 1;
	sa->sign_in.user_code = xstrdup(d->user_code ? d->user_code : "(no code stored)");
	sa->sign_in.verification_uri = xstrdup(d->verification_uri ? d->verification_uri :
	    "(no URL stored)");
	sa->sign_in.expires_at = d->expires_at;
	set_text(&sa->reason, advice_sign_in_waiting(cf, a, d->verification_uri, d->user_code,
	    d->expires_at, now));
	if (d->expires_at <= now)
		set_advice(sa, cf, a, M2C_STEP_SIGNIN, M2C_E_SIGNIN);
}

void
status_evaluate(struct status_account *sa, const struct conf *cf, const struct conf_account *a,
    const struct state_account *row, int have_tokens, const struct oauth_device *pending,
    time_t now)
{
	int oauth = conf_account_is_oauth(a);
	int app_only = oauth && a->oauth.flow == CONF_FLOW_CLIENT_CREDENTIALS;
	int auth_failed = row->status == STATE_ACCOUNT_WAITING ||
	    (row->status == STATE_ACCOUNT_ERROR && (row->error_class == M2C_E_SIGNIN ||
	    row->error_class == M2C_E_AUTH));
	enum m2c_step step;
	char when[96], *once = NULL;

	sa->oauth = oauth;
	sa->last_check = (time_t)row->last_check;
	sa->last_ok = (time_t)row->last_ok;
	sa->since = (time_t)row->since;

	/* A person is asked to sign in: that is what matters now. */
	if (oauth && pending != NULL && (!have_tokens || auth_failed)) {
		evaluate_waiting(sa, cf, a, pending, now);
		return;
	}
	/* Signed out (or never signed in) since the last pass. */
	if (oauth && !app_only && !have_tokens &&
	    (row->status == STATE_ACCOUNT_NONE || row->status == STATE_ACCOUNT_OK ||
	    row->status == STATE_ACCOUNT_WAITING)) {
		sa->kind = row->status == STATE_ACCOUNT_NONE ? STATUS_NOT_CONFIGURED :
		    STATUS_ERROR;
		set_text(&sa->reason, xasprintf("sign-in required: no tokens for account %s",
		    a->name));
		set_advice(sa, cf, a, M2C_STEP_SIGNIN, M2C_E_SIGNIN);
		return;
	}
	switch (row->status) {
	case STATE_ACCOUNT_NONE:
		sa->kind = STATUS_NOT_CONFIGURED;
		set_text(&sa->reason, xstrdup("never checked: no pass recorded yet"));
		once = advice_command(cf, "mail2cups", "once");
		set_text(&sa->fix, xasprintf("run %s, or start the timer or the daemon that "
		    "runs it", once));
		break;
	case STATE_ACCOUNT_WAITING:
		/* The pending code is gone but tokens are there: signed in since. */
		sa->kind = STATUS_WAITING;
		set_text(&sa->reason, xstrdup("signed in after the last pass; the next pass "
		    "will use the new tokens"));
		break;
	case STATE_ACCOUNT_OK:
		if (now - (time_t)row->last_check <= status_stale_after(cf, a)) {
			sa->kind = STATUS_OK;
			break;
		}
		fmt_when((time_t)row->last_check, now, when, sizeof(when));
		sa->kind = STATUS_ERROR;
		sa->since = (time_t)row->last_check;
		set_text(&sa->reason, xasprintf("no pass since %s (is the timer or the daemon "
		    "running?)", when));
		once = advice_command(cf, "mail2cups", "once");
		set_text(&sa->fix, xasprintf("start the daemon (systemctl start mail2cups) or "
		    "the timer or cron job that runs %s; passes are expected every %d s "
		    "(poll_interval)", once, a->poll_interval));
		break;
	case STATE_ACCOUNT_ERROR:
		sa->kind = STATUS_ERROR;
		set_text(&sa->reason, xstrdup(row->reason ? row->reason : "unknown error"));
		/* The advice of today for (step, code); a row from before steps
		 * were recorded keeps the fix it was written with. */
		if (row->error_class != 0 && m2c_step_from_name(row->step, &step) == 0) {
			set_advice(sa, cf, a, step, row->error_class);
			break;
		}
		sa->code = row->error_class;
		if (row->fix != NULL)
			set_text(&sa->fix, xstrdup(row->fix));
		break;
	}
	free(once);
}

/* ------------------------------------------------------------------ record */

/* The pending device sign-in of a, if any (d filled, 1), else 0. */
static int
load_pending(const struct conf *cf, const struct conf_account *a, struct oauth_device *d)
{
	struct tokenstore *ts = NULL;
	int found;

	memset(d, 0, sizeof(*d));
	found = tokenstore_open_conf(cf, a, &ts, NULL) == 0 &&
	    tokenstore_load_pending(ts, d, NULL) == 0;
	tokenstore_close(&ts);
	return found;
}

int
status_record(struct state *st, const struct conf *cf, const struct conf_account *a,
    int r, enum m2c_step step, const char *msg, time_t now, char **errstr)
{
	struct oauth_device d = { 0 };
	char *fix = NULL, *reason = NULL;
	int ret;

	if (r == 0)
		return state_account_set(st, a->name, STATE_ACCOUNT_OK, NULL, NULL, 0, NULL,
		    (int64_t)now, errstr);
	if (msg == NULL)
		msg = m2c_err_name(r);
	if (r == M2C_E_SIGNIN && conf_account_is_oauth(a) && load_pending(cf, a, &d) &&
	    d.expires_at > now) {
		reason = advice_sign_in_waiting(cf, a, d.verification_uri, d.user_code,
		    d.expires_at, now);
		ret = state_account_set(st, a->name, STATE_ACCOUNT_WAITING, reason, NULL, r,
		    m2c_step_name(step), (int64_t)now, errstr);
		goto out;
	}
	fix = advice_fix(cf, a, step, r);
	ret = state_account_set(st, a->name, STATE_ACCOUNT_ERROR, msg, fix, r,
	    m2c_step_name(step), (int64_t)now, errstr);
out:
	oauth_device_clear(&d);
	free(reason);
	free(fix);
	return ret;
}

/* ------------------------------------------------------------------ collect */

/* Local midnight of the day of now. */
static time_t
local_midnight(time_t now)
{
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		return now - now % 86400;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/*
 * Read a's token store without changing it: *have_tokens, *expires_at and
 * the pending sign-in (*has_pending).  No token file: nothing, 0.  A store
 * that cannot be read (permissions, damage, wrong key) is an error.
 */
static int
read_tokens(const struct conf *cf, const struct conf_account *a, int *have_tokens,
    time_t *expires_at, struct oauth_device *pending, int *has_pending, char **errstr)
{
	struct tokenstore *ts = NULL;
	struct oauth_tokens t = { 0 };
	struct stat sb;
	char *path, *e = NULL;
	int r;

	*have_tokens = *has_pending = 0;
	*expires_at = 0;
	memset(pending, 0, sizeof(*pending));
	path = xasprintf("%s/tokens/%s.json", cf->state_dir, a->name);
	if (stat(path, &sb) != 0) {
		r = errno == ENOENT ? 0 : m2c_fail(errstr, M2C_E_SYS, "cannot read %s: %s",
		    path, strerror(errno));
		goto out;
	}
	if ((r = tokenstore_open_conf(cf, a, &ts,
	    errstr)) != 0)
		goto out;
	r = tokenstore_load(ts, &t, &e);
	if (r == 0) {
		*have_tokens = 1;
		*expires_at = t.expires_at;
	} else if (r != M2C_E_SIGNIN) {
		*errstr = e;
		e = NULL;
		goto out;
	}
	r = tokenstore_load_pending(ts, pending, NULL);
	*has_pending = r == 0;
	r = 0;
out:
	oauth_tokens_clear(&t);
	tokenstore_close(&ts);
	free(e);
	free(path);
	return r;
}

static int
collect_one(const struct conf *cf, const struct conf_account *a, struct state *st,
    time_t now, time_t midnight, struct status_account *sa, char **errstr)
{
	struct state_account row = { 0 };
	struct oauth_device pending = { 0 };
	int have_tokens = 0, has_pending = 0, r = 0;
	time_t expires_at = 0;
	char *e = NULL;

	sa->name = xstrdup(a->name);
	if (st != NULL &&
	    ((r = state_account_get(st, a->name, &row, errstr)) != 0 ||
	    (r = state_account_counts(st, a->name, (int64_t)midnight, &sa->printed_today,
	    &sa->pending, errstr)) != 0))
		goto out;
	if (conf_account_is_oauth(a) && read_tokens(cf, a, &have_tokens, &expires_at, &pending,
	    &has_pending, &e) != 0) {
		/* The store is unreadable: that is the account's error now. */
		sa->kind = STATUS_ERROR;
		sa->oauth = 1;
		sa->last_check = (time_t)row.last_check;
		sa->last_ok = (time_t)row.last_ok;
		sa->reason = e;
		e = NULL;
		set_advice(sa, cf, a, M2C_STEP_LOCAL, M2C_E_SYS);
		goto out;
	}
	status_evaluate(sa, cf, a, &row, have_tokens, has_pending ? &pending : NULL, now);
	sa->token_expires_at = expires_at;
out:
	state_account_clear(&row);
	oauth_device_clear(&pending);
	free(e);
	return r;
}

void
status_apply_daemon(struct status_report *r, enum lock_daemon_state daemon, pid_t pid)
{
	r->daemon = daemon;
	r->daemon_pid = pid;
	if (daemon != LOCK_DAEMON_STOPPED)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct status_account *sa = &r->accounts[i];
		char *was = sa->kind == STATUS_OK || sa->reason == NULL ? NULL :
		    xasprintf("; before that: %s", sa->reason);
		char who[48] = "mail2cups run";

		if (pid > 0)
			snprintf(who, sizeof(who), "mail2cups run (PID %ld)", (long)pid);
		sa->kind = STATUS_ERROR;
		sa->since = 0;
		sa->step = NULL;	/* no pass failed: no advice for one */
		sa->code = 0;
		set_text(&sa->reason, xasprintf("daemon not running: %s stopped or was killed, "
		    "so no mail is read or printed%s", who, was ? was : ""));
		set_text(&sa->fix, xstrdup("start it: systemctl start mail2cups (journalctl "
		    "-u mail2cups says why it stopped); if mail2cups once runs from a timer "
		    "instead, its next run clears this"));
		free(was);
	}
}

int
status_collect(const struct conf *cf, time_t now, struct status_report **out,
    char **errstr)
{
	struct status_report *rep;
	struct state *st = NULL;
	struct stat sb;
	time_t midnight = local_midnight(now);
	int r = 0;

	*out = NULL;
	rep = xcalloc(1, sizeof(*rep));
	rep->now = now;
	rep->accounts = xcalloc(cf->naccounts ? cf->naccounts : 1, sizeof(*rep->accounts));
	if (stat(cf->state_dir, &sb) == 0) {
		r = state_open_readonly(cf->state_dir, &st, errstr);
		if (r == M2C_E_NOTFOUND)
			r = 0;
		if (r != 0)
			goto out;
	}
	for (; rep->n < cf->naccounts; rep->n++)
		if ((r = collect_one(cf, &cf->accounts[rep->n], st, now, midnight,
		    &rep->accounts[rep->n], errstr)) != 0) {
			rep->n++;	/* free what it filled */
			goto out;
		}
	{
		pid_t pid;
		enum lock_daemon_state d = lock_daemon_probe(cf->state_dir, &pid);

		status_apply_daemon(rep, d, pid);
	}
	*out = rep;
	rep = NULL;
out:
	state_close(&st);
	status_report_free(&rep);
	return r;
}

void
status_report_free(struct status_report **rp)
{
	struct status_report *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct status_account *sa = &r->accounts[i];

		free(sa->name);
		free(sa->reason);
		free(sa->fix);
		free(sa->sign_in.user_code);
		free(sa->sign_in.verification_uri);
	}
	free(r->accounts);
	free(r);
	*rp = NULL;
}

/* ------------------------------------------------------------------ output */

static void
print_ok(FILE *f, const struct status_account *sa, time_t now)
{
	char age[48];

	status_fmt_age(now > sa->last_check ? (long)(now - sa->last_check) : 0, age,
	    sizeof(age));
	fprintf(f, "%s: ok (last pass %s; %d printed today; %d pending", sa->name, age,
	    sa->printed_today, sa->pending);
	if (sa->oauth && sa->token_expires_at > now)
		fprintf(f, "; token valid for %ld min", (long)(sa->token_expires_at - now) / 60);
	else if (sa->oauth && sa->token_expires_at != 0)
		fprintf(f, "; token expired, renewed at the next pass");
	fprintf(f, ")\n");
}

void
status_print_text(FILE *f, const struct status_report *r)
{
	char when[96];

	for (size_t i = 0; i < r->n; i++) {
		const struct status_account *sa = &r->accounts[i];

		switch (sa->kind) {
		case STATUS_OK:
			print_ok(f, sa, r->now);
			continue;
		case STATUS_ERROR:
			if (sa->since != 0) {
				fmt_when(sa->since, r->now, when, sizeof(when));
				fprintf(f, "%s: error since %s: %s\n", sa->name, when,
				    sa->reason ? sa->reason : "");
			} else {
				fprintf(f, "%s: error: %s\n", sa->name,
				    sa->reason ? sa->reason : "");
			}
			break;
		case STATUS_NOT_CONFIGURED:
		case STATUS_WAITING:
			fprintf(f, "%s: %s (%s)\n", sa->name, status_kind_name(sa->kind),
			    sa->reason ? sa->reason : "");
			break;
		}
		if (sa->fix != NULL)
			fprintf(f, "    fix: %s\n", sa->fix);
	}
}

/* A time as a JSON integer, or null for "never" (0). */
static json_t *
json_time(time_t t)
{
	return t != 0 ? json_integer((json_int_t)t) : json_null();
}

static json_t *
json_opt_string(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
account_json(const struct status_account *sa, time_t now)
{
	json_t *o = json_object(), *si = json_null();

	json_object_set_new(o, "name", json_string(sa->name));
	json_object_set_new(o, "status", json_string(status_kind_name(sa->kind)));
	json_object_set_new(o, "reason", json_opt_string(sa->reason));
	json_object_set_new(o, "fix", json_opt_string(sa->fix));
	json_object_set_new(o, "step", json_opt_string(sa->step));
	json_object_set_new(o, "code", sa->code != 0 ? json_string(m2c_err_id(sa->code)) :
	    json_null());
	json_object_set_new(o, "since", json_time(sa->since));
	json_object_set_new(o, "last_check", json_time(sa->last_check));
	json_object_set_new(o, "last_ok", json_time(sa->last_ok));
	json_object_set_new(o, "printed_today", json_integer(sa->printed_today));
	json_object_set_new(o, "pending", json_integer(sa->pending));
	json_object_set_new(o, "token_expires_at",
	    sa->oauth ? json_time(sa->token_expires_at) : json_null());
	if (sa->sign_in.present) {
		si = json_object();
		json_object_set_new(si, "user_code", json_opt_string(sa->sign_in.user_code));
		json_object_set_new(si, "verification_uri",
		    json_opt_string(sa->sign_in.verification_uri));
		json_object_set_new(si, "expires_at", json_time(sa->sign_in.expires_at));
		json_object_set_new(si, "expired", json_boolean(sa->sign_in.expires_at <= now));
	}
	json_object_set_new(o, "sign_in", si);
	return o;
}

int
status_print_json(FILE *f, const struct status_report *r, char **errstr)
{
	json_t *root = json_object(), *list = json_array();
	int ret = 0;

	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(list, account_json(&r->accounts[i], r->now));
	json_object_set_new(root, "accounts", list);
	json_object_set_new(root, "daemon", json_string(r->daemon == LOCK_DAEMON_RUNNING ?
	    "running" : r->daemon == LOCK_DAEMON_STOPPED ? "not-running" : "unused"));
	json_object_set_new(root, "daemon_pid", r->daemon_pid > 0 ?
	    json_integer((json_int_t)r->daemon_pid) : json_null());
	if (json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', f) == EOF)
		ret = m2c_fail(errstr, M2C_E_SYS, "cannot write the status: %s",
		    strerror(errno));
	json_decref(root);
	return ret;
}

int
status_exit_code(const struct status_report *r)
{
	int code = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (r->accounts[i].kind == STATUS_ERROR)
			return 2;
		if (r->accounts[i].kind != STATUS_OK)
			code = 1;
	}
	return code;
}
