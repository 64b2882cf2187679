/* The string checks every request passes right after decoding: valid UTF-8, no NUL byte, within
 * the length bound, in every string field at any depth, repeated ones included. Each request is
 * built by hand on the wire (where protobuf-c's own packer would stop at a NUL) and is first
 * decoded by protobuf-c, as the server does, so every case here is one the server really sees. */
#include <stdint.h>
#include <string.h>

#include "api/pb.h"
#include "api/validate.h"
#include "check.h"

typedef struct wire {
    uint8_t bytes[16384];
    size_t len;
} wire;

static void put_varint(wire *w, uint64_t v) {
    while (v >= 0x80) {
        w->bytes[w->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    w->bytes[w->len++] = (uint8_t)v;
}

static void put_bytes(wire *w, uint32_t number, const void *data, size_t len) {
    put_varint(w, (uint64_t)number << 3 | 2);
    put_varint(w, len);
    memcpy(w->bytes + w->len, data, len);
    w->len += len;
}

/* A string literal's bytes without its terminating NUL, so literals may hold NULs. */
#define PUT_TEXT(w, number, literal) put_bytes((w), (number), (literal), sizeof(literal) - 1)

static void put_number(wire *w, uint32_t number, uint64_t value) {
    put_varint(w, (uint64_t)number << 3);
    put_varint(w, value);
}

static void put_message(wire *w, uint32_t number, const wire *inner) {
    put_bytes(w, number, inner->bytes, inner->len);
}

static api_validate_error last_error;

/* Decodes the request as the server does, then validates it. */
static bool validate(const ProtobufCMessageDescriptor *type, const wire *w) {
    ProtobufCMessage *decoded = protobuf_c_message_unpack(type, NULL, w->len, w->bytes);
    CHECK(decoded != NULL);
    if (decoded == NULL)
        return false;
    protobuf_c_message_free_unpacked(decoded, NULL);
    return api_validate_request(type, w->bytes, w->len, &last_error);
}

static bool message_has(const char *text) {
    return strstr(last_error.message, text) != NULL;
}

static void test_valid_requests_pass(void) {
    wire price = {0}, order = {0};
    put_number(&price, 1, 100);
    put_number(&order, 2, 1);
    put_message(&order, 3, &price);
    PUT_TEXT(&order, 5, "2000000001");
    PUT_TEXT(&order, 7, "0b7c4f6e-8a9d-4c1b-9e2f-3a4b5c6d7e8f");
    PUT_TEXT(&order, 8, "e6123145-9665-43e0-8413-cd61b8aa9b13");
    CHECK(validate(&PB_DESC(post_order_request), &order));

    wire named = {0};
    PUT_TEXT(&named, 1, "Песочница € 中文 \xF0\x9F\x98\x80");
    CHECK(validate(&PB_DESC(open_sandbox_account_request), &named));

    /* An empty message, and one with only numbers. */
    wire empty = {0};
    CHECK(validate(&PB_DESC(open_sandbox_account_request), &empty));
    wire depth = {0};
    put_number(&depth, 2, 10);
    CHECK(validate(&PB_DESC(get_order_book_request), &depth));

    /* A field the contract does not declare is skipped, as the decoder skips it. */
    wire unknown = {0};
    PUT_TEXT(&unknown, 1, "2000000001");
    PUT_TEXT(&unknown, 99, "\xFF\0\xC0");
    CHECK(validate(&PB_DESC(get_orders_request), &unknown));
}

static void test_invalid_utf8_is_refused(void) {
    wire latin1 = {0};
    PUT_TEXT(&latin1, 1, "caf\xE9");
    CHECK(!validate(&PB_DESC(open_sandbox_account_request), &latin1));
    CHECK_EQ_INT(last_error.code, 30102);
    CHECK(message_has("`name`"));
    CHECK(message_has("not valid UTF-8"));

    /* A nested field is named with its path. */
    wire amount = {0}, pay_in = {0};
    PUT_TEXT(&amount, 1, "\xC0\xAF"); /* an overlong "/" */
    put_number(&amount, 2, 100);
    PUT_TEXT(&pay_in, 1, "c3a4e2f1-7b6d-4e5a-9c8b-1d2e3f4a5b6c");
    put_message(&pay_in, 2, &amount);
    CHECK(!validate(&PB_DESC(sandbox_pay_in_request), &pay_in));
    CHECK_EQ_INT(last_error.code, 30102);
    CHECK(message_has("`amount.currency`"));

    /* account_id and idempotency_key have catalogue codes of their own for an invalid value. */
    wire bad_account = {0};
    PUT_TEXT(&bad_account, 1, "\xED\xA0\x80"); /* a surrogate */
    CHECK(!validate(&PB_DESC(sandbox_pay_in_request), &bad_account));
    CHECK_EQ_INT(last_error.code, 30022);
    CHECK(message_has("`account_id`"));

    wire query = {0};
    PUT_TEXT(&query, 1, "\xF4\x90\x80\x80"); /* past U+10FFFF */
    CHECK(!validate(&PB_DESC(find_instrument_request), &query));
    CHECK(message_has("`query`"));

    /* Any element of a repeated field. */
    wire prices = {0};
    PUT_TEXT(&prices, 2, "e6123145-9665-43e0-8413-cd61b8aa9b13");
    PUT_TEXT(&prices, 2, "BBG\x80");
    CHECK(!validate(&PB_DESC(get_last_prices_request), &prices));
    CHECK(message_has("`instrument_id`"));

    /* Every occurrence of a field counts, not only the one the decoder keeps (the last). */
    wire repeated_singular = {0};
    PUT_TEXT(&repeated_singular, 1, "\xFF");
    PUT_TEXT(&repeated_singular, 1, "2000000001");
    CHECK(!validate(&PB_DESC(get_orders_request), &repeated_singular));
}

static void test_nul_bytes_are_refused(void) {
    /* Decoded, "abc\0def" reads as "abc": another key than the one sent. */
    wire order = {0};
    put_number(&order, 2, 1);
    PUT_TEXT(&order, 5, "2000000001");
    PUT_TEXT(&order, 7, "0b7c4f6e-8a9d-4c1b-9e2f-3a4b5c6d7e8f\0x");
    CHECK(!validate(&PB_DESC(post_order_request), &order));
    CHECK_EQ_INT(last_error.code, 30102);
    CHECK(message_has("`order_id`"));
    CHECK(message_has("NUL"));

    wire replace = {0};
    PUT_TEXT(&replace, 1, "2000000001");
    PUT_TEXT(&replace, 7, "\0");
    CHECK(!validate(&PB_DESC(replace_order_request), &replace));
    CHECK_EQ_INT(last_error.code, 30030);
    CHECK(message_has("`idempotency_key`"));
}

static void test_lengths_are_bounded(void) {
    static char text[API_VALIDATE_TEXT_MAX_BYTES + 2];
    memset(text, 'a', sizeof text);
    wire id = {0};
    put_bytes(&id, 1, text, API_VALIDATE_ID_MAX_BYTES);
    CHECK(validate(&PB_DESC(get_orders_request), &id));
    id = (wire){0};
    put_bytes(&id, 1, text, API_VALIDATE_ID_MAX_BYTES + 1);
    CHECK(!validate(&PB_DESC(get_orders_request), &id));
    CHECK(message_has("longer than 1024 bytes"));

    /* Free text gets the larger bound. */
    wire name = {0};
    put_bytes(&name, 1, text, API_VALIDATE_TEXT_MAX_BYTES);
    CHECK(validate(&PB_DESC(open_sandbox_account_request), &name));
    name = (wire){0};
    put_bytes(&name, 1, text, API_VALIDATE_TEXT_MAX_BYTES + 1);
    CHECK(!validate(&PB_DESC(open_sandbox_account_request), &name));
    CHECK(message_has("`name`"));
}

/* Bytes protobuf-c would not decode never reach the check in the server; if they did, the check
 * stops at the first broken field instead of reading past the buffer. */
static void test_broken_wire_is_malformed(void) {
    wire cut = {0};
    PUT_TEXT(&cut, 1, "2000000001");
    cut.len -= 3;
    CHECK(!api_validate_request(&PB_DESC(get_orders_request), cut.bytes, cut.len, &last_error));
    CHECK_EQ_INT(last_error.code, 30102);
    wire group = {0};
    put_varint(&group, 5 << 3 | 3);
    CHECK(!api_validate_request(&PB_DESC(get_orders_request), group.bytes, group.len, &last_error));
    wire endless = {0};
    for (int i = 0; i < 12; i++)
        endless.bytes[endless.len++] = 0xFF;
    CHECK(!api_validate_request(&PB_DESC(get_orders_request), endless.bytes, endless.len,
                                &last_error));
}

int main(void) {
    test_valid_requests_pass();
    test_invalid_utf8_is_refused();
    test_nul_bytes_are_refused();
    test_lengths_are_bounded();
    test_broken_wire_is_malformed();
    return check_finish("api validate");
}
