/* The embedded exchange: arrival queue (latency model), exchange-side checks, matching, and the
 * market maker. See exchange.h for the contract. */
#include "venue/exchange.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/bigmem.h"
#include "util/prng.h"

#define TRADE_RING 1024
#define MAP_EMPTY UINT64_MAX
#define BESTPRICE_PROTECTION_BP 30 /* best-price orders trade within 0.3% of the last price */

/* MM_REFRESH walks the market maker's reference and requotes; MM_REQUOTE only requotes. */
typedef enum { EV_ARRIVE, EV_MATCH, EV_CANCEL, EV_MM_REFRESH, EV_MM_REQUOTE } event_kind;

typedef struct pending_event {
    int64_t due_ns;
    uint64_t seq; /* ties broken by submission order, for determinism */
    uint8_t kind;
    uint32_t index; /* pool index (ARRIVE, MATCH, CANCEL) or instrument (MM_REFRESH, MM_REQUOTE) */
} pending_event;

/* Order pool slot state beyond the book fields.
 *
 * A slot stays taken while an event names it, even after its order has ended (`dead`): that is
 * what bounds the event heap, since a slot can then have at most one arrival or match and one
 * cancel pending, and a cancel can never meet a later order that reused the slot. */
typedef struct slot_state {
    bool in_use, in_book, dead;
    bool arriving;       /* an ARRIVE event names the slot */
    bool matching;       /* a MATCH event names the slot (fill delay) */
    bool cancel_pending; /* a CANCEL event names the slot */
    uint8_t type, tif;
    uint32_t fills, max_fills; /* trades made, and the most allowed (0 = no limit) */
} slot_state;

typedef struct mm_quote {
    uint32_t index;
    uint64_t exchange_id;
} mm_quote;

typedef struct exch_instrument {
    exch_instrument_setup setup;
    order_book book;
    int64_t limit_down_nano, limit_up_nano;
    int64_t last_price_nano, last_price_ns;
    exch_trade_print trades[TRADE_RING];
    uint32_t trade_head, trade_count;
    uint64_t trades_printed; /* every print since the exchange started, for observers */
    int64_t mm_reference_nano;
    mm_quote *mm_quotes;
    uint32_t mm_quote_count;
    bool mm_refresh_pending, mm_requote_pending; /* the instrument's one event of each kind */
} exch_instrument;

struct exchange {
    exch_config config;
    exch_instrument *instruments;
    book_order *pool;
    slot_state *state;
    uint32_t *free_list;
    uint32_t free_count;
    uint32_t *slot_of_ref; /* low 32 bits of client_ref -> pool index, BOOK_NONE when not live */
    pending_event *heap;
    uint32_t heap_count, heap_capacity;
    uint64_t next_seq, next_exchange_id, next_trade_id;
    uint64_t rng[4];
    int64_t now_ns; /* the latest time processed: the exchange's clock never goes backwards */
    bool mm_stopped;
};

/* slot_of_ref is reset with memset(0xFF), which must read back as BOOK_NONE. */
_Static_assert(BOOK_NONE == UINT32_MAX, "BOOK_NONE is all ones");
/* Order types and times in force are kept in uint8_t fields. */
_Static_assert(EXCH_BESTPRICE <= UINT8_MAX, "order type fits slot_state.type");
_Static_assert(EXCH_FILL_OR_KILL <= UINT8_MAX, "time in force fits slot_state.tif");
_Static_assert(BOOK_SELL <= UINT8_MAX, "side fits book_order.side");
/* slot_of_ref has max_client_ref + 1 entries, and max_client_ref may be UINT32_MAX. */
_Static_assert(SIZE_MAX > UINT32_MAX, "the reference index size fits size_t");

/* ---- client_ref -> pool index ------------------------------------------------------------ */

/* The broker's references carry its dense order slot in their low 32 bits, so a plain array
 * indexed by slot finds an order with one memory access, where a hash map would probe. The high
 * bits are a generation: an entry answers only for the full reference stored in the pool, so a
 * stale reference never reaches the newer order in the same slot. */
static uint32_t ref_slot(uint64_t client_ref) {
    return (uint32_t)client_ref;
}

static bool ref_slot_valid(const exchange *x, uint64_t client_ref) {
    uint32_t slot = ref_slot(client_ref);
    return slot != 0 && slot <= x->config.max_client_ref;
}

static uint32_t map_find(const exchange *x, uint64_t client_ref) {
    if (!ref_slot_valid(x, client_ref))
        return BOOK_NONE;
    uint32_t index = x->slot_of_ref[ref_slot(client_ref)];
    if (index == BOOK_NONE || x->pool[index].client_ref != client_ref)
        return BOOK_NONE;
    return index;
}

static void map_put(exchange *x, uint64_t client_ref, uint32_t index) {
    assert(ref_slot_valid(x, client_ref));
    /* The broker reuses a slot only after the exchange reported the previous order ended. */
    assert(x->slot_of_ref[ref_slot(client_ref)] == BOOK_NONE);
    x->slot_of_ref[ref_slot(client_ref)] = index;
}

/* Forgets order `index` (ended), unless its slot already names another order. */
static void map_erase(exchange *x, uint32_t index) {
    uint64_t client_ref = x->pool[index].client_ref;
    if (client_ref != 0 && map_find(x, client_ref) == index)
        x->slot_of_ref[ref_slot(client_ref)] = BOOK_NONE;
}

/* ---- Event heap (min by due time, then sequence) ----------------------------------------- */

static bool event_before(const pending_event *a, const pending_event *b) {
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

/* The heap is sized for every event that can be pending at once (see exchange_create), so a
 * push always has room. */
static void heap_push(exchange *x, pending_event ev) {
    assert(x->heap_count < x->heap_capacity);
    ev.seq = x->next_seq++;
    uint32_t i = x->heap_count++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!event_before(&ev, &x->heap[parent]))
            break;
        x->heap[i] = x->heap[parent];
        i = parent;
    }
    x->heap[i] = ev;
}

