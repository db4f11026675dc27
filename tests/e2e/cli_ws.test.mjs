// guts run logs --follow and guts run watch over the node's WebSocket
// (docs/websocket.md), against a real node with its embedded runner and
// workflows pushed with real git.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { test, startNode, waitFor, sleep, run, runCli, GUTS, TMP, HAVE_RUNNER } from './harness.mjs';

const skip = !HAVE_RUNNER && 'no guts-runner';

const COUNT = (n, delay = '0.1') => `name: Count
on: push
jobs:
  count:
    runs-on: default
    steps:
      - run: for i in $(seq 1 ${n}); do echo "line $i"; sleep ${delay}; done
`;

const PAIR = (aStep) => `name: Pair
on: push
jobs:
  a:
    runs-on: default
    steps:
      - run: sleep 2
      - run: ${aStep}
  b:
    needs: a
    runs-on: default
    steps:
      - run: echo b done
`;

let node;
before(async () => { node = await startNode({ runners: HAVE_RUNNER ? 1 : 0 }); });
after(() => node?.stop());

async function pushRun(name, files) {
  const repo = await node.makeRepo(name, files);
  const run = await waitFor(async () => (await node.runs(repo.full))[0], 10000, 'the run');
  return { repo, run };
}

async function jobNamed(repo, runId, key) {
  return waitFor(async () => (await node.jobs(repo.full, runId)).find((j) => j.job_key === key),
                 10000, `job ${key}`);
}

// The numbers of the "line N" lines of a log, in order.
const numbers = (text) => [...text.matchAll(/^\S+ line (\d+)$/gm)].map((m) => Number(m[1]));
const oneTo = (n) => Array.from({ length: n }, (_, i) => i + 1);

