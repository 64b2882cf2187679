#include "api/assets_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/request.h"
#include "util/uuid.h"

#define CODE_MALFORMED 30102
/* The largest InstrumentType value of the contract (INSTRUMENT_TYPE_COMMODITY). */
#define INSTRUMENT_TYPE_MAX 10

static int malformed(char *message, const char *text) {
    snprintf(message, API_ASSETS_MESSAGE_SIZE, "%s", text);
    return CODE_MALFORMED;
}

int api_request_assets(const PB(AssetsRequest) * in, api_assets_filter *out, char *message) {
    *out = (api_assets_filter){0};
    if (in->_instrument_type_case == PB_ENUM(ASSETS_REQUEST___INSTRUMENT_TYPE_INSTRUMENT_TYPE)) {
        if ((int)in->instrument_type < 0 || (int)in->instrument_type > INSTRUMENT_TYPE_MAX)
            return malformed(message, "Invalid parameter: `instrument_type`");
        out->instrument_kind = (int32_t)in->instrument_type;
    }
    if (in->_instrument_status_case ==
        PB_ENUM(ASSETS_REQUEST___INSTRUMENT_STATUS_INSTRUMENT_STATUS)) {
        int status = (int)in->instrument_status;
        if (status == PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_ALL))
            out->all_statuses = true;
        else if (status != PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_UNSPECIFIED) &&
                 status != PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_BASE))
            return 30050;
    }
    return 0;
}

int api_request_asset_by(const PB(AssetRequest) * in, char *message) {
    return in->id[0] == '\0' ? malformed(message, "Missing parameter: `id`") : 0;
}

int api_request_brand_by(const PB(GetBrandRequest) * in, char *message) {
    return in->id[0] == '\0' ? malformed(message, "Missing parameter: `id`") : 0;
}

int api_request_page(const PB(Page) * paging) {
    return paging != NULL && (paging->limit < 0 || paging->page_number < 0) ? 30107 : 0;
}

int api_request_asset_fundamentals(const PB(GetAssetFundamentalsRequest) * in, char *message) {
    if (in->n_assets == 0)
        return malformed(message, "Missing parameter: `assets`");
    if (in->n_assets > REFBOOK_MAX_FUNDAMENTALS_PER_REQUEST)
        return 30091;
    return 0;
}

/* A request time as seconds; `absent` when the field is not set. */
static int request_time(const Google__Protobuf__Timestamp *t, int invalid_code, int range_code,
                        int64_t absent, int64_t *out_s) {
    *out_s = absent;
    if (t == NULL)
        return 0;
    int64_t ns = 0;
    int code = pb_timestamp_to_ns_code(t, invalid_code, range_code, &ns);
    if (code != 0)
        return code;
    *out_s = ns / 1000000000;
    return 0;
}

static int period(const Google__Protobuf__Timestamp *from, const Google__Protobuf__Timestamp *to,
                  int64_t *from_s, int64_t *to_s) {
    int code = request_time(from, 30009, 30061, INT64_MIN, from_s);
    if (code == 0)
        code = request_time(to, 30010, 30062, INT64_MAX, to_s);
    if (code == 0 && *to_s < *from_s)
        code = 30012;
    return code;
}

int api_request_asset_reports(const refdata *rd, const PB(GetAssetReportsRequest) * in,
                              api_asset_reports_query *out) {
    *out = (api_asset_reports_query){0};
    int code = api_request_instrument(rd, in->instrument_id, &out->instrument);
    if (code == 0)
        code = period(in->from, in->to, &out->from_s, &out->to_s);
    return code;
}

int api_request_forecast_by(const refdata *rd, const PB(GetForecastRequest) * in,
                            const instrument **out) {
    return api_request_instrument(rd, in->instrument_id, out);
}

int api_request_risk_rates(const PB(RiskRatesRequest) * in) {
    if (in->n_instrument_id == 0)
        return 30237;
    return in->n_instrument_id > API_MAX_INSTRUMENTS_PER_REQUEST ? 30218 : 0;
}

void api_insider_deals_cursor(uint32_t from, char out[16]) {
    snprintf(out, 16, "%u", from);
}

/* A cursor is the position of the next deal in decimal, as api_insider_deals_cursor wrote it. */
static bool parse_cursor(const char *text, uint32_t *out) {
    if (text[0] < '0' || text[0] > '9' || strlen(text) > 10)
        return false;
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 10);
    if (*end != '\0' || value > UINT32_MAX)
        return false;
    char again[16];
    api_insider_deals_cursor((uint32_t)value, again);
    *out = (uint32_t)value;
    return strcmp(again, text) == 0;
}

