// Crash rounds: orders under load, kill -9 at a random moment, restart on the same data
// directory, then check that nothing acknowledged was lost and the recovered state is exactly
// what a fresh replay of the journal gives. CRASH_ROUNDS sets the number of rounds (default 20).
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OrderDirection, OrderType, OrderIdType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, binary, demoConfig, demoInstruments } from './harness.mjs';

const rounds = Number(process.env.CRASH_ROUNDS ?? 20);
const account = demoConfig.accounts[0];
const initialRub = Number(account.cash.rub);
const etf = demoInstruments.find((i) => i.type === 'etf');

function price(fraction) {
  const tick = Number(etf.min_price_increment);
  const steps = Math.round((Number(etf.reference_price) * fraction) / tick);
  const nanos = Math.round(steps * tick * 1e9);
  return { units: Math.trunc(nanos / 1e9), nano: nanos % 1e9 };
}

/* Mostly resting limit buys; one in five is a market buy that trades at once. */
function randomOrder(sync, { restingOnly = false } = {}) {
  const market = !restingOnly && Math.random() < 0.2;
  return {
    instrumentId: etf.uid, quantity: 1 + Math.floor(Math.random() * 5),
    price: market ? undefined : price(0.85 + Math.random() * 0.1), direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId: account.id, orderType: market ? OrderType.ORDER_TYPE_MARKET : OrderType.ORDER_TYPE_LIMIT,
    orderId: sync ? `crash-${randomUUID().slice(0, 20)}` : randomUUID(),
  };
}

const sameQuotation = (a, b) => a.units === b.units && a.nano === b.nano;

