#include "api/api_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "api/stream_call.h"
#include "metrics/metrics.h"
#include "util/clock.h"

#define US 1000LL
#define MS 1000000LL

static const api_method *method_table;
static uint32_t method_count;
static metrics_code_table codes;

static bool method_value(const void *ctx, uint32_t index, char *out, size_t size) {
    if (index > method_count)
        return false;
    snprintf(out, size, "%s", index == method_count ? "unmatched" : method_table[index].path);
    return true;
}

static const char *const stage_names[] = {"received_to_accepted", "accepted_to_durable",
                                          "durable_to_replied"};
#define STAGE_COUNT 3

static bool stage_value(const void *ctx, uint32_t index, char *out, size_t size) {
    snprintf(out, size, "%s", stage_names[index]);
    return true;
}

#define LATENCY_BOUNDS                                                                             \
    {                                                                                              \
        25 * US, 50 * US, 100 * US, 250 * US, 500 * US, 1 * MS, 2500 * US, 5 * MS, 10 * MS,        \
            25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS, 1000 * MS, 5000 * MS                   \
    }

static metrics_family calls = {
    .name = "tinvestd_grpc_calls_total",
    .help = "Calls answered, by method (its gRPC path) and T-Invest code (0: OK).",
    .kind = METRICS_COUNTER,
    .label_count = 2,
    .sparse = true,
};
static metrics_family latency = {
    .name = "tinvestd_grpc_call_duration_seconds",
    .help = "Time from a call's receipt to gRPC reporting its reply sent, by method.",
    .kind = METRICS_HISTOGRAM,
    .unit = METRICS_UNIT_NANOSECONDS,
    .label_count = 1,
    .sparse = true,
    .bucket_count = 16,
    .bounds = LATENCY_BOUNDS,
};
static metrics_family stages = {
    .name = "tinvestd_post_order_async_stage_seconds",
    .help = "PostOrderAsync's stages: receipt to the core's decision, decision to its batch "
            "durable, durable to the reply written.",
    .kind = METRICS_HISTOGRAM,
    .unit = METRICS_UNIT_NANOSECONDS,
    .label_count = 1,
    .bucket_count = 16,
    .bounds = LATENCY_BOUNDS,
};
static metrics_family streams = {
    .name = "tinvestd_open_streams",
    .help = "Server streams open, by method.",
    .kind = METRICS_GAUGE,
    .label_count = 1,
};

/* The slowest subscribers: the API_METRICS_SLOWEST_STREAMS streams with the most messages
 * waiting, gathered at scrape time (api_stream_slowest), labelled by method and the stream's
 * number (no token, no account). The second family is each one's backlog limit, for its share. */
static uint32_t collect_slowest(const void *ctx, metrics_sample *out, uint32_t capacity) {
    bool limits = ctx != NULL;
    api_stream_backlog top[API_METRICS_SLOWEST_STREAMS];
    size_t max = capacity < API_METRICS_SLOWEST_STREAMS ? capacity : API_METRICS_SLOWEST_STREAMS;
    size_t n = api_stream_slowest(top, max);
    for (size_t i = 0; i < n; i++) {
        const api_method *m = top[i].method;
        snprintf(out[i].labels[0], sizeof out[i].labels[0], "%s",
                 m != NULL ? m->path : "unmatched");
        snprintf(out[i].labels[1], sizeof out[i].labels[1], "%" PRIu64, top[i].number);
        out[i].value = limits ? top[i].limit : top[i].queued;
    }
    return (uint32_t)n;
}

static const bool limits_ctx = true;
static metrics_family slowest = {
    .name = "tinvestd_stream_backlog_messages",
    .help = "The streams with the most messages waiting to be sent (at most 5), by method and "
            "stream number.",
    .kind = METRICS_GAUGE,
    .label_count = 2,
    .labels = {{.name = "method"}, {.name = "stream"}},
    .collect = collect_slowest,
};
static metrics_family slowest_limits = {
    .name = "tinvestd_stream_backlog_limit_messages",
    .help = "The backlog at which each of those streams is cut off (its configured limit).",
    .kind = METRICS_GAUGE,
    .label_count = 2,
    .labels = {{.name = "method"}, {.name = "stream"}},
    .collect = collect_slowest,
    .collect_ctx = &limits_ctx,
};

static metrics_family *const families[] = {&calls,   &latency, &stages,
                                           &streams, &slowest, &slowest_limits};
#define FAMILY_COUNT (sizeof families / sizeof families[0])

int api_metrics_init(const api_method *methods, size_t count) {
    if (metrics_on(&calls))
        return 0;
    if (count == 0 || count >= UINT32_MAX)
        return -EINVAL;
    method_table = methods;
    method_count = (uint32_t)count;
    metrics_code_table_init(&codes);
    metrics_label method = {.name = "method", .count = method_count + 1, .value = method_value};
    calls.labels[0] = method;
    calls.labels[1] = metrics_code_label("code", &codes);
    latency.labels[0] = method;
    streams.labels[0] = method;
    stages.labels[0] = (metrics_label){.name = "stage", .count = STAGE_COUNT, .value = stage_value};
    for (size_t i = 0; i < FAMILY_COUNT; i++) {
        int rc = metrics_family_init(families[i]);
        if (rc == 0)
            rc = metrics_register(metrics_default(), families[i]);
        if (rc != 0) {
            api_metrics_deinit();
            return rc;
        }
    }
    return 0;
}

void api_metrics_deinit(void) {
    for (size_t i = 0; i < FAMILY_COUNT; i++) {
        metrics_unregister(metrics_default(), families[i]);
        metrics_family_deinit(families[i]);
    }
    method_table = NULL;
    method_count = 0;
}

static uint32_t method_of(const api_call *call) {
    if (call->method == NULL || call->method->index >= method_count)
        return method_count;
    return call->method->index;
}

void api_metrics_count_call(uint32_t method_index, int code, int64_t latency_ns) {
    if (!metrics_on(&calls))
        return;
    uint32_t m = method_index > method_count ? method_count : method_index;
    metrics_counter_add(&calls, metrics_series(&calls, m, metrics_code_slot(&codes, code)), 1);
    if (latency_ns >= 0)
        metrics_observe(&latency, m, latency_ns);
}

void api_metrics_replied(const api_call *call, int code) {
    if (!metrics_on(&calls))
        return;
    uint32_t m = method_of(call);
    metrics_counter_add(&calls, metrics_series(&calls, m, metrics_code_slot(&codes, code)), 1);
}

void api_metrics_sent(const api_call *call) {
    if (!metrics_on(&latency) || call->received_mono_ns == 0)
        return;
    metrics_observe(&latency, method_of(call), clock_monotonic_ns() - call->received_mono_ns);
}

void api_metrics_count_post_order_async(int64_t accept_ns, int64_t durable_ns, int64_t reply_ns) {
    metrics_observe(&stages, 0, accept_ns);
    metrics_observe(&stages, 1, durable_ns);
    metrics_observe(&stages, 2, reply_ns);
}

void api_metrics_post_order_async(int64_t received_ns, int64_t decided_ns, int64_t durable_ns) {
    if (!metrics_on(&stages) || received_ns == 0 || decided_ns == 0 || durable_ns == 0)
        return;
    api_metrics_count_post_order_async(decided_ns - received_ns, durable_ns - decided_ns,
                                       clock_monotonic_ns() - durable_ns);
}

void api_metrics_stream_opened(const api_call *call) {
    metrics_gauge_add(&streams, method_of(call), 1);
}

void api_metrics_stream_closed(const api_call *call) {
    metrics_gauge_add(&streams, method_of(call), -1);
}
