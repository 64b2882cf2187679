/* The instrument reader (config/instruments_load.c): every field of every kind read from
 * instruments.json of the reference directory, the inline array first, defaults, the refusals
 * with their JSON paths; the indicatives reader; and the pinned universe of a data directory
 * (engine/universe.c): appending accepted, reordering and removing refused by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"
#include "engine/universe.h"
#include "test_files.h"

static char dir[256], config_path[300], file_path[300], indicatives_path[300];

/* Writes instruments.json as given (NULL: none) and a configuration naming the directory with
 * `inline_instruments` (a JSON array, or NULL); loads it. */
static int load(const char *file, const char *inline_instruments, tinvestd_config *out, char *error,
                size_t size) {
    char text[1024];
    snprintf(text, sizeof text, "{\"reference_dir\": \".\"%s%s}\n",
             inline_instruments ? ", \"instruments\": " : "",
             inline_instruments ? inline_instruments : "");
    test_write_path(config_path, text);
    unlink(file_path);
    if (file != NULL)
        test_write_path(file_path, file);
    error[0] = '\0';
    return config_load(out, config_path, error, size);
}

static const char *const full_file =
    "{\"instruments\": [\n"
    " {\"type\": \"bond\", \"figi\": \"B1\", \"ticker\": \"BT\", \"class_code\": \"TQCB\",\n"
    "  \"isin\": \"RU1\", \"uid\": \"ub\", \"position_uid\": \"pb\", \"asset_uid\": \"ab\",\n"
    "  \"name\": \"Bond\", \"lot\": 1, \"currency\": \"rub\", \"exchange\": \"MOEX\",\n"
    "  \"min_price_increment\": \"0.01\", \"reference_price\": \"99.5\",\n"
    "  \"bond\": {\"nominal\": \"1000\", \"coupon_quantity_per_year\": 4,\n"
    "           \"placement_date\": \"2020-01-02\", \"maturity_date\": \"2030-03-04\"}},\n"
    " {\"type\": \"future\", \"figi\": \"F1\", \"ticker\": \"FT\", \"class_code\": \"SPBFUT\",\n"
    "  \"uid\": \"uf\", \"name\": \"Future\", \"min_price_increment\": \"1\",\n"
    "  \"reference_price\": \"100\",\n"
    "  \"future\": {\"basic_asset\": \"BR\", \"initial_margin\": \"9000.5\",\n"
    "             \"min_price_increment_amount\": \"7.5\", \"expiration_date\": \"2025-06-20\"}},\n"
    " {\"type\": \"option\", \"ticker\": \"OT\", \"class_code\": \"SPBOPT\", \"uid\": \"uo\",\n"
    "  \"name\": \"Option\", \"min_price_increment\": \"0.5\", \"reference_price\": \"10\",\n"
    "  \"option\": {\"basic_asset_uid\": \"au\", \"basic_asset_position_uid\": \"apu\",\n"
    "             \"strike_price\": \"250\", \"direction\": \"call\", \"style\": \"american\",\n"
    "             \"payment_type\": \"marginal\", \"settlement_type\": \"physical_delivery\",\n"
    "             \"expiration_date\": \"2025-12-18\"}},\n"
    " {\"type\": \"share\", \"figi\": \"S1\", \"ticker\": \"ST\", \"class_code\": \"TQBR\",\n"
    "  \"name\": \"No uid\", \"min_price_increment\": \"0.01\", \"reference_price\": \"1\"}\n"
    "]}\n";

