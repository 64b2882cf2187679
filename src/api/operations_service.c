/* OperationsService: positions, portfolio and withdraw limits from the broker's ledger.
 * Read on the core thread, which owns the ledger. */
#include "api/services.h"

#include <assert.h>
#include <string.h>

#include "api/core_errors.h"
#include "api/core_job.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"
#include "core/valuation.h"
#include "util/money.h"

static const char *kind_name(instrument_kind kind) {
    switch (kind) {
    case INSTRUMENT_KIND_SHARE:
        return "share";
    case INSTRUMENT_KIND_BOND:
        return "bond";
    case INSTRUMENT_KIND_ETF:
        return "etf";
    case INSTRUMENT_KIND_FUTURE:
        return "futures";
    case INSTRUMENT_KIND_CURRENCY:
        return "currency";
    }
    return "";
}

/* An account's cash, positions and the market of every instrument, copied on the core thread
 * when the job runs; the reply is encoded from this copy alone. */
typedef struct account_read_job {
    api_core_job job; /* must stay first */
    core_error error;
    const account *account;
    ledger_cash cash[REFDATA_MAX_CURRENCIES];
    uint32_t cash_count;
    ledger_position *positions; /* per instrument */
    core_market *markets;       /* per instrument */
} account_read_job;

static void run_read_account(engine *e, engine_job *base) {
    account_read_job *job = (account_read_job *)base;
    api_call *call = job->job.call;
    const char *account_id = call->user;
    const core *c = engine_core(e);
    job->error = core_account_for(c, call->token, account_id, false, &job->account);
    if (job->error == CORE_OK) {
        uint32_t n = c->refdata->instrument_count;
        job->cash_count = core_account_cash(c, job->account->index, job->cash);
        job->positions = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof *job->positions);
        job->markets = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof *job->markets);
        for (uint32_t i = 0; i < n; i++) {
            job->positions[i] = core_account_position(c, job->account->index, i);
            core_market_view(c, i, &job->markets[i]);
        }
    }
    engine_finish_after_commit(e, base);
}

static void read_account(api_call *call, const char *account_id,
                         void (*finish)(engine *, engine_job *)) {
    call->user = (void *)account_id;
    api_core_job_submit(api_core_job_new(call, sizeof(account_read_job)), run_read_account, finish);
}

/* The job, or NULL after answering the call with the error it met. */
static const account_read_job *read_result(engine_job *base) {
    account_read_job *job = (account_read_job *)base;
    if (job->error == CORE_OK)
        return job;
    api_reply_core_error(job->job.call, job->error);
    return NULL;
}

static const ledger_cash *cash_in(const account_read_job *job, const char *currency) {
    for (uint32_t i = 0; i < job->cash_count; i++)
        if (strcmp(job->cash[i].currency, currency) == 0)
            return &job->cash[i];
    return NULL;
}

/* `money` is what is free; `blocked` what open orders hold, as the real API reports. */
static void set_cash(api_call *call, const account_read_job *job, PB(MoneyValue) * **money,
                     size_t *n_money, PB(MoneyValue) * **blocked, size_t *n_blocked) {
    *money = (PB(MoneyValue) **)pb_array(call, job->cash_count);
    *blocked = (PB(MoneyValue) **)pb_array(call, job->cash_count);
    for (uint32_t i = 0; i < job->cash_count; i++) {
        const ledger_cash *cash = &job->cash[i];
        (*money)[(*n_money)++] =
            pb_money(call, cash->currency, cash->balance_nano - cash->blocked_nano);
        if (cash->blocked_nano != 0)
            (*blocked)[(*n_blocked)++] = pb_money(call, cash->currency, cash->blocked_nano);
    }
}

