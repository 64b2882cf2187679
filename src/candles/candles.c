#include "candles/candles.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/bigmem.h"
#include "util/checked.h"

#define NS_PER_S 1000000000LL
#define DAY_S 86400LL

/* Fixed lengths in seconds; 0 for the week and the month, whose boundaries are computed. */
static const int64_t interval_s[CANDLES_INTERVALS] = {
    [CANDLE_1_MIN] = 60,    [CANDLE_5_MIN] = 300,   [CANDLE_15_MIN] = 900,   [CANDLE_HOUR] = 3600,
    [CANDLE_DAY] = DAY_S,   [CANDLE_2_MIN] = 120,   [CANDLE_3_MIN] = 180,    [CANDLE_10_MIN] = 600,
    [CANDLE_30_MIN] = 1800, [CANDLE_2_HOUR] = 7200, [CANDLE_4_HOUR] = 14400, [CANDLE_WEEK] = 0,
    [CANDLE_MONTH] = 0,     [CANDLE_5_SEC] = 5,     [CANDLE_10_SEC] = 10,    [CANDLE_30_SEC] = 30,
};

candles_config candles_default_config(void) {
    /* About the longest period GetCandles may ask of each interval. */
    return (candles_config){
        .retention =
            {
                [CANDLE_5_SEC] = 2400,  /* 200 minutes */
                [CANDLE_10_SEC] = 1200, /* 200 minutes */
                [CANDLE_30_SEC] = 2400, /* 20 hours */
                [CANDLE_1_MIN] = 1440,  /* a day */
                [CANDLE_2_MIN] = 720,
                [CANDLE_3_MIN] = 480,
                [CANDLE_5_MIN] = 2016, /* a week */
                [CANDLE_10_MIN] = 1008,
                [CANDLE_15_MIN] = 2016, /* three weeks */
                [CANDLE_30_MIN] = 1008,
                [CANDLE_HOUR] = 2208, /* 92 days */
                [CANDLE_2_HOUR] = 1104,
                [CANDLE_4_HOUR] = 552,
                [CANDLE_DAY] = 2192,  /* six years */
                [CANDLE_WEEK] = 261,  /* five years */
                [CANDLE_MONTH] = 120, /* ten years */
            },
        .utc_offset_s = 3 * 3600, /* Moscow */
    };
}

bool candles_config_valid(const candles_config *config, const char **reason) {
    for (int i = 0; i < CANDLES_INTERVALS; i++)
        if (config->retention[i] < 1 || config->retention[i] > CANDLES_MAX_RETENTION) {
            *reason = "a candle retention is outside 1..100000";
            return false;
        }
    if (config->utc_offset_s <= -DAY_S || config->utc_offset_s >= DAY_S) {
        *reason = "the exchange's UTC offset is a day or more";
        return false;
    }
    return true;
}

int candles_init(candle_store *s, const candles_config *config, uint32_t instrument_count) {
    memset(s, 0, sizeof *s);
    const char *reason;
    bool valid = candles_config_valid(config, &reason);
    assert(valid);
    (void)valid;
    s->config = *config;
    s->instrument_count = instrument_count;
    for (int i = 0; i < CANDLES_INTERVALS; i++) {
        s->ring_offset[i] = s->per_instrument;
        s->per_instrument += config->retention[i];
    }
    size_t instruments = instrument_count ? instrument_count : 1;
    s->instruments = calloc(instruments, sizeof *s->instruments);
    s->changed_mask = calloc(instruments, sizeof *s->changed_mask);
    s->changed_list = calloc(instruments, sizeof *s->changed_list);
    /* Pages never written cost nothing: an instrument nobody trades takes no memory. */
    s->candles = bigmem_alloc(instruments * s->per_instrument, sizeof *s->candles);
    if (s->instruments == NULL || s->changed_mask == NULL || s->changed_list == NULL ||
        s->candles == NULL) {
        candles_deinit(s);
        return -ENOMEM;
    }
    return 0;
}

void candles_deinit(candle_store *s) {
    size_t instruments = s->instrument_count ? s->instrument_count : 1;
    if (s->candles != NULL)
        bigmem_free(s->candles, instruments * s->per_instrument, sizeof *s->candles);
    free(s->instruments);
    free(s->changed_mask);
    free(s->changed_list);
    s->candles = NULL;
    s->instruments = NULL;
    s->changed_mask = s->changed_list = NULL;
}

void candles_reset(candle_store *s) {
    memset(s->instruments, 0, (size_t)s->instrument_count * sizeof *s->instruments);
    memset(s->changed_mask, 0, (size_t)s->instrument_count * sizeof *s->changed_mask);
    s->changed_count = 0;
    /* Candles beyond a ring's count are never read: the records themselves may stay. */
}

