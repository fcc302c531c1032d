/*
 * printopts.c - print options from rule words and subject tags; see
 * printopts.h for the vocabulary.
 *
 * Every phrase is first normalised (normalise() below): ASCII lower case,
 * blanks trimmed and collapsed, '-' and '_' read as blanks except a '-'
 * between two numbers (a page range), '=' read as a blank, and no blanks
 * around ','.  The fixed words are then looked up in one table; copies and
 * pages, which carry numbers, have their own small parsers.
 *
 * Subjects are untrusted: only the first POPT_SUBJECT_MAX bytes are looked
 * at, phrases longer than POPT_ITEM_MAX are never options, and the list of
 * unknown items is bounded in count and length.
 */
#include "m2c-config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "printopts.h"
#include "util.h"

#define POPT_ITEM_MAX		128	/* longest normalised phrase, with its NUL */
#define POPT_MAX_PAGE		99999
#define POPT_SUBJECT_MAX	4096	/* bytes of a subject looked at */
#define POPT_UNKNOWN_MAX	10	/* unknown items reported */
#define POPT_UNKNOWN_LEN	40	/* bytes of one unknown item reported */

#define POPT_KNOWN_WORDS \
	"known: \"2 copies\", duplex, tumble, simplex, color, mono, A3, A4, A5, B5, " \
	"letter, legal, tabloid, executive, \"pages 1-3,5\", portrait, landscape, " \
	"\"fit to page\", hold, \"print body\""

/* A fixed word and what it sets: value for strings, num for numbers. */
struct popt_word {
	const char *word;	/* normalised */
	unsigned int field;
	const char *value;
	int num;
};

static const char SIDES_ONE[] = "one-sided";
static const char SIDES_LONG[] = "two-sided-long-edge";
static const char SIDES_SHORT[] = "two-sided-short-edge";

static const struct popt_word popt_words[] = {
	{ "duplex", POPT_SIDES, SIDES_LONG, 0 },
	{ "duplex long", POPT_SIDES, SIDES_LONG, 0 },
	{ "two sided", POPT_SIDES, SIDES_LONG, 0 },
	{ "double sided", POPT_SIDES, SIDES_LONG, 0 },
	{ "long edge", POPT_SIDES, SIDES_LONG, 0 },
	{ "two sided long edge", POPT_SIDES, SIDES_LONG, 0 },
	{ "tumble", POPT_SIDES, SIDES_SHORT, 0 },
	{ "short edge", POPT_SIDES, SIDES_SHORT, 0 },
	{ "duplex short", POPT_SIDES, SIDES_SHORT, 0 },
	{ "two sided short edge", POPT_SIDES, SIDES_SHORT, 0 },
	{ "simplex", POPT_SIDES, SIDES_ONE, 0 },
	{ "one sided", POPT_SIDES, SIDES_ONE, 0 },
	{ "single sided", POPT_SIDES, SIDES_ONE, 0 },
	{ "color", POPT_COLOR, "color", 0 },
	{ "colour", POPT_COLOR, "color", 0 },
	{ "mono", POPT_COLOR, "monochrome", 0 },
	{ "monochrome", POPT_COLOR, "monochrome", 0 },
	{ "grayscale", POPT_COLOR, "monochrome", 0 },
	{ "greyscale", POPT_COLOR, "monochrome", 0 },
	{ "bw", POPT_COLOR, "monochrome", 0 },
	{ "b&w", POPT_COLOR, "monochrome", 0 },
	{ "black and white", POPT_COLOR, "monochrome", 0 },
	{ "black & white", POPT_COLOR, "monochrome", 0 },
	{ "a3", POPT_MEDIA, "iso_a3_297x420mm", 0 },
	{ "a4", POPT_MEDIA, "iso_a4_210x297mm", 0 },
	{ "a5", POPT_MEDIA, "iso_a5_148x210mm", 0 },
	{ "b5", POPT_MEDIA, "iso_b5_176x250mm", 0 },
	{ "letter", POPT_MEDIA, "na_letter_8.5x11in", 0 },
	{ "legal", POPT_MEDIA, "na_legal_8.5x14in", 0 },
	{ "tabloid", POPT_MEDIA, "na_ledger_11x17in", 0 },
	{ "executive", POPT_MEDIA, "na_executive_7.25x10.5in", 0 },
	{ "portrait", POPT_ORIENTATION, NULL, 3 },
	{ "landscape", POPT_ORIENTATION, NULL, 4 },
	{ "fit", POPT_FIT, NULL, 1 },
	{ "fit to page", POPT_FIT, NULL, 1 },
	{ "hold", POPT_HOLD, NULL, 1 },
	{ "body", POPT_BODY, NULL, 1 },
	{ "print body", POPT_BODY, NULL, 1 },
};

