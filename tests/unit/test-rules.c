/*
 * test-rules.c - routing rules, subject tags on top of a rule's options,
 * the users table, and the sender and reply policy (policy.c) on parsed
 * messages.
 */
#include "m2c-config.h"

#include <pwd.h>
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
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.printer, "floor2", "a plus-address in To picks its rule");
	is_str(r.name, "floor 2", "... named in the route");
	ok(r.opts.set == 0, "... with no options");
	rules_route_clear(&r);

	m = msg("alice@contoso.com", "minutes [5 copies, color]", to3, 2);
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.printer, "floor3", "any recipient may match");
	is_int(r.opts.copies, 3, "copies are held to max_copies");
	is_str(r.opts.sides, "two-sided-long-edge", "the rule's own options stay");
	ok(!(r.opts.set & POPT_COLOR), "an option the rule does not allow is not taken");
	has_str(r.notes, "color", "... and the notes say so");
	ok((r.opts.set & POPT_HOLD) && r.opts.hold, "the rule's hold applies");
	is_int(r.print_body, CONF_BODY_ALWAYS, "the rule's print_body applies");
	rules_route_clear(&r);

	m = msg("bills@billing.example", "Your invoice 42", to0, 1);
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.printer, "accounts", "sender and subject both match");
	rules_route_clear(&r);
	m = msg("bills@billing.example", "Newsletter", to0, 1);
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.printer, "lobby", "a rule needs every list to match");
	is_str(r.name, "default", "... else the account's printer");
	rules_route_clear(&r);

	m = msg("alice@contoso.com", "Poster #landscape [A3, copeis]", to0, 1);
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.printer, "plotter", "global rules come after the account's");
	is_int(r.opts.orientation, 4, "a hashtag option is taken");
	is_str(r.opts.media, "iso_a3_297x420mm", "a bracket option is taken");
	has_str(r.notes, "copeis", "an unknown tag is reported");
	rules_route_clear(&r);

	a.hold = 1;
	m = msg("alice@contoso.com", NULL, NULL, 0);
	rules_route(&cf, &a, &m, 1, &r);
	ok((r.opts.set & POPT_HOLD) && r.opts.hold, "the account's hold applies without a rule");
	ok(r.notes == NULL, "no subject, no notes");
	rules_route_clear(&r);
}

