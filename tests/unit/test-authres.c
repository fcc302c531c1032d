/*
 * test-authres.c - Authentication-Results parsing and the sender verdict,
 * over header shapes written by real providers (Microsoft 365, Google, an
 * organisation's own OpenDMARC/opendkim MX) and forged ones.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "error.h"
#include "tap.h"
#include "util.h"

#define MS_PASS "spf=pass (sender IP is 40.107.22.60) smtp.mailfrom=contoso.com; " \
	"dkim=pass (signature was verified) header.d=contoso.com;dmarc=pass action=none " \
	"header.from=contoso.com;compauth=pass reason=100"
#define MS_FORGED "spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=evil.example; " \
	"dkim=none (message not signed) header.d=none;dmarc=fail action=oreject " \
	"header.from=contoso.com;compauth=fail reason=000"
#define MS_TENANT_NONE "spf=pass (sender IP is 10.1.2.3) smtp.mailfrom=contoso.com; " \
	"dkim=none (message not signed) header.d=none;dmarc=none action=none " \
	"header.from=contoso.com;compauth=softpass reason=201"
#define GOOGLE "mx.google.com;\r\n       dkim=pass header.i=@example.org header.s=s1 " \
	"header.b=AbCd;\r\n       spf=pass (google.com: domain of a@example.org designates " \
	"1.2.3.4 as permitted sender) smtp.mailfrom=a@example.org;\r\n       dmarc=pass " \
	"(p=REJECT sp=REJECT dis=NONE) header.from=example.org"
#define OWN_MX "mx.example.org; dmarc=pass (p=none dis=none) header.from=example.org"
#define OWN_MX_FAIL "mx.example.org; dmarc=fail (p=none dis=none) header.from=example.org"

struct parse_case {
	const char *name;
	const char *value;
	int rc;
	const char *id;
	size_t nres;
	size_t idx;		/* the result checked below */
	const char *method, *result, *reason;
	const char *prop, *propval;
};

static const struct parse_case parse_cases[] = {
	{ "Microsoft 365, no authserv-id", MS_PASS, 0, NULL, 4, 3,
	  "compauth", "pass", "100", NULL, NULL },
	{ "Microsoft 365 dmarc props", MS_PASS, 0, NULL, 4, 2,
	  "dmarc", "pass", NULL, "header.from", "contoso.com" },
	{ "Microsoft 365 action= kept as a prop", MS_FORGED, 0, NULL, 4, 2,
	  "dmarc", "fail", NULL, "action", "oreject" },
	{ "Google, folded", GOOGLE, 0, "mx.google.com", 3, 0,
	  "dkim", "pass", NULL, "header.i", "@example.org" },
	{ "Google spf after a comment", GOOGLE, 0, "mx.google.com", 3, 1,
	  "spf", "pass", NULL, "smtp.mailfrom", "a@example.org" },
	{ "Google dmarc", GOOGLE, 0, "mx.google.com", 3, 2,
	  "dmarc", "pass", NULL, "header.from", "example.org" },
	{ "own MX, lower-cased", "MX.Example.ORG; DMARC=Pass (p=none) Header.From=Example.org",
	  0, "mx.example.org", 1, 0, "dmarc", "pass", NULL, "header.from", "Example.org" },
	{ "version after the id, method version",
	  "mx.example.org 1; dkim/1=pass header.d=example.org", 0, "mx.example.org", 1, 0,
	  "dkim", "pass", NULL, "header.d", "example.org" },
	{ "none", "mx.example.org; none", 0, "mx.example.org", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "bare none", "none", 0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "quoted reason and value",
	  "mx.example.org; spf=fail reason=\"bad \\\"ip\\\"\" smtp.mailfrom=\"a b@x.org\"",
	  0, "mx.example.org", 1, 0, "spf", "fail", "bad \"ip\"", "smtp.mailfrom", "a b@x.org" },
	{ "comments everywhere",
	  "(c0) mx.example.org (c1 (nested; =) ) ; (c2) dkim (c3) = (c4) pass (c5) "
	  "header.d (c6) = (c7) example.org (c8) ; (c9)", 0, "mx.example.org", 1, 0,
	  "dkim", "pass", NULL, "header.d", "example.org" },
	{ "malformed element skipped",
	  "mx.example.org; garbage here; dmarc=pass header.from=example.org", 0,
	  "mx.example.org", 1, 0, "dmarc", "pass", NULL, "header.from", "example.org" },
	{ "empty", "", M2C_E_DATA, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "only comments", " (just a comment) \r\n\t", M2C_E_DATA, NULL, 0, 0,
	  NULL, NULL, NULL, NULL, NULL },
	{ "junk", "=;=;\"\"=", M2C_E_DATA, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "open comment", "mx.example.org; dkim=pass (header.d=evil.example", 0,
	  "mx.example.org", 1, 0, "dkim", "pass", NULL, "header.d", NULL },
};

