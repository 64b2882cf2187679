// The payment calendar through the npm SDK: GetBondCoupons, GetBondEvents, GetDividends and
// GetAccruedInterests served from the reference-data files of a test directory (not the demo's):
// every field a file gives comes back, the period and type filters select, an instrument without
// data gets an empty list, and each refusal carries its code, status, message and tracking id.
import './tls-env.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Status } from 'nice-grpc';
import {
  CouponType,
  GetBondEventsRequest_EventType as EventType,
  InstrumentsServiceDefinition,
} from 'tinkoff-invest-api/dist/generated/instruments.js';
import { startServer, sdk, rawClient, callRaw, closeClients, inlineDemoConfig } from './harness.mjs';

const config = inlineDemoConfig();
const bond = config.instruments.find((i) => i.type === 'bond');
const share = config.instruments.find((i) => i.type === 'share');
const etf = config.instruments.find((i) => i.type === 'etf');
// A second bond the files say nothing about.
const bare = { ...structuredClone(bond), figi: 'TESTBOND0002', uid: '0b7c4f7e-2b1a-4c55-9c1e-000000000002',
  position_uid: '0b7c4f7e-2b1a-4c55-9c1e-000000000003', name: 'Bond without data' };
config.instruments.push(bare);

const dir = mkdtempSync(join(tmpdir(), 'tinvestd-calendar-'));
config.reference_dir = dir;
const day = (text) => new Date(`${text}T00:00:00Z`);

// Two quarterly coupons of a nominal of 1000 (given out of order), and one not yet fixed.
const coupons = [
  { coupon_number: 2, coupon_date: '2024-07-01', fix_date: '2024-06-28', pay_one_bond: '20.5',
    coupon_type: 'COUPON_TYPE_CONSTANT', coupon_start_date: '2024-04-01', coupon_end_date: '2024-07-01' },
  { coupon_number: 1, coupon_date: '2024-04-01', fix_date: '2024-03-29', pay_one_bond: '19.95',
    coupon_type: 'COUPON_TYPE_CONSTANT', coupon_start_date: '2024-01-01', coupon_end_date: '2024-04-01', coupon_period: 91 },
  { coupon_number: 3, coupon_date: '2024-10-01', coupon_type: 'COUPON_TYPE_FLOATING',
    coupon_start_date: '2024-07-01', coupon_end_date: '2024-10-01' },
];
writeFileSync(join(dir, 'bond_coupons.json'), JSON.stringify({ bonds: [{ instrument_id: bond.figi, coupons }] }));
writeFileSync(join(dir, 'bond_events.json'), JSON.stringify({ bonds: [{ instrument_id: bond.uid, events: [
  { event_number: 1, event_type: 'EVENT_TYPE_CPN', event_date: '2024-04-01', pay_date: '2024-04-01',
    pay_one_bond: '19.95', coupon_start_date: '2024-01-01', coupon_end_date: '2024-04-01', coupon_period: 91,
    coupon_interest_rate: '8', operation_type: 'coupon' },
  { event_number: 1, event_type: 'EVENT_TYPE_CALL', event_date: '2024-06-01', execution: 'Y', value: '100' },
  { event_number: 1, event_type: 'EVENT_TYPE_MTY', event_date: '2025-01-01', pay_one_bond: '1000', note: 'maturity' },
] }] }));
writeFileSync(join(dir, 'dividends.json'), JSON.stringify({ instruments: [{ instrument_id: share.uid, dividends: [
  { dividend_net: '33.3', record_date: '2024-07-11', payment_date: '2024-07-25', declared_date: '2024-04-17',
    last_buy_date: '2024-07-10', dividend_type: 'Regular Cash', regularity: 'Annual', close_price: '320.5',
    yield_value: '10.39', created_at: '2024-04-17T12:30:00Z' },
  { dividend_net: '25', record_date: '2023-05-11', dividend_type: 'Regular Cash' },
] }] }));

let server;
let api;
let raw;

