/* Writes the committed seed corpus of the fuzz targets, tests/fuzz/corpus/<target>/, with the
 * project's own writers: requests of every served type packed by protobuf-c, journal segments and
 * snapshots written by the engine during a short trading day on the fixture's broker, and
 * configuration files (the two of config/ and a few small ones). Each input starts with the bytes
 * its target reads first (the request type; the flags). Run by `make fuzz-corpus`:
 *
 *   fuzz_make_corpus SOURCE_DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/request.h"
#include "engine/engine.h"
#include "engine/snapshot.h"
#include "fixture.h"
#include "journal/journal.h"
#include "util/log.h"

#define NANO FIXTURE_NANO

static char corpus_dir[512];

static void make_dir(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void write_input(const char *target, const char *name, const uint8_t *prefix,
                        size_t prefix_size, const void *data, size_t size) {
    char path[800];
    snprintf(path, sizeof path, "%s/%s", corpus_dir, target);
    make_dir(path);
    snprintf(path, sizeof path, "%s/%s/%s", corpus_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(prefix, 1, prefix_size, f) != prefix_size ||
        (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)length + 1);
    if (data == NULL || fread(data, 1, (size_t)length, f) != (size_t)length) {
        perror(path);
        exit(1);
    }
    fclose(f);
    *size = (size_t)length;
    return data;
}

/* ---- Requests ------------------------------------------------------------------------------- */

