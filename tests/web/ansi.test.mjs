// Unit tests of web/js/ansi.js (no DOM): node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseAnsi, scanAnsi, stripAnsi, segmentLook, ansiToSpans, color256 } from '../../web/js/ansi.js';

const E = '\x1b';

// The segments as [text, {the attributes that are set}].
function look(text, state) {
  const r = parseAnsi(text, state);
  return r.segments.map((s) => {
    const on = {};
    for (const k of ['fg', 'bg']) if (s[k] !== null) on[k] = s[k];
    for (const k of ['bold', 'dim', 'italic', 'underline', 'inverse', 'strike']) if (s[k]) on[k] = true;
    return [s.text, on];
  });
}

test('plain text is one segment and leaves no state', () => {
  const r = parseAnsi('hello world\tx');
  assert.equal(r.segments.length, 1);
  assert.equal(r.segments[0].text, 'hello world\tx');
  assert.equal(r.state, null);
  assert.deepEqual(parseAnsi('').segments, []);
});

test('segments carry every attribute', () => {
  const [s] = parseAnsi(`${E}[31mx`).segments;
  assert.deepEqual(Object.keys(s).sort(),
    ['bg', 'bold', 'dim', 'fg', 'inverse', 'italic', 'strike', 'text', 'underline']);
});

test('16 colours: 30-37, 90-97, 40-47, 100-107', () => {
  assert.deepEqual(look(`${E}[31mred${E}[0m plain`), [['red', { fg: 1 }], [' plain', {}]]);
  assert.deepEqual(look(`${E}[30ma${E}[37mb${E}[90mc${E}[97md`),
    [['a', { fg: 0 }], ['b', { fg: 7 }], ['c', { fg: 8 }], ['d', { fg: 15 }]]);
  assert.deepEqual(look(`${E}[42ma${E}[107mb`), [['a', { bg: 2 }], ['b', { bg: 15 }]]);
  assert.deepEqual(look(`${E}[1;34;43mx`), [['x', { fg: 4, bg: 3, bold: true }]]);
});

test('256 colours: 38;5;n and 48;5;n', () => {
  // The first 16 stay palette indexes (themed), the rest are rgb().
  assert.deepEqual(look(`${E}[38;5;9mx`), [['x', { fg: 9 }]]);
  assert.deepEqual(look(`${E}[38;5;196mx`), [['x', { fg: 'rgb(255, 0, 0)' }]]);
  assert.deepEqual(look(`${E}[48;5;21mx`), [['x', { bg: 'rgb(0, 0, 255)' }]]);
  assert.deepEqual(look(`${E}[38;5;208;1mx`), [['x', { fg: 'rgb(255, 135, 0)', bold: true }]]);
  assert.equal(color256(16), 'rgb(0, 0, 0)');
  assert.equal(color256(231), 'rgb(255, 255, 255)');
  assert.equal(color256(232), 'rgb(8, 8, 8)');
  assert.equal(color256(255), 'rgb(238, 238, 238)');
});

test('truecolor: 38;2;r;g;b and 48;2;r;g;b, and the colon forms', () => {
  assert.deepEqual(look(`${E}[38;2;10;20;30mx`), [['x', { fg: 'rgb(10, 20, 30)' }]]);
  assert.deepEqual(look(`${E}[48;2;255;128;0;4mx`), [['x', { bg: 'rgb(255, 128, 0)', underline: true }]]);
  assert.deepEqual(look(`${E}[38:2::1:2:3mx`), [['x', { fg: 'rgb(1, 2, 3)' }]]);
  assert.deepEqual(look(`${E}[38:5:196mx`), [['x', { fg: 'rgb(255, 0, 0)' }]]);
  // Out of range values are clamped, never passed through.
  assert.deepEqual(look(`${E}[38;2;300;0;999mx`), [['x', { fg: 'rgb(255, 0, 255)' }]]);
  // Truncated: ignored, not a crash.
  assert.deepEqual(look(`${E}[38;2;1mx`), [['x', {}]]);
});

test('bold, dim, italic, underline, inverse, strike and their resets', () => {
  assert.deepEqual(look(`${E}[1ma${E}[2mb${E}[22mc`),
    [['a', { bold: true }], ['b', { bold: true, dim: true }], ['c', {}]]);
  assert.deepEqual(look(`${E}[3ma${E}[23mb`), [['a', { italic: true }], ['b', {}]]);
  assert.deepEqual(look(`${E}[4ma${E}[24mb`), [['a', { underline: true }], ['b', {}]]);
  assert.deepEqual(look(`${E}[7ma${E}[27mb`), [['a', { inverse: true }], ['b', {}]]);
  assert.deepEqual(look(`${E}[9ma${E}[29mb`), [['a', { strike: true }], ['b', {}]]);
  assert.deepEqual(look(`${E}[31;41ma${E}[39mb${E}[49mc`),
    [['a', { fg: 1, bg: 1 }], ['b', { bg: 1 }], ['c', {}]]);
  assert.deepEqual(look(`${E}[1;3;4;31ma${E}[0mb`),
    [['a', { fg: 1, bold: true, italic: true, underline: true }], ['b', {}]]);
  // ESC[m is ESC[0m.
  assert.deepEqual(look(`${E}[1ma${E}[mb`), [['a', { bold: true }], ['b', {}]]);
});

