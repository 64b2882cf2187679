/* MarketDataService from the embedded exchange: order books, last prices, trading statuses and
 * last trades. Read on the core thread, which owns the venue. */
#include "api/services.h"

#include <assert.h>
#include <string.h>

#include "api/core_job.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"
#include "api/techanalysis.h"
#include "engine/venue_link.h"
#include "util/checked.h"
#include "util/clock.h"

#define MAX_LAST_TRADES 1000
#define DEFAULT_TRADES_WINDOW_NS (3600LL * 1000000000LL)
#define SECURITY_TRADING_STATUS_NORMAL_TRADING 5
#define SECURITY_TRADING_STATUS_NOT_AVAILABLE 1

/* Answers the call with `code` unless it is 0; true when it did. */
static bool refused(api_call *call, int code) {
    if (code != 0)
        api_reply_error(call, code);
    return code != 0;
}

static engine_venue_link *venue_of(engine *e) {
    return engine_venue(e);
}

static PB(Order) * *levels(api_call *call, const venue_link_level *in, uint32_t n) {
    PB(Order) **out = (PB(Order) **)pb_array(call, n);
    for (uint32_t i = 0; i < n; i++) {
        out[i] = PB_NEW(call, PB(Order), PB_INIT(ORDER));
        out[i]->price = pb_quotation(call, in[i].price_nano);
        out[i]->quantity = in[i].qty_lots;
    }
    return out;
}

static const ProtobufCMessage *read_order_book(engine *e, api_call *call) {
    const PB(GetOrderBookRequest) *in = (const PB(GetOrderBookRequest) *)call->request;
    const instrument *ins = refdata_find_instrument_id(api_call_refdata(call),
                                                       api_request_order_book_instrument_id(in));
    venue_link_book *book = api_call_alloc(call, sizeof *book);
    venue_link_order_book(venue_of(e), ins->index, (uint32_t)in->depth, book);
    PB(GetOrderBookResponse) *r =
        PB_NEW(call, PB(GetOrderBookResponse), PB_INIT(GET_ORDER_BOOK_RESPONSE));
    r->figi = (char *)ins->figi;
    r->depth = in->depth;
    r->bids = levels(call, book->bids, book->bid_count);
    r->n_bids = book->bid_count;
    r->asks = levels(call, book->asks, book->ask_count);
    r->n_asks = book->ask_count;
    r->last_price = pb_quotation(call, book->last_price_nano);
    r->close_price = pb_quotation(call, ins->reference_price_nano);
    r->limit_up = pb_quotation(call, book->limit_up_nano);
    r->limit_down = pb_quotation(call, book->limit_down_nano);
    r->instrument_uid = (char *)ins->uid;
    r->ticker = (char *)ins->ticker;
    r->class_code = (char *)ins->class_code;
    r->last_price_ts = pb_timestamp(call, book->last_price_ns);
    r->orderbook_ts = pb_timestamp(call, engine_now_ns(e));
    return &r->base;
}

static void get_order_book(api_call *call, const ProtobufCMessage *request) {
    const instrument *ins;
    if (!refused(call, api_request_order_book(api_call_refdata(call),
                                              (const PB(GetOrderBookRequest) *)request, &ins)))
        api_read_on_core(call, read_order_book);
}

/* One entry of GetLastPrices: the price of the type asked, or, for an instrument named that has
 * no price of that type (a dealer instrument's exchange price), the entry without a price, as the
 * real service answers every instrument named. */
static PB(LastPrice) *
    last_price(api_call *call, engine *e, const instrument *ins, int32_t price_type) {
    PB(LastPrice) *p = PB_NEW(call, PB(LastPrice), PB_INIT(LAST_PRICE));
    p->figi = (char *)ins->figi;
    p->ticker = (char *)ins->ticker;
    p->class_code = (char *)ins->class_code;
    p->instrument_uid = (char *)ins->uid;
    int32_t type;
    bool has_price = api_request_last_price_type_of(ins, price_type, &type);
    p->last_price_type = has_price ? type : price_type;
    if (has_price) {
        venue_link_book book;
        venue_link_order_book(venue_of(e), ins->index, 0, &book);
        p->price = pb_quotation(call, book.last_price_nano);
        p->time = pb_timestamp(call, book.last_price_ns);
    }
    return p;
}

