/*
 * test-imap-parse.c - the IMAP response push parser.
 *
 * Each case is fed whole, split at every byte boundary, and one byte at a
 * time; every way must give the same canonical dump, which must equal the
 * expected one.  Literals are buffered by the parser, except in "stream"
 * cases where the test consumes them itself, as the client does for BODY[].
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "imap-parse.h"
#include "tap.h"
#include "util.h"

static void
dump_val(struct buf *b, const struct imap_val *v)
{
	size_t i;

	switch (v->type) {
	case IMAP_VAL_ATOM:
		buf_appendf(b, "a:%s", v->str);
		break;
	case IMAP_VAL_NUMBER:
		buf_appendf(b, "n:%llu", (unsigned long long)v->num);
		break;
	case IMAP_VAL_QUOTED:
		buf_appendf(b, "q:\"%s\"", v->str);
		break;
	case IMAP_VAL_LITERAL:
		if (v->streamed)
			buf_appendf(b, "l:{%zu}<streamed>", v->len);
		else
			buf_appendf(b, "l:{%zu}%s", v->len, v->str);
		break;
	case IMAP_VAL_NIL:
		buf_appendf(b, "NIL");
		break;
	case IMAP_VAL_LIST:
		buf_appendc(b, '(');
		for (i = 0; i < v->nitems; i++) {
			if (i)
				buf_appendc(b, ' ');
			dump_val(b, &v->items[i]);
		}
		buf_appendc(b, ')');
		break;
	}
}

static void
dump_resp(struct buf *b, const struct imap_resp *r)
{
	static const char *st[] = { "-", "OK", "NO", "BAD", "PREAUTH", "BYE" };

	if (r->kind == IMAP_RESP_CONTINUE) {
		buf_appendf(b, "+|%s\n", r->text);
		return;
	}
	buf_appendf(b, "%s|%s|", r->kind == IMAP_RESP_TAGGED ? r->tag : "*", st[r->status]);
	if (r->has_num)
		buf_appendf(b, "%u ", r->num);
	buf_appendf(b, "%s|", r->name);
	if (r->code) {
		buf_appendf(b, "[%s", r->code);
		if (r->code_args.nitems) {
			buf_appendc(b, ' ');
			dump_val(b, &r->code_args);
		}
		buf_appendc(b, ']');
	}
	buf_appendf(b, "|%s|", r->text);
	dump_val(b, &r->args);
	buf_appendc(b, '\n');
}

struct run {
	struct buf out;		/* dumps, then "ERR:msg" */
	struct buf lits;	/* "ctx=item size" of each literal */
	int stream;		/* consume literals ourselves */
	struct imap_parser *p;
	size_t skip;		/* literal bytes still to consume */
};

/* Feed one chunk; returns -1 after an error. */
static int
run_chunk(struct run *r, const char *d, size_t n)
{
	const struct imap_literal_info *li;
	struct imap_resp *resp;
	enum imap_event ev;
	char *err = NULL;
	size_t used, k;

	while (n > 0) {
		if (r->skip) {
			k = n < r->skip ? n : r->skip;
			r->skip -= k;
			d += k;
			n -= k;
			if (r->skip == 0)
				imap_parser_literal_done(r->p);
			continue;
		}
		ev = imap_parser_feed(r->p, d, n, &used, &err);
		d += used;
		n -= used;
		switch (ev) {
		case IMAP_EV_NEED_MORE:
			break;
		case IMAP_EV_RESPONSE:
			resp = imap_parser_take(r->p);
			dump_resp(&r->out, resp);
			imap_resp_free(resp);
			break;
		case IMAP_EV_LITERAL:
			li = imap_parser_literal(r->p);
			buf_appendf(&r->lits, "%s%s%s:%s %llu ", li->binary ? "~" : "",
			    li->nonsync ? "+" : "", li->resp->name ? li->resp->name : "?",
			    li->item ? li->item : "-", (unsigned long long)li->size);
			if (r->stream && li->size > 0) {
				r->skip = (size_t)li->size;
				break;
			}
			if (imap_parser_literal_buffer(r->p) != 0) {
				/* a dead parser reports its error on any feed */
				(void)imap_parser_feed(r->p, d, 0, &used, &err);
				buf_appendf(&r->out, "ERR:%s\n", err);
				free(err);
				return -1;
			}
			break;
		case IMAP_EV_ERROR:
			buf_appendf(&r->out, "ERR:%s\n", err);
			free(err);
			return -1;
		}
	}
	return 0;
}

