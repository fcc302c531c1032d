/*
 * jwt.h - the JSON Web Token pieces OAuth needs (RFC 7515, 7519, 7523).
 *
 * Reading: the claims of an id_token or access token received straight from
 * the token endpoint over verified TLS (OpenID Connect Core 3.1.3.7 lets a
 * client skip the signature check in that case).  They are used to tell who
 * signed in, never to grant anything.
 *
 * Signing: client assertions (RFC 7523 section 2.2) for Microsoft's
 * certificate credentials, and the JWT bearer grant of a Google service
 * account.  OpenSSL EVP; RS256 and PS256.
 */
#ifndef M2C_JWT_H
#define M2C_JWT_H

#include <stddef.h>
#include <jansson.h>

#include "base64.h"

/* The payload of a compact JWS as a JSON object (new reference), or NULL. */
json_t *jwt_claims(const char *jwt);

enum jwt_alg { JWT_PS256, JWT_RS256 };

struct jwt_key {
	void *pkey;		/* EVP_PKEY *, owned */
	unsigned char sha1[20];	/* certificate thumbprints (x5t, x5t#S256) */
	unsigned char sha256[32];
	int has_cert;
};

/*
 * Load a PEM RSA private key and (optional) PEM certificate; with cert_file
 * NULL, a certificate after the key in key_file is used when there is one.
 * The key file must be private to us (secret.h rules).  The certificate must
 * match the key.  Free with jwt_key_clear.
 */
int jwt_key_load(const char *key_file, const char *cert_file, struct jwt_key *k, char **errstr);
/* The same from a PEM key held in memory (a Google service account's
 * private_key); no certificate.  what names the source in messages. */
int jwt_key_from_pem(const char *pem, const char *what, struct jwt_key *k, char **errstr);
void jwt_key_clear(struct jwt_key *k);

/*
 * Sign claims (borrowed) as a compact JWS.  The header carries alg, typ
 * JWT, and x5t#S256 (PS256) or x5t (RS256) when a certificate was loaded,
 * plus kid when given.  *out allocated.
 */
int jwt_sign(const struct jwt_key *k, enum jwt_alg alg, const char *kid, json_t *claims,
    char **out, char **errstr);

#endif
