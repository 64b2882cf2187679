// MarketDataStream and MarketDataServerSideStream through the npm SDK's clients: subscriptions
// and their statuses, the data while orders trade (checked against GetOrderBook and
// GetLastTrades), limits, GetMySubscriptions, pings, and a slow subscriber cut off while others
// keep receiving.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import grpc from '@grpc/grpc-js';
import { OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { MarketDataRequest, MarketDataResponse, SubscriptionAction, SubscriptionStatus, SubscriptionInterval, TradeDirection,
  TradeSourceType, OrderBookType, LastPriceType, CandleInterval } from 'tinkoff-invest-api/dist/generated/marketdata.js';
import { SecurityTradingStatus } from 'tinkoff-invest-api/dist/generated/common.js';
import { startServer, sdk, closeClients, demoConfig, demoInstruments, UUID_RE } from './harness.mjs';

const account = demoConfig.accounts[0].id;
const etf = demoInstruments.find((i) => i.type === 'etf');
const share = demoInstruments.find((i) => i.type === 'share');
const SUBSCRIBE = SubscriptionAction.SUBSCRIPTION_ACTION_SUBSCRIBE;
const UNSUBSCRIBE = SubscriptionAction.SUBSCRIPTION_ACTION_UNSUBSCRIBE;
const SUCCESS = SubscriptionStatus.SUBSCRIPTION_STATUS_SUCCESS;
let server;
let small; // a server with small limits

function configWith(limits, venue = {}) {
  const config = structuredClone(demoConfig);
  Object.assign(config.limits, limits);
  // The market maker keeps still: the books change only through the tests' orders.
  config.venue.market_maker.refresh_ms = 3600000;
  Object.assign(config.venue, venue);
  const path = join(tmpdir(), `tinvestd-md-${process.pid}-${randomUUID()}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** A bidirectional MarketDataStream: `send(request)`, `next(predicate)`, `close()`. */
function openMarketData(api) {
  const controller = new AbortController();
  const messages = [];
  const waiters = [];
  const outbox = [];
  let wakeOutbox = null;
  let ended = null;
  let closed = false;
  async function* requests() {
    for (;;) {
      while (outbox.length) yield outbox.shift();
      if (closed) return;
      await new Promise((r) => { wakeOutbox = r; });
    }
  }
  const done = (async () => {
    try {
      for await (const message of api.marketdataStream.marketDataStream(requests(),
        { signal: controller.signal })) {
        messages.push(message);
        for (const w of waiters.splice(0)) w();
      }
      ended = { ok: true };
    } catch (error) {
      ended = { error };
    }
    for (const w of waiters.splice(0)) w();
  })();
  return {
    messages,
    get ended() { return ended; },
    send(request) { outbox.push(request); if (wakeOutbox) wakeOutbox(); },
    async next(predicate, timeoutMs = 5000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      let seen = from;
      for (;;) {
        const index = messages.findIndex((m, i) => i >= seen && predicate(m));
        if (index >= 0) return messages[index];
        if (ended) throw new Error(`stream ended: ${ended.error?.message ?? 'ok'}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('timed out waiting for a market-data message');
        await new Promise((r) => { waiters.push(r); setTimeout(r, left); });
      }
    },
    async ending(timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      while (!ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return ended;
    },
    async close() { closed = true; if (wakeOutbox) wakeOutbox(); controller.abort(); await done; },
  };
}

function quotation(q) {
  return Number(q.units) + q.nano / 1e9;
}

function levels(list) {
  return list.map((o) => [quotation(o.price), Number(o.quantity)]);
}

async function marketOrder(api, direction, quantity = 1, instrument = etf) {
  return api.orders.postOrder({
    instrumentId: instrument.uid, quantity, direction, accountId: account,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  });
}

before(async () => {
  server = await startServer({ config: configWith({}) });
  small = await startServer({ config: configWith({
    market_data_streams_per_token: 2, market_data_subscriptions_per_stream: 3,
    market_data_backlog_messages: 64,
  }) });
});
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  assert.deepEqual(await small.stop(), { code: 0, signal: null });
});

