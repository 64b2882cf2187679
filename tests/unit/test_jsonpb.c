/* The proto3 JSON mapping (src/jsonpb): every message type of the contract filled with seeded
 * random values at the edges (int64 and uint64 limits, -0, NaN and infinities, non-ASCII and
 * long strings, Timestamps at both ends of their range, unknown enum numbers, every oneof member)
 * written to JSON and read back to the same packed bytes, in both name styles and both default
 * policies; then exact texts and every refusal with its message. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/jsonpb_types.h"
#include "api/descriptor_pool.h"
#include "check.h"
#include "jsonpb/jsonpb.h"
#include "util/prng.h"

/* The deprecated `figi` of PostOrderRequest is a proto3 `optional` the mapping must handle. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define ORDERS(x) tinkoff__public__invest__api__contract__v1__##x
typedef Tinkoff__Public__Invest__Api__Contract__V1__PostOrderRequest PostOrderRequest;
typedef Tinkoff__Public__Invest__Api__Contract__V1__Quotation Quotation;
typedef Tinkoff__Public__Invest__Api__Contract__V1__MarketDataRequest MarketDataRequest;
typedef Tinkoff__Public__Invest__Api__Contract__V1__GetAssetFundamentalsResponse__StatisticResponse
    Statistic;
typedef Grpc__Reflection__V1__FileDescriptorResponse FileDescriptorResponse;

static const ProtobufCMessageDescriptor *types[JSONPB_TYPES_MAX];
static size_t type_count;

/* ---- Random messages. ------------------------------------------------------------------------ */

static uint64_t rng[4];

static uint64_t pick(uint64_t n) {
    return prng_below(rng, n);
}

static char *random_string(void) {
    static const char *const pieces[] = {"a",  "Я",    "ё", "€", "😀",      "\"", "\\",
                                         "\n", "\x01", "/", " ", "\u2028", "<",  "z"};
    size_t count;
    switch (pick(4)) {
    case 0:
        count = 0;
        break;
    case 1:
        count = 300 + pick(200); /* long */
        break;
    default:
        count = pick(12);
    }
    char *s = malloc(count * 4 + 1);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const char *p = pieces[pick(sizeof pieces / sizeof *pieces)];
        memcpy(s + n, p, strlen(p));
        n += strlen(p);
    }
    s[n] = '\0';
    return s;
}

static double random_double(void) {
    static const double edges[] = {
        0.0, -0.0, 0.1, -1.5, 1e308, -1e-308, 5e-324, 1.7976931348623157e308, 123456789012345678.0};
    switch (pick(4)) {
    case 0:
        return edges[pick(sizeof edges / sizeof *edges)];
    case 1:
        return pick(3) == 0 ? NAN : pick(2) ? INFINITY : -INFINITY;
    default: {
        uint64_t bits = prng_next(rng);
        double v;
        memcpy(&v, &bits, sizeof v);
        return isnan(v) ? 1.25 : v; /* a NaN's payload is not part of the mapping */
    }
    }
}

static float random_float(void) {
    static const float edges[] = {0.0f, -0.0f, 0.1f, 3.4028235e38f, -1.17549435e-38f, 1e-45f};
    switch (pick(4)) {
    case 0:
        return edges[pick(sizeof edges / sizeof *edges)];
    case 1:
        return pick(3) == 0 ? NAN : pick(2) ? INFINITY : -INFINITY;
    default: {
        uint32_t bits = (uint32_t)prng_next(rng);
        float v;
        memcpy(&v, &bits, sizeof v);
        return isnan(v) ? 2.5f : v;
    }
    }
}

static void fill_message(ProtobufCMessage *m, int depth);

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *d, int depth) {
    ProtobufCMessage *m = malloc(d->sizeof_message);
    protobuf_c_message_init(d, m);
    if (strcmp(d->name, "google.protobuf.Timestamp") == 0) {
        Google__Protobuf__Timestamp *t = (Google__Protobuf__Timestamp *)m;
        static const int64_t seconds[] = {-62135596800LL, 253402300799LL, 0, -1, 1700000000};
        static const int32_t nanos[] = {0, 999999999, 1000000, 1000, 1, 500000000};
        t->seconds = pick(2) ? seconds[pick(5)] : -62135596800LL + (int64_t)pick(315537897600ULL);
        t->nanos = pick(2) ? nanos[pick(6)] : (int32_t)pick(1000000000);
        return m;
    }
    fill_message(m, depth);
    return m;
}

