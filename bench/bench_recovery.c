/* Recovery benchmark: durable group commit, journal bytes per order, replay speed, and the
 * restart of a server with a long history.
 *
 * The traffic is a mix of what a busy broker journals: limit orders that are accepted,
 * acknowledged and filled (eight in ten), filled in two parts (one in ten) or cancelled by the
 * client (one in ten), a market maker move every twenty orders, and the retirements of finished
 * orders once their retention has passed — with the configuration's limits (max_orders and the
 * rest), so the state stays as large as a server's can be.
 *
 *   bench_recovery CONFIG EVENTS DIR [RESTART_EVENTS]
 *   bench_recovery CONFIG EVENTS DIR --replay RUNS [--existing]
 *
 * EVENTS events are replayed from the journal alone, through engine_recover() as a start does;
 * RESTART_EVENTS (default EVENTS) events are written as a server writes them, a snapshot every
 * limits.snapshot_every_events, and the restart measured just before the next snapshot would
 * have been written: the newest snapshot loaded and the most events a restart replays after it.
 * Each figure is printed on its own line with its goal. DIR is emptied first: use a scratch
 * directory.
 *
 * --replay measures replay alone, for profiling (perf, callgrind): the mix is written to DIR
 * (or, with --existing, the journal already there is used and left), then replayed RUNS times,
 * each run's wall and CPU time printed, then the best and the median. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/core.h"
#include "core/event_codec.h"
#include "engine/engine.h"
#include "engine/snapshot.h"
#include "journal/journal.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

#define SEGMENT_BYTES (64ull << 20) /* as the engine's */
#define COMMIT_EVERY_ORDERS 64
#define ORDER_SPACING_NS 50000           /* 20 000 orders a second of synthetic time */
#define BENCH_RETENTION_NS 30000000000LL /* 30 s: 600 000 finished orders retained */
#define START_NS 1764500000000000000LL   /* 2025-11-30 */
#define FORMAT_4_RECORD_BYTES (JOURNAL_V4_RECORD_HEADER_BYTES + EVENT_CODEC_LEGACY_BYTES)
#define GOAL_BYTES_RATIO 3.0
#define GOAL_REPLAY_EVENTS_PER_S 5e6
#define GOAL_RESTART_S 2.0

static void empty_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(path);
    }
    if (d != NULL)
        closedir(d);
}

static uint64_t dir_journal_bytes(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    uint64_t bytes = 0;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strncmp(e->d_name, "journal-", 8) == 0 && stat(path, &st) == 0)
            bytes += (uint64_t)st.st_size - 16; /* the segment header */
    }
    if (d != NULL)
        closedir(d);
    return bytes;
}

/* ---- The traffic ----------------------------------------------------------------------------- */

typedef struct workload {
    tinvestd_config *cfg;
    core_config cc;
    core live;
    journal writer;
    const instrument *ins;
    int64_t now_ns;
    uint64_t orders, next_exchange_id, next_trade_id;
    uint64_t snapshot_every, last_snapshot_seq;
    uint32_t kept_segment; /* as the engine's: the oldest segment the previous snapshot needs */
    uint64_t snapshots;
    const char *dir;
} workload;

static void append_event(void *ctx, const core_event *event) {
    workload *w = ctx;
    uint8_t payload[EVENT_CODEC_MAX_BYTES];
    size_t length = event_codec_encode(event, payload);
    if (journal_append(&w->writer, (uint16_t)event->type, event->seq, payload, (uint32_t)length) !=
        0)
        abort();
}

static void open_market(void *ctx, uint32_t instrument_index, core_market *out) {
    out->trading = true;
    out->limit_up_nano = INT64_MAX / 4;
}

