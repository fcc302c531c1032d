/*
 * mime.c - attachment extraction with GMime 3 and libmagic; see mime.h.
 *
 * RFC 2045-2049 (MIME), RFC 2183 (Content-Disposition), RFC 2231 and
 * RFC 2047 (encoded file names, through GMime), RFC 2387
 * (multipart/related), RFC 3501 section 6.4.5 (IMAP part numbers).
 *
 * The parser runs over a dup() of the caller's fd with a persistent stream:
 * part contents stay offsets into the file.  Each attachment is decoded
 * through a GMime basic decoder filter and copied in chunks into a scratch
 * file; the copy counts bytes and stops before the size limit is passed,
 * so no more than the limit of an oversized part ever reaches the disk.
 * A part that arrived damaged (base64 that does not decode cleanly, seen
 * by a pass-through filter as it streams by; a PDF without its trailer in
 * its last KiB) fails the message: what would print is not what was sent.
 * The text body takes the same path, plus CRLF to LF, GMime's charset
 * filter to UTF-8 and, for HTML, html2text, a chunk at a time.  The trace
 * headers (recipients, Authentication-Results...) are read from the
 * top-level header block in order, topmost first.
 */
#include "m2c-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <gmime/gmime.h>
#include <magic.h>

#include "error.h"
#include "html2text.h"
#include "log.h"
#include "mime.h"
#include "util.h"

#define MIME_LABEL_MAX 200	/* bytes of a file name label */
#define MIME_TEXT_MAX 1000	/* bytes of a subject or display name */
#define MIME_CHUNK 16384	/* decode buffer */
/*
 * A message up to this size is parsed through a read-only map of its
 * scratch file: the parser's pass and each decoder's then read memory,
 * where a file stream makes an lseek and a read(2) for every 4 KB of both
 * (about 140 system calls for a 140 KB mail).  A larger one streams
 * through the file, so that a huge message is never mapped whole.
 */
#define MIME_MMAP_MAX ((off_t)8 << 20)
#define MIME_RECIPIENTS_MAX 100	/* addresses kept in recipients */
#define MIME_HEADER_VALUE_MAX 8192	/* bytes kept of one such header value */
/*
 * GMime builds the whole tree in memory before the walk can count parts,
 * at about 1 KiB per part or header line and up to 100 bytes per byte of
 * an address list or parameter list: a 5 MB message of empty parts costs
 * more than 1 GB.  So the parse itself is bounded, by a pre-scan (lines
 * that could be boundaries; header-like lines, with their folded
 * continuations, longer than MIME_HEADER_LINE_MAX) and by a parser header
 * callback (number and bytes of header lines).  Without max_parts,
 * MIME_PARTS_CEILING stands in for it.
 */
#define MIME_PARTS_CEILING 20000
#define MIME_HEADER_LINE_MAX (64L * 1024)
#define MIME_DASH_LINES(parts) (8L * (parts) + 1000)
#define MIME_HEADER_LINES(parts) (32L * (parts) + 1000)
#define MIME_HEADER_BYTES(parts) (1024L * (parts) + 256L * 1024)

static int mime_ready;
static magic_t mime_magic;

/*
 * The one table of content types: what we print, and the words used when we
 * do not.  `format` is the CUPS document-format when printable.  `advice`
 * is the whole reason for well-known office formats; otherwise the generic
 * "<plural> (<type>) are not printed" sentence is used.
 */
struct mime_type_info {
	const char *type;
	const char *ext;	/* usual extension with the dot, or NULL */
	const char *noun;	/* "a PDF": for "it is really ..." */
	const char *plural;	/* "ZIP archives": for the generic reason */
	const char *format;	/* printable: document-format, else NULL */
	const char *advice;	/* full reason (after "name: "), or NULL */
};

#define NOT_PRINTED "are not printed; send a PDF, an image or plain text"
#define WORD_ADVICE "Word documents are not printed; send a PDF"
#define EXCEL_ADVICE "Excel spreadsheets are not printed; send a PDF"
#define PPT_ADVICE "PowerPoint presentations are not printed; send a PDF"
#define ODF_ADVICE "OpenDocument files are not printed; send a PDF"
#define EXE_ADVICE "programs are never printed"

static const struct mime_type_info mime_types[] = {
	{ "application/pdf", ".pdf", "a PDF", "PDF files", "application/pdf", NULL },
	{ "image/jpeg", ".jpg", "a JPEG image", "JPEG images", "image/jpeg", NULL },
	{ "image/jpeg", ".jpeg", "a JPEG image", "JPEG images", "image/jpeg", NULL },
	{ "image/png", ".png", "a PNG image", "PNG images", "image/png", NULL },
	{ "image/gif", ".gif", "a GIF image", "GIF images", "image/gif", NULL },
	{ "image/tiff", ".tif", "a TIFF image", "TIFF images", "image/tiff", NULL },
	{ "image/tiff", ".tiff", "a TIFF image", "TIFF images", "image/tiff", NULL },
	{ "text/plain", ".txt", "plain text", "plain text files", "text/plain", NULL },
	{ "text/html", ".html", "an HTML page", "HTML pages", NULL,
	  "HTML attachments are not printed; send a PDF" },
	{ "text/html", ".htm", "an HTML page", "HTML pages", NULL,
	  "HTML attachments are not printed; send a PDF" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	  ".docx", "a Word document", "Word documents", NULL, WORD_ADVICE },
	{ "application/msword", ".doc", "a Word document", "Word documents", NULL, WORD_ADVICE },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	  ".xlsx", "an Excel spreadsheet", "Excel spreadsheets", NULL, EXCEL_ADVICE },
	{ "application/vnd.ms-excel", ".xls", "an Excel spreadsheet", "Excel spreadsheets",
	  NULL, EXCEL_ADVICE },
	{ "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	  ".pptx", "a PowerPoint presentation", "PowerPoint presentations", NULL, PPT_ADVICE },
	{ "application/vnd.ms-powerpoint", ".ppt", "a PowerPoint presentation",
	  "PowerPoint presentations", NULL, PPT_ADVICE },
	{ "application/vnd.oasis.opendocument.text", ".odt", "an OpenDocument text",
	  "OpenDocument files", NULL, ODF_ADVICE },
	{ "application/vnd.oasis.opendocument.spreadsheet", ".ods",
	  "an OpenDocument spreadsheet", "OpenDocument files", NULL, ODF_ADVICE },
	{ "application/x-executable", NULL, "an executable", "programs", NULL, EXE_ADVICE },
	{ "application/x-pie-executable", NULL, "an executable", "programs", NULL, EXE_ADVICE },
	{ "application/x-sharedlib", NULL, "an executable", "programs", NULL, EXE_ADVICE },
	{ "application/x-dosexec", ".exe", "a Windows program", "programs", NULL, EXE_ADVICE },
	{ "text/x-shellscript", ".sh", "a shell script", "scripts", NULL, EXE_ADVICE },
	{ "application/zip", ".zip", "a ZIP archive", "ZIP archives", NULL, NULL },
	{ "application/gzip", ".gz", "a gzip archive", "gzip archives", NULL, NULL },
	{ "application/x-rar", ".rar", "a RAR archive", "RAR archives", NULL, NULL },
	{ "application/x-7z-compressed", ".7z", "a 7-Zip archive", "7-Zip archives", NULL, NULL },
	{ "application/octet-stream", NULL, "unidentified data", "unidentified data files",
	  NULL, NULL },
};

