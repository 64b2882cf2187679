/* StopOrdersService (PostStopOrder, GetStopOrders, CancelStopOrder) and its SandboxService
 * twins: decode on the transport thread, run on the core thread, reply after the batch is
 * durable, from copies taken on the core thread. */
#include "api/services.h"

#include <string.h>

#include "api/core_errors.h"
#include "api/core_job.h"
#include "api/pb.h"
#include "api/server.h"
#include "api/stoporders_request.h"

/* GetStopOrders lists at most this many (the reply stays far below gRPC's 4 MiB default). */
#define STOP_ORDERS_LIST_MAX 10000

typedef struct stop_job {
    api_core_job job; /* must stay first */
    core_stop_result result;
    api_stop_filter filter;
    core_stop_order *listed;
    const char **child_ids; /* per listed stop order: its child's exchange number, or NULL */
    uint32_t listed_count;
} stop_job;

static stop_job *new_job(api_call *call) {
    stop_job *job = api_core_job_new(call, sizeof(stop_job));
    job->result.stop.index = CORE_NO_ORDER;
    return job;
}

/* ---- PostStopOrder -------------------------------------------------------------------------- */

static void run_post(engine *e, engine_job *base) {
    stop_job *job = (stop_job *)base;
    core_stop_request *req = job->job.call->user;
    req->now_ns = engine_now_ns(e);
    job->result = core_post_stop_order(engine_core(e), req);
    engine_finish_after_commit(e, base);
}

static void finish_post(engine *e, engine_job *base) {
    stop_job *job = (stop_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    api_call *call = job->job.call;
    const core_stop_order *stop = &job->result.stop;
    PB(PostStopOrderResponse) *r =
        PB_NEW(call, PB(PostStopOrderResponse), PB_INIT(POST_STOP_ORDER_RESPONSE));
    r->stop_order_id = (char *)stop->id;
    r->order_request_id = (char *)stop->key;
    PB(ResponseMetadata) *meta = PB_NEW(call, PB(ResponseMetadata), PB_INIT(RESPONSE_METADATA));
    meta->tracking_id = call->tracking_id;
    meta->server_time = pb_timestamp(call, call->received_ns);
    r->response_metadata = meta;
    api_reply_message(call, &r->base);
}

static void post_stop_order(api_call *call, const ProtobufCMessage *request) {
    core_stop_request *req = api_call_alloc(call, sizeof *req);
    call->user = req;
    int code = api_request_post_stop_order((const PB(PostStopOrderRequest) *)request, req);
    /* The order a stop order places would be one in an option: refused as PostOrder refuses it
     * (docs/PROTOCOL.md, Options). */
    const instrument *ins =
        code == 0 ? refdata_find_instrument_id(api_call_refdata(call), req->instrument_id) : NULL;
    if (ins != NULL && ins->kind == INSTRUMENT_KIND_OPTION)
        code = 30094;
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    req->token = call->token;
    stop_job *job = new_job(call);
    job->job.base.mutates = true;
    api_core_job_submit(&job->job, run_post, finish_post);
}

/* ---- GetStopOrders -------------------------------------------------------------------------- */

static void run_list(engine *e, engine_job *base) {
    stop_job *job = (stop_job *)base;
    api_call *call = job->job.call;
    const PB(GetStopOrdersRequest) *in = (const PB(GetStopOrdersRequest) *)call->request;
    const core *c = engine_core(e);
    const account *acc;
    job->result.error = core_account_for(c, call->token, in->account_id, false, &acc);
    if (job->result.error == CORE_OK) {
        const api_stop_filter *f = &job->filter;
        int64_t now_ns = engine_now_ns(e);
        uint32_t n =
            core_list_stop_orders(c, acc->index, f->status, f->from_ns, f->to_ns, now_ns, NULL, 0);
        if (n > STOP_ORDERS_LIST_MAX)
            n = STOP_ORDERS_LIST_MAX;
        job->listed = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof *job->listed);
        job->child_ids = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof *job->child_ids);
        n = core_list_stop_orders(c, acc->index, f->status, f->from_ns, f->to_ns, now_ns,
                                  job->listed, n);
        for (uint32_t i = 0; i < n; i++) {
            /* Copied: the child's number lives in the core's records. */
            const char *id = core_stop_child_exchange_id(c, &job->listed[i]);
            char *copy = NULL;
            if (id != NULL) {
                copy = api_call_alloc(call, strlen(id) + 1);
                memcpy(copy, id, strlen(id) + 1);
            }
            job->child_ids[i] = copy;
        }
        job->listed_count = n;
    }
    engine_finish_after_commit(e, base);
}

static PB(StopOrder__TrailingData) * trailing_view(api_call *call, const core_stop_order *s) {
    PB(StopOrder__TrailingData) *t =
        PB_NEW(call, PB(StopOrder__TrailingData), PB_INIT(STOP_ORDER__TRAILING_DATA));
    t->indent = pb_quotation(call, s->indent_nano);
    t->indent_type = s->indent_type;
    t->spread = pb_quotation(call, s->spread_nano);
    t->spread_type = s->spread_type;
    t->status = s->trailing;
    t->price = pb_quotation(call, s->trail_price_nano);
    t->extr = pb_quotation(call, s->extremum_nano);
    return t;
}

