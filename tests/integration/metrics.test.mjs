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