/* protoc-c's initializers set the contract's deprecated fields too (clang warns on them). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static void request(const char *name, const ProtobufCMessage *msg) {
    size_t count;
    const api_request_type *types = api_request_types(&count);
    uint8_t index = 0;
    while (index < count && types[index].descriptor != msg->descriptor)
        index++;
    if (index == count) {
        fprintf(stderr, "make_corpus: %s is not a served request type\n", name);
        exit(1);
    }
    size_t size = protobuf_c_message_get_packed_size(msg);
    uint8_t *packed = malloc(size ? size : 1);
    protobuf_c_message_pack(msg, packed);
    write_input("request", name, &index, 1, packed, size);
    free(packed);
}

static Google__Protobuf__Timestamp at(int64_t seconds) {
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = seconds;
    return t;
}

static PB(Quotation) quotation(int64_t units, int32_t nano) {
    PB(Quotation) q = PB_INIT(QUOTATION);
    q.units = units;
    q.nano = nano;
    return q;
}

static void users_and_instruments(void) {
    PB(GetAccountsRequest) accounts = PB_INIT(GET_ACCOUNTS_REQUEST);
    request("get_accounts", &accounts.base);
    accounts._status_case = PB_ENUM(GET_ACCOUNTS_REQUEST___STATUS_STATUS);
    accounts.status = PB_ENUM(ACCOUNT_STATUS__ACCOUNT_STATUS_OPEN);
    request("get_accounts-open", &accounts.base);
    PB(GetInfoRequest) info = PB_INIT(GET_INFO_REQUEST);
    request("get_info", &info.base);
    PB(GetUserTariffRequest) tariff = PB_INIT(GET_USER_TARIFF_REQUEST);
    request("get_user_tariff", &tariff.base);
    PB(GetMarginAttributesRequest) margin = PB_INIT(GET_MARGIN_ATTRIBUTES_REQUEST);
    margin.account_id = "A1";
    request("get_margin_attributes", &margin.base);

    PB(CurrencyTransferRequest) transfer = PB_INIT(CURRENCY_TRANSFER_REQUEST);
    PB(MoneyValue) amount = PB_INIT(MONEY_VALUE);
    amount.currency = "rub";
    amount.units = 10;
    transfer.from_account_id = "A1";
    transfer.to_account_id = "A2";
    transfer.amount = &amount;
    transfer.transaction_id = "0b7e3c1a-52d4-4f6e-9a8b-1c2d3e4f5a6b";
    request("currency_transfer", &transfer.base);
    PB(GetBankAccountsRequest) bank = PB_INIT(GET_BANK_ACCOUNTS_REQUEST);
    request("get_bank_accounts", &bank.base);
    PB(OperationsRequest) operations = PB_INIT(OPERATIONS_REQUEST);
    operations.account_id = "A1";
    Google__Protobuf__Timestamp since = at(1700000000), until = at(1800000000);
    operations.from = &since;
    operations.to = &until;
    request("get_operations", &operations.base);
    PB(GetOperationsByCursorRequest) cursor = PB_INIT(GET_OPERATIONS_BY_CURSOR_REQUEST);
    cursor.account_id = "A1";
    cursor._limit_case = PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___LIMIT_LIMIT);
    cursor.limit = 2;
    cursor._cursor_case = PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___CURSOR_CURSOR);
    cursor.cursor = "3";
    PB(OperationType) types[] = {PB_ENUM(OPERATION_TYPE__OPERATION_TYPE_BUY)};
    cursor.operation_types = types;
    cursor.n_operation_types = 1;
    request("get_operations_by_cursor", &cursor.base);
    PB(GenerateBrokerReportRequest) generate = PB_INIT(GENERATE_BROKER_REPORT_REQUEST);
    generate.account_id = "A1";
    generate.from = &since;
    generate.to = &until;
    PB(BrokerReportRequest) report = PB_INIT(BROKER_REPORT_REQUEST);
    report.payload_case = PB_ENUM(BROKER_REPORT_REQUEST__PAYLOAD_GENERATE_BROKER_REPORT_REQUEST);
    report.generate_broker_report_request = &generate;
    request("broker_report-generate", &report.base);
    PB(GetDividendsForeignIssuerRequest) dividends = PB_INIT(GET_DIVIDENDS_FOREIGN_ISSUER_REQUEST);
    PB(GetDividendsForeignIssuerReportRequest)
    get = PB_INIT(GET_DIVIDENDS_FOREIGN_ISSUER_REPORT_REQUEST);
    get.task_id = "0b7e3c1a-52d4-4f6e-9a8b-1c2d3e4f5a6b";
    dividends.payload_case =
        PB_ENUM(GET_DIVIDENDS_FOREIGN_ISSUER_REQUEST__PAYLOAD_GET_DIV_FOREIGN_ISSUER_REPORT);
    dividends.get_div_foreign_issuer_report = &get;
    request("dividends_foreign_issuer-get", &dividends.base);

    PB(InstrumentRequest) by = PB_INIT(INSTRUMENT_REQUEST);
    by.id_type = PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_FIGI);
    by.id = "FIGI0";
    request("instrument_by-figi", &by.base);
    by.id_type = PB_ENUM(INSTRUMENT_ID_TYPE__INSTRUMENT_ID_TYPE_TICKER);
    by.id = "AAA";
    by._class_code_case = PB_ENUM(INSTRUMENT_REQUEST___CLASS_CODE_CLASS_CODE);
    by.class_code = "TQBR";
    request("instrument_by-ticker", &by.base);
    PB(InstrumentsRequest) all = PB_INIT(INSTRUMENTS_REQUEST);
    request("instruments", &all.base);
    PB(FindInstrumentRequest) find = PB_INIT(FIND_INSTRUMENT_REQUEST);
    find.query = "share a";
    request("find_instrument", &find.base);
    PB(TradingSchedulesRequest) schedules = PB_INIT(TRADING_SCHEDULES_REQUEST);
    Google__Protobuf__Timestamp from = at(1700000000), to = at(1700000000 + 2 * 86400);
    schedules.from = &from;
    schedules.to = &to;
    schedules._exchange_case = PB_ENUM(TRADING_SCHEDULES_REQUEST___EXCHANGE_EXCHANGE);
    schedules.exchange = "MOEX";
    request("trading_schedules", &schedules.base);
}

/* `order_id` and `exchange_id` name the fixture broker's order (tests/fuzz/fixture.h). */
static void orders(const char *order_id, const char *exchange_id) {
    PB(Quotation) price = quotation(95, 500000000);
    PB(PostOrderRequest) post = PB_INIT(POST_ORDER_REQUEST);
    post.quantity = 1;
    post.price = &price;
    post.direction = PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_BUY);
    post.account_id = "A1";
    post.order_type = PB_ENUM(ORDER_TYPE__ORDER_TYPE_LIMIT);
    post.order_id = "seed-1";
    post.instrument_id = "FIGI0";
    request("post_order-limit", &post.base);
    post.price = NULL;
    post.direction = PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_SELL);
    post.order_type = PB_ENUM(ORDER_TYPE__ORDER_TYPE_MARKET);
    post.account_id = "S1";
    post.instrument_id = "uid-0";
    request("post_order-market-sandbox", &post.base);

    PB(PostOrderAsyncRequest) async = PB_INIT(POST_ORDER_ASYNC_REQUEST);
    async.instrument_id = "AAA_TQBR";
    async.quantity = 3;
    async.price = &price;
    async.direction = PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_BUY);
    async.account_id = "A1";
    async.order_type = PB_ENUM(ORDER_TYPE__ORDER_TYPE_BESTPRICE);
    async.order_id = "6f1c3a52-8d0e-4b8a-9a57-3c7f2b1e9d40";
    async._time_in_force_case = PB_ENUM(POST_ORDER_ASYNC_REQUEST___TIME_IN_FORCE_TIME_IN_FORCE);
    async.time_in_force = PB_ENUM(TIME_IN_FORCE_TYPE__TIME_IN_FORCE_FILL_AND_KILL);
    async._price_type_case = PB_ENUM(POST_ORDER_ASYNC_REQUEST___PRICE_TYPE_PRICE_TYPE);
    async.price_type = PB_ENUM(PRICE_TYPE__PRICE_TYPE_CURRENCY);
    request("post_order_async", &async.base);

    PB(CancelOrderRequest) cancel = PB_INIT(CANCEL_ORDER_REQUEST);
    cancel.account_id = "A1";
    cancel.order_id = (char *)order_id;
    request("cancel_order", &cancel.base);
    cancel.order_id = FIXTURE_ORDER_KEY;
    cancel._order_id_type_case = PB_ENUM(CANCEL_ORDER_REQUEST___ORDER_ID_TYPE_ORDER_ID_TYPE);
    cancel.order_id_type = PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_REQUEST);
    request("cancel_order-by-key", &cancel.base);

    PB(GetOrderStateRequest) state = PB_INIT(GET_ORDER_STATE_REQUEST);
    state.account_id = "A1";
    state.order_id = (char *)exchange_id;
    state._order_id_type_case = PB_ENUM(GET_ORDER_STATE_REQUEST___ORDER_ID_TYPE_ORDER_ID_TYPE);
    state.order_id_type = PB_ENUM(ORDER_ID_TYPE__ORDER_ID_TYPE_EXCHANGE);
    request("get_order_state", &state.base);

    PB(GetOrdersRequest) list = PB_INIT(GET_ORDERS_REQUEST);
    list.account_id = "A1";
    request("get_orders", &list.base);
    PB(GetOrdersRequest__GetOrdersRequestFilters)
    filters = PB_INIT(GET_ORDERS_REQUEST__GET_ORDERS_REQUEST_FILTERS);
    Google__Protobuf__Timestamp from = at(1600000000), to = at(1800000000);
    PB(OrderExecutionReportStatus)
    statuses[] = {PB_ENUM(ORDER_EXECUTION_REPORT_STATUS__EXECUTION_REPORT_STATUS_NEW),
                  PB_ENUM(ORDER_EXECUTION_REPORT_STATUS__EXECUTION_REPORT_STATUS_CANCELLED)};
    filters.from = &from;
    filters.to = &to;
    filters.n_execution_status = 2;
    filters.execution_status = statuses;
    list.advanced_filters = &filters;
    request("get_orders-filtered", &list.base);

    PB(Quotation) new_price = quotation(91, 0);
    PB(ReplaceOrderRequest) replace = PB_INIT(REPLACE_ORDER_REQUEST);
    replace.account_id = "A1";
    replace.order_id = (char *)order_id;
    replace.idempotency_key = "seed-replace";
    replace.quantity = 1;
    replace.price = &new_price;
    request("replace_order", &replace.base);

    PB(GetMaxLotsRequest) max_lots = PB_INIT(GET_MAX_LOTS_REQUEST);
    max_lots.account_id = "A1";
    max_lots.instrument_id = "FIGI0";
    max_lots.price = &new_price;
    request("get_max_lots", &max_lots.base);
    PB(GetOrderPriceRequest) order_price = PB_INIT(GET_ORDER_PRICE_REQUEST);
    order_price.account_id = "A1";
    order_price.instrument_id = "FIGI0";
    order_price.price = &new_price;
    order_price.direction = PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_SELL);
    order_price.quantity = 2;
    request("get_order_price", &order_price.base);
}

