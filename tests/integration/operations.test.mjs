// The operation history through the npm SDK: trades, a sandbox pay-in, the opening balances and a
// currency transfer between two accounts make operations whose payments add up to the cash
// balance and whose executed quantities add up to the positions, exactly, read page by page
// through the cursor; every filter of GetOperationsByCursor, GetOperations, GetBrokerReport and
// the (empty) dividends report; CurrencyTransfer's and the readers' error codes; and the same
// history after a graceful restart and after kill -9.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { OperationsServiceDefinition, OperationType, OperationState } from 'tinkoff-invest-api/dist/generated/operations.js';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, sourceDir } from './harness.mjs';

const [first, second, sandboxConfigured] = demoConfig.accounts;
const share = demoInstruments.find((i) => i.type === 'share');
const other = demoInstruments.filter((i) => i.type === 'share')[1];
const TOKEN = 't.demo.full';

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-operations-'));
const configPath = join(dir, 'config.json');
const config = structuredClone(demoConfig);
// Snapshots every few dozen events: a restart loads one and replays the journal after it.
config.limits = { ...config.limits, snapshot_every_events: 25 };
writeFileSync(configPath, JSON.stringify(config));
after(() => {
  closeClients();
  rmSync(dir, { recursive: true, force: true });
});

const nanoOf = (m) => BigInt(m.units) * 1000000000n + BigInt(m.nano);
const money = (currency, units, nano = 0) => ({ currency, units, nano });

// UsersService.GetBankAccounts and CurrencyTransfer are newer than the npm SDK's contract: they
// are called through our own proto files.
function usersClient(server, token = TOKEN, { sandbox = false } = {}) {
  const definition = protoLoader.loadSync(join(sourceDir, 'proto', 'users.proto'),
    { includeDirs: [join(sourceDir, 'proto'), '/usr/include'], keepCase: true, enums: Number, longs: String, defaults: true });
  const { UsersService } = grpc.loadPackageDefinition(definition).tinkoff.public.invest.api.contract.v1;
  const port = sandbox ? server.sandboxPort : server.plainPort;
  const client = new UsersService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const call = (method, request) => new Promise((resolve) => client[method](request, metadata,
    (error, response) => resolve(error ? { error } : { response })));
  return {
    transfer: (request) => call('CurrencyTransfer', request),
    bankAccounts: () => call('GetBankAccounts', {}),
    close: () => client.close(),
  };
}

/** A market order, once it has ended (PostOrder answers at the exchange's acknowledgement). */
async function place(api, accountId, quantity, direction, instrument = share) {
  const placed = await api.orders.postOrder({ accountId, orderId: randomUUID(), instrumentId: instrument.uid, quantity,
    direction, orderType: OrderType.ORDER_TYPE_MARKET });
  for (let tries = 0; tries < 200; tries++) {
    const state = await api.orders.getOrderState({ accountId, orderId: placed.orderId });
    if ([1, 2, 3].includes(state.executionReportStatus)) return state;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`order ${placed.orderId} did not end`);
}

/** Every operation of the account, page after page of `limit` through the cursor. */
async function allByCursor(api, accountId, limit, request = {}) {
  const items = [];
  let cursor = '';
  for (let pages = 0; pages < 1000; pages++) {
    const page = await api.operations.getOperationsByCursor({ accountId, limit, cursor, operationTypes: [], ...request });
    assert.ok(page.items.length <= limit);
    items.push(...page.items);
    if (!page.hasNext) return items;
    assert.notEqual(page.nextCursor, '');
    cursor = page.nextCursor;
  }
  throw new Error('more pages than expected');
}

/** The account's cash (free + blocked) per currency and its positions, from GetPositions. */
async function holdings(api, accountId) {
  const p = await api.operations.getPositions({ accountId });
  const cash = new Map();
  for (const m of [...p.money, ...p.blocked]) cash.set(m.currency, (cash.get(m.currency) ?? 0n) + nanoOf(m));
  const units = new Map(p.securities.map((s) => [s.figi, BigInt(s.balance) + BigInt(s.blocked)]));
  return { cash, units };
}

