// Shared helpers of the end-to-end tests: a real guts-node on a free port
// with a temporary data directory, the REST API, real git over HTTP, the
// guts CLI and (once it exists) guts-runner.  Only node: modules.
//
//   import { test, startNode, waitFor } from './harness.mjs';
//   let node;
//   before(async () => { node = await startNode({ runners: 0 }); });
//   after(() => node.stop());
//   test('…', async () => { const r = await node.api('GET', '/api/health'); });
//
// `test` is node:test's, wrapped so that a failing test prints the tail of
// the stderr of every guts-node and guts-runner this file started.

import { test as nodeTest } from 'node:test';
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const BIN_DIR = path.resolve(
  process.env.GUTS_BIN_DIR || path.join(here, '..', '..', 'build', 'bin'));
export const GUTS = path.join(BIN_DIR, 'guts');
export const GUTS_NODE = path.join(BIN_DIR, 'guts-node');
export const GUTS_RUNNER = path.join(BIN_DIR, 'guts-runner');
export const HAVE_RUNNER = fs.existsSync(GUTS_RUNNER);

// One temporary root per test file; removed at exit unless a test failed
// (or GUTS_E2E_KEEP is set), so the data directories stay for a post-mortem.
export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'guts-e2e-'));
const HOME = path.join(TMP, 'home');
fs.mkdirSync(path.join(HOME, '.config'), { recursive: true });
let failures = 0;
const children = new Set(); // live processes, killed at exit
const logs = []; // {what, file} for diagnostics

process.on('exit', () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
  if (!failures && !process.env.GUTS_E2E_KEEP) {
    try { fs.rmSync(TMP, { recursive: true, force: true }); } catch { /* busy */ }
  } else {
    process.stderr.write(`# e2e: temporary files kept in ${TMP}\n`);
  }
});

export function tmpdir(prefix = 'd') {
  return fs.mkdtempSync(path.join(TMP, `${prefix}-`));
}

// The environment of the programs: nothing of the caller's GUTS_* or GIT_*
// settings, a private HOME, no prompts.
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GUTS_') || k.startsWith('GIT_') || k === 'SSH_ASKPASS' ||
        k === 'XDG_CONFIG_HOME')
      continue;
    env[k] = v;
  }
  env.HOME = HOME;
  env.XDG_CONFIG_HOME = path.join(HOME, '.config');
  return Object.assign(env, extra);
}

function tail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch (e) {
    return `(cannot read ${file}: ${e.message})`;
  }
}

export function dumpLogs() {
  for (const { what, file } of logs) {
    process.stderr.write(`---- ${what}: the last lines of ${file} ----\n` +
                         `${tail(file)}\n---- end of ${what} ----\n`);
  }
}

// node:test's test(), with diagnostics when it fails.
export function test(name, options, fn) {
  if (typeof options === 'function') {
    fn = options;
    options = {};
  }
  return nodeTest(name, options, async (t) => {
    try {
      return await fn(t);
    } catch (e) {
      if (!options.todo) { // a todo is expected to fail: no noise
        failures++;
        dumpLogs();
      }
      throw e;
    }
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll fn every 50 ms until it returns something truthy; that is returned.
export async function waitFor(fn, timeoutMs = 10000, what = 'a condition') {
  const t0 = Date.now();
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
                      `; last value: ${JSON.stringify(last)}`);
    }
    await sleep(50);
  }
}

// Run a program: {code, signal, stdout, stderr}.
export function run(cmd, args, { cwd, env, input, timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined) {
      p.stdin.on('error', () => {}); // the program may exit without reading
      p.stdin.end(input);
    }
  });
}