static void operations_and_sandbox(void) {
    PB(PositionsRequest) positions = PB_INIT(POSITIONS_REQUEST);
    positions.account_id = "A1";
    request("positions", &positions.base);
    PB(PortfolioRequest) portfolio = PB_INIT(PORTFOLIO_REQUEST);
    portfolio.account_id = "A1";
    request("portfolio", &portfolio.base);
    PB(WithdrawLimitsRequest) limits = PB_INIT(WITHDRAW_LIMITS_REQUEST);
    limits.account_id = "S1";
    request("withdraw_limits", &limits.base);

    PB(MoneyValue) amount = PB_INIT(MONEY_VALUE);
    amount.currency = "rub";
    amount.units = 1000;
    amount.nano = 250000000;
    PB(SandboxPayInRequest) pay_in = PB_INIT(SANDBOX_PAY_IN_REQUEST);
    pay_in.account_id = "S1";
    pay_in.amount = &amount;
    request("sandbox_pay_in", &pay_in.base);
    PB(OpenSandboxAccountRequest) open = PB_INIT(OPEN_SANDBOX_ACCOUNT_REQUEST);
    open._name_case = PB_ENUM(OPEN_SANDBOX_ACCOUNT_REQUEST___NAME_NAME);
    open.name = "Песочница";
    request("open_sandbox_account", &open.base);
    PB(CloseSandboxAccountRequest) close_account = PB_INIT(CLOSE_SANDBOX_ACCOUNT_REQUEST);
    close_account.account_id = "S1";
    request("close_sandbox_account", &close_account.base);
}

