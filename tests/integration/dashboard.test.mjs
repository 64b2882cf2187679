// The live dashboard in a real browser (docs/DASHBOARD.md): headless Chromium over the DevTools
// protocol loads the page from the server's HTTP listener, with no console error and no request
// to another origin; the token is typed in; a trade placed through the official npm SDK shows in
// the tape and the orders within a second; an order the broker refuses shows its T-Invest code
// and message (the same the SDK gets); the broker health panel counts the calls; after the server
// is restarted on the same port the page reconnects by itself and shows the next trade.
// Screenshots go to the build directory (dashboard-*.png). Skipped only without Chromium.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SecurityTradingStatus } from 'tinkoff-invest-api/dist/generated/common.js';
import { OrderDirection, OrderType, OrdersServiceDefinition } from 'tinkoff-invest-api/dist/generated/orders.js';
import { binary, callRaw, closeClients, rawClient, startServer, sdk, demoConfig, demoInstruments, sourceDir } from './harness.mjs';
import { findChromium, launchBrowser } from './cdp.mjs';

const TOKEN = 't.demo.full';
const account = demoConfig.accounts[0].id;
const share = demoInstruments.find((i) => i.ticker === 'SBER') ?? demoInstruments[0];
const artifacts = process.env.DASHBOARD_ARTIFACTS ?? dirname(binary);
const skip = findChromium() ? false : 'chromium is not installed (scripts/install-deps.sh installs it)';

let server;
let browser;
let page;
let base;

const shot = (name) => page.screenshot(join(artifacts, `dashboard-${name}.png`));

const ADMIN_TOKEN = 'dashboard-operator-token';
const configPath = join(tmpdir(), `tinvestd-dashboard-${process.pid}.json`);

before(async () => {
  if (skip) return;
  const config = structuredClone(demoConfig);
  config.admin = { token: ADMIN_TOKEN };
  writeFileSync(configPath, JSON.stringify(config));
  server = await startServer({ config: configPath, args: ['--http-listen', '127.0.0.1:0'] });
  base = `http://127.0.0.1:${server.httpPort}`;
  browser = await launchBrowser();
  page = await browser.newPage();
});

after(async () => {
  closeClients();
  await browser?.close();
  if (server) await server.stop();
});

async function marketBuy(api, lots = 1) {
  const orderId = randomUUID();
  const reply = await api.orders.postOrder({
    instrumentId: share.uid, quantity: lots, direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: account, orderType: OrderType.ORDER_TYPE_MARKET, orderId,
  });
  return { orderId: reply.orderId, at: Date.now() };
}

const tapeCount = `document.querySelectorAll('#tape tbody tr.trade').length`;
// Every subscription of the page's MarketDataStream is answered: a print from now on is streamed.
const live = `document.querySelector('#connection').dataset.live === 'true'`;

// The shown instrument's trades the page holds, each with the paths that brought it, first first
// ('stream', or over REST 'load' and 'reconcile').
async function heldTrades() {
  return JSON.parse(await page.eval(`JSON.stringify(tinvestdDashboard.market.st(${JSON.stringify(share.uid)}).trades
    .map((t) => ({ key: [t.time, t.price?.units, t.price?.nano, t.quantity].join('|'), via: t.via })))`));
}

