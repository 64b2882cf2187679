/* gRPC-web's wire format (src/http/grpc_web.c): content types, the request's frames read in
 * pieces of any size (binary and base64 text, the text in several padded pieces), the limits and
 * faults a gRPC server refuses (a message past the limit, a compressed message, a trailer frame,
 * a body ending inside a frame or a base64 group), the answer's frames and trailer block, and
 * grpc-timeout. Also: the method table marks exactly the bidirectional methods as client streams,
 * which gRPC-web refuses. */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "api/call.h"
#include "api/services.h"
#include "check.h"
#include "http/grpc_web.h"

static void test_modes(void) {
    CHECK_EQ_INT(grpc_web_mode_of("application/grpc-web"), GRPC_WEB_BINARY);
    CHECK_EQ_INT(grpc_web_mode_of("application/grpc-web+proto"), GRPC_WEB_BINARY);
    CHECK_EQ_INT(grpc_web_mode_of("Application/GRPC-Web+Proto; charset=x"), GRPC_WEB_BINARY);
    CHECK_EQ_INT(grpc_web_mode_of("application/grpc-web-text"), GRPC_WEB_TEXT);
    CHECK_EQ_INT(grpc_web_mode_of("application/grpc-web-text+proto"), GRPC_WEB_TEXT);
    CHECK_EQ_INT(grpc_web_mode_of("application/grpc-web+json"), GRPC_WEB_UNSUPPORTED);
    CHECK_EQ_INT(grpc_web_mode_of("application/grpc-web-text+thrift"), GRPC_WEB_UNSUPPORTED);
    CHECK_EQ_INT(grpc_web_mode_of("application/grpc"), GRPC_WEB_NONE);
    CHECK_EQ_INT(grpc_web_mode_of("application/json"), GRPC_WEB_NONE);
    CHECK_EQ_INT(grpc_web_mode_of("application/grpc-webx"), GRPC_WEB_NONE);
    CHECK_EQ_INT(grpc_web_mode_of(NULL), GRPC_WEB_NONE);
}

/* A body of frames: each message as a data frame. */
static size_t frames(uint8_t *out, const char *const *messages, size_t count) {
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(messages[i]);
        grpc_web_frame_prefix(out + n, GRPC_WEB_FLAG_DATA, (uint32_t)len);
        memcpy(out + n + GRPC_WEB_PREFIX_LEN, messages[i], len);
        n += GRPC_WEB_PREFIX_LEN + len;
    }
    return n;
}

static bool holds(const grpc_web_reader *r, const char *const *messages, size_t count) {
    if (r->message_count != count)
        return false;
    for (size_t i = 0; i < count; i++)
        if (r->messages[i].len != strlen(messages[i]) ||
            memcmp(r->messages[i].bytes, messages[i], r->messages[i].len) != 0)
            return false;
    return true;
}

/* Every split of a body of three frames (one of them empty) into pieces gives the same
 * messages. */
static void test_binary_frames_split_anywhere(void) {
    const char *const messages[] = {"hello", "", "a longer message of the client"};
    uint8_t body[128];
    size_t len = frames(body, messages, 3);
    for (size_t piece = 1; piece <= len; piece++) {
        grpc_web_reader r;
        grpc_web_reader_init(&r, false, 64);
        int rc = 0;
        for (size_t at = 0; at < len && rc == 0; at += piece)
            rc = grpc_web_reader_feed(&r, body + at, at + piece <= len ? piece : len - at);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(grpc_web_reader_finish(&r), 0);
        CHECK(holds(&r, messages, 3));
        grpc_web_reader_clear(&r);
        CHECK_EQ_INT(r.message_count, 0);
    }
    /* An empty body is no message at all (the server says what a call without one gets). */
    grpc_web_reader r;
    grpc_web_reader_init(&r, false, 64);
    CHECK_EQ_INT(grpc_web_reader_finish(&r), 0);
    CHECK_EQ_INT(r.message_count, 0);
}

