#include "http/ws_streams.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "http/ws_routes.h"
#include "jsonpb/jsonpb.h"
#include "util/log.h"
#include "util/uuid.h"

/* RFC 6455: a close frame's reason is at most 123 bytes (125 with the code). */
#define WS_CLOSE_REASON_MAX 123

/* Close codes of RFC 6455 and the real proxy's 4000 + gRPC status (investAPI ws/errors.md). */
enum {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_UNSUPPORTED_DATA = 1003,
    WS_CLOSE_INTERNAL_ERROR = 1011,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_GRPC_BASE = 4000,
};

/* gRPC status codes used by the front end itself. */
enum {
    WS_GRPC_INVALID_ARGUMENT = 3,
    WS_GRPC_RESOURCE_EXHAUSTED = 8,
    WS_GRPC_UNIMPLEMENTED = 12,
    WS_GRPC_INTERNAL = 13,
    WS_GRPC_UNAUTHENTICATED = 16,
};

struct ws_streams {
    ws_route *routes;
    size_t route_count;
    size_t max_message_bytes;
    bool (*token_valid)(void *ctx, const char *secret, size_t len);
    void *lookup_ctx;
    grpc_relay *relay;
};

/* One WebSocket connection (libwebsockets' per-connection user data, zeroed by the library). */
typedef struct ws_session {
    const ws_route *route;
    unsigned encode_flags; /* JSONPB_PROTO_NAMES for json-proto */
    grpc_relay_call *call; /* the gRPC call, until its status was taken or the client left */
    bool request_sent;     /* a server-streaming call has its one request */
    bool send_refused;     /* the relay refused a message: closed 4008 unless the call ended */
    char *rx;              /* the client's message being reassembled from its fragments */
    size_t rx_len, rx_cap;
    char *frame; /* one frame waiting for the next writable event (the error before a close) */
    size_t frame_len;
    int close_code; /* != 0: close with it once `frame` is written */
    char close_reason[WS_CLOSE_REASON_MAX + 1];
    char tracking_id[UUID_TEXT_SIZE];
    char token[WS_TOKEN_MAX + 1]; /* until the call starts */
} ws_session;

static ws_streams *streams_of(struct lws *wsi) {
    return lws_get_protocol(wsi)->user;
}

ws_streams *ws_streams_create(const ws_streams_options *options) {
    ws_streams *ws = calloc(1, sizeof *ws);
    if (ws == NULL)
        return NULL;
    if (ws_routes_build(options->stream_paths, options->stream_path_count, &ws->routes,
                        &ws->route_count) != 0) {
        free(ws);
        return NULL;
    }
    ws->max_message_bytes = options->max_message_bytes;
    ws->token_valid = options->token_valid;
    ws->lookup_ctx = options->lookup_ctx;
    ws->relay = options->relay;
    return ws;
}

void ws_streams_destroy(ws_streams *ws) {
    if (ws == NULL)
        return;
    free(ws->routes);
    free(ws);
}

size_t ws_streams_route_count(const ws_streams *ws) {
    return ws->route_count;
}

size_t ws_streams_session_size(void) {
    return sizeof(ws_session);
}

/* The longest prefix of `text` of at most `max` bytes that does not cut a UTF-8 character. */
static size_t utf8_prefix(const char *text, size_t max) {
    size_t len = strlen(text);
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)text[max] & 0xC0) == 0x80)
        max--;
    return max;
}

static void release_call(ws_session *s) {
    if (s->call != NULL)
        grpc_relay_release(s->call);
    s->call = NULL;
}

/* Ends the connection: `frame` (owned, may be NULL) is written first, then the close with
 * `code` and `reason`. The call, if any, is cancelled. */
static void close_with(struct lws *wsi, ws_session *s, int code, const char *reason, char *frame) {
    if (s->close_code != 0) {
        free(frame);
        return;
    }
    release_call(s);
    free(s->frame);
    s->frame = frame;
    s->frame_len = frame != NULL ? strlen(frame) : 0;
    s->close_code = code;
    const char *text = reason != NULL ? reason : "";
    size_t n = utf8_prefix(text, WS_CLOSE_REASON_MAX);
    memcpy(s->close_reason, text, n);
    s->close_reason[n] = '\0';
    lws_callback_on_writable(wsi);
}

