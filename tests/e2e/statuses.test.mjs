// Commit statuses: posting (ours and GitHub's endpoints), listing, the
// combined state, validation and rights, the statuses a run posts (skipped
// jobs included) and the check_run events they make.
import { before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, GutsNode, waitFor, HAVE_RUNNER } from './harness.mjs';

let node, repo, write;
before(async () => {
  node = await startNode({ runners: 0 });
  repo = await node.makeRepo('st', { 'README.md': 'statuses\n' });
  write = await node.tokenFor('admin', 'write');
});
after(() => node?.stop());

const base = () => `/api/repos/${repo.full}/commits`;
const post = (sha, body, token = write) => node.api('POST', `${base()}/${sha}/statuses`, body, token);
const combined = (ref) => node.ok(200, 'GET', `${base()}/${ref}/status`);

test('no statuses yet: combined is pending with none', async () => {
  const c = await combined(repo.sha);
  assert.equal(c.state, 'pending');
  assert.equal(c.total_count, 0);
  assert.deepEqual(c.statuses, []);
  assert.deepEqual(await node.ok(200, 'GET', `${base()}/${repo.sha}/statuses`), []);
});

test('POST a status with a write token: 201', async () => {
  const r = await post(repo.sha, { state: 'success', context: 'lint', description: 'clean',
                                   target_url: 'https://example.invalid/lint/1' });
  assert.equal(r.status, 201, r.text);
  const s = r.json;
  assert.equal(s.sha, repo.sha);
  assert.equal(s.context, 'lint');
  assert.equal(s.state, 'success');
  assert.equal(s.description, 'clean');
  assert.equal(s.target_url, 'https://example.invalid/lint/1');
  assert.equal(s.creator.login, 'admin');
  assert.equal(s.creator.type, 'User');
  assert.ok(Number.isInteger(s.creator.id));
  assert.equal(s.url, `${node.url}/api/repos/${repo.full}/statuses/${repo.sha}`);
  assert.ok(Number.isInteger(s.id));
  assert.match(s.created_at, /Z$/);
  // The context defaults to "default".
  const d = await post(repo.sha, { state: 'success' });
  assert.equal(d.status, 201, d.text);
  assert.equal(d.json.context, 'default');
});

test('a bad state is a 422; no or weak tokens are refused', async () => {
  for (const state of ['done', '', 'SUCCESS', 42]) {
    const r = await post(repo.sha, { state, context: 'x' });
    assert.equal(r.status, 422, `${JSON.stringify(state)}: ${r.text}`);
    assert.equal(r.json.error.code, 'unprocessable');
  }
  const missing = await post(repo.sha, { context: 'x' });
  assert.equal(missing.status, 422, missing.text);
  const anon = await post(repo.sha, { state: 'success' }, null);
  assert.equal(anon.status, 401, anon.text);
  const read = await node.tokenFor('admin', 'read');
  const r = await post(repo.sha, { state: 'success' }, read);
  assert.equal(r.status, 403, r.text);
  // A ref that is not a sha nor a branch of the repository.
  const nocommit = await post('no-such-branch', { state: 'success' });
  assert.equal(nocommit.status, 422, nocommit.text);
});

