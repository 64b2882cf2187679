/* The JSON body of a REST PostOrderAsync (docs/PROTOCOL.md, "REST"): a limit order of `quantity`
 * lots at `price_nano` (nano-units) with `order_id` as its idempotency key, in the proto3 JSON
 * mapping the official REST clients send (lowerCamelCase names, int64 as strings, enums by name).
 * The load generator writes one per request with a fresh key. */
#ifndef TINVESTD_TOOLS_REST_ORDER_BODY_H
#define TINVESTD_TOOLS_REST_ORDER_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct rest_order {
    const char *instrument_id, *account_id;
    int64_t quantity;
    int64_t price_nano; /* the limit price, nano-units */
    bool sell;
} rest_order;

/* Writes the body for `order` with the key `order_id` into `out` (`size` bytes with its NUL).
 * Returns its length, or -1 when it does not fit (then `out` holds nothing useful). */
static inline int rest_order_body(const rest_order *order, const char *order_id, char *out,
                                  size_t size) {
    /* Quotation: units and nano carry the same sign. */
    int64_t units = order->price_nano / 1000000000;
    int32_t nano = (int32_t)(order->price_nano % 1000000000);
    int n = snprintf(out, size,
                     "{\"instrumentId\":\"%s\",\"quantity\":\"%lld\",\"price\":{\"units\":\"%lld\","
                     "\"nano\":%d},\"direction\":\"%s\",\"accountId\":\"%s\","
                     "\"orderType\":\"ORDER_TYPE_LIMIT\",\"orderId\":\"%s\"}",
                     order->instrument_id, (long long)order->quantity, (long long)units, nano,
                     order->sell ? "ORDER_DIRECTION_SELL" : "ORDER_DIRECTION_BUY",
                     order->account_id, order_id);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

#endif
