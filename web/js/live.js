// One WebSocket to /api/ws for the whole page (docs/websocket.md): the
// token as the first message, subscriptions made again after a reconnect,
// with backoff when the socket drops.  Pages register listeners; each gets
// every message and keeps what concerns it.

import { getToken } from './api.js';

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;

class Live {
  constructor() {
    this.ws = null;
    this.open = false;
    this.delay = MIN_DELAY;
    this.timer = null;
    this.subs = new Map(); // id -> {topic: () => string, onMessage, onState}
    this.nextId = 1;
  }

  // Subscribe: topic() gives the topic string (asked again at each
  // reconnect, so a log subscription resumes from its offset).  Returns a
  // function that unsubscribes.
  subscribe(topic, onMessage, onState = () => {}) {
    const id = this.nextId++;
    const sub = { topic, onMessage, onState, sent: null };
    this.subs.set(id, sub);
    this.ensure();
    if (this.open) this.sendSub(sub);
    onState(this.open);
    return () => {
      this.subs.delete(id);
      if (this.open && sub.sent && ![...this.subs.values()].some((s) => s.sent === sub.sent)) {
        this.send({ unsubscribe: [sub.sent.replace(/@\d+$/, '')] });
      }
      if (!this.subs.size) this.close();
    };
  }

  // Subscribe again (a log subscription after a resync).
  resubscribe(topicString) {
    if (this.open) this.send({ subscribe: [topicString] });
  }

  get connected() {
    return this.open;
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  sendSub(sub) {
    sub.sent = sub.topic();
    this.send({ subscribe: [sub.sent] });
  }

  ensure() {
    if (this.ws || this.timer) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${proto}//${location.host}/api/ws`);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      const t = getToken();
      if (t && !this.refused) ws.send(JSON.stringify({ token: t }));
      this.open = true;
      this.delay = MIN_DELAY;
      for (const s of this.subs.values()) this.sendSub(s);
      for (const s of this.subs.values()) s.onState(true);
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      for (const s of [...this.subs.values()]) {
        try { s.onMessage(msg); } catch (e) { console.warn('live listener:', e); }
      }
    });
    ws.addEventListener('close', (ev) => {
      const was = this.open;
      // 1008: the token was refused; go on with public repositories
      // rather than be refused again at each reconnect.
      if (ev.code === 1008) this.refused = true;
      this.ws = null;
      this.open = false;
      if (was) for (const s of this.subs.values()) s.onState(false);
      if (this.subs.size) this.retry();
    });
    // 'error' is always followed by 'close', which retries.
  }

  retry() {
    if (this.timer) return;
    const d = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    // Jitter, so many tabs do not reconnect in step.
    this.timer = setTimeout(() => { this.timer = null; if (this.subs.size) this.ensure(); },
                            d * (0.75 + Math.random() / 2));
  }

  close() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      this.open = false;
      ws.close(1000);
    }
    this.delay = MIN_DELAY;
  }

  // After sign-in or sign-out: the socket's identity changes.
  restart() {
    this.refused = false;
    if (!this.ws && !this.timer) return;
    this.close();
    if (this.subs.size) this.ensure();
  }
}

export const live = new Live();
