/*
 * fuzz-mime.c - libFuzzer target for mime_extract.
 *
 * Each input is written to a memfd and extracted with small limits, the
 * text body and conversion by type switched on, into a private scratch
 * folder; afterwards the folder must be empty again and
 * every label must be clean.  Built with -fsanitize=fuzzer under
 * --enable-fuzzing, else with tests/fuzz/standalone.c as a regression test
 * over tests/fuzz/corpus/mime.
 */
#include "m2c-config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "error.h"
#include "mime.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[] = "/tmp/m2c-fuzz-mime.XXXXXX";
static int fuzz_ready;

static void
fuzz_cleanup(void)
{
	mime_shutdown();
	rmdir(fuzz_dir);
}

static void
fuzz_setup(void)
{
	char *err = NULL;

	if (mkdtemp(fuzz_dir) == NULL || mime_init(&err) != 0) {
		fprintf(stderr, "fuzz-mime: set-up failed: %s\n", err ? err : "mkdtemp");
		abort();
	}
	atexit(fuzz_cleanup);
	fuzz_ready = 1;
}

static int
dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* What mime.h promises about every attachment. */
static void
check_message(const struct mime_message *m)
{
	size_t i, nprintable = 0;

	for (i = 0; i < m->natt; i++) {
		const struct mime_attachment *a = &m->att[i];
		struct stat st;

		if (a->part == NULL || a->filename == NULL || a->declared_type == NULL ||
		    *a->filename == '\0' || strchr(a->filename, '/') ||
		    strchr(a->filename, '\\') || strlen(a->filename) > 200 ||
		    !g_utf8_validate(a->filename, -1, NULL) ||
		    strcmp(a->filename, "..") == 0 || strcmp(a->filename, ".") == 0)
			abort();
		if (a->printable) {
			nprintable++;
			if ((a->format == NULL) != (a->convert != 0) || a->path == NULL ||
			    stat(a->path, &st) != 0 ||
			    (st.st_mode & 07777) != 0600 || st.st_size != a->size)
				abort();
		} else if (a->reason == NULL || a->path != NULL) {
			abort();
		}
	}
	if (nprintable != m->nprintable)
		abort();
	/* The text body, when there is one: a 0600 scratch file of its size. */
	if (m->body_path != NULL) {
		struct stat st;

		if (stat(m->body_path, &st) != 0 || (st.st_mode & 07777) != 0600 ||
		    st.st_size != m->body_size || m->body_size == 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Conversion by sniffed type and the text body are exercised too. */
	static const char *const convert[] = {
		"application/vnd.oasis.opendocument.*", "application/zip", "text/html",
	};
	static const struct mime_limits lim = {
		.max_attachment_size = 64 * 1024,
		.max_parts = 64,
		.max_depth = 16,
		.max_attachments = 8,
		.convert_types = convert,
		.nconvert_types = 3,
		.want_body = 1,
	};
	struct mime_message *m = NULL;
	char *err = NULL;
	int fd, rc;

	if (!fuzz_ready)
		fuzz_setup();
	if ((fd = memfd_create("fuzz-mime", MFD_CLOEXEC)) < 0 ||
	    write_all(fd, data, size) != 0)
		abort();
	rc = mime_extract(fd, fuzz_dir, &lim, &m, &err);
	/* A message comes back on success, a limit, and a part that arrived damaged. */
	if ((rc == 0 || rc == M2C_E_LIMIT || (rc == M2C_E_DATA && m != NULL && m->problem)) !=
	    (m != NULL))
		abort();
	if (rc == M2C_E_DATA && m != NULL && m->nprintable != 0)
		abort();
	if (rc != 0 && err == NULL)
		abort();
	if (m)
		check_message(m);
	if (rc == M2C_E_LIMIT && (m->problem == NULL || m->nprintable != 0))
		abort();
	mime_message_free(&m);
	free(err);
	close(fd);
	if (!dir_is_empty(fuzz_dir))
		abort();
	return 0;
}
