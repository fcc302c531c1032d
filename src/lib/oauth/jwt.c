/*
 * jwt.c - JWT claims and JWS signing (RFC 7515, 7518, 7519, 7523); see
 * jwt.h.
 */
#include "m2c-config.h"

#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <sys/stat.h>

#include "base64.h"
#include "error.h"
#include "jwt.h"
#include "secret.h"
#include "util.h"

#define JWT_KEY_FILE_MAX (64 * 1024)	/* a PEM key and certificate */

#define JWT_MAX (64 * 1024)	/* longer tokens are not looked at */

json_t *
jwt_claims(const char *jwt)
{
	const char *dot1, *dot2;
	char *part;
	unsigned char *raw;
	size_t rawlen;
	json_t *j = NULL;

	if (jwt == NULL || strlen(jwt) > JWT_MAX || (dot1 = strchr(jwt, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL)
		return NULL;
	part = xstrndup(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (b64url_decode(part, &raw, &rawlen) == 0) {
		j = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
		wipe(raw, rawlen);
		free(raw);
	}
	free(part);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* The first OpenSSL error as text, for messages. */
static const char *
ossl_reason(void)
{
	static char b[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "no further detail";
	ERR_error_string_n(e, b, sizeof(b));
	ERR_clear_error();
	return b;
}

void
jwt_key_clear(struct jwt_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

/* Check that key is RSA and store it in k (taking it). */
static int
key_take(EVP_PKEY **pkey, const char *what, struct jwt_key *k, char **errstr)
{
	if (EVP_PKEY_base_id(*pkey) != EVP_PKEY_RSA)
		return m2c_fail(errstr, M2C_E_CONFIG, "the private key in %s is not an RSA key: "
		    "make an RSA key (openssl req -x509 -newkey rsa:2048 ...)", what);
	k->pkey = *pkey;
	*pkey = NULL;
	return 0;
}

int
jwt_key_from_pem(const char *pem, const char *what, struct jwt_key *k, char **errstr)
{
	BIO *bio;
	EVP_PKEY *pkey = NULL;
	int r;

	memset(k, 0, sizeof(*k));
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
		r = m2c_fail(errstr, M2C_E_CONFIG, "cannot read the private key in %s: %s",
		    what, ossl_reason());
	else
		r = key_take(&pkey, what, k, errstr);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return r;
}

int
jwt_key_load(const char *key_file, const char *cert_file, struct jwt_key *k, char **errstr)
{
	BIO *bio = NULL;
	X509 *cert = NULL;
	EVP_PKEY *pkey = NULL;
	struct buf kb = { 0 };
	unsigned int n;
	int r = 0;

	memset(k, 0, sizeof(*k));
	/* Owner and mode checked on the open file before a byte is read. */
	r = secret_file_load(key_file, JWT_KEY_FILE_MAX, M2C_E_CONFIG, &kb, errstr);
	if (r == M2C_E_NOTFOUND)
		r = m2c_fail(errstr, M2C_E_CONFIG, "cannot open the private key %s: %s",
		    key_file, strerror(ENOENT));
	if (r != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(kb.data ? kb.data : "", (int)kb.len)) == NULL) {
		r = m2c_fail(errstr, M2C_E_SYS, "out of memory for %s", key_file);
		goto out;
	}
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "cannot read the private key in %s: %s; "
		    "private_key_file must be an unencrypted PEM RSA key", key_file, ossl_reason());
		goto out;
	}
	/* The certificate: its own file, or after the key in the same one. */
	BIO_free(bio);
	bio = cert_file ? BIO_new_file(cert_file, "r") :
	    BIO_new_mem_buf(kb.data ? kb.data : "", (int)kb.len);
	if (bio != NULL)
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	ERR_clear_error();
	if (cert == NULL && cert_file != NULL) {
		r = m2c_fail(errstr, M2C_E_CONFIG, "cannot read the PEM certificate in %s: "
		    "certificate_file must be the certificate uploaded to the app registration",
		    cert_file);
		goto out;
	}
	if (cert != NULL) {
		if (X509_check_private_key(cert, pkey) != 1) {
			ERR_clear_error();
			r = m2c_fail(errstr, M2C_E_CONFIG, "the certificate %s does not belong "
			    "to the private key %s: check certificate_file and private_key_file",
			    cert_file ? cert_file : key_file, key_file);
			goto out;
		}
		n = sizeof(k->sha1);
		if (X509_digest(cert, EVP_sha1(), k->sha1, &n) != 1 ||
		    (n = sizeof(k->sha256), X509_digest(cert, EVP_sha256(), k->sha256, &n)) != 1) {
			r = m2c_fail(errstr, M2C_E_SYS, "cannot hash the certificate: %s",
			    ossl_reason());
			goto out;
		}
		k->has_cert = 1;
	}
	r = key_take(&pkey, key_file, k, errstr);
out:
	BIO_free(bio);
	buf_free_secret(&kb);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	if (r != 0)
		jwt_key_clear(k);
	return r;
}

/* base64url(json) of a JSON value (compact). */
static char *
b64url_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	char *r;

	if (s == NULL)
		return NULL;
	r = b64url_encode((unsigned char *)s, strlen(s));
	free(s);
	return r;
}

int
jwt_sign(const struct jwt_key *k, enum jwt_alg alg, const char *kid, json_t *claims,
    char **out, char **errstr)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	json_t *hdr;
	char *h64 = NULL, *c64 = NULL, *s64 = NULL, *input = NULL, *thumb = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int r;

	*out = NULL;
	hdr = json_pack("{s:s, s:s}", "alg", alg == JWT_PS256 ? "PS256" : "RS256", "typ", "JWT");
	if (k->has_cert) {
		if (alg == JWT_PS256)
			thumb = b64url_encode(k->sha256, sizeof(k->sha256));
		else
			thumb = b64url_encode(k->sha1, sizeof(k->sha1));
		json_object_set_new(hdr, alg == JWT_PS256 ? "x5t#S256" : "x5t", json_string(thumb));
	}
	if (kid != NULL)
		json_object_set_new(hdr, "kid", json_string(kid));
	if ((h64 = b64url_json(hdr)) == NULL || (c64 = b64url_json(claims)) == NULL) {
		r = m2c_fail(errstr, M2C_E_DATA, "cannot encode the JWT");
		goto out;
	}
	input = xasprintf("%s.%s", h64, c64);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, k->pkey) != 1 ||
	    (alg == JWT_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)) ||
	    EVP_DigestSign(md, NULL, &siglen, (unsigned char *)input, strlen(input)) != 1 ||
	    (sig = xmalloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)input, strlen(input)) != 1) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot sign the JWT: %s", ossl_reason());
		goto out;
	}
	s64 = b64url_encode(sig, siglen);
	*out = xasprintf("%s.%s", input, s64);
	r = 0;
out:
	EVP_MD_CTX_free(md);
	json_decref(hdr);
	free(h64);
	free(c64);
	free(s64);
	free(input);
	free(thumb);
	free(sig);
	return r;
}
