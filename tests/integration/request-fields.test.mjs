// Request fields that select or shape a reply, through the npm SDK: GetLastPrices' deprecated
// `figi` list, `instrument_id`, `last_price_type` and `instrument_status`; the instrument lists'
// `instrument_status` and `instrument_exchange`; GetPortfolio's `currency`; GetLastTrades'
// `trade_source`. Each test fails on a server that ignores its field.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { InstrumentStatus } from 'tinkoff-invest-api/dist/generated/common.js';
import { InstrumentExchangeType, InstrumentsServiceDefinition } from 'tinkoff-invest-api/dist/generated/instruments.js';
import { LastPriceType, TradeSourceType, MarketDataServiceDefinition } from 'tinkoff-invest-api/dist/generated/marketdata.js';
import { OperationsServiceDefinition, PortfolioRequest_CurrencyRequest as Currency } from 'tinkoff-invest-api/dist/generated/operations.js';
import { OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, inlineDemoConfig } from './harness.mjs';

const USD_RATE = 90n; // roubles per dollar, as configured below
const account = demoConfig.accounts[0].id;
const config = inlineDemoConfig();
// A still market: the maker neither walks nor requotes during the test.
config.venue.market_maker = { enabled: true, levels: 5, lots_per_level: 100, spread_ticks: 1, refresh_ms: 3600000, walk_ticks: 0 };
const shares = config.instruments.filter((i) => i.type === 'share');
const [sber, dealer, untradeable] = shares;
dealer.dealer = true;
untradeable.api_trade_available = false;
const bond = config.instruments.find((i) => i.type === 'bond');
bond.api_trade_available = false;
config.currency_rates = { usd: String(USD_RATE) };
const base = config.instruments.filter((i) => i.api_trade_available !== false);

let server;
let api;
let marketData;
let instruments;
let operations;

