#include "refbook/refbook.h"

refbook_page_result refbook_page_of(uint32_t total, int32_t limit, int32_t page_number,
                                    uint32_t default_limit, refbook_page *out) {
    *out = (refbook_page){0};
    if (limit < 0 || page_number < 0)
        return REFBOOK_PAGE_NEGATIVE;
    uint64_t size = limit > 0 ? (uint64_t)limit : default_limit > 0 ? default_limit : total;
    /* Both factors are below 2^32, so the product fits in 64 bits. */
    uint64_t first = size * (uint64_t)page_number;
    if (page_number > 0 && first >= total)
        return REFBOOK_PAGE_BEYOND;
    if (first > total)
        first = total;
    uint64_t count = total - first < size ? total - first : size;
    out->first = (uint32_t)first;
    out->count = (uint32_t)count;
    out->limit = size > INT32_MAX ? INT32_MAX : (int32_t)size;
    out->page_number = page_number;
    return REFBOOK_PAGE_OK;
}