static void fill_value(const ProtobufCFieldDescriptor *f, void *slot, int depth) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        static const int32_t edges[] = {0, 1, -1, INT32_MIN, INT32_MAX};
        *(int32_t *)slot = pick(2) ? edges[pick(5)] : (int32_t)prng_next(rng);
        break;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)slot = pick(2) ? (pick(2) ? UINT32_MAX : 0) : (uint32_t)prng_next(rng);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        static const int64_t edges[] = {0, 1, -1, INT64_MIN, INT64_MAX};
        *(int64_t *)slot = pick(2) ? edges[pick(5)] : (int64_t)prng_next(rng);
        break;
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)slot = pick(2) ? (pick(2) ? UINT64_MAX : 0) : prng_next(rng);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)slot = random_float();
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)slot = random_double();
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)slot = (protobuf_c_boolean)pick(2);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        /* Now and then a number no value has: written as the number. */
        *(int *)slot = pick(5) == 0 ? (pick(2) ? 9999 : -7) : e->values[pick(e->n_values)].value;
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        *(char **)slot = random_string();
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = slot;
        b->len = pick(40);
        b->data = b->len ? malloc(b->len) : NULL;
        for (size_t i = 0; i < b->len; i++)
            b->data[i] = (uint8_t)prng_next(rng);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        *(ProtobufCMessage **)slot = new_message(f->descriptor, depth + 1);
        break;
    }
}

static size_t value_size(ProtobufCType type) {
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    default:
        return 4;
    }
}

/* Every field set (each oneof to one of its members, or none), lists of 0-3 elements; below
 * depth 4 messages are left out now and then so that recursion through the types ends. */
static void fill_message(ProtobufCMessage *m, int depth) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *member = (char *)m + f->offset;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 4 && pick(3))
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = depth >= 6 ? 0 : pick(4), size = value_size(f->type);
            char *array = n ? calloc(n, size) : NULL;
            for (size_t k = 0; k < n; k++)
                fill_value(f, array + k * size, depth);
            *(size_t *)((char *)m + f->quantifier_offset) = n;
            *(void **)member = array;
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t *which = (uint32_t *)((char *)m + f->quantifier_offset);
            if (*which != 0 || pick(2))
                continue;
            *which = f->id;
        }
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && pick(4) == 0)
            continue; /* an unset message */
        fill_value(f, member, depth);
    }
}

static uint8_t *packed(const ProtobufCMessage *m, size_t *n) {
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *bytes = malloc(*n + 1);
    protobuf_c_message_pack(m, bytes);
    return bytes;
}

static bool same_bytes(const ProtobufCMessage *a, const ProtobufCMessage *b) {
    size_t na, nb;
    uint8_t *pa = packed(a, &na), *pb = packed(b, &nb);
    bool same = na == nb && memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return same;
}

static const unsigned flag_sets[] = {0, JSONPB_PROTO_NAMES, JSONPB_OMIT_DEFAULTS,
                                     JSONPB_PROTO_NAMES | JSONPB_OMIT_DEFAULTS};

/* (a) Every type, many seeds, every output style: JSON and back gives the same bytes. */
static void test_round_trip_every_type(void) {
    prng_seed(rng, 20240715);
    size_t failures = 0, trips = 0;
    for (size_t t = 0; t < type_count; t++) {
        for (int round = 0; round < 12; round++) {
            ProtobufCMessage *m = new_message(types[t], 0);
            for (size_t s = 0; s < 4; s++) {
                jsonpb_error err;
                size_t len;
                char *text = jsonpb_encode(m, flag_sets[s], &len, &err);
                if (text == NULL) {
                    if (failures++ < 5)
                        fprintf(stderr, "%s: encode: %s\n", types[t]->name, err.text);
                    continue;
                }
                ProtobufCMessage *back = NULL;
                int rc = jsonpb_decode(text, len, types[t], NULL, &back, &err);
                if (rc != 0 || !same_bytes(m, back)) {
                    if (failures++ < 5) {
                        char *again = rc ? NULL : jsonpb_encode(back, flag_sets[s], NULL, &err);
                        size_t at = 0;
                        while (again && text[at] && text[at] == again[at])
                            at++;
                        fprintf(stderr, "%s (flags %u): %s at %zu\n%.300s\n%.300s\n",
                                types[t]->name, flag_sets[s], rc ? err.text : "bytes differ", at,
                                text + (at > 100 ? at - 100 : 0),
                                again ? again + (at > 100 ? at - 100 : 0) : "");
                        free(again);
                    }
                }
                /* The text is JSON for a generic reader too. */
                json_t *tree = jsonpb_encode_json(m, flag_sets[s], &err);
                if (tree == NULL && failures++ < 5)
                    fprintf(stderr, "%s: not JSON to jansson\n", types[t]->name);
                json_decref(tree);
                protobuf_c_message_free_unpacked(back, NULL);
                free(text);
                trips++;
            }
            protobuf_c_message_free_unpacked(m, NULL);
        }
    }
    CHECK_EQ_INT(failures, 0);
    CHECK(trips == type_count * 12 * 4);
    printf("round trips: %zu types, %zu messages\n", type_count, trips);
}

