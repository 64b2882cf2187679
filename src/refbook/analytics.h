/* Analytics reference data: the fundamentals of assets, the issuers' report dates, analysts'
 * forecasts (consensus and each house's target), the broker's risk rates per instrument, insider
 * deals and structured notes. Loaded once by config/ (docs/REFERENCE-DATA.md) and read-only
 * afterwards; every instrument is named by its refdata index, so a record never outlives or
 * misnames the universe it was checked against. Each kind is bounded by its REFBOOK_MAX_*. */
#ifndef TINVESTD_REFBOOK_ANALYTICS_H
#define TINVESTD_REFBOOK_ANALYTICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refdata.h"

#define REFBOOK_MAX_FUNDAMENTALS 2048
#define REFBOOK_MAX_ASSET_REPORTS 4096
#define REFBOOK_MAX_CONSENSUS 2048
#define REFBOOK_MAX_TARGETS 4096
#define REFBOOK_MAX_RISK_RATES 2048
#define REFBOOK_MAX_RISK_LEVELS 8
#define REFBOOK_MAX_INSIDER_DEALS 4096
#define REFBOOK_MAX_STRUCTURED_NOTES 256
/* GetAssetFundamentals takes at most this many assets in one request (the contract's "не более
 * 100"). */
#define REFBOOK_MAX_FUNDAMENTALS_PER_REQUEST 100
/* GetInsiderDeals' `limit`: 1 .. this (30242 outside); 0 or absent means this. */
#define REFBOOK_MAX_INSIDER_DEALS_PER_PAGE 100

/* The numeric indicators of GetAssetFundamentals, by their contract name and field number in
 * StatisticResponse; a fundamentals record holds one value per entry, in this order. */
typedef struct refbook_fundamental_field {
    const char *name;
    uint32_t number;
} refbook_fundamental_field;

#define REFBOOK_FUNDAMENTAL_FIELDS 50
extern const refbook_fundamental_field refbook_fundamental_fields[REFBOOK_FUNDAMENTAL_FIELDS];

typedef struct refbook_fundamentals {
    const char *asset_uid;
    const char *currency, *domicile_indicator_code;
    int64_t ex_dividend_date_s, fiscal_period_start_date_s, fiscal_period_end_date_s; /* 0: none */
    double values[REFBOOK_FUNDAMENTAL_FIELDS]; /* 0: no data, as the real API answers */
} refbook_fundamentals;

typedef struct refbook_asset_report {
    uint32_t instrument; /* refdata index */
    int64_t report_date_s, created_at_s;
    int32_t period_year, period_num;
    int32_t period_type; /* AssetReportPeriodType */
} refbook_asset_report;

/* One instrument's consensus forecast (GetConsensusForecasts, and GetForecastBy's consensus). */
typedef struct refbook_consensus {
    uint32_t instrument;
    int64_t created_at_s, prognosis_date_s;
    int64_t best_target_price_nano, best_target_low_nano, best_target_high_nano;
    int64_t current_price_nano, price_change_nano, price_change_rel_nano;
    int32_t total_buy, total_hold, total_sell;
    int32_t recommendation; /* Recommendation */
    const char *currency;
} refbook_consensus;

/* One investment house's target (GetForecastBy's targets). */
typedef struct refbook_target {
    uint32_t instrument;
    const char *company, *currency, *show_name;
    int32_t recommendation;
    int64_t recommendation_date_s;
    int64_t current_price_nano, target_price_nano, price_change_nano, price_change_rel_nano;
} refbook_target;

typedef struct refbook_risk_rate {
    const char *risk_level_code;
    int64_t value_nano;
} refbook_risk_rate;

typedef struct refbook_risk_rates {
    uint32_t instrument;
    bool has_short, has_long;
    refbook_risk_rate short_rate, long_rate;
    uint32_t short_count, long_count;
    refbook_risk_rate short_rates[REFBOOK_MAX_RISK_LEVELS], long_rates[REFBOOK_MAX_RISK_LEVELS];
} refbook_risk_rates;

typedef struct refbook_insider_deal {
    uint32_t instrument;
    int64_t trade_id;
    int32_t direction; /* GetInsiderDealsResponse.TradeDirection */
    const char *currency, *investor_name, *investor_position;
    int64_t date_s, disclosure_date_s;
    int64_t quantity;
    int64_t price_nano;
    float percentage;
    bool is_option_execution;
} refbook_insider_deal;

/* A structured note: an instrument of its own kind, outside the traded universe (the embedded
 * exchange does not trade notes), so it carries its identifiers itself. */
typedef struct refbook_structured_note {
    const char *uid, *figi, *ticker, *class_code, *isin, *name, *asset_uid, *position_uid;
    const char *currency, *nominal_currency, *exchange, *borrow_name, *type, *issue_kind;
    const char *sector, *country_of_risk, *country_of_risk_name;
    int32_t lot;
    int64_t min_price_increment_nano, nominal_nano;
    int64_t maturity_date_s, placement_date_s;
    int32_t issue_size, issue_size_plan;
    int32_t asset_type; /* AssetType of the basic assets */
    bool api_trade_available, for_qual_investor;
} refbook_structured_note;

typedef struct refbook_analytics {
    uint32_t fundamentals_count, report_count, consensus_count, target_count;
    uint32_t risk_rates_count, insider_deal_count, note_count;
    refbook_fundamentals fundamentals[REFBOOK_MAX_FUNDAMENTALS];
    refbook_asset_report reports[REFBOOK_MAX_ASSET_REPORTS];
    refbook_consensus consensus[REFBOOK_MAX_CONSENSUS];
    refbook_target targets[REFBOOK_MAX_TARGETS];
    refbook_risk_rates risk_rates[REFBOOK_MAX_RISK_RATES];
    refbook_insider_deal insider_deals[REFBOOK_MAX_INSIDER_DEALS];
    refbook_structured_note notes[REFBOOK_MAX_STRUCTURED_NOTES];
} refbook_analytics;

/* The index of `name` in refbook_fundamental_fields, or -1. */
int refbook_fundamental_field_index(const char *name);
const refbook_fundamentals *refbook_find_fundamentals(const refbook_analytics *a,
                                                      const char *asset_uid);
/* The consensus of an instrument (by refdata index), or NULL. */
const refbook_consensus *refbook_find_consensus(const refbook_analytics *a,
                                                uint32_t instrument_index);
const refbook_risk_rates *refbook_find_risk_rates(const refbook_analytics *a,
                                                  uint32_t instrument_index);
/* A structured note by its FIGI, uid, position uid, or ticker and class code (`class_code` only
 * for a ticker); NULL when none has it. `id_type` is the contract's InstrumentIdType. */
const refbook_structured_note *refbook_find_note(const refbook_analytics *a, int id_type,
                                                 const char *id, const char *class_code);

/* The next insider deal of `instrument` at or after position `from` of the deals, or the
 * deal count when there is none. */
uint32_t refbook_next_insider_deal(const refbook_analytics *a, uint32_t instrument_index,
                                   uint32_t from);

#endif
