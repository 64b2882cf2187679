#include "api/request.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "api/assets_request.h"
#include "api/admin_request.h"
#include "api/replay_request.h"
#include "api/stoporders_request.h"
#include "engine/venue_link.h"
#include "util/money.h"
#include "util/uuid.h"

#define CODE_MALFORMED 30102

ProtobufCMessage *api_request_decode(const ProtobufCMessageDescriptor *type, const uint8_t *data,
                                     size_t len, api_validate_error *error) {
    ProtobufCMessage *request = protobuf_c_message_unpack(type, NULL, len, data);
    if (request == NULL) {
        error->code = CODE_MALFORMED;
        snprintf(error->message, sizeof error->message,
                 "Malformed request: the message could not be decoded");
        return NULL;
    }
    /* The strings are checked on the wire bytes, where their true lengths still show. */
    if (!api_validate_request(type, data, len, error)) {
        protobuf_c_message_free_unpacked(request, NULL);
        return NULL;
    }
    return request;
}

/* ---- SandboxService ------------------------------------------------------------------------- */

const ProtobufCFieldDescriptor *
api_request_sandbox_account_field(const char *service, const ProtobufCMessageDescriptor *type) {
    if (strcmp(service, "SandboxService") != 0)
        return NULL;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(type, "account_id");
    bool usable = field != NULL && field->type == PROTOBUF_C_TYPE_STRING &&
                  field->label != PROTOBUF_C_LABEL_REPEATED;
    return usable ? field : NULL;
}

bool api_request_names_broker_account(const ProtobufCFieldDescriptor *field,
                                      const ProtobufCMessage *request, const refdata *rd) {
    if (field == NULL)
        return false;
    const char *account_id = *(char *const *)((const char *)request + field->offset);
    const account *acc = refdata_find_account(rd, account_id);
    return acc != NULL && !acc->sandbox;
}

/* ---- Accounts ------------------------------------------------------------------------------- */

int api_request_account(const refdata *rd, const token *tok, const char *account_id,
                        access_need need, const account **out) {
    *out = NULL;
    if (account_id == NULL || account_id[0] == '\0')
        return 30021;
    const account *acc = refdata_find_account(rd, account_id);
    /* An account outside the token's view (the other endpoint's) is one it does not know. */
    if (acc == NULL || !refdata_token_sees(tok, acc))
        return 50004;
    access_level level = refdata_access(tok, acc);
    bool allowed = need == ACCESS_NEED_READ ? level == ACCESS_FULL || level == ACCESS_READ_ONLY
                                            : level == ACCESS_FULL;
    if (!allowed)
        return 40002;
    *out = acc;
    return 0;
}

/* ---- OrdersService -------------------------------------------------------------------------- */

int api_request_price(const PB(Quotation) * price, bool *has_price, int64_t *price_nano) {
    *has_price = price != NULL;
    *price_nano = 0;
    if (price != NULL && !pb_quotation_to_nano(price, price_nano))
        return 30018;
    return 0;
}

int api_request_post_order(const PB(PostOrderRequest) * in, core_order_request *out) {
    memset(out, 0, sizeof *out);
    int code = api_request_price(in->price, &out->has_price, &out->price_nano);
    if (code != 0)
        return code;
        /* Older bots still send the deprecated `figi` instead of `instrument_id`. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    bool legacy_figi =
        in->instrument_id[0] == '\0' && in->_figi_case == PB_ENUM(POST_ORDER_REQUEST___FIGI_FIGI);
    const char *instrument_id = legacy_figi ? in->figi : in->instrument_id;
#pragma GCC diagnostic pop
    *out = (core_order_request){.account_id = in->account_id,
                                .instrument_id = instrument_id,
                                .key = in->order_id,
                                .quantity = in->quantity,
                                .has_price = out->has_price,
                                .price_nano = out->price_nano,
                                .direction = in->direction,
                                .type = in->order_type,
                                .tif = in->time_in_force,
                                .price_type = in->price_type,
                                .source = ORDER_SOURCE_SYNC};
    return 0;
}

int api_request_post_order_async(const PB(PostOrderAsyncRequest) * in, core_order_request *out) {
    memset(out, 0, sizeof *out);
    int code = api_request_price(in->price, &out->has_price, &out->price_nano);
    if (code != 0)
        return code;
    bool has_tif =
        in->_time_in_force_case == PB_ENUM(POST_ORDER_ASYNC_REQUEST___TIME_IN_FORCE_TIME_IN_FORCE);
    bool has_price_type =
        in->_price_type_case == PB_ENUM(POST_ORDER_ASYNC_REQUEST___PRICE_TYPE_PRICE_TYPE);
    *out = (core_order_request){.account_id = in->account_id,
                                .instrument_id = in->instrument_id,
                                .key = in->order_id,
                                .quantity = in->quantity,
                                .has_price = out->has_price,
                                .price_nano = out->price_nano,
                                .direction = in->direction,
                                .type = in->order_type,
                                .tif = has_tif ? in->time_in_force : 0,
                                .price_type = has_price_type ? in->price_type : 0,
                                .source = ORDER_SOURCE_ASYNC,
                                .require_uuid_key = true};
    return 0;
}

static int order_ref(const char *account_id, const char *order_id, bool has_type, int type,
                     api_order_ref *out) {
    out->account_id = account_id;
    out->order_id = order_id;
    out->by_request_id = false;
    if (has_type && type != PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_UNSPECIFIED) &&
        type != PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_EXCHANGE) &&
        type != PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_REQUEST))
        return 30023;
    out->by_request_id = has_type && type == PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_REQUEST);
    return 0;
}

int api_request_cancel_order(const PB(CancelOrderRequest) * in, api_order_ref *out) {
    bool has_type =
        in->_order_id_type_case == PB_ENUM(CANCEL_ORDER_REQUEST___ORDER_ID_TYPE_ORDER_ID_TYPE);
    return order_ref(in->account_id, in->order_id, has_type, in->order_id_type, out);
}

int api_request_get_order_state(const PB(GetOrderStateRequest) * in, api_order_ref *out) {
    bool has_type =
        in->_order_id_type_case == PB_ENUM(GET_ORDER_STATE_REQUEST___ORDER_ID_TYPE_ORDER_ID_TYPE);
    return order_ref(in->account_id, in->order_id, has_type, in->order_id_type, out);
}

void api_request_orders_filter(const PB(GetOrdersRequest) * in, api_orders_filter *out) {
    memset(out, 0, sizeof *out);
    const PB(GetOrdersRequest__GetOrdersRequestFilters) *f = in->advanced_filters;
    out->from_ns = INT64_MIN;
    out->to_ns = INT64_MAX;
    if (f == NULL)
        return;
    out->advanced = true;
    if (f->from != NULL)
        out->from_ns = pb_timestamp_to_ns_saturated(f->from);
    if (f->to != NULL)
        out->to_ns = pb_timestamp_to_ns_saturated(f->to);
    size_t n = f->n_execution_status;
    if (n > sizeof out->statuses / sizeof out->statuses[0])
        n = sizeof out->statuses / sizeof out->statuses[0];
    for (size_t i = 0; i < n; i++)
        out->statuses[out->status_count++] = (int32_t)f->execution_status[i];
}

bool api_request_order_listed(const core_order *o, const void *ctx) {
    const api_orders_filter *f = ctx;
    if (!f->advanced)
        return !order_status_is_final(o->status);
    if (o->created_ns < f->from_ns || o->created_ns > f->to_ns)
        return false;
    if (f->status_count == 0)
        return !order_status_is_final(o->status);
    for (uint32_t i = 0; i < f->status_count; i++)
        if (f->statuses[i] == (int32_t)o->status)
            return true;
    return false;
}

/* ---- InstrumentsService --------------------------------------------------------------------- */

int api_request_instrument_by(const refdata *rd, const PB(InstrumentRequest) * in,
                              const instrument **out) {
    *out = NULL;
    bool has_class_code =
        in->_class_code_case != PB_ENUM(INSTRUMENT_REQUEST___CLASS_CODE__NOT_SET) &&
        in->class_code[0] != '\0';
    switch ((int)in->id_type) {
    case PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_FIGI):
    case PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_UID):
    case PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_POSITION_UID):
    case PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_TICKER):
        break;
    default:
        return 30005;
    }
    if (in->id[0] == '\0')
        return 30007;
    switch ((int)in->id_type) {
    case PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_FIGI):
        *out = refdata_find_by_figi(rd, in->id);
        break;
    case PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_UID):
        *out = refdata_find_by_uid(rd, in->id);
        break;
    case PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_POSITION_UID):
        *out = refdata_find_by_position_uid(rd, in->id);
        break;
    default:
        if (!has_class_code)
            return 30013;
        *out = refdata_find_by_ticker(rd, in->id, in->class_code);
        break;
    }
    return *out == NULL ? 50002 : 0;
}

