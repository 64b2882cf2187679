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
#include "settings/settings.h"

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

/* One share, the accounts `accounts` (a JSON array) and `extra` top-level members; the
 * configuration stays in *out when it loads. */
static int load_accounts(const char *accounts, const char *extra, tinvestd_config *out, char *error,
                         size_t error_size) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f,
            "{%s \"instruments\": [{\"type\": \"share\", \"figi\": \"F1\", \"class_code\": "
            "\"C\", \"uid\": \"u1\", \"name\": \"I\", \"min_price_increment\": \"1\",\n"
            "  \"reference_price\": \"10\"}],\n"
            " \"accounts\": %s}\n",
            extra, accounts);
    fclose(f);
    error[0] = '\0';
    return config_load(out, path, error, error_size);
}

/* `kind`, `risk_level` and `margin_call` of accounts: defaults, each value, each refusal. */
static void test_margin_accounts(void) {
    static tinvestd_config config;
    char error[512] = "";
    /* A negative opening balance was loaded, and the core's ledger invariants asserted on it at
     * start (fuzz.config found it). */
    CHECK_EQ_INT(load_accounts("[{\"id\": \"A\", \"cash\": {\"rub\": \"100\", \"usd\": \"-10\"}}]",
                               "", &config, error, sizeof error),
                 -1);
    CHECK(strstr(error, "accounts[0].cash.usd: must not be negative") != NULL);
    CHECK_EQ_INT(load_accounts("[{\"id\": \"A\"}, {\"id\": \"B\", \"kind\": \"margin\"},"
                               " {\"id\": \"C\", \"kind\": \"margin\", \"risk_level\": \"high\","
                               "  \"margin_call\": false},"
                               " {\"id\": \"D\", \"kind\": \"cash\", \"sandbox\": true}]",
                               "", &config, error, sizeof error),
                 0);
    const account *a = &config.refdata.accounts[0], *b = &config.refdata.accounts[1],
                  *c = &config.refdata.accounts[2], *d = &config.refdata.accounts[3];
    CHECK(!a->margin && !a->margin_call && a->risk_level == ACCOUNT_RISK_STANDARD);
    CHECK(b->margin && b->margin_call && b->risk_level == ACCOUNT_RISK_STANDARD);
    CHECK(c->margin && !c->margin_call && c->risk_level == ACCOUNT_RISK_HIGH);
    CHECK(!d->margin && d->sandbox);
    config_deinit(&config);
    static const struct {
        const char *accounts, *expect;
    } refused[] = {
        {"[{\"id\": \"A\", \"kind\": \"credit\"}]", "accounts[0].kind: must be"},
        {"[{\"id\": \"A\", \"kind\": 1}]", "accounts[0].kind: must be a string"},
        {"[{\"id\": \"A\", \"sandbox\": true, \"kind\": \"margin\"}]",
         "accounts[0].kind: a sandbox account cannot be a margin account"},
        {"[{\"id\": \"A\", \"risk_level\": \"high\"}]", "accounts[0]: risk_level and margin_call"},
        {"[{\"id\": \"A\", \"kind\": \"cash\", \"margin_call\": true}]",
         "accounts[0]: risk_level and margin_call"},
        {"[{\"id\": \"A\", \"kind\": \"margin\", \"risk_level\": \"KSUR\"}]",
         "accounts[0].risk_level: must be \"standard\" or \"high\""},
        {"[{\"id\": \"A\", \"kind\": \"margin\", \"margin_call\": \"yes\"}]",
         "accounts[0].margin_call: must be true or false"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK_EQ_INT(load_accounts(refused[i].accounts, "", &config, error, sizeof error), -1);
        if (strstr(error, refused[i].expect) == NULL)
            fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, error, refused[i].expect);
        CHECK(strstr(error, refused[i].expect) != NULL);
    }
}

