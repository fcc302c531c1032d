/*
 * mail2cups-oauth - OAuth 2.0 sign-in and tokens for mail programs.
 *
 *   mail2cups-oauth [-c FILE] login ACCOUNT [--headless] [--no-qr]
 *   mail2cups-oauth [-c FILE] token | sasl | status | logout ACCOUNT
 *
 * `token` prints a valid access token on one line (refreshing first when
 * fewer than five minutes are left); `sasl` prints the base64 SASL initial
 * response for the account's mechanism.  Both are meant for other programs:
 * msmtp passwordeval, mbsync PassCmd, fetchmail, mutt.  Exit codes are
 * sysexits(3): 77 means a person must sign in (run `login`).
 */
#include "m2c-config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "advice.h"
#include "conf.h"
#include "error.h"
#include "log.h"
#include "oauth.h"
#include "privdrop.h"
#include "progopt.h"
#include "runas.h"
#include "signin.h"
#include "tokenstore.h"
#include "util.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mail2cups-oauth [-c FILE] [-v|-q] login ACCOUNT [--headless] [--no-qr]\n"
	    "       mail2cups-oauth [-c FILE] [-v|-q] token | sasl | status | logout ACCOUNT\n"
	    "       mail2cups-oauth --version | --help\n"
	    "\n"
	    "  login    sign the account in (device code, browser with PKCE, or app credentials)\n"
	    "  token    print a valid access token (refreshed when needed)\n"
	    "  sasl     print the base64 SASL initial response (XOAUTH2 or OAUTHBEARER)\n"
	    "  status   say whether the account is signed in, and until when\n"
	    "  logout   forget the account's tokens\n"
	    "\n"
	    "See mail2cups-oauth(1).\n");
}

static int
cmd_status(const struct conf *cf, const struct conf_account *a)
{
	struct tokenstore *ts = NULL;
	struct oauth_tokens t = { 0 };
	struct oauth_device d = { 0 };
	char *e = NULL, *say;
	time_t now = time(NULL);
	int r;

	if ((r = tokenstore_open_conf(cf, a, &ts, &e)) != 0)
		goto out;
	r = tokenstore_load(ts, &t, &e);
	if (r == 0) {
		long left = (long)(t.expires_at - now);
		printf("%s: signed in as %s; access token %s; %s\n", a->name,
		    t.identity ? t.identity : "(unknown)",
		    t.expires_at == 0 ? "expiry unknown" : left > 0 ? "valid" : "expired",
		    t.refresh_token ? "refresh token stored" : "no refresh token");
		if (t.expires_at != 0 && left > 0)
			printf("%s: the access token is valid for %ld min more\n", a->name, left / 60);
		goto out;
	}
	if (r != M2C_E_SIGNIN)
		goto out;
	free(e);
	e = NULL;
	if (tokenstore_load_pending(ts, &d, NULL) == 0 && d.expires_at > now) {
		say = advice_sign_in_waiting(cf, a, d.verification_uri, d.user_code,
		    d.expires_at, now);
		printf("%s: waiting to sign in: %s\n", a->name, say);
	} else {
		say = advice_fix(cf, a, M2C_STEP_SIGNIN, M2C_E_SIGNIN);
		printf("%s: not signed in: %s\n", a->name, say);
	}
	free(say);
out:
	if (r != 0 && e != NULL)
		log_error("%s", e);
	free(e);
	oauth_tokens_clear(&t);
	oauth_device_clear(&d);
	tokenstore_close(&ts);
	return r;
}

