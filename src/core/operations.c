/* The operations store: made and updated by core_apply() from the events it applies (see
 * operations.h DESIGN), read by the core's queries. */
#include "core/operations.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/valuation.h"
#include "util/bigmem.h"
#include "util/checked.h"

/* ---- Opening balances: numbers 1 .. opening_count, from the configuration ------------------- */

static uint64_t count_opening(const core *c) {
    uint64_t n = 0;
    for (uint32_t a = 0; a < c->accounts.configured_count; a++)
        n += c->refdata->accounts[a].cash_count;
    return n;
}

/* Opening balance `number` as an INPUT operation dated the account's opening day. */
static bool opening_operation(const core *c, uint64_t number, core_operation *out) {
    uint64_t k = number;
    for (uint32_t a = 0; a < c->accounts.configured_count; a++) {
        const account *acc = &c->refdata->accounts[a];
        if (k > acc->cash_count) {
            k -= acc->cash_count;
            continue;
        }
        const money_amount *m = &acc->cash[k - 1];
        int64_t time_ns = 0;
        if (!checked_mul(acc->opened_date_s, 1000000000LL, &time_ns))
            time_ns = 0;
        *out = (core_operation){.number = number,
                                .time_ns = time_ns,
                                .payment_nano = m->value_nano,
                                .account = a,
                                .instrument = CORE_OP_NO_INSTRUMENT,
                                .order = CORE_OP_NONE,
                                .counterpart = CORE_OP_NONE,
                                .type = CORE_OP_INPUT,
                                .state = CORE_OP_STATE_EXECUTED,
                                .held = 1};
        memcpy(out->currency, m->currency, sizeof out->currency);
        return true;
    }
    return false;
}

/* ---- The store ------------------------------------------------------------------------------ */

int operations_init(core *c) {
    operation_store *s = &c->operations;
    memset(s, 0, sizeof *s);
    s->capacity = c->config.max_operations ? c->config.max_operations : 2 * c->config.max_orders;
    if (s->capacity < 16)
        s->capacity = 16; /* one event makes at most two operations */
    s->order_slots = c->config.max_orders;
    s->account_slots = c->accounts.capacity ? c->accounts.capacity : 1;
    s->retention_ns = c->config.order_retention_ns;
    s->opening_count = count_opening(c);
    s->first = s->next = s->opening_count + 1;
    s->ring = bigmem_alloc(s->capacity, sizeof *s->ring);
    s->order_operation = bigmem_alloc(s->order_slots, sizeof *s->order_operation);
    s->fee_operation = bigmem_alloc(s->order_slots, sizeof *s->fee_operation);
    s->account_last = bigmem_alloc(s->account_slots, sizeof *s->account_last);
    if (s->ring == NULL || s->order_operation == NULL || s->fee_operation == NULL ||
        s->account_last == NULL)
        return -ENOMEM;
    return 0;
}

void operations_deinit(core *c) {
    operation_store *s = &c->operations;
    bigmem_free(s->ring, s->capacity, sizeof *s->ring);
    bigmem_free(s->order_operation, s->order_slots, sizeof *s->order_operation);
    bigmem_free(s->fee_operation, s->order_slots, sizeof *s->fee_operation);
    bigmem_free(s->account_last, s->account_slots, sizeof *s->account_last);
    memset(s, 0, sizeof *s);
}

static void clear_maps(operation_store *s) {
    memset(s->order_operation, 0, (size_t)s->order_slots * sizeof *s->order_operation);
    memset(s->fee_operation, 0, (size_t)s->order_slots * sizeof *s->fee_operation);
    memset(s->account_last, 0, (size_t)s->account_slots * sizeof *s->account_last);
}

void operations_reset(core *c) {
    operation_store *s = &c->operations;
    clear_maps(s);
    s->first = s->next = s->opening_count + 1;
    s->evicted = 0;
}

/* The held ring record numbered `number`, or NULL. */
static core_operation *held(const operation_store *s, uint64_t number) {
    if (number < s->first || number >= s->next)
        return NULL;
    core_operation *op = &s->ring[number % s->capacity];
    assert(op->number == number);
    return op->held ? op : NULL;
}

