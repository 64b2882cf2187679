#include "stream/hub.h"

#include <errno.h>
#include <stdlib.h>

int stream_hub_init(stream_hub *hub, uint32_t token_count, int32_t per_token_limit) {
    pthread_mutex_init(&hub->lock, NULL);
    hub->head = NULL;
    hub->token_count = token_count;
    for (int k = 0; k < STREAM_KIND_COUNT; k++)
        hub->limit[k] = per_token_limit;
    hub->open =
        calloc((size_t)(token_count ? token_count : 1) * STREAM_KIND_COUNT, sizeof *hub->open);
    for (int i = 0; i < REFDATA_MAX_ACCOUNTS; i++)
        atomic_init(&hub->listeners[i], 0);
    return hub->open == NULL ? -ENOMEM : 0;
}

void stream_hub_deinit(stream_hub *hub) {
    free(hub->open);
    hub->open = NULL;
    pthread_mutex_destroy(&hub->lock);
}

void stream_hub_set_limit(stream_hub *hub, stream_kind kind, int32_t per_token_limit) {
    hub->limit[kind] = per_token_limit;
}

static int32_t *open_slot(stream_hub *hub, uint32_t token_index, stream_kind kind) {
    return &hub->open[(size_t)token_index * STREAM_KIND_COUNT + kind];
}

static void count_listeners(stream_hub *hub, const stream_subscriber *sub, int delta) {
    for (int i = 0; i < REFDATA_MAX_ACCOUNTS; i++)
        if (sub->accounts[i])
            atomic_fetch_add(&hub->listeners[i], delta);
}

bool stream_hub_add(stream_hub *hub, stream_subscriber *sub) {
    pthread_mutex_lock(&hub->lock);
    int32_t *open = open_slot(hub, sub->token_index, sub->kind);
    bool allowed = *open < hub->limit[sub->kind];
    if (allowed) {
        (*open)++;
        sub->prev = NULL;
        sub->next = hub->head;
        if (hub->head != NULL)
            hub->head->prev = sub;
        hub->head = sub;
        count_listeners(hub, sub, 1);
    }
    pthread_mutex_unlock(&hub->lock);
    return allowed;
}

void stream_hub_remove(stream_hub *hub, stream_subscriber *sub) {
    pthread_mutex_lock(&hub->lock);
    if (sub->prev != NULL)
        sub->prev->next = sub->next;
    else
        hub->head = sub->next;
    if (sub->next != NULL)
        sub->next->prev = sub->prev;
    (*open_slot(hub, sub->token_index, sub->kind))--;
    count_listeners(hub, sub, -1);
    sub->prev = sub->next = NULL;
    pthread_mutex_unlock(&hub->lock);
}

void stream_hub_set_sink(stream_hub *hub, stream_subscriber *sub, void *sink) {
    pthread_mutex_lock(&hub->lock);
    sub->sink = sink;
    pthread_mutex_unlock(&hub->lock);
}

int32_t stream_hub_open_count(stream_hub *hub, uint32_t token_index, stream_kind kind) {
    pthread_mutex_lock(&hub->lock);
    int32_t open = *open_slot(hub, token_index, kind);
    pthread_mutex_unlock(&hub->lock);
    return open;
}

bool stream_hub_has_listeners(const stream_hub *hub, uint32_t account_index) {
    return atomic_load(&hub->listeners[account_index]) > 0;
}

void stream_hub_each(stream_hub *hub, stream_kind kind, uint32_t account_index,
                     void (*fn)(stream_subscriber *sub, void *ctx), void *ctx) {
    pthread_mutex_lock(&hub->lock);
    for (stream_subscriber *sub = hub->head; sub != NULL; sub = sub->next)
        if (sub->kind == kind && sub->accounts[account_index] && sub->sink != NULL)
            fn(sub, ctx);
    pthread_mutex_unlock(&hub->lock);
}

void stream_hub_each_all(stream_hub *hub, void (*fn)(stream_subscriber *sub, void *ctx),
                         void *ctx) {
    pthread_mutex_lock(&hub->lock);
    for (stream_subscriber *sub = hub->head; sub != NULL; sub = sub->next)
        if (sub->sink != NULL)
            fn(sub, ctx);
    pthread_mutex_unlock(&hub->lock);
}

void stream_hub_forget_account(stream_hub *hub, uint32_t account_index) {
    pthread_mutex_lock(&hub->lock);
    for (stream_subscriber *sub = hub->head; sub != NULL; sub = sub->next) {
        if (sub->accounts[account_index]) {
            sub->accounts[account_index] = false;
            atomic_fetch_sub(&hub->listeners[account_index], 1);
        }
    }
    pthread_mutex_unlock(&hub->lock);
}
