/* One account's holdings as GetPortfolio, GetPositions and the account streams show them.
 *
 * DESIGN: a view is a plain copy taken on the core thread (cash, every position, and the market
 * of every instrument for the valuation); the replies and stream messages are built from the
 * copy alone, off the core thread, into a call's scratch memory. GetPortfolio and
 * PortfolioStream build the same message through api_portfolio_build, GetPositions and the
 * positions stream's entries through the builders below. */
#ifndef TINVESTD_API_ACCOUNT_VIEW_H
#define TINVESTD_API_ACCOUNT_VIEW_H

#include "api/call.h"
#include "api/contract.h"
#include "api/request.h"
#include "core/core.h"

typedef struct api_account_view {
    const account *account;
    ledger_cash cash[REFDATA_MAX_CURRENCIES];
    uint32_t cash_count;
    ledger_position *positions; /* per instrument, the caller's memory */
    core_market *markets;       /* per instrument, the caller's memory; NULL for positions only */
    /* Per instrument, the caller's memory or NULL: a futures position's variation margin not paid
     * yet (since the last clearing, at the last price), 0 for other instruments. */
    int64_t *var_margin;
} api_account_view;

/* On the core thread: copies the account's cash and positions (and, with view->markets set, the
 * market of every instrument) into the view, whose arrays the caller sized for every
 * instrument. */
void api_account_view_read(const core *c, const account *acc, api_account_view *view);

/* GetPortfolio's message, its totals in `cur`. */
PB(PortfolioResponse) * api_portfolio_build(api_call *call, const refdata *rd,
                                            const api_account_view *view,
                                            const api_portfolio_currency *cur);
/* GetPositions' message. */
PB(PositionsResponse) *
    api_positions_build(api_call *call, const refdata *rd, const api_account_view *view);
/* `money` is what is free; `blocked` what open orders hold, as the real API reports. */
void api_account_cash(api_call *call, const api_account_view *view, PB(MoneyValue) * **money,
                      size_t *n_money, PB(MoneyValue) * **blocked, size_t *n_blocked);
/* One position entry as GetPositions lists it. */
PB(PositionsSecurities) *
    api_position_security(api_call *call, const instrument *ins, const ledger_position *pos);
PB(PositionsFutures) *
    api_position_future(api_call *call, const instrument *ins, const ledger_position *pos);

#endif
