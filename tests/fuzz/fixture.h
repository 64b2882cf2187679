/* What the fuzz targets and the corpus writer (make_corpus.c) share: the broker they feed and a
 * scratch directory for the files they read.
 *
 * The broker is the unit tests' one share (tests/unit/one_share.h), which may be sold short on
 * margin, and a future "FUT0" on guarantee margin, with a broker account "A1", a sandbox account
 * "S1", a margin account "M1" and one token with full access to them, room for two more sandbox
 * accounts, clearings a few seconds after the start, and small pools, so that a core is cheap to
 * build for every input. The corpus is
 * written with exactly this configuration, so its journals and snapshots fit it. */
#ifndef TINVESTD_TESTS_FUZZ_FIXTURE_H
#define TINVESTD_TESTS_FUZZ_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/one_share.h"
#include "core/core.h"
#include "engine/venue_link.h"

#define FIXTURE_NANO 1000000000LL
/* The time every input starts at (2023-11-14). */
#define FIXTURE_START_NS (1700000000LL * FIXTURE_NANO)
#define FIXTURE_MAX_ORDERS 64

static inline void fixture_refdata(refdata *rd) {
    one_share_refdata(rd, 100000);
    rd->account_count = 2;
    rd->accounts[1] = (account){.index = 1, .id = "S1", .name = "sandbox", .sandbox = true};
    rd->accounts[1].cash_count = 1;
    strcpy(rd->accounts[1].cash[0].currency, "rub");
    rd->accounts[1].cash[0].value_nano = 5000 * FIXTURE_NANO;
    rd->tokens[0].access[1] = ACCESS_FULL;
    instrument *share = &rd->instruments[0];
    share->short_enabled = true;
    share->dlong_nano = FIXTURE_NANO / 4;
    share->dshort_nano = FIXTURE_NANO / 2;
    share->dlong_min_nano = FIXTURE_NANO / 8;
    share->dshort_min_nano = FIXTURE_NANO / 4;
    rd->instrument_count = 2;
    rd->instruments[1] = *share;
    instrument *future = &rd->instruments[1];
    future->index = 1;
    future->kind = INSTRUMENT_KIND_FUTURE;
    future->figi = "FUT0";
    future->ticker = "FUT";
    future->class_code = "SPBFUT";
    future->uid = "uid-fut";
    future->position_uid = "pos-fut";
    future->name = "Future";
    future->min_price_increment_nano = FIXTURE_NANO;
    future->min_price_increment_amount_nano = FIXTURE_NANO / 2;
    future->reference_price_nano = 1000 * FIXTURE_NANO;
    future->initial_margin_nano = 100 * FIXTURE_NANO;
    future->initial_margin_on_buy_nano = 100 * FIXTURE_NANO;
    future->initial_margin_on_sell_nano = 120 * FIXTURE_NANO;
    future->dlong_nano = future->dshort_nano = 0;
    future->dlong_min_nano = future->dshort_min_nano = 0;
    rd->account_count = 3;
    rd->accounts[2] = (account){.index = 2,
                                .id = "M1",
                                .name = "margin",
                                .margin = true,
                                .margin_call = true,
                                .status = ACCOUNT_STATUS_OPEN};
    rd->accounts[2].cash_count = 1;
    strcpy(rd->accounts[2].cash[0].currency, "rub");
    rd->accounts[2].cash[0].value_nano = 20000 * FIXTURE_NANO;
    rd->tokens[0].access[2] = ACCESS_FULL;
}

static inline core_config fixture_core_config(refdata *rd) {
    core_config cfg = {.refdata = rd,
                       .commission_bp = 4,
                       .max_orders = FIXTURE_MAX_ORDERS,
                       .max_trades = 2 * FIXTURE_MAX_ORDERS,
                       .order_retention_ns = 60 * FIXTURE_NANO,
                       .max_orders_per_account = FIXTURE_MAX_ORDERS / 2,
                       .max_trades_per_order = 4,
                       .value_limit_count = 1,
                       .id_seed = 7,
                       .openable_sandbox_accounts = 2,
                       /* Two clearings 5 and 30 s after the start (22:13:20 UTC). */
                       .margin = {.clearing_count = 2,
                                  .clearing_s = {80005, 80030},
                                  .money_rate_per_day_nano = FIXTURE_NANO / 1000,
                                  .shares_rate_per_day_nano = FIXTURE_NANO / 1000}};
    strcpy(cfg.value_limits[0].currency, "rub");
    cfg.value_limits[0].max_value_nano = 1000000 * FIXTURE_NANO;
    return cfg;
}

