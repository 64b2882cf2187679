/* Stop orders: placement checks, triggering, expiry, retirement and their apply (see
 * stop_orders.h for the design). */
#include "core/stop_orders.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/history.h"
#include "util/bigmem.h"
#include "util/checked.h"
#include "util/prng.h"
#include "util/uuid.h"

#define NANO 1000000000LL
#define STOP_ID_SALT 0x5700000000000000ULL
#define PRICE_TYPE_MAX 2

/* ---- The pool -------------------------------------------------------------------------------- */

int stop_orders_init(core_stop_book *b, uint32_t capacity, uint32_t per_account_max,
                     uint32_t accounts, uint32_t instruments) {
    memset(b, 0, sizeof *b);
    b->capacity = capacity ? capacity : STOP_ORDERS_DEFAULT_MAX;
    b->per_account_max = per_account_max ? per_account_max : STOP_ORDERS_DEFAULT_PER_ACCOUNT;
    b->records = bigmem_alloc(b->capacity, sizeof *b->records);
    b->finished = bigmem_alloc(b->capacity, sizeof *b->finished);
    b->per_account = calloc(accounts ? accounts : 1, sizeof *b->per_account);
    b->active_per_instrument = calloc(instruments ? instruments : 1, sizeof(uint32_t));
    b->last_price_nano = calloc(instruments ? instruments : 1, sizeof(int64_t));
    if (b->records == NULL || b->finished == NULL || b->per_account == NULL ||
        b->active_per_instrument == NULL || b->last_price_nano == NULL) {
        stop_orders_deinit(b);
        return -ENOMEM;
    }
    return 0;
}

void stop_orders_deinit(core_stop_book *b) {
    bigmem_free(b->records, b->capacity, sizeof *b->records);
    bigmem_free(b->finished, b->capacity, sizeof *b->finished);
    free(b->per_account);
    free(b->active_per_instrument);
    free(b->last_price_nano);
    b->records = NULL;
    b->finished = NULL;
    b->per_account = b->active_per_instrument = NULL;
    b->last_price_nano = NULL;
}

void stop_orders_reset(core_stop_book *b, uint32_t accounts, uint32_t instruments) {
    memset(b->records, 0, (size_t)b->capacity * sizeof *b->records);
    memset(b->per_account, 0, (size_t)(accounts ? accounts : 1) * sizeof *b->per_account);
    memset(b->active_per_instrument, 0, (size_t)(instruments ? instruments : 1) * sizeof(uint32_t));
    memset(b->last_price_nano, 0, (size_t)(instruments ? instruments : 1) * sizeof(int64_t));
    b->high = b->in_use = b->finished_head = b->finished_count = 0;
    b->next_expiry_ns = 0;
}

static bool is_final(uint8_t status) {
    return status == STOP_STATUS_EXECUTED || status == STOP_STATUS_CANCELED ||
           status == STOP_STATUS_EXPIRED;
}

