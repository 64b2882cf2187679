// The operator's controls (tinvestd.admin.v1.AdminService as JSON at POST /admin/<Method>, with
// the admin token): halt and resume the chosen instrument, the exchange's latency and reject
// injection, price moves, and a replay's clock: its step and its speed (shown when replaying). Whatever the operator does reaches every
// connected bot through the same streams the page reads.

import { admin, ApiError } from './api.js';
import { $, esc } from './dom.js';
import { parseDecimal } from './format.js';

const STATS_MS = 2000;

export class Operator {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.token = sessionStorage.getItem('tinvestd.admin') ?? '';
    this.stats = null;
    this.dirty = false;
    this.timer = null;
  }

  bind() {
    const form = $('#admin-token-form', this.root);
    form.adminToken.value = this.token;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.token = form.adminToken.value.trim();
      sessionStorage.setItem('tinvestd.admin', this.token);
      this.pollStats();
    });
    const act = (id, fn) => $(id, this.root).addEventListener('click', () => this.run(fn));
    act('#op-halt', () => admin('HaltTrading', { instrumentId: this.uid() }, this.token));
    act('#op-resume', () => admin('ResumeTrading', { instrumentId: this.uid() }, this.token));
    $('#op-faults', this.root).addEventListener('submit', (e) => {
      e.preventDefault();
      const f = e.target;
      const body = {};
      for (const [field, name] of [['ackDelayUs', 'ack'], ['fillDelayUs', 'fill'], ['rejectPpm', 'reject']]) {
        const v = f[name].value.trim();
        if (v !== '') body[field] = v;
      }
      this.run(() => admin('SetExchangeFaults', body, this.token));
    });
    $('#op-move', this.root).addEventListener('submit', (e) => {
      e.preventDefault();
      const f = e.target;
      const price = f.price.value.trim();
      const walk = f.walk.value.trim();
      const body = { instrumentId: this.uid() };
      if (price !== '') {
        if (!parseDecimal(price)) {
          this.show('The price is not a decimal number.', true);
          return;
        }
        body.price = price;
      } else {
        body.walk = Number(walk || '1');
      }
      this.run(() => admin('MovePrice', body, this.token));
    });
    $('#op-advance', this.root).addEventListener('submit', (e) => {
      e.preventDefault();
      const ms = e.target.byMs.value.trim();
      this.run(() => admin('Advance', { byMs: ms }, this.token));
    });
    $('#op-speed', this.root).addEventListener('submit', (e) => {
      e.preventDefault();
      const speed = e.target.speed.value.trim();
      if (speed === '') {
        this.show('Type a speed: max, step, or how many times real time.', true);
        return;
      }
      this.run(() => admin('SetReplaySpeed', { speed }, this.token));
    });
    if (this.token) this.pollStats();
  }

  uid() {
    return this.app.market.selected;
  }

  async run(fn) {
    if (!this.token) {
      this.show('Enter the admin token first.', true);
      return;
    }
    try {
      const r = await fn();
      this.show(this.describe(r), false);
      this.pollStats();
    } catch (error) {
      if (error instanceof ApiError) this.show(`Refused ${error.code || `HTTP ${error.httpStatus}`}: ${error.message}`, true);
      else this.show(`Not sent: ${error.message}`, true);
    }
  }

  describe(r) {
    if (r.instrumentUid) {
      const i = this.app.market.instrument(r.instrumentUid);
      return `${i?.ticker ?? r.ticker}: ${r.halted ? 'halted' : 'trading'} · last ${r.lastPrice || '—'} · ` +
        `bid ${r.bestBid || '—'} · ask ${r.bestAsk || '—'} · maker at ${r.referencePrice || '—'}`;
    }
    if ('rejectPpm' in r || 'ackDelayUs' in r) return `faults: ack ${r.ackDelayUs ?? 0} µs · fill ${r.fillDelayUs ?? 0} µs · reject ${r.rejectPpm ?? 0} ppm`;
    if (r.now) return `replay clock ${r.now}${r.speed ? ` · speed ${r.speed}` : ''}`;
    return 'done';
  }

  show(text, refused) {
    const out = $('#op-result', this.root);
    out.textContent = text;
    out.className = `result ${refused ? 'refused' : 'accepted'}`;
  }

  async pollStats() {
    clearTimeout(this.timer);
    if (!this.token) return;
    try {
      this.stats = await admin('GetStats', {}, this.token);
    } catch (error) {
      this.stats = { error: error instanceof ApiError ? `${error.code} ${error.message}` : 'the server is away' };
    }
    this.dirty = true;
    this.timer = setTimeout(() => this.pollStats(), STATS_MS);
  }

  render() {
    if (!this.dirty) return;
    this.dirty = false;
    const s = this.stats;
    const el = $('#op-stats', this.root);
    if (!s) {
      el.textContent = '';
      return;
    }
    if (s.error) {
      el.textContent = `stats: ${s.error}`;
      return;
    }
    // The speed control only where there is a replay's clock to change.
    $('#op-speed', this.root).hidden = !s.clock || s.clock === 'live';
    const halted = (s.instruments ?? []).filter((i) => i.halted).map((i) => i.ticker);
    const f = s.faults ?? {};
    el.innerHTML = `<span>clock ${esc(s.clock)}</span> · <span>journal #${esc(s.journalSeq)}</span> · ` +
      `<span>open orders ${esc(s.openOrders ?? 0)}</span> · <span>faults: ack ${esc(f.ackDelayUs ?? 0)} µs, ` +
      `fill ${esc(f.fillDelayUs ?? 0)} µs, reject ${esc(f.rejectPpm ?? 0)} ppm</span> · ` +
      `<span>halted: ${halted.length ? esc(halted.join(', ')) : 'none'}</span>`;
  }
}
