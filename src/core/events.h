/* Event records: every change of broker state is one of these, applied by core_apply().
 *
 * DESIGN: the live path decides (checks, venue reports) and then applies an event; replay
 * applies the recorded events through the same function. Events carry every value the apply
 * needs (prices, commission, ids, times), so applying never consults anything but the event and
 * the state. Records are fixed-size plain structs; the journal encodes them with a version. */
#ifndef TINVESTD_CORE_EVENTS_H
#define TINVESTD_CORE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/types.h"

typedef enum {
    CORE_EVENT_ORDER_ACCEPTED = 1,
    CORE_EVENT_ORDER_ACKED = 2,
    CORE_EVENT_ORDER_TRADE = 3,
    CORE_EVENT_ORDER_CANCELLED = 4,
    CORE_EVENT_ORDER_REJECTED = 5,
    CORE_EVENT_CASH_ADJUSTED = 6,
    CORE_EVENT_MARKET_MAKER_MOVED = 7,
    CORE_EVENT_ACCOUNT_OPENED = 8,
    CORE_EVENT_ACCOUNT_CLOSED = 9,
    CORE_EVENT_REPLACEMENT_ARMED = 10,
    CORE_EVENT_HISTORY_RETIRED = 11,
    /* Stop orders (core/stop_orders.h): numbers 12..19 are theirs. `order` is CORE_NO_ORDER. */
    CORE_EVENT_STOP_ORDER_PLACED = 12,
    CORE_EVENT_STOP_ORDER_TRIGGERED = 13,
    CORE_EVENT_STOP_ORDER_CANCELLED = 14,
    CORE_EVENT_STOP_ORDER_EXPIRED = 15,
    CORE_EVENT_STOP_ORDERS_RETIRED = 16,
    /* 20 .. 29: operations and transfers. */
    CORE_EVENT_CURRENCY_TRANSFER = 20,
    /* Favorites (core/favorites.h): numbers 21 .. 29 are theirs. `order` is CORE_NO_ORDER. */
    CORE_EVENT_FAVORITE_GROUP_CREATED = 21,
    CORE_EVENT_FAVORITE_GROUP_DELETED = 22,
    CORE_EVENT_FAVORITE_ADDED = 23,
    CORE_EVENT_FAVORITE_REMOVED = 24,
    /* 30 .. 39: the market outside the broker's clients (a replay of history). */
    CORE_EVENT_MARKET_PRINT = 30,
    /* The operator halted or resumed trading in an instrument (tinvestd.admin.v1.AdminService):
     * broker state, journaled, so that a halted instrument stays halted across a restart. */
    CORE_EVENT_TRADING_HALT = 31,
    /* 40 .. 49: margin trading (core/margin.h). `order` is CORE_NO_ORDER. */
    CORE_EVENT_FUTURES_CLEARING = 40,
    CORE_EVENT_MARGIN_FEE = 41,
} core_event_type;

/* The numbers 1 .. CORE_EVENT_TYPE_MAX are all defined; the operations' events are numbered from
 * 20 (core_event_type_known says which numbers exist). */
#define CORE_EVENT_TYPE_MAX CORE_EVENT_STOP_ORDERS_RETIRED
#define CORE_EVENT_OPERATIONS_FIRST CORE_EVENT_CURRENCY_TRANSFER
#define CORE_EVENT_OPERATIONS_LAST CORE_EVENT_CURRENCY_TRANSFER
#define CORE_EVENT_FAVORITES_FIRST CORE_EVENT_FAVORITE_GROUP_CREATED
#define CORE_EVENT_FAVORITES_LAST CORE_EVENT_FAVORITE_REMOVED
#define CORE_EVENT_MARKET_FIRST CORE_EVENT_MARKET_PRINT
#define CORE_EVENT_MARKET_LAST CORE_EVENT_TRADING_HALT
#define CORE_EVENT_MARGIN_FIRST CORE_EVENT_FUTURES_CLEARING
#define CORE_EVENT_MARGIN_LAST CORE_EVENT_MARGIN_FEE

static inline bool core_event_type_known(uint32_t type) {
    return (type >= CORE_EVENT_ORDER_ACCEPTED && type <= CORE_EVENT_TYPE_MAX) ||
           (type >= CORE_EVENT_OPERATIONS_FIRST && type <= CORE_EVENT_OPERATIONS_LAST) ||
           (type >= CORE_EVENT_FAVORITES_FIRST && type <= CORE_EVENT_FAVORITES_LAST) ||
           (type >= CORE_EVENT_MARKET_FIRST && type <= CORE_EVENT_MARKET_LAST) ||
           (type >= CORE_EVENT_MARGIN_FIRST && type <= CORE_EVENT_MARGIN_LAST);
}