static core_operation *append(core *c, uint32_t account_index, int64_t time_ns) {
    operation_store *s = &c->operations;
    assert(account_index < s->account_slots);
    if (s->next - s->first == s->capacity) {
        s->first++;
        s->evicted++;
    }
    uint64_t number = s->next++;
    uint64_t prev = s->account_last[account_index];
    core_operation *op = &s->ring[number % s->capacity];
    *op = (core_operation){.number = number,
                           .prev_of_account = prev >= s->first ? prev : 0,
                           .time_ns = time_ns,
                           .account = account_index,
                           .instrument = CORE_OP_NO_INSTRUMENT,
                           .order = CORE_OP_NONE,
                           .counterpart = CORE_OP_NONE,
                           .state = CORE_OP_STATE_EXECUTED,
                           .held = 1};
    s->account_last[account_index] = number;
    return op;
}

void operations_retire(core *c, int64_t now_ns) {
    operation_store *s = &c->operations;
    if (now_ns < INT64_MIN + s->retention_ns)
        return;
    int64_t horizon = now_ns - s->retention_ns;
    while (s->first < s->next && s->ring[s->first % s->capacity].time_ns <= horizon)
        s->first++;
}

/* ---- Orders --------------------------------------------------------------------------------- */

/* The order's operation that `*slot` names, when it is still held and still this order's. */
static core_operation *order_operation(core *c, const core_order *o, uint64_t number) {
    core_operation *op = number ? held(&c->operations, number) : NULL;
    return op != NULL && op->order == o->index && op->order_seq == o->accepted_seq ? op : NULL;
}

static int64_t units_of(const core *c, const core_order *o, int64_t lots) {
    int64_t units;
    bool ok = checked_mul(lots, core_instrument_of(c, o)->lot, &units);
    assert(ok); /* acceptance proved the order's units fit */
    (void)ok;
    return units;
}

/* The order's operation mirrors the order's running totals. */
static void refresh(const core *c, core_operation *op, const core_order *o) {
    op->exchange_order_id = o->exchange_order_id;
    op->quantity = units_of(c, o, o->lots_requested);
    op->quantity_done = units_of(c, o, o->lots_executed);
    /* A futures trade moves no value: the position's variation margin is paid at clearings. */
    if (core_instrument_of(c, o)->kind == INSTRUMENT_KIND_FUTURE)
        op->payment_nano = 0;
    else
        op->payment_nano =
            o->direction == DIRECTION_BUY ? -o->executed_value_nano : o->executed_value_nano;
    op->price_nano = op->quantity_done > 0 ? o->executed_value_nano / op->quantity_done : 0;
    op->commission_nano = o->executed_commission_nano;
    if (!order_status_is_final(o->status))
        op->state = CORE_OP_STATE_PROGRESS;
    else
        op->state = o->lots_executed > 0 ? CORE_OP_STATE_EXECUTED : CORE_OP_STATE_CANCELED;
}

/* The instrument's currency into an operation: what snprintf("%s") would write, without its
 * format machinery (a fifth of replay's apply went to it). */
static void set_currency(core_operation *op, const char *currency) {
    size_t n = strnlen(currency, sizeof op->currency - 1);
    memcpy(op->currency, currency, n);
    op->currency[n] = '\0';
}

static core_operation *new_order_operation(core *c, const core_order *o, int64_t time_ns) {
    core_operation *op = append(c, o->account, time_ns);
    if (o->source == ORDER_SOURCE_MARGIN_CALL)
        op->type = o->direction == DIRECTION_BUY ? CORE_OP_BUY_MARGIN : CORE_OP_SELL_MARGIN;
    else
        op->type = o->direction == DIRECTION_BUY ? CORE_OP_BUY : CORE_OP_SELL;
    op->order = o->index;
    op->order_seq = o->accepted_seq;
    op->instrument = o->instrument;
    set_currency(op, core_instrument_of(c, o)->currency);
    c->operations.order_operation[o->index] = op->number;
    return op;
}

