/*
 * reply.c - replies to the sender: composed, queued, rate-limited, sent;
 * see reply.h.
 *
 * RFC 5322 (the message), RFC 2047 (encoded header text, done by GMime),
 * RFC 3834 (Auto-Submitted: auto-replied, In-Reply-To, References).
 *
 * A queued reply is a row of the state database (state.h) whose ctx column
 * holds struct reply_ctx as JSON:
 *     {"to", "subject", "message_id", "references", "queue", "files",
 *      "reason", "options", "notes": strings (absent when NULL),
 *      "held": bool, "job_ids": [int, ...]}
 * Text from the mail is made valid UTF-8 before it is stored, and is
 * cleaned again (controls, length) when a template is rendered: a value
 * never adds a header line or a line break to the Subject.
 */
#include "m2c-config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>
#include <time.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "addr.h"
#include "cupsjob.h"
#include "error.h"
#include "log.h"
#include "reply.h"
#include "smtp.h"
#include "util.h"

#define REPLY_VALUE_MAX		4000	/* bytes of one template value */
#define REPLY_SUBJECT_MAX	300	/* bytes of the rendered Subject */
#define REPLY_MSGID_MAX		250	/* bytes of one Message-ID we refer to */
#define REPLY_REFS_MAX		10	/* Message-IDs in References */
#define REPLY_JOBS_MAX		1000	/* job ids of one reply */
#define REPLY_WAIT_MAX		(7 * 24 * 3600)	/* s a printed reply waits for its jobs */
#define REPLY_DEFAULT_ATTEMPTS	5

static int reply_gmime_ready;

/*
 * The kinds as stored in the state database.  Our own table rather than
 * conf_reply_kind_name(): these strings are a storage format and must not
 * change when the config's wording does.
 */
static const char *const kind_names[CONF_REPLY_NKINDS] = {
	[CONF_REPLY_ACCEPTED] = "accepted",
	[CONF_REPLY_REJECTED] = "rejected",
	[CONF_REPLY_FAILED] = "failed",
	[CONF_REPLY_PRINTED] = "printed",
};

/* ------------------------------------------------------------- rendering */

/*
 * Append v to b as template text: valid UTF-8 (bad bytes become U+FFFD),
 * at most REPLY_VALUE_MAX bytes (cut at a character boundary), no control
 * characters; in oneline mode CR, LF and TAB become spaces, otherwise LF
 * and TAB stay and CR goes.
 */
static void
append_clean(struct buf *b, const char *v, int oneline)
{
	gchar *u;
	const char *p, *end;

	if (v == NULL)
		return;
	u = g_utf8_make_valid(v, -1);
	end = u + strlen(u);
	if (end - u > REPLY_VALUE_MAX) {
		end = u + REPLY_VALUE_MAX;
		while (end > u && ((unsigned char)*end & 0xc0) == 0x80)
			end--;
	}
	for (p = u; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n' || c == '\t' || c == '\r') {
			if (oneline)
				buf_appendc(b, ' ');
			else if (c != '\r')
				buf_appendc(b, (char)c);
		} else if (c >= 0x20 && c != 0x7f) {
			buf_appendc(b, (char)c);
		}
	}
	g_free(u);
}

/* What each template variable holds for one reply. */
struct reply_vars {
	const char *name[16];
	char *value[16];	/* owned */
	size_t n;
};

static void
vars_add(struct reply_vars *v, const char *name, char *value)
{
	if (v->n >= ARRAY_SIZE(v->name)) {
		free(value);
		return;
	}
	v->name[v->n] = name;
	v->value[v->n++] = value;
}

static void
vars_clear(struct reply_vars *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->value[i]);
	memset(v, 0, sizeof(*v));
}

