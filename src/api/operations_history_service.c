/* The operation history: OperationsService.GetOperations, GetOperationsByCursor, GetBrokerReport,
 * GetDividendsForeignIssuer, their sandbox twins, and UsersService.GetBankAccounts and
 * CurrencyTransfer. The operations are read on the core thread, copied into the call's memory,
 * and the reply is encoded from the copy after the batch is durable. */
#include <stdio.h>
#include <string.h>

#include "api/access.h"
#include "api/core_errors.h"
#include "api/core_job.h"
#include "api/operations_request.h"
#include "api/pb.h"
#include "api/server.h"
#include "api/services.h"

static uint64_t seed_of(api_call *call) {
    return call->server->config->venue.seed;
}

static bool refused(api_call *call, int code, const char *message) {
    if (code == 0)
        return false;
    if (message != NULL && message[0] != '\0')
        api_reply_error_message(call, code, message);
    else
        api_reply_error(call, code);
    return true;
}

/* The names the real service gives these operation types. */
static const char *type_name(uint8_t type) {
    switch (type) {
    case CORE_OP_INPUT:
        return "Пополнение брокерского счёта";
    case CORE_OP_BUY:
        return "Покупка ценных бумаг";
    case CORE_OP_BROKER_FEE:
        return "Удержание комиссии за операцию";
    case CORE_OP_SELL:
        return "Продажа ценных бумаг";
    case CORE_OP_OUT_MULTI:
        return "Вывод денежных средств со счёта";
    case CORE_OP_INP_MULTI:
        return "Пополнение денежных средств со счёта";
    case CORE_OP_MARGIN_FEE:
        return "Удержание комиссии за непокрытую позицию";
    case CORE_OP_SELL_MARGIN:
        return "Продажа в результате маржин-колла";
    case CORE_OP_BUY_MARGIN:
        return "Покупка в результате маржин-колла";
    case CORE_OP_ACCRUING_VARMARGIN:
        return "Зачисление вариационной маржи";
    case CORE_OP_WRITING_OFF_VARMARGIN:
        return "Списание вариационной маржи";
    }
    return "";
}

static char *decimal(api_call *call, uint64_t v) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    return api_call_strdup(call, text);
}

/* A BUY or SELL operation is named by its order's exchange number (GetOrderState takes it as
 * `order_id`); any other by its number, far below the exchange's numbers (from 10^10). */
static char *operation_id(api_call *call, const core_operation *op) {
    return decimal(call, op->exchange_order_id != 0 ? op->exchange_order_id : op->number);
}

/* ---- Reading the operations on the core thread ---------------------------------------------- */

typedef struct operations_job {
    api_core_job job; /* must stay first */
    core_error error;
    const account *account;
    api_operations_query query;
    core_operation *ops;
    uint32_t count;
    uint64_t more; /* the number of the next operation after the page, or 0 */
    core_fill **fills;
    uint32_t *fill_count;
    core_operation *parents; /* BROKER_FEE: its order's operation (number 0: not held) */
} operations_job;

