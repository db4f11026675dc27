// git over smart HTTP: push, clone, and who may do which.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, startNode, git, tmpdir } from './harness.mjs';

let node, pub, priv;
before(async () => { node = await startNode({ runners: 0 }); });
after(() => node?.stop());

test('push to a created repository succeeds', async () => {
  pub = await node.makeRepo('gpub', { 'README.md': '# public\n', 'src/a.c': 'int a;\n' });
  priv = await node.makeRepo('gpriv', { 'secret.txt': 'hush\n' }, { visibility: 'private' });
  assert.match(pub.sha, /^[0-9a-f]{40}$/);
  const ls = await git(['ls-remote', node.remote(pub.full), 'refs/heads/main'], pub.dir);
  assert.equal(ls.stdout.split(/\s+/)[0], pub.sha);
  // A second commit on top, and a new branch.
  const sha2 = await node.commit(pub, { 'src/b.c': 'int b;\n' });
  const sha3 = await node.commit(pub, { 'src/c.c': 'int c;\n' }, { branch: 'feature' });
  const heads = (await git(['ls-remote', node.remote(pub.full)], pub.dir)).stdout;
  assert.match(heads, new RegExp(`^${sha2}\\trefs/heads/main$`, 'm'));
  assert.match(heads, new RegExp(`^${sha3}\\trefs/heads/feature$`, 'm'));
});

test('anonymous clone of a public repository works', async () => {
  const dir = path.join(tmpdir('clone'), 'pub');
  await git(['clone', '-q', node.remote(pub.full, null), dir], undefined);
  assert.equal(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), '# public\n');
  assert.ok(fs.existsSync(path.join(dir, 'src', 'b.c')));
  const head = (await git(['rev-parse', 'HEAD'], dir)).stdout.trim();
  const want = (await git(['rev-parse', 'HEAD~1'], pub.dir)).stdout.trim(); // main, not feature
  assert.equal(head, want);
});

test('anonymous clone of a private repository fails', async () => {
  const dir = path.join(tmpdir('clone'), 'priv');
  const r = await git(['clone', '-q', node.remote(priv.full, null), dir], undefined, { check: false });
  assert.notEqual(r.code, 0, r.stderr);
  assert.ok(!fs.existsSync(path.join(dir, 'secret.txt')));
  // Another user's token does not open it either.
  const other = await node.tokenFor('mallory', 'write');
  const dir2 = path.join(tmpdir('clone'), 'priv2');
  const r2 = await git(['clone', '-q', node.remote(priv.full, other), dir2], undefined,
                       { check: false });
  assert.notEqual(r2.code, 0, r2.stderr);
});

test('clone with a token works', async () => {
  const dir = path.join(tmpdir('clone'), 'priv-ok');
  await git(['clone', '-q', node.remote(priv.full), dir], undefined);
  assert.equal(fs.readFileSync(path.join(dir, 'secret.txt'), 'utf8'), 'hush\n');
  // A read token is enough to clone.
  const read = await node.tokenFor('admin', 'read');
  const dir2 = path.join(tmpdir('clone'), 'priv-read');
  await git(['clone', '-q', node.remote(priv.full, read), dir2], undefined);
  assert.ok(fs.existsSync(path.join(dir2, 'secret.txt')));
});

test('push without a token fails', async () => {
  const before = (await git(['ls-remote', node.remote(pub.full), 'refs/heads/main'], pub.dir)).stdout;
  const sha = await node.commit(pub, { 'anon.txt': 'x\n' }, { push: false });
  const r = await git(['push', node.remote(pub.full, null), 'HEAD:refs/heads/main'], pub.dir,
                      { check: false });
  assert.notEqual(r.code, 0, r.stderr);
  const now = (await git(['ls-remote', node.remote(pub.full), 'refs/heads/main'], pub.dir)).stdout;
  assert.equal(now, before);
  assert.ok(!now.includes(sha));
});

test('push with a read token fails', async () => {
  const read = await node.tokenFor('admin', 'read');
  const r = await git(['push', node.remote(pub.full, read), 'HEAD:refs/heads/main'], pub.dir,
                      { check: false });
  assert.notEqual(r.code, 0, r.stderr);
  // Another user's write token cannot push to admin's repository either.
  const other = await node.tokenFor('mallory', 'write');
  const r2 = await git(['push', node.remote(pub.full, other), 'HEAD:refs/heads/main'], pub.dir,
                       { check: false });
  assert.notEqual(r2.code, 0, r2.stderr);
  // The write token of the owner can.
  const write = await node.tokenFor('admin', 'write');
  await git(['push', '-q', node.remote(pub.full, write), 'HEAD:refs/heads/main'], pub.dir);
});

test('push to a repository that does not exist fails with "not found"', async () => {
  const r = await git(['push', node.remote('admin/nowhere'), 'HEAD:refs/heads/main'], pub.dir,
                      { check: false });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not found/i);
  assert.equal((await node.api('GET', '/api/repos/admin/nowhere')).status, 404);
});
