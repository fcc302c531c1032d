#!/usr/bin/env python3
"""imapserver.py - a scripted IMAP server for transcript tests.

Plays a SCRIPT of server lines to send and client lines to expect, over one
or more connections, records everything the client sent in a transcript,
and exits.  Python 3 standard library only; listens on 127.0.0.1 only.

    python3 imapserver.py --script FILE --transcript FILE --port-file FILE
        [--port N] [--tls-cert PEM --tls-key PEM] [-D NAME=VALUE]...
        [--timeout SECONDS]

Script lines (blank lines and lines starting with '#' are ignored):

    S: TEXT     send TEXT and CRLF
    F: TEXT     send the bytes of the file named TEXT as they are (a
                message for a literal: "S: ... {{{size}}}", "F: {msg}", "S: )")
    C: PATTERN  read one client line (up to CRLF) and match it
    CLOSE       end the part here (after a "* BYE", say): send nothing more
    ===         end of this connection's part: the next part is played on
                the next connection

In TEXT and PATTERN, {NAME} is the value given with -D NAME=VALUE.  In a
PATTERN, {tag} matches the client's tag and captures it, and {*} matches
anything; in TEXT, {tag} is the tag captured last on this connection, and
{sp} a space (for a line that ends in one: "S: +{sp}").  A
literal brace is written {{ or }}.

At the end of each part the server stops writing and keeps reading until
the client closes (or --timeout passes; over TLS, 2 s), so that the
transcript holds everything.  A client line that does not match its PATTERN is recorded,
reported on stderr, answered with "* BYE" and ends that connection; the
exit status is then 1.  A connection that never comes (within --timeout)
is an error too, exit status 2.

The transcript has a line "=== connection N" before each connection, then
every client line with its CRLF removed; a line that ended otherwise gets
"{no-crlf}" appended (a bare LF shows as \\x0a), and bytes outside
printable ASCII are written as \\xNN (a backslash is written as it is).
"""

import argparse
import os
import re
import socket
import ssl
import sys

MAX_LINE = 1 << 20


class Mismatch(Exception):
	pass


def escape(raw):
	out = []
	for b in raw:
		if 0x20 <= b < 0x7f:
			out.append(chr(b))
		else:
			out.append("\\x%02x" % b)
	return "".join(out)


TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_*-]+)\}")


def expand(text, defs, tag, where):
	"""Server text with {tag} and -D values filled in."""
	def sub(m):
		if m.group(0) == "{{":
			return "{"
		if m.group(0) == "}}":
			return "}"
		name = m.group(1)
		if name == "sp":
			return " "
		if name == "tag":
			if tag is None:
				raise SystemExit("%s: {tag} before any client tag" % where)
			return tag
		if name not in defs:
			raise SystemExit("%s: {%s} is not defined (-D %s=...)" % (where, name, name))
		return defs[name]
	return TOKEN.sub(sub, text)


def pattern(text, defs, where):
	"""A client line pattern as a compiled regex (full match)."""
	out, pos = [], 0
	for m in TOKEN.finditer(text):
		out.append(re.escape(text[pos:m.start()]))
		pos = m.end()
		if m.group(0) in ("{{", "}}"):
			out.append(re.escape(m.group(0)[0]))
		elif m.group(1) == "tag":
			out.append(r"(?P<tag>[A-Za-z0-9.]+)")
		elif m.group(1) == "*":
			out.append(r".*")
		elif m.group(1) in defs:
			out.append(re.escape(defs[m.group(1)]))
		else:
			raise SystemExit("%s: {%s} is not defined (-D %s=...)" % (where, m.group(1),
			    m.group(1)))
	out.append(re.escape(text[pos:]))
	return re.compile("".join(out), re.S)


def parse_script(path, defs):
	"""A list of parts; each part is a list of (op, arg, where)."""
	parts, cur = [], []
	with open(path, encoding="utf-8") as f:
		for n, line in enumerate(f, 1):
			line = line.rstrip("\r\n")
			where = "%s:%d" % (path, n)
			if not line.strip() or line.startswith("#"):
				continue
			if line == "===":
				parts.append(cur)
				cur = []
			elif line == "CLOSE":
				cur.append(("close", None, where))
			elif line.startswith("S: "):
				cur.append(("send", line[3:], where))
			elif line.startswith("F: "):
				cur.append(("file", line[3:], where))
			elif line.startswith("C: ") or line == "C:":
				cur.append(("expect", pattern(line[3:], defs, where), where))
			else:
				raise SystemExit("%s: unknown script line %r" % (where, line))
	parts.append(cur)
	return parts


