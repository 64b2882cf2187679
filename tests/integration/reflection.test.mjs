// Server reflection and health checking: what tooling without the .proto files sees. `buf curl`
// (npm @bufbuild/buf, run offline) lists the services and calls contract methods through
// reflection alone, on every listener; grpc-js with our own proto/ definitions of gRPC's health
// and reflection messages checks the answers field by field, the error paths and Watch.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startServer, sourceDir, demoConfig, demoInstruments, UUID_RE } from './harness.mjs';

const run = promisify(execFile);
const buf = join(sourceDir, 'tests', 'integration', 'node_modules', '.bin', 'buf');
const PACKAGE = 'tinkoff.public.invest.api.contract.v1';
const token = demoConfig.tokens[0].token; // full access to the broker's accounts
const account = demoConfig.accounts.find((a) => !a.sandbox) ?? demoConfig.accounts[0];
const share = demoInstruments.find((i) => i.type === 'share');
let server;

const loaded = protoLoader.loadSync(['health.proto', 'reflection_v1.proto', 'reflection_v1alpha.proto'], {
  includeDirs: [join(sourceDir, 'proto')], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
});
const proto = grpc.loadPackageDefinition(loaded);
const clients = [];
function client(Ctor, port) {
  const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

before(async () => { server = await startServer(); });
after(async () => {
  for (const c of clients) c.close();
  const status = await server.stop();
  assert.deepEqual(status, { code: 0, signal: null }, 'graceful stop exits 0');
});

/** Runs `buf curl` with the given arguments; resolves to { stdout, stderr, code }. */
async function bufCurl(args) {
  try {
    const { stdout, stderr } = await run(buf, ['curl', '--protocol', 'grpc', ...args],
      { env: { ...process.env, BUF_CACHE_DIR: join(server.dataDir, 'buf-cache'), HOME: server.dataDir } });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    return { stdout: error.stdout, stderr: error.stderr, code: error.code };
  }
}

const plain = (port) => ['--http2-prior-knowledge', `http://127.0.0.1:${port}`];
const tls = (port) => ['--insecure', `https://127.0.0.1:${port}`];

test('buf curl lists every service through reflection on every listener, without a token', async () => {
  const listeners = {
    'broker plaintext': plain(server.plainPort), 'broker TLS': tls(server.tlsPort),
    'sandbox plaintext': plain(server.sandboxPort), 'sandbox TLS': tls(server.sandboxTlsPort),
  };
  for (const [name, [flag, url]] of Object.entries(listeners)) {
    for (const protocol of ['grpc-v1', 'grpc-v1alpha']) {
      const result = await bufCurl([flag, '--reflect-protocol', protocol, '--list-services', url]);
      assert.equal(result.code, 0, `${name} ${protocol}: ${result.stderr}`);
      const services = result.stdout.trim().split('\n');
      for (const expected of [`${PACKAGE}.InstrumentsService`, `${PACKAGE}.OrdersService`,
        `${PACKAGE}.UsersService`, `${PACKAGE}.SandboxService`, `${PACKAGE}.MarketDataStreamService`,
        'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection']) {
        assert.ok(services.includes(expected), `${name} ${protocol} lists ${expected}: ${services}`);
      }
      assert.equal(new Set(services).size, services.length, 'each service once');
    }
  }
});

test('buf curl calls InstrumentsService/Shares with a token, knowing the schema from reflection only', async () => {
  const [flag, url] = plain(server.plainPort);
  const result = await bufCurl([flag, '-H', `Authorization: Bearer ${token}`,
    '-d', '{"instrumentStatus":"INSTRUMENT_STATUS_ALL"}', `${url}/${PACKAGE}.InstrumentsService/Shares`]);
  assert.equal(result.code, 0, result.stderr);
  const reply = JSON.parse(result.stdout);
  assert.ok(reply.instruments.some((i) => i.figi === share.figi && i.ticker === share.ticker),
    'the demo share is listed, its fields decoded by name');
  // Reflection needs no token, the contract still does: authentication comes first.
  const anonymous = await bufCurl([flag, '-d', '{}', `${url}/${PACKAGE}.InstrumentsService/Shares`]);
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stdout + anonymous.stderr, /unauthenticated/i);
  assert.match(anonymous.stdout + anonymous.stderr, /40003/);
});

