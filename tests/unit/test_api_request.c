/* A request's way from its bytes to what its handler acts on (api/request.h), without a server:
 * every served method's request type has its checks listed (so the fuzz target reaches them
 * all), decoding answers what the server answers, and the checks give the codes the handlers
 * send. */
#include <stdlib.h>
#include <string.h>

#include "api/request.h"
#include "api/services.h"
#include "check.h"
#include "one_share.h"

static refdata rd;

static void test_every_served_method_has_its_checks(void) {
    size_t count = 0;
    api_method *methods = api_all_methods(&count);
    CHECK(methods != NULL && count > 40);
    for (size_t i = 0; i < count; i++) {
        if (methods[i].public_access)
            continue; /* health and reflection: gRPC's protocols, no contract request */
        const api_request_type *type = api_request_type_of(methods[i].request_type);
        if (type == NULL)
            fprintf(stderr, "no checks listed for %s/%s\n", methods[i].service, methods[i].name);
        CHECK(type != NULL);
    }
    free(methods);
}

static void test_decoding(void) {
    api_validate_error error;
    static const uint8_t cut[] = {0x0A, 0x05, 'A', '1'}; /* a string longer than the bytes */
    CHECK(api_request_decode(&PB_DESC(get_orders_request), cut, sizeof cut, &error) == NULL);
    CHECK_EQ_INT(error.code, 30102);
    CHECK(strcmp(error.message, "Malformed request: the message could not be decoded") == 0);

    static const uint8_t nul_account[] = {0x0A, 0x02, 'A', 0x00};
    CHECK(api_request_decode(&PB_DESC(get_orders_request), nul_account, sizeof nul_account,
                             &error) == NULL);
    CHECK_EQ_INT(error.code, 30022);

    static const uint8_t valid[] = {0x0A, 0x02, 'A', '1'};
    ProtobufCMessage *decoded =
        api_request_decode(&PB_DESC(get_orders_request), valid, sizeof valid, &error);
    CHECK(decoded != NULL);
    if (decoded != NULL) {
        CHECK(strcmp(((PB(GetOrdersRequest) *)decoded)->account_id, "A1") == 0);
        protobuf_c_message_free_unpacked(decoded, NULL);
    }
}

static void test_sandbox_names_no_broker_account(void) {
    const ProtobufCFieldDescriptor *field =
        api_request_sandbox_account_field("SandboxService", &PB_DESC(post_order_request));
    CHECK(field != NULL);
    CHECK(api_request_sandbox_account_field("OrdersService", &PB_DESC(post_order_request)) == NULL);
    PB(PostOrderRequest) order = PB_INIT(POST_ORDER_REQUEST);
    order.account_id = "A1";
    CHECK(api_request_names_broker_account(field, &order.base, &rd));
    order.account_id = "nobody";
    CHECK(!api_request_names_broker_account(field, &order.base, &rd));
}

static int check(const ProtobufCMessage *request, api_request_values *out) {
    api_request_context ctx = {.refdata = &rd, .token = &rd.tokens[0], .today_s = 86400};
    memset(out, 0, sizeof *out);
    return api_request_type_of(request->descriptor)->check(request, &ctx, out);
}