/* An Authentication-Results value with n results. */
static char *
many_results(size_t n, size_t nprops)
{
	struct buf b = { 0 };
	size_t i, j;

	buf_appendf(&b, "mx.example.org");
	for (i = 0; i < n; i++) {
		buf_appendf(&b, "; dkim=pass");
		for (j = 0; j < nprops; j++)
			buf_appendf(&b, " p.n%zu=%zu", j, j);
	}
	return buf_steal(&b);
}

static void
test_parse(void)
{
	const struct parse_case *c;
	struct authres a;
	char *err, *big;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		c = &parse_cases[i];
		err = NULL;
		rc = authres_parse(c->value, &a, &err);
		is_int(rc, c->rc, "parse %s: rc", c->name);
		if (rc != 0) {
			ok(err != NULL && a.nres == 0 && a.authserv_id == NULL,
			    "parse %s: message, nothing left (%s)", c->name, err ? err : "");
			free(err);
			continue;
		}
		is_str(a.authserv_id, c->id, "parse %s: authserv-id", c->name);
		is_int(a.nres, c->nres, "parse %s: results", c->name);
		if (c->method != NULL && c->idx < a.nres) {
			is_str(a.res[c->idx].method, c->method, "parse %s: method", c->name);
			is_str(a.res[c->idx].result, c->result, "parse %s: result", c->name);
			is_str(a.res[c->idx].reason, c->reason, "parse %s: reason", c->name);
			if (c->prop != NULL)
				is_str(authres_prop(&a.res[c->idx], c->prop), c->propval,
				    "parse %s: %s", c->name, c->prop);
		}
		authres_free(&a);
	}

	big = many_results(AUTHRES_MAX_RESULTS + 10, 40);
	rc = authres_parse(big, &a, NULL);
	ok(rc == 0 && a.nres == AUTHRES_MAX_RESULTS && a.res[0].nprops == 16 &&
	    authres_prop(&a.res[0], "p.n15") != NULL && authres_prop(&a.res[0], "p.n16") == NULL,
	    "results and props are bounded");
	authres_free(&a);
	free(big);
	authres_free(NULL);
}

struct verdict_case {
	const char *name;
	const char *from;
	const char *headers[8];	/* "Received: ..." is a Received, anything else an A-R value */
	const char *authas;
	const char *id;		/* policy authserv_id */
	int microsoft;
	int want;
	const char *why;	/* a substring of *why */
};

