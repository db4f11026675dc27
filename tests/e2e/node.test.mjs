// The node's basics (health, errors, authentication, names) and tokens.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { test, startNode, filesContain } from './harness.mjs';

let node;
before(async () => { node = await startNode({ runners: 0 }); });
after(() => node?.stop());

function assertError(r, status, code) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.equal(r.json?.error?.code, code, r.text);
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok(r.json.error.message.length > 0);
}

test('GET /api/health answers ok and the version', async () => {
  const r = await node.api('GET', '/api/health', undefined, null);
  assert.equal(r.status, 200);
  assert.equal(r.json.ok, true);
  assert.match(r.json.version, /^\d+\.\d+\.\d+/);
});

test('an unknown route is a 404 not_found in JSON', async () => {
  assertError(await node.api('GET', '/api/no/such/route', undefined, null), 404, 'not_found');
  assertError(await node.api('GET', '/api/nope'), 404, 'not_found');
});

test('a known route with another method is a 405', async () => {
  assertError(await node.api('DELETE', '/api/health'), 405, 'method_not_allowed');
  assertError(await node.api('PUT', '/api/repos', { name: 'x' }), 405, 'method_not_allowed');
});

test('malformed JSON is a 400', async () => {
  assertError(await node.api('POST', '/api/repos', '{"name": "x",'), 400, 'bad_request');
  assertError(await node.api('POST', '/api/repos', '["not an object"]'), 400, 'bad_request');
});

test('a body over 1 MiB is a 413', async () => {
  const big = JSON.stringify({ name: 'big', pad: 'a'.repeat((1 << 20) + 10) });
  assertError(await node.api('POST', '/api/repos', big), 413, 'too_large');
  // Just under the cap is parsed (and refused for its name, not its size).
  const fits = JSON.stringify({ name: 'bad..name', pad: 'a'.repeat((1 << 20) - 100) });
  assertError(await node.api('POST', '/api/repos', fits), 400, 'bad_request');
});

test('no token is a 401, an unknown one too', async () => {
  assertError(await node.api('POST', '/api/repos', { name: 'anon' }, null), 401, 'unauthorized');
  assertError(await node.api('GET', '/api/user', undefined, null), 401, 'unauthorized');
  assertError(await node.api('GET', '/api/user', undefined, 'gut_0123456789abcdef'), 401,
              'unauthorized');
});

test('a read token cannot create a repository (403)', async () => {
  const read = await node.tokenFor('admin', 'read');
  assertError(await node.api('POST', '/api/repos', { name: 'by-read' }, read), 403, 'forbidden');
  assertError(await node.api('GET', '/api/repos/admin/by-read'), 404, 'not_found');
});

test('bad names are a 400', async () => {
  for (const name of ['bad..name', 'x.git', '-x', 'a'.repeat(101), '.hidden', 'sp ace', 'sl/ash', '']) {
    assertError(await node.api('POST', '/api/repos', { name }), 400, 'bad_request');
  }
  assertError(await node.api('POST', '/api/repos', { name: 'ok', owner: 'bad..owner' }), 400,
              'bad_request');
  // The longest good name is 100 characters.
  const r = await node.api('POST', '/api/repos', { name: 'b'.repeat(100) });
  assert.equal(r.status, 201, r.text);
  assertError(await node.api('GET', '/api/repos/admin/bad..name'), 400, 'bad_request');
});