/* The walk from the services reaches every message the contract declares. */
static void test_every_type_reached(void) {
    descriptor_pool pool;
    CHECK_EQ_INT(descriptor_pool_init(&pool, api_descriptor_set, api_descriptor_set_size), 0);
    size_t messages = 0, missing = 0;
    for (size_t i = 0; i < pool.symbol_count; i++) {
        if (pool.symbols[i].kind != DESCRIPTOR_SYMBOL_MESSAGE)
            continue;
        messages++;
        bool found = false;
        for (size_t t = 0; t < type_count && !found; t++)
            found = strcmp(types[t]->name, pool.symbols[i].name) == 0;
        if (!found) {
            missing++;
            fprintf(stderr, "not reached by the walk: %s\n", pool.symbols[i].name);
        }
    }
    CHECK_EQ_INT(missing, 0);
    CHECK(messages > 300);
    CHECK_EQ_INT(type_count, messages);
    descriptor_pool_deinit(&pool);
}

/* ---- (b) Exact texts. ------------------------------------------------------------------------ */

static void check_text(const ProtobufCMessage *m, unsigned flags, const char *want) {
    jsonpb_error err;
    size_t len = 0;
    char *text = jsonpb_encode(m, flags, &len, &err);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK_EQ_INT(len, strlen(text));
        if (strcmp(text, want) != 0) {
            fprintf(stderr, "got  %s\nwant %s\n", text, want);
            CHECK(!"text differs");
        } else {
            CHECK(1);
        }
    }
    free(text);
}

static void test_exact_texts(void) {
    Quotation q = TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__QUOTATION__INIT;
    q.units = 114;
    q.nano = 250000000;
    check_text(&q.base, 0, "{\"units\":\"114\",\"nano\":250000000}");
    q.units = INT64_MIN;
    q.nano = -999999999;
    check_text(&q.base, 0, "{\"units\":\"-9223372036854775808\",\"nano\":-999999999}");
    Quotation zero = TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__QUOTATION__INIT;
    check_text(&zero.base, 0, "{\"units\":\"0\",\"nano\":0}");
    check_text(&zero.base, JSONPB_OMIT_DEFAULTS, "{}");

    PostOrderRequest r = TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__POST_ORDER_REQUEST__INIT;
    Quotation price = TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__QUOTATION__INIT;
    price.units = 114;
    price.nano = 250000000;
    r.quantity = 5;
    r.price = &price;
    r.direction = TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__ORDER_DIRECTION__ORDER_DIRECTION_BUY;
    r.account_id = "2000000001";
    r.order_type = TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__ORDER_TYPE__ORDER_TYPE_LIMIT;
    r.order_id = "Ключ-1";
    r.instrument_id = "e6123145-9665-43e0-8413-cd61b8aa9b13";
    check_text(&r.base, 0,
               "{\"quantity\":\"5\",\"price\":{\"units\":\"114\",\"nano\":250000000},"
               "\"direction\":\"ORDER_DIRECTION_BUY\",\"accountId\":\"2000000001\","
               "\"orderType\":\"ORDER_TYPE_LIMIT\",\"orderId\":\"Ключ-1\","
               "\"instrumentId\":\"e6123145-9665-43e0-8413-cd61b8aa9b13\","
               "\"timeInForce\":\"TIME_IN_FORCE_UNSPECIFIED\","
               "\"priceType\":\"PRICE_TYPE_UNSPECIFIED\",\"confirmMarginTrade\":false}");
    /* The proto names; the deprecated optional figi written once set; an enum number no value
     * has; what JSONPB_OMIT_DEFAULTS leaves out. */
    r._figi_case = TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__POST_ORDER_REQUEST___FIGI_FIGI;
    r.figi = "";
    r.direction = 77;
    r.order_id = "a\"b\\c\n\x01";
    check_text(&r.base, JSONPB_PROTO_NAMES | JSONPB_OMIT_DEFAULTS,
               "{\"figi\":\"\",\"quantity\":\"5\",\"price\":{\"units\":\"114\",\"nano\":250000000},"
               "\"direction\":77,\"account_id\":\"2000000001\",\"order_type\":\"ORDER_TYPE_LIMIT\","
               "\"order_id\":\"a\\\"b\\\\c\\n\\u0001\","
               "\"instrument_id\":\"e6123145-9665-43e0-8413-cd61b8aa9b13\"}");

    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = 1721027237;
    check_text(&t.base, 0, "\"2024-07-15T07:07:17Z\"");
    t.nanos = 321267000;
    check_text(&t.base, 0, "\"2024-07-15T07:07:17.321267Z\"");
    t.nanos = 682140664;
    check_text(&t.base, 0, "\"2024-07-15T07:07:17.682140664Z\"");
    t.nanos = 500000000;
    check_text(&t.base, 0, "\"2024-07-15T07:07:17.500Z\"");
    t.seconds = -62135596800LL;
    t.nanos = 0;
    check_text(&t.base, 0, "\"0001-01-01T00:00:00Z\"");
    t.seconds = 253402300799LL;
    t.nanos = 999999999;
    check_text(&t.base, 0, "\"9999-12-31T23:59:59.999999999Z\"");
    t.seconds = -1;
    t.nanos = 0;
    check_text(&t.base, 0, "\"1969-12-31T23:59:59Z\"");

    Statistic s =
        TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__GET_ASSET_FUNDAMENTALS_RESPONSE__STATISTIC_RESPONSE__INIT;
    s.market_capitalization = 0.1;
    s.high_price_last_52_weeks = -0.0;
    s.low_price_last_52_weeks = NAN;
    s.average_daily_volume_last_10_days = INFINITY;
    s.average_daily_volume_last_4_weeks = -INFINITY;
    s.beta = 1e300;
    jsonpb_error err;
    char *text = jsonpb_encode(&s.base, 0, NULL, &err);
    CHECK(text != NULL && strstr(text, "\"marketCapitalization\":0.1,\"highPriceLast52Weeks\":-0,"
                                       "\"lowPriceLast52Weeks\":\"NaN\","
                                       "\"averageDailyVolumeLast10Days\":\"Infinity\","
                                       "\"averageDailyVolumeLast4Weeks\":\"-Infinity\","
                                       "\"beta\":1e+300,") != NULL);
    free(text);

    FileDescriptorResponse fd = GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
    ProtobufCBinaryData blobs[3] = {{2, (uint8_t *)"\xfb\xff"}, {0, NULL}, {5, (uint8_t *)"hello"}};
    fd.n_file_descriptor_proto = 3;
    fd.file_descriptor_proto = blobs;
    check_text(&fd.base, 0, "{\"fileDescriptorProto\":[\"+/8=\",\"\",\"aGVsbG8=\"]}");
    fd.n_file_descriptor_proto = 0;
    check_text(&fd.base, 0, "{\"fileDescriptorProto\":[]}");
    check_text(&fd.base, JSONPB_OMIT_DEFAULTS, "{}");

    CHECK_EQ_INT(jsonpb_json_name("high_price_last_52_weeks", NULL, 0), 20);
    char name[8];
    CHECK_EQ_INT(jsonpb_json_name("account_id", name, sizeof name), 9);
    CHECK(strcmp(name, "account") == 0); /* cut to fit, NUL-terminated */
}

