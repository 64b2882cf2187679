/* The store file's bytes: a 128-byte header and fixed 48-byte records, little-endian, with a
 * CRC32C over the records and one over the header (docs/HISTORY.md). */
#include <string.h>

#include "history/history.h"
#include "util/crc32c.h"
#include "util/le.h"

enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 8,
    OFF_RECORD_BYTES = 12,
    OFF_UID = 16, /* 48 bytes, the uid and NULs */
    OFF_COUNT = 64,
    OFF_FIRST = 72,
    OFF_LAST = 80,
    OFF_RECORDS_CRC = 88,
    OFF_HEADER_CRC = 124,
    UID_FIELD_BYTES = 48,
};

void history_header_encode(const history_header *h, uint8_t out[HISTORY_HEADER_BYTES]) {
    memset(out, 0, HISTORY_HEADER_BYTES);
    memcpy(out + OFF_MAGIC, HISTORY_FILE_MAGIC, 8);
    le_put_u32(out + OFF_VERSION, HISTORY_FILE_VERSION);
    le_put_u32(out + OFF_RECORD_BYTES, HISTORY_RECORD_BYTES);
    memcpy(out + OFF_UID, h->uid, HISTORY_UID_LEN);
    le_put_u64(out + OFF_COUNT, h->count);
    le_put_u64(out + OFF_FIRST, (uint64_t)h->first_s);
    le_put_u64(out + OFF_LAST, (uint64_t)h->last_s);
    le_put_u32(out + OFF_RECORDS_CRC, h->records_crc32c);
    le_put_u32(out + OFF_HEADER_CRC, crc32c_update(0, out, OFF_HEADER_CRC));
}

static bool zeros(const uint8_t *p, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0)
            return false;
    return true;
}

history_format_status history_header_decode(const uint8_t in[HISTORY_HEADER_BYTES],
                                            history_header *h) {
    if (memcmp(in + OFF_MAGIC, HISTORY_FILE_MAGIC, 8) != 0)
        return HISTORY_FORMAT_BAD_MAGIC;
    if (le_get_u32(in + OFF_VERSION) != HISTORY_FILE_VERSION)
        return HISTORY_FORMAT_BAD_VERSION;
    if (le_get_u32(in + OFF_HEADER_CRC) != crc32c_update(0, in, OFF_HEADER_CRC))
        return HISTORY_FORMAT_BAD_HEADER_CRC;
    memset(h, 0, sizeof *h);
    memcpy(h->uid, in + OFF_UID, HISTORY_UID_LEN);
    h->count = le_get_u64(in + OFF_COUNT);
    h->first_s = (int64_t)le_get_u64(in + OFF_FIRST);
    h->last_s = (int64_t)le_get_u64(in + OFF_LAST);
    h->records_crc32c = le_get_u32(in + OFF_RECORDS_CRC);
    bool empty_ok = h->count > 0 || (h->first_s == 0 && h->last_s == 0);
    if (le_get_u32(in + OFF_RECORD_BYTES) != HISTORY_RECORD_BYTES ||
        !history_uid_valid(h->uid, HISTORY_UID_LEN) ||
        !zeros(in + OFF_UID + HISTORY_UID_LEN, UID_FIELD_BYTES - HISTORY_UID_LEN) ||
        !zeros(in + OFF_RECORDS_CRC + 4, OFF_HEADER_CRC - OFF_RECORDS_CRC - 4) ||
        h->first_s > h->last_s || !empty_ok ||
        h->count > (UINT64_MAX - HISTORY_HEADER_BYTES) / HISTORY_RECORD_BYTES)
        return HISTORY_FORMAT_BAD_HEADER;
    return HISTORY_FORMAT_OK;
}