test('"Authorization: token T" works like Bearer', async () => {
  const bearer = await node.api('GET', '/api/user');
  const token = await node.api('GET', '/api/user', undefined, node.token, { scheme: 'token' });
  assert.equal(bearer.status, 200);
  assert.equal(token.status, 200, token.text);
  assert.deepEqual(token.json, bearer.json);
  assert.deepEqual(bearer.json, { name: 'admin', is_admin: true, scope: 'admin' });
  const r = await node.api('POST', '/api/repos', { name: 'via-token-scheme' }, node.token,
                           { scheme: 'token' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.full_name, 'admin/via-token-scheme');
});

// ---- tokens --------------------------------------------------------------

const made = [];

test('POST /api/tokens makes tokens for oneself with a scope', async () => {
  for (const scope of ['read', 'write', 'admin']) {
    const j = await node.ok(201, 'POST', '/api/tokens', { scope, name: `mine-${scope}` });
    assert.equal(j.scope, scope);
    assert.equal(j.user, 'admin');
    assert.ok(Number.isInteger(j.id));
    assert.match(j.token, /^gut_[0-9a-f]+$/);
    made.push(j.token);
    const u = await node.ok(200, 'GET', '/api/user', undefined, j.token);
    assert.deepEqual(u, { name: 'admin', is_admin: scope === 'admin', scope });
  }
  const bad = await node.api('POST', '/api/tokens', { scope: 'root' });
  assert.equal(bad.status, 400, bad.text);
  // A read token cannot make a write token.
  const read = made[0];
  const up = await node.api('POST', '/api/tokens', { scope: 'write' }, read);
  assert.equal(up.status, 403, up.text);
});

test('an admin makes a token for a new user; its write token owns its repositories only', async () => {
  const alice = await node.ok(201, 'POST', '/api/tokens', { scope: 'write', user: 'alice' });
  assert.equal(alice.user, 'alice');
  assert.equal(alice.scope, 'write');
  made.push(alice.token);
  assert.deepEqual(await node.ok(200, 'GET', '/api/user', undefined, alice.token),
                   { name: 'alice', is_admin: false, scope: 'write' });

  const mine = await node.ok(201, 'POST', '/api/repos', { name: 'alices' }, alice.token);
  assert.equal(mine.owner, 'alice');
  assert.equal(mine.full_name, 'alice/alices');

  const forAdmin = await node.api('POST', '/api/repos', { name: 'stolen', owner: 'admin' },
                                  alice.token);
  assert.equal(forAdmin.status, 403, forAdmin.text);
  assert.equal(forAdmin.json.error.code, 'forbidden');

  // bob's private repository: missing (404) or forbidden (403) for alice.
  const bob = await node.ok(201, 'POST', '/api/tokens', { scope: 'write', user: 'bob' });
  made.push(bob.token);
  await node.ok(201, 'POST', '/api/repos', { name: 'secret', visibility: 'private' }, bob.token);
  const get = await node.api('GET', '/api/repos/bob/secret', undefined, alice.token);
  assert.ok([403, 404].includes(get.status), `GET: ${get.status} ${get.text}`);
  const del = await node.api('DELETE', '/api/repos/bob/secret', undefined, alice.token);
  assert.ok([403, 404].includes(del.status), `DELETE: ${del.status} ${del.text}`);
  const wf = await node.api('POST', '/api/repos/bob/secret/workflows',
                            { yaml: 'on: push\njobs:\n  a:\n    runs-on: default\n    steps:\n      - run: "true"\n' },
                            alice.token);
  assert.ok([403, 404].includes(wf.status), `POST workflows: ${wf.status} ${wf.text}`);
  // A public repository of bob's is readable but not writable by alice.
  await node.ok(201, 'POST', '/api/repos', { name: 'open' }, bob.token);
  await node.ok(200, 'GET', '/api/repos/bob/open', undefined, alice.token);
  const wf2 = await node.api('POST', '/api/repos/bob/open/workflows',
                             { yaml: 'on: push\njobs:\n  a:\n    runs-on: default\n    steps:\n      - run: "true"\n' },
                             alice.token);
  assert.equal(wf2.status, 403, wf2.text);
  // bob still sees his own.
  await node.ok(200, 'GET', '/api/repos/bob/secret', undefined, bob.token);

  // Only admins make tokens for others, and no admin tokens for non-admins.
  const other = await node.api('POST', '/api/tokens', { scope: 'read', user: 'bob' }, alice.token);
  assert.equal(other.status, 403, other.text);
  const adm = await node.api('POST', '/api/tokens', { scope: 'admin', user: 'carol' });
  assert.equal(adm.status, 400, adm.text);
});

test('tokens are not stored in clear', async () => {
  assert.ok(made.length >= 5);
  const files = ['guts.db', 'guts.db-wal', 'guts.db-shm'].map((f) => path.join(node.data, f));
  for (const t of [...made, node.token]) {
    assert.equal(filesContain(files, t), false, `token ${t.slice(0, 8)}… found in the database`);
    // Nor its hex part on its own.
    assert.equal(filesContain(files, t.slice(4)), false);
  }
  // After a checkpoint too: stop the node (SQLite folds the WAL in).
  const s = await node.stop();
  assert.equal(s.code, 0, JSON.stringify(s));
  for (const t of made) assert.equal(filesContain(files, t), false);
  await node.start();
});