static void test_checks_give_the_handlers_codes(void) {
    api_request_values out;
    PB(GetOrderBookRequest) book = PB_INIT(GET_ORDER_BOOK_REQUEST);
    CHECK_EQ_INT(check(&book.base, &out), 30237);
    book._instrument_id_case = PB_ENUM(GET_ORDER_BOOK_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID);
    book.instrument_id = "FIGI0";
    CHECK_EQ_INT(check(&book.base, &out), 30031);
    book.depth = 10;
    CHECK_EQ_INT(check(&book.base, &out), 0);
    CHECK(out.instrument == &rd.instruments[0]);

    Google__Protobuf__Timestamp to = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    to.seconds = 86400 * 15;
    PB(TradingSchedulesRequest) schedules = PB_INIT(TRADING_SCHEDULES_REQUEST);
    schedules.to = &to;
    CHECK_EQ_INT(check(&schedules.base, &out), 30002);
    to.seconds = 86400 * 3 + 5;
    CHECK_EQ_INT(check(&schedules.base, &out), 0);
    CHECK_EQ_INT(out.schedule.from_s, 86400);
    CHECK_EQ_INT(out.schedule.day_count, 3);

    PB(TradesStreamRequest) stream = PB_INIT(TRADES_STREAM_REQUEST);
    stream._ping_delay_ms_case = PB_ENUM(TRADES_STREAM_REQUEST___PING_DELAY_MS_PING_DELAY_MS);
    stream.ping_delay_ms = 10;
    CHECK_EQ_INT(check(&stream.base, &out), 30102);
    CHECK(strstr(out.message, "`ping_delay_ms` must be from 5000 to 180000") != NULL);
    stream.ping_delay_ms = 5000;
    CHECK_EQ_INT(check(&stream.base, &out), 0);
    CHECK(out.selected[0]);
    CHECK_EQ_INT(out.listed_count, 1);

    PB(SandboxPayInRequest) pay_in = PB_INIT(SANDBOX_PAY_IN_REQUEST);
    CHECK_EQ_INT(check(&pay_in.base, &out), 30247);

    PB(Quotation) price = PB_INIT(QUOTATION);
    price.units = 1;
    price.nano = -1;
    PB(PostOrderRequest) order = PB_INIT(POST_ORDER_REQUEST);
    order.price = &price;
    CHECK_EQ_INT(check(&order.base, &out), 30018);
    price.nano = 500000000;
    order.instrument_id = "";
    /* Older bots still send the deprecated `figi`. */
    order._figi_case = PB_ENUM(POST_ORDER_REQUEST___FIGI_FIGI);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    order.figi = "FIGI0";
#pragma GCC diagnostic pop
    CHECK_EQ_INT(check(&order.base, &out), 0);
    CHECK(strcmp(out.order.instrument_id, "FIGI0") == 0);
    CHECK_EQ_INT(out.order.price_nano, 1500000000);
}