/* Containers libmagic may report for office files it cannot tell apart. */
static const char *const mime_generic_types[] = {
	"application/zip", "application/octet-stream", "application/x-ole-storage",
	"application/cdfv2", "application/encrypted",
};

static const struct mime_type_info *
type_by_mime(const char *type)
{
	size_t i;

	if (type == NULL)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(mime_types); i++)
		if (str_casecmp(mime_types[i].type, type) == 0)
			return &mime_types[i];
	return NULL;
}

static const struct mime_type_info *
type_by_name(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	size_t i;

	if (dot == NULL)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(mime_types); i++)
		if (mime_types[i].ext && str_casecmp(mime_types[i].ext, dot) == 0)
			return &mime_types[i];
	return NULL;
}

static int
type_is_generic(const char *type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mime_generic_types); i++)
		if (str_casecmp(mime_generic_types[i], type) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- set-up */

int
mime_init(char **errstr)
{
	if (mime_ready)
		return 0;
	mime_magic = magic_open(MAGIC_MIME_TYPE);
	if (mime_magic == NULL)
		return m2c_fail(errstr, M2C_E_SYS, "cannot start libmagic: %s", strerror(errno));
	if (magic_load(mime_magic, NULL) != 0) {
		int r = m2c_fail(errstr, M2C_E_SYS,
		    "cannot load the libmagic database: %s; reinstall libmagic-mgc",
		    magic_error(mime_magic) ? magic_error(mime_magic) : "unknown error");
		magic_close(mime_magic);
		mime_magic = NULL;
		return r;
	}
	g_mime_init();
	mime_ready = 1;
	return 0;
}

void
mime_shutdown(void)
{
	if (!mime_ready)
		return;
	magic_close(mime_magic);
	mime_magic = NULL;
	g_mime_shutdown();
	mime_ready = 0;
}

/* ---------------------------------------------------------------- text */

/* Characters that would break or disguise a label: C0, DEL, C1, line
 * separators, bidi controls, BOM. */
static int
is_control(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    (c >= 0x200e && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

/*
 * Make text from a mail safe to show: valid UTF-8 (bad bytes replaced),
 * no control characters, at most max bytes (never cutting a character),
 * surrounding white space trimmed.  With basename, only what follows the
 * last '/' or '\' is kept.  Returns allocated text or NULL when empty.
 */
static char *
clean_text(const char *in, size_t max, int basename)
{
	struct buf b = { 0 };
	char *valid, *p, *start;
	size_t end;

	if (in == NULL)
		return NULL;
	valid = g_utf8_make_valid(in, -1);
	start = valid;
	if (basename) {
		for (p = valid; *p; p++)
			if (*p == '/' || *p == '\\')
				start = p + 1;
	}
	for (p = start; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		size_t n = (size_t)(g_utf8_next_char(p) - p);

		if (is_control(c))
			continue;
		if (b.len == 0 && (c == ' ' || c == '\t'))
			continue;
		if (b.len + n > max)
			break;
		buf_append(&b, p, n);
	}
	g_free(valid);
	end = b.len;
	while (end > 0 && b.data[end - 1] == ' ')
		end--;
	if (end == 0) {
		buf_free(&b);
		return NULL;
	}
	b.data[end] = '\0';
	b.len = end;
	return buf_steal(&b);
}

static char *
clean_label(const char *raw)
{
	char *s = clean_text(raw, MIME_LABEL_MAX, 1);

	if (s && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)) {
		free(s);
		s = NULL;
	}
	return s;
}

/* ---------------------------------------------------------------- the walk */

struct walk {
	const char *scratch_dir;
	const struct mime_limits *lim;
	struct mime_message *msg;
	size_t cap;		/* allocated entries in msg->att */
	int nparts;
	char **errstr;
	GMimePart *body_plain;	/* foreign: the first text/plain body part */
	GMimePart *body_html;	/* foreign: the first text/html body part */
};

/* Where an entity sits: inherited from its parents. */
struct walk_pos {
	int depth;
	int in_related;		/* a member of multipart/related ... */
	int related_html;	/* ... whose root is an HTML body */
	int signature;		/* the signature of a multipart/signed */
	int attached;		/* inside an attached message/rfc822 */
};

static int walk_entity(struct walk *w, GMimeObject *obj, const char *path,
    const struct walk_pos *pos);

/*
 * Record a message-level problem (the walk stops); returns code:
 * M2C_E_LIMIT when a limit was passed, M2C_E_DATA when a part arrived
 * damaged (the message fails; nothing prints).
 */
static int __attribute__((format(printf, 3, 4)))
walk_stop(struct walk *w, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(w->msg->problem);
	w->msg->problem = xvasprintf(fmt, ap);
	va_end(ap);
	return m2c_fail(w->errstr, code, "%s", w->msg->problem);
}

static char *
lower_mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *t, *s;

	if (ct == NULL)
		return xstrdup("application/octet-stream");
	t = g_mime_content_type_get_mime_type(ct);
	s = g_ascii_strdown(t, -1);
	g_free(t);
	t = xstrdup(s);
	g_free(s);
	return t;
}

static int
type_is(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* The root of a multipart/related: named by its start parameter, else the first. */
static GMimeObject *
related_root(GMimeMultipart *mp)
{
	const char *start = g_mime_object_get_content_type_parameter(GMIME_OBJECT(mp), "start");
	int i, n = g_mime_multipart_get_count(mp);

	if (n < 1)
		return NULL;
	if (start) {
		size_t len;

		if (*start == '<')
			start++;
		len = strcspn(start, ">");
		for (i = 0; i < n; i++) {
			GMimeObject *child = g_mime_multipart_get_part(mp, i);
			const char *cid = g_mime_object_get_content_id(child);

			if (cid && strlen(cid) == len && strncmp(cid, start, len) == 0)
				return child;
		}
	}
	return g_mime_multipart_get_part(mp, 0);
}

/* The root of a multipart/related is, or offers, an HTML body. */
static int
related_root_is_html(GMimeMultipart *mp)
{
	GMimeObject *root = related_root(mp);
	int i, n;

	if (root == NULL)
		return 0;
	if (type_is(root, "text", "html"))
		return 1;
	if (!GMIME_IS_MULTIPART(root))
		return 0;
	n = g_mime_multipart_get_count(GMIME_MULTIPART(root));
	for (i = 0; i < n; i++)
		if (type_is(g_mime_multipart_get_part(GMIME_MULTIPART(root), i), "text", "html"))
			return 1;
	return 0;
}

static void
add_filter(GMimeStream *filtered, GMimeFilter *f)
{
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
	g_object_unref(f);
}

/* ------------------------------------------------------------ base64 check */

/*
 * GMime's base64 decoder skips what it cannot decode without a word, and
 * drops a last quantum that is cut short.  This pass-through filter, put
 * before it, counts the base64 characters (padding included) and notes
 * any that are neither base64 nor white space; a count that is not a
 * multiple of 4 at the end is a body cut mid-quantum, as mail truncated
 * in transit is.  It sees each chunk as it streams by: no second read.
 */
typedef struct {
	GMimeFilter parent_object;
	unsigned long long nchars;	/* base64 characters and '=' seen */
	int bad;			/* something else than base64 or white space */
} M2cB64Check;

typedef struct {
	GMimeFilterClass parent_class;
} M2cB64CheckClass;

GType m2c_b64_check_get_type(void);
G_DEFINE_TYPE(M2cB64Check, m2c_b64_check, GMIME_TYPE_FILTER)

/* What each byte is to the check: B64_CHAR counts, B64_WS is skipped,
 * B64_BAD (0) is neither; filled in once, by the class's init. */
enum { B64_BAD = 0, B64_CHAR = 1, B64_WS = 2 };
static unsigned char b64_class[256];

static void
b64_class_fill(void)
{
	static const char chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

	for (const char *p = chars; *p != '\0'; p++)
		b64_class[(unsigned char)*p] = B64_CHAR;
	for (const char *p = " \t\r\n"; *p != '\0'; p++)
		b64_class[(unsigned char)*p] = B64_WS;
}

static void
b64_check_scan(GMimeFilter *f, char *in, size_t len, size_t prespace, char **out,
    size_t *outlen, size_t *outprespace)
{
	M2cB64Check *c = (M2cB64Check *)f;
	unsigned long long n = 0;
	unsigned bad = 0;

	/* A table and no branch: this runs over every byte of every attachment. */
	for (size_t i = 0; i < len; i++) {
		unsigned cl = b64_class[(unsigned char)in[i]];

		n += cl & B64_CHAR;
		bad |= cl == B64_BAD;
	}
	c->nchars += n;
	c->bad |= (int)bad;
	*out = in;
	*outlen = len;
	*outprespace = prespace;
}

static void
b64_check_reset(GMimeFilter *f)
{
	M2cB64Check *c = (M2cB64Check *)f;

	c->nchars = 0;
	c->bad = 0;
}

static GMimeFilter *
b64_check_copy(GMimeFilter *f)
{
	(void)f;
	return g_object_new(m2c_b64_check_get_type(), NULL);
}

static void
m2c_b64_check_class_init(M2cB64CheckClass *klass)
{
	GMimeFilterClass *fc = GMIME_FILTER_CLASS(klass);

	b64_class_fill();
	fc->copy = b64_check_copy;
	fc->filter = b64_check_scan;
	fc->complete = b64_check_scan;
	fc->reset = b64_check_reset;
}

static void
m2c_b64_check_init(M2cB64Check *c)
{
	c->nchars = 0;
	c->bad = 0;
}

/* What was wrong with the base64 that went by, or NULL when it was clean. */
static const char *
b64_check_problem(const M2cB64Check *c)
{
	if (c->bad)
		return "its base64 encoding holds characters that are not base64";
	if (c->nchars % 4 != 0)
		return "its base64 encoding stops in the middle (the mail was cut short)";
	return NULL;
}

/*
 * A part's content through its transfer decoding: a new filter stream the
 * caller unrefs (more filters may be added), or NULL when the part has no
 * content.  *r gets M2C_E_SYS when the content cannot be rewound.  check,
 * optional, gets the base64 check of a base64 part (borrowed from the
 * stream; NULL for other encodings).
 */
static GMimeStream *
decoded_stream(GMimePart *part, int *r, M2cB64Check **check)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *src, *filtered;
	GMimeContentEncoding enc;

	*r = 0;
	if (check != NULL)
		*check = NULL;
	if (content == NULL || (src = g_mime_data_wrapper_get_stream(content)) == NULL)
		return NULL;
	if (g_mime_stream_reset(src) == -1) {
		*r = M2C_E_SYS;
		return NULL;
	}
	enc = g_mime_data_wrapper_get_encoding(content);
	filtered = g_mime_stream_filter_new(src);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 && check != NULL) {
		*check = g_object_new(m2c_b64_check_get_type(), NULL);
		add_filter(filtered, GMIME_FILTER(*check));
	}
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE)
		add_filter(filtered, g_mime_filter_basic_new(enc, FALSE));
	return filtered;
}

