/* The metrics registry (src/metrics): exact Prometheus text of a small registry, label escaping,
 * sparse series, the code table, refused families, and observations from several threads adding
 * up. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "metrics/metrics.h"

static const char *const colors[] = {"red", "say \"hi\"\\\nbye"};

static bool color_value(const void *ctx, uint32_t index, char *out, size_t size) {
    snprintf(out, size, "%s", colors[index]);
    return true;
}

static void test_exact_text(void) {
    metrics_registry r = {0};
    metrics_family requests = {.name = "demo_requests_total",
                               .help = "Requests.\nSecond line \\ here.",
                               .kind = METRICS_COUNTER,
                               .label_count = 1,
                               .labels = {{.name = "color", .count = 2, .value = color_value}}};
    metrics_family depth = {.name = "demo_depth", .help = "Depth.", .kind = METRICS_GAUGE};
    metrics_family wait = {.name = "demo_wait_seconds",
                           .help = "Wait.",
                           .kind = METRICS_HISTOGRAM,
                           .unit = METRICS_UNIT_NANOSECONDS,
                           .bucket_count = 3,
                           .bounds = {500000, 1000000000, 2500000000}};
    CHECK_EQ_INT(metrics_family_init(&requests), 0);
    CHECK_EQ_INT(metrics_family_init(&depth), 0);
    CHECK_EQ_INT(metrics_family_init(&wait), 0);
    CHECK_EQ_INT(metrics_register(&r, &requests), 0);
    CHECK_EQ_INT(metrics_register(&r, &depth), 0);
    CHECK_EQ_INT(metrics_register(&r, &wait), 0);
    CHECK_EQ_INT(metrics_register(&r, &wait), -EEXIST);

    metrics_counter_add(&requests, 0, 3);
    metrics_counter_add(&requests, 1, 1);
    metrics_gauge_set(&depth, 0, 7);
    metrics_gauge_add(&depth, 0, -9);
    metrics_observe(&wait, 0, 400000);     /* ≤ 0.0005 */
    metrics_observe(&wait, 0, 500000);     /* on the bound: in it */
    metrics_observe(&wait, 0, 2000000000); /* ≤ 2.5 */
    metrics_observe(&wait, 0, 9000000001); /* +Inf */
    metrics_observe(&wait, 0, -5);         /* counts as 0 */

    metrics_buffer b = {0};
    CHECK_EQ_INT(metrics_render(&r, &b), 0);
    const char *expected = "# HELP demo_requests_total Requests.\\nSecond line \\\\ here.\n"
                           "# TYPE demo_requests_total counter\n"
                           "demo_requests_total{color=\"red\"} 3\n"
                           "demo_requests_total{color=\"say \\\"hi\\\"\\\\\\nbye\"} 1\n"
                           "# HELP demo_depth Depth.\n"
                           "# TYPE demo_depth gauge\n"
                           "demo_depth -2\n"
                           "# HELP demo_wait_seconds Wait.\n"
                           "# TYPE demo_wait_seconds histogram\n"
                           "demo_wait_seconds_bucket{le=\"0.0005\"} 3\n"
                           "demo_wait_seconds_bucket{le=\"1\"} 3\n"
                           "demo_wait_seconds_bucket{le=\"2.5\"} 4\n"
                           "demo_wait_seconds_bucket{le=\"+Inf\"} 5\n"
                           "demo_wait_seconds_sum 11.000900001\n"
                           "demo_wait_seconds_count 5\n";
    if (strcmp(b.data, expected) != 0)
        fprintf(stderr, "got:\n%s\nexpected:\n%s\n", b.data, expected);
    CHECK(strcmp(b.data, expected) == 0);
    CHECK(metrics_histogram_count(&wait, 0) == 5);
    CHECK(metrics_histogram_sum(&wait, 0) == 11000900001ull);
    metrics_buffer_free(&b);

    metrics_unregister(&r, &depth);
    CHECK_EQ_INT(metrics_render(&r, &b), 0);
    CHECK(strstr(b.data, "demo_depth") == NULL);
    CHECK(strstr(b.data, "demo_wait_seconds_count 5\n") != NULL);
    metrics_buffer_free(&b);
    metrics_family_deinit(&requests);
    metrics_family_deinit(&depth);
    metrics_family_deinit(&wait);
}