/* 100 000 copies of one id fitted in a 4 MiB request and held the core thread for seconds. */
static void test_instrument_lists_are_bounded(void) {
    size_t n = API_MAX_INSTRUMENTS_PER_REQUEST + 1;
    char **ids = calloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = "uid-0";
    PB(GetLastPricesRequest) prices = PB_INIT(GET_LAST_PRICES_REQUEST);
    api_last_prices asked;
    prices.instrument_id = ids;
    prices.n_instrument_id = n;
    CHECK_EQ_INT(api_request_last_prices(&rd, &prices, &asked), 30218);
    prices.n_instrument_id = n - 1;
    CHECK_EQ_INT(api_request_last_prices(&rd, &prices, &asked), 0);
    /* The deprecated `figi` list counts too. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    prices.figi = ids;
    prices.n_figi = 1;
#pragma GCC diagnostic pop
    CHECK_EQ_INT(api_request_last_prices(&rd, &prices, &asked), 30218);
    PB(GetTradingStatusesRequest) statuses = PB_INIT(GET_TRADING_STATUSES_REQUEST);
    statuses.instrument_id = ids;
    statuses.n_instrument_id = n;
    CHECK_EQ_INT(api_request_trading_statuses(&rd, &statuses), 30218);
    statuses.n_instrument_id = n - 1;
    CHECK_EQ_INT(api_request_trading_statuses(&rd, &statuses), 0);
    free(ids);
}

/* GetTechAnalysis: each field's code in the documented order, the values a valid request
 * becomes, and the fields of other indicators ignored. */
static void test_tech_analysis(void) {
    api_request_values out;
    Google__Protobuf__Timestamp from = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
                                to = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    from.seconds = 86400 * 100;
    to.seconds = 86400 * 100 + 3600;
    PB(GetTechAnalysisRequest) r = PB_INIT(GET_TECH_ANALYSIS_REQUEST);
    CHECK_EQ_INT(check(&r.base, &out), 30008);
    r.instrument_uid = "uid-0";
    CHECK_EQ_INT(check(&r.base, &out), 30001);
    r.from = &from;
    CHECK_EQ_INT(check(&r.base, &out), 30004);
    r.to = &to;
    CHECK_EQ_INT(check(&r.base, &out), 30213);
    r.indicator_type = PB_ENUM(GET_TECH_ANALYSIS_REQUEST__INDICATOR_TYPE__INDICATOR_TYPE_BB);
    CHECK_EQ_INT(check(&r.base, &out), 30011);
    r.interval =
        PB_ENUM(GET_TECH_ANALYSIS_REQUEST__INDICATOR_INTERVAL__INDICATOR_INTERVAL_ONE_MINUTE);
    CHECK_EQ_INT(check(&r.base, &out), 30214);
    r.type_of_price = PB_ENUM(GET_TECH_ANALYSIS_REQUEST__TYPE_OF_PRICE__TYPE_OF_PRICE_AVG);
    CHECK_EQ_INT(check(&r.base, &out), 30215);
    r.length = 20;
    CHECK_EQ_INT(check(&r.base, &out), 30216);
    PB(GetTechAnalysisRequest__Deviation) deviation = PB_INIT(GET_TECH_ANALYSIS_REQUEST__DEVIATION);
    r.deviation = &deviation;
    CHECK_EQ_INT(check(&r.base, &out), 30216); /* a deviation without its multiplier */
    PB(Quotation) multiplier = PB_INIT(QUOTATION);
    multiplier.units = 2;
    multiplier.nano = -500000000; /* mixed signs: not a Quotation */
    deviation.deviation_multiplier = &multiplier;
    CHECK_EQ_INT(check(&r.base, &out), 30216);
    multiplier.nano = 500000000;
    CHECK_EQ_INT(check(&r.base, &out), 0);
    CHECK(out.instrument == &rd.instruments[0]);
    CHECK_EQ_INT(out.indicator.type, INDICATOR_BB);
    CHECK_EQ_INT(out.indicator.price, INDICATOR_PRICE_AVG);
    CHECK_EQ_INT(out.indicator.length, 20);
    CHECK(out.indicator.has_deviation && out.indicator.deviation_nano == 2500000000LL);
    CHECK_EQ_INT(out.indicator.from_ns, from.seconds * 1000000000LL);
    CHECK_EQ_INT(out.indicator.to_ns, to.seconds * 1000000000LL);

    /* MACD needs its smoothing, not `length` or `deviation`. */
    r.indicator_type = PB_ENUM(GET_TECH_ANALYSIS_REQUEST__INDICATOR_TYPE__INDICATOR_TYPE_MACD);
    r.length = 0;
    CHECK_EQ_INT(check(&r.base, &out), 30217);
    PB(GetTechAnalysisRequest__Smoothing) smoothing = PB_INIT(GET_TECH_ANALYSIS_REQUEST__SMOOTHING);
    smoothing.fast_length = 13;
    smoothing.slow_length = 7;
    smoothing.signal_smoothing = 3;
    r.smoothing = &smoothing;
    CHECK_EQ_INT(check(&r.base, &out), 0);
    CHECK(out.indicator.has_smoothing && out.indicator.fast_length == 13 &&
          out.indicator.slow_length == 7 && out.indicator.signal_smoothing == 3);

    /* The times: not a Timestamp, outside the contract's range, reversed, too long. */
    from.nanos = 1000000000;
    CHECK_EQ_INT(check(&r.base, &out), 30009);
    from.nanos = 0;
    to.seconds = INT64_MAX;
    CHECK_EQ_INT(check(&r.base, &out), 30010);
    to.seconds = from.seconds - 1;
    CHECK_EQ_INT(check(&r.base, &out), 30012);
    to.seconds = from.seconds + 86400 + 1;
    CHECK_EQ_INT(check(&r.base, &out), 30014);
    r.interval = PB_ENUM(GET_TECH_ANALYSIS_REQUEST__INDICATOR_INTERVAL__INDICATOR_INTERVAL_2_HOUR);
    CHECK_EQ_INT(check(&r.base, &out), 0);

    /* The instrument is named by its uid only, and judged last. */
    r.instrument_uid = "FIGI0";
    CHECK_EQ_INT(check(&r.base, &out), 50002);
    r.length = 0,
    r.indicator_type = PB_ENUM(GET_TECH_ANALYSIS_REQUEST__INDICATOR_TYPE__INDICATOR_TYPE_SMA);
    CHECK_EQ_INT(check(&r.base, &out), 30215);
}

/* GetLastPrices names the `figi` list first, then `instrument_id`; the enum fields outside the
 * contract are refused. */
static void test_last_prices_fields(void) {
    const instrument *share = &rd.instruments[0];
    char *figis[] = {(char *)share->figi};
    char *ids[] = {(char *)share->uid, "no-such-uid"};
    PB(GetLastPricesRequest) in = PB_INIT(GET_LAST_PRICES_REQUEST);
    api_last_prices asked;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    in.figi = figis;
    in.n_figi = 1;
#pragma GCC diagnostic pop
    in.instrument_id = ids;
    in.n_instrument_id = 1;
    CHECK_EQ_INT(api_request_last_prices(&rd, &in, &asked), 0);
    CHECK_EQ_INT(api_request_last_prices_count(&in), 2);
    CHECK(api_request_last_prices_id(&in, 0) == share->figi);
    CHECK(api_request_last_prices_id(&in, 1) == share->uid);
    in.n_instrument_id = 2; /* an id that names nothing: answered without a price */
    CHECK_EQ_INT(api_request_last_prices(&rd, &in, &asked), 0);
    in.n_instrument_id = 1;
    in.last_price_type = 3;
    CHECK_EQ_INT(api_request_last_prices(&rd, &in, &asked), 30102);
    CHECK(asked.message != NULL && strstr(asked.message, "last_price_type") != NULL);
    in.last_price_type = PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_DEALER);
    in._instrument_status_case =
        PB_ENUM(GET_LAST_PRICES_REQUEST___INSTRUMENT_STATUS_INSTRUMENT_STATUS);
    in.instrument_status = 3;
    CHECK_EQ_INT(api_request_last_prices(&rd, &in, &asked), 30050);
    in.instrument_status = PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_ALL);
    CHECK_EQ_INT(api_request_last_prices(&rd, &in, &asked), 0);
    CHECK(asked.all_statuses);
    CHECK_EQ_INT(asked.price_type, PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_DEALER));
    /* A dealer instrument has a dealer price and no exchange price. */
    instrument dealer = *share;
    dealer.dealer = true;
    int32_t type;
    CHECK(api_request_last_price_type_of(&dealer, 0, &type));
    CHECK_EQ_INT(type, PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_DEALER));
    CHECK(!api_request_last_price_type_of(&dealer, PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_EXCHANGE),
                                          &type));
    CHECK(
        !api_request_last_price_type_of(share, PB_ENUM(LAST_PRICE_TYPE__LAST_PRICE_DEALER), &type));
}

