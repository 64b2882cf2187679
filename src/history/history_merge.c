/* Candles in order: sorting an import's rows, dropping repeated minutes, counting gaps, merging
 * an import into what a store holds, and the binary search of the reader. */
#include <assert.h>
#include <stdlib.h>

#include "history/history.h"

#define SECONDS_PER_DAY 86400
#define SECONDS_PER_MINUTE 60

/* Entries carry their position (source, line) which only increases in reading order, so
 * comparing it after the time makes qsort stable for rows of the same minute. */
static int compare_entries(const void *pa, const void *pb) {
    const history_entry *a = pa, *b = pb;
    if (a->candle.time_s != b->candle.time_s)
        return a->candle.time_s < b->candle.time_s ? -1 : 1;
    if (a->source != b->source)
        return a->source < b->source ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return 0;
}

void history_entries_sort(history_entry *entries, size_t count) {
    if (count > 1)
        qsort(entries, count, sizeof *entries, compare_entries);
}

bool history_candle_equal(const history_candle *a, const history_candle *b) {
    return a->time_s == b->time_s && a->open_nano == b->open_nano && a->high_nano == b->high_nano &&
           a->low_nano == b->low_nano && a->close_nano == b->close_nano &&
           a->volume_lots == b->volume_lots;
}

history_dedup_result history_entries_dedup(history_entry *entries, size_t count,
                                           history_conflict_fn on_conflict, void *ctx) {
    history_dedup_result result = {0};
    for (size_t i = 0; i < count; i++) {
        if (result.kept > 0) {
            const history_entry *first = &entries[result.kept - 1];
            assert(first->candle.time_s <= entries[i].candle.time_s);
            if (first->candle.time_s == entries[i].candle.time_s) {
                if (history_candle_equal(&first->candle, &entries[i].candle)) {
                    result.identical++;
                } else {
                    result.conflicts++;
                    if (on_conflict != NULL)
                        on_conflict(ctx, first, &entries[i]);
                }
                continue;
            }
        }
        entries[result.kept++] = entries[i];
    }
    return result;
}

/* Floor division, so that times before 1970 fall in the right day. */
static int64_t day_of(int64_t time_s) {
    int64_t day = time_s / SECONDS_PER_DAY;
    return time_s % SECONDS_PER_DAY < 0 ? day - 1 : day;
}

history_gaps history_count_gaps(const history_candle *candles, size_t count) {
    history_gaps gaps = {0};
    for (size_t i = 1; i < count; i++) {
        int64_t before = candles[i - 1].time_s, after = candles[i].time_s;
        assert(after > before);
        if (day_of(before) != day_of(after) || after - before == SECONDS_PER_MINUTE)
            continue;
        gaps.runs++;
        gaps.minutes += (uint64_t)((after - before) / SECONDS_PER_MINUTE - 1);
    }
    return gaps;
}

history_merge_status history_merge(const history_candle *stored, size_t stored_count,
                                   const history_candle *incoming, size_t incoming_count,
                                   history_candle *out, size_t capacity,
                                   history_merge_result *result) {
    *result = (history_merge_result){0};
    size_t i = 0, j = 0, n = 0;
    while (i < stored_count || j < incoming_count) {
        const history_candle *next;
        if (j == incoming_count || (i < stored_count && stored[i].time_s < incoming[j].time_s)) {
            next = &stored[i++];
        } else if (i == stored_count || incoming[j].time_s < stored[i].time_s) {
            next = &incoming[j++];
            result->added++;
        } else {
            if (!history_candle_equal(&stored[i], &incoming[j])) {
                result->conflict_index = j;
                return HISTORY_MERGE_CONFLICT;
            }
            result->already_stored++;
            next = &stored[i++];
            j++;
        }
        if (n == capacity)
            return HISTORY_MERGE_FULL;
        assert(n == 0 || out[n - 1].time_s < next->time_s);
        out[n++] = *next;
    }
    result->count = n;
    return HISTORY_MERGE_OK;
}

size_t history_lower_bound(const history_candle *candles, size_t count, int64_t time_s) {
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (candles[mid].time_s < time_s)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}