/* An InstrumentStatus as a choice: true for ALL, false for BASE (also unset and UNSPECIFIED);
 * 30050 for a value the contract does not define. */
static int instrument_status(bool has_status, int32_t status, bool *all) {
    *all = has_status && status == PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_ALL);
    if (has_status && status != PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_UNSPECIFIED) &&
        status != PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_BASE) && !*all)
        return 30050;
    return 0;
}

int api_request_instruments(const PB(InstrumentsRequest) * in, api_instruments_filter *out) {
    *out = (api_instruments_filter){0};
    bool has_status = in->_instrument_status_case ==
                      PB_ENUM(INSTRUMENTS_REQUEST___INSTRUMENT_STATUS_INSTRUMENT_STATUS);
    int code = instrument_status(has_status, in->instrument_status, &out->all_statuses);
    if (code != 0)
        return code;
    bool has_exchange = in->_instrument_exchange_case ==
                        PB_ENUM(INSTRUMENTS_REQUEST___INSTRUMENT_EXCHANGE_INSTRUMENT_EXCHANGE);
    out->dealer = has_exchange && in->instrument_exchange ==
                                      PB_ENUM(INSTRUMENT_EXCHANGE_TYPE__INSTRUMENT_EXCHANGE_DEALER);
    if (has_exchange && !out->dealer &&
        in->instrument_exchange !=
            PB_ENUM(INSTRUMENT_EXCHANGE_TYPE__INSTRUMENT_EXCHANGE_UNSPECIFIED)) {
        out->message = "`instrument_exchange` is invalid";
        return 30102;
    }
    return 0;
}

bool api_request_instrument_listed(const instrument *ins, const api_instruments_filter *filter) {
    return ins->dealer == filter->dealer && (filter->all_statuses || ins->api_trade_available);
}

int api_request_options_by(const PB(FilterOptionsRequest) * in, api_options_filter *out) {
    *out = (api_options_filter){0};
    if (in->_basic_asset_uid_case ==
            PB_ENUM(FILTER_OPTIONS_REQUEST___BASIC_ASSET_UID_BASIC_ASSET_UID) &&
        in->basic_asset_uid[0] != '\0')
        out->basic_asset_uid = in->basic_asset_uid;
    if (in->_basic_asset_position_uid_case ==
            PB_ENUM(FILTER_OPTIONS_REQUEST___BASIC_ASSET_POSITION_UID_BASIC_ASSET_POSITION_UID) &&
        in->basic_asset_position_uid[0] != '\0')
        out->basic_asset_position_uid = in->basic_asset_position_uid;
    if (out->basic_asset_uid == NULL) {
        out->message = "`basic_asset_uid` is required";
        return 30102;
    }
    return 0;
}

bool api_request_option_listed(const instrument *ins, const api_options_filter *filter) {
    return ins->kind == INSTRUMENT_KIND_OPTION &&
           (filter->basic_asset_uid == NULL ||
            strcmp(ins->basic_asset_uid, filter->basic_asset_uid) == 0) &&
           (filter->basic_asset_position_uid == NULL ||
            strcmp(ins->basic_asset_position_uid, filter->basic_asset_position_uid) == 0);
}

int api_request_futures_margin(const refdata *rd, const PB(GetFuturesMarginRequest) * in,
                               const instrument **out) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    const char *id = in->instrument_id[0] != '\0' ? in->instrument_id : in->figi;
#pragma GCC diagnostic pop
    int code = api_request_instrument(rd, id, out);
    if (code == 0 && (*out)->kind != INSTRUMENT_KIND_FUTURE) {
        *out = NULL;
        return 30041;
    }
    return code;
}

int api_request_find_instrument(const PB(FindInstrumentRequest) * in) {
    return in->query[0] == '\0' ? 30087 : 0;
}

#define SECONDS_PER_DAY 86400

/* A schedule bound as the start of its UTC day, in seconds. The days of the reply are built from
 * it, so a bound that is not a Timestamp (`invalid_code`) or lies outside the contract's range
 * (`range_code`) is refused rather than clamped. */
static int schedule_day(const Google__Protobuf__Timestamp *t, int invalid_code, int range_code,
                        int64_t *day_s) {
    int64_t time_ns = 0;
    int code = pb_timestamp_to_ns_code(t, invalid_code, range_code, &time_ns);
    if (code != 0)
        return code;
    /* The range starts at 1970, so the time is not negative and division rounds down. */
    *day_s = time_ns / 1000000000 / SECONDS_PER_DAY * SECONDS_PER_DAY;
    return 0;
}

int api_request_trading_schedules(const PB(TradingSchedulesRequest) * in, int64_t today_s,
                                  api_schedule_days *out) {
    int64_t from_s = today_s;
    int code = in->from != NULL ? schedule_day(in->from, 30009, 30061, &from_s) : 0;
    if (code != 0)
        return code;
    int64_t to_s = from_s;
    code = in->to != NULL ? schedule_day(in->to, 30010, 30062, &to_s) : 0;
    if (code != 0)
        return code;
    if (to_s < from_s)
        return 30012;
    /* Both days lie inside the contract's range, so the difference cannot overflow. */
    int64_t day_count = (to_s - from_s) / SECONDS_PER_DAY + 1;
    if (day_count > API_SCHEDULE_MAX_DAYS)
        return 30002;
    out->from_s = from_s;
    out->day_count = day_count;
    return 0;
}

/* ---- MarketDataService ---------------------------------------------------------------------- */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#define INSTRUMENT_OR_FIGI(req, REQ)                                                               \
    ((req)->_instrument_id_case == PB_ENUM(REQ##___INSTRUMENT_ID_INSTRUMENT_ID) &&                 \
             (req)->instrument_id[0] != '\0'                                                       \
         ? (req)->instrument_id                                                                    \
         : ((req)->_figi_case == PB_ENUM(REQ##___FIGI_FIGI) ? (req)->figi : ""))

const char *api_request_order_book_instrument_id(const PB(GetOrderBookRequest) * in) {
    return INSTRUMENT_OR_FIGI(in, GET_ORDER_BOOK_REQUEST);
}
const char *api_request_trading_status_instrument_id(const PB(GetTradingStatusRequest) * in) {
    return INSTRUMENT_OR_FIGI(in, GET_TRADING_STATUS_REQUEST);
}
const char *api_request_last_trades_instrument_id(const PB(GetLastTradesRequest) * in) {
    return INSTRUMENT_OR_FIGI(in, GET_LAST_TRADES_REQUEST);
}
static const char *candles_instrument_id(const PB(GetCandlesRequest) * in) {
    return INSTRUMENT_OR_FIGI(in, GET_CANDLES_REQUEST);
}
#pragma GCC diagnostic pop

int api_request_instrument(const refdata *rd, const char *instrument_id, const instrument **out) {
    *out = NULL;
    if (instrument_id == NULL || instrument_id[0] == '\0')
        return 30237;
    *out = refdata_find_instrument_id(rd, instrument_id);
    return *out == NULL ? 50002 : 0;
}

int api_request_order_book(const refdata *rd, const PB(GetOrderBookRequest) * in,
                           const instrument **out) {
    int code = api_request_instrument(rd, api_request_order_book_instrument_id(in), out);
    if (code != 0)
        return code;
    if (in->depth < 1 || in->depth > VENUE_LINK_MAX_DEPTH)
        return in->depth == 0 ? 30031 : 30032;
    return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
size_t api_request_last_prices_count(const PB(GetLastPricesRequest) * in) {
    return in->n_figi + in->n_instrument_id;
}

const char *api_request_last_prices_id(const PB(GetLastPricesRequest) * in, size_t i) {
    assert(i < api_request_last_prices_count(in));
    return i < in->n_figi ? in->figi[i] : in->instrument_id[i - in->n_figi];
}
#pragma GCC diagnostic pop

api_last_prices api_request_last_prices_asked(const PB(GetLastPricesRequest) * in) {
    return (api_last_prices){
        .price_type = in->last_price_type,
        .all_statuses =
            in->_instrument_status_case ==
                PB_ENUM(GET_LAST_PRICES_REQUEST___INSTRUMENT_STATUS_INSTRUMENT_STATUS) &&
            in->instrument_status == PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_ALL),
    };
}

int api_request_last_prices(const refdata *rd, const PB(GetLastPricesRequest) * in,
                            api_last_prices *out) {
    *out = api_request_last_prices_asked(in);
    size_t named = api_request_last_prices_count(in);
    if (named > API_MAX_INSTRUMENTS_PER_REQUEST)
        return 30218;
    if (in->last_price_type != PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_UNSPECIFIED) &&
        in->last_price_type != PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_EXCHANGE) &&
        in->last_price_type != PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_DEALER)) {
        out->message = "`last_price_type` is invalid";
        return 30102;
    }
    bool has_status = in->_instrument_status_case ==
                      PB_ENUM(GET_LAST_PRICES_REQUEST___INSTRUMENT_STATUS_INSTRUMENT_STATUS);
    int code = instrument_status(has_status, in->instrument_status, &out->all_statuses);
    if (code != 0)
        return code;
    /* An id that names nothing is answered, not refused: the real service returns one entry
     * per id asked, echoing it, with no price. An empty id is still refused. */
    const instrument *ins;
    for (size_t i = 0; i < named; i++) {
        code = api_request_instrument(rd, api_request_last_prices_id(in, i), &ins);
        if (code != 0 && code != 50002)
            return code;
    }
    return 0;
}

bool api_request_last_price_type_of(const instrument *ins, int32_t price_type, int32_t *type) {
    *type = ins->dealer ? PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_DEALER)
                        : PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_EXCHANGE);
    return price_type == PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_UNSPECIFIED) || price_type == *type;
}

