// After a restart every read answers as it did before: orders, balances, sandbox accounts opened
// and closed at run time, and the exchange's side
// too: the market maker quotes where it quoted (its random walk is journaled), and recent trades
// and last prices are those of before. Checked after a graceful stop and after kill -9.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OrderDirection, OrderType, OrderIdType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, demoConfig, demoInstruments } from './harness.mjs';

const REFRESH_MS = 4000;
const [firstAccount, secondAccount] = demoConfig.accounts.map((a) => a.id);
const share = demoInstruments.find((i) => i.type === 'share');
const etf = demoInstruments.find((i) => i.type === 'etf');
const untraded = demoInstruments.filter((i) => i.type === 'share')[1];

// The maker walks up to 25 price steps a second, so a restart that forgot its walk would show.
const dir = mkdtempSync(join(tmpdir(), 'tinvestd-restart-'));
const configPath = join(dir, 'config.json');
const config = structuredClone(demoConfig);
config.venue.market_maker = { ...config.venue.market_maker, refresh_ms: REFRESH_MS, walk_ticks: 25 };
// Snapshots every few dozen events, so that restarts load one and replay the journal after it.
config.limits = { ...config.limits, snapshot_every_events: 25 };
writeFileSync(configPath, JSON.stringify(config));
after(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * When the exchange started, by the server's clock: the maker moves at that time plus whole
 * periods. An instrument nobody traded reports it as its last price's time.
 */
async function exchangeStart(api) {
  const { lastPrices } = await api.marketdata.getLastPrices({ figi: [], instrumentId: [untraded.uid] });
  return lastPrices[0].time.getTime();
}

/** Waits until the maker's last move is 0.3 periods old, so reads fit before the next. */
async function betweenMoves(startedAt) {
  const phase = (Date.now() - startedAt) % REFRESH_MS;
  await sleep((REFRESH_MS * 1.3 - phase) % REFRESH_MS);
}

async function books(api) {
  const book = async (instrumentId) => {
    const b = await api.marketdata.getOrderBook({ instrumentId, depth: 50 });
    return { bids: b.bids, asks: b.asks, lastPrice: b.lastPrice, limitUp: b.limitUp, limitDown: b.limitDown };
  };
  return [await book(share.uid), await book(etf.uid)];
}

/** Everything a client can read that the restart must keep; the books first. */
async function readAll(api, keys, sandboxAccount) {
  const booksRead = await books(api);
  const window = { from: new Date(Date.now() - 600e3), to: new Date(Date.now() + 600e3) };
  const states = [];
  for (const key of keys) {
    const s = await api.orders.getOrderState({ accountId: firstAccount, orderId: key, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
    delete s.responseMetadata;
    states.push(s);
  }
  const strip = (r) => { delete r.responseMetadata; return r; };
  return {
    books: booksRead,
    lastPrices: strip(await api.marketdata.getLastPrices({ figi: [], instrumentId: [share.uid, etf.uid] })),
    lastTrades: strip(await api.marketdata.getLastTrades({ instrumentId: share.uid, ...window })),
    orders: strip(await api.orders.getOrders({ accountId: firstAccount })),
    states,
    positions: await Promise.all([firstAccount, secondAccount].map(async (accountId) => strip(await api.operations.getPositions({ accountId })))),
    maxLots: strip(await api.orders.getMaxLots({ accountId: firstAccount, instrumentId: share.uid })),
    sandboxAccounts: strip(await api.sandbox.getSandboxAccounts({})),
    sandboxPositions: strip(await api.sandbox.getSandboxPositions({ accountId: sandboxAccount })),
  };
}

/** Reads everything, then the books again; retries if the maker moved in between. */
async function stableRead(api, keys, sandboxAccount, startedAt) {
  for (let attempt = 0; attempt < 5; attempt++) {
    await betweenMoves(startedAt);
    const all = await readAll(api, keys, sandboxAccount);
    if (JSON.stringify(await books(api)) === JSON.stringify(all.books)) return all;
  }
  throw new Error('the market kept moving between two reads');
}

/** Trades that touch the maker on both sides, and orders that rest in the book. */
async function trade(api, keys) {
  const place = async (order) => {
    const orderId = randomUUID();
    keys.push(orderId);
    return api.orders.postOrder({ accountId: firstAccount, orderId, ...order });
  };
  for (const direction of [OrderDirection.ORDER_DIRECTION_BUY, OrderDirection.ORDER_DIRECTION_SELL]) {
    await place({ instrumentId: share.uid, quantity: 3, direction, orderType: OrderType.ORDER_TYPE_MARKET });
  }
  await place({ instrumentId: etf.uid, quantity: 2, direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET });
  // A bid a tenth under the reference: it rests, out of the maker's reach, in the book's depth.
  const tickNano = Math.round(Number(share.min_price_increment) * 1e9);
  const nanos = Math.round((Number(share.reference_price) * 0.9 * 1e9) / tickNano) * tickNano;
  await place({
    instrumentId: share.uid, quantity: 7, direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_LIMIT,
    price: { units: Math.trunc(nanos / 1e9), nano: nanos % 1e9 },
  });
}

for (const signal of ['SIGTERM', 'SIGKILL']) {
  test(`after a restart (${signal}) books, trades, prices, orders and balances read as before`, async () => {
    const dataDir = join(dir, `data-${signal}`);
    const keys = [];
    let server = await startServer({ dataDir, config: configPath });
    let api = sdk(server, 't.demo.full');
    let startedAt = await exchangeStart(api);
    const fresh = await api.marketdata.getOrderBook({ instrumentId: share.uid, depth: 1 });
    await sleep(REFRESH_MS * 1.5); // the maker walks away from where a fresh start puts it
    await trade(api, keys);
    // Accounts opened at run time are state too: one kept, one closed.
    const { accountId: sandboxAccount } = await api.sandbox.openSandboxAccount({ name: `restart ${signal}` });
    await api.sandbox.sandboxPayIn({ accountId: sandboxAccount, amount: { currency: 'rub', units: 1234, nano: 500000000 } });
    const { accountId: closed } = await api.sandbox.openSandboxAccount({});
    await api.sandbox.closeSandboxAccount({ accountId: closed });
    // Over 25 more events (accept, ack, cancel each), so a snapshot holds the accounts above.
    for (let i = 0; i < 10; i++) {
      const orderId = randomUUID();
      await api.orders.postOrder({
        accountId: firstAccount, orderId, instrumentId: etf.uid, quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY,
        orderType: OrderType.ORDER_TYPE_LIMIT, price: { units: Math.trunc(Number(etf.reference_price) * 0.9), nano: 0 },
      });
      await api.orders.cancelOrder({ accountId: firstAccount, orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
    }
    const before = await stableRead(api, keys, sandboxAccount, startedAt);
    assert.ok(before.sandboxAccounts.accounts.some((a) => a.id === sandboxAccount));
    assert.ok(!before.sandboxAccounts.accounts.some((a) => a.id === closed));
    assert.ok(before.lastTrades.trades.length >= 2, 'trades were printed');
    assert.ok(before.orders.orders.length === 1, 'one order rests');
    const snapshots = readdirSync(dataDir).filter((f) => f.endsWith('.snap'));
    const moved = JSON.stringify(before.books[0].asks[0]?.price) !== JSON.stringify(fresh.asks[0]?.price);
    const readMs = Date.now() - startedAt;
    await server.stop(signal);
    const stopMs = Date.now() - startedAt - readMs;

    server = await startServer({ dataDir, config: configPath });
    api = sdk(server, 't.demo.full');
    startedAt = await exchangeStart(api);
    try {
      const afterRestart = await readAll(api, keys, sandboxAccount);
      const afterMs = Date.now() - startedAt;
      assert.ok(snapshots.length > 0, 'the restart began from a snapshot');
      assert.ok(afterMs < REFRESH_MS, `read before the maker's first move after the restart (${afterMs} ms)`);
      assert.deepEqual(afterRestart.books, before.books,
        `order books as before${moved ? ' (the maker had moved)' : ''}; read at ${readMs} ms, stopped in ${stopMs} ms, read again ${afterMs} ms after the restart`);
      assert.deepEqual(afterRestart.lastTrades, before.lastTrades, 'recent trades as before');
      assert.deepEqual(afterRestart.lastPrices, before.lastPrices, 'last prices as before');
      assert.deepEqual(afterRestart.orders, before.orders, 'active orders as before');
      assert.deepEqual(afterRestart.states, before.states, 'every order as before');
      assert.deepEqual(afterRestart.positions, before.positions, 'balances as before');
      assert.deepEqual(afterRestart.maxLots, before.maxLots, 'GetMaxLots as before');
      assert.deepEqual(afterRestart.sandboxAccounts, before.sandboxAccounts, 'opened accounts as before, the closed one still closed');
      assert.deepEqual(afterRestart.sandboxPositions, before.sandboxPositions, 'the opened account keeps its cash');
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    }
  });
}

test('a damaged newest snapshot is never loaded: the previous one and the journal after it give back every order', async () => {
  const dataDir = join(dir, 'data-damaged');
  const server = await startServer({ dataDir, config: configPath });
  const api = sdk(server, 't.demo.full');
  const keys = [];
  for (let i = 0; i < 30; i++) { // 90 events: snapshots at about every 25
    const orderId = randomUUID();
    keys.push(orderId);
    await api.orders.postOrder({
      accountId: firstAccount, orderId, instrumentId: etf.uid, quantity: 1 + (i % 3), direction: OrderDirection.ORDER_DIRECTION_BUY,
      orderType: OrderType.ORDER_TYPE_LIMIT, price: { units: 8, nano: 0 },
    });
    if (i % 2 === 0) await api.orders.cancelOrder({ accountId: firstAccount, orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
  }
  const states = async (client) => Promise.all(keys.map(async (orderId) => {
    const s = await client.orders.getOrderState({ accountId: firstAccount, orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
    delete s.responseMetadata;
    return s;
  }));
  const before = await states(api);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  const finalHash = /final state_hash=([0-9a-f]{16})/.exec(server.output())[1];
  const snapshots = readdirSync(dataDir).filter((f) => f.endsWith('.snap')).sort();
  assert.equal(snapshots.length, 2, 'two generations of snapshots are kept');
  const newest = join(dataDir, snapshots.at(-1));
  const bytes = readFileSync(newest);
  bytes[Math.floor(bytes.length / 2)] ^= 0x40; // one flipped bit in the middle of the orders
  writeFileSync(newest, bytes);

  const restarted = await startServer({ dataDir, config: configPath });
  try {
    const log = restarted.output();
    assert.match(log, new RegExp(`snapshot: .*${snapshots.at(-1)} is incomplete or damaged`));
    assert.match(log, new RegExp(`snapshot: loaded .*${snapshots[0]}`));
    assert.equal(/recovered state_hash=([0-9a-f]{16})/.exec(log)[1], finalHash, 'the state before the stop, exactly');
    assert.deepEqual(await states(sdk(restarted, 't.demo.full')), before, 'every order as before');
  } finally {
    assert.deepEqual(await restarted.stop(), { code: 0, signal: null });
  }
});
