#include "api/stream_call.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_metrics.h"
#include "util/clock.h"
#include "util/log.h"

static void register_ping(api_stream *stream);
static void unregister_ping(api_stream *stream);

/* Every stream from stream_new to stream_free (the backlog figures). Lock order: all_lock, then a
 * stream's lock; nothing takes all_lock while holding a stream's lock. */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static api_stream *all_head;
static uint64_t all_opened;

static void all_add(api_stream *stream) {
    pthread_mutex_lock(&all_lock);
    stream->number = ++all_opened;
    stream->all_next = all_head;
    if (all_head != NULL)
        all_head->all_prev = stream;
    all_head = stream;
    pthread_mutex_unlock(&all_lock);
}

static void all_remove(api_stream *stream) {
    pthread_mutex_lock(&all_lock);
    if (stream->all_prev != NULL)
        stream->all_prev->all_next = stream->all_next;
    else
        all_head = stream->all_next;
    if (stream->all_next != NULL)
        stream->all_next->all_prev = stream->all_prev;
    pthread_mutex_unlock(&all_lock);
}

/* Whether backlog `a` ranks before `b`: more queued, then the older stream. */
static bool ranks_before(const api_stream_backlog *a, const api_stream_backlog *b) {
    return a->queued != b->queued ? a->queued > b->queued : a->number < b->number;
}

size_t api_stream_slowest(api_stream_backlog *out, size_t max) {
    size_t n = 0;
    pthread_mutex_lock(&all_lock);
    for (api_stream *s = all_head; s != NULL && max > 0; s = s->all_next) {
        pthread_mutex_lock(&s->lock);
        api_stream_backlog b = {.method = s->call->method,
                                .number = s->number,
                                .queued = s->count,
                                .limit = s->capacity - 1};
        pthread_mutex_unlock(&s->lock);
        /* Insertion into the sorted top `max`. */
        size_t at = n;
        while (at > 0 && ranks_before(&b, &out[at - 1]))
            at--;
        if (at >= max)
            continue;
        size_t last = n < max ? n : max - 1;
        memmove(&out[at + 1], &out[at], (last - at) * sizeof *out);
        out[at] = b;
        if (n < max)
            n++;
    }
    pthread_mutex_unlock(&all_lock);
    return n;
}

static void stream_unref_locked(api_stream *stream, bool *free_it) {
    *free_it = --stream->refs == 0;
}

static void stream_free(api_stream *stream) {
    all_remove(stream);
    for (uint32_t i = 0; i < stream->count; i++)
        grpc_slice_unref(stream->queue[(stream->head + i) % stream->capacity]);
    for (size_t i = 0; i < stream->final_metadata_count; i++)
        grpc_slice_unref(stream->final_metadata[i].value);
    grpc_slice_unref(stream->initial_metadata[0].value);
    grpc_slice_unref(stream->final_details);
    if (stream->writing != NULL)
        grpc_byte_buffer_destroy(stream->writing);
    free(stream->queue);
    free(stream->tags);
    pthread_mutex_destroy(&stream->lock);
    api_metrics_stream_closed(stream->call); /* metrics: open streams */
    api_call_destroy(stream->call);
    free(stream);
}

static void unref(api_stream *stream) {
    pthread_mutex_lock(&stream->lock);
    bool free_it;
    stream_unref_locked(stream, &free_it);
    pthread_mutex_unlock(&stream->lock);
    if (free_it)
        stream_free(stream);
}