static void test_encode_refusals(void) {
    jsonpb_error err;
    PostOrderRequest r = TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__POST_ORDER_REQUEST__INIT;
    r.account_id = "\xff\xfe";
    CHECK(jsonpb_encode(&r.base, 0, NULL, &err) == NULL);
    CHECK(strcmp(err.text, "accountId: string is not UTF-8") == 0);
    CHECK(jsonpb_encode(&r.base, JSONPB_PROTO_NAMES, NULL, &err) == NULL);
    CHECK(strcmp(err.text, "account_id: string is not UTF-8") == 0);

    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = 253402300800LL;
    CHECK(jsonpb_encode(&t.base, 0, NULL, &err) == NULL);
    CHECK(strstr(err.text, "Timestamp out of range") == err.text);
    t.seconds = 0;
    t.nanos = -1;
    CHECK(jsonpb_encode(&t.base, 0, NULL, &err) == NULL);
    t.nanos = 1000000000;
    CHECK(jsonpb_encode(&t.base, 0, NULL, &err) == NULL);
    CHECK(jsonpb_encode_json(&t.base, 0, &err) == NULL);
}

/* ---- (b) Inputs. ----------------------------------------------------------------------------- */

static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d, const char *text,
                                unsigned flags, jsonpb_error *err) {
    jsonpb_decode_options options = {.flags = flags};
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    int rc = jsonpb_decode(text, strlen(text), d, &options, &m, err);
    CHECK((rc == 0) == (m != NULL));
    CHECK(rc == 0 || rc == -EINVAL);
    CHECK(rc != 0 || err->text[0] == '\0');
    return m;
}

/* `text` is refused with exactly `want`. */
static void refused(const ProtobufCMessageDescriptor *d, const char *text, const char *want) {
    jsonpb_error err;
    ProtobufCMessage *m = decode(d, text, 0, &err);
    CHECK(m == NULL);
    if (strcmp(err.text, want) != 0) {
        fprintf(stderr, "input %s\n  got  \"%s\"\n  want \"%s\"\n", text, err.text, want);
        CHECK(!"error differs");
    } else {
        CHECK(1);
    }
    protobuf_c_message_free_unpacked(m, NULL);
}

#define POST_ORDER (&ORDERS(post_order_request__descriptor))

static PostOrderRequest *post_order(const char *text) {
    jsonpb_error err;
    ProtobufCMessage *m = decode(POST_ORDER, text, 0, &err);
    if (m == NULL)
        fprintf(stderr, "input %s refused: %s\n", text, err.text);
    CHECK(m != NULL);
    return (PostOrderRequest *)m;
}

