/* proto3 JSON text -> message, from the descriptor alone (src/jsonpb/jsonpb.h).
 *
 * DESIGN: one pass over the text, straight into the message: the descriptor says what each member
 * must be, so the text is judged where it stands (a 64-bit integer's digits and exponent exactly,
 * a duplicate member, a second member of a oneof) and nothing is built that the message does not
 * keep. Recursion follows the nesting of the text and stops at JSONPB_MAX_DEPTH. The message is
 * kept freeable by protobuf_c_message_free_unpacked() at every step (a string or sub-message is
 * counted only once it is allocated), so a refusal anywhere frees what was built and returns
 * nothing. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpb/jsonpb_internal.h"
#include "util/text.h"

/* The most fields a message may have (the bitmap of members already seen). */
#define MAX_FIELDS 512

typedef struct decoder {
    const char *text;
    size_t len, pos;
    ProtobufCAllocator *alloc;
    unsigned flags;
    int depth;
    bool failed, out_of_memory;
    jsonpb_path path;
    jsonpb_error *err;
    char *scratch; /* the last string read, unescaped and NUL-terminated (malloc) */
    size_t scratch_len, scratch_cap;
} decoder;

static void *system_alloc(void *data, size_t size) {
    (void)data;
    return malloc(size);
}
static void system_free(void *data, void *pointer) {
    (void)data;
    free(pointer);
}
static ProtobufCAllocator system_allocator = {system_alloc, system_free, NULL};

static bool fail_at(decoder *d, size_t offset, const char *what) {
    if (!d->failed && !d->out_of_memory)
        jsonpb_fail(d->err, &d->path, offset, "%s", what);
    d->failed = true;
    return false;
}

static bool fail(decoder *d, const char *what) {
    return fail_at(d, d->pos, what);
}

static void *dalloc(decoder *d, size_t size) {
    void *p = d->alloc->alloc(d->alloc->allocator_data, size ? size : 1);
    if (p == NULL && !d->failed) {
        jsonpb_fail(d->err, &d->path, d->pos, "out of memory");
        d->out_of_memory = true;
    }
    return p;
}

static void dfree(decoder *d, void *p) {
    if (p != NULL && d->alloc->free != NULL)
        d->alloc->free(d->alloc->allocator_data, p);
}

/* ---- Tokens. --------------------------------------------------------------------------------- */

