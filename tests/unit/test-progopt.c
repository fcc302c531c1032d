/* test-progopt.c - progopt.c: the options every program has. */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "progopt.h"
#include "tap.h"
#include "util.h"

static int usage_out, usage_err;

static void
usage(FILE *f)
{
	if (f == stdout)
		usage_out++;
	else
		usage_err++;
}

/* The test program's own option: --extra (x). */
static int
take(int ch, void *arg)
{
	if (ch != 'x')
		return -1;
	(*(int *)arg)++;
	return 0;
}

static void
test_table(void)
{
	static const struct option own[] = {
		{ "extra", no_argument, NULL, 'x' },
		{ "unhandled", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *args;	/* space-separated, after argv[0] */
		int stop;		/* stop_at_operand */
		int status;		/* progopt_parse's result */
		const char *config;	/* NULL: none */
		int level;		/* -1: not set */
		int extra;		/* --extra seen */
		int next;		/* optind after (status -1 only) */
		int out, err;		/* usage on stdout, on stderr */
	} t[] = {
		{ "once", 1, -1, NULL, -1, 0, 1, 0, 0 },
		{ "-c /etc/m.conf once", 1, -1, "/etc/m.conf", -1, 0, 3, 0, 0 },
		{ "--config=a --config b once", 1, -1, "b", -1, 0, 4, 0, 0 },
		{ "-v once", 1, -1, NULL, LOG_LVL_DEBUG, 0, 2, 0, 0 },
		{ "-v -q once", 1, -1, NULL, LOG_LVL_WARN, 0, 3, 0, 0 },
		{ "--quiet --verbose once", 1, -1, NULL, LOG_LVL_DEBUG, 0, 3, 0, 0 },
		{ "--extra once --extra", 1, -1, NULL, -1, 1, 2, 0, 0 },
		{ "--extra once --extra", 0, -1, NULL, -1, 2, 3, 0, 0 },	/* permuted */
		{ "-h", 1, EX_OK, NULL, -1, 0, 0, 1, 0 },
		{ "--help once", 1, EX_OK, NULL, -1, 0, 0, 1, 0 },
		{ "--version", 1, EX_OK, NULL, -1, 0, 0, 0, 0 },
		{ "-V", 1, EX_USAGE, NULL, -1, 0, 0, 0, 1 },
		{ "--bogus once", 1, EX_USAGE, NULL, -1, 0, 0, 0, 1 },
		{ "--unhandled once", 1, EX_USAGE, NULL, -1, 0, 0, 0, 1 },
		{ "-c", 1, EX_USAGE, NULL, -1, 0, 0, 0, 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct progopt po = { .name = "test-progopt", .usage = usage,
		    .stop_at_operand = t[i].stop };
		char *copy = xstrdup(t[i].args), *save = NULL, *w;
		char *argv[16] = { "test-progopt" };
		int argc = 1, extra = 0, status;

		for (w = strtok_r(copy, " ", &save); w != NULL && argc < 15;
		    w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
		usage_out = usage_err = 0;
		optind = 0;	/* a fresh getopt scan */
		status = progopt_parse(&po, argc, argv, own, take, &extra);
		is_int(status, t[i].status, "\"%s\": result", t[i].args);
		is_str(po.config, t[i].config, "\"%s\": config", t[i].args);
		is_int(po.level_set ? (int)po.level : -1, t[i].level, "\"%s\": level",
		    t[i].args);
		is_int(extra, t[i].extra, "\"%s\": the program's own option", t[i].args);
		if (status < 0)
			is_int(optind, t[i].next, "\"%s\": the first operand", t[i].args);
		is_int(usage_out, t[i].out, "\"%s\": usage on stdout", t[i].args);
		is_int(usage_err, t[i].err, "\"%s\": usage on stderr", t[i].args);
		is_int((int)progopt_level(&po, LOG_LVL_ERROR),
		    po.level_set ? (int)po.level : LOG_LVL_ERROR,
		    "\"%s\": the level to use", t[i].args);
		progopt_clear(&po);
		ok(po.config == NULL, "\"%s\": cleared", t[i].args);
		free(copy);
	}
}

int
main(void)
{
	test_table();
	return tap_done();
}
