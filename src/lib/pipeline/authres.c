/*
 * authres.c - Authentication-Results parsing and the sender verdict; see
 * authres.h.
 *
 * RFC 8601 (Message Header Field for Indicating Message Authentication
 * Status), RFC 5322 section 3.2.2 (CFWS: comments and folding), RFC 7489
 * section 3.1 (DMARC identifier alignment, relaxed mode).
 *
 * The parser is a tolerant one: real headers break the grammar (Microsoft
 * 365 leaves out the authserv-id, writes "action=none" between a result and
 * its properties, and separators are sometimes missing their spaces), so an
 * element it cannot read is skipped up to the next ';' rather than failing
 * the whole header.  It looks at no more than AUTHRES_INPUT_MAX bytes, keeps
 * no more than AUTHRES_MAX_RESULTS results and AUTHRES_MAX_PROPS properties
 * per result, and each step of each loop consumes at least one byte, so any
 * input ends in bounded time and memory.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "error.h"
#include "util.h"

#define AUTHRES_INPUT_MAX 16384	/* bytes of a header value looked at */
#define AUTHRES_MAX_PROPS 16	/* properties kept per result */
#define AUTHRES_SHOW_MAX 64	/* bytes of an untrusted string in a message */
#define AUTHRES_SUMMARY_MAX 8	/* results listed in a failure message */

/* The authserv-ids Microsoft 365 writes when it writes one. */
static const char *const ms_ids[] = {
	"*.outlook.com", "*.office365.com", "*.microsoft.com",
	"outlook.com", "office365.com",
};

/* A cursor over the (capped) header value. */
struct lex {
	const char *p;
	const char *end;
};

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Skip white space, folding and (nested) comments; an open comment ends at the end. */
static void
skip_cfws(struct lex *lx)
{
	size_t depth = 0;

	while (lx->p < lx->end) {
		char c = *lx->p;

		if (depth > 0) {
			if (c == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(') {
			depth++;
		} else if (!is_wsp(c)) {
			break;
		}
		lx->p++;
	}
}

/* Move past the next top-level ';' (or to the end), skipping comments and quotes. */
static void
skip_element(struct lex *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == ';') {
			lx->p++;
			return;
		}
		if (c == '(') {
			skip_cfws(lx);
			continue;
		}
		if (c == '"') {
			for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++)
				if (*lx->p == '\\' && lx->p + 1 < lx->end)
					lx->p++;
		}
		if (lx->p < lx->end)
			lx->p++;
	}
}

/*
 * Read a value: a quoted string (unescaped, without its quotes) or a run of
 * bytes up to white space, '(', ';', '"' or one of the bytes in stop.
 * Allocated, or NULL when there is none (nothing consumed then).
 */
static char *
read_value(struct lex *lx, const char *stop)
{
	struct buf b = { 0 };
	const char *start = lx->p;

	if (lx->p < lx->end && *lx->p == '"') {
		for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			buf_appendc(&b, *lx->p);
		}
		if (lx->p < lx->end)
			lx->p++;
		/* An empty quoted string is a value too. */
		return buf_steal(&b);
	}
	while (lx->p < lx->end && !is_wsp(*lx->p) && *lx->p != '(' && *lx->p != ';' &&
	    *lx->p != '"' && strchr(stop, *lx->p) == NULL)
		lx->p++;
	if (lx->p == start)
		return NULL;
	return xstrndup(start, (size_t)(lx->p - start));
}

static int
peek(const struct lex *lx, char c)
{
	return lx->p < lx->end && *lx->p == c;
}

static void
result_free(struct authres_result *r)
{
	size_t i;

	free(r->method);
	free(r->result);
	free(r->reason);
	for (i = 0; i < r->nprops; i++)
		free(r->props[i]);
	free(r->props);
	memset(r, 0, sizeof(*r));
}

/*
 * After "method[/version]=result": "reason=...", then "name=value" pairs.
 * Words without '=' (Microsoft's stray text) are passed over.
 */
