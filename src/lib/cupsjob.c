/* cupsjob.c - placeholder until the cupsjob module lands; see cupsjob.h. */
#include "m2c-config.h"
#include "error.h"
#include "cupsjob.h"
void cups_job_set_server(const char *s) { }
int cups_job_submit(const struct cups_job_req *r, int *id, char **e) { return M2C_E_NOTSUP; }
int cups_job_find_by_nonce(const char *p, const char *n, int *id, char **e) { return M2C_E_NOTSUP; }
int cups_job_check_queue(const char *p, char **e) { return M2C_E_NOTSUP; }
char *cups_job_user_for_sender(const char *a) { return 0; }
