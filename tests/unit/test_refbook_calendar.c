/* The payment calendar: its reader (src/config/calendar_reader.c) loads the three files of a
 * reference directory and refuses a bad entry with its file and JSON path; the lookups give each
 * instrument's entries in date order; the accrued interest is worked out to the nano-unit from
 * known values; the request checks of the four methods answer the codes the protocol documents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/calendar_request.h"
#include "check.h"
#include "config/config.h"
#include "refbook/calendar.h"
#include "test_files.h"

#define DAY 86400
#define NANO INT64_C(1000000000)

static char dir[256], config_path[300];
static tinvestd_config config;

/* 2024-01-01T00:00:00Z and friends, as seconds. */
#define JAN_1_2024 INT64_C(1704067200)

static void write_file(const char *name, const char *text) {
    test_write_file(dir, name, text);
}

static void remove_file(const char *name) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void clear_files(void) {
    remove_file("bond_coupons.json");
    remove_file("bond_events.json");
    remove_file("dividends.json");
}

/* A universe of a bond (nominal 1000), a share, an ETF and a future. */
static void write_config(void) {
    FILE *f = fopen(config_path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    fprintf(f,
            "{\"reference_dir\": \"%s\", \"instruments\": [\n"
            "{\"type\": \"bond\", \"figi\": \"BOND1\", \"class_code\": \"TQCB\", \"uid\": "
            "\"bond-uid\", \"name\": \"B\", \"min_price_increment\": \"0.01\", "
            "\"reference_price\": \"100\", \"bond\": {\"nominal\": \"1000\"}},\n"
            "{\"type\": \"share\", \"figi\": \"SHARE1\", \"class_code\": \"TQBR\", \"uid\": "
            "\"share-uid\", \"name\": \"S\", \"min_price_increment\": \"0.01\", "
            "\"reference_price\": \"100\"},\n"
            "{\"type\": \"etf\", \"figi\": \"ETF1\", \"class_code\": \"TQTF\", \"uid\": "
            "\"etf-uid\", \"name\": \"E\", \"min_price_increment\": \"0.01\", "
            "\"reference_price\": \"10\"},\n"
            "{\"type\": \"future\", \"figi\": \"FUT1\", \"class_code\": \"SPBFUT\", \"uid\": "
            "\"fut-uid\", \"name\": \"F\", \"min_price_increment\": \"1\", "
            "\"reference_price\": \"100\"}]}\n",
            dir);
    fclose(f);
}

/* Loads the configuration; on failure `error` holds the reason. */
static int load(char *error, size_t error_size) {
    error[0] = '\0';
    int rc = config_load(&config, config_path, error, error_size);
    return rc;
}

/* Expects the load to fail with a reason containing `where`. */
static void expect_refused(const char *where) {
    char error[512];
    int rc = load(error, sizeof error);
    CHECK_EQ_INT(rc, -1);
    if (rc == 0) {
        config_deinit(&config);
        return;
    }
    if (strstr(error, where) == NULL)
        fprintf(stderr, "expected \"%s\" in: %s\n", where, error);
    CHECK(strstr(error, where) != NULL);
}

static const char *coupon(int number, const char *date, const char *start, const char *end,
                          const char *pay) {
    static char text[8][400];
    static int next;
    char *out = text[next++ % 8];
    snprintf(out, 400,
             "{\"coupon_number\": %d, \"coupon_date\": \"%s\", \"coupon_start_date\": \"%s\", "
             "\"coupon_end_date\": \"%s\", \"pay_one_bond\": \"%s\", \"coupon_type\": "
             "\"COUPON_TYPE_CONSTANT\"}",
             number, date, start, end, pay);
    return out;
}

static void test_loads_and_sorts(void) {
    clear_files();
    char text[2048];
    /* Given out of order: the lookup answers them by date. */
    snprintf(text, sizeof text,
             "{\"bonds\": [{\"instrument_id\": \"BOND1\", \"coupons\": [%s, %s]}]}",
             coupon(2, "2024-07-01", "2024-04-01", "2024-07-01", "20.5"),
             coupon(1, "2024-04-01", "2024-01-01", "2024-04-01", "19.95"));
    write_file("bond_coupons.json", text);
    write_file("bond_events.json",
               "{\"bonds\": [{\"instrument_id\": \"bond-uid\", \"events\": ["
               "{\"event_number\": 2, \"event_type\": \"EVENT_TYPE_MTY\", \"event_date\": "
               "\"2025-01-01\", \"pay_one_bond\": \"1000\"},"
               "{\"event_number\": 1, \"event_type\": \"EVENT_TYPE_CPN\", \"event_date\": "
               "\"2024-04-01\", \"coupon_interest_rate\": \"8\", \"note\": \"n\"}]}]}");
    write_file("dividends.json",
               "{\"instruments\": [{\"instrument_id\": \"SHARE1\", \"dividends\": ["
               "{\"dividend_net\": \"33.3\", \"record_date\": \"2024-07-11\", \"created_at\": "
               "\"2024-05-01T10:20:30Z\", \"dividend_type\": \"Regular Cash\"}]},"
               "{\"instrument_id\": \"etf-uid\"}]}");
    char error[512];
    CHECK_EQ_INT(load(error, sizeof error), 0);
    if (error[0] != '\0')
        fprintf(stderr, "%s\n", error);
    const calendar *cal = &config.calendar;
    CHECK_EQ_INT(cal->coupon_count, 2);
    CHECK_EQ_INT(cal->event_count, 2);
    CHECK_EQ_INT(cal->dividend_count, 1);
    uint32_t n;
    const calendar_coupon *c = calendar_coupons(cal, 0, &n);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(c[0].coupon_number, 1);
        CHECK_EQ_INT(c[0].coupon_date_s, JAN_1_2024 + 91 * DAY);
        CHECK_EQ_INT(c[0].period_days, 91);
        CHECK_EQ_INT(c[0].pay_one_bond_nano, 19950000000);
        CHECK_EQ_INT(c[0].coupon_type, 1);
        CHECK_EQ_INT(c[1].coupon_number, 2);
    }
    const calendar_bond_event *e = calendar_events(cal, 0, &n);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(e[0].event_type, 1);
        CHECK(e[0].has_rate && e[0].coupon_interest_rate_nano == 8 * NANO);
        CHECK(strcmp(e[0].note, "n") == 0 && strcmp(e[0].execution, "") == 0);
        CHECK_EQ_INT(e[1].event_type, 3);
        CHECK(e[1].has_pay_one_bond && !e[1].has_value);
    }
    const calendar_dividend *d = calendar_dividends(cal, 1, &n);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_EQ_INT(d[0].dividend_net_nano, 33300000000);
        CHECK(strcmp(d[0].currency, "rub") == 0);
        CHECK_EQ_INT(d[0].created_at_s, JAN_1_2024 + (31 + 29 + 31 + 30) * DAY + 37230);
        CHECK(!d[0].has_close_price);
    }
    CHECK(calendar_dividends(cal, 2, &n) == NULL && n == 0); /* the ETF: listed, no entries */
    CHECK(calendar_coupons(cal, 3, &n) == NULL && n == 0);
    config_deinit(&config);

    /* No file at all: an empty calendar. */
    clear_files();
    CHECK_EQ_INT(load(error, sizeof error), 0);
    CHECK_EQ_INT(config.calendar.coupon_count + config.calendar.event_count +
                     config.calendar.dividend_count,
                 0);
    CHECK(calendar_coupons(&config.calendar, 0, &n) == NULL && n == 0);
    config_deinit(&config);
}

