#include "api/operations_request.h"

#include <stdio.h>
#include <string.h>

#include "util/money.h"
#include "util/uuid.h"

/* ---- Periods -------------------------------------------------------------------------------- */

/* A filter's bound: a malformed Timestamp is refused; any other saturates. */
static int filter_time(const Google__Protobuf__Timestamp *t, int invalid_code, int64_t absent,
                       int64_t *out) {
    *out = absent;
    if (t == NULL)
        return 0;
    if (t->nanos < 0 || t->nanos > 999999999)
        return invalid_code;
    *out = pb_timestamp_to_ns_saturated(t);
    return 0;
}

static int period_filter(const Google__Protobuf__Timestamp *from,
                         const Google__Protobuf__Timestamp *to, api_operations_query *out) {
    int code = filter_time(from, 30009, INT64_MIN, &out->from_ns);
    if (code == 0)
        code = filter_time(to, 30010, INT64_MAX, &out->to_ns);
    if (code == 0 && out->to_ns < out->from_ns)
        code = 30012;
    return code;
}

static bool state_known(int32_t state) {
    return state >= CORE_OP_STATE_EXECUTED && state <= CORE_OP_STATE_PROGRESS;
}

static void query_defaults(api_operations_query *out) {
    memset(out, 0, sizeof *out);
    out->from_ns = INT64_MIN;
    out->to_ns = INT64_MAX;
    out->instrument = CORE_OP_NO_INSTRUMENT;
    out->below = UINT64_MAX;
    out->any_type = true;
}

int api_request_operations(const refdata *rd, const PB(OperationsRequest) * in,
                           api_operations_query *out) {
    query_defaults(out);
    out->limit = API_OPERATIONS_LIST_MAX;
    int code = period_filter(in->from, in->to, out);
    if (code != 0)
        return code;
    if (in->_state_case == PB_ENUM(OPERATIONS_REQUEST___STATE_STATE) &&
        in->state != PB_ENUM(OPERATION_STATE__OPERATION_STATE_UNSPECIFIED)) {
        if (!state_known((int32_t)in->state))
            return 30023;
        out->has_state = true;
        out->state = (int32_t)in->state;
    }
    if (in->_figi_case == PB_ENUM(OPERATIONS_REQUEST___FIGI_FIGI) && in->figi[0] != '\0') {
        const instrument *ins = refdata_find_instrument_id(rd, in->figi);
        if (ins == NULL)
            return 50002;
        out->by_instrument = true;
        out->instrument = ins->index;
    }
    return 0;
}

/* Our cursors are operation numbers in decimal; a page starts at the one its cursor names. */
static bool parse_cursor(const char *text, uint64_t *below) {
    uint64_t v = 0;
    size_t len = strlen(text);
    if (len == 0 || len > 19)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    if (v == 0)
        return false;
    *below = v + 1;
    return true;
}

int api_request_operations_by_cursor(const refdata *rd, const PB(GetOperationsByCursorRequest) * in,
                                     api_operations_query *out, char *message,
                                     size_t message_size) {
    query_defaults(out);
    out->limit = API_OPERATIONS_DEFAULT_LIMIT;
    if (in->_instrument_id_case ==
            PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID) &&
        in->instrument_id[0] != '\0') {
        const instrument *ins = refdata_find_instrument_id(rd, in->instrument_id);
        if (ins == NULL)
            return 50002;
        out->by_instrument = true;
        out->instrument = ins->index;
    }
    int code = period_filter(in->from, in->to, out);
    if (code != 0)
        return code;
    if (in->_limit_case == PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___LIMIT_LIMIT)) {
        if (in->limit < 0 || in->limit > API_OPERATIONS_MAX_LIMIT)
            return 30069;
        if (in->limit > 0)
            out->limit = (uint32_t)in->limit;
    }
    if (in->_cursor_case == PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___CURSOR_CURSOR) &&
        in->cursor[0] != '\0' && !parse_cursor(in->cursor, &out->below)) {
        snprintf(message, message_size, "`cursor` is invalid: not a cursor this service gave");
        return 30102;
    }
    for (size_t i = 0; i < in->n_operation_types; i++) {
        int32_t type = (int32_t)in->operation_types[i];
        if (type == 0)
            continue; /* OPERATION_TYPE_UNSPECIFIED selects nothing by itself */
        if (type < 0 || type > API_OPERATION_TYPE_MAX) {
            snprintf(message, message_size, "`operation_types` is invalid: %d is no OperationType",
                     type);
            return 30102;
        }
        out->types[type] = true;
        out->any_type = false;
    }
    if (in->_state_case == PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___STATE_STATE) &&
        in->state != PB_ENUM(OPERATION_STATE__OPERATION_STATE_UNSPECIFIED)) {
        if (!state_known((int32_t)in->state))
            return 30023;
        out->has_state = true;
        out->state = (int32_t)in->state;
    }
    out->without_commissions =
        in->_without_commissions_case ==
            PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___WITHOUT_COMMISSIONS_WITHOUT_COMMISSIONS) &&
        in->without_commissions;
    out->without_trades =
        in->_without_trades_case ==
            PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___WITHOUT_TRADES_WITHOUT_TRADES) &&
        in->without_trades;
    out->without_overnights =
        in->_without_overnights_case ==
            PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___WITHOUT_OVERNIGHTS_WITHOUT_OVERNIGHTS) &&
        in->without_overnights;
    return 0;
}

