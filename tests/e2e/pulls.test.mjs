// Pull requests: refs/pull/N/{head,merge}, the pull_request trigger, merges
// through libgit2, conflicts, and path-filtered workflows' statuses.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, git, waitFor, HAVE_RUNNER } from './harness.mjs';

const CI = `name: CI
on:
  pull_request:
  push:
    branches: [main]
jobs:
  build:
    name: Build
    runs-on: default
    steps:
      - uses: actions/checkout@v4
      - run: echo "ref=\${{ github.ref }} num=\${{ github.event.pull_request.number }} action=\${{ github.event.action }} head=\${{ github.head_ref }} base=\${{ github.base_ref }} sha=\${{ github.sha }}"
      - run: test -f ok
`;

const SRC_ONLY = `name: Src
on:
  pull_request:
    paths: ['src/**']
jobs:
  test:
    runs-on: default
    steps:
      - run: "true"
`;

let node, repo;
before(async () => {
  node = await startNode({ runners: HAVE_RUNNER ? 1 : 0 });
  repo = await node.makeRepo('prs', {
    'README.md': 'pull requests\n',
    'ok': 'yes\n',
    '.guts/workflows/ci.yml': CI,
    '.guts/workflows/src.yml': SRC_ONLY,
  });
});
after(() => node?.stop());

const P = () => `/api/repos/${repo.full}/pulls`;

async function branch(name, files, { from = 'main', message = name } = {}) {
  await git(['checkout', '-q', '-B', name, from], repo.dir);
  const sha = await node.commit(repo, files, { branch: name, message });
  await git(['checkout', '-q', 'main'], repo.dir);
  return sha;
}

async function lsRemote() {
  const out = (await git(['ls-remote', node.remote(repo.full)], repo.dir)).stdout;
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split('\t').reverse()));
}

async function runsOf(event, pred = () => true) {
  return (await node.runs(repo.full, `&event=${event}`)).filter(pred);
}

