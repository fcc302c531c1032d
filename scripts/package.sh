#!/bin/bash
# package.sh - builds the Debian packages (debian/) and checks them with
# lintian.  The source is copied to a private folder first, so the tree it
# runs from is never touched (an already configured tree would confuse
# dh_auto_configure).
#   scripts/package.sh [--outdir DIR] [--nocheck]
#     --outdir DIR  where the .deb, .buildinfo, .changes and lintian.txt go
#                   (default: ./deb-out)
#     --nocheck     skip the unit tests during the build (DEB_BUILD_OPTIONS)
# Exits 0 when the packages built and lintian reported no error; lintian's
# report is printed and kept in DIR/lintian.txt.  Needs dpkg-dev, debhelper,
# fakeroot, lintian and the build dependencies (scripts/install-deps.sh
# --package installs them).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
outdir=$PWD/deb-out
while [ $# -gt 0 ]; do
	case $1 in
	--outdir) outdir=$2; shift 2 ;;
	--nocheck) export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }nocheck"; shift ;;
	-h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 64 ;;
	esac
done
for t in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "package.sh: $t not found: run scripts/install-deps.sh --package" >&2
		exit 69
	}
done
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/m2c-pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$work/mail2cups-$version
mkdir "$src"

# The files of the source: git's list when this is a checkout (what is
# committed or added, plus new files not ignored), else everything but the
# products of a build.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$top" --exclude=.git --exclude=deb-out -cf - . | tar -C "$src" -xf -
	(cd "$src" && { [ ! -f Makefile ] || make -s distclean >/dev/null 2>&1 || true; })
fi

echo "package.sh: building mail2cups $version in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log" >&2
	echo "package.sh: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
changes=$(ls "$work"/mail2cups_"$version"_*.changes)
files=$(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]* [0-9]* [^ ]* [^ ]* //p' "$changes")
for f in $files $(basename "$changes"); do
	cp "$work/$f" "$outdir/"
done
echo "package.sh: built in $outdir:"
for f in $files; do
	case $f in *.deb) echo "  $f"; dpkg-deb -c "$outdir/$f" | sed 's/^/    /' ;; esac
done

# lintian: errors fail; warnings and below are reported (each one kept has
# an override with its reason in debian/*.lintian-overrides).
rc=0
lintian --display-info --fail-on error "$outdir/$(basename "$changes")" >"$outdir/lintian.txt" 2>&1 || rc=$?
echo "package.sh: lintian (exit $rc):"
sed 's/^/  /' "$outdir/lintian.txt"
[ -s "$outdir/lintian.txt" ] || echo "  (nothing to report)"
if [ $rc -ne 0 ]; then
	echo "package.sh: lintian reported errors" >&2
	exit 1
fi
