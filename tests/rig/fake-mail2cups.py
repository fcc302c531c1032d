#!/usr/bin/env python3
"""fake-mail2cups.py - a stand-in for `mail2cups -c CONF once [--dry-run]`,
written only to prove that the integration tests can pass against an
implementation of the documented contract (MAIL2CUPS=tests/rig/fake-mail2cups.py
make check).  It is test scaffolding, not the product: plain Python, the
`lp` and `ipptool` commands, a JSON state file.

Contract it follows: sysexits (0, 64, 65, 69, 75, 77, 78), one CUPS job per
printable attachment named after the attachment and requested by the
sender, \\Seen / move / delete after printing, permanent failures moved to
failed_folder, the summary line "NAME: N fetched, N jobs, N skipped, N
failed", and MAIL2CUPS_TEST_STOP_AT=<step> -> _exit(98).
"""
import csv
import email
import email.policy
import fnmatch
import imaplib
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
from email.utils import parseaddr

EX_OK, EX_USAGE, EX_DATAERR, EX_UNAVAILABLE, EX_TEMPFAIL, EX_NOPERM, EX_CONFIG = \
    0, 64, 65, 69, 75, 77, 78


class Fail(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def log(msg):
    sys.stderr.write("mail2cups: %s\n" % msg)


def hook(step):
    if os.environ.get("MAIL2CUPS_TEST_STOP_AT") == step:
        sys.stderr.flush()
        os._exit(98)


# ---------------------------------------------------------------- config
TOKEN = re.compile(r'\s+|#[^\n]*|//[^\n]*|"((?:[^"\\]|\\.)*)"|(-?\d+)|([A-Za-z_][\w-]*)|(.)')


def parse_config(text):
    toks = []
    for m in TOKEN.finditer(text):
        if m.group(1) is not None:
            toks.append(("s", m.group(1).encode().decode("unicode_escape")))
        elif m.group(2):
            toks.append(("v", int(m.group(2))))
        elif m.group(3):
            toks.append(("n", m.group(3)))
        elif m.group(4):
            toks.append(("p", m.group(4)))
    pos = [0]

    def take():
        t = toks[pos[0]]
        pos[0] += 1
        return t

    def value():
        kind, v = take()
        if kind in ("s", "v"):
            return v
        if kind == "n" and v in ("true", "false"):
            return v == "true"
        if v == "{":
            return group("}")
        if v in "([":
            close = ")" if v == "(" else "]"
            out = []
            while toks[pos[0]] != ("p", close):
                out.append(value())
                if toks[pos[0]] == ("p", ","):
                    take()
            take()
            return out
        raise Fail(EX_CONFIG, "config: unexpected %r" % (v,))

    def group(close):
        out = {}
        while pos[0] < len(toks) and toks[pos[0]] != ("p", close):
            kind, name = take()
            if kind != "n" or take()[1] not in "=:":
                raise Fail(EX_CONFIG, "config: syntax error near %r" % (name,))
            out[name] = value()
            if pos[0] < len(toks) and toks[pos[0]] in (("p", ";"), ("p", ",")):
                take()
        if close != "":
            take()
        return out

    return group("")


# ---------------------------------------------------------------- CUPS
def cups_env(conf):
    env = dict(os.environ)
    if conf.get("cups_server"):
        env["CUPS_SERVER"] = conf["cups_server"]
    return env


def cups_jobs(conf, printer):
    """(id, user, name) of every job CUPS keeps for printer."""
    env = cups_env(conf)
    server = env.get("CUPS_SERVER", "localhost")
    here = os.path.dirname(os.path.abspath(__file__))
    # A domain socket goes in the URI's host, percent-encoded.
    uri_base = "ipp://" + urllib.parse.quote(server, safe=":")
    out = subprocess.run(["ipptool", "-c", "%s/printers/%s" % (uri_base, printer),
                          os.path.join(here, "get-jobs.test")],
                         env=env, capture_output=True, text=True)
    jobs = []
    for jid in re.findall(r"^(\d+)$", out.stdout, re.M):
        r = subprocess.run(["ipptool", "-c", "%s/jobs/%s" % (uri_base, jid),
                            os.path.join(here, "get-job.test")],
                           env=env, capture_output=True, text=True)
        for line in r.stdout.splitlines()[1:]:
            f = next(csv.reader([line]))
            if len(f) >= 4:
                jobs.append((int(f[0]), f[2], f[3]))
    return jobs


def cups_submit(conf, printer, path, name, user):
    r = subprocess.run(["lp", "-d", printer, "-t", name, "-U", user, "--", path],
                       env=cups_env(conf), capture_output=True, text=True)
    if r.returncode != 0:
        text = (r.stderr or r.stdout).strip()
        if re.search(r"connect|not running|No such file|refused|unavailable", text, re.I):
            raise Fail(EX_TEMPFAIL, "CUPS is unreachable (%s): %s; start cupsd and run again"
                       % (conf.get("cups_server", "default server"), text))
        raise Fail(EX_UNAVAILABLE, "CUPS refused the job: %s" % text)
    m = re.search(r"request id is \S+-(\d+)", r.stdout)
    return int(m.group(1)) if m else 0


def cups_up(conf):
    r = subprocess.run(["lpstat", "-r"], env=cups_env(conf), capture_output=True, text=True)
    return "scheduler is running" in r.stdout


# ---------------------------------------------------------------- MIME
def sniff(data):
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def attachments(msg):
    """[(index, name, data, printable_type)] for the attachments, skipping
    inline parts of multipart/related (logos)."""
    out = []

    def walk(part, in_related, idx):
        if part.is_multipart():
            for i, sub in enumerate(part.get_payload()):
                walk(sub, in_related or part.get_content_subtype() == "related",
                     idx + [i])
            return
        name = part.get_filename()
        disp = part.get_content_disposition()
        if not name or (in_related and disp != "attachment"):
            return
        data = part.get_payload(decode=True) or b""
        out.append((".".join(map(str, idx)), name, data, sniff(data)))

    walk(msg, False, [])
    return out


# ---------------------------------------------------------------- poller
def imap_connect(acct, timeout):
    host, port = acct.get("host"), acct.get("port", 993)
    sec = acct.get("security", "ssl")
    ctx = ssl.create_default_context(cafile=acct.get("ca_file"))
    try:
        if sec == "ssl":
            return imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=timeout)
        c = imaplib.IMAP4(host, port, timeout=timeout)
        if sec == "starttls":
            c.starttls(ssl_context=ctx)
        return c
    except ssl.SSLCertVerificationError as e:
        raise Fail(EX_UNAVAILABLE, "%s:%s: the server certificate does not verify (%s); "
                   "set ca_file or fix the host name" % (host, port, e.verify_message))
    except ssl.SSLError as e:
        raise Fail(EX_UNAVAILABLE, "%s:%s: TLS failed: %s" % (host, port, e))
    except OSError as e:
        raise Fail(EX_UNAVAILABLE, "%s:%s: cannot connect: %s" % (host, port, e))


