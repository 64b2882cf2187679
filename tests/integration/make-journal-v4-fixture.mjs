// Writes tests/fixtures/journal-v4: a small data directory written by a format-4 server (journal
// records that are the raw core_event struct), for the migration test (migration.test.mjs).
//
//   cd tests/integration && TINVESTD_BIN=<a format-4 tinvestd> node make-journal-v4-fixture.mjs
//
// The fixture is committed; this script only documents how it was made. It places a few orders
// of every kind that leaves a journal record (filled, partly filled, resting, cancelled,
// replaced, a non-UUID key, retired after their retention), opens, pays into and closes sandbox
// accounts, records what the server answers for each order, and stops the server; the state
// hash it logs at the stop is the one a restart must recover.
import './tls-env.mjs';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OrderDirection, OrderType, OrderIdType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, demoConfig, demoInstruments, sourceDir } from './harness.mjs';

const fixture = join(sourceDir, 'tests', 'fixtures', 'journal-v4');
const work = mkdtempSync(join(tmpdir(), 'tinvestd-fixture-'));
const dataDir = join(work, 'data');
const config = structuredClone(demoConfig);
// A slow market maker keeps the journal small; a short retention retires the first orders.
config.venue.market_maker = { ...config.venue.market_maker, refresh_ms: 3000 };
config.limits = { ...config.limits, order_history_retention_s: 2, idempotency_retention_s: 2 };
const configPath = join(work, 'config.json');
writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');

const [firstAccount] = config.accounts.map((a) => a.id);
const share = demoInstruments.find((i) => i.ticker === 'SBER');
const etf = demoInstruments.find((i) => i.type === 'etf');
const q = (value) => { const n = Math.round(value * 1e9); return { units: Math.trunc(n / 1e9), nano: n % 1e9 }; };
const tickPrice = (ins, factor) => {
  const tick = Number(ins.min_price_increment);
  return q(Math.round((Number(ins.reference_price) * factor) / tick) * tick);
};
const BUY = OrderDirection.ORDER_DIRECTION_BUY;
const SELL = OrderDirection.ORDER_DIRECTION_SELL;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = await startServer({ dataDir, config: configPath });
const api = sdk(server, 't.demo.full');
const keys = [];
const place = async (order, key = randomUUID()) => {
  keys.push(key);
  return api.orders.postOrder({ accountId: firstAccount, orderId: key, ...order });
};
// These two finish at once and retire once their retention has passed.
await place({ instrumentId: share.uid, quantity: 3, direction: BUY, orderType: OrderType.ORDER_TYPE_MARKET });
await place({ instrumentId: share.uid, quantity: 1, direction: SELL, orderType: OrderType.ORDER_TYPE_MARKET });
await sleep(2500);
// A market buy larger than the maker's first level: several fills.
await place({ instrumentId: etf.uid, quantity: 150, direction: BUY, orderType: OrderType.ORDER_TYPE_MARKET });
// A limit buy above the ask fills at once; one under the bid rests.
await place({ instrumentId: etf.uid, quantity: 2, direction: BUY, orderType: OrderType.ORDER_TYPE_LIMIT, price: tickPrice(etf, 1.05) });
await place({ instrumentId: share.uid, quantity: 7, direction: BUY, orderType: OrderType.ORDER_TYPE_LIMIT, price: tickPrice(share, 0.9) });
// A key that is not a UUID: the broker makes the order_request_id.
await place({ instrumentId: share.uid, quantity: 1, direction: BUY, orderType: OrderType.ORDER_TYPE_LIMIT, price: tickPrice(share, 0.8) }, 'fixture-Key_1');
// Cancelled by the client.
const cancelled = randomUUID();
await place({ instrumentId: etf.uid, quantity: 4, direction: BUY, orderType: OrderType.ORDER_TYPE_LIMIT, price: tickPrice(etf, 0.9) }, cancelled);
await api.orders.cancelOrder({ accountId: firstAccount, orderId: cancelled, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
// Replaced: the old one is cancelled, the new one rests under its own key.
const replaced = randomUUID();
const old = await place({ instrumentId: etf.uid, quantity: 2, direction: BUY, orderType: OrderType.ORDER_TYPE_LIMIT, price: tickPrice(etf, 0.85) }, replaced);
const newKey = randomUUID();
keys.push(newKey);
await api.orders.replaceOrder({ accountId: firstAccount, orderId: old.orderId, idempotencyKey: newKey, quantity: 3, price: tickPrice(etf, 0.86) });
// A resting sell of securities held.
await place({ instrumentId: share.uid, quantity: 1, direction: SELL, orderType: OrderType.ORDER_TYPE_LIMIT, price: tickPrice(share, 1.2) });
// Sandbox accounts: one kept with a pay-in, one closed.
const { accountId: sandbox } = await api.sandbox.openSandboxAccount({ name: 'Песочница fixture' });
await api.sandbox.sandboxPayIn({ accountId: sandbox, amount: { currency: 'rub', units: 1234, nano: 500000000 } });
const { accountId: closed } = await api.sandbox.openSandboxAccount({});
await api.sandbox.closeSandboxAccount({ accountId: closed });

const orders = {};
for (const key of keys) {
  try {
    const s = await api.orders.getOrderState({ accountId: firstAccount, orderId: key, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
    delete s.responseMetadata;
    orders[key] = s;
  } catch (error) {
    orders[key] = null; // retired
  }
}
assert.deepEqual(await server.stop(), { code: 0, signal: null });
const finalHash = /final state_hash=([0-9a-f]{16})/.exec(server.output())[1];
const retired = Object.values(orders).filter((o) => o === null).length;
assert.ok(retired >= 2, `the first orders retired (${retired})`);

rmSync(fixture, { recursive: true, force: true });
mkdirSync(join(fixture, 'data'), { recursive: true });
cpSync(configPath, join(fixture, 'config.json'));
for (const name of readdirSync(dataDir)) cpSync(join(dataDir, name), join(fixture, 'data', name));
writeFileSync(join(fixture, 'expected.json'), JSON.stringify({
  state_hash: finalHash, account: firstAccount, sandbox_account: sandbox, closed_account: closed, orders,
}, null, 2) + '\n');
rmSync(work, { recursive: true, force: true });
console.log(`fixture written: state_hash=${finalHash}, ${keys.length} orders (${retired} retired), files ${readdirSync(join(fixture, 'data')).join(' ')}`);
