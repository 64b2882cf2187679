// Backtesting (docs/BACKTEST.md): history archives in T-Invest's format (made by
// scripts/make-demo-history.py) imported and replayed.
// - At --speed max with no client, GetCandles over the period returns exactly the archives'
//   candles, every longer interval their aggregate, and the report is written at the end.
// - At --speed step, at random simulated times, no market-data method shows anything after the
//   simulated now, and what it shows is the history's path up to now.
// - A moving-average crossover bot written against the npm SDK trades over the replay at step
//   and at --speed, each twice: the two reports of each are the same bytes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { CandleInterval, SubscriptionInterval, GetTechAnalysisRequest_IndicatorType as IndicatorType,
  GetTechAnalysisRequest_IndicatorInterval as IndicatorInterval, GetTechAnalysisRequest_TypeOfPrice as TypeOfPrice } from 'tinkoff-invest-api/dist/generated/marketdata.js';
import { OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, closeClients, demoConfig, demoConfigPath, demoInstruments, sourceDir, binary } from './harness.mjs';

const work = mkdtempSync(join(tmpdir(), 'tinvestd-backtest-'));
after(() => {
  closeClients();
  rmSync(work, { recursive: true, force: true });
});

const TOKEN = 't.demo.full';
const account = demoConfig.accounts[0].id;
const sber = demoInstruments.find((i) => i.ticker === 'SBER');
const second = demoInstruments.find((i) => i.type === 'share' && i.ticker !== 'SBER' && i.uid);
const NANO = 1000000000n;
const SPREAD_TICKS = BigInt(demoConfig.venue.market_maker.spread_ticks);

// ---- The archives and what they hold ----------------------------------------------------------

const archiveDir = join(work, 'archives');
const archives = execFileSync('python3', [join(sourceDir, 'scripts', 'make-demo-history.py'),
  '--out', archiveDir, '--config', demoConfigPath, '--days', '2', '--seed', '7',
  '--uid', sber.uid, '--uid', second.uid], { encoding: 'utf8' }).trim().split('\n');

function decimalNano(text) {
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole) * NANO + BigInt((frac + '000000000').slice(0, 9));
}

// Every row of every member, read with Python's zipfile (an independent reader of the archives).
const rows = execFileSync('python3', ['-c', `
import sys, zipfile
for path in sys.argv[1:]:
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            sys.stdout.write(z.read(name).decode())
`, ...archives], { encoding: 'utf8' }).trim().split('\n');
const history = new Map(); // uid -> candles in time order
for (const row of rows) {
  const [uid, time, open, close, high, low, volume] = row.split(';');
  if (!history.has(uid)) history.set(uid, []);
  history.get(uid).push({ t: Date.parse(time) / 1000, open: decimalNano(open), close: decimalNano(close),
    high: decimalNano(high), low: decimalNano(low), volume: BigInt(volume) });
}
for (const candles of history.values()) candles.sort((a, b) => a.t - b.t);
const days = [...new Set(rows.map((r) => r.split(';')[1].slice(0, 10)))].sort();
assert.equal(days.length, 2);
const PERIOD = `${days[0]}..${days[1]}`;
const FROM_S = Date.parse(`${days[0]}T00:00:00Z`) / 1000;
const TO_S = Date.parse(`${days[1]}T00:00:00Z`) / 1000 + 86400;

// A minute's path through its candle as docs/BACKTEST.md states it, written here on its own.
function path(c, previous) {
  const rising = c.close >= c.open;
  const prices = [c.open, rising ? c.low : c.high, rising ? c.high : c.low, c.close];
  const points = [];
  prices.forEach((price, quarter) => {
    if (points.length > 0 && points.at(-1).price === price) return;
    const before = points.length > 0 ? points.at(-1).price : previous;
    points.push({ ns: BigInt(c.t) * NANO + BigInt(quarter) * 15n * NANO, price, buy: before === 0n || price >= before });
  });
  const n = BigInt(points.length);
  points.forEach((p, i) => { p.lots = c.volume / n + (BigInt(i) < c.volume % n ? 1n : 0n); });
  return points;
}
const points = new Map(); // uid -> every print of the period
for (const [uid, candles] of history) {
  const all = [];
  let previous = 0n;
  for (const c of candles) for (const p of path(c, previous)) { all.push(p); previous = p.price; }
  points.set(uid, all);
}