static const struct {
	unsigned int bit;
	const char *name;
} popt_fields[] = {
	{ POPT_COPIES, "copies" },
	{ POPT_SIDES, "sides" },
	{ POPT_COLOR, "color" },
	{ POPT_MEDIA, "media" },
	{ POPT_PAGES, "pages" },
	{ POPT_ORIENTATION, "orientation" },
	{ POPT_FIT, "fit" },
	{ POPT_HOLD, "hold" },
	{ POPT_BODY, "body" },
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A blank as the normaliser sees it: '-', '_' and '=' separate words too. */
static int
is_sep(char c)
{
	return is_blank(c) || c == '-' || c == '_' || c == '=';
}

/*
 * Normalise the n bytes at s into out (POPT_ITEM_MAX bytes): see the top
 * of the file.  Bytes outside printable ASCII become '?' (no word has
 * one).  0, or -1 when the result does not fit.
 */
static int
normalise(const char *s, size_t n, char *out)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Each turn writes at most one byte; keep room for the NUL. */
		if (len >= POPT_ITEM_MAX - 1)
			return -1;
		if (c == '-') {
			size_t j = i + 1;

			while (j < n && is_blank(s[j]))
				j++;
			if (len > 0 && out[len - 1] == ' ' && len > 1 && is_digit(out[len - 2]))
				len--;
			/* "1-3" is a range, "1-" and "1-," are broken ones. */
			if (len > 0 && is_digit(out[len - 1]) &&
			    (j == n || is_digit(s[j]) || s[j] == ',')) {
				out[len++] = '-';
				i = j - 1;
				continue;
			}
		}
		if (is_sep((char)c)) {
			if (len > 0 && out[len - 1] != ' ' && out[len - 1] != ',')
				out[len++] = ' ';
		} else if (c == ',') {
			if (len > 0 && out[len - 1] == ' ')
				len--;
			out[len++] = ',';
		} else if (c >= 'A' && c <= 'Z') {
			out[len++] = (char)(c - 'A' + 'a');
		} else {
			out[len++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
		}
	}
	if (len > 0 && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
	return 0;
}

/*
 * A decimal number at *p, advancing *p past it: its value, saturated at
 * POPT_MAX_PAGE + 1 so that nothing overflows, or -1 without a digit.
 */
static int
parse_number(const char **p)
{
	const char *s = *p;
	int v = 0;

	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++)
		if ((v = v * 10 + (*s - '0')) > POPT_MAX_PAGE)
			v = POPT_MAX_PAGE + 1;
	*p = s;
	return v;
}

/* If s starts with one of the words (NULL-terminated), skip it: 1, else 0. */
static int
skip_word(const char **s, const char *const *words)
{
	for (; *words; words++) {
		size_t n = strlen(*words);

		if (strncmp(*s, *words, n) == 0) {
			*s += n;
			return 1;
		}
	}
	return 0;
}

/*
 * "2 copies", "1 copy", "copies 2", "2x", "x2", "2copies": 1 and *n the
 * number when the phrase has that shape (in range or not), else 0.
 */
static int
match_copies(const char *s, int *n)
{
	static const char *const prefix[] = { "copies ", "copy ", "x ", "x", NULL };
	static const char *const suffix[] = { "copies", "copy", "x", NULL };
	const char *p = s;

	if (skip_word(&p, prefix)) {
		if ((*n = parse_number(&p)) >= 0 && *p == '\0')
			return 1;
		return 0;
	}
	if ((*n = parse_number(&p)) < 0)
		return 0;
	if (*p == ' ')
		p++;
	return skip_word(&p, suffix) && *p == '\0';
}

/*
 * "pages 1-3,5", "page 2": 0 with the ranges in o, 1 when the phrase is
 * not about pages, or M2C_E_DATA when it is but the ranges are wrong.
 */
