// guts artifact and guts cache against a real node: artifacts uploaded with
// the protocol of docs/artifacts.md (a write token), then listed,
// downloaded (checked file by file, modes kept), refused when a blob is
// corrupted, and removed; caches listed and removed.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, startNode, tmpdir } from './harness.mjs';

const WF = `name: Build
on: workflow_dispatch
jobs:
  b:
    runs-on: none-such
    steps:
      - run: "true"
`;

let node, repo, runId;
before(async () => {
  node = await startNode({ runners: 0 });
  repo = await node.makeRepo('arts', { '.guts/workflows/build.yml': WF });
  runId = (await node.ok(201, 'POST', `/api/repos/${repo.full}/runs`, { workflow: 'build.yml' })).id;
});
after(() => node?.stop());

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

// Upload {path: {data, mode}} as artifact NAME of the run; returns it.
async function upload(name, files) {
  const entries = Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([p, f]) => ({ path: p, mode: f.mode, size: Buffer.byteLength(f.data), sha256: sha(f.data) }));
  const up = await node.ok(201, 'POST', `/api/repos/${repo.full}/runs/${runId}/artifacts`, { name, files: entries });
  for (const h of up.upload.missing) {
    const f = Object.values(files).find((x) => sha(x.data) === h);
    const r = await node.api('PUT', `/api/repos/${repo.full}/blobs/${h}`, Buffer.from(f.data));
    assert.ok(r.status === 201 || r.status === 200, r.text);
  }
  return node.ok(201, 'POST', `/api/repos/${repo.full}/uploads/${up.upload.id}/finalize`, {});
}

const FILES = {
  'a.txt': { data: 'hello\n', mode: 0o644 },
  'bin/tool': { data: '#!/bin/sh\necho tool\n', mode: 0o755 },
  'deep/er/x.json': { data: '{"x":1}\n', mode: 0o600 },
};

test('list, download (one and all) with modes, rm', async () => {
  const art = await upload('out', FILES);
  await upload('logs', { 'log.txt': { data: 'log\n', mode: 0o644 } });
  const l = await node.cli(['artifact', 'list', String(runId), '-R', repo.full]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /out/);
  assert.match(l.stdout, /logs/);
  const all = await node.cli(['artifact', 'list', '-R', repo.full, '--json']);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(JSON.parse(all.stdout).map((a) => a.name).sort(), ['logs', 'out']);

  const d1 = tmpdir('dl1');
  const one = await node.cli(['artifact', 'download', String(runId), 'out', '-D', d1, '-R', repo.full]);
  assert.equal(one.code, 0, one.stderr);
  for (const [p, f] of Object.entries(FILES)) {
    assert.equal(fs.readFileSync(path.join(d1, p), 'utf8'), f.data);
    assert.equal(fs.statSync(path.join(d1, p)).mode & 0o777, f.mode, p);
  }
  const d2 = tmpdir('dl2');
  const both = await node.cli(['artifact', 'download', String(runId), '-D', d2, '-R', repo.full]);
  assert.equal(both.code, 0, both.stderr);
  assert.equal(fs.readFileSync(path.join(d2, 'out', 'bin/tool'), 'utf8'), FILES['bin/tool'].data);
  assert.equal(fs.readFileSync(path.join(d2, 'logs', 'log.txt'), 'utf8'), 'log\n');

  const none = await node.cli(['artifact', 'download', String(runId), 'nope', '-D', d2, '-R', repo.full]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no artifact 'nope'/);
  const usage = await node.cli(['artifact', 'download', '-R', repo.full]);
  assert.equal(usage.code, 2);

  const rm = await node.cli(['artifact', 'rm', String(art.id), '-R', repo.full]);
  assert.equal(rm.code, 0, rm.stderr);
  const after = await node.cli(['artifact', 'list', String(runId), '-R', repo.full, '--json']);
  assert.deepEqual(JSON.parse(after.stdout).map((a) => a.name), ['logs']);
});

