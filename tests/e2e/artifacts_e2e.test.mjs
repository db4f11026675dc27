// Artifacts and caches through a real node and real runners
// (docs/artifacts.md, issue 6): job A uploads on one runner, job B
// downloads on another; a second run sends no blob; a cache misses, is
// saved, then hits; restore-keys restores the newest prefix match.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, GutsNode, startRunner, waitFor, HAVE_RUNNER } from './harness.mjs';

const skip = !HAVE_RUNNER && 'guts-runner not built yet';

const HAND = `name: Hand
on: workflow_dispatch
jobs:
  a:
    runs-on: ra
    steps:
      - run: |
          mkdir -p out/sub
          printf 'alpha\\n' > out/a.txt
          printf '#!/bin/sh\\necho hi\\n' > out/sub/run.sh
          head -c 300000 /dev/zero | tr '\\0' 'z' > out/big.bin
          printf 'log\\n' > out/skip.log
          chmod 600 out/a.txt
          chmod 755 out/sub/run.sh
          echo "sums-a=$(cd out && sha256sum a.txt sub/run.sh big.bin | sha256sum | cut -c1-16)"
      - uses: actions/upload-artifact@v4
        with:
          name: bundle
          path: |
            out
            !out/*.log
          retention-days: 2
  b:
    needs: a
    runs-on: rb
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: bundle
          path: got
      - run: |
          test ! -e got/skip.log
          echo "sums-b=$(cd got && sha256sum a.txt sub/run.sh big.bin | sha256sum | cut -c1-16)"
          echo "modes=$(stat -c %a got/a.txt got/sub/run.sh | tr '\\n' ' ')"
`;

const CACHE = `name: Cache
on:
  workflow_dispatch:
    inputs:
      key:
        type: string
        required: true
jobs:
  c:
    runs-on: ra
    steps:
      - id: c
        uses: actions/cache@v4
        with:
          path: deps
          key: \${{ inputs.key }}
          restore-keys: deps-
      - run: echo "hit=\${{ steps.c.outputs.cache-hit }} matched=\${{ steps.c.outputs.cache-matched-key }} content=$(cat deps/v 2>/dev/null || echo none)"
      - run: mkdir -p deps && echo "\${{ inputs.key }}" > deps/v
`;

async function dispatch(node, full, workflow, inputs = {}) {
  return node.ok(201, 'POST', `/api/repos/${full}/runs`, { workflow, inputs });
}

async function finished(node, full, run) {
  const done = await node.waitRun(full, run.id, 120000);
  const jobs = await node.jobs(full, run.id);
  const logs = {};
  for (const j of jobs) logs[j.job_key] = await node.log(full, j.id);
  return { done, jobs, logs };
}

function logText(l) {
  return typeof l === 'string' ? l : (l?.text ?? JSON.stringify(l));
}

describe('artifacts and caches on the node', () => {
  let node, repo, ra, rb;
  before(async () => {
    if (skip) return;
    node = new GutsNode({ runners: 0 });
    await node.start();
    repo = await node.makeRepo('arts', {
      '.guts/workflows/hand.yml': HAND,
      '.guts/workflows/cache.yml': CACHE,
    });
    ra = await startRunner(node, 'ra', ['ra']);
    rb = await startRunner(node, 'rb', ['rb']);
  });
  after(async () => {
    await ra?.stop();
    await rb?.stop();
    await node?.stop();
  });

  test('job A uploads on one runner, job B downloads identical files with modes on another', { skip }, async () => {
    const run = await dispatch(node, repo.full, 'hand.yml');
    const { done, jobs, logs } = await finished(node, repo.full, run);
    assert.equal(done.conclusion, 'success', JSON.stringify({ done, logs }));
    assert.deepEqual(jobs.map((j) => [j.job_key, j.runner_name]).sort(), [['a', 'ra'], ['b', 'rb']]);
    const a = logText(logs.a), b = logText(logs.b);
    const sa = /sums-a=([0-9a-f]{16})/.exec(a)?.[1];
    const sb = /sums-b=([0-9a-f]{16})/.exec(b)?.[1];
    assert.ok(sa && sa === sb, `sums differ: ${sa} ${sb}`);
    assert.match(b, /modes=600 755/);
    // The node holds it, with its manifest.
    const list = await node.api('GET', `/api/repos/${repo.full}/runs/${run.id}/artifacts`);
    assert.equal(list.status, 200);
    const items = Array.isArray(list.json) ? list.json : list.json.artifacts;
    assert.deepEqual(items.map((x) => x.name), ['bundle']);
  });

  test('a second run of the same files sends no blob', { skip }, async () => {
    const run = await dispatch(node, repo.full, 'hand.yml');
    const { done, logs } = await finished(node, repo.full, run);
    assert.equal(done.conclusion, 'success', JSON.stringify({ done, logs }));
    assert.match(logText(logs.a), /upload-artifact: 0 blobs \(0 bytes\) sent/);
  });

  test('a cache misses and is saved, then hits; restore-keys takes the newest match', { skip }, async () => {
    const one = await finished(node, repo.full, await dispatch(node, repo.full, 'cache.yml', { key: 'deps-a' }));
    assert.equal(one.done.conclusion, 'success');
    assert.match(logText(one.logs.c), /hit=false matched= content=none/);
    assert.match(logText(one.logs.c), /cache saved with key: deps-a/);

    const two = await finished(node, repo.full, await dispatch(node, repo.full, 'cache.yml', { key: 'deps-a' }));
    assert.match(logText(two.logs.c), /hit=true matched=deps-a content=deps-a/);

    // deps-b restores deps-a by prefix, then saves itself.
    const three = await finished(node, repo.full, await dispatch(node, repo.full, 'cache.yml', { key: 'deps-b' }));
    assert.match(logText(three.logs.c), /hit=false matched=deps-a content=deps-a/);
    await waitFor(async () => {
      const r = await node.api('GET', `/api/repos/${repo.full}/caches?key=deps-b`);
      return r.status === 200 && JSON.stringify(r.json).includes('deps-b');
    }, 10000, 'the deps-b cache');

    // The newest of deps-a and deps-b matches deps-.
    const four = await finished(node, repo.full, await dispatch(node, repo.full, 'cache.yml', { key: 'deps-z' }));
    assert.match(logText(four.logs.c), /hit=false matched=deps-b content=deps-b/);
  });
});
