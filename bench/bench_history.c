/* History import throughput: `tinvestd history import` of one CSV file of N minute candles (the
 * rows of T-Invest's archives) into an empty store, in candles per second, against the floor of
 * reading the same file and computing CRC32C over its bytes (what any import must at least do).
 *
 * usage: bench_history WORK_DIR CANDLES
 * prints: history import: R candles/s (floor, read + CRC32C of the same bytes: F candles/s); ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history/history_import.h"
#include "util/crc32c.h"

#define UID "e6123145-9665-43e0-8413-cd61b8aa9b13"
#define NANO 1000000000LL
#define SESSION_MINUTES 840

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NANO + ts.tv_nsec;
}

/* Rows of a seeded walk in kopecks, 840 minutes a day from 2020-01-01 07:00 UTC. */
static void write_rows(const char *path, long count) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    uint64_t state = 42;
    long price = 30000;
    for (long i = 0; i < count; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        long step = (long)(state >> 61) - 3;
        long open = price, close = price + step > 100 ? price + step : 100;
        long high = (open > close ? open : close) + 2, low = (open < close ? open : close) - 1;
        price = close;
        time_t t = 1577862000 + (time_t)(i / SESSION_MINUTES) * 86400 + (i % SESSION_MINUTES) * 60;
        struct tm tm;
        gmtime_r(&t, &tm);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(f, "%s;%s;%ld.%02ld;%ld.%02ld;%ld.%02ld;%ld.%02ld;%ld;\n", UID, when, open / 100,
                open % 100, close / 100, close % 100, high / 100, high % 100, low / 100, low % 100,
                (long)(state >> 50) % 1000);
    }
    fclose(f);
}

/* Reads the file in 1 MiB blocks and computes CRC32C over it. */
static uint32_t read_and_crc(const char *path) {
    static char block[1 << 20];
    FILE *f = fopen(path, "rb");
    uint32_t crc = 0;
    size_t n;
    while (f != NULL && (n = fread(block, 1, sizeof block, f)) > 0)
        crc = crc32c_update(crc, block, n);
    if (f != NULL)
        fclose(f);
    return crc;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_history WORK_DIR CANDLES\n");
        return 2;
    }
    long count = atol(argv[2]);
    char csv[4096], data[4096];
    snprintf(csv, sizeof csv, "%s/history-bench.csv", argv[1]);
    snprintf(data, sizeof data, "%s/history-bench-data", argv[1]);
    write_rows(csv, count);
    int64_t started = now_ns();
    uint32_t crc = read_and_crc(csv);
    double floor_s = (double)(now_ns() - started) / NANO;
    FILE *out = fopen("/dev/null", "w");
    const char *files[] = {csv};
    history_import_options opt = {.data_dir = data,
                                  .max_candles_per_instrument = (uint64_t)count,
                                  .out = out,
                                  .errors = stderr};
    started = now_ns();
    int rc = history_import_files(&opt, files, 1);
    double import_s = (double)(now_ns() - started) / NANO;
    fclose(out);
    if (rc != 0) {
        fprintf(stderr, "bench_history: the import failed (%d)\n", rc);
        return 1;
    }
    double rate = (double)count / import_s, floor_rate = (double)count / floor_s;
    printf("history import: %.0f candles/s (floor, read + CRC32C of the same bytes: %.0f "
           "candles/s); goal >= 0.02 x floor: %.3f x floor [crc %08x]\n",
           rate, floor_rate, rate / floor_rate, crc);
    return 0;
}
