#include "api/order_view.h"

#include <stdio.h>

#include "core/valuation.h"

int64_t order_view_value_nano(const instrument *ins, const core_order *order, int64_t price_nano) {
    int64_t units, value = 0;
    if (__builtin_mul_overflow(order->lots_requested, (int64_t)ins->lot, &units) ||
        !valuation_amount(ins, price_nano, units, &value))
        return 0;
    return value;
}

static const char *order_id_text(const core_order *order) {
    return order->exchange_order_id != 0 ? order->exchange_id_text : order->intent_id;
}

PB(PostOrderResponse) *
    order_view_post_response(api_call *call, const refdata *rd, const core_order *order) {
    const instrument *ins = &rd->instruments[order->instrument];
    const char *cur = ins->currency;
    PB(PostOrderResponse) *r = PB_NEW(call, PB(PostOrderResponse), PB_INIT(POST_ORDER_RESPONSE));
    r->order_id = (char *)order_id_text(order);
    r->execution_report_status = (int)order->status;
    r->lots_requested = order->lots_requested;
    r->lots_executed = order->lots_executed;
    int64_t price = order->price_nano > 0 ? order->price_nano : order->reserve_price_nano;
    r->initial_order_price = pb_money(call, cur, order_view_value_nano(ins, order, price));
    /* Here the contract means the average price of one instrument (OrderState: the total). */
    r->executed_order_price = pb_money(call, cur, core_order_average_price_nano(order));
    r->total_order_amount =
        pb_money(call, cur, order->executed_value_nano + order->executed_commission_nano);
    r->initial_commission = pb_money(call, cur, order->initial_commission_nano);
    r->executed_commission = pb_money(call, cur, order->executed_commission_nano);
    r->aci_value = pb_money(call, cur, 0);
    r->figi = (char *)ins->figi;
    r->direction = (int)order->direction;
    r->initial_security_price = pb_money(call, cur, price);
    r->order_type = (int)order->type;
    r->message = "";
    r->initial_order_price_pt = pb_quotation(call, price);
    r->instrument_uid = (char *)ins->uid;
    r->ticker = (char *)ins->ticker;
    r->class_code = (char *)ins->class_code;
    r->order_request_id = (char *)order->request_id;
    PB(ResponseMetadata) *meta = PB_NEW(call, PB(ResponseMetadata), PB_INIT(RESPONSE_METADATA));
    meta->tracking_id = call->tracking_id;
    meta->server_time = pb_timestamp(call, call->received_ns);
    r->response_metadata = meta;
    return r;
}

PB(OrderState) * order_view_state(api_call *call, const refdata *rd, const core_order *order,
                                  const core_trade *stages, uint32_t stage_count) {
    const instrument *ins = &rd->instruments[order->instrument];
    const char *cur = ins->currency;
    PB(OrderState) *s = PB_NEW(call, PB(OrderState), PB_INIT(ORDER_STATE));
    s->order_id = (char *)order_id_text(order);
    s->execution_report_status = (int)order->status;
    s->lots_requested = order->lots_requested;
    s->lots_executed = order->lots_executed;
    int64_t price = order->price_nano > 0 ? order->price_nano : order->reserve_price_nano;
    s->initial_order_price = pb_money(call, cur, order_view_value_nano(ins, order, price));
    s->executed_order_price = pb_money(call, cur, order->executed_value_nano);
    s->total_order_amount =
        pb_money(call, cur, order->executed_value_nano + order->executed_commission_nano);
    s->average_position_price = pb_money(call, cur, core_order_average_price_nano(order));
    s->initial_commission = pb_money(call, cur, order->initial_commission_nano);
    s->executed_commission = pb_money(call, cur, order->executed_commission_nano);
    s->figi = (char *)ins->figi;
    s->direction = (int)order->direction;
    s->initial_security_price = pb_money(call, cur, price);
    s->service_commission = pb_money(call, cur, 0);
    s->currency = (char *)cur;
    s->order_type = (int)order->type;
    s->order_date = pb_timestamp(call, order->created_ns);
    s->instrument_uid = (char *)ins->uid;
    s->order_request_id = (char *)order->request_id;
    s->ticker = (char *)ins->ticker;
    s->class_code = (char *)ins->class_code;
    s->stages = (PB(OrderStage) **)pb_array(call, stage_count);
    for (uint32_t t = 0; t < stage_count; t++) {
        const core_trade *trade = &stages[t];
        PB(OrderStage) *stage = PB_NEW(call, PB(OrderStage), PB_INIT(ORDER_STAGE));
        stage->price = pb_money(call, cur, trade->price_nano);
        stage->quantity = trade->lots;
        char *trade_id = api_call_alloc(call, 24);
        snprintf(trade_id, 24, "%llu", (unsigned long long)trade->trade_id);
        stage->trade_id = trade_id;
        stage->execution_time = pb_timestamp(call, trade->time_ns);
        s->stages[s->n_stages++] = stage;
    }
    return s;
}
