/*
 * test-imap.c - the IMAP client against a scripted server (curl's
 * tests/data style).
 *
 * Each case forks a tiny server on 127.0.0.1 that plays a script: S lines
 * are sent, C lines are read from the client and recorded.  The client's
 * transcript must equal the script's C lines exactly.  TLS cases use a
 * certificate made with openssl(1) at test time in a private /tmp folder.
 */
#include "m2c-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "error.h"
#include "imap.h"
#include "log.h"
#include "tap.h"
#include "util.h"

#define BIG_SIZE (3 * 1024 * 1024 + 17)

struct step {
	char op;		/* S send line, P send raw, C client line, L big literal,
				   T start TLS, X close, W go silent,
				   D pause for text milliseconds */
	const char *text;
};
#define S(t) { 'S', t }
#define P(t) { 'P', t }
#define C(t) { 'C', t }
#define D(ms) { 'D', #ms }
#define END { 0, NULL }

static char tmpdir[] = "/tmp/m2c-imap-test-XXXXXX";
static char certfile[300], keyfile[300], cert_ok;

/* The big message: deterministic bytes, including CR, LF and NUL. */
static unsigned char *
big_message(void)
{
	unsigned char *m = xmalloc(BIG_SIZE);
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < BIG_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		m[i] = (unsigned char)(x >> 16);
	}
	return m;
}

/* ------------------------------------------------------------ the server */

struct sconn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static int
s_write(struct sconn *s, const void *p, size_t n)
{
	if (s->ssl)
		return SSL_write(s->ssl, p, (int)n) == (int)n ? 0 : -1;
	return write_all(s->fd, p, n);
}

static int
s_readc(struct sconn *s, char *ch, int timeout_ms)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	if (s->ssl && SSL_pending(s->ssl) == 0 && poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	if (s->ssl)
		return SSL_read(s->ssl, ch, 1) == 1 ? 0 : -1;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	return read(s->fd, ch, 1) == 1 ? 0 : -1;
}

static int
s_tls(struct sconn *s)
{
	s->ctx = SSL_CTX_new(TLS_server_method());
	if (SSL_CTX_use_certificate_chain_file(s->ctx, certfile) != 1 ||
	    SSL_CTX_use_PrivateKey_file(s->ctx, keyfile, SSL_FILETYPE_PEM) != 1)
		return -1;
	s->ssl = SSL_new(s->ctx);
	SSL_set_fd(s->ssl, s->fd);
	return SSL_accept(s->ssl) == 1 ? 0 : -1;
}

static void
serve(int lfd, const struct step *script, int implicit_tls, const char *tpath)
{
	struct sconn s = { .fd = -1 };
	unsigned char *big;
	uint32_t x = 7;
	size_t off, k;
	char ch, *line;
	int one = 1;
	FILE *t;

	alarm(30);
	t = fopen(tpath, "wb");
	if ((s.fd = accept(lfd, NULL, NULL)) < 0 || t == NULL)
		_exit(2);
	(void)setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (implicit_tls && s_tls(&s) != 0)
		_exit(0);
	for (; script->op; script++) {
		switch (script->op) {
		case 'S':
		case 'P':
			line = xasprintf("%s%s", script->text, script->op == 'S' ? "\r\n" : "");
			s_write(&s, line, strlen(line));
			free(line);
			break;
		case 'C':
			/* one line from the client, recorded as it came */
			while (s_readc(&s, &ch, 10000) == 0) {
				fputc(ch, t);
				if (ch == '\n')
					break;
			}
			break;
		case 'L':
			big = big_message();
			s_write(&s, script->text, strlen(script->text));
			for (off = 0; off < BIG_SIZE; off += k) {
				x = x * 1103515245u + 12345u;
				k = 1 + (x >> 16) % 40000;
				if (k > BIG_SIZE - off)
					k = BIG_SIZE - off;
				if (s_write(&s, big + off, k) != 0)
					break;
			}
			free(big);
			break;
		case 'T':
			if (s_tls(&s) != 0)
				_exit(3);
			break;
		case 'W':
			sleep(1);
			break;
		case 'D':
			usleep((useconds_t)atoi(script->text) * 1000);
			break;
		case 'X':
			goto out;
		}
	}
	/* anything more the client sends on its own is recorded too */
	while (s_readc(&s, &ch, 200) == 0)
		fputc(ch, t);
 out:
	fclose(t);
	if (s.ssl) {
		SSL_free(s.ssl);
		SSL_CTX_free(s.ctx);
	}
	close(s.fd);
	_exit(0);
}

struct srv {
	pid_t pid;
	int port;
	char tpath[400];
};

static void
srv_start(struct srv *sv, const struct step *script, int implicit_tls)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	static int n;
	int lfd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 4) != 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
		perror("server socket");
		exit(99);
	}
	sv->port = ntohs(sa.sin_port);
	snprintf(sv->tpath, sizeof(sv->tpath), "%s/transcript-%d", tmpdir, ++n);
	fflush(stdout);
	if ((sv->pid = fork()) < 0) {
		perror("fork");
		exit(99);
	}
	if (sv->pid == 0)
		serve(lfd, script, implicit_tls, sv->tpath);
	close(lfd);
}

/* Wait for the server; the client's transcript (allocated). */
static char *
srv_finish(struct srv *sv)
{
	char *t;
	int st;

	waitpid(sv->pid, &st, 0);
	t = tap_read_file(sv->tpath, NULL);
	unlink(sv->tpath);
	return t ? t : xstrdup("");
}

static char *
expected_transcript(const struct step *script)
{
	struct buf b = { 0 };

	for (; script->op; script++)
		if (script->op == 'C')
			buf_appendf(&b, "%s\r\n", script->text);
	return buf_steal(&b);
}

/* ------------------------------------------------------------ client actions */

struct ccase;
typedef int (*client_fn)(const struct ccase *k, struct imap *c, char **err);

struct ccase {
	const char *name;
	const struct step *script;
	client_fn fn;		/* after connect; NULL: connect only */
	int want;		/* result of connect + fn */
	const char *want_err;	/* substring of errstr, optional */
	int sec;		/* T_NONE (0), T_SSL, T_STARTTLS */
	const char *arg;	/* a string for fn */
};

enum { T_NONE, T_SSL, T_STARTTLS };
static const enum imap_security secmap[] = { IMAP_SEC_NONE, IMAP_SEC_SSL, IMAP_SEC_STARTTLS };

static int
do_login(const struct ccase *k, struct imap *c, char **err)
{
	return imap_login_password(c, "LOGIN", "alice", k->arg, err);
}

static int
do_plain(const struct ccase *k, struct imap *c, char **err)
{
	int r = imap_login_password(c, "PLAIN", "alice", "pw", err);

	if (r == 0)
		ok(imap_has_cap(c, "MOVE"), "%s: capabilities re-read after sign-in", k->name);
	return r;
}

static int
do_oauth(const struct ccase *k, struct imap *c, char **err)
{
	return imap_authenticate(c, k->arg, "dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2sBAQ==", err);
}

static int
login_select(struct imap *c, char **err)
{
	int r;

	if ((r = imap_login_password(c, "LOGIN", "alice", "pw", err)) != 0)
		return r;
	return imap_select(c, "INBOX", NULL, NULL, err);
}

static int
do_select_search(const struct ccase *k, struct imap *c, char **err)
{
	uint32_t uv = 0, ex = 0, *uids = NULL;
	size_t n = 0;
	int r;

	if ((r = imap_login_password(c, "LOGIN", "alice", "pw", err)) != 0)
		return r;
	if ((r = imap_select(c, "INBOX", &uv, &ex, err)) != 0)
		return r;
	is_int(uv, 3857529045u, "%s: UIDVALIDITY", k->name);
	is_int(ex, 172, "%s: EXISTS", k->name);
	if ((r = imap_search_unseen(c, &uids, &n, err)) != 0)
		return r;
	ok(n == 3 && uids[0] == 3 && uids[1] == 5 && uids[2] == 9,
	    "%s: UIDs sorted and unique", k->name);
	free(uids);
	return 0;
}

