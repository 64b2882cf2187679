// Foundation: transport, auth, error convention, metadata, limits, users and instruments —
// all through the npm SDK `tinkoff-invest-api` (and its generated definitions for raw calls).
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { Status } from 'nice-grpc';
import { UsersServiceDefinition, AccessLevel } from 'tinkoff-invest-api/dist/generated/users.js';
import { InstrumentsServiceDefinition, InstrumentIdType } from 'tinkoff-invest-api/dist/generated/instruments.js';
import { InstrumentType } from 'tinkoff-invest-api/dist/generated/common.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, UUID_RE } from './harness.mjs';

const [firstAccount, secondAccount] = demoConfig.accounts.map((a) => a.id);
const marginAccount = demoConfig.accounts.find((a) => a.kind === 'margin').id;
const share = demoInstruments.find((i) => i.type === 'share');
const bond = demoInstruments.find((i) => i.type === 'bond');
let server;

before(async () => { server = await startServer(); });
after(async () => {
  closeClients();
  const status = await server.stop();
  assert.deepEqual(status, { code: 0, signal: null }, 'graceful stop exits 0');
});

function accessOf(accounts) {
  return Object.fromEntries(accounts.map((a) => [a.id, a.accessLevel]));
}

/** Asserts the full T-Invest error convention on a raw call result. */
function assertApiError(result, { status, code, message }) {
  assert.ok(result.error, 'the call must fail');
  assert.equal(result.error.code, status);
  assert.equal(result.error.details, String(code), 'status details carry the numeric code');
  assert.ok(result.trailer, 'trailers-only response');
  if (message !== undefined) assert.equal(result.trailer.get('message'), message);
  else assert.ok(result.trailer.get('message'), 'message trailer present');
  assert.match(result.trailer.get('x-tracking-id'), UUID_RE);
  assert.match(result.trailer.get('x-ratelimit-reset'), /^\d+$/);
  assert.equal(result.header, undefined, 'no separate initial metadata block on errors');
}

