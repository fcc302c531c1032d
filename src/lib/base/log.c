/* log.c - leveled logging with secret redaction; see log.h. */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "util.h"

#define MAX_SECRETS 32

static const char *log_progname = "mail2cups";
static int log_syslog;
static enum log_level log_level = LOG_LVL_INFO;
static char *log_account;
static char *secrets[MAX_SECRETS];
static void (*log_sink)(enum log_level, const char *, void *);
static void *log_sink_arg;

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
	char *body, *line;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	body = xvasprintf(fmt, ap);
	va_end(ap);
	/* Control characters from remote input never reach a terminal. */
	for (char *p = body; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	line = log_account ? xasprintf("%s: %s", log_account, body) : xstrdup(body);
	free(body);
	line = redact(line);

	if (log_sink)
		log_sink(level, line, log_sink_arg);
	else if (log_syslog)
		syslog(prio[level], "%s", line);
	else if (level == LOG_LVL_INFO)
		fprintf(stderr, "%s: %s\n", log_progname, line);
	else
		fprintf(stderr, "%s: %s: %s\n", log_progname, tags[level], line);
	wipe(line, strlen(line));
	free(line);
}
