/* Handing a call to the core thread. The job lives in the call's scratch memory; `run` executes
 * on the core thread in command order, `finish` sends the reply once the batch is durable. */
#ifndef TINVESTD_API_CORE_JOB_H
#define TINVESTD_API_CORE_JOB_H

#include "api/call.h"
#include "core/errors.h"
#include "engine/engine.h"

typedef struct api_core_job {
    engine_job base; /* must stay first */
    api_call *call;
    void (*finish)(engine *, engine_job *); /* the job's own; base.finish answers refusals */
} api_core_job;

engine *api_engine_of(const api_call *call);

/* Allocates a job of `size` bytes (>= sizeof(api_core_job)) bound to the call. */
void *api_core_job_new(api_call *call, size_t size);

/* Queues the job; when the inbox is full the call is answered RESOURCE_EXHAUSTED at once. A job
 * the engine refuses (the journal cannot write) is answered UNAVAILABLE 70003 without calling
 * `finish`. */
void api_core_job_submit(api_core_job *job, void (*run)(engine *, engine_job *),
                         void (*finish)(engine *, engine_job *));

/* For a job that changes state and was refused because the journal cannot be written: answers
 * UNAVAILABLE 70003 and returns true; false when the job was not refused. */
bool api_reply_if_refused(api_core_job *job);

/* For a command's job: answers a refusal (as above) or the core's `error`, and returns true;
 * false when the command succeeded and the job's own reply is still to be sent. */
bool api_reply_if_failed(api_core_job *job, core_error error);

/* A read on the core thread, in command order: builds the reply in the call's memory from what
 * it reads (copies, or reference data that never changes; never pointers into core or venue
 * state). */
typedef const ProtobufCMessage *(*api_read_fn)(engine *e, api_call *call);

/* For reads: `read` runs on the core thread when the job's turn comes; its reply is encoded and
 * sent once the batch is durable (so that it shows nothing that is not), off the core thread. */
void api_read_on_core(api_call *call, api_read_fn read);

#endif
