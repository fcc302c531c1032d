/*
 * util.h - no-fail allocation, strings, secrets and private files.
 *
 * The x*() allocators never return NULL: on out-of-memory they log and exit
 * with EX_OSERR (isync, msmtp).  Everything returned here is allocated and
 * the caller frees it, unless said otherwise.
 */
#ifndef M2C_UTIL_H
#define M2C_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Wipe then free a secret (password, token). NULL is fine. */
void free_secret(char *s);
/* explicit_bzero where the C library has it. */
void wipe(void *p, size_t n);

/* A growable byte buffer, always NUL-terminated (data may hold NULs). */
struct buf {
	char *data;	/* owned; NULL until the first append */
	size_t len;
	size_t cap;
};
void buf_append(struct buf *b, const void *p, size_t n);
void buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vappendf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_appendc(struct buf *b, char c);
void buf_reset(struct buf *b);	/* len = 0, keeps memory */
void buf_free(struct buf *b);	/* frees and zeroes the struct */
void buf_free_secret(struct buf *b);	/* wipes the whole allocation first */
/* Hand the contents to the caller (allocated, NUL-terminated, never NULL). */
char *buf_steal(struct buf *b);

/*
 * Text from elsewhere (a server, an identity provider), safe to show on a
 * terminal or in a log: the first len bytes of s (at most max, cut on a
 * UTF-8 boundary and marked "..."), with every control character (C0,
 * DEL, and the C1 controls U+0080..U+009F such as CSI) and every byte that
 * is not valid UTF-8 replaced by '?', so no escape sequence gets through.
 * Allocated.
 */
char *str_for_terminal(const char *s, size_t len, size_t max);

/* ASCII-only, locale-independent helpers. */
int str_casecmp(const char *a, const char *b);
int str_has_prefix(const char *s, const char *prefix);
/* The value of a hexadecimal digit, or -1. */
int hex_digit(char c);
/* in[0..n) as 2n lowercase hex digits and a NUL into out (2n + 1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* localhost, 127.0.0.0/8 or ::1 (optionally in brackets): a loopback host name. */
int host_is_loopback(const char *host);
/* Match a shell-like pattern with '*' and '?', ASCII case-insensitively. */
int str_wildcard_match(const char *pattern, const char *s);

/* The folder holding path, allocated: "/" for "/x", "." for "x". */
char *path_dir(const char *path);

/*
 * Create directory path (and missing parents) with the given mode; an
 * existing directory is accepted only if it is a directory.  Returns 0 or
 * M2C_E_SYS with *errstr set.
 */
int mkdir_p(const char *path, mode_t mode, char **errstr);

/*
 * Create an unpredictably named file in dir, opened O_RDWR|O_CLOEXEC with
 * mode 0600.  *path_out receives its path (allocated).  The name is made
 * by mkostemp from `prefix` (which must be a safe fixed string, never
 * anything from a mail).  path_out NULL: an anonymous file instead, with
 * no name to remove (O_TMPFILE, else named and unlinked at once): it is
 * gone with its last fd, a crash included.  Returns the fd, or a negative
 * M2C_E_*.
 */
int private_tmpfile(const char *dir, const char *prefix, char **path_out, char **errstr);

/*
 * Remove name (relative to dirfd, or AT_FDCWD) and everything below it,
 * never following a symbolic link; a folder the owner took its own rights
 * away from is opened up first.  0, or -1 when something stayed (folders
 * nested deeper than RM_TREE_DEPTH stay).
 */
#define RM_TREE_DEPTH 64
int rm_tree_at(int dirfd, const char *name);

/*
 * Remove every entry of folder dir whose name starts with one of prefixes
 * (a NULL-terminated list of fixed strings), each with rm_tree_at; warns
 * (log_warn) for what stayed.  A missing dir is nothing to do.
 */
void rm_prefixed(const char *dir, const char *const *prefixes);

/* Close *fd when it is open (>= 0) and set it to -1. */
void fd_close(int *fd);

/* Write all of buf to fd, retrying on EINTR/short writes: 0 or M2C_E_SYS. */
int write_all(int fd, const void *buf, size_t len);

/* Duration parsing is in config; here: monotonic milliseconds. */
long long monotonic_ms(void);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The name of the enum value v in names[] (a table indexed by the enum),
 * or fallback when v is outside it or has no name there.
 */
#define ENUM_NAME(names, v, fallback) \
	((size_t)(v) < ARRAY_SIZE(names) && (names)[(size_t)(v)] != NULL ? \
	    (names)[(size_t)(v)] : (fallback))

/* Defines const char *fn(type v) returning ENUM_NAME(names, v, fallback). */
#define ENUM_NAME_FN(fn, type, names, fallback) \
	const char *fn(type v) { return ENUM_NAME(names, v, fallback); }

#endif
