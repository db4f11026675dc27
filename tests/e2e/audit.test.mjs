// The audit log: who did what to which object.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode } from './harness.mjs';

let node, alice;
before(async () => { node = await startNode({ runners: 0 }); });
after(() => node?.stop());

async function audit() {
  return node.ok(200, 'GET', '/api/audit?per_page=100');
}

test('GET /api/audit lists repo.create, token.create and git.push with actor and object', async () => {
  const tok = await node.ok(201, 'POST', '/api/tokens', { scope: 'write', user: 'alice', name: 'ci' });
  alice = tok.token;
  const repo = await node.makeRepo('aud', { 'a.txt': 'a\n' });
  await node.ok(201, 'POST', '/api/repos', { name: 'hers' }, alice);

  const entries = await audit();
  assert.ok(Array.isArray(entries));
  for (const e of entries) {
    assert.ok(Number.isInteger(e.id));
    assert.equal(typeof e.action, 'string');
    assert.match(e.created_at, /Z$/);
  }
  const ids = entries.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');

  const find = (action, object) => entries.find((e) => e.action === action && e.object === object);
  const created = find('repo.create', 'admin/aud');
  assert.ok(created, JSON.stringify(entries));
  assert.equal(created.actor, 'admin');
  assert.equal(created.detail?.visibility, 'public');

  const theirs = find('repo.create', 'alice/hers');
  assert.ok(theirs, JSON.stringify(entries));
  assert.equal(theirs.actor, 'alice');

  const token = find('token.create', 'alice');
  assert.ok(token, JSON.stringify(entries));
  assert.equal(token.actor, 'admin');
  assert.equal(token.detail?.scope, 'write');
  assert.equal(token.detail?.id, tok.id);
  // The token itself is never in the audit log.
  assert.ok(!JSON.stringify(entries).includes(tok.token));

  const push = find('git.push', repo.full);
  assert.ok(push, JSON.stringify(entries));
  assert.equal(push.actor, 'admin');
  assert.equal(push.detail?.refs, 1);
  // Each of them after the one before.
  assert.ok(created.id < push.id);
});

test('deletes are audited too', async () => {
  await node.ok(201, 'POST', '/api/repos', { name: 'gone' });
  const r = await node.api('DELETE', '/api/repos/admin/gone');
  assert.equal(r.status, 204);
  const entries = await audit();
  const del = entries.find((e) => e.action === 'repo.delete' && e.object === 'admin/gone');
  assert.ok(del, JSON.stringify(entries.slice(0, 5)));
  assert.equal(del.actor, 'admin');
});

test('only admins read the audit log', async () => {
  const r = await node.api('GET', '/api/audit', undefined, alice);
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'forbidden');
  // The admin user with a write token is not enough either.
  const write = await node.tokenFor('admin', 'write');
  const w = await node.api('GET', '/api/audit', undefined, write);
  assert.equal(w.status, 403, w.text);
  const anon = await node.api('GET', '/api/audit', undefined, null);
  assert.equal(anon.status, 401, anon.text);
});

test('every list pages with ?per_page= and a Link header: audit, workflows, jobs, statuses, runners', async () => {
  const r = await node.api('GET', '/api/audit?per_page=1');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.length, 1);
  assert.match(r.headers.link || '', /rel="next"/);
  const repo = await node.makeRepo('paged', {
    '.guts/workflows/a.yml': 'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: "true"\n  b:\n    runs-on: x\n    steps:\n      - run: "true"\n',
    '.guts/workflows/b.yml': 'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: "true"\n',
  });
  const wf = await node.api('GET', `/api/repos/${repo.full}/workflows?per_page=1`);
  assert.equal(wf.json.length, 1);
  assert.match(wf.headers.link || '', /rel="next"/);
  const wf2 = await node.api('GET', `/api/repos/${repo.full}/workflows?per_page=1&page=2`);
  assert.equal(wf2.json.length, 1);
  assert.notEqual(wf2.json[0].id, wf.json[0].id);
  const runs = await node.runs(repo.full);
  const a = runs.find((x) => x.workflow_path.endsWith('a.yml'));
  const jobs = await node.api('GET', `/api/repos/${repo.full}/runs/${a.id}/jobs?per_page=1`);
  assert.equal(jobs.json.length, 1);
  assert.match(jobs.headers.link || '', /rel="next"/);
  const st = await node.api('GET', `/api/repos/${repo.full}/commits/${repo.sha}/statuses?per_page=2`);
  assert.equal(st.json.length, 2);
  assert.match(st.headers.link || '', /rel="next"/);
});
