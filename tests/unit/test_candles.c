/* The candle store: alignment of every interval (weeks and months included), OHLCV against the
 * trades that made them, retention, duplicates of one print, the change list for streams. */
#include <stdlib.h>
#include <string.h>

#include "candles/candles.h"
#include "check.h"

#define S 1000000000LL
#define MSK (3 * 3600)

/* 2024-03-13 (a Wednesday) 10:17:43.5 UTC = 13:17:43.5 Moscow. */
#define T0 (1710325063LL * S + 500000000LL)

static void test_alignment(void) {
    int64_t t = T0;
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_5_SEC, t, MSK), 1710325060LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_10_SEC, t, MSK), 1710325060LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_30_SEC, t, MSK), 1710325050LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_1_MIN, t, MSK), 1710325020LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_2_MIN, t, MSK), 1710324960LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_3_MIN, t, MSK), 1710324900LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_5_MIN, t, MSK), 1710324900LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_10_MIN, t, MSK), 1710324600LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_15_MIN, t, MSK), 1710324900LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_30_MIN, t, MSK), 1710324000LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_HOUR, t, MSK), 1710324000LL * S);
    /* 2 and 4 hours count from the exchange's midnight: 12:00 Moscow = 09:00 UTC. */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_2_HOUR, t, MSK), 1710320400LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_4_HOUR, t, MSK), 1710320400LL * S);
    /* The day opens at 00:00 Moscow = 21:00 UTC the day before. */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_DAY, t, MSK), 1710277200LL * S);
    CHECK_EQ_INT(candles_interval_end_ns(CANDLE_DAY, t, MSK), 1710363600LL * S);
    /* The week opens on Monday 2024-03-11 00:00 Moscow. */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_WEEK, t, MSK), 1710104400LL * S);
    CHECK_EQ_INT(candles_interval_end_ns(CANDLE_WEEK, t, MSK), 1710709200LL * S);
    /* The month opens on 2024-03-01 00:00 Moscow and ends on 2024-04-01 00:00 Moscow. */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_MONTH, t, MSK), 1709240400LL * S);
    CHECK_EQ_INT(candles_interval_end_ns(CANDLE_MONTH, t, MSK), 1711918800LL * S);
    /* In UTC (offset 0) the same instant is in the UTC day and week. */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_DAY, t, 0), 1710288000LL * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_WEEK, t, 0), 1710115200LL * S);
    /* 2024-02-29 23:30 Moscow is still February (a leap day); 2024-02-29 21:30 UTC is already
     * March 1 in Moscow. */
    int64_t leap = 1709235000LL * S; /* 2024-02-29 19:30 UTC = 22:30 Moscow */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_MONTH, leap, MSK), 1706734800LL * S);
    CHECK_EQ_INT(candles_interval_end_ns(CANDLE_MONTH, leap, MSK), 1709240400LL * S);
    int64_t march = 1709242200LL * S; /* 2024-02-29 21:30 UTC = 2024-03-01 00:30 Moscow */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_MONTH, march, MSK), 1709240400LL * S);
    /* December ends in January of the next year. */
    int64_t december = 1734998400LL * S; /* 2024-12-24 00:00 UTC */
    CHECK_EQ_INT(candles_interval_end_ns(CANDLE_MONTH, december, 0), 1735689600LL * S);
    /* A Sunday late in Moscow belongs to the week that began on the Monday before. */
    int64_t sunday = 1710622800LL * S - 1; /* 2024-03-17 23:59:59.999999999 Moscow */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_WEEK, sunday, MSK), 1710104400LL * S);
    /* Before 1970: floors, not truncation. */
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_1_MIN, -1, 0), -60 * S);
    CHECK_EQ_INT(candles_interval_start_ns(CANDLE_WEEK, 0, 0), -3 * 86400 * S);
}

typedef struct trade {
    int64_t price, lots, time;
    bool buy;
} trade;

static candle_store make_store(uint32_t retention) {
    candles_config cc = candles_default_config();
    for (int i = 0; i < CANDLES_INTERVALS; i++)
        cc.retention[i] = retention;
    candle_store s;
    CHECK_EQ_INT(candles_init(&s, &cc, 2), 0);
    return s;
}

