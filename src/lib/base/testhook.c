/* testhook.c - see testhook.h. */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhook.h"

void
testhook_point(const char *step)
{
	static int init;
	static const char *stop_at;
	static long remaining = 1;

	if (!init) {
		const char *n = getenv("MAIL2CUPS_TEST_STOP_COUNT");

		stop_at = getenv("MAIL2CUPS_TEST_STOP_AT");
		if (n != NULL && atol(n) > 0)
			remaining = atol(n);
		init = 1;
	}
	if (stop_at == NULL || strcmp(stop_at, step) != 0)
		return;
	if (--remaining > 0)
		return;
	fprintf(stderr, "mail2cups: test hook: stopping at %s\n", step);
	_exit(TESTHOOK_EXIT);
}
