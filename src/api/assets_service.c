/* InstrumentsService: assets, brands, countries, analytics and structured notes, answered from
 * the reference data (config/reference_*.c, refbook/) on the completion-queue thread: all of it
 * is immutable after start, so no handler involves the core. A kind of data whose file is absent
 * or empty answers a correctly shaped empty result. */
#include <assert.h>
#include <string.h>

#include "api/assets_request.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/risk_rates.h"
#include "api/server.h"
#include "api/services.h"

static void reply_code(api_call *call, int code, const char *message) {
    if (code == 30102 && message[0] != '\0')
        api_reply_error_message(call, code, message);
    else
        api_reply_error(call, code);
}

static Google__Protobuf__Timestamp *time_or_null(api_call *call, int64_t time_s) {
    return time_s == 0 ? NULL : pb_timestamp_s(call, time_s);
}

/* ---- Assets, brands, countries -------------------------------------------------------------- */

static PB(AssetInstrument) * make_asset_instrument(api_call *call, const instrument *ins) {
    PB(AssetInstrument) *out = PB_NEW(call, PB(AssetInstrument), PB_INIT(ASSET_INSTRUMENT));
    out->uid = (char *)ins->uid;
    out->figi = (char *)ins->figi;
    out->instrument_type = (char *)api_instrument_type_name(ins->kind);
    out->ticker = (char *)ins->ticker;
    out->class_code = (char *)ins->class_code;
    out->instrument_kind = (int)ins->kind;
    out->position_uid = (char *)ins->position_uid;
    return out;
}

static bool instrument_listed(const instrument *ins, const api_assets_filter *filter) {
    return (filter->instrument_kind == 0 || (int32_t)ins->kind == filter->instrument_kind) &&
           (filter->all_statuses || ins->api_trade_available);
}

/* The asset's instruments the filter lists, into `out` (room for the asset's count). */
static size_t listed_instruments(api_call *call, const refbook_asset *asset,
                                 const api_assets_filter *filter, PB(AssetInstrument) * *out) {
    const refdata *rd = &api_call_config(call)->refdata;
    size_t n = 0;
    for (uint32_t i = 0; i < asset->instrument_count; i++) {
        const instrument *ins = &rd->instruments[asset->instruments[i]];
        if (instrument_listed(ins, filter))
            out[n++] = make_asset_instrument(call, ins);
    }
    return n;
}

static void get_assets(api_call *call, const ProtobufCMessage *request) {
    api_assets_filter filter;
    char message[API_ASSETS_MESSAGE_SIZE] = "";
    int code = api_request_assets((const PB(AssetsRequest) *)request, &filter, message);
    if (code != 0) {
        reply_code(call, code, message);
        return;
    }
    const refbook_assets *a = &api_call_config(call)->assets;
    PB(AssetsResponse) *resp = PB_NEW(call, PB(AssetsResponse), PB_INIT(ASSETS_RESPONSE));
    resp->assets = (PB(Asset) **)pb_array(call, a->asset_count);
    for (uint32_t i = 0; i < a->asset_count; i++) {
        const refbook_asset *asset = &a->assets[i];
        PB(AssetInstrument) **instruments =
            (PB(AssetInstrument) **)pb_array(call, asset->instrument_count);
        size_t n = listed_instruments(call, asset, &filter, instruments);
        /* An asset the filter leaves no instrument of is not listed; one without instruments at
         * all (a file's currency or index) only when no instrument type is asked for. */
        if (n == 0 && (asset->instrument_count > 0 || filter.instrument_kind != 0))
            continue;
        PB(Asset) *out = PB_NEW(call, PB(Asset), PB_INIT(ASSET));
        out->uid = (char *)asset->uid;
        out->type = asset->type;
        out->name = (char *)asset->name;
        out->instruments = instruments;
        out->n_instruments = n;
        resp->assets[resp->n_assets++] = out;
    }
    api_reply_message(call, &resp->base);
}

static PB(Brand) * make_brand(api_call *call, const refbook_brand *b) {
    PB(Brand) *out = PB_NEW(call, PB(Brand), PB_INIT(BRAND));
    out->uid = (char *)b->uid;
    out->name = (char *)b->name;
    out->description = (char *)b->description;
    out->info = (char *)b->info;
    out->company = (char *)b->company;
    out->sector = (char *)b->sector;
    out->country_of_risk = (char *)b->country_of_risk;
    out->country_of_risk_name = (char *)b->country_of_risk_name;
    return out;
}

