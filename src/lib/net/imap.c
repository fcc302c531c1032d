/*
 * imap.c - IMAP4rev1 client; see imap.h.
 *
 * Implements: RFC 3501 (IMAP4rev1), RFC 8314 (implicit TLS), RFC 2595
 * (STARTTLS), RFC 4616 (SASL PLAIN), RFC 4959 (SASL-IR), RFC 7888
 * (LITERAL+, when sending), RFC 6851 (MOVE), RFC 4315 (UIDPLUS), RFC 2342
 * (NAMESPACE), RFC 2177 (IDLE), RFC 5530 (response codes).
 *
 * The transport (TCP, TLS, timeouts) is imap-conn.c; modified UTF-7 is
 * mutf7.c.  One connection = one struct imap with one state (set_state()
 * is the only writer).  Commands go through run_cmd(), which sends, reads responses
 * through the push parser in imap-parse.c, and maps the tagged reply to an
 * M2C_E_* code in map_reply(), the only place that mapping lives.
 */
#include "m2c-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base64.h"
#include "error.h"
#include "imap-conn.h"
#include "imap-parse.h"
#include "mutf7.h"
#include "imap.h"
#include "log.h"
#include "util.h"

#define IMAP_RBUF_SIZE	16384
#define IMAP_ERRTEXT_MAX 200	/* server text in an error message */
#define IMAP_MAX_UIDS	100000	/* SEARCH results kept */

enum imap_state {
	IMAP_STATE_DISCONNECTED,
	IMAP_STATE_GREETING,
	IMAP_STATE_NOT_AUTHENTICATED,
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_IDLING,		/* inside imap_idle(), between "+" and the tagged reply */
	IMAP_STATE_LOGOUT,
	IMAP_STATE_DEAD,
};

static const char *const state_names[] = {
	"DISCONNECTED", "GREETING", "NOT_AUTHENTICATED", "AUTHENTICATED",
	"SELECTED", "IDLING", "LOGOUT", "DEAD",
};

struct imap {
	enum imap_state state;
	char *host;			/* owned */
	int port;
	int timeout_ms;
	int trace;
	int alive_ms;			/* < 0: no liveness probe in IDLE */
	int tick_ms;
	struct imap_conn conn;		/* the transport; conn.host is host */
	struct imap_parser *parser;	/* owned */
	char rbuf[IMAP_RBUF_SIZE];
	size_t rpos, rlen;
	unsigned tagno;
	char tag[16];
	char **caps;			/* owned, upper case */
	size_t ncaps;
	unsigned caps_gen;		/* bumped on every capability update */
	char *bye;			/* owned: text of an untagged BYE */
	char last_code[32];		/* response code of the last tagged reply */
	uint32_t exists, uidvalidity;
	int new_mail;			/* EXISTS grew after SELECT, not yet reported */
	int have_uidvalidity;
	int ns_known;
	char *ns_prefix;		/* owned, modified UTF-7 */
	char ns_delim;			/* 0: flat (NIL) */
	char **folders;			/* owned: server names known to exist */
	size_t nfolders;
	struct fetch_ctx *pending;	/* owned: the pipelined FETCH (imap_fetch_start) */
};

struct fetch_ctx;
static int fetch_drain(struct imap *c, char **errstr);

/* Handlers of one command; all optional. */
struct cmd_handlers {
	/* every untagged response, after the common handling */
	int (*untagged)(struct imap *c, const struct imap_resp *r, void *arg, char **errstr);
	/* a "+" continuation: send the answer */
	int (*cont)(struct imap *c, const struct imap_resp *r, void *arg, char **errstr);
	/* a literal began: buffer it (return 1) or consume it (return 0) */
	int (*literal)(struct imap *c, const struct imap_literal_info *li, void *arg,
	    char **errstr);
	/*
	 * before each read of the reply (IDLE): may write (DONE), and sets
	 * *soft_ms, how long that read waits before the next tick; it stays
	 * -1, the default, to wait for a response up to the timeout
	 */
	int (*tick)(struct imap *c, void *arg, int *soft_ms, char **errstr);
	void *arg;
};

/* A command being built: text after the tag, with synchronising literals. */
struct cmd {
	struct buf b;
	size_t sync[8];		/* offsets where the server must say "+" first */
	size_t nsync;
	const char *hidden;	/* trace this instead of the arguments */
	int signin;		/* LOGIN / AUTHENTICATE: NO means refused credentials */
};

/* ------------------------------------------------------------ helpers */

static void
set_state(struct imap *c, enum imap_state st)
{
	if (c->state != st && c->trace)
		log_debug("imap: %s -> %s", state_names[c->state], state_names[st]);
	c->state = st;
}

/* Server text fit for an error message: no control characters, short. */
static char *
clean_text(const char *s, size_t len)
{
	return str_for_terminal(s, len, IMAP_ERRTEXT_MAX);
}

static void
trace_line(const char *dir, const char *s, size_t len)
{
	char *t = clean_text(s, len > 1000 ? 1000 : len);

	log_debug("imap %s %s", dir, t);
	free(t);
}

static void
parser_trace(const char *line, size_t len, void *arg)
{
	struct imap *c = arg;

	if (c->trace)
		trace_line("S:", line, len);
}

static void
new_parser(struct imap *c)
{
	imap_parser_destroy(&c->parser);
	c->parser = imap_parser_new(NULL);
	imap_parser_set_trace(c->parser, parser_trace, c);
}

