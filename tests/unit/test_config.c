/* The configuration loader refuses what the broker could not run: a reference price above 10^9
 * units made the exchange's price band overflow int64 when it set up the instrument (seen while
 * writing the config fuzz target, reproduced by it under UndefinedBehaviorSanitizer), and a bond
 * without a nominal was worth nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"

static char path[256];

/* Loads a configuration of one instrument of `type` whose reference price is `price`, with
 * `extra` JSON members; 0 or -1 as config_load. */
static int load_instrument(const char *type, const char *price, const char *extra, char *error,
                           size_t error_size) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f,
            "{\"instruments\": [{\"type\": \"%s\", \"figi\": \"F1\", \"class_code\": \"C\",\n"
            "  \"uid\": \"u1\", \"name\": \"I\", \"min_price_increment\": \"1\",\n"
            "  \"reference_price\": \"%s\", \"price_band_bp\": 9999%s}]}\n",
            type, price, extra);
    fclose(f);
    static tinvestd_config config;
    int rc = config_load(&config, path, error, error_size);
    if (rc == 0)
        config_deinit(&config);
    return rc;
}

static int load_with_price(const char *price, char *error, size_t error_size) {
    return load_instrument("share", price, "", error, error_size);
}

/* A bond without its nominal (no `bond` object, or a zero one) was valued at nothing: every
 * order of it was free (found by the config fuzz target, whose probe order the core took for
 * nothing). */
static void test_bond_needs_a_nominal(void) {
    char error[512] = "";
    CHECK_EQ_INT(load_instrument("bond", "100", "", error, sizeof error), -1);
    CHECK(strstr(error, "instruments[0].bond.nominal") != NULL);
    CHECK_EQ_INT(
        load_instrument("bond", "100", ", \"bond\": {\"nominal\": \"0\"}", error, sizeof error),
        -1);
    CHECK_EQ_INT(load_instrument("bond", "100", ", \"bond\": {}", error, sizeof error), 0);
    CHECK_EQ_INT(
        load_instrument("bond", "100", ", \"bond\": {\"nominal\": \"500\"}", error, sizeof error),
        0);
}

static void test_reference_price_is_bounded(void) {
    char error[512] = "";
    CHECK_EQ_INT(load_with_price("1000000000", error, sizeof error), 0);
    CHECK_EQ_INT(load_with_price("1000000001", error, sizeof error), -1);
    CHECK(strstr(error, "instruments[0].reference_price") != NULL);
    CHECK_EQ_INT(load_with_price("9000000000", error, sizeof error), -1);
}

int main(void) {
    snprintf(path, sizeof path, "%s/tinvestd-config-XXXXXX", P_tmpdir);
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    test_reference_price_is_bounded();
    test_bond_needs_a_nominal();
    unlink(path);
    return check_finish("config");
}
