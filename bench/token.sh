#!/bin/bash
# bench/token.sh - how long `mail2cups-oauth token` takes with a valid cached
# token (no request to the identity provider), and proof that it opens no
# network socket.  Prints figures; asserts nothing.
#   bench/token.sh [RUNS]        (after make; uses ./mail2cups-oauth)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
prog=${MAIL2CUPS_OAUTH:-$top/mail2cups-oauth}
runs=${1:-200}
dir=$(mktemp -d /tmp/m2c-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -m 700 "$dir/state" "$dir/state/tokens"
now=$(date +%s)
printf '{"version": 1, "account": "office", "saved_at": %d, "access_token": "bench-access-token-0123456789", "refresh_token": "bench-refresh-token-0123456789", "identity": "print@contoso.com", "expires_at": %d}\n' \
	"$now" $((now + 3600)) > "$dir/state/tokens/office.json"
chmod 600 "$dir/state/tokens/office.json"
cat > "$dir/m.conf" <<CONF
state_dir = "$dir/state";
accounts = ( { name = "office"; username = "print@contoso.com"; printer = "q";
  oauth = { provider = "microsoft"; tenant = "contoso.onmicrosoft.com";
            client_id = "00000000-0000-0000-0000-000000000001";
            authority = "http://127.0.0.1:9"; }; } );
CONF
cmd="$prog -c $dir/m.conf token office"
[ "$($cmd)" = bench-access-token-0123456789 ] || { echo "token did not print the cached token" >&2; exit 1; }
if command -v strace >/dev/null; then
	n=$(strace -f -e trace=socket,connect $cmd 2>&1 >/dev/null | grep -cE '^(\[pid +[0-9]+\] )?(socket|connect)\(' || true)
	echo "network sockets opened: $n"
fi
if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 5 -r "$runs" "$cmd"
else
	start=$(date +%s%N)
	for _ in $(seq "$runs"); do $cmd >/dev/null; done
	end=$(date +%s%N)
	echo "mean: $(( (end - start) / runs / 1000 )) us over $runs runs"
fi
