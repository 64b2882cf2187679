/* Event codec: every event type round-trips with extreme values and every enumeration value;
 * truncated, over-long, out-of-domain and random payloads are refused, and whatever decodes
 * encodes back to the very same bytes (one encoding per event); the raw records of formats 3 and
 * 4 read as the events they were. */
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "core/event_codec.h"
#include "util/prng.h"

#define KEY_36 "abcdefghijklmnopqrstuvwxyz0123456789" /* 36 bytes, not a UUID */
#define UUID_LOWER "0123abcd-4567-89ef-0123-456789abcdef"
#define UUID_UPPER "0123ABCD-4567-89EF-0123-456789ABCDEF"

static core_event event_of(uint32_t type, uint32_t order, uint64_t seq, int64_t time_ns) {
    core_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.order = order;
    ev.seq = seq;
    ev.time_ns = time_ns;
    return ev;
}

/* The longest account name: 63 bytes of UTF-8. */
static const char *name_63(void) {
    static char name[ACCOUNT_NAME_SIZE];
    snprintf(name, sizeof name, "%s", "Песочница: the longest name there can be");
    for (size_t n = strlen(name); n < ACCOUNT_NAME_SIZE - 1; n++)
        name[n] = '.';
    return name;
}

/* Encodes, decodes and compares byte for byte; returns the encoded length. */
static size_t round_trip(const core_event *ev) {
    uint8_t bytes[EVENT_CODEC_MAX_BYTES + 1];
    CHECK(event_codec_valid(ev));
    size_t n = event_codec_encode(ev, bytes);
    CHECK(n > 0 && n <= EVENT_CODEC_MAX_BYTES);
    core_event back;
    int rc = event_codec_decode((uint16_t)ev->type, ev->seq, bytes, n, &back);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0 && !event_codec_equal(&back, ev)) {
        CHECK(!"decoded event differs");
        fprintf(stderr, "  type %u\n", ev->type);
    }
    /* Every shorter prefix is refused, and so is one byte more. */
    for (size_t cut = 0; cut < n; cut++)
        CHECK(event_codec_decode((uint16_t)ev->type, ev->seq, bytes, cut, &back) != 0);
    bytes[n] = 0;
    CHECK(event_codec_decode((uint16_t)ev->type, ev->seq, bytes, n + 1, &back) != 0);
    return n;
}

