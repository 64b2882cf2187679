// Disk full: the journal cannot write, so nothing more is acknowledged. The journal keeps room
// allocated ahead (limits.journal_reserve_bytes), so a full disk is normally found before a
// batch: new orders get UNAVAILABLE 70003 at once, reads are answered, nothing is held. Where
// the file system cannot allocate ahead (here: the reserve turned off), the write that fails
// holds its batch's replies instead. Either way service resumes by itself when space returns.
// Needs a small tmpfs (mounting needs root); skipped where mounting is refused.
import './tls-env.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrdersServiceDefinition, OrderDirection, OrderType, OrderIdType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { OperationsServiceDefinition } from 'tinkoff-invest-api/dist/generated/operations.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments } from './harness.mjs';

const account = demoConfig.accounts[0].id;
const etf = demoInstruments.find((i) => i.type === 'etf');
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

/** The demo configuration with the journal's reserve set, written next to the mount point. */
function configWithReserve(dir, bytes) {
  const config = structuredClone(demoConfig);
  config.limits = { ...config.limits, journal_reserve_bytes: bytes };
  const path = `${dir}.json`;
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/**
 * Runs `body(disk)` with a data directory on a 192 KiB tmpfs and the journal's reserve set to
 * `reserveBytes`: `disk.start()` starts a server on it, `disk.grow()` gives the disk room.
 * Afterwards every server started is killed and the mount and files are removed, whatever
 * happened; skipped where mounting is refused.
 */
async function onSmallDisk(t, reserveBytes, body) {
  const dir = mkdtempSync(join(tmpdir(), 'tinvestd-diskfull-'));
  if (!tryMount(dir, '192k')) {
    rmSync(dir, { recursive: true, force: true });
    t.skip('mounting a tmpfs is not permitted here');
    return;
  }
  const config = configWithReserve(dir, reserveBytes);
  const servers = [];
  try {
    await body({
      start: async () => {
        const server = await startServer({ config, dataDir: join(dir, 'data') });
        servers.push(server);
        return server;
      },
      grow: () => execFileSync('mount', ['-o', 'remount,size=16m', dir]),
    });
  } finally {
    closeClients();
    for (const server of servers) await server.stop('SIGKILL');
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(config, { force: true });
  }
}

test('disk full before a batch: new orders get 70003 at once, reads are answered, service resumes', async (t) => onSmallDisk(t, 16384, async (disk) => {
    let server = await disk.start();
    const api = sdk(server, 't.demo.full');
    const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
    const operations = rawClient(server, OperationsServiceDefinition, 't.demo.full');
    const acknowledged = [];
    let refused = null;
    for (let i = 0; i < 5000 && !refused; i++) {
      const o = order();
      const result = await settle(callRaw((opts) => orders.postOrderAsync(o, opts)), 10000);
      assert.ok(result, `order ${i} was answered, not held`);
      if (result.done.error) refused = result.done.error;
      else acknowledged.push(o);
    }
    assert.ok(refused, 'the disk filled up');
    assert.equal(refused.code, Status.UNAVAILABLE);
    assert.equal(refused.details, '70003');
    assert.ok(acknowledged.length > 10);

    // Reads go through the core thread too, and are answered while changes are refused.
    const positions = await settle(callRaw((opts) => operations.getPositions({ accountId: account }, opts)), 10000);
    assert.ok(positions?.done.response, 'GetPositions answers while the disk is full');
    const listed = await settle(callRaw((opts) => orders.getOrders({ accountId: account }, opts)), 10000);
    assert.ok(listed?.done.response, 'GetOrders answers while the disk is full');
    const last = acknowledged.at(-1);
    const state = await settle(callRaw((opts) => orders.getOrderState({ accountId: account, orderId: last.orderId,
      orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST }, opts)), 10000);
    assert.equal(state?.done.response?.lotsRequested, 1, 'GetOrderState answers while the disk is full');
    const again = await callRaw((opts) => orders.postOrderAsync(order(), opts));
    assert.equal(again.error?.details, '70003', 'changes are still refused');

    disk.grow();
    let resumed = null;
    for (let i = 0; i < 50 && !resumed; i++) {
      const o = order();
      const result = await callRaw((opts) => orders.postOrderAsync(o, opts));
      if (result.response) {
        resumed = o;
        acknowledged.push(o);
      } else {
        assert.equal(result.error?.details, '70003');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(resumed, 'orders are accepted again once the disk has room');

    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    server = await disk.start();
    const restarted = sdk(server, 't.demo.full');
    for (const o of [acknowledged[0], acknowledged.at(-2), acknowledged.at(-1)]) {
      const found = await restarted.orders.getOrderState({ accountId: account, orderId: o.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
      assert.equal(found.lotsRequested, 1);
    }
}));

test('disk full inside a batch (no reserve): its replies are held, new orders get 70003, service resumes', async (t) => onSmallDisk(t, 0, async (disk) => {
    let server = await disk.start();
    const api = sdk(server, 't.demo.full');
    const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
    const acknowledged = [];
    let held = null;
    for (let i = 0; i < 5000 && !held; i++) {
      const o = order();
      const call = callRaw((opts) => orders.postOrderAsync(o, opts));
      // A call not answered within 3 s is held (a loaded machine answers a written batch in
      // milliseconds; the margin keeps a slow one from being taken for a held batch).
      const result = await settle(call, 3000);
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
    // The state holds the held batch's effects, which are not durable: reads are refused too,
    // at once, rather than answered from it or left hanging.
    const read = await settle(callRaw((opts) => orders.getOrders({ accountId: account }, opts)), 10000);
    assert.equal(read?.done.error?.code, Status.UNAVAILABLE, 'a read while a batch is held is answered at once');
    assert.equal(read?.done.error?.details, '70003');

    disk.grow();
    const released = await settle(held.call, 15000);
    assert.ok(released?.done.response, 'the held order is acknowledged once its batch is written');
    acknowledged.push(held.order);
    const after = await api.orders.postOrderAsync(order());
    assert.ok(after.orderRequestId);

    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    server = await disk.start();
    const again = sdk(server, 't.demo.full');
    for (const o of [acknowledged[0], acknowledged.at(-1)]) {
      const state = await again.orders.getOrderState({ accountId: account, orderId: o.orderId, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
      assert.equal(state.lotsRequested, 1);
    }
}));
