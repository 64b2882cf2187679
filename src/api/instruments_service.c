/* InstrumentsService: lookups over the configured reference data.
 *
 * All of it is immutable after start, so these handlers answer on the completion-queue thread
 * without involving the core. */
#include "api/services.h"

#include <string.h>
#include <strings.h>

#include "api/pb.h"
#include "api/request.h"
#include "api/risk_rates.h"
#include "api/server.h"
#include "util/clock.h"
#include "util/text.h"

#define SECONDS_PER_DAY 86400

/* The fields every instrument message shares by name (their numbers differ per message). */
#define FILL_COMMON(call, out, ins)                                                                \
    do {                                                                                           \
        (out)->figi = (char *)(ins)->figi;                                                         \
        (out)->ticker = (char *)(ins)->ticker;                                                     \
        (out)->class_code = (char *)(ins)->class_code;                                             \
        (out)->lot = (ins)->lot;                                                                   \
        (out)->currency = (char *)(ins)->currency;                                                 \
        (out)->name = (char *)(ins)->name;                                                         \
        (out)->exchange = (char *)(ins)->exchange;                                                 \
        (out)->country_of_risk = (char *)(ins)->country_of_risk;                                   \
        (out)->trading_status = (ins)->trading_status;                                             \
        (out)->otc_flag = (ins)->otc;                                                              \
        (out)->buy_available_flag = (ins)->buy_available;                                          \
        (out)->sell_available_flag = (ins)->sell_available;                                        \
        (out)->short_enabled_flag = (ins)->short_enabled;                                          \
        (out)->min_price_increment = pb_quotation((call), (ins)->min_price_increment_nano);        \
        (out)->api_trade_available_flag = (ins)->api_trade_available;                              \
        (out)->uid = (char *)(ins)->uid;                                                           \
        (out)->position_uid = (char *)(ins)->position_uid;                                         \
        (out)->real_exchange = PB_ENUM(REAL_EXCHANGE__REAL_EXCHANGE_MOEX);                         \
        (out)->for_qual_investor_flag = (ins)->for_qual_investor;                                  \
        (out)->weekend_flag = (ins)->weekend_available;                                            \
        API_FILL_RISK_RATES(call, out, ins);                                                       \
        (out)->first_1min_candle_date = api_first_candle_date((call), (ins), false);               \
        (out)->first_1day_candle_date = api_first_candle_date((call), (ins), true);                \
    } while (0)

/* The opening of the oldest candle the exchange keeps of the instrument (1-minute or 1-day);
 * none (the field absent) before its first trade. */
Google__Protobuf__Timestamp *api_first_candle_date(api_call *call, const instrument *ins,
                                                   bool day) {
    int64_t first_1min_ns, first_1day_ns;
    refdata_first_candles(ins, &first_1min_ns, &first_1day_ns);
    int64_t ns = day ? first_1day_ns : first_1min_ns;
    return ns == 0 ? NULL : pb_timestamp(call, ns);
}

static int exchange_type(const instrument *ins) {
    return ins->dealer ? PB_ENUM(INSTRUMENT_EXCHANGE_TYPE__INSTRUMENT_EXCHANGE_DEALER)
                       : PB_ENUM(INSTRUMENT_EXCHANGE_TYPE__INSTRUMENT_EXCHANGE_UNSPECIFIED);
}

static PB(Share) * make_share(api_call *call, const instrument *ins) {
    PB(Share) *out = PB_NEW(call, PB(Share), PB_INIT(SHARE));
    FILL_COMMON(call, out, ins);
    out->isin = (char *)ins->isin;
    out->asset_uid = (char *)ins->asset_uid;
    out->sector = (char *)ins->sector;
    out->issue_size = ins->issue_size;
    out->nominal = pb_money(call, ins->currency, 0);
    out->share_type = PB_ENUM(SHARE_TYPE__SHARE_TYPE_COMMON);
    out->instrument_exchange = exchange_type(ins);
    return out;
}

static PB(Bond) * make_bond(api_call *call, const instrument *ins) {
    PB(Bond) *out = PB_NEW(call, PB(Bond), PB_INIT(BOND));
    FILL_COMMON(call, out, ins);
    out->isin = (char *)ins->isin;
    out->asset_uid = (char *)ins->asset_uid;
    out->sector = (char *)ins->sector;
    out->coupon_quantity_per_year = ins->coupon_quantity_per_year;
    out->maturity_date = pb_timestamp_s(call, ins->maturity_date_s);
    out->placement_date = pb_timestamp_s(call, ins->placement_date_s);
    out->nominal = pb_money(call, ins->nominal_currency, ins->nominal_nano);
    out->initial_nominal = pb_money(call, ins->nominal_currency, ins->nominal_nano);
    out->aci_value = pb_money(call, ins->nominal_currency, ins->aci_value_nano);
    return out;
}

