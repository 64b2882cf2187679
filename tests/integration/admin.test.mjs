// The operator's control surface (tinvestd.admin.v1.AdminService) through `tinvestctl`, run as a
// process, while a bot on the official npm SDK trades: a halt answers the bot's orders with the
// real code and changes the status its MarketDataStream follows; a resume lets it trade again; a
// halt survives kill -9. The admin token and nothing else opens the service. Fault injection
// (reject ppm) shows on OrderStateStream, a price move in the book and the next trade's price,
// a snapshot appears on disk, and POST /admin/<Method> answers a browser-like fetch.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrderDirection, OrderType, OrderIdType, OrderExecutionReportStatus, OrdersServiceDefinition }
  from 'tinkoff-invest-api/dist/generated/orders.js';
import { SubscriptionAction, SubscriptionStatus } from 'tinkoff-invest-api/dist/generated/marketdata.js';
import { SecurityTradingStatus } from 'tinkoff-invest-api/dist/generated/common.js';
import { UsersServiceDefinition } from 'tinkoff-invest-api/dist/generated/users.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoConfigPath, demoInstruments, demoReferenceDir, sourceDir, binary } from './harness.mjs';

const ADMIN_TOKEN = 'adm-test-0123456789abcdef';
const USER_TOKEN = 't.demo.full';
const account = demoConfig.accounts[0].id;
const share = demoInstruments.find((i) => i.type === 'share');
const etf = demoInstruments.find((i) => i.type === 'etf');
const tinvestctl = join(dirname(binary), 'tinvestctl');
const NORMAL = SecurityTradingStatus.SECURITY_TRADING_STATUS_NORMAL_TRADING;
const BREAK = SecurityTradingStatus.SECURITY_TRADING_STATUS_BREAK_IN_TRADING;

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-admin-'));
after(() => { closeClients(); rmSync(dir, { recursive: true, force: true }); });

/** The demo's configuration (its reference directory by absolute path), with the admin token or without. */
function demoLikeConfig(name, admin) {
  const config = structuredClone(demoConfig);
  config.reference_dir = demoReferenceDir;
  if (admin) config.admin = { token: ADMIN_TOKEN };
  // The market maker keeps still: the book moves only through the tests and the operator.
  config.venue.market_maker.refresh_ms = 3600000;
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Runs tinvestctl; resolves to { code, stdout, stderr, json } (json: the parsed answer on 0). */
function ctl(server, args, { token = ADMIN_TOKEN, env = {} } = {}) {
  const argv = ['--target', `127.0.0.1:${server.plainPort}`, ...(token !== null ? ['--token', token] : []), ...args];
  return new Promise((resolve) => {
    execFile(tinvestctl, argv, { env: { ...process.env, TINVESTD_ADMIN_TOKEN: '', ...env }, timeout: 60000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, json: code === 0 ? JSON.parse(stdout) : undefined });
      });
  });
}