static void
test_users(void)
{
	struct conf_user users[] = {
		{ "bob@example.com", "bob" },
		{ "boss@example.com", "root" },
		{ "printer@example.com", "LP" },
		{ "*@staff.example.com", "%l" },
	};
	static const char *const reserved[] = {
		"root", "Root", "lp", "daemon", "sys", "bin", "nobody", "cups", "admin",
		"systemd-network", "_apt", "remroot", "mail2cups", "",
	};
	struct conf cf = { 0 };
	char *u, *note = NULL;
	int mapped = 0;

	/*
	 * mapped: 1 or 0, -1 not checked; note: what the log line says, ""
	 * none, NULL not checked.
	 */
	static const struct {
		const char *from;
		int verified;
		const char *want;
		int mapped;
		const char *note;
		const char *desc;
	} t[] = {
		{ "Bob@Example.com", 1, "bob", 1, "",
		  "a mapped, authenticated sender gets its CUPS user, nothing to log" },
		{ "carol.k@staff.example.com", 1, "carol.k", -1, NULL, "%l is the local part" },
		{ "we$ird@staff.example.com", 1, "we_ird@staff.example.com", -1, NULL,
		  "a local part CUPS cannot take gives the address instead (made safe)" },
		{ "dave@example.org", 1, "dave@example.org", 0, NULL,
		  "an unmapped sender keeps the full address" },
		/* #10-3: a From nobody vouched for chooses no CUPS user. */
		{ "ceo@staff.example.com", 0, RULES_UNVERIFIED_USER, 1, "did not authenticate",
		  "an unauthenticated sender the table maps prints as " RULES_UNVERIFIED_USER
		  ", not as its local part, and the log says why" },
		{ "Bob@Example.com", 0, RULES_UNVERIFIED_USER, -1, NULL,
		  "... also for an exact entry" },
		{ "dave@example.org", 0, "dave@example.org", 0, "",
		  "an unauthenticated, unmapped sender keeps its address (never a local "
		  "name), nothing to log" },
		/* Reserved names never come out of a mapping. */
		{ "boss@example.com", 1, RULES_UNVERIFIED_USER, -1, "reserved",
		  "a mapping to root gives " RULES_UNVERIFIED_USER ", with a log line" },
		{ "printer@example.com", 1, RULES_UNVERIFIED_USER, -1, NULL,
		  "... and to LP (any case)" },
		{ "root@staff.example.com", 1, RULES_UNVERIFIED_USER, -1, NULL,
		  "%l of root@ is not root" },
		{ "lp@staff.example.com", 1, RULES_UNVERIFIED_USER, -1, NULL,
		  "%l of lp@ is not lp" },
	};

	cf.users = users;
	cf.nusers = ARRAY_SIZE(users);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		mapped = -1;
		u = rules_cups_user(&cf, t[i].from, t[i].verified, &mapped, &note);
		is_str(u, t[i].want, "%s (%s)", t[i].desc, t[i].from);
		if (t[i].mapped >= 0)
			is_int(mapped, t[i].mapped, "%s (%s): mapped", t[i].desc, t[i].from);
		if (t[i].note != NULL && *t[i].note == '\0')
			ok(note == NULL, "%s (%s): no log line", t[i].desc, t[i].from);
		else if (t[i].note != NULL)
			has_str(note, t[i].note, "%s (%s): the log line", t[i].desc, t[i].from);
		free(note);
		note = NULL;
		free(u);
	}
	/* A Print folder's owner (print_folders): the login name, through the table. */
	u = rules_owner_user(&cf, "alice", &note);
	is_str(u, "alice", "an owner the table does not know prints as the login name");
	ok(note == NULL, "... with nothing to log");
	free(u);
	u = rules_owner_user(&cf, "carol.k@staff.example.com", &note);
	is_str(u, "carol.k", "an owner the table maps gets its name (%%l)");
	free(u);
	u = rules_owner_user(&cf, "bob@example.com", &note);
	is_str(u, "bob", "... or the entry's name");
	free(u);
	u = rules_owner_user(&cf, "dave@example.org", &note);
	is_str(u, "dave@example.org", "an owner signing in with an address keeps it");
	free(u);
	u = rules_owner_user(&cf, "lp", &note);
	is_str(u, RULES_UNVERIFIED_USER, "an owner with a reserved name gives "
	    RULES_UNVERIFIED_USER);
	has_str(note, "reserved", "... with a log line");
	free(note);
	free(u);
	u = rules_owner_user(&cf, "we ird", &note);
	ok(u != NULL && strchr(u, ' ') == NULL, "an owner name CUPS cannot take is made safe");
	free(note);
	free(u);
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		ok(rules_user_reserved(reserved[i]), "\"%s\" is reserved", reserved[i]);
	{
		struct passwd *pw;
		size_t nsys = 0, nres = 0;

		setpwent();
		while ((pw = getpwent()) != NULL)
			if (pw->pw_uid < 1000) {
				nsys++;
				nres += rules_user_reserved(pw->pw_name) != 0;
			}
		endpwent();
		ok(nsys > 0 && nres == nsys, "every account of this machine with uid < 1000 is "
		    "reserved (%zu of %zu)", nres, nsys);
	}
	ok(!rules_user_reserved("carol.k"), "an ordinary name is not");
}

/*
 * #10-6: a rule's options are defaults a sender may change only where the
 * default allows (copies, sides, pages, orientation, fit, hold, body; colour
 * and media only where the rule does not set them), and force_options are
 * binding whatever allow_options says.
 */