static void test_limit(void) {
    const char *const exact[] = {"0123456789"};
    uint8_t body[64];
    size_t len = frames(body, exact, 1);
    grpc_web_reader r;
    grpc_web_reader_init(&r, false, 10);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, body, len), 0);
    CHECK_EQ_INT(grpc_web_reader_finish(&r), 0);
    CHECK(holds(&r, exact, 1));
    grpc_web_reader_clear(&r);

    /* One byte more: refused from the prefix alone, before any of the message came. */
    grpc_web_reader_init(&r, false, 9);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, body, GRPC_WEB_PREFIX_LEN), -1);
    CHECK_EQ_INT(r.error.status, 8);
    CHECK(strstr(r.error.text, "larger than max (10 vs. 9)") != NULL);
    CHECK(r.message == NULL);
    /* The reader stays refused. */
    CHECK_EQ_INT(grpc_web_reader_feed(&r, body + GRPC_WEB_PREFIX_LEN, 1), -1);
    CHECK_EQ_INT(grpc_web_reader_finish(&r), -1);
    grpc_web_reader_clear(&r);

    /* A length near 4 GiB is refused the same way, and nothing of that size is allocated. */
    uint8_t huge[GRPC_WEB_PREFIX_LEN];
    grpc_web_frame_prefix(huge, GRPC_WEB_FLAG_DATA, 0xfffffff0u);
    grpc_web_reader_init(&r, false, 4u << 20);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, huge, sizeof huge), -1);
    CHECK_EQ_INT(r.error.status, 8);
    grpc_web_reader_clear(&r);

    /* Two messages that fit one by one but not together. */
    const char *const two[] = {"01234", "567890"};
    len = frames(body, two, 2);
    grpc_web_reader_init(&r, false, 10);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, body, len), -1);
    CHECK_EQ_INT(r.error.status, 8);
    CHECK(strstr(r.error.text, "exceed 10 bytes together") != NULL);
    CHECK_EQ_INT(r.message_count, 1);
    grpc_web_reader_clear(&r);
    const char *const fit[] = {"01234", "56789"};
    len = frames(body, fit, 2);
    grpc_web_reader_init(&r, false, 10);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, body, len), 0);
    CHECK(holds(&r, fit, 2));
    grpc_web_reader_clear(&r);

    /* More messages than the relay takes before the call runs. */
    uint8_t many[(GRPC_WEB_MAX_MESSAGES + 1) * GRPC_WEB_PREFIX_LEN];
    for (size_t i = 0; i <= GRPC_WEB_MAX_MESSAGES; i++)
        grpc_web_frame_prefix(many + i * GRPC_WEB_PREFIX_LEN, GRPC_WEB_FLAG_DATA, 0);
    grpc_web_reader_init(&r, false, 16);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, many, sizeof many), -1);
    CHECK_EQ_INT(r.error.status, 13);
    CHECK_EQ_INT(r.message_count, GRPC_WEB_MAX_MESSAGES);
    grpc_web_reader_clear(&r);
}

static void test_refused_frames(void) {
    uint8_t frame[GRPC_WEB_PREFIX_LEN + 2] = {0, 0, 0, 0, 2, 'h', 'i'};
    struct {
        uint8_t flags;
        int status;
    } cases[] = {
        {GRPC_WEB_FLAG_COMPRESSED, 12},                          /* no compression negotiated */
        {GRPC_WEB_FLAG_TRAILERS, 13},                            /* a request has no trailers */
        {GRPC_WEB_FLAG_TRAILERS | GRPC_WEB_FLAG_COMPRESSED, 13}, /* a compressed trailer */
        {0x02, 13},                                              /* an unknown flag */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame[0] = cases[i].flags;
        grpc_web_reader r;
        grpc_web_reader_init(&r, false, 64);
        CHECK_EQ_INT(grpc_web_reader_feed(&r, frame, sizeof frame), -1);
        CHECK_EQ_INT(r.error.status, cases[i].status);
        CHECK_EQ_INT(r.message_count, 0);
        grpc_web_reader_clear(&r);
    }
    /* A body that ends inside a prefix, or inside a message. */
    frame[0] = 0;
    for (size_t cut = 1; cut < sizeof frame; cut++) {
        grpc_web_reader r;
        grpc_web_reader_init(&r, false, 64);
        CHECK_EQ_INT(grpc_web_reader_feed(&r, frame, cut), 0);
        CHECK_EQ_INT(grpc_web_reader_finish(&r), -1);
        CHECK_EQ_INT(r.error.status, 13);
        CHECK(strstr(r.error.text, "inside a frame") != NULL);
        grpc_web_reader_clear(&r);
    }
}

static char *base64(const uint8_t *bytes, size_t len) {
    size_t size = (len + 2) / 3 * 4 + 16;
    char *out = malloc(size);
    CHECK(out != NULL && lws_b64_encode_string((const char *)bytes, (int)len, out, (int)size) >= 0);
    return out;
}

/* The text of one body as several base64 pieces, each with its own padding (as a client that
 * encodes each frame, or each flush, alone), fed in pieces of every size. */
