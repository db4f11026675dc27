// The REST API, with the signed-in token (localStorage) as a Bearer token.

const KEY = 'guts.token';

export function getToken() {
  try { return localStorage.getItem(KEY) || ''; } catch { return ''; }
}

export function setToken(t) {
  try {
    if (t) localStorage.setItem(KEY, t);
    else localStorage.removeItem(KEY);
  } catch { /* storage disabled: the session keeps no token */ }
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

function headers(extra = {}) {
  const h = { Accept: 'application/json', ...extra };
  const t = getToken();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

// fetch with the token; throws ApiError for an answer that is not 2xx.
export async function request(method, path, body) {
  const init = { method, headers: headers() };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    let code = '', message = `${method} ${path}: HTTP ${res.status}`;
    try {
      const j = await res.json();
      if (j && j.error) { code = j.error.code; message = j.error.message || message; }
    } catch { /* not JSON */ }
    throw new ApiError(res.status, code, message);
  }
  return res;
}

export async function get(path) {
  return (await request('GET', path)).json();
}

export async function post(path, body) {
  const res = await request('POST', path, body === undefined ? {} : body);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// GET that answers null for 404 (an optional endpoint or object).
export async function getOptional(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

// A job's log from byte offset: {buf, bytes, size, complete}; the caller
// decodes (a page may end inside a UTF-8 sequence).
export async function getLog(path, offset = 0, wait = 0) {
  const q = new URLSearchParams();
  if (offset) q.set('offset', String(offset));
  if (wait) q.set('wait', String(wait));
  const res = await request('GET', q.toString() ? `${path}?${q}` : path);
  const buf = await res.arrayBuffer();
  return {
    buf,
    bytes: buf.byteLength,
    size: Number(res.headers.get('X-Guts-Log-Size') || 0),
    complete: res.headers.get('X-Guts-Log-Complete') === 'true',
  };
}

export const repoPath = (o, r) => `/api/repos/${encodeURIComponent(o)}/${encodeURIComponent(r)}`;
