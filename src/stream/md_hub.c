#include "stream/md_hub.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const int32_t depths[MD_DEPTH_COUNT] = {1, 10, 20, 30, 40, 50};

#define SUBSCRIPTION_INTERVAL_MAX 13 /* SUBSCRIPTION_INTERVAL_MONTH */
#define BOOK_TYPE_ALL 3
#define TRADE_SOURCE_ALL 3
#define TRADE_SOURCE_MAX 3
#define CANDLE_SOURCE_EXCHANGE 1
#define CANDLE_SOURCE_INCLUDE_WEEKEND 3

int md_hub_init(md_hub *hub, uint32_t instrument_count, uint32_t token_count,
                int32_t max_streams_per_token, int32_t max_per_stream) {
    memset(hub, 0, sizeof *hub);
    hub->instrument_count = instrument_count;
    hub->token_count = token_count;
    hub->max_streams_per_token = max_streams_per_token;
    hub->max_per_stream = max_per_stream;
    size_t lists = (size_t)(instrument_count ? instrument_count : 1) * MD_KIND_COUNT;
    hub->open = calloc(token_count ? token_count : 1, sizeof *hub->open);
    hub->lists = calloc(lists, sizeof *hub->lists);
    hub->interest = calloc(lists, sizeof *hub->interest);
    hub->candle_interest =
        calloc((size_t)(instrument_count ? instrument_count : 1) * MD_CANDLE_INTERVALS,
               sizeof *hub->candle_interest);
    if (hub->open == NULL || hub->lists == NULL || hub->interest == NULL ||
        hub->candle_interest == NULL) {
        md_hub_deinit(hub);
        return -ENOMEM;
    }
    pthread_mutex_init(&hub->lock, NULL);
    return 0;
}

void md_hub_deinit(md_hub *hub) {
    if (hub->lists != NULL)
        pthread_mutex_destroy(&hub->lock);
    free(hub->open);
    free(hub->lists);
    free(hub->interest);
    free(hub->candle_interest);
    hub->open = NULL;
    hub->lists = NULL;
    hub->interest = NULL;
    hub->candle_interest = NULL;
}

bool md_hub_add(md_hub *hub, md_subscriber *sub, uint32_t token_index, void *sink) {
    assert(token_index < hub->token_count);
    memset(sub, 0, sizeof *sub);
    sub->token_index = token_index;
    sub->sink = sink;
    pthread_mutex_lock(&hub->lock);
    bool ok = hub->open[token_index] < hub->max_streams_per_token;
    if (ok) {
        hub->open[token_index]++;
        sub->added = true;
        sub->next_stream = hub->streams;
        if (sub->next_stream != NULL)
            sub->next_stream->prev_stream = sub;
        hub->streams = sub;
    }
    pthread_mutex_unlock(&hub->lock);
    return ok;
}

static size_t list_index(const md_hub *hub, uint32_t instrument, md_kind kind) {
    assert(instrument < hub->instrument_count && kind < MD_KIND_COUNT);
    return (size_t)instrument * MD_KIND_COUNT + kind;
}

static size_t candle_index(const md_hub *hub, uint32_t instrument, int32_t interval) {
    assert(instrument < hub->instrument_count && interval > 0 && interval < MD_CANDLE_INTERVALS);
    return (size_t)instrument * MD_CANDLE_INTERVALS + (size_t)interval;
}

static bool counts_against_limit(md_kind kind) {
    return kind == MD_KIND_CANDLES || kind == MD_KIND_ORDER_BOOK || kind == MD_KIND_TRADES;
}

/* Unlinks and frees `s`; the lock is held. */
static void drop_locked(md_hub *hub, md_subscriber *sub, md_sub *s) {
    size_t at = list_index(hub, s->item.instrument, s->kind);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        hub->lists[at] = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    atomic_fetch_sub(&hub->interest[at], 1);
    if (s->kind == MD_KIND_CANDLES)
        atomic_fetch_sub(
            &hub->candle_interest[candle_index(hub, s->item.instrument, s->item.interval)], 1);
    for (md_sub **link = &sub->subs; *link != NULL; link = &(*link)->owner_next) {
        if (*link == s) {
            *link = s->owner_next;
            break;
        }
    }
    if (counts_against_limit(s->kind))
        sub->limited--;
    sub->total--;
    free(s);
}