static PB(StopOrder) * stop_view(api_call *call, const core_stop_order *s, const char *child) {
    const instrument *ins = &api_call_refdata(call)->instruments[s->instrument];
    PB(StopOrder) *o = PB_NEW(call, PB(StopOrder), PB_INIT(STOP_ORDER));
    o->stop_order_id = (char *)s->id;
    o->lots_requested = s->lots;
    o->figi = (char *)ins->figi;
    o->direction = s->direction;
    o->currency = (char *)ins->currency;
    o->order_type = s->type;
    o->create_date = pb_timestamp(call, s->created_ns);
    if (s->status == STOP_STATUS_EXECUTED)
        o->activation_date_time = pb_timestamp(call, s->completion_ns);
    if (s->expiration == STOP_EXPIRES_AT_DATE)
        o->expiration_time = pb_timestamp(call, s->expire_ns);
    int64_t price = s->trailing != 0 ? s->trail_price_nano : s->price_nano;
    o->price = pb_money(call, ins->currency, price);
    o->stop_price = pb_money(call, ins->currency, s->stop_price_nano);
    o->instrument_uid = (char *)ins->uid;
    o->take_profit_type = s->take_profit_type;
    if (s->trailing != 0)
        o->trailing_data = trailing_view(call, s);
    o->status = s->status;
    o->exchange_order_type = s->child_type;
    if (child != NULL) {
        o->_exchange_order_id_case = PB_ENUM(STOP_ORDER___EXCHANGE_ORDER_ID_EXCHANGE_ORDER_ID);
        o->exchange_order_id = (char *)child;
    }
    o->ticker = (char *)ins->ticker;
    o->class_code = (char *)ins->class_code;
    return o;
}

static void finish_list(engine *e, engine_job *base) {
    stop_job *job = (stop_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    api_call *call = job->job.call;
    PB(GetStopOrdersResponse) *r =
        PB_NEW(call, PB(GetStopOrdersResponse), PB_INIT(GET_STOP_ORDERS_RESPONSE));
    r->stop_orders = (PB(StopOrder) **)pb_array(call, job->listed_count);
    for (uint32_t i = 0; i < job->listed_count; i++)
        r->stop_orders[r->n_stop_orders++] = stop_view(call, &job->listed[i], job->child_ids[i]);
    api_reply_message(call, &r->base);
}

static void get_stop_orders(api_call *call, const ProtobufCMessage *request) {
    stop_job *job = new_job(call);
    int code = api_request_get_stop_orders((const PB(GetStopOrdersRequest) *)request, &job->filter);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    api_core_job_submit(&job->job, run_list, finish_list);
}

/* ---- CancelStopOrder ------------------------------------------------------------------------ */

static void run_cancel(engine *e, engine_job *base) {
    stop_job *job = (stop_job *)base;
    const PB(CancelStopOrderRequest) *in =
        (const PB(CancelStopOrderRequest) *)job->job.call->request;
    job->result = core_cancel_stop_order(engine_core(e), job->job.call->token, in->account_id,
                                         in->stop_order_id, engine_now_ns(e));
    engine_finish_after_commit(e, base);
}

static void finish_cancel(engine *e, engine_job *base) {
    stop_job *job = (stop_job *)base;
    if (api_reply_if_failed(&job->job, job->result.error))
        return;
    api_call *call = job->job.call;
    PB(CancelStopOrderResponse) *r =
        PB_NEW(call, PB(CancelStopOrderResponse), PB_INIT(CANCEL_STOP_ORDER_RESPONSE));
    r->time = pb_timestamp(call, job->result.stop.completion_ns);
    api_reply_message(call, &r->base);
}

static void cancel_stop_order(api_call *call, const ProtobufCMessage *request) {
    stop_job *job = new_job(call);
    job->job.base.mutates = true;
    api_core_job_submit(&job->job, run_cancel, finish_cancel);
}

#define STOPS(method, type, fn)                                                                    \
    { .service = "StopOrdersService", .name = method, .request_type = &PB_DESC(type), .handle = fn }
#define SANDBOX(method, type, fn)                                                                  \
    { .service = "SandboxService", .name = method, .request_type = &PB_DESC(type), .handle = fn }
static api_method stop_order_methods[] = {
    STOPS("PostStopOrder", post_stop_order_request, post_stop_order),
    STOPS("GetStopOrders", get_stop_orders_request, get_stop_orders),
    STOPS("CancelStopOrder", cancel_stop_order_request, cancel_stop_order),
    SANDBOX("PostSandboxStopOrder", post_stop_order_request, post_stop_order),
    SANDBOX("GetSandboxStopOrders", get_stop_orders_request, get_stop_orders),
    SANDBOX("CancelSandboxStopOrder", cancel_stop_order_request, cancel_stop_order),
};

const api_method *api_stop_order_methods(size_t *count) {
    *count = sizeof stop_order_methods / sizeof stop_order_methods[0];
    return stop_order_methods;
}
