/* Writes the committed seed corpus of the fuzz targets, tests/fuzz/corpus/<target>/, with the
 * project's own writers: requests of every served type packed by protobuf-c, journal segments and
 * snapshots written by the engine during a short trading day on the fixture's broker, and
 * configuration files (the two of config/ and a few small ones). Each input starts with the bytes
 * its target reads first (the request type; the flags). Run by `make fuzz-corpus`:
 *
 *   fuzz_make_corpus SOURCE_DIR
 *
 * Every entry of the request table (api_request_types()) gets at least one seed, and the types
 * with paging, time or enum fields one more with edge values (`-edge`); writing fails when a type
 * has none. `fuzz_make_corpus --check SOURCE_DIR` (the test fuzz.corpus) checks that the
 * committed corpus holds an input of every type. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/request.h"
#include "admin.pb-c.h"
#include "replay.pb-c.h"
#include "engine/engine.h"
#include "engine/history_market.h"
#include "engine/snapshot.h"
#include "fixture.h"
#include "journal/journal.h"
#include "jsonpb/jsonpb.h"
#include "jsonpb_types.h"
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

/* Which entries of api_request_types() got a seed; a type added to the table without one fails
 * the corpus's writing (require_every_type_seeded) and its check (check_corpus). */
#define MAX_REQUEST_TYPES 256
static bool seeded[MAX_REQUEST_TYPES];

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
    seeded[index] = true;
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

/* ---- Edge values -----------------------------------------------------------------------------
 * The `-edge` seeds of the types with paging, time or enum fields: a period from the last second a
 * Timestamp may hold back to the first, limits and page numbers at int32's ends and an enum value
 * outside the contract, so that the fuzzer starts at the boundaries of every check. */
#define EDGE_ENUM INT32_MAX
#define EDGE_FIRST_SECOND (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define EDGE_LAST_SECOND 253402300799LL    /* 9999-12-31T23:59:59Z */

static PB(Page) edge_page(void) {
    PB(Page) page = PB_INIT(PAGE);
    page.limit = INT32_MAX;
    page.page_number = INT32_MIN;
    return page;
}

/* The uid of an asset, a brand, a strategy, a signal and a favorites group: the contract's ids
 * are UUIDs; the fixture has none of them, so these reach the lookups and miss. */
#define SEED_ASSET_UID "40d89385-a03a-4659-bf4e-d3ecba011782"
#define SEED_BRAND_UID "4b6a9b3e-53e8-4a48-a02a-38d0e1ef1c9a"
#define SEED_STRATEGY_ID "d8b7c1f0-2f5e-4c4a-9d43-5c1b0f6e2a17"
#define SEED_GROUP_ID "a1f3e2d4-5b6c-4d7e-8f90-1a2b3c4d5e6f"