/* The error as the last frame: the real proxy's rpcStatus with the T-Invest code in
 * `description` (as the REST proxy's error body), then the close 4000 + status. */
static void close_with_status(struct lws *wsi, ws_session *s, int status, const char *code,
                              const char *message) {
    json_t *body = json_pack("{s:i, s:s, s:s, s:[]}", "code", status, "message", message,
                             "description", code, "details");
    char *frame = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    close_with(wsi, s, WS_CLOSE_GRPC_BASE + status, message, frame);
}

/* Keeps `len` bytes of `text` as the token; one longer than WS_TOKEN_MAX is no token (refused). */
static void set_token(ws_session *s, const char *text, size_t len) {
    if (len > WS_TOKEN_MAX)
        len = 0;
    memcpy(s->token, text, len);
    s->token[len] = '\0';
}

/* `Authorization: Bearer <token>`, else the first item of the subprotocol list that names no
 * subprotocol (`json, <token>`). */
static void read_token(struct lws *wsi, ws_session *s) {
    static const char bearer[] = "Bearer ";
    char header[WS_TOKEN_MAX + sizeof bearer + 32];
    s->token[0] = '\0';
    if (lws_hdr_copy(wsi, header, sizeof header, WSI_TOKEN_HTTP_AUTHORIZATION) > 0) {
        if (strncasecmp(header, bearer, sizeof bearer - 1) == 0)
            set_token(s, header + sizeof bearer - 1, strlen(header + sizeof bearer - 1));
        return;
    }
    if (lws_hdr_copy(wsi, header, sizeof header, WSI_TOKEN_PROTOCOL) <= 0)
        return;
    char *save = NULL;
    for (char *item = strtok_r(header, ",", &save); item != NULL;
         item = strtok_r(NULL, ",", &save)) {
        item += strspn(item, " \t");
        size_t len = strcspn(item, " \t");
        item[len] = '\0';
        if (len == 0 || strcmp(item, WS_PROTOCOL_JSON) == 0 ||
            strcmp(item, WS_PROTOCOL_JSON_PROTO) == 0)
            continue;
        set_token(s, item, len);
        return;
    }
}

/* The handshake is in and not yet answered: the route, the token and the name style. */
static int on_filter(struct lws *wsi, ws_session *s) {
    if (s == NULL)
        return -1;
    ws_streams *ws = streams_of(wsi);
    char uri[256];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) > 0)
        s->route = ws_routes_find(ws->routes, ws->route_count, uri);
    read_token(wsi, s);
    s->encode_flags =
        strcmp(lws_get_protocol(wsi)->name, WS_PROTOCOL_JSON_PROTO) == 0 ? JSONPB_PROTO_NAMES : 0;
    uuid_generate_v4(s->tracking_id);
    return 0;
}

/* The handshake's answer carries the connection's x-tracking-id (logged with its end). */
static int on_add_headers(struct lws *wsi, ws_session *s, struct lws_process_html_args *args) {
    if (s == NULL || s->tracking_id[0] == '\0')
        return 0;
    unsigned char **p = (unsigned char **)&args->p;
    unsigned char *end = (unsigned char *)args->p + args->max_len;
    if (lws_add_http_header_by_name(
            wsi, (const unsigned char *)"x-tracking-id:", (const unsigned char *)s->tracking_id,
            (int)strlen(s->tracking_id), p, end) != 0)
        return -1;
    args->max_len = (int)(end - *p);
    return 0;
}

static void on_call_ready(grpc_relay_call *call, void *owner) {
    (void)call;
    lws_callback_on_writable(owner);
}