static void finish_positions(engine *e, engine_job *base) {
    const account_read_job *job = read_result(base);
    if (job == NULL)
        return;
    api_call *call = job->job.call;
    const refdata *rd = &call->server->config->refdata;
    PB(PositionsResponse) *r = PB_NEW(call, PB(PositionsResponse), PB_INIT(POSITIONS_RESPONSE));
    r->account_id = (char *)job->account->id;
    set_cash(call, job, &r->money, &r->n_money, &r->blocked, &r->n_blocked);
    r->securities = (PB(PositionsSecurities) **)pb_array(call, rd->instrument_count);
    r->futures = (PB(PositionsFutures) **)pb_array(call, rd->instrument_count);
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const ledger_position *pos = &job->positions[i];
        if (pos->balance_units == 0 && pos->blocked_units == 0)
            continue;
        const instrument *ins = &rd->instruments[i];
        if (ins->kind == INSTRUMENT_KIND_FUTURE) {
            PB(PositionsFutures) *f =
                PB_NEW(call, PB(PositionsFutures), PB_INIT(POSITIONS_FUTURES));
            f->figi = (char *)ins->figi;
            f->blocked = pos->blocked_units;
            f->balance = pos->balance_units - pos->blocked_units;
            f->position_uid = (char *)ins->position_uid;
            f->instrument_uid = (char *)ins->uid;
            f->ticker = (char *)ins->ticker;
            f->class_code = (char *)ins->class_code;
            r->futures[r->n_futures++] = f;
            continue;
        }
        PB(PositionsSecurities) *s =
            PB_NEW(call, PB(PositionsSecurities), PB_INIT(POSITIONS_SECURITIES));
        s->figi = (char *)ins->figi;
        s->blocked = pos->blocked_units;
        s->balance = pos->balance_units - pos->blocked_units;
        s->position_uid = (char *)ins->position_uid;
        s->instrument_uid = (char *)ins->uid;
        s->ticker = (char *)ins->ticker;
        s->class_code = (char *)ins->class_code;
        s->instrument_type = (char *)kind_name(ins->kind);
        r->securities[r->n_securities++] = s;
    }
    api_reply_message(call, &r->base);
}

static void finish_withdraw_limits(engine *e, engine_job *base) {
    const account_read_job *job = read_result(base);
    if (job == NULL)
        return;
    api_call *call = job->job.call;
    PB(WithdrawLimitsResponse) *r =
        PB_NEW(call, PB(WithdrawLimitsResponse), PB_INIT(WITHDRAW_LIMITS_RESPONSE));
    set_cash(call, job, &r->money, &r->n_money, &r->blocked, &r->n_blocked);
    api_reply_message(call, &r->base);
}

/* Sums over positions are taken in 128 bits: a total past what a MoneyValue holds is shown at
 * the largest value it can hold, never wrapped. */
typedef struct portfolio_totals {
    __int128 by_kind[6]; /* indexed by instrument_kind */
    __int128 cash_rub, expected_yield;
} portfolio_totals;

static int64_t saturated(__int128 v) {
    return v > INT64_MAX ? INT64_MAX : v < -INT64_MAX ? -INT64_MAX : (int64_t)v;
}

/* Units to a Quotation count (units x 10^9), saturated. */
static int64_t count_nano(int64_t units) {
    return saturated((__int128)units * 1000000000);
}

/* `quantity_lots` is deprecated in the contract but still filled: bots written against older
 * releases read it. */
static void set_quantity_lots(api_call *call, PB(PortfolioPosition) * p, int64_t lots_nano) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    p->quantity_lots = pb_quotation(call, lots_nano);
#pragma GCC diagnostic pop
}

/* Value of `units` at `price`, saturated when it does not fit in int64 nano. */
static int64_t position_value(const instrument *ins, int64_t price_nano, int64_t units) {
    int64_t value;
    return valuation_amount(ins, price_nano, units, &value) ? value : INT64_MAX;
}

static PB(PortfolioPosition) *
    portfolio_position(api_call *call, const instrument *ins, const core_market *market,
                       const ledger_position *pos, portfolio_totals *totals) {
    int64_t price = market->last_price_nano ? market->last_price_nano : ins->reference_price_nano;
    int64_t value = position_value(ins, price, pos->balance_units);
    int64_t cost = position_value(ins, pos->average_price_nano, pos->balance_units);
    totals->by_kind[ins->kind] += value;
    totals->expected_yield += (__int128)value - cost;
    PB(PortfolioPosition) *p = PB_NEW(call, PB(PortfolioPosition), PB_INIT(PORTFOLIO_POSITION));
    p->figi = (char *)ins->figi;
    p->instrument_type = (char *)kind_name(ins->kind);
    p->quantity = pb_quotation(call, count_nano(pos->balance_units));
    set_quantity_lots(call, p, count_nano(pos->balance_units / ins->lot));
    p->average_position_price = pb_money(call, ins->currency, pos->average_price_nano);
    p->average_position_price_fifo = pb_money(call, ins->currency, pos->average_price_nano);
    p->expected_yield = pb_quotation(call, saturated((__int128)value - cost));
    p->expected_yield_fifo = pb_quotation(call, saturated((__int128)value - cost));
    p->current_nkd = pb_money(call, ins->currency, 0);
    p->current_price = pb_money(call, ins->currency, price);
    p->blocked = pos->blocked_units > 0;
    p->blocked_lots = pb_quotation(call, count_nano(pos->blocked_units / ins->lot));
    p->position_uid = (char *)ins->position_uid;
    p->instrument_uid = (char *)ins->uid;
    p->var_margin = pb_money(call, ins->currency, 0);
    p->daily_yield = pb_money(call, ins->currency, 0);
    p->ticker = (char *)ins->ticker;
    p->class_code = (char *)ins->class_code;
    return p;
}

