/* state.c - placeholder until the state module lands; see state.h. */
#include "m2c-config.h"
#include "error.h"
#include "state.h"
int state_open(const char *d, struct state **out, char **e) { *out = 0; return M2C_E_NOTSUP; }
void state_close(struct state **s) { }
int state_msg_get(struct state *s, const struct state_key *k, struct state_msg *o, char **e) { return M2C_E_NOTSUP; }
void state_msg_clear(struct state_msg *m) { }
int state_msg_attempt(struct state *s, const struct state_key *k, int *a, char **e) { return M2C_E_NOTSUP; }
int state_msg_set(struct state *s, const struct state_key *k, enum state_msg_status st, const char *r, char **e) { return M2C_E_NOTSUP; }
int state_part_get(struct state *s, const struct state_key *k, const char *p, struct state_part *o, char **e) { return M2C_E_NOTSUP; }
void state_part_clear(struct state_part *p) { }
int state_part_intent(struct state *s, const struct state_key *k, const char *p, const char *pr, const char *f, char n[33], char **e) { return M2C_E_NOTSUP; }
int state_part_submitted(struct state *s, const struct state_key *k, const char *p, int id, char **e) { return M2C_E_NOTSUP; }
int state_count_jobs(struct state *s, const char *a, int *j, char **e) { return M2C_E_NOTSUP; }