static void refuse_coupons(const char *coupons, const char *where) {
    clear_files();
    char text[4096];
    snprintf(text, sizeof text, "{\"bonds\": [{\"instrument_id\": \"BOND1\", \"coupons\": [%s]}]}",
             coupons);
    write_file("bond_coupons.json", text);
    expect_refused(where);
}

static void test_refuses_with_paths(void) {
    const char *good = coupon(1, "2024-04-01", "2024-01-01", "2024-04-01", "19.95");
    char two[1024];
    snprintf(two, sizeof two, "%s, {\"coupon_number\": 2}", good);
    refuse_coupons(two, "bond_coupons.json: bonds[0].coupons[1].coupon_date: required date");
    refuse_coupons("{\"coupon_number\": 1, \"coupon_date\": \"2024-13\"}",
                   "bonds[0].coupons[0].coupon_date: must be a date");
    refuse_coupons(coupon(1, "2024-04-01", "2024-04-01", "2024-01-01", "1"),
                   "bonds[0].coupons[0].coupon_end_date: must be after coupon_start_date");
    refuse_coupons(coupon(1, "2024-04-01", "2024-01-01", "2024-04-01", "-1"),
                   "bonds[0].coupons[0].pay_one_bond: must not be negative");
    refuse_coupons(coupon(1, "2024-04-01", "2024-01-01", "2024-04-01", "1e3"),
                   "bonds[0].coupons[0].pay_one_bond: \"1e3\" is not a decimal");
    refuse_coupons("{\"coupon_number\": 1, \"coupon_date\": \"2024-04-01\", \"coupon_start_date\": "
                   "\"2024-01-01\", \"coupon_end_date\": \"2024-04-01\", \"coupon_period\": 90}",
                   "bonds[0].coupons[0].coupon_period: 90 is not the 91 days");
    refuse_coupons("{\"coupon_number\": 1, \"coupon_date\": \"2024-04-01\", \"coupon_start_date\": "
                   "\"2024-01-01\", \"coupon_end_date\": \"2024-04-01\", \"coupon_type\": \"FIX\"}",
                   "bonds[0].coupons[0].coupon_type: \"FIX\" is not a value");
    snprintf(two, sizeof two, "%s, %s", good,
             coupon(2, "2024-05-01", "2024-03-01", "2024-05-01", "1"));
    refuse_coupons(two, "bonds[0].coupons: the periods of coupons 1 and 2 overlap");
    refuse_coupons("7", "bond_coupons.json: bonds[0].coupons[0]: must be an object");

    /* The instrument: in the universe, of the file's kind, listed once. */
    clear_files();
    write_file("bond_coupons.json", "{\"bonds\": [{\"instrument_id\": \"NOPE\"}]}");
    expect_refused("bond_coupons.json: bonds[0].instrument_id: \"NOPE\" is not an instrument");
    write_file("bond_coupons.json", "{\"bonds\": [{\"instrument_id\": \"SHARE1\"}]}");
    expect_refused("bond_coupons.json: bonds[0].instrument_id: \"SHARE1\" is not a bond");
    write_file("bond_coupons.json",
               "{\"bonds\": [{\"instrument_id\": \"BOND1\"}, {\"instrument_id\": \"bond-uid\"}]}");
    expect_refused("bond_coupons.json: bonds[1].instrument_id: the instrument is listed twice");
    write_file("bond_coupons.json", "{\"bonds\": [{}]}");
    expect_refused("bond_coupons.json: bonds[0].instrument_id: required string");
    write_file("bond_coupons.json", "{\"bonds\": {}}");
    expect_refused("bond_coupons.json: bonds: must be an array");
    write_file("bond_coupons.json", "[]");
    expect_refused("bond_coupons.json: the top level must be an object");
    write_file("bond_coupons.json", "{\"bonds\": [");
    expect_refused("bond_coupons.json:1:");

    clear_files();
    write_file("bond_events.json", "{\"bonds\": [{\"instrument_id\": \"BOND1\", \"events\": "
                                   "[{\"event_type\": \"EVENT_TYPE_UNSPECIFIED\", "
                                   "\"event_date\": \"2024-01-01\"}]}]}");
    expect_refused("bond_events.json: bonds[0].events[0].event_type");
    write_file("bond_events.json", "{\"bonds\": [{\"instrument_id\": \"BOND1\", \"events\": "
                                   "[{\"event_type\": \"EVENT_TYPE_CALL\"}]}]}");
    expect_refused("bond_events.json: bonds[0].events[0].event_date: required date");
    write_file("bond_events.json", "{\"bonds\": [{\"instrument_id\": \"FUT1\"}]}");
    expect_refused("bond_events.json: bonds[0].instrument_id: \"FUT1\" is not a bond");

    clear_files();
    write_file("dividends.json", "{\"instruments\": [{\"instrument_id\": \"BOND1\"}]}");
    expect_refused("dividends.json: instruments[0].instrument_id: \"BOND1\" is neither a share");
    write_file("dividends.json", "{\"instruments\": [{\"instrument_id\": \"SHARE1\", "
                                 "\"dividends\": [{\"dividend_net\": \"1\"}]}]}");
    expect_refused("dividends.json: instruments[0].dividends[0].record_date: required date");
    write_file("dividends.json", "{\"instruments\": [{\"instrument_id\": \"SHARE1\", "
                                 "\"dividends\": [{\"record_date\": \"2024-01-01\"}]}]}");
    expect_refused("dividends.json: instruments[0].dividends[0].dividend_net: required");
    write_file("dividends.json",
               "{\"instruments\": [{\"instrument_id\": \"SHARE1\", \"dividends\": [{"
               "\"dividend_net\": \"1\", \"record_date\": \"2024-01-01\", \"created_at\": "
               "\"2024-01-01T25:00:00Z\"}]}]}");
    expect_refused("dividends.json: instruments[0].dividends[0].created_at: must be a time");
    clear_files();
}

