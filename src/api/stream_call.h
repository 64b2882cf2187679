/* A server-streaming call: a bounded queue of encoded messages, one write in flight at a time
 * (gRPC allows no more), periodic pings, and a single final status.
 *
 * DESIGN: messages are queued from the core thread (order events) and the ping thread; writes
 * complete on the completion-queue thread, which starts the next one. A queue that reaches its
 * bound means the client reads too slowly: the stream is ended with RESOURCE_EXHAUSTED instead
 * of letting it hold memory or slow anyone else. The object is freed when gRPC has finished with
 * every batch and the owner has let go (reference count). Batches are started only while the
 * call lives: once a write fails or the call closes before its status (the client gone, or every
 * call cancelled at stop), the stream ends without starting anything more, because at stop the
 * completion queue may already be shut down. */
#ifndef TINVESTD_API_STREAM_CALL_H
#define TINVESTD_API_STREAM_CALL_H

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/call.h"

typedef struct api_stream api_stream;

/* Encodes a ping message for this stream (its own payload type). */
typedef grpc_slice (*api_stream_ping_fn)(api_stream *stream, int64_t now_ns);
/* Called once when the stream is over (client gone, finished, or server stopping). */
typedef void (*api_stream_closed_fn)(api_stream *stream);

struct api_stream {
    api_call *call;
    pthread_mutex_t lock;
    grpc_slice *queue;
    uint64_t *tags; /* per queue slot: the conflation tag of its message (0: none) */
    uint32_t head, count, capacity;
    bool write_in_flight, initial_metadata_sent;
    bool finishing, status_started, close_received, closed_notified;
    /* Between open and the owner's api_stream_ready: a close is noted (close_deferred), and the
     * owner's on_closed runs only once the owner is ready. */
    bool held, close_deferred;
    /* The call is over for gRPC (a write failed, or it closed before any status): nothing more
     * is started on it, not even the status (see settle_without_status_locked). */
    bool call_over;
    int refs;
    grpc_byte_buffer *writing;
    grpc_status_code final_status;
    grpc_slice final_details;
    grpc_metadata final_metadata[2];
    size_t final_metadata_count;
    grpc_metadata initial_metadata[1];
    api_tag write_tag, close_tag, status_tag;
    int client_cancelled;
    char stream_id[UUID_TEXT_SIZE];
    int64_t ping_interval_ns, next_ping_ns;
    api_stream_ping_fn make_ping;
    api_stream_closed_fn on_closed;
    void *owner;
    api_stream *ping_next; /* ping registry link */
    /* Every open stream, for the backlog figures (api_stream_slowest); from open to free. */
    api_stream *all_prev, *all_next;
    uint64_t number; /* 1, 2, … in the order streams were opened since the process started */
};

/* One stream's backlog as api_stream_slowest reads it. */
typedef struct api_stream_backlog {
    const api_method *method; /* NULL for a call without one */
    uint64_t number;
    uint32_t queued; /* messages waiting to be written (not the one in flight) */
    uint32_t limit;  /* the backlog at which the client is cut off (the configured limit) */
} api_stream_backlog;

/* The `max` open streams with the most messages waiting, most first (the older stream first
 * among equals); returns how many were written. Read at scrape time under the registry's lock
 * and each stream's own lock, briefly: the write path takes no lock of its own for it. */
size_t api_stream_slowest(api_stream_backlog *out, size_t max);

/* Turns `call` into a stream (the stream now owns the call), sends the initial metadata with
 * `first` (the subscription response) and starts watching for the client going away. */
api_stream *api_stream_open(api_call *call, uint32_t capacity, grpc_slice first,
                            int64_t ping_interval_ns, api_stream_ping_fn make_ping,
                            api_stream_closed_fn on_closed, void *owner);

/* As api_stream_open, but without a first message (a bidirectional stream answers requests that
 * come later). */
api_stream *api_stream_start(api_call *call, uint32_t capacity, int64_t ping_interval_ns,
                             api_stream_ping_fn make_ping, api_stream_closed_fn on_closed,
                             void *owner);

/* Queues a message that supersedes the previous one of the same `tag` (non-zero): if that one is
 * still waiting (its slot is *queued_at, where this function records each such message's slot),
 * the new message takes its place in the queue; otherwise it is queued at the end like
 * api_stream_write. The caller serializes writes of one tag (it keeps *queued_at). */
bool api_stream_write_conflated(api_stream *stream, grpc_slice message, uint64_t tag,
                                uint32_t *queued_at);
/* Queues a message under a conflation tag without replacing one waiting (the next state of a
 * subscription that must not take an earlier one's place); *queued_at as for
 * api_stream_write_conflated. */
bool api_stream_write_tagged(api_stream *stream, grpc_slice message, uint64_t tag,
                             uint32_t *queued_at);

/* Changes the ping period; the next ping is due one period from now. */
void api_stream_set_ping_interval(api_stream *stream, int64_t ping_interval_ns);

/* Queues one encoded message (the stream takes a reference to the slice). Returns false when
 * the stream is ending; ends it with RESOURCE_EXHAUSTED when the backlog is full. */
bool api_stream_write(api_stream *stream, grpc_slice message);
/* Queues a ping ahead of the messages waiting (after the write in flight): a ping carries no
 * state, and its period must not depend on how much the stream has to deliver. */
bool api_stream_write_ping(api_stream *stream, grpc_slice ping);

/* Ends the stream after what is queued (or at once, dropping the queue, when `drop_queue`),
 * with `status`, numeric `code` as details and `message` as the trailer. A stream already ending
 * keeps its status; `drop_queue` still drops what it has not sent. */
void api_stream_finish(api_stream *stream, grpc_status_code status, int code, const char *message,
                       bool drop_queue);

/* The owner's reference: drop it when the owner no longer refers to the stream. */
void api_stream_release(api_stream *stream);
/* The owner has finished setting the stream up (its first messages queued, its own records
 * pointing at it). Until then a close of the call (the client gone at once) does not run
 * on_closed, which frees what the owner is still using; a close that came meanwhile runs it
 * now, on the owner's thread. Every owner calls it once, after api_stream_open/start. */
void api_stream_ready(api_stream *stream);

/* Ping scheduling, run by the pinger thread. */
void api_stream_pinger_start(void);
void api_stream_pinger_stop(void);

#endif
