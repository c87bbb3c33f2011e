/* getrandom() on Linux and on Android from API level 28, getentropy()
 * on Apple systems and the BSDs (both block only until the kernel's pool
 * is first seeded); /dev/urandom on older Android, whose C library has
 * neither. */
#include "platform/entropy.h"

#include <errno.h>
#if defined(__ANDROID__) && __ANDROID_API__ < 28
#include <fcntl.h>
#include <unistd.h>
#elif defined(__linux__) || defined(__APPLE__)
#include <sys/random.h>
#else
#include <unistd.h>
#endif

#if defined(__ANDROID__) && __ANDROID_API__ < 28
static long fill(unsigned char *out, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long n = (long)read(fd, out, len);
    close(fd);
    return n;
}
#elif defined(__linux__)
static long fill(unsigned char *out, size_t len)
{
    return (long)getrandom(out, len, 0);
}
#else
/* getentropy() gives at most 256 bytes a call. */
static long fill(unsigned char *out, size_t len)
{
    size_t n = len > 256 ? 256 : len;
    return getentropy(out, n) == 0 ? (long)n : -1;
}
#endif

int pl_entropy(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
        long n = fill(out, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        out += n;
        len -= (size_t)n;
    }
    return 0;
}
