/*
 * utf8.h - one valid UTF-8 sequence (RFC 3629): no overlong forms, no
 * surrogates, nothing past U+10FFFF.  Header-only: the Dovecot plugin
 * compiles wake.c alone, linking nothing of libm2c, and shares it too.
 */
#ifndef M2C_UTF8_H
#define M2C_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length of the valid UTF-8 sequence at s (n > 0 bytes left), 0 when
 * there is none; *cp (optional) gets its code point.
 */
static inline size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80)
		len = 1, c = s[0];
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	if (cp != NULL)
		*cp = c;
	return len;
}

#endif