static void
parse_props(struct lex *lx, struct authres_result *r)
{
	char *name, *value;

	for (;;) {
		skip_cfws(lx);
		if (lx->p >= lx->end || peek(lx, ';'))
			return;
		if ((name = read_value(lx, "=")) == NULL) {
			lx->p++;	/* a stray '=' or '"': step over it */
			continue;
		}
		skip_cfws(lx);
		if (!peek(lx, '=')) {
			free(name);
			continue;
		}
		lx->p++;
		skip_cfws(lx);
		if ((value = read_value(lx, "")) == NULL)
			value = xstrdup("");
		lower(name);
		if (strcmp(name, "reason") == 0 && r->reason == NULL) {
			r->reason = value;
			value = NULL;
		} else if (r->nprops < AUTHRES_MAX_PROPS) {
			r->props = xreallocarray(r->props, r->nprops + 1, sizeof(*r->props));
			r->props[r->nprops++] = xasprintf("%s=%s", name, value);
		}
		free(name);
		free(value);
	}
}

/*
 * One resinfo whose method has been read: "[/version] = result props".
 * Returns 0 with *r filled, or -1 (element malformed; r left empty).
 */
static int
parse_result(struct lex *lx, char *method, struct authres_result *r)
{
	char *result;

	memset(r, 0, sizeof(*r));
	skip_cfws(lx);
	if (peek(lx, '/')) {
		lx->p++;
		skip_cfws(lx);
		free(read_value(lx, "=/"));
		skip_cfws(lx);
	}
	if (!peek(lx, '=')) {
		free(method);
		return -1;
	}
	lx->p++;
	skip_cfws(lx);
	if ((result = read_value(lx, "=/")) == NULL) {
		free(method);
		return -1;
	}
	r->method = method;
	r->result = result;
	lower(r->method);
	lower(r->result);
	parse_props(lx, r);
	return 0;
}

/* Parse the elements after the authserv-id (or from the first result on). */
static void
parse_results(struct lex *lx, struct authres *a, char *first_method)
{
	struct authres_result r;
	char *method = first_method;

	for (;;) {
		if (method != NULL) {
			if (a->nres < AUTHRES_MAX_RESULTS && parse_result(lx, method, &r) == 0) {
				a->res = xreallocarray(a->res, a->nres + 1, sizeof(*a->res));
				a->res[a->nres++] = r;
			} else if (a->nres >= AUTHRES_MAX_RESULTS) {
				free(method);
				return;
			}
		}
		skip_element(lx);
		skip_cfws(lx);
		if (lx->p >= lx->end)
			return;
		method = read_value(lx, "=/");
		/* "none": no authentication was done; a stray ";" or junk: skip. */
		if (method != NULL && str_casecmp(method, "none") == 0) {
			skip_cfws(lx);
			if (!peek(lx, '=') && !peek(lx, '/')) {
				free(method);
				method = NULL;
			}
		}
	}
}

int
authres_parse(const char *value, struct authres *out, char **errstr)
{
	struct lex lx;
	char *word;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (value == NULL)
		value = "";
	lx.p = value;
	lx.end = value + strnlen(value, AUTHRES_INPUT_MAX);
	skip_cfws(&lx);
	word = read_value(&lx, "=/");
	skip_cfws(&lx);
	if (word != NULL && (peek(&lx, '=') || peek(&lx, '/'))) {
		/* Microsoft 365: no authserv-id, the first element is a result. */
		parse_results(&lx, out, word);
	} else if (word != NULL && lx.p >= lx.end && str_casecmp(word, "none") == 0) {
		free(word);	/* a bare "none": nothing was checked */
		goto out;
	} else {
		/* The authserv-id; a version and any junk up to ';' are passed over. */
		if (word != NULL)
			lower(word);
		out->authserv_id = word;
		parse_results(&lx, out, NULL);
	}
	if (out->authserv_id == NULL && out->nres == 0) {
		authres_free(out);
		r = m2c_fail(errstr, M2C_E_DATA, "Authentication-Results header without an "
		    "authserv-id or a readable result: not RFC 8601, ignored");
	}
 out:
	return r;
}

