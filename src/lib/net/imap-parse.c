/*
 * imap-parse.c - push parser for IMAP server responses; see imap-parse.h.
 *
 * Implements: RFC 3501 section 9 (the response grammar a client reads),
 * RFC 7888 ("{N+}"), RFC 3516 literal8 ("~{N}").  No I/O.
 *
 * The input is cut into lines; a line that ends with a literal marker is a
 * segment of a response that continues after the literal's bytes.  Each
 * segment is tokenised completely, so the tokeniser only has to remember
 * where in the grammar the next segment starts (phase) and which lists are
 * open (stack).
 */
#include "m2c-config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap-parse.h"
#include "util.h"

const struct imap_parse_limits imap_parse_default_limits = {
	.max_line = 1024 * 1024,
	.max_depth = 32,
	.max_items = 200000,
	.max_buffered = 16 * 1024 * 1024,
	.max_literal = 1024 * 1024,
};

enum pstate { P_LINE, P_LITERAL_DECIDE, P_LITERAL_DATA, P_DEAD };
/* Where the next segment of the response starts. */
enum phase { PH_HEAD, PH_VALUES, PH_CODE_VALUES };
/* Outcome of tokenising one segment. */
enum tok { TK_END, TK_CODE_END, TK_LITERAL, TK_ERROR };

struct imap_parser {
	struct imap_parse_limits lim;
	enum pstate st;
	enum phase phase;
	struct buf line;		/* the segment being read */
	struct imap_resp *resp;		/* owned; in progress */
	struct imap_resp *done;		/* owned; complete, not yet taken */
	struct imap_val **stack;	/* open lists; [0] is the root */
	size_t depth;
	size_t items, buffered;
	struct imap_val *lit;		/* foreign (in resp): literal being read */
	uint64_t lit_left;
	struct imap_literal_info li;
	void (*trace)(const char *, size_t, void *);
	void *trace_arg;
	char *err;			/* owned: why the parser died */
};

struct cur {
	const char *s;
	size_t n, i;
};

struct imap_parser *
imap_parser_new(const struct imap_parse_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	p->lim = limits ? *limits : imap_parse_default_limits;
	if (p->lim.max_depth < 1)
		p->lim.max_depth = 1;
	p->stack = xreallocarray(NULL, p->lim.max_depth + 1, sizeof(*p->stack));
	p->st = P_LINE;
	p->phase = PH_HEAD;
	return p;
}

static void
val_clear(struct imap_val *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nitems; i++)
		val_clear(&v->items[i]);
	free(v->items);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

void
imap_resp_free(struct imap_resp *r)
{
	if (r == NULL)
		return;
	free(r->tag);
	free(r->name);
	free(r->code);
	free(r->text);
	val_clear(&r->code_args);
	val_clear(&r->args);
	free(r);
}

/* Forget the response in progress and start over at a response head. */
static void
reset_response(struct imap_parser *p)
{
	imap_resp_free(p->resp);
	p->resp = NULL;
	p->phase = PH_HEAD;
	p->depth = 0;
	p->items = p->buffered = 0;
	p->lit = NULL;
}

void
imap_parser_destroy(struct imap_parser **pp)
{
	struct imap_parser *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	reset_response(p);
	imap_resp_free(p->done);
	buf_free_secret(&p->line);
	free(p->stack);
	free(p->err);
	free(p);
	*pp = NULL;
}

void
imap_parser_set_trace(struct imap_parser *p,
    void (*trace)(const char *line, size_t len, void *arg), void *arg)
{
	p->trace = trace;
	p->trace_arg = arg;
}

static enum tok __attribute__((format(printf, 2, 3)))
perr(struct imap_parser *p, const char *fmt, ...)
{
	static const char prefix[] = "IMAP protocol error: ";
	struct buf b = { 0 };
	va_list ap;

	buf_append(&b, prefix, sizeof(prefix) - 1);
	va_start(ap, fmt);
	buf_vappendf(&b, fmt, ap);
	va_end(ap);
	free(p->err);
	p->err = buf_steal(&b);
	p->st = P_DEAD;
	return TK_ERROR;
}