/* Starts the status batch; the lock is held. */
static void start_status_locked(api_stream *stream) {
    stream->status_started = true;
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (!stream->initial_metadata_sent) {
        /* A stream that ends before its first message (a bidirectional stream's first request
         * refused): the status goes trailers-only, with the trailers carrying the tracking id. */
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        stream->initial_metadata_sent = true;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = stream->final_status;
    ops[n].data.send_status_from_server.status_details = &stream->final_details;
    ops[n].data.send_status_from_server.trailing_metadata_count = stream->final_metadata_count;
    ops[n].data.send_status_from_server.trailing_metadata = stream->final_metadata;
    n++;
    if (grpc_call_start_batch(stream->call->call, ops, n, &stream->status_tag, NULL) !=
        GRPC_CALL_OK)
        abort();
}

/* Starts the next write, or the status once the queue is drained; the lock is held. */
static void pump_locked(api_stream *stream) {
    if (stream->write_in_flight || stream->status_started || stream->call_over)
        return;
    if (stream->count > 0 && !(stream->finishing && stream->close_received)) {
        grpc_slice message = stream->queue[stream->head];
        stream->head = (stream->head + 1) % stream->capacity;
        stream->count--;
        stream->writing = grpc_raw_byte_buffer_create(&message, 1);
        grpc_slice_unref(message);
        grpc_op ops[2];
        memset(ops, 0, sizeof ops);
        size_t n = 0;
        if (!stream->initial_metadata_sent) {
            ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
            ops[n].data.send_initial_metadata.count = 1;
            ops[n].data.send_initial_metadata.metadata = stream->initial_metadata;
            n++;
            stream->initial_metadata_sent = true;
        }
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = stream->writing;
        /* More messages are queued behind this one: let the transport hold it and send them
         * together. The last queued message goes without the hint, which flushes them all, so
         * nothing (a ping included) waits for a message that may never come. */
        if (stream->count > 0)
            ops[n].flags = GRPC_WRITE_BUFFER_HINT;
        n++;
        stream->write_in_flight = true;
        if (grpc_call_start_batch(stream->call->call, ops, n, &stream->write_tag, NULL) !=
            GRPC_CALL_OK)
            abort();
        return;
    }
    if (stream->finishing)
        start_status_locked(stream);
}

static void notify_closed(api_stream *stream) {
    bool notify = false;
    pthread_mutex_lock(&stream->lock);
    if (stream->held) {
        /* The owner is still setting the stream up (api_stream_ready): it hears of the close
         * once it is done, not while it may still be using what its callback frees. */
        stream->close_deferred = true;
    } else if (!stream->closed_notified) {
        stream->closed_notified = true;
        notify = true;
    }
    pthread_mutex_unlock(&stream->lock);
    if (notify) {
        unregister_ping(stream);
        if (stream->on_closed != NULL)
            stream->on_closed(stream);
    }
}

/* Whether the stream ends here without a status batch, because the call is over for gRPC: a
 * write failed (the client went away, or the server cancelled every call at stop) or the close
 * arrived before any status (only a cancelled call closes first). Nothing may be started on such
 * a call: once grpc_server_cancel_all_calls has run, the server's shutdown can complete and its
 * completion queue be shut down while this call's last completions are still being handled, and
 * a batch started then aborts the process (grpc_cq_begin_op). So what is queued is dropped and the
 * caller returns the status batch's reference itself. Waits for a write in flight: its completion
 * settles the stream. The lock is held. */
static bool settle_without_status_locked(api_stream *stream) {
    if (!stream->call_over || stream->write_in_flight || stream->status_started)
        return false;
    while (stream->count > 0) {
        grpc_slice_unref(stream->queue[stream->head]);
        stream->head = (stream->head + 1) % stream->capacity;
        stream->count--;
    }
    stream->status_started = true; /* settled: no status batch will be started */
    return true;
}

static void on_write_done(api_tag *tag, bool ok) {
    api_stream *stream = (api_stream *)((char *)tag - offsetof(api_stream, write_tag));
    pthread_mutex_lock(&stream->lock);
    stream->write_in_flight = false;
    grpc_byte_buffer_destroy(stream->writing);
    stream->writing = NULL;
    if (!ok) {
        /* The call is over; what is queued can never be delivered. A stream already ending (cut
         * off as too slow, or ended for the stop) keeps the status it chose. */
        stream->call_over = true;
        if (!stream->finishing) {
            stream->finishing = true;
            stream->final_status = GRPC_STATUS_CANCELLED;
        }
    }
    bool settled = settle_without_status_locked(stream);
    if (!settled)
        pump_locked(stream);
    pthread_mutex_unlock(&stream->lock);
    if (settled) {
        notify_closed(stream);
        unref(stream); /* the status batch's reference: there is none */
    }
}

static void on_status_done(api_tag *tag, bool ok) {
    api_stream *stream = (api_stream *)((char *)tag - offsetof(api_stream, status_tag));
    notify_closed(stream);
    unref(stream);
}

static void on_close(api_tag *tag, bool ok) {
    api_stream *stream = (api_stream *)((char *)tag - offsetof(api_stream, close_tag));
    pthread_mutex_lock(&stream->lock);
    stream->close_received = true;
    if (!stream->status_started)
        stream->call_over = true;
    if (!stream->finishing) {
        stream->finishing = true;
        stream->final_status = GRPC_STATUS_CANCELLED;
    }
    bool settled = settle_without_status_locked(stream);
    if (!settled)
        pump_locked(stream);
    pthread_mutex_unlock(&stream->lock);
    notify_closed(stream);
    if (settled)
        unref(stream); /* the status batch's reference: there is none */
    unref(stream);
}

static void set_final(api_stream *stream, grpc_status_code status, int code, const char *message) {
    stream->final_status = status;
    grpc_slice_unref(stream->final_details);
    for (size_t i = 0; i < stream->final_metadata_count; i++)
        grpc_slice_unref(stream->final_metadata[i].value);
    stream->final_metadata_count = 0;
    memset(stream->final_metadata, 0, sizeof stream->final_metadata);
    size_t n = 0;
    if (status == GRPC_STATUS_OK) {
        stream->final_details = grpc_empty_slice(); /* a normal end: no code, no message */
    } else {
        char details[16];
        snprintf(details, sizeof details, "%d", code);
        stream->final_details = grpc_slice_from_copied_string(details);
        stream->final_metadata[n].key = grpc_slice_from_static_string("message");
        stream->final_metadata[n].value = grpc_slice_from_copied_string(message);
        n++;
    }
    stream->final_metadata[n].key = grpc_slice_from_static_string("x-tracking-id");
    stream->final_metadata[n].value = grpc_slice_from_copied_string(stream->call->tracking_id);
    stream->final_metadata_count = n + 1;
}

static api_stream *stream_new(api_call *call, uint32_t capacity, int64_t ping_interval_ns,
                              api_stream_ping_fn make_ping, api_stream_closed_fn on_closed,
                              void *owner) {
    api_stream *stream = calloc(1, sizeof *stream);
    if (stream == NULL)
        abort();
    stream->queue = calloc(capacity + 1, sizeof *stream->queue);
    stream->tags = calloc(capacity + 1, sizeof *stream->tags);
    if (stream->queue == NULL || stream->tags == NULL)
        abort();
    call->answered = true;
    stream->call = call;
    api_metrics_stream_opened(call); /* metrics: open streams */
    stream->capacity = capacity + 1; /* room for the subscription response */
    pthread_mutex_init(&stream->lock, NULL);
    /* References: the close watcher, the status batch, and the owner; and the ping registry's,
     * taken here, before the close watch starts: a client that cancels at once can close and
     * release the stream on the completion-queue thread before register_ping runs. */
    stream->refs = make_ping != NULL ? 4 : 3;
    stream->write_tag.on_complete = on_write_done;
    stream->close_tag.on_complete = on_close;
    stream->status_tag.on_complete = on_status_done;
    stream->final_details = grpc_empty_slice();
    stream->initial_metadata[0].key = grpc_slice_from_static_string("x-tracking-id");
    stream->initial_metadata[0].value = grpc_slice_from_copied_string(call->tracking_id);
    uuid_generate_v4(stream->stream_id);
    stream->ping_interval_ns = ping_interval_ns;
    stream->next_ping_ns = clock_monotonic_ns() + ping_interval_ns;
    stream->make_ping = make_ping;
    stream->on_closed = on_closed;
    stream->owner = owner;
    stream->held = true; /* until the owner's api_stream_ready */
    all_add(stream);

    grpc_op close_op;
    memset(&close_op, 0, sizeof close_op);
    close_op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    close_op.data.recv_close_on_server.cancelled = &stream->client_cancelled;
    if (grpc_call_start_batch(call->call, &close_op, 1, &stream->close_tag, NULL) != GRPC_CALL_OK)
        abort();
    return stream;
}

api_stream *api_stream_open(api_call *call, uint32_t capacity, grpc_slice first,
                            int64_t ping_interval_ns, api_stream_ping_fn make_ping,
                            api_stream_closed_fn on_closed, void *owner) {
    api_stream *stream = stream_new(call, capacity, ping_interval_ns, make_ping, on_closed, owner);
    pthread_mutex_lock(&stream->lock);
    stream->queue[0] = grpc_slice_ref(first);
    stream->count = 1;
    pump_locked(stream);
    pthread_mutex_unlock(&stream->lock);
    if (make_ping != NULL)
        register_ping(stream);
    return stream;
}

api_stream *api_stream_start(api_call *call, uint32_t capacity, int64_t ping_interval_ns,
                             api_stream_ping_fn make_ping, api_stream_closed_fn on_closed,
                             void *owner) {
    api_stream *stream = stream_new(call, capacity, ping_interval_ns, make_ping, on_closed, owner);
    if (make_ping != NULL)
        register_ping(stream);
    return stream;
}

/* Whether queue slot `at` holds a message that waits (not sent, not in flight). */
static bool waiting_locked(const api_stream *stream, uint32_t at) {
    return at < stream->capacity &&
           (at + stream->capacity - stream->head) % stream->capacity < stream->count;
}

static bool write_locked(api_stream *stream, grpc_slice message, uint64_t tag,
                         uint32_t *queued_at) {
    bool queued = false;
    if (!stream->finishing) {
        if (stream->count + 1 >= stream->capacity) {
            char text[160];
            snprintf(text, sizeof text,
                     "Stream closed: the client reads too slowly (more than %u messages waiting)",
                     stream->capacity - 1);
            set_final(stream, GRPC_STATUS_RESOURCE_EXHAUSTED, 80002, text);
            stream->finishing = true;
            log_warn("stream %s: slow consumer cut off", stream->stream_id);
        } else {
            uint32_t at = (stream->head + stream->count) % stream->capacity;
            stream->queue[at] = grpc_slice_ref(message);
            stream->tags[at] = tag;
            if (queued_at != NULL)
                *queued_at = at;
            stream->count++;
            queued = true;
        }
        pump_locked(stream);
    }
    return queued;
}

bool api_stream_write(api_stream *stream, grpc_slice message) {
    pthread_mutex_lock(&stream->lock);
    bool queued = write_locked(stream, message, 0, NULL);
    pthread_mutex_unlock(&stream->lock);
    return queued;
}

bool api_stream_write_conflated(api_stream *stream, grpc_slice message, uint64_t tag,
                                uint32_t *queued_at) {
    assert(tag != 0);
    pthread_mutex_lock(&stream->lock);
    bool queued;
    uint32_t at = *queued_at;
    if (!stream->finishing && waiting_locked(stream, at) && stream->tags[at] == tag) {
        /* The older state never left: the newer one takes its place. */
        grpc_slice_unref(stream->queue[at]);
        stream->queue[at] = grpc_slice_ref(message);
        queued = true;
    } else {
        queued = write_locked(stream, message, tag, queued_at);
    }
    pthread_mutex_unlock(&stream->lock);
    return queued;
}

bool api_stream_write_tagged(api_stream *stream, grpc_slice message, uint64_t tag,
                             uint32_t *queued_at) {
    assert(tag != 0);
    pthread_mutex_lock(&stream->lock);
    bool queued = write_locked(stream, message, tag, queued_at);
    pthread_mutex_unlock(&stream->lock);
    return queued;
}

bool api_stream_write_ping(api_stream *stream, grpc_slice ping) {
    pthread_mutex_lock(&stream->lock);
    bool queued = !stream->finishing && stream->count + 1 < stream->capacity;
    if (queued) {
        stream->head = (stream->head + stream->capacity - 1) % stream->capacity;
        stream->queue[stream->head] = grpc_slice_ref(ping);
        stream->tags[stream->head] = 0;
        stream->count++;
        pump_locked(stream);
    }
    pthread_mutex_unlock(&stream->lock);
    return queued;
}

void api_stream_finish(api_stream *stream, grpc_status_code status, int code, const char *message,
                       bool drop_queue) {
    pthread_mutex_lock(&stream->lock);
    if (!stream->finishing) {
        set_final(stream, status, code, message);
        stream->finishing = true;
    }
    /* A stream already ending (cut off as too slow) keeps its status, but what it still had to
     * deliver is dropped too when the caller drops the queue (the stop): a stop does not wait
     * for a slow reader to take a backlog it will never need. */
    if (drop_queue) {
        while (stream->count > 0) {
            grpc_slice_unref(stream->queue[stream->head]);
            stream->head = (stream->head + 1) % stream->capacity;
            stream->count--;
        }
    }
    pump_locked(stream);
    pthread_mutex_unlock(&stream->lock);
}

void api_stream_release(api_stream *stream) {
    unref(stream);
}

void api_stream_ready(api_stream *stream) {
    pthread_mutex_lock(&stream->lock);
    stream->held = false;
    bool deferred = stream->close_deferred;
    stream->close_deferred = false;
    pthread_mutex_unlock(&stream->lock);
    if (deferred)
        notify_closed(stream);
}

/* ---- Pinger: one thread keeps every stream's ping period, independent of core load. ------ */

static pthread_mutex_t ping_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ping_wake = PTHREAD_COND_INITIALIZER;
static api_stream *ping_head;
static bool ping_running;
static pthread_t ping_thread;

/* Adds the stream to the registry with the reference stream_new took for it. A stream already
 * closed (its unregister_ping has run and found nothing) is not added, and that reference is
 * returned: notify_closed marks the stream closed before it takes ping_lock, and this checks the
 * mark under ping_lock, so each stream is either registered and later unregistered, or never
 * registered. */
static void register_ping(api_stream *stream) {
    pthread_mutex_lock(&ping_lock);
    pthread_mutex_lock(&stream->lock);
    bool closed = stream->closed_notified;
    pthread_mutex_unlock(&stream->lock);
    if (!closed) {
        stream->ping_next = ping_head;
        ping_head = stream;
        pthread_cond_signal(&ping_wake);
    }
    pthread_mutex_unlock(&ping_lock);
    if (closed)
        unref(stream);
}

static void unregister_ping(api_stream *stream) {
    if (stream->make_ping == NULL)
        return;
    bool found = false;
    pthread_mutex_lock(&ping_lock);
    for (api_stream **link = &ping_head; *link != NULL; link = &(*link)->ping_next) {
        if (*link == stream) {
            *link = stream->ping_next;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&ping_lock);
    if (found)
        unref(stream);
}

void api_stream_set_ping_interval(api_stream *stream, int64_t ping_interval_ns) {
    pthread_mutex_lock(&ping_lock);
    stream->ping_interval_ns = ping_interval_ns;
    stream->next_ping_ns = clock_monotonic_ns() + ping_interval_ns;
    pthread_cond_signal(&ping_wake);
    pthread_mutex_unlock(&ping_lock);
}

static void *pinger_main(void *arg) {
    pthread_setname_np(pthread_self(), "pinger");
    pthread_mutex_lock(&ping_lock);
    while (ping_running) {
        int64_t now = clock_monotonic_ns();
        int64_t next_due = now + 1000000000LL;
        for (api_stream *s = ping_head; s != NULL; s = s->ping_next) {
            if (s->next_ping_ns <= now) {
                grpc_slice ping = s->make_ping(s, clock_broker_ns());
                api_stream_write_ping(s, ping);
                grpc_slice_unref(ping);
                /* Schedule from the due time, not from now, so the period does not drift. */
                s->next_ping_ns += s->ping_interval_ns;
                if (s->next_ping_ns <= now)
                    s->next_ping_ns = now + s->ping_interval_ns;
            }
            if (s->next_ping_ns < next_due)
                next_due = s->next_ping_ns;
        }
        /* The condition variable's clock is CLOCK_REALTIME: convert the monotonic deadline. */
        int64_t wait_ns = next_due - clock_monotonic_ns();
        if (wait_ns > 0) {
            int64_t until = clock_realtime_ns() + wait_ns;
            struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
            pthread_cond_timedwait(&ping_wake, &ping_lock, &ts);
        }
    }
    pthread_mutex_unlock(&ping_lock);
    return NULL;
}

void api_stream_pinger_start(void) {
    ping_running = true;
    if (pthread_create(&ping_thread, NULL, pinger_main, NULL) != 0)
        abort();
}

void api_stream_pinger_stop(void) {
    pthread_mutex_lock(&ping_lock);
    ping_running = false;
    pthread_cond_signal(&ping_wake);
    pthread_mutex_unlock(&ping_lock);
    pthread_join(ping_thread, NULL);
}