test('books, trades, last prices and statuses while orders trade, as GetOrderBook and GetLastTrades show them', async () => {
  const api = sdk(server, 't.demo.full');
  const md = openMarketData(api);
  md.send({ subscribeOrderBookRequest: { subscriptionAction: SUBSCRIBE,
    instruments: [{ figi: etf.figi, depth: 10, instrumentId: '', orderBookType: 0 }] } });
  const books = (await md.next((m) => m.subscribeOrderBookResponse)).subscribeOrderBookResponse;
  assert.match(books.trackingId, UUID_RE);
  const [bookSub] = books.orderBookSubscriptions;
  assert.equal(bookSub.subscriptionStatus, SUCCESS);
  assert.equal(bookSub.figi, etf.figi);
  assert.equal(bookSub.instrumentUid, etf.uid);
  assert.equal(bookSub.depth, 10);
  assert.match(bookSub.subscriptionId, UUID_RE);
  assert.match(bookSub.streamId, UUID_RE);
  // The current book comes right after the answer, as GetOrderBook shows it.
  const first = (await md.next((m) => m.orderbook)).orderbook;
  const unary = await api.marketdata.getOrderBook({ instrumentId: etf.uid, depth: 10 });
  assert.deepEqual(levels(first.bids), levels(unary.bids));
  assert.deepEqual(levels(first.asks), levels(unary.asks));
  assert.equal(first.depth, 10);
  assert.equal(first.isConsistent, true);
  assert.equal(first.instrumentUid, etf.uid);
  assert.equal(first.orderBookType, OrderBookType.ORDERBOOK_TYPE_ALL);
  assert.deepEqual(first.limitUp, unary.limitUp);
  assert.deepEqual(first.limitDown, unary.limitDown);
  assert.ok(first.time instanceof Date);

  md.send({ subscribeTradesRequest: { subscriptionAction: SUBSCRIBE, tradeSource: 0,
    instruments: [{ figi: '', instrumentId: etf.uid }] } });
  const trades = (await md.next((m) => m.subscribeTradesResponse)).subscribeTradesResponse;
  assert.equal(trades.tradeSubscriptions[0].subscriptionStatus, SUCCESS);
  assert.equal(trades.tradeSubscriptions[0].figi, etf.figi);
  md.send({ subscribeLastPriceRequest: { subscriptionAction: SUBSCRIBE,
    instruments: [{ figi: '', instrumentId: etf.uid }] } });
  assert.equal((await md.next((m) => m.subscribeLastPriceResponse)).subscribeLastPriceResponse
    .lastPriceSubscriptions[0].subscriptionStatus, SUCCESS);
  await md.next((m) => m.lastPrice); // the current last price
  md.send({ subscribeInfoRequest: { subscriptionAction: SUBSCRIBE,
    instruments: [{ figi: etf.figi, instrumentId: '' }] } });
  assert.equal((await md.next((m) => m.subscribeInfoResponse)).subscribeInfoResponse
    .infoSubscriptions[0].subscriptionStatus, SUCCESS);
  const status = (await md.next((m) => m.tradingStatus)).tradingStatus;
  assert.equal(status.tradingStatus, SecurityTradingStatus.SECURITY_TRADING_STATUS_NORMAL_TRADING);
  assert.equal(status.limitOrderAvailableFlag, true);
  assert.equal(status.marketOrderAvailableFlag, true);
  assert.equal(status.instrumentUid, etf.uid);

  // A market buy of 3 lots takes the best ask.
  const from = md.messages.length;
  const bestAsk = levels(first.asks)[0];
  await marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, 3);
  const trade = (await md.next((m) => m.trade, 5000, from)).trade;
  assert.equal(trade.direction, TradeDirection.TRADE_DIRECTION_BUY);
  assert.equal(quotation(trade.price), bestAsk[0]);
  assert.equal(Number(trade.quantity), 3);
  assert.equal(trade.tradeSource, TradeSourceType.TRADE_SOURCE_EXCHANGE);
  assert.equal(trade.instrumentUid, etf.uid);
  const last = await api.marketdata.getLastTrades({ instrumentId: etf.uid });
  const printed = last.trades.at(-1);
  assert.deepEqual(printed.price, trade.price);
  assert.equal(printed.time.getTime(), trade.time.getTime());
  assert.equal(Number(printed.quantity), Number(trade.quantity));
  const price = (await md.next((m) => m.lastPrice, 5000, from)).lastPrice;
  assert.deepEqual(price.price, trade.price);
  assert.equal(price.lastPriceType, LastPriceType.LAST_PRICE_EXCHANGE);
  const book = (await md.next((m) => m.orderbook, 5000, from)).orderbook;
  const after = await api.marketdata.getOrderBook({ instrumentId: etf.uid, depth: 10 });
  assert.deepEqual(levels(book.asks), levels(after.asks));
  assert.deepEqual(levels(book.bids), levels(after.bids));
  assert.ok(book.time.getTime() >= trade.time.getTime(), 'the book is the one after the trade');
  await md.close();
});

