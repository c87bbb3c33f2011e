/* The durable outbox: the user's items (conversation starts, messages,
 * the modules' items), each journaled before the call that produced it
 * returns (and synced, with sync_items; else a group commit syncs it and
 * pl_sess_on_synced reports it STORED), resent in order after every
 * welcome until the server acks or refuses it.
 *
 * Journal namespace 1, key: the item's order, zero-padded; value:
 * kind '\n' cid '\n' conv '\n' frame (ids are printable ASCII, so the
 * first three newlines are the separators). */
#include "session/session_internal.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

/* Each pl_outbox_kind as the journal writes it. */
static const char kind_chars[] = {'c', 'm', 'x', 'r', 'a'};

static const pl_outbox_kind item_kinds[] = {[PL_SESS_ITEM_MSG] = PL_OBX_MSG,
                                            [PL_SESS_ITEM_SILENT] = PL_OBX_ITEM,
                                            [PL_SESS_ITEM_REPORTED] = PL_OBX_REPORTED,
                                            [PL_SESS_ITEM_ATTACH] = PL_OBX_ATTACH};

/* ---- items ------------------------------------------------------------------------ */

pl_outbox_item *pl_outbox_find(const pl_sess *s, const char *cid)
{
    for (pl_outbox_item *it = s->obx_head; it; it = it->next)
        if (cid && strcmp(it->cid, cid) == 0)
            return it;
    return NULL;
}

static void obx_append(pl_sess *s, pl_outbox_item *it)
{
    if (s->obx_tail)
        s->obx_tail->next = it;
    else
        s->obx_head = it;
    s->obx_tail = it;
    s->obx_count++;
    if (s->state == PL_ST_ONLINE && !s->obx_next)
        s->obx_next = it;
}

void pl_outbox_free_item(pl_sess *s, pl_outbox_item *it)
{
    pl_free(&s->alloc, it->frame);
    pl_free(&s->alloc, it);
}

static void order_key(uint64_t order, char key[PL_ORDER_KEY_SIZE])
{
    snprintf(key, PL_ORDER_KEY_SIZE, "%016llu", (unsigned long long)order);
}

static int obx_persist(pl_sess *s, pl_outbox_item *it)
{
    if (!s->journal)
        return PARLEY_OK;
    size_t n = 2 + strlen(it->cid) + 1 + strlen(it->conv) + 1 + it->len;
    char *v = pl_malloc(&s->alloc, n + 1);
    if (!v)
        return PARLEY_ERR_NOMEM;
    snprintf(v, n + 1, "%c\n%s\n%s\n", kind_chars[it->kind], it->cid, it->conv);
    memcpy(v + n - it->len, it->frame, it->len);
    char key[PL_ORDER_KEY_SIZE];
    order_key(it->order, key);
    int rc = pl_journal_put(s->journal, PL_NS_OUTBOX, key, v, n, s->sync_items);
    pl_free(&s->alloc, v);
    if (rc == PARLEY_OK)
        it->lsn = pl_journal_written(s->journal);
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "outbox item not journaled: %s", parley_strerror(rc));
    return pl_journal_rc(rc);
}

/* The ack or rejection is final; a delete lost in a crash only resends an
 * item the server deduplicates. */
static void obx_unpersist(pl_sess *s, const pl_outbox_item *it)
{
    char key[PL_ORDER_KEY_SIZE];
    order_key(it->order, key);
    int rc = s->journal ? pl_journal_del(s->journal, PL_NS_OUTBOX, key, 0) : PARLEY_OK;
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "outbox item %s not removed from the journal: %s", it->cid,
                 parley_strerror(rc));
}

void pl_outbox_remove(pl_sess *s, pl_outbox_item *it)
{
    pl_outbox_item **pp = &s->obx_head, *prev = NULL;
    while (*pp && *pp != it) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = it->next;
    if (s->obx_tail == it)
        s->obx_tail = prev;
    if (s->obx_next == it)
        s->obx_next = it->next;
    if (s->peeked == it)
        s->peeked = NULL;
    s->obx_count--;
    obx_unpersist(s, it);
    pl_outbox_free_item(s, it);
}

static void notify_done(pl_sess *s, const pl_sess_done *d)
{
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].on_item_done)
            s->exts[i].on_item_done(s->exts[i].user, d);
}

/* An item that can never be delivered leaves the outbox with an ERROR
 * event (`code`, `text`) naming its client id; a message or reported item
 * also gets its FAILED status, with `reason`. */
