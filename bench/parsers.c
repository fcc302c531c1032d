/*
 * bench/parsers.c - figures for the parsers of untrusted input that issue 5
 * added, and for a large HTML body through mime_extract.  Prints; asserts
 * nothing.  Build and run: make bench/parsers && bench/parsers [MB]
 *
 *  1. html2text alone: MB/s over a generated HTML text fed in 64 KiB pieces;
 *  2. mime_extract of a message with an MB-sized HTML body (quoted-
 *     printable) and an MB-sized base64 PDF attachment, want_body on: time,
 *     and the peak resident memory of the process (getrusage), which stays
 *     far below the message's size because everything is streamed;
 *  3. authres_sender_authenticated over a Microsoft 365 and a Google header:
 *     verdicts per second;
 *  4. popt_parse_subject over a tagged subject: subjects per second.
 */
#include "m2c-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authres.h"
#include "html2text.h"
#include "mime.h"
#include "printopts.h"
#include "util.h"

static double
secs(long long t0)
{
	return (double)(monotonic_ms() - t0) / 1000.0;
}

/* About mb MB of mail-like HTML. */
static void
make_html(struct buf *b, int mb)
{
	static const char row[] =
	    "<tr><td class=\"x\">Item &amp; price</td><td>&euro;&nbsp;12,50</td>"
	    "<td><img src=\"http://tracker.example/p.png\"></td></tr>\n"
	    "<p style=\"margin:0\">Dear colleague, <b>please</b> print this &#8211; "
	    "<a href=\"https://example.org/x\">link</a><br></p>\n";

	buf_appendf(b, "<html><head><style>p{}</style></head><body><table>\n");
	while (b->len < (size_t)mb * 1024 * 1024)
		buf_append(b, row, sizeof(row) - 1);
	buf_appendf(b, "</table></body></html>\n");
}

static void
bench_html2text(int mb)
{
	struct buf html = { 0 }, out = { 0 };
	struct html2text *h = html2text_new();
	long long t0;
	double s;

	make_html(&html, mb);
	t0 = monotonic_ms();
	for (size_t off = 0; off < html.len; off += 65536) {
		size_t n = html.len - off < 65536 ? html.len - off : 65536;

		html2text_feed(h, html.data + off, n, &out);
		buf_reset(&out);	/* the caller writes each piece out */
	}
	html2text_finish(h, &out);
	s = secs(t0);
	printf("html2text: %.1f MB of HTML in %.3f s: %.0f MB/s\n",
	    (double)html.len / 1048576.0, s, (double)html.len / 1048576.0 / (s > 0 ? s : 1e-9));
	html2text_free(&h);
	buf_free(&html);
	buf_free(&out);
}