def read_password(path):
    st = os.stat(path)
    if st.st_mode & 0o077:
        raise Fail(EX_CONFIG, "%s: readable by others; chmod 600 it" % path)
    with open(path) as f:
        return f.read().rstrip("\n")


def ensure_folder(c, name):
    c.create('"%s"' % name)


def run_account(conf, acct, dry, state):
    name = acct["name"]
    counts = dict(fetched=0, jobs=0, skipped=0, failed=0)
    c = imap_connect(acct, conf.get("timeout", 30))
    try:
        try:
            c.login(acct["username"], read_password(acct["password_file"]))
        except imaplib.IMAP4.error as e:
            raise Fail(EX_NOPERM, "%s: the server refused the sign-in of %s: %s; "
                       "check password_file" % (name, acct["username"], e))
        mbox = acct.get("mailbox", "INBOX")
        typ, _ = c.select('"%s"' % mbox, readonly=dry)
        uidvalidity = c.untagged_responses.get("UIDVALIDITY", [b"0"])[0].decode()
        typ, data = c.uid("SEARCH", None, "UNSEEN")
        uids = data[0].split() if data and data[0] else []
        for uid in uids:
            uid = uid.decode()
            typ, data = c.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next(d[1] for d in data if isinstance(d, tuple))
            counts["fetched"] += 1
            hook("after-fetch")
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            sender = parseaddr(str(msg.get("From", "")))[1]
            atts = attachments(msg)
            reason = None
            if not any(fnmatch.fnmatch(sender.lower(), p.lower())
                       for p in acct.get("allow_senders", [])):
                reason = "sender %s is not in allow_senders" % sender
            elif any(t is None and n.lower().endswith((".pdf", ".png", ".jpg", ".jpeg"))
                     for _, n, _, t in atts):
                bad = [n for _, n, _, t in atts if t is None]
                reason = "attachment %s is not what its name says" % ", ".join(bad)
            elif not any(t for _, _, _, t in atts):
                reason = "no printable attachment (PDF, PNG or JPEG)"
            if reason:
                counts["failed"] += 1
                log("%s: message UID %s from %s: %s" % (name, uid, sender, reason))
                if not dry:
                    ff = acct.get("failed_folder", "Print Failed")
                    ensure_folder(c, ff)
                    c.uid("MOVE", uid, '"%s"' % ff)
                continue
            for idx, fname, data, ctype in atts:
                if not ctype:
                    counts["skipped"] += 1
                    continue
                key = "%s/%s/%s/%s/%s" % (name, mbox, uidvalidity, uid, idx)
                if dry:
                    log("%s: would print %s (%s) from %s" % (name, fname, ctype, sender))
                    continue
                if key in state["done"]:
                    continue
                intent = state["intent"].get(key)
                if intent:
                    found = [j for j in cups_jobs(conf, acct["printer"])
                             if j[1] == sender and j[2] == fname and j[0] > intent["after_job"]]
                    if found:
                        state["done"][key] = found[0][0]
                        save_state(conf, state)
                        continue
                if not cups_up(conf):
                    raise Fail(EX_TEMPFAIL, "CUPS is unreachable (%s); start cupsd and run again"
                               % conf.get("cups_server", "default server"))
                jobs = cups_jobs(conf, acct["printer"])
                state["intent"][key] = {"after_job": max([j[0] for j in jobs] or [0])}
                save_state(conf, state)
                hook("after-intent")
                scratch = os.path.join(conf["state_dir"], "scratch")
                os.makedirs(scratch, mode=0o700, exist_ok=True)
                fd, path = tempfile.mkstemp(dir=scratch)
                try:
                    os.write(fd, data)
                    os.close(fd)
                    jid = cups_submit(conf, acct["printer"], path, fname, sender)
                finally:
                    os.unlink(path)
                hook("after-submit")
                state["done"][key] = jid
                save_state(conf, state)
                hook("after-record")
                counts["jobs"] += 1
                log("%s: %s from %s -> %s-%d" % (name, fname, sender, acct["printer"], jid))
            if dry:
                continue
            after = acct.get("after", "seen")
            if after == "move":
                folder = acct.get("printed_folder", "Printed")
                ensure_folder(c, folder)
                c.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                c.uid("MOVE", uid, '"%s"' % folder)
            elif after == "delete":
                c.uid("STORE", uid, "+FLAGS", "(\\Seen \\Deleted)")
                c.expunge()
            else:
                c.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            hook("after-postaction")
        c.logout()
    finally:
        log("%s: %d fetched, %d jobs, %d skipped, %d failed"
            % (name, counts["fetched"], counts["jobs"], counts["skipped"], counts["failed"]))


def state_path(conf):
    return os.path.join(conf["state_dir"], "fake-state.json")


def load_state(conf):
    try:
        with open(state_path(conf)) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"done": {}, "intent": {}}


def save_state(conf, state):
    tmp = state_path(conf) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, state_path(conf))


def main(argv):
    args = argv[1:]
    conf_file = None
    if len(args) >= 2 and args[0] == "-c":
        conf_file, args = args[1], args[2:]
    if not conf_file or not args or args[0] != "once" or args[1:] not in ([], ["--dry-run"]):
        log("usage: mail2cups -c FILE once [--dry-run]")
        return EX_USAGE
    dry = "--dry-run" in args
    try:
        with open(conf_file) as f:
            conf = parse_config(f.read())
        os.makedirs(conf["state_dir"], mode=0o700, exist_ok=True)
        state = load_state(conf)
        rc = EX_OK
        for acct in conf.get("accounts", []):
            try:
                run_account(conf, acct, dry, state)
            except Fail as e:
                log(str(e))
                rc = rc or e.code
        return rc
    except Fail as e:
        log(str(e))
        return e.code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
