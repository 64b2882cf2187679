/* The exchange link: core orders in, execution reports out, like a broker's gateway to an
 * exchange. Everything runs on the core thread. */
#include "engine/venue_link.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "engine/history_market.h"
#include "util/checked.h"
#include "venue/exchange.h"

#define FIRST_EXCHANGE_ORDER_ID 10000000001ULL
#define LEVELS_PER_SIDE 512

struct engine_venue_link {
    core *core;
    exchange *exchange;
    history_market *history; /* a replay's market, or NULL */
    bool market_closed;      /* engine_close_market: the replay's market prints no more */
    bool market_maker;       /* the exchange runs its market maker */
};

static core_error reject_reason(int reason) {
    switch ((exch_reject_reason)reason) {
    case EXCH_REJECT_PRICE_OUTSIDE_LIMITS:
        return CORE_ERR_EXCHANGE_PRICE_LIMITS;
    case EXCH_REJECT_NOT_TRADING:
        return CORE_ERR_EXCHANGE_NOT_TRADING;
    case EXCH_REJECT_INJECTED:
    case EXCH_REJECT_CAPACITY:
        return CORE_ERR_EXCHANGE_REJECTED;
    }
    return CORE_ERR_EXCHANGE_REJECTED;
}

/* Reports arrive while the link is sending the core's queued requests or advancing the
 * exchange's clock: never while the core is in the middle of a command. */
static void on_report(void *ctx, const exch_report *r) {
    engine_venue_link *link = ctx;
    if (link->core == NULL)
        return; /* the exchange's start, before the broker is attached */
    if (r->kind == EXCH_REPORT_MARKET_MAKER_MOVED) {
        uint64_t random_state[4];
        exchange_random_state(link->exchange, random_state);
        core_record_market_maker(link->core, r->instrument, r->price_nano, random_state,
                                 r->time_ns);
        return;
    }
    core_exchange_report out = {.client_ref = r->client_ref,
                                .exchange_order_id = r->exchange_id,
                                .trade_id = r->trade_id,
                                .lots = r->qty_lots,
                                .price_nano = r->price_nano,
                                .time_ns = r->time_ns};
    switch (r->kind) {
    case EXCH_REPORT_ACK:
        out.kind = REPORT_ACK;
        break;
    case EXCH_REPORT_TRADE:
        out.kind = REPORT_TRADE;
        out.aggressor = r->aggressor;
        break;
    case EXCH_REPORT_CANCELLED:
        out.kind = REPORT_CANCELLED;
        /* Everything else (no liquidity, an unfilled remainder, self-trade prevention, the fill
         * limit) is the exchange's doing. */
        out.cause = r->reason == EXCH_CANCEL_BY_CLIENT ? ORDER_CAUSE_CANCELLED_BY_CLIENT
                                                       : ORDER_CAUSE_CANCELLED_BY_EXCHANGE;
        break;
    case EXCH_REPORT_REJECTED:
        out.kind = REPORT_REJECTED;
        out.cause = ORDER_CAUSE_REJECTED_BY_EXCHANGE;
        out.reject_reason = reject_reason(r->reason);
        break;
    case EXCH_REPORT_MARKET_MAKER_MOVED:
        return;
    }
    core_on_exchange_report(link->core, &out);
}

engine_venue_link *venue_link_create(const refdata *rd, const engine_venue_settings *settings,
                                     int64_t start_ns) {
    engine_venue_link *link = calloc(1, sizeof *link);
    exch_instrument_setup *setups =
        calloc(rd->instrument_count ? rd->instrument_count : 1, sizeof *setups);
    if (link == NULL || setups == NULL) {
        free(link);
        free(setups);
        return NULL;
    }
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const instrument *ins = &rd->instruments[i];
        setups[i] = (exch_instrument_setup){.tick_nano = ins->min_price_increment_nano,
                                            .reference_price_nano = ins->reference_price_nano,
                                            .price_band_bp = ins->price_band_bp,
                                            .trading = ins->trading_status == 5};
    }
    exch_config config = {
        .instrument_count = rd->instrument_count,
        .max_orders = settings->max_orders + rd->instrument_count * 200,
        .max_client_ref = settings->max_orders,
        .levels_per_side = LEVELS_PER_SIDE,
        .ack_delay_ns = settings->ack_delay_ns,
        .fill_delay_ns = settings->fill_delay_ns,
        .reject_probability_ppm = settings->reject_probability_ppm,
        .seed = settings->seed,
        .first_exchange_id = FIRST_EXCHANGE_ORDER_ID,
        .market_maker = settings->market_maker_enabled,
        .mm_levels = settings->market_maker_levels,
        .mm_lots_per_level = settings->market_maker_lots_per_level,
        .mm_spread_ticks = settings->market_maker_spread_ticks,
        .mm_refresh_ns = settings->market_maker_refresh_ns,
        .mm_walk_ticks = settings->market_maker_walk_ticks,
        .mm_follows_prints = settings->market_follows_history,
        .on_report = on_report,
        .report_ctx = link,
    };
    link->market_maker = settings->market_maker_enabled;
    link->exchange = exchange_create(&config, setups, start_ns);
    free(setups);
    if (link->exchange == NULL) {
        free(link);
        return NULL;
    }
    return link;
}

