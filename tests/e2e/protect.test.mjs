// Branch protection: the rules' API, and pushes refused at receive time
// with a message git shows (docs/protection.md).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, git, CI_YML } from './harness.mjs';

let node, repo, base;
before(async () => {
  node = await startNode({ runners: 0 });
  repo = await node.makeRepo('prot', { '.guts/workflows/ci.yml': CI_YML, 'a.txt': 'a\n' });
  base = `/api/repos/${repo.full}`;
});
after(() => node?.stop());

const rulePath = (pattern) => `${base}/branches/${pattern}/protection`;

async function headOf(branch) {
  const out = (await git(['ls-remote', node.remote(repo.full), `refs/heads/${branch}`],
                         repo.dir)).stdout;
  return out.split(/\s+/)[0] || null;
}

async function push(args, token = repo.token) {
  return git(['push', node.remote(repo.full, token), ...args], repo.dir, { check: false });
}

async function runCount() {
  return (await node.runs(repo.full)).length;
}

test('a rule is created, read, listed, replaced and deleted', async () => {
  const body = {
    required_status_checks: { contexts: ['CI / build', 'lint*', 'CI / build'], strict: true },
    require_pull_request: false,
    allow_force_push: false,
  };
  const made = await node.ok(201, 'PUT', rulePath('main'), body);
  assert.equal(made.pattern, 'main');
  assert.deepEqual(made.required_status_checks, { contexts: ['CI / build', 'lint*'], strict: true });
  assert.equal(made.require_pull_request, false);
  assert.equal(made.allow_force_push, false);
  assert.match(made.url, /\/api\/repos\/admin\/prot\/branches\/main\/protection$/);
  assert.match(made.created_at, /Z$/);

  const got = await node.ok(200, 'GET', rulePath('main'));
  assert.deepEqual(got, made);

  // A read token may read it; so may anyone, the repository being public.
  const read = await node.tokenFor('admin', 'read');
  await node.ok(200, 'GET', rulePath('main'), undefined, read);

  // PUT again replaces it: 200, and fields left out take their defaults.
  const again = await node.ok(200, 'PUT', rulePath('main'), { require_pull_request: true });
  assert.equal(again.id, made.id);
  assert.deepEqual(again.required_status_checks, { contexts: [], strict: false });
  assert.equal(again.require_pull_request, true);

  // A pattern with a slash, plain and URL-encoded: the same rule.
  await node.ok(201, 'PUT', rulePath('release/*'), { allow_force_push: true });
  const enc = await node.ok(200, 'GET', rulePath('release%2F%2A'));
  assert.equal(enc.pattern, 'release/*');
  assert.match(enc.url, /branches\/release%2F%2A\/protection$/);

  const list = await node.ok(200, 'GET', `${base}/protections`);
  assert.deepEqual(list.map((r) => r.pattern), ['main', 'release/*']);
  const forBranch = await node.ok(200, 'GET', `${base}/protections?branch=release/1.0`);
  assert.deepEqual(forBranch.map((r) => r.pattern), ['release/*']);

  await node.ok(204, 'DELETE', rulePath('release%2F*'));
  const gone = await node.api('GET', rulePath('release/*'));
  assert.equal(gone.status, 404);
  assert.equal(gone.json.error.code, 'not_found');
  assert.equal((await node.api('DELETE', rulePath('release/*'))).status, 404);
  await node.ok(204, 'DELETE', rulePath('main'));
  assert.deepEqual(await node.ok(200, 'GET', `${base}/protections`), []);
});

test('bad settings get a 422 that names the field', async () => {
  const cases = [
    [{ require_pull_request: 'yes' }, /require_pull_request: expected true or false/],
    [{ allow_force_push: 1 }, /allow_force_push/],
    [{ bogus: true }, /bogus: unknown field/],
    [{ required_status_checks: [] }, /required_status_checks: expected an object/],
    [{ required_status_checks: { contexts: 'CI' } }, /required_status_checks\.contexts: expected an array/],
    [{ required_status_checks: { contexts: ['ok', 3] } }, /contexts\[1\]: expected a string/],
    [{ required_status_checks: { contexts: ['lint[a-'] } }, /contexts\[0\].*unclosed/],
    [{ required_status_checks: { contexts: [''] } }, /contexts\[0\]/],
    [{ required_status_checks: { strict: 'no' } }, /required_status_checks\.strict/],
    [{ required_status_checks: { checks: [] } }, /required_status_checks\.checks: unknown field/],
  ];
  for (const [body, re] of cases) {
    const r = await node.api('PUT', rulePath('main'), body);
    assert.equal(r.status, 422, JSON.stringify(body) + ' ' + r.text);
    assert.equal(r.json.error.code, 'unprocessable');
    assert.match(r.json.error.message, re);
  }
  for (const pattern of ['feat%2F%5Ba-', '%21main']) {
    const r = await node.api('PUT', rulePath(pattern), {});
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.error.message, /^pattern: /);
  }
  // Malformed JSON is a 400, as everywhere.
  assert.equal((await node.api('PUT', rulePath('main'), '{')).status, 400);
  assert.deepEqual(await node.ok(200, 'GET', `${base}/protections`), []);
});