static core_config core_config_of(tinvestd_config *cfg) {
    core_config cc = {.refdata = &cfg->refdata,
                      .commission_bp = cfg->commission_bp,
                      .max_orders = cfg->max_orders,
                      .max_trades = cfg->max_trades ? cfg->max_trades : 2 * cfg->max_orders,
                      .order_retention_ns = BENCH_RETENTION_NS,
                      .max_orders_per_account = (uint32_t)cfg->max_orders_per_account,
                      .max_trades_per_order = cfg->max_trades_per_order,
                      .id_seed = cfg->venue.seed,
                      .openable_sandbox_accounts = (uint32_t)cfg->sandbox_accounts};
    return cc;
}

static int workload_init(workload *w, tinvestd_config *cfg, const char *dir,
                         uint64_t snapshot_every) {
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->cc = core_config_of(cfg);
    w->dir = dir;
    w->now_ns = START_NS;
    w->next_exchange_id = 10000000000ULL;
    w->next_trade_id = 20000000000ULL;
    w->snapshot_every = snapshot_every;
    /* The cheapest share, so that millions of orders fit the cash. */
    w->ins = NULL;
    for (uint32_t i = 0; i < cfg->refdata.instrument_count; i++) {
        const instrument *candidate = &cfg->refdata.instruments[i];
        if (candidate->kind == INSTRUMENT_KIND_BOND || candidate->kind == INSTRUMENT_KIND_FUTURE)
            continue;
        if (w->ins == NULL || (__int128)candidate->reference_price_nano * candidate->lot <
                                  (__int128)w->ins->reference_price_nano * w->ins->lot)
            w->ins = candidate;
    }
    char error[256];
    if (core_init(&w->live, &w->cc) != 0 ||
        journal_open(&w->writer, dir, JOURNAL_SYNC_NONE, SEGMENT_BYTES, NULL, NULL, error,
                     sizeof error) != 0) {
        fprintf(stderr, "init failed: %s\n", error);
        return -1;
    }
    w->kept_segment = w->writer.segment_index;
    w->live.sink = (core_event_sink){.ctx = w, .append = append_event};
    w->live.exchange = (core_exchange){.market = open_market};
    return 0;
}

static void workload_deinit(workload *w) {
    journal_close(&w->writer);
    core_deinit(&w->live);
}

static void report(workload *w, core_report_kind kind, uint32_t slot, int64_t lots) {
    core_exchange_report r = {
        .kind = kind, .client_ref = core_client_ref(&w->live.orders[slot]), .time_ns = w->now_ns};
    if (kind == REPORT_ACK)
        r.exchange_order_id = w->next_exchange_id++;
    if (kind == REPORT_TRADE) {
        r.trade_id = w->next_trade_id++;
        r.lots = lots;
        r.price_nano = w->ins->reference_price_nano;
        r.aggressor = (w->orders & 1) != 0;
    }
    if (kind == REPORT_CANCELLED) {
        r.lots = lots;
        r.cause = ORDER_CAUSE_CANCELLED_BY_CLIENT;
    }
    core_on_exchange_report(&w->live, &r);
}

/* As the engine does after a batch: a snapshot once enough events have passed, the journal
 * rolled first; then the snapshots and segments two generations old go. */
static void maybe_snapshot(workload *w) {
    uint64_t seq = w->live.next_seq - 1;
    if (w->snapshot_every == 0 || seq - w->last_snapshot_seq < w->snapshot_every)
        return;
    int64_t segment = journal_roll(&w->writer);
    if (segment < 0 || snapshot_write(&w->live, w->dir) != 0)
        abort();
    snapshot_prune(w->dir, w->last_snapshot_seq);
    journal_remove_segments_before(&w->writer, w->kept_segment);
    w->kept_segment = (uint32_t)segment;
    w->last_snapshot_seq = seq;
    w->snapshots++;
}

/* One order of the mix and every event it causes. `kind` 0..7: filled at once; 8: filled in two
 * parts; 9: cancelled by the client. */
