// Disk full: the journal cannot write, so nothing more is acknowledged — the request whose
// batch failed is held, new orders get UNAVAILABLE 70003 — and service resumes by itself when
// space returns. Needs a small tmpfs (mounting needs root); skipped where mounting is refused.
import './tls-env.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrdersServiceDefinition, OrderDirection, OrderType, OrderIdType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig } from './harness.mjs';

const account = demoConfig.accounts[0].id;
const etf = demoConfig.instruments.find((i) => i.type === 'etf');
const tick = Number(etf.min_price_increment);
const nanos = Math.round(Math.round(Number(etf.reference_price) * 0.9 / tick) * tick * 1e9);
const price = { units: Math.trunc(nanos / 1e9), nano: nanos % 1e9 };
const order = () => ({ instrumentId: etf.uid, quantity: 1, price, direction: OrderDirection.ORDER_DIRECTION_BUY,
  accountId: account, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() });

function tryMount(dir, size) {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const settle = (promise, ms) => Promise.race([promise.then((v) => ({ done: v })), new Promise((r) => setTimeout(() => r(null), ms))]);

test('disk full: replies are held, new orders get UNAVAILABLE 70003, service resumes when space returns', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tinvestd-diskfull-'));
  if (!tryMount(dir, '192k')) {
    rmSync(dir, { recursive: true, force: true });
    t.skip('mounting a tmpfs is not permitted here');
    return;
  }
  let server;
  try {
    server = await startServer({ dataDir: join(dir, 'data') });
    const api = sdk(server, 't.demo.full');
    const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
    const acknowledged = [];
    let held = null;
    for (let i = 0; i < 5000 && !held; i++) {
      const o = order();
      const call = callRaw((opts) => orders.postOrderAsync(o, opts));
      const result = await settle(call, 1000);
      if (result === null) held = { order: o, call };
      else {
        assert.ok(result.done.response, `order ${i} accepted while there is space`);
        acknowledged.push(o);
      }
    }
    assert.ok(held, 'the disk filled up');
    assert.ok(acknowledged.length > 10);

    const refused = await callRaw((opts) => orders.postOrderAsync(order(), opts));
    assert.equal(refused.error?.code, Status.UNAVAILABLE);
    assert.equal(refused.error?.details, '70003');
    assert.equal(await settle(held.call, 300), null, 'the held order is still not acknowledged');

    execFileSync('mount', ['-o', 'remount,size=16m', dir]);
    const released = await settle(held.call, 5000);
    assert.ok(released?.done.response, 'the held order is acknowledged once its batch is written');
    acknowledged.push(held.order);
    const after = await api.orders.postOrderAsync(order());
    assert.ok(after.orderRequestId);

    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    server = await startServer({ dataDir: join(dir, 'data') });
    const again = sdk(server, 't.demo.full');
    for (const o of [acknowledged[0], acknowledged.at(-1)]) {
      const state = await again.orders.getOrderState({ accountId: account, orderId: o.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
      assert.equal(state.lotsRequested, 1);
    }
  } finally {
    closeClients();
    if (server) await server.stop('SIGKILL');
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
