/* OrdersService (and the sandbox methods that share its messages): decode on the transport
 * thread, run on the core thread, reply after the batch is durable. */
#include "api/services.h"

#include <string.h>

#include "api/api_metrics.h"
#include "api/core_errors.h"
#include "api/core_job.h"
#include "api/order_view.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"

typedef struct order_job order_job;
typedef void (*order_job_fn)(order_job *job, engine *e);

/* Everything `finish` answers from is copied here on the core thread when the job runs (or,
 * for a job that waits, when its wait ends): replies never read live core state. */
struct order_job {
    api_core_job job; /* must stay first */
    core_result result;
    /* GetOrderState: the order's fills. */
    core_trade *stages;
    uint32_t stage_count;
    /* GetOrders: the listed orders and their fills. */
    order_view_listed *listed;
    uint32_t listed_count;
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
    order_job *job = api_core_job_new(call, sizeof(order_job));
    /* Placing, cancelling and replacing change state; everything else here only reads. */
    job->job.base.mutates = run == run_place || run == run_cancel || run == run_replace;
    job->job.base.capture = &job->result.order;
    job->result.order.index = CORE_NO_ORDER;
    api_core_job_submit(&job->job, run, finish);
}

/* ---- PostOrder / PostOrderAsync ------------------------------------------------------------- */

static void run_place(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    core_order_request *req = job->job.call->user;
    req->now_ns = engine_now_ns(e);
    job->result = core_place_order(engine_core(e), req);
    /* PostOrder answers once the exchange has; PostOrderAsync with the order as accepted (NEW:
     * the exchange has not seen it yet), or for a repeated key as it is now. */
    if (job->result.error == CORE_OK && req->source == ORDER_SOURCE_SYNC)
        engine_wait_for_order(e, base, job->result.order.index, ENGINE_WAIT_EXCHANGE_ANSWER);
    else
        engine_finish_after_commit(e, base);
}

/* PostOrder's answer: the order once the exchange has answered, or the reject. */
static void finish_post_order(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    const core_order *order = &job->result.order;
    if (order->status == ORDER_STATUS_REJECTED && order->reject_reason != CORE_OK) {
        api_reply_core_error(job->job.call, order->reject_reason);
        return;
    }
    api_reply_message(
        job->job.call,
        &order_view_post_response(job->job.call, api_call_refdata(job->job.call), order)->base);
}

static void finish_post_order_async(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    const core_order *order = &job->result.order;
    api_call *call = job->job.call;
    PB(PostOrderAsyncResponse) *r =
        PB_NEW(call, PB(PostOrderAsyncResponse), PB_INIT(POST_ORDER_ASYNC_RESPONSE));
    r->order_request_id = (char *)order->key;
    r->execution_report_status = (int)order->status;
    r->_trade_intent_id_case = PB_ENUM(POST_ORDER_ASYNC_RESPONSE___TRADE_INTENT_ID_TRADE_INTENT_ID);
    r->trade_intent_id = (char *)order->intent_id;
    /* Metrics: the stage times are copied first; the call and its job (in the call's memory) are
     * gone once the reply has left. */
    int64_t received_ns = call->received_mono_ns, decided_ns = base->decided_mono_ns,
            durable_ns = base->durable_mono_ns;
    api_reply_message(call, &r->base);
    api_metrics_post_order_async(received_ns, decided_ns, durable_ns);
}

/* Orders in options are refused as the real broker refuses them over the API (30094); their
 * books are the market maker's alone (docs/PROTOCOL.md, Options). */
static bool refused_option(api_call *call, const core_order_request *req) {
    const instrument *ins = refdata_find_instrument_id(api_call_refdata(call), req->instrument_id);
    if (ins == NULL || ins->kind != INSTRUMENT_KIND_OPTION)
        return false;
    api_reply_error(call, 30094);
    return true;
}

static void post_order(api_call *call, const ProtobufCMessage *request) {
    core_order_request *req = api_call_alloc(call, sizeof *req);
    call->user = req;
    int code = api_request_post_order((const PB(PostOrderRequest) *)request, req);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    if (refused_option(call, req))
        return;
    req->token = call->token;
    submit(call, run_place, finish_post_order);
}

static void post_order_async(api_call *call, const ProtobufCMessage *request) {
    core_order_request *req = api_call_alloc(call, sizeof *req);
    call->user = req;
    int code = api_request_post_order_async((const PB(PostOrderAsyncRequest) *)request, req);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    if (refused_option(call, req))
        return;
    req->token = call->token;
    submit(call, run_place, finish_post_order_async);
}

/* ---- GetOrderState / CancelOrder ------------------------------------------------------------ */

/* Copies the order's fills into the call's memory, for the reply's stages. */
static uint32_t copy_stages(engine *e, api_call *call, const core_order *order, core_trade **out) {
    *out =
        api_call_alloc(call, (size_t)(order->trade_count ? order->trade_count : 1) * sizeof **out);
    return core_order_trades(engine_core(e), order, *out, order->trade_count);
}