test('buf curl posts an order through OrdersService/PostOrderAsync over TLS', async () => {
  const [flag, url] = tls(server.tlsPort);
  const orderId = randomUUID();
  const result = await bufCurl([flag, '-H', `Authorization: Bearer ${token}`, '-d', JSON.stringify({
    instrumentId: share.figi, quantity: 1, direction: 'ORDER_DIRECTION_BUY', accountId: account.id,
    orderType: 'ORDER_TYPE_MARKET', orderId,
  }), `${url}/${PACKAGE}.OrdersService/PostOrderAsync`]);
  assert.equal(result.code, 0, result.stderr);
  const reply = JSON.parse(result.stdout);
  assert.equal(reply.orderRequestId, orderId);
  assert.match(reply.executionReportStatus, /^EXECUTION_REPORT_STATUS_(NEW|FILL)$/);
});

/** Opens a reflection stream; `ask(request)` resolves to the next response. */
function reflectionStream(pkg, port) {
  const Ctor = pkg === 'v1' ? proto.grpc.reflection.v1.ServerReflection : proto.grpc.reflection.v1alpha.ServerReflection;
  const call = client(Ctor, port).ServerReflectionInfo();
  const waiting = [];
  call.on('data', (response) => waiting.shift()?.resolve(response));
  const ended = new Promise((resolve) => call.on('status', resolve));
  call.on('error', () => {});
  return {
    ask(request) {
      return new Promise((resolve, reject) => { waiting.push({ resolve, reject }); call.write(request); });
    },
    async end() { call.end(); return ended; },
    ended,
  };
}

function fileNames(response) {
  // Each entry is a FileDescriptorProto; its field 1 (name) comes first as protoc writes it.
  return response.file_descriptor_response.file_descriptor_proto.map((bytes) => {
    assert.equal(bytes[0], 0x0a, 'FileDescriptorProto.name first');
    return bytes.subarray(2, 2 + bytes[1]).toString();
  });
}

test('reflection answers each request of a stream in order; unknown names get NOT_FOUND error responses', async () => {
  for (const pkg of ['v1', 'v1alpha']) {
    const stream = reflectionStream(pkg, server.sandboxPort);
    const bySymbol = await stream.ask({ host: 'h', file_containing_symbol: `${PACKAGE}.OrdersService.PostOrderAsync` });
    assert.equal(bySymbol.valid_host, 'h');
    assert.equal(bySymbol.original_request.file_containing_symbol, `${PACKAGE}.OrdersService.PostOrderAsync`);
    const names = fileNames(bySymbol);
    assert.equal(names[0], 'orders.proto');
    assert.ok(names.includes('common.proto') && names.includes('google/protobuf/timestamp.proto'),
      `the file comes with what it imports: ${names}`);
    assert.equal(new Set(names).size, names.length);

    const message = await stream.ask({ file_containing_symbol: `${PACKAGE}.Quotation` });
    assert.equal(fileNames(message)[0], 'common.proto');
    const health = await stream.ask({ file_containing_symbol: 'grpc.health.v1.HealthCheckResponse.ServingStatus' });
    assert.deepEqual(fileNames(health), ['health.proto']);
    const byName = await stream.ask({ file_by_filename: 'users.proto' });
    assert.equal(fileNames(byName)[0], 'users.proto');

    for (const request of [
      { file_containing_symbol: `${PACKAGE}.NoSuchService` },
      { file_by_filename: 'nosuch.proto' },
      { file_containing_extension: { containing_type: `${PACKAGE}.Quotation`, extension_number: 100 } },
      { all_extension_numbers_of_type: `${PACKAGE}.NoSuchMessage` },
      { file_containing_symbol: 'x'.repeat(5000) },
    ]) {
      const response = await stream.ask(request);
      assert.equal(response.message_response, 'error_response', JSON.stringify(request).slice(0, 80));
      assert.equal(response.error_response.error_code, grpc.status.NOT_FOUND);
      assert.ok(response.error_response.error_message.length > 0);
    }
    const none = await stream.ask({ host: '' });
    assert.equal(none.error_response.error_code, grpc.status.INVALID_ARGUMENT);
    // A known message has no extensions: an empty list, not an error.
    const numbers = await stream.ask({ all_extension_numbers_of_type: `${PACKAGE}.Quotation` });
    assert.equal(numbers.all_extension_numbers_response.base_type_name, `${PACKAGE}.Quotation`);
    assert.deepEqual(numbers.all_extension_numbers_response.extension_number, []);
    // The stream is still usable after errors, and ends with OK when the client ends it.
    const list = await stream.ask({ list_services: '' });
    assert.ok(list.list_services_response.service.some((s) => s.name === `${PACKAGE}.OrdersService`));
    const status = await stream.end();
    assert.equal(status.code, grpc.status.OK);
    assert.match(status.metadata.get('x-tracking-id')[0], UUID_RE);
  }
});

