// Runs on real runners: embedded ones (guts-node --runners 1) and external
// ones (guts-runner register, then guts-runner --config F).  Skipped until
// guts-runner is built.  Semantics: docs/runner-protocol.md.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, GutsNode, startRunner, waitFor, sleep, HAVE_RUNNER } from './harness.mjs';

const skip = !HAVE_RUNNER && 'guts-runner not built yet';

// Shell output that differs from the command's own text, so finding it in
// the log proves the step ran (the executor also logs the script).
const CI = `name: CI
on: push
jobs:
  build:
    runs-on: default
    steps:
      - run: echo "build says $((6 * 7))"
  test:
    needs: build
    runs-on: default
    steps:
      - run: echo "test of $(echo \${{ github.sha }} | cut -c1-7) ok"
`;

const FAILING = `name: Failing
on: push
jobs:
  broken:
    runs-on: default
    steps:
      - run: echo "about to fail $((1 + 1))"
      - run: exit 3
      - run: echo never
`;

const DISPATCH = `name: Greet
on:
  workflow_dispatch:
    inputs:
      greeting:
        type: string
        required: true
      loud:
        type: boolean
        default: false
jobs:
  greet:
    runs-on: default
    steps:
      - run: echo "greeting=\${{ inputs.greeting }} loud=\${{ inputs.loud }}" | tr a-z A-Z
`;

const SLEEPY = `name: Sleepy
on: workflow_dispatch
jobs:
  nap:
    runs-on: default
    steps:
      - run: sleep 30
`;

// One job fails on the first attempt only; the other always succeeds.
const FLAKY = `name: Flaky
on: workflow_dispatch
jobs:
  steady:
    runs-on: default
    steps:
      - run: echo "steady $((2 * 3))"
  flaky:
    runs-on: default
    steps:
      - run: test "\${{ github.run_attempt }}" -ge 2
`;

const DRAIN = `name: Drain
on: workflow_dispatch
jobs:
  slow:
    runs-on: default
    steps:
      - run: sleep 3; echo "drained $((5 * 5))"
`;

async function jobsOf(node, full, runId) {
  return node.jobs(full, runId);
}

async function waitInProgress(node, full, runId, key, timeoutMs = 30000) {
  return waitFor(async () => {
    const jobs = await jobsOf(node, full, runId);
    const j = jobs.find((x) => !key || x.job_key === key);
    return j && j.status === 'in_progress' && j.runner_name && j;
  }, timeoutMs, `job ${key || ''} of run ${runId} to be in progress`);
}

async function dispatchRun(node, full, workflow, inputs = {}) {
  return node.ok(201, 'POST', `/api/repos/${full}/runs`, { workflow, inputs });
}

// ---- an embedded runner ----------------------------------------------------