/* An id that names no instrument: the real service answers it too, echoing the id as `figi`,
 * with no price and no time. */
static PB(LastPrice) * unknown_last_price(api_call *call, const char *id, int32_t price_type) {
    PB(LastPrice) *p = PB_NEW(call, PB(LastPrice), PB_INIT(LAST_PRICE));
    p->figi = (char *)id;
    p->last_price_type = price_type;
    return p;
}

static const ProtobufCMessage *read_last_prices(engine *e, api_call *call) {
    const PB(GetLastPricesRequest) *in = (const PB(GetLastPricesRequest) *)call->request;
    const refdata *rd = api_call_refdata(call);
    api_last_prices asked = api_request_last_prices_asked(in);
    size_t named = api_request_last_prices_count(in);
    PB(GetLastPricesResponse) *r =
        PB_NEW(call, PB(GetLastPricesResponse), PB_INIT(GET_LAST_PRICES_RESPONSE));
    r->last_prices = (PB(LastPrice) **)pb_array(call, named ? named : rd->instrument_count);
    for (size_t i = 0; i < named; i++) {
        const char *id = api_request_last_prices_id(in, i);
        const instrument *ins = refdata_find_instrument_id(rd, id);
        r->last_prices[r->n_last_prices++] = ins != NULL
                                                 ? last_price(call, e, ins, asked.price_type)
                                                 : unknown_last_price(call, id, asked.price_type);
    }
    /* None named: every instrument of the status asked that has a price of the type asked. */
    int32_t type;
    for (uint32_t i = 0; named == 0 && i < rd->instrument_count; i++) {
        const instrument *ins = &rd->instruments[i];
        if ((asked.all_statuses || ins->api_trade_available) &&
            api_request_last_price_type_of(ins, asked.price_type, &type))
            r->last_prices[r->n_last_prices++] = last_price(call, e, ins, asked.price_type);
    }
    return &r->base;
}

static void get_last_prices(api_call *call, const ProtobufCMessage *request) {
    api_last_prices asked;
    int code = api_request_last_prices(api_call_refdata(call),
                                       (const PB(GetLastPricesRequest) *)request, &asked);
    if (code != 0 && asked.message != NULL)
        api_reply_error_message(call, code, asked.message);
    else if (!refused(call, code))
        api_read_on_core(call, read_last_prices);
}

static PB(GetTradingStatusResponse) * status_of(api_call *call, engine *e, const instrument *ins) {
    bool trading = ins->trading_status == SECURITY_TRADING_STATUS_NORMAL_TRADING &&
                   venue_link_trading(venue_of(e), ins->index);
    PB(GetTradingStatusResponse) *s =
        PB_NEW(call, PB(GetTradingStatusResponse), PB_INIT(GET_TRADING_STATUS_RESPONSE));
    s->figi = (char *)ins->figi;
    s->trading_status = trading ? SECURITY_TRADING_STATUS_NORMAL_TRADING
                                : (ins->trading_status != SECURITY_TRADING_STATUS_NORMAL_TRADING
                                       ? ins->trading_status
                                       : SECURITY_TRADING_STATUS_NOT_AVAILABLE);
    s->limit_order_available_flag = trading;
    s->market_order_available_flag = trading;
    s->bestprice_order_available_flag = trading;
    /* The operator's halt (AdminService) closes the API to the instrument as well. */
    s->api_trade_available_flag =
        ins->api_trade_available && !core_instrument_halted(engine_core(e), ins->index);
    s->instrument_uid = (char *)ins->uid;
    s->ticker = (char *)ins->ticker;
    s->class_code = (char *)ins->class_code;
    return s;
}

