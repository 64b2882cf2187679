#include "core/event_codec.h"

#include <assert.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/types.h"
#include "util/le.h"

/* Text forms: a length byte (0 .. the array's size - 1) and that many bytes, or one of these. */
#define TEXT_UUID 0xFF        /* 16 bytes: a canonical lower-case UUID */
#define TEXT_SAME_AS_KEY 0xFE /* ORDER_ACCEPTED's request_id: the order's key again */
#define UUID_BYTES 16
#define UUID_TEXT_CHARS 36

/* ORDER_ACCEPTED's flags. */
#define FLAG_KEY_IS_UUID 0x01
#define FLAG_AWAITING_REPLACED 0x02
/* ORDER_SOURCE_MARGIN_CALL, which the terms byte's two bits of source do not hold: written as
 * source 0 with this flag. */
#define FLAG_MARGIN_CALL 0x04

/* ---- Domains --------------------------------------------------------------------------------- */

static bool cause_valid(unsigned cause) {
    return cause == ORDER_CAUSE_NONE || cause == ORDER_CAUSE_CANCELLED_BY_EXCHANGE ||
           cause == ORDER_CAUSE_REJECTED_BY_BROKER || cause == ORDER_CAUSE_REJECTED_BY_EXCHANGE ||
           cause == ORDER_CAUSE_CANCELLED_BY_CLIENT;
}

/* Direction 1..2; type, time in force and source 1..3: two bits each in the terms byte. */
static bool terms_valid(const core_event_accepted *a) {
    return a->direction >= DIRECTION_BUY && a->direction <= DIRECTION_SELL &&
           a->type >= ORDER_TYPE_LIMIT && a->type <= ORDER_TYPE_BESTPRICE && a->tif >= TIF_DAY &&
           a->tif <= TIF_FILL_OR_KILL && a->source >= ORDER_SOURCE_SYNC &&
           a->source <= ORDER_SOURCE_MARGIN_CALL;
}

static bool terminated(const char *text, size_t size) {
    return memchr(text, '\0', size) != NULL;
}

bool event_codec_valid(const core_event *ev) {
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACCEPTED: {
        const core_event_accepted *a = &ev->u.accepted;
        return terms_valid(a) && a->key_is_uuid <= 1 && a->awaiting_replaced <= 1 &&
               terminated(a->key, sizeof a->key) &&
               terminated(a->request_id, sizeof a->request_id) &&
               terminated(a->intent_id, sizeof a->intent_id);
    }
    case CORE_EVENT_ORDER_TRADE:
        return ev->u.trade.aggressor <= 1;
    case CORE_EVENT_ORDER_CANCELLED:
        return cause_valid(ev->u.cancelled.cause);
    case CORE_EVENT_ORDER_REJECTED:
        return cause_valid(ev->u.rejected.cause) && ev->u.rejected.reason >= 0 &&
               ev->u.rejected.reason < CORE_ERROR_COUNT;
    case CORE_EVENT_CASH_ADJUSTED:
        return terminated(ev->u.cash.currency, sizeof ev->u.cash.currency);
    case CORE_EVENT_ACCOUNT_OPENED:
        return terminated(ev->u.account_opened.id, sizeof ev->u.account_opened.id) &&
               terminated(ev->u.account_opened.name, sizeof ev->u.account_opened.name);
    case CORE_EVENT_CURRENCY_TRANSFER:
        return terminated(ev->u.transfer.currency, sizeof ev->u.transfer.currency) &&
               terminated(ev->u.transfer.transaction_id, sizeof ev->u.transfer.transaction_id);
    case CORE_EVENT_ORDER_ACKED:
    case CORE_EVENT_MARKET_MAKER_MOVED:
    case CORE_EVENT_ACCOUNT_CLOSED:
    case CORE_EVENT_REPLACEMENT_ARMED:
    case CORE_EVENT_HISTORY_RETIRED:
        return true;
    case CORE_EVENT_MARKET_PRINT:
        return ev->u.market_print.buy <= 1;
    case CORE_EVENT_TRADING_HALT:
        return ev->u.halt.halted <= 1;
    case CORE_EVENT_MARGIN_FEE:
        return terminated(ev->u.margin_fee.currency, sizeof ev->u.margin_fee.currency);
    case CORE_EVENT_FUTURES_CLEARING:
        return true;
    case CORE_EVENT_STOP_ORDER_PLACED: {
        const core_event_stop_placed *p = &ev->u.stop_placed;
        return p->direction <= 3 && p->type <= 3 && p->take_profit_type <= 3 &&
               p->child_type <= 3 && p->expiration <= 3 && p->indent_type <= 3 &&
               p->spread_type <= 3 && terminated(p->key, sizeof p->key) &&
               terminated(p->id, sizeof p->id);
    }
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
        return ev->u.stop.reason >= 0 && ev->u.stop.reason < CORE_ERROR_COUNT;
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        return true;
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED: {
        const core_event_favorite *f = &ev->u.favorite;
        return terminated(f->group_id, sizeof f->group_id) &&
               terminated(f->color, sizeof f->color) && f->name_len < FAVORITE_GROUP_NAME_SIZE &&
               (f->name_len == 0 ||
                (f->name != NULL && memchr(f->name, '\0', f->name_len) == NULL));
    }
    }
    return false;
}

