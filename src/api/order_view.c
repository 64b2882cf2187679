#include "api/order_view.h"

#include <stdio.h>

#include "core/valuation.h"

int64_t order_view_average_price_nano(const core *c, const core_order *order) {
    if (order->lots_executed == 0)
        return 0;
    __int128 weighted = 0;
    for (uint32_t t = order->first_trade; t != CORE_NO_ORDER; t = core_trade_at(c, t)->next)
        weighted += (__int128)core_trade_at(c, t)->price_nano * core_trade_at(c, t)->lots;
    return (int64_t)(weighted / order->lots_executed);
}

static int64_t order_value(const core *c, const core_order *order, int64_t price_nano) {
    const instrument *ins = core_instrument_of(c, order);
    int64_t value = 0;
    valuation_amount(ins, price_nano, order->lots_requested * ins->lot, &value);
    return value;
}

static const char *order_id_text(const core_order *order) {
    return order->exchange_order_id != 0 ? order->exchange_id_text : order->intent_id;
}

PB(PostOrderResponse) *
    order_view_post_response(api_call *call, const core *c, const core_order *order) {
    const instrument *ins = core_instrument_of(c, order);
    const char *cur = ins->currency;
    PB(PostOrderResponse) *r = PB_NEW(call, PB(PostOrderResponse), PB_INIT(POST_ORDER_RESPONSE));
    r->order_id = (char *)order_id_text(order);
    r->execution_report_status = (int)order->status;
    r->lots_requested = order->lots_requested;
    r->lots_executed = order->lots_executed;
    int64_t price = order->price_nano > 0 ? order->price_nano : order->reserve_price_nano;
    r->initial_order_price = pb_money(call, cur, order_value(c, order, price));
    /* Here the contract means the average price of one instrument (OrderState: the total). */
    r->executed_order_price = pb_money(call, cur, order_view_average_price_nano(c, order));
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

PB(OrderState) * order_view_state(api_call *call, const core *c, const core_order *order) {
    const instrument *ins = core_instrument_of(c, order);
    const char *cur = ins->currency;
    PB(OrderState) *s = PB_NEW(call, PB(OrderState), PB_INIT(ORDER_STATE));
    s->order_id = (char *)order_id_text(order);
    s->execution_report_status = (int)order->status;
    s->lots_requested = order->lots_requested;
    s->lots_executed = order->lots_executed;
    int64_t price = order->price_nano > 0 ? order->price_nano : order->reserve_price_nano;
    s->initial_order_price = pb_money(call, cur, order_value(c, order, price));
    s->executed_order_price = pb_money(call, cur, order->executed_value_nano);
    s->total_order_amount =
        pb_money(call, cur, order->executed_value_nano + order->executed_commission_nano);
    s->average_position_price = pb_money(call, cur, order_view_average_price_nano(c, order));
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
    s->stages = (PB(OrderStage) **)pb_array(call, order->trade_count);
    for (uint32_t t = order->first_trade; t != CORE_NO_ORDER;) {
        const core_trade *trade = core_trade_at(c, t);
        PB(OrderStage) *stage = PB_NEW(call, PB(OrderStage), PB_INIT(ORDER_STAGE));
        stage->price = pb_money(call, cur, trade->price_nano);
        stage->quantity = trade->lots;
        char *trade_id = api_call_alloc(call, 24);
        snprintf(trade_id, 24, "%llu", (unsigned long long)trade->trade_id);
        stage->trade_id = trade_id;
        stage->execution_time = pb_timestamp(call, trade->time_ns);
        s->stages[s->n_stages++] = stage;
        t = trade->next;
    }
    return s;
}
