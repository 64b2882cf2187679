#include "config/config.h"

#include "config/loader.h"
#include "config/instruments_load.h"
#include "config/reference.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "core/stop_orders.h"
#include "util/money.h"

static void load_cash(config_loader *ld, account *acc, json_t *cash, const char *where) {
    if (cash == NULL)
        return;
    if (!json_is_object(cash)) {
        cfg_fail(ld, "%s.cash: must be an object such as {\"rub\": \"1000000\"}", where);
        return;
    }
    const char *currency;
    json_t *amount;
    json_object_foreach(cash, currency, amount) {
        if (acc->cash_count == REFDATA_MAX_CURRENCIES || strlen(currency) >= 8) {
            cfg_fail(ld, "%s.cash.%s: too many currencies or bad currency code", where, currency);
            return;
        }
        money_amount *slot = &acc->cash[acc->cash_count++];
        snprintf(slot->currency, sizeof slot->currency, "%s", currency);
        slot->value_nano = cfg_money(ld, cash, where, currency, NULL);
        /* An opening balance is money the account has: a debt is no configuration. */
        if (!ld->failed && slot->value_nano < 0) {
            cfg_fail(ld, "%s.cash.%s: must not be negative", where, currency);
            return;
        }
    }
}

/* An account's `kind` ("cash" or "margin"), and for a margin account its `risk_level`
 * ("standard": KSUR, "high": KPUR) and `margin_call`. The sandbox has no margin trading, and a
 * cash account takes neither of the other two keys: a setting that would do nothing is refused
 * rather than ignored. */
static void load_account_margin(config_loader *ld, account *acc, json_t *item, const char *where) {
    const char *kind = cfg_string(ld, item, where, "kind", "cash");
    if (ld->failed)
        return;
    if (strcmp(kind, "margin") == 0)
        acc->margin = true;
    else if (strcmp(kind, "cash") != 0) {
        cfg_fail(ld, "%s.kind: must be \"cash\" or \"margin\"", where);
        return;
    }
    if (acc->margin && acc->sandbox) {
        cfg_fail(ld, "%s.kind: a sandbox account cannot be a margin account", where);
        return;
    }
    if (!acc->margin) {
        if (json_object_get(item, "risk_level") != NULL ||
            json_object_get(item, "margin_call") != NULL)
            cfg_fail(ld, "%s: risk_level and margin_call need \"kind\": \"margin\"", where);
        return;
    }
    const char *level = cfg_string(ld, item, where, "risk_level", "standard");
    if (ld->failed)
        return;
    if (strcmp(level, "high") == 0)
        acc->risk_level = ACCOUNT_RISK_HIGH;
    else if (strcmp(level, "standard") == 0)
        acc->risk_level = ACCOUNT_RISK_STANDARD;
    else {
        cfg_fail(ld, "%s.risk_level: must be \"standard\" or \"high\"", where);
        return;
    }
    acc->margin_call = cfg_bool(ld, item, where, "margin_call", true);
}

static void load_account(config_loader *ld, json_t *item, uint32_t index) {
    char where[48];
    snprintf(where, sizeof where, "accounts[%u]", index);
    account *acc = &ld->cfg->refdata.accounts[index];
    acc->index = index;
    acc->id = cfg_string(ld, item, where, "id", NULL);
    acc->name = cfg_string(ld, item, where, "name", "");
    acc->type = (int32_t)cfg_int(ld, item, where, "type", 1, 0, 6);
    acc->status = (int32_t)cfg_int(ld, item, where, "status", 2, 0, 3);
    acc->opened_date_s = cfg_date(ld, item, where, "opened_date");
    acc->sandbox = cfg_bool(ld, item, where, "sandbox", false);
    load_account_margin(ld, acc, item, where);
    load_cash(ld, acc, json_object_get(item, "cash"), where);
    for (uint32_t i = 0; !ld->failed && i < index; i++)
        if (strcmp(ld->cfg->refdata.accounts[i].id, acc->id) == 0)
            cfg_fail(ld, "%s.id: \"%s\" is used twice", where, acc->id);
}

static access_level parse_access(config_loader *ld, json_t *value, const char *where) {
    const char *text = json_is_string(value) ? json_string_value(value) : "";
    if (strcmp(text, "full") == 0)
        return ACCESS_FULL;
    if (strcmp(text, "read_only") == 0)
        return ACCESS_READ_ONLY;
    if (strcmp(text, "none") == 0)
        return ACCESS_NONE;
    cfg_fail(ld, "%s: access must be \"full\", \"read_only\" or \"none\"", where);
    return ACCESS_NONE;
}

