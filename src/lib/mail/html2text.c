/*
 * html2text.c - HTML mail bodies rendered to plain text; see html2text.h.
 *
 * A byte-at-a-time state machine after the tokenizer of the WHATWG HTML
 * standard, much simplified: text, tags (attributes are skipped, quoted
 * values may hold '>'), comments, CDATA, bogus comments (<!DOCTYPE>, <?..>)
 * and the raw text of <script>, <style> and <title>.  Character references
 * follow the HTML 4 entity list (a common subset of it).  Nothing is ever
 * fetched: attributes, and so every URL, are never looked at.
 *
 * Output is lazy: white space, line breaks and table tabs are only
 * remembered, and written just before the next visible character, so runs
 * collapse and nothing trails at the end.  State is a fixed-size struct,
 * so memory does not depend on the input.
 */
#include "m2c-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html2text.h"
#include "util.h"

#define H2T_TAG_MAX 4096	/* bytes between < and >; longer tags are dropped */
#define H2T_ENT_MAX 32		/* bytes of a character reference name */
#define H2T_NAME_MAX 16		/* bytes of a tag name we care about */
#define H2T_LIST_MAX 8		/* list nesting shown as indentation */

enum h2t_state {
	ST_TEXT,
	ST_LT,		/* after '<' */
	ST_TAG,		/* inside a tag */
	ST_BANG,	/* after "<!" */
	ST_COMMENT,	/* <!-- ... --> */
	ST_CDATA,	/* <![CDATA[ ... ]]> */
	ST_BOGUS,	/* <!DOCTYPE ...>, <?xml ...?>: up to '>' */
	ST_ENTITY,	/* after '&' */
	ST_RAW,		/* content of script/style/title, up to its end tag */
};

struct html2text {
	enum h2t_state state;
	char tag[H2T_TAG_MAX];
	size_t taglen;
	int tag_dropped;	/* longer than H2T_TAG_MAX: skipped to '>' */
	char quote;		/* inside a quoted attribute value */
	char tag_last;		/* last non-blank byte of the tag */
	char ent[H2T_ENT_MAX];
	size_t entlen;
	size_t match;		/* bytes matched of "--", "[CDATA[", or the raw end tag */
	int match_cdata, match_comment;
	int dashes;		/* trailing '-' (comment) or ']' (CDATA) seen */
	char raw_end[H2T_NAME_MAX + 3];	/* "</script" */
	/* rendering */
	int started;		/* something visible was written */
	int nospace;		/* at a line start, or after a marker or tab */
	int space;		/* white space pending */
	int want_nl;		/* 1: line break pending, 2: blank line pending */
	int tabs;		/* table cell separators pending */
	int cells;		/* cells so far in this table row */
	int pre;		/* <pre> depth */
	int lists;		/* <ul>/<ol> depth */
	int in_head;
};

enum tag_kind {
	K_BLOCK,	/* a line break before and after */
	K_PARA,		/* a blank line before and after */
	K_BR,
	K_LIST,
	K_LI,
	K_TABLE,	/* table, tr: new row */
	K_CELL,
	K_PRE,
	K_RAW,		/* content dropped up to the end tag */
	K_HEAD,
	K_BODY,
};

struct tag_info {
	const char *name;
	enum tag_kind kind;
};

