// Artifacts and caches on the node, driven by hand through the protocol of
// docs/artifacts.md (no runner): the missing-blob negotiation and dedup,
// downloads (zip, tar.gz, one file) byte-identical with modes, refused
// hashes and paths, corruption, expiry and collection, caps, caches (scope,
// restore keys, 409, eviction) and which tokens may do what.
import { before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, startNode, waitFor, run, tmpdir } from './harness.mjs';

const MAX_FILE = 1 << 20;
const CACHE_MAX = 4000;

const wf = (label) => `name: A
on: push
jobs:
  one:
    runs-on: ${label}
    steps:
      - run: echo hi
`;

let node, repo, other, write, runId, otherRunId, runner, armed, otherJob;

const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// {path: [content, mode]} → a manifest sorted by path, and the blobs.
function manifest(files) {
  const blobs = new Map();
  const list = Object.keys(files).sort().map((p) => {
    const [content, mode = 0o644] = files[p];
    const data = Buffer.from(content);
    const h = sha(data);
    blobs.set(h, data);
    return { path: p, mode, size: data.length, sha256: h };
  });
  return { list, blobs };
}

function blobBytes() {
  const top = path.join(node.data, 'blobs', 'sha256');
  let total = 0;
  for (const fan of fs.readdirSync(top)) {
    for (const f of fs.readdirSync(path.join(top, fan))) {
      total += fs.statSync(path.join(top, fan, f)).size;
    }
  }
  return total;
}

const blobPath = (h) => path.join(node.data, 'blobs', 'sha256', h.slice(0, 2), h.slice(2));

async function putBlob(full, h, data, token = write) {
  return node.api('PUT', `/api/repos/${full}/blobs/${h}`, data, token,
                  { headers: { 'Content-Type': 'application/octet-stream' } });
}

// The whole protocol: create, PUT what is missing, finalize.
async function upload(full, run, name, files, { token = write, extra = {} } = {}) {
  const { list, blobs } = manifest(files);
  const c = await node.api('POST', `/api/repos/${full}/runs/${run}/artifacts`,
                           { name, files: list, ...extra }, token);
  assert.equal(c.status, 201, c.text);
  let sent = 0;
  for (const h of c.json.upload.missing) {
    const r = await putBlob(full, h, blobs.get(h), token);
    assert.ok(r.status === 201 || r.status === 200, r.text);
    sent += blobs.get(h).length;
  }
  const f = await node.api('POST', `/api/repos/${full}/uploads/${c.json.upload.id}/finalize`,
                           {}, token);
  assert.equal(f.status, 201, f.text);
  return { missing: c.json.upload.missing, sent, artifact: f.json, list, blobs };
}

async function download(p, file) {
  const r = await fetch(node.url + p, { headers: { Authorization: `Bearer ${write}` } });
  const buf = Buffer.from(await r.arrayBuffer());
  if (file) fs.writeFileSync(file, buf);
  return { status: r.status, buf, headers: r.headers };
}

