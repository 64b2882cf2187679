// Margin trading through the official npm SDK (docs/MARGIN.md): the cash account refuses futures,
// shorts, credit and GetMarginAttributes with the real codes; the margin account shorts SBER and
// buys it back, with GetMarginAttributes before and after; a futures round trip across a clearing
// pays variation margin as operations and releases the guarantee; and when the operator's price
// move turns a leveraged position against the account, the broker's margin call closes it, seen
// on OrderStateStream and in the operations.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { OrderDirection, OrderType, OrderExecutionReportStatus } from 'tinkoff-invest-api/dist/generated/orders.js';
import { OperationType, OperationState } from 'tinkoff-invest-api/dist/generated/operations.js';
import { UsersServiceDefinition } from 'tinkoff-invest-api/dist/generated/users.js';
import { OrdersServiceDefinition } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, demoReferenceDir, binary } from './harness.mjs';

const ADMIN_TOKEN = 'adm-margin-0123456789abcdef';
const TOKEN = 't.demo.full';
const CASH = demoConfig.accounts.find((a) => (a.kind ?? 'cash') === 'cash' && !a.sandbox).id;
const MARGIN = demoConfig.accounts.find((a) => a.kind === 'margin').id;
const SECOND = '2000000099'; // a second margin account of this test's own configuration
const sber = demoInstruments.find((i) => i.ticker === 'SBER');
const future = demoInstruments.find((i) => i.ticker === 'SiH7');
const tinvestctl = join(dirname(binary), 'tinvestctl');

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-margin-'));
after(() => { closeClients(); rmSync(dir, { recursive: true, force: true }); });

const nano = (v) => BigInt(v.units) * 1000000000n + BigInt(v.nano);
const num = (v) => Number(nano(v)) / 1e9;

/** HH:MM:SS (UTC) `seconds` from now. */
function utcIn(seconds) {
  return new Date(Date.now() + seconds * 1000).toISOString().slice(11, 19);
}

