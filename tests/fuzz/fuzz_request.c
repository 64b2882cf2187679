/* Fuzz target: a request's way from its bytes to the core.
 *
 * Feeds: byte 0 picks one of the request types the server serves (api_request_types(), modulo
 * their count); the rest are that request's wire bytes. They go the server's way without a
 * server: api_request_decode() (protobuf-c and the string checks), the sandbox account check,
 * the type's checks (the ones its handlers make), and for a request that becomes a core command,
 * the command on a fixture core (tests/fuzz/fixture.h) that already holds an acknowledged order,
 * with the exchange link answering it; a GetTechAnalysis request its indicator over a short
 * series with extreme prices.
 *
 * Asserts, besides no crash, leak or sanitizer report: every string of a decoded request is
 * valid UTF-8 within its bound (what api/validate.h promises the handlers); a refused request
 * gets a T-Invest code (and its own text where the type has one); the values the checks decide
 * are in range; after the command the core passes core_check_invariants(). */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "api/request.h"
#include "fixture.h"
#include "util/log.h"
#include "util/text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    log_set_level(LOG_LEVEL_ERROR);
    return 0;
}

/* The promise of api/validate.h, checked on the decoded message instead of the wire. */
static void assert_strings_valid(const ProtobufCMessage *msg, unsigned depth) {
    assert(depth <= API_VALIDATE_MAX_DEPTH);
    const ProtobufCMessageDescriptor *type = msg->descriptor;
    for (unsigned f = 0; f < type->n_fields; f++) {
        const ProtobufCFieldDescriptor *field = &type->fields[f];
        if (field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *at = (const char *)msg + field->offset;
        size_t count = 1;
        void *const *values = (void *const *)at;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(const size_t *)((const char *)msg + field->quantifier_offset);
            values = *(void *const *const *)at;
        } else if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t chosen = *(const uint32_t *)((const char *)msg + field->quantifier_offset);
            if (chosen != field->id)
                continue;
        }
        for (size_t i = 0; i < count; i++) {
            if (values[i] == NULL)
                continue;
            if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
                assert_strings_valid(values[i], depth + 1);
                continue;
            }
            const char *text = values[i];
            size_t len = strlen(text);
            assert(len <= API_VALIDATE_TEXT_MAX_BYTES);
            assert(text_utf8_valid(text, len));
        }
    }
}

/* What the checks decided, for a request they let through. */
static void assert_values_in_range(const refdata *rd, const ProtobufCMessageDescriptor *type,
                                   const api_request_values *v) {
    if (type == &PB_DESC(trading_schedules_request)) {
        assert(v->schedule.day_count >= 1 && v->schedule.day_count <= API_SCHEDULE_MAX_DAYS);
        assert(v->schedule.from_s >= 0 && v->schedule.from_s % 86400 == 0);
    }
    if (type == &PB_DESC(instrument_request) || type == &PB_DESC(get_order_book_request) ||
        type == &PB_DESC(get_trading_status_request) || type == &PB_DESC(get_last_trades_request))
        assert(v->instrument >= rd->instruments &&
               v->instrument < rd->instruments + rd->instrument_count);
    if (type == &PB_DESC(get_margin_attributes_request))
        assert(v->account != NULL);
    if (type == &PB_DESC(get_tech_analysis_request)) {
        assert(v->instrument >= rd->instruments &&
               v->instrument < rd->instruments + rd->instrument_count);
        size_t capacity = indicators_candle_capacity(&v->indicator);
        assert(capacity > indicators_warmup(&v->indicator) && capacity <= INDICATORS_MAX_CANDLES);
    }
    assert(v->filter.status_count <= sizeof v->filter.statuses / sizeof v->filter.statuses[0]);
    if (type == &PB_DESC(get_last_prices_request))
        assert(v->last_prices.price_type >= PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_UNSPECIFIED) &&
               v->last_prices.price_type <= PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_DEALER));
    if (type == &PB_DESC(portfolio_request))
        assert(v->portfolio.rub_nano > 0 && v->portfolio.currency != NULL &&
               (strcmp(v->portfolio.currency, "rub") == 0 ||
                refdata_find_currency_rate(rd, v->portfolio.currency) != NULL));
}

