/* The payment calendar's files (docs/REFERENCE-DATA.md): bond_coupons.json, bond_events.json and
 * dividends.json, read into the configuration's calendar (refbook/calendar.h).
 *
 * DESIGN: the three files are opened first and their entries counted, so the calendar's arrays
 * are allocated once at their exact size (each count bounded by its CALENDAR_MAX_* limit); then
 * each file is loaded whole. Every problem names its file and JSON path. */
#include "config/calendar_reader.h"

#include <stdio.h>
#include <string.h>

#include "util/money.h"

#define COUPONS_FILE "bond_coupons.json"
#define EVENTS_FILE "bond_events.json"
#define DIVIDENDS_FILE "dividends.json"

/* One file's layout: its top-level array, each item's instrument and its array of entries. */
typedef struct calendar_file {
    const char *name;
    const char *list_key;    /* "bonds" or "instruments" */
    const char *entries_key; /* "coupons", "events" or "dividends" */
    uint32_t max_per_instrument, max_total;
    json_t *root;
    uint32_t total;
} calendar_file;

/* Counts the file's entries, checking the shape the counting relies on and both bounds. */
static void count_entries(config_loader *ld, calendar_file *f) {
    if (f->root == NULL)
        return;
    json_t *list = json_object_get(f->root, f->list_key);
    if (list == NULL)
        return;
    if (!json_is_array(list) || json_array_size(list) > REFDATA_MAX_INSTRUMENTS) {
        cfg_fail(ld, "%s: %s: must be an array of at most %u entries", f->name, f->list_key,
                 REFDATA_MAX_INSTRUMENTS);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        if (!json_is_object(item)) {
            cfg_fail(ld, "%s: %s[%zu]: must be an object", f->name, f->list_key, i);
            return;
        }
        json_t *entries = json_object_get(item, f->entries_key);
        if (entries == NULL)
            continue;
        if (!json_is_array(entries) || json_array_size(entries) > f->max_per_instrument) {
            cfg_fail(ld, "%s: %s[%zu].%s: must be an array of at most %u entries", f->name,
                     f->list_key, i, f->entries_key, f->max_per_instrument);
            return;
        }
        f->total += (uint32_t)json_array_size(entries);
        if (f->total > f->max_total) {
            cfg_fail(ld, "%s: more than %u %s in all", f->name, f->max_total, f->entries_key);
            return;
        }
    }
}

/* A required date "YYYY-MM-DD". */
static int64_t required_date(config_loader *ld, json_t *obj, const char *where, const char *key) {
    if (json_object_get(obj, key) == NULL) {
        cfg_fail(ld, "%s.%s: required date is missing", where, key);
        return 0;
    }
    return cfg_date(ld, obj, where, key);
}

/* A time "YYYY-MM-DDTHH:MM:SSZ" (UTC), or a date; 0 when absent. */
static int64_t optional_time(config_loader *ld, json_t *obj, const char *where, const char *key) {
    json_t *value = json_object_get(obj, key);
    if (value == NULL)
        return 0;
    int year, month, day, hour, minute, second;
    char tail;
    if (json_is_string(value) &&
        sscanf(json_string_value(value), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &year, &month, &day, &hour,
               &minute, &second, &tail) == 6 &&
        month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 &&
        second < 60) {
        return cfg_utc_seconds(year, month, day, hour, minute, second);
    }
    if (json_is_string(value) && strchr(json_string_value(value), 'T') == NULL)
        return cfg_date(ld, obj, where, key);
    cfg_fail(ld, "%s.%s: must be a time \"YYYY-MM-DDTHH:MM:SSZ\"", where, key);
    return 0;
}

/* An optional decimal string; *has tells whether it was there. */
static int64_t optional_money(config_loader *ld, json_t *obj, const char *where, const char *key,
                              bool *has) {
    *has = json_object_get(obj, key) != NULL;
    return *has ? cfg_money(ld, obj, where, key, NULL) : 0;
}

