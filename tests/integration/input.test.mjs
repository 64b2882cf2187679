// Hostile input: timestamps far outside what nanoseconds hold, strings that are not UTF-8 or hide
// a NUL byte, and UUID keys that differ only in letter case. The server stays up, answers with
// the contract's codes, stores nothing it refused, and (in the sanitizer build) exits cleanly.
//
// Where the SDK would never send such bytes, requests are written by hand on the wire and sent
// with grpc-js and identity (de)serializers, so the server sees exactly these bytes.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { TradingSchedulesResponse } from 'tinkoff-invest-api/dist/generated/instruments.js';
import { GetLastTradesResponse } from 'tinkoff-invest-api/dist/generated/marketdata.js';
import { OrderDirection, OrderType, OrderIdType, PostOrderAsyncRequest, GetOrdersResponse }
  from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, demoConfig, demoInstruments } from './harness.mjs';

const PACKAGE = 'tinkoff.public.invest.api.contract.v1';
const firstAccount = demoConfig.accounts[0].id;
const share = demoInstruments.find((i) => i.type === 'share');
const exchangeCount = new Set(demoInstruments.map((i) => i.exchange ?? 'MOEX')).size;
const HUGE_S = 5000000000000000000n; // 5e18 seconds: times 1e9 overflows int64 many times over
const DAY_S = 86400n;
let server;
let api;
let wireClient;

before(async () => {
  server = await startServer();
  api = sdk(server, 't.demo.full');
  wireClient = new grpc.Client(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
});
after(async () => {
  wireClient.close();
  assert.deepEqual(await server.stop(), { code: 0, signal: null }, 'clean exit after the abuse');
});

// ---- The wire, by hand ------------------------------------------------------------------------

/** A varint; negative numbers as protobuf writes them (two's complement in 64 bits). */
function varint(value) {
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
const numberField = (number, value) => Buffer.concat([varint(number << 3), varint(value)]);
const bytesField = (number, bytes) => Buffer.concat([varint((number << 3) | 2), varint(bytes.length), Buffer.from(bytes)]);
const textField = (number, text) => bytesField(number, Buffer.from(text, 'utf8'));
const timestamp = (seconds, nanos = 0) => Buffer.concat([numberField(1, seconds), numberField(2, nanos)]);
const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

/**
 * Sends `bytes` as the request of `method` ("Service/Method") and resolves to { response } (the
 * reply's bytes) or { error: { status, code, message } } (the numeric code from the status
 * details, the human text from the `message` trailer).
 */
function callWire(method, bytes, token = 't.demo.full') {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    wireClient.makeUnaryRequest(`/${PACKAGE}.${method}`, (b) => b, (b) => b, Buffer.from(bytes), metadata,
      { deadline: Date.now() + 10000 }, (error, response) => {
        if (!error) resolve({ response });
        else resolve({ error: { status: error.code, code: error.details, message: String(error.metadata?.get('message')[0] ?? '') } });
      });
  });
}

function assertRefused(result, code, messagePattern) {
  assert.ok(result.error, `refused, not answered: ${result.response?.length} bytes`);
  assert.equal(result.error.status, grpc.status.INVALID_ARGUMENT);
  assert.equal(result.error.code, String(code));
  if (messagePattern) assert.match(result.error.message, messagePattern);
}

/** The server is up and answers a plain call. */
async function assertAlive() {
  const { accounts } = await api.users.getAccounts({});
  assert.ok(accounts.length > 0, 'the server still answers');
}

