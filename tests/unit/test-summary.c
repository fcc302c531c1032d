/* test-summary.c - the words of a pass's summary line (summary.h). */
#include "m2c-config.h"

#include <stdlib.h>

#include "summary.h"
#include "tap.h"

static const struct {
	struct poller_summary sum;
	int dry_run;
	const char *want;
} cases[] = {
	{ { 0 }, 0, "nothing new" },
	{ { .fetched = 1, .jobs = 1 }, 0, "1 new message, 1 printed" },
	{ { .fetched = 1, .jobs = 2 }, 0, "1 new message, 2 printed" },
	{ { .fetched = 1, .jobs = 2 }, 1, "1 new message, 2 would print" },
	{ { .fetched = 4, .jobs = 3, .skipped = 1, .failed = 1 }, 0,
	  "4 new messages, 3 printed, 1 skipped (see above), 1 failed (see above)" },
	{ { .fetched = 1, .failed = 1 }, 0, "1 new message, 0 printed, 1 failed (see above)" },
	{ { .fetched = 2, .jobs = 1, .already = 1 }, 0, "2 new messages, 1 printed, 1 printed before" },
	{ { .fetched = 3, .jobs = 2, .left = 3 }, 0,
	  "3 new messages, 2 printed, 3 left for the next pass" },
	{ { .left = 4 }, 0, "0 new messages, 0 printed, 4 left for the next pass" },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = poller_summary_words(&cases[i].sum, cases[i].dry_run);

		is_str(got, cases[i].want, "%s", cases[i].want);
		free(got);
	}
	return tap_done();
}
