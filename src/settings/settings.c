#include "settings/settings.h"

#include <string.h>

core_config settings_core(tinvestd_config *config) {
    core_config cc = {
        .refdata = &config->refdata,
        .commission_bp = config->commission_bp,
        .max_orders = config->max_orders,
        .max_trades = config->max_trades ? config->max_trades : 2 * config->max_orders,
        .max_operations = config->max_operations ? config->max_operations : 2 * config->max_orders,
        .order_retention_ns = (config->order_history_retention_s > config->idempotency_retention_s
                                   ? config->order_history_retention_s
                                   : config->idempotency_retention_s) *
                              1000000000LL,
        .max_orders_per_account = (uint32_t)config->max_orders_per_account,
        .max_trades_per_order = config->max_trades_per_order,
        .id_seed = config->venue.seed,
        .openable_sandbox_accounts = (uint32_t)config->sandbox_accounts,
        .candles = config->candles,
        .max_stop_orders = config->max_stop_orders,
        .max_stop_orders_per_account = config->max_stop_orders_per_account,
        .max_favorites_per_user = config->max_favorites_per_user,
        .max_favorite_groups_per_user = config->max_favorite_groups_per_user,
        .margin = config->margin,
    };
    for (uint32_t i = 0; i < config->order_value_limit_count && i < CORE_MAX_VALUE_LIMITS; i++) {
        memcpy(cc.value_limits[i].currency, config->order_value_limits[i].currency, 8);
        cc.value_limits[i].max_value_nano = config->order_value_limits[i].max_value_nano;
        cc.value_limit_count++;
    }
    return cc;
}

engine_venue_settings settings_venue(const tinvestd_config *config) {
    const venue_settings *v = &config->venue;
    return (engine_venue_settings){
        .ack_delay_ns = v->ack_delay_ns,
        .fill_delay_ns = v->fill_delay_ns,
        .reject_probability_ppm = v->reject_probability_ppm,
        .seed = v->seed,
        .market_maker_enabled = v->market_maker_enabled,
        .market_maker_levels = v->market_maker_levels,
        .market_maker_lots_per_level = v->market_maker_lots_per_level,
        .market_maker_spread_ticks = v->market_maker_spread_ticks,
        .market_maker_refresh_ns = v->market_maker_refresh_ns,
        .market_maker_walk_ticks = v->market_maker_walk_ticks,
        .max_orders = config->max_orders,
    };
}
