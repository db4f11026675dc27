// ANSI escape sequences in log text -> styled segments / spans.
//
// parseAnsi() is pure (no DOM) so that it runs under Node's test runner;
// ansiToSpans() turns its segments into DOM nodes when a document exists.
//
// Only SGR ("ESC [ ... m") changes how text looks. Every other escape
// sequence (cursor moves, erase, OSC titles and hyperlinks, DCS, ...) and
// every other control character except TAB is dropped, never shown raw.
//
// A state is null (everything off) or a frozen object
//   {fg, bg, bold, dim, italic, underline, inverse, strike}
// where fg/bg are null (default), a palette index 0..15 (themed by CSS
// classes) or an "rgb(r, g, b)" string (256-colour cube/greys, truecolor).
// States are never mutated: a line whose text leaves the state unchanged
// returns the very object it was given, so callers can share them.

const ESC = 0x1b;

const EMPTY = Object.freeze({
  fg: null, bg: null, bold: false, dim: false, italic: false,
  underline: false, inverse: false, strike: false,
});

const ATTRS = ['fg', 'bg', 'bold', 'dim', 'italic', 'underline', 'inverse', 'strike'];

function sameState(a, b) {
  for (const k of ATTRS) if (a[k] !== b[k]) return false;
  return true;
}

function isEmpty(s) {
  return sameState(s, EMPTY);
}

// The xterm 256-colour palette above the first 16: a 6x6x6 cube then 24 greys.
const CUBE = [0, 95, 135, 175, 215, 255];
export function color256(n) {
  if (n < 16) return n;
  if (n < 232) {
    n -= 16;
    return `rgb(${CUBE[Math.floor(n / 36)]}, ${CUBE[Math.floor(n / 6) % 6]}, ${CUBE[n % 6]})`;
  }
  const g = 8 + 10 * (n - 232);
  return `rgb(${g}, ${g}, ${g})`;
}

const byte = (v) => Math.max(0, Math.min(255, v | 0));

// "38;5;n" / "38;2;r;g;b" (also the colon forms "38:5:n", "38:2::r:g:b",
// "38:2:r:g:b"). @params is a list of groups; a group is [value, ...subs].
// Returns [colour or undefined, how many groups were used].
function extendedColor(params, i) {
  const g = params[i];
  if (g.length > 1) {
    // Colon form: everything is in this one group.
    if (g[1] === 5 && g.length >= 3) return [color256(byte(g[2])), 1];
    if (g[1] === 2) {
      const rgb = g.length >= 6 ? g.slice(3, 6) : g.slice(2, 5);
      if (rgb.length === 3) return [`rgb(${byte(rgb[0])}, ${byte(rgb[1])}, ${byte(rgb[2])})`, 1];
    }
    return [undefined, 1];
  }
  const mode = params[i + 1]?.[0];
  if (mode === 5) {
    const n = params[i + 2]?.[0];
    return [n === undefined ? undefined : color256(byte(n)), 3];
  }
  if (mode === 2) {
    if (i + 4 >= params.length) return [undefined, params.length - i];
    const [r, gg, b] = [params[i + 2][0], params[i + 3][0], params[i + 4][0]];
    return [`rgb(${byte(r)}, ${byte(gg)}, ${byte(b)})`, 5];
  }
  return [undefined, 2];
}

// "1;38:2::1:2:3" -> [[1], [38, 2, 0, 1, 2, 3]]; empty values are 0. By
// hand rather than split(): this runs for every colour change in a log.
function sgrParams(text) {
  const out = [];
  let grp = [];
  let num = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3b || c === 0x3a) { // ; :
      grp.push(num);
      num = 0;
      if (c === 0x3b) {
        out.push(grp);
        grp = [];
      }
    } else {
      num = Math.min(num * 10 + (c - 0x30), 1e6);
    }
  }
  grp.push(num);
  out.push(grp);
  return out;
}

