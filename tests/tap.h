/*
 * tap.h - a tiny TAP producer for the unit tests (run by tap-driver.sh).
 *
 *     ok(cond, "what is checked %d", n);
 *     is_int(got, want, "name");  is_str(got, want, "name");
 *     tap_skip("why");             (under CI=true a skip is a failure)
 *     tap_skip_all("why");         (the whole program; exits)
 *     return tap_done();
 *
 * tap_done() prints the plan and returns 0 even when a test failed: the
 * "not ok" lines carry the failures, and tap-driver.sh counts a non-zero
 * exit as one more ERROR.  So a non-zero exit means something outside the
 * TAP stream went wrong: a crash, a sanitizer report, an exit() midway.
 * The shell twin is tests/rig/tap.sh.
 *
 *     char *text = tap_read_file(path, &len);   (a test file, whole)
 *
 * Header-only: each test program includes it once.
 */
#ifndef M2C_TAP_H
#define M2C_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static void __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

#define is_int(got, want, ...) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	ok(g_ == w_, __VA_ARGS__); \
	if (g_ != w_) printf("#   got %lld, want %lld\n", g_, w_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int eq_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0); \
	ok(eq_, __VA_ARGS__); \
	if (!eq_) printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define has_str(hay, needle, ...) do { \
	const char *h_ = (hay), *n_ = (needle); \
	int in_ = h_ && n_ && strstr(h_, n_) != NULL; \
	ok(in_, __VA_ARGS__); \
	if (!in_) printf("#   \"%s\" does not contain \"%s\"\n", h_ ? h_ : "(null)", n_); \
} while (0)

/*
 * The whole file at path, NUL-terminated (it may hold NULs: *len, optional,
 * is its length), allocated; NULL when it cannot be read.
 */
static __attribute__((unused)) char *
tap_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL, *p;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			if ((p = realloc(data, cap + 1)) == NULL) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = p;
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	data[n] = '\0';
	if (len != NULL)
		*len = n;
	return data;
}

/* Skips are failures under CI=true: CI must run everything. */
static __attribute__((unused)) int
tap_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci != NULL && strcmp(ci, "true") == 0;
}

/* One skipped test point (a failure under CI=true). */
static void __attribute__((format(printf, 1, 2), unused))
tap_skip(const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (tap_in_ci())
		tap_failed++;
	printf(tap_in_ci() ? "not ok %d - skipped, but CI=true: " : "ok %d # SKIP ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The whole program is skipped: "1..0 # SKIP", or under CI=true a bail out. */
static void __attribute__((format(printf, 1, 2), noreturn, unused))
tap_skip_all(const char *fmt, ...)
{
	va_list ap;

	printf(tap_in_ci() ? "Bail out! CI=true, nothing may be skipped: " : "1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(tap_in_ci() ? 1 : 0);
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	fflush(stdout);
	return 0;
}

#endif