static void
vars_fill(struct reply_vars *v, const struct conf_account *a, const struct reply_ctx *ctx)
{
	struct buf jobs = { 0 }, rel = { 0 };
	size_t i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < ctx->njobs && ctx->job_ids != NULL; i++) {
		if (ctx->queue != NULL)
			buf_appendf(&jobs, "%s%s-%d", i ? ", " : "", ctx->queue, ctx->job_ids[i]);
		else
			buf_appendf(&jobs, "%s%d", i ? ", " : "", ctx->job_ids[i]);
		if (ctx->held)
			buf_appendf(&rel, "%sYour job is held. Release it at the printer, or an "
			    "administrator can run: lp -i %d -H resume", i ? "\n" : "",
			    ctx->job_ids[i]);
	}
	vars_add(v, "sender", xstrdup(ctx->to ? ctx->to : ""));
	vars_add(v, "subject", xstrdup(ctx->subject ? ctx->subject : ""));
	vars_add(v, "files", xstrdup(ctx->files ? ctx->files : ""));
	vars_add(v, "queue", xstrdup(ctx->queue ? ctx->queue : ""));
	vars_add(v, "jobs", buf_steal(&jobs));
	vars_add(v, "reason", xstrdup(ctx->reason ? ctx->reason : ""));
	vars_add(v, "options", xstrdup(ctx->options ? ctx->options : ""));
	vars_add(v, "notes", xstrdup(ctx->notes ? ctx->notes : ""));
	vars_add(v, "release", buf_steal(&rel));
	vars_add(v, "account", xstrdup(a->name ? a->name : ""));
	/* For the sender the mailbox is the address they wrote to. */
	vars_add(v, "mailbox", xstrdup(a->username ? a->username : ""));
}

/*
 * Render template t: ${name} is replaced by the variable's cleaned value;
 * anything else (an unknown name, a lone "$") is copied as it is.
 * Allocated.
 */
static char *
render(const char *t, const struct reply_vars *v, int oneline)
{
	struct buf b = { 0 };
	const char *p = t, *close;
	size_t i;

	while (*p) {
		if (p[0] == '$' && p[1] == '{' && (close = strchr(p + 2, '}')) != NULL) {
			size_t nlen = (size_t)(close - (p + 2));

			for (i = 0; i < v->n; i++)
				if (strlen(v->name[i]) == nlen &&
				    strncmp(v->name[i], p + 2, nlen) == 0)
					break;
			if (i < v->n) {
				append_clean(&b, v->value[i], oneline);
				p = close + 1;
				continue;
			}
		}
		if (oneline && (*p == '\r' || *p == '\n'))
			buf_appendc(&b, ' ');
		else
			buf_appendc(&b, *p);
		p++;
	}
	return buf_steal(&b);
}

