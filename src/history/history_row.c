/* One row of a history archive's CSV member: `uid;YYYY-MM-DDTHH:MM:SSZ;open;close;high;low;volume`
 * with an optional trailing ';'. Prices are exact decimals parsed into nano-units (never through
 * floating point); the volume an integer of lots. */
#include <errno.h>
#include <string.h>

#include "history/history.h"
#include "util/checked.h"
#include "util/money.h"

#define HISTORY_ROW_FIELDS 7
/* The longest price text accepted: a sign, 19 digits, a point and 9 decimals. */
#define HISTORY_PRICE_TEXT_MAX 32

typedef struct field {
    const char *text;
    size_t len;
} field;

bool history_uid_valid(const char *text, size_t len) {
    if (len != HISTORY_UID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date. */
bool history_days_from_civil(int64_t year, int month, int day, int64_t *days) {
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
        day > month_days[month - 1])
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap)
        return false;
    int64_t y = month <= 2 ? year - 1 : year;
    int64_t era = y / 400; /* y >= 0 */
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return true;
}

static bool digits(const char *text, size_t len, int64_t *out) {
    int64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        value = value * 10 + (text[i] - '0');
    }
    *out = value;
    return len > 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" to UTC seconds; the seconds must be 00. */
static history_row_status parse_time(field f, int64_t *out) {
    const char *t = f.text;
    int64_t year, month, day, hour, minute, second, days;
    if (f.len != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
        t[19] != 'Z' || !digits(t, 4, &year) || !digits(t + 5, 2, &month) ||
        !digits(t + 8, 2, &day) || !digits(t + 11, 2, &hour) || !digits(t + 14, 2, &minute) ||
        !digits(t + 17, 2, &second) || hour > 23 || minute > 59 || second > 59 ||
        !history_days_from_civil(year, (int)month, (int)day, &days))
        return HISTORY_ROW_BAD_TIME;
    if (second != 0)
        return HISTORY_ROW_TIME_NOT_MINUTE;
    *out = days * 86400 + hour * 3600 + minute * 60;
    return HISTORY_ROW_OK;
}

static bool parse_price(field f, int64_t *out) {
    char text[HISTORY_PRICE_TEXT_MAX + 1];
    if (f.len == 0 || f.len > HISTORY_PRICE_TEXT_MAX || memchr(f.text, '\0', f.len) != NULL)
        return false;
    memcpy(text, f.text, f.len);
    text[f.len] = '\0';
    return money_parse_decimal(text, out) == 0;
}

static history_row_status parse_volume(field f, int64_t *out) {
    size_t start = f.len > 0 && f.text[0] == '-' ? 1 : 0;
    int64_t value = 0;
    if (f.len == start)
        return HISTORY_ROW_BAD_VOLUME;
    for (size_t i = start; i < f.len; i++) {
        char c = f.text[i];
        if (c < '0' || c > '9' || !checked_mul(value, 10, &value) ||
            !checked_add(value, c - '0', &value))
            return HISTORY_ROW_BAD_VOLUME;
    }
    if (start == 1 && value != 0)
        return HISTORY_ROW_NEGATIVE_VOLUME;
    *out = value;
    return HISTORY_ROW_OK;
}

/* Splits at ';' into at most HISTORY_ROW_FIELDS + 1 fields; returns the count, or
 * HISTORY_ROW_FIELDS + 2 when there are more. */
static size_t split(const char *line, size_t len, field *fields) {
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ';')
            continue;
        if (count == HISTORY_ROW_FIELDS + 1)
            return HISTORY_ROW_FIELDS + 2;
        fields[count++] = (field){line + start, i - start};
        start = i + 1;
    }
    return count;
}

history_row_status history_candle_check(const history_candle *c) {
    if (c->time_s % 60 != 0)
        return HISTORY_ROW_TIME_NOT_MINUTE;
    if (c->volume_lots < 0)
        return HISTORY_ROW_NEGATIVE_VOLUME;
    if (c->volume_lots > HISTORY_MAX_VOLUME_LOTS)
        return HISTORY_ROW_VOLUME_TOO_LARGE;
    if (c->high_nano < c->low_nano)
        return HISTORY_ROW_HIGH_BELOW_LOW;
    if (c->open_nano < c->low_nano || c->open_nano > c->high_nano)
        return HISTORY_ROW_OPEN_OUTSIDE;
    if (c->close_nano < c->low_nano || c->close_nano > c->high_nano)
        return HISTORY_ROW_CLOSE_OUTSIDE;
    if (c->low_nano <= 0)
        return HISTORY_ROW_PRICE_NOT_POSITIVE;
    return HISTORY_ROW_OK;
}

history_row_status history_row_parse(const char *line, size_t len, history_row *out) {
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return HISTORY_ROW_BLANK;
    field f[HISTORY_ROW_FIELDS + 1];
    size_t count = split(line, len, f);
    if (count == HISTORY_ROW_FIELDS + 1 && f[HISTORY_ROW_FIELDS].len == 0)
        count = HISTORY_ROW_FIELDS;
    if (count != HISTORY_ROW_FIELDS)
        return HISTORY_ROW_FIELD_COUNT;
    if (!history_uid_valid(f[0].text, f[0].len))
        return HISTORY_ROW_BAD_UID;
    memcpy(out->uid, f[0].text, HISTORY_UID_LEN);
    out->uid[HISTORY_UID_LEN] = '\0';
    history_candle *c = &out->candle;
    history_row_status status = parse_time(f[1], &c->time_s);
    if (status != HISTORY_ROW_OK)
        return status;
    if (!parse_price(f[2], &c->open_nano) || !parse_price(f[3], &c->close_nano) ||
        !parse_price(f[4], &c->high_nano) || !parse_price(f[5], &c->low_nano))
        return HISTORY_ROW_BAD_PRICE;
    status = parse_volume(f[6], &c->volume_lots);
    if (status != HISTORY_ROW_OK)
        return status;
    return history_candle_check(c);
}

const char *history_row_status_text(history_row_status status) {
    switch (status) {
    case HISTORY_ROW_OK:
        return "ok";
    case HISTORY_ROW_BLANK:
        return "an empty line";
    case HISTORY_ROW_FIELD_COUNT:
        return "not 7 fields separated by ';' (uid;time;open;close;high;low;volume)";
    case HISTORY_ROW_BAD_UID:
        return "the instrument uid is not 36 hexadecimal digits and dashes";
    case HISTORY_ROW_BAD_TIME:
        return "the time is not a UTC time YYYY-MM-DDTHH:MM:SSZ";
    case HISTORY_ROW_TIME_NOT_MINUTE:
        return "the time is not on a minute (seconds other than 00)";
    case HISTORY_ROW_BAD_PRICE:
        return "a price is not a decimal number of at most 9 decimal places in range";
    case HISTORY_ROW_BAD_VOLUME:
        return "the volume is not a whole number of lots in range";
    case HISTORY_ROW_NEGATIVE_VOLUME:
        return "the volume is negative";
    case HISTORY_ROW_HIGH_BELOW_LOW:
        return "high is below low";
    case HISTORY_ROW_OPEN_OUTSIDE:
        return "open is outside [low, high]";
    case HISTORY_ROW_CLOSE_OUTSIDE:
        return "close is outside [low, high]";
    case HISTORY_ROW_PRICE_NOT_POSITIVE:
        return "a price is zero or below";
    case HISTORY_ROW_VOLUME_TOO_LARGE:
        return "the volume is above 10^12 lots";
    }
    return "unknown row status";
}
