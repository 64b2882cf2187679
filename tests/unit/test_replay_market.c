/* The replay's market: a minute's path through its candle (history_path), the prints of several
 * instruments in time order (engine/history_market), resuming after a restart, and the broker's
 * clock in a replay (util/clock). */
#include <string.h>

#include "check.h"
#include "engine/history_market.h"
#include "history/history.h"
#include "util/clock.h"

#define MINUTE_S 1704265200LL /* 2024-01-03T07:00:00Z */
#define NS 1000000000LL

static history_candle candle(int64_t t, int64_t o, int64_t h, int64_t l, int64_t c, int64_t v) {
    return (history_candle){.time_s = t,
                            .open_nano = o,
                            .high_nano = h,
                            .low_nano = l,
                            .close_nano = c,
                            .volume_lots = v};
}

/* The points give back the candle: open first, close last, high and low reached, volume whole. */
static void check_gives_back(const history_candle *k, uint32_t n, const history_point *p) {
    int64_t high = p[0].price_nano, low = p[0].price_nano, volume = 0;
    for (uint32_t i = 0; i < n; i++) {
        high = p[i].price_nano > high ? p[i].price_nano : high;
        low = p[i].price_nano < low ? p[i].price_nano : low;
        volume += p[i].lots;
        CHECK(p[i].lots >= 0);
        CHECK(p[i].time_ns >= k->time_s * NS && p[i].time_ns < (k->time_s + 60) * NS);
        CHECK(i == 0 || p[i].time_ns > p[i - 1].time_ns);
        CHECK(i == 0 || p[i].price_nano != p[i - 1].price_nano);
    }
    CHECK_EQ_INT(p[0].price_nano, k->open_nano);
    CHECK_EQ_INT(p[n - 1].price_nano, k->close_nano);
    CHECK_EQ_INT(high, k->high_nano);
    CHECK_EQ_INT(low, k->low_nano);
    CHECK_EQ_INT(volume, k->volume_lots);
}

static void test_path(void) {
    history_point p[HISTORY_PATH_MAX_POINTS];
    /* Rising: open, low, high, close at :00 :15 :30 :45; 10 lots as 3, 3, 2, 2. */
    history_candle k = candle(MINUTE_S, 100, 105, 98, 103, 10);
    CHECK_EQ_INT(history_path(&k, 99, p), 4);
    CHECK_EQ_INT(p[0].price_nano, 100);
    CHECK_EQ_INT(p[1].price_nano, 98);
    CHECK_EQ_INT(p[2].price_nano, 105);
    CHECK_EQ_INT(p[3].price_nano, 103);
    CHECK_EQ_INT(p[1].time_ns - p[0].time_ns, HISTORY_PATH_STEP_NS);
    CHECK_EQ_INT(p[3].time_ns, MINUTE_S * NS + 3 * HISTORY_PATH_STEP_NS);
    CHECK_EQ_INT(p[0].lots, 3);
    CHECK_EQ_INT(p[1].lots, 3);
    CHECK_EQ_INT(p[2].lots, 2);
    CHECK_EQ_INT(p[3].lots, 2);
    CHECK(p[0].buy && !p[1].buy && p[2].buy && !p[3].buy); /* 99 -> 100 up, then down, up, down */
    check_gives_back(&k, 4, p);
    /* Falling: open, high, low, close. */
    k = candle(MINUTE_S, 100, 101, 95, 96, 4);
    CHECK_EQ_INT(history_path(&k, 0, p), 4);
    CHECK_EQ_INT(p[1].price_nano, 101);
    CHECK_EQ_INT(p[2].price_nano, 95);
    CHECK(p[0].buy); /* no print before */
    check_gives_back(&k, 4, p);
    /* A flat candle is one print at :00 with the whole volume. */
    k = candle(MINUTE_S, 50, 50, 50, 50, 7);
    CHECK_EQ_INT(history_path(&k, 0, p), 1);
    CHECK_EQ_INT(p[0].time_ns, MINUTE_S * NS);
    CHECK_EQ_INT(p[0].lots, 7);
    /* Open at the low: the low's quarter stays empty; the high is at :30. */
    k = candle(MINUTE_S, 10, 12, 10, 11, 3);
    CHECK_EQ_INT(history_path(&k, 0, p), 3);
    CHECK_EQ_INT(p[1].time_ns, MINUTE_S * NS + 2 * HISTORY_PATH_STEP_NS);
    check_gives_back(&k, 3, p);
    /* A volume smaller than the path: some points move the price without a trade. */
    k = candle(MINUTE_S, 100, 105, 98, 103, 1);
    CHECK_EQ_INT(history_path(&k, 0, p), 4);
    CHECK_EQ_INT(p[0].lots, 1);
    CHECK_EQ_INT(p[3].lots, 0);
    check_gives_back(&k, 4, p);
    k = candle(MINUTE_S, 100, 105, 98, 103, 0);
    CHECK_EQ_INT(history_path(&k, 0, p), 4);
    check_gives_back(&k, 4, p);
    /* Every shape of a small candle gives itself back. */
    for (int64_t o = 1; o <= 4; o++)
        for (int64_t c = 1; c <= 4; c++)
            for (int64_t h = 1; h <= 4; h++)
                for (int64_t l = 1; l <= h; l++)
                    for (int64_t v = 0; v <= 5; v++) {
                        if (o > h || o < l || c > h || c < l)
                            continue;
                        history_candle x = candle(MINUTE_S, o, h, l, c, v);
                        uint32_t n = history_path(&x, 2, p);
                        CHECK(n >= 1 && n <= 4);
                        check_gives_back(&x, n, p);
                    }
}

