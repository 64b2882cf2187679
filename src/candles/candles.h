/* Candles: OHLCV aggregation of the exchange's trades, for every interval of the contract.
 *
 * DESIGN: pure (no clock, no I/O, no locks); the core feeds it each trade its venue printed from
 * the apply of the broker's journaled trade event, so the live path and replay build the same
 * candles. Each (instrument, interval) keeps a ring of the newest `retention` candles: a new
 * candle past the ring's capacity retires the oldest, so memory is fixed at init. Candles are
 * aligned in exchange time (UTC + `utc_offset_s`): every interval up to the day is a multiple of
 * its length from the exchange's midnight, a week starts on Monday and a month on its first day;
 * a candle's time is the instant its interval opens, in UTC. A trade both of whose sides are the
 * broker's clients comes as two events with one trade id: the second is recognised by its id (the
 * exchange numbers trades in time order) and not counted again.
 *
 * Ownership: the store owns its arrays (candles_init / candles_deinit). Readers get copies. */
#ifndef TINVESTD_CANDLES_CANDLES_H
#define TINVESTD_CANDLES_CANDLES_H

#include <stdbool.h>
#include <stdint.h>

/* Intervals by their contract CandleInterval value minus one: 1 min = 0 ... 30 s = 15. */
typedef enum {
    CANDLE_1_MIN = 0,
    CANDLE_5_MIN = 1,
    CANDLE_15_MIN = 2,
    CANDLE_HOUR = 3,
    CANDLE_DAY = 4,
    CANDLE_2_MIN = 5,
    CANDLE_3_MIN = 6,
    CANDLE_10_MIN = 7,
    CANDLE_30_MIN = 8,
    CANDLE_2_HOUR = 9,
    CANDLE_4_HOUR = 10,
    CANDLE_WEEK = 11,
    CANDLE_MONTH = 12,
    CANDLE_5_SEC = 13,
    CANDLE_10_SEC = 14,
    CANDLE_30_SEC = 15,
} candle_interval;

#define CANDLES_INTERVALS 16
/* The retention of an interval may not exceed this many candles (per instrument). */
#define CANDLES_MAX_RETENTION 100000u

typedef struct candle {
    int64_t time_ns; /* when the interval opens, UTC */
    int64_t open_nano, high_nano, low_nano, close_nano;
    int64_t volume_lots, volume_buy_lots, volume_sell_lots;
} candle;

typedef struct candles_config {
    uint32_t retention[CANDLES_INTERVALS]; /* candles kept per instrument and interval, >= 1 */
    int32_t utc_offset_s;                  /* exchange time = UTC + this */
} candles_config;

/* Per instrument: the rings' positions and the newest trade counted. Plain data: a snapshot
 * writes the array as it is. */
typedef struct candles_instrument {
    uint64_t last_trade_id;
    /* Where each ring's newest candle ends: a trade before it (and not before its opening)
     * goes into that candle without working out its interval (the common case). */
    int64_t newest_end_ns[CANDLES_INTERVALS];
    uint32_t head[CANDLES_INTERVALS];  /* the oldest candle's place in its ring */
    uint32_t count[CANDLES_INTERVALS]; /* candles held */
} candles_instrument;

/* A candle that changed since the changes were last taken (candles_take_changes). */
typedef struct candles_change {
    uint32_t instrument;
    candle_interval interval;
    candle candle; /* its values after the change */
} candles_change;

typedef struct candle_store {
    candles_config config;
    uint32_t instrument_count;
    uint64_t per_instrument;                 /* candles of one instrument, all intervals */
    uint64_t ring_offset[CANDLES_INTERVALS]; /* where an interval's ring starts in that block */
    candles_instrument *instruments;
    candle *candles; /* instrument_count x per_instrument */
    /* Changes since the last candles_take_changes: per instrument a mask of intervals, and the
     * instruments whose mask is not empty (bounded by the instrument count). */
    uint32_t *changed_mask;
    uint32_t *changed_list;
    uint32_t changed_count;
} candle_store;