/* Floor division for times before 1970 too. */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m) {
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* The opening, in exchange-time seconds, of the interval holding exchange-time second `t`, and
 * of the one after it. */
static void bounds_local_s(candle_interval interval, int64_t t, int64_t *start, int64_t *end) {
    int64_t len = interval_s[interval];
    if (len != 0) {
        *start = floor_div(t, len) * len;
        *end = *start + len;
        return;
    }
    int64_t day = floor_div(t, DAY_S);
    if (interval == CANDLE_WEEK) {
        int64_t monday = day - (((day + 3) % 7) + 7) % 7; /* 1970-01-01 was a Thursday */
        *start = monday * DAY_S;
        *end = (monday + 7) * DAY_S;
        return;
    }
    int64_t y, m;
    civil_from_days(day, &y, &m);
    *start = days_from_civil(y, m, 1) * DAY_S;
    *end = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * DAY_S;
}

/* Times are whole nanoseconds of int64: seconds stay within +-9.3e9, so the arithmetic in
 * seconds below cannot overflow, and the results are clamped back into the nanosecond range. */
static int64_t to_ns_clamped(int64_t s) {
    int64_t ns;
    if (checked_mul(s, NS_PER_S, &ns))
        return ns;
    return s < 0 ? INT64_MIN : INT64_MAX;
}

static void bounds_ns(candle_interval interval, int64_t time_ns, int32_t utc_offset_s,
                      int64_t *start_ns, int64_t *end_ns) {
    assert((unsigned)interval < CANDLES_INTERVALS);
    int64_t local = floor_div(time_ns, NS_PER_S) + utc_offset_s;
    int64_t start, end;
    bounds_local_s(interval, local, &start, &end);
    *start_ns = to_ns_clamped(start - utc_offset_s);
    *end_ns = to_ns_clamped(end - utc_offset_s);
}

int64_t candles_interval_start_ns(candle_interval interval, int64_t time_ns, int32_t utc_offset_s) {
    int64_t start, end;
    bounds_ns(interval, time_ns, utc_offset_s, &start, &end);
    return start;
}

int64_t candles_interval_end_ns(candle_interval interval, int64_t time_ns, int32_t utc_offset_s) {
    int64_t start, end;
    bounds_ns(interval, time_ns, utc_offset_s, &start, &end);
    return end;
}

static inline candle *ring_of(const candle_store *s, uint32_t instrument,
                              candle_interval interval) {
    return &s->candles[(uint64_t)instrument * s->per_instrument + s->ring_offset[interval]];
}

/* The i-th candle of a ring, oldest first. */
/* In line: every trade reaches the newest candle of each of the 16 intervals through it. */
static inline __attribute__((always_inline)) candle *
ring_at(const candle_store *s, uint32_t instrument, candle_interval interval, uint32_t i) {
    const candles_instrument *ci = &s->instruments[instrument];
    assert(i < ci->count[interval]);
    uint32_t cap = s->config.retention[interval];
    assert(ci->head[interval] < cap);
    /* head < cap and i < cap: one subtraction wraps it (no division on every trade). */
    uint32_t at = ci->head[interval] + i;
    if (at >= cap)
        at -= cap;
    return &ring_of(s, instrument, interval)[at];
}

static void mark_changed(candle_store *s, uint32_t instrument, candle_interval interval) {
    if (s->changed_mask[instrument] == 0)
        s->changed_list[s->changed_count++] = instrument;
    s->changed_mask[instrument] |= 1u << interval;
}

static inline __attribute__((always_inline)) void add_to(candle *k, int64_t price_nano,
                                                         int64_t lots, bool buy, bool newest) {
    if (price_nano > k->high_nano)
        k->high_nano = price_nano;
    if (price_nano < k->low_nano)
        k->low_nano = price_nano;
    if (newest)
        k->close_nano = price_nano;
    CHECKED_ADD_ASSERT(k->volume_lots, lots);
    if (buy)
        CHECKED_ADD_ASSERT(k->volume_buy_lots, lots);
    else
        CHECKED_ADD_ASSERT(k->volume_sell_lots, lots);
}

static void add_trade(candle_store *s, uint32_t instrument, candle_interval interval,
                      int64_t price_nano, int64_t lots, bool buy, int64_t time_ns) {
    candles_instrument *ci = &s->instruments[instrument];
    uint32_t count = ci->count[interval];
    if (count > 0 && time_ns < ci->newest_end_ns[interval]) {
        candle *newest = ring_at(s, instrument, interval, count - 1);
        if (time_ns >= newest->time_ns) {
            add_to(newest, price_nano, lots, buy, true);
            mark_changed(s, instrument, interval);
            return;
        }
    }
    int64_t start, end;
    bounds_ns(interval, time_ns, s->config.utc_offset_s, &start, &end);
    /* Trades come in time order (event time never goes backwards); one that does not is
     * counted in its candle if that is still kept, and not at all otherwise. */
    for (uint32_t i = count; i > 0; i--) {
        candle *k = ring_at(s, instrument, interval, i - 1);
        if (k->time_ns == start) {
            add_to(k, price_nano, lots, buy, i == count);
            mark_changed(s, instrument, interval);
            return;
        }
        if (k->time_ns < start)
            break;
    }
    if (count > 0 && ring_at(s, instrument, interval, count - 1)->time_ns > start)
        return;
    uint32_t cap = s->config.retention[interval];
    candle *k;
    if (count == cap) { /* the oldest candle retires */
        k = &ring_of(s, instrument, interval)[ci->head[interval]];
        ci->head[interval] = (ci->head[interval] + 1) % cap;
    } else {
        k = &ring_of(s, instrument, interval)[(ci->head[interval] + count) % cap];
        ci->count[interval]++;
    }
    ci->newest_end_ns[interval] = end;
    *k = (candle){.time_ns = start,
                  .open_nano = price_nano,
                  .high_nano = price_nano,
                  .low_nano = price_nano,
                  .close_nano = price_nano};
    add_to(k, price_nano, lots, buy, true);
    mark_changed(s, instrument, interval);
}

bool candles_trade_fits(const candle_store *s, uint32_t instrument, int64_t price_nano,
                        int64_t lots) {
    if (instrument >= s->instrument_count || price_nano <= 0 || lots < 0)
        return false;
    const candles_instrument *ci = &s->instruments[instrument];
    for (int i = 0; i < CANDLES_INTERVALS; i++)
        if (ci->count[i] > 0 &&
            ring_at(s, instrument, (candle_interval)i, ci->count[i] - 1)->volume_lots >
                INT64_MAX - lots)
            return false;
    return true;
}

bool candles_on_trade(candle_store *s, uint32_t instrument, uint64_t trade_id, int64_t price_nano,
                      int64_t lots, bool buy, int64_t time_ns) {
    assert(instrument < s->instrument_count);
    assert(lots >= 0 && price_nano > 0);
    candles_instrument *ci = &s->instruments[instrument];
    if (trade_id <= ci->last_trade_id)
        return false;
    ci->last_trade_id = trade_id;
    /* The usual case first: the trade falls within the newest candle of the interval (what
     * add_trade checks first, without the instrument's lookups for each interval and with the
     * change marked once for all the intervals it touched). */
    candle *base = &s->candles[(uint64_t)instrument * s->per_instrument];
    uint32_t touched = 0;
    for (int i = 0; i < CANDLES_INTERVALS; i++) {
        uint32_t count = ci->count[i];
        if (count > 0 && time_ns < ci->newest_end_ns[i]) {
            uint32_t cap = s->config.retention[i];
            uint32_t at = ci->head[i] + count - 1;
            if (at >= cap)
                at -= cap;
            candle *newest = &base[s->ring_offset[i] + at];
            if (time_ns >= newest->time_ns) {
                add_to(newest, price_nano, lots, buy, true);
                touched |= 1u << i;
                continue;
            }
        }
        add_trade(s, instrument, (candle_interval)i, price_nano, lots, buy, time_ns);
    }
    if (touched != 0) {
        if (s->changed_mask[instrument] == 0)
            s->changed_list[s->changed_count++] = instrument;
        s->changed_mask[instrument] |= touched;
    }
    return true;
}

uint32_t candles_read(const candle_store *s, uint32_t instrument, candle_interval interval,
                      int64_t from_ns, int64_t to_ns, bool newest, candle *out, uint32_t max) {
    assert(instrument < s->instrument_count && (unsigned)interval < CANDLES_INTERVALS);
    uint32_t count = s->instruments[instrument].count[interval];
    uint32_t first = 0, last = count; /* the candles in range: [first, last) */
    while (first < count && ring_at(s, instrument, interval, first)->time_ns < from_ns)
        first++;
    while (last > first && ring_at(s, instrument, interval, last - 1)->time_ns >= to_ns)
        last--;
    uint32_t n = last - first < max ? last - first : max;
    uint32_t begin = newest ? last - n : first;
    for (uint32_t i = 0; i < n; i++)
        out[i] = *ring_at(s, instrument, interval, begin + i);
    return n;
}

bool candles_newest(const candle_store *s, uint32_t instrument, candle_interval interval,
                    candle *out) {
    uint32_t count = s->instruments[instrument].count[interval];
    if (count == 0)
        return false;
    *out = *ring_at(s, instrument, interval, count - 1);
    return true;
}

bool candles_previous(const candle_store *s, uint32_t instrument, candle_interval interval,
                      candle *out) {
    uint32_t count = s->instruments[instrument].count[interval];
    if (count < 2)
        return false;
    *out = *ring_at(s, instrument, interval, count - 2);
    return true;
}

int64_t candles_first_ns(const candle_store *s, uint32_t instrument, candle_interval interval) {
    if (s->instruments[instrument].count[interval] == 0)
        return 0;
    return ring_at(s, instrument, interval, 0)->time_ns;
}

uint32_t candles_take_changes(candle_store *s, candles_change *out, uint32_t max) {
    uint32_t n = 0, kept = 0;
    for (uint32_t i = 0; i < s->changed_count; i++) {
        uint32_t instrument = s->changed_list[i];
        uint32_t mask = s->changed_mask[instrument];
        for (int k = 0; k < CANDLES_INTERVALS && n < max; k++) {
            if ((mask & (1u << k)) == 0)
                continue;
            out[n].instrument = instrument;
            out[n].interval = (candle_interval)k;
            bool held = candles_newest(s, instrument, (candle_interval)k, &out[n].candle);
            assert(held);
            (void)held;
            n++;
            mask &= ~(1u << k);
        }
        s->changed_mask[instrument] = mask;
        if (mask != 0)
            s->changed_list[kept++] = instrument;
    }
    s->changed_count = kept;
    return n;
}

uint32_t candles_pending_changes(const candle_store *s) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->changed_count; i++)
        n += (uint32_t)__builtin_popcount(s->changed_mask[s->changed_list[i]]);
    return n;
}

