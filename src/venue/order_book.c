#include "venue/order_book.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int order_book_init(order_book *b, uint32_t level_capacity) {
    b->bids = (book_half){.levels = calloc(level_capacity, sizeof(book_level)),
                          .capacity = level_capacity};
    b->asks = (book_half){.levels = calloc(level_capacity, sizeof(book_level)),
                          .capacity = level_capacity};
    if (b->bids.levels == NULL || b->asks.levels == NULL) {
        order_book_deinit(b);
        return -ENOMEM;
    }
    return 0;
}

void order_book_deinit(order_book *b) {
    free(b->bids.levels);
    free(b->asks.levels);
    b->bids.levels = b->asks.levels = NULL;
}

book_half *order_book_half(order_book *b, book_side side) {
    return side == BOOK_BUY ? &b->bids : &b->asks;
}

const book_half *order_book_half_const(const order_book *b, book_side side) {
    return side == BOOK_BUY ? &b->bids : &b->asks;
}

bool order_book_crosses(book_side side, int64_t price_nano, int64_t level_price_nano) {
    return side == BOOK_BUY ? price_nano >= level_price_nano : price_nano <= level_price_nano;
}

/* Position of `price` among the levels of a side: the index of an equal level, or where a new
 * one belongs. Bids are sorted high to low, asks low to high. */
static uint32_t level_position(const book_half *h, book_side side, int64_t price, bool *found) {
    uint32_t lo = 0, hi = h->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t p = h->levels[mid].price_nano;
        if (p == price) {
            *found = true;
            return mid;
        }
        bool before = side == BOOK_BUY ? p > price : p < price;
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

bool order_book_insert(order_book *b, book_order *pool, uint32_t index) {
    book_order *o = &pool[index];
    book_half *h = order_book_half(b, (book_side)o->side);
    bool found;
    uint32_t at = level_position(h, (book_side)o->side, o->price_nano, &found);
    if (!found) {
        if (h->count == h->capacity)
            return false;
        memmove(&h->levels[at + 1], &h->levels[at], (h->count - at) * sizeof *h->levels);
        h->levels[at] =
            (book_level){.price_nano = o->price_nano, .head = BOOK_NONE, .tail = BOOK_NONE};
        h->count++;
    }
    book_level *level = &h->levels[at];
    o->prev = level->tail;
    o->next = BOOK_NONE;
    if (level->tail == BOOK_NONE)
        level->head = index;
    else
        pool[level->tail].next = index;
    level->tail = index;
    level->total_lots += o->qty_lots;
    b->version++;
    return true;
}

void order_book_remove(order_book *b, book_order *pool, uint32_t index) {
    book_order *o = &pool[index];
    book_half *h = order_book_half(b, (book_side)o->side);
    bool found;
    uint32_t at = level_position(h, (book_side)o->side, o->price_nano, &found);
    assert(found);
    book_level *level = &h->levels[at];
    if (o->prev == BOOK_NONE)
        level->head = o->next;
    else
        pool[o->prev].next = o->next;
    if (o->next == BOOK_NONE)
        level->tail = o->prev;
    else
        pool[o->next].prev = o->prev;
    level->total_lots -= o->qty_lots;
    b->version++;
    if (level->head == BOOK_NONE) {
        memmove(&h->levels[at], &h->levels[at + 1], (h->count - at - 1) * sizeof *h->levels);
        h->count--;
    }
}
