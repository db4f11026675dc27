// guts pr: the pull request commands of the CLI, the real binary against a
// real node, with branches pushed by real git.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, startNode, git, tmpdir } from './harness.mjs';

// A pull_request workflow: with no runner its jobs stay queued, so the head
// sha of each pull request carries a pending context.
const CI = `name: CI
on: pull_request
jobs:
  build:
    name: Build
    runs-on: default
    steps:
      - run: "true"
`;

let node, repo, R;
before(async () => {
  node = await startNode({ runners: 0 });
  repo = await node.makeRepo('prcli', { 'README.md': 'pr cli\n', '.guts/workflows/ci.yml': CI });
  R = ['-R', repo.full];
});
after(() => node?.stop());

function ok(r, what) {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

async function branch(name, files, { from = 'main' } = {}) {
  await git(['checkout', '-q', '-B', name, from], repo.dir);
  const sha = await node.commit(repo, files, { branch: name, message: name });
  await git(['checkout', '-q', 'main'], repo.dir);
  return sha;
}

async function remoteSha(ref) {
  const out = (await git(['ls-remote', node.remote(repo.full), ref], repo.dir)).stdout;
  return out.split('\t')[0];
}

test('usage errors exit 2 with one line; --help exits 0', async () => {
  for (const args of [['pr'], ['pr', 'frobnicate'], ['pr', 'view', ...R], ['pr', 'view', 'abc', ...R],
                      ['pr', 'view', '1', '2', ...R], ['pr', 'close', '--nope', '1', ...R],
                      ['pr', 'create', '--head', 'x', ...R], ['pr', 'create', '--title', 't', ...R],
                      ['pr', 'create', '--head', 'x', '--title', 't', '--body', 'b', '--body-file', 'f', ...R],
                      ['pr', 'list', '--state', 'merged', ...R], ['pr', 'list', '--limit', '0', ...R],
                      ['pr', 'merge', '1', '--squash', '--merge', ...R], ['pr', 'merge', '1', '--sha', 'abc', ...R],
                      ['pr', 'merge', '1', '--title', ...R]]) {
    const r = await node.cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '', args.join(' '));
  }
  const one = await node.cli(['pr', 'view', 'abc', ...R]);
  assert.match(one.stderr, /^guts: [^\n]+\n$/, JSON.stringify(one.stderr));
  for (const sub of ['create', 'list', 'view', 'merge', 'close', 'reopen']) {
    const h = await node.cli(['pr', sub, '--help']);
    assert.equal(h.code, 0, sub);
    assert.match(h.stdout, new RegExp(`^usage: guts pr ${sub}`), sub);
  }
  assert.match(ok(await node.cli(['--help']), '--help'), /\n {2}pr +create, list, view, merge and close/);
  // A node that cannot be reached: one line, exit 1 (merge has its own request).
  for (const args of [['pr', 'list', ...R], ['pr', 'view', '1', ...R], ['pr', 'merge', '1', ...R]]) {
    const r = await node.cli(args, { url: 'http://127.0.0.1:1' });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^guts: cannot reach http:\/\/127\.0\.0\.1:1: [^\n]+\n$/, JSON.stringify(r.stderr));
  }
});

