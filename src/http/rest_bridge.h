/* The REST proxy's way to the gRPC server: one channel to the server's internal listener, a
 * completion queue with a thread of its own, and the answers handed back to the HTTP thread.
 *
 * DESIGN: the HTTP thread never waits for gRPC. It starts a call (rest_bridge_start) and goes on;
 * the bridge's thread takes the call's completion, turns the reply or the status into the HTTP
 * answer (JSON through src/jsonpb), queues it under a lock and wakes the HTTP thread through the
 * `wake` callback (lws_cancel_service), which takes the answers (rest_bridge_take). A request the
 * client gave up on is cancelled (rest_bridge_abandon) and its answer, when it comes, is dropped
 * by the HTTP thread. So each exchange has one owner at a time: the bridge while its call runs,
 * the HTTP thread once it is taken. */
#ifndef TINVESTD_HTTP_REST_BRIDGE_H
#define TINVESTD_HTTP_REST_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include <grpc/grpc.h>

#include "http/rest_routes.h"

/* What the HTTP thread writes back: a status, a JSON body and the headers copied from the gRPC
 * answer (empty strings when absent). */
typedef struct rest_answer {
    int http_status;
    const char *content_type; /* NULL: application/json */
    char *body;               /* malloc'd JSON (or the text of content_type) */
    size_t body_len;
    char tracking_id[64];
    char ratelimit_limit[24], ratelimit_remaining[24], ratelimit_reset[24];
} rest_answer;

typedef struct rest_exchange rest_exchange;
typedef struct rest_bridge rest_bridge;

/* One REST request on its way through gRPC. */
struct rest_exchange {
    rest_exchange *next; /* the bridge's queue of finished exchanges */
    void *owner;         /* the HTTP thread's (its session); the bridge never reads it */
    bool finished;       /* the call completed (under the bridge's lock) */
    bool abandoned;      /* the client went away before the answer (HTTP thread) */
    rest_answer answer;  /* valid once taken */
    /* The call (the bridge's while it runs). */
    const rest_route *route;
    grpc_call *call;
    grpc_metadata authorization;
    bool has_authorization;
    grpc_byte_buffer *request, *reply;
    grpc_metadata_array initial_metadata, trailing_metadata;
    grpc_status_code status;
    grpc_slice status_details;
};

/* Connects to `target` ("unix-abstract:NAME"); `wake` is called from the bridge's thread after
 * it queued an answer. Returns NULL when the thread cannot start or memory runs out. */
rest_bridge *rest_bridge_create(const char *target, void (*wake)(void *ctx), void *wake_ctx);

/* Sends `body` (decoded already: `request` is a message of route->request) as the route's call
 * with the client's Authorization header (NULL or "" for none). The exchange is the bridge's until
 * rest_bridge_take returns it; `request` is packed at once and freed by the caller. Returns NULL
 * when memory runs out. */
rest_exchange *rest_bridge_start(rest_bridge *bridge, const rest_route *route,
                                 const ProtobufCMessage *request, const char *authorization,
                                 void *owner);

/* The client left: cancels the call if it still runs; the exchange is freed when taken. */
void rest_bridge_abandon(rest_bridge *bridge, rest_exchange *exchange);

/* The next finished exchange, or NULL (HTTP thread). The caller frees it with
 * rest_exchange_free. */
rest_exchange *rest_bridge_take(rest_bridge *bridge);

void rest_exchange_free(rest_exchange *exchange);

/* An answer made without a gRPC call (unknown path, bad JSON): the gRPC status and message as
 * the proxy's error body, with a new tracking id. */
int rest_answer_error(rest_answer *answer, int grpc_status, const char *message,
                      const char *description);

/* Cancels every running call, waits for their completions, stops the thread and frees the
 * bridge and whatever exchanges are still queued. No wake is called after this starts. */
void rest_bridge_destroy(rest_bridge *bridge);

#endif
