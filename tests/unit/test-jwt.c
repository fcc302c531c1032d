/* test-jwt.c - base64, JWT claims, key loading and RS256/PS256 signing. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "error.h"
#include "jwt.h"
#include "log.h"
#include "tap.h"
#include "util.h"

static const struct {
	const char *in, *url, *std;
} b64_vectors[] = {	/* RFC 4648 section 10, and the two url-safe symbols */
	{ "", "", "" },
	{ "f", "Zg", "Zg==" },
	{ "fo", "Zm8", "Zm8=" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
	{ "\xfb\xff", "-_8", "+/8=" },
};

static void
test_base64(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(b64_vectors); i++) {
		const char *in = b64_vectors[i].in;
		char *u = b64url_encode((const unsigned char *)in, strlen(in));
		char *s = b64_encode((const unsigned char *)in, strlen(in));
		unsigned char *d = NULL;
		size_t dl = 0;

		is_str(u, b64_vectors[i].url, "b64url_encode vector %zu", i);
		is_str(s, b64_vectors[i].std, "b64_encode vector %zu", i);
		ok(b64url_decode(b64_vectors[i].url, &d, &dl) == 0 && dl == strlen(in) &&
		    memcmp(d, in, dl) == 0, "b64url_decode vector %zu", i);
		free(d);
		free(u);
		free(s);
	}

	static const struct {
		const char *in;
		int ok;
	} dec[] = {
		{ "Zm9vYg==", 1 },	/* padding is optional but allowed */
		{ "Zm9v+g", 0 },	/* standard alphabet is not base64url */
		{ "Zm9vY", 0 },		/* length 1 mod 4 */
		{ "Zm 9v", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(dec); i++) {
		unsigned char *d = NULL;
		size_t dl;
		int r = b64url_decode(dec[i].in, &d, &dl);

		ok((r == 0) == dec[i].ok && (r == 0 || d == NULL), "b64url_decode \"%s\" %s",
		    dec[i].in, dec[i].ok ? "accepted" : "refused");
		free(d);
	}
}

static char *
make_jwt(const char *payload_json)
{
	char *p = b64url_encode((const unsigned char *)payload_json, strlen(payload_json));
	char *r = xasprintf("eyJhbGciOiJub25lIn0.%s.c2ln", p);

	free(p);
	return r;
}

static void
test_claims(void)
{
	char *jwt = make_jwt("{\"upn\":\"alice@contoso.com\",\"exp\":5}");
	json_t *c = jwt_claims(jwt);
	static const char *bad[] = { "", "abc", "a.b", "a.!!!.c", NULL };

	is_str(json_string_value(json_object_get(c, "upn")), "alice@contoso.com",
	    "jwt_claims reads the payload");
	json_decref(c);
	free(jwt);

	jwt = make_jwt("[1,2]");
	ok(jwt_claims(jwt) == NULL, "jwt_claims: a payload that is not an object is refused");
	free(jwt);
	jwt = make_jwt("{\"a\":1,\"a\":2}");
	ok(jwt_claims(jwt) == NULL, "jwt_claims: duplicate claims are refused");
	free(jwt);
	for (int i = 0; bad[i] != NULL; i++)
		ok(jwt_claims(bad[i]) == NULL, "jwt_claims(\"%s\") is NULL", bad[i]);
	ok(jwt_claims(NULL) == NULL, "jwt_claims(NULL) is NULL");
}

/* ------------------------------------------------------------ keys */

static char dir[64];

static EVP_PKEY *
new_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static X509 *
self_signed(EVP_PKEY *k)
{
	X509 *x = X509_new();
	X509_NAME *n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"mail2cups-test",
	    -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_sign(x, k, EVP_sha256());
	return x;
}

/* Write key and/or cert as PEM to dir/name with mode; the path, allocated. */
static char *
write_pem(const char *name, EVP_PKEY *k, X509 *x, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (k)
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (x)
		PEM_write_X509(f, x);
	fclose(f);
	chmod(path, mode);
	return path;
}

static int
verify(EVP_PKEY *k, enum jwt_alg alg, const char *jws)
{
	const char *last = strrchr(jws, '.');
	unsigned char *sig = NULL;
	size_t siglen;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int good = 0;

	if (last == NULL || b64url_decode(last + 1, &sig, &siglen) != 0)
		goto out;
	if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, k) != 1)
		goto out;
	if (alg == JWT_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	good = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jws,
	    (size_t)(last - jws)) == 1;
out:
	EVP_MD_CTX_free(md);
	free(sig);
	return good;
}

static json_t *
jws_header(const char *jws)
{
	const char *dot = strchr(jws, '.');
	char *h = xstrndup(jws, dot ? (size_t)(dot - jws) : 0);
	unsigned char *raw = NULL;
	size_t rl;
	json_t *j = NULL;

	if (b64url_decode(h, &raw, &rl) == 0)
		j = json_loadb((char *)raw, rl, 0, NULL);
	free(raw);
	free(h);
	return j;
}

