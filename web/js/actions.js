// "/{owner}/{repo}/actions": the workflows and the recent runs, filtered by
// branch, status, event and workflow (the runs API's query parameters).

import { h, link } from './dom.js';
import { get, repoPath } from './api.js';
import { liveRuns } from './runs.js';

const STATUSES = ['', 'queued', 'in_progress', 'completed', 'success', 'failure', 'cancelled', 'skipped', 'timed_out'];
const EVENTS = ['', 'push', 'pull_request', 'workflow_dispatch', 'schedule', 'manual'];

export async function render(ctx) {
  const { owner: o, repo: r } = ctx.params;
  ctx.title(`Actions · ${o}/${r}`);
  ctx.crumbs([{ text: o }, { text: r, href: `/${o}/${r}/actions` }, { text: 'Actions' }]);
  const [repo, workflows] = await Promise.all([
    get(repoPath(o, r)), get(`${repoPath(o, r)}/workflows?per_page=100`)]);
  if (!ctx.alive()) return;

  const q = new URLSearchParams();
  for (const k of ['branch', 'status', 'event', 'workflow']) {
    const v = ctx.query.get(k);
    if (v) q.set(k, v);
  }

  const side = h('nav', { class: 'card side', 'aria-label': 'Workflows' },
    h('h2', {}, 'Workflows'),
    h('ul', { class: 'plain', id: 'workflow-list' },
      h('li', {}, link(`/${o}/${r}/actions`, 'All workflows')),
      workflows.map((w) => h('li', { 'data-workflow': w.path },
        link(`/${o}/${r}/actions/${encodeURIComponent(fileName(w.path))}`, w.name),
        w.valid ? null : h('span', { class: 'tag bad', title: (w.errors || []).join('\n') }, 'invalid')))));
  if (!workflows.length) side.append(h('p', { class: 'muted small' }, 'No workflows on ', repo.default_branch, '.'));

  const select = (name, label, values, names = {}) => h('label', { class: 'field' },
    h('span', {}, label),
    h('select', { name }, values.map((v) => h('option', { value: v, selected: q.get(name) === v || (!v && !q.get(name)) },
      v ? (names[v] || v) : 'any'))));
  const wfNames = Object.fromEntries(workflows.map((w) => [fileName(w.path), w.name]));
  const form = h('form', { class: 'filters', id: 'run-filters', role: 'search' },
    h('label', { class: 'field' }, h('span', {}, 'Branch'),
      h('input', { name: 'branch', type: 'text', value: q.get('branch') || '', placeholder: 'any', size: 12 })),
    select('status', 'Status', STATUSES),
    select('event', 'Event', EVENTS),
    select('workflow', 'Workflow', ['', ...Object.keys(wfNames)], wfNames),
    h('button', { type: 'submit', class: 'btn' }, 'Filter'));
  const apply = (ev) => {
    if (ev) ev.preventDefault();
    const nq = new URLSearchParams();
    for (const el of form.elements) if (el.name && el.value) nq.set(el.name, el.value.trim());
    const s = nq.toString();
    ctx.navigate(`/${o}/${r}/actions${s ? `?${s}` : ''}`, { replace: true });
  };
  form.addEventListener('submit', apply);
  form.addEventListener('change', (ev) => { if (ev.target.tagName === 'SELECT') apply(); });

  const box = h('div', { class: 'runs' }, h('p', { class: 'muted' }, 'Loading runs…'));
  ctx.main.append(h('div', { class: 'layout' }, side,
    h('section', { class: 'card grow' },
      h('div', { class: 'card-head' }, h('h1', {}, `${o}/${r}`), h('span', { class: 'muted' }, 'Runs')),
      form, box)));
  await liveRuns(ctx, box, o, r, q);
}

export function fileName(path) {
  return path.split('/').pop();
}