static void test_market_order(void) {
    /* Two instruments, listed with the later index first: prints of one time go in instrument
     * order; a candle outside the period is left out. */
    history_candle a[] = {candle(MINUTE_S - 60, 1, 1, 1, 1, 1), candle(MINUTE_S, 10, 12, 9, 11, 8),
                          candle(MINUTE_S + 60, 11, 11, 11, 11, 2)};
    history_candle b[] = {candle(MINUTE_S, 20, 20, 20, 20, 5),
                          candle(MINUTE_S + 120, 21, 22, 20, 22, 3)};
    history_market_source sources[] = {{.instrument = 7, .candles = b, .count = 2},
                                       {.instrument = 3, .candles = a, .count = 3}};
    history_market *m = history_market_create(sources, 2, MINUTE_S * NS, (MINUTE_S + 180) * NS);
    CHECK(m != NULL);
    CHECK_EQ_INT(history_market_total(m), 4 + 1 + 1 + 3); /* b's second: 21, 20, 22 */
    CHECK_EQ_INT(history_market_next_due_ns(m), MINUTE_S * NS);
    uint32_t instrument;
    history_point p;
    CHECK(!history_market_take(m, MINUTE_S * NS - 1, &instrument, &p));
    CHECK(history_market_take(m, MINUTE_S * NS, &instrument, &p));
    CHECK_EQ_INT(instrument, 3);
    CHECK_EQ_INT(p.price_nano, 10);
    CHECK(history_market_take(m, MINUTE_S * NS, &instrument, &p));
    CHECK_EQ_INT(instrument, 7);
    CHECK(!history_market_take(m, MINUTE_S * NS, &instrument, &p));
    int64_t last = MINUTE_S * NS;
    uint32_t taken = 2;
    while (history_market_take(m, INT64_MAX, &instrument, &p)) {
        CHECK(p.time_ns >= last);
        last = p.time_ns;
        taken++;
    }
    CHECK_EQ_INT(taken, 9);
    CHECK_EQ_INT(history_market_next_due_ns(m), INT64_MAX);
    CHECK_EQ_INT(history_market_taken(m), 9);
    history_market_destroy(m);

    /* Resuming after (MINUTE_S :15, instrument 3) leaves out what came before it. */
    m = history_market_create(sources, 2, MINUTE_S * NS, (MINUTE_S + 180) * NS);
    history_market_resume_after(m, MINUTE_S * NS + HISTORY_PATH_STEP_NS, 3);
    CHECK(history_market_take(m, INT64_MAX, &instrument, &p));
    CHECK_EQ_INT(instrument, 3);
    CHECK_EQ_INT(p.time_ns, MINUTE_S * NS + 2 * HISTORY_PATH_STEP_NS);
    CHECK_EQ_INT(p.price_nano, 12);
    history_market_destroy(m);
}