/* An enum given by its contract name ("COUPON_TYPE_FIX"); `names[v]` is value v's name, and
 * `first` the first value the file may give. Absent: `first` when `optional`, else an error. */
static int32_t enum_value(config_loader *ld, json_t *obj, const char *where, const char *key,
                          const char *const *names, int32_t count, int32_t first, bool optional) {
    const char *text = cfg_string(ld, obj, where, key, optional ? names[first] : NULL);
    if (text == NULL)
        return 0;
    for (int32_t v = first; v < count; v++)
        if (strcmp(text, names[v]) == 0)
            return v;
    cfg_fail(ld, "%s.%s: \"%s\" is not a value of the contract's enum", where, key, text);
    return 0;
}

static const char *const coupon_type_names[CALENDAR_COUPON_TYPE_MAX + 1] = {
    "COUPON_TYPE_UNSPECIFIED", "COUPON_TYPE_CONSTANT", "COUPON_TYPE_FLOATING",
    "COUPON_TYPE_DISCOUNT",    "COUPON_TYPE_MORTGAGE", "COUPON_TYPE_FIX",
    "COUPON_TYPE_VARIABLE",    "COUPON_TYPE_OTHER",
};

static const char *const event_type_names[CALENDAR_EVENT_TYPE_MAX + 1] = {
    "EVENT_TYPE_UNSPECIFIED", "EVENT_TYPE_CPN",  "EVENT_TYPE_CALL",
    "EVENT_TYPE_MTY",         "EVENT_TYPE_CONV",
};

/* The instrument an item names by `instrument_id` (a FIGI, a uid or TICKER_CLASSCODE): it must
 * be in the universe, and of a kind the file is about. */
static const instrument *item_instrument(config_loader *ld, json_t *item, const char *where,
                                         bool bonds_only) {
    const char *id = cfg_string(ld, item, where, "instrument_id", NULL);
    if (id == NULL)
        return NULL;
    const instrument *ins = refdata_find_instrument_id(&ld->cfg->refdata, id);
    if (ins == NULL) {
        cfg_fail(ld, "%s.instrument_id: \"%s\" is not an instrument of the configuration", where,
                 id);
        return NULL;
    }
    if (bonds_only && ins->kind != INSTRUMENT_KIND_BOND)
        cfg_fail(ld, "%s.instrument_id: \"%s\" is not a bond", where, id);
    if (!bonds_only && ins->kind != INSTRUMENT_KIND_SHARE && ins->kind != INSTRUMENT_KIND_ETF)
        cfg_fail(ld, "%s.instrument_id: \"%s\" is neither a share nor an ETF", where, id);
    return ld->failed ? NULL : ins;
}

static void load_coupon(config_loader *ld, json_t *obj, const char *where, uint32_t ins_index) {
    calendar_coupon c = {.ins_index = ins_index};
    c.coupon_number = cfg_int(ld, obj, where, "coupon_number", -1, 1, INT32_MAX);
    if (c.coupon_number < 0)
        cfg_fail(ld, "%s.coupon_number: required integer is missing", where);
    c.coupon_date_s = required_date(ld, obj, where, "coupon_date");
    c.fix_date_s = cfg_date(ld, obj, where, "fix_date");
    bool has_pay;
    c.pay_one_bond_nano = optional_money(ld, obj, where, "pay_one_bond", &has_pay);
    if (!ld->failed && c.pay_one_bond_nano < 0)
        cfg_fail(ld, "%s.pay_one_bond: must not be negative", where);
    c.coupon_type = enum_value(ld, obj, where, "coupon_type", coupon_type_names,
                               CALENDAR_COUPON_TYPE_MAX + 1, 0, true);
    c.start_s = required_date(ld, obj, where, "coupon_start_date");
    c.end_s = required_date(ld, obj, where, "coupon_end_date");
    if (!ld->failed && c.end_s <= c.start_s) {
        cfg_fail(ld, "%s.coupon_end_date: must be after coupon_start_date", where);
        return;
    }
    int64_t days = (c.end_s - c.start_s) / CALENDAR_SECONDS_PER_DAY;
    c.period_days = (int32_t)cfg_int(ld, obj, where, "coupon_period", days, 1, 100000);
    if (!ld->failed && c.period_days != days)
        cfg_fail(ld,
                 "%s.coupon_period: %d is not the %lld days from coupon_start_date to "
                 "coupon_end_date",
                 where, c.period_days, (long long)days);
    if (!ld->failed)
        calendar_add_coupon(&ld->cfg->calendar, &c);
}