void venue_link_destroy(engine_venue_link *link) {
    if (link != NULL)
        exchange_destroy(link->exchange);
    free(link);
}

static exch_new_order new_order_of(const core_order *order) {
    return (exch_new_order){.client_ref = core_client_ref(order),
                            .owner = order->account + 1,
                            .instrument = order->instrument,
                            .side = order->direction == DIRECTION_BUY ? BOOK_BUY : BOOK_SELL,
                            .type = (exch_order_type)order->type,
                            .tif = (exch_tif)order->tif,
                            .price_nano = order->price_nano,
                            .qty_lots = order->lots_requested - order->lots_executed -
                                        order->lots_cancelled,
                            /* The broker reserved a trade record for each fill it allows. */
                            .max_fills = order->trade_count + order->trades_reserved,
                            .fills_done = order->trade_count};
}

void venue_link_pump(engine_venue_link *link) {
    core_request req;
    while (core_next_request(link->core, &req)) {
        const core_order *order = &link->core->orders[req.order];
        if (order->status == 0 || order_status_is_final(order->status))
            continue; /* ended before the request left (a replacement cancelled unsent) */
        if (req.kind == CORE_REQUEST_NEW) {
            exch_new_order o = new_order_of(order);
            exchange_submit(link->exchange, &o, req.time_ns);
        } else {
            exchange_cancel(link->exchange, core_client_ref(order), req.time_ns);
        }
    }
}

static void market(void *ctx, uint32_t instrument_index, core_market *out) {
    engine_venue_link *link = ctx;
    const exchange *x = link->exchange;
    out->trading = exchange_trading(x, instrument_index);
    exchange_limits(x, instrument_index, &out->limit_down_nano, &out->limit_up_nano);
    out->last_price_nano = exchange_last_price(x, instrument_index, NULL);
    const order_book *book = exchange_book(x, instrument_index);
    out->best_bid_nano = book->bids.count ? book->bids.levels[0].price_nano : 0;
    out->best_ask_nano = book->asks.count ? book->asks.levels[0].price_nano : 0;
}

void venue_link_attach(engine_venue_link *link, core *c) {
    link->core = c;
    c->exchange = (core_exchange){.ctx = link, .market = market};
}

static int by_trade_id(const void *a, const void *b, void *trades) {
    const core_trade *x = &((const core_trade *)trades)[*(const uint32_t *)a];
    const core_trade *y = &((const core_trade *)trades)[*(const uint32_t *)b];
    return x->trade_id < y->trade_id ? -1 : x->trade_id > y->trade_id;
}

/* Recent trades and last prices, from the broker's own trades in the order the exchange printed
 * them. Both sides of a trade between two clients are broker trades with the same id: the
 * exchange printed it once. */
static void restore_prints(engine_venue_link *link) {
    core *c = link->core;
    uint32_t *order =
        malloc((size_t)(c->pools.trades_in_use ? c->pools.trades_in_use : 1) * sizeof *order);
    if (order == NULL)
        return; /* the books are back; only the recent prints are missing */
    uint32_t n = 0;
    for (uint32_t t = 0; t < c->pools.trade_high; t++)
        if (c->trades[t].lots != 0) /* a free record is all zero */
            order[n++] = t;
    qsort_r(order, n, sizeof *order, by_trade_id, c->trades);
    for (uint32_t i = 0; i < n; i++) {
        const core_trade *trade = &c->trades[order[i]];
        if (i > 0 && c->trades[order[i - 1]].trade_id == trade->trade_id)
            continue;
        const core_order *o = &c->orders[trade->order];
        book_side side = o->direction == DIRECTION_BUY ? BOOK_BUY : BOOK_SELL;
        if (!trade->aggressor) /* the other side came in: the market maker's requote */
            side = side == BOOK_BUY ? BOOK_SELL : BOOK_BUY;
        exchange_restore_trade(link->exchange, o->instrument,
                               &(exch_trade_print){.price_nano = trade->price_nano,
                                                   .qty_lots = trade->lots,
                                                   .time_ns = trade->time_ns,
                                                   .aggressor_side = (uint8_t)side});
    }
    free(order);
}

