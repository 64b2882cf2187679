/* Fuzz target: the proto3 JSON mapping (src/jsonpb) over every message type of the contract.
 *
 * Feeds: the first two bytes (little endian) pick the message type (bits 1-15, modulo the number
 * of types of tests/fuzz/jsonpb_types.h) and whether unknown members are skipped (bit 0); the rest
 * is JSON text, read with jsonpb_decode().
 *
 * Asserts, besides no crash, leak or sanitizer report: a refusal says why; a decoded message is
 * written again in both name styles and both default policies (which cannot fail: the decoder
 * let through only what the mapping can write), and each of those texts decodes to the same
 * packed bytes as the first decode. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpb/jsonpb.h"
#include "jsonpb_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *types[JSONPB_TYPES_MAX];
static size_t type_count;

static uint8_t *packed(const ProtobufCMessage *m, size_t *n) {
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *bytes = malloc(*n + 1);
    assert(bytes != NULL);
    size_t written = protobuf_c_message_pack(m, bytes);
    assert(written == *n);
    return bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (type_count == 0)
        type_count = jsonpb_types_collect(types);
    if (size < 2)
        return 0;
    unsigned selector = (unsigned)data[0] | (unsigned)data[1] << 8;
    const ProtobufCMessageDescriptor *type = types[(selector >> 1) % type_count];
    jsonpb_decode_options options = {.flags = selector & 1 ? JSONPB_IGNORE_UNKNOWN : 0};
    jsonpb_error err;
    ProtobufCMessage *m = NULL;
    int rc = jsonpb_decode((const char *)data + 2, size - 2, type, &options, &m, &err);
    if (rc != 0) {
        assert(rc == -EINVAL && m == NULL && err.text[0] != '\0');
        return 0;
    }
    assert(m != NULL && m->descriptor == type);
    size_t n;
    uint8_t *first = packed(m, &n);
    static const unsigned styles[] = {0, JSONPB_PROTO_NAMES, JSONPB_OMIT_DEFAULTS,
                                      JSONPB_PROTO_NAMES | JSONPB_OMIT_DEFAULTS};
    for (size_t s = 0; s < sizeof styles / sizeof *styles; s++) {
        size_t len;
        char *text = jsonpb_encode(m, styles[s], &len, &err);
        assert(text != NULL);
        ProtobufCMessage *again = NULL;
        rc = jsonpb_decode(text, len, type, NULL, &again, &err);
        assert(rc == 0);
        size_t n2;
        uint8_t *second = packed(again, &n2);
        assert(n2 == n && memcmp(first, second, n) == 0);
        free(second);
        protobuf_c_message_free_unpacked(again, NULL);
        free(text);
    }
    free(first);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