static void run_operations(engine *e, engine_job *base) {
    operations_job *job = (operations_job *)base;
    api_call *call = job->job.call;
    const core *c = engine_core(e);
    const char *account_id = call->user;
    job->error = core_account_for(c, call->token, account_id, false, &job->account);
    if (job->error != CORE_OK) {
        engine_finish_after_commit(e, base);
        return;
    }
    api_operations_query *q = &job->query;
    job->ops = api_call_alloc(call, (size_t)q->limit * sizeof *job->ops);
    job->count = core_list_operations(c, job->account->index, q->below, api_operation_listed, q,
                                      job->ops, q->limit, &job->more);
    job->fills = api_call_alloc(call, (size_t)(job->count ? job->count : 1) * sizeof *job->fills);
    job->fill_count =
        api_call_alloc(call, (size_t)(job->count ? job->count : 1) * sizeof *job->fill_count);
    job->parents =
        api_call_alloc(call, (size_t)(job->count ? job->count : 1) * sizeof *job->parents);
    uint32_t budget = API_OPERATIONS_PAGE_TRADES;
    for (uint32_t i = 0; i < job->count; i++) {
        const core_operation *op = &job->ops[i];
        job->fill_count[i] = 0;
        job->parents[i].number = 0;
        if (op->type == CORE_OP_BROKER_FEE &&
            !core_operation_get(c, op->account, op->parent, &job->parents[i]))
            job->parents[i].number = 0;
        if (q->without_trades || !core_op_is_trade(op->type))
            continue;
        uint32_t want = core_operation_fill_count(c, op);
        if (want > budget) {
            if (i > 0) {
                /* The page ends before this operation: the next page starts with it. */
                job->more = op->number;
                job->count = i;
                break;
            }
            want = budget; /* one order with more fills than a page carries: its newest left out */
        }
        if (want == 0)
            continue;
        job->fills[i] = api_call_alloc(call, (size_t)want * sizeof **job->fills);
        job->fill_count[i] = core_operation_fills(c, op, job->fills[i], want);
        budget -= job->fill_count[i];
    }
    engine_finish_after_commit(e, base);
}

static void read_operations(api_call *call, const char *account_id,
                            const api_operations_query *query,
                            void (*finish)(engine *, engine_job *)) {
    operations_job *job = api_core_job_new(call, sizeof(operations_job));
    job->query = *query;
    call->user = (void *)account_id;
    api_core_job_submit(&job->job, run_operations, finish);
}

static const operations_job *operations_result(engine_job *base) {
    operations_job *job = (operations_job *)base;
    if (job->error == CORE_OK)
        return job;
    api_reply_core_error(job->job.call, job->error);
    return NULL;
}

/* Price per unit of a fill in the settlement currency (bonds trade in percent of nominal and
 * futures in points: the value says what a unit cost). */
static int64_t fill_unit_price(const core_fill *f) {
    return f->units > 0 ? f->value_nano / f->units : 0;
}

static const instrument *instrument_of(api_call *call, const core_operation *op) {
    const refdata *rd = api_call_refdata(call);
    return op->instrument < rd->instrument_count ? &rd->instruments[op->instrument] : NULL;
}

static char *parent_id(api_call *call, const operations_job *job, uint32_t i) {
    const core_operation *op = &job->ops[i];
    if (op->type != CORE_OP_BROKER_FEE)
        return "";
    if (job->parents[i].number != 0)
        return operation_id(call, &job->parents[i]);
    return decimal(call, op->parent);
}

/* ---- GetOperations -------------------------------------------------------------------------- */

static PB(Operation) * operation_of(api_call *call, const operations_job *job, uint32_t i) {
    const core_operation *op = &job->ops[i];
    const instrument *ins = instrument_of(call, op);
    PB(Operation) *o = PB_NEW(call, PB(Operation), PB_INIT(OPERATION));
    o->id = operation_id(call, op);
    o->parent_operation_id = parent_id(call, job, i);
    o->currency = api_call_strdup(call, op->currency);
    o->payment = pb_money(call, op->currency, op->payment_nano);
    o->price = pb_money(call, op->currency, op->price_nano);
    o->state = (int)op->state;
    o->quantity = op->quantity;
    o->quantity_rest = op->quantity - op->quantity_done;
    o->date = pb_timestamp(call, op->time_ns);
    o->type = (char *)type_name(op->type);
    o->operation_type = (int)op->type;
    if (ins != NULL) {
        o->figi = (char *)ins->figi;
        o->instrument_type = (char *)api_instrument_type_name(ins->kind);
        o->asset_uid = (char *)ins->asset_uid;
        o->position_uid = (char *)ins->position_uid;
        o->instrument_uid = (char *)ins->uid;
    }
    uint32_t n = job->fill_count[i];
    o->trades = (PB(OperationTrade) **)pb_array(call, n);
    for (uint32_t k = 0; k < n; k++) {
        const core_fill *f = &job->fills[i][k];
        PB(OperationTrade) *t = PB_NEW(call, PB(OperationTrade), PB_INIT(OPERATION_TRADE));
        t->trade_id = decimal(call, f->trade.trade_id);
        t->date_time = pb_timestamp(call, f->trade.time_ns);
        t->quantity = f->units;
        t->price = pb_money(call, op->currency, fill_unit_price(f));
        o->trades[o->n_trades++] = t;
    }
    return o;
}

