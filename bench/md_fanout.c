/* Market-data fan-out benchmark client: opens N MarketDataServerSideStream calls subscribing to
 * the trades of the instruments named, reads every message, and reports the messages delivered
 * per second and the delay from each trade's time to its arrival (p50/p99). Run against tinvestd
 * while orders trade (scripts/bench.sh runs loadgen beside it), and against md_floor_server, a
 * trivial C-core server streaming fixed messages, for the floor.
 *
 * usage: md_fanout --target HOST:PORT [--streams N] [--channels C] [--seconds S]
 *                  [--warmup S] [--token T] [--instrument UID]... */
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/contract.h"
#include "util/clock.h"

#define MAX_CHANNELS 64
#define MAX_INSTRUMENTS 64
#define MAX_SAMPLES (4u << 20)

typedef struct md_tag {
    struct md_reader *reader;
    bool read; /* false: the call's start batch */
} md_tag;

typedef struct md_reader {
    grpc_call *call;
    grpc_metadata send_md[1];
    grpc_metadata_array recv_md, trailing_md;
    grpc_byte_buffer *request, *message;
    grpc_status_code status;
    grpc_slice details;
    md_tag start_tag, read_tag;
    bool open;
} md_reader;

static const char *target, *token = "t.demo.full";
static const char *instruments[MAX_INSTRUMENTS];
static int instrument_count, stream_count = 1000, channel_count = 8;
static double seconds = 10, warmup = 2;
static grpc_completion_queue *queue;
static int64_t *samples;
static uint32_t sample_count;
static uint64_t messages, trades, closed;

static void usage(void) {
    fprintf(stderr, "usage: md_fanout --target HOST:PORT [--streams N] [--channels C] "
                    "[--seconds S] [--warmup S] [--token T] [--instrument UID]...\n");
    exit(2);
}

static void parse(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--target") == 0)
            target = v;
        else if (strcmp(a, "--streams") == 0)
            stream_count = atoi(v);
        else if (strcmp(a, "--channels") == 0)
            channel_count = atoi(v);
        else if (strcmp(a, "--seconds") == 0)
            seconds = atof(v);
        else if (strcmp(a, "--warmup") == 0)
            warmup = atof(v);
        else if (strcmp(a, "--token") == 0)
            token = v;
        else if (strcmp(a, "--instrument") == 0 && instrument_count < MAX_INSTRUMENTS)
            instruments[instrument_count++] = v;
        else
            usage();
    }
    if (target == NULL || stream_count < 1 || channel_count < 1 || channel_count > MAX_CHANNELS)
        usage();
}

static grpc_byte_buffer *subscription_request(void) {
    PB(TradeInstrument) entries[MAX_INSTRUMENTS];
    PB(TradeInstrument) * list[MAX_INSTRUMENTS];
    for (int i = 0; i < instrument_count; i++) {
        entries[i] = (PB(TradeInstrument))PB_INIT(TRADE_INSTRUMENT);
        entries[i].instrument_id = (char *)instruments[i];
        list[i] = &entries[i];
    }
    PB(SubscribeTradesRequest) trades_request = PB_INIT(SUBSCRIBE_TRADES_REQUEST);
    trades_request.subscription_action =
        PB_ENUM(SUBSCRIPTION_ACTION__SUBSCRIPTION_ACTION_SUBSCRIBE);
    trades_request.instruments = list;
    trades_request.n_instruments = (size_t)instrument_count;
    PB(MarketDataServerSideStreamRequest) r = PB_INIT(MARKET_DATA_SERVER_SIDE_STREAM_REQUEST);
    r.subscribe_trades_request = &trades_request;
    size_t size = protobuf_c_message_get_packed_size(&r.base);
    grpc_slice slice = grpc_slice_malloc(size);
    protobuf_c_message_pack(&r.base, GRPC_SLICE_START_PTR(slice));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return bb;
}

static void read_next(md_reader *r) {
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &r->message;
    if (grpc_call_start_batch(r->call, &op, 1, &r->read_tag, NULL) != GRPC_CALL_OK)
        abort();
}