static const struct verdict_case verdict_cases[] = {
	{ "Microsoft 365 pass", "contoso.com", { MS_PASS }, NULL, NULL, 1, 1,
	  "dmarc=pass for contoso.com (Microsoft 365's" },
	{ "Microsoft 365 forged From", "contoso.com", { MS_FORGED }, "Anonymous", NULL, 1, 0,
	  "dmarc=fail for contoso.com" },
	{ "Microsoft 365 internal AuthAs", "contoso.com", { MS_FORGED }, " Internal\r\n", NULL,
	  1, 1, "internal to the tenant" },
	{ "AuthAs ignored without Microsoft rules", "example.org", { OWN_MX_FAIL }, "Internal",
	  "mx.example.org", 0, 0, "dmarc=fail" },
	{ "AuthAs Anonymous", "contoso.com", { MS_TENANT_NONE "; compauth=fail reason=001" },
	  "Anonymous", NULL, 1, 0, "no dmarc=pass for contoso.com" },
	{ "dmarc=none from a tenant domain", "contoso.com", { MS_TENANT_NONE }, NULL, NULL, 1, 1,
	  "dmarc=none from the tenant's own domain contoso.com" },
	{ "dmarc=none from a tenant domain, compauth=fail", "contoso.com",
	  { MS_TENANT_NONE "; compauth=fail reason=001" }, NULL, NULL, 1, 0, "compauth=fail" },
	{ "dmarc=none from another domain", "elsewhere.example",
	  { "spf=pass smtp.mailfrom=elsewhere.example; dmarc=none action=none "
	    "header.from=elsewhere.example;compauth=none reason=905" }, NULL, NULL, 1, 0,
	  "no dmarc=pass for elsewhere.example" },
	{ "compauth=pass with dmarc bestguesspass", "fabrikam.example",
	  { "spf=pass smtp.mailfrom=fabrikam.example; dmarc=bestguesspass action=none "
	    "header.from=fabrikam.example;compauth=pass reason=109" }, NULL, NULL, 1, 1,
	  "compauth=pass for fabrikam.example" },
	{ "compauth=pass cannot outvote dmarc=fail", "contoso.com",
	  { "dmarc=fail action=quarantine header.from=contoso.com;compauth=pass reason=130" },
	  NULL, NULL, 1, 0, "dmarc=fail" },
	{ "Microsoft: a fake header lower down", "contoso.com", { MS_FORGED, MS_PASS },
	  NULL, NULL, 1, 0, "dmarc=fail" },
	{ "Microsoft: topmost from a foreign server", "contoso.com",
	  { "mx.evil.example; dmarc=pass header.from=contoso.com", MS_PASS }, NULL, NULL, 1, 0,
	  "set authserv_id to mx.evil.example" },
	{ "Microsoft: its own authserv-id", "contoso.com",
	  { "AM6PR01MB1234.eurprd01.prod.outlook.com; dmarc=pass header.from=contoso.com" },
	  NULL, NULL, 1, 1, "dmarc=pass for contoso.com" },
	{ "Microsoft: no header", "contoso.com", { NULL }, NULL, NULL, 1, 0,
	  "set authserv_id in the configuration" },
	{ "Microsoft: header.from mismatch", "contoso.com",
	  { "dmarc=pass action=none header.from=other.example;compauth=pass reason=100" },
	  NULL, NULL, 1, 0, "not for the From domain contoso.com" },
	{ "Google pass", "example.org", { GOOGLE }, NULL, "mx.google.com", 0, 1,
	  "dmarc=pass for example.org (Authentication-Results of mx.google.com)" },
	{ "Google pass, id case-insensitive", "example.org", { GOOGLE }, NULL, "MX.Google.COM",
	  0, 1, "dmarc=pass" },
	{ "Google, other From domain", "example.net", { GOOGLE }, NULL, "mx.google.com", 0, 0,
	  "header.from=example.org, not for the From domain example.net" },
	{ "own MX pass", "example.org", { OWN_MX }, NULL, "mx.example.org", 0, 1,
	  "dmarc=pass for example.org" },
	{ "own MX under an internal hop", "example.org",
	  { "relay.example.org; none", OWN_MX }, NULL, "mx.example.org", 0, 1, "dmarc=pass" },
	{ "fake pass lower down", "example.org",
	  { OWN_MX_FAIL, "mx.example.org; dmarc=pass header.from=example.org" }, NULL,
	  "mx.example.org", 0, 0, "dmarc=fail for example.org" },
	{ "fake trusted id below a genuine fail", "example.org",
	  { "mx.google.com; dmarc=fail (p=REJECT) header.from=example.org", GOOGLE },
	  NULL, "mx.google.com", 0, 0, "dmarc=fail" },
	{ "another authserv-id only", "example.org",
	  { "mx.other.example; dmarc=pass header.from=example.org" }, NULL, "mx.example.org",
	  0, 0, "found only: mx.other.example; is authserv_id in the configuration right?" },
	{ "no header at all", "example.org", { NULL }, NULL, "mx.example.org", 0, 0,
	  "no Authentication-Results from mx.example.org (no Authentication-Results at all" },
	{ "none", "example.org", { "mx.example.org; none" }, NULL, "mx.example.org", 0, 0,
	  "; results: no results (Authentication-Results of mx.example.org)" },
	{ "malformed junk", "example.org", { "=;==;\"", "((((" }, NULL, "mx.example.org",
	  0, 0, "no Authentication-Results from mx.example.org (only unreadable" },
	{ "no dmarc, aligned dkim (subdomain)", "example.org",
	  { "mx.example.org; dkim=pass header.d=mail.example.org; spf=fail" }, NULL,
	  "mx.example.org", 0, 1, "dkim=pass for mail.example.org, aligned with example.org" },
	{ "no dmarc, dkim header.i", "news.example.org",
	  { "mx.example.org; dkim=pass header.i=@example.org" }, NULL, "mx.example.org", 0, 1,
	  "dkim=pass for @example.org" },
	{ "no dmarc, aligned spf", "example.org",
	  { "mx.example.org; dkim=fail header.d=example.org; spf=pass smtp.mailfrom=b@bounce.example.org" },
	  NULL, "mx.example.org", 0, 1, "spf=pass for b@bounce.example.org" },
	{ "no dmarc, unaligned dkim", "example.org",
	  { "mx.example.org; dkim=pass header.d=notexample.org; spf=pass smtp.mailfrom=x@evil.example" },
	  NULL, "mx.example.org", 0, 0, "results: dkim=pass, spf=pass" },
	{ "no dmarc, dkim for a bare TLD", "example.org",
	  { "mx.example.org; dkim=pass header.d=org" }, NULL, "mx.example.org", 0, 0,
	  "no dmarc=pass nor aligned" },
	{ "dmarc=none outside Microsoft: dkim does not count", "example.org",
	  { "mx.example.org; dmarc=none header.from=example.org; dkim=pass header.d=example.org" },
	  NULL, "mx.example.org", 0, 0, "no dmarc=pass for example.org" },
	{ "two dmarc results, one fail", "example.org",
	  { "mx.example.org; dmarc=pass header.from=example.org; dmarc=fail header.from=example.org" },
	  NULL, "mx.example.org", 0, 0, "dmarc=fail" },
	{ "From without a domain", "", { OWN_MX }, NULL, "mx.example.org", 0, 0,
	  "has no domain" },
	/* #10-4: the trace zone, blocks, AuthAs only for the tenant's domains. */
	{ "Microsoft internal AuthAs, From outside the tenant", "evil.example", { MS_FORGED },
	  "Internal", NULL, 1, 0, "dmarc=fail" },
	{ "Microsoft internal AuthAs, From a second tenant domain", "fabrikam.com",
	  { NULL }, "Internal", NULL, 1, 1, "fabrikam.com is one of tenant_domains" },
	{ "own MX under its LMTP hop", "example.org",
	  { "Received: from mx.example.org by imap.example.org (Dovecot) with LMTP id 1; Mon",
	    "Received: from mail.sender.example by mx.example.org (Postfix) with ESMTPS; Mon",
	    OWN_MX, "Received: from laptop by mail.sender.example; Mon" }, NULL,
	  "mx.example.org", 0, 1, "dmarc=pass for example.org" },
	{ "own MX's header below another server's Received", "example.org",
	  { "Received: from mail.sender.example by mx.example.org (Postfix); Mon",
	    "Received: from laptop by mail.sender.example; Mon", OWN_MX }, NULL,
	  "mx.example.org", 0, 0, "below the Received header of mail.sender.example" },
	{ "only the topmost header of the id counts, a planted pass right under it is not "
	  "merged in", "example.org",
	  { "mx.example.org; spf=fail smtp.mailfrom=evil.example",
	    "mx.example.org; dkim=pass header.d=example.org" }, NULL, "mx.example.org", 0, 0,
	  "no dmarc=pass nor aligned" },
	{ "no header from the provider, a planted one under the sender's Received",
	  "example.org",
	  { "Received: from mail.sender.example by mx.example.org; Mon",
	    "Received: from laptop by mail.sender.example; Mon",
	    "mx.example.org; dmarc=pass header.from=example.org" }, NULL, "mx.example.org", 0, 0,
	  "another server's hop" },
	{ "Microsoft: no header from Microsoft, a planted one lower down", "contoso.com",
	  { "Received: from mail.evil.example by DM3NAM02FT003.mail.protection.outlook.com; Mon",
	    "Received: from laptop by mail.evil.example; Mon", MS_PASS }, NULL, NULL, 1, 0,
	  "Microsoft 365 did not check the sender" },
};