static void finish_operations(engine *e, engine_job *base) {
    const operations_job *job = operations_result(base);
    if (job == NULL)
        return;
    api_call *call = job->job.call;
    PB(OperationsResponse) *r = PB_NEW(call, PB(OperationsResponse), PB_INIT(OPERATIONS_RESPONSE));
    r->operations = (PB(Operation) **)pb_array(call, job->count);
    for (uint32_t i = 0; i < job->count; i++)
        r->operations[r->n_operations++] = operation_of(call, job, i);
    api_reply_message(call, &r->base);
}

static void get_operations(api_call *call, const ProtobufCMessage *request) {
    const PB(OperationsRequest) *in = (const PB(OperationsRequest) *)request;
    api_operations_query q;
    if (!refused(call, api_request_operations(api_call_refdata(call), in, &q), NULL))
        read_operations(call, in->account_id, &q, finish_operations);
}

/* ---- GetOperationsByCursor ------------------------------------------------------------------ */

static PB(OperationItem) * item_of(api_call *call, const operations_job *job, uint32_t i) {
    const core_operation *op = &job->ops[i];
    const instrument *ins = instrument_of(call, op);
    PB(OperationItem) *o = PB_NEW(call, PB(OperationItem), PB_INIT(OPERATION_ITEM));
    o->cursor = decimal(call, op->number);
    o->broker_account_id = (char *)job->account->id;
    o->id = operation_id(call, op);
    o->parent_operation_id = parent_id(call, job, i);
    o->name = (char *)type_name(op->type);
    o->date = pb_timestamp(call, op->time_ns);
    o->type = (int)op->type;
    o->description = (char *)type_name(op->type);
    o->state = (int)op->state;
    if (ins != NULL) {
        o->instrument_uid = (char *)ins->uid;
        o->figi = (char *)ins->figi;
        o->instrument_type = (char *)api_instrument_type_name(ins->kind);
        o->instrument_kind = (int)ins->kind;
        o->position_uid = (char *)ins->position_uid;
        o->ticker = (char *)ins->ticker;
        o->class_code = (char *)ins->class_code;
        o->asset_uid = (char *)ins->asset_uid;
    }
    o->payment = pb_money(call, op->currency, op->payment_nano);
    o->price = pb_money(call, op->currency, op->price_nano);
    o->commission = pb_money(call, op->currency, -op->commission_nano);
    o->yield = pb_money(call, op->currency, 0);
    o->yield_relative = pb_quotation(call, 0);
    o->accrued_int = pb_money(call, op->currency, 0);
    o->quantity = op->quantity;
    o->quantity_rest = op->quantity - op->quantity_done;
    o->quantity_done = op->quantity_done;
    uint32_t n = job->fill_count[i];
    if (core_op_is_trade(op->type)) {
        o->trades_info = PB_NEW(call, PB(OperationItemTrades), PB_INIT(OPERATION_ITEM_TRADES));
        o->trades_info->trades = (PB(OperationItemTrade) **)pb_array(call, n);
    }
    for (uint32_t k = 0; k < n; k++) {
        const core_fill *f = &job->fills[i][k];
        PB(OperationItemTrade) *t =
            PB_NEW(call, PB(OperationItemTrade), PB_INIT(OPERATION_ITEM_TRADE));
        t->num = decimal(call, f->trade.trade_id);
        t->date = pb_timestamp(call, f->trade.time_ns);
        t->quantity = f->units;
        t->price = pb_money(call, op->currency, fill_unit_price(f));
        t->yield = pb_money(call, op->currency, 0);
        t->yield_relative = pb_quotation(call, 0);
        o->trades_info->trades[o->trades_info->n_trades++] = t;
    }
    return o;
}

