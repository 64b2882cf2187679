// Hostile clients: floods of calls without a token, more connections than the server has
// descriptors, one token hogging the server, oversized headers. Each test reproduces a finding of
// an attack review on the wire and failed before the transport limits existed (docs/SECURITY.md).
// The last test runs the attacks together (hostile-attackers.mjs) and measures what a
// well-behaved client's latency and the server's memory make of them.
// All load goes to the server's loopback ports and is bounded in count and time.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { setPriority, tmpdir } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { Status } from 'nice-grpc';
import { OrdersServiceDefinition, OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { UsersServiceDefinition } from 'tinkoff-invest-api/dist/generated/users.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, binary, certPath, sourceDir, parseListening } from './harness.mjs';
import { keyPath } from './tls-env.mjs';

const PACKAGE = 'tinkoff.public.invest.api.contract.v1';
const GET_INFO = `/${PACKAGE}.UsersService/GetInfo`;
const firstAccount = demoConfig.accounts[0].id;
const sber = demoInstruments.find((i) => i.ticker === 'SBER');
const servers = [];
// Under AddressSanitizer freed memory waits in a quarantine before reuse, which reads as growth;
// a small quarantine lets the memory checks below see the server's own behaviour.
process.env.ASAN_OPTIONS = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4:thread_local_quarantine_size_kb=64']
  .filter(Boolean).join(':');

const scratch = []; // configuration files and data directories this file wrote

after(async () => {
  closeClients();
  for (const server of servers)
    assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.output().slice(-2000));
  for (const path of scratch) rmSync(path, { recursive: true, force: true });
});

let configCount = 0;
/** A small-footprint configuration (small pools) changed by `edit`, written to a file. */
function configWith(edit) {
  const config = structuredClone(demoConfig);
  config.limits = { ...config.limits, max_orders: 4096, queue_capacity: 1024 };
  config.venue.market_maker = { ...config.venue.market_maker, refresh_ms: 3600000 };
  edit(config);
  const path = join(tmpdir(), `tinvestd-hostile-${process.pid}-${++configCount}.json`);
  writeFileSync(path, JSON.stringify(config));
  scratch.push(path);
  return path;
}

async function serverWith(edit) {
  const server = await startServer({ config: configWith(edit), args: ['--durability', 'none'] });
  servers.push(server);
  return server;
}

/** tinvestd under a descriptor limit of `nofile` (soft and hard), so it cannot raise it. */
async function startWithDescriptorLimit(nofile, config) {
  const dataDir = join(tmpdir(), `tinvestd-hostile-data-${process.pid}-${++configCount}`);
  scratch.push(dataDir);
  const child = spawn('prlimit', [`--nofile=${nofile}:${nofile}`, '--', binary,
    '--config', config, '--data-dir', dataDir, '--durability', 'none',
    '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0', '--tls-cert', certPath, '--tls-key', keyPath],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal })));
  process.on('exit', () => child.kill('SIGKILL'));
  const line = await new Promise((resolveLine, reject) => {
    createInterface({ input: child.stdout }).once('line', resolveLine);
    exited.then(({ code }) => reject(new Error(`tinvestd exited with ${code}:\n${stderr}`)));
  });
  const ports = parseListening(line);
  const server = {
    plainPort: ports.plaintext, tlsPort: ports.tls, pid: child.pid, output: () => stderr, exited,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
  servers.push(server);
  return server;
}

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const openDescriptors = (pid) => readdirSync(`/proc/${pid}/fd`).length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A grpc-js client on its own connection (the option keeps channels from being shared). */
function ownConnection(port, tag) {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'tinvestd.test.connection': tag });
}

function unary(client, path, metadata, deadlineMs) {
  return new Promise((resolve) => client.makeUnaryRequest(path, (b) => b, (b) => b, Buffer.alloc(0), metadata,
    { deadline: Date.now() + deadlineMs }, (error) => resolve(error ? { code: error.code, details: error.details } : { code: 0 })));
}

