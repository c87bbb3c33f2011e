/* Typing indicators: see typing.h. */
#include "feature/typing.h"

#include <string.h>

#include "codec/proto_notices.h"
#include "util/utf8.h"

/* Per conversation: the user's typing and the support side's. */
typedef struct tconv {
    char *conv;
    int64_t sent_at;      /* when the last "on" went out */
    int on;               /* an "on" went out and no "off" since */
    int64_t remote_until; /* -1: nobody is typing */
    int remote_kind;
    char *remote_name;
} tconv;

/* Conversations the server may mention beyond the user's own are bounded
 * too: each costs memory. */
#define MAX_CONVS (2 * PL_MAX_CONVERSATIONS)

struct pl_typing {
    pl_alloc alloc;
    pl_sess *sess;
    const pl_log *log;
    tconv *convs[MAX_CONVS];
    size_t n_convs;
};

/* ---- conversations --------------------------------------------------------------- */

static void tconv_free(pl_typing *t, tconv *c)
{
    if (!c)
        return;
    pl_free(&t->alloc, c->conv);
    pl_free(&t->alloc, c->remote_name);
    pl_free(&t->alloc, c);
}

/* An entry worth nothing: nobody typing, not the user's. */
static int conv_idle(const pl_typing *t, const tconv *c)
{
    return c->remote_until < 0 && !c->on && !pl_sess_conv_known(t->sess, c->conv);
}

/* The entry of `conv`, created when missing; NULL when out of memory or
 * when the table is full of conversations that matter. */
static tconv *conv_get(pl_typing *t, const char *conv)
{
    for (size_t i = 0; i < t->n_convs; i++)
        if (strcmp(t->convs[i]->conv, conv) == 0)
            return t->convs[i];
    size_t slot = t->n_convs;
    if (slot == MAX_CONVS)
        for (slot = 0; slot < MAX_CONVS && !conv_idle(t, t->convs[slot]); slot++)
            ;
    if (slot == MAX_CONVS)
        return NULL;
    tconv *c = pl_calloc(&t->alloc, 1, sizeof *c);
    if (!c || !(c->conv = pl_strdup(&t->alloc, conv))) {
        pl_free(&t->alloc, c);
        return NULL;
    }
    c->sent_at = INT64_MIN / 2;
    c->remote_until = -1;
    if (slot < t->n_convs)
        tconv_free(t, t->convs[slot]);
    else
        t->n_convs++;
    t->convs[slot] = c;
    return c;
}

/* ---- the support side's typing ------------------------------------------------------ */

static int on_typing(pl_typing *t, int64_t now, parley_event *ev)
{
    tconv *c = conv_get(t, ev->conv);
    if (!c) {
        PL_LOG_W(t->log, "typing in %s ignored: too many conversations", ev->conv);
        parley_event_free(ev);
        return 1;
    }
    if (ev->state == PARLEY_TYPING_ON) {
        char *name = NULL;
        if (ev->author_name && !(name = pl_strdup(&t->alloc, ev->author_name))) {
            parley_event_free(ev);
            return PARLEY_ERR_NOMEM;
        }
        pl_free(&t->alloc, c->remote_name);
        c->remote_name = name;
        c->remote_kind = ev->author_kind;
        c->remote_until = now + PL_TYPING_EXPIRY_MS;
    } else {
        c->remote_until = -1;
    }
    pl_sess_emit(t->sess, ev);
    return 1;
}

static int on_frame(void *user, int64_t now, const pl_frame *f)
{
    pl_typing *t = user;
    if (f->type != PL_FRAME_UNKNOWN || strcmp(f->type_name, "typing") != 0)
        return 0;
    pl_item item;
    char why[160];
    int rc = pl_proto_decode_typing(&t->alloc, f, &item, why, sizeof why);
    if (rc == PARLEY_ERR_PROTOCOL)
        return pl_sess_bad_frame(t->sess, f, why, NULL) == PARLEY_OK ? 1 : PARLEY_ERR_NOMEM;
    if (rc != PARLEY_OK)
        return rc;
    parley_event *ev = pl_event_from_item(&t->alloc, PARLEY_EV_TYPING, &item);
    return ev ? on_typing(t, now, ev) : PARLEY_ERR_NOMEM;
}

