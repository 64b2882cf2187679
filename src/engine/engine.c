#include "engine/engine.h"
#include "engine/universe.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/event_codec.h"
#include "engine/engine_metrics.h"
#include "engine/replay.h"
#include "engine/snapshot.h"
#include "engine/venue_link.h"
#include "util/bigmem.h"
#include "util/clock.h"
#include "util/log.h"

#define JOURNAL_SEGMENT_BYTES (64ull << 20)
#define STALLED_RETRY_NS 100000000LL
#define ENGINE_SPIN_NS 150000

static void on_order_changed(void *ctx, const core_order *order, const core_event *event);
static void on_account_reused(void *ctx, uint32_t account_index);
static void pipeline_drain(engine *e);

int engine_init(engine *e, const engine_config *config, const core_config *core_settings,
                engine_venue_link *venue) {
    memset(e, 0, sizeof *e);
    e->config = *config;
    e->venue = venue;
    e->md_due_ns = INT64_MAX;
    if (core_init(&e->core, core_settings) != 0)
        return -ENOMEM;
    e->ring = calloc(config->inbox_capacity, sizeof *e->ring);
    e->waiters = bigmem_alloc(core_settings->max_orders, sizeof *e->waiters);
    e->ended = bigmem_alloc(core_settings->max_orders, sizeof *e->ended);
    if (e->ring == NULL || e->waiters == NULL || e->ended == NULL) {
        engine_deinit(e);
        return -ENOMEM;
    }
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->wake, NULL);
    pthread_mutex_init(&e->commit_lock, NULL);
    pthread_cond_init(&e->commit_work, NULL);
    pthread_cond_init(&e->commit_space, NULL);
    e->outbox_tail = &e->outbox_head;
    e->core.listener = (core_listener){
        .ctx = e, .order_changed = on_order_changed, .account_reused = on_account_reused};
    if (venue != NULL)
        venue_link_attach(venue, &e->core);
    return 0;
}

void engine_deinit(engine *e) {
    core_deinit(&e->core);
    free(e->ring);
    bigmem_free(e->waiters, e->core.config.max_orders, sizeof *e->waiters);
    bigmem_free(e->ended, e->core.config.max_orders, sizeof *e->ended);
    free(e->changes);
    for (uint32_t i = 0; i < ENGINE_PIPELINE_DEPTH; i++) {
        free(e->sealed[i].changes);
        e->sealed[i].changes = NULL;
    }
    e->ring = NULL;
    e->waiters = NULL;
    e->ended = NULL;
    e->changes = NULL;
}

_Static_assert(EVENT_CODEC_MAX_BYTES <= JOURNAL_MAX_PAYLOAD_BYTES, "an event fits a record");
_Static_assert(CORE_EVENT_TYPE_MAX <= JOURNAL_MAX_TYPE, "an event type fits a record's type");
_Static_assert(CORE_EVENT_OPERATIONS_LAST <= JOURNAL_MAX_TYPE,
               "an event type fits a record's type");

static void journal_event(void *ctx, const core_event *event) {
    engine *e = ctx;
    uint8_t payload[EVENT_CODEC_MAX_BYTES];
    size_t length = event_codec_encode(event, payload);
    /* A failure here is memory exhaustion on the core thread, after which the broker cannot
     * promise anything. */
    if (journal_append(e->journal, (uint16_t)event->type, event->seq, payload, (uint32_t)length) !=
        0)
        abort();
}

