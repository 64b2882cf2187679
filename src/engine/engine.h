/* The core thread: runs the broker core and the venue, one batch of commands at a time.
 *
 * DESIGN: transport threads hand jobs in through a bounded inbox (full = backpressure, never a
 * block). The core thread takes a batch of jobs, runs them against the core, lets the venue
 * process what became due, commits the batch's events (group commit), and only then sends the
 * replies and stream messages the batch produced: nothing leaves before its events are durable.
 * The engine knows no gRPC: a job is a function to run on the core thread and a function to
 * finish it (send its reply) after the commit. */
#ifndef TINVESTD_ENGINE_ENGINE_H
#define TINVESTD_ENGINE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "journal/journal.h"

typedef struct engine engine;
typedef struct engine_job engine_job;

struct engine_job {
    /* Runs on the core thread; may register the job as a waiter or put it in the outbox. */
    void (*run)(engine *e, engine_job *job);
    /* Runs on the core thread after the batch is durable: sends the reply. */
    void (*finish)(engine *e, engine_job *job);
    int64_t received_ns;
    engine_job *next;    /* outbox / waiter list link, owned by the engine while queued */
    uint32_t wait_order; /* order the job waits for, or CORE_NO_ORDER */
    int wait_kind;       /* engine_wait_kind */
    /* Set by the submitter: the job may change state (place, cancel, replace). */
    bool mutates;
    /* Set by the engine: refused because the journal cannot write (a change while it cannot,
     * any job while a batch is held); `finish` answers 70003. */
    bool refused;
    /* Set by the submitter of a waiting job: where the engine copies the order when the wait
     * ends, for `finish` to answer from. Until the batch is sealed, later changes to the same
     * order in that batch refresh the copy (all of them are durable with the reply). */
    core_order *capture;
    /* Engine-owned: the next job whose wait ended on the same order slot in the current batch. */
    engine_job *ended_next;
    bool ended_listed;
    /* engine_wait_for_clock: the broker's time the job waits for. */
    int64_t wait_until_ns;
    /* Metrics (CLOCK_MONOTONIC, set by the engine): when the job's `run` ended (the core
     * decided) and when its batch became durable (just before `finish`). */
    int64_t decided_mono_ns, durable_mono_ns;
};

typedef enum {
    ENGINE_WAIT_NONE = 0,
    ENGINE_WAIT_EXCHANGE_ANSWER, /* PostOrder / ReplaceOrder: ack, reject or final state */
    ENGINE_WAIT_FINAL,           /* CancelOrder: the order reaches a final state */
} engine_wait_kind;

typedef struct engine_venue_link engine_venue_link;

/* An order change kept for the stream observer: the order as it was right after the event. */
typedef struct engine_change {
    core_order order;
    core_event event;
} engine_change;

/* A batch whose events are written and whose replies and stream changes wait until they are
 * durable (engine_start's pipeline). */
typedef struct engine_sealed {
    engine_job *outbox;
    engine_change *changes;
    uint32_t change_count, change_capacity;
    void *market_data;  /* what engine.md_collect copied for the batch, or NULL */
    void *account_data; /* what engine.accounts_collect copied for the batch, or NULL */
    int sync_fd;        /* what to fdatasync() before releasing it; -1: nothing */
    /* The sequence number of the journal's last event once this batch was written: the batch
     * may leave only when engine.durable_seq has reached it. */
    uint64_t written_seq;
} engine_sealed;

/* Batches written but not yet released; the core thread waits when all are taken. */
#define ENGINE_PIPELINE_DEPTH 8

/* What the live path did since the process started (not state: recovery does not count), for
 * the operator's statistics; core thread only. */
typedef struct engine_stats {
    uint64_t orders_accepted, orders_rejected, orders_filled, orders_cancelled, trades;
} engine_stats;

typedef struct engine_config {
    uint32_t inbox_capacity;
    uint32_t max_batch;
    /* Journal space kept allocated ahead of its end (journal_reserve); 0: none. */
    uint64_t journal_reserve_bytes;
} engine_config;