int api_request_trading_status(const refdata *rd, const PB(GetTradingStatusRequest) * in,
                               const instrument **out) {
    return api_request_instrument(rd, api_request_trading_status_instrument_id(in), out);
}

int api_request_trading_statuses(const refdata *rd, const PB(GetTradingStatusesRequest) * in) {
    if (in->n_instrument_id == 0)
        return 30237;
    if (in->n_instrument_id > API_MAX_INSTRUMENTS_PER_REQUEST)
        return 30218;
    const instrument *ins;
    for (size_t i = 0; i < in->n_instrument_id; i++) {
        int code = api_request_instrument(rd, in->instrument_id[i], &ins);
        if (code != 0)
            return code;
    }
    return 0;
}

int api_request_last_trades(const refdata *rd, const PB(GetLastTradesRequest) * in,
                            const instrument **out) {
    int code = api_request_instrument(rd, api_request_last_trades_instrument_id(in), out);
    if (code != 0)
        return code;
    /* `from` and `to` only filter the trades kept, so times past what nanoseconds hold
     * saturate instead of being refused. */
    if (in->from != NULL && in->to != NULL &&
        pb_timestamp_to_ns_saturated(in->to) < pb_timestamp_to_ns_saturated(in->from))
        return 30012;
    return 0;
}

/* The contract's limits per interval (CandleInterval's comments, docs load_history.md): the
 * largest `limit`, and the longest period, which the docs call approximate; months and years
 * are counted as days here (3 months = 92 days, a year = 366 days). */
#define DAY_S 86400
static const struct {
    uint32_t max_limit;
    int64_t max_period_s;
} candle_limits[CANDLES_INTERVALS] = {
    [CANDLE_5_SEC] = {2500, 200 * 60},      [CANDLE_10_SEC] = {1250, 200 * 60},
    [CANDLE_30_SEC] = {2500, 20 * 3600},    [CANDLE_1_MIN] = {2400, DAY_S},
    [CANDLE_2_MIN] = {1200, DAY_S},         [CANDLE_3_MIN] = {750, DAY_S},
    [CANDLE_5_MIN] = {2400, 7 * DAY_S},     [CANDLE_10_MIN] = {1200, 7 * DAY_S},
    [CANDLE_15_MIN] = {2400, 21 * DAY_S},   [CANDLE_30_MIN] = {1200, 21 * DAY_S},
    [CANDLE_HOUR] = {2400, 92 * DAY_S},     [CANDLE_2_HOUR] = {2400, 92 * DAY_S},
    [CANDLE_4_HOUR] = {700, 92 * DAY_S},    [CANDLE_DAY] = {2400, 6 * 366 * DAY_S},
    [CANDLE_WEEK] = {300, 5 * 366 * DAY_S}, [CANDLE_MONTH] = {120, 10 * 366 * DAY_S},
};

uint32_t api_candles_max_limit(candle_interval interval) {
    return candle_limits[interval].max_limit;
}

int64_t api_candles_max_period_s(candle_interval interval) {
    return candle_limits[interval].max_period_s;
}

/* Day, week and month candles ignore the time of `from` and `to` (docs faq_marketdata.md): the
 * request covers the whole intervals they fall in. */
static bool whole_intervals(candle_interval interval) {
    return interval == CANDLE_DAY || interval == CANDLE_WEEK || interval == CANDLE_MONTH;
}

int api_request_candles(const refdata *rd, const PB(GetCandlesRequest) * in, int64_t now_ns,
                        const instrument **out, api_candles_query *q) {
    int code = api_request_instrument(rd, candles_instrument_id(in), out);
    if (code != 0)
        return code;
    if (in->interval < 1 || in->interval > CANDLES_INTERVALS)
        return 30011;
    candle_interval interval = (candle_interval)(in->interval - 1);
    bool has_source = in->_candle_source_type_case ==
                      PB_ENUM(GET_CANDLES_REQUEST___CANDLE_SOURCE_TYPE_CANDLE_SOURCE_TYPE);
    if (has_source &&
        in->candle_source_type !=
            PB_ENUM(GET_CANDLES_REQUEST__CANDLE_SOURCE__CANDLE_SOURCE_UNSPECIFIED) &&
        in->candle_source_type !=
            PB_ENUM(GET_CANDLES_REQUEST__CANDLE_SOURCE__CANDLE_SOURCE_EXCHANGE) &&
        in->candle_source_type !=
            PB_ENUM(GET_CANDLES_REQUEST__CANDLE_SOURCE__CANDLE_SOURCE_INCLUDE_WEEKEND))
        return 30219;
    int64_t from_ns = 0, to_ns = now_ns;
    if (in->from != NULL && (code = pb_timestamp_to_ns_code(in->from, 30009, 30061, &from_ns)) != 0)
        return code;
    if (in->to != NULL && (code = pb_timestamp_to_ns_code(in->to, 30010, 30062, &to_ns)) != 0)
        return code;
    bool has_limit = in->_limit_case == PB_ENUM(GET_CANDLES_REQUEST___LIMIT_LIMIT);
    if (in->from == NULL && !has_limit)
        return 30228;
    uint32_t max_limit = candle_limits[interval].max_limit;
    if (has_limit && (in->limit < 1 || (uint32_t)in->limit > max_limit))
        return 30084;
    if (in->from != NULL && to_ns < from_ns)
        return 30012;
    /* Both times lie in 1970..2099, so neither the rounding nor the difference overflows. */
    int32_t offset_s = 0; /* rounding for the period check only: a day is a day in any zone */
    if (whole_intervals(interval)) {
        if (in->from != NULL)
            from_ns = candles_interval_start_ns(interval, from_ns, offset_s);
        to_ns = candles_interval_end_ns(interval, to_ns, offset_s);
    }
    if (in->from != NULL &&
        (to_ns - from_ns) / 1000000000 >
            candle_limits[interval].max_period_s + (whole_intervals(interval) ? 31 * DAY_S : 0))
        return 30014;
    *q = (api_candles_query){.interval = interval,
                             .has_from = in->from != NULL,
                             .from_ns = from_ns,
                             .to_ns = to_ns,
                             .limit = has_limit ? (uint32_t)in->limit : max_limit};
    return 0;
}

