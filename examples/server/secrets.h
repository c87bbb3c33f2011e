/* Where the server's secrets come from (--jwt-secret, --hmac-secret,
 * --agent-token): the flag itself, a file named by the matching --*-file
 * flag, or an environment variable, so that a secret need not appear on
 * the command line, which every local user can read with ps. */
#ifndef PARLEY_SERVER_SECRETS_H
#define PARLEY_SERVER_SECRETS_H

#include <stddef.h>

/* Longest secret accepted from any source, in bytes. */
#define SECRET_MAX 4096

typedef struct secret_src {
    const char *flag;  /* e.g. "--jwt-secret", for messages */
    const char *env;   /* e.g. "PARLEY_JWT_SECRET" */
    const char *value; /* given on the command line, or NULL */
    const char *file;  /* given with the --*-file flag, or NULL */
} secret_src;

/* Resolves one secret: the flag's value, else the file's content (trailing
 * CR/LF removed), else the environment variable when set and not empty,
 * else none. *out is a malloc'd copy (NULL when there is no secret); free
 * it. -1 (reason on stderr) when both the flag and the file are given, or
 * the file is unreadable, empty, longer than SECRET_MAX or holds a NUL
 * byte. A file that other users may read is accepted with a warning. */
int secret_resolve(const secret_src *src, char **out);

#endif
