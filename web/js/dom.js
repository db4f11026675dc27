// DOM helpers.  Every string from the server goes in as text (textContent or
// a text node); nothing here parses HTML.

// h('a', {href, class, onclick}, child...): an element.  Children are nodes,
// strings (text), arrays, or null/false (skipped).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'checked' || k === 'value' || k === 'disabled' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// A link handled by the client-side router.
export function link(href, ...children) {
  return h('a', { href, 'data-link': true }, ...children);
}

// The state a run or job shows: its conclusion once completed.
export function stateOf(o) {
  if (!o) return 'unknown';
  if (o.status === 'completed') return o.conclusion || 'completed';
  return o.status || 'unknown';
}

const LABELS = {
  success: 'Success', failure: 'Failure', cancelled: 'Cancelled', skipped: 'Skipped',
  timed_out: 'Timed out', in_progress: 'In progress', queued: 'Queued',
  waiting: 'Waiting', completed: 'Completed', pending: 'Pending', error: 'Error',
  neutral: 'Neutral', unknown: 'Unknown',
};

export function stateLabel(s) {
  return LABELS[s] || s;
}

// A small coloured status mark with an accessible name.
export function statusIcon(state) {
  return h('span', { class: `st st-${state}`, role: 'img', 'aria-label': stateLabel(state),
                     title: stateLabel(state) });
}

export function statusPill(state) {
  return h('span', { class: `pill st-${state}`, 'data-state': state }, stateLabel(state));
}

// "1m 5s" from seconds.
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || !isFinite(sec) || sec < 0) return '';
  sec = Math.round(sec);
  if (sec < 60) return `${sec}s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m}m ${sec % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

// Seconds between two RFC 3339 times; an unfinished span runs to now.
export function duration(start, end) {
  if (!start) return null;
  const t0 = Date.parse(start);
  const t1 = end ? Date.parse(end) : Date.now();
  return (t1 - t0) / 1000;
}

export function ago(t) {
  if (!t) return '';
  const s = (Date.now() - Date.parse(t)) / 1000;
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleDateString();
}

export function timeEl(t) {
  if (!t) return '';
  return h('time', { datetime: t, title: new Date(t).toLocaleString() }, ago(t));
}

export function shortSha(sha) {
  return sha ? sha.slice(0, 7) : '';
}

export function errorBox(e) {
  return h('div', { class: 'notice error', role: 'alert' }, e && e.message ? e.message : String(e));
}
