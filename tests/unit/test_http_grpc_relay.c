/* The gRPC relay (src/http/grpc_relay.h) against a real gRPC server of the test's own on an
 * abstract unix socket: the order of events, the server's messages all delivered under
 * back-pressure, the status with its trailers, a call released mid-stream, and destroy with a
 * call still open. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "http/grpc_relay.h"

/* The test server's answers, by the first message of a call:
 *   "echo"    each message back twice, then OK with the trailer message=done;
 *   "many"    MANY_MESSAGES numbered messages, then OK;
 *   "fail"    INVALID_ARGUMENT with details "30079" and the trailer message=bad;
 *   "forever" a message every millisecond until the client cancels. */
#define MANY_MESSAGES 200

typedef struct test_server {
    grpc_server *server;
    grpc_completion_queue *queue;
    pthread_t thread;
    int calls_served, cancelled_seen;
} test_server;

static void *pluck(grpc_completion_queue *queue, void *tag, int *ok) {
    grpc_event ev =
        grpc_completion_queue_pluck(queue, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    *ok = ev.type == GRPC_OP_COMPLETE && ev.success;
    return ev.type == GRPC_QUEUE_SHUTDOWN ? NULL : tag;
}

static bool run_batch(grpc_call *call, grpc_completion_queue *queue, grpc_op *ops, size_t n,
                      void *tag) {
    int ok = 0;
    if (grpc_call_start_batch(call, ops, n, tag, NULL) != GRPC_CALL_OK)
        return false;
    return pluck(queue, tag, &ok) != NULL && ok;
}

static bool send_text(grpc_call *call, grpc_completion_queue *queue, const char *text) {
    grpc_slice slice = grpc_slice_from_copied_string(text);
    grpc_byte_buffer *buffer = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    grpc_op op = {.op = GRPC_OP_SEND_MESSAGE};
    op.data.send_message.send_message = buffer;
    bool ok = run_batch(call, queue, &op, 1, (void *)0x20);
    grpc_byte_buffer_destroy(buffer);
    return ok;
}

/* The next message as text into `out` ("" and false at the end of the client's messages). */
static bool recv_text(grpc_call *call, grpc_completion_queue *queue, char *out, size_t size) {
    grpc_byte_buffer *buffer = NULL;
    grpc_op op = {.op = GRPC_OP_RECV_MESSAGE};
    op.data.recv_message.recv_message = &buffer;
    out[0] = '\0';
    if (!run_batch(call, queue, &op, 1, (void *)0x21) || buffer == NULL)
        return false;
    grpc_byte_buffer_reader reader;
    grpc_byte_buffer_reader_init(&reader, buffer);
    grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    size_t n = GRPC_SLICE_LENGTH(all) < size - 1 ? GRPC_SLICE_LENGTH(all) : size - 1;
    memcpy(out, GRPC_SLICE_START_PTR(all), n);
    out[n] = '\0';
    grpc_slice_unref(all);
    grpc_byte_buffer_destroy(buffer);
    return true;
}

static void send_status(grpc_call *call, grpc_completion_queue *queue, grpc_status_code code,
                        const char *details, const char *message) {
    grpc_metadata trailer = {.key = grpc_slice_from_static_string("message"),
                             .value = grpc_slice_from_static_string(message)};
    grpc_slice details_slice = grpc_slice_from_static_string(details);
    grpc_op op = {.op = GRPC_OP_SEND_STATUS_FROM_SERVER};
    op.data.send_status_from_server.status = code;
    op.data.send_status_from_server.status_details = &details_slice;
    op.data.send_status_from_server.trailing_metadata = &trailer;
    op.data.send_status_from_server.trailing_metadata_count = 1;
    run_batch(call, queue, &op, 1, (void *)0x22);
}

static void serve_call(test_server *ts, grpc_call *call) {
    grpc_completion_queue *q = ts->queue;
    int cancelled = 0;
    grpc_op close_op = {.op = GRPC_OP_RECV_CLOSE_ON_SERVER};
    close_op.data.recv_close_on_server.cancelled = &cancelled;
    grpc_metadata header = {.key = grpc_slice_from_static_string("x-tracking-id"),
                            .value = grpc_slice_from_static_string("track-1")};
    grpc_op start = {.op = GRPC_OP_SEND_INITIAL_METADATA};
    start.data.send_initial_metadata.count = 1;
    start.data.send_initial_metadata.metadata = &header;
    run_batch(call, q, &start, 1, (void *)0x23);
    char first[64];
    recv_text(call, q, first, sizeof first);
    if (strcmp(first, "echo") == 0) {
        char text[64];
        snprintf(text, sizeof text, "%s", first);
        do {
            send_text(call, q, text);
            send_text(call, q, text);
        } while (recv_text(call, q, text, sizeof text));
        send_status(call, q, GRPC_STATUS_OK, "", "done");
    } else if (strcmp(first, "many") == 0) {
        for (int i = 0; i < MANY_MESSAGES; i++) {
            char text[16];
            snprintf(text, sizeof text, "%d", i);
            send_text(call, q, text);
        }
        send_status(call, q, GRPC_STATUS_OK, "", "done");
    } else if (strcmp(first, "fail") == 0) {
        send_status(call, q, GRPC_STATUS_INVALID_ARGUMENT, "30079", "bad");
    } else {
        while (send_text(call, q, "tick"))
            usleep(1000);
        send_status(call, q, GRPC_STATUS_CANCELLED, "", "gone");
    }
    run_batch(call, q, &close_op, 1, (void *)0x24);
    if (cancelled)
        ts->cancelled_seen++;
    ts->calls_served++;
    grpc_call_unref(call);
}

static void *server_thread(void *arg) {
    test_server *ts = arg;
    for (;;) {
        grpc_call *call = NULL;
        grpc_call_details details;
        grpc_metadata_array metadata;
        grpc_call_details_init(&details);
        grpc_metadata_array_init(&metadata);
        if (grpc_server_request_call(ts->server, &call, &details, &metadata, ts->queue, ts->queue,
                                     (void *)0x10) != GRPC_CALL_OK)
            break;
        int ok = 0;
        void *got = pluck(ts->queue, (void *)0x10, &ok);
        if (got != NULL && ok)
            serve_call(ts, call);
        grpc_call_details_destroy(&details);
        grpc_metadata_array_destroy(&metadata);
        if (got == NULL || !ok)
            break;
    }
    return NULL;
}

/* What the ready callback saw. */
typedef struct observed {
    pthread_mutex_t lock;
    pthread_cond_t woken;
    bool wake;
    grpc_relay_event events[MANY_MESSAGES + 8];
    size_t count;
    bool hold; /* take nothing: the relay's reads stop at GRPC_RELAY_MAX_PENDING */
} observed;

static void on_wake(void *ctx) {
    observed *o = ctx;
    pthread_mutex_lock(&o->lock);
    o->wake = true;
    pthread_cond_signal(&o->woken);
    pthread_mutex_unlock(&o->lock);
}

static void on_ready(grpc_relay_call *call, void *owner) {
    observed *o = owner;
    if (o->hold)
        return;
    while (o->count < sizeof o->events / sizeof o->events[0] &&
           grpc_relay_next(call, &o->events[o->count]))
        o->count++;
}

/* Dispatches until the last event taken is the status, or `ms` pass. */
static bool wait_status(grpc_relay *relay, observed *o, int ms) {
    for (int waited = 0; waited < ms; waited += 10) {
        pthread_mutex_lock(&o->lock);
        if (!o->wake) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 10 * 1000 * 1000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&o->woken, &o->lock, &until);
        }
        o->wake = false;
        pthread_mutex_unlock(&o->lock);
        grpc_relay_dispatch(relay);
        if (o->count > 0 && o->events[o->count - 1].kind == GRPC_RELAY_STATUS)
            return true;
    }
    return false;
}

