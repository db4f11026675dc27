// The job log viewer.
//
// LogModel (pure, no DOM, tested under Node) holds the log: lines split
// across appends, executor markers turned into step sections and groups,
// fold state, the list of visible rows, search. LogView is the thin DOM
// part: a virtualized list that renders only the rows in view.
//
// Log format (docs/runner-protocol.md, "Log appends"): lines
// "TIMESTAMP SP TEXT LF"; see docs/log-viewer.md for the markers.

import { parseAnsi, scanAnsi, stripAnsi, segmentLook, lookNode } from './ansi.js';

// Line kinds.
export const TEXT = 0;
export const STEP = 1; // ##[step N] NAME
export const GROUP = 2; // ##[group]TITLE
export const ENDGROUP = 3; // ##[endgroup]
export const ERROR = 4;
export const WARNING = 5;
export const NOTICE = 6;
export const DEBUG = 7;
export const COMMAND = 8; // ##[command] (GitHub's; harmless to support)

const MARKERS = {
  group: GROUP, endgroup: ENDGROUP, error: ERROR, warning: WARNING,
  notice: NOTICE, debug: DEBUG, command: COMMAND,
};

const TS_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z /;
// Control characters: escapes, CR, C1 (U+0080-U+009F); TAB and LF are not.
const CTL_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const STEP_RE = /^##\[step (\d+)\] ?/;
const MARKER_RE = /^##\[(group|endgroup|error|warning|notice|debug|command)\]/;

