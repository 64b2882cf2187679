// Instrument favorites: GetFavorites and EditFavorites through the npm SDK, the groups
// (CreateFavoriteGroup, GetFavoriteGroups, DeleteFavoriteGroup: newer than the SDK's contract)
// through our own proto files. Favorites belong to the user: two tokens of one user see the same
// lists, a token of another user its own. Limits, the codes of bad requests, and the lists after
// a graceful restart and after kill -9.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { InstrumentsServiceDefinition, EditFavoritesActionType } from 'tinkoff-invest-api/dist/generated/instruments.js';
import {
  startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, sourceDir, binary, UUID_RE,
} from './harness.mjs';

const ADD = EditFavoritesActionType.EDIT_FAVORITES_ACTION_TYPE_ADD;
const DEL = EditFavoritesActionType.EDIT_FAVORITES_ACTION_TYPE_DEL;
const [sber, gazp, lkoh, rosn] = demoInstruments;
const FULL = 't.demo.full';
const ONE = 't.demo.one'; // another token of the same user
const OTHER = 't.favorites.other'; // a token of another user

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-favorites-'));
const configPath = join(dir, 'config.json');
const config = structuredClone(demoConfig);
config.tokens.push({ token: OTHER, name: 'another user', user_id: 'b0b0b0b0-0000-4000-8000-000000000002', accounts: {} });
// Small limits, so that the tests reach them; snapshots every few events, so that a restart loads
// one with favorites in it and replays the journal after it.
config.limits = { ...config.limits, max_favorites_per_user: 6, max_favorite_groups_per_user: 3, snapshot_every_events: 7 };
writeFileSync(configPath, JSON.stringify(config));
after(() => {
  closeClients();
  rmSync(dir, { recursive: true, force: true });
});

