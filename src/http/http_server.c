#include "http/http_server.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libwebsockets.h>

#include "http/dashboard.h"
#include "http/history_archive.h"
#include "http/grpc_relay.h"
#include "http/grpc_web_call.h"
#include "http/history_data.h"
#include "http/rest_bridge.h"
#include "http/rest_routes.h"
#include "http/ws_streams.h"
#include "jsonpb/jsonpb.h"
#include "metrics/metrics.h"
#include "util/log.h"
#include "util/uuid.h"

/* Connections the HTTP thread serves at once (libwebsockets refuses those past it). */
#define HTTP_MAX_CONNECTIONS 1024
/* Bytes of the answer written per writable event, so that one large answer does not hold the
 * loop. */
#define HTTP_WRITE_CHUNK 16384
/* The longest Authorization header passed on (the gRPC server's header limit is smaller). */
#define HTTP_AUTHORIZATION_MAX 4096
/* A body past the limit is read and dropped so that its answer can be written; past this many
 * times the limit the connection is closed instead. */
#define HTTP_DISCARD_FACTOR 4
/* The longest query argument read (an instrument_id is a FIGI or a uid of 36 characters). */
#define HTTP_QUERY_ARG_MAX 256

struct http_server {
    struct lws_context *context;
    struct lws_vhost *vhost, *tls_vhost;
    int port, tls_port;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    /* Guards `context` against the bridge's wake while the server stops. */
    pthread_mutex_t wake_lock;
    bool closing;
    rest_bridge *bridge;
    grpc_relay *relay; /* the calls of the WebSocket streams and gRPC-web */
    grpc_web *web;     /* gRPC-web's methods and buffer */
    ws_streams *ws;    /* the WebSocket streams (their protocols' `user`) */
    /* The protocols of both vhosts: "http" first, then the WebSocket subprotocols. */
    struct lws_protocols protocols[4];
    rest_route *routes;
    size_t route_count;
    size_t max_body_bytes;
    history_data *history; /* GET /history-data's worker, or NULL when not served */
    bool (*token_valid)(void *ctx, const char *secret, size_t len);
    bool (*instrument_uid)(void *ctx, const char *instrument_id, char uid[37]);
    void *lookup_ctx;
    dashboard dashboard; /* GET / and /assets/… */
    unsigned char write_buffer[LWS_PRE + HTTP_WRITE_CHUNK];
};

/* One HTTP request (libwebsockets' per-connection, or per-HTTP/2-stream, user data). Reused by
 * the next request of a kept-alive connection. */
typedef struct http_session {
    const rest_route *route;
    bool post;
    char *body;
    size_t body_len, body_cap, discarded;
    bool too_large;
    rest_exchange *exchange; /* the gRPC call under way, or NULL */
    history_job *history;    /* the archive being built, or NULL */
    grpc_web_call *web;      /* a gRPC-web request (or its preflight), or NULL */
    bool answered;
    rest_answer answer;
    bool headers_sent;
    size_t written;
    char authorization[HTTP_AUTHORIZATION_MAX];
} http_session;

static http_server *server_of(struct lws *wsi) {
    return lws_context_user(lws_get_context(wsi));
}

static void session_release(http_server *srv, http_session *s) {
    if (s->exchange != NULL)
        rest_bridge_abandon(srv->bridge, s->exchange);
    if (s->history != NULL)
        history_data_abandon(srv->history, s->history);
    grpc_web_call_free(s->web);
    free(s->body);
    free(s->answer.body);
    memset(s, 0, sizeof *s);
}

static int answer_now(struct lws *wsi, http_session *s) {
    s->answered = true;
    lws_callback_on_writable(wsi);
    return 0;
}

static int answer_error(struct lws *wsi, http_session *s, int grpc_status, const char *message,
                        int http_status) {
    if (rest_answer_error(&s->answer, grpc_status, message, "") != 0)
        return -1;
    if (http_status != 0)
        s->answer.http_status = http_status;
    return answer_now(wsi, s);
}

/* GET /metrics: the process's metrics in Prometheus text (docs/METRICS.md), without a token, as
 * scrapers ask for them (docs/SECURITY.md). */
static int answer_metrics(struct lws *wsi, http_session *s) {
    metrics_buffer text = {0};
    if (metrics_render(metrics_default(), &text) != 0) {
        metrics_buffer_free(&text);
        return answer_error(wsi, s, 8, "The metrics could not be rendered", 503);
    }
    char id[UUID_TEXT_SIZE];
    uuid_generate_v4(id);
    snprintf(s->answer.tracking_id, sizeof s->answer.tracking_id, "%s", id);
    s->answer.http_status = 200;
    s->answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
    s->answer.body = text.data; /* the answer frees it */
    s->answer.body_len = text.length;
    return answer_now(wsi, s);
}