static void test_instrument_list_filters(void) {
    PB(InstrumentsRequest) in = PB_INIT(INSTRUMENTS_REQUEST);
    api_instruments_filter filter;
    instrument ins = rd.instruments[0];
    CHECK_EQ_INT(api_request_instruments(&in, &filter), 0);
    CHECK(api_request_instrument_listed(&ins, &filter));
    ins.api_trade_available = false;
    CHECK(!api_request_instrument_listed(&ins, &filter));
    in._instrument_status_case = PB_ENUM(INSTRUMENTS_REQUEST___INSTRUMENT_STATUS_INSTRUMENT_STATUS);
    in.instrument_status = PB_ENUM(INSTRUMENT_STATUS__INSTRUMENT_STATUS_ALL);
    CHECK_EQ_INT(api_request_instruments(&in, &filter), 0);
    CHECK(api_request_instrument_listed(&ins, &filter));
    ins.dealer = true;
    CHECK(!api_request_instrument_listed(&ins, &filter));
    in._instrument_exchange_case =
        PB_ENUM(INSTRUMENTS_REQUEST___INSTRUMENT_EXCHANGE_INSTRUMENT_EXCHANGE);
    in.instrument_exchange = PB_ENUM(INSTRUMENT_EXCHANGE_TYPE__INSTRUMENT_EXCHANGE_DEALER);
    CHECK_EQ_INT(api_request_instruments(&in, &filter), 0);
    CHECK(api_request_instrument_listed(&ins, &filter));
    in.instrument_exchange = 2;
    CHECK_EQ_INT(api_request_instruments(&in, &filter), 30102);
    CHECK(filter.message != NULL && strstr(filter.message, "instrument_exchange") != NULL);
    in.instrument_exchange = 0;
    in.instrument_status = -1;
    CHECK_EQ_INT(api_request_instruments(&in, &filter), 30050);
}