int pl_outbox_fail(pl_sess *s, pl_outbox_item *it, int code, const char *text, const char *reason)
{
    parley_event *status = NULL, *err = pl_event_error(&s->alloc, code, NULL, text);
    int failed = !err || pl_event_set(err, &err->cid, it->cid) != PARLEY_OK ||
                 pl_event_set(err, &err->conv, it->conv) != PARLEY_OK;
    if (!failed && (PL_OBX_IS_MSG(it->kind) || it->kind == PL_OBX_REPORTED)) {
        status = pl_sess_event(s, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_FAILED);
        failed = !status || pl_event_set(status, &status->cid, it->cid) != PARLEY_OK ||
                 pl_event_set(status, &status->conv, it->conv) != PARLEY_OK ||
                 pl_event_set(status, &status->text, reason) != PARLEY_OK;
    }
    if (failed) {
        parley_event_free(status);
        parley_event_free(err);
        return PARLEY_ERR_NOMEM;
    }
    if (status)
        pl_event_queue_push(&s->events, status);
    pl_event_queue_push(&s->events, err);
    pl_sess_done d = {it->cid, it->conv, 0, NULL, 0, it->frame, it->len, code, text};
    notify_done(s, &d);
    pl_outbox_remove(s, it);
    return PARLEY_OK;
}

void pl_outbox_done(pl_sess *s, pl_outbox_item *it, int acked, const char *id, uint64_t seq)
{
    pl_sess_done d = {it->cid, it->conv, acked, id, seq, it->frame, it->len, 0, NULL};
    notify_done(s, &d);
    pl_outbox_remove(s, it);
}

/* ---- the journal ---------------------------------------------------------------- */

/* An outbox key: exactly PL_ORDER_KEY_SIZE - 1 digits, zero-padded. */
static int parse_order(const char *key, uint64_t *out)
{
    size_t n = strlen(key), i = 0;
    if (n != PL_ORDER_KEY_SIZE - 1)
        return 0;
    while (i + 1 < n && key[i] == '0')
        i++;
    return pl_parse_dec(key + i, n - i, UINT64_MAX - 1, out);
}

/* Splits the next '\n'-terminated field off *p; NULL when there is none. */
static const char *next_field(const char **p, const char *end, size_t *n)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        return NULL;
    const char *f = *p;
    *n = (size_t)(nl - f);
    *p = nl + 1;
    return f;
}

static int obx_kind_of(char c, pl_outbox_kind *out)
{
    const char *p = memchr(kind_chars, c, sizeof kind_chars);
    if (!p || !c)
        return 0;
    *out = (pl_outbox_kind)(p - kind_chars);
    return 1;
}

/* Parses a journaled item into a new pl_outbox_item; NULL when malformed (*nomem
 * set when out of memory instead). */
static pl_outbox_item *obx_parse(pl_sess *s, const char *key, const char *v, size_t len, int *nomem)
{
    const char *p = v, *end = v + len, *kind, *cid, *conv;
    size_t kn, cn, vn;
    uint64_t order;
    pl_outbox_kind k;
    if (!parse_order(key, &order) || !(kind = next_field(&p, end, &kn)) ||
        !(cid = next_field(&p, end, &cn)) || !(conv = next_field(&p, end, &vn)) || kn != 1 ||
        !obx_kind_of(kind[0], &k) || cn == 0 || cn > PL_UUID_STR_LEN || vn == 0 || vn > PL_MAX_ID ||
        p == end)
        return NULL;
    pl_outbox_item *it = pl_calloc(&s->alloc, 1, sizeof *it);
    if (it)
        it->frame = pl_strndup(&s->alloc, p, (size_t)(end - p));
    if (!it || !it->frame) {
        pl_free(&s->alloc, it);
        *nomem = 1;
        return NULL;
    }
    it->kind = k;
    it->held = k == PL_OBX_ATTACH;
    it->order = order;
    it->len = (size_t)(end - p);
    memcpy(it->cid, cid, cn);
    memcpy(it->conv, conv, vn);
    return it;
}

/* Loading: the session, and how many of its conversations (those whose
 * cursors were loaded) are in id order, so that finding each item's
 * conversation does not scan them all. */
typedef struct obx_loading {
    pl_sess *s;
    size_t sorted;
} obx_loading;