static int by_acceptance(const void *a, const void *b, void *orders) {
    const core_order *x = &((const core_order *)orders)[*(const uint32_t *)a];
    const core_order *y = &((const core_order *)orders)[*(const uint32_t *)b];
    return x->accepted_seq < y->accepted_seq ? -1 : x->accepted_seq > y->accepted_seq;
}

/* Resting orders go back in time priority: by acceptance, oldest first. */
static uint32_t open_orders_by_acceptance(const core *c, uint32_t **out) {
    uint32_t *slots =
        malloc((size_t)(c->pools.orders_in_use ? c->pools.orders_in_use : 1) * sizeof *slots);
    uint32_t n = 0;
    for (uint32_t s = 0; slots != NULL && s < c->pools.order_high; s++)
        if (c->orders[s].status != 0 && !order_status_is_final(c->orders[s].status))
            slots[n++] = s;
    if (slots != NULL)
        qsort_r(slots, n, sizeof *slots, by_acceptance, c->orders);
    *out = slots;
    return slots != NULL ? n : 0;
}

void venue_link_restore(engine_venue_link *link, int64_t now_ns) {
    core *c = link->core;
    /* Exchange numbers and trade ids the broker has seen, finished and retired orders included,
     * are never reused: clients keep them, and the broker indexes orders by them. The core keeps
     * the highest of each (the orders holding them may have left the history). */
    exchange_reserve_numbers(link->exchange, c->venue.last_exchange_order_id,
                             c->venue.last_trade_id);
    uint32_t *open;
    uint32_t n = open_orders_by_acceptance(c, &open);
    /* First the book, without a report: resting orders go back; the others are sorted into those
     * to send again and those that ended. Reports come only after, so that what one of them
     * changes (a replacement armed by a cancel) is never acted on twice. */
    uint32_t resend = 0, ended = 0;
    uint32_t *ended_slots = malloc((size_t)(n ? n : 1) * sizeof *ended_slots);
    if (ended_slots == NULL)
        abort(); /* at start, before anything is served */
    for (uint32_t i = 0; i < n; i++) {
        const core_order *o = &c->orders[open[i]];
        exch_new_order order = new_order_of(o);
        if (o->awaiting_replaced)
            continue; /* core_resume decides: it has not been sent yet */
        if (o->exchange_order_id == 0) {
            /* Accepted by the broker but not yet acknowledged when the process stopped: the
             * exchange never saw it, so it is sent again. */
            open[resend++] = open[i];
            continue;
        }
        /* Only a day limit order rests. A market, best-price or fill-and/or-kill order that was
         * acknowledged but not yet matched when the process stopped has no price to rest at and
         * no session to wait in: the exchange has cancelled it. So has an order that no longer
         * fits the book. */
        bool rests = o->type == ORDER_TYPE_LIMIT && o->tif == TIF_DAY;
        if (!rests || !exchange_restore(link->exchange, &order, o->exchange_order_id))
            ended_slots[ended++] = open[i];
    }
    /* The broker says so rather than keep an order nobody can trade or cancel. */
    for (uint32_t i = 0; i < ended; i++) {
        const core_order *o = &c->orders[ended_slots[i]];
        core_on_exchange_report(c,
                                &(core_exchange_report){.kind = REPORT_CANCELLED,
                                                        .client_ref = core_client_ref(o),
                                                        .lots = new_order_of(o).qty_lots,
                                                        .cause = ORDER_CAUSE_CANCELLED_BY_EXCHANGE,
                                                        .time_ns = now_ns});
    }
    for (uint32_t i = 0; i < resend; i++) {
        const core_order *o = &c->orders[open[i]];
        if (order_status_is_final(o->status) || o->awaiting_replaced || o->exchange_order_id != 0)
            continue;
        exch_new_order order = new_order_of(o);
        exchange_submit(link->exchange, &order, now_ns);
    }
    free(ended_slots);
    free(open);
    restore_prints(link);
    /* The operator's halts are the broker's state: the exchange is told before its maker quotes
     * again, so a halted instrument gets no quotes. */
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
        if (core_instrument_halted(c, i))
            exchange_set_trading(link->exchange, i, false);
    exchange_restore_market_maker(link->exchange, c->venue.mm_reference_nano, c->venue.random_state,
                                  now_ns);
    core_resume(c, now_ns);
    venue_link_pump(link);
}