static void clear_observed(observed *o) {
    for (size_t i = 0; i < o->count; i++)
        grpc_relay_event_clear(&o->events[i]);
    o->count = 0;
}

static bool message_is(const grpc_relay_event *e, const char *text) {
    return e->kind == GRPC_RELAY_MESSAGE && e->len == strlen(text) &&
           memcmp(e->bytes, text, e->len) == 0;
}

static void test_echo(grpc_relay *relay, observed *o) {
    grpc_relay_header auth = {.key = "authorization", .value = "Bearer t", .value_len = 8};
    grpc_relay_call *call = grpc_relay_start(relay, "/test.Echo/Echo", &auth, 1, 0, on_ready, o);
    CHECK(call != NULL);
    CHECK_EQ_INT(grpc_relay_send(call, "echo", 4), 0);
    CHECK_EQ_INT(grpc_relay_send(call, "b", 1), 0);
    grpc_relay_close_send(call);
    CHECK(grpc_relay_send(call, "late", 4) == -1);
    CHECK(wait_status(relay, o, 5000));
    CHECK_EQ_INT(o->count, 6);
    CHECK(o->events[0].kind == GRPC_RELAY_HEADERS);
    const grpc_relay_header *tracking =
        grpc_relay_header_find(&o->events[0].headers, "x-tracking-id");
    CHECK(tracking != NULL && strcmp(tracking->value, "track-1") == 0);
    CHECK(message_is(&o->events[1], "echo") && message_is(&o->events[2], "echo"));
    CHECK(message_is(&o->events[3], "b") && message_is(&o->events[4], "b"));
    grpc_relay_event *status = &o->events[5];
    CHECK_EQ_INT(status->status, GRPC_STATUS_OK);
    const grpc_relay_header *message = grpc_relay_header_find(&status->headers, "message");
    CHECK(message != NULL && strcmp(message->value, "done") == 0);
    grpc_relay_release(call);
    clear_observed(o);
}

