// The defects a review found, each reproduced on the wire the way it was found: money that
// overflowed, a stream price built from fills that had not happened yet, a trade pool that
// aborted the server, a sandbox race that crashed it, a replace that spent money twice, state
// that never left memory. Every test here failed (or crashed the server) before the fix.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrdersServiceDefinition, OrderDirection, OrderType, OrderExecutionReportStatus as S,
  OrderIdType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { SandboxServiceDefinition } from 'tinkoff-invest-api/dist/generated/sandbox.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments } from './harness.mjs';

const [firstAccount, secondAccount] = demoConfig.accounts.map((a) => a.id);
const sber = demoInstruments.find((i) => i.ticker === 'SBER');
const irao = demoInstruments.find((i) => i.ticker === 'IRAO');
const BUY = OrderDirection.ORDER_DIRECTION_BUY;
const SELL = OrderDirection.ORDER_DIRECTION_SELL;
const servers = [];
// Under AddressSanitizer freed memory waits in a quarantine before reuse, which reads as growth;
// a small quarantine lets the memory check below see the server's own behaviour.
process.env.ASAN_OPTIONS = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4:thread_local_quarantine_size_kb=64']
  .filter(Boolean).join(':');

const q = (value) => { const n = Math.round(value * 1e9); return { units: Math.trunc(n / 1e9), nano: n % 1e9 }; };
const num = (m) => m.units + m.nano / 1e9;

/** A server on the demo configuration changed by `edit`. */
async function serverWith(edit, options = {}) {
  const config = structuredClone(demoConfig);
  // A market maker that does not walk: asks at ref + k ticks, bids at ref - k ticks.
  config.venue.market_maker = { ...config.venue.market_maker, walk_ticks: 0, refresh_ms: 3600000 };
  edit(config);
  const path = join(tmpdir(), `tinvestd-trust-${process.pid}-${servers.length}.json`);
  writeFileSync(path, JSON.stringify(config));
  const server = await startServer({ config: path, ...options });
  server.configPath = path;
  servers.push(server);
  return server;
}

after(async () => {
  closeClients();
  for (const server of servers)
    assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.output().slice(-2000));
});

async function freeCash(api, accountId) {
  const positions = await api.operations.getPositions({ accountId });
  return num(positions.money.find((m) => m.currency === 'rub') ?? { units: 0, nano: 0 });
}

test('an order worth more than int64 nano can hold is 30109, never a negative reservation', async () => {
  const server = await serverWith((c) => { delete c.limits.max_order_value; });
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const api = sdk(server, 't.demo.full');
  // 3 074 000 lots x 10 x 300.01 is 9.22e18 nano: it used to wrap and trade on 1 000 000 rub.
  const huge = await callRaw((o) => orders.postOrder({
    accountId: firstAccount, instrumentId: sber.uid, quantity: 3074000, price: q(300.01),
    direction: BUY, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() }, o));
  assert.equal(huge.error?.code, Status.INVALID_ARGUMENT);
  assert.equal(huge.error?.details, '30109');
  assert.equal(huge.trailer?.get('message'), 'Maximum transaction amount has been exceeded');
  assert.equal(await freeCash(api, firstAccount), 1000000);
  const orderList = await api.orders.getOrders({ accountId: firstAccount });
  assert.equal(orderList.orders.length, 0);
});

test('SandboxPayIn past the largest balance is INVALID_ARGUMENT and the balance is unchanged', async () => {
  const server = await serverWith(() => {});
  const sandbox = rawClient(server, SandboxServiceDefinition, 't.demo.full');
  const opened = await sandbox.openSandboxAccount({});
  for (let i = 0; i < 2; i++) {
    const r = await callRaw((o) => sandbox.sandboxPayIn({ accountId: opened.accountId,
      amount: { currency: 'rub', units: 9e9, nano: 0 } }, o));
    assert.equal(r.error?.code, Status.INVALID_ARGUMENT);
    assert.equal(r.error?.details, '30246');
  }
  const ok = await sandbox.sandboxPayIn({ accountId: opened.accountId, amount: { currency: 'rub', units: 6e8, nano: 0 } });
  assert.equal(ok.balance.units, 6e8);
  const over = await callRaw((o) => sandbox.sandboxPayIn({ accountId: opened.accountId,
    amount: { currency: 'rub', units: 6e8, nano: 0 } }, o));
  assert.equal(over.error?.details, '30246');
  const positions = await sandbox.getSandboxPositions({ accountId: opened.accountId });
  assert.equal(positions.money[0].units, 6e8);
});

