#include "api/calendar_request.h"

#include <stddef.h>

#define SECONDS_PER_DAY 86400
#define NS_PER_SECOND INT64_C(1000000000)

/* The instrument `instrument_id` names, or the deprecated `figi` when it is empty. */
static int calendar_instrument(const refdata *rd, const char *instrument_id, const char *figi,
                               const instrument **out) {
    const char *id = instrument_id != NULL && instrument_id[0] != '\0' ? instrument_id : figi;
    *out = NULL;
    if (id == NULL || id[0] == '\0')
        return 30237;
    *out = refdata_find_instrument_id(rd, id);
    return *out == NULL ? 50002 : 0;
}

static int bound(const Google__Protobuf__Timestamp *t, int invalid_code, int range_code,
                 int64_t *out_ns) {
    return t == NULL ? 0 : pb_timestamp_to_ns_code(t, invalid_code, range_code, out_ns);
}

/* The optional period: 30009 / 30061, 30010 / 30062, then 30012. */
static int period(const Google__Protobuf__Timestamp *from, const Google__Protobuf__Timestamp *to,
                  api_calendar_query *out) {
    out->from_ns = INT64_MIN;
    out->to_ns = INT64_MAX;
    int code = bound(from, 30009, 30061, &out->from_ns);
    if (code == 0)
        code = bound(to, 30010, 30062, &out->to_ns);
    if (code == 0 && out->to_ns < out->from_ns)
        code = 30012;
    return code;
}

static int bond_request(const refdata *rd, const char *instrument_id, const char *figi,
                        const Google__Protobuf__Timestamp *from,
                        const Google__Protobuf__Timestamp *to, api_calendar_query *out) {
    *out = (api_calendar_query){0};
    int code = calendar_instrument(rd, instrument_id, figi, &out->instrument);
    if (code != 0)
        return code;
    if (out->instrument->kind != INSTRUMENT_KIND_BOND)
        return 30048;
    return period(from, to, out);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int api_request_bond_coupons(const refdata *rd, const PB(GetBondCouponsRequest) * in,
                             api_calendar_query *out) {
    return bond_request(rd, in->instrument_id, in->figi, in->from, in->to, out);
}

int api_request_bond_events(const refdata *rd, const PB(GetBondEventsRequest) * in,
                            api_calendar_query *out, const char **message) {
    *message = NULL;
    int code = bond_request(rd, in->instrument_id, NULL, in->from, in->to, out);
    if (code != 0)
        return code;
    int type = (int)in->type;
    if (type < 0 || type > (int)PB_ENUM(GET_BOND_EVENTS_REQUEST__EVENT_TYPE__EVENT_TYPE_CONV)) {
        *message = "`type` is invalid: it must be an EventType of the contract";
        return 30102;
    }
    out->event_type = type;
    return 0;
}

int api_request_dividends(const refdata *rd, const PB(GetDividendsRequest) * in,
                          api_calendar_query *out) {
    *out = (api_calendar_query){0};
    int code = calendar_instrument(rd, in->instrument_id, in->figi, &out->instrument);
    if (code != 0)
        return code;
    if (out->instrument->kind != INSTRUMENT_KIND_SHARE &&
        out->instrument->kind != INSTRUMENT_KIND_ETF)
        return 30054;
    return period(in->from, in->to, out);
}

int api_request_accrued_interests(const refdata *rd, const PB(GetAccruedInterestsRequest) * in,
                                  api_calendar_query *out) {
    *out = (api_calendar_query){0};
    int code = calendar_instrument(rd, in->instrument_id, in->figi, &out->instrument);
    if (code != 0)
        return code;
    if (out->instrument->kind != INSTRUMENT_KIND_BOND)
        return 30048;
    if (in->from == NULL)
        return 30001;
    if (in->to == NULL)
        return 30004;
    code = period(in->from, in->to, out);
    if (code != 0)
        return code;
    /* Both bounds lie in 1970 .. 2099, so the days are not negative and their difference fits. */
    int64_t first_day_s = out->from_ns / NS_PER_SECOND / SECONDS_PER_DAY * SECONDS_PER_DAY;
    int64_t last_day_s = out->to_ns / NS_PER_SECOND / SECONDS_PER_DAY * SECONDS_PER_DAY;
    int64_t day_count = (last_day_s - first_day_s) / SECONDS_PER_DAY + 1;
    if (day_count > API_ACCRUED_INTERESTS_MAX_DAYS)
        return 30084;
    out->first_day_s = first_day_s;
    out->day_count = day_count;
    return 0;
}
#pragma GCC diagnostic pop
