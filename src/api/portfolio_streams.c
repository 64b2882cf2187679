/* OperationsStreamService: PortfolioStream and PositionsStream.
 *
 * DESIGN: a subscription is a job on the core thread, in command order: its `run` adds the
 * subscriber to the hub and copies the holdings its first messages show; its `finish`, once the
 * batch is durable, opens the stream with the subscription result and those messages and only
 * then attaches the stream to the hub. After every batch the engine calls `collect` on the core
 * thread: for each account the batch's events changed (core_changed_accounts) that someone
 * follows it copies the account's cash and positions, which of them changed, and once per batch
 * the market of every instrument; `release`, after the batch is durable and off the core
 * thread, builds from those copies a portfolio (the same builder as GetPortfolio) and a
 * PositionData of the changed entries, each encoded once and queued to every subscriber of the
 * account. A portfolio message replaces the same account's older one still waiting in a
 * subscriber's queue (conflation: a slow reader gets the newest); position messages are each a
 * change and are never dropped: a subscriber whose queue fills is cut off. */
#include "api/portfolio_streams.h"

#include <stdlib.h>
#include <string.h>

#include "api/account_view.h"
#include "api/core_job.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"
#include "api/services.h"
#include "api/stream_call.h"

#define DEFAULT_PING_MS 120000

typedef struct subscription {
    stream_subscriber sub;
    stream_hub *hub;
    /* Per account slot: where the account's newest portfolio waits in the stream's queue. */
    uint32_t queued_at[REFDATA_MAX_ACCOUNTS];
} subscription;

static grpc_slice pack(const ProtobufCMessage *msg) {
    size_t size = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(size);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    return slice;
}

static void set_time(Google__Protobuf__Timestamp *t, int64_t time_ns) {
    t->seconds = time_ns / 1000000000;
    t->nanos = (int32_t)(time_ns % 1000000000);
}

static grpc_slice portfolio_ping(api_stream *stream, int64_t now_ns) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    set_time(&time, now_ns);
    PB(Ping) ping = PB_INIT(PING);
    ping.time = &time;
    ping.stream_id = stream->stream_id;
    PB(PortfolioStreamResponse) msg = PB_INIT(PORTFOLIO_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(PORTFOLIO_STREAM_RESPONSE__PAYLOAD_PING);
    msg.ping = &ping;
    return pack(&msg.base);
}

static grpc_slice positions_ping(api_stream *stream, int64_t now_ns) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    set_time(&time, now_ns);
    PB(Ping) ping = PB_INIT(PING);
    ping.time = &time;
    ping.stream_id = stream->stream_id;
    PB(PositionsStreamResponse) msg = PB_INIT(POSITIONS_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(POSITIONS_STREAM_RESPONSE__PAYLOAD_PING);
    msg.ping = &ping;
    return pack(&msg.base);
}

static void on_stream_closed(api_stream *stream) {
    subscription *s = stream->owner;
    stream_hub_remove(s->hub, &s->sub);
    free(s);
    api_stream_release(stream);
}

/* ---- Subscribing ---------------------------------------------------------------------------- */

typedef struct subscribe_job {
    api_core_job job; /* must stay first */
    stream_kind kind;
    bool with_initial; /* positions: the current positions first */
    int64_t ping_ns;
    /* The accounts as the request names them, each with its status (found and readable, or
     * not), and the set the subscriber follows (decided on the transport thread). */
    size_t requested;
    const char **ids;
    bool *found;
    bool *selected; /* REFDATA_MAX_ACCOUNTS */
    /* Set by `run`. */
    subscription *sub; /* NULL: the token has its limit of streams of the kind */
    uint32_t view_count;
    api_account_view *views; /* the first messages, one per followed account */
    core_market *markets;
    int64_t now_ns;
} subscribe_job;

