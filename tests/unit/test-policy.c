/* test-policy.c - the sender allow list and secret files. */
#include "m2c-config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "mime.h"
#include "policy.h"
#include "secret.h"
#include "tap.h"
#include "util.h"

static void
test_policy(void)
{
	char *allow[] = { "*@contoso.com", "partner@example.org" };
	struct conf_strlist list = { allow, 2 }, empty = { NULL, 0 };
	static const struct { const char *addr; int want; const char *why; } t[] = {
		{ "alice@contoso.com", 0, NULL },
		{ "Bob@CONTOSO.com", 0, NULL },
		{ "partner@example.org", 0, NULL },
		{ "other@example.org", M2C_E_REFUSED, "not in allow_senders" },
		{ "alice@contoso.com.evil.org", M2C_E_REFUSED, "not in allow_senders" },
		{ "alice@gmail.com", M2C_E_REFUSED, "\"*@gmail.com\"" },
		{ "", M2C_E_REFUSED, "no From address" },
		{ NULL, M2C_E_REFUSED, "no From address" },
		{ "a b@contoso.com", M2C_E_REFUSED, "malformed" },
		{ "a@b@contoso.com", M2C_E_REFUSED, "malformed" },
		{ "nobody", M2C_E_REFUSED, "malformed" },
	};
	char *e = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int r = policy_check_sender(&list, t[i].addr, &e);
		is_int(r, t[i].want, "sender %s", t[i].addr ? t[i].addr : "(null)");
		if (t[i].why)
			has_str(e, t[i].why, "... reason for %s", t[i].addr ? t[i].addr : "(null)");
		free(e);
		e = NULL;
	}
	is_int(policy_check_sender(&empty, "alice@contoso.com", &e), M2C_E_REFUSED,
	    "an empty allow list allows nobody");
	has_str(e, "nobody may print", "... and says so");
	free(e);
}

/* Sender trust step 1: exactly one From address. */
static void
test_one_from(void)
{
	char *allow[] = { "*@example.com" };
	struct conf_account a;
	struct mime_message m;
	struct policy_verdict v;
	const char *why = NULL;
	char *e = NULL;

	memset(&a, 0, sizeof(a));
	memset(&m, 0, sizeof(m));
	a.name = "office";
	a.username = "print@example.com";
	a.allow_senders.v = allow;
	a.allow_senders.n = 1;
	m.from_addr = "ann@example.com";
	m.nfrom = 1;
	is_int(policy_check_message(&a, &m, &v, &e), 0, "one allowed From prints");
	policy_verdict_clear(&v);

	m.nfrom = 2;
	m.from_list = "ann@example.com, bob@example.com";
	is_int(policy_check_message(&a, &m, &v, &e), M2C_E_REFUSED,
	    "two From addresses, both allowed: refused");
	has_str(e, "has 2 From addresses (ann@example.com, bob@example.com)",
	    "... naming them");
	has_str(e, "SENDER TRUST in mail2cups.conf(5)", "... and the rule");
	free(e);
	e = NULL;
	policy_verdict_clear(&v);
	v.known = v.authenticated = 1;	/* even a provider's pass does not make one sender */
	ok(!policy_may_reply(&a, &m, &v, &why), "no reply to a message with two From addresses");
	has_str(why, "more than one From address", "... and why");

	m.nfrom = 0;
	m.from_list = NULL;
	m.from_addr = NULL;
	is_int(policy_check_message(&a, &m, &v, &e), M2C_E_REFUSED, "no From: refused");
	has_str(e, "no From address", "... and says so");
	free(e);
	policy_verdict_clear(&v);
}

static char *
write_file(const char *dir, const char *name, const char *content, mode_t mode)
{
	char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	(void)!write(fd, content, strlen(content));
	close(fd);
	chmod(p, mode);
	return p;
}