static void
test_sign(void)
{
	EVP_PKEY *k = new_key(), *other = new_key();
	X509 *x = self_signed(k);
	unsigned char d1[20], d256[32];
	unsigned int n1 = sizeof(d1), n256 = sizeof(d256);
	char *keyf = write_pem("key.pem", k, NULL, 0600);
	char *certf = write_pem("cert.pem", NULL, x, 0644);
	char *both = write_pem("both.pem", k, x, 0600);
	char *open_key = write_pem("open.pem", k, NULL, 0644);
	char *other_key = write_pem("other.pem", other, NULL, 0600);
	char *x5t, *x5t256, *err = NULL;
	struct jwt_key jk;
	json_t *claims = json_pack("{s:s, s:i}", "iss", "client", "exp", 1);
	static const struct {
		enum jwt_alg alg;
		const char *name, *thumb_hdr, *other_hdr;
	} algs[] = {
		{ JWT_PS256, "PS256", "x5t#S256", "x5t" },
		{ JWT_RS256, "RS256", "x5t", "x5t#S256" },
	};

	X509_digest(x, EVP_sha1(), d1, &n1);
	X509_digest(x, EVP_sha256(), d256, &n256);
	x5t = b64url_encode(d1, n1);
	x5t256 = b64url_encode(d256, n256);

	is_int(jwt_key_load(keyf, certf, &jk, &err), 0, "key and certificate load");
	ok(jk.has_cert && memcmp(jk.sha1, d1, 20) == 0 && memcmp(jk.sha256, d256, 32) == 0,
	    "thumbprints are those of the DER certificate");
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		char *jws = NULL;
		json_t *h;

		is_int(jwt_sign(&jk, algs[i].alg, i == 0 ? "kid-1" : NULL, claims, &jws, &err), 0,
		    "%s: signed", algs[i].name);
		if (jws == NULL)
			continue;
		ok(verify(k, algs[i].alg, jws), "%s: the signature verifies with EVP", algs[i].name);
		ok(!verify(other, algs[i].alg, jws), "%s: and not with another key", algs[i].name);
		h = jws_header(jws);
		const char *alg = json_string_value(json_object_get(h, "alg"));
		ok(alg != NULL && strcmp(alg, algs[i].name) == 0, "%s: header alg", algs[i].name);
		is_str(json_string_value(json_object_get(h, algs[i].thumb_hdr)),
		    algs[i].alg == JWT_PS256 ? x5t256 : x5t, "%s: header %s matches the certificate",
		    algs[i].name, algs[i].thumb_hdr);
		ok(json_object_get(h, algs[i].other_hdr) == NULL, "%s: no %s", algs[i].name,
		    algs[i].other_hdr);
		is_str(json_string_value(json_object_get(h, "kid")), i == 0 ? "kid-1" : NULL,
		    "%s: kid only when given", algs[i].name);
		json_t *c = jwt_claims(jws);
		is_str(json_string_value(json_object_get(c, "iss")), "client",
		    "%s: claims round-trip", algs[i].name);
		json_decref(c);
		/* Tamper with the payload: the signature no longer holds. */
		jws[strchr(jws, '.') - jws + 2] ^= 1;
		ok(!verify(k, algs[i].alg, jws), "%s: a changed payload fails", algs[i].name);
		json_decref(h);
		free(jws);
	}
	jwt_key_clear(&jk);

	is_int(jwt_key_load(both, NULL, &jk, &err), 0, "key and certificate in one PEM file");
	ok(jk.has_cert && memcmp(jk.sha256, d256, 32) == 0, "its certificate is found");
	jwt_key_clear(&jk);

	is_int(jwt_key_load(keyf, NULL, &jk, &err), 0, "a key alone loads");
	ok(!jk.has_cert, "without a certificate");
	jwt_key_clear(&jk);
	jwt_key_clear(&jk);	/* twice is fine */

	static const struct {
		const char *key, *cert, *want;
	} bad[] = {
		{ NULL, NULL, "chmod 600" },		/* open_key: readable by others */
		{ NULL, NULL, "does not belong" },	/* other key with this cert */
		{ NULL, NULL, "cannot open" },		/* missing file */
		{ NULL, NULL, "cannot read the PEM certificate" },
	};
	const char *keys[] = { open_key, other_key, "/nonexistent/key.pem", keyf };
	const char *certs[] = { NULL, certf, NULL, keyf };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		free(err);
		err = NULL;
		is_int(jwt_key_load(keys[i], certs[i], &jk, &err), M2C_E_CONFIG,
		    "bad key/cert %zu refused", i);
		has_str(err, bad[i].want, "  with a message that says why (%zu)", i);
		ok(jk.pkey == NULL, "  and no key is left (%zu)", i);
	}

	/*
	 * #10: the key file is checked before it is opened for reading: a FIFO
	 * (the old code's fopen waited for a writer forever) and a symbolic
	 * link to a good key are refused at once.
	 */
	{
		char *fifo = xasprintf("%s/fifo.pem", dir), *link = xasprintf("%s/link.pem", dir);

		if (mkfifo(fifo, 0600) != 0 || symlink(keyf, link) != 0)
			ok(0, "mkfifo, symlink");
		alarm(10);	/* a hang is a failure, not a stuck test */
		free(err);
		err = NULL;
		is_int(jwt_key_load(fifo, certf, &jk, &err), M2C_E_CONFIG,
		    "a FIFO as the key file is refused without waiting on it");
		has_str(err, "not a regular file", "  saying so");
		free(err);
		err = NULL;
		is_int(jwt_key_load(link, certf, &jk, &err), M2C_E_CONFIG,
		    "a symbolic link as the key file is refused");
		has_str(err, "symbolic link", "  saying so");
		alarm(0);
		unlink(fifo);
		unlink(link);
		free(fifo);
		free(link);
	}

	free(err);
	json_decref(claims);
	unlink(keyf);
	unlink(certf);
	unlink(both);
	unlink(open_key);
	unlink(other_key);
	free(keyf);
	free(certf);
	free(both);
	free(open_key);
	free(other_key);
	free(x5t);
	free(x5t256);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	log_init("test-jwt", 0, LOG_LVL_ERROR);
	snprintf(dir, sizeof(dir), "%s/m2c-jwt.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 99;
	}
	test_base64();
	test_claims();
	test_sign();
	rmdir(dir);
	log_secret_clear();
	return tap_done();
}
