/*
 * progopt.h - the options every program has, parsed in one place:
 *   -c FILE, --config FILE   the configuration file
 *   -v, --verbose            log level debug
 *   -q, --quiet              log level warn
 *   -h, --help               the program's usage on stdout
 *   --version                "PROGRAM VERSION" on stdout
 * beside the program's own long options, which it handles itself.
 */
#ifndef M2C_PROGOPT_H
#define M2C_PROGOPT_H

#include <getopt.h>
#include <stdio.h>

#include "log.h"

struct progopt {
	/* set by the program */
	const char *name;		/* borrowed: for --version */
	void (*usage)(FILE *f);		/* prints the program's usage */
	int stop_at_operand;		/* options end at the first operand (a command) */
	/* filled by progopt_parse */
	char *config;			/* owned: -c's FILE; NULL when not given */
	enum log_level level;		/* -v or -q */
	int level_set;			/* -v or -q was given */
};

/*
 * getopt_long over argv with the options above and own (the program's
 * long options, ending with a zeroed entry; NULL for none).  Each of own's
 * options is handed to take(ch, arg), which returns 0, or -1 to have it
 * refused as unknown.  Returns -1 to carry on, optind at the first operand;
 * else the exit status: EX_OK after --help or --version (printed), EX_USAGE
 * after an unknown option (getopt's message and the usage on stderr).
 */
int progopt_parse(struct progopt *po, int argc, char **argv, const struct option *own,
    int (*take)(int ch, void *arg), void *arg);

/* The log level to use: -v/-q when given, else the configured one. */
enum log_level progopt_level(const struct progopt *po, enum log_level configured);

void progopt_clear(struct progopt *po);	/* frees config */

#endif
