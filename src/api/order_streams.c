/* OrdersStreamService: OrderStateStream and TradesStream.
 *
 * Subscribing happens on the transport thread; messages are produced on the core thread from
 * committed order changes (engine observer), encoded once and queued to every subscriber of the
 * order's account. Pings come from the pinger thread on each stream's own period. */
#include "api/order_streams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/order_view.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"
#include "api/services.h"
#include "api/stream_call.h"
#include "core/valuation.h"
#include "stream/hub.h"

#define DEFAULT_PING_MS 120000

typedef struct subscription {
    stream_subscriber sub;
    stream_hub *hub;
    api_stream *stream;
} subscription;

static grpc_slice pack(const ProtobufCMessage *msg) {
    size_t size = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(size);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    return slice;
}

static void on_stream_closed(api_stream *stream) {
    subscription *s = stream->owner;
    stream_hub_remove(s->hub, &s->sub);
    free(s);
    api_stream_release(stream);
}

static grpc_slice order_state_ping(api_stream *stream, int64_t now_ns) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    time.seconds = now_ns / 1000000000;
    time.nanos = (int32_t)(now_ns % 1000000000);
    PB(Ping) ping = PB_INIT(PING);
    ping.time = &time;
    ping.stream_id = stream->stream_id;
    PB(OrderStateStreamResponse) msg = PB_INIT(ORDER_STATE_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(ORDER_STATE_STREAM_RESPONSE__PAYLOAD_PING);
    msg.ping = &ping;
    return pack(&msg.base);
}

static grpc_slice trades_ping(api_stream *stream, int64_t now_ns) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    time.seconds = now_ns / 1000000000;
    time.nanos = (int32_t)(now_ns % 1000000000);
    PB(Ping) ping = PB_INIT(PING);
    ping.time = &time;
    ping.stream_id = stream->stream_id;
    PB(TradesStreamResponse) msg = PB_INIT(TRADES_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(TRADES_STREAM_RESPONSE__PAYLOAD_PING);
    msg.ping = &ping;
    return pack(&msg.base);
}

/* Resolves the requested accounts into the subscriber's account set and the reply's list;
 * returns 0 or the T-Invest code of the first account refused (api/request.h). */
static int select_accounts(api_call *call, char **ids, size_t n, stream_subscriber *sub,
                           PB(SubscriptionResponse) * reply) {
    /* Without named accounts every account can be listed: room for all the slots there can be,
     * since sandbox accounts may be published meanwhile. */
    size_t room = n ? n : REFDATA_MAX_ACCOUNTS;
    const account **listed = api_call_alloc(call, room * sizeof *listed);
    size_t listed_count = 0;
    int code = api_request_stream_accounts(api_call_refdata(call), call->token, ids, n,
                                           sub->accounts, listed, &listed_count);
    reply->accounts = (char **)pb_array(call, room);
    for (size_t i = 0; i < listed_count; i++)
        reply->accounts[reply->n_accounts++] = (char *)listed[i]->id;
    return code;
}

typedef grpc_slice (*wrap_subscription_fn)(PB(SubscriptionResponse) * sub_reply);