static void finish_operations_by_cursor(engine *e, engine_job *base) {
    const operations_job *job = operations_result(base);
    if (job == NULL)
        return;
    api_call *call = job->job.call;
    PB(GetOperationsByCursorResponse) *r =
        PB_NEW(call, PB(GetOperationsByCursorResponse), PB_INIT(GET_OPERATIONS_BY_CURSOR_RESPONSE));
    r->items = (PB(OperationItem) **)pb_array(call, job->count);
    for (uint32_t i = 0; i < job->count; i++)
        r->items[r->n_items++] = item_of(call, job, i);
    r->has_next = job->more != 0;
    r->next_cursor = job->more != 0 ? decimal(call, job->more) : "";
    api_reply_message(call, &r->base);
}

static void get_operations_by_cursor(api_call *call, const ProtobufCMessage *request) {
    const PB(GetOperationsByCursorRequest) *in = (const PB(GetOperationsByCursorRequest) *)request;
    api_operations_query q;
    char message[128] = "";
    if (!refused(call,
                 api_request_operations_by_cursor(api_call_refdata(call), in, &q, message,
                                                  sizeof message),
                 message))
        read_operations(call, in->account_id, &q, finish_operations_by_cursor);
}

/* ---- GetBrokerReport ------------------------------------------------------------------------ */

/* A report task names an account by its slot: the token must still see it. */
static bool task_for(api_call *call, const char *task_id, api_report_kind kind,
                     api_report_task *task) {
    if (task_id[0] == '\0') {
        api_reply_error(call, 30065);
        return false;
    }
    const refdata *rd = api_call_refdata(call);
    if (!api_report_task_parse(task_id, seed_of(call), task) || task->kind != kind ||
        task->account >= refdata_account_count(rd)) {
        api_reply_error(call, 50007);
        return false;
    }
    access_level level = refdata_access(call->token, &rd->accounts[task->account]);
    if (level != ACCESS_FULL && level != ACCESS_READ_ONLY) {
        api_reply_error(call, 50007);
        return false;
    }
    return true;
}

static bool generate_task(api_call *call, const char *account_id,
                          const Google__Protobuf__Timestamp *from,
                          const Google__Protobuf__Timestamp *to, api_report_kind kind,
                          int64_t max_days, char task_id[ORDER_ID_SIZE]) {
    const account *acc = api_account_checked(call, account_id, ACCESS_NEED_READ);
    if (acc == NULL)
        return false;
    api_report_task task = {.kind = kind, .account = acc->index};
    if (refused(call, api_request_report_period(from, to, max_days, &task.from_s, &task.to_s),
                NULL))
        return false;
    api_report_task_id(&task, seed_of(call), task_id);
    return true;
}

typedef struct report_row {
    core_operation op;
    core_fill fill;
} report_row;

typedef struct report_job {
    api_core_job job; /* must stay first */
    api_report_task task;
    int32_t page;
    uint64_t items;
    report_row *rows;
    uint32_t row_count;
} report_job;

/* Walks the fills of the account's BUY and SELL operations inside the period, in operation order
 * then fill order (ascending), and copies those of the page. */
typedef struct report_walk {
    const core *c;
    report_job *job;
    core_fill *scratch;
    uint32_t scratch_size;
    int64_t from_ns, to_ns;
    uint64_t total; /* pass 1: counted; pass 2: as counted */
    uint64_t seen;  /* pass 2: rows met so far, newest first */
    bool copying;
} report_walk;

