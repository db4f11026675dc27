// Commit statuses: posting, listing, and the combined state.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode } from './harness.mjs';

let node, repo, write;
before(async () => {
  node = await startNode({ runners: 0 });
  repo = await node.makeRepo('st', { 'README.md': 'statuses\n' });
  write = await node.tokenFor('admin', 'write');
});
after(() => node?.stop());

const base = () => `/api/repos/${repo.full}/commits`;
const post = (sha, body, token = write) => node.api('POST', `${base()}/${sha}/statuses`, body, token);
const combined = (ref) => node.ok(200, 'GET', `${base()}/${ref}/status`);

test('no statuses yet: combined is pending with none', async () => {
  const c = await combined(repo.sha);
  assert.equal(c.state, 'pending');
  assert.equal(c.total_count, 0);
  assert.deepEqual(c.statuses, []);
  assert.deepEqual(await node.ok(200, 'GET', `${base()}/${repo.sha}/statuses`), []);
});

test('POST a status with a write token: 201', async () => {
  const r = await post(repo.sha, { state: 'success', context: 'lint', description: 'clean',
                                   target_url: 'https://example.invalid/lint/1' });
  assert.equal(r.status, 201, r.text);
  const s = r.json;
  assert.equal(s.sha, repo.sha);
  assert.equal(s.context, 'lint');
  assert.equal(s.state, 'success');
  assert.equal(s.description, 'clean');
  assert.equal(s.target_url, 'https://example.invalid/lint/1');
  assert.equal(s.creator, 'admin');
  assert.ok(Number.isInteger(s.id));
  assert.match(s.created_at, /Z$/);
  // The context defaults to "default".
  const d = await post(repo.sha, { state: 'success' });
  assert.equal(d.status, 201, d.text);
  assert.equal(d.json.context, 'default');
});

test('a bad state is a 422; no or weak tokens are refused', async () => {
  for (const state of ['done', '', 'SUCCESS', 42]) {
    const r = await post(repo.sha, { state, context: 'x' });
    assert.equal(r.status, 422, `${JSON.stringify(state)}: ${r.text}`);
    assert.equal(r.json.error.code, 'unprocessable');
  }
  const missing = await post(repo.sha, { context: 'x' });
  assert.equal(missing.status, 422, missing.text);
  const anon = await post(repo.sha, { state: 'success' }, null);
  assert.equal(anon.status, 401, anon.text);
  const read = await node.tokenFor('admin', 'read');
  const r = await post(repo.sha, { state: 'success' }, read);
  assert.equal(r.status, 403, r.text);
  // A ref that is not a sha nor a branch of the repository.
  const nocommit = await post('no-such-branch', { state: 'success' });
  assert.equal(nocommit.status, 422, nocommit.text);
});

test('GET …/statuses lists every status, newest first', async () => {
  await post(repo.sha, { state: 'pending', context: 'order' });
  await post(repo.sha, { state: 'success', context: 'order' });
  const list = await node.ok(200, 'GET', `${base()}/${repo.sha}/statuses`);
  assert.ok(list.length >= 4, JSON.stringify(list));
  const ids = list.map((s) => s.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
  assert.equal(list[0].context, 'order');
  assert.equal(list[0].state, 'success');
  assert.equal(list[1].context, 'order');
  assert.equal(list[1].state, 'pending');
  // By branch name too.
  const byBranch = await node.ok(200, 'GET', `${base()}/main/statuses`);
  assert.deepEqual(byBranch.map((s) => s.id), ids);
});

test('GET …/commits/main/status resolves the branch and combines the latest per context', async () => {
  // Now: lint success, default success, order success.
  let c = await combined('main');
  assert.equal(c.sha, repo.sha);
  assert.equal(c.state, 'success');
  assert.equal(c.total_count, 3);
  assert.deepEqual(c.statuses.map((s) => s.context).sort(), ['default', 'lint', 'order']);

  // pending wins over success.
  assert.equal((await post(repo.sha, { state: 'pending', context: 'build' })).status, 201);
  c = await combined('main');
  assert.equal(c.state, 'pending');
  assert.equal(c.total_count, 4);

  // failure wins over pending.
  assert.equal((await post(repo.sha, { state: 'failure', context: 'lint' })).status, 201);
  c = await combined('main');
  assert.equal(c.state, 'failure');
  assert.equal(c.total_count, 4, 'the latest per context only');
  assert.equal(c.statuses.find((s) => s.context === 'lint').state, 'failure');

  // Fixed: back to pending, then success.
  assert.equal((await post(repo.sha, { state: 'success', context: 'lint' })).status, 201);
  assert.equal((await combined('main')).state, 'pending');
  assert.equal((await post(repo.sha, { state: 'success', context: 'build' })).status, 201);
  assert.equal((await combined('main')).state, 'success');

  // error counts as failure.
  assert.equal((await post(repo.sha, { state: 'error', context: 'deploy' })).status, 201);
  assert.equal((await combined('main')).state, 'failure');
  assert.equal((await combined(repo.sha)).state, 'failure');

  // A new commit on main has its own, empty, combined status.
  const sha2 = await node.commit(repo, { 'b.txt': 'b\n' });
  c = await combined('main');
  assert.equal(c.sha, sha2);
  assert.equal(c.state, 'pending');
  assert.equal(c.total_count, 0);
  // An unknown ref.
  const none = await node.api('GET', `${base()}/no-such-branch/status`);
  assert.equal(none.status, 404, none.text);
});
