/*
 * convert.h - converting a document to PDF with an external command.
 *
 * For types CUPS cannot print (.docx, .odt, ...): the administrator names a
 * command per type (LibreOffice headless, say).  It is run without a shell
 * (execv of the configured argv), with stdin from /dev/null, in a private
 * folder (0700, made under the scratch folder and removed afterwards) that
 * is also its HOME and working directory, with a minimal environment, in
 * its own process group, killed (the whole group) when it runs past its
 * time limit.  Its input is a copy of the document named "document.EXT"
 * (EXT from the sniffed type, never from the sender's file name) inside
 * that folder.  In the command, "%i" becomes the input's path and "%o" the
 * folder, where the command must leave exactly one *.pdf file; the output
 * is checked to be a PDF (it starts with "%PDF-") before it is used.
 */
#ifndef M2C_CONVERT_H
#define M2C_CONVERT_H

#include "conf.h"

/* The converter of cf whose types match sniffed_type, or NULL.  Borrowed. */
const struct conf_converter *convert_find(const struct conf *cf, const char *sniffed_type);

/*
 * Convert input (a scratch file of type sniffed_type) with cv.  0 and
 * *pdf_path: a new 0600 scratch file in scratch_dir that the caller
 * unlinks and frees.  Errors, with what the command said (its last lines of
 * output) in *errstr:
 *   M2C_E_DATA     the command failed on this document (non-zero exit,
 *                  killed at the time limit, no PDF, not a PDF, more than
 *                  one output): permanent for this document
 *   M2C_E_CONFIG   the command cannot be run at all (not found, not
 *                  executable): the administrator must fix the config
 *   M2C_E_SYS      a local failure (fork, disk)
 */
int convert_to_pdf(const struct conf_converter *cv, const char *input, const char *sniffed_type,
    const char *scratch_dir, char **pdf_path, char **errstr);

/*
 * Remove the private folders ("conv.*") that conversions interrupted by a
 * crash left in scratch_dir, with everything in them (symbolic links are
 * removed, never followed).  For start-up, next to poller_clean_scratch():
 * a conversion running at the same time would lose its folder.
 */
void convert_clean_scratch(const char *scratch_dir);

#endif
