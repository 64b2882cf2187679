#include <string.h>

#include "check.h"
#include "util/crc32c.h"

int main(void) {
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