static int
is_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Decimal digits to uint64; -1 on overflow or non-digits. */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!is_digits(s, n))
		return -1;
	for (i = 0; i < n; i++) {
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static char *
upper_dup(const char *s, size_t n)
{
	char *r = xstrndup(s, n);
	char *q;

	for (q = r; *q; q++)
		if (*q >= 'a' && *q <= 'z')
			*q = (char)(*q - 'a' + 'A');
	return r;
}

static int
atom_stop(unsigned char c)
{
	return c == ' ' || c == '(' || c == ')' || c == '"' || c == '{' ||
	    c == ']' || c < 0x20 || c == 0x7f;
}

/*
 * An atom, with any "[section]" kept in it ("BODY[HEADER.FIELDS (A B)]<0>").
 * Sets *start and *len; -1 (with p->err) when empty or a section is unclosed.
 */
static int
scan_atom(struct imap_parser *p, struct cur *c, size_t *start, size_t *len)
{
	size_t nest;

	*start = c->i;
	while (c->i < c->n && !atom_stop((unsigned char)c->s[c->i])) {
		if (c->s[c->i] != '[') {
			c->i++;
			continue;
		}
		for (nest = 0; c->i < c->n; c->i++) {
			if (c->s[c->i] == '[')
				nest++;
			else if (c->s[c->i] == ']' && --nest == 0)
				break;
		}
		if (c->i >= c->n) {
			perr(p, "unterminated [section] in \"%.40s\"", c->s + *start);
			return -1;
		}
		c->i++;
	}
	*len = c->i - *start;
	if (*len == 0) {
		if (c->i < c->n)
			perr(p, "unexpected character 0x%02x", (unsigned char)c->s[c->i]);
		else
			perr(p, "unexpected end of line");
		return -1;
	}
	return 0;
}

/* Append a value to the innermost open list; NULL (dead) past a limit. */
static struct imap_val *
push_val(struct imap_parser *p, enum imap_val_type t, size_t bytes)
{
	struct imap_val *l = p->stack[p->depth - 1], *v;

	if (++p->items > p->lim.max_items) {
		perr(p, "more than %zu values in one response", p->lim.max_items);
		return NULL;
	}
	p->buffered += sizeof(*v) + bytes;
	if (p->buffered > p->lim.max_buffered) {
		perr(p, "response larger than %zu bytes", p->lim.max_buffered);
		return NULL;
	}
	if (l->nitems == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->items = xreallocarray(l->items, l->cap, sizeof(*l->items));
	}
	v = &l->items[l->nitems++];
	memset(v, 0, sizeof(*v));
	v->type = t;
	return v;
}

static enum tok
tok_quoted(struct imap_parser *p, struct cur *c)
{
	struct buf b = { 0 };
	struct imap_val *v;

	for (c->i++; c->i < c->n && c->s[c->i] != '"'; c->i++) {
		if (c->s[c->i] == '\\' && c->i + 1 < c->n)
			c->i++;
		buf_appendc(&b, c->s[c->i]);
	}
	if (c->i >= c->n) {
		buf_free(&b);
		return perr(p, "unterminated quoted string");
	}
	c->i++;
	if ((v = push_val(p, IMAP_VAL_QUOTED, b.len)) == NULL) {
		buf_free(&b);
		return TK_ERROR;
	}
	v->len = b.len;
	v->str = buf_steal(&b);
	return TK_END;
}

/* "{N}", "{N+}", "~{N}": must end the line. */
static enum tok
tok_literal(struct imap_parser *p, struct cur *c)
{
	struct imap_val *l, *v;
	size_t d0;
	uint64_t size;
	int binary = 0, nonsync = 0;

	if (c->s[c->i] == '~') {
		binary = 1;
		c->i++;
		if (c->i >= c->n || c->s[c->i] != '{')
			return perr(p, "'~' not followed by a literal");
	}
	d0 = ++c->i;
	while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
		c->i++;
	if (c->i - d0 > 19 || parse_u64(c->s + d0, c->i - d0, &size) != 0)
		return perr(p, "bad literal size");
	if (c->i < c->n && c->s[c->i] == '+') {
		nonsync = 1;
		c->i++;
	}
	if (c->i >= c->n || c->s[c->i] != '}' || c->i + 1 != c->n)
		return perr(p, "literal marker not at the end of the line");
	c->i++;
	if ((v = push_val(p, IMAP_VAL_LITERAL, 0)) == NULL)
		return TK_ERROR;
	v->len = (size_t)size;
	if ((uint64_t)v->len != size)
		return perr(p, "literal too large");
	p->lit = v;
	l = p->stack[p->depth - 1];
	memset(&p->li, 0, sizeof(p->li));
	p->li.size = size;
	p->li.binary = binary;
	p->li.nonsync = nonsync;
	p->li.resp = p->resp;
	p->li.in_code = p->phase == PH_CODE_VALUES;
	if (l->nitems >= 2 && l->items[l->nitems - 2].type == IMAP_VAL_ATOM)
		p->li.item = l->items[l->nitems - 2].str;
	p->st = P_LITERAL_DECIDE;
	return TK_LITERAL;
}

static enum tok
tok_atom(struct imap_parser *p, struct cur *c)
{
	struct imap_val *v;
	size_t start, len;
	uint64_t num;
	enum imap_val_type t = IMAP_VAL_ATOM;

	if (scan_atom(p, c, &start, &len) != 0)
		return TK_ERROR;
	if (parse_u64(c->s + start, len, &num) == 0)
		t = IMAP_VAL_NUMBER;
	else if (len == 3 && strncasecmp(c->s + start, "NIL", 3) == 0)
		t = IMAP_VAL_NIL;
	if ((v = push_val(p, t, len + 1)) == NULL)
		return TK_ERROR;
	if (t != IMAP_VAL_NIL) {
		v->str = xstrndup(c->s + start, len);
		v->len = len;
		v->num = t == IMAP_VAL_NUMBER ? num : 0;
	}
	return TK_END;
}

/* Values until the end of the segment (or "]" closing a response code). */
static enum tok
tokenize(struct imap_parser *p, struct cur *c)
{
	struct imap_val *v;
	enum tok t;
	char ch;

	while (c->i < c->n) {
		ch = c->s[c->i];
		if (ch == ' ') {
			c->i++;
		} else if (ch == '(') {
			if (p->depth > p->lim.max_depth)
				return perr(p, "lists nested deeper than %zu", p->lim.max_depth);
			if ((v = push_val(p, IMAP_VAL_LIST, 0)) == NULL)
				return TK_ERROR;
			p->stack[p->depth++] = v;
			c->i++;
		} else if (ch == ')') {
			if (p->depth <= 1)
				return perr(p, "unbalanced ')'");
			p->depth--;
			c->i++;
		} else if (ch == ']' && p->phase == PH_CODE_VALUES && p->depth == 1) {
			c->i++;
			return TK_CODE_END;
		} else if (ch == '"') {
			if ((t = tok_quoted(p, c)) != TK_END)
				return t;
		} else if (ch == '{' || ch == '~') {
			return tok_literal(p, c);
		} else if ((t = tok_atom(p, c)) != TK_END) {
			return t;
		}
	}
	if (p->phase == PH_CODE_VALUES)
		return perr(p, "unterminated [response code]");
	if (p->depth > 1)
		return perr(p, "unbalanced '('");
	return TK_END;
}

static void
set_text(struct imap_resp *r, struct cur *c)
{
	if (c->i < c->n && c->s[c->i] == ' ')
		c->i++;
	free(r->text);
	r->text = xstrndup(c->s + c->i, c->n - c->i);
	c->i = c->n;
}

static int
expect_sp(struct imap_parser *p, struct cur *c)
{
	if (c->i < c->n && c->s[c->i] == ' ') {
		c->i++;
		return 0;
	}
	perr(p, "expected a space at column %zu", c->i + 1);
	return -1;
}

static enum imap_status
status_word(const char *w)
{
	static const struct {
		const char *w;
		enum imap_status st;
	} tab[] = {
		{ "OK", IMAP_ST_OK }, { "NO", IMAP_ST_NO }, { "BAD", IMAP_ST_BAD },
		{ "PREAUTH", IMAP_ST_PREAUTH }, { "BYE", IMAP_ST_BYE },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tab); i++)
		if (strcmp(w, tab[i].w) == 0)
			return tab[i].st;
	return IMAP_ST_NONE;
}