test('every subscription status the contract names, one response per request', async () => {
  const api = sdk(server, 't.demo.full');
  const md = openMarketData(api);
  md.send({ subscribeOrderBookRequest: { subscriptionAction: SUBSCRIBE, instruments: [
    { figi: 'NOPE', depth: 10, instrumentId: '', orderBookType: 0 },
    { figi: etf.figi, depth: 7, instrumentId: '', orderBookType: 0 },
    { figi: etf.figi, depth: 20, instrumentId: '', orderBookType: 9 },
    { figi: etf.figi, depth: 20, instrumentId: '', orderBookType: OrderBookType.ORDERBOOK_TYPE_EXCHANGE },
  ] } });
  const books = (await md.next((m) => m.subscribeOrderBookResponse)).subscribeOrderBookResponse;
  assert.deepEqual(books.orderBookSubscriptions.map((s) => s.subscriptionStatus), [
    SubscriptionStatus.SUBSCRIPTION_STATUS_INSTRUMENT_NOT_FOUND,
    SubscriptionStatus.SUBSCRIPTION_STATUS_DEPTH_IS_INVALID,
    SubscriptionStatus.SUBSCRIPTION_STATUS_SOURCE_IS_INVALID, SUCCESS]);
  assert.equal(books.orderBookSubscriptions[0].figi, 'NOPE', 'an unknown id is echoed');
  md.send({ subscribeCandlesRequest: { subscriptionAction: SUBSCRIBE, waitingClose: true, instruments: [
    { figi: etf.figi, interval: SubscriptionInterval.SUBSCRIPTION_INTERVAL_UNSPECIFIED, instrumentId: '' },
    { figi: etf.figi, interval: 99, instrumentId: '' },
    { figi: etf.figi, interval: SubscriptionInterval.SUBSCRIPTION_INTERVAL_ONE_MINUTE, instrumentId: '' },
  ] } });
  const candles = (await md.next((m) => m.subscribeCandlesResponse)).subscribeCandlesResponse;
  assert.deepEqual(candles.candlesSubscriptions.map((s) => s.subscriptionStatus), [
    SubscriptionStatus.SUBSCRIPTION_STATUS_INTERVAL_IS_INVALID,
    SubscriptionStatus.SUBSCRIPTION_STATUS_INTERVAL_IS_INVALID, SUCCESS]);
  assert.equal(candles.candlesSubscriptions[2].waitingClose, true);
  md.send({ subscribeTradesRequest: { subscriptionAction: SUBSCRIBE, tradeSource: 7,
    instruments: [{ figi: etf.figi, instrumentId: '' }] } });
  assert.equal((await md.next((m) => m.subscribeTradesResponse)).subscribeTradesResponse
    .tradeSubscriptions[0].subscriptionStatus, SubscriptionStatus.SUBSCRIPTION_STATUS_SOURCE_IS_INVALID);
  md.send({ subscribeInfoRequest: { subscriptionAction: SubscriptionAction.SUBSCRIPTION_ACTION_UNSPECIFIED,
    instruments: [{ figi: etf.figi, instrumentId: '' }] } });
  assert.equal((await md.next((m) => m.subscribeInfoResponse)).subscribeInfoResponse
    .infoSubscriptions[0].subscriptionStatus,
  SubscriptionStatus.SUBSCRIPTION_STATUS_SUBSCRIPTION_ACTION_IS_INVALID);
  md.send({ subscribeLastPriceRequest: { subscriptionAction: UNSUBSCRIBE,
    instruments: [{ figi: etf.figi, instrumentId: '' }] } });
  assert.equal((await md.next((m) => m.subscribeLastPriceResponse)).subscribeLastPriceResponse
    .lastPriceSubscriptions[0].subscriptionStatus,
  SubscriptionStatus.SUBSCRIPTION_STATUS_SUBSCRIPTION_NOT_FOUND);
  await md.close();
  // More than 3000 instruments in one request: the stream ends with a clear error.
  const huge = openMarketData(api);
  huge.send({ subscribeInfoRequest: { subscriptionAction: SUBSCRIBE,
    instruments: Array.from({ length: 3001 }, () => ({ figi: etf.figi, instrumentId: '' })) } });
  const ended = await huge.ending();
  assert.equal(ended.error?.code, Status.INVALID_ARGUMENT);
  assert.match(ended.error.details, /3001 instruments|30102/);
  await huge.close();
});