static void test_codes_and_sparse(void) {
    static metrics_code_table codes;
    metrics_code_table_init(&codes);
    metrics_registry r = {0};
    metrics_family calls = {.name = "demo_calls_total",
                            .help = "Calls.",
                            .kind = METRICS_COUNTER,
                            .label_count = 2,
                            .labels = {{.name = "color", .count = 2, .value = color_value},
                                       metrics_code_label("code", &codes)},
                            .sparse = true};
    CHECK_EQ_INT(metrics_family_init(&calls), 0);
    CHECK_EQ_INT(metrics_register(&r, &calls), 0);
    CHECK_EQ_INT(metrics_code_slot(&codes, 0), 0);
    uint32_t slot = metrics_code_slot(&codes, 30079);
    CHECK(slot > 0 && slot < METRICS_CODE_SLOTS - 1);
    CHECK_EQ_INT(metrics_code_slot(&codes, 30079), slot);
    CHECK(metrics_code_slot(&codes, 40003) != slot);
    metrics_counter_add(&calls, metrics_series(&calls, 0, slot), 2);
    metrics_counter_add(&calls, metrics_series(&calls, 1, 0), 1);
    metrics_counter_add(&calls, metrics_series(&calls, 0, metrics_code_slot(&codes, -5)), 1);
    metrics_buffer b = {0};
    CHECK_EQ_INT(metrics_render(&r, &b), 0);
    /* Only observed series; 40003 has a slot but no count. */
    CHECK(strstr(b.data, "demo_calls_total{color=\"red\",code=\"30079\"} 2\n") != NULL);
    CHECK(strstr(b.data, "demo_calls_total{color=\"red\",code=\"grpc-5\"} 1\n") != NULL);
    CHECK(strstr(b.data, "code=\"0\"} 1\n") != NULL);
    CHECK(strstr(b.data, "40003") == NULL);
    int lines = 0;
    for (const char *p = b.data; *p != '\0'; p++)
        lines += *p == '\n';
    CHECK_EQ_INT(lines, 5); /* HELP, TYPE, three series */
    metrics_buffer_free(&b);
    metrics_family_deinit(&calls);

    /* A full table: every further code counts as "other", never a wrong slot. */
    for (int32_t code = 1; code < 1000; code++) {
        uint32_t s = metrics_code_slot(&codes, code);
        CHECK(s < METRICS_CODE_SLOTS);
    }
    CHECK_EQ_INT(metrics_code_slot(&codes, 999999), METRICS_CODE_SLOTS - 1);
    CHECK_EQ_INT(metrics_code_slot(&codes, 30079), slot);
}

static void test_refused_families(void) {
    metrics_family bad_name = {.name = "9lives", .help = "x", .kind = METRICS_GAUGE};
    CHECK_EQ_INT(metrics_family_init(&bad_name), -EINVAL);
    metrics_family no_help = {.name = "ok", .kind = METRICS_GAUGE};
    CHECK_EQ_INT(metrics_family_init(&no_help), -EINVAL);
    metrics_family unsorted = {
        .name = "h", .help = "h", .kind = METRICS_HISTOGRAM, .bucket_count = 2, .bounds = {5, 5}};
    CHECK_EQ_INT(metrics_family_init(&unsorted), -EINVAL);
    metrics_family le_label = {.name = "h",
                               .help = "h",
                               .kind = METRICS_HISTOGRAM,
                               .label_count = 1,
                               .labels = {{.name = "le", .count = 2, .value = color_value}},
                               .bucket_count = 1,
                               .bounds = {5}};
    CHECK_EQ_INT(metrics_family_init(&le_label), -EINVAL);
    metrics_family gauge_buckets = {
        .name = "g", .help = "g", .kind = METRICS_GAUGE, .bucket_count = 1, .bounds = {1}};
    CHECK_EQ_INT(metrics_family_init(&gauge_buckets), -EINVAL);
    /* Never initialized: observations are ignored, and it cannot be registered. */
    metrics_family off = {.name = "off", .help = "off", .kind = METRICS_COUNTER};
    metrics_counter_add(&off, 0, 1);
    CHECK(metrics_value(&off, 0) == 0);
    metrics_registry r = {0};
    CHECK_EQ_INT(metrics_register(&r, &off), -EINVAL);
}