/* After OK/NO/...: an optional [code args] and the text. */
static enum tok
status_rest(struct imap_parser *p, struct cur *c)
{
	struct imap_resp *r = p->resp;
	size_t start, len;

	if (c->i + 1 < c->n && c->s[c->i] == ' ' && c->s[c->i + 1] == '[') {
		c->i += 2;
		if (scan_atom(p, c, &start, &len) != 0)
			return TK_ERROR;
		r->code = upper_dup(c->s + start, len);
		r->code_args.type = IMAP_VAL_LIST;
		p->stack[0] = &r->code_args;
		p->depth = 1;
		p->phase = PH_CODE_VALUES;
		return tokenize(p, c);
	}
	set_text(r, c);
	return TK_END;
}

/* "+ text", "* ...", "tag ..." up to where values begin. */
static enum tok
parse_head(struct imap_parser *p, struct cur *c)
{
	struct imap_resp *r;
	size_t start, len, i;
	uint64_t num;

	r = p->resp = xcalloc(1, sizeof(*r));
	r->args.type = IMAP_VAL_LIST;
	r->code_args.type = IMAP_VAL_LIST;
	if (c->n >= 1 && c->s[0] == '+' && (c->n == 1 || c->s[1] == ' ')) {
		r->kind = IMAP_RESP_CONTINUE;
		c->i = 1;
		set_text(r, c);
		return TK_END;
	}
	if (c->n >= 1 && c->s[0] == '*') {
		r->kind = IMAP_RESP_UNTAGGED;
		c->i = 1;
	} else {
		r->kind = IMAP_RESP_TAGGED;
		for (i = 0; i < c->n && c->s[i] != ' '; i++)
			if (atom_stop((unsigned char)c->s[i]) || c->s[i] == '+' ||
			    c->s[i] == '[' || c->s[i] == '*')
				return perr(p, "bad response tag");
		if (i == 0)
			return perr(p, "empty response tag");
		r->tag = xstrndup(c->s, i);
		c->i = i;
	}
	if (expect_sp(p, c) != 0 || scan_atom(p, c, &start, &len) != 0)
		return TK_ERROR;
	if (r->kind == IMAP_RESP_UNTAGGED && is_digits(c->s + start, len)) {
		if (parse_u64(c->s + start, len, &num) != 0 || num > UINT32_MAX)
			return perr(p, "message number out of range");
		r->has_num = 1;
		r->num = (uint32_t)num;
		if (expect_sp(p, c) != 0 || scan_atom(p, c, &start, &len) != 0)
			return TK_ERROR;
	}
	r->name = upper_dup(c->s + start, len);
	r->status = r->has_num ? IMAP_ST_NONE : status_word(r->name);
	if (r->kind == IMAP_RESP_TAGGED && (r->status == IMAP_ST_NONE ||
	    r->status == IMAP_ST_BYE || r->status == IMAP_ST_PREAUTH))
		return perr(p, "tagged response is not OK, NO or BAD");
	if (r->status != IMAP_ST_NONE)
		return status_rest(p, c);
	p->stack[0] = &r->args;
	p->depth = 1;
	p->phase = PH_VALUES;
	return tokenize(p, c);
}