static const int64_t extremes[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
#define EXTREMES (sizeof extremes / sizeof extremes[0])
static const uint32_t slots[] = {0, 1, 127, 128, UINT32_MAX - 1, UINT32_MAX};
#define SLOTS (sizeof slots / sizeof slots[0])

static void test_accepted(void) {
    static const char *keys[] = {"", "k", KEY_36, UUID_LOWER, UUID_UPPER};
    size_t longest = 0, n = 0;
    for (unsigned direction = 1; direction <= 2; direction++)
        for (unsigned type = 1; type <= 3; type++)
            for (unsigned tif = 1; tif <= 3; tif++)
                for (unsigned source = 1; source <= 3; source++)
                    for (unsigned flags = 0; flags < 4; flags++) {
                        core_event ev = event_of(CORE_EVENT_ORDER_ACCEPTED, slots[n % SLOTS],
                                                 UINT64_MAX - n, extremes[n % EXTREMES]);
                        core_event_accepted *a = &ev.u.accepted;
                        a->account = n % 2 ? UINT32_MAX : 0;
                        a->instrument = n % 3 ? UINT32_MAX : 0;
                        a->direction = (uint8_t)direction;
                        a->type = (uint8_t)type;
                        a->tif = (uint8_t)tif;
                        a->source = (uint8_t)source;
                        a->key_is_uuid = flags & 1;
                        a->awaiting_replaced = flags >> 1;
                        a->price_nano = extremes[n % EXTREMES];
                        a->reserve_price_nano = extremes[(n + 1) % EXTREMES];
                        a->lots = extremes[(n + 2) % EXTREMES];
                        a->reserved_cash_nano = extremes[(n + 3) % EXTREMES];
                        a->reserved_units = extremes[(n + 4) % EXTREMES];
                        a->initial_commission_nano = extremes[(n + 5) % EXTREMES];
                        strcpy(a->key, keys[n % 5]);
                        /* The request id: the key again, a UUID, or a 36-byte text. */
                        strcpy(a->request_id, n % 3 == 0   ? a->key
                                              : n % 3 == 1 ? UUID_LOWER
                                                           : KEY_36);
                        strcpy(a->intent_id, keys[(n + 1) % 5]);
                        a->replaces_order = slots[(n + 2) % SLOTS];
                        a->trades_reserved = n % 2 ? UINT32_MAX : 0;
                        size_t length = round_trip(&ev);
                        if (length > longest)
                            longest = length;
                        n++;
                    }
    CHECK_EQ_INT(n, 2 * 3 * 3 * 3 * 4);
    CHECK(longest <= EVENT_CODEC_MAX_BYTES);
    /* The widest one of all. */
    core_event ev = event_of(CORE_EVENT_ORDER_ACCEPTED, UINT32_MAX - 1, 1, INT64_MIN);
    core_event_accepted *a = &ev.u.accepted;
    *a = (core_event_accepted){.account = UINT32_MAX,
                               .instrument = UINT32_MAX,
                               .direction = 2,
                               .type = 3,
                               .tif = 3,
                               .source = 3,
                               .key_is_uuid = 1,
                               .awaiting_replaced = 1,
                               .price_nano = INT64_MIN,
                               .reserve_price_nano = INT64_MIN,
                               .lots = INT64_MIN,
                               .reserved_cash_nano = INT64_MIN,
                               .reserved_units = INT64_MIN,
                               .initial_commission_nano = INT64_MIN,
                               .replaces_order = UINT32_MAX - 1,
                               .trades_reserved = UINT32_MAX};
    strcpy(a->key, KEY_36);
    strcpy(a->request_id, UUID_UPPER);
    strcpy(a->intent_id, "zyxwvutsrqponmlkjihgfedcba9876543210");
    CHECK_EQ_INT(round_trip(&ev), 206);
}

/* What the journal is for: an order's acceptance, its ack and one fill, as the core makes them. */
static void test_typical_sizes(void) {
    core_event accepted = event_of(CORE_EVENT_ORDER_ACCEPTED, 4711, 1, 1764500000000000000);
    core_event_accepted *a = &accepted.u.accepted;
    a->account = 0;
    a->instrument = 5;
    a->direction = 1;
    a->type = 1;
    a->tif = 1;
    a->source = 2;
    a->key_is_uuid = 1;
    a->price_nano = 8900000000;
    a->reserve_price_nano = 8900000000;
    a->lots = 1;
    a->reserved_cash_nano = 8903560000;
    a->initial_commission_nano = 3560000;
    strcpy(a->key, "6f1c2f7e-5a7b-4f8e-9a4c-1b2d3e4f5a6b");
    strcpy(a->request_id, a->key);
    strcpy(a->intent_id, "0e585ccc-2653-4eeb-a93f-fe05a4204996");
    a->replaces_order = UINT32_MAX;
    a->trades_reserved = 1;
    core_event acked = event_of(CORE_EVENT_ORDER_ACKED, 4711, 2, 1764500000000000000);
    acked.u.acked.exchange_order_id = 10000000293;
    core_event trade = event_of(CORE_EVENT_ORDER_TRADE, 4711, 3, 1764500000000000000);
    trade.u.trade = (core_event_trade){.trade_id = 10000000412,
                                       .lots = 1,
                                       .price_nano = 8900000000,
                                       .value_nano = 8900000000,
                                       .commission_nano = 3560000,
                                       .aggressor = 1};
    size_t total = round_trip(&accepted) + round_trip(&acked) + round_trip(&trade);
    CHECK(round_trip(&acked) <= 16);
    CHECK(total <= 130);
    printf("typical limit order: accepted %zu + acked %zu + trade %zu = %zu payload bytes\n",
           round_trip(&accepted), round_trip(&acked), round_trip(&trade), total);
}

static void test_other_types(void) {
    for (size_t i = 0; i < EXTREMES; i++) {
        uint32_t slot = slots[i % SLOTS];
        int64_t v = extremes[i], w = extremes[EXTREMES - 1 - i];
        core_event ev = event_of(CORE_EVENT_ORDER_ACKED, slot, i + 1, v);
        ev.u.acked.exchange_order_id = i % 2 ? UINT64_MAX : (uint64_t)i;
        round_trip(&ev);

        for (unsigned aggressor = 0; aggressor <= 1; aggressor++) {
            ev = event_of(CORE_EVENT_ORDER_TRADE, slot, i + 1, w);
            ev.u.trade.trade_id = i % 2 ? 0 : UINT64_MAX;
            ev.u.trade.lots = v;
            ev.u.trade.price_nano = w;
            ev.u.trade.value_nano = v;
            ev.u.trade.commission_nano = w;
            ev.u.trade.aggressor = (uint8_t)aggressor;
            round_trip(&ev);
        }

        static const uint8_t causes[] = {
            ORDER_CAUSE_NONE, ORDER_CAUSE_CANCELLED_BY_EXCHANGE, ORDER_CAUSE_REJECTED_BY_BROKER,
            ORDER_CAUSE_REJECTED_BY_EXCHANGE, ORDER_CAUSE_CANCELLED_BY_CLIENT};
        for (size_t c = 0; c < sizeof causes; c++) {
            ev = event_of(CORE_EVENT_ORDER_CANCELLED, slot, i + 1, v);
            ev.u.cancelled.lots = w;
            ev.u.cancelled.cause = causes[c];
            round_trip(&ev);
            ev = event_of(CORE_EVENT_ORDER_REJECTED, slot, i + 1, v);
            ev.u.rejected.cause = causes[c];
            ev.u.rejected.reason = (int32_t)((c * 7 + i) % CORE_ERROR_COUNT);
            round_trip(&ev);
        }

        ev = event_of(CORE_EVENT_CASH_ADJUSTED, slot, i + 1, v);
        ev.u.cash.account = i % 2 ? UINT32_MAX : 0;
        strcpy(ev.u.cash.currency, i % 3 == 0 ? "" : i % 3 == 1 ? "rub" : "abcdefg");
        ev.u.cash.amount_nano = w;
        round_trip(&ev);

        ev = event_of(CORE_EVENT_MARKET_MAKER_MOVED, slot, i + 1, v);
        ev.u.market_maker.instrument = i % 2 ? UINT32_MAX : 0;
        ev.u.market_maker.reference_nano = w;
        for (int k = 0; k < 4; k++)
            ev.u.market_maker.random_state[k] = (uint64_t)extremes[(i + (size_t)k) % EXTREMES];
        round_trip(&ev);

        ev = event_of(CORE_EVENT_ACCOUNT_OPENED, slot, i + 1, v);
        ev.u.account_opened.account = i % 2 ? UINT32_MAX : 0;
        ev.u.account_opened.token = i % 2 ? 0 : UINT32_MAX;
        strcpy(ev.u.account_opened.id, i % 3 == 0 ? UUID_LOWER : i % 3 == 1 ? "" : KEY_36);
        strcpy(ev.u.account_opened.name, i % 3 == 0 ? name_63() : i % 3 == 1 ? "" : UUID_LOWER);
        CHECK(strlen(name_63()) == ACCOUNT_NAME_SIZE - 1);
        round_trip(&ev);

        ev = event_of(CORE_EVENT_ACCOUNT_CLOSED, slot, i + 1, v);
        ev.u.account_closed.account = i % 2 ? UINT32_MAX : 0;
        round_trip(&ev);

        ev = event_of(CORE_EVENT_REPLACEMENT_ARMED, slot, i + 1, v);
        ev.u.armed.reserve_price_nano = v;
        ev.u.armed.reserved_cash_nano = w;
        ev.u.armed.reserved_units = v;
        ev.u.armed.initial_commission_nano = w;
        round_trip(&ev);

        ev = event_of(CORE_EVENT_HISTORY_RETIRED, slot, i + 1, v);
        ev.u.retired.count = i % 2 ? UINT32_MAX : 0;
        round_trip(&ev);

        /* A market print (a replay of history): lots 0 is a price move without a trade. */
        ev = event_of(CORE_EVENT_MARKET_PRINT, UINT32_MAX, i + 1, v);
        ev.u.market_print.instrument = i % 2 ? UINT32_MAX : slot;
        ev.u.market_print.trade_id = i % 2 ? UINT64_MAX : (uint64_t)i;
        ev.u.market_print.price_nano = w;
        ev.u.market_print.lots = i % 3 == 0 ? 0 : v;
        ev.u.market_print.buy = (uint8_t)(i % 2);
        CHECK(round_trip(&ev) <= 45);

        /* The operator's halt and resume. */
        ev = event_of(CORE_EVENT_TRADING_HALT, UINT32_MAX, i + 1, v);
        ev.u.halt.instrument = slot;
        ev.u.halt.halted = (uint8_t)(i % 2);
        CHECK(round_trip(&ev) <= 16);

        /* CurrencyTransfer: a UUID transaction id (16 bytes) or any other text. */
        ev = event_of(CORE_EVENT_CURRENCY_TRANSFER, slot, i + 1, v);
        ev.u.transfer.from = slot;
        ev.u.transfer.to = UINT32_MAX - slot;
        strcpy(ev.u.transfer.currency, i % 2 ? "rub" : "usdt123");
        ev.u.transfer.amount_nano = w;
        strcpy(ev.u.transfer.transaction_id,
               i % 2 ? "0b7e3c1a-52d4-4f6e-9a8b-1c2d3e4f5a6b" : "not a uuid");
        CHECK(round_trip(&ev) <= 60);
    }
}

/* An encoding of `ev` with one byte changed to `value` at `at`: refused. */
static void refuse_changed(const core_event *ev, size_t at, uint8_t value, const char *what) {
    uint8_t bytes[EVENT_CODEC_MAX_BYTES + 1];
    size_t n = event_codec_encode(ev, bytes);
    CHECK(at < n);
    bytes[at] = value;
    core_event out;
    if (event_codec_decode((uint16_t)ev->type, ev->seq, bytes, n, &out) == 0) {
        CHECK(!"a malformed payload was accepted");
        fprintf(stderr, "  %s\n", what);
    }
}

/* Out-of-domain values and forms, each at the byte that carries it. */
static void test_halt_refusals(void) {
    core_event ev = event_of(CORE_EVENT_TRADING_HALT, UINT32_MAX, 1, 0);
    ev.u.halt.instrument = 3;
    ev.u.halt.halted = 1;
    uint8_t bytes[EVENT_CODEC_MAX_BYTES];
    size_t n = event_codec_encode(&ev, bytes);
    /* The flag is the last byte: 0 and 1 only. */
    CHECK_EQ_INT(bytes[n - 1], 1);
    refuse_changed(&ev, n - 1, 2, "a halt flag of 2");
    refuse_changed(&ev, n - 1, 0xFF, "a halt flag of 255");
    ev.u.halt.halted = 2;
    CHECK(!event_codec_valid(&ev));
}

static void test_refusals(void) {
    core_event ev = event_of(CORE_EVENT_ORDER_ACCEPTED, 0, 1, 0); /* slot 1 byte, time 8 */
    core_event_accepted *a = &ev.u.accepted;
    a->direction = 1;
    a->type = 1;
    a->tif = 1;
    a->source = 1;
    strcpy(a->key, "key");
    strcpy(a->request_id, "req");
    strcpy(a->intent_id, "int");
    /* bytes: 0 slot, 1..8 time, 9 account, 10 instrument, 11 terms, 12 flags, 13..18 numbers,
     * 19 key length, 20..22 key, 23 request id length, 24..26, 27 intent id length, ... */
    refuse_changed(&ev, 11, 0x54, "direction 0");
    refuse_changed(&ev, 11, 0x57, "direction 3");
    refuse_changed(&ev, 11, 0x51, "type 0");
    refuse_changed(&ev, 11, 0x45, "time in force 0");
    refuse_changed(&ev, 11, 0x15, "source 0");
    refuse_changed(&ev, 12, 0x04, "an unknown flag");
    refuse_changed(&ev, 19, 37, "a key longer than its array");
    refuse_changed(&ev, 19, 0xFE, "\"the key again\" for the key");
    refuse_changed(&ev, 20, 0, "a NUL inside the key");
    refuse_changed(&ev, 23, 3 | 0x80, "a length byte out of range");
    refuse_changed(&ev, 9, 0x80, "a varint running into the next field");

    /* The request id written out although it is the key. */
    uint8_t bytes[EVENT_CODEC_MAX_BYTES];
    strcpy(a->request_id, "key");
    size_t n = event_codec_encode(&ev, bytes);
    CHECK_EQ_INT(bytes[23], 0xFE);
    uint8_t spelled[EVENT_CODEC_MAX_BYTES];
    memcpy(spelled, bytes, 23);
    spelled[23] = 3;
    memcpy(spelled + 24, "key", 3);
    memcpy(spelled + 27, bytes + 24, n - 24);
    core_event out;
    CHECK(event_codec_decode(CORE_EVENT_ORDER_ACCEPTED, 1, spelled, n + 3, &out) != 0);
    /* A lower-case UUID written out as text instead of its 16 bytes. */
    strcpy(a->key, UUID_LOWER);
    n = event_codec_encode(&ev, bytes);
    CHECK_EQ_INT(bytes[19], 0xFF);
    memcpy(spelled, bytes, 19);
    spelled[19] = 36;
    memcpy(spelled + 20, UUID_LOWER, 36);
    memcpy(spelled + 56, bytes + 36, n - 36);
    CHECK(event_codec_decode(CORE_EVENT_ORDER_ACCEPTED, 1, spelled, n + 20, &out) != 0);

    /* Numbers: too wide for their field, overlong, eleven bytes. */
    core_event closed = event_of(CORE_EVENT_ACCOUNT_CLOSED, 0, 1, 0);
    uint8_t wide[] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10}; /* 2^32 */
    CHECK(event_codec_decode(CORE_EVENT_ACCOUNT_CLOSED, 1, wide, sizeof wide, &out) != 0);
    uint8_t overlong[] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0x85, 0x00}; /* 5 in two bytes */
    CHECK(event_codec_decode(CORE_EVENT_ACCOUNT_CLOSED, 1, overlong, sizeof overlong, &out) != 0);
    overlong[10] = 0x01; /* 133, canonical */
    CHECK(event_codec_decode(CORE_EVENT_ACCOUNT_CLOSED, 1, overlong, sizeof overlong, &out) == 0);
    CHECK_EQ_INT(out.u.account_closed.account, 133);
    (void)closed;
    uint8_t eleven[9 + 11] = {1};
    memset(eleven + 9, 0xFF, 10);
    eleven[19] = 0x01;
    CHECK(event_codec_decode(CORE_EVENT_ORDER_ACKED, 1, eleven, sizeof eleven, &out) != 0);
    uint8_t tenth_too_big[9 + 10] = {1};
    memset(tenth_too_big + 9, 0xFF, 9);
    tenth_too_big[18] = 0x02; /* bit 64 */
    CHECK(event_codec_decode(CORE_EVENT_ORDER_ACKED, 1, tenth_too_big, sizeof tenth_too_big,
                             &out) != 0);
    tenth_too_big[18] = 0x01; /* UINT64_MAX */
    CHECK(event_codec_decode(CORE_EVENT_ORDER_ACKED, 1, tenth_too_big, sizeof tenth_too_big,
                             &out) == 0);
    CHECK(out.u.acked.exchange_order_id == UINT64_MAX);

    /* Domains of the other types. */
    core_event trade = event_of(CORE_EVENT_ORDER_TRADE, 0, 1, 0);
    n = event_codec_encode(&trade, bytes);
    refuse_changed(&trade, n - 1, 2, "aggressor 2");
    core_event cancelled = event_of(CORE_EVENT_ORDER_CANCELLED, 0, 1, 0);
    n = event_codec_encode(&cancelled, bytes);
    refuse_changed(&cancelled, n - 1, 2, "cause 2");
    core_event rejected = event_of(CORE_EVENT_ORDER_REJECTED, 0, 1, 0);
    n = event_codec_encode(&rejected, bytes);
    refuse_changed(&rejected, n - 1, CORE_ERROR_COUNT, "a reason past the last error");
    refuse_changed(&rejected, n - 2, 3, "cause 3");
    core_event cash = event_of(CORE_EVENT_CASH_ADJUSTED, 0, 1, 0);
    strcpy(cash.u.cash.currency, "rub");
    refuse_changed(&cash, 10, 8, "a currency longer than its array");
    refuse_changed(&cash, 10, 0xFF, "a UUID for a currency");

    /* Types the codec does not know, and payloads over the largest event. */
    uint8_t zeros[EVENT_CODEC_MAX_BYTES + 1] = {0};
    CHECK(event_codec_decode(0, 1, zeros, 10, &out) != 0);
    CHECK(event_codec_decode(CORE_EVENT_TYPE_MAX + 1, 1, zeros, 10, &out) != 0);
    CHECK(event_codec_decode(CORE_EVENT_ACCOUNT_CLOSED, 1, zeros, sizeof zeros, &out) != 0);
    CHECK(event_codec_decode(CORE_EVENT_ACCOUNT_CLOSED, 1, zeros, 10, &out) == 0);
}

