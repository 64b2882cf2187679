/* The market-data fan-out floor: a trivial gRPC C-core server that answers every call as a
 * server stream and, RATE times a second, sends every open stream one fixed MarketDataResponse
 * trade stamped with the time it was made, encoded once and shared by all of them. One
 * completion-queue thread, like tinvestd's front end; a stream with a write in flight queues the
 * message (up to BACKLOG; past that the stream is no longer written to, as tinvestd cuts a slow
 * reader off).
 * Measured with md_fanout, it tells what delivering the same messages to the same subscribers
 * costs any server on this machine.
 *
 * usage: md_floor_server [RATE] [HOST:PORT]   (default 200 and 127.0.0.1:0; prints
 *        "listening plaintext=HOST:PORT") */
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/contract.h"
#include "util/clock.h"

#define MAX_STREAMS 100000
#define BACKLOG 256

typedef struct floor_stream floor_stream;

typedef struct floor_tag {
    floor_stream *stream;
    int kind; /* 0 new call, 1 request read, 2 write done, 3 closed */
} floor_tag;

struct floor_stream {
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array request_md;
    grpc_byte_buffer *request, *writing;
    floor_tag new_tag, read_tag, write_tag, close_tag;
    int cancelled;
    bool open, write_in_flight, metadata_sent;
    grpc_slice queued[BACKLOG];
    int head, count;
    bool overflowed;
    int index;
};

static grpc_server *server;
static grpc_completion_queue *queue;
static volatile sig_atomic_t stopping;
static floor_stream *streams[MAX_STREAMS];
static int stream_count;

static void request_next(void) {
    floor_stream *s = calloc(1, sizeof *s);
    grpc_call_details_init(&s->details);
    grpc_metadata_array_init(&s->request_md);
    s->new_tag = (floor_tag){s, 0};
    s->read_tag = (floor_tag){s, 1};
    s->write_tag = (floor_tag){s, 2};
    s->close_tag = (floor_tag){s, 3};
    if (grpc_server_request_call(server, &s->call, &s->details, &s->request_md, queue, queue,
                                 &s->new_tag) != GRPC_CALL_OK)
        abort();
}

static grpc_slice trade_message(void) {
    int64_t now = clock_realtime_ns();
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    time.seconds = now / 1000000000;
    time.nanos = (int32_t)(now % 1000000000);
    PB(Quotation) price = PB_INIT(QUOTATION);
    price.units = 8;
    price.nano = 900000000;
    PB(Trade) trade = PB_INIT(TRADE);
    trade.figi = "BBG000000001";
    trade.direction = PB_ENUM(TRADE_DIRECTION__TRADE_DIRECTION_BUY);
    trade.price = &price;
    trade.quantity = 1;
    trade.time = &time;
    trade.instrument_uid = "e2d0dbac-d354-4c36-a5ed-e5aae42ffc76";
    trade.trade_source = PB_ENUM(TRADE_SOURCE_TYPE__TRADE_SOURCE_EXCHANGE);
    trade.ticker = "TRUR";
    trade.class_code = "TQTF";
    PB(MarketDataResponse) msg = PB_INIT(MARKET_DATA_RESPONSE);
    msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_TRADE);
    msg.trade = &trade;
    size_t size = protobuf_c_message_get_packed_size(&msg.base);
    grpc_slice slice = grpc_slice_malloc(size);
    protobuf_c_message_pack(&msg.base, GRPC_SLICE_START_PTR(slice));
    return slice;
}

static void write_to(floor_stream *s, grpc_slice message) {
    s->writing = grpc_raw_byte_buffer_create(&message, 1);
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (!s->metadata_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        s->metadata_sent = true;
    }
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n].data.send_message.send_message = s->writing;
    n++;
    s->write_in_flight = true;
    if (grpc_call_start_batch(s->call, ops, n, &s->write_tag, NULL) != GRPC_CALL_OK)
        abort();
}

