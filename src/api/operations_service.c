/* OperationsService: positions, portfolio and withdraw limits from the broker's ledger.
 * Read on the core thread, which owns the ledger. */
#include "api/services.h"

#include <assert.h>
#include <string.h>

#include "api/account_view.h"
#include "api/core_errors.h"
#include "api/core_job.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"

/* An account's cash, positions and the market of every instrument, copied on the core thread
 * when the job runs; the reply is encoded from this copy alone. */
typedef struct account_read_job {
    api_core_job job; /* must stay first */
    core_error error;
    api_account_view view;
} account_read_job;

static void run_read_account(engine *e, engine_job *base) {
    account_read_job *job = (account_read_job *)base;
    api_call *call = job->job.call;
    const char *account_id = call->user;
    const core *c = engine_core(e);
    const account *acc = NULL;
    job->error = core_account_for(c, call->token, account_id, false, &acc);
    if (job->error == CORE_OK) {
        uint32_t n = c->refdata->instrument_count;
        job->view.positions = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof(ledger_position));
        job->view.markets = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof(core_market));
        job->view.var_margin = api_call_alloc(call, (size_t)(n ? n : 1) * sizeof(int64_t));
        api_account_view_read(c, acc, &job->view);
    }
    engine_finish_after_commit(e, base);
}

static void read_account(api_call *call, const char *account_id,
                         void (*finish)(engine *, engine_job *)) {
    call->user = (void *)account_id;
    api_core_job_submit(api_core_job_new(call, sizeof(account_read_job)), run_read_account, finish);
}

/* The job's view, or NULL after answering the call with the error it met. */
static const api_account_view *read_result(engine_job *base) {
    account_read_job *job = (account_read_job *)base;
    if (job->error == CORE_OK)
        return &job->view;
    api_reply_core_error(job->job.call, job->error);
    return NULL;
}

static void finish_positions(engine *e, engine_job *base) {
    const api_account_view *view = read_result(base);
    if (view == NULL)
        return;
    api_call *call = ((account_read_job *)base)->job.call;
    api_reply_message(call, &api_positions_build(call, api_call_refdata(call), view)->base);
}

static void finish_withdraw_limits(engine *e, engine_job *base) {
    const api_account_view *view = read_result(base);
    if (view == NULL)
        return;
    api_call *call = ((account_read_job *)base)->job.call;
    PB(WithdrawLimitsResponse) *r =
        PB_NEW(call, PB(WithdrawLimitsResponse), PB_INIT(WITHDRAW_LIMITS_RESPONSE));
    api_account_cash(call, view, &r->money, &r->n_money, &r->blocked, &r->n_blocked);
    api_reply_message(call, &r->base);
}

static void finish_portfolio(engine *e, engine_job *base) {
    const api_account_view *view = read_result(base);
    if (view == NULL)
        return;
    api_call *call = ((account_read_job *)base)->job.call;
    const refdata *rd = api_call_refdata(call);
    api_portfolio_currency cur;
    int code =
        api_request_portfolio_currency(rd, (const PB(PortfolioRequest) *)call->request, &cur);
    assert(code == 0); /* checked before the read was queued; the rates are immutable */
    api_reply_message(call, &api_portfolio_build(call, rd, view, &cur)->base);
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
    int code = api_request_portfolio_currency(api_call_refdata(call), in, &cur);
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
    return api_accounts_reply(call, call->request);
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
