/* OrdersService (and the sandbox methods that share its messages): decode on the transport
 * thread, run on the core thread, reply after the batch is durable. */
#include "api/services.h"

#include <string.h>

#include "api/order_view.h"
#include "api/pb.h"
#include "api/server.h"
#include "api/core_job.h"

typedef struct order_job order_job;
typedef void (*order_job_fn)(order_job *job, engine *e);

struct order_job {
    api_core_job job; /* must stay first */
    core_result result;
    order_status status_at_accept;
    /* For jobs that compute something rather than find an order. */
    int code;
    union {
        core_max_lots max_lots;
        core_order_price price;
    } out;
};

static void run_place(engine *e, engine_job *base);
static void run_cancel(engine *e, engine_job *base);
static void run_replace(engine *e, engine_job *base);

static void submit(api_call *call, void (*run)(engine *, engine_job *),
                   void (*finish)(engine *, engine_job *)) {
    api_core_job *job = api_core_job_new(call, sizeof(order_job));
    /* Placing, cancelling and replacing change state; everything else here only reads. */
    job->base.mutates = run == run_place || run == run_cancel || run == run_replace;
    api_core_job_submit(job, run, finish);
}

static bool reply_if_failed(order_job *job) {
    if (api_reply_if_refused(&job->job))
        return true;
    if (job->result.code == 0)
        return false;
    api_reply_error_message(job->job.call, job->result.code, job->result.message);
    return true;
}

/* ---- PostOrder / PostOrderAsync ------------------------------------------------------------- */

static int price_from(const PB(Quotation) * price, bool *has_price, int64_t *price_nano) {
    *has_price = price != NULL;
    *price_nano = 0;
    if (price != NULL && !pb_quotation_to_nano(price, price_nano))
        return 30018;
    return 0;
}

static void run_place(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    core_order_request *req = job->job.call->user;
    req->now_ns = engine_now_ns(e);
    job->result = core_place_order(&e->core, req);
    /* A new order is reported as the broker accepted it (NEW), even when a zero-latency
     * exchange has already answered by the time this function returns. */
    if (job->result.code == 0)
        job->status_at_accept =
            job->result.duplicate ? job->result.order->status : ORDER_STATUS_NEW;
    if (job->result.code == 0 && req->source == ORDER_SOURCE_SYNC)
        engine_wait_for_order(e, base, job->result.order->index, ENGINE_WAIT_EXCHANGE_ANSWER);
    else
        engine_finish_after_commit(e, base);
}

/* PostOrder's answer: the order once the exchange has answered, or the exchange's reject. */
static void finish_post_order(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (reply_if_failed(job))
        return;
    const core_order *order = job->result.order;
    if (order->status == ORDER_STATUS_REJECTED && order->reject_code != 0) {
        api_reply_error(job->job.call, order->reject_code);
        return;
    }
    api_reply_message(job->job.call,
                      &order_view_post_response(job->job.call, &e->core, order)->base);
}

static void finish_post_order_async(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (reply_if_failed(job))
        return;
    const core_order *order = job->result.order;
    api_call *call = job->job.call;
    PB(PostOrderAsyncResponse) *r =
        PB_NEW(call, PB(PostOrderAsyncResponse), PB_INIT(POST_ORDER_ASYNC_RESPONSE));
    r->order_request_id = (char *)order->key;
    /* A new order is NEW when accepted; a repeated key reports the stored order as it is now. */
    r->execution_report_status = (int)job->status_at_accept;
    r->_trade_intent_id_case = PB_ENUM(POST_ORDER_ASYNC_RESPONSE___TRADE_INTENT_ID_TRADE_INTENT_ID);
    r->trade_intent_id = (char *)order->intent_id;
    api_reply_message(call, &r->base);
}