static grpc_slice wrap_order_state_subscription(PB(SubscriptionResponse) * sub_reply) {
    PB(OrderStateStreamResponse) msg = PB_INIT(ORDER_STATE_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(ORDER_STATE_STREAM_RESPONSE__PAYLOAD_SUBSCRIPTION);
    msg.subscription = sub_reply;
    return pack(&msg.base);
}

static grpc_slice wrap_trades_subscription(PB(SubscriptionResponse) * sub_reply) {
    PB(TradesStreamResponse) msg = PB_INIT(TRADES_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(TRADES_STREAM_RESPONSE__PAYLOAD_SUBSCRIPTION);
    msg.subscription = sub_reply;
    return pack(&msg.base);
}

typedef struct stream_request {
    stream_kind kind;
    char **accounts;
    size_t account_count;
    api_stream_ping ping;
    wrap_subscription_fn wrap;
    api_stream_ping_fn make_ping;
} stream_request;

static void subscribe(api_call *call, const stream_request *req) {
    char text[128];
    int ping_code = api_request_stream_ping(&req->ping, text, sizeof text);
    if (ping_code != 0) {
        api_reply_error_message(call, ping_code, text);
        return;
    }
    subscription *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->hub = call->server->app->hub;
    s->sub.kind = req->kind;
    s->sub.token_index = call->token_index;
    PB(SubscriptionResponse) *reply =
        PB_NEW(call, PB(SubscriptionResponse), PB_INIT(SUBSCRIPTION_RESPONSE));
    int code = select_accounts(call, req->accounts, req->account_count, &s->sub, reply);
    if (code == 0 && !stream_hub_add(s->hub, &s->sub)) {
        free(s);
        api_reply_error(call, 80001);
        return;
    }
    char *stream_id = api_call_alloc(call, UUID_TEXT_SIZE);
    uuid_generate_v4(stream_id);
    reply->tracking_id = call->tracking_id;
    reply->stream_id = stream_id;
    reply->status = code == 0
                        ? PB_ENUM(RESULT_SUBSCRIPTION_STATUS__RESULT_SUBSCRIPTION_STATUS_OK)
                        : PB_ENUM(RESULT_SUBSCRIPTION_STATUS__RESULT_SUBSCRIPTION_STATUS_ERROR);
    if (code != 0) {
        /* The subscription itself reports the refusal, then the stream ends with the error. */
        PB(ErrorDetail) *error = PB_NEW(call, PB(ErrorDetail), PB_INIT(ERROR_DETAIL));
        error->code = "40002";
        error->message = "Insufficient privileges";
        reply->error = error;
        reply->n_accounts = 0;
    }
    grpc_slice first = req->wrap(reply);
    int64_t ping_ns = (int64_t)(req->ping.has_ping ? req->ping.ping_ms : DEFAULT_PING_MS) * 1000000;
    api_stream *stream = api_stream_open(
        call, (uint32_t)call->server->config->stream_backlog_messages, first, ping_ns,
        code == 0 ? req->make_ping : NULL, code == 0 ? on_stream_closed : NULL, s);
    grpc_slice_unref(first);
    memcpy(stream->stream_id, stream_id, UUID_TEXT_SIZE);
    if (code != 0) {
        free(s);
        api_stream_finish(stream, GRPC_STATUS_PERMISSION_DENIED, code, "Insufficient privileges",
                          false);
        api_stream_ready(stream);
        api_stream_release(stream);
        return;
    }
    s->stream = stream;
    stream_hub_set_sink(s->hub, &s->sub, stream);
    api_stream_ready(stream);
}

static void order_state_stream(api_call *call, const ProtobufCMessage *request) {
    const PB(OrderStateStreamRequest) *in = (const PB(OrderStateStreamRequest) *)request;
    stream_request req = {.kind = STREAM_KIND_ORDER_STATE,
                          .accounts = in->accounts,
                          .account_count = in->n_accounts,
                          .ping = api_request_order_state_stream_ping(in),
                          .wrap = wrap_order_state_subscription,
                          .make_ping = order_state_ping};
    subscribe(call, &req);
}

static void trades_stream(api_call *call, const ProtobufCMessage *request) {
    const PB(TradesStreamRequest) *in = (const PB(TradesStreamRequest) *)request;
    stream_request req = {.kind = STREAM_KIND_TRADES,
                          .accounts = in->accounts,
                          .account_count = in->n_accounts,
                          .ping = api_request_trades_stream_ping(in),
                          .wrap = wrap_trades_subscription,
                          .make_ping = trades_ping};
    subscribe(call, &req);
}

/* ---- Fan-out of committed order changes (core thread) --------------------------------------- */

static void write_to(stream_subscriber *sub, void *ctx) {
    api_stream_write(sub->sink, *(grpc_slice *)ctx);
}

static void set_money(PB(MoneyValue) * m, const char *currency, int64_t value_nano) {
    m->currency = (char *)currency;
    m->units = value_nano / 1000000000;
    m->nano = (int32_t)(value_nano % 1000000000);
}

static void set_time(Google__Protobuf__Timestamp *t, int64_t time_ns) {
    t->seconds = time_ns / 1000000000;
    t->nanos = (int32_t)(time_ns % 1000000000);
}

static int status_info_of(const core_order *o, const core_event *ev) {
    if (ev->type == CORE_EVENT_ORDER_CANCELLED || ev->type == CORE_EVENT_ORDER_REJECTED)
        return (int)o->cause;
    return 0;
}

static grpc_slice encode_order_state(const order_streams *os, const core_order *o,
                                     const core_event *ev) {
    const instrument *ins = &os->refdata->instruments[o->instrument];
    const char *cur = ins->currency;
    PB(OrderStateStreamResponse__OrderState) st = PB_INIT(ORDER_STATE_STREAM_RESPONSE__ORDER_STATE);
    Google__Protobuf__Timestamp created = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Timestamp completed = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Timestamp trade_time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    PB(MoneyValue) initial = PB_INIT(MONEY_VALUE), order_price = PB_INIT(MONEY_VALUE);
    PB(MoneyValue) amount = PB_INIT(MONEY_VALUE), executed = PB_INIT(MONEY_VALUE);
    PB(OrderTrade) trade = PB_INIT(ORDER_TRADE);
    PB(OrderTrade) * trades[1] = {&trade};
    PB(Quotation) trade_price = PB_INIT(QUOTATION);
    char trade_id[24];

    st.order_id = (char *)(o->exchange_order_id ? o->exchange_id_text : o->intent_id);
    st._order_request_id_case =
        PB_ENUM(ORDER_STATE_STREAM_RESPONSE__ORDER_STATE___ORDER_REQUEST_ID_ORDER_REQUEST_ID);
    st.order_request_id = (char *)o->request_id;
    st.client_code = (char *)os->refdata->accounts[o->account].id;
    set_time(&created, o->created_ns);
    st.created_at = &created;
    st.execution_report_status = (int)o->status;
    int info = status_info_of(o, ev);
    if (info != 0) {
        st._status_info_case =
            PB_ENUM(ORDER_STATE_STREAM_RESPONSE__ORDER_STATE___STATUS_INFO_STATUS_INFO);
        st.status_info = info;
    }
    st.ticker = (char *)ins->ticker;
    st.class_code = (char *)ins->class_code;
    st.lot_size = ins->lot;
    st.direction = (int)o->direction;
    st.time_in_force = (int)o->tif;
    st.order_type = (int)o->type;
    st.account_id = (char *)os->refdata->accounts[o->account].id;
    int64_t price = o->price_nano > 0 ? o->price_nano : o->reserve_price_nano;
    int64_t initial_value = order_view_value_nano(ins, o, price);
    set_money(&initial, cur, initial_value);
    st.initial_order_price = &initial;
    set_money(&order_price, cur, price);
    st.order_price = &order_price;
    set_money(&amount, cur, initial_value); /* "the precomputed value of the whole order" */
    st.amount = &amount;
    /* From the copy of the order taken right after the event: the average of the fills so far,
     * not of fills that came later in the same batch. */
    int64_t average = core_order_average_price_nano(o);
    set_money(&executed, cur, average);
    st.executed_order_price = &executed;
    st.currency = (char *)cur;
    st.lots_requested = o->lots_requested;
    st.lots_executed = o->lots_executed;
    st.lots_left = o->lots_requested - o->lots_executed - o->lots_cancelled;
    st.lots_cancelled = o->lots_cancelled;
    if (ev->type == CORE_EVENT_ORDER_TRADE) {
        set_time(&trade_time, ev->time_ns);
        trade.date_time = &trade_time;
        trade_price.units = ev->u.trade.price_nano / 1000000000;
        trade_price.nano = (int32_t)(ev->u.trade.price_nano % 1000000000);
        trade.price = &trade_price;
        trade.quantity = ev->u.trade.lots;
        snprintf(trade_id, sizeof trade_id, "%llu", (unsigned long long)ev->u.trade.trade_id);
        trade.trade_id = trade_id;
        st.trades = trades;
        st.n_trades = 1;
    }
    if (o->completion_ns != 0) {
        set_time(&completed, o->completion_ns);
        st.completion_time = &completed;
    }
    st.exchange = (char *)ins->exchange;
    st.instrument_uid = (char *)ins->uid;
    PB(OrderStateStreamResponse) msg = PB_INIT(ORDER_STATE_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(ORDER_STATE_STREAM_RESPONSE__PAYLOAD_ORDER_STATE);
    msg.order_state = &st;
    return pack(&msg.base);
}

static grpc_slice encode_trades(const order_streams *os, const core_order *o,
                                const core_event *ev) {
    const instrument *ins = &os->refdata->instruments[o->instrument];
    Google__Protobuf__Timestamp created = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Timestamp trade_time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    PB(Quotation) price = PB_INIT(QUOTATION);
    PB(OrderTrade) trade = PB_INIT(ORDER_TRADE);
    PB(OrderTrade) * trades[1] = {&trade};
    char trade_id[24];
    PB(OrderTrades) ot = PB_INIT(ORDER_TRADES);
    ot.order_id = (char *)(o->exchange_order_id ? o->exchange_id_text : o->intent_id);
    set_time(&created, ev->time_ns);
    ot.created_at = &created;
    ot.direction = (int)o->direction;
    ot.figi = (char *)ins->figi;
    set_time(&trade_time, ev->time_ns);
    trade.date_time = &trade_time;
    price.units = ev->u.trade.price_nano / 1000000000;
    price.nano = (int32_t)(ev->u.trade.price_nano % 1000000000);
    trade.price = &price;
    trade.quantity = ev->u.trade.lots;
    snprintf(trade_id, sizeof trade_id, "%llu", (unsigned long long)ev->u.trade.trade_id);
    trade.trade_id = trade_id;
    ot.trades = trades;
    ot.n_trades = 1;
    ot.account_id = (char *)os->refdata->accounts[o->account].id;
    ot.instrument_uid = (char *)ins->uid;
    PB(TradesStreamResponse) msg = PB_INIT(TRADES_STREAM_RESPONSE);
    msg.payload_case = PB_ENUM(TRADES_STREAM_RESPONSE__PAYLOAD_ORDER_TRADES);
    msg.order_trades = &ot;
    return pack(&msg.base);
}

static void observe(void *ctx, const core_order *order, const core_event *event) {
    order_streams *os = ctx;
    grpc_slice state = encode_order_state(os, order, event);
    stream_hub_each(os->hub, STREAM_KIND_ORDER_STATE, order->account, write_to, &state);
    grpc_slice_unref(state);
    if (event->type == CORE_EVENT_ORDER_TRADE) {
        grpc_slice trades = encode_trades(os, order, event);
        stream_hub_each(os->hub, STREAM_KIND_TRADES, order->account, write_to, &trades);
        grpc_slice_unref(trades);
    }
}

static bool wants(void *ctx, const core_order *order) {
    order_streams *os = ctx;
    return stream_hub_has_listeners(os->hub, order->account);
}

static void forget(void *ctx, uint32_t account_index) {
    order_streams *os = ctx;
    stream_hub_forget_account(os->hub, account_index);
}

void order_streams_attach(order_streams *os, engine *e, stream_hub *hub) {
    os->hub = hub;
    os->refdata = engine_core(e)->refdata;
    e->order_observer = observe;
    e->observer_wants = wants;
    e->account_forgotten = forget;
    e->order_observer_ctx = os;
}

static void end_for_shutdown(stream_subscriber *sub, void *ctx) {
    api_stream_finish(sub->sink, GRPC_STATUS_UNAVAILABLE, 70003, "The server is shutting down",
                      true);
}

void order_streams_shutdown(stream_hub *hub) {
    stream_hub_each_all(hub, end_for_shutdown, NULL);
}

#define STREAMS(method, type, fn)                                                                  \
    {                                                                                              \
        .service = "OrdersStreamService", .name = method, .request_type = &PB_DESC(type),          \
        .handle = fn, .server_streaming = true                                                     \
    }
static api_method stream_methods[] = {
    STREAMS("OrderStateStream", order_state_stream_request, order_state_stream),
    STREAMS("TradesStream", trades_stream_request, trades_stream),
};

const api_method *api_order_stream_methods(size_t *count) {
    *count = sizeof stream_methods / sizeof stream_methods[0];
    return stream_methods;
}