/* The account's stop order with this key (compared as order keys are: a UUID in either case). */
static uint32_t find_by_key(const core *c, uint32_t account_index, const char *key) {
    const core_stop_book *b = &c->stops;
    char want[sizeof(uint32_t) + ORDER_KEY_MAX_LEN], have[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t want_len = history_key_bytes(account_index, key, want);
    for (uint32_t s = 0; s < b->high; s++) {
        const core_stop_order *o = &b->records[s];
        if (o->status != 0 && o->account == account_index &&
            history_key_bytes(account_index, o->key, have) == want_len &&
            memcmp(have, want, want_len) == 0)
            return s;
    }
    return CORE_NO_ORDER;
}

static uint32_t find_by_id(const core *c, uint32_t account_index, const char *id) {
    const core_stop_book *b = &c->stops;
    for (uint32_t s = 0; s < b->high; s++) {
        const core_stop_order *o = &b->records[s];
        if (o->status != 0 && o->account == account_index && strcmp(o->id, id) == 0)
            return s;
    }
    return CORE_NO_ORDER;
}

static uint32_t free_slot(const core_stop_book *b) {
    for (uint32_t s = 0; s < b->high; s++)
        if (b->records[s].status == 0)
            return s;
    return b->high < b->capacity ? b->high : CORE_NO_ORDER;
}

/* ---- Placement checks ------------------------------------------------------------------------ */

static core_error check_price_value(int64_t price_nano, const instrument *ins) {
    if (price_nano <= 0)
        return CORE_ERR_PRICE_NOT_POSITIVE;
    if (price_nano % ins->min_price_increment_nano != 0)
        return CORE_ERR_PRICE_STEP;
    if (price_nano > CORE_MAX_MONEY_NANO)
        return CORE_ERR_AMOUNT_TOO_LARGE;
    return CORE_OK;
}

static core_error check_enums(const core_stop_request *r) {
    if (r->quantity == 0)
        return CORE_ERR_QUANTITY_ZERO;
    if (r->quantity < 0)
        return CORE_ERR_QUANTITY_NEGATIVE;
    if (r->direction == 0)
        return CORE_ERR_DIRECTION_MISSING;
    if (r->direction != DIRECTION_BUY && r->direction != DIRECTION_SELL)
        return CORE_ERR_DIRECTION_INVALID;
    if (r->stop_type == 0)
        return CORE_ERR_STOP_TYPE_MISSING;
    if (r->stop_type < STOP_TYPE_TAKE_PROFIT || r->stop_type > STOP_TYPE_STOP_LIMIT)
        return CORE_ERR_STOP_TYPE_INVALID;
    if (r->expiration == 0)
        return CORE_ERR_STOP_EXPIRATION_MISSING;
    if (r->expiration != STOP_EXPIRES_NEVER && r->expiration != STOP_EXPIRES_AT_DATE)
        return CORE_ERR_STOP_EXPIRATION_INVALID;
    if (r->child_type < 0 || r->child_type > STOP_CHILD_LIMIT ||
        (r->stop_type == STOP_TYPE_STOP_LIMIT && r->child_type == STOP_CHILD_MARKET))
        return CORE_ERR_STOP_CHILD_TYPE_INVALID;
    if (r->take_profit_type < 0 || r->take_profit_type > STOP_TAKE_PROFIT_TRAILING ||
        (r->take_profit_type != 0 && r->stop_type != STOP_TYPE_TAKE_PROFIT))
        return CORE_ERR_STOP_TAKE_PROFIT_TYPE_INVALID;
    if (r->price_type < 0 || r->price_type > PRICE_TYPE_MAX)
        return CORE_ERR_PRICE_TYPE_INVALID;
    return CORE_OK;
}

static core_error check_expiry(const core_stop_request *r) {
    if (r->expiration != STOP_EXPIRES_AT_DATE)
        return CORE_OK; /* ignored for good-till-cancel, as the contract says */
    if (!r->has_expire || r->expire_state == 1)
        return CORE_ERR_STOP_EXPIRE_DATE_INVALID;
    if (r->expire_state != 0 || r->expire_ns <= r->now_ns)
        return CORE_ERR_STOP_EXPIRE_DATE_RANGE;
    return CORE_OK;
}

static bool trailing(const core_stop_request *r) {
    return r->stop_type == STOP_TYPE_TAKE_PROFIT &&
           r->take_profit_type == STOP_TAKE_PROFIT_TRAILING;
}

static bool trailing_value_ok(int32_t type, int64_t value, bool positive) {
    if (value < 0 || (positive && value == 0))
        return false;
    if (type == TRAILING_RELATIVE)
        return value < STOP_TRAILING_MAX_PERCENT_NANO;
    return type == TRAILING_ABSOLUTE && value <= CORE_MAX_MONEY_NANO;
}

static core_error check_trailing(const core_stop_request *r) {
    if (!trailing(r))
        return CORE_OK;
    if (!r->has_trailing || !r->has_indent)
        return CORE_ERR_STOP_TRAILING_MISSING;
    if (r->indent_type == 0)
        return CORE_ERR_STOP_INDENT_TYPE_MISSING;
    if (r->spread_type == 0)
        return CORE_ERR_STOP_SPREAD_TYPE_MISSING;
    if (!trailing_value_ok(r->indent_type, r->indent_nano, true) ||
        !trailing_value_ok(r->spread_type, r->has_spread ? r->spread_nano : 0, false))
        return CORE_ERR_STOP_TRAILING_INVALID;
    return CORE_OK;
}

/* The child's type: as asked, else a limit for a stop-limit and for a take-profit with a
 * price, a market order otherwise. */
static stop_child_type child_type_of(const core_stop_request *r) {
    if (r->child_type != 0)
        return (stop_child_type)r->child_type;
    if (r->stop_type == STOP_TYPE_STOP_LIMIT ||
        (r->stop_type == STOP_TYPE_TAKE_PROFIT && !trailing(r) && r->has_price))
        return STOP_CHILD_LIMIT;
    return STOP_CHILD_MARKET;
}

static core_error check_prices(const core_stop_request *r, const instrument *ins) {
    if (!r->has_stop_price)
        return CORE_ERR_STOP_PRICE_MISSING;
    core_error err = check_price_value(r->stop_price_nano, ins);
    if (err != CORE_OK)
        return err;
    /* A limit child needs its price, except a trailing stop's, whose price follows the market. */
    bool needs_price = child_type_of(r) == STOP_CHILD_LIMIT && !trailing(r);
    if (needs_price && !r->has_price)
        return CORE_ERR_PRICE_MISSING;
    if (needs_price)
        return check_price_value(r->price_nano, ins);
    return CORE_OK;
}

/* A stop order the last print would trigger at once is on the wrong side of the market: a
 * take-profit sells above and buys below the market, a stop sells below and buys above. */
static bool wrong_side(const core_stop_request *r, int64_t last_nano) {
    if (last_nano <= 0 || trailing(r))
        return false;
    bool sell = r->direction == DIRECTION_SELL;
    if (r->stop_type == STOP_TYPE_TAKE_PROFIT)
        return sell ? r->stop_price_nano <= last_nano : r->stop_price_nano >= last_nano;
    return sell ? r->stop_price_nano >= last_nano : r->stop_price_nano <= last_nano;
}

static int64_t last_price_of(const core *c, uint32_t instrument_index) {
    int64_t last = c->stops.last_price_nano[instrument_index];
    if (last > 0)
        return last;
    core_market m;
    core_market_view(c, instrument_index, &m);
    return m.last_price_nano;
}

static bool same_terms(const core_stop_order *o, const core_event_stop_placed *p) {
    return o->instrument == p->instrument && o->direction == p->direction && o->type == p->type &&
           o->take_profit_type == p->take_profit_type && o->child_type == p->child_type &&
           o->expiration == p->expiration && o->lots == p->lots && o->price_nano == p->price_nano &&
           o->stop_price_nano == p->stop_price_nano && o->expire_ns == p->expire_ns &&
           o->indent_type == p->indent_type && o->spread_type == p->spread_type &&
           o->indent_nano == p->indent_nano && o->spread_nano == p->spread_nano;
}

static void derive_id(const core *c, uint64_t seq, char out[ORDER_ID_SIZE]) {
    uint64_t state = c->config.id_seed ^ STOP_ID_SALT ^ seq;
    uint64_t hi = prng_splitmix64(&state);
    state = hi;
    uuid_format_from_bits(hi, prng_splitmix64(&state), out);
}

static core_stop_result stop_fail(core_error err) {
    return (core_stop_result){.error = err, .stop = {.index = CORE_NO_ORDER}};
}

static core_error check_request(const core *c, const core_stop_request *r, const account **acc,
                                const instrument **ins) {
    size_t key_len = r->key == NULL ? 0 : strlen(r->key);
    if (key_len > ORDER_KEY_MAX_LEN)
        return CORE_ERR_ORDER_ID_TOO_LONG;
    core_error err = core_account_for(c, r->token, r->account_id, true, acc);
    if (err != CORE_OK)
        return err;
    if (r->instrument_id == NULL || r->instrument_id[0] == '\0')
        return CORE_ERR_INSTRUMENT_MISSING;
    *ins = refdata_find_instrument_id(c->refdata, r->instrument_id);
    if (*ins == NULL)
        return CORE_ERR_INSTRUMENT_NOT_FOUND;
    if ((err = check_enums(r)) != CORE_OK || (err = check_expiry(r)) != CORE_OK ||
        (err = check_prices(r, *ins)) != CORE_OK || (err = check_trailing(r)) != CORE_OK)
        return err;
    return CORE_OK;
}

static void fill_placed(const core_stop_request *r, const account *acc, const instrument *ins,
                        core_event_stop_placed *p) {
    bool trail = trailing(r);
    stop_child_type child = child_type_of(r);
    p->account = acc->index;
    p->instrument = ins->index;
    p->direction = (uint8_t)r->direction;
    p->type = (uint8_t)r->stop_type;
    p->take_profit_type =
        r->stop_type == STOP_TYPE_TAKE_PROFIT
            ? (uint8_t)(trail ? STOP_TAKE_PROFIT_TRAILING : STOP_TAKE_PROFIT_REGULAR)
            : 0;
    p->child_type = (uint8_t)child;
    p->expiration = (uint8_t)r->expiration;
    p->lots = r->quantity;
    p->price_nano = child == STOP_CHILD_LIMIT && !trail ? r->price_nano : 0;
    p->stop_price_nano = r->stop_price_nano;
    p->expire_ns = r->expiration == STOP_EXPIRES_AT_DATE ? r->expire_ns : 0;
    if (trail) {
        p->indent_type = (uint8_t)r->indent_type;
        p->spread_type = (uint8_t)r->spread_type;
        p->indent_nano = r->indent_nano;
        p->spread_nano = r->has_spread ? r->spread_nano : 0;
    }
}

core_stop_result core_post_stop_order(core *c, const core_stop_request *r) {
    stop_orders_expire(c, r->now_ns);
    const account *acc;
    const instrument *ins;
    core_error err = check_request(c, r, &acc, &ins);
    if (err != CORE_OK)
        return stop_fail(err);
    core_event ev = {
        .type = CORE_EVENT_STOP_ORDER_PLACED, .order = CORE_NO_ORDER, .time_ns = r->now_ns};
    core_event_stop_placed *p = &ev.u.stop_placed;
    fill_placed(r, acc, ins, p);
    bool has_key = r->key != NULL && r->key[0] != '\0';
    if (has_key) {
        uint32_t stored = find_by_key(c, acc->index, r->key);
        if (stored != CORE_NO_ORDER) {
            if (!same_terms(&c->stops.records[stored], p))
                return stop_fail(CORE_ERR_DUPLICATE_KEY);
            return (core_stop_result){.stop = c->stops.records[stored], .duplicate = true};
        }
    }
    if (wrong_side(r, last_price_of(c, ins->index)))
        return stop_fail(CORE_ERR_STOP_WRONG_SIDE);
    if (c->stops.per_account[acc->index] >= c->stops.per_account_max)
        return stop_fail(CORE_ERR_STOP_ACCOUNT_LIMIT);
    p->stop = free_slot(&c->stops);
    if (p->stop == CORE_NO_ORDER)
        return stop_fail(CORE_ERR_STOP_CAPACITY);
    derive_id(c, c->next_seq, p->id);
    /* Without a key the request is not idempotent; the stop order's id stands in for it. */
    snprintf(p->key, sizeof p->key, "%s", has_key ? r->key : p->id);
    core_commit_event(c, &ev);
    return (core_stop_result){.stop = c->stops.records[p->stop]};
}

core_stop_result core_cancel_stop_order(core *c, const token *tok, const char *account_id,
                                        const char *stop_order_id, int64_t now_ns) {
    stop_orders_expire(c, now_ns);
    const account *acc;
    core_error err = core_account_for(c, tok, account_id, true, &acc);
    if (err != CORE_OK)
        return stop_fail(err);
    if (stop_order_id == NULL || stop_order_id[0] == '\0')
        return stop_fail(CORE_ERR_STOP_NOT_FOUND);
    uint32_t slot = find_by_id(c, acc->index, stop_order_id);
    if (slot == CORE_NO_ORDER)
        return stop_fail(CORE_ERR_STOP_NOT_FOUND);
    if (c->stops.records[slot].status != STOP_STATUS_ACTIVE)
        return (core_stop_result){.error = CORE_ERR_STOP_NOT_ACTIVE,
                                  .stop = c->stops.records[slot]};
    core_event ev = {
        .type = CORE_EVENT_STOP_ORDER_CANCELLED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.stop.stop = slot;
    ev.u.stop.child = CORE_NO_ORDER;
    core_commit_event(c, &ev);
    return (core_stop_result){.stop = c->stops.records[slot]};
}

void stop_orders_cancel_account(core *c, uint32_t account_index, int64_t now_ns) {
    core_stop_book *b = &c->stops;
    for (uint32_t s = 0; s < b->high; s++) {
        if (b->records[s].status != STOP_STATUS_ACTIVE || b->records[s].account != account_index)
            continue;
        core_event ev = {
            .type = CORE_EVENT_STOP_ORDER_CANCELLED, .order = CORE_NO_ORDER, .time_ns = now_ns};
        ev.u.stop.stop = s;
        ev.u.stop.child = CORE_NO_ORDER;
        core_commit_event(c, &ev);
    }
}

/* ---- Reads ----------------------------------------------------------------------------------- */

static bool status_matches(uint8_t status, int32_t want) {
    return want == 1 || want == status;
}

/* The record as at `now_ns`. */
static core_stop_order seen_at(const core_stop_order *o, int64_t now_ns) {
    core_stop_order v = *o;
    if (v.status == STOP_STATUS_ACTIVE && v.expiration == STOP_EXPIRES_AT_DATE &&
        v.expire_ns <= now_ns) {
        v.status = STOP_STATUS_EXPIRED;
        v.completion_ns = v.expire_ns;
    }
    return v;
}

uint32_t core_list_stop_orders(const core *c, uint32_t account_index, int32_t status,
                               int64_t from_ns, int64_t to_ns, int64_t now_ns, core_stop_order *out,
                               uint32_t max) {
    const core_stop_book *b = &c->stops;
    uint32_t n = 0;
    for (uint32_t s = 0; s < b->high; s++) {
        if (b->records[s].status == 0)
            continue;
        core_stop_order view = seen_at(&b->records[s], now_ns);
        const core_stop_order *o = &view;
        if (o->account != account_index || !status_matches(o->status, status) ||
            o->created_ns < from_ns || o->created_ns > to_ns)
            continue;
        if (out == NULL) {
            n++;
            continue;
        }
        if (n == max)
            break;
        /* Newest first: insertion by placement number (the pool's order is the slots'). */
        uint32_t at = n++;
        while (at > 0 && out[at - 1].placed_seq < o->placed_seq) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = *o;
    }
    return n;
}

const char *core_stop_child_exchange_id(const core *c, const core_stop_order *stop) {
    if (stop->status != STOP_STATUS_EXECUTED)
        return NULL;
    uint32_t slot = stop->child_order;
    if (slot < c->config.max_orders) {
        const core_order *o = &c->orders[slot];
        if (o->status != 0 && strcmp(o->intent_id, stop->child_id) == 0 &&
            o->exchange_order_id != 0)
            return o->exchange_id_text;
    }
    return stop->child_id;
}

/* ---- Trailing -------------------------------------------------------------------------------- */

static int64_t floor_tick(int64_t v, int64_t tick) {
    int64_t r = v % tick;
    return r < 0 ? v - r - tick : v - r;
}

static int64_t ceil_tick(int64_t v, int64_t tick) {
    int64_t r = v % tick;
    return r > 0 ? v - r + tick : v - r;
}

/* An indent or spread as a price distance from `base`: absolute as given, relative as that
 * percentage of `base`. */
static int64_t distance(uint8_t type, int64_t value, int64_t base) {
    if (type == TRAILING_RELATIVE)
        return (int64_t)((__int128)base * value / STOP_TRAILING_MAX_PERCENT_NANO);
    return value;
}

/* The stop level from the extremum, and the child's price from the level, each on the tick and
 * on the safe side of it: a sell's below, a buy's above. Prices, indents and spreads are at most
 * CORE_MAX_MONEY_NANO each, so the sums fit. */
static void trail_levels(core_stop_order *o, int64_t tick) {
    bool sell = o->direction == DIRECTION_SELL;
    int64_t indent = distance(o->indent_type, o->indent_nano, o->extremum_nano);
    o->level_nano = sell ? floor_tick(o->extremum_nano - indent, tick)
                         : ceil_tick(o->extremum_nano + indent, tick);
    int64_t spread = distance(o->spread_type, o->spread_nano, o->level_nano);
    o->trail_price_nano =
        sell ? floor_tick(o->level_nano - spread, tick) : ceil_tick(o->level_nano + spread, tick);
    if (o->trail_price_nano < tick)
        o->trail_price_nano = tick;
}

/* A trailing take-profit waits until the market reaches its activation price, then follows the
 * best price since (the highest for a sell, the lowest for a buy). */
static void trail(core_stop_order *o, int64_t price, int64_t tick) {
    bool sell = o->direction == DIRECTION_SELL;
    if (o->trailing == TRAILING_WAITING) {
        if (sell ? price < o->stop_price_nano : price > o->stop_price_nano)
            return;
        o->trailing = TRAILING_ACTIVATED;
        o->extremum_nano = price;
    } else if (sell ? price > o->extremum_nano : price < o->extremum_nano) {
        o->extremum_nano = price;
    } else {
        return;
    }
    trail_levels(o, tick);
}

void stop_orders_on_print(core *c, uint32_t instrument_index, int64_t price_nano) {
    core_stop_book *b = &c->stops;
    b->last_price_nano[instrument_index] = price_nano;
    if (b->active_per_instrument[instrument_index] == 0)
        return;
    int64_t tick = c->refdata->instruments[instrument_index].min_price_increment_nano;
    for (uint32_t s = 0; s < b->high; s++) {
        core_stop_order *o = &b->records[s];
        if (o->status == STOP_STATUS_ACTIVE && o->instrument == instrument_index &&
            o->trailing != 0)
            trail(o, price_nano, tick);
    }
}

/* ---- Triggering ------------------------------------------------------------------------------ */

static bool reached(const core_stop_order *o, int64_t price) {
    bool sell = o->direction == DIRECTION_SELL;
    if (o->trailing != 0)
        return o->trailing == TRAILING_ACTIVATED &&
               (sell ? price <= o->level_nano : price >= o->level_nano);
    if (o->type == STOP_TYPE_TAKE_PROFIT)
        return sell ? price >= o->stop_price_nano : price <= o->stop_price_nano;
    return sell ? price <= o->stop_price_nano : price >= o->stop_price_nano;
}

/* The child goes through core_place_order like any order (on the account's behalf: no token),
 * under the stop order's id as its key. A key already held with the same terms is the child a
 * crash left without its TRIGGERED event: it is taken as the child. */
static void trigger(core *c, core_stop_order *o, int64_t price, int64_t now_ns) {
    stop_orders_expire(c, now_ns); /* a stop order past its date expires rather than triggers */
    if (o->status != STOP_STATUS_ACTIVE)
        return;
    bool limit = o->child_type == STOP_CHILD_LIMIT;
    int64_t child_price = o->trailing != 0 ? o->trail_price_nano : o->price_nano;
    core_order_request req = {.token = NULL,
                              .account_id = c->refdata->accounts[o->account].id,
                              .instrument_id = c->refdata->instruments[o->instrument].uid,
                              .key = o->id,
                              .quantity = o->lots,
                              .has_price = limit,
                              .price_nano = limit ? child_price : 0,
                              .direction = o->direction,
                              .type = limit ? ORDER_TYPE_LIMIT : ORDER_TYPE_MARKET,
                              .source = ORDER_SOURCE_ASYNC,
                              .now_ns = now_ns};
    uint32_t slot = o->index;
    core_result res = core_place_order(c, &req);
    core_event ev = {
        .type = CORE_EVENT_STOP_ORDER_TRIGGERED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.stop.stop = slot;
    ev.u.stop.price_nano = price;
    ev.u.stop.child = res.error == CORE_OK ? res.order.index : CORE_NO_ORDER;
    ev.u.stop.reason = (int32_t)res.error;
    core_commit_event(c, &ev);
}

void stop_orders_evaluate(core *c, uint32_t instrument_index, int64_t now_ns) {
    core_stop_book *b = &c->stops;
    /* A halted instrument's stop orders wait: nothing may trade, and a child would be refused
     * (30079) and end its stop order. Resuming evaluates them again (core_set_trading_halt). */
    if (instrument_index >= c->refdata->instrument_count ||
        b->active_per_instrument[instrument_index] == 0 ||
        core_instrument_halted(c, instrument_index))
        return;
    int64_t price = b->last_price_nano[instrument_index];
    if (price <= 0)
        return;
    for (uint32_t s = 0; s < b->high; s++) {
        core_stop_order *o = &b->records[s];
        if (o->status == STOP_STATUS_ACTIVE && o->instrument == instrument_index &&
            reached(o, price))
            trigger(c, o, price, now_ns);
    }
}

void stop_orders_resume(core *c, int64_t now_ns) {
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
        stop_orders_evaluate(c, i, now_ns);
}

/* ---- Expiry and retirement ------------------------------------------------------------------- */

static uint32_t retirable(const core *c, int64_t now_ns) {
    const core_stop_book *b = &c->stops;
    uint32_t n = 0;
    while (n < b->finished_count && n < CORE_RETIRE_BATCH_MAX) {
        const core_stop_order *o = &b->records[b->finished[(b->finished_head + n) % b->capacity]];
        if (o->completion_ns > now_ns - c->config.order_retention_ns)
            break;
        n++;
    }
    return n;
}

void stop_orders_expire(core *c, int64_t now_ns) {
    core_stop_book *b = &c->stops;
    uint32_t count = retirable(c, now_ns);
    if (count > 0) {
        core_event ev = {
            .type = CORE_EVENT_STOP_ORDERS_RETIRED, .order = CORE_NO_ORDER, .time_ns = now_ns};
        ev.u.stop.stop = ev.u.stop.child = CORE_NO_ORDER;
        ev.u.stop.count = count;
        core_commit_event(c, &ev);
    }
    if (b->next_expiry_ns != 0 && now_ns < b->next_expiry_ns)
        return;
    int64_t next = INT64_MAX;
    for (uint32_t s = 0; s < b->high; s++) {
        core_stop_order *o = &b->records[s];
        if (o->status != STOP_STATUS_ACTIVE || o->expiration != STOP_EXPIRES_AT_DATE)
            continue;
        if (o->expire_ns > now_ns) {
            next = o->expire_ns < next ? o->expire_ns : next;
            continue;
        }
        core_event ev = {
            .type = CORE_EVENT_STOP_ORDER_EXPIRED, .order = CORE_NO_ORDER, .time_ns = now_ns};
        ev.u.stop.stop = s;
        ev.u.stop.child = CORE_NO_ORDER;
        core_commit_event(c, &ev);
    }
    b->next_expiry_ns = next;
}

/* ---- Apply ----------------------------------------------------------------------------------- */

static void apply_placed(core *c, const core_event *ev) {
    core_stop_book *b = &c->stops;
    const core_event_stop_placed *p = &ev->u.stop_placed;
    core_stop_order *o = &b->records[p->stop];
    assert(o->status == 0 && p->stop <= b->high);
    *o = (core_stop_order){
        .index = p->stop,
        .account = p->account,
        .instrument = p->instrument,
        .status = STOP_STATUS_ACTIVE,
        .direction = p->direction,
        .type = p->type,
        .take_profit_type = p->take_profit_type,
        .child_type = p->child_type,
        .expiration = p->expiration,
        .indent_type = p->indent_type,
        .spread_type = p->spread_type,
        .trailing = p->take_profit_type == STOP_TAKE_PROFIT_TRAILING ? TRAILING_WAITING : 0,
        .lots = p->lots,
        .price_nano = p->price_nano,
        .stop_price_nano = p->stop_price_nano,
        .expire_ns = p->expire_ns,
        .indent_nano = p->indent_nano,
        .spread_nano = p->spread_nano,
        .created_ns = ev->time_ns,
        .placed_seq = ev->seq,
        .child_order = CORE_NO_ORDER};
    memcpy(o->key, p->key, sizeof o->key);
    memcpy(o->id, p->id, sizeof o->id);
    if (p->stop == b->high)
        b->high++;
    b->in_use++;
    b->per_account[p->account]++;
    b->active_per_instrument[p->instrument]++;
    if (o->expiration == STOP_EXPIRES_AT_DATE)
        b->next_expiry_ns = 0; /* the cache is rebuilt by the next expiry scan */
}

static void finish(core *c, core_stop_order *o, stop_order_status status, int64_t time_ns) {
    core_stop_book *b = &c->stops;
    assert(o->status == STOP_STATUS_ACTIVE);
    o->status = (uint8_t)status;
    o->completion_ns = time_ns;
    assert(b->active_per_instrument[o->instrument] > 0);
    b->active_per_instrument[o->instrument]--;
    assert(b->finished_count < b->capacity);
    b->finished[(b->finished_head + b->finished_count) % b->capacity] = o->index;
    b->finished_count++;
}

static void apply_triggered(core *c, const core_event *ev) {
    core_stop_order *o = &c->stops.records[ev->u.stop.stop];
    o->trigger_price_nano = ev->u.stop.price_nano;
    o->child_order = ev->u.stop.child;
    if (o->child_order != CORE_NO_ORDER) {
        memcpy(o->child_id, c->orders[o->child_order].intent_id, sizeof o->child_id);
        finish(c, o, STOP_STATUS_EXECUTED, ev->time_ns);
    } else {
        o->reject_reason = ev->u.stop.reason;
        finish(c, o, STOP_STATUS_CANCELED, ev->time_ns);
    }
}

static void apply_retired(core *c, const core_event *ev) {
    core_stop_book *b = &c->stops;
    assert(ev->u.stop.count <= b->finished_count);
    for (uint32_t i = 0; i < ev->u.stop.count; i++) {
        uint32_t slot = b->finished[b->finished_head];
        b->finished_head = (b->finished_head + 1) % b->capacity;
        b->finished_count--;
        core_stop_order *o = &b->records[slot];
        assert(is_final(o->status));
        assert(b->per_account[o->account] > 0);
        b->per_account[o->account]--;
        b->in_use--;
        memset(o, 0, sizeof *o);
    }
}

void stop_orders_apply(core *c, const core_event *ev) {
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_STOP_ORDER_PLACED:
        apply_placed(c, ev);
        return;
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
        apply_triggered(c, ev);
        return;
    case CORE_EVENT_STOP_ORDER_CANCELLED:
        finish(c, &c->stops.records[ev->u.stop.stop], STOP_STATUS_CANCELED, ev->time_ns);
        return;
    case CORE_EVENT_STOP_ORDER_EXPIRED:
        finish(c, &c->stops.records[ev->u.stop.stop], STOP_STATUS_EXPIRED, ev->time_ns);
        return;
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        apply_retired(c, ev);
        return;
    default:
        assert(!"not a stop order event");
    }
}

/* ---- Replay's checks ------------------------------------------------------------------------- */

static bool text_ok(const char *text, size_t size) {
    return memchr(text, '\0', size) != NULL;
}

static bool placed_well_formed(const core_event_stop_placed *p) {
    bool trail = p->take_profit_type == STOP_TAKE_PROFIT_TRAILING;
    if (p->lots <= 0 || (p->direction != DIRECTION_BUY && p->direction != DIRECTION_SELL) ||
        p->type < STOP_TYPE_TAKE_PROFIT || p->type > STOP_TYPE_STOP_LIMIT ||
        p->take_profit_type > STOP_TAKE_PROFIT_TRAILING ||
        (p->take_profit_type != 0) != (p->type == STOP_TYPE_TAKE_PROFIT) ||
        p->child_type < STOP_CHILD_MARKET || p->child_type > STOP_CHILD_LIMIT ||
        (p->expiration != STOP_EXPIRES_NEVER && p->expiration != STOP_EXPIRES_AT_DATE) ||
        p->stop_price_nano <= 0 || p->stop_price_nano > CORE_MAX_MONEY_NANO || p->price_nano < 0 ||
        p->price_nano > CORE_MAX_MONEY_NANO ||
        (p->child_type == STOP_CHILD_LIMIT && !trail) != (p->price_nano > 0) ||
        !text_ok(p->key, sizeof p->key) || p->key[0] == '\0' || !text_ok(p->id, sizeof p->id) ||
        !uuid_is_valid(p->id, strlen(p->id)))
        return false;
    if (!trail)
        return p->indent_type == 0 && p->spread_type == 0 && p->indent_nano == 0 &&
               p->spread_nano == 0;
    return (p->indent_type == TRAILING_ABSOLUTE || p->indent_type == TRAILING_RELATIVE) &&
           (p->spread_type == TRAILING_ABSOLUTE || p->spread_type == TRAILING_RELATIVE) &&
           trailing_value_ok(p->indent_type, p->indent_nano, true) &&
           trailing_value_ok(p->spread_type, p->spread_nano, false);
}

bool stop_orders_event_well_formed(const core_event *ev) {
    if (ev->order != CORE_NO_ORDER)
        return false;
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_STOP_ORDER_PLACED:
        return placed_well_formed(&ev->u.stop_placed);
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
        return ev->u.stop.reason >= 0 && ev->u.stop.reason < CORE_ERROR_COUNT &&
               (ev->u.stop.child == CORE_NO_ORDER) == (ev->u.stop.reason != CORE_OK) &&
               ev->u.stop.price_nano > 0;
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        return true;
    default:
        return false;
    }
}

static bool active_stop(const core *c, uint32_t slot) {
    return slot < c->stops.high && c->stops.records[slot].status == STOP_STATUS_ACTIVE;
}

static bool placed_fits(const core *c, const core_event_stop_placed *p) {
    const core_stop_book *b = &c->stops;
    const refdata *rd = c->refdata;
    if (p->stop >= b->capacity || p->stop > b->high ||
        (p->stop < b->high && b->records[p->stop].status != 0) || p->account >= rd->account_count ||
        p->instrument >= rd->instrument_count || b->per_account[p->account] >= b->per_account_max)
        return false;
    int64_t tick = rd->instruments[p->instrument].min_price_increment_nano;
    return tick > 0 && p->stop_price_nano % tick == 0 && p->price_nano % tick == 0 &&
           find_by_key(c, p->account, p->key) == CORE_NO_ORDER;
}

/* The child is the account's order in that instrument and side, keyed by the stop order's id. */
static bool triggered_fits(const core *c, const core_event *ev) {
    if (!active_stop(c, ev->u.stop.stop))
        return false;
    uint32_t child = ev->u.stop.child;
    if (child == CORE_NO_ORDER)
        return true;
    const core_stop_order *o = &c->stops.records[ev->u.stop.stop];
    if (child >= c->config.max_orders)
        return false;
    const core_order *order = &c->orders[child];
    return order->status != 0 && order->account == o->account &&
           order->instrument == o->instrument && order->direction == o->direction &&
           order->lots_requested == o->lots && strcmp(order->key, o->id) == 0;
}

static bool retired_fits(const core *c, const core_event *ev) {
    return ev->u.stop.count > 0 && ev->u.stop.count <= CORE_RETIRE_BATCH_MAX &&
           ev->time_ns >= INT64_MIN + c->config.order_retention_ns &&
           ev->u.stop.count <= retirable(c, ev->time_ns);
}

bool stop_orders_event_fits(const core *c, const core_event *ev) {
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_STOP_ORDER_PLACED:
        return placed_fits(c, &ev->u.stop_placed);
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
        return triggered_fits(c, ev);
    case CORE_EVENT_STOP_ORDER_CANCELLED:
        return active_stop(c, ev->u.stop.stop);
    case CORE_EVENT_STOP_ORDER_EXPIRED:
        return active_stop(c, ev->u.stop.stop) &&
               c->stops.records[ev->u.stop.stop].expiration == STOP_EXPIRES_AT_DATE &&
               ev->time_ns >= c->stops.records[ev->u.stop.stop].expire_ns;
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        return retired_fits(c, ev);
    default:
        return false;
    }
}

