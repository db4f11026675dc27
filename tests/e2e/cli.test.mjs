// The guts CLI against a real node.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, git, CI_YML } from './harness.mjs';

let node, repo, run;
before(async () => { node = await startNode({ runners: 0 }); });
after(() => node?.stop());

function ok(r, what) {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

test('guts repo create demo2, guts repo list', async () => {
  const out = ok(await node.cli(['repo', 'create', 'demo2']), 'repo create');
  assert.match(out, /admin\/demo2/);
  const api = await node.ok(200, 'GET', '/api/repos/admin/demo2');
  assert.equal(api.visibility, 'public');
  ok(await node.cli(['repo', 'create', 'hidden2', '--private']), 'repo create --private');
  assert.equal((await node.ok(200, 'GET', '/api/repos/admin/hidden2')).visibility, 'private');
  // Again: an error, one line, exit 1.
  const again = await node.cli(['repo', 'create', 'demo2']);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /^guts: .*already exists\n$/);

  const list = ok(await node.cli(['repo', 'list']), 'repo list');
  assert.match(list, /admin\/demo2/);
  assert.match(list, /admin\/hidden2/);
  const json = JSON.parse(ok(await node.cli(['repo', 'list', '--json']), 'repo list --json'));
  assert.ok(json.some((r) => r.full_name === 'admin/demo2'));
});

test('guts run list -R OWNER/NAME', async () => {
  repo = await node.makeRepo('demo2', { '.guts/workflows/ci.yml': CI_YML }, { create: false });
  [run] = await node.runs(repo.full);
  assert.ok(run);
  const out = ok(await node.cli(['run', 'list', '-R', repo.full]), 'run list');
  const lines = out.trim().split('\n');
  assert.ok(lines.length >= 2, out);
  assert.match(lines[0], /ID/);
  const row = lines.find((l) => l.trim().startsWith(String(run.id)));
  assert.ok(row, out);
  assert.match(row, /queued/);
  assert.match(row, /CI/);
  assert.match(row, /main/);
  assert.match(row, /push/);
});

test('guts run list --json parses as JSON', async () => {
  const r = await node.cli(['run', 'list', '--json', '-R', repo.full]);
  const j = JSON.parse(ok(r, 'run list --json'));
  assert.ok(Array.isArray(j));
  assert.equal(j[0].id, run.id);
  assert.equal(j[0].head_sha, repo.sha);
});

test('guts --json run list parses as JSON', async () => {
  const r = await node.cli(['--json', 'run', 'list', '-R', repo.full]);
  const j = JSON.parse(ok(r, '--json run list'));
  assert.ok(Array.isArray(j));
  assert.equal(j[0].id, run.id);
});

test('guts status SHA exits 8 while pending, 0 on success, 1 on failure', async () => {
  const pending = await node.cli(['status', repo.sha, '-R', repo.full]);
  assert.equal(pending.code, 8, `${pending.stdout}${pending.stderr}`);
  assert.match(pending.stdout, /pending/);
  assert.match(pending.stdout, /CI \/ build/);
  assert.match(pending.stdout, /CI \/ test/);
  // By branch too.
  assert.equal((await node.cli(['status', 'main', '-R', repo.full])).code, 8);
  for (const context of ['CI / build', 'CI / test']) {
    await node.ok(201, 'POST', `/api/repos/${repo.full}/commits/${repo.sha}/statuses`,
                  { state: 'success', context });
  }
  const success = await node.cli(['status', repo.sha, '-R', repo.full]);
  assert.equal(success.code, 0, `${success.stdout}${success.stderr}`);
  assert.match(success.stdout, /success/);
  await node.ok(201, 'POST', `/api/repos/${repo.full}/commits/${repo.sha}/statuses`,
                { state: 'failure', context: 'lint' });
  const failure = await node.cli(['status', repo.sha, '-R', repo.full]);
  assert.equal(failure.code, 1, `${failure.stdout}${failure.stderr}`);
  assert.match(failure.stdout, /failure/);
  // Every context with its description and URL.
  await node.ok(201, 'POST', `/api/repos/${repo.full}/statuses/${repo.sha}`,
                { state: 'failure', context: 'lint', description: 'three warnings',
                  target_url: 'https://lint.example/run/7' });
  const shown = await node.cli(['status', repo.sha, '-R', repo.full]);
  assert.match(shown.stdout, /URL/);
  assert.match(shown.stdout, /lint .*three warnings .*https:\/\/lint\.example\/run\/7/);
  assert.match(shown.stdout, /CI \/ build/);
  // No ref with -R: the default branch.
  const dflt = await node.cli(['status', '-R', repo.full]);
  assert.equal(dflt.code, 1, `${dflt.stdout}${dflt.stderr}`);
  assert.match(dflt.stdout, new RegExp(`^${repo.sha.slice(0, 12)}: failure`));
});

test('guts run view ID, with the repository from the origin remote', async () => {
  const out = ok(await node.cli(['run', 'view', String(run.id), '-R', repo.full]), 'run view');
  assert.match(out, /CI #1/);
  assert.match(out, /build/);
  assert.match(out, /test/);
  assert.match(out, /queued/);
  assert.match(out, /waiting/);
  assert.match(out, new RegExp(repo.sha.slice(0, 12)));
  // No -R: the work tree's origin remote names the repository.
  await git(['remote', 'add', 'origin', node.remote(repo.full)], repo.dir);
  const here = ok(await node.cli(['run', 'view', String(run.id)], { cwd: repo.dir }), 'run view (origin)');
  // guts status without a ref in the work tree: its HEAD commit.
  const st = await node.cli(['status'], { cwd: repo.dir });
  assert.match(st.stdout, new RegExp(`^${repo.sha.slice(0, 12)}: `), `${st.stdout}${st.stderr}`);
  assert.match(here, /CI #1/);
  const j = JSON.parse(ok(await node.cli(['run', 'view', String(run.id), '--json', '-R', repo.full]),
                          'run view --json'));
  assert.equal(j.run.id, run.id);
});

test('an unreachable --url: exit 1 and one line "guts: …"', async () => {
  for (const args of [['repo', 'list'], ['run', 'list', '-R', 'admin/demo2'], ['status', 'main', '-R', 'a/b']]) {
    const r = await node.cli(args, { url: 'http://127.0.0.1:1' });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^guts: [^\n]+\n$/, JSON.stringify(r.stderr));
  }
  // A bad token: one line too.
  const bad = await node.cli(['repo', 'list'], { token: 'gut_nope' });
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /^guts: [^\n]+\n$/, JSON.stringify(bad.stderr));
});
