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
    snprintf(out, UUID_TEXT_SIZE, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
             (unsigned)((hi >> 16) & 0xFFFF), (unsigned)(hi & 0xFFFF), (unsigned)(lo >> 48),
             (unsigned long long)(lo & UINT64_C(0xFFFFFFFFFFFF)));
}

void uuid_generate_v4(char out[UUID_TEXT_SIZE]) {
    uint64_t bits[2];
    ssize_t got = getrandom(bits, sizeof bits, 0);
    /* getrandom on a 16-byte buffer cannot be short once the pool is initialised. */
    if (got != (ssize_t)sizeof bits)
        abort();
    uuid_format_from_bits(bits[0], bits[1], out);
}