static int load_item(void *user, const char *key, const void *value, size_t len)
{
    obx_loading *l = user;
    pl_sess *s = l->s;
    int nomem = 0;
    pl_outbox_item *it = obx_parse(s, key, value, len, &nomem);
    if (!it && nomem)
        return PARLEY_ERR_NOMEM;
    if (!it || !pl_id_valid(it->conv, PL_MAX_ID)) {
        PL_LOG_W(s->log, "journal: bad outbox entry %s skipped", key);
        if (it)
            pl_outbox_free_item(s, it);
        return 0;
    }
    /* The item's conversation is known even when its cursor never moved. */
    if (strcmp(it->conv, PL_NO_CONV) != 0 && !pl_conv_find_sorted(s, it->conv, l->sorted) &&
        s->n_convs < PL_MAX_CONVERSATIONS && !pl_conv_add(s, it->conv)) {
        pl_outbox_free_item(s, it);
        return PARLEY_ERR_NOMEM;
    }
    it->stored = 1; /* it was there before; the first commit syncs it anyway */
    obx_append(s, it);
    s->next_order = it->order + 1;
    return 0;
}

/* ---- the session's calls --------------------------------------------------------- */

/* Whether the server knows the conversation: not while its conv.start is
 * still in the outbox. */
int pl_outbox_starts(const pl_sess *s, const char *conv)
{
    for (pl_outbox_item *it = s->obx_head; it; it = it->next)
        if (it->kind == PL_OBX_CONV_START && strcmp(it->conv, conv) == 0)
            return 1;
    return 0;
}

/* An item queued under a larger frame limit than this server's: a
 * conversation start or message goes without its context snapshot when
 * that makes it fit; anything else fails now rather than being refused
 * unread after every welcome. */
static int fit_item(pl_sess *s, pl_outbox_item *it)
{
    char *frame = NULL;
    size_t len = 0;
    int rc = PARLEY_ERR_NOT_FOUND;
    if (it->kind == PL_OBX_CONV_START || it->kind == PL_OBX_MSG)
        rc = pl_proto_frame_without(&s->alloc, it->frame, it->len, "context", &frame, &len);
    if (rc == PARLEY_ERR_NOMEM)
        return rc;
    if (rc == PARLEY_OK && len <= s->max_frame) {
        pl_free(&s->alloc, it->frame);
        it->frame = frame;
        it->len = len;
        PL_LOG_W(s->log,
                 "item %s goes without its context snapshot to fit the server's frame limit",
                 it->cid);
        return obx_persist(s, it) == PARLEY_ERR_NOMEM ? PARLEY_ERR_NOMEM : PARLEY_OK;
    }
    pl_free(&s->alloc, frame);
    char text[96];
    snprintf(text, sizeof text, "too_long: item exceeds the server's frame limit of %u bytes",
             (unsigned)s->max_frame);
    PL_LOG_W(s->log, "item %s dropped: %s", it->cid, text);
    return pl_outbox_fail(s, it, PARLEY_ERR_TOO_LONG, text, "exceeds the server's frame limit");
}

int pl_outbox_fit(pl_sess *s)
{
    for (pl_outbox_item *it = s->obx_head, *next; it; it = next) {
        next = it->next;
        int rc = it->len > s->max_frame ? fit_item(s, it) : PARLEY_OK;
        if (rc != PARLEY_OK)
            return rc;
    }
    return PARLEY_OK;
}

/* A zeroed outbox item with client id `cid`, or a fresh one when NULL;
 * NULL on failure. */
pl_outbox_item *pl_outbox_new(pl_sess *s, pl_outbox_kind kind, const char *conv, const char *cid)
{
    pl_outbox_item *it = pl_calloc(&s->alloc, 1, sizeof *it);
    if (!it)
        return NULL;
    if (cid) {
        memcpy(it->cid, cid, strlen(cid) + 1);
    } else if (pl_rand_uuid4(s->rand, it->cid) != PARLEY_OK) {
        pl_free(&s->alloc, it);
        return NULL;
    }
    it->kind = kind;
    it->held = kind == PL_OBX_ATTACH;
    it->order = s->next_order;
    memcpy(it->conv, conv, strlen(conv) + 1);
    return it;
}

/* Journals a new item (in the OS, or synced with sync_items: the promise
 * holds once this returns OK) and queues it. On failure the item is freed
 * and nothing changed. */
int pl_outbox_commit(pl_sess *s, pl_outbox_item *it)
{
    int rc = obx_persist(s, it);
    if (rc != PARLEY_OK) {
        pl_outbox_free_item(s, it);
        return rc;
    }
    s->next_order++;
    obx_append(s, it);
    return PARLEY_OK;
}

/* ---- the modules' items ------------------------------------------------------------ */

/* A message's PENDING or STORED status. */
static parley_event *status_event(pl_sess *s, const pl_outbox_item *it, int state)
{
    parley_event *ev = pl_sess_event(s, PARLEY_EV_MESSAGE_STATUS, state);
    if (!ev || pl_event_set(ev, &ev->cid, it->cid) != PARLEY_OK ||
        (PL_OBX_IS_MSG(it->kind) && pl_event_set(ev, &ev->conv, it->conv) != PARLEY_OK)) {
        parley_event_free(ev);
        return NULL;
    }
    return ev;
}

