/* InstrumentsService's payment calendar: GetBondCoupons, GetBondEvents, GetDividends and
 * GetAccruedInterests, answered from the calendar of the reference data (refbook/calendar.h).
 *
 * The calendar is immutable after start, so these handlers answer on the completion-queue
 * thread without involving the core, as the other InstrumentsService lookups do. An instrument
 * the files give nothing for gets a correctly shaped empty list. */
#include "api/services.h"

#include "api/calendar_request.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"
#include "refbook/calendar.h"

#define NS_PER_SECOND INT64_C(1000000000)

static const calendar *calendar_of(const api_call *call) {
    return &call->server->config->calendar;
}

/* Whether a date (UTC midnight, in seconds) lies in the asked period. */
static bool in_period(const api_calendar_query *q, int64_t date_s) {
    /* A file's date may lie past 2262, beyond int64 nanoseconds: compared in 128 bits. */
    __int128 date_ns = (__int128)date_s * NS_PER_SECOND;
    return date_ns >= q->from_ns && date_ns <= q->to_ns;
}

/* A date the file may leave out: absent from the reply then. */
static Google__Protobuf__Timestamp *optional_date(api_call *call, int64_t date_s) {
    return date_s == 0 ? NULL : pb_timestamp_s(call, date_s);
}

static void reply_refusal(api_call *call, int code, const char *message) {
    if (message != NULL)
        api_reply_error_message(call, code, message);
    else
        api_reply_error(call, code);
}

static PB(Coupon) * make_coupon(api_call *call, const instrument *ins, const calendar_coupon *c) {
    PB(Coupon) *out = PB_NEW(call, PB(Coupon), PB_INIT(COUPON));
    out->figi = (char *)ins->figi;
    out->coupon_date = pb_timestamp_s(call, c->coupon_date_s);
    out->coupon_number = c->coupon_number;
    out->fix_date = optional_date(call, c->fix_date_s);
    out->pay_one_bond = pb_money(call, ins->nominal_currency, c->pay_one_bond_nano);
    out->coupon_type = c->coupon_type;
    out->coupon_start_date = pb_timestamp_s(call, c->start_s);
    out->coupon_end_date = pb_timestamp_s(call, c->end_s);
    out->coupon_period = c->period_days;
    return out;
}

static void get_bond_coupons(api_call *call, const ProtobufCMessage *request) {
    api_calendar_query q;
    int code = api_request_bond_coupons(api_call_refdata(call),
                                        (const PB(GetBondCouponsRequest) *)request, &q);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    uint32_t n;
    const calendar_coupon *coupons = calendar_coupons(calendar_of(call), q.instrument->index, &n);
    PB(GetBondCouponsResponse) *resp =
        PB_NEW(call, PB(GetBondCouponsResponse), PB_INIT(GET_BOND_COUPONS_RESPONSE));
    resp->events = (PB(Coupon) **)pb_array(call, n);
    for (uint32_t i = 0; i < n; i++)
        if (in_period(&q, coupons[i].coupon_date_s))
            resp->events[resp->n_events++] = make_coupon(call, q.instrument, &coupons[i]);
    api_reply_message(call, &resp->base);
}

static PB(Quotation) * optional_quotation(api_call *call, bool has, int64_t value_nano) {
    return has ? pb_quotation(call, value_nano) : NULL;
}

static PB(MoneyValue) *
    optional_money(api_call *call, const char *currency, bool has, int64_t value_nano) {
    return has ? pb_money(call, currency, value_nano) : NULL;
}

typedef PB(GetBondEventsResponse__BondEvent) bond_event_pb;

static bond_event_pb *make_event(api_call *call, const instrument *ins,
                                 const calendar_bond_event *e) {
    bond_event_pb *out = PB_NEW(call, bond_event_pb, PB_INIT(GET_BOND_EVENTS_RESPONSE__BOND_EVENT));
    const char *currency = ins->nominal_currency;
    out->instrument_id = (char *)ins->uid;
    out->event_number = e->event_number;
    out->event_date = pb_timestamp_s(call, e->event_date_s);
    out->event_type = e->event_type;
    out->event_total_vol = optional_quotation(call, e->has_total_vol, e->event_total_vol_nano);
    out->fix_date = optional_date(call, e->fix_date_s);
    out->rate_date = optional_date(call, e->rate_date_s);
    out->default_date = optional_date(call, e->default_date_s);
    out->real_pay_date = optional_date(call, e->real_pay_date_s);
    out->pay_date = optional_date(call, e->pay_date_s);
    out->pay_one_bond = optional_money(call, currency, e->has_pay_one_bond, e->pay_one_bond_nano);
    out->money_flow_val =
        optional_money(call, currency, e->has_money_flow_val, e->money_flow_val_nano);
    out->execution = (char *)e->execution;
    out->operation_type = (char *)e->operation_type;
    out->value = optional_quotation(call, e->has_value, e->value_nano);
    out->note = (char *)e->note;
    out->convert_to_fin_tool_id = (char *)e->convert_to_fin_tool_id;
    out->coupon_start_date = optional_date(call, e->coupon_start_s);
    out->coupon_end_date = optional_date(call, e->coupon_end_s);
    out->coupon_period = e->coupon_period_days;
    out->coupon_interest_rate = optional_quotation(call, e->has_rate, e->coupon_interest_rate_nano);
    return out;
}

