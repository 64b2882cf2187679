// The WebSocket streams at /ws/ (docs/PROTOCOL.md, "WebSocket streams") through the npm `ws`
// client, a WebSocket client we did not write:
// - OrderStateStream in both subprotocols (json: camelCase; json-proto: the .proto names) and with
//   both token placements (Authorization header; `json, <token>` in the subprotocol list, as a
//   browser sends it), following an order the npm SDK places: int64 as strings, enums by name,
//   RFC 3339 times;
// - a WebSocket and a gRPC client of the same stream get the same messages, field by field;
// - MarketDataStream: candles, last price and order book subscribed, data received, unsubscribed,
//   then a bad message closes the socket with 4003;
// - no token, an unknown token: 4016; no subprotocol: the handshake is refused; an unknown path:
//   4012; the per-token stream cap: 4008 (80001); a message over the size limit: 1009;
// - a browser (headless Chromium, when installed) follows OrderStateStream with the token in the
//   subprotocol list, the only place its WebSocket can put one;
// - a reader that stops reading is cut off by the stream's own slow-consumer rule, and the
//   server's memory stays bounded.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import grpc from '@grpc/grpc-js';
import WebSocket from 'ws';
import { OrderDirection, OrderType, OrderIdType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, closeClients, demoConfig, demoInstruments, UUID_RE } from './harness.mjs';
import { PACKAGE, asJson, loadContract } from './proto-json.mjs';
import { findChromium } from './cdp.mjs';

const TOKEN = 't.demo.full';
const [account] = demoConfig.accounts.map((a) => a.id);
const etf = demoInstruments.find((i) => i.type === 'etf');
const share = demoInstruments.find((i) => i.type === 'share');
const ORDER_STATE = `${PACKAGE}.OrdersStreamService/OrderStateStream`;
const MARKET_DATA = `${PACKAGE}.MarketDataStreamService/MarketDataStream`;
const RFC3339_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$/;
const contract = loadContract();

let server;
before(async () => {
  server = await startServer({ args: ['--http-listen', '127.0.0.1:0'] });
});
after(async () => {
  closeClients();
  const status = await server.stop();
  assert.deepEqual(status, { code: 0, signal: null }, server.output().slice(-4000));
});