/* GET /history-data?instrument_id=…&year=… (or the older figi=…): the instrument's archive of
 * the year, which the archive worker builds (docs/PROTOCOL.md, "History archives over HTTP"). */
static int answer_history(struct lws *wsi, http_session *s) {
    http_server *srv = server_of(wsi);
    if (srv->history == NULL)
        return answer_error(wsi, s, 5, "Not Found", 404);
    static const char bearer[] = "Bearer ";
    size_t len = strlen(s->authorization);
    if (len <= sizeof bearer - 1 || strncasecmp(s->authorization, bearer, sizeof bearer - 1) != 0 ||
        !srv->token_valid(srv->lookup_ctx, s->authorization + sizeof bearer - 1,
                          len - (sizeof bearer - 1)))
        return answer_error(wsi, s, 16, "Authentication token is missing or invalid", 401);
    char id_arg[HTTP_QUERY_ARG_MAX], year_arg[HTTP_QUERY_ARG_MAX];
    const char *id = lws_get_urlarg_by_name(wsi, "instrument_id=", id_arg, sizeof id_arg);
    if (id == NULL || id[0] == '\0')
        id = lws_get_urlarg_by_name(wsi, "figi=", id_arg, sizeof id_arg);
    if (id == NULL || id[0] == '\0')
        return answer_error(wsi, s, 3, "instrument_id is required", 400);
    const char *year_text = lws_get_urlarg_by_name(wsi, "year=", year_arg, sizeof year_arg);
    int year;
    if (history_archive_parse_year(year_text, &year) != 0)
        return answer_error(wsi, s, 3, "year must be a year of four digits from 1970", 400);
    char uid[HISTORY_UID_LEN + 1];
    if (!srv->instrument_uid(srv->lookup_ctx, id, uid))
        return answer_error(wsi, s, 5, "instrument not found", 404);
    s->history = history_data_submit(srv->history, uid, year, wsi);
    if (s->history == NULL)
        return answer_error(wsi, s, 8, "too many archive requests at once, try again later", 429);
    return 0;
}

static int on_request(struct lws *wsi, http_session *s, const char *uri) {
    http_server *srv = server_of(wsi);
    session_release(srv, s);
    s->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    s->route = rest_routes_find(srv->routes, srv->route_count, uri);
    if (lws_hdr_copy(wsi, s->authorization, sizeof s->authorization, WSI_TOKEN_HTTP_AUTHORIZATION) <
        0)
        s->authorization[0] = '\0';
    bool options = lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0;
    if ((options && grpc_web_is_preflight_path(uri)) || grpc_web_is_request(wsi)) {
        s->web = grpc_web_call_start(srv->web, wsi, uri, options);
        return s->web != NULL ? 0 : -1;
    }
    if (!s->post && strcmp(uri, "/metrics") == 0)
        return answer_metrics(wsi, s);
    if (!s->post && strcmp(uri, "/history-data") == 0)
        return answer_history(wsi, s);
    if (!s->post && dashboard_is_page(&srv->dashboard, uri))
        return dashboard_serve_page(&srv->dashboard, wsi);
    if (!s->post) {
        if (s->route == NULL)
            return answer_error(wsi, s, 5, "Not Found", 404);
        return answer_error(wsi, s, 12, "Method Not Allowed", 405);
    }
    char length[32] = "";
    if (lws_hdr_copy(wsi, length, sizeof length, WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0)
        length[0] = '\0';
    /* A POST without a body gets no body callbacks: it is the request `{}`, started from the
     * next writable event. That is a Content-Length of 0, or in HTTP/1.1 neither it nor a
     * Transfer-Encoding. An HTTP/2 stream is one whose connection is another wsi. */
    bool h2 = lws_get_network_wsi(wsi) != wsi;
    /* libwebsockets 4.1 delivers no body of an HTTP/2 request without a Content-Length (its
     * stream would wait until the library's timeout): such a request is refused at once. */
    if (h2 && length[0] == '\0')
        return answer_error(wsi, s, 3, "Content-Length is required over HTTP/2", 411);
    bool no_length =
        length[0] == '\0' && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) <= 0;
    if (strcmp(length, "0") == 0 || no_length)
        lws_callback_on_writable(wsi);
    return 0;
}