void operations_on_fill(core *c, const core_order *o, const core_event *ev) {
    operation_store *s = &c->operations;
    core_operation *op = order_operation(c, o, s->order_operation[o->index]);
    if (op == NULL)
        op = new_order_operation(c, o, ev->time_ns);
    refresh(c, op, o);
    if (o->executed_commission_nano == 0)
        return;
    uint64_t parent = op->number;
    core_operation *fee = order_operation(c, o, s->fee_operation[o->index]);
    if (fee == NULL) {
        fee = append(c, o->account, ev->time_ns);
        assert(held(s, parent) != NULL); /* the ring holds far more than two records */
        fee->type = CORE_OP_BROKER_FEE;
        fee->parent = parent;
        fee->order = o->index;
        fee->order_seq = o->accepted_seq;
        fee->instrument = o->instrument;
        set_currency(fee, core_instrument_of(c, o)->currency);
        s->fee_operation[o->index] = fee->number;
    }
    fee->payment_nano = -o->executed_commission_nano;
}

/* An order that ended: its operation settles; one that never traded shows as CANCELED (a
 * rejected one shows nothing: the exchange never took it). */
void operations_on_order_end(core *c, const core_order *o, const core_event *ev) {
    core_operation *op = order_operation(c, o, c->operations.order_operation[o->index]);
    if (op == NULL) {
        if (o->lots_executed > 0 || o->status != ORDER_STATUS_CANCELLED)
            return;
        op = new_order_operation(c, o, ev->time_ns);
    }
    refresh(c, op, o);
}

/* ---- Money ---------------------------------------------------------------------------------- */

void operations_on_payment(core *c, uint32_t account_index, uint32_t instrument_index,
                           const char *currency, uint8_t type, int64_t payment_nano,
                           int64_t time_ns) {
    core_operation *op = append(c, account_index, time_ns);
    op->type = type;
    op->instrument = instrument_index;
    op->payment_nano = payment_nano;
    set_currency(op, currency);
}

void operations_on_pay_in(core *c, const core_event *ev) {
    core_operation *op = append(c, ev->u.cash.account, ev->time_ns);
    op->type = CORE_OP_INPUT;
    op->payment_nano = ev->u.cash.amount_nano;
    memcpy(op->currency, ev->u.cash.currency, sizeof op->currency);
}

void operations_on_transfer(core *c, const core_event *ev) {
    const core_event_transfer *t = &ev->u.transfer;
    core_operation *out = append(c, t->from, ev->time_ns);
    out->type = CORE_OP_OUT_MULTI;
    out->payment_nano = -t->amount_nano;
    out->counterpart = t->to;
    memcpy(out->currency, t->currency, sizeof out->currency);
    memcpy(out->transaction_id, t->transaction_id, sizeof out->transaction_id);
    core_operation *in = append(c, t->to, ev->time_ns);
    in->type = CORE_OP_INP_MULTI;
    in->payment_nano = t->amount_nano;
    in->counterpart = t->from;
    memcpy(in->currency, t->currency, sizeof in->currency);
    memcpy(in->transaction_id, t->transaction_id, sizeof in->transaction_id);
}

void operations_forget_account(core *c, uint32_t account_index) {
    operation_store *s = &c->operations;
    for (uint64_t n = s->account_last[account_index]; n >= s->first && n != 0;) {
        core_operation *op = &s->ring[n % s->capacity];
        op->held = 0;
        n = op->prev_of_account;
    }
    s->account_last[account_index] = 0;
}

const core_operation *operations_find_transfer(const core *c, uint32_t account_index,
                                               const char *transaction_id) {
    const operation_store *s = &c->operations;
    for (uint64_t n = s->account_last[account_index]; n >= s->first && n != 0;) {
        const core_operation *op = &s->ring[n % s->capacity];
        if (op->type == CORE_OP_OUT_MULTI && op->held &&
            strcmp(op->transaction_id, transaction_id) == 0)
            return op;
        n = op->prev_of_account;
    }
    return NULL;
}

