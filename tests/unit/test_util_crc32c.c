#include <stdint.h>
#include <string.h>

#include "check.h"
#include "util/crc32c.h"

/* CRC-32C bit by bit, the definition itself. */
static uint32_t reference(const unsigned char *p, size_t len) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

int main(void) {
    /* Every length up to 80 (every tail of 0 to 7 bytes after whole words) at every alignment. */
    unsigned char bytes[96];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 167 + 13);
    for (size_t start = 0; start < 8; start++)
        for (size_t len = 0; len <= 80; len++)
            CHECK(crc32c_update(0, bytes + start, len) == reference(bytes + start, len));
    /* Standard check values of CRC-32C (Castagnoli). */
    CHECK(crc32c_update(0, "123456789", 9) == 0xE3069283u);
    unsigned char zeros[32] = {0};
    CHECK(crc32c_update(0, zeros, sizeof zeros) == 0x8A9136AAu);
    unsigned char ones[32];
    memset(ones, 0xFF, sizeof ones);
    CHECK(crc32c_update(0, ones, sizeof ones) == 0x62A8AB43u);
    /* Incremental use gives the same result as one call, at any split. */
    const char *text = "the quick brown fox jumps over the lazy dog, twice over";
    uint32_t whole = crc32c_update(0, text, strlen(text));
    for (size_t split = 0; split <= strlen(text); split++)
        CHECK(crc32c_update(crc32c_update(0, text, split), text + split, strlen(text) - split) ==
              whole);
    CHECK(crc32c_update(0, "", 0) == 0);
    return check_finish("crc32c");
}