function configWith(limits) {
  const config = structuredClone(demoConfig);
  Object.assign(config.limits, limits);
  const path = join(tmpdir(), `tinvestd-ws-${process.pid}-${randomUUID()}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function price(fraction, instrument = etf) {
  const tick = Number(instrument.min_price_increment);
  const steps = Math.round((Number(instrument.reference_price) * fraction) / tick);
  const nanos = Math.round(steps * tick * 1e9);
  return { units: Math.trunc(nanos / 1e9), nano: nanos % 1e9 };
}

function restingOrder() {
  return {
    instrumentId: etf.uid, quantity: 1, price: price(0.9), direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: account, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(),
  };
}

/**
 * A WebSocket to /ws/<path>: `messages` (parsed frames), `next(predicate)`, `send(object)`,
 * `closed` (resolves to { code, reason }), `opened` (resolves to the handshake's headers, or
 * rejects when the handshake is refused).
 */
function openWs(target, path, { protocols = ['json'], headers = {} } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${target.httpPort}/ws/${path}`, protocols, { headers });
  const messages = [];
  const waiters = [];
  let handshake = null;
  let ended = null;
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  ws.on('upgrade', (response) => { handshake = response.headers; });
  ws.on('message', (data, binary) => {
    assert.equal(binary, false, 'every frame is text');
    messages.push(JSON.parse(String(data)));
    wake();
  });
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => {
    ended = { code, reason: String(reason) };
    wake();
    resolve(ended);
  }));
  const opened = new Promise((resolve, reject) => {
    ws.on('open', () => resolve(handshake));
    ws.on('error', reject);
  });
  opened.catch(() => {});
  return {
    ws, messages, closed, opened,
    send(object) { ws.send(typeof object === 'string' ? object : JSON.stringify(object)); },
    async next(predicate, timeoutMs = 10000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.slice(from).find(predicate);
        if (found) return found;
        if (ended) throw new Error(`socket closed ${ended.code} ${ended.reason}: ${JSON.stringify(messages)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for a frame: ${JSON.stringify(messages)}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, left); });
      }
    },
    async close() {
      if (ended === null) ws.close(1000);
      return closed;
    },
  };
}

/** The error frame before an error close: the rpcStatus with the T-Invest code. */
function assertErrorClose(socketEnd, messages, status, code) {
  assert.equal(socketEnd.code, 4000 + status, JSON.stringify(socketEnd));
  const last = messages.at(-1);
  assert.equal(last.code, status);
  assert.equal(last.description, code);
  assert.deepEqual(last.details, []);
  assert.ok(last.message.length > 0);
  assert.equal(socketEnd.reason, last.message.slice(0, 123), 'the close reason is the T-Invest message');
}

test('OrderStateStream in both subprotocols and both token placements follows an order of the SDK', async () => {
  // json with the token in the subprotocol list (a browser's only way), camelCase request.
  const camel = openWs(server, ORDER_STATE, { protocols: ['json', TOKEN] });
  // json-proto with an Authorization header, proto-named request.
  const proto = openWs(server, ORDER_STATE, { protocols: ['json-proto'], headers: { authorization: `Bearer ${TOKEN}` } });
  const camelHeaders = await camel.opened;
  const protoHeaders = await proto.opened;
  assert.equal(camelHeaders['sec-websocket-protocol'], 'json', 'the subprotocol chosen is json, not the token');
  assert.equal(protoHeaders['sec-websocket-protocol'], 'json-proto');
  assert.match(camelHeaders['x-tracking-id'], UUID_RE);
  assert.notEqual(camelHeaders['x-tracking-id'], protoHeaders['x-tracking-id']);
  camel.send({ accounts: [account], pingDelayMillis: 60000 });
  proto.send({ accounts: [account], ping_delay_millis: 60000 });
  const camelSub = (await camel.next((m) => m.subscription)).subscription;
  const protoSub = (await proto.next((m) => m.subscription)).subscription;
  assert.equal(camelSub.status, 'RESULT_SUBSCRIPTION_STATUS_OK');
  assert.deepEqual(camelSub.accounts, [account]);
  assert.match(camelSub.streamId, UUID_RE);
  assert.equal(protoSub.status, 'RESULT_SUBSCRIPTION_STATUS_OK');
  assert.match(protoSub.stream_id, UUID_RE);
  assert.match(protoSub.tracking_id, UUID_RE);

  const api = sdk(server, TOKEN);
  const order = restingOrder();
  await api.orders.postOrderAsync(order);
  const camelState = (await camel.next((m) => m.orderState?.orderRequestId === order.orderId &&
    /^\d+$/.test(m.orderState.orderId))).orderState;
  const protoState = (await proto.next((m) => m.order_state?.order_request_id === order.orderId &&
    /^\d+$/.test(m.order_state.order_id))).order_state;
  // camelCase names, int64 as strings, enums by name, RFC 3339 times, defaults written.
  assert.equal(camelState.accountId, account);
  assert.equal(camelState.instrumentUid, etf.uid);
  assert.equal(camelState.ticker, etf.ticker);
  assert.equal(camelState.executionReportStatus, 'EXECUTION_REPORT_STATUS_NEW');
  assert.equal(camelState.direction, 'ORDER_DIRECTION_BUY');
  assert.equal(camelState.orderType, 'ORDER_TYPE_LIMIT');
  assert.equal(camelState.lotsRequested, '1');
  assert.equal(camelState.lotsExecuted, '0');
  assert.equal(camelState.lotsLeft, '1');
  assert.equal(typeof camelState.lotSize, 'number', 'int32 is a number');
  assert.equal(camelState.orderPrice.units, String(order.price.units));
  assert.equal(camelState.orderPrice.nano, order.price.nano);
  assert.match(camelState.createdAt, RFC3339_RE);
  assert.deepEqual(camelState.trades, []);
  assert.equal(camelState.order_request_id, undefined);
  // The same message with the proto names.
  assert.equal(protoState.account_id, account);
  assert.equal(protoState.execution_report_status, 'EXECUTION_REPORT_STATUS_NEW');
  assert.equal(protoState.lots_requested, '1');
  assert.equal(protoState.order_price.units, String(order.price.units));
  assert.equal(protoState.created_at, camelState.createdAt);
  assert.equal(protoState.orderRequestId, undefined);

  await api.orders.cancelOrder({ accountId: account, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  const cancelled = (await camel.next((m) => m.orderState?.orderRequestId === order.orderId &&
    m.orderState.executionReportStatus === 'EXECUTION_REPORT_STATUS_CANCELLED')).orderState;
  assert.equal(cancelled.lotsCancelled, '1');
  assert.equal(cancelled.statusInfo, 'CAUSE_CANCELLED_BY_CLIENT');
  assert.match(cancelled.completionTime, RFC3339_RE);
  assert.equal(camel.messages.filter((m) => m.orderState?.orderRequestId === order.orderId).length, 3,
    'accepted, acknowledged, cancelled');
  // A server stream takes one request: a second one is refused.
  proto.send({ accounts: [] });
  const protoEnd = await proto.closed;
  assertErrorClose(protoEnd, proto.messages, 3, '30102');
  assert.deepEqual(await camel.close(), { code: 1000, reason: '' });
});

/** A raw gRPC server stream of `path` whose messages are decoded by our proto files. */
function grpcStream(client, path, requestType, replyType, request) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  const bytes = Buffer.from(requestType.encode(requestType.fromObject(request)).finish());
  const call = client.makeServerStreamRequest(`/${path}`, (b) => b, (b) => b, bytes, metadata);
  const messages = [];
  call.on('data', (data) => messages.push(asJson(replyType, replyType.decode(data))));
  call.on('error', () => {});
  return { call, messages };
}

test('a WebSocket and a gRPC client of the same stream receive the same messages', async () => {
  const requestType = contract.lookupType(`${PACKAGE}.OrderStateStreamRequest`);
  const replyType = contract.lookupType(`${PACKAGE}.OrderStateStreamResponse`);
  const client = new grpc.Client(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
  const socket = openWs(server, ORDER_STATE, { protocols: ['json', TOKEN] });
  await socket.opened;
  socket.send({ accounts: [account] });
  await socket.next((m) => m.subscription);
  const rpc = grpcStream(client, ORDER_STATE, requestType, replyType, { accounts: [account] });
  const deadline = Date.now() + 10000;
  while (!rpc.messages.some((m) => m.subscription) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(rpc.messages.some((m) => m.subscription));

  const api = sdk(server, TOKEN);
  const orders = [restingOrder(), restingOrder()];
  for (const order of orders) await api.orders.postOrderAsync(order);
  for (const order of orders) {
    await api.orders.cancelOrder({ accountId: account, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  }
  const ids = new Set(orders.map((o) => o.orderId));
  const ours = (list) => list.filter((m) => ids.has(m.orderState?.orderRequestId));
  for (const order of orders) {
    await socket.next((m) => m.orderState?.orderRequestId === order.orderId &&
      m.orderState.executionReportStatus === 'EXECUTION_REPORT_STATUS_CANCELLED');
  }
  while (ours(rpc.messages).length < ours(socket.messages).length && Date.now() < deadline + 10000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(ours(socket.messages).length, 6, 'three transitions of each order');
  assert.deepEqual(ours(socket.messages), ours(rpc.messages), 'field by field, in the same order');
  // The subscription answers differ only in their stream's own ids.
  const strip = ({ subscription: { trackingId, streamId, ...rest } }) => rest;
  assert.deepEqual(strip(socket.messages.find((m) => m.subscription)), strip(rpc.messages.find((m) => m.subscription)));
  rpc.call.cancel();
  client.close();
  await socket.close();
});

test('every other stream answers over its WebSocket: TradesStream, PortfolioStream, PositionsStream, MarketDataServerSideStream', async () => {
  const cases = [
    ['OrdersStreamService/TradesStream', { accounts: [account] }, (m) => m.subscription?.status === 'RESULT_SUBSCRIPTION_STATUS_OK'],
    ['OperationsStreamService/PortfolioStream', { accounts: [account] },
      (m) => m.subscriptions?.accounts?.[0]?.subscriptionStatus === 'PORTFOLIO_SUBSCRIPTION_STATUS_SUCCESS'],
    ['OperationsStreamService/PortfolioStream', { accounts: [account] }, (m) => m.portfolio?.accountId === account],
    ['OperationsStreamService/PositionsStream', { accounts: [account], withInitialPositions: true },
      (m) => m.initialPositions?.accountId === account && Array.isArray(m.initialPositions.money)],
    ['MarketDataStreamService/MarketDataServerSideStream',
      { subscribeLastPriceRequest: { subscriptionAction: 'SUBSCRIPTION_ACTION_SUBSCRIBE', instruments: [{ instrumentId: share.uid }] } },
      (m) => m.subscribeLastPriceResponse?.lastPriceSubscriptions?.[0]?.subscriptionStatus === 'SUBSCRIPTION_STATUS_SUCCESS'],
  ];
  for (const [path, request, expected] of cases) {
    const socket = openWs(server, `${PACKAGE}.${path}`, { protocols: ['json', TOKEN] });
    await socket.opened;
    socket.send(request);
    await socket.next(expected);
    assert.deepEqual(await socket.close(), { code: 1000, reason: '' }, path);
  }
});

test('MarketDataStream: subscribe to candles, last price and order book, receive, unsubscribe, then a bad message', async () => {
  for (const protocol of ['json', 'json-proto']) {
    const name = protocol === 'json' ? (camel) => camel : (camel) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const pick = (m, key) => m[name(key)];
    const socket = openWs(server, MARKET_DATA, { protocols: [protocol, TOKEN] });
    await socket.opened;
    const instruments = (extra = {}) => [{ [name('instrumentId')]: share.uid, ...extra }];
    socket.send({ [name('subscribeCandlesRequest')]: { [name('subscriptionAction')]: 'SUBSCRIPTION_ACTION_SUBSCRIBE',
      instruments: instruments({ interval: 'SUBSCRIPTION_INTERVAL_ONE_MINUTE' }) } });
    socket.send({ [name('subscribeLastPriceRequest')]: { [name('subscriptionAction')]: 'SUBSCRIPTION_ACTION_SUBSCRIBE',
      instruments: instruments() } });
    socket.send({ [name('subscribeOrderBookRequest')]: { [name('subscriptionAction')]: 1,
      instruments: instruments({ depth: 10 }) } });
    const candlesAnswer = pick(await socket.next((m) => pick(m, 'subscribeCandlesResponse')), 'subscribeCandlesResponse');
    const lastAnswer = pick(await socket.next((m) => pick(m, 'subscribeLastPriceResponse')), 'subscribeLastPriceResponse');
    const bookAnswer = pick(await socket.next((m) => pick(m, 'subscribeOrderBookResponse')), 'subscribeOrderBookResponse');
    for (const [answer, list] of [[candlesAnswer, 'candlesSubscriptions'], [lastAnswer, 'lastPriceSubscriptions'],
      [bookAnswer, 'orderBookSubscriptions']]) {
      const [entry] = pick(answer, list);
      assert.equal(pick(entry, 'subscriptionStatus'), 'SUBSCRIPTION_STATUS_SUCCESS', `${protocol} ${list}`);
      assert.equal(pick(entry, 'instrumentUid'), share.uid);
      assert.match(pick(entry, 'subscriptionId'), UUID_RE);
    }
    // The current book comes at once; a market buy makes a trade: last price and candle.
    const book = pick(await socket.next((m) => pick(m, 'orderbook')), 'orderbook');
    assert.equal(book.depth, 10);
    assert.ok(book.asks.length > 0);
    assert.equal(typeof book.asks[0].quantity, 'string', 'int64 quantity as a string');
    assert.match(book.time, RFC3339_RE);
    const api = sdk(server, TOKEN);
    await api.orders.postOrder({ instrumentId: share.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY,
      accountId: account, orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() });
    const last = pick(await socket.next((m) => pick(m, 'lastPrice')), 'lastPrice');
    assert.equal(pick(last, 'instrumentUid'), share.uid);
    assert.match(last.time, RFC3339_RE);
    const candle = pick(await socket.next((m) => pick(m, 'candle')), 'candle');
    assert.equal(candle.interval, 'SUBSCRIPTION_INTERVAL_ONE_MINUTE');
    assert.equal(typeof candle.volume, 'string');
    // Unsubscribe: the answers say so.
    const from = socket.messages.length;
    socket.send({ [name('subscribeLastPriceRequest')]: { [name('subscriptionAction')]: 'SUBSCRIPTION_ACTION_UNSUBSCRIBE',
      instruments: instruments() } });
    const gone = pick(await socket.next((m) => pick(m, 'subscribeLastPriceResponse'), 10000, from), 'subscribeLastPriceResponse');
    const [entry] = pick(gone, 'lastPriceSubscriptions');
    assert.equal(pick(entry, 'subscriptionAction'), 'SUBSCRIPTION_ACTION_UNSUBSCRIBE');
    assert.equal(pick(entry, 'subscriptionStatus'), 'SUBSCRIPTION_STATUS_SUCCESS');
    // A ping request is answered with a ping.
    socket.send({ ping: { time: new Date().toISOString() } });
    await socket.next((m) => m.ping, 10000, from);
    // A message that is not the request: the socket closes 4003 with jsonpb's text.
    socket.send({ [name('subscribeCandlesRequest')]: { [name('subscriptionAction')]: 'NOT_AN_ACTION' } });
    const end = await socket.closed;
    assertErrorClose(end, socket.messages, 3, '30102');
    assert.match(socket.messages.at(-1).message, /subscriptionAction|subscription_action/);
  }
});

test('MarketDataStream: a message that is not JSON closes 4003; one over the size limit closes 1009', async () => {
  const bad = openWs(server, MARKET_DATA, { protocols: ['json', TOKEN] });
  await bad.opened;
  bad.send('{"subscribeCandlesRequest": ');
  assertErrorClose(await bad.closed, bad.messages, 3, '30102');
  const big = openWs(server, MARKET_DATA, { protocols: ['json', TOKEN] });
  await big.opened;
  const limit = demoConfig.limits.max_message_bytes;
  big.send(`{"ping": {}, "x": "${'a'.repeat(limit)}"}`);
  const end = await big.closed;
  assert.equal(end.code, 1009);
  assert.match(end.reason, /exceeds/);
  // The server goes on. A large message within the limit (its unknown member skipped, as the real
  // proxy does) is read whole, in fragments, and the next one after it as well.
  const after = openWs(server, MARKET_DATA, { protocols: ['json', TOKEN] });
  await after.opened;
  after.send({ ping: {}, padding: 'a'.repeat(200000) });
  await after.next((m) => m.ping);
  after.send({ ping: {} });
  await after.next((m) => m.ping, 10000, after.messages.length);
  await after.close();
});

test('tokens: none or unknown closes 4016; no subprotocol refuses the handshake; an unknown path closes 4012', async () => {
  for (const options of [{ protocols: ['json'] }, { protocols: ['json', 't.unknown'] },
    { protocols: ['json-proto'], headers: { authorization: 'Bearer t.unknown' } },
    { protocols: ['json'], headers: { authorization: 'Basic abc' } }]) {
    const socket = openWs(server, ORDER_STATE, options);
    assertErrorClose(await socket.closed, socket.messages, 16, '40003');
    assert.equal(socket.messages.at(-1).message, 'Authentication token is missing or invalid');
  }
  const none = openWs(server, ORDER_STATE, { protocols: [], headers: { authorization: `Bearer ${TOKEN}` } });
  await assert.rejects(none.opened);
  const other = openWs(server, ORDER_STATE, { protocols: ['mqtt', TOKEN] });
  await assert.rejects(other.opened);
  const unknown = openWs(server, `${PACKAGE}.OrdersStreamService/NoSuchStream`, { protocols: ['json', TOKEN] });
  assertErrorClose(await unknown.closed, unknown.messages, 12, '12001');
  const unary = openWs(server, `${PACKAGE}.UsersService/GetAccounts`, { protocols: ['json', TOKEN] });
  assertErrorClose(await unary.closed, unary.messages, 12, '12001');
});

test('the per-token stream cap closes the next socket 4008 (80001); closing one frees its place', async () => {
  const limited = await startServer({ config: configWith({ market_data_streams_per_token: 1 }),
    args: ['--http-listen', '127.0.0.1:0'] });
  try {
    const first = openWs(limited, MARKET_DATA, { protocols: ['json', TOKEN] });
    await first.opened;
    first.send({ ping: {} });
    await first.next((m) => m.ping);
    const second = openWs(limited, MARKET_DATA, { protocols: ['json-proto', TOKEN] });
    await second.opened;
    second.send({ ping: {} });
    assertErrorClose(await second.closed, second.messages, 8, '80001');
    await first.close();
    await new Promise((r) => setTimeout(r, 300));
    const third = openWs(limited, MARKET_DATA, { protocols: ['json', TOKEN] });
    await third.opened;
    third.send({ ping: {} });
    await third.next((m) => m.ping);
    await third.close();
  } finally {
    assert.deepEqual(await limited.stop(), { code: 0, signal: null });
  }
});

function rssBytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

async function placeAndCancel(api, count) {
  // Each order is accepted, acknowledged and cancelled: three messages of the stream.
  for (let done = 0; done < count; done += 50) {
    const batch = Array.from({ length: 50 }, () => restingOrder());
    await Promise.all(batch.map((o) => api.orders.postOrderAsync(o)));
    await Promise.all(batch.map((o) => api.orders.cancelOrder({ accountId: account, orderId: o.orderId,
      orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST })));
  }
}

test('a reader that stops reading is cut off by the stream\'s slow-consumer rule; memory stays bounded', async () => {
  const ORDERS = Number(process.env.WS_SLOW_ORDERS ?? 1500);
  // Finished orders leave after a second, so the order pool's pages are reused; AddressSanitizer's
  // quarantine (which keeps freed memory for a while) is off, so that the resident size measures
  // what the server holds.
  const asan = process.env.ASAN_OPTIONS;
  process.env.ASAN_OPTIONS = `${asan ? `${asan}:` : ''}quarantine_size_mb=0`;
  const limited = await startServer({
    config: configWith({ stream_backlog_messages: 16, streams_per_token_per_method: 1,
      order_history_retention_s: 1, idempotency_retention_s: 1 }),
    args: ['--http-listen', '127.0.0.1:0'] });
  if (asan === undefined) delete process.env.ASAN_OPTIONS;
  else process.env.ASAN_OPTIONS = asan;
  try {
    const api = sdk(limited, TOKEN);
    await placeAndCancel(api, 300); // warms the pools and the connections up
    // What the same orders cost the server with no stream at all (its operations, journal and
    // pools), then with a stream whose reader stops reading.
    let before = rssBytes(limited.pid);
    await placeAndCancel(api, ORDERS);
    const baseline = rssBytes(limited.pid) - before;
    const slow = openWs(limited, ORDER_STATE, { protocols: ['json', TOKEN] });
    await slow.opened;
    slow.send({ accounts: [account] });
    await slow.next((m) => m.subscription);
    slow.ws.pause(); // reads nothing more from its socket
    before = rssBytes(limited.pid);
    await placeAndCancel(api, ORDERS);
    const grown = rssBytes(limited.pid) - before;
    // 3 × ORDERS messages, each more than 256 bytes even as protobuf, were sent to the stream: a
    // queue without bound would hold them all.
    assert.ok(grown < baseline + 3 * ORDERS * 256,
      `the server grew by ${grown} bytes with the slow reader, ${baseline} without`);
    // The server ended the stream: its token's one place is free again.
    const deadline = Date.now() + 20000;
    let again;
    for (;;) {
      again = openWs(limited, ORDER_STATE, { protocols: ['json', TOKEN] });
      await again.opened;
      again.send({ accounts: [account] });
      try {
        await again.next((m) => m.subscription, 5000);
        break;
      } catch (error) {
        assert.equal(again.messages.at(-1)?.description, '80001', String(error));
        assert.ok(Date.now() < deadline, 'the slow stream was never cut off');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await again.close();
    // The slow socket, read again, ends with the stream's status: RESOURCE_EXHAUSTED after what was
    // in flight.
    slow.ws.resume();
    const end = await slow.closed;
    assertErrorClose(end, slow.messages, 8, '80002');
    assert.match(slow.messages.at(-1).message, /too slowly/);
    console.log(`slow reader: ${slow.messages.length} frames read of ${3 * ORDERS + 1}; the server grew by ${grown} bytes (${baseline} without a stream)`);
  } finally {
    assert.deepEqual(await limited.stop(), { code: 0, signal: null });
  }
});

test('a browser follows OrderStateStream with the token in the subprotocol list', async (t) => {
  const chromium = findChromium();
  if (!chromium) {
    t.skip('chromium is not installed (scripts/install-deps.sh installs it)');
    return;
  }
  // The page reports what its WebSocket saw to the server that served it.
  const page = `<!doctype html><html><body><script>
const ws = new WebSocket('ws://127.0.0.1:${server.httpPort}/ws/${ORDER_STATE}', ['json', '${TOKEN}']);
const seen = [];
ws.onopen = () => { seen.push('open ' + ws.protocol); ws.send(JSON.stringify({ accounts: [] })); };
ws.onmessage = (e) => { seen.push(JSON.parse(e.data)); ws.close(1000); };
ws.onclose = (e) => { seen.push('close ' + e.code); fetch('/result', { method: 'POST', body: JSON.stringify(seen) }); };
</script></body></html>`;
  let report;
  const reported = new Promise((resolve) => { report = resolve; });
  const web = http.createServer((req, res) => {
    if (req.url !== '/result') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
      return;
    }
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => { res.end(); report(JSON.parse(body)); });
  });
  await new Promise((resolve) => web.listen(0, '127.0.0.1', resolve));
  const profile = join(tmpdir(), `tinvestd-ws-browser-${process.pid}`);
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`,
    `http://127.0.0.1:${web.address().port}/`], { stdio: 'ignore' });
  const timer = setTimeout(() => report(['timed out']), 60000);
  try {
    const seen = await reported;
    assert.equal(seen[0], 'open json', JSON.stringify(seen));
    assert.equal(seen[1].subscription.status, 'RESULT_SUBSCRIPTION_STATUS_OK');
    assert.deepEqual([...seen[1].subscription.accounts].sort(),
      demoConfig.accounts.filter((a) => !a.sandbox).map((a) => a.id).sort());
    assert.equal(seen[2], 'close 1000');
  } finally {
    clearTimeout(timer);
    const exited = new Promise((resolve) => browser.once('exit', resolve));
    if (browser.exitCode === null && browser.signalCode === null) browser.kill('SIGTERM');
    await exited;
    web.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
});
