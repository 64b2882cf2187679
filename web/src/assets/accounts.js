// An account as its token sees it: cash and blocked cash, positions and P&L, open orders and
// stop orders with their state, executions and operations. Orders appear and change state live
// from OrderStateStream and executions from TradesStream (WebSocket); the tables are read again
// over REST after each change (and every second while no stream is served). The order ticket
// places orders through REST PostOrder; a refusal shows its T-Invest code and message.

import { ApiError, OfflineError, rest, Stream } from './api.js';
import { $, esc } from './dom.js';
import { directionMark, enumName, formatMoney, formatNano, formatQuotation, formatTime,
  onStep, parseDecimal, toNano } from './format.js';

// The operations of an order's trades, the broker's margin call's included.
const TRADE_OPERATIONS = new Set(['OPERATION_TYPE_BUY', 'OPERATION_TYPE_SELL',
  'OPERATION_TYPE_BUY_MARGIN', 'OPERATION_TYPE_SELL_MARGIN']);
const SELL_OPERATIONS = new Set(['OPERATION_TYPE_SELL', 'OPERATION_TYPE_SELL_MARGIN']);

const POLL_MS = 1000;
// Under a busy stream the tables are read again at most this often.
const REFRESH_MIN_MS = 1000;
// Orders kept in memory: the open ones and the newest ended ones up to this many in all.
const ORDERS_KEPT = 300;
const ORDERS_SHOWN = 30;
const OPERATIONS_SHOWN = 20;
const EXECUTIONS_SHOWN = 20;
const EXECUTIONS_KEPT = 200;
const REJECTIONS_KEPT = 10;
const RENDER_MIN_MS = 200;

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// An execution by its time, quantity and price (the stream's trade id and the operation's trade
// number need not agree).
function executionKey(e) {
  return `${e.time}|${e.quantity}|${e.price?.units}|${e.price?.nano}`;
}

function signClass(nano) {
  if (nano == null || nano === 0n) return '';
  return nano > 0n ? 'up' : 'down';
}

function signed(nano, decimals) {
  if (nano == null) return '—';
  const glyph = nano > 0n ? '▲ ' : nano < 0n ? '▼ ' : '';
  return glyph + formatNano(nano, decimals);
}