static bool report_visit(const core_operation *op, const void *ctx) {
    report_walk *w = (report_walk *)ctx;
    if (!core_op_is_trade(op->type))
        return false;
    uint32_t n = core_operation_fills(w->c, op, w->scratch, w->scratch_size);
    for (uint32_t k = n; k-- > 0;) {
        const core_fill *f = &w->scratch[k];
        if (f->trade.time_ns < w->from_ns || f->trade.time_ns >= w->to_ns)
            continue;
        if (!w->copying) {
            w->total++;
            continue;
        }
        uint64_t position = w->total - 1 - w->seen++; /* ascending position */
        uint64_t first = (uint64_t)w->job->page * API_BROKER_REPORT_PAGE_ROWS;
        if (position >= first && position < first + API_BROKER_REPORT_PAGE_ROWS) {
            report_row *row = &w->job->rows[position - first];
            row->op = *op;
            row->fill = *f;
            w->job->row_count++;
        }
    }
    return false; /* nothing is copied through the list itself */
}

static void run_broker_report(engine *e, engine_job *base) {
    report_job *job = (report_job *)base;
    api_call *call = job->job.call;
    const core *c = engine_core(e);
    report_walk w = {.c = c,
                     .job = job,
                     .scratch_size =
                         c->config.max_trades_per_order ? c->config.max_trades_per_order : 1,
                     .from_ns = job->task.from_s * 1000000000,
                     .to_ns = job->task.to_s * 1000000000};
    w.scratch = api_call_alloc(call, (size_t)w.scratch_size * sizeof *w.scratch);
    job->rows = api_call_alloc(call, API_BROKER_REPORT_PAGE_ROWS * sizeof *job->rows);
    uint64_t more;
    core_list_operations(c, job->task.account, UINT64_MAX, report_visit, &w, NULL, 0, &more);
    job->items = w.total;
    w.copying = true;
    core_list_operations(c, job->task.account, UINT64_MAX, report_visit, &w, NULL, 0, &more);
    engine_finish_after_commit(e, base);
}

static const char *direction_name(uint8_t type) {
    return core_op_is_buy(type) ? "Покупка" : "Продажа";
}

static PB(BrokerReport) * report_row_of(api_call *call, const report_row *row) {
    const core_operation *op = &row->op;
    const core_fill *f = &row->fill;
    const instrument *ins = instrument_of(call, op);
    PB(BrokerReport) *b = PB_NEW(call, PB(BrokerReport), PB_INIT(BROKER_REPORT));
    b->trade_id = decimal(call, f->trade.trade_id);
    b->order_id = operation_id(call, op);
    b->trade_datetime = pb_timestamp(call, f->trade.time_ns);
    b->direction = (char *)direction_name(op->type);
    if (ins != NULL) {
        b->figi = (char *)ins->figi;
        b->exchange = (char *)ins->exchange;
        b->class_code = (char *)ins->class_code;
        b->name = (char *)ins->name;
        b->ticker = (char *)ins->ticker;
    }
    b->price = pb_money(call, op->currency, fill_unit_price(f));
    b->quantity = f->units;
    b->order_amount = pb_money(call, op->currency, f->value_nano);
    b->aci_value = pb_quotation(call, 0);
    /* What the trade moved, commission included. */
    int64_t total = core_op_is_buy(op->type) ? f->value_nano + f->commission_nano
                                             : f->value_nano - f->commission_nano;
    b->total_order_amount = pb_money(call, op->currency, total);
    b->broker_commission = pb_money(call, op->currency, f->commission_nano);
    b->exchange_commission = pb_money(call, op->currency, 0);
    b->exchange_clearing_commission = pb_money(call, op->currency, 0);
    /* Settled at once: the money and the securities move with the trade. */
    b->clear_value_date = pb_timestamp(call, f->trade.time_ns);
    b->sec_value_date = pb_timestamp(call, f->trade.time_ns);
    return b;
}

