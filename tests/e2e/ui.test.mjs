// The web UI in a real browser: Debian's Chromium driven by playwright-core
// (tests/e2e/package.json), against a real guts-node with embedded runners
// and repositories pushed with real git.  The pages show the runs that
// exist; Cancel, Re-run and the "Run workflow" form work; the badge follows
// the workflow; a running job's log streams in over the WebSocket, in
// colour; a phone-wide viewport does not scroll sideways; and no page logs
// a console error.  Screenshots go to $GUTS_E2E_OUT/ui (default
// tests/e2e/out/ui).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, startNode, waitFor, HAVE_RUNNER } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.GUTS_CHROMIUM || '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
const OUT = path.join(process.env.GUTS_E2E_OUT || path.join(here, 'out'), 'ui');

// playwright-core missing is a failure (npm ci in tests/e2e), not a skip.
let chromium = null;
let importError = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  importError = e;
}
const skip = !HAVE_CHROMIUM ? `no Chromium at ${CHROMIUM} (scripts/deps.sh installs it)`
  : !HAVE_RUNNER ? 'no guts-runner built' : false;

const ciYml = (cmd) => `name: CI
on: [push, workflow_dispatch]
jobs:
  build:
    runs-on: default
    steps:
      - name: Build it
        run: mkdir -p dist && echo building | tee dist/app.txt
      - uses: actions/upload-artifact@v4
        with:
          name: dist
          path: dist
  test:
    needs: build
    runs-on: default
    strategy:
      matrix:
        leg: [a, b]
    steps:
      - run: echo "testing \${{ matrix.leg }}"
  deploy:
    needs: test
    runs-on: default
    steps:
      - run: ${cmd}
`;

const SLOW = `name: Slow
on: workflow_dispatch
jobs:
  wait:
    runs-on: default
    steps:
      - run: sleep 60
`;

const TYPED = `name: Typed
on:
  workflow_dispatch:
    inputs:
      note:
        description: A note
        type: string
        required: true
        default: hi
      flag:
        type: boolean
        default: false
      level:
        type: choice
        options: [low, medium, high]
        default: low
      count:
        type: number
        default: 1
jobs:
  show:
    runs-on: default
    steps:
      - run: echo "\${{ inputs.note }} \${{ inputs.count }}"
`;

// A job that prints coloured lines slowly (a), and one that needs it (b).
const LIVE = `name: Live
on: workflow_dispatch
jobs:
  a:
    runs-on: default
    steps:
      - name: Colours
        run: |
          for i in $(seq 1 40); do
            printf '\\033[31mred %d\\033[0m \\033[1;38;5;33mblue\\033[0m \\033[38;2;0;200;0mgreen\\033[0m\\n' $i
            sleep 0.25
          done
  b:
    needs: a
    runs-on: default
    steps:
      - run: echo after a
`;

let node, repo, browser, ciRun;

before(async () => {
  if (skip) return;
  fs.mkdirSync(OUT, { recursive: true });
  process.stdout.write(`# ui screenshots: ${OUT}\n`);
  node = await startNode({ runners: 2 });
  repo = await node.makeRepo('webui', {
    '.guts/workflows/ci.yml': ciYml('echo deployed'),
    '.guts/workflows/slow.yml': SLOW,
    '.guts/workflows/typed.yml': TYPED,
    '.guts/workflows/live.yml': LIVE,
  });
  ciRun = await waitFor(async () => {
    const rs = await node.runs(repo.full, '&workflow=ci.yml');
    return rs.length && rs[0].status === 'completed' && rs[0];
  }, 60000, 'the push run of ci.yml');
  if (chromium) {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }
});

after(async () => {
  await browser?.close();
  await node?.stop();
});


