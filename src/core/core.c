/* Broker core: commands (place, find, cancel, replace, limits) and exchange reports.
 * The state changes themselves live in apply.c. */
#include "core/core.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/valuation.h"
#include "util/bigmem.h"
#include "util/uuid.h"

#define SECURITY_TRADING_STATUS_NORMAL_TRADING 5
#define PRICE_TYPE_MAX 2
#define ORDER_ID_TYPE_KEY_BYTES (sizeof(uint32_t) + ORDER_KEY_MAX_LEN)

/* Index confirmations: the keys live in the orders, the indexes hold only slots. */
static bool key_names_order(const void *owner, uint32_t slot, const void *key, size_t len) {
    const core_order *o = &((const core *)owner)->orders[slot];
    uint32_t account_index;
    memcpy(&account_index, key, sizeof account_index);
    size_t key_len = len - sizeof account_index;
    return o->account == account_index && strlen(o->key) == key_len &&
           memcmp(o->key, (const char *)key + sizeof account_index, key_len) == 0;
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
            cash->balance_nano += acc->cash[k].value_nano;
        }
    }
}

int core_init(core *c, const core_config *config) {
    memset(c, 0, sizeof *c);
    c->config = *config;
    c->refdata = config->refdata;
    const refdata *rd = config->refdata;
    uint32_t capacity = rd->account_count + config->openable_sandbox_accounts;
    if (capacity > REFDATA_MAX_ACCOUNTS)
        capacity = REFDATA_MAX_ACCOUNTS;
    c->accounts =
        (core_accounts_state){.configured_count = rd->account_count, .capacity = capacity};
    c->accounts.opened = calloc(capacity - rd->account_count + 1, sizeof *c->accounts.opened);
    c->accounts.closed = calloc(capacity ? capacity : 1, 1);
    c->orders = bigmem_alloc(config->max_orders, sizeof *c->orders);
    c->trades = bigmem_alloc(config->max_trades, sizeof *c->trades);
    c->venue.mm_reference_nano =
        calloc(rd->instrument_count ? rd->instrument_count : 1, sizeof(int64_t));
    if (c->orders == NULL || c->trades == NULL || c->venue.mm_reference_nano == NULL ||
        c->accounts.opened == NULL || c->accounts.closed == NULL ||
        ledger_init(&c->ledger, capacity, rd->instrument_count) != 0 ||
        order_index_init(&c->by_key, config->max_orders, key_names_order, c) != 0 ||
        order_index_init(&c->by_order_id, (size_t)config->max_orders * 2, id_names_order, c) != 0) {
        core_deinit(c);
        return -ENOMEM;
    }
    c->next_seq = 1;
    credit_opening_balances(c);
    return 0;
}

void core_reset(core *c) {
    ledger *lg = &c->ledger;
    memset(lg->cash, 0, (size_t)lg->account_count * REFDATA_MAX_CURRENCIES * sizeof *lg->cash);
    memset(lg->positions, 0,
           (size_t)lg->account_count * lg->instrument_count * sizeof *lg->positions);
    credit_opening_balances(c);
    c->order_count = 0;
    c->trade_count = 0;
    c->next_seq = 1;
    memset(c->venue.random_state, 0, sizeof c->venue.random_state);
    memset(c->venue.mm_reference_nano, 0,
           c->refdata->instrument_count * sizeof *c->venue.mm_reference_nano);
    c->accounts.opened_count = 0;
    memset(c->accounts.closed, 0, c->accounts.capacity);
    order_index_clear(&c->by_key);
    order_index_clear(&c->by_order_id);
}

void core_deinit(core *c) {
    bigmem_free(c->orders, c->config.max_orders, sizeof *c->orders);
    bigmem_free(c->trades, c->config.max_trades, sizeof *c->trades);
    free(c->venue.mm_reference_nano);
    free(c->accounts.opened);
    free(c->accounts.closed);
    c->accounts.opened = NULL;
    c->accounts.closed = NULL;
    c->orders = NULL;
    c->trades = NULL;
    c->venue.mm_reference_nano = NULL;
    ledger_deinit(&c->ledger);
    order_index_deinit(&c->by_key);
    order_index_deinit(&c->by_order_id);
}

const core_trade *core_trade_at(const core *c, uint32_t index) {
    return index < c->trade_count ? &c->trades[index] : NULL;
}

const instrument *core_instrument_of(const core *c, const core_order *order) {
    return &c->refdata->instruments[order->instrument];
}