static int
parse_pages(const char *s, struct print_opts *o, char **errstr)
{
	static const char *const prefix[] = { "pages ", "page ", NULL };
	int ranges[POPT_MAX_RANGES][2] = { { 0 } };
	int n = 0, lo, hi;
	const char *p = s;

	if (!skip_word(&p, prefix))
		return 1;
	for (;;) {
		if ((lo = parse_number(&p)) < 0)
			goto syntax;
		hi = lo;
		if (*p == '-') {
			p++;
			if ((hi = parse_number(&p)) < 0)
				goto syntax;
		}
		if (lo < 1 || hi > POPT_MAX_PAGE)
			return m2c_fail(errstr, M2C_E_DATA,
			    "\"%s\": page numbers go from 1 to %d", s, POPT_MAX_PAGE);
		if (lo > hi)
			return m2c_fail(errstr, M2C_E_DATA,
			    "\"%s\": the range %d-%d runs backwards; write it as %d-%d",
			    s, lo, hi, hi, lo);
		if (n > 0 && lo <= ranges[n - 1][1])
			return m2c_fail(errstr, M2C_E_DATA,
			    "\"%s\": page ranges must be in ascending order and must not "
			    "overlap, like \"pages 1-3,5\"", s);
		if (n == POPT_MAX_RANGES)
			return m2c_fail(errstr, M2C_E_DATA,
			    "\"%s\": at most %d page ranges are allowed", s, POPT_MAX_RANGES);
		ranges[n][0] = lo;
		ranges[n][1] = hi;
		n++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			goto syntax;
	}
	memcpy(o->ranges, ranges, sizeof(ranges));
	o->nranges = n;
	o->set |= POPT_PAGES;
	return 0;
syntax:
	return m2c_fail(errstr, M2C_E_DATA,
	    "\"%s\": page ranges are numbers and ranges separated by commas, "
	    "like \"pages 1-3,5\"", s);
}

static void
apply_word(const struct popt_word *w, struct print_opts *o)
{
	switch (w->field) {
	case POPT_SIDES:
		o->sides = w->value;
		break;
	case POPT_COLOR:
		o->color = w->value;
		break;
	case POPT_MEDIA:
		o->media = w->value;
		break;
	case POPT_ORIENTATION:
		o->orientation = w->num;
		break;
	case POPT_FIT:
		o->fit = w->num;
		break;
	case POPT_HOLD:
		o->hold = w->num;
		break;
	case POPT_BODY:
		o->body = w->num;
		break;
	}
	o->set |= w->field;
}

/* popt_parse_item over n bytes (need not be NUL-terminated). */
static int
parse_item_n(const char *item, size_t n, struct print_opts *o, char **errstr)
{
	char s[POPT_ITEM_MAX];
	size_t i;
	int copies, r;

	if (normalise(item, n, s) != 0)
		return m2c_fail(errstr, M2C_E_DATA,
		    "a print option of %zu bytes is too long to be one (%s)", n,
		    POPT_KNOWN_WORDS);
	if (*s == '\0')
		return m2c_fail(errstr, M2C_E_DATA, "empty print option (%s)",
		    POPT_KNOWN_WORDS);
	for (i = 0; i < ARRAY_SIZE(popt_words); i++) {
		if (strcmp(s, popt_words[i].word) == 0) {
			apply_word(&popt_words[i], o);
			return 0;
		}
	}
	if (match_copies(s, &copies)) {
		if (copies < 1 || copies > POPT_MAX_COPIES)
			return m2c_fail(errstr, M2C_E_DATA,
			    "\"%s\": the number of copies must be 1 to %d", s,
			    POPT_MAX_COPIES);
		o->copies = copies;
		o->set |= POPT_COPIES;
		return 0;
	}
	if ((r = parse_pages(s, o, errstr)) <= 0)
		return r;
	return m2c_fail(errstr, M2C_E_DATA, "\"%s\" is not a print option (%s)", s,
	    POPT_KNOWN_WORDS);
}

int
popt_parse_item(const char *item, struct print_opts *o, char **errstr)
{
	return parse_item_n(item, strlen(item), o, errstr);
}

/* The items of a subject that are not options, bounded (see the top). */
struct unknown_list {
	struct buf b;
	int n;
	int more;	/* some were left out */
};

