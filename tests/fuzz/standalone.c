/*
 * standalone.c - run a libFuzzer target without libFuzzer, as a TAP test.
 *
 *     fuzz-foo FILE|DIR...
 *
 * Calls LLVMFuzzerTestOneInput once per file (a directory: every regular
 * file in it, in name order) and prints "ok N - path" for each, so the seed
 * corpus and every crash ever found run in `make check` as regression
 * tests.  A crash fails the test by itself; an unreadable file is "not ok".
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int ntests, nfailed;

static void
run_file(const char *path)
{
	FILE *f;
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	ntests++;
	if ((f = fopen(path, "rb")) == NULL) {
		printf("not ok %d - %s: %s\n", ntests, path, strerror(errno));
		nfailed++;
		return;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((data = realloc(data, cap)) == NULL) {
				perror("realloc");
				exit(99);
			}
		}
		if ((n = fread(data + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	printf("ok %d - %s\n", ntests, path);
	fflush(stdout);
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
		printf("not ok %d - %s: %s\n", ++ntests, dir, strerror(errno));
		nfailed++;
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
	if (ntests == 0)
		printf("1..0 # SKIP no inputs given\n");
	else
		printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