describe('with an embedded runner', () => {
  let node, repo;
  before(async () => {
    if (skip) return;
    // The default 15 s heartbeats: a cancel reaches the runner through the
    // heartbeat long-poll, not by waiting for the next beat.
    node = new GutsNode({ runners: 1 });
    await node.start();
    repo = await node.makeRepo('work', {
      '.guts/workflows/ci.yml': CI,
      '.guts/workflows/greet.yml': DISPATCH,
      '.guts/workflows/sleepy.yml': SLEEPY,
      '.guts/workflows/flaky.yml': FLAKY,
      '.guts/workflows/drain.yml': DRAIN,
    });
  });
  after(() => node?.stop({ killAfterMs: 40000 }));

  test('(a) a push runs to success; the logs through the API and guts run logs', { skip }, async () => {
    const [run] = await node.runs(repo.full);
    assert.equal(run.workflow_name, 'CI');
    const done = await node.waitRun(repo.full, run.id, 60000);
    assert.equal(done.conclusion, 'success', JSON.stringify(done));
    const jobs = await jobsOf(node, repo.full, run.id);
    assert.deepEqual(jobs.map((j) => [j.job_key, j.status, j.conclusion]),
                     [['build', 'completed', 'success'], ['test', 'completed', 'success']]);
    for (const j of jobs) {
      assert.equal(j.runner_name, 'embedded-1');
      assert.ok(j.steps.length >= 1, JSON.stringify(j));
      assert.ok(j.steps.every((s) => s.status === 'completed'), JSON.stringify(j.steps));
    }
    const r = await node.api('GET', `/api/repos/${repo.full}/jobs/${jobs[0].id}/logs`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-guts-log-complete'], 'true');
    assert.match(r.text, /build says 42/);
    assert.match(r.text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z /m, 'TIMESTAMP SP TEXT lines');
    assert.match(await node.log(repo.full, jobs[1].id), new RegExp(`test of ${repo.sha.slice(0, 7)} ok`));
    // One step's log.
    const step = await node.api('GET', `/api/repos/${repo.full}/jobs/${jobs[0].id}/logs?step=${jobs[0].steps.at(-1).number}`);
    assert.equal(step.status, 200);
    // The CLI.
    const cli = await node.cli(['run', 'logs', String(run.id), '-R', repo.full]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /build says 42/);
    assert.match(cli.stdout, /test of [0-9a-f]{7} ok/);
    // The statuses are final.
    const st = await node.ok(200, 'GET', `/api/repos/${repo.full}/commits/${repo.sha}/status`);
    assert.equal(st.state, 'success');
    const cliStatus = await node.cli(['status', repo.sha, '-R', repo.full]);
    assert.equal(cliStatus.code, 0, cliStatus.stdout);
  });

  test('(a) a failing step fails the job and the run', { skip }, async () => {
    await node.commit(repo, { '.guts/workflows/failing.yml': FAILING });
    const runs = await node.runs(repo.full, '&workflow=failing.yml');
    assert.equal(runs.length, 1);
    const done = await node.waitRun(repo.full, runs[0].id, 60000);
    assert.equal(done.conclusion, 'failure');
    const [job] = await jobsOf(node, repo.full, runs[0].id);
    assert.equal(job.conclusion, 'failure');
    assert.equal(job.steps.find((s) => s.conclusion === 'failure')?.number, 2, JSON.stringify(job.steps));
    assert.ok(!job.steps.some((s) => s.number === 3 && s.conclusion === 'success'));
    const log = await node.log(repo.full, job.id);
    assert.match(log, /about to fail 2/);
    const st = await node.ok(200, 'GET', `/api/repos/${repo.full}/commits/${done.head_sha}/status`);
    assert.equal(st.state, 'failure');
  });

  test('(b) dispatch inputs reach the job', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'greet.yml', { greeting: 'hi there', loud: true });
    const done = await node.waitRun(repo.full, run.id, 60000);
    assert.equal(done.conclusion, 'success');
    const [job] = await jobsOf(node, repo.full, run.id);
    assert.match(await node.log(repo.full, job.id), /GREETING=HI THERE LOUD=TRUE/);
  });

  test('(c) cancelling a running job stops it within 5 s, with 15 s heartbeats', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'sleepy.yml');
    await waitInProgress(node, repo.full, run.id, 'nap');
    await sleep(500); // the step has started
    const t0 = Date.now();
    const r = await node.api('POST', `/api/repos/${repo.full}/runs/${run.id}/cancel`);
    assert.equal(r.status, 202, r.text);
    const done = await node.waitRun(repo.full, run.id, 10000);
    assert.ok(Date.now() - t0 < 5000, `cancel took ${Date.now() - t0} ms`);
    assert.equal(done.conclusion, 'cancelled');
    const [job] = await jobsOf(node, repo.full, run.id);
    assert.equal(job.status, 'completed');
    assert.equal(job.conclusion, 'cancelled');
  });

  test('(d) rerun --failed keeps the successful job and re-runs the failed one', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'flaky.yml');
    const first = await node.waitRun(repo.full, run.id, 60000);
    assert.equal(first.conclusion, 'failure');
    const jobs1 = await jobsOf(node, repo.full, run.id);
    const steady1 = jobs1.find((j) => j.job_key === 'steady');
    const flaky1 = jobs1.find((j) => j.job_key === 'flaky');
    assert.equal(steady1.conclusion, 'success');
    assert.equal(flaky1.conclusion, 'failure');

    const cli = await node.cli(['run', 'rerun', String(run.id), '--failed', '-R', repo.full]);
    assert.equal(cli.code, 0, cli.stderr);
    const second = await waitFor(async () => {
      const r = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${run.id}`);
      return r.run_attempt === 2 && r.status === 'completed' && r;
    }, 60000, 'attempt 2 to complete');
    assert.equal(second.conclusion, 'success');
    const jobs2 = await jobsOf(node, repo.full, run.id);
    assert.ok(jobs2.every((j) => j.run_attempt === 2));
    const steady2 = jobs2.find((j) => j.job_key === 'steady');
    const flaky2 = jobs2.find((j) => j.job_key === 'flaky');
    assert.equal(steady2.conclusion, 'success');
    assert.equal(steady2.reason, 'kept from the previous attempt');
    assert.equal(flaky2.conclusion, 'success');
    assert.notEqual(flaky2.reason, 'kept from the previous attempt');
    assert.notEqual(flaky2.id, flaky1.id);
    assert.ok(Date.parse(flaky2.started_at) >= Date.parse(flaky1.completed_at));
    // The kept job's log is the first attempt's.
    assert.match(await node.log(repo.full, steady2.id), /steady 6/);
  });

  test('(h) SIGTERM with a running job: the node drains, exits 0, and the job completed', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'drain.yml');
    await waitInProgress(node, repo.full, run.id, 'slow');
    const s = await node.stop({ killAfterMs: 40000 });
    assert.equal(s.signal, null, JSON.stringify(s));
    assert.equal(s.code, 0, JSON.stringify(s));
    assert.ok(s.ms < 35000, `stopped in ${s.ms} ms`);
    await node.start();
    const done = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${run.id}`);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.conclusion, 'success');
    const [job] = await jobsOf(node, repo.full, run.id);
    assert.equal(job.conclusion, 'success');
    assert.match(await node.log(repo.full, job.id), /drained 25/);
  });
});