void md_hub_remove(md_hub *hub, md_subscriber *sub) {
    pthread_mutex_lock(&hub->lock);
    while (sub->subs != NULL)
        drop_locked(hub, sub, sub->subs);
    if (sub->added) {
        assert(hub->open[sub->token_index] > 0);
        hub->open[sub->token_index]--;
        sub->added = false;
        if (sub->prev_stream != NULL)
            sub->prev_stream->next_stream = sub->next_stream;
        else
            hub->streams = sub->next_stream;
        if (sub->next_stream != NULL)
            sub->next_stream->prev_stream = sub->prev_stream;
        sub->prev_stream = sub->next_stream = NULL;
    }
    sub->sink = NULL;
    pthread_mutex_unlock(&hub->lock);
}

int md_depth_index(int32_t depth) {
    for (int i = 0; i < MD_DEPTH_COUNT; i++)
        if (depths[i] == depth)
            return i;
    return -1;
}

bool md_depth_valid(int32_t depth) {
    return md_depth_index(depth) >= 0;
}

/* The entry as a subscription keeps it (defaults filled in), or the status refusing it. */
static md_status check_item(md_kind kind, md_item *item) {
    if (item->instrument == MD_NO_INSTRUMENT)
        return MD_STATUS_INSTRUMENT_NOT_FOUND;
    switch (kind) {
    case MD_KIND_ORDER_BOOK:
        if (!md_depth_valid(item->depth))
            return MD_STATUS_DEPTH_INVALID;
        if (item->book_type < 0 || item->book_type >= MD_BOOK_TYPE_COUNT)
            return MD_STATUS_SOURCE_INVALID;
        if (item->book_type == 0)
            item->book_type = BOOK_TYPE_ALL; /* the contract's default */
        break;
    case MD_KIND_CANDLES:
        if (item->interval <= 0 || item->interval > SUBSCRIPTION_INTERVAL_MAX)
            return MD_STATUS_INTERVAL_INVALID;
        if (item->source != 0 && item->source != CANDLE_SOURCE_EXCHANGE &&
            item->source != CANDLE_SOURCE_INCLUDE_WEEKEND)
            return MD_STATUS_SOURCE_INVALID;
        break;
    case MD_KIND_TRADES:
        if (item->source < 0 || item->source > TRADE_SOURCE_MAX)
            return MD_STATUS_SOURCE_INVALID;
        if (item->source == 0)
            item->source = TRADE_SOURCE_ALL; /* the contract's default */
        break;
    case MD_KIND_INFO:
    case MD_KIND_LAST_PRICE:
    case MD_KIND_COUNT:
        break;
    }
    return MD_STATUS_SUCCESS;
}

/* Whether `s` is the subscription `item` names: one per instrument, and per depth and book type
 * for order books, per interval for candles. */
static bool same_subscription(const md_sub *s, const md_item *item) {
    switch (s->kind) {
    case MD_KIND_ORDER_BOOK:
        return s->item.depth == item->depth && s->item.book_type == item->book_type;
    case MD_KIND_CANDLES:
        return s->item.interval == item->interval;
    default:
        return true;
    }
}

static md_sub *find_locked(md_hub *hub, const md_subscriber *sub, md_kind kind,
                           const md_item *item) {
    /* The stream's own list: bounded by its limits, however many streams follow the instrument. */
    for (md_sub *s = sub->subs; s != NULL; s = s->owner_next)
        if (s->kind == kind && s->item.instrument == item->instrument && same_subscription(s, item))
            return s;
    return NULL;
}

static md_status subscribe_locked(md_hub *hub, md_subscriber *sub, md_kind kind,
                                  const md_item *item, char *id, bool *created) {
    md_sub *s = find_locked(hub, sub, kind, item);
    if (s != NULL) {
        s->item = *item; /* a repeat may change the flags (waiting_close, source) */
        memcpy(id, s->subscription_id, UUID_TEXT_SIZE);
        return MD_STATUS_SUCCESS;
    }
    if (counts_against_limit(kind) && sub->limited >= (uint32_t)hub->max_per_stream)
        return MD_STATUS_LIMIT_EXCEEDED;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return MD_STATUS_INTERNAL_ERROR;
    s->kind = kind;
    s->item = *item;
    uuid_generate_v4(s->subscription_id);
    s->tag = ++sub->next_tag;
    s->queued_at = UINT32_MAX;
    s->queued_candle_ns = INT64_MIN;
    s->owner = sub;
    size_t at = list_index(hub, item->instrument, kind);
    s->next = hub->lists[at];
    if (s->next != NULL)
        s->next->prev = s;
    hub->lists[at] = s;
    atomic_fetch_add(&hub->interest[at], 1);
    if (kind == MD_KIND_CANDLES)
        atomic_fetch_add(&hub->candle_interest[candle_index(hub, item->instrument, item->interval)],
                         1);
    /* The subscriber's list keeps the order of subscription (appended at its end). */
    md_sub **link = &sub->subs;
    while (*link != NULL)
        link = &(*link)->owner_next;
    *link = s;
    if (counts_against_limit(kind))
        sub->limited++;
    sub->total++;
    memcpy(id, s->subscription_id, UUID_TEXT_SIZE);
    *created = true;
    return MD_STATUS_SUCCESS;
}

