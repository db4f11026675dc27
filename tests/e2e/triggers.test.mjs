// Pushes start runs (no runner here: the jobs stay queued), branch and path
// filters, invalid workflows, and workflows posted through the API.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, waitFor, CI_YML } from './harness.mjs';

let node;
before(async () => { node = await startNode({ runners: 0 }); });
after(() => node?.stop());

let ci;

test('a push creates its run before git push returns', async () => {
  ci = await node.makeRepo('trig', { '.guts/workflows/ci.yml': CI_YML, 'a.txt': '1\n' },
                           { message: 'first commit' });
  // No waiting: the run exists when git push has returned.
  const runs = await node.runs(ci.full);
  assert.equal(runs.length, 1, JSON.stringify(runs));
  const run = runs[0];
  assert.equal(run.event, 'push');
  assert.equal(run.head_sha, ci.sha);
  assert.equal(run.head_branch, 'main');
  assert.equal(run.ref, 'refs/heads/main');
  assert.equal(run.run_number, 1);
  assert.equal(run.run_attempt, 1);
  assert.equal(run.workflow_name, 'CI');
  assert.equal(run.workflow_path, '.guts/workflows/ci.yml');
  assert.equal(run.repo, ci.full);
  assert.equal(run.actor, 'admin');
  assert.equal(run.display_title, 'first commit');
  assert.equal(run.status, 'queued');
  assert.equal(run.conclusion, null);
  ci.run = run;
  // The same through GET /runs/{id}.
  const one = await node.ok(200, 'GET', `/api/repos/${ci.full}/runs/${run.id}`);
  assert.equal(one.id, run.id);
  assert.equal(one.head_sha, ci.sha);
});

test('its jobs: build queued for want of a runner, test waiting', async () => {
  const jobs = await node.jobs(ci.full, ci.run.id);
  assert.equal(jobs.length, 2, JSON.stringify(jobs));
  const build = jobs.find((j) => j.job_key === 'build');
  const tst = jobs.find((j) => j.job_key === 'test');
  assert.ok(build && tst, JSON.stringify(jobs));
  assert.equal(build.status, 'queued');
  assert.equal(tst.status, 'waiting');
  assert.deepEqual(build.runs_on, ['default']);
  assert.equal(build.run_id, ci.run.id);
  assert.equal(build.attempt, 1);
  assert.equal(build.conclusion, null);
  // The node's 1 s tick says why it waits.
  const why = await waitFor(async () => {
    const j = await node.ok(200, 'GET', `/api/repos/${ci.full}/jobs/${build.id}`);
    return j.reason && j.reason.includes('waiting for a runner with labels') && j;
  }, 2500, 'the build job\'s reason');
  assert.match(why.reason, /default/);
  assert.equal(why.status, 'queued');
  const t2 = await node.ok(200, 'GET', `/api/repos/${ci.full}/jobs/${tst.id}`);
  assert.equal(t2.status, 'waiting');
});

test('the combined status of the sha is pending with a context per job', async () => {
  const st = await node.ok(200, 'GET', `/api/repos/${ci.full}/commits/${ci.sha}/status`);
  assert.equal(st.sha, ci.sha);
  assert.equal(st.state, 'pending');
  const contexts = st.statuses.map((s) => s.context).sort();
  assert.deepEqual(contexts, ['CI / build', 'CI / test']);
  assert.ok(st.statuses.every((s) => s.state === 'pending'));
  assert.equal(st.total_count, 2);
});

test('a second push gives run_number 2', async () => {
  const sha = await node.commit(ci, { 'a.txt': '2\n' }, { message: 'second' });
  const runs = await node.runs(ci.full);
  assert.equal(runs.length, 2);
  assert.equal(runs[0].run_number, 2); // newest first
  assert.equal(runs[0].head_sha, sha);
  assert.equal(runs[1].run_number, 1);
  assert.notEqual(runs[0].id, runs[1].id);
});

test('on: push: branches: [release] does not run for main', async () => {
  const yml = 'name: Release\non:\n  push:\n    branches: [release]\njobs:\n  ship:\n' +
              '    runs-on: default\n    steps:\n      - run: echo ship\n';
  const rel = await node.makeRepo('rel', { '.guts/workflows/release.yml': yml });
  assert.deepEqual(await node.runs(rel.full), []);
  await node.commit(rel, { 'x.txt': 'x\n' });
  assert.deepEqual(await node.runs(rel.full), []);
  // Pushing the release branch runs it.
  const sha = await node.commit(rel, { 'y.txt': 'y\n' }, { branch: 'release' });
  const runs = await node.runs(rel.full);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].head_branch, 'release');
  assert.equal(runs[0].head_sha, sha);
  // The workflow is known even though it never ran on main.
  const wfs = await node.ok(200, 'GET', `/api/repos/${rel.full}/workflows`);
  assert.deepEqual(wfs.map((w) => w.path), ['.guts/workflows/release.yml']);
});