test('a market buy sweeping two levels reports each fill at its own average on the stream', async () => {
  const server = await serverWith(() => {});
  const api = sdk(server, 't.demo.full');
  const controller = new AbortController();
  const messages = [];
  const stream = (async () => {
    try {
      for await (const m of api.ordersStream.orderStateStream({ accounts: [firstAccount] }, { signal: controller.signal }))
        if (m.orderState) messages.push(m.orderState);
    } catch { /* aborted */ }
  })();
  await new Promise((r) => setTimeout(r, 200));
  // The maker offers 100 lots at ref + 1 tick and 100 at ref + 2 ticks.
  const ref = Number(sber.reference_price);
  const key = randomUUID();
  await api.orders.postOrder({ accountId: firstAccount, instrumentId: sber.uid, quantity: 150,
    direction: BUY, orderType: OrderType.ORDER_TYPE_MARKET, orderId: key });
  const deadline = Date.now() + 5000;
  while (!messages.some((m) => m.executionReportStatus === S.EXECUTION_REPORT_STATUS_FILL) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  controller.abort();
  await stream;
  const fills = messages.filter((m) => m.orderRequestId === key && m.trades.length > 0);
  assert.equal(fills.length, 2);
  assert.equal(fills[0].lotsExecuted, 100);
  assert.ok(Math.abs(num(fills[0].executedOrderPrice) - (ref + 0.01)) < 1e-9, JSON.stringify(fills[0].executedOrderPrice));
  assert.equal(fills[1].lotsExecuted, 150);
  const average = (100 * (ref + 0.01) + 50 * (ref + 0.02)) / 150;
  assert.ok(Math.abs(num(fills[1].executedOrderPrice) - average) < 1e-6);
});

test('a full trade pool refuses orders with a clear code; the server neither aborts nor fails to restart', async () => {
  const server = await serverWith((c) => { c.limits.max_orders = 1024; });
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const codes = new Map();
  // Each market buy fills against the maker: one order record and one trade record each.
  for (let round = 0; round < 12; round++) {
    const results = await Promise.all(Array.from({ length: 100 }, () => callRaw((o) => orders.postOrderAsync({
      accountId: firstAccount, instrumentId: irao.uid, quantity: 1, direction: BUY,
      orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() }, o))));
    for (const r of results) {
      const code = r.error ? r.error.details : 'ok';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  }
  assert.equal(codes.get('ok'), 1024, JSON.stringify([...codes]));
  assert.equal(codes.get('80002'), 1200 - 1024, JSON.stringify([...codes]));
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  const restarted = await startServer({ config: server.configPath, dataDir: server.dataDir });
  servers.push(restarted);
  const again = await sdk(restarted, 't.demo.full').orders.getOrders({ accountId: firstAccount });
  assert.equal(again.orders.length, 0); // every order filled
  const refused = await callRaw((o) => rawClient(restarted, OrdersServiceDefinition, 't.demo.full').postOrderAsync({
    accountId: firstAccount, instrumentId: irao.uid, quantity: 1, direction: BUY,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() }, o));
  assert.equal(refused.error?.code, Status.RESOURCE_EXHAUSTED);
  assert.equal(refused.error?.details, '80002');
});

test('GetSandboxOrders racing CloseSandboxAccount answers or says 50004, and never crashes', async () => {
  const server = await serverWith(() => {});
  const sandbox = rawClient(server, SandboxServiceDefinition, 't.demo.full');
  for (let round = 0; round < 20; round++) {
    const { accountId } = await sandbox.openSandboxAccount({});
    await sandbox.sandboxPayIn({ accountId, amount: { currency: 'rub', units: 100000, nano: 0 } });
    await Promise.all(Array.from({ length: 5 }, (_, i) => sandbox.postSandboxOrder({
      accountId, instrumentId: sber.uid, quantity: 1, price: q(Number(sber.reference_price) - 1 - i),
      direction: BUY, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() })));
    const reads = Array.from({ length: 10 }, () => callRaw((o) => sandbox.getSandboxOrders({ accountId }, o)));
    const close = sandbox.closeSandboxAccount({ accountId });
    for (const r of await Promise.all(reads)) {
      if (r.error) assert.equal(r.error.details, '50004');
      else assert.ok(r.response.orders.length <= 5);
    }
    await close;
  }
  const after = await callRaw((o) => sandbox.getSandboxAccounts({}, o));
  assert.ok(after.response, 'the server still answers');
});

test('ReplaceOrder under exchange latency never spends the same money twice', async () => {
  const server = await serverWith((c) => { c.venue.ack_delay_us = 50000; });
  const api = sdk(server, 't.demo.full');
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const ref = Number(sber.reference_price);
  // The second account (500 000 rub) bids 100 lots at ref, above the maker's bid.
  const old = await api.orders.postOrder({ accountId: secondAccount, instrumentId: sber.uid, quantity: 100,
    price: q(ref), direction: BUY, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() });
  // The first account holds 100 lots and offers them at ref: that reaches the exchange first.
  await api.orders.postOrder({ accountId: firstAccount, instrumentId: sber.uid, quantity: 100,
    direction: BUY, orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() });
  await api.orders.postOrderAsync({ accountId: firstAccount, instrumentId: sber.uid, quantity: 100,
    price: q(ref), direction: SELL, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() });
  // The replace's cancel arrives after the sell: the old order fills first.
  const replaced = await callRaw((o) => orders.replaceOrder({ accountId: secondAccount, orderId: old.orderId,
    idempotencyKey: randomUUID(), quantity: 100, price: q(ref) }, o));
  assert.equal(replaced.error?.code, Status.INVALID_ARGUMENT, JSON.stringify(replaced.response));
  assert.equal(replaced.error?.details, '30059');
  const state = await api.orders.getOrderState({ accountId: secondAccount, orderId: old.orderId });
  assert.equal(state.executionReportStatus, S.EXECUTION_REPORT_STATUS_FILL);
  const free = await freeCash(api, secondAccount);
  assert.ok(free >= 0, `free cash ${free}`);
  // What is left is exactly what the one fill did not spend: nothing else is held.
  const positions = await api.operations.getPositions({ accountId: secondAccount });
  assert.equal(positions.blocked.length, 0);
});

test('orders, trades and keys leave after the retention: far more orders than the pool holds', async () => {
  const server = await serverWith((c) => {
    c.limits = { ...c.limits, max_orders: 1024, order_history_retention_s: 1, idempotency_retention_s: 1 };
    c.venue.market_maker.lots_per_level = 1000000;
  });
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const api = sdk(server, 't.demo.full');
  // Holdings first, so that a sell never waits for the buy next to it.
  await api.orders.postOrder({ accountId: firstAccount, instrumentId: irao.uid, quantity: 100,
    direction: BUY, orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() });
  const total = 4000;
  let placed = 0;
  const rss = [];
  const rssOf = () => Number(/VmRSS:\s+(\d+)/.exec(readStatus(server.pid))[1]);
  while (placed < total) {
    const batch = Array.from({ length: 100 }, (_, i) => ({ key: randomUUID(), side: (placed + i) % 2 ? SELL : BUY }));
    let pending = batch;
    while (pending.length > 0) {
      const results = await Promise.all(pending.map((b) => callRaw((o) => orders.postOrderAsync({
        accountId: firstAccount, instrumentId: irao.uid, quantity: 1, direction: b.side,
        orderType: OrderType.ORDER_TYPE_MARKET, orderId: b.key }, o))));
      const retry = [];
      results.forEach((r, i) => {
        if (!r.error) return;
        assert.equal(r.error.details, '80002', `${r.error.details} ${r.trailer?.get('message')}`);
        retry.push(pending[i]);
      });
      pending = retry;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 250));
    }
    placed += batch.length;
    if (placed % 1000 === 0) rss.push(rssOf());
  }
  // Memory is flat: the pools were sized at start and are reused.
  assert.ok(rss.at(-1) < rss[0] + 16 * 1024, `RSS ${rss.join(' ')} KiB`);
  // Past the retention, the next order takes the finished ones out of the history.
  await new Promise((r) => setTimeout(r, 1500));
  await api.orders.postOrder({ accountId: firstAccount, instrumentId: irao.uid, quantity: 1,
    direction: BUY, orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() });
  const listed = await api.orders.getOrders({ accountId: firstAccount, advancedFilters: {
    executionStatus: [S.EXECUTION_REPORT_STATUS_FILL, S.EXECUTION_REPORT_STATUS_CANCELLED] } });
  assert.ok(listed.orders.length <= 1, `${listed.orders.length} finished orders still listed`);
  // A graceful stop, then the journal replays into the state the server stopped in.
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  const stopped = /final state_hash=([0-9a-f]+)/.exec(server.output())[1];
  const restarted = await startServer({ config: server.configPath, dataDir: server.dataDir });
  servers.push(restarted);
  const recovered = /recovered state_hash=([0-9a-f]+)/.exec(restarted.output())?.[1]
    ?? await waitFor(() => /recovered state_hash=([0-9a-f]+)/.exec(restarted.output())?.[1]);
  assert.equal(recovered, stopped);
});

function readStatus(pid) { return readFileSync(`/proc/${pid}/status`, 'utf8'); }
async function waitFor(fn, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}
