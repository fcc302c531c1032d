/*
 * policy.h - who may print (first part: the allow list).
 *
 * allow_senders holds addresses ("partner@example.org") and domain
 * wildcards ("*@contoso.com"); '*' and '?' match as in a shell, ASCII
 * case-insensitively, against the whole addr-spec.  An empty list allows
 * nobody.
 */
#ifndef M2C_POLICY_H
#define M2C_POLICY_H

#include "conf.h"

/*
 * 0 when addr may print; M2C_E_REFUSED with a reason in *errstr (naming
 * the address and the config key to change) when not.
 */
int policy_check_sender(const struct conf_strlist *allow, const char *addr, char **errstr);

#endif