/* Feed input cut at the given points (sorted, within len). */
static char *
run_split(const char *in, size_t len, const size_t *cuts, size_t ncuts, int stream,
    const struct imap_parse_limits *lim, char **lits)
{
	struct run r = { .stream = stream };
	size_t prev = 0, i;

	r.p = imap_parser_new(lim);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		if (run_chunk(&r, in + prev, end - prev) != 0)
			break;
		prev = end;
	}
	imap_parser_destroy(&r.p);
	if (lits)
		*lits = buf_steal(&r.lits);
	else
		buf_free(&r.lits);
	return buf_steal(&r.out);
}

struct tcase {
	const char *name;
	const char *in;
	const char *want;	/* dumps; an error as "ERR:" + a substring */
	int stream;
	const char *lits;	/* literal contexts, optional */
	size_t len;		/* 0: strlen(in) */
};

static const struct tcase cases[] = {
	{ "greeting with capability code",
	  "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n",
	  "*|OK|OK|[CAPABILITY (a:IMAP4rev1 a:SASL-IR a:LOGIN-REFERRALS a:ID a:ENABLE a:IDLE a:LITERAL+ a:AUTH=PLAIN)]|Dovecot ready.|()\n" },
	{ "tagged OK with text",
	  "A0001 OK LOGIN completed\r\n", "A0001|OK|OK||LOGIN completed|()\n" },
	{ "tagged NO AUTHENTICATIONFAILED",
	  "A0002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
	  "A0002|NO|NO|[AUTHENTICATIONFAILED]|Authentication failed.|()\n" },
	{ "tagged BAD no text", "a7 BAD\r\n", "a7|BAD|BAD|||()\n" },
	{ "lower-case status", "a8 ok done\n", "a8|OK|OK||done|()\n" },
	{ "untagged UIDVALIDITY", "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
	  "*|OK|OK|[UIDVALIDITY (n:3857529045)]|UIDs valid|()\n" },
	{ "UIDNEXT and PERMANENTFLAGS",
	  "* OK [UIDNEXT 4392] Predicted next UID\r\n* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
	  "*|OK|OK|[UIDNEXT (n:4392)]|Predicted next UID|()\n"
	  "*|OK|OK|[PERMANENTFLAGS ((a:\\Deleted a:\\Seen a:\\*))]|Limited|()\n" },
	{ "TRYCREATE", "A3 NO [TRYCREATE] Mailbox doesn't exist: Printed\r\n",
	  "A3|NO|NO|[TRYCREATE]|Mailbox doesn't exist: Printed|()\n" },
	{ "ALERT", "* NO [ALERT] Quota exceeded\r\n", "*|NO|NO|[ALERT]|Quota exceeded|()\n" },
	{ "APPENDUID / COPYUID",
	  "A4 OK [APPENDUID 38505 3955] done\r\nA5 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
	  "A4|OK|OK|[APPENDUID (n:38505 n:3955)]|done|()\n"
	  "A5|OK|OK|[COPYUID (n:38505 a:304,319:320 a:3956:3958)]|Done|()\n" },
	{ "PREAUTH", "* PREAUTH [CAPABILITY IMAP4rev1] Logged in as alice\r\n",
	  "*|PREAUTH|PREAUTH|[CAPABILITY (a:IMAP4rev1)]|Logged in as alice|()\n" },
	{ "BYE", "* BYE Autologout; idle for too long\r\n",
	  "*|BYE|BYE||Autologout; idle for too long|()\n" },
	{ "EXISTS / RECENT / EXPUNGE",
	  "* 172 EXISTS\r\n* 1 RECENT\r\n* 44 EXPUNGE\r\n",
	  "*|-|172 EXISTS|||()\n*|-|1 RECENT|||()\n*|-|44 EXPUNGE|||()\n" },
	{ "CAPABILITY data", "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n",
	  "*|-|CAPABILITY|||(a:IMAP4rev1 a:STARTTLS a:LOGINDISABLED)\n" },
	{ "SEARCH", "* SEARCH 2 84 882\r\n", "*|-|SEARCH|||(n:2 n:84 n:882)\n" },
	{ "empty SEARCH", "* SEARCH\r\n", "*|-|SEARCH|||()\n" },
	{ "FLAGS", "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n",
	  "*|-|FLAGS|||((a:\\Answered a:\\Flagged a:\\Deleted a:\\Seen a:\\Draft a:$Forwarded))\n" },
	{ "LIST", "* LIST (\\HasNoChildren) \"/\" \"Print Failed\"\r\n",
	  "*|-|LIST|||((a:\\HasNoChildren) q:\"/\" q:\"Print Failed\")\n" },
	{ "LIST NIL delimiter atom name", "* LIST (\\Noselect) NIL INBOX\r\n",
	  "*|-|LIST|||((a:\\Noselect) NIL a:INBOX)\n" },
	{ "LIST with literal name", "* LIST () \".\" {11}\r\nINBOX.Druck\r\n",
	  "*|-|LIST|||(() q:\".\" l:{11}INBOX.Druck)\n", 0, "LIST:- 11 " },
	{ "NAMESPACE", "* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\")(\"shared.\" \".\"))\r\n",
	  "*|-|NAMESPACE|||(((q:\"INBOX.\" q:\".\")) NIL ((q:\"#shared.\" q:\".\") (q:\"shared.\" q:\".\")))\n" },
	{ "quoted escapes", "* LIST () \"\\\\\" \"a\\\"b\\\\c\"\r\n",
	  "*|-|LIST|||(() q:\"\\\" q:\"a\"b\\c\")\n" },
	{ "STATUS", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
	  "*|-|STATUS|||(a:blurdybloop (a:MESSAGES n:231 a:UIDNEXT n:44292))\n" },
	{ "FETCH RFC822.SIZE", "* 12 FETCH (UID 4827 RFC822.SIZE 44827)\r\n",
	  "*|-|12 FETCH|||((a:UID n:4827 a:RFC822.SIZE n:44827))\n" },
	{ "FETCH BODY[] literal",
	  "* 1 FETCH (UID 7 BODY[] {14}\r\nSubject: x\r\n\r\n FLAGS (\\Seen))\r\nA9 OK Fetch completed.\r\n",
	  "*|-|1 FETCH|||((a:UID n:7 a:BODY[] l:{14}Subject: x\r\n\r\n a:FLAGS (a:\\Seen)))\n"
	  "A9|OK|OK||Fetch completed.|()\n", 0, "FETCH:BODY[] 14 " },
	{ "FETCH BODY[] streamed by the caller",
	  "* 1 FETCH (UID 7 BODY[] {14}\r\nSubject: x\r\n\r\n)\r\nA9 OK done\r\n",
	  "*|-|1 FETCH|||((a:UID n:7 a:BODY[] l:{14}<streamed>))\n"
	  "A9|OK|OK||done|()\n", 1, "FETCH:BODY[] 14 " },
	{ "FETCH section with spaces and partial",
	  "* 2 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)]<0> {5}\r\nFrom:)\r\n",
	  "*|-|2 FETCH|||((a:BODY[HEADER.FIELDS (FROM SUBJECT)]<0> l:{5}From:))\n", 0,
	  "FETCH:BODY[HEADER.FIELDS (FROM SUBJECT)]<0> 5 " },
	{ "two literals in one response",
	  "* 3 FETCH (BODY[1] {2}\r\nab BODY[2] {0}\r\n)\r\n",
	  "*|-|3 FETCH|||((a:BODY[1] l:{2}ab a:BODY[2] l:{0}))\n", 0,
	  "FETCH:BODY[1] 2 FETCH:BODY[2] 0 " },
	{ "literal+ and literal8",
	  "* 4 FETCH (BINARY[] ~{3}\r\n\x01\x02\x03 X {1+}\r\nZ)\r\n",
	  "*|-|4 FETCH|||((a:BINARY[] l:{3}\x01\x02\x03 a:X l:{1}Z))\n", 0,
	  "~FETCH:BINARY[] 3 +FETCH:X 1 " },
	{ "FETCH NIL body and envelope-like nesting",
	  "* 5 FETCH (BODY[] NIL ENVELOPE (NIL \"s\" ((NIL NIL \"a\" \"b.c\"))))\r\n",
	  "*|-|5 FETCH|||((a:BODY[] NIL a:ENVELOPE (NIL q:\"s\" ((NIL NIL q:\"a\" q:\"b.c\")))))\n" },
	{ "continuation with text", "+ Ready for literal data\r\n", "+|Ready for literal data\n" },
	{ "continuation empty", "+\r\n", "+|\n" },
	{ "continuation base64",
	  "+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIn0=\r\n",
	  "+|eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIn0=\n" },
	{ "ID / ENABLED", "* ID (\"name\" \"Dovecot\")\r\n* ENABLED\r\n",
	  "*|-|ID|||((q:\"name\" q:\"Dovecot\"))\n*|-|ENABLED|||()\n" },
	{ "bare LF line ends", "* 3 EXISTS\n* SEARCH 1\n", "*|-|3 EXISTS|||()\n*|-|SEARCH|||(n:1)\n" },
	{ "number too big is an atom", "* SEARCH 99999999999999999999999\r\n",
	  "*|-|SEARCH|||(a:99999999999999999999999)\n" },
	{ "literal in a response code", "* OK [X {2}\r\nab] t\r\n",
	  "*|OK|OK|[X (l:{2}ab)]|t|()\n", 0, "OK:- 2 " },
	/* errors */
	{ "unbalanced (", "* FLAGS (\\Seen\r\n", "ERR:unbalanced '('" },
	{ "unbalanced )", "* FLAGS \\Seen)\r\n", "ERR:unbalanced ')'" },
	{ "unterminated quoted", "* LIST () \"/ INBOX\r\n", "ERR:unterminated quoted" },
	{ "unterminated code", "* OK [UIDVALIDITY 1\r\n", "ERR:unterminated [response code]" },
	{ "literal not at end", "* 1 FETCH (BODY[] {3} x\r\n", "ERR:literal marker not at the end" },
	{ "bad literal size", "* 1 FETCH (BODY[] {99999999999999999999}\r\n", "ERR:bad literal size" },
	{ "tagged BYE", "A1 BYE no\r\n", "ERR:tagged response is not OK, NO or BAD" },
	{ "tagged data", "A1 FETCH (x)\r\n", "ERR:tagged response is not OK" },
	{ "empty line", "\r\n", "ERR:empty response tag" },
	{ "no space after star", "*\r\n", "ERR:expected a space" },
	{ "message number overflow", "* 4294967296 EXISTS\r\n", "ERR:message number out of range" },
	{ "NUL in line", "* OK a\0b\r\n", "ERR:NUL byte", 0, NULL, 10 },
	{ "control char", "* SEARCH \x01\r\n", "ERR:unexpected character 0x01" },
	{ "unterminated section", "* 1 FETCH (BODY[HEADER\r\n", "ERR:unterminated [section]" },
	{ "tilde without literal", "* X ~a\r\n", "ERR:'~' not followed" },
};

