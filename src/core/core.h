/* The broker core: accounts, orders, risk checks, idempotency and the order state machine.
 *
 * DESIGN: single-threaded and pure. The core thread calls these functions with the time stamped
 * on each command; nothing here reads a clock, locks, or does I/O. Every state change goes
 * through core_apply(): the live path builds an event, hands it to the event sink (the journal)
 * and applies it; replay applies the recorded events the same way. The exchange is reached only
 * through a queue of requests (new / cancel, core_next_request) that the exchange link sends
 * after the core's command returned, and core_on_exchange_report() (reports in), like a real
 * exchange link. Each order change is announced to the listener (reply waiters and streams)
 * after it is applied. Every record has a lifecycle: a finished order, its trades and its key
 * leave after the retention (CORE_EVENT_HISTORY_RETIRED) and their slots are reused.
 *
 * Ownership: the core owns its pools (allocated in core_init, freed in core_deinit) and refers to
 * the caller's refdata, which must outlive it. Callers outside the core thread never hold
 * pointers into the pools: results are copies (core_result, core_list_orders). */
#ifndef TINVESTD_CORE_CORE_H
#define TINVESTD_CORE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "candles/candles.h"
#include "core/changes.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/favorites.h"
#include "core/ledger.h"
#include "core/margin.h"
#include "core/operations.h"
#include "core/order_index.h"
#include "core/refdata.h"
#include "core/stop_orders.h"
#include "core/types.h"

#define CORE_NO_ORDER UINT32_MAX
#define CORE_MAX_VALUE_LIMITS 8
/* The largest cash balance, and the largest order value, the broker accepts (10^9 units of a
 * currency): far beyond any real account, and small enough that the sums the broker and its
 * readers make over a few of them (portfolio totals, balance + proceeds) fit in int64 nano. */
#define CORE_MAX_MONEY_NANO 1000000000000000000LL
/* Finished orders that leave the history in one CORE_EVENT_HISTORY_RETIRED. */
#define CORE_RETIRE_BATCH_MAX 1024
/* GetOrders lists at most this many orders (the newest first): the reply stays under the 4 MiB
 * message size gRPC clients accept by default. */
#define CORE_LIST_ORDERS_MAX 10000

typedef struct core_trade {
    uint64_t trade_id;
    int64_t lots;
    int64_t price_nano;
    int64_t time_ns;
    uint32_t next;  /* next trade of the same order, or CORE_NO_ORDER */
    uint32_t order; /* the order it belongs to (a free record is all zero: lots 0) */
    bool aggressor; /* the order was the incoming side */
} core_trade;

/* A sandbox account opened at run time; its refdata slot points at these strings. */
typedef struct core_opened_account {
    char id[ORDER_ID_SIZE];
    char name[ACCOUNT_NAME_SIZE];
    uint32_t token;
    int64_t opened_ns;
} core_opened_account;

/* Accounts beyond the configured ones: opened at run time, and closed ones of either kind. */
typedef struct core_accounts_state {
    uint32_t configured_count;   /* slots 0 .. configured_count-1 come from the configuration */
    uint32_t capacity;           /* configured + openable; the ledger is sized for it */
    uint32_t opened_count;       /* slots configured_count .. + opened_count-1 */
    core_opened_account *opened; /* capacity - configured_count records */
    uint8_t *closed;             /* per slot: 1 once closed */
} core_accounts_state;

/* What the broker knows of the exchange's own state: enough to put the market maker back where
 * it was after a restart (see CORE_EVENT_MARKET_MAKER_MOVED), and to number what the exchange
 * does after a restart above every number it gave before. */
typedef struct core_venue_state {
    uint64_t random_state[4];   /* all zero until the first move is recorded */
    int64_t *mm_reference_nano; /* per instrument; 0 = no move recorded */
    /* The highest exchange order number and trade id ever applied, retired orders included:
     * clients keep them, so they are never handed out again. */
    uint64_t last_exchange_order_id, last_trade_id;
    /* The newest market print applied (CORE_EVENT_MARKET_PRINT): its time and instrument. A
     * replay of history resumes after it; prints of one time go in instrument order. */
    int64_t market_print_ns;
    uint32_t market_print_instrument;
    /* Per instrument: 1 while the operator has halted its trading (CORE_EVENT_TRADING_HALT).
     * Orders in it are refused (30079), its stop orders wait, and the exchange link keeps the
     * exchange's trading flag off (venue_link_restore after a restart). */
    uint8_t *halted;
} core_venue_state;

