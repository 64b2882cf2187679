/* The backtest report (src/report): the hand-computed scenario of report_scenario.h to the nano,
 * determinism, refusals that write nothing, overflow, the JSON read back by jansson, HTML
 * escaping, downsampling against the full curve, and the text forms of times and money. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report/report_internal.h"
#include "report_scenario.h"
#include "util/money.h"

#define N SCN_NANO

/* The report written into memory: its return code, and the bytes in *text (freed by caller). */
static int write_mem(int (*writer)(const report_input *, FILE *, const char **),
                     const report_input *in, char **text, size_t *len, const char **why) {
    FILE *f = open_memstream(text, len);
    CHECK(f != NULL);
    int rc = writer(in, f, why);
    fclose(f);
    return rc;
}

static bool near(double a, double b) {
    return fabs(a - b) < 1e-9;
}

static void test_scenario_numbers(void) {
    report_input in = scn_input();
    report_prepared p;
    const char *why = NULL;
    CHECK_EQ_INT(report_prepare(&in, &p, &why), 0);
    CHECK_EQ_INT(p.sample_count, 7); /* 10:00 … 10:06, from and now among them */

    report_account_result a;
    CHECK_EQ_INT(report_account_compute(&p, 0, &a, &why), 0);
    CHECK_EQ_INT(a.fills, 2);
    CHECK_EQ_INT(a.buys, 1);
    CHECK_EQ_INT(a.sells, 1);
    CHECK_EQ_INT(a.currency_count, 1);
    CHECK_EQ_INT(a.position_count, 1);
    const report_currency *rub = &a.currencies[0];
    CHECK(strcmp(rub->currency, "rub") == 0);
    CHECK_EQ_INT(rub->opening_equity_nano, 10000 * N);
    /* cash 10000 - 1000 - 0.5 + 540 - 0.27; 5 left at 107 */
    CHECK_EQ_INT(rub->final_cash_nano, 9539 * N + 230000000);
    CHECK_EQ_INT(rub->final_equity_nano, 10074 * N + 230000000);
    CHECK_EQ_INT(rub->net_pnl_nano, 74 * N + 230000000);
    /* sold 5 at 108 of an average cost of 100 */
    CHECK_EQ_INT(rub->realised_nano, 40 * N);
    /* 5 x 107 - 500 */
    CHECK_EQ_INT(rub->unrealised_nano, 35 * N);
    CHECK_EQ_INT(rub->fees_nano, 770000000);
    CHECK_EQ_INT(rub->turnover_nano, 1540 * N);
    CHECK(rub->return_pct_known && near(rub->return_pct, 0.7423));
    /* Peak 10099.5 at 10:01 (10 at 110), trough 10059.23 at 10:03 (5 at 104). */
    CHECK_EQ_INT(rub->drawdown_nano, 40 * N + 270000000);
    CHECK_EQ_INT(rub->drawdown_peak_nano, 10099 * N + 500000000);
    CHECK_EQ_INT(rub->drawdown_peak_time_ns, SCN_T0 + SCN_MIN);
    CHECK_EQ_INT(rub->drawdown_trough_nano, 10059 * N + 230000000);
    CHECK_EQ_INT(rub->drawdown_trough_time_ns, SCN_T0 + 3 * SCN_MIN);
    CHECK(rub->drawdown_pct_known && near(rub->drawdown_pct, 100.0 * 40.27 / 10099.5));
    /* In a position from the 10:01 sample on: 6 of 7; the largest position 10 x 110. */
    CHECK_EQ_INT(rub->samples, 7);
    CHECK_EQ_INT(rub->samples_in_position, 6);
    CHECK(near(rub->exposure_pct, 600.0 / 7));
    CHECK_EQ_INT(rub->max_gross_nano, 1100 * N);
    CHECK(near(rub->max_gross_pct, 100.0 * 1100 / 10099.5));
    /* Few samples: every one is a point, with the running peak. */
    CHECK_EQ_INT(rub->point_count, 7);
    static const int64_t equity[] = {10000 * N,
                                     10099 * N + 500000000,
                                     10079 * N + 230000000,
                                     10059 * N + 230000000,
                                     10099 * N + 230000000,
                                     10064 * N + 230000000,
                                     10074 * N + 230000000};
    for (uint32_t i = 0; i < 7 && i < rub->point_count; i++) {
        CHECK_EQ_INT(rub->points[i].value_nano, equity[i]);
        CHECK_EQ_INT(rub->points[i].time_ns, SCN_T0 + (int64_t)i * SCN_MIN);
        CHECK_EQ_INT(rub->points[i].sample, i);
        CHECK_EQ_INT(rub->points[i].peak_nano, i == 0 ? 10000 * N : 10099 * N + 500000000);
    }
    const report_position *sber = &a.positions[0];
    CHECK_EQ_INT(sber->instrument, 0);
    CHECK_EQ_INT(sber->position_units, 5);
    CHECK_EQ_INT(sber->cost_nano, 500 * N);
    CHECK_EQ_INT(sber->mark_nano, 107 * N);
    CHECK(sber->marked_by_close);
    CHECK_EQ_INT(sber->bought_units, 10);
    CHECK_EQ_INT(sber->sold_units, 5);
    report_account_free(&a);

    /* beta: short 4 at 50, bought 6 at 40: 4 closed (+40), 2 long at 40 marked at 45 (+10). */
    report_account_result b;
    CHECK_EQ_INT(report_account_compute(&p, 1, &b, &why), 0);
    const report_currency *usd = &b.currencies[0];
    CHECK(strcmp(usd->currency, "usd") == 0);
    CHECK_EQ_INT(usd->realised_nano, 40 * N);
    CHECK_EQ_INT(usd->unrealised_nano, 10 * N);
    CHECK_EQ_INT(usd->final_cash_nano, 960 * N);
    CHECK_EQ_INT(usd->final_equity_nano, 1050 * N);
    CHECK_EQ_INT(usd->drawdown_nano, 0);
    CHECK_EQ_INT(usd->samples_in_position, 7);
    CHECK_EQ_INT(usd->max_gross_nano, 200 * N);
    CHECK(near(usd->max_gross_pct, 20.0));
    CHECK_EQ_INT(b.positions[0].position_units, 2);
    CHECK_EQ_INT(b.positions[0].cost_nano, 80 * N);
    report_account_free(&b);

    /* gamma: flat cash, no position, no trades. */
    report_account_result g;
    CHECK_EQ_INT(report_account_compute(&p, 2, &g, &why), 0);
    CHECK_EQ_INT(g.fills, 0);
    CHECK_EQ_INT(g.position_count, 0);
    CHECK_EQ_INT(g.currencies[0].final_equity_nano, 5000 * N);
    CHECK_EQ_INT(g.currencies[0].samples_in_position, 0);
    CHECK(near(g.currencies[0].exposure_pct, 0));
    CHECK(near(g.currencies[0].return_pct, 0));
    report_account_free(&g);
    report_prepared_free(&p);
}

