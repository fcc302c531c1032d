/*
 * summary.h - a pass's summary in words a person reads at a glance, for
 * the log line that ends each account's pass (mail2cups once, the daemon):
 *
 *   nothing new
 *   1 new message, 2 printed
 *   3 new messages, 2 printed, 1 skipped (see above), 1 failed (see above)
 *   5 new messages, 2 printed, 3 left for the next pass
 *
 * "printed" counts documents handed to CUPS ("would print" in a dry run),
 * "skipped" attachments that do not print, "failed" messages that failed;
 * the reasons are in the lines above; "left" the unseen messages the pass
 * did not get to (an error stopped it: the lines above say which).  Zero
 * counts other than printed are left out.
 */
#ifndef M2C_SUMMARY_H
#define M2C_SUMMARY_H

#include "poller.h"

/* Allocated; caller frees. */
char *poller_summary_words(const struct poller_summary *sum, int dry_run);

#endif