/*
 * Read stream to its end, handing each chunk to sink (which returns 0 or
 * M2C_E_SYS), stopping as soon as more than max bytes (0: no limit) have
 * come out.  *size gets the bytes handed on.  Returns 0, M2C_E_LIMIT or
 * M2C_E_SYS.
 */
static int
copy_stream(GMimeStream *in, off_t max, off_t *size,
    int (*sink)(void *arg, const char *p, size_t n), void *arg)
{
	char *chunk = xmalloc(MIME_CHUNK);
	ssize_t n, k;
	int r = 0;

	*size = 0;
	for (;;) {
		/* A filter gives a few KB a read: fill the chunk, one write a chunk. */
		n = k = 0;
		while (n < MIME_CHUNK && (k = g_mime_stream_read(in, chunk + n,
		    MIME_CHUNK - (size_t)n)) > 0)
			n += k;
		if (n > 0) {
			if (max > 0 && *size + n > max) {
				r = M2C_E_LIMIT;
				break;
			}
			if ((r = sink(arg, chunk, (size_t)n)) != 0)
				break;
			*size += n;
			continue;
		}
		if (g_mime_stream_eos(in))
			break;
		if (k < 0) {
			r = M2C_E_SYS;
			break;
		}
	}
	free(chunk);
	return r;
}

static int
sink_fd(void *arg, const char *p, size_t n)
{
	return write_all(*(int *)arg, p, n) != 0 ? M2C_E_SYS : 0;
}