test('a flood of calls without a token holds little memory and gives it back', async () => {
  const server = await serverWith(() => {});
  const api = sdk(server, 't.demo.full');
  await api.users.getInfo({}); // warm up: the first call allocates what every call needs
  await sleep(300);
  const baseline = rssMiB(server.pid);
  let peak = baseline;
  const sampler = setInterval(() => { peak = Math.max(peak, rssMiB(server.pid)); }, 50);
  const CONNECTIONS = 3;
  const CALLS = 4000;
  const clients = Array.from({ length: CONNECTIONS }, (_, i) => ownConnection(server.plainPort, `flood-${i}`));
  const results = await Promise.all(clients.flatMap((client) => Array.from({ length: CALLS },
    () => unary(client, GET_INFO, new grpc.Metadata(), 120000))));
  clearInterval(sampler);
  for (const client of clients) client.close();
  const codes = {};
  for (const r of results) codes[`${r.code}:${r.details}`] = (codes[`${r.code}:${r.details}`] ?? 0) + 1;
  assert.deepEqual(codes, { [`${grpc.status.UNAUTHENTICATED}:40003`]: CONNECTIONS * CALLS }, 'every call refused for its token');
  await sleep(1500);
  const settled = rssMiB(server.pid);
  const grown = peak - baseline;
  console.log(`flood of ${CONNECTIONS * CALLS} calls: RSS ${baseline.toFixed(1)} MiB before, peak +${grown.toFixed(1)} MiB, ` +
    `${(settled - baseline).toFixed(1)} MiB above baseline after the connections closed`);
  // Before the limits every refused call still held its stream and payload: about 9 KiB each
  // (110 MiB here, more under the sanitizer), kept after the connections closed.
  assert.ok(grown < 48, `RSS grew by ${grown.toFixed(1)} MiB during the flood`);
  assert.ok(settled - baseline < 24, `RSS stayed ${(settled - baseline).toFixed(1)} MiB above its baseline`);
  // The server still serves a client with a token.
  assert.equal((await api.users.getInfo({})).tariff, 'investor');
});

test('more idle connections than descriptors: the listener recovers when they close', async () => {
  const NOFILE = 256;
  const server = await startWithDescriptorLimit(NOFILE, configWith(() => {}));
  const sockets = [];
  const opened = await Promise.all(Array.from({ length: NOFILE + 100 }, () => new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: server.plainPort });
    sockets.push(socket);
    socket.on('error', () => resolve(false));
    socket.setTimeout(3000, () => resolve(false));
    socket.on('connect', () => resolve(true));
  })));
  const connected = opened.filter(Boolean).length;
  await sleep(500);
  const descriptors = openDescriptors(server.pid);
  for (const socket of sockets) socket.destroy();
  // Before the fix accept() failed with EMFILE once and C-core never listened again: every
  // client after that timed out, however long after the sockets closed.
  const started = Date.now();
  let answer;
  while (Date.now() - started < 5000) {
    const client = ownConnection(server.plainPort, `after-${Date.now()}`);
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer t.demo.full');
    answer = await unary(client, GET_INFO, md, 1000);
    client.close();
    if (answer.code === 0) break;
    await sleep(200);
  }
  console.log(`${connected} of ${sockets.length} idle connections opened under ${NOFILE} descriptors ` +
    `(the server held ${descriptors}); ` +
    `a client was answered ${Date.now() - started} ms after they closed`);
  assert.equal(answer.code, 0, `a client is answered after the idle connections closed: ${JSON.stringify(answer)}\n${server.output().slice(-3000)}`);
  assert.match(server.output(), /max_connections 1024 lowered to \d+/);
});