#define ACCOUNT_NAME_SIZE 64

typedef struct core_event_accepted {
    uint32_t account, instrument;
    uint8_t direction, type, tif, source;
    uint8_t key_is_uuid;
    /* ReplaceOrder: the new order holds nothing until the exchange confirms the old one's cancel
     * (CORE_EVENT_REPLACEMENT_ARMED then reserves; a reject ends it). */
    uint8_t awaiting_replaced;
    int64_t price_nano;         /* limit price, 0 for market orders */
    int64_t reserve_price_nano; /* price per unit the cash reservation was computed at */
    int64_t lots;
    int64_t reserved_cash_nano; /* buy: value at reserve price + commission */
    int64_t reserved_units;     /* sell: securities held back */
    int64_t initial_commission_nano;
    char key[ORDER_KEY_SIZE];       /* the client's order_id / idempotency key */
    char request_id[ORDER_ID_SIZE]; /* order_request_id shown on streams */
    char intent_id[ORDER_ID_SIZE];  /* trade_intent_id: the broker's own id */
    uint32_t replaces_order;        /* ReplaceOrder: the order it replaces, or UINT32_MAX */
    uint32_t trades_reserved;       /* trade records held for the fills this order can make */
} core_event_accepted;

/* A replacement's reservation, made once the order it replaces is cancelled. */
typedef struct core_event_armed {
    int64_t reserve_price_nano;
    int64_t reserved_cash_nano;
    int64_t reserved_units;
    int64_t initial_commission_nano;
} core_event_armed;

/* The `count` oldest finished orders (completed at or before `time_ns` − retention) leave the
 * history: their trades, keys and slots are freed. `order` is CORE_NO_ORDER. */
typedef struct core_event_retired {
    uint32_t count;
} core_event_retired;

typedef struct core_event_acked {
    uint64_t exchange_order_id;
} core_event_acked;

typedef struct core_event_trade {
    uint64_t trade_id;
    int64_t lots;
    int64_t price_nano;
    int64_t value_nano;
    int64_t commission_nano;
    uint8_t aggressor; /* this order was the incoming side of the trade */
} core_event_trade;

typedef struct core_event_cancelled {
    int64_t lots;
    uint8_t cause; /* order_cause */
} core_event_cancelled;

typedef struct core_event_rejected {
    uint8_t cause;  /* order_cause */
    int32_t reason; /* core_error describing why */
} core_event_rejected;

typedef struct core_event_cash {
    uint32_t account;
    char currency[8];
    int64_t amount_nano;
} core_event_cash;

/* The exchange's market maker moved its reference price (its random walk), recorded with the
 * venue's generator state so that after a restart it quotes where it quoted before and walks on
 * from there. `order` is CORE_NO_ORDER. */
typedef struct core_event_market_maker {
    uint32_t instrument;
    int64_t reference_nano;
    uint64_t random_state[4];
} core_event_market_maker;

/* OpenSandboxAccount: the account takes the next account slot; `token` (an index into the
 * configured tokens) gets full access to it. `order` is CORE_NO_ORDER. */
typedef struct core_event_account_opened {
    uint32_t account;
    uint32_t token;
    char id[ORDER_ID_SIZE];
    char name[ACCOUNT_NAME_SIZE];
} core_event_account_opened;

/* CloseSandboxAccount. */
typedef struct core_event_account_closed {
    uint32_t account;
} core_event_account_closed;

/* CurrencyTransfer: `amount_nano` of `currency` leaves account `from` for account `to` (two
 * accounts of one owner). `transaction_id` is the client's idempotency key, a UUID in lower case.
 * `order` is CORE_NO_ORDER. */
typedef struct core_event_transfer {
    uint32_t from, to;
    char currency[8];
    int64_t amount_nano;
    char transaction_id[ORDER_ID_SIZE];
} core_event_transfer;

/* PostStopOrder: the stop order takes slot `stop` (values as stop_orders.h names them). */
typedef struct core_event_stop_placed {
    uint32_t stop, account, instrument;
    uint8_t direction, type, take_profit_type, child_type, expiration, indent_type, spread_type;
    int64_t lots, price_nano, stop_price_nano, expire_ns, indent_nano, spread_nano;
    char key[ORDER_KEY_SIZE];
    char id[ORDER_ID_SIZE];
} core_event_stop_placed;

/* TRIGGERED: `child` is the order the ORDER_ACCEPTED just before made, or CORE_NO_ORDER with the
 * `reason` its checks refused it for; `price_nano` is the print that triggered it. CANCELLED and
 * EXPIRED: `stop` alone. RETIRED: `count` finished stop orders leave, oldest first. */
typedef struct core_event_stop_changed {
    uint32_t stop;
    uint32_t child;
    int32_t reason;
    uint32_t count;
    int64_t price_nano;
} core_event_stop_changed;

