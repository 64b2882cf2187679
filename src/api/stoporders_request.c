#include "api/stoporders_request.h"

#include <string.h>

static int quotation(const PB(Quotation) * q, bool *has, int64_t *nano, int code) {
    *has = q != NULL;
    *nano = 0;
    return q != NULL && !pb_quotation_to_nano(q, nano) ? code : 0;
}

static void expiry(const Google__Protobuf__Timestamp *t, core_stop_request *out) {
    out->has_expire = t != NULL;
    if (t == NULL)
        return;
    switch (pb_timestamp_to_ns_checked(t, &out->expire_ns)) {
    case PB_TIME_OK:
        out->expire_state = 0;
        break;
    case PB_TIME_INVALID:
        out->expire_state = 1;
        break;
    case PB_TIME_OUT_OF_RANGE:
        out->expire_state = 2;
        break;
    }
}

static int trailing(const PB(PostStopOrderRequest__TrailingData) * t, core_stop_request *out) {
    out->has_trailing = t != NULL;
    if (t == NULL)
        return 0;
    out->indent_type = (int32_t)t->indent_type;
    out->spread_type = (int32_t)t->spread_type;
    int code = quotation(t->indent, &out->has_indent, &out->indent_nano, 30039);
    return code != 0 ? code : quotation(t->spread, &out->has_spread, &out->spread_nano, 30039);
}

int api_request_post_stop_order(const PB(PostStopOrderRequest) * in, core_stop_request *out) {
    memset(out, 0, sizeof *out);
    /* Older bots still send the deprecated `figi` instead of `instrument_id`. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    bool legacy_figi = in->instrument_id[0] == '\0' &&
                       in->_figi_case == PB_ENUM(POST_STOP_ORDER_REQUEST___FIGI_FIGI);
    out->instrument_id = legacy_figi ? in->figi : in->instrument_id;
#pragma GCC diagnostic pop
    out->account_id = in->account_id;
    out->key = in->order_id;
    out->quantity = in->quantity;
    out->direction = (int32_t)in->direction;
    out->stop_type = (int32_t)in->stop_order_type;
    out->expiration = (int32_t)in->expiration_type;
    out->child_type = (int32_t)in->exchange_order_type;
    out->take_profit_type = (int32_t)in->take_profit_type;
    out->price_type = (int32_t)in->price_type;
    expiry(in->expire_date, out);
    int code = quotation(in->price, &out->has_price, &out->price_nano, 30018);
    if (code == 0)
        code = quotation(in->stop_price, &out->has_stop_price, &out->stop_price_nano, 30036);
    return code != 0 ? code : trailing(in->trailing_data, out);
}

int api_request_get_stop_orders(const PB(GetStopOrdersRequest) * in, api_stop_filter *out) {
    int32_t status = (int32_t)in->status;
    if (status < 0 || status > STOP_STATUS_EXPIRED)
        return 30106;
    out->status = status == 0 ? STOP_STATUS_ACTIVE : status;
    out->from_ns = in->from != NULL ? pb_timestamp_to_ns_saturated(in->from) : INT64_MIN;
    out->to_ns = in->to != NULL ? pb_timestamp_to_ns_saturated(in->to) : INT64_MAX;
    return out->to_ns < out->from_ns ? 30012 : 0;
}

int api_request_check_post_stop_order(const ProtobufCMessage *request,
                                      const api_request_context *ctx, api_request_values *out) {
    core_stop_request req;
    return api_request_post_stop_order((const PB(PostStopOrderRequest) *)request, &req);
}

int api_request_check_get_stop_orders(const ProtobufCMessage *request,
                                      const api_request_context *ctx, api_request_values *out) {
    api_stop_filter filter;
    return api_request_get_stop_orders((const PB(GetStopOrdersRequest) *)request, &filter);
}

int api_request_check_cancel_stop_order(const ProtobufCMessage *request,
                                        const api_request_context *ctx, api_request_values *out) {
    return 0; /* the core checks the account and the id */
}