/* The program's own options (progopt.h has the common ones): login's. */
static int
take_option(int ch, void *arg)
{
	struct signin_login_opts *lo = arg;

	if (ch == 'H')
		lo->headless = 1;
	else if (ch == 'Q')
		lo->no_qr = 1;
	else
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "headless", no_argument, NULL, 'H' },
		{ "no-qr", no_argument, NULL, 'Q' },
		{ NULL, 0, NULL, 0 },
	};
	struct progopt po = { .name = "mail2cups-oauth", .usage = usage };
	struct signin_login_opts lo = { 0, 0, 3, stdout, stdin };
	int r = 0;
	char *e = NULL;
	const char *cmd, *name;
	const struct conf_account *a = NULL;
	struct conf *cf = NULL;
	struct oauth_tokens t = { 0 };

	log_init("mail2cups-oauth", 0, LOG_LVL_INFO);
	/* Before any secret is read: no core dump may hold one. */
	if ((r = privdrop_no_core_dumps(&e)) != 0) {
		fprintf(stderr, "mail2cups-oauth: %s\n", e);
		free(e);
		return m2c_err_exit_code(r);
	}
	if ((r = progopt_parse(&po, argc, argv, longopts, take_option, &lo)) >= 0) {
		progopt_clear(&po);
		return r;
	}
	r = 0;
	if (argc - optind != 2) {
		usage(stderr);
		progopt_clear(&po);
		return EX_USAGE;
	}
	cmd = argv[optind];
	name = argv[optind + 1];
	if (strcmp(cmd, "login") && strcmp(cmd, "token") && strcmp(cmd, "sasl") &&
	    strcmp(cmd, "status") && strcmp(cmd, "logout")) {
		fprintf(stderr, "mail2cups-oauth: unknown command \"%s\"\n", cmd);
		usage(stderr);
		progopt_clear(&po);
		return EX_USAGE;
	}

	if (po.config == NULL)
		po.config = conf_default_path();
	if ((r = conf_load(po.config, &cf, &e)) != 0)
		goto out;
	log_set_level(progopt_level(&po, cf->log_level));
	if ((a = conf_account_find(cf, name)) == NULL) {
		r = m2c_fail(&e, M2C_E_USAGE, "%s has no account named \"%s\"", po.config,
		    name);
		goto out;
	}
	if (!a->oauth.present) {
		r = m2c_fail(&e, M2C_E_CONFIG, "account %s signs in with a password (auth = \"%s\"), "
		    "not OAuth: add an oauth group to use mail2cups-oauth", a->name,
		    conf_auth_name(a->auth));
		goto out;
	}
	if ((r = runas_service_user(cf, 1, NULL, &e)) != 0)
		goto out;

	if (strcmp(cmd, "login") == 0) {
		r = signin_login(cf, a, &lo, &e);
	} else if (strcmp(cmd, "status") == 0) {
		r = cmd_status(cf, a);
	} else if (strcmp(cmd, "logout") == 0) {
		if ((r = signin_logout(cf, a, &e)) == 0)
			printf("%s: signed out; tokens removed\n", a->name);
	} else if ((r = signin_token(cf, a, NULL, &t, &e)) == 0) {
		if (strcmp(cmd, "token") == 0) {
			printf("%s\n", t.access_token);
		} else {
			char *ir = signin_sasl_ir(a, t.access_token);
			printf("%s\n", ir);
			free_secret(ir);
		}
		if (fflush(stdout) != 0)
			r = m2c_fail(&e, M2C_E_SYS, "cannot write the token to standard output");
	}
out:
	if (r != 0 && e != NULL)
		fprintf(stderr, "mail2cups-oauth: %s\n", e);
	/* A failed sign-in or token: what to do about it (advice.h). */
	if (r != 0 && a != NULL && a->oauth.present && r != M2C_E_USAGE &&
	    strcmp(cmd, "status") != 0) {
		char *fix = advice_fix(cf, a, M2C_STEP_SIGNIN, r);

		fprintf(stderr, "mail2cups-oauth: fix: %s\n", fix);
		free(fix);
	}
	free(e);
	progopt_clear(&po);
	oauth_tokens_clear(&t);
	conf_free(&cf);
	log_secret_clear();
	return m2c_err_exit_code(r);
}
