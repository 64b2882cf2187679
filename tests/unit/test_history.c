/* src/history: archive rows, the store's format, sorting, repeated minutes, gaps, merging, the
 * reader, and the import of CSV files into a store (all or nothing). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "history/history.h"
#include "history/history_import.h"
#include "history/history_store.h"
#include "test_files.h"

#define UID "e6123145-9665-43e0-8413-cd61b8aa9b13"
#define UID2 "962e2a95-02a9-4171-abd7-aa198dbe643a"
#define T_2024_01_03 1704240000LL /* 2024-01-03T00:00:00Z */

static history_row_status parse(const char *line, history_row *row) {
    return history_row_parse(line, strlen(line), row);
}

static void test_rows(void) {
    history_row row;
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;271.5;272;272.1;271.4;1200;", &row),
                 HISTORY_ROW_OK);
    CHECK(strcmp(row.uid, UID) == 0);
    CHECK_EQ_INT(row.candle.time_s, T_2024_01_03 + 7 * 3600);
    CHECK_EQ_INT(row.candle.open_nano, 271500000000LL);
    CHECK_EQ_INT(row.candle.close_nano, 272000000000LL);
    CHECK_EQ_INT(row.candle.high_nano, 272100000000LL);
    CHECK_EQ_INT(row.candle.low_nano, 271400000000LL);
    CHECK_EQ_INT(row.candle.volume_lots, 1200);
    /* Without the trailing ';', with CRLF, nine decimals. */
    CHECK_EQ_INT(parse(UID
                       ";2024-01-03T07:00:00Z;0.000000001;0.000000001;0.000000002;0.000000001;0\r",
                       &row),
                 HISTORY_ROW_OK);
    CHECK_EQ_INT(row.candle.high_nano, 2);
    CHECK_EQ_INT(parse("", &row), HISTORY_ROW_BLANK);
    CHECK_EQ_INT(parse("\r", &row), HISTORY_ROW_BLANK);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;1", &row), HISTORY_ROW_FIELD_COUNT);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;1;1;;", &row), HISTORY_ROW_FIELD_COUNT);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;1;1;x", &row), HISTORY_ROW_FIELD_COUNT);
    CHECK_EQ_INT(parse("e6123145_9665-43e0-8413-cd61b8aa9b13;2024-01-03T07:00:00Z;1;1;1;1;1", &row),
                 HISTORY_ROW_BAD_UID);
    CHECK_EQ_INT(parse(UID ";2024-01-03 07:00:00;1;1;1;1;1", &row), HISTORY_ROW_BAD_TIME);
    CHECK_EQ_INT(parse(UID ";2023-02-29T07:00:00Z;1;1;1;1;1", &row), HISTORY_ROW_BAD_TIME);
    CHECK_EQ_INT(parse(UID ";2024-02-29T24:00:00Z;1;1;1;1;1", &row), HISTORY_ROW_BAD_TIME);
    CHECK_EQ_INT(parse(UID ";2024-02-29T23:59:00Z;1;1;1;1;1", &row), HISTORY_ROW_OK);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:30Z;1;1;1;1;1", &row), HISTORY_ROW_TIME_NOT_MINUTE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1.5e2;1;1;1;1", &row), HISTORY_ROW_BAD_PRICE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1.0000000001;1;1;1", &row),
                 HISTORY_ROW_BAD_PRICE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;99999999999;1;1", &row),
                 HISTORY_ROW_BAD_PRICE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;;1", &row), HISTORY_ROW_BAD_PRICE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;1;1.5", &row), HISTORY_ROW_BAD_VOLUME);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;1;99999999999999999999", &row),
                 HISTORY_ROW_BAD_VOLUME);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;1;-3", &row), HISTORY_ROW_NEGATIVE_VOLUME);
    /* The replay prints above zero and sums a year of volumes within int64. */
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;0;3", &row),
                 HISTORY_ROW_PRICE_NOT_POSITIVE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;0;0;0;0;3", &row),
                 HISTORY_ROW_PRICE_NOT_POSITIVE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;1;1000000000000", &row), HISTORY_ROW_OK);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;1;1000000000001", &row),
                 HISTORY_ROW_VOLUME_TOO_LARGE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;1;1;1;2;1", &row), HISTORY_ROW_HIGH_BELOW_LOW);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;3;2;2;1;1", &row), HISTORY_ROW_OPEN_OUTSIDE);
    CHECK_EQ_INT(parse(UID ";2024-01-03T07:00:00Z;2;0.5;2;1;1", &row), HISTORY_ROW_CLOSE_OUTSIDE);
    int64_t days = -1;
    CHECK(history_days_from_civil(1970, 1, 1, &days) && days == 0);
    CHECK(history_days_from_civil(2024, 1, 3, &days) && days * 86400 == T_2024_01_03);
    CHECK(history_days_from_civil(1969, 12, 31, &days) && days == -1);
    CHECK(!history_days_from_civil(2024, 13, 1, &days));
}

