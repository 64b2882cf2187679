/* InstrumentsService, the parts of the universe beyond the five base kinds: options (Options,
 * OptionBy, OptionsBy), futures margin (GetFuturesMargin) and indicatives (Indicatives).
 *
 * Like the rest of InstrumentsService, everything here is immutable reference data read on the
 * completion-queue thread without the core. */
#include "api/services.h"

#include "api/pb.h"
#include "api/request.h"
#include "api/risk_rates.h"
#include "api/server.h"

static PB(Option) * make_option(api_call *call, const instrument *ins) {
    PB(Option) *out = PB_NEW(call, PB(Option), PB_INIT(OPTION));
    out->uid = (char *)ins->uid;
    out->position_uid = (char *)ins->position_uid;
    out->ticker = (char *)ins->ticker;
    out->class_code = (char *)ins->class_code;
    out->basic_asset_position_uid = (char *)ins->basic_asset_position_uid;
    out->trading_status = ins->trading_status;
    out->real_exchange = PB_ENUM(REAL_EXCHANGE__REAL_EXCHANGE_MOEX);
    out->direction = ins->option_direction;
    out->payment_type = ins->option_payment_type;
    out->style = ins->option_style;
    out->settlement_type = ins->option_settlement_type;
    out->name = (char *)ins->name;
    out->currency = (char *)ins->currency;
    out->settlement_currency = (char *)ins->settlement_currency;
    out->asset_type = (char *)ins->asset_type;
    out->basic_asset = (char *)ins->basic_asset;
    out->exchange = (char *)ins->exchange;
    out->country_of_risk = (char *)ins->country_of_risk;
    out->sector = (char *)ins->sector;
    out->lot = ins->lot;
    out->basic_asset_size = pb_quotation(call, ins->basic_asset_size_nano);
    API_FILL_RISK_RATES(call, out, ins);
    out->min_price_increment = pb_quotation(call, ins->min_price_increment_nano);
    out->strike_price = pb_money(call, ins->currency, ins->strike_price_nano);
    out->expiration_date = pb_timestamp_s(call, ins->expiration_date_s);
    out->first_trade_date = pb_timestamp_s(call, ins->first_trade_date_s);
    out->last_trade_date = pb_timestamp_s(call, ins->last_trade_date_s);
    out->first_1min_candle_date = api_first_candle_date(call, ins, false);
    out->first_1day_candle_date = api_first_candle_date(call, ins, true);
    out->short_enabled_flag = ins->short_enabled;
    out->otc_flag = ins->otc;
    out->buy_available_flag = ins->buy_available;
    out->sell_available_flag = ins->sell_available;
    out->for_qual_investor_flag = ins->for_qual_investor;
    out->weekend_flag = ins->weekend_available;
    out->api_trade_available_flag = ins->api_trade_available;
    return out;
}

static void option_by(api_call *call, const ProtobufCMessage *request) {
    const instrument *ins;
    int code = api_request_instrument_by(&api_call_config(call)->refdata,
                                         (const PB(InstrumentRequest) *)request, &ins);
    if (code == 0 && ins->kind != INSTRUMENT_KIND_OPTION)
        code = 50002;
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    PB(OptionResponse) *resp = PB_NEW(call, PB(OptionResponse), PB_INIT(OPTION_RESPONSE));
    resp->instrument = make_option(call, ins);
    api_reply_message(call, &resp->base);
}

/* The options `listed` keeps, in configuration order. */
static void reply_options(api_call *call, bool (*listed)(const instrument *, const void *),
                          const void *filter) {
    const refdata *rd = &api_call_config(call)->refdata;
    PB(OptionsResponse) *resp = PB_NEW(call, PB(OptionsResponse), PB_INIT(OPTIONS_RESPONSE));
    resp->instruments = (PB(Option) **)pb_array(call, rd->instrument_count);
    for (uint32_t i = 0; i < rd->instrument_count; i++)
        if (rd->instruments[i].kind == INSTRUMENT_KIND_OPTION &&
            listed(&rd->instruments[i], filter))
            resp->instruments[resp->n_instruments++] = make_option(call, &rd->instruments[i]);
    api_reply_message(call, &resp->base);
}

