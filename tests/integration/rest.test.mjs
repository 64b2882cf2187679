// The REST proxy (docs/PROTOCOL.md, "REST"): POST /rest/<package>.<Service>/<Method> over the
// HTTP listener, against the gRPC answer of the same request on the same server.
// - every unary method of every service of our proto files, with `{}`: a served one answers what
//   gRPC answers (200 and the reply as proto3 JSON, field by field, or the same error: HTTP status
//   per the T-Invest HTTP error table, the gRPC status in `code`, the T-Invest code in
//   `description`, the text in `message`); one we do not serve is not a route (404);
// - a dozen representative methods with real bodies, compared field by field;
// - both field-name styles, int64 as string or number, enums by name or number;
// - a bad token, malformed JSON, a wrong type, an unknown path, GET, a body over the limit;
// - x-tracking-id on every answer, and the x-ratelimit-* headers of the gRPC answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { startServer, demoConfig, demoInstruments, certPath } from './harness.mjs';
import { asJson, loadContract } from './proto-json.mjs';

const PACKAGE = 'tinkoff.public.invest.api.contract.v1';
const TOKEN = 't.demo.full';
const [account] = demoConfig.accounts.map((a) => a.id);
const share = demoInstruments.find((i) => i.type === 'share');
// A limit buy well inside the price limits that the market maker does not fill.
const price = { units: String(Math.floor(Number(share.reference_price) * 0.97)), nano: 0 };

const root = loadContract();

const methods = [];
for (const service of root.lookup(PACKAGE).nestedArray.filter((n) => n instanceof protobuf.Service)) {
  for (const method of service.methodsArray) {
    if (method.requestStream || method.responseStream) continue;
    methods.push({ service: service.name, name: method.name, request: method.resolvedRequestType,
      reply: method.resolvedResponseType, grpcPath: `/${PACKAGE}.${service.name}/${method.name}` });
  }
}

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

async function rest(path, body, { token = TOKEN, method = 'POST', raw = false } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`http://127.0.0.1:${server.httpPort}${path}`, {
    method, headers, body: method === 'POST' ? (raw ? body : JSON.stringify(body)) : undefined });
  const text = await response.text();
  assert.equal(response.headers.get('content-type'), 'application/json', `${path}: ${text}`);
  assert.match(response.headers.get('x-tracking-id') ?? '', /^[0-9a-f-]{36}$/, `${path}: x-tracking-id`);
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

/** The gRPC answer of the same request: { reply } or { code, details, message }. */
function grpcCall(method, request, token = TOKEN) {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  const bytes = Buffer.from(method.request.encode(method.request.fromObject(request)).finish());
  return new Promise((resolve) => {
    client.makeUnaryRequest(method.grpcPath, (b) => b, (b) => b, bytes, metadata, (err, reply) => {
      if (err) resolve({ code: err.code, details: err.details, message: err.metadata.get('message')[0] ?? '' });
      else resolve({ reply: method.reply.decode(reply) });
    });
  });
}

const HTTP_STATUS = { 3: 400, 4: 504, 5: 404, 7: 403, 8: 429, 9: 400, 12: 501, 13: 500, 14: 503, 16: 401 };

/** Compares a REST answer with the gRPC answer of the same request. */
function assertSame(label, method, restAnswer, grpcAnswer, { ignore = [] } = {}) {
  if (grpcAnswer.reply !== undefined) {
    assert.equal(restAnswer.status, 200, `${label}: ${JSON.stringify(restAnswer.body)}`);
    const expected = asJson(method.reply, grpcAnswer.reply);
    const actual = structuredClone(restAnswer.body);
    for (const path of ignore) { deletePath(expected, path); deletePath(actual, path); }
    assert.deepEqual(actual, expected, label);
    return;
  }
  assert.equal(restAnswer.status, HTTP_STATUS[grpcAnswer.code] ?? 500, `${label}: ${JSON.stringify(restAnswer.body)}`);
  assert.deepEqual(restAnswer.body, { code: grpcAnswer.code, message: grpcAnswer.message,
    description: grpcAnswer.details, details: [] }, label);
}