static int instrument_list(const refdata *rd, char *const *ids, size_t n) {
    if (n > API_MAX_INSTRUMENTS_PER_REQUEST)
        return 30218;
    const instrument *ins;
    for (size_t i = 0; i < n; i++) {
        int code = api_request_instrument(rd, ids[i], &ins);
        if (code != 0)
            return code;
    }
    return 0;
}

int api_request_close_prices(const refdata *rd, const PB(GetClosePricesRequest) * in) {
    if (in->n_instruments > API_MAX_INSTRUMENTS_PER_REQUEST)
        return 30218;
    const instrument *ins;
    for (size_t i = 0; i < in->n_instruments; i++) {
        int code = api_request_instrument(rd, in->instruments[i]->instrument_id, &ins);
        if (code != 0)
            return code;
    }
    return 0;
}

int api_request_market_values(const refdata *rd, const PB(GetMarketValuesRequest) * in) {
    if (in->n_instrument_id == 0)
        return 30237;
    return instrument_list(rd, in->instrument_id, in->n_instrument_id);
}

static int tech_analysis_time(const Google__Protobuf__Timestamp *t, int missing, int invalid,
                              int64_t *out_ns) {
    if (t == NULL)
        return missing;
    return pb_timestamp_to_ns_checked(t, out_ns) == PB_TIME_OK ? 0 : invalid;
}

int api_request_tech_analysis(const refdata *rd, const PB(GetTechAnalysisRequest) * in,
                              indicator_request *out, const instrument **ins) {
    *ins = NULL;
    *out = (indicator_request){.type = in->indicator_type,
                               .interval = in->interval,
                               .price = in->type_of_price,
                               .length = in->length};
    if (in->instrument_uid[0] == '\0')
        return 30008;
    int code = tech_analysis_time(in->from, 30001, 30009, &out->from_ns);
    if (code == 0)
        code = tech_analysis_time(in->to, 30004, 30010, &out->to_ns);
    if (code != 0)
        return code;
    /* A deviation without a multiplier, or one that is not a Quotation, is no deviation. */
    const PB(Quotation) *multiplier =
        in->deviation != NULL ? in->deviation->deviation_multiplier : NULL;
    out->has_deviation =
        multiplier != NULL && pb_quotation_to_nano(multiplier, &out->deviation_nano);
    if (in->smoothing != NULL) {
        out->has_smoothing = true;
        out->fast_length = in->smoothing->fast_length;
        out->slow_length = in->smoothing->slow_length;
        out->signal_smoothing = in->smoothing->signal_smoothing;
    }
    code = indicators_check(out);
    if (code != 0)
        return code;
    *ins = refdata_find_by_uid(rd, in->instrument_uid);
    return *ins != NULL ? 0 : 50002;
}

int api_request_trade_source(const PB(GetLastTradesRequest) * in, const char **message) {
    *message = NULL;
    if (in->trade_source < PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_UNSPECIFIED) ||
        in->trade_source > PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_ALL)) {
        *message = "`trade_source` is invalid";
        return 30102;
    }
    return 0;
}

bool api_request_trade_source_lists(int32_t trade_source, const instrument *ins) {
    if (trade_source == PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_EXCHANGE))
        return !ins->dealer;
    if (trade_source == PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_DEALER))
        return ins->dealer;
    return true;
}

/* ---- OperationsService ---------------------------------------------------------------------- */

int api_request_portfolio_currency(const refdata *rd, const PB(PortfolioRequest) * in,
                                   api_portfolio_currency *out) {
    *out = (api_portfolio_currency){.currency = "rub", .rub_nano = MONEY_NANO_PER_UNIT};
    if (in->_currency_case != PB_ENUM(PORTFOLIO_REQUEST___CURRENCY_CURRENCY) ||
        in->currency == PB_ENUM(PORTFOLIO_REQUEST__CURRENCY_REQUEST__RUB))
        return 0;
    if (in->currency == PB_ENUM(PORTFOLIO_REQUEST__CURRENCY_REQUEST__USD))
        out->currency = "usd";
    else if (in->currency == PB_ENUM(PORTFOLIO_REQUEST__CURRENCY_REQUEST__EUR))
        out->currency = "eur";
    else
        return 30258;
    const currency_rate *rate = refdata_find_currency_rate(rd, out->currency);
    if (rate == NULL)
        return 30258;
    assert(rate->rub_nano > 0);
    out->rub_nano = rate->rub_nano;
    return 0;
}

/* ---- OrdersStreamService -------------------------------------------------------------------- */

#define ORDER_STATE_PING_MIN_MS 1000
#define ORDER_STATE_PING_MAX_MS 120000
#define TRADES_PING_MIN_MS 5000
#define TRADES_PING_MAX_MS 180000

api_stream_ping api_request_order_state_stream_ping(const PB(OrderStateStreamRequest) * in) {
    return (api_stream_ping){
        .has_ping = in->_ping_delay_millis_case ==
                    PB_ENUM(ORDER_STATE_STREAM_REQUEST___PING_DELAY_MILLIS_PING_DELAY_MILLIS),
        .ping_ms = in->ping_delay_millis,
        .min_ms = ORDER_STATE_PING_MIN_MS,
        .max_ms = ORDER_STATE_PING_MAX_MS,
        .field = "ping_delay_millis"};
}

api_stream_ping api_request_trades_stream_ping(const PB(TradesStreamRequest) * in) {
    return (api_stream_ping){.has_ping =
                                 in->_ping_delay_ms_case ==
                                 PB_ENUM(TRADES_STREAM_REQUEST___PING_DELAY_MS_PING_DELAY_MS),
                             .ping_ms = in->ping_delay_ms,
                             .min_ms = TRADES_PING_MIN_MS,
                             .max_ms = TRADES_PING_MAX_MS,
                             .field = "ping_delay_ms"};
}

api_stream_ping api_request_market_data_ping(const PB(PingDelaySettings) * in) {
    bool has = in != NULL && in->_ping_delay_ms_case ==
                                 PB_ENUM(PING_DELAY_SETTINGS___PING_DELAY_MS_PING_DELAY_MS);
    return (api_stream_ping){.has_ping = has,
                             .ping_ms = has ? in->ping_delay_ms : 0,
                             .min_ms = TRADES_PING_MIN_MS,
                             .max_ms = TRADES_PING_MAX_MS,
                             .field = "ping_delay_ms"};
}

int api_request_stream_ping(const api_stream_ping *ping, char *message, size_t message_size) {
    if (!ping->has_ping || (ping->ping_ms >= ping->min_ms && ping->ping_ms <= ping->max_ms))
        return 0;
    snprintf(message, message_size, "Invalid parameter: `%s` must be from %d to %d", ping->field,
             ping->min_ms, ping->max_ms);
    return CODE_MALFORMED;
}

static bool readable(access_level level) {
    return level == ACCESS_FULL || level == ACCESS_READ_ONLY;
}

