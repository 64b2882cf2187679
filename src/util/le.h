/* Little-endian words in byte buffers: the on-disk formats (journal segments and records, the
 * history store, the core's event payloads) are little-endian whatever the machine. Readers
 * compile to one load on a little-endian machine (every journal record's check is one). */
#ifndef TINVESTD_UTIL_LE_H
#define TINVESTD_UTIL_LE_H

#include <stdint.h>
#include <string.h>

static inline void le_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void le_put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le_put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t le_get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le_get_u32(const uint8_t *p) {
    uint32_t v = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, sizeof v);
#else
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
#endif
    return v;
}

static inline uint64_t le_get_u64(const uint8_t *p) {
    uint64_t v = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, sizeof v);
#else
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
#endif
    return v;
}

#endif