async function sql(stmt) {
  const r = await run('sqlite3', ['-cmd', '.timeout 5000', path.join(node.data, 'guts.db'), stmt]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

before(async () => {
  node = await startNode({
    runners: 0,
    env: { GUTS_GC_SECONDS: '1', GUTS_ARTIFACT_MAX_FILE: String(MAX_FILE),
           GUTS_CACHE_REPO_MAX_BYTES: String(CACHE_MAX) },
  });
  write = await node.tokenFor('admin', 'write');
  repo = await node.makeRepo('arts', { '.guts/workflows/a.yml': wf('arts') });
  other = await node.makeRepo('other', { '.guts/workflows/a.yml': wf('other') });
  runId = (await waitFor(async () => (await node.runs(repo.full))[0], 10000, 'a run')).id;
  otherRunId = (await waitFor(async () => (await node.runs(other.full))[0], 10000, 'a run')).id;
  // A hand-driven runner leases the jobs, for their job tokens.
  const reg = await node.ok(201, 'POST', '/api/runners/registration-token');
  runner = await node.ok(201, 'POST', '/api/runners/register',
                         { protocol: 1, token: reg.token, name: 'hand', labels: ['arts', 'other'] },
                         null);
  for (let i = 0; i < 2; i++) {
    const r = await node.api('POST', '/api/runners/next', { protocol: 1, wait: 5 }, runner.token);
    assert.equal(r.status, 200, r.text);
    if (r.json.job.repo === repo.full) armed = r.json.job;
    else otherJob = r.json.job;
  }
  assert.ok(armed && otherJob);
});
after(() => node?.stop());

describe('artifacts', () => {
  const files = {
    'a.txt': ['hello\n', 0o644],
    'bin/run.sh': ['#!/bin/sh\necho run\n', 0o755],
    'deep/er/data.bin': [crypto.randomBytes(200000), 0o600],
  };
  let first;

  test('an upload sends only the blobs the node lacks, and finalizes', async () => {
    const before = blobBytes();
    // Finalizing before the blobs are there names them.
    const { list, blobs } = manifest(files);
    const c = await node.ok(201, 'POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                            { name: 'early', files: list }, write);
    assert.equal(c.upload.missing.length, 3);
    const f = await node.api('POST', `/api/repos/${repo.full}/uploads/${c.upload.id}/finalize`, {}, write);
    assert.equal(f.status, 409, f.text);
    assert.deepEqual([...f.json.error.missing].sort(), [...blobs.keys()].sort());

    first = await upload(repo.full, runId, 'dist', files);
    assert.equal(first.missing.length, 3);
    const a = first.artifact;
    assert.equal(a.name, 'dist');
    assert.equal(a.run_id, runId);
    assert.equal(a.size_bytes, list.reduce((s, x) => s + x.size, 0));
    assert.match(a.content_hash, /^[0-9a-f]{64}$/);
    assert.equal(a.expired, false);
    assert.deepEqual(a.files, list);
    assert.ok(blobBytes() - before >= a.size_bytes);
  });

  test('an identical upload sends no blob and stores no new bytes', async () => {
    const before = blobBytes();
    const again = await upload(repo.full, runId, 'dist-again', files);
    assert.deepEqual(again.missing, []);
    assert.equal(again.sent, 0);
    assert.equal(blobBytes(), before);
    assert.equal(again.artifact.content_hash, first.artifact.content_hash);
    // Across repositories the bytes are stored once too, but another
    // repository must send them: knowing a hash is not owning the content.
    const cross = await upload(other.full, otherRunId, 'same', files);
    assert.equal(cross.missing.length, again.list.length);
    assert.equal(blobBytes(), before);
  });

  test('a manifest naming content the repository never sent gets nothing from it', async () => {
    // The other repository's files, named by hash from this one.
    const secret = 'only in the other repository\n';
    const s1 = await upload(other.full, otherRunId, 'secret', { 's.txt': [secret] });
    const h = s1.list[0].sha256;
    const c = await node.api('POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                             { name: 'steal', files: s1.list }, write);
    assert.equal(c.status, 201, c.text);
    assert.deepEqual(c.json.upload.missing, [h]);
    const g = await node.api('GET', `/api/repos/${repo.full}/blobs/${h}`, undefined, write);
    assert.equal(g.status, 404, g.text);
    const f = await node.api('POST', `/api/repos/${repo.full}/uploads/${c.json.upload.id}/finalize`, {}, write);
    assert.equal(f.status, 409, f.text);
    assert.deepEqual(f.json.error.missing, [h]);
    assert.doesNotMatch(f.text, /\d+ bytes/);
  });

  test('a finalize counts once: concurrent and repeated ones get 404', async () => {
    const { list, blobs } = manifest({ 'once.txt': ['once\n'] });
    const c = await node.ok(201, 'POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                            { name: 'once', files: list, overwrite: true });
    for (const h of c.upload.missing) await putBlob(repo.full, h, blobs.get(h));
    const fin = () => node.api('POST', `/api/repos/${repo.full}/uploads/${c.upload.id}/finalize`, {}, write);
    const rs = await Promise.all([fin(), fin(), fin()]);
    assert.deepEqual(rs.map((r) => r.status).sort(), [201, 404, 404], rs.map((r) => r.text).join('\n'));
    const a = rs.find((r) => r.status === 201).json;
    const z = await node.api('GET', `/api/repos/${repo.full}/artifacts/${a.id}/zip?path=once.txt`);
    assert.equal(z.status, 200, z.text);
    assert.equal(z.text, 'once\n');
    assert.equal((await node.api('DELETE', `/api/repos/${repo.full}/artifacts/${a.id}`)).status, 204);
  });

  test('an existing name is a 409 unless overwrite', async () => {
    const { list } = manifest(files);
    const r = await node.api('POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                             { name: 'dist', files: list }, write);
    assert.equal(r.status, 409, r.text);
    const o = await upload(repo.full, runId, 'dist', { 'x.txt': ['new\n'] },
                           { extra: { overwrite: true } });
    assert.equal(o.artifact.files.length, 1);
    first = await upload(repo.full, runId, 'dist', files, { extra: { overwrite: true } });
  });

  test('lists: per run, per repository (?name=), one with its manifest', async () => {
    const runList = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${runId}/artifacts`);
    assert.deepEqual(runList.map((a) => a.name), ['dist', 'dist-again']);
    const all = await node.ok(200, 'GET', `/api/repos/${repo.full}/artifacts?name=dist`);
    assert.equal(all.length, 1);
    assert.equal(all[0].id, first.artifact.id);
    const one = await node.ok(200, 'GET', `/api/repos/${repo.full}/artifacts/${first.artifact.id}`);
    assert.deepEqual(one.files, first.list);
  });

  test('the zip download holds byte-identical files with their modes', async () => {
    const dir = tmpdir('unzip');
    const zip = path.join(dir, 'a.zip');
    const d = await download(`/api/repos/${repo.full}/artifacts/${first.artifact.id}/zip`, zip);
    assert.equal(d.status, 200, d.buf.toString().slice(0, 300));
    assert.equal(d.headers.get('content-type'), 'application/zip');
    const out = path.join(dir, 'out');
    const u = await run('unzip', ['-q', zip, '-d', out]);
    assert.equal(u.code, 0, u.stderr);
    for (const [p, [content, mode]] of Object.entries(files)) {
      assert.deepEqual(fs.readFileSync(path.join(out, p)), Buffer.from(content), p);
      assert.equal(fs.statSync(path.join(out, p)).mode & 0o777, mode, p);
    }
  });

  test('?format=tar.gz and ?path= one file', async () => {
    const dir = tmpdir('untar');
    const tgz = path.join(dir, 'a.tgz');
    const d = await download(`/api/repos/${repo.full}/artifacts/${first.artifact.id}/zip?format=tar.gz`, tgz);
    assert.equal(d.status, 200);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    const t = await run('tar', ['-xzf', tgz, '-C', out]);
    assert.equal(t.code, 0, t.stderr);
    for (const [p, [content, mode]] of Object.entries(files)) {
      assert.deepEqual(fs.readFileSync(path.join(out, p)), Buffer.from(content), p);
      assert.equal(fs.statSync(path.join(out, p)).mode & 0o777, mode, p);
    }
    const one = await download(`/api/repos/${repo.full}/artifacts/${first.artifact.id}/zip?path=bin/run.sh`);
    assert.equal(one.status, 200);
    assert.equal(one.buf.toString(), files['bin/run.sh'][0]);
    const none = await download(`/api/repos/${repo.full}/artifacts/${first.artifact.id}/zip?path=nope`);
    assert.equal(none.status, 404);
  });

  test('a PUT whose content does not hash to its name is refused, naming both', async () => {
    const { list } = manifest({ 'm.txt': ['mismatch me\n'] });
    const c = await node.ok(201, 'POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                            { name: 'mm', files: list }, write);
    const wrong = Buffer.from('something else\n');
    const r = await putBlob(repo.full, list[0].sha256, wrong);
    assert.equal(r.status, 422, r.text);
    assert.ok(r.text.includes(list[0].sha256) && r.text.includes(sha(wrong)), r.text);
    assert.equal(fs.existsSync(blobPath(sha(wrong))), false);
    assert.equal(fs.existsSync(blobPath(list[0].sha256)), false);
    assert.ok(c.upload.id);
    // A blob no pending upload of the repository names is not accepted.
    const stray = await putBlob(repo.full, sha(wrong), wrong);
    assert.equal(stray.status, 422, stray.text);
  });

  test('names and manifests with escaping paths are refused (422)', async () => {
    const h = sha(Buffer.from('x'));
    for (const p of ['../x', '/etc/passwd', 'a/../../b', 'a//b', './a']) {
      const r = await node.api('POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                               { name: 'bad', files: [{ path: p, mode: 420, size: 1, sha256: h }] }, write);
      assert.equal(r.status, 422, `${p}: ${r.text}`);
    }
    for (const name of ['a/b', '..', 'x:y', '']) {
      const r = await node.api('POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                               { name, files: [] }, write);
      assert.equal(r.status, 422, `${name}: ${r.text}`);
    }
    const days = await node.api('POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                                { name: 'd', files: [], retention_days: 91 }, write);
    assert.equal(days.status, 422, days.text);
  });

  test('caps: a file over GUTS_ARTIFACT_MAX_FILE is a 413 naming it', async () => {
    const h = sha(Buffer.from('x'));
    const r = await node.api('POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                             { name: 'big', files: [{ path: 'b', mode: 420, size: MAX_FILE + 1, sha256: h }] },
                             write);
    assert.equal(r.status, 413, r.text);
    assert.match(r.json.error.message, /GUTS_ARTIFACT_MAX_FILE/);
    // A body over the cap is refused whatever the manifest said.
    const big = Buffer.alloc(MAX_FILE + 10, 1);
    const { list } = manifest({ 'b': [big] });
    list[0].size = 1; // lie
    await node.ok(201, 'POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                  { name: 'big', files: list }, write);
    const p = await putBlob(repo.full, list[0].sha256, big);
    assert.equal(p.status, 413, p.text);
    assert.match(p.json.error.message, /GUTS_ARTIFACT_MAX_FILE/);
  });

  test('a corrupted blob is detected at download with an error naming it', async () => {
    const a = await upload(repo.full, runId, 'fragile', { 'f.txt': ['precious content\n'] });
    const h = a.list[0].sha256;
    fs.writeFileSync(blobPath(h), 'PRECIOUS CONTENT\n'); // same size
    const d = await download(`/api/repos/${repo.full}/artifacts/${a.artifact.id}/zip`);
    assert.equal(d.status, 500);
    const text = d.buf.toString();
    assert.match(text, new RegExp(`blob ${h} is corrupted`));
    assert.ok(!text.includes('PRECIOUS'), text);
    const one = await download(`/api/repos/${repo.full}/artifacts/${a.artifact.id}/zip?path=f.txt`);
    assert.equal(one.status, 500);
    assert.match(one.buf.toString(), /corrupted/);
    const raw = await download(`/api/repos/${repo.full}/blobs/${h}`);
    assert.equal(raw.status, 500);
    assert.ok(!raw.buf.toString().includes('PRECIOUS'));
  });

  test('an expired artifact is purged and its blobs collected; shared ones stay', async () => {
    const a = await upload(repo.full, runId, 'short', {
      'only.txt': [`only here ${crypto.randomUUID()}\n`],
      'shared.txt': ['hello\n'], // also in 'dist'
    });
    const only = a.list.find((f) => f.path === 'only.txt').sha256;
    const shared = a.list.find((f) => f.path === 'shared.txt').sha256;
    assert.ok(fs.existsSync(blobPath(only)));
    await sql(`UPDATE artifacts SET expires_at = 1 WHERE id = ${a.artifact.id}`);
    const g = await node.api('GET', `/api/repos/${repo.full}/artifacts/${a.artifact.id}`, undefined, write);
    assert.equal(g.json?.expired ?? true, true);
    await waitFor(() => !fs.existsSync(blobPath(only)), 10000, 'the blob to be collected');
    const gone = await node.api('GET', `/api/repos/${repo.full}/artifacts/${a.artifact.id}`);
    assert.equal(gone.status, 404, gone.text);
    assert.ok(fs.existsSync(blobPath(shared)));
    // The live artifacts still download.
    const d = await download(`/api/repos/${repo.full}/artifacts/${first.artifact.id}/zip?path=a.txt`);
    assert.equal(d.status, 200);
  });

  test('DELETE needs write; the blobs then go', async () => {
    const a = await upload(repo.full, runId, 'doomed', { 'z.txt': [`doomed ${crypto.randomUUID()}`] });
    const read = await node.tokenFor('admin', 'read');
    const r = await node.api('DELETE', `/api/repos/${repo.full}/artifacts/${a.artifact.id}`, undefined, read);
    assert.equal(r.status, 403, r.text);
    await node.ok(204, 'DELETE', `/api/repos/${repo.full}/artifacts/${a.artifact.id}`, undefined, write);
    await waitFor(() => !fs.existsSync(blobPath(a.list[0].sha256)), 10000, 'the blob to be collected');
  });
});

describe('tokens', () => {
  test('a job token uploads to its own run only; another repository\'s is refused', async () => {
    const a = await upload(repo.full, runId, 'from-job', { 'j.txt': ['job\n'] }, { token: armed.job_token });
    assert.equal(a.artifact.run_id, runId);
    const { list } = manifest({ 'k.txt': ['k\n'] });
    const cross = await node.api('POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`,
                                 { name: 'evil', files: list }, otherJob.job_token);
    assert.equal(cross.status, 403, cross.text);
    const wrongRun = await node.api('POST', `/api/repos/${other.full}/runs/${otherRunId}/artifacts`,
                                    { name: 'evil', files: list }, armed.job_token);
    assert.equal(wrongRun.status, 403, wrongRun.text);
  });

  test('another repository\'s job token cannot read blobs, artifacts or caches', async () => {
    const a = await upload(repo.full, runId, 'private-ish', { 's.txt': ['secret-ish\n'] });
    const h = a.list[0].sha256;
    const t = otherJob.job_token;
    for (const [m, p, b] of [
      ['GET', `/api/repos/${repo.full}/blobs/${h}`],
      ['GET', `/api/repos/${repo.full}/caches`],
      ['POST', `/api/repos/${repo.full}/caches/lookup`, { key: 'k' }],
      ['GET', `/api/repos/${repo.full}/artifacts/${a.artifact.id}/zip`],
    ]) {
      const r = await node.api(m, p, b, t);
      assert.equal(r.status, 403, `${m} ${p}: ${r.text}`);
    }
    // The other repository does not reference the blob: not found there.
    const r = await node.api('GET', `/api/repos/${other.full}/blobs/${sha(Buffer.from('nothing'))}`, undefined, t);
    assert.equal(r.status, 404, r.text);
    const own = await node.api('GET', `/api/repos/${repo.full}/blobs/${h}`, undefined, armed.job_token);
    assert.equal(own.status, 200, own.text);
    assert.equal(own.text, 'secret-ish\n');
  });
});

describe('caches', () => {
  async function save(key, files, { token = write, ref, version = 'v1' } = {}) {
    const { list, blobs } = manifest(files);
    const q = ref ? `?ref=${encodeURIComponent(ref)}` : '';
    const c = await node.api('POST', `/api/repos/${repo.full}/caches${q}`,
                             { key, version, paths: ['~/.cache'], files: list }, token);
    if (c.status !== 201) return c;
    for (const h of c.json.upload.missing) {
      const r = await putBlob(repo.full, h, blobs.get(h), token);
      assert.equal(r.status, 201, r.text);
    }
    return node.api('POST', `/api/repos/${repo.full}/uploads/${c.json.upload.id}/finalize`, {}, token);
  }
  const lookup = (body, { token = write, ref } = {}) =>
    node.api('POST', `/api/repos/${repo.full}/caches/lookup${ref ? `?ref=${ref}` : ''}`,
             { version: 'v1', ...body }, token);

  test('save, exact hit, restore_keys newest first, 409 on the same key', async () => {
    const miss = await lookup({ key: 'deps-1' });
    assert.equal(miss.status, 404, miss.text);
    let r = await save('deps-1', { 'a': ['one'] });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.ref, 'refs/heads/main');
    await new Promise((res) => setTimeout(res, 5));
    r = await save('deps-2', { 'a': ['two'], 'b': ['bee', 0o755] });
    assert.equal(r.status, 201, r.text);
    const hit = await lookup({ key: 'deps-1' });
    assert.equal(hit.status, 200, hit.text);
    assert.equal(hit.json.key, 'deps-1');
    assert.equal(hit.json.files.length, 1);
    const pre = await lookup({ key: 'deps-9', restore_keys: ['nope-', 'deps-'] });
    assert.equal(pre.status, 200, pre.text);
    assert.equal(pre.json.key, 'deps-2');
    assert.equal(pre.json.files[1].mode, 0o755);
    // As on GitHub, the key itself is a prefix before any restore key.
    const keyPrefix = await lookup({ key: 'deps', restore_keys: ['nope-'] });
    assert.equal(keyPrefix.status, 200, keyPrefix.text);
    assert.equal(keyPrefix.json.key, 'deps-2');
    const v2 = await lookup({ key: 'deps-1', version: 'v2' });
    assert.equal(v2.status, 404);
    const dup = await save('deps-1', { 'a': ['other'] });
    assert.equal(dup.status, 409, dup.text);
  });

  test('a branch falls back to the default branch; not the other way', async () => {
    let r = await save('feat-only', { 'f': ['feature'] }, { ref: 'feature' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.ref, 'refs/heads/feature');
    const fb = await lookup({ key: 'deps-1' }, { ref: 'feature' });
    assert.equal(fb.status, 200, fb.text);
    assert.equal(fb.json.ref, 'refs/heads/main');
    const own = await lookup({ key: 'feat-only' }, { ref: 'feature' });
    assert.equal(own.status, 200);
    const main = await lookup({ key: 'feat-only' });
    assert.equal(main.status, 404, main.text);
    // A job token's scope is its run's ref, whatever ?ref= says.
    const j = await lookup({ key: 'feat-only' }, { token: armed.job_token, ref: 'feature' });
    assert.equal(j.status, 404, j.text);
    r = await save('job-key', { 'j': ['job cache'] }, { token: armed.job_token, ref: 'feature' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.ref, 'refs/heads/main');
  });

  test('list, DELETE (write), and least-recently-used eviction under the cap', async () => {
    const list = await node.ok(200, 'GET', `/api/repos/${repo.full}/caches?key=deps-`, undefined, write);
    assert.deepEqual(list.map((c) => c.key).sort(), ['deps-1', 'deps-2']);
    const anon = await node.api('GET', `/api/repos/${repo.full}/caches`, undefined, null);
    assert.equal(anon.status, 401, anon.text);
    const del = await node.api('DELETE', `/api/repos/${repo.full}/caches/${list[0].id}`, undefined,
                               armed.job_token);
    assert.equal(del.status, 403, del.text);
    await node.ok(204, 'DELETE', `/api/repos/${repo.full}/caches/${list[0].id}`, undefined, write);
    // Fill past CACHE_MAX: the least recently used go, the newest stays.
    await lookup({ key: 'deps-2' }); // deps-2 (if left) is now recently used
    for (let i = 0; i < 3; i++) {
      const r = await save(`big-${i}`, { 'x': [crypto.randomBytes(1500)] });
      assert.equal(r.status, 201, r.text);
    }
    const left = await node.ok(200, 'GET', `/api/repos/${repo.full}/caches`, undefined, write);
    const total = left.reduce((s, c) => s + c.size_bytes, 0);
    assert.ok(total <= CACHE_MAX, JSON.stringify(left));
    assert.ok(left.some((c) => c.key === 'big-2'));
    assert.ok(!left.some((c) => c.key === 'big-0'), JSON.stringify(left.map((c) => c.key)));
  });
});