static void market_data_and_streams(void) {
    PB(GetOrderBookRequest) book = PB_INIT(GET_ORDER_BOOK_REQUEST);
    book.depth = 10;
    book._instrument_id_case = PB_ENUM(GET_ORDER_BOOK_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID);
    book.instrument_id = "FIGI0";
    request("get_order_book", &book.base);
    char *ids[] = {"FIGI0", "AAA_TQBR"};
    PB(GetLastPricesRequest) prices = PB_INIT(GET_LAST_PRICES_REQUEST);
    prices.n_instrument_id = 2;
    prices.instrument_id = ids;
    request("get_last_prices", &prices.base);
    PB(GetTradingStatusRequest) status = PB_INIT(GET_TRADING_STATUS_REQUEST);
    status._instrument_id_case = PB_ENUM(GET_TRADING_STATUS_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID);
    status.instrument_id = "uid-0";
    request("get_trading_status", &status.base);
    PB(GetTradingStatusesRequest) statuses = PB_INIT(GET_TRADING_STATUSES_REQUEST);
    statuses.n_instrument_id = 1;
    statuses.instrument_id = ids;
    request("get_trading_statuses", &statuses.base);
    PB(GetLastTradesRequest) trades = PB_INIT(GET_LAST_TRADES_REQUEST);
    Google__Protobuf__Timestamp from = at(1700000000), to = at(1700003600);
    trades.from = &from;
    trades.to = &to;
    trades._instrument_id_case = PB_ENUM(GET_LAST_TRADES_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID);
    trades.instrument_id = "FIGI0";
    request("get_last_trades", &trades.base);

    char *accounts[] = {"A1", "S1"};
    PB(OrderStateStreamRequest) order_states = PB_INIT(ORDER_STATE_STREAM_REQUEST);
    order_states.n_accounts = 2;
    order_states.accounts = accounts;
    order_states._ping_delay_millis_case =
        PB_ENUM(ORDER_STATE_STREAM_REQUEST___PING_DELAY_MILLIS_PING_DELAY_MILLIS);
    order_states.ping_delay_millis = 5000;
    request("order_state_stream", &order_states.base);
    PB(TradesStreamRequest) trade_stream = PB_INIT(TRADES_STREAM_REQUEST);
    trade_stream._ping_delay_ms_case = PB_ENUM(TRADES_STREAM_REQUEST___PING_DELAY_MS_PING_DELAY_MS);
    trade_stream.ping_delay_ms = 10000;
    request("trades_stream", &trade_stream.base);

    /* GetTechAnalysis: Bollinger bands and MACD over an hour of one-minute candles. */
    PB(GetTechAnalysisRequest) tech = PB_INIT(GET_TECH_ANALYSIS_REQUEST);
    tech.indicator_type = PB_ENUM(GET_TECH_ANALYSIS_REQUEST__INDICATOR_TYPE__INDICATOR_TYPE_BB);
    tech.instrument_uid = "uid-0";
    tech.from = &from;
    tech.to = &to;
    tech.interval =
        PB_ENUM(GET_TECH_ANALYSIS_REQUEST__INDICATOR_INTERVAL__INDICATOR_INTERVAL_ONE_MINUTE);
    tech.type_of_price = PB_ENUM(GET_TECH_ANALYSIS_REQUEST__TYPE_OF_PRICE__TYPE_OF_PRICE_AVG);
    tech.length = 20;
    PB(Quotation) multiplier = PB_INIT(QUOTATION);
    multiplier.units = 2;
    PB(GetTechAnalysisRequest__Deviation) deviation = PB_INIT(GET_TECH_ANALYSIS_REQUEST__DEVIATION);
    deviation.deviation_multiplier = &multiplier;
    tech.deviation = &deviation;
    request("get_tech_analysis-bb", &tech.base);
    tech.indicator_type = PB_ENUM(GET_TECH_ANALYSIS_REQUEST__INDICATOR_TYPE__INDICATOR_TYPE_MACD);
    PB(GetTechAnalysisRequest__Smoothing) smoothing = PB_INIT(GET_TECH_ANALYSIS_REQUEST__SMOOTHING);
    smoothing.fast_length = 12;
    smoothing.slow_length = 26;
    smoothing.signal_smoothing = 9;
    tech.smoothing = &smoothing;
    request("get_tech_analysis-macd", &tech.base);
}