before(async () => {
  const path = join(tmpdir(), `tinvestd-calendar-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config));
  server = await startServer({ config: path });
  api = sdk(server, 't.demo.full');
  raw = rawClient(server, InstrumentsServiceDefinition, 't.demo.full');
});
after(async () => {
  closeClients();
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  rmSync(dir, { recursive: true, force: true });
});

const money = (m) => `${m.currency}:${Number(m.units) + m.nano / 1e9}`;
const quote = (q) => Number(q.units) + q.nano / 1e9;

/** The refusal of a raw call: its numeric code, gRPC status, message trailer and tracking id. */
async function refusal(call) {
  const { error, trailer } = await callRaw(call);
  assert.ok(error, 'the call was expected to be refused');
  return { code: error.details, status: error.code, message: trailer?.get('message'),
    tracking: trailer?.get('x-tracking-id') };
}

test('GetBondCoupons: the schedule in date order, by figi, uid or the deprecated figi, with every field', async () => {
  const { events } = await api.instruments.getBondCoupons({ figi: '', instrumentId: bond.uid });
  assert.deepEqual(events.map((c) => Number(c.couponNumber)), [1, 2, 3]);
  const [first, second, third] = events;
  assert.equal(first.figi, bond.figi);
  assert.deepEqual(first.couponDate, day('2024-04-01'));
  assert.deepEqual(first.fixDate, day('2024-03-29'));
  assert.equal(money(first.payOneBond), 'rub:19.95');
  assert.equal(first.couponType, CouponType.COUPON_TYPE_CONSTANT);
  assert.deepEqual(first.couponStartDate, day('2024-01-01'));
  assert.deepEqual(first.couponEndDate, day('2024-04-01'));
  assert.equal(first.couponPeriod, 91);
  assert.equal(second.couponPeriod, 91);
  assert.equal(money(second.payOneBond), 'rub:20.5');
  // Not yet fixed: no record date and nothing to pay yet.
  assert.equal(third.fixDate, undefined);
  assert.equal(money(third.payOneBond), 'rub:0');
  assert.equal(third.couponType, CouponType.COUPON_TYPE_FLOATING);
  assert.equal(third.couponPeriod, 92);
  const byFigi = await api.instruments.getBondCoupons({ figi: bond.figi, instrumentId: '' });
  assert.equal(byFigi.events.length, 3);
  const byId = await api.instruments.getBondCoupons({ figi: '', instrumentId: bond.figi });
  assert.equal(byId.events.length, 3);
});

test('GetBondCoupons: from and to select by coupon date, bounds included', async () => {
  const between = await api.instruments.getBondCoupons({ figi: '', instrumentId: bond.uid,
    from: day('2024-04-01'), to: day('2024-07-01') });
  assert.deepEqual(between.events.map((c) => Number(c.couponNumber)), [1, 2]);
  const after = await api.instruments.getBondCoupons({ figi: '', instrumentId: bond.uid, from: new Date('2024-04-01T00:00:01Z') });
  assert.deepEqual(after.events.map((c) => Number(c.couponNumber)), [2, 3]);
  const before = await api.instruments.getBondCoupons({ figi: '', instrumentId: bond.uid, to: day('2024-03-31') });
  assert.deepEqual(before.events, []);
  const none = await api.instruments.getBondCoupons({ figi: '', instrumentId: bare.uid });
  assert.deepEqual(none.events, []);
});

test('GetBondCoupons: an unknown instrument, a share, no id and a reversed period are refused', async () => {
  const unknown = await refusal((o) => raw.getBondCoupons({ figi: '', instrumentId: 'BBG000NOSUCH' }, o));
  assert.equal(unknown.code, '50002');
  assert.equal(unknown.status, Status.NOT_FOUND);
  assert.equal(unknown.message, 'Instrument not found');
  assert.ok(unknown.tracking);
  const notBond = await refusal((o) => raw.getBondCoupons({ figi: '', instrumentId: share.uid }, o));
  assert.equal(notBond.code, '30048');
  assert.equal(notBond.status, Status.INVALID_ARGUMENT);
  assert.equal(notBond.message, 'Instrument type is not bond');
  assert.equal((await refusal((o) => raw.getBondCoupons({ figi: '', instrumentId: '' }, o))).code, '30237');
  const reversed = await refusal((o) => raw.getBondCoupons({ figi: '', instrumentId: bond.uid,
    from: day('2024-05-01'), to: day('2024-04-01') }, o));
  assert.equal(reversed.code, '30012');
});

test('GetBondEvents: every event, by type, by period, and an empty list for a bond without events', async () => {
  const all = await api.instruments.getBondEvents({ instrumentId: bond.figi, type: EventType.EVENT_TYPE_UNSPECIFIED });
  assert.deepEqual(all.events.map((e) => e.eventType),
    [EventType.EVENT_TYPE_CPN, EventType.EVENT_TYPE_CALL, EventType.EVENT_TYPE_MTY]);
  const [cpn, call, mty] = all.events;
  assert.equal(cpn.instrumentId, bond.uid);
  assert.equal(cpn.eventNumber, 1);
  assert.deepEqual(cpn.eventDate, day('2024-04-01'));
  assert.deepEqual(cpn.payDate, day('2024-04-01'));
  assert.equal(money(cpn.payOneBond), 'rub:19.95');
  assert.equal(quote(cpn.couponInterestRate), 8);
  assert.equal(cpn.couponPeriod, 91);
  assert.equal(cpn.operationType, 'coupon');
  assert.equal(cpn.fixDate, undefined);
  assert.equal(call.execution, 'Y');
  assert.equal(quote(call.value), 100);
  assert.equal(call.payOneBond, undefined);
  assert.equal(mty.note, 'maturity');
  assert.equal(money(mty.payOneBond), 'rub:1000');
  const calls = await api.instruments.getBondEvents({ instrumentId: bond.uid, type: EventType.EVENT_TYPE_CALL });
  assert.deepEqual(calls.events.map((e) => e.eventType), [EventType.EVENT_TYPE_CALL]);
  const conv = await api.instruments.getBondEvents({ instrumentId: bond.uid, type: EventType.EVENT_TYPE_CONV });
  assert.deepEqual(conv.events, []);
  const in2024 = await api.instruments.getBondEvents({ instrumentId: bond.uid, type: EventType.EVENT_TYPE_UNSPECIFIED,
    from: day('2024-05-01'), to: day('2024-12-31') });
  assert.deepEqual(in2024.events.map((e) => e.eventType), [EventType.EVENT_TYPE_CALL]);
  const none = await api.instruments.getBondEvents({ instrumentId: bare.figi, type: EventType.EVENT_TYPE_UNSPECIFIED });
  assert.deepEqual(none.events, []);
});

test('GetBondEvents: a type outside the contract, a non-bond and an unknown id are refused', async () => {
  const badType = await refusal((o) => raw.getBondEvents({ instrumentId: bond.uid, type: 9 }, o));
  assert.equal(badType.code, '30102');
  assert.match(badType.message, /`type`/);
  assert.equal((await refusal((o) => raw.getBondEvents({ instrumentId: etf.uid, type: 0 }, o))).code, '30048');
  assert.equal((await refusal((o) => raw.getBondEvents({ instrumentId: 'nope', type: 0 }, o))).code, '50002');
});

test('GetDividends: a share\'s dividends by record date, an ETF without any, and a bond refused', async () => {
  const { dividends } = await api.instruments.getDividends({ figi: '', instrumentId: share.figi });
  assert.equal(dividends.length, 2);
  assert.deepEqual(dividends.map((d) => d.recordDate), [day('2023-05-11'), day('2024-07-11')]);
  const d = dividends[1];
  assert.equal(money(d.dividendNet), 'rub:33.3');
  assert.deepEqual(d.paymentDate, day('2024-07-25'));
  assert.deepEqual(d.declaredDate, day('2024-04-17'));
  assert.deepEqual(d.lastBuyDate, day('2024-07-10'));
  assert.equal(d.dividendType, 'Regular Cash');
  assert.equal(d.regularity, 'Annual');
  assert.equal(money(d.closePrice), 'rub:320.5');
  assert.equal(quote(d.yieldValue), 10.39);
  assert.deepEqual(d.createdAt, new Date('2024-04-17T12:30:00Z'));
  assert.equal(dividends[0].paymentDate, undefined);
  assert.equal(dividends[0].closePrice, undefined);
  const in2024 = await api.instruments.getDividends({ figi: '', instrumentId: share.uid, from: day('2024-01-01'), to: day('2024-07-11') });
  assert.deepEqual(in2024.dividends.map((x) => x.recordDate), [day('2024-07-11')]);
  const byFigi = await api.instruments.getDividends({ figi: share.figi, instrumentId: '' });
  assert.equal(byFigi.dividends.length, 2);
  assert.deepEqual((await api.instruments.getDividends({ figi: '', instrumentId: etf.uid })).dividends, []);
  const notShare = await refusal((o) => raw.getDividends({ figi: '', instrumentId: bond.uid }, o));
  assert.equal(notShare.code, '30054');
  assert.equal(notShare.message, 'Instrument type is not a share or etf');
});

test('GetAccruedInterests: each day of the period from the coupon schedule, to the nano-unit', async () => {
  const { accruedInterests } = await api.instruments.getAccruedInterests({ figi: '', instrumentId: bond.uid,
    from: day('2023-12-31'), to: new Date('2024-01-31T12:00:00Z') });
  // 2023-12-31 lies before the first period: no entry; then 2024-01-01 .. 2024-01-31.
  assert.equal(accruedInterests.length, 31);
  assert.deepEqual(accruedInterests[0].date, day('2024-01-01'));
  assert.equal(quote(accruedInterests[0].value), 0);
  const jan31 = accruedInterests[30];
  assert.deepEqual(jan31.date, day('2024-01-31'));
  // 19.95 × 30 / 91 = 6.5769230769… and 0.65769230769… % of 1000.
  assert.deepEqual([jan31.value.units, jan31.value.nano], [6, 576923077]);
  assert.deepEqual([jan31.valuePercent.units, jan31.valuePercent.nano], [0, 657692308]);
  assert.equal(quote(jan31.nominal), 1000);
  // The payment day starts the next period: nothing accrued.
  const payday = await api.instruments.getAccruedInterests({ figi: '', instrumentId: bond.figi,
    from: day('2024-03-31'), to: day('2024-04-01') });
  assert.deepEqual(payday.accruedInterests.map((a) => quote(a.value)), [19.730769231, 0]);
  // Past the schedule's last period, and a bond without one: empty.
  const past = await api.instruments.getAccruedInterests({ figi: '', instrumentId: bond.uid,
    from: day('2024-10-01'), to: day('2024-12-31') });
  assert.deepEqual(past.accruedInterests, []);
  const bareAnswer = await api.instruments.getAccruedInterests({ figi: '', instrumentId: bare.uid,
    from: day('2024-01-01'), to: day('2024-02-01') });
  assert.deepEqual(bareAnswer.accruedInterests, []);
});

test('GetAccruedInterests: from and to are required, ordered and bounded, and only bonds have any', async () => {
  const code = async (request) => (await refusal((o) => raw.getAccruedInterests({ figi: '', instrumentId: bond.uid, ...request }, o))).code;
  assert.equal(await code({ to: day('2024-01-02') }), '30001');
  assert.equal(await code({ from: day('2024-01-02') }), '30004');
  assert.equal(await code({ from: day('2024-01-02'), to: day('2024-01-01') }), '30012');
  const longest = await api.instruments.getAccruedInterests({ figi: '', instrumentId: bond.uid,
    from: day('2020-01-01'), to: new Date(day('2020-01-01').getTime() + 3659 * 86400e3) });
  assert.equal(longest.accruedInterests.length, 274); // the days of the three periods
  assert.equal(await code({ from: day('2020-01-01'), to: new Date(day('2020-01-01').getTime() + 3660 * 86400e3) }), '30084');
  assert.equal(await code({ instrumentId: share.uid, from: day('2024-01-01'), to: day('2024-01-02') }), '30048');
  assert.equal(await code({ instrumentId: 'nope', from: day('2024-01-01'), to: day('2024-01-02') }), '50002');
});
