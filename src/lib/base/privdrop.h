/*
 * privdrop.h - run as the owner of state_dir.
 *
 * Run as root, the programs switch to the user and group that own
 * state_dir before touching it, so no file there ends up owned by the
 * wrong user.  A state_dir owned by root keeps root.  A missing state_dir
 * is created (0700, owned by the current user).
 */
#ifndef M2C_PRIVDROP_H
#define M2C_PRIVDROP_H

int privdrop_to_state_owner(const char *state_dir, char **errstr);

#endif