typedef struct core_order {
    uint32_t index;
    uint32_t account, instrument;
    order_direction direction;
    order_type type;
    order_tif tif;
    order_source source;
    order_status status; /* 0 while the slot is free (a free slot is all zero) */
    order_cause cause;
    core_error reject_reason;
    bool key_is_uuid;
    /* A replacement placed by ReplaceOrder that waits for the old order's cancel: it holds no
     * reservation and has not been sent to the exchange yet. */
    bool awaiting_replaced;
    /* Live-path bookkeeping, not part of the recorded state: a cancel is on its way to the
     * exchange (a second request is not sent). Cleared when a snapshot is loaded: nothing the
     * previous process sent is on its way any more. */
    bool cancel_requested;
    int64_t price_nano;
    int64_t reserve_price_nano;
    int64_t lots_requested, lots_executed, lots_cancelled;
    int64_t executed_value_nano;
    /* Sum of price x lots over the fills: the average price is this over lots_executed, a value
     * the order carries itself (no walk over its trades). */
    __int128 executed_price_lots_nano;
    int64_t initial_commission_nano, executed_commission_nano;
    int64_t reserved_cash_nano, reserved_units;
    uint32_t trades_reserved; /* trade records still held for fills to come */
    uint64_t exchange_order_id;
    uint64_t accepted_seq; /* the ACCEPTED event's number: unique for ever, unlike the slot */
    int64_t created_ns, acked_ns, completion_ns;
    uint32_t first_trade, last_trade, trade_count;
    uint32_t replaces_order; /* the order this one replaces, or CORE_NO_ORDER */
    uint32_t replaced_by;    /* the replacement waiting for this order to end, or CORE_NO_ORDER */
    uint32_t account_prev, account_next; /* the account's orders, oldest first */
    uint32_t active_prev, active_next;   /* the account's active orders, oldest first */
    char key[ORDER_KEY_SIZE];
    char request_id[ORDER_ID_SIZE];
    char intent_id[ORDER_ID_SIZE];
    char exchange_id_text[24];
} core_order;

typedef struct core_value_limit {
    char currency[8];
    int64_t max_value_nano;
} core_value_limit;

/* Futures clearings a day, at most. */
#define CORE_MAX_CLEARINGS 4

/* The broker's side of margin trading (core/margin.h). */
typedef struct core_margin_config {
    /* The exchange's clearings each day, seconds from midnight UTC, ascending: futures'
     * variation margin is paid at each of them. */
    uint32_t clearing_count;
    int32_t clearing_s[CORE_MAX_CLEARINGS];
    /* Overnight fees, charged at the day's last clearing on margin accounts: per day, as fractions
     * in nano (0.0005 = 500000), of the borrowed money (a negative balance, in roubles at the
     * configured rates) and of the value of the securities sold short. */
    int64_t money_rate_per_day_nano, shares_rate_per_day_nano;
} core_margin_config;