static void test_ohlcv(void) {
    candle_store s = make_store(100);
    int64_t m = candles_interval_start_ns(CANDLE_1_MIN, T0, MSK);
    trade trades[] = {{100 * S, 2, m + 1 * S, true},  {105 * S, 1, m + 10 * S, false},
                      {98 * S, 4, m + 20 * S, true},  {101 * S, 3, m + 59 * S, false},
                      {110 * S, 5, m + 61 * S, true}, {90 * S, 1, m + 150 * S, false}};
    uint64_t id = 10;
    for (size_t i = 0; i < sizeof trades / sizeof trades[0]; i++)
        CHECK(candles_on_trade(&s, 1, id++, trades[i].price, trades[i].lots, trades[i].buy,
                               trades[i].time));
    candle out[8];
    uint32_t n = candles_read(&s, 1, CANDLE_1_MIN, INT64_MIN, INT64_MAX, false, out, 8);
    CHECK_EQ_INT(n, 3);
    /* Each candle recomputed from the trades inside its minute. */
    for (uint32_t k = 0; k < n; k++) {
        int64_t open = 0, high = 0, low = INT64_MAX, close = 0, volume = 0, buy = 0;
        for (size_t i = 0; i < sizeof trades / sizeof trades[0]; i++) {
            if (trades[i].time < out[k].time_ns || trades[i].time >= out[k].time_ns + 60 * S)
                continue;
            if (volume == 0)
                open = trades[i].price;
            high = trades[i].price > high ? trades[i].price : high;
            low = trades[i].price < low ? trades[i].price : low;
            close = trades[i].price;
            volume += trades[i].lots;
            buy += trades[i].buy ? trades[i].lots : 0;
        }
        CHECK_EQ_INT(out[k].open_nano, open);
        CHECK_EQ_INT(out[k].high_nano, high);
        CHECK_EQ_INT(out[k].low_nano, low);
        CHECK_EQ_INT(out[k].close_nano, close);
        CHECK_EQ_INT(out[k].volume_lots, volume);
        CHECK_EQ_INT(out[k].volume_buy_lots, buy);
        CHECK_EQ_INT(out[k].volume_sell_lots, volume - buy);
    }
    CHECK_EQ_INT(out[0].time_ns, m);
    CHECK_EQ_INT(out[1].time_ns, m + 60 * S);
    CHECK_EQ_INT(out[2].time_ns, m + 120 * S); /* no candle for a minute without trades */
    /* One hour candle holds everything: 16 lots, open 100, close 90. */
    candle h;
    CHECK(candles_newest(&s, 1, CANDLE_HOUR, &h));
    CHECK_EQ_INT(h.volume_lots, 16);
    CHECK_EQ_INT(h.open_nano, 100 * S);
    CHECK_EQ_INT(h.close_nano, 90 * S);
    CHECK_EQ_INT(h.high_nano, 110 * S);
    CHECK_EQ_INT(h.low_nano, 90 * S);
    /* The other instrument saw nothing. */
    CHECK(!candles_newest(&s, 0, CANDLE_HOUR, &h));
    CHECK_EQ_INT(candles_first_ns(&s, 0, CANDLE_1_MIN), 0);
    CHECK_EQ_INT(candles_first_ns(&s, 1, CANDLE_1_MIN), m);
    /* The same print again (the other side of a trade between two clients): not counted. */
    CHECK(!candles_on_trade(&s, 1, id - 1, 90 * S, 1, false, m + 150 * S));
    CHECK(candles_newest(&s, 1, CANDLE_HOUR, &h));
    CHECK_EQ_INT(h.volume_lots, 16);
    /* Reading a range: [from, to) by opening time; the newest or the first `max`. */
    CHECK_EQ_INT(candles_read(&s, 1, CANDLE_1_MIN, m + 60 * S, m + 120 * S, false, out, 8), 1);
    CHECK_EQ_INT(out[0].time_ns, m + 60 * S);
    CHECK_EQ_INT(candles_read(&s, 1, CANDLE_1_MIN, INT64_MIN, INT64_MAX, true, out, 2), 2);
    CHECK_EQ_INT(out[0].time_ns, m + 60 * S);
    CHECK_EQ_INT(candles_read(&s, 1, CANDLE_1_MIN, INT64_MIN, INT64_MAX, false, out, 2), 2);
    CHECK_EQ_INT(out[0].time_ns, m);
    CHECK(candles_valid(&s));
    candles_deinit(&s);
}

