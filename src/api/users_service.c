/* UsersService: accounts, user info, tariff (our configured limits) and margin attributes. */
#include "api/services.h"

#include <string.h>

#include "api/access.h"
#include "api/core_errors.h"
#include "api/core_job.h"
#include "api/pb.h"
#include "api/server.h"
#include "stream/hub.h"
#include "stream/md_hub.h"

static bool status_matches(const PB(GetAccountsRequest) * req, int32_t status) {
    if (req->_status_case == PB_ENUM(GET_ACCOUNTS_REQUEST___STATUS__NOT_SET))
        return true;
    int32_t wanted = req->status;
    return wanted == PB_ENUM(ACCOUNT_STATUS__ACCOUNT_STATUS_UNSPECIFIED) ||
           wanted == PB_ENUM(ACCOUNT_STATUS__ACCOUNT_STATUS_ALL) || wanted == status;
}

/* Lists the accounts of the token's owner that the call's view holds (broker accounts, or sandbox
 * accounts on the sandbox endpoint and in GetSandboxAccounts), each with the token's access
 * level: broker accounts the token has no right to appear as NO_ACCESS, as on the real API. A
 * closed sandbox account is gone: CloseSandboxAccount deletes it. */
const ProtobufCMessage *api_accounts_reply(api_call *call, const ProtobufCMessage *request) {
    const PB(GetAccountsRequest) *req = (const PB(GetAccountsRequest) *)request;
    const refdata *rd = api_call_refdata(call);
    PB(GetAccountsResponse) *resp =
        PB_NEW(call, PB(GetAccountsResponse), PB_INIT(GET_ACCOUNTS_RESPONSE));
    uint32_t count = refdata_account_count(rd); /* sandbox accounts may be opened meanwhile */
    resp->accounts = (PB(Account) **)pb_array(call, count);
    for (uint32_t i = 0; i < count; i++) {
        const account *acc = &rd->accounts[i];
        int32_t status = refdata_account_status(acc);
        if (!refdata_token_sees(call->token, acc) || !status_matches(req, status) ||
            (acc->sandbox && status == ACCOUNT_STATUS_CLOSED))
            continue;
        access_level level = refdata_access(call->token, acc);
        if (acc->sandbox && level == ACCESS_NONE)
            continue; /* sandbox accounts belong to the token that opened them */
        PB(Account) *out = PB_NEW(call, PB(Account), PB_INIT(ACCOUNT));
        out->id = (char *)acc->id;
        out->name = (char *)acc->name;
        out->type = acc->type;
        out->status = status;
        out->opened_date = pb_timestamp_s(call, acc->opened_date_s);
        out->access_level = (int)level;
        resp->accounts[resp->n_accounts++] = out;
    }
    return &resp->base;
}

static void get_accounts(api_call *call, const ProtobufCMessage *request) {
    api_reply_message(call, api_accounts_reply(call, request));
}

static void get_info(api_call *call, const ProtobufCMessage *request) {
    PB(GetInfoResponse) *resp = PB_NEW(call, PB(GetInfoResponse), PB_INIT(GET_INFO_RESPONSE));
    resp->tariff = "investor";
    resp->user_id = (char *)call->token->user_id;
    resp->risk_level_code = "";
    api_reply_message(call, &resp->base);
}

/* The stream kind a server-streaming method opens; its limit and open count are per kind. */
static bool stream_kind_of(const api_method *m, stream_kind *kind) {
    static const struct {
        const char *name;
        stream_kind kind;
    } kinds[] = {{"OrderStateStream", STREAM_KIND_ORDER_STATE},
                 {"TradesStream", STREAM_KIND_TRADES},
                 {"PortfolioStream", STREAM_KIND_PORTFOLIO},
                 {"PositionsStream", STREAM_KIND_POSITIONS}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(m->name, kinds[i].name) == 0) {
            *kind = kinds[i].kind;
            return true;
        }
    return false;
}

/* Groups the served unary methods by the budget they share, as the real tariff does: one group
 * per service with a shared limit, one per method counted alone, one for the unlimited methods.
 * Each stream method is its own group, because streams_per_token_per_method limits each stream
 * method separately: its `open` counts the token's streams of that method only; the two
 * market-data stream methods share one group (market_data_streams_per_token). */
