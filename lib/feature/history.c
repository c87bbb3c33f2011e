/* The local history: see history.h.
 *
 * An index in memory (per conversation, the seqs kept, ascending) says
 * what the journal holds, so that trimming to the newest N and answering
 * a page never walk the whole namespace. Without a journal the records
 * live in the index itself. */
#include "feature/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/proto_requests.h"
#include "util/utf8.h"

#define KEY_SIZE (2 + PL_MAX_ID + 1 + 16 + 1)
#define DEFAULT_LIMIT 20

typedef struct hrec {
    uint64_t seq;
    char *rec; /* without a journal: the record; else NULL */
    size_t len;
} hrec;

typedef struct hconv {
    char id[PL_MAX_ID + 1];
    hrec *recs; /* ascending seq */
    size_t n, cap;
} hconv;

struct pl_history {
    pl_alloc alloc;
    pl_sess *sess;
    pl_journal *journal;
    const pl_log *log;
    uint32_t per_conv;
    int64_t (*wall_ms)(void);
    hconv *convs;
    size_t n_convs;
};

/* ---- the index --------------------------------------------------------------------- */

static void make_key(const char *conv, uint64_t seq, char key[KEY_SIZE])
{
    snprintf(key, KEY_SIZE, "h/%s/%016llu", conv, (unsigned long long)seq);
}

static hconv *conv_find(pl_history *h, const char *conv)
{
    for (size_t i = 0; i < h->n_convs; i++)
        if (strcmp(h->convs[i].id, conv) == 0)
            return &h->convs[i];
    return NULL;
}

static hconv *conv_get(pl_history *h, const char *conv)
{
    hconv *c = conv_find(h, conv);
    if (c || h->n_convs >= PL_HISTORY_MAX_CONVS || strlen(conv) > PL_MAX_ID)
        return c;
    if (!h->convs && !(h->convs = pl_calloc(&h->alloc, PL_HISTORY_MAX_CONVS, sizeof *h->convs)))
        return NULL;
    c = &h->convs[h->n_convs++];
    memset(c, 0, sizeof *c);
    memcpy(c->id, conv, strlen(conv) + 1);
    return c;
}

/* The index of the first record with seq >= `seq`. */
static size_t lower_bound(const hconv *c, uint64_t seq)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->recs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int insert_at(pl_history *h, hconv *c, size_t i, uint64_t seq)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        hrec *grown = pl_realloc(&h->alloc, c->recs, cap * sizeof *grown);
        if (!grown)
            return PARLEY_ERR_NOMEM;
        c->recs = grown;
        c->cap = cap;
    }
    memmove(&c->recs[i + 1], &c->recs[i], (c->n - i) * sizeof *c->recs);
    c->recs[i] = (hrec){seq, NULL, 0};
    c->n++;
    return PARLEY_OK;
}

/* Drops the oldest records beyond the newest per_conv. */
static void trim(pl_history *h, hconv *c)
{
    while (c->n > h->per_conv) {
        char key[KEY_SIZE];
        make_key(c->id, c->recs[0].seq, key);
        if (h->journal && pl_journal_del(h->journal, PL_HISTORY_NS, key, 0) != PARLEY_OK)
            PL_LOG_W(h->log, "old history of %s not removed from the journal", c->id);
        pl_free(&h->alloc, c->recs[0].rec);
        memmove(&c->recs[0], &c->recs[1], (c->n - 1) * sizeof *c->recs);
        c->n--;
    }
}

/* Keeps a record (replacing one of the same seq). Not synced: losing the
 * newest in a crash costs a message the server still has. */
static int store(pl_history *h, const char *conv, uint64_t seq, const char *rec, size_t len)
{
    hconv *c = conv_get(h, conv);
    if (!c)
        return h->n_convs >= PL_HISTORY_MAX_CONVS ? PARLEY_OK : PARLEY_ERR_NOMEM;
    size_t i = lower_bound(c, seq);
    int found = i < c->n && c->recs[i].seq == seq;
    if (!found && c->n >= h->per_conv && i == 0)
        return PARLEY_OK; /* older than everything kept */
    char key[KEY_SIZE], *copy = NULL;
    make_key(conv, seq, key);
    if (!h->journal && !(copy = pl_strndup(&h->alloc, rec, len)))
        return PARLEY_ERR_NOMEM;
    int rc = h->journal ? pl_journal_put(h->journal, PL_HISTORY_NS, key, rec, len, 0) : PARLEY_OK;
    if (rc == PARLEY_OK && !found)
        rc = insert_at(h, c, i, seq);
    if (rc != PARLEY_OK) {
        pl_free(&h->alloc, copy);
        return rc;
    }
    pl_free(&h->alloc, c->recs[i].rec);
    c->recs[i].rec = copy;
    c->recs[i].len = len;
    trim(h, c);
    return PARLEY_OK;
}