/* One bond may have CALENDAR_MAX_COUPONS_PER_BOND coupons, not one more. */
static void test_per_bond_limit(void) {
    clear_files();
    size_t size = (CALENDAR_MAX_COUPONS_PER_BOND + 2) * 200 + 100;
    char *text = malloc(size);
    CHECK(text != NULL);
    if (text == NULL)
        return;
    for (int extra = 0; extra <= 1; extra++) {
        size_t used = (size_t)snprintf(text, size,
                                       "{\"bonds\": [{\"instrument_id\": \"BOND1\", "
                                       "\"coupons\": [");
        int64_t n = CALENDAR_MAX_COUPONS_PER_BOND + extra;
        for (int64_t i = 0; i < n; i++) {
            /* Periods of one day each from 2000-01-01. */
            int64_t start = 946684800 + i * DAY;
            char s[16], e[16];
            time_t ts = (time_t)start, te = (time_t)(start + DAY);
            strftime(s, sizeof s, "%Y-%m-%d", gmtime(&ts));
            strftime(e, sizeof e, "%Y-%m-%d", gmtime(&te));
            used += (size_t)snprintf(text + used, size - used, "%s%s", i ? "," : "",
                                     coupon((int)i + 1, e, s, e, "0.01"));
        }
        snprintf(text + used, size - used, "]}]}");
        write_file("bond_coupons.json", text);
        if (extra == 0) {
            char error[512];
            CHECK_EQ_INT(load(error, sizeof error), 0);
            uint32_t count;
            calendar_coupons(&config.calendar, 0, &count);
            CHECK_EQ_INT(count, CALENDAR_MAX_COUPONS_PER_BOND);
            config_deinit(&config);
        } else {
            expect_refused("bond_coupons.json: bonds[0].coupons: must be an array of at most 1000");
        }
    }
    free(text);
    clear_files();
}

