// The list of runs shared by the actions and workflow pages, kept fresh
// from the repository's live events (or by polling while the socket is
// down and a run is unfinished).

import { h, link, clear, statusIcon, stateOf, stateLabel, timeEl, fmtDuration, duration, shortSha } from './dom.js';
import { get, repoPath } from './api.js';
import { live } from './live.js';

export function runRow(o, r, run) {
  const st = stateOf(run);
  const title = run.display_title || run.workflow_name;
  return h('li', { class: 'row run-row', 'data-run': run.id, 'data-state': st },
    statusIcon(st),
    h('div', { class: 'row-main' },
      link(`/${o}/${r}/actions/runs/${run.id}`, h('strong', {}, title)),
      h('div', { class: 'muted small' },
        `${run.workflow_name} #${run.run_number}`,
        run.run_attempt > 1 ? ` (attempt ${run.run_attempt})` : '',
        ` · ${run.event}`,
        run.head_branch ? ` · ${run.head_branch}` : '',
        ` · ${shortSha(run.head_sha)}`,
        run.actor ? ` · ${run.actor}` : '')),
    h('div', { class: 'row-side muted small' },
      h('span', { class: 'sr-only' }, stateLabel(st)),
      timeEl(run.created_at),
      run.started_at ? h('span', {}, ` · ${fmtDuration(duration(run.started_at, run.completed_at))}`) : ''));
}

// Fill @box with the runs of query @q (URLSearchParams), and keep it fresh.
export function liveRuns(ctx, box, o, r, q) {
  let timer = null, loading = false, again = false;
  async function load() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const qs = new URLSearchParams(q);
      qs.set('per_page', '30');
      const runs = await get(`${repoPath(o, r)}/runs?${qs}`);
      if (!ctx.alive()) return;
      clear(box);
      if (!runs.length) {
        box.append(h('p', { class: 'empty' }, 'No runs match.'));
      } else {
        box.append(h('ul', { class: 'rows', id: 'run-list' }, runs.map((run) => runRow(o, r, run))));
      }
      clearTimeout(timer);
      if (!live.connected && runs.some((x) => x.status !== 'completed')) {
        timer = setTimeout(load, 3000);
      }
    } catch (e) {
      if (ctx.alive()) box.replaceChildren(h('div', { class: 'notice error' }, e.message));
    } finally {
      loading = false;
      if (again && ctx.alive()) { again = false; load(); }
    }
  }
  let debounce = null;
  const unsub = live.subscribe(() => `repo:${o}/${r}`, (msg) => {
    if (!/^workflow_run\./.test(msg.event || '') && msg.event !== 'resync') return;
    clearTimeout(debounce);
    debounce = setTimeout(load, 250);
  }, (up) => { if (!up) { clearTimeout(timer); timer = setTimeout(load, 3000); } });
  ctx.onCleanup(() => { unsub(); clearTimeout(timer); clearTimeout(debounce); });
  return load();
}