static void more_market_data(void) {
    Google__Protobuf__Timestamp from = at(1700000000), to = at(1700000000 + 3600);
    PB(GetCandlesRequest) candles = PB_INIT(GET_CANDLES_REQUEST);
    candles.from = &from;
    candles.to = &to;
    candles.interval = PB_ENUM(CANDLE_INTERVAL__CANDLE_INTERVAL_1_MIN);
    candles._instrument_id_case = PB_ENUM(GET_CANDLES_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID);
    candles.instrument_id = "FIGI0";
    candles._limit_case = PB_ENUM(GET_CANDLES_REQUEST___LIMIT_LIMIT);
    candles.limit = 60;
    request("get_candles", &candles.base);

    PB(InstrumentClosePriceRequest) close_price = PB_INIT(INSTRUMENT_CLOSE_PRICE_REQUEST);
    close_price.instrument_id = "uid-0";
    PB(InstrumentClosePriceRequest) * close_prices[] = {&close_price};
    PB(GetClosePricesRequest) closes = PB_INIT(GET_CLOSE_PRICES_REQUEST);
    closes.n_instruments = 1;
    closes.instruments = close_prices;
    request("get_close_prices", &closes.base);

    char *ids[] = {"FIGI0", "uid-0"};
    PB(MarketValueType)
    values[] = {PB_ENUM(MARKET_VALUE_TYPE__INSTRUMENT_VALUE_LAST_PRICE),
                PB_ENUM(MARKET_VALUE_TYPE__INSTRUMENT_VALUE_CLOSE_PRICE)};
    PB(GetMarketValuesRequest) market_values = PB_INIT(GET_MARKET_VALUES_REQUEST);
    market_values.n_instrument_id = 2;
    market_values.instrument_id = ids;
    market_values.n_values = 2;
    market_values.values = values;
    request("get_market_values", &market_values.base);

    /* MarketDataStream: one request of each payload; the server-side stream all of them at once. */
    PB(CandleInstrument) candle = PB_INIT(CANDLE_INSTRUMENT);
    candle.instrument_id = "FIGI0";
    candle.interval = PB_ENUM(SUBSCRIPTION_INTERVAL__SUBSCRIPTION_INTERVAL_ONE_MINUTE);
    PB(CandleInstrument) * candle_list[] = {&candle};
    PB(SubscribeCandlesRequest) sub_candles = PB_INIT(SUBSCRIBE_CANDLES_REQUEST);
    sub_candles.subscription_action = PB_ENUM(SUBSCRIPTION_ACTION__SUBSCRIPTION_ACTION_SUBSCRIBE);
    sub_candles.n_instruments = 1;
    sub_candles.instruments = candle_list;
    sub_candles.waiting_close = true;
    PB(OrderBookInstrument) book = PB_INIT(ORDER_BOOK_INSTRUMENT);
    book.instrument_id = "uid-0";
    book.depth = 10;
    book.order_book_type = PB_ENUM(ORDER_BOOK_TYPE__ORDERBOOK_TYPE_EXCHANGE);
    PB(OrderBookInstrument) * book_list[] = {&book};
    PB(SubscribeOrderBookRequest) sub_books = PB_INIT(SUBSCRIBE_ORDER_BOOK_REQUEST);
    sub_books.subscription_action = PB_ENUM(SUBSCRIPTION_ACTION__SUBSCRIPTION_ACTION_SUBSCRIBE);
    sub_books.n_instruments = 1;
    sub_books.instruments = book_list;
    PB(TradeInstrument) trade = PB_INIT(TRADE_INSTRUMENT);
    trade.instrument_id = "FIGI0";
    PB(TradeInstrument) * trade_list[] = {&trade};
    PB(SubscribeTradesRequest) sub_trades = PB_INIT(SUBSCRIBE_TRADES_REQUEST);
    sub_trades.subscription_action = PB_ENUM(SUBSCRIPTION_ACTION__SUBSCRIPTION_ACTION_SUBSCRIBE);
    sub_trades.n_instruments = 1;
    sub_trades.instruments = trade_list;
    sub_trades.trade_source = PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_ALL);
    PB(InfoInstrument) info = PB_INIT(INFO_INSTRUMENT);
    info.instrument_id = "AAA_TQBR";
    PB(InfoInstrument) * info_list[] = {&info};
    PB(SubscribeInfoRequest) sub_info = PB_INIT(SUBSCRIBE_INFO_REQUEST);
    sub_info.subscription_action = PB_ENUM(SUBSCRIPTION_ACTION__SUBSCRIPTION_ACTION_SUBSCRIBE);
    sub_info.n_instruments = 1;
    sub_info.instruments = info_list;
    PB(LastPriceInstrument) last = PB_INIT(LAST_PRICE_INSTRUMENT);
    last.instrument_id = "FIGI0";
    PB(LastPriceInstrument) * last_list[] = {&last};
    PB(SubscribeLastPriceRequest) sub_last = PB_INIT(SUBSCRIBE_LAST_PRICE_REQUEST);
    sub_last.subscription_action = PB_ENUM(SUBSCRIPTION_ACTION__SUBSCRIPTION_ACTION_UNSUBSCRIBE);
    sub_last.n_instruments = 1;
    sub_last.instruments = last_list;
    PB(GetMySubscriptions) mine = PB_INIT(GET_MY_SUBSCRIPTIONS);
    PB(PingDelaySettings) ping = PB_INIT(PING_DELAY_SETTINGS);
    ping._ping_delay_ms_case = PB_ENUM(PING_DELAY_SETTINGS___PING_DELAY_MS_PING_DELAY_MS);
    ping.ping_delay_ms = 30000;

    PB(MarketDataRequest) md = PB_INIT(MARKET_DATA_REQUEST);
    md.payload_case = PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_CANDLES_REQUEST);
    md.subscribe_candles_request = &sub_candles;
    request("market_data-candles", &md.base);
    md.payload_case = PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_ORDER_BOOK_REQUEST);
    md.subscribe_order_book_request = &sub_books;
    request("market_data-order_book", &md.base);
    md.payload_case = PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_TRADES_REQUEST);
    md.subscribe_trades_request = &sub_trades;
    request("market_data-trades", &md.base);
    md.payload_case = PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_INFO_REQUEST);
    md.subscribe_info_request = &sub_info;
    request("market_data-info", &md.base);
    md.payload_case = PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_LAST_PRICE_REQUEST);
    md.subscribe_last_price_request = &sub_last;
    request("market_data-last_price", &md.base);
    md.payload_case = PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_GET_MY_SUBSCRIPTIONS);
    md.get_my_subscriptions = &mine;
    request("market_data-my_subscriptions", &md.base);
    md.payload_case = PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_PING_SETTINGS);
    md.ping_settings = &ping;
    request("market_data-ping_settings", &md.base);

    PB(MarketDataServerSideStreamRequest)
    server_side = PB_INIT(MARKET_DATA_SERVER_SIDE_STREAM_REQUEST);
    server_side.subscribe_candles_request = &sub_candles;
    server_side.subscribe_order_book_request = &sub_books;
    server_side.subscribe_trades_request = &sub_trades;
    server_side.subscribe_info_request = &sub_info;
    sub_last.subscription_action = PB_ENUM(SUBSCRIPTION_ACTION__SUBSCRIPTION_ACTION_SUBSCRIBE);
    server_side.subscribe_last_price_request = &sub_last;
    server_side.ping_settings = &ping;
    request("market_data_server_side_stream", &server_side.base);

    /* OperationsStreamService */
    char *accounts[] = {"A1", "S1"};
    PB(PortfolioStreamRequest) portfolio = PB_INIT(PORTFOLIO_STREAM_REQUEST);
    portfolio.n_accounts = 2;
    portfolio.accounts = accounts;
    portfolio.ping_settings = &ping;
    request("portfolio_stream", &portfolio.base);
    PB(PositionsStreamRequest) positions = PB_INIT(POSITIONS_STREAM_REQUEST);
    positions.n_accounts = 1;
    positions.accounts = accounts;
    positions.with_initial_positions = true;
    request("positions_stream", &positions.base);
}

