/*
 * test-deliver.c - what `mail2cups deliver` reads of a message before it
 * stores it: the end of the lines an MTA prepends at each delivery attempt
 * (the identity's content hash starts there, so a retry is the same
 * message) and the Message-ID.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "tap.h"
#include "util.h"

static const struct {
	const char *what;
	const char *msg;
	const char *rest;	/* what is left after the trace lines */
} trace_cases[] = {
	{ "no trace lines", "From: a@b\nSubject: x\n\nbody\n", "From: a@b\n" },
	{ "Postfix pipe flags=DRF",
	  "From bob@example.com  Sun Dec  6 15:00:00 2026\nReturn-Path: <bob@example.com>\n"
	  "Delivered-To: print@example.org\nFrom: bob@example.com\n\nx\n", "From: bob@" },
	{ "folded Received lines, any case",
	  "received: from a\n\tby b;\n Sun, 6 Dec 2026\nRECEIVED: from c\n"
	  "X-Original-To: p@x\nMessage-ID: <1@x>\n\n", "Message-ID: <1@x>" },
	{ "CRLF", "Return-Path: <a@b>\r\nReceived: x\r\n y\r\nSubject: s\r\n\r\n", "Subject: s" },
	{ "a trace field below another field stays", "Subject: s\nReceived: x\n\n", "Subject: s" },
	{ "a field name that only starts like one", "Received-SPF: pass\nReturn-Path: <a@b>\n\n",
	  "Received-SPF: pass" },
	{ "a trace field cut off at the buffer's end is kept", "Received: from a\n\tby b",
	  "Received: from a" },
	{ "a trace field whose fold may go on is kept", "Received: from a\n", "Received: from a" },
	{ "only a From_ line", "From a@b Sun Dec 6\nSubject: s\n\n", "Subject: s" },
	{ "a From_ line without its end", "From a@b Sun Dec 6", "From a@b" },
	{ "X-Envelope fields", "X-Envelope-From: <a@b>\nX-Envelope-To: <c@d>\nTo: c@d\n\n",
	  "To: c@d" },
};

static const struct {
	const char *what;
	const char *hdr;
	const char *want;	/* NULL: none */
} mid_cases[] = {
	{ "plain", "Subject: s\nMessage-ID: <abc@example.com>\n\nbody\n", "abc@example.com" },
	{ "any case, folded", "message-id:\n <x.y@z>\n\n", "x.y@z" },
	{ "without brackets, trimmed", "Message-Id:  a@b  \r\n\r\n", "a@b" },
	{ "the first one", "Message-ID: <1@x>\nMessage-ID: <2@x>\n\n", "1@x" },
	{ "none", "Subject: s\n\nMessage-ID: <in-the-body@x>\n", NULL },
	{ "not in a longer name", "X-Message-ID: <no@x>\n\n", NULL },
	{ "empty", "Message-ID: <>\n\n", NULL },
	{ "cut off", "Subject: s\nMessage-ID: <abc", NULL },
};

int
main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(trace_cases); i++) {
		const char *m = trace_cases[i].msg;
		size_t off = deliver_trace_end(m, strlen(m));

		ok(strncmp(m + off, trace_cases[i].rest, strlen(trace_cases[i].rest)) == 0,
		    "trace end: %s (left: \"%.20s\")", trace_cases[i].what, m + off);
	}
	for (size_t i = 0; i < ARRAY_SIZE(mid_cases); i++) {
		char *id = deliver_message_id(mid_cases[i].hdr, strlen(mid_cases[i].hdr));

		if (mid_cases[i].want == NULL)
			ok(id == NULL, "Message-ID: %s: none (got %s)", mid_cases[i].what,
			    id ? id : "none");
		else
			is_str(id, mid_cases[i].want, "Message-ID: %s", mid_cases[i].what);
		free(id);
	}
	{
		/* A long Message-ID (over 998) is not one. */
		char *h = xasprintf("Message-ID: <%01000d@x>\n\n", 0);

		ok(deliver_message_id(h, strlen(h)) == NULL, "Message-ID: over 998 bytes: none");
		free(h);
	}
	return tap_done();
}
