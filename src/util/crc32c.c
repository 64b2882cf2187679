#include "util/crc32c.h"

#include <pthread.h>
#include <string.h>

/* Two implementations of the same function: the SSE4.2 crc32 instruction (8 bytes a cycle), and
 * a table for machines without it. The choice is made once, on first use. */

static uint32_t table[256];
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static int use_hardware;

static void setup(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        table[i] = c;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    use_hardware = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc32c_table(uint32_t crc, const unsigned char *p, size_t len) {
    while (len--)
        crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hardware(uint32_t crc, const unsigned char *p, size_t len) {
    uint64_t c = crc;
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, sizeof word);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    /* The last 0 .. 7 bytes in at most three steps (a record's payload seldom ends on a word). */
    if (len >= 4) {
        uint32_t word;
        memcpy(&word, p, sizeof word);
        c32 = __builtin_ia32_crc32si(c32, word);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t half;
        memcpy(&half, p, sizeof half);
        c32 = __builtin_ia32_crc32hi(c32, half);
        p += 2;
        len -= 2;
    }
    if (len != 0)
        c32 = __builtin_ia32_crc32qi(c32, *p);
    return c32;
}
#endif

uint32_t crc32c_update(uint32_t crc, const void *data, size_t len) {
    pthread_once(&setup_once, setup);
    const unsigned char *p = data;
#if defined(__x86_64__)
    if (use_hardware)
        return ~crc32c_hardware(~crc, p, len);
#endif
    return ~crc32c_table(~crc, p, len);
}