test('limits.max_connections: the connection over the limit is closed, and served once one leaves', async () => {
  const server = await serverWith((c) => { c.limits.max_connections = 3; });
  const md = new grpc.Metadata();
  md.set('authorization', 'Bearer t.demo.full');
  const clients = Array.from({ length: 3 }, (_, i) => ownConnection(server.plainPort, `held-${i}`));
  for (const client of clients) assert.equal((await unary(client, GET_INFO, md, 5000)).code, 0);
  const extra = ownConnection(server.plainPort, 'extra');
  const refused = await unary(extra, GET_INFO, md, 2000);
  extra.close();
  assert.equal(refused.code, grpc.status.UNAVAILABLE, JSON.stringify(refused));
  clients.pop().close();
  await sleep(200);
  const again = ownConnection(server.plainPort, 'again');
  assert.equal((await unary(again, GET_INFO, md, 5000)).code, 0, 'a connection is served once one has left');
  again.close();
  for (const client of clients) client.close();
});

test('one token cannot hold more unary calls in flight than its cap; another token is still served', async () => {
  const server = await serverWith((c) => {
    c.limits.max_unary_calls_in_flight_per_token = 4;
    c.venue.ack_delay_us = 400000; // PostOrder waits for the exchange's acknowledgement
  });
  const hog = rawClient(server, OrdersServiceDefinition, 't.demo.one');
  const order = () => ({ accountId: firstAccount, instrumentId: sber.uid, quantity: 1, price: { units: 290, nano: 0 },
    direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() });
  const hogging = Array.from({ length: 10 }, () => callRaw((o) => hog.postOrder(order(), o)));
  await sleep(100);
  const other = rawClient(server, UsersServiceDefinition, 't.demo.full');
  const served = await callRaw((o) => other.getInfo({}, o));
  assert.equal(served.error, undefined, 'another token is served while the first is at its cap');
  const results = await Promise.all(hogging);
  const refused = results.filter((r) => r.error);
  assert.equal(results.length - refused.length, 4, 'four calls in flight at once');
  for (const r of refused) {
    assert.equal(r.error.code, Status.RESOURCE_EXHAUSTED);
    assert.equal(r.error.details, '80002');
    assert.match(r.trailer.get('message'), /at most 4 unary calls per token at once/);
  }
  // The cap counts calls in flight, not calls made: once they are answered there is room again.
  assert.equal((await callRaw((o) => hog.postOrder(order(), o))).error, undefined);
});

test('rate_limits.services: one budget shared by every method of a service', async () => {
  const server = await serverWith((c) => { c.rate_limits = { default_per_minute: 0, services: { UsersService: 3 }, methods: {} }; });
  const users = rawClient(server, UsersServiceDefinition, 't.demo.full');
  const first = await callRaw((o) => users.getInfo({}, o));
  assert.equal(first.header.get('x-ratelimit-limit'), '3');
  assert.equal(first.header.get('x-ratelimit-remaining'), '2');
  assert.equal((await callRaw((o) => users.getAccounts({}, o))).header.get('x-ratelimit-remaining'), '1');
  const tariff = await callRaw((o) => users.getUserTariff({}, o));
  assert.equal(tariff.header.get('x-ratelimit-remaining'), '0');
  const usersGroup = tariff.response.unaryLimits.find((l) => l.methods.includes(`${PACKAGE}.UsersService/GetInfo`));
  assert.equal(usersGroup.limitPerMinute, 3);
  assert.equal(usersGroup.methods.length, 6, 'the six UsersService methods in one group');
  const over = await callRaw((o) => users.getMarginAttributes({ accountId: firstAccount }, o));
  assert.equal(over.error?.code, Status.RESOURCE_EXHAUSTED);
  assert.equal(over.error?.details, '80002');
  // Another service keeps its own (unlimited) budget.
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  assert.equal((await callRaw((o) => orders.getOrders({ accountId: firstAccount }, o))).error, undefined);
});

