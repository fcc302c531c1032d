/*
 * fuzz-wake.c - libFuzzer target for wake_parse, the daemon's reader of
 * the datagrams anyone who may write to its wake_socket can send.
 *
 * Whatever the input, wake_parse must not crash, and whatever it accepts
 * must be internally consistent and written back by wake_format to
 * exactly the same bytes (the format has one spelling of each datagram).
 * Built with -fsanitize=fuzzer under --enable-fuzzing, else with
 * tests/fuzz/standalone.c as a regression test over tests/fuzz/corpus/wake.
 */
#include "m2c-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wake w;
	char out[WAKE_MAX_SIZE + 1];
	int n;

	if (wake_parse(data, size, &w, NULL) != 0)
		return 0;
	if (w.nuids == 0 || w.nuids > WAKE_MAX_RANGES || w.uidvalidity == 0 ||
	    w.user[0] == '\0' || w.mailbox[0] == '\0')
		abort();
	for (size_t i = 0; i < w.nuids; i++)
		if (w.uids[i].first == 0 || w.uids[i].last < w.uids[i].first ||
		    (i > 0 && w.uids[i].first <= w.uids[i - 1].last))
			abort();
	n = wake_format(&w, out, sizeof(out));
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
