/* report_demo OUT.html [OUT.json]: writes the report of a made-up three-day replay, for the
 * browser check (tests/report/render_check.mjs) and for looking at the page.
 *
 * Minute closes from a seeded random walk (07:00 to 15:59 UTC each day), three bots: a trend
 * follower on two rouble shares and a dollar share, a mean reverter that also goes short (its
 * name full of characters HTML must escape), and an account that never trades. The same input
 * always gives the same bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define NANO 1000000000LL
#define MINUTE (60LL * NANO)
#define DAY (86400LL * NANO)
#define T0 (1704178800LL * NANO) /* 2024-01-02T07:00:00Z */
#define DAYS 3
#define MINUTES_A_DAY 540
#define SAMPLES (DAYS * MINUTES_A_DAY)
#define INSTRUMENTS 3
#define ACCOUNTS 3
#define MAX_FILLS 4096

static uint64_t seed = 20240102;

/* A number in [-1000, 1000], from a 64-bit linear congruential generator. */
static int64_t noise(void) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int64_t)((seed >> 33) % 2001) - 1000;
}

static int64_t minute_time(int i) {
    return T0 + (i / MINUTES_A_DAY) * DAY + (i % MINUTES_A_DAY) * MINUTE;
}

static report_price prices[INSTRUMENTS][SAMPLES];
static report_fill fills[MAX_FILLS];
static uint32_t fill_count;
static int64_t held[ACCOUNTS][INSTRUMENTS]; /* units */

static const report_instrument instrument_defs[INSTRUMENTS] = {
    {"e6123145-9665-43e0-8413-cd61b8aa9b13", "SBER", "Sberbank", "rub", 10, NULL, 0},
    {"962e2a95-02a9-4171-abd7-aa198dbe643a", "GAZP", "Gazprom", "rub", 10, NULL, 0},
    {"a9eb4238-eba9-488c-b102-b6140fd08e38", "AAPL", "Apple Inc.", "usd", 1, NULL, 0},
};

static void walk(void) {
    const int64_t start[INSTRUMENTS] = {27150 * NANO / 100, 16280 * NANO / 100, 18500 * NANO / 100};
    const int64_t drift[INSTRUMENTS] = {12, -6, 3}; /* per mille of a step */
    for (int k = 0; k < INSTRUMENTS; k++) {
        int64_t price = start[k];
        for (int i = 0; i < SAMPLES; i++) {
            /* a step of up to 0.06% of the price, to the kopeck or cent */
            int64_t step = price / 1000000 * (noise() + drift[k] * 10) * 6 / 10;
            price += step - step % (NANO / 100);
            prices[k][i] = (report_price){minute_time(i), price};
        }
    }
}

static void trade(uint32_t account, uint32_t instrument, int i, int64_t units) {
    if (units == 0 || fill_count == MAX_FILLS)
        return;
    const report_price *p = &prices[instrument][i];
    int64_t n = units < 0 ? -units : units;
    int64_t value = p->close_nano * n;
    fills[fill_count++] = (report_fill){
        .account = account,
        .instrument = instrument,
        .time_ns = p->time_ns + 20 * NANO,
        .buy = units > 0,
        .units = n,
        .price_nano = p->close_nano,
        .value_nano = value,
        .commission_nano = value / 2000, /* 0.05% */
    };
    held[account][instrument] += units;
}

static int64_t average(int k, int i, int window) {
    int64_t sum = 0;
    for (int j = i - window + 1; j <= i; j++)
        sum += prices[k][j].close_nano / window;
    return sum;
}

/* Bot 0 holds 30 lots of a share while its 15-minute average is above its 60-minute one;
 * bot 1 buys 5 lots 0.1% under the half hour's average and sells 5 lots 0.1% over it (up to 20 lots
 * long or 10 short). Each decides on the minute's close; its fill comes 20 s later. */
static void bots(void) {
    for (int i = 60; i + 1 < SAMPLES; i++) {
        if (i % MINUTES_A_DAY > MINUTES_A_DAY - 3)
            continue; /* not into the close */
        for (uint32_t k = 0; k < INSTRUMENTS; k++) {
            int64_t fast = average((int)k, i, 15), slow = average((int)k, i, 60);
            int64_t lot = instrument_defs[k].lot;
            int64_t want = fast > slow ? 30 * lot : 0;
            if (k == 2)
                want = fast > slow ? 20 : 0;
            if ((fast > slow) != (held[0][k] > 0) && i % 5 == 0)
                trade(0, k, i, want - held[0][k]);
        }
        int64_t price = prices[1][i].close_nano, mean = average(1, i, 30);
        int64_t lot = instrument_defs[1].lot;
        if (price < mean - mean / 1000 && held[1][1] < 20 * lot && i % 9 == 0)
            trade(1, 1, i, 5 * lot);
        else if (price > mean + mean / 1000 && held[1][1] > -10 * lot && i % 9 == 0)
            trade(1, 1, i, -5 * lot);
    }
}

static int write(const char *path, const report_input *in,
                 int (*writer)(const report_input *, FILE *, const char **)) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "report_demo: %s: %s\n", path, strerror(errno));
        return 1;
    }
    const char *why = NULL;
    int rc = writer(in, f, &why);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc != 0) {
        fprintf(stderr, "report_demo: %s: %s (%s)\n", path, strerror(-rc), why ? why : "");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: report_demo OUT.html [OUT.json]\n");
        return 2;
    }
    walk();
    bots();
    report_instrument instruments[INSTRUMENTS];
    for (int k = 0; k < INSTRUMENTS; k++) {
        instruments[k] = instrument_defs[k];
        instruments[k].prices = prices[k];
        instruments[k].price_count = SAMPLES;
    }
    static const report_money trend_cash[] = {{"rub", 1000000 * NANO}, {"usd", 10000 * NANO}};
    static const report_money reverter_cash[] = {{"rub", 250000 * NANO}};
    static const report_money idle_cash[] = {{"rub", 100000 * NANO}};
    const report_account accounts[ACCOUNTS] = {
        {"2000000001", "Trend follower", trend_cash, 2},
        {"2000000002", "Mean reverter <script>\"&'", reverter_cash, 1},
        {"2000000003", "Idle", idle_cash, 1},
    };
    int64_t now = minute_time(SAMPLES - 1);
    report_input in = {
        .from_ns = T0,
        .to_ns = now,
        .now_ns = now,
        .title = "tinvestd replay 2024-01-02 .. 2024-01-04",
        .fingerprint = 0x9e3779b97f4a7c15ULL,
        .accounts = accounts,
        .account_count = ACCOUNTS,
        .instruments = instruments,
        .instrument_count = INSTRUMENTS,
        .fills = fills,
        .fill_count = fill_count,
    };
    int rc = write(argv[1], &in, report_write_html);
    if (rc == 0 && argc == 3)
        rc = write(argv[2], &in, report_write_json);
    return rc;
}
