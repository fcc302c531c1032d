#!/usr/bin/env python3
"""mkmail.py - test data for the integration tests: tiny valid documents and
sample mails.  Only the standard library.

  mkmail.py pdf OUT [TEXT] [--pad N]
                                a valid one-page PDF showing TEXT (with N
                                more bytes of an unused stream)
  mkmail.py png OUT [SEED]      a valid 4x4 PNG (colour from SEED)
  mkmail.py docx OUT            a minimal Word document (not printable here)
  mkmail.py odt OUT [TYPE]      a minimal OpenDocument file (a zip whose first,
                                uncompressed member "mimetype" holds TYPE,
                                default application/vnd.oasis.opendocument.text)
  mkmail.py mail OUT [options]  a mail; options:
      --from ADDR --subject TEXT
      --to ADDR --cc ADDR           the To (default print@example.com) and Cc
      --header "NAME: VALUE"        a header on top of the header block, in
                                    the order given (repeat): for
                                    Authentication-Results, Delivered-To...
      --auth RESULT                 on top: "Authentication-Results:
                                    mx.rig.test; dmarc=RESULT
                                    header.from=<From's domain>"
      --message-id ID               the Message-ID (without <>)
      --text TEXT                   the text/plain body
      --html HTML                   an HTML-only body (no text/plain part)
      --attach PATH[:NAME[:TYPE]]   an attachment (repeat); NAME defaults to
                                    the file's name, TYPE to a guess
      --nested                      put the attachments two multipart levels
                                    deep, beside a text/html alternative
      --related-logo PATH           an HTML body in multipart/related with
                                    PATH as an inline logo (Content-ID)
"""
import argparse
import mimetypes
import os
import struct
import sys
import zlib
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP
from email.utils import formatdate, make_msgid


def make_pdf(text, pad=b""):
    """A valid one-page PDF showing text; pad, when given, is one more
    stream of those bytes (bench/mkbacklog.py makes scan-sized files)."""
    stream = ("BT /F1 24 Tf 72 720 Td (%s) Tj ET" % text).encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if pad:
        objs.append(b"<< /Length %d >>\nstream\n" % len(pad) + pad + b"\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref)
    return out


def make_png(seed):
    w = h = 4
    rgb = bytes([(seed * 53) % 256, (seed * 97) % 256, (seed * 151) % 256])
    raw = b"".join(b"\x00" + rgb * w for _ in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_docx():
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.'
                   'wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                   'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>hello</w:t></w:r>'
                   '</w:p></w:body></w:document>')
    return buf.getvalue()


def make_odt(mimetype):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        # ODF: "mimetype" first and stored, so its bytes sit at offset 38.
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype, zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                   'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                   'manifest:media-type="%s"/><manifest:file-entry '
                   'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                   '</manifest:manifest>' % mimetype, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
                   'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                   'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                   'office:version="1.2"><office:body><office:text><text:p>hello'
                   '</text:p></office:text></office:body></office:document-content>',
                   zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def attachment(spec):
    parts = spec.split(":", 2)
    path = parts[0]
    name = parts[1] if len(parts) > 1 and parts[1] else os.path.basename(path)
    ctype = parts[2] if len(parts) > 2 else (
        mimetypes.guess_type(name)[0] or "application/octet-stream")
    with open(path, "rb") as f:
        data = f.read()
    maintype, subtype = ctype.split("/", 1)
    if maintype == "image":
        part = MIMEImage(data, _subtype=subtype)
    else:
        part = MIMEApplication(data, _subtype=subtype)
        if maintype != "application":
            part.replace_header("Content-Type", ctype)
    # Non-ASCII names get RFC 2231 encoding (filename*=utf-8''...).
    if all(ord(c) < 128 for c in name):
        part.add_header("Content-Disposition", "attachment", filename=name)
    else:
        part.add_header("Content-Disposition", "attachment",
                        filename=("utf-8", "", name))
    return part


def make_mail(a):
    text = MIMEText(getattr(a, "text", None) or "Please print the attached document.\n",
                    "plain", "utf-8")
    atts = [attachment(s) for s in a.attach]
    if a.related_logo:
        with open(a.related_logo, "rb") as f:
            logo = MIMEImage(f.read(), _subtype="png")
        logo.add_header("Content-ID", "<logo@example.com>")
        logo.add_header("Content-Disposition", "inline", filename="logo.png")
        html = MIMEText('<p>Please print.</p><p><img src="cid:logo@example.com"></p>',
                        "html", "utf-8")
        related = MIMEMultipart("related")
        related.attach(html)
        related.attach(logo)
        body = MIMEMultipart("alternative")
        body.attach(text)
        body.attach(related)
    elif a.nested:
        body = MIMEMultipart("alternative")
        body.attach(text)
        body.attach(MIMEText("<p>Please print the attached document.</p>", "html", "utf-8"))
    elif getattr(a, "html", None):
        body = MIMEText(a.html, "html", "utf-8")
    else:
        body = text
    if a.nested:
        inner = MIMEMultipart("mixed")
        for p in atts:
            inner.attach(p)
        outer = MIMEMultipart("mixed")
        outer.attach(body)
        outer.attach(inner)
        msg = outer
    elif atts:
        msg = MIMEMultipart("mixed")
        msg.attach(body)
        for p in atts:
            msg.attach(p)
    else:
        msg = body
    msg["From"] = a.sender
    msg["To"] = getattr(a, "to", None) or "print@example.com"
    if getattr(a, "cc", None):
        msg["Cc"] = a.cc
    msg["Subject"] = a.subject
    msg["Date"] = formatdate(localtime=False)
    mid = getattr(a, "message_id", None)
    msg["Message-ID"] = "<%s>" % mid if mid else make_msgid(domain="example.com")
    top = []
    if getattr(a, "auth", None):
        domain = a.sender.rsplit("@", 1)[-1].strip("> ").lower()
        top.append("Authentication-Results: mx.rig.test; dmarc=%s header.from=%s"
                   % (a.auth, domain))
    top += getattr(a, "header", None) or []
    return b"".join(h.encode() + b"\r\n" for h in top) + msg.as_bytes(policy=SMTP)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["pdf", "png", "docx", "odt", "mail"])
    ap.add_argument("out")
    ap.add_argument("arg", nargs="?", default="")
    ap.add_argument("--from", dest="sender", default="bob@example.com")
    ap.add_argument("--subject", default="Print me")
    ap.add_argument("--attach", action="append", default=[])
    ap.add_argument("--nested", action="store_true")
    ap.add_argument("--related-logo")
    ap.add_argument("--to")
    ap.add_argument("--cc")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--auth")
    ap.add_argument("--message-id")
    ap.add_argument("--text")
    ap.add_argument("--html")
    ap.add_argument("--pad", type=int, default=0)
    a = ap.parse_args()
    if a.kind == "pdf":
        data = make_pdf(a.arg or "mail2cups test", os.urandom(a.pad))
    elif a.kind == "png":
        data = make_png(int(a.arg or "1"))
    elif a.kind == "docx":
        data = make_docx()
    elif a.kind == "odt":
        data = make_odt(a.arg or "application/vnd.oasis.opendocument.text")
    else:
        data = make_mail(a)
    with open(a.out, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