void md_hub_change(md_hub *hub, md_subscriber *sub, md_kind kind, int action, const md_item *items,
                   uint32_t n, md_status *statuses, char (*ids)[UUID_TEXT_SIZE], bool *created) {
    assert(kind < MD_KIND_COUNT);
    pthread_mutex_lock(&hub->lock);
    for (uint32_t i = 0; i < n; i++) {
        ids[i][0] = '\0';
        bool made = false;
        if (created != NULL)
            created[i] = false;
        md_item item = items[i];
        if (!sub->added) {
            statuses[i] = MD_STATUS_INTERNAL_ERROR; /* the stream is over */
            continue;
        }
        if (action != MD_ACTION_SUBSCRIBE && action != MD_ACTION_UNSUBSCRIBE) {
            statuses[i] = MD_STATUS_ACTION_INVALID;
            continue;
        }
        if (item.instrument != MD_NO_INSTRUMENT && item.instrument >= hub->instrument_count)
            item.instrument = MD_NO_INSTRUMENT;
        statuses[i] = check_item(kind, &item);
        if (statuses[i] != MD_STATUS_SUCCESS)
            continue;
        if (action == MD_ACTION_SUBSCRIBE) {
            statuses[i] = subscribe_locked(hub, sub, kind, &item, ids[i], &made);
            if (created != NULL)
                created[i] = made;
            continue;
        }
        md_sub *s = find_locked(hub, sub, kind, &item);
        if (s == NULL) {
            statuses[i] = MD_STATUS_NOT_FOUND;
            continue;
        }
        memcpy(ids[i], s->subscription_id, UUID_TEXT_SIZE);
        drop_locked(hub, sub, s);
    }
    pthread_mutex_unlock(&hub->lock);
}

uint32_t md_hub_list(md_hub *hub, const md_subscriber *sub, md_kind kind, md_sub *out,
                     uint32_t max) {
    uint32_t n = 0;
    pthread_mutex_lock(&hub->lock);
    for (const md_sub *s = sub->subs; s != NULL && n < max; s = s->owner_next)
        if (s->kind == kind)
            out[n++] = *s;
    pthread_mutex_unlock(&hub->lock);
    return n;
}

bool md_hub_wanted(const md_hub *hub, uint32_t instrument, md_kind kind) {
    return atomic_load_explicit(&hub->interest[list_index(hub, instrument, kind)],
                                memory_order_relaxed) != 0;
}

bool md_hub_wanted_candles(const md_hub *hub, uint32_t instrument, int32_t interval) {
    if (interval <= 0 || interval >= MD_CANDLE_INTERVALS)
        return false;
    return atomic_load_explicit(&hub->candle_interest[candle_index(hub, instrument, interval)],
                                memory_order_relaxed) != 0;
}

void md_hub_each(md_hub *hub, md_kind kind, uint32_t instrument, void (*fn)(md_sub *s, void *ctx),
                 void *ctx) {
    pthread_mutex_lock(&hub->lock);
    for (md_sub *s = hub->lists[list_index(hub, instrument, kind)], *next; s != NULL; s = next) {
        next = s->next;
        if (s->owner->sink != NULL)
            fn(s, ctx);
    }
    pthread_mutex_unlock(&hub->lock);
}

void md_hub_locked(md_hub *hub, void (*fn)(void *ctx), void *ctx) {
    pthread_mutex_lock(&hub->lock);
    fn(ctx);
    pthread_mutex_unlock(&hub->lock);
}

void md_hub_each_stream(md_hub *hub, void (*fn)(md_subscriber *sub, void *ctx), void *ctx) {
    pthread_mutex_lock(&hub->lock);
    for (md_subscriber *sub = hub->streams; sub != NULL; sub = sub->next_stream)
        if (sub->sink != NULL)
            fn(sub, ctx);
    pthread_mutex_unlock(&hub->lock);
}

int32_t md_hub_open_count(md_hub *hub, uint32_t token_index) {
    pthread_mutex_lock(&hub->lock);
    int32_t n = token_index < hub->token_count ? hub->open[token_index] : 0;
    pthread_mutex_unlock(&hub->lock);
    return n;
}
