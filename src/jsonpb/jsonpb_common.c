/* The pieces the encoder and the decoder share: the path in error messages, the JSON names of
 * fields, RFC 3339 times and base64 (src/jsonpb/jsonpb_internal.h). */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "jsonpb/jsonpb_internal.h"

bool jsonpb_path_push(jsonpb_path *path, const char *name, size_t len) {
    if (path->depth >= JSONPB_MAX_DEPTH)
        return false;
    jsonpb_path_frame *frame = &path->frames[path->depth++];
    if (len >= sizeof frame->name)
        len = sizeof frame->name - 1;
    memcpy(frame->name, name, len);
    frame->name[len] = '\0';
    frame->index = -1;
    return true;
}

void jsonpb_path_pop(jsonpb_path *path) {
    assert(path->depth > 0);
    path->depth--;
}

void jsonpb_path_index(jsonpb_path *path, long index) {
    assert(path->depth > 0);
    path->frames[path->depth - 1].index = index;
}

void jsonpb_fail(jsonpb_error *err, const jsonpb_path *path, size_t offset, const char *fmt, ...) {
    if (err == NULL)
        return;
    size_t used = 0, size = sizeof err->text;
    err->text[0] = '\0';
    for (int i = 0; path != NULL && i < path->depth && used < size; i++) {
        const jsonpb_path_frame *frame = &path->frames[i];
        int n = frame->index >= 0
                    ? snprintf(err->text + used, size - used, "%s%s[%ld]", i ? "." : "",
                               frame->name, frame->index)
                    : snprintf(err->text + used, size - used, "%s%s", i ? "." : "", frame->name);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used > 0 && used < size) {
        int n = snprintf(err->text + used, size - used, ": ");
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < size) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err->text + used, size - used, fmt, args);
        va_end(args);
    }
    err->offset = offset;
}

bool jsonpb_is_timestamp(const ProtobufCMessageDescriptor *descriptor) {
    return strcmp(descriptor->name, "google.protobuf.Timestamp") == 0;
}

size_t jsonpb_json_name(const char *proto_name, char *out, size_t size) {
    size_t n = 0;
    bool upper = false;
    for (const char *c = proto_name; *c; c++) {
        if (*c == '_') {
            upper = true;
            continue;
        }
        char ch = upper ? (char)toupper((unsigned char)*c) : *c;
        upper = false;
        if (n + 1 < size)
            out[n] = ch;
        n++;
    }
    if (size > 0)
        out[n < size ? n : size - 1] = '\0';
    return n;
}

bool jsonpb_json_name_equal(const char *name, size_t len, const char *proto_name) {
    size_t n = 0;
    bool upper = false;
    for (const char *c = proto_name; *c; c++) {
        if (*c == '_') {
            upper = true;
            continue;
        }
        char ch = upper ? (char)toupper((unsigned char)*c) : *c;
        upper = false;
        if (n >= len || name[n] != ch)
            return false;
        n++;
    }
    return n == len;
}

size_t jsonpb_value_size(ProtobufCType type) {
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    assert(!"unknown protobuf-c type");
    return 0;
}

/* ---- Civil time (Howard Hinnant's algorithms: exact for every proleptic Gregorian date). ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m) {
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool jsonpb_time_format(int64_t seconds, int32_t nanos, char out[JSONPB_TIME_TEXT_BYTES]) {
    if (seconds < JSONPB_TIME_MIN_SECONDS || seconds > JSONPB_TIME_MAX_SECONDS || nanos < 0 ||
        nanos > 999999999)
        return false;
    int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
    int64_t rest = seconds - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, JSONPB_TIME_TEXT_BYTES, "%04d-%02u-%02uT%02d:%02d:%02d", (int)y, m, d,
                     (int)(rest / 3600), (int)(rest / 60 % 60), (int)(rest % 60));
    assert(n == 19);
    if (nanos == 0)
        n += snprintf(out + n, JSONPB_TIME_TEXT_BYTES - (size_t)n, "Z");
    else if (nanos % 1000000 == 0)
        n += snprintf(out + n, JSONPB_TIME_TEXT_BYTES - (size_t)n, ".%03dZ", nanos / 1000000);
    else if (nanos % 1000 == 0)
        n += snprintf(out + n, JSONPB_TIME_TEXT_BYTES - (size_t)n, ".%06dZ", nanos / 1000);
    else
        n += snprintf(out + n, JSONPB_TIME_TEXT_BYTES - (size_t)n, ".%09dZ", nanos);
    assert(n < JSONPB_TIME_TEXT_BYTES);
    return true;
}

/* `count` decimal digits at s (all of them digits), or -1. */
static long digits(const char *s, int count) {
    long v = 0;
    for (int i = 0; i < count; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

const char *jsonpb_time_parse(const char *s, size_t len, int64_t *seconds, int32_t *nanos) {
    /* YYYY-MM-DDTHH:MM:SS is 19 bytes; the zone at least 1 more. */
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return "not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.f]Z)";
    long year = digits(s, 4), month = digits(s + 5, 2), day = digits(s + 8, 2);
    long hour = digits(s + 11, 2), minute = digits(s + 14, 2), second = digits(s + 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0)
        return "not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.f]Z)";
    if (year < 1 || month < 1 || month > 12 || day < 1 ||
        (unsigned long)day > days_in_month(year, (unsigned)month) || hour > 23 || minute > 59 ||
        second > 59)
        return "not a valid date and time";
    size_t i = 19;
    long frac = 0;
    if (i < len && s[i] == '.') {
        int count = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, count++) {
            if (count == 9)
                return "more than 9 fraction digits";
            frac = frac * 10 + (s[i] - '0');
        }
        if (count == 0)
            return "not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.f]Z)";
        for (; count < 9; count++)
            frac *= 10;
    }
    long offset_s = 0;
    if (i + 1 == len && s[i] == 'Z') {
        offset_s = 0;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        long oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return "not a valid time zone offset";
        offset_s = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    } else {
        return "not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.f]Z)";
    }
    int64_t t = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hour * 3600 +
                minute * 60 + second - offset_s;
    if (t < JSONPB_TIME_MIN_SECONDS || t > JSONPB_TIME_MAX_SECONDS)
        return "time out of range (0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z)";
    *seconds = t;
    *nanos = (int32_t)frac;
    return NULL;
}

/* ---- base64 (RFC 4648 §4 and §5). ------------------------------------------------------------ */

void jsonpb_base64_encode(const uint8_t *data, size_t n, char *out) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
}

static int base64_value(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

bool jsonpb_base64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len) {
    size_t pad = 0;
    while (pad < 2 && len > 0 && s[len - 1] == '=') {
        len--;
        pad++;
    }
    /* Padding, when there is any, completes the last group of four. */
    if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
        return false;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = base64_value(s[i]);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out_len = o;
    return true;
}