static void test_clock(void) {
    int64_t start = MINUTE_S * NS, end = start + 3600 * NS;
    /* STEP: the clock stands until moved; never backwards, never past the end. */
    clock_replay_start(&(clock_replay_config){
        .mode = CLOCK_REPLAY_STEP, .start_ns = start, .end_ns = end, .quantum_ns = 15 * NS});
    CHECK_EQ_INT(clock_broker_ns(), start);
    clock_replay_set(start + 60 * NS);
    CHECK_EQ_INT(clock_broker_ns(), start + 60 * NS);
    clock_replay_set(start);
    CHECK_EQ_INT(clock_broker_ns(), start + 60 * NS);
    clock_replay_set(end + NS);
    CHECK_EQ_INT(clock_broker_ns(), end);
    /* SPEED: on a quantum, from the start; the deadline of a time inside a quantum is the
     * quantum's end, reached after (its distance / speed) of wall time. */
    clock_replay_start(&(clock_replay_config){.mode = CLOCK_REPLAY_SPEED,
                                              .start_ns = start,
                                              .end_ns = end,
                                              .speed_milli = 60000,
                                              .quantum_ns = 15 * NS});
    int64_t now = clock_broker_ns();
    CHECK(now >= start && now < start + 15 * NS * 4); /* a test runs well within 1 s of wall time */
    CHECK_EQ_INT((now - start) % (15 * NS), 0);
    int64_t wall = clock_realtime_ns();
    int64_t deadline = clock_replay_wall_deadline_ns(start + 20 * NS); /* quantum end: 30 s */
    CHECK(deadline - wall <= 30 * NS / 60 + NS / 100);
    CHECK(deadline - wall >= 30 * NS / 60 - NS / 10);
    /* The wall clock again. */
    clock_replay_start(&(clock_replay_config){.mode = CLOCK_REPLAY_OFF});
    CHECK(clock_broker_ns() - clock_realtime_ns() < NS);
}

/* The speed changed at run time (SetReplaySpeed): the time goes on from where it stands in every
 * direction of change, never backwards; the text of the speed in force; the parser's forms. */
static void test_clock_speed_change(void) {
    int64_t start = MINUTE_S * NS, end = start + 86400 * NS, q = 15 * NS;
    clock_replay_start(&(clock_replay_config){
        .mode = CLOCK_REPLAY_STEP, .start_ns = start, .end_ns = end, .quantum_ns = q});
    clock_replay_set(start + 100 * NS);
    char text[24];
    clock_replay_speed_text(text, sizeof text);
    CHECK(strcmp(text, "step") == 0);
    /* STEP → a factor of 10^6: a second of simulated time a microsecond; from where it stood. */
    clock_replay_set_speed(CLOCK_REPLAY_SPEED, CLOCK_REPLAY_MAX_SPEED_MILLI);
    CHECK_EQ_INT(clock_replay_mode_of(), CLOCK_REPLAY_SPEED);
    int64_t a = clock_broker_ns();
    CHECK(a >= start + 100 * NS);
    /* Where it stood, then whole quanta from the period's start (a fixed grid, so that steps
     * fall at the same simulated times however often the speed changes). */
    CHECK(a == start + 100 * NS || (a - start) % q == 0);
    int64_t until = clock_monotonic_ns() + 2000000; /* 2 ms of wall: 2000 s simulated */
    while (clock_monotonic_ns() < until) {
    }
    int64_t b = clock_broker_ns();
    CHECK(b >= a + 1000 * NS);
    clock_replay_speed_text(text, sizeof text);
    CHECK(strcmp(text, "1000000") == 0);
    /* → STEP: it stands where the factor had brought it, not before what a reader saw. */
    clock_replay_set_speed(CLOCK_REPLAY_STEP, 0);
    int64_t c = clock_broker_ns();
    CHECK(c >= b);
    until = clock_monotonic_ns() + 1000000;
    while (clock_monotonic_ns() < until) {
    }
    CHECK_EQ_INT(clock_broker_ns(), c);
    /* → a slow factor, then MAX: on from there; the text drops trailing zeros. */
    clock_replay_set_speed(CLOCK_REPLAY_SPEED, 2500);
    CHECK(clock_broker_ns() >= c);
    clock_replay_speed_text(text, sizeof text);
    CHECK(strcmp(text, "2.5") == 0);
    clock_replay_set_speed(CLOCK_REPLAY_MAX, 0);
    CHECK(clock_broker_ns() >= c);
    clock_replay_speed_text(text, sizeof text);
    CHECK(strcmp(text, "max") == 0);
    /* The parser: the forms of --speed, and nothing else. */
    clock_replay_mode mode;
    int64_t milli;
    CHECK_EQ_INT(clock_replay_parse_speed("60", &mode, &milli), 0);
    CHECK(mode == CLOCK_REPLAY_SPEED && milli == 60000);
    CHECK_EQ_INT(clock_replay_parse_speed("0.125", &mode, &milli), 0);
    CHECK_EQ_INT(milli, 125);
    CHECK_EQ_INT(clock_replay_parse_speed("step", &mode, &milli), 0);
    CHECK(mode == CLOCK_REPLAY_STEP);
    const char *bad[] = {"",     "0",   "-1", "1.0001", "1000000.001", "2000000",
                         "max ", "Max", ".5", "1e3",    NULL};
    for (int i = 0; bad[i] != NULL; i++)
        CHECK_EQ_INT(clock_replay_parse_speed(bad[i], &mode, &milli), -1);
    CHECK_EQ_INT(clock_replay_parse_speed(NULL, &mode, &milli), -1);
    clock_replay_start(&(clock_replay_config){.mode = CLOCK_REPLAY_OFF});
    /* Not a replay: nothing changes. */
    clock_replay_set_speed(CLOCK_REPLAY_MAX, 0);
    CHECK_EQ_INT(clock_replay_mode_of(), CLOCK_REPLAY_OFF);
}

