/* gRPC-web's wire format (docs/PROTOCOL.md, "gRPC-web"): the request's content type, its
 * length-prefixed frames (binary, or base64 text in any number of padded pieces), and the answer's
 * frames and trailer block. No HTTP and no gRPC here: grpc_web_call.h drives a request with these
 * and the relay (grpc_relay.h).
 *
 * DESIGN: the reader is fed the body as it arrives, in pieces of any size, and keeps only the
 * messages decoded so far, each and all together bounded by the listener's message limit (the
 * gRPC server's limits.max_message_bytes), so a body is refused as soon as a frame says it is too
 * long. Errors
 * are what a gRPC server answers for the same fault in a native request: a message over the limit
 * is RESOURCE_EXHAUSTED, a compressed message (no compression is negotiated) UNIMPLEMENTED, broken
 * framing or base64 INTERNAL. Base64 is libwebsockets' (lws_b64_*); the reader checks the alphabet
 * and the padding of each four characters itself, since the text may hold several padded pieces
 * one after the other. */
#ifndef TINVESTD_HTTP_GRPC_WEB_H
#define TINVESTD_HTTP_GRPC_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/grpc_relay.h"

/* Messages one request may carry (a unary or server-streaming call takes one; the relay queues at
 * most this many before the call has started sending). */
#define GRPC_WEB_MAX_MESSAGES GRPC_RELAY_MAX_PENDING

/* The frame flags of gRPC-web: a data frame, a compressed one, the trailer frame. */
#define GRPC_WEB_FLAG_DATA 0x00u
#define GRPC_WEB_FLAG_COMPRESSED 0x01u
#define GRPC_WEB_FLAG_TRAILERS 0x80u

#define GRPC_WEB_PREFIX_LEN 5

typedef enum grpc_web_mode {
    GRPC_WEB_NONE,        /* not a gRPC-web content type */
    GRPC_WEB_BINARY,      /* application/grpc-web, application/grpc-web+proto */
    GRPC_WEB_TEXT,        /* application/grpc-web-text, application/grpc-web-text+proto */
    GRPC_WEB_UNSUPPORTED, /* application/grpc-web+json and other message encodings */
} grpc_web_mode;

/* The mode of a request's Content-Type (parameters after ';' ignored, case-insensitive). */
grpc_web_mode grpc_web_mode_of(const char *content_type);

/* An error answered as a gRPC status (the numbers of grpc/status.h). */
typedef struct grpc_web_error {
    int status;
    char text[160];
} grpc_web_error;

typedef struct grpc_web_message {
    uint8_t *bytes;
    size_t len;
} grpc_web_message;

typedef struct grpc_web_reader {
    bool text;
    size_t max_message_bytes;
    char quantum[4]; /* text mode: base64 characters not yet decoded */
    size_t quantum_len;
    uint8_t prefix[GRPC_WEB_PREFIX_LEN]; /* the frame prefix being read */
    size_t prefix_len;
    uint8_t *message; /* the frame being read (after its prefix), message_len of message_need */
    size_t message_len, message_need;
    bool in_message;
    grpc_web_message messages[GRPC_WEB_MAX_MESSAGES];
    size_t message_count;
    size_t total_bytes; /* of the messages so far (at most max_message_bytes) */
    bool failed;
    grpc_web_error error;
} grpc_web_reader;

void grpc_web_reader_init(grpc_web_reader *reader, bool text, size_t max_message_bytes);

/* Reads `len` more bytes of the body. Returns 0, or -1 with reader->error set (every later call
 * returns -1 too); -ENOMEM when memory runs out. */
int grpc_web_reader_feed(grpc_web_reader *reader, const void *data, size_t len);

/* The body has ended: -1 with reader->error when it stopped inside a frame or a base64 group. */
int grpc_web_reader_finish(grpc_web_reader *reader);

/* Frees the messages read and resets the reader. */
void grpc_web_reader_clear(grpc_web_reader *reader);

/* The 5-byte prefix of a frame. */
void grpc_web_frame_prefix(uint8_t out[GRPC_WEB_PREFIX_LEN], uint8_t flags, uint32_t len);

/* One frame of the answer (prefix and payload), base64 when `text`: a malloc'd buffer in *out,
 * *out_len bytes. -EINVAL for a payload longer than a frame can say, -ENOMEM. */
int grpc_web_frame(uint8_t flags, const void *payload, size_t len, bool text, uint8_t **out,
                   size_t *out_len);

/* Whether a header of the gRPC answer goes on to the client (as an HTTP header or a line of the
 * trailer block): not a pseudo-header, not the transport's own (content-type, te, grpc-status,
 * grpc-message and the other grpc- headers the relay's server sets), and a key of the characters
 * HTTP allows. */
bool grpc_web_header_passes(const char *key);

/* The value of header `h` as HTTP carries it into `out` (NUL-terminated): a binary header (key
 * ending in -bin) in base64, as gRPC over HTTP/2 sends it; any other as it is. Returns the length,
 * or -1 when it does not fit in `size` or holds a byte HTTP does not allow in a value. */
int grpc_web_header_value(const grpc_relay_header *h, char *out, size_t size);

/* grpc-message as gRPC sends it: percent-encoded outside the printable ASCII range (and '%'). The
 * result is cut at `size` - 1 bytes on a whole escape. */
void grpc_web_percent_encode(const char *text, char *out, size_t size);

/* The trailer block: "grpc-status: N\r\ngrpc-message: M\r\n" and then a "key: value\r\n" line per
 * passing header of `trailers` (NULL: none). A malloc'd buffer in *out, *out_len bytes; -ENOMEM. */
int grpc_web_trailer_block(int status, const char *message, const grpc_relay_headers *trailers,
                           char **out, size_t *out_len);

/* A "grpc-timeout" value (1 to 8 digits and a unit H, M, S, m, u or n) in milliseconds, rounded
 * up, in *ms. -1 when the text is not one. */
int grpc_web_parse_timeout(const char *text, int64_t *ms);

#endif
