/* Agent passwords: PBKDF2-HMAC-SHA256 (mbedTLS) with a random salt per
 * hash, stored as "pbkdf2-sha256$<iterations>$<salt hex>$<key hex>", checked
 * in constant time. A hash costs about 250 ms of one core (100,000
 * iterations of mbedTLS 2.28's portable SHA-256), so the server runs these
 * on a worker thread (pwworker.h), never on the service loop. */
#ifndef PARLEY_SERVER_PWHASH_H
#define PARLEY_SERVER_PWHASH_H

#include <stddef.h>

/* What new hashes use, and the fewest a stored hash may have: the count
 * travels in the stored string, so raising it later keeps older hashes
 * valid, and a database edited to a weak count is refused. */
#define PWHASH_ITERATIONS 100000u
#define PWHASH_MIN_ITERATIONS 100000u
#define PWHASH_MAX_ITERATIONS 10000000u
#define PWHASH_SALT_LEN 16
#define PWHASH_KEY_LEN 32
/* Room for the stored form with its NUL. */
#define PWHASH_BUF 160

/* Password lengths accepted when a password is set. */
#define PWHASH_MIN_PASSWORD 8
#define PWHASH_MAX_PASSWORD 1024

/* Hashes `password` (len bytes) with a fresh salt from the system's random
 * source and `iterations` (0: PWHASH_ITERATIONS) into out (cap bytes, at
 * least PWHASH_BUF). 0, or -1 (no randomness, an iteration count out of
 * range, a small buffer, an mbedTLS failure). */
int pwhash_make(const char *password, size_t len, unsigned iterations, char *out, size_t cap);

/* 1 when `password` matches the stored form, 0 when it does not, -1 when
 * `stored` is malformed (or its count is out of range). The derived keys
 * are compared without an early exit. */
int pwhash_verify(const char *password, size_t len, const char *stored);

/* Spends the time of one verification against a fixed hash and returns 0:
 * for unknown names, so that the answer's timing does not reveal which
 * names exist. */
int pwhash_verify_dummy(const char *password, size_t len);

#endif
