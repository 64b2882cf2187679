/* One gRPC call on the server: its request, the identity it carries, and how it is answered.
 *
 * DESIGN: every call is answered exactly once, either with a message (api_reply_message) or with
 * a T-Invest error (api_reply_error*). Both may be called from any thread (the core thread
 * answers order calls); the completion queue thread frees the call when gRPC reports the reply
 * sent. Success replies carry x-tracking-id and the x-ratelimit-* headers in the initial
 * metadata; errors are sent trailers-only, with grpc-message = the numeric code and the
 * `message`, x-tracking-id and x-ratelimit-* entries in the same header block, because the
 * official Python SDK reads metadata from the first non-empty block only. */
#ifndef TINVESTD_API_CALL_H
#define TINVESTD_API_CALL_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/refdata.h"
#include "util/uuid.h"

typedef struct api_server api_server;
typedef struct api_call api_call;
typedef struct api_method api_method;

/* Completion-queue tags all start with this header so one loop can dispatch any event. */
typedef struct api_tag {
    void (*on_complete)(struct api_tag *tag, bool ok);
} api_tag;

/* Handler of a decoded request. It must eventually answer the call exactly once. */
typedef void (*api_handler)(api_call *call, const ProtobufCMessage *request);

struct api_method {
    /* The service's package; NULL for the T-Invest contract's
     * (tinkoff.public.invest.api.contract.v1). */
    const char *package;
    const char *service; /* "UsersService" */
    const char *name;    /* "GetAccounts" */
    const ProtobufCMessageDescriptor *request_type;
    api_handler handle;
    bool server_streaming;
    /* Served without a token, rate budget or in-flight count (health and reflection, which
     * tooling calls without credentials: docs/SECURITY.md); the header size is still checked and
     * api_call.token stays NULL. */
    bool public_access;
    /* The operator's (tinvestd.admin.v1.AdminService): authorised by the configured admin token
     * alone (never a trading token), with no rate budget or in-flight count; api_call.token stays
     * NULL (docs/SECURITY.md). */
    bool admin_access;
    /* Filled in by the server at start. */
    uint32_t index;
    int32_t rate_limit_per_minute;
    /* Whose requests share this method's rate budget: its own index, or that of the first
     * method of its service when the service has one shared budget (rate_shared). */
    uint32_t rate_bucket;
    bool rate_shared;
    /* SandboxService methods: the request's `account_id` field, which must name a sandbox
     * account; NULL for every other method. */
    const ProtobufCFieldDescriptor *sandbox_account_field;
    /* A SandboxService method: it acts on sandbox accounts on either endpoint. */
    bool sandbox_service;
    /* gRPC's handle of the method on each endpoint's server (api_endpoint). */
    void *registration[2];
    char path[128]; /* "/tinkoff.public.invest.api.contract.v1.UsersService/GetAccounts" */
};

/* The two addresses the API is served on, as the real service has two: the broker's and the
 * sandbox's. Each has its own gRPC server (plaintext and TLS listeners); a call knows which one
 * it came in through. */
typedef enum api_endpoint {
    API_ENDPOINT_BROKER = 0,
    API_ENDPOINT_SANDBOX = 1,
} api_endpoint;
#define API_ENDPOINT_COUNT 2

typedef struct api_rate_info {
    int32_t limit, remaining, reset_s;
} api_rate_info;

typedef struct api_call_block api_call_block;

struct api_call {
    api_tag tag;
    api_server *server;
    api_method *method;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array request_metadata;
    grpc_byte_buffer *payload;
    ProtobufCMessage *request;
    /* The endpoint the call came in through. */
    api_endpoint endpoint;
    /* The caller's token as the call sees accounts (refdata_token_view_init): its sandbox
     * accounts on the sandbox endpoint and in SandboxService, its broker accounts otherwise. Every
     * account check reads it, so no method decides the view on its own. NULL until the call is
     * authenticated. */
    const token *token;
    /* The configured token's index (rate limits, in-flight and stream counts are per token,
     * whichever endpoint it calls). */
    uint32_t token_index;
    int64_t received_ns;
    /* Metrics: CLOCK_MONOTONIC at receipt (the broker's clock may be a replay's). */
    int64_t received_mono_ns;
    api_rate_info rate;
    char tracking_id[UUID_TEXT_SIZE];
    /* Reply storage: must stay alive until gRPC reports the batch done. */
    grpc_metadata reply_metadata[6];
    size_t reply_metadata_count;
    grpc_byte_buffer *reply_payload;
    grpc_slice status_details;
    int client_cancelled;
    bool answered;
    /* Counted in the server's in_flight for its token until the call is destroyed. */
    bool in_flight;
    api_call_block *blocks;
    /* Free for the handler: e.g. the core's command. */
    void *user;
};

/* Scratch memory released with the call (responses are built from it). Aborts on OOM: a
 * per-call allocation of a few KiB failing means the process cannot serve anything anyway. */
void *api_call_alloc(api_call *call, size_t size);
char *api_call_strdup(api_call *call, const char *text);
/* Frees the scratch memory of a call that is no gRPC call: a zeroed api_call used only to build
 * a message with the reply builders (stream fan-out), then let go with this. */
void api_call_free_scratch(api_call *call);

/* Encodes `response` and sends it with status OK. */
void api_reply_message(api_call *call, const ProtobufCMessage *response);
/* Sends the catalogue's status and message for `code`. */
void api_reply_error(api_call *call, int code);
/* Same status and code, with a more specific human message. */
void api_reply_error_message(api_call *call, int code, const char *message);
/* A code sent with another gRPC status than the catalogue's (70003 as UNAVAILABLE while the
 * journal cannot write: a retryable condition, not an internal fault). */
void api_reply_error_status(api_call *call, grpc_status_code status, int code, const char *message);

/* A status of a protocol other than the T-Invest contract's (gRPC health checking): `message` is
 * both the status details and the `message` trailer, with x-tracking-id as on every reply. */
void api_reply_status(api_call *call, grpc_status_code status, const char *message);

/* Value of request metadata `key` (lower case), or NULL; `len` receives its length. */
const char *api_call_metadata(const api_call *call, const char *key, size_t *len);

/* Releases everything the call holds; used by the server once gRPC is done with it. */
void api_call_destroy(api_call *call);

#endif