/* The SHA-256 of data in hex: what a fetch should say it wrote. */
static const char *
sha256_of(const void *data, size_t len)
{
	static char hex[65];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, mdlen, hex);
	return hex;
}

static int
fetch_to_file(const struct ccase *k, struct imap *c, off_t max, char **err, int check_big)
{
	unsigned char *want, *got;
	off_t size = -1;
	char *path = NULL, hash[65] = "x";
	int fd, r;

	if ((r = login_select(c, err)) != 0)
		return r;
	if ((fd = private_tmpfile(tmpdir, "msg", &path, NULL)) < 0)
		return M2C_E_SYS;
	r = imap_fetch_message(c, 7, fd, max, &size, hash, err);
	if (check_big) {
		want = big_message();
		got = xmalloc(BIG_SIZE + 1);
		ok(r == 0 && size == BIG_SIZE && lseek(fd, 0, SEEK_END) == BIG_SIZE &&
		    pread(fd, got, BIG_SIZE, 0) == BIG_SIZE && memcmp(got, want, BIG_SIZE) == 0,
		    "%s: file is byte-identical (%d bytes)", k->name, BIG_SIZE);
		is_str(hash, sha256_of(want, BIG_SIZE), "%s: its SHA-256, computed while written",
		    k->name);
		free(want);
		free(got);
	} else if (r != 0) {
		ok(lseek(fd, 0, SEEK_END) == 0 || r != M2C_E_LIMIT,
		    "%s: nothing written", k->name);
		is_str(hash, "", "%s: no SHA-256", k->name);
	}
	close(fd);
	unlink(path);
	free(path);
	return r;
}

static int
do_fetch_big(const struct ccase *k, struct imap *c, char **err)
{
	return fetch_to_file(k, c, 0, err, 1);
}

static int
do_fetch_small(const struct ccase *k, struct imap *c, char **err)
{
	char got[32] = "", hash[65] = "";
	off_t size = -1;
	int fd, r;

	if ((r = login_select(c, err)) != 0)
		return r;
	if ((fd = private_tmpfile(tmpdir, "msg", NULL, NULL)) < 0)
		return M2C_E_SYS;
	r = imap_fetch_message(c, 7, fd, 100, &size, hash, err);
	ok(r == 0 && size == 10 && pread(fd, got, sizeof(got) - 1, 0) == 10 &&
	    strcmp(got, "Subject: x") == 0, "%s: message in the file", k->name);
	is_str(hash, sha256_of("Subject: x", 10), "%s: with its SHA-256", k->name);
	close(fd);
	return r;
}

static int
do_fetch_any(const struct ccase *k, struct imap *c, char **err)
{
	return fetch_to_file(k, c, 0, err, 0);
}

static int
do_select_only(const struct ccase *k, struct imap *c, char **err)
{
	return login_select(c, err);
}

static int
do_fetch_limit(const struct ccase *k, struct imap *c, char **err)
{
	return fetch_to_file(k, c, 1000, err, 0);
}

static int
do_move(const struct ccase *k, struct imap *c, char **err)
{
	int r, flagged = -1;

	if ((r = login_select(c, err)) != 0)
		return r;
	r = imap_move(c, 7, k->arg, &flagged, err);
	is_int(flagged, strstr(k->name, "no UIDPLUS") ? 1 : 0, "%s: flagged_only", k->name);
	return r;
}

static int
do_delete(const struct ccase *k, struct imap *c, char **err)
{
	int r, flagged = -1;

	if ((r = login_select(c, err)) != 0)
		return r;
	r = imap_delete(c, 7, &flagged, err);
	is_int(flagged, 0, "%s: flagged_only", k->name);
	return r;
}

/* Sizes of a set, then bodies pipelined, a command sent while one is in flight. */
static int
do_pipeline(const struct ccase *k, struct imap *c, char **err)
{
	static const uint32_t set[] = { 7, 8, 9 }, seen[] = { 7, 9 };
	uint64_t sizes[3] = { 0 };
	char got[32], hash[65] = "";
	off_t size = -1;
	int fd1, fd2, fd3, r;

	if ((r = login_select(c, err)) != 0)
		return r;
	if ((r = imap_fetch_sizes(c, set, 3, sizes, err)) != 0)
		return r;
	ok(sizes[0] == 10 && sizes[1] == IMAP_SIZE_GONE && sizes[2] == 4,
	    "%s: sizes 10, gone, 4", k->name);
	if ((fd1 = private_tmpfile(tmpdir, "msg", NULL, NULL)) < 0 ||
	    (fd2 = private_tmpfile(tmpdir, "msg", NULL, NULL)) < 0 ||
	    (fd3 = private_tmpfile(tmpdir, "msg", NULL, NULL)) < 0)
		return M2C_E_SYS;
	if ((r = imap_fetch_start(c, 7, fd1, 100, err)) != 0 ||
	    (r = imap_fetch_finish(c, 7, &size, hash, err)) != 0)
		return r;
	memset(got, 0, sizeof(got));
	ok(size == 10 && pread(fd1, got, sizeof(got) - 1, 0) == 10 &&
	    strcmp(got, "Subject: x") == 0, "%s: first body in its file", k->name);
	is_str(hash, sha256_of("Subject: x", 10), "%s: with its SHA-256", k->name);
	is_int(imap_fetch_finish(c, 7, &size, NULL, err), M2C_E_USAGE,
	    "%s: finishing twice is refused", k->name);
	free(*err);
	*err = NULL;
	if ((r = imap_fetch_start(c, 9, fd2, 100, err)) != 0)
		return r;
	/* the STORE waits for the FETCH in flight: its body goes to its file */
	if ((r = imap_add_flags_set(c, seen, 2, "\\Seen", err)) != 0)
		return r;
	size = -1;
	if ((r = imap_fetch_finish(c, 9, &size, hash, err)) != 0)
		return r;
	memset(got, 0, sizeof(got));
	ok(size == 4 && pread(fd2, got, sizeof(got) - 1, 0) == 4 && strcmp(got, "abcd") == 0,
	    "%s: second body in its file, read before the STORE", k->name);
	is_str(hash, sha256_of("abcd", 4), "%s: with its SHA-256", k->name);
	if ((r = imap_fetch_start(c, 8, fd3, 100, err)) != 0)
		return r;
	is_int(imap_fetch_finish(c, 8, &size, NULL, err), M2C_E_NOTFOUND, "%s: a gone UID is NOTFOUND",
	    k->name);
	free(*err);
	*err = NULL;
	close(fd1);
	close(fd2);
	close(fd3);
	return 0;
}

static int
do_move_set(const struct ccase *k, struct imap *c, char **err)
{
	static const uint32_t set[] = { 3, 4, 5, 9, 11, 12 };
	int r, flagged = -1;

	if ((r = login_select(c, err)) != 0)
		return r;
	if ((r = imap_add_flags_set(c, set, ARRAY_SIZE(set), "\\Seen", err)) != 0 ||
	    (r = imap_move_set(c, set, ARRAY_SIZE(set), k->arg, &flagged, err)) != 0)
		return r;
	is_int(flagged, 0, "%s: flagged_only", k->name);
	is_int(imap_move_set(c, set, 0, k->arg, &flagged, err), M2C_E_USAGE,
	    "%s: an empty set is refused", k->name);
	free(*err);
	*err = NULL;
	return 0;
}

static int
do_namespace(const struct ccase *k, struct imap *c, char **err)
{
	char *name;
	int r;

	if ((r = login_select(c, err)) != 0)
		return r;
	name = imap_folder_name(c, "Printed/2024");
	is_str(name, "INBOX.Printed.2024", "%s: folder name", k->name);
	free(name);
	name = imap_folder_name(c, "INBOX");
	is_str(name, "INBOX", "%s: INBOX stays INBOX", k->name);
	free(name);
	return imap_move(c, 7, "Printed/2024", NULL, err);
}

static int
do_flags(const struct ccase *k, struct imap *c, char **err)
{
	int r;

	if ((r = login_select(c, err)) != 0)
		return r;
	return imap_add_flags(c, 7, "\\Seen", err);
}

