/* `GET /history-data`: the worker that builds history archives off the HTTP thread.
 *
 * DESIGN: reading an instrument's store file and compressing a year of minutes takes longer than
 * the HTTP loop may stop (docs/BENCHMARKS.md, "History archives over HTTP"), so the HTTP thread
 * queues a job and goes on; one worker thread opens the store, builds the archive
 * (history_archive.h) and hands the answer back as the REST bridge does: a locked queue and the
 * `wake` callback (lws_cancel_service). A job has one owner at a time: the worker until it is
 * finished, the HTTP thread once taken. A client that leaves marks its job abandoned; the worker
 * skips an abandoned job and the HTTP thread frees it when taken. At most HISTORY_DATA_MAX_JOBS
 * jobs exist at once (queued, running or finished and not yet taken): one more is refused, and
 * the caller answers 429, which the official download script waits on and retries. */
#ifndef TINVESTD_HTTP_HISTORY_DATA_H
#define TINVESTD_HTTP_HISTORY_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "history/history.h"
#include "http/rest_bridge.h"

/* Archive requests held at once; one store file is read at a time (up to
 * history.max_candles_per_instrument × 48 bytes of memory). */
#define HISTORY_DATA_MAX_JOBS 4

typedef struct history_data history_data;

typedef struct history_job {
    struct history_job *next;
    void *owner;    /* the HTTP thread's (its session); the worker never reads it */
    bool abandoned; /* under the worker's lock */
    char uid[HISTORY_UID_LEN + 1];
    int year;
    rest_answer answer; /* valid once taken */
} history_job;

/* Starts the worker for the store in DATA_DIR/history (`data_dir` is kept, not copied), reading
 * at most `max_candles` candles per instrument. NULL when the thread cannot start. */
history_data *history_data_create(const char *data_dir, uint64_t max_candles,
                                  void (*wake)(void *ctx), void *wake_ctx);

/* Queues the archive of `uid` (an instrument uid, 36 characters) for `year`. NULL when
 * HISTORY_DATA_MAX_JOBS jobs exist already, or out of memory. */
history_job *history_data_submit(history_data *data, const char *uid, int year, void *owner);

/* The client left: the job is not built if it has not started, and is freed when taken. */
void history_data_abandon(history_data *data, history_job *job);

/* The next finished job, or NULL (HTTP thread). The caller frees it with history_job_free. */
history_job *history_data_take(history_data *data);
void history_job_free(history_data *data, history_job *job);

/* Stops the worker after its current job and frees every job still held. */
void history_data_destroy(history_data *data);

#endif
