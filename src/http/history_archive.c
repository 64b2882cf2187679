/* The history archive built in memory (history_archive.h). */
#include "http/history_archive.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "util/money.h"

#define SECONDS_PER_DAY 86400
/* zlib's default level, the one common zip tools write: a year of a share's minutes (12 MB of
 * rows) deflates in about a quarter of a second to 1.3 MB; libzip's own default, 9, takes four
 * times as long for 8 % fewer bytes (docs/BENCHMARKS.md). */
#define HISTORY_ARCHIVE_DEFLATE_LEVEL 6
/* One row: a uid, a time, four prices, a volume, their separators and the newline. */
#define ROW_MAX (HISTORY_UID_LEN + 21 + 5 * MONEY_DECIMAL_MAX + 8)

typedef struct civil_date {
    int year, month, day;
} civil_date;

/* Days since 1970-01-01 of a proleptic Gregorian date (exact for every year in range). */
static int64_t days_from_civil(int year, int month, int day) {
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static civil_date civil_from_days(int64_t z) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int day = (int)(doy - (153 * mp + 2) / 5 + 1);
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    return (civil_date){(int)(yoe + era * 400 + (month <= 2)), month, day};
}

static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int history_archive_parse_year(const char *text, int *year) {
    if (text == NULL || strlen(text) != 4)
        return -EINVAL;
    int value = 0;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9')
            return -EINVAL;
        value = value * 10 + (*c - '0');
    }
    if (value < HISTORY_ARCHIVE_MIN_YEAR || value > HISTORY_ARCHIVE_MAX_YEAR)
        return -EINVAL;
    *year = value;
    return 0;
}

/* Appends one candle's row to `out` (room for ROW_MAX more bytes is there). */
static size_t format_row(char *out, const char *uid, const history_candle *c) {
    int64_t day = floor_div(c->time_s, SECONDS_PER_DAY);
    int64_t second = c->time_s - day * SECONDS_PER_DAY;
    civil_date d = civil_from_days(day);
    char open[MONEY_DECIMAL_MAX], close[MONEY_DECIMAL_MAX], high[MONEY_DECIMAL_MAX],
        low[MONEY_DECIMAL_MAX];
    money_format_decimal(c->open_nano, open, sizeof open);
    money_format_decimal(c->close_nano, close, sizeof close);
    money_format_decimal(c->high_nano, high, sizeof high);
    money_format_decimal(c->low_nano, low, sizeof low);
    int n = snprintf(out, ROW_MAX, "%s;%04d-%02d-%02dT%02d:%02d:%02dZ;%s;%s;%s;%s;%lld;\n", uid,
                     d.year, d.month, d.day, (int)(second / 3600), (int)(second / 60 % 60),
                     (int)(second % 60), open, close, high, low, (long long)c->volume_lots);
    assert(n > 0 && n < ROW_MAX);
    return (size_t)n;
}

/* Adds the member of the day `day` (days since 1970) with the candles [first, end). */
static int add_day(zip_t *archive, const char *uid, int64_t day, const history_candle *first,
                   const history_candle *end) {
    size_t count = (size_t)(end - first);
    char *text = malloc(count * ROW_MAX);
    if (text == NULL)
        return -ENOMEM;
    size_t len = 0;
    for (const history_candle *c = first; c < end; c++)
        len += format_row(text + len, uid, c);
    zip_source_t *member = zip_source_buffer(archive, text, len, 1);
    if (member == NULL) {
        free(text);
        return -EIO;
    }
    civil_date d = civil_from_days(day);
    char name[HISTORY_UID_LEN + 16];
    snprintf(name, sizeof name, "%s_%04d%02d%02d.csv", uid, d.year, d.month, d.day);
    zip_int64_t index = zip_file_add(archive, name, member, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
        zip_source_free(member); /* frees `text` */
        return -EIO;
    }
    /* The member's time is its day's start, so the same candles give the same bytes. */
    if (zip_set_file_compression(archive, (zip_uint64_t)index, ZIP_CM_DEFLATE,
                                 HISTORY_ARCHIVE_DEFLATE_LEVEL) != 0 ||
        zip_file_set_mtime(archive, (zip_uint64_t)index, (time_t)(day * SECONDS_PER_DAY), 0) != 0)
        return -EIO;
    return 0;
}

/* The bytes libzip wrote into `source`, copied into a malloc'd buffer. */
static int copy_out(zip_source_t *source, char **zip, size_t *zip_len) {
    if (zip_source_open(source) != 0)
        return -EIO;
    int rc = -EIO;
    zip_int64_t size = -1;
    if (zip_source_seek(source, 0, SEEK_END) == 0 && (size = zip_source_tell(source)) >= 0 &&
        zip_source_seek(source, 0, SEEK_SET) == 0) {
        char *bytes = malloc(size > 0 ? (size_t)size : 1);
        if (bytes == NULL) {
            rc = -ENOMEM;
        } else if (zip_source_read(source, bytes, (zip_uint64_t)size) == size) {
            *zip = bytes;
            *zip_len = (size_t)size;
            rc = 0;
        } else {
            free(bytes);
        }
    }
    zip_source_close(source);
    return rc;
}

int history_archive_build(const history_reader *reader, const char *uid, int year, char **zip,
                          size_t *zip_len, size_t *candles) {
    assert(year >= HISTORY_ARCHIVE_MIN_YEAR && year <= HISTORY_ARCHIVE_MAX_YEAR);
    int64_t from_s = days_from_civil(year, 1, 1) * SECONDS_PER_DAY;
    int64_t to_s = days_from_civil(year + 1, 1, 1) * SECONDS_PER_DAY;
    history_cursor all = history_reader_range(reader, from_s, to_s);
    if (all.next == all.end)
        return -ENOENT;
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t *source = zip_source_buffer_create(NULL, 0, 0, &error);
    zip_t *archive = source ? zip_open_from_source(source, ZIP_TRUNCATE, &error) : NULL;
    zip_error_fini(&error);
    if (archive == NULL) {
        zip_source_free(source);
        return -EIO;
    }
    zip_source_keep(source); /* the archive's close must leave the written bytes */
    int rc = 0;
    for (const history_candle *first = all.next; rc == 0 && first < all.end;) {
        int64_t day = floor_div(first->time_s, SECONDS_PER_DAY);
        const history_candle *end = first;
        while (end < all.end && floor_div(end->time_s, SECONDS_PER_DAY) == day)
            end++;
        rc = add_day(archive, uid, day, first, end);
        first = end;
    }
    if (rc != 0) {
        zip_discard(archive);
    } else if (zip_close(archive) != 0) {
        zip_discard(archive);
        rc = -EIO;
    } else {
        rc = copy_out(source, zip, zip_len);
    }
    zip_source_free(source);
    if (rc == 0)
        *candles = (size_t)(all.end - all.next);
    return rc;
}
