// Debian's Chromium, headless, driven over the DevTools protocol (the `ws` client pinned in
// web/package-lock.json): pages, script evaluation, keyboard input, screenshots, and what the
// page logged and asked for. Used by the dashboard's browser test and its frame-rate bench.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { sourceDir } from './tls-env.mjs';

const require = createRequire(path.join(sourceDir, 'web', 'package.json'));

export function findChromium() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

// Starts Chromium with a fresh profile and no network services of its own; resolves to a
// browser whose newPage() gives pages to drive. close() ends the process and removes the profile.
export async function launchBrowser({ width = 1600, height = 1000 } = {}) {
  const WebSocket = require('ws');
  const chromium = findChromium();
  if (!chromium) return null;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tinvestd-chromium-'));
  const child = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-extensions', '--hide-scrollbars', '--mute-audio', '--disable-renderer-backgrounding',
    '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
    `--window-size=${width},${height}`, `--user-data-dir=${profile}`, '--remote-debugging-port=0',
    'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${text}`)), 30000);
    child.stderr.on('data', (chunk) => {
      text += chunk;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`chromium exited ${code}:\n${text}`)));
  });
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map();
  const listeners = new Set();
  socket.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(`${msg.error.message} ${msg.error.data ?? ''}`));
      else resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners) l(msg);
    }
  });
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    socket.send(JSON.stringify({ id, method, params, sessionId }));
  });

  async function newPage() {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
    const page = {
      console: [], exceptions: [], requests: [], responses: [], failed: [],
      send: (method, params) => send(method, params, sessionId),
    };
    listeners.add((msg) => {
      if (msg.sessionId !== sessionId) return;
      const p = msg.params;
      if (msg.method === 'Runtime.consoleAPICalled') {
        page.console.push({ type: p.type, text: p.args.map((a) => a.value ?? a.description ?? '').join(' ') });
      } else if (msg.method === 'Runtime.exceptionThrown') {
        page.exceptions.push(p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text);
      } else if (msg.method === 'Log.entryAdded') {
        page.console.push({ type: p.entry.level, text: `${p.entry.source}: ${p.entry.text} ${p.entry.url ?? ''}` });
      } else if (msg.method === 'Network.requestWillBeSent') {
        page.requests.push(p.request.url);
      } else if (msg.method === 'Network.webSocketCreated') {
        page.requests.push(p.url);
      } else if (msg.method === 'Network.responseReceived') {
        page.responses.push({ url: p.response.url, status: p.response.status, headers: p.response.headers });
      } else if (msg.method === 'Network.loadingFailed') {
        page.failed.push(p);
      }
    });
    await page.send('Runtime.enable');
    await page.send('Log.enable');
    await page.send('Network.enable');
    await page.send('Page.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    page.goto = async (to) => {
      const loaded = new Promise((resolve) => {
        const l = (msg) => {
          if (msg.sessionId === sessionId && msg.method === 'Page.loadEventFired') {
            listeners.delete(l);
            resolve();
          }
        };
        listeners.add(l);
      });
      await page.send('Page.navigate', { url: to });
      await loaded;
    };
    // Evaluates an expression (awaiting a promise) and returns its value.
    page.eval = async (expression) => {
      const r = await page.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
      if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value;
    };
    // Polls `expression` until it is truthy; resolves to {value, ms} or rejects after timeoutMs.
    page.waitFor = async (expression, timeoutMs = 10000, stepMs = 20) => {
      const start = Date.now();
      for (;;) {
        const value = await page.eval(expression);
        if (value) return { value, ms: Date.now() - start };
        if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${expression}`);
        await new Promise((r) => setTimeout(r, stepMs));
      }
    };
    page.type = async (text) => page.send('Input.insertText', { text });
    page.key = async (key, code = key, keyCode = 0, text = undefined) => {
      await page.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code, windowsVirtualKeyCode: keyCode, text });
      await page.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code, windowsVirtualKeyCode: keyCode });
    };
    // The whole page, from its top, whatever is scrolled into view.
    page.screenshot = async (file) => {
      const { cssContentSize } = await page.send('Page.getLayoutMetrics');
      const clip = { x: 0, y: 0, width: Math.ceil(cssContentSize.width), height: Math.ceil(cssContentSize.height), scale: 1 };
      const { data } = await page.send('Page.captureScreenshot', { format: 'png', clip, captureBeyondViewport: true });
      fs.writeFileSync(file, Buffer.from(data, 'base64'));
      return file;
    };
    return page;
  }

  async function close() {
    try {
      await send('Browser.close');
    } catch {
      // already gone
    }
    socket.close();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    if (child.exitCode === null) await exited;
    clearTimeout(timer);
    fs.rmSync(profile, { recursive: true, force: true });
  }

  return { newPage, close };
}
