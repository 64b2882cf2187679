/* StopOrdersService requests as the core takes them (api/request.h's part for stop orders):
 * decoding and the checks that need nothing but the request. No gRPC, no engine, no clock. */
#ifndef TINVESTD_API_STOPORDERS_REQUEST_H
#define TINVESTD_API_STOPORDERS_REQUEST_H

#include <stdint.h>

#include "api/request.h"
#include "core/stop_orders.h"

/* PostStopOrder as the core's command, without the token and the time: 30018 for a `price`
 * that is not a Quotation that fits, 30039 for such an `indent` or `spread`, 30036 for such a
 * `stop_price` (the contract's code for a stop price it cannot take). The deprecated `figi`
 * stands in for an empty `instrument_id`. */
int api_request_post_stop_order(const PB(PostStopOrderRequest) * in, core_stop_request *out);

/* GetStopOrders' filters. */
typedef struct api_stop_filter {
    int32_t status;         /* STOP_STATUS_*, or 1 for every status */
    int64_t from_ns, to_ns; /* inclusive; INT64_MIN / INT64_MAX when absent */
} api_stop_filter;

/* 30106 for a `status` the contract does not define; UNSPECIFIED lists the active ones, as the
 * method's name says; 30012 when `to` is before `from`. */
int api_request_get_stop_orders(const PB(GetStopOrdersRequest) * in, api_stop_filter *out);

/* The checks of each request type, for api_request_types(). */
int api_request_check_post_stop_order(const ProtobufCMessage *request,
                                      const api_request_context *ctx, api_request_values *out);
int api_request_check_get_stop_orders(const ProtobufCMessage *request,
                                      const api_request_context *ctx, api_request_values *out);
int api_request_check_cancel_stop_order(const ProtobufCMessage *request,
                                        const api_request_context *ctx, api_request_values *out);

#endif
