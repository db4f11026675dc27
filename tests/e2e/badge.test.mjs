// Status badges: GET /{owner}/{repo}/actions/{workflow}/badge.svg shows the
// latest conclusion of the workflow on a branch, with an ETag and short
// cache headers, and changes from passing to failing.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, waitFor, HAVE_RUNNER } from './harness.mjs';

const wf = (cmd) => `name: CI <&> "x"
on: push
jobs:
  t:
    runs-on: default
    steps:
      - run: ${cmd}
`;

let node, repo;
before(async () => {
  node = await startNode({ runners: HAVE_RUNNER ? 1 : 0 });
  repo = await node.makeRepo('badges', { '.guts/workflows/ci.yml': wf('"true"') });
});
after(() => node?.stop());

const badge = (q = '', headers = {}) =>
  fetch(`${node.url}/${repo.full}/actions/ci.yml/badge.svg${q}`, { headers });

async function latestDone(n) {
  return waitFor(async () => {
    const rs = await node.runs(repo.full);
    return rs.length >= n && rs[0].status === 'completed' && rs[0];
  }, 60000, `run ${n} to complete`);
}

test('passing, then failing; ETag and cache headers; names escaped', { skip: !HAVE_RUNNER }, async () => {
  await latestDone(1);
  let r = await badge();
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/svg+xml');
  assert.match(r.headers.get('cache-control'), /max-age=60/);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  let svg = await r.text();
  assert.match(svg, /^<svg /);
  assert.match(svg, />passing</);
  assert.match(svg, /CI &lt;&amp;&gt; &quot;x&quot;/);
  assert.doesNotMatch(svg, /<&>/);
  const same = await badge('', { 'If-None-Match': etag });
  assert.equal(same.status, 304);

  await node.commit(repo, { '.guts/workflows/ci.yml': wf('"false"') });
  await latestDone(2);
  r = await badge('', { 'If-None-Match': etag });
  assert.equal(r.status, 200);
  svg = await r.text();
  assert.match(svg, />failing</);
  assert.notEqual(r.headers.get('etag'), etag);
});

test('no status for another branch or event; 404 for an unknown workflow or a private repository', async () => {
  const other = await (await badge('?branch=nope')).text();
  assert.match(other, />no status</);
  const ev = await (await badge('?event=workflow_dispatch')).text();
  assert.match(ev, />no status</);
  const missing = await fetch(`${node.url}/${repo.full}/actions/nope.yml/badge.svg`);
  assert.equal(missing.status, 404);
  const priv = await node.makeRepo('hidden', { '.guts/workflows/ci.yml': wf('"true"') }, { visibility: 'private' });
  const anon = await fetch(`${node.url}/${priv.full}/actions/ci.yml/badge.svg`);
  assert.equal(anon.status, 404);
  const mine = await fetch(`${node.url}/${priv.full}/actions/ci.yml/badge.svg`,
                           { headers: { Authorization: `Bearer ${node.token}` } });
  assert.equal(mine.status, 200);
  assert.match(mine.headers.get('cache-control'), /^private/);
});
