/*
 * test-mutf7.c - modified UTF-7 (RFC 3501 5.1.3): the RFC's examples,
 * "&", characters outside the BMP, each padding length, and strings that
 * are not strict UTF-8 (overlong, surrogates, truncated, stray bytes).
 */
#include "m2c-config.h"

#include <stdlib.h>

#include "mutf7.h"
#include "tap.h"
#include "util.h"

static const struct {
	const char *utf8, *mutf7;
} cases[] = {
	{ "Printed", "Printed" },
	{ "", "" },
	{ "&", "&-" },
	{ "A&B", "A&-B" },
	{ "Gedruckt/\xc3\x9c" "bersicht", "Gedruckt/&ANw-bersicht" },
	/* RFC 3501 5.1.3's examples */
	{ "\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-" },
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	/* one, two, three UTF-16 units: each leftover bit count */
	{ "\xc3\xbc", "&APw-" },
	{ "\xc3\xbc\xc3\xbc", "&APwA,A-" },
	{ "\xc3\xbc\xc3\xbc\xc3\xbc", "&APwA,AD8-" },
	/* "&" between two encoded runs is "&-", not part of them */
	{ "\xc3\xbc&\xc3\xbc", "&APw-&-&APw-" },
	/* outside the BMP: a surrogate pair */
	{ "\xf0\x9f\x96\xa8 Drucker", "&2D3dqA- Drucker" },
	/* controls are encoded too */
	{ "tab\there", "tab&AAk-here" },
	{ "\x7f", "&AH8-" },
};

static const char *const not_utf8[] = {
	"\xc3",			/* truncated */
	"\xc0\xaf",		/* overlong "/" */
	"\xe0\x80\xaf",		/* overlong, three bytes */
	"\xed\xa0\x80",		/* a UTF-16 surrogate */
	"\xf4\x90\x80\x80",	/* above U+10FFFF */
	"\xff",			/* never in UTF-8 */
	"ok\x80",		/* a stray continuation byte */
};

int
main(void)
{
	char *s;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		s = mutf7_from_utf8(cases[i].utf8);
		is_str(s, cases[i].mutf7, "encodes \"%s\"", cases[i].mutf7);
		free(s);
	}
	for (i = 0; i < ARRAY_SIZE(not_utf8); i++) {
		s = mutf7_from_utf8(not_utf8[i]);
		ok(s == NULL, "refuses what is not UTF-8 #%zu", i);
		free(s);
	}
	return tap_done();
}