static void load_token(config_loader *ld, json_t *item, uint32_t index) {
    char where[48];
    snprintf(where, sizeof where, "tokens[%u]", index);
    token *tok = &ld->cfg->refdata.tokens[index];
    tok->secret = cfg_string(ld, item, where, "token", NULL);
    tok->name = cfg_string(ld, item, where, "name", "");
    tok->user_id = cfg_string(ld, item, where, "user_id", "");
    json_t *accounts = cfg_object(ld, item, where, "accounts");
    const char *account_id;
    json_t *level;
    json_object_foreach(accounts, account_id, level) {
        const account *acc = refdata_find_account(&ld->cfg->refdata, account_id);
        if (acc == NULL) {
            cfg_fail(ld, "%s.accounts: unknown account \"%s\"", where, account_id);
            return;
        }
        tok->access[acc->index] = (uint8_t)parse_access(ld, level, where);
    }
}

/* Rules of one rate_limits object: "methods" keys must name a method ("Service/Method"),
 * "services" keys a service alone, so a rule cannot silently apply at the wrong scope. */
static void load_rate_rules(config_loader *ld, json_t *rules, const char *where, bool per_method) {
    tinvestd_config *cfg = ld->cfg;
    const char *name;
    json_t *value;
    json_object_foreach(rules, name, value) {
        if (cfg->rate_limit_count == CONFIG_MAX_RATE_LIMITS || strlen(name) >= 96) {
            cfg_fail(ld, "%s.%s: too many rules or name too long", where, name);
            return;
        }
        if ((strchr(name, '/') != NULL) != per_method) {
            cfg_fail(ld, "%s.%s: must be %s", where, name,
                     per_method ? "\"Service/Method\"" : "a service name without a method");
            return;
        }
        rate_limit_rule *rule = &cfg->rate_limits[cfg->rate_limit_count++];
        snprintf(rule->method, sizeof rule->method, "%s", name);
        rule->per_minute = (int32_t)cfg_int(ld, rules, where, name, 0, 0, INT32_MAX);
    }
}

static void load_rate_limits(config_loader *ld, json_t *root) {
    json_t *limits = cfg_object(ld, root, "", "rate_limits");
    tinvestd_config *cfg = ld->cfg;
    cfg->default_rate_limit_per_minute =
        (int32_t)cfg_int(ld, limits, "rate_limits", "default_per_minute",
                         cfg->default_rate_limit_per_minute, 0, INT32_MAX);
    load_rate_rules(ld, cfg_object(ld, limits, "rate_limits", "methods"), "rate_limits.methods",
                    true);
    load_rate_rules(ld, cfg_object(ld, limits, "rate_limits", "services"), "rate_limits.services",
                    false);
}

/* The key of each interval under candles.retention, by candle_interval. */
static const char *const candle_interval_keys[CANDLES_INTERVALS] = {
    [CANDLE_1_MIN] = "1min",   [CANDLE_5_MIN] = "5min",   [CANDLE_15_MIN] = "15min",
    [CANDLE_HOUR] = "1hour",   [CANDLE_DAY] = "day",      [CANDLE_2_MIN] = "2min",
    [CANDLE_3_MIN] = "3min",   [CANDLE_10_MIN] = "10min", [CANDLE_30_MIN] = "30min",
    [CANDLE_2_HOUR] = "2hour", [CANDLE_4_HOUR] = "4hour", [CANDLE_WEEK] = "week",
    [CANDLE_MONTH] = "month",  [CANDLE_5_SEC] = "5sec",   [CANDLE_10_SEC] = "10sec",
    [CANDLE_30_SEC] = "30sec",
};