void venue_link_close_market(engine_venue_link *link) {
    exchange_stop_market_maker(link->exchange);
    link->market_closed = true;
}

void venue_link_set_history(engine_venue_link *link, history_market *market) {
    link->history = market;
}

/* One point of the replay's market. The exchange prints it first and the core records it (the
 * print's trade id is below every trade that follows it); then the exchange catches up to its
 * time, where the market maker requotes around it and may trade with resting client orders;
 * then what the print triggered (stop orders' children) is sent. */
static void print_history_point(engine_venue_link *link, uint32_t instrument_index,
                                const history_point *p) {
    uint64_t trade_id = exchange_market_print(link->exchange, instrument_index, p->price_nano,
                                              p->lots, p->buy, p->time_ns);
    core_record_market_print(link->core, instrument_index, trade_id, p->price_nano, p->lots, p->buy,
                             p->time_ns);
    exchange_advance(link->exchange, p->time_ns);
    venue_link_pump(link);
}

void venue_link_advance(engine_venue_link *link, int64_t now_ns) {
    /* Nothing is queued on entry: every command and the restore pump after themselves. What the
     * exchange's reports queue (a replacement armed by a cancel) leaves now. The replay's prints
     * and the exchange's own timers go in time order. */
    uint32_t instrument_index;
    history_point point;
    while (link->history != NULL && !link->market_closed &&
           history_market_next_due_ns(link->history) <= now_ns) {
        exchange_advance(link->exchange, history_market_next_due_ns(link->history));
        venue_link_pump(link);
        if (history_market_take(link->history, now_ns, &instrument_index, &point))
            print_history_point(link, instrument_index, &point);
    }
    exchange_advance(link->exchange, now_ns);
    venue_link_pump(link);
}

int64_t venue_link_next_due_ns(const engine_venue_link *link) {
    int64_t due = exchange_next_due_ns(link->exchange);
    if (link->history != NULL && !link->market_closed) {
        int64_t next = history_market_next_due_ns(link->history);
        if (next < due)
            due = next;
    }
    return due;
}

void venue_link_order_book(const engine_venue_link *link, uint32_t instrument_index, uint32_t depth,
                           venue_link_book *out) {
    const exchange *x = link->exchange;
    memset(out, 0, sizeof *out);
    if (depth > VENUE_LINK_MAX_DEPTH)
        depth = VENUE_LINK_MAX_DEPTH;
    const order_book *book = exchange_book(x, instrument_index);
    for (uint32_t i = 0; i < depth && i < book->bids.count; i++)
        out->bids[out->bid_count++] =
            (venue_link_level){book->bids.levels[i].price_nano, book->bids.levels[i].total_lots};
    for (uint32_t i = 0; i < depth && i < book->asks.count; i++)
        out->asks[out->ask_count++] =
            (venue_link_level){book->asks.levels[i].price_nano, book->asks.levels[i].total_lots};
    exchange_limits(x, instrument_index, &out->limit_down_nano, &out->limit_up_nano);
    out->last_price_nano = exchange_last_price(x, instrument_index, &out->last_price_ns);
}

uint32_t venue_link_last_trades(const engine_venue_link *link, uint32_t instrument_index,
                                int64_t from_ns, int64_t to_ns, venue_link_trade *out,
                                uint32_t max) {
    exch_trade_print prints[1024]; /* as many as the exchange keeps */
    uint32_t capacity = sizeof prints / sizeof prints[0];
    uint32_t n = exchange_trades(link->exchange, instrument_index, from_ns, to_ns, prints,
                                 max < capacity ? max : capacity);
    for (uint32_t i = 0; i < n; i++)
        out[i] = (venue_link_trade){.price_nano = prints[i].price_nano,
                                    .qty_lots = prints[i].qty_lots,
                                    .time_ns = prints[i].time_ns,
                                    .direction = prints[i].aggressor_side};
    return n;
}

int64_t venue_link_last_price_ns(const engine_venue_link *link, uint32_t instrument_index) {
    int64_t time_ns = 0;
    exchange_last_price(link->exchange, instrument_index, &time_ns);
    return time_ns;
}