static bool listed_by_status(const instrument *ins, const void *filter) {
    return api_request_instrument_listed(ins, filter);
}

static bool listed_by_asset(const instrument *ins, const void *filter) {
    return api_request_option_listed(ins, filter);
}

static void options(api_call *call, const ProtobufCMessage *request) {
    api_instruments_filter filter;
    int code = api_request_instruments((const PB(InstrumentsRequest) *)request, &filter);
    if (code != 0) {
        if (filter.message != NULL)
            api_reply_error_message(call, code, filter.message);
        else
            api_reply_error(call, code);
        return;
    }
    reply_options(call, listed_by_status, &filter);
}

static void options_by(api_call *call, const ProtobufCMessage *request) {
    api_options_filter filter;
    int code = api_request_options_by((const PB(FilterOptionsRequest) *)request, &filter);
    if (code != 0) {
        api_reply_error_message(call, code, filter.message);
        return;
    }
    reply_options(call, listed_by_asset, &filter);
}

static void get_futures_margin(api_call *call, const ProtobufCMessage *request) {
    const instrument *ins;
    int code = api_request_futures_margin(&api_call_config(call)->refdata,
                                          (const PB(GetFuturesMarginRequest) *)request, &ins);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    PB(GetFuturesMarginResponse) *resp =
        PB_NEW(call, PB(GetFuturesMarginResponse), PB_INIT(GET_FUTURES_MARGIN_RESPONSE));
    resp->initial_margin_on_buy = pb_money(call, ins->currency, ins->initial_margin_on_buy_nano);
    resp->initial_margin_on_sell = pb_money(call, ins->currency, ins->initial_margin_on_sell_nano);
    resp->min_price_increment = pb_quotation(call, ins->min_price_increment_nano);
    resp->min_price_increment_amount = pb_quotation(call, ins->min_price_increment_amount_nano);
    api_reply_message(call, &resp->base);
}

static void indicatives(api_call *call, const ProtobufCMessage *request) {
    (void)request;
    const indicative_table *t = &api_call_config(call)->indicatives;
    PB(IndicativesResponse) *resp =
        PB_NEW(call, PB(IndicativesResponse), PB_INIT(INDICATIVES_RESPONSE));
    resp->instruments = (PB(IndicativeResponse) **)pb_array(call, t->count);
    for (uint32_t i = 0; i < t->count; i++) {
        const indicative *in = &t->items[i];
        PB(IndicativeResponse) *out =
            PB_NEW(call, PB(IndicativeResponse), PB_INIT(INDICATIVE_RESPONSE));
        out->figi = (char *)in->figi;
        out->ticker = (char *)in->ticker;
        out->class_code = (char *)in->class_code;
        out->currency = (char *)in->currency;
        out->instrument_kind = in->instrument_kind;
        out->name = (char *)in->name;
        out->exchange = (char *)in->exchange;
        out->uid = (char *)in->uid;
        out->buy_available_flag = in->buy_available;
        out->sell_available_flag = in->sell_available;
        resp->instruments[resp->n_instruments++] = out;
    }
    api_reply_message(call, &resp->base);
}

#define UNIVERSE(method, type, fn)                                                                 \
    {                                                                                              \
        .service = "InstrumentsService", .name = method, .request_type = &PB_DESC(type),           \
        .handle = fn                                                                               \
    }
static api_method universe_methods[] = {
    UNIVERSE("OptionBy", instrument_request, option_by),
    UNIVERSE("Options", instruments_request, options),
    UNIVERSE("OptionsBy", filter_options_request, options_by),
    UNIVERSE("GetFuturesMargin", get_futures_margin_request, get_futures_margin),
    UNIVERSE("Indicatives", indicatives_request, indicatives),
};

const api_method *api_universe_methods(size_t *count) {
    *count = sizeof universe_methods / sizeof universe_methods[0];
    return universe_methods;
}