static PB(Etf) * make_etf(api_call *call, const instrument *ins) {
    PB(Etf) *out = PB_NEW(call, PB(Etf), PB_INIT(ETF));
    FILL_COMMON(call, out, ins);
    out->isin = (char *)ins->isin;
    out->asset_uid = (char *)ins->asset_uid;
    out->sector = (char *)ins->sector;
    out->focus_type = (char *)(ins->focus_type ? ins->focus_type : "");
    out->instrument_exchange = exchange_type(ins);
    return out;
}

static PB(Future) * make_future(api_call *call, const instrument *ins) {
    PB(Future) *out = PB_NEW(call, PB(Future), PB_INIT(FUTURE));
    FILL_COMMON(call, out, ins);
    out->sector = (char *)ins->sector;
    out->futures_type = (char *)(ins->futures_type ? ins->futures_type : "");
    out->asset_type = (char *)(ins->asset_type ? ins->asset_type : "");
    out->basic_asset = (char *)(ins->basic_asset ? ins->basic_asset : "");
    out->basic_asset_size = pb_quotation(call, ins->basic_asset_size_nano);
    out->first_trade_date = pb_timestamp_s(call, ins->first_trade_date_s);
    out->last_trade_date = pb_timestamp_s(call, ins->last_trade_date_s);
    out->expiration_date = pb_timestamp_s(call, ins->expiration_date_s);
    out->min_price_increment_amount = pb_quotation(call, ins->min_price_increment_amount_nano);
    out->initial_margin_on_buy = pb_money(call, ins->currency, ins->initial_margin_on_buy_nano);
    out->initial_margin_on_sell = pb_money(call, ins->currency, ins->initial_margin_on_sell_nano);
    return out;
}

static PB(Currency) * make_currency(api_call *call, const instrument *ins) {
    PB(Currency) *out = PB_NEW(call, PB(Currency), PB_INIT(CURRENCY));
    FILL_COMMON(call, out, ins);
    out->isin = (char *)ins->isin;
    out->iso_currency_name = (char *)(ins->iso_currency_name ? ins->iso_currency_name : "");
    out->nominal = pb_money(call, ins->currency, 1000000000);
    return out;
}

static PB(Instrument) * make_instrument(api_call *call, const instrument *ins) {
    PB(Instrument) *out = PB_NEW(call, PB(Instrument), PB_INIT(INSTRUMENT));
    FILL_COMMON(call, out, ins);
    out->isin = (char *)ins->isin;
    out->asset_uid = (char *)ins->asset_uid;
    out->instrument_type = (char *)api_instrument_type_name(ins->kind);
    out->instrument_kind = (int)ins->kind;
    return out;
}

/* Resolves an InstrumentRequest; answers the call with the T-Invest error and returns NULL
 * when the request is invalid or names nothing. */
static const instrument *find_requested(api_call *call, const PB(InstrumentRequest) * req) {
    const instrument *found;
    int code = api_request_instrument_by(api_call_refdata(call), req, &found);
    if (code != 0)
        api_reply_error(call, code);
    return found;
}

static const instrument *find_requested_kind(api_call *call, const ProtobufCMessage *request,
                                             instrument_kind kind) {
    const instrument *ins = find_requested(call, (const PB(InstrumentRequest) *)request);
    if (ins != NULL && ins->kind != kind) {
        api_reply_error(call, 50002);
        return NULL;
    }
    return ins;
}

static void get_instrument_by(api_call *call, const ProtobufCMessage *request) {
    const instrument *ins = find_requested(call, (const PB(InstrumentRequest) *)request);
    if (ins == NULL)
        return;
    PB(InstrumentResponse) *resp =
        PB_NEW(call, PB(InstrumentResponse), PB_INIT(INSTRUMENT_RESPONSE));
    resp->instrument = make_instrument(call, ins);
    api_reply_message(call, &resp->base);
}

/* Reads a list request's `instrument_status` and `instrument_exchange`; answers the call and
 * returns true when one is invalid. */
static bool refused_list(api_call *call, const PB(InstrumentsRequest) * in,
                         api_instruments_filter *filter) {
    int code = api_request_instruments(in, filter);
    if (code == 0)
        return false;
    if (filter->message != NULL)
        api_reply_error_message(call, code, filter->message);
    else
        api_reply_error(call, code);
    return true;
}

