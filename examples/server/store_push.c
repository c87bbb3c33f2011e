/* Push notifications: the devices' tokens, and which conversations are
 * sensitive (their pushes carry no preview). */
#include "store_sql.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS push_tokens("
    " token TEXT PRIMARY KEY, platform TEXT NOT NULL,"
    " \"user\" TEXT NOT NULL REFERENCES users(id), updated_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS push_tokens_user ON push_tokens(\"user\");";

/* conversations.sensitive came after the first release. */
static int add_sensitive(store *s)
{
    int rc;
    sq_stmt *st = sq_query(
        s, "SELECT 1 FROM pragma_table_info('conversations') WHERE name = 'sensitive'", "");

    rc = sq_step(s, st);
    sq_finish(st);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    return sq_run_once(
        s, "ALTER TABLE conversations ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0", "");
}

int store_push_init(store *s)
{
    return sq_script(s, schema) || add_sensitive(s) ? -1 : 0;
}

int store_push_set(store *s, const char *token, const char *platform, const char *user, int64_t now)
{
    return sq_run(
        s,
        "INSERT INTO push_tokens(token, platform, \"user\", updated_ms) VALUES(?1, ?2, ?3, ?4)"
        " ON CONFLICT(token) DO UPDATE SET platform = ?2, \"user\" = ?3, updated_ms = ?4",
        "ttti", token, platform, user, now);
}

int store_push_delete(store *s, const char *token)
{
    return sq_run(s, "DELETE FROM push_tokens WHERE token = ?1", "t", token);
}

int store_push_each(store *s, const char *user, store_push_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT platform, token FROM push_tokens WHERE \"user\" = ?1"
                           " ORDER BY updated_ms DESC, token",
                           "t", user);
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1)
        stop = cb(ud, sq_text(st, 0), sq_text(st, 1));
    sq_finish(st);
    return stop ? stop : rc;
}

int store_conv_sensitive(store *s, const char *conv)
{
    int rc, on = 0;
    sq_stmt *st = sq_row(s, &rc, "SELECT sensitive FROM conversations WHERE id = ?1", "t", conv);

    if (rc == 1)
        on = sq_int(st, 0) != 0;
    sq_done(st);
    return rc < 0 ? -1 : on;
}

int store_conv_sensitive_set(store *s, const char *conv, int on)
{
    if (sq_run(s, "UPDATE conversations SET sensitive = ?2 WHERE id = ?1", "ti", conv,
               (int64_t)(on != 0)))
        return -1;
    return sq_changes(s) > 0;
}