/* One complete line (segment) is in p->line. */
static enum imap_event
process_line(struct imap_parser *p)
{
	struct cur c;
	enum tok t;

	c.s = p->line.data;
	c.n = p->line.len;
	c.i = 0;
	if (c.n > 0 && c.s[c.n - 1] == '\n')
		c.n--;
	if (c.n > 0 && c.s[c.n - 1] == '\r')
		c.n--;
	if (p->trace)
		p->trace(c.s, c.n, p->trace_arg);
	if (memchr(c.s, '\0', c.n) != NULL) {
		perr(p, "NUL byte in a response line");
		return IMAP_EV_ERROR;
	}
	p->buffered += c.n;
	if (p->buffered > p->lim.max_buffered) {
		perr(p, "response larger than %zu bytes", p->lim.max_buffered);
		return IMAP_EV_ERROR;
	}
	if (p->phase == PH_HEAD)
		t = parse_head(p, &c);
	else
		t = tokenize(p, &c);
	if (t == TK_CODE_END) {
		p->phase = PH_VALUES;
		set_text(p->resp, &c);
		t = TK_END;
	}
	buf_reset(&p->line);
	switch (t) {
	case TK_LITERAL:
		return IMAP_EV_LITERAL;
	case TK_ERROR:
		return IMAP_EV_ERROR;
	default:
		break;
	}
	if (p->resp->text == NULL)
		p->resp->text = xstrdup("");
	p->done = p->resp;
	p->resp = NULL;
	reset_response(p);
	return IMAP_EV_RESPONSE;
}