test('the state is carried across lines (appends)', () => {
  const a = parseAnsi(`${E}[32mgreen starts`);
  assert.equal(a.state.fg, 2);
  const b = parseAnsi('still green', a.state);
  assert.deepEqual(b.segments.map((s) => [s.text, s.fg]), [['still green', 2]]);
  // A line that changes nothing hands back the same state object.
  assert.equal(b.state, a.state);
  const c = parseAnsi(`x${E}[0m`, b.state);
  assert.equal(c.state, null);
  assert.equal(parseAnsi('y', c.state).segments[0].fg, null);
  // States are not mutated by later parses.
  parseAnsi(`${E}[1m`, a.state);
  assert.equal(a.state.bold, false);
  // scanAnsi agrees without building segments.
  assert.deepEqual(scanAnsi(`ab${E}[1;35mcd`), { state: parseAnsi(`ab${E}[1;35mcd`).state, length: 4 });
});

test('other sequences are stripped, never shown raw', () => {
  // Cursor moves, erase, private modes.
  assert.equal(stripAnsi(`a${E}[2Kb${E}[1Ac${E}[10;20Hd${E}[?25le${E}[?25hf`), 'abcdef');
  // OSC: window title (BEL) and OSC 8 hyperlinks (ST): the link text stays.
  assert.equal(stripAnsi(`${E}]0;title\x07x`), 'x');
  assert.equal(stripAnsi(`see ${E}]8;id=1;https://example.com/?a=b${E}\\docs${E}]8;;${E}\\ here`), 'see docs here');
  // Charset selection, keypad modes, DCS, a lone ESC at the end.
  assert.equal(stripAnsi(`${E}(Ba${E}=b${E}Pqdata${E}\\c${E}`), 'abc');
  // Other control characters (BEL, BS, C1) go too; TAB stays.
  assert.equal(stripAnsi('a\x07b\x08c\x00d\x7fe\x85f\tg'), 'abcdef\tg');
  // C1 CSI (U+009B) is a CSI too.
  assert.deepEqual(look('\x9b31mx'), [['x', { fg: 1 }]]);
  // Unterminated sequences are dropped to the end of the text.
  assert.equal(stripAnsi(`ok${E}[12;3`), 'ok');
  assert.equal(stripAnsi(`ok${E}]8;;http://x`), 'ok');
  // A broken CSI ends at the bad byte, which is text again.
  assert.equal(stripAnsi(`a${E}[1\u00e9b`), 'a\u00e9b');
  // Private/intermediate SGR lookalikes change nothing.
  assert.deepEqual(look(`${E}[>4;2mx`), [['x', {}]]);
});

test('no escape ever survives into segments', () => {
  let s = '';
  for (let i = 0; i < 2000; i++) s += String.fromCharCode((i * 7919) % 128) + (i % 13 === 0 ? E : '');
  for (const seg of parseAnsi(s).segments) {
    assert.doesNotMatch(seg.text, /[\x00-\x08\x0a-\x1f\x7f]/);
  }
});

test('segmentLook: classes for the palette, inline rgb() otherwise', () => {
  const seg = (o) => ({ text: 'x', fg: null, bg: null, bold: false, dim: false, italic: false,
    underline: false, inverse: false, strike: false, ...o });
  assert.deepEqual(segmentLook(seg({ fg: 1, bg: 12, bold: true })),
    { classes: ['ansi-fg-1', 'ansi-bg-12', 'ansi-bold'], style: '' });
  assert.deepEqual(segmentLook(seg({ fg: 'rgb(1, 2, 3)', underline: true })),
    { classes: ['ansi-underline'], style: 'color: rgb(1, 2, 3);' });
  // Inverse swaps; a default colour becomes the panel's swapped colour.
  assert.deepEqual(segmentLook(seg({ fg: 2, inverse: true })),
    { classes: ['ansi-fg-inv', 'ansi-bg-2'], style: '' });
  assert.deepEqual(segmentLook(seg({})), { classes: [], style: '' });
});

test('ansiToSpans without a DOM: descriptors, state', () => {
  const r = ansiToSpans(`a${E}[1;31mb`);
  assert.deepEqual(r.nodes, [
    { text: 'a', classes: [], style: '' },
    { text: 'b', classes: ['ansi-fg-1', 'ansi-bold'], style: '' },
  ]);
  assert.equal(r.state.fg, 1);
  const r2 = ansiToSpans('c', r.state);
  assert.deepEqual(r2.nodes, [{ text: 'c', classes: ['ansi-fg-1', 'ansi-bold'], style: '' }]);
});

test('markup in the text is just text', () => {
  const r = parseAnsi(`<img src=x onerror=alert(1)>${E}[31m&amp;`);
  assert.equal(r.segments.map((s) => s.text).join(''), '<img src=x onerror=alert(1)>&amp;');
});