static void finish_broker_report(engine *e, engine_job *base) {
    report_job *job = (report_job *)base;
    api_call *call = job->job.call;
    uint64_t pages = (job->items + API_BROKER_REPORT_PAGE_ROWS - 1) / API_BROKER_REPORT_PAGE_ROWS;
    if (job->page > 0 && (uint64_t)job->page >= pages) {
        api_reply_error(call, 30226);
        return;
    }
    PB(GetBrokerReportResponse) *g =
        PB_NEW(call, PB(GetBrokerReportResponse), PB_INIT(GET_BROKER_REPORT_RESPONSE));
    g->broker_report = (PB(BrokerReport) **)pb_array(call, job->row_count);
    for (uint32_t i = 0; i < job->row_count; i++)
        g->broker_report[g->n_broker_report++] = report_row_of(call, &job->rows[i]);
    g->itemscount = job->items > INT32_MAX ? INT32_MAX : (int32_t)job->items;
    g->pagescount = pages > INT32_MAX ? INT32_MAX : (int32_t)pages;
    g->page = job->page;
    PB(BrokerReportResponse) *r =
        PB_NEW(call, PB(BrokerReportResponse), PB_INIT(BROKER_REPORT_RESPONSE));
    r->payload_case = PB_ENUM(BROKER_REPORT_RESPONSE__PAYLOAD_GET_BROKER_REPORT_RESPONSE);
    r->get_broker_report_response = g;
    api_reply_message(call, &r->base);
}

static int32_t requested_page(bool has_page, int32_t page) {
    return has_page ? page : 0;
}

static void get_broker_report(api_call *call, const ProtobufCMessage *request) {
    const PB(BrokerReportRequest) *in = (const PB(BrokerReportRequest) *)request;
    if (in->payload_case ==
        PB_ENUM(BROKER_REPORT_REQUEST__PAYLOAD_GENERATE_BROKER_REPORT_REQUEST)) {
        const PB(GenerateBrokerReportRequest) *g = in->generate_broker_report_request;
        char task_id[ORDER_ID_SIZE];
        if (!generate_task(call, g->account_id, g->from, g->to, API_REPORT_BROKER,
                           API_BROKER_REPORT_MAX_DAYS, task_id))
            return;
        PB(GenerateBrokerReportResponse) *gr = PB_NEW(call, PB(GenerateBrokerReportResponse),
                                                      PB_INIT(GENERATE_BROKER_REPORT_RESPONSE));
        gr->task_id = api_call_strdup(call, task_id);
        PB(BrokerReportResponse) *r =
            PB_NEW(call, PB(BrokerReportResponse), PB_INIT(BROKER_REPORT_RESPONSE));
        r->payload_case = PB_ENUM(BROKER_REPORT_RESPONSE__PAYLOAD_GENERATE_BROKER_REPORT_RESPONSE);
        r->generate_broker_report_response = gr;
        api_reply_message(call, &r->base);
        return;
    }
    if (in->payload_case != PB_ENUM(BROKER_REPORT_REQUEST__PAYLOAD_GET_BROKER_REPORT_REQUEST)) {
        api_reply_error(call, 30066);
        return;
    }
    const PB(GetBrokerReportRequest) *g = in->get_broker_report_request;
    int32_t page =
        requested_page(g->_page_case == PB_ENUM(GET_BROKER_REPORT_REQUEST___PAGE_PAGE), g->page);
    if (page < 0) {
        api_reply_error(call, 30107);
        return;
    }
    api_report_task task;
    if (!task_for(call, g->task_id, API_REPORT_BROKER, &task))
        return;
    report_job *job = api_core_job_new(call, sizeof(report_job));
    job->task = task;
    job->page = page;
    api_core_job_submit(&job->job, run_broker_report, finish_broker_report);
}

/* ---- GetDividendsForeignIssuer -------------------------------------------------------------- */

