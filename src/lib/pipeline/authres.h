/*
 * authres.h - Authentication-Results (RFC 8601) and the sender verdict.
 *
 * Whether the From address of a message can be believed is decided only
 * from what the mailbox provider itself stamped on the message when it
 * arrived, never from anything the sender could write.  The sender writes
 * everything below the Received header of the hop that took the message
 * from the sender's side, so only the top of the header block counts
 * (RFC 8601 section 5): the trusted zone runs from the top down to the
 * first Received header that is not the provider's own.  A Received is the
 * provider's when its "by" host is the authserv-id, or inside the
 * authserv-id's parent domain ("mx.example.org": *.example.org, so an
 * LMTP hop on top counts too; "mx.google.com": *.google.com), or a bare
 * IP address (Google's internal hops write only that); for Microsoft 365,
 * a Microsoft host (*.outlook.com, *.office365.com, *.microsoft.com).
 *
 *  - With an authserv_id (the provider names itself: "mx.google.com", the
 *    organisation's own MX): the trusted header is the topmost
 *    Authentication-Results carrying that authserv-id, when it is in the
 *    zone; one lower down, or below the zone, may have come from the
 *    sender and is never read (nor merged with it: a sender could add a
 *    pass the provider never gave).
 *  - Microsoft 365 writes its header without an authserv-id: there the
 *    topmost Authentication-Results header counts, when it is in the zone
 *    and has no authserv-id (or one of Microsoft's own, "*.outlook.com",
 *    "*.protection.outlook.com", "*.office365.com"...).  Mail from inside
 *    the tenant is authenticated: X-MS-Exchange-Organization-AuthAs:
 *    Internal (Exchange strips X-MS-Exchange-Organization-* from mail that
 *    enters from outside) when the From domain is one of tenant_domains,
 *    or dmarc=none from one of the tenant's own domains with no
 *    compauth=fail.
 *
 * A verdict passes when dmarc=pass for the From domain (header.from equal
 * to it when given); or, with no dmarc result at all, dkim=pass with
 * header.d (or header.i's domain) aligned to the From domain, or spf=pass
 * with smtp.mailfrom's domain aligned (relaxed alignment: one domain equal
 * to the other or a subdomain of it); or, at Microsoft, compauth=pass when
 * dmarc is not fail.  dmarc=fail, or anything else, fails.
 *
 * Header values are untrusted: any bytes, any length; the parser keeps at
 * most AUTHRES_MAX_RESULTS results of a header and ignores the rest.
 */
#ifndef M2C_AUTHRES_H
#define M2C_AUTHRES_H

#include <stddef.h>

#define AUTHRES_MAX_RESULTS 32

/* One "method=result (comment) ptype.property=value ..." of a header. */
struct authres_result {
	char *method;		/* lower-case: "dmarc", "dkim", "spf", "compauth", ... */
	char *result;		/* lower-case: "pass", "fail", "none", ... */
	char *reason;		/* "reason=..." value (compauth's code), or NULL */
	char **props;		/* "header.from=contoso.com" ..., ptype.property lower-case,
				 * value as written without quotes */
	size_t nprops;
};

/* One parsed header; everything owned (authres_free). */
struct authres {
	char *authserv_id;	/* lower-case, or NULL when the header has none */
	struct authres_result *res;
	size_t nres;
};

/*
 * Parse one header value (unfolded or not; CRLF and comments allowed).
 * 0 and *out, or M2C_E_DATA with *errstr when nothing parseable is there.
 * "none" (RFC 8601: no authentication was done) parses to nres 0.
 */
int authres_parse(const char *value, struct authres *out, char **errstr);
void authres_free(struct authres *a);

/* The value of ptype.property ("header.from") in r, or NULL.  Borrowed. */
const char *authres_prop(const struct authres_result *r, const char *name);

/* A trace header: an Authentication-Results or a Received value. */
struct authres_header {
	int received;			/* 1: Received; 0: Authentication-Results */
	const char *value;		/* borrowed */
};

/* What the message says about itself; all borrowed. */
struct authres_input {
	const char *from_domain;	/* domain of the From address (lower-case) */
	const struct authres_header *headers;	/* the trace headers in order, topmost first */
	size_t nheaders;
	const char *ms_authas;		/* X-MS-Exchange-Organization-AuthAs, topmost, or NULL */
};

/*
 * The "by" host of a Received value ("from a.example by mx.example.org
 * with ESMTPS id ...; date"), lower-case, or NULL when it names none.
 * Allocated.
 */
char *authres_received_by(const char *value);

/* Whom to believe; all borrowed. */
struct authres_policy {
	const char *authserv_id;	/* NULL: Microsoft 365's header without one */
	int microsoft;			/* Microsoft 365 rules (AuthAs, compauth, tenant) */
	const char *const *tenant_domains;	/* the tenant's own domains (Microsoft) */
	size_t ntenant_domains;
};

/*
 * 1 when the sender is authenticated, 0 when not.  *why (allocated, never
 * NULL on return) says what decided it, for logs and the rejected folder:
 * "dmarc=pass for contoso.com (Authentication-Results of mx.example.org)",
 * "internal to the tenant (X-MS-Exchange-Organization-AuthAs: Internal)",
 * "dmarc=fail for contoso.com ...", "no Authentication-Results from
 * mx.example.org (is authserv_id right?)".
 */
int authres_sender_authenticated(const struct authres_input *in, const struct authres_policy *p,
    char **why);

#endif
