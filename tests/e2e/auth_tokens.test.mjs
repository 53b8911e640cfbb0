// Access tokens (API.md §2.1): the JWT's header and claims, the JWKS, independent
// verification with jose, the configurable algorithms, forged and tampered tokens, expiry,
// and signing key rotation with `tenantbase keys rotate`.
// `tid` (API.md §2.1, docs/api.md §14 "Tenant context"): the tenant chosen at login/refresh —
// after registration the personal tenant; absent for a user without any tenant (the platform
// admin). Choosing and moving tenants: auth_accounts.test.mjs, tenants.test.mjs.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as jose from 'jose';
import { BACKEND, JSON_CONTENT_TYPE, TEST_ADMIN, UUID, sleep, startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, b64url, decodeParts, expectAccessRefused, expectAccessWorks, expectSuccess,
  expectUnauthorized, login, refresh, register, runCli,
} from './auth_helpers.mjs';

const ISSUER = 'tenantbase';
const AUDIENCE = 'tenantbase';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const servers = [];
async function start(env = {}) {
  const s = await startServer({ env: { ...NO_THROTTLE_ENV, ...env } });
  servers.push(s);
  return s;
}
after(async () => { await Promise.all(servers.map((s) => s.stop())); });

function verifyWithJwks(server, token, algorithms) {
  const jwks = jose.createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
  return jose.jwtVerify(token, jwks, { issuer: ISSUER, audience: AUDIENCE, algorithms });
}

async function getJwks(server) {
  const res = await server.get('/.well-known/jwks.json');
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers['content-type'] || '', JSON_CONTENT_TYPE);
  assert.ok(res.json && typeof res.json === 'object', res.body);
  assert.deepEqual(Object.keys(res.json), ['keys'], `a bare JWKS, not the envelope: ${res.body}`);
  assert.ok(Array.isArray(res.json.keys), res.body);
  for (const k of res.json.keys) {
    for (const m of PRIVATE_MEMBERS) assert.ok(!(m in k), `JWKS key ${k.kid} exposes private member "${m}"`);
  }
  return res.json.keys;
}

const hs256 = (header, payload, secret) => {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
};
const nowS = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------

let main; // RS256 (the default)
let alice; // a registered user on `main`
let bob; // another one
let expiring; // {server, account}: TB_AUTH_ACCESS_TTL_SECONDS=10, checked at the end

before(async () => {
  const expServerP = start({ TB_AUTH_ACCESS_TTL_SECONDS: '10' });
  main = await start();
  [alice, bob] = await Promise.all([register(main, { name: 'Alice' }), register(main, { name: 'Bob' })]);
  const expServer = await expServerP;
  expiring = { server: expServer, account: await register(expServer, {}) };
});

