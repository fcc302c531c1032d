/*
 * wake.c - the wake-up datagram: parser and writer; see wake.h.
 *
 * No allocation and no other module (error.h's codes only): the Dovecot
 * plugin compiles this file too.
 */
#include "m2c-config.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "utf8.h"
#include "wake.h"

#define WAKE_MAGIC	"mail2cups-wake "

/* A cursor over the datagram. */
struct cur {
	const char *p, *end;
};

/*
 * The next line's value after "KEY " (without the "\n"): 1, or 0 when the
 * next line is not KEY or has no "\n" (what is wrong in *why).
 */
static int
take_line(struct cur *c, const char *key, const char **val, size_t *vlen, const char **why)
{
	size_t klen = strlen(key);
	const char *nl;

	if ((size_t)(c->end - c->p) <= klen || memcmp(c->p, key, klen) != 0 ||
	    c->p[klen] != ' ') {
		*why = "a field is missing, unknown or out of order";
		return 0;
	}
	c->p += klen + 1;
	if ((nl = memchr(c->p, '\n', (size_t)(c->end - c->p))) == NULL) {
		*why = "the last line has no newline";
		return 0;
	}
	*val = c->p;
	*vlen = (size_t)(nl - c->p);
	c->p = nl + 1;
	return 1;
}

