#!/bin/bash
# readme-service.sh - README's "From source" service recipe, word for word:
# the lines between its service-recipe markers are read from README.md (so
# this test breaks when the README changes) and each is run against a
# temporary root where systemd is not running: configure and make in a copy
# of the source, `make install DESTDIR=ROOT`, `systemd-sysusers --root`,
# `systemd-tmpfiles --root`, chgrp with ROOT's group, `systemd-analyze
# verify` of ROOT's unit, `systemctl --root enable`, and "start": the unit's
# ExecStart run as its User= (setpriv with ROOT's uid) against the rig, where
# it prints a mail.  A README line this test does not know fails it.
# Needs root; builds the programs once more (a few minutes).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require_all
rig_require systemd-sysusers systemd-tmpfiles systemd-analyze systemctl setpriv make
rig_init
R=$RIG_DIR/root			# the temporary root
S=$RIG_DIR/src			# a copy of the source (README: run in the source tree)
mkdir -p "$R" "$S"
if git -C "$top_srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top_srcdir" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -C "$S" -xf -
else
	tar -C "$top_srcdir" -cf - . | tar -C "$S" -xf -
fi
[ -x "$S/configure" ] || (cd "$S" && autoreconf -fi >/dev/null 2>&1) || bail "autoreconf failed in the copy"

mapfile -t recipe < <(sed -n '/<!-- service-recipe/,/<!-- end of service-recipe/p' "$top_srcdir/README.md" |
	sed -n 's/^    \(.*\)$/\1/p' | sed 's/[[:space:]]\{2,\}#.*$//')
[ ${#recipe[@]} -ge 5 ] || bail "README.md has no service recipe between its markers"

# step DESC CMD...: runs CMD in the copy of the source, output in the rig log.
step() {
	local desc=$1 out
	shift
	if out=$(cd "$S" && "$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "ran: $*" "$(tail -20 <<<"$out")"
	fi
	rig_log "$*: $out"
}
root_id() {	# root_id passwd|group NAME: the id in ROOT's database
	awk -F: -v n="$2" '$1 == n {print $3}' "$R/etc/$1"
}

for line in "${recipe[@]}"; do
	read -ra w <<<"$line"
	case $line in
	"./configure "*)
		step "README: $line" "${w[@]}" ;;
	make)
		step "README: make" make -j2 ;;
	"make install")
		step "README: make install (DESTDIR=ROOT)" make install DESTDIR="$R" ;;
	"systemd-sysusers "*)
		step "README: $line (--root=ROOT)" systemd-sysusers --root="$R" "${w[@]:1}"
		like "$(grep '^mail2cups:' "$R/etc/passwd")" '^mail2cups:x:[0-9]+:[0-9]+:' "... the user mail2cups exists in ROOT" ;;
	"systemd-tmpfiles "*)
		step "README: $line (--root=ROOT)" systemd-tmpfiles --root="$R" "${w[@]:1}"
		is "$(stat -c '%u %a' "$R/var/lib/mail2cups" 2>&1)" "$(root_id passwd mail2cups) 700" \
			"... /var/lib/mail2cups is the user's, 0700" ;;
	"chgrp mail2cups /etc/"*)
		step "README: $line (ROOT's group)" chgrp "$(root_id group mail2cups)" "$R${w[2]}"
		is "$(stat -c '%u:%g %a' "$R${w[2]}")" "0:$(root_id group mail2cups) 640" "... ${w[2]} is root:mail2cups 0640" ;;
	"systemd-analyze verify "*)
		# ROOT has no systemd of its own (--root would miss sysinit.target,
		# /bin/kill): verify ROOT's unit here, with ExecStart's program
		# at its place in ROOT and man finding ROOT's pages.
		mkdir -p "$RIG_DIR/verify"
		sed "s|^ExecStart=/|ExecStart=$R/|" "$R/usr/local/lib/systemd/system/${w[2]}" >"$RIG_DIR/verify/${w[2]}"
		out=$(MANPATH=$R/usr/local/share/man systemd-analyze verify "$RIG_DIR/verify/${w[2]}" 2>&1)
		[ -z "$out" ] && ok "README: $line (ROOT's unit): no complaint" ||
			not_ok "README: $line (ROOT's unit): no complaint" "$out" ;;
	"systemctl daemon-reload")
		ok "README: $line: nothing to do, systemd is not running here" ;;
	"systemctl enable --now mail2cups")
		step "README: systemctl enable (--root=ROOT)" systemctl --root="$R" enable mail2cups
		compgen -G "$R/etc/systemd/system/multi-user.target.wants/mail2cups.service" >/dev/null &&
			ok "... enabled in ROOT" || not_ok "... enabled in ROOT"
		start_unit=1 ;;
	*)
		not_ok "README line this test knows how to run: $line" ;;
	esac
done
unit=$(ls "$R"/usr/local/lib/systemd/system/mail2cups.service 2>/dev/null)
[ -n "$unit" ] && ok "the unit is under the prefix (PREFIX/lib/systemd/system)" ||
	not_ok "the unit is under the prefix" "$(cd "$R" && find . -name 'mail2cups.service')"
extra=$(cd "$R" && find . -type f | grep -vE '^\./(usr/local/|etc/mail2cups\.conf$|etc/(passwd|group|shadow|gshadow)-?$|etc/\.pwd\.lock$|etc/systemd/system/)' || true)
is "$extra" "" "make install and the recipe wrote nothing else outside the prefix"
[ -n "${start_unit:-}" ] || not_ok "README starts the service"

# "start": ExecStart as User=, against the rig, until a mail prints.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
is "$exec_start" "/usr/local/bin/mail2cups -c /etc/mail2cups.conf run" "ExecStart reads /etc/mail2cups.conf"
uid=$(root_id passwd "$user") gid=$(root_id group "$user")
read -ra cmd <<<"$exec_start"
cmd=("$R${cmd[0]}" "${cmd[1]}" "$R${cmd[2]}" "${cmd[@]:3}")
# The shipped configuration has no account: the service stops, 78.
out=$(setpriv --reuid="$uid" --regid="$gid" --clear-groups timeout 30 "${cmd[@]}" 2>&1)
is "$?" 78 "ExecStart as $user with the installed configuration: 78 (no account yet), no restart"
rig_start_all
rig_deliver_pdf "$RIG_DIR/hello.pdf"
install -o "$uid" -g "$gid" -m 0600 "$RIG_DIR/$RIG_USER.pass" "$RIG_DIR/svc.pass"
rig_write_conf "$R/etc/mail2cups.conf" password_file="\"$RIG_DIR/svc.pass\""
sed -i "s|^state_dir = .*|state_dir = \"$R/var/lib/mail2cups\";|" "$R/etc/mail2cups.conf"
setpriv --reuid="$uid" --regid="$gid" --clear-groups "${cmd[@]}" >"$RIG_DIR/svc.log" 2>&1 &
svc=$!
RIG_PIDS+=("$svc")
printed_one() { [ "$(rig_printed_count)" -ge 1 ]; }
if rig_wait_for 60 printed_one; then
	ok "ExecStart as $user ($uid) runs the daemon, which prints the mail"
else
	not_ok "ExecStart as $user ($uid) runs the daemon, which prints the mail" "$(cat "$RIG_DIR/svc.log")"
fi
expect_printed "... the attachment, byte for byte" "$RIG_DIR/hello.pdf"
is "$(stat -c %u "$R/var/lib/mail2cups/state.db" 2>&1)" "$uid" "... its state database is the service user's"
kill -TERM "$svc"
wait "$svc"
is "$?" 0 "... and SIGTERM stops it with 0"
tap_done