// Apply one SGR parameter string ("1;31", "", "38;5;208", "4:3") to @s
// (a mutable copy).
function applySgr(s, paramText) {
  const params = sgrParams(paramText);
  for (let i = 0; i < params.length; i++) {
    const p = params[i][0];
    if (p === 0) Object.assign(s, EMPTY);
    else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = params[i].length < 2 || params[i][1] !== 0;
    else if (p === 7) s.inverse = true;
    else if (p === 9) s.strike = true;
    else if (p === 21) s.underline = true; // double underline, shown as one
    else if (p === 22) s.bold = s.dim = false;
    else if (p === 23) s.italic = false;
    else if (p === 24) s.underline = false;
    else if (p === 27) s.inverse = false;
    else if (p === 29) s.strike = false;
    else if (p >= 30 && p <= 37) s.fg = p - 30;
    else if (p >= 90 && p <= 97) s.fg = p - 90 + 8;
    else if (p >= 40 && p <= 47) s.bg = p - 40;
    else if (p >= 100 && p <= 107) s.bg = p - 100 + 8;
    else if (p === 39) s.fg = null;
    else if (p === 49) s.bg = null;
    else if (p === 38 || p === 48) {
      const [c, used] = extendedColor(params, i);
      if (c !== undefined) s[p === 38 ? 'fg' : 'bg'] = c;
      i += used - 1;
    }
    // Anything else (blink, fonts, overline, ...) is ignored.
  }
}

// Where a control string (OSC, DCS, SOS, PM, APC) that starts at @i ends:
// after BEL, ESC \ or C1 ST; the end of the text if unterminated.
function skipString(text, i) {
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x07 || c === 0x9c) return i + 1;
    if (c === ESC && text.charCodeAt(i + 1) === 0x5c) return i + 2;
  }
  return i;
}

// Where a CSI sequence whose parameters start at @i ends, and its
// parameter text when it is a plain SGR ("ESC [ params m"), else null.
function scanCsi(text, i) {
  const start = i;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c >= 0x40 && c <= 0x7e) {
      const params = text.slice(start, i);
      // Private ("?", "<", "=", ">") or with intermediates: not colours.
      const sgr = c === 0x6d && /^[0-9;:]*$/.test(params) ? params : null;
      return [i + 1, sgr];
    }
    if (c < 0x20 || c > 0x3f) {
      // Not a parameter/intermediate byte: a broken sequence. It ends
      // here; this character is text again (C0 controls get dropped).
      return [i, null];
    }
    i++;
  }
  return [i, null]; // unterminated: dropped to the end of the text
}

// The core: walks @text, calls @onText(text, state) for each run of
// visible text (if given), returns the state at the end and the visible
// length.
function walk(text, state, onText) {
  const cur = { ...(state || EMPTY) };
  let frozen = state || EMPTY; // the object handed out for cur
  let dirty = false;
  let run = 0; // start of the current text run
  let length = 0;
  const flush = (end) => {
    if (end > run) {
      if (dirty) {
        frozen = sameState(cur, frozen) ? frozen : Object.freeze({ ...cur });
        dirty = false;
      }
      if (onText) onText(text.slice(run, end), frozen);
      length += end - run;
    }
  };
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    // Fast path: printable text (and TAB).
    if ((c >= 0x20 && c !== 0x7f && (c < 0x80 || c > 0x9f)) || c === 0x09) {
      i++;
      continue;
    }
    flush(i);
    let next = i + 1;
    if (c === ESC) {
      const d = text.charCodeAt(i + 1);
      if (d === 0x5b) { // [
        const [end, sgr] = scanCsi(text, i + 2);
        next = end;
        if (sgr !== null) {
          applySgr(cur, sgr);
          dirty = true;
        }
      } else if (d === 0x5d || d === 0x50 || d === 0x58 || d === 0x5e || d === 0x5f) {
        next = skipString(text, i + 2); // OSC, DCS, SOS, PM, APC
      } else if (!Number.isNaN(d)) {
        // ESC, intermediates (0x20-0x2f), one final byte (e.g. "ESC ( B").
        next = i + 1;
        while (next < text.length && text.charCodeAt(next) >= 0x20 && text.charCodeAt(next) <= 0x2f) next++;
        if (next < text.length && text.charCodeAt(next) >= 0x30 && text.charCodeAt(next) <= 0x7e) next++;
      }
    } else if (c === 0x9b) { // C1 CSI
      const [end, sgr] = scanCsi(text, i + 1);
      next = end;
      if (sgr !== null) {
        applySgr(cur, sgr);
        dirty = true;
      }
    } else if (c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) {
      next = skipString(text, i + 1);
    }
    // Any other control character: dropped.
    i = next;
    run = i;
  }
  flush(text.length);
  if (dirty) frozen = sameState(cur, frozen) ? frozen : Object.freeze({ ...cur });
  return { state: frozen === EMPTY || isEmpty(frozen) ? null : frozen, length };
}