static void load_candles(config_loader *ld, json_t *root) {
    candles_config *cc = &ld->cfg->candles;
    json_t *candles = cfg_object(ld, root, "", "candles");
    cc->utc_offset_s = (int32_t)cfg_int(ld, candles, "candles", "utc_offset_minutes",
                                        cc->utc_offset_s / 60, -23 * 60, 23 * 60) *
                       60;
    json_t *retention = cfg_object(ld, candles, "candles", "retention");
    for (int i = 0; i < CANDLES_INTERVALS; i++)
        cc->retention[i] =
            (uint32_t)cfg_int(ld, retention, "candles.retention", candle_interval_keys[i],
                              cc->retention[i], 1, CANDLES_MAX_RETENTION);
    if (retention != NULL) {
        const char *key;
        json_t *value;
        json_object_foreach(retention, key, value) {
            bool known = false;
            for (int i = 0; i < CANDLES_INTERVALS; i++)
                known = known || strcmp(key, candle_interval_keys[i]) == 0;
            if (!known)
                cfg_fail(ld,
                         "candles.retention.%s: unknown interval (5sec, 10sec, 30sec, 1min, "
                         "2min, 3min, 5min, 10min, 15min, 30min, 1hour, 2hour, 4hour, day, week, "
                         "month)",
                         key);
        }
    }
}

static void load_limits(config_loader *ld, json_t *root) {
    tinvestd_config *cfg = ld->cfg;
    json_t *limits = cfg_object(ld, root, "", "limits");
    const char *w = "limits";
    cfg->streams_per_token_per_method = (int32_t)cfg_int(
        ld, limits, w, "streams_per_token_per_method", cfg->streams_per_token_per_method, 1, 4096);
    cfg->operations_streams_per_token_per_method =
        (int32_t)cfg_int(ld, limits, w, "operations_streams_per_token_per_method",
                         cfg->operations_streams_per_token_per_method, 1, 4096);
    cfg->stream_backlog_messages = (int32_t)cfg_int(ld, limits, w, "stream_backlog_messages",
                                                    cfg->stream_backlog_messages, 16, 1 << 20);
    cfg->md_streams_per_token = (int32_t)cfg_int(ld, limits, w, "market_data_streams_per_token",
                                                 cfg->md_streams_per_token, 1, 4096);
    cfg->md_subscriptions_per_stream =
        (int32_t)cfg_int(ld, limits, w, "market_data_subscriptions_per_stream",
                         cfg->md_subscriptions_per_stream, 1, 100000);
    cfg->md_backlog_messages = (int32_t)cfg_int(ld, limits, w, "market_data_backlog_messages",
                                                cfg->md_backlog_messages, 16, 1 << 20);
    cfg->max_message_bytes = (uint32_t)cfg_int(ld, limits, w, "max_message_bytes",
                                               cfg->max_message_bytes, 1024, 64 << 20);
    cfg->max_concurrent_streams_per_connection =
        (int32_t)cfg_int(ld, limits, w, "max_concurrent_streams_per_connection",
                         cfg->max_concurrent_streams_per_connection, 1, 65536);
    cfg->max_connections =
        (int32_t)cfg_int(ld, limits, w, "max_connections", cfg->max_connections, 1, 1 << 20);
    cfg->max_memory_bytes = cfg_int(ld, limits, w, "max_memory_bytes", cfg->max_memory_bytes,
                                    16 << 20, INT64_C(1) << 40);
    cfg->max_metadata_bytes = (int32_t)cfg_int(ld, limits, w, "max_metadata_bytes",
                                               cfg->max_metadata_bytes, 1024, 1 << 20);
    cfg->max_unary_calls_in_flight_per_token =
        (int32_t)cfg_int(ld, limits, w, "max_unary_calls_in_flight_per_token",
                         cfg->max_unary_calls_in_flight_per_token, 1, 1 << 20);
    cfg->idempotency_retention_s = cfg_int(ld, limits, w, "idempotency_retention_s",
                                           cfg->idempotency_retention_s, 1, INT32_MAX);
    cfg->order_history_retention_s = cfg_int(ld, limits, w, "order_history_retention_s",
                                             cfg->order_history_retention_s, 1, INT32_MAX);
    cfg->max_orders_per_account = (int32_t)cfg_int(ld, limits, w, "max_orders_per_account",
                                                   cfg->max_orders_per_account, 1, 10000000);
    cfg->max_orders =
        (uint32_t)cfg_int(ld, limits, w, "max_orders", cfg->max_orders, 1024, 1 << 26);
    cfg->max_trades =
        (uint32_t)cfg_int(ld, limits, w, "max_trades",
                          cfg->max_trades ? cfg->max_trades : 2 * cfg->max_orders, 1024, 1 << 27);
    cfg->max_operations = (uint32_t)cfg_int(
        ld, limits, w, "max_operations",
        cfg->max_operations ? cfg->max_operations : 2 * cfg->max_orders, 1024, 1 << 27);
    cfg->max_trades_per_order = (uint32_t)cfg_int(ld, limits, w, "max_trades_per_order",
                                                  cfg->max_trades_per_order, 1, 1000000);
    cfg->max_stop_orders =
        (uint32_t)cfg_int(ld, limits, w, "max_stop_orders", cfg->max_stop_orders, 16, 1 << 20);
    cfg->max_stop_orders_per_account = (uint32_t)cfg_int(
        ld, limits, w, "max_stop_orders_per_account", cfg->max_stop_orders_per_account, 1, 1 << 20);
    cfg->queue_capacity =
        (int32_t)cfg_int(ld, limits, w, "queue_capacity", cfg->queue_capacity, 64, 1 << 20);
    cfg->max_favorites_per_user = (uint32_t)cfg_int(ld, limits, w, "max_favorites_per_user",
                                                    cfg->max_favorites_per_user, 1, 10000);
    cfg->max_favorite_groups_per_user = (uint32_t)cfg_int(
        ld, limits, w, "max_favorite_groups_per_user", cfg->max_favorite_groups_per_user, 1, 1000);
    cfg->snapshot_every_events =
        cfg_int(ld, limits, w, "snapshot_every_events", cfg->snapshot_every_events, 0, INT64_MAX);
    cfg->journal_reserve_bytes =
        cfg_int(ld, limits, w, "journal_reserve_bytes", cfg->journal_reserve_bytes, 0, 1ll << 30);
    cfg->transport_threads =
        (int32_t)cfg_int(ld, limits, w, "transport_threads", cfg->transport_threads, 1, 8);
    cfg->sandbox_accounts = (int32_t)cfg_int(ld, limits, w, "sandbox_accounts",
                                             cfg->sandbox_accounts, 0, REFDATA_MAX_ACCOUNTS);
    cfg->commission_bp =
        (int32_t)cfg_int(ld, root, "", "commission_bp", cfg->commission_bp, 0, 10000);
    json_t *values = cfg_object(ld, limits, w, "max_order_value");
    const char *currency;
    json_t *value;
    json_object_foreach(values, currency, value) {
        if (cfg->order_value_limit_count == CONFIG_MAX_ORDER_VALUE_LIMITS ||
            strlen(currency) >= 8) {
            cfg_fail(ld, "limits.max_order_value.%s: too many currencies or bad code", currency);
            return;
        }
        order_value_limit *limit = &cfg->order_value_limits[cfg->order_value_limit_count++];
        snprintf(limit->currency, sizeof limit->currency, "%s", currency);
        limit->max_value_nano = cfg_money(ld, values, "limits.max_order_value", currency, NULL);
    }
}

