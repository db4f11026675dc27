// The single-page app: client-side routing on location.pathname, the
// sign-in form, and the page modules (repos, actions, workflow, run, pull).

import { h, clear, link, errorBox } from './dom.js';
import { get, getToken, setToken, ApiError } from './api.js';
import { live } from './live.js';
import * as repos from './repos.js';
import * as actions from './actions.js';
import * as workflow from './workflow.js';
import * as run from './run.js';
import * as pull from './pull.js';

const seg = '([^/]+)';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const routes = [
  { re: /^\/$/, page: repos, keys: [] },
  { re: new RegExp(`^/${seg}/${seg}/actions/?$`), page: actions, keys: ['owner', 'repo'] },
  { re: new RegExp(`^/${seg}/${seg}/actions/runs/(\\d+)$`), page: run, keys: ['owner', 'repo', 'run'] },
  { re: new RegExp(`^/${seg}/${seg}/actions/${seg}$`), page: workflow, keys: ['owner', 'repo', 'workflow'] },
  { re: new RegExp(`^/${seg}/${seg}/pulls/(\\d+)$`), page: pull, keys: ['owner', 'repo', 'number'] },
];

const state = { user: null, cleanups: [], seq: 0 };

function notFound(ctx) {
  ctx.title('Not found');
  ctx.main.append(h('section', { class: 'card empty' },
    h('h1', {}, 'Page not found'),
    h('p', {}, 'Nothing lives at ', h('code', {}, location.pathname), '. '),
    link('/', 'All repositories')));
}

function setCrumbs(parts) {
  const nav = clear(document.getElementById('crumbs'));
  parts.forEach((p, i) => {
    if (i) nav.append(h('span', { class: 'sep', 'aria-hidden': 'true' }, '/'));
    nav.append(p.href ? link(p.href, p.text) : h('span', {}, p.text));
  });
}

export async function route() {
  for (const fn of state.cleanups.splice(0)) {
    try { fn(); } catch (e) { console.warn(e); }
  }
  const seq = ++state.seq;
  const main = clear(document.getElementById('main'));
  const path = location.pathname;
  let match = null, page = null;
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      try {
        match = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
      } catch {
        break; // a malformed %-escape
      }
      // Owners and repositories are names (docs/api.md), so the links
      // built from them stay on this site.
      if ((match.owner && !NAME.test(match.owner)) || (match.repo && !NAME.test(match.repo))) {
        match = null;
        break;
      }
      page = r.page;
      break;
    }
  }
  const ctx = {
    main,
    params: match || {},
    query: new URLSearchParams(location.search),
    user: state.user,
    navigate,
    // Still the page shown? (An async load that finishes late must not
    // draw over the next page.)
    alive: () => seq === state.seq,
    onCleanup: (fn) => state.cleanups.push(fn),
    crumbs: setCrumbs,
    title: (t) => { document.title = t ? `${t} · Guts CI` : 'Guts CI'; },
  };
  setCrumbs([]);
  try {
    if (page) await page.render(ctx);
    else notFound(ctx);
  } catch (e) {
    if (!ctx.alive()) return;
    console.warn(e);
    main.append(errorBox(e));
  }
}

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  route();
  if (!replace) window.scrollTo(0, 0);
}

// In-app links: same origin, a page path, no modifier keys.
document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  // In-app links, and links to a place on this page (a log line's number,
  // #L12): the latter without a native fragment navigation, whose popstate
  // would render the page again.
  const a = ev.target.closest('a[data-link], a[href^="#"]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  ev.preventDefault();
  if (url.pathname === location.pathname && url.search === location.search && url.hash) {
    history.pushState(null, '', url.href);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return;
  }
  navigate(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => route());

// ---- sign-in ----

function renderAuth() {
  const box = clear(document.getElementById('auth'));
  if (state.user) {
    box.append(
      h('span', { class: 'user', title: `scope: ${state.user.scope}` }, state.user.name),
      h('button', { type: 'button', class: 'btn small', id: 'sign-out', onclick: signOut }, 'Sign out'));
    return;
  }
  const form = h('form', { class: 'signin', id: 'signin-form', hidden: true, onsubmit: signIn },
    h('label', { for: 'signin-token' }, 'Token'),
    h('input', { id: 'signin-token', name: 'token', type: 'password', autocomplete: 'off',
                 required: true, placeholder: 'gut_…' }),
    h('button', { type: 'submit', class: 'btn small primary' }, 'Sign in'),
    h('span', { class: 'signin-error', role: 'alert', id: 'signin-error' }));
  const open = h('button', { type: 'button', class: 'btn small', id: 'sign-in',
                             'aria-expanded': 'false', 'aria-controls': 'signin-form' }, 'Sign in');
  open.addEventListener('click', () => {
    form.hidden = !form.hidden;
    open.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) form.querySelector('input').focus();
  });
  box.append(open, form);
}

async function signIn(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const token = form.token.value.trim();
  const err = form.querySelector('.signin-error');
  err.textContent = '';
  setToken(token);
  try {
    state.user = await get('/api/user');
  } catch (e) {
    setToken('');
    err.textContent = e instanceof ApiError && e.status === 401 ? 'That token is not valid.' : e.message;
    return;
  }
  renderAuth();
  live.restart();
  route();
}

function signOut() {
  setToken('');
  state.user = null;
  renderAuth();
  live.restart();
  route();
}

async function start() {
  if (getToken()) {
    try {
      state.user = await get('/api/user');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setToken('');
      state.user = null;
    }
  }
  renderAuth();
  route();
}

start();