static void load_event(config_loader *ld, json_t *obj, const char *where, uint32_t ins_index) {
    calendar_bond_event e = {.ins_index = ins_index};
    e.event_number = (int32_t)cfg_int(ld, obj, where, "event_number", 0, 0, INT32_MAX);
    e.event_type = enum_value(ld, obj, where, "event_type", event_type_names,
                              CALENDAR_EVENT_TYPE_MAX + 1, 1, false);
    e.event_date_s = required_date(ld, obj, where, "event_date");
    e.fix_date_s = cfg_date(ld, obj, where, "fix_date");
    e.rate_date_s = cfg_date(ld, obj, where, "rate_date");
    e.default_date_s = cfg_date(ld, obj, where, "default_date");
    e.real_pay_date_s = cfg_date(ld, obj, where, "real_pay_date");
    e.pay_date_s = cfg_date(ld, obj, where, "pay_date");
    e.coupon_start_s = cfg_date(ld, obj, where, "coupon_start_date");
    e.coupon_end_s = cfg_date(ld, obj, where, "coupon_end_date");
    e.coupon_period_days = (int32_t)cfg_int(ld, obj, where, "coupon_period", 0, 0, 100000);
    e.pay_one_bond_nano = optional_money(ld, obj, where, "pay_one_bond", &e.has_pay_one_bond);
    e.money_flow_val_nano = optional_money(ld, obj, where, "money_flow_val", &e.has_money_flow_val);
    e.value_nano = optional_money(ld, obj, where, "value", &e.has_value);
    e.event_total_vol_nano = optional_money(ld, obj, where, "event_total_vol", &e.has_total_vol);
    e.coupon_interest_rate_nano =
        optional_money(ld, obj, where, "coupon_interest_rate", &e.has_rate);
    e.execution = cfg_string(ld, obj, where, "execution", "");
    e.operation_type = cfg_string(ld, obj, where, "operation_type", "");
    e.note = cfg_string(ld, obj, where, "note", "");
    e.convert_to_fin_tool_id = cfg_string(ld, obj, where, "convert_to_fin_tool_id", "");
    if (!ld->failed)
        calendar_add_event(&ld->cfg->calendar, &e);
}

static void load_dividend(config_loader *ld, json_t *obj, const char *where, uint32_t ins_index) {
    const instrument *ins = &ld->cfg->refdata.instruments[ins_index];
    calendar_dividend d = {.ins_index = ins_index};
    d.currency = cfg_string(ld, obj, where, "currency", ins->currency);
    d.dividend_net_nano = cfg_money(ld, obj, where, "dividend_net", NULL);
    if (!ld->failed && d.dividend_net_nano < 0)
        cfg_fail(ld, "%s.dividend_net: must not be negative", where);
    d.record_date_s = required_date(ld, obj, where, "record_date");
    d.payment_date_s = cfg_date(ld, obj, where, "payment_date");
    d.declared_date_s = cfg_date(ld, obj, where, "declared_date");
    d.last_buy_date_s = cfg_date(ld, obj, where, "last_buy_date");
    d.created_at_s = optional_time(ld, obj, where, "created_at");
    d.dividend_type = cfg_string(ld, obj, where, "dividend_type", "");
    d.regularity = cfg_string(ld, obj, where, "regularity", "");
    d.close_price_nano = optional_money(ld, obj, where, "close_price", &d.has_close_price);
    d.yield_value_nano = optional_money(ld, obj, where, "yield_value", &d.has_yield);
    if (!ld->failed)
        calendar_add_dividend(&ld->cfg->calendar, &d);
}