describe('the access token (RS256 by default)', () => {
  test('header {alg: RS256, typ: JWT, kid}', () => {
    const { header } = decodeParts(alice.tokens.access_token);
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'JWT');
    assert.equal(typeof header.kid, 'string');
    assert.ok(header.kid.length > 0);
  });

  test('claims iss, aud, sub, sid, tid (the personal tenant), email, name, scope, iat, exp = iat + 900, jti', () => {
    const { payload } = decodeParts(alice.tokens.access_token);
    assert.deepEqual(Object.keys(payload).sort(),
      ['aud', 'email', 'exp', 'iat', 'iss', 'jti', 'name', 'scope', 'sid', 'sub', 'tid']);
    assert.equal(payload.name, alice.user.name);
    assert.equal(payload.scope, 'user');
    assert.equal(payload.iss, ISSUER);
    assert.equal(payload.aud, AUDIENCE);
    assert.equal(payload.sub, alice.user.id);
    assert.equal(payload.email, alice.user.email);
    assert.match(payload.sid, UUID);
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.jti.length > 0);
    assert.ok(Number.isInteger(payload.iat) && Number.isInteger(payload.exp));
    assert.ok(Math.abs(payload.iat - nowS()) < 120, `iat ${payload.iat} vs now ${nowS()}`);
    assert.equal(payload.exp, payload.iat + 900);
    assert.equal(alice.tenants.length, 1);
    assert.equal(payload.tid, alice.tenants[0].id, 'tid is the personal tenant made at registration');
    assert.match(payload.tid, UUID);
    assert.notEqual(payload.tid, decodeParts(bob.tokens.access_token).payload.tid, 'each user their own tenant');
  });

  test('tid is kept by a login and a refresh', async () => {
    const s = await login(main, alice.email);
    assert.equal(decodeParts(s.tokens.access_token).payload.tid, alice.tenants[0].id);
    const { tokens } = expectSuccess(await refresh(main, s.tokens.refresh_token), 200);
    assert.equal(decodeParts(tokens.access_token).payload.tid, alice.tenants[0].id);
  });

  test('a user without a tenant (the platform admin) gets no tid', async () => {
    const a = await login(main, TEST_ADMIN.email, TEST_ADMIN.password);
    assert.deepEqual(a.tenants, []);
    const { payload } = decodeParts(a.tokens.access_token);
    assert.ok(!('tid' in payload), `tid: ${payload.tid}`);
    assert.equal(payload.sub, a.user.id);
  });

  test('every token has its own jti; each login its own sid', async () => {
    const a = await login(main, alice.email);
    const b = await login(main, alice.email);
    const [p0, pa, pb] = [alice, a, b].map((x) => decodeParts(x.tokens.access_token).payload);
    assert.equal(new Set([p0.jti, pa.jti, pb.jti]).size, 3);
    assert.equal(new Set([p0.sid, pa.sid, pb.sid]).size, 3);
  });
});

describe('GET /.well-known/jwks.json', () => {
  test('200 bare JWKS with the public RSA key of the token\'s kid; no private members', async () => {
    const keys = await getJwks(main);
    assert.ok(keys.length >= 1);
    const { kid } = decodeParts(alice.tokens.access_token).header;
    const key = keys.find((k) => k.kid === kid);
    assert.ok(key, `kid ${kid} not in ${JSON.stringify(keys)}`);
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(key.kty, 'RSA');
    assert.equal(key.use, 'sig');
    assert.equal(key.alg, 'RS256');
    assert.match(key.n, /^[A-Za-z0-9_-]+$/);
    assert.match(key.e, /^[A-Za-z0-9_-]+$/);
    assert.ok(Buffer.from(key.n, 'base64url').length >= 256, 'an RSA modulus of at least 2048 bits');
  });

  test('needs no credentials and ignores bad ones', async () => {
    const res = await main.get('/.well-known/jwks.json', { headers: { Authorization: 'Bearer garbage' } });
    assert.equal(res.status, 200, res.body);
    assert.ok(Array.isArray(res.json?.keys));
  });

  test('jose verifies a real access token against the JWKS', async () => {
    const { payload, protectedHeader } = await verifyWithJwks(main, alice.tokens.access_token, ['RS256']);
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, alice.user.id);
  });

  test('jose verifies an access token from a refresh too', async () => {
    const acct = await register(main, {});
    const res = await refresh(main, acct.tokens.refresh_token);
    const { tokens } = expectSuccess(res, 200);
    const { payload } = await verifyWithJwks(main, tokens.access_token, ['RS256']);
    assert.equal(payload.sub, acct.user.id);
  });
});

