#include "api/core_job.h"

#include "api/core_errors.h"
#include "api/server.h"

engine *api_engine_of(const api_call *call) {
    return call->server->app->engine;
}

void *api_core_job_new(api_call *call, size_t size) {
    api_core_job *job = api_call_alloc(call, size);
    job->call = call;
    return job;
}

static void finish_unless_refused(engine *e, engine_job *base) {
    api_core_job *job = (api_core_job *)base;
    if (!api_reply_if_refused(job))
        job->finish(e, base);
}

void api_core_job_submit(api_core_job *job, void (*run)(engine *, engine_job *),
                         void (*finish)(engine *, engine_job *)) {
    job->base.run = run;
    job->base.finish = finish_unless_refused;
    job->finish = finish;
    job->base.received_ns = job->call->received_ns;
    if (!engine_submit(api_engine_of(job->call), &job->base))
        api_reply_error_message(job->call, 80002,
                                "The broker is overloaded: request queue is full");
}

bool api_reply_if_refused(api_core_job *job) {
    if (!job->base.refused)
        return false;
    api_reply_error_status(job->call, GRPC_STATUS_UNAVAILABLE, 70003,
                           "The broker cannot write its journal (disk full?); try again later");
    return true;
}

typedef struct read_job {
    api_core_job job; /* must stay first */
    api_read_fn read;
    const ProtobufCMessage *reply;
} read_job;

static void run_read(engine *e, engine_job *base) {
    read_job *job = (read_job *)base;
    job->reply = job->read(e, job->job.call);
    engine_finish_after_commit(e, base);
}

static void finish_read(engine *e, engine_job *base) {
    read_job *job = (read_job *)base;
    api_reply_message(job->job.call, job->reply);
}

void api_read_on_core(api_call *call, api_read_fn read) {
    read_job *job = api_core_job_new(call, sizeof(read_job));
    job->read = read;
    api_core_job_submit(&job->job, run_read, finish_read);
}

bool api_reply_if_failed(api_core_job *job, core_error error) {
    if (api_reply_if_refused(job))
        return true;
    if (error == CORE_OK)
        return false;
    api_reply_core_error(job->call, error);
    return true;
}