/* Cut s to at most max bytes at a UTF-8 character boundary. */
static void
cut_utf8(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

/* A Message-ID (without <>) we can refer to: printable ASCII, no <> or spaces. */
static int
msgid_ok(const char *id, size_t len)
{
	size_t i;

	if (len == 0 || len > REPLY_MSGID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f ||
		    id[i] == '<' || id[i] == '>')
			return 0;
	return 1;
}

/*
 * References: the original's References (only well-formed <id> tokens)
 * and then <id>; bounded to the first and the last ones (RFC 5322 3.6.4
 * suggests keeping the thread's root).  Allocated, or NULL when empty.
 */
static char *
make_references(const char *refs, const char *id)
{
	const char *tok[REPLY_REFS_MAX * 4];
	size_t len[ARRAY_SIZE(tok)], n = 0, i, first;
	const char *p = refs, *lt, *gt;
	struct buf b = { 0 };

	while (p != NULL && (lt = strchr(p, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		if (msgid_ok(lt + 1, (size_t)(gt - lt - 1))) {
			if (n == ARRAY_SIZE(tok)) {
				/* Keep the root; shift out the oldest of the rest. */
				memmove(tok + 1, tok + 2, (n - 2) * sizeof(*tok));
				memmove(len + 1, len + 2, (n - 2) * sizeof(*len));
				n--;
			}
			tok[n] = lt + 1;
			len[n++] = (size_t)(gt - lt - 1);
		}
		p = gt + 1;
	}
	if (id != NULL && msgid_ok(id, strlen(id))) {
		if (n == ARRAY_SIZE(tok)) {
			memmove(tok + 1, tok + 2, (n - 2) * sizeof(*tok));
			memmove(len + 1, len + 2, (n - 2) * sizeof(*len));
			n--;
		}
		tok[n] = id;
		len[n++] = strlen(id);
	}
	/* The root, then the last REPLY_REFS_MAX - 1. */
	first = n > REPLY_REFS_MAX ? n - (REPLY_REFS_MAX - 1) : 1;
	for (i = 0; i < n; i++) {
		if (i > 0 && i < first)
			continue;
		buf_appendf(&b, "%s<%.*s>", b.len ? " " : "", (int)len[i], tok[i]);
	}
	return b.len ? buf_steal(&b) : NULL;
}

static void
gmime_ready(void)
{
	if (!reply_gmime_ready) {
		g_mime_init();
		reply_gmime_ready = 1;
	}
}

int
reply_compose(const struct conf *cf, const struct conf_account *a, enum conf_reply_kind kind,
    const struct reply_ctx *ctx, struct buf *out, char **from, char **errstr)
{
	const struct conf_template *t;
	char *sender = NULL, *sender_name = NULL;
	struct reply_vars v = { 0 };
	char *subject = NULL, *body = NULL, *refs = NULL, *msgid = NULL, *hdr = NULL;
	char *text = NULL;
	GMimeMessage *msg = NULL;
	GMimeTextPart *part = NULL;
	GMimeFormatOptions *fo = NULL;
	GMimeStream *stream = NULL;
	GMimeDataWrapper *content = NULL;
	GDateTime *now = NULL;
	int r;

	*from = NULL;
	if ((unsigned)kind >= CONF_REPLY_NKINDS || ctx == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "reply: bad kind or context (internal error)");
	t = &cf->replies.t[kind];
	if (t->subject == NULL || t->body == NULL)
		return m2c_fail(errstr, M2C_E_CONFIG, "account %s: no template for %s replies: "
		    "set replies.%s in the config", a->name, kind_names[kind],
		    kind_names[kind]);
	if ((r = addr_parse_from(cf->replies.from ? cf->replies.from : a->username,
	    &sender_name, &sender, errstr)) != 0 ||
	    (r = addr_check("recipient", ctx->to, errstr)) != 0)
		goto out;
	gmime_ready();
	vars_fill(&v, a, ctx);
	subject = render(t->subject, &v, 1);
	cut_utf8(subject, REPLY_SUBJECT_MAX);
	body = render(t->body, &v, 0);

	msg = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, sender_name, sender);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, ctx->to);
	g_mime_message_set_subject(msg, subject, "utf-8");
	now = g_date_time_new_now_local();
	g_mime_message_set_date(msg, now);
	msgid = g_mime_utils_generate_message_id(strrchr(sender, '@') + 1);
	g_mime_message_set_message_id(msg, msgid);
	if (ctx->message_id != NULL && msgid_ok(ctx->message_id, strlen(ctx->message_id))) {
		hdr = xasprintf("<%s>", ctx->message_id);
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", hdr, NULL);
	}
	if ((refs = make_references(ctx->references, ctx->message_id)) != NULL)
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", refs, NULL);
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-replied", NULL);
	g_mime_object_set_header(GMIME_OBJECT(msg), "X-Auto-Response-Suppress", "All", NULL);

	/*
	 * The body as it is, in UTF-8 (g_mime_text_part_set_text would pick
	 * and convert to a "best" charset of its own).
	 */
	part = g_mime_text_part_new_with_subtype("plain");
	stream = g_mime_stream_mem_new_with_buffer(body, strlen(body));
	content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(part), content);
	g_mime_text_part_set_charset(part, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(part),
	    g_mime_part_get_best_content_encoding(GMIME_PART(part),
	    GMIME_ENCODING_CONSTRAINT_7BIT));
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	text = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
	if (text == NULL) {
		r = m2c_fail(errstr, M2C_E_SYS, "reply: GMime could not write the message");
		goto out;
	}
	buf_append(out, text, strlen(text));
	*from = sender;
	sender = NULL;
	r = 0;
out:
	g_free(text);
	g_clear_pointer(&fo, g_mime_format_options_free);
	g_clear_object(&content);
	g_clear_object(&stream);
	g_clear_object(&part);
	g_clear_object(&msg);
	g_clear_pointer(&now, g_date_time_unref);
	g_free(msgid);
	free(hdr);
	free(refs);
	free(subject);
	free(body);
	free(sender);
	free(sender_name);
	vars_clear(&v);
	return r;
}

/* ------------------------------------------------------------- the queue */