void
authres_free(struct authres *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nres; i++)
		result_free(&a->res[i]);
	free(a->res);
	free(a->authserv_id);
	memset(a, 0, sizeof(*a));
}

const char *
authres_prop(const struct authres_result *r, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < r->nprops; i++)
		if (strncmp(r->props[i], name, n) == 0 && r->props[i][n] == '=')
			return r->props[i] + n + 1;
	return NULL;
}

/* ---- the verdict ---- */

/* Append an untrusted string to a message: bounded, printable ASCII only. */
static void
show(struct buf *b, const char *s)
{
	size_t i;

	if (s == NULL) {
		buf_appendf(b, "(none)");
		return;
	}
	for (i = 0; s[i] != '\0' && i < AUTHRES_SHOW_MAX; i++)
		buf_appendc(b, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
	if (s[i] != '\0')
		buf_appendf(b, "...");
}

/* The domain of "user@domain", "@domain" or "domain". */
static const char *
domain_of(const char *s)
{
	const char *at = strrchr(s, '@');

	return at != NULL ? at + 1 : s;
}

/* a equals b or is a subdomain of it; b must have a dot ("com" aligns nothing). */
static int
domain_under(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (lb == 0 || strchr(b, '.') == NULL)
		return 0;
	if (la == lb)
		return str_casecmp(a, b) == 0;
	return la > lb && a[la - lb - 1] == '.' && str_casecmp(a + la - lb, b) == 0;
}

/* Relaxed alignment (RFC 7489 3.1.1, without the public suffix list). */
static int
domain_aligned(const char *a, const char *b)
{
	return domain_under(a, b) || domain_under(b, a);
}

static int
is_microsoft_id(const char *id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ms_ids); i++)
		if (str_wildcard_match(ms_ids[i], id))
			return 1;
	return 0;
}

/* The first result of method (with that result, unless NULL) in a, or NULL. */
static const struct authres_result *
find_result(const struct authres *a, const char *method, const char *result)
{
	size_t i;

	for (i = 0; i < a->nres; i++)
		if (strcmp(a->res[i].method, method) == 0 &&
		    (result == NULL || strcmp(a->res[i].result, result) == 0))
			return &a->res[i];
	return NULL;
}

/* The methods whose pass counts when aligned, in order, with their identities. */
static const struct {
	const char *method;
	const char *props[2];	/* NULL ends */
} aligned_ids[] = {
	{ "dkim", { "header.d", "header.i" } },
	{ "spf", { "smtp.mailfrom", NULL } },
};

/*
 * The first pass of dkim, then of spf, whose identity aligns with the From
 * domain: that identity, with its method in *method; or NULL.
 */
static const char *
aligned_pass(const struct authres *a, const char *from_domain, const char **method)
{
	const char *v;
	size_t m, i, j;

	for (m = 0; m < ARRAY_SIZE(aligned_ids); m++)
		for (i = 0; i < a->nres; i++) {
			if (strcmp(a->res[i].method, aligned_ids[m].method) != 0 ||
			    strcmp(a->res[i].result, "pass") != 0)
				continue;
			for (j = 0; j < ARRAY_SIZE(aligned_ids[m].props) &&
			    aligned_ids[m].props[j] != NULL; j++)
				if ((v = authres_prop(&a->res[i], aligned_ids[m].props[j])) != NULL &&
				    domain_aligned(domain_of(v), from_domain)) {
					*method = aligned_ids[m].method;
					return v;
				}
		}
	return NULL;
}

static int
is_tenant_domain(const struct authres_policy *p, const char *domain)
{
	size_t i;

	for (i = 0; i < p->ntenant_domains; i++)
		if (p->tenant_domains[i] != NULL && str_casecmp(p->tenant_domains[i], domain) == 0)
			return 1;
	return 0;
}

