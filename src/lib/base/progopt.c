/*
 * progopt.c - the options every program has; see progopt.h.
 */
#include "m2c-config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "progopt.h"
#include "util.h"

static const struct option common[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
};

int
progopt_parse(struct progopt *po, int argc, char **argv, const struct option *own,
    int (*take)(int ch, void *arg), void *arg)
{
	struct option *all;
	size_t n = 0, i;
	int ch, status = -1;

	while (own != NULL && own[n].name != NULL)
		n++;
	all = xcalloc(ARRAY_SIZE(common) + n + 1, sizeof(*all));
	for (i = 0; i < ARRAY_SIZE(common); i++)
		all[i] = common[i];
	for (i = 0; i < n; i++)
		all[ARRAY_SIZE(common) + i] = own[i];
	while (status < 0 && (ch = getopt_long(argc, argv,
	    po->stop_at_operand ? "+c:vqh" : "c:vqh", all, NULL)) != -1) {
		switch (ch) {
		case 'c':
			free(po->config);
			po->config = xstrdup(optarg);
			break;
		case 'v':
			po->level = LOG_LVL_DEBUG, po->level_set = 1;
			break;
		case 'q':
			po->level = LOG_LVL_WARN, po->level_set = 1;
			break;
		case 'h':
			po->usage(stdout);
			status = EX_OK;
			break;
		case 'V':
			printf("%s %s\n", po->name, PACKAGE_VERSION);
			status = EX_OK;
			break;
		default:
			if (ch != '?' && take != NULL && take(ch, arg) == 0)
				break;
			po->usage(stderr);
			status = EX_USAGE;
			break;
		}
	}
	free(all);
	return status;
}

enum log_level
progopt_level(const struct progopt *po, enum log_level configured)
{
	return po->level_set ? po->level : configured;
}

void
progopt_clear(struct progopt *po)
{
	if (po == NULL)
		return;
	free(po->config);
	po->config = NULL;
}
