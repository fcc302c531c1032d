#!/usr/bin/env python3
"""Regenerate the MIME test messages in this folder (see README).

Writes tiny but valid PDF, PNG, JPEG and GIF files, an ELF header, a .docx, an .odt
and a .zip, and the .eml messages that carry them.  Deterministic: running
it again gives the same bytes.  Usage: python3 gen-mime-data.py [DIR]
"""
import base64
import binascii
import io
import os
import struct
import sys
import zipfile
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def pdf(pad=0):
    # pad: bytes of comment after the header (a big PDF that is still whole).
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>"]
    out = bytearray(b"%PDF-1.4\n")
    if pad:
        out += b"%" * pad + b"\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offs:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def png():
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", binascii.crc32(kind + data) & 0xffffffff))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg():
    # 1x1 grey baseline JPEG: one-code Huffman tables, DC 0 and EOB.
    dht = lambda cls: b"\xff\xc4\x00\x14" + bytes([cls]) + b"\x01" + b"\x00" * 15 + b"\x00"
    return (b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" +
            b"\xff\xdb\x00\x43\x00" + b"\x01" * 64 +
            b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00" + dht(0x00) + dht(0x10) +
            b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x3f" + b"\xff\xd9")


def gif():
    return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff" +
            b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")


def elf():
    ident = b"\x7fELF\x02\x01\x01" + b"\x00" * 9
    hdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 0x3e, 1, 0x401000, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 128, 128, 0x1000)
    return hdr + phdr


def zipped(entries):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return bio.getvalue()


def docx():
    ct = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
          b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
          b'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    doc = (b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
           b'wordprocessingml/2006/main"><w:body><w:p/></w:body></w:document>')
    rels = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"/>')
    return zipped([("[Content_Types].xml", ct), ("_rels/.rels", rels), ("word/document.xml", doc)])


def odt():
    # The ODF package rule: "mimetype" first, stored, no extra field; that is
    # what libmagic looks for.
    manifest = (b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                b'"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                b'<manifest:file-entry manifest:full-path="/" manifest:media-type='
                b'"application/vnd.oasis.opendocument.text"/></manifest:manifest>')
    content = (b'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
               b'"urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.2">'
               b'<office:body><office:text/></office:body></office:document-content>')
    return zipped([("mimetype", b"application/vnd.oasis.opendocument.text"),
                   ("content.xml", content), ("META-INF/manifest.xml", manifest)])


def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\n"


def leaf(ctype, data, name=None, disp="attachment", extra="", enc="base64", cparams=""):
    h = "Content-Type: %s%s\n" % (ctype, cparams)
    if disp:
        h += "Content-Disposition: %s%s\n" % (disp, '; filename="%s"' % name if name else "")
    h += extra
    if enc == "base64":
        return h + "Content-Transfer-Encoding: base64\n\n" + b64(data)
    return h + "Content-Transfer-Encoding: %s\n\n%s" % (enc, data)


TEXT = leaf("text/plain; charset=utf-8", "Please print.\n", disp=None, enc="7bit")


def multi(sub, parts, b):
    out = "Content-Type: multipart/%s; boundary=\"%s\"\n\n" % (sub, b)
    for p in parts:
        out += "--%s\n%s\n" % (b, p)
    return out + "--%s--\n" % b


def msg(body, subject="Test", frm="Alice Example <Alice@Example.COM>", mid="<t1@example.com>"):
    h = ""
    if frm:
        h += "From: %s\n" % frm
    h += "To: print@example.org\nSubject: %s\nMessage-ID: %s\nMIME-Version: 1.0\n" % (subject, mid)
    return h + body


def trace(extra, body, subject="Test"):
    """A message with extra header lines above the usual ones."""
    return extra + msg(body, subject=subject)


def write(name, text, binary=False):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(text if binary else text.encode("utf-8"))