function importInto(dataDir) {
  execFileSync(binary, ['history', 'import', '--data-dir', dataDir, '--config', demoConfigPath, ...archives],
    { encoding: 'utf8' });
  return dataDir;
}

const nanoOf = (q) => BigInt(q.units) * NANO + BigInt(q.nano);
const seconds = (date) => date.getTime() / 1000;

// ---- The control service -----------------------------------------------------------------------

const replayDefinition = protoLoader.loadSync(join(sourceDir, 'proto', 'replay.proto'),
  { includeDirs: [join(sourceDir, 'proto'), '/usr/include'], longs: String, defaults: true });
const { ReplayService } = grpc.loadPackageDefinition(replayDefinition).tinvestd.replay.v1;
function control(server) {
  const client = new ReplayService(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  const call = (method, request) => new Promise((resolve, reject) =>
    client[method](request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
  return {
    advance: (request) => call('Advance', request),
    state: () => call('GetReplayState', {}),
    report: () => call('WriteReport', {}),
    close: () => client.close(),
  };
}
const tsNs = (t) => BigInt(t.seconds) * NANO + BigInt(t.nanos);

function replayServer(dataDir, speed) {
  return startServer({ dataDir, args: ['--replay', PERIOD, '--speed', speed, '--durability', 'none'] });
}

// ---- Candles read back equal to the archive ----------------------------------------------------

test('at --speed max with no client, GetCandles over the period returns exactly the archives\' candles', async () => {
  const server = await replayServer(importInto(join(work, 'max')), 'max');
  try {
    const finished = await server.waitForLine(/^replay finished report=/);
    const api = sdk(server, TOKEN);
    for (const [uid, candles] of history) {
      // One-minute candles a day at a time (the contract's longest period for them).
      const got = [];
      for (let day = FROM_S; day < TO_S; day += 86400) {
        const r = await api.marketdata.getCandles({ instrumentId: uid, interval: CandleInterval.CANDLE_INTERVAL_1_MIN,
          from: new Date(day * 1000), to: new Date((day + 86400) * 1000) });
        got.push(...r.candles);
      }
      assert.equal(got.length, candles.length, `${uid}: every minute of the archive`);
      got.forEach((k, i) => {
        const want = candles[i];
        assert.equal(seconds(k.time), want.t);
        assert.deepEqual([nanoOf(k.open), nanoOf(k.high), nanoOf(k.low), nanoOf(k.close), BigInt(k.volume)],
          [want.open, want.high, want.low, want.close, want.volume], `${uid} at ${k.time.toISOString()}`);
        assert.equal(k.isComplete, true);
      });
      // Hours and days are the archive's minutes aggregated (days in exchange time, UTC+3).
      for (const [interval, size, offset] of [[CandleInterval.CANDLE_INTERVAL_HOUR, 3600, 0],
        [CandleInterval.CANDLE_INTERVAL_DAY, 86400, 3 * 3600]]) {
        const want = new Map();
        for (const c of candles) {
          const start = Math.floor((c.t + offset) / size) * size - offset;
          const k = want.get(start);
          if (!k) want.set(start, { ...c, t: start });
          else Object.assign(k, { high: c.high > k.high ? c.high : k.high, low: c.low < k.low ? c.low : k.low,
            close: c.close, volume: k.volume + c.volume });
        }
        const r = await api.marketdata.getCandles({ instrumentId: uid, interval,
          from: new Date((FROM_S - 86400) * 1000), to: new Date(TO_S * 1000) });
        assert.deepEqual(r.candles.map((k) => [seconds(k.time), nanoOf(k.open), nanoOf(k.high), nanoOf(k.low), nanoOf(k.close), BigInt(k.volume)]),
          [...want.values()].map((k) => [k.t, k.open, k.high, k.low, k.close, k.volume]));
      }
      // The last price is the last print of the history.
      const { lastPrices } = await api.marketdata.getLastPrices({ figi: [], instrumentId: [uid] });
      const last = points.get(uid).at(-1);
      assert.equal(nanoOf(lastPrices[0].price), last.price);
      assert.equal(BigInt(lastPrices[0].time.getTime()) * 1000000n, last.ns);
    }
    // The report of the end: the period, no fill.
    const json = JSON.parse(readFileSync(/json=(\S+)/.exec(finished)[1], 'utf8'));
    assert.ok(JSON.stringify(json).includes(days[0]));
    const state = await control(server).state();
    assert.equal(state.finished, true);
    assert.equal(state.printsDone, state.printsTotal);
    assert.equal(BigInt(state.printsTotal), BigInt([...points.values()].reduce((n, p) => n + p.length, 0)));
  } finally {
    await server.stop();
  }
});

test('at --speed 600 with no client, the clock reaches the end on its own and the report is written', async () => {
  // Thirty minutes past the first day's last candle: nothing but the end is due.
  const lastS = history.get(sber.uid).filter((c) => c.t < FROM_S + 86400).at(-1).t;
  const from = new Date((lastS - 600) * 1000).toISOString().replace('.000', '');
  const to = new Date((lastS + 1200) * 1000).toISOString().replace('.000', '');
  const started = Date.now();
  const server = await startServer({ dataDir: importInto(join(work, 'speed-end')),
    args: ['--replay', `${from}..${to}`, '--speed', '600', '--durability', 'none'] });
  try {
    const finished = await server.waitForLine(/^replay finished report=/, 30000);
    const elapsed = (Date.now() - started) / 1000;
    assert.ok(elapsed >= 2.5, `30 minutes at 600 times real time took ${elapsed} s`);
    const json = JSON.parse(readFileSync(/json=(\S+)/.exec(finished)[1], 'utf8'));
    assert.equal(Date.parse(json.now), Date.parse(to));
  } finally {
    await server.stop();
  }
});

test('without --replay, ReplayService answers UNIMPLEMENTED 12001', async () => {
  const server = await startServer();
  const ctl = control(server);
  try {
    for (const call of [() => ctl.state(), () => ctl.advance({ byMs: 1000 }), () => ctl.report()])
      await assert.rejects(call(), (e) => e.code === grpc.status.UNIMPLEMENTED && e.details === '12001');
  } finally {
    ctl.close();
    await server.stop();
  }
});

test('a replay in a data directory that traded before it reports the fills of its own period only', async () => {
  const dataDir = join(work, 'traded-before');
  let server = await startServer({ dataDir });
  try {
    const r = await sdk(server, TOKEN).orders.postOrder({ accountId: account, instrumentId: sber.uid,
      orderId: randomUUID(), quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET });
    assert.equal(Number(r.lotsExecuted), 1);
  } finally {
    await server.stop();
  }
  importInto(dataDir);
  server = await replayServer(dataDir, 'max');
  try {
    const finished = await server.waitForLine(/^replay finished report=/, 60000);
    const json = JSON.parse(readFileSync(/json=(\S+)/.exec(finished)[1], 'utf8'));
    assert.equal(json.accounts.flatMap((a) => a.instruments).length, 0, 'the fill of today is not the replay\'s');
  } finally {
    await server.stop();
  }
});

// ---- No look-ahead -----------------------------------------------------------------------------

// A seeded generator, so that a failure names times that can be tried again.
function generator(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('at --speed step, no market-data method shows anything after the simulated now', async () => {
  const server = await replayServer(importInto(join(work, 'step')), 'step');
  const ctl = control(server);
  const api = sdk(server, TOKEN);
  const streamed = [];
  let target = BigInt(FROM_S) * NANO;
  try {
    // Streams opened before the clock moves: every message must come before its time.
    const check = (kind) => (m) => streamed.push({ kind, ns: BigInt(m.time.getTime()) * 1000000n, target });
    await api.stream.market.candles({ instruments: [{ figi: sber.figi, instrumentId: '',
      interval: SubscriptionInterval.SUBSCRIPTION_INTERVAL_ONE_MINUTE }], waitingClose: false }, check('candle'));
    await api.stream.market.lastPrice({ instruments: [{ figi: sber.figi, instrumentId: '' }] }, check('last price'));
    await api.stream.market.trades({ instruments: [{ figi: sber.figi, instrumentId: '' }] }, check('trade'));
    // The control call's own errors: neither or both of its fields.
    await assert.rejects(ctl.advance({}), (e) => e.code === grpc.status.INVALID_ARGUMENT && e.details === '30004');
    await assert.rejects(ctl.advance({ byMs: 5, to: { seconds: '1', nanos: 0 } }), (e) => e.details === '30010');
    await assert.rejects(ctl.advance({ to: { seconds: '1', nanos: 1e9 } }), (e) => e.details === '30010');
    const random = generator(Number(process.env.LOOKAHEAD_SEED ?? 20240101));
    const sberPoints = points.get(sber.uid);
    let probes = 0;
    for (;;) {
      const by = 1000 + Math.floor(random() * 40 * 60000); // 1 s .. 40 min
      target += BigInt(by) * 1000000n;
      if (target > BigInt(TO_S) * NANO) target = BigInt(TO_S) * NANO;
      const state = await ctl.advance({ byMs: by });
      const now = tsNs(state.now);
      assert.equal(now, target, 'the clock stands where it was told to go');
      probes++;
      const shown = sberPoints.filter((p) => p.ns <= now);
      const nowS = Number(now / NANO);
      // GetCandles with `to` far past now: nothing after now; the complete ones are history's,
      // the forming one is the path up to now.
      const { candles } = await api.marketdata.getCandles({ instrumentId: sber.uid, interval: CandleInterval.CANDLE_INTERVAL_1_MIN,
        from: new Date((nowS - 3600) * 1000), to: new Date((nowS + 3600) * 1000) });
      for (const k of candles) {
        const t = seconds(k.time);
        assert.ok(BigInt(t) * NANO <= now, `a candle of ${k.time.toISOString()} at ${new Date(Number(now / 1000000n)).toISOString()}`);
        const minute = shown.filter((p) => p.ns >= BigInt(t) * NANO && p.ns < BigInt(t + 60) * NANO);
        assert.ok(minute.length > 0);
        const prices = minute.map((p) => p.price);
        assert.deepEqual([nanoOf(k.open), nanoOf(k.close), BigInt(k.volume)],
          [prices[0], prices.at(-1), minute.reduce((v, p) => v + p.lots, 0n)]);
        assert.equal(nanoOf(k.high), prices.reduce((a, b) => (b > a ? b : a)));
        assert.equal(nanoOf(k.low), prices.reduce((a, b) => (b < a ? b : a)));
        assert.equal(k.isComplete, BigInt(t + 60) * NANO <= now);
      }
      // GetLastPrices: the newest print up to now.
      const { lastPrices } = await api.marketdata.getLastPrices({ figi: [], instrumentId: [sber.uid] });
      if (shown.length > 0) {
        assert.equal(nanoOf(lastPrices[0].price), shown.at(-1).price);
        assert.equal(BigInt(lastPrices[0].time.getTime()) * 1000000n, shown.at(-1).ns);
      }
      // GetLastTrades: prints with lots, none after now.
      const { trades } = await api.marketdata.getLastTrades({ instrumentId: sber.uid,
        from: new Date((nowS - 3600) * 1000), to: new Date((nowS + 3600) * 1000) });
      const withLots = shown.filter((p) => p.lots > 0n && p.ns >= BigInt(nowS - 3600) * NANO);
      assert.deepEqual(trades.map((t) => [BigInt(t.time.getTime()) * 1000000n, nanoOf(t.price), BigInt(t.quantity)]).slice(-50),
        withLots.map((p) => [p.ns, p.price, p.lots]).slice(-50));
      // GetOrderBook: the liquidity provider quotes around the newest print; its time is now.
      const book = await api.marketdata.getOrderBook({ instrumentId: sber.uid, depth: 1 });
      assert.ok(BigInt(book.orderbookTs.getTime()) * 1000000n <= now);
      if (shown.length > 0) {
        const tick = nanoOf(book.asks[0].price) - nanoOf(book.bids[0].price);
        assert.equal(tick, 2n * SPREAD_TICKS * decimalNano(String(sber.min_price_increment)));
        assert.equal(nanoOf(lastPrices[0].price) * 2n, nanoOf(book.asks[0].price) + nanoOf(book.bids[0].price));
      }
      // GetClosePrices: not after now.
      const { closePrices } = await api.marketdata.getClosePrices({ instruments: [{ instrumentId: sber.uid }] });
      for (const c of closePrices) if (c.time) assert.ok(BigInt(c.time.getTime()) * 1000000n <= now);
      // GetTechAnalysis over a window reaching past now: values for candles up to now only, the
      // newest one the average of the closes the path has reached.
      const { technicalIndicators } = await api.marketdata.getTechAnalysis({ indicatorType: IndicatorType.INDICATOR_TYPE_SMA,
        instrumentUid: sber.uid, from: new Date((nowS - 3600) * 1000), to: new Date((nowS + 3600) * 1000),
        interval: IndicatorInterval.INDICATOR_INTERVAL_ONE_MINUTE, typeOfPrice: TypeOfPrice.TYPE_OF_PRICE_CLOSE, length: 1 });
      for (const v of technicalIndicators) assert.ok(BigInt(v.timestamp.getTime()) * 1000000n <= now);
      if (candles.length > 0) {
        assert.equal(technicalIndicators.at(-1).timestamp.getTime(), candles.at(-1).time.getTime());
        assert.equal(nanoOf(technicalIndicators.at(-1).signal), nanoOf(candles.at(-1).close));
      }
      // GetTradingStatus: the instrument trades at the history's prices.
      const status = await api.marketdata.getTradingStatus({ instrumentId: sber.uid });
      assert.equal(status.marketOrderAvailableFlag, true);
      // A report on demand, half way: its time is now.
      if (probes === 20) {
        const written = await ctl.report();
        const json = JSON.parse(readFileSync(written.jsonPath, 'utf8'));
        assert.equal(Date.parse(json.now), Number(now / 1000000n));
        assert.ok(existsSync(written.htmlPath));
        assert.equal(tsNs(written.state.now), now);
      }
      if (state.finished) break;
    }
    assert.ok(probes >= 5, `${probes} probes`);
    // Let the last stream messages arrive, then check them all against the clock when they came.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(streamed.filter((m) => m.kind === 'candle').length > 10);
    assert.ok(streamed.filter((m) => m.kind === 'trade').length > 10);
    for (const m of streamed) assert.ok(m.ns <= m.target, `a ${m.kind} of ${m.ns} before the clock reached it (${m.target})`);
  } finally {
    api.stream.market.options.autoReconnect = false;
    await api.stream.market.cancel();
    ctl.close();
    await server.stop();
  }
});

// ---- Durable and resumable ---------------------------------------------------------------------

async function minuteCandles(api, uid, fromS, toS) {
  const got = [];
  for (let day = fromS; day < toS; day += 86400) {
    const r = await api.marketdata.getCandles({ instrumentId: uid, interval: CandleInterval.CANDLE_INTERVAL_1_MIN,
      from: new Date(day * 1000), to: new Date(Math.min(day + 86400, toS) * 1000) });
    got.push(...r.candles.map((k) => [seconds(k.time), nanoOf(k.open), nanoOf(k.high), nanoOf(k.low), nanoOf(k.close), BigInt(k.volume)]));
  }
  return got;
}

test('a replay killed with kill -9 resumes after the newest print its journal holds', async () => {
  const dataDir = importInto(join(work, 'resume'));
  const args = ['--replay', PERIOD, '--speed', 'step']; // the journal is synced (the default)
  const stopAt = new Date(`${days[0]}T07:30:07Z`);
  let before;
  let server = await startServer({ dataDir, args });
  try {
    const ctl = control(server);
    await ctl.advance({ to: { seconds: String(stopAt.getTime() / 1000), nanos: 0 } });
    ctl.close();
    before = await minuteCandles(sdk(server, TOKEN), sber.uid, FROM_S, TO_S);
    assert.ok(before.length >= 25);
  } finally {
    await server.stop('SIGKILL');
  }
  server = await startServer({ dataDir, args });
  try {
    const ctl = control(server);
    const state = await ctl.state();
    // The clock starts again at the newest print (07:30:00 of the first day).
    assert.equal(tsNs(state.now), BigInt(Date.parse(`${days[0]}T07:30:00Z`) / 1000) * NANO);
    const api = sdk(server, TOKEN);
    assert.deepEqual(await minuteCandles(api, sber.uid, FROM_S, TO_S), before);
    // To the end: every minute of the archive once, none twice.
    await ctl.advance({ to: { seconds: String(TO_S), nanos: 0 } });
    ctl.close();
    const all = await minuteCandles(api, sber.uid, FROM_S, TO_S);
    assert.deepEqual(all, history.get(sber.uid).map((c) => [c.t, c.open, c.high, c.low, c.close, c.volume]));
  } finally {
    await server.stop();
  }
});

// ---- A bot: moving-average crossover, twice at step and twice at --speed ------------------------

// The bot as its author writes it for the real broker (this SDK's streams key instruments by FIGI): closed one-minute candles from the stream,
// a fast and a slow average of their closes, a market buy when the fast crosses above the slow and
// a market sell of the position when it crosses below.
function crossoverBot(api, { fast = 2, slow = 5, lots = 10 } = {}) {
  const closes = [];
  let position = 0;
  let previousDiff = null;
  let handled = 0;
  let orders = 0;
  const waiters = [];
  const mean = (n) => closes.slice(-n).reduce((a, b) => a + b, 0) / n;
  const onCandle = async (candle) => {
    closes.push(Number(candle.close.units) + candle.close.nano / 1e9);
    if (closes.length >= slow) {
      const diff = mean(fast) - mean(slow);
      let direction = null;
      if (previousDiff !== null && previousDiff <= 0 && diff > 0 && position === 0) direction = OrderDirection.ORDER_DIRECTION_BUY;
      if (previousDiff !== null && previousDiff >= 0 && diff < 0 && position > 0) direction = OrderDirection.ORDER_DIRECTION_SELL;
      previousDiff = diff;
      if (direction !== null) {
        const r = await api.orders.postOrder({ accountId: account, instrumentId: sber.uid, orderId: randomUUID(),
          quantity: direction === OrderDirection.ORDER_DIRECTION_BUY ? lots : position,
          direction, orderType: OrderType.ORDER_TYPE_MARKET });
        position += (direction === OrderDirection.ORDER_DIRECTION_BUY ? 1 : -1) * Number(r.lotsExecuted);
        orders++;
      }
    }
    handled++;
    for (const w of waiters.splice(0)) w();
  };
  let queue = Promise.resolve();
  return {
    stop: async () => {
      api.stream.market.options.autoReconnect = false;
      await api.stream.market.cancel();
    },
    start: () => api.stream.market.candles({ waitingClose: true, instruments: [{ figi: sber.figi, instrumentId: '',
      interval: SubscriptionInterval.SUBSCRIPTION_INTERVAL_ONE_MINUTE }] }, (c) => { queue = queue.then(() => onCandle(c)); }),
    handled: () => handled,
    // Resolves once the bot has handled `count` candles, or after `ms` when none more come.
    until: (count, ms) => new Promise((resolve) => {
      if (handled >= count) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      waiters.push(function check() {
        if (handled >= count) { clearTimeout(timer); resolve(true); } else waiters.push(check);
      });
    }),
    position: () => position,
    orders: () => orders,
  };
}

// Two quiet minutes before the first candle: at --speed 60 the bot subscribes within them.
// The report page as headless Chromium renders it (scripts/install-deps.sh installs Chromium), or
// null where it is not installed.
function renderedDom(htmlPath) {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!chromium) return null;
  const profile = mkdtempSync(join(tmpdir(), 'tinvestd-chromium-'));
  try {
    const r = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
      `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(htmlPath).href], { encoding: 'utf8', timeout: 120000, maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
const count = (text, needle) => text.split(needle).length - 1;

const BOT_PERIOD_MINUTES = 42;
const BOT_FROM_S = history.get(sber.uid)[0].t - 120;
const BOT_PERIOD = `${new Date(BOT_FROM_S * 1000).toISOString().replace('.000', '')}..${new Date((BOT_FROM_S + BOT_PERIOD_MINUTES * 60) * 1000).toISOString().replace('.000', '')}`;

async function botRun(name, speed) {
  const dataDir = importInto(join(work, name));
  const server = await startServer({ dataDir, args: ['--replay', BOT_PERIOD, '--speed', speed, '--durability', 'none'] });
  const ctl = control(server);
  const bot = crossoverBot(sdk(server, TOKEN));
  try {
    await bot.start();
    if (speed === 'step') {
      // Lock-step: a minute of the market, then the bot handles the candle it closed.
      const closed = (endS) => history.get(sber.uid).filter((c) => c.t + 60 <= endS && c.t >= BOT_FROM_S).length;
      for (let minute = 1; minute <= BOT_PERIOD_MINUTES; minute++) {
        await ctl.advance({ byMs: 60000 });
        assert.ok(await bot.until(closed(BOT_FROM_S + minute * 60), 10000), `the bot handled minute ${minute}`);
      }
    }
    const finished = await server.waitForLine(/^replay finished report=/, 3 * BOT_PERIOD_MINUTES * 60000 / 60 + 60000);
    const json = readFileSync(/json=(\S+)/.exec(finished)[1], 'utf8');
    const html = /report=(\S+)/.exec(finished)[1];
    return { json, html, dom: renderedDom(html), report: JSON.parse(json), handled: bot.handled(), orders: bot.orders() };
  } finally {
    await bot.stop();
    ctl.close();
    await server.stop();
  }
}

test('a moving-average crossover bot over the replay at step, twice: the same report', async () => {
  const first = await botRun('bot-step-1', 'step');
  const again = await botRun('bot-step-2', 'step');
  assert.ok(first.handled >= 20, `${first.handled} candles handled`);
  assert.ok(first.orders >= 2, `the bot placed ${first.orders} orders`);
  assert.equal(again.orders, first.orders);
  assert.equal(again.json, first.json);
  // The report's page in a browser: the account's equity chart, SBER's price chart with a marker
  // for each of the bot's fills.
  const traded = first.report.accounts.flatMap((a) => a.instruments);
  const sberRow = traded.find((p) => p.ticker === 'SBER');
  assert.ok(sberRow && sberRow.buys >= 1, 'the report holds the bot\'s buys');
  if (first.dom === null) return; // no Chromium here
  assert.ok(first.dom.includes('</html>'));
  assert.equal(count(first.dom, '<svg class="chart price-chart"'), traded.length);
  assert.equal(count(first.dom, 'class="mark buy"'), traded.reduce((n, p) => n + p.buys, 0));
  assert.equal(count(first.dom, 'class="mark sell"'), traded.reduce((n, p) => n + p.sells, 0));
  assert.ok(count(first.dom, '<polyline class="equity"') >= 1);
});

test('the same bot at --speed 60, twice: the same report', async () => {
  const first = await botRun('bot-speed-1', '60');
  const again = await botRun('bot-speed-2', '60');
  assert.ok(first.handled >= 20, `${first.handled} candles handled`);
  assert.ok(first.orders >= 2, `the bot placed ${first.orders} orders`);
  assert.equal(again.json, first.json);
});
