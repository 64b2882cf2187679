/* loadgen: a load generator for tinvestd (and for the gRPC echo floor) on gRPC C-core.
 *
 * Closed loop (--concurrency N calls always in flight) or open loop (--rate R calls/s, latency
 * measured from the moment each call was due, so a slow server cannot hide its queueing). Every
 * order carries a fresh key. With --stream it also holds an OrderStateStream subscription and
 * measures, per order, the delay from the arrival of the PostOrderAsync reply to the arrival of
 * the order's first stream message, and from the order's created_at to its arrival. Latencies go
 * into log-linear histograms; the report gives p50/p90/p99/p99.9/max and calls/s.
 *
 * usage: loadgen --target HOST:PORT [--token T] [--account A] [--instrument UID]
 *                [--price UNITS.NANO] [--method async|sync|echo] [--path /pkg.Svc/Method]
 *                [--mix async=P,sync=P] [--concurrency N | --rate R] [--calls N]
 *                [--channels K] [--stream] [--json] [--market]
 *
 * --market sends market orders, buying on even counters and selling on odd ones: every order
 * fills or is cancelled at once, so the broker's order history churns (the recycling soak). */
#include <getopt.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/pb.h"
#include "histogram.h"
#include "util/clock.h"
#include "util/money.h"
#include "util/uuid.h"

#define MAX_CHANNELS 64
#define MAX_STATUS 17

typedef struct options {
    const char *target, *token, *account, *instrument, *path, *method;
    int64_t price_nano;
    int sync_percent;
    int concurrency, channels;
    double rate;
    long calls;
    bool stream, json, market;
} options;

typedef struct slot {
    int kind; /* tag kind: 0 = unary call */
    grpc_call *call;
    grpc_metadata send_md[1];
    grpc_metadata_array recv_md, trailing_md;
    grpc_byte_buffer *request, *response;
    grpc_status_code status;
    grpc_slice details;
    int64_t started_ns;
    long counter;
    bool sync;
} slot;

typedef struct stream_state {
    int kind; /* 1 */
    grpc_call *call;
    grpc_metadata send_md[1];
    grpc_metadata_array recv_md, trailing_md;
    grpc_byte_buffer *request, *response;
    grpc_status_code status;
    grpc_slice details;
    bool started, ended;
} stream_state;

static options opt;
static grpc_channel *channels[MAX_CHANNELS];
static grpc_completion_queue *queue;
static histogram latency, stream_after_reply, stream_after_created;
static uint64_t errors[MAX_STATUS];
static int64_t *reply_ns; /* per call counter: when its reply arrived */
static uint8_t *stream_seen;
static long next_counter, completed;
/* Random per run, so that keys never repeat across runs against the same server (a repeated
 * key would be answered from the stored order: idempotency, not a new order). */
static uint64_t run_id;

static void usage(void) {
    fprintf(stderr,
            "usage: loadgen --target HOST:PORT [--token T] [--account A] [--instrument UID] "
            "[--price UNITS.NANO] [--method async|sync|echo] [--path P] [--mix async=P,sync=P] "
            "[--concurrency N | --rate R] [--calls N] [--channels K] [--stream] [--json]\n");
    exit(2);
}