/** Sums the operations as the ledger would: what they did to cash and to positions. */
function reconcile(items) {
  const cash = new Map();
  const units = new Map();
  for (const item of items) {
    if (item.state === OperationState.OPERATION_STATE_CANCELED) continue;
    const currency = item.payment.currency;
    cash.set(currency, (cash.get(currency) ?? 0n) + nanoOf(item.payment));
    const sign = item.type === OperationType.OPERATION_TYPE_BUY ? 1n : item.type === OperationType.OPERATION_TYPE_SELL ? -1n : 0n;
    if (sign !== 0n) units.set(item.figi, (units.get(item.figi) ?? 0n) + sign * BigInt(item.quantityDone));
  }
  return { cash, units };
}

function assertReconciles(items, held) {
  const sums = reconcile(items);
  for (const [currency, balance] of held.cash) assert.equal(sums.cash.get(currency) ?? 0n, balance, `cash in ${currency}`);
  for (const [currency, total] of sums.cash) assert.equal(held.cash.get(currency) ?? 0n, total, `cash in ${currency}`);
  for (const [figi, n] of held.units) assert.equal(sums.units.get(figi) ?? 0n, n, `units of ${figi}`);
  for (const [figi, n] of sums.units) assert.equal(held.units.get(figi) ?? 0n, n, `units of ${figi}`);
}

const server = await startServer({ config: configPath });
let api = sdk(server, TOKEN);
// The sandbox account is served by the sandbox endpoint's ordinary services.
let sandboxApi = sdk(server, TOKEN, { sandbox: true });
const apiFor = (account) => (account.sandbox ? sandboxApi : api);
let transferId;

test('trades, a transfer and pay-ins make operations that add up to the balances and positions', async () => {
  for (const [quantity, direction] of [[3, 1], [2, 1], [1, 2], [1, 1], [2, 2]]) {
    const order = await place(api, first.id, quantity, direction === 1 ? OrderDirection.ORDER_DIRECTION_BUY : OrderDirection.ORDER_DIRECTION_SELL);
    assert.equal(Number(order.lotsExecuted), quantity);
  }
  await place(api, first.id, 1, OrderDirection.ORDER_DIRECTION_BUY, other);
  // A limit order far below the market, cancelled: an operation in state CANCELED.
  const resting = await api.orders.postOrder({ accountId: first.id, orderId: randomUUID(), instrumentId: share.uid,
    quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_LIMIT,
    price: { units: Math.ceil(Number(share.reference_price) * 0.85), nano: 0 } });
  await api.orders.cancelOrder({ accountId: first.id, orderId: resting.orderId });

  const users = usersClient(server);
  transferId = randomUUID();
  const sent = await users.transfer({ from_account_id: first.id, to_account_id: second.id, amount: money('rub', 1234, 560000000), transaction_id: transferId });
  assert.equal(sent.error, undefined);
  // The same transaction again is the same transfer: nothing moves twice.
  const again = await users.transfer({ from_account_id: first.id, to_account_id: second.id, amount: money('rub', 1234, 560000000), transaction_id: transferId.toUpperCase() });
  assert.equal(again.error, undefined);
  await api.sandbox.sandboxPayIn({ accountId: sandboxConfigured.id, amount: money('rub', 5000) });
  await place(sandboxApi, sandboxConfigured.id, 1, OrderDirection.ORDER_DIRECTION_BUY);
  users.close();

  for (const account of [first, second]) {
    const items = await allByCursor(api, account.id, 3);
    const numbers = items.map((i) => BigInt(i.cursor));
    assert.deepEqual([...numbers].sort((a, b) => (a < b ? 1 : -1)), numbers, 'newest first');
    assert.equal(new Set(numbers).size, numbers.length, 'no operation twice');
    assertReconciles(items, await holdings(api, account.id));
    assert.ok(items.every((i) => i.brokerAccountId === account.id));
  }
  const sandboxItems = [];
  for (let cursor = '', more = true; more;) {
    const page = await api.sandbox.getSandboxOperationsByCursor({ accountId: sandboxConfigured.id, limit: 2, cursor, operationTypes: [] });
    sandboxItems.push(...page.items);
    more = page.hasNext;
    cursor = page.nextCursor;
  }
  assertReconciles(sandboxItems, await holdings(sandboxApi, sandboxConfigured.id));
  assert.deepEqual(await allByCursor(sandboxApi, sandboxConfigured.id, 2), sandboxItems,
    'OperationsService on the sandbox endpoint lists what GetSandboxOperationsByCursor does');
  assert.equal(sandboxItems.filter((i) => i.type === OperationType.OPERATION_TYPE_INPUT).length, 2, 'opening balance and pay-in');
});