void candles_ring_runs(const candle_store *s, uint32_t instrument, candle_interval interval,
                       const candle *run[2], uint32_t run_count[2]) {
    const candles_instrument *ci = &s->instruments[instrument];
    uint32_t cap = s->config.retention[interval], head = ci->head[interval];
    uint32_t count = ci->count[interval];
    const candle *ring = ring_of(s, instrument, interval);
    uint32_t first = count < cap - head ? count : cap - head;
    run[0] = ring + head;
    run_count[0] = first;
    run[1] = ring;
    run_count[1] = count - first;
}

candle *candles_ring_storage(candle_store *s, uint32_t instrument, candle_interval interval) {
    return ring_of(s, instrument, interval);
}

void candles_loaded(candle_store *s) {
    for (uint32_t i = 0; i < s->instrument_count; i++)
        memset(s->instruments[i].head, 0, sizeof s->instruments[i].head);
    memset(s->changed_mask, 0, (size_t)s->instrument_count * sizeof *s->changed_mask);
    s->changed_count = 0;
}

static bool candle_valid(const candle *k, candle_interval interval, int32_t utc_offset_s) {
    return k->low_nano > 0 && k->low_nano <= k->open_nano && k->low_nano <= k->close_nano &&
           k->high_nano >= k->open_nano && k->high_nano >= k->close_nano && k->volume_lots >= 0 &&
           k->volume_buy_lots >= 0 && k->volume_sell_lots >= 0 &&
           k->volume_buy_lots <= k->volume_lots &&
           k->volume_lots - k->volume_buy_lots == k->volume_sell_lots &&
           candles_interval_start_ns(interval, k->time_ns, utc_offset_s) == k->time_ns;
}

