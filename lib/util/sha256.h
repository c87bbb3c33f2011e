/* SHA-256 (mbedTLS) as the attachments' wire writes it: 64 lowercase hex
 * digits. A running hash for files read in pieces, and one-shot. */
#ifndef PARLEY_UTIL_SHA256_H
#define PARLEY_UTIL_SHA256_H

#include <stddef.h>

#define PL_SHA256_HEX 65 /* 64 digits and the NUL */

typedef struct pl_sha256 {
    /* mbedtls_sha256_context, kept opaque: its header stays in sha256.c. */
    _Alignas(8) unsigned char state[256];
} pl_sha256;

void pl_sha256_start(pl_sha256 *h);
void pl_sha256_update(pl_sha256 *h, const void *data, size_t len);
/* Writes the digest as hex and clears the state. */
void pl_sha256_finish(pl_sha256 *h, char hex[PL_SHA256_HEX]);
void pl_sha256_hex(const void *data, size_t len, char hex[PL_SHA256_HEX]);

/* 1 when s is 64 lowercase hex digits (and nothing more). */
int pl_sha256_valid(const char *s);

#endif