static void fill_asset_ext(api_call *call, PB(AssetFull) * out, const refbook_asset *asset) {
    const refdata *rd = &api_call_config(call)->refdata;
    if (asset->type == REFBOOK_ASSET_TYPE_CURRENCY) {
        PB(AssetCurrency) *cur = PB_NEW(call, PB(AssetCurrency), PB_INIT(ASSET_CURRENCY));
        cur->base_currency = (char *)(asset->base_currency ? asset->base_currency : "");
        out->ext_case = PB_ENUM(ASSET_FULL__EXT_CURRENCY);
        out->currency = cur;
    } else if (asset->type == REFBOOK_ASSET_TYPE_SECURITY && asset->instrument_count > 0) {
        const instrument *ins = &rd->instruments[asset->instruments[0]];
        PB(AssetSecurity) *sec = PB_NEW(call, PB(AssetSecurity), PB_INIT(ASSET_SECURITY));
        sec->isin = (char *)ins->isin;
        sec->type = (char *)api_instrument_type_name(ins->kind);
        sec->instrument_kind = (int)ins->kind;
        out->ext_case = PB_ENUM(ASSET_FULL__EXT_SECURITY);
        out->security = sec;
    }
}

static void get_asset_by(api_call *call, const ProtobufCMessage *request) {
    const PB(AssetRequest) *req = (const PB(AssetRequest) *)request;
    char message[API_ASSETS_MESSAGE_SIZE] = "";
    int code = api_request_asset_by(req, message);
    const refbook_asset *asset =
        code == 0 ? refbook_find_asset(&api_call_config(call)->assets, req->id) : NULL;
    if (code == 0 && asset == NULL)
        code = 50009;
    if (code != 0) {
        reply_code(call, code, message);
        return;
    }
    PB(AssetFull) *out = PB_NEW(call, PB(AssetFull), PB_INIT(ASSET_FULL));
    out->uid = (char *)asset->uid;
    out->type = asset->type;
    out->name = (char *)asset->name;
    out->name_brief = (char *)asset->name_brief;
    out->description = (char *)asset->description;
    out->deleted_at = time_or_null(call, asset->deleted_at_s);
    out->updated_at = time_or_null(call, asset->updated_at_s);
    out->required_tests = (char **)asset->required_tests;
    out->n_required_tests = asset->required_test_count;
    out->gos_reg_code = (char *)asset->gos_reg_code;
    out->cfi = (char *)asset->cfi;
    out->code_nsd = (char *)asset->code_nsd;
    out->status = (char *)asset->status;
    out->br_code = (char *)asset->br_code;
    out->br_code_name = (char *)asset->br_code_name;
    out->brand = asset->brand != NULL ? make_brand(call, asset->brand) : NULL;
    fill_asset_ext(call, out, asset);
    api_assets_filter all = {.all_statuses = true};
    out->instruments = (PB(AssetInstrument) **)pb_array(call, asset->instrument_count);
    out->n_instruments = listed_instruments(call, asset, &all, out->instruments);
    PB(AssetResponse) *resp = PB_NEW(call, PB(AssetResponse), PB_INIT(ASSET_RESPONSE));
    resp->asset = out;
    api_reply_message(call, &resp->base);
}

static PB(PageResponse) * make_page(api_call *call, const refbook_page *page, uint32_t total) {
    PB(PageResponse) *out = PB_NEW(call, PB(PageResponse), PB_INIT(PAGE_RESPONSE));
    out->limit = page->limit;
    out->page_number = page->page_number;
    out->total_count = total > INT32_MAX ? INT32_MAX : (int32_t)total;
    return out;
}

/* Takes the page `paging` asks for of `total` entries; answers the call and returns false when
 * the page cannot be given (`beyond_code` for a page past the end). */
