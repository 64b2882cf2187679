#include "engine/replay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_codec.h"

_Static_assert(EVENT_CODEC_FORMAT == JOURNAL_FORMAT_VERSION,
               "the journal's records are the event codec's payloads");

/* Events handed on at once, and batches in flight: enough to keep both threads busy, few enough
 * to stay in the cache the two share (4 x 2048 x 208 bytes). */
#define BATCH_EVENTS 2048
#define BATCHES 4

typedef struct batch {
    uint32_t count;
    core_event events[BATCH_EVENTS];
} batch;

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
} pipeline;

/* A record's payload as an event: the codec's encoding from format 5, the raw struct before. */
static int decode_record(uint32_t format, uint16_t type, uint64_t seq, const void *payload,
                         uint32_t length, core_event *out) {
    return format == JOURNAL_FORMAT_VERSION
               ? event_codec_decode(type, seq, payload, length, out)
               : event_codec_decode_legacy(type, seq, payload, length, out);
}

/* A record written with another configuration, or damaged past its checksum, is refused rather
 * than applied: the same checks the live path asserts before it applies. */
static bool apply_event(core *c, const core_event *event) {
    if (!core_event_applicable(c, event))
        return false;
    core_apply(c, event);
    return true;
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
    while (p->ready == BATCHES && !p->refused)
        pthread_cond_wait(&p->changed, &p->lock);
    p->filling = (p->head + p->ready) % BATCHES;
    bool refused = p->refused;
    pthread_mutex_unlock(&p->lock);
    p->batches[p->filling].count = 0;
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
        return decode_record(format, type, seq, payload, length, &event) == 0 &&
                       apply_event(p->core, &event)
                   ? 0
                   : -1;
    }
    batch *b = &p->batches[p->filling];
    if (decode_record(format, type, seq, payload, length, &b->events[b->count]) != 0)
        return -1;
    if (++b->count == BATCH_EVENTS)
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
    pipeline p = {.core = c, .first_seq = c->next_seq};
    pthread_t applier;
    p.batches = malloc(BATCHES * sizeof *p.batches);
    if (p.batches != NULL) {
        p.batches[0].count = 0;
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
        memcmp(&event, &again, sizeof event) != 0)
        return -1;
    return (int)encoded;
}