bool candles_valid(const candle_store *s) {
    for (uint32_t ins = 0; ins < s->instrument_count; ins++) {
        const candles_instrument *ci = &s->instruments[ins];
        for (int i = 0; i < CANDLES_INTERVALS; i++) {
            if (ci->count[i] > s->config.retention[i] || ci->head[i] >= s->config.retention[i] ||
                (ci->count[i] > 0 && ci->last_trade_id == 0))
                return false;
            if (ci->count[i] > 0 &&
                ci->newest_end_ns[i] !=
                    candles_interval_end_ns(
                        (candle_interval)i,
                        ring_at(s, ins, (candle_interval)i, ci->count[i] - 1)->time_ns,
                        s->config.utc_offset_s))
                return false;
            for (uint32_t k = 0; k < ci->count[i]; k++) {
                const candle *c = ring_at(s, ins, (candle_interval)i, k);
                if (!candle_valid(c, (candle_interval)i, s->config.utc_offset_s) ||
                    (k > 0 && ring_at(s, ins, (candle_interval)i, k - 1)->time_ns >= c->time_ns))
                    return false;
            }
        }
    }
    return true;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

uint64_t candles_hash(const candle_store *s, uint64_t h) {
    for (uint32_t ins = 0; ins < s->instrument_count; ins++) {
        h = mix(h, s->instruments[ins].last_trade_id);
        for (int i = 0; i < CANDLES_INTERVALS; i++) {
            uint32_t count = s->instruments[ins].count[i];
            h = mix(h, count);
            if (count == 0)
                continue;
            const candle *k = ring_at(s, ins, (candle_interval)i, count - 1);
            h = mix(mix(mix(h, (uint64_t)k->time_ns), (uint64_t)k->close_nano),
                    (uint64_t)k->volume_lots);
        }
    }
    return h;
}
