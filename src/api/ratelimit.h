/* Per-token request limits in fixed one-minute windows, like the real API's "N requests per
 * minute" tariff. A budget (bucket) belongs to one method or is shared by a service's methods, as
 * the real limits are set per service with a few methods on their own. Taken by every
 * completion-queue thread, under one lock (held for a few comparisons). */
#ifndef TINVESTD_API_RATELIMIT_H
#define TINVESTD_API_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/call.h"

typedef struct ratelimit_window {
    int64_t window_start_s;
    int32_t used;
} ratelimit_window;

typedef struct ratelimit {
    pthread_mutex_t lock;
    uint32_t token_count, method_count;
    ratelimit_window *windows; /* token_count * method_count: buckets are method indexes */
} ratelimit;

int ratelimit_init(ratelimit *rl, uint32_t token_count, uint32_t method_count);
void ratelimit_deinit(ratelimit *rl);

/* What an unlimited method reports as its limit and remaining: a number no client reaches. */
#define RATELIMIT_UNLIMITED_REPORTED 1000000000

/* Counts one request and fills `info` with the headers to send. Returns false when the request
 * is over the limit (it is then not counted). A limit of 0 means unlimited: info reports
 * RATELIMIT_UNLIMITED_REPORTED as both limit and remaining. */
bool ratelimit_take(ratelimit *rl, uint32_t token_index, uint32_t bucket_index,
                    int32_t limit_per_minute, int64_t now_s, api_rate_info *info);

#endif