test('guts pr create: base defaults to the default branch; prints the number and URL', async () => {
  const head = await branch('feature-a', { 'a.txt': 'a\n' });
  const bodyFile = path.join(tmpdir('body'), 'body.md');
  fs.writeFileSync(bodyFile, 'first line\nsecond line\n');
  const out = ok(await node.cli(['pr', 'create', '--head', 'feature-a', '--title', 'Add a',
                                 '--body-file', bodyFile, ...R]), 'pr create');
  assert.equal(out, `Created pull request #1: Add a\n${node.url}/${repo.full}/pulls/1\n`);
  const pr = await node.ok(200, 'GET', `/api/repos/${repo.full}/pulls/1`);
  assert.equal(pr.base.ref, 'main');
  assert.equal(pr.head.sha, head);
  assert.equal(pr.body, 'first line\nsecond line\n');
  // The node's refusal: one line, exit 1.
  const dup = await node.cli(['pr', 'create', '--head', 'feature-a', '--title', 'again', ...R]);
  assert.equal(dup.code, 1, dup.stderr);
  assert.match(dup.stderr, /^guts: .*already open \(#1\)\n$/);
  const nob = await node.cli(['pr', 'create', '--head', 'nope', '--title', 't', '--base', 'main', ...R]);
  assert.equal(nob.code, 1, nob.stderr);
  assert.match(nob.stderr, /no branch 'nope'/);
  // --json: the node's answer.
  await branch('feature-b', { 'b.txt': 'b\n' });
  const j = JSON.parse(ok(await node.cli(['pr', 'create', '--head', 'feature-b', '--base', 'main',
                                          '--title', 'Add b', '--body', 'bee', '--json', ...R]),
                          'pr create --json'));
  assert.equal(j.number, 2);
  assert.equal(j.body, 'bee');
});

test('guts pr list: the table, --state, --limit, --json; control characters never reach the terminal', async () => {
  const list = ok(await node.cli(['pr', 'list', ...R]), 'pr list');
  const lines = list.trim().split('\n');
  assert.match(lines[0], /^NUMBER +TITLE +HEAD→BASE +STATE +UPDATED$/);
  assert.match(lines[1], /^#2 +Add b +feature-b→main +open +\d+s ago$/);
  assert.match(lines[2], /^#1 +Add a +feature-a→main +open /);
  assert.equal(lines.length, 3);
  const limited = ok(await node.cli(['pr', 'list', '--limit', '1', ...R]), 'pr list --limit 1');
  assert.equal(limited.trim().split('\n').length, 2);
  const none = await node.cli(['pr', 'list', '--state', 'closed', ...R]);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /No closed pull requests/);
  const j = JSON.parse(ok(await node.cli(['--json', 'pr', 'list', ...R]), 'pr list --json'));
  assert.deepEqual(j.map((p) => p.number), [2, 1]);

  await node.ok(200, 'PATCH', `/api/repos/${repo.full}/pulls/2`, { title: 'evil \u001b]0;pwned\u0007 title' });
  const evil = ok(await node.cli(['pr', 'list', ...R]), 'pr list (evil)');
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(evil), JSON.stringify(evil));
  assert.match(evil, /evil {2}\]0;pwned {2}title/);
  const view = ok(await node.cli(['pr', 'view', '2', ...R]), 'pr view (evil)');
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(view), JSON.stringify(view));
  await node.ok(200, 'PATCH', `/api/repos/${repo.full}/pulls/2`, { title: 'Add b' });
});