static void load_venue(config_loader *ld, json_t *root) {
    venue_settings *v = &ld->cfg->venue;
    json_t *venue = cfg_object(ld, root, "", "venue");
    const char *w = "venue";
    v->ack_delay_ns =
        cfg_int(ld, venue, w, "ack_delay_us", v->ack_delay_ns / 1000, 0, 60000000) * 1000;
    v->fill_delay_ns =
        cfg_int(ld, venue, w, "fill_delay_us", v->fill_delay_ns / 1000, 0, 60000000) * 1000;
    v->reject_probability_ppm = (uint32_t)cfg_int(ld, venue, w, "reject_probability_ppm",
                                                  v->reject_probability_ppm, 0, 1000000);
    v->seed = (uint64_t)cfg_int(ld, venue, w, "seed", (int64_t)v->seed, 0, INT64_MAX);
    json_t *mm = cfg_object(ld, venue, w, "market_maker");
    const char *m = "venue.market_maker";
    v->market_maker_enabled = cfg_bool(ld, mm, m, "enabled", v->market_maker_enabled);
    v->market_maker_levels = (int32_t)cfg_int(ld, mm, m, "levels", v->market_maker_levels, 1, 50);
    v->market_maker_lots_per_level =
        cfg_int(ld, mm, m, "lots_per_level", v->market_maker_lots_per_level, 1, 1000000000);
    v->market_maker_spread_ticks =
        (int32_t)cfg_int(ld, mm, m, "spread_ticks", v->market_maker_spread_ticks, 1, 10000);
    v->market_maker_refresh_ns =
        cfg_int(ld, mm, m, "refresh_ms", v->market_maker_refresh_ns / 1000000, 1, 3600000) *
        1000000;
    v->market_maker_walk_ticks =
        (int32_t)cfg_int(ld, mm, m, "walk_ticks", v->market_maker_walk_ticks, 0, 10000);
}

