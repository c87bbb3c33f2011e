/* The table of conversations the session tracks, and those it let go.
 * Every conversation in the table rides in each hello's resume cursors,
 * so the table holds at most PL_MAX_CONVERSATIONS. A new conversation
 * (the host's, the server's, a push's) takes the place of the least
 * recently used one that nothing waits on: no outbox item (a start, a
 * message, a held upload) and no history asked. That one's cursor is
 * parked in the journal and comes back with the conversation, so its
 * messages are neither lost nor delivered twice: its next message, the
 * server's `unread` after a welcome when it says there is something new
 * (membership.c), or the host's call on it brings it back. At most
 * PL_MAX_PARKED cursors are parked; beyond that the one parked longest
 * ago is forgotten, and should its conversation come back its newest
 * PL_BACKFILL messages are backfilled again. Without a journal a
 * conversation that leaves the table is forgotten that way at once. */
#include "session/session_internal.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

/* ---- lookups ------------------------------------------------------------------------ */

pl_sess_conv *pl_conv_find(pl_sess *s, const char *id)
{
    for (size_t i = 0; i < s->n_convs; i++)
        if (strcmp(s->convs[i].id, id) == 0)
            return &s->convs[i];
    return NULL;
}

size_t pl_convs_sorted(const pl_sess *s)
{
    size_t n = s->n_convs ? 1 : 0;
    while (n < s->n_convs && strcmp(s->convs[n - 1].id, s->convs[n].id) < 0)
        n++;
    return n;
}

pl_sess_conv *pl_conv_find_sorted(pl_sess *s, const char *id, size_t sorted)
{
    size_t lo = 0, hi = sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(id, s->convs[mid].id);
        if (c == 0)
            return &s->convs[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (size_t i = sorted; i < s->n_convs; i++)
        if (strcmp(s->convs[i].id, id) == 0)
            return &s->convs[i];
    return NULL;
}

pl_sess_conv *pl_conv_add(pl_sess *s, const char *id)
{
    if (strlen(id) > PL_MAX_ID)
        return NULL;
    if (s->n_convs == s->cap_convs) {
        size_t cap = s->cap_convs ? s->cap_convs * 2 : 8;
        pl_sess_conv *n = pl_realloc(&s->alloc, s->convs, cap * sizeof *n);
        if (!n)
            return NULL;
        s->convs = n;
        s->cap_convs = cap;
    }
    pl_sess_conv *c = &s->convs[s->n_convs++];
    memset(c, 0, sizeof *c);
    memcpy(c->id, id, strlen(id) + 1);
    pl_conv_touch(s, c);
    return c;
}

int pl_conv_persist(pl_sess *s, pl_sess_conv *c, int sync)
{
    if (!s->journal)
        return PARLEY_OK;
    char seq[21];
    pl_proto_seq_str(c->cursor, seq);
    int rc = pl_journal_put(s->journal, PL_NS_CURSOR, c->id, seq, strlen(seq), sync);
    if (rc == PARLEY_OK)
        c->dirty = 0;
    return pl_journal_rc(rc);
}

/* ---- parked cursors: "<cursor> <when parked>" ------------------------------------- */

static int parse_parked(const char *v, size_t len, uint64_t *cursor, uint64_t *stamp)
{
    const char *sp = memchr(v, ' ', len);
    return sp && pl_parse_dec(v, (size_t)(sp - v), PL_SEQ_MAX, cursor) &&
           pl_parse_dec(sp + 1, len - (size_t)(sp - v) - 1, UINT64_MAX, stamp);
}

typedef struct {
    char key[PL_MAX_ID + 1];
    uint64_t stamp, newest;
    size_t count;
} parked_scan;

/* Counts the parked cursors and finds the one parked longest ago, and
 * the newest stamp. */
static int scan_parked(void *user, const char *key, const void *value, size_t len)
{
    parked_scan *p = user;
    uint64_t cursor, stamp;
    if (!parse_parked(value, len, &cursor, &stamp) || strlen(key) > PL_MAX_ID)
        return 0;
    if (stamp > p->newest)
        p->newest = stamp;
    if (!p->count++ || stamp < p->stamp) {
        p->stamp = stamp;
        memcpy(p->key, key, strlen(key) + 1);
    }
    return 0;
}

static void drop_oldest_parked(pl_sess *s)
{
    parked_scan p = {.count = 0};
    if (pl_journal_foreach(s->journal, PL_NS_PARKED, scan_parked, &p) != PARLEY_OK || !p.count)
        return;
    if (pl_journal_del(s->journal, PL_NS_PARKED, p.key, 0) == PARLEY_OK) {
        s->n_parked = p.count - 1;
        PL_LOG_I(s->log, "parked cursor of %s forgotten: %d parked already", p.key, PL_MAX_PARKED);
    }
}

/* The conversation nothing waits on that was used longest ago, or NULL. */
static pl_sess_conv *idlest(pl_sess *s)
{
    unsigned char busy[PL_MAX_CONVERSATIONS] = {0};
    for (const pl_outbox_item *it = s->obx_head; it; it = it->next) {
        const pl_sess_conv *c = pl_conv_find(s, it->conv);
        if (c && (size_t)(c - s->convs) < PL_MAX_CONVERSATIONS)
            busy[c - s->convs] = 1;
    }
    pl_sess_conv *best = NULL;
    for (size_t i = 0; i < s->n_convs && i < PL_MAX_CONVERSATIONS; i++)
        if (!busy[i] && !s->convs[i].hist && (!best || s->convs[i].used < best->used))
            best = &s->convs[i];
    return best;
}

static int park(pl_sess *s, pl_sess_conv *c)
{
    if (s->journal) {
        char v[48];
        snprintf(v, sizeof v, "%llu %llu", (unsigned long long)c->cursor,
                 (unsigned long long)++s->park_clock);
        int rc = pl_journal_put(s->journal, PL_NS_PARKED, c->id, v, strlen(v), 0);
        if (rc == PARLEY_OK)
            rc = pl_journal_del(s->journal, PL_NS_CURSOR, c->id, 0);
        if (rc != PARLEY_OK)
            return pl_journal_rc(rc);
        if (++s->n_parked > PL_MAX_PARKED)
            drop_oldest_parked(s);
    }
    PL_LOG_I(s->log, "conversation %s parked at seq %llu: %d conversations", c->id,
             (unsigned long long)c->cursor, PL_MAX_CONVERSATIONS);
    size_t i = (size_t)(c - s->convs);
    memmove(c, c + 1, (s->n_convs - i - 1) * sizeof *c);
    s->n_convs--;
    return PARLEY_OK;
}

int pl_conv_can_park(const pl_sess *s)
{
    return s->journal && s->n_parked < PL_MAX_PARKED;
}

int pl_conv_make_room(pl_sess *s)
{
    if (s->n_convs < PL_MAX_CONVERSATIONS)
        return PARLEY_OK;
    pl_sess_conv *c = idlest(s);
    return c ? park(s, c) : PARLEY_ERR_FULL;
}

int pl_conv_parked(const pl_sess *s, const char *id, uint64_t *cursor)
{
    size_t len = 0;
    uint64_t stamp;
    const char *v = s->journal ? pl_journal_get(s->journal, PL_NS_PARKED, id, &len) : NULL;
    return v && parse_parked(v, len, cursor, &stamp);
}

static int unpark(pl_sess *s, const char *id, uint64_t cursor, pl_sess_conv **out)
{
    int rc = pl_conv_make_room(s);
    pl_sess_conv *c = rc == PARLEY_OK ? pl_conv_add(s, id) : NULL;
    if (rc != PARLEY_OK || !c)
        return rc != PARLEY_OK ? rc : PARLEY_ERR_NOMEM;
    c->cursor = c->seen = cursor;
    rc = pl_conv_persist(s, c, 0);
    if (rc == PARLEY_OK && pl_journal_del(s->journal, PL_NS_PARKED, id, 0) == PARLEY_OK &&
        s->n_parked)
        s->n_parked--;
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "cursor of %s not journaled: %s", id, parley_strerror(rc));
    PL_LOG_I(s->log, "conversation %s back at seq %llu", id, (unsigned long long)cursor);
    *out = c;
    return PARLEY_OK;
}

