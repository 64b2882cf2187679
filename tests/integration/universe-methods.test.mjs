// InstrumentsService over the instrument universe: options (Options, OptionBy, OptionsBy, and
// GetInstrumentBy/FindInstrument/GetTradingStatus knowing them; orders in them refused with
// 30094), GetFuturesMargin from the futures' data (each side's guarantee), the risk rates every
// instrument message shows, Indicatives from indicatives.json, the list filters on options, and
// the demo's real identifiers that the official SDK's examples name.
import './tls-env.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { InstrumentsServiceDefinition, InstrumentExchangeType } from 'tinkoff-invest-api/dist/generated/instruments.js';
import { OrdersServiceDefinition, OrderDirection, OrderType } from 'tinkoff-invest-api/dist/generated/orders.js';
import { InstrumentType, InstrumentStatus } from 'tinkoff-invest-api/dist/generated/common.js';
import { StopOrdersServiceDefinition, StopOrderDirection, StopOrderExpirationType, StopOrderType } from 'tinkoff-invest-api/dist/generated/stoporders.js';
import { startServer, sdk, rawClient, callRaw, closeClients, demoConfig, demoInstruments, UUID_RE } from './harness.mjs';

const account = demoConfig.accounts[0].id;
const sber = demoInstruments.find((i) => i.ticker === 'SBER');
const future = demoInstruments.find((i) => i.type === 'future');
// Test data only: the demo ships no option series (no verified identifiers, docs/REFERENCE-DATA.md).
const call = {
  type: 'option', ticker: 'TESTC250', class_code: 'SPBOPT', uid: '00000000-0000-4000-8000-0000000000c1',
  position_uid: '00000000-0000-4000-8000-0000000000c2', name: 'Test call on SBER 250', lot: 1,
  min_price_increment: '0.01', reference_price: '5.00', exchange: 'FORTS_EVENING',
  option: { basic_asset: 'SBER', basic_asset_uid: sber.asset_uid, basic_asset_position_uid: sber.position_uid,
    strike_price: '250', direction: 'call', style: 'american', payment_type: 'premium',
    settlement_type: 'physical_delivery', expiration_date: '2030-12-19', basic_asset_size: '100' },
};
const put = { ...call, ticker: 'TESTP250', uid: '00000000-0000-4000-8000-0000000000c3', position_uid: '',
  name: 'Test put, no API trading', api_trade_available: false,
  option: { ...call.option, direction: 'put', basic_asset_position_uid: 'other' } };

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-universe-methods-'));
const configPath = join(dir, 'config.json');
writeFileSync(configPath, JSON.stringify({ ...demoConfig, instruments: [call, put] }));
const server = await startServer({ config: configPath });
after(async () => { closeClients(); await server.stop(); rmSync(dir, { recursive: true, force: true }); });
const api = sdk(server, 't.demo.full');
const raw = rawClient(server, InstrumentsServiceDefinition, 't.demo.full');

function assertApiError(result, { status, code, message }) {
  assert.ok(result.error, 'the call must fail');
  assert.equal(result.error.code, status);
  assert.equal(result.error.details, String(code));
  if (message !== undefined) assert.equal(result.trailer.get('message'), message);
  assert.match(result.trailer.get('x-tracking-id'), UUID_RE);
}

test('Options lists options, filtered by status and exchange', async () => {
  const base = await api.instruments.options({});
  assert.deepEqual(base.instruments.map((o) => o.uid), [call.uid]);
  const o = base.instruments[0];
  assert.equal(o.ticker, call.ticker);
  assert.equal(o.classCode, 'SPBOPT');
  assert.equal(o.positionUid, call.position_uid);
  assert.equal(o.basicAssetPositionUid, sber.position_uid);
  assert.equal(o.direction, 2); // OPTION_DIRECTION_CALL
  assert.equal(o.style, 1);
  assert.equal(o.paymentType, 1);
  assert.equal(o.settlementType, 1);
  assert.deepEqual(o.strikePrice, { currency: 'rub', units: 250, nano: 0 });
  assert.deepEqual(o.basicAssetSize, { units: 100, nano: 0 });
  assert.deepEqual(o.minPriceIncrement, { units: 0, nano: 10000000 });
  assert.equal(o.expirationDate.toISOString(), '2030-12-19T00:00:00.000Z');
  assert.equal(o.basicAsset, 'SBER');
  const all = await api.instruments.options({ instrumentStatus: InstrumentStatus.INSTRUMENT_STATUS_ALL });
  assert.deepEqual(all.instruments.map((i) => i.uid), [call.uid, put.uid]);
  const dealer = await api.instruments.options({ instrumentExchange: InstrumentExchangeType.INSTRUMENT_EXCHANGE_DEALER });
  assert.equal(dealer.instruments.length, 0);
  assertApiError(await callRaw((opt) => raw.options({ instrumentStatus: 9 }, opt)), { status: 3, code: 30050 });
  assertApiError(await callRaw((opt) => raw.options({ instrumentExchange: 7 }, opt)),
    { status: 3, code: 30102, message: '`instrument_exchange` is invalid' });
});