static void skip_ws(decoder *d) {
    while (d->pos < d->len) {
        char c = d->text[d->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        d->pos++;
    }
}

/* The next byte after white space, or -1 at the end. */
static int peek(decoder *d) {
    skip_ws(d);
    return d->pos < d->len ? (unsigned char)d->text[d->pos] : -1;
}

static bool expect(decoder *d, char c, const char *what) {
    if (peek(d) != c)
        return fail(d, what);
    d->pos++;
    return true;
}

static bool literal(decoder *d, const char *word) {
    size_t n = strlen(word);
    if (d->len - d->pos < n || memcmp(d->text + d->pos, word, n) != 0)
        return false;
    d->pos += n;
    return true;
}

static bool scratch_put(decoder *d, const char *s, size_t n) {
    if (d->scratch_len + n + 1 > d->scratch_cap) {
        size_t cap = d->scratch_cap ? d->scratch_cap : 64;
        while (cap < d->scratch_len + n + 1)
            cap *= 2;
        char *grown = realloc(d->scratch, cap);
        if (grown == NULL) {
            if (!d->failed)
                jsonpb_fail(d->err, &d->path, d->pos, "out of memory");
            d->out_of_memory = true;
            return false;
        }
        d->scratch = grown;
        d->scratch_cap = cap;
    }
    memcpy(d->scratch + d->scratch_len, s, n);
    d->scratch_len += n;
    d->scratch[d->scratch_len] = '\0';
    return true;
}

static int hex4(const char *s) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int h = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* A \uXXXX escape at d->pos (just past the backslash and 'u'), with its low surrogate. */
static bool read_unicode_escape(decoder *d) {
    size_t start = d->pos - 2;
    if (d->len - d->pos < 4 || hex4(d->text + d->pos) < 0)
        return fail_at(d, start, "bad \\u escape");
    uint32_t cp = (uint32_t)hex4(d->text + d->pos);
    d->pos += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail_at(d, start, "\\u escape is a lone surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        int low = d->len - d->pos >= 6 && d->text[d->pos] == '\\' && d->text[d->pos + 1] == 'u'
                      ? hex4(d->text + d->pos + 2)
                      : -1;
        if (low < 0xDC00 || low > 0xDFFF)
            return fail_at(d, start, "\\u escape is a lone surrogate");
        d->pos += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)low - 0xDC00);
    }
    char utf8[4];
    size_t n;
    if (cp < 0x80) {
        utf8[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        utf8[0] = (char)(0xC0 | cp >> 6);
        utf8[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        utf8[0] = (char)(0xE0 | cp >> 12);
        utf8[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        utf8[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        utf8[0] = (char)(0xF0 | cp >> 18);
        utf8[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        utf8[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        utf8[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return scratch_put(d, utf8, n);
}

/* A JSON string at d->pos into d->scratch (d->scratch_len bytes), checked to be UTF-8. */
static bool read_string(decoder *d) {
    if (peek(d) != '"')
        return fail(d, "not a string");
    size_t start = d->pos++;
    d->scratch_len = 0;
    if (!scratch_put(d, "", 0))
        return false;
    for (;;) {
        size_t run = d->pos;
        while (d->pos < d->len && d->text[d->pos] != '"' && d->text[d->pos] != '\\' &&
               (unsigned char)d->text[d->pos] >= 0x20)
            d->pos++;
        if (!scratch_put(d, d->text + run, d->pos - run))
            return false;
        if (d->pos >= d->len)
            return fail_at(d, start, "string not terminated");
        char c = d->text[d->pos];
        if (c == '"') {
            d->pos++;
            break;
        }
        if (c != '\\')
            return fail(d, "control character in string");
        if (d->pos + 1 >= d->len)
            return fail_at(d, start, "string not terminated");
        char esc = d->text[d->pos + 1];
        d->pos += 2;
        const char *plain = esc == '"'    ? "\""
                            : esc == '\\' ? "\\"
                            : esc == '/'  ? "/"
                            : esc == 'b'  ? "\b"
                            : esc == 'f'  ? "\f"
                            : esc == 'n'  ? "\n"
                            : esc == 'r'  ? "\r"
                            : esc == 't'  ? "\t"
                                          : NULL;
        if (plain != NULL) {
            if (!scratch_put(d, plain, 1))
                return false;
        } else if (esc == 'u') {
            if (!read_unicode_escape(d))
                return false;
        } else {
            return fail_at(d, d->pos - 2, "bad escape in string");
        }
    }
    if (!text_utf8_valid(d->scratch, d->scratch_len))
        return fail_at(d, start, "string is not UTF-8");
    return true;
}

/* The length of the JSON number at s (n bytes available), or 0 if there is none there.
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static size_t number_length(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        i++;
        size_t first = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == first)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t first = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == first)
            return 0;
    }
    return i;
}

/* A numeric member's text: a JSON number, or a string holding exactly one (proto3 JSON lets
 * every numeric type come as either). On success the literal is in d->scratch; *quoted tells
 * which form it came in, and special strings ("NaN"...) are left for the caller to judge. */
static bool read_numeric(decoder *d, bool *quoted, bool *is_number) {
    int c = peek(d);
    if (c == '"') {
        if (!read_string(d))
            return false;
        *quoted = true;
        *is_number =
            d->scratch_len > 0 && number_length(d->scratch, d->scratch_len) == d->scratch_len;
        return true;
    }
    size_t n = number_length(d->text + d->pos, d->len - d->pos);
    if (n == 0)
        return fail(d, "not a number");
    d->scratch_len = 0;
    if (!scratch_put(d, d->text + d->pos, n))
        return false;
    d->pos += n;
    *quoted = false;
    *is_number = true;
    return true;
}

/* The exact integer a JSON number literal (checked) denotes: sign and magnitude. Exponents are
 * allowed when the value is integral ("1e2" is 100, "1.5e1" is 15, "1.5" is refused). */
static const char *literal_integer(const char *s, size_t n, bool *negative, uint64_t *magnitude) {
    size_t i = 0;
    *negative = s[0] == '-';
    if (*negative)
        i++;
    /* The significant digits: the integer and fraction parts without the leading zeros. */
    const char *first = NULL;
    size_t count = 0, fraction = 0, zeros = 0; /* zeros: trailing zeros of the digits */
    for (bool in_fraction = false; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            in_fraction = true;
            continue;
        }
        if (in_fraction)
            fraction++;
        if (first == NULL && s[i] == '0')
            continue;
        if (first == NULL)
            first = s + i;
        count++;
        zeros = s[i] == '0' ? zeros + 1 : 0;
    }
    long exponent = 0;
    if (i < n) {
        i++;
        bool minus = s[i] == '-';
        if (s[i] == '+' || s[i] == '-')
            i++;
        for (; i < n; i++)
            if (exponent < 100000)
                exponent = exponent * 10 + (s[i] - '0');
        if (minus)
            exponent = -exponent;
    }
    *magnitude = 0;
    if (count == 0)
        return NULL; /* zero, whatever its exponent */
    long scale = exponent - (long)fraction + (long)zeros;
    if (scale < 0)
        return "not an integer";
    size_t kept = count - zeros;
    if ((long)kept + scale > 20)
        return "out of range";
    uint64_t v = 0;
    size_t taken = 0;
    for (const char *p = first; taken < kept; p++) {
        if (*p == '.')
            continue;
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return "out of range";
        v = v * 10 + (uint64_t)(*p - '0');
        taken++;
    }
    for (long k = 0; k < scale; k++) {
        if (v > UINT64_MAX / 10)
            return "out of range";
        v *= 10;
    }
    *magnitude = v;
    return NULL;
}

static bool read_integer(decoder *d, const ProtobufCFieldDescriptor *f, void *slot) {
    size_t start = d->pos;
    bool quoted, is_number;
    if (peek(d) != '"' && peek(d) != '-' && (peek(d) < '0' || peek(d) > '9'))
        return fail(d, "not an integer");
    if (!read_numeric(d, &quoted, &is_number))
        return false;
    if (!is_number)
        return fail_at(d, start, "not an integer");
    bool negative;
    uint64_t m;
    const char *why = literal_integer(d->scratch, d->scratch_len, &negative, &m);
    if (why != NULL)
        return fail_at(d, start, why);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        if (m > (negative ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX))
            return fail_at(d, start, "out of range for int32");
        *(int32_t *)slot = negative ? (int32_t)(-(int64_t)m) : (int32_t)m;
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if ((negative && m != 0) || m > UINT32_MAX)
            return fail_at(d, start, "out of range for uint32");
        *(uint32_t *)slot = (uint32_t)m;
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (m > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
            return fail_at(d, start, "out of range for int64");
        /* -(m - 1) - 1 reaches INT64_MIN without passing through a signed overflow. */
        *(int64_t *)slot = negative && m > 0 ? -(int64_t)(m - 1) - 1 : (int64_t)m;
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (negative && m != 0)
            return fail_at(d, start, "out of range for uint64");
        *(uint64_t *)slot = m;
        return true;
    default:
        assert(!"not an integer type");
        return false;
    }
}

static bool read_real(decoder *d, const ProtobufCFieldDescriptor *f, void *slot) {
    size_t start = d->pos;
    bool quoted, is_number;
    int c = peek(d);
    if (c != '"' && c != '-' && (c < '0' || c > '9'))
        return fail(d, "not a number");
    if (!read_numeric(d, &quoted, &is_number))
        return false;
    double v;
    if (!is_number) {
        if (strcmp(d->scratch, "NaN") == 0)
            v = NAN;
        else if (strcmp(d->scratch, "Infinity") == 0)
            v = INFINITY;
        else if (strcmp(d->scratch, "-Infinity") == 0)
            v = -INFINITY;
        else
            return fail_at(d, start, "not a number");
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)slot = (float)v;
        else
            *(double *)slot = v;
        return true;
    }
    if (f->type == PROTOBUF_C_TYPE_FLOAT) {
        float x = strtof(d->scratch, NULL);
        if (isinf(x))
            return fail_at(d, start, "out of range for float");
        *(float *)slot = x;
    } else {
        v = strtod(d->scratch, NULL);
        if (isinf(v))
            return fail_at(d, start, "out of range for double");
        *(double *)slot = v;
    }
    return true;
}

static bool read_bool(decoder *d, void *slot) {
    peek(d);
    if (literal(d, "true"))
        *(protobuf_c_boolean *)slot = 1;
    else if (literal(d, "false"))
        *(protobuf_c_boolean *)slot = 0;
    else
        return fail(d, "not a boolean");
    return true;
}

/* A copy of d->scratch from the message's allocator. */
static char *scratch_copy(decoder *d) {
    char *s = dalloc(d, d->scratch_len + 1);
    if (s != NULL)
        memcpy(s, d->scratch, d->scratch_len + 1);
    return s;
}

static bool read_text(decoder *d, void *slot) {
    size_t start = d->pos;
    if (!read_string(d))
        return false;
    if (strlen(d->scratch) != d->scratch_len)
        return fail_at(d, start, "string holds U+0000");
    char *s = scratch_copy(d);
    if (s == NULL)
        return false;
    *(char **)slot = s;
    return true;
}

static bool read_bytes(decoder *d, void *slot) {
    size_t start = d->pos;
    if (!read_string(d))
        return false;
    ProtobufCBinaryData *b = slot;
    uint8_t *data = dalloc(d, d->scratch_len / 4 * 3 + 3);
    if (data == NULL)
        return false;
    size_t n;
    if (!jsonpb_base64_decode(d->scratch, d->scratch_len, data, &n)) {
        dfree(d, data);
        return fail_at(d, start, "not base64");
    }
    if (n == 0) {
        dfree(d, data);
        data = NULL;
    }
    b->data = data;
    b->len = n;
    return true;
}

static bool read_enum(decoder *d, const ProtobufCFieldDescriptor *f, void *slot) {
    if (peek(d) != '"')
        return read_integer(d, f, slot);
    size_t start = d->pos;
    if (!read_string(d))
        return false;
    const ProtobufCEnumValue *v =
        strlen(d->scratch) == d->scratch_len
            ? protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, d->scratch)
            : NULL;
    if (v == NULL) {
        char what[96];
        snprintf(what, sizeof what, "not a value of %s",
                 ((const ProtobufCEnumDescriptor *)f->descriptor)->short_name);
        return fail_at(d, start, what);
    }
    *(int *)slot = v->value;
    return true;
}

static bool read_message_body(decoder *d, ProtobufCMessage *m);

/* A new message of field f's type, initialised, put into *slot before its members are read so
 * that a failure inside still frees it with its parent. */
static bool read_submessage(decoder *d, const ProtobufCFieldDescriptor *f, void *slot) {
    const ProtobufCMessageDescriptor *md = f->descriptor;
    ProtobufCMessage *m = dalloc(d, md->sizeof_message);
    if (m == NULL)
        return false;
    protobuf_c_message_init(md, m);
    *(ProtobufCMessage **)slot = m;
    return read_message_body(d, m);
}

/* One value (not null) of field f into slot. */
static bool read_value(decoder *d, const ProtobufCFieldDescriptor *f, void *slot) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return read_integer(d, f, slot);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return read_real(d, f, slot);
    case PROTOBUF_C_TYPE_BOOL:
        return read_bool(d, slot);
    case PROTOBUF_C_TYPE_ENUM:
        return read_enum(d, f, slot);
    case PROTOBUF_C_TYPE_STRING:
        return read_text(d, slot);
    case PROTOBUF_C_TYPE_BYTES:
        return read_bytes(d, slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return read_submessage(d, f, slot);
    }
    assert(!"unknown protobuf-c type");
    return false;
}

static bool enter(decoder *d) {
    if (d->depth >= JSONPB_MAX_DEPTH)
        return fail(d, "nested deeper than 64");
    d->depth++;
    d->pos++;
    return true;
}

/* A JSON array into repeated field f: the array grows by doubling from the message's allocator;
 * the count in the message covers exactly the elements stored, so a failure frees them all. */
static bool read_repeated(decoder *d, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    if (peek(d) != '[')
        return fail(d, "not an array");
    if (!enter(d))
        return false;
    size_t *count = jsonpb_member(m, f->quantifier_offset);
    void **array = jsonpb_member(m, f->offset);
    size_t size = jsonpb_value_size(f->type), capacity = 0;
    assert(*count == 0 && *array == NULL);
    if (peek(d) == ']') {
        d->pos++;
        d->depth--;
        return true;
    }
    for (;;) {
        jsonpb_path_index(&d->path, (long)*count);
        if (*count == capacity) {
            size_t grown = capacity ? capacity * 2 : 4;
            if (grown > SIZE_MAX / size)
                return fail(d, "array too long");
            void *bigger = dalloc(d, grown * size);
            if (bigger == NULL)
                return false;
            if (*count > 0)
                memcpy(bigger, *array, *count * size);
            dfree(d, *array);
            *array = bigger;
            capacity = grown;
        }
        void *slot = (char *)*array + *count * size;
        memset(slot, 0, size);
        if (peek(d) == 'n')
            return fail(d, "null is not an element");
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            /* Stored and counted before its members are read, so a failure inside frees it. */
            const ProtobufCMessageDescriptor *md = f->descriptor;
            ProtobufCMessage *element = dalloc(d, md->sizeof_message);
            if (element == NULL)
                return false;
            protobuf_c_message_init(md, element);
            *(ProtobufCMessage **)slot = element;
            (*count)++;
            if (!read_message_body(d, element))
                return false;
        } else {
            if (!read_value(d, f, slot))
                return false;
            (*count)++;
        }
        int c = peek(d);
        if (c == ']')
            break;
        if (c != ',')
            return fail(d, "expected ',' or ']'");
        d->pos++;
    }
    d->pos++;
    d->depth--;
    jsonpb_path_index(&d->path, -1);
    return true;
}

/* The value of member f of m (after its ':'). */
static bool read_member(decoder *d, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    if (peek(d) == 'n' && literal(d, "null"))
        return true; /* null: the field keeps its default (an empty list, an unset message) */
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return read_repeated(d, m, f);
    void *slot = jsonpb_member(m, f->offset);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = jsonpb_member(m, f->quantifier_offset);
        if (*which != 0) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(m->descriptor, *which);
            char what[128];
            snprintf(what, sizeof what, "its oneof is already set by %s",
                     other ? other->name : "another member");
            return fail(d, what);
        }
        /* A value of its type in the union: zero (NULL for strings, messages, bytes). */
        memset(slot, 0, jsonpb_value_size(f->type));
        *which = f->id;
    } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
               f->type != PROTOBUF_C_TYPE_STRING) {
        *(protobuf_c_boolean *)jsonpb_member(m, f->quantifier_offset) = 1;
    }
    return read_value(d, f, slot);
}