test('changing a rule needs an admin token', async () => {
  const write = await node.tokenFor('admin', 'write');
  const r = await node.api('PUT', rulePath('main'), {}, write);
  assert.equal(r.status, 403);
  assert.match(r.json.error.message, /'admin' scope/);
  const bob = await node.tokenFor('bob', 'write');
  assert.equal((await node.api('PUT', rulePath('main'), {}, bob)).status, 403);
  assert.equal((await node.api('PUT', rulePath('main'), {}, null)).status, 401);
  await node.ok(201, 'PUT', rulePath('main'), {});
  assert.equal((await node.api('DELETE', rulePath('main'), undefined, write)).status, 403);
  await node.ok(204, 'DELETE', rulePath('main'));
});

test('every change is in the audit log', async () => {
  await node.ok(201, 'PUT', rulePath('audited'), { required_status_checks: { contexts: ['CI / build'] } });
  await node.ok(204, 'DELETE', rulePath('audited'));
  const audit = await node.ok(200, 'GET', '/api/audit?per_page=100');
  const set = audit.find((e) => e.action === 'protection.set' && e.object === 'admin/prot#branches/audited');
  assert.ok(set, JSON.stringify(audit.slice(0, 5)));
  assert.equal(set.actor, 'admin');
  assert.deepEqual(set.detail.contexts, ['CI / build']);
  assert.ok(audit.find((e) => e.action === 'protection.delete' &&
                               e.object === 'admin/prot#branches/audited'));
});

