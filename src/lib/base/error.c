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

/* Each code: its identifier (data: status --json) and its name for people. */
static const struct {
	int err;
	const char *id;
	const char *name;
} err_names[] = {
	{ M2C_OK, "ok", "success" },
	{ M2C_E_SYS, "sys", "system error" },
	{ M2C_E_CONFIG, "config", "configuration error" },
	{ M2C_E_USAGE, "usage", "usage error" },
	{ M2C_E_DATA, "data", "bad input data" },
	{ M2C_E_UNAVAIL, "unavail", "service unavailable" },
	{ M2C_E_TEMP, "temp", "temporary failure" },
	{ M2C_E_AUTH, "auth", "credentials refused" },
	{ M2C_E_SIGNIN, "signin", "sign-in required" },
	{ M2C_E_PROTO, "proto", "protocol error" },
	{ M2C_E_TLS, "tls", "TLS error" },
	{ M2C_E_TIMEOUT, "timeout", "timed out" },
	{ M2C_E_NOTSUP, "notsup", "not supported" },
	{ M2C_E_REFUSED, "refused", "refused" },
	{ M2C_E_LIMIT, "limit", "limit exceeded" },
	{ M2C_E_NOTFOUND, "notfound", "not found" },
	{ M2C_E_SERVER, "server", "refused by server" },
};

/* err's identifier (want_id) or name from err_names, or NULL. */
static const char *
err_lookup(int err, int want_id)
{
	for (size_t i = 0; i < ARRAY_SIZE(err_names); i++)
		if (err_names[i].err == err)
			return want_id ? err_names[i].id : err_names[i].name;
	return NULL;
}

const char *
m2c_err_name(int err)
{
	const char *s = err_lookup(err, 0);

	return s != NULL ? s : "unknown error";
}

const char *
m2c_err_id(int err)
{
	const char *s = err_lookup(err, 1);

	return s != NULL ? s : "unknown";
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
