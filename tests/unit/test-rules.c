/*
 * test-rules.c - routing rules, subject tags on top of a rule's options,
 * the users table, and the sender and reply policy (policy.c) on parsed
 * messages.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "policy.h"
#include "rules.h"
#include "tap.h"
#include "util.h"

#define LIST(...) { (char *[]){ __VA_ARGS__ }, sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *) }

/* A message as mime_extract would give it; the fields are borrowed. */
static struct mime_message
msg(const char *from, const char *subject, char **rcpts, size_t nrcpts)
{
	struct mime_message m = { 0 };

	m.from_addr = (char *)from;
	m.subject = (char *)subject;
	m.recipients = rcpts;
	m.nrecipients = nrcpts;
	return m;
}

static void
test_route(void)
{
	struct conf_rule rules[3] = { 0 }, global[1] = { 0 };
	struct conf_account a = { 0 };
	struct conf cf = { 0 };
	char *to2[] = { "print+floor2@contoso.com" }, *to3[] = { "x@contoso.com",
		"print+floor3@contoso.com" }, *to0[] = { "print@contoso.com" };
	struct rules_route r;
	struct mime_message m;

	a.printer = "lobby";
	a.print_body = CONF_BODY_NEVER;
	rules[0] = (struct conf_rule){ .name = "floor 2", .recipients = LIST("print+floor2@*"),
		.printer = "floor2", .allow_options = POPT_ALL, .max_copies = 10, .hold = -1,
		.print_body = -1 };
	rules[1] = (struct conf_rule){ .name = "floor 3", .recipients = LIST("print+floor3@*"),
		.printer = "floor3", .allow_options = POPT_COPIES, .max_copies = 3, .hold = 1,
		.print_body = CONF_BODY_ALWAYS };
	popt_parse_item("duplex", &rules[1].options, NULL);
	rules[2] = (struct conf_rule){ .name = "invoices", .senders = LIST("*@billing.example"),
		.subjects = LIST("*invoice*"), .printer = "accounts", .allow_options = POPT_ALL,
		.max_copies = 10, .hold = -1, .print_body = -1 };
	global[0] = (struct conf_rule){ .name = "global", .subjects = LIST("*poster*"),
		.printer = "plotter", .allow_options = POPT_ALL, .max_copies = 10, .hold = -1,
		.print_body = -1 };
	a.rules = rules;
	a.nrules = 3;
	cf.rules = global;
	cf.nrules = 1;

	m = msg("alice@contoso.com", "minutes", to2, 1);
	rules_route(&cf, &a, &m, &r);
	is_str(r.printer, "floor2", "a plus-address in To picks its rule");
	is_str(r.name, "floor 2", "... named in the route");
	ok(r.opts.set == 0, "... with no options");
	rules_route_clear(&r);

	m = msg("alice@contoso.com", "minutes [5 copies, color]", to3, 2);
	rules_route(&cf, &a, &m, &r);
	is_str(r.printer, "floor3", "any recipient may match");
	is_int(r.opts.copies, 3, "copies are held to max_copies");
	is_str(r.opts.sides, "two-sided-long-edge", "the rule's own options stay");
	ok(!(r.opts.set & POPT_COLOR), "an option the rule does not allow is not taken");
	has_str(r.notes, "color", "... and the notes say so");
	ok((r.opts.set & POPT_HOLD) && r.opts.hold, "the rule's hold applies");
	is_int(r.print_body, CONF_BODY_ALWAYS, "the rule's print_body applies");
	rules_route_clear(&r);

	m = msg("bills@billing.example", "Your invoice 42", to0, 1);
	rules_route(&cf, &a, &m, &r);
	is_str(r.printer, "accounts", "sender and subject both match");
	rules_route_clear(&r);
	m = msg("bills@billing.example", "Newsletter", to0, 1);
	rules_route(&cf, &a, &m, &r);
	is_str(r.printer, "lobby", "a rule needs every list to match");
	is_str(r.name, "default", "... else the account's printer");
	rules_route_clear(&r);

	m = msg("alice@contoso.com", "Poster #landscape [A3, copeis]", to0, 1);
	rules_route(&cf, &a, &m, &r);
	is_str(r.printer, "plotter", "global rules come after the account's");
	is_int(r.opts.orientation, 4, "a hashtag option is taken");
	is_str(r.opts.media, "iso_a3_297x420mm", "a bracket option is taken");
	has_str(r.notes, "copeis", "an unknown tag is reported");
	rules_route_clear(&r);

	a.hold = 1;
	m = msg("alice@contoso.com", NULL, NULL, 0);
	rules_route(&cf, &a, &m, &r);
	ok((r.opts.set & POPT_HOLD) && r.opts.hold, "the account's hold applies without a rule");
	ok(r.notes == NULL, "no subject, no notes");
	rules_route_clear(&r);
}

