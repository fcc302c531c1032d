#!/usr/bin/env python3
"""Fake Microsoft identity platform (v2.0 endpoints) for mail2cups tests.

Listens on 127.0.0.1 only.  Standard library only, plus python3-cryptography
to verify client assertion signatures (RS256 / PS256).  See README.md.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
	from cryptography import x509
	from cryptography.exceptions import InvalidSignature
	from cryptography.hazmat.primitives import hashes, serialization
	from cryptography.hazmat.primitives.asymmetric import padding
except ImportError:  # only client assertions need it
	x509 = None

MAX_BODY = 64 * 1024
LOGIN_HOST = "https://login.microsoftonline.com"
GT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
GT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
KNOWN_RESOURCES = (
	"https://outlook.office.com", "https://outlook.office365.com",
	"https://graph.microsoft.com", "https://outlook.office365.us",
	"https://partner.outlook.cn",
)
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
SIGNING_KEY = secrets.token_bytes(32)   # dummy HMAC "signature" on issued JWTs

# code -> (error, http status, text, suberror).  Texts follow Microsoft's
# wording where it could be found; {placeholders} come from the request.
ERRORS = {
	28000: ("invalid_scope", 400, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid.", None),
	50011: ("invalid_request", 400, "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", None),
	50012: ("invalid_client", 401, "Client assertion audience claim does not match Realm issuer.", None),
	50027: ("invalid_request", 400, "JWT token is invalid or malformed.", None),
	50034: ("invalid_grant", 400, "The user account {user} does not exist in the {tenant} directory. To sign into this application, the account must be added to the directory.", None),
	50076: ("invalid_grant", 400, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{resource}'.", "basic_action"),
	50079: ("invalid_grant", 400, "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '{resource}'.", "basic_action"),
	50173: ("invalid_grant", 400, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{issued}' and the TokensValidFrom date (before which tokens are not valid) for this user is '{now}'.", "bad_token"),
	50194: ("invalid_request", 400, "Application '{client_id}'({app_name}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", None),
	53003: ("invalid_grant", 400, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", None),
	54005: ("invalid_grant", 400, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.", None),
	65001: ("invalid_grant", 400, "The user or administrator has not consented to use the application with ID '{client_id}' named '{app_name}'. Send an interactive authorization request for this user and resource.", "consent_required"),
	65004: ("authorization_declined", 400, "User declined to consent to access the app.", None),
	70000: ("invalid_grant", 400, "Provided grant is invalid or malformed.", None),
	70008: ("invalid_grant", 400, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.", None),
	70016: ("authorization_pending", 400, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.", None),
	70018: ("bad_verification_code", 400, "Invalid verification code. The provided value for the input parameter 'device_code' is not valid.", None),
	70020: ("expired_token", 400, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.", None),
	70043: ("invalid_grant", 400, "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on {issued} and the maximum allowed lifetime for this request is 3600.", "bad_token"),
	90002: ("invalid_request", 400, "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", None),
	900144: ("invalid_request", 400, "The request body must contain the following parameter: '{param}'.", None),
	500011: ("invalid_resource", 400, "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", None),
	500112: ("invalid_grant", 400, "The reply address '{redirect_uri}' does not match the reply address provided when requesting Authorization code.", None),
	501481: ("invalid_grant", 400, "The Code_Verifier does not match the code_challenge supplied in the authorization request.", None),
	700016: ("unauthorized_client", 400, "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", None),
	700021: ("invalid_client", 401, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.", None),
	700024: ("invalid_client", 401, "Client assertion is not within its valid time range. Current time: {now}, expiry time of assertion {exp}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.", None),
	700027: ("invalid_client", 401, "{reason}", None),
	700082: ("invalid_grant", 400, "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for 90.00:00:00.", "bad_token"),
	1002012: ("invalid_scope", 400, "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", None),
	7000215: ("invalid_client", 401, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'.", None),
	7000218: ("invalid_client", 401, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", None),
	7000222: ("invalid_client", 401, "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", None),
	9002313: ("invalid_request", 400, "Invalid request. Request is malformed or invalid.", None),
}


class IdpError(Exception):
	"""A Microsoft-shaped error: code from ERRORS plus template values."""

	def __init__(self, code, error=None, **params):
		super().__init__(code)
		self.code = code
		self.error = error
		self.params = params


class SafeDict(dict):
	def __missing__(self, key):
		return "{" + key + "}"


def ms_time(t=None):
	return datetime.datetime.fromtimestamp(t if t is not None else time.time(),
		datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def iso_time(t):
	return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
		"%Y-%m-%dT%H:%M:%S.0000000Z")


def b64u(data):
	return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
	s = s.encode() if isinstance(s, str) else s
	return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def make_jwt(claims, kid="fake-idp"):
	header = {"typ": "JWT", "alg": "HS256", "kid": kid}
	signing_input = b64u(json.dumps(header, separators=(",", ":")).encode()) + \
		"." + b64u(json.dumps(claims, separators=(",", ":")).encode())
	sig = hmac.new(SIGNING_KEY, signing_input.encode(), hashlib.sha256).digest()
	return signing_input + "." + b64u(sig)


def error_body(code, params, correlation_id=None, error=None):
	err, status, text, suberror = ERRORS[code]
	if error:
		err = error
	now = ms_time()
	trace_id = str(uuid.uuid4())
	corr = correlation_id or str(uuid.uuid4())
	values = SafeDict(now=now)
	values.update({k: v for k, v in params.items() if v is not None})
	text = text.format_map(values)
	body = {
		"error": err,
		"error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s"
			% (code, text, trace_id, corr, now),
		"error_codes": [code],
		"timestamp": now,
		"trace_id": trace_id,
		"correlation_id": corr,
		"error_uri": LOGIN_HOST + "/error?code=%d" % code,
	}
	if suberror:
		body["suberror"] = suberror
	return status, body


class State:
	"""Everything the fake knows; one lock guards it all."""

	def __init__(self, config):
		self.lock = threading.Lock()
		self.config = config
		self.issuer_base = config.get("issuer_base", LOGIN_HOST).rstrip("/")
		self.at_lifetime = int(config.get("access_token_lifetime", 3599))
		self.dc_lifetime = int(config.get("device_code_lifetime", 900))
		self.interval = int(config.get("interval", 5))
		self.poll_tolerance = float(config.get("poll_tolerance", 0.2))
		self.rotate_invalidates_old = bool(config.get("rotate_invalidates_old", True))
		self.tenants = {}            # tenant id -> tenant dict (with "domain")
		self.tenant_alias = {}       # domain or id (lowercase) -> tenant id
		for domain, t in config.get("tenants", {}).items():
			tid = t.get("id") or str(uuid.uuid5(uuid.NAMESPACE_DNS, domain))
			t = dict(t, id=tid, domain=domain)
			t.setdefault("apps", {})
			t["users"] = {u.lower(): dict(v or {}, upn=(v or {}).get("upn", u))
				for u, v in t.get("users", {}).items()}
			self.tenants[tid] = t
			self.tenant_alias[domain.lower()] = tid
			self.tenant_alias[tid.lower()] = tid
		self.device = {}     # device_code -> record
		self.codes = {}      # authorization code -> record
		self.refresh = {}    # refresh token -> record
		self.access = {}     # access token -> record (for introspection)
		self.failures = []   # injected failures
		self.delays = {}     # endpoint -> seconds
		self.next_user = None
		self.reset_stats()

	def reset_stats(self):
		self.stats = {"endpoints": {}, "grant_types": {}, "errors": {}}

	def count(self, kind, key):
		d = self.stats[kind]
		d[str(key)] = d.get(str(key), 0) + 1

	def take_failure(self, endpoint, grant_type):
		for f in self.failures:
			if f["endpoint"] != endpoint:
				continue
			if f.get("grant_type") and f["grant_type"] != grant_type:
				continue
			f["count"] -= 1
			if f["count"] <= 0:
				self.failures.remove(f)
			return f["code"]
		return None


class Handler(BaseHTTPRequestHandler):
	server_version = "fake-idp/1"
	protocol_version = "HTTP/1.1"

	# ---- plumbing -------------------------------------------------------

	@property
	def st(self):
		return self.server.state

	body_pending = False

	def log_message(self, fmt, *args):
		pass  # log_line() logs instead: path only, never a query or a body

	def log_line(self, status, extra=""):
		path = urllib.parse.urlsplit(self.path).path
		sys.stderr.write("fake-idp: %s %s -> %d%s\n" % (self.command, path, status,
			(" " + extra) if extra else ""))
		sys.stderr.flush()

	def send(self, status, body, ctype="application/json; charset=utf-8", headers=None, extra=""):
		if isinstance(body, (dict, list)):
			data = json.dumps(body).encode()
		else:
			data = body.encode() if isinstance(body, str) else body
		self.send_response(status)
		if self.body_pending:
			self.send_header("Connection", "close")
			self.close_connection = True
		self.send_header("Content-Type", ctype)
		self.send_header("Content-Length", str(len(data)))
		self.send_header("Cache-Control", "no-store, no-cache")
		self.send_header("Pragma", "no-cache")
		self.send_header("x-ms-request-id", str(uuid.uuid4()))
		for k, v in (headers or {}).items():
			self.send_header(k, v)
		self.end_headers()
		if self.command != "HEAD":
			self.wfile.write(data)
		self.log_line(status, extra)

	def send_error_code(self, e, extra=""):
		corr = self.headers.get("client-request-id")
		status, body = error_body(e.code, e.params, corr, e.error)
		with self.st.lock:
			self.st.count("errors", e.code)
		self.send(status, body, extra=(extra + " AADSTS%d" % e.code).strip())

	def read_body(self):
		n = int(self.headers.get("Content-Length") or 0)
		if n < 0 or n > MAX_BODY:
			raise ValueError("request body larger than %d bytes" % MAX_BODY)
		self.body_pending = False
		return self.rfile.read(n) if n else b""

	def read_form(self):
		raw = self.read_body().decode("utf-8", "replace")
		form = {}
		for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True):
			form.setdefault(k, v)
		return form

	def read_json(self):
		raw = self.read_body()
		return json.loads(raw) if raw.strip() else {}

	def base_url(self):
		return "http://%s:%d" % self.server.server_address[:2]

	# ---- routing --------------------------------------------------------

	def do_GET(self):
		self.dispatch("GET")

	def do_POST(self):
		self.dispatch("POST")

	def dispatch(self, method):
		self.body_pending = bool(self.headers.get("Content-Length", "0").strip("0 "))
		url = urllib.parse.urlsplit(self.path)
		parts = [p for p in url.path.split("/") if p]
		try:
			if parts and parts[0] == "test":
				return self.test_endpoint(method, parts[1:] and parts[1] or "")
			if parts == ["introspect"]:
				return self.introspect(method, url)
			if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"]:
				ep = parts[3]
				if ep == "devicecode" and method == "POST":
					return self.devicecode(parts[0])
				if ep == "token" and method == "POST":
					return self.token(parts[0])
				if ep == "authorize" and method == "GET":
					return self.authorize(parts[0], url)
			if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
				return self.discovery(parts[0])
			self.send(404, {"error": "not_found", "path": url.path})
		except IdpError as e:
			self.send_error_code(e)
		except (ValueError, json.JSONDecodeError) as e:
			self.send(400, {"error": "invalid_request", "error_description": str(e)})
		except Exception as e:  # a bug or a bad config: say so, keep serving
			sys.stderr.write("fake-idp: internal error: %r\n" % (e,))
			self.send(500, {"error": "server_error", "error_description": "fake IdP: %r" % (e,)})

	# ---- tenants, apps, clients ----------------------------------------

	def resolve(self, tenant, client_id):
		"""Return (tenant dict, app dict); raise the error Microsoft would."""
		st = self.st
		if not client_id:
			raise IdpError(900144, param="client_id")
		t = tenant.lower()
		if t in ("common", "organizations", "consumers"):
			for td in st.tenants.values():
				app = td["apps"].get(client_id)
				if app is not None:
					if not app.get("multi_tenant", False):
						raise IdpError(50194, client_id=client_id,
							app_name=app.get("name", "app"))
					return td, app
			raise IdpError(700016, client_id=client_id, tenant=tenant)
		tid = st.tenant_alias.get(t)
		if tid is None:
			raise IdpError(90002, tenant=tenant)
		td = st.tenants[tid]
		app = td["apps"].get(client_id)
		if app is None:
			raise IdpError(700016, client_id=client_id, tenant=tid)
		return td, app

	def token_url(self, tenant):
		return "%s/%s/oauth2/v2.0/token" % (self.base_url(), tenant)

	def authenticate_client(self, tenant, td, app, form, required):
		"""Check client_secret or client_assertion.  Returns the
		appidacr value: "0" none, "1" secret, "2" certificate."""
		cid = form.get("client_id")
		if form.get("client_assertion") or form.get("client_assertion_type"):
			self.verify_assertion(tenant, td, app, form)
			return "2"
		if "client_secret" in form:
			if app.get("secret") is None or not hmac.compare_digest(
					form["client_secret"].encode(), str(app["secret"]).encode()):
				raise IdpError(7000215, client_id=cid)
			if app.get("secret_expired"):
				raise IdpError(7000222, client_id=cid)
			return "1"
		if required or not app.get("public_client", False):
			raise IdpError(7000218)
		return "0"

	def verify_assertion(self, tenant, td, app, form):
		cid = form.get("client_id")
		if form.get("client_assertion_type") != ASSERTION_TYPE:
			raise IdpError(900144, param="client_assertion_type")
		jwt = form.get("client_assertion", "")
		try:
			h64, p64, s64 = jwt.split(".")
			header = json.loads(b64u_decode(h64))
			claims = json.loads(b64u_decode(p64))
			sig = b64u_decode(s64)
		except (ValueError, json.JSONDecodeError):
			raise IdpError(50027)
		if not isinstance(header, dict) or not isinstance(claims, dict):
			raise IdpError(50027)
		alg = header.get("alg")
		if alg == "PS256" and header.get("x5t#S256"):
			thumb, which = header["x5t#S256"], "sha256"
		elif alg in ("RS256", "PS256") and header.get("x5t"):
			thumb, which = header["x5t"], "sha1"
		else:
			raise IdpError(50027)
		if x509 is None:
			raise IdpError(50027)
		cert = None
		for path in app.get("certificates", []):
			with open(path, "rb") as f:
				c = x509.load_pem_x509_certificate(f.read())
			der = c.public_bytes(serialization.Encoding.DER)
			h = hashlib.sha256(der) if which == "sha256" else hashlib.sha1(der)
			if b64u(h.digest()) == thumb:
				cert = c
				break
		try:
			thumb_hex = b64u_decode(thumb).hex().upper()
		except ValueError:
			thumb_hex = thumb
		if cert is None:
			raise IdpError(700027, reason="The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]" % (thumb_hex, cid))
		pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
			salt_length=padding.PSS.DIGEST_LENGTH) if alg == "PS256" else padding.PKCS1v15()
		try:
			cert.public_key().verify(sig, (h64 + "." + p64).encode(), pad, hashes.SHA256())
		except (InvalidSignature, ValueError, TypeError):
			start = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before
			end = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after
			raise IdpError(700027, reason="Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s']" % (thumb_hex, start.strftime("%m/%d/%Y %H:%M:%S"), end.strftime("%m/%d/%Y %H:%M:%S")))
		if claims.get("iss") != cid or claims.get("sub") != cid:
			raise IdpError(700021)
		now = time.time()
		exp = claims.get("exp")
		if not isinstance(exp, (int, float)) or exp < now or \
				(isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] > now + 300):
			raise IdpError(700024, exp=iso_time(exp) if isinstance(exp, (int, float)) else "none",
				now=iso_time(now))
		if not claims.get("jti"):
			raise IdpError(50027)
		auds = claims.get("aud")
		auds = auds if isinstance(auds, list) else [auds]
		ok = {self.token_url(tenant), self.token_url(td["id"]), self.token_url(td["domain"]),
			"%s/%s/oauth2/v2.0/token" % (LOGIN_HOST, td["id"])}
		if not any(a in ok for a in auds):
			raise IdpError(50012)

	# ---- scopes and tokens ---------------------------------------------

	@staticmethod
	def split_scope(scope):
		scopes = scope.split()
		oidc = [s for s in scopes if s in OIDC_SCOPES]
		res = [s for s in scopes if s not in OIDC_SCOPES]
		resource, names = None, []
		for s in res:
			if "://" in s:
				r, _, name = s.rpartition("/")
			else:
				r, name = "https://graph.microsoft.com", s
			if resource is None:
				resource = r
			elif r != resource:
				raise IdpError(28000, scope=scope)
			names.append(name)
		if resource is None:
			resource = "https://graph.microsoft.com"
			names = ["User.Read"]
		return oidc, resource, names

	def check_resource(self, td, resource):
		known = td.get("resources", KNOWN_RESOURCES)
		if resource not in known:
			raise IdpError(500011, resource=resource, tenant=td["id"])

	def user_record(self, td, name):
		u = td["users"].get((name or "").lower())
		if u is None:
			raise ValueError("unknown user %r" % name)
		return u

	def user_oid(self, td, u):
		return u.get("oid") or str(uuid.uuid5(uuid.NAMESPACE_URL, td["id"] + "/" + u["upn"].lower()))

	def issue_user_tokens(self, td, app, client_id, user, scope, appidacr):
		"""Tokens for a user; caller holds the lock.  Returns the JSON body."""
		st = self.st
		oidc, resource, names = self.split_scope(scope)
		self.check_resource(td, resource)
		if not app.get("consented", True):
			raise IdpError(65001, client_id=client_id, app_name=app.get("name", "app"))
		u = self.user_record(td, user)
		forced = u.get("fail_code") or (50076 if u.get("mfa") else None)
		if forced:
			raise IdpError(int(forced), client_id=client_id, app_name=app.get("name", "app"),
				resource=resource, tenant=td["id"], scope=scope,
				issued=iso_time(time.time() - 3600))
		now = int(time.time())
		oid = self.user_oid(td, u)
		tid = td["id"]
		name = u.get("name") or u["upn"].split("@")[0].capitalize()
		at_claims = {
			"aud": resource, "iss": "https://sts.windows.net/%s/" % tid,
			"iat": now, "nbf": now, "exp": now + st.at_lifetime,
			"acr": "1", "amr": ["pwd"], "app_displayname": app.get("name", "app"),
			"appid": client_id, "appidacr": appidacr, "idtyp": "user",
			"name": name, "oid": oid, "scp": " ".join(names), "sub": b64u(hashlib.sha256(
				(oid + client_id).encode()).digest()[:32]),
			"tid": tid, "unique_name": u["upn"], "upn": u["upn"],
			"uti": b64u(secrets.token_bytes(16)), "ver": "1.0",
		}
		at = make_jwt(at_claims)
		st.access[at] = {"user": u["upn"], "scope": " ".join(names), "exp": now + st.at_lifetime,
			"client_id": client_id, "aud": resource, "sub": at_claims["sub"], "tid": tid}
		body = {
			"token_type": "Bearer",
			"scope": " ".join(("%s/%s" % (resource, n)) for n in names),
			"expires_in": st.at_lifetime,
			"ext_expires_in": st.at_lifetime,
			"access_token": at,
		}
		if "offline_access" in oidc:
			rt = "1.AQ" + b64u(secrets.token_bytes(48))
			st.refresh[rt] = {"user": u["upn"], "tid": tid, "client_id": client_id,
				"scope": scope, "issued": now, "state": "active"}
			body["refresh_token"] = rt
		if "openid" in oidc:
			id_claims = {
				"aud": client_id, "iss": "%s/%s/v2.0" % (st.issuer_base, tid),
				"iat": now, "nbf": now, "exp": now + 3600,
				"name": name, "oid": oid, "preferred_username": u["upn"],
				"sub": at_claims["sub"], "tid": tid,
				"uti": b64u(secrets.token_bytes(16)), "ver": "2.0",
			}
			if "email" in oidc and u.get("email", u["upn"]):
				id_claims["email"] = u.get("email", u["upn"])
			body["id_token"] = make_jwt(id_claims)
		return body

	def issue_app_token(self, td, app, client_id, scope, appidacr):
		st = self.st
		resource = scope[:-len("/.default")]
		self.check_resource(td, resource)
		if not app.get("consented", True):
			raise IdpError(65001, client_id=client_id, app_name=app.get("name", "app"))
		now = int(time.time())
		sp_oid = app.get("sp_oid") or str(uuid.uuid5(uuid.NAMESPACE_URL, "sp/" + client_id))
		roles = app.get("roles", ["IMAP.AccessAsApp"])
		claims = {
			"aud": resource, "iss": "https://sts.windows.net/%s/" % td["id"],
			"iat": now, "nbf": now, "exp": now + st.at_lifetime,
			"app_displayname": app.get("name", "app"), "appid": client_id,
			"appidacr": appidacr, "idtyp": "app", "oid": sp_oid, "roles": roles,
			"sub": sp_oid, "tid": td["id"], "uti": b64u(secrets.token_bytes(16)),
			"ver": "1.0",
		}
		at = make_jwt(claims)
		st.access[at] = {"user": app.get("app_only_username"), "scope": " ".join(roles),
			"exp": now + st.at_lifetime, "client_id": client_id, "aud": resource,
			"sub": sp_oid, "tid": td["id"]}
		return {"token_type": "Bearer", "expires_in": st.at_lifetime,
			"ext_expires_in": st.at_lifetime, "access_token": at}

	# ---- /devicecode -----------------------------------------------------

	def devicecode(self, tenant):
		form = self.read_form()
		st = self.st
		with st.lock:
			st.count("endpoints", "devicecode")
			code = st.take_failure("devicecode", None)
			delay = st.delays.get("devicecode", 0)
		if delay:
			time.sleep(delay)
		cid = form.get("client_id")
		if code:
			raise IdpError(code, client_id=cid, tenant=tenant, app_name="app",
				resource=form.get("scope", ""), scope=form.get("scope", ""),
				issued=iso_time(time.time()), reason="Injected by the test.")
		td, app = self.resolve(tenant, cid)
		if not form.get("scope"):
			raise IdpError(900144, param="scope")
		self.split_scope(form["scope"])
		user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(9))
		device_code = "DAQABAAEAAA" + b64u(secrets.token_bytes(96))
		now = time.time()
		with st.lock:
			st.device[device_code] = {"user_code": user_code, "client_id": cid,
				"tid": td["id"], "scope": form["scope"], "expires": now + st.dc_lifetime,
				"interval": st.interval, "last_poll": None, "state": "pending",
				"user": None}
		uri = "https://microsoft.com/devicelogin"
		shown_code = user_code
		message = "To sign in, use a web browser to open the page %s and enter the code %s to authenticate." % (uri, user_code)
		if getattr(st, "hostile_device", False):
			# A hostile provider: terminal escapes (clear screen, a hidden
			# OSC 8 link, CSI as a C1 control, a bell) in what is shown.
			shown_code = user_code + "\x1b[8m"
			uri = uri + "\x1b]8;;https://evil.example/\x07"
			message = "\x1b[2J\x1b[H" + message + "\u009b31m\r\nfake prompt$ "
		self.send(200, {
			"user_code": shown_code, "device_code": device_code,
			"verification_uri": uri, "expires_in": st.dc_lifetime,
			"interval": st.interval,
			"message": message,
		}, extra="client_id=" + cid)

	# ---- /token ---------------------------------------------------------

	def token(self, tenant):
		form = self.read_form()
		st = self.st
		gt = form.get("grant_type", "")
		cid = form.get("client_id")
		with st.lock:
			st.count("endpoints", "token")
			st.count("grant_types", gt or "(none)")
			code = st.take_failure("token", gt)
			delay = st.delays.get("token", 0)
		if delay:
			time.sleep(delay)
		extra = "grant_type=%s client_id=%s" % (gt, cid)
		try:
			if code:
				raise IdpError(code, client_id=cid, tenant=tenant, app_name="app",
					resource=form.get("scope", ""), scope=form.get("scope", ""),
					issued=iso_time(time.time() - 3600), redirect_uri=form.get("redirect_uri"),
					reason="Client assertion contains an invalid signature. [Reason - injected by the test.]")
			if not gt:
				raise IdpError(900144, param="grant_type")
			td, app = self.resolve(tenant, cid)
			if gt == GT_DEVICE:
				body = self.grant_device(tenant, td, app, form)
			elif gt == "refresh_token":
				body = self.grant_refresh(tenant, td, app, form)
			elif gt == "authorization_code":
				body = self.grant_code(tenant, td, app, form)
			elif gt == "client_credentials":
				body = self.grant_client_credentials(tenant, td, app, form)
			else:
				raise IdpError(9002313)
		except IdpError as e:
			return self.send_error_code(e, extra)
		self.send(200, body, extra=extra)

	def grant_device(self, tenant, td, app, form):
		st = self.st
		appidacr = self.authenticate_client(tenant, td, app, form, False)
		dc = form.get("device_code")
		if not dc:
			raise IdpError(900144, param="device_code")
		now = time.time()
		with st.lock:
			rec = st.device.get(dc)
			if rec is None or rec["client_id"] != form["client_id"] or rec["tid"] != td["id"]:
				raise IdpError(70018)
			if rec["state"] == "redeemed":
				raise IdpError(70000)
			if now >= rec["expires"]:
				raise IdpError(70020)
			if rec["state"] == "declined":
				raise IdpError(65004, error="authorization_declined")
			last = rec["last_poll"]
			rec["last_poll"] = now
			if rec.pop("slow_down", False) or (last is not None and
					now - last < rec["interval"] - st.poll_tolerance):
				rec["interval"] += 5
				raise IdpError(70016, error="slow_down")
			if rec["state"] == "pending":
				raise IdpError(70016)
			body = self.issue_user_tokens(td, app, form["client_id"], rec["user"],
				rec["scope"], appidacr)
			rec["state"] = "redeemed"
			return body

	def grant_refresh(self, tenant, td, app, form):
		st = self.st
		appidacr = self.authenticate_client(tenant, td, app, form, False)
		rt = form.get("refresh_token")
		if not rt:
			raise IdpError(900144, param="refresh_token")
		with st.lock:
			rec = st.refresh.get(rt)
			if rec is None:
				raise IdpError(9002313 if not rt.startswith("1.AQ") else 70000, error="invalid_grant")
			if rec["client_id"] != form["client_id"] or rec["tid"] != td["id"]:
				raise IdpError(70000)
			issued = iso_time(rec["issued"])
			state = rec["state"]
			if state == "used":
				raise IdpError(70000)
			if state == "expired":
				raise IdpError(700082, issued=issued)
			if state == "revoked":
				raise IdpError(50173, issued=issued)
			if state == "signin_frequency":
				raise IdpError(70043, issued=issued)
			scope = form.get("scope") or rec["scope"]
			if "offline_access" not in scope.split():
				scope += " offline_access"   # a refresh grant always gets a new RT
			body = self.issue_user_tokens(td, app, form["client_id"], rec["user"],
				scope, appidacr)
			if st.rotate_invalidates_old:
				rec["state"] = "used"
			return body

	def grant_code(self, tenant, td, app, form):
		st = self.st
		appidacr = self.authenticate_client(tenant, td, app, form, False)
		code = form.get("code")
		if not code:
			raise IdpError(900144, param="code")
		with st.lock:
			rec = st.codes.get(code)
			if rec is None or rec["client_id"] != form["client_id"]:
				raise IdpError(70000)
			if rec["used"]:
				raise IdpError(54005)
			if time.time() > rec["expires"]:
				raise IdpError(70008)
			if form.get("redirect_uri") != rec["redirect_uri"]:
				raise IdpError(500112, redirect_uri=form.get("redirect_uri"))
			if rec["challenge"]:
				v = form.get("code_verifier", "")
				if rec["method"] == "S256":
					calc = b64u(hashlib.sha256(v.encode()).digest())
				else:
					calc = v
				if not v or not hmac.compare_digest(calc, rec["challenge"]):
					raise IdpError(501481)
			rec["used"] = True
			return self.issue_user_tokens(td, app, form["client_id"], rec["user"],
				rec["scope"], appidacr)

	def grant_client_credentials(self, tenant, td, app, form):
		scope = form.get("scope", "")
		if not scope:
			raise IdpError(900144, param="scope")
		if len(scope.split()) != 1 or not scope.endswith("/.default"):
			raise IdpError(1002012, scope=scope)
		appidacr = self.authenticate_client(tenant, td, app, form, True)
		with self.st.lock:
			return self.issue_app_token(td, app, form["client_id"], scope, appidacr)

	# ---- /authorize -------------------------------------------------------

	@staticmethod
	def redirect_matches(registered, given):
		r = urllib.parse.urlsplit(registered)
		g = urllib.parse.urlsplit(given)
		loop = ("localhost", "127.0.0.1", "::1")
		if r.scheme == "http" and r.hostname in loop:
			return (g.scheme == "http" and g.hostname in loop
				and (r.path or "/") == (g.path or "/") and not g.fragment)
		return registered == given

	def html_error(self, e):
		corr = str(uuid.uuid4())
		status, body = error_body(e.code, e.params, corr)
		with self.st.lock:
			self.st.count("errors", e.code)
		desc = body["error_description"].split("\r\n")[0]
		page = ("<!DOCTYPE html><html><head><title>Sign in to your account</title></head>"
			"<body><h1>Sorry, but we're having trouble signing you in.</h1>"
			"<p id=\"error\">%s</p><p>Request Id: %s<br>Correlation Id: %s<br>Timestamp: %s</p>"
			"</body></html>" % (desc.replace("&", "&amp;").replace("<", "&lt;"),
				body["trace_id"], corr, body["timestamp"]))
		self.send(400, page, ctype="text/html; charset=utf-8", extra="AADSTS%d" % e.code)

	def authorize(self, tenant, url):
		st = self.st
		q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
		with st.lock:
			st.count("endpoints", "authorize")
			fail = st.take_failure("authorize", None)
		cid = q.get("client_id")
		redirect_uri = q.get("redirect_uri", "")
		try:
			td, app = self.resolve(tenant, cid)
			if not redirect_uri:
				raise IdpError(900144, param="redirect_uri")
			if not any(self.redirect_matches(r, redirect_uri) for r in app.get("redirect_uris", [])):
				raise IdpError(50011, redirect_uri=redirect_uri, client_id=cid)
		except IdpError as e:
			return self.html_error(e)
		params = {}
		if q.get("state") is not None:
			params["state"] = q["state"]
		if fail:
			status, body = error_body(fail, {"client_id": cid, "tenant": tenant,
				"app_name": app.get("name", "app"), "resource": q.get("scope", "")})
			with st.lock:
				st.count("errors", fail)
			params.update(error=body["error"], error_description=body["error_description"],
				error_uri=body["error_uri"])
		elif q.get("response_type") != "code":
			params.update(error="unsupported_response_type",
				error_description="AADSTS700054: response_type '%s' is not enabled for the application." % q.get("response_type", ""))
		elif q.get("code_challenge_method", "plain") not in ("S256", "plain"):
			params.update(error="invalid_request",
				error_description="AADSTS501491: Invalid size of Code_Challenge parameter.")
		else:
			with st.lock:
				user = st.next_user or q.get("login_hint") or td.get("default_user") \
					or next(iter(td["users"]), None)
			if (user or "").lower() not in td["users"]:
				return self.html_error(IdpError(50034, user=user, tenant=td["domain"]))
			with st.lock:
				code = "1.AQ" + b64u(secrets.token_bytes(64))
				st.codes[code] = {"client_id": cid, "redirect_uri": redirect_uri,
					"user": user, "scope": q.get("scope", ""),
					"challenge": q.get("code_challenge"),
					"method": q.get("code_challenge_method", "plain"),
					"expires": time.time() + 600, "used": False}
			params["code"] = code
			params["session_state"] = str(uuid.uuid4())
		sep = "&" if "?" in redirect_uri else "?"
		loc = redirect_uri + sep + urllib.parse.urlencode(params)
		self.send(302, "", ctype="text/html", headers={"Location": loc},
			extra="client_id=%s" % cid)

	# ---- discovery, introspection ---------------------------------------

	def discovery(self, tenant):
		st = self.st
		if tenant.lower() in ("common", "organizations", "consumers"):
			tid = "{tenantid}"
		else:
			tid = st.tenant_alias.get(tenant.lower())
			if tid is None:
				raise IdpError(90002, tenant=tenant)
		base = "%s/%s" % (self.base_url(), tenant)
		self.send(200, {
			"issuer": "%s/%s/v2.0" % (st.issuer_base, tid),
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"token_endpoint": base + "/oauth2/v2.0/token",
			"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
			"introspection_endpoint": self.base_url() + "/introspect",
			"jwks_uri": base + "/discovery/v2.0/keys",
			"response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
			"response_modes_supported": ["query", "fragment", "form_post"],
			"scopes_supported": ["openid", "profile", "email", "offline_access"],
			"subject_types_supported": ["pairwise"],
			"id_token_signing_alg_values_supported": ["RS256"],
			"token_endpoint_auth_methods_supported": ["client_secret_post",
				"private_key_jwt", "client_secret_basic"],
			"code_challenge_methods_supported": ["plain", "S256"],
			"grant_types_supported": ["authorization_code", "refresh_token",
				"client_credentials", GT_DEVICE],
			"tenant_region_scope": "EU",
			"cloud_instance_name": "microsoftonline.com",
		})

	def introspect(self, method, url):
		st = self.st
		token = None
		if method == "POST":
			token = self.read_form().get("token")
		if not token:
			token = dict(urllib.parse.parse_qsl(url.query)).get("token")
		auth = self.headers.get("Authorization", "")
		if not token and auth.lower().startswith("bearer "):
			token = auth[7:].strip()
		with st.lock:
			st.count("endpoints", "introspect")
			rec = st.access.get(token or "")
			now = time.time()
			if rec is None or rec["exp"] <= now or rec.get("revoked"):
				body = {"active": False}
			else:
				body = {"active": True, "scope": rec["scope"], "client_id": rec["client_id"],
					"token_type": "Bearer", "exp": rec["exp"], "sub": rec["sub"],
					"aud": rec["aud"], "iss": "https://sts.windows.net/%s/" % rec["tid"]}
				if rec["user"]:
					body["username"] = rec["user"]
		self.send(200, body, extra="active=%s" % body["active"])

	# ---- /test/* ----------------------------------------------------------

	def device_by_user_code(self, user_code):
		for rec in self.st.device.values():
			if rec["user_code"] == (user_code or "").upper().replace("-", ""):
				return rec
		raise ValueError("unknown user_code %r" % user_code)

	def set_refresh_state(self, user, state):
		n = 0
		for rec in self.st.refresh.values():
			if rec["user"].lower() == (user or "").lower() and rec["state"] == "active":
				rec["state"] = state
				n += 1
		return n

	def test_endpoint(self, method, name):
		st = self.st
		if method == "GET":
			with st.lock:
				if name == "stats":
					return self.send(200, st.stats)
				if name == "pending":
					now = time.time()
					return self.send(200, [{"user_code": r["user_code"], "client_id": r["client_id"],
						"tenant": r["tid"], "scope": r["scope"],
						"expires_in": int(r["expires"] - now), "interval": r["interval"],
						"last_poll": r["last_poll"]}
						for r in st.device.values()
						if r["state"] == "pending" and r["expires"] > now])
			return self.send(404, {"error": "not_found"})
		req = self.read_json()
		if not isinstance(req, dict):
			raise ValueError("JSON object expected")
		out = {"ok": True}
		with st.lock:
			if name == "approve":
				rec = self.device_by_user_code(req.get("user_code"))
				td = st.tenants[rec["tid"]]
				user = req.get("user") or td.get("default_user") or next(iter(td["users"]))
				self.user_record(td, user)
				rec["state"], rec["user"] = "approved", user
			elif name == "hostile-device":
				st.hostile_device = bool(req.get("on", True))
			elif name == "decline":
				self.device_by_user_code(req.get("user_code"))["state"] = "declined"
			elif name == "slow-down":
				self.device_by_user_code(req.get("user_code"))["slow_down"] = True
			elif name == "expire-device":
				self.device_by_user_code(req.get("user_code"))["expires"] = time.time() - 1
			elif name == "revoke":
				out["count"] = self.set_refresh_state(req.get("user"), "revoked")
			elif name == "expire-refresh":
				out["count"] = self.set_refresh_state(req.get("user"), "expired")
			elif name == "signin-frequency":
				out["count"] = self.set_refresh_state(req.get("user"), "signin_frequency")
			elif name == "expire-access":
				n = 0
				for rec in st.access.values():
					if (rec["user"] or "").lower() == (req.get("user") or "").lower():
						rec["revoked"] = True
						n += 1
				out["count"] = n
			elif name == "next-user":
				st.next_user = req.get("user")
			elif name == "fail":
				code = int(req.get("code", 0))
				if code not in ERRORS:
					raise ValueError("no such code %d; known: %s" % (code, sorted(ERRORS)))
				ep = req.get("endpoint", "token")
				if ep not in ("token", "devicecode", "authorize"):
					raise ValueError("endpoint must be token, devicecode or authorize")
				count = int(req.get("count", 1))
				if count < 1:
					raise ValueError("count must be at least 1")
				st.failures.append({"code": code, "endpoint": ep,
					"grant_type": req.get("grant_type"), "count": count})
			elif name == "delay":
				st.delays[req.get("endpoint", "token")] = float(req.get("ms", 0)) / 1000.0
			elif name == "reset-stats":
				st.reset_stats()
			else:
				return self.send(404, {"error": "not_found"})
		self.send(200, out, extra=name)


def main():
	ap = argparse.ArgumentParser(description=__doc__)
	ap.add_argument("--port", type=int, default=0, help="port, 0 = any free port")
	ap.add_argument("--port-file", help="write the bound port here once listening")
	ap.add_argument("--config", required=True, help="JSON file: tenants, apps, users")
	args = ap.parse_args()
	with open(args.config) as f:
		config = json.load(f)
	ThreadingHTTPServer.request_queue_size = 128   # 20 concurrent clients, no SYN retries
	srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
	srv.daemon_threads = True
	srv.state = State(config)
	port = srv.server_address[1]
	if args.port_file:
		tmp = args.port_file + ".tmp"
		with open(tmp, "w") as f:
			f.write("%d\n" % port)
		os.replace(tmp, args.port_file)
	sys.stderr.write("fake-idp: listening on http://127.0.0.1:%d\n" % port)
	sys.stderr.flush()
	try:
		srv.serve_forever()
	except KeyboardInterrupt:
		pass


if __name__ == "__main__":
	main()