static void test_names_and_numbers(void) {
    PostOrderRequest *a = post_order("{\"account_id\":\"1\",\"quantity\":\"5\",\"order_type\":2}");
    PostOrderRequest *b = post_order(" {\"accountId\" : \"1\" , \"quantity\":5 ,\"orderType\":"
                                     "\"ORDER_TYPE_MARKET\"}\n");
    CHECK(a && b && strcmp(a->account_id, "1") == 0 && a->quantity == 5 && b->quantity == 5);
    CHECK(a && b && a->order_type == 2 && b->order_type == 2);
    CHECK(a && b && same_bytes(&a->base, &b->base));
    protobuf_c_message_free_unpacked(&a->base, NULL);
    protobuf_c_message_free_unpacked(&b->base, NULL);

    static const struct {
        const char *json;
        int64_t quantity;
    } good[] = {
        {"1e2", 100},
        {"\"1e2\"", 100},
        {"1.5e1", 15},
        {"150e-1", 15},
        {"-0", 0},
        {"0e-999999999", 0},
        {"\"-9223372036854775808\"", INT64_MIN},
        {"-9223372036854775808", INT64_MIN},
        {"9223372036854775807", INT64_MAX},
        {"9.223372036854775807e18", INT64_MAX},
        {"1.000", 1},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"quantity\":%s}", good[i].json);
        PostOrderRequest *r = post_order(text);
        CHECK(r != NULL && r->quantity == good[i].quantity);
        protobuf_c_message_free_unpacked(r ? &r->base : NULL, NULL);
    }
    refused(POST_ORDER, "{\"quantity\":1.5}", "quantity: not an integer");
    refused(POST_ORDER, "{\"quantity\":\"1.5\"}", "quantity: not an integer");
    refused(POST_ORDER, "{\"quantity\":1e-1}", "quantity: not an integer");
    refused(POST_ORDER, "{\"quantity\":9223372036854775808}", "quantity: out of range for int64");
    refused(POST_ORDER, "{\"quantity\":\"-9223372036854775809\"}",
            "quantity: out of range for int64");
    refused(POST_ORDER, "{\"quantity\":1e19}", "quantity: out of range for int64");
    refused(POST_ORDER, "{\"quantity\":1e999999999999}", "quantity: out of range");
    refused(POST_ORDER, "{\"quantity\":123456789012345678901234567890}", "quantity: out of range");
    refused(POST_ORDER, "{\"quantity\":\" 5\"}", "quantity: not an integer");
    refused(POST_ORDER, "{\"quantity\":\"\"}", "quantity: not an integer");
    refused(POST_ORDER, "{\"quantity\":\"0x10\"}", "quantity: not an integer");
    refused(POST_ORDER, "{\"quantity\":05}", "quantity: expected ',' or '}'");
    refused(POST_ORDER, "{\"quantity\":true}", "quantity: not an integer");
    refused(POST_ORDER, "{\"quantity\":+5}", "quantity: not an integer");
    refused(POST_ORDER, "{\"price\":{\"units\":\"1\",\"nano\":2147483648}}",
            "price.nano: out of range for int32");
    refused(POST_ORDER, "{\"price\":{\"units\":\"1.5\"}}", "price.units: not an integer");
    refused(POST_ORDER, "{\"price\":5}", "price: not an object");
    refused(POST_ORDER, "{\"direction\":\"BUY\"}", "direction: not a value of OrderDirection");
    refused(POST_ORDER, "{\"direction\":2147483648}", "direction: out of range for int32");
    refused(POST_ORDER, "{\"direction\":true}", "direction: not an integer");
    refused(POST_ORDER, "{\"accountId\":5}", "accountId: not a string");
    refused(POST_ORDER, "{\"confirmMarginTrade\":\"true\"}", "confirmMarginTrade: not a boolean");
    refused(POST_ORDER, "{\"confirmMarginTrade\":1}", "confirmMarginTrade: not a boolean");

    /* Enums by number, also one no value has (proto3 enums are open). */
    PostOrderRequest *r = post_order("{\"direction\":-7,\"timeInForce\":\"TIME_IN_FORCE_DAY\"}");
    CHECK(r != NULL && (int)r->direction == -7 && r->time_in_force == 1);
    protobuf_c_message_free_unpacked(r ? &r->base : NULL, NULL);

    /* null is the default; an explicit default is the default. */
    r = post_order("{\"price\":null,\"accountId\":null,\"quantity\":null,\"figi\":null}");
    CHECK(r != NULL && r->price == NULL && r->quantity == 0 && r->_figi_case == 0);
    protobuf_c_message_free_unpacked(r ? &r->base : NULL, NULL);
    r = post_order("{\"figi\":\"\"}");
    CHECK(r != NULL && r->_figi_case != 0 && strcmp(r->figi, "") == 0);
    protobuf_c_message_free_unpacked(r ? &r->base : NULL, NULL);
}