static bool take_page(api_call *call, const PB(Page) * paging, uint32_t total,
                      uint32_t default_limit, int beyond_code, refbook_page *page) {
    int32_t limit = paging != NULL ? paging->limit : 0;
    int32_t page_number = paging != NULL ? paging->page_number : 0;
    switch (refbook_page_of(total, limit, page_number, default_limit, page)) {
    case REFBOOK_PAGE_OK:
        return true;
    case REFBOOK_PAGE_NEGATIVE:
        api_reply_error(call, 30107);
        return false;
    case REFBOOK_PAGE_BEYOND:
        api_reply_error(call, beyond_code);
        return false;
    }
    return false;
}

static void get_brands(api_call *call, const ProtobufCMessage *request) {
    const PB(GetBrandsRequest) *req = (const PB(GetBrandsRequest) *)request;
    const refbook_assets *a = &api_call_config(call)->assets;
    refbook_page page;
    if (!take_page(call, req->paging, a->brand_count, 0, 30108, &page))
        return;
    PB(GetBrandsResponse) *resp = PB_NEW(call, PB(GetBrandsResponse), PB_INIT(GET_BRANDS_RESPONSE));
    resp->brands = (PB(Brand) **)pb_array(call, page.count);
    for (uint32_t i = 0; i < page.count; i++)
        resp->brands[resp->n_brands++] = make_brand(call, &a->brands[page.first + i]);
    resp->paging = make_page(call, &page, a->brand_count);
    api_reply_message(call, &resp->base);
}

static void get_brand_by(api_call *call, const ProtobufCMessage *request) {
    const PB(GetBrandRequest) *req = (const PB(GetBrandRequest) *)request;
    char message[API_ASSETS_MESSAGE_SIZE] = "";
    int code = api_request_brand_by(req, message);
    const refbook_brand *brand =
        code == 0 ? refbook_find_brand(&api_call_config(call)->assets, req->id) : NULL;
    if (code == 0 && brand == NULL)
        code = 50010;
    if (code != 0) {
        reply_code(call, code, message);
        return;
    }
    api_reply_message(call, &make_brand(call, brand)->base);
}

static void get_countries(api_call *call, const ProtobufCMessage *request) {
    const refbook_assets *a = &api_call_config(call)->assets;
    PB(GetCountriesResponse) *resp =
        PB_NEW(call, PB(GetCountriesResponse), PB_INIT(GET_COUNTRIES_RESPONSE));
    resp->countries = (PB(CountryResponse) **)pb_array(call, a->country_count);
    for (uint32_t i = 0; i < a->country_count; i++) {
        const refbook_country *c = &a->countries[i];
        PB(CountryResponse) *out = PB_NEW(call, PB(CountryResponse), PB_INIT(COUNTRY_RESPONSE));
        out->alfa_two = (char *)c->alfa_two;
        out->alfa_three = (char *)c->alfa_three;
        out->name = (char *)c->name;
        out->name_brief = (char *)c->name_brief;
        resp->countries[resp->n_countries++] = out;
    }
    api_reply_message(call, &resp->base);
}

/* ---- Analytics ------------------------------------------------------------------------------ */

#define STATISTIC PB(GetAssetFundamentalsResponse__StatisticResponse)

static STATISTIC *make_statistic(api_call *call, const refbook_fundamentals *f) {
    STATISTIC *out =
        PB_NEW(call, STATISTIC, PB_INIT(GET_ASSET_FUNDAMENTALS_RESPONSE__STATISTIC_RESPONSE));
    out->asset_uid = (char *)f->asset_uid;
    out->currency = (char *)f->currency;
    out->domicile_indicator_code = (char *)f->domicile_indicator_code;
    out->ex_dividend_date = time_or_null(call, f->ex_dividend_date_s);
    out->fiscal_period_start_date = time_or_null(call, f->fiscal_period_start_date_s);
    out->fiscal_period_end_date = time_or_null(call, f->fiscal_period_end_date_s);
    /* The indicators by field number, so the table of names is the only list of them. */
    const ProtobufCMessageDescriptor *desc = out->base.descriptor;
    for (int i = 0; i < REFBOOK_FUNDAMENTAL_FIELDS; i++) {
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(desc, refbook_fundamental_fields[i].number);
        assert(field != NULL && field->type == PROTOBUF_C_TYPE_DOUBLE);
        memcpy((char *)out + field->offset, &f->values[i], sizeof(double));
    }
    return out;
}