describe('forged and tampered access tokens get 401 on GET /v1/auth/me', () => {
  let real; // decoded alice token
  let jwk; // the server's public JWK for alice's kid
  before(async () => {
    real = decodeParts(alice.tokens.access_token);
    jwk = (await getJwks(main)).find((k) => k.kid === real.header.kid);
    assert.ok(jwk);
    // Sanity: the genuine token works, so every 401 below is due to the forgery.
    await expectAccessWorks(main, alice.tokens.access_token);
  });

  /** Valid-looking claims for alice's live session, fresh times. */
  const claims = (over = {}) => ({ ...real.payload, iat: nowS(), exp: nowS() + 900, jti: crypto.randomUUID(), ...over });

  describe('alg "none"', () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      test(`alg ${JSON.stringify(alg)} with an empty signature`, async () => {
        const token = `${b64url({ alg, typ: 'JWT', kid: real.header.kid })}.${real.raw.p}.`;
        await expectAccessRefused(main, token);
      });
    }
    test('alg "none" keeping the real signature', async () => {
      const token = `${b64url({ alg: 'none', typ: 'JWT', kid: real.header.kid })}.${real.raw.p}.${real.raw.s}`;
      await expectAccessRefused(main, token);
    });
    test('alg "none" with no kid and no signature part', async () => {
      await expectAccessRefused(main, `${b64url({ alg: 'none' })}.${real.raw.p}`);
    });
  });

  describe('HS256 signed with the RSA public key as the HMAC secret (algorithm confusion)', () => {
    const secrets = {};
    before(async () => {
      const pub = await jose.importJWK({ kty: jwk.kty, n: jwk.n, e: jwk.e }, 'RS256');
      const spki = await jose.exportSPKI(pub);
      const nodeKey = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
      secrets['the base64url n string'] = Buffer.from(jwk.n);
      secrets['the raw modulus bytes'] = Buffer.from(jwk.n, 'base64url');
      secrets['the SPKI PEM (jose exportSPKI)'] = Buffer.from(spki);
      secrets['the SPKI PEM with a trailing newline'] = Buffer.from(spki.endsWith('\n') ? spki : `${spki}\n`);
      secrets['the SPKI PEM without a trailing newline'] = Buffer.from(spki.trimEnd());
      secrets['the PKCS#1 PEM'] = Buffer.from(nodeKey.export({ type: 'pkcs1', format: 'pem' }));
      secrets['the SPKI DER'] = nodeKey.export({ type: 'spki', format: 'der' });
      secrets['the JWK as JSON'] = Buffer.from(JSON.stringify(jwk));
    });
    const labels = ['the base64url n string', 'the raw modulus bytes', 'the SPKI PEM (jose exportSPKI)',
      'the SPKI PEM with a trailing newline', 'the SPKI PEM without a trailing newline', 'the PKCS#1 PEM',
      'the SPKI DER', 'the JWK as JSON'];
    for (const label of labels) {
      test(label, async () => {
        const token = hs256({ alg: 'HS256', typ: 'JWT', kid: real.header.kid }, claims(), secrets[label]);
        await expectAccessRefused(main, token);
      });
    }
  });

  describe('a real token, modified', () => {
    test('payload with sub swapped to another user (signature kept)', async () => {
      const p = b64url({ ...real.payload, sub: bob.user.id, email: bob.user.email });
      await expectAccessRefused(main, `${real.raw.h}.${p}.${real.raw.s}`);
    });

    test('payload with sub and sid of another user\'s live session (signature kept)', async () => {
      const bp = decodeParts(bob.tokens.access_token).payload;
      const p = b64url({ ...real.payload, sub: bp.sub, sid: bp.sid, email: bp.email });
      await expectAccessRefused(main, `${real.raw.h}.${p}.${real.raw.s}`);
    });

    test('payload with tid swapped to another user\'s tenant (signature kept)', async () => {
      const p = b64url({ ...real.payload, tid: decodeParts(bob.tokens.access_token).payload.tid });
      await expectAccessRefused(main, `${real.raw.h}.${p}.${real.raw.s}`);
    });

    test('payload with tid removed (signature kept)', async () => {
      const { tid: _drop, ...rest } = real.payload;
      await expectAccessRefused(main, `${real.raw.h}.${b64url(rest)}.${real.raw.s}`);
    });

    test('payload with exp extended (signature kept)', async () => {
      const p = b64url({ ...real.payload, exp: real.payload.exp + 86400 });
      await expectAccessRefused(main, `${real.raw.h}.${p}.${real.raw.s}`);
    });

    test('payload re-encoded with extra whitespace (same claims, signature kept)', async () => {
      const p = Buffer.from(JSON.stringify(real.payload, null, 1)).toString('base64url');
      await expectAccessRefused(main, `${real.raw.h}.${p}.${real.raw.s}`);
    });

    test('another token\'s signature spliced on', async () => {
      const bs = decodeParts(bob.tokens.access_token).raw.s;
      await expectAccessRefused(main, `${real.raw.h}.${real.raw.p}.${bs}`);
    });

    test('header kid changed to an unknown kid (signature kept)', async () => {
      const h = b64url({ ...real.header, kid: crypto.randomUUID() });
      await expectAccessRefused(main, `${h}.${real.raw.p}.${real.raw.s}`);
    });

    test('header without kid (signature kept)', async () => {
      const h = b64url({ alg: real.header.alg, typ: real.header.typ });
      await expectAccessRefused(main, `${h}.${real.raw.p}.${real.raw.s}`);
    });

    for (const alg of ['RS384', 'RS512', 'PS256', 'ES256', 'HS256', 'EdDSA']) {
      test(`header alg changed to ${alg} (signature kept)`, async () => {
        const h = b64url({ ...real.header, alg });
        await expectAccessRefused(main, `${h}.${real.raw.p}.${real.raw.s}`);
      });
    }

    test('one signature character flipped', async () => {
      const s = real.raw.s;
      const i = Math.floor(s.length / 2);
      const flipped = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      await expectAccessRefused(main, `${real.raw.h}.${real.raw.p}.${flipped}`);
    });
  });

  describe('signed by a foreign key', () => {
    let foreign;
    before(async () => { foreign = await jose.generateKeyPair('RS256', { modulusLength: 2048 }); });

    const sign = (payload, kid) => new jose.SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .sign(foreign.privateKey);

    test('the right kid, iss, aud, sub and sid', async () => {
      await expectAccessRefused(main, await sign(claims(), real.header.kid));
    });
    test('an unknown kid', async () => {
      await expectAccessRefused(main, await sign(claims(), crypto.randomUUID()));
    });
    test('a wrong iss', async () => {
      await expectAccessRefused(main, await sign(claims({ iss: 'https://evil.example.com' }), real.header.kid));
    });
    test('a wrong aud', async () => {
      await expectAccessRefused(main, await sign(claims({ aud: 'someone-else' }), real.header.kid));
    });
    test('an ES256 key with the right kid', async () => {
      const ec = await jose.generateKeyPair('ES256');
      const token = await new jose.SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: real.header.kid })
        .sign(ec.privateKey);
      await expectAccessRefused(main, token);
    });
    test('an embedded jwk header naming the attacker\'s own key', async () => {
      const pubJwk = await jose.exportJWK(foreign.publicKey);
      const token = await new jose.SignJWT(claims())
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: real.header.kid, jwk: pubJwk })
        .sign(foreign.privateKey);
      await expectAccessRefused(main, token);
    });
  });

  describe('malformed', () => {
    test('truncated signature', async () => {
      await expectAccessRefused(main, alice.tokens.access_token.slice(0, -10));
    });
    test('signature part removed (trailing dot kept)', async () => {
      await expectAccessRefused(main, `${real.raw.h}.${real.raw.p}.`);
    });
    test('only the header and payload', async () => {
      await expectAccessRefused(main, `${real.raw.h}.${real.raw.p}`);
    });
    test('cut in the middle', async () => {
      await expectAccessRefused(main, alice.tokens.access_token.slice(0, Math.floor(alice.tokens.access_token.length / 2)));
    });
    test('an extra part appended', async () => {
      await expectAccessRefused(main, `${alice.tokens.access_token}.${real.raw.s}`);
    });
    const randoms = {
      'a word': 'hello',
      'three dots': '...',
      'a.b.c': 'a.b.c',
      'random base64url parts': `${crypto.randomBytes(24).toString('base64url')}.${crypto.randomBytes(64).toString('base64url')}.${crypto.randomBytes(256).toString('base64url')}`,
      'header not JSON': `${Buffer.from('not json').toString('base64url')}.${'e30'}.sig`,
      'payload not JSON': `${b64url({ alg: 'RS256', typ: 'JWT' })}.${Buffer.from('{"sub":').toString('base64url')}.sig`,
      'an 8 KiB string': 'x'.repeat(8192),
    };
    for (const [label, token] of Object.entries(randoms)) {
      test(label, async () => { await expectAccessRefused(main, token); });
    }
  });

  test('the genuine token still works after all of that', async () => {
    await expectAccessWorks(main, alice.tokens.access_token);
  });
});