/*
 * Decode a part's content into fd, stopping as soon as more than max bytes
 * (0: no limit) have come out.  *size gets the bytes written; *damage
 * (static) what was wrong with its transfer encoding, or NULL.  Returns 0,
 * M2C_E_LIMIT or M2C_E_SYS.
 */
static int
decode_part(GMimePart *part, int fd, off_t max, off_t *size, const char **damage)
{
	GMimeStream *in;
	M2cB64Check *check;
	int r;

	*size = 0;
	*damage = NULL;
	if ((in = decoded_stream(part, &r, &check)) == NULL)
		return r;
	r = copy_stream(in, max, size, sink_fd, &fd);
	if (r == 0 && check != NULL)
		*damage = b64_check_problem(check);
	g_object_unref(in);
	return r;
}

#define PDF_TAIL 1024	/* where a whole PDF has its startxref and %%EOF */

/*
 * A PDF cut short: no "startxref" and "%%EOF" in its last KiB (the
 * trailer a reader starts from).  Reads that KiB only.  Static text or NULL.
 */
static const char *
pdf_problem(int fd, off_t size)
{
	char buf[PDF_TAIL];
	off_t at = size > PDF_TAIL ? size - PDF_TAIL : 0;
	ssize_t n = pread(fd, buf, sizeof(buf), at);

	if (n <= 0)
		return NULL;	/* unreadable: the submission will say so */
	if (memmem(buf, (size_t)n, "%%EOF", 5) == NULL ||
	    memmem(buf, (size_t)n, "startxref", 9) == NULL)
		return "the PDF stops before its end (no trailer)";
	return NULL;
}

/* Sniff the real type of the scratch file: allocated, never NULL. */
static char *
sniff_type(int fd)
{
	const char *t = NULL;

	if (lseek(fd, 0, SEEK_SET) == 0)
		t = magic_descriptor(mime_magic, fd);
	return xstrdup(t ? t : "application/octet-stream");
}

/* What the sender says it is: its declared type, else its name. */
static const struct mime_type_info *
claimed_type(const struct mime_attachment *a)
{
	const struct mime_type_info *t = type_by_mime(a->declared_type);

	if (t == NULL || type_is_generic(t->type))
		t = type_by_name(a->filename);
	return t;
}

static int
declared_as_text(const struct mime_attachment *a)
{
	const struct mime_type_info *byname = type_by_name(a->filename);

	return (str_has_prefix(a->declared_type, "text/") &&
	    strcmp(a->declared_type, "text/html") != 0) ||
	    (byname && strcmp(byname->type, "text/plain") == 0);
}

/* Decide printable / format / reason from size, sniffed and declared type. */
static void
classify(struct mime_attachment *a)
{
	const struct mime_type_info *real = type_by_mime(a->sniffed_type);
	const struct mime_type_info *claim = claimed_type(a);
	const char *name = a->filename;

	if (a->size == 0) {
		a->reason = xasprintf("%s: empty", name);
		return;
	}
	if (real && real->format && strcmp(real->type, "text/plain") == 0 &&
	    declared_as_text(a)) {
		a->format = real->format;
		a->printable = 1;
		return;
	}
	if (real && real->format && strcmp(real->type, "text/plain") != 0) {
		a->format = real->format;
		a->printable = 1;
		return;
	}
	if (claim && claim->format) {
		a->reason = xasprintf("%s: refused: it claims to be %s but is really %s (%s)",
		    name, claim->noun, real ? real->noun : "something else", a->sniffed_type);
		return;
	}
	if (claim && real && (type_is_generic(real->type) ||
	    strcmp(real->type, "text/plain") == 0))
		real = claim;	/* a container or text: the sender's word is the best name */
	if (real && real->advice)
		a->reason = xasprintf("%s: %s", name, real->advice);
	else if (real && strcmp(real->type, "text/plain") == 0)
		a->reason = xasprintf("%s: text that is not sent as text (%s) is not "
		    "printed; send it as a .txt file", name, a->declared_type);
	else if (real)
		a->reason = xasprintf("%s: %s (%s) " NOT_PRINTED, name, real->plural,
		    real->type);
	else
		a->reason = xasprintf("%s: files of type %s " NOT_PRINTED, name,
		    a->sniffed_type);
}

/* The sniffed type is one a converter turns into PDF. */
static int
wanted_for_conversion(const struct mime_limits *lim, const char *sniffed)
{
	size_t i;

	if (sniffed == NULL || lim->convert_types == NULL)
		return 0;
	for (i = 0; i < lim->nconvert_types; i++)
		if (lim->convert_types[i] && str_wildcard_match(lim->convert_types[i], sniffed))
			return 1;
	return 0;
}

static struct mime_attachment *
new_attachment(struct walk *w)
{
	struct mime_message *m = w->msg;

	if (m->natt == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 4;
		m->att = xreallocarray(m->att, w->cap, sizeof(*m->att));
	}
	memset(&m->att[m->natt], 0, sizeof(m->att[0]));
	return &m->att[m->natt++];
}

static void
drop_scratch(struct mime_attachment *a)
{
	if (a->path == NULL)
		return;
	(void)unlink(a->path);
	free(a->path);
	a->path = NULL;
}

/* Is this leaf an attachment (1) or part of the body (0)? */
static int
is_attachment(GMimeObject *obj, const char *filename, const struct walk_pos *pos)
{
	GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);

	if (disp && g_mime_content_disposition_is_attachment(disp))
		return 1;
	if (pos->in_related && (g_mime_object_get_content_id(obj) || pos->related_html))
		return 0;	/* an embedded image or logo of an HTML body */
	if (filename)
		return 1;
	if (pos->signature || type_is(obj, "text", "*") || type_is(obj, "message", "*"))
		return 0;
	return 1;	/* a nameless document, such as a bare application/pdf */
}