// A page of a fresh browser context (its own localStorage), collecting
// console errors and uncaught exceptions; check() asserts there were none.
async function openPage(t, { width = 1440, height = 900, token } = {}) {
  if (importError) throw new Error(`playwright-core is not installed (cd tests/e2e && npm ci): ${importError.message}`);
  const ctx = await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()} @ ${msg.location().url}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.setDefaultTimeout(20000);
  if (token) {
    // Sign in through the form, as a user does.
    await page.goto(node.url + '/');
    await page.click('#sign-in');
    await page.fill('#signin-token', token);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#sign-out');
  }
  t.after(async () => { await ctx.close(); });
  // check.ignore: a RegExp of errors the test itself caused on purpose.
  const check = () => {
    const left = errors.filter((e) => !(check.ignore && check.ignore.test(e)));
    assert.deepEqual(left, [], 'console errors');
  };
  return {
    page,
    check,
    shot: (name) => page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true }),
  };
}

const runUrl = (id) => `${node.url}/${repo.full}/actions/runs/${id}`;

test('the repository list, the actions page and a run page show the runs that exist', { skip }, async (t) => {
  const { page, check, shot } = await openPage(t);
  await page.goto(node.url + '/');
  const row = page.locator(`#repo-list li[data-repo="${repo.full}"]`);
  await row.waitFor();
  await row.locator(`a[href="/${repo.full}/actions/runs/${ciRun.id}"]`).first().waitFor();
  assert.match(await row.innerText(), /CI #1/);
  await shot('repos');

  // In-app navigation: no reload (a marker on window survives).
  await page.evaluate(() => { window.__spa = 1; });
  await row.locator(`a[href="/${repo.full}/actions"]`).click();
  await page.waitForURL(`${node.url}/${repo.full}/actions`);
  await page.locator(`#run-list li[data-run="${ciRun.id}"]`).waitFor();
  assert.equal(await page.evaluate(() => window.__spa), 1);
  const wfNames = await page.locator('#workflow-list li[data-workflow]').allInnerTexts();
  assert.deepEqual(wfNames.map((s) => s.trim()), ['CI', 'Live', 'Slow', 'Typed']);
  // The filters are the API's: a status no run has empties the list.
  await page.selectOption('#run-filters select[name=status]', 'failure');
  await page.waitForURL(/status=failure/);
  await page.locator('.runs .empty').waitFor();
  await page.selectOption('#run-filters select[name=status]', 'success');
  await page.locator(`#run-list li[data-run="${ciRun.id}"]`).waitFor();
  await shot('actions');

  await page.locator(`#run-list li[data-run="${ciRun.id}"] a`).click();
  await page.waitForURL(runUrl(ciRun.id) + '**');
  await page.locator('#run-status[data-state=success]').waitFor();
  assert.equal(await page.locator('#run-event').innerText(), 'push');
  assert.equal(await page.locator('#run-sha').innerText(), repo.sha.slice(0, 7));
  assert.equal(await page.locator('#run-branch').innerText(), 'main');
  assert.equal(await page.locator('#run-actor').innerText(), 'admin');
  assert.equal(await page.locator('#run-attempt').innerText(), '1');
  // Signed out: no buttons that need write access.
  assert.equal(await page.locator('#run-actions button').count(), 0);

  // The graph: build → test (two legs) → deploy, in three columns, joined
  // by two connectors.
  const jobs = await node.jobs(repo.full, ciRun.id);
  assert.equal(jobs.length, 4);
  await page.locator('#job-graph .gnode[data-job-key=deploy]').waitFor();
  const cols = await page.locator('#job-graph .graph-col').evaluateAll((cs) =>
    cs.map((c) => [...c.querySelectorAll('.gnode')].map((n) => n.dataset.jobKey)));
  assert.deepEqual(cols, [['build'], ['test'], ['deploy']]);
  assert.equal(await page.locator('#job-graph .gnode[data-job-key=test] .gleg').count(), 2);
  assert.equal(await page.locator('#job-graph path.edge').count(), 2);
  assert.equal(await page.locator('#job-list button[data-state=success]').count(), 4);

  // A job's steps and log.
  const build = jobs.find((j) => j.job_key === 'build');
  await page.locator(`#job-list button[data-job="${build.id}"]`).click();
  await page.waitForURL(new RegExp(`\\?job=${build.id}`));
  await page.locator('#steps li', { hasText: 'Build it' }).waitFor();
  assert.equal(await page.locator('#steps li[data-state=success]').count(), build.steps.length);
  // The log's sections: successful steps start folded; a step in the list
  // opens its section.
  await page.locator('#log .lv-section', { hasText: 'Build it' }).waitFor();
  assert.equal(await page.locator('#log .lv-section', { hasText: 'Build it' }).getAttribute('aria-expanded'), 'false');
  await page.locator('#steps li', { hasText: 'Build it' }).locator('button').click();
  await waitFor(async () => /building/.test(await page.locator('#log').innerText()), 10000, 'the log text');
  assert.equal(await page.locator('#log .lv-section', { hasText: 'Build it' }).getAttribute('aria-expanded'), 'true');
  assert.equal(await page.locator('#raw-log').getAttribute('href'),
               `/api/repos/${repo.full}/jobs/${build.id}/logs`);
  await shot('run');

  // The artifact, with its download link.
  const arts = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${ciRun.id}/artifacts`);
  assert.equal(arts.length, 1);
  const a = page.locator('#artifact-list a', { hasText: 'dist' });
  const href = await a.getAttribute('href');
  assert.equal(href, `/api/repos/${repo.full}/artifacts/${arts[0].id}/zip`);
  const zip = await fetch(node.url + href);
  assert.equal(zip.status, 200);
  assert.equal(Buffer.from(await zip.arrayBuffer()).subarray(0, 2).toString(), 'PK');

  // A line number is a permalink: the hash changes, the page is not
  // rendered again, and a reload opens the line.
  const line = page.locator('#log .lv-line', { hasText: 'building' }).last();
  const num = await line.locator('.lv-num').innerText();
  await line.locator('.lv-num').click();
  await page.waitForURL(new RegExp(`\\?job=${build.id}#L${num}$`));
  assert.equal(await page.evaluate(() => window.__spa), 1);
  await page.locator('#log .lv-line.lv-selected', { hasText: 'building' }).waitFor();

  // A reload of the URL (?job=, #L) lands on the same job and line.
  await page.reload();
  await page.locator(`#job-list button[data-job="${build.id}"][aria-pressed=true]`).waitFor();
  await page.locator('#log .lv-line.lv-selected', { hasText: 'building' }).waitFor();

  check();

  // A run that does not exist says so on the page (its 404 is the one
  // console error expected here); /api/ stays JSON.
  await page.goto(`${node.url}/${repo.full}/actions/runs/999999`);
  await page.locator('.notice.error', { hasText: 'run 999999 not found' }).waitFor();
  const api404 = await fetch(`${node.url}/api/nope/x/actions`);
  assert.equal(api404.status, 404);
  assert.match(api404.headers.get('content-type'), /json/);
});

test('the assets have an ETag (304 when unchanged), no-cache and the CSP', { skip }, async () => {
  const r = await fetch(`${node.url}/-/static/js/app.js`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/javascript/);
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(r.headers.get('content-security-policy'), /script-src 'self'; object-src 'none'/);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  const again = await fetch(`${node.url}/-/static/js/app.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const page = await fetch(`${node.url}/${repo.full}/pulls/1`);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(await page.text(), /<script type="module" src="\/-\/static\/js\/app.js">/);
  // The badge route still wins over the page routes.
  const badge = await fetch(`${node.url}/${repo.full}/actions/ci.yml/badge.svg`);
  assert.equal(badge.headers.get('content-type'), 'image/svg+xml');
});

test('GET /api/repos/{o}/{r} says what the caller may do', { skip }, async () => {
  const anon = await node.ok(200, 'GET', `/api/repos/${repo.full}`, undefined, null);
  assert.deepEqual(anon.permissions, { admin: false, push: false, pull: true });
  const admin = await node.ok(200, 'GET', `/api/repos/${repo.full}`);
  assert.deepEqual(admin.permissions, { admin: true, push: true, pull: true });
  const bob = await node.tokenFor('bob', 'write');
  const other = await node.ok(200, 'GET', `/api/repos/${repo.full}`, undefined, bob);
  assert.deepEqual(other.permissions, { admin: false, push: false, pull: true });
  const reader = await node.tokenFor('admin', 'read');
  const ro = await node.ok(200, 'GET', `/api/repos/${repo.full}`, undefined, reader);
  assert.deepEqual(ro.permissions, { admin: false, push: false, pull: true });
});

test('Cancel and Re-run from the run page', { skip }, async (t) => {
  const { page, check, shot } = await openPage(t, { token: node.token });
  const run = await node.ok(201, 'POST', `/api/repos/${repo.full}/runs`, { workflow: 'slow.yml' });
  await page.goto(runUrl(run.id));
  await page.locator('#run-status[data-state=in_progress]').waitFor({ timeout: 30000 });
  await page.locator('#job-list button[data-state=in_progress]').waitFor();
  await shot('run-in-progress');
  await page.click('#cancel-run');
  await page.locator('#run-status[data-state=cancelled]').waitFor({ timeout: 30000 });
  const done = await node.waitRun(repo.full, run.id, 30000);
  assert.equal(done.conclusion, 'cancelled');
  await shot('run-cancelled');

  await page.click('#rerun-all');
  await page.locator('#run-attempt', { hasText: '2' }).waitFor();
  const again = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${run.id}`);
  assert.equal(again.run_attempt, 2);
  assert.notEqual(again.status, 'completed');
  // The second attempt's job shows up, running: cancel it too, from the page.
  await page.locator('#cancel-run').waitFor();
  await page.click('#cancel-run');
  await page.locator('#run-status[data-state=cancelled]').waitFor({ timeout: 30000 });
  assert.equal((await node.waitRun(repo.full, run.id, 30000)).conclusion, 'cancelled');
  await page.locator('#rerun-failed').waitFor();
  await shot('run-rerun');

  // Re-run failed jobs: the cancelled job runs again, as attempt 3.
  await page.click('#rerun-failed');
  await page.locator('#run-attempt', { hasText: '3' }).waitFor();
  await page.locator('#cancel-run').waitFor();
  assert.equal((await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${run.id}`)).run_attempt, 3);
  await node.ok(202, 'POST', `/api/repos/${repo.full}/runs/${run.id}/cancel`, {});
  // Cancelled elsewhere: the page follows.
  await page.locator('#run-status[data-state=cancelled]').waitFor({ timeout: 30000 });
  check();
});

test('the Run workflow form dispatches with typed inputs', { skip }, async (t) => {
  const { page, check, shot } = await openPage(t, { token: node.token });
  await page.goto(`${node.url}/${repo.full}/actions/typed.yml`);
  await page.click('#run-workflow > summary');
  // The fields follow the declared types and defaults.
  assert.equal(await page.locator('#input-note').getAttribute('type'), 'text');
  assert.equal(await page.locator('#input-note').inputValue(), 'hi');
  assert.equal(await page.locator('#input-flag').getAttribute('type'), 'checkbox');
  assert.equal(await page.locator('#input-flag').isChecked(), false);
  assert.equal(await page.locator('#input-level').evaluate((e) => e.tagName), 'SELECT');
  assert.equal(await page.locator('#input-level').inputValue(), 'low');
  assert.equal(await page.locator('#input-count').getAttribute('type'), 'number');
  assert.equal(await page.locator('label[for=input-note]').count(), 1);
  await page.fill('#input-note', 'from the form');
  await page.check('#input-flag');
  await page.selectOption('#input-level', 'high');
  await page.fill('#input-count', '3');
  await shot('dispatch-form');
  await page.click('#dispatch-submit');
  await page.waitForURL(/\/actions\/runs\/\d+/);
  const id = Number(/runs\/(\d+)/.exec(page.url())[1]);
  const run = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${id}`);
  assert.equal(run.event, 'workflow_dispatch');
  assert.equal(run.workflow_path, '.guts/workflows/typed.yml');
  assert.deepEqual(run.inputs, { note: 'from the form', flag: true, level: 'high', count: 3 });
  await page.locator('#run-event', { hasText: 'workflow_dispatch' }).waitFor();
  await page.locator('#run-status[data-state=success]').waitFor({ timeout: 30000 });
  check();
});

test('the workflow page: badge from passing to failing, and the README snippet', { skip }, async (t) => {
  const { page, check, shot } = await openPage(t);
  const badgeText = async () => {
    const src = await page.locator('#badge').evaluate((img) => img.src);
    return (await fetch(src)).text();
  };
  await page.goto(`${node.url}/${repo.full}/actions/ci.yml`);
  await page.locator('#run-list li').first().waitFor();
  assert.match(await badgeText(), />passing</);
  const md = await page.locator('#badge-markdown').inputValue();
  assert.equal(md, `[![CI](${node.url}/${repo.full}/actions/ci.yml/badge.svg)](${node.url}/${repo.full}/actions/ci.yml)`);
  assert.equal(await page.locator('#copy-badge').evaluate((b) => b.tagName), 'BUTTON');
  // Signed out: no form.
  assert.equal(await page.locator('#run-workflow').count(), 0);

  const before = (await node.runs(repo.full, '&workflow=ci.yml')).length;
  await node.commit(repo, { '.guts/workflows/ci.yml': ciYml('exit 1') });
  const failed = await waitFor(async () => {
    const rs = await node.runs(repo.full, '&workflow=ci.yml&event=push');
    return rs.length > before - 0 && rs[0].head_sha !== repo.sha && rs[0].status === 'completed' && rs[0];
  }, 60000, 'the failing run');
  assert.equal(failed.conclusion, 'failure');
  await page.reload();
  await page.locator(`#run-list li[data-run="${failed.id}"][data-state=failure]`).waitFor();
  assert.match(await badgeText(), />failing</);
  await shot('workflow');
  check();
});

test('sign-in refuses a bad token; the Run workflow form shows the API\'s refusal', { skip }, async (t) => {
  const { page, check } = await openPage(t);
  await page.goto(node.url + '/');
  await page.click('#sign-in');
  await page.fill('#signin-token', 'gut_nope');
  await page.click('#signin-form button[type=submit]');
  await page.locator('#signin-error', { hasText: 'not valid' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('guts.token')), null);
  await page.fill('#signin-token', node.token);
  await page.click('#signin-form button[type=submit]');
  await page.locator('.auth .user', { hasText: 'admin' }).waitFor();
  await page.goto(`${node.url}/${repo.full}/actions/typed.yml`);
  await page.click('#run-workflow > summary');
  await page.fill('#dispatch-ref', 'no-such-branch');
  await page.click('#dispatch-submit');
  await page.locator('#dispatch-form .form-error', { hasText: "ref 'no-such-branch' is not a branch or tag" }).waitFor();
  assert.match(page.url(), /typed\.yml$/);
  // Sign out forgets the token, and the form goes.
  await page.click('#sign-out');
  await page.locator('#sign-in').waitFor();
  assert.equal(await page.locator('#run-workflow').count(), 0);
  assert.equal(await page.evaluate(() => localStorage.getItem('guts.token')), null);
  // The 401 of the bad token and the 422 are the expected console errors.
  check.ignore = /status of (401 .*\/api\/user|422 .*\/runs)$/;
  check();
});

// GET …/runs/{id}/annotations and …/jobs/{id}/summary: the browser answers
// them here from the contract's shapes (with hostile strings), and checks
// that the summary's server-rendered HTML is shown as HTML and every other
// string as text.
test('annotations and job summaries (their endpoints answered per the contract)', { skip }, async (t) => {
  const { page, check, shot } = await openPage(t);
  const jobs = await node.jobs(repo.full, ciRun.id);
  const build = jobs.find((j) => j.job_key === 'build');
  await page.route(/\/api\/repos\/[^/]+\/[^/]+\/runs\/\d+\/annotations$/, (route) => route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify([
      { job_id: build.id, job_name: 'build', level: 'error', message: 'it broke <img src=x onerror=alert(1)>', file: 'src/a.c', line: 3, col: 7, title: 'Compile', step: 1 },
      { job_id: build.id, job_name: 'build', level: 'warning', message: 'careful', file: null, line: null, col: null, title: null, step: 1 },
    ]),
  }));
  // The build job says it has a summary (has_summary), and only its
  // summary is asked for.
  const asked = [];
  await page.route(/\/api\/repos\/[^/]+\/[^/]+\/runs\/\d+\/jobs(\?.*)?$/, async (route) => {
    const response = await route.fetch();
    const list = await response.json();
    for (const j of list) j.has_summary = j.id === build.id;
    return route.fulfill({ response, json: list });
  });
  await page.route(/\/api\/repos\/[^/]+\/[^/]+\/jobs\/\d+\/summary$/, (route) => {
    asked.push(route.request().url());
    return route.fulfill({ contentType: 'application/json',
                           body: JSON.stringify({ markdown: '## Results\n\n| a | b |', html: '<h2>Results</h2><table><tr><td>a</td><td>b</td></tr></table>' }) });
  });
  await page.goto(runUrl(ciRun.id));
  await page.locator('#annotations li[data-level=error]').waitFor();
  const err = await page.locator('#annotations li[data-level=error]').innerText();
  assert.match(err, /Compile/);
  assert.match(err, /it broke <img src=x onerror=alert\(1\)>/);
  assert.match(err, /src\/a\.c:3:7/);
  assert.equal(await page.locator('#annotations img').count(), 0);
  assert.equal(await page.locator('#annotations li[data-level=warning]').count(), 1);
  await page.locator(`#summaries article[data-job="${build.id}"] table td`, { hasText: 'b' }).waitFor();
  assert.equal(await page.locator(`#summaries article[data-job="${build.id}"] h2`).innerText(), 'Results');
  assert.equal(await page.locator('#summaries article').count(), 1);
  assert.deepEqual(asked.map((u) => u.replace(/.*\/jobs\//, '')), [`${build.id}/summary`]);
  await shot('run-annotations-summary');
  check();
});

test('a 375 px wide viewport does not scroll sideways', { skip }, async (t) => {
  const { page, check, shot } = await openPage(t, { width: 375, height: 800, token: node.token });
  for (const [name, url, sel] of [
    ['narrow-repos', '/', '#repo-list'],
    ['narrow-actions', `/${repo.full}/actions`, '#run-list'],
    ['narrow-workflow', `/${repo.full}/actions/typed.yml`, '#run-workflow'],
    ['narrow-run', `/${repo.full}/actions/runs/${ciRun.id}`, '#job-graph .gnode'],
  ]) {
    await page.goto(node.url + url);
    await page.locator(sel).first().waitFor();
    await page.waitForTimeout(100);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 375, `${url} is ${w} px wide at 375`);
    await shot(name);
  }
  check();
});

test('a pull request page shows its checks and whether it can merge', { skip }, async (t) => {
  const { page, check, shot } = await openPage(t);
  await node.commit(repo, { 'feature.txt': 'x\n' }, { branch: 'feature' });
  const pr = await node.ok(201, 'POST', `/api/repos/${repo.full}/pulls`,
                           { title: 'Add <b>feature</b>', head: 'feature', base: 'main' });
  await page.goto(`${node.url}/${repo.full}/pulls/${pr.number}`);
  await page.locator('#pull h1', { hasText: 'Add <b>feature</b>' }).waitFor();
  assert.equal(await page.locator('#pull h1 b').count(), 0, 'server strings are text');
  await page.locator('#merge h2').waitFor();
  await page.locator('#checks .row').first().waitFor();
  await shot('pull');
  // A check's Details is its run's page, in the app.
  const details = page.locator('#checks .row[data-context="CI / build"] a');
  assert.match(await details.getAttribute('href'), new RegExp(`^/${repo.full}/actions/runs/\\d+$`));
  await details.click();
  await page.locator('#run-header h1').waitFor();
  check();
});

test('live log streaming over the WebSocket, ANSI colours, and the graph following the run', { skip }, async (t) => {
  const { page, check, shot } = await openPage(t);
  // The log chunks the page gets over its WebSocket.
  let logFrames = 0;
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    if (typeof f.payload === 'string' && f.payload.startsWith('{"event":"log"')) logFrames++;
  }));
  const run = await node.ok(201, 'POST', `/api/repos/${repo.full}/runs`, { workflow: 'live.yml' });
  await page.goto(runUrl(run.id));
  await page.evaluate(() => { window.__noReload = 1; });
  await page.locator('#job-graph .gnode[data-job-key=b]').waitFor();
  // b waits for a.
  assert.match(await page.locator('#job-graph .gnode[data-job-key=b]').getAttribute('data-state'), /^(queued|waiting|pending)$/);

  // Lines arrive while the job runs.
  await waitFor(async () => /red 3\b/.test(await page.locator('#log').innerText()), 30000, 'live log lines');
  const jobs = await node.jobs(repo.full, run.id);
  const a = jobs.find((j) => j.job_key === 'a');
  assert.equal(a.status, 'in_progress', 'the lines came before the job ended');
  assert.ok(logFrames > 0, 'the log came over the WebSocket');
  await page.locator('#job-list button[data-state=in_progress]').waitFor();

  // Colours: 16-colour classes, 256-colour and truecolor styles.
  const colour = (text) => page.locator('#log .lv-text span', { hasText: text }).first()
    .evaluate((e) => getComputedStyle(e).color);
  const red = /rgb\((\d+), (\d+), (\d+)\)/.exec(await colour('red 1')).slice(1).map(Number);
  assert.ok(red[0] > 200 && red[0] - red[1] > 100 && red[0] - red[2] > 100, `red 1 is red: ${red}`);
  assert.equal(await colour('blue'), 'rgb(0, 135, 255)');
  assert.equal(await page.locator('#log .lv-text span', { hasText: 'blue' }).first()
    .evaluate((e) => getComputedStyle(e).fontWeight), '700');
  assert.equal(await colour('green'), 'rgb(0, 200, 0)');
  const text = await page.locator('#log').evaluate((e) => e.textContent);
  assert.ok(!text.includes('\x1b') && !text.includes('[31m') && !text.includes('[0m'), 'no raw escapes');
  await waitFor(async () => /red 12\b/.test(await page.locator('#log').innerText()), 30000, 'more lines');
  await shot('run-live-log');

  // The run ends: the page follows without a reload, b included.
  await page.locator('#run-status[data-state=success]').waitFor({ timeout: 40000 });
  await page.locator('#job-graph .gnode[data-job-key=b][data-state=success]').waitFor();
  await page.locator('#job-graph .gnode[data-job-key=a][data-state=success]').waitFor();
  assert.equal(await page.evaluate(() => window.__noReload), 1);
  // All 40 lines are in the log (the step's section, open).
  await page.locator('#steps li', { hasText: 'Colours' }).locator('button').click();
  const n = await page.locator('#log .lv-section', { hasText: 'Colours' }).getAttribute('aria-expanded');
  assert.equal(n, 'true');
  await page.fill('#log-search', 'red 40');
  await page.locator('#log-search-count', { hasText: '1 match' }).waitFor();
  await shot('run-live-done');
  check();
});
