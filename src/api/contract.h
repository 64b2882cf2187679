/* The contract's generated types under short names, and the conversions of its value types that
 * need no call: what request decoding (api/request.h) and the handlers share.
 *
 * protoc-c spells every contract symbol with the full package prefix; these macros keep the
 * service code readable without hiding which generated symbol is used. Nothing here needs the
 * gRPC runtime, so the fuzz targets (tests/fuzz) use it without a server. */
#ifndef TINVESTD_API_CONTRACT_H
#define TINVESTD_API_CONTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "common.pb-c.h"
#include "instruments.pb-c.h"
#include "marketdata.pb-c.h"
#include "operations.pb-c.h"
#include "orders.pb-c.h"
#include "sandbox.pb-c.h"
#include "stoporders.pb-c.h"
#include "signals.pb-c.h"
#include "users.pb-c.h"

/* Type:        PB(GetAccountsResponse)
 * Initializer: PB_INIT(GET_ACCOUNTS_RESPONSE)
 * Descriptor:  PB_DESC(get_accounts_response)
 * Enum value:  PB_ENUM(ACCESS_LEVEL__ACCOUNT_ACCESS_LEVEL_FULL_ACCESS) */
#define PB(name) Tinkoff__Public__Invest__Api__Contract__V1__##name
#define PB_INIT(NAME) TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__##NAME##__INIT
#define PB_DESC(name) tinkoff__public__invest__api__contract__v1__##name##__descriptor
#define PB_ENUM(NAME) TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__##NAME

/* Every request Timestamp becomes a number through one of the two helpers below, never by
 * multiplying `seconds` in place: a client may send any int64 there, and seconds times 10^9
 * overflows from about the year 2262 on. */

/* A request Timestamp as nanoseconds, saturated to INT64_MIN / INT64_MAX where it falls
 * outside what int64 nanoseconds hold (about the years 1677 to 2262): for filters, where "before
 * everything" and "after everything" are the meaning such a time has. */
int64_t pb_timestamp_to_ns_saturated(const Google__Protobuf__Timestamp *t);

/* The times the contract accepts where a time is more than a filter (codes 30061 and 30062
 * name this range): 1970-01-01T00:00:00Z to 2099-12-31T23:59:59.999999999Z. */
#define PB_TIME_MIN_S INT64_C(0)
#define PB_TIME_MAX_S INT64_C(4102444799)

typedef enum pb_time_check {
    PB_TIME_OK = 0,
    PB_TIME_INVALID,      /* `nanos` outside 0 .. 999 999 999: not a Timestamp at all */
    PB_TIME_OUT_OF_RANGE, /* a Timestamp, but outside PB_TIME_MIN_S .. PB_TIME_MAX_S */
} pb_time_check;

/* A request Timestamp as nanoseconds when it is a valid Timestamp inside the contract's range
 * (where nanoseconds cannot overflow); otherwise says why not and leaves *out_ns untouched. For
 * times a reply is built from, where the caller refuses a time outside the range. */
pb_time_check pb_timestamp_to_ns_checked(const Google__Protobuf__Timestamp *t, int64_t *out_ns);
/* The same as a request's code: 0, `invalid_code` for a value that is not a Timestamp,
 * `range_code` for one outside the range (the contract's pairs are 30009 / 30061 for a `from`,
 * 30010 / 30062 for a `to`). */
int pb_timestamp_to_ns_code(const Google__Protobuf__Timestamp *t, int invalid_code, int range_code,
                            int64_t *out_ns);

/* Converts a request Quotation to nano; returns false on overflow or mixed signs. */
bool pb_quotation_to_nano(const PB(Quotation) * q, int64_t *out_nano);

#endif
