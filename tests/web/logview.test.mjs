// Unit tests of the log viewer's model (web/js/logview.js, no DOM):
// node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  LogModel, SETUP_ROW, TEXT, STEP, GROUP, ENDGROUP, ERROR, WARNING, NOTICE, DEBUG, formatDuration,
} from '../../web/js/logview.js';

const T = '2026-11-28T09:00:00.123456Z ';
const log = (...lines) => lines.map((l) => `${T}${l}\n`).join('');

// A job as the runner writes it (runner/log.c, tests/unit/test_runner_log.c).
const JOB = log(
  'Runner build-1, job 7', //                 1 setup
  'Set up job', //                            2
  '##[step 1] Checkout', //                   3
  'Fetching', //                              4
  '##[group]Details', //                      5
  'inside the group', //                      6
  '##[group]Nested', //                       7
  'deep', //                                  8
  '##[endgroup]', //                          9
  'back in Details', //                       10
  '##[endgroup]', //                          11
  'after the group', //                       12
  '##[step 2] Run tests', //                  13
  'running', //                               14
  '##[warning]src/a.c:3:5: Careful: watch out', // 15
  '##[notice]fyi', //                         16
  '##[debug]dbg', //                          17
  '##[error]b.py:7: bad', //                  18
);

// Line numbers (1-based) of the visible rows; 0 for the setup header.
const rows = (m) => m.visible.map((r) => (r === SETUP_ROW ? 0 : r + 1));

test('lines split across appends, partial lines wait', () => {
  const m = new LogModel();
  const text = JOB;
  const ref = new LogModel();
  ref.append(text);
  // Byte by byte, in odd chunks, in one go: the same lines.
  for (const size of [1, 7, 1000, text.length]) {
    const mm = new LogModel();
    for (let i = 0; i < text.length; i += size) mm.append(text.slice(i, i + size));
    assert.equal(mm.lineCount, 18, `chunks of ${size}`);
    assert.deepEqual(mm.lines.map((l) => [l.ts, l.kind, l.text]), ref.lines.map((l) => [l.ts, l.kind, l.text]));
    assert.deepEqual(mm.visible, ref.visible);
  }
  assert.equal(m.append(`${T}first`), 0);
  assert.equal(m.lineCount, 0);
  assert.equal(m.append(' half\n'), 1);
  assert.equal(m.lines[0].text, 'first half');
  assert.equal(m.lines[0].ts, '2026-11-28T09:00:00.123456Z');
  m.append(`${T}no line feed at the end`);
  assert.equal(m.lineCount, 1);
  assert.equal(m.flush(), 1);
  assert.equal(m.lineCount, 2);
  assert.equal(m.lines[1].text, 'no line feed at the end');
  assert.equal(m.flush(), 0);
});