test('a direct push to a branch that requires pull requests is refused', async () => {
  await node.ok(201, 'PUT', rulePath('main'), { require_pull_request: true });
  const before = await headOf('main');
  const runs = await runCount();
  const sha = await node.commit(repo, { 'b.txt': 'b\n' }, { push: false });
  const r = await push(['HEAD:refs/heads/main']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr,
               /remote: protected branch 'main': changes must be made through a pull request/);
  assert.match(r.stderr, /\[remote rejected\]\s+HEAD -> main \(protected branch 'main'/);
  assert.equal(await headOf('main'), before);
  assert.notEqual(before, sha);
  assert.equal(await runCount(), runs, 'a refused push starts no run');

  // All or nothing: an allowed ref in the same push is refused too.
  const r2 = await push(['HEAD:refs/heads/main', 'HEAD:refs/heads/side']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /side \(rejected because another ref was refused\)/);
  assert.equal(await headOf('side'), null);

  // Deleting it is refused as well.
  const r3 = await push([':refs/heads/main']);
  assert.notEqual(r3.code, 0);
  assert.match(r3.stderr, /protected branch 'main'/);
  assert.equal(await headOf('main'), before);
  await node.ok(204, 'DELETE', rulePath('main'));
  await git(['reset', '-q', '--hard', before], repo.dir);
});

test('pushes to unprotected branches still work and start runs', async () => {
  await node.ok(201, 'PUT', rulePath('main'), { require_pull_request: true });
  const runs = await runCount();
  const sha = await node.commit(repo, { 'c.txt': 'c\n' }, { branch: 'feature' });
  assert.equal(await headOf('feature'), sha);
  const list = await node.runs(repo.full);
  assert.equal(list.length, runs + 1);
  assert.equal(list[0].head_sha, sha);
  assert.equal(list[0].head_branch, 'feature');
  await node.ok(204, 'DELETE', rulePath('main'));
  await git(['checkout', '-q', 'main'], repo.dir).catch(() => {});
});

test('a force push is refused until the rule allows it', async () => {
  await node.ok(201, 'PUT', rulePath('main'), {});
  // A fast-forward is fine.
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  await git(['reset', '-q', '--hard', 'FETCH_HEAD'], repo.dir);
  const ff = await node.commit(repo, { 'd.txt': 'd\n' });
  assert.equal(await headOf('main'), ff);
  // Rewriting it is not.
  await git(['commit', '-q', '--amend', '-m', 'rewritten'], repo.dir);
  const rewritten = (await git(['rev-parse', 'HEAD'], repo.dir)).stdout.trim();
  const r = await push(['+HEAD:refs/heads/main']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /remote: protected branch 'main': force pushes are not allowed/);
  assert.equal(await headOf('main'), ff);
  // Going back to an older commit is a force push too (no new objects).
  const r2 = await push(['+HEAD~1:refs/heads/main']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /force pushes are not allowed/);

  await node.ok(200, 'PUT', rulePath('main'), { allow_force_push: true });
  const r3 = await push(['+HEAD:refs/heads/main']);
  assert.equal(r3.code, 0, r3.stderr);
  assert.equal(await headOf('main'), rewritten);
  await node.ok(204, 'DELETE', rulePath('main'));
});

test('a glob pattern protects the branches it matches', async () => {
  const sha = await node.commit(repo, { 'r.txt': '1.0\n' }, { branch: 'release/1.0' });
  await node.ok(201, 'PUT', rulePath('release%2F*'), { require_pull_request: true });
  await node.commit(repo, { 'r.txt': '1.0.1\n' }, { push: false });
  const r = await push(['HEAD:refs/heads/release/1.0']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /remote: protected branch 'release\/1\.0': changes must be made through a pull request/);
  assert.equal(await headOf('release/1.0'), sha);
  // The whole name must match: releases/1.0 and hotfix/release/1.0 are free.
  const r2 = await push(['HEAD:refs/heads/releases/1.0', 'HEAD:refs/heads/hotfix/release/1.0']);
  assert.equal(r2.code, 0, r2.stderr);
  await node.ok(204, 'DELETE', rulePath('release%2F*'));
});

test('an admin may bypass with `git push -o bypass`, which is audited', async () => {
  await node.ok(201, 'PUT', rulePath('main'), { require_pull_request: true });
  const sha = await node.commit(repo, { 'e.txt': 'e\n' }, { push: false });
  // A write token is not enough.
  const write = await node.tokenFor('admin', 'write');
  const r = await push(['-o', 'bypass', 'HEAD:refs/heads/main'], write);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /remote: 'git push -o bypass' needs an admin token/);
  const r2 = await push(['-o', 'bypass', 'HEAD:refs/heads/main']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(await headOf('main'), sha);
  const audit = await node.ok(200, 'GET', '/api/audit?per_page=100');
  const by = audit.find((e) => e.action === 'protection.bypass');
  assert.ok(by);
  assert.equal(by.object, 'admin/prot');
  assert.equal(by.detail.refs[0].ref, 'refs/heads/main');
  assert.match(by.detail.refs[0].refused, /pull request/);
  await node.ok(204, 'DELETE', rulePath('main'));
});

test('guts protect set, show and rm', async () => {
  const R = ['-R', repo.full];
  const set = await node.cli(['protect', 'set', 'main', '--require', 'CI / build',
                              '--require=lint*', '--strict', '--require-pr', ...R]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /^main\n/);
  assert.match(set.stdout, /required checks:\s+CI \/ build, lint\*/);
  assert.match(set.stdout, /direct pushes:\s+refused/);
  const rule = await node.ok(200, 'GET', rulePath('main'));
  assert.deepEqual(rule.required_status_checks, { contexts: ['CI / build', 'lint*'], strict: true });
  assert.equal(rule.require_pull_request, true);

  const glob = await node.cli(['protect', 'set', 'release/*', '--allow-force-push', ...R]);
  assert.equal(glob.code, 0, glob.stderr);
  const all = await node.cli(['protect', 'show', ...R]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^main\n[\s\S]*\nrelease\/\*\n/);
  const one = await node.cli(['protect', 'show', 'release/2.0', '--json', ...R]);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(JSON.parse(one.stdout).map((x) => x.pattern), ['release/*']);
  const none = await node.cli(['protect', 'show', 'feature', ...R]);
  assert.equal(none.code, 0);
  assert.match(none.stderr, /No rule protects 'feature'/);

  const bad = await node.cli(['protect', 'set', 'main', '--require', 'x[', ...R]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^guts: .*contexts\[0\]/);
  const usage = await node.cli(['protect', 'set', ...R]);
  assert.equal(usage.code, 2);

  for (const p of ['main', 'release/*']) {
    const rm = await node.cli(['protect', 'rm', p, ...R]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /Removed the protection of/);
  }
  const rm = await node.cli(['protect', 'rm', 'main', ...R]);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /no protection rule for 'main'/);
});
