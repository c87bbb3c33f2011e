/* Where the OS keeps the CA certificates it trusts, and whether the
 * environment may choose others (SSL_CERT_FILE). */
#ifndef PARLEY_PLATFORM_CA_H
#define PARLEY_PLATFORM_CA_H

#include <stddef.h>

/* PEM bundles or directories of one certificate per file, in the order to
 * try; NULL-terminated, empty where the OS keeps its anchors in a store
 * (Windows: pl_ca_store_each). */
extern const char *const pl_ca_bundle_paths[];

/* Calls fn(ctx, der, len) for each certificate of the OS's trust store
 * (Windows: the ROOT store of the user and of the machine); stops at the
 * first non-zero return, which it returns. PARLEY_ERR_NOT_FOUND where the
 * OS has no store beyond the files of pl_ca_bundle_paths (POSIX). */
int pl_ca_store_each(int (*fn)(void *ctx, const unsigned char *der, size_t len), void *ctx);

/* Non-zero when the process runs with privileges its user did not give it
 * (setuid, setgid): then the environment must not choose what it trusts. */
int pl_process_privileged(void);

#endif
