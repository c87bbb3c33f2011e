/* Push notifications: see push.h. */
#include "feature/push.h"

#include <stdio.h>
#include <string.h>

#include "codec/proto_push.h"
#include "util/utf8.h"

#define KEY_TOKEN "token"
#define KEY_FORGET "forget"

struct pl_push {
    pl_alloc alloc;
    pl_sess *sess;
    pl_journal *journal;
    const pl_log *log;
    char *platform, *token; /* NULL: none */
    char *forget[PL_PUSH_MAX_FORGET];
    size_t n_forget;
};

/* ---- the journal ---------------------------------------------------------------------- */

static void save(pl_push *p, const char *key, const char *value)
{
    if (!p->journal)
        return;
    int rc = value ? pl_journal_put(p->journal, PL_PUSH_NS, key, value, strlen(value), 0)
                   : pl_journal_del(p->journal, PL_PUSH_NS, key, 0);
    if (rc != PARLEY_OK)
        PL_LOG_W(p->log, "push %s not journaled: %s", key, parley_strerror(rc));
}

static void save_token(pl_push *p)
{
    if (!p->token) {
        save(p, KEY_TOKEN, NULL);
        return;
    }
    size_t n = strlen(p->platform) + strlen(p->token) + 2;
    char *v = pl_malloc(&p->alloc, n);
    if (!v) {
        PL_LOG_W(p->log, "push token not journaled: out of memory");
        return;
    }
    snprintf(v, n, "%s\n%s", p->platform, p->token);
    save(p, KEY_TOKEN, v);
    pl_free(&p->alloc, v);
}

static void save_forget(pl_push *p)
{
    size_t n = 1;
    for (size_t i = 0; i < p->n_forget; i++)
        n += strlen(p->forget[i]) + 1;
    char *v = p->n_forget ? pl_malloc(&p->alloc, n) : NULL;
    if (p->n_forget && !v) {
        PL_LOG_W(p->log, "tokens to forget not journaled: out of memory");
        return;
    }
    size_t off = 0;
    for (size_t i = 0; i < p->n_forget; i++)
        off += (size_t)snprintf(v + off, n - off, "%s%s", i ? "\n" : "", p->forget[i]);
    save(p, KEY_FORGET, v);
    pl_free(&p->alloc, v);
}

static int platform_valid(const char *s)
{
    return pl_id_valid(s, PL_PUSH_MAX_PLATFORM);
}

static int token_valid(const char *s)
{
    return pl_id_valid(s, PL_PUSH_MAX_TOKEN);
}

/* A token to unregister; the oldest goes when there are too many. */
static int add_forget(pl_push *p, const char *token, size_t len)
{
    char *t = pl_strndup(&p->alloc, token, len);
    if (!t)
        return PARLEY_ERR_NOMEM;
    if (p->n_forget == PL_PUSH_MAX_FORGET) {
        pl_free(&p->alloc, p->forget[0]);
        memmove(p->forget, p->forget + 1, (PL_PUSH_MAX_FORGET - 1) * sizeof *p->forget);
        p->n_forget--;
    }
    p->forget[p->n_forget++] = t;
    return PARLEY_OK;
}

static int load(pl_push *p)
{
    size_t len = 0;
    const char *v = pl_journal_get(p->journal, PL_PUSH_NS, KEY_TOKEN, &len);
    const char *nl = v ? memchr(v, '\n', len) : NULL;
    if (nl) {
        p->platform = pl_strndup(&p->alloc, v, (size_t)(nl - v));
        p->token = pl_strndup(&p->alloc, nl + 1, len - (size_t)(nl - v) - 1);
        if (!p->platform || !p->token)
            return PARLEY_ERR_NOMEM;
        if (!platform_valid(p->platform) || !token_valid(p->token)) {
            PL_LOG_W(p->log, "journal: bad push token skipped");
            pl_free(&p->alloc, p->platform);
            pl_free(&p->alloc, p->token);
            p->platform = p->token = NULL;
        }
    }
    v = pl_journal_get(p->journal, PL_PUSH_NS, KEY_FORGET, &len);
    if (!v)
        return PARLEY_OK;
    for (const char *s = v, *end = v + len; s < end;) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
        if (n && n <= PL_PUSH_MAX_TOKEN && add_forget(p, s, n) != PARLEY_OK)
            return PARLEY_ERR_NOMEM;
        s += n + 1;
    }
    return PARLEY_OK;
}

/* ---- frames --------------------------------------------------------------------------- */

