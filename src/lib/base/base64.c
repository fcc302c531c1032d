/* base64.c - RFC 4648 base64 and base64url; see base64.h. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base64.h"
#include "error.h"
#include "util.h"

char *
b64_encode(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

char *
b64url_encode(const unsigned char *data, size_t len)
{
	char *out = b64_encode(data, len);

	for (char *p = out; *p; p++) {
		if (*p == '+') {
			*p = '-';
		} else if (*p == '/') {
			*p = '_';
		} else if (*p == '=') {
			*p = '\0';
			break;
		}
	}
	return out;
}

/* The 6-bit value of c, where c62/c63 are the alphabet's last two. */
static int
b64_value(char c, char c62, char c63)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == c62)
		return 62;
	if (c == c63)
		return 63;
	return -1;
}

static int
decode(const char *s, char c62, char c63, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), o = 0;
	unsigned char *d;
	unsigned int acc = 0;
	int bits = 0;

	*out = NULL;
	*outlen = 0;
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return M2C_E_DATA;
	d = xmalloc(n * 3 / 4 + 1);
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i], c62, c63);

		if (v < 0) {
			wipe(d, o);
			free(d);
			return M2C_E_DATA;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	d[o] = '\0';
	*out = d;
	*outlen = o;
	return 0;
}

int
b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	return decode(s, '+', '/', out, outlen);
}

int
b64url_decode(const char *s, unsigned char **out, size_t *outlen)
{
	return decode(s, '-', '_', out, outlen);
}