/* A currency code as instruments name their currency: 1 to 7 lower-case Latin letters. */
static bool currency_code_valid(const char *code) {
    size_t n = strlen(code);
    if (n == 0 || n >= sizeof(((currency_rate *)0)->currency))
        return false;
    for (size_t i = 0; i < n; i++)
        if (code[i] < 'a' || code[i] > 'z')
            return false;
    return true;
}

/* `currency_rates`: what one unit of a currency costs in roubles, for GetPortfolio's totals in
 * that currency. The rouble's own rate is 1 and is not configured. */
static void load_currency_rates(config_loader *ld, json_t *root) {
    refdata *rd = &ld->cfg->refdata;
    json_t *rates = cfg_object(ld, root, "", "currency_rates");
    const char *code;
    json_t *value;
    json_object_foreach(rates, code, value) {
        if (!currency_code_valid(code) || strcmp(code, "rub") == 0) {
            cfg_fail(ld, "currency_rates.%s: a currency code in lower case, not \"rub\"", code);
            return;
        }
        if (rd->currency_rate_count == REFDATA_MAX_CURRENCIES) {
            cfg_fail(ld, "currency_rates: at most %d currencies", REFDATA_MAX_CURRENCIES);
            return;
        }
        currency_rate *rate = &rd->currency_rates[rd->currency_rate_count++];
        snprintf(rate->currency, sizeof rate->currency, "%s", code);
        rate->rub_nano = cfg_money(ld, rates, "currency_rates", code, NULL);
        if (!ld->failed &&
            (rate->rub_nano <= 0 || rate->rub_nano > CONFIG_MAX_CURRENCY_RATE_NANO)) {
            cfg_fail(ld, "currency_rates.%s: must be positive and at most 1000000000", code);
            return;
        }
    }
}

/* "HH:MM" or "HH:MM:SS" (a clearing to the second: tests, and exchanges that clear so). */
static int32_t clearing_seconds(json_t *value) {
    int hour, minute, second = 0;
    char tail;
    const char *text = json_is_string(value) ? json_string_value(value) : "";
    size_t len = strlen(text);
    if ((len != 5 && len != 8) || text[2] != ':' || (len == 8 && text[5] != ':'))
        return -1;
    int fields = len == 5 ? sscanf(text, "%2d:%2d%c", &hour, &minute, &tail)
                          : sscanf(text, "%2d:%2d:%2d%c", &hour, &minute, &second, &tail);
    if (fields != (len == 5 ? 2 : 3) || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 59)
        return -1;
    return hour * 3600 + minute * 60 + second;
}

static void load_clearings(config_loader *ld, json_t *margin, core_margin_config *m) {
    json_t *times = json_object_get(margin, "clearings_utc");
    if (times == NULL)
        return;
    if (!json_is_array(times) || json_array_size(times) == 0 ||
        json_array_size(times) > CORE_MAX_CLEARINGS) {
        cfg_fail(ld,
                 "margin.clearings_utc: must be an array of 1 to %d times \"HH:MM\" or "
                 "\"HH:MM:SS\"",
                 CORE_MAX_CLEARINGS);
        return;
    }
    m->clearing_count = 0;
    size_t i;
    json_t *value;
    json_array_foreach(times, i, value) {
        int32_t s = clearing_seconds(value);
        if (s < 0) {
            cfg_fail(
                ld, "margin.clearings_utc[%zu]: must be a time \"HH:MM\" or \"HH:MM:SS\" (UTC)", i);
            return;
        }
        if (i > 0 && s <= m->clearing_s[i - 1]) {
            cfg_fail(ld, "margin.clearings_utc[%zu]: the times must be ascending", i);
            return;
        }
        m->clearing_s[m->clearing_count++] = s;
    }
}

/* A fraction per day as a decimal string, 0 <= rate < 1, in nano. */
static int64_t load_day_rate(config_loader *ld, json_t *margin, const char *key, int64_t fallback) {
    if (json_object_get(margin, key) == NULL)
        return fallback;
    int64_t nano = cfg_money(ld, margin, "margin", key, NULL);
    if (!ld->failed && (nano < 0 || nano >= CONFIG_FRACTION_ONE_NANO))
        cfg_fail(ld, "margin.%s: a fraction per day, at least 0 and below 1", key);
    return nano;
}

