#include "http/grpc_relay.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>

#include "util/log.h"

/* The operations a call may have under way, each at most once at a time: its tag names it. */
typedef enum relay_op {
    RELAY_OP_START,  /* send and receive the initial metadata */
    RELAY_OP_RECV,   /* receive one message */
    RELAY_OP_SEND,   /* send one message, or close the sending side */
    RELAY_OP_STATUS, /* receive the status */
    RELAY_OP_COUNT
} relay_op;

typedef struct relay_tag {
    grpc_relay_call *call;
    relay_op op;
} relay_tag;

typedef struct relay_event_node {
    struct relay_event_node *next;
    grpc_relay_event event;
} relay_event_node;

struct grpc_relay {
    grpc_channel *channel;
    grpc_completion_queue *queue;
    pthread_t thread;
    void (*wake)(void *ctx);
    void *wake_ctx;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    size_t operations; /* operations under way, every call together */
    bool stopping;
    grpc_relay_call *ready_head, *ready_tail; /* calls with events, for the HTTP thread */
    grpc_relay_call *calls;                   /* every call not yet freed */
};

/* Every field below `relay` is guarded by the relay's lock once the call has started. */
struct grpc_relay_call {
    grpc_relay *relay;
    grpc_call *call;
    grpc_relay_ready_fn ready;
    void *owner;
    relay_tag tags[RELAY_OP_COUNT];
    grpc_relay_call *prev, *next; /* the relay's list of calls */
    grpc_relay_call *ready_next;  /* the relay's ready list */
    bool queued_ready;            /* on the ready list */
    bool released;                /* the HTTP thread is done with it */
    size_t operations;            /* its operations under way */
    relay_event_node *events_head, *events_tail;
    size_t pending_messages;    /* MESSAGE events not yet taken */
    bool started;               /* the initial metadata came */
    bool receiving, reads_done; /* a read is under way; the server sent its last message */
    bool status_received, status_queued;
    bool sending, close_wanted, close_sent;
    grpc_byte_buffer *outbox[GRPC_RELAY_MAX_PENDING]; /* messages waiting to be sent (a ring) */
    size_t outbox_first, outbox_count;
    /* The buffers of the operations under way. */
    grpc_metadata *request_headers;
    size_t request_header_count;
    grpc_metadata_array initial_metadata, trailing_metadata;
    grpc_byte_buffer *received, *sent;
    grpc_status_code status;
    grpc_slice status_details;
};

static char *copy_slice(grpc_slice slice, size_t *len) {
    size_t n = GRPC_SLICE_LENGTH(slice);
    char *text = malloc(n + 1);
    if (text == NULL)
        return NULL;
    memcpy(text, GRPC_SLICE_START_PTR(slice), n);
    text[n] = '\0';
    if (len != NULL)
        *len = n;
    return text;
}

static void headers_free(grpc_relay_headers *headers) {
    for (size_t i = 0; i < headers->count; i++) {
        free(headers->items[i].key);
        free(headers->items[i].value);
    }
    free(headers->items);
    headers->items = NULL;
    headers->count = 0;
}

/* A copy of `array`; a header that memory cannot hold is left out (and logged). */
static grpc_relay_headers headers_copy(const grpc_metadata_array *array) {
    grpc_relay_headers headers = {0};
    if (array->count == 0)
        return headers;
    headers.items = calloc(array->count, sizeof *headers.items);
    if (headers.items == NULL) {
        log_warn("grpc relay: out of memory for %zu headers", array->count);
        return headers;
    }
    for (size_t i = 0; i < array->count; i++) {
        grpc_relay_header *h = &headers.items[headers.count];
        h->key = copy_slice(array->metadata[i].key, NULL);
        h->value = copy_slice(array->metadata[i].value, &h->value_len);
        if (h->key == NULL || h->value == NULL) {
            free(h->key);
            free(h->value);
            log_warn("grpc relay: out of memory for a header");
            continue;
        }
        headers.count++;
    }
    return headers;
}

