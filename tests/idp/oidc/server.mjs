#!/usr/bin/env node
// Local OpenID provider for mail2cups interop tests (test tooling only).
//
// A thin configuration of the `oidc-provider` npm package: OpenID discovery,
// device authorization grant (RFC 8628), refresh tokens with rotation,
// RFC 7662 introspection (for Dovecot's oauth2 passdb) and RFC 7009
// revocation, with the package's built-in development login/consent forms
// (any login name and any password are accepted).
//
//   node server.mjs [--port PORT] [--port-file FILE] [--access-ttl SECONDS]
//                   [--refresh-ttl SECONDS] [--device-ttl SECONDS]
//                   [--dovecot-secret SECRET] [--interval SECONDS]
//                   [--enforce-interval] [--verbose]
//
// PORT 0 (the default) picks a free port. The issuer is
// http://127.0.0.1:PORT and the server listens on 127.0.0.1 only. The bound
// port is written to FILE (atomically) once the server accepts connections.
// --interval adds "interval" to device authorization responses (oidc-provider
// sends none: clients then poll every 5 s, RFC 8628 3.2); --enforce-interval
// answers slow_down to a device-code poll that comes sooner than that.
// Every flag can also come from the environment: OIDC_PORT, OIDC_PORT_FILE,
// OIDC_ACCESS_TTL, OIDC_REFRESH_TTL, OIDC_DEVICE_TTL, OIDC_DOVECOT_SECRET,
// OIDC_INTERVAL, OIDC_ENFORCE_INTERVAL=1, OIDC_VERBOSE=1. OIDC_NODE_PATH is
// a folder whose node_modules holds oidc-provider, if not this one.
// State lives in memory only: a restart forgets every token.
//
// Runs on Node 18 and 20 (oidc-provider 8.x).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function usage(msg) {
  if (msg) process.stderr.write(`server.mjs: ${msg}\n`);
  process.stderr.write('usage: node server.mjs [--port PORT] [--port-file FILE] '
    + '[--access-ttl S] [--refresh-ttl S] [--device-ttl S] '
    + '[--dovecot-secret SECRET] [--interval S] [--enforce-interval] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const env = process.env;
  const opts = {
    port: env.OIDC_PORT ?? '0',
    portFile: env.OIDC_PORT_FILE ?? '',
    accessTtl: env.OIDC_ACCESS_TTL ?? '3600',
    refreshTtl: env.OIDC_REFRESH_TTL ?? String(14 * 24 * 3600),
    deviceTtl: env.OIDC_DEVICE_TTL ?? '600',
    dovecotSecret: env.OIDC_DOVECOT_SECRET ?? 'dovecot-secret',
    interval: env.OIDC_INTERVAL ?? '',
    enforceInterval: env.OIDC_ENFORCE_INTERVAL === '1',
    verbose: env.OIDC_VERBOSE === '1',
  };
  const valued = {
    '--port': 'port',
    '--port-file': 'portFile',
    '--access-ttl': 'accessTtl',
    '--refresh-ttl': 'refreshTtl',
    '--device-ttl': 'deviceTtl',
    '--dovecot-secret': 'dovecotSecret',
    '--interval': 'interval',
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--verbose') {
      opts.verbose = true;
    } else if (arg === '--enforce-interval') {
      opts.enforceInterval = true;
    } else if (arg === '--help' || arg === '-h') {
      usage();
    } else if (Object.hasOwn(valued, arg)) {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      opts[valued[arg]] = argv[i + 1];
      i += 1;
    } else {
      usage(`unknown argument: ${arg}`);
    }
  }
  const flagOf = Object.fromEntries(Object.entries(valued).map(([flag, key]) => [key, flag]));
  for (const key of ['port', 'accessTtl', 'refreshTtl', 'deviceTtl']) {
    if (!/^[0-9]+$/.test(opts[key])) usage(`${flagOf[key]} must be a number, got "${opts[key]}"`);
    opts[key] = Number(opts[key]);
  }
  if (opts.port > 65535) usage('--port out of range');
  if (opts.interval === '') {
    opts.interval = undefined;
  } else if (/^[0-9]+$/.test(opts.interval) && Number(opts.interval) >= 1) {
    opts.interval = Number(opts.interval);
  } else {
    usage(`--interval must be a number of seconds (1 or more), got "${opts.interval}"`);
  }
  for (const key of ['accessTtl', 'refreshTtl', 'deviceTtl']) {
    if (opts[key] < 1) usage(`${flagOf[key]} must be at least 1 second`);
  }
  if (opts.dovecotSecret.length === 0) usage('the dovecot secret must not be empty');
  return opts;
}

// In-memory storage for oidc-provider's models. The package's own memory
// adapter is an LRU of about 1000 entries (a few per sign-in), which a
// long or busy test could overflow, silently losing live grants; this one
// is a plain Map: entries live until their own expiry (plus a margin, so
// an expired device code still answers expired_token) and are swept
// once a minute.
const KEEP_EXPIRED_MS = 5 * 60 * 1000;
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken',
  'DeviceCode', 'BackchannelAuthenticationRequest']);
const store = new Map(); // key -> { value, until }

function storeSet(key, value, expiresIn) {
  const until = expiresIn ? Date.now() + expiresIn * 1000 + KEEP_EXPIRED_MS : Infinity;
  store.set(key, { value, until });
}

function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.until < Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}

setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.until < now) store.delete(key);
  }
}, 60 * 1000).unref();

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      // the grant's token list lives as long as its longest-lived token
      const grantKey = `grant:${payload.grantId}`;
      const list = storeGet(grantKey) ?? [];
      list.push(key);
      const old = store.get(grantKey)?.until ?? 0;
      storeSet(grantKey, list, expiresIn);
      if (store.get(grantKey).until < old) store.get(grantKey).until = old;
    }
    storeSet(key, payload, expiresIn);
  }

  async find(id) {
    return storeGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const value = storeGet(this.key(id));
    if (value) value.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of storeGet(grantKey) ?? []) store.delete(key);
    store.delete(grantKey);
  }
}

// Any login name is an account: sub is the login name itself, the e-mail is
// the login if it already looks like one, else LOGIN@example.test.
function account(login) {
  const email = login.includes('@') ? login : `${login}@example.test`;
  return {
    accountId: login,
    async claims() {
      return {
        sub: login,
        email,
        email_verified: true,
        name: login,
        preferred_username: login,
      };
    },
  };
}

function configuration(opts) {
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...signing.privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test-rs256' };

  return {
    clients: [
      {
        // the mail2cups side: a public native app (no secret). Native apps on
        // http loopback redirect URIs may use any port (RFC 8252 7.3):
        // oidc-provider ignores the port for application_type native.
        client_id: 'mail2cups-test',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: [DEVICE_GRANT, 'refresh_token', 'authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/'],
        scope: 'openid email profile offline_access imap',
      },
      {
        // the resource server: Dovecot introspects tokens with HTTP Basic
        // credentials taken from its introspection_url (user:pass@host).
        client_id: 'dovecot',
        client_secret: opts.dovecotSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        introspection_endpoint_auth_method: 'client_secret_basic',
        revocation_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    adapter: MapAdapter,
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    async findAccount(ctx, sub) {
      return account(sub);
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'imap'],
    responseTypes: ['code', 'none'],
    // the ID token carries the granted claims (email) even beside an access
    // token, like Microsoft's and Google's do
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    // RFC 7662 "username" beside "sub", so a resource server may use either.
    async extraTokenClaims(ctx, token) {
      return token.accountId ? { username: token.accountId } : undefined;
    },
    // a refresh token whenever offline_access was granted (the device
    // authorization endpoint keeps offline_access without prompt=consent)
    async issueRefreshToken(ctx, client, code) {
      return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
    },
    // every refresh grant returns a new refresh token; the old one is consumed
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: opts.accessTtl,
      AuthorizationCode: 120,
      DeviceCode: opts.deviceTtl,
      Grant: opts.refreshTtl,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: opts.refreshTtl,
      Session: 3600,
    },
  };
}

// Device-code polling: announce an interval and hold clients to it. The
// token request body is read here (oidc-provider then uses it as an
// already-parsed body) only for POST /token when enforcing.
const DEFAULT_INTERVAL = 5;
const MAX_BODY = 56 * 1024;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function devicePolling(opts) {
  const interval = opts.interval ?? DEFAULT_INTERVAL;
  return async (ctx, next) => {
    if (opts.enforceInterval && ctx.method === 'POST' && ctx.path === '/token'
        && ctx.is('application/x-www-form-urlencoded')) {
      let body;
      try {
        body = await readBody(ctx.req);
      } catch (err) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: err.message };
        return;
      }
      ctx.request.body = body;
      const params = new URLSearchParams(body);
      const deviceCode = params.get('device_code');
      if (params.get('grant_type') === DEVICE_GRANT && deviceCode) {
        const key = `poll:${deviceCode}`;
        const last = storeGet(key);
        const now = Date.now();
        storeSet(key, now, opts.deviceTtl);
        if (last !== undefined && now - last < interval * 1000) {
          ctx.status = 400;
          ctx.set('cache-control', 'no-store');
          ctx.body = {
            error: 'slow_down',
            error_description: `poll at most every ${interval} seconds`,
          };
          return;
        }
      }
    }
    await next();
    if (opts.interval !== undefined && ctx.method === 'POST' && ctx.path === '/device/auth'
        && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body.interval = opts.interval;
    }
  };
}

function writePortFile(file, port) {
  const tmp = `${file}.tmp.${process.pid}`;
  writeFileSync(tmp, `${port}\n`);
  renameSync(tmp, file);
}

// oidc-provider from OIDC_NODE_PATH/node_modules when that is set (an
// install outside a read-only source tree), else the usual lookup from
// this file's folder.
async function loadProvider() {
  const home = process.env.OIDC_NODE_PATH;
  if (!home) return (await import('oidc-provider')).default;
  const entry = createRequire(join(home, 'package.json')).resolve('oidc-provider');
  return (await import(pathToFileURL(entry).href)).default;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const Provider = await loadProvider();
  const server = createServer();

  server.on('error', (err) => {
    process.stderr.write(`server.mjs: listen on 127.0.0.1:${opts.port}: ${err.message}\n`);
    process.exit(1);
  });

  server.listen(opts.port, '127.0.0.1', () => {
    const { port } = server.address();
    const issuer = `http://127.0.0.1:${port}`;
    const provider = new Provider(issuer, configuration(opts));

    if (opts.verbose) {
      provider.use(async (ctx, next) => {
        await next();
        process.stderr.write(`oidc: ${ctx.method} ${ctx.path} -> ${ctx.status}\n`);
      });
    }
    provider.on('server_error', (ctx, err) => {
      process.stderr.write(`oidc: server_error: ${err.stack || err}\n`);
    });

    provider.use(devicePolling(opts));
    server.on('request', provider.callback());
    if (opts.portFile) writePortFile(opts.portFile, port);
    process.stderr.write(`oidc: issuer ${issuer} (access ttl ${opts.accessTtl}s)\n`);
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`server.mjs: ${err.stack || err}\n`);
  process.exit(1);
});
