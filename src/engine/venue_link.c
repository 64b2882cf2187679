/* TEMPORARY exchange link: acknowledges every order and cancels on request, no matching.
 * Replaced by the link to the embedded venue. */
#include "engine/venue_link.h"

#include <stdlib.h>

#define PENDING_MAX 65536

typedef struct pending_report {
    core_exchange_report report;
} pending_report;

struct engine_venue_link {
    core *core;
    uint64_t next_exchange_id;
    pending_report *pending;
    uint32_t pending_count;
};

engine_venue_link *venue_link_create(const refdata *rd, const engine_venue_settings *settings,
                                     int64_t start_ns) {
    engine_venue_link *link = calloc(1, sizeof *link);
    if (link == NULL)
        return NULL;
    link->pending = calloc(PENDING_MAX, sizeof *link->pending);
    link->next_exchange_id = 10000000001ULL;
    return link;
}

void venue_link_destroy(engine_venue_link *link) {
    if (link != NULL)
        free(link->pending);
    free(link);
}

static void push(engine_venue_link *link, core_exchange_report r) {
    if (link->pending_count < PENDING_MAX)
        link->pending[link->pending_count++].report = r;
}

static void submit(void *ctx, const core_order *order, int64_t now_ns) {
    engine_venue_link *link = ctx;
    push(link, (core_exchange_report){.kind = REPORT_ACK, .order = order->index,
                                      .exchange_order_id = link->next_exchange_id++, .time_ns = now_ns});
}

static void cancel(void *ctx, const core_order *order, int64_t now_ns) {
    engine_venue_link *link = ctx;
    push(link, (core_exchange_report){.kind = REPORT_CANCELLED, .order = order->index,
                                      .lots = order->lots_requested - order->lots_executed,
                                      .cause = ORDER_CAUSE_CANCELLED_BY_CLIENT, .time_ns = now_ns});
}

static void market(void *ctx, uint32_t instrument_index, core_market *out) {
    engine_venue_link *link = ctx;
    const instrument *ins = &link->core->refdata->instruments[instrument_index];
    out->trading = true;
    out->last_price_nano = ins->reference_price_nano;
    out->limit_up_nano = ins->reference_price_nano * 12 / 10;
    out->limit_down_nano = ins->reference_price_nano * 8 / 10;
}

void venue_link_attach(engine_venue_link *link, core *c) {
    link->core = c;
    c->exchange = (core_exchange){.ctx = link, .submit = submit, .cancel = cancel, .market = market};
}

void venue_link_advance(engine_venue_link *link, int64_t now_ns) {
    for (uint32_t i = 0; i < link->pending_count; i++)
        core_on_exchange_report(link->core, &link->pending[i].report);
    link->pending_count = 0;
}

int64_t venue_link_next_due_ns(const engine_venue_link *link) {
    return INT64_MAX;
}

void venue_link_order_book(const engine_venue_link *link, uint32_t instrument_index,
                           uint32_t depth, venue_link_book *out) {
    const instrument *ins = &link->core->refdata->instruments[instrument_index];
    *out = (venue_link_book){.last_price_nano = ins->reference_price_nano,
                             .limit_up_nano = ins->reference_price_nano * 12 / 10,
                             .limit_down_nano = ins->reference_price_nano * 8 / 10};
}

uint32_t venue_link_last_trades(const engine_venue_link *link, uint32_t instrument_index,
                                int64_t from_ns, int64_t to_ns, venue_link_trade *out,
                                uint32_t max) {
    return 0;
}

bool venue_link_trading(const engine_venue_link *link, uint32_t instrument_index) {
    return true;
}