void grpc_relay_event_clear(grpc_relay_event *event) {
    headers_free(&event->headers);
    free(event->bytes);
    free(event->status_detail);
    memset(event, 0, sizeof *event);
}

const grpc_relay_header *grpc_relay_header_find(const grpc_relay_headers *headers,
                                                const char *key) {
    for (size_t i = 0; i < headers->count; i++)
        if (strcmp(headers->items[i].key, key) == 0)
            return &headers->items[i];
    return NULL;
}

/* Appends an event to the call (under the lock). False when memory runs out. */
static bool push_event(grpc_relay_call *c, const grpc_relay_event *event) {
    relay_event_node *node = malloc(sizeof *node);
    if (node == NULL)
        return false;
    node->next = NULL;
    node->event = *event;
    if (c->events_tail != NULL)
        c->events_tail->next = node;
    else
        c->events_head = node;
    c->events_tail = node;
    if (event->kind == GRPC_RELAY_MESSAGE)
        c->pending_messages++;
    return true;
}

/* Starts one batch of `count` operations tagged `op` (under the lock). */
static bool start_batch(grpc_relay_call *c, const grpc_op *ops, size_t count, relay_op op) {
    grpc_call_error rc = grpc_call_start_batch(c->call, ops, count, &c->tags[op], NULL);
    if (rc != GRPC_CALL_OK) {
        log_warn("grpc relay: batch %d not started (%d)", (int)op, (int)rc);
        return false;
    }
    c->operations++;
    c->relay->operations++;
    return true;
}

static void start_read(grpc_relay_call *c) {
    if (!c->started || c->receiving || c->reads_done || c->released ||
        c->pending_messages >= GRPC_RELAY_MAX_PENDING)
        return;
    grpc_op op = {.op = GRPC_OP_RECV_MESSAGE};
    op.data.recv_message.recv_message = &c->received;
    if (start_batch(c, &op, 1, RELAY_OP_RECV))
        c->receiving = true;
    else
        c->reads_done = true;
}

/* Sends the next queued message, or the close once none is left (under the lock). */
static void start_send(grpc_relay_call *c) {
    if (c->sending || c->status_received)
        return;
    grpc_op op = {0};
    if (c->outbox_count > 0) {
        c->sent = c->outbox[c->outbox_first];
        c->outbox_first = (c->outbox_first + 1) % GRPC_RELAY_MAX_PENDING;
        c->outbox_count--;
        op.op = GRPC_OP_SEND_MESSAGE;
        op.data.send_message.send_message = c->sent;
    } else if (c->close_wanted && !c->close_sent) {
        op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        c->close_sent = true;
    } else {
        return;
    }
    if (start_batch(c, &op, 1, RELAY_OP_SEND))
        c->sending = true;
}

/* The status is the last event: it is queued once the server's messages have all been read. */
static void queue_status(grpc_relay_call *c) {
    if (!c->status_received || c->status_queued || c->receiving || (c->started && !c->reads_done))
        return;
    grpc_relay_event event = {.kind = GRPC_RELAY_STATUS, .status = (int)c->status};
    event.headers = headers_copy(&c->trailing_metadata);
    event.status_detail = copy_slice(c->status_details, NULL);
    if (event.status_detail == NULL || !push_event(c, &event)) {
        grpc_relay_event_clear(&event);
        log_warn("grpc relay: out of memory for a call's status");
        return;
    }
    c->status_queued = true;
}

static void drop_outbox(grpc_relay_call *c) {
    while (c->outbox_count > 0) {
        grpc_byte_buffer_destroy(c->outbox[c->outbox_first]);
        c->outbox_first = (c->outbox_first + 1) % GRPC_RELAY_MAX_PENDING;
        c->outbox_count--;
    }
}

