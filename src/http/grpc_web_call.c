#include "http/grpc_web_call.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "http/grpc_web.h"
#include "util/log.h"
#include "util/uuid.h"

/* gRPC status codes (grpc/status.h). */
enum {
    STATUS_INVALID_ARGUMENT = 3,
    STATUS_UNIMPLEMENTED = 12,
    STATUS_INTERNAL = 13,
};

/* A body past the limit is read and dropped so that its answer can be written; past this many
 * times the limit the connection is closed instead (as the REST proxy does). */
#define GRPC_WEB_DISCARD_FACTOR 4
/* Room kept in the header buffer for the end of the headers. */
#define HEADER_RESERVE 64
/* The longest answer header value written (a longer one is left out, and logged). */
#define HEADER_VALUE_MAX 8192

/* The request headers passed on to the gRPC call, and nothing else. */
static const char *const passed_headers[] = {"authorization", "x-app-name", "x-tracking-id"};
#define PASSED_HEADER_COUNT (sizeof passed_headers / sizeof passed_headers[0])

/* What a browser may read of an answer from another origin, and send in a request. */
static const char expose_headers[] = "grpc-status, grpc-message, message, x-tracking-id, "
                                     "x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset";
static const char allow_headers[] = "authorization, content-type, x-grpc-web, x-user-agent, "
                                    "grpc-timeout, x-app-name, x-tracking-id";

struct grpc_web {
    grpc_relay *relay;
    grpc_web_method *methods;
    size_t method_count;
    size_t max_message_bytes;
    /* The HTTP thread's: the headers or the piece of a frame being written, a header's value. */
    unsigned char buffer[LWS_PRE + GRPC_WEB_WRITE_CHUNK + 64];
    char header_value[HEADER_VALUE_MAX];
};

struct grpc_web_call {
    grpc_web *web;
    struct lws *wsi;
    bool h2;
    bool preflight;
    char path[160];
    char content_type[48]; /* of the answer: the request's mode */
    bool text;
    const grpc_web_method *method;
    grpc_web_reader reader;
    size_t discarded;
    bool body_done;
    grpc_relay_header headers[PASSED_HEADER_COUNT];
    char header_values[PASSED_HEADER_COUNT][GRPC_WEB_HEADER_MAX];
    size_t header_count;
    int64_t timeout_ms;
    grpc_relay_call *relay;
    /* An answer made here, without a gRPC call (trailers-only). */
    bool local;
    int local_status;
    char local_grpc_message[200];
    char local_message[200];
    /* Writing the answer. */
    bool headers_sent;
    bool chunked;          /* HTTP/1.1: the body goes in chunks */
    grpc_relay_event held; /* the server's initial metadata (kind HEADERS), until written */
    bool holding;
    uint8_t *out; /* the frame being written */
    size_t out_len, out_written;
    bool out_final; /* the last of the answer */
    bool complete;  /* everything written */
};

grpc_web *grpc_web_create(grpc_relay *relay, const grpc_web_method *methods, size_t count,
                          size_t max_message_bytes) {
    grpc_web *web = calloc(1, sizeof *web);
    if (web == NULL)
        return NULL;
    web->relay = relay;
    web->max_message_bytes = max_message_bytes;
    web->methods = calloc(count ? count : 1, sizeof *web->methods);
    if (web->methods == NULL) {
        free(web);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        char *path = strdup(methods[i].path);
        if (path == NULL) {
            grpc_web_destroy(web);
            return NULL;
        }
        web->methods[i] = methods[i];
        web->methods[i].path = path;
        web->method_count++;
    }
    return web;
}

void grpc_web_destroy(grpc_web *web) {
    if (web == NULL)
        return;
    for (size_t i = 0; i < web->method_count; i++)
        free((char *)web->methods[i].path);
    free(web->methods);
    free(web);
}

static const grpc_web_method *find_method(const grpc_web *web, const char *path) {
    for (size_t i = 0; i < web->method_count; i++)
        if (strcmp(web->methods[i].path, path) == 0)
            return &web->methods[i];
    return NULL;
}

bool grpc_web_is_request(struct lws *wsi) {
    char type[128];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) <= 0 ||
        lws_hdr_copy(wsi, type, sizeof type, WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
        return false;
    return grpc_web_mode_of(type) != GRPC_WEB_NONE;
}

