/* Read receipts and unread counts: see receipts.h.
 *
 * Journal namespace 5 (PL_RECEIPTS_NS), key "r/<conv>": the read mark's
 * seq as the wire writes it; key "u/<conv>": the server's last unread
 * count, in decimal, so that parley_unread_count is right after a restart
 * before any connection. */
#include "feature/receipts.h"

#include <stdio.h>
#include <string.h>

#include "codec/proto_notices.h"
#include "util/utf8.h"

typedef struct rconv {
    char *conv;
    uint64_t read_mark; /* 0: none */
    uint32_t unread;
} rconv;

/* Conversations the server may mention beyond the user's own are bounded
 * too: each costs memory. */
#define MAX_COUNT_DIGITS 10
#define MAX_CONVS (2 * PL_MAX_CONVERSATIONS)

struct pl_receipts {
    pl_alloc alloc;
    pl_sess *sess;
    pl_journal *journal;
    const pl_log *log;
    rconv *convs[MAX_CONVS];
    size_t n_convs;
    int loading; /* walking the journal, whose records cannot go under the walk */
    int dropped; /* counts were let go while loading: their records go after */
};

/* ---- conversations ---------------------------------------------------------------- */

static void rconv_free(pl_receipts *r, rconv *c)
{
    if (!c)
        return;
    pl_free(&r->alloc, c->conv);
    pl_free(&r->alloc, c);
}

/* The count of an entry let go takes no journal space either: otherwise
 * a server naming ever new conversations grows the journal, which keeps
 * and replays every live record. An idle entry has no read mark record. */
static void forget_count(pl_receipts *r, const rconv *c)
{
    char key[PL_MAX_ID + 3];
    if (!r->journal)
        return;
    if (r->loading) {
        r->dropped = 1;
        return;
    }
    snprintf(key, sizeof key, "u/%s", c->conv);
    if (pl_journal_del(r->journal, PL_RECEIPTS_NS, key, 0) != PARLEY_OK)
        PL_LOG_W(r->log, "unread count of %s not removed from the journal", c->conv);
}

/* An entry worth nothing: no mark, not the user's. */
static int conv_idle(const pl_receipts *r, const rconv *c)
{
    return !c->read_mark && !pl_sess_conv_known(r->sess, c->conv);
}

/* The entry of `conv`, created when missing; NULL when out of memory or
 * when the table is full of conversations that matter. */
static rconv *conv_get(pl_receipts *r, const char *conv)
{
    for (size_t i = 0; i < r->n_convs; i++)
        if (strcmp(r->convs[i]->conv, conv) == 0)
            return r->convs[i];
    size_t slot = r->n_convs;
    if (slot == MAX_CONVS)
        for (slot = 0; slot < MAX_CONVS && !conv_idle(r, r->convs[slot]); slot++)
            ;
    if (slot == MAX_CONVS)
        return NULL;
    rconv *c = pl_calloc(&r->alloc, 1, sizeof *c);
    if (!c || !(c->conv = pl_strdup(&r->alloc, conv))) {
        pl_free(&r->alloc, c);
        return NULL;
    }
    if (slot < r->n_convs) {
        forget_count(r, r->convs[slot]);
        rconv_free(r, r->convs[slot]);
    } else
        r->n_convs++;
    r->convs[slot] = c;
    return c;
}

static int load_count(pl_receipts *r, const char *conv, const char *value, size_t len)
{
    uint32_t n = 0;
    if (!len || len > MAX_COUNT_DIGITS || !pl_id_valid(conv, PL_MAX_ID))
        return PARLEY_OK;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9' || n > (UINT32_MAX - 9) / 10)
            return PARLEY_OK;
        n = n * 10 + (uint32_t)(value[i] - '0');
    }
    rconv *c = conv_get(r, conv);
    if (!c)
        return PARLEY_ERR_NOMEM;
    c->unread = n;
    return PARLEY_OK;
}

static int load_mark(void *user, const char *key, const void *value, size_t len)
{
    pl_receipts *r = user;
    char seq[24];
    uint64_t mark;
    if (strncmp(key, "u/", 2) == 0)
        return load_count(r, key + 2, value, len);
    if (strncmp(key, "r/", 2) != 0 || len >= sizeof seq)
        return PARLEY_OK;
    memcpy(seq, value, len);
    seq[len] = '\0';
    if (!pl_id_valid(key + 2, PL_MAX_ID) || !pl_proto_parse_seq(seq, &mark))
        return PARLEY_OK;
    rconv *c = conv_get(r, key + 2);
    if (!c)
        return PARLEY_ERR_NOMEM;
    c->read_mark = mark;
    return PARLEY_OK;
}