static const struct tag_info tags[] = {
	{ "address", K_BLOCK }, { "article", K_BLOCK }, { "aside", K_BLOCK },
	{ "blockquote", K_PARA }, { "body", K_BODY }, { "br", K_BR },
	{ "caption", K_BLOCK }, { "center", K_BLOCK }, { "dd", K_BLOCK },
	{ "details", K_BLOCK }, { "div", K_BLOCK }, { "dl", K_PARA }, { "dt", K_BLOCK },
	{ "fieldset", K_BLOCK }, { "figcaption", K_BLOCK }, { "figure", K_BLOCK },
	{ "footer", K_BLOCK }, { "form", K_BLOCK }, { "h1", K_PARA }, { "h2", K_PARA },
	{ "h3", K_PARA }, { "h4", K_PARA }, { "h5", K_PARA }, { "h6", K_PARA },
	{ "head", K_HEAD }, { "header", K_BLOCK }, { "hr", K_PARA }, { "li", K_LI },
	{ "main", K_BLOCK }, { "menu", K_LIST }, { "nav", K_BLOCK }, { "ol", K_LIST },
	{ "p", K_PARA }, { "pre", K_PRE }, { "script", K_RAW }, { "section", K_BLOCK },
	{ "style", K_RAW }, { "summary", K_BLOCK }, { "table", K_TABLE },
	{ "td", K_CELL }, { "template", K_RAW }, { "th", K_CELL }, { "title", K_RAW },
	{ "tr", K_TABLE }, { "ul", K_LIST },
};

struct entity {
	const char *name;
	uint32_t cp;
};

/* Named references common in mail (HTML 4 names; case-sensitive). */
static const struct entity entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", 0xa0 }, { "iexcl", 0xa1 }, { "cent", 0xa2 }, { "pound", 0xa3 },
	{ "yen", 0xa5 }, { "sect", 0xa7 }, { "copy", 0xa9 }, { "laquo", 0xab },
	{ "shy", 0xad }, { "reg", 0xae }, { "deg", 0xb0 }, { "plusmn", 0xb1 },
	{ "micro", 0xb5 }, { "para", 0xb6 }, { "middot", 0xb7 }, { "raquo", 0xbb },
	{ "frac14", 0xbc }, { "frac12", 0xbd }, { "frac34", 0xbe }, { "iquest", 0xbf },
	{ "Agrave", 0xc0 }, { "Aacute", 0xc1 }, { "Acirc", 0xc2 }, { "Atilde", 0xc3 },
	{ "Auml", 0xc4 }, { "Aring", 0xc5 }, { "AElig", 0xc6 }, { "Ccedil", 0xc7 },
	{ "Egrave", 0xc8 }, { "Eacute", 0xc9 }, { "Ecirc", 0xca }, { "Euml", 0xcb },
	{ "Igrave", 0xcc }, { "Iacute", 0xcd }, { "Icirc", 0xce }, { "Iuml", 0xcf },
	{ "Ntilde", 0xd1 }, { "Ograve", 0xd2 }, { "Oacute", 0xd3 }, { "Ocirc", 0xd4 },
	{ "Otilde", 0xd5 }, { "Ouml", 0xd6 }, { "times", 0xd7 }, { "Oslash", 0xd8 },
	{ "Ugrave", 0xd9 }, { "Uacute", 0xda }, { "Ucirc", 0xdb }, { "Uuml", 0xdc },
	{ "Yacute", 0xdd }, { "szlig", 0xdf }, { "agrave", 0xe0 }, { "aacute", 0xe1 },
	{ "acirc", 0xe2 }, { "atilde", 0xe3 }, { "auml", 0xe4 }, { "aring", 0xe5 },
	{ "aelig", 0xe6 }, { "ccedil", 0xe7 }, { "egrave", 0xe8 }, { "eacute", 0xe9 },
	{ "ecirc", 0xea }, { "euml", 0xeb }, { "igrave", 0xec }, { "iacute", 0xed },
	{ "icirc", 0xee }, { "iuml", 0xef }, { "ntilde", 0xf1 }, { "ograve", 0xf2 },
	{ "oacute", 0xf3 }, { "ocirc", 0xf4 }, { "otilde", 0xf5 }, { "ouml", 0xf6 },
	{ "divide", 0xf7 }, { "oslash", 0xf8 }, { "ugrave", 0xf9 }, { "uacute", 0xfa },
	{ "ucirc", 0xfb }, { "uuml", 0xfc }, { "yacute", 0xfd }, { "yuml", 0xff },
	{ "OElig", 0x152 }, { "oelig", 0x153 }, { "Scaron", 0x160 }, { "scaron", 0x161 },
	{ "ensp", 0x2002 }, { "emsp", 0x2003 }, { "thinsp", 0x2009 }, { "zwnj", 0x200c },
	{ "zwj", 0x200d }, { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201a }, { "ldquo", 0x201c }, { "rdquo", 0x201d },
	{ "bdquo", 0x201e }, { "dagger", 0x2020 }, { "bull", 0x2022 }, { "hellip", 0x2026 },
	{ "prime", 0x2032 }, { "lsaquo", 0x2039 }, { "rsaquo", 0x203a }, { "euro", 0x20ac },
	{ "trade", 0x2122 }, { "larr", 0x2190 }, { "rarr", 0x2192 }, { "minus", 0x2212 },
};

