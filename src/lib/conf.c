/* conf.c - placeholder until the conf module lands; see conf.h. */
#include "m2c-config.h"
#include "error.h"
#include "conf.h"
#include <stdlib.h>
int conf_load(const char *path, struct conf **out, char **errstr) { *out = NULL; return m2c_fail(errstr, M2C_E_NOTSUP, "%s: config loading not built yet", path); }
void conf_free(struct conf **c) { (void)c; }
char *conf_default_path(void) { return NULL; }
const struct conf_account *conf_account_find(const struct conf *c, const char *n) { (void)c; (void)n; return NULL; }
const char *conf_security_name(enum conf_security s) { (void)s; return "?"; }
const char *conf_auth_name(enum conf_auth a) { (void)a; return "?"; }
const char *conf_after_name(enum conf_after a) { (void)a; return "?"; }