static const ProtobufCMessage *read_trading_status(engine *e, api_call *call) {
    const PB(GetTradingStatusRequest) *in = (const PB(GetTradingStatusRequest) *)call->request;
    const instrument *ins = refdata_find_instrument_id(
        api_call_refdata(call), api_request_trading_status_instrument_id(in));
    return &status_of(call, e, ins)->base;
}

static void get_trading_status(api_call *call, const ProtobufCMessage *request) {
    const instrument *ins;
    if (!refused(call,
                 api_request_trading_status(api_call_refdata(call),
                                            (const PB(GetTradingStatusRequest) *)request, &ins)))
        api_read_on_core(call, read_trading_status);
}

static const ProtobufCMessage *read_trading_statuses(engine *e, api_call *call) {
    const PB(GetTradingStatusesRequest) *in = (const PB(GetTradingStatusesRequest) *)call->request;
    PB(GetTradingStatusesResponse) *r =
        PB_NEW(call, PB(GetTradingStatusesResponse), PB_INIT(GET_TRADING_STATUSES_RESPONSE));
    r->trading_statuses = (PB(GetTradingStatusResponse) **)pb_array(call, in->n_instrument_id);
    for (size_t i = 0; i < in->n_instrument_id; i++)
        r->trading_statuses[r->n_trading_statuses++] = status_of(
            call, e, refdata_find_instrument_id(api_call_refdata(call), in->instrument_id[i]));
    return &r->base;
}

static void get_trading_statuses(api_call *call, const ProtobufCMessage *request) {
    if (!refused(call, api_request_trading_statuses(
                           api_call_refdata(call), (const PB(GetTradingStatusesRequest) *)request)))
        api_read_on_core(call, read_trading_statuses);
}

/* `from` and `to` only filter the trades kept, so a time past what nanoseconds hold means
 * "before every trade" or "after every trade" and saturates instead of being refused. */
static int64_t time_ns_of(const Google__Protobuf__Timestamp *t, int64_t fallback) {
    return t == NULL ? fallback : pb_timestamp_to_ns_saturated(t);
}

static const ProtobufCMessage *read_last_trades(engine *e, api_call *call) {
    const PB(GetLastTradesRequest) *in = (const PB(GetLastTradesRequest) *)call->request;
    const instrument *ins = refdata_find_instrument_id(api_call_refdata(call),
                                                       api_request_last_trades_instrument_id(in));
    int64_t to_ns = time_ns_of(in->to, engine_now_ns(e));
    int64_t window_start_ns;
    if (!checked_sub(to_ns, DEFAULT_TRADES_WINDOW_NS, &window_start_ns))
        window_start_ns = INT64_MIN;
    int64_t from_ns = time_ns_of(in->from, window_start_ns);
    venue_link_trade *trades = api_call_alloc(call, MAX_LAST_TRADES * sizeof *trades);
    uint32_t n = api_request_trade_source_lists(in->trade_source, ins)
                     ? venue_link_last_trades(venue_of(e), ins->index, from_ns, to_ns, trades,
                                              MAX_LAST_TRADES)
                     : 0;
    PB(GetLastTradesResponse) *r =
        PB_NEW(call, PB(GetLastTradesResponse), PB_INIT(GET_LAST_TRADES_RESPONSE));
    r->trades = (PB(Trade) **)pb_array(call, n);
    for (uint32_t i = 0; i < n; i++) {
        PB(Trade) *t = PB_NEW(call, PB(Trade), PB_INIT(TRADE));
        t->figi = (char *)ins->figi;
        t->direction = trades[i].direction;
        t->price = pb_quotation(call, trades[i].price_nano);
        t->quantity = trades[i].qty_lots;
        t->time = pb_timestamp(call, trades[i].time_ns);
        t->instrument_uid = (char *)ins->uid;
        t->trade_source = ins->dealer ? PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_DEALER)
                                      : PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_EXCHANGE);
        t->ticker = (char *)ins->ticker;
        t->class_code = (char *)ins->class_code;
        r->trades[r->n_trades++] = t;
    }
    return &r->base;
}