static void workload_order(workload *w) {
    uint64_t n = w->orders++;
    unsigned kind = (unsigned)(n % 10);
    char key[UUID_TEXT_SIZE];
    uuid_format_from_bits(0xbe9c4, n, key);
    w->now_ns += ORDER_SPACING_NS;
    core_order_request req = {.token = &w->cfg->refdata.tokens[0],
                              .account_id = w->cfg->refdata.accounts[0].id,
                              .instrument_id = w->ins->uid,
                              .key = key,
                              .quantity = kind == 8 ? 2 : 1,
                              .has_price = true,
                              .price_nano = w->ins->reference_price_nano,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_ASYNC,
                              .now_ns = w->now_ns};
    core_result r = core_place_order(&w->live, &req);
    if (r.error != CORE_OK) {
        fprintf(stderr, "order %llu refused with %d\n", (unsigned long long)n, (int)r.error);
        exit(1);
    }
    uint32_t slot = r.order.index;
    core_request sent;
    while (core_next_request(&w->live, &sent))
        ; /* the exchange here answers at once, below */
    report(w, REPORT_ACK, slot, 0);
    if (kind == 9) {
        if (core_cancel_order(&w->live, req.token, req.account_id, key, true, w->now_ns).error !=
            CORE_OK)
            abort();
        while (core_next_request(&w->live, &sent))
            ;
        report(w, REPORT_CANCELLED, slot, 1);
    } else {
        report(w, REPORT_TRADE, slot, 1);
        if (kind == 8)
            report(w, REPORT_TRADE, slot, 1);
    }
    if (n % 20 == 19) {
        uint64_t state[4] = {n, n * 3, n * 5, n * 7};
        core_record_market_maker(&w->live, (uint32_t)(n / 20 % w->cfg->refdata.instrument_count),
                                 w->ins->reference_price_nano + (int64_t)(n % 7) * 1000000, state,
                                 w->now_ns);
    }
    if (n % COMMIT_EVERY_ORDERS == COMMIT_EVERY_ORDERS - 1) {
        if (journal_commit(&w->writer) != 0)
            abort();
        maybe_snapshot(w);
    }
}

static void workload_run(workload *w, uint64_t events) {
    while (w->live.next_seq - 1 < events)
        workload_order(w);
    if (journal_commit(&w->writer) != 0)
        abort();
}

/* ---- Measurements ---------------------------------------------------------------------------- */

/* Group commit with fdatasync: records per second for several batch sizes, in `dir`. The
 * records are of a typical size: the mix averages about 40 bytes of payload per event. */
#ifndef DURABLE_PAYLOAD_BYTES
#define DURABLE_PAYLOAD_BYTES 40
#endif
static void bench_durable_appends(const char *dir) {
    static const uint32_t batch_sizes[] = {1, 16, 256};
    char error[256];
    for (size_t b = 0; b < sizeof batch_sizes / sizeof batch_sizes[0]; b++) {
        empty_dir(dir);
        journal j;
        if (journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1ull << 30, NULL, NULL, error,
                         sizeof error) != 0)
            abort();
        uint8_t payload[DURABLE_PAYLOAD_BYTES];
        memset(payload, 0x5a, sizeof payload);
        uint64_t seq = 1;
        int64_t t0 = clock_monotonic_ns(), deadline = t0 + 1000000000LL;
        uint64_t commits = 0;
        while (clock_monotonic_ns() < deadline) {
            for (uint32_t i = 0; i < batch_sizes[b]; i++)
                if (journal_append(&j, 1, seq++, payload, sizeof payload) != 0)
                    abort();
            if (journal_commit(&j) != 0)
                abort();
            commits++;
        }
        double s = (clock_monotonic_ns() - t0) / 1e9;
        printf("durable append: batch %3u records: %.0f records/s, %.0f commits/s (%.0f us per "
               "write+fdatasync)\n",
               batch_sizes[b], (seq - 1) / s, commits / s, s * 1e6 / commits);
        journal_close(&j);
    }
    empty_dir(dir);
}

/* What one limit order costs on disk when it is accepted, acknowledged and filled once, with
 * orders before it (its first record is not a segment's first), against format 4's 3 x 232. */