static void
check_case(const struct tcase *c)
{
	size_t len = c->len ? c->len : strlen(c->in), k, *cuts;
	char *whole, *got, *lits = NULL;
	int same = 1, is_err = strncmp(c->want, "ERR:", 4) == 0;

	whole = run_split(c->in, len, NULL, 0, c->stream, NULL, &lits);
	if (is_err) {
		ok(strncmp(whole, "ERR:", 4) == 0 && strstr(whole, c->want + 4) != NULL,
		    "%s: error", c->name);
		if (strstr(whole, c->want + 4) == NULL)
			printf("#   got \"%s\"\n", whole);
	} else {
		is_str(whole, c->want, "%s: whole", c->name);
	}
	if (c->lits)
		is_str(lits, c->lits, "%s: literal contexts", c->name);
	free(lits);
	/* split at every byte boundary */
	for (k = 1; k < len && same; k++) {
		got = run_split(c->in, len, &k, 1, c->stream, NULL, NULL);
		if (strcmp(got, whole) != 0) {
			same = 0;
			printf("#   split at %zu: got \"%s\"\n", k, got);
		}
		free(got);
	}
	ok(same, "%s: same at every split point", c->name);
	/* one byte at a time */
	cuts = xcalloc(len ? len : 1, sizeof(*cuts));
	for (k = 1; k < len; k++)
		cuts[k - 1] = k;
	got = run_split(c->in, len, cuts, len ? len - 1 : 0, c->stream, NULL, NULL);
	is_str(got, whole, "%s: byte by byte", c->name);
	free(got);
	free(cuts);
	free(whole);
}