/* ---- The operator's controls (tinvestd.admin.v1.AdminService) ------------------------------- */

void venue_link_set_halt(engine_venue_link *link, uint32_t instrument_index, bool halted,
                         int64_t now_ns, bool *changed) {
    core *c = link->core;
    /* The exchange catches up first, so that what was due before the halt happens before it. */
    exchange_advance(link->exchange, now_ns);
    venue_link_pump(link);
    core_set_trading_halt(c, instrument_index, halted, now_ns, changed);
    bool configured = c->refdata->instruments[instrument_index].trading_status == 5;
    exchange_set_trading(link->exchange, instrument_index, configured && !halted);
    /* A resume's requote is due now: the answer shows the market quoting again. */
    exchange_advance(link->exchange, now_ns);
    venue_link_pump(link); /* stop orders a resume triggered, what the requote traded */
}

venue_link_faults venue_link_get_faults(const engine_venue_link *link) {
    exch_faults f = exchange_faults(link->exchange);
    return (venue_link_faults){.ack_delay_ns = f.ack_delay_ns,
                               .fill_delay_ns = f.fill_delay_ns,
                               .reject_probability_ppm = f.reject_probability_ppm};
}

void venue_link_set_faults(engine_venue_link *link, const venue_link_faults *faults) {
    exch_faults f = {.ack_delay_ns = faults->ack_delay_ns,
                     .fill_delay_ns = faults->fill_delay_ns,
                     .reject_probability_ppm = faults->reject_probability_ppm};
    exchange_set_faults(link->exchange, &f);
}

bool venue_link_has_market_maker(const engine_venue_link *link) {
    return link->market_maker;
}

int64_t venue_link_move_price(engine_venue_link *link, uint32_t instrument_index,
                              int64_t price_nano, uint32_t walk_steps, int64_t now_ns) {
    assert(link->market_maker);
    exchange_advance(link->exchange, now_ns);
    venue_link_pump(link);
    int64_t reference = price_nano;
    if (walk_steps > 0)
        reference = exchange_walk_market_maker(link->exchange, instrument_index, walk_steps, now_ns);
    else
        exchange_move_market_maker(link->exchange, instrument_index, price_nano, now_ns);
    venue_link_pump(link); /* what the requote's trades triggered */
    return reference;
}

int64_t venue_link_market_maker_reference(const engine_venue_link *link,
                                          uint32_t instrument_index) {
    return exchange_market_maker_reference(link->exchange, instrument_index);
}

bool venue_link_trading(const engine_venue_link *link, uint32_t instrument_index) {
    return exchange_trading(link->exchange, instrument_index);
}

uint64_t venue_link_book_version(const engine_venue_link *link, uint32_t instrument_index) {
    return exchange_book_version(link->exchange, instrument_index);
}

static int64_t half_lots(const book_half *half) {
    int64_t lots = 0;
    for (uint32_t i = 0; i < half->count; i++)
        if (!checked_add(lots, half->levels[i].total_lots, &lots))
            return INT64_MAX; /* a sum past int64 reads as the largest, never wrapped */
    return lots;
}

void venue_link_book_depth(const engine_venue_link *link, uint32_t instrument_index,
                           venue_link_depth *out) {
    const order_book *book = exchange_book(link->exchange, instrument_index);
    const book_half *bids = order_book_half_const(book, BOOK_BUY);
    const book_half *asks = order_book_half_const(book, BOOK_SELL);
    *out = (venue_link_depth){.bid_levels = bids->count,
                              .ask_levels = asks->count,
                              .bid_lots = half_lots(bids),
                              .ask_lots = half_lots(asks)};
}

uint32_t venue_link_trades_after(const engine_venue_link *link, uint32_t instrument_index,
                                 uint64_t seen, venue_link_trade *out, uint32_t max,
                                 uint64_t *printed) {
    exch_trade_print prints[256];
    if (max > sizeof prints / sizeof prints[0])
        max = sizeof prints / sizeof prints[0];
    uint32_t n =
        exchange_trades_after(link->exchange, instrument_index, seen, prints, max, printed);
    for (uint32_t i = 0; i < n; i++)
        out[i] = (venue_link_trade){.price_nano = prints[i].price_nano,
                                    .qty_lots = prints[i].qty_lots,
                                    .time_ns = prints[i].time_ns,
                                    .direction = prints[i].aggressor_side};
    return n;
}

uint64_t venue_link_state_hash(const engine_venue_link *link) {
    return exchange_state_hash(link->exchange);
}