// A row of the visible list is a line index (>= 0), or SETUP_ROW for the
// header of the setup section, which has no line of its own.
export const SETUP_ROW = -1;

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class LogModel {
  constructor() {
    this.clear();
  }

  clear() {
    this.lines = []; // {ts, kind, text, st, sec, grp, group?, plain?}
    this.partial = ''; // an incomplete last line, kept for the next append
    this.sections = []; // {number, name, header, start, end, errors, folded}
    this.steps = new Map(); // number -> step object from setSteps
    this.maxChars = 0; // the longest line's visible length (for width)
    this._ansi = null; // the ANSI state at the end of the last line
    this._group = null; // the innermost open group
    this._visible = [];
    this._dirty = false; // the visible list needs a rebuild
    this.version = 0; // bumped whenever the visible list changes
    this._searchRe = null;
    this.matchLine = []; // search matches: line index, start, end
    this.matchStart = [];
    this.matchEnd = [];
    this.current = -1; // the current match
  }

  get lineCount() {
    return this.lines.length;
  }

  /**
   * Add raw log text; a trailing partial line waits for the rest. Linear in
   * the text's size: each append only looks at the new text.
   */
  append(text) {
    if (!text) return 0;
    const before = this.lines.length;
    let nl = text.indexOf('\n');
    if (nl < 0) {
      this.partial += text;
      return 0;
    }
    this._addLine(this.partial + text.slice(0, nl));
    this.partial = '';
    let start = nl + 1;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      this._addLine(text.slice(start, nl));
      start = nl + 1;
    }
    this.partial = text.slice(start);
    return this.lines.length - before;
  }

  /** The log is complete: a partial last line becomes a line. */
  flush() {
    if (!this.partial) return 0;
    const p = this.partial;
    this.partial = '';
    this._addLine(p);
    return 1;
  }

  _addLine(raw) {
    const i = this.lines.length;
    let ts = '';
    let text = raw;
    if (TS_RE.test(raw)) {
      const sp = raw.indexOf(' ');
      ts = raw.slice(0, sp);
      text = raw.slice(sp + 1);
    }
    let kind = TEXT;
    let stepNo = 0;
    if (text.startsWith('##[')) {
      const s = STEP_RE.exec(text);
      const cur = this.sections.length ? this.sections[this.sections.length - 1].number : 0;
      // Steps only go up (skipped steps have no marker, so numbers may
      // jump); a step marker that does not is shown as text.
      if (s && Number(s[1]) > cur) {
        kind = STEP;
        stepNo = Number(s[1]);
        text = text.slice(s[0].length);
      } else if (!s) {
        const mk = MARKER_RE.exec(text);
        if (mk) {
          kind = MARKERS[mk[1]];
          text = kind === ENDGROUP ? '' : text.slice(mk[0].length);
        }
      }
    }
    // Only lines with control characters (escapes, CR, ...) need more
    // work; most lines have none.
    const ctl = CTL_RE.test(text);
    let st = this._ansi;
    if (ctl) {
      // Carriage returns: a terminal would show what the last one leaves
      // (progress bars); keep that, in the ANSI state the rest leaves.
      let cr = text.lastIndexOf('\r');
      if (cr >= 0 && cr === text.length - 1) cr = text.lastIndexOf('\r', cr - 1);
      if (cr >= 0) {
        st = scanAnsi(text.slice(0, cr), st).state;
        text = text.slice(cr + 1);
      }
    }

    if (kind === STEP) {
      // A new step: groups end, colours reset, the previous section's
      // default fold may change (it is no longer the running one).
      this._group = null;
      st = null;
      this.sections.push({ number: stepNo, name: text, header: i, start: i, end: i, errors: 0, folded: undefined });
      this._dirty = true;
    } else if (!this.sections.length) {
      this.sections.push({ number: 0, name: 'Set up job', header: -1, start: i, end: i, errors: 0, folded: undefined });
      this._visible.push(SETUP_ROW);
    }
    const secIndex = this.sections.length - 1;
    const sec = this.sections[secIndex];
    sec.end = i + 1;
    if (kind === ERROR) sec.errors++;

    // The ANSI state carries from line to line; only lines with escapes
    // can change it, so the others skip the scan.
    let length = text.length;
    if (ctl) {
      const r = scanAnsi(text, st);
      this._ansi = r.state;
      length = r.length;
    } else {
      this._ansi = st;
    }

    const line = { ts, kind, text, st, ctl, sec: secIndex, grp: this._group, plain: undefined };
    if (kind === GROUP) {
      line.group = { line: i, parent: this._group, end: -1, folded: true };
      this._group = line.group;
    } else if (kind === ENDGROUP && this._group) {
      this._group.end = i;
      this._group = this._group.parent;
    }
    this.lines.push(line);
    const tabs = text.includes('\t') ? text.split('\t').length - 1 : 0;
    if (length + tabs * 7 > this.maxChars) this.maxChars = length + tabs * 7;

    // The visible list grows in place unless it needs a rebuild anyway.
    if (!this._dirty && this._rowVisible(i)) {
      this._visible.push(i);
      this.version++;
    }
    if (this._searchRe) this._searchLine(i);
  }

  // ---- steps and folds ----------------------------------------------

  /** Step info from the API: [{number, name, status, conclusion, started_at, completed_at}]. */
  setSteps(steps) {
    this.steps = new Map();
    for (const s of steps || []) this.steps.set(Number(s.number), s);
    this._dirty = true;
  }

  /** The step info of section @s (from setSteps, or guessed from the log). */
  sectionInfo(s) {
    const sec = this.sections[s];
    const info = this.steps.get(sec.number);
    if (info) return { name: sec.name || info.name, status: info.status, conclusion: info.conclusion,
      started_at: info.started_at, completed_at: info.completed_at };
    // No info: a section followed by another one is done.
    const done = s < this.sections.length - 1;
    const out = { name: sec.name, status: done ? 'completed' : 'in_progress',
      conclusion: done ? (sec.errors ? 'failure' : 'success') : null,
      started_at: null, completed_at: null };
    // Times from the log's own timestamps where it has them.
    const first = this.lines[sec.start];
    if (first && first.ts) out.started_at = first.ts;
    if (done && this.lines[sec.end] && this.lines[sec.end].ts) out.completed_at = this.lines[sec.end].ts;
    return out;
  }

  /** Whether section @s is folded: the user's choice, else by status. */
  sectionFolded(s) {
    const sec = this.sections[s];
    if (sec.folded !== undefined) return sec.folded;
    // Called for every appended line: no allocation on this path.
    const info = this.steps.get(sec.number);
    if (!info) return s < this.sections.length - 1 && !sec.errors;
    if (info.status !== 'completed') return false;
    return info.conclusion === 'success' || info.conclusion === 'skipped';
  }

  setSectionFolded(s, folded) {
    this.sections[s].folded = folded;
    this._dirty = true;
  }

  toggleSection(s) {
    this.setSectionFolded(s, !this.sectionFolded(s));
  }

  /** The group whose header is line @i, or null. */
  groupAt(i) {
    return this.lines[i]?.group || null;
  }

  setGroupFolded(i, folded) {
    const g = this.groupAt(i);
    if (!g) return;
    g.folded = folded;
    this._dirty = true;
  }

  toggleGroup(i) {
    const g = this.groupAt(i);
    if (g) this.setGroupFolded(i, !g.folded);
  }

  /** How many groups line @i is inside (for indentation). */
  depth(i) {
    let d = 0;
    for (let g = this.lines[i].grp; g; g = g.parent) d++;
    return d;
  }

  // Whether line @i is a visible row given the current folds.
  _rowVisible(i) {
    const line = this.lines[i];
    if (line.kind === STEP) return true;
    if (line.kind === ENDGROUP || this.sectionFolded(line.sec)) return false;
    for (let g = line.grp; g; g = g.parent) if (g.folded) return false;
    return true;
  }

  /** The visible rows, in order: line indexes and SETUP_ROW. */
  get visible() {
    if (this._dirty) this._rebuild();
    return this._visible;
  }

  // O(lines in open sections); a folded section or group is skipped whole.
  _rebuild() {
    const rows = [];
    for (let s = 0; s < this.sections.length; s++) {
      const sec = this.sections[s];
      rows.push(sec.header >= 0 ? sec.header : SETUP_ROW);
      if (this.sectionFolded(s)) continue;
      for (let i = sec.header >= 0 ? sec.header + 1 : sec.start; i < sec.end; i++) {
        const line = this.lines[i];
        if (line.kind === ENDGROUP) continue;
        // Inside a folded group: jump past the outermost folded one.
        let skip = null;
        for (let g = line.grp; g; g = g.parent) if (g.folded) skip = g;
        if (skip) {
          i = skip.end >= 0 ? skip.end : sec.end;
          continue;
        }
        rows.push(i);
      }
    }
    this._visible = rows;
    this._dirty = false;
    this.version++;
  }

  /** Where line index @i (or SETUP_ROW) is in the visible list, or -1. */
  rowOf(i) {
    const rows = this.visible;
    let lo = 0;
    let hi = rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid] === i) return mid;
      if (rows[mid] < i) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * Open the section and groups holding line index @i and return its row.
   * An ##[endgroup] line (never shown) reveals its group's header.
   */
  reveal(i) {
    if (i < 0 || i >= this.lines.length) return -1;
    let line = this.lines[i];
    if (line.kind === ENDGROUP) {
      // The group it closes is line.grp; show its header instead.
      if (line.grp) i = line.grp.line;
      else {
        // A stray endgroup: the nearest line before it.
        while (i > 0 && this.lines[i].kind === ENDGROUP) i--;
      }
      line = this.lines[i];
    }
    if (line.kind !== STEP && this.sectionFolded(line.sec)) this.setSectionFolded(line.sec, false);
    for (let g = line.grp; g; g = g.parent) {
      if (g.folded) {
        g.folded = false;
        this._dirty = true;
      }
    }
    return this.rowOf(i);
  }

  // ---- text ---------------------------------------------------------

  /** The visible text of line @i (no markers, no escapes, no timestamp). */
  plain(i) {
    const line = this.lines[i];
    if (!line.ctl) return line.text;
    if (line.plain === undefined) line.plain = stripAnsi(line.text);
    return line.plain;
  }

  /** Styled segments of line @i (see ansi.js), in the state it starts in. */
  segments(i) {
    const line = this.lines[i];
    return parseAnsi(line.text, line.st).segments;
  }

  // ---- search -------------------------------------------------------

  /** Case-insensitive substring search; returns how many matches. */
  search(q) {
    this.matchLine = [];
    this.matchStart = [];
    this.matchEnd = [];
    this.current = -1;
    this._searchRe = q ? new RegExp(escapeRegExp(q), 'gi') : null;
    if (!this._searchRe) return 0;
    for (let i = 0; i < this.lines.length; i++) this._searchLine(i);
    if (this.matchLine.length) this.current = 0;
    return this.matchLine.length;
  }

  get query() {
    return this._searchRe ? this._searchRe.source : '';
  }

  get matchCount() {
    return this.matchLine.length;
  }

  _searchLine(i) {
    const kind = this.lines[i].kind;
    if (kind === ENDGROUP) return;
    const text = this.plain(i);
    const re = this._searchRe;
    re.lastIndex = 0;
    let m;
    while ((m = re.exec(text))) {
      this.matchLine.push(i);
      this.matchStart.push(m.index);
      this.matchEnd.push(m.index + m[0].length);
    }
    if (this.current < 0 && this.matchLine.length) this.current = 0;
  }

  /** Move to the next (+1) or previous (-1) match, wrapping; its index. */
  step(dir) {
    const n = this.matchLine.length;
    if (!n) return -1;
    this.current = ((this.current < 0 ? 0 : this.current + dir) % n + n) % n;
    return this.current;
  }

  /** The matches in line @i: [[start, end, isCurrent], ...]. */
  matchesIn(i) {
    const ml = this.matchLine;
    let lo = 0;
    let hi = ml.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ml[mid] < i) lo = mid + 1;
      else hi = mid;
    }
    const out = [];
    for (let k = lo; k < ml.length && ml[k] === i; k++) out.push([this.matchStart[k], this.matchEnd[k], k === this.current]);
    return out;
  }
}