/* The `margin` section: its defaults, every key, each refusal, and the core's copy. */
static void test_margin_section(void) {
    static tinvestd_config config;
    char error[512] = "";
    CHECK_EQ_INT(load_accounts("[]", "", &config, error, sizeof error), 0);
    const core_margin_config *m = &config.margin;
    CHECK_EQ_INT(m->clearing_count, 2);
    CHECK_EQ_INT(m->clearing_s[0], 11 * 3600);
    CHECK_EQ_INT(m->clearing_s[1], 15 * 3600 + 50 * 60);
    CHECK(m->money_rate_per_day_nano == 600000 && m->shares_rate_per_day_nano == 400000);
    config_deinit(&config);
    CHECK_EQ_INT(
        load_accounts("[]",
                      "\"margin\": {\"clearings_utc\": [\"00:00\", \"07:05\", \"12:30:15\","
                      " \"23:59\"], \"money_rate_per_day\": \"0.001\","
                      " \"shares_rate_per_day\": \"0\"},",
                      &config, error, sizeof error),
        0);
    CHECK_EQ_INT(m->clearing_count, 4);
    CHECK(m->clearing_s[0] == 0 && m->clearing_s[1] == 7 * 3600 + 5 * 60 &&
          m->clearing_s[2] == 12 * 3600 + 30 * 60 + 15 && m->clearing_s[3] == 23 * 3600 + 59 * 60);
    CHECK(m->money_rate_per_day_nano == 1000000 && m->shares_rate_per_day_nano == 0);
    core_config cc = settings_core(&config);
    CHECK(cc.margin.clearing_count == 4 && cc.margin.clearing_s[3] == m->clearing_s[3] &&
          cc.margin.money_rate_per_day_nano == 1000000);
    config_deinit(&config);
    /* One key alone leaves the others at their defaults. */
    CHECK_EQ_INT(load_accounts("[]", "\"margin\": {\"shares_rate_per_day\": \"0.0005\"},", &config,
                               error, sizeof error),
                 0);
    CHECK(m->clearing_count == 2 && m->money_rate_per_day_nano == 600000 &&
          m->shares_rate_per_day_nano == 500000);
    config_deinit(&config);
    static const struct {
        const char *margin, *expect;
    } refused[] = {
        {"[]", "margin: must be an object"},
        {"{\"clearings_utc\": []}", "margin.clearings_utc: must be an array of 1 to 4"},
        {"{\"clearings_utc\": \"11:00\"}", "margin.clearings_utc: must be an array"},
        {"{\"clearings_utc\": [\"01:00\", \"02:00\", \"03:00\", \"04:00\", \"05:00\"]}",
         "margin.clearings_utc: must be an array of 1 to 4"},
        {"{\"clearings_utc\": [\"15:50\", \"11:00\"]}",
         "margin.clearings_utc[1]: the times must be ascending"},
        {"{\"clearings_utc\": [\"11:00\", \"11:00\"]}",
         "margin.clearings_utc[1]: the times must be ascending"},
        {"{\"clearings_utc\": [\"24:00\"]}", "margin.clearings_utc[0]: must be a time"},
        {"{\"clearings_utc\": [\"11:60\"]}", "margin.clearings_utc[0]: must be a time"},
        {"{\"clearings_utc\": [\"11:00:60\"]}", "margin.clearings_utc[0]: must be a time"},
        {"{\"clearings_utc\": [\"11:00:5\"]}", "margin.clearings_utc[0]: must be a time"},
        {"{\"clearings_utc\": [\"1:00\"]}", "margin.clearings_utc[0]: must be a time"},
        {"{\"clearings_utc\": [\"11:00 \"]}", "margin.clearings_utc[0]: must be a time"},
        {"{\"clearings_utc\": [1100]}", "margin.clearings_utc[0]: must be a time"},
        {"{\"money_rate_per_day\": \"1\"}", "margin.money_rate_per_day: a fraction per day"},
        {"{\"money_rate_per_day\": \"-0.0001\"}", "margin.money_rate_per_day: a fraction"},
        {"{\"shares_rate_per_day\": 0.0004}", "margin.shares_rate_per_day: must be a decimal"},
        {"{\"shares_rate_per_day\": \"4%\"}", "margin.shares_rate_per_day: \"4%\" is not"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char extra[256];
        snprintf(extra, sizeof extra, "\"margin\": %s,", refused[i].margin);
        CHECK_EQ_INT(load_accounts("[]", extra, &config, error, sizeof error), -1);
        if (strstr(error, refused[i].expect) == NULL)
            fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, error, refused[i].expect);
        CHECK(strstr(error, refused[i].expect) != NULL);
    }
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
    test_margin_accounts();
    test_margin_section();
    unlink(path);
    return check_finish("config");
}
