/* Broker core: commands (place, find, cancel, replace, accounts, pay-ins) and exchange reports.
 * The state changes themselves live in apply.c, the records' lifecycle in history.c, the reads
 * in query.c. */
#include "core/core.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/history.h"
#include "core/valuation.h"
#include "util/bigmem.h"
#include "util/checked.h"
#include "util/prng.h"
#include "util/uuid.h"

#define SECURITY_TRADING_STATUS_NORMAL_TRADING 5
#define PRICE_TYPE_MAX 2

/* Index confirmations: the keys live in the orders, the indexes hold only slots. A key is
 * compared in the form the index hashes (history_key_bytes), so a UUID key matches in either
 * letter case and any other key only exactly. */
static bool key_names_order(const void *owner, uint32_t slot, const void *key, size_t len) {
    const core_order *o = &((const core *)owner)->orders[slot];
    char own[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t own_len = history_key_bytes(o->account, o->key, own);
    return own_len == len && memcmp(own, key, len) == 0;
}

static bool id_names_order(const void *owner, uint32_t slot, const void *key, size_t len) {
    const core_order *o = &((const core *)owner)->orders[slot];
    return (strlen(o->intent_id) == len && memcmp(o->intent_id, key, len) == 0) ||
           (o->exchange_order_id != 0 && strlen(o->exchange_id_text) == len &&
            memcmp(o->exchange_id_text, key, len) == 0);
}

/* The configured accounts' opening cash (slots 0 .. configured_count-1). */
static void credit_opening_balances(core *c) {
    for (uint32_t a = 0; a < c->accounts.configured_count; a++) {
        const account *acc = &c->refdata->accounts[a];
        for (uint32_t k = 0; k < acc->cash_count; k++) {
            ledger_cash *cash = ledger_cash_slot(&c->ledger, a, acc->cash[k].currency);
            assert(cash != NULL);
            CHECKED_ADD_ASSERT(cash->balance_nano, acc->cash[k].value_nano);
        }
    }
}

static void clear_accounts_lists(core *c) {
    for (uint32_t a = 0; a < c->accounts.capacity; a++) {
        c->account_first[a] = c->account_last[a] = CORE_NO_ORDER;
        c->active_first[a] = c->active_last[a] = CORE_NO_ORDER;
        c->account_orders[a] = 0;
    }
}

/* Zero records are free records: a fresh core's pools are untouched zero pages, so starting
 * costs nothing for slots not yet used. */
static void clear_pools(core *c) {
    memset(&c->pools, 0, sizeof c->pools);
    history_init_free(c);
    clear_accounts_lists(c);
}

/* Back to all-zero records (core_reset: after a snapshot load that failed half-way). */
static void zero_records(core *c) {
    memset(c->orders, 0, (size_t)c->config.max_orders * sizeof *c->orders);
    memset(c->trades, 0, (size_t)c->config.max_trades * sizeof *c->trades);
    memset(c->free_order_pos, 0, (size_t)c->config.max_orders * sizeof *c->free_order_pos);
}

int core_init(core *c, const core_config *config) {
    memset(c, 0, sizeof *c);
    c->config = *config;
    c->refdata = config->refdata;
    if (c->config.candles.retention[0] == 0)
        c->config.candles = candles_default_config();
    const refdata *rd = config->refdata;
    assert(config->max_orders > 0);
    assert(config->max_trades > 0);
    if (c->config.max_trades_per_order == 0)
        c->config.max_trades_per_order = 1;
    uint32_t capacity = rd->account_count + config->openable_sandbox_accounts;
    if (capacity > REFDATA_MAX_ACCOUNTS)
        capacity = REFDATA_MAX_ACCOUNTS;
    c->accounts =
        (core_accounts_state){.configured_count = rd->account_count, .capacity = capacity};
    size_t accounts = capacity ? capacity : 1;
    c->accounts.opened = calloc(capacity - rd->account_count + 1, sizeof *c->accounts.opened);
    c->accounts.closed = calloc(accounts, 1);
    c->account_orders = calloc(accounts, sizeof *c->account_orders);
    c->account_first = calloc(accounts, sizeof *c->account_first);
    c->account_last = calloc(accounts, sizeof *c->account_last);
    c->active_first = calloc(accounts, sizeof *c->active_first);
    c->active_last = calloc(accounts, sizeof *c->active_last);
    c->orders = bigmem_alloc(config->max_orders, sizeof *c->orders);
    c->trades = bigmem_alloc(config->max_trades, sizeof *c->trades);
    c->free_orders = bigmem_alloc(config->max_orders, sizeof *c->free_orders);
    c->free_order_pos = bigmem_alloc(config->max_orders, sizeof *c->free_order_pos);
    c->free_trades = bigmem_alloc(config->max_trades, sizeof *c->free_trades);
    c->finished = bigmem_alloc(config->max_orders, sizeof *c->finished);
    c->requests = bigmem_alloc((size_t)config->max_orders * 2, sizeof *c->requests);
    c->venue.mm_reference_nano =
        calloc(rd->instrument_count ? rd->instrument_count : 1, sizeof(int64_t));
    c->venue.halted = calloc(rd->instrument_count ? rd->instrument_count : 1, 1);
    if (c->orders == NULL || c->trades == NULL || c->free_orders == NULL ||
        c->free_order_pos == NULL || c->free_trades == NULL || c->finished == NULL ||
        c->requests == NULL || c->venue.mm_reference_nano == NULL || c->venue.halted == NULL ||
        c->accounts.opened == NULL || c->accounts.closed == NULL || c->account_orders == NULL ||
        c->account_first == NULL || c->account_last == NULL || c->active_first == NULL ||
        c->active_last == NULL || ledger_init(&c->ledger, capacity, rd->instrument_count) != 0 ||
        order_index_init(&c->by_key, config->max_orders, key_names_order, c) != 0 ||
        order_index_init(&c->by_order_id, (size_t)config->max_orders * 2, id_names_order, c) != 0 ||
        candles_init(&c->candles, &c->config.candles, rd->instrument_count) != 0 ||
        stop_orders_init(&c->stops, config->max_stop_orders, config->max_stop_orders_per_account,
                         capacity, rd->instrument_count) != 0 ||
        operations_init(c) != 0 || margin_init(c) != 0 ||
        changes_init(&c->changes, capacity, rd->instrument_count) != 0 ||
        favorites_init(&c->favorites, rd->tokens, rd->token_count, config->max_favorites_per_user,
                       config->max_favorite_groups_per_user) != 0) {
        core_deinit(c);
        return -ENOMEM;
    }
    c->next_seq = 1;
    clear_pools(c);
    credit_opening_balances(c);
    return 0;
}

void core_reset(core *c) {
    ledger *lg = &c->ledger;
    memset(lg->cash, 0, (size_t)lg->account_count * REFDATA_MAX_CURRENCIES * sizeof *lg->cash);
    memset(lg->positions, 0,
           (size_t)lg->account_count * lg->instrument_count * sizeof *lg->positions);
    credit_opening_balances(c);
    zero_records(c);
    clear_pools(c);
    c->next_seq = 1;
    memset(c->venue.random_state, 0, sizeof c->venue.random_state);
    c->venue.last_exchange_order_id = c->venue.last_trade_id = 0;
    c->venue.market_print_ns = 0;
    c->venue.market_print_instrument = 0;
    memset(c->venue.mm_reference_nano, 0,
           c->refdata->instrument_count * sizeof *c->venue.mm_reference_nano);
    memset(c->venue.halted, 0, c->refdata->instrument_count);
    c->accounts.opened_count = 0;
    memset(c->accounts.closed, 0, c->accounts.capacity);
    order_index_clear(&c->by_key);
    order_index_clear(&c->by_order_id);
    operations_reset(c);
    candles_reset(&c->candles);
    core_publish_candles(c);
    stop_orders_reset(&c->stops, c->accounts.capacity, c->refdata->instrument_count);
    changes_clear(&c->changes);
    favorites_reset(&c->favorites);
    margin_reset(c);
}

void core_deinit(core *c) {
    operations_deinit(c);
    margin_deinit(c);
    bigmem_free(c->orders, c->config.max_orders, sizeof *c->orders);
    bigmem_free(c->trades, c->config.max_trades, sizeof *c->trades);
    bigmem_free(c->free_orders, c->config.max_orders, sizeof *c->free_orders);
    bigmem_free(c->free_order_pos, c->config.max_orders, sizeof *c->free_order_pos);
    bigmem_free(c->free_trades, c->config.max_trades, sizeof *c->free_trades);
    bigmem_free(c->finished, c->config.max_orders, sizeof *c->finished);
    bigmem_free(c->requests, (size_t)c->config.max_orders * 2, sizeof *c->requests);
    free(c->venue.mm_reference_nano);
    free(c->venue.halted);
    changes_deinit(&c->changes);
    free(c->accounts.opened);
    free(c->accounts.closed);
    free(c->account_orders);
    free(c->account_first);
    free(c->account_last);
    free(c->active_first);
    free(c->active_last);
    c->orders = NULL;
    c->trades = NULL;
    c->free_orders = c->free_order_pos = c->free_trades = c->finished = NULL;
    c->requests = NULL;
    c->venue.mm_reference_nano = NULL;
    c->venue.halted = NULL;
    c->accounts.opened = NULL;
    c->accounts.closed = NULL;
    c->account_orders = c->account_first = c->account_last = NULL;
    c->active_first = c->active_last = NULL;
    ledger_deinit(&c->ledger);
    candles_deinit(&c->candles);
    stop_orders_deinit(&c->stops);
    favorites_deinit(&c->favorites);
    order_index_deinit(&c->by_key);
    order_index_deinit(&c->by_order_id);
}

static core_result fail(core_error error) {
    return (core_result){.error = error, .order = {.index = CORE_NO_ORDER}};
}

static core_result with_order(const core_order *order, bool duplicate) {
    return (core_result){.order = *order, .duplicate = duplicate};
}

static core_result fail_with_order(core_error error, const core_order *order) {
    return (core_result){.error = error, .order = *order};
}

/* Records, applies and announces one event: the only way the live path changes state. */
void core_commit_event(core *c, core_event *event) {
    event->seq = c->next_seq;
    assert(core_event_applicable(c, event));
    if (c->sink.append != NULL)
        c->sink.append(c->sink.ctx, event);
    core_apply(c, event);
    if (c->listener.order_changed != NULL && event->order != CORE_NO_ORDER)
        c->listener.order_changed(c->listener.ctx, &c->orders[event->order], event);
}

/* Finished orders past their retention leave before a command that may need their room (and
 * stop orders that are due expire, finished ones leave). */
static void retire_expired(core *c, int64_t now_ns) {
    stop_orders_expire(c, now_ns);
    uint32_t count = history_expired_count(c, now_ns);
    if (count == 0)
        return;
    core_event ev = {.type = CORE_EVENT_HISTORY_RETIRED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.retired.count = count;
    core_commit_event(c, &ev);
}

core_error core_account_for(const core *c, const token *tok, const char *account_id,
                            bool need_trade, const account **out) {
    if (account_id == NULL || account_id[0] == '\0')
        return CORE_ERR_ACCOUNT_MISSING;
    const account *acc = refdata_find_account(c->refdata, account_id);
    /* An account outside the caller's view (the other endpoint's) is one it does not know. */
    if (acc == NULL || (tok != NULL && !refdata_token_sees(tok, acc)))
        return CORE_ERR_ACCOUNT_NOT_FOUND;
    if (tok == NULL) {
        *out = acc;
        return CORE_OK;
    }
    access_level level = refdata_access(tok, acc);
    bool allowed =
        need_trade ? level == ACCESS_FULL : (level == ACCESS_FULL || level == ACCESS_READ_ONLY);
    if (!allowed)
        return CORE_ERR_ACCOUNT_NO_ACCESS;
    *out = acc;
    return CORE_OK;
}

static uint32_t find_by_key(const core *c, uint32_t account_index, const char *key) {
    char bytes[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    return order_index_find(&c->by_key, bytes, history_key_bytes(account_index, key, bytes));
}

/* The validated terms of an order request. */
typedef struct order_terms {
    const account *account;
    const instrument *instrument;
    order_direction direction;
    order_type type;
    order_tif tif;
    int64_t lots;
    int64_t price_nano;
} order_terms;

static core_error check_key(const core_order_request *req) {
    size_t len = req->key == NULL ? 0 : strlen(req->key);
    if (len == 0)
        return CORE_ERR_ORDER_ID_MISSING;
    if (len > ORDER_KEY_MAX_LEN)
        return CORE_ERR_ORDER_ID_TOO_LONG;
    if (req->require_uuid_key && !uuid_is_valid(req->key, len))
        return CORE_ERR_ORDER_ID_NOT_UUID;
    return CORE_OK;
}

static core_error check_enums(const core_order_request *req, order_terms *t) {
    if (req->quantity == 0)
        return CORE_ERR_QUANTITY_ZERO;
    if (req->quantity < 0)
        return CORE_ERR_QUANTITY_NEGATIVE;
    if (req->direction == 0)
        return CORE_ERR_DIRECTION_MISSING;
    if (req->direction != DIRECTION_BUY && req->direction != DIRECTION_SELL)
        return CORE_ERR_DIRECTION_INVALID;
    if (req->type == 0)
        return CORE_ERR_ORDER_TYPE_MISSING;
    if (req->type < ORDER_TYPE_LIMIT || req->type > ORDER_TYPE_BESTPRICE)
        return CORE_ERR_ORDER_TYPE_INVALID;
    if (req->tif < 0 || req->tif > TIF_FILL_OR_KILL)
        return CORE_ERR_TIME_IN_FORCE_INVALID;
    if (req->price_type < 0 || req->price_type > PRICE_TYPE_MAX)
        return CORE_ERR_PRICE_TYPE_INVALID;
    t->lots = req->quantity;
    t->direction = (order_direction)req->direction;
    t->type = (order_type)req->type;
    t->tif = req->tif == 0 ? TIF_DAY : (order_tif)req->tif;
    return CORE_OK;
}

static core_error check_price(const core_order_request *req, order_terms *t) {
    t->price_nano = 0;
    if (t->type != ORDER_TYPE_LIMIT)
        return CORE_OK; /* market and best-price orders ignore any price sent */
    if (!req->has_price)
        return CORE_ERR_PRICE_MISSING;
    if (req->price_nano <= 0)
        return CORE_ERR_PRICE_NOT_POSITIVE;
    if (req->price_nano % t->instrument->min_price_increment_nano != 0)
        return CORE_ERR_PRICE_STEP;
    t->price_nano = req->price_nano;
    return CORE_OK;
}

/* Stateless and reference-data checks, in the order the real API reports them. */
static core_error check_terms(const core *c, const core_order_request *req, order_terms *t) {
    core_error err = check_key(req);
    if (err == CORE_OK)
        err = core_account_for(c, req->token, req->account_id, true, &t->account);
    if (err != CORE_OK)
        return err;
    if (req->instrument_id == NULL || req->instrument_id[0] == '\0')
        return CORE_ERR_INSTRUMENT_MISSING;
    t->instrument = refdata_find_instrument_id(c->refdata, req->instrument_id);
    if (t->instrument == NULL)
        return CORE_ERR_INSTRUMENT_NOT_FOUND;
    err = check_enums(req, t);
    return err != CORE_OK ? err : check_price(req, t);
}

static bool same_terms(const core_order *o, const order_terms *t) {
    return o->instrument == t->instrument->index && o->direction == t->direction &&
           o->type == t->type && o->tif == t->tif && o->lots_requested == t->lots &&
           o->price_nano == t->price_nano;
}

void core_market_view(const core *c, uint32_t instrument_index, core_market *m) {
    memset(m, 0, sizeof *m);
    if (c->exchange.market != NULL)
        c->exchange.market(c->exchange.ctx, instrument_index, m);
}

/* Price per unit at which a buy reserves cash: its limit, or the highest price the exchange
 * would let a market order pay. */
static int64_t reserve_price(const order_terms *t, const core_market *m) {
    if (t->type == ORDER_TYPE_LIMIT)
        return t->price_nano;
    return m->limit_up_nano > 0 ? m->limit_up_nano : t->instrument->reference_price_nano;
}

/* The highest price a sell can execute at: the exchange's upper limit (a sell limit only says
 * how low it may go). Proceeds at that price must fit the balance. */
static int64_t highest_sell_price(const order_terms *t, const core_market *m) {
    int64_t price = t->type == ORDER_TYPE_LIMIT ? t->price_nano : 0;
    int64_t up = m->limit_up_nano > 0 ? m->limit_up_nano : t->instrument->reference_price_nano;
    return price > up ? price : up;
}

int64_t core_order_value_limit(const core *c, const char *currency) {
    for (uint32_t i = 0; i < c->config.value_limit_count; i++)
        if (strcmp(c->config.value_limits[i].currency, currency) == 0)
            return c->config.value_limits[i].max_value_nano;
    return INT64_MAX;
}

typedef struct reservation {
    int64_t reserve_price_nano;
    int64_t cash_nano, units, commission_nano;
} reservation;

static core_error check_trading(const core *c, const instrument *ins, const order_terms *t,
                                const core_market *market) {
    if (!ins->api_trade_available)
        return CORE_ERR_API_TRADING_FORBIDDEN;
    if (ins->trading_status != SECURITY_TRADING_STATUS_NORMAL_TRADING || !market->trading ||
        core_instrument_halted(c, ins->index) ||
        (t->direction == DIRECTION_BUY ? !ins->buy_available : !ins->sell_available))
        return CORE_ERR_NOT_TRADING;
    return CORE_OK;
}

/* A buy: cash for the value at the reserve price plus commission, and room in the position. A
 * margin account holds the cash back even beyond its balance: whether it may buy on credit is the
 * margin check's (check_margin). */
static core_error reserve_buy(const core *c, const order_terms *t, int64_t units,
                              int64_t value_nano, int64_t credit_nano, bool margin,
                              reservation *r) {
    const instrument *ins = t->instrument;
    if (!checked_add(value_nano, r->commission_nano, &r->cash_nano) ||
        r->cash_nano > CORE_MAX_MONEY_NANO)
        return CORE_ERR_AMOUNT_TOO_LARGE;
    int64_t held, free_nano;
    if (!checked_add(ledger_units_free(&c->ledger, t->account->index, ins->index), units, &held))
        return CORE_ERR_AMOUNT_TOO_LARGE;
    if (margin)
        return ledger_cash_has_room(&c->ledger, t->account->index, ins->currency)
                   ? CORE_OK
                   : CORE_ERR_AMOUNT_TOO_LARGE;
    if (!checked_add(ledger_cash_free(&c->ledger, t->account->index, ins->currency), credit_nano,
                     &free_nano) ||
        free_nano < r->cash_nano)
        return t->account->sandbox ? CORE_ERR_NOT_ENOUGH_BALANCE : CORE_ERR_NOT_ENOUGH_ASSETS;
    return CORE_OK;
}

/* A sell: the securities, and room in the balance for the most it could bring. A margin account
 * holds nothing back (see below). */
static core_error reserve_sell(const core *c, const order_terms *t, const core_market *market,
                               int64_t units, int64_t credit_units, bool margin, reservation *r) {
    const instrument *ins = t->instrument;
    int64_t proceeds, balance = 0;
    const ledger_cash *cash = ledger_cash_find(&c->ledger, t->account->index, ins->currency);
    if (cash != NULL)
        balance = cash->balance_nano;
    if (!valuation_amount(ins, highest_sell_price(t, market), units, &proceeds) ||
        proceeds > CORE_MAX_MONEY_NANO || !checked_add(balance, proceeds, &proceeds))
        return CORE_ERR_AMOUNT_TOO_LARGE;
    if (!ledger_cash_has_room(&c->ledger, t->account->index, ins->currency))
        return CORE_ERR_AMOUNT_TOO_LARGE;
    r->units = units;
    int64_t free_units;
    if (!checked_add(ledger_units_free(&c->ledger, t->account->index, ins->index), credit_units,
                     &free_units))
        return CORE_ERR_AMOUNT_TOO_LARGE;
    if (margin) {
        /* A margin account's sell holds nothing back: whatever it sells beyond the position is
         * sold short, and whether it may is the margin check's (check_margin), which counts the
         * account's other active sells. Holding back units that another sell may take first
         * would leave more held back than held. */
        r->units = 0;
        return CORE_OK;
    }
    if (free_units < units)
        return CORE_ERR_NOT_ENOUGH_ASSETS;
    return CORE_OK;
}

/* A futures order (margin accounts only): the guarantee its contracts would take, and the
 * commission, held in the cash of its currency. */
static core_error reserve_future(const core *c, const order_terms *t, int64_t units,
                                 reservation *r) {
    int64_t guarantee;
    if (!margin_guarantee(t->instrument, t->direction == DIRECTION_BUY ? units : -units,
                          &guarantee) ||
        !checked_add(guarantee, r->commission_nano, &r->cash_nano) ||
        r->cash_nano > CORE_MAX_MONEY_NANO)
        return CORE_ERR_AMOUNT_TOO_LARGE;
    return ledger_cash_has_room(&c->ledger, t->account->index, t->instrument->currency)
               ? CORE_OK
               : CORE_ERR_AMOUNT_TOO_LARGE;
}

/* Trading status, order value limit and free cash or securities, or a margin account's margin
 * (core_margin_admit). `credit_nano` and `credit_units` are amounts about to be released
 * (ReplaceOrder's old order), `skip` an active order the margin does not count (the old order, or
 * the replacement being armed). The broker's own margin call (`broker_close`) only reduces
 * exposure and is never refused for margin. Every amount is computed with overflow checks: a
 * value that does not fit is refused, never wrapped. */
static core_error check_funds(const core *c, const order_terms *t, int64_t credit_nano,
                              int64_t credit_units, uint32_t skip, bool broker_close,
                              reservation *r) {
    const instrument *ins = t->instrument;
    core_market market;
    core_market_view(c, ins->index, &market);
    core_error err = check_trading(c, ins, t, &market);
    if (err != CORE_OK)
        return err;
    int64_t units;
    if (!checked_mul(t->lots, ins->lot, &units))
        return CORE_ERR_AMOUNT_TOO_LARGE;
    memset(r, 0, sizeof *r);
    r->reserve_price_nano = reserve_price(t, &market);
    int64_t value_nano;
    if (!valuation_amount(ins, r->reserve_price_nano, units, &value_nano) ||
        value_nano > CORE_MAX_MONEY_NANO)
        return CORE_ERR_AMOUNT_TOO_LARGE;
    int64_t quoted_price =
        t->type == ORDER_TYPE_LIMIT
            ? t->price_nano
            : (market.last_price_nano ? market.last_price_nano : ins->reference_price_nano);
    int64_t quoted_value;
    if (!valuation_amount(ins, quoted_price, units, &quoted_value))
        return CORE_ERR_AMOUNT_TOO_LARGE;
    if (quoted_value > core_order_value_limit(c, ins->currency))
        return CORE_ERR_PRICE_TOO_HIGH;
    r->commission_nano = valuation_commission(value_nano, c->config.commission_bp);
    bool margin = core_account_is_margin(c, t->account->index);
    if (ins->kind == INSTRUMENT_KIND_FUTURE) {
        if (!margin)
            return CORE_ERR_MARGIN_DISABLED;
        err = reserve_future(c, t, units, r);
    } else if (t->direction == DIRECTION_BUY) {
        err = reserve_buy(c, t, units, value_nano, credit_nano, margin, r);
    } else {
        err = reserve_sell(c, t, &market, units, credit_units, margin, r);
    }
    if (err != CORE_OK || !margin || broker_close)
        return err;
    /* What a margin account's order holds: no more than a sum the ledger can add up. */
    const ledger_cash *cash = ledger_cash_find(&c->ledger, t->account->index, ins->currency);
    int64_t blocked;
    if (!checked_add(cash != NULL ? cash->blocked_nano : 0, r->cash_nano, &blocked) ||
        blocked > CORE_MAX_MONEY_NANO)
        return CORE_ERR_AMOUNT_TOO_LARGE;
    return core_margin_admit(c, t->account, ins, t->direction == DIRECTION_BUY ? units : -units,
                             r->cash_nano, skip);
}

/* Trade records an order may need: one per fill, and it cannot fill more often than it has
 * lots, nor more often than the exchange lets it (max_trades_per_order). */
static uint32_t trades_needed(const core *c, int64_t lots) {
    return lots < (int64_t)c->config.max_trades_per_order ? (uint32_t)lots
                                                          : c->config.max_trades_per_order;
}

/* Room for one more order of the account, and for every trade it can make. */
static core_error check_capacity(const core *c, uint32_t account_index, int64_t lots) {
    if (c->account_orders[account_index] >= c->config.max_orders_per_account)
        return CORE_ERR_ACCOUNT_ORDER_LIMIT;
    if (history_peek_free_order(c) == CORE_NO_ORDER)
        return CORE_ERR_BROKER_CAPACITY;
    uint64_t trades = (uint64_t)c->pools.trades_in_use + c->pools.trades_reserved;
    if (trades + trades_needed(c, lots) > c->config.max_trades)
        return CORE_ERR_BROKER_CAPACITY;
    return CORE_OK;
}

/* Ids the broker makes derive from the seed and `salt` (an event number or an account slot), so
 * a replay, and a run with the same seed, reproduce them exactly. */
static void derive_uuid(const core *c, uint64_t salt, char out[ORDER_ID_SIZE]) {
    uint64_t state = c->config.id_seed ^ salt;
    uint64_t hi = prng_splitmix64(&state);
    state = hi;
    uuid_format_from_bits(hi, prng_splitmix64(&state), out);
}

void core_broker_key(const core *c, uint64_t salt, char out[ORDER_ID_SIZE]) {
    derive_uuid(c, salt, out);
}

#define ACCOUNT_ID_SALT 0xacc0000000000000ULL

/* An order's ids come from its ACCEPTED event's number, which is never reused (its slot is). */
static void make_ids(const core *c, uint64_t seq, core_event_accepted *a, const char *key) {
    derive_uuid(c, seq << 1, a->intent_id);
    if (uuid_is_valid(key, strlen(key))) {
        snprintf(a->request_id, sizeof a->request_id, "%s", key);
        a->key_is_uuid = 1;
    } else {
        /* A non-UUID key is accepted by PostOrder; streams then show a UUID we generate. */
        derive_uuid(c, seq << 1 | 1, a->request_id);
    }
}

static void request_cancel(core *c, core_order *o, int64_t now_ns);

static const core_order *accept_order(core *c, const order_terms *t, const reservation *r,
                                      const char *key, order_source source, uint32_t replaces_order,
                                      int64_t now_ns) {
    uint32_t slot = history_peek_free_order(c);
    assert(slot != CORE_NO_ORDER);
    core_event ev = {.type = CORE_EVENT_ORDER_ACCEPTED, .order = slot, .time_ns = now_ns};
    core_event_accepted *a = &ev.u.accepted;
    a->account = t->account->index;
    a->instrument = t->instrument->index;
    a->direction = (uint8_t)t->direction;
    a->type = (uint8_t)t->type;
    a->tif = (uint8_t)t->tif;
    a->source = (uint8_t)source;
    a->price_nano = t->price_nano;
    a->lots = t->lots;
    a->replaces_order = replaces_order;
    a->trades_reserved = trades_needed(c, t->lots);
    if (r != NULL) {
        a->reserve_price_nano = r->reserve_price_nano;
        a->reserved_cash_nano = r->cash_nano;
        a->reserved_units = r->units;
        a->initial_commission_nano = r->commission_nano;
    } else {
        a->awaiting_replaced = 1;
    }
    snprintf(a->key, sizeof a->key, "%s", key);
    make_ids(c, c->next_seq, a, key);
    core_commit_event(c, &ev);
    core_order *order = &c->orders[slot];
    if (!order->awaiting_replaced)
        history_queue_request(c, CORE_REQUEST_NEW, slot, now_ns);
    return order;
}

static core_result duplicate_of(const core *c, uint32_t stored, const order_terms *t) {
    const core_order *order = &c->orders[stored];
    if (!same_terms(order, t))
        return fail(CORE_ERR_DUPLICATE_KEY);
    return with_order(order, true);
}

core_result core_place_order(core *c, const core_order_request *req) {
    retire_expired(c, req->now_ns);
    order_terms t;
    core_error err = check_terms(c, req, &t);
    if (err != CORE_OK)
        return fail(err);
    /* A key names its order for as long as the order stays in the history: at least the
     * idempotency retention (the history's retention is never shorter), and for as long as the
     * order is active. */
    uint32_t stored = find_by_key(c, t.account->index, req->key);
    if (stored != ORDER_INDEX_EMPTY)
        return duplicate_of(c, stored, &t);
    reservation r;
    err = check_funds(c, &t, 0, 0, CORE_NO_ORDER, req->source == ORDER_SOURCE_MARGIN_CALL, &r);
    if (err == CORE_OK)
        err = check_capacity(c, t.account->index, t.lots);
    if (err != CORE_OK)
        return fail(err);
    return with_order(accept_order(c, &t, &r, req->key, req->source, CORE_NO_ORDER, req->now_ns),
                      false);
}

static uint32_t lookup_order(const core *c, uint32_t account_index, const char *order_id,
                             bool by_request_id) {
    if (order_id == NULL || order_id[0] == '\0' || strlen(order_id) > ORDER_KEY_MAX_LEN)
        return ORDER_INDEX_EMPTY;
    if (by_request_id)
        return find_by_key(c, account_index, order_id);
    uint32_t slot = order_index_find(&c->by_order_id, order_id, strlen(order_id));
    return slot != ORDER_INDEX_EMPTY && c->orders[slot].account == account_index
               ? slot
               : ORDER_INDEX_EMPTY;
}

static core_error find_account_order(const core *c, const token *tok, const char *account_id,
                                     const char *order_id, bool by_request_id, bool need_trade,
                                     uint32_t *slot) {
    const account *acc;
    core_error err = core_account_for(c, tok, account_id, need_trade, &acc);
    if (err != CORE_OK)
        return err;
    if (order_id == NULL || order_id[0] == '\0')
        return CORE_ERR_ORDER_ID_MISSING;
    *slot = lookup_order(c, acc->index, order_id, by_request_id);
    return *slot == ORDER_INDEX_EMPTY ? CORE_ERR_ORDER_NOT_FOUND : CORE_OK;
}

core_result core_find_order(const core *c, const token *tok, const char *account_id,
                            const char *order_id, bool by_request_id) {
    uint32_t slot;
    core_error err = find_account_order(c, tok, account_id, order_id, by_request_id, false, &slot);
    return err != CORE_OK ? fail(err) : with_order(&c->orders[slot], false);
}

static void finish_unsent(core *c, core_order *o, int64_t now_ns) {
    core_event ev = {.type = CORE_EVENT_ORDER_CANCELLED, .order = o->index, .time_ns = now_ns};
    ev.u.cancelled.lots = o->lots_requested;
    ev.u.cancelled.cause = ORDER_CAUSE_CANCELLED_BY_CLIENT;
    core_commit_event(c, &ev);
}

/* Asks the exchange to cancel, once; a replacement that never reached the exchange simply ends. */
static void request_cancel(core *c, core_order *o, int64_t now_ns) {
    if (o->awaiting_replaced) {
        finish_unsent(c, o, now_ns);
        return;
    }
    if (o->cancel_requested)
        return;
    o->cancel_requested = true;
    history_queue_request(c, CORE_REQUEST_CANCEL, o->index, now_ns);
}

core_result core_cancel_order(core *c, const token *tok, const char *account_id,
                              const char *order_id, bool by_request_id, int64_t now_ns) {
    uint32_t slot;
    core_error err = find_account_order(c, tok, account_id, order_id, by_request_id, true, &slot);
    if (err != CORE_OK)
        return fail(err);
    core_order *order = &c->orders[slot];
    if (order_status_is_final(order->status))
        return fail_with_order(CORE_ERR_ORDER_NOT_ACTIVE, order);
    request_cancel(c, order, now_ns);
    return with_order(order, false);
}

core_result core_replace_order(core *c, const token *tok, const char *account_id,
                               const char *order_id, const char *key, int64_t quantity,
                               bool has_price, int64_t price_nano, int32_t price_type,
                               int64_t now_ns) {
    /* Validate everything before touching the old order: a rejected replace changes nothing. */
    retire_expired(c, now_ns);
    const account *acc;
    core_error err = core_account_for(c, tok, account_id, true, &acc);
    if (err != CORE_OK)
        return fail(err);
    if (key == NULL || key[0] == '\0')
        return fail(CORE_ERR_REPLACE_KEY_MISSING);
    if (strlen(key) > ORDER_KEY_MAX_LEN)
        return fail(CORE_ERR_REPLACE_KEY_TOO_LONG);
    uint32_t slot = lookup_order(c, acc->index, order_id, false);
    if (slot == ORDER_INDEX_EMPTY)
        return fail(CORE_ERR_ORDER_NOT_FOUND);
    core_order *old = &c->orders[slot];
    core_order_request req = {.token = tok,
                              .account_id = account_id,
                              .instrument_id = core_instrument_of(c, old)->uid,
                              .key = key,
                              .quantity = quantity,
                              .has_price = has_price,
                              .price_nano = price_nano,
                              .direction = old->direction,
                              .type = ORDER_TYPE_LIMIT,
                              .tif = old->tif,
                              .price_type = price_type,
                              .source = ORDER_SOURCE_REPLACE,
                              .now_ns = now_ns};
    order_terms t;
    err = check_terms(c, &req, &t);
    if (err != CORE_OK)
        return fail(err);
    uint32_t stored = find_by_key(c, acc->index, key);
    if (stored != ORDER_INDEX_EMPTY)
        return duplicate_of(c, stored, &t);
    /* An order already being replaced, or a replacement not yet at the exchange, is not one a
     * second replace may take over. */
    if (order_status_is_final(old->status) || old->replaced_by != CORE_NO_ORDER ||
        old->awaiting_replaced)
        return fail(CORE_ERR_ORDER_NOT_ACTIVE);
    /* A first look with the old order's holdings counted as free: a replace that could never
     * be afforded is refused now. The reservation itself is made once the cancel is confirmed
     * (replacement_settle), against the money that is free then. */
    reservation r;
    err = check_funds(c, &t, old->reserved_cash_nano, old->reserved_units, slot, false, &r);
    if (err == CORE_OK)
        err = check_capacity(c, acc->index, t.lots);
    if (err != CORE_OK)
        return fail(err);
    const core_order *order = accept_order(c, &t, NULL, key, ORDER_SOURCE_REPLACE, slot, now_ns);
    request_cancel(c, &c->orders[slot], now_ns);
    return with_order(order, false);
}

static void reject_order(core *c, core_order *o, core_error reason, int64_t now_ns) {
    core_event ev = {.type = CORE_EVENT_ORDER_REJECTED, .order = o->index, .time_ns = now_ns};
    ev.u.rejected.cause = ORDER_CAUSE_REJECTED_BY_BROKER;
    ev.u.rejected.reason = (int32_t)reason;
    core_commit_event(c, &ev);
}

/* The order a replacement waits for has ended: if the exchange cancelled it, the replacement
 * reserves against what is free now and goes to the exchange; if it filled (or was rejected),
 * the replacement is rejected. */
static void replacement_settle(core *c, const core_order *old, int64_t now_ns) {
    if (old->replaced_by == CORE_NO_ORDER)
        return;
    core_order *o = &c->orders[old->replaced_by];
    if (!o->awaiting_replaced)
        return;
    if (old->status != ORDER_STATUS_CANCELLED) {
        reject_order(c, o, CORE_ERR_REPLACED_ORDER_ENDED, now_ns);
        return;
    }
    order_terms t = {.account = &c->refdata->accounts[o->account],
                     .instrument = core_instrument_of(c, o),
                     .direction = o->direction,
                     .type = o->type,
                     .tif = o->tif,
                     .lots = o->lots_requested,
                     .price_nano = o->price_nano};
    reservation r;
    core_error err = check_funds(c, &t, 0, 0, o->index, false, &r);
    if (err != CORE_OK) {
        reject_order(c, o, err, now_ns);
        return;
    }
    core_event ev = {.type = CORE_EVENT_REPLACEMENT_ARMED, .order = o->index, .time_ns = now_ns};
    ev.u.armed = (core_event_armed){.reserve_price_nano = r.reserve_price_nano,
                                    .reserved_cash_nano = r.cash_nano,
                                    .reserved_units = r.units,
                                    .initial_commission_nano = r.commission_nano};
    core_commit_event(c, &ev);
    history_queue_request(c, CORE_REQUEST_NEW, o->index, now_ns);
}

uint64_t core_client_ref(const core_order *order) {
    return (uint64_t)(uint32_t)order->accepted_seq << 32 | ((uint64_t)order->index + 1);
}

/* The order a report names, or NULL when the report is about an order the core no longer holds
 * (an earlier order of a reused slot, or one that left the history). */
static core_order *reported_order(core *c, uint64_t client_ref) {
    uint64_t slot_plus_one = client_ref & UINT32_MAX;
    if (slot_plus_one == 0 || slot_plus_one > c->config.max_orders)
        return NULL;
    core_order *o = &c->orders[slot_plus_one - 1];
    return o->status != 0 && core_client_ref(o) == client_ref ? o : NULL;
}

static void trade_event(const core *c, const core_order *order, const core_exchange_report *report,
                        core_event *ev) {
    const instrument *ins = core_instrument_of(c, order);
    ev->type = CORE_EVENT_ORDER_TRADE;
    ev->u.trade.trade_id = report->trade_id;
    ev->u.trade.lots = report->lots;
    ev->u.trade.price_nano = report->price_nano;
    int64_t units;
    bool ok = checked_mul(report->lots, ins->lot, &units) &&
              valuation_amount(ins, report->price_nano, units, &ev->u.trade.value_nano);
    assert(ok); /* within the bounds checked when the order was accepted */
    (void)ok;
    /* Commission is charged on the order's running total, so the fills together never pay more
     * than the order reserved for (rounding up each fill separately could). */
    int64_t total = order->executed_value_nano + ev->u.trade.value_nano;
    ev->u.trade.commission_nano =
        valuation_commission(total, c->config.commission_bp) - order->executed_commission_nano;
    ev->u.trade.aggressor = report->aggressor;
}

void core_on_exchange_report(core *c, const core_exchange_report *report) {
    core_order *order = reported_order(c, report->client_ref);
    if (order == NULL || order_status_is_final(order->status))
        return; /* a late report for an order the broker already closed */
    if (report->kind == REPORT_TRADE &&
        (report->lots <= 0 || report->lots > order->lots_requested - order->lots_executed ||
         order->trades_reserved == 0))
        return; /* more than the order asked for: not a report the exchange may send */
    core_event ev = {.order = order->index, .time_ns = report->time_ns};
    switch (report->kind) {
    case REPORT_ACK:
        if (order->exchange_order_id != 0)
            return;
        ev.type = CORE_EVENT_ORDER_ACKED;
        ev.u.acked.exchange_order_id = report->exchange_order_id;
        break;
    case REPORT_TRADE:
        trade_event(c, order, report, &ev);
        break;
    case REPORT_CANCELLED:
        ev.type = CORE_EVENT_ORDER_CANCELLED;
        ev.u.cancelled.lots = report->lots;
        ev.u.cancelled.cause = (uint8_t)report->cause;
        break;
    case REPORT_REJECTED:
        ev.type = CORE_EVENT_ORDER_REJECTED;
        ev.u.rejected.cause = (uint8_t)report->cause;
        ev.u.rejected.reason = (int32_t)report->reject_reason;
        break;
    }
    core_commit_event(c, &ev);
    if (order_status_is_final(order->status))
        replacement_settle(c, order, report->time_ns);
    if (report->kind == REPORT_TRADE)
        stop_orders_evaluate(c, order->instrument, report->time_ns);
}

void core_resume(core *c, int64_t now_ns) {
    for (uint32_t s = 0; s < c->pools.order_high; s++) {
        core_order *o = &c->orders[s];
        if (o->status == 0 || order_status_is_final(o->status))
            continue;
        if (c->accounts.closed[o->account]) {
            /* The account's close was durable and answered; the cancels it queued were not. */
            request_cancel(c, o, now_ns);
        } else if (o->awaiting_replaced) {
            core_order *old = &c->orders[o->replaces_order];
            if (order_status_is_final(old->status))
                replacement_settle(c, old, now_ns);
            else
                request_cancel(c, old, now_ns);
        }
    }
    stop_orders_resume(c, now_ns);
}

/* The slot a new sandbox account takes: a never-used one, else the lowest closed sandbox slot
 * whose orders have all left the history (its old account is gone for every client). */
static uint32_t free_account_slot(const core *c) {
    const core_accounts_state *a = &c->accounts;
    uint32_t fresh = a->configured_count + a->opened_count;
    if (fresh < a->capacity)
        return fresh;
    for (uint32_t slot = a->configured_count; slot < fresh; slot++)
        if (a->closed[slot] && c->account_orders[slot] == 0 && c->stops.per_account[slot] == 0)
            return slot;
    return CORE_NO_ORDER;
}

core_error core_open_sandbox_account(core *c, const token *tok, const char *name, int64_t now_ns,
                                     char id_out[ORDER_ID_SIZE]) {
    retire_expired(c, now_ns);
    uint32_t slot = free_account_slot(c);
    if (slot == CORE_NO_ORDER)
        return CORE_ERR_SANDBOX_ACCOUNT_LIMIT;
    core_event ev = {.type = CORE_EVENT_ACCOUNT_OPENED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    core_event_account_opened *o = &ev.u.account_opened;
    o->account = slot;
    o->token = refdata_token_index(c->refdata, tok);
    /* From the event's number, not the slot: a reused slot gets a new id. */
    derive_uuid(c, ACCOUNT_ID_SALT ^ c->next_seq, o->id);
    /* A longer name is cut at a character boundary: the contract sets no limit, we keep 63 bytes.
     */
    size_t len = name != NULL ? strlen(name) : 0;
    if (len >= sizeof o->name) {
        len = sizeof o->name - 1;
        while (len > 0 && ((unsigned char)name[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(o->name, name != NULL ? name : "", len);
    /* Whoever follows the old account of a reused slot (streams) lets go of it first. */
    if (slot < c->accounts.configured_count + c->accounts.opened_count &&
        c->listener.account_reused != NULL)
        c->listener.account_reused(c->listener.ctx, slot);
    core_commit_event(c, &ev);
    memcpy(id_out, o->id, ORDER_ID_SIZE);
    return CORE_OK;
}

/* A sandbox account the token may trade on; for a broker account the sandbox answers as the
 * transport does for every sandbox method (50004: it knows no such account). */
static core_error sandbox_account_for(const core *c, const token *tok, const char *account_id,
                                      const account **out) {
    core_error err = core_account_for(c, tok, account_id, true, out);
    return err != CORE_OK ? err : (*out)->sandbox ? CORE_OK : CORE_ERR_ACCOUNT_NOT_FOUND;
}

core_error core_close_sandbox_account(core *c, const token *tok, const char *account_id,
                                      int64_t now_ns) {
    const account *acc;
    core_error err = sandbox_account_for(c, tok, account_id, &acc);
    if (err != CORE_OK)
        return err;
    core_event ev = {.type = CORE_EVENT_ACCOUNT_CLOSED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.account_closed.account = acc->index;
    core_commit_event(c, &ev);
    for (uint32_t s = c->active_first[acc->index]; s != CORE_NO_ORDER;) {
        core_order *o = &c->orders[s];
        s = o->active_next; /* request_cancel may end the order and unlink it */
        request_cancel(c, o, now_ns);
    }
    stop_orders_cancel_account(c, acc->index, now_ns);
    return CORE_OK;
}

void core_record_market_maker(core *c, uint32_t instrument_index, int64_t reference_nano,
                              const uint64_t random_state[4], int64_t now_ns) {
    stop_orders_expire(c, now_ns); /* the market maker's period is the stop orders' clock too */
    core_event ev = {
        .type = CORE_EVENT_MARKET_MAKER_MOVED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.market_maker.instrument = instrument_index;
    ev.u.market_maker.reference_nano = reference_nano;
    memcpy(ev.u.market_maker.random_state, random_state, sizeof ev.u.market_maker.random_state);
    core_commit_event(c, &ev);
}

void core_set_trading_halt(core *c, uint32_t instrument_index, bool halted, int64_t now_ns,
                           bool *changed) {
    assert(instrument_index < c->refdata->instrument_count);
    *changed = core_instrument_halted(c, instrument_index) != halted;
    if (!*changed)
        return;
    stop_orders_expire(c, now_ns);
    core_event ev = {.type = CORE_EVENT_TRADING_HALT, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.halt.instrument = instrument_index;
    ev.u.halt.halted = halted;
    core_commit_event(c, &ev);
    if (!halted)
        stop_orders_evaluate(c, instrument_index, now_ns);
}

uint32_t core_halted_count(const core *c) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
        n += c->venue.halted[i] != 0;
    return n;
}

void core_record_market_print(core *c, uint32_t instrument_index, uint64_t trade_id,
                              int64_t price_nano, int64_t lots, bool buy, int64_t now_ns) {
    stop_orders_expire(c, now_ns);
    core_event ev = {.type = CORE_EVENT_MARKET_PRINT, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.market_print.instrument = instrument_index;
    ev.u.market_print.buy = buy;
    ev.u.market_print.price_nano = price_nano;
    ev.u.market_print.lots = lots;
    ev.u.market_print.trade_id = trade_id;
    core_commit_event(c, &ev);
    stop_orders_evaluate(c, instrument_index, now_ns);
}

core_error core_pay_in(core *c, const token *tok, const char *account_id, const char *currency,
                       int64_t amount_nano, int64_t now_ns, int64_t *balance_nano) {
    const account *acc;
    core_error err = sandbox_account_for(c, tok, account_id, &acc);
    if (err != CORE_OK)
        return err;
    if (amount_nano <= 0 || currency == NULL || currency[0] == '\0' || strlen(currency) >= 8)
        return CORE_ERR_PAY_IN_AMOUNT_INVALID;
    if (!ledger_cash_has_room(&c->ledger, acc->index, currency))
        return CORE_ERR_CURRENCY_LIMIT;
    const ledger_cash *cash = ledger_cash_find(&c->ledger, acc->index, currency);
    int64_t balance = cash != NULL ? cash->balance_nano : 0, after;
    if (!checked_add(balance, amount_nano, &after) || after > CORE_MAX_MONEY_NANO)
        return CORE_ERR_PAY_IN_TOO_LARGE;
    core_event ev = {.type = CORE_EVENT_CASH_ADJUSTED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.cash.account = acc->index;
    snprintf(ev.u.cash.currency, sizeof ev.u.cash.currency, "%s", currency);
    ev.u.cash.amount_nano = amount_nano;
    core_commit_event(c, &ev);
    *balance_nano = ledger_cash_find(&c->ledger, acc->index, currency)->balance_nano;
    return CORE_OK;
}
