/*
 * mutf7.c - modified UTF-7 (RFC 3501 5.1.3); see mutf7.h.
 */
#include "m2c-config.h"

#include <stdlib.h>

#include "mutf7.h"
#include "util.h"

static const char mb64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* One code point from strict UTF-8; -1 if invalid. */
static long
utf8_next(const unsigned char **sp)
{
	const unsigned char *s = *sp;
	long cp, min;
	int n, i;

	if (s[0] < 0x80) {
		*sp = s + 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 1; cp = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 2; cp = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 3; cp = s[0] & 0x07; min = 0x10000;
	} else {
		return -1;
	}
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*sp = s + n + 1;
	return cp;
}

char *
mutf7_from_utf8(const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	struct buf b = { 0 };
	unsigned long bits = 0, u[2];
	int nbits = 0, in_b64 = 0, nu, i;
	long cp;

	while (*s) {
		if ((cp = utf8_next(&s)) < 0) {
			buf_free(&b);
			return NULL;
		}
		if (cp >= 0x20 && cp <= 0x7e) {
			if (in_b64) {
				if (nbits > 0)
					buf_appendc(&b, mb64[(bits << (6 - nbits)) & 0x3f]);
				buf_appendc(&b, '-');
				in_b64 = 0;
				nbits = 0;
			}
			if (cp == '&')
				buf_append(&b, "&-", 2);
			else
				buf_appendc(&b, (char)cp);
			continue;
		}
		if (!in_b64) {
			buf_appendc(&b, '&');
			in_b64 = 1;
			bits = 0;
			nbits = 0;
		}
		if (cp >= 0x10000) {
			u[0] = 0xd800 + (((unsigned long)cp - 0x10000) >> 10);
			u[1] = 0xdc00 + (((unsigned long)cp - 0x10000) & 0x3ff);
			nu = 2;
		} else {
			u[0] = (unsigned long)cp;
			nu = 1;
		}
		for (i = 0; i < nu; i++) {
			bits = (bits << 16) | u[i];
			nbits += 16;
			while (nbits >= 6) {
				nbits -= 6;
				buf_appendc(&b, mb64[(bits >> nbits) & 0x3f]);
			}
			bits &= (1UL << nbits) - 1;
		}
	}
	if (in_b64) {
		if (nbits > 0)
			buf_appendc(&b, mb64[(bits << (6 - nbits)) & 0x3f]);
		buf_appendc(&b, '-');
	}
	return buf_steal(&b);
}
