#include "platform/ca.h"

#include <unistd.h>
#if defined(__linux__)
#include <sys/auxv.h>
#endif

#include "parley.h"

const char *const pl_ca_bundle_paths[] = {
#if defined(__APPLE__)
    "/etc/ssl/cert.pem", /* macOS (the system roots, exported) */
#else
    "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu */
    "/etc/pki/tls/certs/ca-bundle.crt",                  /* RHEL, Fedora, CentOS */
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL 7+, Fedora */
    "/etc/ssl/ca-bundle.pem",                            /* openSUSE */
    "/etc/ssl/cert.pem",                                 /* Alpine */
    "/system/etc/security/cacerts",                      /* Android: one file per certificate */
#endif
    NULL,
};

int pl_ca_store_each(int (*fn)(void *ctx, const unsigned char *der, size_t len), void *ctx)
{
    (void)fn;
    (void)ctx;
    return PARLEY_ERR_NOT_FOUND;
}

int pl_process_privileged(void)
{
#if defined(__linux__)
    return getauxval(AT_SECURE) != 0;
#else
    return getuid() != geteuid() || getgid() != getegid();
#endif
}
