/* error.c - error classes and their exit codes; see error.h. */
#include "m2c-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sysexits.h>

#include "error.h"
#include "util.h"

int
m2c_err_is_temporary(int err)
{
	switch (err) {
	case M2C_E_SYS:
	case M2C_E_UNAVAIL:
	case M2C_E_TEMP:
	case M2C_E_PROTO:
	case M2C_E_TLS:
	case M2C_E_TIMEOUT:
		return 1;
	default:
		return 0;
	}
}

int
m2c_err_from_errno(int errnum)
{
	switch (errnum) {
	case EACCES:
	case EPERM:
	case EROFS:
		return M2C_E_CONFIG;
	default:
		return M2C_E_SYS;
	}
}

int
m2c_err_exit_code(int err)
{
	switch (err) {
	case M2C_OK:
		return EX_OK;
	case M2C_E_USAGE:
		return EX_USAGE;
	case M2C_E_DATA:
	case M2C_E_REFUSED:
	case M2C_E_LIMIT:
		return EX_DATAERR;
	case M2C_E_UNAVAIL:
	case M2C_E_PROTO:
	case M2C_E_TLS:
	case M2C_E_SERVER:
	case M2C_E_NOTFOUND:
		return EX_UNAVAILABLE;
	case M2C_E_AUTH:
	case M2C_E_SIGNIN:
		return EX_NOPERM;
	case M2C_E_CONFIG:
	case M2C_E_NOTSUP:
		return EX_CONFIG;
	case M2C_E_SYS:
	case M2C_E_TEMP:
	case M2C_E_TIMEOUT:
	default:
		return EX_TEMPFAIL;
	}
}

const char *
m2c_err_name(int err)
{
	switch (err) {
	case M2C_OK: return "success";
	case M2C_E_SYS: return "system error";
	case M2C_E_CONFIG: return "configuration error";
	case M2C_E_USAGE: return "usage error";
	case M2C_E_DATA: return "bad input data";
	case M2C_E_UNAVAIL: return "service unavailable";
	case M2C_E_TEMP: return "temporary failure";
	case M2C_E_AUTH: return "credentials refused";
	case M2C_E_SIGNIN: return "sign-in required";
	case M2C_E_PROTO: return "protocol error";
	case M2C_E_TLS: return "TLS error";
	case M2C_E_TIMEOUT: return "timed out";
	case M2C_E_NOTSUP: return "not supported";
	case M2C_E_REFUSED: return "refused";
	case M2C_E_LIMIT: return "limit exceeded";
	case M2C_E_NOTFOUND: return "not found";
	case M2C_E_SERVER: return "refused by server";
	default: return "unknown error";
	}
}

int
m2c_fail(char **errstr, int err, const char *fmt, ...)
{
	va_list ap;

	if (errstr == NULL)
		return err;
	free(*errstr);
	va_start(ap, fmt);
	*errstr = xvasprintf(fmt, ap);
	va_end(ap);
	return err;
}