static int
do_starttls(const struct ccase *k, struct imap *c, char **err)
{
	ok(imap_has_cap(c, "AUTH=PLAIN") && !imap_has_cap(c, "EVIL") &&
	    !imap_has_cap(c, "LOGINDISABLED"), "%s: capabilities re-read after TLS", k->name);
	return imap_login_password(c, "PLAIN", "alice", "pw", err);
}

/* ------------------------------------------------------------ scripts */

#define GREET S("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready")
#define LOGIN_OK C("A0001 LOGIN \"alice\" \"pw\""), S("A0001 OK [CAPABILITY IMAP4rev1] in")
#define SELECT_OK(t) C(t " SELECT \"INBOX\""), S("* 3 EXISTS"), \
	S("* OK [UIDVALIDITY 1] ok"), S(t " OK [READ-WRITE] selected")
#define LOGOUT(t) C(t " LOGOUT"), S("* BYE bye"), S(t " OK bye")

static const struct step s_login[] = {
	S("* OK ready"), C("A0001 CAPABILITY"),
	S("* CAPABILITY IMAP4rev1 AUTH=PLAIN"), S("A0001 OK done"),
	C("A0002 LOGIN \"alice\" \"p\\\"w\\\\x\""), S("A0002 OK Logged in"),
	C("A0003 CAPABILITY"), S("* CAPABILITY IMAP4rev1 MOVE"), S("A0003 OK"),
	LOGOUT("A0004"), END,
};
static const struct step s_login_literal[] = {
	GREET, C("A0001 LOGIN \"alice\" {11}"), S("+ go on"),
	C("p\xc3\xa4sswo\xcc\x88rd"), S("A0001 OK [CAPABILITY IMAP4rev1] in"),
	LOGOUT("A0002"), END,
};
static const struct step s_login_literal_plus[] = {
	S("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready"),
	C("A0001 LOGIN \"alice\" {3+}"), C("\xc3\xa9x"),
	S("A0001 OK [CAPABILITY IMAP4rev1] in"), LOGOUT("A0002"), END,
};
static const struct step s_logindisabled[] = {
	S("* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready"), LOGOUT("A0001"), END,
};
static const struct step s_plain_ir[] = {
	S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready"),
	C("A0001 AUTHENTICATE PLAIN AGFsaWNlAHB3"),
	S("A0001 OK [CAPABILITY IMAP4rev1 MOVE UIDPLUS] in"), LOGOUT("A0002"), END,
};
static const struct step s_plain_noir[] = {
	GREET, C("A0001 AUTHENTICATE PLAIN"), S("+ "), C("AGFsaWNlAHB3"),
	S("A0001 OK in"), C("A0002 CAPABILITY"), S("* CAPABILITY IMAP4rev1 MOVE"),
	S("A0002 OK"), LOGOUT("A0003"), END,
};
static const struct step s_refused[] = {
	GREET, C("A0001 LOGIN \"alice\" \"bad\""),
	S("A0001 NO [AUTHENTICATIONFAILED] Authentication failed."), LOGOUT("A0002"), END,
};
static const struct step s_refused_nocode[] = {
	S("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR] Exchange ready"),
	C("A0001 AUTHENTICATE PLAIN AGFsaWNlAHB3"), S("A0001 NO AUTHENTICATE failed."),
	LOGOUT("A0002"), END,
};
static const struct step s_xoauth2[] = {
	S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready"),
	C("A0001 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2sBAQ=="),
	S("+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0="), C(""),
	S("A0001 NO [AUTHENTICATIONFAILED] Invalid credentials"), LOGOUT("A0002"), END,
};
static const struct step s_xoauth2_ok[] = {
	S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready"),
	C("A0001 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2sBAQ=="),
	S("* CAPABILITY IMAP4rev1 MOVE UIDPLUS"), S("A0001 OK AUTHENTICATE completed."),
	LOGOUT("A0002"), END,
};
static const struct step s_endless_challenges[] = {
	S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready"),
	C("A0001 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2sBAQ=="),
	S("+ e30="), C(""), S("+ e30="), END,
};
static const struct step s_oauthbearer[] = {
	S("* OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER] ready"),
	C("A0001 AUTHENTICATE OAUTHBEARER"), S("+ "),
	C("dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2sBAQ=="),
	S("+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0="), C("AQ=="),
	S("A0001 NO [AUTHENTICATIONFAILED] bad token"), LOGOUT("A0002"), END,
};
static const struct step s_select_search[] = {
	GREET, LOGIN_OK, C("A0002 SELECT \"INBOX\""),
	S("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"), S("* 172 EXISTS"),
	S("* 1 RECENT"), S("* OK [UIDVALIDITY 3857529045] UIDs valid"),
	S("* OK [UIDNEXT 4392] Predicted next UID"), S("A0002 OK [READ-WRITE] SELECT completed"),
	C("A0003 UID SEARCH UNSEEN"), S("* SEARCH 9 3 5 9"), S("A0003 OK done"),
	LOGOUT("A0004"), END,
};
static const struct step s_fetch_big[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"),
	C("A0003 UID FETCH 7 (RFC822.SIZE)"), S("* 1 FETCH (UID 7 RFC822.SIZE 3145745)"),
	S("* 2 FETCH (FLAGS (\\Seen))"), S("A0003 OK done"),
	C("A0004 UID FETCH 7 BODY.PEEK[]"), { 'L', "* 1 FETCH (UID 7 BODY[] {3145745}\r\n" },
	S(")"), S("A0004 OK Fetch completed."), LOGOUT("A0005"), END,
};
static const struct step s_fetch_uid_after[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"),
	C("A0003 UID FETCH 7 (RFC822.SIZE)"), S("* 1 FETCH (RFC822.SIZE 10 UID 7)"), S("A0003 OK"),
	C("A0004 UID FETCH 7 BODY.PEEK[]"), S("* 1 FETCH (BODY[] {10}"), P("Subject: x"),
	S(" UID 7 FLAGS (\\Recent))"), S("A0004 OK done"), LOGOUT("A0005"), END,
};
static const struct step s_fetch_quoted[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"),
	C("A0003 UID FETCH 7 (RFC822.SIZE)"), S("* 1 FETCH (UID 7 RFC822.SIZE 10)"), S("A0003 OK"),
	C("A0004 UID FETCH 7 BODY.PEEK[]"), S("* 1 FETCH (UID 7 BODY[] \"Subject: x\")"),
	S("A0004 OK done"), LOGOUT("A0005"), END,
};
static const struct step s_fetch_limit[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"),
	C("A0003 UID FETCH 7 (RFC822.SIZE)"), S("* 1 FETCH (UID 7 RFC822.SIZE 5000)"),
	S("A0003 OK done"), LOGOUT("A0004"), END,
};
static const struct step s_fetch_gone[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"),
	C("A0003 UID FETCH 7 (RFC822.SIZE)"), S("A0003 OK done"), LOGOUT("A0004"), END,
};
static const struct step s_fetch_cut[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"),
	C("A0003 UID FETCH 7 (RFC822.SIZE)"), S("* 1 FETCH (UID 7 RFC822.SIZE 100000)"),
	S("A0003 OK done"), C("A0004 UID FETCH 7 BODY.PEEK[]"),
	S("* 1 FETCH (UID 7 BODY[] {100000}"), P("only the beginning"), { 'X', NULL }, END,
};
static const struct step s_silent[] = {
	GREET, LOGIN_OK, C("A0002 SELECT \"INBOX\""), { 'W', NULL }, END,
};
#define MOVE_CAPS(caps) S("* OK [CAPABILITY IMAP4rev1 " caps "] ready"), \
	C("A0001 LOGIN \"alice\" \"pw\""), S("A0001 OK in"), \
	C("A0002 CAPABILITY"), S("* CAPABILITY IMAP4rev1 " caps), S("A0002 OK"), \
	SELECT_OK("A0003"), C("A0004 LIST \"\" \"\""), \
	S("* LIST (\\Noselect) \"/\" \"\""), S("A0004 OK")
