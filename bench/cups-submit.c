/*
 * cups-submit.c - the yardsticks of bench/backlog.sh: submit each file named
 * on the command line as its own job over one libcups connection, and print
 * the rate.  Not installed.
 *   cups-submit [-p] QUEUE FILE...   (CUPS_SERVER selects the server)
 * Without -p, the plainest libcups way (cupsCreateJob, cupsStartDocument,
 * cupsWriteRequestData, cupsFinishDocument: what cupsPrintFile does); with
 * -p, one streamed IPP Print-Job a file (cupsSendRequest,
 * cupsWriteRequestData, cupsGetResponse), the request mail2cups sends,
 * with nothing else around it: the fastest cupsd takes jobs.
 */
#include <cups/cups.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char buf[65536];

/* Create-Job + Send-Document: 0 or -1. */
static int
create_send(const char *queue, const char *file, FILE *f)
{
	size_t n;
	int id;

	if ((id = cupsCreateJob(CUPS_HTTP_DEFAULT, queue, file, 0, NULL)) == 0 ||
	    cupsStartDocument(CUPS_HTTP_DEFAULT, queue, id, file, CUPS_FORMAT_PDF, 1) !=
	    HTTP_STATUS_CONTINUE)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		cupsWriteRequestData(CUPS_HTTP_DEFAULT, buf, n);
	return cupsFinishDocument(CUPS_HTTP_DEFAULT, queue) == IPP_STATUS_OK ? 0 : -1;
}

/* One Print-Job with the document streamed: 0 or -1. */
static int
print_job(const char *queue, const char *file, FILE *f)
{
	char uri[1024], resource[1024];
	ipp_t *req = ippNewRequest(IPP_OP_PRINT_JOB), *resp = NULL;
	http_status_t st;
	size_t n;
	int r;

	snprintf(uri, sizeof(uri), "ipp://localhost/printers/%s", queue);
	snprintf(resource, sizeof(resource), "/printers/%s", queue);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
	    cupsUser());
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, file);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL,
	    CUPS_FORMAT_PDF);
	st = cupsSendRequest(CUPS_HTTP_DEFAULT, req, resource, CUPS_LENGTH_VARIABLE);
	while (st == HTTP_STATUS_CONTINUE && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		st = cupsWriteRequestData(CUPS_HTTP_DEFAULT, buf, n);
	if (st == HTTP_STATUS_CONTINUE)
		resp = cupsGetResponse(CUPS_HTTP_DEFAULT, resource);
	r = resp != NULL && ippGetStatusCode(resp) <= IPP_STATUS_OK_CONFLICTING ? 0 : -1;
	ippDelete(resp);
	ippDelete(req);
	return r;
}

int
main(int argc, char **argv)
{
	int (*submit)(const char *, const char *, FILE *) = create_send;
	struct timespec t0, t1;
	int first = 1;
	double s;

	if (argc > 1 && strcmp(argv[1], "-p") == 0) {
		submit = print_job;
		first++;
	}
	if (argc < first + 2) {
		fprintf(stderr, "usage: cups-submit [-p] QUEUE FILE...\n");
		return 64;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = first + 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");

		if (f == NULL || submit(argv[first], argv[i], f) != 0) {
			fprintf(stderr, "cups-submit: %s: %s\n", argv[i],
			    f == NULL ? "cannot open" : cupsLastErrorString());
			return 69;
		}
		fclose(f);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("libcups baseline: %d jobs in %.2f s = %.1f jobs/s\n", argc - first - 1, s,
	    (argc - first - 1) / s);
	return 0;
}
