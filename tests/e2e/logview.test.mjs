// The log viewer (web/js/logview.js) in a real browser: Debian's Chromium
// driven by playwright-core (tests/e2e/package.json, as ui.test.mjs), on a
// page served here from web/ with the node's Content-Security-Policy. It
// checks what the model tests (tests/web/) cannot: the DOM is text only, the
// ANSI colours are drawn, rows are virtualized, folds open on click, the
// live tail follows and stops, search and permalinks scroll, and a
// phone-wide page does not scroll sideways. Screenshots go to
// $GUTS_E2E_OUT/logview (default tests/e2e/out/logview).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.join(here, '..', '..', 'web');
const CHROMIUM = process.env.GUTS_CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(process.env.GUTS_E2E_OUT || path.join(here, 'out'), 'logview');

let chromium = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  // Skipped below: playwright-core comes with tests/e2e/package.json.
}
const skip = !fs.existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (scripts/deps.sh installs it)`
  : !chromium ? 'playwright-core is not installed (cd tests/e2e && npm ci)' : false;

// The node's policy for its pages (node/web.c): no inline styles or scripts.
const CSP = "default-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'";
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/web/css/log.css"><link rel="stylesheet" href="/page.css">
<script type="module" src="/page.js"></script></head>
<body><div id="log"></div></body></html>`;
const PAGE_CSS = 'body { margin: 0; padding: 8px; background: #161b22; } #log { height: 500px; }';
const PAGE_JS = `import { LogView } from '/web/js/logview.js';
window.view = new LogView(document.getElementById('log'), { lineHref: (n) => '#L' + n });
window.ready = true;`;
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

let server, base, browser;

before(async () => {
  if (skip) return;
  fs.mkdirSync(OUT, { recursive: true });
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let body = null;
    let type = 'text/html';
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (url.pathname === '/') body = PAGE;
    else if (url.pathname === '/page.js') [body, type] = [PAGE_JS, TYPES['.js']];
    else if (url.pathname === '/page.css') [body, type] = [PAGE_CSS, TYPES['.css']];
    else if (url.pathname.startsWith('/web/')) {
      const file = path.join(WEB, path.normalize(url.pathname.slice(5)).replace(/^(\.\.[/\\])+/, ''));
      if (file.startsWith(WEB) && fs.existsSync(file)) [body, type] = [fs.readFileSync(file), TYPES[path.extname(file)]];
    }
    if (body === null) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': `${type}; charset=utf-8`, 'Content-Security-Policy': CSP });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  server?.close();
});

// A page with a fresh viewer; errors (console, exceptions, CSP) collected.
async function open(t, { width = 1200, height = 800 } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`${msg.text()} @ ${msg.location().url}`); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.setDefaultTimeout(20000);
  await page.goto(base + '/');
  await page.waitForFunction(() => window.ready);
  t.after(() => ctx.close());
  return {
    page,
    check: () => assert.deepEqual(errors, [], 'console errors'),
    shot: (name) => page.screenshot({ path: path.join(OUT, `${name}.png`) }),
    // Two animation frames: the viewer has rendered what it was given.
    frame: () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))),
  };
}

const T = '2026-11-28T09:00:00.123456Z ';
const lines = (...ls) => ls.map((l) => T + l + '\n').join('');
const E = '\x1b';

const JOB = lines(
  'Runner build-1, job 7',
  '##[step 1] Checkout',
  'fetching',
  '##[step 2] Build',
  `${E}[1;31mbold red${E}[0m ${E}[38;2;10;200;30mtruecolor${E}[0m ${E}[2Kerased ${E}]8;;https://example.com${E}\\link${E}]8;;${E}\\`,
  '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>',
  '##[group]Compile',
  'cc -c a.c',
  '##[endgroup]',
  '##[error]b.py:7: bad',
);
const STEPS = [
  { number: 1, name: 'Checkout', status: 'completed', conclusion: 'success', started_at: '2026-11-28T09:00:00Z', completed_at: '2026-11-28T09:00:03Z' },
  { number: 2, name: 'Build', status: 'completed', conclusion: 'failure', started_at: '2026-11-28T09:00:03Z', completed_at: '2026-11-28T09:01:10Z' },
];