test('config/real-limits.json: the published per-service and per-method limits, as GetUserTariff reports them', async () => {
  const fragment = JSON.parse(readFileSync(join(sourceDir, 'config', 'real-limits.json'), 'utf8'));
  const server = await serverWith((c) => { c.rate_limits = fragment.rate_limits; });
  const tariff = await sdk(server, 't.demo.full').users.getUserTariff({});
  const limitOf = (method) => tariff.unaryLimits.find((l) => l.methods.includes(`${PACKAGE}.${method}`))?.limitPerMinute;
  assert.equal(limitOf('OrdersService/PostOrder'), 900);
  assert.equal(limitOf('OrdersService/PostOrderAsync'), 600);
  assert.equal(limitOf('OrdersService/GetOrders'), 200);
  assert.equal(limitOf('OrdersService/GetOrderState'), 100);
  assert.equal(limitOf('MarketDataService/GetLastPrices'), 600);
  assert.equal(limitOf('InstrumentsService/Shares'), 200);
  const ordersShared = tariff.unaryLimits.find((l) => l.methods.includes(`${PACKAGE}.OrdersService/GetOrderState`));
  assert.ok(ordersShared.methods.includes(`${PACKAGE}.OrdersService/ReplaceOrder`), 'one shared OrdersService budget');
  assert.ok(!ordersShared.methods.includes(`${PACKAGE}.OrdersService/PostOrder`), 'PostOrder counted on its own');
});

test('GetUserTariff reports each stream method with its own limit and its own open count', async () => {
  const server = await serverWith(() => {});
  const api = sdk(server, 't.demo.full');
  const controller = new AbortController();
  const consume = (iterable) => (async () => { try { for await (const _ of iterable) { /* drain */ } } catch { /* aborted */ } })();
  const running = [];
  for (let i = 0; i < 3; i++)
    running.push(consume(api.ordersStream.orderStateStream({ accounts: [] }, { signal: controller.signal })));
  for (let i = 0; i < 2; i++)
    running.push(consume(api.ordersStream.tradesStream({ accounts: [] }, { signal: controller.signal })));
  await sleep(300);
  const tariff = await api.users.getUserTariff({});
  controller.abort();
  await Promise.all(running);
  const byStream = Object.fromEntries(tariff.streamLimits.flatMap((l) => l.streams.map((s) => [s.split('/')[1], l])));
  assert.equal(byStream.OrderStateStream.open, 3);
  assert.equal(byStream.TradesStream.open, 2);
  for (const limit of tariff.streamLimits) {
    // The market-data service's two stream methods share one limit, as limits.md counts them.
    const marketData = limit.streams.every((s) => s.includes('MarketDataStreamService'));
    assert.equal(limit.streams.length, marketData ? 2 : 1, 'a stream method per limit: the limit is per method');
    assert.ok(limit.open <= limit.limit, `open ${limit.open} within the limit ${limit.limit}`);
  }
});

test('an oversized header gets an error for its call; the other calls on the connection go on', async () => {
  const server = await serverWith(() => {});
  const client = ownConnection(server.plainPort, 'headers');
  const md = new grpc.Metadata();
  md.set('authorization', 'Bearer t.demo.full');
  const streamPath = `/${PACKAGE}.OrdersStreamService/OrderStateStream`;
  const stream = client.makeServerStreamRequest(streamPath, (b) => b, (b) => b, Buffer.alloc(0), md, {});
  let streamError;
  stream.on('error', (e) => { streamError = e; });
  stream.on('data', () => {});
  await sleep(300);
  const big = new grpc.Metadata();
  big.set('authorization', 'Bearer t.demo.full');
  big.set('x-padding', 'p'.repeat(20000)); // over limits.max_metadata_bytes (8192), under gRPC's own limit
  const oversized = await unary(client, GET_INFO, big, 5000);
  assert.equal(oversized.code, grpc.status.INVALID_ARGUMENT, JSON.stringify(oversized));
  assert.equal(oversized.details, '30102');
  await sleep(300);
  assert.equal(streamError, undefined, 'the stream on the same connection is still open');
  assert.equal((await unary(client, GET_INFO, md, 5000)).code, 0);
  stream.cancel();
  client.close();
});