static void run_subscribe(engine *e, engine_job *base) {
    subscribe_job *job = (subscribe_job *)base;
    api_call *call = job->job.call;
    const core *c = engine_core(e);
    stream_hub *hub = call->server->app->hub;
    subscription *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->hub = hub;
    s->sub.kind = job->kind;
    s->sub.token_index = call->token_index;
    /* Accounts closed since the request was read are not followed. */
    uint32_t count = refdata_account_count(c->refdata);
    for (uint32_t a = 0; a < count && a < REFDATA_MAX_ACCOUNTS; a++)
        s->sub.accounts[a] = job->selected[a] && refdata_account_status(&c->refdata->accounts[a]) !=
                                                     ACCOUNT_STATUS_CLOSED;
    if (!stream_hub_add(hub, &s->sub)) {
        free(s);
        engine_finish_after_commit(e, base);
        return;
    }
    job->sub = s;
    job->now_ns = engine_now_ns(e);
    bool initial = job->kind == STREAM_KIND_PORTFOLIO || job->with_initial;
    uint32_t n = c->refdata->instrument_count ? c->refdata->instrument_count : 1;
    if (initial) {
        job->views = api_call_alloc(call, (size_t)count * sizeof *job->views + 1);
        if (job->kind == STREAM_KIND_PORTFOLIO) {
            job->markets = api_call_alloc(call, n * sizeof *job->markets);
            for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
                core_market_view(c, i, &job->markets[i]);
        }
        for (uint32_t a = 0; a < count; a++) {
            if (!s->sub.accounts[a])
                continue;
            api_account_view *v = &job->views[job->view_count++];
            v->positions = api_call_alloc(call, n * sizeof *v->positions);
            v->markets = NULL;
            v->var_margin = job->kind == STREAM_KIND_PORTFOLIO
                                ? api_call_alloc(call, n * sizeof *v->var_margin)
                                : NULL;
            api_account_view_read(c, &c->refdata->accounts[a], v);
            v->markets = job->markets;
        }
    }
    engine_finish_after_commit(e, base);
}

