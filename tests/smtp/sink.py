#!/usr/bin/env python3
"""sink.py - a small SMTP server for the tests (stdlib asyncio only).

It listens on 127.0.0.1 (port 0: the kernel picks one), writes the port to
--port-file, and stores every message it accepts as DIR/N.eml (the message
as received, dot-unstuffed, CRLF line ends) and then DIR/N.json:
    {"mail_from": ..., "rcpt_to": [...], "auth_user": ... or null,
     "auth_mech": ... or null, "tls": true/false}
N.json is written last (atomically), so a test waits for it.

It speaks EHLO/HELO, STARTTLS (advertised when --tls-cert is given without
--implicit-tls), AUTH PLAIN / LOGIN / XOAUTH2, MAIL, RCPT, DATA, RSET, NOOP,
QUIT.  XOAUTH2 accepts the token when it equals the content of
--xoauth2-token-file (read at each AUTH, so a test can change it); any
other token gets Microsoft's "535 5.7.3 Authentication unsuccessful".
With --xoauth2-reject-file instead, any token is accepted except those
listed in that file (one a line, read at each AUTH): a revoked token.
N.json then also has "auth_token_sha256", the SHA-256 of the token used.
PLAIN/LOGIN accept --user with the password in --password-file.
--fail-rcpt ADDR (repeatable) refuses that recipient with --fail-code;
--auth-failure LINE replaces the reply to a refused AUTH (e.g. Exchange
Online's "535 5.7.139 ... SmtpClientAuthentication is disabled ...").
See README.md in this folder.
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import ssl
import sys

LINE_MAX = 64 * 1024
DATA_MAX = 20 * 1024 * 1024


def read_secret(path):
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read().split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")


def next_number(d):
    n = 0
    for name in os.listdir(d):
        if name.endswith(".json") and name[:-5].isdigit():
            n = max(n, int(name[:-5]))
    return n + 1


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def angle_addr(arg):
    """The address in '<addr> params' (or a bare address); None if malformed."""
    arg = arg.strip()
    if arg.startswith("<"):
        end = arg.find(">")
        if end < 0:
            return None
        return arg[1:end]
    return arg.split(" ", 1)[0] or None


class Session:
    def __init__(self, opts, reader, writer):
        self.o = opts
        self.r = reader
        self.w = writer
        self.tls = opts.implicit_tls
        self.reset_all()

    def reset_all(self):
        self.ehlo = False
        self.auth_user = None
        self.auth_mech = None
        self.auth_token_sha256 = None
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpt_to = []

    async def send(self, line):
        self.w.write(line.encode() + b"\r\n")
        await self.w.drain()

    async def readline(self):
        line = await self.r.readline()
        if not line:
            raise EOFError
        if not line.endswith(b"\n"):
            raise EOFError
        return line.rstrip(b"\r\n").decode("utf-8", "replace")

    async def run(self):
        await self.send("220 localhost ESMTP mail2cups test sink")
        while True:
            line = await self.readline()
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            handler = getattr(self, "do_" + verb, None)
            if handler is None:
                await self.send("502 5.5.2 Command not recognized")
                continue
            if await handler(arg) == "quit":
                return

    async def do_EHLO(self, arg):
        self.ehlo = True
        self.reset()
        lines = ["localhost"]
        if self.o.tls_cert and not self.o.implicit_tls and not self.tls:
            lines.append("STARTTLS")
        lines.append("AUTH PLAIN LOGIN XOAUTH2")
        lines.append("8BITMIME")
        lines.append("SIZE %d" % DATA_MAX)
        for i, l in enumerate(lines):
            await self.send(("250 " if i == len(lines) - 1 else "250-") + l)

    async def do_HELO(self, arg):
        self.ehlo = True
        self.reset()
        await self.send("250 localhost")

    async def do_NOOP(self, arg):
        await self.send("250 2.0.0 OK")

    async def do_RSET(self, arg):
        self.reset()
        await self.send("250 2.0.0 OK")

    async def do_QUIT(self, arg):
        await self.send("221 2.0.0 Bye")
        return "quit"

    async def do_STARTTLS(self, arg):
        if not self.o.tls_cert or self.tls:
            await self.send("454 4.7.0 TLS not available")
            return
        await self.send("220 2.0.0 Ready to start TLS")
        await self.w.start_tls(self.o.ssl_ctx)
        self.tls = True
        self.reset_all()

    async def challenge(self, text):
        await self.send("334 " + text)
        return await self.readline()

    async def do_AUTH(self, arg):
        if self.auth_user is not None:
            await self.send("503 5.5.1 Already authenticated")
            return
        mech, _, initial = arg.strip().partition(" ")
        mech = mech.upper()
        try:
            if mech == "PLAIN":
                resp = initial or await self.challenge("")
                if resp == "*":
                    raise ValueError("cancelled")
                parts = base64.b64decode(resp, validate=True).split(b"\0")
                if len(parts) != 3:
                    raise ValueError("bad PLAIN")
                user, pw = parts[1].decode(), parts[2].decode()
                good = self.o.user is not None and user == self.o.user and \
                    pw == read_secret(self.o.password_file)
            elif mech == "LOGIN":
                u = initial or await self.challenge("VXNlcm5hbWU6")
                p = await self.challenge("UGFzc3dvcmQ6")
                user = base64.b64decode(u, validate=True).decode()
                pw = base64.b64decode(p, validate=True).decode()
                good = self.o.user is not None and user == self.o.user and \
                    pw == read_secret(self.o.password_file)
            elif mech == "XOAUTH2":
                resp = initial or await self.challenge("")
                raw = base64.b64decode(resp, validate=True).decode()
                fields = raw.split("\x01")
                user = token = None
                for f in fields:
                    if f.startswith("user="):
                        user = f[5:]
                    elif f.startswith("auth=Bearer "):
                        token = f[12:]
                if self.o.xoauth2_reject_file:
                    with open(self.o.xoauth2_reject_file) as f:
                        revoked = set(f.read().split())
                    good = user is not None and token is not None and \
                        token not in revoked and raw.endswith("\x01\x01")
                else:
                    want = read_secret(self.o.xoauth2_token_file)
                    good = user is not None and token is not None and want is not None \
                        and token == want and raw.endswith("\x01\x01")
                if good:
                    self.auth_token_sha256 = hashlib.sha256(token.encode()).hexdigest()
                if not good:
                    await self.send(self.o.auth_failure or
                                    "535 5.7.3 Authentication unsuccessful")
                    return
            else:
                await self.send("504 5.5.4 Unrecognized authentication type")
                return
        except (ValueError, UnicodeDecodeError):
            await self.send("501 5.5.2 Cannot decode the response")
            return
        if not good:
            await self.send(self.o.auth_failure or
                            "535 5.7.8 Authentication credentials invalid")
            return
        self.auth_user, self.auth_mech = user, mech
        await self.send("235 2.7.0 Authentication successful")

    async def do_MAIL(self, arg):
        if not arg.upper().startswith("FROM:"):
            await self.send("501 5.5.4 Syntax: MAIL FROM:<address>")
            return
        if self.o.require_auth and self.auth_user is None:
            await self.send("530 5.7.57 Client not authenticated to send mail")
            return
        addr = angle_addr(arg[5:])
        if addr is None:
            await self.send("501 5.1.7 Bad sender address syntax")
            return
        self.mail_from = addr
        self.rcpt_to = []
        await self.send("250 2.1.0 Sender OK")

    async def do_RCPT(self, arg):
        if self.mail_from is None:
            await self.send("503 5.5.1 Need MAIL first")
            return
        if not arg.upper().startswith("TO:"):
            await self.send("501 5.5.4 Syntax: RCPT TO:<address>")
            return
        addr = angle_addr(arg[3:])
        if addr is None:
            await self.send("501 5.1.3 Bad recipient address syntax")
            return
        if addr.lower() in self.o.fail_rcpt:
            code = self.o.fail_code
            await self.send("%d %s.1.1 Recipient refused: %s" % (code, str(code)[0], addr))
            return
        self.rcpt_to.append(addr)
        await self.send("250 2.1.5 Recipient OK")

    async def do_DATA(self, arg):
        if not self.rcpt_to:
            await self.send("503 5.5.1 Need RCPT first")
            return
        await self.send("354 Start mail input; end with <CRLF>.<CRLF>")
        body = bytearray()
        too_big = False
        while True:
            line = await self.r.readline()
            if not line:
                raise EOFError
            if line in (b".\r\n", b".\n"):
                break
            if line.startswith(b"."):
                line = line[1:]
            if len(body) + len(line) > DATA_MAX:
                too_big = True
            else:
                body += line
        if too_big:
            self.reset()
            await self.send("552 5.3.4 Message too big")
            return
        n = next_number(self.o.dir)
        write_atomic(os.path.join(self.o.dir, "%d.eml" % n), bytes(body))
        meta = {"mail_from": self.mail_from, "rcpt_to": self.rcpt_to,
                "auth_user": self.auth_user, "auth_mech": self.auth_mech,
                "tls": self.tls}
        if self.auth_token_sha256:
            meta["auth_token_sha256"] = self.auth_token_sha256
        write_atomic(os.path.join(self.o.dir, "%d.json" % n),
                     json.dumps(meta).encode())
        self.reset()
        await self.send("250 2.0.0 OK queued as %d" % n)


async def serve(opts):
    async def handle(reader, writer):
        s = Session(opts, reader, writer)
        try:
            await s.run()
        except (EOFError, ConnectionError, ssl.SSLError, asyncio.LimitOverrunError,
                ValueError):
            pass
        finally:
            try:
                writer.close()
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError, OSError):
                pass

    server = await asyncio.start_server(
        handle, "127.0.0.1", opts.port, limit=LINE_MAX,
        ssl=opts.ssl_ctx if opts.implicit_tls else None)
    port = server.sockets[0].getsockname()[1]
    write_atomic(opts.port_file, b"%d\n" % port)
    async with server:
        await server.serve_forever()


def main():
    ap = argparse.ArgumentParser(description="SMTP sink for the mail2cups tests")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--xoauth2-token-file")
    ap.add_argument("--xoauth2-reject-file")
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--require-auth", action="store_true")
    ap.add_argument("--fail-rcpt", action="append", default=[])
    ap.add_argument("--fail-code", type=int, default=550)
    ap.add_argument("--auth-failure")
    opts = ap.parse_args()
    opts.fail_rcpt = [a.lower() for a in opts.fail_rcpt]
    if not 400 <= opts.fail_code <= 599:
        ap.error("--fail-code must be a 4xx or 5xx code")
    if opts.implicit_tls and not opts.tls_cert:
        ap.error("--implicit-tls needs --tls-cert and --tls-key")
    opts.ssl_ctx = None
    if opts.tls_cert:
        opts.ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        opts.ssl_ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
    os.makedirs(opts.dir, exist_ok=True)
    try:
        asyncio.run(serve(opts))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