static void
bench_mime(int mb)
{
	char dir[] = "/tmp/m2c-bench.XXXXXX", *path = NULL, *err = NULL;
	struct buf html = { 0 }, msg = { 0 };
	struct mime_limits lim = { .max_attachment_size = (off_t)4 * mb * 1024 * 1024,
		.max_parts = 100, .max_depth = 10, .max_attachments = 10, .want_body = 1 };
	struct mime_message *m = NULL;
	struct rusage ru;
	long long t0;
	pid_t pid;
	int fd, status;

	if (mkdtemp(dir) == NULL || (fd = private_tmpfile(dir, "msg", &path, &err)) < 0) {
		fprintf(stderr, "bench: %s\n", err ? err : "mkdtemp failed");
		exit(1);
	}
	make_html(&html, mb);
	buf_appendf(&msg, "From: Alice <alice@example.org>\r\nTo: print@example.org\r\n"
	    "Subject: big\r\nMessage-ID: <b@example.org>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	/* Quoted-printable: '=' escaped, lines kept short with soft breaks. */
	for (size_t i = 0, col = 0; i < html.len; i++, col++) {
		char c = html.data[i];

		if (c == '\n') {
			buf_append(&msg, "\r\n", 2);
			col = 0;
			continue;
		}
		if (col >= 70) {
			buf_append(&msg, "=\r\n", 3);
			col = 0;
		}
		if (c == '=')
			buf_append(&msg, "=3D", 3);
		else
			buf_appendc(&msg, c);
	}
	buf_appendf(&msg, "\r\n--B\r\nContent-Type: application/pdf; name=\"big.pdf\"\r\n"
	    "Content-Disposition: attachment; filename=\"big.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	/* "%PDF-1.4\n" and filler, base64 (JVBERi0xLjQK = "%PDF-1.4\n"). */
	buf_appendf(&msg, "JVBERi0xLjQK\r\n");
	for (size_t n = 0; n < (size_t)mb * 1024 * 1024; n += 57)
		buf_appendf(&msg, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n");
	buf_appendf(&msg, "--B--\r\n");
	if (write_all(fd, msg.data, msg.len) != 0) {
		fprintf(stderr, "bench: cannot write the message\n");
		exit(1);
	}
	buf_free(&html);
	printf("mime_extract: a %.1f MB message (an HTML body and a PDF of about %d MB each)\n",
	    (double)msg.len / 1048576.0, mb);
	buf_free(&msg);
	/* In a child, so that its peak memory is the extraction's alone. */
	fflush(stdout);
	t0 = monotonic_ms();
	if ((pid = fork()) == 0) {
		if (mime_extract(fd, dir, &lim, &m, &err) != 0) {
			fprintf(stderr, "bench: %s\n", err);
			_exit(1);
		}
		printf("  body %lld bytes of text, %zu attachment(s), %zu printable\n",
		    (long long)m->body_size, m->natt, m->nprintable);
		fflush(stdout);
		mime_message_free(&m);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		exit(1);
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("  %.3f s; peak resident memory of the extracting process: %.1f MB\n", secs(t0),
	    (double)ru.ru_maxrss / 1024.0);
	mime_message_free(&m);
	close(fd);
	unlink(path);
	rmdir(dir);
	free(path);
	mime_shutdown();
}

/* Run fn n times; print the rate. */
#define RATE(what, n, stmt) do { \
	long long t0_ = monotonic_ms(); \
	for (int i_ = 0; i_ < (n); i_++) { stmt; } \
	double s_ = secs(t0_); \
	printf("%s: %d in %.3f s: %.0f per second\n", what, (n), s_, (n) / (s_ > 0 ? s_ : 1e-9)); \
} while (0)

static void
bench_small(void)
{
	static const char *const ms[] = {
		"spf=pass (sender IP is 40.107.22.60) smtp.mailfrom=contoso.com; dkim=pass "
		"(signature was verified) header.d=contoso.com;dmarc=pass action=none "
		"header.from=contoso.com;compauth=pass reason=100",
	};
	static const char *const google[] = {
		"mx.google.com; dkim=pass header.i=@example.org header.s=s1 header.b=AbCd; "
		"spf=pass (google.com: domain of a@example.org designates 1.2.3.4 as permitted "
		"sender) smtp.mailfrom=a@example.org; dmarc=pass (p=REJECT sp=REJECT dis=NONE) "
		"header.from=example.org",
	};
	struct authres_input in = { "contoso.com", ms, 1, NULL };
	struct authres_policy pm = { NULL, 1, NULL, 0 }, pg = { "mx.google.com", 0, NULL, 0 };
	char *why;

	RATE("authres verdicts (Microsoft 365)", 200000,
	    authres_sender_authenticated(&in, &pm, &why); free(why));
	in.from_domain = "example.org";
	in.headers = google;
	RATE("authres verdicts (Google)", 200000,
	    authres_sender_authenticated(&in, &pg, &why); free(why));
	RATE("subject tags", 200000, {
		struct print_opts o = { 0 };
		char *unknown = NULL;

		popt_parse_subject("Re: [EXTERNAL] Minutes [2 copies, duplex, A4] #color #urgent",
		    &o, &unknown);
		free(unknown);
	});
}

int
main(int argc, char **argv)
{
	int mb = argc > 1 ? atoi(argv[1]) : 20;

	if (mb < 1 || mb > 1024) {
		fprintf(stderr, "usage: bench/parsers [MB (1-1024, default 20)]\n");
		return 64;
	}
	bench_html2text(mb);
	bench_mime(mb);
	bench_small();
	return 0;
}