/* Random payloads of every type: most are refused; any that decodes is an event whose encoding
 * is exactly those bytes, so nothing is ever read two ways. */
static void test_garbage(void) {
    uint64_t state[4];
    prng_seed(state, 0x5eed);
    uint32_t accepted = 0, tried = 0;
    for (uint32_t round = 0; round < 200000; round++) {
        uint8_t bytes[EVENT_CODEC_MAX_BYTES];
        uint16_t type = (uint16_t)(prng_next(state) % (CORE_EVENT_TYPE_MAX + 2));
        size_t n = (size_t)(prng_next(state) % 80);
        for (size_t i = 0; i < n; i++)
            bytes[i] = (uint8_t)prng_next(state);
        /* Small numbers and lengths often, so that some payloads get far. */
        for (size_t i = 9; i < n; i++)
            if (prng_next(state) % 2)
                bytes[i] &= 0x1F;
        core_event out;
        tried++;
        if (event_codec_decode(type, 42, bytes, n, &out) != 0)
            continue;
        accepted++;
        uint8_t again[EVENT_CODEC_MAX_BYTES];
        size_t m = event_codec_encode(&out, again);
        CHECK(m == n && memcmp(again, bytes, n) == 0);
        CHECK(out.type == type && out.seq == 42);
    }
    printf("garbage: %u of %u random payloads were well-formed events\n", accepted, tried);
    CHECK(accepted > 0);
}

