// Order flow through the npm SDK: PostOrderAsync / PostOrder / GetOrderState / GetOrders /
// CancelOrder / GetMaxLots / GetOrderPrice, idempotency, every pre-trade code, and a burst.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrdersServiceDefinition, OrderDirection, OrderType, OrderExecutionReportStatus, OrderIdType }
  from 'tinkoff-invest-api/dist/generated/orders.js';
import protobuf from 'protobufjs/minimal.js';
import { GetOrdersResponse } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, inlineDemoConfig, UUID_RE } from './harness.mjs';

const [firstAccount, secondAccount] = demoConfig.accounts.map((a) => a.id);
const share = demoInstruments.find((i) => i.type === 'share');
const etf = demoInstruments.find((i) => i.type === 'etf');
let server;
let api;

/** A price `fraction` of the instrument's reference price, on its tick grid, as a Quotation. */
function price(fraction, instrument = share) {
  const tick = Number(instrument.min_price_increment);
  const steps = Math.round((Number(instrument.reference_price) * fraction) / tick);
  const nanos = Math.round(steps * tick * 1e9);
  return { units: Math.trunc(nanos / 1e9), nano: nanos % 1e9 };
}
/** A resting buy: far enough under the market not to trade, inside the exchange's limits. */
const restingBuyPrice = () => price(0.9);

function asyncOrder(overrides = {}) {
  return {
    instrumentId: share.uid, quantity: 1, price: restingBuyPrice(), direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: firstAccount, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(), ...overrides,
  };
}

before(async () => {
  server = await startServer();
  api = sdk(server, 't.demo.full');
});
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

async function rubBalances(accountId) {
  const positions = await api.operations.getPositions({ accountId });
  const amount = (list) => list.filter((m) => m.currency === 'rub').reduce((s, m) => s + m.units + m.nano / 1e9, 0);
  return { free: amount(positions.money), blocked: amount(positions.blocked) };
}

test('PostOrderAsync: accepted with the key and our intent id, readable and cancellable by key at once', async () => {
  const request = asyncOrder({ quantity: 2 });
  const reply = await api.orders.postOrderAsync(request);
  assert.equal(reply.orderRequestId, request.orderId);
  assert.equal(reply.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_NEW);
  assert.match(reply.tradeIntentId, UUID_RE);

  const state = await api.orders.getOrderState({
    accountId: firstAccount, orderId: request.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST,
  });
  assert.equal(state.orderRequestId, request.orderId);
  assert.equal(state.lotsRequested, 2);
  assert.equal(state.direction, OrderDirection.ORDER_DIRECTION_BUY);
  assert.equal(state.instrumentUid, share.uid);
  assert.match(state.orderId, /^\d+$/, 'the exchange number once acknowledged');

  const listed = await api.orders.getOrders({ accountId: firstAccount });
  assert.ok(listed.orders.some((o) => o.orderRequestId === request.orderId));

  const blockedBefore = (await rubBalances(firstAccount)).blocked;
  assert.ok(blockedBefore > 0, 'the order holds cash');
  const cancelled = await api.orders.cancelOrder({
    accountId: firstAccount, orderId: request.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST,
  });
  assert.ok(cancelled.time instanceof Date);
  const after = await api.orders.getOrderState({ accountId: firstAccount, orderId: state.orderId });
  assert.equal(after.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_CANCELLED);
  assert.ok((await rubBalances(firstAccount)).blocked < blockedBefore, 'cancel releases the reservation');
  const relisted = await api.orders.getOrders({ accountId: firstAccount });
  assert.ok(!relisted.orders.some((o) => o.orderRequestId === request.orderId), 'no longer active');
});