static void
unknown_add(struct unknown_list *u, const char *prefix, const char *s, size_t n)
{
	size_t i;

	if (u->n == POPT_UNKNOWN_MAX) {
		u->more = 1;
		return;
	}
	buf_appendf(&u->b, "%s\"%s", u->n ? ", " : "", prefix);
	for (i = 0; i < n && i < POPT_UNKNOWN_LEN; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_appendc(&u->b, (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ?
		    '?' : (char)c);
	}
	buf_appendf(&u->b, "%s\"", n > POPT_UNKNOWN_LEN ? "..." : "");
	u->n++;
}

static char *
unknown_steal(struct unknown_list *u)
{
	if (u->n == 0)
		return NULL;
	if (u->more)
		buf_appendf(&u->b, ", ...");
	return buf_steal(&u->b);
}

/* Does [s, end) start, after blanks, with "page" (any case)? */
static int
starts_with_page(const char *s, const char *end)
{
	while (s < end && is_blank(*s))
		s++;
	return end - s >= 4 && (s[0] | 0x20) == 'p' && (s[1] | 0x20) == 'a' &&
	    (s[2] | 0x20) == 'g' && (s[3] | 0x20) == 'e';
}

/*
 * The end of the item or hashtag starting at s: the next ',', ';', '[' or
 * ']' (or blank, for a hashtag), except that in a "pages" item a ','
 * followed by a digit continues it ("pages 1-3,5").
 */
static const char *
item_end(const char *s, const char *end, int hashtag)
{
	int pages = starts_with_page(s, end);
	const char *p, *q;

	for (p = s; p < end; p++) {
		if (*p == ';' || *p == '[' || *p == ']' || (hashtag && is_blank(*p)))
			break;
		if (*p != ',')
			continue;
		for (q = p + 1; !hashtag && q < end && is_blank(*q); q++)
			;
		if (!pages || q == end || !is_digit(*q))
			break;
	}
	return p;
}

static void
trim(const char **s, const char **end)
{
	while (*s < *end && is_blank(**s))
		(*s)++;
	while (*end > *s && is_blank((*end)[-1]))
		(*end)--;
}

/*
 * A bracket group [s, end) without its brackets: when one of its items is
 * an option, all its options go into o and the others into u.  The number
 * of options found.
 */
static int
subject_group(const char *s, const char *end, struct print_opts *o, struct unknown_list *u)
{
	struct print_opts scratch = *o;
	const char *p, *next, *is, *ie;
	int any = 0, found = 0, pass;

	for (pass = 0; pass < 2; pass++) {
		for (p = s; p < end; p = next + 1) {
			next = item_end(p, end, 0);
			is = p;
			ie = next;
			trim(&is, &ie);
			if (is == ie)
				continue;
			if (pass == 0)
				any |= parse_item_n(is, (size_t)(ie - is), &scratch, NULL) == 0;
			else if (parse_item_n(is, (size_t)(ie - is), o, NULL) == 0)
				found++;
			else
				unknown_add(u, "", is, (size_t)(ie - is));
		}
		if (!any)
			break;
	}
	return found;
}

/*
 * The hashtag after the '#' at s: its end in *tag_end, and 1 when it is
 * taken as one (it has a letter: "#42" is an issue number, not a tag).
 */
static int
subject_hashtag(const char *s, const char *end, const char **tag_end)
{
	const char *p, *e = item_end(s, end, 1);
	int letter = 0;

	/* "#duplex." and "#color!" end a sentence, not the tag. */
	while (e > s && strchr(".:!?)", e[-1]) != NULL)
		e--;
	for (p = s; p < e; p++)
		letter |= is_alpha(*p);
	*tag_end = e;
	return letter;
}

int
popt_parse_subject(const char *subject, struct print_opts *o, char **unknown)
{
	struct unknown_list u = { { NULL, 0, 0 }, 0, 0 };
	const char *s, *end, *p, *close = NULL, *te;
	int found = 0, groups = 1;

	*unknown = NULL;
	if (subject == NULL)
		return 0;
	s = subject;
	end = s + strnlen(s, POPT_SUBJECT_MAX);
	for (p = s; p < end; p++) {
		if (*p == '[' && groups) {
			const char *inner;

			if (close == NULL || close < p)
				close = memchr(p, ']', (size_t)(end - p));
			if (close == NULL) {
				groups = 0;	/* no ']' anywhere after: no more groups */
				continue;
			}
			if ((inner = memchr(p + 1, '[', (size_t)(close - p - 1))) != NULL) {
				p = inner - 1;	/* "[a [b]": only "[b]" is a group */
				continue;
			}
			found += subject_group(p + 1, close, o, &u);
			p = close;
		} else if (*p == '#' && (p == s || is_blank(p[-1])) && p + 1 < end &&
		    (is_digit(p[1]) || is_alpha(p[1]))) {
			if (!subject_hashtag(p + 1, end, &te)) {
				p = te - 1;
				continue;
			}
			if (parse_item_n(p + 1, (size_t)(te - p - 1), o, NULL) == 0)
				found++;
			else
				unknown_add(&u, "#", p + 1, (size_t)(te - p - 1));
			p = te - 1;
		}
	}
	*unknown = unknown_steal(&u);
	return found;
}

/* Add an entry to a ", "-separated list. */
static void __attribute__((format(printf, 2, 3)))
list_add(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->len > 0)
		buf_append(b, ", ", 2);
	va_start(ap, fmt);
	buf_vappendf(b, fmt, ap);
	va_end(ap);
}