/* A string member made valid UTF-8 (json_string refuses anything else). */
static void
json_set_text(json_t *o, const char *key, const char *v)
{
	gchar *u;

	if (v == NULL)
		return;
	u = g_utf8_make_valid(v, -1);
	json_object_set_new(o, key, json_string(u));
	g_free(u);
}

static char *
ctx_to_json(const struct reply_ctx *ctx)
{
	json_t *o = json_object(), *jobs = json_array();
	char *s, *r;
	size_t i;

	json_set_text(o, "to", ctx->to);
	json_set_text(o, "subject", ctx->subject);
	json_set_text(o, "message_id", ctx->message_id);
	json_set_text(o, "references", ctx->references);
	json_set_text(o, "queue", ctx->queue);
	json_set_text(o, "files", ctx->files);
	json_set_text(o, "reason", ctx->reason);
	json_set_text(o, "options", ctx->options);
	json_set_text(o, "notes", ctx->notes);
	json_object_set_new(o, "held", json_boolean(ctx->held));
	for (i = 0; i < ctx->njobs && ctx->job_ids != NULL && i < REPLY_JOBS_MAX; i++)
		json_array_append_new(jobs, json_integer(ctx->job_ids[i]));
	json_object_set_new(o, "job_ids", jobs);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL) {
		log_error("reply: out of memory");
		exit(EX_OSERR);	/* as the x-allocators */
	}
	r = xstrdup(s);
	free(s);
	return r;
}

/* A stored reply, decoded: ctx's strings are borrowed from j. */
struct reply_row {
	json_t *j;		/* owned */
	int *jobs;		/* owned */
	struct reply_ctx ctx;
	enum conf_reply_kind kind;
};

