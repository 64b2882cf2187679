/* The server's metric families (api/api_metrics.c, engine/engine_metrics.c) registered as
 * api_server_start registers them, fed through the same hooks the server calls, rendered, and
 * checked by `promtool check metrics` (the Debian package prometheus; scripts/install-deps.sh
 * installs it). Without promtool the text checks still run and the test exits 77 (skipped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_metrics.h"
#include "api/services.h"
#include "check.h"
#include "engine/engine_metrics.h"
#include "metrics/metrics.h"
#include "one_share.h"

static refdata rd;

int main(void) {
    one_share_refdata(&rd, 1000);
    size_t count = 0;
    api_method *methods = api_all_methods(&count);
    CHECK(methods != NULL && count > 0);
    for (size_t i = 0; i < count; i++) {
        methods[i].index = (uint32_t)i;
        snprintf(methods[i].path, sizeof methods[i].path, "/%s.%s/%s",
                 methods[i].package ? methods[i].package : "tinkoff.public.invest.api.contract.v1",
                 methods[i].service, methods[i].name);
    }
    CHECK_EQ_INT(api_metrics_init(methods, count), 0);
    CHECK_EQ_INT(engine_metrics_init(&rd), 0);
    CHECK_EQ_INT(api_metrics_init(methods, count), 0); /* once: a second call changes nothing */

    api_metrics_count_call(0, 0, 120000);
    api_metrics_count_call(0, 30079, 80000);
    api_metrics_count_call(1, 40003, 50000);
    api_metrics_count_call((uint32_t)count, 12001, 40000); /* unmatched */
    api_metrics_count_post_order_async(30000, 250000, 20000);
    engine_metrics_batch(3, 7);
    engine_metrics_batch(0, 0); /* an idle batch is not counted */
    engine_metrics_journal_write(20000);
    engine_metrics_journal_sync(210000);
    engine_metrics_inbox(2);
    engine_metrics_sealed(1);

    metrics_buffer b = {0};
    CHECK_EQ_INT(metrics_render(metrics_default(), &b), 0);
    char line[256];
    snprintf(line, sizeof line, "tinvestd_grpc_calls_total{method=\"%s\",code=\"30079\"} 1\n",
             methods[0].path);
    CHECK(strstr(b.data, line) != NULL);
    CHECK(strstr(b.data, "{method=\"unmatched\",code=\"12001\"} 1\n") != NULL);
    CHECK(strstr(b.data, "tinvestd_engine_batch_jobs_count 1\n") != NULL);
    CHECK(strstr(b.data, "tinvestd_engine_batch_events_sum 7\n") != NULL);
    CHECK(strstr(b.data, "tinvestd_journal_fdatasync_seconds_sum 0.00021\n") != NULL);
    CHECK(strstr(b.data, "tinvestd_engine_inbox_jobs 2\n") != NULL);
    CHECK(strstr(b.data, "tinvestd_book_levels{instrument_uid=\"uid-0\",side=\"ask\"} 0\n") !=
          NULL);
    CHECK(strstr(b.data,
                 "tinvestd_post_order_async_stage_seconds_sum{stage=\"accepted_to_durable\"} "
                 "0.00025\n") != NULL);
    /* Every family once. */
    CHECK(strstr(strstr(b.data, "# TYPE tinvestd_grpc_calls_total") + 1,
                 "# TYPE tinvestd_grpc_calls_total") == NULL);

    int skipped = 0;
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        fprintf(stderr, "promtool is not installed: its check is skipped\n");
        skipped = 1;
    } else {
        char path[128];
        snprintf(path, sizeof path, "%s/tinvestd-metrics-XXXXXX", P_tmpdir);
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        CHECK(write(fd, b.data, b.length) == (ssize_t)b.length);
        close(fd);
        char command[256];
        snprintf(command, sizeof command, "promtool check metrics < %s", path);
        int rc = system(command);
        if (rc != 0)
            fprintf(stderr, "promtool refused the text:\n%s", b.data);
        CHECK_EQ_INT(rc, 0);
        unlink(path);
    }
    metrics_buffer_free(&b);
    api_metrics_deinit();
    engine_metrics_deinit();
    free(methods);
    int rc = check_finish("metrics_text");
    return rc == 0 && skipped ? 77 : rc;
}