/** Reads an async iterable in the background; `next(predicate)` waits for a matching message. */
function follow(iterable, controller) {
  const messages = [];
  const waiters = [];
  let ended = null;
  const done = (async () => {
    try {
      for await (const message of iterable) {
        messages.push(message);
        for (const w of waiters.splice(0)) w();
      }
      ended = { ok: true };
    } catch (error) {
      ended = { error };
    }
    for (const w of waiters.splice(0)) w();
  })();
  return {
    messages,
    async next(predicate, timeoutMs = 10000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.slice(from).find(predicate);
        if (found) return found;
        if (ended) throw new Error(`stream ended: ${ended.error?.message ?? 'ok'}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('timed out waiting for a stream message');
        await new Promise((r) => { waiters.push(r); setTimeout(r, left); });
      }
    },
    async close() { controller.abort(); await done; },
  };
}

/** MarketDataStream following the instrument's trading status. */
async function followStatus(api, uid) {
  const controller = new AbortController();
  const outbox = [{ subscribeInfoRequest: { subscriptionAction: SubscriptionAction.SUBSCRIPTION_ACTION_SUBSCRIBE,
    instruments: [{ figi: '', instrumentId: uid }] } }];
  async function* requests() {
    while (outbox.length) yield outbox.shift();
    await new Promise((r) => controller.signal.addEventListener('abort', r));
  }
  const stream = follow(api.marketdataStream.marketDataStream(requests(), { signal: controller.signal }), controller);
  const answer = await stream.next((m) => m.subscribeInfoResponse);
  assert.equal(answer.subscribeInfoResponse.infoSubscriptions[0].subscriptionStatus,
    SubscriptionStatus.SUBSCRIPTION_STATUS_SUCCESS);
  return stream;
}

function orderStates(api) {
  const controller = new AbortController();
  return follow(api.ordersStream.orderStateStream({ accounts: [account] }, { signal: controller.signal }), controller);
}

const marketBuy = (instrumentId, quantity = 1) => ({
  accountId: account, orderId: randomUUID(), instrumentId, quantity,
  direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET,
});

const nanoOf = (q) => BigInt(q.units) * 1000000000n + BigInt(q.nano);
const decimalNano = (text) => {
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole) * 1000000000n + BigInt((frac + '000000000').slice(0, 9));
};
const tickNano = (ins) => decimalNano(String(ins.min_price_increment));

test('tinvestctl halting an instrument while an official-SDK bot trades it; resume; still halted after kill -9', async () => {
  const config = demoLikeConfig('halt', true);
  const dataDir = join(dir, 'data-halt');
  let server = await startServer({ config, dataDir });
  let api = sdk(server, USER_TOKEN);
  let orders = rawClient(server, OrdersServiceDefinition, USER_TOKEN);
  const statuses = await followStatus(api, share.uid);
  const states = orderStates(api);
  try {
    const first = await statuses.next((m) => m.tradingStatus);
    assert.equal(first.tradingStatus.tradingStatus, NORMAL);

    // The bot trades, and leaves a bid resting far below the market.
    const bought = await api.orders.postOrderAsync(marketBuy(share.uid));
    await states.next((m) => m.orderState?.orderRequestId === bought.orderRequestId &&
      m.orderState.executionReportStatus === OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_FILL);
    const tick = tickNano(share);
    const low = (decimalNano(String(share.reference_price)) * 85n / 100n) / tick * tick;
    const restingId = randomUUID();
    const resting = await api.orders.postOrder({ ...marketBuy(share.uid), orderId: restingId, orderType: OrderType.ORDER_TYPE_LIMIT,
      price: { units: Number(low / 1000000000n), nano: Number(low % 1000000000n) } });

    // The operator halts it.
    const seen = statuses.messages.length;
    const halted = await ctl(server, ['halt', share.uid]);
    assert.equal(halted.code, 0, halted.stderr);
    assert.equal(halted.json.halted, true);
    assert.equal(halted.json.tradingStatus, BREAK);
    assert.equal(halted.json.instrumentUid, share.uid);
    assert.equal(halted.json.bestAsk, '', 'the market maker withdrew its quotes');

    // The bot's stream sees the status change, and its next order gets the real code.
    const change = await statuses.next((m) => m.tradingStatus, 10000, seen);
    assert.equal(change.tradingStatus.tradingStatus, BREAK);
    assert.equal(change.tradingStatus.limitOrderAvailableFlag, false);
    assert.equal(change.tradingStatus.marketOrderAvailableFlag, false);
    const refused = await callRaw((o) => orders.postOrderAsync(marketBuy(share.uid), o));
    assert.equal(refused.error?.code, Status.INVALID_ARGUMENT);
    assert.equal(refused.error.details, '30079');
    assert.equal(refused.trailer.get('message'), 'Instrument is not available for trading');
    assert.ok(refused.trailer.get('x-tracking-id'));
    const refusedSync = await callRaw((o) => orders.postOrder(marketBuy(share.uid), o));
    assert.equal(refusedSync.error?.details, '30079');
    const replace = await callRaw((o) => orders.replaceOrder({ accountId: account, orderId: resting.orderId,
      idempotencyKey: randomUUID(), quantity: 1, price: { units: Number(low / 1000000000n), nano: 0 } }, o));
    assert.equal(replace.error?.details, '30079', 'ReplaceOrder is refused too');
    const status = await api.marketdata.getTradingStatus({ instrumentId: share.uid });
    assert.equal(status.tradingStatus, BREAK);
    assert.equal(status.limitOrderAvailableFlag, false);
    assert.equal(status.marketOrderAvailableFlag, false);
    assert.equal(status.apiTradeAvailableFlag, false);
    // Other instruments trade on.
    await api.orders.postOrderAsync(marketBuy(etf.uid));
    // Halting a halted instrument changes nothing and is no error.
    assert.equal((await ctl(server, ['halt', share.figi])).json.halted, true);

    // Cancelling a resting order of a halted instrument works.
    const cancelled = await api.orders.cancelOrder({ accountId: account, orderId: restingId,
      orderIdType: OrderIdType.ORDER_ID_TYPE_REQUEST });
    assert.ok(cancelled.time);

    // Resume: the status is normal again and the bot trades.
    const beforeResume = statuses.messages.length;
    const resumed = await ctl(server, ['resume', `${share.ticker}_${share.class_code}`]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.json.halted, false);
    assert.equal(resumed.json.tradingStatus, NORMAL);
    assert.notEqual(resumed.json.bestAsk, '', 'the market maker quotes again');
    assert.equal((await statuses.next((m) => m.tradingStatus, 10000, beforeResume)).tradingStatus.tradingStatus, NORMAL);
    const again = await api.orders.postOrderAsync(marketBuy(share.uid));
    await states.next((m) => m.orderState?.orderRequestId === again.orderRequestId &&
      m.orderState.executionReportStatus === OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_FILL);

    // Halted again, then kill -9: the restart keeps it halted.
    assert.equal((await ctl(server, ['halt', share.uid])).code, 0);
    await statuses.close();
    await states.close();
    assert.deepEqual(await server.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
    server = await startServer({ config, dataDir });
    api = sdk(server, USER_TOKEN);
    orders = rawClient(server, OrdersServiceDefinition, USER_TOKEN);
    const afterCrash = await api.marketdata.getTradingStatus({ instrumentId: share.uid });
    assert.equal(afterCrash.tradingStatus, BREAK, 'still halted after kill -9');
    assert.equal((await callRaw((o) => orders.postOrderAsync(marketBuy(share.uid), o))).error?.details, '30079');
    const stats = await ctl(server, ['stats']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(stats.json.haltedInstruments, 1);
    assert.equal(stats.json.instruments.find((i) => i.instrumentUid === share.uid).halted, true);
    assert.equal((await ctl(server, ['resume', share.uid])).json.halted, false);
    await api.orders.postOrderAsync(marketBuy(share.uid));
    // A graceful restart after the resume: trading stays open.
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    server = await startServer({ config, dataDir });
    api = sdk(server, USER_TOKEN);
    assert.equal((await api.marketdata.getTradingStatus({ instrumentId: share.uid })).tradingStatus, NORMAL);
  } finally {
    await statuses.close();
    await states.close();
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

test('only the admin token opens the operator\'s service; it is no trading token', async () => {
  const closedServer = await startServer({ config: demoLikeConfig('closed', false), dataDir: join(dir, 'data-closed') });
  try {
    const noAdmin = await ctl(closedServer, ['stats']);
    assert.equal(noAdmin.code, 1);
    assert.match(noAdmin.stderr, /code 40003: The operator's service is closed: no admin token is configured/);
  } finally {
    assert.deepEqual(await closedServer.stop(), { code: 0, signal: null });
  }
  const server = await startServer({ config: demoLikeConfig('auth', true), dataDir: join(dir, 'data-auth') });
  try {
    for (const token of ['wrong-token-0123456789', USER_TOKEN, `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
      const r = await ctl(server, ['halt', share.uid], { token });
      assert.equal(r.code, 1, token);
      assert.match(r.stderr, /status 16, code 40003: The admin token is missing or invalid/, token);
    }
    // Nothing was halted by the refused calls.
    assert.equal((await sdk(server, USER_TOKEN).marketdata.getTradingStatus({ instrumentId: share.uid })).tradingStatus, NORMAL);
    // No token at all is a usage error of the command line; the environment variable is read.
    assert.equal((await ctl(server, ['stats'], { token: null })).code, 2);
    const fromEnv = await ctl(server, ['stats'], { token: null, env: { TINVESTD_ADMIN_TOKEN: ADMIN_TOKEN } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    // The admin token is not a trading token.
    const users = rawClient(server, UsersServiceDefinition, ADMIN_TOKEN);
    const asTrader = await callRaw((o) => users.getAccounts({}, o));
    assert.equal(asTrader.error?.details, '40003');
    // Usage errors.
    for (const args of [['halt'], ['price', share.uid], ['faults', '--reject-ppm'], ['step', '0'], ['speed'], ['nonsense']])
      assert.equal((await ctl(server, args)).code, 2, args.join(' '));
    // Bad input is refused with a clear code and changes nothing.
    const unknown = await ctl(server, ['halt', 'NO_SUCH_INSTRUMENT']);
    assert.match(unknown.stderr, /code 50002/);
    assert.match((await ctl(server, ['halt', ''])).stderr, /code 30237/);
    assert.match((await ctl(server, ['step', '1000'])).stderr, /code 12001/, 'Advance without --replay');
    assert.match((await ctl(server, ['speed', 'max'])).stderr, /code 12001/, 'SetReplaySpeed without --replay');
    assert.equal((await ctl(server, ['stats'])).json.clock, 'live');
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

test('fault injection: reject ppm 1000000 rejects the next async order on OrderStateStream; bad values change nothing', async () => {
  const server = await startServer({ config: demoLikeConfig('faults', true), dataDir: join(dir, 'data-faults') });
  const api = sdk(server, USER_TOKEN);
  const states = orderStates(api);
  try {
    const shown = await ctl(server, ['faults']);
    assert.deepEqual(shown.json, { ackDelayUs: '0', fillDelayUs: '0', rejectPpm: '0' });
    const set = await ctl(server, ['faults', '--reject-ppm', '1000000']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.json.rejectPpm, '1000000');
    const placed = await api.orders.postOrderAsync(marketBuy(share.uid));
    assert.equal(placed.executionReportStatus, OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_NEW);
    const rejected = await states.next((m) => m.orderState?.orderRequestId === placed.orderRequestId &&
      m.orderState.executionReportStatus === OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_REJECTED);
    assert.ok(rejected);
    const sync = await callRaw((o) => rawClient(server, OrdersServiceDefinition, USER_TOKEN).postOrder(marketBuy(share.uid), o));
    assert.equal(sync.error?.details, '30095', 'PostOrder answers the exchange\'s reject');

    for (const [args, pattern] of [
      [['faults', '--reject-ppm', '1000001'], /code 30102: `reject_ppm` must be 0 to 1000000/],
      [['faults', '--ack-delay-us', '-1'], /code 30102: `ack_delay_us` must be 0 to 60000000/],
      [['faults', '--fill-delay-us', '60000001'], /code 30102: `fill_delay_us` must be 0 to 60000000/],
      [['faults', '--ack-delay-us', '5', '--reject-ppm', '-5'], /code 30102/],
    ]) {
      const r = await ctl(server, args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, pattern);
    }
    assert.deepEqual((await ctl(server, ['faults'])).json, { ackDelayUs: '0', fillDelayUs: '0', rejectPpm: '1000000' },
      'a refused change changes nothing');
    const cleared = await ctl(server, ['faults', '--reject-ppm', '0', '--ack-delay-us', '1000', '--fill-delay-us', '2000']);
    assert.deepEqual(cleared.json, { ackDelayUs: '1000', fillDelayUs: '2000', rejectPpm: '0' });
    const filled = await api.orders.postOrderAsync(marketBuy(share.uid));
    await states.next((m) => m.orderState?.orderRequestId === filled.orderRequestId &&
      m.orderState.executionReportStatus === OrderExecutionReportStatus.EXECUTION_REPORT_STATUS_FILL);
    const stats = await ctl(server, ['stats']);
    assert.ok(Number(stats.json.ordersRejected) >= 2, JSON.stringify(stats.json));
    assert.ok(Number(stats.json.trades) >= 1);
  } finally {
    await states.close();
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

test('a price move moves the book and the next trade; a walk; out-of-limits and off-step prices are refused', async () => {
  const server = await startServer({ config: demoLikeConfig('price', true), dataDir: join(dir, 'data-price') });
  const api = sdk(server, USER_TOKEN);
  try {
    const tick = tickNano(share);
    const before = await api.marketdata.getOrderBook({ instrumentId: share.uid, depth: 1 });
    const ref = decimalNano(String(share.reference_price));
    const target = ref + 100n * tick;
    const text = `${target / 1000000000n}.${String(target % 1000000000n).padStart(9, '0')}`.replace(/\.?0+$/, '');
    const moved = await ctl(server, ['price', share.uid, text]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(decimalNano(moved.json.referencePrice), target);
    const book = await api.marketdata.getOrderBook({ instrumentId: share.uid, depth: 1 });
    assert.ok(nanoOf(book.asks[0].price) > target && nanoOf(book.bids[0].price) < target, 'quotes around the new price');
    assert.ok(nanoOf(book.asks[0].price) > nanoOf(before.asks[0].price), 'the book moved up');
    await api.orders.postOrder(marketBuy(share.uid));
    const { lastPrices } = await api.marketdata.getLastPrices({ figi: [], instrumentId: [share.uid] });
    assert.equal(nanoOf(lastPrices[0].price), nanoOf(book.asks[0].price), 'the next trade is at the moved ask');

    const walked = await ctl(server, ['price', share.uid, '--walk', '10']);
    assert.equal(walked.code, 0, walked.stderr);
    const walkedRef = decimalNano(walked.json.referencePrice);
    assert.ok(walkedRef > 0n && (walkedRef - target) % tick === 0n);

    const limitUp = decimalNano(moved.json.limitUp);
    for (const [args, code] of [
      [['price', share.uid, String(Number(limitUp + tick) / 1e9)], '30099'],
      [['price', share.uid, `${(target + tick / 2n) / 1000000000n}.${String((target + tick / 2n) % 1000000000n).padStart(9, '0')}`], '30078'],
      [['price', share.uid, 'abc'], '30018'],
      [['price', share.uid, '-5'], '30100'],
      [['price', share.uid, '--walk', '1001'], '30102'],
    ]) {
      const r = await ctl(server, args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, new RegExp(`code ${code}`), args.join(' '));
    }
    const still = await ctl(server, ['stats']);
    assert.equal(still.json.instruments.find((i) => i.instrumentUid === share.uid).referencePrice, walked.json.referencePrice);
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

test('POST /admin/<Method> answers fetch() with JSON; a snapshot appears on disk', async () => {
  const dataDir = join(dir, 'data-http');
  const server = await startServer({ config: demoLikeConfig('http', true), dataDir,
    args: ['--http-listen', '127.0.0.1:0'] });
  const base = `http://127.0.0.1:${server.httpPort}`;
  const post = (path, body, token = ADMIN_TOKEN) => fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  try {
    const stats = await post('/admin/GetStats', {});
    assert.equal(stats.status, 200);
    assert.match(stats.headers.get('content-type'), /application\/json/);
    assert.ok(stats.headers.get('x-tracking-id'));
    const body = await stats.json();
    assert.equal(body.clock, 'live');
    assert.equal(body.instruments.length, demoInstruments.length);

    const halted = await post('/admin/HaltTrading', { instrumentId: share.uid });
    assert.equal(halted.status, 200);
    assert.equal((await halted.json()).halted, true);
    const full = await post('/rest/tinvestd.admin.v1.AdminService/ResumeTrading', { instrument_id: share.uid });
    assert.equal(full.status, 200);
    assert.equal((await full.json()).halted, false);

    const noToken = await post('/admin/GetStats', {}, null);
    assert.equal(noToken.status, 401);
    assert.deepEqual(await noToken.json(), { code: 16, message: 'The admin token is missing or invalid',
      description: '40003', details: [] });
    const userToken = await post('/admin/HaltTrading', { instrumentId: share.uid }, USER_TOKEN);
    assert.equal(userToken.status, 401);
    const bad = await post('/admin/SetExchangeFaults', { rejectPpm: 2000000 });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).description, '30102');
    assert.equal((await post('/admin/NoSuchMethod', {})).status, 404);
    assert.equal((await post('/admin/GetStats/x', {})).status, 404);
    assert.equal((await fetch(`${base}/admin/GetStats`)).status, 405);

    // A snapshot on demand.
    const before = readdirSync(dataDir).filter((f) => f.endsWith('.snap'));
    const snap = await post('/admin/TakeSnapshot', {});
    const answer = await snap.json();
    assert.equal(answer.started, true, JSON.stringify(answer));
    const file = join(dataDir, `snapshot-${String(answer.seq).padStart(20, '0')}.snap`);
    const deadline = Date.now() + 20000;
    while (!readdirSync(dataDir).some((f) => f.endsWith('.snap') && !before.includes(f)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(readdirSync(dataDir).some((f) => f.endsWith('.snap') && !before.includes(f)),
      `a new snapshot in ${readdirSync(dataDir).join(', ')} (${file}: ${existsSync(file)})`);
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

test('tinvestctl step moves a replay\'s clock in step mode; its speed changes at run time; MovePrice is refused in a replay', async () => {
  const archives = execFileSync('python3', [join(sourceDir, 'scripts', 'make-demo-history.py'),
    '--out', join(dir, 'archives'), '--config', demoConfigPath, '--days', '1', '--seed', '3',
    '--uid', share.uid], { encoding: 'utf8' }).trim().split('\n');
  const dataDir = join(dir, 'data-step');
  const config = demoLikeConfig('step', true);
  execFileSync(binary, ['history', 'import', '--data-dir', dataDir, '--config', config, ...archives], { encoding: 'utf8' });
  const day = /_(\d{4})(\d{2})(\d{2})\.csv/.exec(execFileSync('python3', ['-c',
    'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).namelist()[0])', archives[0]], { encoding: 'utf8' }));
  const date = `${day[1]}-${day[2]}-${day[3]}`;
  const server = await startServer({ config, dataDir,
    args: ['--replay', `${date}..${date}`, '--speed', 'step', '--durability', 'none', '--http-listen', '127.0.0.1:0'] });
  try {
    const from = Date.parse(`${date}T00:00:00Z`);
    const first = await ctl(server, ['step', '60000']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.speed, 'step');
    assert.equal(Date.parse(first.json.now), from + 60000);
    const second = await ctl(server, ['step', '1500']);
    assert.equal(Date.parse(second.json.now), from + 61500, 'the clock goes on from where it stood');
    const stats = await ctl(server, ['stats']);
    assert.equal(stats.json.clock, 'step');
    assert.equal(Date.parse(stats.json.now), from + 61500);
    const move = await ctl(server, ['price', share.uid, '--walk', '1']);
    assert.equal(move.code, 1);
    assert.match(move.stderr, /code 30102: A replay's prices are the history's/);
    // The admin token is what Advance takes here; a trading token is refused.
    assert.match((await ctl(server, ['step', '1000'], { token: USER_TOKEN })).stderr, /code 40003/);
    assert.match((await ctl(server, ['speed', 'max'], { token: USER_TOKEN })).stderr, /code 40003/);

    // SetReplaySpeed: bad values are refused 30102 and change nothing (the clock stands in step).
    for (const bad of ['fast', '0', '-1', '1.0001', '2000000', '', 'MAX'])
      assert.match((await ctl(server, ['speed', bad])).stderr, /status 3, code 30102: speed/, `speed ${JSON.stringify(bad)}`);
    const still = await ctl(server, ['stats']);
    assert.equal(still.json.clock, 'step');
    assert.equal(Date.parse(still.json.now), from + 61500);
    // A factor: the clock runs from where it stood, an hour a second (in 15 s quanta).
    const sent = Date.now();
    const fast = await ctl(server, ['speed', '3600']);
    const answered = Date.now();
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal(fast.json.speed, '3600');
    assert.equal(Date.parse(fast.json.now), from + 61500, 'the time goes on from where it stood');
    await new Promise((r) => setTimeout(r, 1000));
    const asked = Date.now();
    const ran = await ctl(server, ['stats']);
    const read = Date.now();
    assert.equal(ran.json.clock, '3600');
    // 3600 simulated ms a wall ms, in 15 s quanta: between the wall time surely gone (answer to
    // question) and the most that can have gone (request to answer), the process starts of
    // tinvestctl included.
    const gone = Date.parse(ran.json.now) - (from + 61500);
    assert.ok(gone >= 3600 * (asked - answered) - 15000 && gone <= 3600 * (read - sent),
      `an hour a second: ${gone} ms simulated in ${asked - answered}..${read - sent} ms of wall time`);
    // Back to step over HTTP (POST /admin/SetReplaySpeed): the clock stops where it is, and Advance moves it.
    const answer = await fetch(`http://127.0.0.1:${server.httpPort}/admin/SetReplaySpeed`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ speed: 'step' }) });
    assert.equal(answer.status, 200);
    const stepped = await answer.json();
    assert.equal(stepped.speed, 'step');
    const stop = Date.parse(stepped.now);
    assert.ok(stop >= Date.parse(ran.json.now), 'not backwards');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(Date.parse((await ctl(server, ['stats'])).json.now), stop, 'step mode: the clock stands still');
    assert.equal(Date.parse((await ctl(server, ['step', '1000'])).json.now), stop + 1000);
    const refused = await fetch(`http://127.0.0.1:${server.httpPort}/admin/SetReplaySpeed`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ speed: 'slow' }) });
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).description, '30102');
    // max: the replay runs to its end by itself.
    assert.equal((await ctl(server, ['speed', 'max'])).json.speed, 'max');
    const deadline = Date.now() + 30000;
    let state;
    do {
      await new Promise((r) => setTimeout(r, 200));
      state = await ctl(server, ['stats']);
    } while (Date.parse(state.json.now) < from + 86400000 - 1 && Date.now() < deadline);
    assert.equal(state.json.clock, 'max');
    assert.ok(Date.parse(state.json.now) >= from + 86400000 - 1, `the end is reached: ${state.json.now}`);
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

