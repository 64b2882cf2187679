/* Operations: every movement of money or securities on an account, as OperationsService shows
 * it (GetOperations, GetOperationsByCursor, their sandbox twins, GetBrokerReport).
 *
 * DESIGN: derived state. core_apply() makes and updates operations from the events it applies
 * (a fill, the end of an order, a pay-in, a currency transfer), so the live path and replay
 * build the same operations; snapshots carry them. Kinds:
 *
 *   BUY / SELL   one per order that traded (made at its first fill, kept equal to the order's
 *                running totals) or that ended without trading (CANCELED); PROGRESS while the
 *                order is active, EXECUTED once it ended with fills. Its trades are the order's.
 *   BROKER_FEE   one per order that paid commission; its parent is the order's operation.
 *   INPUT        a pay-in (SandboxPayIn), and each configured opening balance (those are made
 *                from the configuration at start, numbered 1 .. opening_count, never retire).
 *   OUT_MULTI /  the two sides of a CurrencyTransfer between two accounts of one owner.
 *   INP_MULTI
 *   BUY_MARGIN / the BUY / SELL of an order the broker placed to close a position (margin call).
 *   SELL_MARGIN
 *   ACCRUING_ /  a futures position's variation margin paid at a clearing (in / out).
 *   WRITING_OFF_VARMARGIN
 *   MARGIN_FEE   an overnight fee of a margin account: on borrowed money, or on a short position
 *                (then with its instrument).
 *
 * Every operation has a number (1, 2, 3 ... for ever, in the order they were made, hence in
 * time order): it is the cursor. The store is a ring of `capacity` records (limits.max_operations)
 * holding numbers first .. next - 1; an operation leaves when the history retention has passed
 * since its date (retired at the apply of the first event past it), or earlier when the ring is
 * full and a newer one needs its record (counted in `evicted`). A sandbox account's slot given
 * to a new account forgets the old account's operations. An operation of an order leaves no
 * later than its order (its date is at most the order's end), so its trades can always be read
 * from the order. Pure: no clock, no I/O. */
#ifndef TINVESTD_CORE_OPERATIONS_H
#define TINVESTD_CORE_OPERATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/types.h"

/* The contract's OperationType values the broker makes. */
#define CORE_OP_INPUT 1
#define CORE_OP_MARGIN_FEE 14
#define CORE_OP_BUY 15
#define CORE_OP_SELL_MARGIN 18 /* a sell of the broker's margin call */
#define CORE_OP_BUY_MARGIN 20  /* a buy of the broker's margin call */
#define CORE_OP_BROKER_FEE 19
#define CORE_OP_SELL 22
#define CORE_OP_ACCRUING_VARMARGIN 26
#define CORE_OP_WRITING_OFF_VARMARGIN 27
#define CORE_OP_OUT_MULTI 59
#define CORE_OP_INP_MULTI 60
/* The contract's OperationState values. */
#define CORE_OP_STATE_EXECUTED 1
#define CORE_OP_STATE_CANCELED 2
#define CORE_OP_STATE_PROGRESS 3

/* The operations of an order's trades (their trades are the order's), and of its buying side. */
static inline bool core_op_is_trade(uint8_t type) {
    return type == CORE_OP_BUY || type == CORE_OP_SELL || type == CORE_OP_BUY_MARGIN ||
           type == CORE_OP_SELL_MARGIN;
}
static inline bool core_op_is_buy(uint8_t type) {
    return type == CORE_OP_BUY || type == CORE_OP_BUY_MARGIN;
}

#define CORE_OP_NO_INSTRUMENT UINT32_MAX
#define CORE_OP_NONE UINT32_MAX
#define CORE_TRANSACTION_ID_SIZE 37

