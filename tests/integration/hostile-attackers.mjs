// Hostile clients for hostile.test.mjs, run as a child process so that their client-side work
// (encoding and decoding thousands of calls) does not delay the measured client's event loop.
//
// argv[2]: JSON { port, payloadBytes, account, sandboxAccount, instrumentUid }. The process opens
// every attack, sends { ready: true } once each of them has been answered at least once, keeps
// attacking until it receives 'stop', then sends { tally, idle } (per attack, "status:details" →
// count of the calls answered so far) and exits, dropping every connection with whatever calls
// it still has on it, as an attacker that goes away does.
//
// Requests that the SDK would never send are written by hand on the wire, as input.test.mjs does.
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';

const PACKAGE = 'tinkoff.public.invest.api.contract.v1';
const { port, payloadBytes, account, sandboxAccount, instrumentUid } = JSON.parse(process.argv[2]);
const HUGE_S = 5000000000000000000n; // seconds × 1e9 overflows int64 many times over

// ---- The wire, by hand (as in input.test.mjs) ---------------------------------------------------
function varint(value) {
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
const numberField = (number, value) => Buffer.concat([varint(number << 3), varint(value)]);
const bytesField = (number, bytes) => Buffer.concat([varint((number << 3) | 2), varint(bytes.length), Buffer.from(bytes)]);
const textField = (number, text) => bytesField(number, Buffer.from(text, 'utf8'));
const timestamp = (seconds, nanos = 0) => Buffer.concat([numberField(1, seconds), numberField(2, nanos)]);

// ---- Calls ------------------------------------------------------------------------------------
/** A grpc-js client on its own connection (the option keeps channels from being shared). */
function ownConnection(tag) {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'tinvestd.test.connection': tag });
}

function metadataWith(token, extra = {}) {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  for (const [key, value] of Object.entries(extra)) md.set(key, value);
  return md;
}

/** Resolves to the call's outcome as "status:details" ("0:" for a reply). */
function unary(client, method, bytes, metadata) {
  return new Promise((resolve) => client.makeUnaryRequest(`/${PACKAGE}.${method}`, (b) => b, (b) => b,
    Buffer.from(bytes), metadata, { deadline: Date.now() + 30000 },
    (error) => resolve(error ? `${error.code}:${error.details}` : '0:')));
}

const tally = {};
let onAnswer = () => {};

/** Keeps `concurrency` calls of `makeCall(i, n)` in flight until the process ends; tallies them. */
function attack(name, concurrency, makeCall) {
  tally[name] = {};
  for (let i = 0; i < concurrency; i++) {
    (async () => {
      for (let n = 0; ; n++) {
        const outcome = await makeCall(i, n);
        tally[name][outcome] = (tally[name][outcome] ?? 0) + 1;
        onAnswer();
      }
    })();
  }
}

// ---- The attacks ------------------------------------------------------------------------------

// A flood of calls without a token on several connections, each carrying a payload the server
// must never read; more calls than the server's streams per connection, so that every connection
// always has calls waiting.
const FLOOD_CONNECTIONS = 3;
const payload = Buffer.alloc(payloadBytes, 0x5a);
const floods = Array.from({ length: FLOOD_CONNECTIONS }, (_, i) => () => {
  const client = ownConnection(`flood-${i}`);
  return attack(`flood-${i}`, 150, () => unary(client, 'UsersService/GetInfo', payload, new grpc.Metadata()));
});

// Headers over limits.max_metadata_bytes (8192) but under gRPC's own limit: 30102 for each call.
const headers = () => {
  const client = ownConnection('headers');
  const big = metadataWith('t.demo.readonly', { 'x-padding': 'p'.repeat(20000) });
  return attack('headers', 8, () => unary(client, 'UsersService/GetInfo', Buffer.alloc(0), big));
};