static int store_cb(void *user, const char *conv, uint64_t seq, const char *rec, size_t len)
{
    return store(user, conv, seq, rec, len);
}

/* ---- the journal ------------------------------------------------------------------------ */

static int parse_key(const char *key, char conv[PL_MAX_ID + 1], uint64_t *seq)
{
    const char *slash = strrchr(key, '/');
    size_t n = slash ? (size_t)(slash - key) - 2 : 0;
    if (strncmp(key, "h/", 2) != 0 || !slash || n == 0 || n > PL_MAX_ID || strlen(slash + 1) != 16)
        return 0;
    char *end;
    unsigned long long v = strtoull(slash + 1, &end, 10);
    if (*end || !v)
        return 0;
    memcpy(conv, key + 2, n);
    conv[n] = '\0';
    *seq = v;
    return pl_id_valid(conv, PL_MAX_ID);
}

static int load_rec(void *user, const char *key, const void *value, size_t len)
{
    pl_history *h = user;
    char conv[PL_MAX_ID + 1];
    uint64_t seq;
    (void)value;
    (void)len;
    if (!parse_key(key, conv, &seq))
        return 0;
    hconv *c = conv_get(h, conv);
    if (!c)
        return h->n_convs >= PL_HISTORY_MAX_CONVS ? 0 : PARLEY_ERR_NOMEM;
    /* Keys come in ascending order: the record goes last. */
    return insert_at(h, c, lower_bound(c, seq), seq);
}

/* A smaller N than when the journal was written keeps the newest. */
static int load(pl_history *h)
{
    int rc = pl_journal_foreach(h->journal, PL_HISTORY_NS, load_rec, h);
    for (size_t i = 0; rc == PARLEY_OK && i < h->n_convs; i++)
        trim(h, &h->convs[i]);
    return rc;
}

/* ---- session hooks ------------------------------------------------------------------------ */

static int on_message(void *user, const pl_frame *f, parley_event *ev)
{
    pl_history *h = user;
    (void)ev;
    if (f->type != PL_FRAME_MSG)
        return PARLEY_OK;
    char *rec = NULL;
    size_t len = 0;
    int rc = pl_proto_record_of_msg(&h->alloc, f, &rec, &len);
    if (rc == PARLEY_OK)
        rc = store(h, f->conv, f->seq, rec, len);
    pl_free(&h->alloc, rec);
    if (rc != PARLEY_OK)
        PL_LOG_W(h->log, "message %s not kept in the local history: %s", f->id,
                 parley_strerror(rc));
    return PARLEY_OK;
}

static void on_item_done(void *user, const pl_sess_done *d)
{
    pl_history *h = user;
    if (!d->acked || !d->id || !d->seq)
        return;
    char *rec = NULL;
    size_t len = 0;
    int rc = pl_proto_record_of_sent(&h->alloc, d->frame, d->len, d->id, d->seq, h->wall_ms(), &rec,
                                     &len);
    if (rc == PARLEY_OK)
        rc = store(h, d->conv, d->seq, rec, len);
    pl_free(&h->alloc, rec);
    if (rc != PARLEY_OK)
        PL_LOG_W(h->log, "message %s not kept in the local history: %s", d->id,
                 parley_strerror(rc));
}

static void forget_all(pl_history *h)
{
    for (size_t i = 0; i < h->n_convs; i++) {
        for (size_t j = 0; j < h->convs[i].n; j++)
            pl_free(&h->alloc, h->convs[i].recs[j].rec);
        pl_free(&h->alloc, h->convs[i].recs);
    }
    pl_free(&h->alloc, h->convs);
    h->convs = NULL;
    h->n_convs = 0;
}

