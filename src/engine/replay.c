#include "engine/replay.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_codec.h"
#include "util/bigmem.h"

_Static_assert(EVENT_CODEC_FORMAT == JOURNAL_FORMAT_VERSION,
               "the journal's records are the event codec's payloads");

/* Events handed on at once, and batches in flight: enough to keep both threads busy, few enough
 * to stay in the cache the two share (4 x 2048 x 208 bytes at most). */
#define BATCH_EVENTS 2048
#define BATCHES 4
/* The texts a batch's events borrow (a favorite group's name): decoded events point into the
 * segment, which is unmapped once it has been read, so the batch keeps its own copy until the
 * applier is done with it. A batch is handed on early when the next name might not fit. */
#define BATCH_TEXT_BYTES (16 * FAVORITE_GROUP_NAME_SIZE)

typedef struct batch {
    uint32_t count;
    uint32_t text_used;
    core_event events[BATCH_EVENTS];
    char text[BATCH_TEXT_BYTES];
} batch;

/* Memory is backed ahead a huge page at a time (bigmem_prefault). */
#define PREFAULT_CHUNK_BYTES (2u << 20)

/* How far the reader has had memory backed that the applier will fill (bigmem_prefault): the
 * order and trade records, the operations' ring and their per-order numbers, elements below
 * these; the two order indexes, entries below these. */
typedef struct prefaulted {
    size_t orders, trades, operations, order_operations, key_entries, id_entries;
} prefaulted;

/* The applier's pools as it leaves each batch, published under the pipeline's lock. */
typedef struct pool_marks {
    uint32_t order_high, trade_high, orders_in_use;
    uint64_t operation_next; /* the number the next operation takes */
} pool_marks;

typedef struct pipeline {
    core *core;
    uint64_t first_seq; /* the records before it are covered by the loaded snapshot */
    bool threaded;      /* false: decode and apply on the calling thread */
    batch *batches;     /* a ring of BATCHES */
    uint32_t filling;   /* the batch the reader fills */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* Under `lock`: batches head .. head + ready - 1 wait for the applier. */
    uint32_t head, ready;
    bool done;            /* the reader has handed on its last batch */
    bool stop;            /* the reader failed: the applier stops */
    bool refused;         /* the applier refused an event ... */
    uint64_t refused_seq; /* ... this one */
    pool_marks marks;     /* under `lock`: the state after the last batch applied */
    prefaulted ahead;     /* the reader's own */
} pipeline;

/* A record's payload as an event: the codec's encoding from format 5, the raw struct before. */
static int decode_record(uint32_t format, uint16_t type, uint64_t seq, const void *payload,
                         uint32_t length, core_event *out) {
    return format == JOURNAL_FORMAT_VERSION
               ? event_codec_decode(type, seq, payload, length, out)
               : event_codec_decode_legacy(type, seq, payload, length, out);
}

/* A record written with another configuration, or damaged past its checksum, is refused rather
 * than applied: the checks the live path asserts before it applies (core_event_applicable), in
 * two halves. What the event must satisfy alone is checked as it is decoded, on the reader's
 * thread (the ids' UUID checks were a fifth of the applier's time); what it asks of the state,
 * just before it is applied. */
static int decode_checked(uint32_t format, uint16_t type, uint64_t seq, const void *payload,
                          uint32_t length, core_event *out) {
    if (decode_record(format, type, seq, payload, length, out) != 0 || !core_event_well_formed(out))
        return -1;
    return 0;
}

static bool apply_event(core *c, const core_event *event) {
    if (!core_event_fits(c, event))
        return false;
    core_apply(c, event);
    return true;
}

static pool_marks marks_of(const core *c) {
    return (pool_marks){.order_high = c->pools.order_high,
                        .trade_high = c->pools.trade_high,
                        .orders_in_use = c->pools.orders_in_use,
                        .operation_next = c->operations.next};
}

/* One chunk of `array` (bigmem_alloc(count, size)) backed from `*done` towards `target`; false
 * when it is there already. */
static bool prefault_chunk(void *array, size_t count, size_t size, size_t *done, size_t target) {
    if (target > count)
        target = count;
    if (*done >= target)
        return false;
    size_t to = *done + PREFAULT_CHUNK_BYTES / size;
    if (to > target)
        to = target;
    bigmem_prefault(array, count, size, *done, to);
    *done = to;
    return true;
}