test('OptionBy and OptionsBy', async () => {
  const { instrument } = await api.instruments.optionBy({ idType: 3, id: call.uid });
  assert.equal(instrument.name, call.name);
  const byTicker = await api.instruments.optionBy({ idType: 2, id: call.ticker, classCode: 'SPBOPT' });
  assert.equal(byTicker.instrument.uid, call.uid);
  assertApiError(await callRaw((opt) => raw.optionBy({ idType: 3, id: sber.uid }, opt)), { status: 5, code: 50002 });
  assertApiError(await callRaw((opt) => raw.optionBy({ idType: 3, id: randomUUID() }, opt)), { status: 5, code: 50002 });
  const both = await api.instruments.optionsBy({ basicAssetUid: sber.asset_uid });
  assert.deepEqual(both.instruments.map((i) => i.uid), [call.uid, put.uid]);
  const one = await api.instruments.optionsBy({ basicAssetUid: sber.asset_uid, basicAssetPositionUid: sber.position_uid });
  assert.deepEqual(one.instruments.map((i) => i.uid), [call.uid]);
  const none = await api.instruments.optionsBy({ basicAssetUid: randomUUID() });
  assert.equal(none.instruments.length, 0);
  assertApiError(await callRaw((opt) => raw.optionsBy({}, opt)),
    { status: 3, code: 30102, message: '`basic_asset_uid` is required' });
});

test('the other lookups know options; orders in them are refused with 30094', async () => {
  const { instrument } = await api.instruments.getInstrumentBy({ idType: 3, id: call.uid });
  assert.equal(instrument.instrumentKind, InstrumentType.INSTRUMENT_TYPE_OPTION);
  assert.equal(instrument.instrumentType, 'option');
  const found = await api.instruments.findInstrument({ query: 'TESTC', instrumentKind: InstrumentType.INSTRUMENT_TYPE_OPTION });
  assert.deepEqual(found.instruments.map((i) => i.uid), [call.uid]);
  const status = await api.marketdata.getTradingStatus({ instrumentId: call.uid });
  assert.equal(status.instrumentUid, call.uid);
  const orders = rawClient(server, OrdersServiceDefinition, 't.demo.full');
  for (const method of ['postOrder', 'postOrderAsync']) {
    assertApiError(await callRaw((opt) => orders[method]({ accountId: account, instrumentId: call.uid, quantity: 1,
      orderId: randomUUID(), direction: OrderDirection.ORDER_DIRECTION_BUY, orderType: OrderType.ORDER_TYPE_MARKET }, opt)),
    { status: 3, code: 30094, message: 'Options trading is not available at the moment' });
  }
  const stops = rawClient(server, StopOrdersServiceDefinition, 't.demo.full');
  assertApiError(await callRaw((opt) => stops.postStopOrder({ accountId: account, instrumentId: call.uid,
    quantity: 1, direction: StopOrderDirection.STOP_ORDER_DIRECTION_BUY, stopPrice: { units: 6, nano: 0 },
    expirationType: StopOrderExpirationType.STOP_ORDER_EXPIRATION_TYPE_GOOD_TILL_CANCEL,
    stopOrderType: StopOrderType.STOP_ORDER_TYPE_STOP_LOSS, exchangeOrderType: 0, takeProfitType: 0, priceType: 0,
    orderId: randomUUID() }, opt)), { status: 3, code: 30094 });
  const { orders: active } = await api.orders.getOrders({ accountId: account });
  assert.equal(active.length, 0, 'nothing was placed');
});

test('GetFuturesMargin', async () => {
  const m = await api.instruments.getFuturesMargin({ figi: '', instrumentId: future.uid });
  assert.deepEqual(m.initialMarginOnBuy, { currency: 'rub', units: 9000, nano: 0 });
  assert.deepEqual(m.initialMarginOnSell, { currency: 'rub', units: 9000, nano: 0 });
  assert.deepEqual(m.minPriceIncrement, { units: 0, nano: 10000000 });
  assert.deepEqual(m.minPriceIncrementAmount, { units: 7, nano: 500000000 });
  // The deprecated `figi` serves when `instrument_id` is empty.
  const byFigi = await api.instruments.getFuturesMargin({ figi: future.figi, instrumentId: '' });
  assert.deepEqual(byFigi.initialMarginOnBuy, m.initialMarginOnBuy);
  assertApiError(await callRaw((opt) => raw.getFuturesMargin({ figi: '', instrumentId: sber.figi }, opt)),
    { status: 3, code: 30041, message: 'The method is available only for futures' });
  assertApiError(await callRaw((opt) => raw.getFuturesMargin({ figi: '', instrumentId: call.uid }, opt)), { status: 3, code: 30041 });
  assertApiError(await callRaw((opt) => raw.getFuturesMargin({ figi: '', instrumentId: 'FUTNOTHING00' }, opt)), { status: 5, code: 50002 });
  assertApiError(await callRaw((opt) => raw.getFuturesMargin({ figi: '', instrumentId: '' }, opt)), { status: 3, code: 30237 });
});

