/* The gRPC server: listeners, the completion-queue thread, method dispatch and shutdown.
 *
 * DESIGN: one completion-queue thread receives every call. gRPC hands a call over as soon as its
 * headers arrive; the thread checks the header size, authenticates the token and applies the
 * in-flight and rate limits before it asks for the request message, so a call refused there never
 * has its payload buffered. Then it decodes the request and runs the method's handler. Handlers
 * that need only immutable reference data answer at once on this thread; handlers that touch broker
 * state hand a command to the core thread, which answers the call later (api_reply_* may be
 * called from any thread). Methods of the contract that are declared but not served are not
 * registered with gRPC: such calls arrive through the unmatched-call path, pass the same header
 * and token checks (40003 without a valid token, as on the real API) and are answered
 * UNIMPLEMENTED with code 12001, with rate headers that report nothing spent.
 *
 * Two endpoints, as the real service has two addresses: the broker's and the sandbox's. Each is
 * a gRPC server of its own (its plaintext and TLS listeners), both registering every method on
 * the one completion queue, its threads, the connection table and the memory quota, so the
 * limits below hold for the process. A call is requested from one server and so knows its
 * endpoint (api_call.endpoint) without trusting any header; authentication gives it its token's
 * view of the accounts for that endpoint (api_call.token, core/refdata.h token_view), which every
 * account check reads.
 *
 * Transport limits (docs/SECURITY.md): HTTP/2 streams per connection, a memory quota for
 * everything gRPC holds, a cap on header bytes, and a cap on accepted connections kept below the
 * descriptor limit, because C-core 1.51 stops its listener for good when accept() fails with
 * EMFILE. */
#ifndef TINVESTD_API_SERVER_H
#define TINVESTD_API_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/call.h"
#include "api/ratelimit.h"
#include "config/config.h"

struct engine;
struct stream_hub;
struct md_hub;
struct api_connections;

/* What handlers reach beyond reference data: the core thread and the stream subscriptions. */
typedef struct api_app {
    struct engine *engine;
    struct stream_hub *hub;
    struct md_hub *md_hub;           /* market-data subscriptions */
    const struct api_replay *replay; /* a replay of history (api/replay.h), or NULL */
} api_app;

#define API_MAX_QUEUE_THREADS 8

/* The completion of one endpoint's server shutdown. */
typedef struct api_server_shutdown {
    api_tag tag; /* must stay first */
    struct api_server *server;
} api_server_shutdown;

typedef struct api_server_options {
    const char *listen_address;     /* plaintext "HOST:PORT", or NULL */
    const char *tls_listen_address; /* TLS "HOST:PORT", or NULL */
    /* The sandbox endpoint's listeners, each "HOST:PORT" or NULL (TLS with the same certificate
     * and key). */
    const char *sandbox_listen_address, *sandbox_tls_listen_address;
    const char *tls_cert_path, *tls_key_path;
    /* A plaintext listener of the broker's endpoint for the process itself (the HTTP front end's
     * gRPC channel, src/http), e.g. "unix-abstract:tinvestd-PID-RANDOM"; NULL for none. Its port
     * is not reported. */
    const char *internal_listen_address;
} api_server_options;

struct api_server {
    const tinvestd_config *config;
    api_app *app;
    /* One gRPC server per endpoint (NULL for an endpoint without listeners), both on the one
     * completion queue, its threads and the limits below. */
    grpc_server *servers[API_ENDPOINT_COUNT];
    grpc_completion_queue *queue;
    /* Threads that poll the completion queue (limits.transport_threads): gRPC's reads, parsing
     * and our handlers run on them. */
    pthread_t queue_threads[API_MAX_QUEUE_THREADS];
    int queue_thread_count;
    api_method *methods;
    size_t method_count;
    ratelimit limiter;
    /* Unary calls each token has between acceptance and the end of its reply. */
    atomic_int *in_flight;
    grpc_resource_quota *memory_quota;
    struct api_connections *connections; /* NULL when not enforced (see server.c) */
    /* Each token as each endpoint's calls see it: token_views[endpoint view][token index]
     * (refdata_token_view_init), token_count each. */
    token *token_views[API_ENDPOINT_COUNT];
    int plaintext_port, tls_port, sandbox_port, sandbox_tls_port;
    atomic_bool shutting_down;
    /* One per endpoint's server; the completion queue shuts down once every server has. */
    api_server_shutdown shutdown_tags[API_ENDPOINT_COUNT];
    atomic_int servers_running;
    pthread_mutex_t shutdown_lock;
    pthread_cond_t shutdown_done;
    bool shutdown_complete;
};

/* The configuration and the reference data a call's server was started with (immutable after
 * start: read without locks on any thread). */
static inline const tinvestd_config *api_call_config(const api_call *call) {
    return call->server->config;
}
static inline const refdata *api_call_refdata(const api_call *call) {
    return &call->server->config->refdata;
}

/* Registers `methods` (the table lives as long as the server), binds the listeners and starts
 * the completion-queue thread. Returns 0, or -1 with a reason in `error`. */
int api_server_start(api_server *srv, const tinvestd_config *config, api_app *app,
                     api_method *methods, size_t method_count, const api_server_options *options,
                     char *error, size_t error_size);

/* Stops accepting calls, lets in-flight unary calls finish for up to `grace_ms`, cancels what
 * is left, and joins the completion-queue thread. */
/* Periodic work from the main thread: forgets connections that have closed and, when some
 * have, gives the memory malloc kept for them back to the system. */
void api_server_housekeeping(api_server *srv);

void api_server_stop(api_server *srv, int grace_ms);
void api_server_destroy(api_server *srv);

#endif