static history_candle candle(int64_t minute, int64_t price, int64_t volume) {
    return (history_candle){
        T_2024_01_03 + minute * 60, price, price + 2, price - 1, price + 1, volume};
}

static int conflicts_seen;
static void count_conflict(void *ctx, const history_entry *first, const history_entry *other) {
    (void)ctx;
    CHECK_EQ_INT(first->line, 1);
    CHECK_EQ_INT(other->line, 4);
    conflicts_seen++;
}

static void test_sort_dedup_gaps(void) {
    history_entry e[] = {
        {candle(5, 100, 1), 0, 1}, {candle(1, 100, 1), 0, 2}, {candle(5, 100, 1), 0, 3},
        {candle(5, 100, 2), 1, 4}, {candle(2, 100, 1), 1, 5},
    };
    history_entries_sort(e, 5);
    CHECK_EQ_INT(e[0].line, 2);
    CHECK_EQ_INT(e[2].line, 1); /* the first of minute 5 read */
    history_dedup_result r = history_entries_dedup(e, 5, count_conflict, NULL);
    CHECK_EQ_INT(r.kept, 3);
    CHECK_EQ_INT(r.identical, 1);
    CHECK_EQ_INT(r.conflicts, 1);
    CHECK_EQ_INT(conflicts_seen, 1);
    history_candle c[] = {e[0].candle, e[1].candle, e[2].candle,
                          candle(24 * 60 + 3, 1, 1) /* the next day: not a gap */};
    history_gaps g = history_count_gaps(c, 4);
    CHECK_EQ_INT(g.runs, 1);    /* minute 2 to minute 5 */
    CHECK_EQ_INT(g.minutes, 2); /* 3 and 4 */
}

static void test_merge_and_search(void) {
    history_candle stored[] = {candle(0, 10, 1), candle(2, 10, 1), candle(4, 10, 1)};
    history_candle incoming[] = {candle(1, 20, 1), candle(2, 10, 1), candle(5, 20, 1)};
    history_candle out[6];
    history_merge_result r;
    CHECK_EQ_INT(history_merge(stored, 3, incoming, 3, out, 6, &r), HISTORY_MERGE_OK);
    CHECK_EQ_INT(r.count, 5);
    CHECK_EQ_INT(r.added, 2);
    CHECK_EQ_INT(r.already_stored, 1);
    for (size_t i = 1; i < r.count; i++)
        CHECK(out[i - 1].time_s < out[i].time_s);
    CHECK_EQ_INT(history_merge(stored, 3, incoming, 3, out, 4, &r), HISTORY_MERGE_FULL);
    incoming[1].volume_lots = 7;
    CHECK_EQ_INT(history_merge(stored, 3, incoming, 3, out, 6, &r), HISTORY_MERGE_CONFLICT);
    CHECK_EQ_INT(r.conflict_index, 1);
    CHECK_EQ_INT(history_lower_bound(stored, 3, T_2024_01_03 - 60), 0);
    CHECK_EQ_INT(history_lower_bound(stored, 3, T_2024_01_03 + 120), 1);
    CHECK_EQ_INT(history_lower_bound(stored, 3, T_2024_01_03 + 121), 2);
    CHECK_EQ_INT(history_lower_bound(stored, 3, T_2024_01_03 + 1000), 3);
    CHECK_EQ_INT(history_lower_bound(stored, 0, 0), 0);
}

static size_t encode_file(const history_candle *c, size_t n, uint8_t *bytes) {
    history_header h;
    history_header_for(UID, c, n, &h);
    history_header_encode(&h, bytes);
    for (size_t i = 0; i < n; i++)
        history_record_encode(&c[i], bytes + HISTORY_HEADER_BYTES + i * HISTORY_RECORD_BYTES);
    return HISTORY_HEADER_BYTES + n * HISTORY_RECORD_BYTES;
}

