// The instrument universe of a data directory: journal events and snapshots name instruments by
// their place, so a restart accepts a configuration that appends instruments (the snapshot and
// the journal after it both load, positions stay where they were, the new instrument trades) and
// refuses one that reorders or removes them, naming the first difference.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, demoConfig, demoInstruments } from './harness.mjs';

const account = demoConfig.accounts[0].id;
const shares = demoInstruments.filter((i) => i.type === 'share');
const [first, second, third] = shares;

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-universe-'));
const refDir = join(dir, 'reference');
const dataDir = join(dir, 'data');
const configPath = join(dir, 'config.json');
after(() => rmSync(dir, { recursive: true, force: true }));

function configure(instruments) {
  rmSync(refDir, { recursive: true, force: true });
  mkdirSync(refDir);
  writeFileSync(join(refDir, 'instruments.json'), JSON.stringify({ instruments }));
  writeFileSync(configPath, JSON.stringify({
    ...demoConfig,
    reference_dir: refDir,
    // A snapshot every few events, so that the restart loads one and replays the journal after it.
    limits: { ...demoConfig.limits, snapshot_every_events: 5 },
  }));
}

async function buy(api, instrumentId, quantity) {
  const held = (await holdings(api))[instrumentId] ?? 0;
  const ins = demoInstruments.find((i) => i.uid === instrumentId);
  await api.orders.postOrder({ accountId: account, instrumentId, quantity, orderId: randomUUID(),
    direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET });
  // PostOrder answers at the exchange's acknowledgement; the fill follows.
  for (let i = 0; i < 100 && ((await holdings(api))[instrumentId] ?? 0) !== held + quantity * ins.lot; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal((await holdings(api))[instrumentId], held + quantity * ins.lot);
}

async function holdings(api) {
  const { securities } = await api.operations.getPositions({ accountId: account });
  return Object.fromEntries(securities.map((s) => [s.instrumentUid, Number(s.balance)]));
}

test('appending instruments keeps the data directory; reordering or removing is refused', async () => {
  configure([first, second]);
  let server = await startServer({ config: configPath, dataDir });
  let api = sdk(server, 't.demo.full');
  for (let i = 0; i < 4; i++) await buy(api, first.uid, 1);
  await buy(api, second.uid, 2);
  const before = await holdings(api);
  assert.equal(before[first.uid], 4 * first.lot);
  assert.equal(before[second.uid], 2 * second.lot);
  assert.equal((await server.stop()).code, 0);
  assert.ok(readdirSync(dataDir).some((f) => /^snapshot-\d+\.snap$/.test(f)), 'a snapshot was written');
  assert.deepEqual(readFileSync(join(dataDir, 'instruments.pin'), 'utf8').trim().split('\n').slice(1),
    [first.uid, second.uid]);

  // Appended: the snapshot (of two instruments) and the journal after it load into three.
  configure([first, second, third]);
  server = await startServer({ config: configPath, dataDir });
  assert.match(server.output(), /snapshot: loaded/);
  api = sdk(server, 't.demo.full');
  assert.deepEqual(await holdings(api), before);
  const { instrument } = await api.instruments.getInstrumentBy({ idType: 3, id: third.uid });
  assert.equal(instrument.ticker, third.ticker);
  await buy(api, third.uid, 1);
  const after3 = await holdings(api);
  assert.equal(after3[third.uid], third.lot);
  assert.equal((await server.stop()).code, 0);
  assert.equal(readFileSync(join(dataDir, 'instruments.pin'), 'utf8').trim().split('\n').length, 4);

  // Reordered: refused, naming the first place that differs; nothing in the directory changes.
  const pin = readFileSync(join(dataDir, 'instruments.pin'), 'utf8');
  configure([first, third, second]);
  await assert.rejects(startServer({ config: configPath, dataDir }),
    new RegExp(`instrument 1 of the data directory has uid ${second.uid}, the configuration's has ${third.uid}`));
  assert.equal(readFileSync(join(dataDir, 'instruments.pin'), 'utf8'), pin);

  // Removed at the end: refused too.
  configure([first, second]);
  await assert.rejects(startServer({ config: configPath, dataDir }),
    new RegExp(`holds instrument 2 \\(uid ${third.uid}\\), which the configuration no longer has`));

  // Back to the pinned list: everything as it was, snapshot and journal.
  configure([first, second, third]);
  server = await startServer({ config: configPath, dataDir });
  api = sdk(server, 't.demo.full');
  assert.deepEqual(await holdings(api), after3);
  assert.equal((await server.stop()).code, 0);
});
