// Many pushes at once: one run per pushed branch, none lost or doubled,
// and a restart does not replay them.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { test, startNode, git, tmpdir, writeFiles, sleep, CI_YML } from './harness.mjs';

let node, repo;
const N = 8;
const pushed = {}; // branch -> sha

before(async () => { node = await startNode({ runners: 0 }); });
after(() => node?.stop());

test(`${N} clones push to ${N} branches at the same time: ${N} runs, one per branch`, async () => {
  repo = await node.makeRepo('many', { '.guts/workflows/ci.yml': CI_YML, 'base.txt': 'base\n' });
  assert.equal((await node.runs(repo.full)).length, 1);
  const root = tmpdir('clones');
  const dirs = Array.from({ length: N }, (_, i) => path.join(root, `c${i + 1}`));
  await Promise.all(dirs.map((d) => git(['clone', '-q', node.remote(repo.full), d])));
  const shas = await Promise.all(dirs.map(async (d, i) => {
    writeFiles(d, { [`file-${i + 1}.txt`]: `${i + 1}\n` });
    await git(['add', '-A'], d);
    await git(['commit', '-q', '-m', `branch b${i + 1}`], d);
    return (await git(['rev-parse', 'HEAD'], d)).stdout.trim();
  }));
  // All pushes at once.
  await Promise.all(dirs.map((d, i) =>
    git(['push', '-q', node.remote(repo.full), `HEAD:refs/heads/b${i + 1}`], d)));
  shas.forEach((s, i) => { pushed[`b${i + 1}`] = s; });

  const runs = await node.runs(repo.full);
  const onBranches = runs.filter((r) => r.head_branch !== 'main');
  assert.equal(onBranches.length, N, JSON.stringify(runs.map((r) => [r.id, r.head_branch])));
  assert.equal(runs.length, N + 1);
  for (const [branch, sha] of Object.entries(pushed)) {
    const mine = runs.filter((r) => r.head_branch === branch);
    assert.equal(mine.length, 1, `runs of ${branch}: ${mine.length}`);
    assert.equal(mine[0].head_sha, sha);
    assert.equal(mine[0].event, 'push');
  }
  assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
  const numbers = runs.map((r) => r.run_number).sort((a, b) => a - b);
  assert.deepEqual(numbers, Array.from({ length: N + 1 }, (_, i) => i + 1));
  // Every branch is on the node.
  const heads = (await git(['ls-remote', '--heads', node.remote(repo.full)], repo.dir)).stdout;
  for (const [branch, sha] of Object.entries(pushed)) {
    assert.match(heads, new RegExp(`^${sha}\\trefs/heads/${branch}$`, 'm'));
  }
});

test('a restart on the same data directory keeps the run count', async () => {
  const before = (await node.runs(repo.full)).map((r) => r.id).sort((a, b) => a - b);
  assert.equal(before.length, N + 1);
  const port = node.port;
  const s = await node.stop();
  assert.equal(s.code, 0, `guts-node exited ${JSON.stringify(s)}`);
  await node.start();
  assert.notEqual(node.url, undefined);
  // Past a scheduler tick too.
  await sleep(1200);
  const afterRuns = await node.runs(repo.full);
  assert.deepEqual(afterRuns.map((r) => r.id).sort((a, b) => a - b), before,
                   `port ${port} → ${node.port}`);
  for (const [branch, sha] of Object.entries(pushed)) {
    const mine = afterRuns.filter((r) => r.head_branch === branch);
    assert.equal(mine.length, 1, branch);
    assert.equal(mine[0].head_sha, sha);
  }
  // And a new push after the restart still gives exactly one more.
  await node.commit(repo, { 'after.txt': 'after\n' }, { branch: 'b9' });
  const later = await node.runs(repo.full);
  assert.equal(later.length, N + 2);
  assert.equal(later.filter((r) => r.head_branch === 'b9').length, 1);
});
