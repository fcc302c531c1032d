/*
 * base64.h - base64 and base64url (RFC 4648), for SASL, JWTs and the token
 * store.  Encoders return allocated strings; decoders allocate *out
 * (NUL-terminated, *outlen bytes) and return 0, or M2C_E_DATA for input
 * that is not base64 of that alphabet.  Padding is optional on input.
 */
#ifndef M2C_BASE64_H
#define M2C_BASE64_H

#include <stddef.h>

char *b64_encode(const unsigned char *data, size_t len);	/* with padding */
char *b64url_encode(const unsigned char *data, size_t len);	/* no padding */
int b64_decode(const char *s, unsigned char **out, size_t *outlen);
int b64url_decode(const char *s, unsigned char **out, size_t *outlen);

#endif
