/*
 * fuzz-subject-tags.c - libFuzzer target for popt_parse_subject.
 *
 * Each input is taken as a subject (up to its first NUL) and parsed; the
 * options found must be in range, the list of unknown items bounded and
 * printable, and popt_describe of the result must work.  The input is
 * also parsed as one rule option with popt_parse_item.  Built with
 * -fsanitize=fuzzer under --enable-fuzzing, else with
 * tests/fuzz/standalone.c over tests/fuzz/corpus/subject-tags.
 */
#include "m2c-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "printopts.h"
#include "util.h"

/* 10 items of at most 40 bytes, quoted, with "...", ", " and ", ...". */
#define FUZZ_UNKNOWN_MAX	(10 * (40 + 3 + 2 + 1 + 2) + 5)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What printopts.h promises about a parsed print_opts. */
static void
check_opts(const struct print_opts *o)
{
	if (o->set & ~POPT_ALL)
		abort();
	if ((o->set & POPT_COPIES) && (o->copies < 1 || o->copies > POPT_MAX_COPIES))
		abort();
	if ((o->set & POPT_SIDES) && o->sides == NULL)
		abort();
	if ((o->set & POPT_COLOR) && o->color == NULL)
		abort();
	if ((o->set & POPT_MEDIA) && o->media == NULL)
		abort();
	if ((o->set & POPT_ORIENTATION) && o->orientation != 3 && o->orientation != 4)
		abort();
	if (o->set & POPT_PAGES) {
		if (o->nranges < 1 || o->nranges > POPT_MAX_RANGES)
			abort();
		for (int i = 0; i < o->nranges; i++)
			if (o->ranges[i][0] < 1 || o->ranges[i][0] > o->ranges[i][1] ||
			    o->ranges[i][1] > 99999 ||
			    (i > 0 && o->ranges[i][0] <= o->ranges[i - 1][1]))
				abort();
	}
}

static void
check_describe(const struct print_opts *o)
{
	char *d = popt_describe(o);

	if (d == NULL || (o->set == 0) != (*d == '\0'))
		abort();
	free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct print_opts o = { 0 }, one = { 0 };
	char *s = xstrndup((const char *)data, size), *unknown = NULL, *err = NULL;
	int n, rc;

	n = popt_parse_subject(s, &o, &unknown);
	if (n < 0 || (n == 0) != (o.set == 0))
		abort();
	check_opts(&o);
	check_describe(&o);
	if (unknown) {
		if (*unknown == '\0' || strlen(unknown) > FUZZ_UNKNOWN_MAX)
			abort();
		for (const char *p = unknown; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				abort();
	}
	rc = popt_parse_item(s, &one, &err);
	if ((rc == 0) != (err == NULL) || (rc != 0 && rc != M2C_E_DATA) ||
	    (rc == 0) != (one.set != 0))
		abort();
	check_opts(&one);
	check_describe(&one);
	free(err);
	free(unknown);
	free(s);
	return 0;
}