static void test_every_field(void) {
    static tinvestd_config c;
    char error[512];
    CHECK_EQ_INT(load(full_file, NULL, &c, error, sizeof error), 0);
    const refdata *rd = &c.refdata;
    CHECK_EQ_INT(rd->instrument_count, 4);
    const instrument *b = &rd->instruments[0];
    CHECK(b->kind == INSTRUMENT_KIND_BOND && b->index == 0);
    CHECK(strcmp(b->figi, "B1") == 0 && strcmp(b->ticker, "BT") == 0 &&
          strcmp(b->class_code, "TQCB") == 0 && strcmp(b->isin, "RU1") == 0 &&
          strcmp(b->uid, "ub") == 0 && strcmp(b->position_uid, "pb") == 0 &&
          strcmp(b->asset_uid, "ab") == 0 && strcmp(b->name, "Bond") == 0);
    CHECK(b->reference_price_nano == 99500000000LL && b->min_price_increment_nano == 10000000);
    CHECK(b->nominal_nano == 1000000000000LL && b->coupon_quantity_per_year == 4);
    CHECK(b->placement_date_s == 1577923200 && b->maturity_date_s == 1898812800);
    CHECK(strcmp(b->nominal_currency, "rub") == 0);
    const instrument *f = &rd->instruments[1];
    CHECK(f->kind == INSTRUMENT_KIND_FUTURE && f->initial_margin_nano == 9000500000000LL &&
          f->min_price_increment_amount_nano == 7500000000LL && strcmp(f->basic_asset, "BR") == 0 &&
          f->expiration_date_s == 1750377600);
    const instrument *o = &rd->instruments[2];
    CHECK(o->kind == INSTRUMENT_KIND_OPTION && o->figi[0] == '\0');
    CHECK(o->strike_price_nano == 250000000000LL && o->option_direction == 2 &&
          o->option_style == 1 && o->option_payment_type == 2 && o->option_settlement_type == 1);
    CHECK(strcmp(o->basic_asset_uid, "au") == 0 && strcmp(o->basic_asset_position_uid, "apu") == 0);
    CHECK(strcmp(o->settlement_currency, "rub") == 0 && o->expiration_date_s == 1766016000);
    const instrument *s = &rd->instruments[3];
    /* Defaults of what was left out. */
    CHECK(s->uid[0] == '\0' && s->lot == 1 && strcmp(s->currency, "rub") == 0 &&
          strcmp(s->exchange, "MOEX") == 0 && strcmp(s->country_of_risk, "RU") == 0 &&
          s->trading_status == 5 && s->api_trade_available && !s->short_enabled &&
          s->price_band_bp == 2000);
    CHECK(refdata_find_by_figi(rd, "S1") == s && refdata_find_by_uid(rd, "") == NULL);
    config_deinit(&c);
}

static void test_inline_first_then_file(void) {
    static tinvestd_config c;
    char error[512];
    const char *one =
        "[{\"type\": \"share\", \"figi\": \"I1\", \"class_code\": \"C\", \"uid\": \"ui\","
        " \"name\": \"Inline\", \"min_price_increment\": \"1\","
        " \"reference_price\": \"5\"}]";
    CHECK_EQ_INT(load(full_file, one, &c, error, sizeof error), 0);
    CHECK_EQ_INT(c.refdata.instrument_count, 5);
    CHECK(strcmp(c.refdata.instruments[0].uid, "ui") == 0);
    CHECK(strcmp(c.refdata.instruments[1].uid, "ub") == 0 && c.refdata.instruments[1].index == 1);
    config_deinit(&c);
    /* Without the file, only the inline ones. */
    CHECK_EQ_INT(load(NULL, one, &c, error, sizeof error), 0);
    CHECK_EQ_INT(c.refdata.instrument_count, 1);
    config_deinit(&c);
}