static void test_structure_refusals(void) {
    refused(POST_ORDER, "{\"acountId\":\"1\"}", "acountId: unknown field");
    refused(POST_ORDER, "{\"price\":{\"units\":\"1\",\"nanos\":1}}", "price.nanos: unknown field");
    refused(POST_ORDER, "{\"AccountId\":\"1\"}", "AccountId: unknown field");
    refused(POST_ORDER, "{\"account_Id\":\"1\"}", "account_Id: unknown field");
    refused(POST_ORDER, "{\"accountId\":\"1\",\"accountId\":\"2\"}", "accountId: duplicate field");
    refused(POST_ORDER, "{\"accountId\":\"1\",\"account_id\":\"2\"}",
            "account_id: duplicate field");
    refused(POST_ORDER, "{\"accountId\":\"\xff\"}", "accountId: string is not UTF-8");
    refused(POST_ORDER, "{\"accountId\":\"\xc0\xaf\"}", "accountId: string is not UTF-8");
    refused(POST_ORDER, "{\"accountId\":\"\\ud800\"}", "accountId: \\u escape is a lone surrogate");
    refused(POST_ORDER, "{\"accountId\":\"\\udc00\\ud800\"}",
            "accountId: \\u escape is a lone surrogate");
    refused(POST_ORDER, "{\"accountId\":\"a\\u0000b\"}", "accountId: string holds U+0000");
    refused(POST_ORDER, "{\"accountId\":\"a\\x\"}", "accountId: bad escape in string");
    refused(POST_ORDER, "{\"accountId\":\"a\\u12\"}", "accountId: bad \\u escape");
    refused(POST_ORDER, "{\"accountId\":\"a\nb\"}", "accountId: control character in string");
    refused(POST_ORDER, "{\"accountId\":\"abc", "accountId: string not terminated");
    refused(POST_ORDER, "{\"\xff\":1}", "string is not UTF-8");
    refused(POST_ORDER, "", "not an object");
    refused(POST_ORDER, "[]", "not an object");
    refused(POST_ORDER, "null", "not an object");
    refused(POST_ORDER, "{", "expected a member name");
    refused(POST_ORDER, "{\"quantity\"}", "quantity: expected ':'");
    refused(POST_ORDER, "{\"quantity\":1,}", "expected a member name");
    refused(POST_ORDER, "{\"quantity\":1 \"price\":null}", "quantity: expected ',' or '}'");
    refused(POST_ORDER, "{} {}", "text after the message");
    refused(POST_ORDER, "\xef\xbb\xbf{}", "not an object");

    /* A oneof holds one member. */
    const ProtobufCMessageDescriptor *md = &ORDERS(market_data_request__descriptor);
    refused(md, "{\"subscribeCandlesRequest\":{},\"subscribeOrderBookRequest\":{}}",
            "subscribeOrderBookRequest: its oneof is already set by subscribe_candles_request");
    jsonpb_error err;
    MarketDataRequest *mr =
        (MarketDataRequest *)decode(md, "{\"subscribeCandlesRequest\":null,\"ping\":{}}", 0, &err);
    CHECK(mr != NULL &&
          mr->payload_case ==
              TINKOFF__PUBLIC__INVEST__API__CONTRACT__V1__MARKET_DATA_REQUEST__PAYLOAD_PING);
    protobuf_c_message_free_unpacked(mr ? &mr->base : NULL, NULL);
    refused(md,
            "{\"subscribeCandlesRequest\":{\"instruments\":[{\"interval\":1},{\"intervall\":1}]}}",
            "subscribeCandlesRequest.instruments[1].intervall: unknown field");
    refused(md, "{\"subscribeCandlesRequest\":{\"instruments\":[{},null]}}",
            "subscribeCandlesRequest.instruments[1]: null is not an element");
    refused(md, "{\"subscribeCandlesRequest\":{\"instruments\":{}}}",
            "subscribeCandlesRequest.instruments: not an array");
    refused(md, "{\"subscribeCandlesRequest\":{\"instruments\":[{} {}]}}",
            "subscribeCandlesRequest.instruments[0]: expected ',' or ']'");

    /* Unknown members skipped when asked, their values still checked as JSON. */
    PostOrderRequest *r = (PostOrderRequest *)decode(
        POST_ORDER, "{\"x\":{\"a\":[1,\"b\",{\"c\":null},true,false,-1.5e3]},\"quantity\":\"3\"}",
        JSONPB_IGNORE_UNKNOWN, &err);
    CHECK(r != NULL && r->quantity == 3);
    protobuf_c_message_free_unpacked(r ? &r->base : NULL, NULL);
    CHECK(decode(POST_ORDER, "{\"x\":[1,}", JSONPB_IGNORE_UNKNOWN, &err) == NULL);
    CHECK(strcmp(err.text, "x: not a JSON value") == 0);
    CHECK(decode(POST_ORDER, "{\"x\":tru}", JSONPB_IGNORE_UNKNOWN, &err) == NULL);
    CHECK(decode(POST_ORDER, "{\"direction\":\"NOPE\"}", JSONPB_IGNORE_UNKNOWN, &err) == NULL);
    CHECK(strcmp(err.text, "direction: not a value of OrderDirection") == 0);

    /* Nesting: 64 levels are read, the 65th is refused, and 100 000 cost no stack. */
    char deep[300000];
    for (int levels = 63; levels <= 64; levels++) {
        size_t n = (size_t)snprintf(deep, sizeof deep, "{\"x\":");
        for (int i = 0; i < levels; i++)
            deep[n++] = '[';
        for (int i = 0; i < levels; i++)
            deep[n++] = ']';
        snprintf(deep + n, sizeof deep - n, "}");
        ProtobufCMessage *m = decode(POST_ORDER, deep, JSONPB_IGNORE_UNKNOWN, &err);
        CHECK(levels == 63 ? m != NULL : m == NULL);
        if (levels == 64)
            CHECK(strcmp(err.text, "x: nested deeper than 64") == 0);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    size_t n = (size_t)snprintf(deep, sizeof deep, "{\"x\":");
    while (n < 200000)
        deep[n++] = '[';
    deep[n] = '\0';
    CHECK(decode(POST_ORDER, deep, JSONPB_IGNORE_UNKNOWN, &err) == NULL);
    n = 0;
    while (n < 200000) {
        memcpy(deep + n, "{\"a\":", 5);
        n += 5;
    }
    deep[n] = '\0';
    CHECK(decode(POST_ORDER, deep, JSONPB_IGNORE_UNKNOWN, &err) == NULL);
    /* An unknown member's insides are skipped, not entered on the path. */
    CHECK(strcmp(err.text, "a: nested deeper than 64") == 0);

    /* The size limit. */
    jsonpb_decode_options small = {.max_bytes = 8};
    ProtobufCMessage *m = NULL;
    CHECK_EQ_INT(jsonpb_decode("{\"quantity\":1}", 14, POST_ORDER, &small, &m, &err), -EINVAL);
    CHECK(m == NULL && strcmp(err.text, "text longer than 8 bytes") == 0);
}

static void test_values(void) {
    jsonpb_error err;
    const ProtobufCMessageDescriptor *sd =
        &ORDERS(get_asset_fundamentals_response__statistic_response__descriptor);
    Statistic *s = (Statistic *)decode(
        sd,
        "{\"marketCapitalization\":\"NaN\",\"highPriceLast52Weeks\":\"-Infinity\","
        "\"lowPriceLast52Weeks\":\"Infinity\",\"beta\":\"2.5e-3\",\"freeFloat\":-0.0,"
        "\"averageDailyVolumeLast10Days\":17}",
        0, &err);
    CHECK(s != NULL && isnan(s->market_capitalization) &&
          s->high_price_last_52_weeks == -INFINITY && s->low_price_last_52_weeks == INFINITY &&
          s->beta == 2.5e-3 && s->free_float == 0 && signbit(s->free_float) &&
          s->average_daily_volume_last_10_days == 17);
    protobuf_c_message_free_unpacked(s ? &s->base : NULL, NULL);
    refused(sd, "{\"beta\":1e400}", "beta: out of range for double");
    refused(sd, "{\"beta\":\"nan\"}", "beta: not a number");
    refused(sd, "{\"beta\":\"Infinity \"}", "beta: not a number");
    refused(sd, "{\"beta\":.5}", "beta: not a number");

    /* Timestamps: offsets normalised to UTC, 1 to 9 fraction digits, the range's ends. */
    static const struct {
        const char *text;
        int64_t seconds;
        int32_t nanos;
    } times[] = {
        {"\"2024-01-01T03:00:00+03:00\"", 1704067200, 0},
        {"\"2023-12-31T23:30:00-00:30\"", 1704067200, 0},
        {"\"2024-01-01T00:00:00.5Z\"", 1704067200, 500000000},
        {"\"2024-02-29T00:00:00.000000001Z\"", 1709164800, 1},
        {"\"0001-01-01T00:00:00Z\"", -62135596800LL, 0},
        {"\"0001-01-01T05:00:00+05:00\"", -62135596800LL, 0},
        {"\"9999-12-31T23:59:59.999999999Z\"", 253402300799LL, 999999999},
        {"\"1969-12-31T23:59:59.999Z\"", -1, 999000000},
    };
    for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
        Google__Protobuf__Timestamp *t = (Google__Protobuf__Timestamp *)decode(
            &google__protobuf__timestamp__descriptor, times[i].text, 0, &err);
        CHECK(t != NULL && t->seconds == times[i].seconds && t->nanos == times[i].nanos);
        protobuf_c_message_free_unpacked(t ? &t->base : NULL, NULL);
    }
    const ProtobufCMessageDescriptor *td = &google__protobuf__timestamp__descriptor;
    refused(td, "\"0000-12-31T23:59:59Z\"", "not a valid date and time");
    refused(td, "\"0001-01-01T00:00:00+00:01\"",
            "time out of range (0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z)");
    refused(td, "\"9999-12-31T23:59:59-00:01\"",
            "time out of range (0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z)");
    refused(td, "\"2023-02-29T00:00:00Z\"", "not a valid date and time");
    refused(td, "\"2024-01-01T24:00:00Z\"", "not a valid date and time");
    refused(td, "\"2024-01-01T00:00:60Z\"", "not a valid date and time");
    refused(td, "\"2024-01-01T00:00:00.Z\"", "not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.f]Z)");
    refused(td, "\"2024-01-01T00:00:00.1234567890Z\"", "more than 9 fraction digits");
    refused(td, "\"2024-01-01 00:00:00Z\"", "not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.f]Z)");
    refused(td, "\"2024-01-01T00:00:00\"", "not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.f]Z)");
    refused(td, "\"2024-01-01T00:00:00+24:00\"", "not a valid time zone offset");
    refused(td, "{\"seconds\":\"1\"}", "not an RFC 3339 time string");
    refused(&ORDERS(get_orders_request__descriptor), "{\"advancedFilters\":{\"from\":5}}",
            "advancedFilters.from: not an RFC 3339 time string");

    /* bytes: standard and URL-safe, padded or not. */
    const ProtobufCMessageDescriptor *fdd =
        &grpc__reflection__v1__file_descriptor_response__descriptor;
    FileDescriptorResponse *fd = (FileDescriptorResponse *)decode(
        fdd, "{\"file_descriptor_proto\":[\"+/8=\",\"-_8\",\"\",\"aGVsbG8\",\"aGVsbG8=\"]}", 0,
        &err);
    CHECK(fd != NULL && fd->n_file_descriptor_proto == 5);
    if (fd != NULL && fd->n_file_descriptor_proto == 5) {
        CHECK(fd->file_descriptor_proto[0].len == 2 &&
              memcmp(fd->file_descriptor_proto[0].data, "\xfb\xff", 2) == 0);
        CHECK(fd->file_descriptor_proto[1].len == 2 &&
              memcmp(fd->file_descriptor_proto[1].data, "\xfb\xff", 2) == 0);
        CHECK(fd->file_descriptor_proto[2].len == 0);
        CHECK(fd->file_descriptor_proto[3].len == 5 &&
              memcmp(fd->file_descriptor_proto[3].data, "hello", 5) == 0);
        CHECK(fd->file_descriptor_proto[4].len == 5);
    }
    protobuf_c_message_free_unpacked(fd ? &fd->base : NULL, NULL);
    refused(fdd, "{\"fileDescriptorProto\":[\"a\"]}", "fileDescriptorProto[0]: not base64");
    refused(fdd, "{\"fileDescriptorProto\":[\"aGVsbG8==\"]}", "fileDescriptorProto[0]: not base64");
    refused(fdd, "{\"fileDescriptorProto\":[\"aGV*bG8=\"]}", "fileDescriptorProto[0]: not base64");
    refused(fdd, "{\"fileDescriptorProto\":\"aGVsbG8=\"}", "fileDescriptorProto: not an array");
}

