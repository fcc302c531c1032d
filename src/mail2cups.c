/*
 * mail2cups - fetch mail over IMAP and print its attachments through CUPS.
 *
 *   mail2cups [-c FILE] [-v] once [--dry-run]    one pass over every account
 *   mail2cups [-c FILE] [-v] check               try every account; change nothing
 *   mail2cups [-c FILE] run [--syslog]            the daemon (foreground, for systemd)
 *   mail2cups [-c FILE] status [--json]          each account's state, read-only
 *   mail2cups [-c FILE] deliver -a ACCOUNT [-f SENDER] [-r RECIPIENT]
 *                                                an MDA: one message on stdin
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
#include "deliver.h"
#include "error.h"
#include "folders.h"
#include "lock.h"
#include "log.h"
#include "mime.h"
#include "poller.h"
#include "privdrop.h"
#include "progopt.h"
#include "runas.h"
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
	    "       mail2cups deliver [-c FILE] [-v] -a ACCOUNT [-f SENDER] [-r RECIPIENT]\n"
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
	    "  deliver    an MDA (Postfix pipe, Exim, fetchmail, procmail, Sieve pipe): print\n"
	    "             the one message on standard input through ACCOUNT; SENDER and\n"
	    "             RECIPIENT default to $SENDER and $RECIPIENT.  Exit 0 when CUPS\n"
	    "             holds every job or the message was refused on purpose, 75 to try\n"
	    "             again later, 78 for a configuration error; the log goes to syslog\n"
	    "             (-v: to standard error), one line on standard error says the outcome\n"
	    "  -c FILE    the configuration file (default: %s for root,\n"
	    "             $XDG_CONFIG_HOME/mail2cups/mail2cups.conf otherwise)\n"
	    "  -v, -q     more (debug, with the IMAP protocol minus credentials) / less output\n"
	    "\n"
	    "See mail2cups(8) and mail2cups.conf(5).\n", M2C_CONF_PATH);
}

/*
 * Become the service user (runas.h: never mail as root), make the scratch
 * folder and clear what a crashed run left there: what once and run do
 * first.
 */
