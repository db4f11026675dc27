// The WebSocket API (docs/websocket.md) against a real guts-node with a real
// runner: events, live logs with resume by offset, the slow-consumer
// resync, and protocol hygiene (masking, frame and message caps, ping,
// close, fragmentation).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, startNode, waitFor, sleep, HAVE_RUNNER } from './harness.mjs';
import { wsConnect, frame } from './wsclient.mjs';

const QUEUE_MAX = 65536;
let node;
before(async () => {
  node = await startNode({
    runners: HAVE_RUNNER ? 1 : 0,
    env: { GUTS_WS_QUEUE_MAX: String(QUEUE_MAX), GUTS_WS_STALL_MS: '1000' },
  });
});
after(() => node?.stop());

const wf = (steps, name = 'CI') => `name: ${name}
on: push
jobs:
  a:
    runs-on: default
    steps:
${steps.map((s) => `      - run: ${s}`).join('\n')}
  b:
    needs: a
    runs-on: default
    steps:
      - run: echo b done
`;

async function open(token = node.token) {
  const ws = await wsConnect(node.url, { token });
  const hello = await ws.next();
  assert.equal(hello.event, 'hello');
  return { ws, hello };
}

// Collect a job's log over the socket until log_end (or a resync): checks
// that each chunk starts where the previous one ended.
async function collect(ws, job, from, { stopAfter = Infinity, timeoutMs = 60000 } = {}) {
  let text = '', next = from, chunks = 0;
  for (;;) {
    const m = await ws.next((x) => ['log', 'log_end', 'resync'].includes(x.event) && x.job === job, timeoutMs);
    if (m.event === 'log') {
      assert.equal(m.offset, next, 'chunks are contiguous');
      assert.ok(m.next > m.offset);
      text += m.data;
      next = m.next;
      if (++chunks >= stopAfter) return { text, next, end: null };
    } else {
      assert.equal(m.offset, next, `${m.event} carries the offset after the last chunk`);
      return { text, next, end: m.event };
    }
  }
}

test('hello, anonymous access, token in the first message, bad tokens', async () => {
  await node.ok(201, 'POST', '/api/repos', { name: 'secret', owner: 'admin', visibility: 'private' });
  await node.ok(201, 'POST', '/api/repos', { name: 'open', owner: 'admin', visibility: 'public' });
  const anon = await open(null);
  assert.deepEqual(anon.hello.data, { protocol: 1, user: null });
  anon.ws.send({ subscribe: ['repo:admin/secret', 'repo:admin/open', 'repo:bad..name/x', 'run:abc'] });
  const errs = [];
  for (let i = 0; i < 3; i++) errs.push((await anon.ws.next((m) => m.event === 'error')).data);
  assert.deepEqual(errs.map((e) => [e.topic, e.code]), [
    ['repo:admin/secret', 'not_found'], ['repo:bad..name/x', 'bad_request'], ['run:abc', 'bad_request']]);
  const sub = await anon.ws.next((m) => m.event === 'subscribed');
  assert.deepEqual(sub.data.topics, ['repo:admin/open']);

  // Not JSON, unknown fields: an error, and the connection stays.
  anon.ws.sendRaw(frame(0x1, 'not json'));
  assert.equal((await anon.ws.next()).data.code, 'bad_request');
  anon.ws.send({ subscrib: [] });
  assert.match((await anon.ws.next()).data.message, /unknown field 'subscrib'/);
  anon.ws.send({ unsubscribe: ['repo:admin/open'] });
  assert.deepEqual((await anon.ws.next()).data.topics, ['repo:admin/open']);
  anon.ws.close();
  assert.equal((await anon.ws.waitClose()).code, 1000);

  // A token as the first message (as browsers do).
  const late = await open(null);
  late.ws.send({ token: node.token });
  assert.equal((await late.ws.next()).data.user, 'admin');
  late.ws.send({ subscribe: ['repo:admin/secret'] });
  assert.deepEqual((await late.ws.next()).data.topics, ['repo:admin/secret']);
  late.ws.destroy();

  // A bad one: an error, then a policy-violation close.
  const bad = await open(null);
  bad.ws.send({ token: 'gt_nope' });
  assert.equal((await bad.ws.next()).data.code, 'unauthorized');
  assert.equal((await bad.ws.waitClose()).code, 1008);

  // A bad token in the upgrade request is refused before the upgrade.
  await assert.rejects(wsConnect(node.url, { token: 'gt_nope' }), (e) => e.status === 401);
});