/* Known values: a coupon of 19.95 over the 91 days from 2024-01-01 to 2024-04-01, nominal 1000;
 * and 41.14 over 182 days, whose half period is exactly 20.57. */
static void test_accrued_interest(void) {
    calendar_coupon c[2] = {
        {.coupon_number = 1,
         .start_s = JAN_1_2024,
         .end_s = JAN_1_2024 + 91 * DAY,
         .period_days = 91,
         .pay_one_bond_nano = 19950000000},
        {.coupon_number = 2,
         .start_s = JAN_1_2024 + 91 * DAY,
         .end_s = JAN_1_2024 + 273 * DAY,
         .period_days = 182,
         .pay_one_bond_nano = 41140000000},
    };
    int64_t nominal = 1000 * NANO;
    calendar_accrued a;
    /* The first day of a period: nothing accrued yet. */
    CHECK_EQ_INT(calendar_accrued_interest(c, 2, JAN_1_2024, nominal, &a), CALENDAR_ACCRUED_OK);
    CHECK_EQ_INT(a.value_nano, 0);
    CHECK_EQ_INT(a.value_percent_nano, 0);
    /* 30 days: 19.95 × 30 / 91 = 6.576923076923… → 6.576923077; 0.6576923077 % → 0.657692308. */
    CHECK_EQ_INT(calendar_accrued_interest(c, 2, JAN_1_2024 + 30 * DAY, nominal, &a),
                 CALENDAR_ACCRUED_OK);
    CHECK_EQ_INT(a.value_nano, 6576923077);
    CHECK_EQ_INT(a.value_percent_nano, 657692308);
    /* The last day before payment: 19.95 × 90 / 91 = 19.730769230769… → 19.730769231. */
    CHECK_EQ_INT(calendar_accrued_interest(c, 2, JAN_1_2024 + 90 * DAY, nominal, &a),
                 CALENDAR_ACCRUED_OK);
    CHECK_EQ_INT(a.value_nano, 19730769231);
    /* The payment day starts the next period; its half is exactly 20.57 (2.057 %). */
    CHECK_EQ_INT(calendar_accrued_interest(c, 2, JAN_1_2024 + 91 * DAY, nominal, &a),
                 CALENDAR_ACCRUED_OK);
    CHECK_EQ_INT(a.value_nano, 0);
    CHECK_EQ_INT(calendar_accrued_interest(c, 2, JAN_1_2024 + (91 + 91) * DAY, nominal, &a),
                 CALENDAR_ACCRUED_OK);
    CHECK_EQ_INT(a.value_nano, 20570000000);
    CHECK_EQ_INT(a.value_percent_nano, 2057000000);
    /* Before the first period and from the last payment on: none. */
    CHECK_EQ_INT(calendar_accrued_interest(c, 2, JAN_1_2024 - DAY, nominal, &a),
                 CALENDAR_ACCRUED_NONE);
    CHECK_EQ_INT(calendar_accrued_interest(c, 2, JAN_1_2024 + 273 * DAY, nominal, &a),
                 CALENDAR_ACCRUED_NONE);
    CHECK_EQ_INT(calendar_accrued_interest(c, 0, JAN_1_2024, nominal, &a), CALENDAR_ACCRUED_NONE);
    /* Half a nano rounds up: 1 nano × 1 / 2. */
    calendar_coupon tiny = {
        .start_s = 0, .end_s = 2 * DAY, .period_days = 2, .pay_one_bond_nano = 1};
    CHECK_EQ_INT(calendar_accrued_interest(&tiny, 1, DAY, nominal, &a), CALENDAR_ACCRUED_OK);
    CHECK_EQ_INT(a.value_nano, 1);
    /* A percent past int64 is refused, never wrapped: the largest coupon against a nominal of one
     * nano-unit. */
    calendar_coupon huge = {
        .start_s = 0, .end_s = 2 * DAY, .period_days = 2, .pay_one_bond_nano = INT64_MAX};
    CHECK_EQ_INT(calendar_accrued_interest(&huge, 1, DAY, 1, &a), CALENDAR_ACCRUED_OVERFLOW);
    CHECK_EQ_INT(calendar_accrued_interest(&huge, 1, DAY, INT64_MAX, &a), CALENDAR_ACCRUED_OK);
    CHECK_EQ_INT(a.value_nano, INT64_MAX / 2 + 1);
}

