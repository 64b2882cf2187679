// A data directory written by an older server is migrated on the first start, not refused:
// tests/fixtures/journal-v4 was written by the format-4 server (make-journal-v4-fixture.mjs), and
// a format-3 copy of it is made here (the records are the same raw struct, with the older record
// header). The new server recovers the state hash the old one logged at its stop, answers for
// every order as the old one did, rewrites the old segments in format 5, and after the next
// restart everything is format 5 and the state is the one it stopped with.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OrderDirection, OrderType, OrderIdType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, sourceDir } from './harness.mjs';

const fixture = join(sourceDir, 'tests', 'fixtures', 'journal-v4');
const configPath = join(fixture, 'config.json');
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'tinvestd-migration-'));
after(() => rmSync(work, { recursive: true, force: true }));

const CRC32C_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});
function crc32c(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC32C_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The format-4 segment as format 3 wrote it: no header check, one CRC over bytes 8 .. 24+n. */
function asFormat3(segment) {
  const out = Buffer.from(segment);
  out.writeUInt32LE(3, 8);
  for (let off = 16; off < out.length;) {
    const length = out.readUInt32LE(off);
    out.writeUInt32LE(0, off + 12);
    out.writeUInt32LE(crc32c(out.subarray(off + 8, off + 24 + length)), off + 4);
    off += 24 + length;
  }
  return out;
}

function segmentVersions(dataDir) {
  return readdirSync(dataDir).filter((f) => /^journal-\d{8}\.log$/.test(f)).sort()
    .map((f) => readFileSync(join(dataDir, f)).readUInt32LE(8));
}

const plain = (value) => JSON.parse(JSON.stringify(value));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The first match of `re` in the server's log, which may arrive a little after it listens. */
async function logMatch(server, re) {
  for (let i = 0; i < 100; i++) {
    const m = re.exec(server.output());
    if (m) return m;
    await sleep(50);
  }
  return null;
}

async function orderStates(api) {
  const states = {};
  for (const key of Object.keys(expected.orders)) {
    try {
      const s = await api.orders.getOrderState({ accountId: expected.account, orderId: key, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
      delete s.responseMetadata;
      states[key] = plain(s);
    } catch (error) {
      assert.match(String(error.message), /NOT_FOUND/, `order ${key}: ${error.message}`);
      states[key] = null;
    }
  }
  return states;
}

for (const format of [4, 3]) {
  test(`a format-${format} data directory is migrated on the first start`, async () => {
    const dataDir = join(work, `data-v${format}`);
    cpSync(join(fixture, 'data'), dataDir, { recursive: true });
    if (format === 3) {
      for (const name of readdirSync(dataDir)) {
        writeFileSync(join(dataDir, name), asFormat3(readFileSync(join(dataDir, name))));
      }
    }
    assert.deepEqual([...new Set(segmentVersions(dataDir))], [format]);

    let server = await startServer({ dataDir, config: configPath });
    let stopped;
    try {
      assert.equal((await logMatch(server, /recovered state_hash=([0-9a-f]{16})/))?.[1], expected.state_hash,
        'the state the old server stopped with');
      assert.match(server.output(), new RegExp(`rewritten from format ${format} to format 5`));
      assert.deepEqual([...new Set(segmentVersions(dataDir))], [5], 'every segment is format 5');
      assert.ok(!readdirSync(dataDir).some((f) => f.endsWith('.tmp')));

      const api = sdk(server, 't.demo.full');
      assert.deepEqual(await orderStates(api), expected.orders, 'every order as the old server answered');
      const { accounts } = await api.sandbox.getSandboxAccounts({});
      assert.ok(accounts.some((a) => a.id === expected.sandbox_account));
      assert.ok(!accounts.some((a) => a.id === expected.closed_account));

      // New orders are taken and journaled in the new format.
      const etf = config.instruments.find((i) => i.type === 'etf');
      const tick = Number(etf.min_price_increment);
      const nanos = Math.round(Math.round((Number(etf.reference_price) * 0.9) / tick) * tick * 1e9);
      const key = randomUUID();
      const placed = await api.orders.postOrder({
        accountId: expected.account, orderId: key, instrumentId: etf.uid, quantity: 1,
        direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_LIMIT,
        price: { units: Math.trunc(nanos / 1e9), nano: nanos % 1e9 },
      });
      stopped = { key, state: plain(await api.orders.getOrderState({ accountId: expected.account, orderId: placed.orderId })) };
      delete stopped.state.responseMetadata;
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.output().slice(-2000));
    }
    const finalHash = /final state_hash=([0-9a-f]{16})/.exec(server.output())[1];

    server = await startServer({ dataDir, config: configPath });
    try {
      assert.equal((await logMatch(server, /recovered state_hash=([0-9a-f]{16})/))?.[1], finalHash,
        'the state before the stop');
      assert.doesNotMatch(server.output(), /rewritten from format/, 'nothing left to migrate');
      assert.deepEqual([...new Set(segmentVersions(dataDir))], [5]);
      const api = sdk(server, 't.demo.full');
      const again = plain(await api.orders.getOrderState({ accountId: expected.account, orderId: stopped.key, orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST }));
      delete again.responseMetadata;
      assert.deepEqual(again, stopped.state);
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    }
  });
}