static core_result fail(int code) {
    return (core_result){.code = code};
}

/* Records, applies and announces one event: the only way the live path changes state. */
static void commit_event(core *c, core_event *event) {
    event->seq = c->next_seq;
    if (c->sink.append != NULL)
        c->sink.append(c->sink.ctx, event);
    core_apply(c, event);
    if (c->listener.order_changed != NULL && event->order != CORE_NO_ORDER)
        c->listener.order_changed(c->listener.ctx, &c->orders[event->order], event);
}

int core_account_for(const core *c, const token *tok, const char *account_id, bool need_trade,
                     const account **out) {
    if (account_id == NULL || account_id[0] == '\0')
        return 30021;
    const account *acc = refdata_find_account(c->refdata, account_id);
    if (acc == NULL)
        return 50004;
    access_level level = refdata_access(tok, acc);
    bool allowed =
        need_trade ? level == ACCESS_FULL : (level == ACCESS_FULL || level == ACCESS_READ_ONLY);
    if (!allowed)
        return 40002;
    *out = acc;
    return 0;
}

static size_t key_bytes(uint32_t account_index, const char *key,
                        char out[ORDER_ID_TYPE_KEY_BYTES]) {
    size_t len = strlen(key);
    assert(len <= ORDER_KEY_MAX_LEN);
    memcpy(out, &account_index, sizeof account_index);
    memcpy(out + sizeof account_index, key, len);
    return sizeof account_index + len;
}