static void bench_order_bytes(tinvestd_config *cfg, const char *dir) {
    static workload w;
    empty_dir(dir);
    if (workload_init(&w, cfg, dir, 0) != 0)
        exit(1);
    w.orders = 1; /* kind 1: filled at once */
    workload_order(&w);
    if (journal_commit(&w.writer) != 0)
        abort();
    uint64_t before = w.writer.segment_bytes, events_before = w.live.next_seq;
    workload_order(&w);
    if (journal_commit(&w.writer) != 0)
        abort();
    uint64_t bytes = w.writer.segment_bytes - before, events = w.live.next_seq - events_before;
    uint64_t old = events * FORMAT_4_RECORD_BYTES;
    printf("journal bytes per limit order accepted, acked and filled once: %llu bytes in %llu "
           "records (format 4: %llu bytes); goal >= %.0f x fewer: %.2f x fewer\n",
           (unsigned long long)bytes, (unsigned long long)events, (unsigned long long)old,
           GOAL_BYTES_RATIO, (double)old / (double)bytes);
    workload_deinit(&w);
    empty_dir(dir);
}

/* A fresh engine recovers `dir` as a start does (engine_init and engine_recover, the order
 * indexes included); the wall-clock and CPU seconds it took. */
typedef struct timing {
    double wall_s, cpu_s;
} timing;

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static timing recover(engine *e, const core_config *cc, const char *dir, uint64_t *hash) {
    static journal j;
    char error[512];
    engine_config ec = {.inbox_capacity = 16, .max_batch = 16};
    int64_t t0 = clock_monotonic_ns();
    double cpu0 = cpu_seconds();
    if (engine_init(e, &ec, cc, NULL) != 0 ||
        engine_recover(e, &j, dir, JOURNAL_SYNC_NONE, 0, error, sizeof error) != 0) {
        fprintf(stderr, "recovery failed: %s\n", error);
        exit(1);
    }
    timing t = {.wall_s = (clock_monotonic_ns() - t0) / 1e9, .cpu_s = cpu_seconds() - cpu0};
    *hash = core_state_hash(&e->core);
    journal_close(&j);
    return t;
}

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int by_wall(const void *a, const void *b) {
    double x = ((const timing *)a)->wall_s, y = ((const timing *)b)->wall_s;
    return (x > y) - (x < y);
}

/* RUNS recoveries of `dir`: the first into memory the process never touched, the others into
 * memory it freed (as a server restarted on a machine that has been running mostly gets). On a
 * shared machine one run says little: the best and the median of the others are reported. */
#define RUNS 5

typedef struct runs {
    timing first, best, median;
    bool same;
} runs;

static runs recover_runs(const core_config *cc, const char *dir, uint64_t expected_hash) {
    static engine e;
    timing t[RUNS];
    runs r = {.same = true};
    for (int run = 0; run < RUNS; run++) {
        uint64_t hash;
        t[run] = recover(&e, cc, dir, &hash);
        r.same = r.same && hash == expected_hash;
        engine_deinit(&e);
    }
    r.first = t[0];
    qsort(t + 1, RUNS - 1, sizeof *t, by_wall);
    r.best = t[1];
    r.median = t[1 + (RUNS - 1) / 2];
    return r;
}

/* The mix written to a journal, then replayed from it alone: twice, into memory the process never
 * touched and into memory it freed. */
