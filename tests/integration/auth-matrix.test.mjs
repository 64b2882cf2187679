// Authentication and account access over every method of the contract, generated from our proto
// files (a method added to proto/ is covered without touching this file), on both endpoints:
// - no token and a bad token answer 40003 (UNAUTHENTICATED) before anything else, served method
//   or not; a valid token on a method we do not serve answers 12001 (UNIMPLEMENTED), and so does
//   a path no proto declares; neither reports an exhausted rate budget;
// - every served unary method that names an account (`account_id`, `from_account_id`): a
//   read-only token on a trading method answers 40002 (the catalogue's code for a read-only
//   token) and reads pass the access check; an account of the token's user it has no right to
//   answers 40002; the other endpoint's account answers 50004 (an account the endpoint does not
//   know).
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { startServer, demoConfig, demoInstruments, sourceDir } from './harness.mjs';

const PACKAGE = 'tinkoff.public.invest.api.contract.v1';
const protoDir = join(sourceDir, 'proto');
const [first, second, sandboxAccount] = demoConfig.accounts.map((a) => a.id);
const share = demoInstruments.find((i) => i.type === 'share');

// The demo configuration plus tokens for the sandbox account: one read-only, one without a right.
const dir = mkdtempSync(join(tmpdir(), 'tinvestd-auth-'));
const configPath = join(dir, 'config.json');
const config = structuredClone(demoConfig);
config.reference_dir = join(sourceDir, 'data', 'reference');
config.tokens.push(
  { token: 't.sandbox.readonly', name: 'read-only on the sandbox account', user_id: 'a1b2c3d4-0000-4000-8000-000000000002',
    accounts: { [sandboxAccount]: 'read_only' } },
  { token: 't.sandbox.none', name: 'no sandbox account', user_id: 'a1b2c3d4-0000-4000-8000-000000000002',
    accounts: { [first]: 'read_only' } });
writeFileSync(configPath, JSON.stringify(config));

// Every method of every service our proto files declare.
const definition = protoLoader.loadSync(readdirSync(protoDir).filter((f) => f.endsWith('.proto')).map((f) => join(protoDir, f)),
  { includeDirs: [protoDir, '/usr/include'], keepCase: true, enums: Number, longs: String, defaults: true });
const methods = [];
for (const [name, service] of Object.entries(definition)) {
  if (!name.startsWith(`${PACKAGE}.`) || typeof service !== 'object' || service.format !== undefined) continue;
  for (const [methodName, method] of Object.entries(service)) {
    if (typeof method !== 'object' || method.path === undefined) continue;
    methods.push({ service: name.slice(PACKAGE.length + 1), name: methodName, ...method });
  }
}

// Methods that change something on the account: they need a token with full access.
const TRADING = /^(Post|Cancel|Replace)|PayIn$|^CloseSandboxAccount$|^CurrencyTransfer$/;

