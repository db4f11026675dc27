// "/{owner}/{repo}/actions/runs/{id}": the run's header, job graph, jobs
// with their steps and log, annotations, job summaries and artifacts, with
// Cancel and Re-run.  Live over the WebSocket (run:ID, job:ID:logs@N); while
// the socket is down, it polls the REST API instead.

import { h, clear, link, statusIcon, statusPill, stateOf, stateLabel, fmtDuration, duration, shortSha, timeEl } from './dom.js';
import { get, post, getOptional, getLog, repoPath, ApiError } from './api.js';
import { live } from './live.js';
import { JobGraph, layout } from './graph.js';
import { LogView } from './logview.js';

const POLL_MS = 2000;

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export async function render(ctx) {
  const { owner: o, repo: r } = ctx.params;
  const runId = Number(ctx.params.run);
  const base = repoPath(o, r);
  const S = { run: null, jobs: [], selected: Number(ctx.query.get('job')) || 0, canWrite: false,
              summaries: new Map(), logFeed: null, pollTimer: null, dead: false,
              gen: 0, reloads: 0 };

  const [repo, run0] = await Promise.all([get(base), get(`${base}/runs/${runId}`)]);
  if (!ctx.alive()) return;
  S.run = run0;
  S.canWrite = !!(repo.permissions && repo.permissions.push);
  ctx.crumbs([{ text: o }, { text: r, href: `/${o}/${r}/actions` }, { text: 'Actions', href: `/${o}/${r}/actions` },
              { text: `Run ${runId}` }]);

  // ---- the page's skeleton ----
  const header = h('section', { class: 'card run-header', id: 'run-header' });
  const graphBox = h('div', { class: 'graph', id: 'job-graph' });
  const jobList = h('ul', { class: 'plain job-list', id: 'job-list' });
  const jobDetail = h('section', { class: 'card grow job-detail', id: 'job-detail' });
  const annBox = h('section', { class: 'card', id: 'annotations', hidden: true });
  const sumBox = h('section', { class: 'card', id: 'summaries', hidden: true });
  const artBox = h('section', { class: 'card', id: 'artifacts', hidden: true });
  ctx.main.append(header,
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Jobs')), graphBox),
    h('div', { class: 'layout' }, h('nav', { class: 'card side', 'aria-label': 'Jobs' }, h('h2', {}, 'Jobs'), jobList), jobDetail),
    annBox, sumBox, artBox);
  const graph = new JobGraph(graphBox, (id) => selectJob(id));
  // The running clock of an unfinished run.
  const ticker = setInterval(() => {
    if (S.run.status === 'completed') return;
    const el = header.querySelector('#run-duration');
    if (el) el.textContent = fmtDuration(duration(S.run.started_at, S.run.completed_at)) || '—';
    // Running jobs' durations, in the graph and the list, in place.
    for (const j of S.jobs) {
      if (j.status !== 'in_progress') continue;
      const d = fmtDuration(duration(j.started_at, j.completed_at));
      for (const s of ctx.main.querySelectorAll(`button[data-job="${j.id}"] > span.muted.small:last-child`)) s.textContent = d;
    }
  }, 1000);
  ctx.onCleanup(() => { S.dead = true; clearInterval(ticker); graph.destroy(); stopLog(); clearTimeout(S.pollTimer); });

  // ---- header ----
  function renderHeader() {
    const run = S.run;
    const st = stateOf(run);
    ctx.title(`${run.display_title || run.workflow_name} · ${o}/${r}`);
    const buttons = [];
    if (S.canWrite && run.status !== 'completed') {
      buttons.push(h('button', { type: 'button', class: 'btn danger', id: 'cancel-run', onclick: cancel }, 'Cancel run'));
    }
    if (S.canWrite && run.status === 'completed') {
      buttons.push(h('button', { type: 'button', class: 'btn', id: 'rerun-all', onclick: () => rerun(false) }, 'Re-run all jobs'));
      if (run.conclusion !== 'success') {
        buttons.push(h('button', { type: 'button', class: 'btn', id: 'rerun-failed', onclick: () => rerun(true) }, 'Re-run failed jobs'));
      }
    }
    const meta = (label, ...v) => h('div', { class: 'meta' }, h('dt', {}, label), h('dd', {}, ...v));
    header.replaceChildren(
      h('div', { class: 'card-head' },
        statusIcon(st),
        h('h1', {}, run.display_title || run.workflow_name),
        statusPill(st),
        h('div', { class: 'spacer' }),
        h('div', { class: 'actions', id: 'run-actions' }, buttons)),
      h('p', { class: 'muted' },
        link(`/${o}/${r}/actions/${encodeURIComponent(run.workflow_path.split('/').pop())}`, run.workflow_name),
        ` #${run.run_number}`),
      h('dl', { class: 'metas' },
        meta('Trigger', h('span', { id: 'run-event' }, run.event)),
        meta('Commit', h('code', { id: 'run-sha', title: run.head_sha || '' }, shortSha(run.head_sha))),
        run.head_branch ? meta('Branch', h('span', { id: 'run-branch' }, run.head_branch))
          : meta('Ref', h('span', {}, run.ref || '')),
        meta('Actor', h('span', { id: 'run-actor' }, run.actor || '—')),
        meta('Status', h('span', { id: 'run-status', 'data-state': st }, stateLabel(st))),
        meta('Duration', h('span', { id: 'run-duration' }, fmtDuration(duration(run.started_at, run.completed_at)) || '—')),
        meta('Attempt', h('span', { id: 'run-attempt' }, String(run.run_attempt))),
        meta('Started', timeEl(run.created_at))),
      h('div', { class: 'form-error', role: 'alert', id: 'run-error' }));
  }

  async function cancel(ev) {
    ev.currentTarget.disabled = true;
    try {
      await post(`${base}/runs/${runId}/cancel`);
      await reload();
    } catch (e) { showError(e); }
  }

  async function rerun(failedOnly) {
    for (const b of header.querySelectorAll('#run-actions button')) b.disabled = true;
    try {
      await post(`${base}/runs/${runId}/rerun`, failedOnly ? { failed_only: true } : {});
      S.selected = 0;
      await reload();
    } catch (e) { showError(e); renderHeader(); }
  }

  function showError(e) {
    const el = header.querySelector('#run-error');
    if (el) el.textContent = e.message;
  }

  // ---- jobs ----
  function renderJobs() {
    graph.render(S.jobs, S.selected);
    // The list in the graph's order: by depth, matrix legs together.
    const ordered = layout(S.jobs).flat().flatMap((g) => g.jobs);
    jobList.replaceChildren(...ordered.map((j) => {
      const st = stateOf(j);
      return h('li', {},
        h('button', { type: 'button', class: `job-btn${j.id === S.selected ? ' selected' : ''}`, 'data-job': j.id,
                      'data-state': st, 'aria-pressed': String(j.id === S.selected), onclick: () => selectJob(j.id) },
          statusIcon(st), h('span', { class: 'grow' }, j.name),
          h('span', { class: 'muted small' }, fmtDuration(duration(j.started_at, j.completed_at)))));
    }));
  }

  function upsertJob(job) {
    if (job.run_id !== runId || job.run_attempt !== S.run.run_attempt) return;
    const i = S.jobs.findIndex((j) => j.id === job.id);
    if (i >= 0 && S.jobs[i].status === 'completed' && job.status !== 'completed') return;
    if (i >= 0) S.jobs[i] = job;
    else S.jobs.push(job), S.jobs.sort((a, b) => a.id - b.id);
    renderJobs();
    if (job.id === S.selected) updateJobDetail(job);
    if (job.status === 'completed') loadSummary(job);
  }

  // ---- the selected job: steps and log ----
  let detail = null; // {job, steps, view, ...}

  function selectJob(id, { keepHash = false } = {}) {
    if (!S.jobs.some((j) => j.id === id)) return;
    const changed = S.selected !== id || !detail;
    S.selected = id;
    const url = new URL(location.href);
    url.searchParams.set('job', String(id));
    if (!keepHash) url.hash = '';
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    renderJobs();
    if (changed) openJob(S.jobs.find((j) => j.id === id));
  }

  function stopLog() {
    if (detail) {
      detail.stopped = true;
      if (detail.unsub) detail.unsub();
      if (detail.view) detail.view.destroy();
      detail = null;
    }
  }

  function stepsList(job) {
    return job.steps.map((s) => {
      const st = stateOf(s);
      return h('li', { class: 'step', 'data-step': s.number, 'data-state': st },
        h('button', { type: 'button', class: 'step-btn', title: 'Show this step in the log', onclick: () => showStep(s.number) },
          statusIcon(st), h('span', { class: 'grow' }, s.name || `Step ${s.number}`),
          h('span', { class: 'muted small' }, fmtDuration(duration(s.started_at, s.completed_at)))));
    });
  }

  // Open step @number's section in the log and bring it into view: its
  // first line (the marker is line `header + 1`, numbered from 1).
  function showStep(number) {
    const v = detail && detail.view;
    if (!v) return;
    const sec = v.model.sections.find((x) => x.number === number);
    if (!sec) return;
    const first = sec.header + 2 <= sec.end ? sec.header + 2 : sec.header + 1;
    v.scrollToLine(first);
  }

  // A completed job whose steps all start folded (none failed) shows its
  // last step with output open, rather than a list of headers.
  function openLastStep(v) {
    const m = v.model;
    if (m.sections.some((_, i) => !m.sectionFolded(i))) return;
    for (let i = m.sections.length - 1; i >= 0; i--) {
      const sec = m.sections[i];
      if (sec.end > sec.header + 1) {
        m.setSectionFolded(i, false);
        v.follow = true; // draws it, at the bottom
        return;
      }
    }
  }

  function updateJobDetail(job) {
    if (!detail) return;
    detail.job = job;
    const st = stateOf(job);
    detail.title.replaceChildren(statusIcon(st), ' ', job.name, ' ', statusPill(st));
    detail.info.textContent = [job.runner_name ? `runner ${job.runner_name}` : '', job.reason || '',
      fmtDuration(duration(job.started_at, job.completed_at))].filter(Boolean).join(' · ');
    detail.steps.replaceChildren(...stepsList(job));
    if (detail.view) detail.view.setSteps(job.steps);
    if (job.status === 'completed' && detail.mode === 'poll' && !detail.polling) pollLog();
  }

  async function openJob(job) {
    stopLog();
    const logsUrl = `${base}/jobs/${job.id}/logs`;
    const logEl = h('div', { class: 'log-container', id: 'log' });
    const search = h('input', { type: 'search', id: 'log-search', placeholder: 'Search log', 'aria-label': 'Search the log' });
    const count = h('span', { class: 'muted small', id: 'log-search-count', role: 'status' });
    const ts = h('input', { type: 'checkbox', id: 'log-timestamps' });
    const d = detail = {
      job, offset: 0, view: null, stopped: false, mode: null, polling: false, decoder: new TextDecoder(),
      title: h('h2', {}), info: h('p', { class: 'muted small' }), steps: h('ol', { class: 'plain steps', id: 'steps' }),
    };
    jobDetail.replaceChildren(
      h('div', { class: 'card-head' }, d.title),
      d.info,
      d.steps,
      h('div', { class: 'log-toolbar', role: 'toolbar', 'aria-label': 'Log' },
        h('label', { class: 'check' }, ts, ' Timestamps'),
        search,
        h('button', { type: 'button', class: 'btn small', 'aria-label': 'Previous match', onclick: () => d.view && d.view.searchPrev() }, '↑'),
        h('button', { type: 'button', class: 'btn small', 'aria-label': 'Next match', onclick: () => d.view && d.view.searchNext() }, '↓'),
        count,
        h('div', { class: 'spacer' }),
        h('a', { href: logsUrl, class: 'btn small', id: 'raw-log', target: '_blank', rel: 'noopener' }, 'Raw log')),
      logEl);
    d.view = new LogView(logEl, { lineHref: (n) => `#L${n}` });
    updateJobDetail(job);
    d.view.setSteps(job.steps);
    ts.addEventListener('change', () => d.view.setTimestamps(ts.checked));
    search.addEventListener('input', () => {
      const n = d.view.search(search.value);
      count.textContent = search.value ? `${n} match${n === 1 ? '' : 'es'}` : '';
    });
    search.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') { ev.preventDefault(); ev.shiftKey ? d.view.searchPrev() : d.view.searchNext(); }
    });
    if (job.status === 'completed') {
      await fetchLog(d, logsUrl);
      if (d.stopped) return;
      d.view.append(d.decoder.decode());
      d.view.flush();
      d.mode = 'done';
      if (/^#L\d+$/.test(location.hash)) scrollToHash();
      else openLastStep(d.view);
      return;
    }
    // Live: over the socket while it is up, by long-polls while it is not.
    d.unsub = live.subscribe(() => `job:${job.id}:logs@${d.offset}`, (msg) => {
      if (d.stopped || msg.job !== job.id) return;
      if (msg.event === 'log') feedText(d, msg.offset, msg.next, msg.data);
      else if (msg.event === 'resync' && typeof msg.offset === 'number') live.resubscribe(`job:${job.id}:logs@${d.offset}`);
      else if (msg.event === 'log_end') endLog(d);
    }, (up) => {
      if (d.stopped) return;
      d.mode = up ? 'ws' : 'poll';
      if (!up) pollLog();
    });
  }

  // The whole log is in: a last line without LF is shown, a permalink
  // opened.
  function endLog(d) {
    if (d.mode === 'done') return;
    d.mode = 'done';
    d.view.append(d.decoder.decode());
    d.view.flush();
    scrollToHash();
  }

  // The bytes [start, next) as text; what was shown already is skipped.
  function feedText(d, start, next, text) {
    if (start > d.offset || next <= d.offset) {
      if (start > d.offset) live.resubscribe(`job:${d.job.id}:logs@${d.offset}`);
      return;
    }
    if (start < d.offset) {
      const bytes = new TextEncoder().encode(text).subarray(d.offset - start);
      text = new TextDecoder().decode(bytes);
    }
    d.view.append(text);
    d.offset = next;
  }

  async function fetchLog(d, url) {
    for (;;) {
      const page = await getLog(url, d.offset);
      if (d.stopped) return;
      if (page.bytes) d.view.append(d.decoder.decode(new Uint8Array(page.buf), { stream: true }));
      d.offset += page.bytes;
      if (!page.bytes || d.offset >= page.size) break;
    }
  }

  async function pollLog() {
    const d = detail;
    if (!d || d.polling) return;
    d.polling = true;
    const url = `${base}/jobs/${d.job.id}/logs`;
    try {
      while (!d.stopped && d.mode === 'poll') {
        const page = await getLog(url, d.offset, 20);
        if (d.stopped || d.mode !== 'poll') break;
        if (page.bytes) d.view.append(d.decoder.decode(new Uint8Array(page.buf), { stream: true }));
        d.offset += page.bytes;
        if (page.complete && d.offset >= page.size) { endLog(d); break; }
      }
    } catch (e) {
      if (!d.stopped) console.warn('log poll:', e.message);
    } finally {
      d.polling = false;
    }
  }

  function scrollToHash() {
    const m = /^#L(\d+)$/.exec(location.hash);
    if (m && detail && detail.view) detail.view.scrollToLine(Number(m[1]));
  }
  const onHash = () => scrollToHash();
  window.addEventListener('hashchange', onHash);
  ctx.onCleanup(() => window.removeEventListener('hashchange', onHash));

  // ---- annotations, summaries, artifacts ----
  async function loadAnnotations() {
    const list = await getOptional(`${base}/runs/${runId}/annotations`).catch(() => null);
    if (S.dead) return;
    if (!list || !list.length) { annBox.hidden = true; return; }
    annBox.hidden = false;
    annBox.replaceChildren(h('div', { class: 'card-head' }, h('h2', {}, 'Annotations'),
                                 h('span', { class: 'muted' }, String(list.length))),
      h('ul', { class: 'rows annotations' }, list.map((a) => h('li', { class: `row ann ann-${a.level}`, 'data-level': a.level },
        h('span', { class: `ann-level ann-${a.level}` }, a.level),
        h('div', { class: 'row-main' },
          a.title ? h('strong', {}, a.title) : null,
          h('div', { class: 'ann-msg' }, a.message),
          h('div', { class: 'muted small' }, a.job_name || '',
            a.file ? ` · ${a.file}${a.line ? `:${a.line}` : ''}${a.col ? `:${a.col}` : ''}` : '')),
      ))));
  }

  async function loadSummary(job) {
    // Only a job that has one: a 404 would be an error in the console.
    if (!job.has_summary || S.summaries.has(job.id)) return;
    S.summaries.set(job.id, null);
    let s = null;
    try {
      s = await getOptional(`${base}/jobs/${job.id}/summary`);
    } catch (e) {
      if (!(e instanceof ApiError)) console.warn(e);
    }
    if (S.dead || !s || !s.html) return;
    S.summaries.set(job.id, s);
    // The one place HTML from the server goes into the page: the node
    // renders it from Markdown with unsafe HTML left out.
    const body = h('div', { class: 'markdown' });
    body.innerHTML = s.html;
    sumBox.hidden = false;
    if (!sumBox.firstChild) sumBox.append(h('div', { class: 'card-head' }, h('h2', {}, 'Summary')));
    sumBox.append(h('article', { class: 'summary', 'data-job': job.id }, h('h3', {}, job.name), body));
  }

  async function loadArtifacts() {
    const list = await getOptional(`${base}/runs/${runId}/artifacts`).catch(() => null);
    if (S.dead) return;
    if (!list || !list.length) { artBox.hidden = true; return; }
    artBox.hidden = false;
    artBox.replaceChildren(h('div', { class: 'card-head' }, h('h2', {}, 'Artifacts')),
      h('ul', { class: 'rows', id: 'artifact-list' }, list.map((a) => h('li', { class: 'row' },
        h('div', { class: 'row-main' },
          a.expired ? h('span', {}, a.name) : h('a', { href: `${base}/artifacts/${a.id}/zip`, download: `${a.name}.zip` }, a.name),
          h('div', { class: 'muted small' }, `${fmtBytes(a.size_bytes)} · ${a.files_count} file${a.files_count === 1 ? '' : 's'}`,
            a.expired ? ' · expired' : '')),
      ))));
  }

  // ---- loading and live updates ----
  // Only the latest reload's answers are used, and not when an event came
  // while they were on their way (they may be older than it): then once
  // more.
  async function reload() {
    const seq = ++S.reloads;
    const gen = S.gen;
    const [run, jobs] = await Promise.all([get(`${base}/runs/${runId}`), get(`${base}/runs/${runId}/jobs?per_page=100`)]);
    if (S.dead || seq !== S.reloads) return;
    if (gen !== S.gen) return reload();
    const attemptChanged = S.run && run.run_attempt !== S.run.run_attempt;
    S.run = run;
    S.jobs = jobs;
    if (attemptChanged) { sumBox.replaceChildren(); sumBox.hidden = true; S.summaries.clear(); }
    renderHeader();
    if (!S.jobs.some((j) => j.id === S.selected)) {
      S.selected = (S.jobs.find((j) => j.status === 'in_progress') || S.jobs.find((j) => j.conclusion === 'failure') || S.jobs[0] || {}).id || 0;
      if (detail) stopLog();
    }
    renderJobs();
    if (S.selected) {
      if (!detail || detail.job.id !== S.selected) selectJob(S.selected, { keepHash: true });
      else updateJobDetail(S.jobs.find((j) => j.id === S.selected));
    }
    for (const j of S.jobs) if (j.status === 'completed') loadSummary(j);
    if (run.status === 'completed') { loadAnnotations(); loadArtifacts(); }
    schedulePoll();
  }

  function schedulePoll() {
    clearTimeout(S.pollTimer);
    if (S.dead || live.connected || S.run.status === 'completed') return;
    S.pollTimer = setTimeout(() => reload().catch((e) => console.warn(e)), POLL_MS);
  }

  const unsub = live.subscribe(() => `run:${runId}`, (msg) => {
    const ev = msg.event || '';
    if (ev.startsWith('workflow_run.') || ev.startsWith('workflow_job.')) S.gen++;
    if (ev.startsWith('workflow_run.') && msg.data && msg.data.workflow_run && msg.data.workflow_run.id === runId) {
      const run = msg.data.workflow_run;
      if (run.run_attempt !== S.run.run_attempt) { reload(); return; }
      // An event older than what a reload showed does not undo it.
      if (S.run.status === 'completed' && run.status !== 'completed') return;
      S.run = run;
      renderHeader();
      if (run.status === 'completed') { loadAnnotations(); loadArtifacts(); }
    } else if (ev.startsWith('workflow_job.') && msg.data && msg.data.workflow_job) {
      const job = msg.data.workflow_job;
      if (job.run_id === runId && job.run_attempt > S.run.run_attempt) { reload(); return; }
      upsertJob(job);
    } else if (ev === 'resync' && msg.job === undefined) {
      reload();
    }
  }, (up) => { if (up) reload().catch((e) => console.warn(e)); else schedulePoll(); });
  ctx.onCleanup(unsub);

  renderHeader();
  await reload();
  loadAnnotations();
}
