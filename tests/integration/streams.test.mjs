// OrderStateStream and TradesStream through the npm SDK's streaming client.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrderDirection, OrderType, OrderExecutionReportStatus, OrderIdType,
  OrderStateStreamResponse_StatusCauseInfo as Cause } from 'tinkoff-invest-api/dist/generated/orders.js';
import { ResultSubscriptionStatus } from 'tinkoff-invest-api/dist/generated/common.js';
import { startServer, sdk, closeClients, demoConfig, demoInstruments, UUID_RE } from './harness.mjs';

const [firstAccount, secondAccount] = demoConfig.accounts.map((a) => a.id);
const etf = demoInstruments.find((i) => i.type === 'etf');
let server;

function price(fraction, instrument = etf) {
  const tick = Number(instrument.min_price_increment);
  const steps = Math.round((Number(instrument.reference_price) * fraction) / tick);
  const nanos = Math.round(steps * tick * 1e9);
  return { units: Math.trunc(nanos / 1e9), nano: nanos % 1e9 };
}

function restingOrder(accountId = firstAccount) {
  return {
    instrumentId: etf.uid, quantity: 1, price: price(0.9), direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(),
  };
}

/** Opens a stream and reads it in the background; `next(predicate)` waits for a matching message. */
function openStream(api, method, request) {
  const controller = new AbortController();
  const messages = [];
  const waiters = [];
  let ended = null;
  const done = (async () => {
    try {
      for await (const message of api.ordersStream[method](request, { signal: controller.signal })) {
        messages.push({ message, at: Date.now() });
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
    async next(predicate, timeoutMs = 5000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.slice(from).find((m) => predicate(m.message));
        if (found) return found.message;
        if (ended) throw new Error(`stream ended: ${ended.error?.message ?? 'ok'}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('timed out waiting for a stream message');
        await new Promise((r) => { waiters.push(r); setTimeout(r, left); });
      }
    },
    async close() { controller.abort(); await done; },
    done,
  };
}

before(async () => { server = await startServer(); });
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test('OrderStateStream: subscription first, then one message per transition with the key', async () => {
  const api = sdk(server, 't.demo.full');
  const stream = openStream(api, 'orderStateStream', { accounts: [] });
  const sub = (await stream.next((m) => m.subscription)).subscription;
  assert.equal(sub.status, ResultSubscriptionStatus.RESULT_SUBSCRIPTION_STATUS_OK);
  assert.match(sub.trackingId, UUID_RE);
  assert.match(sub.streamId, UUID_RE);
  const readable = (sandbox) => demoConfig.accounts
    .filter((a) => demoConfig.tokens[0].accounts[a.id] && Boolean(a.sandbox) === sandbox).map((a) => a.id);
  assert.deepEqual([...sub.accounts].sort(), readable(false).sort(),
    'every broker account the token can read: the broker endpoint knows no sandbox account');
  assert.ok(stream.messages[0].message.subscription, 'the subscription response comes first');
  const sandboxStream = openStream(sdk(server, 't.demo.full', { sandbox: true }), 'orderStateStream', { accounts: [] });
  const sandboxSub = (await sandboxStream.next((m) => m.subscription)).subscription;
  assert.deepEqual([...sandboxSub.accounts].sort(), readable(true).sort(),
    'on the sandbox endpoint: every sandbox account the token can read, and no broker account');
  await sandboxStream.close();

  const order = restingOrder();
  const reply = await api.orders.postOrderAsync(order);
  const mine = (m) => m.orderState?.orderRequestId === order.orderId;
  const accepted = (await stream.next(mine)).orderState;
  assert.equal(accepted.orderId, reply.tradeIntentId, 'broker acceptance carries our internal id');
  assert.equal(accepted.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_NEW);
  const acked = (await stream.next((m) => mine(m) && /^\d+$/.test(m.orderState.orderId))).orderState;
  assert.equal(acked.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_NEW);
  for (const s of [accepted, acked]) {
    assert.equal(s.ticker, etf.ticker);
    assert.equal(s.classCode, etf.class_code);
    assert.equal(s.lotSize, etf.lot);
    assert.equal(s.accountId, firstAccount);
    assert.equal(s.direction, OrderDirection.ORDER_DIRECTION_BUY);
    assert.equal(s.orderType, OrderType.ORDER_TYPE_LIMIT);
    assert.equal(s.lotsRequested, 1);
    assert.equal(s.lotsLeft, 1);
    assert.equal(s.instrumentUid, etf.uid);
    assert.equal(s.currency, etf.currency);
    assert.ok(s.createdAt instanceof Date);
  }
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  const cancelled = (await stream.next((m) => mine(m) &&
    m.orderState.executionReportStatus === OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_CANCELLED)).orderState;
  assert.equal(cancelled.statusInfo, Cause.CAUSE_CANCELLED_BY_CLIENT);
  assert.equal(cancelled.lotsCancelled, 1);
  assert.ok(cancelled.completionTime instanceof Date);
  const transitions = stream.messages.filter((m) => mine(m.message)).length;
  assert.equal(transitions, 3, 'accepted, acknowledged, cancelled — nothing more, nothing less');
  await stream.close();
});

test('PostOrder with a non-UUID key appears with a generated UUID order_request_id', async () => {
  const api = sdk(server, 't.demo.full');
  const stream = openStream(api, 'orderStateStream', { accounts: [firstAccount] });
  await stream.next((m) => m.subscription);
  const reply = await api.orders.postOrder({ ...restingOrder(), orderId: `plain-${Date.now()}` });
  const state = (await stream.next((m) => m.orderState?.orderId === reply.orderId)).orderState;
  assert.equal(state.orderRequestId, reply.orderRequestId);
  assert.match(state.orderRequestId, UUID_RE);
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: reply.orderId });
  await stream.close();
});

test('two tokens are isolated; an account the token cannot see is refused with 40002', async () => {
  const full = sdk(server, 't.demo.full');
  const one = sdk(server, 't.demo.one');
  const oneStream = openStream(one, 'orderStateStream', { accounts: [] });
  const sub = (await oneStream.next((m) => m.subscription)).subscription;
  // t.demo.one sees the first broker account and the margin account, not the second.
  const marginAccount = demoConfig.accounts.find((a) => a.kind === 'margin').id;
  assert.deepEqual(sub.accounts, [firstAccount, marginAccount]);
  const foreign = restingOrder(secondAccount);
  await full.orders.postOrderAsync(foreign);
  const own = restingOrder(firstAccount);
  await full.orders.postOrderAsync(own);
  await oneStream.next((m) => m.orderState?.orderRequestId === own.orderId);
  assert.ok(!oneStream.messages.some((m) => m.message.orderState?.orderRequestId === foreign.orderId));
  await oneStream.close();
  for (const o of [foreign, own])
    await full.orders.cancelOrder({ accountId: o.accountId, orderId: o.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });

  const refused = openStream(one, 'orderStateStream', { accounts: [secondAccount] });
  await refused.done;
  const first = refused.messages[0]?.message.subscription;
  assert.equal(first?.status, ResultSubscriptionStatus.RESULT_SUBSCRIPTION_STATUS_ERROR);
  assert.equal(first?.error?.code, '40002');
  assert.equal(refused.ended.error?.code, Status.PERMISSION_DENIED);
});

test('pings arrive at the asked period; an out-of-range period is INVALID_ARGUMENT', async () => {
  const api = sdk(server, 't.demo.full');
  const stream = openStream(api, 'orderStateStream', { accounts: [], pingDelayMs: 1000 });
  await stream.next((m) => m.subscription);
  const tariff = await api.users.getUserTariff({});
  assert.ok(tariff.streamLimits[0].open >= 1, 'GetUserTariff counts the open stream');
  // Load while the pings are timed: their period must not depend on the core's work.
  const load = (async () => {
    for (let round = 0; round < 6; round++) {
      const orders = Array.from({ length: 200 }, () => restingOrder());
      await Promise.all(orders.map((o) => api.orders.postOrderAsync(o)));
      await Promise.all(orders.map((o) => api.orders.cancelOrder({ accountId: o.accountId, orderId: o.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST })));
    }
  })();
  for (let i = 0; i < 3; i++) await stream.next((m) => m.ping, 3000, stream.messages.length);
  await load;
  const pings = stream.messages.filter((m) => m.message.ping);
  assert.ok(pings.length >= 3);
  // The period is the server's: measured on the pings' own timestamps, not on when this
  // process (busy generating the load) got round to reading them.
  for (let i = 1; i < pings.length; i++) {
    const gap = pings[i].message.ping.time.getTime() - pings[i - 1].message.ping.time.getTime();
    assert.ok(gap > 850 && gap < 1150, `ping gap ${gap} ms`);
  }
  assert.match(pings[0].message.ping.streamId, UUID_RE);
  await stream.close();
  const bad = openStream(api, 'orderStateStream', { accounts: [], pingDelayMs: 500 });
  await bad.done;
  assert.equal(bad.ended.error?.code, Status.INVALID_ARGUMENT);
});

test('TradesStream subscribes with the same rules', async () => {
  const api = sdk(server, 't.demo.full');
  const stream = openStream(api, 'tradesStream', { accounts: [firstAccount] });
  const sub = (await stream.next((m) => m.subscription)).subscription;
  assert.equal(sub.status, ResultSubscriptionStatus.RESULT_SUBSCRIPTION_STATUS_OK);
  assert.deepEqual(sub.accounts, [firstAccount]);
  await stream.close();
});

test('streams per token are limited: RESOURCE_EXHAUSTED 80001; closing frees the slot', async () => {
  const config = structuredClone(demoConfig);
  config.limits.streams_per_token_per_method = 2;
  const path = join(tmpdir(), `tinvestd-streams-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  const limited = await startServer({ config: path });
  try {
    const api = sdk(limited, 't.demo.full');
    const open = [openStream(api, 'orderStateStream', { accounts: [] }), openStream(api, 'orderStateStream', { accounts: [] })];
    for (const s of open) await s.next((m) => m.subscription);
    const third = openStream(api, 'orderStateStream', { accounts: [] });
    await third.done;
    assert.equal(third.ended.error?.code, Status.RESOURCE_EXHAUSTED);
    assert.equal(third.ended.error?.details, 'Limit of open streams exceeded');
    // Another token and another method are counted separately.
    const other = openStream(sdk(limited, 't.demo.readonly'), 'orderStateStream', { accounts: [] });
    await other.next((m) => m.subscription);
    await open[0].close();
    await new Promise((r) => setTimeout(r, 200));
    const again = openStream(api, 'orderStateStream', { accounts: [] });
    await again.next((m) => m.subscription);
    for (const s of [open[1], other, again]) await s.close();
  } finally {
    assert.deepEqual(await limited.stop(), { code: 0, signal: null });
  }
});

test('shutdown ends open streams with UNAVAILABLE', async () => {
  const own = await startServer();
  const stream = openStream(sdk(own, 't.demo.full'), 'orderStateStream', { accounts: [] });
  await stream.next((m) => m.subscription);
  assert.deepEqual(await own.stop(), { code: 0, signal: null });
  await stream.done;
  assert.equal(stream.ended.error?.code, Status.UNAVAILABLE);
});

test('a consumer that falls behind is cut off with RESOURCE_EXHAUSTED; a fast one gets everything', async () => {
  const config = structuredClone(demoConfig);
  config.limits.stream_backlog_messages = 1024;
  const path = join(tmpdir(), `tinvestd-slow-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  const own = await startServer({ config: path });
  try {
    const api = sdk(own, 't.demo.full');
    // The slow consumer reads its subscription and then nothing more.
    const slowIterator = api.ordersStream.orderStateStream({ accounts: [firstAccount] })[Symbol.asyncIterator]();
    assert.ok((await slowIterator.next()).value.subscription);
    const fast = openStream(api, 'orderStateStream', { accounts: [firstAccount] });
    await fast.next((m) => m.subscription);

    const orders = Array.from({ length: 2500 }, () => restingOrder());
    for (let i = 0; i < orders.length; i += 100)
      await Promise.all(orders.slice(i, i + 100).map((o) => api.orders.postOrderAsync(o)));
    const last = orders[orders.length - 1].orderId;
    await fast.next((m) => m.orderState?.orderRequestId === last && /^\d+$/.test(m.orderState.orderId), 20000);
    const received = fast.messages.filter((m) => m.message.orderState).length;
    assert.equal(received, orders.length * 2, 'accepted and acknowledged for every order, none lost');
    assert.equal(fast.ended, null, 'the fast consumer is still connected');

    // Draining the slow stream now ends in the cut-off error after what was already buffered.
    const error = await (async () => {
      try {
        for (;;) { const { done } = await slowIterator.next(); if (done) return null; }
      } catch (e) { return e; }
    })();
    assert.equal(error?.code, Status.RESOURCE_EXHAUSTED);
    assert.match(error.details, /too slowly/);
    await fast.close();
  } finally {
    assert.deepEqual(await own.stop(), { code: 0, signal: null });
  }
});