static void get_user_tariff(api_call *call, const ProtobufCMessage *request) {
    const api_server *srv = call->server;
    PB(GetUserTariffResponse) *resp =
        PB_NEW(call, PB(GetUserTariffResponse), PB_INIT(GET_USER_TARIFF_RESPONSE));
    resp->unary_limits = (PB(UnaryLimit) **)pb_array(call, srv->method_count);
    resp->stream_limits = (PB(StreamLimit) **)pb_array(call, srv->method_count);
    PB(UnaryLimit) **group_of_bucket = (PB(UnaryLimit) **)pb_array(call, srv->method_count);
    PB(UnaryLimit) *unlimited = NULL;
    PB(StreamLimit) *market_data = NULL;
    uint32_t token_index = call->token_index;
    for (size_t i = 0; i < srv->method_count; i++) {
        const api_method *m = &srv->methods[i];
        if (m->public_access)
            continue; /* health and reflection: no part of the contract, no budget */
        char *name = api_call_alloc(call, strlen(m->path));
        strcpy(name, m->path + 1);
        if (m->server_streaming && strcmp(m->service, "MarketDataStreamService") == 0) {
            /* One limit for both market-data methods together, as limits.md counts them. */
            if (market_data == NULL) {
                market_data = PB_NEW(call, PB(StreamLimit), PB_INIT(STREAM_LIMIT));
                market_data->limit = srv->config->md_streams_per_token;
                market_data->streams = (char **)pb_array(call, srv->method_count);
                market_data->open = md_hub_open_count(srv->app->md_hub, token_index);
                resp->stream_limits[resp->n_stream_limits++] = market_data;
            }
            market_data->streams[market_data->n_streams++] = name;
            continue;
        }
        if (m->server_streaming) {
            PB(StreamLimit) *streams = PB_NEW(call, PB(StreamLimit), PB_INIT(STREAM_LIMIT));
            streams->limit = strcmp(m->service, "OperationsStreamService") == 0
                                 ? srv->config->operations_streams_per_token_per_method
                                 : srv->config->streams_per_token_per_method;
            streams->streams = (char **)pb_array(call, 1);
            streams->streams[streams->n_streams++] = name;
            stream_kind kind;
            if (stream_kind_of(m, &kind))
                streams->open = stream_hub_open_count(srv->app->hub, token_index, kind);
            resp->stream_limits[resp->n_stream_limits++] = streams;
            continue;
        }
        /* Unlimited methods share no budget but have nothing to tell apart either: one group. */
        PB(UnaryLimit) **slot =
            m->rate_limit_per_minute > 0 ? &group_of_bucket[m->rate_bucket] : &unlimited;
        if (*slot == NULL) {
            *slot = PB_NEW(call, PB(UnaryLimit), PB_INIT(UNARY_LIMIT));
            (*slot)->limit_per_minute = m->rate_limit_per_minute;
            (*slot)->methods = (char **)pb_array(call, srv->method_count);
            resp->unary_limits[resp->n_unary_limits++] = *slot;
        }
        (*slot)->methods[(*slot)->n_methods++] = name;
    }
    api_reply_message(call, &resp->base);
}

/* The figures of core/margin.h, in roubles, read on the core thread. */
static const ProtobufCMessage *read_margin_attributes(engine *e, api_call *call) {
    const PB(GetMarginAttributesRequest) *req =
        (const PB(GetMarginAttributesRequest) *)call->request;
    PB(GetMarginAttributesResponse) *resp =
        PB_NEW(call, PB(GetMarginAttributesResponse), PB_INIT(GET_MARGIN_ATTRIBUTES_RESPONSE));
    margin_figures f = {0};
    const account *acc = refdata_find_account(api_call_refdata(call), req->account_id);
    /* A figure past int64 (no real portfolio) shows as zeros rather than a wrapped number. */
    if (acc != NULL && !core_margin_figures(engine_core(e), acc->index, NULL, &f))
        memset(&f, 0, sizeof f);
    resp->liquid_portfolio = pb_money(call, "rub", f.liquid_portfolio_nano);
    resp->starting_margin = pb_money(call, "rub", f.starting_margin_nano);
    resp->minimal_margin = pb_money(call, "rub", f.minimal_margin_nano);
    resp->funds_sufficiency_level = pb_quotation(call, f.funds_sufficiency_nano);
    resp->amount_of_missing_funds = pb_money(call, "rub", f.missing_funds_nano);
    resp->corrected_margin = pb_money(call, "rub", f.corrected_margin_nano);
    return &resp->base;
}

/* A cash account has no margin figures: the real service answers 30051 for it. */
static void get_margin_attributes(api_call *call, const ProtobufCMessage *request) {
    const PB(GetMarginAttributesRequest) *req = (const PB(GetMarginAttributesRequest) *)request;
    const account *acc = api_account_checked(call, req->account_id, ACCESS_NEED_READ);
    if (acc == NULL)
        return;
    if (!acc->margin) {
        api_reply_core_error(call, CORE_ERR_MARGIN_DISABLED);
        return;
    }
    api_read_on_core(call, read_margin_attributes);
}

#define USERS(method, type, fn)                                                                    \
    { .service = "UsersService", .name = method, .request_type = &PB_DESC(type), .handle = fn }
static api_method users_methods[] = {
    USERS("GetAccounts", get_accounts_request, get_accounts),
    USERS("GetInfo", get_info_request, get_info),
    USERS("GetUserTariff", get_user_tariff_request, get_user_tariff),
    USERS("GetMarginAttributes", get_margin_attributes_request, get_margin_attributes),
};

const api_method *api_users_methods(size_t *count) {
    *count = sizeof users_methods / sizeof users_methods[0];
    return users_methods;
}