static void get_last_trades(api_call *call, const ProtobufCMessage *request) {
    const PB(GetLastTradesRequest) *in = (const PB(GetLastTradesRequest) *)request;
    const instrument *ins;
    const char *message = NULL;
    int code = api_request_last_trades(api_call_refdata(call), in, &ins);
    if (code == 0)
        code = api_request_trade_source(in, &message);
    if (code != 0 && message != NULL)
        api_reply_error_message(call, code, message);
    else if (!refused(call, code))
        api_read_on_core(call, read_last_trades);
}

static const candle_store *candles_of(engine *e) {
    return core_candles(engine_core(e));
}

static PB(HistoricCandle) * historic_candle(api_call *call, const candle *k, bool complete) {
    PB(HistoricCandle) *h = PB_NEW(call, PB(HistoricCandle), PB_INIT(HISTORIC_CANDLE));
    h->open = pb_quotation(call, k->open_nano);
    h->high = pb_quotation(call, k->high_nano);
    h->low = pb_quotation(call, k->low_nano);
    h->close = pb_quotation(call, k->close_nano);
    h->volume = k->volume_lots;
    h->volume_buy = k->volume_buy_lots;
    h->volume_sell = k->volume_sell_lots;
    h->time = pb_timestamp(call, k->time_ns);
    h->is_complete = complete;
    h->candle_source = PB_ENUM(CANDLE_SOURCE__CANDLE_SOURCE_EXCHANGE);
    return h;
}

/* What GetCandles' check decided, for its read. */
typedef struct candles_read_args {
    api_candles_query query;
    const instrument *instrument;
} candles_read_args;

static const ProtobufCMessage *read_candles(engine *e, api_call *call) {
    const candles_read_args *args = call->user;
    const api_candles_query *q = &args->query;
    const instrument *ins = args->instrument;
    const candle_store *s = candles_of(e);
    int64_t now_ns = engine_now_ns(e);
    candle *out = api_call_alloc(call, (size_t)q->limit * sizeof *out);
    uint32_t n = candles_read(s, ins->index, q->interval, q->has_from ? q->from_ns : INT64_MIN,
                              q->to_ns, !q->has_from, out, q->limit);
    PB(GetCandlesResponse) *r = PB_NEW(call, PB(GetCandlesResponse), PB_INIT(GET_CANDLES_RESPONSE));
    r->candles = (PB(HistoricCandle) **)pb_array(call, n);
    for (uint32_t i = 0; i < n; i++) {
        int64_t end = candles_interval_end_ns(q->interval, out[i].time_ns, s->config.utc_offset_s);
        r->candles[r->n_candles++] = historic_candle(call, &out[i], end <= now_ns);
    }
    return &r->base;
}

static void get_candles(api_call *call, const ProtobufCMessage *request) {
    candles_read_args *args = api_call_alloc(call, sizeof *args);
    if (refused(call,
                api_request_candles(api_call_refdata(call), (const PB(GetCandlesRequest) *)request,
                                    clock_broker_ns(), &args->instrument, &args->query)))
        return;
    call->user = args;
    api_read_on_core(call, read_candles);
}

/* The close of the last completed trading day (the exchange's day candle), or, before the
 * instrument's first completed day, the reference price the exchange opened it at (time 0:
 * no trading day). */
typedef struct close_price {
    int64_t price_nano, time_ns;
} close_price;

