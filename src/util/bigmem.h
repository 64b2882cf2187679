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
/* Has the kernel back elements `from` .. `to` - 1 of what bigmem_alloc(count, size) returned
 * with zeroed writable memory now, as a first write would, without changing a byte: a thread
 * with time to spare takes the page faults (the kernel zeroing each page) that would otherwise
 * stall the thread about to fill those elements. Safe while another thread writes the array.
 * Advice only: nothing happens for an array from calloc or on a kernel without
 * MADV_POPULATE_WRITE (Linux 5.14). */
void bigmem_prefault(void *p, size_t count, size_t size, size_t from, size_t to);
/* Frees what bigmem_alloc(count, size) returned (NULL is fine). */
void bigmem_free(void *p, size_t count, size_t size);

#endif
