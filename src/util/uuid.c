#include "util/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Eight characters at a time: replay checks two ids of every accepted order, millions of them,
 * and a branch per character was a tenth of its time. */
#define BYTES_OF(b) (UINT64_C(0x0101010101010101) * (b))
#define HIGH_BITS BYTES_OF(0x80)

/* 0x80 in each byte of `w` (whose bytes are all below 0x80) that lies in lo .. hi: no byte sum
 * below carries into the next one. */
static inline __attribute__((always_inline)) uint64_t bytes_within(uint64_t w, uint8_t lo,
                                                                   uint8_t hi) {
    uint64_t at_least_lo = w + BYTES_OF(0x80 - lo);
    uint64_t above_hi = w + BYTES_OF(0x7F - hi);
    return at_least_lo & ~above_hi & HIGH_BITS;
}

/* 0x80 in each byte of the eight at `text` that is a hex digit of either case. */
static inline __attribute__((always_inline)) uint64_t hex_bytes(const char *text) {
    uint64_t w;
    memcpy(&w, text, sizeof w);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    uint64_t ascii = ~w & HIGH_BITS; /* bytes from 0x80 up are never digits */
    w &= ~HIGH_BITS;
    return ascii & (bytes_within(w, '0', '9') | bytes_within(w | BYTES_OF(0x20), 'a', 'f'));
}

bool uuid_is_valid(const char *text, size_t len) {
    if (text == NULL || len != UUID_TEXT_LEN)
        return false;
    /* Bytes 0-7, 8-15, 16-23, 24-31 and 28-35; the dashes at 8, 13, 18 and 23 are the first and
     * sixth byte of the second word and the third and eighth of the third. */
    const uint64_t dashes_8 = UINT64_C(0x80) | UINT64_C(0x80) << 40;
    const uint64_t dashes_16 = UINT64_C(0x80) << 16 | UINT64_C(0x80) << 56;
    return text[8] == '-' && text[13] == '-' && text[18] == '-' && text[23] == '-' &&
           hex_bytes(text) == HIGH_BITS && (hex_bytes(text + 8) | dashes_8) == HIGH_BITS &&
           (hex_bytes(text + 16) | dashes_16) == HIGH_BITS && hex_bytes(text + 24) == HIGH_BITS &&
           hex_bytes(text + 28) == HIGH_BITS;
}

void uuid_format_from_bits(uint64_t hi, uint64_t lo, char out[UUID_TEXT_SIZE]) {
    hi = (hi & ~UINT64_C(0xF000)) | UINT64_C(0x4000);       /* version 4 */
    lo = (lo & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    /* Hand-formatted: this runs on every call, and printf's machinery is the slow part. */
    int pos = 0;
    for (int nibble = 15; nibble >= 0; nibble--) {
        out[pos++] = hex[(hi >> (nibble * 4)) & 0xF];
        if (pos == 8 || pos == 13 || pos == 18)
            out[pos++] = '-';
    }
    for (int nibble = 15; nibble >= 0; nibble--) {
        if (pos == 23)
            out[pos++] = '-';
        out[pos++] = hex[(lo >> (nibble * 4)) & 0xF];
    }
    out[pos] = '\0';
}

/* xoshiro256** per thread, seeded once from the kernel: tracking ids are needed on every call,
 * and a getrandom() system call each time costs more than the rest of the id. */
static _Thread_local uint64_t state[4];
static _Thread_local int seeded;

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_bits(void) {
    if (!seeded) {
        /* getrandom on a 32-byte buffer cannot be short once the pool is initialised. */
        if (getrandom(state, sizeof state, 0) != (ssize_t)sizeof state)
            abort();
        seeded = 1;
    }
    uint64_t result = rotl(state[1] * 5, 7) * 9, t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
}

void uuid_generate_v4(char out[UUID_TEXT_SIZE]) {
    uint64_t hi = next_bits();
    uuid_format_from_bits(hi, next_bits(), out);
}