function deletePath(object, path) {
  const parts = path.split('.');
  const walk = (o, i) => {
    if (o == null || typeof o !== 'object') return;
    if (Array.isArray(o)) { o.forEach((e) => walk(e, i)); return; }
    if (i === parts.length - 1) delete o[parts[i]];
    else walk(o[parts[i]], i + 1);
  };
  walk(object, 0);
}

const methodOf = (service, name) => methods.find((m) => m.service === service && m.name === name);
// Answers that move between two calls a moment apart: the market maker's book and prints, and the
// time of the answer.
const VOLATILE = ['orderbookTs', 'lastPriceTs', 'closePriceTs', 'bids', 'asks', 'lastPrice', 'closePrice',
  'lastPrices', 'candles', 'time', 'limitUp', 'limitDown'];

test('every unary method of the contract: {} answers over REST what it answers over gRPC', async () => {
  assert.ok(methods.length > 60, `${methods.length} methods`);
  let served = 0;
  const mismatches = [];
  for (const method of methods) {
    const path = `/rest/${PACKAGE}.${method.service}/${method.name}`;
    const [restAnswer, grpcAnswer] = [await rest(path, {}), await grpcCall(method, {})];
    if (grpcAnswer.code === 12 && grpcAnswer.details === '12001') {
      // Declared, not served: no route, as a path the proxy does not know.
      assert.equal(restAnswer.status, 404, path);
      assert.equal(restAnswer.body.code, 5, path);
      continue;
    }
    served++;
    // Each call opens another sandbox account: its id is new every time.
    const fresh = method.name === 'OpenSandboxAccount' ? ['accountId'] : [];
    if (fresh.length) assert.match(restAnswer.body.accountId, /^[0-9a-f-]{36}$/);
    try {
      assertSame(path, method, restAnswer, grpcAnswer, { ignore: [...VOLATILE, ...fresh] });
    } catch (error) {
      mismatches.push(error.message);
    }
  }
  assert.deepEqual(mismatches, []);
  assert.ok(served > 50, `${served} served methods`);
});

test('representative methods with real bodies, field by field', async () => {
  const orderId = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ['UsersService', 'GetAccounts', {}],
    ['UsersService', 'GetInfo', {}],
    ['InstrumentsService', 'Shares', { instrumentStatus: 'INSTRUMENT_STATUS_ALL' }],
    ['InstrumentsService', 'ShareBy', { idType: 'INSTRUMENT_ID_TYPE_FIGI', id: share.figi }],
    ['InstrumentsService', 'GetInstrumentBy', { idType: 'INSTRUMENT_ID_TYPE_UID', id: share.uid }],
    ['MarketDataService', 'GetOrderBook', { instrumentId: share.uid, depth: 10 }],
    ['MarketDataService', 'GetCandles', { instrumentId: share.uid, interval: 'CANDLE_INTERVAL_1_MIN' },
      { from: new Date((now - 3600) * 1000).toISOString(), to: new Date(now * 1000).toISOString() },
      { from: { seconds: now - 3600 }, to: { seconds: now } }],
    ['OrdersService', 'PostOrder', { instrumentId: share.uid, quantity: '1', direction: 'ORDER_DIRECTION_BUY',
      accountId: account, orderType: 'ORDER_TYPE_LIMIT', price, orderId }],
    ['OrdersService', 'GetOrders', { accountId: account }],
    ['OrdersService', 'GetOrderState', () => ({ accountId: account, orderId: posted })],
    ['OperationsService', 'GetPortfolio', { accountId: account }],
    ['OperationsService', 'GetPositions', { accountId: account }],
    ['OperationsService', 'GetOperations', { accountId: account },
      { from: '2020-01-01T00:00:00Z', to: new Date(now * 1000 + 60000).toISOString() },
      { from: { seconds: 1577836800 }, to: { seconds: now + 60 } }],
    ['OrdersService', 'CancelOrder', { accountId: account, orderId: 'not-an-order' }],
  ];
  let posted;
  for (const [service, name, bodyOf, restExtra = {}, grpcExtra = {}] of cases) {
    const body = typeof bodyOf === 'function' ? bodyOf() : bodyOf;
    const method = methodOf(service, name);
    assert.ok(method, `${service}/${name}`);
    const path = `/rest/${PACKAGE}.${service}/${name}`;
    const restAnswer = await rest(path, { ...body, ...restExtra });
    // The same order id again over gRPC: the idempotent repeat answers the same order.
    const grpcAnswer = await grpcCall(method, { ...body, ...grpcExtra });
    if (name !== 'CancelOrder') assert.equal(restAnswer.status, 200, `${path}: ${JSON.stringify(restAnswer.body)}`);
    if (name === 'PostOrder') posted = restAnswer.body.orderId;
    assertSame(path, method, restAnswer, grpcAnswer,
      { ignore: [...VOLATILE, 'responseMetadata', 'executionReportStatus', 'lotsExecuted', 'executedOrderPrice',
        'totalOrderAmount', 'executedCommission', 'initialCommission', 'stages', 'orderDate', 'expectedYield',
        'dailyYield', 'currentPrice', 'positions', 'totalAmountShares', 'totalAmountPortfolio', 'money',
        'securities', 'blocked', 'averagePositionPrice', 'virtualPositions', 'averagePositionPriceFifo',
        'totalAmountCurrencies', 'expectedYieldRelative', 'dailyYieldRelative'] });
  }
});

