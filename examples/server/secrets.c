#include "secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *copy(const char *s, size_t n)
{
    char *out = malloc(n + 1);

    if (out) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

static int file_fail(const secret_src *src, const char *why)
{
    fprintf(stderr, "parley-server: %s-file %s: %s\n", src->flag, src->file, why);
    return -1;
}

/* The whole file, at most SECRET_MAX bytes after trailing CR/LF (one more
 * is read to notice a longer file). */
static int read_secret_file(const secret_src *src, char **out)
{
    char buf[SECRET_MAX + 3];
    struct stat st;
    size_t n;
    FILE *f = fopen(src->file, "rb");

    if (!f)
        return file_fail(src, "cannot open");
    n = fread(buf, 1, sizeof buf, f);
    if (ferror(f)) {
        fclose(f);
        return file_fail(src, "cannot read");
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        fprintf(stderr,
                "parley-server: warning: %s-file %s can be read by other users "
                "(chmod 600 it)\n",
                src->flag, src->file);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n == 0)
        return file_fail(src, "empty");
    if (n > SECRET_MAX)
        return file_fail(src, "longer than 4096 bytes");
    if (memchr(buf, '\0', n))
        return file_fail(src, "holds a NUL byte");
    *out = copy(buf, n);
    return *out ? 0 : file_fail(src, "out of memory");
}

int secret_resolve(const secret_src *src, char **out)
{
    const char *env;

    *out = NULL;
    if (src->value && src->file) {
        fprintf(stderr, "parley-server: %s and %s-file exclude each other\n", src->flag, src->flag);
        return -1;
    }
    if (src->file)
        return read_secret_file(src, out);
    env = src->value ? src->value : getenv(src->env);
    if (!env || !*env)
        return 0;
    if (strlen(env) > SECRET_MAX) {
        fprintf(stderr, "parley-server: %s is longer than 4096 bytes\n",
                src->value ? src->flag : src->env);
        return -1;
    }
    *out = copy(env, strlen(env));
    return *out ? 0 : -1;
}