int pl_sess_enqueue(pl_sess *s, pl_sess_item kind, const char *conv, const char *cid, char *frame,
                    size_t len)
{
    if (kind > PL_SESS_ITEM_ATTACH || !cid || strlen(cid) > PL_UUID_STR_LEN ||
        ((kind == PL_SESS_ITEM_MSG || kind == PL_SESS_ITEM_ATTACH) && !conv)) {
        pl_free(&s->alloc, frame);
        return PARLEY_ERR_INVALID_ARG;
    }
    /* Checked before anything is journaled: a frame the server refuses
     * unread would otherwise be resent after every welcome, forever. */
    if (len > s->max_frame || s->obx_count >= s->outbox_cap) {
        pl_free(&s->alloc, frame);
        return len > s->max_frame ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_FULL;
    }
    pl_outbox_item *it = pl_outbox_new(s, item_kinds[kind], conv ? conv : PL_NO_CONV, cid);
    parley_event *ev = NULL;
    if (it) {
        it->frame = frame;
        it->len = len;
        ev = kind == PL_SESS_ITEM_SILENT ? NULL : status_event(s, it, PARLEY_MSG_PENDING);
    } else {
        pl_free(&s->alloc, frame);
    }
    if (!it || (kind != PL_SESS_ITEM_SILENT && !ev)) {
        if (it)
            pl_outbox_free_item(s, it);
        return PARLEY_ERR_NOMEM;
    }
    int rc = pl_outbox_commit(s, it);
    if (rc != PARLEY_OK) {
        parley_event_free(ev);
        return rc;
    }
    if (ev)
        pl_event_queue_push(&s->events, ev);
    /* Synced before returning (sync_items), or already by a commit. */
    pl_sess_on_synced(s, pl_journal_synced(s->journal));
    return PARLEY_OK;
}

int pl_sess_release(pl_sess *s, const char *cid)
{
    pl_outbox_item *it = pl_outbox_find(s, cid);
    if (!it)
        return PARLEY_ERR_NOT_FOUND;
    if (!it->held)
        return PARLEY_OK;
    it->held = 0;
    if (!it->skipped || !pl_sess_online(s))
        return PARLEY_OK;
    /* Passed over on this connection: it goes out now, behind what is
     * queued; a resend after the next welcome comes in its place. */
    it->skipped = 0;
    char *copy = pl_strndup(&s->alloc, it->frame, it->len);
    return copy ? pl_wq_push(s, "msg.send", copy, it->len) : PARLEY_ERR_NOMEM;
}

int pl_sess_item_pending(const pl_sess *s, const char *cid)
{
    return pl_outbox_find(s, cid) != NULL;
}

int pl_sess_fail_item(pl_sess *s, const char *cid, int code, const char *text, const char *reason)
{
    pl_outbox_item *it = pl_outbox_find(s, cid);
    return it ? pl_outbox_fail(s, it, code, text, reason) : PARLEY_ERR_NOT_FOUND;
}

/* Items journaled up to `synced` reach stable storage: their STORED status
 * follows their PENDING one. An item without a status (a conversation
 * start, a tracked event) is only marked. Out of memory loses the event,
 * not the item. */
void pl_sess_on_synced(pl_sess *s, uint64_t synced)
{
    if (!s->journal || synced <= s->stored_upto)
        return;
    s->stored_upto = synced;
    for (pl_outbox_item *it = s->obx_head; it; it = it->next) {
        if (it->stored || !it->lsn || it->lsn > synced)
            continue;
        it->stored = 1;
        if (!PL_OBX_IS_MSG(it->kind) && it->kind != PL_OBX_REPORTED)
            continue;
        parley_event *ev = status_event(s, it, PARLEY_MSG_STORED);
        if (ev)
            pl_event_queue_push(&s->events, ev);
        else
            PL_LOG_W(s->log, "stored status of %s lost: out of memory", it->cid);
    }
}

uint32_t pl_sess_outbox_count(const pl_sess *s)
{
    return s->obx_count;
}

void pl_outbox_clear(pl_sess *s)
{
    while (s->obx_head) {
        pl_outbox_item *it = s->obx_head;
        s->obx_head = it->next;
        pl_outbox_free_item(s, it);
    }
    s->obx_tail = s->obx_next = NULL;
    s->peeked = NULL;
    s->obx_count = 0;
}

int pl_outbox_load(pl_sess *s)
{
    obx_loading l = {s, pl_convs_sorted(s)};
    return pl_journal_foreach(s->journal, PL_NS_OUTBOX, load_item, &l);
}
