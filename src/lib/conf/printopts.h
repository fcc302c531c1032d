/*
 * printopts.h - print options: one vocabulary for rules and subject tags.
 *
 * The same words serve a rule's `options = [ "duplex", "A4" ]` in the
 * config and a sender's subject tags, "[2 copies, duplex, A4]" or
 * "#color", so that what an administrator writes and what a sender writes
 * mean the same thing.  The words (ASCII case-insensitive; in a hashtag,
 * '-' and '_' stand for spaces):
 *
 *   copies       "2 copies", "1 copy", "copies 2", "copies=2", "2x", "x2"  (1..999)
 *   sides        "duplex", "two-sided", "double-sided", "long-edge" ->
 *                two-sided-long-edge; "tumble", "short-edge", "duplex short"
 *                -> two-sided-short-edge; "simplex", "one-sided",
 *                "single-sided" -> one-sided
 *   color        "color", "colour" -> color; "mono", "monochrome", "grayscale",
 *                "greyscale", "bw", "black and white", "b&w" -> monochrome
 *   media        "A3", "A4", "A5", "B5", "letter", "legal", "tabloid",
 *                "executive" -> PWG names (iso_a4_210x297mm, na_letter_8.5x11in, ...)
 *   pages        "pages 1-3,5", "page 2", "pages=1-3": at most 8 ranges,
 *                ascending, not overlapping, 1..99999
 *   orientation  "portrait" (3), "landscape" (4)
 *   fit          "fit", "fit to page", "fit-to-page"
 *   hold         "hold": the job waits in CUPS until released
 *   body         "body", "print body": print the message text too
 *
 * They reach CUPS as the job attributes copies, sides, print-color-mode,
 * media, page-ranges, orientation-requested, print-scaling=fit (and
 * fit-to-page), job-hold-until=indefinite (see cupsjob.c).
 *
 * Nothing here allocates except where said; the option values are static
 * strings.
 */
#ifndef M2C_PRINTOPTS_H
#define M2C_PRINTOPTS_H

#include <stddef.h>

/* Which option a word sets: bits of struct print_opts.set and of allowed sets. */
enum popt_field {
	POPT_COPIES = 1u << 0,
	POPT_SIDES = 1u << 1,
	POPT_COLOR = 1u << 2,
	POPT_MEDIA = 1u << 3,
	POPT_PAGES = 1u << 4,
	POPT_ORIENTATION = 1u << 5,
	POPT_FIT = 1u << 6,
	POPT_HOLD = 1u << 7,
	POPT_BODY = 1u << 8,
};
#define POPT_ALL	0x1ffu
/*
 * What a sender's subject tags may change where a rule has no
 * allow_options: copies (up to max_copies), sides, pages, orientation,
 * fit, hold and body; colour and media too, but only where the rule's
 * options do not set them (rules.c).
 */
#define POPT_SENDER_DEFAULT	(POPT_COPIES | POPT_SIDES | POPT_PAGES | POPT_ORIENTATION | \
				 POPT_FIT | POPT_HOLD | POPT_BODY)
#define POPT_ALLOW_DEFAULT	0x80000000u	/* allow_options not given: the default above */
#define POPT_MAX_RANGES	8
#define POPT_MAX_COPIES	999

struct print_opts {
	unsigned int set;		/* POPT_* bits of the fields below that are given */
	int copies;			/* 1..999 */
	const char *sides;		/* "one-sided", "two-sided-long-edge", "two-sided-short-edge" */
	const char *color;		/* print-color-mode: "color" or "monochrome" */
	const char *media;		/* PWG media name, "iso_a4_210x297mm" */
	int ranges[POPT_MAX_RANGES][2];	/* page-ranges: [lo, hi], 1-based, ascending */
	int nranges;
	int orientation;		/* orientation-requested: 3 portrait, 4 landscape */
	int fit;			/* 1: scale to fit the page */
	int hold;			/* 1: job-hold-until=indefinite */
	int body;			/* 1: print the message body */
};

/*
 * Parse one option phrase ("2 copies", "duplex", "A4", "pages 1-3,5";
 * leading/trailing blanks ignored, no '#' or brackets) into o: the field
 * is set and its bit added to o->set (a later word overrides an earlier
 * one).  0, or M2C_E_DATA when the phrase is not an option or its value is
 * out of range, with *errstr (optional) saying which and what is known.
 */
int popt_parse_item(const char *item, struct print_opts *o, char **errstr);

/*
 * Find the print options in a subject: every "[...]" group whose items
 * (separated by ',' or ';') include at least one option word is a tag
 * group; every "#word" (a '#' at the start or after a blank, followed by a
 * letter or digit, up to the next blank) is a hashtag.  A bracket group
 * with no option word at all ("[EXTERNAL]", "[ticket 42]") is not a tag
 * group and is ignored.  Options found are added to o.  *unknown
 * (allocated, or NULL when there is none) lists the items of tag groups
 * and the hashtags that are not options, as "\"copeis\", \"#urgent\"":
 * they are reported, never guessed.  The subject is untrusted: any bytes,
 * any length (only the first 4 KiB are looked at).  Returns the number of
 * options found.
 */
int popt_parse_subject(const char *subject, struct print_opts *o, char **unknown);

/*
 * Lay the sender's options `req` over the rule's `base` in *out: a field of
 * req is taken only when its bit is in `allowed`; copies above max_copies
 * are lowered to max_copies.  *refused (allocated, or NULL) names what was
 * not taken and why, as "color (not allowed here), 50 copies (at most 10)".
 */
void popt_merge(const struct print_opts *base, const struct print_opts *req, unsigned int allowed,
    int max_copies, struct print_opts *out, char **refused);

/*
 * The name of a field for allow_options: "copies", "sides", "color",
 * "media", "pages", "orientation", "fit", "hold", "body".  popt_field_parse
 * gives the bit of a name (0 and *bit), or M2C_E_DATA.
 */
int popt_field_parse(const char *name, unsigned int *bit);
const char *popt_field_name(unsigned int bit);

/*
 * A human description of the options set, for logs and replies:
 * "2 copies, two-sided-long-edge, iso_a4_210x297mm, pages 1-3,5, held".
 * "" when none.  Allocated.
 */
char *popt_describe(const struct print_opts *o);

/*
 * The other direction (the CUPS backend): a CUPS job option, as it reaches
 * a backend in argv[5] (or copies from argv[4]), into o.  Understood:
 * copies, sides, Duplex, print-color-mode, output-mode, ColorModel, media,
 * PageSize, page-ranges, orientation-requested, landscape, fit-to-page,
 * print-scaling.  1 when it set a field, 0 when name is none of these (or
 * says "the printer's default"), M2C_E_DATA when it is one but its value
 * has no subject tag (media=custom_..., page-ranges=5-), with *errstr
 * (optional) saying so.
 */
int popt_from_cups(const char *name, const char *value, struct print_opts *o, char **errstr);

/*
 * o as one subject tag group that popt_parse_subject() reads back to the
 * same options: "[2 copies, duplex, A4, pages 1-3,5, mono, landscape, fit
 * to page]".  Copies of 1, hold and body are not written.  "" when there is
 * nothing to write.  Allocated.
 */
char *popt_tags(const struct print_opts *o);

/*
 * text (a job title) made safe to stand in a subject before popt_tags():
 * no tag is read from it ('[' ']' become '(' ')', a '#' that would start
 * a hashtag becomes U+FF03, controls become spaces).  Allocated.
 */
char *popt_subject_text(const char *text);

#endif
