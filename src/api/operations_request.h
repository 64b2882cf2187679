/* The operation history's requests (GetOperations, GetOperationsByCursor, GetBrokerReport,
 * GetDividendsForeignIssuer) and CurrencyTransfer, from their decoded message to what their
 * handlers act on: every check that needs no core, in the order the handlers make them. No gRPC:
 * the fuzz targets link it with the rest of api/request.h. */
#ifndef TINVESTD_API_OPERATIONS_REQUEST_H
#define TINVESTD_API_OPERATIONS_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "api/contract.h"
#include "core/core.h"

/* GetOperationsByCursor: `limit` when the request sets none (or 0), and its largest value. */
#define API_OPERATIONS_DEFAULT_LIMIT 100
#define API_OPERATIONS_MAX_LIMIT 1000
/* GetOperations answers the newest this many, as the real method does. */
#define API_OPERATIONS_LIST_MAX 1000
/* Trades one page carries in all; a page whose operations hold more ends early (has_next). */
#define API_OPERATIONS_PAGE_TRADES 10000
/* OperationType values a request may list (the contract's enumeration, 0 .. 65). */
#define API_OPERATION_TYPE_MAX 65
/* GenerateBrokerReport: the longest period (code 30064). */
#define API_BROKER_REPORT_MAX_DAYS 31
/* Rows of a broker report page. */
#define API_BROKER_REPORT_PAGE_ROWS 1000

typedef struct api_operations_query {
    int64_t from_ns, to_ns; /* inclusive; INT64_MIN / INT64_MAX when absent */
    bool has_state;
    int32_t state;
    uint32_t instrument; /* CORE_OP_NO_INSTRUMENT: every operation */
    bool by_instrument;  /* only operations of `instrument` */
    uint64_t below;      /* the cursor: numbers below this (UINT64_MAX: from the newest) */
    uint32_t limit;      /* operations a page holds */
    bool types[API_OPERATION_TYPE_MAX + 1]; /* with `any_type` false: the types listed */
    bool any_type;
    bool without_commissions, without_trades, without_overnights;
} api_operations_query;

/* GetOperations: `from`/`to` (a malformed Timestamp 30009 / 30010; outside int64 nanoseconds
 * they mean before / after everything), `to` before `from` 30012, `state` not an OperationState
 * 30023, a `figi` that names no instrument 50002. The account is checked by the core. */
int api_request_operations(const refdata *rd, const PB(OperationsRequest) * in,
                           api_operations_query *out);
/* GetOperationsByCursor: as above, then `instrument_id` (FIGI, uid or ticker_class_code) naming
 * nothing 50002, `limit` negative or above 1000 30069, `cursor` not one of ours 30102,
 * `operation_types` holding a value the contract does not define 30102. */
int api_request_operations_by_cursor(const refdata *rd, const PB(GetOperationsByCursorRequest) * in,
                                     api_operations_query *out, char *message, size_t message_size);
/* Whether an operation passes the query's filters (core_list_operations' filter). */
bool api_operation_listed(const core_operation *op, const void *query);

/* CurrencyTransfer before the core: `from_account_id` 30249, `to_account_id` 30248 missing,
 * `amount` missing 30247, `transaction_id` missing 30256 or not a UUID 30257, `amount` not
 * positive, not a multiple of 0.01 or without a currency 30246. */
int api_request_currency_transfer(const PB(CurrencyTransferRequest) * in, int64_t *amount_nano);

/* Report tasks (GetBrokerReport, GetDividendsForeignIssuer): a task id carries what its report
 * covers — which report, the account's slot, the period in seconds — and a check keyed by the
 * broker's seed, so a task survives restarts without a record and an id we never gave (or one
 * altered) is unknown (50007). */
typedef enum { API_REPORT_BROKER = 0, API_REPORT_DIVIDENDS = 1 } api_report_kind;

typedef struct api_report_task {
    api_report_kind kind;
    uint32_t account;
    int64_t from_s, to_s;
} api_report_task;

void api_report_task_id(const api_report_task *task, uint64_t seed, char out[ORDER_ID_SIZE]);
bool api_report_task_parse(const char *id, uint64_t seed, api_report_task *out);

/* A report's period: `from` missing 30001, `to` missing 30004, malformed 30009 / 30010, outside
 * 1970–2099 30061 / 30062, `to` before `from` 30012, longer than `max_days` 30064 (0: any). */
int api_request_report_period(const Google__Protobuf__Timestamp *from,
                              const Google__Protobuf__Timestamp *to, int64_t max_days,
                              int64_t *from_s, int64_t *to_s);

#endif