def main():
    P, G = pdf(), png()
    write("tiny.pdf", P, True)
    write("tiny.png", G, True)
    write("simple-pdf.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P, "report.pdf")], "b1"),
                                subject="Monthly report", mid="<abc@example.com>"))
    write("pdf-png.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P, "a.pdf"),
                                             leaf("image/png", G, "b.png", disp="inline")], "b1")))
    html = leaf("text/html; charset=utf-8", "<p><img src=\"cid:logo1\"></p>\n", disp=None, enc="7bit")
    logo = leaf("image/png", G, "logo.png", disp="inline", extra="Content-ID: <logo1>\n")
    inner_mixed = multi("mixed", [html, leaf("application/pdf", P, "inner.pdf")], "b4")
    alt = multi("alternative", [TEXT, inner_mixed], "b3")
    related = multi("related", [alt, logo], "b2")
    write("nested.eml", msg(multi("mixed", [related, leaf("image/gif", gif(), "photo.gif")], "b1")))
    write("rfc2231.eml", msg(multi("mixed", [TEXT,
        "Content-Type: application/pdf\nContent-Disposition: attachment;\n"
        " filename*=UTF-8''Pr%C3%BCfung%20%E2%82%AC.pdf\nContent-Transfer-Encoding: base64\n\n" + b64(P)], "b1")))
    write("rfc2047.eml", msg(multi("mixed", [TEXT,
        leaf("application/pdf", P, "=?utf-8?B?%s?=" % base64.b64encode("Grüße.pdf".encode()).decode())], "b1"),
        subject="=?iso-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?="))
    write("qp-text.eml", msg(multi("mixed", [TEXT,
        leaf("text/plain; charset=utf-8", "caf=C3=A9 au lait, a soft=\n break, =3D sign\n",
             "notes.txt", enc="quoted-printable")], "b1")))
    related2 = multi("related", [html, logo, leaf("image/png", G, "sig.png", disp="inline")], "b2")
    # A related whose root (named by start=) is plain text: a named image without
    # a Content-ID there is an attachment.
    plain_root = leaf("text/plain", "see the scan\n", disp=None, enc="7bit", extra="Content-ID: <root1>\n")
    related3 = multi("related", [html, plain_root, leaf("image/gif", gif(), "scan.gif", disp="inline")],
                     "b3").replace("multipart/related;", 'multipart/related; start="<root1>";', 1)
    write("related-logo.eml", msg(multi("mixed", [related2,
        leaf("image/jpeg", jpeg(), "photo.jpg", disp="inline"), related3], "b1")))
    inner1 = "From: Bob <bob@example.net>\nSubject: inner\nMIME-Version: 1.0\n" + \
        multi("mixed", [TEXT, leaf("application/pdf", P, "inner.pdf")], "c1")
    inner2 = "From: Carol <carol@example.net>\nSubject: bare\nMIME-Version: 1.0\n" + \
        leaf("application/pdf", P, "bare.pdf")
    write("rfc822.eml", msg(multi("mixed", [TEXT,
        "Content-Type: message/rfc822\nContent-Disposition: attachment\n\n" + inner1,
        "Content-Type: message/rfc822\n\n" + inner2], "b1")))
    write("octet-pdf.eml", msg(multi("mixed", [TEXT,
        leaf("application/octet-stream", P, "scan.bin")], "b1")))
    write("elf-as-pdf.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", elf(), "report.pdf")], "b1")))
    write("office.eml", msg(multi("mixed", [TEXT,
        leaf("application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx(), "report.docx"),
        leaf("application/zip", zipped([("a.txt", b"hello\n")]), "x.zip"),
        leaf("text/html", b"<html><body>hi</body></html>\n", "page.html"),
        leaf("application/pdf", b"", "empty.pdf")], "b1")))
    write("hostile.eml", msg(multi("mixed", [TEXT,
        leaf("application/pdf", P, "../../x.pdf"),
        leaf("application/pdf", P, "..\\\\..\\\\evil.pdf"),
        "Content-Type: application/pdf\nContent-Disposition: attachment;\n"
        " filename*=UTF-8''bad%01na%1Bme%E2%80%AEfdp.pdf\nContent-Transfer-Encoding: base64\n\n" + b64(P),
        leaf("application/pdf", P, ".."),
        leaf("application/pdf", P, None),
        "Content-Type: application/pdf\nContent-Disposition: attachment;\n"
        " filename*=UTF-8''" + "%E2%82%AC" * 100 + ".pdf\nContent-Transfer-Encoding: base64\n\n" + b64(P)],
        "b1"),
        subject="bad\x07 subject"))
    write("big.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", pdf(20000), "big.pdf")], "b1")))
    deep = leaf("application/pdf", P, "deep.pdf")
    for i in range(12):
        deep = multi("mixed", [deep], "d%d" % i)
    write("deep.eml", msg(deep))
    write("many.eml", msg(multi("mixed", [TEXT] * 40, "b1")))
    # Parse bombs: cheap to send, costly for a MIME tree in memory.
    write("empty-parts.eml", msg('Content-Type: multipart/mixed; boundary="x"\n\n' + "--x\n\n" * 1500 + "--x--\n"))
    write("many-headers.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P, "a.pdf",
        extra="X-Pad: 1\n" * 1500)], "b1")))
    write("long-header.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P, "a.pdf")], "b1"),
        subject="Test\nCc: " + ",\n ".join("user%05d@example.com" % i for i in range(3000))))
    write("big-headers.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P, "a.pdf",
        extra="".join("X-Big-%d: %s\n" % (i, "y" * 10000) for i in range(30)))], "b1")))
    dashes = leaf("text/plain; charset=utf-8", "-- a line of a table\n" * 200, "table.txt", enc="8bit")
    write("dash-text.eml", msg(multi("mixed", [TEXT, dashes], "b1")))
    write("no-from.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P, "a.pdf")], "b1"), frm=None))
    # Damaged in transit: base64 cut mid-quantum, and a PDF cut short but cleanly encoded.
    write("cut-quantum.eml", msg("Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\n" + TEXT +
        "--b1\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"report.pdf\"\n"
        "Content-Transfer-Encoding: base64\n\n" + b64(P)[:150] + "\n"))
    write("half-pdf.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P[:len(P) // 2], "report.pdf")], "b1")))
    # Sender trust step 1: one From address (mail2cups.conf(5)).
    write("two-from.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P, "a.pdf")], "b1"),
        frm="ann@example.com, Bob <bob@example.com>"))
    write("two-from-lines.eml", msg(multi("mixed", [TEXT, leaf("application/pdf", P, "a.pdf")], "b1"),
        frm="ann@example.com\nFrom: bob@example.com"))
    write("truncated.eml", msg("Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\n" + TEXT +
        "--b1\nContent-Type: application/pdf; name=\"cut.pdf\"\nContent-Transfer-Encoding: base64\n\n" +
        b64(P)[:150] + "!!**bad base64**\n"))
    # Issue 5: headers for sender trust, routing and replies.
    write("headers.eml", trace(
        "Return-Path: <>\n"
        "Delivered-To: Print+Floor2@Example.ORG\n"
        "Authentication-Results: mx.example.org;\n"
        "\tdkim=pass header.d=example.com;\n"
        "\tdmarc=pass header.from=example.com\n"
        "X-MS-Exchange-Organization-AuthAs:   Internal  \n"
        "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n"
        "Authentication-Results: forged.example; dmarc=pass\n"
        "X-MS-Exchange-Organization-AuthAs: Anonymous\n"
        "X-Original-To: print@example.org\n"
        "Cc: Bob <BOB@example.net>, Team: carol@example.net, print@example.org;\n"
        "References: <a@example.com>\n <b@example.com>\n"
        "Auto-Submitted: auto-generated\n"
        "List-Id: Printing <print.lists.example.org>\n",
        multi("mixed", [TEXT, leaf("application/pdf", P, "a.pdf")], "b1")))
    write("precedence.eml", trace(
        "Return-Path: <Bounce@Example.COM>\nAuto-Submitted: No\nPrecedence: bulk\n",
        TEXT))
    write("plain-headers.eml", trace("Auto-Submitted: no\nPrecedence: first-class\n", TEXT))
    # Conversion is decided by the sniffed type, never the declared one.
    O = odt()
    write("tiny.odt", O, True)
    write("odt.eml", msg(multi("mixed", [TEXT,
        leaf("application/octet-stream", O, "letter.odt"),
        leaf("application/vnd.oasis.opendocument.text", elf(), "fake.odt"),
        leaf("application/vnd.oasis.opendocument.text", O, "second.odt")], "b1")))
    # Bodies for body printing.
    qp = leaf("text/plain; charset=iso-8859-1", "Gr=FC=DFe aus K=F6ln,=\nbitte drucken.\n\n-- \nAlice\n",
              disp=None, enc="quoted-printable")
    write("body-qp.eml", msg(multi("mixed", [qp, leaf("application/pdf", P, "a.pdf")], "b1")))
    html_body = ("<html><head><title>Newsletter</title><style>p {color: red}</style></head>\n"
                 "<body><p>Hello&nbsp;Bob,</p><img src=\"http://track.example.com/pixel.gif\" alt=\"pixel\">\n"
                 "<p><img src=\"cid:logo1\" alt=\"logo\"> Your <b>invoice</b> is attached &euro; 10.</p>\n"
                 "<ul><li>one</li><li>two</li></ul></body></html>\n")
    hpart = leaf("text/html; charset=utf-8", html_body, disp=None, enc="8bit")
    write("body-html.eml", msg(multi("mixed", [multi("related", [hpart, logo], "b2"),
        leaf("application/pdf", P, "invoice.pdf")], "b1")))
    plain_alt = leaf("text/plain; charset=utf-8", "Plain version.\n", disp=None, enc="7bit")
    html_alt = leaf("text/html; charset=utf-8", "<p>HTML version.</p>\n", disp=None, enc="7bit")
    write("body-alt.eml", msg(multi("alternative", [html_alt, plain_alt], "b1")))
    write("body-big.eml", msg(leaf("text/plain; charset=utf-8", "All work and no play.\n" * 300,
                                   disp=None, enc="7bit")))
    write("body-charset.eml", msg(leaf("text/plain; charset=x-no-such-charset", "Qapla'\n",
                                       disp=None, enc="7bit")))
    write("body-blank.eml", msg(multi("mixed", [leaf("text/plain", " \n\t\n", disp=None, enc="7bit"),
        leaf("application/pdf", P, "a.pdf")], "b1")))
    write("body-blank-html.eml", msg(multi("alternative", [
        leaf("text/plain", "\n", disp=None, enc="7bit"),
        leaf("text/html", "<p>&nbsp;</p><img src=\"cid:x\">", disp=None, enc="7bit")], "b1")))
    write("many-trace.eml", trace(
        "Authentication-Results: x; " + "a" * 10000 + "\n" +
        "".join("Authentication-Results: mx%d.example.org; spf=pass\nReceived: by r%d.example.org; Mon\n" % (i, i) for i in range(80)) +
        "Delivered-To: " + ", ".join("user%d@example.org" % i for i in range(150)) + "\n",
        TEXT))
    rnd, x = bytearray(), 12345
    for _ in range(3000):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        rnd.append((x >> 16) & 0xff)
    write("garbage.eml", bytes(rnd), True)


if __name__ == "__main__":
    main()
