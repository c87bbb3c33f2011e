/* Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#ifndef PARLEY_UTIL_UTF8_H
#define PARLEY_UTIL_UTF8_H

#include <stddef.h>

int pl_utf8_valid(const char *s, size_t len); /* 1 when valid */

/* 1 when s is 1..max_len bytes of printable ASCII (0x21..0x7e): ids and keys. */
int pl_id_valid(const char *s, size_t max_len);

#endif