/* The connection is open: the gRPC call starts now, carrying the token. */
static int on_established(struct lws *wsi, ws_session *s) {
    ws_streams *ws = streams_of(wsi);
    if (s->route == NULL) {
        close_with_status(wsi, s, WS_GRPC_UNIMPLEMENTED, "12001", "Method is unimplemented");
        return 0;
    }
    size_t token_len = strlen(s->token);
    if (token_len == 0 ||
        (ws->token_valid != NULL && !ws->token_valid(ws->lookup_ctx, s->token, token_len))) {
        close_with_status(wsi, s, WS_GRPC_UNAUTHENTICATED, "40003",
                          "Authentication token is missing or invalid");
        return 0;
    }
    char authorization[WS_TOKEN_MAX + 16];
    snprintf(authorization, sizeof authorization, "Bearer %s", s->token);
    grpc_relay_header header = {
        .key = "authorization", .value = authorization, .value_len = strlen(authorization)};
    s->call = grpc_relay_start(ws->relay, s->route->grpc_path, &header, 1, 0, on_call_ready, wsi);
    memset(s->token, 0, sizeof s->token);
    if (s->call == NULL)
        close_with_status(wsi, s, WS_GRPC_INTERNAL, "70001", "cannot start the call");
    return 0;
}

/* One whole client message: the method's request as JSON, into the call. */
static void on_message(struct lws *wsi, ws_session *s) {
    ws_streams *ws = streams_of(wsi);
    if (s->call == NULL || s->send_refused)
        return; /* the call has ended; its close is on its way */
    if (s->request_sent && !s->route->client_streaming) {
        close_with_status(wsi, s, WS_GRPC_INVALID_ARGUMENT, "30102",
                          "this stream takes one request message");
        return;
    }
    jsonpb_decode_options options = {.flags = JSONPB_IGNORE_UNKNOWN,
                                     .max_bytes = ws->max_message_bytes};
    ProtobufCMessage *request = NULL;
    jsonpb_error err;
    int rc = jsonpb_decode(s->rx_len ? s->rx : "{}", s->rx_len ? s->rx_len : 2, s->route->request,
                           &options, &request, &err);
    if (rc == -EINVAL) {
        close_with_status(wsi, s, WS_GRPC_INVALID_ARGUMENT, "30102", err.text);
        return;
    }
    size_t size = rc == 0 ? protobuf_c_message_get_packed_size(request) : 0;
    uint8_t *bytes = rc == 0 ? malloc(size ? size : 1) : NULL;
    if (bytes == NULL) {
        protobuf_c_message_free_unpacked(request, NULL);
        close_with_status(wsi, s, WS_GRPC_INTERNAL, "70001", "out of memory");
        return;
    }
    protobuf_c_message_pack(request, bytes);
    protobuf_c_message_free_unpacked(request, NULL);
    rc = grpc_relay_send(s->call, bytes, size);
    free(bytes);
    if (rc != 0) {
        /* The call has ended (its status comes next and closes the socket with it), or the client
         * sent faster than the server reads: GRPC_RELAY_MAX_PENDING messages already wait to be
         * sent. The writable event tells which (on_writable). */
        s->send_refused = true;
        lws_callback_on_writable(wsi);
        return;
    }
    s->request_sent = true;
    if (!s->route->client_streaming)
        grpc_relay_close_send(s->call);
}

