/* The command line's --replay and --speed, and the history the replay reads (docs/BACKTEST.md):
 * part of the tinvestd program, beside src/main.c. */
#ifndef TINVESTD_REPLAY_SETUP_H
#define TINVESTD_REPLAY_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "api/replay.h"
#include "core/refdata.h"
#include "history/history_store.h"

typedef struct replay_setup {
    api_replay api; /* what the API and the report see */
    int64_t speed_milli;
    history_reader *readers; /* one per instrument with history */
    history_market_source *sources;
    uint32_t source_count;
    char title[160];
} replay_setup;

/* "FROM..TO": dates (YYYY-MM-DD, TO counted whole) or UTC times (YYYY-MM-DDTHH:MM:SSZ, TO
 * excluded). 0, or -1 with the reason. */
int replay_parse_period(const char *text, int64_t *from_ns, int64_t *to_ns, char *error,
                        size_t error_size);
/* "max", "step", or a factor of real time above 0 (at most 3 decimal places, up to 10^6). */
int replay_parse_speed(const char *text, clock_replay_mode *mode, int64_t *speed_milli, char *error,
                       size_t error_size);

/* Reads the history of every instrument of `rd` that has a store file and makes the market of
 * the period. 0, or -1 with the reason (a damaged store, no history in the period, memory). */
int replay_setup_load(replay_setup *r, const refdata *rd, const char *data_dir,
                      uint64_t max_candles, char *error, size_t error_size);
void replay_setup_unload(replay_setup *r);

#endif