/* No dividends are paid here: a report is generated for any period and holds no rows. */
static void get_dividends_foreign_issuer(api_call *call, const ProtobufCMessage *request) {
    const PB(GetDividendsForeignIssuerRequest) *in =
        (const PB(GetDividendsForeignIssuerRequest) *)request;
    PB(GetDividendsForeignIssuerResponse) *r =
        PB_NEW(call, PB(GetDividendsForeignIssuerResponse),
               PB_INIT(GET_DIVIDENDS_FOREIGN_ISSUER_RESPONSE));
    if (in->payload_case ==
        PB_ENUM(GET_DIVIDENDS_FOREIGN_ISSUER_REQUEST__PAYLOAD_GENERATE_DIV_FOREIGN_ISSUER_REPORT)) {
        const PB(GenerateDividendsForeignIssuerReportRequest) *g =
            in->generate_div_foreign_issuer_report;
        char task_id[ORDER_ID_SIZE];
        if (!generate_task(call, g->account_id, g->from, g->to, API_REPORT_DIVIDENDS, 0, task_id))
            return;
        PB(GenerateDividendsForeignIssuerReportResponse) *gr =
            PB_NEW(call, PB(GenerateDividendsForeignIssuerReportResponse),
                   PB_INIT(GENERATE_DIVIDENDS_FOREIGN_ISSUER_REPORT_RESPONSE));
        gr->task_id = api_call_strdup(call, task_id);
        r->payload_case = PB_ENUM(
            GET_DIVIDENDS_FOREIGN_ISSUER_RESPONSE__PAYLOAD_GENERATE_DIV_FOREIGN_ISSUER_REPORT_RESPONSE);
        r->generate_div_foreign_issuer_report_response = gr;
        api_reply_message(call, &r->base);
        return;
    }
    if (in->payload_case !=
        PB_ENUM(GET_DIVIDENDS_FOREIGN_ISSUER_REQUEST__PAYLOAD_GET_DIV_FOREIGN_ISSUER_REPORT)) {
        api_reply_error(call, 30066);
        return;
    }
    const PB(GetDividendsForeignIssuerReportRequest) *g = in->get_div_foreign_issuer_report;
    int32_t page = requested_page(
        g->_page_case == PB_ENUM(GET_DIVIDENDS_FOREIGN_ISSUER_REPORT_REQUEST___PAGE_PAGE), g->page);
    if (page < 0) {
        api_reply_error(call, 30107);
        return;
    }
    api_report_task task;
    if (!task_for(call, g->task_id, API_REPORT_DIVIDENDS, &task))
        return;
    if (page > 0) {
        api_reply_error(call, 30226);
        return;
    }
    PB(GetDividendsForeignIssuerReportResponse) *report =
        PB_NEW(call, PB(GetDividendsForeignIssuerReportResponse),
               PB_INIT(GET_DIVIDENDS_FOREIGN_ISSUER_REPORT_RESPONSE));
    report->itemscount = 0;
    report->pagescount = 0;
    report->page = 0;
    r->payload_case =
        PB_ENUM(GET_DIVIDENDS_FOREIGN_ISSUER_RESPONSE__PAYLOAD_DIV_FOREIGN_ISSUER_REPORT);
    r->div_foreign_issuer_report = report;
    api_reply_message(call, &r->base);
}

/* ---- GetBankAccounts ------------------------------------------------------------------------ */

/* The broker keeps no bank accounts: the accounts money can be moved between (CurrencyTransfer)
 * are the owner's open broker accounts, listed with their free money. */
static const ProtobufCMessage *read_bank_accounts(engine *e, api_call *call) {
    const core *c = engine_core(e);
    const refdata *rd = api_call_refdata(call);
    PB(GetBankAccountsResponse) *r =
        PB_NEW(call, PB(GetBankAccountsResponse), PB_INIT(GET_BANK_ACCOUNTS_RESPONSE));
    uint32_t count = refdata_account_count(rd);
    r->bank_accounts = (PB(BankAccount) **)pb_array(call, count);
    for (uint32_t i = 0; i < count; i++) {
        const account *acc = &rd->accounts[i];
        access_level level = refdata_access(call->token, acc);
        if (acc->sandbox || refdata_account_status(acc) != ACCOUNT_STATUS_OPEN ||
            (level != ACCESS_FULL && level != ACCESS_READ_ONLY))
            continue;
        PB(BankAccount) *b = PB_NEW(call, PB(BankAccount), PB_INIT(BANK_ACCOUNT));
        b->id = (char *)acc->id;
        b->name = (char *)acc->name;
        b->opened_date = pb_timestamp_s(call, acc->opened_date_s);
        b->type = acc->type;
        ledger_cash cash[REFDATA_MAX_CURRENCIES];
        uint32_t n = core_account_cash(c, i, cash);
        b->money = (PB(MoneyValue) **)pb_array(call, n);
        for (uint32_t k = 0; k < n; k++)
            b->money[b->n_money++] = pb_money(call, api_call_strdup(call, cash[k].currency),
                                              cash[k].balance_nano - cash[k].blocked_nano);
        r->bank_accounts[r->n_bank_accounts++] = b;
    }
    return &r->base;
}