test('input: both name styles, int64 as string or number, enums by name or number', async () => {
  const path = `/rest/${PACKAGE}.InstrumentsService/GetInstrumentBy`;
  const camel = await rest(path, { idType: 'INSTRUMENT_ID_TYPE_FIGI', id: share.figi });
  const snake = await rest(path, { id_type: 'INSTRUMENT_ID_TYPE_FIGI', id: share.figi });
  const number = await rest(path, { idType: 1, id: share.figi });
  assert.equal(camel.status, 200);
  assert.equal(camel.body.instrument.figi, share.figi);
  assert.deepEqual(snake.body, camel.body);
  assert.deepEqual(number.body, camel.body);
  const orders = `/rest/${PACKAGE}.OrdersService/PostOrder`;
  const asString = await rest(orders, { instrumentId: share.uid, quantity: '1', direction: 'ORDER_DIRECTION_BUY',
    accountId: account, orderType: 'ORDER_TYPE_LIMIT', price, orderId: randomUUID() });
  const asNumber = await rest(orders, { instrument_id: share.uid, quantity: 1, direction: 1,
    account_id: account, order_type: 1, price: { units: Number(price.units), nano: 0 }, order_id: randomUUID() });
  assert.equal(asString.status, 200, JSON.stringify(asString.body));
  assert.equal(asNumber.status, 200, JSON.stringify(asNumber.body));
  assert.equal(asString.body.lotsRequested, '1');
  assert.equal(asNumber.body.lotsRequested, '1');
  assert.equal(asNumber.body.direction, 'ORDER_DIRECTION_BUY');
  assert.match(asNumber.body.responseMetadata?.serverTime ?? asNumber.body.orderDate ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  // Members the method does not have are skipped, as the real proxy does.
  const unknown = await rest(path, { idType: 'INSTRUMENT_ID_TYPE_FIGI', id: share.figi, noSuchField: [1, 2] });
  assert.deepEqual(unknown.body, camel.body);
});

test('errors: bad token, malformed JSON, wrong types, unknown path, GET, a body over the limit', async () => {
  const path = `/rest/${PACKAGE}.UsersService/GetAccounts`;
  for (const token of [null, 't.no.such.token']) {
    const answer = await rest(path, {}, { token });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.code, 16);
    assert.equal(answer.body.description, '40003');
    assert.ok(answer.body.message.length > 0);
  }
  const malformed = await rest(path, '{"accounts": ', { raw: true });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.code, 3);
  assert.ok(malformed.body.message.length > 0);
  const wrongType = await rest(`/rest/${PACKAGE}.OrdersService/GetOrders`, { accountId: 5 });
  assert.equal(wrongType.status, 400);
  assert.match(wrongType.body.message, /accountId/);
  const badEnum = await rest(`/rest/${PACKAGE}.InstrumentsService/Shares`, { instrumentStatus: 'NO_SUCH_STATUS' });
  assert.equal(badEnum.status, 400);
  assert.match(badEnum.body.message, /instrumentStatus/);
  const unknownPath = await rest(`/rest/${PACKAGE}.NoService/NoMethod`, {});
  assert.equal(unknownPath.status, 404);
  assert.equal(unknownPath.body.code, 5);
  const outside = await rest('/elsewhere', {});
  assert.equal(outside.status, 404);
  const get = await rest(path, undefined, { method: 'GET' });
  assert.equal(get.status, 405);
  const huge = await rest(path, `{"x":"${'a'.repeat(demoConfig.limits.max_message_bytes + 10)}"}`, { raw: true });
  assert.equal(huge.status, 400);
  assert.match(huge.body.message, /exceeds/);
  // The server is still well.
  assert.equal((await rest(path, {})).status, 200);
});