static void get_asset_fundamentals(api_call *call, const ProtobufCMessage *request) {
    const PB(GetAssetFundamentalsRequest) *req = (const PB(GetAssetFundamentalsRequest) *)request;
    char message[API_ASSETS_MESSAGE_SIZE] = "";
    int code = api_request_asset_fundamentals(req, message);
    if (code != 0) {
        reply_code(call, code, message);
        return;
    }
    const refbook_analytics *a = &api_call_config(call)->analytics;
    PB(GetAssetFundamentalsResponse) *resp =
        PB_NEW(call, PB(GetAssetFundamentalsResponse), PB_INIT(GET_ASSET_FUNDAMENTALS_RESPONSE));
    resp->fundamentals = (STATISTIC **)pb_array(call, req->n_assets);
    for (size_t i = 0; i < req->n_assets; i++) {
        const refbook_fundamentals *f = refbook_find_fundamentals(a, req->assets[i]);
        if (f != NULL)
            resp->fundamentals[resp->n_fundamentals++] = make_statistic(call, f);
    }
    api_reply_message(call, &resp->base);
}

#define REPORT_EVENT PB(GetAssetReportsResponse__GetAssetReportsEvent)

static void get_asset_reports(api_call *call, const ProtobufCMessage *request) {
    api_asset_reports_query query;
    int code = api_request_asset_reports(&api_call_config(call)->refdata,
                                         (const PB(GetAssetReportsRequest) *)request, &query);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    const refbook_analytics *a = &api_call_config(call)->analytics;
    PB(GetAssetReportsResponse) *resp =
        PB_NEW(call, PB(GetAssetReportsResponse), PB_INIT(GET_ASSET_REPORTS_RESPONSE));
    resp->events = (REPORT_EVENT **)pb_array(call, a->report_count);
    for (uint32_t i = 0; i < a->report_count; i++) {
        const refbook_asset_report *r = &a->reports[i];
        if (r->instrument != query.instrument->index || r->report_date_s < query.from_s ||
            r->report_date_s > query.to_s)
            continue;
        REPORT_EVENT *out = PB_NEW(call, REPORT_EVENT,
                                   PB_INIT(GET_ASSET_REPORTS_RESPONSE__GET_ASSET_REPORTS_EVENT));
        out->instrument_id = (char *)query.instrument->uid;
        out->report_date = pb_timestamp_s(call, r->report_date_s);
        out->period_year = r->period_year;
        out->period_num = r->period_num;
        out->period_type = r->period_type;
        out->created_at = time_or_null(call, r->created_at_s);
        resp->events[resp->n_events++] = out;
    }
    api_reply_message(call, &resp->base);
}

#define CONSENSUS_ITEM PB(GetConsensusForecastsResponse__ConsensusForecastsItem)

static void get_consensus_forecasts(api_call *call, const ProtobufCMessage *request) {
    const PB(GetConsensusForecastsRequest) *req = (const PB(GetConsensusForecastsRequest) *)request;
    const tinvestd_config *cfg = api_call_config(call);
    const refbook_analytics *a = &cfg->analytics;
    refbook_page page;
    if (!take_page(call, req->paging, a->consensus_count, 0, 30226, &page))
        return;
    PB(GetConsensusForecastsResponse) *resp =
        PB_NEW(call, PB(GetConsensusForecastsResponse), PB_INIT(GET_CONSENSUS_FORECASTS_RESPONSE));
    resp->items = (CONSENSUS_ITEM **)pb_array(call, page.count);
    for (uint32_t i = 0; i < page.count; i++) {
        const refbook_consensus *c = &a->consensus[page.first + i];
        const instrument *ins = &cfg->refdata.instruments[c->instrument];
        const refbook_asset *asset = refbook_asset_of_instrument(&cfg->assets, c->instrument);
        CONSENSUS_ITEM *out =
            PB_NEW(call, CONSENSUS_ITEM,
                   PB_INIT(GET_CONSENSUS_FORECASTS_RESPONSE__CONSENSUS_FORECASTS_ITEM));
        out->uid = (char *)ins->uid;
        out->asset_uid = (char *)(asset != NULL ? asset->uid : ins->asset_uid);
        out->created_at = time_or_null(call, c->created_at_s);
        out->best_target_price = pb_quotation(call, c->best_target_price_nano);
        out->best_target_low = pb_quotation(call, c->best_target_low_nano);
        out->best_target_high = pb_quotation(call, c->best_target_high_nano);
        out->total_buy_recommend = c->total_buy;
        out->total_hold_recommend = c->total_hold;
        out->total_sell_recommend = c->total_sell;
        out->currency = (char *)c->currency;
        out->consensus = c->recommendation;
        out->prognosis_date = time_or_null(call, c->prognosis_date_s);
        resp->items[resp->n_items++] = out;
    }
    resp->page = make_page(call, &page, a->consensus_count);
    api_reply_message(call, &resp->base);
}