static void call_free(grpc_relay_call *c) {
    grpc_relay *r = c->relay;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        r->calls = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    relay_event_node *node = c->events_head;
    while (node != NULL) {
        relay_event_node *next = node->next;
        grpc_relay_event_clear(&node->event);
        free(node);
        node = next;
    }
    drop_outbox(c);
    if (c->call != NULL)
        grpc_call_unref(c->call);
    for (size_t i = 0; i < c->request_header_count; i++) {
        grpc_slice_unref(c->request_headers[i].key);
        grpc_slice_unref(c->request_headers[i].value);
    }
    free(c->request_headers);
    grpc_metadata_array_destroy(&c->initial_metadata);
    grpc_metadata_array_destroy(&c->trailing_metadata);
    if (c->received != NULL)
        grpc_byte_buffer_destroy(c->received);
    if (c->sent != NULL)
        grpc_byte_buffer_destroy(c->sent);
    grpc_slice_unref(c->status_details);
    free(c);
}

/* One completed operation (the relay's thread, under the lock). */
static void complete(grpc_relay_call *c, relay_op op, bool ok) {
    switch (op) {
    case RELAY_OP_START:
        if (ok) {
            grpc_relay_event event = {.kind = GRPC_RELAY_HEADERS};
            event.headers = headers_copy(&c->initial_metadata);
            if (!push_event(c, &event))
                grpc_relay_event_clear(&event);
            c->started = true;
            start_read(c);
        } else {
            c->reads_done = true;
        }
        break;
    case RELAY_OP_RECV:
        c->receiving = false;
        if (ok && c->received != NULL) {
            grpc_byte_buffer_reader reader;
            grpc_relay_event event = {.kind = GRPC_RELAY_MESSAGE};
            if (grpc_byte_buffer_reader_init(&reader, c->received)) {
                grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
                grpc_byte_buffer_reader_destroy(&reader);
                event.bytes = (uint8_t *)copy_slice(all, &event.len);
                grpc_slice_unref(all);
            }
            grpc_byte_buffer_destroy(c->received);
            c->received = NULL;
            if (event.bytes == NULL || !push_event(c, &event)) {
                /* A message lost here would break the stream's sequence: end the call. */
                grpc_relay_event_clear(&event);
                log_warn("grpc relay: out of memory for a message; the call is cancelled");
                grpc_call_cancel(c->call, NULL);
                c->reads_done = true;
            } else {
                start_read(c);
            }
        } else {
            c->reads_done = true;
        }
        break;
    case RELAY_OP_SEND:
        c->sending = false;
        if (c->sent != NULL)
            grpc_byte_buffer_destroy(c->sent);
        c->sent = NULL;
        if (ok)
            start_send(c);
        else
            drop_outbox(c);
        break;
    case RELAY_OP_STATUS:
        c->status_received = true;
        drop_outbox(c);
        break;
    case RELAY_OP_COUNT:
        assert(false);
        break;
    }
    queue_status(c);
}

static void *relay_thread(void *arg) {
    grpc_relay *r = arg;
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(r->queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        relay_tag *tag = ev.tag;
        grpc_relay_call *c = tag->call;
        pthread_mutex_lock(&r->lock);
        complete(c, tag->op, ev.success != 0);
        c->operations--;
        r->operations--;
        bool wake = false;
        if (c->released) {
            if (c->operations == 0 && !c->queued_ready)
                call_free(c);
        } else if (c->events_head != NULL && !c->queued_ready) {
            c->queued_ready = true;
            c->ready_next = NULL;
            if (r->ready_tail != NULL)
                r->ready_tail->ready_next = c;
            else
                r->ready_head = c;
            r->ready_tail = c;
            wake = !r->stopping;
        }
        if (r->operations == 0)
            pthread_cond_broadcast(&r->idle);
        pthread_mutex_unlock(&r->lock);
        if (wake)
            r->wake(r->wake_ctx);
    }
    return NULL;
}

grpc_channel *grpc_relay_internal_channel(const char *target) {
    /* Answers are the server's own, already bounded by what it sends: no limit on receipt. */
    grpc_arg arg = {.type = GRPC_ARG_INTEGER,
                    .key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                    .value.integer = -1};
    grpc_channel_args args = {.num_args = 1, .args = &arg};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *channel = grpc_channel_create(target, creds, &args);
    grpc_channel_credentials_release(creds);
    return channel;
}

