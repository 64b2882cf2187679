/* CRC32C (Castagnoli), as used by the journal's record checksums. */
#ifndef TINVESTD_UTIL_CRC32C_H
#define TINVESTD_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over `data`; start with crc = 0. crc32c_update(0, "123456789", 9) == 0xE3069283.
 */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);

#endif