/* Copy the field `bit` of from into to. */
static void
copy_field(struct print_opts *to, const struct print_opts *from, unsigned int bit)
{
	switch (bit) {
	case POPT_COPIES:
		to->copies = from->copies;
		break;
	case POPT_SIDES:
		to->sides = from->sides;
		break;
	case POPT_COLOR:
		to->color = from->color;
		break;
	case POPT_MEDIA:
		to->media = from->media;
		break;
	case POPT_PAGES:
		memcpy(to->ranges, from->ranges, sizeof(to->ranges));
		to->nranges = from->nranges;
		break;
	case POPT_ORIENTATION:
		to->orientation = from->orientation;
		break;
	case POPT_FIT:
		to->fit = from->fit;
		break;
	case POPT_HOLD:
		to->hold = from->hold;
		break;
	case POPT_BODY:
		to->body = from->body;
		break;
	}
	to->set |= bit;
}

void
popt_merge(const struct print_opts *base, const struct print_opts *req, unsigned int allowed,
    int max_copies, struct print_opts *out, char **refused)
{
	struct print_opts t = *base;
	struct buf why = { NULL, 0, 0 };

	*refused = NULL;
	if (max_copies <= 0 || max_copies > POPT_MAX_COPIES)
		max_copies = POPT_MAX_COPIES;
	for (size_t i = 0; i < ARRAY_SIZE(popt_fields); i++) {
		unsigned int bit = popt_fields[i].bit;

		if (!(req->set & bit))
			continue;
		if (!(allowed & bit)) {
			list_add(&why, "%s (not allowed here)", popt_fields[i].name);
			continue;
		}
		copy_field(&t, req, bit);
		if (bit == POPT_COPIES && t.copies > max_copies) {
			list_add(&why, "%d copies (at most %d)", t.copies, max_copies);
			t.copies = max_copies;
		}
	}
	*out = t;
	if (why.len)
		*refused = buf_steal(&why);
}

char *
popt_describe(const struct print_opts *o)
{
	struct buf b = { NULL, 0, 0 };

	if (o->set & POPT_COPIES)
		list_add(&b, "%d %s", o->copies, o->copies == 1 ? "copy" : "copies");
	if ((o->set & POPT_SIDES) && o->sides)
		list_add(&b, "%s", o->sides);
	if ((o->set & POPT_COLOR) && o->color)
		list_add(&b, "%s", o->color);
	if ((o->set & POPT_MEDIA) && o->media)
		list_add(&b, "%s", o->media);
	if ((o->set & POPT_PAGES) && o->nranges > 0 && o->nranges <= POPT_MAX_RANGES) {
		list_add(&b, "%s", o->nranges == 1 && o->ranges[0][0] == o->ranges[0][1] ?
		    "page " : "pages ");
		for (int i = 0; i < o->nranges; i++) {
			buf_appendf(&b, "%s%d", i ? "," : "", o->ranges[i][0]);
			if (o->ranges[i][1] != o->ranges[i][0])
				buf_appendf(&b, "-%d", o->ranges[i][1]);
		}
	}
	if (o->set & POPT_ORIENTATION) {
		if (o->orientation == 3 || o->orientation == 4)
			list_add(&b, "%s", o->orientation == 3 ? "portrait" : "landscape");
		else
			list_add(&b, "orientation %d", o->orientation);
	}
	if ((o->set & POPT_FIT) && o->fit)
		list_add(&b, "fit to page");
	if ((o->set & POPT_HOLD) && o->hold)
		list_add(&b, "held");
	if ((o->set & POPT_BODY) && o->body)
		list_add(&b, "with the message text");
	return buf_steal(&b);
}