static void stop_orders(void) {
    PB(Quotation) price = quotation(95, 500000000), stop_price = quotation(96, 0);
    PB(PostStopOrderRequest) post = PB_INIT(POST_STOP_ORDER_REQUEST);
    post.quantity = 1;
    post.price = &price;
    post.stop_price = &stop_price;
    post.direction = PB_ENUM(STOP_ORDER_DIRECTION__STOP_ORDER_DIRECTION_BUY);
    post.account_id = "A1";
    post.expiration_type =
        PB_ENUM(STOP_ORDER_EXPIRATION_TYPE__STOP_ORDER_EXPIRATION_TYPE_GOOD_TILL_CANCEL);
    post.stop_order_type = PB_ENUM(STOP_ORDER_TYPE__STOP_ORDER_TYPE_STOP_LIMIT);
    post.instrument_id = "FIGI0";
    post.exchange_order_type = PB_ENUM(EXCHANGE_ORDER_TYPE__EXCHANGE_ORDER_TYPE_LIMIT);
    post.order_id = "3b1f6c2e-9a4d-4e8b-b7c5-0d2e1f3a4b5c";
    request("post_stop_order-stop_limit", &post.base);

    /* A trailing take-profit until a date on the sandbox account. */
    Google__Protobuf__Timestamp expire = at(1700000000 + 86400);
    PB(Quotation) indent = quotation(0, 500000000), spread = quotation(1, 0);
    PB(PostStopOrderRequest__TrailingData)
    trailing = PB_INIT(POST_STOP_ORDER_REQUEST__TRAILING_DATA);
    trailing.indent = &indent;
    trailing.indent_type = PB_ENUM(TRAILING_VALUE_TYPE__TRAILING_VALUE_RELATIVE);
    trailing.spread = &spread;
    trailing.spread_type = PB_ENUM(TRAILING_VALUE_TYPE__TRAILING_VALUE_ABSOLUTE);
    post.price = NULL;
    post.direction = PB_ENUM(STOP_ORDER_DIRECTION__STOP_ORDER_DIRECTION_SELL);
    post.account_id = "S1";
    post.expiration_type =
        PB_ENUM(STOP_ORDER_EXPIRATION_TYPE__STOP_ORDER_EXPIRATION_TYPE_GOOD_TILL_DATE);
    post.expire_date = &expire;
    post.stop_order_type = PB_ENUM(STOP_ORDER_TYPE__STOP_ORDER_TYPE_TAKE_PROFIT);
    post.take_profit_type = PB_ENUM(TAKE_PROFIT_TYPE__TAKE_PROFIT_TYPE_TRAILING);
    post.trailing_data = &trailing;
    post.exchange_order_type = PB_ENUM(EXCHANGE_ORDER_TYPE__EXCHANGE_ORDER_TYPE_MARKET);
    post.order_id = "7c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f";
    request("post_stop_order-trailing", &post.base);
    /* The edge: quantity and prices at int64's ends, enums outside the contract, a date in the
     * past. */
    PB(Quotation) huge = quotation(INT64_MAX, 999999999), tiny = quotation(INT64_MIN, -999999999);
    post.quantity = INT64_MAX;
    post.price = &huge;
    post.stop_price = &tiny;
    post.direction = EDGE_ENUM;
    post.expiration_type = EDGE_ENUM;
    post.stop_order_type = EDGE_ENUM;
    post.take_profit_type = EDGE_ENUM;
    post.exchange_order_type = EDGE_ENUM;
    post.price_type = EDGE_ENUM;
    Google__Protobuf__Timestamp early = at(EDGE_FIRST_SECOND);
    post.expire_date = &early;
    trailing.indent_type = EDGE_ENUM;
    trailing.spread_type = EDGE_ENUM;
    request("post_stop_order-edge", &post.base);

    Google__Protobuf__Timestamp from = at(1600000000), to = at(1800000000);
    PB(GetStopOrdersRequest) list = PB_INIT(GET_STOP_ORDERS_REQUEST);
    list.account_id = "A1";
    list.status = PB_ENUM(STOP_ORDER_STATUS_OPTION__STOP_ORDER_STATUS_ACTIVE);
    list.from = &from;
    list.to = &to;
    request("get_stop_orders", &list.base);
    PB(CancelStopOrderRequest) cancel = PB_INIT(CANCEL_STOP_ORDER_REQUEST);
    cancel.account_id = "A1";
    cancel.stop_order_id = "3b1f6c2e-9a4d-4e8b-b7c5-0d2e1f3a4b5c";
    request("cancel_stop_order", &cancel.base);
}

/* The payment calendar over a year, for the fixture's share (its ids in each of their forms). */
static void calendar(void) {
    Google__Protobuf__Timestamp from = at(1700000000), to = at(1700000000 + 365 * 86400);
    PB(GetBondCouponsRequest) coupons = PB_INIT(GET_BOND_COUPONS_REQUEST);
    coupons.instrument_id = "FIGI0";
    coupons.from = &from;
    coupons.to = &to;
    request("get_bond_coupons", &coupons.base);
    PB(GetBondEventsRequest) events = PB_INIT(GET_BOND_EVENTS_REQUEST);
    events.instrument_id = "uid-0";
    events.from = &from;
    events.to = &to;
    events.type = PB_ENUM(GET_BOND_EVENTS_REQUEST__EVENT_TYPE__EVENT_TYPE_CPN);
    request("get_bond_events", &events.base);
    PB(GetDividendsRequest) dividends = PB_INIT(GET_DIVIDENDS_REQUEST);
    dividends.instrument_id = "AAA_TQBR";
    dividends.from = &from;
    dividends.to = &to;
    request("get_dividends", &dividends.base);
    PB(GetAccruedInterestsRequest) interests = PB_INIT(GET_ACCRUED_INTERESTS_REQUEST);
    interests.instrument_id = "uid-0";
    interests.from = &from;
    interests.to = &to;
    request("get_accrued_interests", &interests.base);
}

