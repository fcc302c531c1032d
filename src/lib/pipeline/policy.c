/* policy.c - who may print, and who may get a reply; see policy.h. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "error.h"
#include "policy.h"
#include "util.h"

/* An addr-spec we are willing to match at all: one '@', no controls, no spaces. */
static int
plausible_address(const char *addr)
{
	const char *at = strchr(addr, '@');

	if (at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (const char *p = addr; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
policy_check_sender(const struct conf_strlist *allow, const char *addr, char **errstr)
{
	if (addr == NULL || *addr == '\0')
		return m2c_fail(errstr, M2C_E_REFUSED,
		    "the message has no From address; only allow_senders may print");
	if (!plausible_address(addr))
		return m2c_fail(errstr, M2C_E_REFUSED,
		    "sender address \"%s\" is malformed", addr);
	if (allow->n == 0)
		return m2c_fail(errstr, M2C_E_REFUSED,
		    "sender %s is not allowed: allow_senders is empty, so nobody may print "
		    "(add the address or \"*@domain\" to allow_senders)", addr);
	for (size_t i = 0; i < allow->n; i++)
		if (str_wildcard_match(allow->v[i], addr))
			return 0;
	return m2c_fail(errstr, M2C_E_REFUSED,
	    "sender %s is not in allow_senders (add it, or \"*@%s\", to "
	    "allow_senders to let it print)", addr, strchr(addr, '@') + 1);
}

/* The sender's domain (after the '@'), or "". Borrowed. */
static const char *
domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : "";
}

/* Judge the provider's verdict on m's sender, when a has a way to. */
static void
judge_sender(const struct conf_account *a, const struct mime_message *m, struct policy_verdict *v)
{
	struct authres_input in = { 0 };
	struct authres_policy pol = { 0 };
	struct authres_header *h;

	if (!conf_account_judges_senders(a))
		return;		/* nobody whose word we could take */
	h = xcalloc(m->ntrace + 1, sizeof(*h));
	for (size_t i = 0; i < m->ntrace; i++) {
		h[i].received = m->trace[i].received;
		h[i].value = m->trace[i].value;
	}
	pol.microsoft = a->oauth.provider == CONF_PROVIDER_MICROSOFT;
	pol.authserv_id = a->authserv_id;
	pol.tenant_domains = (const char *const *)a->tenant_domains.v;
	pol.ntenant_domains = a->tenant_domains.n;
	in.from_domain = domain_of(m->from_addr);
	in.headers = h;
	in.nheaders = m->ntrace;
	in.ms_authas = m->ms_authas;
	v->known = 1;
	v->authenticated = authres_sender_authenticated(&in, &pol, &v->why);
	free(h);
}

int
policy_check_message(const struct conf_account *a, const struct mime_message *m,
    struct policy_verdict *v, char **errstr)
{
	const char *addr = m->from_addr;
	int r;

	memset(v, 0, sizeof(*v));
	/* Step 1: one From address.  With several, who sent it is anyone's
	 * guess (RFC 5322 asks for a Sender then, which the sender writes too). */
	if (m->nfrom > 1)
		return m2c_fail(errstr, M2C_E_REFUSED, "the message has %zu From addresses "
		    "(%s): a message prints only when it has exactly one sender (see SENDER "
		    "TRUST in mail2cups.conf(5)); send it again from one address", m->nfrom,
		    m->from_list ? m->from_list : addr ? addr : "?");
	if (addr != NULL && plausible_address(addr))
		judge_sender(a, m, v);
	if ((r = policy_check_sender(&a->allow_senders, addr, errstr)) != 0)
		return r;
	for (size_t i = 0; i < a->deny_senders.n; i++)
		if (str_wildcard_match(a->deny_senders.v[i], addr))
			return m2c_fail(errstr, M2C_E_REFUSED, "sender %s is in deny_senders "
			    "(\"%s\"); remove it there to let it print", addr, a->deny_senders.v[i]);
	if (a->authenticated_senders_only && !v->authenticated)
		return m2c_fail(errstr, M2C_E_REFUSED, "sender %s is not authenticated by the "
		    "mailbox provider (%s), and authenticated_senders_only is set: a forged From "
		    "is not printed", addr, v->why ? v->why : "no verdict to read");
	return 0;
}

void
policy_verdict_clear(struct policy_verdict *v)
{
	free(v->why);
	memset(v, 0, sizeof(*v));
}

int
policy_from_trusted(const struct conf_account *a, const struct policy_verdict *v)
{
	return (v->known && v->authenticated) || a->trust_unauthenticated_from;
}

/* Local parts that are machines, not people (RFC 3834 section 2). */
static int
machine_local_part(const char *addr)
{
	static const char *const machines[] = {
		"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply",
		"donotreply", "bounce", "bounces", "listserv", "majordomo", "owner-*",
		"*-request", "*-bounces", "*-owner",
	};
	const char *at = strrchr(addr, '@');
	char local[65];
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	if (n >= sizeof(local))
		return 0;
	memcpy(local, addr, n);
	local[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(machines); i++)
		if (str_wildcard_match(machines[i], local))
			return 1;
	return 0;
}

int
policy_may_reply(const struct conf_account *a, const struct mime_message *m,
    const struct policy_verdict *v, const char **why)
{
	const char *addr = m->from_addr;

	if (addr == NULL || !plausible_address(addr))
		*why = "the message has no usable From address";
	else if (m->nfrom > 1)
		*why = "the message has more than one From address (whom to answer is a guess)";
	else if (!v->known || !v->authenticated)
		*why = "the sender is not authenticated by the mailbox provider (a forged From "
		    "must not get mail: no backscatter)";
	else if (m->return_path != NULL && *m->return_path == '\0')
		*why = "the message has a null Return-Path (a bounce or notification)";
	else if (m->auto_submitted)
		*why = "the message is Auto-Submitted (machines do not get replies)";
	else if (m->list_mail)
		*why = "the message came from a mailing list";
	else if (machine_local_part(addr))
		*why = "the sender is a mail system address";
	else if ((a->username != NULL && str_casecmp(addr, a->username) == 0) ||
	    (a->login_user != NULL && str_casecmp(addr, a->login_user) == 0))
		*why = "the sender is this mailbox itself (a reply would loop)";
	else
		return 1;
	return 0;
}
