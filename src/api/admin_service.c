/* tinvestd.admin.v1.AdminService: the operator's control surface (docs/PROTOCOL.md "Operator's
 * control surface"), authorised by the admin token alone (api_method.admin_access, server.c).
 *
 * DESIGN: every method is a core job like a client's command, so it takes its turn between
 * clients' commands and its answer leaves once what it changed is durable. A halt is broker
 * state (CORE_EVENT_TRADING_HALT through venue_link_set_halt); a price move is the market
 * maker's, journaled as its walk is (CORE_EVENT_MARKET_MAKER_MOVED); the exchange's fault
 * settings change how the exchange decides from then on and are not journaled: what they cause
 * (rejects, delays) is, as every exchange report is (docs/ARCHITECTURE.md, "The operator's
 * control surface"). Replies are built on the core thread from copies, as reads are. */
#include <stdio.h>
#include <string.h>

#include "admin.pb-c.h"
#include "api/admin_request.h"
#include "api/core_job.h"
#include "api/pb.h"
#include "api/replay.h"
#include "api/server.h"
#include "api/services.h"
#include "engine/venue_link.h"
#include "util/log.h"
#include "util/money.h"

#define ADMIN_PACKAGE "tinvestd.admin.v1"
#define STATUS_NORMAL_TRADING 5
#define STATUS_NOT_AVAILABLE_FOR_TRADING 1
#define STATUS_BREAK_IN_TRADING 4

typedef Tinvestd__Admin__V1__InstrumentState admin_instrument_state;

static char *decimal_or_empty(api_call *call, int64_t value_nano) {
    if (value_nano == 0)
        return "";
    char *text = api_call_alloc(call, MONEY_DECIMAL_MAX);
    money_format_decimal(value_nano, text, MONEY_DECIMAL_MAX);
    return text;
}

/* The instrument as clients see it now (core thread): GetTradingStatus's status, the book's top,
 * the last price, the limits and the market maker's reference. */
static admin_instrument_state *instrument_state(api_call *call, engine *e, const instrument *ins) {
    admin_instrument_state *s =
        PB_NEW(call, admin_instrument_state, TINVESTD__ADMIN__V1__INSTRUMENT_STATE__INIT);
    engine_venue_link *venue = engine_venue(e);
    bool trading =
        ins->trading_status == STATUS_NORMAL_TRADING && venue_link_trading(venue, ins->index);
    s->instrument_uid = (char *)ins->uid;
    s->figi = (char *)ins->figi;
    s->ticker = (char *)ins->ticker;
    s->class_code = (char *)ins->class_code;
    s->halted = core_instrument_halted(engine_core(e), ins->index);
    s->trading_status = trading                                        ? STATUS_NORMAL_TRADING
                        : ins->trading_status != STATUS_NORMAL_TRADING ? ins->trading_status
                        : s->halted                                    ? STATUS_BREAK_IN_TRADING
                                    : STATUS_NOT_AVAILABLE_FOR_TRADING;
    venue_link_book book;
    venue_link_order_book(venue, ins->index, 1, &book);
    s->last_price = decimal_or_empty(call, book.last_price_nano);
    s->best_bid = decimal_or_empty(call, book.bid_count ? book.bids[0].price_nano : 0);
    s->best_ask = decimal_or_empty(call, book.ask_count ? book.asks[0].price_nano : 0);
    s->reference_price =
        decimal_or_empty(call, venue_link_has_market_maker(venue)
                                   ? venue_link_market_maker_reference(venue, ins->index)
                                   : 0);
    s->limit_down = decimal_or_empty(call, book.limit_down_nano);
    s->limit_up = decimal_or_empty(call, book.limit_up_nano);
    return s;
}

static Tinvestd__Admin__V1__ExchangeFaults *faults_of(api_call *call, engine *e) {
    venue_link_faults f = venue_link_get_faults(engine_venue(e));
    Tinvestd__Admin__V1__ExchangeFaults *out = PB_NEW(call, Tinvestd__Admin__V1__ExchangeFaults,
                                                      TINVESTD__ADMIN__V1__EXCHANGE_FAULTS__INIT);
    out->ack_delay_us = f.ack_delay_ns / 1000;
    out->fill_delay_us = f.fill_delay_ns / 1000;
    out->reject_ppm = f.reject_probability_ppm;
    return out;
}

