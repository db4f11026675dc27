// "/{owner}/{repo}/actions/{workflow}": one workflow's runs, its badge and
// the Markdown to paste, and the "Run workflow" form built from its
// workflow_dispatch inputs.

import { h, link } from './dom.js';
import { get, post, repoPath } from './api.js';
import { liveRuns } from './runs.js';
import { live } from './live.js';
import { fileName } from './actions.js';

export async function render(ctx) {
  const { owner: o, repo: r, workflow: which } = ctx.params;
  const [repo, wf] = await Promise.all([
    get(repoPath(o, r)), get(`${repoPath(o, r)}/workflows/${encodeURIComponent(which)}`)]);
  if (!ctx.alive()) return;
  const file = fileName(wf.path);
  ctx.title(`${wf.name} · ${o}/${r}`);
  ctx.crumbs([{ text: o }, { text: r, href: `/${o}/${r}/actions` }, { text: 'Actions', href: `/${o}/${r}/actions` },
              { text: wf.name }]);

  const page = `/${o}/${r}/actions/${encodeURIComponent(file)}`;
  const badgePath = `${page}/badge.svg`;
  const img = h('img', { src: badgePath, alt: `${wf.name} status`, id: 'badge', height: 20 });
  const md = `[![${wf.name}](${location.origin}${badgePath})](${location.origin}${page})`;
  const mdBox = h('input', { id: 'badge-markdown', type: 'text', readonly: true, value: md,
                             'aria-label': 'Markdown for a README', class: 'mono grow' });
  const copied = h('span', { class: 'muted small', role: 'status' });
  const copy = h('button', { type: 'button', class: 'btn', id: 'copy-badge' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(md);
    } catch {
      // No clipboard API (an insecure origin): select it for Ctrl+C.
      mdBox.select();
      document.execCommand('copy');
    }
    copied.textContent = 'Copied';
    setTimeout(() => { copied.textContent = ''; }, 2000);
  });

  const head = h('section', { class: 'card' },
    h('div', { class: 'card-head' },
      h('h1', {}, wf.name),
      h('code', { class: 'muted' }, wf.path)),
    wf.valid ? null : h('div', { class: 'notice error' }, h('strong', {}, 'Invalid workflow'),
                        h('ul', {}, (wf.errors || []).map((e) => h('li', { class: 'mono' }, e)))),
    h('div', { class: 'badge-row' }, img,
      h('div', { class: 'copy-row' }, mdBox, copy, copied)));
  ctx.main.append(head);

  if (repo.permissions && repo.permissions.push) {
    ctx.main.append(dispatchForm(ctx, o, r, repo, wf));
  }

  const box = h('div', { class: 'runs' }, h('p', { class: 'muted' }, 'Loading runs…'));
  ctx.main.append(h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Runs')), box));

  // A finished run may change the badge: load it again (past the cache).
  let n = 0;
  const unsub = live.subscribe(() => `repo:${o}/${r}`, (msg) => {
    if (msg.event === 'workflow_run.completed' &&
        msg.data && msg.data.workflow_run && msg.data.workflow_run.workflow_id === wf.id) {
      img.src = `${badgePath}?v=${++n}`;
    }
  });
  ctx.onCleanup(unsub);
  const q = new URLSearchParams({ workflow: String(wf.id) });
  await liveRuns(ctx, box, o, r, q);
}

// One input of the form, typed by the workflow's declaration.
function inputField(inp) {
  const id = `input-${inp.name}`;
  const desc = inp.description ? h('span', { class: 'muted small' }, inp.description) : null;
  const req = inp.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null;
  const def = inp.default;
  const attrs = { id, name: inp.name, 'data-type': inp.type, required: inp.required && inp.type !== 'boolean' };
  let control;
  switch (inp.type) {
  case 'boolean':
    control = h('input', { ...attrs, type: 'checkbox', checked: def === true || def === 'true' });
    return h('div', { class: 'field check' }, control, h('label', { for: id }, inp.name, req), desc);
  case 'choice':
    control = h('select', attrs, (inp.options || []).map((v) =>
      h('option', { value: v, selected: String(def) === v }, v)));
    break;
  case 'number':
    control = h('input', { ...attrs, type: 'number', step: 'any', value: def === null || def === undefined ? '' : String(def) });
    break;
  default:
    control = h('input', { ...attrs, type: 'text', value: def === null || def === undefined ? '' : String(def) });
  }
  return h('div', { class: 'field' }, h('label', { for: id }, inp.name, req), control, desc);
}

function dispatchForm(ctx, o, r, repo, wf) {
  const inputs = wf.dispatch_inputs || [];
  const err = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary', id: 'dispatch-submit' }, 'Run workflow');
  const form = h('form', { class: 'dispatch', id: 'dispatch-form' },
    h('div', { class: 'field' }, h('label', { for: 'dispatch-ref' }, 'Branch or tag'),
      h('input', { id: 'dispatch-ref', name: 'ref', type: 'text', value: repo.default_branch, required: true })),
    inputs.map(inputField), err, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const body = { workflow: wf.path, ref: form.ref.value.trim(), inputs: {} };
    for (const inp of inputs) {
      const el = form.querySelector(`[id="input-${CSS.escape(inp.name)}"]`);
      if (inp.type === 'boolean') body.inputs[inp.name] = el.checked;
      else if (inp.type === 'number') {
        if (el.value === '') continue;
        body.inputs[inp.name] = Number(el.value);
      } else if (el.value !== '' || inp.required) body.inputs[inp.name] = el.value;
    }
    submit.disabled = true;
    try {
      const run = await post(`${repoPath(o, r)}/runs`, body);
      ctx.navigate(`/${o}/${r}/actions/runs/${run.id}`);
    } catch (e) {
      err.textContent = e.message;
      submit.disabled = false;
    }
  });
  const details = h('details', { class: 'card dispatch-card', id: 'run-workflow' },
    h('summary', { class: 'btn primary' }, 'Run workflow'),
    wf.triggers && wf.triggers.includes('workflow_dispatch') ? null
      : h('p', { class: 'muted small' }, 'This workflow has no workflow_dispatch trigger: it runs as a manual run.'),
    form);
  return details;
}
