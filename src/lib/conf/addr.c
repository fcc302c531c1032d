/* addr.c - plain mail addresses for envelopes and headers; see addr.h. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "error.h"
#include "util.h"

#define ADDR_MAX	254	/* RFC 5321 4.5.3.1.3 path limit (less <>) */

int
addr_check(const char *what, const char *addr, char **errstr)
{
	const char *p;

	if (addr == NULL || *addr == '\0' || strlen(addr) > ADDR_MAX ||
	    strchr(addr, '@') == NULL)
		goto bad;
	for (p = addr; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			goto bad;
	return 0;
bad:
	return m2c_fail(errstr, M2C_E_DATA, "the %s address is not "
	    "a plain address (name@domain)", what);
}

int
addr_parse_from(const char *from, char **name, char **addr, char **errstr)
{
	const char *lt = from ? strrchr(from, '<') : NULL;
	size_t len = from ? strlen(from) : 0, n;
	int r;

	*name = NULL;
	*addr = NULL;
	if (lt == NULL || len < 2 || from[len - 1] != '>') {
		*addr = xstrdup(from ? from : "");
	} else {
		*addr = xstrndup(lt + 1, (size_t)(from + len - 1 - (lt + 1)));
		while (from < lt && (*from == ' ' || *from == '"'))
			from++;
		for (n = (size_t)(lt - from); n > 0 &&
		    (from[n - 1] == ' ' || from[n - 1] == '"'); n--)
			;
		if (n > 0)
			*name = xstrndup(from, n);
	}
	if ((r = addr_check("sender (replies.from or the account's username)", *addr,
	    errstr)) != 0) {
		free(*name);
		free(*addr);
		*name = *addr = NULL;
	}
	return r;
}