before(async () => {
  const path = join(tmpdir(), `tinvestd-request-fields-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  server = await startServer({ config: path });
  api = sdk(server, 't.demo.full');
  marketData = rawClient(server, MarketDataServiceDefinition, 't.demo.full');
  instruments = rawClient(server, InstrumentsServiceDefinition, 't.demo.full');
  operations = rawClient(server, OperationsServiceDefinition, 't.demo.full');
});
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

const lastPrices = (request) => api.marketdata.getLastPrices({ figi: [], instrumentId: [], ...request });
// An instrument whose uid is not known (REFERENCE-DATA.md) is named by its FIGI.
const uids = (list, key = 'instrumentUid') => list.map((x) => x[key] || x.figi);

test('GetLastPrices: the deprecated figi list selects exactly the instruments it names', async () => {
  const { lastPrices: one } = await lastPrices({ figi: [sber.figi] });
  assert.deepEqual(uids(one), [sber.uid]);
  assert.equal(one[0].figi, sber.figi);
  assert.ok(one[0].price.units > 0);
  assert.equal(one[0].lastPriceType, LastPriceType.LAST_PRICE_EXCHANGE);
  // Both lists together: the figi list first, then instrument_id, in the order named.
  const { lastPrices: both } = await lastPrices({ figi: [bond.figi, sber.figi], instrumentId: [untradeable.uid] });
  assert.deepEqual(uids(both), [bond.uid, sber.uid, untradeable.uid]);
});

test('GetLastPrices: an unknown id is answered without a price, an empty one is refused, and the 3000 cap counts both', async () => {
  // As the real service: one entry per id asked, an unknown one echoed as figi, with no price.
  const { lastPrices: unknown } = await lastPrices({ figi: ['BBG000NOSUCH'] });
  assert.equal(unknown.length, 1);
  assert.equal(unknown[0].figi, 'BBG000NOSUCH');
  assert.equal(unknown[0].price, undefined);
  assert.equal(unknown[0].time, undefined);
  const { lastPrices: mixed } = await lastPrices({ figi: [sber.figi], instrumentId: ['no-such-uid'] });
  assert.deepEqual(mixed.map((p) => p.figi), [sber.figi, 'no-such-uid']);
  assert.ok(mixed[0].price.units > 0);
  assert.equal(mixed[1].price, undefined);
  const empty = await callRaw((o) => marketData.getLastPrices({ figi: [''], instrumentId: [] }, o));
  assert.equal(empty.error?.details, '30237');
  const many = await callRaw((o) => marketData.getLastPrices({
    figi: Array(2000).fill(sber.figi), instrumentId: Array(1001).fill(sber.uid),
  }, o));
  assert.equal(many.error?.code, Status.INVALID_ARGUMENT);
  assert.equal(many.error.details, '30218');
  const most = await lastPrices({ figi: Array(1500).fill(sber.figi), instrumentId: Array(1500).fill(sber.uid) });
  assert.equal(most.lastPrices.length, 3000);
});

test('GetLastPrices: last_price_type and instrument_status choose the prices of the whole market', async () => {
  // None named: the base list (tradeable via the API), each with its own price type.
  const all = (await lastPrices({})).lastPrices;
  assert.deepEqual(uids(all).sort(), uids(base, 'uid').sort());
  assert.equal(all.find((p) => p.instrumentUid === dealer.uid).lastPriceType, LastPriceType.LAST_PRICE_DEALER);
  assert.equal(all.find((p) => p.instrumentUid === sber.uid).lastPriceType, LastPriceType.LAST_PRICE_EXCHANGE);
  const everything = (await lastPrices({ instrumentStatus: InstrumentStatus.INSTRUMENT_STATUS_ALL })).lastPrices;
  assert.deepEqual(uids(everything).sort(), uids(config.instruments, 'uid').sort());
  const exchange = (await lastPrices({ lastPriceType: LastPriceType.LAST_PRICE_EXCHANGE })).lastPrices;
  assert.deepEqual(uids(exchange).sort(), uids(base.filter((i) => !i.dealer), 'uid').sort());
  assert.ok(exchange.every((p) => p.lastPriceType === LastPriceType.LAST_PRICE_EXCHANGE));
  const dealerPrices = (await lastPrices({ lastPriceType: LastPriceType.LAST_PRICE_DEALER })).lastPrices;
  assert.deepEqual(uids(dealerPrices), [dealer.uid]);
  assert.equal(dealerPrices[0].lastPriceType, LastPriceType.LAST_PRICE_DEALER);
  assert.ok(dealerPrices[0].price.units > 0);
  // A named instrument without a price of the type asked is answered without a price.
  const named = (await lastPrices({ instrumentId: [dealer.uid, sber.uid], lastPriceType: LastPriceType.LAST_PRICE_DEALER })).lastPrices;
  assert.deepEqual(uids(named), [dealer.uid, sber.uid]);
  assert.ok(named[0].price.units > 0);
  assert.equal(named[1].price, undefined);
  assert.equal(named[1].time, undefined);
  assert.equal(named[1].lastPriceType, LastPriceType.LAST_PRICE_DEALER);
});

test('GetLastPrices: values the contract does not define are refused', async () => {
  const type = await callRaw((o) => marketData.getLastPrices({ figi: [], instrumentId: [], lastPriceType: 7 }, o));
  assert.equal(type.error?.code, Status.INVALID_ARGUMENT);
  assert.equal(type.error.details, '30102');
  assert.match(type.trailer.get('message'), /last_price_type/);
  const status = await callRaw((o) => marketData.getLastPrices({ figi: [], instrumentId: [], lastPriceType: 0, instrumentStatus: 9 }, o));
  assert.equal(status.error?.details, '30050');
});

test('Instrument lists: instrument_status and instrument_exchange choose what is listed', async () => {
  const list = async (request) => uids((await api.instruments.shares(request)).instruments, 'uid').sort();
  const exchangeShares = shares.filter((i) => !i.dealer);
  assert.deepEqual(await list({}), uids(exchangeShares.filter((i) => i.api_trade_available !== false), 'uid').sort());
  assert.deepEqual(await list({ instrumentStatus: InstrumentStatus.INSTRUMENT_STATUS_BASE }), await list({}));
  assert.deepEqual(await list({ instrumentStatus: InstrumentStatus.INSTRUMENT_STATUS_ALL }), uids(exchangeShares, 'uid').sort());
  const dealers = (await api.instruments.shares({
    instrumentStatus: InstrumentStatus.INSTRUMENT_STATUS_ALL, instrumentExchange: InstrumentExchangeType.INSTRUMENT_EXCHANGE_DEALER,
  })).instruments;
  assert.deepEqual(uids(dealers, 'uid'), [dealer.uid]);
  assert.equal(dealers[0].instrumentExchange, InstrumentExchangeType.INSTRUMENT_EXCHANGE_DEALER);
  // The other lists take the same filters: the one bond is not tradeable via the API.
  assert.equal((await api.instruments.bonds({})).instruments.length, 0);
  assert.deepEqual(uids((await api.instruments.bonds({ instrumentStatus: InstrumentStatus.INSTRUMENT_STATUS_ALL })).instruments, 'uid'), [bond.uid]);
  assert.equal((await api.instruments.etfs({ instrumentExchange: InstrumentExchangeType.INSTRUMENT_EXCHANGE_DEALER })).instruments.length, 0);
  const badStatus = await callRaw((o) => instruments.shares({ instrumentStatus: 5 }, o));
  assert.equal(badStatus.error?.details, '30050');
  const badExchange = await callRaw((o) => instruments.currencies({ instrumentExchange: 4 }, o));
  assert.equal(badExchange.error?.details, '30102');
  assert.match(badExchange.trailer.get('message'), /instrument_exchange/);
});

const nanoOf = (m) => BigInt(m.units) * 1000000000n + BigInt(m.nano);
/** Roubles in dollars at the configured rate, to the nearest nano (halves away from zero). */
function inDollars(rubNano) {
  const q = rubNano / USD_RATE;
  const r = rubNano % USD_RATE;
  const twice = 2n * (r < 0n ? -r : r);
  return twice >= USD_RATE ? q + (rubNano < 0n ? -1n : 1n) : q;
}

test('GetPortfolio: currency gives the totals in dollars at the configured rate; no rate is 30258', async () => {
  // Hold a share, so that more than cash is totalled.
  await api.orders.postOrder({
    accountId: account, instrumentId: sber.uid, quantity: 3, direction: OrderDirection.ORDER_DIRECTION_BUY,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  });
  const rub = await api.operations.getPortfolio({ accountId: account });
  const explicitRub = await api.operations.getPortfolio({ accountId: account, currency: Currency.RUB });
  const usd = await api.operations.getPortfolio({ accountId: account, currency: Currency.USD });
  const totals = ['totalAmountShares', 'totalAmountBonds', 'totalAmountEtf', 'totalAmountCurrencies',
    'totalAmountFutures', 'totalAmountOptions', 'totalAmountSp', 'totalAmountPortfolio'];
  assert.ok(nanoOf(rub.totalAmountShares) > 0n);
  for (const key of totals) {
    assert.equal(rub[key].currency, 'rub', key);
    assert.deepEqual(explicitRub[key], rub[key], key);
    assert.equal(usd[key].currency, 'usd', key);
    assert.equal(nanoOf(usd[key]), inDollars(nanoOf(rub[key])), key);
  }
  assert.deepEqual(usd.positions, rub.positions);
  for (const currency of [Currency.EUR, 7]) {
    const r = await callRaw((o) => operations.getPortfolio({ accountId: account, currency }, o));
    assert.equal(r.error?.code, Status.INVALID_ARGUMENT, String(currency));
    assert.equal(r.error.details, '30258');
  }
});

test('GetLastTrades: trade_source keeps a dealer instrument\'s trades apart from the exchange\'s', async () => {
  await api.orders.postOrder({
    accountId: account, instrumentId: dealer.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  });
  const from = new Date(Date.now() - 3600 * 1000);
  const to = new Date(Date.now() + 60 * 1000);
  const trades = async (instrumentId, tradeSource) =>
    (await api.marketdata.getLastTrades({ instrumentId, from, to, tradeSource })).trades;
  const dealerTrades = await trades(dealer.uid, TradeSourceType.TRADE_SOURCE_DEALER);
  assert.ok(dealerTrades.length > 0);
  assert.ok(dealerTrades.every((t) => t.tradeSource === TradeSourceType.TRADE_SOURCE_DEALER));
  assert.equal((await trades(dealer.uid, TradeSourceType.TRADE_SOURCE_EXCHANGE)).length, 0);
  assert.equal((await trades(dealer.uid, TradeSourceType.TRADE_SOURCE_ALL)).length, dealerTrades.length);
  assert.equal((await trades(dealer.uid, TradeSourceType.TRADE_SOURCE_UNSPECIFIED)).length, dealerTrades.length);
  // The share bought in the portfolio test traded on the exchange.
  assert.ok((await trades(sber.uid, TradeSourceType.TRADE_SOURCE_EXCHANGE)).length > 0);
  assert.equal((await trades(sber.uid, TradeSourceType.TRADE_SOURCE_DEALER)).length, 0);
  const bad = await callRaw((o) => marketData.getLastTrades({ instrumentId: sber.uid, from, to, tradeSource: 9 }, o));
  assert.equal(bad.error?.details, '30102');
});