static void post_order(api_call *call, const ProtobufCMessage *request) {
    const PB(PostOrderRequest) *in = (const PB(PostOrderRequest) *)request;
    core_order_request *req = api_call_alloc(call, sizeof *req);
    call->user = req;
    int code = price_from(in->price, &req->has_price, &req->price_nano);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    /* Older bots still send the deprecated `figi` instead of `instrument_id`. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    bool legacy_figi =
        in->instrument_id[0] == '\0' && in->_figi_case == PB_ENUM(POST_ORDER_REQUEST___FIGI_FIGI);
    const char *instrument_id = legacy_figi ? in->figi : in->instrument_id;
#pragma GCC diagnostic pop
    *req = (core_order_request){.token = call->token,
                                .account_id = in->account_id,
                                .instrument_id = instrument_id,
                                .key = in->order_id,
                                .quantity = in->quantity,
                                .has_price = req->has_price,
                                .price_nano = req->price_nano,
                                .direction = in->direction,
                                .type = in->order_type,
                                .tif = in->time_in_force,
                                .price_type = in->price_type,
                                .source = ORDER_SOURCE_SYNC};
    submit(call, run_place, finish_post_order);
}

static void post_order_async(api_call *call, const ProtobufCMessage *request) {
    const PB(PostOrderAsyncRequest) *in = (const PB(PostOrderAsyncRequest) *)request;
    core_order_request *req = api_call_alloc(call, sizeof *req);
    call->user = req;
    int code = price_from(in->price, &req->has_price, &req->price_nano);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    bool has_tif =
        in->_time_in_force_case == PB_ENUM(POST_ORDER_ASYNC_REQUEST___TIME_IN_FORCE_TIME_IN_FORCE);
    bool has_price_type =
        in->_price_type_case == PB_ENUM(POST_ORDER_ASYNC_REQUEST___PRICE_TYPE_PRICE_TYPE);
    *req = (core_order_request){.token = call->token,
                                .account_id = in->account_id,
                                .instrument_id = in->instrument_id,
                                .key = in->order_id,
                                .quantity = in->quantity,
                                .has_price = req->has_price,
                                .price_nano = req->price_nano,
                                .direction = in->direction,
                                .type = in->order_type,
                                .tif = has_tif ? in->time_in_force : 0,
                                .price_type = has_price_type ? in->price_type : 0,
                                .source = ORDER_SOURCE_ASYNC,
                                .require_uuid_key = true};
    submit(call, run_place, finish_post_order_async);
}

/* ---- GetOrderState / CancelOrder ------------------------------------------------------------ */

typedef struct order_ref {
    const char *account_id, *order_id;
    bool by_request_id;
} order_ref;

static int order_ref_from(api_call *call, const char *account_id, const char *order_id,
                          bool has_type, int type) {
    order_ref *ref = api_call_alloc(call, sizeof *ref);
    call->user = ref;
    ref->account_id = account_id;
    ref->order_id = order_id;
    if (has_type && type != PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_UNSPECIFIED) &&
        type != PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_EXCHANGE) &&
        type != PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_REQUEST))
        return 30023;
    ref->by_request_id = has_type && type == PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_REQUEST);
    return 0;
}

static void run_get_state(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const order_ref *ref = job->job.call->user;
    job->result = core_find_order(&e->core, job->job.call->token, ref->account_id, ref->order_id,
                                  ref->by_request_id, engine_now_ns(e));
    engine_finish_after_commit(e, base);
}

static void finish_get_state(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (reply_if_failed(job))
        return;
    api_reply_message(job->job.call,
                      &order_view_state(job->job.call, &e->core, job->result.order)->base);
}

static void get_order_state(api_call *call, const ProtobufCMessage *request) {
    const PB(GetOrderStateRequest) *in = (const PB(GetOrderStateRequest) *)request;
    bool has_type =
        in->_order_id_type_case == PB_ENUM(GET_ORDER_STATE_REQUEST___ORDER_ID_TYPE_ORDER_ID_TYPE);
    int code = order_ref_from(call, in->account_id, in->order_id, has_type, in->order_id_type);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    submit(call, run_get_state, finish_get_state);
}