static void
free_strv(char ***v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static void
strv_add(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

/* ------------------------------------------------------------ transport */

static int
fail_dead(struct imap *c, char **errstr, int err, const char *what, const char *why)
{
	set_state(c, IMAP_STATE_DEAD);
	return m2c_fail(errstr, err, "IMAP connection to %s:%d: %s: %s", c->host, c->port,
	    what, why);
}

static int
closed_err(struct imap *c, char **errstr)
{
	char *why;
	int r;

	why = c->bye ? xasprintf("the server said BYE: %s", c->bye) :
	    xstrdup("the server closed the connection");
	r = fail_dead(c, errstr, M2C_E_UNAVAIL, "connection lost", why);
	free(why);
	return r;
}


/*
 * What the transport said, for the protocol: the peer closed (worded here,
 * with the server's BYE if it sent one), or any other failure, after which
 * the connection is dead.
 */
static int
transport_result(struct imap *c, int r, char **errstr)
{
	if (r == IMAP_CONN_CLOSED)
		return closed_err(c, errstr);
	if (r < 0)
		set_state(c, IMAP_STATE_DEAD);
	return r;
}

static int
net_read(struct imap *c, void *buf, size_t n, int soft_ms, size_t *got, char **errstr)
{
	return transport_result(c, imap_conn_read(&c->conn, buf, n, soft_ms, got, errstr),
	    errstr);
}

static int
net_write(struct imap *c, const void *buf, size_t n, char **errstr)
{
	return transport_result(c, imap_conn_write(&c->conn, buf, n, errstr), errstr);
}

static int
tls_start(struct imap *c, const char *ca_file, char **errstr)
{
	return transport_result(c, imap_conn_tls(&c->conn, ca_file, errstr), errstr);
}

/* ------------------------------------------------------------ responses */

static void
set_caps(struct imap *c, const struct imap_val *list)
{
	const char *s;
	char *u, *q;
	size_t i;

	free_strv(&c->caps, &c->ncaps);
	for (i = 0; i < list->nitems && i < 1000; i++) {
		if ((s = imap_val_str(&list->items[i])) == NULL)
			continue;
		u = xstrdup(s);
		for (q = u; *q; q++)
			if (*q >= 'a' && *q <= 'z')
				*q = (char)(*q - 'a' + 'A');
		strv_add(&c->caps, &c->ncaps, u);
		free(u);
	}
	c->caps_gen++;
}

int
imap_has_cap(const struct imap *c, const char *cap)
{
	size_t i;

	if (c == NULL)
		return 0;
	for (i = 0; i < c->ncaps; i++)
		if (strcasecmp(c->caps[i], cap) == 0)
			return 1;
	return 0;
}

static int
code_number(const struct imap_resp *r, uint32_t *out)
{
	uint64_t v;

	if (imap_val_number(imap_list_get(&r->code_args, 0), &v) != 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* What every response tells the connection, whatever command runs. */
static void
common_response(struct imap *c, const struct imap_resp *r)
{
	char *t;

	if (r->code && strcmp(r->code, "CAPABILITY") == 0)
		set_caps(c, &r->code_args);
	if (r->kind != IMAP_RESP_UNTAGGED)
		return;
	if (r->name && strcmp(r->name, "CAPABILITY") == 0)
		set_caps(c, &r->args);
	if (r->has_num && strcmp(r->name, "EXISTS") == 0) {
		/* New mail, seen by whatever command ran: the next IDLE or
		 * NOOP reports it (during SELECT it is just the count). */
		if (r->num > c->exists && (c->state == IMAP_STATE_SELECTED ||
		    c->state == IMAP_STATE_IDLING))
			c->new_mail = 1;
		c->exists = r->num;
	}
	if (r->has_num && strcmp(r->name, "EXPUNGE") == 0 && c->exists > 0)
		c->exists--;
	if (r->code && strcmp(r->code, "UIDVALIDITY") == 0 && code_number(r, &c->uidvalidity) == 0)
		c->have_uidvalidity = 1;
	if (r->code && strcmp(r->code, "ALERT") == 0) {
		t = clean_text(r->text, strlen(r->text));
		log_warn("IMAP server %s alert: %s", c->host, t);
		free(t);
	}
	if (r->status == IMAP_ST_BYE) {
		free(c->bye);
		c->bye = clean_text(r->text, strlen(r->text));
		if (c->state != IMAP_STATE_LOGOUT)
			set_state(c, IMAP_STATE_LOGOUT);
	}
}

/*
 * Exchange Online's words (no response code says it): an untagged BYE
 * when the session's access token expires ("* BYE Session invalidated -
 * AccessTokenExpired"), and a NO to SELECT when the token's user may not
 * open the mailbox ("User is authenticated but not connected.").
 */
#define EXCH_BYE_TOKEN_EXPIRED	"AccessTokenExpired"
#define EXCH_NOT_CONNECTED	"User is authenticated but not connected"

/*
 * The one mapping from a server's status reply (tagged, the greeting, or
 * an untagged BYE) to our codes.  what names the command for the message
 * ("SELECT INBOX"); signin: a NO to it means the credentials were refused
 * even without a response code (Exchange Online: "NO AUTHENTICATE
 * failed.").  M2C_E_AUTH is every refusal of the credentials, also a
 * session ended for an expired token and a token whose user cannot open
 * the mailbox: the caller may refresh the token once and try again.
 * AUTHORIZATIONFAILED to a sign-in is M2C_E_REFUSED: the credentials were
 * good, the authorization identity is not theirs (imap_login_as).
 */
static int
map_reply(struct imap *c, enum imap_status st, const char *code, const char *text,
    const char *what, int signin, char **errstr)
{
	char *t;
	int r;

	if (st == IMAP_ST_OK || st == IMAP_ST_PREAUTH)
		return 0;
	t = clean_text(text ? text : "", text ? strlen(text) : 0);
	code = code ? code : "";
	if (strcmp(code, "UNAVAILABLE") == 0 || strcmp(code, "INUSE") == 0)
		r = m2c_fail(errstr, M2C_E_TEMP, "IMAP server %s cannot do %s now (it said \"%s\"); it "
		    "will be tried again later", c->host, what, t);
	else if (st == IMAP_ST_BYE && strstr(t, EXCH_BYE_TOKEN_EXPIRED) != NULL) {
		set_state(c, IMAP_STATE_DEAD);
		r = m2c_fail(errstr, M2C_E_AUTH, "IMAP server %s ended the session during %s: "
		    "the access token expired (it said BYE \"%s\")", c->host, what, t);
	} else if (st == IMAP_ST_BYE) {
		char *why = xasprintf("the server said BYE: %s", t);

		r = fail_dead(c, errstr, M2C_E_UNAVAIL, what, why);
		free(why);
	} else if (strstr(t, EXCH_NOT_CONNECTED) != NULL)
		r = m2c_fail(errstr, M2C_E_AUTH, "IMAP server %s accepted the token but refused "
		    "%s: \"%s\": the signed-in user cannot open this mailbox", c->host, what, t);
	else if (st == IMAP_ST_BAD)
		r = m2c_fail(errstr, M2C_E_PROTO, "IMAP server %s rejected %s as a bad "
		    "command: \"%s\"", c->host, what, t);
	else if (signin && strcmp(code, "AUTHORIZATIONFAILED") == 0)
		/* Good credentials that may not act for the authorization identity. */
		r = m2c_fail(errstr, M2C_E_REFUSED, "IMAP server %s refused the sign-in (%s): "
		    "\"%s\": the credentials are good, but may not act for the user asked for "
		    "(a Dovecot master user: no such user, or not allowed for that user)", c->host,
		    what, t);
	else if (signin || strcmp(code, "AUTHENTICATIONFAILED") == 0 ||
	    strcmp(code, "AUTHORIZATIONFAILED") == 0 || strcmp(code, "EXPIRED") == 0)
		/* Password advice only for password mechanisms: OAuth callers explain. */
		r = m2c_fail(errstr, M2C_E_AUTH, "IMAP server %s refused the sign-in (%s): \"%s\"%s",
		    c->host, what, t, strcmp(what, "LOGIN") == 0 ||
		    strcmp(what, "AUTHENTICATE PLAIN") == 0 ? "; check the user name and the "
		    "password" : "");
	else
		r = m2c_fail(errstr, M2C_E_SERVER, "IMAP server %s refused %s: \"%s\"", c->host,
		    what, t);
	free(t);
	return r;
}

/*
 * Consume n literal bytes, writing them to fd (-1: discard) and adding
 * what was written to md (NULL: none).
 */
static int
consume_literal(struct imap *c, uint64_t n, int fd, EVP_MD_CTX *md, int *wfail,
    char **errstr)
{
	size_t k;
	int r;

	while (n > 0) {
		if (c->rpos == c->rlen) {
			c->rpos = c->rlen = 0;
			if ((r = net_read(c, c->rbuf, sizeof(c->rbuf), -1, &c->rlen, errstr)) != 0)
				return r;
		}
		k = c->rlen - c->rpos;
		if ((uint64_t)k > n)
			k = (size_t)n;
		if (fd >= 0 && *wfail == 0 && write_all(fd, c->rbuf + c->rpos, k) != 0)
			*wfail = errno ? errno : EIO;
		if (fd >= 0 && md != NULL)
			EVP_DigestUpdate(md, c->rbuf + c->rpos, k);
		c->rpos += k;
		n -= k;
	}
	imap_parser_literal_done(c->parser);
	return 0;
}

/*
 * Parse what is buffered: 1 and *out (caller frees) when a response is
 * complete, 0 when more bytes are needed, or M2C_E_*.
 */
static int
parse_buffered(struct imap *c, const struct cmd_handlers *h, struct imap_resp **out,
    char **errstr)
{
	const struct imap_literal_info *li;
	char *perr = NULL, *t;
	size_t used;
	int r, wfail = 0;

	*out = NULL;
	while (c->rpos < c->rlen) {
		switch (imap_parser_feed(c->parser, c->rbuf + c->rpos, c->rlen - c->rpos,
		    &used, &perr)) {
		case IMAP_EV_NEED_MORE:
			c->rpos += used;
			break;
		case IMAP_EV_RESPONSE:
			c->rpos += used;
			*out = imap_parser_take(c->parser);
			common_response(c, *out);
			return 1;
		case IMAP_EV_LITERAL:
			c->rpos += used;
			li = imap_parser_literal(c->parser);
			r = 1;
			if (h && h->literal && (r = h->literal(c, li, h->arg, errstr)) < 0)
				return r;
			if (r == 0)
				break;
			/* not the caller's: small ones are kept, big ones dropped */
			if (li->size <= imap_parse_default_limits.max_literal) {
				if (imap_parser_literal_buffer(c->parser) == 0)
					break;
			} else if ((r = consume_literal(c, li->size, -1, NULL, &wfail, errstr)) == 0) {
				break;
			} else {
				return r;
			}
			/* FALLTHROUGH */
		case IMAP_EV_ERROR:
			if (perr == NULL)
				(void)imap_parser_feed(c->parser, "", 0, &used, &perr);
			t = clean_text(perr ? perr : "?", perr ? strlen(perr) : 1);
			r = fail_dead(c, errstr, M2C_E_PROTO, "bad response", t);
			free(perr);
			free(t);
			return r;
		}
	}
	return 0;
}

/*
 * The next complete response (caller frees): 1 and *out, or M2C_E_*.
 * soft_ms < 0: read as long as needed, each read within timeout_ms.
 * soft_ms >= 0: read at most once, waiting at most soft_ms; 0 when no
 * complete response came (the connection stays usable).
 */
static int
next_resp(struct imap *c, const struct cmd_handlers *h, int soft_ms, struct imap_resp **out,
    char **errstr)
{
	int r;

	if ((r = parse_buffered(c, h, out, errstr)) != 0)
		return r;
	for (;;) {
		c->rpos = c->rlen = 0;
		if ((r = net_read(c, c->rbuf, sizeof(c->rbuf), soft_ms, &c->rlen, errstr)) != 0)
			return r;
		if (c->rlen == 0)
			return 0;
		if ((r = parse_buffered(c, h, out, errstr)) != 0 || soft_ms >= 0)
			return r;
	}
}

/* Read the next complete response (caller frees); 0 or M2C_E_*. */
static int
read_resp(struct imap *c, const struct cmd_handlers *h, struct imap_resp **out,
    char **errstr)
{
	int r = next_resp(c, h, -1, out, errstr);

	return r > 0 ? 0 : r;
}

static void
cmd_init(struct cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
cmd_init(struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	memset(cmd, 0, sizeof(*cmd));
	va_start(ap, fmt);
	buf_vappendf(&cmd->b, fmt, ap);
	va_end(ap);
}

/*
 * Make room for n more bytes at once, so that appending a secret never
 * reallocates (which would leave an unwiped copy behind).
 */
static void
cmd_reserve(struct cmd *cmd, size_t n)
{
	size_t keep = cmd->b.len;
	char *zeros = xcalloc(1, n);

	buf_append(&cmd->b, zeros, n);
	free(zeros);
	cmd->b.len = keep;
	cmd->b.data[keep] = '\0';
}

static void
cmd_free(struct cmd *cmd)
{
	buf_free_secret(&cmd->b);
}

/*
 * Append an astring: quoted when it is plain 7-bit text, else a literal
 * (non-synchronising with LITERAL+).  -1 when it cannot be sent (NUL, too
 * many literals).
 */
static int
cmd_astring(struct imap *c, struct cmd *cmd, const char *s)
{
	size_t n = strlen(s), i;
	int quoted = n < 1024;

	for (i = 0; i < n && quoted; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			quoted = 0;
	if (quoted) {
		buf_appendc(&cmd->b, '"');
		for (i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_appendc(&cmd->b, '\\');
			buf_appendc(&cmd->b, s[i]);
		}
		buf_appendc(&cmd->b, '"');
		return 0;
	}
	if (imap_has_cap(c, "LITERAL+")) {
		buf_appendf(&cmd->b, "{%zu+}\r\n", n);
	} else {
		if (cmd->nsync == ARRAY_SIZE(cmd->sync))
			return -1;
		buf_appendf(&cmd->b, "{%zu}\r\n", n);
		cmd->sync[cmd->nsync++] = cmd->b.len;
	}
	buf_append(&cmd->b, s, n);
	return 0;
}

/* Write and trace one piece of a command (line by line, or hidden). */
static int
send_piece(struct imap *c, const struct cmd *cmd, const char *p, size_t n, int first,
    char **errstr)
{
	size_t k, e, l;

	if (c->trace && cmd->hidden && first)
		log_debug("imap C: %s %s", c->tag, cmd->hidden);
	for (k = 0; c->trace && !cmd->hidden && k < n; k = e + 1) {
		for (e = k; e < n && p[e] != '\n'; e++)
			;
		l = e - k;
		if (l > 0 && p[k + l - 1] == '\r')
			l--;
		trace_line("C:", p + k, l);
	}
	return net_write(c, p, n, errstr);
}

/*
 * A new tag and the line "tag SP command CRLF" in one allocation (it may
 * hold a secret: wipe it).  *taglen: bytes before the command.  NULL when
 * the connection is closed.
 */
static char *
cmd_line(struct imap *c, const struct cmd *cmd, size_t *taglen, size_t *len, char **errstr)
{
	char *line;

	if (c->state == IMAP_STATE_DEAD || c->conn.fd < 0) {
		(void)m2c_fail(errstr, M2C_E_UNAVAIL, "IMAP connection to %s:%d is closed",
		    c->host, c->port);
		return NULL;
	}
	c->last_code[0] = '\0';
	snprintf(c->tag, sizeof(c->tag), "A%04u", ++c->tagno % 10000);
	*taglen = strlen(c->tag) + 1;
	*len = *taglen + cmd->b.len + 2;
	line = xmalloc(*len + 1);
	snprintf(line, *len + 1, "%s ", c->tag);
	memcpy(line + *taglen, cmd->b.data, cmd->b.len);
	memcpy(line + *taglen + cmd->b.len, "\r\n", 3);
	return line;
}

/* The tagged reply to the command in flight: check the tag, keep the code, map it. */
static int
tagged_reply(struct imap *c, const struct imap_resp *resp, const char *what, int signin,
    char **errstr)
{
	if (strcmp(resp->tag, c->tag) != 0)
		return fail_dead(c, errstr, M2C_E_PROTO, what, "reply with an unknown tag");
	if (resp->code)
		snprintf(c->last_code, sizeof(c->last_code), "%s", resp->code);
	return map_reply(c, resp->status, resp->code, resp->text, what, signin, errstr);
}

/*
 * The one command loop: send a command, wait for its tagged reply, map it.
 * Untagged responses and continuations go to the handlers, and a tick
 * handler may act between reads (IDLE).  c->last_code gets the reply's
 * response code.
 */
static int
run_cmd(struct imap *c, struct cmd *cmd, const struct cmd_handlers *h, const char *what,
    char **errstr)
{
	struct imap_resp *resp = NULL;
	size_t pos = 0, i, taglen, len;
	char *line;
	int r;

	/* A pipelined FETCH's replies come first: read them into its file. */
	if ((r = fetch_drain(c, errstr)) != 0)
		return r;
	if ((line = cmd_line(c, cmd, &taglen, &len, errstr)) == NULL)
		return M2C_E_UNAVAIL;
	for (i = 0; i <= cmd->nsync; i++) {
		size_t end = i < cmd->nsync ? taglen + cmd->sync[i] : len;

		if ((r = send_piece(c, cmd, line + pos, end - pos, i == 0, errstr)) != 0)
			goto out;
		pos = end;
		if (i == cmd->nsync)
			break;
		/* a synchronising literal: wait for "+" */
		for (;;) {
			imap_resp_free(resp);
			if ((r = read_resp(c, NULL, &resp, errstr)) != 0)
				goto out;
			if (resp->kind == IMAP_RESP_CONTINUE)
				break;
			if (resp->kind == IMAP_RESP_TAGGED)
				goto tagged;
		}
	}
	for (;;) {
		int soft_ms = -1;

		if (h && h->tick && (r = h->tick(c, h->arg, &soft_ms, errstr)) != 0)
			goto out;
		imap_resp_free(resp);
		resp = NULL;
		if ((r = next_resp(c, h, soft_ms, &resp, errstr)) < 0)
			goto out;
		if (r == 0)
			continue;	/* nothing within soft_ms: tick again */
		if (resp->kind == IMAP_RESP_TAGGED)
			break;
		/*
		 * BYE ends the session (RFC 3501 7.1.5): only LOGOUT still gets
		 * its tagged reply.  Do not wait for the server to close.
		 */
		if (resp->kind == IMAP_RESP_UNTAGGED && resp->status == IMAP_ST_BYE &&
		    strcmp(what, "LOGOUT") != 0) {
			r = map_reply(c, IMAP_ST_BYE, resp->code, resp->text, what, 0, errstr);
			goto out;
		}
		if (resp->kind == IMAP_RESP_CONTINUE) {
			if (h == NULL || h->cont == NULL) {
				r = fail_dead(c, errstr, M2C_E_PROTO, what,
				    "unexpected continuation request");
				goto out;
			}
			if ((r = h->cont(c, resp, h->arg, errstr)) != 0)
				goto out;
		} else if (h && h->untagged && (r = h->untagged(c, resp, h->arg, errstr)) != 0) {
			goto out;
		}
	}
 tagged:
	r = tagged_reply(c, resp, what, cmd->signin, errstr);
 out:
	imap_resp_free(resp);
	wipe(line, len);
	free(line);
	return r;
}

/* A command without arguments from the server's side. */
static int
simple_cmd(struct imap *c, const struct cmd_handlers *h, char **errstr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
simple_cmd(struct imap *c, const struct cmd_handlers *h, char **errstr, const char *fmt, ...)
{
	struct cmd cmd;
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	cmd_init(&cmd, "%s", s);
	r = run_cmd(c, &cmd, h, s, errstr);
	cmd_free(&cmd);
	free(s);
	return r;
}

static int
need_state(struct imap *c, enum imap_state st, char **errstr)
{
	if (c == NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "no IMAP connection");
	if (c->state == IMAP_STATE_DEAD || c->state == IMAP_STATE_LOGOUT)
		return m2c_fail(errstr, M2C_E_UNAVAIL, "IMAP connection to %s:%d is closed%s%s",
		    c->host, c->port, c->bye ? ": " : "", c->bye ? c->bye : "");
	if (c->state == IMAP_STATE_IDLING)
		return m2c_fail(errstr, M2C_E_USAGE, "IMAP connection to %s is idling", c->host);
	if (c->state < st)
		return m2c_fail(errstr, M2C_E_USAGE, "IMAP connection to %s is in state %s, "
		    "needs %s", c->host, state_names[c->state], state_names[st]);
	return 0;
}

/* ------------------------------------------------------------ connect */

static int
capability(struct imap *c, char **errstr)
{
	return simple_cmd(c, NULL, errstr, "CAPABILITY");
}

static int
greeting(struct imap *c, char **errstr)
{
	struct imap_resp *r = NULL;
	int ret;

	set_state(c, IMAP_STATE_GREETING);
	if ((ret = read_resp(c, NULL, &r, errstr)) != 0)
		goto out;
	if (r->kind != IMAP_RESP_UNTAGGED || (r->status != IMAP_ST_OK &&
	    r->status != IMAP_ST_PREAUTH && r->status != IMAP_ST_BYE)) {
		ret = fail_dead(c, errstr, M2C_E_PROTO, "greeting",
		    "no \"* OK\" greeting; is this an IMAP port?");
		goto out;
	}
	if ((ret = map_reply(c, r->status, r->code, r->text, "the connection", 0,
	    errstr)) != 0)
		goto out;
	set_state(c, r->status == IMAP_ST_PREAUTH ? IMAP_STATE_AUTHENTICATED :
	    IMAP_STATE_NOT_AUTHENTICATED);
 out:
	imap_resp_free(r);
	return ret;
}

static int
starttls(struct imap *c, const char *ca_file, char **errstr)
{
	int r;

	if (c->state != IMAP_STATE_NOT_AUTHENTICATED) {
		set_state(c, IMAP_STATE_DEAD);
		return m2c_fail(errstr, M2C_E_TLS, "IMAP server %s signed in before STARTTLS "
		    "(PREAUTH); refusing to continue without TLS", c->host);
	}
	/* A greeting without capabilities: ask (RFC 3501 6.1.1) before deciding. */
	if (c->ncaps == 0 && (r = capability(c, errstr)) != 0) {
		set_state(c, IMAP_STATE_DEAD);
		return r;
	}
	if (!imap_has_cap(c, "STARTTLS")) {
		set_state(c, IMAP_STATE_DEAD);
		return m2c_fail(errstr, M2C_E_TLS, "IMAP server %s:%d does not offer STARTTLS; "
		    "use security = \"ssl\" (usually port 993)", c->host, c->port);
	}
	if ((r = simple_cmd(c, NULL, errstr, "STARTTLS")) != 0) {
		set_state(c, IMAP_STATE_DEAD);
		if (r != M2C_E_TIMEOUT && r != M2C_E_UNAVAIL)
			r = m2c_fail(errstr, M2C_E_TLS, "IMAP server %s:%d refused STARTTLS; "
			    "use security = \"ssl\" (usually port 993)", c->host, c->port);
		return r;
	}
	/* what came before the handshake is not trusted */
	c->rpos = c->rlen = 0;
	new_parser(c);
	free_strv(&c->caps, &c->ncaps);
	if ((r = tls_start(c, ca_file, errstr)) != 0)
		return r;
	return capability(c, errstr);
}

/*
 * Without TLS at first (starttls, none), the server greets at once; a port
 * that speaks TLS at once (993) says nothing and waits for our TLS
 * handshake.  After greeting_ms of silence, offer one: a TLS answer means
 * the wrong security setting, said at once instead of after the whole
 * timeout.  Anything else (a slow plain server) gets a new connection and
 * the usual timeout for its greeting.
 */
static int
tls_at_once(struct imap *c, const struct imap_opts *o, char **errstr)
{
	int ms = o->greeting_ms > 0 ? o->greeting_ms : 5000, r;
	char *e = NULL;

	if (ms > c->timeout_ms)
		ms = c->timeout_ms;
	if ((r = imap_conn_wait_readable(&c->conn, ms, errstr)) != 0)
		return transport_result(c, r < 0 ? r : 0, errstr);
	r = imap_conn_tls(&c->conn, o->ca_file, &e);
	free(e);
	if (r == 0 || imap_conn_peer_spoke(&c->conn) == IMAP_CONN_PEER_TLS) {
		set_state(c, IMAP_STATE_DEAD);
		return m2c_fail(errstr, M2C_E_CONFIG, "port %d of %s speaks TLS at once (it sent "
		    "no greeting in %d ms and answered a TLS handshake): use security = "
		    "\"ssl\"%s", c->port, c->host, ms, c->port == 993 ? "" :
		    " (or port 143 with \"starttls\")");
	}
	log_debug("imap: %s:%d sent no greeting in %d ms and is no TLS port: connecting again",
	    c->host, c->port, ms);
	imap_conn_close(&c->conn, 0);
	return transport_result(c, imap_conn_open(&c->conn, o->security == IMAP_SEC_NONE,
	    errstr), errstr);
}

int
imap_connect(const struct imap_opts *o, struct imap **out, char **errstr)
{
	struct imap *c;
	int r;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	c->host = xstrdup(o->host ? o->host : "");
	c->port = o->port > 0 ? o->port : (o->security == IMAP_SEC_SSL ? 993 : 143);
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
	c->trace = o->trace;
	c->conn.fd = -1;
	c->conn.host = c->host;
	c->conn.port = c->port;
	c->conn.timeout_ms = c->timeout_ms;
	c->conn.trace = c->trace;
	c->conn.keepalive_s = o->keepalive_s != 0 ? o->keepalive_s : 60;
	c->alive_ms = o->alive_ms != 0 ? o->alive_ms : 120000;
	c->tick_ms = o->tick_ms > 0 ? o->tick_ms : 500;
	c->conn.last_rx = monotonic_ms();
	new_parser(c);
	if ((r = imap_conn_open(&c->conn, o->security == IMAP_SEC_NONE, errstr)) != 0)
		goto out;
	if (o->security == IMAP_SEC_SSL && (r = tls_start(c, o->ca_file, errstr)) != 0) {
		/* A plain greeting came back: the port is for STARTTLS (or none). */
		if (imap_conn_peer_spoke(&c->conn) == IMAP_CONN_PEER_PLAIN)
			r = m2c_fail(errstr, M2C_E_CONFIG, "port %d of %s speaks IMAP without TLS "
			    "(it greeted in plain text instead of a TLS handshake): use security = "
			    "\"starttls\" (or port 993 with \"ssl\")", c->port, c->host);
		goto out;
	}
	if (o->security != IMAP_SEC_SSL && (r = tls_at_once(c, o, errstr)) != 0)
		goto out;
	if ((r = greeting(c, errstr)) != 0)
		goto out;
	if (o->security == IMAP_SEC_STARTTLS) {
		if ((r = starttls(c, o->ca_file, errstr)) != 0)
			goto out;
	} else if (c->ncaps == 0 && (r = capability(c, errstr)) != 0) {
		goto out;
	}
	*out = c;
	c = NULL;
 out:
	imap_close(&c);
	return r;
}

/* ------------------------------------------------------------ sign-in */

struct auth_ctx {
	const char *mech;
	const char *ir;		/* borrowed, secret */
	int ir_sent;
	int failures;		/* failure continuations answered */
	char *said;		/* owned: decoded failure continuation */
};

static int
auth_cont(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	struct auth_ctx *a = arg;
	const char *answer;
	struct cmd cmd;
	unsigned char *dec;
	size_t n;
	int ret;

	if (!a->ir_sent) {
		a->ir_sent = 1;
		answer = a->ir;
	} else if (a->failures++ > 0) {
		return fail_dead(c, errstr, M2C_E_PROTO, a->mech,
		    "more than one challenge after the response");
	} else {
		/* a failure continuation: say we are done, keep its text */
		if (b64_decode(r->text, &dec, &n) == 0) {
			free(a->said);
			a->said = clean_text((const char *)dec, n);
			wipe(dec, n);
			free(dec);
		}
		if (strcasecmp(a->mech, "XOAUTH2") == 0)
			answer = "";
		else if (strcasecmp(a->mech, "OAUTHBEARER") == 0)
			answer = "AQ==";
		else
			answer = "*";
	}
	cmd_init(&cmd, "%s\r\n", answer);
	cmd.hidden = "<SASL response hidden>";
	if (c->trace)
		log_debug("imap C: %s", cmd.hidden);
	ret = net_write(c, cmd.b.data, cmd.b.len, errstr);
	cmd_free(&cmd);
	return ret;
}

/* After a successful sign-in: state, and capabilities from the server. */
static int
signed_in(struct imap *c, unsigned caps_gen_before, char **errstr)
{
	set_state(c, IMAP_STATE_AUTHENTICATED);
	if (c->caps_gen != caps_gen_before)
		return 0;
	return capability(c, errstr);
}

/* 1 when the server signed us in already (PREAUTH greeting). */
static int
already_signed_in(struct imap *c)
{
	if (c->state < IMAP_STATE_AUTHENTICATED)
		return 0;
	log_debug("imap: %s signed in already (PREAUTH); no sign-in sent", c->host);
	return 1;
}

static int
valid_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return 0;
	return 1;
}

static int
authenticate(struct imap *c, const char *mech, const char *ir, char **errstr)
{
	struct cmd_handlers h = { 0 };
	struct auth_ctx a = { 0 };
	struct cmd cmd;
	char *what = NULL, *m;
	unsigned gen = c->caps_gen;
	int r;

	if ((r = need_state(c, IMAP_STATE_NOT_AUTHENTICATED, errstr)) != 0 ||
	    (r = already_signed_in(c)) != 0)
		return r > 0 ? 0 : r;
	if (!valid_chars(mech, "-_") || !valid_chars(ir, "+/="))
		return m2c_fail(errstr, M2C_E_USAGE, "invalid SASL mechanism or response");
	m = xasprintf("AUTH=%s", mech);
	r = imap_has_cap(c, m);
	free(m);
	if (!r)
		return m2c_fail(errstr, M2C_E_NOTSUP, "IMAP server %s does not offer "
		    "AUTHENTICATE %s; choose another auth method in the account", c->host, mech);
	a.mech = mech;
	a.ir = ir;
	if (imap_has_cap(c, "SASL-IR")) {
		cmd_init(&cmd, "AUTHENTICATE %s %s", mech, *ir ? ir : "=");
		a.ir_sent = 1;
	} else {
		cmd_init(&cmd, "AUTHENTICATE %s", mech);
	}
	cmd.hidden = xasprintf("AUTHENTICATE %s <credentials hidden>", mech);
	cmd.signin = 1;
	what = xasprintf("AUTHENTICATE %s", mech);
	h.cont = auth_cont;
	h.arg = &a;
	r = run_cmd(c, &cmd, &h, what, errstr);
	if (r != 0 && a.said && errstr && *errstr) {
		m = xasprintf("%s (server said: %s)", *errstr, a.said);
		free(*errstr);
		*errstr = m;
	}
	if (r == 0)
		r = signed_in(c, gen, errstr);
	free((char *)cmd.hidden);
	cmd_free(&cmd);
	free(what);
	free(a.said);
	return r;
}

int
imap_authenticate(struct imap *c, const char *mech, const char *ir_b64, char **errstr)
{
	return authenticate(c, mech, ir_b64 ? ir_b64 : "", errstr);
}

/* AUTHENTICATE PLAIN: authzid (may be NULL) NUL user NUL password (RFC 4616). */
static int
login_plain(struct imap *c, const char *authzid, const char *user, const char *password,
    char **errstr)
{
	size_t zl = authzid ? strlen(authzid) : 0, ul = strlen(user), pl = strlen(password);
	size_t n = zl + ul + pl + 2;
	char *raw = xmalloc(n), *b64;
	int r;

	if (zl > 0)
		memcpy(raw, authzid, zl);
	raw[zl] = '\0';
	memcpy(raw + zl + 1, user, ul);
	raw[zl + 1 + ul] = '\0';
	memcpy(raw + zl + ul + 2, password, pl);
	b64 = b64_encode((const unsigned char *)raw, n);
	wipe(raw, n);
	free(raw);
	r = authenticate(c, "PLAIN", b64, errstr);
	free_secret(b64);
	return r;
}

int
imap_login_as(struct imap *c, const char *authzid, const char *user, const char *password,
    char **errstr)
{
	int r;

	if ((r = need_state(c, IMAP_STATE_NOT_AUTHENTICATED, errstr)) != 0)
		return r;
	return login_plain(c, authzid, user, password, errstr);
}

int
imap_login_password(struct imap *c, const char *mech, const char *user,
    const char *password, char **errstr)
{
	struct cmd cmd;
	unsigned gen;
	int r;

	if ((r = need_state(c, IMAP_STATE_NOT_AUTHENTICATED, errstr)) != 0)
		return r;
	if (strcasecmp(mech, "PLAIN") == 0)
		return login_plain(c, NULL, user, password, errstr);
	if (strcasecmp(mech, "LOGIN") != 0)
		return m2c_fail(errstr, M2C_E_NOTSUP, "unknown password mechanism %s", mech);
	if (already_signed_in(c))
		return 0;
	if (imap_has_cap(c, "LOGINDISABLED"))
		return m2c_fail(errstr, M2C_E_NOTSUP, "IMAP server %s does not allow LOGIN "
		    "(LOGINDISABLED); use auth = \"plain\" or security = \"ssl\"", c->host);
	gen = c->caps_gen;
	cmd_init(&cmd, "LOGIN ");
	cmd_reserve(&cmd, 2 * (strlen(user) + strlen(password)) + 64);
	cmd.hidden = "LOGIN <credentials hidden>";
	cmd.signin = 1;
	if (cmd_astring(c, &cmd, user) != 0 || (buf_appendc(&cmd.b, ' '),
	    cmd_astring(c, &cmd, password)) != 0)
		r = m2c_fail(errstr, M2C_E_USAGE, "user name or password cannot be sent");
	else
		r = run_cmd(c, &cmd, NULL, "LOGIN", errstr);
	cmd_free(&cmd);
	if (r == 0)
		r = signed_in(c, gen, errstr);
	return r;
}

/* ------------------------------------------------------------ mailbox */

int
imap_select(struct imap *c, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *exists, char **errstr)
{
	struct cmd cmd;
	char *name, *what;
	int r;

	if ((r = need_state(c, IMAP_STATE_AUTHENTICATED, errstr)) != 0)
		return r;
	if ((name = mutf7_from_utf8(mailbox)) == NULL)
		return m2c_fail(errstr, M2C_E_CONFIG, "mailbox name is not valid UTF-8");
	cmd_init(&cmd, "SELECT ");
	(void)cmd_astring(c, &cmd, name);
	what = xasprintf("SELECT %s", mailbox);
	c->exists = 0;
	c->new_mail = 0;
	c->have_uidvalidity = 0;
	r = run_cmd(c, &cmd, NULL, what, errstr);
	if (r == 0 && !c->have_uidvalidity)
		r = fail_dead(c, errstr, M2C_E_PROTO, what, "no UIDVALIDITY in the reply");
	if (c->state != IMAP_STATE_DEAD)
		set_state(c, r == 0 ? IMAP_STATE_SELECTED : IMAP_STATE_AUTHENTICATED);
	if (r == 0) {
		if (uidvalidity)
			*uidvalidity = c->uidvalidity;
		if (exists)
			*exists = c->exists;
	}
	cmd_free(&cmd);
	free(what);
	free(name);
	return r;
}

struct uidv {
	uint32_t *v;
	size_t n;
};

static int
search_untagged(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	struct uidv *u = arg;
	uint64_t num;
	size_t i;

	if (r->name == NULL || strcmp(r->name, "SEARCH") != 0)
		return 0;
	for (i = 0; i < r->args.nitems; i++) {
		if (r->args.items[i].type != IMAP_VAL_NUMBER)
			continue;
		if (imap_val_number(&r->args.items[i], &num) != 0 || num == 0 || num > UINT32_MAX)
			return fail_dead(c, errstr, M2C_E_PROTO, "UID SEARCH", "bad UID");
		if (u->n >= IMAP_MAX_UIDS)
			break;
		u->v = xreallocarray(u->v, u->n + 1, sizeof(*u->v));
		u->v[u->n++] = (uint32_t)num;
	}
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
imap_search_unseen(struct imap *c, uint32_t **uids, size_t *nuids, char **errstr)
{
	return imap_search(c, "UNSEEN", uids, nuids, errstr);
}

int
imap_search(struct imap *c, const char *criteria, uint32_t **uids, size_t *nuids,
    char **errstr)
{
	struct cmd_handlers h = { .untagged = search_untagged };
	struct uidv u = { 0 };
	size_t i, k = 0;
	int r;

	*uids = NULL;
	*nuids = 0;
	if ((r = need_state(c, IMAP_STATE_SELECTED, errstr)) != 0)
		return r;
	h.arg = &u;
	if ((r = simple_cmd(c, &h, errstr, "UID SEARCH %s", criteria)) != 0) {
		free(u.v);
		return r;
	}
	if (u.n > 0) {
		qsort(u.v, u.n, sizeof(*u.v), cmp_u32);
		for (i = 1, k = 1; i < u.n; i++)
			if (u.v[i] != u.v[k - 1])
				u.v[k++] = u.v[i];
	}
	*uids = u.v;
	*nuids = k;
	return 0;
}

/* ------------------------------------------------------------ fetch */

struct fetch_ctx {
	uint32_t uid;
	int fd;
	off_t max_size;
	off_t start;		/* fd's offset when the body began */
	int found;		/* a FETCH with our UID and the item arrived */
	uint64_t size;
	int too_big;
	int wfail;		/* errno of a failed write to fd */
	int streamed;		/* BODY[] literal written to fd */
	EVP_MD_CTX *md;		/* owned: SHA-256 of what was written; NULL: none */
	/* pipelined (imap_fetch_start): */
	char tag[16];		/* the command's tag */
	int done;		/* its tagged reply was read */
	int result;		/* and mapped: 0 or M2C_E_* */
	char *err;		/* owned: the error text */
};

/* The FETCH list of a response for our UID, else NULL. */
static const struct imap_val *
fetch_list(const struct imap_resp *r, uint32_t uid)
{
	const struct imap_val *l;
	uint64_t u;

	if (r->name == NULL || strcmp(r->name, "FETCH") != 0)
		return NULL;
	l = imap_list_get(&r->args, 0);
	if (l == NULL || l->type != IMAP_VAL_LIST ||
	    imap_val_number(imap_fetch_item(l, "UID"), &u) != 0 || u != uid)
		return NULL;
	return l;
}

static int
size_untagged(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	struct fetch_ctx *f = arg;
	const struct imap_val *l = fetch_list(r, f->uid);

	if (l && imap_val_number(imap_fetch_item(l, "RFC822.SIZE"), &f->size) == 0)
		f->found = 1;
	return 0;
}

static int
body_literal(struct imap *c, const struct imap_literal_info *li, void *arg, char **errstr)
{
	struct fetch_ctx *f = arg;
	const struct imap_val *l;
	uint64_t u;

	if (li->in_code || li->item == NULL || strcasecmp(li->item, "BODY[]") != 0 ||
	    li->resp->name == NULL || strcmp(li->resp->name, "FETCH") != 0 || f->streamed)
		return 1;
	/* a UID given before the body must be ours */
	l = imap_list_get(&li->resp->args, 0);
	if (imap_val_number(imap_fetch_item(l, "UID"), &u) == 0 && u != f->uid)
		return 1;
	f->streamed = 1;
	f->size = li->size;
	if (f->max_size > 0 && li->size > (uint64_t)f->max_size)
		f->too_big = 1;
	return consume_literal(c, li->size, f->too_big ? -1 : f->fd, f->md, &f->wfail, errstr);
}

static int
body_untagged(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	struct fetch_ctx *f = arg;
	const struct imap_val *l = fetch_list(r, f->uid), *b;

	if (l == NULL || (b = imap_fetch_item(l, "BODY[]")) == NULL)
		return 0;
	f->found = 1;
	if (b->type == IMAP_VAL_QUOTED || (b->type == IMAP_VAL_LITERAL && !b->streamed)) {
		/* a tiny message sent as a string */
		f->size = b->len;
		if (f->max_size > 0 && b->len > (uint64_t)f->max_size)
			f->too_big = 1;
		else if (write_all(f->fd, b->str, b->len) != 0)
			f->wfail = errno ? errno : EIO;
		else if (f->md != NULL)
			EVP_DigestUpdate(f->md, b->str, b->len);
	} else if (b->type == IMAP_VAL_NIL) {
		f->found = 0;
	}
	return 0;
}

/*
 * Start the SHA-256 of what the fetch writes (fetch_outcome says it);
 * without one the caller gets "" and reads the file again.
 */
static void
fetch_md_start(struct fetch_ctx *f)
{
	f->md = EVP_MD_CTX_new();
	if (f->md != NULL && EVP_DigestInit_ex(f->md, EVP_sha256(), NULL) != 1)
		EVP_MD_CTX_free(f->md), f->md = NULL;
}

/* What a finished BODY.PEEK[] fetch came to: 0, *size_out and sha256, or why not. */
static int
fetch_outcome(struct imap *c, const struct fetch_ctx *f, off_t *size_out, char sha256[65],
    char **errstr)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	off_t end;

	if (f->wfail)
		return m2c_fail(errstr, M2C_E_SYS, "cannot write message UID %u to the scratch "
		    "file: %s", f->uid, strerror(f->wfail));
	if (!f->found)
		return m2c_fail(errstr, M2C_E_NOTFOUND, "message UID %u is no longer in the "
		    "mailbox on %s", f->uid, c->host);
	if (f->too_big)
		return m2c_fail(errstr, M2C_E_LIMIT, "message UID %u is %llu bytes, more than "
		    "the limit of %lld", f->uid, (unsigned long long)f->size,
		    (long long)f->max_size);
	end = lseek(f->fd, 0, SEEK_CUR);
	if (f->start >= 0 && end - f->start != (off_t)f->size)
		return m2c_fail(errstr, M2C_E_SYS, "message UID %u: wrote %lld bytes of %llu",
		    f->uid, (long long)(end - f->start), (unsigned long long)f->size);
	if (size_out)
		*size_out = (off_t)f->size;
	if (sha256 != NULL) {
		sha256[0] = '\0';
		if (f->md != NULL && EVP_DigestFinal_ex(f->md, md, &mdlen) == 1 && mdlen == 32)
			hex_encode(md, mdlen, sha256);
	}
	return 0;
}

int
imap_fetch_message(struct imap *c, uint32_t uid, int fd, off_t max_size,
    off_t *size_out, char sha256[65], char **errstr)
{
	struct fetch_ctx f = { .uid = uid, .fd = fd, .max_size = max_size };
	struct cmd_handlers h = { .arg = &f };
	int r;

	if (size_out)
		*size_out = 0;
	if (sha256 != NULL)
		sha256[0] = '\0';
	if ((r = need_state(c, IMAP_STATE_SELECTED, errstr)) != 0)
		return r;
	h.untagged = size_untagged;
	if ((r = simple_cmd(c, &h, errstr, "UID FETCH %u (RFC822.SIZE)", uid)) != 0)
		return r;
	if (!f.found)
		return m2c_fail(errstr, M2C_E_NOTFOUND, "message UID %u is no longer in the "
		    "mailbox on %s", uid, c->host);
	if (max_size > 0 && f.size > (uint64_t)max_size)
		return m2c_fail(errstr, M2C_E_LIMIT, "message UID %u is %llu bytes, more than "
		    "the limit of %lld; it is not fetched (raise the size limit to print it)",
		    uid, (unsigned long long)f.size, (long long)max_size);
	f.found = 0;
	f.size = 0;
	h.untagged = body_untagged;
	h.literal = body_literal;
	f.start = lseek(fd, 0, SEEK_CUR);
	fetch_md_start(&f);
	if ((r = simple_cmd(c, &h, errstr, "UID FETCH %u BODY.PEEK[]", uid)) == 0)
		r = fetch_outcome(c, &f, size_out, sha256, errstr);
	EVP_MD_CTX_free(f.md);
	return r;
}

/* Append uids (ascending) as an IMAP sequence set: "3:5,9". */
static void
append_uid_set(struct buf *b, const uint32_t *uids, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j + 1 < n && uids[j + 1] == uids[j] + 1; j++)
			;
		buf_appendf(b, "%s%u", i ? "," : "", uids[i]);
		if (j > i)
			buf_appendf(b, ":%u", uids[j]);
		i = j + 1;
	}
}

/* uids must be ascending, without repeats, and not empty. */
static int
check_uid_set(const uint32_t *uids, size_t n, char **errstr)
{
	if (n == 0 || n > IMAP_SET_MAX)
		return m2c_fail(errstr, M2C_E_USAGE, "a UID set of %zu (internal error)", n);
	for (size_t i = 0; i < n; i++)
		if (uids[i] == 0 || (i > 0 && uids[i] <= uids[i - 1]))
			return m2c_fail(errstr, M2C_E_USAGE, "UID set not ascending (internal error)");
	return 0;
}

struct sizes_ctx {
	const uint32_t *uids;
	size_t n;
	uint64_t *sizes;
};

static int
sizes_untagged(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	struct sizes_ctx *x = arg;
	const struct imap_val *l;
	uint64_t u, size;
	size_t lo = 0, hi = x->n;

	(void)c;
	(void)errstr;
	if (r->name == NULL || strcmp(r->name, "FETCH") != 0)
		return 0;
	l = imap_list_get(&r->args, 0);
	if (l == NULL || l->type != IMAP_VAL_LIST ||
	    imap_val_number(imap_fetch_item(l, "UID"), &u) != 0 ||
	    imap_val_number(imap_fetch_item(l, "RFC822.SIZE"), &size) != 0)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->uids[mid] == u) {
			x->sizes[mid] = size;
			break;
		}
		if (x->uids[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int
imap_fetch_sizes(struct imap *c, const uint32_t *uids, size_t n, uint64_t *sizes,
    char **errstr)
{
	struct sizes_ctx x = { .uids = uids, .n = n, .sizes = sizes };
	struct cmd_handlers h = { .untagged = sizes_untagged, .arg = &x };
	struct cmd cmd;
	int r;

	if ((r = need_state(c, IMAP_STATE_SELECTED, errstr)) != 0 ||
	    (r = check_uid_set(uids, n, errstr)) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		sizes[i] = IMAP_SIZE_GONE;
	cmd_init(&cmd, "UID FETCH ");
	append_uid_set(&cmd.b, uids, n);
	buf_appendf(&cmd.b, " (RFC822.SIZE)");
	r = run_cmd(c, &cmd, &h, "UID FETCH (RFC822.SIZE)", errstr);
	cmd_free(&cmd);
	return r;
}

int
imap_fetch_start(struct imap *c, uint32_t uid, int fd, off_t max_size, char **errstr)
{
	struct fetch_ctx *f;
	struct cmd cmd;
	size_t taglen, len;
	char *line;
	int r;

	if ((r = need_state(c, IMAP_STATE_SELECTED, errstr)) != 0 ||
	    (r = fetch_drain(c, errstr)) != 0)
		return r;
	if (c->pending != NULL)
		return m2c_fail(errstr, M2C_E_USAGE, "a pipelined FETCH of UID %u is not "
		    "finished yet (internal error)", c->pending->uid);
	cmd_init(&cmd, "UID FETCH %u BODY.PEEK[]", uid);
	if ((line = cmd_line(c, &cmd, &taglen, &len, errstr)) == NULL) {
		cmd_free(&cmd);
		return M2C_E_UNAVAIL;
	}
	r = send_piece(c, &cmd, line, len, 1, errstr);
	cmd_free(&cmd);
	if (r == 0) {
		f = xcalloc(1, sizeof(*f));
		f->uid = uid;
		f->fd = fd;
		f->max_size = max_size;
		f->start = lseek(fd, 0, SEEK_CUR);
		fetch_md_start(f);
		snprintf(f->tag, sizeof(f->tag), "%s", c->tag);
		c->pending = f;
	}
	free(line);
	return r;
}

/*
 * Read the pipelined FETCH's replies up to its tagged one, writing the
 * body to its file, and keep the outcome for imap_fetch_finish.  Returns
 * an error only when the connection failed (then dead).
 */
static int
fetch_drain(struct imap *c, char **errstr)
{
	struct fetch_ctx *f = c->pending;
	struct cmd_handlers h = { .untagged = body_untagged, .literal = body_literal };
	struct imap_resp *resp = NULL;
	int r;

	if (f == NULL || f->done)
		return 0;
	if (c->state == IMAP_STATE_DEAD || c->conn.fd < 0)
		return m2c_fail(errstr, M2C_E_UNAVAIL, "IMAP connection to %s:%d is closed",
		    c->host, c->port);
	h.arg = f;
	for (;;) {
		imap_resp_free(resp);
		resp = NULL;
		if ((r = read_resp(c, &h, &resp, errstr)) != 0)
			goto out;
		if (resp->kind == IMAP_RESP_TAGGED)
			break;
		if (resp->kind == IMAP_RESP_UNTAGGED && resp->status == IMAP_ST_BYE) {
			r = map_reply(c, IMAP_ST_BYE, resp->code, resp->text, "UID FETCH", 0, errstr);
			goto out;
		}
		if (resp->kind == IMAP_RESP_CONTINUE) {
			r = fail_dead(c, errstr, M2C_E_PROTO, "UID FETCH",
			    "unexpected continuation request");
			goto out;
		}
		(void)body_untagged(c, resp, f, errstr);
	}
	if (strcmp(resp->tag, f->tag) != 0) {
		r = fail_dead(c, errstr, M2C_E_PROTO, "UID FETCH", "reply with an unknown tag");
		goto out;
	}
	f->done = 1;
	f->result = map_reply(c, resp->status, resp->code, resp->text, "UID FETCH", 0, &f->err);
	r = 0;
out:
	imap_resp_free(resp);
	return r;
}

int
imap_fetch_finish(struct imap *c, uint32_t uid, off_t *size_out, char sha256[65],
    char **errstr)
{
	struct fetch_ctx *f = c != NULL ? c->pending : NULL;
	int r;

	if (size_out)
		*size_out = 0;
	if (sha256 != NULL)
		sha256[0] = '\0';
	if (f == NULL || f->uid != uid)
		return m2c_fail(errstr, M2C_E_USAGE, "no pipelined FETCH of UID %u (internal "
		    "error)", uid);
	if ((r = fetch_drain(c, errstr)) == 0) {
		if (f->result != 0) {
			r = f->result;
			free(*errstr);
			*errstr = f->err;
			f->err = NULL;
		} else {
			r = fetch_outcome(c, f, size_out, sha256, errstr);
		}
	}
	c->pending = NULL;
	EVP_MD_CTX_free(f->md);
	free(f->err);
	free(f);
	return r;
}

/* ------------------------------------------------------------ flags, folders */

int
imap_add_flags_set(struct imap *c, const uint32_t *uids, size_t n, const char *flags,
    char **errstr)
{
	struct cmd cmd;
	int r;

	if ((r = need_state(c, IMAP_STATE_SELECTED, errstr)) != 0 ||
	    (r = check_uid_set(uids, n, errstr)) != 0)
		return r;
	if (!valid_chars(flags, "\\$ _-."))
		return m2c_fail(errstr, M2C_E_USAGE, "invalid flag list \"%s\"", flags);
	cmd_init(&cmd, "UID STORE ");
	append_uid_set(&cmd.b, uids, n);
	buf_appendf(&cmd.b, " +FLAGS.SILENT (%s)", flags);
	r = run_cmd(c, &cmd, NULL, "UID STORE", errstr);
	cmd_free(&cmd);
	return r;
}

int
imap_add_flags(struct imap *c, uint32_t uid, const char *flags, char **errstr)
{
	return imap_add_flags_set(c, &uid, 1, flags, errstr);
}

static int
ns_untagged(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	const struct imap_val *ns, *d;
	const char *s;

	if (r->name && strcmp(r->name, "NAMESPACE") == 0) {
		/* (("prefix" "delim") ...) NIL NIL: the first personal one */
		ns = imap_list_get(imap_list_get(&r->args, 0), 0);
		if ((s = imap_val_str(imap_list_get(ns, 0))) != NULL) {
			free(c->ns_prefix);
			c->ns_prefix = xstrdup(s);
		}
		d = imap_list_get(ns, 1);
		if (d && d->type != IMAP_VAL_NIL && (s = imap_val_str(d)) != NULL)
			c->ns_delim = s[0];
		else if (d)
			c->ns_delim = '\0';
	} else if (r->name && strcmp(r->name, "LIST") == 0) {
		d = imap_list_get(&r->args, 1);
		if ((s = imap_val_str(d)) != NULL)
			c->ns_delim = s[0];
		else if (d)
			c->ns_delim = '\0';
	}
	return 0;
}

/* The personal namespace prefix and the hierarchy delimiter, once. */
static int
namespace(struct imap *c, char **errstr)
{
	struct cmd_handlers h = { .untagged = ns_untagged };
	int r;

	if (c->ns_known)
		return 0;
	c->ns_delim = '/';
	if (imap_has_cap(c, "NAMESPACE"))
		r = simple_cmd(c, &h, errstr, "NAMESPACE");
	else
		r = simple_cmd(c, &h, errstr, "LIST \"\" \"\"");
	if (r == 0)
		c->ns_known = 1;
	return r;
}

char *
imap_folder_name(struct imap *c, const char *folder)
{
	struct buf b = { 0 };
	const char *p, *prefix;
	char *utf8, *name;

	if (c && c->state >= IMAP_STATE_AUTHENTICATED && c->state < IMAP_STATE_LOGOUT)
		(void)namespace(c, NULL);
	prefix = c && c->ns_prefix ? c->ns_prefix : "";
	if (strcasecmp(folder, "INBOX") == 0 || strncasecmp(folder, "INBOX/", 6) == 0 ||
	    (*prefix && str_has_prefix(folder, prefix)))
		prefix = "";
	for (p = folder; *p; p++)
		buf_appendc(&b, *p == '/' && c && c->ns_delim ? c->ns_delim : *p);
	utf8 = buf_steal(&b);
	name = mutf7_from_utf8(utf8);
	free(utf8);
	if (name == NULL)
		return NULL;
	utf8 = xasprintf("%s%s", prefix, name);
	free(name);
	return utf8;
}

struct list_ctx {
	const char *name;
	int found;
};

static int
list_untagged(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	struct list_ctx *l = arg;
	const char *s;

	if (r->name && strcmp(r->name, "LIST") == 0 &&
	    (s = imap_val_str(imap_list_get(&r->args, 2))) != NULL &&
	    (strcmp(s, l->name) == 0 || (strcasecmp(s, "INBOX") == 0 &&
	    strcasecmp(l->name, "INBOX") == 0)))
		l->found = 1;
	return 0;
}

/* Run "VERB name" with name as an astring. */
static int
name_cmd(struct imap *c, const char *verb, const char *name, char **errstr)
{
	struct cmd cmd;
	char *what;
	int r;

	cmd_init(&cmd, "%s ", verb);
	if (cmd_astring(c, &cmd, name) != 0) {
		cmd_free(&cmd);
		return m2c_fail(errstr, M2C_E_USAGE, "folder name cannot be sent");
	}
	what = xasprintf("%s %s", verb, name);
	r = run_cmd(c, &cmd, NULL, what, errstr);
	cmd_free(&cmd);
	free(what);
	return r;
}

static int
create_folder(struct imap *c, const char *name, char **errstr)
{
	char *err = NULL;
	int r;

	r = name_cmd(c, "CREATE", name, errstr);
	if (r == M2C_E_SERVER && strcmp(c->last_code, "ALREADYEXISTS") == 0)
		r = 0;
	if (r != 0)
		return r;
	if ((r = name_cmd(c, "SUBSCRIBE", name, &err)) != 0) {
		if (c->state == IMAP_STATE_DEAD) {
			r = m2c_fail(errstr, r, "%s", err);
			free(err);
			return r;
		}
		log_warn("%s (the folder is used anyway)", err);
	}
	free(err);
	strv_add(&c->folders, &c->nfolders, name);
	return 0;
}

/* The folder exists afterwards (LIST, then CREATE + SUBSCRIBE if missing). */
static int
ensure_folder(struct imap *c, const char *name, char **errstr)
{
	struct list_ctx l = { .name = name };
	struct cmd_handlers h = { .untagged = list_untagged, .arg = &l };
	struct cmd cmd;
	size_t i;
	int r;

	for (i = 0; i < c->nfolders; i++)
		if (strcmp(c->folders[i], name) == 0)
			return 0;
	cmd_init(&cmd, "LIST \"\" ");
	(void)cmd_astring(c, &cmd, name);
	r = run_cmd(c, &cmd, &h, "LIST", errstr);
	cmd_free(&cmd);
	if (r != 0)
		return r;
	if (l.found) {
		strv_add(&c->folders, &c->nfolders, name);
		return 0;
	}
	return create_folder(c, name, errstr);
}

/* After \Deleted: UID EXPUNGE with UIDPLUS, else leave them flagged. */
static int
expunge_uids(struct imap *c, const uint32_t *uids, size_t n, int *flagged_only, char **errstr)
{
	struct cmd cmd;
	int r;

	if (!imap_has_cap(c, "UIDPLUS")) {
		if (flagged_only)
			*flagged_only = 1;
		return 0;
	}
	cmd_init(&cmd, "UID EXPUNGE ");
	append_uid_set(&cmd.b, uids, n);
	r = run_cmd(c, &cmd, NULL, "UID EXPUNGE", errstr);
	cmd_free(&cmd);
	return r;
}

int
imap_move_set(struct imap *c, const uint32_t *uids, size_t n, const char *folder,
    int *flagged_only, char **errstr)
{
	struct cmd cmd;
	char *name = NULL, *what = NULL;
	int r, has_move, attempt;

	if (flagged_only)
		*flagged_only = 0;
	if ((r = need_state(c, IMAP_STATE_SELECTED, errstr)) != 0 ||
	    (r = check_uid_set(uids, n, errstr)) != 0)
		return r;
	if ((r = namespace(c, errstr)) != 0)
		return r;
	if ((name = imap_folder_name(c, folder)) == NULL)
		return m2c_fail(errstr, M2C_E_CONFIG, "folder name \"%s\" is not valid UTF-8",
		    folder);
	if ((r = ensure_folder(c, name, errstr)) != 0)
		goto out;
	has_move = imap_has_cap(c, "MOVE");
	if (n == 1)
		what = xasprintf("%s of message UID %u to %s", has_move ? "MOVE" : "COPY",
		    uids[0], folder);
	else
		what = xasprintf("%s of %zu messages (UID %u to %u) to %s", has_move ? "MOVE" :
		    "COPY", n, uids[0], uids[n - 1], folder);
	for (attempt = 0; attempt < 2; attempt++) {
		cmd_init(&cmd, "UID %s ", has_move ? "MOVE" : "COPY");
		append_uid_set(&cmd.b, uids, n);
		buf_appendc(&cmd.b, ' ');
		(void)cmd_astring(c, &cmd, name);
		r = run_cmd(c, &cmd, NULL, what, errstr);
		cmd_free(&cmd);
		if (r != M2C_E_SERVER || strcmp(c->last_code, "TRYCREATE") != 0 || attempt)
			break;
		if ((r = create_folder(c, name, errstr)) != 0)
			break;
	}
	if (r != 0 || has_move)
		goto out;
	if ((r = imap_add_flags_set(c, uids, n, "\\Seen \\Deleted", errstr)) != 0)
		goto out;
	r = expunge_uids(c, uids, n, flagged_only, errstr);
 out:
	free(what);
	free(name);
	return r;
}

int
imap_move(struct imap *c, uint32_t uid, const char *folder, int *flagged_only,
    char **errstr)
{
	return imap_move_set(c, &uid, 1, folder, flagged_only, errstr);
}

int
imap_delete_set(struct imap *c, const uint32_t *uids, size_t n, int *flagged_only,
    char **errstr)
{
	int r;

	if (flagged_only)
		*flagged_only = 0;
	if ((r = imap_add_flags_set(c, uids, n, "\\Deleted", errstr)) != 0)
		return r;
	return expunge_uids(c, uids, n, flagged_only, errstr);
}

int
imap_delete(struct imap *c, uint32_t uid, int *flagged_only, char **errstr)
{
	return imap_delete_set(c, &uid, 1, flagged_only, errstr);
}

/* ------------------------------------------------------------ IDLE, NOOP */

/* An untagged response that may mean new mail: EXISTS, or a nonzero RECENT. */
static int
is_change(const struct imap_resp *r)
{
	return r->kind == IMAP_RESP_UNTAGGED && r->has_num && r->name &&
	    (strcmp(r->name, "EXISTS") == 0 || (strcmp(r->name, "RECENT") == 0 && r->num > 0));
}

static int
change_untagged(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	int *changed = arg;

	if (is_change(r))
		*changed = 1;
	return 0;
}

int
imap_noop(struct imap *c, int *changed, char **errstr)
{
	struct cmd_handlers h = { .untagged = change_untagged };
	int r, chg = 0;

	if (changed)
		*changed = 0;
	if ((r = need_state(c, IMAP_STATE_NOT_AUTHENTICATED, errstr)) != 0)
		return r;
	h.arg = &chg;
	chg = c->new_mail;
	r = simple_cmd(c, &h, errstr, "NOOP");
	c->new_mail = 0;
	if (r == 0 && changed)
		*changed = chg;
	return r;
}

uint32_t
imap_exists(const struct imap *c)
{
	return c ? c->exists : 0;
}

/* End the IDLE (RFC 2177: DONE, untagged). */
static int
send_done(struct imap *c, char **errstr)
{
	static const char done[] = "DONE\r\n";
	struct cmd cmd = { 0 };

	return send_piece(c, &cmd, done, sizeof(done) - 1, 1, errstr);
}

static long long
min_ll(long long a, long long b)
{
	return a < b ? a : b;
}

/* One IDLE (RFC 2177) in run_cmd: its handlers' state. */
struct idle_ctx {
	int max_ms;
	int (*stop)(void *arg);
	void *arg;
	int changed;		/* EXISTS or RECENT came */
	long long end;		/* monotonic ms: DONE at the latest */
	int done;		/* DONE sent, at done_at */
	long long done_at;
};

static int
idle_untagged(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	struct idle_ctx *x = arg;

	return change_untagged(c, r, &x->changed, errstr);
}

/* The server's "+ idling": now idling.  A second "+" is a protocol error. */
static int
idle_cont(struct imap *c, const struct imap_resp *r, void *arg, char **errstr)
{
	struct idle_ctx *x = arg;

	(void)r;
	if (c->state == IMAP_STATE_IDLING)
		return fail_dead(c, errstr, M2C_E_PROTO, "IDLE", "unexpected continuation request");
	set_state(c, IMAP_STATE_IDLING);
	x->end = monotonic_ms() + (x->max_ms > 0 ? x->max_ms : 0);
	return 0;
}

/*
 * While idling: DONE on new mail, at max_ms, when stop() says so, or when
 * the server has been silent for alive_ms (its answer to DONE proves the
 * connection alive); no answer to DONE within the timeout: dead.  Wake up
 * every tick_ms at least, to ask stop().
 */
static int
idle_tick(struct imap *c, void *arg, int *soft_ms, char **errstr)
{
	struct idle_ctx *x = arg;
	long long now, wake;
	int r, silent;

	if (c->state != IMAP_STATE_IDLING)
		return 0;	/* the "+" within the timeout */
	now = monotonic_ms();
	silent = c->alive_ms > 0 && now - c->conn.last_rx >= c->alive_ms;
	if (!x->done && (x->changed || now >= x->end || silent || (x->stop && x->stop(x->arg)))) {
		if (c->trace && silent)
			log_debug("imap: nothing from %s for %lld ms; DONE to see that it "
			    "answers", c->host, now - c->conn.last_rx);
		if ((r = send_done(c, errstr)) != 0)
			return r;
		x->done = 1;
		x->done_at = now;
	}
	if (x->done && now - x->done_at >= c->timeout_ms) {
		set_state(c, IMAP_STATE_DEAD);
		return m2c_fail(errstr, M2C_E_TIMEOUT, "no answer from %s for %.1f s; the "
		    "connection is dead (network or proxy); it must be reopened", c->host,
		    (double)(now - c->conn.last_rx) / 1000.0);
	}
	if (x->done)
		wake = x->done_at + c->timeout_ms;
	else if (c->alive_ms > 0)
		wake = min_ll(x->end, c->conn.last_rx + c->alive_ms);
	else
		wake = x->end;
	wake = min_ll(wake, now + c->tick_ms);
	*soft_ms = (int)(wake > now ? wake - now : 0);
	return 0;
}

int
imap_idle(struct imap *c, int max_ms, int (*stop)(void *arg), void *arg, int *changed,
    char **errstr)
{
	struct idle_ctx x = { .max_ms = max_ms, .stop = stop, .arg = arg };
	struct cmd_handlers h = { .untagged = idle_untagged, .cont = idle_cont,
		.tick = idle_tick, .arg = &x };
	int r;

	if (changed)
		*changed = 0;
	if ((r = need_state(c, IMAP_STATE_SELECTED, errstr)) != 0)
		return r;
	if (c->new_mail) {
		/* An earlier command already brought news: no IDLE needed. */
		c->new_mail = 0;
		if (changed)
			*changed = 1;
		return 0;
	}
	if (!imap_has_cap(c, "IDLE"))
		return m2c_fail(errstr, M2C_E_NOTSUP, "IMAP server %s does not offer IDLE; "
		    "poll it instead", c->host);
	if (stop && stop(arg))
		return 0;
	r = simple_cmd(c, &h, errstr, "IDLE");
	if (c->state == IMAP_STATE_IDLING)
		set_state(c, IMAP_STATE_SELECTED);
	if (r == 0 && changed)
		*changed = x.changed;
	c->new_mail = 0;	/* what came during the IDLE is in x.changed */
	return r;
}

/* ------------------------------------------------------------ close */

void
imap_close(struct imap **cp)
{
	struct imap *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	imap_conn_close(&c->conn, c->state != IMAP_STATE_DEAD);
	imap_parser_destroy(&c->parser);
	if (c->pending != NULL) {
		EVP_MD_CTX_free(c->pending->md);
		free(c->pending->err);
		free(c->pending);
	}
	free_strv(&c->caps, &c->ncaps);
	free_strv(&c->folders, &c->nfolders);
	free(c->host);
	free(c->bye);
	free(c->ns_prefix);
	wipe(c, sizeof(*c));
	free(c);
	*cp = NULL;
}

void
imap_logout(struct imap **cp)
{
	struct imap *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	if (c->conn.fd >= 0 && c->state != IMAP_STATE_DEAD && c->state != IMAP_STATE_LOGOUT &&
	    c->state != IMAP_STATE_DISCONNECTED) {
		(void)simple_cmd(c, NULL, NULL, "LOGOUT");
		set_state(c, IMAP_STATE_LOGOUT);
	}
	imap_close(cp);
}
