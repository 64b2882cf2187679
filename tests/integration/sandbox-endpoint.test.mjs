// The sandbox endpoint (--sandbox-listen, --sandbox-tls-listen): the ordinary services act on the
// token's sandbox accounts there, as on the real sandbox address, and SandboxService works too; the
// broker's endpoint knows no sandbox account, the sandbox endpoint no broker account. Both kinds of
// account live in one journal and survive a restart.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { OrderDirection, OrderType, OrdersServiceDefinition } from 'tinkoff-invest-api/dist/generated/orders.js';
import { OperationsServiceDefinition, OperationType } from 'tinkoff-invest-api/dist/generated/operations.js';
import { UsersServiceDefinition } from 'tinkoff-invest-api/dist/generated/users.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments } from './harness.mjs';

const TOKEN = 't.demo.full';
const brokerIds = demoConfig.accounts.filter((a) => !a.sandbox).map((a) => a.id);
const configuredSandbox = demoConfig.accounts.find((a) => a.sandbox).id;
const share = demoInstruments.find((i) => i.type === 'share');

let server = await startServer();
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

const rub = (units) => ({ currency: 'rub', units, nano: 0 });

/** A market buy through OrdersService, once it has ended (PostOrder answers at the acknowledgement). */
async function buy(api, accountId, quantity = 1) {
  const placed = await api.orders.postOrder({ accountId, orderId: randomUUID(), instrumentId: share.uid, quantity,
    direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET });
  for (let tries = 0; tries < 300; tries++) {
    const state = await api.orders.getOrderState({ accountId, orderId: placed.orderId });
    if ([1, 2, 3].includes(state.executionReportStatus)) return state;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`order ${placed.orderId} did not end`);
}

const ids = (accounts) => accounts.map((a) => a.id).sort();

/** The whole life of a sandbox account through the ordinary services of the sandbox endpoint. */
async function sandboxFlow(tls) {
  const api = sdk(server, TOKEN, { sandbox: true, tls });
  const opened = await api.sandbox.openSandboxAccount({ name: `flow ${tls ? 'tls' : 'plaintext'}` });
  const accountId = opened.accountId;
  await api.sandbox.sandboxPayIn({ accountId, amount: rub(100000) });

  const listed = (await api.users.getAccounts({})).accounts;
  assert.ok(listed.some((a) => a.id === accountId), 'GetAccounts on the sandbox endpoint lists the new account');
  assert.ok(listed.some((a) => a.id === configuredSandbox), 'and the configured sandbox account');
  assert.ok(!listed.some((a) => brokerIds.includes(a.id)), 'and no broker account');
  assert.deepEqual(ids(listed), ids((await api.sandbox.getSandboxAccounts({})).accounts),
    'the same list as GetSandboxAccounts');
  const info = await api.users.getInfo({});
  assert.equal(info.tariff, 'investor', 'GetInfo answers on the sandbox endpoint');

  const order = await buy(api, accountId, 2);
  assert.equal(Number(order.lotsExecuted), 2);
  const positions = await api.operations.getPositions({ accountId });
  const held = positions.securities.find((s) => s.figi === share.figi);
  assert.equal(Number(held.balance), 2 * share.lot, 'the bought shares are the sandbox account\'s');
  assert.deepEqual(positions, await api.sandbox.getSandboxPositions({ accountId }),
    'OperationsService and SandboxService read the same account');
  const portfolio = await api.operations.getPortfolio({ accountId });
  assert.equal(portfolio.accountId, accountId);
  assert.ok(portfolio.positions.some((p) => p.figi === share.figi));
  const operations = (await api.operations.getOperations({ accountId })).operations;
  assert.ok(operations.some((o) => o.operationType === OperationType.OPERATION_TYPE_INPUT), 'the pay-in');
  assert.ok(operations.some((o) => o.operationType === OperationType.OPERATION_TYPE_BUY), 'the buy');
  const limits = await api.operations.getWithdrawLimits({ accountId });
  assert.ok(limits.money.some((m) => m.currency === 'rub'));

  await api.sandbox.closeSandboxAccount({ accountId });
  assert.ok(!(await api.users.getAccounts({})).accounts.some((a) => a.id === accountId), 'closed: not listed');
}

