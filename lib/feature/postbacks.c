/* Postbacks: see postbacks.h.
 *
 * Journal namespace 5 (PL_POSTBACKS_NS), key "o/<order, 20 digits>":
 *   "<conv>\n<msg>\n<used 0|1>\n<the blocks' JSON>"  */
#include "feature/postbacks.h"

#include <stdio.h>
#include <string.h>

#include "codec/proto_blocks.h"
#include "util/utf8.h"

/* Options a message offered, kept so that a postback can be checked before
 * it is queued (and after a restart). */
typedef struct offer {
    char *conv, *msg;
    int used; /* its quick replies were answered */
    uint64_t order;
    pl_content *content;
} offer;

struct pl_postbacks {
    pl_alloc alloc;
    pl_sess *sess;
    pl_journal *journal;
    const pl_log *log;
    offer *offers[PL_POSTBACKS_MAX];
    size_t n_offers;
    uint64_t next_order;
};

/* ---- offers ------------------------------------------------------------------- */

static void offer_free(pl_postbacks *p, offer *o)
{
    if (!o)
        return;
    pl_free(&p->alloc, o->conv);
    pl_free(&p->alloc, o->msg);
    pl_content_free(&p->alloc, o->content);
    pl_free(&p->alloc, o);
}

static void offer_key(uint64_t order, char key[32])
{
    snprintf(key, 32, "o/%020llu", (unsigned long long)order);
}

static int offer_persist(pl_postbacks *p, const offer *o)
{
    if (!p->journal)
        return PARLEY_OK;
    size_t n = strlen(o->conv) + strlen(o->msg) + strlen(o->content->raw_json) + 8;
    char *v = pl_malloc(&p->alloc, n), key[32];
    if (!v)
        return PARLEY_ERR_NOMEM;
    int len = snprintf(v, n, "%s\n%s\n%d\n%s", o->conv, o->msg, o->used, o->content->raw_json);
    offer_key(o->order, key);
    int rc = pl_journal_put(p->journal, PL_POSTBACKS_NS, key, v, (size_t)len, 0);
    pl_free(&p->alloc, v);
    return rc;
}

static void offer_remove(pl_postbacks *p, size_t i)
{
    char key[32];
    offer_key(p->offers[i]->order, key);
    if (p->journal && pl_journal_del(p->journal, PL_POSTBACKS_NS, key, 0) != PARLEY_OK)
        PL_LOG_W(p->log, "an old offer stays in the journal");
    offer_free(p, p->offers[i]);
    memmove(&p->offers[i], &p->offers[i + 1], (p->n_offers - i - 1) * sizeof p->offers[0]);
    p->n_offers--;
}

static offer *offer_find(const pl_postbacks *p, const char *conv, const char *msg)
{
    for (size_t i = 0; i < p->n_offers; i++)
        if (strcmp(p->offers[i]->conv, conv) == 0 && strcmp(p->offers[i]->msg, msg) == 0)
            return p->offers[i];
    return NULL;
}

/* Makes room: the conversation's oldest beyond its share, else the oldest
 * of all. */
static void offers_trim(pl_postbacks *p, const char *conv)
{
    size_t mine = 0, oldest = p->n_offers;
    for (size_t i = 0; i < p->n_offers; i++)
        if (strcmp(p->offers[i]->conv, conv) == 0 && mine++ == 0)
            oldest = i;
    if (mine >= PL_POSTBACKS_PER_CONV)
        offer_remove(p, oldest);
    else if (p->n_offers == PL_POSTBACKS_MAX)
        offer_remove(p, 0);
}

/* Remembers what a delivered message offered. Its own copy of the blocks
 * (read back from their JSON): the event's go to the host. */
static int offer_remember(pl_postbacks *p, const char *conv, const char *msg,
                          const pl_content *content)
{
    if (!pl_content_has_postback(content) || offer_find(p, conv, msg))
        return PARLEY_OK;
    offer *o = pl_calloc(&p->alloc, 1, sizeof *o);
    int rc =
        o ? pl_proto_parse_content(&p->alloc, content->raw_json, &o->content) : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK &&
        (!(o->conv = pl_strdup(&p->alloc, conv)) || !(o->msg = pl_strdup(&p->alloc, msg))))
        rc = PARLEY_ERR_NOMEM;
    if (rc != PARLEY_OK) {
        offer_free(p, o);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_OK;
    }
    offers_trim(p, conv);
    o->order = p->next_order++;
    if (offer_persist(p, o) != PARLEY_OK)
        PL_LOG_W(p->log, "offer of %s not journaled: a postback to it fails after a restart", msg);
    p->offers[p->n_offers++] = o;
    return PARLEY_OK;
}

/* ---- journal -------------------------------------------------------------------- */

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!n || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Splits "conv\nmsg\nused\njson" into its three first fields (f, n) and
 * the rest (*json); 0 when malformed. */
static int offer_fields(const char *v, size_t len, const char *f[3], size_t n[3], const char **json)
{
    const char *end = v + len, *s = v;
    for (int i = 0; i < 3; i++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            return 0;
        f[i] = s;
        n[i] = (size_t)(nl - s);
        s = nl + 1;
    }
    *json = s;
    return n[2] == 1;
}

