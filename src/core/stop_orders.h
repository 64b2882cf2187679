/* Stop orders (StopOrdersService): take-profit (regular and trailing), stop-loss and stop-limit,
 * held by the broker until the exchange's last trade price reaches their stop price, then
 * turned into an ordinary order that passes every pre-trade check.
 *
 * DESIGN: a stop order is core state like an order. Its life is four journaled events, applied
 * by stop_orders_apply() live and in replay alike: PLACED (the record, in the slot the event
 * names), TRIGGERED (the child order's slot, accepted by the ORDER_ACCEPTED just before it, or
 * the reason the child was refused), CANCELLED and EXPIRED; STOP_ORDERS_RETIRED frees the oldest
 * finished ones once the history retention has passed, as orders leave. What moves with the
 * market is derived, not journaled: the apply of every ORDER_TRADE event passes the print to
 * stop_orders_on_print(), which keeps the instrument's last price and moves each trailing stop's
 * extremum, so replay rebuilds both from the trades. Deciding is the live path's job
 * (stop_orders_evaluate after each trade report, stop_orders_expire before commands): it reads the
 * derived state and commits the events.
 *
 * Records are a fixed pool of `max_stop_orders` (a zero status is a free slot) and every account
 * holds at most `max_stop_orders_per_account` (active and retained). Lookups scan the pool up to
 * its high-water mark: the pool is small next to the orders' and a scan costs microseconds. */
#ifndef TINVESTD_CORE_STOP_ORDERS_H
#define TINVESTD_CORE_STOP_ORDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/events.h"
#include "core/types.h"

struct core;
struct token;

/* Values equal the contract's enumerations. */
typedef enum {
    STOP_TYPE_TAKE_PROFIT = 1,
    STOP_TYPE_STOP_LOSS = 2,
    STOP_TYPE_STOP_LIMIT = 3
} stop_order_type;
typedef enum {
    STOP_STATUS_ACTIVE = 2,
    STOP_STATUS_EXECUTED = 3,
    STOP_STATUS_CANCELED = 4,
    STOP_STATUS_EXPIRED = 5
} stop_order_status;
typedef enum { STOP_EXPIRES_NEVER = 1, STOP_EXPIRES_AT_DATE = 2 } stop_order_expiration;
typedef enum { STOP_CHILD_MARKET = 1, STOP_CHILD_LIMIT = 2 } stop_child_type;
typedef enum { STOP_TAKE_PROFIT_REGULAR = 1, STOP_TAKE_PROFIT_TRAILING = 2 } stop_take_profit_type;
typedef enum { TRAILING_ABSOLUTE = 1, TRAILING_RELATIVE = 2 } trailing_value_type;
typedef enum { TRAILING_WAITING = 1, TRAILING_ACTIVATED = 2 } trailing_status;

/* Defaults of the two limits (core_config: 0 takes them). */
#define STOP_ORDERS_DEFAULT_MAX 16384
#define STOP_ORDERS_DEFAULT_PER_ACCOUNT 1000
/* A relative trailing value is a percentage below this. */
#define STOP_TRAILING_MAX_PERCENT_NANO (100LL * 1000000000LL)

typedef struct core_stop_order {
    uint32_t index, account, instrument;
    uint8_t status; /* stop_order_status; 0 while the slot is free */
    uint8_t direction, type, take_profit_type, child_type, expiration;
    uint8_t indent_type, spread_type, trailing;
    int64_t lots;
    int64_t price_nano;      /* the child's limit price (0 when none was given) */
    int64_t stop_price_nano; /* trigger price; trailing: activation price */
    int64_t expire_ns;       /* STOP_EXPIRES_AT_DATE only */
    int64_t indent_nano, spread_nano;
    /* Trailing: the extremum since activation, the stop level it gives and the child's price. */
    int64_t extremum_nano, level_nano, trail_price_nano;
    int64_t created_ns, completion_ns;
    int64_t trigger_price_nano; /* the print that triggered it */
    uint64_t placed_seq;
    uint32_t child_order;  /* CORE_NO_ORDER until triggered, and when its child was refused */
    int32_t reject_reason; /* core_error of a refused child */
    char key[ORDER_KEY_SIZE];
    char id[ORDER_ID_SIZE];
    char child_id[ORDER_ID_SIZE]; /* the child's intent id, kept after the child retires */
} core_stop_order;

