// The job graph of a run: one box per job_key (matrix legs share it, each a
// button), in columns by dependency depth, with SVG connectors from each
// need to its dependants.

import { h, svg, clear, statusIcon, stateOf, stateLabel, fmtDuration, duration } from './dom.js';

// [{key, jobs, needs}] in columns: [[group...], ...].
export function layout(jobs) {
  const groups = new Map();
  for (const j of jobs) {
    const key = j.job_key || j.name;
    if (!groups.has(key)) groups.set(key, { key, jobs: [], needs: new Set() });
    const g = groups.get(key);
    g.jobs.push(j);
    const needs = Array.isArray(j.needs) ? j.needs : Object.keys(j.needs || {});
    for (const n of needs) g.needs.add(n);
  }
  const depth = new Map();
  const visiting = new Set();
  const depthOf = (key) => {
    if (depth.has(key)) return depth.get(key);
    if (visiting.has(key)) return 0; // a cycle cannot be stored; be safe
    visiting.add(key);
    const g = groups.get(key);
    let d = 0;
    for (const n of g ? g.needs : []) if (groups.has(n)) d = Math.max(d, depthOf(n) + 1);
    visiting.delete(key);
    depth.set(key, d);
    return d;
  };
  const cols = [];
  for (const key of groups.keys()) {
    const d = depthOf(key);
    (cols[d] ||= []).push(groups.get(key));
  }
  return cols.filter(Boolean);
}

// The state of a group: the worst of its legs while any runs.
function groupState(g) {
  const states = g.jobs.map(stateOf);
  for (const s of ['failure', 'timed_out', 'in_progress', 'queued', 'waiting', 'cancelled']) {
    if (states.includes(s)) return s;
  }
  return states.every((s) => s === 'skipped') ? 'skipped' : states[0];
}

export class JobGraph {
  constructor(container, onSelect) {
    this.el = container;
    this.onSelect = onSelect;
    this.ro = new ResizeObserver(() => this.connect());
    this.ro.observe(container);
  }

  render(jobs, selectedId) {
    const cols = layout(jobs);
    const wrap = h('div', { class: 'graph-cols' });
    this.boxes = new Map();
    this.groups = [];
    for (const col of cols) {
      const c = h('div', { class: 'graph-col' });
      for (const g of col) {
        const st = groupState(g);
        const box = h('div', { class: `gnode st-border-${st}`, 'data-job-key': g.key, 'data-state': st },
          g.jobs.length > 1 ? h('div', { class: 'gnode-title' }, statusIcon(st), ' ', g.key,
                                 h('span', { class: 'muted small' }, ` ${g.jobs.length} jobs`)) : null,
          g.jobs.map((j) => {
            const js = stateOf(j);
            return h('button', {
              type: 'button', class: `gleg${j.id === selectedId ? ' selected' : ''}`,
              'data-job': j.id, 'data-state': js, 'aria-pressed': String(j.id === selectedId),
              title: `${j.name}: ${stateLabel(js)}`, onclick: () => this.onSelect(j.id),
            }, statusIcon(js), h('span', { class: 'gleg-name' }, j.name),
            h('span', { class: 'muted small' }, fmtDuration(duration(j.started_at, j.completed_at))));
          }));
        this.boxes.set(g.key, box);
        this.groups.push(g);
        c.append(box);
      }
      wrap.append(c);
    }
    this.svg = svg('svg', { class: 'graph-lines', 'aria-hidden': 'true' });
    clear(this.el).append(this.svg, wrap);
    this.connect();
  }

  // Draw the connectors once the boxes are laid out.
  connect() {
    if (!this.svg || !this.groups) return;
    const base = this.el.getBoundingClientRect();
    const w = this.el.scrollWidth, ht = this.el.scrollHeight;
    this.svg.setAttribute('width', w);
    this.svg.setAttribute('height', ht);
    this.svg.setAttribute('viewBox', `0 0 ${w} ${ht}`);
    clear(this.svg);
    const sx = this.el.scrollLeft, sy = this.el.scrollTop;
    for (const g of this.groups) {
      const to = this.boxes.get(g.key).getBoundingClientRect();
      for (const n of g.needs) {
        const fromBox = this.boxes.get(n);
        if (!fromBox) continue;
        const from = fromBox.getBoundingClientRect();
        const x1 = from.right - base.left + sx, y1 = from.top + from.height / 2 - base.top + sy;
        const x2 = to.left - base.left + sx, y2 = to.top + to.height / 2 - base.top + sy;
        const mx = (x1 + x2) / 2;
        this.svg.append(svg('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
                                      class: 'edge', 'data-from': n, 'data-to': g.key }));
      }
    }
  }

  destroy() {
    this.ro.disconnect();
  }
}