#define TARGET_ITEM PB(GetForecastResponse__TargetItem)
#define FORECAST_CONSENSUS PB(GetForecastResponse__ConsensusItem)

static TARGET_ITEM *make_target(api_call *call, const instrument *ins, const refbook_target *t) {
    TARGET_ITEM *out = PB_NEW(call, TARGET_ITEM, PB_INIT(GET_FORECAST_RESPONSE__TARGET_ITEM));
    out->uid = (char *)ins->uid;
    out->ticker = (char *)ins->ticker;
    out->company = (char *)t->company;
    out->recommendation = t->recommendation;
    out->recommendation_date = time_or_null(call, t->recommendation_date_s);
    out->currency = (char *)t->currency;
    out->current_price = pb_quotation(call, t->current_price_nano);
    out->target_price = pb_quotation(call, t->target_price_nano);
    out->price_change = pb_quotation(call, t->price_change_nano);
    out->price_change_rel = pb_quotation(call, t->price_change_rel_nano);
    out->show_name = (char *)t->show_name;
    return out;
}

static FORECAST_CONSENSUS *make_forecast_consensus(api_call *call, const instrument *ins,
                                                   const refbook_consensus *c) {
    FORECAST_CONSENSUS *out =
        PB_NEW(call, FORECAST_CONSENSUS, PB_INIT(GET_FORECAST_RESPONSE__CONSENSUS_ITEM));
    out->uid = (char *)ins->uid;
    out->ticker = (char *)ins->ticker;
    out->recommendation = c->recommendation;
    out->currency = (char *)c->currency;
    out->current_price = pb_quotation(call, c->current_price_nano);
    out->consensus = pb_quotation(call, c->best_target_price_nano);
    out->min_target = pb_quotation(call, c->best_target_low_nano);
    out->max_target = pb_quotation(call, c->best_target_high_nano);
    out->price_change = pb_quotation(call, c->price_change_nano);
    out->price_change_rel = pb_quotation(call, c->price_change_rel_nano);
    return out;
}

static void get_forecast_by(api_call *call, const ProtobufCMessage *request) {
    const instrument *ins = NULL;
    int code = api_request_forecast_by(&api_call_config(call)->refdata,
                                       (const PB(GetForecastRequest) *)request, &ins);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    const refbook_analytics *a = &api_call_config(call)->analytics;
    PB(GetForecastResponse) *resp =
        PB_NEW(call, PB(GetForecastResponse), PB_INIT(GET_FORECAST_RESPONSE));
    resp->targets = (TARGET_ITEM **)pb_array(call, a->target_count);
    for (uint32_t i = 0; i < a->target_count; i++)
        if (a->targets[i].instrument == ins->index)
            resp->targets[resp->n_targets++] = make_target(call, ins, &a->targets[i]);
    const refbook_consensus *c = refbook_find_consensus(a, ins->index);
    resp->consensus = c != NULL ? make_forecast_consensus(call, ins, c) : NULL;
    api_reply_message(call, &resp->base);
}

#define RISK_RESULT PB(RiskRatesResponse__RiskRateResult)
#define RISK_RATE PB(RiskRatesResponse__RiskRate)

static RISK_RATE *make_rate(api_call *call, const refbook_risk_rate *r) {
    RISK_RATE *out = PB_NEW(call, RISK_RATE, PB_INIT(RISK_RATES_RESPONSE__RISK_RATE));
    out->risk_level_code = (char *)r->risk_level_code;
    out->value = pb_quotation(call, r->value_nano);
    return out;
}