/* A partial close's share of cost is rounded to the nearest nano, and closing the rest takes
 * the rest: buy 3 at 0.000000001 + 1 at 0.000000002 (cost 5 nano), sell 1 (share 1.25 -> 1),
 * sell 3 (the remaining 4). */
static void test_average_cost_rounding(void) {
    static const report_price prices[] = {{SCN_T0, 1}};
    static const report_instrument ins[] = {{"u", "T", NULL, "rub", 1, prices, 1}};
    static const report_account acc[] = {{"a", NULL, NULL, 0}};
    static const report_fill fills[] = {
        {0, 0, SCN_T0, true, 3, 1, 3, 0},
        {0, 0, SCN_T0, true, 1, 2, 2, 0},
        {0, 0, SCN_T0, false, 1, 3, 3, 0},
        {0, 0, SCN_T0, false, 3, 3, 9, 0},
    };
    report_input in = {SCN_T0, SCN_T0, SCN_T0, "r", 0, acc, 1, ins, 1, fills, 4};
    report_prepared p;
    report_account_result r;
    CHECK_EQ_INT(report_prepare(&in, &p, NULL), 0);
    CHECK_EQ_INT(report_account_compute(&p, 0, &r, NULL), 0);
    CHECK_EQ_INT(r.positions[0].position_units, 0);
    CHECK_EQ_INT(r.positions[0].cost_nano, 0);
    CHECK_EQ_INT(r.positions[0].realised_nano, (3 - 1) + (9 - 4)); /* proceeds - shares */
    CHECK_EQ_INT(r.currencies[0].net_pnl_nano, 7);
    CHECK_EQ_INT(r.currencies[0].final_cash_nano, 7);
    CHECK(!r.currencies[0].return_pct_known); /* no opening cash: no return */
    report_account_free(&r);
    report_prepared_free(&p);
}