test('PostOrder waits for the exchange number; a non-UUID key shows a generated order_request_id', async () => {
  const key = `bot-order-${Date.now()}`;
  const reply = await api.orders.postOrder({ ...asyncOrder(), orderId: key });
  assert.match(reply.orderId, /^\d+$/);
  assert.equal(reply.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_NEW);
  assert.equal(reply.lotsRequested, 1);
  assert.equal(reply.figi, share.figi);
  assert.equal(reply.instrumentUid, share.uid);
  assert.match(reply.orderRequestId, UUID_RE);
  assert.ok(reply.initialCommission.units > 0 || reply.initialCommission.nano > 0);
  const byNumber = await api.orders.getOrderState({ accountId: firstAccount, orderId: reply.orderId });
  assert.equal(byNumber.orderRequestId, reply.orderRequestId);
  const byKey = await api.orders.getOrderState({
    accountId: firstAccount, orderId: key, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST,
  });
  assert.equal(byKey.orderId, reply.orderId);
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: reply.orderId });
});

test('a repeated key with the same terms returns the stored order; other terms are 30057', async () => {
  const request = asyncOrder();
  const first = await api.orders.postOrderAsync(request);
  const again = await api.orders.postOrderAsync(request);
  assert.deepEqual(again, first);
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const clash = await callRaw((o) => orders.postOrderAsync({ ...request, quantity: 5 }, o));
  assert.equal(clash.error.code, Status.INVALID_ARGUMENT);
  assert.equal(clash.error.details, '30057');
  assert.match(clash.trailer.get('message'), /duplicate/i);
  const sync = await api.orders.postOrder({ ...request });
  assert.equal(sync.orderRequestId, request.orderId, 'PostOrder with the same key finds the same order');
  const listed = await api.orders.getOrders({ accountId: firstAccount });
  assert.equal(listed.orders.filter((o) => o.orderRequestId === request.orderId).length, 1);
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: request.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
});

