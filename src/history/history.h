/* Minute candles of T-Invest's history archives: the values, the rules of a row, the store's
 * format.
 *
 * DESIGN: this header and history_row.c, history_format.c and history_merge.c are pure (no I/O,
 * no clock, no threads: cmake/pure_module.h is forced in front of them); reading archives and
 * writing the store is history_store.c and history_import.c, built as a module of their own.
 * Times are UTC seconds since 1970 of the minute a candle opens; prices are nano-units of the
 * instrument's price (the contract's Quotation resolution); volume is in lots. docs/HISTORY.md
 * describes the archive rows and the store file. */
#ifndef TINVESTD_HISTORY_HISTORY_H
#define TINVESTD_HISTORY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An instrument uid as the archives write it: 36 characters (8-4-4-4-12 hexadecimal). */
#define HISTORY_UID_LEN 36

typedef struct history_candle {
    int64_t time_s; /* UTC start of the minute, a multiple of 60 */
    int64_t open_nano, high_nano, low_nano, close_nano;
    int64_t volume_lots;
} history_candle;

/* ---- One row of an archive's CSV member (history_row.c) ------------------------------------- */

typedef enum {
    HISTORY_ROW_OK = 0,
    HISTORY_ROW_BLANK,           /* an empty line: skipped, not an error */
    HISTORY_ROW_FIELD_COUNT,     /* not 7 fields (an empty 8th after a trailing ';' is allowed) */
    HISTORY_ROW_BAD_UID,         /* not a uid of 36 hexadecimal digits and dashes */
    HISTORY_ROW_BAD_TIME,        /* not YYYY-MM-DDTHH:MM:SSZ, or not a date */
    HISTORY_ROW_TIME_NOT_MINUTE, /* seconds other than 00 */
    HISTORY_ROW_BAD_PRICE,       /* a price that is not an exact decimal of at most 9 places */
    HISTORY_ROW_BAD_VOLUME,      /* a volume that is not an integer */
    HISTORY_ROW_NEGATIVE_VOLUME, /* a volume below zero */
    HISTORY_ROW_HIGH_BELOW_LOW,  /* high < low */
    HISTORY_ROW_OPEN_OUTSIDE,    /* open outside [low, high] */
    HISTORY_ROW_CLOSE_OUTSIDE,   /* close outside [low, high] */
    HISTORY_ROW_PRICE_NOT_POSITIVE, /* low at or below zero: the exchange trades above zero */
    HISTORY_ROW_VOLUME_TOO_LARGE,   /* above HISTORY_MAX_VOLUME_LOTS */
} history_row_status;

/* The largest volume of one minute: a year of such minutes still sums within int64 in a
 * candle of the replay (candles_trade_fits). */
#define HISTORY_MAX_VOLUME_LOTS 1000000000000LL

typedef struct history_row {
    char uid[HISTORY_UID_LEN + 1];
    history_candle candle;
} history_row;

/* Parses one line (without its '\n'; a trailing '\r' is ignored) of `len` bytes. The line need
 * not be NUL-terminated. On anything but HISTORY_ROW_OK, `out` is unspecified. */
history_row_status history_row_parse(const char *line, size_t len, history_row *out);

/* A sentence for a status, for "file:line: <text>". */
const char *history_row_status_text(history_row_status status);