test('GET …/statuses lists every status, newest first', async () => {
  await post(repo.sha, { state: 'pending', context: 'order' });
  await post(repo.sha, { state: 'success', context: 'order' });
  const list = await node.ok(200, 'GET', `${base()}/${repo.sha}/statuses`);
  assert.ok(list.length >= 4, JSON.stringify(list));
  const ids = list.map((s) => s.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
  assert.equal(list[0].context, 'order');
  assert.equal(list[0].state, 'success');
  assert.equal(list[1].context, 'order');
  assert.equal(list[1].state, 'pending');
  // By branch name too.
  const byBranch = await node.ok(200, 'GET', `${base()}/main/statuses`);
  assert.deepEqual(byBranch.map((s) => s.id), ids);
});

test('GET …/commits/main/status resolves the branch and combines the latest per context', async () => {
  // Now: lint success, default success, order success.
  let c = await combined('main');
  assert.equal(c.sha, repo.sha);
  assert.equal(c.state, 'success');
  assert.equal(c.total_count, 3);
  assert.deepEqual(c.statuses.map((s) => s.context).sort(), ['default', 'lint', 'order']);

  // pending wins over success.
  assert.equal((await post(repo.sha, { state: 'pending', context: 'build' })).status, 201);
  c = await combined('main');
  assert.equal(c.state, 'pending');
  assert.equal(c.total_count, 4);

  // failure wins over pending.
  assert.equal((await post(repo.sha, { state: 'failure', context: 'lint' })).status, 201);
  c = await combined('main');
  assert.equal(c.state, 'failure');
  assert.equal(c.total_count, 4, 'the latest per context only');
  assert.equal(c.statuses.find((s) => s.context === 'lint').state, 'failure');

  // Fixed: back to pending, then success.
  assert.equal((await post(repo.sha, { state: 'success', context: 'lint' })).status, 201);
  assert.equal((await combined('main')).state, 'pending');
  assert.equal((await post(repo.sha, { state: 'success', context: 'build' })).status, 201);
  assert.equal((await combined('main')).state, 'success');

  // error counts as failure.
  assert.equal((await post(repo.sha, { state: 'error', context: 'deploy' })).status, 201);
  assert.equal((await combined('main')).state, 'failure');
  assert.equal((await combined(repo.sha)).state, 'failure');

  // A new commit on main has its own, empty, combined status.
  const sha2 = await node.commit(repo, { 'b.txt': 'b\n' });
  c = await combined('main');
  assert.equal(c.sha, sha2);
  assert.equal(c.state, 'pending');
  assert.equal(c.total_count, 0);
  // An unknown ref.
  const none = await node.api('GET', `${base()}/no-such-branch/status`);
  assert.equal(none.status, 404, none.text);
});

// ---- GitHub's endpoints and shapes ------------------------------------------

test("POST /statuses/{sha} with GitHub's exact request shows up in GET /commits/{branch}/status", async () => {
  // A branch with slashes, as tools post for feature branches.
  const sha = await node.commit(repo, { 'gh.txt': 'gh\n' }, { branch: 'feature/gh/x' });
  const body = { state: 'success', target_url: 'https://ci.example.com/1000/output',
                 description: 'Build has completed successfully',
                 context: 'continuous-integration/jenkins' };
  const r = await node.api('POST', `/api/repos/${repo.full}/statuses/${sha}`, body, write);
  assert.equal(r.status, 201, r.text);
  for (const k of ['url', 'avatar_url', 'id', 'state', 'description', 'target_url', 'context',
                   'created_at', 'updated_at', 'creator'])
    assert.ok(k in r.json, `${k} in ${r.text}`);
  assert.equal(r.json.state, 'success');
  assert.equal(r.json.context, 'continuous-integration/jenkins');
  assert.equal(r.json.description, body.description);
  assert.equal(r.json.target_url, body.target_url);
  assert.equal(r.json.created_at, r.json.updated_at);

  for (const ref of ['feature/gh/x', 'feature%2Fgh%2Fx', sha]) {
    const c = await combined(ref);
    assert.equal(c.sha, sha, ref);
    assert.equal(c.state, 'success', ref);
    assert.equal(c.total_count, 1);
    assert.equal(c.repository.full_name, repo.full);
    assert.equal(c.repository.private, false);
    assert.equal(c.commit_url, `${node.url}/api/repos/${repo.full}/commits/${sha}`);
    const [st] = c.statuses;
    assert.equal(st.id, r.json.id);
    assert.equal(st.context, body.context);
    assert.equal(st.description, body.description);
    assert.equal(st.target_url, body.target_url);
    assert.equal(st.creator.login, 'admin');
  }
  // The list, by branch, and GitHub's legacy GET /statuses/{ref}.
  const list = await node.ok(200, 'GET', `${base()}/feature/gh/x/statuses`);
  assert.deepEqual(list.map((s) => s.id), [r.json.id]);
  const legacy = await node.ok(200, 'GET', `/api/repos/${repo.full}/statuses/feature/gh/x`);
  assert.deepEqual(legacy.map((s) => s.id), [r.json.id]);
  // context defaults to "default"; an upper-case sha is a sha.
  const d = await node.api('POST', `/api/repos/${repo.full}/statuses/${sha.toUpperCase()}`,
                           { state: 'pending' }, write);
  assert.equal(d.status, 201, d.text);
  assert.equal(d.json.context, 'default');
  assert.equal(d.json.description, null);
  assert.equal(d.json.target_url, null);
  assert.equal((await combined(sha)).state, 'pending');
});

test('POST /statuses/{sha} takes a full sha of the repository only: 422 naming sha', async () => {
  for (const ref of ['main', repo.sha.slice(0, 12), 'f'.repeat(40), `${repo.sha}0`]) {
    const r = await node.api('POST', `/api/repos/${repo.full}/statuses/${ref}`, { state: 'success' }, write);
    assert.equal(r.status, 422, `${ref}: ${r.text}`);
    assert.match(r.json.error.message, /^sha: /, r.text);
  }
});

test('combined: failure beats pending beats success, latest per context wins (contexts ignore case)', async () => {
  const sha = await node.commit(repo, { 'c.txt': 'c\n' }, { branch: 'combo' });
  const p = (state, context) => node.ok(201, 'POST', `/api/repos/${repo.full}/statuses/${sha}`,
                                        { state, context }, write);
  const state = async () => (await combined('combo')).state;
  await p('success', 'a');
  assert.equal(await state(), 'success');
  await p('pending', 'b');
  assert.equal(await state(), 'pending');
  await p('failure', 'c');
  assert.equal(await state(), 'failure');
  await p('success', 'c'); // latest per context wins
  assert.equal(await state(), 'pending');
  await p('success', 'B'); // the same context as "b"
  let c = await combined('combo');
  assert.equal(c.state, 'success');
  assert.equal(c.total_count, 3, JSON.stringify(c.statuses));
  assert.equal(c.statuses.find((s) => s.context.toLowerCase() === 'b').context, 'B');
  await p('error', 'd');
  assert.equal(await state(), 'failure', 'error counts as failure');
  await p('pending', 'a');
  assert.equal(await state(), 'failure', 'failure beats pending');
});

test('validation: 422 naming the field', async () => {
  const url = `/api/repos/${repo.full}/statuses/${repo.sha}`;
  const cases = [
    [{ context: 'x' }, /^state: /],
    [{ state: 'ok' }, /^state: /],
    [{ state: null }, /^state: /],
    [{ state: 'success', context: '' }, /^context: /],
    [{ state: 'success', context: 'c'.repeat(256) }, /^context: /],
    [{ state: 'success', context: 7 }, /^context: /],
    [{ state: 'success', context: 'a\nb' }, /^context: /],
    [{ state: 'success', description: 'd'.repeat(141) }, /^description: /],
    [{ state: 'success', description: 5 }, /^description: /],
    [{ state: 'success', target_url: 'ftp://example.com/x' }, /^target_url: /],
    [{ state: 'success', target_url: 'javascript:alert(1)' }, /^target_url: /],
    [{ state: 'success', target_url: 'https://example.com/a b' }, /^target_url: /],
    [{ state: 'success', target_url: `https://e.com/${'u'.repeat(2048)}` }, /^target_url: /],
  ];
  for (const [body, re] of cases) {
    for (const path of [url, `${base()}/${repo.sha}/statuses`]) {
      const r = await node.api('POST', path, body, write);
      assert.equal(r.status, 422, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
      assert.equal(r.json.error.code, 'unprocessable');
      assert.match(r.json.error.message, re, r.text);
    }
  }
  // At the caps: 140 characters (not bytes), 255 bytes of context.
  const ok = await node.api('POST', url, { state: 'success', description: 'é'.repeat(140),
                                           context: 'c'.repeat(255), target_url: '' }, write);
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.target_url, null);
});

test('rights: 401 without a token, 403 without write or ownership, 404 for a private repository', async () => {
  const url = `/api/repos/${repo.full}/statuses/${repo.sha}`;
  assert.equal((await node.api('POST', url, { state: 'success' }, null)).status, 401);
  const read = await node.tokenFor('admin', 'read');
  const r = await node.api('POST', url, { state: 'success' }, read);
  assert.equal(r.status, 403, r.text);
  // Someone else's write token: 403 on a public repository...
  const eve = await node.tokenFor('eve', 'write');
  const e = await node.api('POST', url, { state: 'success' }, eve);
  assert.equal(e.status, 403, e.text);
  assert.equal(e.json.error.code, 'forbidden');
  // ...and 404 on a private one, on both endpoints, while its owner may post.
  const priv = await node.makeRepo('st-private', { 'a.txt': 'a\n' }, { visibility: 'private' });
  for (const path of [`/api/repos/${priv.full}/statuses/${priv.sha}`,
                      `/api/repos/${priv.full}/commits/${priv.sha}/statuses`]) {
    const x = await node.api('POST', path, { state: 'success' }, eve);
    assert.equal(x.status, 404, x.text);
    assert.equal((await node.api('GET', `/api/repos/${priv.full}/commits/${priv.sha}/status`, undefined, eve)).status, 404);
    assert.equal((await node.api('POST', path, { state: 'success' }, write)).status, 201);
  }
});

// ---- what a run posts, and its check_run events --------------------------------

const SKIPPY = `name: Skippy
on: push
jobs:
  build:
    runs-on: default
    steps:
      - run: exit 1
  after:
    needs: build
    runs-on: default
    steps:
      - run: echo never
  never:
    if: \${{ false }}
    runs-on: default
    steps:
      - run: echo never
  legs:
    needs: never
    if: always()
    runs-on: default
    strategy:
      matrix:
        os: [a, b]
    steps:
      - run: echo leg \${{ matrix.os }}
`;

const FAILFAST = `name: FF
on: push
jobs:
  t:
    runs-on: default
    strategy:
      matrix:
        n: [1, 2, 3]
    steps:
      - run: exit 1
`;

describe('statuses of a run', () => {
  const skip = !HAVE_RUNNER && 'guts-runner not built';
  let rnode, rrepo;
  before(async () => {
    if (skip) return;
    rnode = new GutsNode({ runners: 1 });
    await rnode.start();
    rrepo = await rnode.makeRepo('skippy', { '.guts/workflows/skippy.yml': SKIPPY });
  });
  after(() => rnode?.stop({ killAfterMs: 40000 }));

  test('skipped jobs post success "skipped"; a failed job fails the combined status', { skip }, async () => {
    const [run] = await rnode.runs(rrepo.full);
    const done = await rnode.waitRun(rrepo.full, run.id, 60000);
    assert.equal(done.conclusion, 'failure');
    const c = await rnode.ok(200, 'GET', `/api/repos/${rrepo.full}/commits/main/status`);
    const by = Object.fromEntries(c.statuses.map((s) => [s.context, s]));
    assert.equal(c.state, 'failure', JSON.stringify(c.statuses));
    assert.equal(by['Skippy / build'].state, 'failure');
    // Skipped because its need failed, and skipped by its if:.
    for (const ctx of ['Skippy / after', 'Skippy / never']) {
      assert.equal(by[ctx].state, 'success', ctx);
      assert.equal(by[ctx].description, 'skipped', ctx);
      assert.equal(by[ctx].creator.login, 'guts');
      assert.equal(by[ctx].creator.type, 'Bot');
      assert.equal(by[ctx].target_url, `${rnode.url}/admin/skippy/actions/runs/${run.id}`);
    }
    assert.equal(by['Skippy / legs (a)'].state, 'success');
    assert.equal(by['Skippy / legs'].state, 'success');
    // The history of one context: pending first, then its end.
    const all = await rnode.ok(200, 'GET', `/api/repos/${rrepo.full}/commits/main/statuses?per_page=100`);
    const after = all.filter((s) => s.context === 'Skippy / after').map((s) => s.state);
    assert.deepEqual(after, ['success', 'pending']);
  });

  test('check_run.created and check_run.completed reach the hub, in order', { skip }, async () => {
    const [run] = await rnode.runs(rrepo.full);
    const ev = await waitFor(async () => {
      const r = await rnode.ok(200, 'GET', `/api/events?since=0&repo=${rrepo.full}`);
      return r.events.filter((e) => e.event.startsWith('check_run.') &&
                             e.data.check_run.run_id === run.id).length >= 12 && r;
    }, 10000, 'the check_run events');
    // The hub carries workflow_run and workflow_job events too.
    const evs = ev.events.filter((e) => e.event.startsWith('check_run.') &&
                                 e.data.check_run.run_id === run.id);
    const seqs = evs.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    const of = (name) => evs.filter((e) => e.data.check_run.name === name).map((e) => e.event);
    for (const name of ['Skippy / build', 'Skippy / after', 'Skippy / never', 'Skippy / legs',
                        'Skippy / legs (a)', 'Skippy / legs (b)'])
      assert.deepEqual(of(name), ['check_run.created', 'check_run.completed'], name);
    const created = evs.find((e) => e.event === 'check_run.created');
    assert.equal(created.data.action, 'created');
    assert.equal(created.data.check_run.status, 'queued');
    assert.equal(created.data.check_run.conclusion, null);
    assert.equal(created.data.check_run.head_sha, rrepo.sha);
    assert.equal(created.data.repository.full_name, rrepo.full);
    const build = evs.find((e) => e.event === 'check_run.completed' &&
                           e.data.check_run.name === 'Skippy / build');
    assert.equal(build.data.check_run.status, 'completed');
    assert.equal(build.data.check_run.conclusion, 'failure');
    assert.ok(Number.isInteger(build.data.check_run.job_id));
    assert.equal(build.data.check_run.details_url, `${rnode.url}/admin/skippy/actions/runs/${run.id}`);
    const never = evs.find((e) => e.event === 'check_run.completed' &&
                           e.data.check_run.name === 'Skippy / never');
    assert.equal(never.data.check_run.conclusion, 'skipped');
    assert.equal(never.data.check_run.output.title, 'skipped');
    // A job's first status is its pending one: no second "created".
    assert.equal(evs.filter((e) => e.event === 'check_run.created').length, 6);
    // Resuming after a seq gives what followed only; admins only.
    const mid = seqs[3];
    const rest = await rnode.ok(200, 'GET', `/api/events?since=${mid}`);
    assert.ok(rest.events.every((e) => e.seq > mid));
    assert.equal(rest.events[0].seq, mid + 1);
    const w = await rnode.tokenFor('admin', 'write');
    assert.equal((await rnode.api('GET', '/api/events', undefined, w)).status, 403);
  });

  test('fail-fast: legs cancelled while queued get their final status too', { skip }, async () => {
    // One runner: leg 1 fails while legs 2 and 3 are still queued.
    const sha = await rnode.commit(rrepo, { '.guts/workflows/ff.yml': FAILFAST });
    const runs = await rnode.runs(rrepo.full, '&workflow=ff.yml');
    await rnode.waitRun(rrepo.full, runs[0].id, 60000);
    const c = await rnode.ok(200, 'GET', `/api/repos/${rrepo.full}/commits/${sha}/status`);
    const ff = c.statuses.filter((s) => s.context.startsWith('FF / '));
    assert.equal(ff.length, 4, JSON.stringify(ff));
    assert.ok(ff.every((s) => s.state !== 'pending'), JSON.stringify(ff));
    assert.equal(ff.find((s) => s.context === 'FF / t').state, 'failure');
    assert.ok(ff.some((s) => s.state === 'error' && /fail-fast/.test(s.description)), JSON.stringify(ff));
  });
});