/* ---- Reads ---------------------------------------------------------------------------------- */

bool core_operation_get(const core *c, uint32_t account_index, uint64_t number,
                        core_operation *out) {
    const operation_store *s = &c->operations;
    if (number >= 1 && number <= s->opening_count)
        return opening_operation(c, number, out) && out->account == account_index;
    const core_operation *op = held(s, number);
    if (op == NULL || op->account != account_index)
        return false;
    *out = *op;
    return true;
}

uint32_t core_list_operations(const core *c, uint32_t account_index, uint64_t below,
                              core_operation_filter keep, const void *ctx, core_operation *out,
                              uint32_t max, uint64_t *more) {
    const operation_store *s = &c->operations;
    uint32_t n = 0;
    *more = 0;
    if (account_index >= s->account_slots)
        return 0;
    for (uint64_t k = s->account_last[account_index]; k >= s->first && k != 0;) {
        const core_operation *op = &s->ring[k % s->capacity];
        assert(op->number == k && op->account == account_index);
        if (k < below && op->held && (keep == NULL || keep(op, ctx))) {
            if (n == max) {
                *more = k;
                return n;
            }
            out[n++] = *op;
        }
        k = op->prev_of_account;
    }
    if (account_index >= c->accounts.configured_count)
        return n;
    for (uint64_t k = s->opening_count; k >= 1; k--) {
        core_operation op;
        if (k >= below || !opening_operation(c, k, &op) || op.account != account_index ||
            (keep != NULL && !keep(&op, ctx)))
            continue;
        if (n == max) {
            *more = k;
            return n;
        }
        out[n++] = op;
    }
    return n;
}

uint32_t core_operation_trades(const core *c, const core_operation *op, core_trade *out,
                               uint32_t max) {
    if (!core_op_is_trade(op->type) || op->order >= c->config.max_orders)
        return 0;
    core_order ref = {.index = op->order, .accepted_seq = op->order_seq};
    return core_order_trades(c, &ref, out, max);
}

uint32_t core_operation_fill_count(const core *c, const core_operation *op) {
    if (!core_op_is_trade(op->type) || op->order >= c->config.max_orders)
        return 0;
    const core_order *o = &c->orders[op->order];
    return o->status != 0 && o->accepted_seq == op->order_seq ? o->trade_count : 0;
}