static void assets_and_signals(void) {
    PB(AssetsRequest) assets = PB_INIT(ASSETS_REQUEST);
    assets._instrument_type_case = PB_ENUM(ASSETS_REQUEST___INSTRUMENT_TYPE_INSTRUMENT_TYPE);
    assets.instrument_type = PB_ENUM(INSTRUMENT_TYPE__INSTRUMENT_TYPE_SHARE);
    request("assets", &assets.base);
    PB(AssetRequest) asset = PB_INIT(ASSET_REQUEST);
    asset.id = SEED_ASSET_UID;
    request("asset_by", &asset.base);
    PB(GetCountriesRequest) countries = PB_INIT(GET_COUNTRIES_REQUEST);
    request("get_countries", &countries.base);
    PB(Page) page = PB_INIT(PAGE);
    page.limit = 10;
    page.page_number = 1;
    PB(GetBrandsRequest) brands = PB_INIT(GET_BRANDS_REQUEST);
    brands.paging = &page;
    request("get_brands", &brands.base);
    PB(GetBrandRequest) brand = PB_INIT(GET_BRAND_REQUEST);
    brand.id = SEED_BRAND_UID;
    request("get_brand_by", &brand.base);
    char *asset_ids[] = {SEED_ASSET_UID};
    PB(GetAssetFundamentalsRequest) fundamentals = PB_INIT(GET_ASSET_FUNDAMENTALS_REQUEST);
    fundamentals.n_assets = 1;
    fundamentals.assets = asset_ids;
    request("get_asset_fundamentals", &fundamentals.base);
    Google__Protobuf__Timestamp from = at(1600000000), to = at(1700000000);
    PB(GetAssetReportsRequest) reports = PB_INIT(GET_ASSET_REPORTS_REQUEST);
    reports.instrument_id = "uid-0";
    reports.from = &from;
    reports.to = &to;
    request("get_asset_reports", &reports.base);
    PB(GetConsensusForecastsRequest) consensus = PB_INIT(GET_CONSENSUS_FORECASTS_REQUEST);
    consensus.paging = &page;
    request("get_consensus_forecasts", &consensus.base);
    PB(GetForecastRequest) forecast = PB_INIT(GET_FORECAST_REQUEST);
    forecast.instrument_id = "FIGI0";
    request("get_forecast_by", &forecast.base);
    char *instrument_ids[] = {"FIGI0", "uid-0"};
    PB(RiskRatesRequest) risk = PB_INIT(RISK_RATES_REQUEST);
    risk.n_instrument_id = 2;
    risk.instrument_id = instrument_ids;
    request("risk_rates", &risk.base);
    PB(GetInsiderDealsRequest) insiders = PB_INIT(GET_INSIDER_DEALS_REQUEST);
    insiders.instrument_id = "uid-0";
    insiders.limit = 10;
    request("get_insider_deals", &insiders.base);

    PB(GetStrategiesRequest) strategies = PB_INIT(GET_STRATEGIES_REQUEST);
    strategies._strategy_id_case = PB_ENUM(GET_STRATEGIES_REQUEST___STRATEGY_ID_STRATEGY_ID);
    strategies.strategy_id = SEED_STRATEGY_ID;
    request("get_strategies", &strategies.base);
    PB(GetSignalsRequest) signals = PB_INIT(GET_SIGNALS_REQUEST);
    signals._strategy_id_case = PB_ENUM(GET_SIGNALS_REQUEST___STRATEGY_ID_STRATEGY_ID);
    signals.strategy_id = SEED_STRATEGY_ID;
    signals._instrument_uid_case = PB_ENUM(GET_SIGNALS_REQUEST___INSTRUMENT_UID_INSTRUMENT_UID);
    signals.instrument_uid = "uid-0";
    signals._direction_case = PB_ENUM(GET_SIGNALS_REQUEST___DIRECTION_DIRECTION);
    signals.direction = PB_ENUM(SIGNAL_DIRECTION__SIGNAL_DIRECTION_BUY);
    signals._active_case = PB_ENUM(GET_SIGNALS_REQUEST___ACTIVE_ACTIVE);
    signals.active = PB_ENUM(SIGNAL_STATE__SIGNAL_STATE_ALL);
    signals.from = &from;
    signals.to = &to;
    signals.paging = &page;
    request("get_signals", &signals.base);
}

static void favorites_and_universe(void) {
    PB(GetFavoritesRequest) get = PB_INIT(GET_FAVORITES_REQUEST);
    request("get_favorites", &get.base);
    get._group_id_case = PB_ENUM(GET_FAVORITES_REQUEST___GROUP_ID_GROUP_ID);
    get.group_id = SEED_GROUP_ID;
    request("get_favorites-group", &get.base);
    PB(EditFavoritesRequestInstrument) by_figi = PB_INIT(EDIT_FAVORITES_REQUEST_INSTRUMENT);
    by_figi.instrument_id = "FIGI0";
    PB(EditFavoritesRequestInstrument) by_uid = PB_INIT(EDIT_FAVORITES_REQUEST_INSTRUMENT);
    by_uid.instrument_id = "uid-0";
    PB(EditFavoritesRequestInstrument) * favorites[] = {&by_figi, &by_uid};
    PB(EditFavoritesRequest) edit = PB_INIT(EDIT_FAVORITES_REQUEST);
    edit.n_instruments = 2;
    edit.instruments = favorites;
    edit.action_type = PB_ENUM(EDIT_FAVORITES_ACTION_TYPE__EDIT_FAVORITES_ACTION_TYPE_ADD);
    request("edit_favorites-add", &edit.base);
    edit.n_instruments = 1;
    edit.action_type = PB_ENUM(EDIT_FAVORITES_ACTION_TYPE__EDIT_FAVORITES_ACTION_TYPE_DEL);
    edit._group_id_case = PB_ENUM(EDIT_FAVORITES_REQUEST___GROUP_ID_GROUP_ID);
    edit.group_id = SEED_GROUP_ID;
    request("edit_favorites-del-group", &edit.base);
    PB(CreateFavoriteGroupRequest) create = PB_INIT(CREATE_FAVORITE_GROUP_REQUEST);
    create.group_name = "Дивидендные";
    create.group_color = "ff8800";
    create._note_case = PB_ENUM(CREATE_FAVORITE_GROUP_REQUEST___NOTE_NOTE);
    create.note = "long term";
    request("create_favorite_group", &create.base);
    PB(DeleteFavoriteGroupRequest) delete_group = PB_INIT(DELETE_FAVORITE_GROUP_REQUEST);
    delete_group.group_id = SEED_GROUP_ID;
    request("delete_favorite_group", &delete_group.base);
    char *instrument_ids[] = {"uid-0"}, *excluded[] = {SEED_GROUP_ID};
    PB(GetFavoriteGroupsRequest) groups = PB_INIT(GET_FAVORITE_GROUPS_REQUEST);
    groups.n_instrument_id = 1;
    groups.instrument_id = instrument_ids;
    groups.n_excluded_group_id = 1;
    groups.excluded_group_id = excluded;
    request("get_favorite_groups", &groups.base);

    PB(FilterOptionsRequest) options = PB_INIT(FILTER_OPTIONS_REQUEST);
    options._basic_asset_uid_case =
        PB_ENUM(FILTER_OPTIONS_REQUEST___BASIC_ASSET_UID_BASIC_ASSET_UID);
    options.basic_asset_uid = SEED_ASSET_UID;
    request("filter_options", &options.base);
    PB(GetFuturesMarginRequest) margin = PB_INIT(GET_FUTURES_MARGIN_REQUEST);
    margin.instrument_id = "uid-0";
    request("get_futures_margin", &margin.base);
    PB(IndicativesRequest) indicatives = PB_INIT(INDICATIVES_REQUEST);
    request("indicatives", &indicatives.base);
}