int
popt_field_parse(const char *name, unsigned int *bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(popt_fields); i++) {
		if (str_casecmp(name, popt_fields[i].name) == 0) {
			*bit = popt_fields[i].bit;
			return 0;
		}
	}
	return M2C_E_DATA;
}

const char *
popt_field_name(unsigned int bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(popt_fields); i++)
		if (popt_fields[i].bit == bit)
			return popt_fields[i].name;
	return NULL;
}

/* ------------------------------------------------ from CUPS, to subject tags */

/* The first word of the table that gives field this value (the canonical one). */
static const struct popt_word *
word_for(unsigned int field, const char *value, int num)
{
	for (size_t i = 0; i < ARRAY_SIZE(popt_words); i++) {
		const struct popt_word *w = &popt_words[i];

		if (w->field != field)
			continue;
		if (value != NULL ? w->value != NULL && str_casecmp(w->value, value) == 0 :
		    w->num == num)
			return w;
	}
	return NULL;
}

/* A CUPS media or PageSize value: "A4", "iso_a4_210x297mm", "Letter,Tray1". */
static int
media_from_cups(const char *value, struct print_opts *o)
{
	const char *p = value, *end;

	for (; *p; p = *end ? end + 1 : end) {
		const struct popt_word *w;
		char one[POPT_ITEM_MAX];
		size_t n;

		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if ((n = (size_t)(end - p)) == 0 || n >= sizeof(one))
			continue;
		memcpy(one, p, n);
		one[n] = '\0';
		if ((w = word_for(POPT_MEDIA, one, 0)) == NULL) {
			struct print_opts t = { 0 };

			if (parse_item_n(one, n, &t, NULL) != 0 || t.set != POPT_MEDIA)
				continue;
			w = word_for(POPT_MEDIA, t.media, 0);
		}
		if (w != NULL) {
			apply_word(w, o);
			return 1;
		}
	}
	return 0;
}

int
popt_from_cups(const char *name, const char *value, struct print_opts *o, char **errstr)
{
	const struct popt_word *w = NULL;
	char *pages;
	int r, n;

	if (name == NULL || value == NULL)
		return 0;
	if (str_casecmp(name, "copies") == 0) {
		n = atoi(value);
		if (n < 1 || n > POPT_MAX_COPIES)
			return m2c_fail(errstr, M2C_E_DATA, "copies=%s: a mail can ask for 1 to %d",
			    value, POPT_MAX_COPIES);
		o->copies = n;
		o->set |= POPT_COPIES;
		return 1;
	}
	if (str_casecmp(name, "sides") == 0)
		w = word_for(POPT_SIDES, value, 0);
	else if (str_casecmp(name, "Duplex") == 0 || str_casecmp(name, "JCLDuplex") == 0)
		w = word_for(POPT_SIDES, str_casecmp(value, "DuplexNoTumble") == 0 ? SIDES_LONG :
		    str_casecmp(value, "DuplexTumble") == 0 ? SIDES_SHORT :
		    str_casecmp(value, "None") == 0 ? SIDES_ONE : value, 0);
	else if (str_casecmp(name, "print-color-mode") == 0 ||
	    str_casecmp(name, "output-mode") == 0)
		w = word_for(POPT_COLOR, str_has_prefix(value, "mono") ||
		    str_has_prefix(value, "auto-mono") || str_casecmp(value, "bi-level") == 0 ?
		    "monochrome" : str_casecmp(value, "color") == 0 ? "color" : value, 0);
	else if (str_casecmp(name, "ColorModel") == 0)
		w = word_for(POPT_COLOR, str_casecmp(value, "Gray") == 0 ||
		    str_casecmp(value, "Grayscale") == 0 || str_casecmp(value, "Black") == 0 ?
		    "monochrome" : str_casecmp(value, "RGB") == 0 || str_casecmp(value, "CMYK") == 0 ?
		    "color" : value, 0);
	else if (str_casecmp(name, "media") == 0 || str_casecmp(name, "PageSize") == 0) {
		if (media_from_cups(value, o))
			return 1;
		return m2c_fail(errstr, M2C_E_DATA, "media=%s has no subject tag (A3, A4, A5, "
		    "B5, letter, legal, tabloid and executive have): left to the far printer",
		    value);
	} else if (str_casecmp(name, "page-ranges") == 0) {
		pages = xasprintf("pages %s", value);
		r = popt_parse_item(pages, o, errstr);
		free(pages);
		return r == 0 ? 1 : r;
	} else if (str_casecmp(name, "orientation-requested") == 0)
		w = word_for(POPT_ORIENTATION, NULL, atoi(value));
	else if (str_casecmp(name, "landscape") == 0)
		w = word_for(POPT_ORIENTATION, NULL, str_casecmp(value, "false") == 0 ? 3 : 4);
	else if (str_casecmp(name, "fit-to-page") == 0 || str_casecmp(name, "print-scaling") == 0) {
		if (str_casecmp(value, "true") == 0 || str_casecmp(value, "fit") == 0 ||
		    str_casecmp(value, "fill") == 0)
			w = word_for(POPT_FIT, NULL, 1);
		else
			return 0;	/* "none", "auto", false: the printer's default */
	} else
		return 0;
	if (w == NULL)
		return m2c_fail(errstr, M2C_E_DATA, "%s=%s has no subject tag: left to the far "
		    "printer", name, value);
	apply_word(w, o);
	return 1;
}