/* The rouble cash as the real GetPortfolio lists it: a "currency" position under the rouble's own
 * FIGI and uids, quantity = the balance, price 1. */
#define ROUBLE_FIGI "RUB000UTSTOM"
#define ROUBLE_INSTRUMENT_UID "a92e2e25-a698-45cc-a781-167cf465257c"
#define ROUBLE_POSITION_UID "33e24a92-aab0-409c-88b8-f2d57415b920"

static PB(PortfolioPosition) * rouble_position(api_call *call, const ledger_cash *rub) {
    PB(PortfolioPosition) *p = PB_NEW(call, PB(PortfolioPosition), PB_INIT(PORTFOLIO_POSITION));
    p->figi = ROUBLE_FIGI;
    p->instrument_type = "currency";
    p->quantity = pb_quotation(call, rub->balance_nano);
    set_quantity_lots(call, p, rub->balance_nano);
    p->average_position_price = pb_money(call, "rub", 1000000000LL);
    p->average_position_price_fifo = pb_money(call, "rub", 1000000000LL);
    p->current_price = pb_money(call, "rub", 1000000000LL);
    p->expected_yield = pb_quotation(call, 0);
    p->expected_yield_fifo = pb_quotation(call, 0);
    p->current_nkd = pb_money(call, "rub", 0);
    p->var_margin = pb_money(call, "rub", 0);
    p->daily_yield = pb_money(call, "rub", 0);
    p->blocked = rub->blocked_nano > 0;
    p->blocked_lots = pb_quotation(call, rub->blocked_nano);
    p->position_uid = ROUBLE_POSITION_UID;
    p->instrument_uid = ROUBLE_INSTRUMENT_UID;
    p->ticker = ""; /* not shown in the real replies we have seen */
    p->class_code = "";
    return p;
}

/* A total in the currency the request asked for: roubles converted at its configured rate, shown
 * at the largest value a MoneyValue holds when the result does not fit. */
static PB(MoneyValue) * total_in(api_call *call, const api_portfolio_currency *cur, __int128 rub) {
    int64_t value = saturated(rub);
    if (money_convert(value, cur->rub_nano, &value) != 0)
        value = rub < 0 ? -INT64_MAX : INT64_MAX;
    return pb_money(call, cur->currency, value);
}

/* The instruments here are all quoted in roubles: the totals are summed in roubles, then given in
 * the currency the request asks for (`currency`, roubles by default). */
static void finish_portfolio(engine *e, engine_job *base) {
    const account_read_job *job = read_result(base);
    if (job == NULL)
        return;
    api_call *call = job->job.call;
    const refdata *rd = &call->server->config->refdata;
    api_portfolio_currency cur;
    int code =
        api_request_portfolio_currency(rd, (const PB(PortfolioRequest) *)call->request, &cur);
    assert(code == 0); /* checked before the read was queued; the rates are immutable */
    PB(PortfolioResponse) *r = PB_NEW(call, PB(PortfolioResponse), PB_INIT(PORTFOLIO_RESPONSE));
    r->account_id = (char *)job->account->id;
    portfolio_totals totals;
    memset(&totals, 0, sizeof totals);
    const ledger_cash *rub = cash_in(job, "rub");
    r->positions = (PB(PortfolioPosition) **)pb_array(call, rd->instrument_count + 1);
    if (rub != NULL)
        r->positions[r->n_positions++] = rouble_position(call, rub);
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const ledger_position *pos = &job->positions[i];
        if (pos->balance_units != 0)
            r->positions[r->n_positions++] =
                portfolio_position(call, &rd->instruments[i], &job->markets[i], pos, &totals);
    }
    totals.cash_rub = rub ? rub->balance_nano : 0;
    r->total_amount_shares = total_in(call, &cur, totals.by_kind[INSTRUMENT_KIND_SHARE]);
    r->total_amount_bonds = total_in(call, &cur, totals.by_kind[INSTRUMENT_KIND_BOND]);
    r->total_amount_etf = total_in(call, &cur, totals.by_kind[INSTRUMENT_KIND_ETF]);
    r->total_amount_currencies =
        total_in(call, &cur, totals.cash_rub + totals.by_kind[INSTRUMENT_KIND_CURRENCY]);
    r->total_amount_futures = total_in(call, &cur, totals.by_kind[INSTRUMENT_KIND_FUTURE]);
    r->total_amount_options = total_in(call, &cur, 0);
    r->total_amount_sp = total_in(call, &cur, 0);
    __int128 total = totals.cash_rub;
    for (int k = 1; k < 6; k++)
        total += totals.by_kind[k];
    r->total_amount_portfolio = total_in(call, &cur, total);
    r->expected_yield = pb_quotation(call, saturated(totals.expected_yield));
    r->daily_yield = total_in(call, &cur, 0);
    r->daily_yield_relative = pb_quotation(call, 0);
    api_reply_message(call, &r->base);
}

