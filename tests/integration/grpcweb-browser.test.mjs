// gRPC-web from a real browser (docs/PROTOCOL.md, "gRPC-web"): headless Chromium loads
// grpcweb-page.html from this test's own little HTTP server (another origin than tinvestd's), and
// the page's script calls GetAccounts over gRPC-web with fetch() — the CORS preflight, then the
// call — in binary and text mode, and once with a bad token. The page writes what it read into its
// DOM; the test compares the account ids with the gRPC answer and the error with gRPC's. Skipped
// only where Chromium is not installed (scripts/install-deps.sh installs it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import { findChromium } from './cdp.mjs';
import { startServer } from './harness.mjs';

const TOKEN = 't.demo.full';
const PATH = '/tinkoff.public.invest.api.contract.v1.UsersService/GetAccounts';

const chromium = findChromium();

let server;
let page;
let pageOrigin;
before(async () => {
  if (!chromium) return;
  server = await startServer({ args: ['--http-listen', '127.0.0.1:0'] });
  const html = fs.readFileSync(new URL('./grpcweb-page.html', import.meta.url));
  page = http.createServer((req, res) => {
    if (req.url.startsWith('/grpcweb-page.html')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => page.listen(0, '127.0.0.1', resolve));
  // The page's origin differs from the server's by its port: a cross-origin call.
  pageOrigin = `http://127.0.0.1:${page.address().port}`;
});
after(async () => {
  if (page) await new Promise((resolve) => page.close(resolve));
  if (server) assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

// Chromium with nothing of its own (as tests/report/render_check.mjs runs it), its DOM dumped once
// the page's script has finished (virtual time waits for the page's fetches).
function dumpDom(url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tinvestd-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-extensions', `--user-data-dir=${profile}`, '--virtual-time-budget=30000',
    '--dump-dom', url];
  return new Promise((resolve, reject) => {
    const child = spawn(chromium, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fs.rmSync(profile, { recursive: true, force: true });
      resolve({ code, out, err });
    });
  });
}

function grpcAccounts(token) {
  const client = new grpc.Client(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(PATH, (b) => b, (b) => b, Buffer.alloc(0), metadata, (err, reply) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details, message: err.metadata.get('message')[0] }
        : { reply });
    });
  });
}

/** Account ids of a GetAccountsResponse by its field numbers, as the page reads them. */
function ids(reply) {
  const out = [];
  let at = 0;
  const varint = (b) => { let v = 0; let s = 0; let x; do { x = b[at++]; v += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80); return v; };
  while (at < reply.length) {
    const key = varint(reply);
    assert.equal(key & 7, 2);
    const len = varint(reply);
    const account = reply.subarray(at, at + len);
    at += len;
    if (key >>> 3 !== 1) continue;
    let i = 0;
    while (i < account.length) {
      const k = account[i++];
      let l = 0; let s = 0; let x;
      do { x = account[i++]; l += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80);
      if (k === 0x0a) out.push(account.subarray(i, i + l).toString('utf8'));
      if ((k & 7) === 2) i += l;
    }
  }
  return out;
}

test('a browser page on another origin calls GetAccounts over gRPC-web', { skip: !chromium && 'chromium is not installed' }, async () => {
  const target = `http://127.0.0.1:${server.httpPort}`;
  const url = `${pageOrigin}/grpcweb-page.html?target=${encodeURIComponent(target)}&token=${TOKEN}`;
  const { code, out, err } = await dumpDom(url);
  assert.equal(code, 0, `chromium exits 0: ${err}`);
  const match = out.match(/<pre id="result">([^<]*)<\/pre>/);
  assert.ok(match, `the page's result in the DOM: ${out.slice(0, 2000)}`);
  const text = match[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  assert.notEqual(text, 'pending', `the page's script finished: ${err}`);
  const result = JSON.parse(text);
  assert.equal(result.error, undefined, `no error in the page: ${result.error}`);
  assert.equal(result.origin, pageOrigin);

  const want = await grpcAccounts(TOKEN);
  const wantIds = ids(want.reply);
  assert.ok(wantIds.length >= 1);
  for (const mode of ['binary', 'text']) {
    const r = result[mode];
    assert.equal(r.http, 200, mode);
    assert.equal(r.grpcStatus, '0', mode);
    assert.equal(r.contentType, mode === 'text' ? 'application/grpc-web-text' : 'application/grpc-web+proto');
    assert.deepEqual(r.ids, wantIds, `${mode}: the page printed the account ids gRPC answers`);
    assert.match(r.trackingId ?? '', /^[0-9a-f-]{36}$/, `${mode}: x-tracking-id readable from the page`);
  }
  const bad = await grpcAccounts('not-a-token');
  assert.equal(result.badToken.grpcStatus, String(bad.code));
  assert.equal(result.badToken.grpcStatus, '16');
  assert.equal(result.badToken.grpcMessage, bad.details);
  assert.equal(result.badToken.message, bad.message);
  assert.deepEqual(result.badToken.ids, []);
});