/* GetTechAnalysis's computation, as the handler's `finish` makes it, over a short series that
 * starts before `from` and reaches past it, with prices at both ends of int64 among them. */
static void compute_indicator(const indicator_request *req) {
    enum { N = 48 };
    static const int64_t extremes[] = {INT64_MAX, INT64_MIN, 0, 1, -1, INT64_MAX - 1};
    indicator_candle candles[N];
    indicator_value values[N];
    int64_t price = 250 * FIXTURE_NANO;
    for (size_t i = 0; i < N; i++) {
        price += (int64_t)(i % 7) * 10000000 - 30000000;
        int64_t close = i % 11 == 10 ? extremes[(i / 11) % 6] : price;
        candles[i] = (indicator_candle){.time_ns = req->from_ns - 24 + (int64_t)i,
                                        .open_nano = price,
                                        .high_nano = close > price ? close : price,
                                        .low_nano = close < price ? close : price,
                                        .close_nano = close};
    }
    size_t count = N + 1;
    int code = indicators_compute(req, candles, N, values, N, &count);
    assert(code == 0 || code == 30216 || code == 30217);
    assert(count <= N && (code == 0 || count == 0));
    for (size_t i = 0; i < count; i++)
        assert(values[i].time_ns >= req->from_ns && values[i].time_ns <= req->to_ns);
}