/* The defaults of docs/CONFIG.md: each interval keeps about its longest request period. */
candles_config candles_default_config(void);
/* Whether the configuration is one candles_init takes; a reason otherwise. */
bool candles_config_valid(const candles_config *config, const char **reason);

/* Returns 0, or -ENOMEM. Memory: instrument_count x sum(retention) x sizeof(candle). */
int candles_init(candle_store *s, const candles_config *config, uint32_t instrument_count);
void candles_deinit(candle_store *s);
/* Back to empty (no candle, no change). */
void candles_reset(candle_store *s);

/* A trade of `lots` (0 for a print that moves the price without a trade: a market print of a
 * replayed candle whose volume is smaller than its path) at `price_nano`; `buy` when the
 * incoming side bought. Returns false (and changes nothing) for a trade already counted: an id
 * at or below the newest counted one. */
bool candles_on_trade(candle_store *s, uint32_t instrument, uint64_t trade_id, int64_t price_nano,
                      int64_t lots, bool buy, int64_t time_ns);

/* Whether candles_on_trade can count such a trade: a known instrument, a price above 0, lots not
 * below 0, and no newest candle whose volume would pass int64 with it. */
bool candles_trade_fits(const candle_store *s, uint32_t instrument, int64_t price_nano,
                        int64_t lots);

/* The interval containing `time_ns`: its opening and the next interval's opening. */
int64_t candles_interval_start_ns(candle_interval interval, int64_t time_ns, int32_t utc_offset_s);
int64_t candles_interval_end_ns(candle_interval interval, int64_t time_ns, int32_t utc_offset_s);

/* Candles opening in [from_ns, to_ns), oldest first, copied into `out` (at most `max`). With
 * `newest` the last `max` of them, else the first `max`. Returns the count. */
uint32_t candles_read(const candle_store *s, uint32_t instrument, candle_interval interval,
                      int64_t from_ns, int64_t to_ns, bool newest, candle *out, uint32_t max);
/* The newest candle of the ring; false when there is none. */
bool candles_newest(const candle_store *s, uint32_t instrument, candle_interval interval,
                    candle *out);
/* The candle before the newest; false when there is none. */
bool candles_previous(const candle_store *s, uint32_t instrument, candle_interval interval,
                      candle *out);
/* The oldest candle kept of an interval's ring, its opening time; 0 when there is none. */
int64_t candles_first_ns(const candle_store *s, uint32_t instrument, candle_interval interval);

/* The interface for streams: copies the candles changed since the last call into `out` (at most
 * `max`; the rest stay for the next call) and forgets what it copied. At most
 * instrument_count x CANDLES_INTERVALS changes are pending at a time. */
uint32_t candles_take_changes(candle_store *s, candles_change *out, uint32_t max);
uint32_t candles_pending_changes(const candle_store *s);

/* For snapshots. The candles of one ring, oldest first, as two runs of the ring's memory (the
 * second may be empty), so that they are written out without a copy. */
void candles_ring_runs(const candle_store *s, uint32_t instrument, candle_interval interval,
                       const candle *run[2], uint32_t run_count[2]);
/* Loading: the ring's memory, into which `count[interval]` candles (as the instruments array
 * read back says) are read oldest first; candles_loaded() then sets every ring's head to 0. */
candle *candles_ring_storage(candle_store *s, uint32_t instrument, candle_interval interval);
void candles_loaded(candle_store *s);

/* Whether the stored state could have been built by candles_on_trade (a snapshot's content). */
bool candles_valid(const candle_store *s);

/* Folds the store's content into `h`: a fingerprint of the candles (the core's state hash leaves
 * them out, so that it stays comparable with data directories written before candles). */
uint64_t candles_hash(const candle_store *s, uint64_t h);

#endif
