#include "api/validate.h"

#include <stdio.h>
#include <string.h>

#include "util/text.h"

#define WIRE_VARINT 0
#define WIRE_FIXED64 1
#define WIRE_LENGTH_DELIMITED 2
#define WIRE_FIXED32 5
#define CODE_MALFORMED 30102

/* Fields whose catalogue has a code of their own for an invalid value; every other field's
 * violation answers 30102, the code a request that does not decode gets. */
static const struct {
    const char *field;
    int code;
} field_codes[] = {
    {"account_id", 30022},
    {"idempotency_key", 30030},
    {"group_name", 30231},
    {"group_color", 30232},
};

/* String fields that hold free text rather than an identifier. */
static const char *const text_fields[] = {"name", "query", "group_name", "note"};

typedef struct walk {
    api_validate_error *error;
    char path[160]; /* the field being checked, as `parent.child` */
} walk;

static int code_of(const char *field) {
    for (size_t i = 0; i < sizeof field_codes / sizeof field_codes[0]; i++)
        if (strcmp(field_codes[i].field, field) == 0)
            return field_codes[i].code;
    return CODE_MALFORMED;
}

static size_t max_bytes_of(const char *field) {
    for (size_t i = 0; i < sizeof text_fields / sizeof text_fields[0]; i++)
        if (strcmp(text_fields[i], field) == 0)
            return API_VALIDATE_TEXT_MAX_BYTES;
    return API_VALIDATE_ID_MAX_BYTES;
}

static bool malformed(walk *w, const char *what) {
    w->error->code = CODE_MALFORMED;
    snprintf(w->error->message, sizeof w->error->message, "Malformed request: %s", what);
    return false;
}

static bool check_string(walk *w, const ProtobufCFieldDescriptor *field, const uint8_t *bytes,
                         size_t len) {
    size_t max_bytes = max_bytes_of(field->name);
    char reason[64];
    if (len > max_bytes)
        snprintf(reason, sizeof reason, "longer than %zu bytes", max_bytes);
    else if (memchr(bytes, '\0', len) != NULL)
        snprintf(reason, sizeof reason, "contains a NUL byte");
    else if (!text_utf8_valid((const char *)bytes, len))
        snprintf(reason, sizeof reason, "not valid UTF-8");
    else
        return true;
    w->error->code = code_of(field->name);
    snprintf(w->error->message, sizeof w->error->message, "`%s` is invalid: %s", w->path, reason);
    return false;
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p == end)
            return false;
        uint8_t b = *(*p)++;
        value |= (uint64_t)(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            *out = value;
            return true;
        }
    }
    return false;
}

static bool walk_message(walk *w, const ProtobufCMessageDescriptor *type, const uint8_t *p,
                         const uint8_t *end, size_t path_len, unsigned depth);

/* One length-delimited field: a string is checked, a message is walked, anything else (bytes,
 * packed numbers) holds no text. */
static bool walk_field(walk *w, const ProtobufCFieldDescriptor *field, const uint8_t *bytes,
                       size_t len, size_t path_len, unsigned depth) {
    if (field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE)
        return true;
    int written = snprintf(w->path + path_len, sizeof w->path - path_len, "%s%s",
                           path_len > 0 ? "." : "", field->name);
    size_t field_path_len = path_len + (size_t)written;
    if (written < 0 || field_path_len >= sizeof w->path)
        field_path_len = sizeof w->path - 1;
    bool ok =
        field->type == PROTOBUF_C_TYPE_STRING
            ? check_string(w, field, bytes, len)
            : walk_message(w, field->descriptor, bytes, bytes + len, field_path_len, depth + 1);
    if (ok)
        w->path[path_len] = '\0';
    return ok;
}

static bool walk_message(walk *w, const ProtobufCMessageDescriptor *type, const uint8_t *p,
                         const uint8_t *end, size_t path_len, unsigned depth) {
    if (depth > API_VALIDATE_MAX_DEPTH)
        return malformed(w, "messages nest too deep");
    while (p < end) {
        uint64_t tag, value;
        if (!read_varint(&p, end, &tag))
            return malformed(w, "the message could not be decoded");
        switch (tag & 7) {
        case WIRE_VARINT:
            if (!read_varint(&p, end, &value))
                return malformed(w, "the message could not be decoded");
            break;
        case WIRE_FIXED64:
        case WIRE_FIXED32: {
            size_t size = (tag & 7) == WIRE_FIXED64 ? 8 : 4;
            if ((size_t)(end - p) < size)
                return malformed(w, "the message could not be decoded");
            p += size;
            break;
        }
        case WIRE_LENGTH_DELIMITED: {
            if (!read_varint(&p, end, &value) || value > (uint64_t)(end - p))
                return malformed(w, "the message could not be decoded");
            uint64_t number = tag >> 3;
            const ProtobufCFieldDescriptor *field =
                number <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(type, (unsigned)number)
                    : NULL;
            if (field != NULL && !walk_field(w, field, p, (size_t)value, path_len, depth))
                return false;
            p += value;
            break;
        }
        default:
            /* Groups (wire types 3 and 4): protobuf-c does not decode them either. */
            return malformed(w, "the message could not be decoded");
        }
    }
    return true;
}

bool api_validate_request(const ProtobufCMessageDescriptor *type, const uint8_t *data, size_t len,
                          api_validate_error *error) {
    walk w = {.error = error};
    error->code = 0;
    error->message[0] = '\0';
    /* An empty message has no fields, and its slice may have no storage at all. */
    if (len == 0)
        return true;
    return walk_message(&w, type, data, data + len, 0, 0);
}