int engine_recover(engine *e, journal *j, const char *dir, journal_sync sync,
                   uint64_t snapshot_every_events, char *error, size_t error_size) {
    int64_t started_ns = clock_monotonic_ns();
    snprintf(e->data_dir, sizeof e->data_dir, "%s", dir);
    e->snapshot_every_events = snapshot_every_events;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "cannot create %s", dir);
        return -1;
    }
    /* The journal and snapshots name instruments by index: the configured ones must extend
     * those this directory was written with (engine/universe.h). */
    uint32_t pinned_count = 0;
    if (universe_check(dir, e->core.refdata, &pinned_count, error, error_size) != 0)
        return -1;
    /* The order indexes are built once, from the orders the snapshot and the journal leave,
     * rather than kept up event by event on the way. */
    e->core.indexes_deferred = true;
    int64_t snapshot_seq = snapshot_load(&e->core, dir, error, error_size);
    int rc = snapshot_seq < 0
                 ? -1
                 : replay_journal(&e->core, j, dir, sync, JOURNAL_SEGMENT_BYTES, error, error_size);
    e->core.indexes_deferred = false;
    if (rc != 0)
        return -1;
    int pinned = universe_pin(dir, e->core.refdata, pinned_count);
    if (pinned != 0) {
        snprintf(error, error_size, "cannot write %s/%s: %s", dir, UNIVERSE_PIN_FILE,
                 strerror(-pinned));
        return -1;
    }
    e->last_snapshot_seq = (uint64_t)snapshot_seq;
    e->journal = j;
    int64_t replayed_ns = clock_monotonic_ns();
    snapshot_rebuild_indexes(&e->core);
    /* Replay checked every event against the state but, with the indexes deferred, not against
     * the keys and ids of the orders before it: two orders under one key or id are caught here. */
    if (!core_indexes_valid(&e->core)) {
        snprintf(error, error_size,
                 "journal in %s: two orders hold the same key or id after replay; refusing to "
                 "start — restore the data directory or move it aside",
                 dir);
        return -1;
    }
    int64_t indexed_ns = clock_monotonic_ns();
    /* Segments of an older format are rewritten in the current one now, so that the next
     * version need read only this one. Should that fail, they stay as they are: still read, and
     * removed in their turn once snapshots cover them. */
    char why[600];
    int migrated = journal_migrate(j, replay_convert_record, NULL, why, sizeof why);
    if (migrated < 0)
        log_warn("%s; the segments of the older format are kept as they are", why);
    else if (migrated > 0)
        log_info("journal: %d segment%s of an older format rewritten in format %d", migrated,
                 migrated == 1 ? "" : "s", JOURNAL_FORMAT_VERSION);
    /* The loaded snapshot is the previous generation once the next one is written. */
    e->kept_segment = journal_segment_holding(j, e->last_snapshot_seq + 1);
    e->core.sink = (core_event_sink){.ctx = e, .append = journal_event};
    core_changes_clear(&e->core); /* what replay changed is the starting state, not news */
    log_info("journal: recovered %llu events into %u orders in %.1f ms (indexes %.1f ms)",
             (unsigned long long)(e->core.next_seq - 1), e->core.pools.orders_in_use,
             (double)(indexed_ns - started_ns) / 1e6, (double)(indexed_ns - replayed_ns) / 1e6);
    return 0;
}

bool engine_submit(engine *e, engine_job *job) {
    pthread_mutex_lock(&e->lock);
    bool accepted = !e->stopping && e->count < e->config.inbox_capacity;
    if (accepted) {
        e->ring[(e->head + e->count) % e->config.inbox_capacity] = job;
        e->count++;
        engine_metrics_inbox(e->count); /* metrics: inbox depth */
        if (e->count == 1)
            pthread_cond_signal(&e->wake);
    }
    pthread_mutex_unlock(&e->lock);
    return accepted;
}

int64_t engine_now_ns(const engine *e) {
    return e->now_ns;
}

core *engine_core(engine *e) {
    return &e->core;
}

engine_venue_link *engine_venue(engine *e) {
    return e->venue;
}

void engine_finish_after_commit(engine *e, engine_job *job) {
    job->next = NULL;
    *e->outbox_tail = job;
    e->outbox_tail = &job->next;
}

static bool wait_satisfied(const core_order *order, engine_wait_kind kind) {
    if (order_status_is_final(order->status))
        return true;
    return kind == ENGINE_WAIT_EXCHANGE_ANSWER && order->exchange_order_id != 0;
}

/* The waiting job gets the order as it is when its wait ends, refreshed by the order's later
 * changes in the same batch (a market order the exchange fills right after its acknowledgement is
 * answered filled, as the real broker answers it): its reply is built from that copy, never from
 * the live order after the batch. */
static void end_wait(engine *e, engine_job *job, const core_order *order) {
    if (job->capture != NULL) {
        *job->capture = *order;
        job->ended_next = e->ended[order->index];
        e->ended[order->index] = job;
        job->ended_listed = true;
    }
    engine_finish_after_commit(e, job);
}

/* A later change of an order whose waiters were answered in this batch. The slot may hold
 * another order by now (the first ended and was retired, and a new order took the slot): only
 * copies of the same order, told by its ACCEPTED event's number, are refreshed. */
static void refresh_captures(engine *e, const core_order *order) {
    for (engine_job *job = e->ended[order->index]; job != NULL; job = job->ended_next)
        if (job->capture->accepted_seq == order->accepted_seq)
            *job->capture = *order;
}

/* The batch is leaving the core thread: its jobs' captures are final. */
static void forget_ended(engine *e) {
    for (engine_job *job = e->outbox_head; job != NULL; job = job->next)
        if (job->ended_listed) {
            e->ended[job->wait_order] = NULL;
            job->ended_listed = false;
        }
}

