/* Broker-side vocabulary shared by the core modules. Enum values equal the contract's numbers
 * (OrderDirection, OrderType, TimeInForceType, OrderExecutionReportStatus, StatusCauseInfo), so
 * the transport converts them without a table. */
#ifndef TINVESTD_CORE_TYPES_H
#define TINVESTD_CORE_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#define ORDER_KEY_MAX_LEN 36
#define ORDER_KEY_SIZE (ORDER_KEY_MAX_LEN + 1)
#define ORDER_ID_SIZE 37

typedef enum { DIRECTION_BUY = 1, DIRECTION_SELL = 2 } order_direction;
typedef enum { ORDER_TYPE_LIMIT = 1, ORDER_TYPE_MARKET = 2, ORDER_TYPE_BESTPRICE = 3 } order_type;
typedef enum { TIF_DAY = 1, TIF_FILL_AND_KILL = 2, TIF_FILL_OR_KILL = 3 } order_tif;

typedef enum {
    ORDER_STATUS_FILL = 1,
    ORDER_STATUS_REJECTED = 2,
    ORDER_STATUS_CANCELLED = 3,
    ORDER_STATUS_NEW = 4,
    ORDER_STATUS_PARTIALLYFILL = 5,
} order_status;

/* Why an order ended, as OrderStateStream's status_info reports it. */
typedef enum {
    ORDER_CAUSE_NONE = 0,
    ORDER_CAUSE_CANCELLED_BY_EXCHANGE = 1,
    ORDER_CAUSE_REJECTED_BY_BROKER = 4,
    ORDER_CAUSE_REJECTED_BY_EXCHANGE = 5,
    ORDER_CAUSE_CANCELLED_BY_CLIENT = 15,
} order_cause;

/* How the order entered the broker: decides when its reply is sent. */
typedef enum {
    ORDER_SOURCE_SYNC = 1,
    ORDER_SOURCE_ASYNC = 2,
    ORDER_SOURCE_REPLACE = 3,
    /* Placed by the broker to close a position of a margin account below its minimal margin
     * (core_margin_watch): nobody waits for a reply. */
    ORDER_SOURCE_MARGIN_CALL = 4
} order_source;

static inline bool order_status_is_final(order_status status) {
    return status == ORDER_STATUS_FILL || status == ORDER_STATUS_REJECTED ||
           status == ORDER_STATUS_CANCELLED;
}

#endif
