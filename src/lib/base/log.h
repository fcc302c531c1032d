/*
 * log.h - the one logger.
 *
 * printf-like, with levels; to stderr (interactive) or syslog (daemon).
 * Lines are prefixed with the current account ("office: ...") when one is
 * set.  Secrets cannot reach the output: every secret the program holds is
 * registered with log_secret_add(), and any message that contains one has
 * it replaced by "[redacted]" before it is written.  Protocol tracing never
 * passes credentials to the logger in the first place.
 */
#ifndef M2C_LOG_H
#define M2C_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* progname is borrowed and must outlive the logger. */
void log_init(const char *progname, int use_syslog, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error", "warn", "info", "debug": 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

/* The account the following lines are about; NULL for none. Copied. */
void log_set_account(const char *name);

/* Register a secret (copied; at least 4 bytes) / forget it (wiped). */
void log_secret_add(const char *secret);
void log_secret_remove(const char *secret);
void log_secret_clear(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Redirect output to a callback (tests); NULL restores stderr/syslog.
 * The line passed has no trailing newline and is already redacted.
 */
void log_set_sink(void (*sink)(enum log_level, const char *line, void *arg), void *arg);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