test('unsubscribe and GetMySubscriptions', async () => {
  const api = sdk(server, 't.demo.full');
  const md = openMarketData(api);
  md.send({ subscribeOrderBookRequest: { subscriptionAction: SUBSCRIBE, instruments: [
    { figi: etf.figi, depth: 1, instrumentId: '', orderBookType: 0 },
    { figi: share.figi, depth: 50, instrumentId: '', orderBookType: 0 }] } });
  const subscribed = (await md.next((m) => m.subscribeOrderBookResponse)).subscribeOrderBookResponse;
  md.send({ subscribeLastPriceRequest: { subscriptionAction: SUBSCRIBE,
    instruments: [{ figi: share.figi, instrumentId: '' }] } });
  await md.next((m) => m.subscribeLastPriceResponse);
  const sent = md.messages.length;
  md.send({ subscribeOrderBookRequest: { subscriptionAction: UNSUBSCRIBE, instruments: [
    { figi: etf.figi, depth: 1, instrumentId: '', orderBookType: 0 }] } });
  const gone = (await md.next((m) => m.subscribeOrderBookResponse, 5000, sent))
    .subscribeOrderBookResponse.orderBookSubscriptions[0];
  assert.equal(gone.subscriptionStatus, SUCCESS);
  assert.equal(gone.subscriptionId, subscribed.orderBookSubscriptions[0].subscriptionId);
  const from = md.messages.length;
  md.send({ getMySubscriptions: {} });
  const books = (await md.next((m) => m.subscribeOrderBookResponse, 5000, from)).subscribeOrderBookResponse;
  assert.deepEqual(books.orderBookSubscriptions.map((s) => [s.figi, s.depth, s.subscriptionStatus]),
    [[share.figi, 50, SUCCESS]]);
  assert.equal(books.orderBookSubscriptions[0].subscriptionId, subscribed.orderBookSubscriptions[1].subscriptionId);
  const prices = (await md.next((m) => m.subscribeLastPriceResponse, 5000, from)).subscribeLastPriceResponse;
  assert.deepEqual(prices.lastPriceSubscriptions.map((s) => s.figi), [share.figi]);
  // No other kind is listed; the unsubscribed book gets no more messages.
  const before = md.messages.length;
  await marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!md.messages.slice(from).some((m) => m.subscribeTradesResponse || m.subscribeCandlesResponse));
  assert.ok(!md.messages.slice(before).some((m) => m.orderbook?.figi === etf.figi));
  await md.close();
});

test('the official helper (api.stream.market) subscribes and receives books', async () => {
  const api = sdk(server, 't.demo.full');
  const received = [];
  const unsubscribe = await api.stream.market.orderBook(
    { instruments: [{ figi: share.figi, depth: 20, instrumentId: '' }] }, (book) => received.push(book));
  await marketOrder(api, OrderDirection.ORDER_DIRECTION_SELL, 1, share).catch(() => {});
  const deadline = Date.now() + 5000;
  while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(received.length > 0);
  assert.equal(received[0].figi, share.figi);
  assert.equal(received[0].depth, 20);
  await unsubscribe();
  await api.stream.market.cancel();
});

test('limits: subscriptions per stream and streams per token (limits.md, configurable)', async () => {
  const api = sdk(small, 't.demo.full');
  const md = openMarketData(api);
  md.send({ subscribeOrderBookRequest: { subscriptionAction: SUBSCRIBE, instruments: [
    { figi: etf.figi, depth: 1, instrumentId: '', orderBookType: 0 },
    { figi: etf.figi, depth: 10, instrumentId: '', orderBookType: 0 }] } });
  await md.next((m) => m.subscribeOrderBookResponse);
  md.send({ subscribeTradesRequest: { subscriptionAction: SUBSCRIBE, tradeSource: 0, instruments: [
    { figi: etf.figi, instrumentId: '' }, { figi: share.figi, instrumentId: '' }] } });
  const trades = (await md.next((m) => m.subscribeTradesResponse)).subscribeTradesResponse;
  assert.deepEqual(trades.tradeSubscriptions.map((s) => s.subscriptionStatus),
    [SUCCESS, SubscriptionStatus.SUBSCRIPTION_STATUS_LIMIT_IS_EXCEEDED]);
  // Statuses and last prices are not counted.
  md.send({ subscribeInfoRequest: { subscriptionAction: SUBSCRIBE, instruments:
    demoInstruments.map((i) => ({ figi: i.figi, instrumentId: '' })) } });
  const infos = (await md.next((m) => m.subscribeInfoResponse)).subscribeInfoResponse;
  assert.ok(infos.infoSubscriptions.every((s) => s.subscriptionStatus === SUCCESS));

  const second = openMarketData(api);
  second.send({ getMySubscriptions: {} });
  second.send({ ping: {} });
  await second.next((m) => m.ping);
  const tariff = await api.users.getUserTariff({});
  const limit = tariff.streamLimits.find((l) => l.streams.some((s) => s.includes('MarketDataStreamService')));
  assert.deepEqual(limit.streams.map((s) => s.split('/')[1]).sort(), ['MarketDataServerSideStream', 'MarketDataStream']);
  assert.equal(limit.limit, 2);
  assert.equal(limit.open, 2, 'GetUserTariff counts both open market-data streams');
  const third = openMarketData(api);
  third.send({ ping: {} });
  const ended = await third.ending();
  assert.equal(ended.error?.code, Status.RESOURCE_EXHAUSTED);
  // The SDK's error middleware puts the catalogue's message where the code was.
  assert.match(ended.error.details, /80001|Limit of open streams exceeded/);
  await Promise.all([md.close(), second.close(), third.close()]);
});

