/* test-printopts.c - print option words, subject tags, merge, description. */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "printopts.h"
#include "tap.h"
#include "util.h"

/* One phrase: its description when taken, else a piece of the message. */
static void
test_items(void)
{
	static const struct { const char *item; int want; const char *what; } t[] = {
		{ "2 copies", 0, "2 copies" },
		{ "1 copy", 0, "1 copy" },
		{ "copies 3", 0, "3 copies" },
		{ "copies=4", 0, "4 copies" },
		{ "  COPIES = 5 ", 0, "5 copies" },
		{ "6x", 0, "6 copies" },
		{ "x7", 0, "7 copies" },
		{ "999 copies", 0, "999 copies" },
		{ "duplex", 0, "two-sided-long-edge" },
		{ "Two-Sided", 0, "two-sided-long-edge" },
		{ "double-sided", 0, "two-sided-long-edge" },
		{ "long-edge", 0, "two-sided-long-edge" },
		{ "tumble", 0, "two-sided-short-edge" },
		{ "short-edge", 0, "two-sided-short-edge" },
		{ "duplex  short", 0, "two-sided-short-edge" },
		{ "simplex", 0, "one-sided" },
		{ "one-sided", 0, "one-sided" },
		{ "single-sided", 0, "one-sided" },
		{ "color", 0, "color" },
		{ "Colour", 0, "color" },
		{ "mono", 0, "monochrome" },
		{ "monochrome", 0, "monochrome" },
		{ "grayscale", 0, "monochrome" },
		{ "greyscale", 0, "monochrome" },
		{ "BW", 0, "monochrome" },
		{ "b&w", 0, "monochrome" },
		{ "Black and\tWhite", 0, "monochrome" },
		{ "A3", 0, "iso_a3_297x420mm" },
		{ "a4", 0, "iso_a4_210x297mm" },
		{ "A5", 0, "iso_a5_148x210mm" },
		{ "B5", 0, "iso_b5_176x250mm" },
		{ "Letter", 0, "na_letter_8.5x11in" },
		{ "legal", 0, "na_legal_8.5x14in" },
		{ "tabloid", 0, "na_ledger_11x17in" },
		{ "executive", 0, "na_executive_7.25x10.5in" },
		{ "pages 1-3,5", 0, "pages 1-3,5" },
		{ "pages 1 - 3 , 5", 0, "pages 1-3,5" },
		{ "page 2", 0, "page 2" },
		{ "pages=1-3", 0, "pages 1-3" },
		{ "pages 1,2,3,4,5,6,7,99999", 0, "pages 1,2,3,4,5,6,7,99999" },
		{ "portrait", 0, "portrait" },
		{ "landscape", 0, "landscape" },
		{ "fit", 0, "fit to page" },
		{ "fit to page", 0, "fit to page" },
		{ "fit-to-page", 0, "fit to page" },
		{ "hold", 0, "held" },
		{ "body", 0, "with the message text" },
		{ "print body", 0, "with the message text" },
		{ "0 copies", M2C_E_DATA, "must be 1 to 999" },
		{ "1000 copies", M2C_E_DATA, "must be 1 to 999" },
		{ "99999999999999999999 copies", M2C_E_DATA, "must be 1 to 999" },
		{ "x0", M2C_E_DATA, "must be 1 to 999" },
		{ "pages 3-1", M2C_E_DATA, "runs backwards" },
		{ "pages 1-3,2", M2C_E_DATA, "ascending order" },
		{ "pages 5,5", M2C_E_DATA, "must not overlap" },
		{ "pages 0", M2C_E_DATA, "from 1 to 99999" },
		{ "pages 100000", M2C_E_DATA, "from 1 to 99999" },
		{ "pages 1,2,3,4,5,6,7,8,9", M2C_E_DATA, "at most 8 page ranges" },
		{ "pages 1-", M2C_E_DATA, "like \"pages 1-3,5\"" },
		{ "pages one", M2C_E_DATA, "like \"pages 1-3,5\"" },
		{ "copeis", M2C_E_DATA, "\"copeis\" is not a print option (known:" },
		{ "A6", M2C_E_DATA, "is not a print option" },
		{ "duplex please", M2C_E_DATA, "is not a print option" },
		{ "2 copies 3", M2C_E_DATA, "is not a print option" },
		{ "", M2C_E_DATA, "empty print option" },
		{ "   ", M2C_E_DATA, "empty print option" },
	};
	char long_item[300];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct print_opts o = { 0 };
		char *e = NULL, *d;
		int r = popt_parse_item(t[i].item, &o, &e);

		is_int(r, t[i].want, "item \"%s\"", t[i].item);
		if (t[i].want == 0) {
			d = popt_describe(&o);
			is_str(d, t[i].what, "... means %s", t[i].what);
			free(d);
		} else {
			has_str(e, t[i].what, "... is refused: %s", t[i].what);
			is_int(o.set, 0, "... and sets nothing");
		}
		free(e);
	}

	/* Letters, and page-range dashes (found by the fuzzer). */
	for (size_t i = 0; i < 2; i++) {
		char *e = NULL;
		struct print_opts o = { 0 };

		memset(long_item, i ? '-' : 'a', sizeof(long_item) - 1);
		for (size_t j = 0; i && j < sizeof(long_item) - 1; j += 2)
			long_item[j] = '1';
		long_item[sizeof(long_item) - 1] = '\0';
		is_int(popt_parse_item(long_item, &o, &e), M2C_E_DATA,
		    "a 299-byte phrase \"%.4s...\" is refused", long_item);
		has_str(e, "too long", "... as too long");
		free(e);
	}
}

