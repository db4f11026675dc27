// workflow_dispatch end to end: typed inputs reach the job as typed values
// in inputs.* (and github.event.inputs), through the API and the CLI.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startNode, HAVE_RUNNER } from './harness.mjs';

const WF = `name: Typed
on:
  workflow_dispatch:
    inputs:
      count:
        type: number
        required: true
      flag:
        type: boolean
        default: true
      level:
        type: choice
        options: [low, high]
        default: low
      note:
        type: string
jobs:
  show:
    runs-on: default
    steps:
      - run: |
          echo 'inputs=\${{ toJSON(inputs) }}'
          echo 'count-is-num=\${{ inputs.count == 41 }}'
          echo 'flag-is-bool=\${{ inputs.flag == false }}'
          echo 'level=\${{ inputs.level }}'
`;

let node, repo;
before(async () => {
  node = await startNode({ runners: HAVE_RUNNER ? 1 : 0 });
  repo = await node.makeRepo('typed', { '.guts/workflows/typed.yml': WF });
});
after(() => node?.stop());

test('typed inputs arrive in inputs.* with their types', { skip: !HAVE_RUNNER }, async () => {
  const run = await node.ok(201, 'POST', `/api/repos/${repo.full}/runs`,
                            { workflow: 'typed.yml', inputs: { count: '41', flag: 'false', level: 'high', note: 'hi there' } });
  const done = await node.waitRun(repo.full, run.id);
  const [job] = await node.jobs(repo.full, run.id);
  const log = await node.log(repo.full, job.id);
  assert.equal(done.conclusion, 'success', log);
  const json = JSON.parse(log.match(/inputs=(\{[\s\S]*?\})\n/)[1].replace(/\n\S+Z /g, '\n'));
  assert.deepEqual(json, { count: 41, flag: false, level: 'high', note: 'hi there' });
  assert.match(log, /count-is-num=true/);
  assert.match(log, /flag-is-bool=true/);
  assert.match(log, /level=high/);
  assert.deepEqual(done.inputs, { count: 41, flag: false, level: 'high', note: 'hi there' });
});

test('a bad choice is a 422 that names it, from the API and from guts workflow run', async () => {
  const r = await node.api('POST', `/api/repos/${repo.full}/runs`,
                           { workflow: 'typed.yml', inputs: { count: 1, level: 'medium' } });
  assert.equal(r.status, 422, r.text);
  assert.match(r.json.error.message, /level/);
  const nan = await node.api('POST', `/api/repos/${repo.full}/runs`,
                             { workflow: 'typed.yml', inputs: { count: 'many' } });
  assert.equal(nan.status, 422, nan.text);
  assert.match(nan.json.error.message, /count/);
  const cli = await node.cli(['workflow', 'run', 'typed.yml', '-R', repo.full, '-f', 'count=1', '-f', 'level=medium']);
  assert.equal(cli.code, 1, cli.stdout + cli.stderr);
  assert.match(cli.stderr, /level/);
});