/* tinvestd.replay.v1.ReplayService: a step by milliseconds, one to a time, and both (refused). */
static void replay_control(void) {
    Tinvestd__Replay__V1__GetReplayStateRequest state =
        TINVESTD__REPLAY__V1__GET_REPLAY_STATE_REQUEST__INIT;
    request("replay_state", &state.base);
    Tinvestd__Replay__V1__AdvanceRequest advance = TINVESTD__REPLAY__V1__ADVANCE_REQUEST__INIT;
    advance.by_ms = 60000;
    request("replay_advance", &advance.base);
    Google__Protobuf__Timestamp to = at(1704265200);
    advance.by_ms = 0;
    advance.to = &to;
    request("replay_advance-to", &advance.base);
    advance.by_ms = INT64_MAX;
    request("replay_advance-edge", &advance.base);
    Tinvestd__Replay__V1__WriteReportRequest report =
        TINVESTD__REPLAY__V1__WRITE_REPORT_REQUEST__INIT;
    request("replay_write_report", &report.base);
}

/* tinvestd.admin.v1.AdminService: each request, and values at and past their bounds. */
static void admin_control(void) {
    Tinvestd__Admin__V1__GetStatsRequest stats = TINVESTD__ADMIN__V1__GET_STATS_REQUEST__INIT;
    request("admin_stats", &stats.base);
    Tinvestd__Admin__V1__InstrumentRequest halt = TINVESTD__ADMIN__V1__INSTRUMENT_REQUEST__INIT;
    halt.instrument_id = "uid-0";
    request("admin_halt", &halt.base);
    halt.instrument_id = "FIGI0";
    request("admin_halt-figi", &halt.base);
    Tinvestd__Admin__V1__SetExchangeFaultsRequest faults =
        TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST__INIT;
    request("admin_faults-read", &faults.base);
    faults._ack_delay_us_case =
        TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___ACK_DELAY_US_ACK_DELAY_US;
    faults.ack_delay_us = 60000000;
    faults._fill_delay_us_case =
        TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___FILL_DELAY_US_FILL_DELAY_US;
    faults.fill_delay_us = 1000;
    faults._reject_ppm_case =
        TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___REJECT_PPM_REJECT_PPM;
    faults.reject_ppm = 1000000;
    request("admin_faults", &faults.base);
    faults.reject_ppm = INT64_MIN;
    request("admin_faults-edge", &faults.base);
    Tinvestd__Admin__V1__MovePriceRequest move = TINVESTD__ADMIN__V1__MOVE_PRICE_REQUEST__INIT;
    move.instrument_id = "uid-0";
    move.price = "101.25";
    request("admin_price", &move.base);
    move.price = "";
    move.walk = 1000;
    request("admin_price-walk", &move.base);
    move.price = "99999999999.999999999";
    request("admin_price-edge", &move.base);
    Tinvestd__Admin__V1__TakeSnapshotRequest snapshot =
        TINVESTD__ADMIN__V1__TAKE_SNAPSHOT_REQUEST__INIT;
    request("admin_snapshot", &snapshot.base);
    Tinvestd__Admin__V1__SetReplaySpeedRequest speed =
        TINVESTD__ADMIN__V1__SET_REPLAY_SPEED_REQUEST__INIT;
    speed.speed = "60";
    request("admin_speed", &speed.base);
    speed.speed = "step";
    request("admin_speed-step", &speed.base);
    speed.speed = "1000000.000";
    request("admin_speed-edge", &speed.base);
}

