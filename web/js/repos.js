// "/": the repositories the caller can read, each with its latest run.

import { h, link, statusIcon, stateOf, stateLabel, timeEl } from './dom.js';
import { get, repoPath } from './api.js';

export async function render(ctx) {
  ctx.title('Repositories');
  ctx.crumbs([{ text: 'Repositories' }]);
  const list = await get('/api/repos?per_page=100');
  if (!ctx.alive()) return;
  const section = h('section', { class: 'card' },
    h('div', { class: 'card-head' }, h('h1', {}, 'Repositories')));
  ctx.main.append(section);
  if (!list.length) {
    section.append(h('p', { class: 'empty' },
      'No repositories yet. Create one with ', h('code', {}, 'guts repo create NAME'),
      ' and push a workflow under ', h('code', {}, '.guts/workflows/'), '.'));
    return;
  }
  const ul = h('ul', { class: 'rows', id: 'repo-list' });
  section.append(ul);
  for (const repo of list) {
    const latest = h('span', { class: 'latest muted' }, 'no runs');
    ul.append(h('li', { class: 'row', 'data-repo': repo.full_name },
      h('div', { class: 'row-main' },
        link(`/${repo.owner}/${repo.name}/actions`, h('strong', {}, repo.full_name)),
        repo.visibility === 'private' ? h('span', { class: 'tag' }, 'private') : null),
      latest));
    // The latest run of each, without holding up the list.
    get(`${repoPath(repo.owner, repo.name)}/runs?per_page=1`).then((runs) => {
      if (!ctx.alive() || !runs.length) return;
      const r = runs[0];
      const st = stateOf(r);
      latest.replaceChildren(
        statusIcon(st), ' ',
        link(`/${repo.owner}/${repo.name}/actions/runs/${r.id}`,
             `${r.workflow_name} #${r.run_number}`),
        h('span', { class: 'muted' }, ` ${stateLabel(st).toLowerCase()} · `), timeEl(r.created_at));
      latest.classList.remove('muted');
    }).catch((e) => console.warn(e));
  }
}
