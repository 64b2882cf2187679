/* The replay's market: candles to prints in (time, instrument) order (history_market.h). */
#include "engine/history_market.h"

#include <stdlib.h>

typedef struct feed {
    uint32_t instrument;
    const history_candle *next, *end; /* candles whose points are not out yet */
    history_point points[HISTORY_PATH_MAX_POINTS];
    uint32_t point_count, point_at; /* the current candle's points and the next one out */
    int64_t last_price_nano;        /* of the point before the next one (0: none) */
} feed;

struct history_market {
    feed *feeds;
    uint32_t *heap; /* feed indexes with points left, ordered by their next point */
    uint32_t heap_count, feed_count;
    uint64_t taken, total;
};

/* Loads the next candle's points when the current candle's are out; false at the end. */
static bool feed_ready(feed *f) {
    if (f->point_at < f->point_count)
        return true;
    if (f->next == f->end)
        return false;
    f->point_count = history_path(f->next++, f->last_price_nano, f->points);
    f->point_at = 0;
    return true;
}

static bool before(const history_market *m, uint32_t a, uint32_t b) {
    const feed *x = &m->feeds[a], *y = &m->feeds[b];
    int64_t tx = x->points[x->point_at].time_ns, ty = y->points[y->point_at].time_ns;
    return tx < ty || (tx == ty && x->instrument < y->instrument);
}

static void sift_down(history_market *m, uint32_t i) {
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < m->heap_count && before(m, m->heap[l], m->heap[best]))
            best = l;
        if (r < m->heap_count && before(m, m->heap[r], m->heap[best]))
            best = r;
        if (best == i)
            return;
        uint32_t t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

static void heapify(history_market *m) {
    for (uint32_t i = m->heap_count / 2; i-- > 0;)
        sift_down(m, i);
}

history_market *history_market_create(const history_market_source *sources, uint32_t count,
                                      int64_t from_ns, int64_t to_ns) {
    history_market *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->feeds = calloc(count ? count : 1, sizeof *m->feeds);
    m->heap = calloc(count ? count : 1, sizeof *m->heap);
    if (m->feeds == NULL || m->heap == NULL) {
        history_market_destroy(m);
        return NULL;
    }
    int64_t from_s = from_ns / 1000000000, to_s = to_ns / 1000000000;
    for (uint32_t i = 0; i < count; i++) {
        const history_market_source *s = &sources[i];
        size_t first = history_lower_bound(s->candles, s->count, from_s);
        size_t end = history_lower_bound(s->candles, s->count, to_s);
        feed *f = &m->feeds[m->feed_count++];
        *f = (feed){.instrument = s->instrument,
                    .next = s->candles + first,
                    .end = s->candles + (end > first ? end : first)};
        for (const history_candle *c = f->next; c != f->end; c++) {
            history_point points[HISTORY_PATH_MAX_POINTS];
            m->total += history_path(c, 0, points);
        }
        if (feed_ready(f))
            m->heap[m->heap_count++] = i;
    }
    heapify(m);
    return m;
}

void history_market_destroy(history_market *m) {
    if (m == NULL)
        return;
    free(m->feeds);
    free(m->heap);
    free(m);
}

int64_t history_market_next_due_ns(const history_market *m) {
    if (m->heap_count == 0)
        return INT64_MAX;
    const feed *f = &m->feeds[m->heap[0]];
    return f->points[f->point_at].time_ns;
}

/* Hands out the heap's first point. */
static void take_first(history_market *m, uint32_t *instrument, history_point *point) {
    feed *f = &m->feeds[m->heap[0]];
    *point = f->points[f->point_at++];
    *instrument = f->instrument;
    f->last_price_nano = point->price_nano;
    m->taken++;
    if (!feed_ready(f))
        m->heap[0] = m->heap[--m->heap_count];
    sift_down(m, 0);
}

bool history_market_take(history_market *m, int64_t now_ns, uint32_t *instrument,
                         history_point *point) {
    if (m->heap_count == 0 || history_market_next_due_ns(m) > now_ns)
        return false;
    take_first(m, instrument, point);
    return true;
}

void history_market_resume_after(history_market *m, int64_t time_ns, uint32_t instrument) {
    while (m->heap_count > 0) {
        const feed *f = &m->feeds[m->heap[0]];
        int64_t t = f->points[f->point_at].time_ns;
        if (t > time_ns || (t == time_ns && f->instrument > instrument))
            return;
        uint32_t ignored;
        history_point skipped;
        take_first(m, &ignored, &skipped);
    }
}

uint64_t history_market_taken(const history_market *m) {
    return m->taken;
}

uint64_t history_market_total(const history_market *m) {
    return m->total;
}