// ---- the view ------------------------------------------------------------

// With their space, so that a copied line reads "Error: text".
const LABELS = { [ERROR]: 'Error: ', [WARNING]: 'Warning: ', [NOTICE]: 'Notice: ' };
const KIND_CLASS = {
  [ERROR]: 'lv-error', [WARNING]: 'lv-warning', [NOTICE]: 'lv-notice',
  [DEBUG]: 'lv-debug', [COMMAND]: 'lv-command',
};
const ICONS = {
  success: '\u2713', failure: '\u2717', cancelled: '\u2298', skipped: '\u2212',
  in_progress: '\u25cf', queued: '\u25cb', waiting: '\u25cb', neutral: '\u2713',
};

function parseTime(t) {
  if (!t) return NaN;
  return Date.parse(t);
}

/** "1h 2m", "3m 4s", "5s", "" (unknown). */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m`;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class LogView {
  /**
   * @container an element the view fills; @opts.lineHref(n) the permalink
   * of line n (1-based); @opts.lineHeight in px (default: measured).
   */
  constructor(container, opts = {}) {
    this.container = container;
    this.lineHref = opts.lineHref || ((n) => `#L${n}`);
    this.model = new LogModel();
    this._follow = true;
    this._selected = -1; // selected line index
    this._epoch = 0; // bumped when every rendered row must be rebuilt
    this._frame = 0;
    this._timer = 0;
    this._cache = new Map(); // row key -> element, for the rows on screen
    this._last = null; // what the last render drew

    container.classList.add('logview');
    this.scroller = el('div', 'lv-scroller');
    this.scroller.tabIndex = 0;
    // Not role=log: its implicit aria-live would read out every append.
    this.scroller.setAttribute('role', 'region');
    this.scroller.setAttribute('aria-label', 'Job log');
    this.spacer = el('div', 'lv-spacer');
    this.rows = el('div', 'lv-rows');
    this.spacer.appendChild(this.rows);
    this.scroller.appendChild(this.spacer);
    this.followButton = el('button', 'lv-follow', 'Jump to bottom');
    this.followButton.type = 'button';
    this.followButton.hidden = true;
    this.empty = el('div', 'lv-empty', 'No log output yet.');
    container.replaceChildren(this.scroller, this.followButton, this.empty);

    // One fixed row height keeps the virtualization exact.
    this.lineHeight = opts.lineHeight || this._measure() || 20;
    this.scroller.style.setProperty('--lv-line-height', `${this.lineHeight}px`);

    this._onScroll = () => {
      // Following is simply "at the bottom": a scroll up stops it, a
      // scroll back down starts it again.
      const f = this._atBottom();
      this._lastTop = this.scroller.scrollTop;
      if (f !== this._follow) {
        this._follow = f;
        this.followButton.hidden = f;
      }
      this._schedule();
    };
    this._onClick = (e) => this._click(e);
    this._onKey = (e) => {
      if ((e.key === 'Enter' || e.key === ' ') && e.target.closest?.('.lv-head')) {
        e.preventDefault();
        this._toggleRow(e.target.closest('.lv-head'));
      }
    };
    this._onFollow = () => { this.follow = true; };
    this._onResize = () => this._schedule();
    this.scroller.addEventListener('scroll', this._onScroll, { passive: true });
    this.rows.addEventListener('click', this._onClick);
    this.rows.addEventListener('keydown', this._onKey);
    this.followButton.addEventListener('click', this._onFollow);
    if (typeof ResizeObserver !== 'undefined') {
      this._ro = new ResizeObserver(this._onResize);
      this._ro.observe(this.scroller);
    }
    this._schedule();
  }

  _measure() {
    const probe = el('div', 'lv-row', 'X');
    this.rows.appendChild(probe);
    const h = probe.getBoundingClientRect().height;
    probe.remove();
    return Math.round(h);
  }

  get lineCount() {
    return this.model.lineCount;
  }

  get follow() {
    return this._follow;
  }

  set follow(on) {
    this._follow = !!on;
    this.followButton.hidden = this._follow;
    if (this._follow) this._schedule();
  }

  append(text) {
    this.model.append(text);
    this._schedule();
  }

  /** The log is complete: show a last line that had no line feed. */
  flush() {
    if (this.model.flush()) this._schedule();
  }

  setSteps(steps) {
    this.model.setSteps(steps);
    this._epoch++;
    // Running steps' durations tick.
    clearInterval(this._timer);
    this._timer = 0;
    if ((steps || []).some((s) => s.status === 'in_progress')) {
      this._timer = setInterval(() => this._tick(), 1000);
    }
    this._schedule();
  }

  setTimestamps(on) {
    this.container.classList.toggle('lv-show-ts', !!on);
  }

  search(q) {
    const n = this.model.search(q);
    this._epoch++;
    if (n) this._showMatch();
    else this._schedule();
    return n;
  }

  searchNext() {
    const k = this.model.step(1);
    if (k >= 0) this._showMatch();
    return k;
  }

  searchPrev() {
    const k = this.model.step(-1);
    if (k >= 0) this._showMatch();
    return k;
  }

  /** Matches of the current search, and which is current (0-based, -1 none). */
  get searchCount() {
    return this.model.matchCount;
  }

  get searchIndex() {
    return this.model.current;
  }

  _showMatch() {
    this._epoch++;
    this._reveal(this.model.matchLine[this.model.current]);
  }

  /** Open the folds holding line @n (1-based), scroll to it, select it. */
  scrollToLine(n) {
    if (!Number.isFinite(n) || this.model.lineCount === 0) return;
    const i = Math.max(0, Math.min(this.model.lineCount - 1, Math.floor(n) - 1));
    this._selected = i;
    this._epoch++;
    this._reveal(i);
  }

  // Open the folds holding line index @i and bring it into view: centred
  // when it was off screen, not moved when it is on screen (a click on a
  // line number changes the URL's hash, and the page may answer with
  // scrollToLine: the view must not jump).
  _reveal(i) {
    const row = this.model.reveal(i);
    this._follow = false;
    this.followButton.hidden = false;
    this._render(); // lays out the new visible list now
    if (row < 0) return;
    const h = this.lineHeight;
    const top = row * h;
    const view = this.scroller.clientHeight;
    const st = this.scroller.scrollTop;
    if (top < st || top + h > st + view) this.scroller.scrollTop = Math.max(0, top - (view - h) / 2);
    this._render();
  }

  clear() {
    this.model.clear();
    this._selected = -1;
    this._epoch++;
    this._cache.clear();
    this._last = null;
    this._follow = true;
    this.followButton.hidden = true;
    this._schedule();
  }

  destroy() {
    this._dead = true; // later calls are harmless no-ops for the DOM
    cancelAnimationFrame(this._frame);
    clearInterval(this._timer);
    this._ro?.disconnect();
    this.scroller.removeEventListener('scroll', this._onScroll);
    this.rows.removeEventListener('click', this._onClick);
    this.rows.removeEventListener('keydown', this._onKey);
    this.followButton.removeEventListener('click', this._onFollow);
    this.container.replaceChildren();
    this.container.classList.remove('logview', 'lv-show-ts');
    this._cache.clear();
  }

  _atBottom() {
    const s = this.scroller;
    return s.scrollTop + s.clientHeight >= s.scrollHeight - this.lineHeight;
  }

  _schedule() {
    if (!this._frame && !this._dead) this._frame = requestAnimationFrame(() => { this._frame = 0; this._render(); });
  }

  // ---- rendering ----------------------------------------------------

  _render() {
    const m = this.model;
    const h = this.lineHeight;
    const s = this.scroller;
    // Keep the first row on screen in place when the list above it
    // changes (a step finishing folds up while the user reads).
    // Moved up since the last render, and its scroll event not seen yet
    // (a script's scrollTop, say): that stops following too.
    if (this._follow && this._lastTop !== undefined && s.scrollTop < this._lastTop - 1 && !this._atBottom()) {
      this._follow = false;
      this.followButton.hidden = false;
    }
    const rebuild = m._dirty;
    let anchor = null;
    if (rebuild && !this._follow && this._last) {
      const first = Math.floor(s.scrollTop / h);
      const key = m._visible[first];
      if (key !== undefined) anchor = { key, off: s.scrollTop - first * h };
    }
    const rows = m.visible;
    // Section headers show statuses the rebuild may have changed.
    if (rebuild) this._epoch++;
    this.empty.hidden = rows.length > 0;
    this.spacer.style.height = `${rows.length * h}px`;
    this.spacer.style.setProperty('--lv-chars', String(m.maxChars));
    // Section headers are as wide as the panel (not the longest line).
    this.spacer.style.setProperty('--lv-view-width', `${s.clientWidth}px`);
    this.container.style.setProperty('--lv-digits', String(String(m.lineCount).length));
    if (anchor) {
      const r = m.rowOf(anchor.key);
      if (r >= 0) s.scrollTop = r * h + anchor.off;
    }
    if (this._follow) s.scrollTop = s.scrollHeight;
    this._lastTop = s.scrollTop;

    const margin = 30;
    const first = Math.max(0, Math.floor(s.scrollTop / h) - margin);
    const last = Math.min(rows.length, Math.ceil((s.scrollTop + s.clientHeight) / h) + margin);
    const key = `${first}:${last}:${m.version}:${this._epoch}`;
    if (this._last === key) return;
    const stale = !this._last || this._last.split(':')[3] !== String(this._epoch);
    this._last = key;

    const cache = new Map();
    const els = [];
    for (let r = first; r < last; r++) {
      const k = rows[r];
      let e = stale ? undefined : this._cache.get(k);
      if (!e) e = this._row(k);
      cache.set(k, e);
      els.push(e);
    }
    this._cache = cache;
    // Keep the keyboard focus on the row that had it (a toggled header).
    const focused = this.rows.contains(document.activeElement) ? document.activeElement.closest('.lv-row') : null;
    const focusKey = focused ? this._keyOf(focused) : undefined;
    this.rows.style.transform = `translateY(${first * h}px)`;
    this._place(els);
    if (focusKey !== undefined) cache.get(focusKey)?.focus({ preventScroll: true });
  }

  // Make @els the rows' children, touching only what changed: rows that
  // stay are not moved, so a text selection in them survives appends and
  // scrolling.
  _place(els) {
    const keep = new Set(els);
    for (const child of [...this.rows.children]) if (!keep.has(child)) child.remove();
    let ref = this.rows.firstChild;
    for (const e of els) {
      if (e === ref) ref = ref.nextSibling;
      else this.rows.insertBefore(e, ref);
    }
  }

  // One row's element. Everything from the log is set as text.
  _row(k) {
    const m = this.model;
    if (k === SETUP_ROW) return this._sectionRow(0, -1);
    const line = m.lines[k];
    if (line.kind === STEP) return this._sectionRow(line.sec, k);

    const row = el('div', 'lv-row lv-line');
    row.dataset.line = String(k);
    if (k === this._selected) row.classList.add('lv-selected');
    const depth = m.depth(k);
    if (depth) row.style.setProperty('--lv-depth', String(depth));
    const num = el('a', 'lv-num', String(k + 1));
    num.href = this.lineHref(k + 1);
    row.appendChild(num);
    row.appendChild(el('span', 'lv-ts', line.ts));
    const body = el('span', 'lv-text');
    if (line.kind === GROUP) {
      row.classList.add('lv-head', 'lv-group');
      row.tabIndex = 0;
      row.setAttribute('role', 'button');
      row.setAttribute('aria-expanded', String(!line.group.folded));
      body.appendChild(el('span', 'lv-twisty'));
    } else if (KIND_CLASS[line.kind]) {
      row.classList.add(KIND_CLASS[line.kind]);
      if (LABELS[line.kind]) body.appendChild(el('span', 'lv-label', LABELS[line.kind]));
    }
    this._styledText(body, m.segments(k), m.matchesIn(k));
    row.appendChild(body);
    return row;
  }

  // ANSI segments, cut where search matches begin and end (offsets in
  // the visible text), matches wrapped in <mark>.
  _styledText(parent, segments, matches) {
    let pos = 0;
    let mi = 0;
    for (const seg of segments) {
      const look = segmentLook(seg);
      const end = pos + seg.text.length;
      let at = pos;
      while (at < end) {
        while (mi < matches.length && matches[mi][1] <= at) mi++;
        const mt = matches[mi];
        if (mt && mt[0] <= at) {
          const stop = Math.min(end, mt[1]);
          const mark = el('mark', mt[2] ? 'lv-match lv-current' : 'lv-match');
          mark.appendChild(lookNode(seg.text.slice(at - pos, stop - pos), look));
          parent.appendChild(mark);
          at = stop;
        } else {
          const stop = mt ? Math.min(end, mt[0]) : end;
          parent.appendChild(lookNode(seg.text.slice(at - pos, stop - pos), look));
          at = stop;
        }
      }
      pos = end;
    }
  }

  _sectionRow(s, k) {
    const m = this.model;
    const sec = m.sections[s];
    const info = m.sectionInfo(s);
    const folded = m.sectionFolded(s);
    const row = el('div', 'lv-row lv-head lv-section');
    row.dataset.section = String(s);
    if (k >= 0) row.dataset.line = String(k);
    if (k >= 0 && k === this._selected) row.classList.add('lv-selected');
    row.tabIndex = 0;
    row.setAttribute('role', 'button');
    row.setAttribute('aria-expanded', String(!folded));
    const state = info.status === 'completed' ? (info.conclusion || 'neutral') : (info.status || 'in_progress');
    row.classList.add(`lv-status-${state}`);
    row.appendChild(el('span', 'lv-twisty'));
    const icon = el('span', 'lv-icon', ICONS[state] || '\u25cb');
    icon.title = state.replace('_', ' ');
    icon.setAttribute('aria-label', icon.title);
    row.appendChild(icon);
    if (sec.number) row.appendChild(el('span', 'lv-step-no', String(sec.number)));
    const name = el('span', 'lv-step-name');
    // The marker's name (styled, with search matches), else setSteps' one.
    if (k >= 0 && m.plain(k)) this._styledText(name, m.segments(k), m.matchesIn(k));
    else name.textContent = (k >= 0 ? this.model.steps.get(sec.number)?.name : sec.name) || '';
    row.appendChild(name);
    row.appendChild(el('span', 'lv-duration', this._duration(info)));
    return row;
  }

  // Running steps' durations, updated in place (rebuilding rows every
  // second would lose the user's text selection).
  _tick() {
    for (const row of this.rows.querySelectorAll('.lv-section.lv-status-in_progress')) {
      const d = row.querySelector('.lv-duration');
      if (d) d.textContent = this._duration(this.model.sectionInfo(Number(row.dataset.section)));
    }
  }

  _duration(info) {
    const t0 = parseTime(info.started_at);
    const t1 = info.completed_at ? parseTime(info.completed_at) : info.status === 'in_progress' ? Date.now() : NaN;
    return formatDuration(t1 - t0);
  }

  _keyOf(row) {
    if (row.dataset.line !== undefined) return Number(row.dataset.line);
    return row.dataset.section === '0' ? SETUP_ROW : undefined;
  }

  _toggleRow(row) {
    const m = this.model;
    if (row.dataset.section !== undefined) m.toggleSection(Number(row.dataset.section));
    else if (row.dataset.line !== undefined) m.toggleGroup(Number(row.dataset.line));
    this._epoch++;
    this._schedule();
  }

  _click(e) {
    const num = e.target.closest('.lv-num');
    if (num) {
      // The link navigates (its href is the permalink); the line is
      // selected here too.
      this._selected = Number(num.parentElement.dataset.line);
      this._epoch++;
      this._schedule();
      return;
    }
    const head = e.target.closest('.lv-head');
    if (head && !window.getSelection()?.toString()) this._toggleRow(head);
  }
}
