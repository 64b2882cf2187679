/* The WebSocket streams at `/ws/<package>.<Service>/<Method>` (docs/PROTOCOL.md, "WebSocket
 * streams"): every streaming method the gRPC server serves, as JSON text frames, with the
 * subprotocols `json` (lowerCamelCase names) and `json-proto` (the .proto names).
 *
 * DESIGN: a WebSocket connection is one gRPC streaming call to the process's own server through
 * the relay (grpc_relay.h), so the stream's token check, per-token stream limits, slow-consumer
 * rule and pings are the gRPC server's, unchanged: the WebSocket is only a client of it. On the
 * handshake the route comes from the URL path (ws_routes.h) and the token from `Authorization:
 * Bearer …` or from the subprotocol list (`json, <token>`: the only way a browser's WebSocket can
 * send one). Each text frame of the client is read as the method's request (src/jsonpb, either
 * name style) and sent into the call; a server-streaming method takes exactly one, a
 * bidirectional one (MarketDataStream) any number. Each message of the server becomes one text
 * frame. The call's end closes the socket: 1000 for OK, otherwise 4000 + the gRPC status with the
 * T-Invest message as the close reason, after a last frame holding the error (`code`, `message`,
 * `description` = the T-Invest code, `details`), the rpcStatus of the real proxy's description.
 *
 * Back-pressure: one frame is written per writable event, and the next message is taken from the
 * relay only then; the relay reads the gRPC stream only while fewer than GRPC_RELAY_MAX_PENDING of
 * its messages wait, so a client that stops reading meets the server's slow-consumer rule of that
 * stream exactly as a gRPC client would.
 *
 * Everything here runs on the HTTP thread (libwebsockets' loop). */
#ifndef TINVESTD_HTTP_WS_STREAMS_H
#define TINVESTD_HTTP_WS_STREAMS_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "http/grpc_relay.h"

/* The two subprotocols, as the real proxy names them. */
#define WS_PROTOCOL_JSON "json"
#define WS_PROTOCOL_JSON_PROTO "json-proto"

/* The longest token read from the Authorization header or the subprotocol list. */
#define WS_TOKEN_MAX 4096

typedef struct ws_streams ws_streams;

typedef struct ws_streams_options {
    /* The gRPC paths ("/package.Service/Method") of the streaming methods served; read at start
     * only. */
    const char *const *stream_paths;
    size_t stream_path_count;
    grpc_relay *relay; /* the calls go through it; the listener owns it */
    /* The largest client message (limits.max_message_bytes, as the gRPC server's). */
    size_t max_message_bytes;
    /* Whether `secret` (`len` bytes) is a configured token (NULL: the gRPC server alone judges
     * the token, which a server-streaming call does once its request has come). */
    bool (*token_valid)(void *ctx, const char *secret, size_t len);
    void *lookup_ctx;
} ws_streams_options;

/* The routes and settings of the streams; NULL when memory runs out. */
ws_streams *ws_streams_create(const ws_streams_options *options);
void ws_streams_destroy(ws_streams *streams);

size_t ws_streams_route_count(const ws_streams *streams);

/* The libwebsockets callback of both subprotocols: the protocol entries name it with
 * ws_streams_session_size() of user data and the ws_streams as their `user` pointer. */
int ws_streams_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len);
size_t ws_streams_session_size(void);

#endif
