/* The lifecycle of the core's records: order and trade slots taken and freed, the account lists,
 * the FIFO of finished orders and their retirement, and the queue of requests for the exchange.
 *
 * DESIGN: every record the core keeps is bounded by a named limit and reused. An order slot is
 * taken by CORE_EVENT_ORDER_ACCEPTED (the event names the slot, so replay takes the same one),
 * joins its account's list, enters the FIFO of finished orders when it ends, and is freed with
 * its trades and index entries by CORE_EVENT_HISTORY_RETIRED once the retention has passed.
 * Free slots are a stack with each slot's position kept, so replay can take any named slot in
 * O(1). Trade records are a plain stack: which record a trade lands in is invisible outside the
 * core. */
#include "core/history.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/uuid.h"

/* ---- Order slots ---------------------------------------------------------------------------- */

/* Slots at and above the high-water mark have never been used: they are free without being on
 * the stack, so a fresh core touches no memory for slots it has not reached (the pools are
 * zeroed pages until then). The stack holds the slots retirement gave back; each stacked slot
 * knows its place (free_order_pos, 1-based: 0 means not on the stack) so replay can take any
 * named one in O(1). */

void history_init_free(core *c) {
    c->pools.free_order_count = 0;
    c->pools.free_trade_count = 0;
}

uint32_t history_peek_free_order(const core *c) {
    const core_pools *p = &c->pools;
    if (p->free_order_count > 0)
        return c->free_orders[p->free_order_count - 1];
    return p->order_high < c->config.max_orders ? p->order_high : CORE_NO_ORDER;
}

bool history_order_slot_free(const core *c, uint32_t slot) {
    if (slot >= c->config.max_orders)
        return false;
    return slot == c->pools.order_high ||
           (slot < c->pools.order_high && c->free_order_pos[slot] != 0);
}

static void push_free_order(core *c, uint32_t slot) {
    core_pools *p = &c->pools;
    c->free_orders[p->free_order_count] = slot;
    c->free_order_pos[slot] = ++p->free_order_count;
}

void history_take_order_slot(core *c, uint32_t slot) {
    core_pools *p = &c->pools;
    assert(history_order_slot_free(c, slot));
    if (slot == p->order_high) {
        p->order_high++;
    } else {
        uint32_t pos = c->free_order_pos[slot] - 1;
        uint32_t top = c->free_orders[p->free_order_count - 1];
        c->free_orders[pos] = top;
        c->free_order_pos[top] = pos + 1;
        p->free_order_count--;
        c->free_order_pos[slot] = 0;
    }
    p->orders_in_use++;
}

static void release_order_slot(core *c, uint32_t slot) {
    assert(c->free_order_pos[slot] == 0);
    push_free_order(c, slot);
    c->pools.orders_in_use--;
}

/* ---- Trade records -------------------------------------------------------------------------- */

/* A trade record is in use while it has lots (every fill has some); zeroed memory is free. */
static bool trade_free(const core_trade *t) {
    return t->lots == 0;
}

uint32_t history_take_trade(core *c) {
    core_pools *p = &c->pools;
    /* Acceptance reserved a record for every fill an order can make (trades_reserved). */
    uint32_t index;
    if (p->free_trade_count > 0) {
        index = c->free_trades[--p->free_trade_count];
    } else {
        assert(p->trade_high < c->config.max_trades);
        index = p->trade_high++;
    }
    assert(trade_free(&c->trades[index]));
    p->trades_in_use++;
    return index;
}

static void release_trades_of(core *c, core_order *o) {
    core_pools *p = &c->pools;
    for (uint32_t t = o->first_trade; t != CORE_NO_ORDER;) {
        core_trade *trade = &c->trades[t];
        uint32_t next = trade->next;
        assert(trade->order == o->index);
        memset(trade, 0, sizeof *trade);
        c->free_trades[p->free_trade_count++] = t;
        p->trades_in_use--;
        t = next;
    }
    o->first_trade = o->last_trade = CORE_NO_ORDER;
}

bool history_trade_in_use(const core_trade *t) {
    return !trade_free(t);
}

/* ---- Account lists -------------------------------------------------------------------------- */

