// gRPC-web on the HTTP listener (docs/PROTOCOL.md, "gRPC-web"): POST /<package>.<Service>/<Method>
// with hand-built frames over fetch, against the gRPC answer of the same request on the same server.
// - GetAccounts in binary and text mode (the text in one piece and in padded pieces), and over
//   HTTP/2 (TLS), Shares there through a flow-control window smaller than the answer: the reply
//   decoded with protobufjs equals the gRPC reply field by field and byte for byte; the
//   trailer frame says grpc-status 0; x-tracking-id and x-ratelimit-* come as headers;
// - PostOrderAsync: the order placed over gRPC-web, then the same request over gRPC (idempotent:
//   the stored order) gives the same reply;
// - errors as the gRPC answer has them: a bad token (16, 40003 and the message trailer), a rejected
//   order (the T-Invest code of the gRPC answer), trailers-only;
// - answers of the front itself: an unknown method, a bidirectional one, a compressed frame, a
//   length past the limit, broken framing and base64, a JSON subtype;
// - a server stream (OrderStateStream): several messages arrive, each as soon as it is sent, while
//   the stream is open; the client leaving cancels it and the server goes on;
// - the CORS preflight and the headers a browser on another origin may read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { startServer, demoConfig, demoInstruments, sourceDir, certPath } from './harness.mjs';

const PACKAGE = 'tinkoff.public.invest.api.contract.v1';
const TOKEN = 't.demo.full';
const protoDir = join(sourceDir, 'proto');
const [account] = demoConfig.accounts.map((a) => a.id);
const share = demoInstruments.find((i) => i.type === 'share');
// A limit buy well inside the price limits that the market maker does not fill.
const price = { units: String(Math.floor(Number(share.reference_price) * 0.97)), nano: 0 };

const root = new protobuf.Root();
root.resolvePath = (origin, target) =>
  [protoDir, '/usr/include'].map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? target;
root.loadSync(readdirSync(protoDir).filter((f) => f.endsWith('.proto')), { keepCase: false });
root.resolveAll();
const type = (name) => root.lookupType(`${PACKAGE}.${name}`);
const plain = (t, bytes) => t.toObject(t.decode(bytes), { longs: String, enums: String, defaults: true });

const GET_ACCOUNTS = { path: `/${PACKAGE}.UsersService/GetAccounts`, request: type('GetAccountsRequest'),
  reply: type('GetAccountsResponse') };
const POST_ORDER_ASYNC = { path: `/${PACKAGE}.OrdersService/PostOrderAsync`,
  request: type('PostOrderAsyncRequest'), reply: type('PostOrderAsyncResponse') };
const ORDER_STATE_STREAM = { path: `/${PACKAGE}.OrdersStreamService/OrderStateStream`,
  request: type('OrderStateStreamRequest'), reply: type('OrderStateStreamResponse') };