/* Skips one JSON value (a member no field has, with JSONPB_IGNORE_UNKNOWN), checking it. */
static bool skip_value(decoder *d) {
    int c = peek(d);
    if (c == '"')
        return read_string(d);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        if (!enter(d))
            return false;
        if (peek(d) == close) {
            d->pos++;
            d->depth--;
            return true;
        }
        for (;;) {
            if (close == '}' && !(read_string(d) && expect(d, ':', "expected ':'")))
                return false;
            if (!skip_value(d))
                return false;
            int next = peek(d);
            if (next == close)
                break;
            if (next != ',')
                return fail(d, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
            d->pos++;
        }
        d->pos++;
        d->depth--;
        return true;
    }
    if (literal(d, "true") || literal(d, "false") || literal(d, "null"))
        return true;
    size_t n = number_length(d->text + d->pos, d->len - d->pos);
    if (n == 0)
        return fail(d, "not a JSON value");
    d->pos += n;
    return true;
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *md,
                                                  const char *name, size_t len) {
    if (strlen(name) == len) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(md, name);
        if (f != NULL)
            return f;
    }
    for (unsigned i = 0; i < md->n_fields; i++)
        if (jsonpb_json_name_equal(name, len, md->fields[i].name))
            return &md->fields[i];
    return NULL;
}