test('each kind of operation says what it is', async () => {
  const items = await allByCursor(api, first.id, 1000);
  const byType = (t) => items.filter((i) => i.type === t);
  const buys = byType(OperationType.OPERATION_TYPE_BUY);
  const sells = byType(OperationType.OPERATION_TYPE_SELL);
  const fees = byType(OperationType.OPERATION_TYPE_BROKER_FEE);
  assert.equal(buys.filter((b) => b.state === OperationState.OPERATION_STATE_EXECUTED).length, 4);
  assert.equal(buys.filter((b) => b.state === OperationState.OPERATION_STATE_CANCELED).length, 1);
  assert.equal(sells.length, 2);
  assert.equal(fees.length, 6, 'one fee per order that traded (commission 4 bp)');
  for (const op of [...buys, ...sells].filter((o) => o.state === OperationState.OPERATION_STATE_EXECUTED)) {
    // The id is the order's: GetOrderState finds it, and its trades are the operation's.
    const state = await api.orders.getOrderState({ accountId: first.id, orderId: op.id });
    const lot = demoInstruments.find((i) => i.figi === op.figi).lot;
    assert.equal(BigInt(op.quantityDone), BigInt(state.lotsExecuted) * BigInt(lot));
    assert.equal(op.quantityRest, 0);
    const trades = op.tradesInfo.trades;
    assert.equal(trades.length, state.stages.length);
    assert.equal(trades.reduce((s, t) => s + BigInt(t.quantity), 0n), BigInt(op.quantityDone));
    const value = trades.reduce((s, t) => s + nanoOf(t.price) * BigInt(t.quantity), 0n);
    assert.equal(nanoOf(op.payment), op.type === OperationType.OPERATION_TYPE_BUY ? -value : value);
    assert.equal(nanoOf(op.payment), (op.type === OperationType.OPERATION_TYPE_BUY ? -1n : 1n) * nanoOf(state.executedOrderPrice));
    const fee = fees.find((f) => f.parentOperationId === op.id);
    assert.ok(fee, `the fee of ${op.id}`);
    assert.equal(nanoOf(fee.payment), -nanoOf(state.executedCommission));
    assert.equal(nanoOf(op.commission), -nanoOf(state.executedCommission));
  }
  const canceled = buys.find((b) => b.state === OperationState.OPERATION_STATE_CANCELED);
  assert.equal(nanoOf(canceled.payment), 0n);
  assert.equal(canceled.quantityRest, canceled.quantity);
  const [out] = byType(OperationType.OPERATION_TYPE_OUT_MULTI);
  assert.equal(nanoOf(out.payment), -1234560000000n);
  const [input] = (await allByCursor(api, second.id, 10, { operationTypes: [OperationType.OPERATION_TYPE_INP_MULTI] }));
  assert.equal(nanoOf(input.payment), 1234560000000n);
  const opening = byType(OperationType.OPERATION_TYPE_INPUT);
  assert.equal(opening.length, 1);
  assert.equal(nanoOf(opening[0].payment), 1000000n * 1000000000n);
  assert.equal(opening[0].date.toISOString(), `${first.opened_date}T00:00:00.000Z`);
});