/* Formats 3 and 4: the core_event struct as it was laid out. The struct's first 208 bytes are
 * still that layout (the favorites' member, added later, only made the union longer), so the
 * start of a copy of it is such a record. */
_Static_assert(offsetof(core_event, u) + sizeof(core_event_accepted) <= EVENT_CODEC_LEGACY_BYTES &&
                   sizeof(core_event) >= EVENT_CODEC_LEGACY_BYTES,
               "the format-4 struct");

static void legacy_round_trip(const core_event *ev) {
    uint8_t raw[EVENT_CODEC_LEGACY_BYTES];
    memcpy(raw, ev, sizeof raw);
    core_event out;
    CHECK_EQ_INT(event_codec_decode_legacy((uint16_t)ev->type, ev->seq, raw, sizeof raw, &out), 0);
    CHECK(memcmp(&out, ev, sizeof out) == 0);
    CHECK(event_codec_decode_legacy((uint16_t)ev->type, ev->seq + 1, raw, sizeof raw, &out) != 0);
    CHECK(event_codec_decode_legacy((uint16_t)(ev->type % CORE_EVENT_TYPE_MAX + 1), ev->seq, raw,
                                    sizeof raw, &out) != 0);
    CHECK(event_codec_decode_legacy((uint16_t)ev->type, ev->seq, raw, sizeof raw - 1, &out) != 0);
}

