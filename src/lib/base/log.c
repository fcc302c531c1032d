/* log.c - leveled logging with secret redaction; see log.h. */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define MAX_SECRETS 32

static const char *log_progname = "mail2cups";
static int log_syslog;
static int log_stamp;		/* ISO 8601 time at the start of stderr lines */
static enum log_level log_level = LOG_LVL_INFO;
static char *log_account;
static char *secrets[MAX_SECRETS];
static void (*log_sink)(enum log_level, const char *, void *);
static void *log_sink_arg;

/*
 * stderr is the journal when JOURNAL_STREAM ("DEV:INODE", set by systemd
 * for a service's stdout/stderr) names it: the journal stamps every line.
 */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *progname, int use_syslog, enum log_level level)
{
	log_progname = progname;
	log_level = level;
	if (log_syslog)
		closelog();
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(progname, LOG_PID, LOG_MAIL);
	log_stamp = !use_syslog && !stderr_is_journal();
}

/* "2026-12-06T12:52:01+01:00 " (local time, ISO 8601), or "" when off. */
static void
format_stamp(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	char zone[8];

	buf[0] = '\0';
	if (!log_stamp || localtime_r(&now, &tm) == NULL)
		return;
	if (strftime(zone, sizeof(zone), "%z", &tm) != 5)
		zone[0] = '\0';
	else
		memmove(zone + 4, zone + 3, 3), zone[3] = ':';	/* +0100 -> +01:00 */
	if (strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		buf[0] = '\0';
	else
		snprintf(buf + strlen(buf), size - strlen(buf), "%s ", zone);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *names[] = { "error", "warn", "info", "debug" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_account(const char *name)
{
	free(log_account);
	log_account = name ? xstrdup(name) : NULL;
}

void
log_secret_add(const char *secret)
{
	if (secret == NULL || strlen(secret) < 4)
		return;
	for (int i = 0; i < MAX_SECRETS; i++)
		if (secrets[i] && strcmp(secrets[i], secret) == 0)
			return;
	for (int i = 0; i < MAX_SECRETS; i++) {
		if (secrets[i] == NULL) {
			secrets[i] = xstrdup(secret);
			return;
		}
	}
	/* Full: drop the oldest rather than lose the newest. */
	free_secret(secrets[0]);
	memmove(secrets, secrets + 1, sizeof(secrets[0]) * (MAX_SECRETS - 1));
	secrets[MAX_SECRETS - 1] = xstrdup(secret);
}

void
log_secret_remove(const char *secret)
{
	for (int i = 0; i < MAX_SECRETS; i++) {
		if (secrets[i] && secret && strcmp(secrets[i], secret) == 0) {
			free_secret(secrets[i]);
			secrets[i] = NULL;
		}
	}
}

void
log_secret_clear(void)
{
	for (int i = 0; i < MAX_SECRETS; i++) {
		free_secret(secrets[i]);
		secrets[i] = NULL;
	}
}

void
log_set_sink(void (*sink)(enum log_level, const char *, void *), void *arg)
{
	log_sink = sink;
	log_sink_arg = arg;
}

/* Replace every registered secret in line (in place, may shrink/grow). */
static char *
redact(char *line)
{
	static const char mark[] = "[redacted]";

	for (int i = 0; i < MAX_SECRETS; i++) {
		char *hit;

		if (secrets[i] == NULL)
			continue;
		while ((hit = strstr(line, secrets[i])) != NULL) {
			size_t pre = (size_t)(hit - line);
			char *n = xasprintf("%.*s%s%s", (int)pre, line, mark,
			    hit + strlen(secrets[i]));
			wipe(line, strlen(line));
			free(line);
			line = n;
		}
	}
	return line;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *tags[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	va_list ap;
	char *body, *line, *p, *next, stamp[40];

	if (level > log_level)
		return;
	va_start(ap, fmt);
	body = xvasprintf(fmt, ap);
	va_end(ap);
	/*
	 * Control characters from remote input never reach a terminal; a
	 * message of several lines (a configuration's problems) becomes several
	 * lines, each with the whole prefix.
	 */
	for (p = body; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f)
			*p = '?';
	format_stamp(stamp, sizeof(stamp));
	for (p = body; p != NULL; p = next) {
		if ((next = strchr(p, '\n')) != NULL)
			*next++ = '\0';
		if (*p == '\0' && (next == NULL || p != body))
			continue;	/* no empty lines */
		line = log_account ? xasprintf("%s: %s", log_account, p) : xstrdup(p);
		line = redact(line);
		if (log_sink)
			log_sink(level, line, log_sink_arg);
		else if (log_syslog)
			syslog(prio[level], "%s", line);
		else if (level == LOG_LVL_INFO)
			fprintf(stderr, "%s%s: %s\n", stamp, log_progname, line);
		else
			fprintf(stderr, "%s%s: %s: %s\n", stamp, log_progname, tags[level], line);
		wipe(line, strlen(line));
		free(line);
	}
	wipe(body, strlen(body));
	free(body);
}