test('server-side stream: one response per subscription, then data', async () => {
  const api = sdk(server, 't.demo.full');
  const controller = new AbortController();
  const messages = [];
  const reading = (async () => {
    try {
      for await (const m of api.marketdataStream.marketDataServerSideStream({
        subscribeOrderBookRequest: { subscriptionAction: SUBSCRIBE,
          instruments: [{ figi: etf.figi, depth: 30, instrumentId: '', orderBookType: 0 }] },
        subscribeTradesRequest: { subscriptionAction: SUBSCRIBE, tradeSource: 0,
          instruments: [{ figi: etf.figi, instrumentId: '' }] },
        pingSettings: { pingDelayMs: 5000 },
      }, { signal: controller.signal })) messages.push(m);
    } catch { /* aborted */ }
  })();
  const wait = async (predicate) => {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const found = messages.find(predicate);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('timed out');
  };
  await wait((m) => m.subscribeOrderBookResponse);
  await wait((m) => m.subscribeTradesResponse);
  await wait((m) => m.orderbook);
  await marketOrder(api, OrderDirection.ORDER_DIRECTION_SELL, 2);
  const trade = (await wait((m) => m.trade)).trade;
  assert.equal(trade.direction, TradeDirection.TRADE_DIRECTION_SELL);
  assert.equal(Number(trade.quantity), 2);
  controller.abort();
  await reading;
});

test('pings: ping_settings sets the period, a ping request is answered with its time', async () => {
  const api = sdk(server, 't.demo.full');
  const md = openMarketData(api);
  const asked = new Date(Date.now() - 1000);
  md.send({ ping: { time: asked } });
  const answer = (await md.next((m) => m.ping)).ping;
  assert.equal(answer.pingRequestTime?.getTime(), asked.getTime());
  assert.match(answer.streamId, UUID_RE);
  md.send({ pingSettings: { pingDelayMs: 5000 } });
  const from = md.messages.length;
  const started = Date.now();
  await md.next((m) => m.ping, 8000, from);
  const took = Date.now() - started;
  assert.ok(took >= 4000, `the ping came after ${took} ms`);
  md.send({ pingSettings: { pingDelayMs: 1000 } });
  const ended = await md.ending();
  assert.equal(ended.error?.code, Status.INVALID_ARGUMENT);
  assert.match(ended.error.details, /30102|ping_delay_ms/);
  await md.close();
});

/** A raw grpc-js MarketDataStream whose reading can be paused (flow control reaches the server). */
function rawMarketData(port, token) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const call = client.makeBidiStreamRequest(
    '/tinkoff.public.invest.api.contract.v1.MarketDataStreamService/MarketDataStream',
    (m) => Buffer.from(MarketDataRequest.encode(m).finish()),
    (b) => MarketDataResponse.decode(b), metadata);
  const messages = [];
  const result = new Promise((resolve) => {
    call.on('error', (error) => resolve({ error }));
    call.on('end', () => resolve({ ok: true }));
  });
  call.on('data', (m) => messages.push(m));
  return { call, client, messages, result };
}