/* "method=result, ..." of the header, for a failure message. */
static void
summarise(struct buf *b, const struct authres *a)
{
	size_t i;

	if (a->nres == 0) {
		buf_appendf(b, "no results");
		return;
	}
	for (i = 0; i < a->nres && i < AUTHRES_SUMMARY_MAX; i++) {
		buf_appendf(b, "%s", i > 0 ? ", " : "");
		show(b, a->res[i].method);
		buf_appendc(b, '=');
		show(b, a->res[i].result);
	}
	if (a->nres > AUTHRES_SUMMARY_MAX)
		buf_appendf(b, ", ...");
}

/* " (Authentication-Results of ID)" */
static void
source(struct buf *b, const struct authres *a)
{
	if (a->authserv_id == NULL) {
		buf_appendf(b, " (Microsoft 365's Authentication-Results)");
		return;
	}
	buf_appendf(b, " (Authentication-Results of ");
	show(b, a->authserv_id);
	buf_appendc(b, ')');
}

char *
authres_received_by(const char *value)
{
	struct lex lx;
	char *tok, *host = NULL;
	size_t n;

	if (value == NULL)
		return NULL;
	lx.p = value;
	lx.end = value + strnlen(value, AUTHRES_INPUT_MAX);
	for (;;) {
		skip_cfws(&lx);
		if (lx.p >= lx.end || peek(&lx, ';'))
			return NULL;	/* the date: no "by" clause */
		if ((tok = read_value(&lx, "")) == NULL) {
			lx.p++;		/* a stray '"' or '(' : step over it */
			continue;
		}
		if (str_casecmp(tok, "by") == 0) {
			free(tok);
			skip_cfws(&lx);
			host = read_value(&lx, "");
			break;
		}
		free(tok);
	}
	if (host == NULL)
		return NULL;
	lower(host);
	n = strlen(host);
	if (n > 1 && host[n - 1] == '.')
		host[n - 1] = '\0';	/* "mx.google.com." */
	return host;
}

/* "[192.0.2.1]", "10.1.2.3", "2002:a05:6a10:e1a9:b0:4a5:8e2d:1c3f": an address, not a name. */
static int
ip_literal(const char *host)
{
	size_t i, n = strlen(host), colons = 0, dots = 0;

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (host[i] == ':')
			colons++;
		else if (host[i] == '.')
			dots++;
		else if (strchr("0123456789abcdef", host[i]) == NULL)
			return 0;
	}
	return colons >= 2 || dots == 3;
}

/* A Received "by" host of the provider's own (see authres.h). */
static int
provider_host(const struct authres_policy *p, const char *host)
{
	const char *parent;

	if (host == NULL)
		return 0;
	if (ip_literal(host) || (p->microsoft && is_microsoft_id(host)))
		return 1;
	if (p->authserv_id == NULL)
		return 0;
	if (str_casecmp(host, p->authserv_id) == 0 || domain_under(host, p->authserv_id))
		return 1;
	parent = strchr(p->authserv_id, '.');
	return parent != NULL && strchr(parent + 1, '.') != NULL &&
	    domain_under(host, parent + 1);
}

/*
 * The end of the trusted zone: the index of the first Received header that
 * is not the provider's (in->nheaders when there is none); *who (allocated
 * or NULL) is its "by" host.
 */
static size_t
zone_end(const struct authres_input *in, const struct authres_policy *p, char **who)
{
	size_t i;
	char *by;

	*who = NULL;
	for (i = 0; i < in->nheaders; i++) {
		if (!in->headers[i].received)
			continue;
		by = authres_received_by(in->headers[i].value);
		if (!provider_host(p, by)) {
			*who = by != NULL ? by : xstrdup("a server that gives no name");
			return i;
		}
		free(by);
	}
	return in->nheaders;
}

/* " (below a Received header of HOST, where the sender could have written it)" */
static void
below(struct buf *b, const char *who)
{
	buf_appendf(b, " is below the Received header of ");
	show(b, who);
	buf_appendf(b, ", another server's hop, where the sender could have written it: not "
	    "read (RFC 8601 section 5)");
}