/* One "XxxBy" and one "Xxxs" handler per instrument kind; only the message types differ. */
#define KIND_HANDLERS(by_fn, list_fn, KIND, Type, ListResponse, make, RESP1, RESPN)                \
    static void by_fn(api_call *call, const ProtobufCMessage *request) {                           \
        const instrument *ins = find_requested_kind(call, request, KIND);                          \
        if (ins == NULL)                                                                           \
            return;                                                                                \
        PB(Type##Response) *resp = PB_NEW(call, PB(Type##Response), PB_INIT(RESP1));               \
        resp->instrument = make(call, ins);                                                        \
        api_reply_message(call, &resp->base);                                                      \
    }                                                                                              \
    static void list_fn(api_call *call, const ProtobufCMessage *request) {                         \
        api_instruments_filter filter;                                                             \
        if (refused_list(call, (const PB(InstrumentsRequest) *)request, &filter))                  \
            return;                                                                                \
        const refdata *rd = api_call_refdata(call);                                                \
        PB(ListResponse) *resp = PB_NEW(call, PB(ListResponse), PB_INIT(RESPN));                   \
        resp->instruments = (PB(Type) **)pb_array(call, rd->instrument_count);                     \
        for (uint32_t i = 0; i < rd->instrument_count; i++)                                        \
            if (rd->instruments[i].kind == KIND &&                                                 \
                api_request_instrument_listed(&rd->instruments[i], &filter))                       \
                resp->instruments[resp->n_instruments++] = make(call, &rd->instruments[i]);        \
        api_reply_message(call, &resp->base);                                                      \
    }

KIND_HANDLERS(share_by, shares, INSTRUMENT_KIND_SHARE, Share, SharesResponse, make_share,
              SHARE_RESPONSE, SHARES_RESPONSE)
KIND_HANDLERS(bond_by, bonds, INSTRUMENT_KIND_BOND, Bond, BondsResponse, make_bond, BOND_RESPONSE,
              BONDS_RESPONSE)
KIND_HANDLERS(etf_by, etfs, INSTRUMENT_KIND_ETF, Etf, EtfsResponse, make_etf, ETF_RESPONSE,
              ETFS_RESPONSE)
KIND_HANDLERS(future_by, futures, INSTRUMENT_KIND_FUTURE, Future, FuturesResponse, make_future,
              FUTURE_RESPONSE, FUTURES_RESPONSE)
KIND_HANDLERS(currency_by, currencies, INSTRUMENT_KIND_CURRENCY, Currency, CurrenciesResponse,
              make_currency, CURRENCY_RESPONSE, CURRENCIES_RESPONSE)

/* Any case, Latin or Cyrillic: "сбер" finds "Сбербанк". */
static bool matches_query(const instrument *ins, const char *query) {
    return text_contains_folded(ins->ticker, query) || text_contains_folded(ins->name, query) ||
           text_contains_folded(ins->figi, query) || text_contains_folded(ins->isin, query) ||
           strcasecmp(ins->uid, query) == 0;
}

static void find_instrument(api_call *call, const ProtobufCMessage *request) {
    const PB(FindInstrumentRequest) *req = (const PB(FindInstrumentRequest) *)request;
    int code = api_request_find_instrument(req);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    bool by_kind = req->_instrument_kind_case ==
                       PB_ENUM(FIND_INSTRUMENT_REQUEST___INSTRUMENT_KIND_INSTRUMENT_KIND) &&
                   req->instrument_kind != PB_ENUM(INSTRUMENT_TYPE__INSTRUMENT_TYPE_UNSPECIFIED);
    bool by_api_flag =
        req->_api_trade_available_flag_case ==
        PB_ENUM(FIND_INSTRUMENT_REQUEST___API_TRADE_AVAILABLE_FLAG_API_TRADE_AVAILABLE_FLAG);
    const refdata *rd = api_call_refdata(call);
    PB(FindInstrumentResponse) *resp =
        PB_NEW(call, PB(FindInstrumentResponse), PB_INIT(FIND_INSTRUMENT_RESPONSE));
    resp->instruments = (PB(InstrumentShort) **)pb_array(call, rd->instrument_count);
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const instrument *ins = &rd->instruments[i];
        if (!matches_query(ins, req->query) ||
            (by_kind && (int)ins->kind != (int)req->instrument_kind) ||
            (by_api_flag && ins->api_trade_available != (bool)req->api_trade_available_flag))
            continue;
        PB(InstrumentShort) *out = PB_NEW(call, PB(InstrumentShort), PB_INIT(INSTRUMENT_SHORT));
        out->isin = (char *)ins->isin;
        out->figi = (char *)ins->figi;
        out->ticker = (char *)ins->ticker;
        out->class_code = (char *)ins->class_code;
        out->instrument_type = (char *)api_instrument_type_name(ins->kind);
        out->name = (char *)ins->name;
        out->uid = (char *)ins->uid;
        out->position_uid = (char *)ins->position_uid;
        out->instrument_kind = (int)ins->kind;
        out->first_1min_candle_date = api_first_candle_date(call, ins, false);
        out->first_1day_candle_date = api_first_candle_date(call, ins, true);
        out->api_trade_available_flag = ins->api_trade_available;
        out->for_qual_investor_flag = ins->for_qual_investor;
        out->weekend_flag = ins->weekend_available;
        out->lot = ins->lot;
        resp->instruments[resp->n_instruments++] = out;
    }
    api_reply_message(call, &resp->base);
}