describe('other signing algorithms (TB_AUTH_JWT_ALGORITHM)', () => {
  const cases = {
    ES256: { kty: 'EC', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], crv: 'P-256', jose: ['ES256'] },
    EdDSA: { kty: 'OKP', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x'], crv: 'Ed25519', jose: ['EdDSA'] },
  };
  for (const [alg, c] of Object.entries(cases)) {
    describe(alg, () => {
      let srv;
      let acct;
      before(async () => {
        srv = await start({ TB_AUTH_JWT_ALGORITHM: alg });
        acct = await register(srv, {});
      });

      test(`tokens are signed ${alg}; the JWKS has the ${c.kty} public key; jose verifies`, async () => {
        const { header, payload } = decodeParts(acct.tokens.access_token);
        assert.equal(header.alg, alg);
        assert.equal(header.typ, 'JWT');
        assert.equal(payload.exp, payload.iat + 900);
        const keys = await getJwks(srv);
        const key = keys.find((k) => k.kid === header.kid);
        assert.ok(key, `kid ${header.kid} not in ${JSON.stringify(keys)}`);
        assert.deepEqual(Object.keys(key).sort(), c.members);
        assert.equal(key.kty, c.kty);
        assert.equal(key.crv, c.crv);
        assert.equal(key.alg, alg);
        assert.equal(key.use, 'sig');
        for (const k of keys) assert.equal(k.alg, alg, 'only keys of the configured algorithm are published');
        const { payload: verified } = await verifyWithJwks(srv, acct.tokens.access_token, c.jose);
        assert.equal(verified.sub, acct.user.id);
        await expectAccessWorks(srv, acct.tokens.access_token);
      });

      test('a refreshed token verifies too', async () => {
        const { tokens } = expectSuccess(await refresh(srv, acct.tokens.refresh_token), 200);
        await verifyWithJwks(srv, tokens.access_token, c.jose);
        await expectAccessWorks(srv, tokens.access_token);
        acct.tokens = tokens;
      });

      test('alg "none" and an RS256 token of another server are refused', async () => {
        const real = decodeParts(acct.tokens.access_token);
        await expectAccessRefused(srv, `${b64url({ alg: 'none', typ: 'JWT', kid: real.header.kid })}.${real.raw.p}.`);
        await expectAccessRefused(srv, alice.tokens.access_token);
        // ... and the other way round.
        await expectAccessRefused(main, acct.tokens.access_token);
      });

      test('a payload change breaks the signature', async () => {
        const real = decodeParts(acct.tokens.access_token);
        const p = b64url({ ...real.payload, exp: real.payload.exp + 3600 });
        await expectAccessRefused(srv, `${real.raw.h}.${p}.${real.raw.s}`);
      });
    });
  }

  describe('HS256', () => {
    let srv;
    let acct;
    before(async () => {
      srv = await start({ TB_AUTH_JWT_ALGORITHM: 'HS256' });
      acct = await register(srv, {});
    });

    test('tokens are signed HS256 and work; the JWKS publishes no key', async () => {
      const { header } = decodeParts(acct.tokens.access_token);
      assert.equal(header.alg, 'HS256');
      assert.equal(header.typ, 'JWT');
      assert.ok(header.kid);
      assert.deepEqual(await getJwks(srv), []);
      await expectAccessWorks(srv, acct.tokens.access_token);
      const { tokens } = expectSuccess(await refresh(srv, acct.tokens.refresh_token), 200);
      assert.equal(decodeParts(tokens.access_token).header.alg, 'HS256');
      await expectAccessWorks(srv, tokens.access_token);
    });

    test('forged tokens are refused', async () => {
      const real = decodeParts(acct.tokens.access_token);
      const c = { ...real.payload, iat: nowS(), exp: nowS() + 900 };
      await expectAccessRefused(srv, `${b64url({ alg: 'none', typ: 'JWT', kid: real.header.kid })}.${real.raw.p}.`);
      for (const secret of ['', 'secret', 'tenantbase', real.header.kid]) {
        await expectAccessRefused(srv, hs256(real.header, c, secret));
      }
      const p = b64url({ ...real.payload, exp: real.payload.exp + 3600 });
      await expectAccessRefused(srv, `${real.raw.h}.${p}.${real.raw.s}`);
      await expectAccessRefused(srv, alice.tokens.access_token);
      await expectAccessRefused(main, acct.tokens.access_token);
    });
  });
});