class Conn:
	def __init__(self, sock, log):
		self.sock = sock
		self.buf = b""
		self.log = log

	def send(self, text):
		self.sock.sendall(text.encode("utf-8") + b"\r\n")

	def readline(self):
		"""One raw line (with its ending), or b"" at EOF."""
		while True:
			i = self.buf.find(b"\n")
			if i >= 0:
				line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
				return line
			if len(self.buf) > MAX_LINE:
				line, self.buf = self.buf, b""
				return line
			data = self.sock.recv(65536)
			if not data:
				line, self.buf = self.buf, b""
				return line
			self.buf += data

	def record(self, raw):
		if raw.endswith(b"\r\n"):
			text = escape(raw[:-2])
		else:
			text = escape(raw) + "{no-crlf}"
		self.log.write(text + "\n")
		self.log.flush()
		return text


def drain(conn):
	"""Record whatever else the client sends until it closes."""
	try:
		while True:
			raw = conn.readline()
			if not raw:
				return
			conn.record(raw)
	except (socket.timeout, OSError):
		return


def play(conn, part):
	tag = None
	for op, arg, where in part:
		if op == "send":
			conn.send(expand(arg, conn.defs, tag, where))
		elif op == "file":
			with open(expand(arg, conn.defs, tag, where), "rb") as f:
				conn.sock.sendall(f.read())
		elif op == "close":
			break
		else:
			raw = conn.readline()
			if not raw:
				raise Mismatch("%s: the client closed the connection; expected %s" %
				    (where, arg.pattern))
			text = conn.record(raw)
			line = raw[:-2] if raw.endswith(b"\r\n") else raw
			m = arg.fullmatch(line.decode("utf-8", "replace"))
			if m is None:
				raise Mismatch("%s: unexpected client line %r" % (where, text))
			if "tag" in m.groupdict() and m.group("tag") is not None:
				tag = m.group("tag")
	# End of the part: stop writing, keep recording until the client
	# closes.  A TLS socket cannot half-close (shutdown() would drop TLS and
	# record the client's close_notify as raw bytes): it gets 2 s instead.
	if isinstance(conn.sock, ssl.SSLSocket):
		conn.sock.settimeout(min(conn.sock.gettimeout() or 2.0, 2.0))
	else:
		try:
			conn.sock.shutdown(socket.SHUT_WR)
		except OSError:
			pass
	drain(conn)


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--script", required=True)
	ap.add_argument("--transcript", required=True)
	ap.add_argument("--port-file", required=True)
	ap.add_argument("--port", type=int, default=0)
	ap.add_argument("--tls-cert")
	ap.add_argument("--tls-key")
	ap.add_argument("--timeout", type=float, default=20.0)
	ap.add_argument("-D", dest="defs", action="append", default=[], metavar="NAME=VALUE")
	o = ap.parse_args()

	defs = {}
	for d in o.defs:
		name, eq, value = d.partition("=")
		if not eq:
			raise SystemExit("-D %s: want NAME=VALUE" % d)
		defs[name] = value
	parts = parse_script(o.script, defs)

	tls = None
	if o.tls_cert:
		tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		tls.load_cert_chain(o.tls_cert, o.tls_key)

	lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	lsock.bind(("127.0.0.1", o.port))
	lsock.listen(4)
	lsock.settimeout(o.timeout)
	tmp = o.port_file + ".tmp"
	with open(tmp, "w") as f:
		f.write("%d\n" % lsock.getsockname()[1])
	os.rename(tmp, o.port_file)

	status = 0
	with open(o.transcript, "w", encoding="utf-8") as log:
		for n, part in enumerate(parts, 1):
			try:
				sock, _ = lsock.accept()
			except socket.timeout:
				print("imapserver: connection %d never came (%.0f s)" % (n, o.timeout),
				    file=sys.stderr)
				status = 2
				break
			sock.settimeout(o.timeout)
			log.write("=== connection %d\n" % n)
			log.flush()
			try:
				if tls is not None:
					sock = tls.wrap_socket(sock, server_side=True)
				conn = Conn(sock, log)
				conn.defs = defs
				play(conn, part)
			except Mismatch as e:
				print("imapserver: connection %d: %s" % (n, e), file=sys.stderr)
				status = 1
				try:
					conn.send("* BYE imapserver: not in the script")
				except OSError:
					pass
			except (socket.timeout, OSError, ssl.SSLError) as e:
				print("imapserver: connection %d: %s" % (n, e), file=sys.stderr)
				status = 1
			finally:
				sock.close()
	lsock.close()
	return status


if __name__ == "__main__":
	sys.exit(main())