/* Appends `o` to a doubly linked list threaded through the orders by the given fields. */
#define LIST_APPEND(c, o, first, last, prev, next)                                                 \
    do {                                                                                           \
        uint32_t list_a_ = (o)->account;                                                           \
        (o)->prev = (last)[list_a_];                                                               \
        (o)->next = CORE_NO_ORDER;                                                                 \
        if ((last)[list_a_] == CORE_NO_ORDER)                                                      \
            (first)[list_a_] = (o)->index;                                                         \
        else                                                                                       \
            (c)->orders[(last)[list_a_]].next = (o)->index;                                        \
        (last)[list_a_] = (o)->index;                                                              \
    } while (0)

#define LIST_REMOVE(c, o, first, last, prev, next)                                                 \
    do {                                                                                           \
        uint32_t list_a_ = (o)->account;                                                           \
        if ((o)->prev == CORE_NO_ORDER)                                                            \
            (first)[list_a_] = (o)->next;                                                          \
        else                                                                                       \
            (c)->orders[(o)->prev].next = (o)->next;                                               \
        if ((o)->next == CORE_NO_ORDER)                                                            \
            (last)[list_a_] = (o)->prev;                                                           \
        else                                                                                       \
            (c)->orders[(o)->next].prev = (o)->prev;                                               \
        (o)->prev = (o)->next = CORE_NO_ORDER;                                                     \
    } while (0)

void history_link_account(core *c, core_order *o) {
    LIST_APPEND(c, o, c->account_first, c->account_last, account_prev, account_next);
    if (!order_status_is_final(o->status))
        LIST_APPEND(c, o, c->active_first, c->active_last, active_prev, active_next);
    c->account_orders[o->account]++;
}

static void unlink_account(core *c, core_order *o) {
    LIST_REMOVE(c, o, c->account_first, c->account_last, account_prev, account_next);
    assert(c->account_orders[o->account] > 0);
    c->account_orders[o->account]--;
}

/* ---- Finished orders and retirement --------------------------------------------------------- */

void history_order_finished(core *c, core_order *o) {
    core_pools *p = &c->pools;
    LIST_REMOVE(c, o, c->active_first, c->active_last, active_prev, active_next);
    assert(p->finished_count < c->config.max_orders);
    c->finished[(p->finished_head + p->finished_count) % c->config.max_orders] = o->index;
    p->finished_count++;
    /* Trade records held for fills that will not come go back to the pool. */
    assert(p->trades_reserved >= o->trades_reserved);
    p->trades_reserved -= o->trades_reserved;
    o->trades_reserved = 0;
}

uint32_t history_expired_count(const core *c, int64_t now_ns) {
    const core_pools *p = &c->pools;
    uint32_t n = 0;
    while (n < p->finished_count && n < CORE_RETIRE_BATCH_MAX) {
        const core_order *o =
            &c->orders[c->finished[(p->finished_head + n) % c->config.max_orders]];
        if (o->completion_ns > now_ns - c->config.order_retention_ns)
            break;
        n++;
    }
    return n;
}

static void erase_ids(core *c, const core_order *o) {
    if (c->indexes_deferred)
        return; /* rebuilt from the orders that stay */
    char bytes[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t len = history_key_bytes(o->account, o->key, bytes);
    order_index_erase(&c->by_key, bytes, len, o->index);
    order_index_erase(&c->by_order_id, o->intent_id, strlen(o->intent_id), o->index);
    if (o->exchange_order_id != 0)
        order_index_erase(&c->by_order_id, o->exchange_id_text, strlen(o->exchange_id_text),
                          o->index);
}

void history_retire(core *c, uint32_t count, int64_t now_ns) {
    core_pools *p = &c->pools;
    assert(count <= p->finished_count);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t slot = c->finished[p->finished_head];
        p->finished_head = (p->finished_head + 1) % c->config.max_orders;
        p->finished_count--;
        core_order *o = &c->orders[slot];
        assert(order_status_is_final(o->status));
        assert(o->completion_ns <= now_ns - c->config.order_retention_ns);
        assert(o->replaced_by == CORE_NO_ORDER || !c->orders[o->replaced_by].awaiting_replaced);
        erase_ids(c, o);
        release_trades_of(c, o);
        unlink_account(c, o);
        /* A replacement that outlives the order it replaced stops naming it. */
        if (o->replaced_by != CORE_NO_ORDER && c->orders[o->replaced_by].replaces_order == slot)
            c->orders[o->replaced_by].replaces_order = CORE_NO_ORDER;
        if (o->replaces_order != CORE_NO_ORDER && c->orders[o->replaces_order].replaced_by == slot)
            c->orders[o->replaces_order].replaced_by = CORE_NO_ORDER;
        memset(o, 0, sizeof *o);
        o->index = slot;
        release_order_slot(c, slot);
    }
}