static int
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static char
to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---------------------------------------------------------------- output */

/* Write what is pending before the next visible character. */
static void
flush_pending(struct html2text *h, struct buf *out)
{
	if (h->want_nl) {
		if (h->started)
			buf_append(out, "\n\n", (size_t)h->want_nl);
		h->want_nl = 0;
		h->space = 0;
		h->nospace = 1;
	}
	if (h->tabs) {
		while (h->tabs-- > 0)
			buf_appendc(out, '\t');
		h->tabs = 0;
		h->space = 0;
		h->nospace = 1;
	}
	if (h->space && !h->nospace && h->started)
		buf_appendc(out, ' ');
	h->space = 0;
}

static void
put_visible(struct html2text *h, struct buf *out, const char *p, size_t n)
{
	if (h->in_head)
		return;
	flush_pending(h, out);
	buf_append(out, p, n);
	h->started = 1;
	h->nospace = 0;
}

static void
want_break(struct html2text *h, int n)
{
	if (h->want_nl < n)
		h->want_nl = n;
}

/* One character of text (decoded or as written): white space collapses. */
static void
text_char(struct html2text *h, struct buf *out, const char *p, size_t n)
{
	unsigned char c = (unsigned char)p[0];

	if (n == 1 && (is_blank(c) || c < 0x20 || c == 0x7f)) {
		if (h->pre && c == '\n') {
			if (h->want_nl < 2)
				h->want_nl++;
		} else if (h->pre && (c == ' ' || c == '\t')) {
			put_visible(h, out, p, 1);
		} else if (is_blank(c) && !h->pre) {
			h->space = 1;
		}
		return;		/* other control characters are dropped */
	}
	put_visible(h, out, p, n);
}

static void
text_str(struct html2text *h, struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		text_char(h, out, s + i, 1);
}

static size_t
utf8_encode(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ---------------------------------------------------------------- references */

/* The code point of "#65", "#x41" or "amp"; 0 when invalid or unknown. */
static uint32_t
entity_value(const char *s, size_t n)
{
	uint32_t v = 0;
	size_t i, start;
	int base = 10, d;

	if (n == 0)
		return 0;
	if (s[0] != '#') {
		for (i = 0; i < ARRAY_SIZE(entities); i++)
			if (strlen(entities[i].name) == n && memcmp(entities[i].name, s, n) == 0)
				return entities[i].cp;
		return 0;
	}
	start = 1;
	if (n > 1 && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		start = 2;
	}
	if (start == n)
		return 0;
	for (i = start; i < n; i++) {
		d = hex_digit(s[i]);
		if (d < 0 || d >= base)
			return 0;
		v = v * (uint32_t)base + (uint32_t)d;
		if (v > 0x10ffff)
			return 0;
	}
	if (v >= 0xd800 && v <= 0xdfff)
		return 0;
	return v;
}

/* The reference in h->ent ended (with ';' when semi): decode or keep. */
static void
end_entity(struct html2text *h, struct buf *out, int semi)
{
	uint32_t cp = semi ? entity_value(h->ent, h->entlen) : 0;
	char u[4];

	h->state = ST_TEXT;
	if (cp != 0) {
		text_char(h, out, u, utf8_encode(cp, u));
		return;
	}
	text_char(h, out, "&", 1);
	text_str(h, out, h->ent, h->entlen);
	if (semi)
		text_char(h, out, ";", 1);
}

/* ---------------------------------------------------------------- tags */

static const struct tag_info *
tag_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tags); i++)
		if (strcmp(tags[i].name, name) == 0)
			return &tags[i];
	return NULL;
}

