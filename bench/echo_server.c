/* The gRPC floor: a trivial gRPC C-core server that answers every method with the request's
 * own bytes, with the same threading as tinvestd's front end (one completion-queue thread).
 * Measured with loadgen --method echo, it tells what any server on this machine pays per call.
 *
 * With --contract-metadata every reply also carries the initial metadata the T-Invest contract
 * puts on every reply (x-tracking-id, a fresh UUID, and the three x-ratelimit-* headers), as
 * tinvestd sends them: the floor of a server that must speak the contract.
 *
 * usage: echo_server [--contract-metadata] [HOST:PORT]
 *        (default 127.0.0.1:0; prints "listening plaintext=HOST:PORT") */
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct echo_call {
    int stage; /* 0 requested, 1 reading, 2 replying */
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array request_md;
    grpc_byte_buffer *message;
    grpc_slice status_details;
    int cancelled;
    grpc_metadata reply_metadata[4];
} echo_call;

static grpc_server *server;
static grpc_completion_queue *queue;
static volatile sig_atomic_t stopping;
static bool contract_metadata;
static unsigned long long replies;

static void request_next(void) {
    echo_call *c = calloc(1, sizeof *c);
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->request_md);
    if (grpc_server_request_call(server, &c->call, &c->details, &c->request_md, queue, queue, c) !=
        GRPC_CALL_OK)
        abort();
}

static void release(echo_call *c) {
    if (c->message)
        grpc_byte_buffer_destroy(c->message);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->request_md);
    for (int i = 0; contract_metadata && c->stage == 2 && i < 4; i++)
        grpc_slice_unref(c->reply_metadata[i].value);
    if (c->call)
        grpc_call_unref(c->call);
    free(c);
}

/* The same four headers tinvestd adds to every reply; the UUID is made from a counter, as cheap
 * as tinvestd's own (which draws no system entropy per request). */
static void add_contract_metadata(echo_call *c) {
    static const char *const keys[4] = {"x-tracking-id", "x-ratelimit-limit",
                                        "x-ratelimit-remaining", "x-ratelimit-reset"};
    char values[4][40];
    unsigned long long n = ++replies;
    snprintf(values[0], sizeof values[0], "%08llx-0000-4000-8000-%012llx", n >> 32 & 0xffffffff,
             n & 0xffffffffffffULL);
    snprintf(values[1], sizeof values[1], "%d", 600);
    snprintf(values[2], sizeof values[2], "%llu", 599 - n % 600);
    snprintf(values[3], sizeof values[3], "%llu", 60 - n % 60);
    for (int i = 0; i < 4; i++) {
        c->reply_metadata[i].key = grpc_slice_from_static_string(keys[i]);
        c->reply_metadata[i].value = grpc_slice_from_copied_string(values[i]);
    }
}

static void advance(echo_call *c, bool ok) {
    if (!ok) {
        release(c);
        return;
    }
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    if (c->stage == 0) {
        request_next();
        c->stage = 1;
        ops[0].op = GRPC_OP_RECV_MESSAGE;
        ops[0].data.recv_message.recv_message = &c->message;
        grpc_call_start_batch(c->call, ops, 1, c, NULL);
    } else if (c->stage == 1) {
        c->stage = 2;
        c->status_details = grpc_empty_slice();
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        if (contract_metadata) {
            add_contract_metadata(c);
            ops[0].data.send_initial_metadata.count = 4;
            ops[0].data.send_initial_metadata.metadata = c->reply_metadata;
        }
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = c->message;
        ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[2].data.send_status_from_server.status = GRPC_STATUS_OK;
        ops[2].data.send_status_from_server.status_details = &c->status_details;
        ops[3].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[3].data.recv_close_on_server.cancelled = &c->cancelled;
        grpc_call_start_batch(c->call, ops, 4, c, NULL);
    } else {
        release(c);
    }
}

static void on_signal(int sig) {
    stopping = 1;
}

int main(int argc, char **argv) {
    int arg = 1;
    if (arg < argc && strcmp(argv[arg], "--contract-metadata") == 0) {
        contract_metadata = true;
        arg++;
    }
    const char *address = arg < argc ? argv[arg] : "127.0.0.1:0";
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
    for (int i = 0; i < 8; i++)
        request_next();
    const char *colon = strrchr(address, ':');
    printf("listening plaintext=%.*s:%d\n", (int)(colon - address), address, port);
    fflush(stdout);
    while (!stopping) {
        gpr_timespec deadline =
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(100, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(queue, deadline, NULL);
        if (ev.type == GRPC_OP_COMPLETE)
            advance(ev.tag, ev.success);
    }
    grpc_server_shutdown_and_notify(server, queue, NULL);
    grpc_server_cancel_all_calls(server);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_OP_COMPLETE && ev.tag == NULL)
            break;
        if (ev.type == GRPC_OP_COMPLETE)
            advance(ev.tag, false);
    }
    grpc_server_destroy(server);
    grpc_completion_queue_shutdown(queue);
    while (grpc_completion_queue_next(queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(queue);
    grpc_shutdown();
    return 0;
}