static void parse(int argc, char **argv) {
    static const struct option longopts[] = {
        {"target", 1, NULL, 't'},      {"token", 1, NULL, 'k'},
        {"account", 1, NULL, 'a'},     {"instrument", 1, NULL, 'i'},
        {"price", 1, NULL, 'p'},       {"method", 1, NULL, 'm'},
        {"path", 1, NULL, 'P'},        {"mix", 1, NULL, 'x'},
        {"concurrency", 1, NULL, 'c'}, {"rate", 1, NULL, 'r'},
        {"calls", 1, NULL, 'n'},       {"channels", 1, NULL, 'C'},
        {"stream", 0, NULL, 's'},      {"json", 0, NULL, 'j'},
        {"market", 0, NULL, 'M'},      {NULL, 0, NULL, 0}};
    opt = (options){.token = "t.demo.full",
                    .account = "2000000001",
                    .instrument = "e2d0dbac-d354-4c36-a5ed-e5aae42ffc76",
                    .method = "async",
                    .concurrency = 1,
                    .channels = 1,
                    .calls = 10000};
    money_parse_decimal("8.000", &opt.price_nano);
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            opt.target = optarg;
            break;
        case 'k':
            opt.token = optarg;
            break;
        case 'a':
            opt.account = optarg;
            break;
        case 'i':
            opt.instrument = optarg;
            break;
        case 'p':
            if (money_parse_decimal(optarg, &opt.price_nano) != 0)
                usage();
            break;
        case 'm':
            opt.method = optarg;
            break;
        case 'P':
            opt.path = optarg;
            break;
        case 'x': {
            int async_percent = 100, sync_percent = 0;
            if (sscanf(optarg, "async=%d,sync=%d", &async_percent, &sync_percent) != 2)
                usage();
            opt.sync_percent = sync_percent * 100 / (async_percent + sync_percent);
            break;
        }
        case 'c':
            opt.concurrency = atoi(optarg);
            break;
        case 'r':
            opt.rate = atof(optarg);
            break;
        case 'n':
            opt.calls = atol(optarg);
            break;
        case 'C':
            opt.channels = atoi(optarg);
            break;
        case 's':
            opt.stream = true;
            break;
        case 'M':
            opt.market = true;
            break;
        case 'j':
            opt.json = true;
            break;
        default:
            usage();
        }
    }
    if (opt.target == NULL || opt.channels < 1 || opt.channels > MAX_CHANNELS ||
        opt.concurrency < 1)
        usage();
    if (strcmp(opt.method, "sync") == 0)
        opt.sync_percent = 100;
}

static grpc_byte_buffer *pack(const ProtobufCMessage *msg) {
    size_t size = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(size);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return bb;
}

/* An order request with the key for `counter` (the counter is recoverable from the key). */
static grpc_byte_buffer *order_request(long counter, bool sync) {
    char key[UUID_TEXT_SIZE];
    uuid_format_from_bits(run_id, (uint64_t)counter, key);
    PB(Quotation) price = PB_INIT(QUOTATION);
    price.units = opt.price_nano / 1000000000;
    price.nano = (int32_t)(opt.price_nano % 1000000000);
    if (sync) {
        PB(PostOrderRequest) r = PB_INIT(POST_ORDER_REQUEST);
        r.instrument_id = (char *)opt.instrument;
        r.quantity = 1;
        r.price = &price;
        r.direction = PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_BUY);
        r.account_id = (char *)opt.account;
        r.order_type = PB_ENUM(ORDER_TYPE__ORDER_TYPE_LIMIT);
        r.order_id = key;
        return pack(&r.base);
    }
    PB(PostOrderAsyncRequest) r = PB_INIT(POST_ORDER_ASYNC_REQUEST);
    r.instrument_id = (char *)opt.instrument;
    r.quantity = 1;
    r.price = &price;
    r.direction = PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_BUY);
    r.account_id = (char *)opt.account;
    r.order_type = PB_ENUM(ORDER_TYPE__ORDER_TYPE_LIMIT);
    r.order_id = key;
    if (opt.market) {
        r.price = NULL;
        r.order_type = PB_ENUM(ORDER_TYPE__ORDER_TYPE_MARKET);
        if (counter % 2 == 1)
            r.direction = PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_SELL);
    }
    return pack(&r.base);
}

static long counter_of(const char *key) {
    size_t len = key ? strlen(key) : 0;
    if (len != UUID_TEXT_LEN)
        return -1;
    return strtol(key + 24, NULL, 16);
}

