/*
 * html2text.h - HTML mail bodies rendered to plain text, streamed.
 *
 * For printing an HTML body: text only, never anything fetched.  Images
 * (<img>, inline logos, tracking pixels), <script>, <style>, <head>,
 * <title>, comments and CDATA are dropped; <br>, <p>, <div>, <tr>, <li>,
 * headings and other block elements become line breaks (runs of blank
 * lines collapse to one); <li> gets "- "; table cells are separated by a
 * tab; whitespace runs collapse as a browser does, except inside <pre>;
 * character references (&amp; &lt; &gt; &quot; &apos; &nbsp; &#NN;
 * &#xHH; and the common named ones) are decoded to UTF-8, invalid ones
 * kept as written.  Link targets are not printed.  Input is UTF-8 (the
 * caller converts the charset first); invalid bytes pass through.
 *
 * The input is untrusted: any bytes, any length, split anywhere.  Memory
 * is bounded: a tag longer than 4 KiB is dropped whole.
 */
#ifndef M2C_HTML2TEXT_H
#define M2C_HTML2TEXT_H

#include <stddef.h>

#include "util.h"

struct html2text;

struct html2text *html2text_new(void);
/* Feed the next n bytes; rendered text is appended to out. */
void html2text_feed(struct html2text *h, const char *p, size_t n, struct buf *out);
/* End of input: flush what is pending (ends with one newline when not empty). */
void html2text_finish(struct html2text *h, struct buf *out);
/* *h = NULL; NULL is fine. */
void html2text_free(struct html2text **h);

#endif
