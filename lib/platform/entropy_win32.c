#include "platform/entropy.h"

#include <windows.h>
#include <bcrypt.h>

int pl_entropy(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ULONG n = len > 1u << 30 ? 1u << 30 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, out, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return -1;
        out += n;
        len -= n;
    }
    return 0;
}