static void requests(void) {
    static refdata rd;
    fixture_broker b;
    fixture_broker_open(&b, &rd);
    char order_id[ORDER_ID_SIZE], exchange_id[sizeof b.order.exchange_id_text];
    memcpy(order_id, b.order.intent_id, sizeof order_id);
    memcpy(exchange_id, b.order.exchange_id_text, sizeof exchange_id);
    fixture_broker_close(&b);
    users_and_instruments();
    orders(order_id, exchange_id);
    operations_and_sandbox();
    market_data_and_streams();
}

#pragma GCC diagnostic pop

/* ---- A trading day: journal segments and snapshots ------------------------------------------- */

typedef enum {
    STEP_PLACE,
    STEP_CANCEL,
    STEP_REPLACE,
    STEP_PAY_IN,
    STEP_OPEN,
    STEP_CLOSE_OPENED,
} step_kind;

typedef struct step {
    step_kind kind;
    const char *account, *key, *other_key;
    int32_t direction, type;
    int64_t lots, price_nano;
    int64_t after_ns; /* since the previous step */
} step;

typedef struct day_job {
    engine_job base; /* must stay first */
    const step *step;
} day_job;

static char opened_account[ORDER_ID_SIZE];

/* A command as its handler runs it on the core thread. */
static void run_step(engine *e, engine_job *base) {
    const step *s = ((day_job *)base)->step;
    core *c = engine_core(e);
    const token *tok = &c->refdata->tokens[0];
    int64_t now = engine_now_ns(e);
    core_error error = CORE_OK;
    switch (s->kind) {
    case STEP_PLACE: {
        core_order_request req = {.token = tok,
                                  .account_id = s->account,
                                  .instrument_id = "FIGI0",
                                  .key = s->key,
                                  .quantity = s->lots,
                                  .has_price = s->price_nano != 0,
                                  .price_nano = s->price_nano,
                                  .direction = s->direction,
                                  .type = s->type,
                                  .source = ORDER_SOURCE_SYNC,
                                  .now_ns = now};
        error = core_place_order(c, &req).error;
        break;
    }
    case STEP_CANCEL:
        error = core_cancel_order(c, tok, s->account, s->key, true, now).error;
        break;
    case STEP_REPLACE: {
        core_result old = core_find_order(c, tok, s->account, s->other_key, true);
        error = old.error;
        if (error == CORE_OK)
            error = core_replace_order(c, tok, s->account, old.order.intent_id, s->key, s->lots,
                                       true, s->price_nano, 0, now)
                        .error;
        break;
    }
    case STEP_PAY_IN: {
        int64_t balance;
        error = core_pay_in(c, tok, s->account, "rub", s->price_nano, now, &balance);
        break;
    }
    case STEP_OPEN:
        error = core_open_sandbox_account(c, tok, "fuzz seed", now, opened_account);
        break;
    case STEP_CLOSE_OPENED:
        error = core_close_sandbox_account(c, tok, opened_account, now);
        break;
    }
    if (error != CORE_OK) {
        fprintf(stderr, "make_corpus: step %d failed: %d\n", (int)s->kind, (int)error);
        exit(1);
    }
    engine_finish_after_commit(e, base);
}