/* An exchange whose market maker quotes three levels each side and walks every second. */
static inline engine_venue_settings fixture_venue_settings(void) {
    return (engine_venue_settings){.seed = 5,
                                   .market_maker_enabled = true,
                                   .market_maker_levels = 3,
                                   .market_maker_lots_per_level = 10,
                                   .market_maker_spread_ticks = 1,
                                   .market_maker_refresh_ns = FIXTURE_NANO,
                                   .market_maker_walk_ticks = 1,
                                   .max_orders = FIXTURE_MAX_ORDERS};
}

/* ---- A broker with an order ---------------------------------------------------------------- */

/* The fixture's core with its exchange link; A1 holds an acknowledged buy order of 2 lots at 90,
 * key FIXTURE_ORDER_KEY, resting in the book. */
typedef struct fixture_broker {
    core core;
    engine_venue_link *link;
    core_order order; /* the order as it was once acknowledged */
} fixture_broker;

#define FIXTURE_ORDER_KEY "fixture-key"

static inline void fixture_broker_open(fixture_broker *b, refdata *rd) {
    fixture_refdata(rd);
    core_config cfg = fixture_core_config(rd);
    engine_venue_settings settings = fixture_venue_settings();
    if (core_init(&b->core, &cfg) != 0)
        abort();
    b->link = venue_link_create(rd, &settings, FIXTURE_START_NS);
    if (b->link == NULL)
        abort();
    venue_link_attach(b->link, &b->core);
    venue_link_restore(b->link, FIXTURE_START_NS);
    core_order_request order = {.token = &rd->tokens[0],
                                .account_id = "A1",
                                .instrument_id = "FIGI0",
                                .key = FIXTURE_ORDER_KEY,
                                .quantity = 2,
                                .has_price = true,
                                .price_nano = 90 * FIXTURE_NANO,
                                .direction = DIRECTION_BUY,
                                .type = ORDER_TYPE_LIMIT,
                                .source = ORDER_SOURCE_SYNC,
                                .now_ns = FIXTURE_START_NS};
    core_result placed = core_place_order(&b->core, &order);
    if (placed.error != CORE_OK)
        abort();
    venue_link_pump(b->link);
    b->order = b->core.orders[placed.order.index];
}

static inline void fixture_broker_close(fixture_broker *b) {
    refdata *rd = b->core.refdata;
    venue_link_destroy(b->link);
    core_deinit(&b->core);
    refdata_deinit(rd);
}

/* ---- Scratch files -------------------------------------------------------------------------- */

static char fixture_dir_path[512];

/* Removes everything inside `dir`, subdirectories too. */
static inline void fixture_empty(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char path[800];
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        if (unlink(path) != 0) {
            fixture_empty(path);
            rmdir(path);
        }
    }
    closedir(d);
}

static inline void fixture_dir_clear(void) {
    fixture_empty(fixture_dir_path);
}

static inline void fixture_dir_remove(void) {
    fixture_dir_clear();
    rmdir(fixture_dir_path);
}

/* A directory of this process's own under $TMPDIR (else /tmp), removed when it exits normally;
 * a crash leaves it behind (scripts/fuzz.sh points $TMPDIR into the build directory). */
static inline const char *fixture_dir(void) {
    if (fixture_dir_path[0] != '\0')
        return fixture_dir_path;
    const char *tmp = getenv("TMPDIR");
    snprintf(fixture_dir_path, sizeof fixture_dir_path, "%s/tinvestd-fuzz-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(fixture_dir_path) == NULL) {
        perror(fixture_dir_path);
        abort();
    }
    atexit(fixture_dir_remove);
    return fixture_dir_path;
}

/* Writes `size` bytes as the file `name` in the scratch directory. */
static inline void fixture_write(const char *name, const void *data, size_t size) {
    char path[800];
    snprintf(path, sizeof path, "%s/%s", fixture_dir(), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size)) {
        perror(path);
        abort();
    }
    close(fd);
}

#endif