static void get_positions(api_call *call, const ProtobufCMessage *request) {
    read_account(call, ((const PB(PositionsRequest) *)request)->account_id, finish_positions);
}

static void get_withdraw_limits(api_call *call, const ProtobufCMessage *request) {
    read_account(call, ((const PB(WithdrawLimitsRequest) *)request)->account_id,
                 finish_withdraw_limits);
}

static void get_portfolio(api_call *call, const ProtobufCMessage *request) {
    const PB(PortfolioRequest) *in = (const PB(PortfolioRequest) *)request;
    api_portfolio_currency cur;
    int code = api_request_portfolio_currency(&call->server->config->refdata, in, &cur);
    if (code != 0)
        api_reply_error(call, code);
    else
        read_account(call, in->account_id, finish_portfolio);
}

/* Answers a state-changing request that failed: refused because the journal cannot be written
 * (70003), or rejected by the core. False when it succeeded and is still to answer. */
static bool replied_failure(api_core_job *job, core_error error) {
    if (api_reply_if_refused(job))
        return true;
    if (error != CORE_OK)
        api_reply_core_error(job->call, error);
    return error != CORE_OK;
}

/* Queues a job that changes state (refused while the journal cannot be written). */
static void submit_change(api_call *call, size_t job_size, void (*run)(engine *, engine_job *),
                          void (*finish)(engine *, engine_job *)) {
    api_core_job *job = api_core_job_new(call, job_size);
    job->base.mutates = true;
    api_core_job_submit(job, run, finish);
}

typedef struct pay_in_job {
    api_core_job job; /* must stay first */
    int code;         /* a decoding error (T-Invest code), or 0 */
    core_error error;
    int64_t balance_nano;
} pay_in_job;

static void run_pay_in(engine *e, engine_job *base) {
    pay_in_job *job = (pay_in_job *)base;
    const PB(SandboxPayInRequest) *in = (const PB(SandboxPayInRequest) *)job->job.call->request;
    int64_t amount_nano = 0;
    job->code = api_request_pay_in_amount(in, &amount_nano);
    if (job->code == 0)
        job->error =
            core_pay_in(engine_core(e), job->job.call->token, in->account_id, in->amount->currency,
                        amount_nano, engine_now_ns(e), &job->balance_nano);
    engine_finish_after_commit(e, base);
}

static void finish_pay_in(engine *e, engine_job *base) {
    pay_in_job *job = (pay_in_job *)base;
    api_call *call = job->job.call;
    if (job->code != 0 && !api_reply_if_refused(&job->job)) {
        api_reply_error(call, job->code);
        return;
    }
    if (job->code != 0 || replied_failure(&job->job, job->error))
        return;
    const PB(SandboxPayInRequest) *in = (const PB(SandboxPayInRequest) *)call->request;
    PB(SandboxPayInResponse) *r =
        PB_NEW(call, PB(SandboxPayInResponse), PB_INIT(SANDBOX_PAY_IN_RESPONSE));
    r->balance = pb_money(call, in->amount->currency, job->balance_nano);
    api_reply_message(call, &r->base);
}

static void sandbox_pay_in(api_call *call, const ProtobufCMessage *request) {
    submit_change(call, sizeof(pay_in_job), run_pay_in, finish_pay_in);
}

/* ---- OpenSandboxAccount, CloseSandboxAccount ------------------------------------------------ */