static int64_t next_due(void *user)
{
    pl_typing *t = user;
    int64_t due = -1;
    for (size_t i = 0; i < t->n_convs; i++) {
        int64_t at = t->convs[i]->remote_until;
        if (at >= 0 && (due < 0 || at < due))
            due = at;
    }
    return due;
}

/* Dots left behind by a server that went quiet are cleared here. */
static void on_tick(void *user, int64_t now)
{
    pl_typing *t = user;
    for (size_t i = 0; i < t->n_convs; i++) {
        tconv *c = t->convs[i];
        if (c->remote_until < 0 || now < c->remote_until)
            continue;
        parley_event *ev = pl_event_new(&t->alloc, PARLEY_EV_TYPING);
        if (!ev || pl_event_set(ev, &ev->conv, c->conv) != PARLEY_OK ||
            pl_event_set(ev, &ev->author_name, c->remote_name) != PARLEY_OK) {
            parley_event_free(ev);
            PL_LOG_W(t->log, "typing expiry delayed: out of memory");
            return;
        }
        ev->state = PARLEY_TYPING_OFF;
        ev->author_kind = c->remote_kind;
        c->remote_until = -1;
        pl_sess_emit(t->sess, ev);
    }
}

/* A new connection: the server forgot our typing. */
static int on_welcome(void *user, int64_t now)
{
    pl_typing *t = user;
    (void)now;
    for (size_t i = 0; i < t->n_convs; i++)
        t->convs[i]->on = 0;
    return PARLEY_OK;
}

static void forget_all(pl_typing *t)
{
    for (size_t i = 0; i < t->n_convs; i++)
        tconv_free(t, t->convs[i]);
    t->n_convs = 0;
}

static void on_logout(void *user)
{
    forget_all(user);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

pl_typing *pl_typing_new(const pl_alloc *a, pl_sess *sess, const pl_log *log)
{
    pl_typing *t = pl_calloc(a, 1, sizeof *t);
    if (!t)
        return NULL;
    t->alloc = *a;
    t->sess = sess;
    t->log = log;
    pl_sess_ext ext = {.user = t,
                       .on_welcome = on_welcome,
                       .on_frame = on_frame,
                       .deadline = next_due,
                       .on_tick = on_tick,
                       .on_logout = on_logout};
    if (pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_typing_free(t);
        return NULL;
    }
    return t;
}

void pl_typing_free(pl_typing *t)
{
    if (!t)
        return;
    forget_all(t);
    pl_alloc a = t->alloc;
    pl_free(&a, t);
}

/* ---- the user's typing ---------------------------------------------------------------- */

int pl_typing_set(pl_typing *t, const char *conv, int on, int64_t now)
{
    if (!pl_id_valid(conv, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    int rc = pl_sess_conv_use(t->sess, conv);
    if (rc != PARLEY_OK)
        return rc;
    if (!pl_sess_online(t->sess))
        return PARLEY_OK;
    tconv *c = conv_get(t, conv);
    if (!c)
        return PARLEY_ERR_NOMEM;
    if (on ? now - c->sent_at < PL_TYPING_EVERY_MS : !c->on)
        return PARLEY_OK;
    char *frame = NULL;
    size_t len = 0;
    rc = pl_proto_encode_typing(&t->alloc, conv, on, &frame, &len);
    if (rc == PARLEY_OK)
        rc = pl_sess_send_control(t->sess, "typing", frame, len);
    if (rc != PARLEY_OK)
        return rc;
    c->on = on != 0;
    if (on)
        c->sent_at = now;
    return PARLEY_OK;
}
