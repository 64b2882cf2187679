/* Loading the JSON configuration file (instruments, accounts, tokens, limits, venue settings).
 *
 * The file format is documented in docs/CONFIG.md. Loading validates everything up front and
 * reports the first problem with its JSON path, so a bad file never starts a half-configured
 * server. */
#ifndef TINVESTD_CONFIG_CONFIG_H
#define TINVESTD_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "candles/candles.h"
#include "core/core.h"
#include "core/refdata.h"
#include "refbook/calendar.h"
#include "refbook/refbook.h"
#include "refbook/indicatives.h"

#define CONFIG_MAX_RATE_LIMITS 128
#define CONFIG_MAX_ORDER_VALUE_LIMITS 8
/* The largest rouble rate `currency_rates` takes: 10^9 roubles a unit. */
#define CONFIG_MAX_CURRENCY_RATE_NANO 1000000000000000000LL

/* A fraction (a risk rate, a rate per day) of 1 in nano units. */
#define CONFIG_FRACTION_ONE_NANO 1000000000LL
/* `margin`'s defaults: the exchange's two clearings (11:00 and 15:50 UTC, 14:00 and 18:50 in
 * Moscow) and overnight rates of 0.06 % a day on borrowed money and 0.04 % on shares sold short. */
#define CONFIG_DEFAULT_CLEARING_1_S (11 * 3600)
#define CONFIG_DEFAULT_CLEARING_2_S (15 * 3600 + 50 * 60)
#define CONFIG_DEFAULT_MONEY_RATE_PER_DAY_NANO 600000LL
#define CONFIG_DEFAULT_SHARES_RATE_PER_DAY_NANO 400000LL

typedef struct rate_limit_rule {
    /* "Service/Method" (the method's own budget, e.g. "OrdersService/PostOrder") or "Service" (one
     * budget shared by every method of the service without a rule of its own). */
    char method[96];
    int32_t per_minute;
} rate_limit_rule;

/* Where a method's requests are counted: its own budget, its service's shared one, or the
 * default (each method alone). */
typedef enum {
    RATE_SCOPE_DEFAULT = 0,
    RATE_SCOPE_SERVICE = 1,
    RATE_SCOPE_METHOD = 2,
} rate_limit_scope;

typedef struct order_value_limit {
    char currency[8];
    int64_t max_value_nano;
} order_value_limit;

typedef struct venue_settings {
    int64_t ack_delay_ns;
    int64_t fill_delay_ns;
    uint32_t reject_probability_ppm;
    uint64_t seed;
    bool market_maker_enabled;
    int32_t market_maker_levels;
    int64_t market_maker_lots_per_level;
    int32_t market_maker_spread_ticks;
    int64_t market_maker_refresh_ns;
    int32_t market_maker_walk_ticks;
} venue_settings;

/* admin.token's length bounds: long enough not to be guessed, short enough for one header. */
#define CONFIG_ADMIN_TOKEN_MIN_BYTES 16
#define CONFIG_ADMIN_TOKEN_MAX_BYTES 256

