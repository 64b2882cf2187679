/* UUID text helpers: validation of client keys and generation of our own ids.
 *
 * T-Invest treats `order_id` of PostOrderAsync as a UUID of any version, so validation checks
 * only the canonical 8-4-4-4-12 hex form (either letter case), never the version nibble. */
#ifndef TINVESTD_UTIL_UUID_H
#define TINVESTD_UTIL_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UUID_TEXT_LEN 36
#define UUID_TEXT_SIZE (UUID_TEXT_LEN + 1)

/* True when `text` (of `len` bytes, not necessarily NUL-terminated) is a canonical UUID. */
bool uuid_is_valid(const char *text, size_t len);

/* Writes a random version-4 UUID in lower case plus NUL into `out`. Thread-safe. */
void uuid_generate_v4(char out[UUID_TEXT_SIZE]);

/* Writes the version-4-shaped UUID made from 128 given bits: used where ids must be
 * deterministic (derived from a seed and a counter) so that replay reproduces them. */
void uuid_format_from_bits(uint64_t hi, uint64_t lo, char out[UUID_TEXT_SIZE]);

#endif
