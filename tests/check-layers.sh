#!/bin/bash
# check-layers.sh - the layer rule of src/lib/README, checked on every
# #include "..." of the project's C code:
#   - a file in src/lib/GROUP/ includes headers of its own group or of the
#     groups GROUP may use; a private header only from its own group;
#   - the programs (src/*.c, cups-backend/) include no private header;
#   - every header named exists in exactly one group (or beside the file);
#   - src/lib holds nothing outside a group folder but README.
# Usage: check-layers.sh [--quiet] [SRCDIR].  As a test (no --quiet) it
# prints TAP, one point per group and one for the programs; with --quiet
# (the build) it prints only the violations.  Exits non-zero on any.
set -u
quiet=0
[ "${1:-}" = --quiet ] && { quiet=1; shift; }
top=${1:-${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}}
lib=$top/src/lib
readme=$lib/README

[ -f "$readme" ] || { echo "check-layers: $readme is missing" >&2; exit 99; }

declare -A uses=() private_of=() group_of=()
groups=()
while read -r g may priv; do
	groups+=("$g")
	uses[$g]=",$g,${may//-/},"
	[ "$priv" = - ] || for h in ${priv//,/ }; do private_of[$h]=$g; done
done < <(sed -n '/^# group /,/^$/p' "$readme" | grep -v '^#' | grep -v '^$')

bad=0
# Every header belongs to one group.
for g in "${groups[@]}"; do
	[ -d "$lib/$g" ] || { echo "check-layers: group $g has no folder $lib/$g" >&2; bad=1; }
	for h in "$lib/$g"/*.h; do
		[ -e "$h" ] || continue
		n=${h##*/}
		if [ -n "${group_of[$n]:-}" ]; then
			echo "check-layers: $n is in both ${group_of[$n]} and $g" >&2
			bad=1
		fi
		group_of[$n]=$g
	done
done
for f in "$lib"/*; do
	n=${f##*/}
	[ "$n" = README ] && continue
	[ -d "$f" ] && [ -n "${uses[$n]:-}" ] && continue
	echo "check-layers: src/lib/$n is in no group of src/lib/README" >&2
	bad=1
done

# violations FILE GROUP: one line per include that breaks the rule
# (GROUP "" for a program: any public header).
violations() {
	local file=$1 g=$2 h hg dir
	dir=$(dirname "$file")
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file" |
	while read -r h; do
		case $h in m2c-config.h|m2c-paths.h) continue ;; esac	# made by configure/make
		hg=${group_of[$h]:-}
		if [ -z "$hg" ]; then
			[ -f "$dir/$h" ] && continue
			echo "${file#"$top"/}: includes \"$h\", which is in no group"
		elif [ -n "${private_of[$h]:-}" ] && [ "${private_of[$h]}" != "$g" ]; then
			echo "${file#"$top"/}: includes \"$h\", private to group ${private_of[$h]}"
		elif [ -n "$g" ] && [[ ${uses[$g]} != *",$hg,"* ]]; then
			echo "${file#"$top"/}: includes \"$h\" (group $hg), which group $g may not use"
		fi
	done
}

n=0
tap() {	# tap OK|NOT DESCRIPTION [DETAILS]
	n=$((n + 1))
	[ "$quiet" = 1 ] && { [ -n "${3:-}" ] && printf '%s\n' "$3" >&2; return; }
	if [ "$1" = OK ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; printf '%s\n' "$3" | sed 's/^/# /'; fi
}
[ "$quiet" = 1 ] || echo "1..$(( ${#groups[@]} + 1 ))"
for g in "${groups[@]}"; do
	out=$(for f in "$lib/$g"/*.[ch]; do [ -e "$f" ] && violations "$f" "$g"; done)
	if [ -z "$out" ]; then tap OK "group $g uses only: $(echo ${uses[$g]//,/ })"
	else tap NOT "group $g keeps to its layer" "$out"; bad=1; fi
done
out=$(for f in "$top"/src/*.c "$top"/cups-backend/*.[ch]; do [ -e "$f" ] && violations "$f" ""; done)
if [ -z "$out" ]; then tap OK "the programs include no private header"
else tap NOT "the programs include no private header" "$out"; bad=1; fi
[ "$bad" = 0 ] || { [ "$quiet" = 1 ] && echo "check-layers: src/lib/README's layer rule is broken (above)" >&2; }
exit "$bad"