static void test_text_chunks(void) {
    const char *const messages[] = {"a", "bc", "def", "a message of some length"};
    uint8_t body[128];
    size_t len = 0;
    char text[512] = "";
    for (size_t i = 0; i < 4; i++) {
        size_t n = frames(body + len, &messages[i], 1);
        char *piece = base64(body + len, n);
        strcat(text, piece);
        free(piece);
        len += n;
    }
    CHECK(strstr(text, "=") != NULL && strchr(text, '=') < text + strlen(text) - 2);
    size_t text_len = strlen(text);
    for (size_t piece = 1; piece <= text_len; piece++) {
        grpc_web_reader r;
        grpc_web_reader_init(&r, true, 64);
        int rc = 0;
        for (size_t at = 0; at < text_len && rc == 0; at += piece)
            rc =
                grpc_web_reader_feed(&r, text + at, at + piece <= text_len ? piece : text_len - at);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(grpc_web_reader_finish(&r), 0);
        CHECK(holds(&r, messages, 4));
        grpc_web_reader_clear(&r);
    }
    /* The whole body as one base64 text reads the same. */
    char *whole = base64(body, len);
    grpc_web_reader r;
    grpc_web_reader_init(&r, true, 64);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, whole, strlen(whole)), 0);
    CHECK_EQ_INT(grpc_web_reader_finish(&r), 0);
    CHECK(holds(&r, messages, 4));
    grpc_web_reader_clear(&r);
    free(whole);
}

static void test_text_faults(void) {
    const char *const bad[] = {
        "AAAAAA",    /* ends inside a group of four */
        "AAAAAA=A",  /* padding before a character */
        "A===AAAA",  /* three padding characters */
        "AAA AAAA",  /* a space */
        "AAAA\nAAA", /* a line break */
        "AA-_AAAA",  /* the URL alphabet */
        "=AAAAAAA",  /* padding first */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        grpc_web_reader r;
        grpc_web_reader_init(&r, true, 64);
        int rc = grpc_web_reader_feed(&r, bad[i], strlen(bad[i]));
        if (rc == 0)
            rc = grpc_web_reader_finish(&r);
        CHECK_EQ_INT(rc, -1);
        CHECK_EQ_INT(r.error.status, 13);
        CHECK(strstr(r.error.text, "base64") != NULL);
        grpc_web_reader_clear(&r);
    }
    /* Padding with the compressed flag inside: the frame's fault, not the text's. */
    uint8_t compressed[GRPC_WEB_PREFIX_LEN + 1] = {GRPC_WEB_FLAG_COMPRESSED, 0, 0, 0, 1, 'x'};
    char *text = base64(compressed, sizeof compressed);
    grpc_web_reader r;
    grpc_web_reader_init(&r, true, 64);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, text, strlen(text)), -1);
    CHECK_EQ_INT(r.error.status, 12);
    grpc_web_reader_clear(&r);
    free(text);
}

static void test_answer_frames(void) {
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_EQ_INT(grpc_web_frame(GRPC_WEB_FLAG_DATA, "abc", 3, false, &out, &len), 0);
    CHECK_EQ_INT(len, 8);
    CHECK(memcmp(out,
                 "\x00\x00\x00\x00\x03"
                 "abc",
                 8) == 0);
    free(out);
    CHECK_EQ_INT(grpc_web_frame(GRPC_WEB_FLAG_TRAILERS, "", 0, false, &out, &len), 0);
    CHECK(len == 5 && memcmp(out, "\x80\x00\x00\x00\x00", 5) == 0);
    free(out);
    /* Text: the frame alone in base64, padded. */
    CHECK_EQ_INT(grpc_web_frame(GRPC_WEB_FLAG_DATA, "abc", 3, true, &out, &len), 0);
    CHECK(len == 12 && memcmp(out, "AAAAAANhYmM=", 12) == 0);
    free(out);
    /* What the answer writes, a reader of text takes back. */
    CHECK_EQ_INT(grpc_web_frame(GRPC_WEB_FLAG_DATA, "xyzzy", 5, true, &out, &len), 0);
    grpc_web_reader r;
    grpc_web_reader_init(&r, true, 64);
    CHECK_EQ_INT(grpc_web_reader_feed(&r, out, len), 0);
    CHECK(r.message_count == 1 && r.messages[0].len == 5 &&
          memcmp(r.messages[0].bytes, "xyzzy", 5) == 0);
    grpc_web_reader_clear(&r);
    free(out);
}

