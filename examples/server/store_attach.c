/* Uploads and attachments: the records of files; their bytes live on disk
 * by content hash (blobs.c). */
#include "store_sql.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* An upload is a user's (named by the client id of the message that will
 * carry it); an attachment is a file in a conversation, made from a done
 * upload (once: upload_n is unique) or from an agent's file. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS uploads("
    " n INTEGER PRIMARY KEY, \"user\" TEXT NOT NULL REFERENCES users(id), cid TEXT NOT NULL,"
    " name TEXT NOT NULL, type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    " done INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL, done_ms INTEGER,"
    " UNIQUE(\"user\", cid));"
    "CREATE TABLE IF NOT EXISTS attachments("
    " n INTEGER PRIMARY KEY,"
    " id TEXT GENERATED ALWAYS AS ('f-' || n) VIRTUAL,"
    " conv TEXT NOT NULL REFERENCES conversations(id), upload_n INTEGER UNIQUE,"
    " name TEXT NOT NULL, type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);";

int store_attach_init(store *s)
{
    return sq_script(s, schema);
}

int store_upload_get(store *s, const char *user, const char *cid, store_upload_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT n, name, type, size, sha256, done FROM uploads"
                           " WHERE \"user\" = ?1 AND cid = ?2",
                           "tt", user, cid);
    store_upload u;
    int rc = sq_step(s, st), stop = 0;

    if (rc == 1) {
        u.n = sq_i64(st, 0);
        u.name = sq_text(st, 1);
        u.type = sq_text(st, 2);
        u.size = sq_i64(st, 3);
        u.sha256 = sq_text(st, 4);
        u.done = sq_int(st, 5);
        stop = cb(ud, &u);
    }
    sq_finish(st);
    return stop ? -1 : rc;
}

int store_upload_create(store *s, const char *user, const char *cid, const char *name,
                        const char *type, int64_t size, const char *sha256, int64_t now, int64_t *n)
{
    return sq_insert_id(s, n,
                        "INSERT INTO uploads(\"user\", cid, name, type, size, sha256, created_ms)"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING n",
                        "ttttiti", user, cid, name, type, size, sha256, now);
}

int store_upload_finish(store *s, int64_t n, int64_t now)
{
    return sq_run(s, "UPDATE uploads SET done = 1, done_ms = ?2 WHERE n = ?1", "ii", n, now);
}

static void format_id(int64_t n, char id_out[STORE_MSG_ID_BUF])
{
    snprintf(id_out, STORE_MSG_ID_BUF, "f-%" PRId64, n);
}

int store_attachment_of_upload(store *s, int64_t upload_n, const char *conv, int64_t now,
                               char id_out[STORE_MSG_ID_BUF])
{
    int rc;
    sq_stmt *st;

    if (sq_run(s,
               "INSERT INTO attachments(conv, upload_n, name, type, size, sha256,"
               " created_ms) SELECT ?2, n, name, type, size, sha256, ?3 FROM uploads"
               " WHERE n = ?1 AND done = 1 ON CONFLICT(upload_n) DO NOTHING",
               "iti", upload_n, conv, now))
        return -1;
    st = sq_row(s, &rc, "SELECT n FROM attachments WHERE upload_n = ?1", "i", upload_n);
    if (rc == 1)
        format_id(sq_i64(st, 0), id_out);
    sq_done(st);
    return rc == 1 ? 0 : -1;
}

int store_attachment_add(store *s, const char *conv, const char *name, const char *type,
                         int64_t size, const char *sha256, int64_t now,
                         char id_out[STORE_MSG_ID_BUF])
{
    int64_t n;

    if (sq_insert_id(s, &n,
                     "INSERT INTO attachments(conv, name, type, size, sha256, created_ms)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6) RETURNING n",
                     "tttiti", conv, name, type, size, sha256, now))
        return -1;
    format_id(n, id_out);
    return 0;
}

int store_attachment_get(store *s, const char *id, store_attachment_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT id, sha256, name, type, conv, size FROM attachments"
                           " WHERE id = ?1",
                           "t", id);
    store_attachment a;
    int rc = sq_step(s, st), stop = 0;

    if (rc == 1) {
        a.id = sq_text(st, 0);
        a.sha256 = sq_text(st, 1);
        a.name = sq_text(st, 2);
        a.type = sq_text(st, 3);
        a.conv = sq_text(st, 4);
        a.size = sq_i64(st, 5);
        stop = cb(ud, &a);
    }
    sq_finish(st);
    return stop ? -1 : rc;
}