static const struct step s_move[] = {
	MOVE_CAPS("MOVE UIDPLUS"),
	C("A0005 LIST \"\" \"Printed\""), S("* LIST (\\HasNoChildren) \"/\" Printed"), S("A0005 OK"),
	C("A0006 UID MOVE 7 \"Printed\""), S("* OK [COPYUID 1 7 1] Moved"), S("* 1 EXPUNGE"),
	S("A0006 OK Move completed."), LOGOUT("A0007"), END,
};
static const struct step s_move_set[] = {
	S("* OK [CAPABILITY IMAP4rev1 MOVE UIDPLUS] ready"),
	C("A0001 LOGIN \"alice\" \"pw\""), S("A0001 OK in"),
	C("A0002 CAPABILITY"), S("* CAPABILITY IMAP4rev1 MOVE UIDPLUS"), S("A0002 OK"),
	SELECT_OK("A0003"),
	C("A0004 UID STORE 3:5,9,11:12 +FLAGS.SILENT (\\Seen)"), S("A0004 OK"),
	C("A0005 LIST \"\" \"\""), S("* LIST (\\Noselect) \"/\" \"\""), S("A0005 OK"),
	C("A0006 LIST \"\" \"Printed\""), S("* LIST (\\HasNoChildren) \"/\" Printed"), S("A0006 OK"),
	C("A0007 UID MOVE 3:5,9,11:12 \"Printed\""), S("* OK [COPYUID 1 3:5,9,11:12 1:6] Moved"),
	S("* 1 EXPUNGE"), S("A0007 OK Move completed."), LOGOUT("A0008"), END,
};
static const struct step s_pipeline[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"),
	C("A0003 UID FETCH 7:9 (RFC822.SIZE)"), S("* 1 FETCH (UID 7 RFC822.SIZE 10)"),
	S("* 3 FETCH (RFC822.SIZE 4 UID 9)"), S("A0003 OK done"),
	C("A0004 UID FETCH 7 BODY.PEEK[]"), S("* 1 FETCH (UID 7 BODY[] {10}"), P("Subject: x"),
	S(")"), S("A0004 OK"),
	C("A0005 UID FETCH 9 BODY.PEEK[]"), S("* 3 FETCH (UID 9 BODY[] {4}"), P("abcd"),
	S(")"), S("* 4 EXISTS"), S("A0005 OK"),
	C("A0006 UID STORE 7,9 +FLAGS.SILENT (\\Seen)"), S("A0006 OK"),
	C("A0007 UID FETCH 8 BODY.PEEK[]"), S("A0007 OK"), LOGOUT("A0008"), END,
};
static const struct step s_copy_expunge[] = {
	MOVE_CAPS("UIDPLUS"),
	C("A0005 LIST \"\" \"Printed\""), S("* LIST () \"/\" \"Printed\""), S("A0005 OK"),
	C("A0006 UID COPY 7 \"Printed\""), S("A0006 OK [COPYUID 1 7 1] Copied"),
	C("A0007 UID STORE 7 +FLAGS.SILENT (\\Seen \\Deleted)"), S("A0007 OK"),
	C("A0008 UID EXPUNGE 7"), S("* 1 EXPUNGE"), S("A0008 OK"), LOGOUT("A0009"), END,
};
static const struct step s_copy_no_uidplus[] = {
	MOVE_CAPS("IDLE"),
	C("A0005 LIST \"\" \"Printed\""), S("* LIST () \"/\" \"Printed\""), S("A0005 OK"),
	C("A0006 UID COPY 7 \"Printed\""), S("A0006 OK Copied"),
	C("A0007 UID STORE 7 +FLAGS.SILENT (\\Seen \\Deleted)"), S("A0007 OK"),
	LOGOUT("A0008"), END,
};
static const struct step s_trycreate[] = {
	MOVE_CAPS("MOVE"),
	C("A0005 LIST \"\" \"Print Failed\""), S("* LIST () \"/\" \"Print Failed\""), S("A0005 OK"),
	C("A0006 UID MOVE 7 \"Print Failed\""), S("A0006 NO [TRYCREATE] Mailbox doesn't exist"),
	C("A0007 CREATE \"Print Failed\""), S("A0007 OK Create completed"),
	C("A0008 SUBSCRIBE \"Print Failed\""), S("A0008 OK"),
	C("A0009 UID MOVE 7 \"Print Failed\""), S("A0009 OK done"), LOGOUT("A0010"), END,
};
static const struct step s_missing[] = {
	MOVE_CAPS("MOVE"),
	C("A0005 LIST \"\" \"Gedruckt/&ANw-bersicht\""), S("A0005 OK List completed"),
	C("A0006 CREATE \"Gedruckt/&ANw-bersicht\""), S("A0006 OK"),
	C("A0007 SUBSCRIBE \"Gedruckt/&ANw-bersicht\""), S("A0007 OK"),
	C("A0008 UID MOVE 7 \"Gedruckt/&ANw-bersicht\""), S("A0008 OK"), LOGOUT("A0009"), END,
};
static const struct step s_namespace[] = {
	S("* OK [CAPABILITY IMAP4rev1 NAMESPACE MOVE] ready"),
	C("A0001 LOGIN \"alice\" \"pw\""), S("A0001 OK [CAPABILITY IMAP4rev1 NAMESPACE MOVE] in"),
	SELECT_OK("A0002"), C("A0003 NAMESPACE"),
	S("* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL"), S("A0003 OK"),
	C("A0004 LIST \"\" \"INBOX.Printed.2024\""),
	S("* LIST (\\HasNoChildren) \".\" INBOX.Printed.2024"), S("A0004 OK"),
	C("A0005 UID MOVE 7 \"INBOX.Printed.2024\""), S("A0005 OK"), LOGOUT("A0006"), END,
};
static const struct step s_delete[] = {
	GREET, C("A0001 LOGIN \"alice\" \"pw\""), S("A0001 OK [CAPABILITY IMAP4rev1 UIDPLUS] in"),
	SELECT_OK("A0002"), C("A0003 UID STORE 7 +FLAGS.SILENT (\\Deleted)"), S("A0003 OK"),
	C("A0004 UID EXPUNGE 7"), S("A0004 OK"), LOGOUT("A0005"), END,
};
static const struct step s_flags_no[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"), C("A0003 UID STORE 7 +FLAGS.SILENT (\\Seen)"),
	S("A0003 NO [UNAVAILABLE] try later"), LOGOUT("A0004"), END,
};
static const struct step s_flags_bad[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"), C("A0003 UID STORE 7 +FLAGS.SILENT (\\Seen)"),
	S("A0003 BAD \x1b[31mnonsense"), LOGOUT("A0004"), END,
};
static const struct step s_bye[] = { S("* BYE Too many connections"), END };
/* BYE in answer to a command, the connection left open (the client timeout is
 * 500 ms, the server then stays silent for 1 s): it must not wait. */
static const struct step s_bye_open[] = {
	GREET, LOGIN_OK, C("A0002 SELECT \"INBOX\""),
	S("* BYE Session invalidated - AccessTokenExpired"), { 'W', NULL }, END,
};
static const struct step s_bye_plain[] = {
	GREET, LOGIN_OK, C("A0002 SELECT \"INBOX\""),
	S("* BYE Server shutting down"), { 'W', NULL }, END,
};
static const struct step s_not_connected[] = {
	GREET, LOGIN_OK, C("A0002 SELECT \"INBOX\""),
	S("A0002 NO User is authenticated but not connected."), LOGOUT("A0003"), END,
};
static const struct step s_no_starttls[] = {
	S("* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready"), END,
};
static const struct step s_preauth[] = {
	S("* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] signed in as alice"), SELECT_OK("A0001"),
	LOGOUT("A0002"), END,
};
static const struct step s_preauth_tls[] = {
	S("* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] signed in as alice"), END,
};
static const struct step s_garbage[] = { S("HTTP/1.1 400 Bad Request"), END };
static const struct step s_starttls[] = {
	S("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready"),
	C("A0001 STARTTLS"), P("A0001 OK Begin TLS now\r\n* CAPABILITY EVIL\r\n"), { 'T', NULL },
	C("A0002 CAPABILITY"), S("* CAPABILITY IMAP4rev1 AUTH=PLAIN"), S("A0002 OK"),
	C("A0003 AUTHENTICATE PLAIN"), S("+"), C("AGFsaWNlAHB3"),
	S("A0003 OK [CAPABILITY IMAP4rev1] in"), LOGOUT("A0004"), END,
};
/* #10: a greeting without capabilities: ask CAPABILITY before STARTTLS. */
static const struct step s_starttls_ask[] = {
	S("* OK ready"), C("A0001 CAPABILITY"), S("* CAPABILITY IMAP4rev1 STARTTLS"),
	S("A0001 OK"), C("A0002 STARTTLS"), S("A0002 OK Begin TLS now"), { 'T', NULL },
	C("A0003 CAPABILITY"), S("* CAPABILITY IMAP4rev1 AUTH=PLAIN"), S("A0003 OK"),
	C("A0004 AUTHENTICATE PLAIN"), S("+"), C("AGFsaWNlAHB3"),
	S("A0004 OK [CAPABILITY IMAP4rev1] in"), LOGOUT("A0005"), END,
};
static const struct step s_starttls_ask_none[] = {
	S("* OK ready"), C("A0001 CAPABILITY"), S("* CAPABILITY IMAP4rev1 AUTH=PLAIN"),
	S("A0001 OK"), END,
};
static const struct step s_hangup[] = { GREET, { 'X', NULL }, END };
static const struct step s_tls_greet[] = {
	S("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] TLS ready"), LOGOUT("A0001"), END,
};

