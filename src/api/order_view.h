/* Encoding broker orders into the contract's order messages (PostOrderResponse, OrderState).
 * Works from copies of the order and its fills taken on the core thread; reads nothing of the
 * live core. */
#ifndef TINVESTD_API_ORDER_VIEW_H
#define TINVESTD_API_ORDER_VIEW_H

#include "api/pb.h"
#include "core/core.h"

/* One order of a GetOrders answer with its fills. */
typedef struct order_view_listed {
    const core_order *order;
    core_trade *stages;
    uint32_t stage_count;
} order_view_listed;

PB(PostOrderResponse) *
    order_view_post_response(api_call *call, const refdata *rd, const core_order *order);
PB(OrderState) * order_view_state(api_call *call, const refdata *rd, const core_order *order,
                                  const core_trade *stages, uint32_t stage_count);

/* The whole order's value at `price_nano` (0 when it does not fit). */
int64_t order_view_value_nano(const instrument *ins, const core_order *order, int64_t price_nano);

#endif