test('a subscriber that stops reading during a burst is cut off; the others keep receiving', async () => {
  const api = sdk(small, 't.demo.full');
  const slow = rawMarketData(small.plainPort, 't.demo.readonly');
  const fast = openMarketData(sdk(small, 't.demo.one'));
  // Trades are never conflated: a reader that stops reading fills its queue with them.
  const subscribe = { subscribeTradesRequest: { subscriptionAction: SUBSCRIBE, tradeSource: 0,
    instruments: [{ figi: etf.figi, instrumentId: '' }] } };
  slow.call.write(subscribe);
  fast.send(subscribe);
  await fast.next((m) => m.subscribeTradesResponse);
  const deadline = Date.now() + 5000;
  while (!slow.messages.some((m) => m.subscribeTradesResponse) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(slow.messages.some((m) => m.subscribeTradesResponse), 'the paused reader subscribed');
  slow.call.pause();
  // A steady burst of 2000 trades, 10 orders at a time: a reader keeps up, a paused one cannot.
  for (let round = 0; round < 200; round++) {
    const burst = [];
    for (let i = 0; i < 10; i++)
      burst.push(marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, 1));
    await Promise.all(burst);
  }
  // Stream messages leave after the replies of their batch: the last ones may still be on the way.
  const counted = Date.now() + 5000;
  while (fast.messages.filter((m) => m.trade).length < 2000 && Date.now() < counted)
    await new Promise((r) => setTimeout(r, 20));
  const fastTrades = fast.messages.filter((m) => m.trade).length;
  assert.ok(fastTrades >= 2000, `the reading subscriber got every trade (${fastTrades})`);
  slow.call.resume();
  const ended = await slow.result;
  assert.equal(ended.error?.code, grpc.status.RESOURCE_EXHAUSTED, String(ended.error?.details));
  assert.equal(ended.error.details, '80002');
  assert.match(String(ended.error.metadata.get('message')[0]), /reads too slowly/);
  assert.ok(slow.messages.filter((m) => m.trade).length < 2000, 'the slow reader was cut off early');
  const from = fast.messages.length;
  await marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, 1);
  await fast.next((m) => m.trade, 5000, from);
  assert.equal(fast.ended, null, 'the reading subscriber is still served');
  slow.client.close();
  await fast.close();
});

test('order books and last prices are conflated: a paused reader is not cut off and ends with the newest state', async () => {
  const api = sdk(small, 't.demo.full');
  const slow = rawMarketData(small.plainPort, 't.demo.one');
  slow.call.write({ subscribeOrderBookRequest: { subscriptionAction: SUBSCRIBE, instruments: [1, 10, 20]
    .map((depth) => ({ figi: etf.figi, depth, instrumentId: '', orderBookType: 0 })) } });
  slow.call.write({ subscribeLastPriceRequest: { subscriptionAction: SUBSCRIBE,
    instruments: [{ figi: etf.figi, instrumentId: '' }] } });
  const deadline = Date.now() + 5000;
  while (!slow.messages.some((m) => m.subscribeLastPriceResponse) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(slow.messages.some((m) => m.subscribeLastPriceResponse), 'the paused reader subscribed');
  slow.call.pause();
  // 2000 fills: each changes the book (and the last price) four messages' worth, far more than
  // the 64 messages a market-data stream may hold here.
  for (let round = 0; round < 200; round++) {
    const burst = [];
    for (let i = 0; i < 10; i++) burst.push(marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, 1));
    await Promise.all(burst);
  }
  const book = await api.marketdata.getOrderBook({ instrumentId: etf.uid, depth: 10 });
  const trades = await api.marketdata.getLastTrades({ instrumentId: etf.uid });
  slow.call.resume();
  await new Promise((r) => setTimeout(r, 1000));
  const books = slow.messages.filter((m) => m.orderbook?.depth === 10);
  assert.ok(books.length < 2000, `stale books were replaced (${books.length} of 2000 changes sent)`);
  assert.deepEqual(levels(books.at(-1).orderbook.asks), levels(book.asks), 'the last book is the newest');
  assert.deepEqual(levels(books.at(-1).orderbook.bids), levels(book.bids));
  const prices = slow.messages.filter((m) => m.lastPrice);
  assert.equal(prices.at(-1).lastPrice.time.getTime(), trades.trades.at(-1).time.getTime(),
    'the last price is the newest print');
  slow.call.write({ ping: {} });
  const pinged = Date.now() + 5000;
  while (!slow.messages.some((m) => m.ping) && Date.now() < pinged) await new Promise((r) => setTimeout(r, 20));
  assert.ok(slow.messages.some((m) => m.ping), 'the stream is still open and answering');
  slow.call.end();
  const ended = await slow.result;
  assert.equal(ended.error, undefined, 'it ends with OK when the client closes its side');
  slow.client.close();
});

/** Reads a server-side stream into `messages` until `stop()`. */
function openServerSide(api, request) {
  const controller = new AbortController();
  const messages = [];
  const reading = (async () => {
    try {
      for await (const m of api.marketdataStream.marketDataServerSideStream(request,
        { signal: controller.signal })) messages.push(m);
    } catch { /* aborted */ }
  })();
  return { messages, async stop() { controller.abort(); await reading; } };
}

function ohlcv(c) {
  return [quotation(c.open), quotation(c.high), quotation(c.low), quotation(c.close), Number(c.volume),
    c.time.getTime()];
}

