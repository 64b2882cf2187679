/* The checks of the requests of assets, brands, countries, analytics (InstrumentsService) and
 * of SignalService, in the order their handlers make them (api/assets_service.c,
 * api/signals_service.c); pure functions of the request and the reference data, fuzzed through
 * api/request.c's table like every other request. A code with a text of its own (30102) leaves
 * it in `message`. */
#ifndef TINVESTD_API_ASSETS_REQUEST_H
#define TINVESTD_API_ASSETS_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "api/contract.h"
#include "core/refdata.h"
#include "refbook/refbook.h"

#define API_ASSETS_MESSAGE_SIZE 128

/* GetAssets' filter: the instrument kind (0: any) and whether untradeable instruments count. */
typedef struct api_assets_filter {
    int32_t instrument_kind;
    bool all_statuses;
} api_assets_filter;

/* 30102 for an `instrument_type` the contract does not define, 30050 for such an
 * `instrument_status`. */
int api_request_assets(const PB(AssetsRequest) * in, api_assets_filter *out, char *message);
/* GetAssetBy, GetBrandBy: 30102 for an empty `id` (the lookup answers 50009 / 50010). */
int api_request_asset_by(const PB(AssetRequest) * in, char *message);
int api_request_brand_by(const PB(GetBrandRequest) * in, char *message);
/* A Page: 30107 for a negative `limit` or `page_number` (the page itself is taken against the
 * list by refbook_page_of). */
int api_request_page(const PB(Page) * paging);
/* GetAssetFundamentals: 30102 when no asset is named, 30091 for more than
 * REFBOOK_MAX_FUNDAMENTALS_PER_REQUEST. */
int api_request_asset_fundamentals(const PB(GetAssetFundamentalsRequest) * in, char *message);

/* GetAssetReports' instrument and period (from_s / to_s: INT64_MIN / INT64_MAX when absent). */
typedef struct api_asset_reports_query {
    const instrument *instrument;
    int64_t from_s, to_s;
} api_asset_reports_query;

/* 30237 for an empty `instrument_id`, 50002 for one nothing has; 30009 / 30061, 30010 / 30062
 * for a bound that is not a Timestamp or lies outside the contract's range; 30012 when `to` is
 * before `from`. */
int api_request_asset_reports(const refdata *rd, const PB(GetAssetReportsRequest) * in,
                              api_asset_reports_query *out);
/* GetForecastBy: 30237 for an empty `instrument_id`, 50002 for one nothing has. */
int api_request_forecast_by(const refdata *rd, const PB(GetForecastRequest) * in,
                            const instrument **out);
/* GetRiskRates: 30237 when none is named, 30218 for more than API_MAX_INSTRUMENTS_PER_REQUEST
 * (3000); an unknown one is answered with an error of its own in its result. */
int api_request_risk_rates(const PB(RiskRatesRequest) * in);

/* GetInsiderDeals: the instrument, the page size and where the page starts. */
typedef struct api_insider_deals_query {
    const instrument *instrument;
    uint32_t limit;
    bool has_cursor;
    uint32_t from; /* position in the deals the cursor names (0: the first) */
} api_insider_deals_query;

/* 30237 / 50002 for the instrument, 30242 for a `limit` outside 0 .. 100 (0: 100), 30102 for a
 * `next_cursor` that is not a cursor this server writes. The handler then refuses (with
 * api_request_bad_cursor) a cursor that names no deal of the instrument. */
int api_request_insider_deals(const refdata *rd, const PB(GetInsiderDealsRequest) * in,
                              api_insider_deals_query *out, char *message);
int api_request_bad_cursor(char *message);
/* The cursor of the deals from position `from` on. */
void api_insider_deals_cursor(uint32_t from, char out[16]);

/* GetStrategies: 30223 for a `strategy_id` that is not a UUID. */
int api_request_strategies(const PB(GetStrategiesRequest) * in);
/* GetSignals as a filter, in this order: 30222 / 30223 for a `signal_id` / `strategy_id` that is
 * not a UUID, 30102 for a `strategy_type`, `direction` or `active` the contract does not define,
 * 50002 for an `instrument_uid` nothing has, 30009 / 30061 and 30010 / 30062 for the times,
 * 30012 when `to` is before `from`, 30107 for a negative page. */
int api_request_signals(const refdata *rd, const PB(GetSignalsRequest) * in,
                        refbook_signal_filter *out, char *message);

#endif