int pl_conv_admit(pl_sess *s, const char *id, int create, pl_sess_conv **out, int *fresh)
{
    uint64_t cursor;
    *fresh = 0;
    if ((*out = pl_conv_find(s, id)) != NULL) {
        pl_conv_touch(s, *out);
        return PARLEY_OK;
    }
    if (pl_conv_parked(s, id, &cursor))
        return unpark(s, id, cursor, out);
    if (!create)
        return PARLEY_ERR_NOT_FOUND;
    int rc = pl_conv_make_room(s);
    if (rc != PARLEY_OK)
        return rc;
    if (!(*out = pl_conv_add(s, id)))
        return PARLEY_ERR_NOMEM;
    *fresh = 1;
    return PARLEY_OK;
}

int pl_sess_conv_use(pl_sess *s, const char *conv)
{
    pl_sess_conv *c;
    int fresh;
    return conv ? pl_conv_admit(s, conv, 0, &c, &fresh) : PARLEY_ERR_INVALID_ARG;
}

int pl_sess_conv_known(const pl_sess *s, const char *conv)
{
    return conv && pl_conv_find((pl_sess *)s, conv) != NULL;
}

/* ---- the journal -------------------------------------------------------------- */

static int load_cursor(void *user, const char *key, const void *value, size_t len)
{
    pl_sess *s = user;
    uint64_t seq;
    /* The journal gives each key once, in order: a duplicate could only
     * be the conversation just added (asking pl_conv_find made loading
     * quadratic in the number of conversations). */
    if (!pl_id_valid(key, PL_MAX_ID) || !pl_parse_dec(value, len, PL_SEQ_MAX, &seq) ||
        (s->n_convs && strcmp(s->convs[s->n_convs - 1].id, key) == 0)) {
        PL_LOG_W(s->log, "journal: bad cursor entry skipped");
        return 0;
    }
    if (s->n_convs >= PL_MAX_CONVERSATIONS)
        return 0;
    pl_sess_conv *c = pl_conv_add(s, key);
    if (!c)
        return PARLEY_ERR_NOMEM;
    c->cursor = c->seen = seq;
    return 0;
}

int pl_convs_load(pl_sess *s)
{
    int rc = pl_journal_foreach(s->journal, PL_NS_CURSOR, load_cursor, s);
    parked_scan p = {.count = 0};
    if (rc == PARLEY_OK)
        rc = pl_journal_foreach(s->journal, PL_NS_PARKED, scan_parked, &p);
    s->n_parked = p.count;
    s->park_clock = p.newest;
    return rc;
}
