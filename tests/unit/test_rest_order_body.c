/* The REST load generator's PostOrderAsync body (tools/rest_order_body.h): read back by the REST
 * proxy's own decoder with its options, it is the order it was built from, with the key given;
 * a body that does not fit is refused. */
#include <errno.h>
#include <string.h>

#include "api/contract.h"
#include "check.h"
#include "jsonpb/jsonpb.h"
#include "rest_order_body.h"
#include "util/money.h"
#include "util/uuid.h"

/* Decodes `body` as the REST proxy does (src/http/http_server.c: unknown members ignored). */
static PB(PostOrderAsyncRequest) * decode(const char *body, int len) {
    jsonpb_decode_options options = {.flags = JSONPB_IGNORE_UNKNOWN, .max_bytes = 4096};
    ProtobufCMessage *m = NULL;
    jsonpb_error err;
    int rc =
        jsonpb_decode(body, (size_t)len, &PB_DESC(post_order_async_request), &options, &m, &err);
    if (rc != 0)
        fprintf(stderr, "decode: %s\n", err.text);
    return (PB(PostOrderAsyncRequest) *)m;
}

static void test_round_trip(void) {
    int64_t price;
    CHECK(money_parse_decimal("271.35", &price) == 0);
    rest_order order = {.instrument_id = "e2d0dbac-d354-4c36-a5ed-e5aae42ffc76",
                        .account_id = "2000000001",
                        .quantity = 3,
                        .price_nano = price};
    char key[UUID_TEXT_SIZE], body[1024];
    uuid_generate_v4(key);
    int len = rest_order_body(&order, key, body, sizeof body);
    CHECK(len > 0 && (size_t)len == strlen(body));
    PB(PostOrderAsyncRequest) *r = decode(body, len);
    CHECK(r != NULL);
    if (r == NULL)
        return;
    CHECK(strcmp(r->instrument_id, order.instrument_id) == 0);
    CHECK(strcmp(r->account_id, "2000000001") == 0);
    CHECK(strcmp(r->order_id, key) == 0);
    CHECK(uuid_is_valid(r->order_id, strlen(r->order_id)));
    CHECK_EQ_INT(r->quantity, 3);
    CHECK(r->price != NULL);
    if (r->price != NULL) {
        CHECK_EQ_INT(r->price->units, 271);
        CHECK_EQ_INT(r->price->nano, 350000000);
    }
    CHECK_EQ_INT(r->direction, PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_BUY));
    CHECK_EQ_INT(r->order_type, PB_ENUM(ORDER_TYPE__ORDER_TYPE_LIMIT));
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* A sell below one unit: units 0, nano alone. */
    order.sell = true;
    order.price_nano = 5000000; /* 0.005 */
    len = rest_order_body(&order, key, body, sizeof body);
    r = decode(body, len);
    CHECK(r != NULL);
    if (r != NULL) {
        CHECK_EQ_INT(r->direction, PB_ENUM(ORDER_DIRECTION__ORDER_DIRECTION_SELL));
        CHECK(r->price != NULL && r->price->units == 0 && r->price->nano == 5000000);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
}

static void test_keys_differ(void) {
    rest_order order = {.instrument_id = "i", .account_id = "a", .quantity = 1, .price_nano = 1};
    char a[UUID_TEXT_SIZE], b[UUID_TEXT_SIZE], body_a[512], body_b[512];
    uuid_generate_v4(a);
    uuid_generate_v4(b);
    CHECK(strcmp(a, b) != 0);
    CHECK(rest_order_body(&order, a, body_a, sizeof body_a) > 0);
    CHECK(rest_order_body(&order, b, body_b, sizeof body_b) > 0);
    CHECK(strcmp(body_a, body_b) != 0);
}

static void test_too_small(void) {
    rest_order order = {.instrument_id = "e2d0dbac-d354-4c36-a5ed-e5aae42ffc76",
                        .account_id = "2000000001",
                        .quantity = 1,
                        .price_nano = 8000000000};
    char key[UUID_TEXT_SIZE], body[1024];
    uuid_generate_v4(key);
    int len = rest_order_body(&order, key, body, sizeof body);
    CHECK(len > 0);
    CHECK_EQ_INT(rest_order_body(&order, key, body, (size_t)len), -1); /* no room for the NUL */
    CHECK_EQ_INT(rest_order_body(&order, key, body, (size_t)len + 1), len);
}

int main(void) {
    test_round_trip();
    test_keys_differ();
    test_too_small();
    return check_finish("rest_order_body");
}
