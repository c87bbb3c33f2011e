/* Windows keeps its anchors in certificate stores, not files: the ROOT
 * store of the current user (which includes the machine's) through
 * crypt32. */
#include "platform/ca.h"

#include <windows.h>
#include <wincrypt.h>

#include "parley.h"

const char *const pl_ca_bundle_paths[] = {NULL};

int pl_ca_store_each(int (*fn)(void *ctx, const unsigned char *der, size_t len), void *ctx)
{
    HCERTSTORE store = CertOpenSystemStoreW(0, L"ROOT");
    if (!store)
        return PARLEY_ERR_NOT_FOUND;
    int rc = 0;
    const CERT_CONTEXT *c = NULL;
    while (rc == 0 && (c = CertEnumCertificatesInStore(store, c)) != NULL)
        if (c->dwCertEncodingType & X509_ASN_ENCODING)
            rc = fn(ctx, c->pbCertEncoded, c->cbCertEncoded);
    if (c)
        CertFreeCertificateContext(c);
    CertCloseStore(store, 0);
    return rc;
}

int pl_process_privileged(void)
{
    return 0;
}