static void
test_users(void)
{
	struct conf_user users[] = {
		{ "bob@example.com", "bob" },
		{ "*@staff.example.com", "%l" },
	};
	struct conf cf = { 0 };
	int mapped = 0;
	char *u;

	cf.users = users;
	cf.nusers = 2;
	u = rules_cups_user(&cf, "Bob@Example.com", &mapped);
	ok(mapped, "... from the table");
	is_str(u, "bob", "a mapped sender gets its CUPS user");
	free(u);
	u = rules_cups_user(&cf, "carol.k@staff.example.com", &mapped);
	is_str(u, "carol.k", "%%l is the local part");
	free(u);
	u = rules_cups_user(&cf, "we$ird@staff.example.com", &mapped);
	ok(u != NULL && strchr(u, '@') != NULL, "a local part CUPS cannot take keeps the address");
	free(u);
	u = rules_cups_user(&cf, "dave@example.org", &mapped);
	ok(!mapped, "... not from the table");
	is_str(u, "dave@example.org", "an unmapped sender keeps the full address");
	free(u);
}

static void
test_policy_message(void)
{
	struct conf_account a = { 0 };
	struct policy_verdict v;
	struct mime_message m = msg("alice@example.org", "hi", NULL, 0);
	char *ar_pass[] = { "mx.example.org; dmarc=pass header.from=example.org" };
	char *ar_forged[] = { "mx.example.org; dmarc=fail header.from=example.org",
		"mx.example.org; dmarc=pass header.from=example.org" };
	const char *why;
	char *e = NULL;

	a.username = "print@example.org";
	a.allow_senders = (struct conf_strlist)LIST("*@example.org");
	a.deny_senders = (struct conf_strlist)LIST("intern-*@example.org");
	is_int(policy_check_message(&a, &m, &v, &e), 0, "an allowed sender may print");
	ok(!v.known, "... no verdict without authserv_id or Microsoft");
	ok(!policy_may_reply(&a, &m, &v, &why), "no reply without a verdict");
	has_str(why, "not authenticated", "... and why");
	policy_verdict_clear(&v);

	m.from_addr = "intern-7@example.org";
	is_int(policy_check_message(&a, &m, &v, &e), M2C_E_REFUSED, "deny_senders wins");
	has_str(e, "deny_senders", "... and says so");
	free(e);
	e = NULL;
	policy_verdict_clear(&v);

	a.authenticated_senders_only = 1;
	a.authserv_id = "mx.example.org";
	m.from_addr = "alice@example.org";
	m.auth_results = ar_pass;
	m.nauth_results = 1;
	is_int(policy_check_message(&a, &m, &v, &e), 0, "an authenticated sender prints");
	ok(v.known && v.authenticated, "... judged authenticated");
	ok(policy_may_reply(&a, &m, &v, &why), "... and may get a reply");
	m.auto_submitted = 1;
	ok(!policy_may_reply(&a, &m, &v, &why), "never a reply to Auto-Submitted mail");
	m.auto_submitted = 0;
	m.list_mail = 1;
	ok(!policy_may_reply(&a, &m, &v, &why), "never a reply to list mail");
	m.list_mail = 0;
	m.return_path = "";
	ok(!policy_may_reply(&a, &m, &v, &why), "never a reply to a null Return-Path");
	m.return_path = NULL;
	policy_verdict_clear(&v);

	m.from_addr = "mailer-daemon@example.org";
	is_int(policy_check_message(&a, &m, &v, &e), 0, "(a mailer-daemon may be allowed)");
	ok(!policy_may_reply(&a, &m, &v, &why), "never a reply to mailer-daemon");
	policy_verdict_clear(&v);
	m.from_addr = "print@example.org";
	is_int(policy_check_message(&a, &m, &v, &e), 0, "(the mailbox itself may be allowed)");
	ok(!policy_may_reply(&a, &m, &v, &why), "never a reply to the mailbox itself");
	policy_verdict_clear(&v);

	m.from_addr = "alice@example.org";
	m.auth_results = ar_forged;
	m.nauth_results = 2;
	is_int(policy_check_message(&a, &m, &v, &e), M2C_E_REFUSED,
	    "a forged From (dmarc=fail on top, a fake pass below) is refused");
	has_str(e, "not authenticated", "... saying why");
	ok(!policy_may_reply(&a, &m, &v, &why), "... and gets no reply (no backscatter)");
	free(e);
	policy_verdict_clear(&v);
}

int
main(void)
{
	test_route();
	test_users();
	test_policy_message();
	return tap_done();
}