test('a deleted repository takes its subscriptions with it; lists are capped', async () => {
  await node.ok(201, 'POST', '/api/repos', { name: 'gone', owner: 'admin', visibility: 'public' });
  const { ws } = await open(null);
  ws.send({ subscribe: ['repo:admin/gone'] });
  assert.deepEqual((await ws.next()).data.topics, ['repo:admin/gone']);
  await node.ok(204, 'DELETE', '/api/repos/admin/gone');
  const e = await ws.next();
  assert.equal(e.event, 'error');
  assert.deepEqual([e.data.topic, e.data.code], ['repo:admin/gone', 'not_found']);
  assert.match(e.data.message, /deleted/);
  // A new repository with the same name (and maybe the same id), private:
  // nothing of it reaches the old subscriber.
  await node.ok(201, 'POST', '/api/repos', { name: 'gone', owner: 'admin', visibility: 'private' });
  await node.ok(201, 'POST', '/api/repos/admin/gone/statuses/' + 'a'.repeat(40),
    { state: 'success', context: 'x' }).catch(() => {});
  // One answer for a list too long, and for a list with a non-string.
  ws.send({ subscribe: Array.from({ length: 300 }, (_, i) => `run:${i + 1}`) });
  assert.equal((await ws.next()).data.code, 'too_large');
  ws.send({ subscribe: [1, 2, 3, 4] });
  assert.equal((await ws.next()).data.code, 'bad_request');
  ws.send({ subscribe: ['job:1:logs@99999999999999999999'] });
  assert.equal((await ws.next()).data.code, 'bad_request');
  assert.deepEqual((await ws.next()).data.topics, [], 'a list of one bad topic subscribes nothing');
  ws.send({ unsubscribe: [] });
  assert.equal((await ws.next()).event, 'unsubscribed', 'nothing else came in between');
  ws.destroy();
});

