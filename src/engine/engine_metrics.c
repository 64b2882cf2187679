#include "engine/engine_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "engine/venue_link.h"
#include "metrics/metrics.h"

#define US 1000LL
#define MS 1000000LL

/* The label values: instruments by uid, the sides of a book. */
static bool instrument_value(const void *ctx, uint32_t index, char *out, size_t size) {
    const refdata *rd = ctx;
    if (index >= rd->instrument_count)
        return false;
    snprintf(out, size, "%s", rd->instruments[index].uid);
    return true;
}

static bool side_value(const void *ctx, uint32_t index, char *out, size_t size) {
    snprintf(out, size, "%s", index == 0 ? "bid" : "ask");
    return true;
}

static metrics_family batch_jobs = {
    .name = "tinvestd_engine_batch_jobs",
    .help = "Jobs (client commands) per batch of the core thread.",
    .kind = METRICS_HISTOGRAM,
    .bucket_count = 9,
    .bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256},
};
static metrics_family batch_events = {
    .name = "tinvestd_engine_batch_events",
    .help = "Journal events written per batch of the core thread.",
    .kind = METRICS_HISTOGRAM,
    .bucket_count = 11,
    .bounds = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1024},
};
static metrics_family journal_write_time = {
    .name = "tinvestd_journal_write_seconds",
    .help = "Time of writing one batch's events to the journal (write(), and with the pipeline "
            "off the fdatasync too).",
    .kind = METRICS_HISTOGRAM,
    .unit = METRICS_UNIT_NANOSECONDS,
    .bucket_count = 12,
    .bounds = {5 * US, 10 * US, 25 * US, 50 * US, 100 * US, 250 * US, 500 * US, 1 * MS, 2500 * US,
               5 * MS, 10 * MS, 100 * MS},
};
static metrics_family journal_sync_time = {
    .name = "tinvestd_journal_fdatasync_seconds",
    .help = "Time of one fdatasync() of the journal (a group commit of one or more batches).",
    .kind = METRICS_HISTOGRAM,
    .unit = METRICS_UNIT_NANOSECONDS,
    .bucket_count = 12,
    .bounds = {10 * US, 50 * US, 100 * US, 200 * US, 300 * US, 500 * US, 1 * MS, 2 * MS, 5 * MS,
               10 * MS, 50 * MS, 250 * MS},
};
static metrics_family inbox = {
    .name = "tinvestd_engine_inbox_jobs",
    .help = "Jobs waiting in the core thread's inbox.",
    .kind = METRICS_GAUGE,
};
static metrics_family sealed = {
    .name = "tinvestd_engine_sealed_batches",
    .help = "Batches written and waiting for the committer (fdatasync, then release).",
    .kind = METRICS_GAUGE,
};
static metrics_family book_levels = {
    .name = "tinvestd_book_levels",
    .help = "Price levels in the exchange's book, per instrument and side.",
    .kind = METRICS_GAUGE,
    .label_count = 2,
};
static metrics_family book_lots = {
    .name = "tinvestd_book_lots",
    .help = "Lots resting in the exchange's book, per instrument and side.",
    .kind = METRICS_GAUGE,
    .label_count = 2,
};

static metrics_family *const families[] = {&batch_jobs,        &batch_events, &journal_write_time,
                                           &journal_sync_time, &inbox,        &sealed,
                                           &book_levels,       &book_lots};
#define FAMILY_COUNT (sizeof families / sizeof families[0])

/* Core thread only: the book version each instrument's gauges were read at. */
static uint64_t *seen_versions;
static uint32_t seen_count;

int engine_metrics_init(const refdata *rd) {
    if (metrics_on(&batch_jobs))
        return 0;
    if (rd->instrument_count == 0)
        return -EINVAL;
    metrics_label by_instrument = {.name = "instrument_uid",
                                   .count = rd->instrument_count,
                                   .value = instrument_value,
                                   .ctx = rd};
    metrics_label side = {.name = "side", .count = 2, .value = side_value};
    book_levels.labels[0] = book_lots.labels[0] = by_instrument;
    book_levels.labels[1] = book_lots.labels[1] = side;
    seen_versions = calloc(rd->instrument_count, sizeof *seen_versions);
    if (seen_versions == NULL)
        return -ENOMEM;
    seen_count = rd->instrument_count;
    for (size_t i = 0; i < FAMILY_COUNT; i++) {
        int rc = metrics_family_init(families[i]);
        if (rc == 0)
            rc = metrics_register(metrics_default(), families[i]);
        if (rc != 0) {
            engine_metrics_deinit();
            return rc;
        }
    }
    return 0;
}

void engine_metrics_deinit(void) {
    for (size_t i = 0; i < FAMILY_COUNT; i++) {
        metrics_unregister(metrics_default(), families[i]);
        metrics_family_deinit(families[i]);
    }
    free(seen_versions);
    seen_versions = NULL;
    seen_count = 0;
}

void engine_metrics_batch(uint32_t jobs, uint64_t events) {
    if (jobs > 0)
        metrics_observe(&batch_jobs, 0, jobs);
    if (jobs > 0 || events > 0)
        metrics_observe(&batch_events, 0, events > INT64_MAX ? INT64_MAX : (int64_t)events);
}

void engine_metrics_journal_write(int64_t ns) {
    metrics_observe(&journal_write_time, 0, ns);
}

void engine_metrics_journal_sync(int64_t ns) {
    metrics_observe(&journal_sync_time, 0, ns);
}

void engine_metrics_inbox(uint32_t queued) {
    metrics_gauge_set(&inbox, 0, queued);
}

void engine_metrics_sealed(uint32_t waiting) {
    metrics_gauge_set(&sealed, 0, waiting);
}

void engine_metrics_books(engine *e) {
    if (!metrics_on(&book_levels) || e->venue == NULL)
        return;
    uint32_t n = e->core.refdata->instrument_count < seen_count ? e->core.refdata->instrument_count
                                                                : seen_count;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t version = venue_link_book_version(e->venue, i);
        if (version == seen_versions[i])
            continue;
        seen_versions[i] = version;
        venue_link_depth depth;
        venue_link_book_depth(e->venue, i, &depth);
        metrics_gauge_set(&book_levels, metrics_series(&book_levels, i, 0), depth.bid_levels);
        metrics_gauge_set(&book_levels, metrics_series(&book_levels, i, 1), depth.ask_levels);
        metrics_gauge_set(&book_lots, metrics_series(&book_lots, i, 0), depth.bid_lots);
        metrics_gauge_set(&book_lots, metrics_series(&book_lots, i, 1), depth.ask_lots);
    }
}