static pending_event heap_pop(exchange *x) {
    pending_event top = x->heap[0];
    pending_event last = x->heap[--x->heap_count];
    uint32_t i = 0;
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= x->heap_count)
            break;
        if (child + 1 < x->heap_count && event_before(&x->heap[child + 1], &x->heap[child]))
            child++;
        if (!event_before(&x->heap[child], &last))
            break;
        x->heap[i] = x->heap[child];
        i = child;
    }
    if (x->heap_count > 0)
        x->heap[i] = last;
    return top;
}

/* ---- Pool ---------------------------------------------------------------------------------- */

static uint32_t slot_take(exchange *x) {
    if (x->free_count == 0)
        return BOOK_NONE;
    uint32_t index = x->free_list[--x->free_count];
    x->state[index] = (slot_state){.in_use = true};
    return index;
}

static void slot_free(exchange *x, uint32_t index) {
    assert(x->state[index].in_use);
    x->state[index] = (slot_state){0};
    x->free_list[x->free_count++] = index;
}

/* Order `index` has ended (it is out of the book): its reference no longer finds it, and the slot
 * returns to the pool once no pending event names it. */
static void slot_end(exchange *x, uint32_t index) {
    slot_state *st = &x->state[index];
    assert(!st->dead);
    map_erase(x, index);
    st->dead = true;
    st->in_book = false;
    if (!st->arriving && !st->matching && !st->cancel_pending)
        slot_free(x, index);
}

/* An event naming dead slot `index` has been taken off the heap. */
static void slot_event_done(exchange *x, uint32_t index) {
    const slot_state *st = &x->state[index];
    if (st->dead && !st->arriving && !st->matching && !st->cancel_pending)
        slot_free(x, index);
}

static bool fill_limit_reached(const slot_state *st) {
    return st->max_fills != 0 && st->fills >= st->max_fills;
}

/* ---- Reports ------------------------------------------------------------------------------- */

/* Sends `r` about order `o`, filling in the order's identity. */
static void send_report(exchange *x, const book_order *o, exch_report r) {
    if (o->client_ref == 0)
        return; /* the market maker's own orders are not the broker's business */
    r.client_ref = o->client_ref;
    r.exchange_id = o->exchange_id;
    r.instrument = o->instrument;
    x->config.on_report(x->config.report_ctx, &r);
}

static void report(exchange *x, const book_order *o, exch_report_kind kind, int64_t qty,
                   int64_t price, uint64_t trade_id, int reason, int64_t now_ns) {
    send_report(x, o,
                (exch_report){.kind = kind,
                              .qty_lots = qty,
                              .price_nano = price,
                              .trade_id = trade_id,
                              .reason = reason,
                              .time_ns = now_ns});
}

static void report_trade(exchange *x, const book_order *o, int64_t qty, int64_t price,
                         uint64_t trade_id, bool aggressor, int64_t now_ns) {
    send_report(x, o,
                (exch_report){.kind = EXCH_REPORT_TRADE,
                              .qty_lots = qty,
                              .price_nano = price,
                              .trade_id = trade_id,
                              .aggressor = aggressor,
                              .time_ns = now_ns});
}

static void finish_unfilled(exchange *x, uint32_t index, int reason, int64_t now_ns) {
    book_order *o = &x->pool[index];
    if (o->qty_lots > 0)
        report(x, o, EXCH_REPORT_CANCELLED, o->qty_lots, 0, 0, reason, now_ns);
    slot_end(x, index);
}

/* ---- Prices -------------------------------------------------------------------------------- */

