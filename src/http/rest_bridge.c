#include "http/rest_bridge.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <jansson.h>

#include "http/grpc_relay.h"
#include "jsonpb/jsonpb.h"
#include "util/log.h"
#include "util/uuid.h"

/* How long a REST call may wait for the gRPC server before the proxy answers 504 (as the real
 * proxy's gateway timeout). PostOrder waits for the exchange, which answers within its configured
 * latency, far below this. */
#define REST_CALL_DEADLINE_S 60

struct rest_bridge {
    grpc_channel *channel;
    grpc_completion_queue *queue;
    pthread_t thread;
    void (*wake)(void *ctx);
    void *wake_ctx;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    rest_exchange *done_head, *done_tail; /* finished, not yet taken */
    size_t running;                       /* calls started and not finished */
    bool stopping;
};

int rest_answer_error(rest_answer *answer, int grpc_status, const char *message,
                      const char *description) {
    /* The real proxy's error body: google.rpc.Status as grpc-gateway writes it (code, message,
     * details), and the T-Invest code in `description`. */
    json_t *body =
        json_pack("{s:i, s:s, s:s, s:[]}", "code", grpc_status, "message", message ? message : "",
                  "description", description ? description : "", "details");
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL)
        return -1;
    free(answer->body);
    answer->body = text;
    answer->body_len = strlen(text);
    answer->http_status = rest_http_status(grpc_status);
    if (answer->tracking_id[0] == '\0') {
        char id[UUID_TEXT_SIZE];
        uuid_generate_v4(id);
        snprintf(answer->tracking_id, sizeof answer->tracking_id, "%s", id);
    }
    return 0;
}

/* Copies a metadata value named `key` from either array into `out` (`out` is left as it is when
 * there is none). */
static void copy_metadata(const rest_exchange *x, const char *key, char *out, size_t size) {
    const grpc_metadata_array *arrays[] = {&x->initial_metadata, &x->trailing_metadata};
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; i < arrays[a]->count; i++) {
            const grpc_metadata *m = &arrays[a]->metadata[i];
            if (grpc_slice_str_cmp(m->key, key) != 0)
                continue;
            size_t len = GRPC_SLICE_LENGTH(m->value);
            if (len >= size)
                len = size - 1;
            memcpy(out, GRPC_SLICE_START_PTR(m->value), len);
            out[len] = '\0';
            return;
        }
}

/* The reply message as JSON, or -1 (the answer is then INTERNAL). */
static int answer_reply(rest_exchange *x) {
    grpc_byte_buffer_reader reader;
    if (x->reply == NULL || !grpc_byte_buffer_reader_init(&reader, x->reply))
        return -1;
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    ProtobufCMessage *reply = protobuf_c_message_unpack(
        x->route->reply, NULL, GRPC_SLICE_LENGTH(bytes), GRPC_SLICE_START_PTR(bytes));
    grpc_slice_unref(bytes);
    if (reply == NULL)
        return -1;
    jsonpb_error err;
    size_t len = 0;
    char *text = jsonpb_encode(reply, 0, &len, &err);
    protobuf_c_message_free_unpacked(reply, NULL);
    if (text == NULL) {
        log_warn("rest: %s: reply not written as JSON: %s", x->route->grpc_path, err.text);
        return -1;
    }
    x->answer.http_status = 200;
    x->answer.body = text;
    x->answer.body_len = len;
    return 0;
}

/* Turns a completed call into its HTTP answer (the bridge's thread). */
static void make_answer(rest_exchange *x, bool ok) {
    rest_answer *a = &x->answer;
    copy_metadata(x, "x-tracking-id", a->tracking_id, sizeof a->tracking_id);
    copy_metadata(x, "x-ratelimit-limit", a->ratelimit_limit, sizeof a->ratelimit_limit);
    copy_metadata(x, "x-ratelimit-remaining", a->ratelimit_remaining,
                  sizeof a->ratelimit_remaining);
    copy_metadata(x, "x-ratelimit-reset", a->ratelimit_reset, sizeof a->ratelimit_reset);
    if (ok && x->status == GRPC_STATUS_OK && answer_reply(x) == 0)
        return;
    int status = ok && x->status != GRPC_STATUS_OK ? (int)x->status : GRPC_STATUS_INTERNAL;
    /* The T-Invest code is the status details ("30079"), the text the `message` trailer. */
    char code[64] = "", message[512] = "";
    size_t len = GRPC_SLICE_LENGTH(x->status_details);
    if (len >= sizeof code)
        len = sizeof code - 1;
    memcpy(code, GRPC_SLICE_START_PTR(x->status_details), len);
    copy_metadata(x, "message", message, sizeof message);
    if (ok && x->status == GRPC_STATUS_OK)
        snprintf(message, sizeof message, "the reply could not be written as JSON");
    else if (message[0] == '\0')
        snprintf(message, sizeof message, "%s", code[0] != '\0' ? code : "the call failed");
    if (rest_answer_error(a, status, message, code) != 0) {
        a->http_status = 500;
        a->body = NULL;
        a->body_len = 0;
    }
}

static void release_call(rest_exchange *x) {
    if (x->call != NULL)
        grpc_call_unref(x->call);
    x->call = NULL;
    if (x->request != NULL)
        grpc_byte_buffer_destroy(x->request);
    if (x->reply != NULL)
        grpc_byte_buffer_destroy(x->reply);
    x->request = x->reply = NULL;
    grpc_metadata_array_destroy(&x->initial_metadata);
    grpc_metadata_array_destroy(&x->trailing_metadata);
    grpc_metadata_array_init(&x->initial_metadata);
    grpc_metadata_array_init(&x->trailing_metadata);
    grpc_slice_unref(x->status_details);
    x->status_details = grpc_empty_slice();
}

