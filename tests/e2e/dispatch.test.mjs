// workflow_dispatch with typed inputs; cancel and re-run, without a runner.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, waitFor, git } from './harness.mjs';

const DEPLOY = `name: Deploy
on:
  workflow_dispatch:
    inputs:
      target:
        type: choice
        options: [staging, production]
        default: staging
      dry:
        type: boolean
        default: false
      version:
        type: string
        required: true
jobs:
  deploy:
    runs-on: default
    steps:
      - run: echo "deploy \${{ inputs.version }} to \${{ inputs.target }} dry=\${{ inputs.dry }}"
  notify:
    needs: deploy
    runs-on: default
    steps:
      - run: echo done
`;

const PLAIN = `name: Plain
on: push
jobs:
  one:
    runs-on: default
    steps:
      - run: echo one
`;

let node, repo, run;
before(async () => {
  node = await startNode({ runners: 0 });
  repo = await node.makeRepo('disp', { '.guts/workflows/deploy.yml': DEPLOY });
});
after(() => node?.stop());

const dispatch = (body, token) => node.api('POST', `/api/repos/${repo.full}/runs`, body, token);

test('a push does not start a workflow_dispatch-only workflow', async () => {
  assert.deepEqual(await node.runs(repo.full), []);
});

test('dispatch with good inputs: 201, event workflow_dispatch, typed inputs', async () => {
  const r = await dispatch({ workflow: 'deploy.yml',
                             inputs: { target: 'production', dry: true, version: '1.2.3' } });
  assert.equal(r.status, 201, r.text);
  run = r.json;
  assert.equal(run.event, 'workflow_dispatch');
  assert.equal(run.status, 'queued');
  assert.equal(run.run_number, 1);
  assert.equal(run.run_attempt, 1);
  assert.equal(run.head_sha, repo.sha);
  assert.equal(run.ref, 'refs/heads/main');
  assert.equal(run.actor, 'admin');
  assert.deepEqual(run.inputs, { target: 'production', dry: true, version: '1.2.3' });
  assert.equal(typeof run.inputs.dry, 'boolean');
  // The same from GET, and the jobs: deploy queued, notify waiting.
  const again = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${run.id}`);
  assert.deepEqual(again.inputs, run.inputs);
  const jobs = await node.jobs(repo.full, run.id);
  assert.deepEqual(jobs.map((j) => [j.job_key, j.status]), [['deploy', 'queued'], ['notify', 'waiting']]);
  // Listed with ?event=.
  const listed = await node.runs(repo.full, '&event=workflow_dispatch');
  assert.deepEqual(listed.map((x) => x.id), [run.id]);
});

test('defaults fill missing optional inputs; booleans given as strings are typed', async () => {
  const r = await dispatch({ workflow: 'Deploy', inputs: { version: '2.0', dry: 'true' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.inputs.target, 'staging');
  assert.equal(r.json.inputs.version, '2.0');
  assert.equal(r.json.inputs.dry, true);
  assert.equal(r.json.run_number, 2);
  // By workflow id and with an explicit ref too.
  const wf = await node.ok(200, 'GET', `/api/repos/${repo.full}/workflows/deploy.yml`);
  const byId = await dispatch({ workflow: String(wf.id), ref: 'main', inputs: { version: '3' } });
  assert.equal(byId.status, 201, byId.text);
  assert.equal(byId.json.inputs.dry, false);
  assert.equal(typeof byId.json.inputs.dry, 'boolean');
  // Cancel the two extra runs so the next tests see only the first one queued.
  for (const id of [r.json.id, byId.json.id]) {
    assert.equal((await node.api('POST', `/api/repos/${repo.full}/runs/${id}/cancel`)).status, 202);
  }
});

test('a bad choice is a 422 that names the input', async () => {
  const r = await dispatch({ workflow: 'deploy.yml', inputs: { target: 'moon', version: '1' } });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'unprocessable');
  assert.match(r.json.error.message, /target/);
  const b = await dispatch({ workflow: 'deploy.yml', inputs: { dry: 'maybe', version: '1' } });
  assert.equal(b.status, 422, b.text);
  assert.match(b.json.error.message, /dry/);
});

test('a missing required input is a 422 that names it', async () => {
  const r = await dispatch({ workflow: 'deploy.yml', inputs: { target: 'staging' } });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'unprocessable');
  assert.match(r.json.error.message, /version/);
  const none = await dispatch({ workflow: 'deploy.yml' });
  assert.equal(none.status, 422, none.text);
  assert.match(none.json.error.message, /version/);
});

test('dispatch errors: unknown workflow 404, unknown ref 422, bad body 400, read token 403', async () => {
  const nf = await dispatch({ workflow: 'nope.yml' });
  assert.equal(nf.status, 404, nf.text);
  const ref = await dispatch({ workflow: 'deploy.yml', ref: 'no-such-branch', inputs: { version: '1' } });
  assert.equal(ref.status, 422, ref.text);
  const bad = await dispatch({ inputs: {} });
  assert.equal(bad.status, 400, bad.text);
  const notObj = await dispatch({ workflow: 'deploy.yml', inputs: ['version'] });
  assert.equal(notObj.status, 400, notObj.text);
  const read = await node.tokenFor('admin', 'read');
  const ro = await dispatch({ workflow: 'deploy.yml', inputs: { version: '1' } }, read);
  assert.equal(ro.status, 403, ro.text);
});

test('a workflow without workflow_dispatch runs as event manual', async () => {
  await node.commit(repo, { '.guts/workflows/plain.yml': PLAIN });
  const pushed = await node.runs(repo.full, '&event=push');
  assert.equal(pushed.length, 1);
  const r = await dispatch({ workflow: 'plain.yml', inputs: { ignored: 'x' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.event, 'manual');
  assert.deepEqual(r.json.inputs, {});
  await node.api('POST', `/api/repos/${repo.full}/runs/${r.json.id}/cancel`);
  await node.api('POST', `/api/repos/${repo.full}/runs/${pushed[0].id}/cancel`);
});

test('cancel a queued run: 202, then cancelled with its jobs cancelled or skipped', async () => {
  const rerunEarly = await node.api('POST', `/api/repos/${repo.full}/runs/${run.id}/rerun`, {});
  assert.equal(rerunEarly.status, 409, `rerun of a queued run: ${rerunEarly.text}`);
  const r = await node.api('POST', `/api/repos/${repo.full}/runs/${run.id}/cancel`);
  assert.equal(r.status, 202, r.text);
  const done = await node.waitRun(repo.full, run.id, 5000);
  assert.equal(done.conclusion, 'cancelled');
  assert.ok(done.completed_at);
  const jobs = await node.jobs(repo.full, run.id);
  for (const j of jobs) {
    assert.equal(j.status, 'completed', JSON.stringify(j));
    assert.ok(['cancelled', 'skipped'].includes(j.conclusion), JSON.stringify(j));
  }
  assert.equal(jobs.find((j) => j.job_key === 'deploy').conclusion, 'cancelled');
  // The statuses say so: nothing stays pending.
  const st = await node.ok(200, 'GET', `/api/repos/${repo.full}/commits/${repo.sha}/statuses`);
  const latest = new Map();
  for (const s of st) if (!latest.has(s.context)) latest.set(s.context, s.state);
  assert.equal(latest.get('Deploy / deploy'), 'error'); // a cancelled job's state
  for (const [ctx, state] of latest) assert.notEqual(state, 'pending', ctx);
  // Cancelling again: the run is completed.
  const again = await node.api('POST', `/api/repos/${repo.full}/runs/${run.id}/cancel`);
  assert.equal(again.status, 409, again.text);
  // Listed by conclusion.
  const cancelled = await node.runs(repo.full, '&status=cancelled');
  assert.ok(cancelled.some((x) => x.id === run.id));
});

test('re-run of the cancelled run: 201, run_attempt 2, its jobs queued again', async () => {
  const r = await node.api('POST', `/api/repos/${repo.full}/runs/${run.id}/rerun`, {});
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.id, run.id);
  assert.equal(r.json.run_attempt, 2);
  assert.equal(r.json.status, 'queued');
  assert.equal(r.json.conclusion, null);
  assert.deepEqual(r.json.inputs, run.inputs);
  const jobs = await node.jobs(repo.full, run.id);
  assert.deepEqual(jobs.map((j) => [j.job_key, j.status, j.run_attempt]),
                   [['deploy', 'queued', 2], ['notify', 'waiting', 2]]);
  // The first attempt's jobs are still there.
  const first = await node.jobs(repo.full, run.id, '?attempt=1');
  assert.equal(first.length, 2);
  assert.ok(first.every((j) => j.run_attempt === 1 && j.status === 'completed'));
  // And the queued job says why it waits.
  const deploy = jobs.find((j) => j.job_key === 'deploy');
  await waitFor(async () => {
    const j = await node.ok(200, 'GET', `/api/repos/${repo.full}/jobs/${deploy.id}`);
    return /waiting for a runner with labels/.test(j.reason || '');
  }, 2500, 'the reason of the re-run job');
  // Clean up: cancel attempt 2.
  assert.equal((await node.api('POST', `/api/repos/${repo.full}/runs/${run.id}/cancel`)).status, 202);
  const done = await node.waitRun(repo.full, run.id, 5000);
  assert.equal(done.run_attempt, 2);
  assert.equal(done.conclusion, 'cancelled');
});

const GROUPED = `name: Grouped
on: workflow_dispatch
concurrency:
  group: only-one
jobs:
  wait:
    runs-on: nowhere
    steps:
      - run: echo never
`;

test('concurrency group: a queued run replaced by a newer one concludes cancelled; the newer one is not stuck behind it', async () => {
  const up = await node.api('POST', `/api/repos/${repo.full}/workflows`,
                            { yaml: GROUPED, path: '.guts/workflows/grouped.yml' });
  assert.equal(up.status, 201, up.text);
  const a = await dispatch({ workflow: 'grouped.yml' });
  assert.equal(a.status, 201, a.text);
  const b = await dispatch({ workflow: 'grouped.yml' });
  assert.equal(b.status, 201, b.text);
  const first = await waitFor(async () => {
    const r = await node.api('GET', `/api/repos/${repo.full}/runs/${a.json.id}`);
    return r.json.status === 'completed' && r.json;
  }, 5000, 'the replaced run to conclude');
  assert.equal(first.conclusion, 'cancelled');
  const second = await node.api('GET', `/api/repos/${repo.full}/runs/${b.json.id}`);
  assert.equal(second.json.status, 'queued');
  assert.doesNotMatch(second.json.reason || '', /waiting for the other run/);
  // and cancelling the newer one works too
  const c = await node.api('POST', `/api/repos/${repo.full}/runs/${b.json.id}/cancel`);
  assert.equal(c.status, 202, c.text);
  const done = await waitFor(async () => {
    const r = await node.api('GET', `/api/repos/${repo.full}/runs/${b.json.id}`);
    return r.json.status === 'completed' && r.json;
  }, 5000, 'the cancelled run to conclude');
  assert.equal(done.conclusion, 'cancelled');
});

test('dispatch at a tag records the tag ref, not a branch', async () => {
  await git(['tag', 'v1'], repo.dir);
  await git(['push', '-q', node.remote(repo.full), 'refs/tags/v1'], repo.dir);
  const r = await dispatch({ workflow: 'deploy.yml', ref: 'v1', inputs: { version: '1' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.ref, 'refs/tags/v1');
  assert.equal(r.json.head_branch, null);
  const bad = await dispatch({ workflow: 'deploy.yml', ref: 'nope', inputs: { version: '1' } });
  assert.equal(bad.status, 422, bad.text);
});
