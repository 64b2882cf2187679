/* --replay and --speed, and the replay's history (replay_setup.h). */
#include "replay_setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"

#define NS_PER_S 1000000000LL

/* YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ: seconds since 1970 UTC; *whole_day tells which. */
static bool parse_time(const char *text, size_t len, int64_t *out_s, bool *whole_day) {
    int y, mo, d, h = 0, mi = 0, s = 0, used = 0;
    if (len == 10) {
        if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
            return false;
        *whole_day = true;
    } else if (len == 20) {
        if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
            used != 20)
            return false;
        *whole_day = false;
    } else {
        return false;
    }
    for (size_t i = 0; i < len; i++)
        if (strchr("0123456789-T:Z", text[i]) == NULL)
            return false;
    int64_t days;
    if (y < 1970 || y > 2200 || !history_days_from_civil(y, mo, d, &days) || h > 23 || mi > 59 ||
        s > 59)
        return false;
    *out_s = days * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

int replay_parse_period(const char *text, int64_t *from_ns, int64_t *to_ns, char *error,
                        size_t error_size) {
    const char *dots = strstr(text, "..");
    int64_t from_s, to_s;
    bool from_day, to_day;
    if (dots == NULL || !parse_time(text, (size_t)(dots - text), &from_s, &from_day) ||
        !parse_time(dots + 2, strlen(dots + 2), &to_s, &to_day)) {
        snprintf(error, error_size,
                 "--replay: not FROM..TO of dates (2024-01-02..2024-01-05) or UTC times "
                 "(2024-01-02T07:00:00Z..2024-01-02T16:00:00Z)");
        return -1;
    }
    (void)from_day;
    if (to_day)
        to_s += 86400; /* a date counts whole */
    if (to_s <= from_s) {
        snprintf(error, error_size, "--replay: TO is not after FROM");
        return -1;
    }
    *from_ns = from_s * NS_PER_S;
    *to_ns = to_s * NS_PER_S;
    return 0;
}

int replay_parse_speed(const char *text, clock_replay_mode *mode, int64_t *speed_milli, char *error,
                       size_t error_size) {
    if (clock_replay_parse_speed(text, mode, speed_milli) == 0)
        return 0;
    snprintf(error, error_size,
             "--speed: \"max\", \"step\", or how many times real time (above 0, up to "
             "1000000, at most 3 decimal places), e.g. 60");
    return -1;
}

int replay_setup_load(replay_setup *r, const refdata *rd, const char *data_dir,
                      uint64_t max_candles, char *error, size_t error_size) {
    r->readers = calloc(rd->instrument_count ? rd->instrument_count : 1, sizeof *r->readers);
    r->sources = calloc(rd->instrument_count ? rd->instrument_count : 1, sizeof *r->sources);
    if (r->readers == NULL || r->sources == NULL) {
        snprintf(error, error_size, "out of memory for the history");
        return -1;
    }
    int64_t from_s = r->api.from_ns / NS_PER_S, to_s = r->api.to_ns / NS_PER_S;
    size_t in_period = 0;
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const char *uid = rd->instruments[i].uid;
        if (uid == NULL || !history_uid_valid(uid, strlen(uid)))
            continue; /* no archive names it */
        history_reader *reader = &r->readers[r->source_count];
        char why[256] = "";
        int rc = history_reader_open(reader, data_dir, rd->instruments[i].uid, max_candles, why,
                                     sizeof why);
        if (rc == -ENOENT)
            continue;
        if (rc != 0) {
            snprintf(error, error_size, "history of %s (%s): %s", rd->instruments[i].ticker,
                     rd->instruments[i].uid, why[0] != '\0' ? why : strerror(-rc));
            return -1;
        }
        in_period += history_lower_bound(reader->candles, reader->count, to_s) -
                     history_lower_bound(reader->candles, reader->count, from_s);
        r->sources[r->source_count++] = (history_market_source){
            .instrument = i, .candles = reader->candles, .count = reader->count};
    }
    if (in_period == 0) {
        snprintf(error, error_size,
                 "no history in the period in %s/%s (import archives with `tinvestd history "
                 "import`: docs/HISTORY.md)",
                 data_dir, HISTORY_DIR_NAME);
        return -1;
    }
    r->api.sources = r->sources;
    r->api.source_count = r->source_count;
    r->api.market =
        history_market_create(r->sources, r->source_count, r->api.from_ns, r->api.to_ns);
    if (r->api.market == NULL) {
        snprintf(error, error_size, "out of memory for the history");
        return -1;
    }
    return 0;
}

void replay_setup_unload(replay_setup *r) {
    history_market_destroy(r->api.market);
    for (uint32_t i = 0; i < r->source_count; i++)
        history_reader_close(&r->readers[i]);
    free(r->readers);
    free(r->sources);
    memset(r, 0, sizeof *r);
}
