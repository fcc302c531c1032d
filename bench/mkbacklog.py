#!/usr/bin/env python3
"""mkbacklog.py - the backlog for bench/backlog.sh: N mails, each with one
distinct PDF of about SIZE bytes (a valid one-page PDF whose extra stream
holds incompressible bytes, as scanned documents do).

  mkbacklog.py DIR N [SIZE]    writes DIR/bNNNN.pdf and DIR/bNNNN.eml
"""
import os
import random
import sys
from email.message import EmailMessage
from email.utils import formatdate


def make_pdf(text, size, rng):
    stream = ("BT /F1 24 Tf 72 720 Td (%s) Tj ET" % text).encode()
    pad = rng.randbytes(max(0, size - 900))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(pad) + pad + b"\nendstream",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
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


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    d, n = sys.argv[1], int(sys.argv[2])
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 100 * 1024
    os.makedirs(d, exist_ok=True)
    for i in range(1, n + 1):
        name = "b%04d" % i
        pdf = make_pdf("backlog document %d" % i, size, random.Random(i))
        with open(os.path.join(d, name + ".pdf"), "wb") as f:
            f.write(pdf)
        m = EmailMessage()
        m["From"] = "Bench Sender <bench@example.com>"
        m["To"] = "print@example.com"
        m["Subject"] = "backlog %d" % i
        m["Date"] = formatdate(localtime=False)
        m["Message-ID"] = "<backlog-%d@bench.example.com>" % i
        m.set_content("Please print the attached document.\n")
        m.add_attachment(pdf, maintype="application", subtype="pdf",
                         filename=name + ".pdf")
        with open(os.path.join(d, name + ".eml"), "wb") as f:
            f.write(bytes(m))


if __name__ == "__main__":
    main()
