/* imap.c - placeholder until the imap module lands; see imap.h. */
#include "m2c-config.h"
#include "error.h"
#include "imap.h"
int imap_connect(const struct imap_opts *o, struct imap **out, char **errstr) { *out = NULL; return m2c_fail(errstr, M2C_E_NOTSUP, "%s: imap not built yet", o->host); }
int imap_login_password(struct imap *c, const char *m, const char *u, const char *p, char **e) { return M2C_E_NOTSUP; }
int imap_authenticate(struct imap *c, const char *m, const char *ir, char **e) { return M2C_E_NOTSUP; }
int imap_has_cap(const struct imap *c, const char *cap) { return 0; }
int imap_select(struct imap *c, const char *m, uint32_t *v, uint32_t *x, char **e) { return M2C_E_NOTSUP; }
int imap_search_unseen(struct imap *c, uint32_t **u, size_t *n, char **e) { return M2C_E_NOTSUP; }
int imap_fetch_message(struct imap *c, uint32_t uid, int fd, off_t m, off_t *s, char **e) { return M2C_E_NOTSUP; }
int imap_add_flags(struct imap *c, uint32_t uid, const char *f, char **e) { return M2C_E_NOTSUP; }
int imap_move(struct imap *c, uint32_t uid, const char *f, int *fo, char **e) { return M2C_E_NOTSUP; }
int imap_delete(struct imap *c, uint32_t uid, int *fo, char **e) { return M2C_E_NOTSUP; }
char *imap_folder_name(struct imap *c, const char *f) { return 0; }
void imap_logout(struct imap **c) { }
void imap_close(struct imap **c) { }
char *imap_utf8_to_mutf7(const char *s) { return 0; }
char *imap_mutf7_to_utf8(const char *s) { return 0; }