struct engine {
    core core;
    engine_venue_link *venue;
    /* NULL for an in-memory broker (tests); otherwise every event is journaled before any
     * reply or stream message of its batch leaves. */
    journal *journal;
    /* The last commit could not write (disk full inside a batch): its replies are held, every
     * new job is refused, and the commit is retried until it succeeds. */
    bool journal_stalled;
    /* The journal could not reserve room before a batch (disk full): nothing is held, reads are
     * answered, new mutating jobs are refused and the exchange waits, until a later batch finds
     * room. */
    bool journal_full;
    /* Snapshots: every `snapshot_every_events` events a forked child writes the state. */
    char data_dir[512];
    uint64_t snapshot_every_events;
    uint64_t last_snapshot_seq, pending_snapshot_seq;
    int pending_snapshot_pid;
    uint32_t pending_snapshot_segment;
    uint32_t kept_segment; /* the oldest segment kept: the previous snapshot replays from it */
    engine_config config;
    /* Inbox: bounded ring guarded by a mutex; the consumer sleeps on the condition variable
     * when it is empty and no venue timer is due. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    engine_job **ring;
    uint32_t head, count;
    bool stopping;
    bool market_closing; /* under `lock`: engine_close_market() was called */
    pthread_t thread;
    bool started;
    /* Core-thread-only state. */
    engine_job *outbox_head, **outbox_tail;
    engine_job **waiters; /* per order slot: list of jobs waiting on it */
    /* Per order slot: the jobs of the current batch whose wait ended on it (their captures are
     * refreshed by the order's later changes in the batch); emptied when the batch is sealed. */
    engine_job **ended;
    int64_t now_ns;
    /* The observer of applied order changes (streams): each change is kept as a snapshot of
     * the order as it was right after the event, and handed over on the core thread once the
     * batch is durable. `observer_wants` filters changes nobody listens to. */
    void (*order_observer)(void *ctx, const core_order *order, const core_event *event);
    bool (*observer_wants)(void *ctx, const core_order *order);
    /* A sandbox account's slot is about to hold a new account: stop following the old one. */
    void (*account_forgotten)(void *ctx, uint32_t account_index);
    void *order_observer_ctx;
    engine_change *changes;
    uint32_t change_count, change_capacity;
    /* Market data for the market-data streams: at the end of each batch, on the core thread,
     * `md_collect` copies what changed for subscribed instruments (books, prints, statuses) into
     * a batch of plain records of its own making (`pending`: what an earlier batch whose commit
     * failed collected, to add to; NULL otherwise) and returns it, or NULL for nothing. The
     * records leave with the batch: `md_release` gets them once the batch is durable, after the
     * replies and the order changes, on the thread that releases it, and owns them then. */
    void *(*md_collect)(void *ctx, void *pending);
    void (*md_release)(void *ctx, void *records);
    void *md_ctx;
    void *md_pending;
    /* The account streams (portfolio, positions), in the same way: at the end of each batch, on
     * the core thread, `accounts_collect` reads which accounts' cash or positions the batch
     * changed (core_changed_accounts) and copies what its messages need; `accounts_release`
     * gets the copies once the batch is durable, after the market data. The engine clears the
     * core's marks after every batch, collected or not. */
    void *(*accounts_collect)(void *ctx, void *pending);
    void (*accounts_release)(void *ctx, void *records);
    void *accounts_ctx;
    void *accounts_pending;
    /* The earliest time the feed wants a batch to run although nothing else is due (an order
     * book held back by its throttle, a candle closing by the clock); INT64_MAX for none. Set by
     * md_collect on the core thread; the core thread's wait ends then. */
    int64_t md_due_ns;
    /* The pipeline (engine_start; without it engine_run_batch commits and releases inline, as
     * the simulator runs it). The core thread writes a batch's events and seals the batch; the
     * committer thread makes everything written durable with one fdatasync() and then releases
     * the sealed batches in order: replies first, then stream messages. Meanwhile the core
     * thread decides the next batches. */
    bool pipelined;
    pthread_t committer;
    pthread_mutex_t commit_lock;
    pthread_cond_t commit_work, commit_space;
    engine_sealed sealed[ENGINE_PIPELINE_DEPTH]; /* a ring, under commit_lock */
    uint32_t sealed_head, sealed_count, releasing;
    /* The last event known to be on disk (or written, when the journal does not sync): every
     * release checks its batch against it (atomic: the core and committer threads both move it). */
    uint64_t durable_seq;
    bool committer_stopping, committer_asleep;
    /* A replay of history (util/clock.h): jobs waiting for the broker's clock
     * (engine_wait_for_clock), and in STEP mode how far the clock may go (core thread only). */
    engine_job *clock_waiters;
    int64_t step_target_ns;
    /* Called once on the core thread, inside the batch in which the replay's clock reaches its
     * end (the report is written then); NULL for none. */
    void (*replay_ended)(void *ctx, engine *e);
    void *replay_ended_ctx;
    bool replay_end_seen;
    /* The operator asked for a snapshot (engine_request_snapshot): written after this batch. */
    bool snapshot_requested;
    engine_stats stats;
};

