/* Indicatives: indices and commodities the broker shows but nobody trades (InstrumentsService.
 * Indicatives), as `indicatives.json` of the reference directory gives them. Immutable after
 * start; strings belong to the configuration's refdata. */
#ifndef TINVESTD_REFBOOK_INDICATIVES_H
#define TINVESTD_REFBOOK_INDICATIVES_H

#include <stdbool.h>
#include <stdint.h>

#define REFBOOK_MAX_INDICATIVES 512
/* The contract's InstrumentType values an indicative may have. */
#define INDICATIVE_KIND_INDEX 9
#define INDICATIVE_KIND_COMMODITY 10

typedef struct indicative {
    const char *figi, *ticker, *class_code, *currency, *name, *exchange, *uid;
    int32_t instrument_kind; /* INDICATIVE_KIND_* */
    bool buy_available, sell_available;
} indicative;

typedef struct indicative_table {
    uint32_t count;
    indicative items[REFBOOK_MAX_INDICATIVES];
} indicative_table;

/* The indicative holding `uid` or `figi` (either may be NULL), or NULL. */
const indicative *indicatives_find(const indicative_table *t, const char *uid, const char *figi);

#endif
