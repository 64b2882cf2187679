/* Deterministic randomness: xoshiro256** seeded through splitmix64. The same seed gives the same
 * sequence on every machine, which is what lets the exchange's market maker, its reject model,
 * the broker's generated ids and the simulator replay exactly. Header-only: the exchange and the
 * core, which must stay pure, use it too. */
#ifndef TINVESTD_UTIL_PRNG_H
#define TINVESTD_UTIL_PRNG_H

#include <assert.h>
#include <stdint.h>

/* Advances `state` and returns the next splitmix64 output. */
static inline uint64_t prng_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A xoshiro256** state from a 64-bit seed. */
static inline void prng_seed(uint64_t s[4], uint64_t seed) {
    for (int i = 0; i < 4; i++)
        s[i] = prng_splitmix64(&seed);
}

static inline uint64_t prng_rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t prng_next(uint64_t s[4]) {
    uint64_t result = prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = prng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), without modulo bias. */
static inline uint64_t prng_below(uint64_t s[4], uint64_t n) {
    assert(n > 0);
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = prng_next(s);
    while (v >= limit);
    return v % n;
}

#endif