typedef struct tinvestd_config {
    refdata refdata;
    /* Unary rate limit applied to every method without its own rule; 0 means unlimited. */
    int32_t default_rate_limit_per_minute;
    uint32_t rate_limit_count;
    rate_limit_rule rate_limits[CONFIG_MAX_RATE_LIMITS];
    int32_t streams_per_token_per_method;
    /* OperationsStreamService: open PortfolioStream and PositionsStream calls per token, each
     * method counted alone (limits.md: 2 at every grade). */
    int32_t operations_streams_per_token_per_method;
    int32_t stream_backlog_messages;
    /* MarketDataStreamService: open streams per token (both methods together), subscriptions
     * to candles, order books and trades per stream, and messages a stream may have waiting. */
    int32_t md_streams_per_token;
    int32_t md_subscriptions_per_stream;
    int32_t md_backlog_messages;
    uint32_t max_message_bytes;
    /* Transport limits (docs/SECURITY.md): HTTP/2 streams one connection may have open, TCP
     * connections served at once, bytes gRPC may hold for connections and calls, bytes of request
     * headers one call may carry, and unary calls one token may have in flight. */
    int32_t max_concurrent_streams_per_connection;
    int32_t max_connections;
    int64_t max_memory_bytes;
    int32_t max_metadata_bytes;
    int32_t max_unary_calls_in_flight_per_token;
    /* Threads polling gRPC's completion queue (reads, parsing, handlers). */
    int32_t transport_threads;
    int64_t idempotency_retention_s;
    /* A finished order leaves memory this long after it ended (at least as long as its key stays
     * reserved: the larger of the two retentions applies). */
    int64_t order_history_retention_s;
    /* Orders one account may hold: active plus retained history. */
    int32_t max_orders_per_account;
    /* Orders the broker keeps in memory (history included); sizes the pools at start. */
    uint32_t max_orders;
    /* Trade records in memory, and the most fills one order may make (the exchange cancels the
     * rest): acceptance reserves a record for every fill an order can make. */
    uint32_t max_trades;
    /* Stop orders held in all and per account (active plus retained history). */
    uint32_t max_stop_orders, max_stop_orders_per_account;
    uint32_t max_operations; /* 0: 2 x max_orders */
    uint32_t max_trades_per_order;
    /* Commission charged on executed value, in basis points (hundredths of a percent). */
    int32_t commission_bp;
    uint32_t order_value_limit_count;
    order_value_limit order_value_limits[CONFIG_MAX_ORDER_VALUE_LIMITS];
    venue_settings venue;
    int32_t queue_capacity;
    /* A snapshot is written after this many events (0: never). */
    int64_t snapshot_every_events;
    /* Journal space kept allocated ahead of its end, so that a full disk is met before a batch
     * (changes refused, reads answered) rather than inside one (its replies held); 0: none. */
    int64_t journal_reserve_bytes;
    /* Sandbox accounts OpenSandboxAccount may open in all (more → 35001). */
    int32_t sandbox_accounts;
    /* Candles: how many each instrument keeps per interval, and the exchange's UTC offset. */
    candles_config candles;
    /* The directory of the reference-data files (docs/REFERENCE-DATA.md), as the file's
     * `reference_dir` names it, relative to the configuration file's own directory; empty: none. */
    char reference_dir[4096];
    /* Bond coupons, bond events and dividends (bond_coupons.json, bond_events.json,
     * dividends.json of `reference_dir`); empty without them. */
    calendar calendar;
    /* Assets, brands, countries, analytics and signals (docs/REFERENCE-DATA.md): read from
     * reference_dir by the readers of config/reference_assets.c, reference_analytics.c and
     * reference_signals.c; immutable afterwards. */
    refbook_assets assets;
    refbook_analytics analytics;
    refbook_signals signals;
    /* Favorites (InstrumentsService): instruments (all lists together) and groups one user may
     * hold; the pools are these times the number of users, fixed at start. */
    uint32_t max_favorites_per_user, max_favorite_groups_per_user;
    /* Indices and commodities (indicatives.json of the reference directory). */
    indicative_table indicatives;
    /* Margin trading (`margin`): the clearings and overnight rates, handed to the core as they
     * are (settings_core). */
    core_margin_config margin;
    /* The operator's token for tinvestd.admin.v1.AdminService (`admin.token`); NULL: none is
     * configured and every admin call is refused. Never a trading token (docs/SECURITY.md). */
    const char *admin_token;
} tinvestd_config;

/* Fills defaults, then reads `path`. On failure returns -1 and writes a one-line reason
 * (naming the JSON path) into `error`. The config must be released with config_deinit(). */
int config_load(tinvestd_config *cfg, const char *path, char *error, size_t error_size);
void config_deinit(tinvestd_config *cfg);

/* The per-minute limit for a method given as "Service/Method"; 0 means unlimited. `scope` (may be
 * NULL) receives which rule gave it: the method's own, its service's shared one, or the default. */
int32_t config_rate_limit_for(const tinvestd_config *cfg, const char *method,
                              rate_limit_scope *scope);

#endif
