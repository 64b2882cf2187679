/* Who listens to what: stream subscriptions by account, and the per-token stream limits.
 *
 * DESIGN: subscriptions change on the transport thread and are read by the core thread when it
 * fans out committed order events, so the hub is guarded by one mutex; fan-out holds it only to
 * enqueue (each stream's own queue is bounded and never blocks). A per-account count of
 * subscribers lets the core thread skip events nobody listens to without taking the lock. */
#ifndef TINVESTD_STREAM_HUB_H
#define TINVESTD_STREAM_HUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/refdata.h"

typedef enum {
    STREAM_KIND_ORDER_STATE = 0,
    STREAM_KIND_TRADES = 1,
    STREAM_KIND_PORTFOLIO = 2, /* OperationsStreamService.PortfolioStream */
    STREAM_KIND_POSITIONS = 3, /* OperationsStreamService.PositionsStream */
    STREAM_KIND_COUNT
} stream_kind;

typedef struct stream_subscriber {
    stream_kind kind;
    uint32_t token_index;
    bool accounts[REFDATA_MAX_ACCOUNTS];
    void *sink; /* the transport's stream object */
    struct stream_subscriber *prev, *next;
} stream_subscriber;

typedef struct stream_hub {
    pthread_mutex_t lock;
    stream_subscriber *head;
    uint32_t token_count;
    int32_t limit[STREAM_KIND_COUNT]; /* open streams per token of each kind */
    int32_t *open;                    /* token_count * STREAM_KIND_COUNT */
    atomic_int listeners[REFDATA_MAX_ACCOUNTS];
} stream_hub;

int stream_hub_init(stream_hub *hub, uint32_t token_count, int32_t per_token_limit);
void stream_hub_deinit(stream_hub *hub);
/* A kind's own limit per token (every kind starts with per_token_limit); before any add. */
void stream_hub_set_limit(stream_hub *hub, stream_kind kind, int32_t per_token_limit);

/* Adds a subscriber; false when its token already has its kind's limit of streams. */
bool stream_hub_add(stream_hub *hub, stream_subscriber *sub);
void stream_hub_remove(stream_hub *hub, stream_subscriber *sub);
/* Attaches the transport's stream once it is open; events reach a subscriber only then. */
void stream_hub_set_sink(stream_hub *hub, stream_subscriber *sub, void *sink);

/* Open streams of a token and kind (for GetUserTariff). */
int32_t stream_hub_open_count(stream_hub *hub, uint32_t token_index, stream_kind kind);

bool stream_hub_has_listeners(const stream_hub *hub, uint32_t account_index);

/* Calls `fn` for every subscriber of `kind` with a sink that listens to `account_index`, under the
 * lock. */
void stream_hub_each(stream_hub *hub, stream_kind kind, uint32_t account_index,
                     void (*fn)(stream_subscriber *sub, void *ctx), void *ctx);

/* No subscriber follows the account's slot any more (it is about to hold another account). */
void stream_hub_forget_account(stream_hub *hub, uint32_t account_index);

/* Calls `fn` for every subscriber (shutdown). */
void stream_hub_each_all(stream_hub *hub, void (*fn)(stream_subscriber *sub, void *ctx), void *ctx);

#endif