int api_request_stream_accounts(const refdata *rd, const token *tok, char *const *ids, size_t n,
                                bool selected[REFDATA_MAX_ACCOUNTS], const account **listed,
                                size_t *listed_count) {
    *listed_count = 0;
    if (n == 0) {
        uint32_t count = refdata_account_count(rd); /* sandbox accounts may be opened meanwhile */
        for (uint32_t i = 0; i < count; i++) {
            if (refdata_account_status(&rd->accounts[i]) == ACCOUNT_STATUS_CLOSED ||
                !readable(refdata_access(tok, &rd->accounts[i])))
                continue;
            selected[i] = true;
            if (listed != NULL)
                listed[*listed_count] = &rd->accounts[i];
            ++*listed_count;
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const account *acc = refdata_find_account(rd, ids[i]);
        if (acc == NULL || !readable(refdata_access(tok, acc)))
            return 40002;
        selected[acc->index] = true;
        if (listed != NULL)
            listed[*listed_count] = acc;
        ++*listed_count;
    }
    return 0;
}

/* ---- SandboxService ------------------------------------------------------------------------- */

int api_request_pay_in_amount(const PB(SandboxPayInRequest) * in, int64_t *amount_nano) {
    *amount_nano = 0;
    if (in->amount == NULL)
        return 30247;
    if (money_from_units_nano(in->amount->units, in->amount->nano, amount_nano) != 0)
        return 30246;
    return 0;
}

const char *api_request_open_account_name(const PB(OpenSandboxAccountRequest) * in) {
    return in->_name_case == PB_ENUM(OPEN_SANDBOX_ACCOUNT_REQUEST___NAME_NAME) ? in->name : NULL;
}

/* ---- Every request type --------------------------------------------------------------------- */

/* Each function below makes, in the same order, the checks the handlers of its request type
 * make before the core sees the request. */

static int check_nothing(const ProtobufCMessage *request, const api_request_context *ctx,
                         api_request_values *out) {
    return 0;
}

static int check_margin_attributes(const ProtobufCMessage *request, const api_request_context *ctx,
                                   api_request_values *out) {
    const PB(GetMarginAttributesRequest) *in = (const PB(GetMarginAttributesRequest) *)request;
    return api_request_account(ctx->refdata, ctx->token, in->account_id, ACCESS_NEED_READ,
                               &out->account);
}

static int check_instrument_by(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    const PB(InstrumentRequest) *in = (const PB(InstrumentRequest) *)request;
    return api_request_instrument_by(ctx->refdata, in, &out->instrument);
}

static int check_find_instrument(const ProtobufCMessage *request, const api_request_context *ctx,
                                 api_request_values *out) {
    const PB(FindInstrumentRequest) *in = (const PB(FindInstrumentRequest) *)request;
    return api_request_find_instrument(in);
}

static int check_trading_schedules(const ProtobufCMessage *request, const api_request_context *ctx,
                                   api_request_values *out) {
    const PB(TradingSchedulesRequest) *in = (const PB(TradingSchedulesRequest) *)request;
    return api_request_trading_schedules(in, ctx->today_s, &out->schedule);
}

static int check_post_order(const ProtobufCMessage *request, const api_request_context *ctx,
                            api_request_values *out) {
    const PB(PostOrderRequest) *in = (const PB(PostOrderRequest) *)request;
    return api_request_post_order(in, &out->order);
}

static int check_post_order_async(const ProtobufCMessage *request, const api_request_context *ctx,
                                  api_request_values *out) {
    const PB(PostOrderAsyncRequest) *in = (const PB(PostOrderAsyncRequest) *)request;
    return api_request_post_order_async(in, &out->order);
}

static int check_cancel_order(const ProtobufCMessage *request, const api_request_context *ctx,
                              api_request_values *out) {
    const PB(CancelOrderRequest) *in = (const PB(CancelOrderRequest) *)request;
    return api_request_cancel_order(in, &out->ref);
}

static int check_get_order_state(const ProtobufCMessage *request, const api_request_context *ctx,
                                 api_request_values *out) {
    const PB(GetOrderStateRequest) *in = (const PB(GetOrderStateRequest) *)request;
    return api_request_get_order_state(in, &out->ref);
}

static int check_get_orders(const ProtobufCMessage *request, const api_request_context *ctx,
                            api_request_values *out) {
    const PB(GetOrdersRequest) *in = (const PB(GetOrdersRequest) *)request;
    api_request_orders_filter(in, &out->filter);
    return 0;
}

static int check_replace_order(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    const PB(ReplaceOrderRequest) *in = (const PB(ReplaceOrderRequest) *)request;
    return api_request_price(in->price, &out->has_price, &out->price_nano);
}

static int check_max_lots(const ProtobufCMessage *request, const api_request_context *ctx,
                          api_request_values *out) {
    const PB(GetMaxLotsRequest) *in = (const PB(GetMaxLotsRequest) *)request;
    return api_request_price(in->price, &out->has_price, &out->price_nano);
}

static int check_order_price(const ProtobufCMessage *request, const api_request_context *ctx,
                             api_request_values *out) {
    const PB(GetOrderPriceRequest) *in = (const PB(GetOrderPriceRequest) *)request;
    return api_request_price(in->price, &out->has_price, &out->price_nano);
}

static int check_pay_in(const ProtobufCMessage *request, const api_request_context *ctx,
                        api_request_values *out) {
    const PB(SandboxPayInRequest) *in = (const PB(SandboxPayInRequest) *)request;
    return api_request_pay_in_amount(in, &out->amount_nano);
}

static int check_open_account(const ProtobufCMessage *request, const api_request_context *ctx,
                              api_request_values *out) {
    const PB(OpenSandboxAccountRequest) *in = (const PB(OpenSandboxAccountRequest) *)request;
    out->name = api_request_open_account_name(in);
    return 0;
}

static int check_operations(const ProtobufCMessage *request, const api_request_context *ctx,
                            api_request_values *out) {
    const PB(OperationsRequest) *in = (const PB(OperationsRequest) *)request;
    return api_request_operations(ctx->refdata, in, &out->operations);
}

static int check_operations_by_cursor(const ProtobufCMessage *request,
                                      const api_request_context *ctx, api_request_values *out) {
    const PB(GetOperationsByCursorRequest) *in = (const PB(GetOperationsByCursorRequest) *)request;
    return api_request_operations_by_cursor(ctx->refdata, in, &out->operations, out->message,
                                            sizeof out->message);
}

static int check_currency_transfer(const ProtobufCMessage *request, const api_request_context *ctx,
                                   api_request_values *out) {
    const PB(CurrencyTransferRequest) *in = (const PB(CurrencyTransferRequest) *)request;
    return api_request_currency_transfer(in, &out->amount_nano);
}

/* The generating half of a report request (the fetching half needs the task's account). */
static int check_report_period(const char *account_id, const Google__Protobuf__Timestamp *from,
                               const Google__Protobuf__Timestamp *to, int64_t max_days,
                               const api_request_context *ctx, api_request_values *out) {
    int code =
        api_request_account(ctx->refdata, ctx->token, account_id, ACCESS_NEED_READ, &out->account);
    if (code == 0)
        code =
            api_request_report_period(from, to, max_days, &out->report.from_s, &out->report.to_s);
    return code;
}

static int check_broker_report(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    const PB(BrokerReportRequest) *in = (const PB(BrokerReportRequest) *)request;
    if (in->payload_case ==
        PB_ENUM(BROKER_REPORT_REQUEST__PAYLOAD_GENERATE_BROKER_REPORT_REQUEST)) {
        const PB(GenerateBrokerReportRequest) *g = in->generate_broker_report_request;
        return check_report_period(g->account_id, g->from, g->to, API_BROKER_REPORT_MAX_DAYS, ctx,
                                   out);
    }
    if (in->payload_case != PB_ENUM(BROKER_REPORT_REQUEST__PAYLOAD_GET_BROKER_REPORT_REQUEST))
        return 30066;
    const PB(GetBrokerReportRequest) *g = in->get_broker_report_request;
    if (g->_page_case == PB_ENUM(GET_BROKER_REPORT_REQUEST___PAGE_PAGE) && g->page < 0)
        return 30107;
    return g->task_id[0] == '\0' ? 30065 : 0;
}

static int check_dividends_report(const ProtobufCMessage *request, const api_request_context *ctx,
                                  api_request_values *out) {
    const PB(GetDividendsForeignIssuerRequest) *in =
        (const PB(GetDividendsForeignIssuerRequest) *)request;
    if (in->payload_case ==
        PB_ENUM(GET_DIVIDENDS_FOREIGN_ISSUER_REQUEST__PAYLOAD_GENERATE_DIV_FOREIGN_ISSUER_REPORT)) {
        const PB(GenerateDividendsForeignIssuerReportRequest) *g =
            in->generate_div_foreign_issuer_report;
        return check_report_period(g->account_id, g->from, g->to, 0, ctx, out);
    }
    if (in->payload_case !=
        PB_ENUM(GET_DIVIDENDS_FOREIGN_ISSUER_REQUEST__PAYLOAD_GET_DIV_FOREIGN_ISSUER_REPORT))
        return 30066;
    const PB(GetDividendsForeignIssuerReportRequest) *g = in->get_div_foreign_issuer_report;
    if (g->_page_case == PB_ENUM(GET_DIVIDENDS_FOREIGN_ISSUER_REPORT_REQUEST___PAGE_PAGE) &&
        g->page < 0)
        return 30107;
    return g->task_id[0] == '\0' ? 30065 : 0;
}

static int check_order_book(const ProtobufCMessage *request, const api_request_context *ctx,
                            api_request_values *out) {
    const PB(GetOrderBookRequest) *in = (const PB(GetOrderBookRequest) *)request;
    return api_request_order_book(ctx->refdata, in, &out->instrument);
}

static int check_last_prices(const ProtobufCMessage *request, const api_request_context *ctx,
                             api_request_values *out) {
    const PB(GetLastPricesRequest) *in = (const PB(GetLastPricesRequest) *)request;
    int code = api_request_last_prices(ctx->refdata, in, &out->last_prices);
    if (out->last_prices.message != NULL)
        snprintf(out->message, sizeof out->message, "%s", out->last_prices.message);
    return code;
}

static int check_options_by(const ProtobufCMessage *request, const api_request_context *ctx,
                            api_request_values *out) {
    api_options_filter filter;
    int code = api_request_options_by((const PB(FilterOptionsRequest) *)request, &filter);
    if (filter.message != NULL)
        snprintf(out->message, sizeof out->message, "%s", filter.message);
    return code;
}

static int check_futures_margin(const ProtobufCMessage *request, const api_request_context *ctx,
                                api_request_values *out) {
    return api_request_futures_margin(ctx->refdata, (const PB(GetFuturesMarginRequest) *)request,
                                      &out->instrument);
}

static int check_instruments(const ProtobufCMessage *request, const api_request_context *ctx,
                             api_request_values *out) {
    const PB(InstrumentsRequest) *in = (const PB(InstrumentsRequest) *)request;
    int code = api_request_instruments(in, &out->instruments);
    if (out->instruments.message != NULL)
        snprintf(out->message, sizeof out->message, "%s", out->instruments.message);
    return code;
}

static int check_portfolio(const ProtobufCMessage *request, const api_request_context *ctx,
                           api_request_values *out) {
    const PB(PortfolioRequest) *in = (const PB(PortfolioRequest) *)request;
    return api_request_portfolio_currency(ctx->refdata, in, &out->portfolio);
}

static int check_trading_status(const ProtobufCMessage *request, const api_request_context *ctx,
                                api_request_values *out) {
    const PB(GetTradingStatusRequest) *in = (const PB(GetTradingStatusRequest) *)request;
    return api_request_trading_status(ctx->refdata, in, &out->instrument);
}

static int check_trading_statuses(const ProtobufCMessage *request, const api_request_context *ctx,
                                  api_request_values *out) {
    const PB(GetTradingStatusesRequest) *in = (const PB(GetTradingStatusesRequest) *)request;
    return api_request_trading_statuses(ctx->refdata, in);
}

static int check_last_trades(const ProtobufCMessage *request, const api_request_context *ctx,
                             api_request_values *out) {
    const PB(GetLastTradesRequest) *in = (const PB(GetLastTradesRequest) *)request;
    int code = api_request_last_trades(ctx->refdata, in, &out->instrument);
    const char *message = NULL;
    if (code == 0)
        code = api_request_trade_source(in, &message);
    if (message != NULL)
        snprintf(out->message, sizeof out->message, "%s", message);
    return code;
}

static int check_candles(const ProtobufCMessage *request, const api_request_context *ctx,
                         api_request_values *out) {
    const PB(GetCandlesRequest) *in = (const PB(GetCandlesRequest) *)request;
    return api_request_candles(ctx->refdata, in, ctx->now_ns, &out->instrument, &out->candles);
}

static int check_close_prices(const ProtobufCMessage *request, const api_request_context *ctx,
                              api_request_values *out) {
    return api_request_close_prices(ctx->refdata, (const PB(GetClosePricesRequest) *)request);
}

static int check_market_values(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    return api_request_market_values(ctx->refdata, (const PB(GetMarketValuesRequest) *)request);
}

static int check_tech_analysis(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    const PB(GetTechAnalysisRequest) *in = (const PB(GetTechAnalysisRequest) *)request;
    return api_request_tech_analysis(ctx->refdata, in, &out->indicator, &out->instrument);
}

static int check_stream(const api_stream_ping *ping, char *const *accounts, size_t n,
                        const api_request_context *ctx, api_request_values *out) {
    int code = api_request_stream_ping(ping, out->message, sizeof out->message);
    if (code != 0)
        return code;
    return api_request_stream_accounts(ctx->refdata, ctx->token, accounts, n, out->selected, NULL,
                                       &out->listed_count);
}

static int check_order_state_stream(const ProtobufCMessage *request, const api_request_context *ctx,
                                    api_request_values *out) {
    const PB(OrderStateStreamRequest) *in = (const PB(OrderStateStreamRequest) *)request;
    api_stream_ping ping = api_request_order_state_stream_ping(in);
    return check_stream(&ping, in->accounts, in->n_accounts, ctx, out);
}

static int check_trades_stream(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    const PB(TradesStreamRequest) *in = (const PB(TradesStreamRequest) *)request;
    api_stream_ping ping = api_request_trades_stream_ping(in);
    return check_stream(&ping, in->accounts, in->n_accounts, ctx, out);
}

int api_request_market_data_entries(size_t n, char *message, size_t message_size) {
    if (n <= API_MARKET_DATA_MAX_ENTRIES)
        return 0;
    snprintf(message, message_size,
             "Invalid parameter: `instruments` names %zu instruments, at most %d in one request", n,
             API_MARKET_DATA_MAX_ENTRIES);
    return CODE_MALFORMED;
}

/* Market-data streams: the ping period and the size of each subscription request; each entry is
 * otherwise answered with a status of its own (stream/md_hub.h), never refused as a whole. */
static int check_market_data(const ProtobufCMessage *request, const api_request_context *ctx,
                             api_request_values *out) {
    const PB(MarketDataRequest) *in = (const PB(MarketDataRequest) *)request;
    size_t n = 0;
    switch (in->payload_case) {
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_PING_SETTINGS): {
        api_stream_ping ping = api_request_market_data_ping(in->ping_settings);
        return api_request_stream_ping(&ping, out->message, sizeof out->message);
    }
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_CANDLES_REQUEST):
        n = in->subscribe_candles_request->n_instruments;
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_ORDER_BOOK_REQUEST):
        n = in->subscribe_order_book_request->n_instruments;
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_TRADES_REQUEST):
        n = in->subscribe_trades_request->n_instruments;
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_INFO_REQUEST):
        n = in->subscribe_info_request->n_instruments;
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_LAST_PRICE_REQUEST):
        n = in->subscribe_last_price_request->n_instruments;
        break;
    default:
        break;
    }
    return api_request_market_data_entries(n, out->message, sizeof out->message);
}

