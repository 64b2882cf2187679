/* The proto3 JSON mapping, driven by protobuf-c descriptors: any message of the contract to JSON
 * text and back, for the REST proxy (`POST /rest/<service>/<method>`) and the WebSocket streams
 * (`json`: lowerCamelCase names; `json-proto`: the .proto field names).
 *
 * DESIGN: nothing here knows a method or a message type; every rule reads the descriptor
 * (ProtobufCMessageDescriptor) alone, so a message added to proto/ is translated without code.
 * The mapping as implemented (docs/PROTOCOL.md, "JSON mapping"):
 *   - names: lowerCamelCase (protoc's json_name rule) or the proto names on output; both accepted
 *     on input;
 *   - 64-bit integers as decimal strings, 32-bit integers as numbers; enums by value name (a
 *     number no value has, as the number); bytes as base64; google.protobuf.Timestamp as an RFC
 *     3339 string in UTC with 0, 3, 6 or 9 fraction digits; doubles and floats as numbers, or the
 *     strings "NaN", "Infinity", "-Infinity";
 *   - what is written: every field without presence, even at its default (0, false, "", an enum's
 *     zero value, [] for an empty repeated field), as the real proxy's answers show; a message
 *     field, a oneof member and a proto3 `optional` field (a single-member oneof here) only when
 *     set. JSONPB_OMIT_DEFAULTS writes the proto3 spec's minimal form instead.
 * The decoder reads the text itself (not through a generic JSON tree) so that 64-bit integers,
 * exponents and duplicate names are judged on the exact text; its recursion is bounded by
 * JSONPB_MAX_DEPTH and its input by a byte limit, and any input either decodes or is refused with a
 * short message naming the JSON path ("order.price.units: not an integer"). */
#ifndef TINVESTD_JSONPB_JSONPB_H
#define TINVESTD_JSONPB_JSONPB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* The deepest nesting of objects and arrays either direction accepts. */
#define JSONPB_MAX_DEPTH 64
/* The longest text jsonpb_decode() reads unless told a smaller limit. */
#define JSONPB_MAX_TEXT_BYTES (16u * 1024u * 1024u)

/* Output flags. */
enum {
    /* Field names as in the .proto files (WebSocket `json-proto`) instead of lowerCamelCase. */
    JSONPB_PROTO_NAMES = 1u << 0,
    /* Leave out fields without presence that hold their default, and empty repeated fields. */
    JSONPB_OMIT_DEFAULTS = 1u << 1,
};

/* Input flags. */
enum {
    /* Skip members that name no field (the value is still checked as JSON) instead of refusing
     * them; an enum name no value has is still refused. */
    JSONPB_IGNORE_UNKNOWN = 1u << 0,
};

typedef struct jsonpb_error {
    /* "path: what", e.g. "orders[2].price.units: not an integer"; "" when there is no error. The
     * path is the JSON members as the input spelled them (on output: the names written). */
    char text[200];
    /* On input: the byte of the text where the fault was found; 0 on output. */
    size_t offset;
} jsonpb_error;

typedef struct jsonpb_decode_options {
    unsigned flags;   /* JSONPB_IGNORE_UNKNOWN */
    size_t max_bytes; /* 0: JSONPB_MAX_TEXT_BYTES */
    /* NULL: malloc. The message and everything in it come from it; the caller frees it with
     * protobuf_c_message_free_unpacked(message, allocator) (an arena may simply be dropped). */
    ProtobufCAllocator *allocator;
} jsonpb_decode_options;

/* Writes `message` as JSON text (compact, fields in field-number order) into a malloc'd,
 * NUL-terminated string; its length goes to *len if len is not NULL. Returns NULL, with err
 * telling why, for a message the mapping cannot write (a string that is not UTF-8, a Timestamp
 * out of 0001-01-01..9999-12-31 or with nanos outside 0..999999999, nesting past
 * JSONPB_MAX_DEPTH) or when memory runs out. */
char *jsonpb_encode(const ProtobufCMessage *message, unsigned flags, size_t *len,
                    jsonpb_error *err);

/* The same as a jansson value (a new reference), for callers that build a larger document. */
json_t *jsonpb_encode_json(const ProtobufCMessage *message, unsigned flags, jsonpb_error *err);

/* Reads `len` bytes of JSON text as a message of type `descriptor`. Returns 0 and a new message in
 * *out, or -EINVAL with *out NULL and err telling why (nothing allocated is left behind), or
 * -ENOMEM. `text` need not be NUL-terminated. */
int jsonpb_decode(const char *text, size_t len, const ProtobufCMessageDescriptor *descriptor,
                  const jsonpb_decode_options *options, ProtobufCMessage **out, jsonpb_error *err);

/* The lowerCamelCase JSON name of a proto field name, as protoc derives json_name: underscores
 * dropped, the letter after each one upper-cased. Writes at most `size` bytes with the NUL;
 * returns the name's length (as snprintf: a result >= size means it was cut). */
size_t jsonpb_json_name(const char *proto_name, char *out, size_t size);

#endif