static void
reply_row_clear(struct reply_row *rr)
{
	json_decref(rr->j);
	free(rr->jobs);
	memset(rr, 0, sizeof(*rr));
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
kind_from_name(const char *name, enum conf_reply_kind *out)
{
	int k;

	for (k = 0; k < CONF_REPLY_NKINDS && name != NULL; k++)
		if (strcmp(kind_names[k], name) == 0) {
			*out = (enum conf_reply_kind)k;
			return 0;
		}
	return -1;
}

static int
reply_row_decode(const struct state_reply *e, struct reply_row *rr, char **errstr)
{
	json_t *ids;
	size_t i, n;

	memset(rr, 0, sizeof(*rr));
	if (kind_from_name(e->kind, &rr->kind) != 0 ||
	    (rr->j = json_loads(e->ctx, 0, NULL)) == NULL || !json_is_object(rr->j) ||
	    jstr(rr->j, "to") == NULL) {
		reply_row_clear(rr);
		return m2c_fail(errstr, M2C_E_DATA, "reply %lld in the state database is "
		    "damaged (kind \"%s\")", (long long)e->id, e->kind ? e->kind : "");
	}
	rr->ctx.to = jstr(rr->j, "to");
	rr->ctx.subject = jstr(rr->j, "subject");
	rr->ctx.message_id = jstr(rr->j, "message_id");
	rr->ctx.references = jstr(rr->j, "references");
	rr->ctx.queue = jstr(rr->j, "queue");
	rr->ctx.files = jstr(rr->j, "files");
	rr->ctx.reason = jstr(rr->j, "reason");
	rr->ctx.options = jstr(rr->j, "options");
	rr->ctx.notes = jstr(rr->j, "notes");
	rr->ctx.held = json_is_true(json_object_get(rr->j, "held"));
	ids = json_object_get(rr->j, "job_ids");
	n = json_is_array(ids) ? json_array_size(ids) : 0;
	if (n > REPLY_JOBS_MAX)
		n = REPLY_JOBS_MAX;
	if (n > 0)
		rr->jobs = xcalloc(n, sizeof(*rr->jobs));
	for (i = 0; i < n; i++)
		rr->jobs[i] = (int)json_integer_value(json_array_get(ids, i));
	rr->ctx.job_ids = rr->jobs;
	rr->ctx.njobs = n;
	return 0;
}

int
reply_queue(struct state *st, const struct conf *cf, const struct conf_account *a,
    enum conf_reply_kind kind, const struct reply_ctx *ctx, char **errstr)
{
	enum state_reply_status status;
	char *json;
	int r;

	(void)cf;
	if ((unsigned)kind >= CONF_REPLY_NKINDS || ctx == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "reply: bad kind or context (internal error)");
	if (!(a->reply & (1u << kind)))
		return 0;
	if ((r = addr_check("recipient", ctx->to, errstr)) != 0)
		return r;
	gmime_ready();
	status = kind == CONF_REPLY_PRINTED && ctx->njobs > 0 ? STATE_REPLY_WAITING :
	    STATE_REPLY_DUE;
	json = ctx_to_json(ctx);
	r = state_reply_add(st, a->name, kind_names[kind], ctx->to, json, status,
	    (int64_t)time(NULL), NULL, errstr);
	free(json);
	return r;
}

/* ------------------------------------------------------------- flushing */

static int
drop(struct state *st, const struct state_reply *e, const char *why, char **errstr)
{
	return state_reply_set(st, e->id, STATE_REPLY_DROPPED, NULL, NULL, why,
	    (int64_t)time(NULL), errstr);
}

/*
 * Where a printed reply stands: 0 and *failed NULL when every job is done;
 * *failed (allocated) says which job failed and why; M2C_E_TEMP when some
 * job is still pending, held, processing or stopped; another error when
 * CUPS could not be asked.
 *
 * A job CUPS no longer knows (M2C_E_NOTFOUND) counts as completed: CUPS
 * forgets jobs only after they ended, and it keeps the history of failed
 * ones as long as that of completed ones, so a missing job most likely
 * printed long ago; waiting for it would keep the reply forever.
 */
static int
jobs_outcome(const struct reply_row *rr, char **failed, char **errstr)
{
	enum cups_job_state js;
	char *why = NULL;
	size_t i;
	int r, busy = 0;

	*failed = NULL;
	for (i = 0; i < rr->ctx.njobs; i++) {
		r = cups_job_get_state(rr->jobs[i], &js, &why, errstr);
		if (r == M2C_E_NOTFOUND) {
			if (errstr != NULL) {
				free(*errstr);
				*errstr = NULL;
			}
			continue;
		}
		if (r != 0)
			return r;
		if (js == CUPS_JOB_CANCELED || js == CUPS_JOB_ABORTED) {
			*failed = xasprintf("job %s%s%d was %s%s%s",
			    rr->ctx.queue ? rr->ctx.queue : "", rr->ctx.queue ? "-" : "",
			    rr->jobs[i], js == CUPS_JOB_CANCELED ? "canceled" : "aborted",
			    why ? ": " : "", why ? why : "");
			free(why);
			return 0;
		}
		if (js != CUPS_JOB_COMPLETED)
			busy = 1;
		free(why);
		why = NULL;
	}
	return busy ? M2C_E_TEMP : 0;
}

/*
 * Printed replies whose jobs are all done become due; one whose job was
 * cancelled or aborted becomes a failed reply with the reason, even when
 * the account does not send failed replies of its own: the sender was
 * promised word about the print, and this is it.
 */
static int
flush_waiting(const struct conf *cf, const struct conf_account *a, struct state *st,
    int *nwait, char **errstr)
{
	struct state_reply *l = NULL;
	struct reply_row rr;
	size_t n = 0, i;
	int64_t now = (int64_t)time(NULL);
	char *failed = NULL, *json = NULL;
	int r;

	(void)cf;
	*nwait = 0;
	if ((r = state_reply_list(st, a->name, STATE_REPLY_WAITING, &l, &n, errstr)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (reply_row_decode(&l[i], &rr, NULL) != 0) {
			log_error("reply %lld to %s is damaged in the state database; dropped",
			    (long long)l[i].id, l[i].rcpt);
			if ((r = drop(st, &l[i], "damaged", errstr)) != 0)
				goto out;
			continue;
		}
		r = jobs_outcome(&rr, &failed, errstr);
		if (r == M2C_E_TEMP && now - l[i].created > REPLY_WAIT_MAX) {
			log_warn("reply (printed) to %s dropped: its jobs did not finish within "
			    "%d days", l[i].rcpt, REPLY_WAIT_MAX / 86400);
			r = drop(st, &l[i], "the jobs did not finish in time", errstr);
		} else if (r == M2C_E_TEMP) {
			(*nwait)++;
			r = 0;
		} else if (r == 0 && failed != NULL) {
			/* CUPS's words stay in the log; the sender gets plain ones. */
			char *ref = reply_ref_new();
			char *pub = reply_public_reason(CONF_REPLY_FAILED, NULL, ref);

			log_warn("printed reply to %s becomes a failed one (ref %s): %s",
			    l[i].rcpt, ref, failed);
			json_set_text(rr.j, "reason", pub);
			free(pub);
			free(ref);
			json = json_dumps(rr.j, JSON_COMPACT);
			r = state_reply_set(st, l[i].id, STATE_REPLY_DUE,
			    kind_names[CONF_REPLY_FAILED], json, NULL, now, errstr);
		} else if (r == 0) {
			r = state_reply_set(st, l[i].id, STATE_REPLY_DUE, NULL, NULL, NULL, now,
			    errstr);
		} else {
			/* CUPS cannot be asked now: the rest waits too. */
			*nwait += (int)(n - i);
		}
		reply_row_clear(&rr);
		free(failed);
		failed = NULL;
		free(json);
		json = NULL;
		if (r != 0)
			goto out;
	}
out:
	state_reply_list_free(&l, n);
	return r;
}

/*
 * What a failed send does to the queue.  The server refusing this one
 * reply (a recipient or message refused, a reply we cannot write) drops
 * it; anything else (unreachable, TLS, sign-in, a setting) is not about
 * this reply and would fail every other one the same way, so the reply is
 * kept, its attempt counted, and the flush stops, until max_attempts.
 */
static int
send_failed_is_final(int r)
{
	return r == M2C_E_SERVER || r == M2C_E_DATA || r == M2C_E_REFUSED ||
	    r == M2C_E_LIMIT || r == M2C_E_USAGE;
}

/* Send one due reply; 0, or the error that must stop the flush. */
static int
send_one(const struct conf *cf, const struct conf_account *a, struct state *st,
    const struct state_reply *e, char **errstr)
{
	struct reply_row rr = { 0 };
	struct buf msg = { 0 };
	char *from = NULL, *err = NULL, *why = NULL;
	const char *kname = e->kind ? e->kind : "?";
	int64_t now = (int64_t)time(NULL);
	int r, sent = 0, attempts = 0, max_attempts;

	max_attempts = cf->max_attempts > 0 ? cf->max_attempts : REPLY_DEFAULT_ATTEMPTS;
	if (reply_row_decode(e, &rr, &err) != 0) {
		log_error("%s; dropped", err);
		r = drop(st, e, err, errstr);
		goto out;
	}
	if (cf->replies.rate_limit > 0) {
		if ((r = state_reply_count_sent(st, e->rcpt, now - cf->replies.rate_period,
		    &sent, errstr)) != 0)
			goto out;
		if (sent >= cf->replies.rate_limit) {
			why = xasprintf("rate limit: %d replies to %s in the last %d s already",
			    sent, e->rcpt, cf->replies.rate_period);
			log_warn("reply (%s) to %s dropped: %s (replies.rate_limit)", kname,
			    e->rcpt, why);
			r = drop(st, e, why, errstr);
			goto out;
		}
	}
	if ((r = reply_compose(cf, a, rr.kind, &rr.ctx, &msg, &from, &err)) == 0)
		r = smtp_send(cf, a, from, e->rcpt, msg.data, msg.len, &err);
	if (r == 0) {
		log_info("reply (%s) sent to %s", kname, e->rcpt);
		r = state_reply_set(st, e->id, STATE_REPLY_SENT, NULL, NULL, NULL, now, errstr);
		goto out;
	}
	if (send_failed_is_final(r)) {
		log_error("reply (%s) to %s dropped: %s", kname, e->rcpt, err);
		r = drop(st, e, err, errstr);
		goto out;
	}
	{
		int rs = state_reply_attempt(st, e->id, err, &attempts, errstr);

		if (rs != 0) {
			r = rs;
			goto out;
		}
	}
	if (attempts >= max_attempts) {
		log_error("reply (%s) to %s dropped after %d attempts: %s", kname, e->rcpt,
		    attempts, err);
		r = drop(st, e, err, errstr);
		goto out;
	}
	/* Kept for the next flush; the caller reports err. */
	if (errstr != NULL) {
		free(*errstr);
		*errstr = err;
		err = NULL;
	}
out:
	reply_row_clear(&rr);
	buf_free(&msg);
	free(from);
	free(err);
	free(why);
	return r;
}

int
reply_flush(const struct conf *cf, const struct conf_account *a, struct state *st,
    int *waiting, char **errstr)
{
	struct state_reply *l = NULL;
	size_t n = 0, i;
	int nwait = 0, rw, r;

	if (waiting != NULL)
		*waiting = 0;
	/* CUPS unreachable does not hold back the replies that are due. */
	rw = flush_waiting(cf, a, st, &nwait, errstr);
	if (waiting != NULL)
		*waiting = nwait;
	if ((r = state_reply_list(st, a->name, STATE_REPLY_DUE, &l, &n, errstr)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = send_one(cf, a, st, &l[i], errstr)) != 0)
			break;
out:
	state_reply_list_free(&l, n);
	return r != 0 ? r : rw;
}

char *
reply_ref_new(void)
{
	unsigned char rnd[3] = { 0 };
	time_t now = time(NULL);
	struct tm tm;
	char day[16];

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		/* No entropy yet (early boot): the time still tells the entries apart. */
		rnd[0] = (unsigned char)now;
		rnd[1] = (unsigned char)(now >> 8);
		rnd[2] = (unsigned char)getpid();
	}
	if (gmtime_r(&now, &tm) == NULL || strftime(day, sizeof(day), "%Y%m%d", &tm) == 0)
		snprintf(day, sizeof(day), "%lld", (long long)now);
	return xasprintf("%s-%02x%02x%02x", day, rnd[0], rnd[1], rnd[2]);
}

/* s ends with suffix. */
static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

char *
reply_sender_problem(const struct mime_message *m)
{
	struct buf b = { 0 };
	const char *cut;

	for (size_t i = 0; i < m->natt; i++) {
		const struct mime_attachment *a = &m->att[i];
		char *one;

		if (a->printable && a->convert)
			/* Nothing printed, so its conversion failed; the converter's
			 * words stay in the log. */
			one = xasprintf("%s could not be converted for printing", a->filename);
		else if (a->printable || a->reason == NULL)
			continue;
		else if (ends_with(a->reason, ": arrived damaged"))
			one = xasprintf("%.*s arrived damaged; send it again",
			    (int)(strlen(a->reason) - strlen(": arrived damaged")), a->reason);
		else if (strstr(a->reason, ": larger than the limit of ") != NULL)
			one = xasprintf("%s; send a smaller file", a->reason);
		else if ((cut = strstr(a->reason, ": not printed: ")) != NULL)
			one = xasprintf("%.*s: not printed", (int)(cut - a->reason), a->reason);
		else
			one = xstrdup(a->reason);
		buf_appendf(&b, "%s%s", b.len ? "; " : "", one);
		free(one);
	}
	/* The message-level limits speak of the message only ("the message has
	 * more than 200 MIME parts"); the attachment size one names a setting
	 * and is said per attachment above. */
	if (m->problem != NULL && strncmp(m->problem, "the message ", 12) == 0)
		buf_appendf(&b, "%s%s", b.len ? "; " : "", m->problem);
	if (b.len == 0 && m->natt == 0 && m->problem == NULL)
		buf_appendf(&b, "the message has no attachment");
	return b.len ? buf_steal(&b) : (buf_free(&b), NULL);
}

char *
reply_public_reason(enum conf_reply_kind kind, const char *plain, const char *ref)
{
	if (plain != NULL && kind == CONF_REPLY_FAILED)
		return xasprintf("%s (ref %s: the printer's administrator can look it up in "
		    "the log)", plain, ref);
	if (kind == CONF_REPLY_REJECTED)
		return xasprintf("printing from your address is not allowed here, or your "
		    "address could not be verified (ref %s: the printer's administrator "
		    "can look it up in the log)", ref);
	return xasprintf("the message or one of its files could not be printed (ref %s: "
	    "the printer's administrator can look it up in the log)", ref);
}