void engine_wait_for_order(engine *e, engine_job *job, uint32_t order, engine_wait_kind kind) {
    job->wait_order = order;
    job->wait_kind = (int)kind;
    if (wait_satisfied(&e->core.orders[order], kind)) {
        end_wait(e, job, &e->core.orders[order]);
        return;
    }
    job->next = e->waiters[order];
    e->waiters[order] = job;
}

static void keep_change(engine *e, const core_order *order, const core_event *event) {
    /* Kept past its apply: an event that borrows a text would outlive it (only order events
     * come here, and none does). */
    assert(!core_event_borrows_text(event));
    if (e->change_count == e->change_capacity) {
        uint32_t capacity = e->change_capacity ? e->change_capacity * 2 : 1024;
        engine_change *grown = realloc(e->changes, capacity * sizeof *grown);
        if (grown == NULL)
            abort(); /* a stream message that cannot be kept would be a silent gap */
        e->changes = grown;
        e->change_capacity = capacity;
    }
    e->changes[e->change_count++] = (engine_change){.order = *order, .event = *event};
}

/* The operator's statistics (AdminService/GetStats): what the live path did since start. */
static void count_change(engine_stats *stats, const core_order *order, const core_event *event) {
    switch ((core_event_type)event->type) {
    case CORE_EVENT_ORDER_ACCEPTED:
        stats->orders_accepted++;
        break;
    case CORE_EVENT_ORDER_REJECTED:
        stats->orders_rejected++;
        break;
    case CORE_EVENT_ORDER_TRADE:
        stats->trades++;
        stats->orders_filled += order->status == ORDER_STATUS_FILL;
        break;
    case CORE_EVENT_ORDER_CANCELLED:
        stats->orders_cancelled++;
        break;
    default:
        break;
    }
}

static void on_order_changed(void *ctx, const core_order *order, const core_event *event) {
    engine *e = ctx;
    count_change(&e->stats, order, event);
    if (e->ended[order->index] != NULL)
        refresh_captures(e, order);
    engine_job **link = &e->waiters[order->index];
    while (*link != NULL) {
        engine_job *job = *link;
        if (wait_satisfied(order, (engine_wait_kind)job->wait_kind)) {
            *link = job->next;
            end_wait(e, job, order);
        } else {
            link = &job->next;
        }
    }
    if (e->order_observer != NULL && e->observer_wants(e->order_observer_ctx, order))
        keep_change(e, order, event);
}

static void on_account_reused(void *ctx, uint32_t account_index) {
    engine *e = ctx;
    /* Releases of earlier batches may still read the slot's old account. */
    pipeline_drain(e);
    if (e->account_forgotten != NULL)
        e->account_forgotten(e->order_observer_ctx, account_index);
}

void engine_wait_for_clock(engine *e, engine_job *job, int64_t until_ns) {
    job->wait_until_ns = until_ns;
    if (until_ns > e->step_target_ns)
        e->step_target_ns = until_ns;
    if (e->now_ns >= until_ns) {
        engine_finish_after_commit(e, job);
        return;
    }
    job->next = e->clock_waiters;
    e->clock_waiters = job;
}

int64_t engine_step_target_ns(const engine *e) {
    return e->step_target_ns;
}

/* The batch's clock has moved: the control calls waiting for it are answered with the batch, and
 * the replay's end is told once. */
static void clock_moved(engine *e) {
    for (engine_job **link = &e->clock_waiters; *link != NULL;) {
        engine_job *job = *link;
        if (job->wait_until_ns <= e->now_ns) {
            *link = job->next;
            engine_finish_after_commit(e, job);
        } else {
            link = &job->next;
        }
    }
    if (e->replay_ended != NULL && !e->replay_end_seen &&
        clock_replay_mode_of() != CLOCK_REPLAY_OFF && e->now_ns >= clock_replay_end_ns()) {
        e->replay_end_seen = true;
        e->replay_ended(e->replay_ended_ctx, e);
    }
}

/* MAX and STEP (util/clock.h): the core thread moves the simulated clock while it has nothing to
 * do. To the next thing due, as far as it may go: in MAX the rest of that minute goes in the same
 * batch (the replay's prints of a minute; a minute's candle is whole in the batch that follows),
 * in STEP each time due is a batch of its own, as the control call's client would see it. Returns
 * true when the clock moved (a batch runs), false when there is nothing to do until a command or
 * a control call comes. */