static close_price close_price_of(engine *e, const instrument *ins) {
    const candle_store *s = candles_of(e);
    int64_t now_ns = engine_now_ns(e);
    candle k;
    if (candles_newest(s, ins->index, CANDLE_DAY, &k) &&
        (candles_interval_end_ns(CANDLE_DAY, k.time_ns, s->config.utc_offset_s) <= now_ns ||
         candles_previous(s, ins->index, CANDLE_DAY, &k)))
        return (close_price){k.close_nano, k.time_ns};
    return (close_price){ins->reference_price_nano, 0};
}

static const ProtobufCMessage *read_close_prices(engine *e, api_call *call) {
    const PB(GetClosePricesRequest) *in = (const PB(GetClosePricesRequest) *)call->request;
    const refdata *rd = api_call_refdata(call);
    size_t wanted = in->n_instruments ? in->n_instruments : rd->instrument_count;
    PB(GetClosePricesResponse) *r =
        PB_NEW(call, PB(GetClosePricesResponse), PB_INIT(GET_CLOSE_PRICES_RESPONSE));
    r->close_prices = (PB(InstrumentClosePriceResponse) **)pb_array(call, wanted);
    for (size_t i = 0; i < wanted; i++) {
        const instrument *ins =
            in->n_instruments ? refdata_find_instrument_id(rd, in->instruments[i]->instrument_id)
                              : &rd->instruments[i];
        close_price cp = close_price_of(e, ins);
        PB(InstrumentClosePriceResponse) *p = PB_NEW(call, PB(InstrumentClosePriceResponse),
                                                     PB_INIT(INSTRUMENT_CLOSE_PRICE_RESPONSE));
        p->figi = (char *)ins->figi;
        p->instrument_uid = (char *)ins->uid;
        p->ticker = (char *)ins->ticker;
        p->class_code = (char *)ins->class_code;
        p->price = pb_quotation(call, cp.price_nano);
        if (cp.time_ns != 0)
            p->time = pb_timestamp(call, cp.time_ns);
        r->close_prices[r->n_close_prices++] = p;
    }
    return &r->base;
}

static void get_close_prices(api_call *call, const ProtobufCMessage *request) {
    if (!refused(call, api_request_close_prices(api_call_refdata(call),
                                                (const PB(GetClosePricesRequest) *)request)))
        api_read_on_core(call, read_close_prices);
}

static PB(MarketValue) *
    market_value(api_call *call, int type, int64_t value_nano, int64_t time_ns) {
    PB(MarketValue) *v = PB_NEW(call, PB(MarketValue), PB_INIT(MARKET_VALUE));
    v->_type_case = PB_ENUM(MARKET_VALUE___TYPE_TYPE);
    v->type = type;
    v->value = pb_quotation(call, value_nano);
    if (time_ns != 0)
        v->time = pb_timestamp(call, time_ns);
    return v;
}

/* The values our exchange has: the last price and the close price. The others (a dealer's
 * price, the evening session, open interest, theoretical price, yield) it does not know, and
 * they are left out, as the service leaves out what an instrument does not have. */
