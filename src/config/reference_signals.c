/* Readers of strategies.json and signals.json (docs/REFERENCE-DATA.md): every signal names a
 * strategy of strategies.json and an instrument of the universe. */
#include <stdio.h>

#include "config/reference_common.h"

static refbook_signals *signals_of(config_loader *ld) {
    return &ld->cfg->signals;
}

static const char *const strategy_types[] = {"unspecified", "technical", "fundamental"};
static const char *const directions[] = {"unspecified", "buy", "sell"};

static void load_strategy(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "strategies.json: strategies[%u]", index);
    refbook_signals *s = signals_of(ld);
    refbook_strategy *st = &s->strategies[index];
    st->uid = ref_uuid(ld, item, where, "strategy_id");
    if (!ld->failed && refbook_find_strategy(s, st->uid) != NULL)
        cfg_fail(ld, "%s.strategy_id: \"%s\" is listed twice", where, st->uid);
    st->name = cfg_string(ld, item, where, "strategy_name", NULL);
    st->description = json_object_get(item, "strategy_description") != NULL
                          ? cfg_string(ld, item, where, "strategy_description", "")
                          : NULL;
    st->url = json_object_get(item, "strategy_url") != NULL
                  ? cfg_string(ld, item, where, "strategy_url", "")
                  : NULL;
    st->type = ref_enum(ld, item, where, "strategy_type", strategy_types, 3, 0);
    st->time_in_position = cfg_int(ld, item, where, "time_in_position", 0, 0, INT64_MAX);
    st->average_signal_yield_nano = cfg_money(ld, item, where, "average_signal_yield", "0");
    st->average_signal_yield_year_nano =
        cfg_money(ld, item, where, "average_signal_yield_year", "0");
    st->yield_nano = cfg_money(ld, item, where, "yield", "0");
    st->yield_year_nano = cfg_money(ld, item, where, "yield_year", "0");
}

void config_read_strategies(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "strategies.json");
    if (root == NULL)
        return;
    refbook_signals *s = signals_of(ld);
    cfg_array(ld, root, "strategies", REFBOOK_MAX_STRATEGIES, &s->strategy_count, load_strategy);
    json_decref(root);
}

static void load_signal(config_loader *ld, json_t *item, uint32_t index) {
    char where[80];
    snprintf(where, sizeof where, "signals.json: signals[%u]", index);
    refbook_signals *s = signals_of(ld);
    refbook_signal *sig = &s->signals[index];
    sig->uid = ref_uuid(ld, item, where, "signal_id");
    if (!ld->failed && refbook_find_signal(s, sig->uid) != NULL)
        cfg_fail(ld, "%s.signal_id: \"%s\" is listed twice", where, sig->uid);
    const char *strategy = cfg_string(ld, item, where, "strategy_id", NULL);
    const refbook_strategy *st = ld->failed ? NULL : refbook_find_strategy(s, strategy);
    if (!ld->failed && st == NULL)
        cfg_fail(ld, "%s.strategy_id: no strategy of strategies.json has id \"%s\"", where,
                 strategy);
    if (st != NULL)
        sig->strategy = (uint32_t)(st - s->strategies);
    sig->instrument = ref_instrument(ld, item, where, "instrument_uid");
    sig->name = cfg_string(ld, item, where, "name", NULL);
    sig->info =
        json_object_get(item, "info") != NULL ? cfg_string(ld, item, where, "info", "") : NULL;
    sig->create_s = ref_time(ld, item, where, "create_dt", true);
    sig->end_s = ref_time(ld, item, where, "end_dt", true);
    sig->close_s = ref_time(ld, item, where, "close_dt", false);
    sig->direction = ref_enum(ld, item, where, "direction", directions, 3, 0);
    sig->initial_price_nano = cfg_money(ld, item, where, "initial_price", NULL);
    sig->target_price_nano = cfg_money(ld, item, where, "target_price", NULL);
    sig->has_probability = json_object_get(item, "probability") != NULL;
    sig->probability = (int32_t)cfg_int(ld, item, where, "probability", 0, 0, 100);
    sig->has_stoploss = json_object_get(item, "stoploss") != NULL;
    sig->stoploss_nano = cfg_money(ld, item, where, "stoploss", "0");
    sig->has_close_price = json_object_get(item, "close_price") != NULL;
    sig->close_price_nano = cfg_money(ld, item, where, "close_price", "0");
    if (!ld->failed && sig->direction == 0)
        cfg_fail(ld, "%s.direction: must be \"buy\" or \"sell\"", where);
    if (!ld->failed && sig->end_s < sig->create_s)
        cfg_fail(ld, "%s.end_dt: must not be before create_dt", where);
    if (!ld->failed && sig->close_s != 0 && sig->close_s < sig->create_s)
        cfg_fail(ld, "%s.close_dt: must not be before create_dt", where);
}

void config_read_signals(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "signals.json");
    refbook_signals *s = signals_of(ld);
    if (root != NULL) {
        cfg_array(ld, root, "signals", REFBOOK_MAX_SIGNALS, &s->signal_count, load_signal);
        json_decref(root);
    }
    if (!ld->failed)
        refbook_signals_count(s);
}
