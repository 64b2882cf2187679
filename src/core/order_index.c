#include "core/order_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const void *key, size_t len) {
    /* FNV-1a with a final avalanche: short keys, good spread, no allocation. */
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

int order_index_init(order_index *ix, size_t max_items) {
    size_t capacity = 16;
    while (capacity * 7 / 10 < max_items)
        capacity *= 2;
    ix->entries = malloc(capacity * sizeof *ix->entries);
    if (ix->entries == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < capacity; i++)
        ix->entries[i].value = ORDER_INDEX_EMPTY;
    ix->mask = capacity - 1;
    ix->used = 0;
    ix->max_used = max_items;
    return 0;
}

void order_index_deinit(order_index *ix) {
    free(ix->entries);
    ix->entries = NULL;
}

static bool entry_is(const order_index_entry *e, const void *key, size_t key_len) {
    return e->key_len == key_len && memcmp(e->key, key, key_len) == 0;
}

uint32_t order_index_find(const order_index *ix, const void *key, size_t key_len) {
    if (key_len > ORDER_INDEX_KEY_MAX)
        return ORDER_INDEX_EMPTY;
    for (size_t i = hash_bytes(key, key_len) & ix->mask;; i = (i + 1) & ix->mask) {
        const order_index_entry *e = &ix->entries[i];
        if (e->value == ORDER_INDEX_EMPTY)
            return ORDER_INDEX_EMPTY;
        if (entry_is(e, key, key_len))
            return e->value;
    }
}

bool order_index_insert(order_index *ix, const void *key, size_t key_len, uint32_t value) {
    if (key_len > ORDER_INDEX_KEY_MAX || ix->used >= ix->max_used)
        return false;
    for (size_t i = hash_bytes(key, key_len) & ix->mask;; i = (i + 1) & ix->mask) {
        order_index_entry *e = &ix->entries[i];
        if (e->value == ORDER_INDEX_EMPTY) {
            e->value = value;
            e->key_len = (uint8_t)key_len;
            memcpy(e->key, key, key_len);
            ix->used++;
            return true;
        }
        if (entry_is(e, key, key_len)) {
            e->value = value;
            return true;
        }
    }
}
