#include "http/grpc_web.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libwebsockets.h>

/* gRPC status codes (grpc/status.h), named here without the gRPC headers. */
enum {
    STATUS_RESOURCE_EXHAUSTED = 8,
    STATUS_UNIMPLEMENTED = 12,
    STATUS_INTERNAL = 13,
};

/* libwebsockets' base64 wants room past the characters it writes (it refuses an exact fit). */
#define B64_SLACK 8

grpc_web_mode grpc_web_mode_of(const char *content_type) {
    if (content_type == NULL)
        return GRPC_WEB_NONE;
    size_t len = strcspn(content_type, ";");
    while (len > 0 && (content_type[len - 1] == ' ' || content_type[len - 1] == '\t'))
        len--;
    static const char web[] = "application/grpc-web";
    static const char text[] = "application/grpc-web-text";
    size_t base;
    grpc_web_mode mode;
    if (len >= sizeof text - 1 && strncasecmp(content_type, text, sizeof text - 1) == 0) {
        base = sizeof text - 1;
        mode = GRPC_WEB_TEXT;
    } else if (len >= sizeof web - 1 && strncasecmp(content_type, web, sizeof web - 1) == 0) {
        base = sizeof web - 1;
        mode = GRPC_WEB_BINARY;
    } else {
        return GRPC_WEB_NONE;
    }
    if (len == base)
        return mode;
    if (content_type[base] == '+')
        return len - base == 6 && strncasecmp(content_type + base, "+proto", 6) == 0
                   ? mode
                   : GRPC_WEB_UNSUPPORTED;
    return GRPC_WEB_NONE; /* application/grpc-webfoo */
}

static int fail(grpc_web_reader *r, int status, const char *text) {
    if (!r->failed) {
        r->failed = true;
        r->error.status = status;
        snprintf(r->error.text, sizeof r->error.text, "%s", text);
    }
    return -1;
}

void grpc_web_reader_init(grpc_web_reader *r, bool text, size_t max_message_bytes) {
    memset(r, 0, sizeof *r);
    r->text = text;
    r->max_message_bytes = max_message_bytes;
}

void grpc_web_reader_clear(grpc_web_reader *r) {
    for (size_t i = 0; i < r->message_count; i++)
        free(r->messages[i].bytes);
    free(r->message);
    grpc_web_reader_init(r, r->text, r->max_message_bytes);
}

/* A whole frame is read: keep its message. */
static int frame_done(grpc_web_reader *r) {
    if (r->message_count == GRPC_WEB_MAX_MESSAGES) {
        char text[96];
        snprintf(text, sizeof text, "a gRPC-web request carries at most %d messages",
                 GRPC_WEB_MAX_MESSAGES);
        return fail(r, STATUS_INTERNAL, text);
    }
    r->messages[r->message_count].bytes = r->message;
    r->messages[r->message_count].len = r->message_len;
    r->message_count++;
    r->message = NULL;
    r->message_len = r->message_need = 0;
    r->in_message = false;
    r->prefix_len = 0;
    return 0;
}

/* The prefix is whole: check the flag and the length, make room for the message. */
static int prefix_done(grpc_web_reader *r) {
    uint8_t flags = r->prefix[0];
    uint32_t len = (uint32_t)r->prefix[1] << 24 | (uint32_t)r->prefix[2] << 16 |
                   (uint32_t)r->prefix[3] << 8 | (uint32_t)r->prefix[4];
    if (flags & GRPC_WEB_FLAG_TRAILERS)
        return fail(r, STATUS_INTERNAL, "a gRPC-web request has no trailer frame");
    if (flags & GRPC_WEB_FLAG_COMPRESSED)
        return fail(r, STATUS_UNIMPLEMENTED,
                    "compressed messages are not supported (no grpc-encoding is accepted)");
    if (flags != GRPC_WEB_FLAG_DATA)
        return fail(r, STATUS_INTERNAL, "a gRPC-web frame with unknown flags");
    if (len > r->max_message_bytes) {
        char text[128];
        snprintf(text, sizeof text, "Received message larger than max (%lu vs. %zu)",
                 (unsigned long)len, r->max_message_bytes);
        return fail(r, STATUS_RESOURCE_EXHAUSTED, text);
    }
    /* The messages of one request together are bounded as one message is: a call that reads
     * one message (unary, server stream) never holds more. */
    if (len > r->max_message_bytes - r->total_bytes) {
        char text[128];
        snprintf(text, sizeof text, "the request's messages exceed %zu bytes together",
                 r->max_message_bytes);
        return fail(r, STATUS_RESOURCE_EXHAUSTED, text);
    }
    r->total_bytes += len;
    r->in_message = true;
    r->message_need = len;
    r->message_len = 0;
    r->message = malloc(len ? len : 1);
    if (r->message == NULL) {
        fail(r, STATUS_INTERNAL, "out of memory");
        return -ENOMEM;
    }
    return len == 0 ? frame_done(r) : 0;
}