typedef struct core_config {
    refdata *refdata; /* the core publishes the accounts opened at run time into it */
    int32_t commission_bp;
    uint32_t max_orders; /* order records: active orders plus the retained history */
    uint32_t max_trades; /* trade records, likewise */
    /* A finished order, its trades and its key stay this long after it ended, then its records
     * are reused. A key names its order (a repeat is a duplicate) for as long as the order stays:
     * the configuration makes this at least the idempotency retention. */
    int64_t order_retention_ns;
    uint32_t max_orders_per_account; /* active plus retained */
    uint32_t max_trades_per_order;   /* the exchange cancels the rest of an order after this */
    uint32_t value_limit_count;
    core_value_limit value_limits[CORE_MAX_VALUE_LIMITS];
    /* Seeds the broker's generated ids, so that a replay produces the same ids. */
    uint64_t id_seed;
    /* Sandbox accounts that OpenSandboxAccount may open over the configured ones. */
    uint32_t openable_sandbox_accounts;
    /* Candles of the exchange's trades: retention per interval and the exchange's UTC offset;
     * all zero takes candles_default_config(). */
    candles_config candles;
    /* Stop orders held in all (active and retained) and per account; 0 takes the defaults of
     * core/stop_orders.h. */
    uint32_t max_stop_orders, max_stop_orders_per_account;
    /* Operation records (core/operations.h), opening balances not counted; 0 takes
     * 2 x max_orders. */
    uint32_t max_operations;
    /* Favorites (core/favorites.h): instruments and groups one user may hold; 0 takes the
     * defaults. The pools are these times the number of users. */
    uint32_t max_favorites_per_user, max_favorite_groups_per_user;
    core_margin_config margin;
} core_config;

/* What the core knows of the market, asked from the exchange link at check time. */
typedef struct core_market {
    bool trading;
    int64_t limit_down_nano, limit_up_nano;
    int64_t last_price_nano;
    int64_t best_bid_nano, best_ask_nano; /* 0 when that side is empty */
} core_market;

/* The exchange link as the core sees it: only a read of the market. Orders and cancels for the
 * exchange are queued (core_next_request) and sent by the link after the core's command has
 * returned, and the exchange's reports come back through core_on_exchange_report() then: the
 * core is never re-entered while it is in the middle of a command. */
typedef struct core_exchange {
    void *ctx;
    void (*market)(void *ctx, uint32_t instrument_index, core_market *out);
} core_exchange;

typedef struct core_listener {
    void *ctx;
    /* Called after `event` was applied to `order` on the live path (not during replay). */
    void (*order_changed)(void *ctx, const core_order *order, const core_event *event);
    /* Called on the live path before a closed sandbox account's slot is given to a new account:
     * nothing may keep following the old account by its slot. */
    void (*account_reused)(void *ctx, uint32_t account_index);
} core_listener;

typedef struct core_event_sink {
    void *ctx;
    /* Records the event; the core applies it right after. Durability is the sink's business:
     * the caller holds replies until the sink says the batch is durable. */
    void (*append)(void *ctx, const core_event *event);
} core_event_sink;

typedef enum { REPORT_ACK, REPORT_TRADE, REPORT_CANCELLED, REPORT_REJECTED } core_report_kind;

/* An execution report from the exchange, in the core's terms. */
typedef struct core_exchange_report {
    core_report_kind kind;
    uint64_t client_ref;        /* the reference the core gave the exchange (core_client_ref) */
    uint64_t exchange_order_id; /* ACK */
    uint64_t trade_id;          /* TRADE */
    int64_t lots;               /* TRADE: executed; CANCELLED: cancelled */
    int64_t price_nano;         /* TRADE */
    order_cause cause;          /* CANCELLED / REJECTED */
    core_error reject_reason;   /* REJECTED */
    int64_t time_ns;
    bool aggressor; /* TRADE: the order was the incoming side */
} core_exchange_report;

/* A request for the exchange, queued by the core. */
typedef enum { CORE_REQUEST_NEW = 1, CORE_REQUEST_CANCEL = 2 } core_request_kind;

typedef struct core_request {
    core_request_kind kind;
    uint32_t order;
    int64_t time_ns;
} core_request;

typedef struct core_order_request {
    const token *token;
    const char *account_id;
    const char *instrument_id;
    const char *key; /* order_id / idempotency key as the client sent it */
    int64_t quantity;
    bool has_price;
    int64_t price_nano;
    int32_t direction, type, tif, price_type; /* raw contract values, validated here */
    order_source source;
    bool require_uuid_key; /* PostOrderAsync */
    int64_t now_ns;
} core_order_request;

/* The outcome of a command: plain values, copied when the command ran, so that whoever answers
 * the client later reads nothing of the live state. */