static int on_body(struct lws *wsi, http_session *s, const char *data, size_t len) {
    http_server *srv = server_of(wsi);
    if (s->web != NULL)
        return grpc_web_call_body(s->web, data, len);
    if (len == 0)
        return 0;
    if (s->too_large || len > srv->max_body_bytes - s->body_len) {
        s->too_large = true;
        s->discarded += len;
        return s->discarded > HTTP_DISCARD_FACTOR * srv->max_body_bytes ? -1 : 0;
    }
    if (s->body_len + len > s->body_cap) {
        size_t cap = s->body_cap ? s->body_cap : 4096;
        while (cap < s->body_len + len)
            cap *= 2;
        char *grown = realloc(s->body, cap);
        if (grown == NULL)
            return -1;
        s->body = grown;
        s->body_cap = cap;
    }
    memcpy(s->body + s->body_len, data, len);
    s->body_len += len;
    return 0;
}

/* The whole request is in: its answer is local (an error) or a gRPC call. */
static int dispatch(struct lws *wsi, http_session *s) {
    http_server *srv = server_of(wsi);
    if (s->route == NULL)
        return answer_error(wsi, s, 5, "Not Found", 404);
    if (s->too_large) {
        char message[96];
        snprintf(message, sizeof message, "request body exceeds %zu bytes", srv->max_body_bytes);
        return answer_error(wsi, s, 3, message, 0);
    }
    jsonpb_decode_options options = {.flags = JSONPB_IGNORE_UNKNOWN,
                                     .max_bytes = srv->max_body_bytes};
    ProtobufCMessage *request = NULL;
    jsonpb_error err;
    const char *text = s->body_len ? s->body : "{}";
    size_t len = s->body_len ? s->body_len : 2;
    int rc = jsonpb_decode(text, len, s->route->request, &options, &request, &err);
    if (rc == -EINVAL)
        return answer_error(wsi, s, 3, err.text, 0);
    if (rc != 0)
        return answer_error(wsi, s, 13, "out of memory", 0);
    s->exchange = rest_bridge_start(srv->bridge, s->route, request, s->authorization, wsi);
    protobuf_c_message_free_unpacked(request, NULL);
    if (s->exchange == NULL)
        return answer_error(wsi, s, 13, "cannot start the call", 0);
    return 0;
}

/* Answers the bridge has finished go to their connections; those whose client left are
 * dropped. */