static void finish_step(engine *e, engine_job *base) {}

#define BUY DIRECTION_BUY
#define SELL DIRECTION_SELL
#define LIMIT ORDER_TYPE_LIMIT
#define MARKET ORDER_TYPE_MARKET

static const step day[] = {
    {STEP_PLACE, "A1", "k1", NULL, BUY, LIMIT, 2, 90 * NANO, NANO},
    {STEP_PLACE, "A1", "k2", NULL, BUY, MARKET, 3, 0, NANO},
    {STEP_PLACE, "A1", "k3", NULL, SELL, LIMIT, 1, 99 * NANO, NANO},
    {STEP_CANCEL, "A1", "k1", NULL, 0, 0, 0, 0, NANO},
    {STEP_PLACE, "A1", "k4", NULL, BUY, LIMIT, 1, 95 * NANO, NANO},
    {STEP_REPLACE, "A1", "k5", "k4", 0, 0, 1, 96 * NANO, NANO},
    {STEP_PAY_IN, "S1", NULL, NULL, 0, 0, 0, 250 * NANO, NANO},
    {STEP_OPEN, NULL, NULL, NULL, 0, 0, 0, 0, NANO},
    {STEP_PLACE, "S1", "s1", NULL, BUY, LIMIT, 1, 91 * NANO, NANO},
    {STEP_CLOSE_OPENED, NULL, NULL, NULL, 0, 0, 0, 0, NANO},
    /* Past the retention: the finished orders leave the history before the next command. */
    {STEP_PLACE, "A1", "k6", NULL, BUY, MARKET, 1, 0, 70 * NANO},
};
#define DAY_STEPS (sizeof day / sizeof day[0])

static void copy_segments(const char *dir, const char *name, uint32_t segments) {
    char path[800];
    snprintf(path, sizeof path, "%s/journal-%08u.log", dir, 1u);
    size_t size;
    uint8_t *first = read_file(path, &size);
    uint8_t as_is = 0, fix_crcs = 1;
    char named[64];
    if (segments == 1) {
        write_input("journal", name, &as_is, 1, first, size);
        snprintf(named, sizeof named, "%s-fix-crcs", name);
        write_input("journal", named, &fix_crcs, 1, first, size);
    } else {
        snprintf(path, sizeof path, "%s/journal-%08u.log", dir, 2u);
        size_t second_size;
        uint8_t *second = read_file(path, &second_size);
        uint8_t *both = malloc(size + second_size);
        memcpy(both, first, size);
        memcpy(both + size, second, second_size);
        uint8_t prefix[3] = {2, (uint8_t)size, (uint8_t)(size >> 8)};
        write_input("journal", name, prefix, sizeof prefix, both, size + second_size);
        free(both);
        free(second);
    }
    free(first);
}

