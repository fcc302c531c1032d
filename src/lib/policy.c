/* policy.c - sender allow list; see policy.h. */
#include "m2c-config.h"

#include <string.h>

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