/**
 * Parse @text (one line, or any text) starting in @state.
 * Returns {segments: [{text, fg, bg, bold, italic, underline, dim,
 * inverse, strike}], state}; segments' texts joined are the visible text.
 */
export function parseAnsi(text, state = null) {
  const segments = [];
  const r = walk(text, state, (t, s) => {
    const last = segments[segments.length - 1];
    // Adjacent runs with the same look (e.g. split by a dropped sequence)
    // become one segment.
    if (last && sameState(last, s)) last.text += t;
    else segments.push({ text: t, ...s });
  });
  return { segments, state: r.state };
}

/** The state after @text and its visible length, without building segments. */
export function scanAnsi(text, state = null) {
  return walk(text, state, null);
}

/** @text without escape sequences and control characters. */
export function stripAnsi(text) {
  let out = '';
  walk(text, null, (t) => { out += t; });
  return out;
}

/**
 * How a segment looks: {classes: [...], style: "..."}. The 16 palette
 * colours are classes (ansi-fg-N, ansi-bg-N) so CSS themes them; 256-colour
 * and truecolor are inline rgb() styles. Inverse swaps the two, with
 * ansi-fg-inv / ansi-bg-inv for "the default background/foreground".
 */
export function segmentLook(seg) {
  const classes = [];
  let style = '';
  let fg = seg.fg;
  let bg = seg.bg;
  if (seg.inverse) {
    [fg, bg] = [bg, fg];
    if (fg === null) classes.push('ansi-fg-inv');
    if (bg === null) classes.push('ansi-bg-inv');
  }
  if (typeof fg === 'number') classes.push(`ansi-fg-${fg}`);
  else if (fg) style += `color: ${fg};`;
  if (typeof bg === 'number') classes.push(`ansi-bg-${bg}`);
  else if (bg) style += `background-color: ${bg};`;
  if (seg.bold) classes.push('ansi-bold');
  if (seg.dim) classes.push('ansi-dim');
  if (seg.italic) classes.push('ansi-italic');
  if (seg.underline) classes.push('ansi-underline');
  if (seg.strike) classes.push('ansi-strike');
  return { classes, style };
}

/**
 * @text -> {nodes, state}. With a DOM, nodes is a DocumentFragment of text
 * nodes and <span>s (text always set as text, never parsed as HTML);
 * without one, an array of {text, classes, style}.
 */
export function ansiToSpans(text, state = null) {
  const { segments, state: end } = parseAnsi(text, state);
  const looks = segments.map((seg) => ({ text: seg.text, ...segmentLook(seg) }));
  if (typeof document === 'undefined') return { nodes: looks, state: end };
  const frag = document.createDocumentFragment();
  for (const l of looks) frag.appendChild(lookNode(l.text, l));
  return { nodes: frag, state: end };
}

/** A text node, or a <span> with @look's classes and style, holding @text. */
export function lookNode(text, look) {
  if (!look.classes.length && !look.style) return document.createTextNode(text);
  const span = document.createElement('span');
  if (look.classes.length) span.className = look.classes.join(' ');
  if (look.style) span.style.cssText = look.style;
  span.textContent = text;
  return span;
}
