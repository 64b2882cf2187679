/* Who listens to which market data: the subscriptions of every market-data stream, checked
 * against the contract's rules and limits, indexed by instrument and kind for the fan-out.
 *
 * DESIGN: a stream's requests change its subscriptions on the core thread (in command order,
 * so that a subscription takes effect between two batches); the fan-out walks them on the thread
 * that releases a batch; GetMySubscriptions lists them. One mutex guards the hub. Per instrument
 * and kind an atomic count of subscriptions lets the core thread skip instruments nobody
 * follows without taking the lock. Every subscription is bounded: per stream by
 * `max_per_stream` (candles, order books and trades together, as the real service counts
 * them) and by one of each kind per instrument for trading statuses and last prices; streams per
 * token by `max_streams_per_token`. The hub knows no gRPC: a subscriber carries its transport's
 * stream as an opaque sink. */
#ifndef TINVESTD_STREAM_MD_HUB_H
#define TINVESTD_STREAM_MD_HUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/uuid.h"

typedef enum {
    MD_KIND_CANDLES = 0,
    MD_KIND_ORDER_BOOK,
    MD_KIND_TRADES,
    MD_KIND_INFO,
    MD_KIND_LAST_PRICE,
    MD_KIND_COUNT
} md_kind;

/* The contract's SubscriptionStatus values. */
typedef enum {
    MD_STATUS_SUCCESS = 1,
    MD_STATUS_INSTRUMENT_NOT_FOUND = 2,
    MD_STATUS_ACTION_INVALID = 3,
    MD_STATUS_DEPTH_INVALID = 4,
    MD_STATUS_INTERVAL_INVALID = 5,
    MD_STATUS_LIMIT_EXCEEDED = 6,
    MD_STATUS_INTERNAL_ERROR = 7,
    MD_STATUS_TOO_MANY_REQUESTS = 8,
    MD_STATUS_NOT_FOUND = 9,
    MD_STATUS_SOURCE_INVALID = 10,
} md_status;

#define MD_ACTION_SUBSCRIBE 1
#define MD_ACTION_UNSUBSCRIBE 2
#define MD_NO_INSTRUMENT UINT32_MAX
/* Order book depths the contract allows, and the number of them. */
#define MD_DEPTH_COUNT 6
/* OrderBookType values 0..3 (unspecified, exchange, dealer, all). */
#define MD_BOOK_TYPE_COUNT 4
/* SubscriptionInterval values 1..13 (one minute .. month); 0 is unspecified. */
#define MD_CANDLE_INTERVALS 14

/* What one entry of a subscribe request asks for; parameters the kind does not use stay 0. */
typedef struct md_item {
    uint32_t instrument; /* MD_NO_INSTRUMENT: the id named nothing */
    int32_t depth;       /* order book */
    int32_t book_type;   /* order book: OrderBookType */
    int32_t interval;    /* candles: SubscriptionInterval */
    bool waiting_close;  /* candles */
    int32_t source;      /* candles: CandleSource; trades: TradeSourceType */
    bool with_open_interest;
} md_item;

typedef struct md_subscriber md_subscriber;

typedef struct md_sub {
    md_kind kind;
    md_item item;
    char subscription_id[UUID_TEXT_SIZE];
    /* For the sink's conflation: a tag that names this subscription in its queue, and where its
     * newest queued message sits (the sink's business; guarded by the hub's lock). For candles,
     * the opening time of the candle that message carries: only a newer state of the same
     * candle replaces it. */
    uint64_t tag;
    uint32_t queued_at;
    int64_t queued_candle_ns;
    md_subscriber *owner;
    struct md_sub *prev, *next; /* the (instrument, kind) list */
    struct md_sub *owner_next;  /* the subscriber's list */
} md_sub;

struct md_subscriber {
    uint32_t token_index;
    uint32_t limited; /* candles, order books and trades: counted against max_per_stream */
    uint32_t total;
    md_sub *subs;
    uint64_t next_tag;
    void *sink;
    bool added;
    struct md_subscriber *prev_stream, *next_stream; /* the hub's streams */
};

typedef struct md_hub {
    pthread_mutex_t lock;
    uint32_t instrument_count, token_count;
    int32_t max_streams_per_token;
    int32_t max_per_stream;
    int32_t *open; /* streams per token */
    md_subscriber *streams;
    md_sub **lists; /* instrument_count * MD_KIND_COUNT heads */
    atomic_uint *interest;
    atomic_uint *candle_interest; /* instrument_count * MD_CANDLE_INTERVALS */
} md_hub;

int md_hub_init(md_hub *hub, uint32_t instrument_count, uint32_t token_count,
                int32_t max_streams_per_token, int32_t max_per_stream);
void md_hub_deinit(md_hub *hub);

/* Counts a new stream against its token; false when the token has max_streams_per_token. */
bool md_hub_add(md_hub *hub, md_subscriber *sub, uint32_t token_index, void *sink);
/* Drops every subscription of the stream and its count (the stream is over). */
void md_hub_remove(md_hub *hub, md_subscriber *sub);

/* Whether the depth and the values of the enums are ones the contract names. */
bool md_depth_valid(int32_t depth);
int md_depth_index(int32_t depth); /* 0..MD_DEPTH_COUNT-1, or -1 */

/* Applies one request's entries in order, each status into `statuses[i]`, and for each entry
 * the subscription it made or ended into `ids[i]` (the new or existing subscription's id, or
 * an empty text). A subscription asked for twice is one subscription (SUCCESS, same id).
 * `created` (or NULL) says for each entry whether it made a new subscription (a repeat did not:
 * its stream already has the data). */
void md_hub_change(md_hub *hub, md_subscriber *sub, md_kind kind, int action, const md_item *items,
                   uint32_t n, md_status *statuses, char (*ids)[UUID_TEXT_SIZE], bool *created);

/* Copies up to `max` of the stream's subscriptions of `kind` (oldest first); returns the count. */
uint32_t md_hub_list(md_hub *hub, const md_subscriber *sub, md_kind kind, md_sub *out,
                     uint32_t max);

/* Whether anyone follows the instrument's data of `kind` (no lock: a hint for the core thread). */
bool md_hub_wanted(const md_hub *hub, uint32_t instrument, md_kind kind);
/* Whether anyone follows the instrument's candles of one SubscriptionInterval (no lock). */
bool md_hub_wanted_candles(const md_hub *hub, uint32_t instrument, int32_t interval);

/* Calls `fn` under the lock for every subscription of `kind` on the instrument whose stream has
 * a sink. */
void md_hub_each(md_hub *hub, md_kind kind, uint32_t instrument, void (*fn)(md_sub *s, void *ctx),
                 void *ctx);

/* Runs `fn` under the hub's lock (the sink's conflation state is guarded by it). */
void md_hub_locked(md_hub *hub, void (*fn)(void *ctx), void *ctx);

/* Calls `fn` under the lock for every stream with a sink (shutdown). */
void md_hub_each_stream(md_hub *hub, void (*fn)(md_subscriber *sub, void *ctx), void *ctx);

/* Open streams of a token (for GetUserTariff). */
int32_t md_hub_open_count(md_hub *hub, uint32_t token_index);

#endif