/* ---- GetStats ------------------------------------------------------------------------------- */

static const ProtobufCMessage *read_stats(engine *e, api_call *call) {
    const core *c = engine_core(e);
    const refdata *rd = api_call_refdata(call);
    Tinvestd__Admin__V1__Stats *s =
        PB_NEW(call, Tinvestd__Admin__V1__Stats, TINVESTD__ADMIN__V1__STATS__INIT);
    s->now = pb_timestamp(call, engine_now_ns(e));
    s->journal_seq = c->next_seq - 1;
    s->snapshot_seq = e->last_snapshot_seq;
    s->orders_accepted = e->stats.orders_accepted;
    s->orders_rejected = e->stats.orders_rejected;
    s->orders_filled = e->stats.orders_filled;
    s->orders_cancelled = e->stats.orders_cancelled;
    s->trades = e->stats.trades;
    s->orders_held = c->pools.orders_in_use;
    s->open_orders = c->pools.orders_in_use - c->pools.finished_count;
    s->trades_held = c->pools.trades_in_use;
    s->halted_instruments = core_halted_count(c);
    s->inbox_depth = engine_inbox_depth(e);
    s->faults = faults_of(call, e);
    s->clock = api_call_alloc(call, 24);
    clock_replay_speed_text(s->clock, 24); /* "live" without --replay */
    s->instruments = (admin_instrument_state **)pb_array(call, rd->instrument_count);
    for (uint32_t i = 0; i < rd->instrument_count; i++)
        s->instruments[s->n_instruments++] = instrument_state(call, e, &rd->instruments[i]);
    return &s->base;
}

static void get_stats(api_call *call, const ProtobufCMessage *request) {
    (void)request;
    api_read_on_core(call, read_stats);
}

/* ---- HaltTrading, ResumeTrading ------------------------------------------------------------- */

typedef struct halt_job {
    api_core_job job; /* must stay first */
    const instrument *ins;
    bool halted, changed;
    admin_instrument_state *state;
} halt_job;

static void run_halt(engine *e, engine_job *base) {
    halt_job *job = (halt_job *)base;
    venue_link_set_halt(engine_venue(e), job->ins->index, job->halted, engine_now_ns(e),
                        &job->changed);
    job->state = instrument_state(job->job.call, e, job->ins);
    engine_finish_after_commit(e, base);
}

static void finish_halt(engine *e, engine_job *base) {
    (void)e;
    halt_job *job = (halt_job *)base;
    if (job->changed)
        log_info("admin: trading in %s (%s) %s tracking_id=%s", job->ins->ticker, job->ins->uid,
                 job->halted ? "halted" : "resumed", job->job.call->tracking_id);
    api_reply_message(job->job.call, &job->state->base);
}

static void set_halt(api_call *call, const ProtobufCMessage *request, bool halted) {
    const Tinvestd__Admin__V1__InstrumentRequest *in =
        (const Tinvestd__Admin__V1__InstrumentRequest *)request;
    halt_job *job = api_core_job_new(call, sizeof *job);
    const char *message;
    int code = api_request_admin_instrument(api_call_refdata(call), in->instrument_id, &job->ins,
                                            &message);
    if (code != 0) {
        api_reply_error_message(call, code, message);
        return;
    }
    job->halted = halted;
    job->job.base.mutates = true;
    api_core_job_submit(&job->job, run_halt, finish_halt);
}

static void halt_trading(api_call *call, const ProtobufCMessage *request) {
    set_halt(call, request, true);
}

static void resume_trading(api_call *call, const ProtobufCMessage *request) {
    set_halt(call, request, false);
}

/* ---- SetExchangeFaults ---------------------------------------------------------------------- */

