/* Recovery benchmark: journal append throughput, replay speed, and restart time from a
 * snapshot, for N events of real order traffic (each order is an acceptance and an exchange
 * acknowledgement, the two events a resting order costs).
 *
 * usage: bench_recovery CONFIG EVENTS DIR   (DIR is emptied first; use a scratch directory) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config/config.h"
#include "core/core.h"
#include "core/event_codec.h"
#include "engine/snapshot.h"
#include "journal/journal.h"
#include "util/clock.h"
#include "util/uuid.h"

#define COMMIT_EVERY 1000

static journal writer;

static void append_event(void *ctx, const core_event *event) {
    uint8_t payload[EVENT_CODEC_MAX_BYTES];
    size_t length = event_codec_encode(event, payload);
    if (journal_append(&writer, (uint16_t)event->type, event->seq, payload, (uint32_t)length) != 0)
        abort();
}

static void open_market(void *ctx, uint32_t instrument_index, core_market *out) {
    out->trading = true;
    out->limit_up_nano = INT64_MAX / 4;
}

static int replay_into(void *ctx, uint32_t format, uint16_t type, uint64_t seq, const void *payload,
                       uint32_t length) {
    core *c = ctx;
    core_event ev;
    if (seq < c->next_seq)
        return 0;
    if (event_codec_decode(type, seq, payload, length, &ev) != 0 || !core_event_applicable(c, &ev))
        return -1;
    core_apply(c, &ev);
    return 0;
}

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

static long max_rss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Group commit with fdatasync: records per second for several batch sizes, in `dir`. */
static void bench_durable_appends(const char *dir) {
    static const uint32_t batch_sizes[] = {1, 16, 256};
    core_event ev;
    memset(&ev, 0, sizeof ev);
    for (size_t b = 0; b < sizeof batch_sizes / sizeof batch_sizes[0]; b++) {
        empty_dir(dir);
        journal j;
        char error[256];
        if (journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1ull << 30, NULL, NULL, error,
                         sizeof error) != 0)
            abort();
        uint64_t seq = 1;
        int64_t t0 = clock_monotonic_ns(), deadline = t0 + 1000000000LL;
        uint64_t commits = 0;
        while (clock_monotonic_ns() < deadline) {
            for (uint32_t i = 0; i < batch_sizes[b]; i++) {
                ev.seq = seq;
                if (journal_append(&j, 1, seq++, &ev, sizeof ev) != 0)
                    abort();
            }
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

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench_recovery CONFIG EVENTS DIR\n");
        return 2;
    }
    static tinvestd_config cfg;
    char error[512];
    if (config_load(&cfg, argv[1], error, sizeof error) != 0) {
        fprintf(stderr, "%s\n", error);
        return 1;
    }
    uint64_t events = strtoull(argv[2], NULL, 10);
    bench_durable_appends(argv[3]);
    uint32_t orders = (uint32_t)(events / 2);
    const char *dir = argv[3];
    empty_dir(dir);
    /* Enough cash for every order, so that the broker accepts them all. */
    cfg.refdata.accounts[0].cash[0].value_nano = INT64_MAX / 4;
    /* The cheapest instrument, so that millions of orders fit the cash. */
    const instrument *ins = &cfg.refdata.instruments[0];
    for (uint32_t i = 1; i < cfg.refdata.instrument_count; i++) {
        const instrument *candidate = &cfg.refdata.instruments[i];
        if (candidate->kind != INSTRUMENT_KIND_BOND && candidate->kind != INSTRUMENT_KIND_FUTURE &&
            (__int128)candidate->reference_price_nano * candidate->lot <
                (__int128)ins->reference_price_nano * ins->lot)
            ins = candidate;
    }
    core_config cc = {.refdata = &cfg.refdata,
                      .commission_bp = 4,
                      .max_orders = orders + 16,
                      .max_trades = orders + 16, /* one fill reserved per one-lot order */
                      .order_retention_ns = INT64_MAX / 4,
                      .max_orders_per_account = orders + 16,
                      .max_trades_per_order = 1,
                      .id_seed = 1};
    static core live;
    if (core_init(&live, &cc) != 0 || journal_open(&writer, dir, JOURNAL_SYNC_NONE, 1ull << 30,
                                                   NULL, NULL, error, sizeof error) != 0) {
        fprintf(stderr, "init failed %s\n", error);
        return 1;
    }
    live.sink = (core_event_sink){.append = append_event};
    live.exchange = (core_exchange){.market = open_market};
    int64_t t0 = clock_monotonic_ns();
    for (uint32_t i = 0; i < orders; i++) {
        char key[UUID_TEXT_SIZE];
        uuid_format_from_bits(0xbe9c4, i, key);
        core_order_request req = {.token = &cfg.refdata.tokens[0],
                                  .account_id = cfg.refdata.accounts[0].id,
                                  .instrument_id = ins->uid,
                                  .key = key,
                                  .quantity = 1,
                                  .has_price = true,
                                  .price_nano = ins->reference_price_nano,
                                  .direction = DIRECTION_BUY,
                                  .type = ORDER_TYPE_LIMIT,
                                  .source = ORDER_SOURCE_ASYNC,
                                  .now_ns = i};
        core_result r = core_place_order(&live, &req);
        if (r.error != CORE_OK) {
            fprintf(stderr, "order %u refused with %d\n", i, (int)r.error);
            return 1;
        }
        core_request sent;
        while (core_next_request(&live, &sent))
            ; /* the exchange here acknowledges at once, below */
        core_exchange_report ack = {.kind = REPORT_ACK,
                                    .client_ref = core_client_ref(&live.orders[r.order.index]),
                                    .exchange_order_id = 10000000000ULL + i,
                                    .time_ns = i};
        core_on_exchange_report(&live, &ack);
        if (i % (COMMIT_EVERY / 2) == 0 && journal_commit(&writer) != 0)
            abort();
    }
    if (journal_commit(&writer) != 0)
        abort();
    double write_s = (clock_monotonic_ns() - t0) / 1e9;
    long rss_after_build = max_rss_kib();
    uint64_t live_hash = core_state_hash(&live);
    journal_close(&writer);

    static core replayed;
    t0 = clock_monotonic_ns();
    journal reader;
    if (core_init(&replayed, &cc) != 0 ||
        journal_open(&reader, dir, JOURNAL_SYNC_NONE, 1ull << 30, replay_into, &replayed, error,
                     sizeof error) != 0) {
        fprintf(stderr, "replay failed: %s\n", error);
        return 1;
    }
    double replay_s = (clock_monotonic_ns() - t0) / 1e9;
    journal_close(&reader);
    bool same = core_state_hash(&replayed) == live_hash;
    core_deinit(&replayed);

    t0 = clock_monotonic_ns();
    if (snapshot_write(&live, dir) != 0)
        abort();
    double snapshot_s = (clock_monotonic_ns() - t0) / 1e9;
    /* Restart twice: the first start takes memory the process never touched, the second
     * memory it freed, as a server restarted on a running machine mostly does. On a virtual
     * machine the first touch of guest memory is far dearer (see docs/BENCHMARKS.md). */
    static core restored;
    double restart_s[2];
    bool same_snapshot = true;
    for (int run = 0; run < 2; run++) {
        t0 = clock_monotonic_ns();
        if (core_init(&restored, &cc) != 0 ||
            snapshot_load(&restored, dir, error, sizeof error) <= 0) {
            fprintf(stderr, "snapshot load failed: %s\n", error);
            return 1;
        }
        restart_s[run] = (clock_monotonic_ns() - t0) / 1e9;
        same_snapshot = same_snapshot && core_state_hash(&restored) == live_hash;
        core_deinit(&restored);
    }
    printf("recovery: %llu events (%u orders): append+apply %.2f s (%.0f events/s, no fsync); "
           "replay %.2f s (%.0f events/s)%s; snapshot write %.2f s; restart from snapshot %.2f s "
           "(into untouched memory), %.2f s (into recycled memory)%s; "
           "peak RSS after building %ld MiB (%.0f bytes per resting order with its key)\n",
           (unsigned long long)(live.next_seq - 1), orders, write_s, events / write_s, replay_s,
           events / replay_s, same ? "" : " STATE MISMATCH", snapshot_s, restart_s[0], restart_s[1],
           same_snapshot ? "" : " STATE MISMATCH", rss_after_build / 1024,
           rss_after_build * 1024.0 / orders);
    core_deinit(&live);
    empty_dir(dir);
    config_deinit(&cfg);
    return same && same_snapshot ? 0 : 1;
}