typedef struct core_result {
    core_error error;
    core_order order; /* the placed / found / stored order (index CORE_NO_ORDER when none) */
    bool duplicate;   /* the key was stored already with the same terms */
} core_result;

/* The core's pools and their bookkeeping: slots are reused after retirement. */
typedef struct core_pools {
    uint32_t order_high, trade_high; /* slots below these have been used at least once */
    uint32_t free_order_count, free_trade_count;
    uint32_t orders_in_use, trades_in_use;
    uint64_t trades_reserved;               /* held by active orders for their future fills */
    uint32_t finished_head, finished_count; /* FIFO of finished orders, oldest first */
    uint32_t request_head, request_count;   /* queued requests for the exchange */
} core_pools;

typedef struct core {
    core_config config;
    refdata *refdata;
    ledger ledger;
    core_order *orders; /* max_orders slots */
    core_trade *trades; /* max_trades slots */
    core_pools pools;
    uint32_t *free_orders; /* stack of order slots given back (those above order_high are free) */
    uint32_t *free_order_pos; /* per slot: 1 + its place in free_orders, or 0 */
    uint32_t *free_trades;    /* stack of trade records given back, likewise */
    uint32_t *finished;       /* ring of max_orders slots: finished orders by completion */
    core_request *requests;   /* ring of 2 x max_orders: a NEW and a CANCEL per order at most */
    uint32_t *account_orders; /* per account slot: orders held (active and retained) */
    uint32_t *account_first, *account_last; /* per account slot: its list of orders */
    uint32_t *active_first, *active_last;   /* per account slot: its active orders */
    order_index by_key;                     /* account index + client key */
    order_index by_order_id;                /* intent id and exchange number, as text */
    core_venue_state venue;
    core_accounts_state accounts;
    /* OHLCV candles of every instrument, from the trades applied (derived state: the apply of
     * CORE_EVENT_ORDER_TRADE feeds it, live and in replay alike; snapshots carry it). */
    candle_store candles;
    /* The holdings the events applied since the last core_changes_clear() touched (derived from
     * the events, empty between batches: see core/changes.h). */
    core_changes changes;
    /* Stop orders (core/stop_orders.h): journaled records, and the last prices and trailing
     * extremes the apply of each trade derives. */
    core_stop_book stops;
    /* Every movement of money and securities (derived state, like the candles: the apply of the
     * events that move them makes them; snapshots carry them). */
    operation_store operations;
    /* Each user's favorite instruments and groups (core/favorites.h): journaled records. */
    core_favorites favorites;
    /* Margin trading (core/margin.h): the futures positions' guarantee and variation margin, and
     * the newest clearing. Journaled through the fills, clearings and fees that change it. */
    core_margin_state margin;
    uint64_t next_seq;
    /* Recovery only: while set, core_apply() leaves the two indexes alone (inserts and erases
     * alike), and whoever set it rebuilds them from the orders once the journal is replayed
     * (snapshot_rebuild_indexes): one pass that overlaps its cache misses instead of three
     * dependent misses per order. Lookups are wrong meanwhile; the live path never sets it. */
    bool indexes_deferred;
    core_exchange exchange;
    core_listener listener;
    core_event_sink sink;
} core;

int core_init(core *c, const core_config *config);
void core_deinit(core *c);
/* Back to the state core_init() left: after a snapshot that failed its check half-way through
 * loading, before recovery tries an older one or the whole journal. */
void core_reset(core *c);

/* Places an order (PostOrder, PostOrderAsync, sandbox variants): every pre-trade check, then
 * idempotency, then acceptance; the order is queued for the exchange. */
core_result core_place_order(core *c, const core_order_request *req);

/* Finds an order of an account by exchange number / internal id or by the client's key. */
core_result core_find_order(const core *c, const token *tok, const char *account_id,
                            const char *order_id, bool by_request_id);
/* Requests cancellation at the exchange; the order ends when the exchange confirms. */
core_result core_cancel_order(core *c, const token *tok, const char *account_id,
                              const char *order_id, bool by_request_id, int64_t now_ns);