static void
start_raw(struct html2text *h, const char *name)
{
	size_t n = strlen(name);

	h->raw_end[0] = '<';
	h->raw_end[1] = '/';
	memcpy(h->raw_end + 2, name, n + 1);
	h->match = 0;
	h->state = ST_RAW;
}

static void
list_marker(struct html2text *h, struct buf *out)
{
	static const char indent[] = "                ";	/* 2 * H2T_LIST_MAX */
	int depth = h->lists > H2T_LIST_MAX ? H2T_LIST_MAX : h->lists;

	want_break(h, 1);
	if (depth > 1)
		put_visible(h, out, indent, (size_t)(2 * (depth - 1)));
	put_visible(h, out, "- ", 2);
	h->nospace = 1;
}

/* A complete tag is in h->tag (without < and >). */
static void
end_tag(struct html2text *h, struct buf *out)
{
	const struct tag_info *t;
	char name[H2T_NAME_MAX + 1];
	size_t i = 0, n = 0;
	int closing = 0;

	h->state = ST_TEXT;
	if (h->tag_dropped)
		return;
	if (h->taglen > 0 && h->tag[0] == '/') {
		closing = 1;
		i = 1;
	}
	for (; i < h->taglen && is_alnum((unsigned char)h->tag[i]); i++) {
		if (n == H2T_NAME_MAX)
			return;		/* no tag we know is that long */
		name[n++] = to_lower(h->tag[i]);
	}
	name[n] = '\0';
	if ((t = tag_lookup(name)) == NULL)
		return;		/* <img>, <a>, <span>...: nothing of their own */
	if (t->kind != K_RAW && t->kind != K_HEAD)
		h->in_head = 0;	/* a body element: the head is over */
	switch (t->kind) {
	case K_BLOCK:
		want_break(h, 1);
		break;
	case K_PARA:
		want_break(h, 2);
		break;
	case K_BR:
		if (h->want_nl < 2)
			h->want_nl++;
		break;
	case K_LIST:
		if (closing && h->lists > 0)
			h->lists--;
		else if (!closing)
			h->lists++;
		want_break(h, 1);
		break;
	case K_LI:
		if (closing)
			want_break(h, 1);
		else
			list_marker(h, out);
		break;
	case K_TABLE:
		h->cells = 0;
		h->tabs = 0;
		want_break(h, 1);
		break;
	case K_CELL:
		if (!closing) {
			if (h->cells > 0 && h->tabs < 64)
				h->tabs++;
			if (h->cells < 1000)
				h->cells++;
		}
		break;
	case K_PRE:
		if (closing && h->pre > 0)
			h->pre--;
		else if (!closing && h->pre < 1000)
			h->pre++;
		want_break(h, 2);
		break;
	case K_RAW:
		if (!closing)
			start_raw(h, name);
		break;
	case K_HEAD:
		h->in_head = !closing;
		break;
	case K_BODY:
		break;
	}
}

static void
tag_byte(struct html2text *h, struct buf *out, char c)
{
	if (h->quote) {
		if (c == h->quote)
			h->quote = 0;
	} else if (c == '>') {
		end_tag(h, out);
		return;
	} else if ((c == '"' || c == '\'') && h->tag_last == '=') {
		h->quote = c;
	}
	if (!is_blank((unsigned char)c))
		h->tag_last = c;
	if (h->taglen == sizeof(h->tag))
		h->tag_dropped = 1;
	else
		h->tag[h->taglen++] = c;
}