int engine_init(engine *e, const engine_config *config, const core_config *core_settings,
                engine_venue_link *venue);
/* Restores the core from `dir`: the newest valid snapshot, then the journal records after it
 * (through core_apply); then makes `j` record every new event. Call before engine_start.
 * Returns 0 or -1 with `error`. */
int engine_recover(engine *e, journal *j, const char *dir, journal_sync sync,
                   uint64_t snapshot_every_events, char *error, size_t error_size);
int engine_start(engine *e);
/* The first step of a graceful stop: the exchange's market maker stops moving, so the market a
 * client last read is the market a restart restores. Orders in flight are still matched. */
void engine_close_market(engine *e);
/* Stops the core thread after the jobs already queued have run. */
void engine_stop(engine *e);
void engine_deinit(engine *e);

/* The journal cannot write (full before a batch, or a batch held): changes are refused. */
bool engine_refusing_changes(const engine *e);

/* One batch on the calling thread, without the inbox: runs `jobs` in order, lets the venue
 * process what is due by `now_ns`, writes its events, and then — inline, or on the committer
 * thread once engine_start() has started the pipeline — makes them durable, finishes the jobs
 * and hands out the stream changes. Returns false when the events could not be written (the
 * replies stay held, as in the thread's loop). The core thread's loop is this function over the
 * jobs it takes from the inbox; the simulator calls it directly, without the pipeline. */
bool engine_run_batch(engine *e, engine_job **jobs, uint32_t n, int64_t now_ns);

/* From any thread. False when the inbox is full: the caller answers RESOURCE_EXHAUSTED. */
bool engine_submit(engine *e, engine_job *job);

/* Core-thread helpers for job functions. A job's `finish` runs after the batch is durable, on
 * the core thread or on the committer thread: it must answer from what `run` copied, never from
 * live core or venue state. */
void engine_finish_after_commit(engine *e, engine_job *job);
/* Finishes the job once the order satisfies `kind` (at once when it already does), copying it
 * into job->capture first. */
void engine_wait_for_order(engine *e, engine_job *job, uint32_t order, engine_wait_kind kind);
int64_t engine_now_ns(const engine *e);
/* A replay's control call: finishes the job once the broker's clock has reached `until_ns` (at
 * once when it has). In STEP mode the clock may now go as far as `until_ns`. */
void engine_wait_for_clock(engine *e, engine_job *job, int64_t until_ns);
/* STEP mode: how far the clock may go before a control call lets it go further. */
int64_t engine_step_target_ns(const engine *e);
/* The operator's snapshot (core thread): one is written after the current batch, holding at
 * least the events up to *seq; true when it was asked for. False when one is being written
 * already (*seq its last event), when the newest holds everything (*seq), or without a
 * journal. */
bool engine_request_snapshot(engine *e, uint64_t *seq);
/* Jobs waiting in the inbox (any thread; takes the inbox's lock). */
uint32_t engine_inbox_depth(engine *e);
/* The core, for job functions on the core thread: they call its commands and queries, which
 * return copies. */
core *engine_core(engine *e);
/* The exchange link, for market-data reads on the core thread (its queries return copies). */
engine_venue_link *engine_venue(engine *e);

#endif
