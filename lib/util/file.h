/* The host's files, for attachments: the one place the library touches a
 * file that is not its own store (the journal has its own backend). A
 * small table so that the features reading and writing them stay sans-IO
 * (unit tests give a fake one); platform/hostfile.h fills it with the OS's
 * calls. Paths are the host's, UTF-8, as it gave them. */
#ifndef PARLEY_UTIL_FILE_H
#define PARLEY_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pl_file_io {
    void *user;
    /* The file's length: PARLEY_OK, NOT_FOUND (no such file), IO. */
    int (*size)(void *user, const char *path, uint64_t *out);
    /* Exactly `len` bytes at `off`: PARLEY_OK, NOT_FOUND, IO (fewer there). */
    int (*read_at)(void *user, const char *path, uint64_t off, void *buf, size_t len);
    /* Writes `len` bytes at `off` (creating the file; bytes before `off`
     * that were never written read as zero): PARLEY_OK or IO. */
    int (*write_at)(void *user, const char *path, uint64_t off, const void *data, size_t len);
    /* Replaces `to` with `from`: PARLEY_OK or IO. */
    int (*rename)(void *user, const char *from, const char *to);
    /* PARLEY_OK also when it did not exist. */
    int (*remove)(void *user, const char *path);
} pl_file_io;

#endif
