/* Test certificates made at run time with mbedTLS: a CA, a "localhost"
 * server certificate signed by it, and a second, unrelated CA. */
#ifndef PARLEY_TESTCERT_H
#define PARLEY_TESTCERT_H

#include <stddef.h>

typedef struct tc_files {
    char dir[256];
    char ca[300];       /* CA certificate (PEM) */
    char other_ca[300]; /* an unrelated CA (PEM) */
    char cert[300];     /* server certificate: CN and DNS SAN "localhost" */
    char key[300];      /* its private key (PEM) */
} tc_files;

/* Creates a fresh temporary directory with the four files; 0 on success. */
int tc_make(tc_files *out);
/* Removes the files and the directory. */
void tc_remove(const tc_files *f);
/* Reads a whole file into a malloc'ed, NUL-terminated buffer; NULL on error. */
char *tc_read(const char *path, size_t *len);

#endif
