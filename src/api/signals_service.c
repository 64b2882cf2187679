/* SignalService: strategies and their signals from the reference data (config/reference_signals.c,
 * refbook/signals.h), answered on the completion-queue thread like the other reference data.
 * With no strategies.json and signals.json both methods answer empty lists. */
#include "api/assets_request.h"
#include "api/pb.h"
#include "api/server.h"
#include "api/services.h"

static const refbook_signals *signals_of(const api_call *call) {
    return &call->server->config->signals;
}

static PB(Strategy) * make_strategy(api_call *call, const refbook_strategy *s) {
    PB(Strategy) *out = PB_NEW(call, PB(Strategy), PB_INIT(STRATEGY));
    out->strategy_id = (char *)s->uid;
    out->strategy_name = (char *)s->name;
    if (s->description != NULL) {
        out->_strategy_description_case =
            PB_ENUM(STRATEGY___STRATEGY_DESCRIPTION_STRATEGY_DESCRIPTION);
        out->strategy_description = (char *)s->description;
    }
    if (s->url != NULL) {
        out->_strategy_url_case = PB_ENUM(STRATEGY___STRATEGY_URL_STRATEGY_URL);
        out->strategy_url = (char *)s->url;
    }
    out->strategy_type = s->type;
    out->active_signals = s->active_signals;
    out->total_signals = s->total_signals;
    out->time_in_position = s->time_in_position;
    out->average_signal_yield = pb_quotation(call, s->average_signal_yield_nano);
    out->average_signal_yield_year = pb_quotation(call, s->average_signal_yield_year_nano);
    out->yield = pb_quotation(call, s->yield_nano);
    out->yield_year = pb_quotation(call, s->yield_year_nano);
    return out;
}

static void get_strategies(api_call *call, const ProtobufCMessage *request) {
    const PB(GetStrategiesRequest) *req = (const PB(GetStrategiesRequest) *)request;
    int code = api_request_strategies(req);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    const refbook_signals *s = signals_of(call);
    bool one =
        req->_strategy_id_case == PB_ENUM(GET_STRATEGIES_REQUEST___STRATEGY_ID_STRATEGY_ID) &&
        req->strategy_id[0] != '\0';
    const refbook_strategy *found = one ? refbook_find_strategy(s, req->strategy_id) : NULL;
    if (one && found == NULL) {
        api_reply_error(call, 50011);
        return;
    }
    PB(GetStrategiesResponse) *resp =
        PB_NEW(call, PB(GetStrategiesResponse), PB_INIT(GET_STRATEGIES_RESPONSE));
    resp->strategies = (PB(Strategy) **)pb_array(call, one ? 1 : s->strategy_count);
    for (uint32_t i = 0; i < s->strategy_count; i++)
        if (!one || &s->strategies[i] == found)
            resp->strategies[resp->n_strategies++] = make_strategy(call, &s->strategies[i]);
    api_reply_message(call, &resp->base);
}

static PB(Signal) *
    make_signal(api_call *call, const refbook_signals *s, const refbook_signal *sig) {
    const refdata *rd = api_call_refdata(call);
    PB(Signal) *out = PB_NEW(call, PB(Signal), PB_INIT(SIGNAL));
    out->signal_id = (char *)sig->uid;
    out->strategy_id = (char *)s->strategies[sig->strategy].uid;
    out->strategy_name = (char *)s->strategies[sig->strategy].name;
    out->instrument_uid = (char *)rd->instruments[sig->instrument].uid;
    out->create_dt = pb_timestamp_s(call, sig->create_s);
    out->direction = sig->direction;
    out->initial_price = pb_quotation(call, sig->initial_price_nano);
    if (sig->info != NULL) {
        out->_info_case = PB_ENUM(SIGNAL___INFO_INFO);
        out->info = (char *)sig->info;
    }
    out->name = (char *)sig->name;
    out->target_price = pb_quotation(call, sig->target_price_nano);
    out->end_dt = pb_timestamp_s(call, sig->end_s);
    if (sig->has_probability) {
        out->_probability_case = PB_ENUM(SIGNAL___PROBABILITY_PROBABILITY);
        out->probability = sig->probability;
    }
    out->stoploss = sig->has_stoploss ? pb_quotation(call, sig->stoploss_nano) : NULL;
    out->close_price = sig->has_close_price ? pb_quotation(call, sig->close_price_nano) : NULL;
    out->close_dt = sig->close_s != 0 ? pb_timestamp_s(call, sig->close_s) : NULL;
    return out;
}

