/* Files and directories: every file-system call of the library. Paths are
 * UTF-8; on Windows they become UTF-16 for the wide-character APIs, so any
 * name the user's file system allows works. Names inside a pl_dir are
 * plain file names (no separators).
 *
 * Durability: pl_file_sync makes a file's bytes durable (fsync,
 * FlushFileBuffers); pl_dir_sync makes the directory's entries durable
 * (the files created in it; on Windows the file system journals them and
 * it is a no-op); pl_dir_replace is atomic and durable when it returns
 * (rename + directory fsync; MoveFileExW with MOVEFILE_REPLACE_EXISTING and
 * MOVEFILE_WRITE_THROUGH).
 *
 * Threads: distinct objects may be used from distinct threads; one
 * pl_file may be synced on one thread while another appends to it.
 *
 * Errors: PARLEY_OK, PARLEY_ERR_NOT_FOUND (no such file), PARLEY_ERR_IO
 * (anything the OS refused, a full disk included), PARLEY_ERR_NOMEM,
 * PARLEY_ERR_INVALID_ARG (a path that is not UTF-8, a name with a
 * separator). */
#ifndef PARLEY_PLATFORM_FS_H
#define PARLEY_PLATFORM_FS_H

#include <stddef.h>

#include "util/alloc.h"

typedef enum pl_path_kind { PL_PATH_NONE, PL_PATH_FILE, PL_PATH_DIR, PL_PATH_OTHER } pl_path_kind;

/* What is at `path` (symbolic links followed). */
pl_path_kind pl_path_kind_of(const char *path);

/* The whole file at `path`, NUL-terminated, in a buffer from `a` (the
 * caller frees it); a file of more than `cap` bytes is PARLEY_ERR_IO. */
int pl_path_read(const pl_alloc *a, const char *path, size_t cap, char **data, size_t *len);

/* Calls fn(ctx, file_path) for each regular file directly in `dir` (UTF-8
 * paths, in no particular order); stops at the first non-zero return,
 * which it returns. PARLEY_ERR_NOT_FOUND when `dir` cannot be listed. */
int pl_path_each_file(const pl_alloc *a, const char *dir, int (*fn)(void *ctx, const char *path),
                      void *ctx);

typedef struct pl_dir pl_dir;

/* Opens the directory `path`, creating it and its missing parents (owner
 * only on POSIX: 0700). */
int pl_dir_open(const pl_alloc *a, const char *path, pl_dir **out);
void pl_dir_close(pl_dir *d); /* NULL is a no-op */
int pl_dir_sync(pl_dir *d);

/* The whole file `name`, in a buffer from `a` (NUL-terminated, not
 * counted); PARLEY_ERR_IO when it holds more than `cap` bytes or grows
 * while being read. */
int pl_dir_read(pl_dir *d, const pl_alloc *a, const char *name, size_t cap, unsigned char **data,
                size_t *len);
int pl_dir_truncate(pl_dir *d, const char *name, size_t len);
int pl_dir_replace(pl_dir *d, const char *from, const char *to);
/* pl_dir_replace without the wait: atomic, durable only after a
 * pl_dir_sync (so a writer need not wait for the directory's sync; on
 * Windows it is durable on return all the same). */
int pl_dir_rename(pl_dir *d, const char *from, const char *to);
/* Makes the bytes of file `name` durable through a handle of its own, so
 * it never shares one with a thread appending to the file. */
int pl_dir_sync_file(pl_dir *d, const char *name);
int pl_dir_remove(pl_dir *d, const char *name); /* a missing file is no error */

/* An open file: a value the caller keeps (nothing is allocated for it). */
typedef struct pl_file {
    union {
        int fd;       /* POSIX */
        void *handle; /* Windows */
    } os;
} pl_file;

/* `name` opened for appending into *out, created (owner only) when
 * missing; then *created is 1 and the directory needs a pl_dir_sync for
 * the file to survive a crash. */
int pl_file_open_append(pl_dir *d, const char *name, int *created, pl_file *out);
int pl_file_append(pl_file *f, const void *data, size_t len); /* all of it, or an error */
int pl_file_sync(pl_file *f);
void pl_file_close(pl_file *f);

#endif