/* The forgotten tokens go first (once queued they are done with), then
 * the current one. */
static int send_all(pl_push *p)
{
    char *frame = NULL;
    size_t len = 0;
    int rc = PARLEY_OK;
    while (p->n_forget && rc == PARLEY_OK) {
        rc = pl_proto_encode_push_unregister(&p->alloc, p->forget[0], &frame, &len);
        if (rc == PARLEY_OK)
            rc = pl_sess_send_control(p->sess, "push.unregister", frame, len);
        if (rc == PARLEY_OK) {
            pl_free(&p->alloc, p->forget[0]);
            memmove(p->forget, p->forget + 1, --p->n_forget * sizeof *p->forget);
            save_forget(p);
        }
    }
    if (rc == PARLEY_OK && p->token) {
        rc = pl_proto_encode_push_register(&p->alloc, p->platform, p->token, &frame, &len);
        if (rc == PARLEY_OK)
            rc = pl_sess_send_control(p->sess, "push.register", frame, len);
    }
    return rc;
}

/* ---- session hooks -------------------------------------------------------------------- */

static int on_welcome(void *user, int64_t now)
{
    (void)now;
    return send_all(user);
}

static void clear_token(pl_push *p)
{
    pl_free(&p->alloc, p->platform);
    pl_free(&p->alloc, p->token);
    p->platform = p->token = NULL;
}

/* The user is gone: the server must stop pushing their replies here. */
static void on_logout(void *user)
{
    pl_push *p = user;
    if (p->token && add_forget(p, p->token, strlen(p->token)) != PARLEY_OK)
        PL_LOG_W(p->log, "push token not unregistered: out of memory");
    clear_token(p);
    if (p->journal && pl_journal_clear_ns(p->journal, PL_PUSH_NS) != PARLEY_OK)
        PL_LOG_W(p->log, "push token could not be wiped from the journal");
    save_forget(p);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

pl_push *pl_push_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal, const pl_log *log)
{
    pl_push *p = pl_calloc(a, 1, sizeof *p);
    if (!p)
        return NULL;
    p->alloc = *a;
    p->sess = sess;
    p->journal = journal;
    p->log = log;
    pl_sess_ext ext = {.user = p, .on_welcome = on_welcome, .on_logout = on_logout};
    if ((journal && load(p) != PARLEY_OK) || pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_push_free(p);
        return NULL;
    }
    return p;
}

void pl_push_free(pl_push *p)
{
    if (!p)
        return;
    clear_token(p);
    for (size_t i = 0; i < p->n_forget; i++)
        pl_free(&p->alloc, p->forget[i]);
    pl_alloc a = p->alloc;
    pl_free(&a, p);
}

/* ---- host API ------------------------------------------------------------------------- */

int pl_push_set_token(pl_push *p, const char *platform, const char *token)
{
    if (!platform != !token || (token && (!platform_valid(platform) || !token_valid(token))))
        return PARLEY_ERR_INVALID_ARG;
    if (token && p->token && strcmp(token, p->token) == 0 && strcmp(platform, p->platform) == 0)
        return PARLEY_OK;
    char *plat = pl_strdup(&p->alloc, platform), *tok = pl_strdup(&p->alloc, token);
    if ((platform && !plat) || (token && !tok) ||
        (p->token && strcmp(p->token, token ? token : "") != 0 &&
         add_forget(p, p->token, strlen(p->token)) != PARLEY_OK)) {
        pl_free(&p->alloc, plat);
        pl_free(&p->alloc, tok);
        return PARLEY_ERR_NOMEM;
    }
    clear_token(p);
    p->platform = plat;
    p->token = tok;
    save_token(p);
    save_forget(p);
    if (pl_sess_online(p->sess) && send_all(p) != PARLEY_OK)
        PL_LOG_W(p->log, "push token goes out at the next connection");
    return PARLEY_OK;
}

int pl_push_handle(pl_push *p, const char *payload, int64_t now)
{
    char conv[PL_MAX_ID + 1];
    uint64_t seq = 0;
    if (!payload)
        return PARLEY_ERR_INVALID_ARG;
    int rc = pl_proto_decode_push(&p->alloc, payload, strlen(payload), conv, sizeof conv, &seq);
    if (rc == PARLEY_OK)
        rc = pl_sess_adopt(p->sess, conv, seq);
    if (rc == PARLEY_OK)
        pl_sess_reconnect_now(p->sess, now);
    return rc;
}