static grpc_slice subscription_message(subscribe_job *job, const char *stream_id) {
    api_call *call = job->job.call;
    if (job->kind == STREAM_KIND_PORTFOLIO) {
        PB(PortfolioSubscriptionResult) *r =
            PB_NEW(call, PB(PortfolioSubscriptionResult), PB_INIT(PORTFOLIO_SUBSCRIPTION_RESULT));
        r->accounts = (PB(AccountSubscriptionStatus) **)pb_array(call, job->requested);
        for (size_t i = 0; i < job->requested; i++) {
            PB(AccountSubscriptionStatus) *st =
                PB_NEW(call, PB(AccountSubscriptionStatus), PB_INIT(ACCOUNT_SUBSCRIPTION_STATUS));
            st->account_id = (char *)job->ids[i];
            st->subscription_status =
                job->found[i]
                    ? PB_ENUM(PORTFOLIO_SUBSCRIPTION_STATUS__PORTFOLIO_SUBSCRIPTION_STATUS_SUCCESS)
                    : PB_ENUM(
                          PORTFOLIO_SUBSCRIPTION_STATUS__PORTFOLIO_SUBSCRIPTION_STATUS_ACCOUNT_NOT_FOUND);
            r->accounts[r->n_accounts++] = st;
        }
        r->tracking_id = call->tracking_id;
        r->stream_id = (char *)stream_id;
        PB(PortfolioStreamResponse) msg = PB_INIT(PORTFOLIO_STREAM_RESPONSE);
        msg.payload_case = PB_ENUM(PORTFOLIO_STREAM_RESPONSE__PAYLOAD_SUBSCRIPTIONS);
        msg.subscriptions = r;
        return pack(&msg.base);
    }
    PB(PositionsSubscriptionResult) *r =
        PB_NEW(call, PB(PositionsSubscriptionResult), PB_INIT(POSITIONS_SUBSCRIPTION_RESULT));
    r->accounts = (PB(PositionsSubscriptionStatus) **)pb_array(call, job->requested);
    for (size_t i = 0; i < job->requested; i++) {
        PB(PositionsSubscriptionStatus) *st =
            PB_NEW(call, PB(PositionsSubscriptionStatus), PB_INIT(POSITIONS_SUBSCRIPTION_STATUS));
        st->account_id = (char *)job->ids[i];
        st->subscription_status =
            job->found[i]
                ? PB_ENUM(
                      POSITIONS_ACCOUNT_SUBSCRIPTION_STATUS__POSITIONS_SUBSCRIPTION_STATUS_SUCCESS)
                : PB_ENUM(
                      POSITIONS_ACCOUNT_SUBSCRIPTION_STATUS__POSITIONS_SUBSCRIPTION_STATUS_ACCOUNT_NOT_FOUND);
        r->accounts[r->n_accounts++] = st;
    }
    r->tracking_id = call->tracking_id;
    r->stream_id = (char *)stream_id;
    PB(PositionsStreamResponse) msg = PB_INIT(POSITIONS_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(POSITIONS_STREAM_RESPONSE__PAYLOAD_SUBSCRIPTIONS);
    msg.subscriptions = r;
    return pack(&msg.base);
}

/* The roubles the stream's portfolios give their totals in (the stream has no `currency`). */
static const api_portfolio_currency rouble = {.currency = "rub", .rub_nano = 1000000000LL};

static grpc_slice portfolio_message(api_call *scratch, const refdata *rd,
                                    const api_account_view *view) {
    PB(PortfolioStreamResponse) msg = PB_INIT(PORTFOLIO_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(PORTFOLIO_STREAM_RESPONSE__PAYLOAD_PORTFOLIO);
    msg.portfolio = api_portfolio_build(scratch, rd, view, &rouble);
    return pack(&msg.base);
}

static grpc_slice initial_positions_message(api_call *scratch, const refdata *rd,
                                            const api_account_view *view) {
    PB(PositionsStreamResponse) msg = PB_INIT(POSITIONS_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(POSITIONS_STREAM_RESPONSE__PAYLOAD_INITIAL_POSITIONS);
    msg.initial_positions = api_positions_build(scratch, rd, view);
    return pack(&msg.base);
}

static void finish_subscribe(engine *e, engine_job *base) {
    subscribe_job *job = (subscribe_job *)base;
    api_call *call = job->job.call;
    if (job->sub == NULL) {
        api_reply_error(call, 80001);
        return;
    }
    const refdata *rd = api_call_refdata(call);
    char *stream_id = api_call_alloc(call, UUID_TEXT_SIZE);
    uuid_generate_v4(stream_id);
    grpc_slice first = subscription_message(job, stream_id);
    bool portfolio = job->kind == STREAM_KIND_PORTFOLIO;
    /* The first messages are encoded before the stream takes the call (and its memory). */
    uint32_t n = job->view_count;
    grpc_slice *initial = malloc((n ? n : 1) * sizeof *initial);
    if (initial == NULL)
        abort();
    for (uint32_t i = 0; i < n; i++)
        initial[i] = portfolio ? portfolio_message(call, rd, &job->views[i])
                               : initial_positions_message(call, rd, &job->views[i]);
    uint32_t account_index[REFDATA_MAX_ACCOUNTS];
    for (uint32_t i = 0; i < n; i++)
        account_index[i] = job->views[i].account->index;
    subscription *s = job->sub;
    api_stream *stream = api_stream_open(
        call, (uint32_t)call->server->config->stream_backlog_messages, first, job->ping_ns,
        portfolio ? portfolio_ping : positions_ping, on_stream_closed, s);
    grpc_slice_unref(first);
    memcpy(stream->stream_id, stream_id, UUID_TEXT_SIZE);
    for (uint32_t i = 0; i < n; i++) {
        if (portfolio)
            api_stream_write_conflated(stream, initial[i], (uint64_t)account_index[i] + 1,
                                       &s->queued_at[account_index[i]]);
        else
            api_stream_write(stream, initial[i]);
        grpc_slice_unref(initial[i]);
    }
    free(initial);
    stream_hub_set_sink(s->hub, &s->sub, stream);
    api_stream_ready(stream);
}

static bool readable(const token *tok, const account *acc) {
    access_level level = refdata_access(tok, acc);
    return (level == ACCESS_FULL || level == ACCESS_READ_ONLY) &&
           refdata_account_status(acc) != ACCOUNT_STATUS_CLOSED;
}

/* Every named account gets a status of its own: found (and readable by the token), or not
 * found; without names, every account the token can read. */
static void subscribe(api_call *call, stream_kind kind, char **accounts, size_t n,
                      const PB(PingDelaySettings) * ping_settings, bool with_initial) {
    char text[128];
    /* The contract's PingDelaySettings: 5000-180000 ms, default 120000 (common.proto). */
    api_stream_ping ping = api_request_market_data_ping(ping_settings);
    int code = api_request_stream_ping(&ping, text, sizeof text);
    if (code != 0) {
        api_reply_error_message(call, code, text);
        return;
    }
    const refdata *rd = api_call_refdata(call);
    subscribe_job *job = api_core_job_new(call, sizeof *job);
    job->kind = kind;
    job->with_initial = with_initial;
    job->ping_ns = (int64_t)(ping.has_ping ? ping.ping_ms : DEFAULT_PING_MS) * 1000000;
    job->selected = api_call_alloc(call, REFDATA_MAX_ACCOUNTS * sizeof *job->selected);
    size_t room = n ? n : REFDATA_MAX_ACCOUNTS;
    job->ids = api_call_alloc(call, room * sizeof *job->ids);
    job->found = api_call_alloc(call, room * sizeof *job->found);
    if (n == 0) {
        const account **listed = api_call_alloc(call, room * sizeof *listed);
        size_t listed_count = 0;
        api_request_stream_accounts(rd, call->token, NULL, 0, job->selected, listed, &listed_count);
        for (size_t i = 0; i < listed_count; i++) {
            job->ids[job->requested] = listed[i]->id;
            job->found[job->requested++] = true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const account *acc = refdata_find_account(rd, accounts[i]);
        bool found = acc != NULL && readable(call->token, acc);
        if (found)
            job->selected[acc->index] = true;
        job->ids[job->requested] = accounts[i];
        job->found[job->requested++] = found;
    }
    api_core_job_submit(&job->job, run_subscribe, finish_subscribe);
}

static void portfolio_stream(api_call *call, const ProtobufCMessage *request) {
    const PB(PortfolioStreamRequest) *in = (const PB(PortfolioStreamRequest) *)request;
    subscribe(call, STREAM_KIND_PORTFOLIO, in->accounts, in->n_accounts, in->ping_settings, false);
}

static void positions_stream(api_call *call, const ProtobufCMessage *request) {
    const PB(PositionsStreamRequest) *in = (const PB(PositionsStreamRequest) *)request;
    subscribe(call, STREAM_KIND_POSITIONS, in->accounts, in->n_accounts, in->ping_settings,
              in->with_initial_positions);
}

/* ---- After each batch: copy on the core thread, fan out once durable ------------------------ */

/* One changed account's holdings as the batch left them. */
typedef struct account_change {
    api_account_view view;
    uint32_t cash_mask;        /* the cash slots that changed (bit i: view.cash[i]) */
    uint8_t *position_changed; /* per instrument */
} account_change;

/* What one batch changed for the accounts someone follows; batches held by a failed commit are
 * chained, oldest first. */
typedef struct account_batch {
    struct account_batch *next;
    int64_t time_ns;
    uint32_t count;
    core_market *markets; /* per instrument, shared by the batch's portfolios */
    account_change changes[];
} account_batch;

static void *collect(void *ctx, void *pending) {
    portfolio_streams *ps = ctx;
    const core *c = engine_core(ps->engine);
    uint32_t changed_count = 0;
    const uint32_t *changed = core_changed_accounts(c, &changed_count);
    uint32_t followed = 0;
    for (uint32_t i = 0; i < changed_count; i++)
        followed += stream_hub_has_listeners(ps->hub, changed[i]);
    if (followed == 0)
        return pending;
    uint32_t n = c->refdata->instrument_count;
    size_t per_account = (size_t)n * (sizeof(ledger_position) + 1);
    size_t size = sizeof(account_batch) + followed * (sizeof(account_change) + per_account) +
                  (size_t)n * sizeof(core_market) + 16;
    account_batch *batch = calloc(1, size);
    if (batch == NULL)
        abort(); /* a change that cannot be kept would be a silent gap in the streams */
    batch->time_ns = engine_now_ns(ps->engine);
    batch->markets = (core_market *)&batch->changes[followed];
    for (uint32_t i = 0; i < n; i++)
        core_market_view(c, i, &batch->markets[i]);
    ledger_position *positions = (ledger_position *)&batch->markets[n];
    uint8_t *flags = (uint8_t *)&positions[(size_t)followed * n];
    for (uint32_t i = 0; i < changed_count; i++) {
        uint32_t a = changed[i];
        /* The order streams subscribe on the transport threads: a count may have grown. */
        if (!stream_hub_has_listeners(ps->hub, a) || batch->count == followed)
            continue;
        account_change *ch = &batch->changes[batch->count];
        ch->view.positions = &positions[(size_t)batch->count * n];
        ch->view.markets = NULL;
        ch->view.var_margin = NULL;
        ch->position_changed = &flags[(size_t)batch->count * n];
        batch->count++;
        api_account_view_read(c, &c->refdata->accounts[a], &ch->view);
        ch->view.markets = batch->markets;
        ch->cash_mask = core_changed_cash(c, a);
        for (uint32_t k = 0; k < n; k++)
            ch->position_changed[k] = core_changed_position(c, a, k);
    }
    if (pending == NULL)
        return batch;
    account_batch *last = pending;
    while (last->next != NULL)
        last = last->next;
    last->next = batch;
    return pending;
}

typedef struct fanout {
    grpc_slice message;
    uint32_t account;
    uint32_t subscribers;
} fanout;

static void count_subscriber(stream_subscriber *sub, void *ctx) {
    ((fanout *)ctx)->subscribers++;
}

static void send_portfolio(stream_subscriber *sub, void *ctx) {
    fanout *f = ctx;
    subscription *s = (subscription *)sub;
    api_stream_write_conflated(sub->sink, f->message, (uint64_t)f->account + 1,
                               &s->queued_at[f->account]);
}

static void send_position(stream_subscriber *sub, void *ctx) {
    api_stream_write(sub->sink, ((fanout *)ctx)->message);
}

static uint32_t subscribers(stream_hub *hub, stream_kind kind, uint32_t account_index) {
    fanout f = {.account = account_index};
    stream_hub_each(hub, kind, account_index, count_subscriber, &f);
    return f.subscribers;
}

/* The changed entries: each cash slot and position the batch moved, with its values after it. A
 * position sold out is listed with balance 0. */
static PB(PositionData) *
    position_data(api_call *scratch, const refdata *rd, const account_change *ch, int64_t time_ns) {
    PB(PositionData) *d = PB_NEW(scratch, PB(PositionData), PB_INIT(POSITION_DATA));
    d->account_id = (char *)ch->view.account->id;
    d->money = (PB(PositionsMoney) **)pb_array(scratch, ch->view.cash_count);
    for (uint32_t i = 0; i < ch->view.cash_count; i++) {
        if ((ch->cash_mask & (1u << i)) == 0)
            continue;
        const ledger_cash *cash = &ch->view.cash[i];
        PB(PositionsMoney) *m = PB_NEW(scratch, PB(PositionsMoney), PB_INIT(POSITIONS_MONEY));
        m->available_value =
            pb_money(scratch, cash->currency, cash->balance_nano - cash->blocked_nano);
        m->blocked_value = pb_money(scratch, cash->currency, cash->blocked_nano);
        d->money[d->n_money++] = m;
    }
    d->securities = (PB(PositionsSecurities) **)pb_array(scratch, rd->instrument_count);
    d->futures = (PB(PositionsFutures) **)pb_array(scratch, rd->instrument_count);
    for (uint32_t k = 0; k < rd->instrument_count; k++) {
        if (!ch->position_changed[k])
            continue;
        const instrument *ins = &rd->instruments[k];
        if (ins->kind == INSTRUMENT_KIND_FUTURE)
            d->futures[d->n_futures++] = api_position_future(scratch, ins, &ch->view.positions[k]);
        else
            d->securities[d->n_securities++] =
                api_position_security(scratch, ins, &ch->view.positions[k]);
    }
    d->date = pb_timestamp(scratch, time_ns);
    return d;
}

static void release_change(portfolio_streams *ps, const account_change *ch, int64_t time_ns) {
    const refdata *rd = engine_core(ps->engine)->refdata;
    uint32_t a = ch->view.account->index;
    api_call scratch;
    memset(&scratch, 0, sizeof scratch);
    if (subscribers(ps->hub, STREAM_KIND_PORTFOLIO, a) > 0) {
        fanout f = {.message = portfolio_message(&scratch, rd, &ch->view), .account = a};
        stream_hub_each(ps->hub, STREAM_KIND_PORTFOLIO, a, send_portfolio, &f);
        grpc_slice_unref(f.message);
    }
    if (subscribers(ps->hub, STREAM_KIND_POSITIONS, a) > 0) {
        PB(PositionData) *d = position_data(&scratch, rd, ch, time_ns);
        if (d->n_money + d->n_securities + d->n_futures > 0) {
            PB(PositionsStreamResponse) msg = PB_INIT(POSITIONS_STREAM_RESPONSE);
            msg.payload_case = PB_ENUM(POSITIONS_STREAM_RESPONSE__PAYLOAD_POSITION);
            msg.position = d;
            fanout f = {.message = pack(&msg.base), .account = a};
            stream_hub_each(ps->hub, STREAM_KIND_POSITIONS, a, send_position, &f);
            grpc_slice_unref(f.message);
        }
    }
    api_call_free_scratch(&scratch);
}

static void release(void *ctx, void *records) {
    portfolio_streams *ps = ctx;
    for (account_batch *batch = records, *next; batch != NULL; batch = next) {
        next = batch->next;
        for (uint32_t i = 0; i < batch->count; i++)
            release_change(ps, &batch->changes[i], batch->time_ns);
        free(batch);
    }
}

void portfolio_streams_attach(portfolio_streams *ps, engine *e, stream_hub *hub) {
    ps->hub = hub;
    ps->engine = e;
    e->accounts_collect = collect;
    e->accounts_release = release;
    e->accounts_ctx = ps;
}

#define STREAMS(method, type, fn)                                                                  \
    {                                                                                              \
        .service = "OperationsStreamService", .name = method, .request_type = &PB_DESC(type),      \
        .handle = fn, .server_streaming = true                                                     \
    }
static api_method stream_methods[] = {
    STREAMS("PortfolioStream", portfolio_stream_request, portfolio_stream),
    STREAMS("PositionsStream", positions_stream_request, positions_stream),
};

const api_method *api_operations_stream_methods(size_t *count) {
    *count = sizeof stream_methods / sizeof stream_methods[0];
    return stream_methods;
}