static void test_legacy(void) {
    core_event ev = event_of(CORE_EVENT_ORDER_ACCEPTED, 7, 99, INT64_MIN);
    core_event_accepted *a = &ev.u.accepted;
    a->account = UINT32_MAX;
    a->instrument = 3;
    a->direction = 2;
    a->type = 3;
    a->tif = 2;
    a->source = 3;
    a->key_is_uuid = 1;
    a->awaiting_replaced = 1;
    a->price_nano = INT64_MAX;
    a->reserve_price_nano = INT64_MIN;
    a->lots = 5;
    a->reserved_cash_nano = -1;
    a->reserved_units = 1;
    a->initial_commission_nano = INT64_MAX;
    strcpy(a->key, KEY_36);
    strcpy(a->request_id, UUID_LOWER);
    strcpy(a->intent_id, UUID_UPPER);
    a->replaces_order = UINT32_MAX;
    a->trades_reserved = 12;
    legacy_round_trip(&ev);
    /* A key without its terminator is refused. */
    uint8_t raw[EVENT_CODEC_LEGACY_BYTES];
    memcpy(raw, &ev, sizeof raw);
    memset(raw + 88, 'x', 37);
    core_event out;
    CHECK(event_codec_decode_legacy(CORE_EVENT_ORDER_ACCEPTED, 99, raw, sizeof raw, &out) != 0);
    memcpy(raw, &ev, sizeof raw);
    raw[32] = 0; /* direction */
    CHECK(event_codec_decode_legacy(CORE_EVENT_ORDER_ACCEPTED, 99, raw, sizeof raw, &out) != 0);

    ev = event_of(CORE_EVENT_ORDER_TRADE, 1, 2, 3);
    ev.u.trade = (core_event_trade){.trade_id = UINT64_MAX,
                                    .lots = INT64_MIN,
                                    .price_nano = INT64_MAX,
                                    .value_nano = -5,
                                    .commission_nano = 6,
                                    .aggressor = 1};
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_ORDER_ACKED, 1, 2, 3);
    ev.u.acked.exchange_order_id = UINT64_MAX;
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_ORDER_CANCELLED, 1, 2, 3);
    ev.u.cancelled.lots = INT64_MAX;
    ev.u.cancelled.cause = ORDER_CAUSE_CANCELLED_BY_CLIENT;
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_ORDER_REJECTED, 1, 2, 3);
    ev.u.rejected.cause = ORDER_CAUSE_REJECTED_BY_EXCHANGE;
    ev.u.rejected.reason = CORE_ERROR_COUNT - 1;
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_CASH_ADJUSTED, UINT32_MAX, 2, 3);
    ev.u.cash.account = 4;
    strcpy(ev.u.cash.currency, "abcdefg");
    ev.u.cash.amount_nano = INT64_MIN;
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_MARKET_MAKER_MOVED, UINT32_MAX, 2, 3);
    ev.u.market_maker.instrument = 8;
    ev.u.market_maker.reference_nano = INT64_MAX;
    for (int k = 0; k < 4; k++)
        ev.u.market_maker.random_state[k] = UINT64_MAX - (uint64_t)k;
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_ACCOUNT_OPENED, UINT32_MAX, 2, 3);
    ev.u.account_opened.account = 9;
    ev.u.account_opened.token = 1;
    strcpy(ev.u.account_opened.id, UUID_LOWER);
    strcpy(ev.u.account_opened.name, name_63());
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_ACCOUNT_CLOSED, UINT32_MAX, 2, 3);
    ev.u.account_closed.account = 9;
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_REPLACEMENT_ARMED, 5, 2, 3);
    ev.u.armed = (core_event_armed){.reserve_price_nano = 1,
                                    .reserved_cash_nano = INT64_MAX,
                                    .reserved_units = INT64_MIN,
                                    .initial_commission_nano = 0};
    legacy_round_trip(&ev);
    ev = event_of(CORE_EVENT_HISTORY_RETIRED, UINT32_MAX, 2, 3);
    ev.u.retired.count = 64;
    legacy_round_trip(&ev);
}

