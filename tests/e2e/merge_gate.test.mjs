// The merge gate: branch protection with required checks refuses to merge a
// pull request until its checks pass, with real pushes and a real runner.
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
      - run: test -f ok
`;

const SRC = `name: Src
on:
  pull_request:
    paths: ['src/**']
jobs:
  test:
    runs-on: default
    steps:
      - uses: actions/checkout@v4
      - run: "false"
`;

let node, repo;
before(async () => {
  node = await startNode({ runners: HAVE_RUNNER ? 1 : 0 });
  repo = await node.makeRepo('gate', {
    'ok': 'yes\n', 'README.md': 'gate\n',
    '.guts/workflows/ci.yml': CI, '.guts/workflows/src.yml': SRC,
  });
});
after(() => node?.stop());

const P = () => `/api/repos/${repo.full}/pulls`;
async function protect(branch, body) {
  const r = await node.api('PUT', `/api/repos/${repo.full}/branches/${encodeURIComponent(branch)}/protection`, body);
  assert.ok(r.status === 200 || r.status === 201, r.text);
  return r.json;
}

async function branch(name, files) {
  await git(['checkout', '-q', '-B', name, 'main'], repo.dir);
  const sha = await node.commit(repo, files, { branch: name, message: name });
  return sha;
}

async function contextState(sha, context) {
  const c = await node.ok(200, 'GET', `/api/repos/${repo.full}/commits/${sha}/status`);
  return c.statuses.find((s) => s.context === context);
}

async function waitContext(sha, context, states) {
  return waitFor(async () => {
    const s = await contextState(sha, context);
    return s && states.includes(s.state) && s;
  }, 60000, `${context} on ${sha.slice(0, 12)} to be ${states}`);
}

test('merge gate: a failing required check blocks the merge; a fix passes and merges', { skip: !HAVE_RUNNER }, async () => {
  await protect('main', { required_status_checks: { contexts: ['CI / Build'], strict: false },
                          require_pull_request: true, allow_force_push: false });
  const bad = await branch('feature', { ok: null, 'feature.txt': 'f\n' });
  const pr = await node.ok(201, 'POST', P(), { title: 'Feature', head: 'feature', base: 'main' });
  // While the check is pending, or once it failed, the merge is refused
  // and the message names the context and its state.
  const early = await node.api('PUT', `${P()}/${pr.number}/merge`, {});
  assert.equal(early.status, 409, early.text);
  assert.match(early.json.error.message, /CI \/ Build: (pending|failure)/);
  await waitContext(bad, 'CI / Build', ['failure']);
  const refused = await node.api('PUT', `${P()}/${pr.number}/merge`, {});
  assert.equal(refused.status, 409, refused.text);
  assert.match(refused.json.error.message, /CI \/ Build: failure/);
  const view = await node.ok(200, 'GET', `${P()}/${pr.number}`);
  assert.equal(view.can_merge, false);
  assert.match(view.merge_blockers.join('\n'), /CI \/ Build: failure/);

  // The fix: a push to the head branch re-runs the checks.
  const fixed = await node.commit(repo, { ok: 'yes\n' }, { branch: 'feature', message: 'fix' });
  await waitContext(fixed, 'CI / Build', ['success']);
  const m = await node.ok(200, 'PUT', `${P()}/${pr.number}/merge`, { merge_method: 'merge' });
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  assert.equal((await git(['rev-parse', 'FETCH_HEAD'], repo.dir)).stdout.trim(), m.sha);
  assert.equal((await git(['log', '-1', '--format=%P', 'FETCH_HEAD'], repo.dir)).stdout.trim().split(' ')[1], fixed);
  const done = await node.ok(200, 'GET', `${P()}/${pr.number}`);
  assert.equal(done.merged, true);
});

test('protected pushes: a direct push to main is refused with our message; so is a force push', async () => {
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  await git(['checkout', '-q', '-B', 'main', 'FETCH_HEAD'], repo.dir);
  await git(['commit', '-q', '--allow-empty', '-m', 'direct'], repo.dir);
  const direct = await git(['push', node.remote(repo.full), 'HEAD:refs/heads/main'], repo.dir, { check: false });
  assert.notEqual(direct.code, 0);
  assert.match(direct.stderr, /pull request/);
  // Force: not even allowed without require_pull_request.
  await protect('main', { required_status_checks: { contexts: ['CI / Build'], strict: false },
                          require_pull_request: false, allow_force_push: false });
  // A history that does not contain main's: not a fast-forward.
  await git(['checkout', '-q', '--orphan', 'rewrite'], repo.dir);
  await git(['commit', '-q', '--allow-empty', '-m', 'rewrite'], repo.dir);
  const force = await git(['push', '-f', node.remote(repo.full), 'HEAD:refs/heads/main'], repo.dir, { check: false });
  assert.notEqual(force.code, 0);
  assert.match(force.stderr, /force/);
  await git(['checkout', '-q', '-f', 'main'], repo.dir);
  await protect('main', { required_status_checks: { contexts: ['CI / Build'], strict: false },
                          require_pull_request: true, allow_force_push: false });
});

test('path filters: a docs-only pull request can merge under a required src/** workflow', { skip: !HAVE_RUNNER }, async () => {
  await protect('main', { required_status_checks: { contexts: ['CI / Build', 'Src / test'], strict: false },
                          require_pull_request: true, allow_force_push: false });
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  await git(['checkout', '-q', '-B', 'main', 'FETCH_HEAD'], repo.dir);
  const head = await branch('docs-only', { 'docs/guide.md': '# guide\n' });
  const pr = await node.ok(201, 'POST', P(), { title: 'Docs', head: 'docs-only', base: 'main' });
  const skipped = await waitContext(head, 'Src / test', ['success', 'failure']);
  assert.equal(skipped.state, 'success');
  assert.equal(skipped.description, 'skipped: no matching paths');
  await waitContext(head, 'CI / Build', ['success']);
  const m = await node.ok(200, 'PUT', `${P()}/${pr.number}/merge`, {});
  assert.ok(m.merged);
});

test('a missing required check blocks; only an admin bypass merges, and the audit log says so', async () => {
  await protect('main', { required_status_checks: { contexts: ['lint*'], strict: false },
                          require_pull_request: true, allow_force_push: false });
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  await git(['checkout', '-q', '-B', 'main', 'FETCH_HEAD'], repo.dir);
  await branch('nolint', { 'n.txt': 'n\n' });
  const pr = await node.ok(201, 'POST', P(), { title: 'No lint', head: 'nolint', base: 'main' });
  const r = await node.api('PUT', `${P()}/${pr.number}/merge`, {});
  assert.equal(r.status, 409, r.text);
  assert.match(r.json.error.message, /lint\*: missing/);
  const writer = await node.tokenFor('admin', 'write');
  const notAdmin = await node.api('PUT', `${P()}/${pr.number}/merge?bypass=1`, {}, writer);
  assert.equal(notAdmin.status, 403, notAdmin.text);
  const admin = await node.tokenFor('admin', 'admin');
  const ok = await node.api('PUT', `${P()}/${pr.number}/merge?bypass=1`, {}, admin);
  assert.equal(ok.status, 200, ok.text);
  const audit = await node.ok(200, 'GET', '/api/audit?per_page=100');
  assert.ok(audit.some((e) => e.action === 'pull.merge.bypass'), JSON.stringify(audit.map((e) => e.action)));
});

test('strict: a head behind the base is refused until it is updated', async () => {
  await protect('main', { required_status_checks: { contexts: [], strict: true },
                          require_pull_request: true, allow_force_push: false });
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  await git(['checkout', '-q', '-B', 'main', 'FETCH_HEAD'], repo.dir);
  const old = (await git(['rev-parse', 'HEAD~1'], repo.dir)).stdout.trim();
  await git(['checkout', '-q', '-B', 'stale', old], repo.dir);
  await node.commit(repo, { 's.txt': 's\n' }, { branch: 'stale' });
  const pr = await node.ok(201, 'POST', P(), { title: 'Stale', head: 'stale', base: 'main' });
  const r = await node.api('PUT', `${P()}/${pr.number}/merge`, {});
  assert.equal(r.status, 409, r.text);
  assert.match(r.json.error.message, /behind/);
});