/* Each refusal names its file and JSON path. */
static void test_refusals(void) {
    static tinvestd_config c;
    char error[512];
    static const struct {
        const char *file, *expect;
    } cases[] = {
        {"[]", "instruments.json: the top level must be an object"},
        {"{}", "instruments.json: instruments: required array is missing"},
        {"{\"instruments\": {}}", "instruments.json: instruments: must be an array"},
        {"{\"instruments\": [1]}", "instruments.json: instruments[0]: must be an object"},
        {"{\"instruments\": [{\"type\": \"warrant\"}]}", "instruments.json: instruments[0].type"},
        {"{\"instruments\": [{\"type\": \"share\", \"class_code\": \"C\", \"name\": \"N\","
         " \"min_price_increment\": \"1\", \"reference_price\": \"1\"}]}",
         "instruments.json: instruments[0].figi: required string is missing"},
        {"{\"instruments\": [{\"type\": \"option\", \"class_code\": \"C\", \"name\": \"N\","
         " \"min_price_increment\": \"1\", \"reference_price\": \"1\","
         " \"option\": {\"strike_price\": \"1\", \"direction\": \"call\"}}]}",
         "instruments.json: instruments[0].uid: an instrument without a figi needs a uid"},
        {"{\"instruments\": [{\"type\": \"option\", \"uid\": \"u\", \"class_code\": \"C\","
         " \"name\": \"N\", \"min_price_increment\": \"1\", \"reference_price\": \"1\"}]}",
         "instruments.json: instruments[0].option: an option needs"},
        {"{\"instruments\": [{\"type\": \"option\", \"uid\": \"u\", \"class_code\": \"C\","
         " \"name\": \"N\", \"min_price_increment\": \"1\", \"reference_price\": \"1\","
         " \"option\": {\"strike_price\": \"1\", \"direction\": \"sideways\"}}]}",
         "instruments.json: instruments[0].direction: \"sideways\" is not one of put, call"},
        {"{\"instruments\": [{\"type\": \"option\", \"uid\": \"u\", \"class_code\": \"C\","
         " \"name\": \"N\", \"min_price_increment\": \"1\", \"reference_price\": \"1\","
         " \"option\": {\"direction\": \"put\", \"strike_price\": \"0\"}}]}",
         "instruments.json: instruments[0].option.strike_price: must be positive"},
        {"{\"instruments\": [{\"type\": \"share\", \"figi\": \"F\", \"class_code\": \"C\","
         " \"name\": \"N\", \"min_price_increment\": \"0.3\", \"reference_price\": \"1\"}]}",
         "instruments.json: instruments[0].reference_price: must be a multiple"},
        {"{\"instruments\": [{\"type\": \"share\", \"figi\": \"F\", \"class_code\": \"C\","
         " \"name\": \"N\", \"min_price_increment\": \"1\", \"reference_price\": \"1\"},"
         " {\"type\": \"share\", \"figi\": \"F\", \"class_code\": \"D\", \"name\": \"M\","
         " \"min_price_increment\": \"1\", \"reference_price\": \"1\"}]}",
         "instruments.json: instruments[1].figi: already held by instrument 0 (\"N\")"},
        {"{\"instruments\": [{\"type\": \"share\", \"figi\": \"F\", \"ticker\": \"T\","
         " \"class_code\": \"C\", \"uid\": \"u\", \"name\": \"N\", \"min_price_increment\": \"1\","
         " \"reference_price\": \"1\"}, {\"type\": \"share\", \"figi\": \"G\", \"ticker\": \"T\","
         " \"class_code\": \"C\", \"name\": \"M\", \"min_price_increment\": \"1\","
         " \"reference_price\": \"1\"}]}",
         "instruments.json: instruments[1].ticker: already held by instrument 0"},
        {"{\"instruments\": [{\"type\": \"share\", \"figi\": \"F\", \"class_code\": \"C\","
         " \"name\": \"N\", \"min_price_increment\": \"1\", \"reference_price\": 1}]}",
         "instruments.json: instruments[0].reference_price: must be a decimal string"},
        {"{\"instruments\": [{\"type\": \"bond\", \"figi\": \"F\", \"class_code\": \"C\","
         " \"name\": \"N\", \"min_price_increment\": \"1\", \"reference_price\": \"1\","
         " \"bond\": {\"maturity_date\": \"2030-13\"}}]}",
         "instruments.json: instruments[0].maturity_date: must be a date"},
        {"{\"instruments\": [", "instruments.json:1:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ_INT(load(cases[i].file, NULL, &c, error, sizeof error), -1);
        if (strstr(error, cases[i].expect) == NULL)
            fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, error, cases[i].expect);
        CHECK(strstr(error, cases[i].expect) != NULL);
    }
    /* The inline array and the file share one set of identifiers. */
    const char *inl = "[{\"type\": \"share\", \"figi\": \"S1\", \"class_code\": \"X\","
                      " \"name\": \"Inline\", \"min_price_increment\": \"1\","
                      " \"reference_price\": \"5\"}]";
    CHECK_EQ_INT(load(full_file, inl, &c, error, sizeof error), -1);
    CHECK(strstr(error, "instruments.json: instruments[3].figi: already held by instrument 0") !=
          NULL);
}

/* The risk rates of margin trading and a future's guarantee per side: values, defaults, and the
 * refusals with their JSON paths. */