static Google__Protobuf__Timestamp ts(int64_t seconds, int32_t nanos) {
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = seconds;
    t.nanos = nanos;
    return t;
}

static void test_request_checks(void) {
    clear_files();
    char error[512];
    CHECK_EQ_INT(load(error, sizeof error), 0);
    const refdata *rd = &config.refdata;
    api_calendar_query q;
    Google__Protobuf__Timestamp from = ts(JAN_1_2024, 0), to = ts(JAN_1_2024 + 9 * DAY, 5);
    Google__Protobuf__Timestamp bad = ts(JAN_1_2024, -1), past = ts(4102444800, 0);

    PB(GetBondCouponsRequest) coupons = PB_INIT(GET_BOND_COUPONS_REQUEST);
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 30237);
    coupons.instrument_id = "NOPE";
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 50002);
    coupons.instrument_id = "SHARE1";
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 30048);
    coupons.instrument_id = "";
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    coupons.figi = "BOND1"; /* the deprecated field still names it */
#pragma GCC diagnostic pop
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 0);
    CHECK(q.instrument != NULL && q.from_ns == INT64_MIN && q.to_ns == INT64_MAX);
    coupons.from = &bad;
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 30009);
    coupons.from = &past;
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 30061);
    coupons.from = &to;
    coupons.to = &bad;
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 30010);
    coupons.to = &past;
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 30062);
    coupons.to = &from;
    CHECK_EQ_INT(api_request_bond_coupons(rd, &coupons, &q), 30012);

    PB(GetBondEventsRequest) events = PB_INIT(GET_BOND_EVENTS_REQUEST);
    const char *message;
    events.instrument_id = "bond-uid";
    events.type = 4;
    CHECK_EQ_INT(api_request_bond_events(rd, &events, &q, &message), 0);
    CHECK_EQ_INT(q.event_type, 4);
    events.type = 5;
    CHECK_EQ_INT(api_request_bond_events(rd, &events, &q, &message), 30102);
    CHECK(message != NULL && strstr(message, "`type`") != NULL);
    events.instrument_id = "ETF1";
    CHECK_EQ_INT(api_request_bond_events(rd, &events, &q, &message), 30048);

    PB(GetDividendsRequest) dividends = PB_INIT(GET_DIVIDENDS_REQUEST);
    dividends.instrument_id = "BOND1";
    CHECK_EQ_INT(api_request_dividends(rd, &dividends, &q), 30054);
    dividends.instrument_id = "FUT1";
    CHECK_EQ_INT(api_request_dividends(rd, &dividends, &q), 30054);
    dividends.instrument_id = "etf-uid";
    CHECK_EQ_INT(api_request_dividends(rd, &dividends, &q), 0);
    dividends.instrument_id = "SHARE1";
    dividends.from = &to;
    dividends.to = &from;
    CHECK_EQ_INT(api_request_dividends(rd, &dividends, &q), 30012);

    PB(GetAccruedInterestsRequest) accrued = PB_INIT(GET_ACCRUED_INTERESTS_REQUEST);
    accrued.instrument_id = "SHARE1";
    CHECK_EQ_INT(api_request_accrued_interests(rd, &accrued, &q), 30048);
    accrued.instrument_id = "BOND1";
    CHECK_EQ_INT(api_request_accrued_interests(rd, &accrued, &q), 30001);
    accrued.from = &from;
    CHECK_EQ_INT(api_request_accrued_interests(rd, &accrued, &q), 30004);
    accrued.to = &to;
    CHECK_EQ_INT(api_request_accrued_interests(rd, &accrued, &q), 0);
    CHECK_EQ_INT(q.first_day_s, JAN_1_2024);
    CHECK_EQ_INT(q.day_count, 10);
    /* `from` within a day counts that day. */
    Google__Protobuf__Timestamp noon = ts(JAN_1_2024 + DAY / 2, 0);
    accrued.from = &noon;
    CHECK_EQ_INT(api_request_accrued_interests(rd, &accrued, &q), 0);
    CHECK_EQ_INT(q.first_day_s, JAN_1_2024);
    CHECK_EQ_INT(q.day_count, 10);
    Google__Protobuf__Timestamp longest =
        ts(JAN_1_2024 + (API_ACCRUED_INTERESTS_MAX_DAYS - 1) * DAY + DAY - 1, 0);
    accrued.from = &from;
    accrued.to = &longest;
    CHECK_EQ_INT(api_request_accrued_interests(rd, &accrued, &q), 0);
    CHECK_EQ_INT(q.day_count, API_ACCRUED_INTERESTS_MAX_DAYS);
    Google__Protobuf__Timestamp too_long = ts(JAN_1_2024 + API_ACCRUED_INTERESTS_MAX_DAYS * DAY, 0);
    accrued.to = &too_long;
    CHECK_EQ_INT(api_request_accrued_interests(rd, &accrued, &q), 30084);
    accrued.to = &bad;
    CHECK_EQ_INT(api_request_accrued_interests(rd, &accrued, &q), 30010);
    config_deinit(&config);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/tinvestd-calendar-XXXXXX", P_tmpdir);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(config_path, sizeof config_path, "%s/config.json", dir);
    write_config();
    test_loads_and_sorts();
    test_refuses_with_paths();
    test_per_bond_limit();
    test_accrued_interest();
    test_request_checks();
    clear_files();
    unlink(config_path);
    rmdir(dir);
    return check_finish("test_refbook_calendar");
}