static void copy_snapshot(const core *c, const char *dir, const char *name) {
    if (snapshot_write(c, dir) != 0) {
        fprintf(stderr, "make_corpus: cannot write a snapshot into %s\n", dir);
        exit(1);
    }
    char path[800];
    snprintf(path, sizeof path, "%s/snapshot-%020llu.snap", dir,
             (unsigned long long)(c->next_seq - 1));
    size_t size;
    uint8_t *data = read_file(path, &size);
    uint8_t as_is = 0, fix_crc = 1;
    write_input("snapshot", name, &as_is, 1, data, size);
    char named[64];
    snprintf(named, sizeof named, "%s-fix-crc", name);
    write_input("snapshot", named, &fix_crc, 1, data, size);
    free(data);
    unlink(path);
}

/* Runs the day on the fixture's broker with a journal in `dir`, copying the segments and a
 * snapshot into the corpus on the way. The journal rolls to a second segment after `roll_after`
 * steps (0: never). */
static void run_day(const char *dir, const char *snapshot_dir, size_t roll_after) {
    static refdata rd;
    fixture_refdata(&rd);
    core_config cfg = fixture_core_config(&rd);
    engine_venue_settings settings = fixture_venue_settings();
    engine_config engine_settings = {.inbox_capacity = 4, .max_batch = 4};
    engine_venue_link *link = venue_link_create(&rd, &settings, FIXTURE_START_NS);
    static engine e;
    static journal j;
    char error[512];
    if (link == NULL || engine_init(&e, &engine_settings, &cfg, link) != 0 ||
        engine_recover(&e, &j, dir, JOURNAL_SYNC_NONE, 0, error, sizeof error) != 0) {
        fprintf(stderr, "make_corpus: cannot start a broker in %s\n", dir);
        exit(1);
    }
    venue_link_restore(link, FIXTURE_START_NS);
    int64_t now = FIXTURE_START_NS;
    for (size_t i = 0; i < DAY_STEPS; i++) {
        now += day[i].after_ns;
        day_job job = {.base = {.run = run_step,
                                .finish = finish_step,
                                .received_ns = now,
                                .wait_order = CORE_NO_ORDER,
                                .mutates = true},
                       .step = &day[i]};
        engine_job *jobs[] = {&job.base};
        if (!engine_run_batch(&e, jobs, 1, now)) {
            fprintf(stderr, "make_corpus: the journal cannot be written in %s\n", dir);
            exit(1);
        }
        char name[64];
        if (roll_after == 0 && (i == 2 || i == 6 || i + 1 == DAY_STEPS)) {
            snprintf(name, sizeof name, "day-%zu-steps", i + 1);
            copy_segments(dir, name, 1);
            copy_snapshot(&e.core, snapshot_dir, name);
        }
        if (roll_after != 0 && i + 1 == roll_after && journal_roll(&j) < 0) {
            fprintf(stderr, "make_corpus: cannot roll the journal in %s\n", dir);
            exit(1);
        }
    }
    if (roll_after != 0)
        copy_segments(dir, "day-two-segments", 2);
    engine_deinit(&e);
    journal_close(&j);
    venue_link_destroy(link);
    refdata_deinit(&rd);
}

static void journals_and_snapshots(void) {
    char dir[600], snapshot_dir[600];
    snprintf(dir, sizeof dir, "%s/journal", fixture_dir());
    snprintf(snapshot_dir, sizeof snapshot_dir, "%s/snapshots", fixture_dir());
    make_dir(snapshot_dir);
    run_day(dir, snapshot_dir, 0);
    snprintf(dir, sizeof dir, "%s/journal-rolled", fixture_dir());
    run_day(dir, snapshot_dir, 5);
}

/* ---- Configuration files -------------------------------------------------------------------- */

