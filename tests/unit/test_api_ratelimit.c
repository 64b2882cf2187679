/* Rate-limit rules and budgets: a method's own rule wins over its service's shared one, which
 * wins over the default; a shared budget is spent by every method of the service; a rule in the
 * wrong section is refused at load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/ratelimit.h"
#include "check.h"
#include "config/config.h"

static int load_text(tinvestd_config *cfg, const char *json, char *error, size_t error_size) {
    char path[256];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/tinvestd-ratelimit-XXXXXX", dir != NULL ? dir : P_tmpdir);
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    fputs(json, f);
    fclose(f);
    int rc = config_load(cfg, path, error, error_size);
    unlink(path);
    return rc;
}

static void test_scopes(void) {
    static tinvestd_config cfg;
    char error[256] = "";
    int rc = load_text(&cfg,
                       "{\"rate_limits\": {\"default_per_minute\": 7,"
                       " \"services\": {\"OrdersService\": 100},"
                       " \"methods\": {\"OrdersService/PostOrder\": 900}}}",
                       error, sizeof error);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "%s\n", error);
        return;
    }
    rate_limit_scope scope;
    CHECK_EQ_INT(config_rate_limit_for(&cfg, "OrdersService/PostOrder", &scope), 900);
    CHECK_EQ_INT(scope, RATE_SCOPE_METHOD);
    CHECK_EQ_INT(config_rate_limit_for(&cfg, "OrdersService/GetOrders", &scope), 100);
    CHECK_EQ_INT(scope, RATE_SCOPE_SERVICE);
    /* A service name that is a prefix of another is not that service. */
    CHECK_EQ_INT(config_rate_limit_for(&cfg, "OrdersServiceX/GetOrders", &scope), 7);
    CHECK_EQ_INT(scope, RATE_SCOPE_DEFAULT);
    CHECK_EQ_INT(config_rate_limit_for(&cfg, "UsersService/GetInfo", NULL), 7);
    config_deinit(&cfg);
}

static void test_rules_in_the_wrong_section(void) {
    static tinvestd_config cfg;
    char error[256] = "";
    CHECK(load_text(&cfg, "{\"rate_limits\": {\"methods\": {\"OrdersService\": 5}}}", error,
                    sizeof error) != 0);
    CHECK(strstr(error, "rate_limits.methods.OrdersService") != NULL);
    CHECK(load_text(&cfg, "{\"rate_limits\": {\"services\": {\"OrdersService/PostOrder\": 5}}}",
                    error, sizeof error) != 0);
    CHECK(strstr(error, "rate_limits.services.OrdersService/PostOrder") != NULL);
}

static void test_shared_bucket(void) {
    ratelimit rl;
    CHECK_EQ_INT(ratelimit_init(&rl, 2, 4), 0);
    api_rate_info info;
    int64_t now_s = 1700000000; /* a window starts at a whole minute: 1700000000 % 60 == 20 */
    /* Two methods spending bucket 1, limit 3: the third request of either is the last. */
    CHECK(ratelimit_take(&rl, 0, 1, 3, now_s, &info));
    CHECK_EQ_INT(info.remaining, 2);
    CHECK(ratelimit_take(&rl, 0, 1, 3, now_s, &info));
    CHECK(ratelimit_take(&rl, 0, 1, 3, now_s + 1, &info));
    CHECK_EQ_INT(info.remaining, 0);
    CHECK(!ratelimit_take(&rl, 0, 1, 3, now_s + 2, &info));
    CHECK_EQ_INT(info.reset_s, 60 - 20 - 2);
    /* Another token, another bucket: untouched. */
    CHECK(ratelimit_take(&rl, 1, 1, 3, now_s, &info));
    CHECK(ratelimit_take(&rl, 0, 2, 3, now_s, &info));
    /* The next window starts afresh. */
    CHECK(ratelimit_take(&rl, 0, 1, 3, now_s + 40, &info));
    CHECK_EQ_INT(info.remaining, 2);
    ratelimit_deinit(&rl);
}

int main(void) {
    test_scopes();
    test_rules_in_the_wrong_section();
    test_shared_bucket();
    return check_finish("api ratelimit");
}