static void test_many_under_back_pressure(grpc_relay *relay, observed *o) {
    grpc_relay_call *call = grpc_relay_start(relay, "/test.Echo/Many", NULL, 0, 0, on_ready, o);
    CHECK(call != NULL);
    grpc_relay_send(call, "many", 4);
    grpc_relay_close_send(call);
    /* Take nothing for a while (long enough for the limit's worth of messages even on a busy
     * machine): the relay holds at most its limit, the server waits. */
    o->hold = true;
    for (int i = 0; i < 150; i++) {
        usleep(10 * 1000);
        grpc_relay_dispatch(relay);
    }
    CHECK_EQ_INT(grpc_relay_pending_messages(call), GRPC_RELAY_MAX_PENDING);
    /* Events left untaken bring no new callback: the owner takes them when it can. */
    o->hold = false;
    on_ready(call, o);
    CHECK(wait_status(relay, o, 10000));
    CHECK_EQ_INT(o->count, MANY_MESSAGES + 2);
    bool in_order = true;
    for (int i = 0; i < MANY_MESSAGES; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", i);
        in_order = in_order && message_is(&o->events[1 + i], text);
    }
    CHECK(in_order);
    CHECK_EQ_INT(o->events[o->count - 1].status, GRPC_STATUS_OK);
    grpc_relay_release(call);
    clear_observed(o);
}

static void test_error_status(grpc_relay *relay, observed *o) {
    grpc_relay_call *call = grpc_relay_start(relay, "/test.Echo/Fail", NULL, 0, 5000, on_ready, o);
    grpc_relay_send(call, "fail", 4);
    CHECK(wait_status(relay, o, 5000));
    /* The server ended the call before the client's messages ended (as a server refusing a
     * token does): a later message is no error of the call's, the status stands. */
    CHECK_EQ_INT(grpc_relay_send(call, "more", 4), 0);
    grpc_relay_close_send(call);
    grpc_relay_event *status = &o->events[o->count - 1];
    CHECK_EQ_INT(status->status, GRPC_STATUS_INVALID_ARGUMENT);
    CHECK(strcmp(status->status_detail, "30079") == 0);
    const grpc_relay_header *message = grpc_relay_header_find(&status->headers, "message");
    CHECK(message != NULL && strcmp(message->value, "bad") == 0);
    grpc_relay_release(call);
    clear_observed(o);
}

static void test_release_mid_stream(grpc_relay *relay, observed *o, test_server *ts) {
    int cancelled_before = ts->cancelled_seen;
    grpc_relay_call *call = grpc_relay_start(relay, "/test.Echo/Forever", NULL, 0, 0, on_ready, o);
    grpc_relay_send(call, "forever", 7);
    for (int i = 0; i < 500 && o->count < 3; i++) {
        usleep(2000);
        grpc_relay_dispatch(relay);
    }
    CHECK(o->count >= 3 && message_is(&o->events[1], "tick"));
    grpc_relay_release(call); /* the client left: the server sees the call cancelled */
    for (int i = 0; i < 500 && ts->cancelled_seen == cancelled_before; i++) {
        usleep(2000);
        grpc_relay_dispatch(relay);
    }
    CHECK_EQ_INT(ts->cancelled_seen, cancelled_before + 1);
    clear_observed(o);
}

int main(void) {
    grpc_init();
    char address[96];
    snprintf(address, sizeof address, "unix-abstract:tinvestd-relay-test-%d", (int)getpid());
    test_server ts = {0};
    ts.server = grpc_server_create(NULL, NULL);
    ts.queue = grpc_completion_queue_create_for_pluck(NULL);
    grpc_server_register_completion_queue(ts.server, ts.queue, NULL);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    CHECK(grpc_server_add_http2_port(ts.server, address, creds) != 0);
    grpc_server_credentials_release(creds);
    grpc_server_start(ts.server);
    pthread_create(&ts.thread, NULL, server_thread, &ts);

    observed o = {.lock = PTHREAD_MUTEX_INITIALIZER, .woken = PTHREAD_COND_INITIALIZER};
    grpc_relay *relay = grpc_relay_create(address, on_wake, &o);
    CHECK(relay != NULL);
    test_echo(relay, &o);
    test_many_under_back_pressure(relay, &o);
    test_error_status(relay, &o);
    test_release_mid_stream(relay, &o, &ts);
    /* A call still open when the relay is destroyed is cancelled and freed (ASan checks). */
    grpc_relay_call *open = grpc_relay_start(relay, "/test.Echo/Forever", NULL, 0, 0, on_ready, &o);
    grpc_relay_send(open, "forever", 7);
    usleep(20 * 1000);
    grpc_relay_destroy(relay);
    clear_observed(&o);

    grpc_server_shutdown_and_notify(ts.server, ts.queue, (void *)0x30);
    grpc_server_cancel_all_calls(ts.server);
    int ok;
    pluck(ts.queue, (void *)0x30, &ok);
    pthread_join(ts.thread, NULL);
    grpc_server_destroy(ts.server);
    grpc_completion_queue_shutdown(ts.queue);
    pluck(ts.queue, NULL, &ok);
    grpc_completion_queue_destroy(ts.queue);
    grpc_shutdown();
    return check_finish("http_grpc_relay");
}