test('headers: a new x-tracking-id on each answer, and the rate-limit headers passed on', async () => {
  const answer = await rest(`/rest/${PACKAGE}.UsersService/GetAccounts`, {});
  for (const name of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'])
    assert.match(answer.headers.get(name) ?? '', /^\d+$/, name);
  const first = await rest(`/rest/${PACKAGE}.UsersService/GetInfo`, {});
  const second = await rest(`/rest/${PACKAGE}.UsersService/GetInfo`, {});
  assert.notEqual(first.headers.get('x-tracking-id'), second.headers.get('x-tracking-id'));
});

test('HTTPS: the same proxy with the gRPC listeners\' certificate', async () => {
  const path = `/rest/${PACKAGE}.InstrumentsService/Shares`;
  const body = JSON.stringify({ instrumentStatus: 'INSTRUMENT_STATUS_ALL' });
  const answer = await new Promise((resolve, reject) => {
    const request = https.request({ host: '127.0.0.1', port: server.httpsPort, path, method: 'POST',
      ca: readFileSync(certPath), servername: 'localhost',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
    (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
  assert.equal(answer.status, 200);
  assert.match(answer.headers['x-tracking-id'], /^[0-9a-f-]{36}$/);
  const plain = await rest(path, JSON.parse(body));
  // More than the library's default 4 KiB buffer, which once cut HTTP/2 answers: it comes whole.
  assert.ok(Buffer.byteLength(answer.text) > 8192, `${answer.text.length} bytes`);
  assert.deepEqual(JSON.parse(answer.text), plain.body);
});

test('HTTP/2 over TLS: a large answer in several frames, whole', async () => {
  const session = http2.connect(`https://127.0.0.1:${server.httpsPort}`, { ca: readFileSync(certPath), servername: 'localhost' });
  try {
    const path = `/rest/${PACKAGE}.InstrumentsService/Shares`;
    const body = JSON.stringify({ instrumentStatus: 'INSTRUMENT_STATUS_ALL' });
    const answer = await new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': path, authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      let headers;
      let text = '';
      stream.setEncoding('utf8');
      stream.on('response', (h) => { headers = h; });
      stream.on('data', (chunk) => { text += chunk; });
      stream.on('end', () => resolve({ headers, text }));
      stream.on('error', reject);
      stream.end(body);
    });
    assert.equal(answer.headers[':status'], 200);
    assert.match(answer.headers['x-tracking-id'], /^[0-9a-f-]{36}$/);
    assert.ok(Buffer.byteLength(answer.text) > 8192);
    assert.deepEqual(JSON.parse(answer.text), (await rest(path, JSON.parse(body))).body);
    // Without a Content-Length the library would not deliver the body: refused at once.
    const refused = await new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': path, authorization: `Bearer ${TOKEN}` });
      let headers;
      let text = '';
      stream.on('response', (h) => { headers = h; });
      stream.on('data', (chunk) => { text += chunk; });
      stream.on('end', () => resolve({ headers, text }));
      stream.on('error', reject);
      stream.end(body);
    });
    assert.equal(refused.headers[':status'], 411);
    assert.equal(JSON.parse(refused.text).code, 3);
  } finally {
    session.close();
  }
});