static int64_t round_to_tick(int64_t price, int64_t tick, bool up) {
    int64_t r = price % tick;
    if (r == 0)
        return price;
    return up ? price - r + tick : price - r;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* The worst price an incoming order may trade at. */
static int64_t limit_price_of(const exch_instrument *ins, const book_order *o, uint8_t type) {
    bool buy = o->side == BOOK_BUY;
    if (type == EXCH_LIMIT)
        return o->price_nano;
    if (type == EXCH_MARKET)
        return buy ? ins->limit_up_nano : ins->limit_down_nano;
    __int128 moved =
        (__int128)ins->last_price_nano * (10000 + (buy ? 1 : -1) * BESTPRICE_PROTECTION_BP) / 10000;
    int64_t protective = round_to_tick((int64_t)moved, ins->setup.tick_nano, buy);
    return clamp(protective, ins->limit_down_nano, ins->limit_up_nano);
}

/* ---- Matching ------------------------------------------------------------------------------ */

static void record_trade(exch_instrument *ins, int64_t price, int64_t qty, uint8_t side,
                         int64_t now_ns) {
    ins->last_price_nano = price;
    ins->last_price_ns = now_ns;
    uint32_t at = (ins->trade_head + ins->trade_count) % TRADE_RING;
    ins->trades[at] = (exch_trade_print){
        .price_nano = price, .qty_lots = qty, .time_ns = now_ns, .aggressor_side = side};
    if (ins->trade_count < TRADE_RING)
        ins->trade_count++;
    else
        ins->trade_head = (ins->trade_head + 1) % TRADE_RING;
    ins->trades_printed++;
}

/* Why fill-or-kill order `index` cannot fill whole at once against the book (0 when it can): too
 * little crossing quantity, or more trades than its fill limit leaves it. */
static int fill_or_kill_shortfall(const exchange *x, const exch_instrument *ins, uint32_t index,
                                  int64_t limit) {
    const book_order *o = &x->pool[index];
    const slot_state *st = &x->state[index];
    const book_half *opposite =
        order_book_half_const(&ins->book, o->side == BOOK_BUY ? BOOK_SELL : BOOK_BUY);
    int64_t available = 0;
    uint32_t trades = 0;
    uint32_t trades_left = fill_limit_reached(st) ? 0 : st->max_fills - st->fills;
    for (uint32_t l = 0; l < opposite->count && available < o->qty_lots; l++) {
        const book_level *level = &opposite->levels[l];
        if (!order_book_crosses((book_side)o->side, limit, level->price_nano))
            break;
        if (st->max_fills == 0) {
            available += level->total_lots;
            continue;
        }
        /* With a fill limit every resting order taken is one trade, so the count matters. */
        for (uint32_t r = level->head; r != BOOK_NONE && available < o->qty_lots;
             r = x->pool[r].next) {
            available += x->pool[r].qty_lots;
            if (++trades > trades_left)
                return EXCH_CANCEL_FILL_LIMIT;
        }
    }
    return available < o->qty_lots ? EXCH_CANCEL_UNFILLED_REST : 0;
}

static void mm_requote(exchange *x, uint32_t instrument, int64_t now_ns);

/* Trades incoming order `index` against the book. Returns the reason it stopped early
 * (0 when it ran out of crossing liquidity or filled) and whether market-maker quotes traded. */
static int sweep(exchange *x, uint32_t index, int64_t limit, int64_t now_ns, bool *mm_touched) {
    book_order *o = &x->pool[index];
    slot_state *st = &x->state[index];
    exch_instrument *ins = &x->instruments[o->instrument];
    book_half *opposite = order_book_half(&ins->book, o->side == BOOK_BUY ? BOOK_SELL : BOOK_BUY);
    while (o->qty_lots > 0 && !fill_limit_reached(st) && opposite->count > 0 &&
           order_book_crosses((book_side)o->side, limit, opposite->levels[0].price_nano)) {
        book_level *level = &opposite->levels[0];
        uint32_t resting_index = level->head;
        book_order *resting = &x->pool[resting_index];
        slot_state *resting_st = &x->state[resting_index];
        if (o->owner != 0 && resting->owner == o->owner)
            return EXCH_CANCEL_SELF_TRADE;
        int64_t qty = o->qty_lots < resting->qty_lots ? o->qty_lots : resting->qty_lots;
        int64_t price = resting->price_nano;
        uint64_t trade_id = x->next_trade_id++;
        o->qty_lots -= qty;
        resting->qty_lots -= qty;
        level->total_lots -= qty;
        ins->book.version++;
        st->fills++;
        resting_st->fills++;
        record_trade(ins, price, qty, o->side, now_ns);
        report_trade(x, o, qty, price, trade_id, true, now_ns);
        report_trade(x, resting, qty, price, trade_id, false, now_ns);
        if (resting->owner == 0)
            *mm_touched = true;
        if (resting->qty_lots == 0) {
            order_book_remove(&ins->book, x->pool, resting_index);
            slot_end(x, resting_index);
        } else if (fill_limit_reached(resting_st)) {
            /* Its last allowed trade: the rest leaves the book, reported after that trade. */
            order_book_remove(&ins->book, x->pool, resting_index);
            finish_unfilled(x, resting_index, EXCH_CANCEL_FILL_LIMIT, now_ns);
        }
    }
    return o->qty_lots > 0 && fill_limit_reached(st) ? EXCH_CANCEL_FILL_LIMIT : 0;
}

static void match(exchange *x, uint32_t index, int64_t now_ns) {
    book_order *o = &x->pool[index];
    slot_state *st = &x->state[index];
    exch_instrument *ins = &x->instruments[o->instrument];
    int64_t limit = limit_price_of(ins, o, st->type);
    bool immediate = st->type != EXCH_LIMIT || st->tif != EXCH_DAY;
    if (st->type == EXCH_LIMIT && st->tif == EXCH_FILL_OR_KILL) {
        int shortfall = fill_or_kill_shortfall(x, ins, index, limit);
        if (shortfall != 0) {
            finish_unfilled(x, index, shortfall, now_ns);
            return;
        }
    }
    int64_t wanted = o->qty_lots;
    bool mm_touched = false;
    int stop = sweep(x, index, limit, now_ns, &mm_touched);
    uint32_t instrument = o->instrument;
    if (stop != 0) {
        finish_unfilled(x, index, stop, now_ns);
    } else if (o->qty_lots == 0) {
        slot_end(x, index);
    } else if (immediate) {
        int reason = st->type == EXCH_MARKET && o->qty_lots == wanted ? EXCH_CANCEL_NO_LIQUIDITY
                                                                      : EXCH_CANCEL_UNFILLED_REST;
        finish_unfilled(x, index, reason, now_ns);
    } else if (order_book_insert(&ins->book, x->pool, index)) {
        st->in_book = true;
    } else {
        finish_unfilled(x, index, EXCH_CANCEL_UNFILLED_REST, now_ns);
    }
    if (mm_touched && x->config.market_maker)
        mm_requote(x, instrument, now_ns);
}

/* ---- Arrival, cancel ----------------------------------------------------------------------- */

/* The exchange's clock: a call earlier than a time already processed acts at the later time. */
static int64_t clock_at(exchange *x, int64_t now_ns) {
    if (now_ns > x->now_ns)
        x->now_ns = now_ns;
    return x->now_ns;
}

static void reject(exchange *x, uint32_t index, int reason, int64_t now_ns) {
    report(x, &x->pool[index], EXCH_REPORT_REJECTED, 0, 0, 0, reason, now_ns);
    slot_end(x, index);
}

static void arrive(exchange *x, uint32_t index, int64_t now_ns) {
    book_order *o = &x->pool[index];
    const exch_instrument *ins = &x->instruments[o->instrument];
    if (!ins->setup.trading) {
        reject(x, index, EXCH_REJECT_NOT_TRADING, now_ns);
        return;
    }
    if (x->state[index].type == EXCH_LIMIT &&
        (o->price_nano < ins->limit_down_nano || o->price_nano > ins->limit_up_nano)) {
        reject(x, index, EXCH_REJECT_PRICE_OUTSIDE_LIMITS, now_ns);
        return;
    }
    if (x->config.reject_probability_ppm > 0 &&
        prng_below(x->rng, 1000000) < x->config.reject_probability_ppm) {
        reject(x, index, EXCH_REJECT_INJECTED, now_ns);
        return;
    }
    o->exchange_id = x->next_exchange_id++;
    report(x, o, EXCH_REPORT_ACK, 0, 0, 0, 0, now_ns);
    if (x->config.fill_delay_ns == 0) {
        match(x, index, now_ns);
        return;
    }
    x->state[index].matching = true;
    heap_push(x, (pending_event){
                     .due_ns = now_ns + x->config.fill_delay_ns, .kind = EV_MATCH, .index = index});
}

/* Ends live order `index` at the client's request. */
static void cancel_order(exchange *x, uint32_t index, int64_t now_ns) {
    slot_state *st = &x->state[index];
    book_order *o = &x->pool[index];
    assert(!st->dead);
    /* A cancel has the order's own delay and a later sequence number, so the order arrived. */
    assert(!st->arriving);
    if (st->in_book) {
        order_book_remove(&x->instruments[o->instrument].book, x->pool, index);
        finish_unfilled(x, index, EXCH_CANCEL_BY_CLIENT, now_ns);
        return;
    }
    /* Acknowledged but not yet matched (fill delay): it ends here; the slot is freed when its
     * match event comes due. */
    assert(st->matching);
    finish_unfilled(x, index, EXCH_CANCEL_BY_CLIENT, now_ns);
}

void exchange_submit(exchange *x, const exch_new_order *order, int64_t now_ns) {
    assert(order->instrument < x->config.instrument_count);
    now_ns = clock_at(x, now_ns);
    uint32_t index = slot_take(x);
    if (index == BOOK_NONE) {
        book_order rejected = {.client_ref = order->client_ref, .instrument = order->instrument};
        report(x, &rejected, EXCH_REPORT_REJECTED, 0, 0, 0, EXCH_REJECT_CAPACITY, now_ns);
        return;
    }
    x->pool[index] = (book_order){.client_ref = order->client_ref,
                                  .owner = order->owner,
                                  .instrument = order->instrument,
                                  .price_nano = order->price_nano,
                                  .qty_lots = order->qty_lots,
                                  .side = (uint8_t)order->side,
                                  .prev = BOOK_NONE,
                                  .next = BOOK_NONE};
    slot_state *st = &x->state[index];
    st->type = (uint8_t)order->type;
    st->tif = (uint8_t)order->tif;
    st->fills = order->fills_done;
    st->max_fills = order->max_fills;
    if (order->client_ref != 0)
        map_put(x, order->client_ref, index);
    if (x->config.ack_delay_ns == 0) {
        /* No latency model: the order arrives now (the common case, and the fast path). */
        arrive(x, index, now_ns);
        return;
    }
    st->arriving = true;
    heap_push(x, (pending_event){
                     .due_ns = now_ns + x->config.ack_delay_ns, .kind = EV_ARRIVE, .index = index});
}

void exchange_cancel(exchange *x, uint64_t client_ref, int64_t now_ns) {
    now_ns = clock_at(x, now_ns);
    uint32_t index = map_find(x, client_ref);
    if (index == BOOK_NONE)
        return; /* already ended (the broker sees that from the earlier reports), or never held */
    if (x->config.ack_delay_ns == 0) {
        cancel_order(x, index, now_ns);
        return;
    }
    /* The pending cancel already ends the order; a second one would only grow the queue. */
    if (x->state[index].cancel_pending)
        return;
    /* Same delay as a new order, and a later sequence number: a cancel never overtakes the order
     * it cancels. The event names the slot, which stays taken until the cancel comes due. */
    x->state[index].cancel_pending = true;
    heap_push(x, (pending_event){
                     .due_ns = now_ns + x->config.ack_delay_ns, .kind = EV_CANCEL, .index = index});
}

/* ---- Market maker -------------------------------------------------------------------------- */

static void mm_place(exchange *x, uint32_t instrument, book_side side, int64_t price,
                     int64_t now_ns) {
    exch_instrument *ins = &x->instruments[instrument];
    if (price < ins->limit_down_nano || price > ins->limit_up_nano || price <= 0)
        return;
    uint32_t index = slot_take(x);
    if (index == BOOK_NONE)
        return;
    x->pool[index] = (book_order){.exchange_id = x->next_exchange_id++,
                                  .instrument = instrument,
                                  .price_nano = price,
                                  .qty_lots = x->config.mm_lots_per_level,
                                  .side = (uint8_t)side,
                                  .prev = BOOK_NONE,
                                  .next = BOOK_NONE};
    x->state[index].type = EXCH_LIMIT;
    x->state[index].tif = EXCH_DAY;
    mm_quote quote = {.index = index, .exchange_id = x->pool[index].exchange_id};
    match(x, index, now_ns);
    if (x->state[index].in_use && x->state[index].in_book &&
        x->pool[index].exchange_id == quote.exchange_id)
        ins->mm_quotes[ins->mm_quote_count++] = quote;
}

/* Takes the maker's quotes that still rest out of the book. They are the exchange's own orders:
 * nobody is told. */
static void mm_withdraw(exchange *x, exch_instrument *ins) {
    for (uint32_t i = 0; i < ins->mm_quote_count; i++) {
        mm_quote q = ins->mm_quotes[i];
        if (x->state[q.index].in_use && x->state[q.index].in_book &&
            x->pool[q.index].exchange_id == q.exchange_id && x->pool[q.index].owner == 0) {
            order_book_remove(&ins->book, x->pool, q.index);
            slot_end(x, q.index);
        }
    }
    ins->mm_quote_count = 0;
}

/* A quote's price when it lies inside the instrument's limits, else 0 (not placed). The prices
 * are worked out in 128 bits: a coarse tick times the spread, or a reference a damaged journal
 * recorded, may take them past int64, and such a quote is outside the limits anyway. */
static int64_t quote_price(const exch_instrument *ins, __int128 price) {
    return price >= ins->limit_down_nano && price <= ins->limit_up_nano ? (int64_t)price : 0;
}

static void mm_requote(exchange *x, uint32_t instrument, int64_t now_ns) {
    exch_instrument *ins = &x->instruments[instrument];
    mm_withdraw(x, ins);
    int64_t tick = ins->setup.tick_nano;
    for (int32_t level = 0; level < x->config.mm_levels; level++) {
        __int128 offset = (__int128)(x->config.mm_spread_ticks + level) * tick;
        mm_place(x, instrument, BOOK_BUY, quote_price(ins, ins->mm_reference_nano - offset),
                 now_ns);
        mm_place(x, instrument, BOOK_SELL, quote_price(ins, ins->mm_reference_nano + offset),
                 now_ns);
    }
}

/* clamp() in 128 bits, the result saturated to int64. */
static int64_t clamp_wide(__int128 v, __int128 lo, __int128 hi) {
    __int128 r = v < lo ? lo : v > hi ? hi : v;
    return r > INT64_MAX ? INT64_MAX : r < INT64_MIN ? INT64_MIN : (int64_t)r;
}

static void mm_refresh(exchange *x, uint32_t instrument, int64_t now_ns) {
    if (x->mm_stopped)
        return;
    exch_instrument *ins = &x->instruments[instrument];
    int64_t tick = ins->setup.tick_nano;
    int64_t walk = x->config.mm_walk_ticks;
    /* A halted market does not move: the walk waits for trading to resume. */
    if (walk > 0 && ins->setup.trading) {
        int64_t step = (int64_t)prng_below(x->rng, (uint64_t)(2 * walk + 1)) - walk;
        __int128 margin = (__int128)(x->config.mm_spread_ticks + x->config.mm_levels) * tick;
        ins->mm_reference_nano =
            clamp_wide((__int128)ins->mm_reference_nano + (__int128)step * tick,
                       ins->limit_down_nano + margin, ins->limit_up_nano - margin);
        exch_report moved = {.kind = EXCH_REPORT_MARKET_MAKER_MOVED,
                             .instrument = instrument,
                             .price_nano = ins->mm_reference_nano,
                             .time_ns = now_ns};
        x->config.on_report(x->config.report_ctx, &moved);
    }
    if (ins->setup.trading)
        mm_requote(x, instrument, now_ns);
    assert(!ins->mm_refresh_pending);
    ins->mm_refresh_pending = true;
    heap_push(x, (pending_event){.due_ns = now_ns + x->config.mm_refresh_ns,
                                 .kind = EV_MM_REFRESH,
                                 .index = instrument});
}

/* ---- Time ---------------------------------------------------------------------------------- */

void exchange_advance(exchange *x, int64_t now_ns) {
    int64_t until_ns = now_ns > x->now_ns ? now_ns : x->now_ns;
    while (x->heap_count > 0 && x->heap[0].due_ns <= until_ns) {
        pending_event ev = heap_pop(x);
        /* An event queued by a call made at an earlier time than one already processed acts at
         * the later time, like the call itself. */
        int64_t at_ns = clock_at(x, ev.due_ns);
        switch ((event_kind)ev.kind) {
        case EV_ARRIVE:
            assert(x->state[ev.index].arriving);
            x->state[ev.index].arriving = false;
            /* A cancel never comes due before the order it cancels, so the order is live. */
            assert(!x->state[ev.index].dead);
            arrive(x, ev.index, at_ns);
            break;
        case EV_MATCH:
            assert(x->state[ev.index].matching);
            x->state[ev.index].matching = false;
            if (x->state[ev.index].dead)
                slot_event_done(x, ev.index);
            else
                match(x, ev.index, at_ns);
            break;
        case EV_CANCEL:
            assert(x->state[ev.index].cancel_pending);
            x->state[ev.index].cancel_pending = false;
            if (x->state[ev.index].dead)
                slot_event_done(x, ev.index);
            else
                cancel_order(x, ev.index, at_ns);
            break;
        case EV_MM_REFRESH:
            x->instruments[ev.index].mm_refresh_pending = false;
            mm_refresh(x, ev.index, at_ns);
            break;
        case EV_MM_REQUOTE:
            x->instruments[ev.index].mm_requote_pending = false;
            if (x->instruments[ev.index].setup.trading)
                mm_requote(x, ev.index, at_ns);
            break;
        }
    }
    clock_at(x, until_ns);
}

/* The band of setup_instrument around `ref`. */
static void set_limits(exch_instrument *ins, int64_t ref) {
    int64_t tick = ins->setup.tick_nano;
    int64_t band = (int64_t)((__int128)ref * ins->setup.price_band_bp / 10000);
    ins->limit_down_nano = round_to_tick(ref - band, tick, true);
    ins->limit_up_nano = round_to_tick(ref + band, tick, false);
}

uint64_t exchange_market_print(exchange *x, uint32_t instrument, int64_t price_nano, int64_t lots,
                               bool buy, int64_t now_ns) {
    assert(instrument < x->config.instrument_count && price_nano > 0 && lots >= 0);
    now_ns = clock_at(x, now_ns);
    exch_instrument *ins = &x->instruments[instrument];
    uint64_t trade_id = x->next_trade_id++;
    set_limits(ins, price_nano);
    if (lots > 0) {
        record_trade(ins, price_nano, lots, buy ? BOOK_BUY : BOOK_SELL, now_ns);
    } else {
        ins->last_price_nano = price_nano;
        ins->last_price_ns = now_ns;
    }
    ins->mm_reference_nano = price_nano;
    if (x->config.market_maker && !x->mm_stopped && ins->setup.trading)
        mm_requote(x, instrument, now_ns);
    return trade_id;
}

void exchange_stop_market_maker(exchange *x) {
    x->mm_stopped = true;
}

int64_t exchange_next_due_ns(const exchange *x) {
    return x->heap_count > 0 ? x->heap[0].due_ns : INT64_MAX;
}

/* ---- Setup --------------------------------------------------------------------------------- */

static bool setup_instrument(exchange *x, uint32_t i, const exch_instrument_setup *setup,
                             int64_t start_ns) {
    exch_instrument *ins = &x->instruments[i];
    ins->setup = *setup;
    if (order_book_init(&ins->book, x->config.levels_per_side) != 0)
        return false;
    int64_t ref = setup->reference_price_nano;
    set_limits(ins, ref);
    ins->last_price_nano = ref;
    ins->last_price_ns = start_ns;
    ins->mm_reference_nano = ref;
    ins->mm_quotes = calloc((size_t)(2 * (x->config.mm_levels > 0 ? x->config.mm_levels : 1)),
                            sizeof *ins->mm_quotes);
    return ins->mm_quotes != NULL;
}

exchange *exchange_create(const exch_config *config, const exch_instrument_setup *instruments,
                          int64_t start_ns) {
    exchange *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    x->config = *config;
    uint32_t capacity = config->max_orders;
    x->instruments =
        calloc(config->instrument_count ? config->instrument_count : 1, sizeof *x->instruments);
    x->pool = bigmem_alloc(capacity, sizeof *x->pool);
    x->state = bigmem_alloc(capacity, sizeof *x->state);
    x->free_list = bigmem_alloc(capacity, sizeof *x->free_list);
    x->slot_of_ref = bigmem_alloc((size_t)config->max_client_ref + 1, sizeof *x->slot_of_ref);
    /* Every event that can be pending at once: per pool slot one arrival or match and one cancel,
     * per instrument one market-maker refresh and one requote. Pool indexes must stay below
     * BOOK_NONE and heap positions fit 32 bits. */
    uint64_t heap_capacity = 2 * (uint64_t)capacity + 2 * (uint64_t)config->instrument_count;
    if (capacity >= BOOK_NONE || heap_capacity > UINT32_MAX) {
        exchange_destroy(x);
        return NULL;
    }
    x->heap_capacity = (uint32_t)heap_capacity;
    x->heap = bigmem_alloc(x->heap_capacity, sizeof *x->heap);
    bool ok = x->instruments && x->pool && x->state && x->free_list && x->slot_of_ref && x->heap;
    for (uint32_t i = 0; ok && i < config->instrument_count; i++)
        ok = setup_instrument(x, i, &instruments[i], start_ns);
    if (!ok) {
        exchange_destroy(x);
        return NULL;
    }
    memset(x->slot_of_ref, 0xFF, ((size_t)config->max_client_ref + 1) * sizeof *x->slot_of_ref);
    for (uint32_t i = 0; i < capacity; i++)
        x->free_list[i] = capacity - 1 - i;
    x->free_count = capacity;
    x->next_exchange_id = config->first_exchange_id;
    x->next_trade_id = 1;
    x->now_ns = start_ns;
    prng_seed(x->rng, config->seed);
    if (config->market_maker)
        for (uint32_t i = 0; i < config->instrument_count; i++) {
            if (!config->mm_follows_prints)
                mm_refresh(x, i, start_ns);
            else if (x->instruments[i].setup.trading)
                mm_requote(x, i, start_ns);
        }
    return x;
}

void exchange_destroy(exchange *x) {
    if (x == NULL)
        return;
    for (uint32_t i = 0; x->instruments != NULL && i < x->config.instrument_count; i++) {
        order_book_deinit(&x->instruments[i].book);
        free(x->instruments[i].mm_quotes);
    }
    free(x->instruments);
    bigmem_free(x->pool, x->config.max_orders, sizeof *x->pool);
    bigmem_free(x->state, x->config.max_orders, sizeof *x->state);
    bigmem_free(x->free_list, x->config.max_orders, sizeof *x->free_list);
    bigmem_free(x->slot_of_ref, (size_t)x->config.max_client_ref + 1, sizeof *x->slot_of_ref);
    bigmem_free(x->heap, x->heap_capacity, sizeof *x->heap);
    free(x);
}

bool exchange_restore(exchange *x, const exch_new_order *order, uint64_t exchange_id) {
    assert(order->instrument < x->config.instrument_count);
    /* The broker keeps the number even for an order refused here, so it is never handed out
     * again. */
    if (exchange_id >= x->next_exchange_id)
        x->next_exchange_id = exchange_id + 1;
    if (order->qty_lots <= 0)
        return false;
    if (order->max_fills != 0 && order->fills_done >= order->max_fills)
        return false; /* its last allowed trade was made: the exchange would have cancelled it */
    uint32_t index = slot_take(x);
    if (index == BOOK_NONE)
        return false;
    x->pool[index] = (book_order){.exchange_id = exchange_id,
                                  .client_ref = order->client_ref,
                                  .owner = order->owner,
                                  .instrument = order->instrument,
                                  .price_nano = order->price_nano,
                                  .qty_lots = order->qty_lots,
                                  .side = (uint8_t)order->side,
                                  .prev = BOOK_NONE,
                                  .next = BOOK_NONE};
    slot_state *st = &x->state[index];
    st->type = EXCH_LIMIT;
    st->tif = EXCH_DAY;
    st->fills = order->fills_done;
    st->max_fills = order->max_fills;
    /* Into the book first: when that fails the slot goes back untouched and no reference entry
     * was made, so nothing of the order remains. */
    if (!order_book_insert(&x->instruments[order->instrument].book, x->pool, index)) {
        slot_free(x, index);
        return false;
    }
    st->in_book = true;
    if (order->client_ref != 0)
        map_put(x, order->client_ref, index);
    return true;
}

void exchange_random_state(const exchange *x, uint64_t out[4]) {
    memcpy(out, x->rng, sizeof x->rng);
}

/* Takes the market maker's quotes out of the book at once and schedules quotes around the
 * recorded references for the first advance, where they trade like any requote if a restored
 * order crosses them. */
void exchange_restore_market_maker(exchange *x, const int64_t *reference_nano,
                                   const uint64_t random_state[4], int64_t now_ns) {
    if (!x->config.market_maker)
        return;
    now_ns = clock_at(x, now_ns);
    if (random_state[0] | random_state[1] | random_state[2] | random_state[3])
        memcpy(x->rng, random_state, sizeof x->rng);
    for (uint32_t i = 0; i < x->config.instrument_count; i++) {
        exch_instrument *ins = &x->instruments[i];
        mm_withdraw(x, ins);
        if (reference_nano[i] != 0)
            ins->mm_reference_nano = reference_nano[i];
        /* One pending requote quotes around the latest reference: a second would only repeat. */
        if (ins->mm_requote_pending)
            continue;
        ins->mm_requote_pending = true;
        heap_push(x, (pending_event){.due_ns = now_ns, .kind = EV_MM_REQUOTE, .index = i});
    }
}

void exchange_restore_trade(exchange *x, uint32_t instrument, const exch_trade_print *print) {
    record_trade(&x->instruments[instrument], print->price_nano, print->qty_lots,
                 print->aggressor_side, print->time_ns);
}

void exchange_reserve_numbers(exchange *x, uint64_t last_exchange_id, uint64_t last_trade_id) {
    if (last_exchange_id >= x->next_exchange_id)
        x->next_exchange_id = last_exchange_id + 1;
    if (last_trade_id >= x->next_trade_id)
        x->next_trade_id = last_trade_id + 1;
}

/* ---- Queries ------------------------------------------------------------------------------- */

const order_book *exchange_book(const exchange *x, uint32_t instrument) {
    return &x->instruments[instrument].book;
}

void exchange_limits(const exchange *x, uint32_t instrument, int64_t *limit_down_nano,
                     int64_t *limit_up_nano) {
    *limit_down_nano = x->instruments[instrument].limit_down_nano;
    *limit_up_nano = x->instruments[instrument].limit_up_nano;
}

int64_t exchange_last_price(const exchange *x, uint32_t instrument, int64_t *time_ns) {
    if (time_ns != NULL)
        *time_ns = x->instruments[instrument].last_price_ns;
    return x->instruments[instrument].last_price_nano;
}

bool exchange_trading(const exchange *x, uint32_t instrument) {
    return x->instruments[instrument].setup.trading;
}

void exchange_set_trading(exchange *x, uint32_t instrument, bool trading) {
    exch_instrument *ins = &x->instruments[instrument];
    if (ins->setup.trading == trading)
        return;
    ins->setup.trading = trading;
    if (!x->config.market_maker)
        return;
    /* Halted: the market maker's quotes leave the book at once (clients' resting orders stay,
     * as on an exchange that suspends trading). Resumed: it quotes again at the next advance. */
    if (!trading) {
        mm_withdraw(x, ins);
    } else if (!x->mm_stopped && !ins->mm_requote_pending) {
        ins->mm_requote_pending = true;
        heap_push(x, (pending_event){.due_ns = x->now_ns, .kind = EV_MM_REQUOTE, .index = instrument});
    }
}

void exchange_set_faults(exchange *x, const exch_faults *faults) {
    assert(faults->ack_delay_ns >= 0 && faults->fill_delay_ns >= 0 &&
           faults->reject_probability_ppm <= 1000000);
    x->config.ack_delay_ns = faults->ack_delay_ns;
    x->config.fill_delay_ns = faults->fill_delay_ns;
    x->config.reject_probability_ppm = faults->reject_probability_ppm;
}

exch_faults exchange_faults(const exchange *x) {
    return (exch_faults){.ack_delay_ns = x->config.ack_delay_ns,
                         .fill_delay_ns = x->config.fill_delay_ns,
                         .reject_probability_ppm = x->config.reject_probability_ppm};
}

/* The move is reported like a step of the walk (the broker records it: a restart quotes around
 * it again), then the maker quotes around it at once; a requote may trade with resting orders. */
static void mm_moved(exchange *x, uint32_t instrument, int64_t now_ns) {
    exch_instrument *ins = &x->instruments[instrument];
    exch_report moved = {.kind = EXCH_REPORT_MARKET_MAKER_MOVED,
                         .instrument = instrument,
                         .price_nano = ins->mm_reference_nano,
                         .time_ns = now_ns};
    x->config.on_report(x->config.report_ctx, &moved);
    if (!x->mm_stopped && ins->setup.trading)
        mm_requote(x, instrument, now_ns);
}

void exchange_move_market_maker(exchange *x, uint32_t instrument, int64_t reference_nano,
                                int64_t now_ns) {
    assert(instrument < x->config.instrument_count && reference_nano > 0 && x->config.market_maker);
    now_ns = clock_at(x, now_ns);
    x->instruments[instrument].mm_reference_nano = reference_nano;
    mm_moved(x, instrument, now_ns);
}

int64_t exchange_walk_market_maker(exchange *x, uint32_t instrument, uint32_t steps,
                                   int64_t now_ns) {
    assert(instrument < x->config.instrument_count && x->config.market_maker);
    now_ns = clock_at(x, now_ns);
    exch_instrument *ins = &x->instruments[instrument];
    int64_t tick = ins->setup.tick_nano;
    int64_t walk = x->config.mm_walk_ticks > 0 ? x->config.mm_walk_ticks : 1;
    __int128 margin = (__int128)(x->config.mm_spread_ticks + x->config.mm_levels) * tick;
    for (uint32_t i = 0; i < steps; i++) {
        int64_t step = (int64_t)prng_below(x->rng, (uint64_t)(2 * walk + 1)) - walk;
        ins->mm_reference_nano =
            clamp_wide((__int128)ins->mm_reference_nano + (__int128)step * tick,
                       ins->limit_down_nano + margin, ins->limit_up_nano - margin);
    }
    mm_moved(x, instrument, now_ns);
    return ins->mm_reference_nano;
}

int64_t exchange_market_maker_reference(const exchange *x, uint32_t instrument) {
    return x->instruments[instrument].mm_reference_nano;
}

uint32_t exchange_trades(const exchange *x, uint32_t instrument, int64_t from_ns, int64_t to_ns,
                         exch_trade_print *out, uint32_t max) {
    const exch_instrument *ins = &x->instruments[instrument];
    /* The newest `max` of the window: find where they start, walking back from the newest. */
    uint32_t start = ins->trade_count, taken = 0;
    while (start > 0 && taken < max) {
        const exch_trade_print *t = &ins->trades[(ins->trade_head + start - 1) % TRADE_RING];
        taken += t->time_ns >= from_ns && t->time_ns <= to_ns;
        start--;
    }
    uint32_t n = 0;
    for (uint32_t i = start; i < ins->trade_count && n < max; i++) {
        const exch_trade_print *t = &ins->trades[(ins->trade_head + i) % TRADE_RING];
        if (t->time_ns >= from_ns && t->time_ns <= to_ns)
            out[n++] = *t;
    }
    return n;
}

uint64_t exchange_book_version(const exchange *x, uint32_t instrument) {
    return x->instruments[instrument].book.version;
}

uint32_t exchange_trades_after(const exchange *x, uint32_t instrument, uint64_t seen,
                               exch_trade_print *out, uint32_t max, uint64_t *printed) {
    const exch_instrument *ins = &x->instruments[instrument];
    *printed = ins->trades_printed;
    assert(seen <= ins->trades_printed);
    uint64_t fresh = ins->trades_printed - seen;
    uint32_t n = fresh < ins->trade_count ? (uint32_t)fresh : ins->trade_count;
    if (n > max)
        n = max;
    /* The newest n prints, oldest first. */
    for (uint32_t i = 0; i < n; i++)
        out[i] = ins->trades[(ins->trade_head + ins->trade_count - n + i) % TRADE_RING];
    return n;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

uint64_t exchange_state_hash(const exchange *x) {
    uint64_t h = mix(mix(0, x->next_exchange_id), x->next_trade_id);
    for (uint32_t i = 0; i < x->config.instrument_count; i++) {
        const exch_instrument *ins = &x->instruments[i];
        h = mix(h, (uint64_t)ins->last_price_nano);
        for (int s = BOOK_BUY; s <= BOOK_SELL; s++) {
            const book_half *half = order_book_half_const(&ins->book, (book_side)s);
            for (uint32_t l = 0; l < half->count; l++) {
                h = mix(mix(h, (uint64_t)half->levels[l].price_nano),
                        (uint64_t)half->levels[l].total_lots);
                for (uint32_t o = half->levels[l].head; o != BOOK_NONE; o = x->pool[o].next)
                    h = mix(h, x->pool[o].exchange_id);
            }
        }
    }
    return h;
}

/* ---- Invariants ---------------------------------------------------------------------------- */

/* Without assertions there is nothing to check, and the counters below would be unused. */
#ifndef NDEBUG

/* One side of a book: levels strictly best first, each a well-linked FIFO of live resting orders
 * whose quantities add up to the level's total. Returns the number of orders. */
static uint32_t check_half(const exchange *x, uint32_t instrument, book_side side) {
    const book_half *half = order_book_half_const(&x->instruments[instrument].book, side);
    assert(half->count <= half->capacity);
    uint32_t orders = 0;
    for (uint32_t l = 0; l < half->count; l++) {
        const book_level *level = &half->levels[l];
        if (l > 0) {
            int64_t better_nano = half->levels[l - 1].price_nano;
            assert(side == BOOK_BUY ? better_nano > level->price_nano
                                    : better_nano < level->price_nano);
        }
        assert(level->head != BOOK_NONE);
        int64_t lots = 0;
        uint32_t prev = BOOK_NONE;
        for (uint32_t i = level->head; i != BOOK_NONE; i = x->pool[i].next) {
            assert(i < x->config.max_orders);
            const book_order *o = &x->pool[i];
            const slot_state *st = &x->state[i];
            assert(st->in_use);
            assert(st->in_book);
            assert(!st->dead);
            assert(o->prev == prev);
            assert(o->price_nano == level->price_nano);
            assert(o->side == side);
            assert(o->instrument == instrument);
            assert(o->qty_lots > 0);
            /* An order that made its last allowed trade leaves the book with that trade. */
            assert(!fill_limit_reached(st));
            lots += o->qty_lots;
            prev = i;
            orders++;
        }
        assert(level->tail == prev);
        assert(level->total_lots == lots);
    }
    return orders;
}

void exchange_check_invariants(const exchange *x) {
    uint32_t capacity = x->config.max_orders;
    uint32_t in_book_orders = 0;
    for (uint32_t i = 0; i < x->config.instrument_count; i++) {
        in_book_orders += check_half(x, i, BOOK_BUY);
        in_book_orders += check_half(x, i, BOOK_SELL);
    }
    uint32_t in_use = 0, in_book = 0, queued = 0, cancels = 0;
    for (uint32_t i = 0; i < capacity; i++) {
        const slot_state *st = &x->state[i];
        const book_order *o = &x->pool[i];
        if (!st->in_use) {
            assert(!st->in_book);
            assert(!st->arriving);
            assert(!st->matching);
            assert(!st->cancel_pending);
            continue;
        }
        in_use++;
        in_book += st->in_book;
        queued += st->arriving + st->matching;
        cancels += st->cancel_pending;
        if (st->arriving)
            assert(!st->matching);
        if (st->in_book) {
            assert(!st->arriving);
            assert(!st->matching);
        }
        /* An ended order keeps its slot only while an event still names it. */
        if (st->dead) {
            assert(!st->in_book);
            assert(st->arriving || st->matching || st->cancel_pending);
        }
        if (o->client_ref == 0)
            continue;
        bool mapped =
            ref_slot_valid(x, o->client_ref) && x->slot_of_ref[ref_slot(o->client_ref)] == i;
        assert(mapped == !st->dead);
    }
    /* Every in_book slot was reached through a book, and every slot is taken or free. */
    assert(in_book == in_book_orders);
    assert(x->free_count + in_use == capacity);
    for (uint32_t f = 0; f < x->free_count; f++) {
        assert(x->free_list[f] < capacity);
        assert(!x->state[x->free_list[f]].in_use);
    }
    for (uint64_t slot = 1; slot <= x->config.max_client_ref; slot++) {
        uint32_t index = x->slot_of_ref[slot];
        if (index == BOOK_NONE)
            continue;
        assert(index < capacity);
        assert(x->state[index].in_use);
        assert(!x->state[index].dead);
        assert(ref_slot(x->pool[index].client_ref) == slot);
    }
    assert(x->slot_of_ref[0] == BOOK_NONE);
    /* The heap: ordered, within its bound, and one event per flag. */
    assert(x->heap_count <= x->heap_capacity);
    uint32_t heap_queued = 0, heap_cancels = 0, refreshes = 0, requotes = 0;
    for (uint32_t h = 0; h < x->heap_count; h++) {
        const pending_event *ev = &x->heap[h];
        if (h > 0)
            assert(!event_before(ev, &x->heap[(h - 1) / 2]));
        switch ((event_kind)ev->kind) {
        case EV_ARRIVE:
            assert(x->state[ev->index].arriving);
            heap_queued++;
            break;
        case EV_MATCH:
            assert(x->state[ev->index].matching);
            heap_queued++;
            break;
        case EV_CANCEL:
            assert(x->state[ev->index].cancel_pending);
            heap_cancels++;
            break;
        case EV_MM_REFRESH:
            assert(x->instruments[ev->index].mm_refresh_pending);
            refreshes++;
            break;
        case EV_MM_REQUOTE:
            assert(x->instruments[ev->index].mm_requote_pending);
            requotes++;
            break;
        }
    }
    assert(heap_queued == queued);
    assert(heap_cancels == cancels);
    uint32_t refresh_flags = 0, requote_flags = 0;
    for (uint32_t i = 0; i < x->config.instrument_count; i++) {
        refresh_flags += x->instruments[i].mm_refresh_pending;
        requote_flags += x->instruments[i].mm_requote_pending;
    }
    assert(refreshes == refresh_flags);
    assert(requotes == requote_flags);
}
#else
void exchange_check_invariants(const exchange *x) {
    (void)x;
}
#endif
