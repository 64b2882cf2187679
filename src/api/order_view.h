/* Encoding broker orders into the contract's order messages (PostOrderResponse, OrderState,
 * OrderStateStreamResponse.OrderState). Runs on the core thread, reading core state. */
#ifndef TINVESTD_API_ORDER_VIEW_H
#define TINVESTD_API_ORDER_VIEW_H

#include "api/pb.h"
#include "core/core.h"

PB(PostOrderResponse) *
    order_view_post_response(api_call *call, const core *c, const core_order *order);
PB(OrderState) * order_view_state(api_call *call, const core *c, const core_order *order);

/* Average price per unit of what has been executed so far (0 before the first fill). */
int64_t order_view_average_price_nano(const core *c, const core_order *order);

#endif
