/* Test certificates made at run time with mbedTLS: a CA, a "localhost"
 * server certificate signed by it, a second, unrelated CA, and server
 * certificates that fail in one way each (wrong name, expired, not yet
 * valid), plus one for a second ("rotated") key. */
#ifndef PARLEY_TESTCERT_H
#define PARLEY_TESTCERT_H

#include <stddef.h>

typedef struct tc_files {
    char dir[256];
    char ca[300];       /* CA certificate (PEM) */
    char other_ca[300]; /* an unrelated CA (PEM) */
    char cert[300];     /* server certificate: CN and DNS SAN "localhost" */
    char key[300];      /* its private key (PEM) */
    /* Signed by `ca` with `key`, valid now, unless the name says: */
    char wrong_name[300]; /* CN and DNS SAN "other.example" */
    char expired[300];    /* localhost, valid 2020-01-01 .. 2021-01-01 */
    char future[300];     /* localhost, valid 2045-01-01 .. 2049-12-31 */
    char rotated[300];    /* localhost, valid, for the key rotated_key */
    char rotated_key[300];
} tc_files;

/* Creates a fresh temporary directory with the four files; 0 on success. */
int tc_make(tc_files *out);
/* Removes the files and the directory. */
void tc_remove(const tc_files *f);
/* The public-key pin (base64 SHA-256 of the SubjectPublicKeyInfo) of a
 * private key file, derived from the key itself, into out[45]; 0 on
 * success. */
int tc_pin_of_key(const char *key_path, char *out);
/* Reads a whole file into a malloc'ed, NUL-terminated buffer; NULL on error. */
char *tc_read(const char *path, size_t *len);

#endif
