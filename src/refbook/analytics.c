#include "refbook/analytics.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

const refbook_fundamental_field refbook_fundamental_fields[REFBOOK_FUNDAMENTAL_FIELDS] = {
    {"market_capitalization", 3},
    {"high_price_last_52_weeks", 4},
    {"low_price_last_52_weeks", 5},
    {"average_daily_volume_last_10_days", 6},
    {"average_daily_volume_last_4_weeks", 7},
    {"beta", 8},
    {"free_float", 9},
    {"forward_annual_dividend_yield", 10},
    {"shares_outstanding", 11},
    {"revenue_ttm", 12},
    {"ebitda_ttm", 13},
    {"net_income_ttm", 14},
    {"eps_ttm", 15},
    {"diluted_eps_ttm", 16},
    {"free_cash_flow_ttm", 17},
    {"five_year_annual_revenue_growth_rate", 18},
    {"three_year_annual_revenue_growth_rate", 19},
    {"pe_ratio_ttm", 20},
    {"price_to_sales_ttm", 21},
    {"price_to_book_ttm", 22},
    {"price_to_free_cash_flow_ttm", 23},
    {"total_enterprise_value_mrq", 24},
    {"ev_to_ebitda_mrq", 25},
    {"net_margin_mrq", 26},
    {"net_interest_margin_mrq", 27},
    {"roe", 28},
    {"roa", 29},
    {"roic", 30},
    {"total_debt_mrq", 31},
    {"total_debt_to_equity_mrq", 32},
    {"total_debt_to_ebitda_mrq", 33},
    {"free_cash_flow_to_price", 34},
    {"net_debt_to_ebitda", 35},
    {"current_ratio_mrq", 36},
    {"fixed_charge_coverage_ratio_fy", 37},
    {"dividend_yield_daily_ttm", 38},
    {"dividend_rate_ttm", 39},
    {"dividends_per_share", 40},
    {"five_years_average_dividend_yield", 41},
    {"five_year_annual_dividend_growth_rate", 42},
    {"dividend_payout_ratio_fy", 43},
    {"buy_back_ttm", 44},
    {"one_year_annual_revenue_growth_rate", 45},
    {"adr_to_common_share_ratio", 47},
    {"number_of_employees", 48},
    {"revenue_change_five_years", 53},
    {"eps_change_five_years", 54},
    {"ebitda_change_five_years", 55},
    {"total_debt_change_five_years", 56},
    {"ev_to_sales", 57},
};

int refbook_fundamental_field_index(const char *name) {
    for (int i = 0; i < REFBOOK_FUNDAMENTAL_FIELDS; i++)
        if (strcmp(refbook_fundamental_fields[i].name, name) == 0)
            return i;
    return -1;
}

const refbook_fundamentals *refbook_find_fundamentals(const refbook_analytics *a,
                                                      const char *asset_uid) {
    for (uint32_t i = 0; i < a->fundamentals_count; i++)
        if (strcasecmp(a->fundamentals[i].asset_uid, asset_uid) == 0)
            return &a->fundamentals[i];
    return NULL;
}

const refbook_consensus *refbook_find_consensus(const refbook_analytics *a,
                                                uint32_t instrument_index) {
    for (uint32_t i = 0; i < a->consensus_count; i++)
        if (a->consensus[i].instrument == instrument_index)
            return &a->consensus[i];
    return NULL;
}

const refbook_risk_rates *refbook_find_risk_rates(const refbook_analytics *a,
                                                  uint32_t instrument_index) {
    for (uint32_t i = 0; i < a->risk_rates_count; i++)
        if (a->risk_rates[i].instrument == instrument_index)
            return &a->risk_rates[i];
    return NULL;
}

/* InstrumentIdType values. */
enum { ID_FIGI = 1, ID_TICKER = 2, ID_UID = 3, ID_POSITION_UID = 4 };

static bool note_has_id(const refbook_structured_note *n, int id_type, const char *id,
                        const char *class_code) {
    switch (id_type) {
    case ID_FIGI:
        return strcasecmp(n->figi, id) == 0;
    case ID_UID:
        return strcasecmp(n->uid, id) == 0;
    case ID_POSITION_UID:
        return strcasecmp(n->position_uid, id) == 0;
    case ID_TICKER:
        return class_code != NULL && strcasecmp(n->ticker, id) == 0 &&
               strcasecmp(n->class_code, class_code) == 0;
    default:
        return false;
    }
}

const refbook_structured_note *refbook_find_note(const refbook_analytics *a, int id_type,
                                                 const char *id, const char *class_code) {
    if (id == NULL || id[0] == '\0')
        return NULL;
    for (uint32_t i = 0; i < a->note_count; i++)
        if (note_has_id(&a->notes[i], id_type, id, class_code))
            return &a->notes[i];
    return NULL;
}

uint32_t refbook_next_insider_deal(const refbook_analytics *a, uint32_t instrument_index,
                                   uint32_t from) {
    for (uint32_t i = from; i < a->insider_deal_count; i++)
        if (a->insider_deals[i].instrument == instrument_index)
            return i;
    return a->insider_deal_count;
}
