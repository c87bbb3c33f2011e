/* Durable key/value journal: the store behind the delivery promise (durable
 * outbox, conversation cursors, session token).
 *
 * Format: one append-only log file of records, each framed as
 *   magic(2) | length(4, LE) | crc32(4, LE, over the body) | body(length)
 * where the body is op(1) | ns(1) | keylen(2) | key | value, AES-256-GCM
 * encrypted (nonce 12 | ciphertext | tag 16) when the host supplies a key.
 * Replay on open rebuilds the live map; a torn or corrupt tail (short
 * record, bad magic, CRC or GCM tag mismatch) is detected, reported through
 * the log, and cut off: every record before it survives. Compaction writes
 * the live entries to a temporary file, fsyncs it, renames it over the log
 * and fsyncs the directory, so a crash at any point leaves either the old or
 * the new log whole.
 *
 * Storage goes through a small vtable (pl_journal_io) so a console or a host
 * with its own save system can provide the bytes; pl_journal_file_io() is the
 * default implementation over a directory (lib/platform/).
 *
 * Durability: every record appended gets a number; pl_journal_written()
 * says how many are in the log (in the OS: a killed process loses none of
 * them), pl_journal_synced() how many of those are on stable storage. A
 * put without `sync` leaves the fsync to pl_journal_commit(), which the
 * owner runs on a thread of its own as a group commit.
 *
 * Threads: calls are serialised by the caller's lock, except
 * pl_journal_commit(), pl_journal_compact_background(), pl_journal_written()
 * and pl_journal_synced(), which may run on one other thread at the same
 * time as them (the journal's own locks order the two). */
#ifndef PARLEY_JOURNAL_H
#define PARLEY_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"
#include "util/log.h"

/* Storage backend. Every function returns PARLEY_OK or a negative
 * PARLEY_ERR_* (PARLEY_ERR_IO for failures, PARLEY_ERR_NOT_FOUND from
 * read_all when the file does not exist). `name` is a plain file name
 * ("journal", "journal.tmp"). */
typedef struct pl_journal_io {
    void *user;
    /* The whole file in one buffer allocated with `a` (caller frees). */
    int (*read_all)(void *user, const pl_alloc *a, const char *name, unsigned char **data,
                    size_t *len);
    /* Appends; on a short or failed write the file may hold part of it. */
    int (*append)(void *user, const char *name, const void *data, size_t len);
    /* Makes everything appended to `name` durable (fsync), its directory
     * entry included when it was created or renamed to since the last
     * sync_dir. */
    int (*sync)(void *user, const char *name);
    /* Cuts `name` to `len` bytes (drops a torn tail). */
    int (*truncate)(void *user, const char *name, size_t len);
    /* Atomically replaces `to` with `from`; durably, unless sync_dir is
     * given. */
    int (*rename)(void *user, const char *from, const char *to);
    /* Removes `name`; PARLEY_OK when it did not exist. */
    int (*remove)(void *user, const char *name);
    /* Optional: makes the last rename durable (a directory fsync), so the
     * journal can do it without holding up writers. */
    int (*sync_dir)(void *user);
} pl_journal_io;
/* Concurrency a backend must allow: sync(name) on one thread while
 * append(name) runs on another, and append/sync/remove of "journal.tmp"
 * while "journal" is appended to. A backend that cannot serialises its
 * calls itself (storage.c). */

/* The implementation over directory `dir` (UTF-8; created, owner only on
 * POSIX, if missing), through lib/platform/; sync opens the file again, so
 * it never waits for an append.
 * *io is filled; *state must be released with pl_journal_file_io_free.
 * Errors: IO (directory unusable), NOMEM. */
int pl_journal_file_io(const pl_alloc *a, const char *dir, pl_journal_io *io, void **state);
void pl_journal_file_io_free(const pl_alloc *a, void *state);

typedef struct pl_journal pl_journal;

#define PL_JOURNAL_KEY_SIZE 32 /* AES-256 */
#define PL_JOURNAL_MAX_KEY 255 /* bytes of a record key */
#define PL_JOURNAL_MAX_VALUE (256 * 1024)