static void test_format(void) {
    /* The extremes a record may hold: the lowest price (low 1 nano), no volume; the highest
     * price and the largest volume. */
    history_candle c[] = {candle(0, 2, 0), candle(1, INT64_MAX - 2, HISTORY_MAX_VOLUME_LOTS)};
    uint8_t bytes[HISTORY_HEADER_BYTES + 2 * HISTORY_RECORD_BYTES];
    size_t len = encode_file(c, 2, bytes);
    history_header h;
    history_candle back[2];
    CHECK_EQ_INT(history_header_decode(bytes, &h), HISTORY_FORMAT_OK);
    CHECK(strcmp(h.uid, UID) == 0);
    CHECK_EQ_INT(h.count, 2);
    CHECK_EQ_INT(h.first_s, c[0].time_s);
    CHECK_EQ_INT(h.last_s, c[1].time_s);
    CHECK_EQ_INT(history_file_decode(bytes, len, &h, back), HISTORY_FORMAT_OK);
    CHECK(history_candle_equal(&back[0], &c[0]) && history_candle_equal(&back[1], &c[1]));
    CHECK_EQ_INT(history_file_decode(bytes, len - 1, &h, back), HISTORY_FORMAT_BAD_SIZE);
    bytes[HISTORY_HEADER_BYTES + 50] ^= 1; /* a record's bit */
    CHECK_EQ_INT(history_file_decode(bytes, len, &h, back), HISTORY_FORMAT_BAD_CRC);
    bytes[HISTORY_HEADER_BYTES + 50] ^= 1;
    bytes[70] ^= 1; /* the count */
    CHECK_EQ_INT(history_header_decode(bytes, &h), HISTORY_FORMAT_BAD_HEADER_CRC);
    bytes[70] ^= 1;
    bytes[0] = 'X';
    CHECK_EQ_INT(history_header_decode(bytes, &h), HISTORY_FORMAT_BAD_MAGIC);
    /* Records out of order, with valid CRCs, are refused too. */
    history_candle swapped[] = {c[1], c[0]};
    encode_file(swapped, 2, bytes);
    CHECK_EQ_INT(history_header_decode(bytes, &h), HISTORY_FORMAT_BAD_HEADER); /* first > last */
    uint8_t three[HISTORY_HEADER_BYTES + 3 * HISTORY_RECORD_BYTES];
    history_candle unsorted[] = {candle(0, 5, 1), candle(2, 5, 1), candle(1, 5, 1)};
    history_candle back3[3];
    len = encode_file(unsorted, 3, three);
    CHECK_EQ_INT(history_header_decode(three, &h), HISTORY_FORMAT_OK);
    CHECK_EQ_INT(history_file_decode(three, len, &h, back3), HISTORY_FORMAT_UNSORTED);
}

static char dir[64];

static void write_text(const char *name, const char *text) {
    test_write_file(dir, name, text);
}

static char *read_bytes(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

/* Runs an import of files named relative to `dir`; its error text in `errors`. */
static int import(const char *const *names, size_t n, uint64_t cap, char *errors, size_t size) {
    char data[128], paths[4][256];
    const char *files[4];
    snprintf(data, sizeof data, "%s/data", dir);
    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
        files[i] = paths[i];
    }
    static const char *const allowed[] = {UID, UID2};
    FILE *err = fmemopen(errors, size, "w");
    FILE *out = fopen("/dev/null", "w");
    history_import_options opt = {.data_dir = data,
                                  .allowed_uids = allowed,
                                  .allowed_count = 2,
                                  .max_candles_per_instrument = cap,
                                  .out = out,
                                  .errors = err};
    int rc = history_import_files(&opt, files, n);
    fclose(err);
    fclose(out);
    return rc;
}

