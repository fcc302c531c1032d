/* signin.c - OAuth sign-in for an account; see signin.h. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "error.h"
#include "log.h"
#include "oauth.h"
#include "signin.h"
#include "tokenstore.h"
#include "util.h"
#ifdef HAVE_QRENCODE
#include <qrencode.h>
#endif

/* Borrowed: the mailbox user the tokens must belong to. */
static const char *
expected_user(const struct conf_account *a)
{
	return a->login_user ? a->login_user : a->username;
}

static int
open_store(const struct conf *cf, const struct conf_account *a, struct tokenstore **ts,
    char **errstr)
{
	return tokenstore_open_conf(cf, a, ts, errstr);
}

/* Move src's contents into dst (dst cleared first); src is left empty. */
static void
tokens_move(struct oauth_tokens *dst, struct oauth_tokens *src)
{
	oauth_tokens_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

int
signin_token(const struct conf *cf, const struct conf_account *a, const char *rejected,
    struct oauth_tokens *t, char **errstr)
{
	struct oauth_client c = { 0 };
	struct oauth_tokens cur = { 0 };
	struct tokenstore *ts = NULL;
	int app_only = a->oauth.flow == CONF_FLOW_CLIENT_CREDENTIALS, r;
	time_t now = time(NULL);

	memset(t, 0, sizeof(*t));
	if ((r = open_store(cf, a, &ts, errstr)) != 0)
		goto out;
	if ((r = tokenstore_lock(ts, errstr)) != 0)
		goto out;
	r = tokenstore_load(ts, &cur, errstr);
	if (r == M2C_E_SIGNIN && app_only) {
		/* Client credentials need no person: nothing stored is fine. */
		free(*errstr);
		*errstr = NULL;
		r = 0;
	} else if (r != 0) {
		goto out;
	}
	if (cur.access_token != NULL &&
	    (rejected == NULL || strcmp(rejected, cur.access_token) != 0) &&
	    (cur.expires_at == 0 || cur.expires_at - now > SIGNIN_REFRESH_MARGIN)) {
		tokens_move(t, &cur);	/* still good, or another process refreshed */
		goto out;
	}
	if ((r = oauth_client_init(cf, a, cf->timeout, &c, errstr)) != 0)
		goto out;
	if (app_only) {
		r = oauth_client_credentials(&c, &cur, errstr);
	} else if (cur.refresh_token == NULL) {
		r = m2c_fail(errstr, M2C_E_SIGNIN, "sign-in required: the stored sign-in of "
		    "account %s has no refresh token", a->name);
	} else {
		log_debug("refreshing the access token (%s)",
		    rejected ? "the server refused the current one" : "it expires soon");
		r = oauth_refresh(&c, &cur, errstr);
	}
	if (r != 0) {
		/* A refused refresh token: a person must sign in again. */
		if (r == M2C_E_AUTH && !app_only) {
			r = M2C_E_SIGNIN;
			if (errstr != NULL && *errstr != NULL) {
				char *e = xasprintf("sign-in required: %s", *errstr);

				free(*errstr);
				*errstr = e;
			}
		}
		goto out;
	}
	/* The rotated refresh token is saved before the new access token is used. */
	if ((r = tokenstore_save(ts, &cur, errstr)) != 0)
		goto out;
	tokens_move(t, &cur);
out:
	oauth_tokens_clear(&cur);
	oauth_client_clear(&c);
	tokenstore_close(&ts);
	return r;
}

char *
signin_sasl_ir(const struct conf_account *a, const char *token)
{
	return oauth_sasl_ir(a->auth == CONF_AUTH_OAUTHBEARER ? "OAUTHBEARER" : "XOAUTH2",
	    a->username, token, a->host, a->port);
}

/* A QR code of url in the terminal, two modules per character cell. */
static void
show_qr(FILE *out, const char *url)
{
#ifdef HAVE_QRENCODE
	QRcode *q = QRcode_encodeString(url, 0, QR_ECLEVEL_L, QR_MODE_8, 1);

	if (q == NULL)
		return;
	for (int y = -2; y < q->width + 2; y += 2) {
		fputs("  ", out);
		for (int x = -2; x < q->width + 2; x++) {
			int top = y >= 0 && y < q->width && x >= 0 && x < q->width &&
			    (q->data[y * q->width + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < q->width && x >= 0 && x < q->width &&
			    (q->data[(y + 1) * q->width + x] & 1);
			/* Dark modules print as spaces on a light block background. */
			fputs(top && bot ? " " : top ? "\xe2\x96\x84" : bot ? "\xe2\x96\x80" :
			    "\xe2\x96\x88", out);
		}
		fputc('\n', out);
	}
	QRcode_free(q);
#else
	(void)out;
	(void)url;
#endif
}

static void
show_device(FILE *out, const struct conf_account *a, const struct oauth_device *d, int no_qr)
{
	long left = (long)(d->expires_at - time(NULL));

	fprintf(out, "\nTo sign in account %s, open %s\nand enter the code %s\n"
	    "(sign in as %s; the code is valid for %ld min %02ld s).\n",
	    a->name, d->verification_uri, d->user_code, expected_user(a),
	    left > 0 ? left / 60 : 0, left > 0 ? left % 60 : 0);
	if (!no_qr && isatty(fileno(out))) {
		fputc('\n', out);
		show_qr(out, d->verification_uri_complete ? d->verification_uri_complete :
		    d->verification_uri);
	}
	fputc('\n', out);
	fflush(out);
}

/* Check identity, then save; used by every interactive flow. */
static int
accept_tokens(struct tokenstore *ts, const struct conf_account *a, struct oauth_tokens *t,
    FILE *out, char **errstr)
{
	int r;

	if ((r = oauth_check_identity_for(t, expected_user(a), a->name, errstr)) != 0)
		return r;
	if ((r = tokenstore_save(ts, t, errstr)) != 0)
		return r;
	fprintf(out, "Signed in as %s; tokens saved for account %s.\n",
	    t->identity ? t->identity : expected_user(a), a->name);
	return 0;
}

/*
 * After a refused poll: did another process (a second login, or the
 * daemon, polling the same shared code) finish this sign-in?  It then
 * saved the tokens and cleared the pending code.  Says so on out (or not,
 * when NULL).
 */
static int
signed_in_elsewhere(struct tokenstore *ts, const struct conf_account *a, FILE *out)
{
	struct oauth_tokens t = { 0 };
	struct oauth_device d = { 0 };
	int done = 0;

	if (tokenstore_lock(ts, NULL) != 0)
		return 0;
	if (tokenstore_load_pending(ts, &d, NULL) == M2C_E_NOTFOUND &&
	    tokenstore_load(ts, &t, NULL) == 0) {
		if (out != NULL)
			fprintf(out, "Signed in as %s (the sign-in finished elsewhere); tokens "
			    "saved for account %s.\n", t.identity ? t.identity : expected_user(a),
			    a->name);
		done = 1;
	}
	tokenstore_unlock(ts);
	oauth_tokens_clear(&t);
	oauth_device_clear(&d);
	return done;
}

/*
 * While another process polls the code: what became of it.  1 with *d
 * replaced when that process stored a new code (the old one expired);
 * -1 when the sign-in ended there without tokens (declined, refused, or
 * it gave up); 0 while it is still pending.
 */
static int
pending_changed(struct tokenstore *ts, struct oauth_device *d)
{
	struct oauth_device now = { 0 };
	int r = 0;

	if (tokenstore_lock(ts, NULL) != 0)
		return 0;
	if (tokenstore_load_pending(ts, &now, NULL) == M2C_E_NOTFOUND)
		r = -1;
	else if (now.device_code != NULL && d->device_code != NULL &&
	    strcmp(now.device_code, d->device_code) != 0) {
		oauth_device_clear(d);
		*d = now;
		memset(&now, 0, sizeof(now));
		r = 1;
	}
	tokenstore_unlock(ts);
	oauth_device_clear(&now);
	return r;
}

/* Forget the pending code (it was used, refused or declined). */
static void
drop_pending(struct tokenstore *ts)
{
	if (tokenstore_lock(ts, NULL) == 0) {
		(void)tokenstore_clear_pending(ts, NULL);
		tokenstore_unlock(ts);
	}
}

/*
 * The device flow.  A pending code in the store is reused (so a second
 * login, or the daemon, shows the same code); an expired one is replaced,
 * also when the server says it expired, up to o->max_codes times.
 */
static int
login_device(struct tokenstore *ts, const struct oauth_client *c, const struct conf_account *a,
    const struct signin_login_opts *o, char **errstr)
{
	struct oauth_device d = { 0 };
	struct oauth_tokens t = { 0 };
	int codes = 0, r;

	if ((r = tokenstore_lock(ts, errstr)) != 0)
		return r;
	r = tokenstore_load_pending(ts, &d, errstr);
	if (r == 0 && d.expires_at > time(NULL) + 30) {
		fprintf(o->out, "A sign-in for %s is already waiting; showing its code again.\n",
		    a->name);
	} else {
		oauth_device_clear(&d);
		free(*errstr);
		*errstr = NULL;
		if ((r = oauth_device_start(c, &d, errstr)) != 0 ||
		    (r = tokenstore_save_pending(ts, &d, errstr)) != 0) {
			tokenstore_unlock(ts);
			goto out;
		}
	}
	tokenstore_unlock(ts);
	show_device(o->out, a, &d, o->no_qr);

	for (;;) {
		enum oauth_poll st;
		int ch;

		if (tokenstore_poll_claim(ts, NULL) != 0) {
			/* Another login (or the daemon) polls this code: watch
			 * the token store, locally, and tell the same outcome. */
			sleep(1);
			if (signed_in_elsewhere(ts, a, o->out)) {
				r = 0;
				goto out;
			}
			if ((ch = pending_changed(ts, &d)) < 0) {
				r = m2c_fail(errstr, M2C_E_AUTH, "the sign-in of account %s ended "
				    "in the other process that was waiting for it, without "
				    "tokens (declined, refused or expired: it says why); start "
				    "again: %s", a->name, c->login);
				goto keep;
			}
			if (ch > 0)
				show_device(o->out, a, &d, o->no_qr);
			continue;
		}
		sleep((unsigned)(d.interval > 0 ? d.interval : 5));
		r = oauth_device_poll(c, &d, &st, &t, errstr);
		if (r == 0 && st == OAUTH_POLL_DONE)
			break;
		if (r == 0 && st == OAUTH_POLL_SLOW_DOWN) {
			(void)tokenstore_save_pending(ts, &d, NULL);
			continue;
		}
		if (r == 0)
			continue;
		if (r == M2C_E_AUTH && signed_in_elsewhere(ts, a, o->out)) {
			free(*errstr);
			*errstr = NULL;
			r = 0;
			goto out;
		}
		if (time(NULL) < d.expires_at || ++codes > o->max_codes)
			goto out;
		/* The code expired before anyone used it: offer a fresh one. */
		fprintf(o->out, "The code %s expired before it was used; here is a new one.\n",
		    d.user_code);
		free(*errstr);
		*errstr = NULL;
		oauth_device_clear(&d);
		if ((r = tokenstore_lock(ts, errstr)) != 0)
			goto out;
		if ((r = oauth_device_start(c, &d, errstr)) == 0)
			r = tokenstore_save_pending(ts, &d, errstr);
		tokenstore_unlock(ts);
		if (r != 0)
			goto out;
		show_device(o->out, a, &d, o->no_qr);
	}
	if ((r = tokenstore_lock(ts, errstr)) != 0)
		goto out;
	r = accept_tokens(ts, a, &t, o->out, errstr);
	/* The code is used up whether or not the identity was accepted. */
	(void)tokenstore_clear_pending(ts, NULL);
	tokenstore_unlock(ts);
out:
	/* A code that was declined, refused or ran out is dead: never show it again. */
	if (r != 0 && !m2c_err_is_temporary(r))
		drop_pending(ts);
keep:
	oauth_tokens_clear(&t);
	oauth_device_clear(&d);
	return r;
}

/* Read one line (a pasted URL) from in; allocated, without the newline. */
static char *
read_line(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);

	if (n < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* Authorization code with PKCE: loopback redirect, or the URL pasted back. */
static int
login_authcode(struct tokenstore *ts, const struct oauth_client *c,
    const struct conf_account *a, const struct signin_login_opts *o, char **errstr)
{
	struct oauth_pkce pkce;
	struct oauth_tokens t = { 0 };
	char *redirect = NULL, *url = NULL, *code = NULL, *pasted = NULL;
	int fd = -1, port = 0, r;

	oauth_pkce_new(&pkce);
	if (o->headless) {
		/* Nothing listens: the browser's failed redirect shows the URL to paste. */
		redirect = xstrdup("http://localhost");
	} else {
		if ((r = oauth_loopback_listen(&fd, &port, errstr)) != 0)
			goto out;
		redirect = xasprintf("http://localhost:%d", port);
	}
	url = oauth_authorize_url(c, &pkce, redirect, expected_user(a));
	fprintf(o->out, "\nTo sign in account %s (as %s), open this address in a browser:\n\n"
	    "  %s\n\n", a->name, expected_user(a), url);
	if (o->headless) {
		fprintf(o->out, "After signing in, the browser ends on a page that cannot be "
		    "shown (http://localhost/?code=...).\nCopy that whole address from the "
		    "address bar and paste it here:\n> ");
		fflush(o->out);
		if ((pasted = read_line(o->in)) == NULL) {
			r = m2c_fail(errstr, M2C_E_AUTH, "sign-in cancelled: no address was pasted");
			goto out;
		}
		r = oauth_code_from_url(pasted, &pkce, &code, errstr);
	} else {
		fprintf(o->out, "Waiting for the browser to come back to %s ...\n", redirect);
		fflush(o->out);
		r = oauth_loopback_wait(fd, &pkce, 300, &code, errstr);
	}
	if (r != 0)
		goto out;
	if ((r = oauth_authcode_exchange(c, &pkce, code, redirect, &t, errstr)) != 0)
		goto out;
	if ((r = tokenstore_lock(ts, errstr)) != 0)
		goto out;
	r = accept_tokens(ts, a, &t, o->out, errstr);
	tokenstore_unlock(ts);
out:
	if (fd >= 0)
		close(fd);
	oauth_tokens_clear(&t);
	free_secret(code);
	free_secret(pasted);
	free(url);
	free(redirect);
	wipe(&pkce, sizeof(pkce));
	return r;
}

int
signin_login(const struct conf *cf, const struct conf_account *a,
    const struct signin_login_opts *o, char **errstr)
{
	struct oauth_client c = { 0 };
	struct oauth_tokens t = { 0 };
	struct tokenstore *ts = NULL;
	int r;

	if (!a->oauth.present)
		return m2c_fail(errstr, M2C_E_CONFIG,
		    "account %s has no oauth group: it signs in with a password (auth = \"%s\")",
		    a->name, conf_auth_name(a->auth));
	if ((r = oauth_client_init(cf, a, cf->timeout, &c, errstr)) != 0)
		goto out;
	if ((r = open_store(cf, a, &ts, errstr)) != 0)
		goto out;
	switch (a->oauth.flow) {
	case CONF_FLOW_DEVICE:
		r = login_device(ts, &c, a, o, errstr);
		break;
	case CONF_FLOW_AUTHCODE:
		r = login_authcode(ts, &c, a, o, errstr);
		break;
	case CONF_FLOW_CLIENT_CREDENTIALS:
	default:
		/* App-only: no person signs in; prove the credentials work now. */
		if ((r = oauth_client_credentials(&c, &t, errstr)) != 0)
			break;
		if ((r = tokenstore_lock(ts, errstr)) != 0)
			break;
		r = tokenstore_save(ts, &t, errstr);
		tokenstore_unlock(ts);
		if (r == 0)
			fprintf(o->out, "Application credentials work; token saved for account %s.\n",
			    a->name);
		break;
	}
out:
	oauth_tokens_clear(&t);
	oauth_client_clear(&c);
	tokenstore_close(&ts);
	return r;
}

int
signin_forget_tokens(const struct conf *cf, const struct conf_account *a, char **errstr)
{
	struct oauth_tokens none = { 0 };
	struct tokenstore *ts = NULL;
	int r;

	if ((r = open_store(cf, a, &ts, errstr)) != 0)
		return r;
	if ((r = tokenstore_lock(ts, errstr)) == 0) {
		r = tokenstore_save(ts, &none, errstr);	/* keeps the pending code */
		tokenstore_unlock(ts);
	}
	tokenstore_close(&ts);
	return r;
}

int
signin_device_step(const struct conf *cf, const struct conf_account *a, int *done,
    int *wait_s, char **errstr)
{
	struct oauth_client c = { 0 };
	struct oauth_device d = { 0 };
	struct oauth_tokens t = { 0 };
	struct tokenstore *ts = NULL;
	enum oauth_poll st;
	time_t now = time(NULL);
	int r;

	*done = 0;
	*wait_s = 5;
	if ((r = oauth_client_init(cf, a, cf->timeout, &c, errstr)) != 0 ||
	    (r = open_store(cf, a, &ts, errstr)) != 0 ||
	    (r = tokenstore_lock(ts, errstr)) != 0)
		goto out;
	/* Someone signed in meanwhile (mail2cups-oauth login). */
	if (tokenstore_load(ts, &t, NULL) == 0) {
		*done = 1;
		tokenstore_unlock(ts);
		goto out;
	}
	if (tokenstore_load_pending(ts, &d, NULL) != 0 || d.expires_at <= now + 5) {
		oauth_device_clear(&d);
		if ((r = oauth_device_start(&c, &d, errstr)) == 0)
			r = tokenstore_save_pending(ts, &d, errstr);
		if (r == 0) {
			char *say = advice_sign_in_waiting(cf, a, d.verification_uri, d.user_code,
			    d.expires_at, now);

			log_warn("sign-in required: to sign in account %s, %s", a->name, say);
			free(say);
		}
	}
	tokenstore_unlock(ts);
	if (r != 0)
		goto out;
	*wait_s = d.interval > 0 ? d.interval : 5;
	/* A login polls this code already: its outcome lands in the store. */
	if (tokenstore_poll_claim(ts, NULL) != 0) {
		*wait_s = 1;
		goto out;
	}

	r = oauth_device_poll(&c, &d, &st, &t, errstr);
	if (r == 0 && st == OAUTH_POLL_SLOW_DOWN) {
		*wait_s = d.interval;
		if (tokenstore_lock(ts, NULL) == 0) {
			(void)tokenstore_save_pending(ts, &d, NULL);
			tokenstore_unlock(ts);
		}
	} else if (r == 0 && st == OAUTH_POLL_DONE) {
		if ((r = tokenstore_lock(ts, errstr)) != 0)
			goto out;
		if ((r = oauth_check_identity_for(&t, expected_user(a), a->name, errstr)) == 0 &&
		    (r = tokenstore_save(ts, &t, errstr)) == 0) {
			log_info("signed in as %s", t.identity ? t.identity : expected_user(a));
			*done = 1;
		}
		(void)tokenstore_clear_pending(ts, NULL);	/* used up, either way */
		tokenstore_unlock(ts);
	} else if (r == M2C_E_AUTH && (signed_in_elsewhere(ts, a, NULL) ||
	    time(NULL) >= d.expires_at)) {
		/* Done elsewhere, or expired (the next step shows a new code). */
		oauth_tokens_clear(&t);
		*done = tokenstore_load(ts, &t, NULL) == 0;
		free(*errstr);
		*errstr = NULL;
		r = 0;
	} else if (r == M2C_E_AUTH) {
		/* Declined or refused: this code is dead. */
		drop_pending(ts);
	}
out:
	oauth_tokens_clear(&t);
	oauth_device_clear(&d);
	oauth_client_clear(&c);
	tokenstore_close(&ts);
	return r;
}

int
signin_logout(const struct conf *cf, const struct conf_account *a, char **errstr)
{
	struct tokenstore *ts = NULL;
	int r;

	if ((r = open_store(cf, a, &ts, errstr)) != 0)
		return r;
	if ((r = tokenstore_lock(ts, errstr)) == 0) {
		r = tokenstore_remove(ts, errstr);
		tokenstore_unlock(ts);
	}
	tokenstore_close(&ts);
	return r;
}