/* A user or mailbox name: 1..max bytes of UTF-8 without control characters. */
static int
valid_name(const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	if (len == 0 || len > max)
		return 0;
	while (i < len) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return 0;
		if ((n = utf8_seq(u + i, len - i, NULL)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/*
 * The field key's line, a name (valid_name) copied into out (size bytes,
 * room for its NUL); bad says why it is not one.  1, or 0 with *why set.
 */
static int
take_name(struct cur *c, const char *key, char *out, size_t size, const char *bad,
    const char **why)
{
	const char *v;
	size_t vlen;

	if (!take_line(c, key, &v, &vlen, why))
		return 0;
	if (!valid_name(v, vlen, size - 1)) {
		*why = bad;
		return 0;
	}
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 1;
}

/*
 * A nonzero 32-bit decimal number at *p (before end), no sign or leading
 * zero; advances *p past it.  1, or 0.
 */
static int
take_number(const char **p, const char *end, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '1' || *s > '9')
		return 0;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s++ - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	*p = s;
	*out = (uint32_t)v;
	return 1;
}

static int
parse_uids(const char *s, size_t len, struct wake *w, const char **why)
{
	const char *p = s, *end = s + len;

	w->nuids = 0;
	for (;;) {
		struct wake_range r;

		if (!take_number(&p, end, &r.first)) {
			*why = "a UID is not a nonzero 32-bit number";
			return 0;
		}
		r.last = r.first;
		if (p < end && *p == ':') {
			p++;
			if (!take_number(&p, end, &r.last)) {
				*why = "a UID is not a nonzero 32-bit number";
				return 0;
			}
			if (r.last < r.first) {
				*why = "a UID range is backwards";
				return 0;
			}
		}
		if (w->nuids > 0 && r.first <= w->uids[w->nuids - 1].last) {
			*why = "the UIDs are not ascending";
			return 0;
		}
		if (w->nuids == WAKE_MAX_RANGES) {
			*why = "too many UID ranges";
			return 0;
		}
		w->uids[w->nuids++] = r;
		if (p == end)
			return 1;
		if (*p++ != ',') {
			*why = "the UID set has a stray character";
			return 0;
		}
	}
}

int
wake_parse(const void *buf, size_t len, struct wake *out, const char **why)
{
	struct cur c = { buf, (const char *)buf + len };
	const char *v, *dummy;
	size_t vlen;

	if (why == NULL)
		why = &dummy;
	if (len > WAKE_MAX_SIZE) {
		*why = "longer than any wake-up datagram";
		return M2C_E_DATA;
	}
	if (memchr(buf, '\0', len) != NULL) {
		*why = "it holds a NUL byte";
		return M2C_E_DATA;
	}
	if (len < sizeof(WAKE_MAGIC) - 1 || memcmp(buf, WAKE_MAGIC, sizeof(WAKE_MAGIC) - 1) != 0) {
		*why = "not a mail2cups wake-up datagram";
		return M2C_E_DATA;
	}
	if (!take_line(&c, "mail2cups-wake", &v, &vlen, why))
		return M2C_E_DATA;
	if (vlen != 1 || v[0] != '0' + WAKE_VERSION) {
		*why = "its version is not understood (the plugin and the daemon are of "
		    "different releases?)";
		return M2C_E_DATA;
	}
	if (!take_name(&c, "user", out->user, sizeof(out->user),
	    "the user name is empty, too long, or not clean UTF-8", why) ||
	    !take_name(&c, "mailbox", out->mailbox, sizeof(out->mailbox),
	    "the mailbox name is empty, too long, or not clean UTF-8", why))
		return M2C_E_DATA;
	if (!take_line(&c, "uidvalidity", &v, &vlen, why))
		return M2C_E_DATA;
	if (!take_number(&v, v + vlen, &out->uidvalidity) || v != c.p - 1) {
		*why = "the UIDVALIDITY is not a nonzero 32-bit number";
		return M2C_E_DATA;
	}
	if (!take_line(&c, "uids", &v, &vlen, why))
		return M2C_E_DATA;
	if (!parse_uids(v, vlen, out, why))
		return M2C_E_DATA;
	if (c.p != c.end) {
		*why = "something follows the last field";
		return M2C_E_DATA;
	}
	return 0;
}

int
wake_add_range(struct wake *w, uint32_t first, uint32_t last)
{
	struct wake_range *prev = w->nuids > 0 ? &w->uids[w->nuids - 1] : NULL;

	if (first == 0 || last < first || (prev != NULL && first <= prev->last))
		return M2C_E_DATA;
	if (prev != NULL && (first == prev->last + 1 || w->nuids == WAKE_MAX_RANGES)) {
		prev->last = last;
		return 0;
	}
	w->uids[w->nuids].first = first;
	w->uids[w->nuids].last = last;
	w->nuids++;
	return 0;
}

int
wake_format(const struct wake *w, char *buf, size_t size)
{
	size_t ulen = strnlen(w->user, sizeof(w->user));
	size_t mlen = strnlen(w->mailbox, sizeof(w->mailbox));
	size_t len, i;
	int n;

	if (!valid_name(w->user, ulen, WAKE_MAX_USER) ||
	    !valid_name(w->mailbox, mlen, WAKE_MAX_MAILBOX) || w->uidvalidity == 0 ||
	    w->nuids == 0 || w->nuids > WAKE_MAX_RANGES)
		return M2C_E_DATA;
	if (size > WAKE_MAX_SIZE + 1)
		size = WAKE_MAX_SIZE + 1;
	n = snprintf(buf, size, WAKE_MAGIC "%d\nuser %s\nmailbox %s\nuidvalidity %u\nuids ",
	    WAKE_VERSION, w->user, w->mailbox, (unsigned)w->uidvalidity);
	if (n < 0 || (size_t)n >= size)
		return M2C_E_DATA;
	len = (size_t)n;
	for (i = 0; i < w->nuids; i++) {
		const struct wake_range *r = &w->uids[i];

		if (r->first == 0 || r->last < r->first ||
		    (i > 0 && r->first <= w->uids[i - 1].last))
			return M2C_E_DATA;
		if (r->first == r->last)
			n = snprintf(buf + len, size - len, "%s%u", i ? "," : "", (unsigned)r->first);
		else
			n = snprintf(buf + len, size - len, "%s%u:%u", i ? "," : "",
			    (unsigned)r->first, (unsigned)r->last);
		if (n < 0 || (size_t)n >= size - len)
			return M2C_E_DATA;
		len += (size_t)n;
	}
	if (len + 1 >= size)
		return M2C_E_DATA;
	buf[len++] = '\n';
	buf[len] = '\0';
	return (int)len;
}