static void
test_secret(void)
{
	char dir[] = "/tmp/m2c-secret.XXXXXX", *p, *s = NULL, *e = NULL;

	ok(mkdtemp(dir) != NULL, "mkdtemp");
	p = write_file(dir, "ok", "pa55word\nsecond line\n", 0600);
	is_int(secret_file_read(p, &s, &e), 0, "a 0600 secret file is read");
	is_str(s, "pa55word", "... its first line, without the newline");
	free_secret(s);
	unlink(p);
	free(p);

	p = write_file(dir, "open", "pa55word\n", 0644);
	is_int(secret_file_read(p, &s, &e), M2C_E_CONFIG, "a 0644 secret file is refused");
	has_str(e, "chmod 600", "... with the fix");
	ok(s == NULL, "... and no secret returned");
	free(e);
	e = NULL;
	unlink(p);
	free(p);

	p = write_file(dir, "empty", "\n", 0600);
	is_int(secret_file_read(p, &s, &e), M2C_E_CONFIG, "an empty secret file is refused");
	free(e);
	e = NULL;
	unlink(p);
	free(p);

	p = xasprintf("%s/missing", dir);
	is_int(secret_file_read(p, &s, &e), M2C_E_CONFIG, "a missing secret file is a config error");
	has_str(e, p, "... naming the file");
	free(e);
	e = NULL;
	free(p);

	p = write_file(dir, "target", "pa55word\n", 0600);
	{
		char *link = xasprintf("%s/link", dir);
		ok(symlink(p, link) == 0, "symlink");
		ok(secret_file_read(link, &s, &e) != 0, "a symlinked secret file is refused");
		free(e);
		e = NULL;
		unlink(link);
		free(link);
	}
	unlink(p);
	free(p);
	rmdir(dir);
}

/*
 * #10-4 on whole messages (tests/data/authres): the provider's trace headers
 * on top, the sender's below; a pass the sender planted is never read.
 */
static void
test_eml(void)
{
	static const struct {
		const char *file;
		const char *authserv_id;	/* NULL: Microsoft 365 */
		int want;
		const char *why;
	} t[] = {
		{ "google-genuine.eml", "mx.google.com", 1, "dmarc=pass for example.org" },
		{ "google-planted.eml", "mx.google.com", 0, "below the Received header of "
		  "mail.evil.example" },
		{ "own-mx-genuine.eml", "mx.example.org", 1, "dmarc=pass for example.org" },
		{ "own-mx-planted.eml", "mx.example.org", 0, "below the Received header of "
		  "mail.evil.example" },
		{ "ms-planted.eml", NULL, 0, "Microsoft 365 did not check the sender" },
		{ "ms-internal-foreign.eml", NULL, 0, "no dmarc=pass for bank.example" },
		{ "ms-internal-tenant.eml", NULL, 1, "internal to the tenant" },
	};
	char *allow[] = { "*" }, *tenant[] = { "contoso.com" };
	char scratch[] = "/tmp/m2c-authres.XXXXXX";
	const char *top = getenv("top_srcdir");

	ok(mkdtemp(scratch) != NULL, "mkdtemp");
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct conf_account a;
		struct mime_message *m = NULL;
		struct policy_verdict v;
		char *path = xasprintf("%s/tests/data/authres/%s", top ? top : ".", t[i].file);
		char *e = NULL;
		int fd = open(path, O_RDONLY);

		memset(&a, 0, sizeof(a));
		a.name = "print";
		a.username = "print@contoso.com";
		a.allow_senders.v = allow;
		a.allow_senders.n = 1;
		a.authserv_id = (char *)t[i].authserv_id;
		if (t[i].authserv_id == NULL) {
			a.oauth.provider = CONF_PROVIDER_MICROSOFT;
			a.tenant_domains.v = tenant;
			a.tenant_domains.n = 1;
		}
		ok(fd >= 0 && mime_extract(fd, scratch, NULL, &m, &e) == 0, "%s: parsed",
		    t[i].file);
		if (m != NULL) {
			is_int(policy_check_message(&a, m, &v, &e), 0, "%s: allowed", t[i].file);
			ok(v.known && v.authenticated == t[i].want, "%s: %sauthenticated",
			    t[i].file, t[i].want ? "" : "not ");
			has_str(v.why, t[i].why, "%s: why: %s", t[i].file, v.why ? v.why : "");
			policy_verdict_clear(&v);
		}
		mime_message_free(&m);
		free(e);
		free(path);
		if (fd >= 0)
			close(fd);
	}
	rmdir(scratch);
}

int
main(void)
{
	test_policy();
	test_one_from();
	test_eml();
	test_secret();
	return tap_done();
}
