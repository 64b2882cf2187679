#include "core/order_index.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/bigmem.h"

/* An entry holds its slot + 1, so that 0 marks a free entry: a new index is the zero pages it was
 * mapped with, nothing is written until an entry is, and a large index costs nothing at start
 * until it fills. */
#define FREE 0u
#define STORED(slot) ((slot) + 1u)
#define SLOT_OF(entry) ((entry)->value - 1u)

/* Eight bytes at a time through a multiply-xorshift mix, then a final avalanche: keys are short
 * (up to 48 bytes), so this is a handful of multiplications per lookup. */
static uint64_t hash_bytes(const void *key, size_t len) {
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof w);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    h = (h ^ tail) * 0x94d049bb133111ebULL;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

int order_index_init(order_index *ix, size_t max_items, order_index_match_fn match,
                     const void *owner) {
    size_t capacity = 16;
    while (capacity * 7 / 10 < max_items)
        capacity *= 2;
    ix->entries = bigmem_alloc(capacity, sizeof *ix->entries); /* zeroed: every entry free */
    if (ix->entries == NULL)
        return -ENOMEM;
    ix->mask = capacity - 1;
    assert(ix->mask <= UINT32_MAX); /* the home slot is recomputed from the 32-bit tag */
    ix->used = 0;
    ix->max_used = max_items;
    ix->match = match;
    ix->owner = owner;
    return 0;
}

void order_index_clear(order_index *ix) {
    if (ix->used > 0)
        memset(ix->entries, 0, (ix->mask + 1) * sizeof *ix->entries);
    ix->used = 0;
}

void order_index_deinit(order_index *ix) {
    if (ix->entries != NULL)
        bigmem_free(ix->entries, ix->mask + 1, sizeof *ix->entries);
    ix->entries = NULL;
}

uint64_t order_index_hash(const void *key, size_t key_len) {
    return hash_bytes(key, key_len);
}

void order_index_prefetch(const order_index *ix, uint64_t hash) {
    __builtin_prefetch(&ix->entries[hash & ix->mask], 1);
}

bool order_index_insert_new(order_index *ix, uint64_t hash, uint32_t value) {
    assert(value != ORDER_INDEX_EMPTY);
    if (ix->used >= ix->max_used)
        return false;
    uint32_t tag = (uint32_t)hash;
    for (size_t i = hash & ix->mask;; i = (i + 1) & ix->mask) {
        order_index_entry *e = &ix->entries[i];
        if (e->value == FREE) {
            *e = (order_index_entry){.value = STORED(value), .tag = tag};
            ix->used++;
            return true;
        }
    }
}

bool order_index_distinct(const order_index *ix, order_index_same_fn same) {
    size_t capacity = ix->mask + 1;
    /* Start after a free slot, so that no run is entered in its middle (the table is never
     * full: at most 70 %). */
    size_t start = 0;
    while (start < capacity && ix->entries[start].value != FREE)
        start++;
    for (size_t n = 0; n < capacity; n++) {
        size_t i = (start + n) & ix->mask;
        const order_index_entry *e = &ix->entries[i];
        if (e->value == FREE)
            continue;
        for (size_t j = (i + 1) & ix->mask; ix->entries[j].value != FREE; j = (j + 1) & ix->mask)
            if (ix->entries[j].tag == e->tag &&
                same(ix->owner, e->value - 1u, ix->entries[j].value - 1u))
                return false;
    }
    return true;
}

uint32_t order_index_find(const order_index *ix, const void *key, size_t key_len) {
    uint64_t h = hash_bytes(key, key_len);
    uint32_t tag = (uint32_t)h;
    for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
        const order_index_entry *e = &ix->entries[i];
        if (e->value == FREE)
            return ORDER_INDEX_EMPTY;
        if (e->tag == tag && ix->match(ix->owner, SLOT_OF(e), key, key_len))
            return SLOT_OF(e);
    }
}

bool order_index_insert(order_index *ix, const void *key, size_t key_len, uint32_t value) {
    assert(value != ORDER_INDEX_EMPTY);
    if (ix->used >= ix->max_used)
        return false;
    uint64_t h = hash_bytes(key, key_len);
    uint32_t tag = (uint32_t)h;
    for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
        order_index_entry *e = &ix->entries[i];
        if (e->value == FREE) {
            *e = (order_index_entry){.value = STORED(value), .tag = tag};
            ix->used++;
            return true;
        }
        if (e->tag == tag && ix->match(ix->owner, SLOT_OF(e), key, key_len)) {
            e->value = STORED(value);
            return true;
        }
    }
}

/* Backward-shift deletion: the entries after the erased one move back over the gap when their
 * home slot allows it, so lookups never need tombstones and the table never silts up however
 * many orders come and go. An entry's home is its tag's low bits (see order_index_insert). */
bool order_index_erase(order_index *ix, const void *key, size_t key_len, uint32_t value) {
    uint64_t h = hash_bytes(key, key_len);
    uint32_t tag = (uint32_t)h;
    size_t i = h & ix->mask;
    for (;; i = (i + 1) & ix->mask) {
        order_index_entry *e = &ix->entries[i];
        if (e->value == FREE)
            return false;
        if (e->value == STORED(value) && e->tag == tag)
            break;
    }
    for (size_t j = (i + 1) & ix->mask;; j = (j + 1) & ix->mask) {
        order_index_entry *next = &ix->entries[j];
        if (next->value == FREE)
            break;
        size_t home = next->tag & ix->mask;
        /* `next` may move into the gap at i unless its home lies cyclically in (i, j]. */
        bool home_after_gap = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (home_after_gap)
            continue;
        ix->entries[i] = *next;
        i = j;
    }
    ix->entries[i] = (order_index_entry){.value = FREE, .tag = 0};
    ix->used--;
    return true;
}