static RISK_RATE **make_rates(api_call *call, const refbook_risk_rate *rates, uint32_t n) {
    RISK_RATE **out = (RISK_RATE **)pb_array(call, n);
    for (uint32_t i = 0; i < n; i++)
        out[i] = make_rate(call, &rates[i]);
    return out;
}

static RISK_RATE *make_level_rate(api_call *call, const char *code, int64_t value_nano) {
    RISK_RATE *out = PB_NEW(call, RISK_RATE, PB_INIT(RISK_RATES_RESPONSE__RISK_RATE));
    out->risk_level_code = (char *)code;
    out->value = pb_quotation(call, value_nano);
    return out;
}

/* One side's available rates: the standard level's, then the high level's, each only when the
 * instrument has it (0: none). */
static RISK_RATE **make_level_rates(api_call *call, int64_t standard_nano, int64_t high_nano,
                                    size_t *count) {
    RISK_RATE **out = (RISK_RATE **)pb_array(call, 2);
    *count = 0;
    if (standard_nano > 0)
        out[(*count)++] = make_level_rate(call, API_RISK_LEVEL_STANDARD, standard_nano);
    if (high_nano > 0)
        out[(*count)++] = make_level_rate(call, API_RISK_LEVEL_HIGH, high_nano);
    return out;
}

/* The rates the instrument's reference data configures (dlong, dshort, dlong_min, dshort_min);
 * the caller's own are the standard level's, which the instrument messages show as
 * dlong_client/dshort_client too. */
static void fill_configured_rates(api_call *call, RISK_RESULT *out, const instrument *ins) {
    if (ins->dshort_nano > 0)
        out->short_risk_rate = make_level_rate(call, API_RISK_LEVEL_STANDARD, ins->dshort_nano);
    if (ins->dlong_nano > 0)
        out->long_risk_rate = make_level_rate(call, API_RISK_LEVEL_STANDARD, ins->dlong_nano);
    out->short_risk_rates =
        make_level_rates(call, ins->dshort_nano, ins->dshort_min_nano, &out->n_short_risk_rates);
    out->long_risk_rates =
        make_level_rates(call, ins->dlong_nano, ins->dlong_min_nano, &out->n_long_risk_rates);
}

static RISK_RESULT *make_risk_result(api_call *call, const char *id) {
    const tinvestd_config *cfg = api_call_config(call);
    RISK_RESULT *out = PB_NEW(call, RISK_RESULT, PB_INIT(RISK_RATES_RESPONSE__RISK_RATE_RESULT));
    const instrument *ins = id[0] != '\0' ? refdata_find_instrument_id(&cfg->refdata, id) : NULL;
    if (ins == NULL) {
        /* Each unknown instrument is answered in its own result, not by refusing the request. */
        out->instrument_uid = (char *)id;
        out->_error_case = PB_ENUM(RISK_RATES_RESPONSE__RISK_RATE_RESULT___ERROR_ERROR);
        out->error = "instrument not found";
        return out;
    }
    out->instrument_uid = (char *)ins->uid;
    const refbook_risk_rates *r = refbook_find_risk_rates(&cfg->analytics, ins->index);
    if (r == NULL) {
        fill_configured_rates(call, out, ins);
        return out;
    }
    out->short_risk_rate = r->has_short ? make_rate(call, &r->short_rate) : NULL;
    out->long_risk_rate = r->has_long ? make_rate(call, &r->long_rate) : NULL;
    out->short_risk_rates = make_rates(call, r->short_rates, r->short_count);
    out->n_short_risk_rates = r->short_count;
    out->long_risk_rates = make_rates(call, r->long_rates, r->long_count);
    out->n_long_risk_rates = r->long_count;
    return out;
}

static void get_risk_rates(api_call *call, const ProtobufCMessage *request) {
    const PB(RiskRatesRequest) *req = (const PB(RiskRatesRequest) *)request;
    int code = api_request_risk_rates(req);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    PB(RiskRatesResponse) *resp = PB_NEW(call, PB(RiskRatesResponse), PB_INIT(RISK_RATES_RESPONSE));
    resp->instrument_risk_rates = (RISK_RESULT **)pb_array(call, req->n_instrument_id);
    for (size_t i = 0; i < req->n_instrument_id; i++)
        resp->instrument_risk_rates[resp->n_instrument_risk_rates++] =
            make_risk_result(call, req->instrument_id[i]);
    api_reply_message(call, &resp->base);
}

