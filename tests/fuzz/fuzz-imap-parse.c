/*
 * fuzz-imap-parse.c - libFuzzer target for the IMAP response parser.
 *
 * The first two bytes choose the chunk sizes the rest is fed in and how
 * literals are handled (buffered by the parser, or consumed by the caller),
 * so both sides of the streaming seam and every split point get exercised.
 * Limits are small so that limit handling is reached too.
 */
#include "m2c-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk every value, touching the helpers the client uses. */
static size_t
walk(const struct imap_val *v, int depth)
{
	size_t n = 1, i;
	uint64_t num;

	if (depth > 64)
		abort();
	(void)imap_val_number(v, &num);
	if (imap_val_str(v) != NULL && v->type != IMAP_VAL_LITERAL &&
	    strlen(imap_val_str(v)) != v->len && v->type != IMAP_VAL_QUOTED)
		abort();
	for (i = 0; i < v->nitems; i++)
		n += walk(imap_list_get(v, i), depth + 1);
	(void)imap_fetch_item(v, "BODY[]");
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parse_limits lim = imap_parse_default_limits;
	const struct imap_literal_info *li;
	struct imap_parser *p;
	struct imap_resp *r;
	unsigned seed, mode;
	size_t used, chunk, skip = 0, k;
	char *err = NULL;
	int dead = 0;

	if (size < 2)
		return 0;
	seed = data[0];
	mode = data[1];
	data += 2;
	size -= 2;
	lim.max_line = 4096;
	lim.max_depth = 16;
	lim.max_items = 2000;
	lim.max_buffered = 65536;
	lim.max_literal = 1024;
	p = imap_parser_new(&lim);
	while (size > 0 && !dead) {
		seed = seed * 1103515245u + 12345u;
		chunk = 1 + (seed >> 16) % (mode & 1 ? 7 : 300);
		if (chunk > size)
			chunk = size;
		if (skip > 0) {
			k = chunk < skip ? chunk : skip;
			skip -= k;
			data += k;
			size -= k;
			if (skip == 0)
				imap_parser_literal_done(p);
			continue;
		}
		switch (imap_parser_feed(p, data, chunk, &used, &err)) {
		case IMAP_EV_NEED_MORE:
			break;
		case IMAP_EV_RESPONSE:
			r = imap_parser_take(p);
			walk(&r->args, 0);
			walk(&r->code_args, 0);
			if (r->text == NULL)
				abort();
			imap_resp_free(r);
			break;
		case IMAP_EV_LITERAL:
			li = imap_parser_literal(p);
			if (li == NULL || li->resp == NULL)
				abort();
			if ((mode & 2) && li->size > 0 && li->size <= size) {
				skip = (size_t)li->size;
			} else if (imap_parser_literal_buffer(p) != 0) {
				dead = 1;
			}
			break;
		case IMAP_EV_ERROR:
			if (err == NULL)
				abort();
			dead = 1;
			break;
		}
		data += used;
		size -= used;
	}
	free(err);
	imap_parser_destroy(&p);
	return 0;
}