/* Microsoft 365: the topmost header, in the zone, with no authserv-id or one of Microsoft's. */
static int
select_microsoft(const struct authres_input *in, size_t end, const char *who,
    struct authres *a, struct buf *b)
{
	size_t i;

	for (i = 0; i < in->nheaders && in->headers[i].received; i++)
		;
	if (i < in->nheaders && i > end) {
		buf_appendf(b, "the topmost Authentication-Results");
		below(b, who);
		buf_appendf(b, "; Microsoft 365 did not check the sender");
		return -1;
	}
	if (i >= in->nheaders || in->headers[i].value == NULL ||
	    authres_parse(in->headers[i].value, a, NULL) != 0) {
		buf_appendf(b, "no readable Authentication-Results header on top, so "
		    "Microsoft 365 did not check the sender (is this mailbox at "
		    "Microsoft 365? if not, set authserv_id in the configuration)");
		return -1;
	}
	if (a->authserv_id != NULL && !is_microsoft_id(a->authserv_id)) {
		buf_appendf(b, "the topmost Authentication-Results is from ");
		show(b, a->authserv_id);
		buf_appendf(b, ", not Microsoft 365 (if that server is the mailbox "
		    "provider's, set authserv_id to ");
		show(b, a->authserv_id);
		buf_appendf(b, " in the configuration)");
		authres_free(a);
		return -1;
	}
	return 0;
}

/*
 * Pick the header that counts into *a.  0 and *a, or -1 with the
 * reason in b.
 */
static int
select_header(const struct authres_input *in, const struct authres_policy *p,
    struct authres *a, struct buf *b)
{
	struct authres tmp;
	size_t i, end, nseen = 0, nar = 0;
	char *who = NULL;
	int r = -1, found = 0;

	end = zone_end(in, p, &who);
	if (p->authserv_id == NULL) {
		r = select_microsoft(in, end, who, a, b);
		goto out;
	}
	for (i = 0; i < in->nheaders; i++) {
		if (in->headers[i].received)
			continue;
		nar++;
		if (in->headers[i].value == NULL ||
		    authres_parse(in->headers[i].value, &tmp, NULL) != 0)
			continue;
		if (tmp.authserv_id != NULL && str_casecmp(tmp.authserv_id, p->authserv_id) == 0) {
			if (i >= end) {
				buf_appendf(b, "the Authentication-Results of ");
				show(b, p->authserv_id);
				below(b, who);
				authres_free(&tmp);
				goto out;
			}
			*a = tmp;
			found = 1;
			break;
		}
		if (nseen++ < 3) {
			buf_appendf(b, nseen == 1 ? " (found only: " : ", ");
			show(b, tmp.authserv_id != NULL ? tmp.authserv_id : "Microsoft 365 without an id");
		}
		authres_free(&tmp);
	}
	if (found) {
		r = 0;
		goto out;
	}
	{
		char *seen = buf_steal(b);

		buf_appendf(b, "no Authentication-Results from ");
		show(b, p->authserv_id);
		buf_appendf(b, "%s", seen != NULL ? seen : "");
		free(seen);
	}
	if (nseen > 0)
		buf_appendf(b, "%s; is authserv_id in the configuration right?)",
		    nseen > 3 ? ", ..." : "");
	else if (nar > 0)
		buf_appendf(b, " (only unreadable Authentication-Results headers: is "
		    "authserv_id in the configuration right?)");
	else
		buf_appendf(b, " (no Authentication-Results at all: is authserv_id in the "
		    "configuration right, and does that server check incoming mail?)");
 out:
	free(who);
	if (r == 0)
		buf_reset(b);
	return r;
}

