/* Fuzz target: gRPC-web's request reader (src/http/grpc_web.c), the untrusted body of a browser's
 * call.
 *
 * Feeds: the input after its first byte as a body, in binary mode and in text mode, in pieces
 * whose size the first byte chooses, under a message limit it chooses too.
 *
 * Asserts, besides no crash or sanitizer report: a reader either fails with a gRPC status of its
 * table (8, 12, 13) or holds at most GRPC_WEB_MAX_MESSAGES messages, none and all together past the
 * limit; an accepted body written again as frames by grpc_web_frame (binary and text) reads back
 * to the same messages. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/grpc_web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_all(grpc_web_reader *r, const uint8_t *data, size_t size, size_t piece) {
    int rc = 0;
    for (size_t at = 0; at < size && rc == 0; at += piece)
        rc = grpc_web_reader_feed(r, data + at, at + piece <= size ? piece : size - at);
    return rc == 0 ? grpc_web_reader_finish(r) : rc;
}

static void check_read(const grpc_web_reader *r, int rc) {
    if (rc != 0) {
        assert(r->failed);
        assert(r->error.status == 8 || r->error.status == 12 || r->error.status == 13);
        assert(r->error.text[0] != '\0');
        return;
    }
    assert(r->message_count <= GRPC_WEB_MAX_MESSAGES);
    size_t total = 0;
    for (size_t i = 0; i < r->message_count; i++) {
        assert(r->messages[i].len <= r->max_message_bytes);
        total += r->messages[i].len;
    }
    assert(total <= r->max_message_bytes);
}

/* The messages written again as frames read back the same. */
static void round_trip(const grpc_web_reader *r, bool text) {
    grpc_web_reader back;
    grpc_web_reader_init(&back, text, r->max_message_bytes);
    for (size_t i = 0; i < r->message_count; i++) {
        uint8_t *frame = NULL;
        size_t len = 0;
        int rc = grpc_web_frame(GRPC_WEB_FLAG_DATA, r->messages[i].bytes, r->messages[i].len, text,
                                &frame, &len);
        assert(rc == 0);
        assert(grpc_web_reader_feed(&back, frame, len) == 0);
        free(frame);
    }
    assert(grpc_web_reader_finish(&back) == 0);
    assert(back.message_count == r->message_count);
    for (size_t i = 0; i < r->message_count; i++) {
        assert(back.messages[i].len == r->messages[i].len);
        assert(back.messages[i].len == 0 ||
               memcmp(back.messages[i].bytes, r->messages[i].bytes, back.messages[i].len) == 0);
    }
    grpc_web_reader_clear(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t piece = (size_t)(data[0] & 0x1f) + 1;
    size_t max = (size_t)(data[0] >> 5) * 64 + 16;
    data++;
    size--;

    grpc_web_reader binary;
    grpc_web_reader_init(&binary, false, max);
    int rc = read_all(&binary, data, size, piece);
    check_read(&binary, rc);
    if (rc == 0) {
        round_trip(&binary, false);
        round_trip(&binary, true);
    }
    grpc_web_reader_clear(&binary);

    grpc_web_reader text;
    grpc_web_reader_init(&text, true, max);
    rc = read_all(&text, data, size, piece);
    check_read(&text, rc);
    if (rc == 0)
        round_trip(&text, false);
    grpc_web_reader_clear(&text);
    return 0;
}