grpc_relay *grpc_relay_create(const char *target, void (*wake)(void *ctx), void *wake_ctx) {
    grpc_relay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->wake = wake;
    r->wake_ctx = wake_ctx;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->idle, NULL);
    r->channel = grpc_relay_internal_channel(target);
    r->queue = grpc_completion_queue_create_for_next(NULL);
    if (pthread_create(&r->thread, NULL, relay_thread, r) != 0) {
        grpc_completion_queue_shutdown(r->queue);
        grpc_completion_queue_destroy(r->queue);
        grpc_channel_destroy(r->channel);
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->idle);
        free(r);
        return NULL;
    }
    return r;
}

static bool copy_request_headers(grpc_relay_call *c, const grpc_relay_header *headers,
                                 size_t count) {
    if (count == 0)
        return true;
    c->request_headers = calloc(count, sizeof *c->request_headers);
    if (c->request_headers == NULL)
        return false;
    for (size_t i = 0; i < count; i++) {
        c->request_headers[i].key = grpc_slice_from_copied_string(headers[i].key);
        c->request_headers[i].value =
            grpc_slice_from_copied_buffer(headers[i].value, headers[i].value_len);
    }
    c->request_header_count = count;
    return true;
}

grpc_relay_call *grpc_relay_start(grpc_relay *relay, const char *path,
                                  const grpc_relay_header *headers, size_t count,
                                  int64_t timeout_ms, grpc_relay_ready_fn ready, void *owner) {
    grpc_relay_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->relay = relay;
    c->ready = ready;
    c->owner = owner;
    for (int i = 0; i < RELAY_OP_COUNT; i++)
        c->tags[i] = (relay_tag){.call = c, .op = (relay_op)i};
    c->status_details = grpc_empty_slice();
    grpc_metadata_array_init(&c->initial_metadata);
    grpc_metadata_array_init(&c->trailing_metadata);
    pthread_mutex_lock(&relay->lock);
    c->next = relay->calls;
    if (c->next != NULL)
        c->next->prev = c;
    relay->calls = c;
    if (!copy_request_headers(c, headers, count)) {
        call_free(c);
        pthread_mutex_unlock(&relay->lock);
        return NULL;
    }
    gpr_timespec deadline = timeout_ms > 0
                                ? gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                               gpr_time_from_millis(timeout_ms, GPR_TIMESPAN))
                                : gpr_inf_future(GPR_CLOCK_REALTIME);
    grpc_slice method = grpc_slice_from_copied_string(path);
    c->call = grpc_channel_create_call(relay->channel, NULL, GRPC_PROPAGATE_DEFAULTS, relay->queue,
                                       method, NULL, deadline, NULL);
    grpc_slice_unref(method);
    grpc_op start[2];
    memset(start, 0, sizeof start);
    start[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    start[0].data.send_initial_metadata.count = c->request_header_count;
    start[0].data.send_initial_metadata.metadata = c->request_headers;
    start[1].op = GRPC_OP_RECV_INITIAL_METADATA;
    start[1].data.recv_initial_metadata.recv_initial_metadata = &c->initial_metadata;
    grpc_op status = {.op = GRPC_OP_RECV_STATUS_ON_CLIENT};
    status.data.recv_status_on_client.trailing_metadata = &c->trailing_metadata;
    status.data.recv_status_on_client.status = &c->status;
    status.data.recv_status_on_client.status_details = &c->status_details;
    bool started = relay->stopping == false && start_batch(c, start, 2, RELAY_OP_START);
    if (started && !start_batch(c, &status, 1, RELAY_OP_STATUS)) {
        /* The start is under way: the call is freed once it completes. */
        grpc_call_cancel(c->call, NULL);
        c->released = true;
        pthread_mutex_unlock(&relay->lock);
        return NULL;
    }
    if (!started) {
        call_free(c);
        pthread_mutex_unlock(&relay->lock);
        return NULL;
    }
    pthread_mutex_unlock(&relay->lock);
    return c;
}