static int
walk_leaf(struct walk *w, GMimePart *part, const char *path, const struct walk_pos *pos)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	const char *raw = g_mime_part_get_filename(part);
	struct mime_attachment *a;
	const char *damage = NULL;
	int fd, r;

	if (!is_attachment(obj, raw, pos)) {
		if (!pos->attached && !pos->signature) {
			if (w->body_plain == NULL && type_is(obj, "text", "plain"))
				w->body_plain = part;
			else if (w->body_html == NULL && type_is(obj, "text", "html"))
				w->body_html = part;
		}
		return 0;
	}
	a = new_attachment(w);
	a->part = xstrdup(path);
	a->declared_type = lower_mime_type(obj);
	a->filename = clean_label(raw);
	if ((fd = private_tmpfile(w->scratch_dir, "part", &a->path, w->errstr)) < 0)
		return fd;
	r = decode_part(part, fd, w->lim->max_attachment_size, &a->size, &damage);
	if (r == 0)
		a->sniffed_type = sniff_type(fd);
	if (r == 0 && damage == NULL && strcmp(a->sniffed_type, "application/pdf") == 0)
		damage = pdf_problem(fd, a->size);
	close(fd);
	if (a->filename == NULL) {
		const struct mime_type_info *t = type_by_mime(a->sniffed_type);

		if (t == NULL || !t->format)
			t = type_by_mime(a->declared_type);
		a->filename = xasprintf("attachment-%zu%s", w->msg->natt,
		    t && t->ext ? t->ext : "");
	}
	if (r == M2C_E_LIMIT) {
		drop_scratch(a);
		a->reason = xasprintf("%s: larger than the limit of %lld bytes", a->filename,
		    (long long)w->lim->max_attachment_size);
		return walk_stop(w, M2C_E_LIMIT,
		    "%s (part %s) is larger than the limit of %lld bytes; "
		    "send a smaller file or raise the attachment size limit", a->filename,
		    a->part, (long long)w->lim->max_attachment_size);
	}
	if (r != 0)
		return m2c_fail(w->errstr, r, "cannot decode part %s into %s: %s", a->part,
		    w->scratch_dir, strerror(errno));
	if (damage != NULL) {
		/* Truncated in transit, most likely: what would print is not
		 * what was sent.  The whole message fails; the sender resends. */
		drop_scratch(a);
		a->reason = xasprintf("%s: arrived damaged", a->filename);
		return walk_stop(w, M2C_E_DATA,
		    "%s arrived damaged; send it again (%s)", a->filename,
		    damage);
	}
	classify(a);
	if (!a->printable && a->size > 0 && wanted_for_conversion(w->lim, a->sniffed_type)) {
		free(a->reason);
		a->reason = NULL;
		a->printable = 1;
		a->convert = 1;
	}
	log_debug("part %s (%s, sniffed %s, %lld bytes): %s", a->part, a->declared_type,
	    a->sniffed_type, (long long)a->size, a->convert ? "to be converted" :
	    a->printable ? a->format : a->reason);
	if (!a->printable) {
		drop_scratch(a);
		return 0;
	}
	w->msg->nprintable++;
	if (w->lim->max_attachments > 0 && w->msg->nprintable > (size_t)w->lim->max_attachments)
		return walk_stop(w, M2C_E_LIMIT,
		    "the message has more than %d printable attachments; "
		    "send them in several messages", w->lim->max_attachments);
	return 0;
}

static char *
child_path(const char *parent, int index)
{
	return *parent ? xasprintf("%s.%d", parent, index) : xasprintf("%d", index);
}

static int
walk_multipart(struct walk *w, GMimeMultipart *mp, const char *path,
    const struct walk_pos *pos)
{
	GMimeObject *obj = GMIME_OBJECT(mp);
	struct walk_pos sub = *pos;
	int i, n = g_mime_multipart_get_count(mp), r = 0;

	sub.depth = pos->depth + 1;
	sub.signature = 0;
	if (type_is(obj, "multipart", "related")) {
		sub.in_related = 1;
		sub.related_html = related_root_is_html(mp);
	} else if (type_is(obj, "multipart", "mixed")) {
		sub.in_related = sub.related_html = 0;
	}
	for (i = 0; i < n && r == 0; i++) {
		char *cpath = child_path(path, i + 1);

		sub.signature = i == 1 && type_is(obj, "multipart", "signed");
		r = walk_entity(w, g_mime_multipart_get_part(mp, i), cpath, &sub);
		free(cpath);
	}
	return r;
}

/*
 * The body of a message (top level or attached) numbered under prefix: a
 * multipart's parts are prefix.1, prefix.2...; a single part is prefix.1.
 */
static int
walk_body(struct walk *w, GMimeObject *body, const char *prefix, int depth)
{
	struct walk_pos pos = { .depth = depth, .attached = *prefix != '\0' };
	char *path;
	int r;

	if (body == NULL)
		return 0;
	if (GMIME_IS_MULTIPART(body))
		return walk_entity(w, body, prefix, &pos);
	path = child_path(prefix, 1);
	r = walk_entity(w, body, path, &pos);
	free(path);
	return r;
}

static int
walk_entity(struct walk *w, GMimeObject *obj, const char *path, const struct walk_pos *pos)
{
	const struct mime_limits *lim = w->lim;

	if (obj == NULL)
		return 0;
	if (lim->max_parts > 0 && ++w->nparts > lim->max_parts)
		return walk_stop(w, M2C_E_LIMIT,
		    "the message has more than %d MIME parts; it is not "
		    "processed", lim->max_parts);
	if (lim->max_depth > 0 && pos->depth > lim->max_depth)
		return walk_stop(w, M2C_E_LIMIT,
		    "the message nests MIME parts more than %d levels deep; "
		    "it is not processed", lim->max_depth);
	if (GMIME_IS_MULTIPART(obj))
		return walk_multipart(w, GMIME_MULTIPART(obj), path, pos);
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner == NULL)
			return 0;
		return walk_body(w, g_mime_message_get_mime_part(inner), path, pos->depth + 1);
	}
	if (GMIME_IS_PART(obj))
		return walk_leaf(w, GMIME_PART(obj), path, pos);
	return 0;
}

/* ---------------------------------------------------------------- body */

struct body_sink {
	int fd;
	struct html2text *html;	/* owned; NULL for text/plain */
	struct buf out;		/* rendered HTML not yet written */
	off_t written;
	int visible;		/* something other than blanks was written */
};

/* Blanks: ASCII white space and the bytes of U+00A0 (no-break space). */
static int
has_visible(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c > ' ' && c != 0x7f && c != 0xc2 && c != 0xa0)
			return 1;
	}
	return 0;
}

static int
body_write(struct body_sink *bs, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (!bs->visible)
		bs->visible = has_visible(p, n);
	if (write_all(bs->fd, p, n) != 0)
		return M2C_E_SYS;
	bs->written += (off_t)n;
	return 0;
}

static int
sink_body(void *arg, const char *p, size_t n)
{
	struct body_sink *bs = arg;
	int r;

	if (bs->html == NULL)
		return body_write(bs, p, n);
	html2text_feed(bs->html, p, n, &bs->out);
	r = body_write(bs, bs->out.data, bs->out.len);
	buf_reset(&bs->out);
	return r;
}

static void __attribute__((format(printf, 2, 3)))
body_problem(struct mime_message *m, const char *fmt, ...)
{
	va_list ap;

	free(m->body_problem);
	va_start(ap, fmt);
	m->body_problem = xvasprintf(fmt, ap);
	va_end(ap);
}