/* Coupon periods of one bond may not overlap: a day's accrued interest comes from one coupon. */
static void check_coupon_periods(config_loader *ld, uint32_t ins_index, const char *where) {
    uint32_t n;
    const calendar_coupon *c = calendar_coupons(&ld->cfg->calendar, ins_index, &n);
    for (uint32_t i = 1; i < n; i++)
        if (c[i].start_s < c[i - 1].end_s) {
            cfg_fail(ld, "%s.coupons: the periods of coupons %lld and %lld overlap", where,
                     (long long)c[i - 1].coupon_number, (long long)c[i].coupon_number);
            return;
        }
}

typedef void (*entry_loader)(config_loader *, json_t *, const char *, uint32_t);

static void load_file(config_loader *ld, const calendar_file *f, calendar_kind kind,
                      entry_loader load_entry) {
    if (ld->failed || f->root == NULL)
        return;
    json_t *list = json_object_get(f->root, f->list_key);
    bool listed[REFDATA_MAX_INSTRUMENTS] = {false};
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        char where[160];
        snprintf(where, sizeof where, "%s: %s[%zu]", f->name, f->list_key, i);
        const instrument *ins = item_instrument(ld, item, where, kind != CALENDAR_DIVIDENDS);
        if (ins == NULL)
            return;
        if (listed[ins->index] || !calendar_begin_run(&ld->cfg->calendar, kind, ins->index)) {
            cfg_fail(ld, "%s.instrument_id: the instrument is listed twice", where);
            return;
        }
        listed[ins->index] = true;
        size_t j;
        json_t *entry;
        json_array_foreach(json_object_get(item, f->entries_key), j, entry) {
            char entry_where[192];
            snprintf(entry_where, sizeof entry_where, "%s.%s[%zu]", where, f->entries_key, j);
            if (!json_is_object(entry))
                cfg_fail(ld, "%s: must be an object", entry_where);
            else
                load_entry(ld, entry, entry_where, ins->index);
            if (ld->failed)
                return;
        }
        calendar_end_run(&ld->cfg->calendar, kind, ins->index);
        if (kind == CALENDAR_COUPONS)
            check_coupon_periods(ld, ins->index, where);
    }
}

void config_read_calendar(config_loader *ld) {
    calendar_file files[3] = {
        {COUPONS_FILE, "bonds", "coupons", CALENDAR_MAX_COUPONS_PER_BOND, CALENDAR_MAX_COUPONS,
         NULL, 0},
        {EVENTS_FILE, "bonds", "events", CALENDAR_MAX_EVENTS_PER_BOND, CALENDAR_MAX_EVENTS, NULL,
         0},
        {DIVIDENDS_FILE, "instruments", "dividends", CALENDAR_MAX_DIVIDENDS_PER_INSTRUMENT,
         CALENDAR_MAX_DIVIDENDS, NULL, 0},
    };
    for (int k = 0; k < 3; k++) {
        files[k].root = cfg_reference_file(ld, files[k].name);
        count_entries(ld, &files[k]);
    }
    if (!ld->failed &&
        calendar_reserve(&ld->cfg->calendar, files[0].total, files[1].total, files[2].total) != 0)
        cfg_fail(ld, "out of memory");
    load_file(ld, &files[0], CALENDAR_COUPONS, load_coupon);
    load_file(ld, &files[1], CALENDAR_EVENTS, load_event);
    load_file(ld, &files[2], CALENDAR_DIVIDENDS, load_dividend);
    for (int k = 0; k < 3; k++)
        json_decref(files[k].root);
}
