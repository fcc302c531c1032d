#!/bin/bash
# status-waiting.sh - an OAuth (device flow) account without tokens whose
# token store holds a pending device sign-in: status shows the code, the
# URL and the time left (exit 1), before and after a pass; an expired code
# says so and says to run mail2cups-oauth login (still exit 1); without a
# pending code the pass is an error (exit 2) that says to sign in.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
read -r IDP_PORT <<<"$(rig_free_ports 1)"	# nothing listens: nothing may ask
rig_write_conf "$RIG_CONF" auth='"xoauth2"' password_file= \
	oauth="{ provider = \"microsoft\"; tenant = \"contoso.onmicrosoft.com\"; client_id = \"aaaaaaaa-0000-0000-0000-000000000001\"; flow = \"device\"; authority = \"http://127.0.0.1:$IDP_PORT\"; }"

# seed_pending SECONDS_LEFT: a token file with only a pending device code.
seed_pending() {
	mkdir -p -m 0700 "$RIG_STATE/tokens"
	python3 - "$RIG_STATE/tokens/test.json" "$1" <<'PY'
import json, os, sys, time
path, left = sys.argv[1], int(sys.argv[2])
now = int(time.time())
doc = {"version": 1, "account": "test", "saved_at": now,
       "pending": {"device_code": "device-code-secret", "user_code": "ABCD-EFGH",
                   "verification_uri": "https://microsoft.com/devicelogin",
                   "expires_at": now + left, "interval": 5}}
fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps(doc).encode())
os.close(fd)
os.rename(path + ".new", path)
PY
	rig_svc_own_state
}

# 1. No tokens, no pending code: the pass fails and says to sign in.
rig_run once
expect_rc 77 "no tokens: once exits 77"
rig_run status
expect_rc 2 "no pending code: status exits 2"
like "$RIG_OUT" "^test: error since .*sign-in required" "the error says sign-in is required"
like "$RIG_OUT" "mail2cups-oauth -c $RIG_CONF login test" "and names the command, with the config"

# 2. A pending device code: waiting-to-sign-in, with the code and the URL.
seed_pending 900
rig_run status
expect_rc 1 "pending code, before a pass: status exits 1"
like "$RIG_OUT" "^test: waiting-to-sign-in \(open https://microsoft\.com/devicelogin and enter ABCD-EFGH.*15 min left" \
	"the code, the URL and the time left"
rig_run once
expect_rc 77 "once still exits 77 (nobody signed in yet)"
rig_run status
expect_rc 1 "pending code, after a pass: status exits 1"
like "$RIG_OUT" "^test: waiting-to-sign-in \(open https://microsoft\.com/devicelogin and enter ABCD-EFGH.*(15|14) min left" \
	"still the code and the URL"
if [[ $RIG_OUT == *device-code-secret* ]]; then not_ok "the device code is not shown"; else ok "the device code is not shown"; fi

rig_run status --json
expect_rc 1 "--json: exits 1"
is "$(printf '%s' "$RIG_OUT" | python3 -c 'import json, sys, time
a = json.load(sys.stdin)["accounts"][0]
s = a["sign_in"]
print(a["status"], s["user_code"], s["verification_uri"], s["expired"],
      800 < s["expires_at"] - time.time() <= 900)')" \
	"waiting-to-sign-in ABCD-EFGH https://microsoft.com/devicelogin False True" "--json: sign_in object"

# 3. The code expired: said so, with the command that starts again.
seed_pending -120
rig_run status
expect_rc 1 "expired code: status exits 1"
like "$RIG_OUT" "^test: waiting-to-sign-in \(the sign-in code ABCD-EFGH expired 2 min ago\)" "says the code expired"
like "$RIG_OUT" $'\n    fix: [^\n]*mail2cups-oauth -c '"$RIG_CONF"' login test' "says to run mail2cups-oauth login"
tap_done
