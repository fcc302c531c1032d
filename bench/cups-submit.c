/*
 * cups-submit.c - the baseline for bench/backlog.sh: submit each file named
 * on the command line as its own job, the plainest libcups way
 * (cupsCreateJob, cupsStartDocument, cupsWriteRequestData,
 * cupsFinishDocument), and print the rate.  Not installed.
 *   cups-submit QUEUE FILE...   (CUPS_SERVER selects the server)
 */
#include <cups/cups.h>
#include <stdio.h>
#include <time.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	char buf[65536];
	double s;

	if (argc < 3) {
		fprintf(stderr, "usage: cups-submit QUEUE FILE...\n");
		return 64;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 2; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;
		int id;

		if (f == NULL || (id = cupsCreateJob(CUPS_HTTP_DEFAULT, argv[1], argv[i], 0, NULL)) == 0 ||
		    cupsStartDocument(CUPS_HTTP_DEFAULT, argv[1], id, argv[i], CUPS_FORMAT_PDF, 1) !=
		    HTTP_STATUS_CONTINUE) {
			fprintf(stderr, "cups-submit: %s: %s\n", argv[i], cupsLastErrorString());
			return 69;
		}
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			cupsWriteRequestData(CUPS_HTTP_DEFAULT, buf, n);
		fclose(f);
		if (cupsFinishDocument(CUPS_HTTP_DEFAULT, argv[1]) != IPP_STATUS_OK) {
			fprintf(stderr, "cups-submit: %s: %s\n", argv[i], cupsLastErrorString());
			return 69;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("libcups baseline: %d jobs in %.2f s = %.1f jobs/s\n", argc - 2, s, (argc - 2) / s);
	return 0;
}