// ---- external runners --------------------------------------------------------

const MATRIX = `name: Matrix
on: workflow_dispatch
jobs:
  leg:
    strategy:
      matrix:
        label: [linux, gpu]
    runs-on: \${{ matrix.label }}
    steps:
      - run: echo "leg \${{ matrix.label }} $((3 * 3))"
`;

const LONG = `name: Long
on: workflow_dispatch
jobs:
  long:
    runs-on: default
    steps:
      - run: echo "start $((7 * 7))"; sleep 20; echo "end $((8 * 8))"
`;

describe('with external runners', () => {
  let node, repo, r1, r2;
  before(async () => {
    if (skip) return;
    // Short leases, so a lost runner is noticed within seconds.
    node = new GutsNode({ runners: 0,
                          env: { GUTS_LEASE_SECONDS: '4', GUTS_HEARTBEAT_SECONDS: '1' } });
    await node.start();
    repo = await node.makeRepo('ext', {
      '.guts/workflows/matrix.yml': MATRIX,
      '.guts/workflows/long.yml': LONG,
    });
    r1 = await startRunner(node, 'r1', ['default', 'linux']);
    r2 = await startRunner(node, 'r2', ['default', 'gpu']);
  });
  after(async () => {
    await r1?.stop();
    await r2?.stop();
    await node?.stop();
  });

  test('(e) registered runners show up with their labels', { skip }, async () => {
    const runners = await waitFor(async () => {
      const list = await node.ok(200, 'GET', '/api/runners');
      return list.filter((r) => ['r1', 'r2'].includes(r.name) && r.status !== 'offline').length === 2 && list;
    }, 15000, 'r1 and r2 to be online');
    assert.deepEqual(runners.find((r) => r.name === 'r1').labels, ['default', 'linux']);
    assert.deepEqual(runners.find((r) => r.name === 'r2').labels, ['default', 'gpu']);
  });

  test('(e) a matrix over runs-on labels: each leg on the runner with its label', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'matrix.yml');
    const done = await node.waitRun(repo.full, run.id, 60000);
    assert.equal(done.conclusion, 'success');
    const jobs = await jobsOf(node, repo.full, run.id);
    assert.equal(jobs.length, 2, JSON.stringify(jobs));
    for (const j of jobs) {
      assert.equal(j.conclusion, 'success');
      const label = j.matrix.label;
      assert.deepEqual(j.runs_on, [label]);
      assert.equal(j.runner_name, label === 'linux' ? 'r1' : 'r2', JSON.stringify(j));
      assert.match(await node.log(repo.full, j.id), new RegExp(`leg ${label} 9`));
    }
    assert.deepEqual(jobs.map((j) => j.matrix.label).sort(), ['gpu', 'linux']);
  });

  test('(f) kill -9 of the runner mid-job: attempt 2 finishes on the other runner', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'long.yml');
    const job = await waitInProgress(node, repo.full, run.id, 'long');
    assert.equal(job.attempt, 1);
    await waitFor(async () => /start 49/.test(await node.log(repo.full, job.id)), 15000,
                  'the step to start');
    const [victim, survivor] = job.runner_name === 'r1' ? [r1, r2] : [r2, r1];
    await victim.kill9();
    const requeued = await waitFor(async () => {
      const j = await node.ok(200, 'GET', `/api/repos/${repo.full}/jobs/${job.id}`);
      return j.attempt === 2 && j;
    }, 15000, 'the job to be re-queued as attempt 2');
    assert.ok(['queued', 'in_progress'].includes(requeued.status), JSON.stringify(requeued));
    const done = await node.waitRun(repo.full, run.id, 60000);
    assert.equal(done.conclusion, 'success');
    const after2 = await node.ok(200, 'GET', `/api/repos/${repo.full}/jobs/${job.id}`);
    assert.equal(after2.attempt, 2);
    assert.equal(after2.conclusion, 'success');
    assert.equal(after2.runner_name, survivor.name);
    const log = await node.log(repo.full, job.id);
    assert.match(log, /runner_lost/);
    assert.match(log, /end 64/);
  });
});

// ---- a node killed mid-run -------------------------------------------------------

const COUNT = `name: Count
on: workflow_dispatch
jobs:
  count:
    runs-on: default
    steps:
      - run: for i in $(seq 1 30); do echo "line $i"; sleep 0.1; done
`;

