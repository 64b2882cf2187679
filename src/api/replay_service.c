/* tinvestd.replay.v1.ReplayService: the control of a replay of history (replay.h,
 * docs/BACKTEST.md). Served whether or not the server replays; without --replay every method
 * answers UNIMPLEMENTED 12001. */
#include "api/replay.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin.pb-c.h"
#include "api/admin_request.h"
#include "api/core_job.h"
#include "api/pb.h"
#include "api/replay_request.h"
#include "api/server.h"
#include "replay.pb-c.h"
#include "util/log.h"

#define REPLAY_PACKAGE "tinvestd.replay.v1"

static const api_replay *replay_of(const api_call *call) {
    return call->server->app->replay;
}

/* Answers 12001 and returns true when the server does not replay. */
static bool not_replaying(api_call *call) {
    if (replay_of(call) != NULL)
        return false;
    api_reply_error_message(call, 12001,
                            "The server does not replay history (start it with --replay)");
    return true;
}

static Tinvestd__Replay__V1__ReplayState *state_of(api_call *call, const api_replay *r,
                                                   int64_t now_ns) {
    Tinvestd__Replay__V1__ReplayState *s =
        PB_NEW(call, Tinvestd__Replay__V1__ReplayState, TINVESTD__REPLAY__V1__REPLAY_STATE__INIT);
    s->from = pb_timestamp(call, r->from_ns);
    s->to = pb_timestamp(call, r->to_ns);
    s->now = pb_timestamp(call, now_ns);
    s->speed = api_call_alloc(call, 24);
    clock_replay_speed_text(s->speed, 24); /* the speed in force (SetReplaySpeed changes it) */
    s->finished = now_ns >= r->to_ns;
    return s;
}

/* ---- GetReplayState: read on the core thread ------------------------------------------------ */

static const ProtobufCMessage *read_state(engine *e, api_call *call) {
    const api_replay *r = replay_of(call);
    Tinvestd__Replay__V1__ReplayState *s = state_of(call, r, engine_now_ns(e));
    s->prints_done = history_market_taken(r->market);
    s->prints_total = history_market_total(r->market);
    return &s->base;
}

static void get_replay_state(api_call *call, const ProtobufCMessage *request) {
    (void)request;
    if (!not_replaying(call))
        api_read_on_core(call, read_state);
}

/* ---- Advance: a job that waits for the clock ------------------------------------------------ */

typedef struct advance_job {
    api_core_job job; /* must stay first */
    int64_t by_ns, to_ns;
} advance_job;

static void run_advance(engine *e, engine_job *base) {
    advance_job *job = (advance_job *)base;
    const api_replay *r = replay_of(job->job.call);
    int64_t until = job->by_ns > 0 ? engine_now_ns(e) + job->by_ns : job->to_ns;
    if (until < engine_now_ns(e))
        until = engine_now_ns(e);
    if (until > r->to_ns)
        until = r->to_ns;
    job->to_ns = until;
    engine_wait_for_clock(e, base, until);
}

static void finish_advance(engine *e, engine_job *base) {
    (void)e;
    advance_job *job = (advance_job *)base;
    api_call *call = job->job.call;
    /* The clock has reached the time it waited for (or the server stops: it stands where the
     * last batch left it, which the reply cannot read off the core thread; the time waited for is
     * what the client asked). */
    api_reply_message(call, &state_of(call, replay_of(call), job->to_ns)->base);
}

void api_replay_advance(api_call *call, const ProtobufCMessage *request) {
    if (not_replaying(call))
        return;
    const Tinvestd__Replay__V1__AdvanceRequest *in =
        (const Tinvestd__Replay__V1__AdvanceRequest *)request;
    advance_job *job = api_core_job_new(call, sizeof *job);
    const char *message;
    int code = api_request_replay_advance(in, &job->by_ns, &job->to_ns, &message);
    if (code != 0) {
        api_reply_error_message(call, code, message);
        return;
    }
    api_core_job_submit(&job->job, run_advance, finish_advance);
}

/* ---- SetReplaySpeed (AdminService): the clock changes on the core thread --------------------- */

typedef struct speed_job {
    api_core_job job; /* must stay first */
    clock_replay_mode mode;
    int64_t speed_milli, now_ns;
    uint64_t prints_done, prints_total;
} speed_job;

static void run_set_speed(engine *e, engine_job *base) {
    speed_job *job = (speed_job *)base;
    const api_replay *r = replay_of(job->job.call);
    /* The core thread is the clock's one writer (it moves MAX's and STEP's time too); the next
     * take of a batch reads the new mode. */
    clock_replay_set_speed(job->mode, job->speed_milli);
    /* Where the clock stands after the change: the batch's own time was read before it, and a
     * quantum may have passed since (a reply that showed it would then disagree with every read
     * after it, in STEP a whole quantum behind the clock that stands). */
    job->now_ns = clock_broker_ns();
    if (job->now_ns < engine_now_ns(e))
        job->now_ns = engine_now_ns(e);
    job->prints_done = history_market_taken(r->market);
    job->prints_total = history_market_total(r->market);
    engine_finish_after_commit(e, base);
}