async function until(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = predicate();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('candles: every change of the forming candle as GetCandles has it, waiting_close only the closed one, unsubscribe, the server-side stream', async () => {
  const api = sdk(server, 't.demo.full');
  const lkoh = demoInstruments.find((i) => i.ticker === 'LKOH');
  const ONE_MINUTE = SubscriptionInterval.SUBSCRIPTION_INTERVAL_ONE_MINUTE;
  // Trades early in a minute, so that the minute is still forming while the live stream is checked.
  while (new Date().getUTCSeconds() > 35) await new Promise((r) => setTimeout(r, 250));
  const live = openMarketData(api);
  live.send({ subscribeCandlesRequest: { subscriptionAction: SUBSCRIBE, waitingClose: false,
    instruments: [{ figi: '', interval: ONE_MINUTE, instrumentId: lkoh.uid }] } });
  const answer = (await live.next((m) => m.subscribeCandlesResponse)).subscribeCandlesResponse;
  assert.equal(answer.candlesSubscriptions[0].subscriptionStatus, SUCCESS);
  assert.equal(answer.candlesSubscriptions[0].waitingClose, false);
  const closing = openMarketData(api);
  closing.send({ subscribeCandlesRequest: { subscriptionAction: SUBSCRIBE, waitingClose: true,
    instruments: [{ figi: lkoh.figi, interval: ONE_MINUTE, instrumentId: '' }] } });
  assert.equal((await closing.next((m) => m.subscribeCandlesResponse)).subscribeCandlesResponse
    .candlesSubscriptions[0].waitingClose, true);
  const sided = openServerSide(api, { subscribeCandlesRequest: { subscriptionAction: SUBSCRIBE,
    waitingClose: false, instruments: [{ figi: '', interval: ONE_MINUTE, instrumentId: lkoh.uid }] } });
  await until(() => sided.messages.find((m) => m.subscribeCandlesResponse), 5000, 'the server-side answer');

  const from = live.messages.length;
  for (const lots of [1, 2, 3]) await marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, lots, lkoh);
  const tradedAt = Date.now();
  const minuteOf = (t) => Math.floor(t / 60000) * 60000;
  const minute = minuteOf(tradedAt);
  const reference = async () => (await api.marketdata.getCandles({ instrumentId: lkoh.uid,
    interval: CandleInterval.CANDLE_INTERVAL_1_MIN, from: new Date(minute), to: new Date(minute + 60000) }))
    .candles.find((c) => c.time.getTime() === minute);
  const unary = await reference();
  assert.ok(unary && Number(unary.volume) >= 6, 'GetCandles has the minute');
  // The live stream ends on the candle's newest state, which is GetCandles' candle.
  const streamed = await until(() => live.messages.slice(from).filter((m) => m.candle
    && m.candle.time.getTime() === minute).at(-1)?.candle, 5000, 'a streamed candle');
  await until(() => live.messages.slice(from).filter((m) => m.candle).at(-1)?.candle.volume === unary.volume,
    5000, 'the newest candle state');
  const newest = live.messages.slice(from).filter((m) => m.candle).at(-1).candle;
  assert.deepEqual(ohlcv(newest), ohlcv(unary));
  assert.equal(newest.figi, lkoh.figi);
  assert.equal(newest.instrumentUid, lkoh.uid);
  assert.equal(newest.interval, ONE_MINUTE);
  assert.equal(Number(newest.volumeBuy), Number(unary.volumeBuy));
  assert.equal(Number(newest.volumeSell), Number(unary.volumeSell));
  assert.ok(newest.lastTradeTs.getTime() >= minute && newest.lastTradeTs.getTime() < minute + 60000);
  const last = (await api.marketdata.getLastTrades({ instrumentId: lkoh.uid })).trades.at(-1);
  assert.equal(newest.lastTradeTs.getTime(), last.time.getTime(), 'last_trade_ts is the last print');
  assert.ok(streamed.time instanceof Date);
  // The server-side stream has the same candle.
  await until(() => sided.messages.filter((m) => m.candle).at(-1)?.candle.volume === unary.volume, 5000,
    'the server-side stream\'s candle');
  assert.deepEqual(ohlcv(sided.messages.filter((m) => m.candle).at(-1).candle), ohlcv(unary));
  // waiting_close: nothing while the minute forms.
  if (Date.now() < minute + 59000)
    assert.ok(!closing.messages.some((m) => m.candle), 'no candle before the close');

  // Unsubscribed, the live stream gets no more candles.
  const unsubscribedAt = live.messages.length;
  live.send({ subscribeCandlesRequest: { subscriptionAction: UNSUBSCRIBE,
    instruments: [{ figi: lkoh.figi, interval: ONE_MINUTE, instrumentId: '' }] } });
  const gone = (await live.next((m) => m.subscribeCandlesResponse, 5000, unsubscribedAt))
    .subscribeCandlesResponse.candlesSubscriptions[0];
  assert.equal(gone.subscriptionStatus, SUCCESS);
  assert.equal(gone.subscriptionId, answer.candlesSubscriptions[0].subscriptionId);
  const afterUnsubscribe = live.messages.length;
  await marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, 1, lkoh);
  const final = minuteOf(Date.now()) === minute ? await reference() : unary;

  // The minute closes by the clock (no later trade is needed): one closed candle, its final state.
  const closed = (await closing.next((m) => m.candle, 75000)).candle;
  assert.ok(Date.now() >= minute + 60000, 'sent once the minute is over');
  assert.equal(closed.time.getTime(), minute);
  assert.deepEqual(ohlcv(closed), ohlcv(final));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(closing.messages.filter((m) => m.candle).length, 1, 'the closed candle is sent once');
  assert.ok(!live.messages.slice(afterUnsubscribe).some((m) => m.candle), 'no candle after unsubscribe');
  await Promise.all([live.close(), closing.close(), sided.stop()]);
});

