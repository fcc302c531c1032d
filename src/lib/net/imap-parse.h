/*
 * imap-parse.h - a push parser for IMAP4rev1 server responses (no I/O).
 *
 * Implements the client side of RFC 3501 section 9 (response, resp-cond-*,
 * resp-text-code, continue-req, mailbox-data, message-data, literals),
 * RFC 7888 literal+ markers "{N+}" and RFC 3516 literal8 "~{N}".
 *
 * The caller feeds bytes as they arrive:
 *
 *     for (;;) {
 *             ev = imap_parser_feed(p, data, len, &used, &err);
 *             data += used; len -= used;
 *             switch (ev) {
 *             case IMAP_EV_NEED_MORE:	read more bytes; continue
 *             case IMAP_EV_RESPONSE:	r = imap_parser_take(p); ...; imap_resp_free(r)
 *             case IMAP_EV_LITERAL:	li = imap_parser_literal(p);
 *                                      imap_parser_literal_buffer(p)  (parser keeps it)
 *                                   or consume li->size bytes yourself, then
 *                                      imap_parser_literal_done(p)
 *             case IMAP_EV_ERROR:	err says why; the parser is dead
 *             }
 *     }
 *
 * Every size is bounded (struct imap_parse_limits): a hostile server gets
 * a protocol error, never unbounded memory.
 */
#ifndef M2C_IMAP_PARSE_H
#define M2C_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum imap_val_type {
	IMAP_VAL_ATOM,		/* str: the atom, with any [section]<partial> */
	IMAP_VAL_NUMBER,	/* num (str holds the digits too) */
	IMAP_VAL_QUOTED,	/* str/len: unescaped contents */
	IMAP_VAL_LITERAL,	/* str/len: contents; str NULL when streamed */
	IMAP_VAL_NIL,
	IMAP_VAL_LIST,		/* items/nitems */
};

struct imap_val {
	enum imap_val_type type;
	char *str;		/* owned, NUL-terminated (may hold NULs: see len) */
	size_t len;		/* bytes in str; for a literal: its declared size */
	uint64_t num;
	int streamed;		/* literal consumed by the caller, str is NULL */
	struct imap_val *items;	/* owned array (LIST) */
	size_t nitems;
	size_t cap;
};

enum imap_resp_kind { IMAP_RESP_TAGGED, IMAP_RESP_UNTAGGED, IMAP_RESP_CONTINUE };

enum imap_status {
	IMAP_ST_NONE,		/* untagged data (EXISTS, FETCH, LIST...) */
	IMAP_ST_OK, IMAP_ST_NO, IMAP_ST_BAD, IMAP_ST_PREAUTH, IMAP_ST_BYE,
};

struct imap_resp {
	enum imap_resp_kind kind;
	char *tag;		/* owned; tagged responses only, else NULL */
	enum imap_status status;
	int has_num;		/* "* 12 FETCH": num = 12 */
	uint32_t num;
	char *name;		/* owned, upper case: "OK", "FETCH", "CAPABILITY"...; NULL for "+" */
	char *code;		/* owned, upper case response code ("UIDVALIDITY") or NULL */
	struct imap_val code_args;	/* LIST: the code's arguments */
	char *text;		/* owned: status / continuation text ("" when none) */
	struct imap_val args;	/* LIST: the values after name (data responses) */
};

struct imap_parse_limits {
	size_t max_line;	/* one line (between literals), bytes */
	size_t max_depth;	/* list nesting */
	size_t max_items;	/* values in one response */
	size_t max_buffered;	/* all lines + buffered literals + tree of one response */
	size_t max_literal;	/* largest literal imap_parser_literal_buffer() accepts */
};

/* The defaults: 1 MiB line, depth 32, 200000 items, 16 MiB, 1 MiB literal. */
extern const struct imap_parse_limits imap_parse_default_limits;

enum imap_event { IMAP_EV_NEED_MORE, IMAP_EV_RESPONSE, IMAP_EV_LITERAL, IMAP_EV_ERROR };

/* What a literal that just began belongs to (all borrowed from the parser). */
struct imap_literal_info {
	uint64_t size;
	int binary;		/* literal8 ~{N} */
	int nonsync;		/* {N+} */
	const struct imap_resp *resp;	/* the response so far (kind, tag, name, num) */
	const char *item;	/* the atom just before it ("BODY[]", "RFC822") or NULL */
	int in_code;		/* inside a [response code] */
};

struct imap_parser;

/* limits NULL: the defaults.  Never NULL (allocation cannot fail). */
struct imap_parser *imap_parser_new(const struct imap_parse_limits *limits);
void imap_parser_destroy(struct imap_parser **p);

/* Called with every protocol line (no CRLF, never literal contents). */
void imap_parser_set_trace(struct imap_parser *p,
    void (*trace)(const char *line, size_t len, void *arg), void *arg);

/*
 * Consume bytes until an event or the end of data; *used = bytes consumed.
 * IMAP_EV_ERROR: *errstr (optional) gets an allocated message; every later
 * call returns IMAP_EV_ERROR again.
 */
enum imap_event imap_parser_feed(struct imap_parser *p, const void *data, size_t len,
    size_t *used, char **errstr);

/* After IMAP_EV_RESPONSE: the response (caller frees with imap_resp_free). */
struct imap_resp *imap_parser_take(struct imap_parser *p);

/* After IMAP_EV_LITERAL: what begins (borrowed, valid until the decision). */
const struct imap_literal_info *imap_parser_literal(const struct imap_parser *p);
/* Decision 1: the parser stores the literal; -1 when above max_literal (dead). */
int imap_parser_literal_buffer(struct imap_parser *p);
/* Decision 2: the caller consumed exactly size bytes itself. */
void imap_parser_literal_done(struct imap_parser *p);

void imap_resp_free(struct imap_resp *r);

/* Helpers over values; NULL-safe. */
const struct imap_val *imap_list_get(const struct imap_val *list, size_t i);
/* In a FETCH list (name value name value...): the value of item, or NULL. */
const struct imap_val *imap_fetch_item(const struct imap_val *list, const char *item);
/* atom/number/quoted/buffered literal text, else NULL (borrowed). */
const char *imap_val_str(const struct imap_val *v);
/* 0 and *out for a NUMBER (or an atom of digits) that fits, else -1. */
int imap_val_number(const struct imap_val *v, uint64_t *out);

#endif