static void test_deterministic(void) {
    report_input in = scn_input();
    int (*writers[2])(const report_input *, FILE *, const char **) = {report_write_json,
                                                                      report_write_html};
    for (int w = 0; w < 2; w++) {
        char *one = NULL, *two = NULL;
        size_t one_len = 0, two_len = 0;
        CHECK_EQ_INT(write_mem(writers[w], &in, &one, &one_len, NULL), 0);
        CHECK_EQ_INT(write_mem(writers[w], &in, &two, &two_len, NULL), 0);
        CHECK(one_len > 1000);
        CHECK(one_len == two_len && memcmp(one, two, one_len) == 0);
        free(one);
        free(two);
    }
}

/* Each bad input is refused with its reason, and neither writer writes a byte. */
static void refused(const report_input *in, int want, const char *why_part) {
    int (*writers[2])(const report_input *, FILE *, const char **) = {report_write_json,
                                                                      report_write_html};
    for (int w = 0; w < 2; w++) {
        char *text = NULL;
        size_t len = 0;
        const char *why = NULL;
        CHECK_EQ_INT(write_mem(writers[w], in, &text, &len, &why), want);
        CHECK_EQ_INT(len, 0);
        CHECK(why != NULL && strstr(why, why_part) != NULL);
        if (why == NULL || strstr(why, why_part) == NULL)
            fprintf(stderr, "  expected \"%s\" in \"%s\"\n", why_part, why ? why : "(null)");
        free(text);
    }
}

