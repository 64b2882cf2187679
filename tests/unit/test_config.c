/* The configuration loader refuses what the broker could not run: a reference price above 10^9
 * units made the exchange's price band overflow int64 when it set up the instrument (found by
 * the config fuzz target's reading of the loader, reproduced by it under
 * UndefinedBehaviorSanitizer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"

static char path[256];

/* Loads a configuration of one share whose reference price is `price`; 0 or -1 as config_load. */
static int load_with_price(const char *price, char *error, size_t error_size) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f,
            "{\"instruments\": [{\"type\": \"share\", \"figi\": \"F1\", \"class_code\": \"TQBR\",\n"
            "  \"uid\": \"u1\", \"name\": \"Share\", \"min_price_increment\": \"1\",\n"
            "  \"reference_price\": \"%s\", \"price_band_bp\": 9999}]}\n",
            price);
    fclose(f);
    static tinvestd_config config;
    int rc = config_load(&config, path, error, error_size);
    if (rc == 0)
        config_deinit(&config);
    return rc;
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
    unlink(path);
    return check_finish("config");
}
