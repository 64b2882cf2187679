/* One instrument's order book: price levels on each side, orders in time priority at each level.
 *
 * DESIGN: levels are kept in an array sorted best-first (a few dozen levels is the common case, so
 * a memmove on insert beats a tree); each level holds a FIFO list of orders. Orders live in a pool
 * owned by the exchange and are linked by index, so matching never allocates. Prices and
 * quantities are int64 (nano and lots). */
#ifndef TINVESTD_VENUE_ORDER_BOOK_H
#define TINVESTD_VENUE_ORDER_BOOK_H

#include <stdbool.h>
#include <stdint.h>

#define BOOK_NONE UINT32_MAX

typedef enum { BOOK_BUY = 1, BOOK_SELL = 2 } book_side;

typedef struct book_order {
    uint64_t exchange_id;
    uint64_t client_ref; /* the broker's reference; 0 for the market maker */
    uint32_t owner;      /* account + 1; 0 for the market maker */
    uint32_t instrument;
    int64_t price_nano;
    int64_t qty_lots; /* remaining */
    uint8_t side;
    uint32_t prev, next; /* neighbours at the same level, or free-list link */
} book_order;

typedef struct book_level {
    int64_t price_nano;
    int64_t total_lots;
    uint32_t head, tail;
} book_level;

typedef struct book_half {
    book_level *levels; /* best first */
    uint32_t count, capacity;
} book_half;

typedef struct order_book {
    book_half bids, asks;
    /* Counts every change to the levels (an order in or out, a fill), so that an observer can
     * tell a changed book from an unchanged one without comparing levels. Not state: a restarted
     * exchange counts from zero again. */
    uint64_t version;
} order_book;

int order_book_init(order_book *b, uint32_t level_capacity);
void order_book_deinit(order_book *b);

book_half *order_book_half(order_book *b, book_side side);
const book_half *order_book_half_const(const order_book *b, book_side side);

/* Whether `price` of an incoming order on `side` crosses the level's price. */
bool order_book_crosses(book_side side, int64_t price_nano, int64_t level_price_nano);

/* Appends order `index` (already filled in) at its price; false when the side has no room for
 * a new level. */
bool order_book_insert(order_book *b, book_order *pool, uint32_t index);
/* Removes order `index` from its level (dropping an emptied level). */
void order_book_remove(order_book *b, book_order *pool, uint32_t index);

#endif
