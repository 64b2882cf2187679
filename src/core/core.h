/* The broker core: accounts, orders, risk checks, idempotency and the order state machine.
 *
 * DESIGN: single-threaded and pure. The core thread calls these functions with the time stamped
 * on each command; nothing here reads a clock, locks, or does I/O. Every state change goes
 * through core_apply(): the live path builds an event, hands it to the event sink (the journal)
 * and applies it; replay applies the recorded events the same way. The exchange is reached only
 * through the core_exchange callbacks (new / cancel out) and core_on_exchange_report() (reports
 * in), like a real exchange link. Each order change is announced to the listener (reply waiters
 * and streams) after it is applied.
 *
 * Ownership: the core owns its pools (allocated in core_init, freed in core_deinit) and refers to
 * the caller's refdata, which must outlive it. Pointers to orders stay valid until core_deinit. */
#ifndef TINVESTD_CORE_CORE_H
#define TINVESTD_CORE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/events.h"
#include "core/ledger.h"
#include "core/order_index.h"
#include "core/refdata.h"
#include "core/types.h"

#define CORE_NO_ORDER UINT32_MAX
#define CORE_MAX_VALUE_LIMITS 8

typedef struct core_trade {
    uint64_t trade_id;
    int64_t lots;
    int64_t price_nano;
    int64_t time_ns;
    uint32_t next;  /* next trade of the same order, or CORE_NO_ORDER */
    uint32_t order; /* the order it belongs to */
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
 * it was after a restart (see CORE_EVENT_MARKET_MAKER_MOVED). */
typedef struct core_venue_state {
    uint64_t random_state[4];   /* all zero until the first move is recorded */
    int64_t *mm_reference_nano; /* per instrument; 0 = no move recorded */
} core_venue_state;

typedef struct core_order {
    uint32_t index;
    uint32_t account, instrument;
    order_direction direction;
    order_type type;
    order_tif tif;
    order_source source;
    order_status status;
    order_cause cause;
    int32_t reject_code;
    bool key_is_uuid;
    int64_t price_nano;
    int64_t reserve_price_nano;
    int64_t lots_requested, lots_executed, lots_cancelled;
    int64_t executed_value_nano;
    int64_t initial_commission_nano, executed_commission_nano;
    int64_t reserved_cash_nano, reserved_units;
    uint64_t exchange_order_id;
    int64_t created_ns, acked_ns, completion_ns;
    uint32_t first_trade, last_trade, trade_count;
    uint32_t replaces_order;
    char key[ORDER_KEY_SIZE];
    char request_id[ORDER_ID_SIZE];
    char intent_id[ORDER_ID_SIZE];
    char exchange_id_text[24];
} core_order;

typedef struct core_value_limit {
    char currency[8];
    int64_t max_value_nano;
} core_value_limit;

typedef struct core_config {
    refdata *refdata; /* the core publishes the accounts opened at run time into it */
    int32_t commission_bp;
    uint32_t max_orders;
    uint32_t max_trades;
    int64_t idempotency_retention_ns;
    uint32_t value_limit_count;
    core_value_limit value_limits[CORE_MAX_VALUE_LIMITS];
    /* Seeds the broker's generated ids, so that a replay produces the same ids. */
    uint64_t id_seed;
    /* Sandbox accounts that OpenSandboxAccount may open over the configured ones. */
    uint32_t openable_sandbox_accounts;
} core_config;

/* What the core knows of the market, asked from the exchange link at check time. */
typedef struct core_market {
    bool trading;
    int64_t limit_down_nano, limit_up_nano;
    int64_t last_price_nano;
    int64_t best_bid_nano, best_ask_nano; /* 0 when that side is empty */
} core_market;

typedef struct core_exchange {
    void *ctx;
    void (*submit)(void *ctx, const core_order *order, int64_t now_ns);
    void (*cancel)(void *ctx, const core_order *order, int64_t now_ns);
    void (*market)(void *ctx, uint32_t instrument_index, core_market *out);
} core_exchange;

typedef struct core_listener {
    void *ctx;
    /* Called after `event` was applied to `order` on the live path (not during replay). */
    void (*order_changed)(void *ctx, const core_order *order, const core_event *event);
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
    uint32_t order;             /* order slot (the client_ref the core gave the exchange) */
    uint64_t exchange_order_id; /* ACK */
    uint64_t trade_id;          /* TRADE */
    int64_t lots;               /* TRADE: executed; CANCELLED: cancelled */
    int64_t price_nano;         /* TRADE */
    order_cause cause;          /* CANCELLED / REJECTED */
    int32_t reject_code;        /* REJECTED: T-Invest code of the reason */
    int64_t time_ns;
    bool aggressor; /* TRADE: the order was the incoming side */
} core_exchange_report;

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

typedef struct core_result {
    int code;                /* 0 or the T-Invest error code */
    const char *message;     /* NULL, or a more specific text for the error */
    const core_order *order; /* the placed (or, for a duplicate key, the stored) order */
    bool duplicate;          /* the key was stored already with the same terms */
} core_result;

typedef struct core {
    core_config config;
    refdata *refdata;
    ledger ledger;
    core_order *orders;
    uint32_t order_count;
    core_trade *trades;
    uint32_t trade_count;
    order_index by_key;      /* account index + client key */
    order_index by_order_id; /* intent id and exchange number, as text */
    core_venue_state venue;
    core_accounts_state accounts;
    uint64_t next_seq;
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
 * idempotency, then acceptance and hand-off to the exchange. */
core_result core_place_order(core *c, const core_order_request *req);

/* Finds an order of an account by exchange number / internal id or by the client's key. */
core_result core_find_order(core *c, const token *tok, const char *account_id, const char *order_id,
                            bool by_request_id, int64_t now_ns);
/* Requests cancellation at the exchange; the order ends when the exchange confirms. */
core_result core_cancel_order(core *c, const token *tok, const char *account_id,
                              const char *order_id, bool by_request_id, int64_t now_ns);
/* ReplaceOrder: cancels `order_id` and places a new order with `key`, same instrument and side. */
core_result core_replace_order(core *c, const token *tok, const char *account_id,
                               const char *order_id, const char *key, int64_t quantity,
                               bool has_price, int64_t price_nano, int32_t price_type,
                               int64_t now_ns);

void core_on_exchange_report(core *c, const core_exchange_report *report);
/* OpenSandboxAccount: a new sandbox account the token has full access to; its id into `id_out`.
 * 35001 when no slot is left. */
int core_open_sandbox_account(core *c, const token *tok, const char *name, int64_t now_ns,
                              char id_out[ORDER_ID_SIZE]);
/* CloseSandboxAccount: the account disappears for every client (50004 from then on) and its
 * active orders are cancelled. */
int core_close_sandbox_account(core *c, const token *tok, const char *account_id, int64_t now_ns);
/* After a snapshot load: publishes the restored accounts into the refdata. */
void core_publish_accounts(core *c);
/* Records a move of the exchange's market maker (see CORE_EVENT_MARKET_MAKER_MOVED). */
void core_record_market_maker(core *c, uint32_t instrument_index, int64_t reference_nano,
                              const uint64_t random_state[4], int64_t now_ns);

/* The single mutation path; live and replay alike. */
void core_apply(core *c, const core_event *event);

/* Read side, for GetMaxLots / GetOrderPrice / positions; the same arithmetic the checks use. */
typedef struct core_max_lots {
    const char *currency;
    int64_t buy_money_nano;
    int64_t buy_max_lots, buy_max_market_lots, sell_max_lots;
} core_max_lots;
int core_max_lots_for(core *c, const token *tok, const char *account_id, const char *instrument_id,
                      bool has_price, int64_t price_nano, core_max_lots *out);

typedef struct core_order_price {
    const instrument *instrument;
    int64_t total_nano, initial_nano, commission_nano;
    int64_t lots;
} core_order_price;
int core_order_price_for(core *c, const token *tok, const char *account_id,
                         const char *instrument_id, int32_t direction, int64_t quantity,
                         bool has_price, int64_t price_nano, core_order_price *out);

/* SandboxPayIn: credits a sandbox account. Returns 0 (with the new balance) or a T-Invest code. */
int core_pay_in(core *c, const token *tok, const char *account_id, const char *currency,
                int64_t amount_nano, int64_t now_ns, int64_t *balance_nano);

/* Resolves an account for reading: 0, 30021, 50004 or 40002. */
int core_account_for(const core *c, const token *tok, const char *account_id, bool need_trade,
                     const account **out);

const core_trade *core_trade_at(const core *c, uint32_t index);
/* The exchange's view of an instrument (limits, last price, best quotes), as the checks see it. */
void core_market_view(const core *c, uint32_t instrument_index, core_market *out);
const instrument *core_instrument_of(const core *c, const core_order *order);

/* Fingerprint of orders and balances: equal states hash equal. */
uint64_t core_state_hash(const core *c);

#endif
