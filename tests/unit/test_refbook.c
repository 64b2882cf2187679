/* The reference data beyond the instruments: each reader of reference_dir (assets, brands,
 * countries, analytics, signals) loads what its file says and refuses an entry naming an unknown
 * instrument, asset, brand or strategy with its file and JSON path; assets are derived from the
 * universe without any file; pages and signal filters select what the contract says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "test_files.h"
#include "config/config.h"

#define SBER_UID "e6123145-9665-43e0-8413-cd61b8aa9b13"
#define SBER_ASSET "40d89385-a03a-4659-bf4e-d3ecba011782"
#define GAZP_UID "962e2a95-02a9-4171-abd7-aa198dbe643a"
#define ASSET_2 "00000000-0000-4000-8000-000000000002"
#define BRAND_1 "00000000-0000-4000-8000-0000000000b1"
#define STRATEGY_1 "00000000-0000-4000-8000-0000000000c1"
#define SIGNAL_1 "00000000-0000-4000-8000-0000000000d1"
#define SIGNAL_2 "00000000-0000-4000-8000-0000000000d2"

static char dir[256], config_path[320];
static tinvestd_config config;

static void write_file(const char *name, const char *text) {
    char ref_dir[300];
    snprintf(ref_dir, sizeof ref_dir, "%s/ref", dir);
    test_write_file(ref_dir, name, text);
}

static void clear_files(void) {
    static const char *const names[] = {
        "countries.json",        "brands.json",     "assets.json",     "fundamentals.json",
        "asset_reports.json",    "forecasts.json",  "risk_rates.json", "insider_deals.json",
        "structured_notes.json", "strategies.json", "signals.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/ref/%s", dir, names[i]);
        unlink(path);
    }
}

/* Two shares, SBER naming its asset and GAZP none, and reference_dir "ref". */
static int load(char *error, size_t error_size) {
    FILE *f = fopen(config_path, "w");
    CHECK(f != NULL);
    fprintf(f, "{\"reference_dir\": \"ref\", \"instruments\": [\n"
               " {\"type\": \"share\", \"figi\": \"BBG004730N88\", \"ticker\": \"SBER\",\n"
               "  \"class_code\": \"TQBR\", \"uid\": \"" SBER_UID "\", \"asset_uid\": \"" SBER_ASSET
               "\",\n  \"name\": \"Sber\", \"min_price_increment\": \"0.01\",\n"
               "  \"reference_price\": \"300\"},\n"
               " {\"type\": \"share\", \"figi\": \"BBG004730RP0\", \"ticker\": \"GAZP\",\n"
               "  \"class_code\": \"TQBR\", \"uid\": \"" GAZP_UID "\", \"name\": \"Gazprom\",\n"
               "  \"min_price_increment\": \"0.01\", \"reference_price\": \"130\"}]}\n");
    fclose(f);
    return config_load(&config, config_path, error, error_size);
}

static void test_assets_derived_without_files(void) {
    char error[512] = "";
    clear_files();
    CHECK_EQ_INT(load(error, sizeof error), 0);
    CHECK_EQ_INT(config.assets.asset_count, 1);
    const refbook_asset *asset = refbook_find_asset(&config.assets, SBER_ASSET);
    CHECK(asset != NULL && strcmp(asset->name, "Sber") == 0);
    CHECK(asset != NULL && asset->type == REFBOOK_ASSET_TYPE_SECURITY);
    CHECK(asset != NULL && asset->instrument_count == 1 && asset->instruments[0] == 0);
    CHECK(refbook_asset_of_instrument(&config.assets, 1) == NULL);
    CHECK_EQ_INT(config.signals.signal_count, 0);
    config_deinit(&config);
}