static int check_market_data_server_side(const ProtobufCMessage *request,
                                         const api_request_context *ctx, api_request_values *out) {
    const PB(MarketDataServerSideStreamRequest) *in =
        (const PB(MarketDataServerSideStreamRequest) *)request;
    api_stream_ping ping = api_request_market_data_ping(in->ping_settings);
    int code = api_request_stream_ping(&ping, out->message, sizeof out->message);
    const size_t counts[] = {
        in->subscribe_candles_request ? in->subscribe_candles_request->n_instruments : 0,
        in->subscribe_order_book_request ? in->subscribe_order_book_request->n_instruments : 0,
        in->subscribe_trades_request ? in->subscribe_trades_request->n_instruments : 0,
        in->subscribe_info_request ? in->subscribe_info_request->n_instruments : 0,
        in->subscribe_last_price_request ? in->subscribe_last_price_request->n_instruments : 0};
    for (size_t i = 0; code == 0 && i < sizeof counts / sizeof counts[0]; i++)
        code = api_request_market_data_entries(counts[i], out->message, sizeof out->message);
    return code;
}

/* OperationsStreamService: the ping period; each account gets a status of its own, never a
 * refusal of the whole request. */
static int check_portfolio_stream(const ProtobufCMessage *request, const api_request_context *ctx,
                                  api_request_values *out) {
    const PB(PortfolioStreamRequest) *in = (const PB(PortfolioStreamRequest) *)request;
    api_stream_ping ping = api_request_market_data_ping(in->ping_settings);
    return api_request_stream_ping(&ping, out->message, sizeof out->message);
}

