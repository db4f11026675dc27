// A small WebSocket client for the tests, over node:net, that can also break
// the protocol on purpose (unmasked frames, oversized frames, raw bytes).
// Node 20 has no WebSocket client of its own.
//
//   const ws = await wsConnect(node.url, { token });
//   const hello = await ws.next();            // {"event":"hello",...}
//   ws.send({ subscribe: ['run:1'] });
//   const ev = await ws.next((m) => m.event === 'workflow_run.completed');
//   ws.close();
import net from 'node:net';
import crypto from 'node:crypto';
import zlib from 'node:zlib';

// RFC 6455's GUID; the test below also checks the RFC's own example.
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// One frame: fin, opcode, payload; masked unless { mask: false }.
export function frame(opcode, payload, { fin = true, mask = true, lengthOverride, rsv1 = false } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '');
  const len = lengthOverride ?? data.length;
  let head;
  if (len < 126) {
    head = Buffer.alloc(2);
    head[1] = len;
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (!mask) return Buffer.concat([head, data]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, key, body]);
}

export class WsClient {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.messages = []; // parsed JSON text messages not yet taken
    this.waiters = [];
    this.closed = null; // {code, reason} once a close frame arrived
    this.ended = false;
    this.pongs = 0;
    this.frag = null;
    this.bytes = 0;
    this.compressed = 0; // messages that came deflated (permessage-deflate)
    sock.on('data', (d) => { this.bytes += d.length; this.buf = Buffer.concat([this.buf, d]); this.parse(); });
    sock.on('close', () => { this.ended = true; this.notify(); });
    sock.on('error', () => { this.ended = true; this.notify(); });
  }

  parse() {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1] & 0x7f, off = 2;
      if (b[1] & 0x80) throw new Error('the server sent a masked frame');
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); off = 10; }
      if (b.length < off + len) return;
      const op = b[0] & 0x0f, fin = (b[0] & 0x80) !== 0, rsv1 = (b[0] & 0x40) !== 0;
      const payload = b.subarray(off, off + len);
      this.buf = b.subarray(off + len);
      if (op === 0x8) {
        this.closed = { code: len >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString() };
        if (!this.closeSent) { this.closeSent = true; this.sock.write(frame(0x8, payload.subarray(0, 2))); }
        this.notify();
      } else if (op === 0x9) {
        this.sock.write(frame(0xA, payload));
      } else if (op === 0xA) {
        this.pongs++;
        this.notify();
      } else {
        const part = Buffer.from(payload);
        if (op !== 0) this.fragRsv1 = rsv1;
        this.frag = op === 0 ? Buffer.concat([this.frag ?? Buffer.alloc(0), part]) : part;
        if (fin) {
          let data = this.frag;
          if (this.fragRsv1) {
            if (!this.deflate) throw new Error('a deflated message without permessage-deflate');
            data = zlib.inflateRawSync(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]),
              { finishFlush: zlib.constants.Z_SYNC_FLUSH });
            this.compressed++;
          }
          const text = data.toString('utf8');
          this.frag = null;
          this.messages.push(JSON.parse(text));
          this.notify();
        }
      }
    }
  }

  notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  changed(timeoutMs) {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  // The next message matching pred (others before it are dropped).
  async next(pred = () => true, timeoutMs = 15000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      while (this.messages.length) {
        const m = this.messages.shift();
        if (pred(m)) return m;
      }
      if (this.ended || this.closed) throw new Error(`connection closed (${JSON.stringify(this.closed)}) while waiting`);
      const left = until - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a WebSocket message');
      await this.changed(left);
    }
  }

  // Wait for the server's close frame (or the socket's end).
  async waitClose(timeoutMs = 10000) {
    const until = Date.now() + timeoutMs;
    while (!this.closed && !this.ended) {
      const left = until - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the close');
      await this.changed(left);
    }
    return this.closed;
  }

  send(obj) { this.sock.write(frame(0x1, JSON.stringify(obj))); }
  // A message deflated as permessage-deflate has it (RFC 7692 7.2.1).
  sendDeflated(obj) {
    const z = zlib.deflateRawSync(Buffer.from(JSON.stringify(obj)), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    this.sock.write(frame(0x1, z.subarray(0, z.length - 4), { rsv1: true }));
  }
  sendRaw(buf) { this.sock.write(buf); }
  ping(data = 'hi') { this.sock.write(frame(0x9, data)); }
  close(code = 1000) {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    this.closeSent = true;
    this.sock.write(frame(0x8, p));
  }
  destroy() { this.sock.destroy(); }
}

// Open a WebSocket to `${url}/api/ws`; token in the Authorization header.
export function wsConnect(url, { token, path = '/api/ws', headers = {}, deflate = false } = {}) {
  const u = new URL(url);
  const key = crypto.randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let head = Buffer.alloc(0);
    const onData = (d) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const text = head.subarray(0, end).toString();
      const rest = head.subarray(end + 4);
      const status = Number(text.split(' ')[1]);
      if (status !== 101) {
        sock.destroy();
        const err = new Error(`upgrade refused: ${text.split('\r\n')[0]}\n${rest}`);
        err.status = status;
        err.response = text + '\r\n\r\n' + rest;
        return reject(err);
      }
      const accept = /sec-websocket-accept:\s*(\S+)/i.exec(text)?.[1];
      const want = crypto.createHash('sha1').update(key + GUID).digest('base64');
      if (accept !== want) { sock.destroy(); return reject(new Error(`bad Sec-WebSocket-Accept ${accept}`)); }
      const ws = new WsClient(sock);
      ws.deflate = /sec-websocket-extensions:\s*permessage-deflate/i.test(text);
      if (rest.length) { ws.buf = Buffer.from(rest); ws.parse(); }
      resolve(ws);
    };
    sock.on('data', onData);
    sock.on('error', reject);
    sock.on('connect', () => {
      const h = {
        Host: u.host, Upgrade: 'websocket', Connection: 'Upgrade',
        'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13', ...headers,
      };
      if (token) h.Authorization = `Bearer ${token}`;
      if (deflate) h['Sec-WebSocket-Extensions'] = 'permessage-deflate; client_max_window_bits';
      sock.write(`GET ${path} HTTP/1.1\r\n` +
        Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n');
    });
  });
}