static void *bridge_thread(void *arg) {
    rest_bridge *b = arg;
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(b->queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        rest_exchange *x = ev.tag;
        make_answer(x, ev.success != 0);
        pthread_mutex_lock(&b->lock);
        release_call(x);
        x->finished = true;
        if (b->done_tail != NULL)
            b->done_tail->next = x;
        else
            b->done_head = x;
        b->done_tail = x;
        b->running--;
        bool stopping = b->stopping;
        if (b->running == 0)
            pthread_cond_broadcast(&b->idle);
        pthread_mutex_unlock(&b->lock);
        if (!stopping)
            b->wake(b->wake_ctx);
    }
    return NULL;
}

rest_bridge *rest_bridge_create(const char *target, void (*wake)(void *ctx), void *wake_ctx) {
    rest_bridge *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->wake = wake;
    b->wake_ctx = wake_ctx;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->idle, NULL);
    b->channel = grpc_relay_internal_channel(target);
    b->queue = grpc_completion_queue_create_for_next(NULL);
    if (pthread_create(&b->thread, NULL, bridge_thread, b) != 0) {
        grpc_completion_queue_shutdown(b->queue);
        grpc_completion_queue_destroy(b->queue);
        grpc_channel_destroy(b->channel);
        free(b);
        return NULL;
    }
    return b;
}

rest_exchange *rest_bridge_start(rest_bridge *bridge, const rest_route *route,
                                 const ProtobufCMessage *request, const char *authorization,
                                 void *owner) {
    rest_exchange *x = calloc(1, sizeof *x);
    size_t size = protobuf_c_message_get_packed_size(request);
    uint8_t *bytes = malloc(size ? size : 1);
    if (x == NULL || bytes == NULL) {
        free(x);
        free(bytes);
        return NULL;
    }
    protobuf_c_message_pack(request, bytes);
    grpc_slice payload = grpc_slice_new(bytes, size, free);
    x->request = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);
    x->owner = owner;
    x->route = route;
    x->status_details = grpc_empty_slice();
    grpc_metadata_array_init(&x->initial_metadata);
    grpc_metadata_array_init(&x->trailing_metadata);
    size_t metadata_count = 0;
    if (authorization != NULL && authorization[0] != '\0') {
        x->authorization.key = grpc_slice_from_static_string("authorization");
        x->authorization.value = grpc_slice_from_copied_string(authorization);
        x->has_authorization = true;
        metadata_count = 1;
    }
    grpc_slice method = grpc_slice_from_static_string(route->grpc_path);
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_seconds(REST_CALL_DEADLINE_S, GPR_TIMESPAN));
    x->call = grpc_channel_create_call(bridge->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                       bridge->queue, method, NULL, deadline, NULL);
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = metadata_count;
    ops[0].data.send_initial_metadata.metadata = metadata_count ? &x->authorization : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = x->request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &x->initial_metadata;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &x->reply;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &x->trailing_metadata;
    ops[5].data.recv_status_on_client.status = &x->status;
    ops[5].data.recv_status_on_client.status_details = &x->status_details;
    pthread_mutex_lock(&bridge->lock);
    bridge->running++;
    grpc_call_error rc = grpc_call_start_batch(x->call, ops, 6, x, NULL);
    if (rc != GRPC_CALL_OK)
        bridge->running--;
    pthread_mutex_unlock(&bridge->lock);
    if (rc != GRPC_CALL_OK) {
        log_warn("rest: cannot start %s (%d)", route->grpc_path, (int)rc);
        release_call(x);
        rest_exchange_free(x);
        return NULL;
    }
    return x;
}

void rest_bridge_abandon(rest_bridge *bridge, rest_exchange *exchange) {
    pthread_mutex_lock(&bridge->lock);
    exchange->abandoned = true;
    if (!exchange->finished && exchange->call != NULL)
        grpc_call_cancel(exchange->call, NULL);
    pthread_mutex_unlock(&bridge->lock);
}

rest_exchange *rest_bridge_take(rest_bridge *bridge) {
    pthread_mutex_lock(&bridge->lock);
    rest_exchange *x = bridge->done_head;
    if (x != NULL) {
        bridge->done_head = x->next;
        if (bridge->done_head == NULL)
            bridge->done_tail = NULL;
        x->next = NULL;
    }
    pthread_mutex_unlock(&bridge->lock);
    return x;
}

void rest_exchange_free(rest_exchange *exchange) {
    if (exchange == NULL)
        return;
    if (exchange->has_authorization)
        grpc_slice_unref(exchange->authorization.value);
    grpc_metadata_array_destroy(&exchange->initial_metadata);
    grpc_metadata_array_destroy(&exchange->trailing_metadata);
    grpc_slice_unref(exchange->status_details);
    free(exchange->answer.body);
    free(exchange);
}

void rest_bridge_destroy(rest_bridge *bridge) {
    if (bridge == NULL)
        return;
    pthread_mutex_lock(&bridge->lock);
    bridge->stopping = true;
    while (bridge->running > 0)
        pthread_cond_wait(&bridge->idle, &bridge->lock);
    pthread_mutex_unlock(&bridge->lock);
    grpc_completion_queue_shutdown(bridge->queue);
    pthread_join(bridge->thread, NULL);
    grpc_completion_queue_destroy(bridge->queue);
    grpc_channel_destroy(bridge->channel);
    rest_exchange *x;
    while ((x = rest_bridge_take(bridge)) != NULL)
        rest_exchange_free(x);
    pthread_mutex_destroy(&bridge->lock);
    pthread_cond_destroy(&bridge->idle);
    free(bridge);
}