// The trades held now that were not held before (the SDK's order's), each brought by the stream:
// the 2-second REST reconciliation alone would leave 'stream' out of its paths.
// (A stream message that lost the race to a reconciliation still adds 'stream': a second is allowed.)
async function assertStreamed(before) {
  const old = new Set(before.map((t) => t.key));
  let fresh = [];
  for (const until = Date.now() + 1000; ;) {
    fresh = (await heldTrades()).filter((t) => !old.has(t.key));
    if ((fresh.length && fresh.every((t) => t.via.includes('stream'))) || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(fresh.length > 0, "the order's trade is held");
  for (const t of fresh) assert.ok(t.via.includes('stream'), `trade ${t.key} came through ${t.via}, not the stream`);
}

test('the page loads from the HTTP listener offline, with its security policy', { skip }, async () => {
  await page.goto(`${base}/`);
  assert.equal(await page.eval('document.title'), 'tinvestd — live dashboard');
  const doc = page.responses.find((r) => r.url === `${base}/`);
  assert.ok(doc, 'the page was answered');
  assert.equal(doc.status, 200);
  assert.match(doc.headers['content-security-policy'] ?? doc.headers['Content-Security-Policy'], /default-src 'self'/);
  const lib = page.responses.find((r) => r.url.endsWith('/assets/lib/lightweight-charts.js'));
  assert.ok(lib && lib.status === 200, 'the charting library is served by us');
  assert.match(lib.headers['content-type'], /javascript/);
  await page.waitFor(`document.querySelector('#chart') !== null && document.querySelectorAll('#intervals button').length === 5`);
});

test('a token typed in connects; the market, the account and the health panel fill', { skip }, async () => {
  await page.eval(`document.querySelector('#token').focus()`);
  await page.type(TOKEN);
  await page.key('Enter', 'Enter', 13, '\r');
  await page.waitFor(`document.querySelector('#connection').dataset.state === 'online'`, 15000);
  // The streams are the WebSocket ones (MarketDataStream, OrderStateStream), not polling.
  await page.waitFor(`document.querySelector('#connection').textContent.includes('live streams')`, 5000);
  await page.waitFor(`document.querySelector("#watchlist tbody").textContent.includes("SBER")`);
  assert.equal(await page.eval(`sessionStorage.getItem('tinvestd.token')`), TOKEN, 'the token stays in the tab');
  await page.eval(`tinvestdDashboard.market.select(${JSON.stringify(share.uid)})`);
  await page.waitFor(`document.querySelector('#instrument-title').textContent.startsWith('SBER')`);
  await page.waitFor(`document.querySelectorAll('#book tbody td.bid')[0].textContent !== ''`);
  // Prices with the instrument's own step (0.01: two decimals), right-aligned.
  const bid = await page.eval(`document.querySelectorAll('#book tbody td.bid')[0].textContent`);
  assert.match(bid, /^\d[\d\u202f]*\.\d{2}$/);
  assert.equal(await page.eval(`getComputedStyle(document.querySelector('#book tbody td.bid')).textAlign`), 'right');
  await page.waitFor(`document.querySelector('#cash tbody').textContent.includes('RUB')`);
  // A cash account has no margin figures (GetMarginAttributes answers 30051): none shown, and
  // no error either. The margin account's show its liquid portfolio.
  assert.equal(await page.eval(`document.querySelector('#margin').hidden`), true);
  const marginAccount = demoConfig.accounts.find((a) => a.kind === 'margin').id;
  await page.eval(`tinvestdDashboard.accounts.selectAccount(${JSON.stringify(marginAccount)})`);
  await page.waitFor(`!document.querySelector('#margin').hidden && document.querySelector('#margin-liquid').textContent.includes('1\u202f000\u202f000')`, 5000);
  assert.match(await page.eval(`document.querySelector('#margin-level').textContent`), /^0\.00/);
  await page.eval(`tinvestdDashboard.accounts.selectAccount(${JSON.stringify(demoConfig.accounts[0].id)})`);
  await page.waitFor(`document.querySelector('#margin').hidden`, 5000);
  await page.waitFor(`document.querySelector('#health-calls tbody th') !== null`, 5000);
  // The slowest subscribers: the page's own streams, by method, queued and share of the limit.
  await page.waitFor(`[...document.querySelectorAll('#health-slowest tbody tr[data-stream] th')].some((th) => th.textContent.includes('Stream'))`, 5000);
  assert.match(await page.eval(`document.querySelector('#health-slowest tbody tr[data-stream] .share').textContent`), /^\d+\.\d %$/);
  await page.waitFor(`document.querySelector('#canvas, #chart canvas') !== null`);
});

test('a trade through the official SDK shows in the tape and the orders within a second', { skip }, async () => {
  const api = sdk(server, TOKEN);
  await page.waitFor(live, 5000);
  const before = await page.eval(tapeCount);
  const held = await heldTrades();
  const { orderId, at } = await marketBuy(api);
  const { ms } = await page.waitFor(`document.querySelector('#orders tr[data-order="${orderId}"]') !== null && ${tapeCount} > ${before}`, 5000);
  const shown = Date.now() - at;
  assert.ok(shown <= 1000, `shown ${shown} ms after the SDK's reply (${ms} ms of polling)`);
  await assertStreamed(held);
  await page.waitFor(`document.querySelector('#orders tr[data-order="${orderId}"] .state').textContent.includes('FILL')`, 3000);
  await page.waitFor(`document.querySelector('#positions tbody').textContent.includes('SBER')`, 3000);
  await page.waitFor(`document.querySelector('#executions tbody').textContent.includes('SBER')`, 3000);
  await shot('trade');
});

test('a refused order shows its T-Invest code and message, as the SDK gets them', { skip }, async () => {
  // The same refused request through the SDK (its message) and through the SDK's own definition
  // without its error middleware (the numeric code in the status details): a price off the step.
  const request = {
    instrumentId: share.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: account,
    orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(), price: { units: 300, nano: 5000000 },
  };
  const raw = await callRaw((options) => rawClient(server, OrdersServiceDefinition, TOKEN).postOrder(request, options));
  const code = raw.error?.details;
  assert.match(code ?? '', /^\d{5}$/, 'the broker refuses it with a T-Invest code');
  const message = raw.trailer?.get('message');
  assert.ok(message, 'and a message');
  let sdkError;
  try {
    await sdk(server, TOKEN).orders.postOrder({ ...request, orderId: randomUUID() });
  } catch (error) {
    sdkError = error;
  }
  assert.equal(sdkError?.details, message, 'the SDK shows the same message');
  await page.eval(`(() => { const f = document.querySelector('#ticket'); f.orderType.value = 'ORDER_TYPE_LIMIT';
    f.price.disabled = false; f.lots.value = '1'; f.price.value = '300.005'; f.requestSubmit(); })()`);
  await page.waitFor(`document.querySelector('#rejections tbody td.code') !== null`, 3000);
  const shown = await page.eval(`document.querySelector('#rejections tbody td.code').textContent`);
  assert.equal(shown, code);
  const result = await page.eval(`document.querySelector('#ticket-result').textContent`);
  assert.equal(result, `Refused ${code}: ${message}`);
  assert.equal(await page.eval(`document.querySelector('#rejections tbody tr td:nth-child(4)').textContent`), message);
  // The health panel counts refusals of every client by code, the SDK's too.
  await page.waitFor(`[...document.querySelectorAll('#health-errors tbody td.code')].some((td) => td.textContent === '${code}')`, 4000);
  await shot('rejected');
});

test('the operator halts the chosen instrument from the page: a bot is refused 30079 and sees the status', { skip }, async () => {
  await page.eval(`document.querySelector('#admin-token').focus()`);
  await page.type(ADMIN_TOKEN);
  await page.key('Enter', 'Enter', 13, '\r');
  await page.waitFor(`document.querySelector('#op-stats').textContent.includes('halted: none')`, 5000);
  assert.equal(await page.eval(`document.querySelector('#op-speed').hidden`), true, 'no speed control without a replay');
  // A bot's market-data stream (the official SDK's) sees the halt as soon as it is made.
  const bot = sdk(server, TOKEN);
  const statuses = [];
  const unsubscribe = await bot.stream.market.info({ instruments: [{ figi: share.figi, instrumentId: share.uid }] },
    (s) => statuses.push(s.tradingStatus));
  try {
    await new Promise((r) => setTimeout(r, 500));
    await page.eval(`document.querySelector('#op-halt').click()`);
    await page.waitFor(`document.querySelector('#op-result').textContent.startsWith('SBER: halted')`, 3000);
    await page.waitFor(`document.querySelector('#trading-status').textContent === 'halted'`, 3000);
    await page.waitFor(`document.querySelector('#watchlist tr.halted') !== null`, 3000);
    const raw = await callRaw((options) => rawClient(server, OrdersServiceDefinition, TOKEN).postOrder({
      instrumentId: share.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: account,
      orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() }, options));
    assert.equal(raw.error?.details, '30079');
    await page.waitFor(`[...document.querySelectorAll('#health-errors tbody td.code')].some((td) => td.textContent === '30079')`, 4000);
    // With its T-Invest message, from the server's own table (assets/errors.json): the one the bot got.
    assert.equal(await page.eval(`document.querySelector('#health-errors tbody td.message[data-code="30079"]').textContent`),
      `30079 — ${raw.trailer?.get('message')}`);
    assert.equal(raw.trailer?.get('message'), 'Instrument is not available for trading');
    await shot('halted');
    await page.eval(`document.querySelector('#op-resume').click()`);
    await page.waitFor(`document.querySelector('#trading-status').textContent === 'trading'`, 3000);
    assert.ok(statuses.includes(SecurityTradingStatus.SECURITY_TRADING_STATUS_BREAK_IN_TRADING), `the bot saw the halt: ${statuses}`);
  } finally {
    // The bot's stream is closed whatever failed, so that the test's process can end.
    await unsubscribe();
    await bot.stream.market.cancel();
  }
  // A price move reaches the book the page shows.
  await page.eval(`(() => { const f = document.querySelector('#op-move'); f.price.value = '310'; f.requestSubmit(); })()`);
  await page.waitFor(`document.querySelector('#op-result').textContent.includes('maker at 310')`, 3000);
  await page.waitFor(`parseFloat(document.querySelectorAll('#book tbody td.bid')[0].textContent.replace(/\u202f/g, '')) > 305`, 3000);
});

test('after a restart of the server the page reconnects and shows the next trade', { skip }, async () => {
  const httpPort = server.httpPort;
  const dataDir = server.dataDir;
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  await page.waitFor(`document.querySelector('#connection').dataset.state === 'offline'`, 10000);
  await shot('offline');
  server = await startServer({ config: configPath, dataDir, args: ['--http-listen', `127.0.0.1:${httpPort}`] });
  await page.waitFor(`document.querySelector('#connection').dataset.state === 'online'`, 15000);
  await page.waitFor(`document.querySelector('#connection').textContent.includes('live streams')`, 15000);
  assert.equal(await page.eval(live), true, 'the label says live once every subscription is answered');
  const api = sdk(server, TOKEN);
  const before = await page.eval(tapeCount);
  const held = await heldTrades();
  const { orderId } = await marketBuy(api);
  try {
    await page.waitFor(`document.querySelector('#orders tr[data-order="${orderId}"]') !== null`, 5000);
    await page.waitFor(`${tapeCount} > ${before}`, 5000);
    await assertStreamed(held);
  } catch (error) {
    const state = await page.eval(`JSON.stringify({ mode: tinvestdDashboard.market.mode, trades: tinvestdDashboard.market.st(${JSON.stringify(share.uid)}).trades.slice(0, 3), messages: tinvestdDashboard.market.messages, events: tinvestdDashboard.market.stream.events })`);
    throw new Error(`${error.message}; page: ${state}`);
  } finally {
    await shot('reconnected');
  }
});

test('nothing was asked of another origin and nothing went wrong in the page', { skip }, async () => {
  const foreign = page.requests.filter((u) => !u.startsWith(base) && !u.startsWith(base.replace('http', 'ws')) &&
    u !== 'about:blank' && !u.startsWith('data:'));
  assert.deepEqual(foreign, []);
  assert.deepEqual(page.exceptions, []);
  // Requests that failed while the server was down are the restart's, not the page's errors.
  const errors = page.console.filter((c) => c.type === 'error' && !/ERR_CONNECTION_REFUSED|net::ERR_|Failed to load resource|WebSocket connection/.test(c.text));
  assert.deepEqual(errors, []);
  assert.ok(!page.console.some((c) => /Content Security Policy/.test(c.text)), 'no policy violation');
});

test('in a replay the operator changes its speed from the page: faster, then step mode stops the clock', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinvestd-dashboard-replay-'));
  let replay;
  let speedPage;
  try {
    const archives = execFileSync('python3', [join(sourceDir, 'scripts', 'make-demo-history.py'),
      '--out', join(dir, 'archives'), '--config', configPath, '--days', '1', '--seed', '5',
      '--uid', share.uid], { encoding: 'utf8' }).trim().split('\n');
    const dataDir = join(dir, 'data');
    execFileSync(binary, ['history', 'import', '--data-dir', dataDir, '--config', configPath, ...archives], { encoding: 'utf8' });
    const day = /_(\d{4})(\d{2})(\d{2})\.csv/.exec(execFileSync('python3', ['-c',
      'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).namelist()[0])', archives[0]], { encoding: 'utf8' }));
    const date = `${day[1]}-${day[2]}-${day[3]}`;
    replay = await startServer({ config: configPath, dataDir,
      args: ['--replay', `${date}..${date}`, '--speed', 'step', '--durability', 'none', '--http-listen', '127.0.0.1:0'] });
    const origin = `http://127.0.0.1:${replay.httpPort}`;
    const stats = async () => (await fetch(`${origin}/admin/GetStats`, { method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: '{}' })).json();
    speedPage = await browser.newPage();
    await speedPage.goto(`${origin}/`);
    await speedPage.eval(`document.querySelector('#admin-token').focus()`);
    await speedPage.type(ADMIN_TOKEN);
    await speedPage.key('Enter', 'Enter', 13, '\r');
    // Shown only in a replay, once the operator's statistics say the clock is one.
    await speedPage.waitFor(`document.querySelector('#op-speed').hidden === false`, 5000);
    const setSpeed = (speed) => speedPage.eval(`(() => { const f = document.querySelector('#op-speed');
      f.speed.value = ${JSON.stringify(speed)}; f.requestSubmit(); })()`);
    const standing = Date.parse((await stats()).now);
    await setSpeed('3600');
    await speedPage.waitFor(`document.querySelector('#op-result').textContent.includes('speed 3600')`, 3000);
    await new Promise((r) => setTimeout(r, 1000));
    const fast = await stats();
    assert.equal(fast.clock, '3600');
    assert.ok(Date.parse(fast.now) - standing >= 1800000, `an hour a second: ${fast.now} from ${new Date(standing).toISOString()}`);
    await setSpeed('step');
    await speedPage.waitFor(`document.querySelector('#op-result').textContent.includes('speed step')`, 3000);
    const stopped = Date.parse((await stats()).now);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(Date.parse((await stats()).now), stopped, 'step mode: the clock stands');
    // A bad value is refused with its code and changes nothing.
    await setSpeed('fast');
    await speedPage.waitFor(`document.querySelector('#op-result').textContent.startsWith('Refused 30102')`, 3000);
    assert.equal((await stats()).clock, 'step');
    assert.deepEqual(speedPage.exceptions, []);
  } finally {
    await speedPage?.close?.();
    if (replay) await replay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