static void test_assets_file(void) {
    char error[512] = "";
    clear_files();
    write_file("countries.json", "{\"countries\": [{\"alfa_two\": \"RU\", \"alfa_three\": "
                                 "\"RUS\", \"name\": \"Russia\", \"name_brief\": \"RU\"}]}");
    write_file("brands.json", "{\"brands\": [{\"uid\": \"" BRAND_1 "\", \"name\": \"B\", "
                              "\"country_of_risk\": \"RU\"}]}");
    write_file("assets.json",
               "{\"assets\": [{\"uid\": \"" ASSET_2
               "\", \"name_brief\": \"G\", \"brand\": \"" BRAND_1
               "\", \"required_tests\": [\"t1\"], \"deleted_at\": \"2024-05-31T07:00:00Z\", "
               "\"instruments\": [\"" GAZP_UID "\"]}]}");
    CHECK_EQ_INT(load(error, sizeof error), 0);
    CHECK_EQ_INT(config.assets.asset_count, 2);
    const refbook_asset *g = refbook_find_asset(&config.assets, ASSET_2);
    CHECK(g != NULL && strcmp(g->name, "Gazprom") == 0 && strcmp(g->name_brief, "G") == 0);
    CHECK(g != NULL && g->brand != NULL && strcmp(g->brand->country_of_risk_name, "Russia") == 0);
    CHECK(g != NULL && g->required_test_count == 1 && g->deleted_at_s == 1717138800);
    CHECK(refbook_asset_of_instrument(&config.assets, 1) == g);
    CHECK(refbook_find_country(&config.assets, "ru") != NULL);
    config_deinit(&config);

    /* An instrument whose own asset_uid names another asset cannot be linked. */
    write_file("assets.json",
               "{\"assets\": [{\"uid\": \"" ASSET_2 "\", \"instruments\": [\"" SBER_UID "\"]}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "assets.json: assets[0].instruments[0]") != NULL);
    write_file("assets.json",
               "{\"assets\": [{\"uid\": \"" ASSET_2 "\", \"brand\": \"" ASSET_2 "\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "assets.json: assets[0].brand") != NULL);
    write_file("assets.json",
               "{\"assets\": [{\"uid\": \"" ASSET_2 "\"}, {\"uid\": \"" ASSET_2 "\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "assets[1].uid") != NULL);
    write_file("assets.json", "{\"assets\": [{\"uid\": \"not-a-uuid\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    write_file("brands.json", "{\"brands\": [{\"uid\": \"" BRAND_1 "\", \"name\": \"B\", "
                              "\"country_of_risk\": \"XX\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "brands.json: brands[0].country_of_risk") != NULL);
}

static void test_analytics_files(void) {
    char error[512] = "";
    clear_files();
    write_file("fundamentals.json",
               "{\"fundamentals\": [{\"asset_uid\": \"" SBER_ASSET
               "\", \"currency\": \"rub\", \"beta\": 0.5, \"ev_to_sales\": 2}]}");
    write_file("risk_rates.json",
               "{\"risk_rates\": [{\"instrument_uid\": \"" SBER_UID "\", \"short_risk_rate\": "
               "{\"risk_level_code\": \"1\", \"value\": \"25.5\"}, \"long_risk_rates\": "
               "[{\"risk_level_code\": \"1\", \"value\": \"20\"}, {\"risk_level_code\": \"2\", "
               "\"value\": \"30\"}]}]}");
    write_file("insider_deals.json",
               "{\"insider_deals\": [{\"instrument_uid\": \"" SBER_UID "\", \"trade_id\": 7, "
               "\"date\": \"2024-01-02\", \"direction\": \"buy\"}, {\"instrument_uid\": \"" GAZP_UID
               "\", \"trade_id\": 8, \"date\": \"2024-01-03\"}, {\"instrument_uid\": \"" SBER_UID
               "\", \"trade_id\": 9, \"date\": \"2024-01-04\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), 0);
    const refbook_fundamentals *f = refbook_find_fundamentals(&config.analytics, SBER_ASSET);
    int beta = refbook_fundamental_field_index("beta");
    CHECK(f != NULL && beta >= 0 && f->values[beta] == 0.5);
    CHECK_EQ_INT(refbook_fundamental_fields[refbook_fundamental_field_index("ev_to_sales")].number,
                 57);
    const refbook_risk_rates *r = refbook_find_risk_rates(&config.analytics, 0);
    CHECK(r != NULL && r->has_short && !r->has_long && r->long_count == 2);
    CHECK(r != NULL && r->short_rate.value_nano == 25500000000LL);
    CHECK(refbook_find_risk_rates(&config.analytics, 1) == NULL);
    CHECK_EQ_INT(refbook_next_insider_deal(&config.analytics, 0, 0), 0);
    CHECK_EQ_INT(refbook_next_insider_deal(&config.analytics, 0, 1), 2);
    CHECK_EQ_INT(refbook_next_insider_deal(&config.analytics, 0, 3), 3);
    config_deinit(&config);

    write_file("fundamentals.json", "{\"fundamentals\": [{\"asset_uid\": \"" ASSET_2 "\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "fundamentals.json: fundamentals[0].asset_uid") != NULL);
    write_file("fundamentals.json", "{\"fundamentals\": [{\"asset_uid\": \"" SBER_ASSET
                                    "\", \"no_such_indicator\": 1}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "no_such_indicator") != NULL);
    clear_files();
    write_file("forecasts.json", "{\"targets\": [{\"instrument_uid\": \"nope\", \"company\": "
                                 "\"X\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "forecasts.json: targets[0].instrument_uid") != NULL);
    clear_files();
    write_file("asset_reports.json", "{\"reports\": [{\"instrument_uid\": \"" SBER_UID
                                     "\", \"report_date\": \"2024-13-01\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "asset_reports.json: reports[0].report_date") != NULL);
}

static void test_signals(void) {
    char error[512] = "";
    clear_files();
    write_file("strategies.json", "{\"strategies\": [{\"strategy_id\": \"" STRATEGY_1
                                  "\", \"strategy_name\": \"S\", \"strategy_type\": "
                                  "\"technical\"}]}");
    write_file("signals.json",
               "{\"signals\": [{\"signal_id\": \"" SIGNAL_1 "\", \"strategy_id\": \"" STRATEGY_1
               "\", \"instrument_uid\": \"" SBER_UID "\", \"name\": \"n\", \"direction\": "
               "\"buy\", \"create_dt\": \"2024-01-01\", \"end_dt\": \"2024-02-01\", "
               "\"initial_price\": \"300\", \"target_price\": \"330\"}, {\"signal_id\": \"" SIGNAL_2
               "\", \"strategy_id\": \"" STRATEGY_1 "\", \"instrument_uid\": \"" GAZP_UID
               "\", \"name\": \"m\", \"direction\": \"sell\", \"create_dt\": \"2024-01-10\", "
               "\"end_dt\": \"2024-02-01\", \"close_dt\": \"2024-01-20\", \"initial_price\": "
               "\"130\", \"target_price\": \"120\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), 0);
    const refbook_signals *s = &config.signals;
    CHECK(s->strategies[0].total_signals == 2 && s->strategies[0].active_signals == 1);
    refbook_signal_filter active = {.from_s = INT64_MIN, .to_s = INT64_MAX, .state = 1};
    CHECK(refbook_signal_selected(s, &s->signals[0], &active));
    CHECK(!refbook_signal_selected(s, &s->signals[1], &active));
    refbook_signal_filter all_sells = {
        .from_s = INT64_MIN, .to_s = INT64_MAX, .state = 3, .direction = 2};
    CHECK(!refbook_signal_selected(s, &s->signals[0], &all_sells));
    CHECK(refbook_signal_selected(s, &s->signals[1], &all_sells));
    refbook_signal_filter before = {
        .from_s = INT64_MIN, .to_s = 1704153600 /* 2024-01-02 */, .state = 3};
    CHECK(refbook_signal_selected(s, &s->signals[0], &before));
    CHECK(!refbook_signal_selected(s, &s->signals[1], &before));
    config_deinit(&config);

    write_file("signals.json",
               "{\"signals\": [{\"signal_id\": \"" SIGNAL_1 "\", \"strategy_id\": \"" SIGNAL_2
               "\", \"instrument_uid\": \"" SBER_UID "\"}]}");
    CHECK_EQ_INT(load(error, sizeof error), -1);
    CHECK(strstr(error, "signals.json: signals[0].strategy_id") != NULL);
}

static void test_pages(void) {
    refbook_page page;
    CHECK_EQ_INT(refbook_page_of(5, 2, 0, 0, &page), REFBOOK_PAGE_OK);
    CHECK(page.first == 0 && page.count == 2 && page.limit == 2);
    CHECK_EQ_INT(refbook_page_of(5, 2, 2, 0, &page), REFBOOK_PAGE_OK);
    CHECK(page.first == 4 && page.count == 1);
    CHECK_EQ_INT(refbook_page_of(5, 2, 3, 0, &page), REFBOOK_PAGE_BEYOND);
    CHECK_EQ_INT(refbook_page_of(5, -1, 0, 0, &page), REFBOOK_PAGE_NEGATIVE);
    CHECK_EQ_INT(refbook_page_of(5, 1, -1, 0, &page), REFBOOK_PAGE_NEGATIVE);
    CHECK_EQ_INT(refbook_page_of(5, 0, 0, 0, &page), REFBOOK_PAGE_OK);
    CHECK(page.count == 5);
    CHECK_EQ_INT(refbook_page_of(50, 0, 1, 20, &page), REFBOOK_PAGE_OK);
    CHECK(page.first == 20 && page.count == 20 && page.limit == 20);
    CHECK_EQ_INT(refbook_page_of(0, 10, 0, 0, &page), REFBOOK_PAGE_OK);
    CHECK(page.count == 0);
    /* The largest limit and page a client can send do not wrap. */
    CHECK_EQ_INT(refbook_page_of(5, INT32_MAX, INT32_MAX, 0, &page), REFBOOK_PAGE_BEYOND);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/tinvestd-refbook-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    char ref[300];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(ref, sizeof ref, "%s/ref", dir);
    CHECK(mkdir(ref, 0700) == 0);
    snprintf(config_path, sizeof config_path, "%s/config.json", dir);
    test_assets_derived_without_files();
    test_assets_file();
    test_analytics_files();
    test_signals();
    test_pages();
    clear_files();
    unlink(config_path);
    rmdir(ref);
    rmdir(dir);
    return check_finish("refbook");
}
