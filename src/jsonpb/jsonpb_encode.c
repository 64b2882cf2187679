/* Message -> proto3 JSON text, from the descriptor alone (src/jsonpb/jsonpb.h).
 *
 * DESIGN: the text is written straight into a growing buffer, not through a JSON tree, so that
 * numbers come out exactly as the mapping wants them: 64-bit integers as decimal strings, doubles
 * in the fewest digits that read back to the same bits ("0.1", not "0.10000000000000001"), -0 as
 * "-0". Every field is visited in descriptor order (field numbers); which are written is the
 * policy of jsonpb.h. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpb/jsonpb_internal.h"
#include "util/text.h"

typedef struct encoder {
    char *text;
    size_t len, cap;
    bool out_of_memory;
    bool failed; /* err is set */
    unsigned flags;
    jsonpb_path path;
    jsonpb_error *err;
} encoder;

static void put(encoder *e, const char *s, size_t n) {
    if (e->out_of_memory || e->failed)
        return;
    if (e->len + n + 1 > e->cap) {
        size_t cap = e->cap ? e->cap : 256;
        while (cap < e->len + n + 1)
            cap *= 2;
        char *grown = realloc(e->text, cap);
        if (grown == NULL) {
            e->out_of_memory = true;
            return;
        }
        e->text = grown;
        e->cap = cap;
    }
    memcpy(e->text + e->len, s, n);
    e->len += n;
    e->text[e->len] = '\0';
}

static void puts_(encoder *e, const char *s) {
    put(e, s, strlen(s));
}

static void fail(encoder *e, const char *what) {
    if (!e->failed)
        jsonpb_fail(e->err, &e->path, 0, "%s", what);
    e->failed = true;
}

/* A JSON string of n bytes of UTF-8 (checked). */
static void put_string(encoder *e, const char *s, size_t n) {
    if (!text_utf8_valid(s, n)) {
        fail(e, "string is not UTF-8");
        return;
    }
    put(e, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(e, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"':
            put(e, "\\\"", 2);
            break;
        case '\\':
            put(e, "\\\\", 2);
            break;
        case '\n':
            put(e, "\\n", 2);
            break;
        case '\r':
            put(e, "\\r", 2);
            break;
        case '\t':
            put(e, "\\t", 2);
            break;
        case '\b':
            put(e, "\\b", 2);
            break;
        case '\f':
            put(e, "\\f", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(e, esc, 6);
        }
    }
    put(e, s + run, n - run);
    put(e, "\"", 1);
}

/* The fewest significant digits (from `least` on) that read back as the same value. */
static void put_double(encoder *e, double v) {
    if (isnan(v)) {
        puts_(e, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        puts_(e, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    char text[40];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    puts_(e, text);
}

static void put_float(encoder *e, float v) {
    if (isnan(v) || isinf(v)) {
        put_double(e, (double)v);
        return;
    }
    char text[40];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)v);
        if (strtof(text, NULL) == v)
            break;
    }
    puts_(e, text);
}

static void put_message(encoder *e, const ProtobufCMessage *m);

static void put_timestamp(encoder *e, const ProtobufCMessage *m) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const ProtobufCFieldDescriptor *sf =
        protobuf_c_message_descriptor_get_field_by_name(d, "seconds");
    const ProtobufCFieldDescriptor *nf =
        protobuf_c_message_descriptor_get_field_by_name(d, "nanos");
    assert(sf && nf && sf->type == PROTOBUF_C_TYPE_INT64 && nf->type == PROTOBUF_C_TYPE_INT32);
    int64_t seconds = *(const int64_t *)jsonpb_cmember(m, sf->offset);
    int32_t nanos = *(const int32_t *)jsonpb_cmember(m, nf->offset);
    char text[JSONPB_TIME_TEXT_BYTES];
    if (!jsonpb_time_format(seconds, nanos, text)) {
        fail(e, "Timestamp out of range (0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z)");
        return;
    }
    put(e, "\"", 1);
    puts_(e, text);
    put(e, "\"", 1);
}

/* One value of field f at `value`. */
static void put_value(encoder *e, const ProtobufCFieldDescriptor *f, const void *value) {
    char text[48];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(text, sizeof text, "%" PRId32, *(const int32_t *)value);
        puts_(e, text);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(text, sizeof text, "%" PRIu32, *(const uint32_t *)value);
        puts_(e, text);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(text, sizeof text, "\"%" PRId64 "\"", *(const int64_t *)value);
        puts_(e, text);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(text, sizeof text, "\"%" PRIu64 "\"", *(const uint64_t *)value);
        puts_(e, text);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        put_float(e, *(const float *)value);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        put_double(e, *(const double *)value);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        puts_(e, *(const protobuf_c_boolean *)value ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)value;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        if (ev != NULL) {
            put_string(e, ev->name, strlen(ev->name));
        } else {
            snprintf(text, sizeof text, "%d", v);
            puts_(e, text);
        }
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)value;
        if (s == NULL)
            s = "";
        put_string(e, s, strlen(s));
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = value;
        size_t n = jsonpb_base64_length(b->len);
        char *b64 = malloc(n + 1);
        if (b64 == NULL) {
            e->out_of_memory = true;
            return;
        }
        jsonpb_base64_encode(b->data, b->len, b64);
        put(e, "\"", 1);
        put(e, b64, n);
        put(e, "\"", 1);
        free(b64);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)value;
        if (m == NULL) {
            puts_(e, "{}"); /* an element of a repeated field cannot be absent */
            break;
        }
        put_message(e, m);
        break;
    }
    }
}

