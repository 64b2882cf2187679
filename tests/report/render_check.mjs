// The report's HTML page in a real browser (ctest report.browser):
//   node render_check.mjs <report_demo binary> <build dir>
// report_demo writes a made-up replay's report as HTML and JSON into a fresh temporary directory;
// headless Chromium renders the page offline and dumps its DOM, which must hold every chart
// (SVG with its lines), a marker for every fill and the headline numbers the JSON gives; then it
// takes a screenshot into the build directory (report-screenshot.png), which must be a PNG of
// the window's size and of some substance. Exits 77 (skipped) only when Chromium is not
// installed; scripts/install-deps.sh installs it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [demo, buildDir] = process.argv.slice(2);
if (!demo || !buildDir) {
  console.error('usage: node render_check.mjs <report_demo> <build dir>');
  process.exit(2);
}

function findChromium() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

const chromium = findChromium();
if (!chromium) {
  console.log('report.browser: SKIP: chromium is not installed (scripts/install-deps.sh installs it)');
  process.exit(77);
}

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.error(`FAIL: ${what}`);
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tinvestd-report-'));
const htmlPath = path.join(work, 'report.html');
const jsonPath = path.join(work, 'report.json');

// Chromium with nothing of its own: a fresh profile, no network services, no sandbox (CI runs as
// root), no GPU.
function runChromium(extra, url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tinvestd-chromium-'));
  try {
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-extensions', '--hide-scrollbars', `--user-data-dir=${profile}`, ...extra, url];
    const result = spawnSync(chromium, args, { encoding: 'utf8', timeout: 120000,
      maxBuffer: 64 * 1024 * 1024 });
    if (result.error || result.status !== 0) {
      console.error(`chromium ${extra.join(' ')}: status ${result.status} ${result.error || ''}`);
      console.error(result.stderr);
    }
    return result;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

function count(text, needle) {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

// The page prints amounts with the integer digits grouped by a narrow no-break space and a
// minus sign (U+2212); the JSON has the plain decimal.
function plain(text) {
  return text.replace(/\u202f/g, '').replace(/\u2212/g, '-');
}

try {
  const made = spawnSync(demo, [htmlPath, jsonPath], { encoding: 'utf8' });
  check(made.status === 0, `report_demo exits 0 (${made.status}: ${made.stderr})`);
  const report = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const url = pathToFileURL(htmlPath).href;

  const dumped = runChromium(['--dump-dom'], url);
  check(dumped.status === 0, 'chromium --dump-dom exits 0');
  const dom = dumped.stdout || '';
  check(dom.includes('</html>'), 'the DOM was dumped whole');

  const currencies = report.accounts.flatMap((a) => a.currencies);
  const positions = report.accounts.flatMap((a) => a.instruments);
  check(currencies.length >= 4 && positions.length >= 4, 'the demo has enough to draw');
  check(count(dom, '<svg class="chart equity-chart"') === currencies.length,
    'an equity chart per account and currency');
  check(count(dom, '<polyline class="equity"') === currencies.length, 'each with its equity line');
  check(count(dom, '<path class="band"') === currencies.length, 'and its drawdown band');
  check(count(dom, '<svg class="chart price-chart"') === positions.length,
    'a price chart per traded instrument');
  check(count(dom, '<polyline class="price"') === positions.length, 'each with its close line');
  const buys = positions.reduce((n, p) => n + p.buys, 0);
  const sells = positions.reduce((n, p) => n + p.sells, 0);
  check(buys > 10 && sells > 10, 'the demo buys and sells');
  check(count(dom, 'class="mark buy"') === buys, `a green marker for each of the ${buys} buys`);
  check(count(dom, 'class="mark sell"') === sells, `a red marker for each of the ${sells} sells`);
  const lines = [...dom.matchAll(/<polyline class="(?:equity|price)" points="([^"]*)"/g)];
  check(lines.every((m) => m[1].split(' ').length >= 2), 'every line has points');

  // The headline numbers, card by card, against the JSON (exact value and the text shown).
  const cards = [...dom.matchAll(/data-metric="([a-z-]+)" data-value="([^"]*)">([^<]*)/g)];
  const fields = { 'final-equity': 'final_equity', realised: 'realised_pnl',
    unrealised: 'unrealised_pnl', fees: 'fees', turnover: 'turnover' };
  const want = [];
  for (const c of currencies) {
    for (const [metric, field] of Object.entries(fields)) want.push([metric, c[field]]);
    want.push(['drawdown', c.max_drawdown.amount]);
  }
  const got = cards.map((m) => [m[1], m[2]]).sort();
  check(JSON.stringify(got) === JSON.stringify(want.sort()),
    'the cards show the JSON\'s final equity, P&L, fees, turnover and drawdown');
  check(cards.every((m) => plain(m[3]) === m[2]), 'each card\'s text is its exact value, grouped');
  const returns = [...dom.matchAll(/data-metric="return">([^<]*)</g)].map((m) => m[1]);
  check(returns.length === currencies.length &&
    returns.every((r, i) => r === `${currencies[i].return_pct >= 0 ? '+' : ''}${currencies[i].return_pct.toFixed(2)}%`),
  'the return cards show the JSON\'s return');
  const exposures = [...dom.matchAll(/data-metric="exposure">([^<]*)</g)].map((m) => m[1]);
  check(exposures.length === currencies.length &&
    exposures.every((e, i) => e === `${currencies[i].exposure.time_in_market_pct.toFixed(2)}%`),
  'the exposure cards show the JSON\'s exposure');
  check(dom.includes(report.fingerprint), 'the fingerprint is shown');
  check(dom.includes('no trades'), 'the account without fills says so');
  // The name full of markup is text: no element was made from it.
  check(!/<script/i.test(dom), 'no script element');
  check(dom.includes('Mean reverter &lt;script&gt;"&amp;\''), 'the name is shown as text');
  check(!/https?:/.test(fs.readFileSync(htmlPath, 'utf8')), 'the page refers to nothing outside');

  const shot = path.join(buildDir, 'report-screenshot.png');
  fs.rmSync(shot, { force: true });
  const taken = runChromium(['--window-size=1280,2400', `--screenshot=${shot}`], url);
  check(taken.status === 0, 'chromium --screenshot exits 0');
  const png = fs.existsSync(shot) ? fs.readFileSync(shot) : Buffer.alloc(0);
  check(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    `${shot} is a PNG`);
  check(png.length > 60000, `the screenshot has substance (${png.length} bytes)`);
  if (png.length >= 24) {
    check(png.readUInt32BE(16) === 1280 && png.readUInt32BE(20) === 2400,
      'the screenshot is of the window\'s size');
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

console.log(`report.browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