static void get_bank_accounts(api_call *call, const ProtobufCMessage *request) {
    api_read_on_core(call, read_bank_accounts);
}

/* ---- CurrencyTransfer ----------------------------------------------------------------------- */

typedef struct transfer_job {
    api_core_job job; /* must stay first */
    core_error error;
    int64_t amount_nano;
    bool duplicate;
} transfer_job;

static void run_transfer(engine *e, engine_job *base) {
    transfer_job *job = (transfer_job *)base;
    const PB(CurrencyTransferRequest) *in =
        (const PB(CurrencyTransferRequest) *)job->job.call->request;
    job->error = core_currency_transfer(engine_core(e), job->job.call->token, in->from_account_id,
                                        in->to_account_id, in->amount->currency, job->amount_nano,
                                        in->transaction_id, engine_now_ns(e), &job->duplicate);
    engine_finish_after_commit(e, base);
}

static void finish_transfer(engine *e, engine_job *base) {
    transfer_job *job = (transfer_job *)base;
    api_call *call = job->job.call;
    if (api_reply_if_refused(&job->job))
        return;
    if (job->error != CORE_OK) {
        api_reply_core_error(call, job->error);
        return;
    }
    PB(CurrencyTransferResponse) *r =
        PB_NEW(call, PB(CurrencyTransferResponse), PB_INIT(CURRENCY_TRANSFER_RESPONSE));
    api_reply_message(call, &r->base);
}

static void currency_transfer(api_call *call, const ProtobufCMessage *request) {
    int64_t amount_nano;
    if (refused(call,
                api_request_currency_transfer((const PB(CurrencyTransferRequest) *)request,
                                              &amount_nano),
                NULL))
        return;
    transfer_job *job = api_core_job_new(call, sizeof(transfer_job));
    job->amount_nano = amount_nano;
    job->job.base.mutates = true;
    api_core_job_submit(&job->job, run_transfer, finish_transfer);
}

#define METHOD(service_name, method, type, fn)                                                     \
    { .service = service_name, .name = method, .request_type = &PB_DESC(type), .handle = fn }
static api_method operations_history_methods[] = {
    METHOD("OperationsService", "GetOperations", operations_request, get_operations),
    METHOD("OperationsService", "GetOperationsByCursor", get_operations_by_cursor_request,
           get_operations_by_cursor),
    METHOD("OperationsService", "GetBrokerReport", broker_report_request, get_broker_report),
    METHOD("OperationsService", "GetDividendsForeignIssuer", get_dividends_foreign_issuer_request,
           get_dividends_foreign_issuer),
    METHOD("SandboxService", "GetSandboxOperations", operations_request, get_operations),
    METHOD("SandboxService", "GetSandboxOperationsByCursor", get_operations_by_cursor_request,
           get_operations_by_cursor),
    METHOD("UsersService", "GetBankAccounts", get_bank_accounts_request, get_bank_accounts),
    METHOD("UsersService", "CurrencyTransfer", currency_transfer_request, currency_transfer),
};

const api_method *api_operations_history_methods(size_t *count) {
    *count = sizeof operations_history_methods / sizeof operations_history_methods[0];
    return operations_history_methods;
}