test('every filter of GetOperationsByCursor, and GetOperations', async () => {
  const all = await allByCursor(api, first.id, 1000);
  const only = async (request, keep) => {
    const got = await allByCursor(api, first.id, 2, request);
    assert.deepEqual(got.map((i) => i.cursor), all.filter(keep).map((i) => i.cursor), JSON.stringify(request));
    return got;
  };
  assert.ok((await only({ instrumentId: share.figi }, (i) => i.figi === share.figi)).length > 0);
  await only({ instrumentId: other.uid }, (i) => i.figi === other.figi);
  await only({ operationTypes: [OperationType.OPERATION_TYPE_SELL, OperationType.OPERATION_TYPE_OUT_MULTI] },
    (i) => i.type === OperationType.OPERATION_TYPE_SELL || i.type === OperationType.OPERATION_TYPE_OUT_MULTI);
  await only({ state: OperationState.OPERATION_STATE_CANCELED }, (i) => i.state === OperationState.OPERATION_STATE_CANCELED);
  await only({ withoutCommissions: true }, (i) => i.type !== OperationType.OPERATION_TYPE_BROKER_FEE);
  await only({ withoutOvernights: true }, () => true);
  const middle = all[Math.floor(all.length / 2)].date;
  await only({ from: middle }, (i) => i.date >= middle);
  // Dates here hold milliseconds, the server's nanoseconds: `to` just past the millisecond.
  await only({ to: new Date(middle.getTime() + 1) }, (i) => i.date <= middle);
  const bare = await allByCursor(api, first.id, 1000, { withoutTrades: true });
  assert.ok(bare.every((i) => (i.tradesInfo?.trades.length ?? 0) === 0));
  assert.ok(all.some((i) => i.tradesInfo?.trades.length > 0));
  // A cursor starts the page at the operation it names.
  const page = await api.operations.getOperationsByCursor({ accountId: first.id, cursor: all[2].cursor, limit: 2, operationTypes: [] });
  assert.deepEqual(page.items.map((i) => i.cursor), [all[2].cursor, all[3].cursor]);

  const listed = await api.operations.getOperations({ accountId: first.id });
  assert.deepEqual(listed.operations.map((o) => o.id), all.map((i) => i.id));
  const sold = await api.operations.getOperations({ accountId: first.id, figi: share.figi, state: OperationState.OPERATION_STATE_EXECUTED });
  assert.deepEqual(sold.operations.map((o) => o.id),
    all.filter((i) => i.figi === share.figi && i.state === OperationState.OPERATION_STATE_EXECUTED).map((i) => i.id));
  const fee = listed.operations.find((o) => o.operationType === OperationType.OPERATION_TYPE_BROKER_FEE);
  assert.ok(listed.operations.some((o) => o.id === fee.parentOperationId));
  const sandboxListed = await api.sandbox.getSandboxOperations({ accountId: sandboxConfigured.id });
  assert.ok(sandboxListed.operations.length >= 3);
});

test('the readers refuse bad requests with the catalogue codes', async () => {
  const raw = rawClient(server, OperationsServiceDefinition, TOKEN);
  const code = async (request) => (await callRaw((o) => raw.getOperationsByCursor({ accountId: first.id, operationTypes: [], ...request }, o))).error?.details;
  assert.equal(await code({ limit: 1001 }), '30069');
  assert.equal(await code({ limit: -1 }), '30069');
  assert.equal(await code({ cursor: 'abc' }), '30102');
  assert.equal(await code({ instrumentId: 'NO_SUCH_FIGI' }), '50002');
  assert.equal(await code({ from: new Date(2025, 1, 2), to: new Date(2025, 1, 1) }), '30012');
  assert.equal(await code({ state: 7 }), '30023');
  assert.equal(await code({ accountId: '' }), '30021');
  assert.equal(await code({ accountId: 'nope' }), '50004');
  const one = rawClient(server, OperationsServiceDefinition, 't.demo.one');
  assert.equal((await callRaw((o) => one.getOperations({ accountId: second.id }, o))).error?.details, '40002');
  assert.equal((await callRaw((o) => raw.getOperations({ accountId: first.id, figi: 'NO_SUCH_FIGI' }, o))).error?.details, '50002');
});