for (const tls of [false, true]) {
  const transport = tls ? 'TLS' : 'plaintext';

  test(`${transport}: accounts per token`, async () => {
    const full = await sdk(server, 't.demo.full', { tls }).users.getAccounts({});
    assert.deepEqual(accessOf(full.accounts), {
      [firstAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_FULL_ACCESS,
      [secondAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_FULL_ACCESS,
      [marginAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_FULL_ACCESS,
    });
    const one = await sdk(server, 't.demo.one', { tls }).users.getAccounts({});
    assert.deepEqual(accessOf(one.accounts), {
      [firstAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_FULL_ACCESS,
      [secondAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_NO_ACCESS,
      [marginAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_FULL_ACCESS,
    });
    const readonly = await sdk(server, 't.demo.readonly', { tls }).users.getAccounts({});
    assert.deepEqual(accessOf(readonly.accounts), {
      [firstAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_READ_ONLY,
      [secondAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_READ_ONLY,
      [marginAccount]: AccessLevel.ACCOUNT_ACCESS_LEVEL_READ_ONLY,
    });
    assert.equal(full.accounts[0].name, demoConfig.accounts[0].name);
  });

  test(`${transport}: a bad token is UNAUTHENTICATED 40003 through the SDK`, async () => {
    await assert.rejects(sdk(server, 't.no.such.token', { tls }).users.getAccounts({}), (error) => {
      assert.equal(error.code, Status.UNAUTHENTICATED);
      assert.equal(error.details, 'Authentication token is missing or invalid');
      assert.match(error.trackingId, UUID_RE);
      return true;
    });
  });

  test(`${transport}: instrument lookup by FIGI`, async () => {
    const { instrument } = await sdk(server, 't.demo.full', { tls }).instruments.getInstrumentBy({
      idType: InstrumentIdType.INSTRUMENT_ID_TYPE_FIGI, id: share.figi,
    });
    assert.equal(instrument.ticker, share.ticker);
    assert.equal(instrument.uid, share.uid);
  });
}

test('missing and unknown tokens: UNAUTHENTICATED, code 40003, message trailer, tracking id', async () => {
  for (const token of [undefined, 'nope']) {
    const users = rawClient(server, UsersServiceDefinition, token);
    assertApiError(await callRaw((o) => users.getInfo({}, o)), {
      status: Status.UNAUTHENTICATED, code: 40003, message: 'Authentication token is missing or invalid',
    });
  }
});

test('every successful unary reply carries x-tracking-id and x-ratelimit-* headers', async () => {
  const users = rawClient(server, UsersServiceDefinition, 't.demo.full');
  const first = await callRaw((o) => users.getInfo({}, o));
  const second = await callRaw((o) => users.getInfo({}, o));
  for (const result of [first, second]) {
    assert.ok(result.response);
    assert.match(result.header.get('x-tracking-id'), UUID_RE);
    for (const key of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'])
      assert.match(String(result.header.get(key)), /^\d+$/, key);
  }
  assert.notEqual(first.header.get('x-tracking-id'), second.header.get('x-tracking-id'));
  // The demo has no limits: reported as one no client reaches, never as 0 remaining.
  assert.ok(Number(second.header.get('x-ratelimit-remaining')) > 1000000, 'unlimited is not "0 remaining"');
});

test('GetInfo, GetUserTariff and GetMarginAttributes', async () => {
  const api = sdk(server, 't.demo.full');
  const info = await api.users.getInfo({});
  assert.equal(info.qualStatus, false);
  const tariff = await api.users.getUserTariff({});
  const unaryMethods = tariff.unaryLimits.flatMap((l) => l.methods);
  assert.ok(unaryMethods.includes('tinkoff.public.invest.api.contract.v1.UsersService/GetAccounts'));
  // The margin account has figures (no position yet: its cash is its liquid portfolio); a cash
  // account has none, and the real service answers 30051 for it.
  const margin = await api.users.getMarginAttributes({ accountId: marginAccount });
  assert.equal(margin.liquidPortfolio.currency, 'rub');
  assert.equal(margin.liquidPortfolio.units, 1000000);
  assert.equal(margin.startingMargin.units, 0);
  const users = rawClient(server, UsersServiceDefinition, 't.demo.full');
  assertApiError(await callRaw((o) => users.getMarginAttributes({ accountId: firstAccount }, o)), {
    status: Status.INVALID_ARGUMENT, code: 30051, message: 'Account margin status is disabled',
  });
});

test('GetMarginAttributes: unknown account 50004, foreign account 40002', async () => {
  const users = rawClient(server, UsersServiceDefinition, 't.demo.one');
  assertApiError(await callRaw((o) => users.getMarginAttributes({ accountId: 'missing' }, o)), {
    status: Status.NOT_FOUND, code: 50004, message: 'Account not found',
  });
  assertApiError(await callRaw((o) => users.getMarginAttributes({ accountId: secondAccount }, o)), {
    status: Status.PERMISSION_DENIED, code: 40002, message: 'Insufficient privileges',
  });
});

test('GetInstrumentBy by uid, ticker + class_code and position_uid', async () => {
  const api = sdk(server, 't.demo.full');
  for (const [idType, id, classCode] of [
    [InstrumentIdType.INSTRUMENT_ID_TYPE_UID, share.uid],
    [InstrumentIdType.INSTRUMENT_ID_TYPE_TICKER, share.ticker, share.class_code],
    [InstrumentIdType.INSTRUMENT_ID_TYPE_POSITION_UID, share.position_uid],
  ]) {
    const { instrument } = await api.instruments.getInstrumentBy({ idType, id, classCode });
    assert.equal(instrument.figi, share.figi);
    assert.equal(instrument.lot, share.lot);
    assert.equal(instrument.classCode, share.class_code);
    assert.equal(instrument.currency, share.currency);
    assert.equal(instrument.instrumentKind, InstrumentType.INSTRUMENT_TYPE_SHARE);
    assert.equal(instrument.apiTradeAvailableFlag, true);
  }
});

test('GetInstrumentBy errors: 30005 bad id type, 30013 ticker without class_code, 50002 unknown', async () => {
  const instruments = rawClient(server, InstrumentsServiceDefinition, 't.demo.full');
  assertApiError(await callRaw((o) => instruments.getInstrumentBy({ idType: 0, id: share.figi }, o)), {
    status: Status.INVALID_ARGUMENT, code: 30005, message: '`id_type` is invalid',
  });
  assertApiError(await callRaw((o) => instruments.getInstrumentBy(
    { idType: InstrumentIdType.INSTRUMENT_ID_TYPE_TICKER, id: share.ticker }, o)), {
    status: Status.INVALID_ARGUMENT, code: 30013,
  });
  assertApiError(await callRaw((o) => instruments.getInstrumentBy(
    { idType: InstrumentIdType.INSTRUMENT_ID_TYPE_FIGI, id: 'BBG000000000' }, o)), {
    status: Status.NOT_FOUND, code: 50002, message: 'Instrument not found',
  });
  // A bond's FIGI is not a share.
  assertApiError(await callRaw((o) => instruments.shareBy(
    { idType: InstrumentIdType.INSTRUMENT_ID_TYPE_FIGI, id: bond.figi }, o)), {
    status: Status.NOT_FOUND, code: 50002,
  });
});

test('ShareBy/Shares, BondBy/Bonds, EtfBy/Etfs, FutureBy/Futures, CurrencyBy/Currencies', async () => {
  const api = sdk(server, 't.demo.full');
  const kinds = [
    ['share', 'shareBy', 'shares'], ['bond', 'bondBy', 'bonds'], ['etf', 'etfBy', 'etfs'],
    ['future', 'futureBy', 'futures'], ['currency', 'currencyBy', 'currencies'],
  ];
  for (const [type, by, list] of kinds) {
    const expected = demoInstruments.filter((i) => i.type === type);
    assert.ok(expected.length > 0, `demo config has a ${type}`);
    const { instruments } = await api.instruments[list]({});
    assert.deepEqual(instruments.map((i) => i.figi).sort(), expected.map((i) => i.figi).sort(), list);
    const { instrument } = await api.instruments[by]({
      idType: InstrumentIdType.INSTRUMENT_ID_TYPE_UID, id: expected[0].uid,
    });
    assert.equal(instrument.ticker, expected[0].ticker);
    assert.equal(instrument.lot, expected[0].lot);
    const [units, frac = ''] = expected[0].min_price_increment.split('.');
    assert.equal(instrument.minPriceIncrement.units, Number(units));
    assert.equal(instrument.minPriceIncrement.nano, Number(frac.padEnd(9, '0')));
    assert.equal(instrument.apiTradeAvailableFlag, true);
    assert.equal(instrument.buyAvailableFlag, true);
    assert.equal(instrument.sellAvailableFlag, true);
  }
});

test('FindInstrument matches ticker, name and FIGI substrings; empty query is 30087', async () => {
  const api = sdk(server, 't.demo.full');
  const byTicker = await api.instruments.findInstrument({ query: share.ticker.toLowerCase() });
  assert.ok(byTicker.instruments.some((i) => i.uid === share.uid));
  // Names in any case, Cyrillic too: "сбер" and "СБЕР" find "Сбер Банк".
  const word = share.name.split(' ')[0];
  for (const query of [word.toLowerCase(), word.toUpperCase()]) {
    const byName = await api.instruments.findInstrument({ query });
    assert.ok(byName.instruments.some((i) => i.uid === share.uid), `found by name "${query}"`);
  }
  const byFigi = await api.instruments.findInstrument({ query: share.figi.slice(0, 8) });
  assert.ok(byFigi.instruments.some((i) => i.figi === share.figi));
  const bondsOnly = await api.instruments.findInstrument({
    query: bond.name.split(' ')[0], instrumentKind: InstrumentType.INSTRUMENT_TYPE_BOND,
  });
  assert.ok(bondsOnly.instruments.length >= 1);
  assert.ok(bondsOnly.instruments.every((i) => i.instrumentKind === InstrumentType.INSTRUMENT_TYPE_BOND));
  const none = await api.instruments.findInstrument({ query: 'no-such-instrument-anywhere' });
  assert.equal(none.instruments.length, 0);
  const instruments = rawClient(server, InstrumentsServiceDefinition, 't.demo.full');
  assertApiError(await callRaw((o) => instruments.findInstrument({ query: '' }, o)), {
    status: Status.INVALID_ARGUMENT, code: 30087,
  });
});

test('TradingSchedules covers the asked days for every exchange', async () => {
  const api = sdk(server, 't.demo.full');
  const from = new Date(Date.UTC(2026, 0, 5));
  const to = new Date(Date.UTC(2026, 0, 7));
  const { exchanges } = await api.instruments.tradingSchedules({ from, to });
  const expected = new Set(demoInstruments.map((i) => i.exchange ?? 'MOEX'));
  assert.deepEqual(new Set(exchanges.map((e) => e.exchange)), expected);
  for (const e of exchanges) {
    assert.equal(e.days.length, 3);
    assert.ok(e.days.every((d) => d.isTradingDay));
  }
  const instruments = rawClient(server, InstrumentsServiceDefinition, 't.demo.full');
  assertApiError(await callRaw((o) => instruments.tradingSchedules({ from: to, to: from }, o)), {
    status: Status.INVALID_ARGUMENT, code: 30012,
  });
});

test('a method the server does not serve is UNIMPLEMENTED 12001, with a usable rate budget', async () => {
  // Every method of the contract's InstrumentsService is served; a method name the contract does
  // not have on a real service path is what a client built from a newer contract would send.
  const path = '/tinkoff.public.invest.api.contract.v1.InstrumentsService/GetNoSuchMethod';
  const result = await rawBytesCall(server.plainPort, path, Buffer.alloc(0));
  assert.equal(result.error.code, grpc.status.UNIMPLEMENTED);
  assert.equal(result.error.details, '12001');
  assert.equal(result.trailer.get('message')[0], 'Method is unimplemented');
  assert.match(String(result.trailer.get('x-tracking-id')[0]), UUID_RE);
});

function varint(value) {
  const bytes = [];
  while (value >= 0x80) { bytes.push((value & 0x7f) | 0x80); value = Math.floor(value / 128); }
  bytes.push(value);
  return bytes;
}

/** Sends raw bytes to a method with grpc-js and reports status, details and trailers. */
function rawBytesCall(port, path, bytes) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', 'Bearer t.demo.full');
  return new Promise((resolveCall) => {
    client.makeUnaryRequest(path, (b) => b, (b) => b, bytes, metadata, (error, response) => {
      client.close();
      resolveCall({ error, response, trailer: error?.metadata });
    });
  });
}

test('malformed protobuf is INVALID_ARGUMENT with a code, and changes nothing', async () => {
  const path = '/tinkoff.public.invest.api.contract.v1.InstrumentsService/GetInstrumentBy';
  // Field 3 (id) declared as a 100-byte string but the message ends after 2 bytes.
  const result = await rawBytesCall(server.plainPort, path, Buffer.from([0x1a, 0x64, 0x41, 0x42]));
  assert.equal(result.error.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(result.error.details, '30102');
  assert.ok(result.trailer.get('message')[0].length > 0);
  assert.match(String(result.trailer.get('x-tracking-id')[0]), UUID_RE);
  // The server still answers normally afterwards.
  const accounts = await sdk(server, 't.demo.full').users.getAccounts({});
  assert.equal(accounts.accounts.length, 3, 'the two broker accounts and the margin account');
});

test('a request above 4 MiB is refused before decoding', async () => {
  const path = '/tinkoff.public.invest.api.contract.v1.InstrumentsService/FindInstrument';
  const big = Buffer.alloc(4 * 1024 * 1024 + 64, 0x41);
  const header = Buffer.from([0x0a, ...varint(big.length)]); // field 1 (query), length-delimited
  const result = await rawBytesCall(server.plainPort, path, Buffer.concat([header, big]));
  assert.equal(result.error.code, grpc.status.RESOURCE_EXHAUSTED);
});

test('over the per-minute limit: RESOURCE_EXHAUSTED 80002 with x-ratelimit-reset', async () => {
  const config = { ...demoConfig, rate_limits: { default_per_minute: 0, methods: { 'UsersService/GetInfo': 3 } } };
  const path = join(tmpdir(), `tinvestd-ratelimit-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  const limited = await startServer({ config: path });
  try {
    const users = rawClient(limited, UsersServiceDefinition, 't.demo.full');
    const remaining = [];
    for (let i = 0; i < 3; i++) {
      const ok = await callRaw((o) => users.getInfo({}, o));
      assert.equal(ok.header.get('x-ratelimit-limit'), '3');
      remaining.push(Number(ok.header.get('x-ratelimit-remaining')));
    }
    assert.deepEqual(remaining, [2, 1, 0]);
    const refused = await callRaw((o) => users.getInfo({}, o));
    assertApiError(refused, { status: Status.RESOURCE_EXHAUSTED, code: 80002, message: 'Request limit exceeded' });
    const reset = Number(refused.trailer.get('x-ratelimit-reset'));
    assert.ok(reset >= 1 && reset <= 60);
    // Limits are per token: another token still gets through.
    const other = rawClient(limited, UsersServiceDefinition, 't.demo.readonly');
    assert.ok((await callRaw((o) => other.getInfo({}, o))).response);
    // Other methods of the same token are not limited.
    assert.ok((await callRaw((o) => users.getAccounts({}, o))).response);
  } finally {
    assert.deepEqual(await limited.stop(), { code: 0, signal: null });
  }
});