static void bench_replay(tinvestd_config *cfg, const char *dir, uint64_t events) {
    static workload w;
    empty_dir(dir);
    if (workload_init(&w, cfg, dir, 0) != 0)
        exit(1);
    int64_t t0 = clock_monotonic_ns();
    workload_run(&w, events);
    double write_s = (clock_monotonic_ns() - t0) / 1e9;
    uint64_t written = w.live.next_seq - 1, orders = w.orders, held = w.live.pools.orders_in_use;
    uint64_t live_hash = core_state_hash(&w.live);
    uint64_t bytes = dir_journal_bytes(dir);
    workload_deinit(&w);
    printf("journal bytes, the mix (%llu events, %llu orders): %.1f bytes per event, %.1f per "
           "order (format 4: %.0f, %.0f); goal >= %.0f x fewer: %.2f x fewer\n",
           (unsigned long long)written, (unsigned long long)orders, (double)bytes / written,
           (double)bytes / orders, (double)FORMAT_4_RECORD_BYTES,
           (double)FORMAT_4_RECORD_BYTES * written / orders, GOAL_BYTES_RATIO,
           (double)FORMAT_4_RECORD_BYTES * written / bytes);
    runs r = recover_runs(&w.cc, dir, live_hash);
    printf("append+apply: %.0f events/s (no fsync)\n", written / write_s);
    printf("replay, %llu events of the mix (%llu orders held): best %.3f s = %.2f M events/s, "
           "median %.3f s = %.2f M events/s (CPU %.3f s = %.2f M events per CPU second) into "
           "recycled memory; %.3f s = %.2f M events/s into untouched memory%s; goal >= %.0f M "
           "events/s: best %.2f x goal\n",
           (unsigned long long)written, (unsigned long long)held, r.best.wall_s,
           written / r.best.wall_s / 1e6, r.median.wall_s, written / r.median.wall_s / 1e6,
           r.median.cpu_s, written / r.median.cpu_s / 1e6, r.first.wall_s,
           written / r.first.wall_s / 1e6, r.same ? "" : " STATE MISMATCH",
           GOAL_REPLAY_EVENTS_PER_S / 1e6, written / r.best.wall_s / GOAL_REPLAY_EVENTS_PER_S);
    empty_dir(dir);
    if (!r.same)
        exit(1);
}

/* A history of `events` written as a server writes it (a snapshot every `snapshot_every`
 * events), restarted just before the next snapshot would be: the newest snapshot loaded, and
 * the most events replayed after it. */
static void bench_restart(tinvestd_config *cfg, const char *dir, uint64_t events,
                          uint64_t snapshot_every) {
    static workload w;
    empty_dir(dir);
    if (workload_init(&w, cfg, dir, snapshot_every) != 0)
        exit(1);
    int64_t t0 = clock_monotonic_ns();
    /* Snapshots as they fall due up to about a period before the end; then on to just before
     * the next would be due (less than one commit's worth of events short of it). */
    workload_run(&w, snapshot_every && events > snapshot_every ? events - snapshot_every / 2 : 0);
    uint64_t end = snapshot_every && events > snapshot_every
                       ? w.last_snapshot_seq + snapshot_every - 4 * COMMIT_EVERY_ORDERS * 4
                       : events;
    w.snapshot_every = 0;
    workload_run(&w, end);
    double build_s = (clock_monotonic_ns() - t0) / 1e9;
    uint64_t written = w.live.next_seq - 1, held = w.live.pools.orders_in_use;
    uint64_t snapshot_seq = w.last_snapshot_seq, live_hash = core_state_hash(&w.live);
    workload_deinit(&w);
    runs r = recover_runs(&w.cc, dir, live_hash);
    char loaded[64] = "no snapshot";
    if (snapshot_seq != 0)
        snprintf(loaded, sizeof loaded, "snapshot at event %llu loaded",
                 (unsigned long long)snapshot_seq);
    printf("restart, %llu events in the history (%llu orders held, written in %.1f s): %s, %llu "
           "events replayed: best %.2f s, median %.2f s (CPU %.2f s) into recycled memory; %.2f s "
           "into untouched memory%s; goal <= %.0f s: median %.2f x goal\n",
           (unsigned long long)written, (unsigned long long)held, build_s, loaded,
           (unsigned long long)(written - snapshot_seq), r.best.wall_s, r.median.wall_s,
           r.median.cpu_s, r.first.wall_s, r.same ? "" : " STATE MISMATCH", GOAL_RESTART_S,
           r.median.wall_s / GOAL_RESTART_S);
    empty_dir(dir);
    if (!r.same)
        exit(1);
}

