/* Matching-engine microbenchmark: the embedded exchange alone, no transport, no journal.
 *
 * A mix over 10 instruments: 60% resting limit orders near the touch, 25% cancels of resting
 * orders, 15% crossing orders that trade; at most 20 000 orders rest at a time. Prints operations
 * per second and per-operation latency percentiles (measured with CLOCK_MONOTONIC around each call,
 * including the report callback). Then the candle store alone: what counting one print into the
 * candles of all 16 intervals costs, the work the apply of a trade event adds (a second line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candles/candles.h"
#include "venue/exchange.h"

#define INSTRUMENTS 10
#define LIVE_ORDERS 20000
#define NANO 1000000000LL

static uint64_t reports_seen;

static void count_report(void *ctx, const exch_report *r) {
    reports_seen += r->qty_lots != 0;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NANO + ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t next_random(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct run_result {
    double seconds;
    int64_t *latency; /* sorted, or NULL when not measured */
} run_result;

/* One run of `ops` operations on a fresh exchange; per-operation latency only when `timed`
 * (the clock reads would otherwise be part of the throughput figure). */
static run_result run(long ops, bool timed) {
    exch_instrument_setup setups[INSTRUMENTS];
    for (int i = 0; i < INSTRUMENTS; i++)
        setups[i] = (exch_instrument_setup){.tick_nano = NANO / 100,
                                            .reference_price_nano = 100 * NANO,
                                            .price_band_bp = 2000,
                                            .trading = true};
    exch_config cfg = {.instrument_count = INSTRUMENTS,
                       .max_orders = 1 << 20,
                       .max_client_ref = (uint64_t)ops + 1,
                       .levels_per_side = 512,
                       .seed = 1,
                       .first_exchange_id = 1,
                       .on_report = count_report};
    exchange *x = exchange_create(&cfg, setups, 0);
    if (x == NULL)
        abort();
    uint64_t *resting = calloc((size_t)ops, sizeof *resting);
    int64_t *latency = timed ? malloc((size_t)ops * sizeof *latency) : NULL;
    size_t resting_count = 0;
    uint64_t next_ref = 1;
    int64_t started = now_ns();
    for (long i = 0; i < ops; i++) {
        uint64_t roll = next_random() % 100;
        int64_t t0 = timed ? now_ns() : 0;
        /* Books of realistic depth: at most LIVE_ORDERS resting at once (a cancel otherwise). */
        if ((roll < 25 && resting_count > 0) || resting_count >= LIVE_ORDERS) {
            size_t pick = next_random() % resting_count;
            exchange_cancel(x, resting[pick], i);
            resting[pick] = resting[--resting_count];
        } else {
            bool buy = next_random() & 1;
            bool cross = roll >= 85;
            int64_t offset = (int64_t)(1 + next_random() % 20) * (NANO / 100);
            int64_t price =
                100 * NANO + (buy ? (cross ? offset : -offset) : (cross ? -offset : offset));
            exch_new_order o = {.client_ref = next_ref,
                                .owner = (uint32_t)(1 + next_random() % 50),
                                .instrument = (uint32_t)(next_random() % INSTRUMENTS),
                                .side = buy ? BOOK_BUY : BOOK_SELL,
                                .type = EXCH_LIMIT,
                                .tif = cross ? EXCH_FILL_AND_KILL : EXCH_DAY,
                                .price_nano = price,
                                .qty_lots = (int64_t)(1 + next_random() % 10)};
            exchange_submit(x, &o, i);
            if (!cross)
                resting[resting_count++] = next_ref;
            next_ref++;
        }
        exchange_advance(x, i);
        if (timed)
            latency[i] = now_ns() - t0;
    }
    run_result result = {.seconds = (now_ns() - started) / 1e9, .latency = latency};
    if (timed)
        qsort(latency, (size_t)ops, sizeof *latency, compare_i64);
    exchange_destroy(x);
    free(resting);
    return result;
}

/* `prints` trades on INSTRUMENTS instruments, a millisecond apart, prices walking by a tick,
 * into a store with the default retention: seconds taken. */
static double candles_run(long prints) {
    candles_config cc = candles_default_config();
    candle_store s;
    if (candles_init(&s, &cc, INSTRUMENTS) != 0) {
        fprintf(stderr, "candles_init failed\n");
        exit(1);
    }
    int64_t price = 100 * NANO, time = 1700000000LL * NANO;
    int64_t started = now_ns();
    for (long i = 0; i < prints; i++) {
        price += (i * 7919) % 3 == 0 ? -10000000 : 10000000;
        if (price < NANO)
            price = 100 * NANO;
        time += 1000000;
        candles_on_trade(&s, (uint32_t)(i % INSTRUMENTS), (uint64_t)i + 1, price, 1 + i % 5,
                         i % 2 == 0, time);
    }
    double seconds = (now_ns() - started) / 1e9;
    candles_deinit(&s);
    return seconds;
}

int main(int argc, char **argv) {
    long ops = argc > 1 ? atol(argv[1]) : 2000000;
    run(ops / 10, false); /* warm up caches and the allocator */
    run_result throughput = run(ops, false);
    run_result timed = run(ops, true);
    int64_t *l = timed.latency;
    printf("venue matching: %ld ops in %.3f s = %.2f M ops/s; per-op latency p50 %.2f us, "
           "p99 %.2f us, p99.9 %.2f us, max %.2f us\n",
           ops, throughput.seconds, ops / throughput.seconds / 1e6, l[ops / 2] / 1e3,
           l[ops * 99 / 100] / 1e3, l[ops * 999 / 1000] / 1e3, l[ops - 1] / 1e3);
    free(l);
    long prints = ops / 2;
    candles_run(prints / 10);
    double candle_s = candles_run(prints);
    double per_print_ns = candle_s * 1e9 / prints;
    printf("candles: %ld prints in %.3f s = %.0f ns per print (16 intervals) = %.1f%% of a "
           "matching op's mean %.0f ns\n",
           prints, candle_s, per_print_ns, 100 * per_print_ns / (throughput.seconds * 1e9 / ops),
           throughput.seconds * 1e9 / ops);
    return 0;
}