describe('key rotation (`tenantbase keys rotate` while serving)', () => {
  test('old tokens keep working, new ones use the new kid, the JWKS lists both, jose verifies both', async () => {
    const srv = await start();
    const before = await register(srv, {});
    const oldKid = decodeParts(before.tokens.access_token).header.kid;
    await verifyWithJwks(srv, before.tokens.access_token, ['RS256']);

    const args = ['keys', 'rotate', '--data', srv.dataDir];
    if (srv.databaseUrl) args.push('--database', srv.databaseUrl);
    const r = await runCli(args);
    assert.equal(r.code, 0, `keys rotate failed (${BACKEND}): ${r.stdout}\n${r.stderr}`);

    await expectAccessWorks(srv, before.tokens.access_token, 'a token from before the rotation');

    const after = await login(srv, before.email);
    const newKid = decodeParts(after.tokens.access_token).header.kid;
    assert.notEqual(newKid, oldKid, 'a login after the rotation uses the new key');
    assert.ok(r.stdout.includes(newKid), `keys rotate should name the new kid ${newKid}: ${r.stdout}`);
    await expectAccessWorks(srv, after.tokens.access_token, 'a token from after the rotation');
    await expectAccessWorks(srv, before.tokens.access_token, 'a token from before the rotation');

    const kids = (await getJwks(srv)).map((k) => k.kid);
    assert.ok(kids.includes(oldKid) && kids.includes(newKid), `JWKS kids ${kids} should include ${oldKid} and ${newKid}`);

    // A fresh JWKS fetch verifies both.
    await verifyWithJwks(srv, before.tokens.access_token, ['RS256']);
    await verifyWithJwks(srv, after.tokens.access_token, ['RS256']);

    // A refresh of the old session is signed with the new key as well.
    const { tokens } = expectSuccess(await refresh(srv, before.tokens.refresh_token), 200);
    assert.equal(decodeParts(tokens.access_token).header.kid, newKid);
    await verifyWithJwks(srv, tokens.access_token, ['RS256']);
  });
});

describe('expiry (TB_AUTH_ACCESS_TTL_SECONDS=10)', () => {
  test('an access token is refused once exp has passed; the refresh token still works', { timeout: 30_000 }, async () => {
    const { server: srv, account } = expiring;
    assert.equal(account.tokens.expires_in, 10);
    const { payload } = decodeParts(account.tokens.access_token);
    assert.equal(payload.exp, payload.iat + 10);
    // Still valid shortly before exp (if the clock allows checking that).
    const wait = payload.exp * 1000 - Date.now();
    if (wait > 1500) {
      await expectAccessWorks(srv, account.tokens.access_token, 'before exp');
      await sleep(wait - 1000);
      await expectAccessWorks(srv, account.tokens.access_token, 'one second before exp');
    }
    await sleep(Math.max(0, payload.exp * 1000 - Date.now()) + 1100);
    const res = await srv.get('/v1/auth/me', { headers: { Authorization: `Bearer ${account.tokens.access_token}` } });
    expectUnauthorized(res);
    const { tokens } = expectSuccess(await refresh(srv, account.tokens.refresh_token), 200);
    assert.equal(tokens.expires_in, 10);
    await expectAccessWorks(srv, tokens.access_token, 'a fresh token from the refresh');
  });
});