/* Favorites (events 21-24): each type round trips, the widest fits, a name one byte too long, a
 * NUL in it or a non-canonical length is refused, and random payloads of these types decode only
 * to what encodes back to the same bytes. */
static void test_favorites(void) {
    static const char *const GROUP = "0b7d1d4e-6a0d-4d3e-9d6e-3b0a4b1f2c3d";
    core_event ev = event_of(CORE_EVENT_FAVORITE_GROUP_CREATED, UINT32_MAX, 9, INT64_MIN);
    ev.u.favorite.user = UINT32_MAX;
    ev.u.favorite.instrument = UINT32_MAX;
    strcpy(ev.u.favorite.group_id, GROUP);
    strcpy(ev.u.favorite.color, "AbCdEf");
    static char name[FAVORITE_GROUP_NAME_SIZE - 1];
    memset(name, 0xD1, sizeof name);
    ev.u.favorite.name = name;
    ev.u.favorite.name_len = sizeof name;
    size_t widest = round_trip(&ev);
    /* The decoded name is borrowed from the payload, not copied; equal by its bytes. */
    {
        uint8_t bytes[EVENT_CODEC_MAX_BYTES];
        size_t n = event_codec_encode(&ev, bytes);
        core_event back;
        CHECK_EQ_INT(event_codec_decode((uint16_t)ev.type, ev.seq, bytes, n, &back), 0);
        CHECK(back.u.favorite.name == (const char *)bytes + n - sizeof name);
        CHECK(back.u.favorite.name_len == sizeof name);
        core_event other = ev;
        char changed[sizeof name];
        memcpy(changed, name, sizeof name);
        changed[100] = 'x';
        other.u.favorite.name = changed;
        CHECK(!event_codec_equal(&other, &back));
        other.u.favorite.name_len--;
        other.u.favorite.name = name;
        CHECK(!event_codec_equal(&other, &back));
        /* A NUL among the bytes cannot be encoded. */
        changed[100] = '\0';
        other = ev;
        other.u.favorite.name = changed;
        CHECK(!event_codec_valid(&other));
    }
    CHECK(widest > 255 && widest <= EVENT_CODEC_MAX_BYTES);
    /* The name's length is its last varint: two bytes (255) right before the name. */
    size_t name_at = widest - 255;
    refuse_changed(&ev, name_at - 2, 0x80, "a name of 256 bytes");
    refuse_changed(&ev, name_at + 7, 0, "a NUL in the name");
    /* The uuid of the group as plain text is not its canonical form. */
    uint32_t types[] = {CORE_EVENT_FAVORITE_GROUP_DELETED, CORE_EVENT_FAVORITE_ADDED,
                        CORE_EVENT_FAVORITE_REMOVED};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        core_event e = event_of(types[t], UINT32_MAX, 10 + t, 1700000000000000000LL);
        e.u.favorite.user = (uint32_t)t;
        e.u.favorite.instrument = 300;
        if (t != 1)
            strcpy(e.u.favorite.group_id, GROUP);
        CHECK(round_trip(&e) < 40);
    }
    uint64_t state[4];
    prng_seed(state, 0xfa7);
    uint32_t accepted = 0;
    for (uint32_t round = 0; round < 100000; round++) {
        uint8_t bytes[EVENT_CODEC_MAX_BYTES];
        uint16_t type = (uint16_t)(CORE_EVENT_FAVORITES_FIRST +
                                   prng_next(state) % (CORE_EVENT_FAVORITES_LAST -
                                                       CORE_EVENT_FAVORITES_FIRST + 1));
        size_t n = 9 + (size_t)(prng_next(state) % 40);
        for (size_t i = 0; i < n; i++)
            bytes[i] = (uint8_t)(prng_next(state) & (i >= 9 ? 0x0F : 0xFF));
        core_event out;
        if (event_codec_decode(type, 7, bytes, n, &out) != 0)
            continue;
        accepted++;
        uint8_t again[EVENT_CODEC_MAX_BYTES];
        CHECK(event_codec_encode(&out, again) == n && memcmp(again, bytes, n) == 0);
    }
    CHECK(accepted > 0);
}

