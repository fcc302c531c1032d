/*
 * standalone.c - run a libFuzzer target without libFuzzer, as a TAP test.
 *
 *     fuzz-foo FILE|DIR...
 *
 * Calls LLVMFuzzerTestOneInput once per file (a directory: every regular
 * file in it, in name order) and prints "ok N - path" for each that returns
 * 0 (libFuzzer reserves other values), so the seed corpus and every crash
 * ever found run in `make check` as regression tests.  A crash fails the
 * test by itself; an unreadable file is "not ok".  TAP from tests/tap.h.
 * Generic: any fuzz target that defines LLVMFuzzerTestOneInput links it.
 */
#include "m2c-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static void
run_file(const char *path)
{
	char *data;
	size_t len = 0;

	if ((data = tap_read_file(path, &len)) == NULL) {
		ok(0, "%s: %s", path, strerror(errno));
		return;
	}
	is_int(LLVMFuzzerTestOneInput((const uint8_t *)data, len), 0, "%s", path);
	free(data);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char **names = NULL, *p;
	size_t n = 0, i;

	if ((d = opendir(dir)) == NULL) {
		ok(0, "%s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    asprintf(&p, "%s/%s", dir, e->d_name) < 0) {
			perror("out of memory");
			exit(99);
		}
		names[n++] = p;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	if (tap_n == 0)
		tap_skip_all("no inputs given");
	return tap_done();
}