static void test_risk_rates(void) {
    static tinvestd_config c;
    char error[512];
    const char *file =
        "{\"instruments\": [\n"
        " {\"type\": \"share\", \"figi\": \"S1\", \"class_code\": \"TQBR\", \"name\": \"Rated\","
        "  \"min_price_increment\": \"0.01\", \"reference_price\": \"300\", \"short_enabled\": "
        "true,"
        "  \"dlong\": \"0.25\", \"dshort\": \"0.28\", \"dlong_min\": \"0.125\","
        "  \"dshort_min\": \"0.14\"},\n"
        " {\"type\": \"share\", \"figi\": \"S2\", \"class_code\": \"TQBR\", \"name\": \"Long "
        "only\","
        "  \"min_price_increment\": \"1\", \"reference_price\": \"10\", \"dlong\": \"1\"},\n"
        " {\"type\": \"future\", \"figi\": \"F1\", \"class_code\": \"SPBFUT\", \"name\": \"Two\","
        "  \"min_price_increment\": \"1\", \"reference_price\": \"95000\","
        "  \"future\": {\"initial_margin\": \"13000\", \"initial_margin_on_buy\": \"13250.5\","
        "   \"initial_margin_on_sell\": \"12750\"}},\n"
        " {\"type\": \"future\", \"figi\": \"F2\", \"class_code\": \"SPBFUT\", \"name\": \"One\","
        "  \"min_price_increment\": \"1\", \"reference_price\": \"100\","
        "  \"future\": {\"initial_margin\": \"9000\"}}\n"
        "]}\n";
    CHECK_EQ_INT(load(file, NULL, &c, error, sizeof error), 0);
    const instrument *s = &c.refdata.instruments[0], *l = &c.refdata.instruments[1];
    CHECK(s->dlong_nano == 250000000 && s->dshort_nano == 280000000 &&
          s->dlong_min_nano == 125000000 && s->dshort_min_nano == 140000000);
    CHECK(l->dlong_nano == 1000000000 && l->dshort_nano == 0 && l->dlong_min_nano == 0 &&
          l->dshort_min_nano == 0);
    const instrument *two = &c.refdata.instruments[2], *one = &c.refdata.instruments[3];
    CHECK(two->initial_margin_nano == 13000000000000LL &&
          two->initial_margin_on_buy_nano == 13250500000000LL &&
          two->initial_margin_on_sell_nano == 12750000000000LL);
    CHECK(one->initial_margin_on_buy_nano == 9000000000000LL &&
          one->initial_margin_on_sell_nano == 9000000000000LL);
    config_deinit(&c);
    static const struct {
        const char *members, *expect;
    } refused[] = {
        {"\"dlong\": \"1.01\"",
         "instruments.json: instruments[0].dlong: a risk rate is a fraction"},
        {"\"dlong_min\": \"-0.1\"", "instruments.json: instruments[0].dlong_min: a risk rate"},
        {"\"dlong\": 0.25", "instruments.json: instruments[0].dlong: must be a decimal string"},
        {"\"short_enabled\": true, \"dshort\": \"2\"", "instruments[0].dshort: a risk rate"},
        {"\"dshort\": \"0.28\"",
         "instruments.json: instruments[0].dshort: a short rate needs \"short_enabled\": true"},
        {"\"dshort_min\": \"0.14\"", "instruments[0].dshort_min: a short rate needs"},
        {"\"future\": {\"initial_margin_on_buy\": \"-1\"}",
         "instruments[0].future.initial_margin_on_buy: must not be negative"},
        {"\"future\": {\"initial_margin_on_sell\": \"x\"}",
         "instruments[0].initial_margin_on_sell: \"x\" is not a decimal amount"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"instruments\": [{\"type\": \"future\", \"figi\": \"F\", \"class_code\": \"C\","
                 " \"name\": \"N\", \"min_price_increment\": \"1\", \"reference_price\": \"1\","
                 " %s}]}",
                 refused[i].members);
        CHECK_EQ_INT(load(text, NULL, &c, error, sizeof error), -1);
        if (strstr(error, refused[i].expect) == NULL)
            fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, error, refused[i].expect);
        CHECK(strstr(error, refused[i].expect) != NULL);
    }
}

static void test_indicatives(void) {
    static tinvestd_config c;
    char error[512];
    test_write_path(
        indicatives_path,
        "{\"indicatives\": [{\"ticker\": \"IMOEX\", \"name\": \"Index\", \"uid\": \"x1\","
        " \"figi\": \"FX\", \"class_code\": \"SNDX\", \"currency\": \"rub\","
        " \"exchange\": \"E\", \"instrument_kind\": \"index\", \"buy_available\": true},"
        " {\"ticker\": \"BR\", \"name\": \"Brent\", \"instrument_kind\": \"commodity\"}]}");
    CHECK_EQ_INT(load(NULL, NULL, &c, error, sizeof error), 0);
    CHECK_EQ_INT(c.indicatives.count, 2);
    const indicative *i = indicatives_find(&c.indicatives, "x1", NULL);
    CHECK(i == &c.indicatives.items[0] && i->instrument_kind == INDICATIVE_KIND_INDEX &&
          i->buy_available && !i->sell_available && strcmp(i->class_code, "SNDX") == 0);
    CHECK(c.indicatives.items[1].instrument_kind == INDICATIVE_KIND_COMMODITY);
    CHECK(indicatives_find(&c.indicatives, NULL, "FX") == i);
    CHECK(indicatives_find(&c.indicatives, "", "") == NULL);
    config_deinit(&c);
    test_write_path(indicatives_path, "{\"indicatives\": [{\"ticker\": \"A\", \"name\": \"B\","
                                      " \"instrument_kind\": \"bond\"}]}");
    CHECK_EQ_INT(load(NULL, NULL, &c, error, sizeof error), -1);
    CHECK(strstr(error, "indicatives.json: indicatives[0].instrument_kind") != NULL);
    unlink(indicatives_path);
}