static const ProtobufCMessage *read_market_values(engine *e, api_call *call) {
    const PB(GetMarketValuesRequest) *in = (const PB(GetMarketValuesRequest) *)call->request;
    const refdata *rd = api_call_refdata(call);
    PB(GetMarketValuesResponse) *r =
        PB_NEW(call, PB(GetMarketValuesResponse), PB_INIT(GET_MARKET_VALUES_RESPONSE));
    r->instruments = (PB(MarketValueInstrument) **)pb_array(call, in->n_instrument_id);
    for (size_t i = 0; i < in->n_instrument_id; i++) {
        const instrument *ins = refdata_find_instrument_id(rd, in->instrument_id[i]);
        PB(MarketValueInstrument) *m =
            PB_NEW(call, PB(MarketValueInstrument), PB_INIT(MARKET_VALUE_INSTRUMENT));
        m->instrument_uid = (char *)ins->uid;
        m->ticker = (char *)ins->ticker;
        m->class_code = (char *)ins->class_code;
        m->values = (PB(MarketValue) **)pb_array(call, in->n_values);
        for (size_t k = 0; k < in->n_values; k++) {
            int type = (int)in->values[k];
            if (type == PB_ENUM(MARKET_VALUE_TYPE__INSTRUMENT_VALUE_LAST_PRICE)) {
                venue_link_book book;
                venue_link_order_book(venue_of(e), ins->index, 0, &book);
                if (book.last_price_nano != 0)
                    m->values[m->n_values++] =
                        market_value(call, type, book.last_price_nano, book.last_price_ns);
            } else if (type == PB_ENUM(MARKET_VALUE_TYPE__INSTRUMENT_VALUE_CLOSE_PRICE)) {
                close_price cp = close_price_of(e, ins);
                m->values[m->n_values++] = market_value(call, type, cp.price_nano, cp.time_ns);
            }
        }
        r->instruments[r->n_instruments++] = m;
    }
    return &r->base;
}

static void get_market_values(api_call *call, const ProtobufCMessage *request) {
    if (!refused(call, api_request_market_values(api_call_refdata(call),
                                                 (const PB(GetMarketValuesRequest) *)request)))
        api_read_on_core(call, read_market_values);
}

#define MARKETDATA(method, type, fn)                                                               \
    { .service = "MarketDataService", .name = method, .request_type = &PB_DESC(type), .handle = fn }
static api_method marketdata_methods[] = {
    MARKETDATA("GetOrderBook", get_order_book_request, get_order_book),
    MARKETDATA("GetLastPrices", get_last_prices_request, get_last_prices),
    MARKETDATA("GetTradingStatus", get_trading_status_request, get_trading_status),
    MARKETDATA("GetTradingStatuses", get_trading_statuses_request, get_trading_statuses),
    MARKETDATA("GetLastTrades", get_last_trades_request, get_last_trades),
    MARKETDATA("GetCandles", get_candles_request, get_candles),
    MARKETDATA("GetClosePrices", get_close_prices_request, get_close_prices),
    MARKETDATA("GetMarketValues", get_market_values_request, get_market_values),
};

const api_method *api_marketdata_methods(size_t *count) {
    *count = sizeof marketdata_methods / sizeof marketdata_methods[0];
    return marketdata_methods;
}

/* The candle store's read for GetTechAnalysis (api/techanalysis.h), on the core thread. */
size_t api_candles_read(engine *e, uint32_t instrument_index, int32_t interval, int64_t from_ns,
                        int64_t to_ns, size_t before, indicator_candle *out, size_t max) {
    /* Core thread only: one buffer serves every read. */
    static candle read[INDICATORS_MAX_CANDLES];
    if (interval < 1 || interval > CANDLES_INTERVALS || max == 0)
        return 0;
    assert(max <= INDICATORS_MAX_CANDLES);
    candle_interval ci = (candle_interval)(interval - 1);
    const candle_store *s = candles_of(e);
    uint32_t warmup = (uint32_t)(before < max ? before : max);
    uint32_t n =
        warmup == 0 ? 0
                    : candles_read(s, instrument_index, ci, INT64_MIN, from_ns, true, read, warmup);
    /* The window includes a candle opening at `to_ns` itself. */
    int64_t end_ns = to_ns == INT64_MAX ? INT64_MAX : to_ns + 1;
    n += candles_read(s, instrument_index, ci, from_ns, end_ns, false, read + n, (uint32_t)max - n);
    for (uint32_t i = 0; i < n; i++)
        out[i] = (indicator_candle){.time_ns = read[i].time_ns,
                                    .open_nano = read[i].open_nano,
                                    .high_nano = read[i].high_nano,
                                    .low_nano = read[i].low_nano,
                                    .close_nano = read[i].close_nano,
                                    .volume_lots = read[i].volume_lots};
    return n;
}