/* Work for the reader while the applier has every batch: a chunk of the memory the applier is
 * about to fill, so that it does not stop for the kernel to zero pages. The batches in flight
 * take at most one order slot, one trade record and two operations an event past the marks, so
 * nothing beyond that is backed (the operations' ring is filled in number order, from its start,
 * until it wraps; the per-order operation numbers go with the order slots). The order indexes,
 * built after the replay, are backed too once there are so many orders that their build would touch
 * every page of them anyway (an entry per 4 KiB page); with fewer orders they are left as they are.
 * Returns false when nothing is left to do now. */
static bool prefault_step(pipeline *p, pool_marks marks) {
    core *c = p->core;
    const size_t in_flight = (size_t)BATCHES * BATCH_EVENTS;
    if (prefault_chunk(c->orders, c->config.max_orders, sizeof *c->orders, &p->ahead.orders,
                       (size_t)marks.order_high + in_flight) ||
        prefault_chunk(c->trades, c->config.max_trades, sizeof *c->trades, &p->ahead.trades,
                       (size_t)marks.trade_high + in_flight))
        return true;
    const operation_store *ops = &c->operations;
    if (prefault_chunk(ops->ring, ops->capacity, sizeof *ops->ring, &p->ahead.operations,
                       (size_t)marks.operation_next + 2 * in_flight))
        return true;
    size_t from = p->ahead.order_operations;
    if (prefault_chunk(ops->order_operation, ops->order_slots, sizeof *ops->order_operation,
                       &p->ahead.order_operations, (size_t)marks.order_high + in_flight)) {
        bigmem_prefault(ops->fee_operation, ops->order_slots, sizeof *ops->fee_operation, from,
                        p->ahead.order_operations);
        return true;
    }
    const size_t entries_per_page = 4096 / sizeof(order_index_entry);
    size_t key_entries = c->by_key.mask + 1, id_entries = c->by_order_id.mask + 1;
    if ((size_t)marks.orders_in_use * entries_per_page >= key_entries &&
        prefault_chunk(c->by_key.entries, key_entries, sizeof(order_index_entry),
                       &p->ahead.key_entries, key_entries))
        return true;
    return (size_t)marks.orders_in_use * 2 * entries_per_page >= id_entries &&
           prefault_chunk(c->by_order_id.entries, id_entries, sizeof(order_index_entry),
                          &p->ahead.id_entries, id_entries);
}

/* The applier thread: applies the batches in the order they were filled. */
static void *apply_batches(void *arg) {
    pipeline *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->ready == 0 && !p->done && !p->stop)
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->ready == 0 || p->stop)
            break;
        const batch *b = &p->batches[p->head];
        pthread_mutex_unlock(&p->lock);
        uint32_t i = 0;
        while (i < b->count && apply_event(p->core, &b->events[i]))
            i++;
        pthread_mutex_lock(&p->lock);
        if (i < b->count) {
            p->refused = true;
            p->refused_seq = b->events[i].seq;
            pthread_cond_broadcast(&p->changed);
            break;
        }
        p->head = (p->head + 1) % BATCHES;
        p->ready--;
        p->marks = marks_of(p->core);
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Hands the filled batch on and takes the next free one; -1 once the applier has refused. */
static int hand_on(pipeline *p) {
    pthread_mutex_lock(&p->lock);
    p->ready++;
    pthread_cond_broadcast(&p->changed);
    while (p->ready == BATCHES && !p->refused) {
        pool_marks marks = p->marks;
        pthread_mutex_unlock(&p->lock);
        bool worked = prefault_step(p, marks);
        pthread_mutex_lock(&p->lock);
        if (!worked && p->ready == BATCHES && !p->refused)
            pthread_cond_wait(&p->changed, &p->lock);
    }
    p->filling = (p->head + p->ready) % BATCHES;
    bool refused = p->refused;
    pthread_mutex_unlock(&p->lock);
    p->batches[p->filling].count = 0;
    p->batches[p->filling].text_used = 0;
    return refused ? -1 : 0;
}