static int
prepare_state_dir(const struct conf *cf, char **errstr)
{
	char *scratch = xasprintf("%s/scratch", cf->state_dir);
	struct privdrop_user as = { 0 };
	int r;

	if ((r = runas_service_user(cf, 1, &as, errstr)) == 0 &&
	    (r = privdrop_check_private_dir(scratch, &as, errstr)) == 0 &&
	    (r = mkdir_p(scratch, 0700, errstr)) == 0)
		poller_clean_scratch(scratch);
	privdrop_user_clear(&as);
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

		if (a->deliver_only) {
			log_debug("%s: deliver_only: mail2cups deliver feeds it; no mailbox to "
			    "read", a->name);
			continue;
		}
		r = poller_once_account(cf, a, st, &o, &sum, &step, &e,
		    a->print_folders ? folders_pass : poller_pass);
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

/* The options of `deliver`. */
struct deliver_args {
	const char *account;	/* -a */
	const char *sender;	/* -f, else $SENDER */
	const char *recipient;	/* -r, else $RECIPIENT */
};

/*
 * `mail2cups deliver`: one message on stdin (deliver.h).  Exit 0 when it
 * is dealt with, 75 (EX_TEMPFAIL) for anything the MTA should try again,
 * 78 (EX_CONFIG) for a configuration error; never another code, since
 * Postfix bounces on those, and a bounce may reach a forged sender.  One
 * line on stderr says what happened, for the MTA's log.
 */
static int
cmd_deliver(const struct conf *cf, const struct deliver_args *da)
{
	const struct conf_account *a = conf_account_find(cf, da->account);
	struct deliver_opts o = { da->sender, da->recipient, STDIN_FILENO };
	enum deliver_outcome outcome;
	enum m2c_step step = M2C_STEP_LOCAL;
	struct state *st = NULL;
	struct privdrop_user as = { 0 };
	char *e = NULL, *scratch = NULL, *words = NULL;
	int busy = 0, r, status;

	if (a == NULL) {
		r = m2c_fail(&e, M2C_E_CONFIG, "there is no account \"%s\" in %s (-a names one "
		    "of its accounts)", da->account, cf->path);
		goto out;
	}
	log_set_account(a->name);
	scratch = xasprintf("%s/scratch", cf->state_dir);
	/* Never as root: as the service user, as once and run (no scratch
	 * cleaning: the daemon may be working on another account). */
	if ((r = runas_service_user(cf, 1, &as, &e)) != 0 ||
	    (r = privdrop_check_private_dir(scratch, &as, &e)) != 0 ||
	    (r = mkdir_p(scratch, 0700, &e)) != 0 || (r = mime_init(&e)) != 0 ||
	    (r = state_open(cf->state_dir, &st, &e)) != 0)
		goto out;
	r = deliver_message(cf, a, st, &o, &outcome, &words, &busy, &step, &e);
	/* Busy: whoever holds the account records its own outcome. */
	if (!busy)
		record_outcome(cf, a, st, 0, r, step, e);
out:
	if (r == 0) {
		log_info("%s", words);
		fprintf(stderr, "mail2cups: %s: %s\n", a->name, words);
		status = EX_OK;
	} else {
		char *fix = a != NULL ? advice_fix(cf, a, step, r) : NULL;

		log_error("%s", e ? e : m2c_err_name(r));
		if (fix != NULL)
			log_error("fix: %s", fix);
		status = r == M2C_E_CONFIG || r == M2C_E_NOTSUP ? EX_CONFIG : EX_TEMPFAIL;
		fprintf(stderr, "mail2cups: %s%s%s%s\n", a != NULL ? a->name : "",
		    a != NULL ? ": " : "", status == EX_TEMPFAIL ? "will try again: " : "",
		    e ? e : m2c_err_name(r));
		free(fix);
	}
	log_set_account(NULL);
	state_close(&st);
	mime_shutdown();
	free(words);
	free(scratch);
	privdrop_user_clear(&as);
	free(e);
	return status;
}

/*
 * deliver's options, after the command (-c may come there too, as MTAs'
 * examples write it).  0, or EX_USAGE after saying why.
 */
static int
parse_deliver_args(int argc, char **argv, char **path, int *verbose, struct deliver_args *da)
{
	int ch;

	optind = 0;	/* restart getopt on the command's arguments */
	while ((ch = getopt(argc, argv, "+c:a:f:r:v")) != -1) {
		switch (ch) {
		case 'c':
			free(*path);
			*path = xstrdup(optarg);
			break;
		case 'a':
			da->account = optarg;
			break;
		case 'f':
			da->sender = optarg;
			break;
		case 'r':
			da->recipient = optarg;
			break;
		case 'v':
			*verbose = 1;
			break;
		default:
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mail2cups: deliver: unexpected argument \"%s\"\n", argv[optind]);
		return EX_USAGE;
	}
	if (da->account == NULL) {
		fprintf(stderr, "mail2cups: deliver: -a ACCOUNT is required\n");
		return EX_USAGE;
	}
	/* What Sieve's pipe and Postfix's local(8) put in the environment. */
	if (da->sender == NULL)
		da->sender = getenv("SENDER");
	if (da->recipient == NULL)
		da->recipient = getenv("RECIPIENT");
	return 0;
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
 * Check every account (check.h) as the user once and run run as, after
 * what they need locally; the exit code of the first failure.
 */
static int
cmd_check(const struct conf *cf)
{
	struct privdrop_user as = { 0 };
	char *e = NULL;
	int r, status = EX_OK, was_root = geteuid() == 0;

	if ((r = runas_service_user(cf, 0, &as, &e)) != 0) {
		check_refused(cf, r, e, stdout);
		free(e);
		return m2c_err_exit_code(r);
	}
	r = check_local(cf, &as, was_root, stdout);
	if (r != 0)
		status = m2c_err_exit_code(r);
	for (size_t i = 0; i < cf->naccounts; i++) {
		r = check_account(cf, &cf->accounts[i], stdout);
		if (r != 0 && status == EX_OK)
			status = m2c_err_exit_code(r);
	}
	privdrop_user_clear(&as);
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

	if (stat(cf->state_dir, &sb) == 0 && (r = runas_service_user(cf, 0, NULL, &e)) != 0)
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

/* The program's own option (progopt.h has the common ones): --dry-run. */
static int
take_option(int ch, void *arg)
{
	if (ch != 'n')
		return -1;
	*(int *)arg = 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const commands[] = { "once", "check", "status", "run", "deliver" };
	struct progopt po = { .name = "mail2cups", .usage = usage, .stop_at_operand = 1 };
	struct deliver_args da = { 0 };
	int dry_run = 0, use_syslog = 0, json = 0, verbose = 0, r, status;
	size_t i;
	char *e = NULL;
	const char *cmd;
	struct conf *cf = NULL;

	log_init("mail2cups", 0, LOG_LVL_INFO);
	/* Before any secret is read: no core dump may hold one. */
	if ((r = privdrop_no_core_dumps(&e)) != 0) {
		log_error("%s", e);
		status = m2c_err_exit_code(r);
		goto out;
	}
	/*
	 * A peer that closes is an error of the call that wrote to it, never
	 * a signal: once here, instead of a guard around every TLS call
	 * (imap-conn.c).  Converters get their signals back (convert.c).
	 */
	signal(SIGPIPE, SIG_IGN);
	if ((status = progopt_parse(&po, argc, argv, longopts, take_option, &dry_run)) >= 0)
		goto out;
	if (optind >= argc) {
		usage(stderr);
		status = EX_USAGE;
		goto out;
	}
	cmd = argv[optind++];
	for (i = 0; i < ARRAY_SIZE(commands) && strcmp(cmd, commands[i]) != 0; i++)
		;
	if (i == ARRAY_SIZE(commands)) {
		fprintf(stderr, "mail2cups: unknown command \"%s\"\n", cmd);
		usage(stderr);
		status = EX_USAGE;
		goto out;
	}
	if (strcmp(cmd, "deliver") == 0) {
		/* An MDA logs to syslog: stderr carries one line, for the MTA. */
		if ((status = parse_deliver_args(argc - optind + 1, argv + optind - 1, &po.config,
		    &verbose, &da)) != 0) {
			usage(stderr);
			goto out;
		}
		if (verbose)
			po.level = LOG_LVL_DEBUG, po.level_set = 1;
		else
			log_init("mail2cups", 1, LOG_LVL_INFO);
		optind = argc;
	}
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
	if (po.config == NULL)
		po.config = conf_default_path();
	if ((r = conf_load(po.config, &cf, &e)) != 0) {
		log_error("%s", e ? e : m2c_err_name(r));	/* every line prefixed */
		status = m2c_err_exit_code(r);
		if (strcmp(cmd, "deliver") == 0) {
			/* Whatever is wrong with the file, it is for the administrator. */
			status = EX_CONFIG;
			if (!verbose)
				fprintf(stderr, "mail2cups: cannot use the configuration: %s\n",
				    e ? e : m2c_err_name(r));
		}
		goto out;
	}
	log_set_level(progopt_level(&po, cf->log_level));
	cups_job_set_server(cf->cups_server);
	if (strcmp(cmd, "check") == 0)
		status = cmd_check(cf);
	else if (strcmp(cmd, "run") == 0)
		status = cmd_run(po.config, &cf, use_syslog);
	else if (strcmp(cmd, "status") == 0)
		status = cmd_status(cf, json);
	else if (strcmp(cmd, "deliver") == 0)
		status = cmd_deliver(cf, &da);
	else
		status = cmd_once(cf, dry_run);
out:
	conf_free(&cf);
	log_secret_clear();
	free(e);
	progopt_clear(&po);
	return status;
}