test('CurrencyTransfer refuses with the catalogue codes and moves nothing', async () => {
  const users = usersClient(server);
  const before = [await holdings(api, first.id), await holdings(api, second.id)];
  const base = { from_account_id: first.id, to_account_id: second.id, amount: money('rub', 1), transaction_id: randomUUID() };
  const refused = async (patch, client = users) => {
    const request = { ...base, transaction_id: randomUUID(), ...patch };
    for (const key of Object.keys(request)) if (request[key] === null) delete request[key];
    return (await client.transfer(request)).error?.details;
  };
  assert.equal(await refused({ from_account_id: '' }), '30249');
  assert.equal(await refused({ to_account_id: '' }), '30248');
  assert.equal(await refused({ amount: null }), '30247');
  assert.equal(await refused({ transaction_id: '' }), '30256');
  assert.equal(await refused({ transaction_id: 'not-a-uuid' }), '30257');
  assert.equal(await refused({ amount: money('rub', -5) }), '30246');
  assert.equal(await refused({ amount: money('rub', 0, 1000000) }), '30246', 'not a multiple of 0.01');
  assert.equal(await refused({ from_account_id: 'nope' }), '50004');
  assert.equal(await refused({ to_account_id: 'nope' }), '30250');
  assert.equal(await refused({ to_account_id: first.id }), '30251');
  assert.equal(await refused({ amount: money('usd', 1) }), '30258');
  assert.equal(await refused({ amount: money('rub', 900000000) }), '30251', 'not enough money');
  // The broker's endpoint knows no sandbox account; the sandbox endpoint knows no broker account.
  assert.equal(await refused({ from_account_id: sandboxConfigured.id }), '50004');
  assert.equal(await refused({ to_account_id: sandboxConfigured.id }), '30250');
  const sandboxUsers = usersClient(server, TOKEN, { sandbox: true });
  assert.equal(await refused({ from_account_id: sandboxConfigured.id }, sandboxUsers), '30252');
  assert.equal(await refused({}, sandboxUsers), '50004');
  sandboxUsers.close();
  // The same transaction id with other terms.
  assert.equal(await refused({ transaction_id: transferId, amount: money('rub', 2) }), '30251');
  const one = usersClient(server, 't.demo.one');
  assert.equal(await refused({}, one), '30250', 'an account the token does not see');
  assert.equal(await refused({ from_account_id: second.id, to_account_id: first.id }, one), '40002');
  const readonly = usersClient(server, 't.demo.readonly');
  assert.equal(await refused({}, readonly), '40002');
  one.close();
  readonly.close();
  assert.deepEqual([await holdings(api, first.id), await holdings(api, second.id)], before);

  const { response } = await users.bankAccounts();
  users.close();
  // Every broker account the token sees: the demo's two and its margin account.
  const brokerAccounts = demoConfig.accounts.filter((a) => !a.sandbox).map((a) => a.id);
  assert.equal(brokerAccounts.length, 3);
  assert.deepEqual(response.bank_accounts.map((b) => b.id).sort(), brokerAccounts.sort());
  const rub = response.bank_accounts.find((b) => b.id === second.id).money.find((m) => m.currency === 'rub');
  assert.equal(nanoOf(rub), before[1].cash.get('rub'));
});