/* Whether a field without presence holds its default (JSONPB_OMIT_DEFAULTS leaves it out). */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *value) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)value;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)value)->len == 0;
    case PROTOBUF_C_TYPE_FLOAT: {
        float v = *(const float *)value;
        return v == 0 && !signbit(v);
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v = *(const double *)value;
        return v == 0 && !signbit(v);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)value == NULL;
    default: {
        /* Integers, bool and enums: every byte zero. */
        static const uint8_t zero[8];
        return memcmp(value, zero, jsonpb_value_size(f->type)) == 0;
    }
    }
}

/* Whether field f of m is written, per jsonpb.h's policy. */
static bool written(const encoder *e, const ProtobufCMessage *m,
                    const ProtobufCFieldDescriptor *f) {
    const void *value = jsonpb_cmember(m, f->offset);
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return !(e->flags & JSONPB_OMIT_DEFAULTS) ||
               *(const size_t *)jsonpb_cmember(m, f->quantifier_offset) > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)jsonpb_cmember(m, f->quantifier_offset) != f->id)
            return false;
        /* A member chosen but pointing nowhere is absent, as protobuf-c packs it. */
        if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
            return *(void *const *)value != NULL;
        return true;
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(ProtobufCMessage *const *)value != NULL;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (f->type == PROTOBUF_C_TYPE_STRING)
            return *(char *const *)value != NULL;
        return *(const protobuf_c_boolean *)jsonpb_cmember(m, f->quantifier_offset);
    }
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    return !(e->flags & JSONPB_OMIT_DEFAULTS) || !is_default(f, value);
}

static void put_field(encoder *e, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                      const char *name) {
    put_string(e, name, strlen(name));
    put(e, ":", 1);
    const void *value = jsonpb_cmember(m, f->offset);
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
        put_value(e, f, value);
        return;
    }
    size_t count = *(const size_t *)jsonpb_cmember(m, f->quantifier_offset);
    const char *array = *(const char *const *)value;
    size_t size = jsonpb_value_size(f->type);
    put(e, "[", 1);
    for (size_t i = 0; i < count && !e->failed; i++) {
        if (i > 0)
            put(e, ",", 1);
        jsonpb_path_index(&e->path, (long)i);
        put_value(e, f, array + i * size);
    }
    if (!e->failed)
        jsonpb_path_index(&e->path, -1);
    put(e, "]", 1);
}

static void put_message(encoder *e, const ProtobufCMessage *m) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    assert(d != NULL && d->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    if (jsonpb_is_timestamp(d)) {
        put_timestamp(e, m);
        return;
    }
    put(e, "{", 1);
    bool first = true;
    for (unsigned i = 0; i < d->n_fields && !e->failed && !e->out_of_memory; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!written(e, m, f))
            continue;
        if (!first)
            put(e, ",", 1);
        first = false;
        const char *shown = f->name;
        char json_name[256];
        if (!(e->flags & JSONPB_PROTO_NAMES)) {
            size_t n = jsonpb_json_name(f->name, json_name, sizeof json_name);
            assert(n < sizeof json_name);
            shown = json_name;
        }
        if (!jsonpb_path_push(&e->path, shown, strlen(shown))) {
            fail(e, "nested deeper than 64 messages");
            return;
        }
        put_field(e, m, f, shown);
        if (!e->failed)
            jsonpb_path_pop(&e->path);
    }
    put(e, "}", 1);
}

char *jsonpb_encode(const ProtobufCMessage *message, unsigned flags, size_t *len,
                    jsonpb_error *err) {
    assert(message != NULL);
    encoder *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->flags = flags;
    e->err = err;
    if (err != NULL) {
        err->text[0] = '\0';
        err->offset = 0;
    }
    put_message(e, message);
    char *text = e->text;
    if (e->out_of_memory && !e->failed)
        jsonpb_fail(err, NULL, 0, "out of memory");
    if (e->failed || e->out_of_memory) {
        free(text);
        text = NULL;
    } else if (len != NULL) {
        *len = e->len;
    }
    free(e);
    return text;
}

json_t *jsonpb_encode_json(const ProtobufCMessage *message, unsigned flags, jsonpb_error *err) {
    size_t len;
    char *text = jsonpb_encode(message, flags, &len, err);
    if (text == NULL)
        return NULL;
    /* Every integer written as a number is 32-bit, so jansson holds the document exactly. */
    json_error_t json_err;
    json_t *value = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &json_err);
    free(text);
    if (value == NULL)
        jsonpb_fail(err, NULL, 0, "out of memory");
    return value;
}