/* Opens (or creates) the journal and replays it. `io` is copied; its state
 * must outlive the journal. `enc_key` NULL for a plain journal, else 32
 * bytes: records are encrypted, and a journal written with another key (or
 * none) fails to open with PARLEY_ERR_AUTH instead of yielding garbage.
 * Errors: IO, AUTH (wrong key), NOMEM. `log` may be NULL. */
int pl_journal_open(const pl_alloc *a, const pl_journal_io *io, const unsigned char *enc_key,
                    const pl_log *log, pl_journal **out);
void pl_journal_close(pl_journal *j);

/* Sets `key` in namespace `ns` to value[len]: appended to the log (in the
 * OS once this returns) and, with `sync`, on stable storage. On error
 * nothing changed in memory and the log is cut back to its last good
 * length. Errors: INVALID_ARG (key/value size), IO (disk full, short
 * write...), NOMEM. */
int pl_journal_put(pl_journal *j, uint8_t ns, const char *key, const void *value, size_t len,
                   int sync);
/* Deletes `key` (PARLEY_OK when absent). Same error rules. */
int pl_journal_del(pl_journal *j, uint8_t ns, const char *key, int sync);
/* Makes every earlier put/del durable. */
int pl_journal_sync(pl_journal *j);

/* The value of `key`, borrowed until the next call that changes the journal;
 * NULL when absent. */
const void *pl_journal_get(const pl_journal *j, uint8_t ns, const char *key, size_t *len);

/* Calls fn for every live entry of `ns`, in ascending byte order of key
 * (keys such as zero-padded counters iterate in insertion order). Stops and
 * returns fn's value when it is not 0. */
typedef int (*pl_journal_each_fn)(void *user, const char *key, const void *value, size_t len);
int pl_journal_foreach(const pl_journal *j, uint8_t ns, pl_journal_each_fn fn, void *user);

/* Removes every entry of `ns` (durably). */
int pl_journal_clear_ns(pl_journal *j, uint8_t ns);

/* Rewrites the log with only the live entries when the dead records
 * outweigh the live ones (or always with `force`), on the caller's thread.
 * Errors: IO, NOMEM; the old log stays valid on any error. */
int pl_journal_compact(pl_journal *j, int force);

/* ---- durability and the owner's thread ---------------------------------- */

/* Records appended so far / of those, records on stable storage. */
uint64_t pl_journal_written(const pl_journal *j);
uint64_t pl_journal_synced(const pl_journal *j);

/* What the journal asks of its owner's thread (pl_journal_set_notify). */
enum { PL_JOURNAL_WANT_SYNC = 1, PL_JOURNAL_WANT_COMPACT = 2 };
typedef void (*pl_journal_notify_fn)(void *user, int what);
/* From now on a put, del or clear without sync calls fn(user,
 * WANT_SYNC), and one that makes a compaction due calls fn(user,
 * WANT_COMPACT) instead of compacting inline. fn runs under the caller's
 * lock: it must only signal the owner's thread. */
void pl_journal_set_notify(pl_journal *j, pl_journal_notify_fn fn, void *user);

/* Group commit: makes every record written so far durable (one sync for
 * all of them). On the owner's thread, alongside writers. PARLEY_OK
 * (also when there was nothing to do) or IO. */
int pl_journal_commit(pl_journal *j);

/* Compacts when due, on the owner's thread, alongside writers: the live
 * entries are copied under the journal's lock, written to the temporary
 * file and synced without it; what writers append meanwhile follows them
 * there, and only the rename holds writers up. Afterwards everything
 * written before the rename is durable. PARLEY_OK (also when not due),
 * IO or NOMEM (the old log stays; retried after twice the dead records). */
int pl_journal_compact_background(pl_journal *j);

/* Statistics for tests and logs. */
typedef struct pl_journal_stats {
    size_t live_entries;
    size_t log_bytes;
    size_t dead_records;
    size_t dropped_tail_bytes; /* cut off at open */
} pl_journal_stats;
void pl_journal_get_stats(const pl_journal *j, pl_journal_stats *out);

#endif