// Real git, with a private HOME and identity and no credential prompts.
// Throws on a non-zero exit unless check is false.
export async function git(args, cwd, { check = true, env } = {}) {
  const full = ['-c', 'user.name=Guts E2E', '-c', 'user.email=e2e@guts.invalid',
                '-c', 'init.defaultBranch=main', '-c', 'credential.helper=',
                '-c', 'advice.detachedHead=false', ...args];
  const r = await run('git', full, {
    cwd,
    env: cleanEnv({ GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...env }),
  });
  if (check && r.code !== 0) {
    throw new Error(`git ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  }
  return r;
}

// Write files into a work tree: {path: text}; null deletes.
export function writeFiles(dir, files) {
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(dir, rel);
    if (text === null) {
      fs.rmSync(p, { force: true });
      continue;
    }
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
}

// One HTTP request: {status, headers, text, json}.  Without keep-alive, so
// a node restarted on the same port never meets a stale pooled socket.
export function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    let data = body;
    const h = { ...headers };
    if (data !== undefined && data !== null && !Buffer.isBuffer(data) &&
        typeof data !== 'string') {
      data = JSON.stringify(data);
      h['Content-Type'] ??= 'application/json';
    }
    if (data !== undefined && data !== null) {
      h['Content-Length'] = Buffer.byteLength(data);
      h['Content-Type'] ??= 'application/json';
    }
    const req = http.request(url, { method, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        if (/json/.test(res.headers['content-type'] || '')) {
          try { json = JSON.parse(text); } catch { json = undefined; }
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (data !== undefined && data !== null) req.write(data);
    req.end();
  });
}

// A guts-node process.  Its stdout is parsed for the port and the admin
// token, its stderr goes to DATA/../node-N.stderr.
let nodeCount = 0;

export class GutsNode {
  constructor({ runners = 0, env = {}, data, port = 0 } = {}) {
    this.runners = runners;
    this.env = env;
    this.data = data || path.join(tmpdir('node'), 'data');
    this.port = port;
    this.index = ++nodeCount;
    this.stderrPath = path.join(path.dirname(this.data), `node-${this.index}.stderr`);
    this.proc = null;
    this.token = null;
    logs.push({ what: `guts-node #${this.index}`, file: this.stderrPath });
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  // Start; resolves once it listens.  With {samePort} it listens on the
  // port of the previous start (retried for a while, should the port still
  // be held by the process that just died).
  async start({ samePort = false, timeoutMs = 15000 } = {}) {
    if (!samePort) return this.startOnce({ samePort, timeoutMs });
    const t0 = Date.now();
    for (;;) {
      try {
        return await this.startOnce({ samePort, timeoutMs });
      } catch (e) {
        if (Date.now() - t0 > 10000 || !/exited/.test(e.message)) throw e;
        await sleep(200);
      }
    }
  }

  async startOnce({ samePort, timeoutMs }) {
    if (this.proc) throw new Error('guts-node is already running');
    const port = samePort ? this.port : 0;
    const err = fs.openSync(this.stderrPath, 'a');
    fs.writeSync(err, `==== guts-node start at ${new Date().toISOString()} ====\n`);
    const p = spawn(GUTS_NODE, ['--listen', `127.0.0.1:${port}`, '--data', this.data,
                                '--runners', String(this.runners)], {
      env: cleanEnv(this.env),
      stdio: ['ignore', 'pipe', err],
    });
    fs.closeSync(err);
    this.proc = p;
    children.add(p);
    this.exited = new Promise((resolve) => {
      p.on('exit', (code, signal) => {
        children.delete(p);
        resolve({ code, signal });
      });
    });
    let out = '';
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        reject(new Error(`guts-node did not say it listens within ${timeoutMs} ms;` +
                         ` stdout: ${out}\nstderr:\n${tail(this.stderrPath)}`));
      }, timeoutMs);
      p.stdout.on('data', (d) => {
        out += d;
        const t = /admin token: (gut_\S+)/.exec(out);
        if (t) this.token = t[1];
        const m = /guts-node listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          this.port = Number(m[1]);
          resolve();
        }
      });
      p.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.proc === p) this.proc = null;
        reject(new Error(`guts-node exited (${code ?? signal}) before listening;` +
                         ` stdout: ${out}\nstderr:\n${tail(this.stderrPath)}`));
      });
    });
    p.stdout.on('data', () => {}); // keep draining
    if (!this.token) {
      this.token = fs.readFileSync(path.join(this.data, 'admin.token'), 'utf8').trim();
    }
    return this;
  }

  // SIGTERM, then SIGKILL after killAfterMs: {code, signal, ms}.
  async stop({ killAfterMs = 10000 } = {}) {
    const p = this.proc;
    if (!p) return null;
    const t0 = Date.now();
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    const r = await this.exited;
    clearTimeout(timer);
    this.proc = null;
    return { ...r, ms: Date.now() - t0 };
  }

  async kill9() {
    const p = this.proc;
    if (!p) return null;
    p.kill('SIGKILL');
    const r = await this.exited;
    this.proc = null;
    return r;
  }

  async restart(opts = {}) {
    await this.stop();
    return this.start(opts);
  }

  // The REST API.  token: undefined is the admin's, null none.  body: an
  // object (sent as JSON), a string or a Buffer (sent as is).
  async api(method, p, body, token, { scheme = 'Bearer', headers = {} } = {}) {
    const h = { ...headers };
    const tok = token === undefined ? this.token : token;
    if (tok) h.Authorization = `${scheme} ${tok}`;
    return request(this.url + p, { method, headers: h, body });
  }

  // The API, expecting a status: returns the JSON (or the text).
  async ok(status, method, p, body, token) {
    const r = await this.api(method, p, body, token);
    if (r.status !== status) {
      throw new Error(`${method} ${p} ${body ? JSON.stringify(body).slice(0, 300) : ''}` +
                      ` → ${r.status} (expected ${status}): ${r.text}`);
    }
    return r.json !== undefined ? r.json : r.text;
  }

  // A token for a user (made by the admin when missing).
  async tokenFor(user, scope = 'write') {
    const j = await this.ok(201, 'POST', '/api/tokens',
                            user === 'admin' ? { scope } : { scope, user });
    return j.token;
  }

  remote(full, token = this.token) {
    return token ? `http://x:${token}@127.0.0.1:${this.port}/${full}.git`
      : `http://127.0.0.1:${this.port}/${full}.git`;
  }

  // Create OWNER/NAME through the API (unless create is false), then a work
  // tree with the files, committed and pushed to branch.  Returns the
  // repository handle {dir, owner, name, full, sha, branch, token}.
  async makeRepo(name, files, { owner = 'admin', token = this.token, visibility = 'public',
                                create = true, branch = 'main', message = 'initial' } = {}) {
    if (create) {
      await this.ok(201, 'POST', '/api/repos', { name, owner, visibility }, token);
    }
    const dir = tmpdir(`wt-${name}`);
    await git(['init', '-q', '-b', 'main'], dir);
    const repo = { node: this, dir, owner, name, full: `${owner}/${name}`, token, branch };
    repo.sha = await this.commit(repo, files, { branch, message });
    return repo;
  }

  // Commit files (null deletes) in a work tree made by makeRepo and push the
  // commit to branch; returns its sha.
  async commit(repo, files, { branch = repo.branch, message = 'change', push = true,
                              token = repo.token } = {}) {
    writeFiles(repo.dir, files);
    await git(['add', '-A'], repo.dir);
    await git(['commit', '-q', '--allow-empty', '-m', message], repo.dir);
    const sha = (await git(['rev-parse', 'HEAD'], repo.dir)).stdout.trim();
    if (push) await git(['push', '-q', this.remote(repo.full, token), `HEAD:refs/heads/${branch}`], repo.dir);
    return sha;
  }

  // The guts CLI against this node: {code, stdout, stderr}.
  cli(args, { token, url, env, cwd } = {}) {
    return runCli(args, { url: url ?? this.url, token: token === undefined ? this.token : token,
                          env, cwd });
  }

  // The runs of a repository (first page, newest first).
  async runs(full, query = '') {
    return this.ok(200, 'GET', `/api/repos/${full}/runs?per_page=100${query}`);
  }

  async jobs(full, runId, query = '') {
    return this.ok(200, 'GET', `/api/repos/${full}/runs/${runId}/jobs${query}`);
  }

  async log(full, jobId) {
    const r = await this.api('GET', `/api/repos/${full}/jobs/${jobId}/logs`);
    if (r.status !== 200) throw new Error(`logs of job ${jobId}: ${r.status} ${r.text}`);
    return r.text;
  }

  // Wait for a run to complete; returns it.
  async waitRun(full, runId, timeoutMs = 60000) {
    return waitFor(async () => {
      const r = await this.ok(200, 'GET', `/api/repos/${full}/runs/${runId}`);
      return r.status === 'completed' && r;
    }, timeoutMs, `run ${runId} of ${full} to complete`);
  }
}