/* A fragment of a client frame; the message is handled once its last byte is in. */
static int on_receive(struct lws *wsi, ws_session *s, const char *in, size_t len) {
    ws_streams *ws = streams_of(wsi);
    if (s->close_code != 0)
        return 0;
    if (lws_frame_is_binary(wsi)) {
        close_with(wsi, s, WS_CLOSE_UNSUPPORTED_DATA, "text frames of JSON only", NULL);
        return 0;
    }
    if (len > ws->max_message_bytes - s->rx_len) {
        char reason[64];
        snprintf(reason, sizeof reason, "message exceeds %zu bytes", ws->max_message_bytes);
        close_with(wsi, s, WS_CLOSE_TOO_BIG, reason, NULL);
        return 0;
    }
    if (s->rx_len + len > s->rx_cap) {
        size_t cap = s->rx_cap ? s->rx_cap : 4096;
        while (cap < s->rx_len + len)
            cap *= 2;
        char *grown = realloc(s->rx, cap);
        if (grown == NULL)
            return -1;
        s->rx = grown;
        s->rx_cap = cap;
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
        return 0;
    on_message(wsi, s);
    s->rx_len = 0;
    return 0;
}

static int write_text(struct lws *wsi, const char *text, size_t len) {
    unsigned char *buffer = malloc(LWS_PRE + len + 1);
    if (buffer == NULL)
        return -1;
    memcpy(buffer + LWS_PRE, text, len);
    int written = lws_write(wsi, buffer + LWS_PRE, len, LWS_WRITE_TEXT);
    free(buffer);
    return written < (int)len ? -1 : 0;
}

/* One message of the server as one text frame. */
static int write_message(struct lws *wsi, ws_session *s, const grpc_relay_event *event) {
    ProtobufCMessage *message =
        protobuf_c_message_unpack(s->route->reply, NULL, event->len, event->bytes);
    jsonpb_error err = {0};
    size_t len = 0;
    char *text = message != NULL ? jsonpb_encode(message, s->encode_flags, &len, &err) : NULL;
    if (message != NULL)
        protobuf_c_message_free_unpacked(message, NULL);
    if (text == NULL) {
        log_warn("ws %s: a message of %s not written: %s", s->tracking_id, s->route->grpc_path,
                 message == NULL ? "it does not decode" : err.text);
        close_with_status(wsi, s, WS_GRPC_INTERNAL, "70001", "a message could not be written");
        return 0;
    }
    int rc = write_text(wsi, text, len);
    free(text);
    return rc;
}

/* The call's end: 1000 for OK, otherwise the error frame and 4000 + status. */
static void end_call(struct lws *wsi, ws_session *s, const grpc_relay_event *event) {
    if (event->status == 0) {
        close_with(wsi, s, WS_CLOSE_NORMAL, "", NULL);
        return;
    }
    const grpc_relay_header *message = grpc_relay_header_find(&event->headers, "message");
    const char *text = message != NULL ? message->value : event->status_detail;
    close_with_status(wsi, s, event->status, event->status_detail, text);
}

static int on_writable(struct lws *wsi, ws_session *s) {
    if (s->frame != NULL) {
        int rc = write_text(wsi, s->frame, s->frame_len);
        free(s->frame);
        s->frame = NULL;
        if (rc != 0)
            return -1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (s->close_code != 0) {
        lws_close_reason(wsi, (enum lws_close_status)s->close_code,
                         (unsigned char *)s->close_reason, strlen(s->close_reason));
        return -1;
    }
    grpc_relay_event event;
    while (s->call != NULL && grpc_relay_next(s->call, &event)) {
        int rc = 0;
        bool wrote = false;
        switch (event.kind) {
        case GRPC_RELAY_HEADERS:
            break;
        case GRPC_RELAY_MESSAGE:
            rc = write_message(wsi, s, &event);
            wrote = true;
            break;
        case GRPC_RELAY_STATUS:
            end_call(wsi, s, &event);
            wrote = true;
            break;
        }
        grpc_relay_event_clear(&event);
        if (rc != 0)
            return -1;
        if (wrote) {
            /* One frame per writable event: the next message waits for the socket. */
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    if (s->send_refused)
        close_with_status(wsi, s, WS_GRPC_RESOURCE_EXHAUSTED, "80002",
                          "too many messages waiting to be sent to the stream");
    return 0;
}

static void session_free(ws_session *s) {
    release_call(s);
    free(s->rx);
    free(s->frame);
    s->rx = s->frame = NULL;
    s->rx_len = s->rx_cap = 0;
}

int ws_streams_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len) {
    ws_session *s = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return on_filter(wsi, s);
    case LWS_CALLBACK_ADD_HEADERS:
        return on_add_headers(wsi, s, in);
    case LWS_CALLBACK_ESTABLISHED:
        return on_established(wsi, s);
    case LWS_CALLBACK_RECEIVE:
        return on_receive(wsi, s, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writable(wsi, s);
    case LWS_CALLBACK_CLOSED:
        if (s != NULL)
            session_free(s);
        return 0;
    default:
        return 0;
    }
}
