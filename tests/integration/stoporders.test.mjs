// Stop orders through the npm SDK: a stop-loss placed below the market triggers when clients'
// trades move the last price through it; its child order is an ordinary order (GetOrders,
// OrderStateStream, TradesStream) whose exchange number the stop order shows. Stop orders survive
// kill -9 and trigger after the restart; cancel; the codes of bad requests; the sandbox twins.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrderDirection, OrderType, OrderExecutionReportStatus } from 'tinkoff-invest-api/dist/generated/orders.js';
import {
  StopOrdersServiceDefinition, StopOrderDirection, StopOrderExpirationType, StopOrderType,
  StopOrderStatusOption, ExchangeOrderType,
} from 'tinkoff-invest-api/dist/generated/stoporders.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, UUID_RE } from './harness.mjs';

const [seller, buyer, sandboxAccount] = demoConfig.accounts.map((a) => a.id);
const share = demoInstruments.find((i) => i.ticker === 'SBER');

// The market maker quotes 10 rub (1000 steps) either side of 300, so clients can trade with each
// other inside its spread at any price they choose: that is how these tests move the last price.
const dir = mkdtempSync(join(tmpdir(), 'tinvestd-stoporders-'));
const configPath = join(dir, 'config.json');
const config = structuredClone(demoConfig);
config.venue.market_maker = { ...config.venue.market_maker, spread_ticks: 1000, walk_ticks: 1 };
config.limits = { ...config.limits, snapshot_every_events: 40 };
writeFileSync(configPath, JSON.stringify(config));
after(() => { closeClients(); rmSync(dir, { recursive: true, force: true }); });

const q = (rub) => ({ units: Math.trunc(rub), nano: Math.round((rub - Math.trunc(rub)) * 100) * 10000000 });
const rub = (m) => m.units + m.nano / 1e9;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function stopLoss(accountId, stopPrice, extra = {}) {
  return {
    instrumentId: share.uid, quantity: 1, stopPrice: q(stopPrice), direction: StopOrderDirection.STOP_ORDER_DIRECTION_SELL,
    accountId, expirationType: StopOrderExpirationType.STOP_ORDER_EXPIRATION_TYPE_GOOD_TILL_CANCEL,
    stopOrderType: StopOrderType.STOP_ORDER_TYPE_STOP_LOSS, exchangeOrderType: ExchangeOrderType.EXCHANGE_ORDER_TYPE_UNSPECIFIED,
    takeProfitType: 0, priceType: 0, orderId: randomUUID(), ...extra,
  };
}

/**
 * The buyer bids `lots` at `price`; the seller sells one into it: a print at `price`. A second
 * lot is there for the child of a stop order the print triggers, so that it fills at that price.
 */
async function printAt(api, price, lots = 1) {
  const limit = (accountId, direction, quantity) => api.orders.postOrder({
    instrumentId: share.uid, quantity, price: q(price), direction, accountId,
    orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(),
  });
  await limit(buyer, OrderDirection.ORDER_DIRECTION_BUY, lots);
  const sold = await filled(api, seller, await limit(seller, OrderDirection.ORDER_DIRECTION_SELL, 1));
  assert.equal(rub(sold.averagePositionPrice), price);
}

/** PostOrder answers once the exchange acknowledged; the fill follows at once. */
async function filled(api, accountId, posted) {
  const state = await api.orders.getOrderState({ accountId, orderId: posted.orderId });
  assert.equal(state.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_FILL);
  return state;
}

async function stopOrders(api, status = StopOrderStatusOption.STOP_ORDER_STATUS_ALL) {
  return (await api.stoporders.getStopOrders({ accountId: seller, status })).stopOrders;
}

