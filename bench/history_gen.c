/* A synthetic minute-candle history for the replay benchmark, written fast: one CSV file of
 * T-Invest archive rows (`uid;time;open;close;high;low;volume;`, docs/HISTORY.md) per instrument,
 * for `tinvestd history import`. The layout of scripts/make-demo-history.py (weekdays from
 * 1 January, 07:00-15:39 UTC, about 3 % of the minutes left out, a seeded walk of -3..+3 price
 * steps a minute from the reference price), without its cost: a year of ten instruments (about
 * 1.3 M rows) takes a second here. It is not market data.
 *
 * usage: history_gen OUT_DIR YEAR DAYS SEED UID:STEP:REFERENCE_PRICE ...
 *   DAYS weekdays from 1 January of YEAR (0: every weekday of the year); STEP and
 *   REFERENCE_PRICE are decimals ("0.0005", "3.5"). Writes OUT_DIR/<uid>.csv for each instrument.
 * prints: rows R files F first YYYY-MM-DD last YYYY-MM-DD minutes M
 *   (M: the minutes with at least one candle, each a batch of prints in a replay at --speed max) */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history/history.h"
#include "util/money.h"

#define SESSION_START_S (7 * 3600) /* 10:00 Moscow time */
#define SESSION_MINUTES 520        /* to 15:40 UTC */
#define MISSING_MINUTE_PERCENT 3
#define MAX_VOLUME_LOTS 500
#define DAY_S 86400
#define MAX_DAYS 400

/* Which minutes of the period have a candle of any instrument. */
static bool minute_used[MAX_DAYS * SESSION_MINUTES];

typedef struct walk {
    uint64_t state;
} walk;

static uint64_t walk_next(walk *w) {
    w->state = w->state * 6364136223846793005ULL + 1442695040888963407ULL;
    return w->state >> 33;
}

/* A number in [lo, hi]. */
static int64_t walk_between(walk *w, int64_t lo, int64_t hi) {
    return lo + (int64_t)(walk_next(w) % (uint64_t)(hi - lo + 1));
}

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* The price of `ticks` steps as an exact decimal; false when it does not fit. */
static int price_text(int64_t ticks, int64_t step_nano, char *out) {
    int64_t nano;
    if (__builtin_mul_overflow(ticks, step_nano, &nano))
        return 0;
    money_format_decimal(nano, out, MONEY_DECIMAL_MAX);
    return 1;
}

/* The weekdays of the period: their midnights (UTC seconds) into days[]; how many. */
static size_t weekdays(int year, long wanted, int64_t *days, size_t room) {
    int64_t t;
    if (!history_days_from_civil(year, 1, 1, &t))
        return 0;
    t *= DAY_S;
    size_t n = 0;
    for (; n < room && (wanted == 0 || (long)n < wanted); t += DAY_S) {
        time_t when = (time_t)t;
        struct tm tm;
        gmtime_r(&when, &tm);
        if (tm.tm_year != year - 1900)
            break;
        if (tm.tm_wday != 0 && tm.tm_wday != 6)
            days[n++] = t;
    }
    return n;
}

/* One instrument's file; the number of rows written, or -1. */
static long write_instrument(const char *dir, const char *spec, const int64_t *days,
                             size_t day_count, uint64_t seed) {
    char uid[64], step_text[32], reference_text[32];
    if (sscanf(spec, "%63[^:]:%31[^:]:%31s", uid, step_text, reference_text) != 3) {
        fprintf(stderr, "history_gen: not UID:STEP:REFERENCE_PRICE: %s\n", spec);
        return -1;
    }
    int64_t step_nano, reference_nano;
    if (money_parse_decimal(step_text, &step_nano) != 0 || step_nano <= 0 ||
        money_parse_decimal(reference_text, &reference_nano) != 0 || reference_nano <= 0) {
        fprintf(stderr, "history_gen: a step or price is not a positive decimal: %s\n", spec);
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.csv", dir, uid);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    static char buffer[1 << 20];
    setvbuf(f, buffer, _IOFBF, sizeof buffer);
    walk w = {.state = seed};
    for (const char *c = uid; *c != '\0'; c++)
        w.state = w.state * 31 + (uint8_t)*c;
    int64_t close = max64(1, reference_nano / step_nano);
    long rows = 0;
    for (size_t d = 0; d < day_count; d++) {
        for (int minute = 0; minute < SESSION_MINUTES; minute++) {
            if (walk_between(&w, 0, 99) < MISSING_MINUTE_PERCENT)
                continue;
            int64_t open = close;
            close = max64(1, open + walk_between(&w, -3, 3));
            int64_t high = max64(open, close) + walk_between(&w, 0, 2);
            int64_t low = max64(1, min64(open, close) - walk_between(&w, 0, 2));
            time_t at = (time_t)(days[d] + SESSION_START_S + minute * 60);
            struct tm tm;
            gmtime_r(&at, &tm);
            char when[32], o[MONEY_DECIMAL_MAX], c[MONEY_DECIMAL_MAX], h[MONEY_DECIMAL_MAX],
                l[MONEY_DECIMAL_MAX];
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            if (!price_text(open, step_nano, o) || !price_text(close, step_nano, c) ||
                !price_text(high, step_nano, h) || !price_text(low, step_nano, l)) {
                fprintf(stderr, "history_gen: a price of %s does not fit\n", uid);
                fclose(f);
                return -1;
            }
            fprintf(f, "%s;%s;%s;%s;%s;%s;%" PRId64 ";\n", uid, when, o, c, h, l,
                    walk_between(&w, 0, MAX_VOLUME_LOTS));
            rows++;
            minute_used[d * SESSION_MINUTES + (size_t)minute] = true;
        }
    }
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return rows;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: history_gen OUT_DIR YEAR DAYS SEED UID:STEP:REFERENCE_PRICE ...\n");
        return 2;
    }
    int year = atoi(argv[2]);
    long wanted = atol(argv[3]);
    uint64_t seed = strtoull(argv[4], NULL, 10);
    if (year < 1971 || year > 2200 || wanted < 0) {
        fprintf(stderr, "history_gen: YEAR 1971-2200, DAYS 0 or more\n");
        return 2;
    }
    int64_t days[MAX_DAYS];
    size_t day_count = weekdays(year, wanted, days, sizeof days / sizeof days[0]);
    if (day_count == 0) {
        fprintf(stderr, "history_gen: no weekday in the period\n");
        return 2;
    }
    long total = 0;
    for (int i = 5; i < argc; i++) {
        long rows = write_instrument(argv[1], argv[i], days, day_count, seed);
        if (rows < 0)
            return 1;
        total += rows;
    }
    char first[16], last[16];
    time_t t0 = (time_t)days[0], t1 = (time_t)days[day_count - 1];
    struct tm tm;
    strftime(first, sizeof first, "%Y-%m-%d", gmtime_r(&t0, &tm));
    strftime(last, sizeof last, "%Y-%m-%d", gmtime_r(&t1, &tm));
    long minutes = 0;
    for (size_t m = 0; m < day_count * SESSION_MINUTES; m++)
        minutes += minute_used[m];
    printf("rows %ld files %d first %s last %s minutes %ld\n", total, argc - 5, first, last,
           minutes);
    return 0;
}