/** CPU seconds the process has used, user and system (/proc/PID/stat counts in ticks of 1/100 s). */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (ms) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1), count: sorted.length };
};
const figures = (l) => `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(2)} ms over ${l.count} calls`;

/** `count` sequential GetOrders of a well-behaved client, each of which must succeed: milliseconds. */
async function latencies(api, count) {
  const ms = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    // A stalled server fails the call (and the test) rather than hanging it.
    await api.orders.getOrders({ accountId: firstAccount }, { signal: AbortSignal.timeout(10000) });
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return ms;
}

/**
 * One round of attacks (hostile-attackers.mjs, in a process of its own) while the well-behaved
 * client makes `calls` calls; then the attackers close everything and the server has a moment to
 * settle.
 */
async function attackRound(server, api, calls) {
  const attackers = fork(new URL('./hostile-attackers.mjs', import.meta.url), [JSON.stringify({
    port: server.plainPort, payloadBytes: 4096, account: firstAccount, instrumentUid: sber.uid,
    sandboxAccount: demoConfig.accounts.find((a) => a.sandbox).id })], { execArgv: [] });
  const killAttackers = () => attackers.kill('SIGKILL');
  process.on('exit', killAttackers);
  const exited = new Promise((_, reject) => attackers.once('exit', (code, signal) =>
    reject(new Error(`the attackers exited (${code ?? signal}) before they reported`))));
  const nextMessage = async (ms) => {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no word from the attackers in ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([once(attackers, 'message').then(([m]) => m), exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    assert.deepEqual(await nextMessage(30000), { ready: true });
    // The attackers' own client work runs at a lower priority while the client is measured: it
    // shares this machine's CPUs with the server and the measured client, where real attackers
    // would bring their own machines. The server serves them at its usual priority, so what they
    // cost it still shows.
    setPriority(attackers.pid, 10);
    let rssPeak = rssMiB(server.pid);
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMiB(server.pid)); }, 50);
    const cpuStart = cpuSeconds(server.pid);
    const wallStart = Date.now();
    let ms;
    try {
      ms = await latencies(api, calls);
    } finally {
      clearInterval(sampler);
      attackers.send('stop');
    }
    const serverCpu = (cpuSeconds(server.pid) - cpuStart) / ((Date.now() - wallStart) / 1000);
    const { tally, idle } = await nextMessage(30000);
    await sleep(1500);
    return { ms, tally, idle, rssPeak, serverCpu, rssAfter: rssMiB(server.pid) };
  } finally {
    exited.catch(() => {});
    killAttackers();
    process.off('exit', killAttackers);
  }
}