static bool move_driven_clock(engine *e, clock_replay_mode mode, int64_t due_ns) {
    int64_t now = clock_broker_ns();
    int64_t limit = mode == CLOCK_REPLAY_MAX ? clock_replay_end_ns() : e->step_target_ns;
    if (due_ns <= now)
        return true;
    if (due_ns <= limit) {
        int64_t to = due_ns;
        if (mode == CLOCK_REPLAY_MAX) {
            int64_t minute_end = (due_ns / 60000000000LL + 1) * 60000000000LL - 1;
            to = minute_end < limit ? minute_end : limit;
        }
        clock_replay_set(to);
        return true;
    }
    if (now < limit) {
        clock_replay_set(limit);
        return true;
    }
    return false;
}

/* Waits a little for work before going to sleep: a wake across vCPUs costs 35-60 us, more than
 * the gap between requests of a busy client. */
static void spin_for_work(engine *e) {
    int64_t until = clock_monotonic_ns() + ENGINE_SPIN_NS;
    while (__atomic_load_n(&e->count, __ATOMIC_ACQUIRE) == 0 && clock_monotonic_ns() < until)
        __builtin_ia32_pause();
}

/* Takes up to max_batch jobs; sleeps until one arrives or the venue's next timer is due. */
static uint32_t take_batch(engine *e, engine_job **batch, bool *stop) {
    clock_replay_mode mode = clock_replay_mode_of();
    bool driven = mode == CLOCK_REPLAY_MAX || mode == CLOCK_REPLAY_STEP;
    if (!driven)
        spin_for_work(e);
    pthread_mutex_lock(&e->lock);
    while (e->count == 0 && !e->stopping) {
        int64_t due_ns = e->venue ? venue_link_next_due_ns(e->venue) : INT64_MAX;
        if (e->md_due_ns < due_ns)
            due_ns = e->md_due_ns;
        if (core_margin_next_due_ns(&e->core) < due_ns)
            due_ns = core_margin_next_due_ns(&e->core);
        /* A replay's end is due too: its report is written in the batch that reaches it. */
        if (mode != CLOCK_REPLAY_OFF && !e->replay_end_seen && clock_replay_end_ns() < due_ns)
            due_ns = clock_replay_end_ns();
        bool stalled = engine_refusing_changes(e);
        if (driven && !stalled) {
            if (move_driven_clock(e, mode, due_ns))
                break;
            pthread_cond_wait(&e->wake, &e->lock);
            continue;
        }
        /* The wall-clock instant the wait ends: when the broker's clock reaches what is due (in
         * SPEED the simulated clock runs against the wall clock), or, while the journal cannot
         * write, the next try of the disk. */
        int64_t wall_ns = INT64_MAX;
        if (due_ns != INT64_MAX && !driven) {
            if (due_ns <= clock_broker_ns())
                break;
            wall_ns = mode == CLOCK_REPLAY_SPEED ? clock_replay_wall_deadline_ns(due_ns) : due_ns;
        }
        if (stalled && wall_ns > clock_realtime_ns() + STALLED_RETRY_NS)
            wall_ns = clock_realtime_ns() + STALLED_RETRY_NS; /* try the disk again */
        if (wall_ns == INT64_MAX) {
            pthread_cond_wait(&e->wake, &e->lock);
            continue;
        }
        if (wall_ns <= clock_realtime_ns())
            break;
        struct timespec until = {.tv_sec = wall_ns / 1000000000, .tv_nsec = wall_ns % 1000000000};
        /* The timed wait uses CLOCK_REALTIME. */
        if (pthread_cond_timedwait(&e->wake, &e->lock, &until) == ETIMEDOUT)
            break;
    }
    uint32_t n = 0;
    while (e->count > 0 && n < e->config.max_batch) {
        batch[n++] = e->ring[e->head];
        e->head = (e->head + 1) % e->config.inbox_capacity;
        e->count--;
    }
    engine_metrics_inbox(e->count); /* metrics: inbox depth */
    *stop = e->stopping && e->count == 0;
    if (e->market_closing && e->venue != NULL)
        venue_link_close_market(e->venue); /* idempotent */
    pthread_mutex_unlock(&e->lock);
    return n;
}

static uint64_t written_seq(const engine *e) {
    return e->journal != NULL ? e->journal->last_seq : 0;
}