static void get_bond_events(api_call *call, const ProtobufCMessage *request) {
    api_calendar_query q;
    const char *message;
    int code = api_request_bond_events(api_call_refdata(call),
                                       (const PB(GetBondEventsRequest) *)request, &q, &message);
    if (code != 0) {
        reply_refusal(call, code, message);
        return;
    }
    uint32_t n;
    const calendar_bond_event *events = calendar_events(calendar_of(call), q.instrument->index, &n);
    PB(GetBondEventsResponse) *resp =
        PB_NEW(call, PB(GetBondEventsResponse), PB_INIT(GET_BOND_EVENTS_RESPONSE));
    resp->events = (bond_event_pb **)pb_array(call, n);
    for (uint32_t i = 0; i < n; i++)
        if (in_period(&q, events[i].event_date_s) &&
            (q.event_type == 0 || q.event_type == events[i].event_type))
            resp->events[resp->n_events++] = make_event(call, q.instrument, &events[i]);
    api_reply_message(call, &resp->base);
}

static PB(Dividend) * make_dividend(api_call *call, const calendar_dividend *d) {
    PB(Dividend) *out = PB_NEW(call, PB(Dividend), PB_INIT(DIVIDEND));
    out->dividend_net = pb_money(call, d->currency, d->dividend_net_nano);
    out->payment_date = optional_date(call, d->payment_date_s);
    out->declared_date = optional_date(call, d->declared_date_s);
    out->last_buy_date = optional_date(call, d->last_buy_date_s);
    out->dividend_type = (char *)d->dividend_type;
    out->record_date = pb_timestamp_s(call, d->record_date_s);
    out->regularity = (char *)d->regularity;
    out->close_price = optional_money(call, d->currency, d->has_close_price, d->close_price_nano);
    out->yield_value = optional_quotation(call, d->has_yield, d->yield_value_nano);
    out->created_at = optional_date(call, d->created_at_s);
    return out;
}

static void get_dividends(api_call *call, const ProtobufCMessage *request) {
    api_calendar_query q;
    int code =
        api_request_dividends(api_call_refdata(call), (const PB(GetDividendsRequest) *)request, &q);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    uint32_t n;
    const calendar_dividend *dividends =
        calendar_dividends(calendar_of(call), q.instrument->index, &n);
    PB(GetDividendsResponse) *resp =
        PB_NEW(call, PB(GetDividendsResponse), PB_INIT(GET_DIVIDENDS_RESPONSE));
    resp->dividends = (PB(Dividend) **)pb_array(call, n);
    for (uint32_t i = 0; i < n; i++)
        if (in_period(&q, dividends[i].record_date_s))
            resp->dividends[resp->n_dividends++] = make_dividend(call, &dividends[i]);
    api_reply_message(call, &resp->base);
}

/* One entry a day of the period that lies in a coupon period of the bond's schedule; a bond
 * without a schedule answers an empty list. */
static void get_accrued_interests(api_call *call, const ProtobufCMessage *request) {
    api_calendar_query q;
    int code = api_request_accrued_interests(api_call_refdata(call),
                                             (const PB(GetAccruedInterestsRequest) *)request, &q);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    uint32_t n;
    const calendar_coupon *coupons = calendar_coupons(calendar_of(call), q.instrument->index, &n);
    PB(GetAccruedInterestsResponse) *resp =
        PB_NEW(call, PB(GetAccruedInterestsResponse), PB_INIT(GET_ACCRUED_INTERESTS_RESPONSE));
    resp->accrued_interests =
        (PB(AccruedInterest) **)pb_array(call, n == 0 ? 0 : (size_t)q.day_count);
    for (int64_t d = 0; n > 0 && d < q.day_count; d++) {
        int64_t day_s = q.first_day_s + d * CALENDAR_SECONDS_PER_DAY;
        calendar_accrued a;
        calendar_accrued_result r =
            calendar_accrued_interest(coupons, n, day_s, q.instrument->nominal_nano, &a);
        if (r == CALENDAR_ACCRUED_NONE)
            continue;
        if (r == CALENDAR_ACCRUED_OVERFLOW) {
            api_reply_error_message(call, 70001, "The accrued interest does not fit the reply");
            return;
        }
        PB(AccruedInterest) *out = PB_NEW(call, PB(AccruedInterest), PB_INIT(ACCRUED_INTEREST));
        out->date = pb_timestamp_s(call, day_s);
        out->value = pb_quotation(call, a.value_nano);
        out->value_percent = pb_quotation(call, a.value_percent_nano);
        out->nominal = pb_quotation(call, q.instrument->nominal_nano);
        resp->accrued_interests[resp->n_accrued_interests++] = out;
    }
    api_reply_message(call, &resp->base);
}

#define CALENDAR_METHOD(method, type, fn)                                                          \
    {                                                                                              \
        .service = "InstrumentsService", .name = method, .request_type = &PB_DESC(type),           \
        .handle = fn                                                                               \
    }
static api_method calendar_methods[] = {
    CALENDAR_METHOD("GetBondCoupons", get_bond_coupons_request, get_bond_coupons),
    CALENDAR_METHOD("GetBondEvents", get_bond_events_request, get_bond_events),
    CALENDAR_METHOD("GetDividends", get_dividends_request, get_dividends),
    CALENDAR_METHOD("GetAccruedInterests", get_accrued_interests_request, get_accrued_interests),
};

const api_method *api_calendar_methods(size_t *count) {
    *count = sizeof calendar_methods / sizeof calendar_methods[0];
    return calendar_methods;
}