static bool read_timestamp(decoder *d, ProtobufCMessage *m) {
    size_t start = d->pos;
    if (peek(d) != '"')
        return fail(d, "not an RFC 3339 time string");
    if (!read_string(d))
        return false;
    int64_t seconds;
    int32_t nanos;
    const char *why = jsonpb_time_parse(d->scratch, d->scratch_len, &seconds, &nanos);
    if (why != NULL)
        return fail_at(d, start, why);
    const ProtobufCMessageDescriptor *md = m->descriptor;
    const ProtobufCFieldDescriptor *sf =
        protobuf_c_message_descriptor_get_field_by_name(md, "seconds");
    const ProtobufCFieldDescriptor *nf =
        protobuf_c_message_descriptor_get_field_by_name(md, "nanos");
    assert(sf && nf && sf->type == PROTOBUF_C_TYPE_INT64 && nf->type == PROTOBUF_C_TYPE_INT32);
    *(int64_t *)jsonpb_member(m, sf->offset) = seconds;
    *(int32_t *)jsonpb_member(m, nf->offset) = nanos;
    return true;
}

/* An object (or, for a Timestamp, a string) into the initialised message m. */
static bool read_message_body(decoder *d, ProtobufCMessage *m) {
    const ProtobufCMessageDescriptor *md = m->descriptor;
    if (jsonpb_is_timestamp(md))
        return read_timestamp(d, m);
    if (peek(d) != '{')
        return fail(d, "not an object");
    if (!enter(d))
        return false;
    assert(md->n_fields <= MAX_FIELDS);
    uint64_t seen[MAX_FIELDS / 64] = {0};
    if (peek(d) == '}') {
        d->pos++;
        d->depth--;
        return true;
    }
    for (;;) {
        size_t key_at = d->pos;
        if (peek(d) != '"')
            return fail(d, "expected a member name");
        if (!read_string(d))
            return false;
        if (!jsonpb_path_push(&d->path, d->scratch, d->scratch_len))
            return fail(d, "nested deeper than 64");
        const ProtobufCFieldDescriptor *f = find_field(md, d->scratch, d->scratch_len);
        if (!expect(d, ':', "expected ':'"))
            return false;
        if (f == NULL) {
            if (!(d->flags & JSONPB_IGNORE_UNKNOWN))
                return fail_at(d, key_at, "unknown field");
            if (!skip_value(d))
                return false;
        } else {
            size_t index = (size_t)(f - md->fields);
            if (seen[index / 64] >> (index % 64) & 1)
                return fail_at(d, key_at, "duplicate field");
            seen[index / 64] |= 1ull << (index % 64);
            if (!read_member(d, m, f))
                return false;
        }
        /* The member stays on the path: a missing separator is reported after it. */
        int c = peek(d);
        if (c != '}' && c != ',')
            return fail(d, "expected ',' or '}'");
        jsonpb_path_pop(&d->path);
        if (c == '}')
            break;
        d->pos++;
    }
    d->pos++;
    d->depth--;
    return true;
}