/* The count records the table did not keep at load (a journal grown
 * before counts were bounded), collected first: a deletion would disturb
 * the walk. */
typedef struct stale_walk {
    pl_receipts *r;
    char **keys;
    size_t n, cap;
} stale_walk;

static int kept(const pl_receipts *r, const char *conv)
{
    for (size_t i = 0; i < r->n_convs; i++)
        if (strcmp(r->convs[i]->conv, conv) == 0)
            return 1;
    return 0;
}

static int find_stale(void *user, const char *key, const void *value, size_t len)
{
    stale_walk *w = user;
    (void)value;
    (void)len;
    if (strncmp(key, "u/", 2) != 0 || kept(w->r, key + 2))
        return PARLEY_OK;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        char **keys = pl_realloc(&w->r->alloc, w->keys, cap * sizeof *keys);
        if (!keys)
            return PARLEY_ERR_NOMEM;
        w->keys = keys;
        w->cap = cap;
    }
    if (!(w->keys[w->n] = pl_strdup(&w->r->alloc, key)))
        return PARLEY_ERR_NOMEM;
    w->n++;
    return PARLEY_OK;
}

static int drop_stale(pl_receipts *r)
{
    stale_walk w = {r, NULL, 0, 0};
    int rc = pl_journal_foreach(r->journal, PL_RECEIPTS_NS, find_stale, &w);
    for (size_t i = 0; i < w.n; i++) {
        if (rc == PARLEY_OK)
            rc = pl_journal_del(r->journal, PL_RECEIPTS_NS, w.keys[i], 0);
        pl_free(&r->alloc, w.keys[i]);
    }
    pl_free(&r->alloc, w.keys);
    return rc;
}

static int load(pl_receipts *r)
{
    r->loading = 1;
    int rc = pl_journal_foreach(r->journal, PL_RECEIPTS_NS, load_mark, r);
    r->loading = 0;
    if (rc == PARLEY_OK && r->dropped && drop_stale(r) != PARLEY_OK)
        PL_LOG_W(r->log, "unread counts not kept could not be removed from the journal");
    return rc;
}

static int send_read(pl_receipts *r, const rconv *c)
{
    char *frame = NULL;
    size_t len = 0;
    int rc = pl_proto_encode_read(&r->alloc, c->conv, c->read_mark, &frame, &len);
    return rc == PARLEY_OK ? pl_sess_send_control(r->sess, "read", frame, len) : rc;
}

/* ---- session hooks ------------------------------------------------------------------ */

/* Every read mark goes to a new connection. */
static int on_welcome(void *user, int64_t now)
{
    pl_receipts *r = user;
    (void)now;
    int rc = PARLEY_OK;
    for (size_t i = 0; i < r->n_convs && rc == PARLEY_OK; i++)
        if (r->convs[i]->read_mark)
            rc = send_read(r, r->convs[i]);
    return rc;
}

/* Not synced: a count lost in a crash is corrected by the next welcome. */
static void persist_count(pl_receipts *r, const rconv *c)
{
    char key[PL_MAX_ID + 3], v[16];
    if (!r->journal)
        return;
    snprintf(key, sizeof key, "u/%s", c->conv);
    snprintf(v, sizeof v, "%u", (unsigned)c->unread);
    if (pl_journal_put(r->journal, PL_RECEIPTS_NS, key, v, strlen(v), 0) != PARLEY_OK)
        PL_LOG_W(r->log, "unread count of %s not journaled", c->conv);
}

/* An unread count naming a conversation this client does not know (a
 * new device) makes it a member, its newest messages backfilled. */
static int on_unread(pl_receipts *r, parley_event *ev)
{
    uint64_t last = 0;
    rconv *c = conv_get(r, ev->conv);
    if (c && c->unread != ev->count) {
        c->unread = ev->count;
        persist_count(r, c);
    } else if (!c) {
        PL_LOG_W(r->log, "unread count of %s not kept: too many conversations", ev->conv);
    }
    if (ev->seq && pl_proto_parse_seq(ev->seq, &last) &&
        pl_sess_adopt(r->sess, ev->conv, last) == PARLEY_ERR_NOMEM) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    /* last_seq is the wire's business, not the host's. */
    (void)pl_event_set(ev, &ev->seq, NULL);
    pl_sess_emit(r->sess, ev);
    return 1;
}