static void run_cancel(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const order_ref *ref = job->job.call->user;
    job->result = core_cancel_order(&e->core, job->job.call->token, ref->account_id, ref->order_id,
                                    ref->by_request_id, engine_now_ns(e));
    if (job->result.code == 0)
        engine_wait_for_order(e, base, job->result.order->index, ENGINE_WAIT_FINAL);
    else
        engine_finish_after_commit(e, base);
}

static void finish_cancel(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (reply_if_failed(job))
        return;
    const core_order *order = job->result.order;
    if (order->status != ORDER_STATUS_CANCELLED) {
        api_reply_error_message(job->job.call, 30059,
                                order->status == ORDER_STATUS_FILL
                                    ? "Cancel order error: the order is filled"
                                    : "Cancel order error: the order is not active");
        return;
    }
    api_call *call = job->job.call;
    PB(CancelOrderResponse) *r =
        PB_NEW(call, PB(CancelOrderResponse), PB_INIT(CANCEL_ORDER_RESPONSE));
    r->time = pb_timestamp(call, order->completion_ns);
    PB(ResponseMetadata) *meta = PB_NEW(call, PB(ResponseMetadata), PB_INIT(RESPONSE_METADATA));
    meta->tracking_id = call->tracking_id;
    meta->server_time = pb_timestamp(call, call->received_ns);
    r->response_metadata = meta;
    api_reply_message(call, &r->base);
}

static void cancel_order(api_call *call, const ProtobufCMessage *request) {
    const PB(CancelOrderRequest) *in = (const PB(CancelOrderRequest) *)request;
    bool has_type =
        in->_order_id_type_case == PB_ENUM(CANCEL_ORDER_REQUEST___ORDER_ID_TYPE_ORDER_ID_TYPE);
    int code = order_ref_from(call, in->account_id, in->order_id, has_type, in->order_id_type);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    submit(call, run_cancel, finish_cancel);
}

/* ---- GetOrders ------------------------------------------------------------------------------ */

static bool order_listed(const core_order *o,
                         const PB(GetOrdersRequest__GetOrdersRequestFilters) * f) {
    if (f == NULL)
        return !order_status_is_final(o->status);
    if (f->from != NULL && o->created_ns < f->from->seconds * 1000000000 + f->from->nanos)
        return false;
    if (f->to != NULL && o->created_ns > f->to->seconds * 1000000000 + f->to->nanos)
        return false;
    if (f->n_execution_status == 0)
        return !order_status_is_final(o->status);
    for (size_t i = 0; i < f->n_execution_status; i++)
        if ((int)f->execution_status[i] == (int)o->status)
            return true;
    return false;
}

static void run_get_orders(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const PB(GetOrdersRequest) *in = (const PB(GetOrdersRequest) *)job->job.call->request;
    const account *acc;
    job->result.code =
        core_account_for(&e->core, job->job.call->token, in->account_id, false, &acc);
    engine_finish_after_commit(e, base);
}

static void finish_get_orders(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (reply_if_failed(job))
        return;
    api_call *call = job->job.call;
    const PB(GetOrdersRequest) *in = (const PB(GetOrdersRequest) *)call->request;
    const account *acc = refdata_find_account(e->core.refdata, in->account_id);
    const core *c = &e->core;
    size_t count = 0;
    for (uint32_t i = 0; i < c->order_count; i++)
        count +=
            c->orders[i].account == acc->index && order_listed(&c->orders[i], in->advanced_filters);
    PB(GetOrdersResponse) *r = PB_NEW(call, PB(GetOrdersResponse), PB_INIT(GET_ORDERS_RESPONSE));
    r->orders = (PB(OrderState) **)pb_array(call, count);
    for (uint32_t i = 0; i < c->order_count; i++)
        if (c->orders[i].account == acc->index && order_listed(&c->orders[i], in->advanced_filters))
            r->orders[r->n_orders++] = order_view_state(call, c, &c->orders[i]);
    api_reply_message(call, &r->base);
}

static void get_orders(api_call *call, const ProtobufCMessage *request) {
    submit(call, run_get_orders, finish_get_orders);
}

