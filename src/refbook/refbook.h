/* The reference data beyond the instruments (docs/REFERENCE-DATA.md), as config/ loads it:
 * assets, brands and countries; analytics; signals. Pure data and lookups, no I/O; immutable
 * once loaded, so the transport threads read it without locks. */
#ifndef TINVESTD_REFBOOK_REFBOOK_H
#define TINVESTD_REFBOOK_REFBOOK_H

#include <stdint.h>

#include "refbook/analytics.h"
#include "refbook/assets.h"
#include "refbook/signals.h"

/* A page of a list of `total` entries as the contract's Page asks for it: entries [first, first
 * + count). `limit` 0 means `default_limit` (0: the whole list). */
typedef enum {
    REFBOOK_PAGE_OK = 0,
    REFBOOK_PAGE_NEGATIVE, /* a negative limit or page number (30107) */
    REFBOOK_PAGE_BEYOND,   /* a page past the end of a non-empty list, or past page 0 of an empty
                              one (30108 for brands, 30226 for the others) */
} refbook_page_result;

typedef struct refbook_page {
    uint32_t first, count;
    int32_t limit, page_number; /* as the reply's PageResponse states them */
} refbook_page;

refbook_page_result refbook_page_of(uint32_t total, int32_t limit, int32_t page_number,
                                    uint32_t default_limit, refbook_page *out);

#endif