/* The declared charset of a text part; NULL when it is UTF-8 or ASCII. */
static const char *
text_charset(GMimePart *part)
{
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");

	if (cs == NULL || str_casecmp(cs, "utf-8") == 0 || str_casecmp(cs, "utf8") == 0 ||
	    str_casecmp(cs, "us-ascii") == 0 || str_casecmp(cs, "ascii") == 0)
		return NULL;
	return cs;
}

/*
 * Write a text body part as UTF-8 plain text into a new scratch file,
 * streamed: transfer decoding, CRLF to LF, charset to UTF-8, and for HTML
 * html2text.  Sets body_path when the text is not blank, or body_problem.
 * Returns 0 or M2C_E_SYS.
 */
static int
write_body(struct walk *w, GMimePart *part, int html)
{
	struct mime_message *m = w->msg;
	struct body_sink bs = { .fd = -1 };
	const char *cs = text_charset(part);
	GMimeStream *in;
	char *path = NULL, *label;
	off_t size;
	int r;

	if ((in = decoded_stream(part, &r, NULL)) == NULL)
		return r;
	add_filter(in, g_mime_filter_dos2unix_new(FALSE));
	if (cs) {
		GMimeFilter *f = g_mime_filter_charset_new(cs, "UTF-8");

		if (f == NULL) {
			label = clean_text(cs, MIME_LABEL_MAX, 0);
			body_problem(m, "the message text is in an unknown character set (%s); "
			    "it is not printed", label ? label : "?");
			free(label);
			goto out;
		}
		add_filter(in, f);
	}
	if ((bs.fd = private_tmpfile(w->scratch_dir, "part", &path, w->errstr)) < 0) {
		r = bs.fd;
		goto out;
	}
	if (html)
		bs.html = html2text_new();
	r = copy_stream(in, w->lim->max_attachment_size, &size, sink_body, &bs);
	if (r == 0 && bs.html) {
		html2text_finish(bs.html, &bs.out);
		r = body_write(&bs, bs.out.data, bs.out.len);
	}
	if (r == M2C_E_LIMIT) {
		body_problem(m, "the message text is larger than the limit of %lld bytes; "
		    "it is not printed", (long long)w->lim->max_attachment_size);
		r = 0;
	} else if (r != 0) {
		r = m2c_fail(w->errstr, r, "cannot write the message text into %s: %s",
		    w->scratch_dir, strerror(errno));
	} else if (bs.visible) {
		m->body_path = path;
		m->body_size = bs.written;
		path = NULL;
	}
 out:
	if (bs.fd >= 0)
		close(bs.fd);
	if (path) {
		(void)unlink(path);
		free(path);
	}
	html2text_free(&bs.html);
	buf_free(&bs.out);
	g_object_unref(in);
	return r;
}

/* The text body: the first text/plain part, else (or when that gives
 * nothing) the first text/html one. */
static int
extract_body(struct walk *w)
{
	int r = 0;

	if (w->body_plain)
		r = write_body(w, w->body_plain, 0);
	if (r == 0 && w->msg->body_path == NULL && w->body_html)
		r = write_body(w, w->body_html, 1);
	if (w->msg->body_path) {
		free(w->msg->body_problem);
		w->msg->body_problem = NULL;
	}
	return r;
}

/* ---------------------------------------------------------------- headers */

static InternetAddressMailbox *
first_mailbox(InternetAddressList *list, int depth)
{
	int i, n = list ? internet_address_list_length(list) : 0;

	for (i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return INTERNET_ADDRESS_MAILBOX(ia);
		if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 4) {
			InternetAddressMailbox *mb = first_mailbox(
			    internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
			    depth + 1);
			if (mb)
				return mb;
		}
	}
	return NULL;
}

/* Every mailbox of list (groups included) into *n and b ("a, b"). */
static void
list_mailboxes(InternetAddressList *list, int depth, size_t *n, struct buf *b)
{
	int i, len = list ? internet_address_list_length(list) : 0;

	for (i = 0; i < len; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia));

			(*n)++;
			buf_appendf(b, "%s%s", b->len ? ", " : "", addr ? addr : "");
		} else if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 4) {
			list_mailboxes(internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), depth + 1, n, b);
		}
	}
}

/* ASCII lower-case, in place: the whole string or from its last '@'. */
static void
lower_ascii(char *s, int domain_only)
{
	char *p = s;

	if (s == NULL)
		return;
	if (domain_only && (p = strrchr(s, '@')) == NULL)
		return;
	for (; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

/*
 * A header's raw value unfolded (line breaks removed, RFC 5322 2.2.3),
 * cleaned and cut to MIME_HEADER_VALUE_MAX: allocated, or NULL when empty.
 */
static char *
header_value(GMimeHeader *h)
{
	const char *raw = g_mime_header_get_raw_value(h);
	struct buf b = { 0 };
	char *s;

	if (raw == NULL)
		return NULL;
	for (; *raw && b.len < MIME_HEADER_VALUE_MAX * 2; raw++)
		if (*raw != '\r' && *raw != '\n')
			buf_appendc(&b, *raw == '\t' ? ' ' : *raw);
	if (b.data == NULL)
		return NULL;
	s = clean_text(b.data, MIME_HEADER_VALUE_MAX, 0);
	buf_free(&b);
	return s;
}

/* The first token of a header value ("auto-replied" of "auto-replied; x"). */
static int
header_token_is(const char *value, const char *word)
{
	size_t n = strlen(word);

	return value && g_ascii_strncasecmp(value, word, n) == 0 &&
	    (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

static void
add_recipient(struct mime_message *m, const char *addr)
{
	char *a = clean_text(addr, MIME_TEXT_MAX, 0);
	size_t i;

	if (a == NULL || m->nrecipients >= MIME_RECIPIENTS_MAX || strchr(a, '@') == NULL) {
		free(a);
		return;
	}
	lower_ascii(a, 0);
	for (i = 0; i < m->nrecipients; i++)
		if (strcmp(m->recipients[i], a) == 0) {
			free(a);
			return;
		}
	m->recipients = xreallocarray(m->recipients, m->nrecipients + 1, sizeof(char *));
	m->recipients[m->nrecipients++] = a;
}

static void
add_recipient_list(struct mime_message *m, InternetAddressList *list, int depth)
{
	int i, n = list ? internet_address_list_length(list) : 0;

	for (i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			add_recipient(m, internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia)));
		else if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 4)
			add_recipient_list(m, internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), depth + 1);
	}
}