/* Review findings on the speed change, each failing on the clock before its fix. */
static void test_clock_speed_change_edges(void) {
    int64_t start = MINUTE_S * NS, end = start + 3600 * NS, q = 15 * NS;
    /* MAX left the clock off the grid; a fast speed then reaches the end exactly (it stopped a
     * fraction of a quantum short, and the core thread spun on a due time never reached). */
    clock_replay_start(&(clock_replay_config){
        .mode = CLOCK_REPLAY_MAX, .start_ns = start, .end_ns = end, .quantum_ns = q});
    clock_replay_set(start + 60 * NS - 1);
    clock_replay_set_speed(CLOCK_REPLAY_SPEED, CLOCK_REPLAY_MAX_SPEED_MILLI);
    int64_t until = clock_monotonic_ns() + 20000000; /* 20 ms of wall: 20 000 s simulated */
    while (clock_monotonic_ns() < until && clock_broker_ns() < end) {
    }
    CHECK_EQ_INT(clock_broker_ns(), end);
    CHECK(clock_replay_wall_deadline_ns(end) <= clock_realtime_ns());
    /* Changing the speed faster than a quantum passes loses no progress (it froze the clock). */
    clock_replay_start(&(clock_replay_config){.mode = CLOCK_REPLAY_SPEED,
                                              .start_ns = start,
                                              .end_ns = end,
                                              .speed_milli = 1000000,
                                              .quantum_ns = q});
    int64_t before = clock_broker_ns();
    until = clock_monotonic_ns() + 30000000; /* 30 ms at 1000x: 30 s simulated */
    while (clock_monotonic_ns() < until) {
        clock_replay_set_speed(CLOCK_REPLAY_SPEED, 1000000); /* every few microseconds */
        int64_t pause = clock_monotonic_ns() + 5000;
        while (clock_monotonic_ns() < pause) {
        }
    }
    CHECK(clock_broker_ns() >= before + 15 * NS);
    /* A slow speed and a far due time: the deadline is far, not wrapped into the past (the
     * core thread spun on it). */
    int64_t year_end = start + 400LL * 86400 * NS;
    clock_replay_start(&(clock_replay_config){.mode = CLOCK_REPLAY_SPEED,
                                              .start_ns = start,
                                              .end_ns = year_end,
                                              .speed_milli = 1,
                                              .quantum_ns = q});
    CHECK(clock_replay_wall_deadline_ns(start + 200LL * 86400 * NS) > clock_realtime_ns());
    clock_replay_start(&(clock_replay_config){.mode = CLOCK_REPLAY_OFF});
}

int main(void) {
    test_path();
    test_market_order();
    test_clock();
    test_clock_speed_change();
    test_clock_speed_change_edges();
    return check_finish("test_replay_market");
}
