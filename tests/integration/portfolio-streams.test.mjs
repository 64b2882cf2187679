// PortfolioStream and PositionsStream (OperationsStreamService) through the npm SDK.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import { OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { PortfolioSubscriptionStatus, PositionsAccountSubscriptionStatus, OperationsStreamServiceDefinition }
  from 'tinkoff-invest-api/dist/generated/operations.js';
import { startServer, sdk, rawClient, closeClients, demoConfig, demoInstruments, UUID_RE } from './harness.mjs';

const [firstAccount, secondAccount] = demoConfig.accounts.map((a) => a.id);
const etf = demoInstruments.find((i) => i.type === 'etf');
let server;

function price(fraction, instrument = etf) {
  const tick = Number(instrument.min_price_increment);
  const steps = Math.round((Number(instrument.reference_price) * fraction) / tick);
  const nanos = Math.round(steps * tick * 1e9);
  return { units: Math.trunc(nanos / 1e9), nano: nanos % 1e9 };
}

function marketBuy(accountId, quantity = 1) {
  return {
    instrumentId: etf.uid, quantity, direction: OrderDirection.ORDER_DIRECTION_BUY, accountId,
    orderType: OrderType.ORDER_TYPE_MARKET, orderId: randomUUID(),
  };
}

function restingBuy(accountId) {
  return {
    instrumentId: etf.uid, quantity: 1, price: price(0.9), direction: OrderDirection.ORDER_DIRECTION_BUY,
    accountId, orderType: OrderType.ORDER_TYPE_LIMIT, orderId: randomUUID(),
  };
}

/** The SDK (contract 1.24) has no helper for this service: its generated client, with the token. */
function withStreams(api, srv, token, { sandbox = false } = {}) {
  api.operationsStream = rawClient(srv, OperationsStreamServiceDefinition, token, { sandbox });
  return api;
}

