// Trading against the embedded exchange through the npm SDK: fills moving cash and positions,
// partial fills, exchange-side rejects (sync and after an async accept), market data, two
// accounts trading with each other, and the reject model.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrdersServiceDefinition, OrderDirection, OrderType, OrderExecutionReportStatus as S, OrderIdType,
  TimeInForceType, OrderStateStreamResponse_StatusCauseInfo as Cause } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments } from './harness.mjs';

const [firstAccount, secondAccount] = demoConfig.accounts.map((a) => a.id);
const share = demoInstruments.find((i) => i.type === 'share');
const tick = Number(share.min_price_increment);
const ref = Number(share.reference_price);
const LEVEL_LOTS = 100;
let server;
let api;

const q = (value) => { const n = Math.round(value * 1e9); return { units: Math.trunc(n / 1e9), nano: n % 1e9 }; };
const num = (m) => m.units + m.nano / 1e9;
const near = (a, b, eps = 1e-6) => Math.abs(a - b) < eps;

before(async () => {
  // A market maker that does not walk, so that prices are known: bid = ref - tick, ask = ref + tick.
  const config = structuredClone(demoConfig);
  config.venue.market_maker = { enabled: true, levels: 5, lots_per_level: LEVEL_LOTS, spread_ticks: 1, refresh_ms: 3600000, walk_ticks: 0 };
  const path = join(tmpdir(), `tinvestd-trading-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  server = await startServer({ config: path });
  api = sdk(server, 't.demo.full');
});
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

async function cash(accountId) {
  const p = await api.operations.getPositions({ accountId });
  return { free: num(p.money.find((m) => m.currency === 'rub')), blocked: p.blocked.filter((m) => m.currency === 'rub').reduce((s, m) => s + num(m), 0), positions: p };
}

function units(positions, uid) {
  return positions.securities.filter((s) => s.instrumentUid === uid).reduce((s, p) => s + p.balance + p.blocked, 0);
}

test('the market maker quotes the order book; limits, last price and trading status are reported', async () => {
  const book = await api.marketdata.getOrderBook({ instrumentId: share.uid, depth: 5 });
  assert.equal(book.bids.length, 5);
  assert.equal(book.asks.length, 5);
  assert.ok(near(num(book.asks[0].price), ref + tick));
  assert.ok(near(num(book.bids[0].price), ref - tick));
  assert.equal(book.asks[0].quantity, LEVEL_LOTS);
  assert.ok(num(book.limitUp) > ref && num(book.limitDown) < ref);
  assert.equal(book.instrumentUid, share.uid);
  const status = await api.marketdata.getTradingStatus({ instrumentId: share.uid });
  assert.equal(status.tradingStatus, 5);
  assert.equal(status.marketOrderAvailableFlag, true);
  const orders = rawClient(server, (await import('tinkoff-invest-api/dist/generated/marketdata.js')).MarketDataServiceDefinition, 't.demo.full');
  const bad = await callRaw((o) => orders.getOrderBook({ instrumentId: share.uid, depth: 77 }, o));
  assert.equal(bad.error?.details, '30032');
});

test('a market buy fills against the quotes and moves cash and positions; selling brings it back', async () => {
  const trades = api.ordersStream.tradesStream({ accounts: [firstAccount] })[Symbol.asyncIterator]();
  assert.ok((await trades.next()).value.subscription);
  const before = await cash(firstAccount);
  const buy = {
    instrumentId: share.uid, quantity: 3, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: firstAccount,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  };
  const bought = await api.orders.postOrder(buy);
  // The exchange fills a market order right after acknowledging it, and PostOrder answers with the
  // order as that batch left it, as the real broker answers a market order: filled, with its price.
  assert.equal(bought.executionReportStatus, S.EXECUTION_REPORT_STATUS_FILL);
  assert.equal(bought.lotsExecuted, 3);
  assert.ok(bought.executedOrderPrice.units > 0 || bought.executedOrderPrice.nano > 0);
  const state = await api.orders.getOrderState({ accountId: firstAccount, orderId: bought.orderId });
  assert.equal(state.executionReportStatus, S.EXECUTION_REPORT_STATUS_FILL);
  assert.equal(state.lotsExecuted, 3);
  assert.equal(state.stages.length, 1);
  const value = (ref + tick) * 3 * share.lot;
  assert.ok(near(num(state.executedOrderPrice), value));
  const commission = num(state.executedCommission);
  assert.ok(commission > 0);
  // The same key again answers with the order as it is now. In PostOrderResponse the contract
  // makes executed_order_price the average price of one instrument (OrderState: the total).
  const repeated = await api.orders.postOrder(buy);
  assert.equal(repeated.orderId, bought.orderId);
  assert.ok(near(num(repeated.executedOrderPrice), ref + tick), 'average price of one instrument');
  assert.ok(near(num(repeated.totalOrderAmount), value + commission), 'total with commission');
  const after = await cash(firstAccount);
  assert.ok(near(after.free + after.blocked, before.free + before.blocked - value - commission, 1e-5));
  assert.equal(units(after.positions, share.uid) - units(before.positions, share.uid), 3 * share.lot);
  for (;;) {
    const { value } = await trades.next();
    if (value.orderTrades?.orderId !== bought.orderId) continue;
    assert.equal(value.orderTrades.accountId, firstAccount);
    assert.equal(value.orderTrades.instrumentUid, share.uid);
    assert.equal(value.orderTrades.direction, OrderDirection.ORDER_DIRECTION_BUY);
    assert.equal(value.orderTrades.trades[0].quantity, 3);
    assert.ok(near(num(value.orderTrades.trades[0].price), ref + tick));
    break;
  }
  await trades.return();
  const portfolio = await api.operations.getPortfolio({ accountId: firstAccount });
  const held = portfolio.positions.find((p) => p.instrumentUid === share.uid);
  assert.ok(held);
  assert.equal(num(held.quantityLots), num(held.quantity) / share.lot);
  // Roubles are a position too, as on the real API: FIGI RUB000UTSTOM, quantity = the balance.
  const rouble = portfolio.positions.find((p) => p.figi === 'RUB000UTSTOM');
  assert.equal(rouble?.instrumentType, 'currency');
  assert.ok(near(num(rouble.quantity), after.free + after.blocked, 1e-6));
  assert.ok(near(num(rouble.currentPrice), 1));

  const sold = await api.orders.postOrder({
    instrumentId: share.uid, quantity: 3, direction: OrderDirection.ORDER_DIRECTION_SELL, accountId: firstAccount,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  });
  const soldState = await api.orders.getOrderState({ accountId: firstAccount, orderId: sold.orderId });
  assert.equal(soldState.executionReportStatus, S.EXECUTION_REPORT_STATUS_FILL);
  const end = await cash(firstAccount);
  assert.equal(units(end.positions, share.uid), units(before.positions, share.uid));
  const spread = 2 * tick * 3 * share.lot;
  assert.ok(near(end.free, before.free - spread - commission - num(soldState.executedCommission), 1e-5));
  const last = await api.marketdata.getLastPrices({ figi: [], instrumentId: [share.uid] });
  assert.ok(near(num(last.lastPrices[0].price), ref - tick));
  const lastTrades = await api.marketdata.getLastTrades({ instrumentId: share.uid, from: new Date(Date.now() - 60000), to: new Date(Date.now() + 1000) });
  assert.ok(lastTrades.trades.length >= 2);
});

test('a limit buy larger than the quotes fills partially and rests; the stream shows each fill', async () => {
  // The bid takes the best ask level (100 lots); the maker then replenishes, and its new ask at
  // the same price trades with the rest of the bid (100 more); 20 lots stay in the book.
  const stream = api.ordersStream.orderStateStream({ accounts: [firstAccount] })[Symbol.asyncIterator]();
  assert.ok((await stream.next()).value.subscription);
  const order = {
    instrumentId: share.uid, quantity: 2 * LEVEL_LOTS + 20, price: q(ref + tick), direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: firstAccount, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(),
  };
  await api.orders.postOrderAsync(order);
  const seen = [];
  while (!seen.some((s) => s.lotsExecuted === 2 * LEVEL_LOTS)) {
    const { value } = await stream.next();
    if (value.orderState?.orderRequestId === order.orderId) seen.push(value.orderState);
  }
  assert.deepEqual(seen.map((s) => s.executionReportStatus), [
    S.EXECUTION_REPORT_STATUS_NEW, S.EXECUTION_REPORT_STATUS_NEW,
    S.EXECUTION_REPORT_STATUS_PARTIALLYFILL, S.EXECUTION_REPORT_STATUS_PARTIALLYFILL,
  ], 'accepted, acknowledged, then one message per fill');
  for (const fill of seen.slice(2)) {
    assert.equal(fill.trades.length, 1);
    assert.equal(fill.trades[0].quantity, LEVEL_LOTS);
    assert.ok(near(num(fill.trades[0].price), ref + tick));
  }
  assert.equal(seen[3].lotsLeft, 20);
  const state = await api.orders.getOrderState({ accountId: firstAccount, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  assert.equal(state.executionReportStatus, S.EXECUTION_REPORT_STATUS_PARTIALLYFILL);
  assert.equal(state.lotsExecuted, 2 * LEVEL_LOTS);
  assert.equal(state.stages.length, 2);
  await api.orders.cancelOrder({ accountId: firstAccount, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  for (;;) {
    const { value } = await stream.next();
    if (value.orderState?.orderRequestId === order.orderId && value.orderState.executionReportStatus === S.EXECUTION_REPORT_STATUS_CANCELLED) {
      assert.equal(value.orderState.lotsExecuted, 2 * LEVEL_LOTS);
      assert.equal(value.orderState.lotsCancelled, 20);
      break;
    }
  }
  await stream.return();
  // Sell what was bought, to leave the account as it was.
  await api.orders.postOrder({ instrumentId: share.uid, quantity: 2 * LEVEL_LOTS, direction: OrderDirection.ORDER_DIRECTION_SELL,
    accountId: firstAccount, orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() });
});

test('price outside the exchange limits: PostOrder fails with 30099; PostOrderAsync is accepted, then rejected', async () => {
  const book = await api.marketdata.getOrderBook({ instrumentId: share.uid, depth: 1 });
  const tooHigh = q(num(book.limitUp) + tick);
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const sync = await callRaw((o) => orders.postOrder({
    instrumentId: share.uid, quantity: 1, price: tooHigh, direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: firstAccount, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(),
  }, o));
  assert.equal(sync.error?.code, Status.INVALID_ARGUMENT);
  assert.equal(sync.error?.details, '30099');

  const stream = api.ordersStream.orderStateStream({ accounts: [firstAccount] })[Symbol.asyncIterator]();
  await stream.next();
  const order = { instrumentId: share.uid, quantity: 1, price: tooHigh, direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: firstAccount, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() };
  const accepted = await api.orders.postOrderAsync(order);
  assert.equal(accepted.executionReportStatus, S.EXECUTION_REPORT_STATUS_NEW);
  for (;;) {
    const { value } = await stream.next();
    if (value.orderState?.orderRequestId === order.orderId && value.orderState.executionReportStatus === S.EXECUTION_REPORT_STATUS_REJECTED) {
      assert.equal(value.orderState.statusInfo, Cause.CAUSE_REJECTED_BY_EXCHANGE);
      break;
    }
  }
  await stream.return();
  const state = await api.orders.getOrderState({ accountId: firstAccount, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  assert.equal(state.executionReportStatus, S.EXECUTION_REPORT_STATUS_REJECTED);
  assert.equal((await cash(firstAccount)).blocked, 0, 'the reject released the reservation');
});

test('two accounts of different tokens trade with each other in the same book', async () => {
  // The first account (token t.demo.one) buys 2 lots, then offers them at the reference price,
  // inside the maker's spread; the second account (token t.demo.full) lifts that offer.
  const one = sdk(server, 't.demo.one');
  await one.orders.postOrder({ instrumentId: share.uid, quantity: 2, direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: firstAccount, orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() });
  const offer = await one.orders.postOrder({ instrumentId: share.uid, quantity: 2, price: q(ref), direction: OrderDirection.ORDER_DIRECTION_SELL,
    accountId: firstAccount, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() });
  const bid = await api.orders.postOrder({ instrumentId: share.uid, quantity: 2, price: q(ref), direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: secondAccount, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(), timeInForce: TimeInForceType.TIME_IN_FORCE_FILL_AND_KILL });
  const sellerState = await one.orders.getOrderState({ accountId: firstAccount, orderId: offer.orderId });
  const buyerState = await api.orders.getOrderState({ accountId: secondAccount, orderId: bid.orderId });
  assert.equal(sellerState.executionReportStatus, S.EXECUTION_REPORT_STATUS_FILL);
  assert.equal(buyerState.executionReportStatus, S.EXECUTION_REPORT_STATUS_FILL);
  assert.equal(sellerState.stages[0].tradeId, buyerState.stages[0].tradeId, 'one trade, two sides');
  assert.ok(near(num(buyerState.stages[0].price), ref));
  await api.orders.postOrder({ instrumentId: share.uid, quantity: 2, direction: OrderDirection.ORDER_DIRECTION_SELL,
    accountId: secondAccount, orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID() });
});

test('the reject model: every accepted async order is then rejected by the exchange', async () => {
  const config = structuredClone(demoConfig);
  config.venue.reject_probability_ppm = 1000000;
  const path = join(tmpdir(), `tinvestd-rejects-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  const own = await startServer({ config: path });
  try {
    const client = sdk(own, 't.demo.full');
    const order = { instrumentId: share.uid, quantity: 1, price: q(ref - 10 * tick), direction: OrderDirection.ORDER_DIRECTION_BUY,
      accountId: firstAccount, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() };
    const reply = await client.orders.postOrderAsync(order);
    assert.equal(reply.executionReportStatus, S.EXECUTION_REPORT_STATUS_NEW);
    let state;
    for (let i = 0; i < 50; i++) {
      state = await client.orders.getOrderState({ accountId: firstAccount, orderId: order.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
      if (state.executionReportStatus === S.EXECUTION_REPORT_STATUS_REJECTED) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(state.executionReportStatus, S.EXECUTION_REPORT_STATUS_REJECTED);
    const orders = rawClient(own, OrdersServiceDefinition, 't.demo.full');
    const sync = await callRaw((o) => orders.postOrder({ ...order, orderId: randomUUID() }, o));
    assert.equal(sync.error?.code, Status.INVALID_ARGUMENT);
    assert.equal(sync.error?.details, '30095');
  } finally {
    assert.deepEqual(await own.stop(), { code: 0, signal: null });
  }
});
