/* Fuzz target: the pure readers of history archives and of the history store (src/history).
 *
 * Feeds: the input as lines of an archive's CSV member, each through history_row_parse(); and the
 * input as a store file (header, records), through history_header_decode() and
 * history_file_decode() when its length matches its count.
 *
 * Asserts, besides no crash or sanitizer report: an accepted row is a candle that passes the
 * candle checks, on a minute, whose encoding decodes to itself; an accepted file holds strictly
 * increasing candles that pass the checks, and encoding them again gives the same bytes. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rows(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    size_t start = 0;
    while (start < size) {
        const char *end = memchr(text + start, '\n', size - start);
        size_t len = end ? (size_t)(end - (text + start)) : size - start;
        history_row row;
        if (history_row_parse(text + start, len, &row) == HISTORY_ROW_OK) {
            assert(history_uid_valid(row.uid, strlen(row.uid)));
            assert(history_candle_check(&row.candle) == HISTORY_ROW_OK);
            assert(row.candle.time_s % 60 == 0);
            uint8_t record[HISTORY_RECORD_BYTES];
            history_candle back;
            history_record_encode(&row.candle, record);
            history_record_decode(record, &back);
            assert(history_candle_equal(&back, &row.candle));
        }
        start += len + 1;
    }
}

static void store_file(const uint8_t *data, size_t size) {
    history_header header;
    if (size < HISTORY_HEADER_BYTES || history_header_decode(data, &header) != HISTORY_FORMAT_OK)
        return;
    if ((size - HISTORY_HEADER_BYTES) / HISTORY_RECORD_BYTES != header.count)
        return;
    history_candle *candles = malloc((header.count + 1) * sizeof *candles);
    if (candles == NULL)
        return;
    if (history_file_decode(data, size, &header, candles) == HISTORY_FORMAT_OK) {
        for (uint64_t i = 0; i < header.count; i++) {
            assert(history_candle_check(&candles[i]) == HISTORY_ROW_OK);
            assert(i == 0 || candles[i - 1].time_s < candles[i].time_s);
            uint8_t record[HISTORY_RECORD_BYTES];
            history_record_encode(&candles[i], record);
            assert(memcmp(record, data + HISTORY_HEADER_BYTES + i * HISTORY_RECORD_BYTES,
                          sizeof record) == 0);
        }
        history_header again;
        history_header_for(header.uid, candles, (size_t)header.count, &again);
        assert(again.records_crc32c == header.records_crc32c);
        assert(header.count == 0 ||
               (again.first_s == header.first_s && again.last_s == header.last_s));
    }
    free(candles);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rows(data, size);
    store_file(data, size);
    return 0;
}
