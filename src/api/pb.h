/* Builders for the contract's value types in a reply. They allocate from the call's scratch
 * memory, so a response needs no cleanup of its own. The short names of the generated types and
 * the conversions of request values live in api/contract.h, which needs no call. */
#ifndef TINVESTD_API_PB_H
#define TINVESTD_API_PB_H

#include <stdint.h>

#include "api/call.h"
#include "api/contract.h"

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

/* The contract's `instrument_type` / `instrument_kind` text of an instrument kind ("share",
 * "bond", "etf", "futures", "currency", "option"). */
const char *api_instrument_type_name(instrument_kind kind);

#endif