/* A later word overrides an earlier one; a refused word changes nothing. */
static void
test_override(void)
{
	struct print_opts o = { 0 };
	char *d;

	popt_parse_item("2 copies", &o, NULL);
	popt_parse_item("pages 1-2", &o, NULL);
	popt_parse_item("duplex", &o, NULL);
	is_int(popt_parse_item("pages 4-3", &o, NULL), M2C_E_DATA, "a bad range after a good one");
	popt_parse_item("tumble", &o, NULL);
	popt_parse_item("3 copies", &o, NULL);
	d = popt_describe(&o);
	is_str(d, "3 copies, two-sided-short-edge, pages 1-2", "later words win, bad ones change nothing");
	free(d);
}

static void
test_subjects(void)
{
	static const struct {
		const char *subject;
		int want;
		const char *desc;
		const char *unknown;
	} t[] = {
		{ "Report [2 copies, duplex, A4]", 3,
		  "2 copies, two-sided-long-edge, iso_a4_210x297mm", NULL },
		{ "[EXTERNAL] Invoice #color", 1, "color", NULL },
		{ "Re: [ticket 42] notes", 0, "", NULL },
		{ "[2 copeis, duplex]", 1, "two-sided-long-edge", "\"2 copeis\"" },
		{ "#urgent please", 0, "", "\"#urgent\"" },
		{ "issue #42", 0, "", NULL },
		{ "#2 and #42. and #7-8", 0, "", NULL },
		{ "Plan [pages 1-3, 5; landscape] #fit-to-page", 3,
		  "pages 1-3,5, landscape, fit to page", NULL },
		{ "#2-copies #mono #Print_Body #hold", 4,
		  "2 copies, monochrome, held, with the message text", NULL },
		{ "#2copies #x3 #pages-2-4,6.", 3, "3 copies, pages 2-4,6", NULL },
		{ "#Duplex-Short, #A5!", 2, "two-sided-short-edge, iso_a5_148x210mm", NULL },
		{ "a#color x,#mono", 0, "", NULL },
		{ "[2 copies][3 copies]", 2, "3 copies", NULL },
		{ "[a [duplex]", 1, "two-sided-long-edge", NULL },
		{ "[duplex", 0, "", NULL },
		{ "[ duplex ,, ; A4 ]", 2, "two-sided-long-edge, iso_a4_210x297mm", NULL },
		{ "[0 copies, A4]", 1, "iso_a4_210x297mm", "\"0 copies\"" },
		{ "[\"x\\\001y, mono]", 1, "monochrome", "\"?x??y\"" },
		{ "#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, "",
		  "\"#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"" },
		{ "[a,b,c,d,e,f,g,h,i,j,k,l,A3]", 1, "iso_a3_297x420mm",
		  "\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", ..." },
		{ "", 0, "", NULL },
		{ NULL, 0, "", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct print_opts o = { 0 };
		char *u = (char *)"junk", *d;
		int n = popt_parse_subject(t[i].subject, &o, &u);
		const char *name = t[i].subject ? t[i].subject : "(null)";

		is_int(n, t[i].want, "subject \"%s\": options found", name);
		d = popt_describe(&o);
		is_str(d, t[i].desc, "... with the expected description");
		is_str(u, t[i].unknown, "... unknown: %s", t[i].unknown ? t[i].unknown : "none");
		free(d);
		free(u);
	}
}

/* Only the first 4 KiB of a subject are looked at. */
static void
test_long_subject(void)
{
	struct buf b = { NULL, 0, 0 };
	struct print_opts o = { 0 };
	char *u = NULL, *d;
	int n;

	buf_appendf(&b, "[A4] ");
	while (b.len < 4100)
		buf_appendc(&b, 'x');
	buf_appendf(&b, " #duplex [mono]");
	n = popt_parse_subject(b.data, &o, &u);
	is_int(n, 1, "a tag after 4 KiB is not looked at");
	d = popt_describe(&o);
	is_str(d, "iso_a4_210x297mm", "... the one before is");
	ok(u == NULL, "... and nothing is unknown");
	free(d);
	free(u);
	buf_free(&b);
}

static void
test_merge(void)
{
	static const struct {
		const char *base, *req;
		unsigned int allowed;
		int max_copies;
		const char *want, *refused;
	} t[] = {
		{ "[duplex, A4]", "[2 copies, mono]", POPT_ALL, 0,
		  "2 copies, two-sided-long-edge, monochrome, iso_a4_210x297mm", NULL },
		{ "[duplex, A4]", "[simplex, letter]", POPT_ALL, 0,
		  "one-sided, na_letter_8.5x11in", NULL },
		{ "[mono]", "[color, 2 copies]", POPT_ALL & ~POPT_COLOR, 0,
		  "2 copies, monochrome", "color (not allowed here)" },
		{ "[A4]", "[50 copies, color]", POPT_COPIES, 10,
		  "10 copies, iso_a4_210x297mm", "50 copies (at most 10), color (not allowed here)" },
		{ "[3 copies]", "[50 copies]", 0, 10,
		  "3 copies", "copies (not allowed here)" },
		{ "[3 copies]", "[10 copies]", POPT_ALL, 10, "10 copies", NULL },
		{ "[hold, body]", "[pages 2, landscape, fit]", POPT_PAGES | POPT_FIT, 0,
		  "page 2, fit to page, held, with the message text",
		  "orientation (not allowed here)" },
		{ "", "", POPT_ALL, 0, "", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct print_opts base = { 0 }, req = { 0 }, out;
		char *u = NULL, *refused = (char *)"junk", *d;

		popt_parse_subject(t[i].base, &base, &u);
		free(u);
		popt_parse_subject(t[i].req, &req, &u);
		free(u);
		popt_merge(&base, &req, t[i].allowed, t[i].max_copies, &out, &refused);
		d = popt_describe(&out);
		is_str(d, t[i].want, "merge %s over %s: %s", t[i].req, t[i].base, t[i].want);
		is_str(refused, t[i].refused, "... refused: %s", t[i].refused ? t[i].refused : "none");
		free(d);
		free(refused);
	}
}

static void
test_fields(void)
{
	static const struct { const char *name; int want; unsigned int bit; } t[] = {
		{ "copies", 0, POPT_COPIES },
		{ "sides", 0, POPT_SIDES },
		{ "color", 0, POPT_COLOR },
		{ "media", 0, POPT_MEDIA },
		{ "pages", 0, POPT_PAGES },
		{ "orientation", 0, POPT_ORIENTATION },
		{ "fit", 0, POPT_FIT },
		{ "hold", 0, POPT_HOLD },
		{ "Body", 0, POPT_BODY },
		{ "duplex", M2C_E_DATA, 0 },
		{ "", M2C_E_DATA, 0 },
	};
	unsigned int all = 0;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		unsigned int bit = 0;

		is_int(popt_field_parse(t[i].name, &bit), t[i].want, "field name \"%s\"", t[i].name);
		if (t[i].want == 0) {
			is_int(bit, t[i].bit, "... is bit %#x", t[i].bit);
			ok(popt_field_name(bit) && str_casecmp(popt_field_name(bit), t[i].name) == 0,
			    "... and its name is %s again", t[i].name);
			all |= bit;
		}
	}
	is_int(all, POPT_ALL, "the fields cover POPT_ALL");
	ok(popt_field_name(0) == NULL && popt_field_name(POPT_ALL) == NULL,
	    "no name for 0 or for several bits");
}

static void
test_describe(void)
{
	struct print_opts o = { 0 };
	char *d;
	static const char *const items[] = {
		"2 copies", "duplex", "mono", "A4", "pages 1-3,5", "landscape", "fit to page",
		"hold", "body",
	};

	for (size_t i = 0; i < ARRAY_SIZE(items); i++)
		popt_parse_item(items[i], &o, NULL);
	is_int(o.set, POPT_ALL, "every field set");
	d = popt_describe(&o);
	is_str(d, "2 copies, two-sided-long-edge, monochrome, iso_a4_210x297mm, pages 1-3,5, "
	    "landscape, fit to page, held, with the message text", "the full description");
	free(d);
}

/*
 * The backend's direction: CUPS options -> print_opts -> subject tags, and
 * the poller's parser reads the same options back from the subject.
 */
static void
test_from_cups(void)
{
	static const struct {
		const char *opts[4][2];
		const char *tags;
		const char *describe;
	} t[] = {
		{ { { "copies", "2" }, { "sides", "two-sided-long-edge" } },
		  "[2 copies, duplex]", "2 copies, two-sided-long-edge" },
		{ { { "sides", "two-sided-short-edge" }, { "print-color-mode", "monochrome" } },
		  "[tumble, mono]", "two-sided-short-edge, monochrome" },
		{ { { "sides", "one-sided" }, { "media", "iso_a4_210x297mm" } },
		  "[simplex, A4]", "one-sided, iso_a4_210x297mm" },
		{ { { "media", "Letter,tray-1" }, { "page-ranges", "1-3,5" } },
		  "[letter, pages 1-3,5]", "na_letter_8.5x11in, pages 1-3,5" },
		{ { { "PageSize", "A3" }, { "Duplex", "DuplexNoTumble" }, { "ColorModel", "Gray" } },
		  "[duplex, mono, A3]", "two-sided-long-edge, monochrome, iso_a3_297x420mm" },
		{ { { "orientation-requested", "4" }, { "fit-to-page", "true" },
		    { "print-color-mode", "color" } },
		  "[color, landscape, fit to page]", "color, landscape, fit to page" },
		{ { { "copies", "1" }, { "job-uuid", "urn:uuid:1" }, { "print-scaling", "auto" } },
		  "", "1 copy" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct print_opts o = { 0 }, back = { 0 };
		char *tags, *subject, *safe, *d1, *d2, *unknown = NULL;

		for (size_t j = 0; j < 4 && t[i].opts[j][0]; j++)
			ok(popt_from_cups(t[i].opts[j][0], t[i].opts[j][1], &o, NULL) >= 0,
			    "%s=%s taken", t[i].opts[j][0], t[i].opts[j][1]);
		tags = popt_tags(&o);
		is_str(tags, t[i].tags, "case %zu: the tags", i);
		d1 = popt_describe(&o);
		is_str(d1, t[i].describe, "case %zu: the options", i);
		safe = popt_subject_text("Report [draft] #3");
		subject = xasprintf("%s %s", safe, tags);
		free(safe);
		popt_parse_subject(subject, &back, &unknown);
		/* copies 1 is not written: the far printer's 1 is the same. */
		if ((o.set & POPT_COPIES) && o.copies == 1)
			o.set &= ~(unsigned)POPT_COPIES;
		d1 = (free(d1), popt_describe(&o));
		d2 = popt_describe(&back);
		is_str(d2, d1, "the subject \"%s\" reads back as the same options", subject);
		ok(unknown == NULL, "... with nothing unknown (%s)", unknown ? unknown : "");
		free(unknown);
		free(d1);
		free(d2);
		free(tags);
		free(subject);
	}
	{
		struct print_opts o = { 0 };
		char *e = NULL;

		is_int(popt_from_cups("media", "custom_100x100mm", &o, &e), M2C_E_DATA,
		    "a custom media has no tag");
		has_str(e, "no subject tag", "... and says so");
		free(e);
		e = NULL;
		is_int(popt_from_cups("page-ranges", "5-", &o, &e), M2C_E_DATA,
		    "an open page range has no tag");
		free(e);
		is_int(popt_from_cups("number-up", "2", &o, NULL), 0, "number-up is not ours");
		is_int(popt_from_cups("copies", "1000", &o, NULL), M2C_E_DATA, "1000 copies refused");
		is_int(o.set, 0, "nothing was set by those");
	}
	{
		char *s = popt_subject_text("[A4] #duplex\tnotes#1");

		is_str(s, "(A4) \xef\xbc\x83" "duplex notes#1", "a title carries no tags");
		free(s);
	}
}

int
main(void)
{
	test_items();
	test_override();
	test_subjects();
	test_long_subject();
	test_merge();
	test_fields();
	test_describe();
	test_from_cups();
	return tap_done();
}
