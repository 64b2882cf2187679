/* The HTTP listener (libwebsockets): the REST proxy `POST /rest/<package>.<Service>/<Method>`
 * for every unary method the gRPC server serves (docs/PROTOCOL.md, "REST").
 *
 * DESIGN: one thread runs the libwebsockets event loop; it reads requests, turns their JSON into
 * the method's request message (src/jsonpb) and hands the call to the REST bridge
 * (rest_bridge.h), which calls the process's own gRPC server through its internal listener, so
 * a REST call passes exactly the checks of a gRPC call: the token, the rate limits, the request's
 * checks, its answer and its errors. The bridge's thread hands answers back through a locked queue
 * and lws_cancel_service, the library's way to wake its loop from another thread; the loop never
 * blocks on gRPC. No HTTP is parsed here: libwebsockets parses it (HTTP/1.1, and HTTP/2 over TLS
 * by ALPN). `GET /history-data` (history archives) and `GET /metrics` are answered here, the
 * archives by a worker of their own (history_data.h). gRPC-web (`POST
 * /<package>.<Service>/<Method>` with a gRPC-web content type, and its CORS preflight) rides on the
 * relay (grpc_web_call.h), and so do the WebSocket upgrades with the subprotocol `json` or
 * `json-proto`: the streams at /ws/ (ws_streams.h). */
#ifndef TINVESTD_HTTP_HTTP_SERVER_H
#define TINVESTD_HTTP_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/grpc_web_call.h"

typedef struct http_server http_server;

typedef struct http_server_options {
    const char *listen_address;     /* plaintext "HOST:PORT", or NULL */
    const char *tls_listen_address; /* TLS "HOST:PORT", or NULL (needs the certificate) */
    const char *tls_cert_path, *tls_key_path;
    /* The gRPC server's internal listener ("unix-abstract:NAME"). */
    const char *grpc_target;
    /* The gRPC paths ("/package.Service/Method") of the unary methods served; the table is read
     * at start only. */
    const char *const *grpc_paths;
    size_t grpc_path_count;
    /* gRPC-web (docs/PROTOCOL.md, "gRPC-web"): every method served, its path and kind; the table
     * is copied at start. */
    const grpc_web_method *grpc_web_methods;
    size_t grpc_web_method_count;
    /* The gRPC paths of the streaming methods served, for the WebSocket streams at /ws/
     * (ws_streams.h); read at start only. */
    const char *const *stream_paths;
    size_t stream_path_count;
    /* The largest request body read (limits.max_message_bytes, as the gRPC server's). */
    size_t max_body_bytes;
    /* GET /history-data (docs/PROTOCOL.md, "History archives over HTTP"): the data directory
     * whose history store is served (NULL: the path is not served), the cap on one instrument's
     * candles (history.max_candles_per_instrument), and the server's answers to the two questions
     * the listener cannot answer itself, asked on the HTTP thread (the listener knows neither
     * tokens nor instruments): whether `secret` (`len` bytes) is a configured token, and the
     * instrument uid (36 characters and a NUL into `uid`) of an `instrument_id`, a FIGI or a uid
     * (false when unknown). */
    const char *history_data_dir;
    uint64_t history_max_candles;
    bool (*token_valid)(void *ctx, const char *secret, size_t len);
    bool (*instrument_uid)(void *ctx, const char *instrument_id, char uid[37]);
    void *lookup_ctx;
    /* The dashboard's built files (dashboard.h, docs/DASHBOARD.md), served at GET / and
     * /assets/…; NULL: not served. */
    const char *web_dir;
} http_server_options;

/* Binds the listeners and starts the HTTP thread. Returns the server, or NULL with a reason in
 * `error`. */
http_server *http_server_start(const http_server_options *options, char *error, size_t error_size);

/* The port each listener got (a listener asked for with port 0 gets a free one); 0 for none. */
int http_server_port(const http_server *server);
int http_server_tls_port(const http_server *server);

/* Closes the listeners and every connection (cancelling the calls they wait for), stops the
 * threads and frees everything. */
void http_server_stop(http_server *server);

#endif