#define THREADS 4
#define PER_THREAD 100000

static metrics_family shared_counter = {.name = "c", .help = "c", .kind = METRICS_COUNTER};
static metrics_family shared_histogram = {
    .name = "h", .help = "h", .kind = METRICS_HISTOGRAM, .bucket_count = 2, .bounds = {10, 100}};
static metrics_code_table shared_codes;

static void *hammer(void *arg) {
    int64_t id = (int64_t)(intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        metrics_counter_add(&shared_counter, 0, 1);
        metrics_observe(&shared_histogram, 0, (i % 3) * 50 + id);
        (void)metrics_code_slot(&shared_codes, 30000 + i % 50);
    }
    return NULL;
}

static void test_threads_add_up(void) {
    CHECK_EQ_INT(metrics_family_init(&shared_counter), 0);
    CHECK_EQ_INT(metrics_family_init(&shared_histogram), 0);
    metrics_code_table_init(&shared_codes);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        CHECK(pthread_create(&threads[t], NULL, hammer, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    CHECK(metrics_value(&shared_counter, 0) == (int64_t)THREADS * PER_THREAD);
    CHECK(metrics_histogram_count(&shared_histogram, 0) == (uint64_t)THREADS * PER_THREAD);
    /* Each thread observes (i % 3) * 50 + id: the sum is exact. */
    uint64_t expected_sum = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i++)
            expected_sum += (uint64_t)((i % 3) * 50 + t);
    CHECK(metrics_histogram_sum(&shared_histogram, 0) == expected_sum);
    /* 50 codes raced for slots: each got exactly one. */
    int taken = 0;
    for (uint32_t s = 1; s < METRICS_CODE_SLOTS - 1; s++)
        taken += shared_codes.codes[s] != METRICS_CODE_FREE;
    CHECK_EQ_INT(taken, 50);
    metrics_family_deinit(&shared_counter);
    metrics_family_deinit(&shared_histogram);
}

/* A collected family: the series its collector gives at each rendering, escaped, and nothing
 * when it gives none; a collected counter is refused. */
static uint32_t collected_n;

static uint32_t collect_demo(const void *ctx, metrics_sample *out, uint32_t capacity) {
    CHECK(capacity == METRICS_COLLECTED_MAX);
    for (uint32_t i = 0; i < collected_n; i++) {
        snprintf(out[i].labels[0], sizeof out[i].labels[0], "%s", i == 0 ? "/a" : "q\"x");
        snprintf(out[i].labels[1], sizeof out[i].labels[1], "%u", 7 + i);
        out[i].value = 100 - (int64_t)i;
    }
    return collected_n;
}

static void test_collected(void) {
    metrics_registry r = {0};
    metrics_family slow = {.name = "demo_backlog",
                           .help = "Backlogs.",
                           .kind = METRICS_GAUGE,
                           .label_count = 2,
                           .labels = {{.name = "method"}, {.name = "stream"}},
                           .collect = collect_demo};
    CHECK_EQ_INT(metrics_family_init(&slow), 0);
    CHECK_EQ_INT(metrics_register(&r, &slow), 0);
    metrics_buffer b = {0};
    collected_n = 0;
    CHECK_EQ_INT(metrics_render(&r, &b), 0);
    CHECK(strcmp(b.data, "# HELP demo_backlog Backlogs.\n# TYPE demo_backlog gauge\n") == 0);
    collected_n = 2;
    b.length = 0;
    CHECK_EQ_INT(metrics_render(&r, &b), 0);
    CHECK(strstr(b.data, "demo_backlog{method=\"/a\",stream=\"7\"} 100\n"
                         "demo_backlog{method=\"q\\\"x\",stream=\"8\"} 99\n") != NULL);
    metrics_buffer_free(&b);
    metrics_family_deinit(&slow);
    metrics_family counter = slow;
    counter.kind = METRICS_COUNTER;
    counter.cells = NULL;
    CHECK_EQ_INT(metrics_family_init(&counter), -EINVAL);
}

int main(void) {
    test_collected();
    test_exact_text();
    test_codes_and_sparse();
    test_refused_families();
    test_threads_add_up();
    return check_finish("metrics");
}