/* "<a@b>", "a@b" or "<>" ("" then): the addr-spec, allocated. */
static char *
return_path_addr(const char *value)
{
	size_t n;

	if (*value == '<')
		value++;
	n = strcspn(value, "> ");
	return xstrndup(value, n);
}

/* The top-level header block, in order (first = topmost). */
static void
read_header_list(GMimeMessage *gm, struct mime_message *m)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(gm));
	int i, n = list ? g_mime_header_list_get_count(list) : 0;

	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *name = g_mime_header_get_name(h);
		char *v;

		if (name == NULL || (v = header_value(h)) == NULL)
			continue;
		if (str_casecmp(name, "To") == 0 || str_casecmp(name, "Cc") == 0 ||
		    str_casecmp(name, "Delivered-To") == 0 ||
		    str_casecmp(name, "X-Original-To") == 0) {
			InternetAddressList *al = internet_address_list_parse(NULL, v);

			if (al) {
				add_recipient_list(m, al, 0);
				g_object_unref(al);
			}
		} else if (str_casecmp(name, "Authentication-Results") == 0 ||
		    str_casecmp(name, "Received") == 0) {
			if (m->ntrace < MIME_TRACE_MAX) {
				m->trace = xreallocarray(m->trace, m->ntrace + 1,
				    sizeof(*m->trace));
				m->trace[m->ntrace].received = str_casecmp(name, "Received") == 0;
				m->trace[m->ntrace++].value = v;
				v = NULL;
			}
		} else if (str_casecmp(name, "X-MS-Exchange-Organization-AuthAs") == 0) {
			if (m->ms_authas == NULL) {
				m->ms_authas = v;
				v = NULL;
			}
		} else if (str_casecmp(name, "Return-Path") == 0) {
			if (m->return_path == NULL) {
				m->return_path = return_path_addr(v);
				lower_ascii(m->return_path, 1);
			}
		} else if (str_casecmp(name, "References") == 0) {
			if (m->references == NULL) {
				m->references = v;
				v = NULL;
			}
		} else if (str_casecmp(name, "Auto-Submitted") == 0) {
			if (!header_token_is(v, "no"))
				m->auto_submitted = 1;
		} else if (str_casecmp(name, "List-Id") == 0 ||
		    str_casecmp(name, "List-Unsubscribe") == 0 ||
		    (str_casecmp(name, "Precedence") == 0 && (header_token_is(v, "bulk") ||
		    header_token_is(v, "list") || header_token_is(v, "junk")))) {
			m->list_mail = 1;
		}
		free(v);
	}
}

/*
 * How many From mailboxes the message has: every From header counts (GMime
 * keeps one list; a second From header line is itself a second sender).
 */
static void
count_from(GMimeMessage *gm, struct mime_message *m)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(gm));
	int i, n = list ? g_mime_header_list_get_count(list) : 0;
	struct buf b = { 0 };

	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_value(h);
		InternetAddressList *al;

		if (name == NULL || str_casecmp(name, "From") != 0 || raw == NULL)
			continue;
		if ((al = internet_address_list_parse(NULL, raw)) != NULL) {
			list_mailboxes(al, 0, &m->nfrom, &b);
			g_object_unref(al);
		}
	}
	if (m->nfrom > 1 && b.len > 0)
		m->from_list = clean_text(b.data, MIME_TEXT_MAX, 0);
	buf_free(&b);
}

static void
read_headers(GMimeMessage *gm, struct mime_message *m)
{
	InternetAddressMailbox *mb = first_mailbox(g_mime_message_get_from(gm), 0);
	const char *mid;

	count_from(gm, m);
	if (mb != NULL && m->nfrom == 0)
		m->nfrom = 1;

	if (mb) {
		const char *addr = internet_address_mailbox_get_addr(mb);

		m->from_addr = clean_text(addr, MIME_TEXT_MAX, 0);
		lower_ascii(m->from_addr, 1);
		m->from_name = clean_text(internet_address_get_name(INTERNET_ADDRESS(mb)),
		    MIME_TEXT_MAX, 0);
	}
	m->subject = clean_text(g_mime_message_get_subject(gm), MIME_TEXT_MAX, 0);
	mid = g_mime_message_get_message_id(gm);
	m->message_id = clean_text(mid, MIME_TEXT_MAX, 0);
	read_header_list(gm, m);
}

/* ---------------------------------------------------------------- guards */

struct parse_guard {
	GMimeStream *stream;	/* foreign: the parser's stream */
	long headers, max_headers;
	long bytes, max_bytes;
	int tripped;
};

/*
 * Header callback: past a limit, end the parser's stream where it is, so
 * GMime stops at once instead of building the rest of the tree.
 */
static void
guard_header(GMimeParser *parser, const char *header, const char *value, gint64 offset,
    gpointer user_data)
{
	struct parse_guard *g = user_data;

	if (g->tripped)
		return;
	g->bytes += (long)(strlen(header) + (value ? strlen(value) : 0));
	if (++g->headers <= g->max_headers && g->bytes <= g->max_bytes)
		return;
	g->tripped = 1;
	g_mime_stream_set_bounds(g->stream, 0, offset > 0 ? offset : 0);
}

/* The pre-scan, a byte at a time, over the whole file. */
struct prescan {
	long max_dashes;
	long dashes;		/* lines starting with "--", as every boundary does */
	off_t line_start;	/* where the current logical line began */
	long line_len;		/* its length so far */
	int bol, dash;
	int name;		/* 1: may be a header field name; 2: it was one */
	off_t stop;		/* where the parse must stop, or -1 */
	int long_header;	/* why: a long header line (else: too many dashes) */
};

static void
prescan_byte(struct prescan *ps, char c, off_t off)
{
	if (ps->bol && c != ' ' && c != '\t') {	/* not a folded continuation */
		ps->name = 1;
		ps->line_start = off;
		ps->line_len = 0;
	}
	if (ps->bol || ps->dash == 1) {
		ps->dash = c == '-' ? ps->dash + 1 : 0;
		if (ps->dash == 2 && ++ps->dashes > ps->max_dashes)
			ps->stop = off - 1;
	}
	if (ps->name == 1) {
		if (c == ':' && ps->line_len > 0)
			ps->name = 2;
		else if (c <= ' ' || c > '~')
			ps->name = 0;
	}
	if (ps->name && ++ps->line_len > MIME_HEADER_LINE_MAX && ps->name == 2) {
		ps->stop = ps->line_start;
		ps->long_header = 1;
	}
	ps->bol = c == '\n';
}

/*
 * How many of the n bytes at p prescan_byte would pass over without a
 * change but to line_len: inside a line (not at its start, not just after
 * its first '-'), a field name goes on while the bytes are printable and
 * not ':', and a line that cannot be a header (name 0) until its '\n'.
 * The same result as a byte at a time, several times faster over a body.
 */
