/* The market of a replay: the history store's minute candles as a stream of prints in time order
 * (docs/BACKTEST.md).
 *
 * DESIGN: each candle of the replayed period becomes the points of its path through the minute
 * (history_path, history.h); the points of all instruments come out in (time, instrument) order
 * through a heap of the instruments' next points. The candles are borrowed (the caller loads them
 * from the store and keeps them for the life of the market); nothing here is state of the broker:
 * which prints were made is journaled (CORE_EVENT_MARKET_PRINT), and after a restart the market
 * resumes after the newest one. Core thread only. */
#ifndef TINVESTD_ENGINE_HISTORY_MARKET_H
#define TINVESTD_ENGINE_HISTORY_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/history.h"

typedef struct history_market_source {
    uint32_t instrument;           /* the instrument's index in the reference data */
    const history_candle *candles; /* time order */
    size_t count;
} history_market_source;

typedef struct history_market history_market;

/* The prints of the candles opening in [from_ns, to_ns). NULL when out of memory. */
history_market *history_market_create(const history_market_source *sources, uint32_t count,
                                      int64_t from_ns, int64_t to_ns);
void history_market_destroy(history_market *m);

/* Leaves out every point up to and including (time_ns, instrument): those a journal already
 * holds. */
void history_market_resume_after(history_market *m, int64_t time_ns, uint32_t instrument);

/* The time of the next point; INT64_MAX when every point is out. */
int64_t history_market_next_due_ns(const history_market *m);

/* Takes the next point when it is due by `now_ns`: its instrument and the point. */
bool history_market_take(history_market *m, int64_t now_ns, uint32_t *instrument,
                         history_point *point);

/* Points handed out so far and in all (for the replay's progress). */
uint64_t history_market_taken(const history_market *m);
uint64_t history_market_total(const history_market *m);

#endif