test('a sandbox account\'s life through the ordinary services of the sandbox endpoint, plaintext', async () => {
  await sandboxFlow(false);
});

test('the same over TLS', async () => {
  await sandboxFlow(true);
});

test('the broker\'s endpoint knows no sandbox account; the sandbox endpoint no broker account (50004)', async () => {
  const broker = sdk(server, TOKEN);
  const brokerListed = (await broker.users.getAccounts({})).accounts;
  assert.deepEqual(ids(brokerListed), [...brokerIds].sort(), 'GetAccounts on the broker\'s endpoint: broker accounts only');
  assert.ok((await broker.sandbox.getSandboxAccounts({})).accounts.some((a) => a.id === configuredSandbox),
    'SandboxService keeps working on the broker\'s endpoint');

  const order = (accountId) => ({ accountId, orderId: randomUUID(), instrumentId: share.uid, quantity: 1,
    direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET });
  const code = async (client, call) => (await callRaw((o) => call(client, o))).error?.details;

  const brokerOrders = rawClient(server, OrdersServiceDefinition, TOKEN);
  assert.equal(await code(brokerOrders, (c, o) => c.postOrder(order(configuredSandbox), o)), '50004',
    'a sandbox account on the broker\'s OrdersService is unknown');
  const brokerOperations = rawClient(server, OperationsServiceDefinition, TOKEN);
  assert.equal(await code(brokerOperations, (c, o) => c.getPositions({ accountId: configuredSandbox }, o)), '50004');

  const sandboxOrders = rawClient(server, OrdersServiceDefinition, TOKEN, { sandbox: true });
  const sandboxOperations = rawClient(server, OperationsServiceDefinition, TOKEN, { sandbox: true });
  const sandboxUsers = rawClient(server, UsersServiceDefinition, TOKEN, { sandbox: true });
  for (const accountId of brokerIds) {
    assert.equal(await code(sandboxOrders, (c, o) => c.postOrder(order(accountId), o)), '50004');
    assert.equal(await code(sandboxOrders, (c, o) => c.getOrders({ accountId }, o)), '50004');
    assert.equal(await code(sandboxOrders, (c, o) => c.getMaxLots({ accountId, instrumentId: share.uid }, o)), '50004');
    assert.equal(await code(sandboxOperations, (c, o) => c.getPortfolio({ accountId }, o)), '50004');
    assert.equal(await code(sandboxOperations, (c, o) => c.getPositions({ accountId }, o)), '50004');
    assert.equal(await code(sandboxOperations, (c, o) => c.getWithdrawLimits({ accountId }, o)), '50004');
    assert.equal(await code(sandboxUsers, (c, o) => c.getMarginAttributes({ accountId }, o)), '50004');
  }
  // The sandbox endpoint's orders reach the sandbox account and nothing of the broker's.
  const positionsBefore = await broker.operations.getPositions({ accountId: brokerIds[0] });
  const api = sdk(server, TOKEN, { sandbox: true });
  await api.sandbox.sandboxPayIn({ accountId: configuredSandbox, amount: rub(100000) });
  await buy(api, configuredSandbox);
  assert.deepEqual(await broker.operations.getPositions({ accountId: brokerIds[0] }), positionsBefore);
});

test('a restart keeps both the sandbox and the broker accounts', async () => {
  const api = sdk(server, TOKEN, { sandbox: true });
  const broker = sdk(server, TOKEN);
  const { accountId } = await api.sandbox.openSandboxAccount({ name: 'kept' });
  await api.sandbox.sandboxPayIn({ accountId, amount: rub(50000) });
  await buy(api, accountId);
  await buy(broker, brokerIds[0]);
  const read = async (sandboxApi, brokerApi) => ({
    sandboxAccounts: ids((await sandboxApi.users.getAccounts({})).accounts),
    brokerAccounts: ids((await brokerApi.users.getAccounts({})).accounts),
    sandboxPositions: await sandboxApi.operations.getPositions({ accountId }),
    brokerPositions: await brokerApi.operations.getPositions({ accountId: brokerIds[0] }),
  });
  const before = await read(api, broker);
  assert.ok(before.sandboxAccounts.includes(accountId));

  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  server = await startServer({ dataDir: server.dataDir });
  assert.deepEqual(await read(sdk(server, TOKEN, { sandbox: true }), sdk(server, TOKEN)), before);
});