/* ReplaceOrder: a new order with `key`, same instrument and side, that replaces `order_id`. The
 * old order is cancelled first; the new one reserves and goes to the exchange only once that
 * cancel is confirmed (so the two never hold or spend the same money), and is rejected if the
 * old order filled meanwhile. */
core_result core_replace_order(core *c, const token *tok, const char *account_id,
                               const char *order_id, const char *key, int64_t quantity,
                               bool has_price, int64_t price_nano, int32_t price_type,
                               int64_t now_ns);

/* The reference the exchange knows an order by: slot + 1 in the low 32 bits (0 is the market
 * maker's), and the order's acceptance number above, so that a report about an earlier order
 * of a reused slot is recognised as stale. */
uint64_t core_client_ref(const core_order *order);
/* Takes the next queued request for the exchange; false when there is none. */
bool core_next_request(core *c, core_request *out);
/* A report from the exchange; reports about orders the core no longer holds are ignored. */
void core_on_exchange_report(core *c, const core_exchange_report *report);
/* After recovery: asks the exchange again for what the journal shows was asked and the crash
 * lost (the cancels of a closed account's orders, the cancel a replacement waits for), and
 * settles replacements whose old order ended. */
void core_resume(core *c, int64_t now_ns);

/* OpenSandboxAccount: a new sandbox account the token has full access to; its id into `id_out`. */
core_error core_open_sandbox_account(core *c, const token *tok, const char *name, int64_t now_ns,
                                     char id_out[ORDER_ID_SIZE]);
/* CloseSandboxAccount: the account disappears for every client (50004 from then on) and its
 * active orders are cancelled. */
core_error core_close_sandbox_account(core *c, const token *tok, const char *account_id,
                                      int64_t now_ns);
/* After a snapshot load: publishes the restored accounts into the refdata. */
void core_publish_accounts(core *c);
/* Publishes each instrument's first 1-minute and 1-day candle times into the refdata (the apply
 * of a trade does it as it goes; after a snapshot load or a reset, this). */
void core_publish_candles(core *c);
/* Records a trade of the market outside the broker (see CORE_EVENT_MARKET_PRINT) and lets the
 * stop orders of the instrument react to its price. */
void core_record_market_print(core *c, uint32_t instrument_index, uint64_t trade_id,
                              int64_t price_nano, int64_t lots, bool buy, int64_t now_ns);
/* The operator halts (`halted` true) or resumes trading in an instrument: one
 * CORE_EVENT_TRADING_HALT when that changes anything (*changed says whether it did), nothing when
 * the instrument already is so. Resuming lets the instrument's stop orders react to its last
 * print at once. The caller keeps the exchange's trading flag in step (venue_link_set_halt). */
void core_set_trading_halt(core *c, uint32_t instrument_index, bool halted, int64_t now_ns,
                           bool *changed);
/* Whether the operator has halted trading in the instrument. */
static inline bool core_instrument_halted(const core *c, uint32_t instrument_index) {
    return c->venue.halted[instrument_index] != 0;
}
/* How many instruments are halted (for the state hash and the statistics). */
uint32_t core_halted_count(const core *c);
/* Records a move of the exchange's market maker (see CORE_EVENT_MARKET_MAKER_MOVED). */
void core_record_market_maker(core *c, uint32_t instrument_index, int64_t reference_nano,
                              const uint64_t random_state[4], int64_t now_ns);

/* The single mutation path; live and replay alike. After the event, checks the ledger
 * invariants of the holdings it changed (its account's cash in the instrument's currency and its
 * position in the instrument). */
void core_apply(core *c, const core_event *event);
/* Whether a recorded event can be applied to the current state (replay's validation: a journal
 * written with another configuration, or damaged, is refused rather than misapplied). */
bool core_event_applicable(const core *c, const core_event *event);
/* core_event_applicable() in its two halves, so that replay can check each event on the thread
 * that decodes it and only the state on the thread that applies it: what the event must satisfy
 * alone (domains, texts, ids; reads nothing else), and, for an event that is well formed,
 * whether the state takes it. */