/* Numbers of every length from 1 to 10 bytes, each at the start of a trade's fields (so that
 * more than eight bytes follow it) and at the end of a payload: each decodes to its value, and
 * its non-canonical forms (a redundant zero group, a tenth byte above 1) are refused wherever
 * they stand. */
static void test_varint_lengths(void) {
    for (unsigned bits = 0; bits <= 64; bits++) {
        uint64_t value = bits == 64 ? UINT64_MAX : bits == 0 ? 0 : (1ULL << bits) - 1;
        for (int variant = 0; variant < 3; variant++) {
            uint64_t v = variant == 0   ? value
                         : variant == 1 ? value + 1
                                        : value ^ 0x5555555555555555ULL;
            core_event ev = event_of(CORE_EVENT_ORDER_TRADE, 3, 4, 5);
            ev.u.trade = (core_event_trade){.trade_id = v,
                                            .lots = 1,
                                            .price_nano = 2,
                                            .value_nano = 3,
                                            .commission_nano = 4,
                                            .aggressor = 1};
            round_trip(&ev);
            ev = event_of(CORE_EVENT_ORDER_ACKED, 3, 4, 5);
            ev.u.acked.exchange_order_id = v;
            round_trip(&ev);
        }
    }
    /* The trade id 1 written with a redundant zero group of 1 to 8 bytes, then the rest. */
    for (int extra = 1; extra <= 8; extra++) {
        uint8_t bytes[64];
        size_t n = 0;
        bytes[n++] = 4; /* slot 3 */
        for (int i = 0; i < 8; i++)
            bytes[n++] = (uint8_t)i;
        bytes[n++] = 0x81;
        for (int i = 1; i < extra; i++)
            bytes[n++] = 0x80;
        bytes[n++] = 0x00;
        const uint8_t rest[] = {2, 4, 6, 8, 1};
        memcpy(bytes + n, rest, sizeof rest);
        n += sizeof rest;
        core_event out;
        CHECK(event_codec_decode(CORE_EVENT_ORDER_TRADE, 4, bytes, n, &out) != 0);
        /* The same with the zero group replaced by a 1: canonical, and read whole. */
        bytes[9 + extra] = 0x01;
        CHECK_EQ_INT(event_codec_decode(CORE_EVENT_ORDER_TRADE, 4, bytes, n, &out), 0);
        CHECK(out.u.trade.trade_id == 1 + (1ULL << (7 * extra)));
        CHECK(out.u.trade.lots == 1 && out.u.trade.commission_nano == 4);
    }
}

int main(void) {
    test_varint_lengths();
    test_favorites();
    test_accepted();
    test_typical_sizes();
    test_other_types();
    test_refusals();
    test_halt_refusals();
    test_garbage();
    test_legacy();
    return check_finish("core_event_codec");
}
