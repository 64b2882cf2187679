/* What the encoder and the decoder of src/jsonpb share: the path of the member at hand (for
 * error messages), the descriptor questions (is this a Timestamp, where is a field's value), the
 * proto3 JSON forms of times and bytes. Not for use outside src/jsonpb. */
#ifndef TINVESTD_JSONPB_INTERNAL_H
#define TINVESTD_JSONPB_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonpb/jsonpb.h"

/* ---- The path to the value at hand: "orders[2].price.units". ------------------------------- */

/* A member name longer than this is cut in messages (the path only says where). */
#define JSONPB_PATH_NAME_BYTES 48

typedef struct jsonpb_path_frame {
    char name[JSONPB_PATH_NAME_BYTES];
    long index; /* the element of a repeated field, or -1 */
} jsonpb_path_frame;

typedef struct jsonpb_path {
    jsonpb_path_frame frames[JSONPB_MAX_DEPTH + 1];
    int depth;
} jsonpb_path;

/* Enters a member named by `len` bytes at `name` (cut to fit); returns false past the depth. */
bool jsonpb_path_push(jsonpb_path *path, const char *name, size_t len);
void jsonpb_path_pop(jsonpb_path *path);
/* Sets the element index of the innermost member (-1: none). */
void jsonpb_path_index(jsonpb_path *path, long index);
/* err->text = "<path>: <what>" (just "<what>" at the top), err->offset = offset. */
void jsonpb_fail(jsonpb_error *err, const jsonpb_path *path, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- Descriptors. ---------------------------------------------------------------------------- */

bool jsonpb_is_timestamp(const ProtobufCMessageDescriptor *descriptor);
/* Whether `name` (len bytes) is the lowerCamelCase JSON name of the proto name `proto_name`. */
bool jsonpb_json_name_equal(const char *name, size_t len, const char *proto_name);
/* The bytes one value of a field of this type takes in a message (and in a repeated array). */
size_t jsonpb_value_size(ProtobufCType type);

static inline void *jsonpb_member(void *message, unsigned offset) {
    return (char *)message + offset;
}
static inline const void *jsonpb_cmember(const void *message, unsigned offset) {
    return (const char *)message + offset;
}

/* ---- google.protobuf.Timestamp as RFC 3339 text. --------------------------------------------- */

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z as seconds since 1970. */
#define JSONPB_TIME_MIN_SECONDS (-62135596800LL)
#define JSONPB_TIME_MAX_SECONDS 253402300799LL
/* The longest text jsonpb_time_format writes, with its NUL. */
#define JSONPB_TIME_TEXT_BYTES 32

/* "YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z" (the fewest of 0, 3, 6, 9 digits that hold the
 * nanos). False when seconds or nanos are out of range. */
bool jsonpb_time_format(int64_t seconds, int32_t nanos, char out[JSONPB_TIME_TEXT_BYTES]);
/* RFC 3339 with 'T', 1 to 9 fraction digits and "Z" or an offset "+HH:MM"/"-HH:MM", normalised
 * to UTC. Returns NULL or what is wrong with it. */
const char *jsonpb_time_parse(const char *s, size_t len, int64_t *seconds, int32_t *nanos);

/* ---- bytes as base64. ------------------------------------------------------------------------ */

/* The length of the standard, padded base64 of n bytes. */
static inline size_t jsonpb_base64_length(size_t n) {
    return (n + 2) / 3 * 4;
}
/* Writes jsonpb_base64_length(n) characters (no NUL). */
void jsonpb_base64_encode(const uint8_t *data, size_t n, char *out);
/* Standard or URL-safe alphabet, padding optional (but complete when present). `out` has room for
 * len / 4 * 3 + 3 bytes. False when it is not base64. */
bool jsonpb_base64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len);

#endif