bool core_event_well_formed(const core_event *event);
bool core_event_fits(const core *c, const core_event *event);

/* Read side, for GetMaxLots / GetOrderPrice / positions; the same arithmetic the checks use. */
typedef struct core_max_lots {
    const char *currency;
    int64_t buy_money_nano;
    int64_t buy_max_lots, buy_max_market_lots, sell_max_lots;
    /* With the margin of a margin account (equal to the above for a cash account): the liquid
     * portfolio over the corrected margin, and the lots the margin check would take. */
    int64_t buy_margin_money_nano;
    int64_t buy_margin_max_lots, buy_margin_max_market_lots, sell_margin_max_lots;
} core_max_lots;
core_error core_max_lots_for(const core *c, const token *tok, const char *account_id,
                             const char *instrument_id, bool has_price, int64_t price_nano,
                             core_max_lots *out);

typedef struct core_order_price {
    const instrument *instrument;
    int64_t total_nano, initial_nano, commission_nano;
    int64_t initial_margin_nano; /* futures: the guarantee the lots take; 0 otherwise */
    int64_t lots;
} core_order_price;
core_error core_order_price_for(const core *c, const token *tok, const char *account_id,
                                const char *instrument_id, int32_t direction, int64_t quantity,
                                bool has_price, int64_t price_nano, core_order_price *out);

/* SandboxPayIn: credits a sandbox account, with the new balance. */
core_error core_pay_in(core *c, const token *tok, const char *account_id, const char *currency,
                       int64_t amount_nano, int64_t now_ns, int64_t *balance_nano);

/* A key for an order the broker places itself (a margin call): a UUID derived from the id seed
 * and `salt`, so that a run with the same seed makes the same keys. */
void core_broker_key(const core *c, uint64_t salt, char out[ORDER_ID_SIZE]);

/* The most one order in `currency` may be worth (limits.max_order_value), INT64_MAX without a
 * limit. */
int64_t core_order_value_limit(const core *c, const char *currency);

/* Resolves an account for reading or trading. A NULL token is the broker acting on the account's
 * own earlier instruction (a stop order's child): no access check. */
core_error core_account_for(const core *c, const token *tok, const char *account_id,
                            bool need_trade, const account **out);

/* Orders of an account that `keep` accepts, newest first, copied into `out` (at most `max`, and
 * never more than CORE_LIST_ORDERS_MAX); returns the count. With `out` NULL it only counts.
 * `active_only` walks the account's active orders alone (GetOrders without filters, the call
 * bots poll), not its whole history. */
typedef bool (*core_order_filter)(const core_order *order, const void *ctx);
uint32_t core_list_orders(const core *c, uint32_t account_index, bool active_only,
                          core_order_filter keep, const void *ctx, core_order *out, uint32_t max);
/* The trades of an order, oldest first, copied into `out` (at most `max`); returns the count. */
uint32_t core_order_trades(const core *c, const core_order *order, core_trade *out, uint32_t max);
/* Average price per unit of what has been executed (0 before the first fill). */
int64_t core_order_average_price_nano(const core_order *order);

/* An account's cash in every currency it holds, copied into `out`; returns the count. */
uint32_t core_account_cash(const core *c, uint32_t account_index,
                           ledger_cash out[REFDATA_MAX_CURRENCIES]);
/* An account's position in one instrument (a copy). */
ledger_position core_account_position(const core *c, uint32_t account_index,
                                      uint32_t instrument_index);

/* The exchange's view of an instrument (limits, last price, best quotes), as the checks see it. */
void core_market_view(const core *c, uint32_t instrument_index, core_market *out);
/* The order's instrument. In line: the apply asks it several times an event. */
static inline const instrument *core_instrument_of(const core *c, const core_order *order) {
    return &c->refdata->instruments[order->instrument];
}

/* What the events applied since the last clear changed, for the account streams: the accounts
 * (`*count` of them; the array stays the core's until the clear), then per account which cash
 * slots (bit i: the i-th entry core_account_cash copies) and which positions. An event that
 * changes cash or positions marks them with the two mark functions as it is applied (core_apply
 * does it for every event type it knows; a new type adds its case to mark_changes there). */