typedef struct faults_job {
    api_core_job job; /* must stay first */
    int code;
    const char *message;
    Tinvestd__Admin__V1__ExchangeFaults *faults;
} faults_job;

/* The largest of the two retentions is how long an order's record stays (config.c). */
static int64_t order_retention_ns(const tinvestd_config *cfg) {
    int64_t s = cfg->order_history_retention_s > cfg->idempotency_retention_s
                    ? cfg->order_history_retention_s
                    : cfg->idempotency_retention_s;
    return s > INT64_MAX / 1000000000 ? INT64_MAX : s * 1000000000;
}

static void run_faults(engine *e, engine_job *base) {
    faults_job *job = (faults_job *)base;
    api_call *call = job->job.call;
    venue_link_faults now = venue_link_get_faults(engine_venue(e));
    api_admin_faults current = {.ack_delay_ns = now.ack_delay_ns,
                                .fill_delay_ns = now.fill_delay_ns,
                                .reject_ppm = now.reject_probability_ppm},
                     next;
    job->code = api_request_admin_faults(
        (const Tinvestd__Admin__V1__SetExchangeFaultsRequest *)call->request, &current,
        order_retention_ns(api_call_config(call)), &next, &job->message);
    if (job->code == 0) {
        venue_link_faults set = {.ack_delay_ns = next.ack_delay_ns,
                                 .fill_delay_ns = next.fill_delay_ns,
                                 .reject_probability_ppm = next.reject_ppm};
        venue_link_set_faults(engine_venue(e), &set);
        job->faults = faults_of(call, e);
    }
    engine_finish_after_commit(e, base);
}

static void finish_faults(engine *e, engine_job *base) {
    (void)e;
    faults_job *job = (faults_job *)base;
    api_call *call = job->job.call;
    if (job->code != 0) {
        api_reply_error_message(call, job->code, job->message);
        return;
    }
    log_info("admin: exchange faults ack_delay_us=%lld fill_delay_us=%lld reject_ppm=%lld "
             "tracking_id=%s",
             (long long)job->faults->ack_delay_us, (long long)job->faults->fill_delay_us,
             (long long)job->faults->reject_ppm, call->tracking_id);
    api_reply_message(call, &job->faults->base);
}

static void set_exchange_faults(api_call *call, const ProtobufCMessage *request) {
    /* The values are checked against the ones in force, which only the core thread reads. */
    api_admin_faults zero = {0}, unused;
    const char *message;
    int code = api_request_admin_faults(
        (const Tinvestd__Admin__V1__SetExchangeFaultsRequest *)request, &zero,
        order_retention_ns(api_call_config(call)), &unused, &message);
    if (code != 0) {
        api_reply_error_message(call, code, message);
        return;
    }
    faults_job *job = api_core_job_new(call, sizeof *job);
    api_core_job_submit(&job->job, run_faults, finish_faults);
}

/* ---- MovePrice ------------------------------------------------------------------------------ */

typedef struct move_job {
    api_core_job job; /* must stay first */
    const instrument *ins;
    int64_t price_nano;
    uint32_t walk;
    int code;
    const char *message;
    admin_instrument_state *state;
} move_job;

static void run_move(engine *e, engine_job *base) {
    move_job *job = (move_job *)base;
    engine_venue_link *venue = engine_venue(e);
    venue_link_book book;
    venue_link_order_book(venue, job->ins->index, 0, &book);
    if (job->walk == 0 &&
        (job->price_nano < book.limit_down_nano || job->price_nano > book.limit_up_nano)) {
        job->code = 30099;
        job->message = "`price` is outside the instrument's limits (limit_down .. limit_up)";
    } else {
        venue_link_move_price(venue, job->ins->index, job->price_nano, job->walk, engine_now_ns(e));
        job->state = instrument_state(job->job.call, e, job->ins);
    }
    engine_finish_after_commit(e, base);
}

static void finish_move(engine *e, engine_job *base) {
    (void)e;
    move_job *job = (move_job *)base;
    api_call *call = job->job.call;
    if (job->code != 0) {
        api_reply_error_message(call, job->code, job->message);
        return;
    }
    log_info("admin: %s's market maker quotes around %s tracking_id=%s", job->ins->ticker,
             job->state->reference_price, call->tracking_id);
    api_reply_message(call, &job->state->base);
}

