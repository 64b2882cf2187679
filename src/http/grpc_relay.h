/* A gRPC call of any kind (unary, server stream, bidirectional stream) to the process's own
 * server, driven from the HTTP thread at the level of message bytes: the WebSocket streams and
 * gRPC-web ride on it.
 *
 * DESIGN: as for the REST bridge (rest_bridge.h), the HTTP thread never waits for gRPC. It starts
 * a call (grpc_relay_start), sends messages into it (grpc_relay_send) and goes on. The relay's
 * thread takes the call's completions and turns them into events kept on the call in arrival
 * order: the initial metadata, each message, and the final status with its trailers. A call with
 * new events is queued under the relay's lock and the HTTP thread is woken (`wake`); it calls
 * grpc_relay_dispatch, which calls each ready call's `ready` callback on the HTTP thread, and the
 * callback takes the events (grpc_relay_next).
 *
 * Back-pressure: the relay reads the next message of a call only while fewer than
 * GRPC_RELAY_MAX_PENDING of its messages wait to be taken. A client that does not read its
 * socket therefore stops the relay's reads, and the server's own slow-consumer rules for the
 * stream apply to it exactly as to a gRPC client that stopped reading.
 *
 * Ownership: a call is the HTTP thread's from grpc_relay_start until it calls grpc_relay_release
 * (once it has taken the final status, or when its client left: then the call is cancelled).
 * The relay frees a released call once its last operation has completed; no callback is made
 * for a released call. */
#ifndef TINVESTD_HTTP_GRPC_RELAY_H
#define TINVESTD_HTTP_GRPC_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

/* Messages of one call read from the server and not yet taken, at most. */
#define GRPC_RELAY_MAX_PENDING 16

typedef struct grpc_relay grpc_relay;
typedef struct grpc_relay_call grpc_relay_call;

/* One header or trailer: NUL-terminated copies (a binary header's value may hold NULs: its
 * length is value_len). */
typedef struct grpc_relay_header {
    char *key;
    char *value;
    size_t value_len;
} grpc_relay_header;

typedef struct grpc_relay_headers {
    grpc_relay_header *items;
    size_t count;
} grpc_relay_headers;

typedef enum grpc_relay_event_kind {
    GRPC_RELAY_HEADERS, /* the server's initial metadata (always first) */
    GRPC_RELAY_MESSAGE, /* one message of the server */
    GRPC_RELAY_STATUS,  /* the end of the call (always last) */
} grpc_relay_event_kind;

typedef struct grpc_relay_event {
    grpc_relay_event_kind kind;
    grpc_relay_headers headers; /* HEADERS: initial metadata; STATUS: trailing metadata */
    uint8_t *bytes;             /* MESSAGE: the serialized message */
    size_t len;
    int status;          /* STATUS: the gRPC status code */
    char *status_detail; /* STATUS: the status details (the T-Invest code), "" when none */
} grpc_relay_event;

/* Called on the HTTP thread (from grpc_relay_dispatch) when `call` got events. Events the
 * callback leaves (its client cannot take more now) bring no further callback of their own: the
 * owner takes them when it can (for a socket, when it becomes writable); a later event calls
 * again. */
typedef void (*grpc_relay_ready_fn)(grpc_relay_call *call, void *owner);

/* A channel to the server's internal listener `target` (insecure: an abstract unix socket of
 * the process's own), with no limit on what it receives (the server bounds what it sends). The
 * REST bridge and the relay each make one. */
grpc_channel *grpc_relay_internal_channel(const char *target);

/* Connects to `target` (the server's internal listener, "unix-abstract:NAME"); `wake` is called
 * from the relay's thread after a call became ready. NULL when memory runs out or the thread
 * cannot start. */
grpc_relay *grpc_relay_create(const char *target, void (*wake)(void *ctx), void *wake_ctx);

/* Starts the call `path` ("/package.Service/Method") with the request headers `headers`
 * (`count` of them: authorization and whatever the caller passes on) and a deadline of
 * `timeout_ms` from now (0: none, as for streams). The call waits for its messages: send them
 * with grpc_relay_send and end them with grpc_relay_close_send. Returns NULL when memory runs
 * out or the call cannot start. */
grpc_relay_call *grpc_relay_start(grpc_relay *relay, const char *path,
                                  const grpc_relay_header *headers, size_t count,
                                  int64_t timeout_ms, grpc_relay_ready_fn ready, void *owner);

/* Queues one message to the server (`len` bytes, copied). Returns 0, or -1 when its sending
 * side was closed, more than GRPC_RELAY_MAX_PENDING messages wait to be sent, or memory runs out.
 * A message sent after the server ended the call (a server may answer before the client's first
 * message, as for a bad token) is dropped with 0: the call's status event tells the end. */
int grpc_relay_send(grpc_relay_call *call, const void *bytes, size_t len);

/* No more messages from the client (after those queued). */
void grpc_relay_close_send(grpc_relay_call *call);

/* The call's next event, in order, into *event (the caller frees it with
 * grpc_relay_event_clear). Returns false when none waits now. */
bool grpc_relay_next(grpc_relay_call *call, grpc_relay_event *event);

void grpc_relay_event_clear(grpc_relay_event *event);

/* The call's messages read from the server and not yet taken (at most GRPC_RELAY_MAX_PENDING). */
size_t grpc_relay_pending_messages(grpc_relay_call *call);

/* The value of header `key` in `headers`, or NULL. */
const grpc_relay_header *grpc_relay_header_find(const grpc_relay_headers *headers, const char *key);

/* The HTTP thread is done with the call: cancels it if it has not ended; the relay frees it. */
void grpc_relay_release(grpc_relay_call *call);

/* Calls the `ready` callback of each call that got events since the last dispatch (HTTP
 * thread). */
void grpc_relay_dispatch(grpc_relay *relay);

/* Cancels every call, waits for their completions, stops the thread and frees the relay and
 * every call left (released or not: the HTTP thread has stopped using them). */
void grpc_relay_destroy(grpc_relay *relay);

#endif