/* ---- ReplaceOrder --------------------------------------------------------------------------- */

static void run_replace(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const PB(ReplaceOrderRequest) *in = (const PB(ReplaceOrderRequest) *)job->job.call->request;
    bool has_price;
    int64_t price_nano;
    int code = price_from(in->price, &has_price, &price_nano);
    if (code != 0) {
        job->result.code = code;
        engine_finish_after_commit(e, base);
        return;
    }
    bool has_price_type =
        in->_price_type_case == PB_ENUM(REPLACE_ORDER_REQUEST___PRICE_TYPE_PRICE_TYPE);
    job->result = core_replace_order(&e->core, job->job.call->token, in->account_id, in->order_id,
                                     in->idempotency_key, in->quantity, has_price, price_nano,
                                     has_price_type ? in->price_type : 0, engine_now_ns(e));
    if (job->result.code == 0)
        engine_wait_for_order(e, base, job->result.order->index, ENGINE_WAIT_EXCHANGE_ANSWER);
    else
        engine_finish_after_commit(e, base);
}

static void replace_order(api_call *call, const ProtobufCMessage *request) {
    submit(call, run_replace, finish_post_order);
}

/* ---- GetMaxLots / GetOrderPrice ------------------------------------------------------------- */

static void run_max_lots(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const PB(GetMaxLotsRequest) *in = (const PB(GetMaxLotsRequest) *)job->job.call->request;
    bool has_price;
    int64_t price_nano;
    job->result.code = price_from(in->price, &has_price, &price_nano);
    if (job->result.code == 0)
        job->result.code =
            core_max_lots_for(&e->core, job->job.call->token, in->account_id, in->instrument_id,
                              has_price, price_nano, &job->out.max_lots);
    engine_finish_after_commit(e, base);
}

static void finish_max_lots(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (reply_if_failed(job))
        return;
    api_call *call = job->job.call;
    const core_max_lots *m = &job->out.max_lots;
    PB(GetMaxLotsResponse) *r =
        PB_NEW(call, PB(GetMaxLotsResponse), PB_INIT(GET_MAX_LOTS_RESPONSE));
    r->currency = (char *)m->currency;
    PB(GetMaxLotsResponse__BuyLimitsView) *buy =
        PB_NEW(call, PB(GetMaxLotsResponse__BuyLimitsView),
               PB_INIT(GET_MAX_LOTS_RESPONSE__BUY_LIMITS_VIEW));
    buy->buy_money_amount = pb_quotation(call, m->buy_money_nano);
    buy->buy_max_lots = m->buy_max_lots;
    buy->buy_max_market_lots = m->buy_max_market_lots;
    PB(GetMaxLotsResponse__SellLimitsView) *sell =
        PB_NEW(call, PB(GetMaxLotsResponse__SellLimitsView),
               PB_INIT(GET_MAX_LOTS_RESPONSE__SELL_LIMITS_VIEW));
    sell->sell_max_lots = m->sell_max_lots;
    /* A cash account has no margin: the margin views equal the plain ones. */
    r->buy_limits = buy;
    r->buy_margin_limits = buy;
    r->sell_limits = sell;
    r->sell_margin_limits = sell;
    api_reply_message(call, &r->base);
}

static void get_max_lots(api_call *call, const ProtobufCMessage *request) {
    submit(call, run_max_lots, finish_max_lots);
}

static void run_order_price(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const PB(GetOrderPriceRequest) *in = (const PB(GetOrderPriceRequest) *)job->job.call->request;
    bool has_price;
    int64_t price_nano;
    job->result.code = price_from(in->price, &has_price, &price_nano);
    if (job->result.code == 0)
        job->result.code = core_order_price_for(&e->core, job->job.call->token, in->account_id,
                                                in->instrument_id, in->direction, in->quantity,
                                                has_price, price_nano, &job->out.price);
    engine_finish_after_commit(e, base);
}