test('candles: a subscription gets the forming candle at once; GetMySubscriptions answers with no subscriptions', async () => {
  const api = sdk(server, 't.demo.full');
  const lkoh = demoInstruments.find((i) => i.ticker === 'LKOH');
  const empty = openMarketData(api);
  empty.send({ getMySubscriptions: {} });
  for (const kind of ['subscribeCandlesResponse', 'subscribeOrderBookResponse', 'subscribeTradesResponse',
    'subscribeInfoResponse', 'subscribeLastPriceResponse']) {
    const answer = await empty.next((m) => m[kind]);
    assert.match(answer[kind].trackingId, UUID_RE);
  }
  await empty.close();
  await marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, 1, lkoh);
  const md = openMarketData(api);
  md.send({ subscribeCandlesRequest: { subscriptionAction: SUBSCRIBE, waitingClose: false, instruments: [
    { figi: '', interval: SubscriptionInterval.SUBSCRIPTION_INTERVAL_ONE_HOUR, instrumentId: lkoh.uid }] } });
  await md.next((m) => m.subscribeCandlesResponse);
  const first = (await md.next((m) => m.candle)).candle;
  const hour = Math.floor(Date.now() / 3600000) * 3600000;
  const unary = (await api.marketdata.getCandles({ instrumentId: lkoh.uid,
    interval: CandleInterval.CANDLE_INTERVAL_HOUR, from: new Date(hour - 3600000), to: new Date(hour + 3600000) }))
    .candles.at(-1);
  assert.equal(first.interval, SubscriptionInterval.SUBSCRIPTION_INTERVAL_ONE_HOUR);
  assert.deepEqual(ohlcv(first), ohlcv(unary));
  await md.close();
});

test('order books: at most one per 100 ms per subscription, the newest state last', async () => {
  const api = sdk(server, 't.demo.full');
  const md = openMarketData(api);
  md.send({ subscribeOrderBookRequest: { subscriptionAction: SUBSCRIBE,
    instruments: [{ figi: share.figi, depth: 10, instrumentId: '', orderBookType: 0 }] } });
  await md.next((m) => m.subscribeOrderBookResponse);
  await md.next((m) => m.orderbook); // the current book
  const from = md.messages.length;
  const sells = [];
  for (let i = 0; i < 20; i++)
    sells.push(marketOrder(api, OrderDirection.ORDER_DIRECTION_BUY, 1, share));
  await Promise.all(sells);
  const unary = await api.marketdata.getOrderBook({ instrumentId: share.uid, depth: 10 });
  // The held-back newest state leaves by itself, after the interval, with no further change.
  await until(() => {
    const last = md.messages.slice(from).filter((m) => m.orderbook).at(-1)?.orderbook;
    return last && JSON.stringify(levels(last.asks)) === JSON.stringify(levels(unary.asks));
  }, 5000, 'the newest book');
  const times = md.messages.slice(from).filter((m) => m.orderbook).map((m) => m.orderbook.time.getTime());
  assert.ok(times.length >= 1 && times.length < 20, `books are throttled (${times.length} for 20 changes)`);
  for (let i = 1; i < times.length; i++)
    assert.ok(times[i] - times[i - 1] >= 100, `books ${times[i] - times[i - 1]} ms apart`);
  await md.close();
});