test('a well-behaved client keeps its latency while hostile clients attack, and memory returns to its baseline', async () => {
  const server = await serverWith(() => {});
  const api = sdk(server, 't.demo.full');
  // A few resting orders, so that the measured GetOrders has something to list.
  for (let i = 0; i < 3; i++) {
    await api.orders.postOrder({ accountId: firstAccount, instrumentId: sber.uid, quantity: 1,
      price: { units: Math.trunc(Number(sber.reference_price) * 0.9), nano: 0 },
      direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID() });
  }
  await latencies(api, 50); // warm up: connection, first allocations, JIT on both sides
  await sleep(300);
  const rssBefore = rssMiB(server.pid);
  const CALLS = 400;
  const alone = summary(await latencies(api, CALLS));
  console.log(`hostile latency: alone ${figures(alone)}; RSS ${rssBefore.toFixed(1)} MiB`);
  // Two rounds: what the first took must be given back to be taken again by the second.
  const rounds = [];
  for (let round = 1; round <= 2; round++) {
    const r = await attackRound(server, api, CALLS);
    rounds.push(r);
    console.log(`hostile latency: under attack, round ${round}: ${figures(summary(r.ms))}; the server used ` +
      `${(100 * r.serverCpu).toFixed(0)}% of a CPU; RSS peak ${r.rssPeak.toFixed(1)} MiB, ` +
      `${r.rssAfter.toFixed(1)} MiB after the attackers closed`);
    console.log(`hostile attackers, round ${round}: ${r.idle.tcp} idle TCP and ${r.idle.http2} idle HTTP/2 ` +
      `connections; calls ${JSON.stringify(r.tally)}`);
  }
  const attacked = summary(rounds.flatMap((r) => r.ms));
  console.log(`hostile latency: under attack, both rounds: ${figures(attacked)}`);

  // The server is up and answers.
  assert.equal(process.kill(server.pid, 0), true);
  assert.equal((await api.users.getInfo({})).tariff, 'investor');
  // Every attack ran throughout and got the answer its abuse calls for: never a crash, a hang or a
  // transport error where a T-Invest code is due.
  for (const { tally, idle } of rounds) {
    assert.deepEqual(idle, { tcp: 200, http2: 20 });
    for (let i = 0; i < 3; i++) assert.deepEqual(Object.keys(tally[`flood-${i}`]), [`${grpc.status.UNAUTHENTICATED}:40003`]);
    assert.deepEqual(Object.keys(tally.headers), [`${grpc.status.INVALID_ARGUMENT}:30102`]);
    // gRPC closes the connection: the offending call fails with gRPC's text, a call that was on
    // its way on the same connection at that moment sees the connection drop.
    const huge = Object.keys(tally['huge-headers']);
    assert.ok(huge.includes(`${grpc.status.RESOURCE_EXHAUSTED}:received initial metadata size exceeds limit`), huge.join());
    for (const outcome of huge)
      assert.ok([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE].includes(Number(outcome.split(':')[0])), outcome);
    assert.deepEqual(Object.keys(tally.strings), [`${grpc.status.INVALID_ARGUMENT}:30102`]);
    assert.deepEqual(Object.keys(tally.times).sort(), ['0:', `${grpc.status.INVALID_ARGUMENT}:30061`]);
  }
  // Starvation shows as calls waiting behind the attackers' for seconds: a server that slows
  // every call moves the p99, one long stall moves only the maximum (a call that waits 10 s fails
  // the test by itself). Fair service costs some latency too: the attackers' client, the server's
  // threads and the measured client share two CPUs (more under `ctest -j 2`), so a sanitizer
  // build's call can wait several scheduler slices of a few milliseconds each. The bounds allow
  // for that many times over and still sit far below a stall: a p99 of 20 times the p99 measured
  // alone and at least 250 ms (we measured 11–60 ms), and no call over 2 s (we measured at most
  // 154 ms).
  const bound = Math.max(20 * alone.p99, 250);
  assert.ok(attacked.p99 <= bound, `p99 under attack ${attacked.p99.toFixed(1)} ms, over ${bound.toFixed(1)} ms`);
  assert.ok(attacked.max <= 2000, `a call under attack took ${attacked.max.toFixed(0)} ms`);
  // Memory: what an attack takes is given back once the attackers have gone. The allocator keeps
  // part of it for reuse (glibc's arenas; the sanitizer's allocator keeps all it has touched), so
  // RSS settles above its baseline after the first round, and the second round, as large as the
  // first, reuses that memory: it takes less than half as much again. Memory held per call or per
  // connection would take as much again in every round.
  const [first, second] = rounds;
  const firstGrowth = first.rssAfter - rssBefore;
  const secondGrowth = second.rssAfter - first.rssAfter;
  assert.ok(firstGrowth < 48, `RSS stayed ${firstGrowth.toFixed(1)} MiB above its baseline`);
  assert.ok(secondGrowth < Math.max(8, firstGrowth / 2),
    `RSS grew by ${firstGrowth.toFixed(1)} MiB in the first round and by ${secondGrowth.toFixed(1)} MiB more in the second`);
});
