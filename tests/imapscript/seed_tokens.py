#!/usr/bin/env python3
"""seed_tokens.py - write an account's token file for a transcript test.

    python3 seed_tokens.py --state-dir DIR --account NAME --identity USER
        (--access-token TOKEN [--refresh-token TOKEN] |
         --idp URL --tenant TENANT --client-id ID)

Writes DIR/tokens/NAME.json (version 1, the format of
src/lib/oauth/tokenstore.h), 0600 in a 0700 folder, with expires_at a day
ahead, so that the program under test sends that access token without
asking an identity provider.

With --idp, the tokens come from the fake identity provider
(tests/idp/fake_idp.py): a device authorization for USER, approved through
its test endpoint and redeemed, so the refresh token is one the fake
knows.  The access token is printed on stdout either way.
"""

import argparse
import json
import os
import time
import urllib.parse
import urllib.request

SCOPE = ("https://outlook.office.com/IMAP.AccessAsUser.All offline_access "
    "openid profile email")


def post(url, form=None, js=None):
	if js is not None:
		data = json.dumps(js).encode()
		headers = {"Content-Type": "application/json"}
	else:
		data = urllib.parse.urlencode(form).encode()
		headers = {"Content-Type": "application/x-www-form-urlencoded"}
	req = urllib.request.Request(url, data=data, headers=headers, method="POST")
	with urllib.request.urlopen(req, timeout=10) as r:
		return json.load(r)


def from_idp(o):
	base = "%s/%s/oauth2/v2.0" % (o.idp.rstrip("/"), o.tenant)
	dev = post(base + "/devicecode", {"client_id": o.client_id, "scope": SCOPE})
	post(o.idp.rstrip("/") + "/test/approve",
	    js={"user_code": dev["user_code"], "user": o.identity})
	tok = post(base + "/token", {
		"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
		"client_id": o.client_id, "device_code": dev["device_code"]})
	post(o.idp.rstrip("/") + "/test/reset-stats", js={})
	return tok["access_token"], tok["refresh_token"]


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--state-dir", required=True)
	ap.add_argument("--account", required=True)
	ap.add_argument("--identity", required=True)
	ap.add_argument("--access-token")
	ap.add_argument("--refresh-token")
	ap.add_argument("--idp")
	ap.add_argument("--tenant")
	ap.add_argument("--client-id")
	o = ap.parse_args()

	if o.idp:
		access, refresh = from_idp(o)
	elif o.access_token:
		access, refresh = o.access_token, o.refresh_token
	else:
		ap.error("give --access-token or --idp")
	now = int(time.time())
	doc = {"version": 1, "account": o.account, "saved_at": now,
	    "access_token": access, "scope": SCOPE, "identity": o.identity,
	    "expires_at": now + 86400}
	if refresh:
		doc["refresh_token"] = refresh
	d = os.path.join(o.state_dir, "tokens")
	os.makedirs(d, mode=0o700, exist_ok=True)
	os.chmod(d, 0o700)
	path = os.path.join(d, o.account + ".json")
	fd = os.open(path + ".seed", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
	with os.fdopen(fd, "w") as f:
		json.dump(doc, f)
	os.rename(path + ".seed", path)
	print(access)


if __name__ == "__main__":
	main()
