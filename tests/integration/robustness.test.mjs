// Bad input never crashes the server or changes anything: random bytes to every served method,
// extreme values in order requests, and the server still answers normally afterwards (and, in
// the sanitizer build, exits cleanly).
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { OrdersServiceDefinition, OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments } from './harness.mjs';

const PACKAGE = 'tinkoff.public.invest.api.contract.v1';
const METHODS = [
  'UsersService/GetAccounts', 'UsersService/GetInfo', 'UsersService/GetUserTariff', 'UsersService/GetMarginAttributes',
  'InstrumentsService/GetInstrumentBy', 'InstrumentsService/ShareBy', 'InstrumentsService/Shares',
  'InstrumentsService/FindInstrument', 'InstrumentsService/TradingSchedules',
  'OrdersService/PostOrder', 'OrdersService/PostOrderAsync', 'OrdersService/CancelOrder',
  'OrdersService/GetOrderState', 'OrdersService/GetOrders', 'OrdersService/ReplaceOrder',
  'OrdersService/GetMaxLots', 'OrdersService/GetOrderPrice',
  'OperationsService/GetPositions', 'OperationsService/GetPortfolio', 'OperationsService/GetWithdrawLimits',
  'MarketDataService/GetOrderBook', 'MarketDataService/GetLastPrices', 'MarketDataService/GetTradingStatus',
  'MarketDataService/GetTradingStatuses', 'MarketDataService/GetLastTrades',
  'SandboxService/SandboxPayIn', 'SandboxService/GetSandboxAccounts',
];
const account = demoConfig.accounts[0].id;
const share = demoInstruments.find((i) => i.type === 'share');
let server;

before(async () => { server = await startServer(); });
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null }, 'clean exit after the abuse');
});

function sendBytes(client, path, bytes) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', 'Bearer t.demo.full');
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b) => b, (b) => b, bytes, metadata, { deadline: Date.now() + 5000 },
      (error) => resolve(error ? error.code : 0));
  });
}

test('random bytes to every served method: every call is answered, nothing breaks', async () => {
  const client = new grpc.Client(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
  const before = await sdk(server, 't.demo.full').orders.getOrders({ accountId: account });
  for (const method of METHODS) {
    for (let i = 0; i < 40; i++) {
      const bytes = randomBytes(Math.floor(Math.random() * 200));
      const code = await sendBytes(client, `/${PACKAGE}.${method}`, bytes);
      assert.notEqual(code, grpc.status.DEADLINE_EXCEEDED, `${method} answered`);
      assert.notEqual(code, grpc.status.UNAVAILABLE, `${method}: server alive`);
    }
  }
  client.close();
  const afterwards = await sdk(server, 't.demo.full').orders.getOrders({ accountId: account });
  assert.ok(afterwards.orders.length >= before.orders.length);
  const accounts = await sdk(server, 't.demo.full').users.getAccounts({});
  assert.equal(accounts.accounts.length, 3, 'the two broker accounts and the margin account');
});

test('extreme values are refused with a code, never overflow', async () => {
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  const base = { instrumentId: share.uid, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId: account,
    orderType: OrderType.ORDER_TYPE_LIMIT };
  const cases = [
    [{ quantity: Number.MAX_SAFE_INTEGER, price: { units: 100, nano: 0 } }, ['30109', '90003', '30042']],
    [{ quantity: 1, price: { units: Number.MAX_SAFE_INTEGER, nano: 0 } }, ['30078', '30109', '90003', '30042', '30018']],
    [{ quantity: 1, price: { units: 1, nano: -5 } }, ['30018']],
    [{ quantity: 1, price: { units: 1, nano: 1000000000 } }, ['30018']],
    [{ quantity: -Number.MAX_SAFE_INTEGER, price: { units: 100, nano: 0 } }, ['30080']],
  ];
  for (const [overrides, codes] of cases) {
    const result = await callRaw((o) => orders.postOrderAsync({ ...base, ...overrides, orderId: randomUUID() }, o));
    assert.ok(result.error, JSON.stringify(overrides));
    assert.ok(codes.includes(result.error.details), `${JSON.stringify(overrides)} → ${result.error.details}`);
  }
  const maxLots = await sdk(server, 't.demo.full').orders.getMaxLots({ accountId: account, instrumentId: share.uid,
    price: { units: Number.MAX_SAFE_INTEGER, nano: 0 } }).catch((e) => e);
  assert.ok(maxLots.buyLimits !== undefined || maxLots.code !== undefined, 'answered');
});
