// Test harness: starts the real tinvestd binary on free loopback ports and builds clients.
//
// Every server started here stops when its test file ends (the `stop` returned by startServer,
// plus an exit hook as a safety net), so no process outlives the test run.
import { sourceDir, workDir, certPath, keyPath } from './tls-env.mjs';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createChannel, createClientFactory, ChannelCredentials, Metadata, ClientError } from 'nice-grpc';
import { TinkoffInvestApi } from 'tinkoff-invest-api';

export { sourceDir, certPath };
export const binary = process.env.TINVESTD_BIN ?? join(sourceDir, 'build', 'tinvestd');
export const demoConfigPath = join(sourceDir, 'config', 'demo.json');
export const demoConfig = JSON.parse(readFileSync(demoConfigPath, 'utf8'));
// The demo's instruments live in its reference directory; a configuration a test writes elsewhere
// from demoConfig names that directory by its absolute path, so it keeps them.
export const demoReferenceDir = join(sourceDir, 'data', 'reference');
demoConfig.reference_dir = demoReferenceDir;
export const demoInstruments = JSON.parse(
  readFileSync(join(demoReferenceDir, 'instruments.json'), 'utf8')).instruments;

/**
 * demoConfig with the demo's instruments inline (same order, same indexes) and no reference
 * directory: for tests that change an instrument's settings.
 */
export function inlineDemoConfig() {
  const config = structuredClone(demoConfig);
  delete config.reference_dir;
  config.instruments = structuredClone(demoInstruments);
  return config;
}

const running = new Set();
// Configuration files the tests write next to the system's temporary files (tinvestd-*.json)
// go when the test file ends.
const scratchConfigs = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const path of scratchConfigs) rmSync(path, { force: true });
});

let serverCount = 0;

/**
 * Starts tinvestd with all four listeners (the broker's endpoint and the sandbox endpoint, each
 * plaintext and TLS); resolves to { plainPort, tlsPort, sandboxPort, sandboxTlsPort, dataDir,
 * stop(), output() }.
 */
export async function startServer({ config = demoConfigPath, args = [], dataDir } = {}) {
  dataDir ??= join(workDir, `data-${++serverCount}`);
  if (dirname(config) === tmpdir() && /^tinvestd-.*\.json$/.test(basename(config))) scratchConfigs.add(config);
  const child = spawn(binary, [
    '--config', config, '--data-dir', dataDir,
    '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0',
    '--sandbox-listen', '127.0.0.1:0', '--sandbox-tls-listen', '127.0.0.1:0',
    '--tls-cert', certPath, '--tls-key', keyPath, ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolveExit) => child.on('exit', (code, signal) => {
    running.delete(child);
    resolveExit({ code, signal });
  }));
  // Every line of standard output, for waitForLine (a replay prints one when it finishes).
  const stdoutLines = [];
  const lineWaiters = new Set();
  const firstLine = await new Promise((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (stdoutLines.length === 0) resolveLine(line);
      stdoutLines.push(line);
      for (const waiter of lineWaiters) waiter(line);
    });
    exited.then(({ code }) => reject(new Error(`tinvestd exited with ${code} before listening:\n${stderr}`)));
  });
  const ports = parseListening(firstLine);
  return {
    plainPort: ports.plaintext,
    tlsPort: ports.tls,
    sandboxPort: ports.sandbox,
    sandboxTlsPort: ports.sandbox_tls,
    httpPort: ports.http,
    httpsPort: ports.https,
    dataDir,
    pid: child.pid,
    output: () => stderr,
    exited,
    /** Resolves to the first line of standard output that matches `pattern` (seen or to come). */
    waitForLine(pattern, timeoutMs = 120000) {
      const seen = stdoutLines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(() => {
          lineWaiters.delete(waiter);
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        const waiter = (line) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          lineWaiters.delete(waiter);
          resolveLine(line);
        };
        lineWaiters.add(waiter);
      });
    },
    /** Graceful stop; resolves to the exit status. */
    async stop(signal = 'SIGTERM') {
      if (!running.has(child)) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

/**
 * The first line tinvestd prints, `listening plaintext=H:P tls=H:P sandbox=H:P sandbox_tls=H:P
 * http=H:P https=H:P` (in this order; a listener not asked for is left out), as { plaintext, tls,
 * sandbox, sandbox_tls, http, https } ports.
 */
export function parseListening(line) {
  const match = /^listening((?: (?:plaintext|tls|sandbox|sandbox_tls|http|https)=[\w.:-]+:\d+)+)$/.exec(line);
  if (!match) throw new Error(`unexpected first line: ${line}`);
  const ports = {};
  const order = [];
  for (const part of match[1].trim().split(' ')) {
    const [name, address] = part.split('=');
    ports[name] = Number(address.slice(address.lastIndexOf(':') + 1));
    order.push(name);
  }
  const expected = ['plaintext', 'tls', 'sandbox', 'sandbox_tls', 'http', 'https'].filter((name) => name in ports);
  if (order.join() !== expected.join()) throw new Error(`listeners out of order: ${line}`);
  return ports;
}

/**
 * The official-style SDK client (npm tinkoff-invest-api). `sandbox: true` connects to the sandbox
 * endpoint, where the ordinary services act on the token's sandbox accounts.
 */
export function sdk(server, token, { tls = false, sandbox = false } = {}) {
  const port = sandbox ? (tls ? server.sandboxTlsPort : server.sandboxPort) : (tls ? server.tlsPort : server.plainPort);
  // The SDK speaks plaintext only to a host starting with `localhost`, TLS to any other.
  const endpoint = tls ? `127.0.0.1:${port}` : `localhost:${port}`;
  return new TinkoffInvestApi({ token, endpoint, appName: 'tinvestd-tests' });
}

const channels = [];
/**
 * A client of one service built from the SDK's own generated definitions but without its error
 * middleware, so tests see the raw wire: status, details (the numeric code) and trailers.
 */
export function rawClient(server, definition, token, { sandbox = false } = {}) {
  const port = sandbox ? server.sandboxPort : server.plainPort;
  const channel = createChannel(`127.0.0.1:${port}`, ChannelCredentials.createInsecure());
  channels.push(channel);
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return createClientFactory().create(definition, channel, { '*': { metadata } });
}

export function closeClients() {
  for (const channel of channels.splice(0)) channel.close();
}

/** Calls `fn(options)` and returns { response, header, trailer } or { error, header, trailer }. */
export async function callRaw(fn) {
  const seen = {};
  const options = { onHeader: (h) => { seen.header = h; }, onTrailer: (t) => { seen.trailer = t; } };
  try {
    return { response: await fn(options), ...seen };
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return { error, ...seen };
  }
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
