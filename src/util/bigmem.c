#include "util/bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define SMALL_BYTES (1u << 20)
#define HUGE_PAGE_BYTES (2u << 20)
#define PAGE_BYTES 4096u

#if defined(__SANITIZE_ADDRESS__)
#define BIGMEM_USE_CALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIGMEM_USE_CALLOC 1
#endif
#endif

#ifndef BIGMEM_USE_CALLOC
static size_t mapped_bytes(size_t bytes) {
    return (bytes + PAGE_BYTES - 1) & ~(size_t)(PAGE_BYTES - 1);
}
#endif

void *bigmem_alloc(size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
#ifdef BIGMEM_USE_CALLOC
    return calloc(bytes ? bytes : 1, 1);
#else
    if (bytes < SMALL_BYTES)
        return calloc(bytes ? bytes : 1, 1);
    size_t length = mapped_bytes(bytes);
    /* Over-map by a huge page and trim, so that the array starts on a huge-page boundary. */
    uint8_t *raw = mmap(NULL, length + HUGE_PAGE_BYTES, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uint8_t *start =
        (uint8_t *)(((uintptr_t)raw + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
    if (start > raw)
        munmap(raw, (size_t)(start - raw));
    size_t tail = (size_t)(raw + length + HUGE_PAGE_BYTES - (start + length));
    if (tail > 0)
        munmap(start + length, tail);
    madvise(start, length, MADV_HUGEPAGE); /* advice only: without it, plain pages */
    return start;
#endif
}

void bigmem_prefault(void *p, size_t count, size_t size, size_t from, size_t to) {
#ifdef BIGMEM_USE_CALLOC
    (void)p;
    (void)count;
    (void)size;
    (void)from;
    (void)to;
#else
    size_t bytes = count * size;
    if (p == NULL || bytes < SMALL_BYTES || to > count || from >= to)
        return;
    size_t start = from * size & ~(size_t)(PAGE_BYTES - 1);
    size_t end = mapped_bytes(to * size);
    madvise((uint8_t *)p + start, end - start, MADV_POPULATE_WRITE); /* advice only */
#endif
}

void bigmem_free(void *p, size_t count, size_t size) {
    if (p == NULL)
        return;
#ifdef BIGMEM_USE_CALLOC
    (void)count;
    (void)size;
    free(p);
#else
    size_t bytes = count * size;
    if (bytes < SMALL_BYTES)
        free(p);
    else
        munmap(p, mapped_bytes(bytes));
#endif
}