function configWith(name, edit) {
  const config = structuredClone(demoConfig);
  config.reference_dir = demoReferenceDir;
  config.admin = { token: ADMIN_TOKEN };
  config.venue.market_maker.refresh_ms = 3600000; // the book moves only through the operator
  edit?.(config);
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function ctl(server, args) {
  const argv = ['--target', `127.0.0.1:${server.plainPort}`, '--token', ADMIN_TOKEN, ...args];
  return new Promise((resolve) => {
    execFile(tinvestctl, argv, { timeout: 60000 }, (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

function order(accountId, instrumentId, direction, quantity) {
  return {
    accountId, instrumentId, quantity, direction, orderType: OrderType.ORDER_TYPE_MARKET,
    orderId: randomUUID(),
  };
}
const BUY = OrderDirection.ORDER_DIRECTION_BUY;
const SELL = OrderDirection.ORDER_DIRECTION_SELL;
const FILLED = OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_FILL;

async function eventually(what, fn, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function position(api, accountId, instrument) {
  const p = await api.operations.getPositions({ accountId });
  const all = [...p.securities, ...p.futures];
  const found = all.find((s) => s.instrumentUid === instrument.uid || s.figi === instrument.figi);
  return found ? found.balance + found.blocked : 0;
}

async function operations(api, accountId) {
  const r = await api.operations.getOperations({
    accountId, from: new Date(Date.now() - 3600e3), to: new Date(Date.now() + 3600e3),
  });
  return r.operations;
}

test('the cash account refuses futures, shorts, credit and margin attributes with the real codes', async () => {
  const server = await startServer({ config: configWith('cash'), dataDir: join(dir, 'data-cash') });
  const orders = rawClient(server, OrdersServiceDefinition, TOKEN);
  const users = rawClient(server, UsersServiceDefinition, TOKEN);
  try {
    const cases = [
      [order(CASH, future.figi, BUY, 1), '30051'],
      [order(CASH, sber.uid, SELL, 1), '30042'],
      [order(CASH, sber.uid, BUY, 1000), '30042'], // 10 000 shares, far beyond the cash
    ];
    for (const [request, code] of cases) {
      const r = await callRaw((o) => orders.postOrder(request, o));
      assert.equal(r.error?.code, 3, 'INVALID_ARGUMENT');
      assert.equal(r.error?.details, code, JSON.stringify(request));
      assert.ok(r.trailer.get('message'), 'the message trailer');
      assert.ok(r.trailer.get('x-tracking-id'));
    }
    const attributes = await callRaw((o) => users.getMarginAttributes({ accountId: CASH }, o));
    assert.equal(attributes.error?.details, '30051');
    assert.equal(attributes.trailer.get('message'), 'Account margin status is disabled');
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

test('the margin account shorts SBER and buys it back, GetMarginAttributes before and after', async () => {
  const server = await startServer({ config: configWith('short'), dataDir: join(dir, 'data-short') });
  const api = sdk(server, TOKEN);
  try {
    const before = await api.users.getMarginAttributes({ accountId: MARGIN });
    assert.equal(num(before.liquidPortfolio), 1000000);
    assert.equal(num(before.startingMargin), 0);
    assert.equal(num(before.minimalMargin), 0);
    const sold = await api.orders.postOrder(order(MARGIN, sber.uid, SELL, 10));
    assert.equal(sold.executionReportStatus, FILLED);
    assert.equal(await position(api, MARGIN, sber), -100, 'a short of 100 shares');
    const price = num(sold.executedOrderPrice);
    const short = await api.users.getMarginAttributes({ accountId: MARGIN });
    // dshort of SBER is 0.28 (data/reference/instruments.json); the short is valued at the last price.
    assert.ok(Math.abs(num(short.startingMargin) - 100 * price * 0.28) < 0.01, JSON.stringify(short));
    assert.ok(Math.abs(num(short.minimalMargin) - num(short.startingMargin) / 2) < 0.01);
    assert.ok(num(short.liquidPortfolio) > 990000 && num(short.liquidPortfolio) <= 1000000);
    assert.ok(num(short.fundsSufficiencyLevel) > 1);
    assert.ok(num(short.amountOfMissingFunds) < 0, 'nothing is missing');
    const max = await api.orders.getMaxLots({ accountId: MARGIN, instrumentId: sber.uid });
    assert.ok(max.sellMarginLimits.sellMaxLots > 0 && max.sellLimits.sellMaxLots === 0,
      'a short is possible only on margin');
    const bought = await api.orders.postOrder(order(MARGIN, sber.uid, BUY, 10));
    assert.equal(bought.executionReportStatus, FILLED);
    assert.equal(await position(api, MARGIN, sber), 0);
    const after = await api.users.getMarginAttributes({ accountId: MARGIN });
    assert.equal(num(after.startingMargin), 0);
    const ops = await operations(api, MARGIN);
    assert.ok(ops.some((o) => o.operationType === OperationType.OPERATION_TYPE_SELL));
    assert.ok(ops.some((o) => o.operationType === OperationType.OPERATION_TYPE_BUY));
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

test('a futures round trip across a clearing: guarantee blocked, variation margin paid, guarantee released', async () => {
  const clearing = utcIn(12);
  const server = await startServer({
    config: configWith('futures', (c) => {
      c.margin = { ...c.margin, clearings_utc: [clearing] };
      c.accounts.push({ id: SECOND, name: 'second', type: 1, status: 2, opened_date: '2025-06-02',
        kind: 'margin', cash: { rub: '1000000' } });
      for (const t of c.tokens) if (t.token === TOKEN) t.accounts[SECOND] = 'full';
    }),
    dataDir: join(dir, 'data-futures'),
  });
  const api = sdk(server, TOKEN);
  try {
    const bought = await api.orders.postOrder(order(MARGIN, future.figi, BUY, 1));
    assert.equal(bought.executionReportStatus, FILLED);
    const entry = num(bought.executedOrderPrice);
    const held = await api.operations.getPositions({ accountId: MARGIN });
    assert.equal(num(held.blocked.find((m) => m.currency === 'rub')), 13250, 'the guarantee on buy');
    assert.equal(num(held.money.find((m) => m.currency === 'rub')) + 13250,
      1000000 - num(bought.executedCommission), 'no value paid for a future');
    // The operator moves the price up 500 points; another account's trade prints there.
    const moved = await ctl(server, ['price', future.figi, String(entry + 500)]);
    assert.equal(moved.code, 0, moved.stderr);
    const other = await api.orders.postOrder(order(SECOND, future.figi, BUY, 1));
    const last = num(other.executedOrderPrice);
    assert.ok(last > entry);
    const portfolio = await api.operations.getPortfolio({ accountId: MARGIN });
    const line = portfolio.positions.find((p) => p.figi === future.figi);
    assert.equal(num(line.varMargin), last - entry, 'marked to market before the clearing');
    // The clearing passes: its variation margin arrives as an operation of the real type.
    const paid = await eventually('the clearing', async () => (await operations(api, MARGIN))
      .find((o) => o.operationType === OperationType.OPERATION_TYPE_ACCRUING_VARMARGIN), 30000);
    assert.equal(num(paid.payment), last - entry);
    assert.equal(paid.figi, future.figi);
    const sold = await api.orders.postOrder(order(MARGIN, future.figi, SELL, 1));
    assert.equal(sold.executionReportStatus, FILLED);
    assert.equal(await position(api, MARGIN, future), 0);
    const released = await api.operations.getPositions({ accountId: MARGIN });
    assert.equal(released.blocked.length, 0, 'closing releases the guarantee');
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

test('a margin call closes a leveraged position when the market maker walks the price against it', async () => {
  const server = await startServer({
    config: configWith('call', (c) => {
      c.accounts.find((a) => a.id === MARGIN).cash = { rub: '100000' };
    }),
    dataDir: join(dir, 'data-call'),
  });
  const api = sdk(server, TOKEN);
  const controller = new AbortController();
  const seen = [];
  const stream = (async () => {
    try {
      for await (const m of api.ordersStream.orderStateStream({ accounts: [MARGIN] }, { signal: controller.signal }))
        if (m.orderState) seen.push(m.orderState);
    } catch { /* aborted */ }
  })();
  try {
    await new Promise((r) => setTimeout(r, 300));
    // 130 lots of 10 at about 300: 390 000 on 100 000 of cash, within dlong 0.25.
    const bought = await api.orders.postOrder(order(MARGIN, sber.uid, BUY, 130));
    assert.equal(bought.executionReportStatus, FILLED);
    const levered = await api.users.getMarginAttributes({ accountId: MARGIN });
    assert.ok(num(levered.liquidPortfolio) > num(levered.minimalMargin));
    // Bought on credit: the rouble balance is a loan, in GetPositions and GetPortfolio alike.
    const credit = await api.operations.getPositions({ accountId: MARGIN });
    assert.ok(num(credit.money.find((m) => m.currency === 'rub')) < -280000, JSON.stringify(credit.money));
    const portfolio = await api.operations.getPortfolio({ accountId: MARGIN });
    assert.ok(num(portfolio.totalAmountCurrencies) < -280000);
    assert.equal(num(portfolio.positions.find((p) => p.figi === sber.figi).quantity), 1300);
    const maxLots = await api.orders.getMaxLots({ accountId: MARGIN, instrumentId: sber.uid });
    assert.equal(maxLots.buyLimits.buyMaxLots, 0, 'no money of its own left');
    assert.ok(maxLots.buyMarginLimits.buyMaxLots >= 0 && maxLots.buyMarginLimits.buyMaxLots < 10);
    // The market maker's price falls 17 % with no trade since: the quotes alone bring the call.
    const price = num(bought.executedOrderPrice);
    const target = Math.round(price * 0.83 * 100) / 100;
    const moved = await ctl(server, ['price', sber.uid, target.toFixed(2)]);
    assert.equal(moved.code, 0, moved.stderr);
    const call = await eventually('the margin call on OrderStateStream', () =>
      seen.find((s) => s.orderRequestId !== bought.orderRequestId && s.direction === SELL &&
        s.executionReportStatus === FILLED));
    assert.equal(Number(call.lotsExecuted), 130);
    assert.equal(await position(api, MARGIN, sber), 0, 'the position is closed');
    const ops = await operations(api, MARGIN);
    assert.ok(ops.some((o) => o.operationType === OperationType.OPERATION_TYPE_SELL_MARGIN &&
      o.state === OperationState.OPERATION_STATE_EXECUTED), 'the sale of the margin call');
  } finally {
    controller.abort();
    await stream;
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});