/* Records that every event up to `upto_seq` has been synced (or, without syncs, written). */
static void mark_durable(engine *e, uint64_t upto_seq) {
    uint64_t seen = __atomic_load_n(&e->durable_seq, __ATOMIC_ACQUIRE);
    while (upto_seq > seen && !__atomic_compare_exchange_n(&e->durable_seq, &seen, upto_seq, false,
                                                           __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
    }
}

/* Runs after a batch is durable: replies first, then the stream messages, so that no stream
 * message leaves before the reply of the call that caused it. `upto_seq` is the sequence
 * number of the journal's last event once the batch was written: a batch released before a sync
 * covered it would acknowledge what a crash can still lose, so that stops the process (one
 * comparison a batch, kept in every build). */
static void release(engine *e, engine_job *outbox, const engine_change *changes, uint32_t count,
                    void *market_data, void *account_data, uint64_t upto_seq) {
    if (upto_seq > __atomic_load_n(&e->durable_seq, __ATOMIC_ACQUIRE)) {
        log_error("engine: a batch up to event %llu was about to be released with events only "
                  "up to %llu durable",
                  (unsigned long long)upto_seq,
                  (unsigned long long)__atomic_load_n(&e->durable_seq, __ATOMIC_ACQUIRE));
        abort();
    }
    int64_t durable_ns = clock_monotonic_ns(); /* metrics: when the batch became durable */
    for (engine_job *job = outbox, *next; job != NULL; job = next) {
        next = job->next;
        job->durable_mono_ns = durable_ns;
        job->finish(e, job);
    }
    for (uint32_t i = 0; i < count; i++)
        e->order_observer(e->order_observer_ctx, &changes[i].order, &changes[i].event);
    if (market_data != NULL)
        e->md_release(e->md_ctx, market_data);
    if (account_data != NULL)
        e->accounts_release(e->accounts_ctx, account_data);
}

/* Releases the current batch on this thread (no pipeline). */
static void flush_outbox(engine *e) {
    forget_ended(e);
    engine_job *outbox = e->outbox_head;
    e->outbox_head = NULL;
    e->outbox_tail = &e->outbox_head;
    void *market_data = e->md_pending;
    e->md_pending = NULL;
    void *account_data = e->accounts_pending;
    e->accounts_pending = NULL;
    release(e, outbox, e->changes, e->change_count, market_data, account_data, written_seq(e));
    e->change_count = 0;
}

/* ---- The pipeline: the committer thread makes written batches durable and releases them ---- */

static uint32_t sealed_count(engine *e) {
    return __atomic_load_n(&e->sealed_count, __ATOMIC_ACQUIRE);
}

/* Hands the current batch, whose events are written, to the committer. Waits while the pipeline
 * is full: the core thread then decides no further ahead of the disk. A batch with nothing to
 * release needs no slot: the next sync covers its events too. */
static void seal_batch(engine *e) {
    if (e->outbox_head == NULL && e->change_count == 0 && e->md_pending == NULL &&
        e->accounts_pending == NULL)
        return;
    forget_ended(e);
    pthread_mutex_lock(&e->commit_lock);
    while (e->sealed_count == ENGINE_PIPELINE_DEPTH)
        pthread_cond_wait(&e->commit_space, &e->commit_lock);
    engine_sealed *slot = &e->sealed[(e->sealed_head + e->sealed_count) % ENGINE_PIPELINE_DEPTH];
    slot->outbox = e->outbox_head;
    /* The slot takes the batch's change buffer; the core thread fills the slot's old one next. */
    engine_change *changes = slot->changes;
    uint32_t capacity = slot->change_capacity;
    slot->changes = e->changes;
    slot->change_capacity = e->change_capacity;
    slot->change_count = e->change_count;
    e->changes = changes;
    e->change_capacity = capacity;
    e->change_count = 0;
    slot->market_data = e->md_pending;
    e->md_pending = NULL;
    slot->account_data = e->accounts_pending;
    e->accounts_pending = NULL;
    slot->sync_fd = e->journal != NULL ? journal_sync_fd(e->journal) : -1;
    slot->written_seq = written_seq(e);
    __atomic_store_n(&e->sealed_count, e->sealed_count + 1, __ATOMIC_RELEASE);
    engine_metrics_sealed(e->sealed_count); /* metrics: batches waiting for the committer */
    if (e->committer_asleep)
        pthread_cond_signal(&e->commit_work);
    pthread_mutex_unlock(&e->commit_lock);
    e->outbox_head = NULL;
    e->outbox_tail = &e->outbox_head;
}

/* Nothing is queued for the core and nothing waits for the committer: a lone client's batch. */
static bool pipeline_idle(engine *e) {
    return __atomic_load_n(&e->count, __ATOMIC_ACQUIRE) == 0 && sealed_count(e) == 0;
}

/* Makes everything written to `fd` durable (-1: the journal does not sync). A failure stops the
 * process: the kernel may have dropped the data, and recovery decides from the disk. */
static void sync_written(int fd) {
    if (fd < 0)
        return;
    int64_t start_ns = clock_monotonic_ns(); /* metrics: fdatasync time */
    if (fdatasync(fd) != 0) {
        log_error("journal: fdatasync failed; stopping so that recovery can run");
        abort();
    }
    engine_metrics_journal_sync(clock_monotonic_ns() - start_ns);
}

/* The batch just written leaves: sealed for the committer, or (without the pipeline, whose
 * commit synced, or with it idle and no market data to fan out) released here. With the pipeline
 * idle the core thread syncs a lone client's batch itself and pays no hand-over to the committer (a
 * wake across vCPUs). */
static void release_written(engine *e) {
    /* A batch with market data or account-stream copies always goes to the committer: its
     * fan-out (encoding, a write to every subscriber) is not the core thread's work, even when
     * the pipeline is idle. */
    if (e->pipelined &&
        (!pipeline_idle(e) || e->md_pending != NULL || e->accounts_pending != NULL)) {
        seal_batch(e);
        return;
    }
    if (e->pipelined) {
        /* Nothing to release (a replay's market prints with no client, a market maker's move):
         * nobody waits for these events, so they need no sync of their own; the next sync covers
         * them (the journal syncs a segment before it leaves it, and the stop syncs). A replay at
         * --speed max would otherwise sync once a simulated minute. */
        if (e->outbox_head == NULL && e->change_count == 0)
            return;
        sync_written(e->journal != NULL ? journal_sync_fd(e->journal) : -1);
        mark_durable(e, written_seq(e));
    }
    flush_outbox(e);
}

/* Waits until every sealed batch is released: before the journal's segment rolls (its
 * descriptor may be in a sync), before a snapshot (it must not hold what is not durable) and
 * before an account's slot is reused (releases still read the old account's id). */
static void pipeline_drain(engine *e) {
    if (!e->pipelined)
        return;
    pthread_mutex_lock(&e->commit_lock);
    while (e->sealed_count > 0)
        pthread_cond_wait(&e->commit_space, &e->commit_lock);
    pthread_mutex_unlock(&e->commit_lock);
}

static void *committer_main(void *arg) {
    engine *e = arg;
    pthread_setname_np(pthread_self(), "committer");
    pthread_mutex_lock(&e->commit_lock);
    for (;;) {
        if (e->sealed_count == 0 && !e->committer_stopping) {
            /* As on the core thread: a short spin is cheaper than a wake across vCPUs. */
            pthread_mutex_unlock(&e->commit_lock);
            int64_t until = clock_monotonic_ns() + ENGINE_SPIN_NS;
            while (sealed_count(e) == 0 && clock_monotonic_ns() < until)
                __builtin_ia32_pause();
            pthread_mutex_lock(&e->commit_lock);
            while (e->sealed_count == 0 && !e->committer_stopping) {
                e->committer_asleep = true;
                pthread_cond_wait(&e->commit_work, &e->commit_lock);
                e->committer_asleep = false;
            }
        }
        uint32_t taken = e->sealed_count;
        if (taken == 0)
            break; /* stopping, and everything is released */
        uint32_t first = e->sealed_head;
        const engine_sealed *last = &e->sealed[(first + taken - 1) % ENGINE_PIPELINE_DEPTH];
        int fd = last->sync_fd;
        uint64_t written = last->written_seq;
        pthread_mutex_unlock(&e->commit_lock);
        /* One sync covers every batch written before it, however many were sealed meanwhile. */
        sync_written(fd);
        mark_durable(e, written);
        for (uint32_t i = 0; i < taken; i++) {
            engine_sealed *slot = &e->sealed[(first + i) % ENGINE_PIPELINE_DEPTH];
            release(e, slot->outbox, slot->changes, slot->change_count, slot->market_data,
                    slot->account_data, slot->written_seq);
            slot->outbox = NULL;
            slot->market_data = NULL;
            slot->account_data = NULL;
            slot->change_count = 0;
        }
        pthread_mutex_lock(&e->commit_lock);
        e->sealed_head = (first + taken) % ENGINE_PIPELINE_DEPTH;
        __atomic_store_n(&e->sealed_count, e->sealed_count - taken, __ATOMIC_RELEASE);
        engine_metrics_sealed(e->sealed_count); /* metrics */
        pthread_cond_broadcast(&e->commit_space);
    }
    pthread_mutex_unlock(&e->commit_lock);
    return NULL;
}

/* Makes the batch durable (without the pipeline), or only writes it (with it: the committer
 * syncs). Returns true when it is written and may be released. */
static bool commit_batch(engine *e) {
    if (e->journal == NULL)
        return true;
    int64_t start_ns = clock_monotonic_ns(); /* metrics: journal write time */
    int rc = e->pipelined ? journal_write(e->journal) : journal_commit(e->journal);
    engine_metrics_journal_write(clock_monotonic_ns() - start_ns);
    if (rc == 0 && !e->pipelined)
        mark_durable(e, written_seq(e)); /* the commit synced */
    if (rc == 0) {
        if (e->journal_stalled)
            log_warn("journal: writing again; held replies are released");
        e->journal_stalled = false;
        return true;
    }
    if (rc == -EIO) {
        /* After a failed fdatasync the kernel may have dropped the data: nothing acknowledged
         * since the last good sync can be vouched for. Stop; recovery decides from the disk. */
        log_error("journal: fdatasync failed or a write could not be taken back; stopping so "
                  "that recovery can run");
        abort();
    }
    if (!e->journal_stalled)
        log_error("journal: cannot write (%s); holding replies and refusing new orders",
                  strerror(-rc));
    e->journal_stalled = true;
    return false;
}

/* Collects a finished snapshot child; once its file is durable, older snapshots and the journal
 * segments it covers are removed. `block` waits for it (at stop). */
static void reap_snapshot(engine *e, bool block) {
    if (e->pending_snapshot_pid <= 0)
        return;
    int status = 0;
    pid_t done = waitpid(e->pending_snapshot_pid, &status, block ? 0 : WNOHANG);
    if (done == 0)
        return;
    e->pending_snapshot_pid = 0;
    if (done < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        log_warn("snapshot at event %llu failed; the journal keeps everything",
                 (unsigned long long)e->pending_snapshot_seq);
        return;
    }
    /* Two generations stay on disk: the new snapshot, and the previous one with every segment
     * after it, so that a newest snapshot damaged later still leaves a way back. */
    snapshot_prune(e->data_dir, e->last_snapshot_seq);
    journal_remove_segments_before(e->journal, e->kept_segment);
    e->kept_segment = e->pending_snapshot_segment;
    e->last_snapshot_seq = e->pending_snapshot_seq;
    log_info("snapshot at event %llu written", (unsigned long long)e->last_snapshot_seq);
}

/* Starts a snapshot when enough events have passed since the last one. The journal rolls to a
 * new segment first, so every older segment is covered by the snapshot once it is written. */
static void maybe_snapshot(engine *e) {
    reap_snapshot(e, false);
    uint64_t seq = e->core.next_seq - 1;
    bool due =
        e->snapshot_every_events != 0 && seq - e->last_snapshot_seq >= e->snapshot_every_events;
    if (e->journal == NULL || e->pending_snapshot_pid > 0 || !(due || e->snapshot_requested))
        return;
    e->snapshot_requested = false;
    pipeline_drain(e); /* the snapshot holds nothing that is not durable */
    int64_t segment = journal_roll(e->journal);
    if (segment < 0)
        return;
    pid_t pid = snapshot_start(&e->core, e->data_dir);
    if (pid < 0) {
        log_warn("snapshot: fork failed (%s)", strerror(errno));
        return;
    }
    e->pending_snapshot_pid = pid;
    e->pending_snapshot_seq = seq;
    e->pending_snapshot_segment = (uint32_t)segment;
}

/* Event time never goes backwards: a job stamped before the last batch's clock reading (it was
 * received while that batch ran) is applied at the later time. */
static void advance_clock(engine *e, int64_t now_ns) {
    if (now_ns > e->now_ns)
        e->now_ns = now_ns;
}

bool engine_request_snapshot(engine *e, uint64_t *seq) {
    reap_snapshot(e, false);
    *seq = e->core.next_seq - 1;
    if (e->journal == NULL || e->pending_snapshot_pid > 0) {
        if (e->pending_snapshot_pid > 0)
            *seq = e->pending_snapshot_seq;
        return false;
    }
    if (*seq == e->last_snapshot_seq)
        return false; /* the newest snapshot holds everything already */
    e->snapshot_requested = true;
    return true;
}

uint32_t engine_inbox_depth(engine *e) {
    pthread_mutex_lock(&e->lock);
    uint32_t n = e->count;
    pthread_mutex_unlock(&e->lock);
    return n;
}

bool engine_refusing_changes(const engine *e) {
    return e->journal_stalled || e->journal_full;
}

/* Before a batch decides anything: is there room on disk for what it will write? */
static void reserve_journal(engine *e) {
    if (e->journal == NULL || e->journal_stalled)
        return;
    int rc = journal_reserve(e->journal, e->config.journal_reserve_bytes);
    if (rc != 0 && !e->journal_full)
        log_error("journal: no room on disk (%s); refusing changes, answering reads",
                  strerror(-rc));
    if (rc == 0 && e->journal_full)
        log_warn("journal: room on disk again; accepting changes");
    e->journal_full = rc != 0;
}

static void run_job(engine *e, engine_job *job) {
    /* Each command carries the time it was received; the venue catches up to it first so that
     * it sees the market as the client did. */
    advance_clock(e, job->received_ns);
    /* While a batch is held nothing is answered from the state: it holds that batch's effects,
     * which are not durable. A disk found full before the batch leaves nothing undurable, so
     * reads go on. */
    if (e->journal_stalled || (e->journal_full && job->mutates)) {
        job->refused = true;
        job->finish(e, job);
        return;
    }
    if (e->venue != NULL && !engine_refusing_changes(e))
        venue_link_advance(e->venue, e->now_ns);
    job->run(e, job);
    job->decided_mono_ns = clock_monotonic_ns(); /* metrics: the core has decided */
    /* What the command asked of the exchange leaves now that the core is done with it. */
    if (e->venue != NULL)
        venue_link_pump(e->venue);
}

bool engine_run_batch(engine *e, engine_job **jobs, uint32_t n, int64_t now_ns) {
    if (e->pipelined && e->journal != NULL && journal_segment_full(e->journal))
        pipeline_drain(e); /* the segment rolls in this batch */
    reserve_journal(e);
    uint64_t first_seq = e->core.next_seq; /* metrics: events per batch */
    for (uint32_t i = 0; i < n; i++)
        run_job(e, jobs[i]);
    advance_clock(e, now_ns);
    if (e->venue != NULL && !engine_refusing_changes(e))
        venue_link_advance(e->venue, e->now_ns);
    /* The margin desk: a clearing due, overnight fees, margin calls; the orders of a margin call
     * leave for the exchange at once. */
    if (!engine_refusing_changes(e)) {
        core_margin_tick(&e->core, e->now_ns);
        if (e->venue != NULL)
            venue_link_pump(e->venue);
    }
    clock_moved(e);
    if (e->md_collect != NULL)
        e->md_pending = e->md_collect(e->md_ctx, e->md_pending);
    if (e->accounts_collect != NULL)
        e->accounts_pending = e->accounts_collect(e->accounts_ctx, e->accounts_pending);
    core_changes_clear(&e->core);
    engine_metrics_batch(n, e->core.next_seq - first_seq); /* metrics */
    engine_metrics_books(e);                               /* metrics: book depth */
    if (!commit_batch(e))
        return false;
    release_written(e);
    maybe_snapshot(e);
    return true;
}

/* Releases what is sealed, then ends the committer thread. */
static void stop_committer(engine *e) {
    pthread_mutex_lock(&e->commit_lock);
    e->committer_stopping = true;
    pthread_cond_signal(&e->commit_work);
    pthread_mutex_unlock(&e->commit_lock);
    pthread_join(e->committer, NULL);
    e->pipelined = false;
}

static void *engine_main(void *arg) {
    engine *e = arg;
    pthread_setname_np(pthread_self(), "core");
    engine_job **batch = calloc(e->config.max_batch, sizeof *batch);
    if (batch == NULL)
        abort();
    bool stop = false;
    while (!stop) {
        uint32_t n = take_batch(e, batch, &stop);
        engine_run_batch(e, batch, n, clock_broker_ns());
    }
    /* Control calls still waiting for the replay's clock are answered with where it stands. */
    while (e->clock_waiters != NULL) {
        engine_job *job = e->clock_waiters;
        e->clock_waiters = job->next;
        engine_finish_after_commit(e, job);
    }
    /* Calls still waiting for the exchange get the state the order has now. */
    for (uint32_t i = 0; i < e->core.pools.order_high; i++) {
        while (e->waiters[i] != NULL) {
            engine_job *job = e->waiters[i];
            e->waiters[i] = job->next;
            end_wait(e, job, &e->core.orders[i]);
        }
    }
    if (commit_batch(e))
        release_written(e);
    /* Everything written is durable at the stop, released or not. */
    if (e->journal != NULL) {
        sync_written(journal_sync_fd(e->journal));
        mark_durable(e, written_seq(e));
    }
    reap_snapshot(e, true);
    free(batch);
    return NULL;
}

int engine_start(engine *e) {
    e->pipelined = true;
    if (pthread_create(&e->committer, NULL, committer_main, e) != 0) {
        e->pipelined = false;
        return -EAGAIN;
    }
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        stop_committer(e);
        return -EAGAIN;
    }
    e->started = true;
    return 0;
}

void engine_close_market(engine *e) {
    pthread_mutex_lock(&e->lock);
    e->market_closing = true;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
}

void engine_stop(engine *e) {
    if (!e->started)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    stop_committer(e);
    e->started = false;
}