/* `margin`: the broker's side of margin trading (core_margin_config). */
static void load_margin(config_loader *ld, json_t *root) {
    json_t *margin = cfg_object(ld, root, "", "margin");
    core_margin_config *m = &ld->cfg->margin;
    if (margin == NULL)
        return;
    load_clearings(ld, margin, m);
    m->money_rate_per_day_nano =
        load_day_rate(ld, margin, "money_rate_per_day", m->money_rate_per_day_nano);
    m->shares_rate_per_day_nano =
        load_day_rate(ld, margin, "shares_rate_per_day", m->shares_rate_per_day_nano);
}

static void set_defaults(tinvestd_config *cfg) {
    cfg->default_rate_limit_per_minute = 0;
    cfg->streams_per_token_per_method = 16;
    cfg->operations_streams_per_token_per_method = 2;
    cfg->stream_backlog_messages = 4096;
    cfg->md_streams_per_token = 16;
    cfg->md_subscriptions_per_stream = 300;
    cfg->md_backlog_messages = 1024;
    cfg->max_message_bytes = 4u << 20;
    cfg->max_concurrent_streams_per_connection = 100;
    cfg->max_connections = 1024;
    cfg->max_memory_bytes = INT64_C(256) << 20;
    cfg->max_metadata_bytes = 8192;
    cfg->max_unary_calls_in_flight_per_token = 1024;
    cfg->idempotency_retention_s = 30 * 24 * 3600;
    cfg->order_history_retention_s = 30 * 24 * 3600;
    cfg->max_orders_per_account = 1000000;
    cfg->queue_capacity = 65536;
    cfg->max_orders = 1 << 20;
    cfg->max_trades = 0;     /* 2 x max_orders unless configured */
    cfg->max_operations = 0; /* 2 x max_orders unless configured */
    cfg->max_trades_per_order = 1000;
    cfg->max_stop_orders = STOP_ORDERS_DEFAULT_MAX;
    cfg->max_stop_orders_per_account = STOP_ORDERS_DEFAULT_PER_ACCOUNT;
    cfg->max_favorites_per_user = FAVORITES_DEFAULT_PER_USER;
    cfg->max_favorite_groups_per_user = FAVORITES_DEFAULT_GROUPS_PER_USER;
    cfg->snapshot_every_events = 1000000;
    cfg->transport_threads = 1;
    cfg->journal_reserve_bytes = 4 << 20;
    cfg->sandbox_accounts = 32;
    cfg->candles = candles_default_config();
    cfg->margin = (core_margin_config){
        .clearing_count = 2,
        .clearing_s = {CONFIG_DEFAULT_CLEARING_1_S, CONFIG_DEFAULT_CLEARING_2_S},
        .money_rate_per_day_nano = CONFIG_DEFAULT_MONEY_RATE_PER_DAY_NANO,
        .shares_rate_per_day_nano = CONFIG_DEFAULT_SHARES_RATE_PER_DAY_NANO,
    };
    cfg->commission_bp = 4;
    cfg->venue = (venue_settings){
        .seed = 42,
        .market_maker_enabled = true,
        .market_maker_levels = 5,
        .market_maker_lots_per_level = 100,
        .market_maker_spread_ticks = 1,
        .market_maker_refresh_ns = 1000000000,
        .market_maker_walk_ticks = 1,
    };
}

/* `reference_dir`: kept as given when absolute, else joined to the directory of `config_path`. */
/* `admin`: the operator's token (docs/SECURITY.md). It must not be a trading token: a holder of
 * one must never gain the operator's rights, nor the operator a client's. */
static void load_admin(config_loader *ld, json_t *root) {
    json_t *admin = cfg_object(ld, root, "", "admin");
    if (admin == NULL)
        return;
    json_t *value = json_object_get(admin, "token");
    if (value == NULL || json_is_null(value))
        return;
    const char *secret = cfg_string(ld, admin, "admin", "token", NULL);
    if (secret == NULL)
        return;
    size_t len = strlen(secret);
    if (len < CONFIG_ADMIN_TOKEN_MIN_BYTES || len > CONFIG_ADMIN_TOKEN_MAX_BYTES) {
        cfg_fail(ld, "admin.token: must be %d to %d bytes long", CONFIG_ADMIN_TOKEN_MIN_BYTES,
                 CONFIG_ADMIN_TOKEN_MAX_BYTES);
        return;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)secret[i] <= ' ' || (unsigned char)secret[i] >= 0x7f) {
            cfg_fail(ld, "admin.token: printable ASCII without spaces only");
            return;
        }
    if (refdata_find_token(&ld->cfg->refdata, secret, len) != NULL) {
        cfg_fail(ld, "admin.token: is also a trading token of `tokens`; give the operator its own");
        return;
    }
    ld->cfg->admin_token = secret;
}

