/* The history store on disk: one file per instrument, DIR/history/<uid>.tcs (docs/HISTORY.md).
 *
 * DESIGN: a file is written whole to DIR/history/<uid>.tcs.tmp, fsynced, and renamed over the
 * old one (then the directory is fsynced), so a reader sees the old file or the new one, never a
 * part. A reader loads and checks the whole file (both CRCs, order, every record's rules) before
 * it hands out one candle: the replay gets either a checked history or an error. */
#ifndef TINVESTD_HISTORY_STORE_H
#define TINVESTD_HISTORY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "history/history.h"

#define HISTORY_DIR_NAME "history"
#define HISTORY_FILE_SUFFIX ".tcs"
#define HISTORY_TEMP_SUFFIX ".tcs.tmp"
/* Default of the configuration's history.max_candles_per_instrument: about 8 years of a share
 * traded 800 minutes a day; 192 MB of records. */
#define HISTORY_DEFAULT_MAX_CANDLES 4000000u

/* One instrument's history, loaded and checked. Owns `candles` (history_reader_close frees). */
typedef struct history_reader {
    history_header header;
    history_candle *candles;
    size_t count;
} history_reader;

/* Opens DIR/history/<uid>.tcs. Returns 0; -ENOENT when the instrument has no history (the
 * reader is then empty and may be closed); -EFBIG when it holds more than `max_candles`;
 * -EINVAL when the file is damaged (its reason in `error`); another -errno for I/O. */
int history_reader_open(history_reader *r, const char *data_dir, const char *uid,
                        uint64_t max_candles, char *error, size_t error_size);
void history_reader_close(history_reader *r);

/* The index of the first candle opening at or after `time_s` (count when none). */
size_t history_reader_seek(const history_reader *r, int64_t time_s);

/* Iteration over the candles opening in [from_s, to_s). */
typedef struct history_cursor {
    const history_candle *next, *end;
} history_cursor;

history_cursor history_reader_range(const history_reader *r, int64_t from_s, int64_t to_s);
/* The next candle, or NULL at the end. */
const history_candle *history_cursor_next(history_cursor *c);

/* Writes `count` sorted candles of `uid` to DIR/history/<uid>.tcs.tmp (creating DIR/history)
 * and fsyncs it. Returns 0 or -errno (with `error`); on failure no temporary file is left. */
int history_store_write_temp(const char *data_dir, const char *uid, const history_candle *candles,
                             size_t count, char *error, size_t error_size);
/* Renames DIR/history/<uid>.tcs.tmp over <uid>.tcs. */
int history_store_commit(const char *data_dir, const char *uid, char *error, size_t error_size);
/* Removes DIR/history/<uid>.tcs.tmp if it is there. */
void history_store_discard(const char *data_dir, const char *uid);
/* fsyncs DIR/history, so that the renames before it are durable. */
int history_store_sync_dir(const char *data_dir, char *error, size_t error_size);

#endif
