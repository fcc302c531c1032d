/*
 * fuzz-authres.c - libFuzzer target for authres_parse and the verdict.
 *
 * The input is split on '\n' and NUL into lines: the first is the From
 * domain, the second X-MS-Exchange-Organization-AuthAs, the rest (at most
 * FUZZ_MAX_HEADERS) Authentication-Results values, topmost first.  Each
 * value is parsed (the parse must be internally consistent) and the verdict
 * is asked under a Microsoft 365 policy and under an authserv-id policy;
 * each must leave a reason.  Built with -fsanitize=fuzzer under
 * --enable-fuzzing, else with tests/fuzz/standalone.c as a regression test
 * over tests/fuzz/corpus/authres.
 */
#include "m2c-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "util.h"

#define FUZZ_MAX_HEADERS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_parse(const char *value)
{
	struct authres a;
	size_t i, j;

	if (authres_parse(value, &a, NULL) != 0) {
		if (a.authserv_id != NULL || a.res != NULL || a.nres != 0)
			abort();
		return;
	}
	if (a.nres > AUTHRES_MAX_RESULTS)
		abort();
	for (i = 0; i < a.nres; i++) {
		if (a.res[i].method == NULL || a.res[i].result == NULL)
			abort();
		for (j = 0; j < a.res[i].nprops; j++)
			if (strchr(a.res[i].props[j], '=') == NULL)
				abort();
		(void)authres_prop(&a.res[i], "header.from");
	}
	authres_free(&a);
}

static void
check_verdict(const struct authres_input *in, const struct authres_policy *p)
{
	char *why = NULL;
	int ok = authres_sender_authenticated(in, p, &why);

	if ((ok != 0 && ok != 1) || why == NULL || *why == '\0')
		abort();
	free(why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tenant[] = { "example.org", "contoso.com" };
	char *copy, *lines[FUZZ_MAX_HEADERS + 2], *p, *end;
	struct authres_header h[FUZZ_MAX_HEADERS];
	size_t n = 0, i;
	struct authres_input in = { 0 };
	struct authres_policy ms = { NULL, 1, tenant, ARRAY_SIZE(tenant) };
	struct authres_policy named = { "mx.example.org", 0, NULL, 0 };

	copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	for (p = copy; n < ARRAY_SIZE(lines) && p <= end; n++) {
		lines[n] = p;
		while (p < end && *p != '\n' && *p != '\0')
			p++;
		*p++ = '\0';
	}
	for (i = 2; i < n; i++)
		check_parse(lines[i]);
	in.from_domain = n > 0 ? lines[0] : NULL;
	in.ms_authas = n > 1 ? lines[1] : NULL;
	for (i = 2; i < n; i++) {
		/* "Received:" lines are Received headers, the rest Authentication-Results. */
		h[i - 2].received = strncmp(lines[i], "Received:", 9) == 0;
		h[i - 2].value = h[i - 2].received ? lines[i] + 9 : lines[i];
		if (h[i - 2].received)
			free(authres_received_by(h[i - 2].value));
	}
	in.headers = n > 2 ? h : NULL;
	in.nheaders = n > 2 ? n - 2 : 0;
	check_verdict(&in, &ms);
	check_verdict(&in, &named);
	named.microsoft = 1;
	named.tenant_domains = tenant;
	named.ntenant_domains = ARRAY_SIZE(tenant);
	check_verdict(&in, &named);
	free(copy);
	return 0;
}