/** Fires orders and cancels from `workers` concurrent loops until the server dies. */
async function load(server, workers, acked, attempted) {
  const api = sdk(server, 't.demo.full');
  const loop = async () => {
    for (;;) {
      const roll = Math.random();
      try {
        if (roll < 0.15 && acked.size > 0) {
          const keys = [...acked.keys()];
          const key = keys[Math.floor(Math.random() * keys.length)];
          await api.orders.cancelOrder({ accountId: account.id, orderId: key, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
          continue;
        }
        const order = randomOrder(roll > 0.7);
        attempted.add(order.orderId);
        if (roll > 0.7) await api.orders.postOrder(order);
        else await api.orders.postOrderAsync(order);
        acked.set(order.orderId, order);
      } catch (error) {
        if (error.code === 14 || error.code === 1 || error.code === 13) return; // server gone
        if (error.details?.includes('Cancel order error')) continue;
        throw error;
      }
    }
  };
  return Promise.all(Array.from({ length: workers }, loop));
}

// Orders that had ended (filled, rejected, cancelled) when a round read them can never change:
// later rounds take them from here and read a random sample of them again.
const endedStates = new Map();
const ENDED = new Set([1, 2, 3]);

async function verify(server, acked, attempted) {
  const api = sdk(server, 't.demo.full');
  const read = async (key) => {
    const state = await api.orders.getOrderState({ accountId: account.id, orderId: key, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
    delete state.responseMetadata;
    return state;
  };
  const ended = [...endedStates.keys()];
  for (let i = 0; i < Math.min(100, ended.length); i++) {
    const key = ended[Math.floor(Math.random() * ended.length)];
    assert.deepEqual(await read(key), endedStates.get(key), `ended order ${key} is as it was`);
  }
  // Every order this test placed, found by its key: acknowledged ones must exist with their
  // terms; the others (journaled but killed before the reply) exist once or not at all.
  const states = [];
  for (const key of attempted) {
    let state = endedStates.get(key);
    if (state === undefined) {
      try {
        state = await read(key);
      } catch (error) {
        assert.ok(!acked.has(key), `acknowledged ${key} is found`);
        assert.equal(error.code, 5, `unacknowledged ${key}: found once or not at all`);
        continue;
      }
      if (ENDED.has(state.executionReportStatus)) endedStates.set(key, state);
    }
    const order = acked.get(key);
    if (order !== undefined) {
      assert.equal(state.lotsRequested, order.quantity, `acknowledged ${key} kept its quantity`);
      assert.equal(state.direction, order.direction);
      assert.equal(state.instrumentUid, order.instrumentId);
      assert.equal(state.orderType, order.orderType);
      if (order.price) assert.ok(sameQuotation(state.initialSecurityPrice, order.price), `acknowledged ${key} kept its price`);
    }
    states.push(state);
  }
  const active = await api.orders.getOrders({ accountId: account.id });
  const ids = active.orders.map((o) => o.orderRequestId);
  assert.equal(new Set(ids).size, ids.length, 'no order_request_id twice');
  // Exchange numbers are never handed out twice, across restarts too.
  const numbers = states.map((o) => o.orderId).filter((id) => /^\d+$/.test(id)).map(BigInt);
  assert.equal(new Set(numbers).size, numbers.length, 'no exchange number twice');
  const known = new Set(states.map((o) => o.orderId));
  for (const o of active.orders) assert.ok(known.has(o.orderId), `active order ${o.orderId} is one this test placed`);
  const fresh = randomOrder(true, { restingOnly: true }); // rests, so it changes no execution total
  attempted.add(fresh.orderId);
  const placed = await api.orders.postOrder(fresh);
  acked.set(fresh.orderId, fresh);
  assert.ok(numbers.every((n) => BigInt(placed.orderId) > n), 'a new order gets a new exchange number');
  // Every execution counted once: cash and securities equal what the orders' own fills say.
  const money = (m) => (m ? m.units + m.nano / 1e9 : 0);
  let spent = 0;
  let lots = 0;
  for (const o of states) {
    spent += money(o.executedOrderPrice) + money(o.executedCommission);
    lots += o.lotsExecuted;
  }
  const positions = await api.operations.getPositions({ accountId: account.id });
  const sum = (list) => list.filter((m) => m.currency === 'rub').reduce((s, m) => s + money(m), 0);
  const cash = sum(positions.money) + sum(positions.blocked);
  assert.ok(Math.abs(cash + spent - initialRub) < 1e-4, `cash conserved: ${cash} + ${spent} vs ${initialRub}`);
  const held = positions.securities.filter((p) => p.instrumentUid === etf.uid).reduce((n, p) => n + p.balance + p.blocked, 0);
  assert.equal(held, lots * etf.lot, 'securities equal the executed lots: no execution lost or doubled');
  return lots;
}

function finalHash(output) {
  const match = /final state_hash=([0-9a-f]{16})/.exec(output);
  assert.ok(match, 'the server logs its final state hash');
  return match[1];
}

// Snapshots every few dozen events, so that rounds crash before, during and after them.
const configDir = mkdtempSync(join(tmpdir(), 'tinvestd-crash-config-'));
const configPath = join(configDir, 'config.json');
writeFileSync(configPath, JSON.stringify({ ...demoConfig, limits: { ...demoConfig.limits, snapshot_every_events: 37 } }));
const dataDir = mkdtempSync(join(tmpdir(), 'tinvestd-crash-'));
after(() => {
  rmSync(configDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test(`${rounds} crash rounds: acknowledged orders survive kill -9, recovery equals a fresh replay`, async () => {
  const acked = new Map();
  const attempted = new Set();
  let lotsExecuted = 0;
  for (let round = 0; round < rounds; round++) {
    const server = await startServer({ dataDir, config: configPath });
    const running = load(server, 8, acked, attempted);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 150));
    await server.stop('SIGKILL');
    await running;

    const restarted = await startServer({ dataDir, config: configPath });
    let status;
    try {
      lotsExecuted = await verify(restarted, acked, attempted);
    } finally {
      status = await restarted.stop();
    }
    assert.deepEqual(status, { code: 0, signal: null });
    const replay = execFileSync(binary, ['--check', '--config', configPath, '--data-dir', dataDir], { encoding: 'utf8' });
    assert.equal(/state_hash=([0-9a-f]{16})/.exec(replay)[1], finalHash(restarted.output()),
      `round ${round}: recovered state equals a fresh replay`);
  }
  assert.ok(acked.size > rounds, 'the load placed orders');
  assert.ok(lotsExecuted > 0, 'market orders traded, so fills crossed the crashes too');
  assert.ok(readdirSync(dataDir).some((f) => f.startsWith('snapshot-')), 'snapshots were written');
});