static void on_logout(void *user)
{
    pl_history *h = user;
    forget_all(h);
    if (h->journal && pl_journal_clear_ns(h->journal, PL_HISTORY_NS) != PARLEY_OK)
        PL_LOG_W(h->log, "the local history could not be wiped from the journal");
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

pl_history *pl_history_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal, uint32_t per_conv,
                           int64_t (*wall_ms)(void), const pl_log *log)
{
    pl_history *h = pl_calloc(a, 1, sizeof *h);
    if (!h)
        return NULL;
    h->alloc = *a;
    h->sess = sess;
    h->journal = journal;
    h->log = log;
    h->per_conv = per_conv > PL_HISTORY_MAX ? PL_HISTORY_MAX : per_conv;
    h->wall_ms = wall_ms;
    pl_sess_ext ext = {.user = h, .on_logout = on_logout};
    if (h->per_conv) {
        ext.on_message = on_message;
        ext.on_item_done = on_item_done;
    }
    /* Kept off, the journal's old history is dropped: the host chose so. */
    int rc = !journal      ? PARLEY_OK
             : h->per_conv ? load(h)
                           : pl_journal_clear_ns(journal, PL_HISTORY_NS);
    if (rc != PARLEY_OK || pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_history_free(h);
        return NULL;
    }
    return h;
}

void pl_history_free(pl_history *h)
{
    if (!h)
        return;
    forget_all(h);
    pl_alloc a = h->alloc;
    pl_free(&a, h);
}

/* ---- host API ----------------------------------------------------------------------------- */

int pl_history_enabled(const pl_history *h)
{
    return h->per_conv > 0;
}

void pl_history_keep_page(pl_history *h, const pl_frame *f)
{
    if (h->per_conv && pl_proto_page_records(&h->alloc, f, store_cb, h) != PARLEY_OK)
        PL_LOG_W(h->log, "a history page was not kept in the local history");
}

/* Record `r` of `c` as a MESSAGE item of the answer; a record that does
 * not decode is skipped. */
static int add_item(pl_history *h, const hconv *c, const hrec *r, parley_event *ans)
{
    const char *rec = r->rec;
    size_t len = r->len;
    char key[KEY_SIZE];
    if (h->journal) {
        make_key(c->id, r->seq, key);
        rec = pl_journal_get(h->journal, PL_HISTORY_NS, key, &len);
    }
    pl_item it;
    int rc = rec ? pl_proto_decode_record(&h->alloc, rec, len, &it) : PARLEY_ERR_PROTOCOL;
    if (rc == PARLEY_ERR_PROTOCOL) {
        PL_LOG_W(h->log, "a local history record of %s is unreadable", c->id);
        return PARLEY_OK;
    }
    parley_event *ev =
        rc == PARLEY_OK ? pl_event_from_item(&h->alloc, PARLEY_EV_MESSAGE, &it) : NULL;
    if (!ev || pl_event_set(ev, &ev->conv, c->id) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    ans->items[ans->n_items++] = ev;
    return PARLEY_OK;
}

int pl_history_answer(pl_history *h, const char *conv, uint64_t before, uint32_t limit,
                      const char *req)
{
    if (!h->per_conv)
        return PARLEY_OK;
    hconv *c = conv_find(h, conv);
    size_t end = c ? (before ? lower_bound(c, before) : c->n) : 0;
    size_t n = limit ? limit : DEFAULT_LIMIT, start = end > n ? end - n : 0;
    parley_event *ans = pl_event_new(&h->alloc, PARLEY_EV_HISTORY);
    int rc = ans && pl_event_set(ans, &ans->req, req) == PARLEY_OK &&
                     pl_event_set(ans, &ans->conv, conv) == PARLEY_OK
                 ? PARLEY_OK
                 : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK && end > start &&
        !(ans->items = pl_calloc(&h->alloc, end - start, sizeof *ans->items)))
        rc = PARLEY_ERR_NOMEM;
    for (size_t i = start; rc == PARLEY_OK && i < end; i++)
        rc = add_item(h, c, &c->recs[i], ans);
    if (rc != PARLEY_OK) {
        parley_event_free(ans);
        return rc;
    }
    ans->more = start > 0;
    ans->from_device = 1;
    pl_sess_emit(h->sess, ans);
    return PARLEY_OK;
}
