/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial and final
 * value 0xFFFFFFFF: zlib's crc32), as the journal's record frames carry it. */
#ifndef PARLEY_UTIL_CRC32_H
#define PARLEY_UTIL_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t pl_crc32(const void *data, size_t len);

#endif
