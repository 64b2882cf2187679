// The market: the instruments' last prices, and for the chosen instrument a candle chart whose
// interval can be switched, its order book, its tape of trades and its trading status; all
// updated live from MarketDataStream (WebSocket), or by polling REST while the server serves no
// WebSocket streams. Messages only change state; drawing happens once per animation frame.

import { CandlestickSeries, createChart } from './lib/lightweight-charts.js';
import { ApiError, rest, Stream, REPLAY } from './api.js';
import { $, fixedRows, setClass, setText, setVar } from './dom.js';
import { directionMark, enumName, formatNano, formatTime, stepDecimals, toNano, toNumber } from './format.js';

const BOOK_DEPTH = 20; // a depth the contract allows (1, 10, 20, 30, 40, 50)
const TAPE_ROWS = 20;
const TAPE_KEEP = 200;
const CANDLES_LOADED = 500;
const POLL_MS = 500;
const CHART_MIN_MS = 200;
const DRAW_MIN_MS = 100;
// With the stream open, the shown instrument's trades and every last price are also read over
// REST this often, so that a print the stream did not bring still shows (after a restart of the
// server a stream has been seen to bring the book's changes and not the first prints).
const RECONCILE_MS = 2000;
const RECONCILE_BACK_MS = 5000;

export const INTERVALS = [
  { key: '1m', label: '1 min', candle: 'CANDLE_INTERVAL_1_MIN', sub: 'SUBSCRIPTION_INTERVAL_ONE_MINUTE' },
  { key: '5m', label: '5 min', candle: 'CANDLE_INTERVAL_5_MIN', sub: 'SUBSCRIPTION_INTERVAL_FIVE_MINUTES' },
  { key: '15m', label: '15 min', candle: 'CANDLE_INTERVAL_15_MIN', sub: 'SUBSCRIPTION_INTERVAL_FIFTEEN_MINUTES' },
  { key: '1h', label: '1 hour', candle: 'CANDLE_INTERVAL_HOUR', sub: 'SUBSCRIPTION_INTERVAL_ONE_HOUR' },
  { key: '1d', label: '1 day', candle: 'CANDLE_INTERVAL_DAY', sub: 'SUBSCRIPTION_INTERVAL_ONE_DAY' },
];

const UP = '#1d6fd1';
const DOWN = '#e07b00';

// The subscription answer that confirms each request: subscribeTradesRequest → subscribeTradesResponse.
const SUBSCRIPTION_KINDS = ['subscribeOrderBook', 'subscribeTrades', 'subscribeCandles', 'subscribeInfo',
  'subscribeLastPrice'];

function tradeKey(t) {
  return `${t.time}|${t.price?.units}|${t.price?.nano}|${t.quantity}|${t.direction}`;
}

