/*
 * mail2cups - fetch mail over IMAP and print its attachments through CUPS.
 *
 *   mail2cups [-c FILE] [-v] once [--dry-run]    one pass over every account
 *   mail2cups [-c FILE] [-v] check               try every account; change nothing
 *   mail2cups [-c FILE] run [--syslog]            the daemon (foreground, for systemd)
 *   mail2cups [-c FILE] status [--json]          each account's state, read-only
 *
 * Exit codes are sysexits(3), as DESIGN.md and mail2cups(8) list them.
 */
#include "m2c-config.h"
#include "m2c-paths.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "check.h"
#include "conf.h"
#include "daemon.h"
#include "cupsjob.h"
#include "error.h"
#include "lock.h"
#include "log.h"
#include "mime.h"
#include "poller.h"
#include "privdrop.h"
#include "state.h"
#include "status.h"
#include "summary.h"
#include "util.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mail2cups [-c FILE] [-v|-q] once [--dry-run]\n"
	    "       mail2cups [-c FILE] [-v|-q] run [--syslog] | check | status [--json]\n"
	    "       mail2cups --version | --help\n"
	    "\n"
	    "  once       one pass over every account: print new mail, then exit\n"
	    "  --dry-run  say what would be printed; change nothing\n"
	    "  run        the daemon: every account at once, IMAP IDLE, reconnection;\n"
	    "             SIGHUP reloads the configuration, SIGTERM stops\n"
	    "  check      try each account's CUPS queue, sign-in, IMAP login and mailbox;\n"
	    "             change nothing; say what to do about each failure\n"
	    "  status     each account's state from the last pass (read-only); exit 0 all\n"
	    "             ok, 1 waiting to sign in or not configured, 2 an error\n"
	    "  --json     status as JSON\n"
	    "  -c FILE    the configuration file (default: %s for root,\n"
	    "             $XDG_CONFIG_HOME/mail2cups/mail2cups.conf otherwise)\n"
	    "  -v, -q     more (debug, with the IMAP protocol minus credentials) / less output\n"
	    "\n"
	    "See mail2cups(8) and mail2cups.conf(5).\n", M2C_CONF_PATH);
}

/*
 * Become the owner of state_dir, make its scratch folder and clear what a
 * crashed run left there: what once and run do first.
 */
static int
prepare_state_dir(const struct conf *cf, char **errstr)
{
	char *scratch = xasprintf("%s/scratch", cf->state_dir);
	int r;

	if ((r = privdrop_to_state_owner(cf->state_dir, errstr)) == 0 &&
	    (r = mkdir_p(scratch, 0700, errstr)) == 0)
		poller_clean_scratch(scratch);
	free(scratch);
	return r;
}

/* Store the outcome of a pass for `status` (not in a dry run: it changes nothing). */
static void
record_outcome(const struct conf *cf, const struct conf_account *a, struct state *st,
    int dry_run, int r, enum m2c_step step, const char *msg)
{
	char *e = NULL;

	if (dry_run)
		return;
	if (status_record(st, cf, a, r, step, msg, time(NULL), &e) != 0)
		log_warn("%s: cannot record the outcome for mail2cups status: %s", a->name,
		    e ? e : "unknown error");
	free(e);
}

/* One pass over every account; the exit code of the first failure. */
static int
cmd_once(const struct conf *cf, int dry_run)
{
	struct poller_opts o = { dry_run };
	struct state *st = NULL;
	char *e = NULL;
	int r, status = EX_OK;

	if ((r = prepare_state_dir(cf, &e)) != 0)
		goto fail;
	if ((r = mime_init(&e)) != 0)
		goto fail;
	if ((r = state_open(cf->state_dir, &st, &e)) != 0)
		goto fail;
	/* Passes come from once here: no daemon is expected (status). */
	if (!dry_run)
		lock_daemon_forget(cf->state_dir);

	for (size_t i = 0; i < cf->naccounts; i++) {
		const struct conf_account *a = &cf->accounts[i];
		enum m2c_step step = M2C_STEP_IMAP;
		struct poller_summary sum;

		r = poller_once_account(cf, a, st, &o, &sum, &step, &e);
		/* Busy: the daemon serves it and records its own outcome. */
		if (!sum.busy)
			record_outcome(cf, a, st, dry_run, r, step, e);
		if (r != 0) {
			char *fix = advice_fix(cf, a, step, r);

			log_error("%s: %s", a->name, e ? e : m2c_err_name(r));
			log_error("%s: fix: %s", a->name, fix);
			free(fix);
			free(e);
			e = NULL;
			if (status == EX_OK)
				status = m2c_err_exit_code(r);
		}
		if (sum.busy)
			continue;
		if (r == 0 || sum.fetched > 0 || sum.failed > 0) {
			/* After an error with nothing done, the error says it all. */
			char *words = poller_summary_words(&sum, dry_run);

			log_info("%s: %s%s", a->name, words,
			    dry_run ? " (dry run: nothing changed)" : "");
			free(words);
		}
	}
	goto out;
fail:
	log_error("%s", e ? e : m2c_err_name(r));
	status = m2c_err_exit_code(r);
out:
	state_close(&st);
	mime_shutdown();
	free(e);
	return status;
}