#define INSIDER_DEAL PB(GetInsiderDealsResponse__InsiderDeal)

static INSIDER_DEAL *make_deal(api_call *call, const instrument *ins,
                               const refbook_insider_deal *d) {
    INSIDER_DEAL *out =
        PB_NEW(call, INSIDER_DEAL, PB_INIT(GET_INSIDER_DEALS_RESPONSE__INSIDER_DEAL));
    out->trade_id = d->trade_id;
    out->direction = d->direction;
    out->currency = (char *)d->currency;
    out->date = pb_timestamp_s(call, d->date_s);
    out->quantity = d->quantity;
    out->price = pb_quotation(call, d->price_nano);
    out->instrument_uid = (char *)ins->uid;
    out->ticker = (char *)ins->ticker;
    out->investor_name = (char *)d->investor_name;
    out->investor_position = (char *)d->investor_position;
    out->percentage = d->percentage;
    out->is_option_execution = d->is_option_execution;
    out->disclosure_date = time_or_null(call, d->disclosure_date_s);
    return out;
}

static void get_insider_deals(api_call *call, const ProtobufCMessage *request) {
    api_insider_deals_query query;
    char message[API_ASSETS_MESSAGE_SIZE] = "";
    int code =
        api_request_insider_deals(&api_call_config(call)->refdata,
                                  (const PB(GetInsiderDealsRequest) *)request, &query, message);
    const refbook_analytics *a = &api_call_config(call)->analytics;
    uint32_t index = query.instrument != NULL ? query.instrument->index : 0;
    /* A cursor names a deal of this instrument: one past the last is never given out. */
    if (code == 0 && query.has_cursor &&
        (query.from >= a->insider_deal_count || a->insider_deals[query.from].instrument != index))
        code = api_request_bad_cursor(message);
    if (code != 0) {
        reply_code(call, code, message);
        return;
    }
    PB(GetInsiderDealsResponse) *resp =
        PB_NEW(call, PB(GetInsiderDealsResponse), PB_INIT(GET_INSIDER_DEALS_RESPONSE));
    resp->insider_deals = (INSIDER_DEAL **)pb_array(call, query.limit);
    uint32_t next = refbook_next_insider_deal(a, index, query.from);
    while (next < a->insider_deal_count && resp->n_insider_deals < query.limit) {
        resp->insider_deals[resp->n_insider_deals++] =
            make_deal(call, query.instrument, &a->insider_deals[next]);
        next = refbook_next_insider_deal(a, index, next + 1);
    }
    if (next < a->insider_deal_count) {
        char cursor[16];
        api_insider_deals_cursor(next, cursor);
        resp->_next_cursor_case = PB_ENUM(GET_INSIDER_DEALS_RESPONSE___NEXT_CURSOR_NEXT_CURSOR);
        resp->next_cursor = api_call_strdup(call, cursor);
    }
    api_reply_message(call, &resp->base);
}

/* ---- Structured notes ----------------------------------------------------------------------- */

static PB(StructuredNote) * make_note(api_call *call, const refbook_structured_note *n) {
    PB(StructuredNote) *out = PB_NEW(call, PB(StructuredNote), PB_INIT(STRUCTURED_NOTE));
    out->uid = (char *)n->uid;
    out->figi = (char *)n->figi;
    out->ticker = (char *)n->ticker;
    out->class_code = (char *)n->class_code;
    out->isin = (char *)n->isin;
    out->name = (char *)n->name;
    out->asset_uid = (char *)n->asset_uid;
    out->position_uid = (char *)n->position_uid;
    out->min_price_increment = pb_quotation(call, n->min_price_increment_nano);
    out->lot = n->lot;
    out->nominal = pb_money(call, n->nominal_currency, n->nominal_nano);
    out->currency = (char *)n->currency;
    out->maturity_date = time_or_null(call, n->maturity_date_s);
    out->placement_date = time_or_null(call, n->placement_date_s);
    out->issue_kind = (char *)n->issue_kind;
    out->issue_size = n->issue_size;
    out->issue_size_plan = n->issue_size_plan;
    out->dlong_client = pb_quotation(call, 0);
    out->dshort_client = pb_quotation(call, 0);
    out->exchange = (char *)n->exchange;
    out->api_trade_available_flag = n->api_trade_available;
    out->for_qual_investor_flag = n->for_qual_investor;
    out->borrow_name = (char *)n->borrow_name;
    out->type = (char *)n->type;
    out->asset_type = n->asset_type;
    out->sector = (char *)n->sector;
    out->country_of_risk = (char *)n->country_of_risk;
    out->country_of_risk_name = (char *)n->country_of_risk_name;
    return out;
}