static void edge_values(void) {
    Google__Protobuf__Timestamp late = at(EDGE_LAST_SECOND), early = at(EDGE_FIRST_SECOND);
    late.nanos = 999999999;

    PB(GetAccountsRequest) accounts = PB_INIT(GET_ACCOUNTS_REQUEST);
    accounts._status_case = PB_ENUM(GET_ACCOUNTS_REQUEST___STATUS_STATUS);
    accounts.status = EDGE_ENUM;
    request("get_accounts-edge", &accounts.base);
    PB(InstrumentsRequest) all = PB_INIT(INSTRUMENTS_REQUEST);
    all._instrument_status_case =
        PB_ENUM(INSTRUMENTS_REQUEST___INSTRUMENT_STATUS_INSTRUMENT_STATUS);
    all.instrument_status = EDGE_ENUM;
    request("instruments-edge", &all.base);
    PB(TradingSchedulesRequest) schedules = PB_INIT(TRADING_SCHEDULES_REQUEST);
    schedules.from = &late;
    schedules.to = &early;
    request("trading_schedules-edge", &schedules.base);

    PB(OperationsRequest) operations = PB_INIT(OPERATIONS_REQUEST);
    operations.account_id = "A1";
    operations.from = &late;
    operations.to = &early;
    operations._state_case = PB_ENUM(OPERATIONS_REQUEST___STATE_STATE);
    operations.state = EDGE_ENUM;
    request("get_operations-edge", &operations.base);
    PB(GetOperationsByCursorRequest) cursor = PB_INIT(GET_OPERATIONS_BY_CURSOR_REQUEST);
    cursor.account_id = "A1";
    cursor._limit_case = PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___LIMIT_LIMIT);
    cursor.limit = INT32_MIN;
    cursor._cursor_case = PB_ENUM(GET_OPERATIONS_BY_CURSOR_REQUEST___CURSOR_CURSOR);
    cursor.cursor = "18446744073709551616";
    cursor.from = &early;
    cursor.to = &late;
    PB(OperationType) types[] = {EDGE_ENUM, PB_ENUM(OPERATION_TYPE__OPERATION_TYPE_UNSPECIFIED)};
    cursor.operation_types = types;
    cursor.n_operation_types = 2;
    request("get_operations_by_cursor-edge", &cursor.base);

    PB(GetOrdersRequest) list = PB_INIT(GET_ORDERS_REQUEST);
    list.account_id = "A1";
    PB(GetOrdersRequest__GetOrdersRequestFilters)
    filters = PB_INIT(GET_ORDERS_REQUEST__GET_ORDERS_REQUEST_FILTERS);
    PB(OrderExecutionReportStatus) statuses[] = {EDGE_ENUM};
    filters.from = &late;
    filters.to = &early;
    filters.n_execution_status = 1;
    filters.execution_status = statuses;
    list.advanced_filters = &filters;
    request("get_orders-edge", &list.base);
    PB(GetLastTradesRequest) trades = PB_INIT(GET_LAST_TRADES_REQUEST);
    trades.from = &early;
    trades.to = &late;
    trades._instrument_id_case = PB_ENUM(GET_LAST_TRADES_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID);
    trades.instrument_id = "FIGI0";
    trades.trade_source = EDGE_ENUM;
    request("get_last_trades-edge", &trades.base);

    PB(GetCandlesRequest) candles = PB_INIT(GET_CANDLES_REQUEST);
    candles.from = &early;
    candles.to = &late;
    candles.interval = EDGE_ENUM;
    candles._instrument_id_case = PB_ENUM(GET_CANDLES_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID);
    candles.instrument_id = "uid-0";
    candles._limit_case = PB_ENUM(GET_CANDLES_REQUEST___LIMIT_LIMIT);
    candles.limit = INT32_MAX;
    candles._candle_source_type_case =
        PB_ENUM(GET_CANDLES_REQUEST___CANDLE_SOURCE_TYPE_CANDLE_SOURCE_TYPE);
    candles.candle_source_type = EDGE_ENUM;
    request("get_candles-edge", &candles.base);

    PB(GetStopOrdersRequest) stop_orders = PB_INIT(GET_STOP_ORDERS_REQUEST);
    stop_orders.account_id = "A1";
    stop_orders.status = EDGE_ENUM;
    stop_orders.from = &late;
    stop_orders.to = &early;
    request("get_stop_orders-edge", &stop_orders.base);

    PB(GetBondEventsRequest) events = PB_INIT(GET_BOND_EVENTS_REQUEST);
    events.instrument_id = "uid-0";
    events.from = &late;
    events.to = &early;
    events.type = EDGE_ENUM;
    request("get_bond_events-edge", &events.base);
    PB(GetDividendsRequest) dividends = PB_INIT(GET_DIVIDENDS_REQUEST);
    dividends.instrument_id = "FIGI0";
    dividends.from = &early;
    dividends.to = &late;
    request("get_dividends-edge", &dividends.base);

    PB(AssetsRequest) assets = PB_INIT(ASSETS_REQUEST);
    assets._instrument_type_case = PB_ENUM(ASSETS_REQUEST___INSTRUMENT_TYPE_INSTRUMENT_TYPE);
    assets.instrument_type = EDGE_ENUM;
    assets._instrument_status_case = PB_ENUM(ASSETS_REQUEST___INSTRUMENT_STATUS_INSTRUMENT_STATUS);
    assets.instrument_status = EDGE_ENUM;
    request("assets-edge", &assets.base);
    PB(Page) page = edge_page();
    PB(GetBrandsRequest) brands = PB_INIT(GET_BRANDS_REQUEST);
    brands.paging = &page;
    request("get_brands-edge", &brands.base);
    PB(GetConsensusForecastsRequest) forecasts = PB_INIT(GET_CONSENSUS_FORECASTS_REQUEST);
    forecasts.paging = &page;
    request("get_consensus_forecasts-edge", &forecasts.base);
    PB(GetAssetReportsRequest) reports = PB_INIT(GET_ASSET_REPORTS_REQUEST);
    reports.instrument_id = "uid-0";
    reports.from = &late;
    reports.to = &early;
    request("get_asset_reports-edge", &reports.base);
    PB(GetInsiderDealsRequest) insiders = PB_INIT(GET_INSIDER_DEALS_REQUEST);
    insiders.instrument_id = "uid-0";
    insiders.limit = INT32_MIN;
    insiders._next_cursor_case = PB_ENUM(GET_INSIDER_DEALS_REQUEST___NEXT_CURSOR_NEXT_CURSOR);
    insiders.next_cursor = "";
    request("get_insider_deals-edge", &insiders.base);
    PB(GetSignalsRequest) signals = PB_INIT(GET_SIGNALS_REQUEST);
    signals._strategy_type_case = PB_ENUM(GET_SIGNALS_REQUEST___STRATEGY_TYPE_STRATEGY_TYPE);
    signals.strategy_type = EDGE_ENUM;
    signals._direction_case = PB_ENUM(GET_SIGNALS_REQUEST___DIRECTION_DIRECTION);
    signals.direction = EDGE_ENUM;
    signals._active_case = PB_ENUM(GET_SIGNALS_REQUEST___ACTIVE_ACTIVE);
    signals.active = EDGE_ENUM;
    signals.from = &late;
    signals.to = &early;
    signals.paging = &page;
    request("get_signals-edge", &signals.base);

    PB(EditFavoritesRequestInstrument) favorite = PB_INIT(EDIT_FAVORITES_REQUEST_INSTRUMENT);
    favorite.instrument_id = "uid-0";
    PB(EditFavoritesRequestInstrument) * favorites[] = {&favorite};
    PB(EditFavoritesRequest) edit = PB_INIT(EDIT_FAVORITES_REQUEST);
    edit.n_instruments = 1;
    edit.instruments = favorites;
    edit.action_type = EDGE_ENUM;
    request("edit_favorites-edge", &edit.base);

    PB(PingDelaySettings) ping = PB_INIT(PING_DELAY_SETTINGS);
    ping._ping_delay_ms_case = PB_ENUM(PING_DELAY_SETTINGS___PING_DELAY_MS_PING_DELAY_MS);
    ping.ping_delay_ms = INT32_MIN;
    PB(MarketDataRequest) market = PB_INIT(MARKET_DATA_REQUEST);
    market.payload_case = PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_PING_SETTINGS);
    market.ping_settings = &ping;
    request("market_data-ping-edge", &market.base);
    PB(PortfolioStreamRequest) portfolio = PB_INIT(PORTFOLIO_STREAM_REQUEST);
    portfolio.ping_settings = &ping;
    request("portfolio_stream-edge", &portfolio.base);
}