uint32_t core_operation_fills(const core *c, const core_operation *op, core_fill *out,
                              uint32_t max) {
    if (!core_op_is_trade(op->type) || op->order >= c->config.max_orders)
        return 0;
    const core_order *o = &c->orders[op->order];
    if (o->status == 0 || o->accepted_seq != op->order_seq)
        return 0;
    const instrument *ins = core_instrument_of(c, o);
    int64_t total = 0, paid = 0;
    uint32_t n = 0;
    for (uint32_t t = o->first_trade; t != CORE_NO_ORDER && n < max; t = c->trades[t].next) {
        core_fill *f = &out[n++];
        f->trade = c->trades[t];
        /* The values the trade's event carried (trade_event in core.c), computed again. */
        bool ok = checked_mul(f->trade.lots, ins->lot, &f->units) &&
                  valuation_amount(ins, f->trade.price_nano, f->units, &f->value_nano) &&
                  checked_add(total, f->value_nano, &total);
        assert(ok);
        (void)ok;
        int64_t due = valuation_commission(total, c->config.commission_bp);
        f->commission_nano = due - paid;
        paid = due;
    }
    return n;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

uint64_t core_operations_hash(const core *c) {
    const operation_store *s = &c->operations;
    uint64_t h = mix(mix(0, s->first), s->next);
    for (uint64_t n = s->first; n < s->next; n++) {
        const core_operation *op = &s->ring[n % s->capacity];
        if (!op->held)
            continue;
        const int64_t fields[] = {(int64_t)op->number,
                                  (int64_t)op->parent,
                                  (int64_t)op->order_seq,
                                  (int64_t)op->exchange_order_id,
                                  (int64_t)op->prev_of_account,
                                  op->time_ns,
                                  op->payment_nano,
                                  op->price_nano,
                                  op->commission_nano,
                                  op->quantity,
                                  op->quantity_done,
                                  op->account,
                                  op->instrument,
                                  op->order,
                                  op->counterpart,
                                  op->type,
                                  op->state};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            h = mix(h, (uint64_t)fields[f]);
        for (const char *p = op->currency; *p; p++)
            h = mix(h, (unsigned char)*p);
        for (const char *p = op->transaction_id; *p; p++)
            h = mix(h, (unsigned char)*p);
    }
    return h;
}

/* ---- Snapshots ------------------------------------------------------------------------------ */

static void runs_of(const operation_store *s, uint64_t first, uint64_t next, uint32_t *start,
                    uint32_t count[2]) {
    uint64_t total = next - first;
    *start = (uint32_t)(first % s->capacity);
    uint64_t head = s->capacity - *start;
    count[0] = (uint32_t)(total < head ? total : head);
    count[1] = (uint32_t)(total - count[0]);
}

void operations_runs(const core *c, const core_operation *run[2], uint32_t count[2]) {
    const operation_store *s = &c->operations;
    uint32_t start;
    runs_of(s, s->first, s->next, &start, count);
    run[0] = s->ring + start;
    run[1] = s->ring;
}

void operations_load_runs(core *c, uint64_t first, uint64_t next, core_operation *run[2],
                          uint32_t count[2]) {
    operation_store *s = &c->operations;
    assert(first <= next && next - first <= s->capacity);
    s->first = first;
    s->next = next;
    uint32_t start;
    runs_of(s, first, next, &start, count);
    run[0] = s->ring + start;
    run[1] = s->ring;
}

static bool text_ok(const char *text, size_t size) {
    return memchr(text, '\0', size) != NULL;
}

static bool type_known(uint8_t type) {
    return type == CORE_OP_INPUT || core_op_is_trade(type) || type == CORE_OP_BROKER_FEE ||
           type == CORE_OP_OUT_MULTI || type == CORE_OP_INP_MULTI || type == CORE_OP_MARGIN_FEE ||
           type == CORE_OP_ACCRUING_VARMARGIN || type == CORE_OP_WRITING_OFF_VARMARGIN;
}

bool operations_loaded(core *c) {
    operation_store *s = &c->operations;
    clear_maps(s);
    if (s->first < s->opening_count + 1 || s->first > s->next || s->next - s->first > s->capacity)
        return false;
    for (uint64_t n = s->first; n < s->next; n++) {
        const core_operation *op = &s->ring[n % s->capacity];
        if (op->number != n || op->account >= s->account_slots || op->held > 1 ||
            !type_known(op->type) || op->state < CORE_OP_STATE_EXECUTED ||
            op->state > CORE_OP_STATE_PROGRESS || !text_ok(op->currency, sizeof op->currency) ||
            !text_ok(op->transaction_id, sizeof op->transaction_id) || op->prev_of_account >= n ||
            (op->order != CORE_OP_NONE && op->order >= s->order_slots) ||
            (op->counterpart != CORE_OP_NONE && op->counterpart >= s->account_slots) ||
            (op->instrument != CORE_OP_NO_INSTRUMENT &&
             op->instrument >= c->refdata->instrument_count))
            return false;
        if (!op->held)
            continue;
        if (op->prev_of_account >= s->first) {
            const core_operation *prev = &s->ring[op->prev_of_account % s->capacity];
            if (prev->account != op->account || !prev->held)
                return false;
        }
        s->account_last[op->account] = n;
        if (op->order == CORE_OP_NONE)
            continue;
        const core_order *o = &c->orders[op->order];
        if (o->status == 0 || o->accepted_seq != op->order_seq)
            continue; /* the order left before the operation: nothing more will change it */
        if (op->type == CORE_OP_BROKER_FEE)
            s->fee_operation[op->order] = n;
        else
            s->order_operation[op->order] = n;
    }
    return true;
}
