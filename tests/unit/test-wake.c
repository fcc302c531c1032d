/*
 * test-wake.c - the wake-up datagram (wake.h): what the plugin writes
 * parses back to the same thing; every malformed or hostile shape is
 * refused; the UID set is bounded however many UIDs a commit has.
 */
#include "m2c-config.h"

#include <stdint.h>
#include <string.h>

#include "error.h"
#include "tap.h"
#include "wake.h"

#define GOOD "mail2cups-wake 1\nuser alice\nmailbox INBOX\nuidvalidity 1733480000\nuids 4,7:9\n"

static const struct bad_case {
	const char *name, *text;
	const char *why;	/* a word of the reason */
} bad[] = {
	{ "empty", "", "not a mail2cups" },
	{ "another protocol", "GET / HTTP/1.0\n\n", "not a mail2cups" },
	{ "version 2", "mail2cups-wake 2\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "version" },
	{ "version 10", "mail2cups-wake 10\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "version" },
	{ "no user", "mail2cups-wake 1\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "missing" },
	{ "fields swapped", "mail2cups-wake 1\nmailbox INBOX\nuser a\nuidvalidity 1\nuids 1\n", "missing" },
	{ "user twice", "mail2cups-wake 1\nuser a\nuser b\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "missing" },
	{ "empty user", "mail2cups-wake 1\nuser \nmailbox INBOX\nuidvalidity 1\nuids 1\n", "user name" },
	{ "user with CR", "mail2cups-wake 1\nuser a\r\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "user name" },
	{ "user with tab", "mail2cups-wake 1\nuser a\tb\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "user name" },
	{ "user not UTF-8", "mail2cups-wake 1\nuser a\xff\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "UTF-8" },
	{ "overlong UTF-8", "mail2cups-wake 1\nuser a\xc0\xaf\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "UTF-8" },
	{ "surrogate", "mail2cups-wake 1\nuser a\xed\xa0\x80\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "UTF-8" },
	{ "empty mailbox", "mail2cups-wake 1\nuser a\nmailbox \nuidvalidity 1\nuids 1\n", "mailbox name" },
	{ "uidvalidity 0", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 0\nuids 1\n", "UIDVALIDITY" },
	{ "uidvalidity 2^32", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 4294967296\nuids 1\n", "UIDVALIDITY" },
	{ "uidvalidity signed", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity +5\nuids 1\n", "UIDVALIDITY" },
	{ "uidvalidity junk", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 5x\nuids 1\n", "UIDVALIDITY" },
	{ "leading zero", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 01\n", "UID" },
	{ "uid 0", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 0\n", "UID" },
	{ "no uids", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids \n", "UID" },
	{ "star", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1:*\n", "UID" },
	{ "backwards range", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 9:7\n", "backwards" },
	{ "descending", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 9,7\n", "ascending" },
	{ "overlap", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1:5,5\n", "ascending" },
	{ "trailing comma", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1,\n", "UID" },
	{ "space in set", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1 2\n", "stray" },
	{ "no final newline", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1", "newline" },
	{ "extra line", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1\nbody x\n", "follows" },
	{ "extra newline", "mail2cups-wake 1\nuser a\nmailbox INBOX\nuidvalidity 1\nuids 1\n\n", "follows" },
	{ "unknown field", "mail2cups-wake 1\nuser a\nprint yes\nmailbox INBOX\nuidvalidity 1\nuids 1\n", "missing" },
};

static void
test_good(void)
{
	struct wake w;
	const char *why = NULL;
	char out[WAKE_MAX_SIZE + 1];
	int n;

	is_int(wake_parse(GOOD, strlen(GOOD), &w, &why), 0, "a good datagram parses");
	is_str(w.user, "alice", "... user");
	is_str(w.mailbox, "INBOX", "... mailbox");
	is_int(w.uidvalidity, 1733480000, "... uidvalidity");
	is_int(w.nuids, 2, "... two ranges");
	ok(w.uids[0].first == 4 && w.uids[0].last == 4 && w.uids[1].first == 7 &&
	    w.uids[1].last == 9, "... 4 and 7:9");
	n = wake_format(&w, out, sizeof(out));
	is_int(n, (long long)strlen(GOOD), "written again: same length");
	is_str(out, GOOD, "written again: same bytes");

	static const char utf8[] = "mail2cups-wake 1\nuser j\xc3\xb6rg@example.org\nmailbox "
	    "Dru\xc3\xa7k \xe2\x82\xac \xf0\x9f\x96\xa8\nuidvalidity 4294967295\nuids 4294967295\n";
	is_int(wake_parse(utf8, strlen(utf8), &w, &why), 0, "UTF-8 names, spaces, 2^32-1");
	is_str(w.mailbox, "Dru\xc3\xa7k \xe2\x82\xac \xf0\x9f\x96\xa8", "... the mailbox as sent");
}

static void
test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wake w;
		const char *why = NULL;
		int r = wake_parse(bad[i].text, strlen(bad[i].text), &w, &why);

		is_int(r, M2C_E_DATA, "refused: %s", bad[i].name);
		has_str(why, bad[i].why, "... reason for %s", bad[i].name);
	}
	/* A NUL inside, and a datagram longer than any writer makes. */
	{
		static const char nul[] = "mail2cups-wake 1\nuser a\0b\nmailbox INBOX\n"
		    "uidvalidity 1\nuids 1\n";
		char big[WAKE_MAX_SIZE + 2];
		struct wake w;
		const char *why = NULL;

		is_int(wake_parse(nul, sizeof(nul) - 1, &w, &why), M2C_E_DATA, "refused: a NUL byte");
		memset(big, 'a', sizeof(big));
		memcpy(big, GOOD, strlen(GOOD));
		is_int(wake_parse(big, sizeof(big), &w, &why), M2C_E_DATA, "refused: too long");
		has_str(why, "longer", "... says so");
		is_int(wake_parse(GOOD, strlen(GOOD), &w, NULL), 0, "why is optional");
	}
	/* A name one byte too long; and at the limit. */
	{
		char text[WAKE_MAX_SIZE + 1], name[WAKE_MAX_USER + 2];
		struct wake w;
		int n;

		memset(name, 'u', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		n = snprintf(text, sizeof(text), "mail2cups-wake 1\nuser %s\nmailbox INBOX\n"
		    "uidvalidity 1\nuids 1\n", name);
		is_int(wake_parse(text, (size_t)n, &w, NULL), M2C_E_DATA, "a 256-byte user is refused");
		name[WAKE_MAX_USER] = '\0';
		n = snprintf(text, sizeof(text), "mail2cups-wake 1\nuser %s\nmailbox INBOX\n"
		    "uidvalidity 1\nuids 1\n", name);
		is_int(wake_parse(text, (size_t)n, &w, NULL), 0, "a 255-byte user is taken");
	}
}

static void
test_uids(void)
{
	struct wake w, back;
	char out[WAKE_MAX_SIZE + 1];
	int n;

	memset(&w, 0, sizeof(w));
	strcpy(w.user, "print@school.example");
	strcpy(w.mailbox, "INBOX");
	w.uidvalidity = 7;
	is_int(wake_format(&w, out, sizeof(out)), M2C_E_DATA, "no UID: nothing written");
	is_int(wake_add_range(&w, 0, 0), M2C_E_DATA, "UID 0 refused");
	is_int(wake_add_range(&w, 5, 5), 0, "UID 5");
	is_int(wake_add_range(&w, 6, 6), 0, "UID 6");
	is_int(wake_add_range(&w, 6, 6), M2C_E_DATA, "UID 6 again refused");
	is_int(wake_add_range(&w, 3, 3), M2C_E_DATA, "UID 3 after 6 refused");
	is_int(w.nuids, 1, "5 and 6 make one range");
	is_int(wake_add_range(&w, 9, 8), M2C_E_DATA, "range 9:8 refused");
	is_int(wake_add_range(&w, 7, 8), 0, "range 7:8 joins 5:6");
	is_int(w.nuids, 1, "... still one range");
	/* Every other UID: far more ranges than fit. */
	for (uint32_t u = 10; u < 100000; u += 2)
		wake_add_range(&w, u, u);
	is_int(w.nuids, WAKE_MAX_RANGES, "ranges bounded at WAKE_MAX_RANGES");
	is_int(w.uids[WAKE_MAX_RANGES - 1].last, 99998, "the last range covers the last UID");
	n = wake_format(&w, out, sizeof(out));
	ok(n > 0 && n <= WAKE_MAX_SIZE, "the biggest set fits in one datagram (%d bytes)", n);
	is_int(wake_parse(out, (size_t)n, &back, NULL), 0, "... and parses");
	is_int(back.nuids, WAKE_MAX_RANGES, "... with every range");

	/* The longest names with the most ranges of the biggest UIDs still fit. */
	memset(&w, 0, sizeof(w));
	memset(w.user, 'u', WAKE_MAX_USER);
	memset(w.mailbox, 'm', WAKE_MAX_MAILBOX);
	w.uidvalidity = UINT32_MAX;
	for (uint32_t u = UINT32_MAX - 4 * WAKE_MAX_RANGES; u < UINT32_MAX; u += 3)
		wake_add_range(&w, u, u);
	n = wake_format(&w, out, sizeof(out));
	ok(n > 0 && n <= WAKE_MAX_SIZE, "worst case fits in WAKE_MAX_SIZE (%d bytes)", n);
	is_int(wake_parse(out, (size_t)n, &back, NULL), 0, "... and parses");
	is_int(wake_format(&w, out, 100), M2C_E_DATA, "a small buffer: refused, not cut");

	memset(&w, 0, sizeof(w));
	strcpy(w.user, "a\nuids 1");
	strcpy(w.mailbox, "INBOX");
	w.uidvalidity = 1;
	wake_add_range(&w, 1, 1);
	is_int(wake_format(&w, out, sizeof(out)), M2C_E_DATA, "a newline in a name is never written");
}

int
main(void)
{
	test_good();
	test_bad();
	test_uids();
	return tap_done();
}
