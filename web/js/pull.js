// "/{owner}/{repo}/pulls/{n}": a pull request, its checks (the combined
// status of its head) and whether it can be merged.

import { h, link, statusIcon, statusPill, shortSha, timeEl } from './dom.js';
import { get, repoPath } from './api.js';

export async function render(ctx) {
  const { owner: o, repo: r, number: n } = ctx.params;
  const base = repoPath(o, r);
  const pr = await get(`${base}/pulls/${n}`);
  if (!ctx.alive()) return;
  ctx.title(`${pr.title} · #${pr.number}`);
  ctx.crumbs([{ text: o }, { text: r, href: `/${o}/${r}/actions` }, { text: `Pull request #${pr.number}` }]);
  const state = pr.merged ? 'merged' : pr.state;
  ctx.main.append(h('section', { class: 'card', id: 'pull' },
    h('div', { class: 'card-head' },
      h('h1', {}, pr.title, h('span', { class: 'muted' }, ` #${pr.number}`)),
      h('span', { class: `pill pr-${state}`, id: 'pull-state' }, state)),
    h('p', { class: 'muted' },
      (pr.user && pr.user.login) || 'someone', ' wants to merge ',
      h('code', {}, pr.head.ref), ' (', h('code', {}, shortSha(pr.head.sha)), ') into ',
      h('code', {}, pr.base.ref), ' · opened ', timeEl(pr.created_at)),
    pr.body ? h('div', { class: 'pr-body' }, pr.body) : null));

  const checks = h('section', { class: 'card', id: 'checks' }, h('div', { class: 'card-head' }, h('h2', {}, 'Checks')));
  ctx.main.append(checks);
  try {
    const st = await get(`${base}/commits/${pr.head.sha}/status`);
    if (!ctx.alive()) return;
    checks.querySelector('.card-head').append(statusPill(st.state));
    if (!st.statuses.length) checks.append(h('p', { class: 'empty' }, 'No checks reported for this commit yet.'));
    checks.append(h('ul', { class: 'rows' }, st.statuses.map((s) => h('li', { class: 'row check-row', 'data-context': s.context, 'data-state': s.state },
      statusIcon(s.state),
      h('div', { class: 'row-main' }, h('strong', {}, s.context),
        h('div', { class: 'muted small' }, s.description || '')),
      s.target_url && sameOrigin(s.target_url)
        ? link(new URL(s.target_url).pathname, 'Details')
        : s.target_url && /^https?:/.test(s.target_url) ? h('a', { href: s.target_url, rel: 'noopener noreferrer' }, 'Details') : null))));
  } catch (e) {
    checks.append(h('div', { class: 'notice error' }, e.message));
  }

  const open = pr.state === 'open' && !pr.merged;
  const blockers = pr.merge_blockers || [];
  ctx.main.append(h('section', { class: `card merge-box ${pr.can_merge ? 'ok' : 'blocked'}`, id: 'merge' },
    h('h2', {}, pr.merged ? 'Merged' : !open ? 'Closed' : pr.can_merge ? 'This pull request can be merged' : 'Merging is blocked'),
    pr.merged ? h('p', { class: 'muted' }, 'by ', (pr.merged_by && pr.merged_by.login) || '', ' ', timeEl(pr.merged_at),
                  ' as ', h('code', {}, shortSha(pr.merge_commit_sha))) : null,
    open && pr.mergeable === false ? h('p', {}, 'The branches conflict: ', (pr.conflicts || []).join(', ')) : null,
    open && blockers.length ? h('ul', { id: 'merge-blockers' }, blockers.map((b) => h('li', {}, typeof b === 'string' ? b : JSON.stringify(b)))) : null,
    open ? h('p', { class: 'muted small' }, 'Merge with ', h('code', {}, `guts pr merge ${pr.number}`), '.') : null));
}

function sameOrigin(u) {
  try { return new URL(u, location.href).origin === location.origin; } catch { return false; }
}