static void test_portfolio_currency(void) {
    PB(PortfolioRequest) in = PB_INIT(PORTFOLIO_REQUEST);
    api_portfolio_currency cur;
    CHECK_EQ_INT(api_request_portfolio_currency(&rd, &in, &cur), 0);
    CHECK(strcmp(cur.currency, "rub") == 0 && cur.rub_nano == 1000000000);
    in._currency_case = PB_ENUM(PORTFOLIO_REQUEST___CURRENCY_CURRENCY);
    in.currency = PB_ENUM(PORTFOLIO_REQUEST__CURRENCY_REQUEST__USD);
    CHECK_EQ_INT(api_request_portfolio_currency(&rd, &in, &cur), 30258); /* no rate */
    refdata with_rate = rd;
    with_rate.currency_rate_count = 1;
    with_rate.currency_rates[0] = (currency_rate){.currency = "usd", .rub_nano = 90500000000};
    CHECK_EQ_INT(api_request_portfolio_currency(&with_rate, &in, &cur), 0);
    CHECK(strcmp(cur.currency, "usd") == 0 && cur.rub_nano == 90500000000);
    in.currency = PB_ENUM(PORTFOLIO_REQUEST__CURRENCY_REQUEST__EUR);
    CHECK_EQ_INT(api_request_portfolio_currency(&with_rate, &in, &cur), 30258);
    in.currency = 3;
    CHECK_EQ_INT(api_request_portfolio_currency(&with_rate, &in, &cur), 30258);
}

static void test_trade_source(void) {
    PB(GetLastTradesRequest) in = PB_INIT(GET_LAST_TRADES_REQUEST);
    const char *message;
    CHECK_EQ_INT(api_request_trade_source(&in, &message), 0);
    in.trade_source = 4;
    CHECK_EQ_INT(api_request_trade_source(&in, &message), 30102);
    CHECK(message != NULL && strstr(message, "trade_source") != NULL);
    instrument dealer = rd.instruments[0];
    dealer.dealer = true;
    CHECK(api_request_trade_source_lists(PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_DEALER), &dealer));
    CHECK(!api_request_trade_source_lists(PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_EXCHANGE),
                                          &dealer));
    CHECK(api_request_trade_source_lists(PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_ALL), &dealer));
    CHECK(!api_request_trade_source_lists(PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_DEALER),
                                          &rd.instruments[0]));
}

/* The request fuzz target found that a 30102 for an `instrument_exchange` outside the contract
 * reached the type's check without its text (the handler had it, the check's values did not):
 * every 30102 of a type's check carries its message. */