/* journal_record_fn: the reader's stage. */
static int read_record(void *ctx, uint32_t format, uint16_t type, uint64_t seq, const void *payload,
                       uint32_t length) {
    pipeline *p = ctx;
    if (seq < p->first_seq)
        return 0; /* covered by the snapshot */
    if (!p->threaded) {
        core_event event;
        return decode_checked(format, type, seq, payload, length, &event) == 0 &&
                       apply_event(p->core, &event)
                   ? 0
                   : -1;
    }
    batch *b = &p->batches[p->filling];
    core_event *ev = &b->events[b->count];
    if (decode_checked(format, type, seq, payload, length, ev) != 0)
        return -1;
    b->count++;
    if (core_event_borrows_text(ev)) {
        core_event_favorite *f = &ev->u.favorite;
        assert(f->name_len < FAVORITE_GROUP_NAME_SIZE &&
               b->text_used + f->name_len <= BATCH_TEXT_BYTES);
        memcpy(b->text + b->text_used, f->name, f->name_len);
        f->name = b->text + b->text_used;
        b->text_used += f->name_len;
        if (BATCH_TEXT_BYTES - b->text_used < FAVORITE_GROUP_NAME_SIZE)
            return hand_on(p);
    }
    if (b->count == BATCH_EVENTS)
        return hand_on(p);
    return 0;
}

/* Ends the applier: after the last batch (`ok`), or at once. */
static void finish(pipeline *p, bool ok) {
    pthread_mutex_lock(&p->lock);
    if (ok && p->batches[p->filling].count > 0 && !p->refused)
        p->ready++;
    if (ok)
        p->done = true;
    else
        p->stop = true;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

static int refuse_seq(void *ctx, uint32_t format, uint16_t type, uint64_t seq, const void *payload,
                      uint32_t length) {
    return seq == *(const uint64_t *)ctx ? -1 : 0;
}

int replay_journal(core *c, journal *j, const char *dir, journal_sync sync,
                   uint64_t segment_limit_bytes, char *error, size_t error_size) {
    pipeline p = {.core = c,
                  .first_seq = c->next_seq,
                  .marks = marks_of(c),
                  .ahead = {.orders = c->pools.order_high,
                            .trades = c->pools.trade_high,
                            .operations = c->operations.next < c->operations.capacity
                                              ? (size_t)c->operations.next
                                              : c->operations.capacity,
                            .order_operations = c->pools.order_high}};
    pthread_t applier;
    p.batches = malloc(BATCHES * sizeof *p.batches);
    if (p.batches != NULL) {
        p.batches[0].count = 0;
        p.batches[0].text_used = 0;
        pthread_mutex_init(&p.lock, NULL);
        pthread_cond_init(&p.changed, NULL);
        p.threaded = pthread_create(&applier, NULL, apply_batches, &p) == 0;
        if (!p.threaded) {
            pthread_mutex_destroy(&p.lock);
            pthread_cond_destroy(&p.changed);
        }
    }
    int rc = journal_open(j, dir, sync, segment_limit_bytes, read_record, &p, error, error_size);
    if (p.threaded) {
        finish(&p, rc == 0);
        pthread_join(applier, NULL);
        pthread_mutex_destroy(&p.lock);
        pthread_cond_destroy(&p.changed);
        if (p.refused) {
            if (rc == 0)
                journal_close(j);
            /* The reader had gone on: read the journal once more to name the refused record. */
            journal probe;
            if (journal_open(&probe, dir, sync, segment_limit_bytes, refuse_seq, &p.refused_seq,
                             error, error_size) == 0) {
                journal_close(&probe);
                snprintf(error, error_size, "journal: event %llu was refused",
                         (unsigned long long)p.refused_seq);
            }
            rc = -1;
        }
    }
    free(p.batches);
    return rc;
}

int replay_convert_record(void *ctx, uint32_t format, uint16_t type, uint64_t seq,
                          const void *payload, uint32_t length, uint8_t *out) {
    (void)ctx;
    core_event event, again;
    if (decode_record(format, type, seq, payload, length, &event) != 0)
        return -1;
    size_t encoded = event_codec_encode(&event, out);
    if (event_codec_decode(type, seq, out, encoded, &again) != 0 ||
        !event_codec_equal(&event, &again))
        return -1;
    return (int)encoded;
}