describe('guts-node killed mid-run', () => {
  let node, repo, runner;
  before(async () => {
    if (skip) return;
    node = new GutsNode({ runners: 0 });
    await node.start();
    repo = await node.makeRepo('count', { '.guts/workflows/count.yml': COUNT });
    // An external runner: it outlives the node and comes back to it.
    runner = await startRunner(node, 'steady', ['default']);
  });
  after(async () => {
    await runner?.stop();
    await node?.stop();
  });

  test('(g) kill -9 of guts-node, restart on the same port: the run completes, each line once', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'count.yml');
    const job = await waitInProgress(node, repo.full, run.id, 'count');
    await waitFor(async () => /^\S+ line 3$/m.test(await node.log(repo.full, job.id)), 15000,
                  'the first lines');
    await node.kill9();
    await sleep(300);
    await node.start({ samePort: true });
    const done = await node.waitRun(repo.full, run.id, 60000);
    assert.equal(done.conclusion, 'success', JSON.stringify(done));
    const j = await node.ok(200, 'GET', `/api/repos/${repo.full}/jobs/${job.id}`);
    assert.equal(j.attempt, 1, 'the same attempt carried on');
    const log = await node.log(repo.full, job.id);
    const seen = [...log.matchAll(/^\S+ line (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => i + 1), log);
  });
});

describe('guts-node with its embedded runner killed mid-run', () => {
  let node, repo;
  before(async () => {
    if (skip) return;
    node = new GutsNode({ runners: 1 });
    await node.start();
    repo = await node.makeRepo('count2', { '.guts/workflows/count.yml': COUNT });
  });
  after(async () => { await node?.stop(); });

  test('(g) kill -9 of guts-node: its embedded runner finishes the job with the restarted node, each line once', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'count.yml');
    const job = await waitInProgress(node, repo.full, run.id, 'count');
    await waitFor(async () => /^\S+ line 3$/m.test(await node.log(repo.full, job.id)), 15000,
                  'the first lines');
    await node.kill9();
    await sleep(300);
    await node.start({ samePort: true });
    const done = await node.waitRun(repo.full, run.id, 60000);
    assert.equal(done.conclusion, 'success', JSON.stringify(done));
    const j = await node.ok(200, 'GET', `/api/repos/${repo.full}/jobs/${job.id}`);
    assert.equal(j.attempt, 1, 'the same attempt carried on');
    const log = await node.log(repo.full, job.id);
    const seen = [...log.matchAll(/^\S+ line (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => i + 1), log);
    // The new node's embedded runner takes the next job.
    const again = await dispatchRun(node, repo.full, 'count.yml');
    const d2 = await node.waitRun(repo.full, again.id, 30000);
    assert.equal(d2.conclusion, 'success');
  });
});

describe('what a job cannot see', () => {
  let node, repo, data, top;
  before(async () => {
    if (skip) return;
    // Outside /tmp (which every sandbox gets empty), where a job would
    // otherwise read it through the read-only root.
    top = fs.mkdtempSync('/var/tmp/guts-e2e-');
    data = path.join(top, 'data');
    node = new GutsNode({ runners: 1, data });
    await node.start();
    repo = await node.makeRepo('peek', { '.guts/workflows/peek.yml': `name: Peek
on: workflow_dispatch
jobs:
  peek:
    runs-on: default
    steps:
      - run: |
          echo "data: $(ls -A ${data} 2>&1 | tr '\\n' ' ')"
          cat ${data}/admin.token 2>&1 || true
          cat ${data}/runners/1.token 2>&1 || true
          for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done | grep -c GUTS_RUNNER_TOKEN || true
          echo "runner work: $(ls -A ${data}/runners/1 2>&1 | tr '\\n' ' ')"
` });
  });
  after(async () => {
    await node?.stop();
    if (top) fs.rmSync(top, { recursive: true, force: true });
  });

  test('a job sees neither the node\'s data (tokens, database) nor the runner\'s token', { skip }, async () => {
    const run = await dispatchRun(node, repo.full, 'peek.yml');
    const done = await node.waitRun(repo.full, run.id, 30000);
    assert.equal(done.conclusion, 'success', JSON.stringify(done));
    const [job] = await jobsOf(node, repo.full, run.id);
    const log = await node.log(repo.full, job.id);
    const admin = fs.readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
    const runnerTok = fs.readFileSync(path.join(data, 'runners', '1.token'), 'utf8').trim();
    assert.ok(!log.includes(admin), 'the admin token leaked into the job');
    assert.ok(!log.includes(runnerTok), 'the runner token leaked into the job');
    assert.doesNotMatch(log, /guts\.db/);
    assert.match(log, /^\S+ 0$/m, 'no process in the sandbox has GUTS_RUNNER_TOKEN');
  });
});