static void run_get_state(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const api_order_ref *ref = job->job.call->user;
    job->result = core_find_order(engine_core(e), job->job.call->token, ref->account_id,
                                  ref->order_id, ref->by_request_id);
    if (job->result.error == CORE_OK)
        job->stage_count = copy_stages(e, job->job.call, &job->result.order, &job->stages);
    engine_finish_after_commit(e, base);
}

static void finish_get_state(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    api_call *call = job->job.call;
    api_reply_message(call, &order_view_state(call, api_call_refdata(call), &job->result.order,
                                              job->stages, job->stage_count)
                                 ->base);
}

static void get_order_state(api_call *call, const ProtobufCMessage *request) {
    api_order_ref *ref = api_call_alloc(call, sizeof *ref);
    call->user = ref;
    int code = api_request_get_order_state((const PB(GetOrderStateRequest) *)request, ref);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    submit(call, run_get_state, finish_get_state);
}

static void run_cancel(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const api_order_ref *ref = job->job.call->user;
    job->result = core_cancel_order(engine_core(e), job->job.call->token, ref->account_id,
                                    ref->order_id, ref->by_request_id, engine_now_ns(e));
    if (job->result.error == CORE_OK)
        engine_wait_for_order(e, base, job->result.order.index, ENGINE_WAIT_FINAL);
    else
        engine_finish_after_commit(e, base);
}

static void finish_cancel(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (job->result.error == CORE_ERR_ORDER_NOT_ACTIVE &&
        job->result.order.status == ORDER_STATUS_FILL)
        job->result.error = CORE_ERR_ORDER_FILLED;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    const core_order *order = &job->result.order;
    if (order->status != ORDER_STATUS_CANCELLED) {
        api_reply_core_error(job->job.call, order->status == ORDER_STATUS_FILL
                                                ? CORE_ERR_ORDER_FILLED
                                                : CORE_ERR_ORDER_NOT_ACTIVE);
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
    api_order_ref *ref = api_call_alloc(call, sizeof *ref);
    call->user = ref;
    int code = api_request_cancel_order((const PB(CancelOrderRequest) *)request, ref);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    submit(call, run_cancel, finish_cancel);
}

/* ---- GetOrders ------------------------------------------------------------------------------ */

static void run_get_orders(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    api_call *call = job->job.call;
    const PB(GetOrdersRequest) *in = (const PB(GetOrdersRequest) *)call->request;
    const api_orders_filter *filter = call->user;
    const account *acc;
    const core *c = engine_core(e);
    job->result.error = core_account_for(c, call->token, in->account_id, false, &acc);
    if (job->result.error == CORE_OK) {
        bool active_only = !filter->advanced || filter->status_count == 0;
        uint32_t n = core_list_orders(c, acc->index, active_only, api_request_order_listed, filter,
                                      NULL, UINT32_MAX);
        core_order *orders = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof *orders);
        n = core_list_orders(c, acc->index, active_only, api_request_order_listed, filter, orders,
                             n);
        job->listed = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof *job->listed);
        for (uint32_t i = 0; i < n; i++) {
            job->listed[i].order = &orders[i];
            job->listed[i].stage_count = copy_stages(e, call, &orders[i], &job->listed[i].stages);
        }
        job->listed_count = n;
    }
    engine_finish_after_commit(e, base);
}

static void finish_get_orders(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    api_call *call = job->job.call;
    PB(GetOrdersResponse) *r = PB_NEW(call, PB(GetOrdersResponse), PB_INIT(GET_ORDERS_RESPONSE));
    r->orders = (PB(OrderState) **)pb_array(call, job->listed_count);
    for (uint32_t i = 0; i < job->listed_count; i++) {
        const order_view_listed *l = &job->listed[i];
        r->orders[r->n_orders++] =
            order_view_state(call, api_call_refdata(call), l->order, l->stages, l->stage_count);
    }
    api_reply_message(call, &r->base);
}

static void get_orders(api_call *call, const ProtobufCMessage *request) {
    api_orders_filter *filter = api_call_alloc(call, sizeof *filter);
    call->user = filter;
    api_request_orders_filter((const PB(GetOrdersRequest) *)request, filter);
    submit(call, run_get_orders, finish_get_orders);
}

/* ---- ReplaceOrder --------------------------------------------------------------------------- */

static void run_replace(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const PB(ReplaceOrderRequest) *in = (const PB(ReplaceOrderRequest) *)job->job.call->request;
    const core_order_request *price = job->job.call->user;
    bool has_price_type =
        in->_price_type_case == PB_ENUM(REPLACE_ORDER_REQUEST___PRICE_TYPE_PRICE_TYPE);
    job->result =
        core_replace_order(engine_core(e), job->job.call->token, in->account_id, in->order_id,
                           in->idempotency_key, in->quantity, price->has_price, price->price_nano,
                           has_price_type ? in->price_type : 0, engine_now_ns(e));
    /* The answer comes once the new order has an exchange answer, or has ended (the old one
     * filled first, or the money is no longer there once it was cancelled). */
    if (job->result.error == CORE_OK)
        engine_wait_for_order(e, base, job->result.order.index, ENGINE_WAIT_EXCHANGE_ANSWER);
    else
        engine_finish_after_commit(e, base);
}

