/*
 * conf-oauth.c - an account's oauth = { ... } group: provider, cloud,
 * tenant, flow and the client's credentials; see conf-private.h.
 */
#include "m2c-config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "addr.h"
#include "conf.h"
#include "conf-private.h"
#include "error.h"
#include "util.h"

void
conf_oauth_load(struct conf_check *ck, const config_setting_t *g, const struct conf_where *aw,
    struct conf_oauth *o)
{
	struct conf_where w;
	int v = 0, has_cloud, has_cert, has_key, service_account;
	const char *why;

	o->present = 1;
	conf_where_set(&w, ".", "%s%soauth", aw->label, aw->join);
	conf_check_members(ck, g, SC_OAUTH, &w);

	if (conf_get_enum(ck, g, &w, "provider", conf_provider_names,
	    ARRAY_SIZE(conf_provider_names), &v) == 1)
		o->provider = (enum conf_provider)(v + 1);
	else if (config_setting_get_member(g, "provider") == NULL)
		conf_missing(ck, g, &w, "provider", "\"microsoft\", \"google\" or \"generic\"");

	has_cloud = conf_get_enum(ck, g, &w, "cloud", conf_cloud_names,
	    ARRAY_SIZE(conf_cloud_names), &v) == 1;
	if (has_cloud)
		o->cloud = (enum conf_cloud)v;
	if (has_cloud && o->provider != CONF_PROVIDER_MICROSOFT && o->provider != CONF_PROVIDER_NONE)
		conf_problem(ck, config_setting_get_member(g, "cloud"), &w, "cloud",
		    "only applies to provider = \"microsoft\" (remove it)");

	if (conf_get_string_dup(ck, g, &w, "tenant", &o->tenant) == 1 &&
	    o->provider != CONF_PROVIDER_MICROSOFT && o->provider != CONF_PROVIDER_NONE)
		conf_problem(ck, config_setting_get_member(g, "tenant"), &w, "tenant",
		    "only applies to provider = \"microsoft\" (remove it)");
	if (conf_get_string_dup(ck, g, &w, "client_id", &o->client_id) == 0)
		conf_missing(ck, g, &w, "client_id",
		    "the application (client) ID of the app registration");
	conf_get_file(ck, g, &w, "client_secret_file", &o->client_secret_file);
	has_cert = config_setting_get_member(g, "certificate_file") != NULL;
	has_key = config_setting_get_member(g, "private_key_file") != NULL;
	conf_get_file(ck, g, &w, "certificate_file", &o->certificate_file);
	conf_get_file(ck, g, &w, "private_key_file", &o->private_key_file);
	o->flow = o->provider == CONF_PROVIDER_GOOGLE ? CONF_FLOW_AUTHCODE : CONF_FLOW_DEVICE;
	if (conf_get_enum(ck, g, &w, "flow", conf_flow_names, ARRAY_SIZE(conf_flow_names), &v) == 1)
		o->flow = (enum conf_flow)v;
	/* A Google service account is one JSON key file: private_key_file alone. */
	service_account = o->provider == CONF_PROVIDER_GOOGLE &&
	    o->flow == CONF_FLOW_CLIENT_CREDENTIALS;
	if (service_account && has_cert)
		conf_problem(ck, config_setting_get_member(g, "certificate_file"), &w,
		    "certificate_file",
		    "a Google service account needs only private_key_file (its JSON key): "
		    "remove certificate_file");
	else if (!service_account && has_cert != has_key)
		conf_problem(ck, config_setting_get_member(g,
		    has_cert ? "certificate_file" : "private_key_file"),
		    &w, has_cert ? "certificate_file" : "private_key_file",
		    "is given without %s (give both, or neither)",
		    has_cert ? "private_key_file" : "certificate_file");
	if (service_account && !has_key)
		conf_problem(ck, g, &w, "flow", "\"client_credentials\" with provider = \"google\" "
		    "needs private_key_file = the service account's JSON key (add it)");
	else if (!service_account && o->flow == CONF_FLOW_CLIENT_CREDENTIALS &&
	    o->client_secret_file == NULL && !has_cert)
		conf_problem(ck, g, &w, "flow",
		    "\"client_credentials\" needs client_secret_file, or "
		    "certificate_file and private_key_file (add one)");
	if (o->flow == CONF_FLOW_CLIENT_CREDENTIALS && o->provider == CONF_PROVIDER_MICROSOFT &&
	    o->tenant == NULL)
		conf_problem(ck, g, &w, "flow", "\"client_credentials\" needs tenant (add the "
		    "directory (tenant) ID)");

	if (conf_get_string_dup(ck, g, &w, "authority", &o->authority) == 1 &&
	    conf_check_url(o->authority, &why) != 0)
		conf_problem(ck, config_setting_get_member(g, "authority"), &w, "authority",
		    "\"%s\" %s", o->authority, why);
	if (conf_get_string_dup(ck, g, &w, "issuer", &o->issuer) == 1) {
		if (o->provider != CONF_PROVIDER_GENERIC && o->provider != CONF_PROVIDER_NONE)
			conf_problem(ck, config_setting_get_member(g, "issuer"), &w, "issuer",
			    "only applies to provider = \"generic\" (remove it)");
		else if (conf_check_url(o->issuer, &why) != 0)
			conf_problem(ck, config_setting_get_member(g, "issuer"), &w, "issuer",
			    "\"%s\" %s", o->issuer, why);
	} else if (o->provider == CONF_PROVIDER_GENERIC && o->authority == NULL &&
	    config_setting_get_member(g, "issuer") == NULL)
		conf_missing(ck, g, &w, "issuer",
		    "the identity provider's URL, for OpenID discovery");
	o->assertion_rs256 = 0;
	if (conf_get_enum(ck, g, &w, "assertion_alg", conf_assertion_alg_names,
	    ARRAY_SIZE(conf_assertion_alg_names), &v) == 1)
		o->assertion_rs256 = v == 1;
	if (conf_get_strlist(ck, g, &w, "scopes", &o->scopes) == 1 && o->scopes.n == 0)
		conf_problem(ck, config_setting_get_member(g, "scopes"), &w, "scopes",
		    "is empty (remove it to use the provider's scopes)");
}
