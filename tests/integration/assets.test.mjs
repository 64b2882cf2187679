// Assets, brands, countries, analytics (InstrumentsService) and SignalService, served from the
// files of reference_dir. The demo data answers what it ships (the SBER asset derived from the
// universe, the countries) and correctly shaped empty lists for the analytics it leaves empty;
// a scratch reference_dir with test entries (not market data) exercises every filter, page,
// cursor and error code. The npm SDK (contract 1.24) is used where it has the method; GetRiskRates,
// GetInsiderDeals and the structured notes go through our own proto files with grpc-js.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { Status } from 'nice-grpc';
import { InstrumentsServiceDefinition, InstrumentIdType } from 'tinkoff-invest-api/dist/generated/instruments.js';
import { InstrumentStatus, InstrumentType } from 'tinkoff-invest-api/dist/generated/common.js';
import { SignalServiceDefinition, SignalState, SignalDirection, StrategyType } from 'tinkoff-invest-api/dist/generated/signals.js';
import {
  startServer, rawClient, callRaw, closeClients, demoInstruments, inlineDemoConfig, sourceDir, UUID_RE,
} from './harness.mjs';

const TOKEN = 't.demo.full';
const sber = demoInstruments.find((i) => i.ticker === 'SBER');
const gazp = demoInstruments.find((i) => i.ticker === 'GAZP');
const ofz = demoInstruments.find((i) => i.type === 'bond');
const SBER_ASSET = sber.asset_uid;
// Test identifiers: the scratch files below are fixtures, not market data.
const id = (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const GAZP_ASSET = id(0xa2);
const BRANDS = [id(0xb1), id(0xb2), id(0xb3)];
const STRATEGIES = [id(0xc1), id(0xc2)];
const SIGNALS = Array.from({ length: 25 }, (_, i) => id(0xd00 + i));
const NOTE = id(0xe1);

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-assets-'));
function scratchConfig() {
  const ref = join(dir, 'ref');
  mkdirSync(ref);
  const write = (name, value) => writeFileSync(join(ref, name), JSON.stringify(value));
  write('countries.json', { countries: [{ alfa_two: 'RU', alfa_three: 'RUS', name: 'Российская Федерация', name_brief: 'Россия' }] });
  write('brands.json', { brands: BRANDS.map((uid, i) => ({ uid, name: `Brand ${i}`, company: `Company ${i}`, sector: 'energy', country_of_risk: 'RU' })) });
  write('assets.json', { assets: [{ uid: GAZP_ASSET, name_brief: 'G', brand: BRANDS[1], required_tests: ['t1'], status: 'active', instruments: [gazp.uid] }] });
  write('fundamentals.json', { fundamentals: [{ asset_uid: SBER_ASSET, currency: 'rub', beta: 0.75, pe_ratio_ttm: 4.5, ex_dividend_date: '2024-07-11' }] });
  write('asset_reports.json', { reports: [
    { instrument_uid: sber.uid, report_date: '2024-03-01', period_year: 2023, period_num: 4, period_type: 'annual' },
    { instrument_uid: sber.uid, report_date: '2024-06-01', period_year: 2024, period_num: 1, period_type: 'quarter' },
    { instrument_uid: gazp.uid, report_date: '2024-06-02', period_year: 2024, period_num: 1, period_type: 'quarter' },
  ] });
  write('forecasts.json', {
    consensus: [
      { instrument_uid: sber.uid, consensus: 'buy', best_target_price: '350.5', best_target_low: '300', best_target_high: '400', total_buy_recommend: 3, currency: 'rub' },
      { instrument_uid: gazp.uid, consensus: 'hold', best_target_price: '150', currency: 'rub' },
    ],
    targets: [{ instrument_uid: sber.uid, company: 'House A', recommendation: 'buy', target_price: '360', currency: 'rub', recommendation_date: '2024-05-01' }],
  });
  write('risk_rates.json', { risk_rates: [{ instrument_uid: sber.uid,
    short_risk_rate: { risk_level_code: '1', value: '25' }, long_risk_rate: { risk_level_code: '1', value: '20' },
    long_risk_rates: [{ risk_level_code: '1', value: '20' }, { risk_level_code: '2', value: '30' }] }] });
  write('insider_deals.json', { insider_deals: Array.from({ length: 5 }, (_, i) => ({
    instrument_uid: i === 2 ? gazp.uid : sber.uid, trade_id: 100 + i, direction: 'buy', date: `2024-01-0${i + 1}`, quantity: 10, price: '300' })) });
  write('structured_notes.json', { structured_notes: [{ uid: NOTE, figi: 'TESTNOTE0001', ticker: 'TNOTE', class_code: 'TQOD', name: 'Test note', api_trade_available: true, nominal: '1000' }] });
  write('strategies.json', { strategies: STRATEGIES.map((strategy_id, i) => ({ strategy_id, strategy_name: `S${i}`, strategy_type: i === 0 ? 'technical' : 'fundamental', yield: '1.5' })) });
  write('signals.json', { signals: SIGNALS.map((signal_id, i) => ({
    signal_id, strategy_id: STRATEGIES[i % 2], instrument_uid: i < 20 ? sber.uid : gazp.uid, name: `n${i}`,
    direction: i % 3 === 0 ? 'sell' : 'buy', create_dt: `2024-02-${String(i + 1).padStart(2, '0')}T10:00:00Z`, end_dt: '2024-12-31',
    initial_price: '300', target_price: '330', ...(i >= 22 ? { close_dt: '2024-03-30', close_price: '320' } : {}) })) });
  const config = { ...inlineDemoConfig(), reference_dir: ref };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

let demo, scratch;
before(async () => {
  demo = await startServer();
  scratch = await startServer({ config: scratchConfig() });
});
after(async () => {
  closeClients();
  for (const server of [demo, scratch]) assert.deepEqual(await server.stop(), { code: 0, signal: null });
  rmSync(dir, { recursive: true, force: true });
});

function assertApiError(result, status, code) {
  assert.ok(result.error, 'the call must fail');
  assert.equal(result.error.code, status);
  assert.equal(result.error.details, String(code));
  assert.ok(result.trailer.get('message'));
  assert.match(result.trailer.get('x-tracking-id'), UUID_RE);
}

const instruments = (server) => rawClient(server, InstrumentsServiceDefinition, TOKEN);
const signals = (server) => rawClient(server, SignalServiceDefinition, TOKEN);

// Methods the npm SDK lacks, through our own proto files; resolves to { response } or { error }.
function ownCall(server, method, request) {
  const definition = protoLoader.loadSync(join(sourceDir, 'proto', 'instruments.proto'),
    { includeDirs: [join(sourceDir, 'proto'), '/usr/include'], keepCase: true, enums: Number, longs: String, defaults: true, oneofs: true });
  const { InstrumentsService } = grpc.loadPackageDefinition(definition).tinkoff.public.invest.api.contract.v1;
  const client = new InstrumentsService(`127.0.0.1:${server.plainPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  return new Promise((resolve) => client[method](request, metadata, (error, response) => {
    client.close();
    resolve(error ? { error } : { response });
  }));
}

test('demo data: the SBER asset derived from the universe, the countries, empty analytics', async () => {
  const api = instruments(demo);
  const { assets } = await api.getAssets({});
  const asset = assets.find((a) => a.uid === SBER_ASSET);
  assert.ok(asset, 'the asset SBER names is listed');
  assert.deepEqual(asset.instruments.map((i) => i.uid), [sber.uid]);
  assert.equal(asset.instruments[0].instrumentKind, InstrumentType.INSTRUMENT_TYPE_SHARE);
  const full = await api.getAssetBy({ id: SBER_ASSET });
  assert.equal(full.asset.nameBrief, 'Сбербанк');
  assert.equal(full.asset.security.isin, sber.isin);
  const { countries } = await api.getCountries({});
  assert.ok(countries.some((c) => c.alfaTwo === 'RU' && c.alfaThree === 'RUS'));
  const brands = await api.getBrands({});
  assert.deepEqual(brands.brands, []);
  assert.equal(brands.paging.totalCount, 0);
  assert.deepEqual((await api.getAssetFundamentals({ assets: [SBER_ASSET] })).fundamentals, []);
  assert.deepEqual((await api.getAssetReports({ instrumentId: sber.uid })).events, []);
  const consensus = await api.getConsensusForecasts({});
  assert.deepEqual(consensus.items, []);
  assert.equal(consensus.page.totalCount, 0);
  const forecast = await api.getForecastBy({ instrumentId: sber.uid });
  assert.deepEqual(forecast.targets, []);
  assert.equal(forecast.consensus, undefined);
  assert.deepEqual((await signals(demo).getStrategies({})).strategies, []);
  const none = await signals(demo).getSignals({});
  assert.deepEqual(none.signals, []);
  assert.equal(none.paging.totalCount, 0);
  const rates = await ownCall(demo, 'GetRiskRates', { instrument_id: [sber.figi] });
  assert.equal(rates.response.instrument_risk_rates[0].instrument_uid, sber.uid);
  // No risk_rates.json entry: the rates come from the instrument's dlong, dshort, dlong_min and
  // dshort_min; the caller's own are the standard level's (KSUR).
  const r = rates.response.instrument_risk_rates[0];
  const rate = (code, nano) => ({ risk_level_code: code, value: { units: '0', nano } });
  assert.deepEqual(r.short_risk_rate, rate('KSUR', 280000000));
  assert.deepEqual(r.long_risk_rate, rate('KSUR', 250000000));
  assert.deepEqual(r.long_risk_rates, [rate('KSUR', 250000000), rate('KPUR', 125000000)]);
  assert.deepEqual(r.short_risk_rates, [rate('KSUR', 280000000), rate('KPUR', 140000000)]);
  const more = (await ownCall(demo, 'GetRiskRates', { instrument_id: [gazp.uid, ofz.uid] })).response.instrument_risk_rates;
  assert.equal(more[0].short_risk_rate, null, 'GAZP may not be sold short');
  assert.deepEqual(more[0].short_risk_rates, []);
  assert.deepEqual(more[0].long_risk_rate, rate('KSUR', 250000000));
  assert.equal(more[1].instrument_uid, ofz.uid);
  assert.equal(more[1].long_risk_rate, null, 'an instrument without rates has none');
  assert.deepEqual(more[1].long_risk_rates, []);
  assert.equal(more[1].error ?? '', '');
  const deals = await ownCall(demo, 'GetInsiderDeals', { instrument_id: sber.figi, limit: 10 });
  assert.deepEqual(deals.response.insider_deals, []);
  assert.equal(deals.response.next_cursor ?? '', '');
  assert.deepEqual((await ownCall(demo, 'StructuredNotes', {})).response.instruments, []);
});

test('GetAssets filters by instrument type and status; GetAssetBy refuses unknown ids', async () => {
  const api = instruments(scratch);
  const all = await api.getAssets({});
  assert.deepEqual(all.assets.map((a) => a.uid).sort(), [SBER_ASSET, GAZP_ASSET].sort());
  assert.equal(all.assets.find((a) => a.uid === GAZP_ASSET).name, gazp.name, 'named as its instrument');
  const shares = await api.getAssets({ instrumentType: InstrumentType.INSTRUMENT_TYPE_SHARE });
  assert.equal(shares.assets.length, 2);
  const bonds = await api.getAssets({ instrumentType: InstrumentType.INSTRUMENT_TYPE_BOND });
  assert.deepEqual(bonds.assets, [], `the bond ${ofz.ticker} names no asset`);
  const base = await api.getAssets({ instrumentStatus: InstrumentStatus.INSTRUMENT_STATUS_BASE });
  assert.equal(base.assets.length, 2);
  assertApiError(await callRaw((o) => api.getAssets({ instrumentStatus: 7 }, o)), Status.INVALID_ARGUMENT, 30050);
  assertApiError(await callRaw((o) => api.getAssets({ instrumentType: 99 }, o)), Status.INVALID_ARGUMENT, 30102);
  const full = await api.getAssetBy({ id: GAZP_ASSET });
  assert.equal(full.asset.brand.uid, BRANDS[1]);
  assert.equal(full.asset.brand.countryOfRiskName, 'Российская Федерация');
  assert.deepEqual(full.asset.requiredTests, ['t1']);
  assert.equal(full.asset.status, 'active');
  assertApiError(await callRaw((o) => api.getAssetBy({ id: id(0x999) }, o)), Status.NOT_FOUND, 50009);
  assertApiError(await callRaw((o) => api.getAssetBy({ id: '' }, o)), Status.INVALID_ARGUMENT, 30102);
});

test('GetBrands pages; GetBrandBy finds one or answers 50010', async () => {
  const api = instruments(scratch);
  const all = await api.getBrands({});
  assert.deepEqual(all.brands.map((b) => b.uid), BRANDS);
  const second = await api.getBrands({ paging: { limit: 2, pageNumber: 1 } });
  assert.deepEqual(second.brands.map((b) => b.uid), [BRANDS[2]]);
  assert.deepEqual(second.paging, { limit: 2, pageNumber: 1, totalCount: 3 });
  assertApiError(await callRaw((o) => api.getBrands({ paging: { limit: 2, pageNumber: 2 } }, o)), Status.INVALID_ARGUMENT, 30108);
  assertApiError(await callRaw((o) => api.getBrands({ paging: { limit: -1, pageNumber: 0 } }, o)), Status.INVALID_ARGUMENT, 30107);
  assert.equal((await api.getBrandBy({ id: BRANDS[0] })).company, 'Company 0');
  assertApiError(await callRaw((o) => api.getBrandBy({ id: id(0x998) }, o)), Status.NOT_FOUND, 50010);
  assertApiError(await callRaw((o) => api.getBrandBy({ id: '' }, o)), Status.INVALID_ARGUMENT, 30102);
});

test('fundamentals, reports, consensus forecasts and forecasts by instrument', async () => {
  const api = instruments(scratch);
  const { fundamentals } = await api.getAssetFundamentals({ assets: [SBER_ASSET, GAZP_ASSET, id(0x997)] });
  assert.equal(fundamentals.length, 1, 'assets without data are left out');
  assert.equal(fundamentals[0].beta, 0.75);
  assert.equal(fundamentals[0].peRatioTtm, 4.5);
  assert.equal(fundamentals[0].marketCapitalization, 0, 'no data is 0');
  assert.equal(fundamentals[0].exDividendDate.toISOString(), '2024-07-11T00:00:00.000Z');
  assertApiError(await callRaw((o) => api.getAssetFundamentals({ assets: [] }, o)), Status.INVALID_ARGUMENT, 30102);
  assertApiError(await callRaw((o) => api.getAssetFundamentals({ assets: Array(101).fill(SBER_ASSET) }, o)), Status.INVALID_ARGUMENT, 30091);

  const reports = await api.getAssetReports({ instrumentId: sber.uid, from: new Date('2024-05-01'), to: new Date('2024-12-31') });
  assert.deepEqual(reports.events.map((e) => [e.periodYear, e.periodNum]), [[2024, 1]]);
  assert.equal((await api.getAssetReports({ instrumentId: sber.uid })).events.length, 2);
  assertApiError(await callRaw((o) => api.getAssetReports({ instrumentId: sber.uid, from: new Date('2024-05-01'), to: new Date('2024-01-01') }, o)), Status.INVALID_ARGUMENT, 30012);
  assertApiError(await callRaw((o) => api.getAssetReports({ instrumentId: '' }, o)), Status.INVALID_ARGUMENT, 30237);
  assertApiError(await callRaw((o) => api.getAssetReports({ instrumentId: id(0x996) }, o)), Status.NOT_FOUND, 50002);

  const page = await api.getConsensusForecasts({ paging: { limit: 1, pageNumber: 1 } });
  assert.deepEqual(page.items.map((i) => i.uid), [gazp.uid]);
  assert.equal(page.items[0].assetUid, GAZP_ASSET, 'the asset assets.json links');
  assert.deepEqual(page.page, { limit: 1, pageNumber: 1, totalCount: 2 });
  assertApiError(await callRaw((o) => api.getConsensusForecasts({ paging: { limit: 1, pageNumber: 2 } }, o)), Status.INVALID_ARGUMENT, 30226);

  const forecast = await api.getForecastBy({ instrumentId: sber.uid });
  assert.equal(forecast.targets.length, 1);
  assert.equal(forecast.targets[0].company, 'House A');
  assert.deepEqual(forecast.consensus.consensus, { units: 350, nano: 500000000 });
  assert.equal(forecast.consensus.ticker, 'SBER');
  assertApiError(await callRaw((o) => api.getForecastBy({ instrumentId: 'nope' }, o)), Status.NOT_FOUND, 50002);
});

test('GetRiskRates answers each instrument, an unknown one with an error of its own', async () => {
  const { response } = await ownCall(scratch, 'GetRiskRates', { instrument_id: [sber.figi, 'UNKNOWN0FIGI', gazp.uid] });
  const [s, unknown, g] = response.instrument_risk_rates;
  assert.equal(s.instrument_uid, sber.uid);
  assert.deepEqual(s.short_risk_rate.value, { units: '25', nano: 0 });
  assert.equal(s.long_risk_rates.length, 2);
  assert.equal(unknown.instrument_uid, 'UNKNOWN0FIGI');
  assert.ok(unknown.error);
  assert.equal(g.instrument_uid, gazp.uid);
  assert.equal(g.error ?? '', '');
  // risk_rates.json has SBER, and its entry wins over the instrument's configured rates; GAZP has
  // none there, so its own rates answer.
  assert.equal(s.long_risk_rates[0].risk_level_code, '1');
  assert.equal(g.long_risk_rate.risk_level_code, 'KSUR');
  assert.deepEqual(g.long_risk_rate.value, { units: '0', nano: 250000000 });
  const empty = await ownCall(scratch, 'GetRiskRates', { instrument_id: [] });
  assert.equal(empty.error.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(empty.error.details, '30237');
});

test('GetInsiderDeals pages by cursor until no cursor is left', async () => {
  const seen = [];
  let cursor;
  for (let round = 0; round < 10; round++) {
    const { response } = await ownCall(scratch, 'GetInsiderDeals', { instrument_id: sber.figi, limit: 2, ...(cursor ? { next_cursor: cursor } : {}) });
    seen.push(...response.insider_deals.map((d) => Number(d.trade_id)));
    cursor = response.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, [100, 101, 103, 104]);
  const badLimit = await ownCall(scratch, 'GetInsiderDeals', { instrument_id: sber.figi, limit: 101 });
  assert.equal(badLimit.error.details, '30242');
  const badCursor = await ownCall(scratch, 'GetInsiderDeals', { instrument_id: sber.figi, limit: 2, next_cursor: 'x1' });
  assert.equal(badCursor.error.details, '30102');
  // Position 2 is a deal of GAZP: not a cursor of SBER's deals.
  const foreign = await ownCall(scratch, 'GetInsiderDeals', { instrument_id: sber.figi, next_cursor: '2' });
  assert.equal(foreign.error.details, '30102');
  const unknown = await ownCall(scratch, 'GetInsiderDeals', { instrument_id: 'nope' });
  assert.equal(unknown.error.details, '50002');
});

test('StructuredNoteBy and StructuredNotes', async () => {
  const list = await ownCall(scratch, 'StructuredNotes', {});
  assert.deepEqual(list.response.instruments.map((n) => n.uid), [NOTE]);
  const byTicker = await ownCall(scratch, 'StructuredNoteBy', { id_type: InstrumentIdType.INSTRUMENT_ID_TYPE_TICKER, class_code: 'TQOD', id: 'TNOTE' });
  assert.equal(byTicker.response.instrument.figi, 'TESTNOTE0001');
  const shareIsNoNote = await ownCall(scratch, 'StructuredNoteBy', { id_type: InstrumentIdType.INSTRUMENT_ID_TYPE_UID, id: sber.uid });
  assert.equal(shareIsNoNote.error.details, '50002');
  const empty = await ownCall(scratch, 'StructuredNoteBy', { id_type: InstrumentIdType.INSTRUMENT_ID_TYPE_FIGI, id: '' });
  assert.equal(empty.error.details, '30007');
  const dealer = await ownCall(scratch, 'StructuredNotes', { instrument_exchange: 1 });
  assert.deepEqual(dealer.response.instruments, []);
});

test('GetStrategies: all, one, unknown and malformed ids', async () => {
  const api = signals(scratch);
  const { strategies } = await api.getStrategies({});
  assert.deepEqual(strategies.map((s) => s.strategyId), STRATEGIES);
  assert.equal(strategies[0].totalSignals, 13);
  assert.equal(strategies[0].activeSignals, 11, 'signals with a close time are not active');
  const one = await api.getStrategies({ strategyId: STRATEGIES[1] });
  assert.deepEqual(one.strategies.map((s) => s.strategyType), [StrategyType.STRATEGY_TYPE_FUNDAMENTAL]);
  assertApiError(await callRaw((o) => api.getStrategies({ strategyId: id(0x995) }, o)), Status.NOT_FOUND, 50011);
  assertApiError(await callRaw((o) => api.getStrategies({ strategyId: 'not-a-uuid' }, o)), Status.INVALID_ARGUMENT, 30223);
});

test('GetSignals: active by default, 20 a page, every filter and its errors', async () => {
  const api = signals(scratch);
  const first = await api.getSignals({});
  assert.equal(first.signals.length, 20);
  assert.deepEqual(first.paging, { limit: 20, pageNumber: 0, totalCount: 22 });
  const second = await api.getSignals({ paging: { limit: 20, pageNumber: 1 } });
  assert.deepEqual(second.signals.map((s) => s.signalId), SIGNALS.slice(20, 22));
  const closed = await api.getSignals({ active: SignalState.SIGNAL_STATE_CLOSED });
  assert.deepEqual(closed.signals.map((s) => s.signalId), SIGNALS.slice(22));
  assert.deepEqual(closed.signals[0].closePrice, { units: 320, nano: 0 });
  assert.equal((await api.getSignals({ active: SignalState.SIGNAL_STATE_ALL, paging: { limit: 100 } })).signals.length, 25);
  const gazpSignals = await api.getSignals({ instrumentUid: gazp.uid, active: SignalState.SIGNAL_STATE_ALL });
  assert.deepEqual(gazpSignals.signals.map((s) => s.signalId), SIGNALS.slice(20));
  const sells = await api.getSignals({ direction: SignalDirection.SIGNAL_DIRECTION_SELL, paging: { limit: 100 } });
  assert.ok(sells.signals.length > 0 && sells.signals.every((s) => s.direction === SignalDirection.SIGNAL_DIRECTION_SELL));
  const byStrategy = await api.getSignals({ strategyId: STRATEGIES[1], paging: { limit: 100 } });
  assert.ok(byStrategy.signals.every((s) => s.strategyId === STRATEGIES[1] && s.strategyName === 'S1'));
  const technical = await api.getSignals({ strategyType: StrategyType.STRATEGY_TYPE_TECHNICAL, paging: { limit: 100 } });
  assert.ok(technical.signals.every((s) => s.strategyId === STRATEGIES[0]));
  const window = await api.getSignals({ from: new Date('2024-02-02T00:00:00Z'), to: new Date('2024-02-03T23:59:59Z') });
  assert.deepEqual(window.signals.map((s) => s.signalId), SIGNALS.slice(1, 3));
  const one = await api.getSignals({ signalId: SIGNALS[5] });
  assert.equal(one.signals[0].targetPrice.units, 330);
  assertApiError(await callRaw((o) => api.getSignals({ signalId: id(0x994) }, o)), Status.NOT_FOUND, 50012);
  assertApiError(await callRaw((o) => api.getSignals({ signalId: 'x' }, o)), Status.INVALID_ARGUMENT, 30222);
  assertApiError(await callRaw((o) => api.getSignals({ strategyId: 'x' }, o)), Status.INVALID_ARGUMENT, 30223);
  assertApiError(await callRaw((o) => api.getSignals({ strategyId: id(0x993) }, o)), Status.NOT_FOUND, 50011);
  assertApiError(await callRaw((o) => api.getSignals({ instrumentUid: id(0x992) }, o)), Status.NOT_FOUND, 50002);
  assertApiError(await callRaw((o) => api.getSignals({ direction: 7 }, o)), Status.INVALID_ARGUMENT, 30102);
  assertApiError(await callRaw((o) => api.getSignals({ from: new Date('2024-03-01'), to: new Date('2024-02-01') }, o)), Status.INVALID_ARGUMENT, 30012);
  assertApiError(await callRaw((o) => api.getSignals({ paging: { limit: 20, pageNumber: 2 } }, o)), Status.INVALID_ARGUMENT, 30226);
  assertApiError(await callRaw((o) => api.getSignals({ paging: { limit: -5 } }, o)), Status.INVALID_ARGUMENT, 30107);
});