async function waitFor(predicate, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

test('a stop-loss below the market triggers on the print through it, before and after kill -9', async () => {
  let server = await startServer({ config: configPath });
  let api = sdk(server, 't.demo.full');
  // The seller holds 10 shares, bought from the market maker at its ask (310).
  const bought = await filled(api, seller, await api.orders.postOrder({
    instrumentId: share.uid, quantity: 10, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: seller,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  }));
  const last = Math.round(rub(bought.averagePositionPrice));
  assert.ok(last >= 305 && last <= 315);

  const trades = [];
  const controller = new AbortController();
  const reading = (async () => {
    try {
      for await (const m of api.ordersStream.tradesStream({ accounts: [seller] }, { signal: controller.signal })) trades.push(m);
    } catch { /* aborted */ }
  })();
  const states = [];
  const readingStates = (async () => {
    try {
      for await (const m of api.ordersStream.orderStateStream({ accounts: [seller] }, { signal: controller.signal })) states.push(m);
    } catch { /* aborted */ }
  })();
  await sleep(200);

  const request = stopLoss(seller, last - 5);
  const placed = await api.stoporders.postStopOrder(request);
  assert.match(placed.stopOrderId, UUID_RE);
  assert.equal(placed.orderRequestId, request.orderId);
  assert.ok(placed.responseMetadata.trackingId);
  // The same key and terms: the same stop order; other terms: 30057.
  assert.equal((await api.stoporders.postStopOrder(request)).stopOrderId, placed.stopOrderId);
  const raw = rawClient(server, StopOrdersServiceDefinition, 't.demo.full');
  const clash = await callRaw((o) => raw.postStopOrder({ ...request, quantity: 2 }, o));
  assert.equal(clash.error.details, '30057');

  let [listed] = await stopOrders(api, StopOrderStatusOption.STOP_ORDER_STATUS_ACTIVE);
  assert.equal(listed.stopOrderId, placed.stopOrderId);
  assert.equal(listed.status, StopOrderStatusOption.STOP_ORDER_STATUS_ACTIVE);
  assert.equal(rub(listed.stopPrice), last - 5);
  assert.equal(listed.exchangeOrderId, undefined);

  await printAt(api, last - 3); // above the stop: nothing
  assert.equal((await stopOrders(api, StopOrderStatusOption.STOP_ORDER_STATUS_ACTIVE)).length, 1);
  await printAt(api, last - 6, 2); // through it
  listed = await waitFor(async () => (await stopOrders(api, StopOrderStatusOption.STOP_ORDER_STATUS_EXECUTED))[0]);
  assert.equal(listed.stopOrderId, placed.stopOrderId);
  assert.match(listed.exchangeOrderId, /^\d+$/);
  assert.ok(listed.activationDateTime);
  // The child is an ordinary order: a market sell keyed by the stop order's id, filled against
  // the buyer's remaining bid.
  const child = await api.orders.getOrderState({ accountId: seller, orderId: listed.exchangeOrderId });
  assert.equal(child.orderRequestId, placed.stopOrderId);
  assert.equal(child.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_FILL);
  assert.equal(rub(child.averagePositionPrice), last - 6);
  await waitFor(() => trades.some((m) => m.orderTrades?.orderId === listed.exchangeOrderId));
  await waitFor(() => states.some((m) => m.orderState?.orderRequestId === placed.stopOrderId));

  // A second stop-loss, then kill -9: it is still there after the restart and triggers then.
  const second = await api.stoporders.postStopOrder(stopLoss(seller, last - 10));
  controller.abort();
  await Promise.all([reading, readingStates]);
  closeClients();
  await server.stop('SIGKILL');
  server = await startServer({ config: configPath, dataDir: server.dataDir });
  api = sdk(server, 't.demo.full');
  const after = await stopOrders(api);
  assert.deepEqual(after.map((s) => [s.stopOrderId, s.status]), [
    [second.stopOrderId, StopOrderStatusOption.STOP_ORDER_STATUS_ACTIVE],
    [placed.stopOrderId, StopOrderStatusOption.STOP_ORDER_STATUS_EXECUTED],
  ]);
  await printAt(api, last - 11, 2);
  const fired = await waitFor(async () => (await stopOrders(api, StopOrderStatusOption.STOP_ORDER_STATUS_EXECUTED))
    .find((s) => s.stopOrderId === second.stopOrderId));
  const orders = await api.orders.getOrders({ accountId: seller });
  assert.ok(!orders.orders.some((o) => o.orderId === fired.exchangeOrderId)); // filled, so not active
  const state = await api.orders.getOrderState({ accountId: seller, orderId: fired.exchangeOrderId });
  assert.equal(state.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_FILL);

  // Once more after a graceful restart: the state is the same.
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  server = await startServer({ config: configPath, dataDir: server.dataDir });
  api = sdk(server, 't.demo.full');
  assert.equal((await stopOrders(api, StopOrderStatusOption.STOP_ORDER_STATUS_EXECUTED)).length, 2);
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test('cancel, the codes of bad requests, and the sandbox twins', async () => {
  const server = await startServer({ config: configPath });
  const api = sdk(server, 't.demo.full');
  const raw = rawClient(server, StopOrdersServiceDefinition, 't.demo.full');
  const takeProfit = {
    ...stopLoss(seller, 400), stopOrderType: StopOrderType.STOP_ORDER_TYPE_TAKE_PROFIT,
    expirationType: StopOrderExpirationType.STOP_ORDER_EXPIRATION_TYPE_GOOD_TILL_DATE,
    expireDate: new Date(Date.now() + 3600e3),
  };
  const placed = await api.stoporders.postStopOrder(takeProfit);
  const [listed] = await stopOrders(api);
  assert.equal(listed.orderType, StopOrderType.STOP_ORDER_TYPE_TAKE_PROFIT);
  assert.equal(listed.expirationTime.getTime(), takeProfit.expireDate.getTime());
  const cancelled = await api.stoporders.cancelStopOrder({ accountId: seller, stopOrderId: placed.stopOrderId });
  assert.ok(cancelled.time instanceof Date);
  assert.equal((await stopOrders(api, StopOrderStatusOption.STOP_ORDER_STATUS_CANCELED))[0].stopOrderId, placed.stopOrderId);
  assert.equal((await stopOrders(api, StopOrderStatusOption.STOP_ORDER_STATUS_ACTIVE)).length, 0);

  const code = async (call) => {
    const r = await callRaw(call);
    return [r.error?.code, r.error?.details, r.trailer?.get('message')?.length > 0];
  };
  const INVALID = Status.INVALID_ARGUMENT;
  assert.deepEqual(await code((o) => raw.cancelStopOrder({ accountId: seller, stopOrderId: placed.stopOrderId }, o)), [INVALID, '30060', true]);
  assert.deepEqual(await code((o) => raw.cancelStopOrder({ accountId: seller, stopOrderId: randomUUID() }, o)), [Status.NOT_FOUND, '50006', true]);
  const cases = [
    [{ stopPrice: undefined }, '30036'],
    [{ stopOrderType: 0 }, '30037'],
    [{ stopOrderType: 9 }, '30038'],
    [{ expirationType: 0 }, '30043'],
    [{ expirationType: StopOrderExpirationType.STOP_ORDER_EXPIRATION_TYPE_GOOD_TILL_DATE }, '30040'],
    [{ expirationType: StopOrderExpirationType.STOP_ORDER_EXPIRATION_TYPE_GOOD_TILL_DATE, expireDate: new Date(Date.now() - 1000) }, '30063'],
    [{ quantity: 0 }, '30015'],
    [{ direction: 0 }, '30019'],
    [{ stopPrice: q(400) }, '30053'], // a stop-loss sell above the market
    [{ stopPrice: { units: 250, nano: 5000000 } }, '30078'],
    [{ stopOrderType: StopOrderType.STOP_ORDER_TYPE_STOP_LIMIT }, '30017'],
    [{ takeProfitType: 1 }, '30241'],
    [{ stopOrderType: StopOrderType.STOP_ORDER_TYPE_TAKE_PROFIT, takeProfitType: 2, stopPrice: q(400) }, '30210'],
    [{ exchangeOrderType: 7 }, '30105'],
    [{ instrumentId: 'nope' }, '50002'],
    [{ accountId: 'nope' }, '50004'],
  ];
  // A print at the market maker's ask (310) first, so that the wrong side is known.
  await api.orders.postOrder({
    instrumentId: share.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: seller,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  });
  for (const [overrides, expected] of cases) {
    const [status, details, hasMessage] = await code((o) => raw.postStopOrder({ ...stopLoss(seller, 250), ...overrides }, o));
    assert.equal(details, expected, JSON.stringify(overrides));
    assert.ok(status === INVALID || status === Status.NOT_FOUND);
    assert.ok(hasMessage);
  }
  assert.deepEqual(await code((o) => raw.getStopOrders({ accountId: seller, status: 9 }, o)), [INVALID, '30106', true]);
  const readOnly = rawClient(server, StopOrdersServiceDefinition, 't.demo.readonly');
  assert.deepEqual(await code((o) => readOnly.postStopOrder(stopLoss(seller, 250), o)), [Status.PERMISSION_DENIED, '40002', true]);
  assert.equal((await stopOrders(api, StopOrderStatusOption.STOP_ORDER_STATUS_ACTIVE)).length, 0);

  // The sandbox twins serve sandbox accounts, and know none of the broker's. The npm SDK's
  // contract predates them: their definition is StopOrdersService's methods under their names.
  const twin = (name, method) => ({ ...StopOrdersServiceDefinition.methods[method], name });
  const SandboxStopOrders = {
    name: 'SandboxService', fullName: 'tinkoff.public.invest.api.contract.v1.SandboxService',
    methods: {
      postSandboxStopOrder: twin('PostSandboxStopOrder', 'postStopOrder'),
      getSandboxStopOrders: twin('GetSandboxStopOrders', 'getStopOrders'),
      cancelSandboxStopOrder: twin('CancelSandboxStopOrder', 'cancelStopOrder'),
    },
  };
  const sandbox = rawClient(server, SandboxStopOrders, 't.demo.full');
  const sbPlaced = await sandbox.postSandboxStopOrder(stopLoss(sandboxAccount, 250));
  const sbListed = await sandbox.getSandboxStopOrders({ accountId: sandboxAccount, status: 0 });
  assert.equal(sbListed.stopOrders[0].stopOrderId, sbPlaced.stopOrderId);
  await sandbox.cancelSandboxStopOrder({ accountId: sandboxAccount, stopOrderId: sbPlaced.stopOrderId });
  assert.deepEqual(await code((o) => sandbox.postSandboxStopOrder(stopLoss(seller, 250), o)), [Status.NOT_FOUND, '50004', true]);
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});
