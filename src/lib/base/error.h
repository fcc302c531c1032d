/*
 * error.h - the one error convention of mail2cups.
 *
 * Every fallible function returns int: 0 on success, a negative M2C_E_* code
 * on failure.  Functions that can explain themselves take an optional
 * `char **errstr`: on failure it receives an allocated message (caller
 * frees), on success it is left untouched.  A message says what failed, why,
 * and what to do next.
 *
 * Each code is classed temporary (try again later: the message stays in the
 * mailbox) or permanent (retrying cannot help), and maps to one sysexits
 * code.  m2c_err_*() below is the only place those mappings live.
 */
#ifndef M2C_ERROR_H
#define M2C_ERROR_H

enum m2c_err {
	M2C_OK = 0,
	M2C_E_SYS = -1,		/* local OS or I/O failure (errno); temporary */
	M2C_E_CONFIG = -2,	/* configuration error; permanent, exit 78 */
	M2C_E_USAGE = -3,	/* bad command line; exit 64 */
	M2C_E_DATA = -4,	/* malformed input (mail, reply); permanent, 65 */
	M2C_E_UNAVAIL = -5,	/* server unreachable (IMAP, CUPS, IdP); temp, 69 */
	M2C_E_TEMP = -6,	/* temporary failure of another kind; 75 */
	M2C_E_AUTH = -7,	/* credentials refused (password, token, client secret); 77 */
	M2C_E_PROTO = -8,	/* the server broke the protocol; temporary, 69 */
	M2C_E_TLS = -9,		/* TLS handshake or verification failed; 69 */
	M2C_E_TIMEOUT = -10,	/* no answer in time; temporary, 75 */
	M2C_E_NOTSUP = -11,	/* not supported (yet); permanent, 78 */
	M2C_E_REFUSED = -12,	/* refused by policy (sender, type); permanent, 65 */
	M2C_E_LIMIT = -13,	/* a configured limit was exceeded; permanent, 65 */
	M2C_E_NOTFOUND = -14,	/* no such thing (queue, folder, row); permanent */
	M2C_E_SERVER = -15,	/* the server said NO to a command; permanent, 69 */
	M2C_E_SIGNIN = -16,	/* a person must sign in (no tokens, refresh token
				 * expired or revoked); permanent, 77 */
};

/* Nonzero when retrying later may succeed. */
int m2c_err_is_temporary(int err);
/* The sysexits(3) code a program exits with for this error. */
int m2c_err_exit_code(int err);
/* A short constant name for logs and tests ("temporary failure", ...). */
const char *m2c_err_name(int err);
/*
 * The code as a constant identifier, for data (status --json): the
 * M2C_E_ name in lower case without the prefix ("auth", "signin", ...);
 * "unknown" for any other value.
 */
const char *m2c_err_id(int err);

/*
 * The class of a failed system call's errno: a permission problem (EACCES,
 * EPERM, EROFS) is one an administrator fixes (chown, chmod, the right
 * user), so it is M2C_E_CONFIG (exit 78), never "try again later";
 * anything else is M2C_E_SYS.
 */
int m2c_err_from_errno(int errnum);

/*
 * Set *errstr (when errstr is not NULL) to a newly allocated message and
 * return err, so a failure path is one line:
 *     return m2c_fail(errstr, M2C_E_DATA, "%s: no printable part", name);
 * An existing *errstr is freed first.
 */
int m2c_fail(char **errstr, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
