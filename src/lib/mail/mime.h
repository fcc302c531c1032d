/*
 * mime.h - attachment extraction (GMime 3), streamed.
 *
 * The message is parsed from a file without loading it into memory; each
 * attachment is decoded (base64, quoted-printable) straight into its own
 * scratch file, 0600, created with mkostemp in the scratch folder.  The
 * sender's file name is a label only, never part of a path.
 *
 * What is an attachment: leaf parts with Content-Disposition attachment, or
 * inline parts with a file name that are not part of an HTML body
 * (multipart/related parts referenced by Content-ID, such as signature
 * logos, are not attachments).  message/rfc822 parts are descended into.
 * Text bodies are not attachments.
 *
 * Each attachment is classified: printable (PDF, JPEG, PNG, GIF, TIFF,
 * plain text) or skipped with a reason a person understands.  The real type
 * is sniffed with libmagic; when the sniffed type is not a printable type
 * (an executable named .pdf), the part is refused whatever it claims.
 */
#ifndef M2C_MIME_H
#define M2C_MIME_H

#include <stddef.h>
#include <sys/types.h>

struct mime_limits {
	off_t max_attachment_size;	/* decoded bytes; 0 = no limit */
	int max_parts;			/* 0 = no limit (but see below) */
	int max_depth;			/* 0 = no limit */
	int max_attachments;		/* printable ones; 0 = no limit */
	/*
	 * Sniffed types (wildcards, "application/vnd.oasis.opendocument.*")
	 * that a converter turns into PDF: such parts are kept as printable
	 * with convert = 1 and format NULL.  Borrowed; may be NULL.
	 */
	const char *const *convert_types;
	size_t nconvert_types;
	int want_body;			/* extract the text body (body_path) */
};
/*
 * max_parts also bounds the parse itself, since GMime holds the whole MIME
 * tree in memory: a message with more than 8 * max_parts + 1000 lines that
 * start with "--", more than 32 * max_parts + 1000 header lines, more than
 * 1 KiB * max_parts + 256 KiB of headers, or one header line (with its
 * folded continuations) over 64 KiB is refused with M2C_E_LIMIT.  With
 * max_parts 0 these use 20000 parts.
 */

struct mime_attachment {
	char *part;		/* MIME part path, "2" or "3.1.2": stable key, owned */
	char *filename;		/* UTF-8 display label, cleaned (no controls, no
				 * slashes); "attachment-N" when none; owned */
	char *declared_type;	/* lower-case, from Content-Type; owned */
	char *sniffed_type;	/* from libmagic; owned, may be NULL if skipped early */
	const char *format;	/* document-format to give CUPS (static) or NULL */
	char *path;		/* scratch file, owned: unlinked by mime_message_free;
				 * NULL when not printable */
	off_t size;		/* decoded size */
	int printable;
	int convert;		/* printable only after conversion (format NULL) */
	char *reason;		/* why it is skipped (when !printable); owned */
};

#define MIME_TRACE_MAX 128

/* A trace header of the top-level block (sender trust reads them in order). */
struct mime_trace {
	int received;		/* 1: Received; 0: Authentication-Results */
	char *value;		/* owned */
};

struct mime_message {
	char *from_addr;	/* addr-spec of the first From mailbox, lower-cased domain; NULL if none */
	size_t nfrom;		/* mailboxes in every From header (groups included):
				 * sender trust wants exactly one */
	char *from_list;	/* owned: when nfrom > 1, every From address, ", "-joined
				 * (cut at MIME_TEXT_MAX); else NULL */
	char *from_name;	/* display name (UTF-8) or NULL */
	char *subject;		/* decoded UTF-8 or NULL */
	char *message_id;	/* without <>, or NULL */
	/*
	 * For sender trust, routing and replies (all owned, NULL when absent):
	 * recipients are the addr-specs of To, Cc, Delivered-To and
	 * X-Original-To, lower-cased, without duplicates; trace holds the
	 * Authentication-Results and Received values in their order, topmost
	 * first, unfolded (the first MIME_TRACE_MAX of them: the receiving
	 * servers' own are on top); ms_authas is the topmost
	 * X-MS-Exchange-Organization-AuthAs.
	 */
	char **recipients;
	size_t nrecipients;
	struct mime_trace *trace;
	size_t ntrace;
	char *ms_authas;
	char *return_path;	/* addr-spec of Return-Path; "" for <>; NULL if absent */
	char *references;	/* References, unfolded, or NULL */
	int auto_submitted;	/* Auto-Submitted present and not "no" */
	int list_mail;		/* List-Id, List-Unsubscribe, or Precedence bulk/list/junk */
	/*
	 * With want_body: the message text as UTF-8 plain text in a scratch
	 * file (0600, unlinked by mime_message_free): the first text/plain
	 * body, or the text/html one rendered by html2text when there is no
	 * plain one (multipart/alternative prefers text/plain).  Attachments
	 * and inline images are never part of it.  NULL when the message has
	 * no text body or it is empty or only blanks; body_problem then may
	 * say why (over max_attachment_size, undecodable charset).
	 */
	char *body_path;
	off_t body_size;
	char *body_problem;
	struct mime_attachment *att;	/* owned array */
	size_t natt;
	size_t nprintable;
	char *problem;		/* set when a limit stopped the walk (message-level reason) */
};

/* Once per process (GMime and libmagic set-up); idempotent. */
int mime_init(char **errstr);
void mime_shutdown(void);

/*
 * Parse the message in fd (a seekable file, read from offset 0) and extract
 * attachments into scratch_dir (must exist, 0700).  Returns 0 and *out even
 * when nothing is printable (then every skipped part has its reason).
 * Returns M2C_E_DATA for a message that cannot be parsed at all,
 * M2C_E_LIMIT for parts/depth limits (with the reason), M2C_E_SYS for local
 * I/O failures.
 *
 * On M2C_E_LIMIT (parts, depth, one attachment over max_attachment_size,
 * more than max_attachments printable), and on M2C_E_DATA for a part that
 * arrived damaged (its reason "NAME: arrived damaged"; a message that
 * cannot be parsed at all gives no *out), *out is STILL set, so the caller can
 * report to the sender: problem holds the message-level reason (also in
 * *errstr), nothing is printable, every attachment seen so far has a reason
 * and no scratch file is left.  On any other error *out stays NULL and no
 * scratch file is left.  lim may be NULL (no limits).  fd is not closed;
 * its file offset is moved.  Calls mime_init() if it was not called.
 * Part paths are IMAP section numbers (RFC 3501 6.4.5): the parts of an
 * attached message/rfc822 at "3" are "3.1", "3.2"..., a single-part body
 * of it is "3.1".
 */
int mime_extract(int fd, const char *scratch_dir, const struct mime_limits *lim,
    struct mime_message **out, char **errstr);

/* Unlink every scratch file and free; *m = NULL.  NULL is fine. */
void mime_message_free(struct mime_message **m);

#endif