// Headers over gRPC's own limit (8 × limits.max_metadata_bytes): gRPC closes the connection, and
// the client connects again for its next call.
const hugeHeaders = () => {
  const client = ownConnection('huge-headers');
  const huge = metadataWith('t.demo.readonly', { 'x-padding': 'p'.repeat(70000) });
  return attack('huge-headers', 2, () => unary(client, 'UsersService/GetInfo', Buffer.alloc(0), huge));
};

// Strings that are not UTF-8, hide a NUL or are too long, in requests of several services.
const badStrings = [
  ['SandboxService/OpenSandboxAccount', bytesField(1, Buffer.from('caf\xe9', 'latin1'))],
  ['SandboxService/OpenSandboxAccount', bytesField(1, Buffer.from([0xed, 0xa0, 0x80]))], // a surrogate
  ['SandboxService/OpenSandboxAccount', textField(1, 'x'.repeat(5000))],
  ['SandboxService/SandboxPayIn', Buffer.concat([textField(1, sandboxAccount),
    bytesField(2, Buffer.concat([bytesField(1, Buffer.from([0x72, 0xff, 0x62])), numberField(2, 100)]))])],
  ['OrdersService/GetOrderState', Buffer.concat([textField(1, account), textField(2, 'key\0hidden'), numberField(4, 2)])],
  ['InstrumentsService/FindInstrument', bytesField(1, Buffer.from([0xf4, 0x90, 0x80, 0x80]))], // past U+10FFFF
];
const strings = () => {
  const client = ownConnection('strings');
  const md = metadataWith('t.demo.one');
  return attack('strings', 8, (i, n) => unary(client, ...badStrings[(i + n) % badStrings.length], md));
};

// Times far outside what int64 nanoseconds hold: refused where days are built from them,
// saturated where they only filter (those two read on the core thread).
const hugeTimes = [
  ['InstrumentsService/TradingSchedules', Buffer.concat([bytesField(2, timestamp(-HUGE_S)), bytesField(3, timestamp(HUGE_S))])],
  ['InstrumentsService/TradingSchedules', Buffer.concat([bytesField(2, timestamp(HUGE_S)), bytesField(3, timestamp(HUGE_S))])],
  ['MarketDataService/GetLastTrades', Buffer.concat([bytesField(2, timestamp(-HUGE_S)), bytesField(3, timestamp(HUGE_S)),
    textField(4, instrumentUid)])],
  ['OrdersService/GetOrders', Buffer.concat([textField(1, account), bytesField(2, Buffer.concat([
    bytesField(1, timestamp(-9223372036854775808n)), bytesField(2, timestamp(9223372036854775807n))]))])],
];
const times = () => {
  const client = ownConnection('times');
  const md = metadataWith('t.demo.one');
  return attack('times', 8, (i, n) => unary(client, ...hugeTimes[(i + n) % hugeTimes.length], md));
};

// Idle connections: TCP connections that never send a byte, and HTTP/2 connections that made one
// call and then stay open doing nothing.
const IDLE_TCP = 200;
const IDLE_HTTP2 = 20;
async function openIdle() {
  const tcp = await Promise.all(Array.from({ length: IDLE_TCP }, () => new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => resolve(false));
    socket.on('connect', () => resolve(true));
  })));
  const md = metadataWith('t.demo.readonly');
  const http2 = await Promise.all(Array.from({ length: IDLE_HTTP2 },
    (_, i) => unary(ownConnection(`idle-${i}`), 'UsersService/GetInfo', Buffer.alloc(0), md)));
  return { tcp: tcp.filter(Boolean).length, http2: http2.filter((o) => o === '0:').length };
}

const idle = await openIdle();
const attacks = [...floods, headers, hugeHeaders, strings, times];
const allAnswered = new Promise((resolve) => {
  onAnswer = () => {
    if (Object.values(tally).every((outcomes) => Object.keys(outcomes).length > 0)) resolve();
  };
});
for (const start of attacks) start();
await allAnswered;
onAnswer = () => {};
process.send({ ready: true });
process.once('message', () => process.send({ tally, idle }, () => process.exit(0)));
