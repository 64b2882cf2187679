/* gRPC-web on the HTTP listener (docs/PROTOCOL.md, "gRPC-web"): `POST
 * /<package>.<Service>/<Method>` with a gRPC-web content type, and the CORS preflight (OPTIONS) of
 * those paths.
 *
 * DESIGN: a byte-level relay. The request's frames are read as the body arrives (grpc_web.h);
 * once the body is whole and well formed the call starts on the relay (grpc_relay.h) with an
 * allow-list of the request's headers, its messages are sent and the sending side closed, so a
 * gRPC-web call is a gRPC call of the server's own and passes every check a gRPC call passes. The
 * answer is written as relay events come, one event per writable callback (back-pressure: the
 * relay reads the server's next messages only as they are taken here): the server's initial
 * metadata as HTTP headers, each message as a data frame, the status and trailers as the trailer
 * frame. An answer of the server without initial metadata and without messages (the server's
 * errors are trailers-only) is written trailers-only: grpc-status, grpc-message and the trailers
 * in the HTTP headers, no body. Over HTTP/1.1 the body is chunked; over HTTP/2 it is the stream's
 * data frames. Only methods the server serves pass, and of them only unary and server-streaming
 * ones: a browser cannot stream a request.
 *
 * Threads: everything here runs on the HTTP thread (libwebsockets' callbacks and the relay's ready
 * callback, which grpc_relay_dispatch makes from the loop). */
#ifndef TINVESTD_HTTP_GRPC_WEB_CALL_H
#define TINVESTD_HTTP_GRPC_WEB_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/grpc_relay.h"

struct lws;

/* A method of the server as gRPC-web sees it. */
typedef struct grpc_web_method {
    const char *path; /* "/package.Service/Method" */
    bool server_streaming, client_streaming;
} grpc_web_method;

/* The deadline of a unary call that names none (as the REST proxy's, REST_CALL_DEADLINE_S); a
 * server stream has none unless the client sends grpc-timeout. */
#define GRPC_WEB_UNARY_TIMEOUT_MS 60000
/* The longest grpc-timeout taken; a longer one is cut to it. */
#define GRPC_WEB_MAX_TIMEOUT_MS (24 * 3600 * 1000LL)
/* The longest request header passed on (authorization, x-app-name, x-tracking-id). */
#define GRPC_WEB_HEADER_MAX 4096
/* Bytes written per writable callback (within libwebsockets' per-thread buffer). */
#define GRPC_WEB_WRITE_CHUNK 16384

typedef struct grpc_web grpc_web;
typedef struct grpc_web_call grpc_web_call;

/* The gRPC-web front over `relay`: `methods` (copied) are the methods served; request messages
 * are bounded by `max_message_bytes`. NULL when memory runs out. */
grpc_web *grpc_web_create(grpc_relay *relay, const grpc_web_method *methods, size_t count,
                          size_t max_message_bytes);
void grpc_web_destroy(grpc_web *web);

/* Whether a request is for gRPC-web: a POST whose Content-Type is a gRPC-web one. */
bool grpc_web_is_request(struct lws *wsi);

/* Whether an OPTIONS request for `path` is a gRPC-web preflight: a path of the form
 * "/package.Service/Method". */
bool grpc_web_is_preflight_path(const char *path);

/* A new call for the request on `wsi` to `path` (a POST with a gRPC-web content type, or an
 * OPTIONS preflight when `preflight`), from LWS_CALLBACK_HTTP. Answers that need no gRPC call (a
 * preflight, an unknown method, a bad header) are decided here and written once the body has been
 * read. A request without body callbacks to come (no Content-Length, or 0) has an empty body and
 * starts now. NULL when memory runs out. */
grpc_web_call *grpc_web_call_start(grpc_web *web, struct lws *wsi, const char *path,
                                   bool preflight);

/* A piece of the body. Returns -1 to close the connection (a body far past the limit). */
int grpc_web_call_body(grpc_web_call *call, const void *data, size_t len);

/* The body is whole: the call starts (or its error is answered). */
void grpc_web_call_body_done(grpc_web_call *call);

/* The connection can take a write: writes the next piece of the answer. Returns 0 (more to come),
 * 1 (the answer is complete: the caller frees the call and completes the transaction), or -1
 * (close the connection). */
int grpc_web_call_writable(grpc_web_call *call);

/* Frees the call; a gRPC call still under way is cancelled (its client left). NULL is ignored. */
void grpc_web_call_free(grpc_web_call *call);

#endif