static void test_import(void) {
    char errors[4096], store[256], error[256];
    snprintf(dir, sizeof dir, "%s/tinvestd-history-XXXXXX", P_tmpdir);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(store, sizeof store, "%s/data/history/%s.tcs", dir, UID);
    write_text("y2024.csv",
               UID ";2024-01-03T07:01:00Z;2;2;3;1;5;\n" UID
                   ";2024-01-03T07:00:00Z;1;1;1;1;4;\n" UID2 ";2024-01-03T07:00:00Z;9;9;9;9;1;\n");
    write_text("y2023.csv", UID ";2023-06-01T10:00:00Z;1;1;1;1;1;\n");
    const char *first[] = {"y2024.csv"};
    CHECK_EQ_INT(import(first, 1, 100, errors, sizeof errors), 0);
    size_t len1 = 0, len2 = 0;
    char *before = read_bytes(store, &len1);
    CHECK(before != NULL && len1 == HISTORY_HEADER_BYTES + 2 * HISTORY_RECORD_BYTES);
    /* Again: nothing new, the file untouched. */
    CHECK_EQ_INT(import(first, 1, 100, errors, sizeof errors), 0);
    char *again = read_bytes(store, &len2);
    CHECK(again != NULL && len1 == len2 && memcmp(before, again, len1) == 0);
    free(again);
    /* Another year merges in front, in order. */
    const char *second[] = {"y2023.csv"};
    CHECK_EQ_INT(import(second, 1, 100, errors, sizeof errors), 0);
    history_reader r;
    char data[128];
    snprintf(data, sizeof data, "%s/data", dir);
    CHECK_EQ_INT(history_reader_open(&r, data, UID, 100, error, sizeof error), 0);
    CHECK_EQ_INT(r.count, 3);
    CHECK_EQ_INT(r.header.first_s, r.candles[0].time_s);
    history_cursor cur = history_reader_range(&r, T_2024_01_03, T_2024_01_03 + 7 * 3600 + 60);
    const history_candle *c = history_cursor_next(&cur);
    CHECK(c != NULL && c->time_s == T_2024_01_03 + 7 * 3600 && c->volume_lots == 4);
    CHECK(history_cursor_next(&cur) == NULL); /* 07:01 is outside [from, to) */
    CHECK_EQ_INT(history_reader_seek(&r, T_2024_01_03 + 7 * 3600 + 1), 2);
    history_reader_close(&r);
    /* Bad input: each error with its file and line; the store unchanged. */
    char *stored = read_bytes(store, &len1);
    write_text("bad.csv",
               UID ";2024-01-03T07:00:00Z;1;1;1;1;5;\n" /* differs from the store */
               UID ";2024-01-04T07:00:00Z;1;1;1;1;-1;\n"
                   "00000000-0000-0000-0000-000000000000;2024-01-04T07:00:00Z;1;1;1;1;1;\n" UID
                   ";2024-01-05T07:00:00Z;1;1;1;1;1;\n");
    const char *bad[] = {"y2023.csv", "bad.csv"};
    CHECK_EQ_INT(import(bad, 2, 100, errors, sizeof errors), 1);
    CHECK(strstr(errors, "bad.csv:2: the volume is negative") != NULL);
    CHECK(strstr(errors, "bad.csv:3: instrument 00000000-0000-0000-0000-000000000000 is not an "
                         "instrument of the configuration") != NULL);
    const char *conflict[] = {"bad.csv"};
    write_text("bad.csv",
               UID ";2024-01-03T07:00:00Z;1;1;1;1;5;\n" UID ";2024-01-05T07:00:00Z;1;1;1;1;1;\n");
    CHECK_EQ_INT(import(conflict, 1, 100, errors, sizeof errors), 1);
    CHECK(strstr(errors, "bad.csv:1: the store holds this minute") != NULL);
    /* Over the cap: refused. */
    write_text("more.csv", UID ";2025-01-05T07:00:00Z;1;1;1;1;1;\n");
    const char *more[] = {"more.csv"};
    CHECK_EQ_INT(import(more, 1, 3, errors, sizeof errors), 1);
    CHECK(strstr(errors, "max_candles_per_instrument") != NULL);
    char *after = read_bytes(store, &len2);
    CHECK(after != NULL && len1 == len2 && memcmp(stored, after, len1) == 0);
    char temp[300];
    snprintf(temp, sizeof temp, "%s.tmp", store);
    CHECK(access(temp, F_OK) != 0); /* no temporary file left */
    /* A damaged store is refused by the reader and by an import. */
    FILE *f = fopen(store, "r+b");
    fseek(f, HISTORY_HEADER_BYTES + 10, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    CHECK_EQ_INT(history_reader_open(&r, data, UID, 100, error, sizeof error), -EINVAL);
    CHECK(strstr(error, "CRC32C") != NULL);
    CHECK_EQ_INT(import(more, 1, 100, errors, sizeof errors), 2);
    CHECK(strstr(errors, "CRC32C") != NULL);
    CHECK_EQ_INT(history_reader_open(&r, data, UID, 2, error, sizeof error), -EFBIG);
    CHECK_EQ_INT(history_reader_open(&r, data, UID2, 0, error, sizeof error), -EFBIG);
    CHECK_EQ_INT(history_reader_open(&r, data, "962e2a95-02a9-4171-abd7-aa198dbe6400", 10, error,
                                     sizeof error),
                 -ENOENT);
    free(before);
    free(stored);
    free(after);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
}

int main(void) {
    test_rows();
    test_sort_dedup_gaps();
    test_merge_and_search();
    test_format();
    test_import();
    return check_finish("test_history");
}