/* The ids a GetSignals request filters on must name something: 50012 / 50011 otherwise. */
static int named_ids_known(const refbook_signals *s, const refbook_signal_filter *filter) {
    if (filter->signal_id != NULL && refbook_find_signal(s, filter->signal_id) == NULL)
        return 50012;
    if (filter->strategy_id != NULL && refbook_find_strategy(s, filter->strategy_id) == NULL)
        return 50011;
    return 0;
}

static void get_signals(api_call *call, const ProtobufCMessage *request) {
    const PB(GetSignalsRequest) *req = (const PB(GetSignalsRequest) *)request;
    const refbook_signals *s = signals_of(call);
    refbook_signal_filter filter;
    char message[API_ASSETS_MESSAGE_SIZE] = "";
    int code = api_request_signals(api_call_refdata(call), req, &filter, message);
    if (code == 0)
        code = named_ids_known(s, &filter);
    if (code != 0) {
        if (code == 30102 && message[0] != '\0')
            api_reply_error_message(call, code, message);
        else
            api_reply_error(call, code);
        return;
    }
    uint32_t total = 0;
    for (uint32_t i = 0; i < s->signal_count; i++)
        total += refbook_signal_selected(s, &s->signals[i], &filter);
    refbook_page page;
    int32_t limit = req->paging != NULL ? req->paging->limit : 0;
    int32_t page_number = req->paging != NULL ? req->paging->page_number : 0;
    switch (refbook_page_of(total, limit, page_number, REFBOOK_SIGNALS_DEFAULT_LIMIT, &page)) {
    case REFBOOK_PAGE_OK:
        break;
    case REFBOOK_PAGE_NEGATIVE:
        api_reply_error(call, 30107);
        return;
    case REFBOOK_PAGE_BEYOND:
        api_reply_error(call, 30226);
        return;
    }
    PB(GetSignalsResponse) *resp =
        PB_NEW(call, PB(GetSignalsResponse), PB_INIT(GET_SIGNALS_RESPONSE));
    resp->signals = (PB(Signal) **)pb_array(call, page.count);
    uint32_t seen = 0;
    for (uint32_t i = 0; i < s->signal_count && resp->n_signals < page.count; i++) {
        if (!refbook_signal_selected(s, &s->signals[i], &filter))
            continue;
        if (seen++ >= page.first)
            resp->signals[resp->n_signals++] = make_signal(call, s, &s->signals[i]);
    }
    PB(PageResponse) *paging = PB_NEW(call, PB(PageResponse), PB_INIT(PAGE_RESPONSE));
    paging->limit = page.limit;
    paging->page_number = page.page_number;
    paging->total_count = (int32_t)total;
    resp->paging = paging;
    api_reply_message(call, &resp->base);
}

#define SIGNALS(method, type, fn)                                                                  \
    { .service = "SignalService", .name = method, .request_type = &PB_DESC(type), .handle = fn }
static api_method signal_methods[] = {
    SIGNALS("GetStrategies", get_strategies_request, get_strategies),
    SIGNALS("GetSignals", get_signals_request, get_signals),
};

const api_method *api_signal_methods(size_t *count) {
    *count = sizeof signal_methods / sizeof signal_methods[0];
    return signal_methods;
}