static void test_universe_pin(void) {
    static tinvestd_config c;
    char error[512], data[300], pin[400];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(pin, sizeof pin, "%s/%s", data, UNIVERSE_PIN_FILE);
    CHECK_EQ_INT(mkdir(data, 0755), 0);
    CHECK_EQ_INT(load(full_file, NULL, &c, error, sizeof error), 0);
    uint32_t pinned = 99;
    CHECK_EQ_INT(universe_check(data, &c.refdata, &pinned, error, sizeof error), 0);
    CHECK_EQ_INT(pinned, 0);
    /* Pin the first two only, as an older configuration would have. */
    c.refdata.instrument_count = 2;
    CHECK_EQ_INT(universe_pin(data, &c.refdata, 0), 0);
    c.refdata.instrument_count = 4;
    CHECK_EQ_INT(universe_check(data, &c.refdata, &pinned, error, sizeof error), 0);
    CHECK_EQ_INT(pinned, 2);
    CHECK_EQ_INT(universe_pin(data, &c.refdata, pinned), 0);
    CHECK_EQ_INT(universe_check(data, &c.refdata, &pinned, error, sizeof error), 0);
    CHECK_EQ_INT(pinned, 4);
    /* The instrument without a uid is pinned by its FIGI. */
    FILE *f = fopen(pin, "r");
    CHECK(f != NULL);
    char text[256] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    CHECK(strcmp(text, "tinvestd instruments 1\nub\nuf\nuo\nfigi:S1\n") == 0);
    /* Reordered: refused, naming the place. */
    instrument swap = c.refdata.instruments[1];
    c.refdata.instruments[1] = c.refdata.instruments[2];
    c.refdata.instruments[2] = swap;
    CHECK_EQ_INT(universe_check(data, &c.refdata, &pinned, error, sizeof error), -1);
    CHECK(strstr(error, "instrument 1 of the data directory has uid uf, the configuration's has "
                        "uo (\"Option\")") != NULL);
    c.refdata.instruments[2] = c.refdata.instruments[1];
    c.refdata.instruments[1] = swap;
    /* Removed. */
    c.refdata.instrument_count = 3;
    CHECK_EQ_INT(universe_check(data, &c.refdata, &pinned, error, sizeof error), -1);
    CHECK(
        strstr(error, "holds instrument 3 (uid figi:S1), which the configuration no longer has") !=
        NULL);
    c.refdata.instrument_count = 4;
    /* A damaged file is refused, not taken for an empty universe. */
    test_write_path(pin, "something else\n");
    CHECK_EQ_INT(universe_check(data, &c.refdata, &pinned, error, sizeof error), -1);
    CHECK(strstr(error, "is not a list of instruments") != NULL);
    test_write_path(pin, "tinvestd instruments 1\nub");
    CHECK_EQ_INT(universe_check(data, &c.refdata, &pinned, error, sizeof error), -1);
    CHECK(strstr(error, "line 2 is cut") != NULL);
    unlink(pin);
    rmdir(data);
    config_deinit(&c);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/tinvestd-instruments-XXXXXX", P_tmpdir);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(config_path, sizeof config_path, "%s/config.json", dir);
    snprintf(file_path, sizeof file_path, "%s/instruments.json", dir);
    snprintf(indicatives_path, sizeof indicatives_path, "%s/indicatives.json", dir);
    test_every_field();
    test_inline_first_then_file();
    test_refusals();
    test_risk_rates();
    test_indicatives();
    test_universe_pin();
    unlink(config_path);
    unlink(file_path);
    rmdir(dir);
    return check_finish("config_instruments");
}