/* Every entry of the request table has a seed: a type added later without one is named here. */
static void require_every_type_seeded(void) {
    size_t count;
    const api_request_type *types = api_request_types(&count);
    bool missing = count > MAX_REQUEST_TYPES;
    for (size_t i = 0; i < count && i < MAX_REQUEST_TYPES; i++)
        if (!seeded[i]) {
            fprintf(stderr, "make_corpus: no seed for request type %zu (%s)\n", i,
                    types[i].descriptor->name);
            missing = true;
        }
    if (missing)
        exit(1);
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
    more_market_data();
    stop_orders();
    calendar();
    assets_and_signals();
    favorites_and_universe();
    replay_control();
    admin_control();
    edge_values();
    require_every_type_seeded();
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
    STEP_HALT, /* the operator halts (lots 1) or resumes (lots 0) FIGI0 */
} step_kind;

typedef struct step {
    step_kind kind;
    const char *account, *key, *other_key;
    int32_t direction, type;
    int64_t lots, price_nano;
    int64_t after_ns; /* since the previous step */
    const char *figi; /* STEP_PLACE: the instrument (NULL: FIGI0) */
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
                                  .instrument_id = s->figi != NULL ? s->figi : "FIGI0",
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
    case STEP_HALT: {
        bool changed;
        venue_link_set_halt(engine_venue(e), 0, s->lots != 0, now, &changed);
        error = changed ? CORE_OK : CORE_ERR_NOT_TRADING;
        break;
    }
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
    {STEP_PLACE, "A1", "k1", NULL, BUY, LIMIT, 2, 90 * NANO, NANO, NULL},
    {STEP_PLACE, "A1", "k2", NULL, BUY, MARKET, 3, 0, NANO, NULL},
    {STEP_PLACE, "A1", "k3", NULL, SELL, LIMIT, 1, 99 * NANO, NANO, NULL},
    {STEP_CANCEL, "A1", "k1", NULL, 0, 0, 0, 0, NANO, NULL},
    {STEP_PLACE, "A1", "k4", NULL, BUY, LIMIT, 1, 95 * NANO, NANO, NULL},
    {STEP_REPLACE, "A1", "k5", "k4", 0, 0, 1, 96 * NANO, NANO, NULL},
    /* The snapshot after seven steps holds the halt. */
    {STEP_HALT, NULL, NULL, NULL, 0, 0, 1, 0, NANO, NULL},
    {STEP_PAY_IN, "S1", NULL, NULL, 0, 0, 0, 250 * NANO, NANO, NULL},
    {STEP_OPEN, NULL, NULL, NULL, 0, 0, 0, 0, NANO, NULL},
    {STEP_HALT, NULL, NULL, NULL, 0, 0, 0, 0, NANO, NULL},
    /* Margin: a short of the share, a future bought and closed in part (the first clearing
     * passed before, with nothing to settle: recorded alone); the second clearing settles the
     * future, and charges the day's fee on the short, before the last step. */
    {STEP_PLACE, "M1", "m1", NULL, SELL, MARKET, 5, 0, NANO, NULL},
    {STEP_PLACE, "M1", "m2", NULL, BUY, MARKET, 2, 0, NANO, "FUT0"},
    {STEP_PLACE, "M1", "m3", NULL, SELL, MARKET, 1, 0, 2 * NANO, "FUT0"},
    {STEP_PLACE, "S1", "s1", NULL, BUY, LIMIT, 1, 91 * NANO, NANO, NULL},
    {STEP_CLOSE_OPENED, NULL, NULL, NULL, 0, 0, 0, 0, NANO, NULL},
    /* Past the retention: the finished orders leave the history before the next command. */
    {STEP_PLACE, "A1", "k6", NULL, BUY, MARKET, 1, 0, 70 * NANO, NULL},
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

/* The day replayed against history (docs/BACKTEST.md): two minutes of the share's candles from
 * the first whole minute after the start, so the journal holds market prints among the orders. */
#define REPLAY_MINUTE_S (FIXTURE_START_NS / NANO / 60 * 60 + 60)
static const history_candle replay_candles[] = {
    {REPLAY_MINUTE_S, 100 * NANO, 101 * NANO, 99 * NANO, 100 * NANO + NANO / 2, 7},
    {REPLAY_MINUTE_S + 60, 100 * NANO, 100 * NANO, 98 * NANO, 98 * NANO, 1},
};

/* Runs the day on the fixture's broker with a journal in `dir`, copying the segments and a
 * snapshot into the corpus on the way. The journal rolls to a second segment after `roll_after`
 * steps (0: never). With `replay`, the market follows replay_candles and the segments are copied
 * once, at the end, as "replay-day". */
static void run_day(const char *dir, const char *snapshot_dir, size_t roll_after, bool replay) {
    static refdata rd;
    fixture_refdata(&rd);
    core_config cfg = fixture_core_config(&rd);
    engine_venue_settings settings = fixture_venue_settings();
    settings.market_follows_history = replay;
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
    history_market_source source = {.instrument = 0, .candles = replay_candles, .count = 2};
    history_market *market =
        replay ? history_market_create(&source, 1, FIXTURE_START_NS, FIXTURE_START_NS + 3600 * NANO)
               : NULL;
    if (replay)
        venue_link_set_history(link, market);
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
        if (replay) {
            if (i + 1 == DAY_STEPS) {
                copy_segments(dir, "replay-day", 1);
                copy_snapshot(&e.core, snapshot_dir, "replay-day");
            }
            continue;
        }
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
    history_market_destroy(market);
    refdata_deinit(&rd);
}

static void journals_and_snapshots(void) {
    char dir[600], snapshot_dir[600];
    snprintf(dir, sizeof dir, "%s/journal", fixture_dir());
    snprintf(snapshot_dir, sizeof snapshot_dir, "%s/snapshots", fixture_dir());
    make_dir(snapshot_dir);
    run_day(dir, snapshot_dir, 0, false);
    snprintf(dir, sizeof dir, "%s/journal-rolled", fixture_dir());
    run_day(dir, snapshot_dir, 5, false);
    snprintf(dir, sizeof dir, "%s/journal-replay", fixture_dir());
    run_day(dir, snapshot_dir, 0, true);
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

/* ---- The committed corpus's check (the test fuzz.corpus) ------------------------------------- */

/* Every entry of the request table has an input in tests/fuzz/corpus/request that decodes as its
 * type: fails naming the types without one (a type added to the table and the corpus not
 * written again). */
/* ---- JSON texts ------------------------------------------------------------------------------ */

/* Every singular message field given an empty message, every repeated one one element, down to
 * `depth` levels (the first member of each oneof only), so that a seed names nested fields too. */
static void jsonpb_fill(ProtobufCMessage *m, int depth) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields && depth > 0; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        char *member = (char *)m + f->offset;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t *which = (uint32_t *)((char *)m + f->quantifier_offset);
            if (*which != 0)
                continue;
            *which = f->id;
        }
        const ProtobufCMessageDescriptor *sub = f->descriptor;
        ProtobufCMessage *child = malloc(sub->sizeof_message);
        if (child == NULL)
            exit(1);
        protobuf_c_message_init(sub, child);
        jsonpb_fill(child, depth - 1);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            ProtobufCMessage **array = malloc(sizeof *array);
            if (array == NULL)
                exit(1);
            array[0] = child;
            *(size_t *)((char *)m + f->quantifier_offset) = 1;
            *(ProtobufCMessage ***)member = array;
        } else {
            *(ProtobufCMessage **)member = child;
        }
    }
}