test('32 concurrent requests with one new key: exactly one order, identical answers', async () => {
  for (const method of ['postOrderAsync', 'postOrder']) {
    const request = asyncOrder({ orderId: method === 'postOrder' ? `same-key-${Date.now()}` : randomUUID() });
    const replies = await Promise.all(Array.from({ length: 32 }, () => api.orders[method](request)));
    const strip = ({ responseMetadata, ...rest }) => rest;
    for (const reply of replies) assert.deepEqual(strip(reply), strip(replies[0]), method);
    const listed = await api.orders.getOrders({ accountId: firstAccount });
    const matching = listed.orders.filter((o) => o.orderId === (replies[0].orderId ?? o.orderId) &&
      (method === 'postOrder' ? o.orderId === replies[0].orderId : o.orderRequestId === request.orderId));
    assert.equal(matching.length, 1, method);
    await api.orders.cancelOrder({ accountId: firstAccount, orderId: request.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  }
});

/** Error cases shared by PostOrder and PostOrderAsync: [name, request overrides, token, status, code]. */
function sharedErrorCases() {
  return [
    ['zero quantity', { quantity: 0 }, 't.demo.full', Status.INVALID_ARGUMENT, 30015],
    ['negative quantity', { quantity: -1 }, 't.demo.full', Status.INVALID_ARGUMENT, 30080],
    ['limit without price', { price: undefined }, 't.demo.full', Status.INVALID_ARGUMENT, 30017],
    ['no direction', { direction: 0 }, 't.demo.full', Status.INVALID_ARGUMENT, 30019],
    ['bad direction', { direction: 9 }, 't.demo.full', Status.INVALID_ARGUMENT, 30020],
    ['no order type', { orderType: 0 }, 't.demo.full', Status.INVALID_ARGUMENT, 30025],
    ['bad order type', { orderType: 9 }, 't.demo.full', Status.INVALID_ARGUMENT, 30026],
    ['bad time in force', { timeInForce: 9 }, 't.demo.full', Status.INVALID_ARGUMENT, 30254],
    ['bad price type', { priceType: 9 }, 't.demo.full', Status.INVALID_ARGUMENT, 30104],
    ['missing order_id', { orderId: '' }, 't.demo.full', Status.INVALID_ARGUMENT, 30027],
    ['order_id over 36 chars', { orderId: 'x'.repeat(37) }, 't.demo.full', Status.INVALID_ARGUMENT, 30055],
    ['missing instrument', { instrumentId: '' }, 't.demo.full', Status.INVALID_ARGUMENT, 30237],
    ['unknown instrument', { instrumentId: 'BBG000000000' }, 't.demo.full', Status.NOT_FOUND, 50002],
    ['unknown account', { accountId: '999' }, 't.demo.full', Status.NOT_FOUND, 50004],
    ['foreign account', { accountId: secondAccount }, 't.demo.one', Status.PERMISSION_DENIED, 40002],
    ['read-only token', {}, 't.demo.readonly', Status.PERMISSION_DENIED, 40002],
    ['price off the tick grid', { price: { units: price(0.9).units, nano: price(0.9).nano + 1 } }, 't.demo.full', Status.INVALID_ARGUMENT, 30078],
    ['non-positive price', { price: { units: 0, nano: 0 } }, 't.demo.full', Status.INVALID_ARGUMENT, 30100],
    ['not enough cash', { quantity: 1000 }, 't.demo.full', Status.INVALID_ARGUMENT, 30042],
    ['nothing to sell', { direction: OrderDirection.ORDER_DIRECTION_SELL }, 't.demo.full', Status.INVALID_ARGUMENT, 30042],
  ];
}

test('PostOrder and PostOrderAsync reject bad input with identical codes, and nothing changes', async () => {
  const before = await api.orders.getOrders({ accountId: firstAccount });
  const balances = await rubBalances(firstAccount);
  for (const [name, overrides, token, status, code] of sharedErrorCases()) {
    const orders = rawClient(server, OrdersServiceDefinition, token);
    const request = asyncOrder(overrides);
    for (const method of ['postOrder', 'postOrderAsync']) {
      if (method === 'postOrderAsync' && code === 30055) continue; // not a UUID either: 30028 below
      const result = await callRaw((o) => orders[method](request, o));
      assert.ok(result.error, `${method} ${name} must fail`);
      assert.equal(result.error.code, status, `${method} ${name}`);
      assert.equal(result.error.details, String(code), `${method} ${name}`);
      assert.ok(result.trailer.get('message'), `${method} ${name} message`);
      assert.match(result.trailer.get('x-tracking-id'), UUID_RE);
    }
    // The rejected key is not consumed: the same key with good terms is accepted.
    if (overrides.orderId === undefined && token === 't.demo.full' && overrides.accountId === undefined) {
      const good = await api.orders.postOrderAsync({ ...asyncOrder(), orderId: request.orderId });
      assert.equal(good.orderRequestId, request.orderId, `${name}: key still free`);
      await api.orders.cancelOrder({ accountId: firstAccount, orderId: request.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
    }
  }
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const notUuid = await callRaw((o) => orders.postOrderAsync(asyncOrder({ orderId: 'not-a-uuid' }), o));
  assert.equal(notUuid.error.details, '30028');
  const after = await api.orders.getOrders({ accountId: firstAccount });
  assert.equal(after.orders.length, before.orders.length);
  assert.deepEqual(await rubBalances(firstAccount), balances);
});

test('order value above the per-currency limit is 90003; untradeable instruments are 30052 and 30079', async () => {
  const config = inlineDemoConfig();
  config.limits.max_order_value = { rub: '1000' };
  const closed = config.instruments.find((i) => i.type === 'etf');
  closed.trading_status = 1;
  const noApi = config.instruments.find((i) => i.type === 'bond');
  noApi.api_trade_available = false;
  const path = join(tmpdir(), `tinvestd-limits-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  const limited = await startServer({ config: path });
  try {
    const orders = rawClient(limited, OrdersServiceDefinition, 't.demo.full');
    const big = await callRaw((o) => orders.postOrderAsync(asyncOrder({ quantity: 100 }), o));
    assert.equal(big.error.code, Status.FAILED_PRECONDITION);
    assert.equal(big.error.details, '90003');
    for (const [ins, code] of [[closed, '30079'], [noApi, '30052']]) {
      const r = await callRaw((o) => orders.postOrderAsync(asyncOrder({
        instrumentId: ins.uid, orderType: OrderType.ORDER_TYPE_MARKET, price: undefined,
      }), o));
      assert.equal(r.error?.details, code, ins.ticker);
    }
  } finally {
    assert.deepEqual(await limited.stop(), { code: 0, signal: null });
  }
});

test('GetMaxLots and GetOrderPrice use the same arithmetic as the checks', async () => {
  const p = restingBuyPrice();
  const limits = await api.orders.getMaxLots({ accountId: firstAccount, instrumentId: share.uid, price: p });
  assert.equal(limits.currency, 'rub');
  assert.ok(limits.buyLimits.buyMaxLots > 0);
  // Exactly buyMaxLots fits, one more does not.
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const tooMany = await callRaw((o) => orders.postOrderAsync(asyncOrder({ quantity: limits.buyLimits.buyMaxLots + 1, price: p }), o));
  assert.equal(tooMany.error?.details, '30042');
  const fits = asyncOrder({ quantity: limits.buyLimits.buyMaxLots, price: p });
  await api.orders.postOrderAsync(fits);
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: fits.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  const quote = await api.orders.getOrderPrice({
    accountId: firstAccount, instrumentId: share.uid, price: p, direction: OrderDirection.ORDER_DIRECTION_BUY, quantity: 3,
  });
  const value = (p.units + p.nano / 1e9) * 3 * share.lot;
  assert.ok(Math.abs(quote.initialOrderAmount.units + quote.initialOrderAmount.nano / 1e9 - value) < 1e-6);
  assert.equal(quote.lotsRequested, 3);
});

test('500 parallel PostOrderAsync: all accepted, no duplicates, balances conserved', async () => {
  const before = await rubBalances(firstAccount);
  const requests = Array.from({ length: 500 }, () => asyncOrder({ instrumentId: etf.uid, price: price(0.9, etf) }));
  const replies = await Promise.all(requests.map((r) => api.orders.postOrderAsync(r)));
  assert.equal(replies.length, 500);
  assert.equal(new Set(replies.map((r) => r.tradeIntentId)).size, 500);
  replies.forEach((reply, i) => assert.equal(reply.orderRequestId, requests[i].orderId));
  const listed = await api.orders.getOrders({ accountId: firstAccount });
  const keys = new Set(requests.map((r) => r.orderId));
  assert.equal(listed.orders.filter((o) => keys.has(o.orderRequestId)).length, 500);
  const during = await rubBalances(firstAccount);
  assert.ok(Math.abs(during.free + during.blocked - (before.free + before.blocked)) < 1e-6, 'cash is conserved');
  await Promise.all(requests.map((r) => api.orders.cancelOrder({
    accountId: firstAccount, orderId: r.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST,
  })));
  const after = await rubBalances(firstAccount);
  assert.ok(Math.abs(after.free - before.free) < 1e-6);
  assert.ok(Math.abs(after.blocked - before.blocked) < 1e-6);
});

test('ReplaceOrder cancels the order and places a new one under the idempotency key', async () => {
  const original = asyncOrder({ quantity: 2 });
  await api.orders.postOrderAsync(original);
  const state = await api.orders.getOrderState({ accountId: firstAccount, orderId: original.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  const newKey = randomUUID();
  const replaced = await api.orders.replaceOrder({
    accountId: firstAccount, orderId: state.orderId, idempotencyKey: newKey, quantity: 3, price: price(0.89),
  });
  assert.match(replaced.orderId, /^\d+$/);
  assert.notEqual(replaced.orderId, state.orderId);
  assert.equal(replaced.lotsRequested, 3);
  assert.equal(replaced.orderRequestId, newKey);
  const old = await api.orders.getOrderState({ accountId: firstAccount, orderId: state.orderId });
  assert.equal(old.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_CANCELLED);
  const again = await api.orders.replaceOrder({
    accountId: firstAccount, orderId: state.orderId, idempotencyKey: newKey, quantity: 3, price: price(0.89),
  });
  assert.equal(again.orderId, replaced.orderId, 'a repeated replace returns the same new order');
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const missing = await callRaw((o) => orders.replaceOrder({ accountId: firstAccount, orderId: '999999', idempotencyKey: randomUUID(), quantity: 1, price: price(0.9) }, o));
  assert.equal(missing.error?.details, '50005');
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: replaced.orderId });
});

test('GetOrderState and CancelOrder: unknown order 50005, foreign account 40002, invalid id type 30023', async () => {
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.one');
  const unknown = await callRaw((o) => orders.getOrderState({ accountId: firstAccount, orderId: '123' }, o));
  assert.equal(unknown.error?.code, Status.NOT_FOUND);
  assert.equal(unknown.error?.details, '50005');
  const foreign = await callRaw((o) => orders.cancelOrder({ accountId: secondAccount, orderId: '123' }, o));
  assert.equal(foreign.error?.details, '40002');
  const badType = await callRaw((o) => orders.getOrderState({ accountId: firstAccount, orderId: '1', orderIdType: 7 }, o));
  assert.equal(badType.error?.details, '30023');
  const readonly = rawClient(server, OrdersServiceDefinition, 't.demo.readonly');
  const order = asyncOrder();
  await api.orders.postOrderAsync(order);
  const viewed = await callRaw((o) => readonly.getOrderState({ accountId: firstAccount, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST }, o));
  assert.ok(viewed.response, 'a read-only token can read orders');
  const refused = await callRaw((o) => readonly.cancelOrder({ accountId: firstAccount, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST }, o));
  assert.equal(refused.error?.details, '40002', 'but cannot cancel them');
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
});

/**
 * GetOrders with advanced_filters, which the npm SDK's generated code predates: the request is
 * encoded by hand from the contract's field numbers, the reply decoded by the SDK.
 */
function getOrdersFiltered(accountId, { from, to, statuses = [] }) {
  const timestamp = (w, field, date) => {
    const ms = date.getTime();
    w.uint32((field << 3) | 2).fork().uint32(1 << 3).int64(Math.floor(ms / 1000)).uint32(2 << 3).int32((ms % 1000) * 1e6).ldelim();
  };
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string(accountId);
  w.uint32((2 << 3) | 2).fork();
  if (from) timestamp(w, 1, from);
  if (to) timestamp(w, 2, to);
  if (statuses.length > 0) {
    w.uint32((3 << 3) | 2).fork();
    for (const s of statuses) w.int32(s);
    w.ldelim();
  }
  w.ldelim();
  const bytes = w.finish();
  const definition = {
    ...OrdersServiceDefinition,
    methods: {
      getOrders: {
        ...OrdersServiceDefinition.methods.getOrders,
        requestType: { encode: () => ({ finish: () => bytes }), decode: () => ({}) },
        responseType: GetOrdersResponse,
      },
    },
  };
  return rawClient(server, definition, 't.demo.full').getOrders({});
}

test('GetOrders: active orders by default; advanced filters select by status and creation time', async () => {
  const cancelled = asyncOrder();
  await api.orders.postOrderAsync(cancelled);
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: cancelled.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  const resting = asyncOrder();
  await api.orders.postOrderAsync(resting);
  const keys = (r) => new Set(r.orders.map((o) => o.orderRequestId));

  const active = keys(await api.orders.getOrders({ accountId: firstAccount }));
  assert.ok(active.has(resting.orderId) && !active.has(cancelled.orderId), 'no filter: active orders only');
  const onlyCancelled = await getOrdersFiltered(firstAccount, { statuses: [OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_CANCELLED] });
  assert.ok(keys(onlyCancelled).has(cancelled.orderId) && !keys(onlyCancelled).has(resting.orderId), 'status filter');
  assert.ok(onlyCancelled.orders.every((o) => o.executionReportStatus === OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_CANCELLED));
  const both = keys(await getOrdersFiltered(firstAccount, {
    statuses: [OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_CANCELLED, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_NEW],
  }));
  assert.ok(both.has(cancelled.orderId) && both.has(resting.orderId), 'several statuses');
  const future = await getOrdersFiltered(firstAccount, { from: new Date(Date.now() + 3600e3) });
  assert.equal(future.orders.length, 0, 'nothing was created after `from`');
  const past = await getOrdersFiltered(firstAccount, { to: new Date(Date.now() - 3600e3) });
  assert.equal(past.orders.length, 0, 'nothing was created before `to`');
  const window = keys(await getOrdersFiltered(firstAccount, { from: new Date(Date.now() - 3600e3), to: new Date(Date.now() + 3600e3) }));
  assert.ok(window.has(resting.orderId) && !window.has(cancelled.orderId), 'a time window without statuses keeps active orders');
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: resting.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
});

test('sandbox: GetSandboxAccounts, not enough cash is 30034, SandboxPayIn tops up, the order then passes', async () => {
  const sandbox = demoConfig.accounts.find((a) => a.sandbox);
  const { accounts } = await api.sandbox.getSandboxAccounts({});
  assert.deepEqual(accounts.map((a) => a.id), [sandbox.id]);
  const big = asyncOrder({ accountId: sandbox.id, quantity: 100 }); // 100 lots of 10 at ~270 = 270 000 > 100 000
  const sandboxClient = rawClient(server, (await import('tinkoff-invest-api/dist/generated/sandbox.js')).SandboxServiceDefinition, 't.demo.full');
  const refused = await callRaw((o) => sandboxClient.postSandboxOrder(big, o));
  assert.equal(refused.error?.details, '30034');
  const topped = await api.sandbox.sandboxPayIn({ accountId: sandbox.id, amount: { currency: 'rub', units: 1000000, nano: 0 } });
  assert.equal(topped.balance.units, 1100000);
  const placed = await api.sandbox.postSandboxOrder(big);
  assert.equal(placed.orderRequestId, big.orderId);
  assert.match(placed.orderId, /^\d+$/);
  const positions = await api.sandbox.getSandboxPositions({ accountId: sandbox.id });
  assert.ok(positions.blocked.some((m) => m.currency === 'rub' && m.units > 0));
  await api.sandbox.cancelSandboxOrder({ accountId: sandbox.id, orderId: big.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  // The sandbox knows no broker account: every sandbox method naming one answers 50004.
  const notSandbox = await callRaw((o) => sandboxClient.sandboxPayIn({ accountId: firstAccount, amount: { currency: 'rub', units: 1, nano: 0 } }, o));
  assert.equal(notSandbox.error?.details, '50004');
  const brokerOrder = await callRaw((o) => sandboxClient.postSandboxOrder(asyncOrder(), o));
  assert.equal(brokerOrder.error?.code, Status.NOT_FOUND);
  assert.equal(brokerOrder.error?.details, '50004');
  const brokerPositions = await callRaw((o) => sandboxClient.getSandboxPositions({ accountId: firstAccount }, o));
  assert.equal(brokerPositions.error?.details, '50004');
});

test('sandbox accounts: opened for the token that asks, funded, traded, closed with their orders', async () => {
  const { SandboxServiceDefinition } = await import('tinkoff-invest-api/dist/generated/sandbox.js');
  const sandboxClient = rawClient(server, SandboxServiceDefinition, 't.demo.full');
  const opened = await api.sandbox.openSandboxAccount({ name: 'стратегия A' });
  assert.match(opened.accountId, UUID_RE);
  const mine = (await api.sandbox.getSandboxAccounts({})).accounts.find((a) => a.id === opened.accountId);
  assert.ok(mine, 'the new account is listed for its owner');
  assert.equal(mine.name, 'стратегия A');
  assert.equal(mine.accessLevel, 1);
  assert.equal(mine.status, 2);
  const other = sdk(server, 't.demo.one');
  assert.ok(!(await other.sandbox.getSandboxAccounts({})).accounts.some((a) => a.id === opened.accountId), 'and for nobody else');
  const foreign = rawClient(server, SandboxServiceDefinition, 't.demo.one');
  const refused = await callRaw((o) => foreign.sandboxPayIn({ accountId: opened.accountId, amount: { currency: 'rub', units: 1, nano: 0 } }, o));
  assert.equal(refused.error?.details, '40002');

  // Empty at first, as the real sandbox opens them: the first order needs a pay-in.
  const order = asyncOrder({ accountId: opened.accountId, price: price(0.85) });
  const poor = await callRaw((o) => sandboxClient.postSandboxOrder(order, o));
  assert.equal(poor.error?.details, '30034');
  await api.sandbox.sandboxPayIn({ accountId: opened.accountId, amount: { currency: 'rub', units: 50000, nano: 0 } });
  await api.sandbox.postSandboxOrder(order);
  const state = await api.sandbox.getSandboxOrderState({ accountId: opened.accountId, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  assert.match(state.orderId, /^\d+$/, 'the exchange took it');
  const level = (book) => book.bids.find((b) => b.price.units === order.price.units && b.price.nano === order.price.nano);
  assert.ok(level(await api.marketdata.getOrderBook({ instrumentId: share.uid, depth: 50 })), 'it rests in the book');

  await api.sandbox.closeSandboxAccount({ accountId: opened.accountId });
  assert.ok(!(await api.sandbox.getSandboxAccounts({})).accounts.some((a) => a.id === opened.accountId), 'gone from the list');
  const gone = await callRaw((o) => sandboxClient.getSandboxPositions({ accountId: opened.accountId }, o));
  assert.equal(gone.error?.details, '50004');
  const again = await callRaw((o) => sandboxClient.closeSandboxAccount({ accountId: opened.accountId }, o));
  assert.equal(again.error?.details, '50004');
  assert.ok(!level(await api.marketdata.getOrderBook({ instrumentId: share.uid, depth: 50 })), 'its order was cancelled');
  const notSandbox = await callRaw((o) => sandboxClient.closeSandboxAccount({ accountId: firstAccount }, o));
  assert.equal(notSandbox.error?.details, '50004', 'the sandbox knows no broker account');
});

test('OpenSandboxAccount beyond limits.sandbox_accounts is 35001', async () => {
  const config = structuredClone(demoConfig);
  config.limits = { ...config.limits, sandbox_accounts: 2 };
  const path = join(tmpdir(), `tinvestd-sandbox-limit-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  const limited = await startServer({ config: path });
  try {
    const client = rawClient(limited, (await import('tinkoff-invest-api/dist/generated/sandbox.js')).SandboxServiceDefinition, 't.demo.full');
    const first = await client.openSandboxAccount({});
    await client.openSandboxAccount({ name: 'x'.repeat(200) }); // a long name is kept shortened
    const third = await callRaw((o) => client.openSandboxAccount({}, o));
    assert.equal(third.error?.code, Status.INVALID_ARGUMENT);
    assert.equal(third.error?.details, '35001');
    assert.equal(third.trailer?.get('message'), 'Sandbox accounts limit reached');
    const listed = await client.getSandboxAccounts({});
    assert.ok(listed.accounts.some((a) => a.id === first.accountId));
    assert.ok(listed.accounts.some((a) => a.name === 'x'.repeat(63)));
  } finally {
    assert.deepEqual(await limited.stop(), { code: 0, signal: null });
  }
});