void history_record_encode(const history_candle *c, uint8_t out[HISTORY_RECORD_BYTES]) {
    le_put_u64(out + 0, (uint64_t)c->time_s);
    le_put_u64(out + 8, (uint64_t)c->open_nano);
    le_put_u64(out + 16, (uint64_t)c->high_nano);
    le_put_u64(out + 24, (uint64_t)c->low_nano);
    le_put_u64(out + 32, (uint64_t)c->close_nano);
    le_put_u64(out + 40, (uint64_t)c->volume_lots);
}

void history_record_decode(const uint8_t in[HISTORY_RECORD_BYTES], history_candle *c) {
    c->time_s = (int64_t)le_get_u64(in + 0);
    c->open_nano = (int64_t)le_get_u64(in + 8);
    c->high_nano = (int64_t)le_get_u64(in + 16);
    c->low_nano = (int64_t)le_get_u64(in + 24);
    c->close_nano = (int64_t)le_get_u64(in + 32);
    c->volume_lots = (int64_t)le_get_u64(in + 40);
}

void history_header_for(const char *uid, const history_candle *candles, size_t count,
                        history_header *h) {
    memset(h, 0, sizeof *h);
    memcpy(h->uid, uid, HISTORY_UID_LEN);
    h->count = count;
    if (count > 0) {
        h->first_s = candles[0].time_s;
        h->last_s = candles[count - 1].time_s;
    }
    uint32_t crc = 0;
    for (size_t i = 0; i < count; i++) {
        uint8_t record[HISTORY_RECORD_BYTES];
        history_record_encode(&candles[i], record);
        crc = crc32c_update(crc, record, sizeof record);
    }
    h->records_crc32c = crc;
}

history_format_status history_file_decode(const uint8_t *bytes, size_t len, const history_header *h,
                                          history_candle *candles) {
    if (len < HISTORY_HEADER_BYTES ||
        (len - HISTORY_HEADER_BYTES) / HISTORY_RECORD_BYTES != h->count ||
        (len - HISTORY_HEADER_BYTES) % HISTORY_RECORD_BYTES != 0)
        return HISTORY_FORMAT_BAD_SIZE;
    const uint8_t *records = bytes + HISTORY_HEADER_BYTES;
    if (crc32c_update(0, records, len - HISTORY_HEADER_BYTES) != h->records_crc32c)
        return HISTORY_FORMAT_BAD_CRC;
    for (uint64_t i = 0; i < h->count; i++) {
        history_record_decode(records + i * HISTORY_RECORD_BYTES, &candles[i]);
        if (history_candle_check(&candles[i]) != HISTORY_ROW_OK)
            return HISTORY_FORMAT_BAD_RECORD;
        if (i > 0 && candles[i].time_s <= candles[i - 1].time_s)
            return HISTORY_FORMAT_UNSORTED;
    }
    if (h->count > 0 &&
        (candles[0].time_s != h->first_s || candles[h->count - 1].time_s != h->last_s))
        return HISTORY_FORMAT_BAD_HEADER;
    return HISTORY_FORMAT_OK;
}

const char *history_format_status_text(history_format_status status) {
    switch (status) {
    case HISTORY_FORMAT_OK:
        return "ok";
    case HISTORY_FORMAT_BAD_MAGIC:
        return "not a history store file (bad magic)";
    case HISTORY_FORMAT_BAD_VERSION:
        return "a history store version this build does not read";
    case HISTORY_FORMAT_BAD_HEADER_CRC:
        return "the header's CRC32C does not match (corrupt file)";
    case HISTORY_FORMAT_BAD_HEADER:
        return "a header field is out of range (corrupt file)";
    case HISTORY_FORMAT_BAD_SIZE:
        return "the file's length does not match its candle count (truncated or extended)";
    case HISTORY_FORMAT_BAD_CRC:
        return "the records' CRC32C does not match (corrupt file)";
    case HISTORY_FORMAT_UNSORTED:
        return "the records are not in strictly increasing time order";
    case HISTORY_FORMAT_BAD_RECORD:
        return "a record breaks the candle rules (corrupt file)";
    }
    return "unknown format status";
}
