// Annotations and job summaries: a real runner collects ::error/::warning/
// ::notice and $GITHUB_STEP_SUMMARY, sends them with the completion, and the
// node serves GET …/runs/{id}/annotations and GET …/jobs/{id}/summary
// (Markdown and safe HTML).  A re-run's kept jobs show their source's.
// The completion's new fields spoken by hand: checks and compatibility.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, HAVE_RUNNER } from './harness.mjs';

const skip = !HAVE_RUNNER && 'guts-runner not built yet';
const SECRET = 'hunter2-' + 'sekrit';

const WF = `name: Sum
on: push
jobs:
  report:
    runs-on: default
    steps:
      - run: echo warming up
      - name: Report
        run: |
          echo "::add-mask::${SECRET}"
          {
            echo "## Results"
            echo
            echo "| test | result |"
            echo "|---|---|"
            echo "| parse | pass |"
            echo "| token | ${SECRET} |"
            echo
            echo "<script>alert(1)</script>"
          } >> "$GITHUB_STEP_SUMMARY"
          echo "::error file=src/a.c,line=3,endLine=4,col=1,endColumn=5,title=Bad::it broke"
          echo "::warning::careful"
          echo "::notice title=Leak::token ${SECRET}"
          exit 1
  fine:
    runs-on: default
    steps:
      - run: |
          echo "::notice::all fine"
          echo "- [x] built" >> "$GITHUB_STEP_SUMMARY"
          for i in $(seq 1 12); do echo "::warning::w$i"; done
  quiet:
    runs-on: default
    steps:
      - run: echo nothing to say
`;

const HAND = `name: Hand
on: push
jobs:
  one:
    runs-on: hand
    steps:
      - run: echo hi
`;

let node, repo;
before(async () => {
  node = await startNode({ runners: HAVE_RUNNER ? 1 : 0 });
  if (HAVE_RUNNER) repo = await node.makeRepo('sum', { '.guts/workflows/sum.yml': WF });
});
after(() => node?.stop());

const get = (p, token) => node.api('GET', `/api/repos/${repo.full}${p}`, undefined, token);

async function firstRun() {
  const [run] = await node.runs(repo.full);
  return node.waitRun(repo.full, run.id, 90000);
}