static int check_positions_stream(const ProtobufCMessage *request, const api_request_context *ctx,
                                  api_request_values *out) {
    const PB(PositionsStreamRequest) *in = (const PB(PositionsStreamRequest) *)request;
    api_stream_ping ping = api_request_market_data_ping(in->ping_settings);
    return api_request_stream_ping(&ping, out->message, sizeof out->message);
}

/* The payment calendar (src/api/calendar_service.c). */
static int check_bond_coupons(const ProtobufCMessage *request, const api_request_context *ctx,
                              api_request_values *out) {
    return api_request_bond_coupons(ctx->refdata, (const PB(GetBondCouponsRequest) *)request,
                                    &out->calendar);
}

static int check_bond_events(const ProtobufCMessage *request, const api_request_context *ctx,
                             api_request_values *out) {
    const char *message = NULL;
    int code = api_request_bond_events(ctx->refdata, (const PB(GetBondEventsRequest) *)request,
                                       &out->calendar, &message);
    if (message != NULL)
        snprintf(out->message, sizeof out->message, "%s", message);
    return code;
}

static int check_dividends(const ProtobufCMessage *request, const api_request_context *ctx,
                           api_request_values *out) {
    return api_request_dividends(ctx->refdata, (const PB(GetDividendsRequest) *)request,
                                 &out->calendar);
}

static int check_accrued_interests(const ProtobufCMessage *request, const api_request_context *ctx,
                                   api_request_values *out) {
    return api_request_accrued_interests(
        ctx->refdata, (const PB(GetAccruedInterestsRequest) *)request, &out->calendar);
}

/* Assets, brands, countries, analytics (src/api/assets_service.c) and SignalService
 * (src/api/signals_service.c): their checks live in api/assets_request.c. */
static int check_assets(const ProtobufCMessage *request, const api_request_context *ctx,
                        api_request_values *out) {
    api_assets_filter filter;
    return api_request_assets((const PB(AssetsRequest) *)request, &filter, out->message);
}

static int check_asset_by(const ProtobufCMessage *request, const api_request_context *ctx,
                          api_request_values *out) {
    return api_request_asset_by((const PB(AssetRequest) *)request, out->message);
}

static int check_brands(const ProtobufCMessage *request, const api_request_context *ctx,
                        api_request_values *out) {
    return api_request_page(((const PB(GetBrandsRequest) *)request)->paging);
}

static int check_brand_by(const ProtobufCMessage *request, const api_request_context *ctx,
                          api_request_values *out) {
    return api_request_brand_by((const PB(GetBrandRequest) *)request, out->message);
}

static int check_asset_fundamentals(const ProtobufCMessage *request, const api_request_context *ctx,
                                    api_request_values *out) {
    return api_request_asset_fundamentals((const PB(GetAssetFundamentalsRequest) *)request,
                                          out->message);
}

static int check_asset_reports(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    api_asset_reports_query query;
    int code = api_request_asset_reports(ctx->refdata, (const PB(GetAssetReportsRequest) *)request,
                                         &query);
    out->instrument = query.instrument;
    return code;
}

static int check_consensus_forecasts(const ProtobufCMessage *request,
                                     const api_request_context *ctx, api_request_values *out) {
    return api_request_page(((const PB(GetConsensusForecastsRequest) *)request)->paging);
}

static int check_forecast_by(const ProtobufCMessage *request, const api_request_context *ctx,
                             api_request_values *out) {
    return api_request_forecast_by(ctx->refdata, (const PB(GetForecastRequest) *)request,
                                   &out->instrument);
}

static int check_risk_rates(const ProtobufCMessage *request, const api_request_context *ctx,
                            api_request_values *out) {
    return api_request_risk_rates((const PB(RiskRatesRequest) *)request);
}

static int check_insider_deals(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    api_insider_deals_query query;
    int code = api_request_insider_deals(ctx->refdata, (const PB(GetInsiderDealsRequest) *)request,
                                         &query, out->message);
    out->instrument = query.instrument;
    return code;
}

static int check_strategies(const ProtobufCMessage *request, const api_request_context *ctx,
                            api_request_values *out) {
    return api_request_strategies((const PB(GetStrategiesRequest) *)request);
}

static int check_signals(const ProtobufCMessage *request, const api_request_context *ctx,
                         api_request_values *out) {
    refbook_signal_filter filter;
    return api_request_signals(ctx->refdata, (const PB(GetSignalsRequest) *)request, &filter,
                               out->message);
}

/* ---- InstrumentsService: favorites (src/api/favorites_service.c) ---------------------------- */

/* A group id a request names: 50013 for one that cannot be a group's (not a UUID). */
static int favorites_group_id(const char *id) {
    return uuid_is_valid(id, strlen(id)) ? 0 : 50013;
}

const char *api_request_favorites_group(bool present, const char *group_id) {
    return present && group_id[0] != '\0' ? group_id : NULL;
}

int api_request_get_favorites(const PB(GetFavoritesRequest) * in) {
    const char *group = api_request_favorites_group(
        in->_group_id_case == PB_ENUM(GET_FAVORITES_REQUEST___GROUP_ID_GROUP_ID), in->group_id);
    return group != NULL ? favorites_group_id(group) : 0;
}

const char *api_request_favorites_instrument_id(const PB(EditFavoritesRequestInstrument) * in) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (in->instrument_id[0] == '\0' &&
        in->_figi_case == PB_ENUM(EDIT_FAVORITES_REQUEST_INSTRUMENT___FIGI_FIGI))
        return in->figi;
#pragma GCC diagnostic pop
    return in->instrument_id;
}

int api_request_edit_favorites(const refdata *rd, const PB(EditFavoritesRequest) * in) {
    if (in->n_instruments > FAVORITES_EDIT_MAX)
        return 30091;
    if (in->action_type != FAVORITES_ACTION_ADD && in->action_type != FAVORITES_ACTION_DEL)
        return 30102;
    if (in->n_instruments == 0)
        return 30093;
    for (size_t i = 0; i < in->n_instruments; i++) {
        const char *id = api_request_favorites_instrument_id(in->instruments[i]);
        if (id[0] == '\0')
            return 30093;
        if (refdata_find_instrument_id(rd, id) == NULL)
            return 50002;
    }
    const char *group = api_request_favorites_group(
        in->_group_id_case == PB_ENUM(EDIT_FAVORITES_REQUEST___GROUP_ID_GROUP_ID), in->group_id);
    return group != NULL ? favorites_group_id(group) : 0;
}

int api_request_create_favorite_group(const PB(CreateFavoriteGroupRequest) * in) {
    if (!favorites_group_name_valid(in->group_name))
        return 30231;
    return favorites_group_color_valid(in->group_color) ? 0 : 30232;
}

int api_request_delete_favorite_group(const PB(DeleteFavoriteGroupRequest) * in) {
    return in->group_id[0] == '\0' ? 30230 : favorites_group_id(in->group_id);
}

int api_request_get_favorite_groups(const PB(GetFavoriteGroupsRequest) * in) {
    if (in->n_instrument_id > API_MAX_INSTRUMENTS_PER_REQUEST)
        return 30218;
    return in->n_excluded_group_id > API_FAVORITES_MAX_EXCLUDED ? 30102 : 0;
}

static int check_get_favorites(const ProtobufCMessage *request, const api_request_context *ctx,
                               api_request_values *out) {
    return api_request_get_favorites((const PB(GetFavoritesRequest) *)request);
}

static int check_edit_favorites(const ProtobufCMessage *request, const api_request_context *ctx,
                                api_request_values *out) {
    int code = api_request_edit_favorites(ctx->refdata, (const PB(EditFavoritesRequest) *)request);
    if (code == 30102)
        snprintf(out->message, sizeof out->message, "%s", API_FAVORITES_ACTION_MESSAGE);
    return code;
}

static int check_create_favorite_group(const ProtobufCMessage *request,
                                       const api_request_context *ctx, api_request_values *out) {
    return api_request_create_favorite_group((const PB(CreateFavoriteGroupRequest) *)request);
}

static int check_delete_favorite_group(const ProtobufCMessage *request,
                                       const api_request_context *ctx, api_request_values *out) {
    return api_request_delete_favorite_group((const PB(DeleteFavoriteGroupRequest) *)request);
}