char *
popt_tags(const struct print_opts *o)
{
	const struct popt_word *w;
	struct buf b = { NULL, 0, 0 };
	char *out;

	if ((o->set & POPT_COPIES) && o->copies > 1)
		list_add(&b, "%d copies", o->copies);
	if ((o->set & POPT_SIDES) && o->sides != NULL && (w = word_for(POPT_SIDES, o->sides, 0)))
		list_add(&b, "%s", w->word);
	if ((o->set & POPT_COLOR) && o->color != NULL && (w = word_for(POPT_COLOR, o->color, 0)))
		list_add(&b, "%s", w->word);
	if ((o->set & POPT_MEDIA) && o->media != NULL && (w = word_for(POPT_MEDIA, o->media, 0))) {
		/* "a4" reads better as "A4"; the parser takes either. */
		if (strlen(w->word) == 2)
			list_add(&b, "%c%c", w->word[0] - 'a' + 'A', w->word[1]);
		else
			list_add(&b, "%s", w->word);
	}
	if ((o->set & POPT_PAGES) && o->nranges > 0 && o->nranges <= POPT_MAX_RANGES) {
		list_add(&b, "pages ");
		for (int i = 0; i < o->nranges; i++) {
			buf_appendf(&b, "%s%d", i ? "," : "", o->ranges[i][0]);
			if (o->ranges[i][1] != o->ranges[i][0])
				buf_appendf(&b, "-%d", o->ranges[i][1]);
		}
	}
	if ((o->set & POPT_ORIENTATION) && (w = word_for(POPT_ORIENTATION, NULL, o->orientation)))
		list_add(&b, "%s", w->word);
	if ((o->set & POPT_FIT) && o->fit)
		list_add(&b, "fit to page");
	if (b.len == 0)
		return xstrdup("");
	out = xasprintf("[%s]", b.data);
	buf_free(&b);
	return out;
}

char *
popt_subject_text(const char *text)
{
	struct buf b = { NULL, 0, 0 };
	const char *p;

	for (p = text ? text : ""; *p; p++) {
		if (*p == '[')
			buf_appendc(&b, '(');
		else if (*p == ']')
			buf_appendc(&b, ')');
		else if (*p == '#' && (p == text || is_blank(p[-1])))
			buf_append(&b, "\xef\xbc\x83", 3);	/* U+FF03 FULLWIDTH NUMBER SIGN */
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			buf_appendc(&b, ' ');
		else
			buf_appendc(&b, *p);
	}
	return b.len ? buf_steal(&b) : xstrdup("");
}