typedef struct sandbox_account_job {
    api_core_job job; /* must stay first */
    core_error error;
    char account_id[ORDER_ID_SIZE];
} sandbox_account_job;

static void run_open_account(engine *e, engine_job *base) {
    sandbox_account_job *job = (sandbox_account_job *)base;
    const PB(OpenSandboxAccountRequest) *in =
        (const PB(OpenSandboxAccountRequest) *)job->job.call->request;
    job->error = core_open_sandbox_account(engine_core(e), job->job.call->token,
                                           api_request_open_account_name(in), engine_now_ns(e),
                                           job->account_id);
    engine_finish_after_commit(e, base);
}

static void finish_open_account(engine *e, engine_job *base) {
    sandbox_account_job *job = (sandbox_account_job *)base;
    api_call *call = job->job.call;
    if (replied_failure(&job->job, job->error))
        return;
    PB(OpenSandboxAccountResponse) *r =
        PB_NEW(call, PB(OpenSandboxAccountResponse), PB_INIT(OPEN_SANDBOX_ACCOUNT_RESPONSE));
    r->account_id = api_call_alloc(call, sizeof job->account_id);
    memcpy(r->account_id, job->account_id, sizeof job->account_id);
    api_reply_message(call, &r->base);
}

static void open_sandbox_account(api_call *call, const ProtobufCMessage *request) {
    submit_change(call, sizeof(sandbox_account_job), run_open_account, finish_open_account);
}

static void run_close_account(engine *e, engine_job *base) {
    sandbox_account_job *job = (sandbox_account_job *)base;
    const PB(CloseSandboxAccountRequest) *in =
        (const PB(CloseSandboxAccountRequest) *)job->job.call->request;
    job->error = core_close_sandbox_account(engine_core(e), job->job.call->token, in->account_id,
                                            engine_now_ns(e));
    engine_finish_after_commit(e, base);
}

static void finish_close_account(engine *e, engine_job *base) {
    sandbox_account_job *job = (sandbox_account_job *)base;
    api_call *call = job->job.call;
    if (replied_failure(&job->job, job->error))
        return;
    PB(CloseSandboxAccountResponse) *r =
        PB_NEW(call, PB(CloseSandboxAccountResponse), PB_INIT(CLOSE_SANDBOX_ACCOUNT_RESPONSE));
    api_reply_message(call, &r->base);
}

static void close_sandbox_account(api_call *call, const ProtobufCMessage *request) {
    submit_change(call, sizeof(sandbox_account_job), run_close_account, finish_close_account);
}

/* Listed on the core thread in command order and answered once the batch is durable: an
 * account OpenSandboxAccount has just opened is listed only once its event is, and one opened
 * by a later batch is not listed at all. */
static const ProtobufCMessage *read_sandbox_accounts(engine *e, api_call *call) {
    return api_accounts_reply(call, call->request, true);
}

static void get_sandbox_accounts(api_call *call, const ProtobufCMessage *request) {
    api_read_on_core(call, read_sandbox_accounts);
}

#define OPERATIONS(service_name, method, type, fn)                                                 \
    { .service = service_name, .name = method, .request_type = &PB_DESC(type), .handle = fn }
static api_method operations_methods[] = {
    OPERATIONS("OperationsService", "GetPositions", positions_request, get_positions),
    OPERATIONS("OperationsService", "GetPortfolio", portfolio_request, get_portfolio),
    OPERATIONS("OperationsService", "GetWithdrawLimits", withdraw_limits_request,
               get_withdraw_limits),
    OPERATIONS("SandboxService", "GetSandboxPositions", positions_request, get_positions),
    OPERATIONS("SandboxService", "GetSandboxPortfolio", portfolio_request, get_portfolio),
    OPERATIONS("SandboxService", "GetSandboxWithdrawLimits", withdraw_limits_request,
               get_withdraw_limits),
    OPERATIONS("SandboxService", "SandboxPayIn", sandbox_pay_in_request, sandbox_pay_in),
    OPERATIONS("SandboxService", "GetSandboxAccounts", get_accounts_request, get_sandbox_accounts),
    OPERATIONS("SandboxService", "OpenSandboxAccount", open_sandbox_account_request,
               open_sandbox_account),
    OPERATIONS("SandboxService", "CloseSandboxAccount", close_sandbox_account_request,
               close_sandbox_account),
};

const api_method *api_operations_methods(size_t *count) {
    *count = sizeof operations_methods / sizeof operations_methods[0];
    return operations_methods;
}