/* X-MS-Exchange-Organization-AuthAs says "Internal" (white space around allowed). */
static int
is_internal(const char *v)
{
	char *s;
	size_t n;
	int r;

	while (is_wsp(*v))
		v++;
	n = strnlen(v, AUTHRES_SHOW_MAX);
	while (n > 0 && is_wsp(v[n - 1]))
		n--;
	s = xstrndup(v, n);
	r = str_casecmp(s, "internal") == 0;
	free(s);
	return r;
}

/* The verdict on the chosen header: 1 or 0, with the reason in b. */
static int
judge(const struct authres *a, const char *fd, const struct authres_policy *p, struct buf *b)
{
	const struct authres_result *dmarc, *compauth;
	const char *hfrom, *v, *method = NULL;
	int ok = 0;

	dmarc = find_result(a, "dmarc", "fail");
	if (dmarc == NULL)
		dmarc = find_result(a, "dmarc", NULL);
	compauth = p->microsoft ? find_result(a, "compauth", NULL) : NULL;
	hfrom = dmarc != NULL ? authres_prop(dmarc, "header.from") : NULL;

	if (dmarc != NULL && hfrom != NULL && str_casecmp(domain_of(hfrom), fd) != 0) {
		buf_appendf(b, "dmarc=");
		show(b, dmarc->result);
		buf_appendf(b, " is for header.from=");
		show(b, hfrom);
		buf_appendf(b, ", not for the From domain ");
		show(b, fd);
	} else if (dmarc != NULL && strcmp(dmarc->result, "pass") == 0) {
		buf_appendf(b, "dmarc=pass for ");
		show(b, fd);
		ok = 1;
	} else if (dmarc != NULL && strcmp(dmarc->result, "fail") == 0) {
		buf_appendf(b, "dmarc=fail for ");
		show(b, fd);
		buf_appendf(b, ": the From address is forged, or its domain's mail "
		    "is not set up to authenticate");
	} else if (p->microsoft && dmarc != NULL && strcmp(dmarc->result, "none") == 0 &&
	    is_tenant_domain(p, fd) && find_result(a, "compauth", "fail") == NULL) {
		buf_appendf(b, "dmarc=none from the tenant's own domain ");
		show(b, fd);
		ok = 1;
	} else if (compauth != NULL && strcmp(compauth->result, "pass") == 0) {
		buf_appendf(b, "compauth=pass for ");
		show(b, fd);
		ok = 1;
	} else if (dmarc == NULL && (v = aligned_pass(a, fd, &method)) != NULL) {
		buf_appendf(b, "%s=pass for ", method);
		show(b, v);
		buf_appendf(b, ", aligned with ");
		show(b, fd);
		ok = 1;
	} else {
		buf_appendf(b, "no dmarc=pass%s for ", dmarc == NULL ?
		    " nor aligned dkim=pass or spf=pass" : "");
		show(b, fd);
		buf_appendf(b, "; results: ");
		summarise(b, a);
	}
	source(b, a);
	return ok;
}

int
authres_sender_authenticated(const struct authres_input *in, const struct authres_policy *p,
    char **why)
{
	struct authres a = { 0 };
	struct buf b = { 0 };
	int ok = 0;

	*why = NULL;
	if (in->from_domain == NULL || *in->from_domain == '\0') {
		buf_appendf(&b, "the From address has no domain, so no sender "
		    "authentication can apply to it");
		goto out;
	}
	/* Exchange's own word, but only for the tenant's own domains: mail
	 * from inside the tenant with a From of someone else's domain is no
	 * proof of that domain. */
	if (p->microsoft && in->ms_authas != NULL && is_internal(in->ms_authas) &&
	    is_tenant_domain(p, in->from_domain)) {
		buf_appendf(&b, "internal to the tenant "
		    "(X-MS-Exchange-Organization-AuthAs: Internal, From domain ");
		show(&b, in->from_domain);
		buf_appendf(&b, " is one of tenant_domains)");
		ok = 1;
		goto out;
	}
	if (select_header(in, p, &a, &b) != 0)
		goto out;
	ok = judge(&a, in->from_domain, p, &b);
 out:
	authres_free(&a);
	*why = buf_steal(&b);
	return ok;
}