test('markers: steps, groups, annotations', () => {
  const m = new LogModel();
  m.append(JOB);
  assert.deepEqual(m.lines.map((l) => l.kind), [
    TEXT, TEXT, STEP, TEXT, GROUP, TEXT, GROUP, TEXT, ENDGROUP, TEXT, ENDGROUP, TEXT,
    STEP, TEXT, WARNING, NOTICE, DEBUG, ERROR,
  ]);
  // Markers are not part of the text.
  assert.equal(m.lines[2].text, 'Checkout');
  assert.equal(m.lines[4].text, 'Details');
  assert.equal(m.lines[14].text, 'src/a.c:3:5: Careful: watch out');
  assert.equal(m.lines[17].text, 'b.py:7: bad');
  assert.deepEqual(m.sections.map((s) => [s.number, s.name, s.header, s.start, s.end, s.errors]), [
    [0, 'Set up job', -1, 0, 2, 0],
    [1, 'Checkout', 2, 2, 12, 0],
    [2, 'Run tests', 12, 12, 18, 1],
  ]);
  assert.deepEqual(m.lines.map((l) => l.sec), [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
  // Nesting.
  assert.equal(m.depth(3), 0);
  assert.equal(m.depth(5), 1);
  assert.equal(m.depth(7), 2);
  assert.equal(m.lines[7].grp.parent, m.lines[4].group);
  assert.equal(m.lines[4].group.end, 10);
  assert.equal(m.lines[6].group.end, 8);
});

test('lines without a timestamp, and marker lookalikes, are text', () => {
  const m = new LogModel();
  m.append('no timestamp here\n##[step 1] Real\n');
  assert.equal(m.lines[0].ts, '');
  assert.equal(m.lines[0].text, 'no timestamp here');
  assert.equal(m.lines[1].kind, STEP);
  // A step marker that does not go up (printed by a step, say) is text;
  // numbers may jump (skipped steps have no marker).
  m.append(log('##[step 1] again', '##[stepx]', '##[bogus]x', '##[step 4] Four'));
  assert.deepEqual(m.lines.slice(2).map((l) => [l.kind, l.text]), [
    [TEXT, '##[step 1] again'], [TEXT, '##[stepx]'], [TEXT, '##[bogus]x'], [STEP, 'Four'],
  ]);
  assert.deepEqual(m.sections.map((s) => s.number), [0, 1, 4]);
  // A stray endgroup is harmless.
  m.append(log('##[endgroup]', 'x'));
  assert.equal(m.lines[7].grp, null);
});

test('a log that starts with step 1 has no setup section', () => {
  const m = new LogModel();
  m.append(log('##[step 1] A', 'a'));
  assert.deepEqual(m.sections.map((s) => s.number), [1]);
  assert.deepEqual(rows(m), [1, 2]);
});

test('carriage returns keep what a terminal would show', () => {
  const m = new LogModel();
  m.append(log('10%\r50%\r100%', 'crlf\r', '\x1b[32mgreen\r\x1b[1mbold'));
  assert.equal(m.lines[0].text, '100%');
  assert.equal(m.lines[1].text, 'crlf\r');
  assert.equal(m.plain(1), 'crlf');
  assert.equal(m.lines[2].text, '\x1b[1mbold');
  // The colour set before the \r still applies.
  assert.deepEqual(m.segments(2).map((s) => [s.text, s.fg, s.bold]), [['bold', 2, true]]);
});

test('ANSI state carries from line to line, resets at a step', () => {
  const m = new LogModel();
  m.append(log('\x1b[31mred', 'still red', '\x1b[0mplain', '\x1b[1mbold', '##[step 1] S', 'after'));
  assert.equal(m.segments(1)[0].fg, 1);
  assert.equal(m.segments(2)[0].fg, null);
  assert.equal(m.segments(3)[0].bold, true);
  assert.equal(m.segments(5)[0].bold, false);
  assert.equal(m.plain(0), 'red');
  assert.equal(m.maxChars, 'still red'.length);
});

test('fold state: by step status, by the user, groups folded by default', () => {
  const m = new LogModel();
  m.append(JOB);
  // No step info: finished sections without errors fold, the running
  // (last) one is open; groups are folded.
  assert.deepEqual(m.sections.map((_, s) => m.sectionFolded(s)), [true, true, false]);
  assert.deepEqual(rows(m), [0, 3, 13, 14, 15, 16, 17, 18]);

  // With step info: failed and running steps open, successful ones folded.
  m.setSteps([
    { number: 1, name: 'Checkout', status: 'completed', conclusion: 'failure' },
    { number: 2, name: 'Run tests', status: 'completed', conclusion: 'success' },
  ]);
  assert.deepEqual(rows(m), [0, 3, 4, 5, 12, 13]);
  m.setSteps([
    { number: 1, status: 'completed', conclusion: 'success', started_at: '2026-11-28T09:00:00Z', completed_at: '2026-11-28T09:01:05Z' },
    { number: 2, status: 'in_progress', conclusion: null },
  ]);
  assert.deepEqual(rows(m), [0, 3, 13, 14, 15, 16, 17, 18]);
  assert.equal(m.sectionInfo(1).completed_at, '2026-11-28T09:01:05Z');

  // The user's choice wins over the status.
  m.toggleSection(1);
  assert.deepEqual(rows(m), [0, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18]);
  // Open a group: its nested group stays folded; open that too.
  m.toggleGroup(4);
  assert.deepEqual(rows(m), [0, 3, 4, 5, 6, 7, 10, 12, 13, 14, 15, 16, 17, 18]);
  m.toggleGroup(6);
  assert.deepEqual(rows(m), [0, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16, 17, 18]);
  // Folding the outer group hides the inner one whatever its state.
  m.toggleGroup(4);
  assert.deepEqual(rows(m), [0, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18]);
  m.toggleSection(0);
  assert.deepEqual(rows(m).slice(0, 4), [0, 1, 2, 3]);
  // Not a group header: nothing happens.
  m.toggleGroup(3);
  assert.equal(m.groupAt(3), null);
});

test('the inferred status: a failed step with errors stays open', () => {
  const m = new LogModel();
  m.append(log('##[step 1] A', '##[error]boom', '##[step 2] B', 'b'));
  assert.deepEqual(rows(m), [1, 2, 3, 4]);
  assert.equal(m.sectionInfo(0).conclusion, 'failure');
  assert.equal(m.sectionInfo(1).status, 'in_progress');
});

test('the visible list grows with appends and is rebuilt when a step starts', () => {
  const m = new LogModel();
  m.append(log('setup'));
  assert.deepEqual(rows(m), [0, 1]);
  const v = m.version;
  m.append(log('more'));
  assert.deepEqual(rows(m), [0, 1, 2]);
  assert.ok(m.version > v);
  m.append(log('##[step 1] One', 'one', '##[group]G'));
  // Setup is done (no errors): folded.
  assert.deepEqual(rows(m), [0, 3, 4, 5]);
  m.append(log('hidden in G'));
  assert.deepEqual(rows(m), [0, 3, 4, 5]);
  m.append(log('##[endgroup]', 'visible'));
  assert.deepEqual(rows(m), [0, 3, 4, 5, 8]);
  // Incremental and rebuilt lists agree.
  const inc = m.visible.slice();
  m._dirty = true;
  assert.deepEqual(m.visible, inc);
});

test('lines of a step folded by status before they arrive stay hidden', () => {
  const m = new LogModel();
  m.append(log('##[step 1] A'));
  m.setSteps([{ number: 1, status: 'completed', conclusion: 'success' }]);
  m.append(log('late line'));
  assert.deepEqual(rows(m), [1]);
});

test('reveal opens the folds holding a line and gives its row', () => {
  const m = new LogModel();
  m.append(JOB);
  m.setSteps([{ number: 1, status: 'completed', conclusion: 'success' }, { number: 2, status: 'completed', conclusion: 'success' }]);
  assert.deepEqual(rows(m), [0, 3, 13]);
  const r = m.reveal(7); // "deep", line 8: section 1, both groups
  assert.equal(m.visible[r], 7);
  assert.deepEqual(rows(m), [0, 3, 4, 5, 6, 7, 8, 10, 12, 13]);
  // An endgroup line reveals its group's header.
  assert.equal(m.visible[m.reveal(10)], 4);
  // Out of range.
  assert.equal(m.reveal(-1), -1);
  assert.equal(m.reveal(99), -1);
  assert.equal(m.rowOf(9999), -1);
});

test('search: case-insensitive over the visible text, counts, wraps', () => {
  const m = new LogModel();
  m.append(JOB);
  m.append(log('\x1b[31mERROR\x1b[0m: in red', '##[group]Group title'));
  // Not in timestamps, markers or escape codes.
  assert.equal(m.search('2026'), 0);
  assert.equal(m.search('##['), 0);
  assert.equal(m.search('[31m'), 0);
  assert.equal(m.search('endgroup'), 0);
  assert.equal(m.search('IN'), 5);
  // Matches are in line order.
  assert.deepEqual(m.matchLine, [3, 5, 9, 13, 18]);
  assert.deepEqual(m.matchesIn(18), [[7, 9, false]]);
  // Against a plain count of the displayed texts.
  const texts = ['Runner build-1, job 7', 'Set up job', 'Checkout', 'Fetching', 'Details', 'inside the group',
    'Nested', 'deep', '', 'back in Details', '', 'after the group', 'Run tests', 'running',
    'src/a.c:3:5: Careful: watch out', 'fyi', 'dbg', 'b.py:7: bad', 'ERROR: in red', 'Group title'];
  assert.deepEqual(m.lines.map((_, i) => m.plain(i)), texts);
  assert.equal(m.search('e'), texts.join('\n').toLowerCase().split('e').length - 1);
  assert.deepEqual(m.matchesIn(2), [[2, 3, false]]);
  assert.deepEqual(m.matchesIn(5), [[5, 6, false], [9, 10, false]]);
  assert.deepEqual(m.matchesIn(18), [[0, 1, false], [11, 12, false]]);
  assert.equal(m.search('IN'), 5);
  assert.equal(m.current, 0);
  assert.equal(m.step(-1), 4);
  assert.equal(m.step(1), 0);
  assert.equal(m.step(1), 1);
  assert.deepEqual(m.matchesIn(5), [[0, 2, true]]);
  assert.equal(m.search('error: in'), 1);
  assert.equal(m.plain(18), 'ERROR: in red');
  // Step names and group titles are searched.
  assert.equal(m.search('run tests'), 1);
  assert.equal(m.search('group title'), 1);
  // Regex characters are literal.
  assert.equal(m.search('a.c:3'), 1);
  assert.equal(m.search('.*'), 0);
  // New lines are searched as they arrive.
  m.search('needle');
  m.append(log('a needle', 'NEEDLE needle'));
  assert.equal(m.matchCount, 3);
  assert.equal(m.search(''), 0);
  assert.equal(m.step(1), -1);
});

test('100k lines: visible list, folds and search stay correct', () => {
  const m = new LogModel();
  const N = 100000;
  const chunk = [];
  let n = 0;
  // 10 steps of 10k lines; each step has 200 groups of 50 lines; some
  // lines coloured; fed in 64 KiB pieces that cut lines anywhere.
  for (let s = 1; s <= 10; s++) {
    chunk.push(`${T}##[step ${s}] Step ${s}\n`); n++;
    for (let g = 0; g < 200; g++) {
      chunk.push(`${T}##[group]Group ${s}.${g}\n`); n++;
      for (let l = 0; l < 48; l++) {
        const text = l % 10 === 0 ? `\x1b[32mline ${n + 1}\x1b[0m ok` : `line ${n + 1} plain text`;
        chunk.push(`${T}${text}\n`); n++;
      }
      chunk.push(`${T}##[endgroup]\n`); n++;
    }
    chunk.push(`${T}${s === 7 ? '##[error]' : ''}end of step ${s} marker-xyz\n`); n++;
  }
  const text = chunk.join('');
  for (let i = 0; i < text.length; i += 65536) m.append(text.slice(i, i + 65536));
  assert.equal(m.lineCount, n);
  assert.ok(n > N);
  assert.equal(m.sections.length, 10);

  // No step info: finished steps without errors folded, step 7 (errors)
  // and step 10 (last) open, their groups folded.
  const open = 1 + 200 + 1; // header, group headers, last line
  assert.equal(m.visible.length, 8 + open + open);
  assert.equal(m.lines[m.visible[m.visible.length - 1]].text, 'end of step 10 marker-xyz');

  // Open every section and every group: everything but endgroups.
  m.sections.forEach((_, s) => m.setSectionFolded(s, false));
  for (const line of m.lines) if (line.group) line.group.folded = false;
  m._dirty = true;
  assert.equal(m.visible.length, n - 2000);
  for (let k = 1; k < m.visible.length; k++) assert.ok(m.visible[k] > m.visible[k - 1]);

  // Search over all of it.
  assert.equal(m.search('MARKER-XYZ'), 10);
  assert.equal(m.search('line 54321 '), 1);
  const i = m.matchLine[0];
  assert.equal(i, 54320);
  assert.equal(m.search('\x1b'), 0);
  // Fold everything again, then reveal a match.
  m.sections.forEach((_, s) => m.setSectionFolded(s, true));
  for (const line of m.lines) if (line.group) line.group.folded = true;
  assert.equal(m.visible.length, 10);
  const row = m.reveal(i);
  assert.equal(m.visible[row], i);
  assert.equal(m.visible.length, 10 + 200 + 1 + 48);
});

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(59999), '59s');
  assert.equal(formatDuration(65000), '1m 5s');
  assert.equal(formatDuration(3725000), '1h 2m');
  assert.equal(formatDuration(NaN), '');
  assert.equal(formatDuration(-5), '');
});

