/* summary.c - a pass's summary in words; see summary.h. */
#include "m2c-config.h"

#include "summary.h"
#include "util.h"

char *
poller_summary_words(const struct poller_summary *sum, int dry_run)
{
	struct buf b = { 0 };

	if (sum->fetched == 0 && sum->failed == 0 && sum->jobs == 0 && sum->left == 0)
		return xstrdup("nothing new");
	buf_appendf(&b, "%d new message%s, %d %s", sum->fetched, sum->fetched == 1 ? "" : "s",
	    sum->jobs, dry_run ? "would print" : "printed");
	if (sum->already > 0)
		buf_appendf(&b, ", %d printed before", sum->already);
	if (sum->skipped > 0)
		buf_appendf(&b, ", %d skipped (see above)", sum->skipped);
	if (sum->failed > 0)
		buf_appendf(&b, ", %d failed (see above)", sum->failed);
	if (sum->left > 0)
		buf_appendf(&b, ", %d left for the next pass", sum->left);
	return buf_steal(&b);
}