// The demo's futures of 2027 (docs/REFERENCE-DATA.md): a guarantee of its own on each side.
const si = demoInstruments.find((i) => i.ticker === 'SiH7');
const q = (units, nano = 0) => ({ units, nano });

test('GetFuturesMargin and the Future message give each side its own guarantee', async () => {
  const m = await api.instruments.getFuturesMargin({ figi: '', instrumentId: si.figi });
  assert.deepEqual(m.initialMarginOnBuy, { currency: 'rub', units: 13250, nano: 0 });
  assert.deepEqual(m.initialMarginOnSell, { currency: 'rub', units: 12750, nano: 0 });
  assert.deepEqual(m.minPriceIncrement, q(1));
  assert.deepEqual(m.minPriceIncrementAmount, q(1));
  const { instrument } = await api.instruments.futureBy({ idType: 1, id: si.figi });
  assert.deepEqual(instrument.initialMarginOnBuy, m.initialMarginOnBuy);
  assert.deepEqual(instrument.initialMarginOnSell, m.initialMarginOnSell);
  assert.equal(instrument.exchange, 'FORTS');
  assert.equal(instrument.tradingStatus, 5); // SECURITY_TRADING_STATUS_NORMAL_TRADING
  assert.ok(instrument.expirationDate > new Date(), 'not expired');
  assert.equal(instrument.expirationDate.toISOString(), '2027-03-18T00:00:00.000Z');
  const listed = await api.instruments.futures({});
  assert.ok(listed.instruments.some((f) => f.figi === si.figi));
});

test('instrument messages show the configured risk rates, klong/kshort and the client\'s rates', async () => {
  const { instrument: s } = await api.instruments.shareBy({ idType: 3, id: sber.uid });
  const rated = { klong: q(2), kshort: q(2), dlong: q(0, 250000000), dshort: q(0, 280000000),
    dlongMin: q(0, 125000000), dshortMin: q(0, 140000000), dlongClient: q(0, 250000000), dshortClient: q(0, 280000000) };
  for (const [field, value] of Object.entries(rated)) assert.deepEqual(s[field], value, `Share.${field}`);
  const { instrument: i } = await api.instruments.getInstrumentBy({ idType: 3, id: sber.uid });
  for (const [field, value] of Object.entries(rated)) assert.deepEqual(i[field], value, `Instrument.${field}`);
  // A long rate only: no short side, so kshort is 0 like dshort.
  const gazp = (await api.instruments.shares({})).instruments.find((x) => x.ticker === 'GAZP');
  assert.deepEqual([gazp.klong, gazp.kshort, gazp.dlong, gazp.dshort, gazp.dlongMin, gazp.dshortMin, gazp.dshortClient],
    [q(2), q(0), q(0, 250000000), q(0), q(0, 125000000), q(0), q(0)]);
  const { instrument: etf } = await api.instruments.etfBy({ idType: 2, id: 'TRUR', classCode: 'TQTF' });
  assert.deepEqual([etf.dlong, etf.dlongMin, etf.klong], [q(0, 150000000), q(0, 75000000), q(2)]);
  // Without rates (the bond, the currency, the option of this test) every field is 0.
  const bond = (await api.instruments.bonds({})).instruments[0];
  const usd = (await api.instruments.currencies({})).instruments.find((c) => c.ticker === 'USD000UTSTOM');
  const { instrument: option } = await api.instruments.optionBy({ idType: 3, id: call.uid });
  for (const x of [bond, usd, option])
    for (const field of Object.keys(rated)) assert.deepEqual(x[field], q(0), `${x.name}: ${field}`);
});

test('Indicatives come from indicatives.json', async () => {
  const { instruments } = await api.instruments.indicatives({});
  assert.deepEqual(instruments.map((i) => i.ticker), ['IMOEX', 'RTSI']);
  assert.ok(instruments.every((i) => i.instrumentKind === InstrumentType.INSTRUMENT_TYPE_INDEX));
  assert.equal(instruments[0].name, 'Индекс МосБиржи');
  assert.equal(instruments[1].currency, 'usd');
});

test('the identifiers the official examples name are found', async () => {
  const vtbr = await api.instruments.getInstrumentBy({ idType: 1, id: 'BBG004730ZJ9' });
  assert.equal(vtbr.instrument.ticker, 'VTBR');
  const sberp = await api.instruments.getInstrumentBy({ idType: 3, id: '64c0da45-4c90-41d4-b053-0c66c7a8ddcd' });
  assert.equal(sberp.instrument.ticker, 'SBERP');
  const byName = await api.instruments.findInstrument({ query: 'Сбер Банк - привилегированные акции' });
  assert.equal(byName.instruments.length, 2);
  const etln = await api.instruments.findInstrument({ query: 'BBG001M2SC01' });
  assert.equal(etln.instruments[0].ticker, 'ETLN');
  const aapl = await api.instruments.shareBy({ idType: 1, id: 'BBG000B9XRY4' });
  assert.equal(aapl.instrument.currency, 'usd');
  const cny = await api.instruments.currencyBy({ idType: 2, id: 'CNYRUB_TOM', classCode: 'CETS' });
  assert.equal(cny.instrument.figi, 'BBG0013HRTL0');
});
