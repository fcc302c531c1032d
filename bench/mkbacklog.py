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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "rig"))
import mkmail  # noqa: E402  (the rig's PDF maker, with a pad stream)


def make_pdf(text, size, rng):
    return mkmail.make_pdf(text, rng.randbytes(max(0, size - 900)))


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