/* ---- After a snapshot load, hash and invariants ---------------------------------------------- */

bool stop_orders_rebuild(core *c) {
    core_stop_book *b = &c->stops;
    const refdata *rd = c->refdata;
    if (b->high > b->capacity || b->finished_count > b->high)
        return false;
    memset(b->per_account, 0, (size_t)c->accounts.capacity * sizeof *b->per_account);
    memset(b->active_per_instrument, 0, (size_t)rd->instrument_count * sizeof(uint32_t));
    b->in_use = 0;
    uint32_t finished = 0;
    for (uint32_t s = 0; s < b->high; s++) {
        const core_stop_order *o = &b->records[s];
        if (o->status == 0)
            continue;
        if (o->index != s || o->account >= c->accounts.capacity ||
            o->instrument >= rd->instrument_count ||
            (o->status != STOP_STATUS_ACTIVE && !is_final(o->status)) || o->lots <= 0 ||
            (o->status == STOP_STATUS_EXECUTED && o->child_order == CORE_NO_ORDER) ||
            !text_ok(o->key, sizeof o->key) || !text_ok(o->id, sizeof o->id) ||
            !text_ok(o->child_id, sizeof o->child_id))
            return false;
        b->in_use++;
        b->per_account[o->account]++;
        if (o->status == STOP_STATUS_ACTIVE)
            b->active_per_instrument[o->instrument]++;
        else
            finished++;
    }
    if (finished != b->finished_count)
        return false;
    for (uint32_t i = 0; i < b->finished_count; i++) {
        uint32_t slot = b->finished[(b->finished_head + i) % b->capacity];
        if (slot >= b->high || !is_final(b->records[slot].status))
            return false;
    }
    b->next_expiry_ns = 0;
    return true;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

/* Nothing is mixed in while no stop order was ever placed: the hash of a state without them
 * stays the one data directories written before them recorded. */
uint64_t stop_orders_hash(const core *c, uint64_t h) {
    const core_stop_book *b = &c->stops;
    for (uint32_t s = 0; s < b->high; s++) {
        const core_stop_order *o = &b->records[s];
        if (o->status == 0)
            continue;
        const int64_t fields[] = {s,
                                  o->account,
                                  o->instrument,
                                  o->status,
                                  o->direction,
                                  o->type,
                                  o->child_type,
                                  o->trailing,
                                  o->lots,
                                  o->price_nano,
                                  o->stop_price_nano,
                                  o->expire_ns,
                                  o->extremum_nano,
                                  o->level_nano,
                                  o->created_ns,
                                  o->completion_ns,
                                  o->child_order,
                                  o->reject_reason};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            h = mix(h, (uint64_t)fields[f]);
        for (const char *p = o->id; *p; p++)
            h = mix(h, (uint64_t)(unsigned char)*p);
    }
    for (uint32_t i = 0; i < b->finished_count; i++)
        h = mix(h, b->finished[(b->finished_head + i) % b->capacity]);
    return h;
}

void stop_orders_check_invariants(const core *c) {
    const core_stop_book *b = &c->stops;
    uint32_t in_use = 0, finished = 0;
    for (uint32_t s = 0; s < b->high; s++) {
        const core_stop_order *o = &b->records[s];
        if (o->status == 0)
            continue;
        in_use++;
        finished += is_final(o->status);
        assert(o->index == s);
        assert(o->lots > 0);
        assert(o->status != STOP_STATUS_EXECUTED || o->child_order != CORE_NO_ORDER);
        assert(b->per_account[o->account] > 0);
    }
    assert(in_use == b->in_use);
    assert(finished == b->finished_count);
    assert(b->high <= b->capacity);
}