static void test_retention(void) {
    candle_store s = make_store(5);
    int64_t m = candles_interval_start_ns(CANDLE_1_MIN, T0, MSK);
    for (int i = 0; i < 12; i++)
        CHECK(candles_on_trade(&s, 0, (uint64_t)i + 1, (100 + i) * S, 1, true, m + i * 60 * S));
    candle out[16];
    uint32_t n = candles_read(&s, 0, CANDLE_1_MIN, INT64_MIN, INT64_MAX, false, out, 16);
    CHECK_EQ_INT(n, 5); /* the oldest seven retired */
    for (uint32_t k = 0; k < n; k++) {
        CHECK_EQ_INT(out[k].time_ns, m + (7 + (int64_t)k) * 60 * S);
        CHECK_EQ_INT(out[k].close_nano, (107 + (int64_t)k) * S);
    }
    CHECK_EQ_INT(candles_first_ns(&s, 0, CANDLE_1_MIN), m + 7 * 60 * S);
    CHECK(candles_valid(&s));
    /* A trade older than every kept candle is not counted anywhere it has no candle. */
    CHECK(candles_on_trade(&s, 0, 100, 1 * S, 1, true, m));
    CHECK_EQ_INT(candles_read(&s, 0, CANDLE_1_MIN, INT64_MIN, INT64_MAX, false, out, 16), 5);
    CHECK_EQ_INT(out[0].low_nano, 107 * S);
    candles_reset(&s);
    CHECK_EQ_INT(candles_read(&s, 0, CANDLE_1_MIN, INT64_MIN, INT64_MAX, false, out, 16), 0);
    candles_deinit(&s);
}

static void test_changes(void) {
    candle_store s = make_store(10);
    CHECK_EQ_INT(candles_pending_changes(&s), 0);
    CHECK(candles_on_trade(&s, 1, 1, 10 * S, 1, true, T0));
    CHECK(candles_on_trade(&s, 0, 2, 20 * S, 3, false, T0));
    CHECK(candles_on_trade(&s, 1, 3, 11 * S, 2, true, T0 + S));
    CHECK_EQ_INT(candles_pending_changes(&s), 2 * CANDLES_INTERVALS);
    candles_change changes[2 * CANDLES_INTERVALS];
    /* Taken in two parts: the rest waits for the next call. */
    uint32_t n = candles_take_changes(&s, changes, 5);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(candles_pending_changes(&s), 2 * CANDLES_INTERVALS - 5);
    n += candles_take_changes(&s, changes + 5, 2 * CANDLES_INTERVALS);
    CHECK_EQ_INT(n, 2 * CANDLES_INTERVALS);
    CHECK_EQ_INT(candles_pending_changes(&s), 0);
    int seen[2] = {0, 0};
    for (uint32_t i = 0; i < n; i++) {
        seen[changes[i].instrument]++;
        if (changes[i].instrument == 1) {
            CHECK_EQ_INT(changes[i].candle.close_nano, 11 * S);
            CHECK_EQ_INT(changes[i].candle.volume_lots, 3);
        } else {
            CHECK_EQ_INT(changes[i].candle.volume_sell_lots, 3);
        }
    }
    CHECK_EQ_INT(seen[0], CANDLES_INTERVALS);
    CHECK_EQ_INT(seen[1], CANDLES_INTERVALS);
    CHECK_EQ_INT(candles_take_changes(&s, changes, 4), 0);
    candles_deinit(&s);
}

static void test_config(void) {
    candles_config cc = candles_default_config();
    const char *reason = NULL;
    CHECK(candles_config_valid(&cc, &reason));
    cc.retention[CANDLE_WEEK] = 0;
    CHECK(!candles_config_valid(&cc, &reason));
    CHECK(reason != NULL);
    cc = candles_default_config();
    cc.utc_offset_s = 86400;
    CHECK(!candles_config_valid(&cc, &reason));
}

int main(void) {
    test_alignment();
    test_ohlcv();
    test_retention();
    test_changes();
    test_config();
    return check_finish("test_candles");
}