test('GetBrokerReport lists the trades; GetDividendsForeignIssuer an empty report', async () => {
  const raw = rawClient(server, OperationsServiceDefinition, TOKEN);
  const from = new Date(Date.now() - 3600e3);
  const to = new Date(Date.now() + 3600e3);
  const generated = await api.operations.getBrokerReport({ generateBrokerReportRequest: { accountId: first.id, from, to } });
  const taskId = generated.generateBrokerReportResponse.taskId;
  assert.match(taskId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const report = (await api.operations.getBrokerReport({ getBrokerReportRequest: { taskId, page: 0 } })).getBrokerReportResponse;
  const items = await allByCursor(api, first.id, 1000);
  const trades = items.flatMap((i) => i.tradesInfo?.trades ?? []);
  assert.equal(report.itemsCount, trades.length);
  assert.equal(report.pagesCount, 1);
  assert.deepEqual(report.brokerReport.map((r) => r.tradeId).sort(), trades.map((t) => t.num).sort());
  const fees = items.filter((i) => i.type === OperationType.OPERATION_TYPE_BROKER_FEE).reduce((s, f) => s - nanoOf(f.payment), 0n);
  assert.equal(report.brokerReport.reduce((s, r) => s + nanoOf(r.brokerCommission), 0n), fees, 'the fills pay the fees exactly');
  const error = async (request) => (await callRaw((o) => raw.getBrokerReport(request, o))).error?.details;
  assert.equal(await error({ getBrokerReportRequest: { taskId: randomUUID() } }), '50007');
  assert.equal(await error({ getBrokerReportRequest: { taskId: '' } }), '30065');
  assert.equal(await error({ getBrokerReportRequest: { taskId, page: 3 } }), '30226');
  assert.equal(await error({ generateBrokerReportRequest: { accountId: first.id, from: new Date(Date.now() - 40 * 86400e3), to } }), '30064');
  assert.equal(await error({ generateBrokerReportRequest: { accountId: first.id, to } }), '30001');
  assert.equal(await error({}), '30066');
  // A task of one token is unknown to a token that does not see its account.
  const one = rawClient(server, OperationsServiceDefinition, 't.demo.one');
  const secondTask = (await api.operations.getBrokerReport({ generateBrokerReportRequest: { accountId: second.id, from, to } })).generateBrokerReportResponse.taskId;
  assert.equal((await callRaw((o) => one.getBrokerReport({ getBrokerReportRequest: { taskId: secondTask } }, o))).error?.details, '50007');

  const dividends = await api.operations.getDividendsForeignIssuer({ generateDivForeignIssuerReport: { accountId: first.id, from, to } });
  const divTask = dividends.generateDivForeignIssuerReportResponse.taskId;
  const empty = (await api.operations.getDividendsForeignIssuer({ getDivForeignIssuerReport: { taskId: divTask } })).divForeignIssuerReport;
  assert.deepEqual(empty.dividendsForeignIssuerReport, []);
  assert.equal(empty.itemsCount, 0);
  assert.equal((await callRaw((o) => raw.getDividendsForeignIssuer({ getDivForeignIssuerReport: { taskId } }, o))).error?.details, '50007');
});

test('the history is the same after a graceful restart and after kill -9', async () => {
  const read = async () => Promise.all([first, second, sandboxConfigured].map((a) => allByCursor(apiFor(a), a.id, 7)));
  const before = await read();
  const generated = await api.operations.getBrokerReport({ generateBrokerReportRequest: { accountId: first.id, from: new Date(Date.now() - 3600e3), to: new Date(Date.now() + 3600e3) } });
  const taskId = generated.generateBrokerReportResponse.taskId;
  const report = async () => (await api.operations.getBrokerReport({ getBrokerReportRequest: { taskId } })).getBrokerReportResponse;
  const reportBefore = await report();

  await server.stop();
  let again = await startServer({ config: configPath, dataDir: server.dataDir });
  api = sdk(again, TOKEN);
  sandboxApi = sdk(again, TOKEN, { sandbox: true });
  assert.deepEqual(await read(), before);
  assert.deepEqual(await report(), reportBefore, 'a task survives the restart');

  // More operations, then kill -9: the journal after the last snapshot holds them.
  await place(api, first.id, 2, OrderDirection.ORDER_DIRECTION_BUY);
  const users = usersClient(again);
  assert.equal((await users.transfer({ from_account_id: second.id, to_account_id: first.id, amount: money('rub', 10, 10000000), transaction_id: randomUUID() })).error, undefined);
  users.close();
  const beforeKill = await read();
  assert.equal(beforeKill[0].length, before[0].length + 3, 'a buy, its fee and the transfer in');
  await again.stop('SIGKILL');
  again = await startServer({ config: configPath, dataDir: server.dataDir });
  api = sdk(again, TOKEN);
  sandboxApi = sdk(again, TOKEN, { sandbox: true });
  assert.deepEqual(await read(), beforeKill);
  for (const account of [first, second]) assertReconciles(await allByCursor(api, account.id, 4), await holdings(api, account.id));
  await again.stop();
});
