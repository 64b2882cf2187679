/* DESIGN: one function reads an instrument object wherever it comes from; only the JSON path in
 * its errors differs (`instruments[2]` in the configuration file, `instruments.json:
 * instruments[2]` in the reference file). Identifiers must be unique across both sources: two
 * instruments sharing a uid, a FIGI or a ticker and class code would make lookups ambiguous and
 * the data directory's pinned universe (engine/universe.h) meaningless. */
#include "config/instruments_load.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"

static instrument_kind parse_kind(config_loader *ld, const char *text, const char *where) {
    static const struct {
        const char *name;
        instrument_kind kind;
    } kinds[] = {{"share", INSTRUMENT_KIND_SHARE},       {"bond", INSTRUMENT_KIND_BOND},
                 {"etf", INSTRUMENT_KIND_ETF},           {"future", INSTRUMENT_KIND_FUTURE},
                 {"currency", INSTRUMENT_KIND_CURRENCY}, {"option", INSTRUMENT_KIND_OPTION}};
    for (size_t i = 0; text != NULL && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, text) == 0)
            return kinds[i].kind;
    cfg_fail(ld, "%s.type: must be share, bond, etf, future, currency or option", where);
    return INSTRUMENT_KIND_SHARE;
}

/* A word of a fixed list, as its contract enum value (the list's index + 1); 0 when absent. */
static int32_t cfg_word(config_loader *ld, json_t *obj, const char *where, const char *key,
                        const char *const *words, int32_t count) {
    const char *text = cfg_string(ld, obj, where, key, "");
    if (ld->failed || text[0] == '\0')
        return 0;
    for (int32_t i = 0; i < count; i++)
        if (strcmp(words[i], text) == 0)
            return i + 1;
    char list[160] = "";
    for (int32_t i = 0; i < count; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", words[i]);
    cfg_fail(ld, "%s.%s: \"%s\" is not one of %s", where, key, text, list);
    return 0;
}

static void load_option(config_loader *ld, instrument *ins, json_t *option, const char *where) {
    static const char *const directions[] = {"put", "call"};
    static const char *const payments[] = {"premium", "marginal"};
    static const char *const styles[] = {"american", "european"};
    static const char *const settlements[] = {"physical_delivery", "cash_settlement"};
    ins->basic_asset = cfg_string(ld, option, where, "basic_asset", "");
    ins->basic_asset_uid = cfg_string(ld, option, where, "basic_asset_uid", "");
    ins->basic_asset_position_uid = cfg_string(ld, option, where, "basic_asset_position_uid", "");
    ins->asset_type = cfg_string(ld, option, where, "asset_type", "");
    ins->settlement_currency = cfg_string(ld, option, where, "settlement_currency", ins->currency);
    ins->basic_asset_size_nano = cfg_money(ld, option, where, "basic_asset_size", "1");
    ins->strike_price_nano = cfg_money(ld, option, where, "strike_price", NULL);
    ins->option_direction = cfg_word(ld, option, where, "direction", directions, 2);
    ins->option_payment_type = cfg_word(ld, option, where, "payment_type", payments, 2);
    ins->option_style = cfg_word(ld, option, where, "style", styles, 2);
    ins->option_settlement_type = cfg_word(ld, option, where, "settlement_type", settlements, 2);
    ins->first_trade_date_s = cfg_date(ld, option, where, "first_trade_date");
    ins->last_trade_date_s = cfg_date(ld, option, where, "last_trade_date");
    ins->expiration_date_s = cfg_date(ld, option, where, "expiration_date");
    if (!ld->failed && ins->option_direction == 0)
        cfg_fail(ld, "%s.option.direction: required (put or call)", where);
    if (!ld->failed && ins->strike_price_nano <= 0)
        cfg_fail(ld, "%s.option.strike_price: must be positive", where);
}

/* A future's guarantee on one side: a decimal string, not negative; `fallback` when absent. */
static int64_t guarantee(config_loader *ld, json_t *future, const char *where, const char *key,
                         int64_t fallback) {
    if (json_object_get(future, key) == NULL)
        return fallback;
    int64_t nano = cfg_money(ld, future, where, key, NULL);
    if (!ld->failed && nano < 0)
        cfg_fail(ld, "%s.future.%s: must not be negative", where, key);
    return nano;
}

/* A risk rate: a decimal fraction from 0 to 1 (0: no rate on that side), in nano. */
static int64_t risk_rate(config_loader *ld, json_t *item, const char *where, const char *key) {
    int64_t nano = cfg_money(ld, item, where, key, "0");
    if (!ld->failed && (nano < 0 || nano > CONFIG_FRACTION_ONE_NANO))
        cfg_fail(ld, "%s.%s: a risk rate is a fraction from 0 to 1", where, key);
    return nano;
}

/* The risk rates of margin trading (dlong, dshort for the standard risk level, dlong_min,
 * dshort_min for the high one). A short rate on an instrument that may not be sold short would
 * promise what the broker refuses. */
static void load_risk_rates(config_loader *ld, instrument *ins, json_t *item, const char *where) {
    ins->dlong_nano = risk_rate(ld, item, where, "dlong");
    ins->dshort_nano = risk_rate(ld, item, where, "dshort");
    ins->dlong_min_nano = risk_rate(ld, item, where, "dlong_min");
    ins->dshort_min_nano = risk_rate(ld, item, where, "dshort_min");
    if (!ld->failed && !ins->short_enabled && (ins->dshort_nano > 0 || ins->dshort_min_nano > 0))
        cfg_fail(ld, "%s.%s: a short rate needs \"short_enabled\": true", where,
                 ins->dshort_nano > 0 ? "dshort" : "dshort_min");
}

static void load_kind_specific(config_loader *ld, instrument *ins, json_t *item,
                               const char *where) {
    json_t *bond = cfg_object(ld, item, where, "bond");
    if (bond != NULL) {
        ins->nominal_nano = cfg_money(ld, bond, where, "nominal", "1000");
        ins->nominal_currency = cfg_string(ld, bond, where, "nominal_currency", ins->currency);
        ins->maturity_date_s = cfg_date(ld, bond, where, "maturity_date");
        ins->placement_date_s = cfg_date(ld, bond, where, "placement_date");
        ins->coupon_quantity_per_year =
            (int32_t)cfg_int(ld, bond, where, "coupon_quantity_per_year", 2, 0, 365);
        ins->aci_value_nano = cfg_money(ld, bond, where, "aci_value", "0");
    }
    json_t *future = cfg_object(ld, item, where, "future");
    if (future != NULL) {
        ins->basic_asset = cfg_string(ld, future, where, "basic_asset", "");
        ins->futures_type = cfg_string(ld, future, where, "futures_type", "");
        ins->asset_type = cfg_string(ld, future, where, "asset_type", "");
        ins->basic_asset_size_nano = cfg_money(ld, future, where, "basic_asset_size", "1");
        ins->first_trade_date_s = cfg_date(ld, future, where, "first_trade_date");
        ins->last_trade_date_s = cfg_date(ld, future, where, "last_trade_date");
        ins->expiration_date_s = cfg_date(ld, future, where, "expiration_date");
        ins->min_price_increment_amount_nano =
            cfg_money(ld, future, where, "min_price_increment_amount", "0");
        ins->initial_margin_nano = cfg_money(ld, future, where, "initial_margin", "0");
        ins->initial_margin_on_buy_nano =
            guarantee(ld, future, where, "initial_margin_on_buy", ins->initial_margin_nano);
        ins->initial_margin_on_sell_nano =
            guarantee(ld, future, where, "initial_margin_on_sell", ins->initial_margin_nano);
    }
    json_t *currency = cfg_object(ld, item, where, "currency_pair");
    if (currency != NULL)
        ins->iso_currency_name = cfg_string(ld, currency, where, "iso_currency_name", "");
    json_t *share = cfg_object(ld, item, where, "share");
    if (share != NULL)
        ins->issue_size = cfg_int(ld, share, where, "issue_size", 0, 0, INT64_MAX);
    json_t *etf = cfg_object(ld, item, where, "etf");
    if (etf != NULL)
        ins->focus_type = cfg_string(ld, etf, where, "focus_type", "");
    json_t *option = cfg_object(ld, item, where, "option");
    if (!ld->failed && ins->kind == INSTRUMENT_KIND_OPTION && option == NULL)
        cfg_fail(ld, "%s.option: an option needs its \"option\" object (strike, direction)", where);
    if (option != NULL)
        load_option(ld, ins, option, where);
}

/* The first earlier instrument holding one of `ins`'s identifiers, or NULL. */
static const char *duplicate_of(const refdata *rd, const instrument *ins, uint32_t *other) {
    for (uint32_t j = 0; j < ins->index; j++) {
        const instrument *o = &rd->instruments[j];
        *other = j;
        if (ins->uid[0] != '\0' && strcmp(o->uid, ins->uid) == 0)
            return "uid";
        if (ins->figi[0] != '\0' && strcmp(o->figi, ins->figi) == 0)
            return "figi";
        if (ins->ticker[0] != '\0' && strcmp(o->ticker, ins->ticker) == 0 &&
            strcmp(o->class_code, ins->class_code) == 0)
            return "ticker";
        if (ins->position_uid[0] != '\0' && strcmp(o->position_uid, ins->position_uid) == 0)
            return "position_uid";
    }
    return NULL;
}

static void check_instrument(config_loader *ld, const instrument *ins, const char *where) {
    /* A bond is valued as a percent of its nominal: without one every order of it is free. */
    if (!ld->failed && ins->kind == INSTRUMENT_KIND_BOND && ins->nominal_nano <= 0)
        cfg_fail(ld, "%s.bond.nominal: a bond needs a positive nominal", where);
    if (!ld->failed && ins->kind != INSTRUMENT_KIND_OPTION && ins->figi[0] == '\0')
        cfg_fail(ld, "%s.figi: required (only an option may have none)", where);
    /* The uid may be left out where it is not known (docs/REFERENCE-DATA.md, "Unverified
     * fields"); the FIGI then names the instrument. An option has only its uid. */
    if (!ld->failed && ins->uid[0] == '\0' && ins->figi[0] == '\0')
        cfg_fail(ld, "%s.uid: an instrument without a figi needs a uid", where);
    /* The data directory pins instruments by these (engine/universe.h): one line each. */
    if (!ld->failed && (strlen(ins->uid) > 64 || strlen(ins->figi) > 64))
        cfg_fail(ld, "%s: uid and figi must be at most 64 characters", where);
    if (!ld->failed && ins->min_price_increment_nano <= 0)
        cfg_fail(ld, "%s.min_price_increment: must be positive", where);
    if (!ld->failed && ins->reference_price_nano <= 0)
        cfg_fail(ld, "%s.reference_price: must be positive", where);
    /* No order's value may pass CORE_MAX_MONEY_NANO; the exchange's price band around the
     * reference is then sure to fit in int64. */
    if (!ld->failed && ins->reference_price_nano > CORE_MAX_MONEY_NANO)
        cfg_fail(ld, "%s.reference_price: must be at most 1000000000", where);
    if (!ld->failed && ins->reference_price_nano % ins->min_price_increment_nano != 0)
        cfg_fail(ld, "%s.reference_price: must be a multiple of min_price_increment", where);
    uint32_t other = 0;
    const char *dup = ld->failed ? NULL : duplicate_of(&ld->cfg->refdata, ins, &other);
    if (dup != NULL)
        cfg_fail(ld, "%s.%s: already held by instrument %u (\"%s\")", where, dup, other,
                 ld->cfg->refdata.instruments[other].name);
}

static void load_instrument(config_loader *ld, json_t *item, uint32_t index, const char *where) {
    instrument *ins = &ld->cfg->refdata.instruments[index];
    ins->index = index;
    ins->kind = parse_kind(ld, cfg_string(ld, item, where, "type", NULL), where);
    ins->figi =
        cfg_string(ld, item, where, "figi", ins->kind == INSTRUMENT_KIND_OPTION ? "" : NULL);
    ins->ticker = cfg_string(ld, item, where, "ticker", "");
    ins->class_code = cfg_string(ld, item, where, "class_code", NULL);
    ins->uid = cfg_string(ld, item, where, "uid", "");
    ins->position_uid = cfg_string(ld, item, where, "position_uid", "");
    ins->asset_uid = cfg_string(ld, item, where, "asset_uid", "");
    ins->isin = cfg_string(ld, item, where, "isin", "");
    ins->name = cfg_string(ld, item, where, "name", NULL);
    ins->currency = cfg_string(ld, item, where, "currency", "rub");
    ins->exchange = cfg_string(ld, item, where, "exchange", "MOEX");
    ins->country_of_risk = cfg_string(ld, item, where, "country_of_risk", "RU");
    ins->sector = cfg_string(ld, item, where, "sector", "");
    ins->lot = (int32_t)cfg_int(ld, item, where, "lot", 1, 1, 1000000000);
    ins->min_price_increment_nano = cfg_money(ld, item, where, "min_price_increment", NULL);
    ins->reference_price_nano = cfg_money(ld, item, where, "reference_price", NULL);
    ins->price_band_bp = (int32_t)cfg_int(ld, item, where, "price_band_bp", 2000, 1, 9999);
    ins->trading_status = (int32_t)cfg_int(ld, item, where, "trading_status", 5, 0, 16);
    ins->api_trade_available = cfg_bool(ld, item, where, "api_trade_available", true);
    ins->buy_available = cfg_bool(ld, item, where, "buy_available", true);
    ins->sell_available = cfg_bool(ld, item, where, "sell_available", true);
    ins->short_enabled = cfg_bool(ld, item, where, "short_enabled", false);
    ins->for_qual_investor = cfg_bool(ld, item, where, "for_qual_investor", false);
    ins->weekend_available = cfg_bool(ld, item, where, "weekend_available", true);
    ins->dealer = cfg_bool(ld, item, where, "dealer", false);
    load_risk_rates(ld, ins, item, where);
    if (ld->failed)
        return;
    load_kind_specific(ld, ins, item, where);
    check_instrument(ld, ins, where);
}

/* Appends each object of `array` after the instruments already loaded. */
static void load_array(config_loader *ld, json_t *array, const char *source) {
    refdata *rd = &ld->cfg->refdata;
    if (!json_is_array(array)) {
        cfg_fail(ld, "%sinstruments: must be an array", source);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item) {
        char where[64];
        snprintf(where, sizeof where, "%sinstruments[%zu]", source, i);
        if (rd->instrument_count == REFDATA_MAX_INSTRUMENTS) {
            cfg_fail(ld, "%s: more than %d instruments in all", where, REFDATA_MAX_INSTRUMENTS);
            return;
        }
        if (!json_is_object(item)) {
            cfg_fail(ld, "%s: must be an object", where);
            return;
        }
        load_instrument(ld, item, rd->instrument_count, where);
        if (ld->failed)
            return;
        rd->instrument_count++;
    }
}

void config_load_inline_instruments(config_loader *ld, json_t *root) {
    json_t *array = json_object_get(root, "instruments");
    if (array != NULL && !ld->failed)
        load_array(ld, array, "");
}

void config_load_instrument_file(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "instruments.json");
    if (root == NULL)
        return;
    json_t *array = json_object_get(root, "instruments");
    if (array == NULL)
        cfg_fail(ld, "instruments.json: instruments: required array is missing");
    else
        load_array(ld, array, "instruments.json: ");
    json_decref(root);
}
