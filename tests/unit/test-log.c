/* test-log.c - levels, account prefix, and secret redaction. */
#include "m2c-config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Run fn with stderr going to a file; what it wrote. Allocated. */
static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/m2c-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *text;

	if (fd < 0 || saved < 0 || dup2(fd, 2) < 0)
		exit(99);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	text = tap_read_file(path, NULL);
	unlink(path);
	return text ? text : xstrdup("");
}

static void
two_lines(void)
{
	log_init("prog", 0, LOG_LVL_INFO);
	log_error("first\nsecond");
	log_info("office: 1 new message, 1 printed");
}

static int
matches(const char *text, const char *re)
{
	regex_t rx;
	int r;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE) != 0)
		return 0;
	r = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return r;
}

/* stderr: ISO 8601 time first, unless stderr is the journal. */
static void
test_stderr(void)
{
	struct stat st;
	char *text, *js;

	log_set_sink(NULL, NULL);
	unsetenv("JOURNAL_STREAM");
	text = capture_stderr(two_lines);
	ok(matches(text, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2} "
	    "prog: error: first\n[0-9T:+-]{25} prog: error: second\n"
	    "[0-9T:+-]{25} prog: office: 1 new message, 1 printed\n$"),
	    "stderr: an ISO 8601 time and the prefix on every line");
	free(text);

	/* JOURNAL_STREAM naming another file: still stamped. */
	setenv("JOURNAL_STREAM", "1:1", 1);
	text = capture_stderr(two_lines);
	ok(matches(text, "^[0-9]{4}-"), "JOURNAL_STREAM naming another stream: stamped");
	free(text);

	/* JOURNAL_STREAM naming stderr (what systemd sets): no time of our own. */
	{
		char path[] = "/tmp/m2c-test-log-XXXXXX";
		int fd = mkstemp(path), saved = dup(2);

		if (fd < 0 || saved < 0 || fstat(fd, &st) != 0 || dup2(fd, 2) < 0)
			exit(99);
		js = xasprintf("%llu:%llu", (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino);
		setenv("JOURNAL_STREAM", js, 1);
		two_lines();
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		close(fd);
		text = tap_read_file(path, NULL);
		unlink(path);
		is_str(text, "prog: error: first\nprog: error: second\n"
		    "prog: office: 1 new message, 1 printed\n",
		    "stderr is the journal (JOURNAL_STREAM): no time stamp, prefix on every line");
		free(text);
		free(js);
	}
	unsetenv("JOURNAL_STREAM");
	log_init("test", 0, LOG_LVL_INFO);
	log_set_sink(sink, NULL);
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
	is_str(out.data, "2|evil?\n2|?[31mname\n",
	    "control characters are neutralised; a newline starts a new line");

	buf_reset(&out);
	log_set_account("office");
	log_error("a.conf:1: one\na.conf:2: two\n");
	is_str(out.data, "0|office: a.conf:1: one\n0|office: a.conf:2: two\n",
	    "every line of a multi-line message has the whole prefix");
	log_set_account(NULL);

	test_stderr();

	ok(log_level_parse("debug", &l) == 0 && l == LOG_LVL_DEBUG, "log_level_parse debug");
	ok(log_level_parse("loud", &l) == -1, "log_level_parse rejects junk");

	log_secret_clear();
	log_set_sink(NULL, NULL);
	buf_free(&out);
	return tap_done();
}