typedef struct core_stop_book {
    core_stop_order *records; /* capacity slots */
    uint32_t capacity, per_account_max;
    uint32_t high, in_use;
    uint32_t *finished; /* ring of capacity slots: finished stop orders by completion */
    uint32_t finished_head, finished_count;
    uint32_t *per_account;           /* per account slot: stop orders held */
    uint32_t *active_per_instrument; /* per instrument: active stop orders (skips idle prints) */
    int64_t *last_price_nano;        /* per instrument: the last print applied (0: none yet) */
    /* Derived cache: no active stop order expires before this (0: not known, scan). */
    int64_t next_expiry_ns;
} core_stop_book;

/* A PostStopOrder request as plain values (raw contract enumerations, checked by the core). */
typedef struct core_stop_request {
    const struct token *token;
    const char *account_id, *instrument_id, *key;
    int64_t quantity;
    bool has_price, has_stop_price, has_expire;
    int64_t price_nano, stop_price_nano;
    int64_t expire_ns; /* valid when has_expire and expire_state == 0 */
    int expire_state;  /* 0 valid, 1 not a Timestamp, 2 outside 1970..2099 */
    int32_t direction, stop_type, expiration, child_type, take_profit_type, price_type;
    bool has_trailing, has_indent, has_spread;
    int64_t indent_nano, spread_nano;
    int32_t indent_type, spread_type;
    int64_t now_ns;
} core_stop_request;

typedef struct core_stop_result {
    core_error error;
    core_stop_order stop; /* a copy */
    bool duplicate;
} core_stop_result;

int stop_orders_init(core_stop_book *b, uint32_t capacity, uint32_t per_account_max,
                     uint32_t accounts, uint32_t instruments);
void stop_orders_deinit(core_stop_book *b);
void stop_orders_reset(core_stop_book *b, uint32_t accounts, uint32_t instruments);

/* Commands (core thread). */
core_stop_result core_post_stop_order(struct core *c, const core_stop_request *req);
core_stop_result core_cancel_stop_order(struct core *c, const struct token *tok,
                                        const char *account_id, const char *stop_order_id,
                                        int64_t now_ns);
/* Stop orders of an account in `status` (STOP_STATUS_* or 1 for all) created in [from, to],
 * newest first, copied into `out` (at most `max`); returns the count, or with `out` NULL only
 * counts. They are seen as at `now_ns`: an active one past its date reads EXPIRED already (its
 * EXPIRED event follows with the next command or market maker step). */
uint32_t core_list_stop_orders(const struct core *c, uint32_t account_index, int32_t status,
                               int64_t from_ns, int64_t to_ns, int64_t now_ns, core_stop_order *out,
                               uint32_t max);
/* The exchange number of a triggered stop order's child (its intent id before the exchange
 * numbered it, or once it left the history). */
const char *core_stop_child_exchange_id(const struct core *c, const core_stop_order *stop);

/* CloseSandboxAccount: the account's active stop orders are cancelled (its slot is reused only
 * once they, like its orders, have left the history). */
void stop_orders_cancel_account(struct core *c, uint32_t account_index, int64_t now_ns);
/* Live path: expires what is due at `now_ns`, retires finished ones past the retention. */
void stop_orders_expire(struct core *c, int64_t now_ns);
/* Live path, after a trade of `instrument` was applied: triggers what the last price reached. */
void stop_orders_evaluate(struct core *c, uint32_t instrument_index, int64_t now_ns);
/* After recovery: triggers what the last price recorded before the stop reached. */
void stop_orders_resume(struct core *c, int64_t now_ns);

/* Apply side (core_apply). */
void stop_orders_on_print(struct core *c, uint32_t instrument_index, int64_t price_nano);
void stop_orders_apply(struct core *c, const core_event *ev);
bool stop_orders_event_well_formed(const core_event *ev);
bool stop_orders_event_fits(const struct core *c, const core_event *ev);
/* After a snapshot load: counters and caches from the records. False when they do not fit. */
bool stop_orders_rebuild(struct core *c);
uint64_t stop_orders_hash(const struct core *c, uint64_t h);
void stop_orders_check_invariants(const struct core *c);

#endif
