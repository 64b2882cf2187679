/* Short names for the generated contract types, and builders for the contract's value types.
 *
 * protoc-c spells every contract symbol with the full package prefix; these macros keep the
 * service code readable without hiding which generated symbol is used. Builders allocate from
 * the call's scratch memory, so a response needs no cleanup of its own. */
#ifndef TINVESTD_API_PB_H
#define TINVESTD_API_PB_H

#include <stdint.h>

#include "api/call.h"
#include "common.pb-c.h"
#include "instruments.pb-c.h"
#include "marketdata.pb-c.h"
#include "operations.pb-c.h"
#include "orders.pb-c.h"
#include "sandbox.pb-c.h"
#include "stoporders.pb-c.h"
#include "users.pb-c.h"

/* Type:        PB(GetAccountsResponse)
 * Initializer: PB_INIT(GET_ACCOUNTS_RESPONSE)
 * Descriptor:  PB_DESC(get_accounts_response)
 * Enum value:  PB_ENUM(ACCESS_LEVEL__ACCOUNT_ACCESS_LEVEL_FULL_ACCESS) */
#define PB(name) Tinkoff__Public__Invest__Api__Contract__V1__##name
#define PB_INIT(NAME) TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__##NAME##__INIT
#define PB_DESC(name) tinkoff__public__invest__api__contract__v1__##name##__descriptor
#define PB_ENUM(NAME) TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__##NAME

/* Allocates one message of type T from the call and runs its initializer. */
#define PB_NEW(call, T, INIT)                                                                      \
    ({                                                                                             \
        T *pb_new_msg_ = api_call_alloc((call), sizeof(T));                                        \
        *pb_new_msg_ = (T)INIT;                                                                    \
        pb_new_msg_;                                                                               \
    })

/* Allocates an array of `count` message pointers. */
void **pb_array(api_call *call, size_t count);

PB(Quotation) * pb_quotation(api_call *call, int64_t value_nano);
PB(MoneyValue) * pb_money(api_call *call, const char *currency, int64_t value_nano);
Google__Protobuf__Timestamp *pb_timestamp(api_call *call, int64_t time_ns);
Google__Protobuf__Timestamp *pb_timestamp_s(api_call *call, int64_t time_s);

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

/* Converts a request Quotation to nano; returns false on overflow or mixed signs. */
bool pb_quotation_to_nano(const PB(Quotation) * q, int64_t *out_nano);

#endif