export class Market {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.instruments = [];
    this.byUid = new Map();
    this.state = new Map(); // uid → {last, prev, status, trades, book, seen}
    // Subscription requests sent on the open stream and not answered yet, by request kind. The
    // server takes a stream's requests one at a time (each after the previous one's batch is
    // durable), so a print made before its subscription is answered is not streamed: the stream
    // is called live only when nothing is waiting here.
    this.awaiting = new Map();
    this.live = false;
    this.selected = null;
    this.interval = INTERVALS[0];
    this.stream = null;
    this.mode = 'idle'; // 'stream' | 'polling' | 'idle'
    this.dirty = new Set();
    this.replay = null;
    this.pollTimer = null;
    this.candleTimer = null;
    this.chart = null;
    this.series = null;
    this.lastBarTime = 0;
    this.lastChartDraw = 0;
    this.lastDraw = 0;
    this.messages = 0;
  }

  instrument(uid) {
    return this.byUid.get(uid);
  }

  st(uid) {
    let s = this.state.get(uid);
    if (!s) {
      // seen: trade key → the trade; each trade's `via` lists the paths that brought it
      // ('stream', 'reconcile', 'load'), first first.
      s = { last: null, prev: null, status: null, trades: [], seen: new Map(), book: null };
      this.state.set(uid, s);
    }
    return s;
  }

  async loadInstruments(token) {
    const kinds = ['Shares', 'Etfs', 'Bonds', 'Futures', 'Currencies'];
    const lists = await Promise.all(kinds.map((k) =>
      rest('InstrumentsService', k, { instrumentStatus: 'INSTRUMENT_STATUS_ALL' }, token)
        .then((r) => r.instruments ?? []).catch(() => [])));
    const all = [];
    for (const list of lists) {
      for (const i of list) {
        if (!i.uid || this.byUid.has(i.uid)) continue;
        const entry = {
          uid: i.uid, figi: i.figi, ticker: i.ticker || i.figi || i.name, classCode: i.classCode, name: i.name,
          lot: Number(i.lot ?? 1), currency: i.currency, step: i.minPriceIncrement,
          decimals: stepDecimals(i.minPriceIncrement),
        };
        all.push(entry);
        this.byUid.set(i.uid, entry);
      }
    }
    all.sort((a, b) => a.ticker.localeCompare(b.ticker));
    this.instruments = all;
    this.buildWatchlist();
    if (!this.selected || !this.byUid.has(this.selected)) this.selected = all[0]?.uid ?? null;
    this.app.instrumentsChanged(all);
  }

  buildWatchlist() {
    const tbody = $('#watchlist tbody', this.root);
    tbody.textContent = '';
    this.watchRows = new Map();
    for (const i of this.instruments) {
      const tr = document.createElement('tr');
      tr.dataset.uid = i.uid;
      const th = document.createElement('th');
      th.scope = 'row';
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link';
      button.textContent = i.ticker;
      button.title = i.name;
      button.setAttribute('aria-label', `Show ${i.ticker}, ${i.name}`);
      button.addEventListener('click', () => this.select(i.uid));
      th.appendChild(button);
      const price = document.createElement('td');
      price.className = 'num';
      const status = document.createElement('td');
      status.className = 'status';
      tr.append(th, price, status);
      tbody.appendChild(tr);
      this.watchRows.set(i.uid, { tr, price, status });
    }
  }

  async start(token) {
    this.token = token;
    await this.loadInstruments(token);
    this.setupChart();
    await this.loadSelected();
    this.openStream();
    this.pollReplay();
  }

  stop() {
    this.stream?.close();
    this.stream = null;
    this.awaiting.clear();
    this.setLive(false);
    clearTimeout(this.pollTimer);
    clearTimeout(this.reconcileTimer);
    clearTimeout(this.candleTimer);
    clearTimeout(this.replayTimer);
    this.mode = 'idle';
  }

  // --- the stream -------------------------------------------------------------------------

  subscriptions(action) {
    const all = this.instruments.map((i) => ({ instrumentId: i.uid }));
    const requests = [
      { subscribeLastPriceRequest: { subscriptionAction: action, instruments: all } },
      { subscribeInfoRequest: { subscriptionAction: action, instruments: all } },
    ];
    return requests.concat(this.selectedSubscriptions(action));
  }

  selectedSubscriptions(action, uid = this.selected, interval = this.interval) {
    if (!uid) return [];
    return [
      { subscribeOrderBookRequest: { subscriptionAction: action,
        instruments: [{ instrumentId: uid, depth: BOOK_DEPTH }] } },
      { subscribeCandlesRequest: { subscriptionAction: action, waitingClose: false,
        instruments: [{ instrumentId: uid, interval: interval.sub }] } },
      { subscribeTradesRequest: { subscriptionAction: action, instruments: [{ instrumentId: uid }] } },
    ];
  }

  openStream() {
    this.stream?.close();
    this.stream = new Stream({
      service: 'MarketDataStreamService',
      method: 'MarketDataStream',
      token: this.token,
      requests: () => {
        const requests = this.subscriptions('SUBSCRIPTION_ACTION_SUBSCRIBE');
        this.awaiting.clear();
        for (const r of requests) this.expectAnswer(r);
        this.checkLive();
        return requests;
      },
      onMessage: (m) => this.onMessage(m),
      onState: (state, detail) => this.onStreamState(state, detail),
    });
  }

  // A subscription request sent on the open stream, counted until its answer comes.
  send(request) {
    if (!this.stream?.send(request)) return;
    this.expectAnswer(request);
    this.checkLive();
  }

  expectAnswer(request) {
    const kind = Object.keys(request)[0].replace(/Request$/, '');
    this.awaiting.set(kind, (this.awaiting.get(kind) ?? 0) + 1);
  }

  onAnswer(kind) {
    const n = this.awaiting.get(kind) ?? 0;
    if (n <= 1) this.awaiting.delete(kind);
    else this.awaiting.set(kind, n - 1);
    this.checkLive();
  }

  checkLive() {
    this.setLive(this.mode === 'stream' && this.awaiting.size === 0);
  }

  setLive(live) {
    if (live === this.live) return;
    this.live = live;
    this.app.setLive(live);
  }

  onStreamState(state, detail) {
    if (state !== 'open') {
      this.awaiting.clear();
      this.setLive(false);
    }
    if (state === 'open') {
      this.app.notice('');
      this.setMode('stream');
      clearTimeout(this.pollTimer);
      this.scheduleReconcile();
      if (!this.replay) this.pollReplay();
      // The stream has it from here; what happened while it was away is read once.
      this.loadSelected();
    } else if (state === 'unavailable') {
      if (this.mode !== 'polling') this.setMode('polling');
      this.schedulePoll(0);
    } else if (state === 'error') {
      this.app.notice(`market data stream closed by the server: gRPC status ${detail.grpcStatus} ${detail.reason ?? ''}`);
      this.setMode('polling');
      this.schedulePoll(0);
    } else if (state === 'closed') {
      this.setMode('polling');
      this.schedulePoll(0);
    }
  }

  setMode(mode) {
    this.mode = mode;
    this.app.setFeedMode(mode);
  }

  onMessage(m) {
    this.messages++;
    if (m.lastPrice) this.onLastPrice(m.lastPrice.instrumentUid, m.lastPrice.price);
    else if (m.trade) this.onTrade(m.trade.instrumentUid, m.trade, 'stream');
    else if (m.orderbook) this.onBook(m.orderbook.instrumentUid, m.orderbook);
    else if (m.tradingStatus) this.onStatus(m.tradingStatus.instrumentUid, m.tradingStatus);
    else if (m.candle) this.onCandle(m.candle);
    else {
      for (const kind of SUBSCRIPTION_KINDS) {
        const answer = m[`${kind}Response`];
        if (!answer) continue;
        const list = answer.orderBookSubscriptions ?? answer.tradeSubscriptions ?? answer.candlesSubscriptions ??
          answer.infoSubscriptions ?? answer.lastPriceSubscriptions;
        for (const s of list ?? []) {
          if (s.subscriptionStatus && s.subscriptionStatus !== 'SUBSCRIPTION_STATUS_SUCCESS')
            this.app.notice(`subscription ${kind}: ${s.subscriptionStatus}`);
        }
        this.onAnswer(kind);
      }
    }
  }

  onLastPrice(uid, price) {
    if (!uid || !price) return;
    const s = this.st(uid);
    const nano = toNano(price);
    if (s.last !== nano) {
      s.prev = s.last;
      s.last = nano;
      this.dirty.add(`watch:${uid}`);
    }
  }

  // `via`: the path that brought it: 'stream', or over REST 'load' (the first state) or
  // 'reconcile' (a trade the stream may have brought already, or not yet).
  onTrade(uid, t, via) {
    if (!uid) return;
    const s = this.st(uid);
    const key = tradeKey(t);
    const held = s.seen.get(key);
    if (held) {
      if (!held.via.includes(via)) held.via.push(via);
      return;
    }
    t.via = [via];
    s.seen.set(key, t);
    if (via !== 'stream' && s.trades.length && s.trades[0].time > t.time) {
      const at = s.trades.findIndex((x) => x.time <= t.time);
      s.trades.splice(at < 0 ? s.trades.length : at, 0, t);
    } else {
      s.trades.unshift(t);
    }
    if (s.trades.length > TAPE_KEEP) {
      for (const old of s.trades.splice(TAPE_KEEP)) s.seen.delete(tradeKey(old));
    }
    if (uid === this.selected) this.dirty.add('tape');
  }

  onBook(uid, book) {
    if (!uid) return;
    this.st(uid).book = book;
    if (uid === this.selected) this.dirty.add('book');
  }

  onStatus(uid, status) {
    if (!uid) return;
    this.st(uid).status = status;
    this.dirty.add(`watch:${uid}`);
    if (uid === this.selected) this.dirty.add('status');
  }

  onCandle(c) {
    if (c.instrumentUid !== this.selected || c.interval !== this.interval.sub || !this.series) return;
    this.pendingBar = this.bar(c);
    this.dirty.add('chart');
  }

  // --- REST: the first state, and polling while no stream is served ------------------------

  async loadSelected() {
    const uid = this.selected;
    if (!uid) return;
    const token = this.token;
    const [book, trades, status, candles] = await Promise.allSettled([
      rest('MarketDataService', 'GetOrderBook', { instrumentId: uid, depth: BOOK_DEPTH }, token),
      rest('MarketDataService', 'GetLastTrades', { instrumentId: uid, from: '1970-01-01T00:00:00Z',
        to: '2099-12-31T00:00:00Z' }, token),
      rest('MarketDataService', 'GetTradingStatus', { instrumentId: uid }, token),
      rest('MarketDataService', 'GetCandles', { instrumentId: uid, interval: this.interval.candle,
        limit: CANDLES_LOADED }, token),
    ]);
    if (uid !== this.selected) return;
    if (book.status === 'fulfilled') this.onBook(uid, book.value);
    if (trades.status === 'fulfilled') {
      const list = [...(trades.value.trades ?? [])].sort((a, b) => (a.time < b.time ? -1 : 1));
      for (const t of list) this.onTrade(uid, t, 'load');
    }
    if (status.status === 'fulfilled') this.onStatus(uid, { ...status.value, instrumentUid: uid });
    if (candles.status === 'fulfilled' && this.series) {
      const bars = (candles.value.candles ?? []).map((c) => this.bar(c));
      this.series.setData(bars);
      this.lastBarTime = bars.length ? bars[bars.length - 1].time : 0;
    }
    await this.pollLastPrices();
  }

  async pollLastPrices() {
    const r = await rest('MarketDataService', 'GetLastPrices',
      { instrumentId: this.instruments.map((i) => i.uid) }, this.token).catch(() => null);
    for (const p of r?.lastPrices ?? []) this.onLastPrice(p.instrumentUid, p.price);
  }

  scheduleReconcile() {
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = setTimeout(async () => {
      if (this.mode !== 'stream') return;
      const uid = this.selected;
      // From RECONCILE_BACK_MS before the newest trade held, in the server's clock (a replay's too).
      const newest = this.st(uid).trades[0]?.time;
      const from = newest ? new Date(Date.parse(newest) - RECONCILE_BACK_MS).toISOString() : '1970-01-01T00:00:00Z';
      const trades = await rest('MarketDataService', 'GetLastTrades', { instrumentId: uid, from,
        to: '2099-12-31T00:00:00Z' }, this.token).catch(() => null);
      if (uid === this.selected) {
        const list = [...(trades?.trades ?? [])].sort((a, b) => (a.time < b.time ? -1 : 1));
        for (const t of list) this.onTrade(uid, t, 'reconcile');
      }
      await this.pollLastPrices();
      // The newest two candles of the shown interval, for the same reason.
      const candles = await rest('MarketDataService', 'GetCandles', { instrumentId: uid,
        interval: this.interval.candle, limit: 2 }, this.token).catch(() => null);
      if (uid === this.selected && this.series) {
        for (const c of candles?.candles ?? []) {
          const bar = this.bar(c);
          if (bar.time >= this.lastBarTime) {
            this.series.update(bar);
            this.lastBarTime = bar.time;
          }
        }
      }
      this.scheduleReconcile();
    }, RECONCILE_MS);
  }

  schedulePoll(delay = POLL_MS) {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => this.poll(), delay);
  }

  async poll() {
    if (this.mode !== 'polling') return;
    try {
      await this.loadSelected();
      this.app.reachable(true);
    } catch (error) {
      this.app.reachable(false, error);
    }
    this.schedulePoll();
  }

  async pollReplay() {
    clearTimeout(this.replayTimer);
    try {
      this.replay = await rest('ReplayService', 'GetReplayState', {}, this.token, REPLAY);
    } catch (error) {
      this.replay = null;
      this.dirty.add('replay');
      // Not a replay (UNIMPLEMENTED, or no route): asked again after the next (re)connection.
      if (error instanceof ApiError && (error.httpStatus === 501 || error.httpStatus === 404)) return;
    }
    this.dirty.add('replay');
    this.replayTimer = setTimeout(() => this.pollReplay(), 1000);
  }

  // --- choosing ----------------------------------------------------------------------------

  async select(uid) {
    if (!this.byUid.has(uid) || uid === this.selected) return;
    const old = this.selected;
    for (const r of this.selectedSubscriptions('SUBSCRIPTION_ACTION_UNSUBSCRIBE', old)) this.send(r);
    this.selected = uid;
    this.pendingBar = null;
    this.configureChart();
    for (const r of this.selectedSubscriptions('SUBSCRIPTION_ACTION_SUBSCRIBE')) this.send(r);
    this.dirty.add('tape').add('book').add('status').add('selection');
    this.app.instrumentSelected(uid);
    await this.loadSelected();
  }

  async setInterval(key) {
    const next = INTERVALS.find((i) => i.key === key);
    if (!next || next === this.interval) return;
    const old = this.interval;
    this.send(this.selectedSubscriptions('SUBSCRIPTION_ACTION_UNSUBSCRIBE', this.selected, old)[1]);
    this.interval = next;
    this.send(this.selectedSubscriptions('SUBSCRIPTION_ACTION_SUBSCRIBE')[1]);
    this.pendingBar = null;
    this.configureChart();
    this.dirty.add('selection');
    await this.loadSelected();
  }

  // --- the chart ---------------------------------------------------------------------------

  setupChart() {
    const el = $('#chart', this.root);
    if (this.chart) return;
    this.chart = createChart(el, {
      autoSize: true,
      // The library's logo is drawn from an inline <style> the page's policy refuses; the
      // attribution is in the page's legend instead.
      layout: { background: { color: '#ffffff' }, textColor: '#1b2733', fontSize: 12, attributionLogo: false },
      grid: { vertLines: { color: '#eef1f5' }, horzLines: { color: '#eef1f5' } },
      timeScale: { timeVisible: true, secondsVisible: false },
      rightPriceScale: { borderColor: '#c9d1db' },
    });
    this.series = this.chart.addSeries(CandlestickSeries, {
      upColor: UP, borderUpColor: UP, wickUpColor: UP,
      downColor: DOWN, borderDownColor: DOWN, wickDownColor: DOWN,
    });
    this.configureChart();
  }

  configureChart() {
    const i = this.instrument(this.selected);
    if (!this.series || !i) return;
    const step = toNumber(i.step) || 0.01;
    this.series.applyOptions({ priceFormat: { type: 'price', precision: i.decimals, minMove: step } });
    this.series.setData([]);
    this.lastBarTime = 0;
  }

  bar(c) {
    return {
      time: Math.floor(Date.parse(c.time) / 1000),
      open: toNumber(c.open), high: toNumber(c.high), low: toNumber(c.low), close: toNumber(c.close),
    };
  }

  // --- drawing (once per frame) ------------------------------------------------------------

  // The tables are drawn at most every DRAW_MIN_MS (the contract's order book changes at most
  // every 100 ms; a tape faster than that cannot be read): a frame with nothing to draw costs the
  // browser nothing, so the page keeps its frame rate however busy the market is.
  render() {
    if (!this.dirty.size) return;
    const now = performance.now();
    if (now - this.lastDraw < DRAW_MIN_MS) return;
    this.lastDraw = now;
    const dirty = this.dirty;
    this.dirty = new Set();
    for (const key of dirty) {
      if (key.startsWith('watch:')) this.renderWatch(key.slice(6));
    }
    if (dirty.has('selection')) this.renderSelection();
    if (dirty.has('book')) this.renderBook();
    if (dirty.has('tape')) this.renderTape();
    if (dirty.has('status')) this.renderStatus();
    // The chart redraws its canvas whole: at most every CHART_MIN_MS.
    if (this.pendingBar && now - this.lastChartDraw < CHART_MIN_MS) this.dirty.add('chart');
    else if (dirty.has('chart') && this.pendingBar) {
      this.lastChartDraw = now;
      if (this.pendingBar.time >= this.lastBarTime) {
        this.series.update(this.pendingBar);
        this.lastBarTime = this.pendingBar.time;
      }
      this.pendingBar = null;
    }
    if (dirty.has('replay')) this.renderReplay();
  }

  renderSelection() {
    const i = this.instrument(this.selected);
    setText($('#instrument-title', this.root), i ? `${i.ticker} · ${i.name}` : '—');
    setText($('#instrument-meta', this.root), i ? `${i.classCode} · lot ${i.lot} · step ${formatNano(toNano(i.step), i.decimals)} ${i.currency?.toUpperCase() ?? ''}` : '');
    for (const [uid, row] of this.watchRows ?? []) row.tr.classList.toggle('selected', uid === this.selected);
    for (const b of this.root.querySelectorAll('#intervals button')) {
      b.setAttribute('aria-pressed', String(b.dataset.interval === this.interval.key));
    }
  }

  renderWatch(uid) {
    const row = this.watchRows?.get(uid);
    const i = this.instrument(uid);
    if (!row || !i) return;
    const s = this.st(uid);
    const mark = s.prev == null || s.last == null || s.last === s.prev ? null
      : directionMark(s.last > s.prev ? 'X_BUY' : 'X_SELL');
    setText(row.price, s.last == null ? '—' : `${formatNano(s.last, i.decimals)} ${mark ? mark.glyph : ' '}`);
    setClass(row.price, `num ${mark ? mark.cls : ''}`);
    const word = this.statusWord(s.status);
    setText(row.status, word === 'trading' ? '' : word);
    row.tr.classList.toggle('halted', word !== '' && word !== 'trading');
  }

  statusWord(status) {
    if (!status) return '';
    const word = enumName(status.tradingStatus, 'SECURITY_TRADING_STATUS_');
    if (word === 'NORMAL_TRADING') return 'trading';
    // The operator's halt is the exchange's break (BREAK_IN_TRADING), as the real exchange sets it.
    if (word === 'BREAK_IN_TRADING') return 'halted';
    if (word === 'NOT_AVAILABLE_FOR_TRADING') return 'not available';
    return word.toLowerCase().replace(/_/g, ' ');
  }

  renderBook() {
    const i = this.instrument(this.selected);
    const book = this.st(this.selected).book;
    if (!this.bookRows) {
      this.bookRows = fixedRows($('#book tbody', this.root), BOOK_DEPTH, 4, [0, 1, 2, 3]);
    }
    const bids = book?.bids ?? [];
    const asks = book?.asks ?? [];
    const max = Math.max(1, ...bids.map((l) => Number(l.quantity)), ...asks.map((l) => Number(l.quantity)));
    for (let r = 0; r < BOOK_DEPTH; r++) {
      const { tds } = this.bookRows[r];
      const bid = bids[r];
      const ask = asks[r];
      setText(tds[0], bid ? String(bid.quantity) : '');
      setText(tds[1], bid ? formatNano(toNano(bid.price), i?.decimals ?? 2) : '');
      setText(tds[2], ask ? formatNano(toNano(ask.price), i?.decimals ?? 2) : '');
      setText(tds[3], ask ? String(ask.quantity) : '');
      setVar(tds[0], '--depth', bid ? `${Math.round((100 * Number(bid.quantity)) / max)}%` : '0%');
      setVar(tds[3], '--depth', ask ? `${Math.round((100 * Number(ask.quantity)) / max)}%` : '0%');
      setClass(tds[0], 'num bid-qty');
      setClass(tds[1], 'num bid');
      setClass(tds[2], 'num ask');
      setClass(tds[3], 'num ask-qty');
    }
    const limits = book?.limitDown || book?.limitUp
      ? `limits ${formatNano(toNano(book.limitDown), i?.decimals ?? 2)} … ${formatNano(toNano(book.limitUp), i?.decimals ?? 2)}`
      : '';
    setText($('#book-limits', this.root), limits);
  }

  renderTape() {
    const i = this.instrument(this.selected);
    const trades = this.st(this.selected).trades;
    if (!this.tapeRows) this.tapeRows = fixedRows($('#tape tbody', this.root), TAPE_ROWS, 4, [1, 2]);
    for (let r = 0; r < TAPE_ROWS; r++) {
      const { tr, tds } = this.tapeRows[r];
      const t = trades[r];
      if (!t) {
        for (const td of tds) setText(td, '');
        setClass(tr, '');
        continue;
      }
      const mark = directionMark(t.direction);
      setText(tds[0], formatTime(t.time));
      setText(tds[1], formatNano(toNano(t.price), i?.decimals ?? 2));
      setText(tds[2], String(t.quantity));
      setText(tds[3], `${mark.glyph} ${mark.word}`);
      setClass(tr, `trade ${mark.cls}`);
    }
  }

  renderStatus() {
    const s = this.st(this.selected).status;
    const el = $('#trading-status', this.root);
    const word = this.statusWord(s) || 'unknown';
    setText(el, word);
    el.className = `badge ${word === 'trading' ? 'ok' : 'warn'}`;
    const flags = s ? `limit orders ${s.limitOrderAvailableFlag ? 'yes' : 'no'} · market orders ${s.marketOrderAvailableFlag ? 'yes' : 'no'}` : '';
    setText($('#trading-flags', this.root), flags);
  }

  renderReplay() {
    const el = $('#replay', document);
    if (!this.replay) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    const r = this.replay;
    const done = r.printsTotal ? ` · ${r.printsDone}/${r.printsTotal} prints` : '';
    setText($('#replay-clock', document), `${formatTime(r.now, true)} UTC · speed ${r.speed}${r.finished ? ' · finished' : ''}${done}`);
  }
}