test('paths: [docs/**] runs only when docs/ changed', async () => {
  const yml = 'name: Docs\non:\n  push:\n    paths: [\'docs/**\']\njobs:\n  docs:\n' +
              '    runs-on: default\n    steps:\n      - run: echo docs\n';
  const repo = await node.makeRepo('paths', {
    '.guts/workflows/docs.yml': yml, 'docs/index.md': '# docs\n', 'src/main.c': 'int main;\n',
  });
  const n0 = (await node.runs(repo.full)).length;
  const shaDocs = await node.commit(repo, { 'docs/index.md': '# docs v2\n' });
  let runs = await node.runs(repo.full);
  assert.equal(runs.length, n0 + 1, 'a push touching docs/ runs');
  assert.equal(runs[0].head_sha, shaDocs);
  await node.commit(repo, { 'src/main.c': 'int main(void);\n' });
  runs = await node.runs(repo.full);
  assert.equal(runs.length, n0 + 1, 'a push touching only src/ does not run');
  const shaBoth = await node.commit(repo, { 'src/x.c': '1\n', 'docs/more/deep.md': 'deep\n' });
  runs = await node.runs(repo.full);
  assert.equal(runs.length, n0 + 2, 'a push touching docs/ and src/ runs');
  assert.equal(runs[0].head_sha, shaBoth);
});

async function invalidRun(name, file, text) {
  const repo = await node.makeRepo(name, { [`.guts/workflows/${file}`]: text });
  const runs = await node.runs(repo.full);
  assert.equal(runs.length, 1, `an invalid workflow still gives a run: ${JSON.stringify(runs)}`);
  const run = runs[0];
  // Concluded at once, no runner needed.
  assert.equal(run.status, 'completed');
  assert.equal(run.conclusion, 'failure');
  const jobs = await node.jobs(repo.full, run.id);
  assert.equal(jobs.length, 1, JSON.stringify(jobs));
  assert.equal(jobs[0].status, 'completed');
  assert.equal(jobs[0].conclusion, 'failure');
  const r = await node.api('GET', `/api/repos/${repo.full}/jobs/${jobs[0].id}/logs`);
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain/);
  assert.equal(r.headers['x-guts-log-complete'], 'true');
  assert.equal(Number(r.headers['x-guts-log-size']), Buffer.byteLength(r.text));
  const st = await node.ok(200, 'GET', `/api/repos/${repo.full}/commits/${repo.sha}/status`);
  assert.equal(st.state, 'failure');
  return { repo, run, log: r.text };
}

test('a job without runs-on: a failed run whose log has the validator\'s message', async () => {
  const yml = 'name: Broken\non: push\njobs:\n  build:\n    steps:\n      - run: echo hi\n';
  const { log } = await invalidRun('invalid1', 'broken.yml', yml);
  // FILE:LINE:COL: the file name and the line of the job.
  assert.match(log, /\.guts\/workflows\/broken\.yml:\d+:\d+: /);
  // The job is on line 4; its mapping (where runs-on is missing) on line 5.
  assert.match(log, /broken\.yml:[45]:\d+: .*runs-on/);
  assert.match(log, /##\[error\]/);
});

test('a YAML syntax error: a failed run whose log has the file and line', async () => {
  const yml = 'name: Syntax\non: push\njobs:\n  build:\n    runs-on: default\n' +
              '    steps:\n      - run: [unclosed\n';
  const { log } = await invalidRun('invalid2', 'syntax.yml', yml);
  assert.match(log, /\.guts\/workflows\/syntax\.yml:\d+:\d+: /);
  const line = Number(/syntax\.yml:(\d+):/.exec(log)[1]);
  assert.ok(line >= 7 && line <= 8, `line ${line} in: ${log}`);
});

test('POST …/workflows creates (201), updates (200), refuses invalid YAML (422)', async () => {
  await node.ok(201, 'POST', '/api/repos', { name: 'posted' });
  const yml = 'name: Nightly Build\non: workflow_dispatch\njobs:\n  a:\n    runs-on: default\n' +
              '    steps:\n      - run: echo a\n';
  const created = await node.ok(201, 'POST', '/api/repos/admin/posted/workflows', { yaml: yml });
  assert.equal(created.name, 'Nightly Build');
  assert.equal(created.path, '.guts/workflows/nightly-build.yml');
  assert.equal(created.valid, true);
  assert.deepEqual(created.triggers, ['workflow_dispatch']);
  assert.deepEqual(created.jobs, ['a']);
  assert.deepEqual(created.errors, []);
  const updated = await node.ok(200, 'POST', '/api/repos/admin/posted/workflows',
                                { yaml: yml.replace('echo a', 'echo b').replace('  a:', '  b:') });
  assert.equal(updated.id, created.id);
  assert.deepEqual(updated.jobs, ['b']);
  const withSource = await node.ok(200, 'GET',
                                   `/api/repos/admin/posted/workflows/nightly-build.yml?source=1`);
  assert.match(withSource.source, /echo b/);
  // With an explicit path.
  const p = await node.ok(201, 'POST', '/api/repos/admin/posted/workflows',
                          { yaml: yml, path: '.guts/workflows/other.yml' });
  assert.equal(p.path, '.guts/workflows/other.yml');
  // Invalid YAML.
  const bad = await node.api('POST', '/api/repos/admin/posted/workflows',
                             { yaml: 'name: X\non: push\njobs:\n  a:\n    steps: [\n' });
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.json.error.code, 'unprocessable');
  assert.match(bad.json.error.message, /YAML syntax error/);
  const bad2 = await node.api('POST', '/api/repos/admin/posted/workflows',
                              { yaml: 'on: push\njobs:\n  a:\n    steps:\n      - run: x\n' });
  assert.equal(bad2.status, 422, bad2.text);
  assert.match(bad2.json.error.message, /runs-on/);
  const noYaml = await node.api('POST', '/api/repos/admin/posted/workflows', {});
  assert.equal(noYaml.status, 400, noYaml.text);
  const badPath = await node.api('POST', '/api/repos/admin/posted/workflows',
                                 { yaml: yml, path: '../../etc/passwd' });
  assert.equal(badPath.status, 400, badPath.text);
});