test('create, read and list: numbered per repository, refs kept, validation names the field', async () => {
  const head = await branch('feature-a', { 'a.txt': 'a\n' });
  const pr = await node.ok(201, 'POST', P(), { title: 'Add a', body: 'the body', head: 'feature-a', base: 'main' });
  assert.equal(pr.number, 1);
  assert.equal(pr.state, 'open');
  assert.equal(pr.head.ref, 'feature-a');
  assert.equal(pr.head.sha, head);
  assert.equal(pr.base.ref, 'main');
  assert.equal(pr.mergeable, true);
  assert.equal(pr.user.login, 'admin');
  assert.match(pr.merge_commit_sha, /^[0-9a-f]{40}$/);
  const refs = await lsRemote();
  assert.equal(refs['refs/pull/1/head'], head);
  assert.equal(refs['refs/pull/1/merge'], pr.merge_commit_sha);
  // The test merge has parents base, head.
  await git(['fetch', '-q', node.remote(repo.full), 'refs/pull/1/merge'], repo.dir);
  const parents = (await git(['log', '-1', '--format=%P', 'FETCH_HEAD'], repo.dir)).stdout.trim().split(' ');
  assert.deepEqual(parents, [repo.sha, head]);

  const got = await node.ok(200, 'GET', `${P()}/1`);
  assert.equal(got.title, 'Add a');
  assert.equal(got.can_merge, true);
  assert.deepEqual(got.merge_blockers, []);
  const list = await node.ok(200, 'GET', P());
  assert.deepEqual(list.map((p) => p.number), [1]);

  for (const [body, field] of [[{ head: 'feature-a', base: 'main' }, 'title'],
                               [{ title: 't', base: 'main' }, 'head'],
                               [{ title: 't', head: 'nope', base: 'main' }, 'head'],
                               [{ title: 't', head: 'feature-a', base: 'nope' }, 'base'],
                               [{ title: 7, head: 'feature-a', base: 'main' }, 'title']]) {
    const r = await node.api('POST', P(), body);
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.error.message, new RegExp(`^${field}`), r.text);
  }
  const dup = await node.api('POST', P(), { title: 'again', head: 'feature-a', base: 'main' });
  assert.equal(dup.status, 422, dup.text);
  assert.match(dup.json.error.message, /already open \(#1\)/);
  const read = await node.tokenFor('admin', 'read');
  const ro = await node.api('POST', P(), { title: 't', head: 'feature-a', base: 'main' }, read);
  assert.equal(ro.status, 403, ro.text);
  assert.equal((await node.api('GET', `${P()}/99`)).status, 404);
});

test('opening runs pull_request workflows on the test merge; statuses go to the head sha', { skip: !HAVE_RUNNER }, async () => {
  const pr = await node.ok(200, 'GET', `${P()}/1`);
  const [run] = await waitFor(async () => {
    const rs = await runsOf('pull_request', (r) => r.workflow_name === 'CI');
    return rs.length && rs;
  }, 10000, 'the pull_request run');
  assert.equal(run.ref, 'refs/pull/1/merge');
  assert.equal(run.sha, pr.merge_commit_sha);
  assert.equal(run.head_sha, pr.head.sha);
  const done = await node.waitRun(repo.full, run.id);
  const [job] = await node.jobs(repo.full, run.id);
  const log = await node.log(repo.full, job.id);
  assert.equal(done.conclusion, 'success', log);
  assert.match(log, new RegExp(`ref=refs/pull/1/merge num=1 action=opened head=feature-a base=main sha=${pr.merge_commit_sha}`));
  const c = await node.ok(200, 'GET', `/api/repos/${repo.full}/commits/${pr.head.sha}/status`);
  const ctx = Object.fromEntries(c.statuses.map((s) => [s.context, s]));
  assert.equal(ctx['CI / Build'].state, 'success');
  // The src/** workflow did not run: its context is a success that says why.
  assert.equal(ctx['Src / test'].state, 'success');
  assert.equal(ctx['Src / test'].description, 'skipped: no matching paths');
  assert.equal((await runsOf('pull_request', (r) => r.workflow_name === 'Src')).length, 0);
  assert.equal(c.state, 'success');
});

test('a push to the head branch synchronizes: new refs, new test merge, new run', { skip: !HAVE_RUNNER }, async () => {
  const before = await node.ok(200, 'GET', `${P()}/1`);
  await git(['checkout', '-q', 'feature-a'], repo.dir);
  const head = await node.commit(repo, { 'src/x.c': 'int x;\n' }, { branch: 'feature-a' });
  await git(['checkout', '-q', 'main'], repo.dir);
  const pr = await node.ok(200, 'GET', `${P()}/1`);
  assert.equal(pr.head.sha, head);
  assert.notEqual(pr.merge_commit_sha, before.merge_commit_sha);
  assert.equal((await lsRemote())['refs/pull/1/head'], head);
  const src = await waitFor(async () => {
    const rs = await runsOf('pull_request', (r) => r.workflow_name === 'Src');
    return rs.length && rs[0];
  }, 10000, 'the Src run now that src/ changed');
  assert.equal(src.head_sha, head);
  const ci = (await runsOf('pull_request', (r) => r.workflow_name === 'CI' && r.head_sha === head))[0];
  const [job] = await node.jobs(repo.full, (await node.waitRun(repo.full, ci.id)).id);
  assert.match(await node.log(repo.full, job.id), /action=synchronize/);
});

test('conflicts: mergeable false, no test merge, 409 with the paths', async () => {
  await branch('left', { 'clash.txt': 'left\n' });
  await branch('right', { 'clash.txt': 'right\n' });
  // right -> left conflicts on clash.txt.
  const pr = await node.ok(201, 'POST', P(), { title: 'clash', head: 'right', base: 'left' });
  assert.equal(pr.mergeable, false);
  assert.deepEqual(pr.conflicts, ['clash.txt']);
  assert.equal(pr.merge_commit_sha, null);
  assert.equal((await lsRemote())[`refs/pull/${pr.number}/merge`], undefined);
  const got = await node.ok(200, 'GET', `${P()}/${pr.number}`);
  assert.equal(got.can_merge, false);
  assert.match(got.merge_blockers[0], /conflicts/);
  const m = await node.api('PUT', `${P()}/${pr.number}/merge`, { merge_method: 'merge' });
  assert.equal(m.status, 409, m.text);
  assert.deepEqual(m.json.error.conflicts, ['clash.txt']);
  assert.match(m.json.error.message, /clash\.txt/);
  // Close and reopen.
  const closed = await node.ok(200, 'PATCH', `${P()}/${pr.number}`, { state: 'closed' });
  assert.equal(closed.state, 'closed');
  assert.match(closed.closed_at, /Z$/);
  assert.deepEqual((await node.ok(200, 'GET', `${P()}?state=closed`)).map((p) => p.number), [pr.number]);
  const reopened = await node.ok(200, 'PATCH', `${P()}/${pr.number}`, { state: 'open' });
  assert.equal(reopened.state, 'open');
  assert.equal(reopened.closed_at, null);
  const bad = await node.api('PATCH', `${P()}/${pr.number}`, { state: 'merged' });
  assert.equal(bad.status, 422, bad.text);
  await node.ok(200, 'PATCH', `${P()}/${pr.number}`, { state: 'closed' });
});

test('merge methods: merge commit, squash, fast-forward; the merged pull request is closed with its sha', async () => {
  // merge
  let main = (await lsRemote())['refs/heads/main'];
  const pr1 = await node.ok(200, 'GET', `${P()}/1`);
  const m = await node.ok(200, 'PUT', `${P()}/1/merge`, { merge_method: 'merge' });
  assert.equal(m.merged, true);
  let refs = await lsRemote();
  assert.equal(refs['refs/heads/main'], m.sha);
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  assert.equal((await git(['log', '-1', '--format=%P', 'FETCH_HEAD'], repo.dir)).stdout.trim(),
               `${main} ${pr1.head.sha}`);
  assert.match((await git(['log', '-1', '--format=%s', 'FETCH_HEAD'], repo.dir)).stdout, /Merge pull request #1 from admin\/feature-a/);
  const merged = await node.ok(200, 'GET', `${P()}/1`);
  assert.equal(merged.state, 'closed');
  assert.equal(merged.merged, true);
  assert.equal(merged.merge_commit_sha, m.sha);
  assert.equal(merged.merged_by.login, 'admin');
  const again = await node.api('PUT', `${P()}/1/merge`, {});
  assert.equal(again.status, 409, again.text);
  assert.match(again.json.error.message, /already merged/);
  const reopen = await node.api('PATCH', `${P()}/1`, { state: 'open' });
  assert.equal(reopen.status, 422, reopen.text);

  // squash: one parent, the head's tree.
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  await git(['checkout', '-q', '-B', 'main', 'FETCH_HEAD'], repo.dir);
  const sq = await branch('squashme', { 's1.txt': '1\n' });
  await git(['checkout', '-q', 'squashme'], repo.dir);
  const sq2 = await node.commit(repo, { 's2.txt': '2\n' }, { branch: 'squashme' });
  await git(['checkout', '-q', 'main'], repo.dir);
  assert.ok(sq);
  const p2 = await node.ok(201, 'POST', P(), { title: 'Squash these', head: 'squashme', base: 'main' });
  main = (await lsRemote())['refs/heads/main'];
  const s = await node.ok(200, 'PUT', `${P()}/${p2.number}/merge`, { merge_method: 'squash' });
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  assert.equal((await git(['log', '-1', '--format=%P', 'FETCH_HEAD'], repo.dir)).stdout.trim(), main);
  assert.equal((await git(['log', '-1', '--format=%s', 'FETCH_HEAD'], repo.dir)).stdout.trim(), `Squash these (#${p2.number})`);
  assert.equal((await git(['rev-parse', 'FETCH_HEAD^{tree}'], repo.dir)).stdout,
               (await git(['rev-parse', `${sq2}^{tree}`], repo.dir)).stdout);
  assert.equal(s.sha, (await git(['rev-parse', 'FETCH_HEAD'], repo.dir)).stdout.trim());

  // fast-forward: refused when main has moved on, done when it has not.
  await git(['checkout', '-q', '-B', 'main', 'FETCH_HEAD'], repo.dir);
  const ff = await branch('ffme', { 'ff.txt': 'ff\n' });
  const p3 = await node.ok(201, 'POST', P(), { title: 'ff', head: 'ffme', base: 'main' });
  const f = await node.ok(200, 'PUT', `${P()}/${p3.number}/merge`, { merge_method: 'fast-forward' });
  assert.equal(f.sha, ff);
  refs = await lsRemote();
  assert.equal(refs['refs/heads/main'], ff);
  const behind = await branch('behind', { 'b.txt': 'b\n' }, { from: repo.sha });
  const p4 = await node.ok(201, 'POST', P(), { title: 'behind', head: 'behind', base: 'main' });
  const nf = await node.api('PUT', `${P()}/${p4.number}/merge`, { merge_method: 'fast-forward' });
  assert.equal(nf.status, 409, nf.text);
  assert.match(nf.json.error.message, /cannot fast-forward/);
  assert.ok(behind);
  const bad = await node.api('PUT', `${P()}/${p4.number}/merge`, { merge_method: 'rebase' });
  assert.equal(bad.status, 422, bad.text);
  // A stale expected head sha is refused.
  const stale = await node.api('PUT', `${P()}/${p4.number}/merge`, { sha: repo.sha });
  assert.equal(stale.status, 409, stale.text);
  assert.match(stale.json.error.message, /moved/);
});

test('a merge is a push to the base: its push workflows run; closed runs the closed event', { skip: !HAVE_RUNNER }, async () => {
  const refs = await lsRemote();
  const push = await waitFor(async () => {
    const rs = await runsOf('push', (r) => r.sha === refs['refs/heads/main']);
    return rs.length && rs[0];
  }, 10000, 'the push run of the merged main');
  assert.equal(push.ref, 'refs/heads/main');
  // No workflow listens to `closed` (the default types), so none ran for it.
  const closed = (await runsOf('pull_request')).filter((r) => r.display_title === 'ff');
  assert.equal(closed.length, 1, JSON.stringify(closed));
});

test('merges and pull request changes are audited', async () => {
  const a = await node.ok(200, 'GET', '/api/audit?per_page=100');
  const actions = a.map((e) => e.action);
  for (const want of ['pull.create', 'pull.merge', 'pull.state'])
    assert.ok(actions.includes(want), `${want} in ${actions}`);
});

test('the node\'s refs/pull/* cannot be pushed to', async () => {
  const r = await git(['push', node.remote(repo.full), `${repo.sha}:refs/pull/1/merge`], repo.dir, { check: false });
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /hidden ref|rejected/);
});

test('a push is never path-skipped: a docs-only push on untested code does not pass the check', async () => {
  const wf = 'name: PushSrc\non:\n  push:\n    paths: [\'src/**\']\njobs:\n  t:\n    runs-on: default\n    steps:\n      - run: "false"\n';
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  await git(['checkout', '-q', '-B', 'main', 'FETCH_HEAD'], repo.dir);
  await branch('sneaky', { '.guts/workflows/pushsrc.yml': wf, 'src/broken.c': 'broken\n' });
  await git(['checkout', '-q', 'sneaky'], repo.dir);
  const docs = await node.commit(repo, { 'docs/x.md': 'x\n' }, { branch: 'sneaky' });
  await git(['checkout', '-q', 'main'], repo.dir);
  const c = await node.ok(200, 'GET', `/api/repos/${repo.full}/commits/${docs}/status`);
  assert.equal(c.statuses.find((s) => s.context === 'PushSrc / t'), undefined, JSON.stringify(c.statuses));
});

test('a restart starts no pull_request runs again', async () => {
  const before = (await runsOf('pull_request')).length;
  await node.restart();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await runsOf('pull_request')).length, before);
});
