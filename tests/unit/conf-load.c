/*
 * conf-load.c - load a configuration file and say what is wrong with it:
 * exit 0 when it loads, 1 with every problem on stderr otherwise.  For
 * tests/unit/test-examples.sh.
 */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>

#include "conf.h"

int
main(int argc, char **argv)
{
	struct conf *c = NULL;
	char *e = NULL;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: conf-load FILE\n");
		return 2;
	}
	if ((r = conf_load(argv[1], &c, &e)) != 0)
		fprintf(stderr, "%s\n", e ? e : "cannot load");
	free(e);
	conf_free(&c);
	return r == 0 ? 0 : 1;
}