static void test_refusals(void) {
    report_input in = scn_input();
    report_fill fills[4];
    memcpy(fills, scn_fills, sizeof fills);
    in.fills = fills;

    fills[2].time_ns = SCN_T0 - 1; /* before the period, and before the fill ahead of it */
    refused(&in, -EINVAL, "time outside");
    fills[2].time_ns = SCN_T0 + 10; /* out of order: the fill ahead is at 10:00:30 */
    refused(&in, -EINVAL, "out of time order");
    memcpy(fills, scn_fills, sizeof fills);
    fills[1].account = 3;
    refused(&in, -EINVAL, "account index");
    memcpy(fills, scn_fills, sizeof fills);
    fills[1].instrument = 2;
    refused(&in, -EINVAL, "instrument index");
    memcpy(fills, scn_fills, sizeof fills);
    fills[1].value_nano += 1;
    refused(&in, -EINVAL, "price x units");
    memcpy(fills, scn_fills, sizeof fills);
    fills[1].units = 7; /* SBER's lot is 5 */
    fills[1].value_nano = 700 * N;
    refused(&in, -EINVAL, "lots");
    memcpy(fills, scn_fills, sizeof fills);
    fills[1].commission_nano = -1;
    refused(&in, -EINVAL, "commission");
    memcpy(fills, scn_fills, sizeof fills);
    fills[3].time_ns = SCN_T0 + 7 * SCN_MIN; /* after now */
    refused(&in, -EINVAL, "time outside");

    in = scn_input();
    in.now_ns = SCN_T0 + 5 * SCN_MIN; /* SBER has a close at 10:06 */
    in.fill_count = 3;
    refused(&in, -EINVAL, "a price after now");
    in = scn_input();
    in.to_ns = in.from_ns - 1;
    refused(&in, -EINVAL, "from after to");
    in = scn_input();
    in.title = "bad \xC3\x28 text";
    refused(&in, -EINVAL, "UTF-8");

    report_instrument ins[2];
    memcpy(ins, scn_instruments, sizeof ins);
    in = scn_input();
    in.instruments = ins;
    ins[0].currency = "RUB";
    refused(&in, -EINVAL, "currency");
    memcpy(ins, scn_instruments, sizeof ins);
    ins[0].lot = 0;
    refused(&in, -EINVAL, "lot");
    report_price unsorted[2] = {{SCN_T0 + SCN_MIN, N}, {SCN_T0 + SCN_MIN, N}};
    memcpy(ins, scn_instruments, sizeof ins);
    ins[1].prices = unsorted;
    ins[1].price_count = 2;
    refused(&in, -EINVAL, "strictly increasing");

    report_money twice[2] = {{"rub", N}, {"rub", N}};
    report_account acc[3];
    memcpy(acc, scn_accounts, sizeof acc);
    in = scn_input();
    in.accounts = acc;
    acc[2].opening = twice;
    acc[2].opening_count = 2;
    refused(&in, -EINVAL, "twice");
    memcpy(acc, scn_accounts, sizeof acc);
    acc[0].id = "";
    refused(&in, -EINVAL, "id");
}

/* A sum past int64 nano is refused, never wrapped, and nothing is written. */
static void test_overflow(void) {
    report_input in = scn_input();
    report_account acc[3];
    memcpy(acc, scn_accounts, sizeof acc);
    report_money rich[1] = {{"rub", INT64_MAX - 50 * N}};
    acc[0].opening = rich;
    in.accounts = acc;
    /* after the buy, cash is 1000.5 lower and the 10 held are worth 1100 at 10:01: past INT64_MAX
     */
    refused(&in, -EOVERFLOW, "int64");

    /* A position worth more than int64 nano at its close. */
    static const report_price huge[] = {{SCN_T0, INT64_MAX / 2}};
    static const report_instrument ins[] = {{"u", "T", NULL, "rub", 1, huge, 1}};
    static const report_account one[] = {{"a", NULL, NULL, 0}};
    static const report_fill fills[] = {{0, 0, SCN_T0, true, 1, 1, 1, 0},
                                        {0, 0, SCN_T0, true, 2, 1, 2, 0}};
    report_input big = {SCN_T0, SCN_T0, SCN_T0, "r", 0, one, 1, ins, 1, fills, 2};
    refused(&big, -EOVERFLOW, "value");
}

static void test_io_error(void) {
    report_input in = scn_input();
    char buf[16] = {0};
    FILE *f = fmemopen(buf, sizeof buf, "r"); /* a stream that cannot be written */
    CHECK(f != NULL);
    const char *why = NULL;
    CHECK_EQ_INT(report_write_json(&in, f, &why), -EIO);
    CHECK(why != NULL);
    fclose(f);
}

static int64_t json_money(json_t *obj, const char *key) {
    const char *text = json_string_value(json_object_get(obj, key));
    int64_t v = INT64_MIN;
    CHECK(text != NULL);
    if (text != NULL)
        CHECK_EQ_INT(money_parse_decimal(text, &v), 0);
    return v;
}

