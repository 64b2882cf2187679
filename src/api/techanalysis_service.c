/* MarketDataService.GetTechAnalysis (api/techanalysis.h). */
#include "api/techanalysis.h"

#include <assert.h>

#include "api/core_job.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"

typedef struct tech_job {
    api_core_job job; /* must stay first */
    indicator_request req;
    uint32_t instrument_index;
    indicator_candle *candles; /* room for `capacity`, in the call's memory */
    size_t capacity, count;
} tech_job;

/* On the core thread: the copy of the candles, nothing more. */
static void run_read_candles(engine *e, engine_job *base) {
    tech_job *job = (tech_job *)base;
    job->count =
        api_candles_read(e, job->instrument_index, job->req.interval, job->req.from_ns,
                         job->req.to_ns, indicators_warmup(&job->req), job->candles, job->capacity);
    assert(job->count <= job->capacity);
    engine_finish_after_commit(e, base);
}

static PB(GetTechAnalysisResponse__TechAnalysisItem) *
    item_of(api_call *call, const indicator_value *v) {
    PB(GetTechAnalysisResponse__TechAnalysisItem) *item =
        PB_NEW(call, PB(GetTechAnalysisResponse__TechAnalysisItem),
               PB_INIT(GET_TECH_ANALYSIS_RESPONSE__TECH_ANALYSIS_ITEM));
    item->timestamp = pb_timestamp(call, v->time_ns);
    if (v->has_middle)
        item->middle_band = pb_quotation(call, v->middle_nano);
    if (v->has_upper)
        item->upper_band = pb_quotation(call, v->upper_nano);
    if (v->has_lower)
        item->lower_band = pb_quotation(call, v->lower_nano);
    if (v->has_signal)
        item->signal = pb_quotation(call, v->signal_nano);
    if (v->has_macd)
        item->macd = pb_quotation(call, v->macd_nano);
    return item;
}

/* After the batch is durable, off the core thread: the indicator from the copy, and the reply. */
static void finish_compute(engine *e, engine_job *base) {
    tech_job *job = (tech_job *)base;
    api_call *call = job->job.call;
    size_t room = job->count > 0 ? job->count : 1;
    indicator_value *values = api_call_alloc(call, room * sizeof *values);
    size_t n = 0;
    int code = indicators_compute(&job->req, job->candles, job->count, values, room, &n);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    PB(GetTechAnalysisResponse) *r =
        PB_NEW(call, PB(GetTechAnalysisResponse), PB_INIT(GET_TECH_ANALYSIS_RESPONSE));
    r->technical_indicators = (PB(GetTechAnalysisResponse__TechAnalysisItem) **)pb_array(call, n);
    for (size_t i = 0; i < n; i++)
        r->technical_indicators[r->n_technical_indicators++] = item_of(call, &values[i]);
    api_reply_message(call, &r->base);
}

static void get_tech_analysis(api_call *call, const ProtobufCMessage *request) {
    tech_job *job = api_core_job_new(call, sizeof *job);
    const instrument *ins;
    int code = api_request_tech_analysis(
        api_call_refdata(call), (const PB(GetTechAnalysisRequest) *)request, &job->req, &ins);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    job->instrument_index = ins->index;
    job->capacity = indicators_candle_capacity(&job->req);
    job->candles = api_call_alloc(call, job->capacity * sizeof *job->candles);
    api_core_job_submit(&job->job, run_read_candles, finish_compute);
}

static const api_method techanalysis_methods[] = {
    {.service = "MarketDataService",
     .name = "GetTechAnalysis",
     .request_type = &PB_DESC(get_tech_analysis_request),
     .handle = get_tech_analysis},
};

const api_method *api_techanalysis_methods(size_t *count) {
    *count = sizeof techanalysis_methods / sizeof techanalysis_methods[0];
    return techanalysis_methods;
}