static int check_get_favorite_groups(const ProtobufCMessage *request,
                                     const api_request_context *ctx, api_request_values *out) {
    int code = api_request_get_favorite_groups((const PB(GetFavoriteGroupsRequest) *)request);
    if (code == 30102)
        snprintf(out->message, sizeof out->message, "%s", API_FAVORITES_EXCLUDED_MESSAGE);
    return code;
}

static const api_request_type request_types[] = {
    /* UsersService */
    {&PB_DESC(get_accounts_request), check_nothing},
    {&PB_DESC(get_info_request), check_nothing},
    {&PB_DESC(get_user_tariff_request), check_nothing},
    {&PB_DESC(get_margin_attributes_request), check_margin_attributes},
    /* InstrumentsService */
    {&PB_DESC(instrument_request), check_instrument_by},
    {&PB_DESC(instruments_request), check_instruments},
    {&PB_DESC(find_instrument_request), check_find_instrument},
    {&PB_DESC(trading_schedules_request), check_trading_schedules},
    /* OrdersService, and the SandboxService methods that share its messages */
    {&PB_DESC(post_order_request), check_post_order},
    {&PB_DESC(post_order_async_request), check_post_order_async},
    {&PB_DESC(cancel_order_request), check_cancel_order},
    {&PB_DESC(get_order_state_request), check_get_order_state},
    {&PB_DESC(get_orders_request), check_get_orders},
    {&PB_DESC(replace_order_request), check_replace_order},
    {&PB_DESC(get_max_lots_request), check_max_lots},
    {&PB_DESC(get_order_price_request), check_order_price},
    /* OperationsService: the core checks the account */
    {&PB_DESC(positions_request), check_nothing},
    {&PB_DESC(portfolio_request), check_portfolio},
    {&PB_DESC(withdraw_limits_request), check_nothing},
    /* SandboxService */
    {&PB_DESC(sandbox_pay_in_request), check_pay_in},
    {&PB_DESC(open_sandbox_account_request), check_open_account},
    {&PB_DESC(close_sandbox_account_request), check_nothing},
    /* MarketDataService */
    {&PB_DESC(get_order_book_request), check_order_book},
    {&PB_DESC(get_last_prices_request), check_last_prices},
    {&PB_DESC(get_trading_status_request), check_trading_status},
    {&PB_DESC(get_trading_statuses_request), check_trading_statuses},
    {&PB_DESC(get_last_trades_request), check_last_trades},
    /* OrdersStreamService */
    {&PB_DESC(order_state_stream_request), check_order_state_stream},
    {&PB_DESC(trades_stream_request), check_trades_stream},
    /* Added later, at the end so that the committed fuzz inputs keep their types (byte 0 is a
     * type's place in this list): MarketDataService.GetTechAnalysis
     * (src/api/techanalysis_service.c), GetCandles, GetClosePrices, GetMarketValues */
    {&PB_DESC(get_tech_analysis_request), check_tech_analysis},
    {&PB_DESC(get_candles_request), check_candles},
    {&PB_DESC(get_close_prices_request), check_close_prices},
    {&PB_DESC(get_market_values_request), check_market_values},
    /* MarketDataStreamService (the fuzz corpus has no inputs of these two yet) */
    {&PB_DESC(market_data_request), check_market_data},
    {&PB_DESC(market_data_server_side_stream_request), check_market_data_server_side},
    /* StopOrdersService and its SandboxService twins (src/api/stoporders_service.c) */
    {&PB_DESC(post_stop_order_request), api_request_check_post_stop_order},
    {&PB_DESC(get_stop_orders_request), api_request_check_get_stop_orders},
    {&PB_DESC(cancel_stop_order_request), api_request_check_cancel_stop_order},
    /* The operation history (src/api/operations_history_service.c): OperationsService and its
     * sandbox twins, UsersService.GetBankAccounts and CurrencyTransfer. */
    {&PB_DESC(operations_request), check_operations},
    {&PB_DESC(get_operations_by_cursor_request), check_operations_by_cursor},
    {&PB_DESC(broker_report_request), check_broker_report},
    {&PB_DESC(get_dividends_foreign_issuer_request), check_dividends_report},
    {&PB_DESC(get_bank_accounts_request), check_nothing},
    {&PB_DESC(currency_transfer_request), check_currency_transfer},
    /* OperationsStreamService (src/api/portfolio_streams.c) */
    {&PB_DESC(portfolio_stream_request), check_portfolio_stream},
    {&PB_DESC(positions_stream_request), check_positions_stream},
    /* InstrumentsService: the payment calendar (src/api/calendar_service.c) */
    {&PB_DESC(get_bond_coupons_request), check_bond_coupons},
    {&PB_DESC(get_bond_events_request), check_bond_events},
    {&PB_DESC(get_dividends_request), check_dividends},
    {&PB_DESC(get_accrued_interests_request), check_accrued_interests},
    /* InstrumentsService: assets, brands, countries and analytics (src/api/assets_service.c;
     * StructuredNoteBy and StructuredNotes take InstrumentRequest and InstrumentsRequest) */
    {&PB_DESC(assets_request), check_assets},
    {&PB_DESC(asset_request), check_asset_by},
    {&PB_DESC(get_countries_request), check_nothing},
    {&PB_DESC(get_brands_request), check_brands},
    {&PB_DESC(get_brand_request), check_brand_by},
    {&PB_DESC(get_asset_fundamentals_request), check_asset_fundamentals},
    {&PB_DESC(get_asset_reports_request), check_asset_reports},
    {&PB_DESC(get_consensus_forecasts_request), check_consensus_forecasts},
    {&PB_DESC(get_forecast_request), check_forecast_by},
    {&PB_DESC(risk_rates_request), check_risk_rates},
    {&PB_DESC(get_insider_deals_request), check_insider_deals},
    /* SignalService (src/api/signals_service.c) */
    {&PB_DESC(get_strategies_request), check_strategies},
    {&PB_DESC(get_signals_request), check_signals},
    /* InstrumentsService: favorites (src/api/favorites_service.c) */
    {&PB_DESC(get_favorites_request), check_get_favorites},
    {&PB_DESC(edit_favorites_request), check_edit_favorites},
    {&PB_DESC(create_favorite_group_request), check_create_favorite_group},
    {&PB_DESC(delete_favorite_group_request), check_delete_favorite_group},
    {&PB_DESC(get_favorite_groups_request), check_get_favorite_groups},
    /* InstrumentsService: options, futures margin, indicatives (src/api/universe_service.c) */
    {&PB_DESC(filter_options_request), check_options_by},
    {&PB_DESC(get_futures_margin_request), check_futures_margin},
    {&PB_DESC(indicatives_request), check_nothing},
    /* tinvestd.replay.v1.ReplayService, the control of a replay (src/api/replay_service.c) */
    {&tinvestd__replay__v1__get_replay_state_request__descriptor, check_nothing},
    {&tinvestd__replay__v1__advance_request__descriptor, api_request_check_replay_advance},
    {&tinvestd__replay__v1__write_report_request__descriptor, check_nothing},
    /* tinvestd.admin.v1.AdminService, the operator's (src/api/admin_service.c); its Advance takes
     * ReplayService's AdvanceRequest, above */
    {&tinvestd__admin__v1__get_stats_request__descriptor, check_nothing},
    {&tinvestd__admin__v1__instrument_request__descriptor, api_request_check_admin_instrument},
    {&tinvestd__admin__v1__set_exchange_faults_request__descriptor, api_request_check_admin_faults},
    {&tinvestd__admin__v1__move_price_request__descriptor, api_request_check_admin_move_price},
    {&tinvestd__admin__v1__take_snapshot_request__descriptor, check_nothing},
    {&tinvestd__admin__v1__set_replay_speed_request__descriptor,
     api_request_check_admin_replay_speed},
};

const api_request_type *api_request_types(size_t *count) {
    *count = sizeof request_types / sizeof request_types[0];
    return request_types;
}

const api_request_type *api_request_type_of(const ProtobufCMessageDescriptor *descriptor) {
    for (size_t i = 0; i < sizeof request_types / sizeof request_types[0]; i++)
        if (request_types[i].descriptor == descriptor)
            return &request_types[i];
    return NULL;
}