let server;
let client;
before(async () => {
  server = await startServer({ args: ['--http-listen', '127.0.0.1:0', '--https-listen', '127.0.0.1:0'] });
  client = new grpc.Client(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
});
after(async () => {
  client.close();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

const encode = (method, request) => Buffer.from(method.request.encode(method.request.fromObject(request)).finish());

function frame(bytes, flag = 0) {
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

/** base64 text that may hold several padded pieces, as the answer sends it: group by group. */
function fromText(text) {
  assert.equal(text.length % 4, 0, `text body of whole groups: ${text}`);
  const parts = [];
  for (let i = 0; i < text.length; i += 4) parts.push(Buffer.from(text.slice(i, i + 4), 'base64'));
  return Buffer.concat(parts);
}

/** The frames of an answer body: { messages: [Buffer], trailers: {key: value}, trailerFrames }. */
function parseFrames(body) {
  const messages = [];
  let trailers = null;
  let trailerFrames = 0;
  let at = 0;
  while (at < body.length) {
    assert.ok(body.length - at >= 5, 'a whole frame prefix');
    const flag = body[at];
    const len = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + len);
    assert.equal(payload.length, len, 'a whole frame');
    at += 5 + len;
    if (flag === 0x80) {
      assert.equal(trailers, null, 'one trailer frame');
      trailerFrames++;
      trailers = {};
      const text = payload.toString('latin1');
      assert.ok(text.endsWith('\r\n'), `trailer lines end with CRLF: ${JSON.stringify(text)}`);
      for (const line of text.split('\r\n').slice(0, -1)) {
        const colon = line.indexOf(':');
        assert.ok(colon > 0, `a trailer line: ${line}`);
        trailers[line.slice(0, colon)] = line.slice(colon + 1).trim();
      }
    } else {
      assert.equal(flag, 0, 'a data frame');
      assert.equal(trailers, null, 'no message after the trailers');
      messages.push(Buffer.from(payload));
    }
  }
  return { messages, trailers, trailerFrames };
}

/**
 * One gRPC-web call over fetch. `body` is the raw body (frames, or text); returns the HTTP status,
 * headers, the messages and the trailers (from the trailer frame, or from the headers when the
 * answer is trailers-only).
 */
async function web(path, body, { token = TOKEN, mode = 'binary', contentType, headers = {} } = {}) {
  const text = mode === 'text';
  const h = { 'content-type': contentType ?? (text ? 'application/grpc-web-text' : 'application/grpc-web+proto'),
    'x-grpc-web': '1', ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  const response = await fetch(`http://127.0.0.1:${server.httpPort}${path}`, { method: 'POST', headers: h, body });
  const raw = Buffer.from(await response.arrayBuffer());
  const bytes = text ? fromText(raw.toString('latin1')) : raw;
  const parsed = parseFrames(bytes);
  const trailersOnly = response.headers.get('grpc-status') !== null;
  if (trailersOnly) {
    assert.equal(bytes.length, 0, 'a trailers-only answer has no body');
    parsed.trailers = {};
    for (const [key, value] of response.headers) parsed.trailers[key] = value;
  } else {
    assert.equal(parsed.trailerFrames, 1, `${path}: the body ends with one trailer frame`);
  }
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  return { status: response.status, headers: response.headers, trailersOnly, ...parsed };
}

/** The gRPC answer of the same request: { reply: Buffer } or { code, details, message }. */
function grpcCall(method, bytes, token = TOKEN) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(method.path, (b) => b, (b) => b, bytes, metadata, (err, reply) => {
      if (err) resolve({ code: err.code, details: err.details, message: err.metadata.get('message')[0] ?? '' });
      else resolve({ reply });
    });
  });
}

function assertOk(answer) {
  assert.equal(answer.trailers['grpc-status'], '0', JSON.stringify(answer.trailers));
  assert.equal(answer.messages.length, 1);
}

test('GetAccounts in binary mode is the gRPC reply, field by field', async () => {
  const request = encode(GET_ACCOUNTS, {});
  const answer = await web(GET_ACCOUNTS.path, frame(request));
  assertOk(answer);
  assert.equal(answer.trailersOnly, false);
  assert.equal(answer.headers.get('content-type'), 'application/grpc-web+proto');
  assert.match(answer.headers.get('x-tracking-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.match(answer.headers.get('x-ratelimit-remaining') ?? '', /^\d+$/);
  const expose = answer.headers.get('access-control-expose-headers');
  for (const name of ['grpc-status', 'grpc-message', 'message', 'x-tracking-id', 'x-ratelimit-reset']) {
    assert.ok(expose.includes(name), `${name} exposed: ${expose}`);
  }
  const got = plain(GET_ACCOUNTS.reply, answer.messages[0]);
  const want = await grpcCall(GET_ACCOUNTS, request);
  assert.deepEqual(got, plain(GET_ACCOUNTS.reply, want.reply));
  assert.ok(got.accounts.length >= 1 && got.accounts.some((a) => a.id === account));
  // The message bytes are the server's own.
  assert.deepEqual(answer.messages[0], want.reply);
});

test('GetAccounts in text mode: the body in one base64 piece and in padded pieces', async () => {
  const request = encode(GET_ACCOUNTS, { status: 'ACCOUNT_STATUS_OPEN' });
  const want = plain(GET_ACCOUNTS.reply, (await grpcCall(GET_ACCOUNTS, request)).reply);
  assert.ok(want.accounts.length >= 1);
  const whole = frame(request).toString('base64');
  // The prefix and the message each in base64 of their own: padding inside the text.
  const pieces = frame(request).subarray(0, 5).toString('base64') + frame(request).subarray(5).toString('base64');
  assert.ok(pieces.indexOf('=') < pieces.length - 2, `padding inside: ${pieces}`);
  for (const [body, contentType] of [[whole, 'application/grpc-web-text'],
    [pieces, 'application/grpc-web-text+proto']]) {
    const answer = await web(GET_ACCOUNTS.path, body, { mode: 'text', contentType });
    assertOk(answer);
    assert.equal(answer.headers.get('content-type'), contentType);
    assert.deepEqual(plain(GET_ACCOUNTS.reply, answer.messages[0]), want);
  }
  // A text body split into padded pieces that end inside the frame prefix.
  const bytes = frame(encode(GET_ACCOUNTS, { status: 'ACCOUNT_STATUS_OPEN' }));
  const split = bytes.subarray(0, 2).toString('base64') + bytes.subarray(2).toString('base64');
  assert.ok(split.slice(0, 4).endsWith('='), split);
  const answer = await web(GET_ACCOUNTS.path, split, { mode: 'text' });
  assertOk(answer);
  assert.deepEqual(plain(GET_ACCOUNTS.reply, answer.messages[0]),
    plain(GET_ACCOUNTS.reply, (await grpcCall(GET_ACCOUNTS, encode(GET_ACCOUNTS, { status: 'ACCOUNT_STATUS_OPEN' }))).reply));
});

/** One gRPC-web call over HTTP/2 (TLS): [headers, body]. */
function h2Call(session, path, body) {
  const stream = session.request({ ':method': 'POST', ':path': path,
    'content-type': 'application/grpc-web+proto', authorization: `Bearer ${TOKEN}`,
    'content-length': String(body.length) });
  stream.end(body);
  return new Promise((resolve, reject) => {
    let h;
    const chunks = [];
    stream.on('response', (got) => { h = got; });
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => resolve([h, Buffer.concat(chunks)]));
    stream.on('error', reject);
  });
}

test('over HTTP/2 (TLS): GetAccounts, and Shares through a flow-control window smaller than it', async () => {
  // A window of 256 bytes: the answer goes out in pieces as the client grants room.
  const session = http2.connect(`https://127.0.0.1:${server.httpsPort}`, { ca: readFileSync(certPath),
    servername: 'localhost', settings: { initialWindowSize: 256 } });
  try {
    const request = encode(GET_ACCOUNTS, {});
    const [headers, raw] = await h2Call(session, GET_ACCOUNTS.path, frame(request));
    assert.equal(headers[':status'], 200);
    assert.equal(headers['content-type'], 'application/grpc-web+proto');
    assert.match(headers['x-tracking-id'] ?? '', /^[0-9a-f-]{36}$/);
    const parsed = parseFrames(raw);
    assert.equal(parsed.trailers['grpc-status'], '0');
    assert.deepEqual(parsed.messages[0], (await grpcCall(GET_ACCOUNTS, request)).reply);

    const shares = { path: `/${PACKAGE}.InstrumentsService/Shares`, request: type('InstrumentsRequest') };
    const sharesRequest = encode(shares, { instrumentStatus: 'INSTRUMENT_STATUS_ALL' });
    const [sharesHeaders, sharesRaw] = await h2Call(session, shares.path, frame(sharesRequest));
    assert.equal(sharesHeaders[':status'], 200);
    const sharesParsed = parseFrames(sharesRaw);
    assert.equal(sharesParsed.trailers['grpc-status'], '0');
    assert.ok(sharesParsed.messages[0].length > 1024, `${sharesParsed.messages[0].length} bytes`);
    assert.deepEqual(sharesParsed.messages[0], (await grpcCall(shares, sharesRequest)).reply);
  } finally {
    session.close();
  }
});

test('PostOrderAsync over gRPC-web places the order gRPC then finds under the same key', async () => {
  const orderId = randomUUID();
  const request = encode(POST_ORDER_ASYNC, { instrumentId: share.uid, quantity: '1',
    direction: 'ORDER_DIRECTION_BUY', accountId: account, orderType: 'ORDER_TYPE_LIMIT', price, orderId });
  const answer = await web(POST_ORDER_ASYNC.path, frame(request));
  assertOk(answer);
  const got = plain(POST_ORDER_ASYNC.reply, answer.messages[0]);
  assert.equal(got.orderRequestId, orderId);
  assert.equal(got.executionReportStatus, 'EXECUTION_REPORT_STATUS_NEW');
  // The same request over gRPC: the stored order (idempotency), the same reply.
  const again = await grpcCall(POST_ORDER_ASYNC, request);
  assert.ok(again.reply, JSON.stringify(again));
  assert.deepEqual(got, plain(POST_ORDER_ASYNC.reply, again.reply));
});

test('errors are the gRPC answer: status, T-Invest code and message trailer', async () => {
  const request = encode(GET_ACCOUNTS, {});
  const bad = await web(GET_ACCOUNTS.path, frame(request), { token: 'not-a-token' });
  const want = await grpcCall(GET_ACCOUNTS, request, 'not-a-token');
  assert.equal(bad.trailersOnly, true, 'the server answers errors trailers-only, and so does gRPC-web');
  assert.equal(bad.trailers['grpc-status'], '16');
  assert.equal(bad.trailers['grpc-status'], String(want.code));
  assert.equal(bad.trailers['grpc-message'], want.details);
  assert.equal(bad.trailers['grpc-message'], '40003');
  assert.equal(bad.trailers.message, want.message);
  assert.match(bad.trailers['x-tracking-id'] ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(bad.messages.length, 0);

  // A rejected order: quantity 0.
  const order = encode(POST_ORDER_ASYNC, { instrumentId: share.uid, quantity: '0',
    direction: 'ORDER_DIRECTION_BUY', accountId: account, orderType: 'ORDER_TYPE_LIMIT', price,
    orderId: randomUUID() });
  const rejected = await web(POST_ORDER_ASYNC.path, frame(order));
  const grpcRejected = await grpcCall(POST_ORDER_ASYNC, order);
  assert.ok(grpcRejected.code > 0, JSON.stringify(grpcRejected));
  assert.equal(rejected.trailers['grpc-status'], String(grpcRejected.code));
  assert.equal(rejected.trailers['grpc-message'], grpcRejected.details);
  assert.match(grpcRejected.details, /^\d{5}$/);
  assert.equal(rejected.trailers.message, grpcRejected.message);
  assert.ok(rejected.trailers.message.length > 0);

  // The same error in text mode: trailers-only as well (no body to decode).
  const text = await web(GET_ACCOUNTS.path, frame(request).toString('base64'), { mode: 'text', token: 'x' });
  assert.equal(text.trailers['grpc-status'], '16');
  assert.equal(text.headers.get('content-type'), 'application/grpc-web-text');
});

test('answers of the front itself: unserved and bidirectional methods, bad frames, limits', async () => {
  const empty = frame(Buffer.alloc(0));
  const cases = [
    [`/${PACKAGE}.UsersService/NoSuchMethod`, empty, {}, '12', '12001', /unimplemented/],
    [`/${PACKAGE}.MarketDataStreamService/MarketDataStream`, empty, {}, '12', '12001', /bidirectional/],
    ['/grpc.health.v1.Health/Check', empty, {}, '12', '12001', /unimplemented/],
    [GET_ACCOUNTS.path, frame(Buffer.alloc(0), 1), {}, '12', null, /compressed/],
    [GET_ACCOUNTS.path, frame(Buffer.alloc(0), 0x80), {}, '13', null, /trailer/],
    [GET_ACCOUNTS.path, Buffer.from([0, 0, 0, 0, 9, 1, 2]), {}, '13', null, /inside a frame/],
    // A length past limits.max_message_bytes (4 MiB in the demo): refused from the prefix alone.
    [GET_ACCOUNTS.path, Buffer.from([0, 0, 0x40, 0, 1]), {}, '8', null, /larger than max \(4194305 vs\. 4194304\)/],
    [GET_ACCOUNTS.path, 'AAAA*AAA', { mode: 'text' }, '13', null, /base64/],
    [GET_ACCOUNTS.path, empty, { contentType: 'application/grpc-web+json' }, '12', null, /protobuf/],
    [GET_ACCOUNTS.path, empty, { headers: { 'grpc-timeout': '10 seconds' } }, '3', null, /grpc-timeout/],
  ];
  for (const [path, body, options, status, grpcMessage, message] of cases) {
    const answer = await web(path, body, options);
    const what = `${path} ${JSON.stringify(options)}: ${JSON.stringify(answer.trailers)}`;
    assert.equal(answer.trailersOnly, true, what);
    assert.equal(answer.trailers['grpc-status'], status, what);
    if (grpcMessage !== null) assert.equal(answer.trailers['grpc-message'], grpcMessage, what);
    else assert.equal(decodeURIComponent(answer.trailers['grpc-message']), answer.trailers.message, what);
    assert.match(answer.trailers.message, message, what);
    assert.match(answer.trailers['x-tracking-id'] ?? '', /^[0-9a-f-]{36}$/, what);
  }
  // The server serves on: a good call right after.
  assertOk(await web(GET_ACCOUNTS.path, frame(encode(GET_ACCOUNTS, {}))));
});

/** Reads gRPC-web frames from a fetch body as they come. */
async function* frames(response) {
  const reader = response.body.getReader();
  let buffered = Buffer.alloc(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered = Buffer.concat([buffered, Buffer.from(value)]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
      const len = buffered.readUInt32BE(1);
      yield { flag: buffered[0], payload: buffered.subarray(5, 5 + len) };
      buffered = buffered.subarray(5 + len);
    }
  }
}

test('OrderStateStream over gRPC-web: messages arrive while the stream is open', async () => {
  const abort = new AbortController();
  const response = await fetch(`http://127.0.0.1:${server.httpPort}${ORDER_STATE_STREAM.path}`, {
    method: 'POST', signal: abort.signal,
    headers: { 'content-type': 'application/grpc-web+proto', authorization: `Bearer ${TOKEN}` },
    body: frame(encode(ORDER_STATE_STREAM, { accounts: [account] })) });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('grpc-status'), null, 'not trailers-only: a stream');
  const orderIds = [randomUUID(), randomUUID(), randomUUID()];
  const seen = new Set();
  let placed = false;
  let subscription = 0;
  const timer = setTimeout(() => abort.abort(), 30000);
  try {
    for await (const { flag, payload } of frames(response)) {
      assert.equal(flag, 0, 'no trailers while the stream is open');
      const message = plain(ORDER_STATE_STREAM.reply, payload);
      if (message.subscription) subscription++;
      if (message.orderState && orderIds.includes(message.orderState.orderRequestId)) {
        seen.add(message.orderState.orderRequestId);
      }
      if (!placed) {
        // The stream is open (its first message came): orders over gRPC show up on it.
        placed = true;
        for (const orderId of orderIds) {
          const reply = await grpcCall(POST_ORDER_ASYNC, encode(POST_ORDER_ASYNC, { instrumentId: share.uid,
            quantity: '1', direction: 'ORDER_DIRECTION_BUY', accountId: account,
            orderType: 'ORDER_TYPE_LIMIT', price, orderId }));
          assert.ok(reply.reply, JSON.stringify(reply));
        }
      }
      if (seen.size === orderIds.length) break;
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  assert.equal(seen.size, orderIds.length, 'each order\'s state came on the open stream');
  assert.ok(subscription <= 1);
  // The client left: the server goes on answering.
  assertOk(await web(GET_ACCOUNTS.path, frame(encode(GET_ACCOUNTS, {}))));
});

test('CORS preflight: a browser on another origin may call the contract', async () => {
  const response = await fetch(`http://127.0.0.1:${server.httpPort}${GET_ACCOUNTS.path}`, {
    method: 'OPTIONS', headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-grpc-web,x-user-agent' } });
  assert.equal(response.status, 204);
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  assert.match(response.headers.get('access-control-allow-methods'), /POST/);
  const allowed = response.headers.get('access-control-allow-headers').split(/,\s*/);
  for (const name of ['authorization', 'content-type', 'x-grpc-web', 'x-user-agent', 'grpc-timeout',
    'x-app-name', 'x-tracking-id']) {
    assert.ok(allowed.includes(name), `${name} allowed`);
  }
  const exposed = response.headers.get('access-control-expose-headers').split(/,\s*/);
  for (const name of ['grpc-status', 'grpc-message', 'message', 'x-tracking-id', 'x-ratelimit-limit',
    'x-ratelimit-remaining', 'x-ratelimit-reset']) {
    assert.ok(exposed.includes(name), `${name} exposed`);
  }
  // An OPTIONS request elsewhere is not a preflight of ours.
  const other = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`, { method: 'OPTIONS' });
  assert.notEqual(other.status, 204);
  await other.arrayBuffer();
  // REST is untouched by gRPC-web: a JSON POST to the REST path is answered as JSON.
  const rest = await fetch(`http://127.0.0.1:${server.httpPort}/rest${GET_ACCOUNTS.path}`, { method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '{}' });
  assert.equal(rest.status, 200);
  assert.ok((await rest.json()).accounts.some((a) => a.id === account));
});