static const struct ccase cases[] = {
	{ "greeting + CAPABILITY + LOGIN escaped", s_login, do_login, 0, NULL, 0, "p\"w\\x" },
	{ "LOGIN with a synchronising literal", s_login_literal, do_login, 0, NULL, 0,
	  "p\xc3\xa4sswo\xcc\x88rd" },
	{ "LOGIN with LITERAL+", s_login_literal_plus, do_login, 0, NULL, 0, "\xc3\xa9x" },
	{ "LOGINDISABLED refuses LOGIN", s_logindisabled, do_login, M2C_E_NOTSUP,
	  "LOGINDISABLED", 0, "pw" },
	{ "AUTHENTICATE PLAIN with SASL-IR", s_plain_ir, do_plain, 0, NULL, 0, NULL },
	{ "AUTHENTICATE PLAIN without SASL-IR", s_plain_noir, do_plain, 0, NULL, 0, NULL },
	{ "refused login", s_refused, do_login, M2C_E_AUTH, "Authentication failed.", 0, "bad" },
	{ "bare NO to a sign-in is M2C_E_AUTH", s_refused_nocode, do_plain, M2C_E_AUTH,
	  "AUTHENTICATE failed.", 0, NULL },
	{ "XOAUTH2 failure continuation", s_xoauth2, do_oauth, M2C_E_AUTH,
	  "{\"status\":\"401\",\"schemes\":\"bearer\"}", 0, "XOAUTH2" },
	{ "XOAUTH2 success, untagged CAPABILITY", s_xoauth2_ok, do_oauth, 0, NULL, 0, "XOAUTH2" },
	{ "endless SASL challenges", s_endless_challenges, do_oauth, M2C_E_PROTO,
	  "more than one challenge", 0, "XOAUTH2" },
	{ "OAUTHBEARER failure continuation", s_oauthbearer, do_oauth, M2C_E_AUTH,
	  "invalid_token", 0, "OAUTHBEARER" },
	{ "SELECT + UID SEARCH", s_select_search, do_select_search, 0, NULL, 0, NULL },
	{ "FETCH streams 3 MB", s_fetch_big, do_fetch_big, 0, NULL, 0, NULL },
	{ "FETCH with UID after the body", s_fetch_uid_after, do_fetch_small, 0, NULL, 0, NULL },
	{ "FETCH body as a quoted string", s_fetch_quoted, do_fetch_small, 0, NULL, 0, NULL },
	{ "FETCH size limit", s_fetch_limit, do_fetch_limit, M2C_E_LIMIT, "5000 bytes", 0, NULL },
	{ "FETCH vanished UID", s_fetch_gone, do_fetch_limit, M2C_E_NOTFOUND, "UID 7", 0, NULL },
	{ "server closes mid-literal", s_fetch_cut, do_fetch_any, M2C_E_UNAVAIL,
	  "closed the connection", 0, NULL },
	{ "silent server times out", s_silent, do_select_only, M2C_E_TIMEOUT, "did not answer",
	  0, NULL },
	{ "UID MOVE", s_move, do_move, 0, NULL, 0, "Printed" },
	{ "UID STORE + UID MOVE of a set", s_move_set, do_move_set, 0, NULL, 0, "Printed" },
	{ "sizes of a set, pipelined bodies", s_pipeline, do_pipeline, 0, NULL, 0, NULL },
	{ "COPY + STORE + UID EXPUNGE", s_copy_expunge, do_move, 0, NULL, 0, "Printed" },
	{ "COPY + STORE, no UIDPLUS", s_copy_no_uidplus, do_move, 0, NULL, 0, "Printed" },
	{ "TRYCREATE -> CREATE + SUBSCRIBE", s_trycreate, do_move, 0, NULL, 0, "Print Failed" },
	{ "missing folder created", s_missing, do_move, 0, NULL, 0,
	  "Gedruckt/\xc3\x9c" "bersicht" },
	{ "NAMESPACE INBOX. with .", s_namespace, do_namespace, 0, NULL, 0, NULL },
	{ "delete with UIDPLUS", s_delete, do_delete, 0, NULL, 0, NULL },
	{ "NO [UNAVAILABLE] is temporary", s_flags_no, do_flags, M2C_E_TEMP, "try later", 0, NULL },
	{ "BAD is a protocol error, text cleaned", s_flags_bad, do_flags, M2C_E_PROTO,
	  "bad command: \"?[31mnonsense\"", 0, NULL },
	{ "BYE greeting", s_bye, NULL, M2C_E_UNAVAIL, "Too many connections", 0, NULL },
	{ "BYE AccessTokenExpired ends the command at once, credentials refused", s_bye_open,
	  do_select_only, M2C_E_AUTH, "access token expired", 0, NULL },
	{ "another BYE: the server is unavailable", s_bye_plain, do_select_only,
	  M2C_E_UNAVAIL, "said BYE: Server shutting down", 0, NULL },
	{ "SELECT: \"not connected\" is the token's user refused", s_not_connected,
	  do_select_only, M2C_E_AUTH, "not connected", 0, NULL },
	{ "STARTTLS not offered", s_no_starttls, NULL, M2C_E_TLS, "does not offer STARTTLS",
	  T_STARTTLS, NULL },
	{ "STARTTLS not in CAPABILITY either: refused", s_starttls_ask_none, NULL, M2C_E_TLS,
	  "does not offer STARTTLS", T_STARTTLS, NULL },
	{ "PREAUTH: no sign-in sent", s_preauth, do_select_only, 0, NULL, 0, NULL },
	{ "PREAUTH refused with STARTTLS", s_preauth_tls, NULL, M2C_E_TLS, "PREAUTH",
	  T_STARTTLS, NULL },
	{ "server hangs up after the greeting", s_hangup, do_select_only, M2C_E_UNAVAIL,
	  "connection lost", 0, NULL },
	{ "not an IMAP server", s_garbage, NULL, M2C_E_PROTO, "IMAP protocol error", 0, NULL },
};

static const struct ccase tls_cases[] = {
	{ "TLS server hangs up after the greeting", s_hangup, do_select_only, M2C_E_UNAVAIL,
	  "connection lost", T_SSL, NULL },
	{ "STARTTLS, buffered plaintext discarded", s_starttls, do_starttls, 0, NULL,
	  T_STARTTLS, NULL },
	{ "STARTTLS after asking CAPABILITY (none in the greeting)", s_starttls_ask,
	  do_starttls, 0, NULL, T_STARTTLS, NULL },
};

/* ------------------------------------------------------------ running */

static struct buf logbuf;

static void
log_sink(enum log_level lvl, const char *line, void *arg)
{
	buf_appendf(&logbuf, "%s\n", line);
}

