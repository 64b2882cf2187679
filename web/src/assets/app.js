// The dashboard's wiring: the token (kept in this browser's session storage only), the
// connection's state and its recovery after a server restart, and one drawing pass per
// animation frame for every panel whose state changed.

import { OfflineError, rest } from './api.js';
import { $ } from './dom.js';
import { Accounts } from './accounts.js';
import { Health } from './health.js';
import { INTERVALS, Market } from './market.js';
import { Operator } from './operator.js';

const TOKEN_KEY = 'tinvestd.token';
const HEALTH_MS = 1000;
const RECONNECT_MS = 1000;

class App {
  constructor() {
    this.market = new Market($('#market'), this);
    this.accounts = new Accounts($('#accounts'), this);
    this.health = new Health($('#health'));
    this.operator = new Operator($('#operator'), this);
    this.token = sessionStorage.getItem(TOKEN_KEY) ?? '';
    this.online = null;
    this.started = false;
    this.feed = 'idle';
  }

  init() {
    const form = $('#token-form');
    form.token.value = this.token;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.token = form.token.value.trim();
      sessionStorage.setItem(TOKEN_KEY, this.token);
      this.connect();
    });
    const intervals = $('#intervals');
    intervals.innerHTML = INTERVALS.map((i) =>
      `<button type="button" data-interval="${i.key}" aria-pressed="false">${i.label}</button>`).join('');
    intervals.addEventListener('click', (e) => {
      const key = e.target.closest('button')?.dataset.interval;
      if (key) this.market.setInterval(key);
    });
    $('#instrument-select').addEventListener('change', (e) => this.market.select(e.target.value));
    $('#account').addEventListener('change', (e) => this.accounts.selectAccount(e.target.value));
    const ticket = $('#ticket');
    ticket.orderType.addEventListener('change', () => {
      ticket.price.disabled = ticket.orderType.value !== 'ORDER_TYPE_LIMIT';
    });
    ticket.addEventListener('submit', (e) => {
      e.preventDefault();
      this.accounts.placeOrder(ticket);
    });
    $('#orders').addEventListener('click', (e) => {
      const id = e.target.closest('button[data-cancel]')?.dataset.cancel;
      if (id) this.accounts.cancelOrder(id);
    });
    this.operator.bind();
    this.pollHealth();
    requestAnimationFrame(() => this.frame());
    if (this.token) this.connect();
  }

  async connect() {
    this.market.stop();
    this.accounts.stop();
    this.started = false;
    if (!this.token) return;
    this.setConnection('connecting', 'connecting…');
    try {
      await rest('UsersService', 'GetInfo', {}, this.token);
    } catch (error) {
      if (error instanceof OfflineError) {
        this.reachable(false, error);
        this.retry();
      } else {
        this.setConnection('refused', `token refused: ${error.code} ${error.message}`);
      }
      return;
    }
    try {
      await this.market.start(this.token);
      await this.accounts.start(this.token);
      this.instrumentSelected(this.market.selected);
      this.started = true;
      this.reachable(true);
    } catch (error) {
      this.reachable(false, error);
      this.retry();
    }
  }

  retry() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), RECONNECT_MS);
  }

  reachable(ok, error) {
    if (ok === this.online) return;
    const back = ok && this.online === false;
    this.online = ok;
    if (back) {
      this.market.stream?.kick();
      for (const s of this.accounts.streams) s.kick();
    }
    if (ok) this.setConnection('online', this.feedLabel());
    else this.setConnection('offline', `server unreachable, reconnecting… ${error?.message ?? ''}`);
  }

  // "live streams" only once every subscription of the market's stream is answered: a print made
  // before that is not streamed (the server answers a stream's requests one at a time).
  feedLabel() {
    if (this.feed === 'stream') return this.market.live ? 'connected · live streams' : 'connected · subscribing…';
    return this.feed === 'polling'
      ? 'connected · polling REST (no WebSocket streams served)' : 'connected';
  }

  setFeedMode(mode) {
    this.feed = mode;
    if (mode === 'stream') this.reachable(true);
    if (this.online) this.setConnection('online', this.feedLabel());
  }

  // The market's stream has every subscription answered (or no longer has): `data-live` on the
  // connection's status, which announces the change.
  setLive(live) {
    $('#connection').dataset.live = String(live);
    if (this.online) this.setConnection('online', this.feedLabel());
  }

  setConnection(state, text) {
    const el = $('#connection');
    el.dataset.state = state;
    el.textContent = text;
    document.body.dataset.connection = state;
  }

  notice(text) {
    $('#notice').textContent = text;
  }

  instrumentsChanged(list) {
    const select = $('#instrument-select');
    select.textContent = '';
    for (const i of list) {
      const option = document.createElement('option');
      option.value = i.uid;
      option.textContent = `${i.ticker} — ${i.name}`;
      select.appendChild(option);
    }
    select.value = this.market.selected ?? '';
    this.market.dirty.add('selection').add('book').add('tape').add('status');
    this.accounts.dirty = true;
  }

  instrumentSelected(uid) {
    $('#instrument-select').value = uid;
    const i = this.market.instrument(uid);
    $('#ticket-instrument').textContent = i ? `${i.ticker} (lot ${i.lot}, step ${i.step ? `${i.step.units}.${String(i.step.nano).padStart(9, '0')}`.replace(/\.?0+$/, '') : '—'})` : '—';
    this.accounts.dirty = true;
  }

  async pollHealth() {
    try {
      await this.health.poll();
      if (this.started) this.reachable(true);
      else if (this.token && this.online === false) this.connect();
    } catch (error) {
      if (error instanceof OfflineError) this.reachable(false, error);
    }
    setTimeout(() => this.pollHealth(), HEALTH_MS);
  }

  frame(now = performance.now()) {
    this.market.render();
    this.accounts.render(now);
    this.health.render();
    this.operator.render();
    requestAnimationFrame((t) => this.frame(t));
  }
}

const app = new App();
window.tinvestdDashboard = app; // for the browser test and the frame-rate bench
app.init();
