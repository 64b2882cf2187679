// The dashboard's frame rate under load (make bench; docs/BENCHMARKS.md): a server with ten
// shares, a client that trades each of them RATE times a second (market orders through the
// official npm SDK, buys and sells in turn), and the page in headless Chromium subscribed to all
// ten (last prices, trades, statuses) and showing one of them (book, tape, candles). The page's
// frames are counted with requestAnimationFrame for SECONDS after a warm-up.
//   node tests/integration/dashboard-fps.mjs   (env TINVESTD_BIN, TINVESTD_SOURCE_DIR; DASHBOARD_FPS_SECONDS,
//   DASHBOARD_FPS_RATE per instrument, default 100)
// Prints one JSON line: fps, frames, seconds, the page's stream messages per second, the orders
// per second the client achieved, instruments. Exits 77 when Chromium is not installed.
import './tls-env.mjs';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirname } from 'node:path';
import { binary, inlineDemoConfig, startServer } from './harness.mjs';
import { findChromium, launchBrowser } from './cdp.mjs';

const INSTRUMENTS = 10;
const rate = Number(process.env.DASHBOARD_FPS_RATE ?? 100);
const seconds = Number(process.env.DASHBOARD_FPS_SECONDS ?? 15);
const WARMUP_MS = 2000;
const idle = process.env.DASHBOARD_FPS_PAGE === 'idle';
const loadgen = process.env.LOADGEN_BIN ?? join(dirname(binary), 'loadgen');

if (!findChromium()) {
  console.log(JSON.stringify({ skipped: 'chromium is not installed' }));
  process.exit(77);
}

// Ten shares like the demo's first one, each with identifiers of its own.
const config = inlineDemoConfig();
const model = config.instruments.find((i) => i.type === 'share');
const hex = (n, width) => n.toString(16).padStart(width, '0');
const shares = [];
for (let n = 1; n <= INSTRUMENTS; n++) {
  shares.push({ ...model, figi: `BENCH${hex(n, 7)}`, ticker: `BNCH${String(n).padStart(2, '0')}`,
    isin: `RU000BENCH${String(n).padStart(2, '0')}`, name: `Bench share ${n}`,
    uid: `b0000000-0000-4000-8000-${hex(n, 12)}`, position_uid: `b1000000-0000-4000-8000-${hex(n, 12)}`,
    asset_uid: `b2000000-0000-4000-8000-${hex(n, 12)}`, lot: 1 });
}
config.instruments = shares;
config.accounts[1].cash = { rub: '1000000000' };
config.venue.market_maker = { ...config.venue.market_maker, lots_per_level: 1000000, refresh_ms: 100 };
const configPath = join(tmpdir(), `tinvestd-fps-${process.pid}.json`);
writeFileSync(configPath, JSON.stringify(config));

const server = await startServer({ config: configPath, args: ['--http-listen', '127.0.0.1:0', '--durability', 'none'] });
const browser = await launchBrowser({ width: 1600, height: 1000 });
let result;
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.httpPort}/`);
  // DASHBOARD_FPS_PAGE=idle leaves the page unconnected: the floor, what the machine's load alone
  // leaves of the frame rate.
  if (!idle) {
    await page.eval(`(() => { sessionStorage.setItem('tinvestd.token', 't.demo.full');
      const f = document.querySelector('#token-form'); f.token.value = 't.demo.full'; f.requestSubmit(); })()`);
    await page.waitFor(`document.querySelector('#connection').textContent.includes('live streams')`, 20000);
  }

  // One C load generator per instrument (tools/loadgen: open loop at RATE calls/s, market orders
  // buying and selling in turn), so that the load costs the machine little besides the server.
  // They trade on the second account: the page shows the first, so what it receives is the
  // market data of the ten instruments (the figure asked for), not a thousand order states a
  // second of another bot's account.
  const account = config.accounts[1].id;
  const calls = Math.ceil(rate * (WARMUP_MS / 1000 + seconds));
  const generators = rate > 0 ? shares.map((share) => spawn(loadgen, ['--target', `127.0.0.1:${server.plainPort}`,
    '--token', 't.demo.full', '--account', account, '--instrument', share.uid, '--market', '--method', 'async',
    '--rate', String(rate), '--calls', String(calls), '--json'], { stdio: ['ignore', 'pipe', 'inherit'] })) : [];
  const reports = generators.map((g) => new Promise((resolve) => {
    let out = '';
    g.stdout.on('data', (c) => { out += c; });
    g.on('exit', () => resolve(out));
  }));
  const stopGenerators = () => generators.forEach((g) => g.kill('SIGTERM'));
  process.on('exit', stopGenerators);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  await page.send('Performance.enable');
  const busy = async () => Object.fromEntries((await page.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  await page.eval(`(() => { window.__fps = { frames: 0 }; const f = () => { window.__fps.frames++; requestAnimationFrame(f); }; requestAnimationFrame(f); })()`);
  const m0 = await page.eval('tinvestdDashboard.market.messages');
  const p0 = await busy();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const frames = await page.eval('window.__fps.frames');
  if (process.env.DASHBOARD_FPS_PROFILE) {
    await page.send('Profiler.enable');
    await page.send('Profiler.start');
    await new Promise((r) => setTimeout(r, 3000));
    const { profile } = await page.send('Profiler.stop');
    const self = new Map();
    const dt = profile.timeDeltas;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const n = byId.get(id);
      const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
    });
    console.error([...self].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${(v / 1000).toFixed(0)} ms ${k}`).join('\n'));
  }
  const m1 = await page.eval('tinvestdDashboard.market.messages');
  const p1 = await busy();
  const elapsed = (Date.now() - t0) / 1000;
  const outs = await Promise.race([Promise.all(reports), new Promise((r) => setTimeout(() => r([]), 10000))]);
  stopGenerators();
  const rates = outs.map((o) => { try { return JSON.parse(o.trim().split('\n').pop()); } catch { return null; } });
  // The page's main thread: the share of the time it was busy, and with what.
  const share = (name) => +(((p1[name] ?? 0) - (p0[name] ?? 0)) / elapsed).toFixed(3);
  result = { fps: +(frames / elapsed).toFixed(1), frames, seconds: +elapsed.toFixed(2),
    messages_per_s: Math.round((m1 - m0) / elapsed), instruments: INSTRUMENTS, rate_per_instrument: rate,
    loadgen_calls_per_s: rates.reduce((n, r) => n + (r?.calls_per_s ?? r?.rate ?? 0), 0),
    page_busy: share('TaskDuration'), page_script: share('ScriptDuration'), page_layout: share('LayoutDuration'),
    page_style: share('RecalcStyleDuration'), load_average: os.loadavg()[0], page: idle ? 'idle' : 'connected' };
  await page.screenshot(join(process.env.DASHBOARD_ARTIFACTS ?? tmpdir(), 'dashboard-fps.png'));
} finally {
  await browser.close();
  await server.stop();
}
console.log(JSON.stringify(result));
process.exit(0);