/** The fields of one message: [{ number, wire, value | bytes }]. */
function readFields(buf) {
  const fields = [];
  let p = 0;
  const readVarint = () => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[p++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  while (p < buf.length) {
    const tag = Number(readVarint());
    const wire = tag & 7;
    if (wire === 0) fields.push({ number: tag >> 3, wire, value: readVarint() });
    else if (wire === 2) {
      const len = Number(readVarint());
      fields.push({ number: tag >> 3, wire, bytes: buf.subarray(p, p + len) });
      p += len;
    } else if (wire === 1 || wire === 5) p += wire === 1 ? 8 : 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return fields;
}

const strictText = new TextDecoder('utf-8', { fatal: true });
/**
 * Decodes the string fields `schema` names ({ number: 'string' | nested schema }) as strictly as
 * the official Python SDK's protobuf runtime does, which refuses a reply holding invalid UTF-8.
 */
function assertStrictStrings(buf, schema) {
  for (const f of readFields(buf)) {
    const kind = schema[f.number];
    if (kind === 'string') assert.doesNotThrow(() => strictText.decode(f.bytes), `field ${f.number} is valid UTF-8`);
    else if (kind) assertStrictStrings(f.bytes, kind);
  }
}
const ACCOUNTS_SCHEMA = { 1: { 1: 'string', 3: 'string' } }; // GetAccountsResponse.accounts: id, name
const POSITIONS_SCHEMA = { 1: { 1: 'string' }, 2: { 1: 'string' } }; // money and blocked: currency

// ---- Timestamps -------------------------------------------------------------------------------

test('TradingSchedules: times past what nanoseconds hold are refused with the contract codes', async () => {
  const schedules = (from, to) => callWire('InstrumentsService/TradingSchedules',
    Buffer.concat([from ? bytesField(2, from) : Buffer.alloc(0), to ? bytesField(3, to) : Buffer.alloc(0)]));
  // Before: the span overflowed, a huge allocation failed and the process aborted.
  assertRefused(await schedules(timestamp(-HUGE_S), timestamp(HUGE_S)), 30061, /`from` value out of range/);
  await assertAlive();
  // Even a one-day span that far out overflowed when its day was written back as a Timestamp.
  assertRefused(await schedules(timestamp(HUGE_S), timestamp(HUGE_S)), 30061);
  assertRefused(await schedules(timestamp(nowSeconds()), timestamp(HUGE_S)), 30062, /`to` value out of range/);
  assertRefused(await schedules(timestamp(-1n), null), 30061);
  assertRefused(await schedules(timestamp(-9223372036854775808n), timestamp(9223372036854775807n)), 30061);
  // Not a Timestamp at all: nanos must be 0 .. 999 999 999.
  assertRefused(await schedules(timestamp(nowSeconds(), -1), null), 30009, /`from` is invalid/);
  assertRefused(await schedules(timestamp(nowSeconds()), timestamp(nowSeconds(), 1000000000)), 30010);
  // A period longer than the real API's 14 days, anywhere in the range.
  assertRefused(await schedules(timestamp(0n), timestamp(4102444799n)), 30002);
  assertRefused(await schedules(timestamp(nowSeconds()), timestamp(nowSeconds() + 14n * DAY_S)), 30002);
  assertRefused(await schedules(timestamp(HUGE_S), timestamp(-HUGE_S)), 30061);
  await assertAlive();

  // The edges of the range still answer, with the asked days.
  const last = await schedules(timestamp(4102444799n - DAY_S + 1n), timestamp(4102444799n));
  assert.ok(last.response, JSON.stringify(last.error));
  const { exchanges } = TradingSchedulesResponse.decode(last.response);
  assert.equal(exchanges.length, exchangeCount);
  for (const e of exchanges) {
    assert.deepEqual(e.days.map((d) => d.date.toISOString()), ['2099-12-31T00:00:00.000Z']);
  }
  const longest = await schedules(timestamp(nowSeconds()), timestamp(nowSeconds() + 13n * DAY_S));
  assert.ok(longest.response, JSON.stringify(longest.error));
  assert.ok(TradingSchedulesResponse.decode(longest.response).exchanges.every((e) => e.days.length === 14));
  const epoch = await schedules(timestamp(0n), timestamp(0n));
  assert.ok(epoch.response, JSON.stringify(epoch.error));
});

test('GetLastTrades: huge `from` / `to` filter as "before / after everything"', async () => {
  // A market buy prints a trade against the maker's quotes.
  await api.orders.postOrder({
    instrumentId: share.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: firstAccount,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  });
  const recent = await api.marketdata.getLastTrades({ instrumentId: share.uid });
  assert.ok(recent.trades.length >= 1, 'the buy printed a trade');
  const trades = (from, to) => callWire('MarketDataService/GetLastTrades', Buffer.concat([
    from ? bytesField(2, from) : Buffer.alloc(0), to ? bytesField(3, to) : Buffer.alloc(0), textField(4, share.uid)]));

  // Before: seconds × 1e9 overflowed (the sanitizer build aborted on it).
  const everything = await trades(timestamp(-HUGE_S), timestamp(HUGE_S));
  assert.ok(everything.response, JSON.stringify(everything.error));
  assert.deepEqual(GetLastTradesResponse.decode(everything.response).trades, recent.trades);
  const extremes = await trades(timestamp(-9223372036854775808n, -1), timestamp(9223372036854775807n, 2147483647));
  assert.deepEqual(GetLastTradesResponse.decode(extremes.response).trades, recent.trades);
  // `to` alone: the hour before a time that far out holds no trade.
  const farTo = await trades(null, timestamp(HUGE_S));
  assert.deepEqual(GetLastTradesResponse.decode(farTo.response).trades, []);
  const farBack = await trades(null, timestamp(-HUGE_S));
  assert.deepEqual(GetLastTradesResponse.decode(farBack.response).trades, []);
  const sinceEver = await trades(timestamp(-HUGE_S), null);
  assert.deepEqual(GetLastTradesResponse.decode(sinceEver.response).trades, recent.trades);
  assertRefused(await trades(timestamp(HUGE_S), timestamp(-HUGE_S)), 30012);
  await assertAlive();
});

test('GetOrders: huge advanced-filter times saturate', async () => {
  const resting = await api.orders.postOrderAsync({
    instrumentId: share.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: firstAccount,
    orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(),
    price: { units: Math.trunc(Number(share.reference_price) * 0.9), nano: 0 },
  });
  const orders = (from, to) => callWire('OrdersService/GetOrders', Buffer.concat([
    textField(1, firstAccount), bytesField(2, Buffer.concat([bytesField(1, from), bytesField(2, to)]))]));
  const all = await orders(timestamp(-HUGE_S), timestamp(HUGE_S));
  assert.ok(all.response, JSON.stringify(all.error));
  const listed = GetOrdersResponse.decode(all.response).orders;
  assert.ok(listed.some((o) => o.orderRequestId === resting.orderRequestId));
  const none = await orders(timestamp(HUGE_S), timestamp(-HUGE_S));
  assert.deepEqual(GetOrdersResponse.decode(none.response).orders, []);
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: resting.orderRequestId,
    orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
});

// ---- Strings ----------------------------------------------------------------------------------

test('OpenSandboxAccount: a name that is not UTF-8 is refused and nothing is opened', async () => {
  const before = await callWire('SandboxService/GetSandboxAccounts', Buffer.alloc(0));
  assert.ok(before.response);
  for (const bad of [
    Buffer.from('caf\xe9', 'latin1'), // Latin-1, the usual way
    Buffer.from([0xc0, 0xaf]), // an overlong "/"
    Buffer.from([0xed, 0xa0, 0x80]), // a surrogate
    Buffer.from([0xf4, 0x90, 0x80, 0x80]), // past U+10FFFF
    Buffer.from('name\0hidden'), // a NUL
  ]) {
    const opened = await callWire('SandboxService/OpenSandboxAccount', bytesField(1, bad));
    assertRefused(opened, 30102, /`name` is invalid/);
  }
  const long = await callWire('SandboxService/OpenSandboxAccount', textField(1, 'x'.repeat(5000)));
  assertRefused(long, 30102, /`name` is invalid: longer than 4096 bytes/);
  const afterwards = await callWire('SandboxService/GetSandboxAccounts', Buffer.alloc(0));
  assert.deepEqual(afterwards.response, before.response, 'no account was opened');
  assertStrictStrings(afterwards.response, ACCOUNTS_SCHEMA);
  // Valid UTF-8 of every length class is kept as sent.
  const { accountId } = await api.sandbox.openSandboxAccount({ name: 'Песочница € 😀' });
  const listed = await callWire('SandboxService/GetSandboxAccounts', Buffer.alloc(0));
  assertStrictStrings(listed.response, ACCOUNTS_SCHEMA);
  const { accounts } = await api.sandbox.getSandboxAccounts({});
  assert.equal(accounts.find((a) => a.id === accountId)?.name, 'Песочница € 😀');
  await api.sandbox.closeSandboxAccount({ accountId });
});

test('SandboxPayIn: a currency that is not UTF-8 is refused and nothing is credited', async () => {
  const { accountId } = await api.sandbox.openSandboxAccount({ name: 'pay-in' });
  const payIn = (currency) => callWire('SandboxService/SandboxPayIn', Buffer.concat([
    textField(1, accountId), bytesField(2, Buffer.concat([bytesField(1, currency), numberField(2, 100)]))]));
  const positionsRequest = textField(1, accountId);
  const before = await callWire('SandboxService/GetSandboxPositions', positionsRequest);
  for (const bad of [Buffer.from([0x72, 0xff, 0x62]), Buffer.from('rub\0')]) {
    assertRefused(await payIn(bad), 30102, /`amount\.currency` is invalid/);
  }
  const afterwards = await callWire('SandboxService/GetSandboxPositions', positionsRequest);
  assert.ok(afterwards.response, JSON.stringify(afterwards.error));
  assert.deepEqual(afterwards.response, before.response, 'nothing was credited');
  assertStrictStrings(afterwards.response, POSITIONS_SCHEMA);
  // account_id has a catalogue code of its own for an invalid value.
  const badAccount = await callWire('SandboxService/SandboxPayIn', Buffer.concat([
    bytesField(1, Buffer.from([0x31, 0xfe])), bytesField(2, Buffer.concat([textField(1, 'rub'), numberField(2, 1)]))]));
  assertRefused(badAccount, 30022, /`account_id` is invalid/);
  // A good pay-in still works.
  const ok = await payIn(Buffer.from('rub'));
  assert.ok(ok.response, JSON.stringify(ok.error));
  const positions = await api.sandbox.getSandboxPositions({ accountId });
  assert.deepEqual(positions.money.map((m) => [m.currency, m.units]), [['rub', 100]]);
  await api.sandbox.closeSandboxAccount({ accountId });
});

test('a NUL inside order_id is refused: it would have cut the key short', async () => {
  const key = randomUUID();
  const request = PostOrderAsyncRequest.encode({
    instrumentId: share.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: firstAccount,
    orderType: OrderType.ORDER_TYPE_LIMIT, orderId: key,
    price: { units: Math.trunc(Number(share.reference_price) * 0.9), nano: 0 },
  }).finish();
  // A later occurrence of a field replaces the earlier one when decoded: the key becomes
  // `<uuid>\0tail`, which a C string reads as `<uuid>`.
  const hidden = Buffer.concat([Buffer.from(request), textField(7, `${key}\0tail`)]);
  assertRefused(await callWire('OrdersService/PostOrderAsync', hidden), 30102, /`order_id` is invalid: contains a NUL byte/);
  const state = await callWire('OrdersService/GetOrderState', Buffer.concat([
    textField(1, firstAccount), textField(2, key), numberField(4, OrderIdType.ORDER_ID_TYPE_REQUEST)]));
  assert.equal(state.error?.code, '50005', 'no order was stored under the cut key');
  // GetOrderState refuses a NUL the same way: it would otherwise find the order `key` names.
  const lookup = await callWire('OrdersService/GetOrderState', Buffer.concat([
    textField(1, firstAccount), textField(2, `${key}\0x`), numberField(4, OrderIdType.ORDER_ID_TYPE_REQUEST)]));
  assertRefused(lookup, 30102, /`order_id`/);
  await assertAlive();
});

// ---- UUID keys --------------------------------------------------------------------------------

function restingOrder(orderId, accountId = firstAccount) {
  return {
    instrumentId: share.uid, quantity: 2, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId,
    orderType: OrderType.ORDER_TYPE_LIMIT, orderId, price: { units: Math.trunc(Number(share.reference_price) * 0.9), nano: 0 },
  };
}

test('the same UUID key in upper and lower case names one order', async () => {
  const lower = randomUUID();
  const upper = lower.toUpperCase();
  const first = await api.orders.postOrderAsync(restingOrder(upper));
  const second = await api.orders.postOrderAsync(restingOrder(lower));
  assert.equal(second.tradeIntentId, first.tradeIntentId, 'the retry names the same order');
  const listed = (await api.orders.getOrders({ accountId: firstAccount })).orders
    .filter((o) => o.orderRequestId.toLowerCase() === lower);
  assert.equal(listed.length, 1, 'one order');
  const state = await api.orders.getOrderState({ accountId: firstAccount, orderId: lower,
    orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  assert.equal(state.orderId, listed[0].orderId);
  // Other terms under the same UUID in another case: the key is taken.
  const other = PostOrderAsyncRequest.encode({ ...restingOrder(lower), quantity: 3 }).finish();
  assert.equal((await callWire('OrdersService/PostOrderAsync', other)).error?.code, '30057');
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: lower, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });

  // PostOrder's keys that are not UUIDs stay exact, letter case included.
  const name = `Order-${Date.now()}`;
  const named = await api.orders.postOrder(restingOrder(name));
  const renamed = await api.orders.postOrder(restingOrder(name.toLowerCase()));
  assert.notEqual(renamed.orderId, named.orderId);
  for (const orderId of [named.orderId, renamed.orderId]) await api.orders.cancelOrder({ accountId: firstAccount, orderId });
});

test('after a restart from a snapshot, an upper-case UUID key is still found in lower case', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinvestd-input-'));
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ ...demoConfig, limits: { ...demoConfig.limits, snapshot_every_events: 4 } }));
    const dataDir = join(dir, 'data');
    let restarted = await startServer({ config: configPath, dataDir });
    let client = sdk(restarted, 't.demo.full');
    const lower = randomUUID();
    const first = await client.orders.postOrderAsync(restingOrder(lower.toUpperCase()));
    // Enough events after it (accept and acknowledgement each) that a snapshot holds the order.
    for (let i = 0; i < 4; i++) await client.orders.postOrderAsync(restingOrder(randomUUID()));
    for (let waited = 0; !readdirSync(dataDir).some((f) => f.endsWith('.snap')); waited += 50) {
      assert.ok(waited < 10000, 'a snapshot was written');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await restarted.stop(), { code: 0, signal: null });
    restarted = await startServer({ config: configPath, dataDir });
    try {
      client = sdk(restarted, 't.demo.full');
      const state = await client.orders.getOrderState({ accountId: firstAccount, orderId: lower,
        orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
      assert.equal(state.orderRequestId.toLowerCase(), lower);
      const again = await client.orders.postOrderAsync(restingOrder(lower));
      assert.equal(again.tradeIntentId, first.tradeIntentId, 'the retry names the loaded order');
    } finally {
      assert.deepEqual(await restarted.stop(), { code: 0, signal: null });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
