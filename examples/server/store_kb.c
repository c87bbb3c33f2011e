#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* The statements, prepared on first use and kept: a bot answers each
 * message with a search, and preparing it again cost more than running it. */
struct store_kb {
    sqlite3 *h;
    sqlite3_stmt *add, *search, *get;
};

/* The title weighs most, then the keywords, then the body; id and url are
 * not indexed. */
static const char schema[] =
    "CREATE VIRTUAL TABLE kb USING fts5(id UNINDEXED, title, keywords, body, url UNINDEXED,"
    " tokenize = 'porter unicode61')";
#define KB_RANK "bm25(kb, 0.0, 10.0, 5.0, 1.0, 0.0)"

/* The pages of `model`'s database, as the new one's (which owns them). */
static int copy_of(sqlite3 *h, const store_kb *model)
{
    sqlite3_int64 size;
    unsigned char *pages = sqlite3_serialize(model->h, "main", &size, 0);

    return pages && sqlite3_deserialize(h, "main", pages, size, size,
                                        SQLITE_DESERIALIZE_FREEONCLOSE |
                                            SQLITE_DESERIALIZE_RESIZEABLE) == SQLITE_OK
               ? 0
               : -1;
}

int store_kb_open(const store_kb *model, store_kb **out, char *why, size_t cap)
{
    store_kb *k = calloc(1, sizeof *k);

    *out = NULL;
    if (!k || sqlite3_open(":memory:", &k->h) != SQLITE_OK ||
        (model                                                       ? copy_of(k->h, model)
         : sqlite3_exec(k->h, schema, NULL, NULL, NULL) == SQLITE_OK ? 0
                                                                     : -1)) {
        snprintf(why, cap, "cannot create the index (SQLite without FTS5?)");
        store_kb_close(k);
        return -1;
    }
    *out = k;
    return 0;
}

void store_kb_close(store_kb *k)
{
    if (!k)
        return;
    sqlite3_finalize(k->add);
    sqlite3_finalize(k->search);
    sqlite3_finalize(k->get);
    sqlite3_close(k->h);
    free(k);
}

/* The statement *st of `sql`, prepared now or ready for its next run;
 * NULL on error. */
static sqlite3_stmt *ready(store_kb *k, sqlite3_stmt **st, const char *sql)
{
    if (!*st && sqlite3_prepare_v3(k->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return NULL;
    return *st;
}

/* Ends a run: the bound texts (SQLITE_STATIC) may go. */
static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int store_kb_add(store_kb *k, const store_article *a, char *why, size_t cap)
{
    sqlite3_stmt *st = ready(k, &k->add,
                             "INSERT INTO kb(id, title, keywords, body, url) "
                             "VALUES(?1, ?2, ?3, ?4, ?5)");
    int rc;

    if (!st) {
        snprintf(why, cap, "%s", sqlite3_errmsg(k->h));
        return -1;
    }
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->keywords ? a->keywords : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->body, -1, SQLITE_STATIC);
    if (a->url)
        sqlite3_bind_text(st, 5, a->url, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        snprintf(why, cap, "%s", sqlite3_errmsg(k->h));
    done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* An FTS5 query "w1" OR "w2" ...: each word quoted, so that no FTS5 syntax
 * gets through (the words hold no quote). NULL when out of memory. */
static char *match_any(const char *const *words, size_t n)
{
    sqlite3_str *q = sqlite3_str_new(NULL);
    size_t i;

    for (i = 0; i < n; i++)
        sqlite3_str_appendf(q, "%s\"%s\"", i ? " OR " : "", words[i]);
    return sqlite3_str_finish(q);
}

static void fill(sqlite3_stmt *st, store_article *a, int with_snippet)
{
    memset(a, 0, sizeof *a);
    a->id = (const char *)sqlite3_column_text(st, 0);
    a->title = (const char *)sqlite3_column_text(st, 1);
    a->body = (const char *)sqlite3_column_text(st, 2);
    a->url = (const char *)sqlite3_column_text(st, 3);
    a->snippet = with_snippet ? (const char *)sqlite3_column_text(st, 4) : NULL;
}

int store_kb_search(store_kb *k, const char *const *words, size_t n, int limit, store_article_cb cb,
                    void *ud)
{
    sqlite3_stmt *st;
    char *match;
    store_article a;
    int rc, found = 0;

    if (n == 0)
        return 0;
    match = match_any(words, n);
    st = match ? ready(k, &k->search,
                       "SELECT id, title, body, url,"
                       " snippet(kb, 3, '<b>', '</b>', '...', 16) FROM kb"
                       " WHERE kb MATCH ?1 ORDER BY " KB_RANK " LIMIT ?2")
               : NULL;
    if (!st) {
        sqlite3_free(match);
        return -1;
    }
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fill(st, &a, 1);
        found++;
        if (cb(ud, &a))
            break;
    }
    done(st);
    sqlite3_free(match);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

int store_kb_get(store_kb *k, const char *id, store_article_cb cb, void *ud)
{
    sqlite3_stmt *st = ready(k, &k->get, "SELECT id, title, body, url FROM kb WHERE id = ?1");
    store_article a;
    int rc;

    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        fill(st, &a, 0);
        cb(ud, &a);
    }
    done(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
