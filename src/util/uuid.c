#include "util/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

static bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool uuid_is_valid(const char *text, size_t len) {
    if (text == NULL || len != UUID_TEXT_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash_position = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash_position ? text[i] != '-' : !is_hex_digit(text[i]))
            return false;
    }
    return true;
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