static void load_reference_dir(config_loader *ld, json_t *root, const char *config_path) {
    json_t *value = json_object_get(root, "reference_dir");
    if (value == NULL)
        return;
    if (!json_is_string(value) || json_string_length(value) == 0) {
        cfg_fail(ld, "reference_dir: must be a non-empty string");
        return;
    }
    const char *dir = json_string_value(value);
    char *out = ld->cfg->reference_dir;
    size_t size = sizeof ld->cfg->reference_dir;
    int n;
    const char *slash = strrchr(config_path, '/');
    if (dir[0] == '/' || slash == NULL)
        n = snprintf(out, size, "%s", dir);
    else
        n = snprintf(out, size, "%.*s/%s", (int)(slash - config_path), config_path, dir);
    if (n < 0 || (size_t)n >= size)
        cfg_fail(ld, "reference_dir: the path is too long");
}

int config_load(tinvestd_config *cfg, const char *path, char *error, size_t error_size) {
    memset(cfg, 0, sizeof *cfg);
    refdata_init(&cfg->refdata);
    set_defaults(cfg);
    config_loader ld = {.cfg = cfg, .error = error, .error_size = error_size};
    json_error_t parse_error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &parse_error);
    if (root == NULL) {
        snprintf(error, error_size, "%s:%d:%d: %s", path, parse_error.line, parse_error.column,
                 parse_error.text);
        return -1;
    }
    if (!json_is_object(root))
        cfg_fail(&ld, "the top level must be an object");
    refdata *rd = &cfg->refdata;
    load_reference_dir(&ld, root, path);
    config_load_inline_instruments(&ld, root);
    cfg_array(&ld, root, "accounts", REFDATA_MAX_ACCOUNTS, &rd->account_count, load_account);
    cfg_array(&ld, root, "tokens", REFDATA_MAX_TOKENS, &rd->token_count, load_token);
    load_rate_limits(&ld, root);
    load_limits(&ld, root);
    load_venue(&ld, root);
    load_candles(&ld, root);
    load_currency_rates(&ld, root);
    load_margin(&ld, root);
    load_admin(&ld, root);
    json_decref(root);
    config_load_reference(&ld);
    /* An order's record is reused once its retention has passed; the exchange must have long
     * finished with it by then (a cancel queued behind its delays still names it). */
    int64_t retention_s = cfg->order_history_retention_s < cfg->idempotency_retention_s
                              ? cfg->idempotency_retention_s
                              : cfg->order_history_retention_s;
    if (!ld.failed &&
        cfg->venue.ack_delay_ns + cfg->venue.fill_delay_ns >= retention_s * 1000000000LL)
        cfg_fail(&ld, "venue.ack_delay_us + venue.fill_delay_us must be shorter than the order "
                      "retention (limits.order_history_retention_s)");
    if (ld.failed) {
        config_deinit(cfg);
        return -1;
    }
    return 0;
}

void config_deinit(tinvestd_config *cfg) {
    calendar_deinit(&cfg->calendar);
    refdata_deinit(&cfg->refdata);
}

int32_t config_rate_limit_for(const tinvestd_config *cfg, const char *method,
                              rate_limit_scope *scope) {
    const char *slash = strchr(method, '/');
    size_t service_len = slash != NULL ? (size_t)(slash - method) : strlen(method);
    const rate_limit_rule *service_rule = NULL;
    for (uint32_t i = 0; i < cfg->rate_limit_count; i++) {
        const rate_limit_rule *rule = &cfg->rate_limits[i];
        if (strcmp(rule->method, method) == 0) {
            if (scope != NULL)
                *scope = RATE_SCOPE_METHOD;
            return rule->per_minute;
        }
        if (strlen(rule->method) == service_len && strncmp(rule->method, method, service_len) == 0)
            service_rule = rule;
    }
    if (scope != NULL)
        *scope = service_rule != NULL ? RATE_SCOPE_SERVICE : RATE_SCOPE_DEFAULT;
    return service_rule != NULL ? service_rule->per_minute : cfg->default_rate_limit_per_minute;
}
