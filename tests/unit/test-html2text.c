/*
 * test-html2text.c - html2text over a table of HTML snippets: each is
 * rendered fed whole, byte by byte, and in 7-byte chunks, and all three
 * must give exactly the expected text.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "html2text.h"
#include "tap.h"
#include "util.h"

struct h2t_case {
	const char *name;
	const char *html;
	const char *text;
};

static const struct h2t_case cases[] = {
	{ "empty", "", "" },
	{ "only markup and blanks", "<html><body> \n\t<p> </p></body></html>", "" },
	{ "plain text", "Hello world", "Hello world\n" },
	{ "whitespace collapses", "  Hello \n\n\t  world  ", "Hello world\n" },
	{ "paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo\n" },
	{ "br", "a<br>b<br/>c<BR >d", "a\nb\nc\nd\n" },
	{ "two br make one blank line", "a<br><br><br><br>b", "a\n\nb\n" },
	{ "div", "<div>a</div><div>b</div>", "a\nb\n" },
	{ "headings", "<h1>Title</h1>text<h2>Sub</h2>", "Title\n\ntext\n\nSub\n" },
	{ "blank runs collapse", "<p>a</p><p></p><p></p><div></div><p>b</p>", "a\n\nb\n" },
	{ "inline tags join", "<b>bo</b><i>ld</i> <span style=\"x\">text</span>",
	  "bold text\n" },
	{ "list", "<ul><li>one</li><li> two </li></ul>after", "- one\n- two\nafter\n" },
	{ "nested list", "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>",
	  "- a\n  - b\n- c\n" },
	{ "ordered list", "<ol><li>x<li>y</ol>", "- x\n- y\n" },
	{ "table", "<table><tr><th>Name</th><th>Qty</th></tr>"
	  "<tr><td> Paper </td><td>2</td></tr><tr><td></td><td>3</td></tr></table>end",
	  "Name\tQty\nPaper\t2\n\t3\nend\n" },
	{ "pre keeps spaces", "<p>x</p><pre>\n  a   b\n\tc\n</pre>y",
	  "x\n\n  a   b\n\tc\n\ny\n" },
	{ "pre blank lines collapse", "<pre>a\n\n\n\nb</pre>", "a\n\nb\n" },
	{ "script dropped", "a<script type=\"text/javascript\">if (a < b) "
	  "document.write('<p>x</p>');</script>b", "ab\n" },
	{ "script end tag case", "a<SCRIPT>x</ScRiPt >b", "ab\n" },
	{ "script unterminated", "a<script>never ends <p>b", "a\n" },
	{ "style dropped", "<style>p { color: red; }</style><p>text</p>", "text\n" },
	{ "head and title dropped", "<html><head><title>Secret</title><meta charset=utf-8>"
	  "</head><body>Body</body></html>", "Body\n" },
	{ "head ended by body", "<head><meta x>junk<body>Body", "Body\n" },
	{ "comment dropped", "a<!-- <p>x</p> -- > --->b", "ab\n" },
	{ "comment unterminated", "a<!-- b", "a\n" },
	{ "cdata dropped", "a<![CDATA[ <b>x</b> ]]>b", "ab\n" },
	{ "doctype dropped", "<!DOCTYPE html><?xml version=\"1.0\"?>x", "x\n" },
	{ "lone lt", "a < b <3 <", "a < b <3 <\n" },
	{ "images dropped", "x<img src=\"http://track.example/p.gif\" alt=\"logo\">"
	  "<img src=\"cid:logo1\">y", "xy\n" },
	{ "link target not printed", "<a href=\"http://example.com/x\">click</a>",
	  "click\n" },
	{ "quoted > in attribute", "<a title=\"a>b\" x='c>d'>t</a>", "t\n" },
	{ "xml entities", "&amp; &lt; &gt; &quot; &apos;", "& < > \" '\n" },
	{ "nbsp is not collapsed", "a&nbsp;&nbsp;b", "a\xc2\xa0\xc2\xa0" "b\n" },
	{ "named entities", "&copy;&reg;&trade;&hellip;&mdash;&ndash;&euro;&pound;&eacute;&Uuml;",
	  "\xc2\xa9\xc2\xae\xe2\x84\xa2\xe2\x80\xa6\xe2\x80\x94\xe2\x80\x93\xe2\x82\xac"
	  "\xc2\xa3\xc3\xa9\xc3\x9c\n" },
	{ "quotes", "&lsquo;a&rsquo; &ldquo;b&rdquo;",
	  "\xe2\x80\x98" "a\xe2\x80\x99 \xe2\x80\x9c" "b\xe2\x80\x9d\n" },
	{ "numeric entities", "&#65;&#x42;&#X43;&#233;&#x1F600;",
	  "ABC\xc3\xa9\xf0\x9f\x98\x80\n" },
	{ "invalid numeric kept", "&#0;&#xD800;&#x110000;&#99999999999;&#;&#x;&#12a;",
	  "&#0;&#xD800;&#x110000;&#99999999999;&#;&#x;&#12a;\n" },
	{ "unknown or unterminated kept", "&bogus; &amp &copy x & y AT&T",
	  "&bogus; &amp &copy x & y AT&T\n" },
	{ "entity at the end", "a&amp", "a&amp\n" },
	{ "long entity kept", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
	  "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;\n" },
	{ "entity whitespace collapses", "a&#32;&#10; b", "a b\n" },
	{ "control characters dropped", "a\x01\x1b[31mb\x7f", "a[31mb\n" },
	{ "invalid utf-8 passes", "\xff\xfe ok \xc3", "\xff\xfe ok \xc3\n" },
	{ "entities in raw text not decoded", "<title>&amp;</title>x", "x\n" },
	{ "crlf", "a\r\nb<br>\r\nc", "a b\nc\n" },
};

static char *
render(const char *html, size_t len, size_t chunk)
{
	struct html2text *h = html2text_new();
	struct buf out = { 0 };
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		html2text_feed(h, html + off, n, &out);
	}
	html2text_finish(h, &out);
	html2text_free(&h);
	return buf_steal(&out);
}

static void
run_case(const struct h2t_case *c)
{
	static const size_t chunks[] = { (size_t)-1, 1, 7 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		char *got = render(c->html, strlen(c->html), chunks[i]);

		is_str(got, c->text, "%s (chunks of %zd)", c->name, (ssize_t)chunks[i]);
		free(got);
	}
}

/* A tag over 4 KiB is dropped whole, whatever it holds; memory stays bounded. */
static void
run_huge_tag(void)
{
	struct buf html = { 0 };
	char *got;
	size_t i;

	buf_append(&html, "before<p title=\"", 16);
	for (i = 0; i < 100000; i++)
		buf_append(&html, "x>", 2);
	buf_append(&html, "\">after", 7);
	got = render(html.data, html.len, 4096);
	is_str(got, "beforeafter\n", "huge tag dropped whole");
	free(got);
	buf_reset(&html);
	buf_append(&html, "a<br", 4);
	for (i = 0; i < 5000; i++)
		buf_appendc(&html, ' ');
	buf_append(&html, ">b<br>c", 7);
	got = render(html.data, html.len, 1);
	is_str(got, "ab\nc\n", "a <br> over 4 KiB is not a line break");
	free(got);
	buf_free(&html);
}

/* The same object can render a second document after finish. */
static void
run_reuse(void)
{
	struct html2text *h = html2text_new();
	struct buf out = { 0 };

	html2text_feed(h, "<pre>a", 6, &out);
	html2text_finish(h, &out);
	html2text_feed(h, "x   y<script>", 13, &out);
	html2text_finish(h, &out);
	is_str(out.data, "a\nx y\n", "finish resets the state");
	html2text_free(&h);
	ok(h == NULL, "free sets the pointer to NULL");
	html2text_free(&h);
	html2text_free(NULL);
	buf_free(&out);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	run_huge_tag();
	run_reuse();
	return tap_done();
}
