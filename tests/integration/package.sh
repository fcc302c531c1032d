#!/bin/bash
# package.sh - the Debian package end to end, as an administrator meets it:
# scripts/package.sh builds its three packages (lintian: no error),
# `apt-get install ./*.deb` installs them, `mail2cups check` runs as the
# service user through the installed program against the rig, `mail2cups
# once` as root prints (it switches to mail2cups by itself), the installed
# backend answers lpinfo's call, dovecot-lda delivers with the installed
# plugin, and remove + purge leave nothing behind but what Debian policy
# keeps (the system user).
#
# It installs a package on this machine, so it runs only under CI=true or
# with M2C_TEST_PACKAGE=1 (else it is skipped), as root, and never when a
# mail2cups package is installed already.  A build takes minutes:
# DEB_BUILD_OPTIONS=nocheck (make check runs the unit tests anyway).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"

if [ "${CI:-}" != true ] && [ "${M2C_TEST_PACKAGE:-}" != 1 ]; then
	skip_all "installs a package on this machine: run with M2C_TEST_PACKAGE=1 (CI does)"
fi
rig_require_all
rig_require dpkg-buildpackage dh lintian fakeroot apt-get dpkg-deb runuser systemd-analyze
for p in mail2cups mail2cups-cups-backend dovecot-mail2cups; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		bail "the package $p is installed already: this test would replace it"
	fi