static void test_json(void) {
    report_input in = scn_input();
    report_account acc[3];
    memcpy(acc, scn_accounts, sizeof acc);
    acc[1].name = "Quote \" back\\slash \xD0\x96 tab\t<script>";
    in.accounts = acc;
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ_INT(write_mem(report_write_json, &in, &text, &len, NULL), 0);
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err);
    CHECK(root != NULL);
    if (root == NULL) {
        fprintf(stderr, "json: %s at line %d\n", err.text, err.line);
        free(text);
        return;
    }
    CHECK(strcmp(json_string_value(json_object_get(root, "fingerprint")), "0123456789abcdef") == 0);
    json_t *period = json_object_get(root, "period");
    CHECK(strcmp(json_string_value(json_object_get(period, "from")), "2024-01-02T10:00:00Z") == 0);
    CHECK(strcmp(json_string_value(json_object_get(root, "now")), "2024-01-02T10:06:00Z") == 0);
    json_t *accounts = json_object_get(root, "accounts");
    CHECK_EQ_INT(json_array_size(accounts), 3);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(accounts, 1), "name")),
                 acc[1].name) == 0);

    /* Every number of alpha's summary equals the computed one. */
    report_prepared p;
    report_account_result a;
    CHECK_EQ_INT(report_prepare(&in, &p, NULL), 0);
    CHECK_EQ_INT(report_account_compute(&p, 0, &a, NULL), 0);
    const report_currency *c = &a.currencies[0];
    json_t *alpha = json_array_get(accounts, 0);
    json_t *rub = json_array_get(json_object_get(alpha, "currencies"), 0);
    CHECK_EQ_INT(json_money(rub, "final_equity"), c->final_equity_nano);
    CHECK_EQ_INT(json_money(rub, "opening_equity"), c->opening_equity_nano);
    CHECK_EQ_INT(json_money(rub, "realised_pnl"), c->realised_nano);
    CHECK_EQ_INT(json_money(rub, "unrealised_pnl"), c->unrealised_nano);
    CHECK_EQ_INT(json_money(rub, "fees"), c->fees_nano);
    CHECK_EQ_INT(json_money(rub, "turnover"), c->turnover_nano);
    CHECK_EQ_INT(json_money(rub, "net_pnl"), c->net_pnl_nano);
    CHECK_EQ_INT(json_money(rub, "final_equity"), 10074 * N + 230000000);
    CHECK(near(json_real_value(json_object_get(rub, "return_pct")), 0.7423));
    json_t *dd = json_object_get(rub, "max_drawdown");
    CHECK_EQ_INT(json_money(dd, "amount"), 40 * N + 270000000);
    CHECK(strcmp(json_string_value(json_object_get(dd, "trough_time")), "2024-01-02T10:03:00Z") ==
          0);
    json_t *exposure = json_object_get(rub, "exposure");
    CHECK_EQ_INT(json_integer_value(json_object_get(exposure, "samples_in_position")), 6);
    CHECK_EQ_INT(json_money(exposure, "max_gross_position"), 1100 * N);
    json_t *points = json_object_get(rub, "equity");
    CHECK_EQ_INT(json_array_size(points), c->point_count);
    for (uint32_t i = 0; i < c->point_count && i < json_array_size(points); i++) {
        int64_t v = 0;
        const char *value = json_string_value(json_array_get(json_array_get(points, i), 1));
        CHECK(value != NULL && money_parse_decimal(value, &v) == 0);
        CHECK_EQ_INT(v, c->points[i].value_nano);
    }
    json_t *sber = json_array_get(json_object_get(alpha, "instruments"), 0);
    CHECK(strcmp(json_string_value(json_object_get(sber, "ticker")), "SBER") == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(sber, "position_units")), 5);
    CHECK_EQ_INT(json_money(sber, "realised_pnl"), 40 * N);
    json_t *fills = json_object_get(sber, "fills");
    CHECK_EQ_INT(json_array_size(fills), 2);
    json_t *sell = json_array_get(fills, 1);
    CHECK(strcmp(json_string_value(json_object_get(sell, "side")), "sell") == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(sell, "lots")), 1);
    CHECK_EQ_INT(json_money(sell, "commission"), 270000000);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(fills, 0), "time")),
                 "2024-01-02T10:00:30Z") == 0);
    /* gamma: no instruments, a flat curve */
    json_t *gamma = json_array_get(accounts, 2);
    CHECK_EQ_INT(json_array_size(json_object_get(gamma, "instruments")), 0);
    report_account_free(&a);
    report_prepared_free(&p);
    json_decref(root);
    free(text);
}