static int on_frame(void *user, int64_t now, const pl_frame *f)
{
    pl_receipts *r = user;
    (void)now;
    int is_read = strcmp(f->type_name, "read") == 0;
    if (f->type != PL_FRAME_UNKNOWN || (!is_read && strcmp(f->type_name, "unread") != 0))
        return 0;
    pl_item item;
    char why[160];
    int rc = is_read ? pl_proto_decode_read(&r->alloc, f, &item, why, sizeof why)
                     : pl_proto_decode_unread(&r->alloc, f, &item, why, sizeof why);
    if (rc == PARLEY_ERR_PROTOCOL)
        return pl_sess_bad_frame(r->sess, f, why, NULL) == PARLEY_OK ? 1 : PARLEY_ERR_NOMEM;
    if (rc != PARLEY_OK)
        return rc;
    parley_event *ev =
        pl_event_from_item(&r->alloc, is_read ? PARLEY_EV_READ : PARLEY_EV_UNREAD, &item);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    if (!is_read)
        return on_unread(r, ev);
    pl_sess_emit(r->sess, ev);
    return 1;
}

static void forget_all(pl_receipts *r)
{
    for (size_t i = 0; i < r->n_convs; i++)
        rconv_free(r, r->convs[i]);
    r->n_convs = 0;
}

static void on_logout(void *user)
{
    pl_receipts *r = user;
    forget_all(r);
    if (r->journal && pl_journal_clear_ns(r->journal, PL_RECEIPTS_NS) != PARLEY_OK)
        PL_LOG_W(r->log, "read marks could not be wiped from the journal");
}

/* ---- lifecycle ------------------------------------------------------------------------ */

pl_receipts *pl_receipts_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal,
                             const pl_log *log)
{
    pl_receipts *r = pl_calloc(a, 1, sizeof *r);
    if (!r)
        return NULL;
    r->alloc = *a;
    r->sess = sess;
    r->journal = journal;
    r->log = log;
    pl_sess_ext ext = {
        .user = r, .on_welcome = on_welcome, .on_frame = on_frame, .on_logout = on_logout};
    if ((journal && load(r) != PARLEY_OK) || pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_receipts_free(r);
        return NULL;
    }
    return r;
}

void pl_receipts_free(pl_receipts *r)
{
    if (!r)
        return;
    forget_all(r);
    pl_alloc a = r->alloc;
    pl_free(&a, r);
}

/* ---- host API --------------------------------------------------------------------------- */

int pl_receipts_mark_read(pl_receipts *r, const char *conv, const char *seq)
{
    uint64_t mark;
    if (!pl_id_valid(conv, PL_MAX_ID) || !pl_proto_parse_seq(seq, &mark))
        return PARLEY_ERR_INVALID_ARG;
    int rc = pl_sess_conv_use(r->sess, conv);
    if (rc != PARLEY_OK)
        return rc;
    rconv *c = conv_get(r, conv);
    if (!c)
        return PARLEY_ERR_NOMEM;
    if (mark <= c->read_mark)
        return PARLEY_OK;
    char key[PL_MAX_ID + 3];
    snprintf(key, sizeof key, "r/%s", conv);
    rc = r->journal ? pl_journal_put(r->journal, PL_RECEIPTS_NS, key, seq, strlen(seq), 0)
                    : PARLEY_OK;
    if (rc != PARLEY_OK)
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
    c->read_mark = mark;
    /* Kept either way: the next welcome sends it. */
    if (pl_sess_online(r->sess) && send_read(r, c) != PARLEY_OK)
        PL_LOG_W(r->log, "read mark of %s not sent now: out of memory", conv);
    return PARLEY_OK;
}

int pl_receipts_unread(const pl_receipts *r, const char *conv, uint32_t *out)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->n_convs; i++)
        if (!conv || strcmp(r->convs[i]->conv, conv) == 0)
            sum += r->convs[i]->unread;
    *out = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
    return PARLEY_OK;
}