static void start_call(slot *s, int64_t due_ns) {
    const char *path = opt.path;
    bool echo = strcmp(opt.method, "echo") == 0;
    s->counter = next_counter++;
    s->sync = !echo && (int)(s->counter % 100) < opt.sync_percent;
    if (path == NULL)
        path = s->sync ? "/tinkoff.public.invest.api.contract.v1.OrdersService/PostOrder"
                       : "/tinkoff.public.invest.api.contract.v1.OrdersService/PostOrderAsync";
    s->request = order_request(s->counter, s->sync);
    grpc_slice method = grpc_slice_from_copied_string(path);
    s->call =
        grpc_channel_create_call(channels[s->counter % opt.channels], NULL, GRPC_PROPAGATE_DEFAULTS,
                                 queue, method, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_slice_unref(method);
    grpc_metadata_array_init(&s->recv_md);
    grpc_metadata_array_init(&s->trailing_md);
    s->response = NULL;
    s->details = grpc_empty_slice();
    s->started_ns = due_ns;
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = s->send_md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->recv_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &s->response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &s->trailing_md;
    ops[5].data.recv_status_on_client.status = &s->status;
    ops[5].data.recv_status_on_client.status_details = &s->details;
    if (grpc_call_start_batch(s->call, ops, 6, s, NULL) != GRPC_CALL_OK)
        abort();
}

static void finish_call(slot *s) {
    int64_t now = clock_monotonic_ns();
    if (s->status == GRPC_STATUS_OK) {
        histogram_record(&latency, now - s->started_ns);
        reply_ns[s->counter] = now;
        /* Its stream message came first: the stream added no delay beyond the reply. */
        if (opt.stream && stream_seen[s->counter])
            histogram_record(&stream_after_reply, 0);
    } else {
        errors[s->status < MAX_STATUS ? s->status : MAX_STATUS - 1]++;
    }
    grpc_byte_buffer_destroy(s->request);
    if (s->response)
        grpc_byte_buffer_destroy(s->response);
    grpc_metadata_array_destroy(&s->recv_md);
    grpc_metadata_array_destroy(&s->trailing_md);
    grpc_slice_unref(s->details);
    grpc_call_unref(s->call);
    completed++;
}

static void stream_read(stream_state *st) {
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &st->response;
    if (grpc_call_start_batch(st->call, &op, 1, st, NULL) != GRPC_CALL_OK)
        abort();
}

static void stream_open(stream_state *st) {
    PB(OrderStateStreamRequest) r = PB_INIT(ORDER_STATE_STREAM_REQUEST);
    char *accounts[1] = {(char *)opt.account};
    r.accounts = accounts;
    r.n_accounts = 1;
    st->kind = 1;
    st->request = pack(&r.base);
    grpc_slice method = grpc_slice_from_static_string(
        "/tinkoff.public.invest.api.contract.v1.OrdersStreamService/OrderStateStream");
    st->call = grpc_channel_create_call(channels[0], NULL, GRPC_PROPAGATE_DEFAULTS, queue, method,
                                        NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_metadata_array_init(&st->recv_md);
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = st->send_md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = st->request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &st->recv_md;
    if (grpc_call_start_batch(st->call, ops, 4, NULL, NULL) != GRPC_CALL_OK)
        abort();
    stream_read(st);
}

static void stream_message(stream_state *st) {
    int64_t now_mono = clock_monotonic_ns(), now_real = clock_realtime_ns();
    grpc_byte_buffer_reader reader;
    grpc_byte_buffer_reader_init(&reader, st->response);
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    grpc_byte_buffer_destroy(st->response);
    st->response = NULL;
    PB(OrderStateStreamResponse) *msg = (PB(OrderStateStreamResponse) *)protobuf_c_message_unpack(
        &PB_DESC(order_state_stream_response), NULL, GRPC_SLICE_LENGTH(bytes),
        GRPC_SLICE_START_PTR(bytes));
    grpc_slice_unref(bytes);
    if (msg != NULL &&
        msg->payload_case == PB_ENUM(ORDER_STATE_STREAM_RESPONSE__PAYLOAD_ORDER_STATE)) {
        long counter = counter_of(msg->order_state->order_request_id);
        if (counter >= 0 && counter < opt.calls && !stream_seen[counter]) {
            stream_seen[counter] = 1;
            if (reply_ns[counter] != 0)
                histogram_record(&stream_after_reply, now_mono - reply_ns[counter]);
            const Google__Protobuf__Timestamp *t = msg->order_state->created_at;
            if (t != NULL)
                histogram_record(&stream_after_created,
                                 now_real - (t->seconds * 1000000000LL + t->nanos));
        }
    }
    if (msg != NULL)
        protobuf_c_message_free_unpacked(&msg->base, NULL);
}

/* User and system CPU time of this process so far. */
static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_stime.tv_sec +
           ((double)usage.ru_utime.tv_usec + (double)usage.ru_stime.tv_usec) / 1e6;
}

static void report_histogram(const char *name, const histogram *h) {
    if (opt.json)
        printf("\"%s\":{\"count\":%llu,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":"
               "%.1f,\"max_us\":%.1f},",
               name, (unsigned long long)h->total, histogram_percentile(h, 50) / 1e3,
               histogram_percentile(h, 90) / 1e3, histogram_percentile(h, 99) / 1e3,
               histogram_percentile(h, 99.9) / 1e3, h->max / 1e3);
    else
        printf("%-22s n=%-8llu p50 %8.1f us  p90 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  max %8.1f "
               "us\n",
               name, (unsigned long long)h->total, histogram_percentile(h, 50) / 1e3,
               histogram_percentile(h, 90) / 1e3, histogram_percentile(h, 99) / 1e3,
               histogram_percentile(h, 99.9) / 1e3, h->max / 1e3);
}

int main(int argc, char **argv) {
    parse(argc, argv);
    run_id = (uint64_t)clock_realtime_ns() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
    grpc_init();
    queue = grpc_completion_queue_create_for_next(NULL);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    for (int i = 0; i < opt.channels; i++) {
        /* A local subchannel pool per channel: K channels are K connections. */
        grpc_arg arg = {.type = GRPC_ARG_INTEGER,
                        .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
                        .value.integer = 1};
        grpc_channel_args args = {.num_args = 1, .args = &arg};
        channels[i] = grpc_channel_create(opt.target, creds, &args);
    }
    grpc_channel_credentials_release(creds);
    reply_ns = calloc((size_t)opt.calls, sizeof *reply_ns);
    stream_seen = calloc((size_t)opt.calls, 1);
    char bearer[256];
    snprintf(bearer, sizeof bearer, "Bearer %s", opt.token);
    grpc_slice auth_key = grpc_slice_from_static_string("authorization");
    grpc_slice auth_value = grpc_slice_from_copied_string(bearer);
    static stream_state st;
    if (opt.stream) {
        st.send_md[0] = (grpc_metadata){.key = auth_key, .value = auth_value};
        stream_open(&st);
    }
    int in_flight_max = opt.rate > 0 ? 100000 : opt.concurrency;
    slot *slots = calloc((size_t)in_flight_max, sizeof *slots);
    slot **free_slots = calloc((size_t)in_flight_max, sizeof *free_slots);
    int free_count = 0;
    for (int i = 0; i < in_flight_max; i++) {
        slots[i].send_md[0] = (grpc_metadata){.key = auth_key, .value = auth_value};
        free_slots[free_count++] = &slots[i];
    }
    /* Warm the connections so that connection set-up is not measured. */
    for (int i = 0; i < opt.channels; i++)
        grpc_channel_check_connectivity_state(channels[i], 1);
    gpr_sleep_until(
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(300, GPR_TIMESPAN)));

    int64_t start = clock_monotonic_ns();
    double start_cpu_s = cpu_seconds();
    int64_t interval_ns = opt.rate > 0 ? (int64_t)(1e9 / opt.rate) : 0;
    int64_t next_due = start;
    while (completed < opt.calls) {
        if (opt.rate > 0) {
            int64_t now = clock_monotonic_ns();
            while (next_counter < opt.calls && next_due <= now && free_count > 0) {
                start_call(free_slots[--free_count], next_due);
                next_due += interval_ns;
            }
        } else {
            while (next_counter < opt.calls && free_count > 0)
                start_call(free_slots[--free_count], clock_monotonic_ns());
        }
        gpr_timespec deadline = gpr_time_add(
            gpr_now(GPR_CLOCK_MONOTONIC),
            gpr_time_from_micros(
                opt.rate > 0 ? (int64_t)(interval_ns / 1000 > 0 ? interval_ns / 1000 : 1) : 100000,
                GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(queue, deadline, NULL);
        if (ev.type != GRPC_OP_COMPLETE || ev.tag == NULL)
            continue;
        if (*(int *)ev.tag == 1) {
            if (ev.success && st.response != NULL) {
                stream_message(&st);
                stream_read(&st);
            }
            continue;
        }
        slot *s = ev.tag;
        finish_call(s);
        free_slots[free_count++] = s;
    }
    double seconds = (clock_monotonic_ns() - start) / 1e9;
    /* What this client spent per call: on a machine whose CPUs client and server share, it is
     * part of every floor. */
    double cpu_ns_per_call = (cpu_seconds() - start_cpu_s) * 1e9 / (double)opt.calls;
    /* Let the stream catch up with the last replies. */
    int64_t drain_until = clock_monotonic_ns() + (opt.stream ? 500000000LL : 0);
    while (opt.stream && clock_monotonic_ns() < drain_until) {
        grpc_event ev = grpc_completion_queue_next(
            queue,
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(50, GPR_TIMESPAN)),
            NULL);
        if (ev.type == GRPC_OP_COMPLETE && ev.tag != NULL && ev.success && st.response != NULL) {
            stream_message(&st);
            stream_read(&st);
        }
    }
    uint64_t error_total = 0;
    for (int i = 0; i < MAX_STATUS; i++)
        error_total += errors[i];
    if (opt.json) {
        printf("{\"calls\":%ld,\"seconds\":%.3f,\"calls_per_s\":%.0f,\"errors\":%llu,"
               "\"client_cpu_ns_per_call\":%.0f,",
               opt.calls, seconds, opt.calls / seconds, (unsigned long long)error_total,
               cpu_ns_per_call);
        report_histogram("latency", &latency);
        if (opt.stream) {
            report_histogram("stream_after_reply", &stream_after_reply);
            report_histogram("stream_after_created", &stream_after_created);
        }
        printf("\"method\":\"%s\"}\n", opt.method);
    } else {
        printf("%ld calls in %.3f s = %.0f calls/s (client CPU %.1f us per call), %llu errors",
               opt.calls, seconds, opt.calls / seconds, cpu_ns_per_call / 1e3,
               (unsigned long long)error_total);
        for (int i = 1; i < MAX_STATUS; i++)
            if (errors[i])
                printf(" [status %d: %llu]", i, (unsigned long long)errors[i]);
        printf("\n");
        report_histogram("latency", &latency);
        if (opt.stream) {
            report_histogram("stream after reply", &stream_after_reply);
            report_histogram("stream after created", &stream_after_created);
        }
    }
    if (opt.stream && st.call != NULL) {
        grpc_call_cancel(st.call, NULL);
        grpc_call_unref(st.call);
        grpc_byte_buffer_destroy(st.request);
        grpc_metadata_array_destroy(&st.recv_md);
    }
    free(slots);
    free(free_slots);
    free(reply_ns);
    free(stream_seen);
    grpc_slice_unref(auth_value);
    for (int i = 0; i < opt.channels; i++)
        grpc_channel_destroy(channels[i]);
    grpc_completion_queue_shutdown(queue);
    while (grpc_completion_queue_next(queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(queue);
    grpc_shutdown();
    return error_total == 0 ? 0 : 1;
}
