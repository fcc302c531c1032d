#!/bin/bash
# install-deps.sh - installs on Debian 12, non-interactively, what mail2cups
# needs:
#   scripts/install-deps.sh          everything the tests need (CI, scripts/test.sh):
#                                    the build, the rig, the OAuth test providers
#                                    (Node.js, npm, `npm ci` of tests/idp/oidc) and
#                                    the Debian packaging tools (tests/integration/package.sh)
#   scripts/install-deps.sh --demo   only what building the programs and the demo
#                                    rig need (scripts/demo.sh): no Node.js, no npm
# Idempotent: when everything is installed already it does nothing.  `make
# check` itself never downloads anything.
# On a real Debian the packages may start system cupsd/dovecot: those that
# were not running before are stopped and disabled again afterwards (the
# tests start private instances of their own).
set -euo pipefail

mode=tests
case "${1:-}" in
"") ;;
--demo) mode=demo ;;
-h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) echo "install-deps.sh: unknown argument $1 (--demo, or none)" >&2; exit 64 ;;
esac

# Building the programs, and the rig the demo runs them against.
PKGS=(
	build-essential autoconf automake libtool pkg-config
	libcurl4-openssl-dev libssl-dev libconfig-dev libcups2-dev
	libgmime-3.0-dev libjansson-dev libsqlite3-dev libqrencode-dev libsystemd-dev
	libmagic-dev file
	cups cups-client cups-ipp-utils dbus
	dovecot-core dovecot-imapd
	python3 openssl procps
	bubblewrap
)
if [ "$mode" = tests ]; then
	# The test rig's other servers and tools, and the Debian packaging
	# tools (scripts/package.sh, tests/integration/package.sh; man-db for
	# systemd-analyze verify, which looks up every Documentation= page).
	PKGS+=(
		autoconf-archive cups-bsd dovecot-lmtpd dovecot-dev
		python3-cryptography curl
		dpkg-dev debhelper fakeroot lintian systemd man-db
	)
	# The OAuth interop tests run oidc-provider (tests/idp/oidc) on Node 18+.
	# A Node from elsewhere (nodesource) may already be here: only then is
	# Debian's nodejs left out, and npm is only added when there is none (its
	# package conflicts with nodesource's nodejs, which brings its own npm).
	command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
	command -v npm >/dev/null 2>&1 || PKGS+=(npm)
fi
SERVICES=(cups cups-browsed dovecot)

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-deps.sh: run as root (or install sudo)" >&2
		exit 1
	}
	SUDO=sudo
fi
command -v apt-get >/dev/null 2>&1 || {
	echo "install-deps.sh: apt-get not found; install by hand: ${PKGS[*]}" >&2
	exit 1
}

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# node_modules of the OIDC test server (tests/idp/oidc), from its lock file
# (the tests only; make check never runs npm).
oidc_modules() {
	local here
	[ "$mode" = tests ] || return 0
	here=$(cd "$(dirname "$0")/../tests/idp/oidc" 2>/dev/null && pwd) || return 0
	[ -f "$here/package-lock.json" ] || return 0
	local pinned have
	pinned=$(sed -n 's/.*"oidc-provider": *"\([^"]*\)".*/\1/p' "$here/package.json" | head -1)
	have=$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' \
		"$here/node_modules/oidc-provider/package.json" 2>/dev/null | head -1) || true
	[ -n "$have" ] && [ "$have" = "$pinned" ] && return 0
	echo "install-deps.sh: npm ci in $here"
	(cd "$here" && npm ci --no-audit --no-fund)
}

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps.sh: all ${#PKGS[@]} packages for the $mode are installed"
	oidc_modules
	exit 0
fi

have_systemd() {
	command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]
}

# service_active NAME: 0 when the system service runs now.
service_active() {
	if have_systemd; then
		systemctl is-active --quiet "$1" 2>/dev/null
	elif command -v service >/dev/null 2>&1; then
		service "$1" status >/dev/null 2>&1
	else
		return 1
	fi
}

service_stop_disable() {
	echo "install-deps.sh: stopping and disabling the $1 service the install started"
	if have_systemd; then
		$SUDO systemctl disable --now "$1" >/dev/null 2>&1 || true
	else
		if command -v invoke-rc.d >/dev/null 2>&1; then
			$SUDO invoke-rc.d "$1" stop >/dev/null 2>&1 || true
		elif command -v service >/dev/null 2>&1; then
			$SUDO service "$1" stop >/dev/null 2>&1 || true
		fi
		command -v update-rc.d >/dev/null 2>&1 &&
			$SUDO update-rc.d "$1" disable >/dev/null 2>&1 || true
	fi
}

declare -A was_active=()
for s in "${SERVICES[@]}"; do
	service_active "$s" && was_active[$s]=1
done

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

for s in "${SERVICES[@]}"; do
	[ -n "${was_active[$s]:-}" ] && continue
	service_active "$s" && service_stop_disable "$s"
done
oidc_modules
exit 0