test('a failing step\'s annotations and summary reach the API, masked', { skip }, async () => {
  const run = await firstRun();
  assert.equal(run.conclusion, 'failure');
  const jobs = await node.jobs(repo.full, run.id);
  const report = jobs.find((j) => j.job_key === 'report');
  const step = report.steps.find((s) => s.name === 'Report').number;

  const r = await get(`/runs/${run.id}/annotations?per_page=100`);
  assert.equal(r.status, 200, r.text);
  const mine = r.json.filter((a) => a.job_id === report.id);
  const err = mine.find((a) => a.message === 'it broke');
  assert.ok(err, JSON.stringify(mine));
  assert.deepEqual(err, {
    job_id: report.id, job_name: report.name, level: 'error', message: 'it broke',
    file: 'src/a.c', line: 3, end_line: 4, col: 1, end_col: 5, title: 'Bad', step,
  });
  const warn = mine.find((a) => a.level === 'warning');
  assert.equal(warn.message, 'careful');
  assert.equal(warn.step, step);
  assert.equal(warn.file, null);
  assert.equal(warn.line, null);
  // The executor's own failure is an error annotation too, as on GitHub.
  assert.ok(mine.some((a) => a.level === 'error' && /exit code 1/.test(a.message)),
            JSON.stringify(mine));
  // Masked: the notice quoted the secret.
  const leak = mine.find((a) => a.title === 'Leak');
  assert.equal(leak.level, 'notice');
  assert.doesNotMatch(leak.message, new RegExp(SECRET));
  assert.match(leak.message, /\*\*\*/);
  assert.doesNotMatch(r.text, new RegExp(SECRET));
  // Ordered by job, then as they came.
  const ids = r.json.map((a) => a.job_id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.ok(mine.indexOf(err) < mine.indexOf(warn));

  const s = await get(`/jobs/${report.id}/summary`);
  assert.equal(s.status, 200, s.text);
  assert.match(s.json.markdown, /\| parse \| pass \|/);
  assert.doesNotMatch(s.json.markdown, new RegExp(SECRET));
  assert.match(s.json.markdown, /\| token \| \*\*\* \|/);
  assert.match(s.json.html, /<table>/);
  assert.match(s.json.html, /<td>parse<\/td>/);
  assert.match(s.json.html, /<h2>Results<\/h2>/);
  assert.doesNotMatch(s.json.html, /<script/);

  const quiet = jobs.find((j) => j.job_key === 'quiet');
  const none = await get(`/jobs/${quiet.id}/summary`);
  assert.equal(none.status, 404, none.text);
  assert.equal(none.json.error.code, 'not_found');
  // The jobs say which have one (the UI asks only for those).
  assert.equal(report.has_summary, true);
  assert.equal(quiet.has_summary, false);
  assert.ok(!r.json.some((a) => a.job_id === quiet.id));

  // GitHub's cap: 10 per step and level; the rest stay in the log.
  const fine = jobs.find((j) => j.job_key === 'fine');
  const ws = r.json.filter((a) => a.job_id === fine.id && a.level === 'warning');
  assert.deepEqual(ws.map((a) => a.message), Array.from({ length: 10 }, (_, i) => `w${i + 1}`));
  assert.match(await node.log(repo.full, fine.id), /w12/);

  const unknown = await get('/jobs/999999/summary');
  assert.equal(unknown.status, 404);
  const noRun = await get('/runs/999999/annotations');
  assert.equal(noRun.status, 404);
});

test('a re-run\'s kept jobs show the annotations and summary they were copied from', { skip }, async () => {
  const run = await firstRun();
  const before1 = await node.jobs(repo.full, run.id);
  await node.ok(201, 'POST', `/api/repos/${repo.full}/runs/${run.id}/rerun`, { failed_only: true });
  const again = await node.waitRun(repo.full, run.id, 90000);
  assert.equal(again.run_attempt, 2);
  const jobs = await node.jobs(repo.full, run.id);
  const fine = jobs.find((j) => j.job_key === 'fine');
  assert.notEqual(fine.id, before1.find((j) => j.job_key === 'fine').id, 'a new row');

  const s = await get(`/jobs/${fine.id}/summary`);
  assert.equal(s.status, 200, s.text);
  assert.match(s.json.html, /<input type="checkbox" checked="" disabled="" \/> built/);

  const r = await get(`/runs/${run.id}/annotations?per_page=100`);
  assert.equal(r.status, 200, r.text);
  const ids = new Set(jobs.map((j) => j.id));
  assert.ok(r.json.every((a) => ids.has(a.job_id)), 'the latest attempt\'s jobs only');
  assert.ok(r.json.some((a) => a.job_id === fine.id && a.message === 'all fine'), r.text);
  const report = jobs.find((j) => j.job_key === 'report');
  assert.equal(r.json.filter((a) => a.job_id === report.id && a.message === 'it broke').length, 1);
  // The first attempt, on request.
  const first = await get(`/runs/${run.id}/annotations?attempt=1&per_page=100`);
  assert.ok(first.json.every((a) => before1.some((j) => j.id === a.job_id)));

  // A third attempt copies the copy: still the first attempt's summary.
  await node.ok(201, 'POST', `/api/repos/${repo.full}/runs/${run.id}/rerun`, { failed_only: true });
  assert.equal((await node.waitRun(repo.full, run.id, 90000)).run_attempt, 3);
  const fine3 = (await node.jobs(repo.full, run.id)).find((j) => j.job_key === 'fine');
  const s3 = await get(`/jobs/${fine3.id}/summary`);
  assert.equal(s3.status, 200, s3.text);
  assert.equal(s3.json.markdown, s.json.markdown);
  const r3 = await get(`/runs/${run.id}/annotations?per_page=100`);
  assert.ok(r3.json.some((a) => a.job_id === fine3.id && a.message === 'all fine'), r3.text);
});

test('private repositories: the summary and annotations need a token', { skip }, async () => {
  const priv = await node.makeRepo('sum-private', { '.guts/workflows/sum.yml': WF },
                                   { visibility: 'private' });
  const [run] = await node.runs(priv.full);
  await node.waitRun(priv.full, run.id, 90000);
  const [job] = await node.jobs(priv.full, run.id);
  const anon = await node.api('GET', `/api/repos/${priv.full}/jobs/${job.id}/summary`, undefined, null);
  assert.equal(anon.status, 404);
  const anonA = await node.api('GET', `/api/repos/${priv.full}/runs/${run.id}/annotations`, undefined, null);
  assert.equal(anonA.status, 404);
  const mine = await node.api('GET', `/api/repos/${priv.full}/runs/${run.id}/annotations`);
  assert.equal(mine.status, 200, mine.text);
  assert.ok(mine.json.length > 0);
  // A job of another repository is not found through this one.
  const cross = await get(`/jobs/${job.id}/summary`);
  assert.equal(cross.status, 404);
});

test('by hand: bad annotations get 422 naming the field; a completion without them still works', async () => {
  const hand = await node.makeRepo('sum-hand', { '.guts/workflows/h.yml': HAND });
  const reg = await node.ok(201, 'POST', '/api/runners/registration-token');
  const runner = await node.ok(201, 'POST', '/api/runners/register',
                               { protocol: 1, token: reg.token, name: 'sumhand', labels: ['hand'] }, null);
  const call = (p, body, headers = {}) => node.api('POST', p, body, runner.token, { headers });
  const r = await call('/api/runners/next', { protocol: 1, wait: 10 });
  assert.equal(r.status, 200, r.text);
  const job = r.json.job;
  const fence = { 'X-Guts-Attempt': String(job.attempt), 'X-Guts-Lease': job.lease_token };
  const done = (extra) => call(`/api/runners/jobs/${job.id}/complete`,
                               { protocol: 1, conclusion: 'success', outputs: {}, ...extra }, fence);

  let c = await done({ annotations: [{ level: 'fatal', message: 'x' }] });
  assert.equal(c.status, 422, c.text);
  assert.equal(c.json.error.code, 'unprocessable');
  assert.match(c.json.error.message, /annotations\[0\]\.level/);
  c = await done({ annotations: [{ level: 'error', message: 'x', line: -1 }] });
  assert.equal(c.status, 422, c.text);
  assert.match(c.json.error.message, /annotations\[0\]\.line/);
  c = await done({ annotations: Array.from({ length: 201 }, () => ({ level: 'notice', message: 'n' })) });
  assert.equal(c.status, 422, c.text);
  assert.match(c.json.error.message, /^annotations:/);
  c = await done({ summary: 'x'.repeat(1024 * 1024 + 1) });
  assert.equal(c.status, 422, c.text);
  assert.match(c.json.error.message, /^summary:/);

  // A runner that predates the fields.
  c = await done({});
  assert.equal(c.status, 200, c.text);
  const s = await node.api('GET', `/api/repos/${hand.full}/jobs/${job.id}/summary`);
  assert.equal(s.status, 404, s.text);
  const a = await node.api('GET', `/api/repos/${hand.full}/runs/${job.run_id}/annotations`);
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(a.json, []);
});