/* Trace headers from strings: "Received: VALUE" or an Authentication-Results value. */
static size_t
trace(const char *const *lines, size_t max, struct authres_header *h)
{
	size_t n;

	for (n = 0; n < max && lines[n] != NULL; n++) {
		h[n].received = strncmp(lines[n], "Received:", 9) == 0;
		h[n].value = h[n].received ? lines[n] + 9 : lines[n];
	}
	return n;
}

static const char *const tenant[] = { "contoso.com", "fabrikam.com" };

static int
verdict(const char *from, const char *const *lines, size_t nlines, const char *authas,
    const char *id, int microsoft, char **why)
{
	struct authres_header h[32];
	struct authres_input in;
	struct authres_policy p;

	in.from_domain = from;
	in.headers = h;
	in.nheaders = trace(lines, nlines < 32 ? nlines : 32, h);
	in.ms_authas = authas;
	p.authserv_id = id;
	p.microsoft = microsoft;
	p.tenant_domains = microsoft ? tenant : NULL;
	p.ntenant_domains = microsoft ? ARRAY_SIZE(tenant) : 0;
	*why = (char *)"unset";
	return authres_sender_authenticated(&in, &p, why);
}

static void
test_verdict(void)
{
	const struct verdict_case *c;
	char *why;
	size_t i;
	int got;

	for (i = 0; i < ARRAY_SIZE(verdict_cases); i++) {
		c = &verdict_cases[i];
		got = verdict(c->from, c->headers, ARRAY_SIZE(c->headers), c->authas, c->id,
		    c->microsoft, &why);
		is_int(got, c->want, "verdict %s", c->name);
		has_str(why, c->why, "verdict %s: why \"%s\"", c->name, why ? why : "(null)");
		free(why);
	}
}