export async function startNode(opts = {}) {
  const n = new GutsNode(opts);
  await n.start();
  return n;
}

// build/bin/guts with --url and --token (appended; a null token adds none).
export function runCli(args, { url, token, env, cwd } = {}) {
  const full = [...args];
  if (url) full.push('--url', url);
  if (token) full.push('--token', token);
  return run(GUTS, full, { env: cleanEnv(env), cwd });
}

// guts-runner, for the runner tests.
let runnerCount = 0;

export class GutsRunner {
  constructor(args, { env = {} } = {}) {
    this.args = args;
    this.env = env;
    this.index = ++runnerCount;
    this.stderrPath = path.join(TMP, `runner-${this.index}.log`);
    this.proc = null;
    logs.push({ what: `guts-runner #${this.index}`, file: this.stderrPath });
  }

  start() {
    const out = fs.openSync(this.stderrPath, 'a');
    const p = spawn(GUTS_RUNNER, this.args, { env: cleanEnv(this.env), stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.proc = p;
    children.add(p);
    this.exited = new Promise((resolve) => {
      p.on('exit', (code, signal) => {
        children.delete(p);
        resolve({ code, signal });
      });
    });
    return this;
  }

  async stop({ killAfterMs = 10000 } = {}) {
    const p = this.proc;
    if (!p) return null;
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    const r = await this.exited;
    clearTimeout(timer);
    this.proc = null;
    return r;
  }

  async kill9() {
    const p = this.proc;
    if (!p) return null;
    p.kill('SIGKILL');
    const r = await this.exited;
    this.proc = null;
    return r;
  }
}

// Register an external runner with a fresh registration token, then start
// it; returns the started GutsRunner.
export async function startRunner(node, name, labels) {
  const reg = await node.ok(201, 'POST', '/api/runners/registration-token', {});
  const dir = tmpdir(`runner-${name}`);
  const config = path.join(dir, 'runner.json');
  const r = await run(GUTS_RUNNER, ['register', '--url', node.url, '--token', reg.token,
                                    '--name', name, '--labels', labels.join(','),
                                    '--config', config], { env: cleanEnv() });
  if (r.code !== 0) {
    throw new Error(`guts-runner register ${name} exited ${r.code}: ${r.stderr}${r.stdout}`);
  }
  const runner = new GutsRunner(['--config', config, '--work', path.join(dir, 'work')]);
  runner.name = name;
  runner.config = config;
  return runner.start();
}

// The Link header's rel="next" URL, or null.
export function nextLink(headers) {
  const link = headers.link || '';
  const m = /<([^>]+)>;\s*rel="next"/.exec(link);
  return m ? m[1] : null;
}

// For quick checks of a file's raw bytes (e.g. that a token is not stored).
export function filesContain(files, needle) {
  const n = Buffer.from(needle);
  return files.some((f) => fs.existsSync(f) && fs.readFileSync(f).includes(n));
}

export const CI_YML = `name: CI
on: push
jobs:
  build:
    runs-on: default
    steps:
      - run: echo building
  test:
    needs: build
    runs-on: default
    steps:
      - run: echo testing
`;
