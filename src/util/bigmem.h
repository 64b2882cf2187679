/* Large, long-lived arrays: order pools, order indexes, the exchange's pools.
 *
 * DESIGN: such arrays are mapped directly and advised to use transparent huge pages (the kernel's
 * "madvise" mode), so that filling millions of slots costs one page fault per 2 MiB instead of one
 * per 4 KiB, and random index probes miss the TLB far less; on a virtual machine a page fault is
 * expensive. Memory comes zeroed, like calloc. Arrays under 1 MiB, and every array in a
 * sanitizer build (so that AddressSanitizer keeps checking them), come from calloc. */
#ifndef TINVESTD_UTIL_BIGMEM_H
#define TINVESTD_UTIL_BIGMEM_H

#include <stddef.h>

/* `count` zeroed elements of `size` bytes; NULL on overflow or when memory is short. */
void *bigmem_alloc(size_t count, size_t size);
/* Frees what bigmem_alloc(count, size) returned (NULL is fine). */
void bigmem_free(void *p, size_t count, size_t size);

#endif