/* A UUID is the same UUID in either letter case (RFC 4122 compares them case-insensitively), so
 * a UUID-shaped key is indexed in lower case and a retry that changes the case finds its order.
 * Any other key (PostOrder takes any string up to 36 characters) stays exact. The order itself
 * keeps the key as the client spelled it, which is what replies echo. */
/* Whether any of the `len` bytes is 'A' .. 'F': eight bytes at a time, each byte's high bit set
 * when 0x40 < byte < 0x47 and the byte is below 0x80 (no carry crosses a byte). A key is hashed
 * on every lookup, and all of them when the indexes are rebuilt after a replay. */
static bool has_upper_hex(const char *s, size_t len) {
    const uint64_t ones = 0x0101010101010101ULL, low7 = 0x7F * ones, high = 0x80 * ones;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, sizeof x);
        uint64_t seven = x & low7;
        if (((((127 + 'G') * ones) - seven) & ~x & (seven + (127 - '@') * ones) & high) != 0)
            return true;
    }
    for (; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'F')
            return true;
    return false;
}

size_t history_key_bytes(uint32_t account_index, const char *key,
                         char out[sizeof(uint32_t) + ORDER_KEY_MAX_LEN]) {
    size_t len = strlen(key);
    assert(len <= ORDER_KEY_MAX_LEN);
    memcpy(out, &account_index, sizeof account_index);
    char *text = out + sizeof account_index;
    memcpy(text, key, len);
    /* Only a key with an upper-case hex letter can change; the UUID check (the dearer part) is
     * left for those. */
    bool upper_hex = has_upper_hex(text, len);
    if (upper_hex && uuid_is_valid(key, len))
        for (size_t i = 0; i < len; i++)
            if (text[i] >= 'A' && text[i] <= 'F')
                text[i] = (char)(text[i] - 'A' + 'a');
    return sizeof account_index + len;
}

/* ---- Requests for the exchange -------------------------------------------------------------- */

void history_queue_request(core *c, core_request_kind kind, uint32_t order, int64_t now_ns) {
    core_pools *p = &c->pools;
    uint32_t capacity = 2 * c->config.max_orders;
    /* One NEW per acceptance and one CANCEL per order (cancel_requested) bound the queue. */
    assert(p->request_count < capacity);
    c->requests[(p->request_head + p->request_count) % capacity] =
        (core_request){.kind = kind, .order = order, .time_ns = now_ns};
    p->request_count++;
}

bool core_next_request(core *c, core_request *out) {
    core_pools *p = &c->pools;
    if (p->request_count == 0)
        return false;
    *out = c->requests[p->request_head];
    p->request_head = (p->request_head + 1) % (2 * c->config.max_orders);
    p->request_count--;
    return true;
}

/* ---- After a snapshot load ------------------------------------------------------------------ */

/* The snapshot holds the orders and trades (up to their high-water marks), the FIFO of finished
 * orders as it was (its order decides which orders a retirement takes) and the accounts' lists
 * (their links are in the orders); the free stacks and the counters follow from them. */
void core_history_rebuild(core *c) {
    core_pools *p = &c->pools;
    p->free_order_count = 0;
    p->orders_in_use = 0;
    p->trades_reserved = 0;
    for (uint32_t slot = p->order_high; slot-- > 0;) {
        core_order *o = &c->orders[slot];
        c->free_order_pos[slot] = 0;
        if (o->status == 0) {
            push_free_order(c, slot);
        } else {
            p->orders_in_use++;
            p->trades_reserved += o->trades_reserved;
            /* Live-path bookkeeping the snapshot copied with the record: a cancel the previous
             * process sent died with it, so a new one must be sent when asked. */
            o->cancel_requested = false;
        }
    }
    p->free_trade_count = 0;
    p->trades_in_use = 0;
    for (uint32_t t = p->trade_high; t-- > 0;) {
        if (trade_free(&c->trades[t]))
            c->free_trades[p->free_trade_count++] = t;
        else
            p->trades_in_use++;
    }
    p->request_head = p->request_count = 0;
}
