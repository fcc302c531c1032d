#!/usr/bin/env python3
"""compare.py - compare an imapserver.py transcript with an expected file.

    python3 compare.py EXPECTED TRANSCRIPT [-D NAME=VALUE]...

The transcript's tags are replaced by {tag}: in every client line that has
a space, the first word (letters, digits, dots) is the tag.  Each tag must
be new on its connection (RFC 3501 2.2.1: unique per command), or the
comparison fails.  In EXPECTED, {NAME} is replaced by the value of
-D NAME=VALUE ({tag} is left alone; {{ and }} are literal braces).  Then
the two must be equal, line for line; else a unified diff is printed and
the exit status is 1.
"""

import difflib
import re
import sys

TAGGED = re.compile(r"^([A-Za-z0-9.]+) (.*)$", re.S)
TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_*-]+)\}")


def normalize(lines):
	out, problems, seen = [], [], set()
	for n, line in enumerate(lines, 1):
		if line.startswith("=== connection "):
			seen = set()
			out.append(line)
			continue
		m = TAGGED.match(line)
		if m is None:
			out.append(line)
			continue
		if m.group(1) in seen:
			problems.append("transcript line %d: tag %s used twice on one connection" %
			    (n, m.group(1)))
		seen.add(m.group(1))
		out.append("{tag} " + m.group(2))
	return out, problems


def fill(lines, defs):
	def sub(m):
		if m.group(0) in ("{{", "}}"):
			return m.group(0)[0]
		name = m.group(1)
		if name == "tag":
			return "{tag}"
		if name not in defs:
			raise SystemExit("compare.py: {%s} in the expected file is not defined" % name)
		return defs[name]
	return [TOKEN.sub(sub, line) for line in lines]


def main(argv):
	defs, files = {}, []
	i = 0
	while i < len(argv):
		if argv[i] == "-D" and i + 1 < len(argv):
			name, _, value = argv[i + 1].partition("=")
			defs[name] = value
			i += 2
		else:
			files.append(argv[i])
			i += 1
	if len(files) != 2:
		raise SystemExit("usage: compare.py EXPECTED TRANSCRIPT [-D NAME=VALUE]...")
	with open(files[0], encoding="utf-8") as f:
		want = fill([l for l in f.read().splitlines() if not l.startswith("#")], defs)
	with open(files[1], encoding="utf-8") as f:
		got, problems = normalize(f.read().splitlines())
	for p in problems:
		print(p)
	if got == want and not problems:
		return 0
	for line in difflib.unified_diff(want, got, "expected", "transcript", lineterm=""):
		print(line)
	return 1


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