function groupsClient(server, token) {
  const definition = protoLoader.loadSync(join(sourceDir, 'proto', 'instruments.proto'),
    { includeDirs: [join(sourceDir, 'proto'), '/usr/include'], keepCase: true, enums: Number, longs: String, defaults: true, oneofs: true });
  const { InstrumentsService } = grpc.loadPackageDefinition(definition).tinkoff.public.invest.api.contract.v1;
  const client = new InstrumentsService(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const call = (method, request) => new Promise((resolve) => client[method](request, metadata,
    (error, response) => resolve(error ? { error } : { response })));
  return {
    create: (request) => call('CreateFavoriteGroup', request),
    remove: (groupId) => call('DeleteFavoriteGroup', { group_id: groupId }),
    groups: (request = {}) => call('GetFavoriteGroups', request),
    favorites: (request = {}) => call('GetFavorites', request),
    edit: (request) => call('EditFavorites', request),
    close: () => client.close(),
  };
}

/** The code a grpc-js error carries (status details) and its message trailer. */
function codeOf(error) {
  assert.ok(error, 'the call failed');
  return { code: error.details, message: error.metadata.get('message')[0] };
}

const figis = (response) => response.favoriteInstruments.map((f) => f.figi);

async function rawCode(server, token, method, request) {
  const client = rawClient(server, InstrumentsServiceDefinition, token);
  const { error, trailer } = await callRaw((options) => client[method](request, options));
  assert.ok(error, `${method} failed`);
  return { status: error.code, code: error.details, message: trailer?.get('message') };
}

let server = await startServer({ config: configPath });

test('add and remove in the default list, shared by the tokens of one user, not by another user', async () => {
  const full = sdk(server, FULL);
  const one = sdk(server, ONE);
  const other = sdk(server, OTHER);
  assert.deepEqual(figis(await full.instruments.getFavorites({})), []);

  // By figi and by uid (instrument_id), and the deprecated `figi` field.
  let r = await full.instruments.editFavorites({
    instruments: [{ figi: sber.figi, instrumentId: '' }, { instrumentId: gazp.uid }],
    actionType: ADD,
  });
  assert.deepEqual(figis(r), [sber.figi, gazp.figi]);
  const entry = r.favoriteInstruments[0];
  assert.equal(entry.ticker, sber.ticker);
  assert.equal(entry.classCode, sber.class_code);
  assert.equal(entry.uid, sber.uid);
  assert.equal(entry.instrumentType, 'share');
  assert.equal(entry.instrumentKind, 2);
  assert.equal(entry.apiTradeAvailableFlag, true);
  assert.equal(entry.name, sber.name);

  // Adding again changes nothing; the other token of the user sees the same list.
  r = await one.instruments.editFavorites({ instruments: [{ instrumentId: sber.figi }], actionType: ADD });
  assert.deepEqual(figis(r), [sber.figi, gazp.figi]);
  assert.deepEqual(figis(await one.instruments.getFavorites({})), [sber.figi, gazp.figi]);
  // Another user has none.
  assert.deepEqual(figis(await other.instruments.getFavorites({})), []);

  r = await one.instruments.editFavorites({ instruments: [{ instrumentId: sber.uid }], actionType: DEL });
  assert.deepEqual(figis(r), [gazp.figi]);
  assert.deepEqual(figis(await full.instruments.getFavorites({})), [gazp.figi]);
  // Removing one that is not there changes nothing.
  r = await full.instruments.editFavorites({ instruments: [{ instrumentId: lkoh.figi }], actionType: DEL });
  assert.deepEqual(figis(r), [gazp.figi]);
});

test('groups: create, edit, list with the instrument filter and exclusions, delete', async () => {
  const g = groupsClient(server, FULL);
  const other = groupsClient(server, OTHER);
  try {
    const created = await g.create({ group_name: 'Нефть и газ', group_color: 'aa0000', note: 'a note' });
    assert.ok(!created.error, created.error?.message);
    assert.match(created.response.group_id, UUID_RE);
    assert.equal(created.response.group_name, 'Нефть и газ');
    const groupId = created.response.group_id;
    const second = (await g.create({ group_name: 'second', group_color: '00FF00' })).response;

    let r = await g.edit({ instruments: [{ instrument_id: gazp.figi }, { instrument_id: rosn.uid }], action_type: ADD, group_id: groupId });
    assert.ok(!r.error, r.error?.message);
    assert.deepEqual(r.response.favorite_instruments.map((f) => f.figi), [gazp.figi, rosn.figi]);
    assert.equal(r.response.group_id, groupId);
    // The group's list is its own; the default list is unchanged.
    r = await g.favorites({ group_id: groupId });
    assert.deepEqual(r.response.favorite_instruments.map((f) => f.figi), [gazp.figi, rosn.figi]);
    r = await g.favorites({});
    assert.deepEqual(r.response.favorite_instruments.map((f) => f.figi), [gazp.figi]);

    r = await g.groups({ instrument_id: [rosn.figi] });
    assert.deepEqual(r.response.groups.map((x) => [x.group_id, x.group_name, x.color, x.size, x.contains_instrument]),
      [[groupId, 'Нефть и газ', 'aa0000', 2, true], [second.group_id, 'second', '00FF00', 0, false]]);
    r = await g.groups({ excluded_group_id: [second.group_id.toUpperCase()] });
    assert.deepEqual(r.response.groups.map((x) => x.group_id), [groupId]);
    assert.equal(r.response.groups[0].contains_instrument, undefined, 'no instrument asked: the field is absent');

    // Another user sees none of them, and cannot touch them.
    assert.deepEqual((await other.groups()).response.groups, []);
    assert.equal(codeOf((await other.favorites({ group_id: groupId })).error).code, '50013');
    assert.equal(codeOf((await other.remove(groupId)).error).code, '50013');
    assert.equal(codeOf((await other.edit({ instruments: [{ instrument_id: sber.figi }], action_type: ADD, group_id: groupId })).error).code, '50013');

    // Deleting a group takes its favorites with it.
    assert.ok(!(await g.remove(second.group_id)).error);
    assert.ok(!(await g.remove(groupId)).error);
    assert.deepEqual((await g.groups()).response.groups, []);
    assert.equal(codeOf((await g.favorites({ group_id: groupId })).error).code, '50013');
    assert.equal(codeOf((await g.remove(groupId)).error).code, '50013');
  } finally {
    g.close();
    other.close();
  }
});

test('limits: favorites per user and groups per user; deleted groups and removed favorites free their room', async () => {
  const api = sdk(server, ONE);
  const g = groupsClient(server, ONE);
  try {
    // The user holds 1 favorite (GAZP); the limit is 6 over all lists.
    const group = (await g.create({ group_name: 'limits', group_color: '123abc' })).response.group_id;
    const four = demoInstruments.slice(0, 4).map((i) => ({ instrument_id: i.figi }));
    let r = await g.edit({ instruments: four, action_type: ADD, group_id: group });
    assert.ok(!r.error, r.error?.message);
    assert.equal(r.response.favorite_instruments.length, 4);
    r = await g.edit({ instruments: [{ instrument_id: demoInstruments[5].figi }], action_type: ADD });
    assert.ok(!r.error, 'the sixth fits');
    // A seventh does not: 30091, and nothing changes (all or nothing).
    r = await g.edit({ instruments: [{ instrument_id: demoInstruments[6].figi }, { instrument_id: demoInstruments[7].figi }], action_type: ADD });
    assert.equal(codeOf(r.error).code, '30091');
    assert.equal((await api.instruments.getFavorites({})).favoriteInstruments.length, 2);
    // Groups: 3 per user.
    const more = [(await g.create({ group_name: 'b', group_color: '000000' })).response.group_id,
      (await g.create({ group_name: 'c', group_color: 'FFFFFF' })).response.group_id];
    r = await g.create({ group_name: 'd', group_color: '000000' });
    assert.equal(codeOf(r.error).code, '30231');
    // Deleting frees both: the group's place and its four favorites.
    assert.ok(!(await g.remove(group)).error);
    r = await g.edit({ instruments: [{ instrument_id: demoInstruments[6].figi }, { instrument_id: demoInstruments[7].figi }], action_type: ADD, group_id: more[0] });
    assert.ok(!r.error, r.error?.message);
    assert.ok(!(await g.create({ group_name: 'd', group_color: '000000' })).error);
    // Back to where the test started: the default list with GAZP and one sixth instrument.
    for (const id of (await g.groups()).response.groups.map((x) => x.group_id)) assert.ok(!(await g.remove(id)).error);
    await api.instruments.editFavorites({ instruments: [{ instrumentId: demoInstruments[5].figi }], actionType: DEL });
    assert.deepEqual(figis(await api.instruments.getFavorites({})), [gazp.figi]);
  } finally {
    g.close();
  }
});

test('bad requests get the real codes and change nothing', async () => {
  const many = Array.from({ length: 101 }, () => ({ instrumentId: sber.figi }));
  let e = await rawCode(server, FULL, 'editFavorites', { instruments: many, actionType: ADD });
  assert.deepEqual([e.status, e.code], [3, '30091']);
  e = await rawCode(server, FULL, 'editFavorites', { instruments: [{ instrumentId: sber.figi }], actionType: 0 });
  assert.deepEqual([e.code, /action_type/.test(e.message)], ['30102', true]);
  e = await rawCode(server, FULL, 'editFavorites', { instruments: [{ instrumentId: '' }], actionType: ADD });
  assert.equal(e.code, '30093');
  e = await rawCode(server, FULL, 'editFavorites', { instruments: [], actionType: ADD });
  assert.equal(e.code, '30093');
  e = await rawCode(server, FULL, 'editFavorites', { instruments: [{ instrumentId: sber.figi }, { instrumentId: 'NO-SUCH' }], actionType: ADD });
  assert.deepEqual([e.status, e.code], [5, '50002']);
  const g = groupsClient(server, FULL);
  try {
    let r = await g.edit({ instruments: [{ instrument_id: sber.figi }], action_type: ADD, group_id: 'not-a-group' });
    assert.equal(codeOf(r.error).code, '50013');
    r = await g.edit({ instruments: [{ instrument_id: sber.figi }], action_type: ADD, group_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(codeOf(r.error).code, '50013');
    for (const [name, color, code] of [['', 'aa0000', '30231'], ['x'.repeat(256), 'aa0000', '30231'],
      ['ok', '', '30232'], ['ok', 'aa00', '30232'], ['ok', 'gg0000', '30232'], ['ok', '#aa0000', '30232']]) {
      r = await g.create({ group_name: name, group_color: color });
      assert.equal(codeOf(r.error).code, code, `${name.length} characters, color '${color}'`);
    }
    // 255 characters are fine.
    r = await g.create({ group_name: 'я'.repeat(100), group_color: 'aa0000' });
    assert.ok(!r.error, r.error?.message);
    assert.ok(!(await g.remove(r.response.group_id)).error);
    r = await g.remove('');
    assert.equal(codeOf(r.error).code, '30230');
    assert.deepEqual((await g.groups()).response.groups, []);
    r = await g.favorites({});
    assert.deepEqual(r.response.favorite_instruments.map((f) => f.figi), [gazp.figi]);
  } finally {
    g.close();
  }
});

test('favorites and groups survive a graceful restart and kill -9; recovery equals a fresh replay', async () => {
  const g = groupsClient(server, FULL);
  const created = (await g.create({ group_name: 'kept', group_color: 'abcdef' })).response.group_id;
  assert.ok(!(await g.edit({ instruments: [{ instrument_id: lkoh.uid }, { instrument_id: sber.figi }], action_type: ADD, group_id: created })).error);
  assert.ok(!(await g.edit({ instruments: [{ instrument_id: rosn.figi }], action_type: ADD })).error);
  g.close();
  const expect = async (srv) => {
    const c = groupsClient(srv, ONE);
    try {
      const groups = (await c.groups({ instrument_id: [sber.uid] })).response.groups;
      assert.deepEqual(groups.map((x) => [x.group_id, x.group_name, x.color, x.size, x.contains_instrument]),
        [[created, 'kept', 'abcdef', 2, true]]);
      assert.deepEqual((await c.favorites({ group_id: created })).response.favorite_instruments.map((f) => f.figi), [lkoh.figi, sber.figi]);
      assert.deepEqual((await c.favorites({})).response.favorite_instruments.map((f) => f.figi), [gazp.figi, rosn.figi]);
    } finally {
      c.close();
    }
  };
  const { dataDir } = server;
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  server = await startServer({ config: configPath, dataDir });
  await expect(server);

  // Acknowledged changes, then kill -9 at once.
  const c = groupsClient(server, FULL);
  assert.ok(!(await c.edit({ instruments: [{ instrument_id: sber.figi }], action_type: DEL, group_id: created })).error);
  assert.ok(!(await c.edit({ instruments: [{ instrument_id: sber.figi }], action_type: ADD, group_id: created })).error);
  c.close();
  await server.stop('SIGKILL');
  server = await startServer({ config: configPath, dataDir });
  await expect(server);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  const hash = /final state_hash=([0-9a-f]{16})/.exec(server.output())[1];
  const replay = execFileSync(binary, ['--check', '--config', configPath, '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(/state_hash=([0-9a-f]{16})/.exec(replay)[1], hash);
  server = await startServer({ config: configPath, dataDir });
  await expect(server);
  await server.stop();
});