static uint32_t find_by_key(const core *c, uint32_t account_index, const char *key) {
    char bytes[ORDER_ID_TYPE_KEY_BYTES];
    return order_index_find(&c->by_key, bytes, key_bytes(account_index, key, bytes));
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

static int check_key(const core_order_request *req) {
    size_t len = req->key == NULL ? 0 : strlen(req->key);
    if (len == 0)
        return 30027;
    if (len > ORDER_KEY_MAX_LEN)
        return 30055;
    if (req->require_uuid_key && !uuid_is_valid(req->key, len))
        return 30028;
    return 0;
}

static int check_enums(const core_order_request *req, order_terms *t) {
    if (req->quantity == 0)
        return 30015;
    if (req->quantity < 0)
        return 30080;
    if (req->direction == 0)
        return 30019;
    if (req->direction != DIRECTION_BUY && req->direction != DIRECTION_SELL)
        return 30020;
    if (req->type == 0)
        return 30025;
    if (req->type < ORDER_TYPE_LIMIT || req->type > ORDER_TYPE_BESTPRICE)
        return 30026;
    if (req->tif < 0 || req->tif > TIF_FILL_OR_KILL)
        return 30254;
    if (req->price_type < 0 || req->price_type > PRICE_TYPE_MAX)
        return 30104;
    t->lots = req->quantity;
    t->direction = (order_direction)req->direction;
    t->type = (order_type)req->type;
    t->tif = req->tif == 0 ? TIF_DAY : (order_tif)req->tif;
    return 0;
}

static int check_price(const core_order_request *req, order_terms *t) {
    t->price_nano = 0;
    if (t->type != ORDER_TYPE_LIMIT)
        return 0; /* market and best-price orders ignore any price sent */
    if (!req->has_price)
        return 30017;
    if (req->price_nano <= 0)
        return 30100;
    if (req->price_nano % t->instrument->min_price_increment_nano != 0)
        return 30078;
    t->price_nano = req->price_nano;
    return 0;
}

/* Stateless and reference-data checks, in the order the real API reports them. */
static int check_terms(const core *c, const core_order_request *req, order_terms *t) {
    int code = check_key(req);
    if (code == 0)
        code = core_account_for(c, req->token, req->account_id, true, &t->account);
    if (code != 0)
        return code;
    if (req->instrument_id == NULL || req->instrument_id[0] == '\0')
        return 30237;
    t->instrument = refdata_find_instrument_id(c->refdata, req->instrument_id);
    if (t->instrument == NULL)
        return 50002;
    code = check_enums(req, t);
    return code != 0 ? code : check_price(req, t);
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

static int64_t value_limit_for(const core *c, const char *currency) {
    for (uint32_t i = 0; i < c->config.value_limit_count; i++)
        if (strcmp(c->config.value_limits[i].currency, currency) == 0)
            return c->config.value_limits[i].max_value_nano;
    return INT64_MAX;
}

typedef struct reservation {
    int64_t reserve_price_nano;
    int64_t cash_nano, units, commission_nano;
} reservation;

/* Trading status, order value limit and free cash or securities. `credit_nano` and
 * `credit_units` are amounts about to be released (ReplaceOrder's old order). */
static int check_funds(const core *c, const order_terms *t, int64_t credit_nano,
                       int64_t credit_units, reservation *r) {
    const instrument *ins = t->instrument;
    core_market market;
    core_market_view(c, ins->index, &market);
    if (!ins->api_trade_available)
        return 30052;
    if (ins->trading_status != SECURITY_TRADING_STATUS_NORMAL_TRADING || !market.trading ||
        (t->direction == DIRECTION_BUY ? !ins->buy_available : !ins->sell_available))
        return 30079;
    int64_t units;
    if (__builtin_mul_overflow(t->lots, (int64_t)ins->lot, &units))
        return 30109;
    memset(r, 0, sizeof *r);
    r->reserve_price_nano = reserve_price(t, &market);
    int64_t value_nano;
    if (!valuation_amount(ins, r->reserve_price_nano, units, &value_nano))
        return 30109;
    int64_t quoted_price =
        t->type == ORDER_TYPE_LIMIT
            ? t->price_nano
            : (market.last_price_nano ? market.last_price_nano : ins->reference_price_nano);
    int64_t quoted_value;
    if (!valuation_amount(ins, quoted_price, units, &quoted_value) ||
        quoted_value > value_limit_for(c, ins->currency))
        return 90003;
    r->commission_nano = valuation_commission(value_nano, c->config.commission_bp);
    if (t->direction == DIRECTION_BUY) {
        r->cash_nano = value_nano + r->commission_nano;
        int64_t free_nano = ledger_cash_free(&c->ledger, t->account->index, ins->currency);
        if (free_nano + credit_nano < r->cash_nano)
            return t->account->sandbox ? 30034 : 30042;
    } else {
        r->units = units;
        if (ledger_units_free(&c->ledger, t->account->index, ins->index) + credit_units < units)
            return 30042;
    }
    return 0;
}

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Ids the broker makes derive from the seed and `salt` (an order or account slot), so a replay,
 * and a run with the same seed, reproduce them exactly. */
static void derive_uuid(const core *c, uint64_t salt, char out[ORDER_ID_SIZE]) {
    uint64_t hi = splitmix64(c->config.id_seed ^ salt);
    uuid_format_from_bits(hi, splitmix64(hi), out);
}

#define ACCOUNT_ID_SALT 0xacc0000000000000ULL

static void make_ids(const core *c, uint32_t slot, core_event_accepted *a, const char *key) {
    derive_uuid(c, (uint64_t)slot << 1, a->intent_id);
    if (uuid_is_valid(key, strlen(key))) {
        snprintf(a->request_id, sizeof a->request_id, "%s", key);
        a->key_is_uuid = 1;
    } else {
        /* A non-UUID key is accepted by PostOrder; streams then show a UUID we generate. */
        derive_uuid(c, (uint64_t)slot << 1 | 1, a->request_id);
    }
}

static const core_order *accept_order(core *c, const order_terms *t, const reservation *r,
                                      const char *key, order_source source, uint32_t replaces_order,
                                      int64_t now_ns) {
    core_event ev = {.type = CORE_EVENT_ORDER_ACCEPTED, .order = c->order_count, .time_ns = now_ns};
    core_event_accepted *a = &ev.u.accepted;
    a->account = t->account->index;
    a->instrument = t->instrument->index;
    a->direction = (uint8_t)t->direction;
    a->type = (uint8_t)t->type;
    a->tif = (uint8_t)t->tif;
    a->source = (uint8_t)source;
    a->price_nano = t->price_nano;
    a->reserve_price_nano = r->reserve_price_nano;
    a->lots = t->lots;
    a->reserved_cash_nano = r->cash_nano;
    a->reserved_units = r->units;
    a->initial_commission_nano = r->commission_nano;
    a->replaces_order = replaces_order;
    snprintf(a->key, sizeof a->key, "%s", key);
    make_ids(c, ev.order, a, key);
    commit_event(c, &ev);
    const core_order *order = &c->orders[ev.order];
    if (c->exchange.submit != NULL)
        c->exchange.submit(c->exchange.ctx, order, now_ns);
    return order;
}

static bool has_room(const core *c) {
    return c->order_count < c->config.max_orders;
}

core_result core_place_order(core *c, const core_order_request *req) {
    order_terms t;
    int code = check_terms(c, req, &t);
    if (code != 0)
        return fail(code);
    uint32_t stored = find_by_key(c, t.account->index, req->key);
    if (stored != ORDER_INDEX_EMPTY &&
        c->orders[stored].created_ns + c->config.idempotency_retention_ns > req->now_ns) {
        const core_order *order = &c->orders[stored];
        if (!same_terms(order, &t))
            return (core_result){
                .code = 30057,
                .message = "The order is a duplicate: this order_id was already used for an order "
                           "with different parameters"};
        return (core_result){.order = order, .duplicate = true};
    }
    reservation r;
    code = check_funds(c, &t, 0, 0, &r);
    if (code != 0)
        return fail(code);
    if (!has_room(c))
        return (core_result){.code = 70001, .message = "Order capacity of the broker is exhausted"};
    return (core_result){
        .order = accept_order(c, &t, &r, req->key, req->source, CORE_NO_ORDER, req->now_ns)};
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

core_result core_find_order(core *c, const token *tok, const char *account_id, const char *order_id,
                            bool by_request_id, int64_t now_ns) {
    const account *acc;
    int code = core_account_for(c, tok, account_id, false, &acc);
    if (code != 0)
        return fail(code);
    if (order_id == NULL || order_id[0] == '\0')
        return fail(30027);
    uint32_t slot = lookup_order(c, acc->index, order_id, by_request_id);
    if (slot == ORDER_INDEX_EMPTY)
        return fail(50005);
    return (core_result){.order = &c->orders[slot]};
}

core_result core_cancel_order(core *c, const token *tok, const char *account_id,
                              const char *order_id, bool by_request_id, int64_t now_ns) {
    const account *acc;
    int code = core_account_for(c, tok, account_id, true, &acc);
    if (code != 0)
        return fail(code);
    if (order_id == NULL || order_id[0] == '\0')
        return fail(30027);
    uint32_t slot = lookup_order(c, acc->index, order_id, by_request_id);
    if (slot == ORDER_INDEX_EMPTY)
        return fail(50005);
    const core_order *order = &c->orders[slot];
    if (order_status_is_final(order->status))
        return (core_result){.code = 30059,
                             .message = "Cancel order error: the order is not active",
                             .order = order};
    if (c->exchange.cancel != NULL)
        c->exchange.cancel(c->exchange.ctx, order, now_ns);
    return (core_result){.order = order};
}

core_result core_replace_order(core *c, const token *tok, const char *account_id,
                               const char *order_id, const char *key, int64_t quantity,
                               bool has_price, int64_t price_nano, int32_t price_type,
                               int64_t now_ns) {
    /* Validate everything before touching the old order: a rejected replace changes nothing. */
    const account *acc;
    int code = core_account_for(c, tok, account_id, true, &acc);
    if (code != 0)
        return fail(code);
    if (key == NULL || key[0] == '\0')
        return fail(30029);
    if (strlen(key) > ORDER_KEY_MAX_LEN)
        return fail(30030);
    uint32_t slot = lookup_order(c, acc->index, order_id, false);
    if (slot == ORDER_INDEX_EMPTY)
        return fail(50005);
    const core_order *old = &c->orders[slot];
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
    code = check_terms(c, &req, &t);
    if (code != 0)
        return fail(code);
    uint32_t stored = find_by_key(c, acc->index, key);
    if (stored != ORDER_INDEX_EMPTY) {
        if (!same_terms(&c->orders[stored], &t))
            return (core_result){.code = 30057,
                                 .message = "The order is a duplicate: this idempotency_key was "
                                            "already used for an order with different parameters"};
        return (core_result){.order = &c->orders[stored], .duplicate = true};
    }
    if (order_status_is_final(old->status))
        return (core_result){.code = 30059,
                             .message = "Cancel order error: the order is not active"};
    reservation r;
    code = check_funds(c, &t, old->reserved_cash_nano, old->reserved_units, &r);
    if (code != 0)
        return fail(code);
    if (!has_room(c))
        return (core_result){.code = 70001, .message = "Order capacity of the broker is exhausted"};
    if (c->exchange.cancel != NULL)
        c->exchange.cancel(c->exchange.ctx, old, now_ns);
    return (core_result){.order = accept_order(c, &t, &r, key, ORDER_SOURCE_REPLACE, slot, now_ns)};
}

void core_on_exchange_report(core *c, const core_exchange_report *report) {
    assert(report->order < c->order_count);
    const core_order *order = &c->orders[report->order];
    if (order_status_is_final(order->status))
        return; /* a late report for an order the broker already closed */
    core_event ev = {.order = report->order, .time_ns = report->time_ns};
    switch (report->kind) {
    case REPORT_ACK:
        ev.type = CORE_EVENT_ORDER_ACKED;
        ev.u.acked.exchange_order_id = report->exchange_order_id;
        break;
    case REPORT_TRADE: {
        const instrument *ins = core_instrument_of(c, order);
        ev.type = CORE_EVENT_ORDER_TRADE;
        ev.u.trade.trade_id = report->trade_id;
        ev.u.trade.lots = report->lots;
        ev.u.trade.price_nano = report->price_nano;
        bool ok = valuation_amount(ins, report->price_nano, report->lots * ins->lot,
                                   &ev.u.trade.value_nano);
        assert(ok); /* within the reservation, which was checked for overflow */
        (void)ok;
        ev.u.trade.commission_nano =
            valuation_commission(ev.u.trade.value_nano, c->config.commission_bp);
        ev.u.trade.aggressor = report->aggressor;
        break;
    }
    case REPORT_CANCELLED:
        ev.type = CORE_EVENT_ORDER_CANCELLED;
        ev.u.cancelled.lots = report->lots;
        ev.u.cancelled.cause = (uint8_t)report->cause;
        break;
    case REPORT_REJECTED:
        ev.type = CORE_EVENT_ORDER_REJECTED;
        ev.u.rejected.cause = (uint8_t)report->cause;
        ev.u.rejected.code = report->reject_code;
        break;
    }
    commit_event(c, &ev);
}

int core_open_sandbox_account(core *c, const token *tok, const char *name, int64_t now_ns,
                              char id_out[ORDER_ID_SIZE]) {
    core_accounts_state *a = &c->accounts;
    uint32_t slot = a->configured_count + a->opened_count;
    if (slot >= a->capacity)
        return 35001;
    core_event ev = {.type = CORE_EVENT_ACCOUNT_OPENED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    core_event_account_opened *o = &ev.u.account_opened;
    o->account = slot;
    o->token = (uint32_t)(tok - c->refdata->tokens);
    derive_uuid(c, ACCOUNT_ID_SALT ^ slot, o->id);
    /* A longer name is cut at a character boundary: the contract sets no limit, we keep 63 bytes.
     */
    size_t len = name != NULL ? strlen(name) : 0;
    if (len >= sizeof o->name) {
        len = sizeof o->name - 1;
        while (len > 0 && ((unsigned char)name[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(o->name, name != NULL ? name : "", len);
    commit_event(c, &ev);
    memcpy(id_out, o->id, ORDER_ID_SIZE);
    return 0;
}

/* A sandbox account the token may trade on; for a broker account the sandbox answers as the
 * transport does for every sandbox method (50004: it knows no such account). */
static int sandbox_account_for(const core *c, const token *tok, const char *account_id,
                               const account **out) {
    int code = core_account_for(c, tok, account_id, true, out);
    return code != 0 ? code : (*out)->sandbox ? 0 : 50004;
}

int core_close_sandbox_account(core *c, const token *tok, const char *account_id, int64_t now_ns) {
    const account *acc;
    int code = sandbox_account_for(c, tok, account_id, &acc);
    if (code != 0)
        return code;
    core_event ev = {.type = CORE_EVENT_ACCOUNT_CLOSED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.account_closed.account = acc->index;
    commit_event(c, &ev);
    for (uint32_t i = 0; i < c->order_count; i++) {
        const core_order *o = &c->orders[i];
        if (o->account == acc->index && !order_status_is_final(o->status) &&
            c->exchange.cancel != NULL)
            c->exchange.cancel(c->exchange.ctx, o, now_ns);
    }
    return 0;
}

void core_record_market_maker(core *c, uint32_t instrument_index, int64_t reference_nano,
                              const uint64_t random_state[4], int64_t now_ns) {
    core_event ev = {
        .type = CORE_EVENT_MARKET_MAKER_MOVED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.market_maker.instrument = instrument_index;
    ev.u.market_maker.reference_nano = reference_nano;
    memcpy(ev.u.market_maker.random_state, random_state, sizeof ev.u.market_maker.random_state);
    commit_event(c, &ev);
}

int core_pay_in(core *c, const token *tok, const char *account_id, const char *currency,
                int64_t amount_nano, int64_t now_ns, int64_t *balance_nano) {
    const account *acc;
    int code = sandbox_account_for(c, tok, account_id, &acc);
    if (code != 0)
        return code;
    if (amount_nano <= 0 || currency == NULL || currency[0] == '\0' || strlen(currency) >= 8)
        return 30246;
    if (!ledger_cash_has_room(&c->ledger, acc->index, currency))
        return 30258;
    core_event ev = {.type = CORE_EVENT_CASH_ADJUSTED, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.cash.account = acc->index;
    snprintf(ev.u.cash.currency, sizeof ev.u.cash.currency, "%s", currency);
    ev.u.cash.amount_nano = amount_nano;
    commit_event(c, &ev);
    *balance_nano = ledger_cash_find(&c->ledger, acc->index, currency)->balance_nano;
    return 0;
}

int core_max_lots_for(core *c, const token *tok, const char *account_id, const char *instrument_id,
                      bool has_price, int64_t price_nano, core_max_lots *out) {
    const account *acc;
    int code = core_account_for(c, tok, account_id, false, &acc);
    if (code != 0)
        return code;
    if (instrument_id == NULL || instrument_id[0] == '\0')
        return 30237;
    const instrument *ins = refdata_find_instrument_id(c->refdata, instrument_id);
    if (ins == NULL)
        return 50002;
    core_market market;
    core_market_view(c, ins->index, &market);
    int64_t limit_price =
        has_price && price_nano > 0
            ? price_nano
            : (market.best_ask_nano
                   ? market.best_ask_nano
                   : (market.last_price_nano ? market.last_price_nano : ins->reference_price_nano));
    int64_t market_price = market.limit_up_nano > 0 ? market.limit_up_nano : limit_price;
    memset(out, 0, sizeof *out);
    out->currency = ins->currency;
    out->buy_money_nano = ledger_cash_free(&c->ledger, acc->index, ins->currency);
    int64_t lot_value;
    for (int pass = 0; pass < 2; pass++) {
        int64_t price = pass == 0 ? limit_price : market_price;
        if (!valuation_amount(ins, price, ins->lot, &lot_value) || lot_value <= 0)
            continue;
        int64_t per_lot = lot_value + valuation_commission(lot_value, c->config.commission_bp);
        int64_t lots = out->buy_money_nano > 0 ? out->buy_money_nano / per_lot : 0;
        /* Commission rounds per order, not per lot: step down until the whole order fits. */
        while (lots > 0) {
            int64_t value;
            if (valuation_amount(ins, price, lots * ins->lot, &value) &&
                value + valuation_commission(value, c->config.commission_bp) <= out->buy_money_nano)
                break;
            lots--;
        }
        if (pass == 0)
            out->buy_max_lots = lots;
        else
            out->buy_max_market_lots = lots;
    }
    int64_t free_units = ledger_units_free(&c->ledger, acc->index, ins->index);
    out->sell_max_lots = free_units > 0 ? free_units / ins->lot : 0;
    return 0;
}

int core_order_price_for(core *c, const token *tok, const char *account_id,
                         const char *instrument_id, int32_t direction, int64_t quantity,
                         bool has_price, int64_t price_nano, core_order_price *out) {
    const account *acc;
    int code = core_account_for(c, tok, account_id, false, &acc);
    if (code != 0)
        return code;
    if (instrument_id == NULL || instrument_id[0] == '\0')
        return 30237;
    const instrument *ins = refdata_find_instrument_id(c->refdata, instrument_id);
    if (ins == NULL)
        return 50002;
    if (quantity <= 0)
        return quantity == 0 ? 30015 : 30080;
    if (direction != DIRECTION_BUY && direction != DIRECTION_SELL)
        return direction == 0 ? 30019 : 30020;
    core_market market;
    core_market_view(c, ins->index, &market);
    int64_t price =
        has_price && price_nano > 0
            ? price_nano
            : (market.last_price_nano ? market.last_price_nano : ins->reference_price_nano);
    if (price % ins->min_price_increment_nano != 0)
        return 30078;
    int64_t units, value;
    if (__builtin_mul_overflow(quantity, (int64_t)ins->lot, &units) ||
        !valuation_amount(ins, price, units, &value))
        return 30109;
    out->instrument = ins;
    out->lots = quantity;
    out->initial_nano = value;
    out->commission_nano = valuation_commission(value, c->config.commission_bp);
    out->total_nano =
        direction == DIRECTION_BUY ? value + out->commission_nano : value - out->commission_nano;
    return 0;
}