static void finish_set_speed(engine *e, engine_job *base) {
    (void)e;
    speed_job *job = (speed_job *)base;
    api_call *call = job->job.call;
    Tinvestd__Replay__V1__ReplayState *s = state_of(call, replay_of(call), job->now_ns);
    s->prints_done = job->prints_done;
    s->prints_total = job->prints_total;
    api_reply_message(call, &s->base);
}

void api_replay_set_speed(api_call *call, const ProtobufCMessage *request) {
    if (not_replaying(call))
        return;
    speed_job *job = api_core_job_new(call, sizeof *job);
    const char *message = NULL;
    int code =
        api_request_admin_replay_speed((const Tinvestd__Admin__V1__SetReplaySpeedRequest *)request,
                                       &job->mode, &job->speed_milli, &message);
    if (code != 0) {
        api_reply_error_message(call, code, message);
        return;
    }
    api_core_job_submit(&job->job, run_set_speed, finish_set_speed);
}

/* ---- WriteReport: copied on the core thread, written once durable --------------------------- */

typedef struct report_job {
    api_core_job job; /* must stay first */
    replay_report *report;
    int64_t now_ns;
} report_job;

static void run_report(engine *e, engine_job *base) {
    report_job *job = (report_job *)base;
    job->report = replay_report_collect(e, replay_of(job->job.call));
    job->now_ns = engine_now_ns(e);
    engine_finish_after_commit(e, base);
}

static void finish_report(engine *e, engine_job *base) {
    (void)e;
    report_job *job = (report_job *)base;
    api_call *call = job->job.call;
    const api_replay *r = replay_of(call);
    if (job->report == NULL) {
        api_reply_error_message(call, 80002, "The broker is out of memory for the report");
        return;
    }
    size_t path_size = 1100;
    char *json_path = api_call_alloc(call, path_size), *html_path = api_call_alloc(call, path_size);
    char error[512];
    int rc =
        replay_report_write(job->report, r, json_path, html_path, path_size, error, sizeof error);
    replay_report_free(job->report);
    if (rc != 0) {
        log_error("replay: the report: %s", error);
        api_reply_error_status(call, GRPC_STATUS_INTERNAL, 70001,
                               "The report could not be written");
        return;
    }
    Tinvestd__Replay__V1__WriteReportResponse *out =
        PB_NEW(call, Tinvestd__Replay__V1__WriteReportResponse,
               TINVESTD__REPLAY__V1__WRITE_REPORT_RESPONSE__INIT);
    out->json_path = json_path;
    out->html_path = html_path;
    out->state = state_of(call, r, job->now_ns);
    api_reply_message(call, &out->base);
}

static void write_report(api_call *call, const ProtobufCMessage *request) {
    (void)request;
    if (not_replaying(call))
        return;
    report_job *job = api_core_job_new(call, sizeof *job);
    api_core_job_submit(&job->job, run_report, finish_report);
}

/* ---- The end of the replay ------------------------------------------------------------------ */

typedef struct end_job {
    engine_job base; /* must stay first */
    const api_replay *replay;
    replay_report *report;
} end_job;

static void finish_end(engine *e, engine_job *base) {
    (void)e;
    end_job *job = (end_job *)base;
    char json_path[1100], html_path[1100], error[512];
    if (job->report == NULL) {
        log_error("replay: finished; out of memory for the report");
    } else if (replay_report_write(job->report, job->replay, json_path, html_path, sizeof json_path,
                                   error, sizeof error) != 0) {
        log_error("replay: finished; the report: %s", error);
    } else {
        log_info("replay: finished; report %s", html_path);
        printf("replay finished report=%s json=%s\n", html_path, json_path);
        fflush(stdout);
    }
    replay_report_free(job->report);
    job->report = NULL;
}

void api_replay_ended(void *ctx, engine *e) {
    static end_job job; /* the end comes once */
    job = (end_job){.base = {.finish = finish_end}, .replay = ctx};
    job.report = replay_report_collect(e, ctx);
    engine_finish_after_commit(e, &job.base);
}

static const api_method replay_methods[] = {
    {.package = REPLAY_PACKAGE,
     .service = "ReplayService",
     .name = "GetReplayState",
     .request_type = &tinvestd__replay__v1__get_replay_state_request__descriptor,
     .handle = get_replay_state},
    {.package = REPLAY_PACKAGE,
     .service = "ReplayService",
     .name = "Advance",
     .request_type = &tinvestd__replay__v1__advance_request__descriptor,
     .handle = api_replay_advance},
    {.package = REPLAY_PACKAGE,
     .service = "ReplayService",
     .name = "WriteReport",
     .request_type = &tinvestd__replay__v1__write_report_request__descriptor,
     .handle = write_report},
};

const api_method *api_replay_methods(size_t *count) {
    *count = sizeof replay_methods / sizeof replay_methods[0];
    return replay_methods;
}
