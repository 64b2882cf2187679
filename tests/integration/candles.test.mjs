// Candles from the exchange's own trades: GetCandles agrees with the trades that were printed,
// refuses bad periods and limits with the catalogue's codes, and keeps its candles across a
// graceful restart and a kill -9 (a snapshot holds the older ones, the journal the newer);
// GetClosePrices, GetMarketValues and the instruments' first candle dates read from them.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { MarketDataServiceDefinition, CandleInterval, GetTechAnalysisRequest_IndicatorType as IndicatorType,
  GetTechAnalysisRequest_IndicatorInterval as IndicatorInterval, GetTechAnalysisRequest_TypeOfPrice as TypeOfPrice } from 'tinkoff-invest-api/dist/generated/marketdata.js';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, sourceDir } from './harness.mjs';

// The npm SDK (contract 1.24) has no GetMarketValues: it is called through our own proto files.
const MarketValueType = { INSTRUMENT_VALUE_LAST_PRICE: 1, INSTRUMENT_VALUE_CLOSE_PRICE: 3, INSTRUMENT_VALUE_YIELD: 7 };
function getMarketValues(server, request) {
  const definition = protoLoader.loadSync(join(sourceDir, 'proto', 'marketdata.proto'),
    { includeDirs: [join(sourceDir, 'proto'), '/usr/include'], enums: Number, longs: String, defaults: true });
  const { MarketDataService } = grpc.loadPackageDefinition(definition).tinkoff.public.invest.api.contract.v1;
  const client = new MarketDataService(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', 'Bearer t.demo.full');
  return new Promise((resolve, reject) => client.GetMarketValues(request, metadata, (error, response) => {
    client.close();
    if (error) reject(error); else resolve(response);
  }));
}

const account = demoConfig.accounts[0].id;
const share = demoInstruments.find((i) => i.type === 'share');
const untraded = demoInstruments.filter((i) => i.type === 'share')[1];

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-candles-'));
const configPath = join(dir, 'config.json');
const config = structuredClone(demoConfig);
// Snapshots every few dozen events: a restart loads one and replays the journal after it.
config.limits = { ...config.limits, snapshot_every_events: 25 };
writeFileSync(configPath, JSON.stringify(config));
after(() => {
  closeClients();
  rmSync(dir, { recursive: true, force: true });
});

const num = (q) => Number(q.units) + q.nano / 1e9;
const MINUTE = 60e3;

async function trade(api, lots) {
  // Buys, and a sell of one lot after each larger buy: prints of both directions.
  const place = (quantity, direction) => api.orders.postOrder({ accountId: account, orderId: randomUUID(),
    instrumentId: share.uid, quantity, direction, orderType: OrderType.ORDER_TYPE_MARKET });
  for (const quantity of lots) {
    await place(quantity, OrderDirection.ORDER_DIRECTION_BUY);
    if (quantity > 1) await place(1, OrderDirection.ORDER_DIRECTION_SELL);
  }
}

async function minuteCandles(api) {
  const now = Date.now();
  const { candles } = await api.marketdata.getCandles({ instrumentId: share.uid, interval: CandleInterval.CANDLE_INTERVAL_1_MIN,
    from: new Date(now - 3600e3), to: new Date(now + MINUTE) });
  return candles;
}

/** The candles the trades make, minute by minute (prints in time order). */
function expectedFrom(trades) {
  const byMinute = new Map();
  for (const t of [...trades].sort((a, b) => a.time - b.time)) {
    const minute = Math.floor(t.time.getTime() / MINUTE) * MINUTE;
    const price = num(t.price);
    const c = byMinute.get(minute);
    if (!c) byMinute.set(minute, { time: minute, open: price, high: price, low: price, close: price, volume: t.quantity });
    else Object.assign(c, { high: Math.max(c.high, price), low: Math.min(c.low, price), close: price, volume: c.volume + t.quantity });
  }
  return [...byMinute.values()];
}

const shape = (c) => ({ time: c.time.getTime(), open: num(c.open), high: num(c.high), low: num(c.low), close: num(c.close), volume: c.volume });

test('candles agree with the printed trades; errors; restart and kill -9 keep them', async () => {
  const dataDir = join(dir, 'data');
  let server = await startServer({ dataDir, config: configPath });
  let api = sdk(server, 't.demo.full');
  try {
    await trade(api, [1, 2, 3, 1, 4, 2, 5, 1, 1, 3]);
    const { trades } = await api.marketdata.getLastTrades({ instrumentId: share.uid, from: new Date(Date.now() - 3600e3), to: new Date(Date.now() + 1e3) });
    assert.ok(trades.length >= 10, 'the market orders traded');
    const candles = await minuteCandles(api);
    assert.deepEqual(candles.map(shape), expectedFrom(trades), 'OHLCV of each minute from its trades');
    const newest = candles.at(-1);
    assert.equal(newest.isComplete, newest.time.getTime() + MINUTE <= Date.now(), 'the forming minute is not complete');
    // Day candle: the same trades in one candle (unless the test crossed Moscow midnight).
    const day = await api.marketdata.getCandles({ instrumentId: share.uid, interval: CandleInterval.CANDLE_INTERVAL_DAY,
      from: new Date(Date.now() - 86400e3), to: new Date() });
    assert.equal(day.candles.reduce((s, c) => s + c.volume, 0), trades.reduce((s, t) => s + t.quantity, 0));
    // `limit` alone: the newest candles; by ticker_classcode and the deprecated figi too.
    const limited = await api.marketdata.getCandles({ instrumentId: `${share.ticker}_${share.class_code}`,
      interval: 14 /* 5 s: newer than the SDK */, limit: 1, to: new Date(Date.now() + 10e3) });
    assert.equal(limited.candles.length, 1);
    const byFigi = await api.marketdata.getCandles({ figi: share.figi, interval: CandleInterval.CANDLE_INTERVAL_1_MIN,
      from: new Date(Date.now() - 3600e3), to: new Date(Date.now() + MINUTE) });
    assert.deepEqual(byFigi.candles.map(shape), candles.map(shape));
    const none = await api.marketdata.getCandles({ instrumentId: untraded.uid, interval: CandleInterval.CANDLE_INTERVAL_1_MIN,
      from: new Date(Date.now() - 3600e3), to: new Date() });
    assert.equal(none.candles.length, 0);

    // Errors: the catalogue's codes, and nothing changes.
    const raw = rawClient(server, MarketDataServiceDefinition, 't.demo.full');
    const refused = async (request) => (await callRaw((o) => raw.getCandles({ instrumentId: share.uid, ...request }, o))).error?.details;
    const now = new Date();
    const hourAgo = new Date(Date.now() - 3600e3);
    assert.equal(await refused({ interval: 0, from: hourAgo, to: now }), '30011');
    assert.equal(await refused({ interval: 99, from: hourAgo, to: now }), '30011');
    assert.equal(await refused({ interval: CandleInterval.CANDLE_INTERVAL_1_MIN, from: new Date(Date.now() - 2 * 86400e3), to: now }), '30014');
    assert.equal(await refused({ interval: 14, from: new Date(Date.now() - 201 * 60e3), to: now }), '30014');
    assert.equal(await refused({ interval: CandleInterval.CANDLE_INTERVAL_1_MIN, limit: 2401, to: now }), '30084');
    assert.equal(await refused({ interval: CandleInterval.CANDLE_INTERVAL_MONTH, limit: 121, to: now }), '30084');
    assert.equal(await refused({ interval: CandleInterval.CANDLE_INTERVAL_1_MIN, to: now }), '30228');
    assert.equal(await refused({ interval: CandleInterval.CANDLE_INTERVAL_1_MIN, from: now, to: hourAgo }), '30012');
    assert.equal(await refused({ interval: CandleInterval.CANDLE_INTERVAL_1_MIN, from: hourAgo, to: now, candleSourceType: 7 }), '30219');
    assert.equal(await refused({ instrumentId: 'nope', interval: CandleInterval.CANDLE_INTERVAL_1_MIN, from: hourAgo, to: now }), '50002');
    assert.deepEqual((await minuteCandles(api)).map(shape), candles.map(shape), 'refusals changed nothing');

    // First candle dates, close prices and market values.
    const { instrument } = await api.instruments.getInstrumentBy({ idType: 3, id: share.uid });
    assert.equal(instrument.first1minCandleDate?.getTime(), candles[0].time.getTime());
    assert.ok(instrument.first1dayCandleDate instanceof Date);
    const { instrument: quiet } = await api.instruments.getInstrumentBy({ idType: 3, id: untraded.uid });
    assert.equal(quiet.first1minCandleDate, undefined, 'no candle before the first trade');
    const { closePrices } = await api.marketdata.getClosePrices({ instruments: [{ instrumentId: share.uid }] });
    assert.equal(num(closePrices[0].price), Number(share.reference_price), 'no completed day yet: the reference price');
    const values = await getMarketValues(server, { instrumentId: [share.uid],
      values: [MarketValueType.INSTRUMENT_VALUE_LAST_PRICE, MarketValueType.INSTRUMENT_VALUE_CLOSE_PRICE, MarketValueType.INSTRUMENT_VALUE_YIELD] });
    const got = values.instruments[0].values;
    assert.deepEqual(got.map((v) => v.type), [MarketValueType.INSTRUMENT_VALUE_LAST_PRICE, MarketValueType.INSTRUMENT_VALUE_CLOSE_PRICE],
      'the yield, which the exchange does not know, is left out');
    const lastTrade = [...trades].sort((a, b) => a.time - b.time).at(-1);
    assert.equal(Number(got[0].value.units) + got[0].value.nano / 1e9, num(lastTrade.price));

    // kill -9 in the middle of the minute, right after more trades were answered.
    await trade(api, [2, 1, 3]);
    const beforeKill = (await minuteCandles(api)).map(shape);
    assert.ok(readdirSync(dataDir).some((f) => f.endsWith('.snap')), 'a snapshot was written');
    await server.stop('SIGKILL');
    server = await startServer({ dataDir, config: configPath });
    api = sdk(server, 't.demo.full');
    assert.deepEqual((await minuteCandles(api)).map(shape), beforeKill, 'candles as before the kill -9');
    // Trading goes on into the same candles, each print counted once.
    await trade(api, [1, 1]);
    const { trades: all } = await api.marketdata.getLastTrades({ instrumentId: share.uid, from: new Date(Date.now() - 3600e3), to: new Date(Date.now() + 1e3) });
    const afterMore = (await minuteCandles(api)).map(shape);
    assert.deepEqual(afterMore, expectedFrom(all), 'candles after the restart agree with every trade');
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    server = await startServer({ dataDir, config: configPath });
    api = sdk(server, 't.demo.full');
    assert.deepEqual((await minuteCandles(api)).map(shape), afterMore, 'candles as before the graceful stop');
  } finally {
    await server.stop();
  }
});

test('GetTechAnalysis reads the candle store: length-1 indicators equal the candle they stand on; its codes', async () => {
  const server = await startServer({ dataDir: join(dir, 'data-ta'), config: configPath });
  try {
    const api = sdk(server, 't.demo.full');
    await trade(api, [1, 2, 1]);
    const [candle] = (await minuteCandles(api)).slice(-1);
    const from = new Date(Date.now() - 3600e3), to = new Date(Date.now() + MINUTE);
    const ask = (indicatorType, extra = {}) => api.marketdata.getTechAnalysis({ indicatorType, instrumentUid: share.uid, from, to,
      interval: IndicatorInterval.INDICATOR_INTERVAL_ONE_MINUTE, typeOfPrice: TypeOfPrice.TYPE_OF_PRICE_CLOSE, length: 1, ...extra });
    for (const type of [IndicatorType.INDICATOR_TYPE_SMA, IndicatorType.INDICATOR_TYPE_EMA]) {
      const { technicalIndicators } = await ask(type);
      const last = technicalIndicators.at(-1);
      assert.equal(last.timestamp.getTime(), candle.time.getTime(), 'a value for the newest candle');
      assert.equal(num(last.signal), num(candle.close), 'an average over one candle is its close');
    }
    const bands = (await ask(IndicatorType.INDICATOR_TYPE_BB, { deviation: { deviationMultiplier: { units: 2, nano: 0 } } }))
      .technicalIndicators.at(-1);
    for (const band of [bands.middleBand, bands.upperBand, bands.lowerBand])
      assert.equal(num(band), num(candle.close), 'one candle: no deviation, every band on the close');
    const high = (await ask(IndicatorType.INDICATOR_TYPE_SMA, { typeOfPrice: TypeOfPrice.TYPE_OF_PRICE_HIGH })).technicalIndicators.at(-1);
    assert.equal(num(high.signal), num(candle.high), 'type_of_price picks the candle\'s price');

    const raw = rawClient(server, MarketDataServiceDefinition, 't.demo.full');
    const code = async (request) => (await callRaw((o) => raw.getTechAnalysis({ indicatorType: IndicatorType.INDICATOR_TYPE_SMA,
      instrumentUid: share.uid, from, to, interval: IndicatorInterval.INDICATOR_INTERVAL_ONE_MINUTE,
      typeOfPrice: TypeOfPrice.TYPE_OF_PRICE_CLOSE, length: 1, ...request }, o))).error?.details;
    assert.equal(await code({ instrumentUid: '' }), '30008');
    assert.equal(await code({ indicatorType: 0 }), '30213');
    assert.equal(await code({ length: 0 }), '30215');
    assert.equal(await code({ from: new Date(Date.now() - 3 * 86400e3) }), '30014');
    assert.equal(await code({ instrumentUid: randomUUID() }), '50002');
  } finally {
    await server.stop();
  }
});