/* ---- Writing --------------------------------------------------------------------------------- */

static uint8_t *put_varint(uint8_t *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Zigzag: 0, -1, 1, -2, ... become 0, 1, 2, 3, ..., so small magnitudes of either sign are short.
 */
static uint8_t *put_signed(uint8_t *p, int64_t v) {
    uint64_t u = (uint64_t)v << 1;
    return put_varint(p, v < 0 ? ~u : u);
}

static uint8_t *put_u64(uint8_t *p, uint64_t v) {
    le_put_u64(p, v);
    return p + 8;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Where each of a UUID's 16 bytes stands in its text: two hex digits, with dashes at 8, 13, 18
 * and 23. */
static const uint8_t UUID_BYTE_AT[UUID_BYTES] = {0,  2,  4,  6,  9,  11, 14, 16,
                                                 19, 21, 24, 26, 28, 30, 32, 34};

/* The 16 bytes of a canonical lower-case UUID text; false for any other text. */
static bool uuid_bytes(const char *text, size_t len, uint8_t out[UUID_BYTES]) {
    if (len != UUID_TEXT_CHARS || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
        text[23] != '-')
        return false;
    for (size_t i = 0; i < UUID_BYTES; i++) {
        int hi = hex_value(text[UUID_BYTE_AT[i]]), lo = hex_value(text[UUID_BYTE_AT[i] + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

#if defined(__SSE2__)
/* The 16 bytes as 32 lower-case hex digits with SSE2 (every x86-64 has it): each byte's nibbles
 * are spread to two lanes, high nibble first, and the lanes of 10 or more are moved on to the
 * letters; then the dashes are put between the groups. About a fifth of the instructions of the
 * word-at-a-time form below, and replay formats a UUID for every order accepted. */
static void uuid_text(const uint8_t bytes[UUID_BYTES], char *out) {
    const __m128i low_nibbles = _mm_set1_epi8(0x0F);
    __m128i in = _mm_loadu_si128((const __m128i *)bytes);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(in, 4), low_nibbles);
    __m128i lo = _mm_and_si128(in, low_nibbles);
    __m128i first = _mm_unpacklo_epi8(hi, lo), second = _mm_unpackhi_epi8(hi, lo);
    const __m128i nine = _mm_set1_epi8(9), digit = _mm_set1_epi8('0'),
                  to_letter = _mm_set1_epi8('a' - '0' - 10);
    first = _mm_add_epi8(_mm_add_epi8(first, digit),
                         _mm_and_si128(_mm_cmpgt_epi8(first, nine), to_letter));
    second = _mm_add_epi8(_mm_add_epi8(second, digit),
                          _mm_and_si128(_mm_cmpgt_epi8(second, nine), to_letter));
    char hex[32];
    _mm_storeu_si128((__m128i *)hex, first);
    _mm_storeu_si128((__m128i *)(hex + 16), second);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
}
#elif __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Four bytes as eight lower-case hex digits, in one 64-bit word: each byte goes to a 16-bit lane,
 * its high nibble to the lane's first character and its low nibble to the second, and every
 * nibble of 10 or more is moved on to the letters. */
static uint64_t hex8(const uint8_t b[4]) {
    uint64_t x =
        (uint64_t)b[0] | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 32 | (uint64_t)b[3] << 48;
    x = (x & 0x000F000F000F000FULL) << 8 | (x & 0x00F000F000F000F0ULL) >> 4;
    uint64_t letters = ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
    return x + 0x3030303030303030ULL + letters * ('a' - '0' - 10);
}

static void uuid_text(const uint8_t bytes[UUID_BYTES], char *out) {
    uint64_t a = hex8(bytes), b = hex8(bytes + 4), c = hex8(bytes + 8), d = hex8(bytes + 12);
    memcpy(out, &a, 8);
    out[8] = '-';
    memcpy(out + 9, &b, 4);
    out[13] = '-';
    memcpy(out + 14, (const char *)&b + 4, 4);
    out[18] = '-';
    memcpy(out + 19, &c, 4);
    out[23] = '-';
    memcpy(out + 24, (const char *)&c + 4, 4);
    memcpy(out + 28, &d, 8);
}
#else
static void uuid_text(const uint8_t bytes[UUID_BYTES], char *out) {
    static const char hex[] = "0123456789abcdef";
    out[8] = out[13] = out[18] = out[23] = '-';
    for (size_t i = 0; i < UUID_BYTES; i++) {
        out[UUID_BYTE_AT[i]] = hex[bytes[i] >> 4];
        out[UUID_BYTE_AT[i] + 1] = hex[bytes[i] & 0xF];
    }
}
#endif

static uint8_t *put_text(uint8_t *p, const char *text, size_t size) {
    size_t len = strnlen(text, size);
    assert(len < size && len < TEXT_SAME_AS_KEY);
    uint8_t uuid[UUID_BYTES];
    if (uuid_bytes(text, len, uuid)) {
        *p++ = TEXT_UUID;
        memcpy(p, uuid, sizeof uuid);
        return p + sizeof uuid;
    }
    *p++ = (uint8_t)len;
    memcpy(p, text, len);
    return p + len;
}

/* A long text (a favorite group's name): its length as a varint, then its bytes, whatever they
 * are (a name that reads as a UUID stays text). */
static uint8_t *put_long_text(uint8_t *p, const char *text, size_t len) {
    p = put_varint(p, len);
    if (len > 0)
        memcpy(p, text, len);
    return p + len;
}

static uint8_t *put_favorite(uint8_t *p, const core_event_favorite *f) {
    p = put_varint(p, f->user);
    p = put_varint(p, f->instrument);
    p = put_text(p, f->group_id, sizeof f->group_id);
    p = put_text(p, f->color, sizeof f->color);
    return put_long_text(p, f->name, f->name_len);
}

/* CORE_NO_ORDER (UINT32_MAX) is written as 0, slot n as n + 1: one byte for "none". */
static uint8_t *put_slot(uint8_t *p, uint32_t slot) {
    return put_varint(p, (uint32_t)(slot + 1));
}

static uint8_t *put_accepted(uint8_t *p, const core_event_accepted *a) {
    p = put_varint(p, a->account);
    p = put_varint(p, a->instrument);
    bool margin_call = a->source == ORDER_SOURCE_MARGIN_CALL;
    *p++ =
        (uint8_t)(a->direction | a->type << 2 | a->tif << 4 | (margin_call ? 0 : a->source) << 6);
    *p++ = (uint8_t)((a->key_is_uuid ? FLAG_KEY_IS_UUID : 0) |
                     (a->awaiting_replaced ? FLAG_AWAITING_REPLACED : 0) |
                     (margin_call ? FLAG_MARGIN_CALL : 0));
    p = put_signed(p, a->price_nano);
    p = put_signed(p, a->reserve_price_nano);
    p = put_signed(p, a->lots);
    p = put_signed(p, a->reserved_cash_nano);
    p = put_signed(p, a->reserved_units);
    p = put_signed(p, a->initial_commission_nano);
    p = put_text(p, a->key, sizeof a->key);
    if (strcmp(a->request_id, a->key) == 0)
        *p++ = TEXT_SAME_AS_KEY;
    else
        p = put_text(p, a->request_id, sizeof a->request_id);
    p = put_text(p, a->intent_id, sizeof a->intent_id);
    p = put_slot(p, a->replaces_order);
    return put_varint(p, a->trades_reserved);
}

/* Stop orders: two bits for each enumeration, in two bytes. */
static uint8_t *put_stop_placed(uint8_t *p, const core_event_stop_placed *s) {
    p = put_slot(p, s->stop);
    p = put_varint(p, s->account);
    p = put_varint(p, s->instrument);
    *p++ = (uint8_t)(s->direction | s->type << 2 | s->take_profit_type << 4 | s->child_type << 6);
    *p++ = (uint8_t)(s->expiration | s->indent_type << 2 | s->spread_type << 4);
    p = put_signed(p, s->lots);
    p = put_signed(p, s->price_nano);
    p = put_signed(p, s->stop_price_nano);
    p = put_signed(p, s->expire_ns);
    p = put_signed(p, s->indent_nano);
    p = put_signed(p, s->spread_nano);
    p = put_text(p, s->id, sizeof s->id);
    if (strcmp(s->key, s->id) == 0)
        *p++ = TEXT_SAME_AS_KEY;
    else
        p = put_text(p, s->key, sizeof s->key);
    return p;
}

static uint8_t *put_stop_changed(uint8_t *p, const core_event_stop_changed *s) {
    p = put_slot(p, s->stop);
    p = put_slot(p, s->child);
    p = put_varint(p, (uint32_t)s->reason);
    p = put_varint(p, s->count);
    return put_signed(p, s->price_nano);
}

size_t event_codec_encode(const core_event *ev, uint8_t out[EVENT_CODEC_MAX_BYTES]) {
    assert(event_codec_valid(ev));
    uint8_t *p = put_slot(out, ev->order);
    p = put_u64(p, (uint64_t)ev->time_ns);
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACCEPTED:
        p = put_accepted(p, &ev->u.accepted);
        break;
    case CORE_EVENT_ORDER_ACKED:
        p = put_varint(p, ev->u.acked.exchange_order_id);
        break;
    case CORE_EVENT_ORDER_TRADE: {
        const core_event_trade *t = &ev->u.trade;
        p = put_varint(p, t->trade_id);
        p = put_signed(p, t->lots);
        p = put_signed(p, t->price_nano);
        p = put_signed(p, t->value_nano);
        p = put_signed(p, t->commission_nano);
        *p++ = t->aggressor;
        break;
    }
    case CORE_EVENT_ORDER_CANCELLED:
        p = put_signed(p, ev->u.cancelled.lots);
        *p++ = ev->u.cancelled.cause;
        break;
    case CORE_EVENT_ORDER_REJECTED:
        *p++ = ev->u.rejected.cause;
        p = put_varint(p, (uint32_t)ev->u.rejected.reason);
        break;
    case CORE_EVENT_CASH_ADJUSTED:
        p = put_varint(p, ev->u.cash.account);
        p = put_text(p, ev->u.cash.currency, sizeof ev->u.cash.currency);
        p = put_signed(p, ev->u.cash.amount_nano);
        break;
    case CORE_EVENT_MARKET_MAKER_MOVED: {
        const core_event_market_maker *m = &ev->u.market_maker;
        p = put_varint(p, m->instrument);
        p = put_signed(p, m->reference_nano);
        for (int i = 0; i < 4; i++)
            p = put_u64(p, m->random_state[i]);
        break;
    }
    case CORE_EVENT_MARKET_PRINT: {
        const core_event_market_print *m = &ev->u.market_print;
        p = put_varint(p, m->instrument);
        p = put_varint(p, m->trade_id);
        p = put_signed(p, m->price_nano);
        p = put_signed(p, m->lots);
        *p++ = m->buy;
        break;
    }
    case CORE_EVENT_TRADING_HALT:
        p = put_varint(p, ev->u.halt.instrument);
        *p++ = ev->u.halt.halted;
        break;
    case CORE_EVENT_FUTURES_CLEARING:
        p = put_varint(p, ev->u.clearing.instrument);
        p = put_signed(p, ev->u.clearing.price_nano);
        p = put_signed(p, ev->u.clearing.clearing_ns);
        break;
    case CORE_EVENT_MARGIN_FEE:
        p = put_varint(p, ev->u.margin_fee.account);
        p = put_slot(p, ev->u.margin_fee.instrument);
        p = put_text(p, ev->u.margin_fee.currency, sizeof ev->u.margin_fee.currency);
        p = put_signed(p, ev->u.margin_fee.amount_nano);
        p = put_signed(p, ev->u.margin_fee.clearing_ns);
        break;
    case CORE_EVENT_ACCOUNT_OPENED: {
        const core_event_account_opened *o = &ev->u.account_opened;
        p = put_varint(p, o->account);
        p = put_varint(p, o->token);
        p = put_text(p, o->id, sizeof o->id);
        p = put_text(p, o->name, sizeof o->name);
        break;
    }
    case CORE_EVENT_ACCOUNT_CLOSED:
        p = put_varint(p, ev->u.account_closed.account);
        break;
    case CORE_EVENT_REPLACEMENT_ARMED: {
        const core_event_armed *a = &ev->u.armed;
        p = put_signed(p, a->reserve_price_nano);
        p = put_signed(p, a->reserved_cash_nano);
        p = put_signed(p, a->reserved_units);
        p = put_signed(p, a->initial_commission_nano);
        break;
    }
    case CORE_EVENT_HISTORY_RETIRED:
        p = put_varint(p, ev->u.retired.count);
        break;
    case CORE_EVENT_STOP_ORDER_PLACED:
        p = put_stop_placed(p, &ev->u.stop_placed);
        break;
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        p = put_stop_changed(p, &ev->u.stop);
        break;
    case CORE_EVENT_CURRENCY_TRANSFER: {
        const core_event_transfer *t = &ev->u.transfer;
        p = put_varint(p, t->from);
        p = put_varint(p, t->to);
        p = put_text(p, t->currency, sizeof t->currency);
        p = put_signed(p, t->amount_nano);
        p = put_text(p, t->transaction_id, sizeof t->transaction_id);
        break;
    }
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED:
        p = put_favorite(p, &ev->u.favorite);
        break;
    }
    size_t length = (size_t)(p - out);
    assert(length <= EVENT_CODEC_MAX_BYTES);
    return length;
}

/* ---- Reading --------------------------------------------------------------------------------- */

/* A cursor over a payload; `ok` turns false at the first thing that does not fit, and every read
 * after that returns zero. The readers are forced inline so that the cursor lives in registers
 * through a whole decode (replay decodes millions of events a second). */
#define READER_INLINE static inline __attribute__((always_inline))
typedef struct reader {
    const uint8_t *p, *end;
    bool ok;
} reader;

READER_INLINE uint8_t get_byte(reader *r) {
    if (r->p == r->end) {
        r->ok = false;
        return 0;
    }
    return *r->p++;
}

/* A canonical LEB128 number: at most 10 bytes, the tenth holding only bit 63, and no redundant
 * zero group at the end (so each value has one encoding). */
READER_INLINE uint64_t get_varint_long(reader *r) {
    const uint8_t *p = r->p;
    size_t limit = (size_t)(r->end - p) < 10 ? (size_t)(r->end - p) : 10;
    uint64_t v = 0;
    for (size_t i = 0; i < limit; i++) {
        uint8_t b = p[i];
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (b < 0x80) {
            if ((b == 0 && i > 0) || (i == 9 && b > 1))
                break;
            r->p = p + i + 1;
            return v;
        }
    }
    r->ok = false;
    r->p = r->end;
    return 0;
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* A number of 2 to 8 bytes read as one word (prices and amounts take 5 to 7): the first byte
 * without its continuation bit ends it, the 7-bit groups are packed together in three steps, and
 * the same checks hold as get_varint_long's (the last byte is not a redundant zero group). Needs
 * 8 readable bytes; false leaves the reader as it was, for get_varint_long. */
READER_INLINE bool get_varint_word(reader *r, uint64_t *out) {
    uint64_t w;
    memcpy(&w, r->p, sizeof w);
    uint64_t stops = ~w & 0x8080808080808080ULL;
    if (stops == 0)
        return false;                                     /* 9 or 10 bytes */
    unsigned bits = (unsigned)__builtin_ctzll(stops) + 1; /* through the last byte's top bit */
    if (bits < 64)
        w &= (1ULL << bits) - 1;
    if ((w >> (bits - 8)) == 0 && bits > 8)
        return false; /* a redundant zero group: get_varint_long refuses it */
    w = (w & 0x007F007F007F007FULL) | ((w & 0x7F007F007F007F00ULL) >> 1);
    w = (w & 0x00003FFF00003FFFULL) | ((w & 0x3FFF00003FFF0000ULL) >> 2);
    w = (w & 0x000000000FFFFFFFULL) | ((w & 0x0FFFFFFF00000000ULL) >> 4);
    r->p += bits / 8;
    *out = w;
    return true;
}
#endif

/* Most numbers of an event (slots, accounts, lots, flags of size) fit one byte. */
READER_INLINE uint64_t get_varint(reader *r) {
    if (r->p < r->end && *r->p < 0x80)
        return *r->p++;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    if (r->end - r->p >= 8 && get_varint_word(r, &v))
        return v;
#endif
    return get_varint_long(r);
}

READER_INLINE uint32_t get_u32_varint(reader *r) {
    uint64_t v = get_varint(r);
    if (v > UINT32_MAX)
        r->ok = false;
    return r->ok ? (uint32_t)v : 0;
}

READER_INLINE int64_t get_signed(reader *r) {
    uint64_t u = get_varint(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

READER_INLINE uint64_t get_u64(reader *r) {
    if (r->end - r->p < 8) {
        r->ok = false;
        r->p = r->end;
        return 0;
    }
    uint64_t v;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, r->p, sizeof v);
#else
    v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | r->p[i];
#endif
    r->p += 8;
    return v;
}

READER_INLINE uint32_t get_slot(reader *r) {
    return get_u32_varint(r) - 1; /* 0 is CORE_NO_ORDER (UINT32_MAX) */
}

/* A text into an array of `size` bytes (zero-filled by the caller): it must fit with its
 * terminator and hold no NUL, and a canonical lower-case UUID must come in its 16-byte form (so
 * that every text has one encoding). */
READER_INLINE void get_text(reader *r, char *out, size_t size) {
    uint8_t form = get_byte(r);
    if (!r->ok)
        return;
    if (form == TEXT_UUID) {
        if (size <= UUID_TEXT_CHARS || r->end - r->p < UUID_BYTES) {
            r->ok = false;
            return;
        }
        uuid_text(r->p, out);
        r->p += UUID_BYTES;
        return;
    }
    uint8_t uuid[UUID_BYTES];
    if (form >= size || r->end - r->p < form || memchr(r->p, '\0', form) != NULL ||
        uuid_bytes((const char *)r->p, form, uuid)) {
        r->ok = false;
        return;
    }
    memcpy(out, r->p, form);
    r->p += form;
}

/* A long text, shorter than `size` bytes and without a NUL, left where it is: `*out` points into
 * the payload (NULL for an empty text) and `*out_len` counts its bytes. */
static void get_long_text(reader *r, const char **out, uint16_t *out_len, size_t size) {
    uint64_t len = get_varint(r);
    if (!r->ok || len >= size || (uint64_t)(r->end - r->p) < len ||
        memchr(r->p, '\0', (size_t)len) != NULL) {
        r->ok = false;
        return;
    }
    *out = len > 0 ? (const char *)r->p : NULL;
    *out_len = (uint16_t)len;
    r->p += len;
}

static void get_favorite(reader *r, core_event_favorite *f) {
    f->user = get_u32_varint(r);
    f->instrument = get_u32_varint(r);
    get_text(r, f->group_id, sizeof f->group_id);
    get_text(r, f->color, sizeof f->color);
    get_long_text(r, &f->name, &f->name_len, FAVORITE_GROUP_NAME_SIZE);
}

READER_INLINE void get_accepted(reader *r, core_event_accepted *a) {
    a->account = get_u32_varint(r);
    a->instrument = get_u32_varint(r);
    uint8_t terms = get_byte(r);
    a->direction = terms & 3;
    a->type = terms >> 2 & 3;
    a->tif = terms >> 4 & 3;
    a->source = terms >> 6 & 3;
    uint8_t flags = get_byte(r);
    if ((flags & FLAG_MARGIN_CALL) != 0) {
        if (a->source != 0)
            r->ok = false;
        a->source = ORDER_SOURCE_MARGIN_CALL;
    }
    if ((flags & ~(FLAG_KEY_IS_UUID | FLAG_AWAITING_REPLACED | FLAG_MARGIN_CALL)) != 0 ||
        !terms_valid(a))
        r->ok = false;
    a->key_is_uuid = (flags & FLAG_KEY_IS_UUID) != 0;
    a->awaiting_replaced = (flags & FLAG_AWAITING_REPLACED) != 0;
    a->price_nano = get_signed(r);
    a->reserve_price_nano = get_signed(r);
    a->lots = get_signed(r);
    a->reserved_cash_nano = get_signed(r);
    a->reserved_units = get_signed(r);
    a->initial_commission_nano = get_signed(r);
    get_text(r, a->key, sizeof a->key);
    if (r->ok && r->p < r->end && *r->p == TEXT_SAME_AS_KEY) {
        r->p++;
        memcpy(a->request_id, a->key, sizeof a->request_id);
    } else {
        get_text(r, a->request_id, sizeof a->request_id);
        if (strcmp(a->request_id, a->key) == 0)
            r->ok = false; /* written as "the key again" */
    }
    get_text(r, a->intent_id, sizeof a->intent_id);
    a->replaces_order = get_slot(r);
    a->trades_reserved = get_u32_varint(r);
}

READER_INLINE void get_stop_placed(reader *r, core_event_stop_placed *s) {
    s->stop = get_slot(r);
    s->account = get_u32_varint(r);
    s->instrument = get_u32_varint(r);
    uint8_t a = get_byte(r), b = get_byte(r);
    s->direction = a & 3;
    s->type = a >> 2 & 3;
    s->take_profit_type = a >> 4 & 3;
    s->child_type = a >> 6 & 3;
    s->expiration = b & 3;
    s->indent_type = b >> 2 & 3;
    s->spread_type = b >> 4 & 3;
    if (b >> 6 != 0)
        r->ok = false;
    s->lots = get_signed(r);
    s->price_nano = get_signed(r);
    s->stop_price_nano = get_signed(r);
    s->expire_ns = get_signed(r);
    s->indent_nano = get_signed(r);
    s->spread_nano = get_signed(r);
    get_text(r, s->id, sizeof s->id);
    if (r->ok && r->p < r->end && *r->p == TEXT_SAME_AS_KEY) {
        r->p++;
        memcpy(s->key, s->id, sizeof s->key);
    } else {
        get_text(r, s->key, sizeof s->key);
        if (strcmp(s->key, s->id) == 0)
            r->ok = false; /* written as "the id again" */
    }
}

READER_INLINE void get_stop_changed(reader *r, core_event_stop_changed *s) {
    s->stop = get_slot(r);
    s->child = get_slot(r);
    uint32_t reason = get_u32_varint(r);
    if (reason >= CORE_ERROR_COUNT)
        r->ok = false;
    s->reason = r->ok ? (int32_t)reason : 0;
    s->count = get_u32_varint(r);
    s->price_nano = get_signed(r);
}

READER_INLINE void get_body(reader *r, core_event *ev) {
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACCEPTED:
        get_accepted(r, &ev->u.accepted);
        break;
    case CORE_EVENT_ORDER_ACKED:
        ev->u.acked.exchange_order_id = get_varint(r);
        break;
    case CORE_EVENT_ORDER_TRADE: {
        core_event_trade *t = &ev->u.trade;
        t->trade_id = get_varint(r);
        t->lots = get_signed(r);
        t->price_nano = get_signed(r);
        t->value_nano = get_signed(r);
        t->commission_nano = get_signed(r);
        t->aggressor = get_byte(r);
        if (t->aggressor > 1)
            r->ok = false;
        break;
    }
    case CORE_EVENT_ORDER_CANCELLED:
        ev->u.cancelled.lots = get_signed(r);
        ev->u.cancelled.cause = get_byte(r);
        if (!cause_valid(ev->u.cancelled.cause))
            r->ok = false;
        break;
    case CORE_EVENT_ORDER_REJECTED: {
        ev->u.rejected.cause = get_byte(r);
        uint32_t reason = get_u32_varint(r);
        if (reason >= CORE_ERROR_COUNT || !cause_valid(ev->u.rejected.cause))
            r->ok = false;
        ev->u.rejected.reason = r->ok ? (int32_t)reason : 0;
        break;
    }
    case CORE_EVENT_CASH_ADJUSTED:
        ev->u.cash.account = get_u32_varint(r);
        get_text(r, ev->u.cash.currency, sizeof ev->u.cash.currency);
        ev->u.cash.amount_nano = get_signed(r);
        break;
    case CORE_EVENT_MARKET_MAKER_MOVED: {
        core_event_market_maker *m = &ev->u.market_maker;
        m->instrument = get_u32_varint(r);
        m->reference_nano = get_signed(r);
        for (int i = 0; i < 4; i++)
            m->random_state[i] = get_u64(r);
        break;
    }
    case CORE_EVENT_MARKET_PRINT: {
        core_event_market_print *m = &ev->u.market_print;
        m->instrument = get_u32_varint(r);
        m->trade_id = get_varint(r);
        m->price_nano = get_signed(r);
        m->lots = get_signed(r);
        m->buy = get_byte(r);
        if (m->buy > 1)
            r->ok = false;
        break;
    }
    case CORE_EVENT_TRADING_HALT:
        ev->u.halt.instrument = get_u32_varint(r);
        ev->u.halt.halted = get_byte(r);
        if (ev->u.halt.halted > 1)
            r->ok = false;
        break;
    case CORE_EVENT_FUTURES_CLEARING:
        ev->u.clearing.instrument = get_u32_varint(r);
        ev->u.clearing.price_nano = get_signed(r);
        ev->u.clearing.clearing_ns = get_signed(r);
        break;
    case CORE_EVENT_MARGIN_FEE:
        ev->u.margin_fee.account = get_u32_varint(r);
        ev->u.margin_fee.instrument = get_slot(r);
        get_text(r, ev->u.margin_fee.currency, sizeof ev->u.margin_fee.currency);
        ev->u.margin_fee.amount_nano = get_signed(r);
        ev->u.margin_fee.clearing_ns = get_signed(r);
        break;
    case CORE_EVENT_ACCOUNT_OPENED: {
        core_event_account_opened *o = &ev->u.account_opened;
        o->account = get_u32_varint(r);
        o->token = get_u32_varint(r);
        get_text(r, o->id, sizeof o->id);
        get_text(r, o->name, sizeof o->name);
        break;
    }
    case CORE_EVENT_ACCOUNT_CLOSED:
        ev->u.account_closed.account = get_u32_varint(r);
        break;
    case CORE_EVENT_REPLACEMENT_ARMED: {
        core_event_armed *a = &ev->u.armed;
        a->reserve_price_nano = get_signed(r);
        a->reserved_cash_nano = get_signed(r);
        a->reserved_units = get_signed(r);
        a->initial_commission_nano = get_signed(r);
        break;
    }
    case CORE_EVENT_HISTORY_RETIRED:
        ev->u.retired.count = get_u32_varint(r);
        break;
    case CORE_EVENT_STOP_ORDER_PLACED:
        get_stop_placed(r, &ev->u.stop_placed);
        break;
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        get_stop_changed(r, &ev->u.stop);
        break;
    case CORE_EVENT_CURRENCY_TRANSFER: {
        core_event_transfer *t = &ev->u.transfer;
        t->from = get_u32_varint(r);
        t->to = get_u32_varint(r);
        get_text(r, t->currency, sizeof t->currency);
        t->amount_nano = get_signed(r);
        get_text(r, t->transaction_id, sizeof t->transaction_id);
        break;
    }
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED:
        get_favorite(r, &ev->u.favorite);
        break;
    default:
        r->ok = false;
    }
}

/* Copied rather than memset: the compiler writes a copy of a known size with vector stores, a
 * memset of it with a string instruction that costs more than the rest of a short decode. */
static const core_event BLANK_EVENT;

int event_codec_decode(uint16_t type, uint64_t seq, const uint8_t *bytes, size_t length,
                       core_event *out) {
    *out = BLANK_EVENT;
    if (!core_event_type_known(type) || length > EVENT_CODEC_MAX_BYTES)
        return -1;
    reader r = {.p = bytes, .end = bytes + length, .ok = true};
    out->type = type;
    out->seq = seq;
    out->order = get_slot(&r);
    out->time_ns = (int64_t)get_u64(&r);
    get_body(&r, out);
    /* Every byte is the event's, and every field within its domain (checked as it was read:
     * enumerations and flags, texts within their arrays and without a NUL). */
    if (!r.ok || r.p != r.end) {
        *out = BLANK_EVENT;
        return -1;
    }
    return 0;
}

bool event_codec_equal(const core_event *a, const core_event *b) {
    if (!core_event_borrows_text(a) && !core_event_borrows_text(b))
        return memcmp(a, b, sizeof *a) == 0;
    if (!core_event_borrows_text(a) || !core_event_borrows_text(b) ||
        a->u.favorite.name_len != b->u.favorite.name_len ||
        memcmp(a->u.favorite.name, b->u.favorite.name, a->u.favorite.name_len) != 0)
        return false;
    core_event x = *a, y = *b;
    x.u.favorite.name = y.u.favorite.name = NULL;
    return memcmp(&x, &y, sizeof x) == 0;
}

/* ---- Formats 3 and 4: the raw struct ---------------------------------------------------------
 *
 * Offsets of the x86-64 layout of core_event as formats 3 and 4 wrote it (little endian, the
 * compiler's padding between fields). Written out here rather than taken from the struct, so the
 * struct may change without changing how old records read. */

enum {
    V4_TYPE = 0,
    V4_ORDER = 4,
    V4_SEQ = 8,
    V4_TIME = 16,
    V4_BODY = 24,
};

/* A fixed-size text array: it must hold its terminator; the bytes after it are not copied. */
static bool legacy_text(const uint8_t *p, size_t size, char *out) {
    const uint8_t *nul = memchr(p, '\0', size);
    if (nul == NULL)
        return false;
    memcpy(out, p, (size_t)(nul - p));
    return true;
}

static bool legacy_accepted(const uint8_t *b, core_event_accepted *a) {
    a->account = le_get_u32(b + 0);
    a->instrument = le_get_u32(b + 4);
    a->direction = b[8];
    a->type = b[9];
    a->tif = b[10];
    a->source = b[11];
    a->key_is_uuid = b[12];
    a->awaiting_replaced = b[13];
    a->price_nano = (int64_t)le_get_u64(b + 16);
    a->reserve_price_nano = (int64_t)le_get_u64(b + 24);
    a->lots = (int64_t)le_get_u64(b + 32);
    a->reserved_cash_nano = (int64_t)le_get_u64(b + 40);
    a->reserved_units = (int64_t)le_get_u64(b + 48);
    a->initial_commission_nano = (int64_t)le_get_u64(b + 56);
    a->replaces_order = le_get_u32(b + 176);
    a->trades_reserved = le_get_u32(b + 180);
    return legacy_text(b + 64, 37, a->key) && legacy_text(b + 101, 37, a->request_id) &&
           legacy_text(b + 138, 37, a->intent_id);
}

static bool legacy_body(const uint8_t *b, core_event *ev) {
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACCEPTED:
        return legacy_accepted(b, &ev->u.accepted);
    case CORE_EVENT_ORDER_ACKED:
        ev->u.acked.exchange_order_id = le_get_u64(b);
        return true;
    case CORE_EVENT_ORDER_TRADE:
        ev->u.trade.trade_id = le_get_u64(b);
        ev->u.trade.lots = (int64_t)le_get_u64(b + 8);
        ev->u.trade.price_nano = (int64_t)le_get_u64(b + 16);
        ev->u.trade.value_nano = (int64_t)le_get_u64(b + 24);
        ev->u.trade.commission_nano = (int64_t)le_get_u64(b + 32);
        ev->u.trade.aggressor = b[40];
        return true;
    case CORE_EVENT_ORDER_CANCELLED:
        ev->u.cancelled.lots = (int64_t)le_get_u64(b);
        ev->u.cancelled.cause = b[8];
        return true;
    case CORE_EVENT_ORDER_REJECTED:
        ev->u.rejected.cause = b[0];
        ev->u.rejected.reason = (int32_t)le_get_u32(b + 4);
        return true;
    case CORE_EVENT_CASH_ADJUSTED:
        ev->u.cash.account = le_get_u32(b);
        ev->u.cash.amount_nano = (int64_t)le_get_u64(b + 16);
        return legacy_text(b + 4, 8, ev->u.cash.currency);
    case CORE_EVENT_MARKET_MAKER_MOVED:
        ev->u.market_maker.instrument = le_get_u32(b);
        ev->u.market_maker.reference_nano = (int64_t)le_get_u64(b + 8);
        for (int i = 0; i < 4; i++)
            ev->u.market_maker.random_state[i] = le_get_u64(b + 16 + 8 * i);
        return true;
    case CORE_EVENT_ACCOUNT_OPENED:
        ev->u.account_opened.account = le_get_u32(b);
        ev->u.account_opened.token = le_get_u32(b + 4);
        return legacy_text(b + 8, 37, ev->u.account_opened.id) &&
               legacy_text(b + 45, 64, ev->u.account_opened.name);
    case CORE_EVENT_ACCOUNT_CLOSED:
        ev->u.account_closed.account = le_get_u32(b);
        return true;
    case CORE_EVENT_REPLACEMENT_ARMED:
        ev->u.armed.reserve_price_nano = (int64_t)le_get_u64(b);
        ev->u.armed.reserved_cash_nano = (int64_t)le_get_u64(b + 8);
        ev->u.armed.reserved_units = (int64_t)le_get_u64(b + 16);
        ev->u.armed.initial_commission_nano = (int64_t)le_get_u64(b + 24);
        return true;
    case CORE_EVENT_HISTORY_RETIRED:
        ev->u.retired.count = le_get_u32(b);
        return true;
    default:
        return false; /* stop orders and transfers came after formats 3 and 4 */
    }
    return false;
}

int event_codec_decode_legacy(uint16_t type, uint64_t seq, const uint8_t *bytes, size_t length,
                              core_event *out) {
    memset(out, 0, sizeof *out);
    if (length != EVENT_CODEC_LEGACY_BYTES || le_get_u32(bytes + V4_TYPE) != type ||
        le_get_u64(bytes + V4_SEQ) != seq)
        return -1;
    out->type = type;
    out->order = le_get_u32(bytes + V4_ORDER);
    out->seq = seq;
    out->time_ns = (int64_t)le_get_u64(bytes + V4_TIME);
    if (!legacy_body(bytes + V4_BODY, out) || !event_codec_valid(out)) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    return 0;
}
