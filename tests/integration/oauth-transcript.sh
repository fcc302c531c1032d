#!/bin/bash
# oauth-transcript.sh - what Dovecot cannot show, from a scripted IMAP
# server that answers like Microsoft 365: "* BYE ... AccessTokenExpired"
# after AUTHENTICATE (one refresh, one retry, then it works); "NO
# AUTHENTICATE failed." to a token believed valid (one refresh, one retry,
# then exit 77 with a readable reason); "BAD User is authenticated but not
# connected" to SELECT (exit 77, explained: wrong user or missing mailbox
# permission).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_require_oauth
rig_require_program
rig_init
rig_start_idp
rig_start_cups
rig_start_printer
rig_add_queue "$RIG_QUEUE"
d=$RIG_DIR

# start_imap SCRIPT...: a scripted server on RIG_IMAP_PORT (plain IMAP on
# loopback); SCRIPT is the answer to the Nth AUTHENTICATE: ok, bye, no,
# or notconn (authenticate ok, SELECT answers BAD ... not connected).  Each
# initial response is logged, decoded, to $d/imap.log.
start_imap() {
	: >"$d/imap.log"
	python3 - "$RIG_IMAP_PORT" "$d/imap.log" "$@" <<'PY' &
import base64, socket, sys, threading
port, log, script = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
n = [0]
lock = threading.Lock()
CAPS = "IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR"
def serve(c):
    try:
        talk(c)
    except OSError:
        pass
    finally:
        c.close()
def talk(c):
    f = c.makefile("rwb", buffering=0)
    def say(s):
        f.write((s + "\r\n").encode())
    say("* OK [CAPABILITY %s] Microsoft Exchange-like IMAP4 service ready" % CAPS)
    mode = None
    while True:
        line = f.readline()
        if not line:
            return
        parts = line.decode(errors="replace").rstrip("\r\n").split(" ")
        tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else "")
        if cmd == "CAPABILITY":
            say("* CAPABILITY " + CAPS + (" MOVE UIDPLUS" if mode else ""))
            say(tag + " OK CAPABILITY completed.")
        elif cmd == "AUTHENTICATE":
            ir = parts[3] if len(parts) > 3 else ""
            with lock:
                i = n[0]
                n[0] += 1
            act = script[i] if i < len(script) else "ok"
            with open(log, "a") as lf:
                lf.write("%d %s %s\n" % (i + 1, act, base64.b64decode(ir).decode(errors="replace").replace("\x01", "^A")))
            if act == "bye":
                say("* BYE Session invalidated - AccessTokenExpired")
                return
            if act == "no":
                say(tag + " NO AUTHENTICATE failed.")
                continue
            mode = act
            say(tag + " OK AUTHENTICATE completed.")
        elif cmd in ("SELECT", "EXAMINE"):
            if mode == "notconn":
                say(tag + " BAD User is authenticated but not connected.")
                continue
            say("* 0 EXISTS")
            say("* 0 RECENT")
            say("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
            say("* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)] ok")
            say("* OK [UIDVALIDITY 14] UIDVALIDITY value")
            say("* OK [UIDNEXT 1] The next unique identifier value")
            say(tag + " OK [READ-WRITE] SELECT completed.")
        elif cmd == "UID" and len(parts) > 2 and parts[2].upper() == "SEARCH":
            say("* SEARCH")
            say(tag + " OK SEARCH completed.")
        elif cmd == "LOGOUT":
            say("* BYE Microsoft Exchange Server IMAP4 server signing off.")
            say(tag + " OK LOGOUT completed.")
            return
        else:
            say(tag + " OK " + cmd + " completed.")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	IMAP_PID=$!
	RIG_PIDS+=("$IMAP_PID")
	rig_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$RIG_IMAP_PORT" ||
		bail "the scripted IMAP server did not start"
}
stop_imap() {
	rig_kill_pid "$IMAP_PID"
}
refreshes() {
	rig_idp_stat grant_types.refresh_token
}
tok() {	# the token sent in AUTHENTICATE number N
	sed -n "s/^$1 [a-z]* .*auth=Bearer \([^^]*\).*/\1/p" "$d/imap.log"
}

rig_write_oauth_conf "$RIG_CONF" port="$RIG_IMAP_PORT" security='"none"' ca_file=
rig_device_login
expect_rc 0 "login exits 0"
at0=$(rig_token_field access_token)

# --- BYE AccessTokenExpired: one refresh, one retry ---------------------
start_imap bye ok
r0=$(refreshes)
rig_run once
expect_rc 0 "after BYE AccessTokenExpired, once refreshes and succeeds"
is "$(( $(refreshes) - r0 ))" 1 "exactly one refresh"
is "$(wc -l <"$d/imap.log")" 2 "exactly two AUTHENTICATE commands"
is "$(tok 1)" "$at0" "the first try sent the cached token"
at1=$(rig_token_field access_token)
[ -n "$(tok 2)" ] && [ "$(tok 2)" = "$at1" ] && [ "$at1" != "$at0" ] &&
	ok "the retry sent the refreshed (stored) token" ||
	not_ok "the retry sent the refreshed (stored) token" "$(cat "$d/imap.log")"
stop_imap

# --- NO AUTHENTICATE failed. twice: one refresh, then give up -----------
start_imap no no no
r0=$(refreshes)
rig_run once
expect_rc 77 "NO AUTHENTICATE failed. to both tries exits 77"
is "$(( $(refreshes) - r0 ))" 1 "exactly one refresh"
is "$(wc -l <"$d/imap.log")" 2 "exactly two AUTHENTICATE commands (no loop)"
expect_stderr "AUTHENTICATE failed" "the message quotes the server"
expect_stderr "mail2cups-oauth login office|sign in" "the message says what to do"
stop_imap

# --- BAD User is authenticated but not connected -----------------------
start_imap notconn notconn
r0=$(refreshes)
rig_run once
expect_rc 77 "\"User is authenticated but not connected\" exits 77"
expect_stderr "User is authenticated but not connected" "the message quotes the server"
expect_stderr "alice@contoso\.com" "the message names the user to sign in as"
expect_stderr "Add-MailboxPermission|login_user" "the message explains the shared-mailbox fix"
is "$(wc -l <"$d/imap.log")/$(( $(refreshes) - r0 ))" 1/0 \
	"one AUTHENTICATE, no refresh (a new token would not help)"
stop_imap
tap_done
