// The runner protocol spoken by hand: registration, versions, long-polls,
// fencing and log offsets (docs/runner-protocol.md).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, waitFor } from './harness.mjs';

const WF = `name: Proto
on: push
jobs:
  one:
    runs-on: proto
    steps:
      - run: echo hi
`;

let node, repo, runner;
before(async () => {
  node = await startNode({ runners: 0 });
  repo = await node.makeRepo('proto', { '.guts/workflows/p.yml': WF });
  const reg = await node.ok(201, 'POST', '/api/runners/registration-token');
  runner = await node.ok(201, 'POST', '/api/runners/register',
                         { protocol: 1, token: reg.token, name: 'hand', labels: ['proto'] }, null);
  // A registration token works once.
  const again = await node.api('POST', '/api/runners/register',
                               { protocol: 1, token: reg.token, name: 'again' }, null);
  assert.equal(again.status, 401, again.text);
});
after(() => node?.stop());

const call = (p, body, headers = {}) =>
  node.api('POST', p, body, runner.token, { headers });

test('a runner on another protocol version gets a clear 426', async () => {
  const r = await call('/api/runners/next', { protocol: 0, wait: 0 });
  assert.equal(r.status, 426, r.text);
  assert.equal(r.json.error.code, 'protocol_version');
  assert.match(r.json.error.message, /protocol 0 is not supported.*speaks protocol 1.*upgrade/);
});

test('a user token is not a runner token', async () => {
  const r = await node.api('POST', '/api/runners/next', { protocol: 1, wait: 0 });
  assert.equal(r.status, 401, r.text);
});

test('next leases the queued job; fencing refuses stale calls; logs are offset-acked', async () => {
  const t0 = Date.now();
  const r = await call('/api/runners/next', { protocol: 1, wait: 5 });
  assert.equal(r.status, 200, r.text);
  assert.ok(Date.now() - t0 < 2000, 'a queued job is leased at once');
  const job = r.json.job;
  assert.equal(job.repo, repo.full);
  assert.equal(job.sha, repo.sha);
  assert.equal(job.job_key, 'one');
  assert.match(job.workflow.source, /runs-on: proto/);
  const fence = { 'X-Guts-Attempt': String(job.attempt), 'X-Guts-Lease': job.lease_token };
  const stale = { 'X-Guts-Attempt': String(job.attempt), 'X-Guts-Lease': 'gls_nope' };
  const base = `/api/runners/jobs/${job.id}`;

  let h = await call(`${base}/heartbeat`, { protocol: 1 }, stale);
  assert.equal(h.status, 409, h.text);
  assert.equal(h.json.error.code, 'stale_lease');
  h = await call(`${base}/heartbeat`, { protocol: 1 }, { ...fence, 'X-Guts-Attempt': '7' });
  assert.equal(h.status, 409, h.text);
  h = await call(`${base}/heartbeat`, { protocol: 1 }, fence);
  assert.equal(h.status, 200, h.text);
  assert.equal(h.json.cancel, false);

  const raw = (offset, text, hdrs = fence) => node.api('POST', `${base}/logs?offset=${offset}`,
    text, runner.token,
    { headers: { ...hdrs, 'X-Guts-Protocol': '1', 'Content-Type': 'application/octet-stream' } });
  let a = await raw(0, 'line one\n');
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.offset, 9);
  a = await raw(0, 'line one\nline two\n'); // a resend overlapping what is acked
  assert.equal(a.json.offset, 18);
  a = await raw(40, 'gap\n');
  assert.equal(a.status, 409, a.text);
  assert.equal(a.json.error.code, 'offset_gap');
  assert.equal(a.json.offset, 18);
  a = await raw(18, 'x\n', stale);
  assert.equal(a.status, 409, a.text);

  // Completion before the log is all there is refused, then accepted.
  let c = await call(`${base}/complete`, { protocol: 1, conclusion: 'success', outputs: {}, log_offset: 30 }, fence);
  assert.equal(c.status, 409, c.text);
  assert.equal(c.json.error.code, 'offset_gap');
  c = await call(`${base}/complete`, { protocol: 1, conclusion: 'success', outputs: { v: '1' }, log_offset: 18 }, fence);
  assert.equal(c.status, 200, c.text);
  // After completion the beats are over (and nothing is extended).
  h = await call(`${base}/heartbeat`, { protocol: 1 }, fence);
  assert.equal(h.status, 200, h.text);
  assert.equal(h.json.completed, true);
  assert.equal(h.json.cancel, false);
  a = await raw(18, 'late\n');
  assert.equal(a.status, 409, a.text);
  assert.equal(a.json.error.code, 'stale_lease');

  const [run] = await node.runs(repo.full);
  const done = await node.waitRun(repo.full, run.id, 5000);
  assert.equal(done.conclusion, 'success');
  const log = await node.log(repo.full, job.id);
  assert.match(log, /line one\nline two\n/);
  assert.doesNotMatch(log, /gap/);
});

test('an idle next long-polls and answers 204 when nothing comes', async () => {
  const t0 = Date.now();
  const r = await call('/api/runners/next', { protocol: 1, wait: 1 });
  assert.equal(r.status, 204, r.text);
  assert.ok(Date.now() - t0 >= 900, 'it waited');
});

test('a parked next wakes the moment a job is queued', async () => {
  const pending = call('/api/runners/next', { protocol: 1, wait: 20 });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  await node.commit(repo, { 'f.txt': 'again' });
  const r = await pending;
  assert.equal(r.status, 200, r.text);
  assert.ok(Date.now() - t0 < 3000, `woke after ${Date.now() - t0} ms`);
});

test('GET /api/runners lists the runner with its labels and last-seen time', async () => {
  const list = await node.ok(200, 'GET', '/api/runners');
  const me = list.find((x) => x.name === 'hand');
  assert.ok(me, JSON.stringify(list));
  assert.deepEqual(me.labels, ['proto']);
  assert.ok(['idle', 'busy'].includes(me.status), me.status);
  assert.match(me.last_seen_at, /^\d{4}-\d\d-\d\dT/);
});