static void forget(floor_stream *s) {
    if (s->index >= 0 && s->index < stream_count && streams[s->index] == s) {
        streams[s->index] = streams[--stream_count];
        streams[s->index]->index = s->index;
    }
    s->index = -1;
    s->open = false;
}

static void release(floor_stream *s) {
    while (s->count > 0) {
        grpc_slice_unref(s->queued[s->head]);
        s->head = (s->head + 1) % BACKLOG;
        s->count--;
    }
    if (s->request)
        grpc_byte_buffer_destroy(s->request);
    grpc_call_details_destroy(&s->details);
    grpc_metadata_array_destroy(&s->request_md);
    if (s->call)
        grpc_call_unref(s->call);
    free(s);
}

static void on_event(floor_tag *tag, bool ok) {
    floor_stream *s = tag->stream;
    grpc_op op;
    memset(&op, 0, sizeof op);
    switch (tag->kind) {
    case 0:
        if (!ok) {
            release(s);
            return;
        }
        request_next();
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &s->request;
        grpc_call_start_batch(s->call, &op, 1, &s->read_tag, NULL);
        return;
    case 1:
        if (!ok || stream_count == MAX_STREAMS) {
            release(s);
            return;
        }
        op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        op.data.recv_close_on_server.cancelled = &s->cancelled;
        grpc_call_start_batch(s->call, &op, 1, &s->close_tag, NULL);
        s->open = true;
        s->index = stream_count;
        streams[stream_count++] = s;
        return;
    case 2:
        grpc_byte_buffer_destroy(s->writing);
        s->writing = NULL;
        s->write_in_flight = false;
        if (!ok || !s->open) {
            if (!s->open)
                release(s);
            return;
        }
        if (s->count > 0) {
            grpc_slice message = s->queued[s->head];
            s->head = (s->head + 1) % BACKLOG;
            s->count--;
            write_to(s, message);
            grpc_slice_unref(message);
        }
        return;
    case 3:
        forget(s);
        if (!s->write_in_flight)
            release(s);
        return;
    }
}

static void on_signal(int sig) {
    stopping = 1;
}

int main(int argc, char **argv) {
    double rate = argc > 1 ? atof(argv[1]) : 200;
    const char *address = argc > 2 ? argv[2] : "127.0.0.1:0";
    if (rate <= 0)
        return 2;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    grpc_init();
    server = grpc_server_create(NULL, NULL);
    queue = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(server, queue, NULL);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(server, address, creds);
    grpc_server_credentials_release(creds);
    if (port == 0)
        return 1;
    grpc_server_start(server);
    for (int i = 0; i < 16; i++)
        request_next();
    const char *colon = strrchr(address, ':');
    printf("listening plaintext=%.*s:%d\n", (int)(colon - address), address, port);
    fflush(stdout);
    int64_t period = (int64_t)(1e9 / rate);
    int64_t next_tick = clock_monotonic_ns() + period;
    while (!stopping) {
        int64_t now = clock_monotonic_ns();
        if (now >= next_tick) {
            /* One message, encoded once, for every open stream. */
            grpc_slice message = trade_message();
            for (int i = 0; i < stream_count; i++) {
                floor_stream *st = streams[i];
                if (!st->write_in_flight) {
                    write_to(st, message);
                } else if (st->count < BACKLOG) {
                    st->queued[(st->head + st->count) % BACKLOG] = grpc_slice_ref(message);
                    st->count++;
                } else {
                    st->overflowed = true;
                }
            }
            grpc_slice_unref(message);
            next_tick += period;
            continue;
        }
        grpc_event ev = grpc_completion_queue_next(
            queue,
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                         gpr_time_from_micros((next_tick - now) / 1000, GPR_TIMESPAN)),
            NULL);
        if (ev.type == GRPC_OP_COMPLETE)
            on_event(ev.tag, ev.success);
    }
    grpc_server_shutdown_and_notify(server, queue, NULL);
    grpc_server_cancel_all_calls(server);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_OP_COMPLETE && ev.tag == NULL)
            break;
    }
    /* The process ends: what the streams hold goes with it. */
    return 0;
}
