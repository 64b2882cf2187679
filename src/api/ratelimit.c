#include "api/ratelimit.h"

#include <errno.h>
#include <stdlib.h>

int ratelimit_init(ratelimit *rl, uint32_t token_count, uint32_t method_count) {
    rl->token_count = token_count;
    rl->method_count = method_count;
    size_t cells = (size_t)(token_count ? token_count : 1) * method_count;
    rl->windows = calloc(cells, sizeof *rl->windows);
    if (rl->windows == NULL)
        return -ENOMEM;
    pthread_mutex_init(&rl->lock, NULL);
    return 0;
}

void ratelimit_deinit(ratelimit *rl) {
    if (rl->windows != NULL)
        pthread_mutex_destroy(&rl->lock);
    free(rl->windows);
    rl->windows = NULL;
}

bool ratelimit_take(ratelimit *rl, uint32_t token_index, uint32_t bucket_index,
                    int32_t limit_per_minute, int64_t now_s, api_rate_info *info) {
    int64_t window_start_s = now_s - now_s % 60;
    info->reset_s = (int32_t)(window_start_s + 60 - now_s);
    if (limit_per_minute <= 0) {
        /* Unlimited. Reported as a limit no client reaches rather than as 0: a bot that pauses
         * when `remaining` hits 0 must not stall against a server without limits. */
        info->limit = RATELIMIT_UNLIMITED_REPORTED;
        info->remaining = RATELIMIT_UNLIMITED_REPORTED;
        return true;
    }
    ratelimit_window *w = &rl->windows[(size_t)token_index * rl->method_count + bucket_index];
    info->limit = limit_per_minute;
    pthread_mutex_lock(&rl->lock);
    if (w->window_start_s != window_start_s) {
        w->window_start_s = window_start_s;
        w->used = 0;
    }
    bool taken = w->used < limit_per_minute;
    if (taken)
        w->used++;
    info->remaining = limit_per_minute - w->used;
    pthread_mutex_unlock(&rl->lock);
    return taken;
}