static void move_price(api_call *call, const ProtobufCMessage *request) {
    move_job *job = api_core_job_new(call, sizeof *job);
    const char *message = NULL;
    int code = api_request_admin_move_price(api_call_refdata(call),
                                            (const Tinvestd__Admin__V1__MovePriceRequest *)request,
                                            &job->ins, &job->price_nano, &job->walk, &message);
    if (code == 0 && call->server->app->replay != NULL) {
        code = 30102;
        message = "A replay's prices are the history's: MovePrice is not served in a replay";
    }
    if (code == 0 && !api_call_config(call)->venue.market_maker_enabled) {
        code = 30102;
        message = "The exchange runs no market maker (venue.market_maker): no price to move";
    }
    if (code != 0) {
        api_reply_error_message(call, code, message);
        return;
    }
    job->job.base.mutates = true;
    api_core_job_submit(&job->job, run_move, finish_move);
}

/* ---- TakeSnapshot --------------------------------------------------------------------------- */

typedef struct snapshot_job {
    api_core_job job; /* must stay first */
    uint64_t seq;
    bool started;
} snapshot_job;

static void run_snapshot(engine *e, engine_job *base) {
    snapshot_job *job = (snapshot_job *)base;
    job->started = engine_request_snapshot(e, &job->seq);
    engine_finish_after_commit(e, base);
}

static void finish_snapshot(engine *e, engine_job *base) {
    (void)e;
    snapshot_job *job = (snapshot_job *)base;
    api_call *call = job->job.call;
    Tinvestd__Admin__V1__TakeSnapshotResponse *out =
        PB_NEW(call, Tinvestd__Admin__V1__TakeSnapshotResponse,
               TINVESTD__ADMIN__V1__TAKE_SNAPSHOT_RESPONSE__INIT);
    out->seq = job->seq;
    out->started = job->started;
    if (job->started)
        log_info("admin: snapshot asked for at event %llu tracking_id=%s",
                 (unsigned long long)job->seq, call->tracking_id);
    api_reply_message(call, &out->base);
}

static void take_snapshot(api_call *call, const ProtobufCMessage *request) {
    (void)request;
    snapshot_job *job = api_core_job_new(call, sizeof *job);
    api_core_job_submit(&job->job, run_snapshot, finish_snapshot);
}

/* ---- The table ------------------------------------------------------------------------------ */

#define ADMIN(method, request, handler)                                                            \
    {                                                                                              \
        .package = ADMIN_PACKAGE, .service = "AdminService", .name = method,                       \
        .request_type = &request, .handle = handler, .admin_access = true                          \
    }

static const api_method admin_methods[] = {
    ADMIN("GetStats", tinvestd__admin__v1__get_stats_request__descriptor, get_stats),
    ADMIN("HaltTrading", tinvestd__admin__v1__instrument_request__descriptor, halt_trading),
    ADMIN("ResumeTrading", tinvestd__admin__v1__instrument_request__descriptor, resume_trading),
    ADMIN("SetExchangeFaults", tinvestd__admin__v1__set_exchange_faults_request__descriptor,
          set_exchange_faults),
    ADMIN("MovePrice", tinvestd__admin__v1__move_price_request__descriptor, move_price),
    ADMIN("TakeSnapshot", tinvestd__admin__v1__take_snapshot_request__descriptor, take_snapshot),
    /* The replay's own Advance, behind the admin token (12001 without --replay). */
    ADMIN("Advance", tinvestd__replay__v1__advance_request__descriptor, api_replay_advance),
    /* The replay's speed from now on (12001 without --replay). */
    ADMIN("SetReplaySpeed", tinvestd__admin__v1__set_replay_speed_request__descriptor,
          api_replay_set_speed),
};

const api_method *api_admin_methods(size_t *count) {
    *count = sizeof admin_methods / sizeof admin_methods[0];
    return admin_methods;
}