/* Connect with o (port and security filled in here), run the case, check. */
static void
run_case_opts(const struct ccase *k, int implicit_tls, struct imap_opts o)
{
	struct imap *c = NULL;
	struct srv sv;
	char *err = NULL, *want, *got;
	int r;

	srv_start(&sv, k->script, implicit_tls);
	o.port = sv.port;
	o.security = secmap[k->sec];
	r = imap_connect(&o, &c, &err);
	if (r == 0 && k->fn)
		r = k->fn(k, c, &err);
	is_int(r, k->want, "%s: result", k->name);
	if (k->want_err)
		has_str(err, k->want_err, "%s: message", k->name);
	else if (err)
		printf("#   %s\n", err);
	if (k->want != 0 && err) {
		ok(strchr(err, '\x1b') == NULL && strchr(err, '\r') == NULL,
		    "%s: no control characters in the message", k->name);
	}
	free(err);
	imap_logout(&c);
	ok(c == NULL, "%s: logout frees", k->name);
	got = srv_finish(&sv);
	want = expected_transcript(k->script);
	is_str(got, want, "%s: client transcript", k->name);
	free(got);
	free(want);
}

static void
run_case(const struct ccase *k, int implicit_tls, const char *host, const char *ca_file)
{
	struct imap_opts o = { .host = host, .ca_file = ca_file, .timeout_ms = 500, .trace = 1 };

	if (strstr(k->name, "3 MB"))
		o.timeout_ms = 5000;
	run_case_opts(k, implicit_tls, o);
}

/* ------------------------------------------------------------ IDLE and NOOP */

static int
do_noop(const struct ccase *k, struct imap *c, char **err)
{
	int r, changed = -1;

	if ((r = login_select(c, err)) != 0)
		return r;
	if ((r = imap_noop(c, &changed, err)) != 0)
		return r;
	is_int(changed, 1, "%s: EXISTS reported as a change", k->name);
	is_int(imap_exists(c), 5, "%s: new message count", k->name);
	if ((r = imap_noop(c, &changed, err)) != 0)
		return r;
	is_int(changed, 0, "%s: EXPUNGE is not a change", k->name);
	is_int(imap_exists(c), 4, "%s: count after EXPUNGE", k->name);
	return 0;
}

struct idle_case {
	struct ccase k;		/* first: do_idle() gets &k */
	int max_ms, alive_ms, timeout_ms, tick_ms, keepalive_s;
	int stop_ms;		/* the stop callback fires after this; 0 never, -1 at once */
	int want_changed;
	uint32_t want_exists;	/* 0: not checked */
	long long min_ms, max_elapsed_ms;	/* how long imap_idle() may take */
	int tls;		/* run it over implicit TLS too */
};

static int
stop_at(void *arg)
{
	return monotonic_ms() >= *(const long long *)arg;
}

/* The keepalive settings of this process's connected TCP socket (the client's). */
static int
client_keepalive(int v[4])
{
	static const int opt[4][2] = { { SOL_SOCKET, SO_KEEPALIVE },
		{ IPPROTO_TCP, TCP_KEEPIDLE }, { IPPROTO_TCP, TCP_KEEPINTVL },
		{ IPPROTO_TCP, TCP_KEEPCNT } };
	struct sockaddr_in sa;
	socklen_t sl, ol;
	int fd, i;

	for (fd = 3; fd < 1024; fd++) {
		sl = sizeof(sa);
		if (getpeername(fd, (struct sockaddr *)&sa, &sl) != 0 || sa.sin_family != AF_INET)
			continue;
		for (i = 0; i < 4; i++) {
			ol = sizeof(v[i]);
			if (getsockopt(fd, opt[i][0], opt[i][1], &v[i], &ol) != 0)
				return -1;
		}
		return 0;
	}
	return -1;
}

static int
do_idle(const struct ccase *k, struct imap *c, char **err)
{
	const struct idle_case *ic = (const struct idle_case *)(const void *)k;
	long long t0, elapsed, stop_time = 0;
	int r, changed = -1, ka[4];

	if (ic->keepalive_s != 0) {
		ok(client_keepalive(ka) == 0, "%s: client socket found", k->name);
		if (ic->keepalive_s > 0)
			ok(ka[0] && ka[1] == ic->keepalive_s && ka[2] == ic->keepalive_s / 4 &&
			    ka[3] == 4, "%s: TCP keepalive %d s, every %d s, 4 probes (got %d %d %d %d)",
			    k->name, ic->keepalive_s, ic->keepalive_s / 4, ka[0], ka[1], ka[2], ka[3]);
		else
			ok(ka[0] == 0, "%s: no TCP keepalive", k->name);
	}
	if ((r = login_select(c, err)) != 0)
		return r;
	t0 = monotonic_ms();
	if (ic->stop_ms)
		stop_time = ic->stop_ms < 0 ? t0 : t0 + ic->stop_ms;
	r = imap_idle(c, ic->max_ms, ic->stop_ms ? stop_at : NULL, &stop_time, &changed, err);
	elapsed = monotonic_ms() - t0;
	if (r == 0)
		is_int(changed, ic->want_changed, "%s: changed", k->name);
	else
		is_int(changed, 0, "%s: changed is 0 on failure", k->name);
	ok(elapsed >= ic->min_ms && elapsed <= ic->max_elapsed_ms,
	    "%s: took %lld ms, within [%lld, %lld]", k->name, elapsed, ic->min_ms,
	    ic->max_elapsed_ms);
	if (ic->want_exists)
		is_int(imap_exists(c), ic->want_exists, "%s: message count", k->name);
	return r;
}

/* Mail that came with a SEARCH's replies: the next IDLE is not sent. */
static const struct step s_exists_in_search[] = {
	GREET, C("A0001 LOGIN \"alice\" \"pw\""), S("A0001 OK [CAPABILITY IMAP4rev1 IDLE] in"),
	SELECT_OK("A0002"), C("A0003 UID SEARCH UNSEEN"), S("* SEARCH"), S("* 4 EXISTS"),
	S("A0003 OK done"), C("A0004 IDLE"), S("+ idling"), C("DONE"),
	S("A0004 OK IDLE terminated"), C("A0005 NOOP"), S("* 5 EXISTS"), S("A0005 OK done"),
	C("A0006 UID SEARCH UNSEEN"), S("* SEARCH"), S("* 6 EXISTS"), S("A0006 OK done"),
	C("A0007 NOOP"), S("A0007 OK done"), C("A0008 NOOP"), S("A0008 OK done"),
	LOGOUT("A0009"), END,
};

static int
do_exists_in_search(const struct ccase *k, struct imap *c, char **err)
{
	uint32_t *uids = NULL;
	size_t n = 1;
	int r, changed = -1;

	if ((r = login_select(c, err)) != 0)
		return r;
	if ((r = imap_search_unseen(c, &uids, &n, err)) != 0)
		return r;
	free(uids);
	is_int(n, 0, "%s: the search found nothing", k->name);
	r = imap_idle(c, 150, NULL, NULL, &changed, err);
	is_int(r, 0, "%s: imap_idle", k->name);
	is_int(changed, 1, "%s: changed at once, no IDLE sent", k->name);
	is_int(imap_exists(c), 4, "%s: message count", k->name);
	/* Reported once: this time the IDLE is sent and ends after max_ms. */
	changed = -1;
	if ((r = imap_idle(c, 150, NULL, NULL, &changed, err)) != 0)
		return r;
	is_int(changed, 0, "%s: the next IDLE waits", k->name);
	/* NOOP reports its own EXISTS, and then nothing twice. */
	if ((r = imap_noop(c, &changed, err)) != 0)
		return r;
	is_int(changed, 1, "%s: NOOP with EXISTS: changed", k->name);
	if ((r = imap_search_unseen(c, &uids, &n, err)) != 0)
		return r;
	free(uids);
	if ((r = imap_noop(c, &changed, err)) != 0)
		return r;
	is_int(changed, 1, "%s: NOOP after a SEARCH that grew EXISTS: changed", k->name);
	if ((r = imap_noop(c, &changed, err)) != 0)
		return r;
	is_int(changed, 0, "%s: the NOOP after it: not changed", k->name);
	return 0;
}

#define IDLE_LOGIN GREET, C("A0001 LOGIN \"alice\" \"pw\""), \
	S("A0001 OK [CAPABILITY IMAP4rev1 IDLE] in"), SELECT_OK("A0002"), C("A0003 IDLE")