bool grpc_web_is_preflight_path(const char *path) {
    if (path[0] != '/')
        return false;
    const char *slash = strchr(path + 1, '/');
    if (slash == NULL || slash == path + 1 || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
        return false;
    const char *dot = memchr(path + 1, '.', (size_t)(slash - path - 1));
    return dot != NULL;
}

/* Decides a local answer (the first decision stands). */
static void answer_local(grpc_web_call *c, int status, const char *grpc_message,
                         const char *message) {
    if (c->local)
        return;
    c->local = true;
    c->local_status = status;
    snprintf(c->local_grpc_message, sizeof c->local_grpc_message, "%s", grpc_message);
    snprintf(c->local_message, sizeof c->local_message, "%s", message);
    if (c->body_done)
        lws_callback_on_writable(c->wsi);
}

/* A fault of the request found here: the text is both grpc-message and message, as gRPC's own
 * transport errors carry only a text. */
static void answer_fault(grpc_web_call *c, int status, const char *text) {
    answer_local(c, status, text, text);
}

static void copy_header(grpc_web_call *c, const char *key, enum lws_token_indexes token) {
    size_t i = c->header_count;
    int n;
    if (token != WSI_TOKEN_COUNT) {
        n = lws_hdr_copy(c->wsi, c->header_values[i], GRPC_WEB_HEADER_MAX, token);
    } else {
        char name[32];
        snprintf(name, sizeof name, "%s:", key);
        n = lws_hdr_custom_copy(c->wsi, c->header_values[i], GRPC_WEB_HEADER_MAX, name,
                                (int)strlen(name));
    }
    if (n <= 0)
        return;
    c->headers[i] = (grpc_relay_header){
        .key = (char *)key, .value = c->header_values[i], .value_len = (size_t)n};
    c->header_count++;
}

static void read_request_headers(grpc_web_call *c) {
    for (size_t i = 0; i < PASSED_HEADER_COUNT; i++)
        copy_header(c, passed_headers[i],
                    strcmp(passed_headers[i], "authorization") == 0 ? WSI_TOKEN_HTTP_AUTHORIZATION
                                                                    : WSI_TOKEN_COUNT);
    c->timeout_ms =
        c->method != NULL && c->method->server_streaming ? 0 : GRPC_WEB_UNARY_TIMEOUT_MS;
    char timeout[32];
    if (lws_hdr_custom_copy(c->wsi, timeout, sizeof timeout, "grpc-timeout:", 13) > 0) {
        int64_t ms;
        if (grpc_web_parse_timeout(timeout, &ms) != 0) {
            answer_fault(c, STATUS_INVALID_ARGUMENT,
                         "grpc-timeout must be 1 to 8 digits and a unit (H, M, S, m, u, n)");
            return;
        }
        c->timeout_ms = ms < 1 ? 1 : ms > GRPC_WEB_MAX_TIMEOUT_MS ? GRPC_WEB_MAX_TIMEOUT_MS : ms;
    }
}

/* The content type of the answer: the request's, without parameters, in lower case. */
static void set_content_type(grpc_web_call *c, const char *type, grpc_web_mode mode) {
    if (mode == GRPC_WEB_UNSUPPORTED) {
        snprintf(c->content_type, sizeof c->content_type, "application/grpc-web+proto");
        return;
    }
    size_t n = strcspn(type, "; \t");
    if (n >= sizeof c->content_type)
        n = sizeof c->content_type - 1;
    for (size_t i = 0; i < n; i++)
        c->content_type[i] =
            (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' : type[i]);
    c->content_type[n] = '\0';
    c->text = mode == GRPC_WEB_TEXT;
}

static void on_ready(grpc_relay_call *relay, void *owner) {
    grpc_web_call *c = owner;
    (void)relay;
    lws_callback_on_writable(c->wsi);
}

grpc_web_call *grpc_web_call_start(grpc_web *web, struct lws *wsi, const char *path,
                                   bool preflight) {
    grpc_web_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->web = web;
    c->wsi = wsi;
    c->h2 = lws_get_network_wsi(wsi) != wsi;
    c->preflight = preflight;
    snprintf(c->path, sizeof c->path, "%s", path);
    char length[32] = "";
    if (lws_hdr_copy(wsi, length, sizeof length, WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0)
        length[0] = '\0';
    /* As for REST (http_server.c): no body callbacks come for a Content-Length of 0, or in
     * HTTP/1.1 for neither it nor a Transfer-Encoding. */
    bool no_length =
        length[0] == '\0' && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) <= 0;
    bool has_body = !(strcmp(length, "0") == 0 || no_length);
    if (preflight) {
        c->body_done = !has_body;
        if (c->body_done)
            lws_callback_on_writable(wsi);
        return c;
    }
    char type[128] = "";
    if (lws_hdr_copy(wsi, type, sizeof type, WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
        type[0] = '\0';
    grpc_web_mode mode = grpc_web_mode_of(type);
    set_content_type(c, type, mode);
    grpc_web_reader_init(&c->reader, c->text, web->max_message_bytes);
    c->method = find_method(web, path);
    if (c->h2 && length[0] == '\0') {
        /* libwebsockets 4.1 delivers no body of an HTTP/2 request without a Content-Length. */
        c->body_done = true;
        answer_fault(c, STATUS_INVALID_ARGUMENT, "Content-Length is required over HTTP/2");
        return c;
    }
    if (mode == GRPC_WEB_UNSUPPORTED)
        answer_fault(c, STATUS_UNIMPLEMENTED,
                     "only protobuf messages are served over gRPC-web "
                     "(application/grpc-web+proto, application/grpc-web-text+proto)");
    else if (c->method == NULL)
        answer_local(c, STATUS_UNIMPLEMENTED, "12001", "Method is unimplemented");
    else if (c->method->client_streaming)
        answer_local(c, STATUS_UNIMPLEMENTED, "12001",
                     "a client-streaming or bidirectional method is not served over gRPC-web");
    else
        read_request_headers(c);
    if (!has_body)
        grpc_web_call_body_done(c);
    return c;
}

int grpc_web_call_body(grpc_web_call *c, const void *data, size_t len) {
    if (c->local || c->preflight || c->reader.failed) {
        c->discarded += len;
        return c->discarded > GRPC_WEB_DISCARD_FACTOR * c->web->max_message_bytes ? -1 : 0;
    }
    int rc = grpc_web_reader_feed(&c->reader, data, len);
    if (rc == -ENOMEM)
        return -1;
    return 0;
}

static void start_call(grpc_web_call *c) {
    c->relay = grpc_relay_start(c->web->relay, c->path, c->headers, c->header_count, c->timeout_ms,
                                on_ready, c);
    if (c->relay == NULL) {
        answer_fault(c, STATUS_INTERNAL, "cannot start the call");
        return;
    }
    for (size_t i = 0; i < c->reader.message_count; i++) {
        const grpc_web_message *m = &c->reader.messages[i];
        if (grpc_relay_send(c->relay, m->bytes, m->len) != 0) {
            grpc_relay_release(c->relay);
            c->relay = NULL;
            answer_fault(c, STATUS_INTERNAL, "cannot send the request");
            return;
        }
    }
    grpc_relay_close_send(c->relay);
    grpc_web_reader_clear(&c->reader);
}

void grpc_web_call_body_done(grpc_web_call *c) {
    if (c->body_done)
        return;
    c->body_done = true;
    if (c->preflight || c->local) {
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (grpc_web_reader_finish(&c->reader) != 0) {
        answer_fault(c, c->reader.error.status, c->reader.error.text);
        return;
    }
    start_call(c);
}

/* ---- Writing -------------------------------------------------------------------------------- */

typedef struct header_writer {
    struct lws *wsi;
    unsigned char *start, *p, *end;
    bool failed;
} header_writer;

static void put(header_writer *w, const char *key, const char *value, size_t len) {
    if (w->failed)
        return;
    char name[128];
    size_t key_len = strlen(key);
    if (key_len + 2 > sizeof name || (size_t)(w->end - w->p) < key_len + len + HEADER_RESERVE) {
        log_warn("grpc-web: header %s left out (no room)", key);
        return;
    }
    memcpy(name, key, key_len);
    name[key_len] = ':';
    name[key_len + 1] = '\0';
    if (lws_add_http_header_by_name(w->wsi, (const unsigned char *)name,
                                    (const unsigned char *)value, (int)len, &w->p, w->end) != 0)
        w->failed = true;
}

static void put_text(header_writer *w, const char *key, const char *value) {
    put(w, key, value, strlen(value));
}

/* The headers of the gRPC answer that go on (initial metadata, or trailers in trailers-only). */
static void put_metadata(grpc_web *web, header_writer *w, const grpc_relay_headers *headers) {
    char *value = web->header_value;
    for (size_t i = 0; headers != NULL && i < headers->count; i++) {
        const grpc_relay_header *h = &headers->items[i];
        if (!grpc_web_header_passes(h->key))
            continue;
        int n = grpc_web_header_value(h, value, sizeof web->header_value);
        if (n < 0) {
            log_warn("grpc-web: header %s left out (too long or not text)", h->key);
            continue;
        }
        put(w, h->key, value, (size_t)n);
    }
}

static header_writer header_start(grpc_web_call *c) {
    unsigned char *start = c->web->buffer + LWS_PRE;
    return (header_writer){.wsi = c->wsi,
                           .start = start,
                           .p = start,
                           .end = c->web->buffer + sizeof c->web->buffer - 1};
}

static int header_finish(grpc_web_call *c, header_writer *w) {
    if (w->failed || lws_finalize_write_http_header(c->wsi, w->start, &w->p, w->end) != 0)
        return -1;
    c->headers_sent = true;
    return 0;
}

static int write_preflight(grpc_web_call *c) {
    header_writer w = header_start(c);
    if (lws_add_http_common_headers(c->wsi, 204, NULL, 0, &w.p, w.end) != 0)
        return -1;
    put_text(&w, "access-control-allow-origin", "*");
    put_text(&w, "access-control-allow-methods", "POST, OPTIONS");
    put_text(&w, "access-control-allow-headers", allow_headers);
    put_text(&w, "access-control-expose-headers", expose_headers);
    put_text(&w, "access-control-max-age", "600");
    return header_finish(c, &w);
}

/* Trailers-only: the status and the trailers in the headers, no body. */
static int write_trailers_only(grpc_web_call *c, int status, const char *grpc_message,
                               const grpc_relay_headers *trailers, const char *message,
                               const char *tracking_id) {
    header_writer w = header_start(c);
    if (lws_add_http_common_headers(c->wsi, 200, c->content_type, 0, &w.p, w.end) != 0)
        return -1;
    put_text(&w, "access-control-allow-origin", "*");
    put_text(&w, "access-control-expose-headers", expose_headers);
    char number[16];
    snprintf(number, sizeof number, "%d", status);
    put_text(&w, "grpc-status", number);
    if (grpc_message[0] != '\0') {
        char encoded[3 * 256];
        grpc_web_percent_encode(grpc_message, encoded, sizeof encoded);
        put_text(&w, "grpc-message", encoded);
    }
    if (message != NULL)
        put_text(&w, "message", message);
    if (tracking_id != NULL)
        put_text(&w, "x-tracking-id", tracking_id);
    put_metadata(c->web, &w, trailers);
    return header_finish(c, &w);
}

/* The headers of an answer with a body: its frames follow. */
static int write_stream_headers(grpc_web_call *c) {
    header_writer w = header_start(c);
    if (lws_add_http_header_status(c->wsi, 200, &w.p, w.end) != 0)
        return -1;
    put_text(&w, "content-type", c->content_type);
    c->chunked = !c->h2;
    if (c->chunked)
        put_text(&w, "transfer-encoding", "chunked");
    put_text(&w, "access-control-allow-origin", "*");
    put_text(&w, "access-control-expose-headers", expose_headers);
    if (c->holding)
        put_metadata(c->web, &w, &c->held.headers);
    grpc_relay_event_clear(&c->held);
    c->holding = false;
    return header_finish(c, &w);
}

/* Writes the next piece of `out` (one write per writable callback). */
static int write_out(grpc_web_call *c) {
    size_t left = c->out_len - c->out_written;
    size_t n = left < GRPC_WEB_WRITE_CHUNK ? left : GRPC_WEB_WRITE_CHUNK;
    lws_fileofs_t allowance = lws_get_peer_write_allowance(c->wsi);
    if (allowance >= 0 && (size_t)allowance < n)
        n = (size_t)allowance;
    if (n == 0 && left > 0) {
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    bool last = n == left && c->out_final;
    unsigned char *start = c->web->buffer + LWS_PRE, *p = start;
    if (c->chunked && n > 0)
        p += sprintf((char *)p, "%zx\r\n", n);
    if (n > 0)
        memcpy(p, c->out + c->out_written, n);
    p += n;
    if (c->chunked && n > 0) {
        memcpy(p, "\r\n", 2);
        p += 2;
    }
    if (c->chunked && last) {
        memcpy(p, "0\r\n\r\n", 5);
        p += 5;
    }
    size_t total = (size_t)(p - start);
    if (total > 0 || c->h2) {
        if (lws_write(c->wsi, start, total, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
            (int)total)
            return -1;
    }
    c->out_written += n;
    if (c->out_written == c->out_len) {
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_written = 0;
        if (c->out_final) {
            c->complete = true;
            return 1;
        }
    }
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* The next frame to write. */
static int set_out(grpc_web_call *c, uint8_t flags, const void *payload, size_t len, bool final) {
    assert(c->out == NULL);
    c->out_written = 0;
    c->out_final = final;
    return grpc_web_frame(flags, payload, len, c->text, &c->out, &c->out_len);
}

/* An answer without a body ends with an empty last write (HTTP/2: the stream's end). */
static void set_out_end(grpc_web_call *c) {
    assert(c->out == NULL);
    c->out_len = c->out_written = 0;
    c->out_final = true;
}

/* The next event of the gRPC call, as far as one write goes. */
static int take_event(grpc_web_call *c) {
    grpc_relay_event event;
    if (!grpc_relay_next(c->relay, &event))
        return 0; /* the ready callback asks again */
    int rc = 0;
    switch (event.kind) {
    case GRPC_RELAY_HEADERS:
        c->held = event;
        c->holding = true;
        memset(&event, 0, sizeof event);
        /* The server sent initial metadata: the answer's headers go now (a stream's client sees
         * them before the first message). Without any, the answer may still be trailers-only. */
        if (c->held.headers.count > 0)
            rc = write_stream_headers(c);
        /* Events that came with this one bring no callback of their own. */
        lws_callback_on_writable(c->wsi);
        break;
    case GRPC_RELAY_MESSAGE:
        if (set_out(c, GRPC_WEB_FLAG_DATA, event.bytes, event.len, false) != 0) {
            rc = -1;
            break;
        }
        rc = c->headers_sent ? write_out(c) : write_stream_headers(c);
        if (rc == 0)
            lws_callback_on_writable(c->wsi);
        break;
    case GRPC_RELAY_STATUS:
        grpc_relay_release(c->relay);
        c->relay = NULL;
        if (!c->headers_sent) {
            grpc_relay_event_clear(&c->held);
            c->holding = false;
            rc = write_trailers_only(c, event.status, event.status_detail, &event.headers, NULL,
                                     NULL);
            set_out_end(c);
        } else {
            char *block = NULL;
            size_t len = 0;
            if (grpc_web_trailer_block(event.status, event.status_detail, &event.headers, &block,
                                       &len) != 0 ||
                set_out(c, GRPC_WEB_FLAG_TRAILERS, block, len, true) != 0)
                rc = -1;
            free(block);
            if (rc == 0)
                rc = write_out(c);
        }
        if (rc == 0)
            lws_callback_on_writable(c->wsi);
        break;
    }
    grpc_relay_event_clear(&event);
    return rc;
}

int grpc_web_call_writable(grpc_web_call *c) {
    if (c->complete)
        return 1;
    if (!c->body_done)
        return 0;
    if (c->preflight || (c->local && !c->headers_sent)) {
        if (c->headers_sent)
            return write_out(c);
        int rc;
        if (c->preflight) {
            rc = write_preflight(c);
        } else {
            char id[UUID_TEXT_SIZE];
            uuid_generate_v4(id);
            rc = write_trailers_only(c, c->local_status, c->local_grpc_message, NULL,
                                     c->local_message, id);
        }
        if (rc != 0)
            return -1;
        set_out_end(c);
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->out != NULL || (c->out_final && c->headers_sent))
        return write_out(c);
    if (c->relay == NULL)
        return c->local ? write_out(c) : 0;
    return take_event(c);
}

void grpc_web_call_free(grpc_web_call *c) {
    if (c == NULL)
        return;
    if (c->relay != NULL)
        grpc_relay_release(c->relay);
    grpc_web_reader_clear(&c->reader);
    grpc_relay_event_clear(&c->held);
    free(c->out);
    free(c);
}
