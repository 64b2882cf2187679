/* The risk rates of margin trading as the instrument messages and GetRiskRates show them
 * (docs/PROTOCOL.md, "Risk rates"). They come from the instruments' configured dlong, dshort,
 * dlong_min and dshort_min (core/refdata.h), fractions in nano: 0 means the instrument has no rate
 * on that side. The standard risk level (KSUR) takes dlong/dshort, the high one (KPUR)
 * dlong_min/dshort_min; the deprecated coefficients klong/kshort are 2 for the standard level
 * (1 would be the high one) on a side that has a rate, 0 on one that has none. Replies that do not
 * name an account (every instrument message) show the standard level as the client's. */
#ifndef TINVESTD_API_RISK_RATES_H
#define TINVESTD_API_RISK_RATES_H

#include <stdint.h>

/* GetRiskRates' risk_level_code of each level. */
#define API_RISK_LEVEL_STANDARD "KSUR"
#define API_RISK_LEVEL_HIGH "KPUR"

/* klong or kshort of the standard level, in nano, for a side whose rate is `rate_nano`. */
#define API_RISK_COEFFICIENT_NANO(rate_nano) ((rate_nano) > 0 ? INT64_C(2000000000) : INT64_C(0))

/* The rate fields every instrument message has by name (Share, Bond, Etf, Future, Currency,
 * Option, Instrument). klong and kshort are deprecated in the contract but still filled: bots
 * written against older releases read them. */
#define API_FILL_RISK_RATES(call, out, ins)                                                        \
    do {                                                                                           \
        _Pragma("GCC diagnostic push");                                                            \
        _Pragma("GCC diagnostic ignored \"-Wdeprecated-declarations\"");                           \
        (out)->klong = pb_quotation((call), API_RISK_COEFFICIENT_NANO((ins)->dlong_nano));         \
        (out)->kshort = pb_quotation((call), API_RISK_COEFFICIENT_NANO((ins)->dshort_nano));       \
        _Pragma("GCC diagnostic pop");                                                             \
        (out)->dlong = pb_quotation((call), (ins)->dlong_nano);                                    \
        (out)->dshort = pb_quotation((call), (ins)->dshort_nano);                                  \
        (out)->dlong_min = pb_quotation((call), (ins)->dlong_min_nano);                            \
        (out)->dshort_min = pb_quotation((call), (ins)->dshort_min_nano);                          \
        (out)->dlong_client = pb_quotation((call), (ins)->dlong_nano);                             \
        (out)->dshort_client = pb_quotation((call), (ins)->dshort_nano);                           \
    } while (0)

#endif