test('inferred step times come from the log; a user fold survives setSteps', () => {
  const m = new LogModel();
  m.append('2026-11-28T09:00:00.000000Z setup\n2026-11-28T09:00:02.000000Z ##[step 1] A\n' +
    '2026-11-28T09:00:03.000000Z a\n2026-11-28T09:01:05.000000Z ##[step 2] B\n');
  assert.deepEqual(m.sectionInfo(0), { name: 'Set up job', status: 'completed', conclusion: 'success',
    started_at: '2026-11-28T09:00:00.000000Z', completed_at: '2026-11-28T09:00:02.000000Z' });
  assert.equal(m.sectionInfo(1).completed_at, '2026-11-28T09:01:05.000000Z');
  assert.equal(m.sectionInfo(2).status, 'in_progress');
  // The user opens a successful step; new step info does not fold it again.
  m.setSectionFolded(1, false);
  m.setSteps([{ number: 1, status: 'completed', conclusion: 'success' }]);
  assert.equal(m.sectionFolded(1), false);
  assert.deepEqual(rows(m), [0, 2, 3, 4]);
});

test('lines without escapes share their ANSI state object', () => {
  const m = new LogModel();
  m.append(log('\x1b[33myellow', 'a', 'b', 'c'));
  assert.ok(m.lines[1].st);
  assert.equal(m.lines[1].st, m.lines[3].st);
  assert.equal(m.lines[0].st, null);
});