typedef struct core_operation {
    uint64_t number;            /* 1, 2, 3 ... for ever: the cursor */
    uint64_t parent;            /* BROKER_FEE: the number of its order's operation; else 0 */
    uint64_t order_seq;         /* BUY, SELL, BROKER_FEE: the order's accepted_seq; else 0 */
    uint64_t exchange_order_id; /* BUY, SELL: the order's exchange number (0 before the ack) */
    uint64_t prev_of_account;   /* the account's previous operation in the ring, or 0 */
    int64_t time_ns;            /* its date */
    int64_t payment_nano;       /* what it did to the cash balance (signed) */
    int64_t price_nano;         /* BUY, SELL: average price per unit of the executed part */
    int64_t commission_nano;    /* BUY, SELL: the order's commission so far */
    int64_t quantity;           /* BUY, SELL: units ordered */
    int64_t quantity_done;      /* BUY, SELL: units executed */
    uint32_t account;
    uint32_t instrument;  /* CORE_OP_NO_INSTRUMENT for money alone */
    uint32_t order;       /* BUY, SELL, BROKER_FEE: the order's slot; else CORE_OP_NONE */
    uint32_t counterpart; /* transfers: the other account's slot; else CORE_OP_NONE */
    uint8_t type;         /* CORE_OP_* */
    uint8_t state;        /* CORE_OP_STATE_* */
    uint8_t held;         /* 0 once its account's sandbox slot went to a new account */
    char currency[8];
    char transaction_id[CORE_TRANSACTION_ID_SIZE]; /* transfers: the client's id */
} core_operation;

typedef struct operation_store {
    core_operation *ring; /* capacity records; number n lives at n % capacity */
    uint32_t capacity;
    uint32_t order_slots;      /* max_orders */
    uint32_t account_slots;    /* accounts.capacity */
    uint64_t opening_count;    /* numbers 1 .. opening_count: the configured opening balances */
    uint64_t first, next;      /* the ring holds numbers first .. next - 1 */
    uint64_t *order_operation; /* per order slot: its BUY/SELL operation's number, or 0 */
    uint64_t *fee_operation;   /* per order slot: its BROKER_FEE operation's number, or 0 */
    uint64_t *account_last;    /* per account slot: its newest operation in the ring, or 0 */
    int64_t retention_ns;
    uint64_t evicted; /* left early because the ring was full (a statistic, not state) */
} operation_store;

/* ---- Inside the core (core.c, apply.c, snapshots) ------------------------------------------ */

struct core;
struct core_order;
struct core_event;

/* Sizes the store (core_init) and frees it; back to no operations (core_reset). */
int operations_init(struct core *c);
void operations_deinit(struct core *c);
void operations_reset(struct core *c);

/* Derivation, called by core_apply(): first the retirement of what the retention has passed at
 * the event's time, then the event's own operations. */
void operations_retire(struct core *c, int64_t now_ns);
void operations_on_fill(struct core *c, const struct core_order *o, const struct core_event *ev);
void operations_on_order_end(struct core *c, const struct core_order *o,
                             const struct core_event *ev);
void operations_on_pay_in(struct core *c, const struct core_event *ev);
void operations_on_transfer(struct core *c, const struct core_event *ev);
/* A payment without an order: variation margin, an overnight fee. */
void operations_on_payment(struct core *c, uint32_t account_index, uint32_t instrument_index,
                           const char *currency, uint8_t type, int64_t payment_nano,
                           int64_t time_ns);
/* A sandbox slot goes to a new account: the old account's operations are forgotten. */
void operations_forget_account(struct core *c, uint32_t account_index);

/* The held transfer that `transaction_id` names on `account_index`'s side (OUT_MULTI), or NULL. */
const core_operation *operations_find_transfer(const struct core *c, uint32_t account_index,
                                               const char *transaction_id);

/* Snapshots: the ring's records numbered first .. next - 1, in at most two runs. */
void operations_runs(const struct core *c, const core_operation *run[2], uint32_t count[2]);
/* Where a snapshot's records numbered first .. next - 1 go: at most two runs of the ring. */
void operations_load_runs(struct core *c, uint64_t first, uint64_t next, core_operation *run[2],
                          uint32_t count[2]);
/* After a snapshot load: the per-order and per-account maps from the records, then whether the
 * records fit the configuration (false: damage). */
bool operations_loaded(struct core *c);

#endif
