/*
 * fuzz-html2text.c - libFuzzer target for html2text.
 *
 * The first two bytes of the input seed the sizes of the chunks the rest is
 * fed in (1 to 64 bytes each, varying), so splits at every position get
 * exercised; the output must be the same as when the input is fed whole,
 * and must be no more than a small multiple of the input.  Built with
 * -fsanitize=fuzzer under --enable-fuzzing, else with
 * tests/fuzz/standalone.c as a regression test over
 * tests/fuzz/corpus/html2text.
 */
#include "m2c-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html2text.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
render(const char *p, size_t n, unsigned seed, struct buf *out)
{
	struct html2text *h = html2text_new();
	size_t off = 0, chunk;

	while (off < n) {
		if (seed == 0) {
			chunk = n - off;
		} else {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % 64;
			if (chunk > n - off)
				chunk = n - off;
		}
		html2text_feed(h, p + off, chunk, out);
		off += chunk;
	}
	html2text_finish(h, out);
	html2text_free(&h);
	if (h != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = { 0 }, split = { 0 };
	unsigned seed;

	if (size < 2)
		return 0;
	seed = (unsigned)data[0] << 8 | data[1] | 1;
	render((const char *)data + 2, size - 2, 0, &whole);
	render((const char *)data + 2, size - 2, seed, &split);
	if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
		abort();
	/* Worst case: "<li>" gives 16 + 2 bytes, "&#9;" a tab. */
	if (whole.len > 8 * (size - 2) + 1)
		abort();
	if (whole.len > 0 && whole.data[whole.len - 1] != '\n')
		abort();
	buf_free(&whole);
	buf_free(&split);
	return 0;
}