const uint32_t *core_changed_accounts(const core *c, uint32_t *count);
uint32_t core_changed_cash(const core *c, uint32_t account_index);
bool core_changed_position(const core *c, uint32_t account_index, uint32_t instrument_index);
void core_mark_cash_changed(core *c, uint32_t account_index, const char *currency);
void core_mark_position_changed(core *c, uint32_t account_index, uint32_t instrument_index);
/* Forgets the marks: after each batch, once whoever follows them has copied what they need. */
void core_changes_clear(core *c);

/* The candles, for reads on the core thread (which copy what they answer). */
const candle_store *core_candles(const core *c);
/* The candles changed since the last call (candles_take_changes), for the market-data feed on
 * the core thread; at most `max`, the rest stay for the next call. */
uint32_t core_take_candle_changes(core *c, candles_change *out, uint32_t max);

/* CurrencyTransfer: moves `amount_nano` of `currency` from one account of the token to another
 * (a journaled CORE_EVENT_CURRENCY_TRANSFER, with an operation on each side). `transaction_id`
 * (a UUID, either letter case) makes it idempotent for as long as its operation is held: the
 * same id with the same terms answers CORE_OK again without moving anything (*duplicate set),
 * with other terms CORE_ERR_TRANSFER_ID_REUSED. */
core_error core_currency_transfer(core *c, const token *tok, const char *from_account_id,
                                  const char *to_account_id, const char *currency,
                                  int64_t amount_nano, const char *transaction_id, int64_t now_ns,
                                  bool *duplicate);

/* An operation by its number (the cursor), held and of `account_index`; false otherwise. */
bool core_operation_get(const core *c, uint32_t account_index, uint64_t number,
                        core_operation *out);
/* An account's operations numbered below `below` (UINT64_MAX: all) that `keep` accepts, newest
 * first, copied into `out` (at most `max`); returns the count. `*more` is the number of the next
 * one `keep` accepts after the last copied, or 0 when there is none. */
typedef bool (*core_operation_filter)(const core_operation *op, const void *ctx);
uint32_t core_list_operations(const core *c, uint32_t account_index, uint64_t below,
                              core_operation_filter keep, const void *ctx, core_operation *out,
                              uint32_t max, uint64_t *more);
/* The trades of a BUY or SELL operation (its order's), oldest first, at most `max`. */
uint32_t core_operation_trades(const core *c, const core_operation *op, core_trade *out,
                               uint32_t max);
/* The fills of a BUY or SELL operation with what each one moved: its value and the commission it
 * paid (commission is charged on the order's running total, so a fill pays the commission of the
 * total after it less what the fills before paid). Oldest first, at most `max`. */
typedef struct core_fill {
    core_trade trade;
    int64_t units;
    int64_t value_nano, commission_nano;
} core_fill;
uint32_t core_operation_fills(const core *c, const core_operation *op, core_fill *out,
                              uint32_t max);
/* How many fills core_operation_fills() has to give (0 for an operation without trades). */
uint32_t core_operation_fill_count(const core *c, const core_operation *op);
/* Fingerprint of the operations held (core_state_hash leaves them out, as it leaves the candles,
 * so that it stays comparable with hashes of older data directories). */
uint64_t core_operations_hash(const core *c);

/* Asserts every invariant of the ledger and the pools (cash, reservations, positions, indexes,
 * lists); O(state), for tests and the simulator. */
void core_check_invariants(const core *c);

/* The same invariants checked without asserting, for a state read from outside (a snapshot,
 * core/validate.c): safe on any content of the records, O(state). core_records_valid() needs the
 * pool counters core_history_rebuild() derives, core_indexes_valid() the indexes rebuilt (and
 * the records valid). */
bool core_records_valid(const core *c);
bool core_indexes_valid(const core *c);

/* Fingerprint of orders and balances: equal states hash equal. */
uint64_t core_state_hash(const core *c);

/* Pools and derived structures after a snapshot load (core/history.c). */
void core_history_rebuild(core *c);

#endif