/* True when `text` (of `len` bytes) is a uid as the archives write it. */
bool history_uid_valid(const char *text, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date; false when it is not a date. */
bool history_days_from_civil(int64_t year, int month, int day, int64_t *days);

/* ---- Candles in an import: where each came from, sorting, duplicates (history_merge.c) ------- */

typedef struct history_entry {
    history_candle candle;
    uint32_t source; /* the importer's index of the file (and member) the row came from */
    uint32_t line;   /* 1-based line inside it */
} history_entry;

/* Sorts by time; rows of the same minute stay in the order they were read. */
void history_entries_sort(history_entry *entries, size_t count);

/* What history_entries_dedup found in sorted entries. */
typedef struct history_dedup_result {
    size_t kept;      /* entries left, the first of each minute */
    size_t identical; /* later rows of a minute equal to its first: dropped */
    size_t conflicts; /* later rows of a minute with other values: errors */
} history_dedup_result;

/* Called for each conflicting pair (the first row of the minute, the differing one). */
typedef void (*history_conflict_fn)(void *ctx, const history_entry *first,
                                    const history_entry *other);

/* Keeps the first entry of each minute of sorted `entries` (compacted in place); reports each
 * row that differs from its minute's first through `on_conflict` (may be NULL). */
history_dedup_result history_entries_dedup(history_entry *entries, size_t count,
                                           history_conflict_fn on_conflict, void *ctx);

bool history_candle_equal(const history_candle *a, const history_candle *b);

/* Gaps: inside one UTC day, minutes missing between two candles that follow each other (a
 * session's pauses included; nights, weekends and holidays are not counted). */
typedef struct history_gaps {
    uint64_t runs;    /* places where at least one minute is missing */
    uint64_t minutes; /* minutes missing in all */
} history_gaps;

history_gaps history_count_gaps(const history_candle *candles, size_t count);

/* Merge of a store's sorted, distinct candles with an import's (sorted, distinct) into `out`
 * (room for `capacity`). A minute in both must hold equal values. */
typedef enum {
    HISTORY_MERGE_OK = 0,
    HISTORY_MERGE_CONFLICT, /* a minute stored with other values: *conflict_index names the
                               import's candle */
    HISTORY_MERGE_FULL,     /* more than `capacity` candles */
} history_merge_status;

typedef struct history_merge_result {
    size_t count;          /* candles in `out` */
    size_t added;          /* candles of the import that were not stored */
    size_t already_stored; /* candles of the import stored before with equal values */
    size_t conflict_index; /* on HISTORY_MERGE_CONFLICT: index into `incoming` */
} history_merge_result;

history_merge_status history_merge(const history_candle *stored, size_t stored_count,
                                   const history_candle *incoming, size_t incoming_count,
                                   history_candle *out, size_t capacity,
                                   history_merge_result *result);

/* The first index whose time is >= time_s (count when none): a binary search. */
size_t history_lower_bound(const history_candle *candles, size_t count, int64_t time_s);

/* ---- The store file (history_format.c) ------------------------------------------------------ */

#define HISTORY_FILE_MAGIC "TIHIST\r\n"
#define HISTORY_FILE_VERSION 1u
#define HISTORY_HEADER_BYTES 128u
#define HISTORY_RECORD_BYTES 48u

typedef struct history_header {
    char uid[HISTORY_UID_LEN + 1];
    uint64_t count;
    int64_t first_s, last_s; /* 0 when count is 0 */
    uint32_t records_crc32c;
} history_header;

typedef enum {
    HISTORY_FORMAT_OK = 0,
    HISTORY_FORMAT_BAD_MAGIC,
    HISTORY_FORMAT_BAD_VERSION,
    HISTORY_FORMAT_BAD_HEADER_CRC,
    HISTORY_FORMAT_BAD_HEADER, /* a field out of its range (record size, uid, first > last) */
    HISTORY_FORMAT_BAD_SIZE,   /* the file's length is not header + count records */
    HISTORY_FORMAT_BAD_CRC,    /* the records' CRC32C differs */
    HISTORY_FORMAT_UNSORTED,   /* records not strictly increasing by time, or off a minute */
    HISTORY_FORMAT_BAD_RECORD, /* a record breaking a row's rules (high < low, ...) */
} history_format_status;

const char *history_format_status_text(history_format_status status);

void history_header_encode(const history_header *header, uint8_t out[HISTORY_HEADER_BYTES]);
history_format_status history_header_decode(const uint8_t in[HISTORY_HEADER_BYTES],
                                            history_header *header);

void history_record_encode(const history_candle *candle, uint8_t out[HISTORY_RECORD_BYTES]);
void history_record_decode(const uint8_t in[HISTORY_RECORD_BYTES], history_candle *candle);

/* The header for `count` candles of `uid` (their CRC over their encoding included). */
void history_header_for(const char *uid, const history_candle *candles, size_t count,
                        history_header *header);

/* Checks a whole file's bytes and decodes its records into `candles` (room for
 * header->count, which the caller takes from history_header_decode first). */
history_format_status history_file_decode(const uint8_t *bytes, size_t len,
                                          const history_header *header, history_candle *candles);

/* Checks one candle as a row is checked (minute, high >= low, open and close inside, volume). */
history_row_status history_candle_check(const history_candle *candle);

/* ---- A minute's path through its candle, for the replay (history_path.c) --------------------
 *
 * The replay's market moves through each minute's candle along a fixed path: open, then the
 * extreme away from the close (low for a rising candle, high for a falling one), then the other
 * extreme, then close; a rising candle is one with close >= open. Each point is printed at its
 * quarter of the minute (:00, :15, :30, :45); a point at the price of the one before it is left
 * out (its quarter stays empty), so a flat candle is one print at :00. The candle's volume is
 * shared out over the points: each gets volume / points, the first volume % points one lot
 * more; a point may get 0 lots (a volume smaller than the path), and moves the price without a
 * trade. Printed in this way the points give back exactly the candle: open, high, low, close and
 * volume. */
#define HISTORY_PATH_MAX_POINTS 4
#define HISTORY_PATH_STEP_NS 15000000000LL

typedef struct history_point {
    int64_t time_ns;
    int64_t price_nano;
    int64_t lots;
    bool buy; /* the incoming side bought: the price rose (or held) from the print before */
} history_point;

/* The points of `candle`'s path, in time order; `previous_nano` is the price of the print before
 * it (0: none). Returns their count, 1 .. HISTORY_PATH_MAX_POINTS. */
uint32_t history_path(const history_candle *candle, int64_t previous_nano,
                      history_point out[HISTORY_PATH_MAX_POINTS]);

#endif
