// Broker health from GET /metrics (docs/METRICS.md): the page reads the Prometheus text every
// second and shows rates and percentiles of the window since the previous reading (or since the
// start when it has none yet).

import { metricsText } from './api.js';
import { esc } from './dom.js';

// Prometheus text → [{name, labels: {k: v}, value}].
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    if (match[2]) {
      for (const m of match[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
    }
    const value = match[3] === '+Inf' ? Infinity : Number(match[3]);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

// The cumulative buckets of one histogram series: [{le, count}] sorted by bound.
function buckets(samples, name, filter = () => true) {
  return samples
    .filter((s) => s.name === `${name}_bucket` && filter(s.labels))
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
}

function subtract(now, before) {
  if (!before || before.length !== now.length) return now;
  return now.map((b, i) => ({ le: b.le, count: b.count - before[i].count }));
}

// The bucket bound at or below which fraction q of the observations fall (an upper bound).
export function quantile(cumulative, q) {
  const total = cumulative.length ? cumulative[cumulative.length - 1].count : 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (const b of cumulative) if (b.count >= rank) return b.le;
  return Infinity;
}

function seconds(value) {
  if (value == null) return '—';
  if (value === Infinity) return '> max';
  if (value < 1e-3) return `≤ ${Math.round(value * 1e6)} µs`;
  if (value < 1) return `≤ ${+(value * 1e3).toFixed(1)} ms`;
  return `≤ ${value} s`;
}

const SHORT = /^\/(?:tinkoff\.public\.invest\.api\.contract\.v1|tinvestd\.\w+\.v1)\./;
const shortMethod = (m) => m.replace(SHORT, '');

export class Health {
  constructor(root) {
    this.root = root;
    this.previous = null;
    this.dirty = false;
    this.view = null;
    this.errors = new Map(); // "method code" → count seen since the page opened
    this.baseline = null;
    // The server's error table (assets/errors.json, generated from src/api/errors_table.c at
    // build time): code → {message, grpcStatus, grpcStatusName}.
    this.catalogue = null;
  }

  async loadCatalogue() {
    if (this.catalogue) return;
    const res = await fetch('/assets/errors.json');
    if (res.ok) this.catalogue = await res.json();
  }

  async poll() {
    const text = await metricsText();
    await this.loadCatalogue().catch(() => {});
    const now = performance.now();
    const samples = parseMetrics(text);
    const calls = new Map();
    for (const s of samples) {
      if (s.name !== 'tinvestd_grpc_calls_total') continue;
      const key = `${s.labels.method} ${s.labels.code}`;
      calls.set(key, s.value);
    }
    const hist = {
      postAsync: buckets(samples, 'tinvestd_grpc_call_duration_seconds',
        (l) => l.method?.endsWith('OrdersService/PostOrderAsync')),
      write: buckets(samples, 'tinvestd_journal_write_seconds'),
      fsync: buckets(samples, 'tinvestd_journal_fdatasync_seconds'),
    };
    const gauges = {
      streams: samples.filter((s) => s.name === 'tinvestd_open_streams'),
      inbox: samples.find((s) => s.name === 'tinvestd_engine_inbox_jobs')?.value ?? null,
      sealed: samples.find((s) => s.name === 'tinvestd_engine_sealed_batches')?.value ?? null,
      slowest: this.slowest(samples),
    };
    const reading = { at: now, calls, hist };
    const prev = this.previous;
    // A restarted server starts its counters again: a counter going down starts a new window.
    const restarted = prev && [...calls].some(([k, v]) => (prev.calls.get(k) ?? 0) > v);
    const base = prev && !restarted ? prev : null;
    const dt = base ? (now - base.at) / 1000 : null;
    if (!this.baseline || restarted) this.baseline = new Map(calls);
    const perMethod = new Map();
    for (const [key, value] of calls) {
      const [method, code] = key.split(' ');
      const delta = value - (base?.calls.get(key) ?? 0);
      const row = perMethod.get(method) ?? { method, rate: 0, total: 0 };
      row.total += value;
      if (dt) row.rate += delta / dt;
      perMethod.set(method, row);
      if (code !== '0') {
        const seen = value - (this.baseline.get(key) ?? 0);
        if (seen > 0) this.errors.set(key, seen);
      }
    }
    this.view = {
      methods: [...perMethod.values()].sort((a, b) => b.rate - a.rate || b.total - a.total),
      postAsync: this.percentiles(hist.postAsync, base?.hist.postAsync),
      write: this.percentiles(hist.write, base?.hist.write),
      fsync: this.percentiles(hist.fsync, base?.hist.fsync),
      streams: gauges.streams,
      inbox: gauges.inbox,
      sealed: gauges.sealed,
      slowest: gauges.slowest,
      dt,
    };
    this.previous = reading;
    this.dirty = true;
  }

  // The streams with the most messages waiting (tinvestd_stream_backlog_messages), each with its
  // limit (tinvestd_stream_backlog_limit_messages of the same stream) when the scrape has it.
  slowest(samples) {
    const limits = new Map(samples.filter((s) => s.name === 'tinvestd_stream_backlog_limit_messages')
      .map((s) => [s.labels.stream, s.value]));
    return samples.filter((s) => s.name === 'tinvestd_stream_backlog_messages').map((s) => ({
      method: s.labels.method ?? '', stream: s.labels.stream ?? '', queued: s.value,
      limit: limits.get(s.labels.stream) ?? null,
    })).sort((a, b) => b.queued - a.queued);
  }

  percentiles(now, before) {
    let window = subtract(now, before);
    let label = 'last second';
    if (!window.length || window[window.length - 1].count <= 0) {
      window = now;
      label = 'since start';
    }
    const count = window.length ? window[window.length - 1].count : 0;
    return { p50: quantile(window, 0.5), p90: quantile(window, 0.9), p99: quantile(window, 0.99),
      count, label };
  }

  render() {
    if (!this.dirty || !this.view) return;
    this.dirty = false;
    const v = this.view;
    const calls = this.root.querySelector('#health-calls tbody');
    const rows = v.methods.slice(0, 12).map((m) =>
      `<tr><th scope="row">${shortMethod(m.method)}</th><td class="num">${m.rate.toFixed(1)}</td>` +
      `<td class="num">${m.total}</td></tr>`);
    calls.innerHTML = rows.join('') || '<tr><td colspan="3" class="empty">no calls yet</td></tr>';
    const lat = this.root.querySelector('#health-latency tbody');
    const line = (name, p) => `<tr><th scope="row">${name}</th><td class="num">${seconds(p.p50)}</td>` +
      `<td class="num">${seconds(p.p90)}</td><td class="num">${seconds(p.p99)}</td>` +
      `<td class="num">${p.count}</td><td>${p.label}</td></tr>`;
    lat.innerHTML = line('PostOrderAsync', v.postAsync) + line('journal write', v.write) +
      line('journal fdatasync', v.fsync);
    const streams = this.root.querySelector('#health-streams tbody');
    const open = v.streams.filter((s) => s.value > 0);
    streams.innerHTML = open.map((s) =>
      `<tr><th scope="row">${shortMethod(s.labels.method ?? '')}</th><td class="num">${s.value}</td></tr>`)
      .join('') || '<tr><td colspan="2" class="empty">no open streams</td></tr>';
    this.root.querySelector('#health-queues').textContent =
      `core inbox ${v.inbox ?? '—'} jobs · batches waiting for fdatasync ${v.sealed ?? '—'}`;
    const slowest = this.root.querySelector('#health-slowest tbody');
    slowest.innerHTML = v.slowest.map((s) => {
      const share = s.limit ? `${((100 * s.queued) / s.limit).toFixed(1)} %` : '—';
      return `<tr data-stream="${Number(s.stream)}"><th scope="row">${esc(shortMethod(s.method))}</th>` +
        `<td class="num">${Number(s.stream)}</td><td class="num queued">${s.queued}</td>` +
        `<td class="num share">${share}</td></tr>`;
    }).join('') || '<tr><td colspan="4" class="empty">no open streams</td></tr>';
    const errors = this.root.querySelector('#health-errors tbody');
    errors.innerHTML = [...this.errors].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([key, n]) => {
      const [method, code] = key.split(' ');
      const known = this.catalogue?.[code];
      const message = known ? `${code} — ${known.message}` : code;
      return `<tr><th scope="row">${esc(shortMethod(method))}</th><td class="num code">${esc(code)}</td>` +
        `<td class="message" data-code="${esc(code)}">${esc(message)}</td><td class="num">${n}</td></tr>`;
    }).join('') || '<tr><td colspan="4" class="empty">no refusals since the page opened</td></tr>';
  }
}
