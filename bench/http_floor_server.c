/* The HTTP floor: a trivial libwebsockets 4.1 server (the library of tinvestd's HTTP listener,
 * src/http) answering every POST with the same small JSON body, with the threading of tinvestd's
 * listener (one event-loop thread) and the shape of its answers: the request body read in full
 * first, then `200`, content-type application/json, a Content-Length, x-tracking-id (a fresh
 * UUID) and the three x-ratelimit-* headers, the headers on one writable event and the body on
 * the next, the connection kept alive (HTTP/1.1). Measured with http_loadgen, it tells what any
 * HTTP server on this library pays per request on this machine: the floor of the REST rows.
 *
 * A request other than a POST gets 405 with an empty body; a body past FLOOR_MAX_BODY bytes is
 * read and dropped (the answer is the same).
 *
 * usage: http_floor_server [HOST:PORT]
 *        (default 127.0.0.1:0; prints "listening plaintext=HOST:PORT"; stops on SIGTERM/SIGINT) */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

/* Connections served at once (tinvestd's listener has the same). */
#define FLOOR_MAX_CONNECTIONS 1024
/* The largest body kept (the floor keeps none: it counts the bytes). */
#define FLOOR_MAX_BODY (4u << 20)

/* The fixed answer: a PostOrderAsyncResponse of the size tinvestd's REST answer has. */
static const char answer_body[] = "{\"orderRequestId\":\"00000000-0000-4000-8000-000000000000\","
                                  "\"executionReportStatus\":\"EXECUTION_REPORT_STATUS_NEW\"}";

typedef struct floor_session {
    bool post, answered, headers_sent;
    size_t body_bytes;
} floor_session;

static volatile sig_atomic_t stopping;
static struct lws_context *volatile context;
static unsigned long long answers;

/* x-tracking-id from a counter, as the gRPC echo floor makes it (tinvestd draws no system
 * entropy per request either). */
static void tracking_id(char out[40]) {
    unsigned long long n = ++answers;
    snprintf(out, 40, "%08llx-0000-4000-8000-%012llx", n >> 32 & 0xffffffff, n & 0xffffffffffffULL);
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end) {
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

static int write_headers(struct lws *wsi, floor_session *s) {
    unsigned char buffer[LWS_PRE + 1024];
    unsigned char *start = buffer + LWS_PRE, *p = start, *end = buffer + sizeof buffer - 1;
    char id[40], remaining[24], reset[24];
    tracking_id(id);
    snprintf(remaining, sizeof remaining, "%llu", 599 - answers % 600);
    snprintf(reset, sizeof reset, "%llu", 60 - answers % 60);
    unsigned status = s->post ? 200 : 405;
    size_t length = s->post ? sizeof answer_body - 1 : 0;
    if (lws_add_http_common_headers(wsi, status, "application/json", length, &p, end) != 0 ||
        add_header(wsi, "x-tracking-id:", id, &p, end) != 0 ||
        add_header(wsi, "x-ratelimit-limit:", "600", &p, end) != 0 ||
        add_header(wsi, "x-ratelimit-remaining:", remaining, &p, end) != 0 ||
        add_header(wsi, "x-ratelimit-reset:", reset, &p, end) != 0 ||
        lws_finalize_write_http_header(wsi, start, &p, end) != 0)
        return -1;
    s->headers_sent = true;
    return 0;
}

static int on_writable(struct lws *wsi, floor_session *s) {
    if (!s->answered)
        return 0;
    if (!s->headers_sent) {
        if (write_headers(wsi, s) != 0)
            return -1;
        if (!s->post) {
            memset(s, 0, sizeof *s);
            return lws_http_transaction_completed(wsi) ? -1 : 0;
        }
        lws_callback_on_writable(wsi);
        return 0;
    }
    unsigned char buffer[LWS_PRE + sizeof answer_body];
    size_t n = sizeof answer_body - 1;
    memcpy(buffer + LWS_PRE, answer_body, n);
    if (lws_write(wsi, buffer + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) < (int)n)
        return -1;
    memset(s, 0, sizeof *s);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int answer(struct lws *wsi, floor_session *s) {
    s->answered = true;
    lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
    floor_session *s = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        memset(s, 0, sizeof *s);
        s->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
        if (!s->post)
            return answer(wsi, s);
        char length[32] = "";
        if (lws_hdr_copy(wsi, length, sizeof length, WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0)
            length[0] = '\0';
        /* No body to read (as tinvestd's listener decides it): answer at once. */
        bool no_length =
            length[0] == '\0' && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) <= 0;
        if (strcmp(length, "0") == 0 || no_length)
            return answer(wsi, s);
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
        s->body_bytes += len;
        return s->body_bytes > FLOOR_MAX_BODY * 4 ? -1 : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return answer(wsi, s);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(wsi, s);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(floor_session), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(int sig) {
    stopping = 1;
    if (context != NULL)
        lws_cancel_service(context); /* a write to the loop's pipe */
}

int main(int argc, char **argv) {
    const char *address = argc > 1 ? argv[1] : "127.0.0.1:0";
    const char *colon = strrchr(address, ':');
    if (argc > 2 || colon == NULL || colon - address >= 256) {
        fprintf(stderr, "usage: http_floor_server [HOST:PORT]\n");
        return 2;
    }
    char host[256];
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    char *port_end;
    long wanted = strtol(colon + 1, &port_end, 10);
    if (*port_end != '\0' || wanted < 0 || wanted > 65535) {
        fprintf(stderr, "http_floor_server: bad port in %s\n", address);
        return 2;
    }
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = (int)wanted;
    info.iface = host[0] == '\0' ? NULL : host;
    info.protocols = protocols;
    info.count_threads = 1;
    info.fd_limit_per_thread = FLOOR_MAX_CONNECTIONS;
    context = lws_create_context(&info);
    if (context == NULL) {
        fprintf(stderr, "http_floor_server: cannot listen on %s\n", address);
        return 1;
    }
    struct lws_vhost *vhost = lws_get_vhost_by_name(context, "default");
    int port = vhost != NULL ? lws_get_vhost_listen_port(vhost) : -1;
    if (port <= 0) {
        fprintf(stderr, "http_floor_server: no listening port\n");
        lws_context_destroy(context);
        return 1;
    }
    /* No SA_RESTART: a signal interrupts the loop's poll. */
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    printf("listening plaintext=%s:%d\n", host, port);
    fflush(stdout);
    while (!stopping)
        if (lws_service(context, 0) < 0)
            break;
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    struct lws_context *done = context;
    context = NULL;
    lws_context_destroy(done);
    return 0;
}