static void
test_route_binding(void)
{
	struct conf_rule rules[2] = { 0 };
	struct conf_account a = { 0 };
	struct conf cf = { 0 };
	char *to1[] = { "print+mono@contoso.com" }, *to2[] = { "print+forced@contoso.com" },
	    *to0[] = { "print@contoso.com" };
	const char *subject = "Minutes [2 copies, simplex, colour, A3, pages 1-2] #landscape";
	struct rules_route r;
	struct mime_message m;

	a.printer = "lobby";
	rules[0] = (struct conf_rule){ .name = "mono", .recipients = LIST("print+mono@*"),
		.allow_options = POPT_ALLOW_DEFAULT, .max_copies = 10, .hold = -1,
		.print_body = -1 };
	popt_parse_item("monochrome", &rules[0].options, NULL);
	popt_parse_item("A4", &rules[0].options, NULL);
	popt_parse_item("duplex", &rules[0].options, NULL);
	rules[1] = (struct conf_rule){ .name = "forced", .recipients = LIST("print+forced@*"),
		.allow_options = POPT_ALL, .max_copies = 10, .hold = -1, .print_body = -1 };
	popt_parse_item("monochrome", &rules[1].force_options, NULL);
	popt_parse_item("1 copy", &rules[1].force_options, NULL);
	popt_parse_item("duplex", &rules[1].options, NULL);
	a.rules = rules;
	a.nrules = 2;

	m = msg("alice@contoso.com", subject, to1, 1);
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.opts.color, "monochrome", "by default a sender cannot change the rule's colour");
	is_str(r.opts.media, "iso_a4_210x297mm", "... nor its paper");
	is_int(r.opts.copies, 2, "... but may ask for copies");
	is_str(r.opts.sides, "one-sided", "... one-sided printing");
	ok(r.opts.nranges == 1 && r.opts.ranges[0][1] == 2, "... pages");
	is_int(r.opts.orientation, 4, "... and the orientation");
	has_str(r.notes, "color (not allowed here)", "the refused colour is noted");
	has_str(r.notes, "media (not allowed here)", "... and the paper");
	rules_route_clear(&r);

	m = msg("alice@contoso.com", subject, to2, 1);
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.opts.color, "monochrome", "force_options bind even where allow_options allows "
	    "everything");
	is_int(r.opts.copies, 1, "... copies too");
	is_str(r.opts.sides, "one-sided", "a plain option stays a default the sender changes");
	is_str(r.opts.media, "iso_a3_297x420mm", "allow_options given: what it lists is taken");
	has_str(r.notes, "color (not allowed here)", "the refused colour is noted");
	rules_route_clear(&r);

	m = msg("alice@contoso.com", subject, to0, 1);
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.printer, "lobby", "no rule:");
	is_str(r.opts.color, "color", "... colour is the sender's to ask for (nothing sets it)");
	is_str(r.opts.media, "iso_a3_297x420mm", "... and paper");
	ok(r.notes == NULL, "... nothing refused");
	rules_route_clear(&r);
}

/* #10-3: a `senders` rule is chosen only by a From that can be believed. */
static void
test_route_trust(void)
{
	struct conf_rule rules[2] = { 0 };
	struct conf_account a = { 0 };
	struct conf cf = { 0 };
	char *to[] = { "print@contoso.com" };
	struct rules_route r;
	struct mime_message m = msg("ceo@contoso.com", "board pack", to, 1);

	a.printer = "lobby";
	rules[0] = (struct conf_rule){ .name = "executives", .senders = LIST("ceo@contoso.com"),
		.printer = "exec-colour", .allow_options = POPT_ALL, .max_copies = 10, .hold = -1,
		.print_body = -1 };
	rules[1] = (struct conf_rule){ .name = "boards", .subjects = LIST("board*"),
		.printer = "boardroom", .allow_options = POPT_ALL, .max_copies = 10, .hold = -1,
		.print_body = -1 };
	a.rules = rules;
	a.nrules = 2;
	rules_route(&cf, &a, &m, 1, &r);
	is_str(r.printer, "exec-colour", "an authenticated sender picks its senders rule");
	ok(r.passed_over == NULL, "... nothing passed over");
	rules_route_clear(&r);
	rules_route(&cf, &a, &m, 0, &r);
	is_str(r.printer, "boardroom", "a forged sender does not: the next rule that does not "
	    "ask who sent it");
	ok(r.passed_over == &rules[0], "... and the senders rule is named as passed over");
	rules_route_clear(&r);
	a.nrules = 1;
	rules_route(&cf, &a, &m, 0, &r);
	is_str(r.name, "default", "... or the account's default");
	is_str(r.printer, "lobby", "... and its printer");
	rules_route_clear(&r);

	a.trust_unauthenticated_from = 1;
	{
		struct policy_verdict v = { 0 };

		ok(policy_from_trusted(&a, &v), "trust_unauthenticated_from = true trusts the "
		    "From line");
		a.trust_unauthenticated_from = 0;
		ok(!policy_from_trusted(&a, &v), "by default an unjudged From is not trusted");
		v.known = 1;
		ok(!policy_from_trusted(&a, &v), "... nor a judged, unauthenticated one");
		v.authenticated = 1;
		ok(policy_from_trusted(&a, &v), "an authenticated one is");
	}
}

static void
test_policy_message(void)
{
	struct conf_account a = { 0 };
	struct policy_verdict v;
	struct mime_message m = msg("alice@example.org", "hi", NULL, 0);
	struct mime_trace ar_pass[] = { { 0, "mx.example.org; dmarc=pass header.from=example.org" } };
	struct mime_trace ar_forged[] = { { 0, "mx.example.org; dmarc=fail header.from=example.org" },
		{ 0, "mx.example.org; dmarc=pass header.from=example.org" } };
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
	m.trace = ar_pass;
	m.ntrace = 1;
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
	m.trace = ar_forged;
	m.ntrace = 2;
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
	test_route_trust();
	test_route_binding();
	test_policy_message();
	return tap_done();
}