/* StructuredNoteBy takes an InstrumentRequest with the checks of GetInstrumentBy (30005, 30007,
 * 30013), then looks among the notes: 50002 when none has the id. */
static void structured_note_by(api_call *call, const ProtobufCMessage *request) {
    const PB(InstrumentRequest) *req = (const PB(InstrumentRequest) *)request;
    const instrument *ins = NULL;
    int code = api_request_instrument_by(&api_call_config(call)->refdata, req, &ins);
    if (code != 0 && code != 50002) {
        api_reply_error(call, code);
        return;
    }
    bool has_class_code =
        req->_class_code_case != PB_ENUM(INSTRUMENT_REQUEST___CLASS_CODE__NOT_SET);
    const refbook_structured_note *note =
        refbook_find_note(&api_call_config(call)->analytics, (int)req->id_type, req->id,
                          has_class_code ? req->class_code : NULL);
    if (note == NULL) {
        api_reply_error(call, 50002);
        return;
    }
    PB(StructuredNoteResponse) *resp =
        PB_NEW(call, PB(StructuredNoteResponse), PB_INIT(STRUCTURED_NOTE_RESPONSE));
    resp->instrument = make_note(call, note);
    api_reply_message(call, &resp->base);
}

static void structured_notes(api_call *call, const ProtobufCMessage *request) {
    api_instruments_filter filter;
    int code = api_request_instruments((const PB(InstrumentsRequest) *)request, &filter);
    if (code != 0) {
        if (filter.message != NULL)
            api_reply_error_message(call, code, filter.message);
        else
            api_reply_error(call, code);
        return;
    }
    const refbook_analytics *a = &api_call_config(call)->analytics;
    PB(StructuredNotesResponse) *resp =
        PB_NEW(call, PB(StructuredNotesResponse), PB_INIT(STRUCTURED_NOTES_RESPONSE));
    resp->instruments = (PB(StructuredNote) **)pb_array(call, a->note_count);
    /* No note is a dealer instrument: a request for dealer instruments lists none. */
    for (uint32_t i = 0; i < a->note_count && !filter.dealer; i++)
        if (filter.all_statuses || a->notes[i].api_trade_available)
            resp->instruments[resp->n_instruments++] = make_note(call, &a->notes[i]);
    api_reply_message(call, &resp->base);
}

#define ASSETS(method, type, fn)                                                                   \
    {                                                                                              \
        .service = "InstrumentsService", .name = method, .request_type = &PB_DESC(type),           \
        .handle = fn                                                                               \
    }
static api_method assets_methods[] = {
    ASSETS("GetAssets", assets_request, get_assets),
    ASSETS("GetAssetBy", asset_request, get_asset_by),
    ASSETS("GetBrands", get_brands_request, get_brands),
    ASSETS("GetBrandBy", get_brand_request, get_brand_by),
    ASSETS("GetCountries", get_countries_request, get_countries),
    ASSETS("GetAssetFundamentals", get_asset_fundamentals_request, get_asset_fundamentals),
    ASSETS("GetAssetReports", get_asset_reports_request, get_asset_reports),
    ASSETS("GetConsensusForecasts", get_consensus_forecasts_request, get_consensus_forecasts),
    ASSETS("GetForecastBy", get_forecast_request, get_forecast_by),
    ASSETS("GetRiskRates", risk_rates_request, get_risk_rates),
    ASSETS("GetInsiderDeals", get_insider_deals_request, get_insider_deals),
    ASSETS("StructuredNoteBy", instrument_request, structured_note_by),
    ASSETS("StructuredNotes", instruments_request, structured_notes),
};

const api_method *api_assets_methods(size_t *count) {
    *count = sizeof assets_methods / sizeof assets_methods[0];
    return assets_methods;
}