enum imap_event
imap_parser_feed(struct imap_parser *p, const void *data, size_t len, size_t *used,
    char **errstr)
{
	const char *d = data, *nl;
	enum imap_event ev = IMAP_EV_NEED_MORE;
	size_t n;

	*used = 0;
	imap_resp_free(p->done);
	p->done = NULL;
	while (ev == IMAP_EV_NEED_MORE && *used < len) {
		switch (p->st) {
		case P_DEAD:
			ev = IMAP_EV_ERROR;
			break;
		case P_LITERAL_DECIDE:
			perr(p, "literal began and the caller did not decide");
			ev = IMAP_EV_ERROR;
			break;
		case P_LITERAL_DATA:
			n = len - *used;
			if ((uint64_t)n > p->lit_left)
				n = (size_t)p->lit_left;
			memcpy(p->lit->str + (p->lit->len - p->lit_left), d + *used, n);
			p->lit_left -= n;
			*used += n;
			if (p->lit_left == 0)
				p->st = P_LINE;
			break;
		case P_LINE:
			n = len - *used;
			nl = memchr(d + *used, '\n', n);
			if (nl != NULL)
				n = (size_t)(nl - (d + *used)) + 1;
			if (p->line.len + n > p->lim.max_line + 2) {
				perr(p, "line longer than %zu bytes", p->lim.max_line);
				ev = IMAP_EV_ERROR;
				break;
			}
			buf_append(&p->line, d + *used, n);
			*used += n;
			if (nl != NULL)
				ev = process_line(p);
			break;
		}
	}
	if (p->st == P_DEAD) {
		ev = IMAP_EV_ERROR;
		if (errstr) {
			free(*errstr);
			*errstr = xstrdup(p->err);
		}
	}
	return ev;
}

struct imap_resp *
imap_parser_take(struct imap_parser *p)
{
	struct imap_resp *r = p->done;

	p->done = NULL;
	return r;
}

const struct imap_literal_info *
imap_parser_literal(const struct imap_parser *p)
{
	return p->st == P_LITERAL_DECIDE ? &p->li : NULL;
}

int
imap_parser_literal_buffer(struct imap_parser *p)
{
	if (p->st != P_LITERAL_DECIDE)
		return -1;
	if (p->li.size > p->lim.max_literal) {
		perr(p, "literal of %llu bytes is larger than %zu",
		    (unsigned long long)p->li.size, p->lim.max_literal);
		return -1;
	}
	p->buffered += p->lit->len;
	if (p->buffered > p->lim.max_buffered) {
		perr(p, "response larger than %zu bytes", p->lim.max_buffered);
		return -1;
	}
	p->lit->str = xmalloc(p->lit->len + 1);
	p->lit->str[p->lit->len] = '\0';
	p->lit_left = p->lit->len;
	p->st = p->lit_left ? P_LITERAL_DATA : P_LINE;
	return 0;
}

void
imap_parser_literal_done(struct imap_parser *p)
{
	if (p->st != P_LITERAL_DECIDE)
		return;
	p->lit->streamed = 1;
	p->st = P_LINE;
}

const struct imap_val *
imap_list_get(const struct imap_val *list, size_t i)
{
	if (list == NULL || list->type != IMAP_VAL_LIST || i >= list->nitems)
		return NULL;
	return &list->items[i];
}

const struct imap_val *
imap_fetch_item(const struct imap_val *list, const char *item)
{
	size_t i;

	if (list == NULL || list->type != IMAP_VAL_LIST)
		return NULL;
	for (i = 0; i + 1 < list->nitems; i += 2)
		if (list->items[i].type == IMAP_VAL_ATOM &&
		    strcasecmp(list->items[i].str, item) == 0)
			return &list->items[i + 1];
	return NULL;
}

const char *
imap_val_str(const struct imap_val *v)
{
	if (v == NULL || v->type == IMAP_VAL_NIL || v->type == IMAP_VAL_LIST)
		return NULL;
	return v->str;
}

int
imap_val_number(const struct imap_val *v, uint64_t *out)
{
	if (v == NULL || (v->type != IMAP_VAL_NUMBER && v->type != IMAP_VAL_ATOM) ||
	    v->str == NULL)
		return -1;
	return parse_u64(v->str, v->len, out);
}