struct lcase {
	const char *name;
	struct imap_parse_limits lim;
	const char *in;
	const char *err;
};

static const struct lcase limit_cases[] = {
	{ "line length", { 16, 32, 100, 1000, 100 }, "* SEARCH 1 2 3 4 5 6 7 8\r\n", "line longer than 16" },
	{ "nesting depth", { 1000, 3, 100, 1000, 100 }, "* X ((((a))))\r\n", "nested deeper than 3" },
	{ "item count", { 1000, 32, 4, 100000, 100 }, "* SEARCH 1 2 3 4 5\r\n", "more than 4 values" },
	{ "literal cap", { 1000, 32, 100, 100000, 10 }, "* 1 FETCH (BODY[] {11}\r\n", "larger than 10" },
	{ "total buffered", { 1000, 32, 100000, 200, 100 },
	  "* 1 FETCH (A {90}\r\n"
	  "012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	  " B {90}\r\n", "response larger than 200" },
	{ "within limits", { 30, 3, 6, 1000, 100 }, "* SEARCH 1 2 3 4 5\r\n", NULL },
};

static void
check_limits(void)
{
	size_t i;
	char *got;

	for (i = 0; i < ARRAY_SIZE(limit_cases); i++) {
		const struct lcase *c = &limit_cases[i];

		got = run_split(c->in, strlen(c->in), NULL, 0, 0, &c->lim, NULL);
		if (c->err)
			has_str(got, c->err, "limit: %s", c->name);
		else
			ok(strncmp(got, "ERR:", 4) != 0, "limit: %s passes", c->name);
		free(got);
	}
}

static void
check_helpers_and_misuse(void)
{
	const char *in = "* 9 FETCH (UID 42 RFC822.SIZE 1000 BODY[] {3}\r\nabc)\r\n";
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_resp *r;
	enum imap_event ev;
	size_t used, total = 0;
	uint64_t n = 0;
	char *err = NULL;

	ev = imap_parser_feed(p, in, strlen(in), &used, &err);
	is_int(ev, IMAP_EV_LITERAL, "helpers: literal event");
	total += used;
	ok(imap_parser_literal_buffer(p) == 0, "helpers: buffer literal");
	ev = imap_parser_feed(p, in + total, strlen(in) - total, &used, &err);
	is_int(ev, IMAP_EV_RESPONSE, "helpers: response event");
	r = imap_parser_take(p);
	ok(r && imap_val_number(imap_fetch_item(imap_list_get(&r->args, 0), "uid"), &n) == 0 &&
	    n == 42, "helpers: fetch item UID");
	is_str(imap_val_str(imap_fetch_item(imap_list_get(&r->args, 0), "BODY[]")), "abc",
	    "helpers: fetch item BODY[]");
	ok(imap_fetch_item(imap_list_get(&r->args, 0), "FLAGS") == NULL, "helpers: absent item");
	ok(imap_list_get(&r->args, 5) == NULL, "helpers: list index out of range");
	imap_resp_free(r);
	imap_parser_destroy(&p);
	ok(p == NULL, "destroy sets NULL");

	/* feeding on without deciding about a literal is an error */
	p = imap_parser_new(NULL);
	ev = imap_parser_feed(p, "* 1 FETCH (BODY[] {3}\r\nabc)\r\n", 29, &used, &err);
	is_int(ev, IMAP_EV_LITERAL, "misuse: literal event");
	ev = imap_parser_feed(p, "abc)\r\n", 6, &used, &err);
	is_int(ev, IMAP_EV_ERROR, "misuse: undecided literal is an error");
	has_str(err, "did not decide", "misuse: message");
	free(err);
	err = NULL;
	ev = imap_parser_feed(p, "* OK\r\n", 6, &used, &err);
	is_int(ev, IMAP_EV_ERROR, "misuse: dead parser stays dead");
	free(err);
	imap_parser_destroy(&p);
	ok(p == NULL, "destroy sets the pointer to NULL");
	imap_parser_destroy(&p);	/* NULL is fine: a crash fails the program */
}

int
main(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		check_case(&cases[i]);
	check_limits();
	check_helpers_and_misuse();
	return tap_done();
}