static void open_stream(md_reader *r, grpc_channel *channel, grpc_slice auth_value) {
    grpc_slice method = grpc_slice_from_static_string(
        "/tinkoff.public.invest.api.contract.v1.MarketDataStreamService/"
        "MarketDataServerSideStream");
    r->call = grpc_channel_create_call(channel, NULL, GRPC_PROPAGATE_DEFAULTS, queue, method, NULL,
                                       gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    r->send_md[0] =
        (grpc_metadata){.key = grpc_slice_from_static_string("authorization"), .value = auth_value};
    grpc_metadata_array_init(&r->recv_md);
    grpc_metadata_array_init(&r->trailing_md);
    r->details = grpc_empty_slice();
    r->request = subscription_request();
    r->start_tag = (md_tag){r, false};
    r->read_tag = (md_tag){r, true};
    grpc_op ops[5];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = r->send_md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = r->request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &r->recv_md;
    ops[4].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[4].data.recv_status_on_client.trailing_metadata = &r->trailing_md;
    ops[4].data.recv_status_on_client.status = &r->status;
    ops[4].data.recv_status_on_client.status_details = &r->details;
    if (grpc_call_start_batch(r->call, ops, 5, &r->start_tag, NULL) != GRPC_CALL_OK)
        abort();
    r->open = true;
    read_next(r);
}

/* Counts a message and, for a trade, the delay from its time to now. */
static void on_message(grpc_byte_buffer *message, bool measuring) {
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, message))
        return;
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    int64_t now = clock_realtime_ns();
    PB(MarketDataResponse) *r = (PB(MarketDataResponse) *)protobuf_c_message_unpack(
        &PB_DESC(market_data_response), NULL, GRPC_SLICE_LENGTH(bytes),
        GRPC_SLICE_START_PTR(bytes));
    grpc_slice_unref(bytes);
    if (r == NULL)
        return;
    if (measuring) {
        messages++;
        if (r->payload_case == PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_TRADE) && r->trade->time) {
            trades++;
            int64_t at = r->trade->time->seconds * 1000000000 + r->trade->time->nanos;
            if (sample_count < MAX_SAMPLES)
                samples[sample_count++] = now - at;
        }
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static int compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_us(double p) {
    if (sample_count == 0)
        return 0;
    uint32_t at = (uint32_t)(p * (sample_count - 1));
    return (double)samples[at] / 1000.0;
}

int main(int argc, char **argv) {
    parse(argc, argv);
    samples = calloc(MAX_SAMPLES, sizeof *samples);
    md_reader *readers = calloc((size_t)stream_count, sizeof *readers);
    if (samples == NULL || readers == NULL)
        return 1;
    grpc_init();
    queue = grpc_completion_queue_create_for_next(NULL);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *channels[MAX_CHANNELS];
    for (int i = 0; i < channel_count; i++) {
        grpc_arg arg = {.type = GRPC_ARG_INTEGER,
                        .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
                        .value.integer = 1};
        grpc_channel_args args = {.num_args = 1, .args = &arg};
        channels[i] = grpc_channel_create(target, creds, &args);
    }
    grpc_channel_credentials_release(creds);
    char bearer[256];
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    grpc_slice auth_value = grpc_slice_from_copied_string(bearer);
    for (int i = 0; i < stream_count; i++)
        open_stream(&readers[i], channels[i % channel_count], auth_value);
    int64_t started = clock_monotonic_ns();
    int64_t measure_from = started + (int64_t)(warmup * 1e9);
    int64_t until = measure_from + (int64_t)(seconds * 1e9);
    while (clock_monotonic_ns() < until) {
        grpc_event ev = grpc_completion_queue_next(
            queue,
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(50, GPR_TIMESPAN)),
            NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        md_tag *tag = ev.tag;
        md_reader *r = tag->reader;
        if (!tag->read) {
            r->open = false; /* the status came: the stream is over */
            closed++;
            continue;
        }
        if (!ev.success || r->message == NULL)
            continue;
        on_message(r->message, clock_monotonic_ns() >= measure_from);
        grpc_byte_buffer_destroy(r->message);
        r->message = NULL;
        read_next(r);
    }
    qsort(samples, sample_count, sizeof *samples, compare);
    printf("{\"streams\": %d, \"closed\": %llu, \"seconds\": %.1f, \"messages_per_s\": %.0f, "
           "\"trades_per_s\": %.0f, \"delay\": {\"p50_us\": %.0f, \"p99_us\": %.0f}}\n",
           stream_count, (unsigned long long)closed, seconds, (double)messages / seconds,
           (double)trades / seconds, percentile_us(0.50), percentile_us(0.99));
    fflush(stdout);
    /* The process ends here: the calls and channels go with it. */
    _exit(0);
}