test('the upgrade request is checked', async () => {
  await assert.rejects(wsConnect(node.url, { headers: { 'Sec-WebSocket-Version': '8' } }),
    (e) => e.status === 426 && /Sec-WebSocket-Version: 13/i.test(e.response));
  // RFC 6455's own example (section 1.3): browsers check the accept value
  // against its GUID, 258EAFA5-E914-47DA-95CA-C5AB0DC85B11.
  const u = new URL(node.url);
  const head = await new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n\r\n')) { s.destroy(); resolve(buf); }
    });
    s.on('error', reject);
    s.write(`GET /api/ws HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  });
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
  const r = await fetch(`${node.url}/api/ws`);
  assert.equal(r.status, 400);
  assert.match((await r.json()).error.message, /WebSocket endpoint/);
});

test('events: workflow_run, workflow_job and check_run, in the REST shape', { skip: !HAVE_RUNNER }, async () => {
  const { ws } = await open();
  await node.ok(201, 'POST', '/api/repos', { name: 'events', owner: 'admin' });
  ws.send({ subscribe: ['repo:admin/events'] });
  await ws.next((m) => m.event === 'subscribed');
  const repo = await node.makeRepo('events', { '.guts/workflows/ci.yml': wf(['echo hi']) }, { create: false });
  const seen = [];
  let run;
  for (;;) {
    const m = await ws.next(() => true, 60000);
    if (!m.seq) continue;
    seen.push(m.event);
    assert.equal(m.data.repository.full_name, 'admin/events');
    if (m.event.startsWith('workflow_run.')) run = m.data.workflow_run;
    if (m.event === 'workflow_job.completed') {
      const j = m.data.workflow_job;
      const rest = await node.ok(200, 'GET', `/api/repos/${repo.full}/jobs/${j.id}`);
      assert.equal(j.conclusion, 'success');
      assert.deepEqual(j.steps.map((s) => s.conclusion), rest.steps.map((s) => s.conclusion));
      if (j.job_key === 'b') assert.deepEqual(j.needs, ['a']);
    }
    if (m.event === 'workflow_run.completed') break;
  }
  for (const e of ['workflow_run.requested', 'workflow_run.in_progress', 'workflow_run.completed',
    'workflow_job.queued', 'workflow_job.in_progress', 'workflow_job.completed',
    'check_run.created', 'check_run.completed']) assert.ok(seen.includes(e), `${e} in ${seen}`);
  assert.ok(seen.indexOf('workflow_run.requested') < seen.indexOf('workflow_run.in_progress'));
  assert.equal(seen.filter((e) => e === 'workflow_run.completed').length, 1);
  assert.equal(seen.filter((e) => e === 'workflow_job.completed').length, 2);
  const rest = await node.ok(200, 'GET', `/api/repos/${repo.full}/runs/${run.id}`);
  assert.deepEqual({ ...run, updated_at: 0 }, { ...rest, updated_at: 0 });

  // run:ID gets the same run's events, and nothing of another repository.
  ws.send({ unsubscribe: ['repo:admin/events'] });
  await ws.next((m) => m.event === 'unsubscribed');
  await node.commit(repo, { 'x.txt': '1' });
  const r2 = await waitFor(async () => (await node.runs(repo.full)).find((x) => x.id !== run.id), 20000);
  ws.send({ subscribe: [`run:${r2.id}`] });
  const done = await ws.next((m) => m.event === 'workflow_run.completed', 60000);
  assert.equal(done.data.workflow_run.id, r2.id);
  ws.destroy();
});

test('live logs: resume by offset misses nothing and repeats nothing', { skip: !HAVE_RUNNER }, async () => {
  const repo = await node.makeRepo('logs', {
    '.guts/workflows/ci.yml': wf([
      'for i in $(seq 1 60); do printf "\\033[1;32mline %03d\\033[0m é\\n" $i; sleep 0.05; done']),
  });
  const run = await waitFor(async () => (await node.runs(repo.full))[0], 20000);
  const job = await waitFor(async () => (await node.jobs(repo.full, run.id)).find((j) => j.job_key === 'a'), 20000);

  // First connection: a few chunks from the start, then it drops.
  let c = await open();
  c.ws.send({ subscribe: [`job:${job.id}:logs@0`] });
  const part1 = await collect(c.ws, job.id, 0, { stopAfter: 3 });
  c.ws.destroy();
  await sleep(300);
  // Second: from where the first stopped, to the end.
  c = await open();
  c.ws.send({ subscribe: [`job:${job.id}:logs@${part1.next}`] });
  const part2 = await collect(c.ws, job.id, part1.next);
  assert.equal(part2.end, 'log_end');
  const rest = await node.log(repo.full, job.id);
  assert.equal(part1.text + part2.text, rest, 'the chunks are the log, once');
  assert.equal(Buffer.byteLength(rest), part2.next);
  assert.match(rest, /line 060/);
  // A finished job: subscribing from the middle gives the rest, then log_end.
  c.ws.send({ subscribe: [`job:${job.id}:logs@${part2.next - 20}`] });
  const tail = await collect(c.ws, job.id, part2.next - 20);
  assert.equal(tail.text, Buffer.from(rest).subarray(part2.next - 20).toString());
  c.ws.destroy();
});

test('permessage-deflate: big messages come deflated, and a deflated subscribe is understood', { skip: !HAVE_RUNNER }, async () => {
  const repo = await node.makeRepo('deflate', {
    '.guts/workflows/ci.yml': wf(['for i in $(seq 1 400); do echo "compressible line $i of the deflate test"; done']),
  });
  const run = await waitFor(async () => (await node.runs(repo.full))[0], 20000);
  const job = await waitFor(async () => (await node.jobs(repo.full, run.id)).find((j) => j.job_key === 'a'), 20000);
  await node.waitRun(repo.full, run.id);
  const ws = await wsConnect(node.url, { token: node.token, deflate: true });
  assert.ok(ws.deflate, 'the node agreed to permessage-deflate');
  assert.equal((await ws.next()).event, 'hello');
  ws.sendDeflated({ subscribe: [`job:${job.id}:logs@0`] });
  const got = await collect(ws, job.id, 0);
  assert.equal(got.end, 'log_end');
  assert.equal(got.text, await node.log(repo.full, job.id));
  assert.ok(ws.compressed >= 1, 'the log came deflated');
  assert.ok(ws.bytes < Buffer.byteLength(got.text) / 3, `${ws.bytes} bytes on the wire for ${got.text.length}`);
  // Garbage with RSV1: invalid payload, closed.
  ws.sendRaw(frame(0x1, Buffer.from([1, 2, 3, 4, 5]), { rsv1: true }));
  assert.equal((await ws.waitClose()).code, 1007);
  // Without the extension, RSV1 is a protocol error.
  const plain = await open();
  plain.ws.sendRaw(frame(0x1, Buffer.from('x'), { rsv1: true }));
  assert.equal((await plain.ws.waitClose()).code, 1002);
});

test('a slow consumer gets a resync with the offset to resume from', { skip: !HAVE_RUNNER }, async () => {
  // About 4 MB of log, written fast.
  const repo = await node.makeRepo('slow', {
    '.guts/workflows/ci.yml': wf(['head -c 3000000 /dev/zero | tr "\\\\0" x | fold -w 100']),
  });
  const run = await waitFor(async () => (await node.runs(repo.full))[0], 20000);
  const job = await waitFor(async () => (await node.jobs(repo.full, run.id)).find((j) => j.job_key === 'a'), 20000);
  const { ws } = await open();
  ws.send({ subscribe: [`job:${job.id}:logs@0`] });
  await ws.next((m) => m.event === 'subscribed');
  ws.sock.pause(); // stop reading: the node's queue fills
  await node.waitRun(repo.full, run.id, 90000);
  await sleep(2500);
  ws.sock.resume();
  const first = await collect(ws, job.id, 0);
  assert.equal(first.end, 'resync', 'the subscription was dropped with a resync');
  const rest = await node.log(repo.full, job.id);
  assert.ok(first.next < Buffer.byteLength(rest), 'dropped before the end');
  // Subscribe again from the resync's offset: the rest, exactly.
  ws.send({ subscribe: [`job:${job.id}:logs@${first.next}`] });
  const second = await collect(ws, job.id, first.next, { timeoutMs: 90000 });
  assert.equal(second.end, 'log_end');
  assert.equal(first.text.length + second.text.length, rest.length);
  assert.ok(first.text + second.text === rest, 'nothing missed, nothing twice');
  ws.destroy();
});

test('protocol: unmasked frames, oversized frames and messages, fragments, ping, close', async () => {
  // Unmasked client frame: protocol error.
  let { ws } = await open();
  ws.sendRaw(frame(0x1, '{"subscribe":[]}', { mask: false }));
  assert.equal((await ws.waitClose()).code, 1002);

  // One frame over 64 KiB: too big, refused from its header.
  ({ ws } = await open());
  ws.sendRaw(frame(0x1, Buffer.alloc(70000, 0x20)));
  assert.equal((await ws.waitClose()).code, 1009);

  // Fragments adding up to more than 64 KiB: too big as well.
  ({ ws } = await open());
  ws.sendRaw(frame(0x1, Buffer.alloc(40000, 0x20), { fin: false }));
  ws.sendRaw(frame(0x0, Buffer.alloc(40000, 0x20)));
  assert.equal((await ws.waitClose()).code, 1009);

  // A fragmented message that fits is reassembled; a ping in between is
  // answered.
  ({ ws } = await open());
  const msg = JSON.stringify({ subscribe: ['repo:admin/open'] });
  ws.sendRaw(frame(0x1, msg.slice(0, 10), { fin: false }));
  ws.ping('mid');
  ws.sendRaw(frame(0x0, msg.slice(10)));
  assert.deepEqual((await ws.next()).data.topics, ['repo:admin/open']);
  await waitFor(() => ws.pongs === 1, 5000, 'the pong');
  // Binary messages are not understood, politely.
  ws.sendRaw(frame(0x2, Buffer.from([1, 2, 3])));
  assert.equal((await ws.next()).data.code, 'bad_request');
  // A clean close is answered with a close.
  ws.close(1000);
  assert.equal((await ws.waitClose()).code, 1000);
  await waitFor(() => ws.ended, 5000, 'the socket to end');

  // The node still serves.
  assert.equal((await node.api('GET', '/api/health')).status, 200);
});
