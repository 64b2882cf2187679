/* A minute's path through its candle (history.h): what the replay's market prints. */
#include "history/history.h"

uint32_t history_path(const history_candle *candle, int64_t previous_nano,
                      history_point out[HISTORY_PATH_MAX_POINTS]) {
    bool rising = candle->close_nano >= candle->open_nano;
    const int64_t prices[HISTORY_PATH_MAX_POINTS] = {
        candle->open_nano, rising ? candle->low_nano : candle->high_nano,
        rising ? candle->high_nano : candle->low_nano, candle->close_nano};
    int64_t minute_ns = candle->time_s * 1000000000LL;
    uint32_t n = 0;
    for (uint32_t quarter = 0; quarter < HISTORY_PATH_MAX_POINTS; quarter++) {
        if (n > 0 && prices[quarter] == out[n - 1].price_nano)
            continue;
        int64_t before = n > 0 ? out[n - 1].price_nano : previous_nano;
        out[n++] = (history_point){.time_ns = minute_ns + quarter * HISTORY_PATH_STEP_NS,
                                   .price_nano = prices[quarter],
                                   .buy = before == 0 || prices[quarter] >= before};
    }
    int64_t share = candle->volume_lots / n, extra = candle->volume_lots % n;
    for (uint32_t i = 0; i < n; i++)
        out[i].lots = share + ((int64_t)i < extra ? 1 : 0);
    return n;
}