static const struct step s_noop[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"),
	C("A0003 NOOP"), S("* 5 EXISTS"), S("* 1 RECENT"), S("A0003 OK NOOP completed"),
	C("A0004 NOOP"), S("* 2 EXPUNGE"), S("A0004 OK NOOP completed"), LOGOUT("A0005"), END,
};
static const struct step s_idle_exists[] = {
	IDLE_LOGIN, S("+ idling"), D(100), S("* 4 EXISTS"), S("* 1 RECENT"), C("DONE"),
	S("A0003 OK IDLE terminated"), LOGOUT("A0004"), END,
};
static const struct step s_idle_exists_first[] = {
	IDLE_LOGIN, S("* 4 EXISTS"), S("+ idling"), C("DONE"), S("A0003 OK IDLE terminated"),
	LOGOUT("A0004"), END,
};
static const struct step s_idle_done[] = {
	IDLE_LOGIN, S("+ idling"), C("DONE"), S("A0003 OK IDLE terminated"), LOGOUT("A0004"), END,
};
static const struct step s_idle_expunge[] = {
	IDLE_LOGIN, S("+ idling"), D(50), S("* 1 EXPUNGE"), S("* 2 FETCH (FLAGS (\\Seen))"),
	C("DONE"), S("A0003 OK IDLE terminated"), LOGOUT("A0004"), END,
};
static const struct step s_idle_bye[] = {
	IDLE_LOGIN, S("+ idling"), D(50), S("* BYE Session invalidated - AccessTokenExpired"), END,
};
static const struct step s_idle_dead[] = {
	IDLE_LOGIN, S("+ idling"), C("DONE"), D(900), END,
};
static const struct step s_idle_still_here[] = {
	IDLE_LOGIN, S("+ idling"), D(100), S("* OK Still here"), D(100), S("* OK Still here"),
	D(100), S("* OK Still here"), D(100), S("* OK Still here"), D(100),
	S("* OK Still here"), C("DONE"), S("A0003 OK IDLE terminated"), LOGOUT("A0004"), END,
};
static const struct step s_idle_refused[] = {
	IDLE_LOGIN, S("A0003 NO [UNAVAILABLE] IDLE not now"), LOGOUT("A0004"), END,
};
static const struct step s_idle_nocap[] = {
	GREET, LOGIN_OK, SELECT_OK("A0002"), LOGOUT("A0003"), END,
};
static const struct step s_idle_stopped[] = {
	GREET, C("A0001 LOGIN \"alice\" \"pw\""), S("A0001 OK [CAPABILITY IMAP4rev1 IDLE] in"),
	SELECT_OK("A0002"), LOGOUT("A0003"), END,
};

#define IDLE_CASE(name, script, want, err) { name, script, do_idle, want, err, 0, NULL }

static const struct idle_case idle_cases[] = {
	{ .k = IDLE_CASE("IDLE: EXISTS after a delay", s_idle_exists, 0, NULL),
	  .max_ms = 5000, .alive_ms = 2000, .timeout_ms = 1000, .keepalive_s = 8,
	  .want_changed = 1, .want_exists = 4, .min_ms = 100, .max_elapsed_ms = 1000, .tls = 1 },
	{ .k = IDLE_CASE("IDLE: EXISTS before the continuation", s_idle_exists_first, 0, NULL),
	  .max_ms = 5000, .alive_ms = 2000, .timeout_ms = 1000, .want_changed = 1,
	  .want_exists = 4, .min_ms = 0, .max_elapsed_ms = 500 },
	{ .k = IDLE_CASE("IDLE: max_ms ends it with DONE", s_idle_done, 0, NULL),
	  .max_ms = 150, .alive_ms = 2000, .timeout_ms = 1000, .keepalive_s = -1,
	  .want_changed = 0, .min_ms = 150, .max_elapsed_ms = 650 },
	{ .k = IDLE_CASE("IDLE: EXPUNGE and FETCH do not end it", s_idle_expunge, 0, NULL),
	  .max_ms = 300, .alive_ms = 2000, .timeout_ms = 1000, .want_changed = 0,
	  .want_exists = 2, .min_ms = 300, .max_elapsed_ms = 800 },
	{ .k = IDLE_CASE("IDLE: BYE AccessTokenExpired is credentials refused", s_idle_bye,
	  M2C_E_AUTH, "BYE \"Session invalidated - AccessTokenExpired\""),
	  .max_ms = 5000, .alive_ms = 2000, .timeout_ms = 1000, .min_ms = 50,
	  .max_elapsed_ms = 1000 },
	{ .k = IDLE_CASE("IDLE: stop callback ends it within a tick", s_idle_done, 0, NULL),
	  .max_ms = 5000, .alive_ms = 3000, .timeout_ms = 1000, .tick_ms = 50, .stop_ms = 200,
	  .want_changed = 0, .min_ms = 200, .max_elapsed_ms = 450 },
	{ .k = IDLE_CASE("IDLE: stop before IDLE sends nothing", s_idle_stopped, 0, NULL),
	  .max_ms = 5000, .alive_ms = 2000, .timeout_ms = 1000, .stop_ms = -1,
	  .want_changed = 0, .min_ms = 0, .max_elapsed_ms = 100 },
	{ .k = IDLE_CASE("IDLE: silent server answers the probe", s_idle_done, 0, NULL),
	  .max_ms = 5000, .alive_ms = 150, .timeout_ms = 1000, .want_changed = 0,
	  .min_ms = 150, .max_elapsed_ms = 650 },
	{ .k = IDLE_CASE("IDLE: silent server that never answers is dead", s_idle_dead,
	  M2C_E_TIMEOUT, "the connection is dead"),
	  .max_ms = 5000, .alive_ms = 150, .timeout_ms = 300, .min_ms = 450,
	  .max_elapsed_ms = 850, .tls = 1 },
	{ .k = IDLE_CASE("IDLE: \"* OK Still here\" keeps it alive", s_idle_still_here, 0, NULL),
	  .max_ms = 600, .alive_ms = 250, .timeout_ms = 1000, .want_changed = 0,
	  .min_ms = 600, .max_elapsed_ms = 1100, .tls = 1 },
	{ .k = IDLE_CASE("IDLE: NO to IDLE, connection still usable", s_idle_refused, M2C_E_TEMP,
	  "IDLE not now"),
	  .max_ms = 5000, .alive_ms = 2000, .timeout_ms = 1000, .min_ms = 0,
	  .max_elapsed_ms = 500 },
	{ .k = IDLE_CASE("IDLE: not offered, nothing sent", s_idle_nocap, M2C_E_NOTSUP,
	  "does not offer IDLE"),
	  .max_ms = 5000, .alive_ms = 2000, .timeout_ms = 1000, .min_ms = 0,
	  .max_elapsed_ms = 100 },
};

static void
run_idle_case(const struct idle_case *ic, int implicit_tls)
{
	struct imap_opts o = { .host = "127.0.0.1", .trace = 1 };

	if (implicit_tls) {
		o.host = "localhost";
		o.ca_file = certfile;
	}
	o.timeout_ms = ic->timeout_ms;
	o.alive_ms = ic->alive_ms;
	o.tick_ms = ic->tick_ms;
	o.keepalive_s = ic->keepalive_s;
	run_case_opts(&ic->k, implicit_tls, o);
}

static void
check_idle(void)
{
	static const struct ccase noop = { "NOOP reports EXISTS, counts EXPUNGE", s_noop, do_noop,
		0, NULL, 0, NULL };
	static const struct ccase exists_in_search = { "EXISTS during a SEARCH",
		s_exists_in_search, do_exists_in_search, 0, NULL, 0, NULL };
	struct imap_opts o = { .host = "127.0.0.1", .timeout_ms = 500, .trace = 1 };
	struct idle_case t;
	char *name;
	size_t i;

	run_case_opts(&noop, 0, o);
	run_case_opts(&exists_in_search, 0, o);
	for (i = 0; i < ARRAY_SIZE(idle_cases); i++)
		run_idle_case(&idle_cases[i], 0);
	/* some again over TLS, where reads go through OpenSSL's buffer */
	for (i = 0; i < ARRAY_SIZE(idle_cases); i++) {
		if (!idle_cases[i].tls)
			continue;
		if (!cert_ok) {
			tap_skip("%s, over TLS: openssl could not make a certificate",
			    idle_cases[i].k.name);
			continue;
		}
		t = idle_cases[i];
		name = xasprintf("%s, over TLS", t.k.name);
		t.k.name = name;
		t.k.sec = T_SSL;
		run_idle_case(&t, 1);
		free(name);
	}
}