static void test_trailer_block(void) {
    char value_bin[] = {'\x00', '\x01', '\x02'};
    grpc_relay_header items[] = {
        {.key = "message", .value = "Instrument not found", .value_len = 20},
        {.key = "x-tracking-id", .value = "0f5c", .value_len = 4},
        {.key = "grpc-status", .value = "99", .value_len = 2},    /* the transport's own */
        {.key = "content-type", .value = "x", .value_len = 1},    /* the transport's own */
        {.key = "trace-bin", .value = value_bin, .value_len = 3}, /* binary: base64 */
        {.key = "bad", .value = "a\r\nb: c", .value_len = 7},     /* no line breaks */
    };
    grpc_relay_headers trailers = {.items = items, .count = sizeof items / sizeof items[0]};
    char *block = NULL;
    size_t len = 0;
    CHECK_EQ_INT(grpc_web_trailer_block(3, "50002", &trailers, &block, &len), 0);
    const char want[] = "grpc-status: 3\r\n"
                        "grpc-message: 50002\r\n"
                        "message: Instrument not found\r\n"
                        "x-tracking-id: 0f5c\r\n"
                        "trace-bin: AAEC\r\n";
    CHECK_EQ_INT(len, strlen(want));
    CHECK(block != NULL && strcmp(block, want) == 0);
    free(block);
    /* OK without details: the status line alone. */
    CHECK_EQ_INT(grpc_web_trailer_block(0, "", NULL, &block, &len), 0);
    CHECK(strcmp(block, "grpc-status: 0\r\n") == 0);
    free(block);
    /* grpc-message is percent-encoded as gRPC sends it. */
    CHECK_EQ_INT(grpc_web_trailer_block(13, "100% \xd0\x96\n", NULL, &block, &len), 0);
    CHECK(strcmp(block, "grpc-status: 13\r\ngrpc-message: 100%25 %D0%96%0A\r\n") == 0);
    free(block);
    char cut[8];
    grpc_web_percent_encode("ab\xd0\x96", cut, sizeof cut);
    CHECK(strcmp(cut, "ab%D0") == 0); /* cut on a whole escape */
}

static void test_headers_passed(void) {
    CHECK(grpc_web_header_passes("x-tracking-id"));
    CHECK(grpc_web_header_passes("message"));
    CHECK(grpc_web_header_passes("x-ratelimit-reset"));
    CHECK(!grpc_web_header_passes("grpc-encoding"));
    CHECK(!grpc_web_header_passes(":status"));
    CHECK(!grpc_web_header_passes("content-type"));
    CHECK(!grpc_web_header_passes("te"));
    CHECK(!grpc_web_header_passes("Upper"));
    CHECK(!grpc_web_header_passes("sp ace"));
    char out[8];
    grpc_relay_header h = {.key = "message", .value = "12345678", .value_len = 8};
    CHECK_EQ_INT(grpc_web_header_value(&h, out, sizeof out), -1); /* no room for the NUL */
    h.value_len = 7;
    CHECK_EQ_INT(grpc_web_header_value(&h, out, sizeof out), 7);
    CHECK(strcmp(out, "1234567") == 0);
}

static void test_timeouts(void) {
    int64_t ms = -1;
    CHECK(grpc_web_parse_timeout("2H", &ms) == 0 && ms == 7200000);
    CHECK(grpc_web_parse_timeout("3M", &ms) == 0 && ms == 180000);
    CHECK(grpc_web_parse_timeout("10S", &ms) == 0 && ms == 10000);
    CHECK(grpc_web_parse_timeout("250m", &ms) == 0 && ms == 250);
    CHECK(grpc_web_parse_timeout("1500u", &ms) == 0 && ms == 2);
    CHECK(grpc_web_parse_timeout("1n", &ms) == 0 && ms == 1);
    CHECK(grpc_web_parse_timeout("99999999H", &ms) == 0 && ms == 99999999LL * 3600000);
    CHECK_EQ_INT(grpc_web_parse_timeout("123456789S", &ms), -1); /* nine digits */
    CHECK_EQ_INT(grpc_web_parse_timeout("S", &ms), -1);
    CHECK_EQ_INT(grpc_web_parse_timeout("10", &ms), -1);
    CHECK_EQ_INT(grpc_web_parse_timeout("10s", &ms), -1);
    CHECK_EQ_INT(grpc_web_parse_timeout("10SS", &ms), -1);
    CHECK_EQ_INT(grpc_web_parse_timeout("-1S", &ms), -1);
}

/* gRPC-web refuses client streams: the table marks the bidirectional methods, and no other. */
static void test_client_streams_marked(void) {
    size_t count = 0;
    api_method *methods = api_all_methods(&count);
    size_t marked = 0;
    bool md_stream = false;
    for (size_t i = 0; i < count; i++) {
        if (!methods[i].client_streaming)
            continue;
        marked++;
        CHECK(methods[i].server_streaming);
        if (strcmp(methods[i].name, "MarketDataStream") == 0)
            md_stream = true;
        else
            CHECK(strcmp(methods[i].name, "ServerReflectionInfo") == 0);
    }
    CHECK(md_stream);
    CHECK_EQ_INT(marked, 3); /* MarketDataStream, ServerReflectionInfo of v1 and v1alpha */
    free(methods);
}

int main(void) {
    test_modes();
    test_binary_frames_split_anywhere();
    test_limit();
    test_refused_frames();
    test_text_chunks();
    test_text_faults();
    test_answer_frames();
    test_trailer_block();
    test_headers_passed();
    test_timeouts();
    test_client_streams_marked();
    return check_finish("test_http_grpc_web");
}