static void test_html(void) {
    report_input in = scn_input();
    report_account acc[3];
    memcpy(acc, scn_accounts, sizeof acc);
    acc[0].name = "<script>\"&'";
    report_instrument ins[2];
    memcpy(ins, scn_instruments, sizeof ins);
    ins[0].name = "Sber <b>bank</b> & \"co\"";
    in.accounts = acc;
    in.instruments = ins;
    in.title = "Replay <i>'1'</i>";
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ_INT(write_mem(report_write_html, &in, &text, &len, NULL), 0);
    CHECK(strstr(text, "&lt;script&gt;&quot;&amp;&#39;") != NULL);
    CHECK(strstr(text, "<script") == NULL); /* no script at all, and no name unescaped */
    CHECK(strstr(text, "Sber &lt;b&gt;bank&lt;/b&gt; &amp; &quot;co&quot;") != NULL);
    CHECK(strstr(text, "<b>bank") == NULL);
    CHECK(strstr(text, "Replay &lt;i&gt;&#39;1&#39;&lt;/i&gt;") != NULL);
    /* Nothing external: no URL, no link or import. */
    CHECK(strstr(text, "http") == NULL);
    CHECK(strstr(text, "<link") == NULL);
    CHECK(strstr(text, "@import") == NULL);
    /* The headline numbers with their exact values, and the charts with their markers. */
    CHECK(strstr(text, "data-metric=\"final-equity\" data-value=\"10074.23\"") != NULL);
    CHECK(strstr(text, "data-metric=\"realised\" data-value=\"40\"") != NULL);
    CHECK(strstr(text, "data-metric=\"unrealised\" data-value=\"35\"") != NULL);
    CHECK(strstr(text, "data-metric=\"fees\" data-value=\"0.77\"") != NULL);
    CHECK(strstr(text, "data-metric=\"drawdown\" data-value=\"40.27\"") != NULL);
    size_t marks = 0, equity = 0;
    for (const char *p = text; (p = strstr(p, "class=\"mark ")) != NULL; p++)
        marks++;
    for (const char *p = text; (p = strstr(p, "class=\"equity\"")) != NULL; p++)
        equity++;
    CHECK_EQ_INT(marks, 4);                   /* every fill */
    CHECK_EQ_INT(equity, 3);                  /* one curve per account and currency */
    CHECK(strstr(text, "no trades") != NULL); /* gamma */
    CHECK(strstr(text, "10\xE2\x80\xAF"
                       "074.23") != NULL); /* grouped for reading */
    free(text);
}

/* A long curve is drawn with at most REPORT_MAX_POINTS points that keep its first and last
 * samples and its lowest and highest; the drawdown is the full curve's. */