function ok(r, what) {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

test('logs --follow prints every line live, in order, none twice, and exits with the run', { skip }, async () => {
  const { repo, run } = await pushRun('follow', { '.guts/workflows/count.yml': COUNT(40) });
  // Started while the run is queued or just running: the lines come live.
  const t0 = Date.now();
  const r = await node.cli(['run', 'logs', String(run.id), '--follow', '-R', repo.full]);
  const out = ok(r, 'run logs --follow');
  assert.doesNotMatch(r.stderr, /polling/, 'the WebSocket was used');
  assert.deepEqual(numbers(out), oneTo(40), out);
  const done = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${run.id}`);
  assert.equal(done.status, 'completed', 'it exited once the run completed');
  assert.ok(Date.now() - t0 >= 3000, 'it followed the job while it ran');
  // Exactly what the REST API has, in the same format as without --follow.
  const job = await jobNamed(repo, run.id, 'count');
  assert.equal(out, `== count ==\n${await node.log(repo.full, job.id)}`);
  assert.equal(ok(await node.cli(['run', 'logs', String(run.id), '-R', repo.full]), 'run logs'), out);
  // --job: no header line, the same bytes.
  const only = ok(await node.cli(['run', 'logs', String(run.id), '--follow', '--job', 'count',
                                  '-R', repo.full]), 'run logs --follow --job');
  assert.equal(only, await node.log(repo.full, job.id));
});

test('logs --follow of a failed run exits 0 as before, with every line', { skip }, async () => {
  const { repo, run } = await pushRun('follow-fail', {
    '.guts/workflows/f.yml': `name: F
on: push
jobs:
  f:
    runs-on: default
    steps:
      - run: echo before; sleep 1; echo failing; exit 3
`,
  });
  const r = await node.cli(['run', 'logs', String(run.id), '-f', '-R', repo.full]);
  const out = ok(r, 'run logs -f');
  assert.match(out, /^== f ==\n/);
  assert.match(out, / before\n[^]* failing\n/);
  assert.equal((await node.waitRun(repo.full, run.id)).conclusion, 'failure');
});

test('logs --follow goes on after the node is killed and restarted mid-job', { skip }, async () => {
  const { repo, run } = await pushRun('follow-restart', { '.guts/workflows/count.yml': COUNT(40, '0.15') });
  const cli = node.cli(['run', 'logs', String(run.id), '--follow', '-R', repo.full]);
  const job = await jobNamed(repo, run.id, 'count');
  await waitFor(async () => /^\S+ line 5$/m.test(await node.log(repo.full, job.id)), 20000,
                'the first lines');
  await node.kill9();
  await sleep(300);
  await node.start({ samePort: true });
  const r = await cli;
  const out = ok(r, 'run logs --follow across a restart');
  assert.deepEqual(numbers(out), oneTo(40), out);
  assert.equal(out, `== count ==\n${await node.log(repo.full, job.id)}`);
});

// A TCP proxy in front of the node that can cut every WebSocket through it.
function wsCutter(port) {
  const pairs = new Set();
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    const pair = { down, up, ws: false };
    pairs.add(pair);
    down.once('data', (d) => { pair.ws = /^GET \S*\/api\/ws /.test(d.toString('latin1')); });
    down.pipe(up);
    up.pipe(down);
    const end = () => { pairs.delete(pair); down.destroy(); up.destroy(); };
    down.on('error', end);
    up.on('error', end);
    down.on('close', end);
    up.on('close', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    open: () => [...pairs].filter((p) => p.ws).length,
    cut() {
      let n = 0;
      for (const p of pairs) if (p.ws) { p.down.destroy(); p.up.destroy(); n++; }
      return n;
    },
    close() { server.close(); for (const p of pairs) { p.down.destroy(); p.up.destroy(); } },
  })));
}

test('logs --follow resumes after its connection is cut, nothing missed or doubled', { skip }, async () => {
  const { repo, run } = await pushRun('follow-cut', { '.guts/workflows/count.yml': COUNT(60) });
  const proxy = await wsCutter(node.port);
  try {
    const cli = runCli(['run', 'logs', String(run.id), '--follow', '-R', repo.full],
                       { url: proxy.url, token: node.token });
    const job = await jobNamed(repo, run.id, 'count');
    let cuts = 0;
    for (const line of [10, 25, 40]) {
      await waitFor(async () => new RegExp(`^\\S+ line ${line}$`, 'm').test(await node.log(repo.full, job.id)),
                    20000, `line ${line}`);
      // Cut a WebSocket that is open (the CLI may be slow to start).
      await waitFor(() => proxy.open() > 0, 20000, 'a WebSocket through the proxy');
      cuts += proxy.cut();
    }
    const r = await cli;
    const out = ok(r, 'run logs --follow through cuts');
    assert.equal(cuts, 3, 'connections cut');
    assert.deepEqual(numbers(out), oneTo(60), out);
    assert.equal(out, `== count ==\n${await node.log(repo.full, job.id)}`);
  } finally {
    proxy.close();
  }
});

test('run watch: two jobs (b needs a) reach ✓, one line per change, exit 0', { skip }, async () => {
  const { repo, run } = await pushRun('watch-ok', { '.guts/workflows/pair.yml': PAIR('echo a done') });
  const r = await node.cli(['run', 'watch', String(run.id), '-R', repo.full]);
  const out = ok(r, 'run watch');
  assert.doesNotMatch(r.stderr, /polling/, 'the WebSocket was used');
  const lines = out.trim().split('\n');
  assert.equal(lines[0], `Pair #1 (run ${run.id}): push on main`);
  const at = (re) => lines.findIndex((l) => re.test(l));
  const aRun = at(/^\d\d:\d\d:\d\d a ● in_progress/);
  const aOk = at(/^\d\d:\d\d:\d\d a ✓ success \(\d+s\)$/);
  const bOk = at(/^\d\d:\d\d:\d\d b ✓ success \(\d+s\)$/);
  assert.ok(aRun > 0 && aOk > aRun && bOk > aOk, out);
  assert.match(out, /^\d\d:\d\d:\d\d a ● in_progress \(step 1: .*sleep 2.*\)$/m, 'the current step');
  assert.equal(lines.at(-1), `Run ${run.id} completed: success`);
  // No line is said twice in a row for a job.
  for (const name of ['a', 'b']) {
    const said = lines.filter((l) => l.split(' ')[1] === name).map((l) => l.slice(9));
    for (let i = 1; i < said.length; i++) assert.notEqual(said[i], said[i - 1], out);
  }
});

const haveScript = spawnSync('script', ['--version']).status === 0;

test('run watch on a terminal redraws the view in place', { skip: skip || (!haveScript && 'no script(1)') }, async () => {
  const { repo, run: r0 } = await pushRun('watch-tty', { '.guts/workflows/pair.yml': PAIR('echo a done') });
  const cmd = [GUTS, 'run', 'watch', String(r0.id), '-R', repo.full, '--url', node.url, '--token', node.token]
    .map((a) => `'${a}'`).join(' ');
  // script(1) gives it a terminal, 60 columns wide.
  const r = await run('script', ['-qfec', `stty cols 60 rows 20; ${cmd}`, '/dev/null'],
                      { env: { ...process.env, HOME: TMP } });
  assert.equal(r.code, 0, r.stdout);
  const out = r.stdout;
  assert.match(out, /\x1b\[\d+A/, 'the cursor goes back up');
  assert.match(out, /\r\x1b\[2K {2}✓ a +success/);
  // The last view: a, then a blank line, then b (it needs a).
  const last = out.slice(out.lastIndexOf('Pair #1'));
  assert.match(last, /✓ success[^]*\r\x1b\[2K {2}✓ a +success[^]*\r\x1b\[2K\r?\n\r\x1b\[2K {2}✓ b +success/);
  assert.match(last, /Run \d+ completed: success/);
  for (const line of out.split(/\r?\n/).filter((l) => l.includes('\x1b[2K'))) {
    const visible = line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
    assert.ok([...visible].length < 60, `cut to the width: ${JSON.stringify(line)}`);
  }
});

test('run watch: a failing run exits 1 and says so, live or already completed', { skip }, async () => {
  const { repo, run } = await pushRun('watch-fail', { '.guts/workflows/pair.yml': PAIR('exit 1') });
  const live = await node.cli(['run', 'watch', String(run.id), '-R', repo.full]);
  assert.equal(live.code, 1, `${live.stdout}${live.stderr}`);
  assert.match(live.stdout, /^\d\d:\d\d:\d\d a ✗ failure/m);
  assert.match(live.stdout, /\nRun \d+ completed: failure\n$/);
  const again = await node.cli(['run', 'watch', String(run.id), '-R', repo.full]);
  assert.equal(again.code, 1, `${again.stdout}${again.stderr}`);
  assert.match(again.stdout, /a ✗ failure/);
  assert.match(again.stdout, /completed: failure\n$/);
});

test('run watch and logs --follow: usage and errors', async () => {
  const help = await node.cli(['run', '--help']);
  assert.match(help.stdout, /watch +watch a run/);
  const wh = await node.cli(['run', 'watch', '--help']);
  assert.equal(wh.code, 0);
  assert.match(wh.stdout, /usage: guts run watch ID/);
  const none = await node.cli(['run', 'watch', '-R', 'admin/nope']);
  assert.equal(none.code, 2, none.stderr);
  const missing = await node.cli(['run', 'watch', '999999', '-R', 'admin/follow']);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /^guts: /);
});