static void finish_order_price(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (reply_if_failed(job))
        return;
    api_call *call = job->job.call;
    const core_order_price *p = &job->out.price;
    const char *cur = p->instrument->currency;
    PB(GetOrderPriceResponse) *r =
        PB_NEW(call, PB(GetOrderPriceResponse), PB_INIT(GET_ORDER_PRICE_RESPONSE));
    r->total_order_amount = pb_money(call, cur, p->total_nano);
    r->initial_order_amount = pb_money(call, cur, p->initial_nano);
    r->lots_requested = p->lots;
    r->executed_commission = pb_money(call, cur, p->commission_nano);
    r->executed_commission_rub = pb_money(call, "rub", p->commission_nano);
    r->service_commission = pb_money(call, cur, 0);
    r->deal_commission = pb_money(call, cur, p->commission_nano);
    if (p->instrument->kind == INSTRUMENT_KIND_BOND) {
        PB(GetOrderPriceResponse__ExtraBond) *bond =
            PB_NEW(call, PB(GetOrderPriceResponse__ExtraBond),
                   PB_INIT(GET_ORDER_PRICE_RESPONSE__EXTRA_BOND));
        bond->aci_value = pb_money(call, cur, p->instrument->aci_value_nano);
        bond->nominal_conversion_rate = pb_quotation(call, 1000000000);
        r->instrument_extra_case = PB_ENUM(GET_ORDER_PRICE_RESPONSE__INSTRUMENT_EXTRA_EXTRA_BOND);
        r->extra_bond = bond;
    } else if (p->instrument->kind == INSTRUMENT_KIND_FUTURE) {
        PB(GetOrderPriceResponse__ExtraFuture) *future =
            PB_NEW(call, PB(GetOrderPriceResponse__ExtraFuture),
                   PB_INIT(GET_ORDER_PRICE_RESPONSE__EXTRA_FUTURE));
        future->initial_margin = pb_money(call, cur, p->instrument->initial_margin_nano * p->lots);
        r->instrument_extra_case = PB_ENUM(GET_ORDER_PRICE_RESPONSE__INSTRUMENT_EXTRA_EXTRA_FUTURE);
        r->extra_future = future;
    }
    api_reply_message(call, &r->base);
}

static void get_order_price(api_call *call, const ProtobufCMessage *request) {
    submit(call, run_order_price, finish_order_price);
}

#define ORDERS(method, type, fn)                                                                   \
    { .service = "OrdersService", .name = method, .request_type = &PB_DESC(type), .handle = fn }
#define SANDBOX(method, type, fn)                                                                  \
    { .service = "SandboxService", .name = method, .request_type = &PB_DESC(type), .handle = fn }
static api_method orders_methods[] = {
    ORDERS("PostOrder", post_order_request, post_order),
    ORDERS("PostOrderAsync", post_order_async_request, post_order_async),
    ORDERS("CancelOrder", cancel_order_request, cancel_order),
    ORDERS("GetOrderState", get_order_state_request, get_order_state),
    ORDERS("GetOrders", get_orders_request, get_orders),
    ORDERS("ReplaceOrder", replace_order_request, replace_order),
    ORDERS("GetMaxLots", get_max_lots_request, get_max_lots),
    ORDERS("GetOrderPrice", get_order_price_request, get_order_price),
    SANDBOX("PostSandboxOrder", post_order_request, post_order),
    SANDBOX("PostSandboxOrderAsync", post_order_async_request, post_order_async),
    SANDBOX("CancelSandboxOrder", cancel_order_request, cancel_order),
    SANDBOX("GetSandboxOrderState", get_order_state_request, get_order_state),
    SANDBOX("GetSandboxOrders", get_orders_request, get_orders),
    SANDBOX("ReplaceSandboxOrder", replace_order_request, replace_order),
    SANDBOX("GetSandboxMaxLots", get_max_lots_request, get_max_lots),
    SANDBOX("GetSandboxOrderPrice", get_order_price_request, get_order_price),
};

const api_method *api_orders_methods(size_t *count) {
    *count = sizeof orders_methods / sizeof orders_methods[0];
    return orders_methods;
}