/* One text of every message type (its defaults written, two levels of messages), in the JSON
 * names; the first two bytes pick the type as tests/fuzz/fuzz_jsonpb.c reads them. */
static void jsonpb_texts(void) {
    static const ProtobufCMessageDescriptor *types[JSONPB_TYPES_MAX];
    size_t count = jsonpb_types_collect(types);
    for (size_t i = 0; i < count; i++) {
        ProtobufCMessage *m = malloc(types[i]->sizeof_message);
        if (m == NULL)
            exit(1);
        protobuf_c_message_init(types[i], m);
        jsonpb_fill(m, 2);
        jsonpb_error err;
        size_t len;
        char *text = jsonpb_encode(m, i % 2 ? JSONPB_PROTO_NAMES : 0, &len, &err);
        if (text == NULL) {
            fprintf(stderr, "jsonpb seed of %s: %s\n", types[i]->name, err.text);
            exit(1);
        }
        uint8_t prefix[2] = {(uint8_t)(i << 1), (uint8_t)(i >> 7)};
        char name[300];
        snprintf(name, sizeof name, "type-%s", types[i]->name);
        write_input("jsonpb", name, prefix, sizeof prefix, text, len);
        free(text);
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

static int check_corpus(void) {
    size_t count;
    const api_request_type *types = api_request_types(&count);
    char dir_path[800];
    snprintf(dir_path, sizeof dir_path, "%s/request", corpus_dir);
    DIR *dir = opendir(dir_path);
    if (dir == NULL || count > MAX_REQUEST_TYPES) {
        perror(dir_path);
        return 1;
    }
    bool covered[MAX_REQUEST_TYPES] = {false};
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir_path, entry->d_name);
        size_t size;
        uint8_t *data = read_file(path, &size);
        if (size > 0 && data[0] < count) {
            api_validate_error error;
            ProtobufCMessage *msg =
                api_request_decode(types[data[0]].descriptor, data + 1, size - 1, &error);
            if (msg != NULL) {
                covered[data[0]] = true;
                protobuf_c_message_free_unpacked(msg, NULL);
            }
        }
        free(data);
    }
    closedir(dir);
    int failed = 0;
    for (size_t i = 0; i < count; i++)
        if (!covered[i]) {
            fprintf(stderr,
                    "fuzz corpus: no input of request type %zu (%s) in %s: make fuzz-corpus\n", i,
                    types[i].descriptor->name, dir_path);
            failed = 1;
        }
    if (!failed)
        printf("fuzz corpus: every one of the %zu request types has an input\n", count);
    return failed;
}

int main(int argc, char **argv) {
    bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
    if (argc != 2 && !check) {
        fprintf(stderr, "usage: fuzz_make_corpus [--check] SOURCE_DIR\n");
        return 2;
    }
    log_set_level(LOG_LEVEL_ERROR);
    snprintf(corpus_dir, sizeof corpus_dir, "%s/tests/fuzz/corpus", argv[argc - 1]);
    if (check)
        return check_corpus();
    make_dir(corpus_dir);
    requests();
    journals_and_snapshots();
    configs(argv[1]);
    jsonpb_texts();
    return 0;
}