/* A malformed record is skipped. */
static int load_offer(pl_postbacks *p, const char *key, const char *v, size_t len)
{
    uint64_t order;
    const char *f[3], *json_at;
    size_t n[3];
    if (!offer_fields(v, len, f, n, &json_at) || !parse_u64(key + 2, strlen(key + 2), &order) ||
        p->n_offers == PL_POSTBACKS_MAX)
        return PARLEY_OK;
    offer *o = pl_calloc(&p->alloc, 1, sizeof *o);
    char *json = pl_strndup(&p->alloc, json_at, (size_t)(v + len - json_at));
    int rc = o && json ? PARLEY_OK : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK && (!(o->conv = pl_strndup(&p->alloc, f[0], n[0])) ||
                            !(o->msg = pl_strndup(&p->alloc, f[1], n[1]))))
        rc = PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK)
        rc = pl_proto_parse_content(&p->alloc, json, &o->content);
    pl_free(&p->alloc, json);
    if (rc != PARLEY_OK || !pl_id_valid(o->conv, PL_MAX_ID) || !pl_id_valid(o->msg, PL_MAX_ID)) {
        offer_free(p, o);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_OK;
    }
    o->used = f[2][0] == '1';
    o->order = order;
    if (order >= p->next_order)
        p->next_order = order + 1;
    p->offers[p->n_offers++] = o;
    return PARLEY_OK;
}

static int load_entry(void *user, const char *key, const void *value, size_t len)
{
    return strncmp(key, "o/", 2) == 0 ? load_offer(user, key, value, len) : PARLEY_OK;
}

/* ---- session hooks ----------------------------------------------------------- */

static int on_message(void *user, const pl_frame *f, parley_event *ev)
{
    pl_postbacks *p = user;
    return f->type == PL_FRAME_MSG && ev->content ? offer_remember(p, f->conv, f->id, ev->content)
                                                  : PARLEY_OK;
}

static void forget_all(pl_postbacks *p)
{
    for (size_t i = 0; i < p->n_offers; i++)
        offer_free(p, p->offers[i]);
    p->n_offers = 0;
}

static void on_logout(void *user)
{
    pl_postbacks *p = user;
    forget_all(p);
    if (p->journal && pl_journal_clear_ns(p->journal, PL_POSTBACKS_NS) != PARLEY_OK)
        PL_LOG_W(p->log, "offers could not be wiped from the journal");
}

/* ---- lifecycle ------------------------------------------------------------------ */

pl_postbacks *pl_postbacks_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal,
                               const pl_log *log)
{
    pl_postbacks *p = pl_calloc(a, 1, sizeof *p);
    if (!p)
        return NULL;
    p->alloc = *a;
    p->sess = sess;
    p->journal = journal;
    p->log = log;
    p->next_order = 1;
    pl_sess_ext ext = {.user = p, .on_message = on_message, .on_logout = on_logout};
    if ((journal && pl_journal_foreach(journal, PL_POSTBACKS_NS, load_entry, p) != PARLEY_OK) ||
        pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_postbacks_free(p);
        return NULL;
    }
    return p;
}

void pl_postbacks_free(pl_postbacks *p)
{
    if (!p)
        return;
    forget_all(p);
    pl_alloc a = p->alloc;
    pl_free(&a, p);
}

/* ---- host API ------------------------------------------------------------------- */

static int check_postback(pl_postbacks *p, const char *conv, const char *msg, const char *option,
                          const char **label, const char **payload)
{
    if (!pl_id_valid(conv, PL_MAX_ID) || !pl_id_valid(msg, PL_MAX_ID) ||
        !pl_id_valid(option, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    const offer *o = offer_find(p, conv, msg);
    const struct parley_option *opt = o ? pl_content_option(o->content, option) : NULL;
    if (!opt)
        return PARLEY_ERR_NOT_FOUND;
    if (opt->action != PARLEY_ACTION_POSTBACK)
        return PARLEY_ERR_INVALID_ARG;
    if (opt->quick && o->used)
        return PARLEY_ERR_STATE;
    *label = opt->label;
    *payload = opt->payload;
    return PARLEY_OK;
}

static void postback_done(pl_postbacks *p, const char *conv, const char *msg, const char *option)
{
    offer *o = offer_find(p, conv, msg);
    const struct parley_option *opt = o ? pl_content_option(o->content, option) : NULL;
    if (!opt || !opt->quick || o->used)
        return;
    o->used = 1;
    if (offer_persist(p, o) != PARLEY_OK)
        PL_LOG_W(p->log, "answered quick replies of %s not journaled", msg);
}

/* The label goes out as the user's message: redacted, with the context
 * snapshot, through the outbox. */
int pl_postbacks_send(pl_postbacks *p, pl_ctx *ctx, const char *conv, const char *msg,
                      const char *option, char cid[PARLEY_ID_SIZE])
{
    const char *label = NULL, *payload = NULL;
    int rc = check_postback(p, conv, msg, option, &label, &payload);
    if (rc == PARLEY_OK)
        rc = pl_sess_check_text(p->sess, conv, label);
    char *text = NULL;
    if (rc == PARLEY_OK)
        rc = pl_ctx_prepare_message(ctx, label, &text);
    pl_postback pb = {msg, option, payload};
    if (rc == PARLEY_OK)
        rc = pl_sess_send_text(p->sess, conv, text, &pb, cid);
    pl_free(&p->alloc, text);
    if (rc == PARLEY_OK)
        postback_done(p, conv, msg, option);
    return rc;
}