static void
check_trace_hides_secrets(void)
{
	const char *secret = "p\"w\\x";

	ok(logbuf.data && strstr(logbuf.data, "A0002 LOGIN <credentials hidden>") != NULL,
	    "trace shows LOGIN without credentials");
	ok(logbuf.data && strstr(logbuf.data, "AUTHENTICATE PLAIN <credentials hidden>") != NULL,
	    "trace shows AUTHENTICATE without its response");
	ok(logbuf.data && strstr(logbuf.data, "AGFsaWNlAHB3") == NULL &&
	    strstr(logbuf.data, secret) == NULL && strstr(logbuf.data, "p\\\"w") == NULL &&
	    strstr(logbuf.data, "p\xc3\xa4ss") == NULL && strstr(logbuf.data, "\xc3\xa9x") == NULL &&
	    strstr(logbuf.data, "dXNlcj1hbGljZQ") == NULL,
	    "trace never contains a password or SASL response");
	ok(logbuf.data && strstr(logbuf.data, "imap S: * CAPABILITY IMAP4rev1 AUTH=PLAIN") != NULL,
	    "trace shows server lines");
}

static void
check_connect_errors(void)
{
	struct imap_opts o = { .host = "127.0.0.1", .port = 1, .security = IMAP_SEC_NONE,
	    .timeout_ms = 1000 };
	struct imap *c = NULL;
	char *err = NULL;
	int r;

	r = imap_connect(&o, &c, &err);
	is_int(r, M2C_E_UNAVAIL, "refused connection: M2C_E_UNAVAIL");
	has_str(err, "cannot reach 127.0.0.1:1", "refused connection: message");
	ok(c == NULL, "refused connection: no handle");
	free(err);
	err = NULL;
	o.host = "192.0.2.1";
	o.port = 143;
	r = imap_connect(&o, &c, &err);
	is_int(r, M2C_E_CONFIG, "security none to a non-loopback host is refused");
	has_str(err, "loopback", "security none: message says why");
	free(err);
	err = NULL;
	o.host = "no-such-host.invalid";
	r = imap_connect(&o, &c, &err);
	is_int(r, M2C_E_UNAVAIL, "unknown host: M2C_E_UNAVAIL");
	has_str(err, "cannot reach no-such-host.invalid:143", "unknown host: message");
	free(err);
}

/* A self-signed certificate for DNS:localhost only (no IP address). */
static int
make_cert(void)
{
	char *cmd;
	int r;

	snprintf(certfile, sizeof(certfile), "%s/cert.pem", tmpdir);
	snprintf(keyfile, sizeof(keyfile), "%s/key.pem", tmpdir);
	cmd = xasprintf("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
	    "-addext subjectAltName=DNS:localhost -keyout %s -out %s >/dev/null 2>&1",
	    keyfile, certfile);
	r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

static void
check_tls(void)
{
	static const struct ccase ok_case = { "implicit TLS, ca_file, host localhost",
		s_tls_greet, NULL, 0, NULL, T_SSL, NULL };
	static const struct ccase nocafile = { "implicit TLS without ca_file",
		s_tls_greet, NULL, M2C_E_TLS, NULL, T_SSL, NULL };
	static const struct ccase wronghost = { "implicit TLS, wrong host name",
		s_tls_greet, NULL, M2C_E_TLS, NULL, T_SSL, NULL };
	struct imap_opts o = { .security = IMAP_SEC_SSL, .timeout_ms = 2000 };
	struct imap *c = NULL;
	struct srv sv;
	char *err = NULL;
	int r;

	if (!cert_ok) {
		tap_skip("TLS cases: openssl could not make a certificate");
		return;
	}
	run_case(&ok_case, 1, "localhost", certfile);
	run_case(&tls_cases[0], 1, "localhost", certfile);
	run_case(&tls_cases[1], 0, "localhost", certfile);
	run_case(&tls_cases[2], 0, "localhost", certfile);

	/* failures: only the result and message matter, not the transcript */
	o.host = "localhost";
	srv_start(&sv, s_tls_greet, 1);
	o.port = sv.port;
	r = imap_connect(&o, &c, &err);
	is_int(r, nocafile.want, "%s: M2C_E_TLS", nocafile.name);
	has_str(err, "certificate of localhost", "%s: names the host", nocafile.name);
	has_str(err, "self-signed", "%s: says why", nocafile.name);
	has_str(err, "set ca_file", "%s: says what to do", nocafile.name);
	free(err);
	err = NULL;
	free(srv_finish(&sv));

	o.host = "127.0.0.1";
	o.ca_file = certfile;
	srv_start(&sv, s_tls_greet, 1);
	o.port = sv.port;
	r = imap_connect(&o, &c, &err);
	is_int(r, wronghost.want, "%s: M2C_E_TLS", wronghost.name);
	has_str(err, "certificate of 127.0.0.1", "%s: names the host", wronghost.name);
	has_str(err, "mismatch", "%s: says why", wronghost.name);
	has_str(err, "set host to a name on the server's certificate", "%s: says what to do",
	    wronghost.name);
	free(err);
	err = NULL;
	free(srv_finish(&sv));

	o.host = "localhost";
	o.ca_file = "/nonexistent/ca.pem";
	srv_start(&sv, s_tls_greet, 1);
	o.port = sv.port;
	r = imap_connect(&o, &c, &err);
	is_int(r, M2C_E_CONFIG, "unreadable ca_file: M2C_E_CONFIG");
	has_str(err, "/nonexistent/ca.pem", "unreadable ca_file: names the file");
	free(err);
	err = NULL;
	free(srv_finish(&sv));

	/*
	 * #14: the wrong security for the port, found within greeting_ms, not
	 * after the timeout: starttls against TLS at once, ssl against plain.
	 */
	o.host = "localhost";
	o.ca_file = certfile;
	o.security = IMAP_SEC_STARTTLS;
	o.timeout_ms = 20000;
	o.greeting_ms = 300;
	srv_start(&sv, s_tls_greet, 1);
	o.port = sv.port;
	{
		long long t0 = monotonic_ms(), ms;

		r = imap_connect(&o, &c, &err);
		ms = monotonic_ms() - t0;
		is_int(r, M2C_E_CONFIG, "starttls against TLS at once: M2C_E_CONFIG");
		has_str(err, "speaks TLS at once", "... saying so");
		has_str(err, "use security = \"ssl\"", "... with the fix");
		ok(ms < 10000, "... within seconds (%lld ms), not the %d ms timeout", ms,
		    o.timeout_ms);
	}
	imap_close(&c);
	free(err);
	err = NULL;
	free(srv_finish(&sv));

	o.security = IMAP_SEC_SSL;
	srv_start(&sv, s_tls_greet, 0);
	o.port = sv.port;
	r = imap_connect(&o, &c, &err);
	is_int(r, M2C_E_CONFIG, "ssl against a plain port: M2C_E_CONFIG");
	has_str(err, "speaks IMAP without TLS", "... saying so");
	has_str(err, "use security = \"starttls\"", "... with the fix");
	imap_close(&c);
	free(err);
	free(srv_finish(&sv));
}

int
main(void)
{
	char *cmd;
	size_t i;

	signal(SIGPIPE, SIG_DFL);	/* the client must cope without SIG_IGN */
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	log_init("test-imap", 0, LOG_LVL_DEBUG);
	log_set_sink(log_sink, NULL);
	cert_ok = make_cert() == 0;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i], 0, "127.0.0.1", NULL);
	check_trace_hides_secrets();
	check_idle();
	check_connect_errors();
	check_tls();
	log_set_sink(NULL, NULL);
	buf_free(&logbuf);
	cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		ok(0, "cleanup %s", tmpdir);
	free(cmd);
	return tap_done();
}