/* The daemon (daemon.h), in the foreground for systemd. */
static int
cmd_run(const char *path, struct conf **cf, int use_syslog)
{
	struct lock *lk = NULL;
	char *e = NULL;
	int r;

	/* One daemon per state_dir, held until it exits (lock.h). */
	if ((r = prepare_state_dir(*cf, &e)) == 0 &&
	    (r = lock_daemon((*cf)->state_dir, &lk, &e)) == 0) {
		if (use_syslog)
			log_init("mail2cups", 1, log_get_level());
		r = daemon_run(path, cf, &e);
	}
	if (r != 0)
		log_error("%s", e ? e : m2c_err_name(r));
	lock_release(&lk);
	free(e);
	return m2c_err_exit_code(r);
}

/*
 * Check every account (check.h); the exit code of the first failure.  Only
 * the token store is touched (a refresh), so privileges are dropped to its
 * owner only when an account uses OAuth.
 */
static int
cmd_check(const struct conf *cf)
{
	char *e = NULL;
	int r, status = EX_OK;

	if (check_uses_tokens(cf) && (r = privdrop_to_state_owner(cf->state_dir, &e)) != 0) {
		fprintf(stderr, "mail2cups: %s\n", e ? e : m2c_err_name(r));
		free(e);
		return m2c_err_exit_code(r);
	}
	for (size_t i = 0; i < cf->naccounts; i++) {
		r = check_account(cf, &cf->accounts[i], stdout);
		if (r != 0 && status == EX_OK)
			status = m2c_err_exit_code(r);
	}
	return status;
}

/*
 * Each account's state, read from the state database and the token stores
 * without changing them (as the owner of state_dir, when it exists); exits
 * like a monitoring plugin: 0 all ok, 1 waiting or not configured, 2 error.
 */
static int
cmd_status(const struct conf *cf, int json)
{
	struct status_report *rep = NULL;
	struct stat sb;
	char *e = NULL;
	int r, status = 2;

	if (stat(cf->state_dir, &sb) == 0 &&
	    (r = privdrop_to_state_owner(cf->state_dir, &e)) != 0)
		goto fail;
	if ((r = status_collect(cf, time(NULL), &rep, &e)) != 0)
		goto fail;
	if (json)
		r = status_print_json(stdout, rep, &e);
	else
		status_print_text(stdout, rep);
	if (r != 0 || fflush(stdout) != 0)
		goto fail;
	status = status_exit_code(rep);
	goto out;
fail:
	fprintf(stderr, "mail2cups: status: %s\n", e ? e : m2c_err_name(r));
out:
	status_report_free(&rep);
	free(e);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum log_level level = LOG_LVL_INFO;
	int level_set = 0, dry_run = 0, use_syslog = 0, json = 0, ch, r, status;
	char *path = NULL, *e = NULL;
	const char *cmd;
	struct conf *cf = NULL;

	log_init("mail2cups", 0, LOG_LVL_INFO);
	/*
	 * A peer that closes is an error of the call that wrote to it, never
	 * a signal: once here, instead of a guard around every TLS call
	 * (imap-conn.c).  Converters get their signals back (convert.c).
	 */
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "+c:vqh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			free(path);
			path = xstrdup(optarg);
			break;
		case 'v':
			level = LOG_LVL_DEBUG, level_set = 1;
			break;
		case 'q':
			level = LOG_LVL_WARN, level_set = 1;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'h':
			usage(stdout);
			status = EX_OK;
			goto out;
		case 'V':
			printf("mail2cups %s\n", PACKAGE_VERSION);
			status = EX_OK;
			goto out;
		default:
			usage(stderr);
			status = EX_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		status = EX_USAGE;
		goto out;
	}
	cmd = argv[optind++];
	/* Command options may follow the command. */
	for (; optind < argc; optind++) {
		if (strcmp(cmd, "once") == 0 && strcmp(argv[optind], "--dry-run") == 0) {
			dry_run = 1;
		} else if (strcmp(cmd, "run") == 0 && strcmp(argv[optind], "--syslog") == 0) {
			use_syslog = 1;
		} else if (strcmp(cmd, "status") == 0 && strcmp(argv[optind], "--json") == 0) {
			json = 1;
		} else {
			fprintf(stderr, "mail2cups: %s: unexpected argument \"%s\"\n", cmd, argv[optind]);
			usage(stderr);
			status = EX_USAGE;
			goto out;
		}
	}
	if (strcmp(cmd, "once") != 0 && strcmp(cmd, "check") != 0 &&
	    strcmp(cmd, "status") != 0 && strcmp(cmd, "run") != 0) {
		fprintf(stderr, "mail2cups: unknown command \"%s\"\n", cmd);
		usage(stderr);
		status = EX_USAGE;
		goto out;
	}

	if (path == NULL)
		path = conf_default_path();
	if ((r = conf_load(path, &cf, &e)) != 0) {
		log_error("%s", e ? e : m2c_err_name(r));	/* every line prefixed */
		status = m2c_err_exit_code(r);
		goto out;
	}
	log_set_level(level_set ? level : cf->log_level);
	cups_job_set_server(cf->cups_server);
	if (strcmp(cmd, "check") == 0)
		status = cmd_check(cf);
	else if (strcmp(cmd, "run") == 0)
		status = cmd_run(path, &cf, use_syslog);
	else if (strcmp(cmd, "status") == 0)
		status = cmd_status(cf, json);
	else
		status = cmd_once(cf, dry_run);
out:
	conf_free(&cf);
	log_secret_clear();
	free(e);
	free(path);
	return status;
}