static void
test_received_by(void)
{
	static const struct { const char *v, *by; } t[] = {
		{ "from mail.example.org (mail.example.org. [192.0.2.1])\r\n        by mx.google.com "
		  "with ESMTPS id x; Mon, 1 Jan 2024 00:00:00 -0800", "mx.google.com" },
		{ "by 2002:a05:6a10:e1a9:b0:4a5:8e2d:1c3f with SMTP id y; Mon, 1 Jan 2024",
		  "2002:a05:6a10:e1a9:b0:4a5:8e2d:1c3f" },
		{ "from X (2603:10b6::1) by SN6PR01MB1234.NAMPRD01.PROD.OUTLOOK.COM (2603:10b6::2) "
		  "with Microsoft SMTP Server id 15.20; Mon", "sn6pr01mb1234.namprd01.prod.outlook.com" },
		{ "from a (helo by evil) by MX.Example.ORG. (Postfix) with ESMTP; date",
		  "mx.example.org" },
		{ "from a.example with LMTP; date with by later", NULL },
		{ "", NULL },
		{ "by", NULL },
		{ "((((by x", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char *by = authres_received_by(t[i].v);

		is_str(by, t[i].by, "Received by-host %zu", i);
		free(by);
	}
	ok(authres_received_by(NULL) == NULL, "Received by-host of NULL");
}

/*
 * #10-4: a header the sender planted is never read, wherever it stands.
 * A Gmail-like and a Microsoft 365-like message: the provider's own
 * headers on top, then the sender's (its own Received lines, DKIM...); a
 * forged "pass" is planted at every position of the sender's part, with
 * the provider's genuine verdict present (fail) or absent.
 */
static void
test_planted(void)
{
	static const char *const g_top[] = {
		"Received: by 2002:a05:6a10:e1a9:b0:4a5:8e2d:1c3f with SMTP id x; Mon, 1 Jan 2024",
		"Received: from mail.evil.example (mail.evil.example. [203.0.113.9]) by "
		"mx.google.com with ESMTPS id y; Mon, 1 Jan 2024",
	};
	static const char *const g_fail =
		"mx.google.com; spf=fail smtp.mailfrom=example.org; dmarc=fail (p=REJECT) "
		"header.from=example.org";
	static const char *const g_planted =
		"mx.google.com; dkim=pass header.d=example.org; dmarc=pass header.from=example.org";
	static const char *const ms_top[] = {
		"Received: from SN6PR01MB1234.namprd01.prod.outlook.com (2603:10b6::1) by "
		"BY5PR01MB5678.namprd01.prod.outlook.com with HTTPS; Mon, 1 Jan 2024",
		"Received: from DM3NAM02FT003.eop-nam02.prod.protection.outlook.com (2603:10b6::2) "
		"by SN6PR01MB1234.namprd01.prod.outlook.com with Microsoft SMTP Server; Mon",
	};
	static const char *const ms_border =
		"Received: from mail.evil.example (203.0.113.9) by "
		"DM3NAM02FT003.mail.protection.outlook.com (10.152.98.12) with Microsoft SMTP "
		"Server; Mon, 1 Jan 2024";
	static const char *const sender[] = {
		"Received: from laptop.evil.example ([10.0.0.5]) by mail.evil.example with "
		"ESMTPSA; Mon, 1 Jan 2024",
		"Received: from [127.0.0.1] by laptop.evil.example; Mon, 1 Jan 2024",
		"Received: from x by 10.1.2.3; Mon, 1 Jan 2024",
	};
	const char *l[16];
	size_t n, k, j;
	char *why;
	int got;

	for (int genuine = 0; genuine <= 1; genuine++)
		for (k = 1; k <= ARRAY_SIZE(sender); k++) {
			/* Google: top, [genuine fail], sender[0..k), planted, sender[k..) */
			n = 0;
			for (j = 0; j < ARRAY_SIZE(g_top); j++)
				l[n++] = g_top[j];
			if (genuine)
				l[n++] = g_fail;
			for (j = 0; j < ARRAY_SIZE(sender); j++) {
				if (j == k)
					l[n++] = g_planted;
				l[n++] = sender[j];
			}
			if (k == ARRAY_SIZE(sender))
				l[n++] = g_planted;
			l[n] = NULL;
			got = verdict("example.org", l, n, NULL, "mx.google.com", 0, &why);
			is_int(got, 0, "Google%s: a pass planted at position %zu of the sender's "
			    "headers is not read", genuine ? " (genuine fail on top)" : "", k);
			has_str(why, genuine ? "dmarc=fail" : "another server's hop",
			    "... why: %s", why ? why : "(null)");
			free(why);

			/* Microsoft 365: top, [genuine MS_FORGED], border, sender with MS_PASS planted */
			n = 0;
			for (j = 0; j < ARRAY_SIZE(ms_top); j++)
				l[n++] = ms_top[j];
			if (genuine)
				l[n++] = MS_FORGED;
			l[n++] = ms_border;
			for (j = 0; j < ARRAY_SIZE(sender); j++) {
				if (j == k)
					l[n++] = MS_PASS;
				l[n++] = sender[j];
			}
			if (k == ARRAY_SIZE(sender))
				l[n++] = MS_PASS;
			l[n] = NULL;
			got = verdict("contoso.com", l, n, NULL, NULL, 1, &why);
			is_int(got, 0, "Microsoft%s: a pass planted at position %zu of the sender's "
			    "headers is not read", genuine ? " (genuine fail on top)" : "", k);
			has_str(why, genuine ? "dmarc=fail" : "another server's hop",
			    "... why: %s", why ? why : "(null)");
			free(why);
		}

	/* The genuine verdicts in the same layouts pass, a planted fail below changes nothing. */
	{
		const char *gl[] = { g_top[0], g_top[1], GOOGLE, sender[0],
			"mx.google.com; dmarc=fail header.from=example.org", sender[1], NULL };
		const char *ml[] = { ms_top[0], ms_top[1], MS_PASS, ms_border, sender[0],
			MS_FORGED, sender[1], NULL };

		got = verdict("example.org", gl, ARRAY_SIZE(gl) - 1, NULL, "mx.google.com", 0, &why);
		is_int(got, 1, "Google: the genuine pass under mx.google.com's Received is read");
		free(why);
		got = verdict("contoso.com", ml, ARRAY_SIZE(ml) - 1, NULL, NULL, 1, &why);
		is_int(got, 1, "Microsoft: the genuine pass above EOP's Received is read");
		free(why);
	}
}

int
main(void)
{
	test_parse();
	test_verdict();
	test_received_by();
	test_planted();
	return tap_done();
}