static void test_malformed_values_carry_their_text(void) {
    api_request_context ctx = {.refdata = &rd, .token = &rd.tokens[0]};
    static api_request_values out;
    PB(InstrumentsRequest) list = PB_INIT(INSTRUMENTS_REQUEST);
    list._instrument_exchange_case =
        PB_ENUM(INSTRUMENTS_REQUEST___INSTRUMENT_EXCHANGE_INSTRUMENT_EXCHANGE);
    list.instrument_exchange = 10;
    memset(&out, 0, sizeof out);
    CHECK_EQ_INT(api_request_type_of(&PB_DESC(instruments_request))->check(&list.base, &ctx, &out),
                 30102);
    CHECK(strstr(out.message, "instrument_exchange") != NULL);
    PB(GetLastPricesRequest) prices = PB_INIT(GET_LAST_PRICES_REQUEST);
    prices.last_price_type = 10;
    memset(&out, 0, sizeof out);
    CHECK_EQ_INT(
        api_request_type_of(&PB_DESC(get_last_prices_request))->check(&prices.base, &ctx, &out),
        30102);
    CHECK(strstr(out.message, "last_price_type") != NULL);
    PB(GetLastTradesRequest) trades = PB_INIT(GET_LAST_TRADES_REQUEST);
    trades._instrument_id_case = PB_ENUM(GET_LAST_TRADES_REQUEST___INSTRUMENT_ID_INSTRUMENT_ID);
    trades.instrument_id = (char *)rd.instruments[0].uid;
    trades.trade_source = 10;
    memset(&out, 0, sizeof out);
    CHECK_EQ_INT(
        api_request_type_of(&PB_DESC(get_last_trades_request))->check(&trades.base, &ctx, &out),
        30102);
    CHECK(strstr(out.message, "trade_source") != NULL);
}

/* Favorites: each request's checks in the handler's order, with the text a 30102 carries; a group
 * name over 255 characters decodes (the string check's bound is the free text's) and gets 30231. */