export class Accounts {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.token = null;
    this.accountId = null;
    // The newest state known of each order, by the client's key (order_request_id) where known:
    // the broker names an order by its own id until the exchange acknowledges it and by the
    // exchange's number after, so one order can arrive under two ids.
    this.orders = new Map();
    this.alias = new Map(); // an order id → the key its order is kept under
    this.executions = [];
    this.rejections = [];
    this.data = null;
    this.dirty = false;
    this.streams = [];
    this.refreshTimer = null;
    this.pollTimer = null;
    this.polling = false;
  }

  async start(token) {
    this.token = token;
    const r = await rest('UsersService', 'GetAccounts', {}, token);
    const select = $('#account', this.root);
    const accounts = r.accounts ?? [];
    select.innerHTML = accounts.map((a) =>
      `<option value="${esc(a.id)}">${esc(a.name || a.id)} (${esc(a.id)})</option>`).join('');
    if (!accounts.some((a) => a.id === this.accountId)) this.accountId = accounts[0]?.id ?? null;
    select.value = this.accountId ?? '';
    this.openStreams();
    await this.refresh();
  }

  stop() {
    for (const s of this.streams) s.close();
    this.streams = [];
    clearTimeout(this.pollTimer);
    clearTimeout(this.refreshTimer);
  }

  async selectAccount(id) {
    if (id === this.accountId) return;
    this.accountId = id;
    this.orders.clear();
    this.alias.clear();
    this.executions = [];
    this.openStreams();
    await this.refresh();
  }

  openStreams() {
    for (const s of this.streams) s.close();
    this.streams = [];
    if (!this.accountId) return;
    const accounts = [this.accountId];
    const onState = (state) => {
      if (state === 'open') {
        this.polling = false;
        clearTimeout(this.pollTimer);
        this.refreshSoon();
      } else if (!this.polling) {
        this.polling = true;
        this.schedulePoll(0);
      }
    };
    this.streams.push(new Stream({
      service: 'OrdersStreamService', method: 'OrderStateStream', token: this.token,
      requests: () => [{ accounts }],
      onMessage: (m) => {
        if (m.orderState) {
          this.onOrderState(m.orderState);
          this.refreshSoon();
        }
      },
      onState,
    }));
    this.streams.push(new Stream({
      service: 'OrdersStreamService', method: 'TradesStream', token: this.token,
      requests: () => [{ accounts }],
      onMessage: (m) => {
        if (m.orderTrades) this.onOrderTrades(m.orderTrades);
      },
      onState: () => {},
    }));
  }

  schedulePoll(delay = POLL_MS) {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(async () => {
      if (!this.polling) return;
      await this.refresh();
      this.schedulePoll();
    }, delay);
  }

  refreshSoon() {
    if (this.refreshTimer) return;
    const wait = Math.max(150, REFRESH_MIN_MS - (performance.now() - (this.lastRefresh ?? -Infinity)));
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refresh();
    }, wait);
  }

  // The oldest ended orders leave once more than ORDERS_KEPT are held.
  trimOrders() {
    if (this.orders.size <= ORDERS_KEPT) return;
    for (const [key, o] of this.orders) {
      if (this.orders.size <= ORDERS_KEPT) break;
      if (o.open) continue;
      this.orders.delete(key);
      if (o.orderId && this.alias.get(o.orderId) === key) this.alias.delete(o.orderId);
    }
    if (this.alias.size > 4 * ORDERS_KEPT) this.alias.clear();
  }

  keyOf(orderId, requestId) {
    const key = requestId || this.alias.get(orderId) || orderId;
    if (orderId && key !== orderId) {
      this.alias.set(orderId, key);
      const stray = this.orders.get(orderId);
      if (stray) {
        this.orders.delete(orderId);
        this.orders.set(key, { ...stray, ...this.orders.get(key) });
      }
    }
    return key;
  }

  onOrderState(o) {
    const key = this.keyOf(o.orderId, o.orderRequestId);
    const known = this.orders.get(key) ?? {};
    this.orders.set(key, {
      ...known,
      orderId: o.orderId,
      instrumentUid: o.instrumentUid,
      ticker: o.ticker,
      direction: o.direction,
      orderType: o.orderType,
      status: o.executionReportStatus,
      cause: o.statusInfo,
      lotsRequested: o.lotsRequested,
      lotsExecuted: o.lotsExecuted,
      price: o.orderPrice ?? o.initialOrderPrice,
      time: o.createdAt,
      live: true,
    });
    this.trimOrders();
    this.dirty = true;
  }

  onOrderTrades(t) {
    for (const trade of t.trades ?? []) {
      this.executions.unshift({ time: trade.dateTime, orderId: t.orderId, instrumentUid: t.instrumentUid,
        direction: t.direction, price: trade.price, quantity: trade.quantity, id: trade.tradeId });
    }
    this.executions.length = Math.min(this.executions.length, EXECUTIONS_KEPT);
    this.dirty = true;
  }

  async refresh() {
    const id = this.accountId;
    if (!id) return;
    this.lastRefresh = performance.now();
    const token = this.token;
    const calls = await Promise.allSettled([
      rest('OperationsService', 'GetPortfolio', { accountId: id, currency: 'RUB' }, token),
      rest('OperationsService', 'GetPositions', { accountId: id }, token),
      rest('OrdersService', 'GetOrders', { accountId: id }, token),
      rest('StopOrdersService', 'GetStopOrders', { accountId: id }, token),
      // The newest page only: an account that trades all day has many operations.
      rest('OperationsService', 'GetOperationsByCursor', { accountId: id, limit: OPERATIONS_SHOWN }, token),
      // A margin account's figures; a cash account is answered 30051 (no margin trading).
      rest('UsersService', 'GetMarginAttributes', { accountId: id }, token),
    ]);
    if (id !== this.accountId) return;
    const offline = calls.every((c) => c.status === 'rejected' && c.reason instanceof OfflineError);
    this.app.reachable(!offline, offline ? calls[0].reason : null);
    const value = (i) => (calls[i].status === 'fulfilled' ? calls[i].value : null);
    const [portfolio, positions, orders, stops, operations, margin] = [0, 1, 2, 3, 4, 5].map(value);
    const cashAccount = (c) => c.status === 'rejected' && c.reason instanceof ApiError && c.reason.code === '30051';
    for (const o of orders?.orders ?? []) {
      const key = this.keyOf(o.orderId, o.orderRequestId);
      const known = this.orders.get(key) ?? {};
      this.orders.set(key, {
        ...known, orderId: o.orderId, instrumentUid: o.instrumentUid, direction: o.direction,
        orderType: o.orderType, status: o.executionReportStatus, lotsRequested: o.lotsRequested,
        lotsExecuted: o.lotsExecuted, price: o.initialSecurityPrice ?? o.initialOrderPrice,
        time: o.orderDate, open: true,
      });
    }
    // An order no longer listed as open has ended; the stream (or the operations) says how.
    const openIds = new Set((orders?.orders ?? []).map((o) => o.orderId));
    for (const o of this.orders.values()) {
      if (o.open && !openIds.has(o.orderId)) {
        o.open = false;
        if (!o.live && o.status === 'EXECUTION_REPORT_STATUS_NEW') o.status = 'ended';
      }
    }
    // An order that filled or ended between two readings is never listed as open: its operation
    // (whose id is the order's) tells what became of it.
    for (const op of operations?.items ?? []) {
      if (!TRADE_OPERATIONS.has(op.type)) continue;
      const key = this.keyOf(op.id);
      const known = this.orders.get(key);
      if (known?.live || known?.open) continue;
      const lot = this.app.market.instrument(op.instrumentUid)?.lot ?? 1;
      const executed = Math.round(Number(op.quantity ?? 0) - Number(op.quantityRest ?? 0)) / lot;
      this.orders.set(key, {
        ...known, orderId: op.id, instrumentUid: op.instrumentUid,
        direction: SELL_OPERATIONS.has(op.type) ? 'ORDER_DIRECTION_SELL' : 'ORDER_DIRECTION_BUY',
        status: { OPERATION_STATE_EXECUTED: 'EXECUTION_REPORT_STATUS_FILL',
          OPERATION_STATE_CANCELED: 'EXECUTION_REPORT_STATUS_CANCELLED' }[op.state] ?? 'EXECUTION_REPORT_STATUS_PARTIALLYFILL',
        lotsExecuted: executed, lotsRequested: known?.lotsRequested ?? Math.round(Number(op.quantity ?? 0) / lot),
        price: known?.price ?? op.price, time: known?.time ?? op.date,
      });
    }
    this.trimOrders();
    // Executions the stream did not bring (before the page opened, or while it was away) come
    // from the operations' trades.
    const known = new Set(this.executions.map(executionKey));
    let added = false;
    for (const op of operations?.items ?? []) {
      for (const t of op.tradesInfo?.trades ?? []) {
        const e = { time: t.date, orderId: op.id, instrumentUid: op.instrumentUid,
          direction: SELL_OPERATIONS.has(op.type) ? 'ORDER_DIRECTION_SELL' : 'ORDER_DIRECTION_BUY',
          price: t.price, quantity: t.quantity, id: t.num };
        if (known.has(executionKey(e))) continue;
        known.add(executionKey(e));
        this.executions.push(e);
        added = true;
      }
    }
    if (added) {
      this.executions.sort((a, b) => (a.time < b.time ? 1 : -1));
      this.executions.length = Math.min(this.executions.length, EXECUTIONS_KEPT);
    }
    this.data = { portfolio, positions, margin, stops: stops?.stopOrders ?? [], operations: operations?.items ?? [],
      errors: calls.filter((c) => c.status === 'rejected' && !cashAccount(c)).map((c) => c.reason) };
    this.dirty = true;
  }

  // --- the order ticket --------------------------------------------------------------------

  async placeOrder(form) {
    const instrument = this.app.market.instrument(this.app.market.selected);
    const result = $('#ticket-result', this.root);
    if (!instrument || !this.accountId) return;
    const type = form.orderType.value;
    const lots = form.lots.value.trim();
    const body = {
      accountId: this.accountId,
      instrumentId: instrument.uid,
      quantity: lots,
      direction: form.direction.value,
      orderType: type,
      orderId: uuid(),
    };
    if (type === 'ORDER_TYPE_LIMIT') {
      const price = parseDecimal(form.price.value);
      if (!price) {
        result.className = 'result refused';
        result.textContent = 'The price is not a decimal number.';
        return;
      }
      if (!onStep(price, instrument.step)) {
        // Sent all the same: the broker's own refusal, with its code, is what a bot would see.
        result.textContent = 'The price is off the instrument\u2019s step; the broker will refuse it.';
      }
      body.price = price;
    }
    result.className = 'result';
    result.textContent = 'Sending…';
    try {
      const r = await rest('OrdersService', 'PostOrder', body, this.token);
      this.onOrderState({ orderId: r.orderId, orderRequestId: r.orderRequestId || body.orderId, instrumentUid: instrument.uid, ticker: instrument.ticker,
        direction: body.direction, orderType: type, executionReportStatus: r.executionReportStatus,
        lotsRequested: r.lotsRequested, lotsExecuted: r.lotsExecuted,
        orderPrice: r.initialOrderPrice, createdAt: new Date().toISOString() });
      result.className = 'result accepted';
      result.textContent = `Accepted: ${enumName(r.executionReportStatus, 'EXECUTION_REPORT_STATUS_')}, ` +
        `${r.lotsExecuted}/${r.lotsRequested} lots executed (order ${r.orderId}).`;
      this.refreshSoon();
    } catch (error) {
      this.showRefusal(error, `${enumName(body.direction, 'ORDER_DIRECTION_')} ${lots} ${instrument.ticker}`);
    }
  }

  showRefusal(error, what) {
    const result = $('#ticket-result', this.root);
    result.className = 'result refused';
    if (error instanceof ApiError) {
      const entry = { time: new Date().toISOString(), what, code: error.code || `HTTP ${error.httpStatus}`,
        message: error.message, trackingId: error.trackingId };
      this.rejections.unshift(entry);
      this.rejections.length = Math.min(this.rejections.length, REJECTIONS_KEPT);
      result.textContent = `Refused ${entry.code}: ${entry.message}`;
      this.dirty = true;
    } else {
      result.textContent = `Not sent: ${error.message}`;
    }
  }

  async cancelOrder(orderId) {
    try {
      await rest('OrdersService', 'CancelOrder', { accountId: this.accountId, orderId }, this.token);
      this.refreshSoon();
    } catch (error) {
      this.showRefusal(error, `cancel ${orderId}`);
    }
  }

  // --- drawing -----------------------------------------------------------------------------

  ticker(uid, figi) {
    const i = this.app.market.instrument(uid);
    return i ? i.ticker : (figi ?? uid ?? '—');
  }

  decimals(uid) {
    return this.app.market.instrument(uid)?.decimals ?? 2;
  }

  // Drawn at most every RENDER_MIN_MS: a bot's orders can change them a thousand times a second.
  render(now) {
    if (!this.dirty || now - (this.lastRender ?? -Infinity) < RENDER_MIN_MS) return;
    this.lastRender = now;
    this.dirty = false;
    this.renderMoney();
    this.renderPositions();
    this.renderOrders();
    this.renderStops();
    this.renderExecutions();
    this.renderOperations();
    this.renderRejections();
  }

  renderMoney() {
    const p = this.data?.portfolio;
    const pos = this.data?.positions;
    const blocked = new Map((pos?.blocked ?? []).map((m) => [m.currency, m]));
    const rows = (pos?.money ?? []).map((m) => `<tr><th scope="row">${esc(m.currency.toUpperCase())}</th>` +
      `<td class="num">${formatMoney(m, false)}</td><td class="num">${formatMoney(blocked.get(m.currency) ?? { units: '0', nano: 0 }, false)}</td></tr>`);
    $('#cash tbody', this.root).innerHTML = rows.join('') || '<tr><td colspan="3" class="empty">no cash</td></tr>';
    const yieldNano = p?.expectedYield ? toNano(p.expectedYield) : null;
    $('#portfolio-total').textContent = p ? formatMoney(p.totalAmountPortfolio) : '—';
    const pnl = $('#portfolio-yield');
    pnl.textContent = yieldNano == null ? '—' : `${signed(yieldNano, 2)} %`;
    pnl.className = `num ${signClass(yieldNano)}`;
    let total = 0n;
    for (const x of p?.positions ?? []) if (x.expectedYield) total += toNano(x.expectedYield);
    const abs = $('#portfolio-pnl');
    abs.textContent = p ? `${signed(total, 2)} RUB` : '—';
    abs.className = `num ${signClass(total)}`;
    const m = this.data?.margin;
    $('#margin').hidden = !m;
    if (m) {
      $('#margin-liquid').textContent = formatMoney(m.liquidPortfolio);
      $('#margin-levels').textContent = `${formatMoney(m.startingMargin, false)} / ${formatMoney(m.minimalMargin)}`;
      const level = toNano(m.fundsSufficiencyLevel ?? { units: '0', nano: 0 });
      const below = toNano(m.liquidPortfolio) < toNano(m.minimalMargin);
      const el = $('#margin-level');
      el.textContent = `${formatNano(level, 2)}${below ? ' — below the minimal margin' : ''}`;
      el.className = `num ${below ? 'down' : ''}`;
    }
  }

  renderPositions() {
    const list = (this.data?.portfolio?.positions ?? []).filter((x) => x.instrumentType !== 'currency');
    $('#positions tbody', this.root).innerHTML = list.map((x) => {
      const d = this.decimals(x.instrumentUid);
      const pnl = x.expectedYield ? toNano(x.expectedYield) : null;
      const blocked = x.blockedLots ? toNano(x.blockedLots) : 0n;
      return `<tr><th scope="row">${esc(this.ticker(x.instrumentUid, x.figi))}</th>` +
        `<td class="num">${formatQuotation(x.quantity, 0)}</td>` +
        `<td class="num">${blocked ? formatNano(blocked, 0) : ''}</td>` +
        `<td class="num">${formatQuotation(x.averagePositionPrice, d)}</td>` +
        `<td class="num">${formatQuotation(x.currentPrice, d)}</td>` +
        `<td class="num ${signClass(pnl)}">${signed(pnl, 2)}</td></tr>`;
    }).join('') || '<tr><td colspan="6" class="empty">no positions</td></tr>';
  }

  renderOrders() {
    const list = [...this.orders.values()].sort((a, b) => ((a.time ?? '') < (b.time ?? '') ? 1 : -1)).slice(0, ORDERS_SHOWN);
    $('#orders tbody', this.root).innerHTML = list.map((o) => {
      const mark = directionMark(o.direction);
      const status = enumName(o.status, 'EXECUTION_REPORT_STATUS_');
      const cause = o.cause && o.cause !== 'CAUSE_UNSPECIFIED' ? ` (${enumName(o.cause, 'CAUSE_').toLowerCase().replace(/_/g, ' ')})` : '';
      const open = status === 'NEW' || status === 'PARTIALLYFILL';
      const cancel = open ? `<button type="button" class="small" data-cancel="${esc(o.orderId)}" aria-label="Cancel order ${esc(o.orderId)}">Cancel</button>` : '';
      return `<tr class="${status === 'REJECTED' ? 'rejected' : ''}" data-order="${esc(o.orderId)}">` +
        `<td>${formatTime(o.time)}</td><th scope="row">${esc(this.ticker(o.instrumentUid, o.ticker))}</th>` +
        `<td class="${mark.cls}">${mark.glyph} ${mark.word}</td><td>${esc(enumName(o.orderType, 'ORDER_TYPE_').toLowerCase())}</td>` +
        `<td class="num">${o.lotsExecuted ?? 0}/${o.lotsRequested ?? '?'}</td>` +
        `<td class="num">${o.price ? formatQuotation(o.price, this.decimals(o.instrumentUid)) : ''}</td>` +
        `<td class="state">${esc(status)}${esc(cause)}</td><td>${cancel}</td></tr>`;
    }).join('') || '<tr><td colspan="8" class="empty">no orders</td></tr>';
  }

  renderStops() {
    const list = this.data?.stops ?? [];
    $('#stops tbody', this.root).innerHTML = list.map((s) => {
      const mark = directionMark(s.direction);
      const d = this.decimals(s.instrumentUid);
      return `<tr><th scope="row">${esc(this.ticker(s.instrumentUid, s.figi))}</th>` +
        `<td class="${mark.cls}">${mark.glyph} ${mark.word}</td>` +
        `<td>${esc(enumName(s.orderType, 'STOP_ORDER_TYPE_').toLowerCase().replace(/_/g, ' '))}</td>` +
        `<td class="num">${s.lotsRequested}</td><td class="num">${formatQuotation(s.stopPrice, d)}</td>` +
        `<td>${esc(enumName(s.status, 'STOP_ORDER_STATUS_').toLowerCase())}</td></tr>`;
    }).join('') || '<tr><td colspan="6" class="empty">no stop orders</td></tr>';
  }

  renderExecutions() {
    $('#executions tbody', this.root).innerHTML = this.executions.slice(0, EXECUTIONS_SHOWN).map((e) => {
      const mark = directionMark(e.direction);
      return `<tr><td>${formatTime(e.time)}</td><th scope="row">${esc(this.ticker(e.instrumentUid))}</th>` +
        `<td class="${mark.cls}">${mark.glyph} ${mark.word}</td><td class="num">${e.quantity}</td>` +
        `<td class="num">${formatQuotation(e.price, this.decimals(e.instrumentUid))}</td></tr>`;
    }).join('') || '<tr><td colspan="5" class="empty">no executions</td></tr>';
  }

  renderOperations() {
    const list = (this.data?.operations ?? []).slice().sort((a, b) => (a.date < b.date ? 1 : -1)).slice(0, OPERATIONS_SHOWN);
    $('#operations tbody', this.root).innerHTML = list.map((op) => {
      const pay = op.payment ? toNano(op.payment) : null;
      return `<tr><td>${formatTime(op.date, true)}</td><td>${esc(op.description || op.name || enumName(op.type, 'OPERATION_TYPE_'))}</td>` +
        `<th scope="row">${esc(op.instrumentUid ? this.ticker(op.instrumentUid, op.figi) : '')}</th>` +
        `<td class="num ${signClass(pay)}">${formatMoney(op.payment)}</td>` +
        `<td>${esc(enumName(op.state, 'OPERATION_STATE_').toLowerCase())}</td></tr>`;
    }).join('') || '<tr><td colspan="5" class="empty">no operations</td></tr>';
  }

  renderRejections() {
    $('#rejections tbody', this.root).innerHTML = this.rejections.map((r) =>
      `<tr class="rejected"><td>${formatTime(r.time)}</td><td>${esc(r.what)}</td>` +
      `<td class="num code">${esc(r.code)}</td><td>${esc(r.message)}</td>` +
      `<td class="tracking">${esc(r.trackingId)}</td></tr>`).join('') ||
      '<tr><td colspan="5" class="empty">no refused orders</td></tr>';
  }
}
