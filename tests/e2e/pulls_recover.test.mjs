// What a kill -9 in the middle of a pull request change leaves, and what
// the next start makes of it.  The node is killed, the store and the bare
// repository are put in the state a crash at that point leaves (the sqlite3
// CLI and git), and the restarted node must finish or forget the change.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { test, startNode, git, run, waitFor } from './harness.mjs';

const WF = `name: Closed
on:
  pull_request:
    types: [closed]
jobs:
  bye:
    runs-on: default
    steps:
      - run: echo bye
`;

let node, repo, bare;
before(async () => {
  node = await startNode({ runners: 0 });
  repo = await node.makeRepo('crash', { 'README.md': 'x\n', '.guts/workflows/closed.yml': WF });
  bare = path.join(node.data, 'repos', 'admin', 'crash.git');
});
after(() => node?.stop());

const sql = async (q) => (await run('sqlite3', [path.join(node.data, 'guts.db'), q])).stdout.trim();
const P = () => `/api/repos/${repo.full}/pulls`;

async function pr(name) {
  await git(['checkout', '-q', '-B', name, 'main'], repo.dir);
  const head = await node.commit(repo, { [`${name}.txt`]: `${name}\n` }, { branch: name });
  await git(['checkout', '-q', 'main'], repo.dir);
  const p = await node.ok(201, 'POST', P(), { title: name, head: name, base: 'main' });
  return { ...p, headSha: head };
}

test('killed after the base moved: the merge is recorded at start, and its closed event runs', async () => {
  const p = await pr('landed');
  await node.kill9();
  // The merge's intent was recorded, then the base moved (a fast-forward).
  await sql(`UPDATE pulls SET pending_action = 'merging', merged_sha = '${p.headSha}', merged_by = 'admin' WHERE number = ${p.number}`);
  await run('git', ['--git-dir', bare, 'update-ref', 'refs/heads/main', p.headSha]);
  await node.start({ samePort: true });
  const got = await node.ok(200, 'GET', `${P()}/${p.number}`);
  assert.equal(got.state, 'closed');
  assert.equal(got.merged, true);
  assert.equal(got.merge_commit_sha, p.headSha);
  assert.equal(got.merged_by.login, 'admin');
  const runs = await node.runs(repo.full, '&event=pull_request');
  assert.equal(runs.filter((r) => r.display_title === 'landed').length, 1, JSON.stringify(runs));
  assert.equal(await sql(`SELECT COALESCE(pending_action, '-') FROM pulls WHERE number = ${p.number}`), '-');
});

test('killed before the base moved: the merge is forgotten and the pull request stays open', async () => {
  const p = await pr('notyet');
  await node.kill9();
  await sql(`UPDATE pulls SET pending_action = 'merging', merged_sha = '${p.headSha}', merged_by = 'admin' WHERE number = ${p.number}`);
  await node.start({ samePort: true });
  const got = await node.ok(200, 'GET', `${P()}/${p.number}`);
  assert.equal(got.state, 'open');
  assert.equal(got.merged, false);
  assert.equal(got.can_merge, true);
  // And it still merges.
  const m = await node.ok(200, 'PUT', `${P()}/${p.number}/merge`, {});
  assert.equal(m.merged, true);
});

test('killed between closing and its event: the closed runs start once at the next start', async () => {
  const p = await pr('closing');
  await node.kill9();
  await sql(`UPDATE pulls SET state = 'closed', closed_at = 1, pending_action = 'closed', event_seq = event_seq + 1 WHERE number = ${p.number}`);
  await node.start({ samePort: true });
  await waitFor(async () => (await node.runs(repo.full, '&event=pull_request')).some((r) => r.display_title === 'closing'),
                5000, 'the closed run');
  await node.restart({ samePort: true });
  const runs = (await node.runs(repo.full, '&event=pull_request')).filter((r) => r.display_title === 'closing');
  assert.equal(runs.length, 1);
});
