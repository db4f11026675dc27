// Benchmark of the log viewer's model (web/js/logview.js), no browser:
//   node bench/web/logview_bench.mjs [LINES]
// Prints times and ratios against a baseline: String.prototype.split of
// the same text on LF. Nothing here asserts a time; correctness is in
// tests/web/logview.test.mjs.
import { LogModel } from '../../web/js/logview.js';

const N = Number(process.argv[2] || 100000);
const ROUNDS = 5;

// A log like a build's: steps, groups, some coloured lines, some
// annotations, lines of varied length; about 100 bytes a line.
function makeLog(n, salt) {
  const parts = [];
  let step = 0;
  for (let i = 0; i < n; i++) {
    const ts = `2026-11-28T09:${String(Math.floor(i / 6000) % 60).padStart(2, '0')}:${String(Math.floor(i / 100) % 60).padStart(2, '0')}.${String(i % 1000000).padStart(6, '0')}Z `;
    let text;
    if (i % 10000 === 0) text = `##[step ${++step}] Step ${step}`;
    else if (i % 500 === 1) text = `##[group]Group ${i}`;
    else if (i % 500 === 499) text = '##[endgroup]';
    else if (i % 7 === 0) text = `\x1b[32m✓\x1b[0m test_${salt}_${i} passed \x1b[2m(${i % 97} ms)\x1b[0m`;
    else if (i % 1013 === 0) text = `##[warning]src/file_${i}.c:${i % 400}:1: unused variable`;
    else text = `compiling src/module_${i % 331}/file_${i}.c -O2 -Wall -Wextra ${'x'.repeat(i % 40)}`;
    parts.push(ts + text + '\n');
  }
  return parts.join('');
}

function time(fn) {
  const t = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const res = { split: [], append: [], appendSmall: [], visible: [], search: [], searchAgain: [] };
let bytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  // A new text each round, so no round reuses another's cached work.
  const text = makeLog(N, r);
  bytes = text.length;
  res.split.push(time(() => text.split('\n').length)[0]);
  // Appends as the WebSocket delivers them: 64 KiB chunks cutting lines.
  const [ta, m] = time(() => {
    const mm = new LogModel();
    for (let i = 0; i < text.length; i += 65536) mm.append(text.slice(i, i + 65536));
    return mm;
  });
  res.append.push(ta);
  // Appends of ~1 line each (a chatty live stream).
  res.appendSmall.push(time(() => {
    const mm = new LogModel();
    for (let i = 0; i < text.length; i += 100) mm.append(text.slice(i, i + 100));
    return mm.lineCount;
  })[0]);
  // Everything open: a full rebuild of the visible list.
  m.sections.forEach((_, s) => m.setSectionFolded(s, false));
  for (const line of m.lines) if (line.group) line.group.folded = false;
  m._dirty = true;
  res.visible.push(time(() => m.visible.length)[0]);
  res.search.push(time(() => m.search('FILE_4242'))[0]);
  res.searchAgain.push(time(() => m.search('passed'))[0]);
}

const base = median(res.split);
console.log(`logview model: ${N} lines, ${(bytes / 1e6).toFixed(1)} MB, median of ${ROUNDS} rounds`);
console.log(`  baseline  String.split on LF      ${base.toFixed(1)} ms`);
for (const [k, label] of [
  ['append', 'append, 64 KiB chunks      '],
  ['appendSmall', 'append, 100-byte chunks    '],
  ['visible', 'visible list, all open     '],
  ['search', 'search (first: strips ANSI)'],
  ['searchAgain', 'search again               '],
]) {
  const t = median(res[k]);
  console.log(`  ${label} ${t.toFixed(1).padStart(7)} ms   ${(t / base).toFixed(1).padStart(6)} x split`);
}
