// Schedules (docs/schedules.md): a `* * * * *` cron on the default branch
// fires once a minute, in UTC, with github.event.schedule set; a restart in
// the minute of a fire does not fire it again; schedules on other branches
// and in invalid workflows do not fire.  A real node with an embedded
// runner; the test waits for two real minutes, so it takes 1 to 2 minutes.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, GutsNode, waitFor, HAVE_RUNNER } from './harness.mjs';

const skip = !HAVE_RUNNER && 'guts-runner not built yet';

// The shell's arithmetic makes the output differ from the script's text,
// so finding it in the log proves the step ran with these values.
const TICK = `name: Tick
on:
  schedule:
    - cron: '* * * * *'
jobs:
  tick:
    runs-on: default
    steps:
      - run: echo "tick-$((40 + 2)) event=\${{ github.event_name }} schedule=[\${{ github.event.schedule }}] ref=\${{ github.ref }}"
`;

// Only on the branch 'other', never on main.
const ELSEWHERE = `name: Elsewhere
on:
  schedule:
    - cron: '* * * * *'
jobs:
  nope:
    runs-on: default
    steps:
      - run: echo elsewhere
`;

// Valid YAML, invalid workflow (no runs-on): it never fires.
const BROKEN = `name: Broken
on:
  schedule:
    - cron: '* * * * *'
jobs:
  nope:
    steps:
      - run: echo broken
`;

const minuteOf = (run) => Math.floor(Date.parse(run.created_at) / 60000);

let node, repo;
before(async () => {
  if (skip) return;
  node = new GutsNode({ runners: 1 });
  await node.start();
});
after(() => node?.stop({ killAfterMs: 30000 }));

async function scheduled() {
  return node.runs(repo.full, '&event=schedule');
}

test('a * * * * * schedule fires once a minute, and not twice across a restart', { skip },
  async () => {
    repo = await node.makeRepo('sched', {
      '.guts/workflows/tick.yml': TICK,
      '.guts/workflows/broken.yml': BROKEN,
    });
    await node.commit(repo, { '.guts/workflows/elsewhere.yml': ELSEWHERE },
                      { branch: 'other', message: 'a schedule on another branch' });

    // Within 65 s of the push: the next minute starts at most 60 s later.
    const [first] = await waitFor(async () => {
      const runs = await scheduled();
      return runs.length > 0 && runs;
    }, 65000, 'the first scheduled run');
    const m1 = minuteOf(first);
    assert.equal(first.event, 'schedule');
    assert.equal(first.workflow_path, '.guts/workflows/tick.yml');
    assert.equal(first.ref, 'refs/heads/main');
    assert.equal(first.head_sha, repo.sha);

    // A restart within the same minute: the new node's first tick looks at
    // that minute again and must find it fired already.
    await node.restart({ samePort: true });
    assert.ok(Date.now() < (m1 + 1) * 60000 - 1500,
              'the node restarted within the minute of the first fire ' +
              '(else this test proves nothing)');

    // The next minute fires once, by the restarted node.
    const runs = await waitFor(async () => {
      const r = await scheduled();
      return r.length >= 2 && r;
    }, 65000, 'the second scheduled run');
    const second = runs[0]; // newest first
    assert.equal(minuteOf(second), m1 + 1, JSON.stringify(runs));
    assert.equal(second.workflow_path, '.guts/workflows/tick.yml');

    // Both run on the runner; meanwhile the restarted node ticks every
    // second of the second minute, and none of those ticks fires again.
    for (const r of [first, second]) {
      const done = await node.waitRun(repo.full, r.id);
      assert.equal(done.conclusion, 'success', JSON.stringify(done));
      const [job] = await node.jobs(repo.full, r.id);
      assert.match(await node.log(repo.full, job.id),
                   /tick-42 event=schedule schedule=\[\* \* \* \* \*\] ref=refs\/heads\/main/);
    }
    const all = await scheduled();
    const perMinute = new Map();
    for (const r of all) perMinute.set(minuteOf(r), (perMinute.get(minuteOf(r)) || 0) + 1);
    assert.equal(perMinute.get(m1), 1, `one run in the first minute: ${JSON.stringify(all)}`);
    assert.equal(perMinute.get(m1 + 1), 1, `one run in the second minute: ${JSON.stringify(all)}`);

    // Only tick.yml fired: not the other branch's workflow, not the broken one.
    assert.deepEqual([...new Set(all.map((r) => r.workflow_path))], ['.guts/workflows/tick.yml']);
    // Nothing at all ran the other branch's workflow.
    const every = await node.runs(repo.full);
    assert.equal(every.filter((r) => r.workflow_path === '.guts/workflows/elsewhere.yml').length,
                 0, JSON.stringify(every));
  });