static void test_favorites(void) {
    api_request_values out;
    PB(EditFavoritesRequestInstrument) good = PB_INIT(EDIT_FAVORITES_REQUEST_INSTRUMENT);
    good.instrument_id = "FIGI0";
    PB(EditFavoritesRequestInstrument) empty = PB_INIT(EDIT_FAVORITES_REQUEST_INSTRUMENT);
    PB(EditFavoritesRequestInstrument) unknown = PB_INIT(EDIT_FAVORITES_REQUEST_INSTRUMENT);
    unknown.instrument_id = "nope";
    PB(EditFavoritesRequestInstrument) legacy = PB_INIT(EDIT_FAVORITES_REQUEST_INSTRUMENT);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    legacy._figi_case = PB_ENUM(EDIT_FAVORITES_REQUEST_INSTRUMENT___FIGI_FIGI);
    legacy.figi = "uid-0";
#pragma GCC diagnostic pop
    PB(EditFavoritesRequestInstrument) * many[FAVORITES_EDIT_MAX + 1];
    for (size_t i = 0; i < FAVORITES_EDIT_MAX + 1; i++)
        many[i] = &good;
    PB(EditFavoritesRequest) edit = PB_INIT(EDIT_FAVORITES_REQUEST);
    edit.instruments = many;
    edit.n_instruments = FAVORITES_EDIT_MAX + 1;
    edit.action_type = FAVORITES_ACTION_ADD;
    CHECK_EQ_INT(check(&edit.base, &out), 30091);
    edit.n_instruments = FAVORITES_EDIT_MAX;
    CHECK_EQ_INT(check(&edit.base, &out), 0);
    edit.action_type = 0;
    CHECK_EQ_INT(check(&edit.base, &out), 30102);
    CHECK(strstr(out.message, "action_type") != NULL);
    edit.action_type = FAVORITES_ACTION_DEL;
    edit.n_instruments = 0;
    CHECK_EQ_INT(check(&edit.base, &out), 30093);
    PB(EditFavoritesRequestInstrument) * some[] = {&legacy, &empty};
    edit.instruments = some;
    edit.n_instruments = 2;
    CHECK_EQ_INT(check(&edit.base, &out), 30093);
    some[1] = &unknown;
    CHECK_EQ_INT(check(&edit.base, &out), 50002);
    some[1] = &good;
    CHECK_EQ_INT(check(&edit.base, &out), 0);
    edit._group_id_case = PB_ENUM(EDIT_FAVORITES_REQUEST___GROUP_ID_GROUP_ID);
    edit.group_id = "group";
    CHECK_EQ_INT(check(&edit.base, &out), 50013);
    edit.group_id = "";
    CHECK_EQ_INT(check(&edit.base, &out), 0); /* empty: the default list */
    CHECK(api_request_favorites_group(true, "") == NULL);

    PB(GetFavoritesRequest) get = PB_INIT(GET_FAVORITES_REQUEST);
    CHECK_EQ_INT(check(&get.base, &out), 0);
    get._group_id_case = PB_ENUM(GET_FAVORITES_REQUEST___GROUP_ID_GROUP_ID);
    get.group_id = "0b7d1d4e-6a0d-4d3e-9d6e-3b0a4b1f2c3d";
    CHECK_EQ_INT(check(&get.base, &out), 0);
    get.group_id = "0b7d1d4e";
    CHECK_EQ_INT(check(&get.base, &out), 50013);

    PB(CreateFavoriteGroupRequest) create = PB_INIT(CREATE_FAVORITE_GROUP_REQUEST);
    create.group_color = "aa0000";
    CHECK_EQ_INT(check(&create.base, &out), 30231);
    static char name[300];
    memset(name, 'n', 256);
    create.group_name = name;
    CHECK_EQ_INT(check(&create.base, &out), 30231);
    name[255] = '\0';
    CHECK_EQ_INT(check(&create.base, &out), 0);
    create.group_color = "aa000g";
    CHECK_EQ_INT(check(&create.base, &out), 30232);
    create.group_color = "";
    CHECK_EQ_INT(check(&create.base, &out), 30232);
    /* On the wire: a 400-byte name passes the string check and is refused by the request's. */
    uint8_t wire[420];
    wire[0] = 0x0A;
    wire[1] = 0x90; /* 400 = 0x190 */
    wire[2] = 0x03;
    memset(wire + 3, 'n', 400);
    api_validate_error error;
    ProtobufCMessage *decoded =
        api_request_decode(&PB_DESC(create_favorite_group_request), wire, 403, &error);
    CHECK(decoded != NULL);
    if (decoded != NULL) {
        CHECK_EQ_INT(check(decoded, &out), 30231);
        protobuf_c_message_free_unpacked(decoded, NULL);
    }
    wire[5] = 0xFF; /* not UTF-8: the string check's code is the field's own */
    CHECK(api_request_decode(&PB_DESC(create_favorite_group_request), wire, 403, &error) == NULL);
    CHECK_EQ_INT(error.code, 30231);

    PB(DeleteFavoriteGroupRequest) del = PB_INIT(DELETE_FAVORITE_GROUP_REQUEST);
    CHECK_EQ_INT(check(&del.base, &out), 30230);
    del.group_id = "x";
    CHECK_EQ_INT(check(&del.base, &out), 50013);
    del.group_id = "0B7D1D4E-6A0D-4D3E-9D6E-3B0A4B1F2C3D";
    CHECK_EQ_INT(check(&del.base, &out), 0);

    PB(GetFavoriteGroupsRequest) groups = PB_INIT(GET_FAVORITE_GROUPS_REQUEST);
    CHECK_EQ_INT(check(&groups.base, &out), 0);
    static char *ids[API_FAVORITES_MAX_EXCLUDED + 1];
    for (size_t i = 0; i < API_FAVORITES_MAX_EXCLUDED + 1; i++)
        ids[i] = "x";
    groups.excluded_group_id = ids;
    groups.n_excluded_group_id = API_FAVORITES_MAX_EXCLUDED + 1;
    CHECK_EQ_INT(check(&groups.base, &out), 30102);
    CHECK(strstr(out.message, "excluded_group_id") != NULL);
    groups.n_excluded_group_id = API_FAVORITES_MAX_EXCLUDED;
    CHECK_EQ_INT(check(&groups.base, &out), 0);
}

int main(void) {
    one_share_refdata(&rd, 1000);
    test_favorites();
    test_every_served_method_has_its_checks();
    test_decoding();
    test_sandbox_names_no_broker_account();
    test_checks_give_the_handlers_codes();
    test_instrument_lists_are_bounded();
    test_tech_analysis();
    test_last_prices_fields();
    test_instrument_list_filters();
    test_portfolio_currency();
    test_trade_source();
    test_malformed_values_carry_their_text();
    return check_finish("api request");
}