int grpc_relay_send(grpc_relay_call *c, const void *bytes, size_t len) {
    grpc_relay *r = c->relay;
    pthread_mutex_lock(&r->lock);
    int rc = -1;
    if (c->status_received && !c->close_wanted) {
        /* The server has ended the call (it may refuse a call before its first message is
         * sent: a bad token): the message is dropped and the status event says why. */
        rc = 0;
    } else if (!c->close_wanted && c->outbox_count < GRPC_RELAY_MAX_PENDING) {
        grpc_slice slice = grpc_slice_from_copied_buffer(bytes, len);
        grpc_byte_buffer *buffer = grpc_raw_byte_buffer_create(&slice, 1);
        grpc_slice_unref(slice);
        if (buffer != NULL) {
            size_t at = (c->outbox_first + c->outbox_count) % GRPC_RELAY_MAX_PENDING;
            c->outbox[at] = buffer;
            c->outbox_count++;
            start_send(c);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void grpc_relay_close_send(grpc_relay_call *c) {
    grpc_relay *r = c->relay;
    pthread_mutex_lock(&r->lock);
    c->close_wanted = true;
    start_send(c);
    pthread_mutex_unlock(&r->lock);
}

bool grpc_relay_next(grpc_relay_call *c, grpc_relay_event *event) {
    grpc_relay *r = c->relay;
    pthread_mutex_lock(&r->lock);
    relay_event_node *node = c->events_head;
    if (node != NULL) {
        c->events_head = node->next;
        if (c->events_head == NULL)
            c->events_tail = NULL;
        *event = node->event;
        free(node);
        if (event->kind == GRPC_RELAY_MESSAGE) {
            c->pending_messages--;
            start_read(c);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return node != NULL;
}

size_t grpc_relay_pending_messages(grpc_relay_call *c) {
    pthread_mutex_lock(&c->relay->lock);
    size_t n = c->pending_messages;
    pthread_mutex_unlock(&c->relay->lock);
    return n;
}

void grpc_relay_release(grpc_relay_call *c) {
    if (c == NULL)
        return;
    grpc_relay *r = c->relay;
    pthread_mutex_lock(&r->lock);
    assert(!c->released);
    c->released = true;
    if (!c->status_received && c->call != NULL)
        grpc_call_cancel(c->call, NULL);
    if (c->operations == 0 && !c->queued_ready)
        call_free(c);
    pthread_mutex_unlock(&r->lock);
}

void grpc_relay_dispatch(grpc_relay *r) {
    pthread_mutex_lock(&r->lock);
    grpc_relay_call *c = r->ready_head;
    r->ready_head = r->ready_tail = NULL;
    pthread_mutex_unlock(&r->lock);
    while (c != NULL) {
        pthread_mutex_lock(&r->lock);
        grpc_relay_call *next = c->ready_next;
        c->queued_ready = false;
        bool released = c->released;
        if (released && c->operations == 0)
            call_free(c);
        pthread_mutex_unlock(&r->lock);
        /* Only the HTTP thread releases a call, so one not released stays alive here. */
        if (!released)
            c->ready(c, c->owner);
        c = next;
    }
}

void grpc_relay_destroy(grpc_relay *r) {
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    for (grpc_relay_call *c = r->calls; c != NULL; c = c->next)
        if (c->call != NULL && !c->status_received)
            grpc_call_cancel(c->call, NULL);
    while (r->operations > 0)
        pthread_cond_wait(&r->idle, &r->lock);
    pthread_mutex_unlock(&r->lock);
    grpc_completion_queue_shutdown(r->queue);
    pthread_join(r->thread, NULL);
    grpc_completion_queue_destroy(r->queue);
    while (r->calls != NULL)
        call_free(r->calls);
    grpc_channel_destroy(r->channel);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->idle);
    free(r);
}