/* ---- Allocators. ----------------------------------------------------------------------------- */

typedef struct counting {
    long live, total, fail_at; /* fail the fail_at-th allocation (1-based), 0: never */
} counting;

static void *counting_alloc(void *data, size_t size) {
    counting *c = data;
    c->total++;
    if (c->fail_at != 0 && c->total == c->fail_at)
        return NULL;
    c->live++;
    return malloc(size);
}

static void counting_free(void *data, void *p) {
    counting *c = data;
    c->live--;
    free(p);
}

static void test_allocators(void) {
    const char *text = "{\"subscribeCandlesRequest\":{\"instruments\":[{\"figi\":\"a\"},"
                       "{\"instrumentId\":\"b\"},{},{},{\"figi\":\"c\"}],\"waitingClose\":true}}";
    const ProtobufCMessageDescriptor *md = &ORDERS(market_data_request__descriptor);
    counting c = {0};
    ProtobufCAllocator allocator = {counting_alloc, counting_free, &c};
    jsonpb_decode_options options = {.allocator = &allocator};
    ProtobufCMessage *m = NULL;
    jsonpb_error err;
    CHECK_EQ_INT(jsonpb_decode(text, strlen(text), md, &options, &m, &err), 0);
    CHECK(m != NULL && c.live > 5);
    long needed = c.total;
    protobuf_c_message_free_unpacked(m, &allocator);
    CHECK_EQ_INT(c.live, 0);
    /* Memory running out at every allocation in turn: -ENOMEM, nothing left behind. */
    int enomem = 0;
    for (long k = 1; k <= needed; k++) {
        c = (counting){.fail_at = k};
        m = (ProtobufCMessage *)1;
        int rc = jsonpb_decode(text, strlen(text), md, &options, &m, &err);
        enomem += rc == -ENOMEM && m == NULL && c.live == 0 && strstr(err.text, "out of memory");
    }
    CHECK_EQ_INT(enomem, needed);
}

int main(void) {
    type_count = jsonpb_types_collect(types);
    test_every_type_reached();
    test_round_trip_every_type();
    test_exact_texts();
    test_encode_refusals();
    test_names_and_numbers();
    test_structure_refusals();
    test_values();
    test_allocators();
    return check_finish("test_jsonpb");
}