done
rig_init
deb_dir=$RIG_DIR/deb
installed=
# The three binary packages: the programs, the CUPS backend, the Dovecot plugin.
pkgs=(mail2cups mail2cups-cups-backend dovecot-mail2cups)
# known_pkgs: those of the three dpkg still knows (installed, or removed
# with their conffiles left); apt-get refuses to purge a name it cannot find.
known_pkgs() {
	local p
	for p in "${pkgs[@]}"; do
		dpkg-query -W "$p" >/dev/null 2>&1 && printf '%s\n' "$p"
	done
}
# purge_pkgs: apt-get purge of those dpkg still knows.
purge_pkgs() {
	local known
	mapfile -t known < <(known_pkgs)
	[ ${#known[@]} -eq 0 ] && return 0
	apt-get -o DPkg::Lock::Timeout=600 purge -y -q "${known[@]}"
}
# Whatever happens, the packages do not stay (then the rig stops).
pkg_cleanup() {
	[ -n "$installed" ] && purge_pkgs >/dev/null 2>&1
	installed=
	rig_stop_all
}
trap 'pkg_cleanup' EXIT
trap 'pkg_cleanup; exit 130' INT
trap 'pkg_cleanup; exit 143' TERM

# --- build and lintian
out=$(DEB_BUILD_OPTIONS="parallel=2" "$top_srcdir/scripts/package.sh" --nocheck --outdir "$deb_dir" 2>&1)
rc=$?
deb=$(ls "$deb_dir"/mail2cups_*.deb 2>/dev/null | head -1)
debs=()
for p in "${pkgs[@]}"; do
	debs+=("$(ls "$deb_dir/${p}_"*.deb 2>/dev/null | head -1)")
done
if [ $rc -eq 0 ] && [ -n "$deb" ] && [ -n "${debs[1]}" ] && [ -n "${debs[2]}" ]; then
	ok "scripts/package.sh builds the package and lintian reports no error"
	diag "$(grep -E '^(package.sh: lintian|  [EWI]: )' <<<"$out")"
else
	not_ok "scripts/package.sh builds the package and lintian reports no error" "$(tail -40 <<<"$out")"
	tap_done
fi
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/mail2cups ./usr/bin/mail2cups-oauth ./etc/mail2cups.conf \
	./usr/lib/sysusers.d/mail2cups.conf ./usr/lib/tmpfiles.d/mail2cups.conf \
	./usr/share/man/man8/mail2cups.8.gz ./usr/share/man/man5/mail2cups.conf.5.gz \
	./usr/share/man/man1/mail2cups-oauth.1.gz ./usr/share/doc/mail2cups/examples/plus-addresses.conf; do
	grep -q " $f\$" <<<"$contents" && ok "the package has $f" || not_ok "the package has $f"
done
like "$contents" " \./(usr/)?lib/systemd/system/mail2cups\.service" "the package has the systemd unit"
is "$(dpkg-deb -I "$deb" conffiles)" "/etc/mail2cups.conf" \
	"/etc/mail2cups.conf is its one conffile"

dpkg-deb -c "${debs[1]}" | grep -q ' \./usr/lib/cups/backend/mail2cups$' &&
	ok "mail2cups-cups-backend has the backend" || not_ok "mail2cups-cups-backend has the backend"
dpkg-deb -c "${debs[2]}" | grep -q ' \./usr/lib/dovecot/modules/lib20_mail2cups_plugin\.so$' &&
	ok "dovecot-mail2cups has the plugin" || not_ok "dovecot-mail2cups has the plugin"

# The folders the packages bring that were not here before must go again.
new_dirs=()
while read -r d; do
	d=${d#.}; d=${d%/}
	[ -n "$d" ] && [ ! -e "$d" ] && new_dirs+=("$d")
done < <(for f in "${debs[@]}"; do dpkg-deb -c "$f"; done | awk '$1 ~ /^d/ {print $6}' | sort -u)

# --- install (all three, as a site that takes everything would)
out=$(apt-get -o DPkg::Lock::Timeout=600 install -y -q "${debs[@]}" 2>&1)
rc=$?
installed=1
[ $rc -eq 0 ] && ok "apt-get install ./mail2cups_*.deb ./mail2cups-cups-backend_*.deb ./dovecot-mail2cups_*.deb" ||
	not_ok "apt-get install the three packages" "$(tail -20 <<<"$out")"
mapfile -t files < <(dpkg -L "${pkgs[@]}")
[ ${#files[@]} -gt 10 ] && ok "dpkg -L lists ${#files[@]} paths" || not_ok "dpkg -L lists the files" "${files[*]}"
like "$(getent passwd mail2cups)" '^mail2cups:x:[0-9]+:[0-9]+:.*:/var/lib/mail2cups:/usr/sbin/nologin$' \
	"the system user mail2cups exists (sysusers.d)"
is "$(stat -c '%U:%G %a' /var/lib/mail2cups 2>&1)" "mail2cups:mail2cups 700" "/var/lib/mail2cups is the service's, 0700 (tmpfiles.d)"
is "$(stat -c '%U:%G %a' /etc/mail2cups.conf 2>&1)" "root:mail2cups 640" "/etc/mail2cups.conf is root:mail2cups 0640"
out=$(systemd-analyze verify mail2cups.service 2>&1)
[ -z "$out" ] && ok "systemd-analyze verify mail2cups.service: no complaint" ||
	not_ok "systemd-analyze verify mail2cups.service: no complaint" "$out"
grep -qx 'ExecStart=/usr/bin/mail2cups -c /etc/mail2cups.conf run' /lib/systemd/system/mail2cups.service &&
	ok "the unit runs /usr/bin/mail2cups with /etc/mail2cups.conf" ||
	not_ok "the unit runs /usr/bin/mail2cups with /etc/mail2cups.conf" "$(grep Exec /lib/systemd/system/mail2cups.service)"
runuser -u mail2cups -- /usr/bin/mail2cups --help 2>&1 | grep -q '(default: /etc/mail2cups.conf for root' &&
	ok "mail2cups --help names /etc/mail2cups.conf" || not_ok "mail2cups --help names /etc/mail2cups.conf"
# The shipped configuration has no account yet: check says so, exit 78.
out=$(runuser -u mail2cups -- /usr/bin/mail2cups -c /etc/mail2cups.conf check 2>&1)
rc=$?
is "$rc" 78 "check on the shipped configuration: 78 (no account yet)"
like "$out" "accounts: missing" "... and says the accounts are missing"

# --- check and once against the rig, with the installed programs
rig_start_all
rig_deliver_pdf "$RIG_DIR/hello.pdf"
secrets=$RIG_DIR/secrets
mkdir -m 0711 "$secrets"
install -o mail2cups -g mail2cups -m 0600 "$RIG_DIR/$RIG_USER.pass" "$secrets/$RIG_USER.pass"
rig_write_conf "$RIG_DIR/pkg.conf" password_file="\"$secrets/$RIG_USER.pass\""
sed -i 's|^state_dir = .*|state_dir = "/var/lib/mail2cups";|' "$RIG_DIR/pkg.conf"
cat "$RIG_DIR/pkg.conf" >/etc/mail2cups.conf
out=$(runuser -u mail2cups -- /usr/bin/mail2cups -c /etc/mail2cups.conf check 2>&1)
rc=$?
is "$rc" 0 "runuser -u mail2cups -- mail2cups -c /etc/mail2cups.conf check: exit 0"
[ $rc -eq 0 ] || diag "$out"
like "$out" "test: IMAP \.+ ok" "... IMAP ok"
like "$out" "test: CUPS queue \.+ ok" "... CUPS queue ok"
out=$(timeout 60 /usr/bin/mail2cups -c /etc/mail2cups.conf once 2>&1)
rc=$?
is "$rc" 0 "mail2cups once as root (it switches to mail2cups): exit 0"
[ $rc -eq 0 ] || diag "$out"
expect_printed "... the attachment printed" "$RIG_DIR/hello.pdf"
is "$(stat -c %U /var/lib/mail2cups/state.db 2>&1)" mail2cups "... its state database belongs to mail2cups"

# The backend: root's alone (0700: CUPS runs it as root, backend(7)), and
# run without arguments, as lpinfo -v does, it answers and exits 0.
is "$(stat -c '%U %a' /usr/lib/cups/backend/mail2cups 2>&1)" "root 700" \
	"the installed backend is root's, 0700"
out=$(MAIL2CUPS_CONF=/etc/mail2cups.conf timeout 30 /usr/lib/cups/backend/mail2cups 2>&1)
is "$?" 0 "the installed backend's discovery (lpinfo -v) exits 0" "$out"
# The plugin: dovecot-lda loads the installed one from Dovecot's module
# folder and delivers; with no daemon listening it logs the one line that
# says so (plugin-settings.sh has the cases).
RIG_PLUGIN_SO=/usr/lib/dovecot/modules/lib20_mail2cups_plugin.so
{ cat "$RIG_DOVECONF"; rig_plugin_dovecot_conf "  mail2cups_socket = $RIG_DIR/none.sock
  mail2cups_mailbox = INBOX"; } >"$RIG_DIR/plugin.conf"
rig_mkmail mail "$RIG_DIR/m.eml" --subject "through the installed plugin" || bail "mkmail.py failed"
before=$(rig_dovecot_log_count 'mail2cups: cannot wake')
rig_lda "$RIG_USER" "$RIG_DIR/m.eml" "$RIG_DIR/plugin.conf"
is "$RIG_LDA_RC" 0 "dovecot-lda with the installed plugin delivers" "$RIG_LDA_ERR"
is "$(( $(rig_dovecot_log_count 'mail2cups: cannot wake') - before ))" 1 \
	"... and the plugin ran (it logged that no daemon listens)" "$RIG_LDA_ERR"

# --- remove, then purge
out=$(apt-get -o DPkg::Lock::Timeout=600 remove -y -q "${pkgs[@]}" 2>&1)
[ $? -eq 0 ] && ok "apt-get remove ${pkgs[*]}" || not_ok "apt-get remove ${pkgs[*]}" "$(tail -20 <<<"$out")"
[ ! -e /usr/bin/mail2cups ] && [ ! -e /usr/lib/cups/backend/mail2cups ] &&
	[ ! -e "$RIG_PLUGIN_SO" ] && [ -e /etc/mail2cups.conf ] &&
	ok "removed: the programs, backend and plugin are gone, the edited conffile stays" ||
	not_ok "removed: the programs, backend and plugin are gone, the edited conffile stays"
out=$(purge_pkgs 2>&1)
[ $? -eq 0 ] && ok "apt-get purge (what dpkg still knows of the three)" ||
	not_ok "apt-get purge (what dpkg still knows of the three)" "$(tail -20 <<<"$out")"
installed=
left=()
for f in "${files[@]}"; do
	[ -d "$f" ] && continue
	[ -e "$f" ] || [ -L "$f" ] && left+=("$f")
done
for d in "${new_dirs[@]}"; do
	[ -e "$d" ] && left+=("$d/")
done
[ -e /var/lib/mail2cups ] && left+=(/var/lib/mail2cups)
[ -e /etc/mail2cups.conf ] && left+=(/etc/mail2cups.conf)
compgen -G '/etc/systemd/system/*/mail2cups.service' >/dev/null && left+=(/etc/systemd/system/*/mail2cups.service)
is "${left[*]}" "" "purged: nothing of the package is left"
is "$(known_pkgs | paste -sd ' ')" "" "dpkg has forgotten the three packages"
getent passwd mail2cups >/dev/null && ok "the system user stays (Debian policy: system users are not removed)" ||
	not_ok "the system user stays"
tap_done