test('the 422 of an invalid posted workflow lists the messages as a JSON array',
     async () => {
  const bad = await node.api('POST', '/api/repos/admin/posted/workflows',
                             { yaml: 'on: push\njobs:\n  a:\n    steps:\n      - run: x\n' });
  assert.equal(bad.status, 422, bad.text);
  assert.ok(Array.isArray(bad.json.error.errors), `errors: ${JSON.stringify(bad.json.error.errors)}`);
  assert.ok(bad.json.error.errors.length > 0);
  assert.match(bad.json.error.errors[0], /:\d+:\d+: .*runs-on/);
});

test('a private repository\'s runs, jobs, logs and statuses look missing to others', async () => {
  const priv = await node.makeRepo('hidden', { '.guts/workflows/ci.yml': CI_YML },
                                   { visibility: 'private' });
  const [run] = await node.runs(priv.full);
  const [job] = await node.jobs(priv.full, run.id);
  const other = await node.tokenFor('eve', 'write');
  const paths = [
    `/api/repos/${priv.full}/runs`,
    `/api/repos/${priv.full}/runs/${run.id}`,
    `/api/repos/${priv.full}/runs/${run.id}/jobs`,
    `/api/repos/${priv.full}/jobs/${job.id}`,
    `/api/repos/${priv.full}/jobs/${job.id}/logs`,
    `/api/repos/${priv.full}/workflows`,
    `/api/repos/${priv.full}/commits/${priv.sha}/status`,
    `/api/repos/${priv.full}/commits/${priv.sha}/statuses`,
  ];
  for (const p of paths) {
    for (const token of [null, other]) {
      const r = await node.api('GET', p, undefined, token);
      assert.equal(r.status, 404, `${p} (${token ? 'eve' : 'anonymous'}): ${r.text}`);
      assert.equal(r.json?.error?.code, 'not_found', r.text);
    }
    const own = await node.api('GET', p, undefined, await node.tokenFor('admin', 'read'));
    assert.equal(own.status, 200, `${p} (owner): ${own.text}`);
  }
  // Changes too.
  const cancel = await node.api('POST', `/api/repos/${priv.full}/runs/${run.id}/cancel`, undefined, other);
  assert.equal(cancel.status, 404, cancel.text);
  // A job of one repository is not found through another.
  const cross = await node.api('GET', `/api/repos/${ci.full}/jobs/${job.id}`);
  assert.equal(cross.status, 404, cross.text);
});

test('job logs: ?offset= reads from there; ?wait= on a completed job answers at once', async () => {
  const [run] = await node.runs('admin/invalid1');
  const [job] = await node.jobs('admin/invalid1', run.id);
  const full = await node.log('admin/invalid1', job.id);
  const r = await node.api('GET', `/api/repos/admin/invalid1/jobs/${job.id}/logs?offset=10`);
  assert.equal(r.status, 200);
  assert.equal(r.text, full.slice(10));
  assert.equal(Number(r.headers['x-guts-log-size']), Buffer.byteLength(full));
  const t0 = Date.now();
  const w = await node.api('GET', `/api/repos/admin/invalid1/jobs/${job.id}/logs?offset=${Buffer.byteLength(full)}&wait=5`);
  assert.equal(w.status, 200);
  assert.equal(w.text, '');
  assert.ok(Date.now() - t0 < 2000, `answered after ${Date.now() - t0} ms`);
  // A queued job's log waits, then answers empty with Complete false.
  const [queued] = await node.jobs(ci.full, ci.run.id);
  const t1 = Date.now();
  const q = await node.api('GET', `/api/repos/${ci.full}/jobs/${queued.id}/logs?wait=1`);
  assert.equal(q.status, 200, q.text);
  assert.equal(q.headers['x-guts-log-complete'], 'false');
  assert.ok(Date.now() - t1 >= 900, `waited ${Date.now() - t1} ms`);
});