/* A favorite group's color: six hexadecimal digits as the client gave them. Its name: at most
 * 255 bytes of UTF-8 (core/favorites.h). */
#define FAVORITE_COLOR_SIZE 7
#define FAVORITE_GROUP_NAME_SIZE 256

/* Favorites of `user` (the slot of the user's first token, core/favorites.h). GROUP_CREATED:
 * the group `group_id` with its color and name; GROUP_DELETED: the group `group_id` and its
 * favorites leave. ADDED / REMOVED: `instrument` enters / leaves the group `group_id`, or the
 * default list when `group_id` is empty.
 *
 * The name is not held in the event: it is `name_len` bytes (no terminator) at `name`, borrowed
 * from whoever made the event — the command's own storage on the live path, the decoded record's
 * payload (or the replay batch that keeps a copy of it) in recovery. The borrow lasts as long as
 * the event is encoded and applied; the apply copies the name into the group's record, and
 * nothing keeps a favorites event after its apply (core_event_borrows_text). An empty name is
 * `name_len` 0 and `name` NULL. */
typedef struct core_event_favorite {
    uint32_t user;
    uint32_t instrument;
    char group_id[ORDER_ID_SIZE];
    char color[FAVORITE_COLOR_SIZE];
    uint16_t name_len;
    const char *name;
} core_event_favorite;

/* A trade of the market outside the broker's clients: in a replay of history, one point of a
 * minute's path through its candle (engine/history_market.h). The exchange printed it with
 * `trade_id` (numbered with the clients' trades), and its liquidity provider now quotes around
 * `price_nano`. `lots` may be 0: a candle whose volume is smaller than the points of its path
 * moves the price without a trade. `buy`: the incoming side bought. `order` is CORE_NO_ORDER. */
typedef struct core_event_market_print {
    uint32_t instrument;
    uint8_t buy;
    int64_t price_nano;
    int64_t lots;
    uint64_t trade_id;
} core_event_market_print;

/* TRADING_HALT: trading in `instrument` stops (`halted` 1) or starts again (`halted` 0). Only a
 * change is an event: halting a halted instrument writes nothing. `order` is CORE_NO_ORDER. */
typedef struct core_event_halt {
    uint32_t instrument;
    uint8_t halted;
} core_event_halt;

/* FUTURES_CLEARING: the clearing scheduled at `clearing_ns` settles `instrument` at `price_nano`:
 * every position in it is paid its variation margin since the last clearing, and counts from
 * `price_nano` on. `instrument` UINT32_MAX (price 0): a clearing that had nothing to settle,
 * recorded so that a restart knows it passed. */
typedef struct core_event_clearing {
    uint32_t instrument;
    int64_t price_nano;
    int64_t clearing_ns;
} core_event_clearing;

/* MARGIN_FEE: the overnight fee `amount_nano` (positive) of `currency`, charged to `account` at
 * the clearing of `clearing_ns`, for borrowed money (`instrument` UINT32_MAX) or for the short
 * position in `instrument`. */
typedef struct core_event_margin_fee {
    uint32_t account, instrument;
    char currency[8];
    int64_t amount_nano;
    int64_t clearing_ns;
} core_event_margin_fee;

typedef struct core_event {
    uint32_t type;  /* core_event_type */
    uint32_t order; /* order slot the event concerns (ACCEPTED: the slot it creates) */
    uint64_t seq;   /* 1, 2, 3, ... in commit order */
    int64_t time_ns;
    union {
        core_event_accepted accepted;
        core_event_acked acked;
        core_event_trade trade;
        core_event_cancelled cancelled;
        core_event_rejected rejected;
        core_event_cash cash;
        core_event_market_maker market_maker;
        core_event_account_opened account_opened;
        core_event_account_closed account_closed;
        core_event_armed armed;
        core_event_retired retired;
        core_event_transfer transfer;
        core_event_stop_placed stop_placed;
        core_event_stop_changed stop;
        core_event_favorite favorite;
        core_event_market_print market_print;
        core_event_halt halt;
        core_event_clearing clearing;
        core_event_margin_fee margin_fee;
    } u;
} core_event;

/* Every event is copied through batches and queues: it stays as small as it was before texts of
 * any length were journaled (a long text is borrowed, as a favorite group's name is). */
_Static_assert(sizeof(core_event) <= 208, "core_event keeps long texts out of line");

/* True for the events that borrow a text they do not hold (core_event_favorite's name): such an
 * event must not outlive the storage it was made from, so it is never kept after its apply. */
static inline bool core_event_borrows_text(const core_event *ev) {
    return ev->type == CORE_EVENT_FAVORITE_GROUP_CREATED && ev->u.favorite.name_len > 0;
}

#endif
