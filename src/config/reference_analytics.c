/* Readers of fundamentals.json, asset_reports.json, forecasts.json, risk_rates.json,
 * insider_deals.json and structured_notes.json (docs/REFERENCE-DATA.md). Every entry naming an
 * instrument or an asset names one the universe has. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config/reference_common.h"

static refbook_analytics *analytics_of(config_loader *ld) {
    return &ld->cfg->analytics;
}

static void load_fundamentals(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "fundamentals.json: fundamentals[%u]", index);
    refbook_fundamentals *f = &analytics_of(ld)->fundamentals[index];
    f->asset_uid = cfg_string(ld, item, where, "asset_uid", NULL);
    if (!ld->failed && refbook_find_asset(&ld->cfg->assets, f->asset_uid) == NULL)
        cfg_fail(ld, "%s.asset_uid: no asset has uid \"%s\"", where, f->asset_uid);
    if (!ld->failed && refbook_find_fundamentals(analytics_of(ld), f->asset_uid) != NULL)
        cfg_fail(ld, "%s.asset_uid: \"%s\" is listed twice", where, f->asset_uid);
    f->currency = cfg_string(ld, item, where, "currency", "");
    f->domicile_indicator_code = cfg_string(ld, item, where, "domicile_indicator_code", "");
    f->ex_dividend_date_s = ref_time(ld, item, where, "ex_dividend_date", false);
    f->fiscal_period_start_date_s = ref_time(ld, item, where, "fiscal_period_start_date", false);
    f->fiscal_period_end_date_s = ref_time(ld, item, where, "fiscal_period_end_date", false);
    const char *key;
    json_t *value;
    json_object_foreach(item, key, value) {
        int field = refbook_fundamental_field_index(key);
        bool known = field >= 0 || strcmp(key, "asset_uid") == 0 || strcmp(key, "currency") == 0 ||
                     strcmp(key, "domicile_indicator_code") == 0 ||
                     strcmp(key, "ex_dividend_date") == 0 ||
                     strcmp(key, "fiscal_period_start_date") == 0 ||
                     strcmp(key, "fiscal_period_end_date") == 0;
        if (!known)
            cfg_fail(ld, "%s.%s: not an indicator of the contract", where, key);
        else if (field >= 0)
            f->values[field] = ref_number(ld, item, where, key);
        if (ld->failed)
            return;
        if (field >= 0 && !isfinite(f->values[field]))
            cfg_fail(ld, "%s.%s: must be finite", where, key);
    }
}

void config_read_fundamentals(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "fundamentals.json");
    if (root == NULL)
        return;
    refbook_analytics *a = analytics_of(ld);
    cfg_array(ld, root, "fundamentals", REFBOOK_MAX_FUNDAMENTALS, &a->fundamentals_count,
              load_fundamentals);
    json_decref(root);
}

static const char *const period_types[] = {"unspecified", "quarter", "semiannual", "annual"};

static void load_report(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "asset_reports.json: reports[%u]", index);
    refbook_asset_report *r = &analytics_of(ld)->reports[index];
    r->instrument = ref_instrument(ld, item, where, "instrument_uid");
    r->report_date_s = ref_time(ld, item, where, "report_date", true);
    r->created_at_s = ref_time(ld, item, where, "created_at", false);
    r->period_year = (int32_t)cfg_int(ld, item, where, "period_year", 0, 0, 2099);
    r->period_num = (int32_t)cfg_int(ld, item, where, "period_num", 0, 0, 12);
    r->period_type = ref_enum(ld, item, where, "period_type", period_types, 4, 0);
}

void config_read_asset_reports(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "asset_reports.json");
    if (root == NULL)
        return;
    refbook_analytics *a = analytics_of(ld);
    cfg_array(ld, root, "reports", REFBOOK_MAX_ASSET_REPORTS, &a->report_count, load_report);
    json_decref(root);
}

static const char *const recommendations[] = {"unspecified", "buy", "hold", "sell"};

static void load_consensus(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "forecasts.json: consensus[%u]", index);
    refbook_consensus *c = &analytics_of(ld)->consensus[index];
    c->instrument = ref_instrument(ld, item, where, "instrument_uid");
    if (!ld->failed && refbook_find_consensus(analytics_of(ld), c->instrument) != NULL)
        cfg_fail(ld, "%s.instrument_uid: the instrument has a consensus already", where);
    c->created_at_s = ref_time(ld, item, where, "created_at", false);
    c->prognosis_date_s = ref_time(ld, item, where, "prognosis_date", false);
    c->best_target_price_nano = cfg_money(ld, item, where, "best_target_price", "0");
    c->best_target_low_nano = cfg_money(ld, item, where, "best_target_low", "0");
    c->best_target_high_nano = cfg_money(ld, item, where, "best_target_high", "0");
    c->current_price_nano = cfg_money(ld, item, where, "current_price", "0");
    c->price_change_nano = cfg_money(ld, item, where, "price_change", "0");
    c->price_change_rel_nano = cfg_money(ld, item, where, "price_change_rel", "0");
    c->total_buy = (int32_t)cfg_int(ld, item, where, "total_buy_recommend", 0, 0, 100000);
    c->total_hold = (int32_t)cfg_int(ld, item, where, "total_hold_recommend", 0, 0, 100000);
    c->total_sell = (int32_t)cfg_int(ld, item, where, "total_sell_recommend", 0, 0, 100000);
    c->recommendation = ref_enum(ld, item, where, "consensus", recommendations, 4, 0);
    c->currency = cfg_string(ld, item, where, "currency", "");
}

static void load_target(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "forecasts.json: targets[%u]", index);
    refbook_target *t = &analytics_of(ld)->targets[index];
    t->instrument = ref_instrument(ld, item, where, "instrument_uid");
    t->company = cfg_string(ld, item, where, "company", NULL);
    t->show_name = cfg_string(ld, item, where, "show_name", "");
    t->currency = cfg_string(ld, item, where, "currency", "");
    t->recommendation = ref_enum(ld, item, where, "recommendation", recommendations, 4, 0);
    t->recommendation_date_s = ref_time(ld, item, where, "recommendation_date", false);
    t->current_price_nano = cfg_money(ld, item, where, "current_price", "0");
    t->target_price_nano = cfg_money(ld, item, where, "target_price", "0");
    t->price_change_nano = cfg_money(ld, item, where, "price_change", "0");
    t->price_change_rel_nano = cfg_money(ld, item, where, "price_change_rel", "0");
}

void config_read_forecasts(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "forecasts.json");
    if (root == NULL)
        return;
    refbook_analytics *a = analytics_of(ld);
    cfg_array(ld, root, "consensus", REFBOOK_MAX_CONSENSUS, &a->consensus_count, load_consensus);
    cfg_array(ld, root, "targets", REFBOOK_MAX_TARGETS, &a->target_count, load_target);
    json_decref(root);
}

static void load_rate(config_loader *ld, json_t *obj, const char *where, refbook_risk_rate *out) {
    out->risk_level_code = cfg_string(ld, obj, where, "risk_level_code", NULL);
    out->value_nano = cfg_money(ld, obj, where, "value", NULL);
}

static void load_rate_list(config_loader *ld, json_t *item, const char *where, const char *key,
                           refbook_risk_rate *out, uint32_t *count) {
    json_t *list = json_object_get(item, key);
    if (list == NULL)
        return;
    if (!json_is_array(list) || json_array_size(list) > REFBOOK_MAX_RISK_LEVELS) {
        cfg_fail(ld, "%s.%s: must be an array of at most %d rates", where, key,
                 REFBOOK_MAX_RISK_LEVELS);
        return;
    }
    size_t i;
    json_t *rate;
    json_array_foreach(list, i, rate) {
        char at[128];
        snprintf(at, sizeof at, "%s.%s[%zu]", where, key, i);
        if (!json_is_object(rate))
            cfg_fail(ld, "%s: must be an object", at);
        else
            load_rate(ld, rate, at, &out[i]);
        if (ld->failed)
            return;
        *count = (uint32_t)i + 1;
    }
}

static void load_risk_rates(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "risk_rates.json: risk_rates[%u]", index);
    refbook_risk_rates *r = &analytics_of(ld)->risk_rates[index];
    r->instrument = ref_instrument(ld, item, where, "instrument_uid");
    if (!ld->failed && refbook_find_risk_rates(analytics_of(ld), r->instrument) != NULL)
        cfg_fail(ld, "%s.instrument_uid: the instrument has risk rates already", where);
    json_t *rate = cfg_object(ld, item, where, "short_risk_rate");
    char at[128];
    if (rate != NULL && !ld->failed) {
        snprintf(at, sizeof at, "%s.short_risk_rate", where);
        r->has_short = true;
        load_rate(ld, rate, at, &r->short_rate);
    }
    rate = cfg_object(ld, item, where, "long_risk_rate");
    if (rate != NULL && !ld->failed) {
        snprintf(at, sizeof at, "%s.long_risk_rate", where);
        r->has_long = true;
        load_rate(ld, rate, at, &r->long_rate);
    }
    load_rate_list(ld, item, where, "short_risk_rates", r->short_rates, &r->short_count);
    load_rate_list(ld, item, where, "long_risk_rates", r->long_rates, &r->long_count);
}

void config_read_risk_rates(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "risk_rates.json");
    if (root == NULL)
        return;
    refbook_analytics *a = analytics_of(ld);
    cfg_array(ld, root, "risk_rates", REFBOOK_MAX_RISK_RATES, &a->risk_rates_count,
              load_risk_rates);
    json_decref(root);
}

static const char *const trade_directions[] = {"unspecified", "buy", "sell", "increase",
                                               "decrease"};

static void load_insider_deal(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "insider_deals.json: insider_deals[%u]", index);
    refbook_insider_deal *d = &analytics_of(ld)->insider_deals[index];
    d->instrument = ref_instrument(ld, item, where, "instrument_uid");
    d->trade_id = cfg_int(ld, item, where, "trade_id", 0, 0, INT64_MAX);
    d->direction = ref_enum(ld, item, where, "direction", trade_directions, 5, 0);
    d->currency = cfg_string(ld, item, where, "currency", "");
    d->date_s = ref_time(ld, item, where, "date", true);
    d->disclosure_date_s = ref_time(ld, item, where, "disclosure_date", false);
    d->quantity = cfg_int(ld, item, where, "quantity", 0, 0, INT64_MAX);
    d->price_nano = cfg_money(ld, item, where, "price", "0");
    d->investor_name = cfg_string(ld, item, where, "investor_name", "");
    d->investor_position = cfg_string(ld, item, where, "investor_position", "");
    double percentage = ref_number(ld, item, where, "percentage");
    if (!ld->failed && !(percentage >= 0 && percentage <= 100))
        cfg_fail(ld, "%s.percentage: must be in [0, 100]", where);
    d->percentage = (float)percentage;
    d->is_option_execution = cfg_bool(ld, item, where, "is_option_execution", false);
}

void config_read_insider_deals(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "insider_deals.json");
    if (root == NULL)
        return;
    refbook_analytics *a = analytics_of(ld);
    cfg_array(ld, root, "insider_deals", REFBOOK_MAX_INSIDER_DEALS, &a->insider_deal_count,
              load_insider_deal);
    json_decref(root);
}

static void load_note(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "structured_notes.json: structured_notes[%u]", index);
    refbook_analytics *a = analytics_of(ld);
    refbook_structured_note *n = &a->notes[index];
    n->uid = ref_uuid(ld, item, where, "uid");
    n->figi = cfg_string(ld, item, where, "figi", NULL);
    n->ticker = cfg_string(ld, item, where, "ticker", NULL);
    n->class_code = cfg_string(ld, item, where, "class_code", NULL);
    n->isin = cfg_string(ld, item, where, "isin", "");
    n->name = cfg_string(ld, item, where, "name", NULL);
    n->asset_uid = cfg_string(ld, item, where, "asset_uid", "");
    n->position_uid = cfg_string(ld, item, where, "position_uid", "");
    n->currency = cfg_string(ld, item, where, "currency", "rub");
    n->nominal_currency = cfg_string(ld, item, where, "nominal_currency", n->currency);
    n->exchange = cfg_string(ld, item, where, "exchange", "");
    n->borrow_name = cfg_string(ld, item, where, "borrow_name", "");
    n->type = cfg_string(ld, item, where, "type", "");
    n->issue_kind = cfg_string(ld, item, where, "issue_kind", "");
    n->sector = cfg_string(ld, item, where, "sector", "");
    n->country_of_risk = cfg_string(ld, item, where, "country_of_risk", "");
    n->country_of_risk_name = cfg_string(ld, item, where, "country_of_risk_name", "");
    n->lot = (int32_t)cfg_int(ld, item, where, "lot", 1, 1, 1000000000);
    n->min_price_increment_nano = cfg_money(ld, item, where, "min_price_increment", "0");
    n->nominal_nano = cfg_money(ld, item, where, "nominal", "0");
    n->maturity_date_s = ref_time(ld, item, where, "maturity_date", false);
    n->placement_date_s = ref_time(ld, item, where, "placement_date", false);
    n->issue_size = (int32_t)cfg_int(ld, item, where, "issue_size", 0, 0, INT32_MAX);
    n->issue_size_plan = (int32_t)cfg_int(ld, item, where, "issue_size_plan", 0, 0, INT32_MAX);
    n->asset_type = (int32_t)cfg_int(ld, item, where, "asset_type", 0, 0, 4);
    n->api_trade_available = cfg_bool(ld, item, where, "api_trade_available", false);
    n->for_qual_investor = cfg_bool(ld, item, where, "for_qual_investor", true);
    if (ld->failed)
        return;
    /* A note's identifiers must name nothing else: no instrument, no earlier note. */
    const refdata *rd = &ld->cfg->refdata;
    if (refdata_find_by_uid(rd, n->uid) != NULL || refdata_find_by_figi(rd, n->figi) != NULL ||
        refbook_find_note(a, 3, n->uid, NULL) != NULL ||
        refbook_find_note(a, 1, n->figi, NULL) != NULL)
        cfg_fail(ld, "%s: its uid or figi is another instrument's", where);
}

void config_read_structured_notes(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "structured_notes.json");
    if (root == NULL)
        return;
    refbook_analytics *a = analytics_of(ld);
    cfg_array(ld, root, "structured_notes", REFBOOK_MAX_STRUCTURED_NOTES, &a->note_count,
              load_note);
    json_decref(root);
}