test('guts pr view: branches with shas, every check and the combined state, can merge and why', async () => {
  const pr = await node.ok(200, 'GET', `/api/repos/${repo.full}/pulls/1`);
  const sha = pr.head.sha;
  // The CI workflow's queued job left its context pending.
  await node.ok(201, 'POST', `/api/repos/${repo.full}/commits/${sha}/statuses`,
                { state: 'failure', context: 'lint', description: 'two warnings' });
  const out = ok(await node.cli(['pr', 'view', '#1', ...R]), 'pr view');
  assert.match(out, /^#1 Add a\n/);
  assert.match(out, /state: +open\n/);
  assert.match(out, new RegExp(`head: +feature-a \\(${sha.slice(0, 12)}\\)\\n`));
  assert.match(out, new RegExp(`base: +main \\(${pr.base.sha.slice(0, 12)}\\)\\n`));
  assert.match(out, /mergeable: +yes\n/);
  assert.match(out, /\n {2}first line\n {2}second line\n/);
  assert.match(out, new RegExp(`Checks on ${sha.slice(0, 12)}: failure \\(2 contexts\\)\\n`));
  assert.match(out, /\n {2}STATE +CONTEXT +DESCRIPTION\n/);
  assert.match(out, /\n {2}pending +CI \/ Build +/);
  assert.match(out, /\n {2}failure +lint +two warnings\n/);
  assert.match(out, /\nCan merge: yes\n$/);

  const j = JSON.parse(ok(await node.cli(['pr', 'view', '1', '--json', ...R]), 'pr view --json'));
  assert.equal(j.pull.number, 1);
  assert.equal(j.pull.can_merge, true);
  assert.equal(j.status.sha, sha);
  assert.equal(j.status.state, 'failure');

  const missing = await node.cli(['pr', 'view', '99', ...R]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'guts: pull request #99 not found\n');
});

test('a conflicting pull request: view says why it cannot merge; merge prints the refusal and the paths, exit 1', async () => {
  await branch('left', { 'clash.txt': 'left\n' });
  await branch('right', { 'clash.txt': 'right\n' });
  const created = ok(await node.cli(['pr', 'create', '--head', 'right', '--base', 'left',
                                     '--title', 'clash', ...R]), 'pr create (clash)');
  const n = /#(\d+)/.exec(created)[1];
  const view = await node.cli(['pr', 'view', n, ...R]);
  assert.equal(view.code, 0, 'view exits 0 when it cannot merge');
  assert.match(view.stdout, /mergeable: +no \(conflicts: clash\.txt\)\n/);
  assert.match(view.stdout, /\nCan merge: no\n {2}- right and left have conflicts: .*clash\.txt.*\n$/);

  const m = await node.cli(['pr', 'merge', n, ...R]);
  assert.equal(m.code, 1, m.stdout + m.stderr);
  assert.equal(m.stdout, '');
  assert.match(m.stderr, new RegExp(`^guts: pull request #${n} cannot merge: right and left have conflicts`));
  assert.match(m.stderr, /\nConflicting paths:\n {2}clash\.txt\n$/);
  const mj = await node.cli(['pr', 'merge', n, '--json', ...R]);
  assert.equal(mj.code, 1);
  assert.deepEqual(JSON.parse(mj.stdout).error.conflicts, ['clash.txt']);
  assert.equal(await remoteSha('refs/heads/left'), (await git(['rev-parse', 'left'], repo.dir)).stdout.trim());

  // close, reopen, close
  assert.equal(ok(await node.cli(['pr', 'close', n, ...R]), 'pr close'), `Closed pull request #${n}: clash\n`);
  assert.equal((await node.ok(200, 'GET', `/api/repos/${repo.full}/pulls/${n}`)).state, 'closed');
  const closed = ok(await node.cli(['pr', 'list', '--state', 'closed', ...R]), 'pr list --state closed');
  assert.match(closed, new RegExp(`\\n#${n} +clash +right→left +closed `));
  assert.equal(ok(await node.cli(['pr', 'reopen', n, ...R]), 'pr reopen'), `Reopened pull request #${n}: clash\n`);
  const j = JSON.parse(ok(await node.cli(['pr', 'close', n, '--json', ...R]), 'pr close --json'));
  assert.equal(j.state, 'closed');
  const v2 = ok(await node.cli(['pr', 'view', n, ...R]), 'pr view (closed)');
  assert.match(v2, /\nCan merge: no\n {2}- the pull request is closed\n$/);
});

test('guts pr merge: squash and merge print the new sha of the base; merged shows as merged', async () => {
  const head = (await node.ok(200, 'GET', `/api/repos/${repo.full}/pulls/2`)).head.sha;
  // A stale --sha is refused.
  const stale = await node.cli(['pr', 'merge', '2', '--sha', repo.sha, ...R]);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /^guts: the head of pull request #2 is .*it moved\n$/);
  const out = ok(await node.cli(['pr', 'merge', '2', '--squash', '--sha', head, ...R]), 'pr merge --squash');
  const main = await remoteSha('refs/heads/main');
  assert.equal(out, `Merged pull request #2 (squash): ${main}\n`);
  await git(['fetch', '-q', node.remote(repo.full), 'main'], repo.dir);
  assert.equal((await git(['log', '-1', '--format=%s', 'FETCH_HEAD'], repo.dir)).stdout, 'Add b (#2)\n');

  const j = JSON.parse(ok(await node.cli(['pr', 'merge', '1', '--json', '--title', 'Bring in a', ...R]),
                          'pr merge --json'));
  assert.equal(j.merged, true);
  assert.equal(j.method, 'merge');
  assert.equal(j.sha, await remoteSha('refs/heads/main'));

  const all = ok(await node.cli(['pr', 'list', '--state', 'all', ...R]), 'pr list --state all');
  assert.match(all, /\n#2 +Add b +feature-b→main +merged /);
  assert.match(all, /\n#1 +Add a +feature-a→main +merged /);
  const view = ok(await node.cli(['pr', 'view', '1', ...R]), 'pr view (merged)');
  assert.match(view, /state: +merged\n/);
  assert.match(view, new RegExp(`merged as: +${j.sha}\\n`));
  assert.match(view, /\nCan merge: no\n {2}- the pull request is already merged\n$/);
  const again = await node.cli(['pr', 'merge', '1', ...R]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already merged/);
});
