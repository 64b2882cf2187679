/* Fixed-capacity open-addressing index from a short byte key to an order slot.
 *
 * DESIGN: the core looks orders up by the client's key (scoped by account), by our internal id
 * and by the exchange order number. The keys already live in the orders themselves, so an entry
 * holds only the slot and 32 bits of the key's hash (8 bytes, not a copy of the key): a probe
 * compares hashes and asks the owner to confirm a candidate. Capacity is fixed at init (a power
 * of two at most 70% full). An order keeps its ids for as long as it stays in the history; when
 * it leaves, its entries are erased by backward shift (no tombstones). */
#ifndef TINVESTD_CORE_ORDER_INDEX_H
#define TINVESTD_CORE_ORDER_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORDER_INDEX_EMPTY UINT32_MAX

/* Whether slot `value` is the one `key` names. */
typedef bool (*order_index_match_fn)(const void *owner, uint32_t value, const void *key,
                                     size_t key_len);

typedef struct order_index_entry {
    uint32_t value; /* the slot + 1; 0: a free entry */
    uint32_t tag;
} order_index_entry;

typedef struct order_index {
    order_index_entry *entries;
    size_t mask;
    size_t used, max_used;
    order_index_match_fn match;
    const void *owner;
} order_index;

int order_index_init(order_index *ix, size_t max_items, order_index_match_fn match,
                     const void *owner);
void order_index_deinit(order_index *ix);
/* Empties the index (keeps its capacity). Values are slots: anything but ORDER_INDEX_EMPTY. */
void order_index_clear(order_index *ix);

/* ORDER_INDEX_EMPTY when absent. */
uint32_t order_index_find(const order_index *ix, const void *key, size_t key_len);
/* Returns false when the index is full (callers size it for the pool). */
bool order_index_insert(order_index *ix, const void *key, size_t key_len, uint32_t value);

/* Removes the entry for `key` that holds `value` (another order may hold the same key later);
 * false when there is none. */
bool order_index_erase(order_index *ix, const void *key, size_t key_len, uint32_t value);

/* Bulk building after a snapshot load, where every key is known to be new: the caller hashes
 * keys a little ahead and prefetches their slots, so that the cache misses of many inserts
 * overlap instead of following one another. */
uint64_t order_index_hash(const void *key, size_t key_len);
void order_index_prefetch(const order_index *ix, uint64_t hash);
bool order_index_insert_new(order_index *ix, uint64_t hash, uint32_t value);

/* Whether two entries name the same key; the owner knows which key each entry holds. */
typedef bool (*order_index_same_fn)(const void *owner, uint32_t a, uint32_t b);

/* After a bulk build, whether every key is in the index once, so that a lookup finds the one
 * value inserted for it: equal keys have equal tags and the same home, so they sit in one run of
 * occupied slots, and only entries with equal tags there are compared (`same`). One pass over
 * the table in memory order, without hashing. */
bool order_index_distinct(const order_index *ix, order_index_same_fn same);

#endif