function check(port, service) {
  const health = client(proto.grpc.health.v1.Health, port);
  return new Promise((resolve) => {
    const call = health.Check({ service }, (error, response) => resolve({ error, response }));
    call.on('metadata', () => {});
  });
}

test('Health/Check: SERVING for the server and every service served, NOT_FOUND for others, without a token', async () => {
  for (const port of [server.plainPort, server.sandboxPort]) {
    for (const service of ['', `${PACKAGE}.OrdersService`, `${PACKAGE}.SandboxService`,
      'grpc.health.v1.Health', 'grpc.reflection.v1alpha.ServerReflection']) {
      const { error, response } = await check(port, service);
      assert.equal(error, null, `${service}: ${error?.message}`);
      assert.equal(response.status, 'SERVING', service);
    }
    for (const service of [`${PACKAGE}.NoSuchService`, `${PACKAGE}`, `${PACKAGE}.OrdersService/PostOrder`, 'x'.repeat(1000)]) {
      const { error } = await check(port, service);
      assert.equal(error?.code, grpc.status.NOT_FOUND, service.slice(0, 60));
      assert.match(error.metadata.get('message')[0], /Unknown service/);
      assert.match(error.metadata.get('x-tracking-id')[0], UUID_RE);
    }
  }
});

test('Health/Watch sends the current status, then NOT_SERVING and the end of the stream when the server stops', async () => {
  const own = await startServer();
  try {
    const health = client(proto.grpc.health.v1.Health, own.plainPort);
    const watch = (service) => {
      const call = health.Watch({ service });
      const seen = [];
      call.on('data', (r) => seen.push(r.status));
      call.on('error', () => {});
      const ended = new Promise((resolve) => call.on('status', resolve));
      return { seen, ended };
    };
    // An idle reflection stream does not hold the stop: it is ended with the watches.
    const idle = reflectionStream('v1', own.plainPort);
    assert.ok((await idle.ask({ list_services: '' })).list_services_response.service.length > 0);
    const overall = watch('');
    const unknown = watch(`${PACKAGE}.NoSuchService`);
    const deadline = Date.now() + 10000;
    while ((overall.seen.length < 1 || unknown.seen.length < 1) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(overall.seen, ['SERVING']);
    assert.deepEqual(unknown.seen, ['SERVICE_UNKNOWN'], 'an unknown service is watched, not refused');
    const stopStarted = Date.now();
    const exit = await own.stop();
    assert.ok(Date.now() - stopStarted < 4000, 'no open stream holds the stop for its grace period');
    assert.deepEqual(exit, { code: 0, signal: null });
    const status = await overall.ended;
    assert.deepEqual(overall.seen, ['SERVING', 'NOT_SERVING']);
    assert.equal(status.code, grpc.status.UNAVAILABLE);
    await unknown.ended;
    assert.equal((await idle.ended).code, grpc.status.UNAVAILABLE);
    assert.deepEqual(unknown.seen, ['SERVICE_UNKNOWN'], 'its status does not change');
  } finally {
    await own.stop();
  }
});