/* The contract's commission and fee types (OperationType). */
static bool is_commission(int type) {
    switch (type) {
    case 12: /* SERVICE_FEE */
    case 14: /* MARGIN_FEE */
    case 19: /* BROKER_FEE */
    case 24: /* SUCCESS_FEE */
    case 30: /* TRACK_MFEE */
    case 31: /* TRACK_PFEE */
    case 45: /* CASH_FEE */
    case 46: /* OUT_FEE */
    case 55: /* OUTPUT_PENALTY */
    case 56: /* ADVICE_FEE */
    case 62: /* OVER_COM */
        return true;
    default:
        return false;
    }
}

/* OVERNIGHT, OVER_PLACEMENT, OVER_COM, OVER_INCOME. */
static bool is_overnight(int type) {
    return type == 4 || type == 61 || type == 62 || type == 63;
}

bool api_operation_listed(const core_operation *op, const void *query) {
    const api_operations_query *q = query;
    if (op->time_ns < q->from_ns || op->time_ns > q->to_ns)
        return false;
    if (q->has_state && op->state != q->state)
        return false;
    if (q->by_instrument && op->instrument != q->instrument)
        return false;
    if (!q->any_type && (op->type > API_OPERATION_TYPE_MAX || !q->types[op->type]))
        return false;
    if (q->without_commissions && is_commission(op->type))
        return false;
    if (q->without_overnights && is_overnight(op->type))
        return false;
    return true;
}

/* ---- CurrencyTransfer ----------------------------------------------------------------------- */

int api_request_currency_transfer(const PB(CurrencyTransferRequest) * in, int64_t *amount_nano) {
    *amount_nano = 0;
    if (in->from_account_id[0] == '\0')
        return 30249;
    if (in->to_account_id[0] == '\0')
        return 30248;
    if (in->amount == NULL)
        return 30247;
    if (in->transaction_id[0] == '\0')
        return 30256;
    if (!uuid_is_valid(in->transaction_id, strlen(in->transaction_id)))
        return 30257;
    if (money_from_units_nano(in->amount->units, in->amount->nano, amount_nano) != 0 ||
        *amount_nano <= 0 || *amount_nano % 10000000 != 0 || in->amount->currency[0] == '\0' ||
        strlen(in->amount->currency) >= 8)
        return 30246;
    return 0;
}

/* ---- Report tasks --------------------------------------------------------------------------- */

#define TASK_CHECK_BITS 49

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t task_check(const api_report_task *t, uint64_t seed) {
    uint64_t h = mix64(seed ^ 0x7461736b5f696421ULL);
    h = mix64(h ^ ((uint64_t)t->kind << 40 | t->account));
    h = mix64(h ^ (uint64_t)t->from_s);
    h = mix64(h ^ (uint64_t)t->to_s);
    return h & ((UINT64_C(1) << TASK_CHECK_BITS) - 1);
}

/* The UUID's 128 bits, version nibble (hi 15..12) and variant (lo 63..62) left to the format:
 * hi 63..32 from, 31..24 account, 23 kind, 22..16 and 11..0 the check's 19 high bits; lo 61..30
 * to, 29..0 the check's 30 low bits. */
void api_report_task_id(const api_report_task *t, uint64_t seed, char out[ORDER_ID_SIZE]) {
    uint64_t check = task_check(t, seed);
    uint64_t high = check >> 30;
    uint64_t hi = (uint64_t)(uint32_t)t->from_s << 32 | (uint64_t)(t->account & 0xFF) << 24 |
                  (uint64_t)(t->kind & 1) << 23 | (high >> 12 & 0x7F) << 16 | (high & 0xFFF);
    uint64_t lo = (uint64_t)(uint32_t)t->to_s << 30 | (check & 0x3FFFFFFF);
    uuid_format_from_bits(hi, lo, out);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool api_report_task_parse(const char *id, uint64_t seed, api_report_task *out) {
    if (!uuid_is_valid(id, strlen(id)))
        return false;
    uint64_t words[2] = {0, 0};
    int nibbles = 0;
    for (const char *p = id; *p; p++) {
        if (*p == '-')
            continue;
        words[nibbles / 16] = words[nibbles / 16] << 4 | (uint64_t)hex_digit(*p);
        nibbles++;
    }
    uint64_t hi = words[0], lo = words[1];
    if ((hi >> 12 & 0xF) != 4 || (lo >> 62) != 2)
        return false;
    api_report_task t = {.kind = (api_report_kind)(hi >> 23 & 1),
                         .account = (uint32_t)(hi >> 24 & 0xFF),
                         .from_s = (int64_t)(hi >> 32),
                         .to_s = (int64_t)(lo >> 30 & 0xFFFFFFFF)};
    uint64_t check = (((hi >> 16 & 0x7F) << 12 | (hi & 0xFFF)) << 30) | (lo & 0x3FFFFFFF);
    if (check != task_check(&t, seed))
        return false;
    *out = t;
    return true;
}

int api_request_report_period(const Google__Protobuf__Timestamp *from,
                              const Google__Protobuf__Timestamp *to, int64_t max_days,
                              int64_t *from_s, int64_t *to_s) {
    if (from == NULL)
        return 30001;
    if (to == NULL)
        return 30004;
    int64_t from_ns, to_ns;
    int code = pb_timestamp_to_ns_code(from, 30009, 30061, &from_ns);
    if (code == 0)
        code = pb_timestamp_to_ns_code(to, 30010, 30062, &to_ns);
    if (code != 0)
        return code;
    if (to_ns < from_ns)
        return 30012;
    if (max_days > 0 && to_ns - from_ns > max_days * 86400 * INT64_C(1000000000))
        return 30064;
    *from_s = from->seconds;
    /* A period ending inside a second covers that second. */
    *to_s = to->seconds + (to->nanos > 0);
    return 0;
}