static void
begin_tag(struct html2text *h, char c)
{
	h->state = ST_TAG;
	h->taglen = 0;
	h->tag_dropped = 0;
	h->quote = 0;
	h->tag_last = 0;
	h->tag[h->taglen++] = c;
}

/* ---------------------------------------------------------------- machine */

/* One byte in the current state; returns 1 when c must be seen again. */
static int
step(struct html2text *h, struct buf *out, char c)
{
	static const char comment[] = "--", cdata[] = "[CDATA[";
	unsigned char uc = (unsigned char)c;

	switch (h->state) {
	case ST_TEXT:
		if (c == '<')
			h->state = ST_LT;
		else if (c == '&') {
			h->state = ST_ENTITY;
			h->entlen = 0;
		} else
			text_char(h, out, &c, 1);
		return 0;
	case ST_LT:
		if (is_alpha(uc) || c == '/') {
			begin_tag(h, c);
		} else if (c == '!') {
			h->state = ST_BANG;
			h->match = 0;
			h->match_comment = h->match_cdata = 1;
		} else if (c == '?') {
			h->state = ST_BOGUS;
		} else {
			h->state = ST_TEXT;
			text_char(h, out, "<", 1);
			return 1;
		}
		return 0;
	case ST_TAG:
		tag_byte(h, out, c);
		return 0;
	case ST_BANG:
		h->match_comment = h->match_comment && h->match < 2 && c == comment[h->match];
		h->match_cdata = h->match_cdata && h->match < 7 && c == cdata[h->match];
		h->match++;
		h->dashes = 0;
		if (h->match_comment && h->match == 2)
			h->state = ST_COMMENT;
		else if (h->match_cdata && h->match == 7)
			h->state = ST_CDATA;
		else if (!h->match_comment && !h->match_cdata) {
			h->state = ST_BOGUS;
			return 1;
		}
		return 0;
	case ST_COMMENT:
	case ST_CDATA:
		if (c == (h->state == ST_COMMENT ? '-' : ']'))
			h->dashes++;
		else if (c == '>' && h->dashes >= 2)
			h->state = ST_TEXT;
		else
			h->dashes = 0;
		return 0;
	case ST_BOGUS:
		if (c == '>')
			h->state = ST_TEXT;
		return 0;
	case ST_ENTITY:
		if (c == ';') {
			end_entity(h, out, 1);
			return 0;
		}
		if ((is_alnum(uc) || (c == '#' && h->entlen == 0)) && h->entlen < sizeof(h->ent)) {
			h->ent[h->entlen++] = c;
			return 0;
		}
		end_entity(h, out, 0);
		return 1;
	case ST_RAW:
		if (to_lower(c) == h->raw_end[h->match]) {
			if (h->raw_end[++h->match] == '\0') {
				begin_tag(h, '/');
				memcpy(h->tag + 1, h->raw_end + 2, h->match - 2);
				h->taglen = h->match - 1;
			}
		} else {
			h->match = c == '<' ? 1 : 0;
		}
		return 0;
	}
	return 0;
}

struct html2text *
html2text_new(void)
{
	return xcalloc(1, sizeof(struct html2text));
}

void
html2text_feed(struct html2text *h, const char *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		while (step(h, out, p[i]))
			;
}

void
html2text_finish(struct html2text *h, struct buf *out)
{
	if (h->state == ST_LT)
		text_char(h, out, "<", 1);
	else if (h->state == ST_ENTITY)
		end_entity(h, out, 0);
	if (h->started)
		buf_appendc(out, '\n');
	memset(h, 0, sizeof(*h));
}

void
html2text_free(struct html2text **hp)
{
	if (hp == NULL || *hp == NULL)
		return;
	free(*hp);
	*hp = NULL;
}
