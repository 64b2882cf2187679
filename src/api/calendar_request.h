/* The checks of the payment calendar's requests (InstrumentsService.GetBondCoupons,
 * GetBondEvents, GetAccruedInterests, GetDividends; src/api/calendar_service.c): pure functions
 * of the request and the reference data, like the rest of api/request.h. */
#ifndef TINVESTD_API_CALENDAR_REQUEST_H
#define TINVESTD_API_CALENDAR_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "api/contract.h"
#include "core/refdata.h"

/* The days one GetAccruedInterests may ask for (each is an entry of the reply): a longer period
 * is refused with 30084. */
#define API_ACCRUED_INTERESTS_MAX_DAYS 3660

/* What a calendar request asks for, checked. */
typedef struct api_calendar_query {
    const instrument *instrument;
    /* The period, inclusive, in nanoseconds: INT64_MIN / INT64_MAX for a bound not given. */
    int64_t from_ns, to_ns;
    int32_t event_type;  /* GetBondEvents: an EventType, 0 for every type */
    int64_t first_day_s; /* GetAccruedInterests: the UTC day of `from` */
    int64_t day_count;   /* GetAccruedInterests: 1 .. API_ACCRUED_INTERESTS_MAX_DAYS */
} api_calendar_query;

/* GetBondCoupons, in this order: 30237 when neither `instrument_id` nor the deprecated `figi` is
 * given, 50002 when no instrument has it, 30048 when it is not a bond; 30009 / 30061 for a
 * `from` that is not a Timestamp / outside 1970 .. 2099, 30010 / 30062 for such a `to`, 30012
 * when `to` is before `from`. Both bounds are optional (filtering by coupon date). */
int api_request_bond_coupons(const refdata *rd, const PB(GetBondCouponsRequest) * in,
                             api_calendar_query *out);
/* GetBondEvents: the same checks (filtering by event date), then 30102 with `message` for a
 * `type` the contract does not define. */
int api_request_bond_events(const refdata *rd, const PB(GetBondEventsRequest) * in,
                            api_calendar_query *out, const char **message);
/* GetDividends: the same checks with 30054 for an instrument that is neither a share nor an ETF
 * (filtering by record date). */
int api_request_dividends(const refdata *rd, const PB(GetDividendsRequest) * in,
                          api_calendar_query *out);
/* GetAccruedInterests: the instrument as GetBondCoupons; then `from` and `to` are required (30001
 * / 30004) and checked as there (30009 / 30061, 30010 / 30062, 30012), and more than
 * API_ACCRUED_INTERESTS_MAX_DAYS days from the day of `from` to the day of `to` is 30084. */
int api_request_accrued_interests(const refdata *rd, const PB(GetAccruedInterestsRequest) * in,
                                  api_calendar_query *out);

#endif
