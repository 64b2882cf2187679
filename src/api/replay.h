/* A replay of history as the API sees it (docs/BACKTEST.md): the control service
 * tinvestd.replay.v1.ReplayService and the report of the replay.
 *
 * DESIGN: the report is computed from what the broker holds and the history it replays, never
 * from a record of its own: on the core thread a job copies each account's fills (its BUY and SELL
 * operations' trades, which a replay keeps for the whole period), its cash now, and the closes of
 * the replayed minutes up to the simulated now; off the core thread, once the batch is durable,
 * src/report turns the copy into JSON and HTML. So the report at the end of a replay and one
 * asked for on demand are made the same way, and two runs with the same input give the same
 * bytes. */
#ifndef TINVESTD_API_REPLAY_H
#define TINVESTD_API_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "api/call.h"
#include "engine/engine.h"
#include "engine/history_market.h"
#include "util/clock.h"

typedef struct api_replay {
    int64_t from_ns, to_ns;
    clock_replay_mode mode;
    char speed[24]; /* at the start: "max", "step", or the factor as given (the clock has the
                     * speed in force: clock_replay_speed_text) */
    const char *data_dir;
    const char *title;
    /* The replayed instruments' candles (read-only for the life of the server). */
    const history_market_source *sources;
    uint32_t source_count;
    history_market *market; /* the core thread's */
} api_replay;

/* The replay's report, copied on the core thread. */
typedef struct replay_report replay_report;

replay_report *replay_report_collect(engine *e, const api_replay *replay);
/* Writes DATA_DIR/reports/report.json and report.html (each through a temporary file and a
 * rename); their paths into json_path and html_path. 0, or -errno with `error`. */
int replay_report_write(const replay_report *report, const api_replay *replay, char *json_path,
                        char *html_path, size_t path_size, char *error, size_t error_size);
void replay_report_free(replay_report *report);

/* The hook the engine calls when the clock reaches the replay's end (engine.replay_ended): the
 * report is collected in that batch and written once it is durable. `ctx` is the api_replay. */
void api_replay_ended(void *ctx, engine *e);

const api_method *api_replay_methods(size_t *count);
/* ReplayService/Advance's handler, which AdminService/Advance serves as well (12001 without
 * --replay). */
void api_replay_advance(api_call *call, const ProtobufCMessage *request);
/* AdminService/SetReplaySpeed's handler: the clock's mode and speed change on the core thread,
 * between two batches, and the answer is the replay's state then (12001 without --replay). */
void api_replay_set_speed(api_call *call, const ProtobufCMessage *request);

#endif