/* Decodes a request's optional price on the transport thread; answers 30018 when invalid. */
static bool decode_price(api_call *call, const PB(Quotation) * in) {
    core_order_request *price = api_call_alloc(call, sizeof *price);
    call->user = price;
    int code = api_request_price(in, &price->has_price, &price->price_nano);
    if (code != 0)
        api_reply_error(call, code);
    return code == 0;
}

static void replace_order(api_call *call, const ProtobufCMessage *request) {
    if (decode_price(call, ((const PB(ReplaceOrderRequest) *)request)->price))
        submit(call, run_replace, finish_post_order);
}

/* ---- GetMaxLots / GetOrderPrice ------------------------------------------------------------- */

static void run_max_lots(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const PB(GetMaxLotsRequest) *in = (const PB(GetMaxLotsRequest) *)job->job.call->request;
    const core_order_request *price = job->job.call->user;
    job->result.error =
        core_max_lots_for(engine_core(e), job->job.call->token, in->account_id, in->instrument_id,
                          price->has_price, price->price_nano, &job->out.max_lots);
    engine_finish_after_commit(e, base);
}

static PB(GetMaxLotsResponse__BuyLimitsView) *
    buy_view(api_call *call, int64_t money_nano, int64_t lots, int64_t market_lots) {
    PB(GetMaxLotsResponse__BuyLimitsView) *v =
        PB_NEW(call, PB(GetMaxLotsResponse__BuyLimitsView),
               PB_INIT(GET_MAX_LOTS_RESPONSE__BUY_LIMITS_VIEW));
    v->buy_money_amount = pb_quotation(call, money_nano);
    v->buy_max_lots = lots;
    v->buy_max_market_lots = market_lots;
    return v;
}

static PB(GetMaxLotsResponse__SellLimitsView) * sell_view(api_call *call, int64_t lots) {
    PB(GetMaxLotsResponse__SellLimitsView) *v =
        PB_NEW(call, PB(GetMaxLotsResponse__SellLimitsView),
               PB_INIT(GET_MAX_LOTS_RESPONSE__SELL_LIMITS_VIEW));
    v->sell_max_lots = lots;
    return v;
}

static void finish_max_lots(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    api_call *call = job->job.call;
    const core_max_lots *m = &job->out.max_lots;
    PB(GetMaxLotsResponse) *r =
        PB_NEW(call, PB(GetMaxLotsResponse), PB_INIT(GET_MAX_LOTS_RESPONSE));
    r->currency = (char *)m->currency;
    /* A cash account has no margin: its margin views equal the plain ones. */
    PB(GetMaxLotsResponse__BuyLimitsView) *buy =
        buy_view(call, m->buy_money_nano, m->buy_max_lots, m->buy_max_market_lots);
    PB(GetMaxLotsResponse__BuyLimitsView) *buy_margin = buy_view(
        call, m->buy_margin_money_nano, m->buy_margin_max_lots, m->buy_margin_max_market_lots);
    PB(GetMaxLotsResponse__SellLimitsView) *sell = sell_view(call, m->sell_max_lots);
    PB(GetMaxLotsResponse__SellLimitsView) *sell_margin = sell_view(call, m->sell_margin_max_lots);
    r->buy_limits = buy;
    r->buy_margin_limits = buy_margin;
    r->sell_limits = sell;
    r->sell_margin_limits = sell_margin;
    api_reply_message(call, &r->base);
}

static void get_max_lots(api_call *call, const ProtobufCMessage *request) {
    if (decode_price(call, ((const PB(GetMaxLotsRequest) *)request)->price))
        submit(call, run_max_lots, finish_max_lots);
}

static void run_order_price(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    const PB(GetOrderPriceRequest) *in = (const PB(GetOrderPriceRequest) *)job->job.call->request;
    const core_order_request *price = job->job.call->user;
    job->result.error = core_order_price_for(engine_core(e), job->job.call->token, in->account_id,
                                             in->instrument_id, in->direction, in->quantity,
                                             price->has_price, price->price_nano, &job->out.price);
    engine_finish_after_commit(e, base);
}

static void finish_order_price(engine *e, engine_job *base) {
    order_job *job = (order_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
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
        future->initial_margin = pb_money(call, cur, p->initial_margin_nano);
        r->instrument_extra_case = PB_ENUM(GET_ORDER_PRICE_RESPONSE__INSTRUMENT_EXTRA_EXTRA_FUTURE);
        r->extra_future = future;
    }
    api_reply_message(call, &r->base);
}

static void get_order_price(api_call *call, const ProtobufCMessage *request) {
    if (decode_price(call, ((const PB(GetOrderPriceRequest) *)request)->price))
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