static void test_downsampling(void) {
    enum { MINUTES = 20000 };
    report_price *prices = malloc(MINUTES * sizeof *prices);
    CHECK(prices != NULL);
    uint64_t seed = 42;
    int64_t price = 1000 * N;
    for (uint32_t i = 0; i < MINUTES; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        price += ((int64_t)(seed >> 33) % 2001 - 1000) * 1000000; /* ±1 */
        prices[i] = (report_price){SCN_T0 + (int64_t)i * SCN_MIN, price};
    }
    report_instrument ins[] = {{"u", "T", NULL, "rub", 1, prices, MINUTES}};
    report_money cash[] = {{"rub", 0}};
    report_account acc[] = {{"a", NULL, cash, 1}};
    report_fill fills[] = {{0, 0, SCN_T0, true, 1, 1000 * N, 1000 * N, 0}};
    report_input in = {SCN_T0,
                       SCN_T0 + (MINUTES - 1) * SCN_MIN,
                       SCN_T0 + (MINUTES - 1) * SCN_MIN,
                       "long",
                       0,
                       acc,
                       1,
                       ins,
                       1,
                       fills,
                       1};
    report_prepared p;
    report_account_result r;
    CHECK_EQ_INT(report_prepare(&in, &p, NULL), 0);
    CHECK_EQ_INT(p.sample_count, MINUTES);
    CHECK_EQ_INT(report_account_compute(&p, 0, &r, NULL), 0);
    const report_currency *c = &r.currencies[0];
    CHECK(c->point_count <= REPORT_MAX_POINTS);
    CHECK(c->point_count > REPORT_MAX_POINTS / 2);
    /* equity = cash (-1000) + the close: the curve is the price minus 1000 */
    int64_t lowest = INT64_MAX, highest = INT64_MIN, peak = 0, fall = 0;
    for (uint32_t i = 0; i < MINUTES; i++) {
        int64_t e = prices[i].close_nano - 1000 * N;
        lowest = e < lowest ? e : lowest;
        highest = e > highest ? e : highest;
        peak = e > peak ? e : peak;
        fall = peak - e > fall ? peak - e : fall;
    }
    CHECK_EQ_INT(c->drawdown_nano, fall);
    bool has_low = false, has_high = false, ordered = true;
    for (uint32_t i = 0; i < c->point_count; i++) {
        has_low |= c->points[i].value_nano == lowest;
        has_high |= c->points[i].value_nano == highest;
        if (i > 0 && c->points[i].sample <= c->points[i - 1].sample)
            ordered = false;
        CHECK_EQ_INT(c->points[i].value_nano, prices[c->points[i].sample].close_nano - 1000 * N);
    }
    CHECK(has_low && has_high && ordered);
    CHECK_EQ_INT(c->points[0].sample, 0);
    CHECK_EQ_INT(c->points[c->point_count - 1].sample, MINUTES - 1);
    report_account_free(&r);
    report_prepared_free(&p);
    free(prices);
}

static void test_text(void) {
    char t[REPORT_TIME_MAX];
    report_time_rfc3339(0, t);
    CHECK(strcmp(t, "1970-01-01T00:00:00Z") == 0);
    report_time_rfc3339(1709164800LL * N + 500000000, t); /* a leap day, half a second */
    CHECK(strcmp(t, "2024-02-29T00:00:00.5Z") == 0);
    report_time_rfc3339(-1, t); /* a nano before 1970 */
    CHECK(strcmp(t, "1969-12-31T23:59:59.999999999Z") == 0);
    report_time_rfc3339(951782400LL * N, t); /* 2000 is a leap year */
    CHECK(strcmp(t, "2000-02-29T00:00:00Z") == 0);
    report_time_rfc3339(4107542400LL * N, t); /* 2100 is not */
    CHECK(strcmp(t, "2100-03-01T00:00:00Z") == 0);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    report_json_string(f, "a\"b\\c\n\x01\xD0\x96");
    putc(' ', f);
    report_money_grouped(f, -1234567 * N - 890000000);
    putc(' ', f);
    report_money_grouped(f, 999 * N);
    fclose(f);
    CHECK(strcmp(text, "\"a\\\"b\\\\c\\n\\u0001\xD0\x96\" \xE2\x88\x92"
                       "1\xE2\x80\xAF"
                       "234\xE2\x80\xAF"
                       "567.89 999") == 0);
    free(text);
}

int main(void) {
    test_scenario_numbers();
    test_average_cost_rounding();
    test_deterministic();
    test_refusals();
    test_overflow();
    test_io_error();
    test_json();
    test_html();
    test_downsampling();
    test_text();
    return check_finish("report");
}