static ssize_t
prescan_skip(struct prescan *ps, const char *p, ssize_t n)
{
	const char *nl;
	ssize_t k = 0;

	if (ps->bol || ps->dash == 1)
		return 0;
	if (ps->name == 0) {
		nl = memchr(p, '\n', (size_t)n);
		return nl != NULL ? nl - p : n;
	}
	if (ps->name == 1) {
		while (k < n && p[k] > ' ' && p[k] <= '~' && p[k] != ':')
			k++;
		ps->line_len += k;	/* as prescan_byte counts it */
	}
	return k;
}

static int
prescan_file(int fd, struct prescan *ps)
{
	char *chunk = xmalloc(MIME_CHUNK);
	off_t off = 0;
	ssize_t n, i;
	int r = 0;

	ps->bol = 1;
	ps->stop = -1;
	while (ps->stop < 0) {
		n = pread(fd, chunk, MIME_CHUNK, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? M2C_E_SYS : 0;
			break;
		}
		for (i = 0; i < n && ps->stop < 0; i++) {
			i += prescan_skip(ps, chunk + i, n - i);
			if (i < n)
				prescan_byte(ps, chunk[i], off + i);
		}
		off += n;
	}
	free(chunk);
	return r;
}

/* ---------------------------------------------------------------- API */

/* After a limit: nothing stays on disk and nothing is printable. */
static void
withdraw_all(struct mime_message *m)
{
	size_t i;

	for (i = 0; i < m->natt; i++) {
		struct mime_attachment *a = &m->att[i];

		if (a->path)
			drop_scratch(a);
		if (a->reason == NULL)
			a->reason = xasprintf("%s: not printed: %s", a->filename, m->problem);
		a->printable = 0;
		a->convert = 0;
		a->format = NULL;
	}
	m->nprintable = 0;
}

int
mime_extract(int fd, const char *scratch_dir, const struct mime_limits *lim,
    struct mime_message **out, char **errstr)
{
	static const struct mime_limits nolimits;
	struct walk w = { 0 };
	struct parse_guard guard = { 0 };
	struct prescan ps = { 0 };
	struct stat st;
	struct mime_message *m = NULL;
	long parts;
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *gm = NULL;
	int dfd = -1, r;

	*out = NULL;
	if (!mime_ready && (r = mime_init(errstr)) != 0)
		return r;
	if ((dfd = dup(fd)) < 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot read the message: dup: %s",
		    strerror(errno));
		goto out;
	}
	if (lseek(dfd, 0, SEEK_SET) != 0) {
		r = m2c_fail(errstr, M2C_E_SYS, "cannot read the message: it is not a "
		    "seekable file: %s", strerror(errno));
		goto out;
	}
	w.scratch_dir = scratch_dir;
	w.lim = lim ? lim : &nolimits;
	w.errstr = errstr;
	parts = w.lim->max_parts > 0 ? w.lim->max_parts : MIME_PARTS_CEILING;
	ps.max_dashes = MIME_DASH_LINES(parts);
	if ((r = prescan_file(dfd, &ps)) != 0) {
		r = m2c_fail(errstr, r, "cannot read the message: %s", strerror(errno));
		goto out;
	}
	/* The stream owns dfd from here (closed when the last substream goes). */
	if (fstat(dfd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size <= MIME_MMAP_MAX)
		stream = g_mime_stream_mmap_new_with_bounds(dfd, PROT_READ, MAP_PRIVATE, 0, -1);
	if (stream == NULL)
		stream = g_mime_stream_fs_new_with_bounds(dfd, 0, -1);
	dfd = -1;
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	guard.stream = stream;
	guard.max_headers = MIME_HEADER_LINES(parts);
	guard.max_bytes = MIME_HEADER_BYTES(parts);
	g_mime_parser_set_header_regex(parser, ".", guard_header, &guard);
	if (ps.stop >= 0)	/* parse only what is within the limits */
		g_mime_stream_set_bounds(stream, 0, ps.stop);
	gm = g_mime_parser_construct_message(parser, NULL);
	if (gm == NULL) {
		r = m2c_fail(errstr, M2C_E_DATA, "the message cannot be parsed as MIME at all");
		goto out;
	}

	m = xcalloc(1, sizeof(*m));
	w.msg = m;
	read_headers(gm, m);
	if (ps.stop >= 0 && ps.long_header)
		r = walk_stop(&w, M2C_E_LIMIT,
		    "the message has a header line longer than %ld bytes; it is "
		    "not processed", MIME_HEADER_LINE_MAX);
	else if (ps.stop >= 0)
		r = walk_stop(&w, M2C_E_LIMIT,
		    "the message has more than %ld lines that could separate "
		    "MIME parts; it is not processed", ps.max_dashes);
	else if (guard.tripped)
		r = walk_stop(&w, M2C_E_LIMIT,
		    "the message has more than %ld header lines or %ld bytes of "
		    "headers; it is not processed", guard.max_headers, guard.max_bytes);
	else
		r = walk_body(&w, g_mime_message_get_mime_part(gm), "", 1);
	if (r == 0 && w.lim->want_body)
		r = extract_body(&w);
	if (r == M2C_E_LIMIT || (r == M2C_E_DATA && m->problem != NULL)) {
		/* A limit, or a part that arrived damaged: the sender can be told. */
		withdraw_all(m);
		*out = m;
		m = NULL;
	} else if (r == 0) {
		*out = m;
		m = NULL;
	}
 out:
	mime_message_free(&m);
	if (dfd >= 0)
		close(dfd);
	if (gm)
		g_object_unref(gm);
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	return r;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
mime_message_free(struct mime_message **mp)
{
	struct mime_message *m;
	size_t i;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	for (i = 0; i < m->natt; i++) {
		struct mime_attachment *a = &m->att[i];

		drop_scratch(a);
		free(a->part);
		free(a->filename);
		free(a->declared_type);
		free(a->sniffed_type);
		free(a->reason);
	}
	free(m->att);
	free_strv(m->recipients, m->nrecipients);
	for (size_t t = 0; t < m->ntrace; t++)
		free(m->trace[t].value);
	free(m->trace);
	free(m->ms_authas);
	free(m->return_path);
	free(m->references);
	if (m->body_path) {
		(void)unlink(m->body_path);
		free(m->body_path);
	}
	free(m->body_problem);
	free(m->from_addr);
	free(m->from_list);
	free(m->from_name);
	free(m->subject);
	free(m->message_id);
	free(m->problem);
	free(m);
	*mp = NULL;
}
