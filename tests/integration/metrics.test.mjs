// /metrics on the HTTP listener (docs/METRICS.md): after orders over gRPC and a call over REST,
// the live server's Prometheus text passes `promtool check metrics` (Debian's prometheus package,
// installed by scripts/install-deps.sh) and counts what was done: the calls by method and code,
// PostOrderAsync's stages, the journal's syncs, the batches, the book depth of the traded share.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { startServer, sdk, closeClients, demoConfig, demoInstruments } from './harness.mjs';

const account = demoConfig.accounts[0].id;
const share = demoInstruments.find((i) => i.type === 'share');
after(() => closeClients());

const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

test('/metrics of a live server passes promtool and counts what was done', async (t) => {
  const server = await startServer({ args: ['--http-listen', '127.0.0.1:0'] });
  try {
    const api = sdk(server, 't.demo.full');
    for (let i = 0; i < 5; i++)
      await api.orders.postOrderAsync({ accountId: account, instrumentId: share.uid, orderId: randomUUID(),
        quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET });
    await assert.rejects(api.orders.getOrderState({ accountId: account, orderId: 'no such order' }));
    const rest = await fetch(`http://127.0.0.1:${server.httpPort}/rest/tinkoff.public.invest.api.contract.v1.UsersService/GetAccounts`,
      { method: 'POST', headers: { authorization: 'Bearer t.demo.full', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(rest.status, 200);
    const answer = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.ok(answer.headers.get('x-tracking-id'));
    const text = await answer.text();
    const value = (re) => {
      const m = text.match(re);
      return m ? Number(m[1]) : NaN;
    };
    const post = 'method="/tinkoff.public.invest.api.contract.v1.OrdersService/PostOrderAsync"';
    assert.equal(value(new RegExp(`^tinvestd_grpc_calls_total\\{${post},code="0"\\} (\\d+)$`, 'm')), 5);
    assert.ok(/^tinvestd_grpc_calls_total\{method="[^"]*GetOrderState",code="[1-9]\d*"\} 1$/m.test(text), 'the refused call by its code');
    assert.ok(value(/^tinvestd_grpc_calls_total\{method="[^"]*UsersService\/GetAccounts",code="0"\} (\d+)$/m) >= 1, 'the REST call went through gRPC');
    assert.equal(value(new RegExp(`^tinvestd_grpc_call_duration_seconds_count\\{${post}\\} (\\d+)$`, 'm')), 5);
    assert.ok(value(/^tinvestd_post_order_async_stage_seconds_count\{stage="[a-z_]+"\} (\d+)$/m) >= 5);
    assert.ok(value(/^tinvestd_journal_fdatasync_seconds_count (\d+)$/m) >= 1);
    assert.ok(value(/^tinvestd_engine_batch_jobs_count (\d+)$/m) >= 5);
    assert.ok(value(new RegExp(`^tinvestd_book_levels\\{instrument_uid="${share.uid}",side="ask"\\} (\\d+)$`, 'm')) >= 1);
    if (!promtool) {
      t.diagnostic('promtool is not installed (scripts/install-deps.sh installs it): the text was not linted');
      return;
    }
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
  } finally {
    await server.stop();
  }
});

// The slowest subscribers: a raw HTTP/2 client opens OrderStateStream with a flow-control window
// of 0 bytes, so it never reads a message; the orders placed meanwhile pile up in its backlog, and
// /metrics shows that stream at the top of tinvestd_stream_backlog_messages, growing, with its
// limit (stream_backlog_messages); no token or account in its labels.
test('/metrics names the stream that stops reading, its backlog growing, and its limit', async () => {
  const http2 = await import('node:http2');
  const server = await startServer({ args: ['--http-listen', '127.0.0.1:0'] });
  const session = http2.connect(`http://127.0.0.1:${server.plainPort}`, { settings: { initialWindowSize: 0 } });
  session.on('error', () => {});
  try {
    const req = session.request({
      ':method': 'POST', ':path': '/tinkoff.public.invest.api.contract.v1.OrdersStreamService/OrderStateStream',
      'content-type': 'application/grpc', te: 'trailers', authorization: 'Bearer t.demo.full',
    });
    req.on('error', () => {});
    // OrderStateStreamRequest { accounts: [account] } in one gRPC frame.
    const id = Buffer.from(account);
    const body = Buffer.concat([Buffer.from([0x0a, id.length]), id]);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
    req.end(frame);
    await new Promise((resolve, reject) => { req.on('response', resolve); req.on('close', () => reject(new Error('stream closed'))); });
    const metrics = async () => (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    const top = (text) => {
      const m = /^tinvestd_stream_backlog_messages\{method="([^"]*)",stream="(\d+)"\} (\d+)$/m.exec(text);
      return m ? { method: m[1], stream: m[2], queued: Number(m[3]) } : null;
    };
    const api = sdk(server, 't.demo.full');
    const place = async (n) => {
      for (let i = 0; i < n; i++)
        await api.orders.postOrderAsync({ accountId: account, instrumentId: share.uid, orderId: randomUUID(),
          quantity: 1, direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET });
    };
    await place(10);
    await new Promise((r) => setTimeout(r, 200));
    const first = top(await metrics());
    assert.ok(first, 'a backlog is shown');
    assert.equal(first.method, '/tinkoff.public.invest.api.contract.v1.OrdersStreamService/OrderStateStream');
    assert.ok(first.queued >= 10, `the stalled stream has its messages waiting: ${first.queued}`);
    await place(10);
    await new Promise((r) => setTimeout(r, 200));
    const text = await metrics();
    const second = top(text);
    assert.equal(second.stream, first.stream, 'the same stream stays at the top');
    assert.ok(second.queued >= first.queued + 10, `its backlog grows: ${first.queued} → ${second.queued}`);
    const limit = new RegExp(`^tinvestd_stream_backlog_limit_messages\\{method="[^"]*",stream="${second.stream}"\\} (\\d+)$`, 'm').exec(text);
    assert.equal(Number(limit?.[1]), 4096, 'its limit is stream_backlog_messages');
    assert.ok(!text.includes('t.demo.full') && !text.includes(account), 'no token or account in the labels');
    if (promtool) {
      const lint = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
    }
    req.close();
  } finally {
    session.destroy();
    await server.stop();
  }
});
