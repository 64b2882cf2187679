/* The archive worker of `GET /history-data` (history_data.h). */
#include "http/history_data.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history_store.h"
#include "http/history_archive.h"
#include "util/log.h"
#include "util/uuid.h"

struct history_data {
    const char *data_dir;
    uint64_t max_candles;
    void (*wake)(void *ctx);
    void *wake_ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t queued;
    bool stop;
    history_job *pending, **pending_tail; /* queued, in arrival order */
    history_job *finished;                /* built, for the HTTP thread (order does not matter) */
    unsigned jobs;                        /* in existence: at most HISTORY_DATA_MAX_JOBS */
};

static void set_tracking_id(rest_answer *a) {
    char id[UUID_TEXT_SIZE];
    uuid_generate_v4(id);
    snprintf(a->tracking_id, sizeof a->tracking_id, "%s", id);
}

/* An error answer: the proxy's JSON error body with the HTTP status `http_status`. */
static void fail(rest_answer *a, int grpc_status, int http_status, const char *message) {
    if (rest_answer_error(a, grpc_status, message, "") != 0) {
        a->body = NULL;
        a->body_len = 0;
    }
    a->http_status = http_status;
}

static void build(const history_data *data, history_job *job) {
    rest_answer *a = &job->answer;
    set_tracking_id(a);
    char error[512] = "";
    history_reader reader;
    int rc = history_reader_open(&reader, data->data_dir, job->uid, data->max_candles, error,
                                 sizeof error);
    char message[160];
    if (rc == -ENOENT) {
        snprintf(message, sizeof message, "no history of instrument %s in %d", job->uid, job->year);
        fail(a, 5, 404, message);
        return;
    }
    if (rc != 0) {
        log_warn("history-data: %s: %s", job->uid, rc == -EINVAL ? error : strerror(-rc));
        fail(a, 13, 500, "the instrument's history cannot be read");
        return;
    }
    char *zip = NULL;
    size_t zip_len = 0, candles = 0;
    rc = history_archive_build(&reader, job->uid, job->year, &zip, &zip_len, &candles);
    history_reader_close(&reader);
    if (rc == -ENOENT) {
        snprintf(message, sizeof message, "no history of instrument %s in %d", job->uid, job->year);
        fail(a, 5, 404, message);
        return;
    }
    if (rc != 0) {
        log_warn("history-data: %s %d: the archive cannot be built (%s)", job->uid, job->year,
                 strerror(-rc));
        fail(a, 13, 500, "the archive cannot be built");
        return;
    }
    a->http_status = 200;
    a->content_type = "application/zip";
    a->body = zip;
    a->body_len = zip_len;
    log_info("history-data: %s %d: %zu candles, %zu bytes", job->uid, job->year, candles, zip_len);
}

static void *worker(void *arg) {
    history_data *data = arg;
    pthread_mutex_lock(&data->lock);
    for (;;) {
        while (!data->stop && data->pending == NULL)
            pthread_cond_wait(&data->queued, &data->lock);
        if (data->stop)
            break;
        history_job *job = data->pending;
        data->pending = job->next;
        if (data->pending == NULL)
            data->pending_tail = &data->pending;
        bool abandoned = job->abandoned;
        pthread_mutex_unlock(&data->lock);
        if (!abandoned)
            build(data, job);
        pthread_mutex_lock(&data->lock);
        job->next = data->finished;
        data->finished = job;
        pthread_mutex_unlock(&data->lock);
        data->wake(data->wake_ctx);
        pthread_mutex_lock(&data->lock);
    }
    pthread_mutex_unlock(&data->lock);
    return NULL;
}

history_data *history_data_create(const char *data_dir, uint64_t max_candles,
                                  void (*wake)(void *ctx), void *wake_ctx) {
    history_data *data = calloc(1, sizeof *data);
    if (data == NULL)
        return NULL;
    data->data_dir = data_dir;
    data->max_candles = max_candles;
    data->wake = wake;
    data->wake_ctx = wake_ctx;
    data->pending_tail = &data->pending;
    pthread_mutex_init(&data->lock, NULL);
    pthread_cond_init(&data->queued, NULL);
    if (pthread_create(&data->thread, NULL, worker, data) != 0) {
        pthread_cond_destroy(&data->queued);
        pthread_mutex_destroy(&data->lock);
        free(data);
        return NULL;
    }
    return data;
}

history_job *history_data_submit(history_data *data, const char *uid, int year, void *owner) {
    assert(strlen(uid) == HISTORY_UID_LEN);
    pthread_mutex_lock(&data->lock);
    history_job *job = NULL;
    if (data->jobs < HISTORY_DATA_MAX_JOBS && (job = calloc(1, sizeof *job)) != NULL) {
        memcpy(job->uid, uid, HISTORY_UID_LEN + 1);
        job->year = year;
        job->owner = owner;
        *data->pending_tail = job;
        data->pending_tail = &job->next;
        data->jobs++;
        pthread_cond_signal(&data->queued);
    }
    pthread_mutex_unlock(&data->lock);
    return job;
}

void history_data_abandon(history_data *data, history_job *job) {
    pthread_mutex_lock(&data->lock);
    job->abandoned = true;
    pthread_mutex_unlock(&data->lock);
}

history_job *history_data_take(history_data *data) {
    pthread_mutex_lock(&data->lock);
    history_job *job = data->finished;
    if (job != NULL)
        data->finished = job->next;
    pthread_mutex_unlock(&data->lock);
    return job;
}

void history_job_free(history_data *data, history_job *job) {
    if (job == NULL)
        return;
    pthread_mutex_lock(&data->lock);
    assert(data->jobs > 0);
    data->jobs--;
    pthread_mutex_unlock(&data->lock);
    free(job->answer.body);
    free(job);
}

static void free_list(history_job *job) {
    while (job != NULL) {
        history_job *next = job->next;
        free(job->answer.body);
        free(job);
        job = next;
    }
}

void history_data_destroy(history_data *data) {
    if (data == NULL)
        return;
    pthread_mutex_lock(&data->lock);
    data->stop = true;
    pthread_cond_signal(&data->queued);
    pthread_mutex_unlock(&data->lock);
    pthread_join(data->thread, NULL);
    free_list(data->pending);
    free_list(data->finished);
    pthread_cond_destroy(&data->queued);
    pthread_mutex_destroy(&data->lock);
    free(data);
}