static const char *const small_configs[][2] = {
    {"empty", "{}"},
    {"one-of-each",
     "{\"commission_bp\": 5,\n"
     " \"instruments\": [\n"
     "  {\"type\": \"share\", \"figi\": \"F1\", \"ticker\": \"T1\", \"class_code\": \"TQBR\",\n"
     "   \"uid\": \"u1\", \"name\": \"Share\", \"lot\": 10, \"min_price_increment\": \"0.01\",\n"
     "   \"reference_price\": \"250.35\", \"price_band_bp\": 2000, \"share\": {\"issue_size\": "
     "5}},\n"
     "  {\"type\": \"bond\", \"figi\": \"F2\", \"class_code\": \"TQCB\", \"uid\": \"u2\",\n"
     "   \"name\": \"Bond\", \"min_price_increment\": \"0.1\", \"reference_price\": \"99.5\",\n"
     "   \"bond\": {\"nominal\": \"1000\", \"maturity_date\": \"2030-01-31\", \"aci_value\": "
     "\"3.2\"}},\n"
     "  {\"type\": \"future\", \"figi\": \"F3\", \"class_code\": \"SPBFUT\", \"uid\": \"u3\",\n"
     "   \"name\": \"Future\", \"min_price_increment\": \"1\", \"reference_price\": \"80000\",\n"
     "   \"future\": {\"initial_margin\": \"9000\", \"expiration_date\": \"2026-03-20\"}},\n"
     "  {\"type\": \"currency\", \"figi\": \"F4\", \"class_code\": \"CETS\", \"uid\": \"u4\",\n"
     "   \"name\": \"Dollar\", \"currency\": \"rub\", \"min_price_increment\": \"0.0025\",\n"
     "   \"reference_price\": \"90.5\", \"currency_pair\": {\"iso_currency_name\": \"usd\"}},\n"
     "  {\"type\": \"etf\", \"figi\": \"F5\", \"class_code\": \"TQTF\", \"uid\": \"u5\",\n"
     "   \"name\": \"Fund\", \"min_price_increment\": \"0.001\", \"reference_price\": \"1.234\",\n"
     "   \"etf\": {\"focus_type\": \"equity\"}}],\n"
     " \"accounts\": [{\"id\": \"A\", \"name\": \"Main\", \"cash\": {\"rub\": \"100000\", "
     "\"usd\": \"10\"}},\n"
     "  {\"id\": \"S\", \"sandbox\": true, \"opened_date\": \"2024-02-29\"}],\n"
     " \"tokens\": [{\"token\": \"t\", \"accounts\": {\"A\": \"full\", \"S\": \"read_only\"}}],\n"
     " \"rate_limits\": {\"default_per_minute\": 100, \"methods\": {\"OrdersService/PostOrder\": "
     "5},\n"
     "  \"services\": {\"SandboxService\": 50}},\n"
     " \"limits\": {\"max_orders\": 1024, \"sandbox_accounts\": 2, \"max_order_value\": "
     "{\"rub\": \"1000000\"}},\n"
     " \"venue\": {\"ack_delay_us\": 100, \"fill_delay_us\": 200, \"reject_probability_ppm\": "
     "1000,\n"
     "  \"market_maker\": {\"levels\": 2, \"walk_ticks\": 3, \"refresh_ms\": 500}}}\n"},
};

static void configs(const char *source_dir) {
    static const char *const repo_configs[] = {"demo", "real-limits"};
    for (size_t i = 0; i < sizeof repo_configs / sizeof repo_configs[0]; i++) {
        char path[800];
        snprintf(path, sizeof path, "%s/config/%s.json", source_dir, repo_configs[i]);
        size_t size;
        uint8_t *data = read_file(path, &size);
        write_input("config", repo_configs[i], NULL, 0, data, size);
        free(data);
    }
    for (size_t i = 0; i < sizeof small_configs / sizeof small_configs[0]; i++)
        write_input("config", small_configs[i][0], NULL, 0, small_configs[i][1],
                    strlen(small_configs[i][1]));
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_make_corpus SOURCE_DIR\n");
        return 2;
    }
    log_set_level(LOG_LEVEL_ERROR);
    snprintf(corpus_dir, sizeof corpus_dir, "%s/tests/fuzz/corpus", argv[1]);
    make_dir(corpus_dir);
    requests();
    journals_and_snapshots();
    configs(argv[1]);
    return 0;
}
