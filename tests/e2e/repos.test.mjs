// Repositories: create, list, get, delete, conflicts and pagination.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, startNode, request, nextLink } from './harness.mjs';

let node;
before(async () => { node = await startNode({ runners: 0 }); });
after(() => node?.stop());

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

test('create a public and a private repository', async () => {
  const pub = await node.ok(201, 'POST', '/api/repos', { name: 'pub', visibility: 'public' });
  assert.equal(pub.owner, 'admin');
  assert.equal(pub.name, 'pub');
  assert.equal(pub.full_name, 'admin/pub');
  assert.equal(pub.visibility, 'public');
  assert.equal(pub.default_branch, 'main');
  assert.equal(pub.clone_url, `${node.url}/admin/pub.git`);
  assert.ok(Number.isInteger(pub.id));
  assert.match(pub.created_at, RFC3339);
  assert.match(pub.updated_at, RFC3339);
  const priv = await node.ok(201, 'POST', '/api/repos', { name: 'priv', visibility: 'private' });
  assert.equal(priv.visibility, 'private');
  assert.notEqual(priv.id, pub.id);
  // The default visibility is public; a bad one is refused.
  const dflt = await node.ok(201, 'POST', '/api/repos', { name: 'dflt' });
  assert.equal(dflt.visibility, 'public');
  const bad = await node.api('POST', '/api/repos', { name: 'vis', visibility: 'secret' });
  assert.equal(bad.status, 400, bad.text);
  // An admin creates for another owner.
  const other = await node.ok(201, 'POST', '/api/repos', { name: 'theirs', owner: 'someone' });
  assert.equal(other.full_name, 'someone/theirs');
});

test('listing: anonymous callers see only public repositories', async () => {
  const anon = await node.ok(200, 'GET', '/api/repos', undefined, null);
  const names = anon.map((r) => r.full_name);
  assert.ok(names.includes('admin/pub'), names.join(','));
  assert.ok(!names.includes('admin/priv'), names.join(','));
  assert.ok(anon.every((r) => r.visibility === 'public'));
  const admin = (await node.ok(200, 'GET', '/api/repos')).map((r) => r.full_name);
  assert.ok(admin.includes('admin/pub') && admin.includes('admin/priv'), admin.join(','));
  // Another user sees the public ones, not admin's private one.
  const t = await node.tokenFor('viewer', 'read');
  const theirs = (await node.ok(200, 'GET', '/api/repos', undefined, t)).map((r) => r.full_name);
  assert.ok(theirs.includes('admin/pub') && !theirs.includes('admin/priv'), theirs.join(','));
});

test('get one: private ones look missing without a token', async () => {
  const pub = await node.ok(200, 'GET', '/api/repos/admin/pub', undefined, null);
  assert.equal(pub.full_name, 'admin/pub');
  const r = await node.api('GET', '/api/repos/admin/priv', undefined, null);
  assert.equal(r.status, 404, r.text);
  assert.equal(r.json.error.code, 'not_found');
  const priv = await node.ok(200, 'GET', '/api/repos/admin/priv');
  assert.equal(priv.visibility, 'private');
  const none = await node.api('GET', '/api/repos/admin/nosuch');
  assert.equal(none.status, 404);
  assert.equal(none.json.error.code, 'not_found');
});

test('a duplicate is a 409 conflict', async () => {
  const r = await node.api('POST', '/api/repos', { name: 'pub' });
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.code, 'conflict');
  const r2 = await node.api('POST', '/api/repos', { name: 'priv', visibility: 'public' });
  assert.equal(r2.status, 409, r2.text);
});

test('delete needs admin; then the repository is gone', async () => {
  await node.ok(201, 'POST', '/api/repos', { name: 'doomed' });
  const gitdir = path.join(node.data, 'repos', 'admin', 'doomed.git');
  assert.ok(fs.existsSync(gitdir), `${gitdir} should exist`);
  const write = await node.tokenFor('admin', 'write');
  const denied = await node.api('DELETE', '/api/repos/admin/doomed', undefined, write);
  assert.equal(denied.status, 403, denied.text);
  const anon = await node.api('DELETE', '/api/repos/admin/doomed', undefined, null);
  assert.equal(anon.status, 401, anon.text);
  const r = await node.api('DELETE', '/api/repos/admin/doomed');
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assert.equal((await node.api('GET', '/api/repos/admin/doomed')).status, 404);
  const list = (await node.ok(200, 'GET', '/api/repos?per_page=100')).map((x) => x.full_name);
  assert.ok(!list.includes('admin/doomed'));
  assert.ok(!fs.existsSync(gitdir), `${gitdir} should be gone`);
  assert.equal((await node.api('DELETE', '/api/repos/admin/doomed')).status, 404);
  // The name can be used again.
  await node.ok(201, 'POST', '/api/repos', { name: 'doomed' });
});

test('pagination: per_page=2 over 5 repositories, following rel="next"', async () => {
  const t = await node.tokenFor('pager', 'write');
  const mine = [];
  for (let i = 1; i <= 5; i++) {
    const r = await node.ok(201, 'POST', '/api/repos', { name: `page-${i}`, visibility: 'private' }, t);
    mine.push(r.full_name);
  }
  // What pager can read in one page: its 5 private ones and everyone's public ones.
  const all = (await node.ok(200, 'GET', '/api/repos?per_page=100', undefined, t))
    .map((r) => r.full_name);
  for (const m of mine) assert.ok(all.includes(m), `${m} in ${all}`);

  const first = await node.api('GET', '/api/repos?per_page=2', undefined, t);
  assert.equal(first.status, 200);
  assert.equal(first.json.length, 2);
  assert.match(first.headers.link, /rel="next"/);
  assert.match(first.headers.link, /rel="first"/);
  assert.doesNotMatch(first.headers.link, /rel="prev"/);

  const seen = first.json.map((r) => r.full_name);
  let url = nextLink(first.headers);
  let pages = 1;
  let last;
  while (url) {
    assert.ok(pages < 50, 'too many pages');
    assert.match(url, /per_page=2/);
    const r = await request(url, { headers: { Authorization: `Bearer ${t}` } });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.length >= 1 && r.json.length <= 2);
    assert.match(r.headers.link, /rel="prev"/);
    seen.push(...r.json.map((x) => x.full_name));
    last = r;
    url = nextLink(r.headers);
    pages++;
  }
  assert.ok(pages >= 3, `${pages} pages`);
  assert.doesNotMatch(last.headers.link, /rel="next"/);
  // Every repository exactly once, ours included.
  assert.equal(new Set(seen).size, seen.length, `duplicates in ${seen}`);
  assert.deepEqual([...seen].sort(), [...all].sort());
  for (const m of mine) assert.equal(seen.filter((s) => s === m).length, 1, m);

  // pager's five among them, each once.
  const ours = seen.filter((s) => s.startsWith('pager/'));
  assert.deepEqual(ours.sort(), mine.sort());
});

test('pagination bounds: per_page is capped at 100, page past the end is empty', async () => {
  const r = await node.api('GET', '/api/repos?per_page=1000');
  assert.equal(r.status, 200);
  assert.ok(r.json.length <= 100);
  const far = await node.api('GET', '/api/repos?page=999&per_page=2');
  assert.equal(far.status, 200);
  assert.deepEqual(far.json, []);
});