let server;
const clients = [];
before(async () => { server = await startServer({ config: configPath }); });
after(async () => {
  for (const c of clients) c.close();
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

const clientOf = new Map();
function client(port) {
  if (!clientOf.has(port)) {
    const c = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    clients.push(c);
    clientOf.set(port, c);
  }
  return clientOf.get(port);
}

const portOf = (sandbox) => (sandbox ? server.sandboxPort : server.plainPort);

/** Calls `path` with `request` (any streaming kind), resolving to { code, details, trailers }. */
function call(port, method, request, token) {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  const c = client(port);
  const serialize = method.requestSerialize ?? ((b) => b);
  const deserialize = method.responseDeserialize ?? ((b) => b);
  const options = { deadline: Date.now() + 5000 };
  return new Promise((resolve) => {
    const done = (error) => resolve(error ? { code: error.code, details: error.details, trailers: error.metadata } : { code: 0 });
    if (!method.requestStream && !method.responseStream) {
      c.makeUnaryRequest(method.path, serialize, deserialize, request, metadata, options, done);
      return;
    }
    const stream = method.requestStream
      ? c.makeBidiStreamRequest(method.path, serialize, deserialize, metadata, options)
      : c.makeServerStreamRequest(method.path, serialize, deserialize, request, metadata, options);
    let settled = false;
    const finish = (result) => { if (!settled) { settled = true; stream.cancel(); resolve(result); } };
    // A stream that opened answers with a first message (or stays open): that is past the checks.
    stream.on('data', () => finish({ code: 0 }));
    stream.on('error', (error) => finish({ code: error.code, details: error.details, trailers: error.metadata }));
    stream.on('status', (status) => finish({ code: status.code, details: status.details, trailers: status.metadata }));
    if (method.requestStream) {
      stream.write(request);
      stream.end();
    }
    // A refusal comes at once; 5 s keeps a loaded machine's slow refusal from passing for an
    // open stream.
    setTimeout(() => finish({ code: 0 }), 5000);
  });
}

/** A request of the method's type whose fields hold plausible values, naming `account`. */
function requestFor(method, account) {
  const type = method.requestType.type;
  const price = { units: String(Math.round(Number(share.reference_price))), nano: 0 };
  const request = {};
  for (const field of type.field) {
    const n = field.name;
    if (n === 'account_id' || n === 'from_account_id') request[n] = account;
    else if (n === 'to_account_id') request[n] = account === first ? second : first;
    else if (n === 'instrument_id' || n === 'instrument_uid') request[n] = share.uid;
    else if (n === 'figi') request[n] = share.figi;
    else if (['order_id', 'idempotency_key', 'transaction_id', 'stop_order_id'].includes(n)) request[n] = randomUUID();
    else if (n === 'quantity') request[n] = '1';
    else if (n === 'price' || n === 'stop_price') request[n] = price;
    else if (n === 'direction' || n === 'order_type' || n === 'stop_order_type' || n === 'expiration_type') request[n] = 1;
    else if (n === 'amount') request[n] = { currency: 'rub', units: '1', nano: 0 };
    else if (n === 'limit') request[n] = 10;
  }
  return request;
}

const takesAccount = (method) => method.requestType.type.field.some((f) => f.name === 'account_id' || f.name === 'from_account_id');
const unary = (method) => !method.requestStream && !method.responseStream;

test('the contract is loaded', () => {
  assert.ok(methods.length >= 90, `${methods.length} methods`);
  assert.ok(methods.some((m) => m.service === 'SandboxService' && m.name === 'PostSandboxOrder'));
});

test('no token and a bad token: 40003 on every method of both endpoints, served or not', async () => {
  for (const sandbox of [false, true]) {
    const results = await Promise.all(methods.flatMap((m) => [undefined, 't.no.such.token'].map(async (token) => {
      const r = await call(portOf(sandbox), m, {}, token);
      return { where: `${m.path} ${sandbox ? 'sandbox' : 'broker'} token=${token}`, ...r };
    })));
    for (const r of results) {
      assert.equal(r.code, grpc.status.UNAUTHENTICATED, r.where);
      assert.equal(r.details, '40003', r.where);
      assert.equal(r.trailers.get('message')[0], 'Authentication token is missing or invalid', r.where);
      assert.equal(r.trailers.get('x-tracking-id').length, 1, r.where);
    }
  }
});

test('a valid token: served methods pass authentication; the others and unknown paths answer 12001', async (t) => {
  const unknown = [
    { path: `/${PACKAGE}.OrdersService/NoSuchMethod` },
    { path: '/no.such.package.Service/Method' },
  ];
  for (const path of unknown) {
    for (const token of [undefined, 't.demo.full']) {
      const r = await call(server.plainPort, { ...path, requestStream: false, responseStream: false }, Buffer.alloc(0), token);
      if (token === undefined) {
        assert.equal(r.details, '40003', `${path.path} without a token`);
        continue;
      }
      assert.equal(r.code, grpc.status.UNIMPLEMENTED, path.path);
      assert.equal(r.details, '12001', path.path);
      assert.notEqual(r.trailers.get('x-ratelimit-remaining')[0], '0', 'no exhausted budget');
      assert.equal(r.trailers.get('x-ratelimit-reset')[0], '0', 'nothing to wait for');
    }
  }
  let served = 0;
  for (const sandbox of [false, true]) {
    for (const m of methods) {
      const r = await call(portOf(sandbox), m, {}, 't.demo.full');
      assert.notEqual(r.details, '40003', m.path);
      if (r.code === grpc.status.UNIMPLEMENTED) {
        assert.equal(r.details, '12001', m.path);
        assert.notEqual(r.trailers.get('x-ratelimit-remaining')[0], '0', `${m.path}: no exhausted budget`);
      } else {
        served++;
      }
    }
  }
  assert.ok(served >= 2 * 60, `${served} served (method, endpoint) pairs`);
  t.diagnostic(`${served} served (method, endpoint) pairs of ${2 * methods.length}`);
});

/** The served unary methods that name an account, with the endpoint each is checked on. */
async function accountMethods() {
  const out = [];
  for (const m of methods.filter((m) => unary(m) && takesAccount(m))) {
    const probe = await call(server.plainPort, m, requestFor(m, first), 't.demo.full');
    if (probe.details !== '12001') out.push(m);
  }
  return out;
}

test('account access on every served method that names an account, on both endpoints', async (t) => {
  const served = await accountMethods();
  assert.ok(served.length >= 30, `${served.length} methods name an account`);
  t.diagnostic(`${served.length} methods: ${served.map((m) => m.name).join(' ')}`);
  const failures = [];
  const expect = async (sandbox, m, account, token, check, what) => {
    const r = await call(portOf(sandbox), m, requestFor(m, account), token);
    if (!check(r.details)) failures.push(`${m.service}/${m.name} on the ${sandbox ? 'sandbox' : 'broker\'s'} endpoint, ${what}: got ${r.details ?? 'OK'}`);
  };
  const is = (code) => (got) => got === code;
  const passesAccess = (got) => !['40002', '40003', '50004', '12001'].includes(got);
  for (const m of served) {
    const trading = TRADING.test(m.name);
    const sandboxService = m.service === 'SandboxService';
    // The broker's endpoint: SandboxService acts on sandbox accounts there, the others on broker accounts.
    if (!sandboxService) {
      await expect(false, m, first, 't.demo.readonly', trading ? is('40002') : passesAccess, 'a read-only token');
      await expect(false, m, second, 't.demo.one', is('40002'), 'an account the token has no right to');
      await expect(false, m, sandboxAccount, 't.demo.full', is('50004'), 'a sandbox account');
    } else {
      await expect(false, m, first, 't.demo.full', is('50004'), 'a broker account in SandboxService');
    }
    // The sandbox endpoint: every service acts on sandbox accounts.
    if (m.name === 'CurrencyTransfer') {
      await expect(true, m, first, 't.demo.full', is('50004'), 'a broker account');
      continue; // money moves only between broker accounts: nothing more to check on the sandbox
    }
    await expect(true, m, sandboxAccount, 't.sandbox.readonly', trading ? is('40002') : passesAccess, 'a read-only token');
    await expect(true, m, sandboxAccount, 't.sandbox.none', is('40002'), 'an account the token has no right to');
    await expect(true, m, first, 't.demo.full', is('50004'), 'a broker account');
  }
  assert.deepEqual(failures, []);
});
