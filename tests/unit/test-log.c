/* test-log.c - levels, account prefix, and secret redaction. */
#include "m2c-config.h"

#include <stdlib.h>

#include "log.h"
#include "tap.h"
#include "util.h"

static struct buf out;

static void
sink(enum log_level level, const char *line, void *arg)
{
	(void)arg;
	buf_appendf(&out, "%d|%s\n", (int)level, line);
}

int
main(void)
{
	enum log_level l;

	log_init("test", 0, LOG_LVL_INFO);
	log_set_sink(sink, NULL);

	log_debug("hidden %d", 1);
	is_int(out.len, 0, "debug is filtered at level info");
	log_info("shown %d", 2);
	is_str(out.data, "2|shown 2\n", "info is written");

	buf_reset(&out);
	log_set_account("office");
	log_warn("printed");
	is_str(out.data, "1|office: printed\n", "lines name their account");
	log_set_account(NULL);

	buf_reset(&out);
	log_secret_add("s3cr3t-pa55");
	log_error("LOGIN alice s3cr3t-pa55 and again s3cr3t-pa55.");
	is_str(out.data, "0|LOGIN alice [redacted] and again [redacted].\n",
	    "a registered secret never reaches the output");
	buf_reset(&out);
	log_secret_remove("s3cr3t-pa55");
	log_error("s3cr3t-pa55");
	is_str(out.data, "0|s3cr3t-pa55\n", "a removed secret is no longer redacted");

	buf_reset(&out);
	log_secret_add("abc");
	log_info("abc");
	is_str(out.data, "2|abc\n", "too-short values are not registered (no false redaction)");

	buf_reset(&out);
	log_info("evil\r\n\x1b[31mname");
	is_str(out.data, "2|evil???[31mname\n", "control characters are neutralised");

	ok(log_level_parse("debug", &l) == 0 && l == LOG_LVL_DEBUG, "log_level_parse debug");
	ok(log_level_parse("loud", &l) == -1, "log_level_parse rejects junk");

	log_secret_clear();
	log_set_sink(NULL, NULL);
	buf_free(&out);
	return tap_done();
}
