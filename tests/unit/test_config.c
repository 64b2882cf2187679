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

/* Loads one share and a top-level `currency_rates` of `rates` (JSON), keeping the configuration in
 * *out when it loads; 0 or -1 as config_load. */
static int load_rates(const char *rates, tinvestd_config *out, char *error, size_t error_size) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f,
            "{\"currency_rates\": %s, \"instruments\": [{\"type\": \"share\", \"figi\": \"F1\",\n"
            "  \"class_code\": \"C\", \"uid\": \"u1\", \"name\": \"I\", \"dealer\": true,\n"
            "  \"min_price_increment\": \"1\", \"reference_price\": \"10\"}]}\n",
            rates);
    fclose(f);
    return config_load(out, path, error, error_size);
}

static void test_currency_rates(void) {
    static tinvestd_config config;
    char error[512] = "";
    CHECK_EQ_INT(load_rates("{\"usd\": \"90.5\", \"eur\": \"98\"}", &config, error, sizeof error),
                 0);
    CHECK_EQ_INT(config.refdata.currency_rate_count, 2);
    const currency_rate *usd = refdata_find_currency_rate(&config.refdata, "USD");
    CHECK(usd != NULL && usd->rub_nano == 90500000000LL);
    CHECK(refdata_find_currency_rate(&config.refdata, "cny") == NULL);
    CHECK(config.refdata.instruments[0].dealer);
    config_deinit(&config);
    const char *refused[] = {"{\"usd\": \"0\"}",
                             "{\"usd\": \"-1\"}",
                             "{\"usd\": \"1000000001\"}",
                             "{\"rub\": \"1\"}",
                             "{\"USD\": \"90\"}",
                             "{\"usd\": 90}",
                             "[]"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        error[0] = '\0';
        CHECK_EQ_INT(load_rates(refused[i], &config, error, sizeof error), -1);
        CHECK(strstr(error, "currency_rates") != NULL);
    }
}

/* One share, one account, the trading token "trading-token-0123456789", and a top-level `admin`
 * of `admin` (JSON, or NULL for none). */
static int load_admin(const char *admin, tinvestd_config *out, char *error, size_t error_size) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f,
            "{%s%s \"instruments\": [{\"type\": \"share\", \"figi\": \"F1\", \"class_code\": "
            "\"C\",\n"
            "  \"uid\": \"u1\", \"name\": \"I\", \"min_price_increment\": \"1\",\n"
            "  \"reference_price\": \"10\"}],\n"
            " \"accounts\": [{\"id\": \"A\"}],\n"
            " \"tokens\": [{\"token\": \"trading-token-0123456789\", \"accounts\": {\"A\": "
            "\"full\"}}]}\n",
            admin != NULL ? "\"admin\": " : "", admin != NULL ? admin : "");
    fclose(f);
    return config_load(out, path, error, error_size);
}

/* `admin.token`: absent (the service is closed), a good one, and each refusal. */
static void test_admin_token(void) {
    static tinvestd_config config;
    char error[512] = "";
    CHECK_EQ_INT(load_admin(NULL, &config, error, sizeof error), 0);
    CHECK(config.admin_token == NULL);
    config_deinit(&config);
    CHECK_EQ_INT(load_admin("{},", &config, error, sizeof error), 0);
    CHECK(config.admin_token == NULL);
    config_deinit(&config);
    CHECK_EQ_INT(load_admin("{\"token\": \"operator-0123456789\"},", &config, error, sizeof error),
                 0);
    CHECK(config.admin_token != NULL && strcmp(config.admin_token, "operator-0123456789") == 0);
    config_deinit(&config);
    const char *refused[] = {
        "{\"token\": \"short\"},",                    /* under 16 bytes */
        "{\"token\": \"with a space 0123456789\"},",  /* not a header's token */
        "{\"token\": \"trading-token-0123456789\"},", /* a trading token */
        "{\"token\": 5},",
        "[],",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        error[0] = '\0';
        CHECK_EQ_INT(load_admin(refused[i], &config, error, sizeof error), -1);
        CHECK(strstr(error, "admin") != NULL);
    }
    /* 256 bytes load, 257 do not. */
    char text[400] = "{\"token\": \"";
    size_t prefix = strlen(text);
    memset(text + prefix, 'x', 257);
    strcpy(text + prefix + 257, "\"},");
    CHECK_EQ_INT(load_admin(text, &config, error, sizeof error), -1);
    strcpy(text + prefix + 256, "\"},");
    CHECK_EQ_INT(load_admin(text, &config, error, sizeof error), 0);
    config_deinit(&config);
}

int main(void) {
    snprintf(path, sizeof path, "%s/tinvestd-config-XXXXXX", P_tmpdir);
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    test_reference_price_is_bounded();
    test_bond_needs_a_nominal();
    test_currency_rates();
    test_admin_token();
    unlink(path);
    return check_finish("config");
}