test('a corrupted blob is refused at download, and nothing half-written stays', async () => {
  const data = 'precious '.repeat(1000);
  await upload('fragile', { 'f.txt': { data, mode: 0o644 } });
  const h = sha(data);
  const blob = path.join(node.data, 'blobs', 'sha256', h.slice(0, 2), h.slice(2));
  const file = fs.existsSync(blob) ? blob : path.join(node.data, 'blobs', 'sha256', h.slice(0, 2), h);
  fs.chmodSync(file, 0o600);
  fs.writeFileSync(file, data.replace('precious', 'tampered'));
  const d = tmpdir('dl3');
  const r = await node.cli(['artifact', 'download', String(runId), 'fragile', '-D', d, '-R', repo.full]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(!fs.existsSync(path.join(d, 'f.txt')) ||
            fs.readFileSync(path.join(d, 'f.txt'), 'utf8') === data, 'no corrupted file left');
});

test('guts cache list and rm', async () => {
  const data = 'cached\n';
  const files = [{ path: 'c.txt', mode: 0o644, size: data.length, sha256: sha(data) }];
  const up = await node.ok(201, 'POST', `/api/repos/${repo.full}/caches`,
                           { key: 'deps-linux-1', version: 'v1', paths: ['c.txt'], files });
  for (const h of up.upload.missing)
    await node.api('PUT', `/api/repos/${repo.full}/blobs/${h}`, Buffer.from(data));
  await node.ok(201, 'POST', `/api/repos/${repo.full}/uploads/${up.upload.id}/finalize`, {});
  const l = await node.cli(['cache', 'list', '-R', repo.full, '--json']);
  assert.equal(l.code, 0, l.stderr);
  const list = JSON.parse(l.stdout);
  assert.equal(list.length, 1);
  assert.equal(list[0].key, 'deps-linux-1');
  const byKey = await node.cli(['cache', 'list', '-R', repo.full, '--key', 'deps-']);
  assert.match(byKey.stdout, /deps-linux-1/);
  const rm = await node.cli(['cache', 'rm', String(list[0].id), '-R', repo.full]);
  assert.equal(rm.code, 0, rm.stderr);
  const empty = await node.cli(['cache', 'list', '-R', repo.full]);
  assert.match(empty.stderr, /No caches/);
});

// A node that answers with a crafted archive: guts artifact download must
// refuse every entry that would leave the target directory.
test('a crafted archive (.. and an escaping symlink) is refused by guts artifact download', async () => {
  const http = await import('node:http');
  const { execFileSync } = await import('node:child_process');
  const work = tmpdir('crafted');
  const target = path.join(work, 'target');
  fs.mkdirSync(target);
  const evil = {
    dotdot: { name: '../escaped.txt', kind: 'file' },
    link: { name: 'link', kind: 'symlink', to: '/tmp' },
  };
  const archives = {};
  for (const [k, e] of Object.entries(evil)) {
    const out = path.join(work, `${k}.tar.gz`);
    execFileSync('python3', ['-c', `
import io, sys, tarfile
name, kind, to, out = sys.argv[1:5]
with tarfile.open(out, 'w:gz') as t:
    i = tarfile.TarInfo(name)
    if kind == 'symlink':
        i.type = tarfile.SYMTYPE; i.linkname = to
        t.addfile(i)
    else:
        data = b'pwned\\n'; i.size = len(data)
        t.addfile(i, io.BytesIO(data))
`, e.name, e.kind, e.to || '', out]);
    archives[k] = fs.readFileSync(out);
  }
  let which = 'dotdot';
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const json = (v) => { res.setHeader('Content-Type', 'application/json'); res.end(JSON.stringify(v)); };
    if (u.pathname === '/api/repos/o/r/runs/1/artifacts') return json([{ id: 1, name: 'x' }]);
    if (u.pathname === '/api/repos/o/r/artifacts/1')
      return json({ id: 1, name: 'x', files: [{ path: 'a.txt', mode: 420, size: 6, sha256: sha('pwned\n') }] });
    if (u.pathname === '/api/repos/o/r/artifacts/1/zip') {
      res.setHeader('Content-Type', 'application/gzip');
      return res.end(archives[which]);
    }
    res.statusCode = 404;
    json({ error: { code: 'not_found', message: 'no' } });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${srv.address().port}`;
  try {
    for (which of Object.keys(evil)) {
      const r = await node.cli(['artifact', 'download', '1', 'x', '-D', target, '-R', 'o/r'], { url, token: 'x' });
      assert.equal(r.code, 1, `${which}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /refusing/);
      assert.ok(!fs.existsSync(path.join(work, 'escaped.txt')), which);
      assert.ok(!fs.existsSync(path.join(target, 'link')), which);
    }
  } finally {
    srv.close();
  }
});