int api_request_insider_deals(const refdata *rd, const PB(GetInsiderDealsRequest) * in,
                              api_insider_deals_query *out, char *message) {
    *out = (api_insider_deals_query){0};
    int code = api_request_instrument(rd, in->instrument_id, &out->instrument);
    if (code != 0)
        return code;
    if (in->limit < 0 || in->limit > REFBOOK_MAX_INSIDER_DEALS_PER_PAGE)
        return 30242;
    out->limit = in->limit == 0 ? REFBOOK_MAX_INSIDER_DEALS_PER_PAGE : (uint32_t)in->limit;
    bool has_cursor =
        in->_next_cursor_case == PB_ENUM(GET_INSIDER_DEALS_REQUEST___NEXT_CURSOR_NEXT_CURSOR) &&
        in->next_cursor[0] != '\0';
    if (!has_cursor)
        return 0;
    if (!parse_cursor(in->next_cursor, &out->from))
        return api_request_bad_cursor(message);
    out->has_cursor = true;
    return 0;
}

int api_request_bad_cursor(char *message) {
    return malformed(message, "Invalid parameter: `next_cursor`");
}

static bool optional_uuid(bool present, const char *text) {
    return !present || text[0] == '\0' || uuid_is_valid(text, strlen(text));
}

int api_request_strategies(const PB(GetStrategiesRequest) * in) {
    bool present =
        in->_strategy_id_case == PB_ENUM(GET_STRATEGIES_REQUEST___STRATEGY_ID_STRATEGY_ID);
    return optional_uuid(present, in->strategy_id) ? 0 : 30223;
}

static bool has(int a_case, int set) {
    return a_case == set;
}

int api_request_signals(const refdata *rd, const PB(GetSignalsRequest) * in,
                        refbook_signal_filter *out, char *message) {
    *out = (refbook_signal_filter){
        .from_s = INT64_MIN, .to_s = INT64_MAX, .state = REFBOOK_SIGNAL_STATE_ACTIVE};
    bool signal_set = has(in->_signal_id_case, PB_ENUM(GET_SIGNALS_REQUEST___SIGNAL_ID_SIGNAL_ID));
    bool strategy_set =
        has(in->_strategy_id_case, PB_ENUM(GET_SIGNALS_REQUEST___STRATEGY_ID_STRATEGY_ID));
    if (!optional_uuid(signal_set, in->signal_id))
        return 30222;
    if (!optional_uuid(strategy_set, in->strategy_id))
        return 30223;
    if (signal_set && in->signal_id[0] != '\0')
        out->signal_id = in->signal_id;
    if (strategy_set && in->strategy_id[0] != '\0')
        out->strategy_id = in->strategy_id;
    if (has(in->_strategy_type_case, PB_ENUM(GET_SIGNALS_REQUEST___STRATEGY_TYPE_STRATEGY_TYPE))) {
        if ((int)in->strategy_type < 0 ||
            (int)in->strategy_type > PB_ENUM(STRATEGY_TYPE__STRATEGY_TYPE_FUNDAMENTAL))
            return malformed(message, "Invalid parameter: `strategy_type`");
        out->strategy_type = (int32_t)in->strategy_type;
    }
    if (has(in->_direction_case, PB_ENUM(GET_SIGNALS_REQUEST___DIRECTION_DIRECTION))) {
        if ((int)in->direction < 0 ||
            (int)in->direction > PB_ENUM(SIGNAL_DIRECTION__SIGNAL_DIRECTION_SELL))
            return malformed(message, "Invalid parameter: `direction`");
        out->direction = (int32_t)in->direction;
    }
    if (has(in->_active_case, PB_ENUM(GET_SIGNALS_REQUEST___ACTIVE_ACTIVE))) {
        if ((int)in->active < 0 || (int)in->active > PB_ENUM(SIGNAL_STATE__SIGNAL_STATE_ALL))
            return malformed(message, "Invalid parameter: `active`");
        if (in->active != PB_ENUM(SIGNAL_STATE__SIGNAL_STATE_UNSPECIFIED))
            out->state = (int32_t)in->active;
    }
    if (has(in->_instrument_uid_case,
            PB_ENUM(GET_SIGNALS_REQUEST___INSTRUMENT_UID_INSTRUMENT_UID)) &&
        in->instrument_uid[0] != '\0') {
        const instrument *ins = refdata_find_by_uid(rd, in->instrument_uid);
        if (ins == NULL)
            return 50002;
        out->by_instrument = true;
        out->instrument = ins->index;
    }
    int code = period(in->from, in->to, &out->from_s, &out->to_s);
    if (code == 0)
        code = api_request_page(in->paging);
    return code;
}