/* Decoded bytes into frames. */
static int take_bytes(grpc_web_reader *r, const uint8_t *p, size_t len) {
    while (len > 0) {
        if (!r->in_message) {
            size_t n = GRPC_WEB_PREFIX_LEN - r->prefix_len;
            if (n > len)
                n = len;
            memcpy(r->prefix + r->prefix_len, p, n);
            r->prefix_len += n;
            p += n;
            len -= n;
            if (r->prefix_len == GRPC_WEB_PREFIX_LEN) {
                int rc = prefix_done(r);
                if (rc != 0)
                    return rc;
            }
            continue;
        }
        size_t n = r->message_need - r->message_len;
        if (n > len)
            n = len;
        memcpy(r->message + r->message_len, p, n);
        r->message_len += n;
        p += n;
        len -= n;
        if (r->message_len == r->message_need) {
            int rc = frame_done(r);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static bool b64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Four base64 characters: "xxxx", "xxx=" or "xx==" (a piece of the text may end with padding and
 * the next begin right after it). */
static int take_quantum(grpc_web_reader *r) {
    const char *q = r->quantum;
    bool ok = b64_char(q[0]) && b64_char(q[1]) &&
              ((b64_char(q[2]) && (b64_char(q[3]) || q[3] == '=')) || (q[2] == '=' && q[3] == '='));
    if (!ok)
        return fail(r, STATUS_INTERNAL, "a gRPC-web text body that is not base64");
    char out[3 + B64_SLACK];
    int n = lws_b64_decode_string_len(q, 4, out, (int)sizeof out);
    int want = q[2] == '=' ? 1 : q[3] == '=' ? 2 : 3;
    if (n != want)
        return fail(r, STATUS_INTERNAL, "a gRPC-web text body that is not base64");
    r->quantum_len = 0;
    return take_bytes(r, (const uint8_t *)out, (size_t)n);
}

int grpc_web_reader_feed(grpc_web_reader *r, const void *data, size_t len) {
    if (r->failed)
        return -1;
    if (!r->text)
        return take_bytes(r, data, len);
    const char *p = data;
    for (size_t i = 0; i < len; i++) {
        r->quantum[r->quantum_len++] = p[i];
        if (r->quantum_len == 4) {
            int rc = take_quantum(r);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int grpc_web_reader_finish(grpc_web_reader *r) {
    if (r->failed)
        return -1;
    if (r->quantum_len != 0)
        return fail(r, STATUS_INTERNAL, "a gRPC-web text body that ends inside a base64 group");
    if (r->in_message || r->prefix_len != 0)
        return fail(r, STATUS_INTERNAL, "a gRPC-web body that ends inside a frame");
    return 0;
}

void grpc_web_frame_prefix(uint8_t out[GRPC_WEB_PREFIX_LEN], uint8_t flags, uint32_t len) {
    out[0] = flags;
    out[1] = (uint8_t)(len >> 24);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
}

int grpc_web_frame(uint8_t flags, const void *payload, size_t len, bool text, uint8_t **out,
                   size_t *out_len) {
    /* The text form's length must fit the int of libwebsockets' base64. */
    if (len > UINT32_MAX || len > (size_t)INT_MAX / 2)
        return -EINVAL;
    size_t frame_len = GRPC_WEB_PREFIX_LEN + len;
    uint8_t *frame = malloc(frame_len);
    if (frame == NULL)
        return -ENOMEM;
    grpc_web_frame_prefix(frame, flags, (uint32_t)len);
    if (len > 0)
        memcpy(frame + GRPC_WEB_PREFIX_LEN, payload, len);
    if (!text) {
        *out = frame;
        *out_len = frame_len;
        return 0;
    }
    size_t size = (frame_len + 2) / 3 * 4 + B64_SLACK;
    char *encoded = malloc(size);
    int n = encoded == NULL
                ? -1
                : lws_b64_encode_string((const char *)frame, (int)frame_len, encoded, (int)size);
    free(frame);
    if (n < 0) {
        free(encoded);
        return -ENOMEM;
    }
    *out = (uint8_t *)encoded;
    *out_len = (size_t)n;
    return 0;
}

bool grpc_web_header_passes(const char *key) {
    static const char *const reserved[] = {"content-type", "content-length",    "te",
                                           "connection",   "transfer-encoding", "user-agent",
                                           "host"};
    if (key[0] == '\0' || key[0] == ':' || strncmp(key, "grpc-", 5) == 0)
        return false;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(key, reserved[i]) == 0)
            return false;
    for (const char *c = key; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
              *c == '.'))
            return false;
    return true;
}

int grpc_web_header_value(const grpc_relay_header *h, char *out, size_t size) {
    size_t key_len = strlen(h->key);
    if (key_len > 4 && strcmp(h->key + key_len - 4, "-bin") == 0) {
        if (h->value_len > (size_t)INT_MAX / 2 || (h->value_len + 2) / 3 * 4 + B64_SLACK > size)
            return -1;
        return lws_b64_encode_string(h->value, (int)h->value_len, out, (int)size);
    }
    if (h->value_len >= size || h->value_len > INT_MAX)
        return -1;
    for (size_t i = 0; i < h->value_len; i++) {
        unsigned char c = (unsigned char)h->value[i];
        if (c < 0x20 || c == 0x7f)
            return -1;
    }
    memcpy(out, h->value, h->value_len);
    out[h->value_len] = '\0';
    return (int)h->value_len;
}

void grpc_web_percent_encode(const char *text, char *out, size_t size) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        bool plain = *c >= 0x20 && *c <= 0x7e && *c != '%';
        size_t need = plain ? 1 : 3;
        if (n + need >= size)
            break;
        if (plain) {
            out[n++] = (char)*c;
        } else {
            out[n++] = '%';
            out[n++] = hex[*c >> 4];
            out[n++] = hex[*c & 15];
        }
    }
    if (size > 0)
        out[n] = '\0';
}

/* A growing text buffer. */
typedef struct text_buffer {
    char *data;
    size_t len, cap;
    bool failed;
} text_buffer;

static void append(text_buffer *b, const char *text, size_t len) {
    if (b->failed)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void append_line(text_buffer *b, const char *key, const char *value, size_t value_len) {
    append(b, key, strlen(key));
    append(b, ": ", 2);
    append(b, value, value_len);
    append(b, "\r\n", 2);
}

int grpc_web_trailer_block(int status, const char *message, const grpc_relay_headers *trailers,
                           char **out, size_t *out_len) {
    text_buffer b = {0};
    char number[16];
    snprintf(number, sizeof number, "%d", status);
    append_line(&b, "grpc-status", number, strlen(number));
    if (message != NULL && message[0] != '\0') {
        size_t size = 3 * strlen(message) + 1;
        char *encoded = malloc(size);
        if (encoded == NULL) {
            free(b.data);
            return -ENOMEM;
        }
        grpc_web_percent_encode(message, encoded, size);
        append_line(&b, "grpc-message", encoded, strlen(encoded));
        free(encoded);
    }
    for (size_t i = 0; trailers != NULL && i < trailers->count; i++) {
        const grpc_relay_header *h = &trailers->items[i];
        if (!grpc_web_header_passes(h->key))
            continue;
        size_t size = (h->value_len + 2) / 3 * 4 + B64_SLACK + 1;
        char *value = malloc(size);
        int n = value == NULL ? -1 : grpc_web_header_value(h, value, size);
        if (n >= 0)
            append_line(&b, h->key, value, (size_t)n);
        free(value);
    }
    if (b.failed) {
        free(b.data);
        return -ENOMEM;
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

int grpc_web_parse_timeout(const char *text, int64_t *ms) {
    size_t digits = strspn(text, "0123456789");
    if (digits == 0 || digits > 8 || text[digits] == '\0' || text[digits + 1] != '\0')
        return -1;
    int64_t value = 0;
    for (size_t i = 0; i < digits; i++)
        value = value * 10 + (text[i] - '0');
    /* At most 99 999 999 of any unit: hours in milliseconds stay far inside int64. */
    switch (text[digits]) {
    case 'H':
        *ms = value * 3600000;
        return 0;
    case 'M':
        *ms = value * 60000;
        return 0;
    case 'S':
        *ms = value * 1000;
        return 0;
    case 'm':
        *ms = value;
        return 0;
    case 'u':
        *ms = (value + 999) / 1000;
        return 0;
    case 'n':
        *ms = (value + 999999) / 1000000;
        return 0;
    default:
        return -1;
    }
}