/* Runs the command the request becomes, as the handler's `run` does on the core thread. */
static void run_command(fixture_broker *b, const ProtobufCMessage *request,
                        const api_request_values *v) {
    core *c = &b->core;
    const refdata *rd = c->refdata;
    const token *tok = &rd->tokens[0];
    const ProtobufCMessageDescriptor *type = request->descriptor;
    int64_t now = FIXTURE_START_NS + FIXTURE_NANO;
    if (type == &PB_DESC(post_order_request) || type == &PB_DESC(post_order_async_request)) {
        core_order_request order = v->order;
        order.token = tok;
        order.now_ns = now;
        core_place_order(c, &order);
    } else if (type == &PB_DESC(cancel_order_request)) {
        core_cancel_order(c, tok, v->ref.account_id, v->ref.order_id, v->ref.by_request_id, now);
    } else if (type == &PB_DESC(get_order_state_request)) {
        core_result found =
            core_find_order(c, tok, v->ref.account_id, v->ref.order_id, v->ref.by_request_id);
        core_trade trades[8];
        if (found.error == CORE_OK)
            assert(core_order_trades(c, &found.order, trades, 8) <= found.order.trade_count);
    } else if (type == &PB_DESC(get_orders_request)) {
        const PB(GetOrdersRequest) *in = (const PB(GetOrdersRequest) *)request;
        const account *acc;
        if (core_account_for(c, tok, in->account_id, false, &acc) == CORE_OK) {
            core_order listed[FIXTURE_MAX_ORDERS];
            core_list_orders(c, acc->index, true, api_request_order_listed, &v->filter, listed,
                             FIXTURE_MAX_ORDERS);
            core_list_orders(c, acc->index, false, api_request_order_listed, &v->filter, listed,
                             FIXTURE_MAX_ORDERS);
        }
    } else if (type == &PB_DESC(replace_order_request)) {
        const PB(ReplaceOrderRequest) *in = (const PB(ReplaceOrderRequest) *)request;
        bool has_price_type =
            in->_price_type_case == PB_ENUM(REPLACE_ORDER_REQUEST___PRICE_TYPE_PRICE_TYPE);
        core_replace_order(c, tok, in->account_id, in->order_id, in->idempotency_key, in->quantity,
                           v->has_price, v->price_nano, has_price_type ? in->price_type : 0, now);
    } else if (type == &PB_DESC(get_max_lots_request)) {
        const PB(GetMaxLotsRequest) *in = (const PB(GetMaxLotsRequest) *)request;
        core_max_lots out;
        if (core_max_lots_for(c, tok, in->account_id, in->instrument_id, v->has_price,
                              v->price_nano, &out) == CORE_OK)
            assert(out.buy_max_lots >= 0 && out.sell_max_lots >= 0);
    } else if (type == &PB_DESC(get_order_price_request)) {
        const PB(GetOrderPriceRequest) *in = (const PB(GetOrderPriceRequest) *)request;
        core_order_price out;
        core_order_price_for(c, tok, in->account_id, in->instrument_id, in->direction, in->quantity,
                             v->has_price, v->price_nano, &out);
    } else if (type == &PB_DESC(sandbox_pay_in_request)) {
        const PB(SandboxPayInRequest) *in = (const PB(SandboxPayInRequest) *)request;
        int64_t balance;
        core_pay_in(c, tok, in->account_id, in->amount->currency, v->amount_nano, now, &balance);
    } else if (type == &PB_DESC(open_sandbox_account_request)) {
        char id[ORDER_ID_SIZE];
        core_open_sandbox_account(c, tok, v->name, now, id);
    } else if (type == &PB_DESC(close_sandbox_account_request)) {
        const PB(CloseSandboxAccountRequest) *in = (const PB(CloseSandboxAccountRequest) *)request;
        core_close_sandbox_account(c, tok, in->account_id, now);
    } else if (type == &PB_DESC(currency_transfer_request)) {
        const PB(CurrencyTransferRequest) *in = (const PB(CurrencyTransferRequest) *)request;
        bool duplicate;
        core_currency_transfer(c, tok, in->from_account_id, in->to_account_id, in->amount->currency,
                               v->amount_nano, in->transaction_id, now, &duplicate);
    } else if (type == &PB_DESC(operations_request) ||
               type == &PB_DESC(get_operations_by_cursor_request)) {
        /* A read: the page the query selects, every operation of it passing the query. */
        const char *account_id =
            type == &PB_DESC(operations_request)
                ? ((const PB(OperationsRequest) *)request)->account_id
                : ((const PB(GetOperationsByCursorRequest) *)request)->account_id;
        const account *acc;
        if (core_account_for(c, tok, account_id, false, &acc) == CORE_OK) {
            static core_operation page[API_OPERATIONS_MAX_LIMIT];
            uint64_t more;
            uint32_t n =
                core_list_operations(c, acc->index, v->operations.below, api_operation_listed,
                                     &v->operations, page, v->operations.limit, &more);
            assert(n <= v->operations.limit && n <= API_OPERATIONS_MAX_LIMIT);
            for (uint32_t i = 0; i < n; i++)
                assert(page[i].number < v->operations.below &&
                       api_operation_listed(&page[i], &v->operations));
        }
        return;
    } else if (type == &PB_DESC(get_tech_analysis_request)) {
        compute_indicator(&v->indicator);
        return; /* a read: no command */
    } else {
        return; /* answered from the reference data, or a read without a command */
    }
    /* What the command asked of the exchange is sent, and its answers come back. */
    venue_link_pump(b->link);
    venue_link_advance(b->link, now + FIXTURE_NANO);
    core_check_invariants(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    size_t type_count;
    const api_request_type *types = api_request_types(&type_count);
    const api_request_type *type = &types[data[0] % type_count];
    api_validate_error error = {0};
    ProtobufCMessage *request = api_request_decode(type->descriptor, data + 1, size - 1, &error);
    if (request == NULL) {
        assert(error.code >= 30000 && error.code <= 99999 && error.message[0] != '\0');
        return 0;
    }
    assert_strings_valid(request, 0);

    static refdata rd;
    fixture_broker b;
    fixture_broker_open(&b, &rd);
    const ProtobufCFieldDescriptor *sandbox_field =
        api_request_sandbox_account_field("SandboxService", type->descriptor);
    api_request_names_broker_account(sandbox_field, request, &rd);
    api_request_context ctx = {.refdata = &rd,
                               .token = &rd.tokens[0],
                               .today_s = FIXTURE_START_NS / FIXTURE_NANO,
                               .now_ns = FIXTURE_START_NS};
    ctx.today_s -= ctx.today_s % 86400;
    static api_request_values values;
    memset(&values, 0, sizeof values);
    int code = type->check(request, &ctx, &values);
    if (code != 0) {
        assert(code >= 30000 && code <= 99999);
        if (code == 30102)
            assert(values.message[0] != '\0');
    } else {
        assert_values_in_range(&rd, type->descriptor, &values);
        run_command(&b, request, &values);
    }
    fixture_broker_close(&b);
    protobuf_c_message_free_unpacked(request, NULL);
    return 0;
}