/* The embedded exchange trades around the clock, so every day of the asked period is a
 * trading day from 00:00 to 23:59:59 UTC for every exchange the instruments name. */
static PB(TradingDay) * make_trading_day(api_call *call, int64_t day_s) {
    PB(TradingDay) *day = PB_NEW(call, PB(TradingDay), PB_INIT(TRADING_DAY));
    day->date = pb_timestamp_s(call, day_s);
    day->is_trading_day = true;
    day->start_time = pb_timestamp_s(call, day_s);
    day->end_time = pb_timestamp_s(call, day_s + SECONDS_PER_DAY - 1);
    return day;
}

static bool exchange_listed_before(const refdata *rd, uint32_t index) {
    for (uint32_t j = 0; j < index; j++)
        if (strcmp(rd->instruments[j].exchange, rd->instruments[index].exchange) == 0)
            return true;
    return false;
}

static void trading_schedules(api_call *call, const ProtobufCMessage *request) {
    const PB(TradingSchedulesRequest) *req = (const PB(TradingSchedulesRequest) *)request;
    int64_t today_s = clock_broker_ns() / 1000000000 / SECONDS_PER_DAY * SECONDS_PER_DAY;
    api_schedule_days days;
    int code = api_request_trading_schedules(req, today_s, &days);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    int64_t from_s = days.from_s, day_count = days.day_count;
    bool one_exchange =
        req->_exchange_case != PB_ENUM(TRADING_SCHEDULES_REQUEST___EXCHANGE__NOT_SET) &&
        req->exchange[0] != '\0';
    const refdata *rd = api_call_refdata(call);
    PB(TradingSchedulesResponse) *resp =
        PB_NEW(call, PB(TradingSchedulesResponse), PB_INIT(TRADING_SCHEDULES_RESPONSE));
    resp->exchanges = (PB(TradingSchedule) **)pb_array(call, rd->instrument_count);
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const char *exchange = rd->instruments[i].exchange;
        if (exchange_listed_before(rd, i) ||
            (one_exchange && strcasecmp(exchange, req->exchange) != 0))
            continue;
        PB(TradingSchedule) *schedule =
            PB_NEW(call, PB(TradingSchedule), PB_INIT(TRADING_SCHEDULE));
        schedule->exchange = (char *)exchange;
        schedule->days = (PB(TradingDay) **)pb_array(call, (size_t)day_count);
        for (int64_t d = 0; d < day_count; d++)
            schedule->days[schedule->n_days++] =
                make_trading_day(call, from_s + d * SECONDS_PER_DAY);
        resp->exchanges[resp->n_exchanges++] = schedule;
    }
    if (one_exchange && resp->n_exchanges == 0) {
        api_reply_error(call, 50001);
        return;
    }
    api_reply_message(call, &resp->base);
}

#define INSTRUMENTS(method, type, fn)                                                              \
    {                                                                                              \
        .service = "InstrumentsService", .name = method, .request_type = &PB_DESC(type),           \
        .handle = fn                                                                               \
    }
static api_method instruments_methods[] = {
    INSTRUMENTS("GetInstrumentBy", instrument_request, get_instrument_by),
    INSTRUMENTS("ShareBy", instrument_request, share_by),
    INSTRUMENTS("Shares", instruments_request, shares),
    INSTRUMENTS("BondBy", instrument_request, bond_by),
    INSTRUMENTS("Bonds", instruments_request, bonds),
    INSTRUMENTS("EtfBy", instrument_request, etf_by),
    INSTRUMENTS("Etfs", instruments_request, etfs),
    INSTRUMENTS("FutureBy", instrument_request, future_by),
    INSTRUMENTS("Futures", instruments_request, futures),
    INSTRUMENTS("CurrencyBy", instrument_request, currency_by),
    INSTRUMENTS("Currencies", instruments_request, currencies),
    INSTRUMENTS("FindInstrument", find_instrument_request, find_instrument),
    INSTRUMENTS("TradingSchedules", trading_schedules_request, trading_schedules),
};

const api_method *api_instruments_methods(size_t *count) {
    *count = sizeof instruments_methods / sizeof instruments_methods[0];
    return instruments_methods;
}
