/*
 * testhook.h - deterministic crash points for tests.
 *
 * When the environment variable MAIL2CUPS_TEST_STOP_AT names a step (for
 * example "after-submit"), testhook_point() with that name makes the
 * program die on the spot with _exit(TESTHOOK_EXIT), as a crash would: no
 * cleanup, no state written after that point.  MAIL2CUPS_TEST_STOP_COUNT=N
 * makes it stop at the N-th time the step is reached (default 1).  Unset,
 * the hook costs one getenv at start-up.
 *
 * Steps, in pipeline order: after-fetch, fetch-in-flight (the next
 * message's BODY.PEEK[] was just sent, before this one is processed),
 * after-intent, mid-upload (half a document sent in its Print-Job: cupsjob.c),
 * after-submit, after-record, postaction-batch-flagged (the
 * printed batch is \Seen, not yet moved), after-postaction (a post-action,
 * or a batch's, is done; the state database does not know yet); and in the
 * token store, tokens-before-rename (a save dies after its temp file is
 * synced, before the rename).
 */
#ifndef M2C_TESTHOOK_H
#define M2C_TESTHOOK_H

#define TESTHOOK_EXIT 98

void testhook_point(const char *step);

#endif