test('steps, groups, markers and ANSI colours render as text', { skip }, async (t) => {
  const { page, check, shot, frame } = await open(t);
  await page.evaluate(([log, steps]) => { view.append(log); view.setSteps(steps); }, [JOB, STEPS]);
  await frame();
  const rows = await page.locator('.lv-row').allInnerTexts();
  // Setup folded (done), Checkout folded (success), Build open (failure),
  // its group folded; the endgroup line is not shown.
  assert.deepEqual(rows.map((r) => r.replace(/\s+/g, ' ').trim()), [
    '✓ Set up job 0s',
    '✓ 1 Checkout 3s',
    '✗ 2 Build 1m 7s',
    '5 bold red truecolor erased link',
    '6 <img src=x onerror="window.pwned=1"><script>window.pwned=2</script>',
    '7 Compile',
    '10 Error: b.py:7: bad',
  ]);
  // No escape reached the DOM; markup stayed text.
  const text = await page.locator('#log').textContent();
  assert.doesNotMatch(text, /\x1b|##\[/);
  assert.equal(await page.locator('#log img, #log script').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  // Palette colours are classes (themed), truecolor an inline rgb().
  const red = page.locator('.lv-text span', { hasText: 'bold red' });
  assert.match(await red.getAttribute('class'), /ansi-fg-1 ansi-bold/);
  assert.equal(await red.evaluate((e) => getComputedStyle(e).fontWeight), '700');
  const tc = page.locator('.lv-text span', { hasText: 'truecolor' });
  assert.equal(await tc.evaluate((e) => getComputedStyle(e).color), 'rgb(10, 200, 30)');
  // ansiToSpans with a DOM: a fragment of text nodes and spans.
  assert.deepEqual(await page.evaluate(async () => {
    const { ansiToSpans } = await import('/web/js/ansi.js');
    const { nodes, state } = ansiToSpans('a\x1b[32mb<i>\x1b[48;5;196mc');
    return { kind: nodes.constructor.name, html: [...nodes.childNodes].map((n) => n.outerHTML ?? n.textContent), fg: state.fg };
  }), {
    kind: 'DocumentFragment',
    html: ['a', '<span class="ansi-fg-2">b&lt;i&gt;</span>', '<span class="ansi-fg-2" style="background-color: rgb(255, 0, 0);">c</span>'],
    fg: 2,
  });
  // Line numbers are the raw log's, as permalinks.
  assert.equal(await page.locator('.lv-line[data-line="9"] .lv-num').getAttribute('href'), '#L10');
  await shot('job');

  // Folds open on click (the group), and on Enter (a step header).
  await page.locator('.lv-group').click();
  await frame();
  assert.ok((await page.locator('.lv-line').allInnerTexts()).some((r) => r.includes('cc -c a.c')));
  await page.locator('.lv-section[data-section="1"]').focus();
  await page.keyboard.press('Enter');
  await frame();
  assert.ok((await page.locator('.lv-line').allInnerTexts()).some((r) => r.includes('fetching')));
  assert.equal(await page.locator('.lv-section[data-section="1"]').getAttribute('aria-expanded'), 'true');
  // A line number click selects the line.
  await page.locator('.lv-line[data-line="4"] .lv-num').click();
  await frame();
  assert.equal(await page.locator('.lv-selected').getAttribute('data-line'), '4');
  assert.equal(new URL(page.url()).hash, '#L5');
  check();
});

test('100 000 lines: a few rows in the DOM, search and permalinks scroll', { skip }, async (t) => {
  const { page, check, shot, frame } = await open(t);
  await page.evaluate(() => {
    const T = '2026-11-28T09:00:00.123456Z ';
    let s = T + '##[step 1] Many lines\n';
    for (let i = 1; i <= 100000; i++) s += T + (i % 10 === 0 ? `\x1b[36mline ${i}\x1b[0m` : `line ${i} of output`) + '\n';
    // In 64 KiB chunks that cut lines anywhere, as the socket delivers.
    for (let i = 0; i < s.length; i += 65536) view.append(s.slice(i, i + 65536));
  });
  await frame();
  const info = await page.evaluate(() => ({
    count: view.lineCount,
    rows: document.querySelectorAll('.lv-row').length,
    height: view.scroller.scrollHeight,
    lineHeight: view.lineHeight,
    atBottom: view.scroller.scrollTop + view.scroller.clientHeight >= view.scroller.scrollHeight - 1,
    last: document.querySelector('.lv-rows').lastElementChild.textContent,
  }));
  assert.equal(info.count, 100001);
  assert.ok(info.rows < 150, `${info.rows} rows in the DOM`);
  assert.equal(info.height, 100001 * info.lineHeight);
  assert.ok(info.atBottom, 'follows the tail');
  assert.match(info.last, /line 100000$/);

  // Search: counts, scrolls to the current match, which is highlighted.
  assert.equal(await page.evaluate(() => view.search('LINE 5432')), 11);
  await frame();
  assert.equal(await page.locator('mark.lv-current').textContent(), 'line 5432');
  await page.locator('mark.lv-current').evaluate((e) => { if (e.getBoundingClientRect().bottom > innerHeight) throw new Error('not in view'); });
  await page.evaluate(() => view.searchNext());
  await frame();
  assert.equal(await page.locator('mark.lv-current').textContent(), 'line 5432');
  assert.match(await page.locator('.lv-row:has(mark.lv-current)').textContent(), /line 54320$/);
  assert.equal(await page.evaluate(() => view.follow), false);

  // A permalink: line 77778 (the log's line, "line 77777").
  await page.evaluate(() => view.scrollToLine(77778));
  await frame();
  const sel = page.locator('.lv-selected');
  assert.match(await sel.textContent(), /^77778.*line 77777 of output$/);
  const box = await sel.boundingBox();
  assert.ok(box.y > 0 && box.y < 800, 'the selected line is on screen');
  await shot('big');
  check();
});

test('live tail: follows, stops on a scroll up, resumes with the button', { skip }, async (t) => {
  const { page, check, shot, frame } = await open(t);
  const feed = (from, to) => page.evaluate(([a, b]) => {
    let s = '';
    for (let i = a; i < b; i++) s += `2026-11-28T09:00:00.123456Z live ${i}\n`;
    // A partial line completed by the next append.
    view.append(s.slice(0, -4));
    view.append(s.slice(-4));
  }, [from, to]);
  const state = () => page.evaluate(() => ({
    follow: view.follow,
    button: !document.querySelector('.lv-follow').hidden,
    bottom: view.scroller.scrollTop + view.scroller.clientHeight >= view.scroller.scrollHeight - view.lineHeight,
    top: view.scroller.scrollTop,
  }));
  for (let k = 0; k < 10; k++) {
    await feed(k * 30, k * 30 + 30);
    await frame();
  }
  let s = await state();
  assert.ok(s.follow && s.bottom && !s.button, JSON.stringify(s));

  // The user scrolls up with the wheel: follow stops, the view stays put
  // while lines arrive.
  await page.mouse.move(300, 300);
  await page.mouse.wheel(0, -1000);
  await page.waitForFunction(() => !view.follow);
  s = await state();
  assert.ok(!s.follow && s.button && !s.bottom, JSON.stringify(s));
  const top = s.top;
  await feed(300, 400);
  await frame();
  s = await state();
  assert.equal(s.top, top);
  assert.equal(await page.evaluate(() => view.lineCount), 400);
  await shot('paused');

  // The button jumps to the bottom and follows again.
  await page.locator('.lv-follow').click();
  await frame();
  await feed(400, 450);
  await frame();
  s = await state();
  assert.ok(s.follow && s.bottom && !s.button, JSON.stringify(s));
  // Scrolling back down to the bottom by hand also resumes.
  await page.mouse.move(300, 300);
  await page.mouse.wheel(0, -500);
  await page.waitForFunction(() => !view.follow);
  await page.mouse.wheel(0, 100000);
  await page.waitForFunction(() => view.follow);
  check();
});

test('a phone-wide page does not scroll sideways; long lines scroll in the panel', { skip }, async (t) => {
  const { page, check, shot, frame } = await open(t, { width: 390, height: 700 });
  await page.evaluate(([log, steps]) => {
    view.append(log + '2026-11-28T09:00:00.123456Z ' + 'a long line '.repeat(50) + '\n');
    view.setSteps(steps);
  }, [JOB, STEPS]);
  await frame();
  const sizes = await page.evaluate(() => ({
    page: document.scrollingElement.scrollWidth,
    width: innerWidth,
    panel: view.scroller.scrollWidth > view.scroller.clientWidth,
  }));
  assert.ok(sizes.page <= sizes.width, JSON.stringify(sizes));
  assert.ok(sizes.panel, 'the panel scrolls sideways');
  await shot('narrow');
  check();
});