/** Opens an operations stream and reads it in the background; `next(predicate)` waits for a match. */
function openStream(api, method, request) {
  const controller = new AbortController();
  const messages = [];
  const waiters = [];
  let ended = null;
  const done = (async () => {
    try {
      for await (const message of api.operationsStream[method](request, { signal: controller.signal })) {
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
    get ended() { return ended; },
    async next(predicate, timeoutMs = 5000, from = 0) {
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
    done,
  };
}

before(async () => { server = await startServer(); });
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.output().slice(-4000));
});

test('PortfolioStream: a status per account, the current portfolio, then the portfolio after a fill equal to GetPortfolio', async () => {
  const api = withStreams(sdk(server, 't.demo.one'), server, 't.demo.one');
  const stream = openStream(api, 'portfolioStream', { accounts: [firstAccount, secondAccount, 'no-such-account'] });
  const sub = (await stream.next((m) => m.subscriptions)).subscriptions;
  assert.match(sub.streamId, UUID_RE);
  assert.match(sub.trackingId, UUID_RE);
  assert.deepEqual(sub.accounts.map((a) => [a.accountId, a.subscriptionStatus]), [
    [firstAccount, PortfolioSubscriptionStatus.PORTFOLIO_SUBSCRIPTION_STATUS_SUCCESS],
    // The token cannot see the second account: not found, as for an id that names none.
    [secondAccount, PortfolioSubscriptionStatus.PORTFOLIO_SUBSCRIPTION_STATUS_ACCOUNT_NOT_FOUND],
    ['no-such-account', PortfolioSubscriptionStatus.PORTFOLIO_SUBSCRIPTION_STATUS_ACCOUNT_NOT_FOUND],
  ]);
  const initial = (await stream.next((m) => m.portfolio)).portfolio;
  assert.deepEqual(initial, await api.operations.getPortfolio({ accountId: firstAccount }));

  const before = stream.messages.length;
  await api.orders.postOrder(marketBuy(firstAccount, 3));
  const expected = await api.operations.getPortfolio({ accountId: firstAccount });
  const held = (p) => p.positions.find((x) => x.instrumentUid === etf.uid);
  assert.ok(held(expected), 'the fill is in GetPortfolio');
  const streamed = (await stream.next((m) => m.portfolio && held(m.portfolio)?.quantity.units >= 3, 5000, before)).portfolio;
  assert.deepEqual(streamed, expected);
  assert.ok(stream.messages.every((m) => !m.portfolio || m.portfolio.accountId === firstAccount),
    'nothing of an account the stream does not follow');
  await stream.close();
});

test('PositionsStream: initial positions on request, then the changed entries of every change', async () => {
  const api = withStreams(sdk(server, 't.demo.full'), server, 't.demo.full');
  const stream = openStream(api, 'positionsStream', { accounts: [secondAccount], withInitialPositions: true });
  const sub = (await stream.next((m) => m.subscriptions)).subscriptions;
  assert.deepEqual(sub.accounts.map((a) => [a.accountId, a.subscriptionStatus]),
    [[secondAccount, PositionsAccountSubscriptionStatus.POSITIONS_SUBSCRIPTION_STATUS_SUCCESS]]);
  const initial = (await stream.next((m) => m.initialPositions)).initialPositions;
  assert.deepEqual(initial, await api.operations.getPositions({ accountId: secondAccount }));

  // A resting buy blocks cash: a position message with the rouble entry, nothing held yet.
  const resting = restingBuy(secondAccount);
  const placed = await api.orders.postOrder(resting);
  const afterBlock = await api.operations.getPositions({ accountId: secondAccount });
  const blocked = (await stream.next((m) => m.position?.money.some((x) => x.blockedValue.units > 0))).position;
  assert.equal(blocked.accountId, secondAccount);
  assert.deepEqual(blocked.money[0].availableValue, afterBlock.money[0]);
  assert.deepEqual(blocked.money[0].blockedValue, afterBlock.blocked[0]);
  assert.ok(blocked.date instanceof Date && Math.abs(blocked.date.getTime() - Date.now()) < 60000);
  assert.deepEqual(blocked.securities.map((s) => [s.instrumentUid, s.balance, s.blocked]), [[etf.uid, 0, 0]]);

  // A fill: the security with its balance, and the cash after it, as GetPositions shows them.
  await api.orders.postOrder(marketBuy(secondAccount, 2));
  const afterFill = await api.operations.getPositions({ accountId: secondAccount });
  const filled = (await stream.next((m) => m.position?.securities.some((s) => s.balance === 2))).position;
  assert.deepEqual(filled.securities, afterFill.securities);
  assert.deepEqual(filled.money.map((m) => m.availableValue), afterFill.money);
  assert.equal(filled.futures.length, 0);
  await api.orders.cancelOrder({ accountId: secondAccount, orderId: placed.orderId });
  await stream.close();

  // Without with_initial_positions the first message after the subscription is a change.
  const plain = openStream(api, 'positionsStream', { accounts: [secondAccount] });
  await plain.next((m) => m.subscriptions);
  await api.orders.postOrder(marketBuy(secondAccount, 1));
  await plain.next((m) => m.position?.securities.some((s) => s.balance === 3));
  assert.ok(plain.messages.every((m) => !m.initialPositions));
  await plain.close();
});

test('a pay-in reaches both streams; an empty account list follows every readable account of the endpoint', async () => {
  const sandbox = demoConfig.accounts.find((a) => a.sandbox).id;
  const brokerApi = withStreams(sdk(server, 't.demo.full'), server, 't.demo.full');
  const brokerPositions = openStream(brokerApi, 'positionsStream', { accounts: [] });
  const brokerSub = (await brokerPositions.next((m) => m.subscriptions)).subscriptions;
  assert.deepEqual(brokerSub.accounts.map((a) => a.accountId).sort(),
    demoConfig.accounts.filter((a) => !a.sandbox).map((a) => a.id).sort(), 'the broker endpoint: broker accounts only');
  await brokerPositions.close();
  const brokerPortfolio = openStream(brokerApi, 'portfolioStream', { accounts: [sandbox] });
  assert.deepEqual((await brokerPortfolio.next((m) => m.subscriptions)).subscriptions.accounts.map((a) => a.subscriptionStatus),
    [PortfolioSubscriptionStatus.PORTFOLIO_SUBSCRIPTION_STATUS_ACCOUNT_NOT_FOUND], 'a sandbox account is unknown there');
  await brokerPortfolio.close();

  const api = withStreams(sdk(server, 't.demo.full', { sandbox: true }), server, 't.demo.full', { sandbox: true });
  const positions = openStream(api, 'positionsStream', { accounts: [] });
  const sub = (await positions.next((m) => m.subscriptions)).subscriptions;
  assert.deepEqual(sub.accounts.map((a) => a.accountId).sort(),
    demoConfig.accounts.filter((a) => a.sandbox).map((a) => a.id).sort(), 'the sandbox endpoint: sandbox accounts only');
  const portfolio = openStream(api, 'portfolioStream', { accounts: [sandbox] });
  await portfolio.next((m) => m.portfolio);
  const from = portfolio.messages.length;
  await api.sandbox.sandboxPayIn({ accountId: sandbox, amount: { currency: 'rub', units: 1000, nano: 0 } });
  const expected = await api.sandbox.getSandboxPortfolio({ accountId: sandbox });
  const money = (await positions.next((m) => m.position?.accountId === sandbox)).position.money;
  assert.deepEqual(money.map((m) => m.availableValue), (await api.sandbox.getSandboxPositions({ accountId: sandbox })).money);
  assert.deepEqual((await portfolio.next((m) => m.portfolio, 5000, from)).portfolio, expected);
  await positions.close();
  await portfolio.close();
});

test('ping_settings: pings on the period asked for; a period outside 5000-180000 is refused', async () => {
  const api = withStreams(sdk(server, 't.demo.full'), server, 't.demo.full');
  const stream = openStream(api, 'portfolioStream', { accounts: [firstAccount], pingSettings: { pingDelayMs: 5000 } });
  const sub = (await stream.next((m) => m.subscriptions)).subscriptions;
  const ping = (await stream.next((m) => m.ping, 8000)).ping;
  assert.equal(ping.streamId, sub.streamId);
  await stream.close();
  const bad = openStream(api, 'positionsStream', { accounts: [firstAccount], pingSettings: { pingDelayMs: 1000 } });
  await bad.done;
  assert.equal(bad.ended.error?.code, Status.INVALID_ARGUMENT);
  assert.equal(bad.ended.error.details, '30102');
});

test('two streams of each method per token (limits.md); the third is refused with 80001', async () => {
  const api = withStreams(sdk(server, 't.demo.readonly'), server, 't.demo.readonly');
  for (const method of ['portfolioStream', 'positionsStream']) {
    const open = [openStream(api, method, { accounts: [firstAccount] }), openStream(api, method, { accounts: [firstAccount] })];
    for (const s of open) await s.next((m) => m.subscriptions);
    const third = openStream(api, method, { accounts: [firstAccount] });
    await third.done;
    assert.equal(third.ended.error?.code, Status.RESOURCE_EXHAUSTED, method);
    assert.match(third.ended.error.details, /80001/);
    await open[0].close();
    // A closed stream frees its place.
    const again = openStream(api, method, { accounts: [firstAccount] });
    await again.next((m) => m.subscriptions, 5000).catch(async () => {
      // The close may take a moment to reach the server: try once more.
      await new Promise((r) => setTimeout(r, 300));
      await openStream(api, method, { accounts: [firstAccount] }).next((m) => m.subscriptions);
    });
    await again.close();
    await open[1].close();
  }
});

// A stream whose client goes away as it opens: the close could reach the server while the
// subscription was still being set up, whose callback then freed what the setup went on using
// (a use-after-free the sanitizer build caught). Many quick cancels in a row, of every
// subscription-with-setup stream the server has; the server must stay up and stop cleanly.
test('streams cancelled as they open, many times in a row, leave the server running', async () => {
  const api = withStreams(sdk(server, 't.demo.full'), server, 't.demo.full');
  for (let round = 0; round < 40; round++) {
    const streams = ['portfolioStream', 'positionsStream'].map((method) =>
      openStream(api, method, { accounts: [firstAccount] }));
    const controller = new AbortController();
    const orders = (async () => {
      try {
        for await (const _ of api.ordersStream.orderStateStream({ accounts: [firstAccount] }, { signal: controller.signal })) break;
      } catch { /* cancelled */ }
    })();
    await new Promise((r) => setTimeout(r, round % 4));
    controller.abort();
    await Promise.all([...streams.map((s) => s.close()), orders]);
  }
  // Still serving, with room for new streams (every cancelled one gave its place back).
  const after = openStream(api, 'portfolioStream', { accounts: [firstAccount] });
  await after.next((m) => m.subscriptions, 10000);
  await after.close();
});

// Two positions readers that read nothing are cut off; one is then drained (the cut-off status
// after what was buffered), the other is still cut off and unread when the server stops: the stop
// must be clean (a stream whose write fails at stop starts nothing more on its call).
test('a slow reader: portfolios are conflated (it ends with the newest), positions cut it off with RESOURCE_EXHAUSTED; the server stops cleanly with a cut-off stream unread', async () => {
  const config = structuredClone(demoConfig);
  config.limits.stream_backlog_messages = 1024;
  const path = join(tmpdir(), `tinvestd-pstreams-slow-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  const own = await startServer({ config: path });
  let unreadEnd = null;
  try {
    const api = withStreams(sdk(own, 't.demo.full'), own, 't.demo.full');
    const portfolioReader = new AbortController();
    const slowPortfolio = api.operationsStream.portfolioStream({ accounts: [firstAccount] },
      { signal: portfolioReader.signal })[Symbol.asyncIterator]();
    assert.ok((await slowPortfolio.next()).value.subscriptions);
    let trailer = null;
    const slowPositions = api.operationsStream.positionsStream({ accounts: [firstAccount] },
      { onTrailer: (t) => { trailer = t; } })[Symbol.asyncIterator]();
    assert.ok((await slowPositions.next()).value.subscriptions);
    const unreadPositions = api.operationsStream.positionsStream({ accounts: [firstAccount] })[Symbol.asyncIterator]();
    assert.ok((await unreadPositions.next()).value.subscriptions);

    // Resting buys, a few at a time (each batch is a position change: cash blocked), until the
    // server has cut both positions readers off; the client's own buffers take a few hundred
    // kilobytes first. A cut-off stream counts as open until its client has taken its status.
    const cutOffs = () => own.output().split('slow consumer cut off').length - 1;
    let placed = 0;
    while (cutOffs() < 2) {
      assert.ok(placed < 20000, 'the slow positions readers are cut off');
      const orders = Array.from({ length: 200 }, () => restingBuy(firstAccount));
      for (let i = 0; i < orders.length; i += 4)
        await Promise.all(orders.slice(i, i + 4).map((o) => api.orders.postOrderAsync(o)));
      placed += orders.length;
    }
    await new Promise((r) => setTimeout(r, 300));
    const expected = await api.operations.getPortfolio({ accountId: firstAccount });

    let last = null;
    let portfolios = 0;
    for (;;) {
      const { value } = await slowPortfolio.next();
      if (value.portfolio) { last = value.portfolio; portfolios++; }
      if (last && JSON.stringify(last) === JSON.stringify(expected)) break;
      assert.ok(portfolios < placed, 'conflated: far fewer portfolios than changes');
    }
    assert.deepEqual(last, expected, 'the newest portfolio arrives, the stream still open');

    const error = await (async () => {
      try {
        for (;;) { const { done } = await slowPositions.next(); if (done) return null; }
      } catch (e) { return e; }
    })();
    assert.equal(error?.code, Status.RESOURCE_EXHAUSTED);
    assert.equal(error.details, '80002');
    assert.match(trailer?.get('message') ?? '', /too slowly/);
    portfolioReader.abort();
    await slowPortfolio.next().catch(() => {});
    // The other reader is drained only after the stop.
    unreadEnd = (async () => {
      try {
        for (;;) { const { done } = await unreadPositions.next(); if (done) return 'done'; }
      } catch (e) { return e; }
    });
  } finally {
    const status = await own.stop();
    assert.deepEqual(status, { code: 0, signal: null }, own.output().slice(-4000));
  }
  const end = await unreadEnd();
  assert.ok(end instanceof Error, 'the unread stream ends with an error, not as complete');
});