/* bench_recovery CONFIG EVENTS DIR --replay RUNS [--existing]. */
static int replay_only(tinvestd_config *cfg, const char *dir, uint64_t events, int count,
                       bool existing) {
    static workload w;
    static engine e;
    uint64_t live_hash = 0;
    core_config cc = core_config_of(cfg);
    if (!existing) {
        empty_dir(dir);
        if (workload_init(&w, cfg, dir, 0) != 0)
            return 1;
        workload_run(&w, events);
        live_hash = core_state_hash(&w.live);
        workload_deinit(&w);
    }
    if (count < 1 || count > 1000)
        count = 1;
    double *wall = calloc((size_t)count, sizeof *wall);
    if (wall == NULL)
        return 1;
    double best = 0, cpu_best = 0;
    uint64_t replayed = 0;
    for (int run = 0; run < count; run++) {
        uint64_t hash;
        timing t = recover(&e, &cc, dir, &hash);
        replayed = e.core.next_seq - 1;
        engine_deinit(&e);
        if (!existing && hash != live_hash) {
            fprintf(stderr, "replay: STATE MISMATCH\n");
            return 1;
        }
        wall[run] = t.wall_s;
        if (run == 0 || t.wall_s < best)
            best = t.wall_s;
        if (run == 0 || t.cpu_s < cpu_best)
            cpu_best = t.cpu_s;
        printf("run %d: %llu events, %.3f s wall (%.2f M events/s), %.3f s CPU, state %016llx\n",
               run + 1, (unsigned long long)replayed, t.wall_s, replayed / t.wall_s / 1e6, t.cpu_s,
               (unsigned long long)hash);
    }
    qsort(wall, (size_t)count, sizeof *wall, by_double);
    printf("replay only, %d runs of %llu events: best %.3f s = %.2f M events/s, median %.3f s = "
           "%.2f M events/s, least CPU %.3f s\n",
           count, (unsigned long long)replayed, best, replayed / best / 1e6, wall[count / 2],
           replayed / wall[count / 2] / 1e6, cpu_best);
    free(wall);
    return 0;
}

static long max_rss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv) {
    bool replay_mode = argc >= 6 && strcmp(argv[4], "--replay") == 0;
    if ((argc != 4 && argc != 5 && !replay_mode) ||
        (replay_mode && argc == 7 && strcmp(argv[6], "--existing") != 0) || argc > 7) {
        fprintf(stderr, "usage: bench_recovery CONFIG EVENTS DIR [RESTART_EVENTS]\n"
                        "       bench_recovery CONFIG EVENTS DIR --replay RUNS [--existing]\n");
        return 2;
    }
    static tinvestd_config cfg;
    char error[512];
    if (config_load(&cfg, argv[1], error, sizeof error) != 0) {
        fprintf(stderr, "%s\n", error);
        return 1;
    }
    log_set_level(LOG_LEVEL_WARN);
    /* Enough cash for every order, so that the broker accepts them all. */
    cfg.refdata.accounts[0].cash[0].value_nano = INT64_MAX / 4;
    uint64_t events = strtoull(argv[2], NULL, 10);
    uint64_t restart_events = argc == 5 ? strtoull(argv[4], NULL, 10) : events;
    const char *dir = argv[3];
    if (replay_mode) {
        int rc = replay_only(&cfg, dir, events, atoi(argv[5]), argc == 7);
        config_deinit(&cfg);
        return rc;
    }
    bench_durable_appends(dir);
    bench_order_bytes(&cfg, dir);
    bench_replay(&cfg, dir, events);
    bench_restart(&cfg, dir, restart_events, (uint64_t)cfg.snapshot_every_events);
    printf("peak RSS %ld MiB\n", max_rss_kib() / 1024);
    config_deinit(&cfg);
    return 0;
}