int jsonpb_decode(const char *text, size_t len, const ProtobufCMessageDescriptor *descriptor,
                  const jsonpb_decode_options *options, ProtobufCMessage **out, jsonpb_error *err) {
    assert(descriptor != NULL && descriptor->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    assert(out != NULL && (text != NULL || len == 0));
    *out = NULL;
    if (err != NULL) {
        err->text[0] = '\0';
        err->offset = 0;
    }
    size_t max_bytes = options && options->max_bytes ? options->max_bytes : JSONPB_MAX_TEXT_BYTES;
    if (len > max_bytes) {
        jsonpb_fail(err, NULL, max_bytes, "text longer than %zu bytes", max_bytes);
        return -EINVAL;
    }
    decoder *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -ENOMEM;
    d->text = text ? text : "";
    d->len = len;
    d->alloc = options && options->allocator ? options->allocator : &system_allocator;
    d->flags = options ? options->flags : 0;
    d->err = err;
    ProtobufCMessage *m = dalloc(d, descriptor->sizeof_message);
    bool ok = false;
    if (m != NULL) {
        protobuf_c_message_init(descriptor, m);
        ok = read_message_body(d, m);
        if (ok && peek(d) != -1)
            ok = fail(d, "text after the message");
    }
    int rc = 0;
    if (!ok) {
        rc = d->out_of_memory ? -ENOMEM : -EINVAL;
        if (m != NULL)
            protobuf_c_message_free_unpacked(m, d->alloc);
        m = NULL;
    }
    assert(ok || d->failed || d->out_of_memory);
    free(d->scratch);
    free(d);
    *out = m;
    return rc;
}