static void take_answers(http_server *srv) {
    rest_exchange *x;
    while ((x = rest_bridge_take(srv->bridge)) != NULL) {
        if (!x->abandoned) {
            struct lws *wsi = x->owner;
            http_session *s = lws_wsi_user(wsi);
            s->exchange = NULL;
            free(s->answer.body);
            s->answer = x->answer;
            x->answer.body = NULL;
            answer_now(wsi, s);
        }
        rest_exchange_free(x);
    }
    history_job *job;
    while (srv->history != NULL && (job = history_data_take(srv->history)) != NULL) {
        if (!job->abandoned) {
            http_session *s = lws_wsi_user(job->owner);
            s->history = NULL;
            free(s->answer.body);
            s->answer = job->answer;
            job->answer.body = NULL;
            answer_now(job->owner, s);
        }
        history_job_free(srv->history, job);
    }
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end) {
    if (value[0] == '\0')
        return 0;
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

static int write_headers(struct lws *wsi, http_session *s) {
    unsigned char buffer[LWS_PRE + 1024];
    unsigned char *start = buffer + LWS_PRE, *p = start, *end = buffer + sizeof buffer - 1;
    const rest_answer *a = &s->answer;
    const char *type = a->content_type != NULL ? a->content_type : "application/json";
    if (lws_add_http_common_headers(wsi, (unsigned)a->http_status, type, a->body_len, &p, end) !=
            0 ||
        add_header(wsi, "x-tracking-id:", a->tracking_id, &p, end) != 0 ||
        add_header(wsi, "x-ratelimit-limit:", a->ratelimit_limit, &p, end) != 0 ||
        add_header(wsi, "x-ratelimit-remaining:", a->ratelimit_remaining, &p, end) != 0 ||
        add_header(wsi, "x-ratelimit-reset:", a->ratelimit_reset, &p, end) != 0 ||
        lws_finalize_write_http_header(wsi, start, &p, end) != 0)
        return -1;
    s->headers_sent = true;
    return 0;
}

static int on_writable(struct lws *wsi, http_session *s) {
    http_server *srv = server_of(wsi);
    if (s->web != NULL) {
        int rc = grpc_web_call_writable(s->web);
        if (rc <= 0)
            return rc;
        session_release(srv, s);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    if (!s->answered) {
        /* A POST without a body (on_request asked for this event to start it). */
        if (s->exchange == NULL && s->post && !s->too_large && s->body_len == 0)
            return dispatch(wsi, s);
        return 0;
    }
    if (!s->headers_sent) {
        if (write_headers(wsi, s) != 0)
            return -1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    size_t left = s->answer.body_len - s->written;
    size_t n = left < HTTP_WRITE_CHUNK ? left : HTTP_WRITE_CHUNK;
    /* HTTP/2 flow control: no more than the peer's window allows (-1: no such limit). */
    lws_fileofs_t allowance = lws_get_peer_write_allowance(wsi);
    if (allowance >= 0 && (size_t)allowance < n)
        n = (size_t)allowance;
    if (n == 0 && left > 0) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    bool last = n == left;
    memcpy(srv->write_buffer + LWS_PRE, s->answer.body + s->written, n);
    if (lws_write(wsi, srv->write_buffer + LWS_PRE, n,
                  last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    s->written += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    session_release(srv, s);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
    http_session *s = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_request(wsi, s, in);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(wsi, s, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (s->web != NULL) {
            grpc_web_call_body_done(s->web);
            return 0;
        }
        return dispatch(wsi, s);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(wsi, s);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (s != NULL)
            session_release(server_of(wsi), s);
        return 0;
    case LWS_CALLBACK_ADD_HEADERS: /* a file of the dashboard's mount */
        return dashboard_add_headers(wsi, in);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade naming neither `json` nor `json-proto`: the streams need one
         * (docs/PROTOCOL.md, "WebSocket streams"), so the handshake is refused. */
        return -1;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        take_answers(server_of(wsi));
        grpc_relay_dispatch(server_of(wsi)->relay);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static void set_protocols(http_server *srv) {
    srv->protocols[0] =
        (struct lws_protocols){"http", http_callback, sizeof(http_session), 0, 0, NULL, 0};
    srv->protocols[1] = (struct lws_protocols){
        WS_PROTOCOL_JSON, ws_streams_callback, ws_streams_session_size(), 0, 1, srv->ws, 0};
    srv->protocols[2] = (struct lws_protocols){
        WS_PROTOCOL_JSON_PROTO, ws_streams_callback, ws_streams_session_size(), 0, 2, srv->ws, 0};
    memset(&srv->protocols[3], 0, sizeof srv->protocols[3]);
}

static void wake(void *ctx) {
    http_server *srv = ctx;
    pthread_mutex_lock(&srv->wake_lock);
    if (!srv->closing && srv->context != NULL)
        lws_cancel_service(srv->context);
    pthread_mutex_unlock(&srv->wake_lock);
}

static void *http_thread(void *arg) {
    http_server *srv = arg;
    while (!atomic_load(&srv->stop))
        if (lws_service(srv->context, 0) < 0)
            break;
    return NULL;
}

static void emit_log(int level, const char *line) {
    int len = (int)strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    log_warn("http: %.*s", len, line);
}

/* "HOST:PORT" into its parts; HOST may be empty or 0.0.0.0 (every interface). */
static int split_address(const char *address, char *host, size_t host_size, int *port) {
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= host_size)
        return -1;
    char *end;
    long value = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || value < 0 || value > 65535)
        return -1;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    *port = (int)value;
    return 0;
}

static struct lws_vhost *create_vhost(http_server *srv, const char *name, const char *address,
                                      const http_server_options *options, bool tls, int *port,
                                      char *error, size_t error_size) {
    char host[256];
    int wanted;
    if (split_address(address, host, sizeof host, &wanted) != 0) {
        snprintf(error, error_size, "bad HTTP listen address %s (HOST:PORT)", address);
        return NULL;
    }
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.vhost_name = name;
    info.port = wanted;
    info.iface = host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ? NULL : host;
    info.protocols = srv->protocols;
    info.mounts = dashboard_mounts(&srv->dashboard);
    if (tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = options->tls_cert_path;
        info.ssl_private_key_filepath = options->tls_key_path;
    }
    struct lws_vhost *vhost = lws_create_vhost(srv->context, &info);
    if (vhost == NULL) {
        snprintf(error, error_size, "cannot listen for HTTP%s on %s", tls ? "S" : "", address);
        return NULL;
    }
    *port = lws_get_vhost_listen_port(vhost);
    return vhost;
}

static int build_routes(http_server *srv, const http_server_options *options) {
    if (rest_routes_build(options->grpc_paths, options->grpc_path_count, &srv->routes,
                          &srv->route_count) != 0)
        return -1;
    log_info("http: %zu REST routes", srv->route_count);
    return 0;
}

http_server *http_server_start(const http_server_options *options, char *error, size_t error_size) {
    http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL || build_routes(srv, options) != 0) {
        free(srv);
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&srv->wake_lock, NULL);
    atomic_init(&srv->stop, false);
    srv->max_body_bytes = options->max_body_bytes;
    if (dashboard_init(&srv->dashboard, options->web_dir) != 0) {
        snprintf(error, error_size, "no dashboard (index.html) in %s", options->web_dir);
        http_server_stop(srv);
        return NULL;
    }
    /* The relay and the WebSocket streams come before the context: its protocols name them. */
    srv->relay = grpc_relay_create(options->grpc_target, wake, srv);
    ws_streams_options ws_options = {.stream_paths = options->stream_paths,
                                     .stream_path_count = options->stream_path_count,
                                     .relay = srv->relay,
                                     .max_message_bytes = options->max_body_bytes,
                                     .token_valid = options->token_valid,
                                     .lookup_ctx = options->lookup_ctx};
    srv->ws = srv->relay != NULL ? ws_streams_create(&ws_options) : NULL;
    if (srv->ws == NULL) {
        snprintf(error, error_size, "cannot start the WebSocket streams");
        http_server_stop(srv);
        return NULL;
    }
    log_info("http: %zu WebSocket stream routes", ws_streams_route_count(srv->ws));
    set_protocols(srv);
    lws_set_log_level(LLL_ERR, emit_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (options->tls_listen_address != NULL)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = srv->protocols;
    info.user = srv;
    info.count_threads = 1;
    info.fd_limit_per_thread = HTTP_MAX_CONNECTIONS;
    /* The library's per-thread buffer holds one write (its 4 KiB default would cut an HTTP/2
     * frame of a larger chunk). */
    info.pt_serv_buf_size = LWS_PRE + HTTP_WRITE_CHUNK + 1024;
    srv->context = lws_create_context(&info);
    if (srv->context == NULL) {
        snprintf(error, error_size, "cannot start the HTTP listener");
        http_server_stop(srv);
        return NULL;
    }
    if ((options->listen_address != NULL &&
         (srv->vhost = create_vhost(srv, "http", options->listen_address, options, false,
                                    &srv->port, error, error_size)) == NULL) ||
        (options->tls_listen_address != NULL &&
         (srv->tls_vhost = create_vhost(srv, "https", options->tls_listen_address, options, true,
                                        &srv->tls_port, error, error_size)) == NULL)) {
        http_server_stop(srv);
        return NULL;
    }
    srv->bridge = rest_bridge_create(options->grpc_target, wake, srv);
    srv->web = grpc_web_create(srv->relay, options->grpc_web_methods,
                               options->grpc_web_method_count, options->max_body_bytes);
    srv->token_valid = options->token_valid;
    srv->instrument_uid = options->instrument_uid;
    srv->lookup_ctx = options->lookup_ctx;
    bool history = options->history_data_dir != NULL;
    assert(!history || (srv->token_valid != NULL && srv->instrument_uid != NULL));
    if (history)
        srv->history =
            history_data_create(options->history_data_dir, options->history_max_candles, wake, srv);
    if (srv->bridge == NULL || srv->relay == NULL || srv->web == NULL ||
        (history && srv->history == NULL) ||
        pthread_create(&srv->thread, NULL, http_thread, srv) != 0) {
        snprintf(error, error_size, "cannot start the HTTP threads");
        http_server_stop(srv);
        return NULL;
    }
    srv->thread_started = true;
    return srv;
}

int http_server_port(const http_server *server) {
    return server->port;
}

int http_server_tls_port(const http_server *server) {
    return server->tls_port;
}

void http_server_stop(http_server *srv) {
    if (srv == NULL)
        return;
    atomic_store(&srv->stop, true);
    if (srv->thread_started) {
        lws_cancel_service(srv->context);
        pthread_join(srv->thread, NULL);
    }
    pthread_mutex_lock(&srv->wake_lock);
    srv->closing = true;
    pthread_mutex_unlock(&srv->wake_lock);
    /* Closing the connections abandons (cancels) their calls; then the bridge waits for the
     * cancelled calls to complete. */
    if (srv->context != NULL)
        lws_context_destroy(srv->context);
    rest_bridge_destroy(srv->bridge);
    grpc_relay_destroy(srv->relay);
    grpc_web_destroy(srv->web);
    ws_streams_destroy(srv->ws);
    history_data_destroy(srv->history);
    free(srv->routes);
    pthread_mutex_destroy(&srv->wake_lock);
    free(srv);
}
