/* mime.c - placeholder until the mime module lands; see mime.h. */
#include "m2c-config.h"
#include "error.h"
#include "mime.h"
int mime_init(char **e) { return 0; }
void mime_shutdown(void) { }
int mime_extract(int fd, const char *d, const struct mime_limits *l, struct mime_message **out, char **e) { *out = 0; return M2C_E_NOTSUP; }
void mime_message_free(struct mime_message **m) { }
