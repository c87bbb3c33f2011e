/* Facade: owns the session engine, the transport, the event queue and the
 * optional I/O thread, and glues them together.
 *
 * Locking: `lock` guards the session engine and the transport's control
 * calls; it is never held while the transport sleeps in lws_service, so API
 * calls from the host's thread wait at most for one short engine step.
 * Transport callbacks run inside pl_transport_service and take `lock`
 * themselves. `evlock` guards the event queue; `ev_count` lets parley_poll
 * return without any lock when the queue is empty.
 *
 * Backpressure: when the queue reaches its count or byte limit the
 * servicing thread stops reading from the connection (and does not open a
 * new one); parley_poll wakes it once the host has drained the queue below
 * half of both limits. Nothing is dropped: what the server sends meanwhile
 * waits in the network or at the server. The session's unwritten control
 * frames stop reading the same way at MAX_WRITE_BYTES: many frames ask for
 * an answer (acks, history requests, upload chunks), and the transport
 * writes one frame for every many it reads. Writing resumes reading once
 * they are below half. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "platform/clock.h"
#include "platform/device.h"
#include "platform/entropy.h"
#include "platform/hostfile.h"
#include "util/log.h"
#include "util/rand.h"
#include "util/utf8.h"

#define ANON_RECORD "anonymous_id"
/* While reading is stopped and a reconnect is due, how often the servicing
 * thread looks again (a wake from parley_poll usually comes first). */
#define FLOW_RECHECK_MS 250
/* Control frames waiting to be written before reading stops (include/
 * parley.h, parley_config_set_event_limits). */
#define MAX_WRITE_BYTES (1024 * 1024)

/* ---- events --------------------------------------------------------------- */

/* Called with `evlock`. */
static int queue_full(const parley_client *pc)
{
    return pc->events.count >= pc->ev_max || pc->events.bytes >= pc->ev_max_bytes;
}

/* Called with `evlock`: below half of both limits. */
static int queue_low(const parley_client *pc)
{
    return pc->events.count <= pc->ev_max / 2 && pc->events.bytes <= pc->ev_max_bytes / 2;
}

/* Stops or resumes reading as the queues cross their limits. Called with
 * `lock`, on the thread that services the transport. The flag changes
 * under `evlock`, so a parley_poll that drains the queue right after sees
 * it and wakes this thread. */
static void update_flow(parley_client *pc)
{
    size_t wq = pl_sess_wq_bytes(pc->sess);
    pl_mutex_lock(&pc->evlock);
    int paused = atomic_load(&pc->rx_paused);
    int change = paused ? queue_low(pc) && wq <= MAX_WRITE_BYTES / 2
                        : queue_full(pc) || wq >= MAX_WRITE_BYTES;
    uint32_t n = pc->events.count;
    size_t bytes = pc->events.bytes;
    if (change)
        atomic_store(&pc->rx_paused, !paused);
    atomic_store(&pc->resume_asked, 0);
    pl_mutex_unlock(&pc->evlock);
    if (!change)
        return;
    paused = !paused;
    pl_transport_pause_rx(pc->tr, paused);
    if (paused)
        PL_LOG_W(&pc->log,
                 "reading paused: %u events (%zu bytes) wait for parley_poll, %zu bytes to be "
                 "written",
                 (unsigned)n, bytes, wq);
    else
        PL_LOG_I(&pc->log, "queues drained: reading resumed");
}

/* Moves what the session produced to the host's queue. Called with `lock`. */
static void collect_events(parley_client *pc)
{
    pl_event_queue fresh = {0};
    pl_sess_take_events(pc->sess, &fresh);
    if (!fresh.count)
        return;
    pl_mutex_lock(&pc->evlock);
    pl_event_queue_splice(&pc->events, &fresh);
    atomic_store(&pc->ev_count, pc->events.count);
    pl_mutex_unlock(&pc->evlock);
}

/* Waking the servicing thread costs a syscall: only when reading is paused
 * and the queue has drained, once until it has looked. */
int parley_poll(parley_client *pc, parley_event **out)
{
    if (!pc || !out)
        return PARLEY_ERR_INVALID_ARG;
    if (atomic_load_explicit(&pc->ev_count, memory_order_acquire) == 0)
        return PARLEY_ERR_AGAIN;
    pl_mutex_lock(&pc->evlock);
    parley_event *ev = pl_event_queue_pop(&pc->events);
    atomic_store(&pc->ev_count, pc->events.count);
    int resume = atomic_load(&pc->rx_paused) && queue_low(pc);
    pl_mutex_unlock(&pc->evlock);
    if (resume && !atomic_exchange(&pc->resume_asked, 1))
        pl_client_kick(pc);
    if (!ev)
        return PARLEY_ERR_AGAIN;
    *out = ev;
    return PARLEY_OK;
}

/* ---- glue: do what the session wants -------------------------------------- */

/* The timer's delay; a reconnect held back by a full queue is looked at
 * again after FLOW_RECHECK_MS instead of at once. */
static int64_t timer_delay(parley_client *pc, int want, int64_t deadline, int64_t now)
{
    int64_t delay = deadline < 0 ? -1 : (deadline > now ? deadline - now : 0);
    if ((want & PL_SESS_WANT_CONNECT) && atomic_load(&pc->rx_paused) && delay < FLOW_RECHECK_MS)
        delay = FLOW_RECHECK_MS;
    return delay;
}

/* Called with `lock` held, on the thread that services the transport. */
static void pump(parley_client *pc)
{
    collect_events(pc);
    update_flow(pc);
    int64_t now = pl_clock_mono_ms();
    int64_t deadline = -1;
    int want = pl_sess_want(pc->sess, now, &deadline);
    if ((want & PL_SESS_WANT_CLOSE) && pc->connection) {
        pl_transport_close(pc->tr);
        pc->connection = 0;
        pl_sess_on_closed(pc->sess, now, PARLEY_ERR_CLOSED, "closed by client");
        want = pl_sess_want(pc->sess, now, &deadline);
    }
    if ((want & PL_SESS_WANT_CONNECT) && !pc->connection && !atomic_load(&pc->rx_paused)) {
        pc->connection = 1;
        pl_sess_on_connecting(pc->sess, now);
        if (pl_transport_connect(pc->tr) != PARLEY_OK && pc->connection) {
            pc->connection = 0;
            pl_sess_on_closed(pc->sess, now, PARLEY_ERR_CONNECT, "connection could not be started");
        }
        want = pl_sess_want(pc->sess, now, &deadline);
    }
    if (want & PL_SESS_WANT_WRITE)
        pl_transport_request_write(pc->tr);
    pl_transport_set_timer(pc->tr, timer_delay(pc, want, deadline, now));
    collect_events(pc);
    update_flow(pc);
}

static void cb_on_open(void *user)
{
    parley_client *pc = user;
    pl_mutex_lock(&pc->lock);
    pl_sess_on_open(pc->sess, pl_clock_mono_ms());
    pump(pc);
    pl_mutex_unlock(&pc->lock);
}

static void cb_on_frame(void *user, const char *data, size_t len)
{
    parley_client *pc = user;
    pl_mutex_lock(&pc->lock);
    pl_sess_on_frame(pc->sess, pl_clock_mono_ms(), data, len);
    pl_transport_set_max_frame(pc->tr, pl_sess_max_frame(pc->sess));
    pump(pc);
    pl_mutex_unlock(&pc->lock);
}

static void cb_on_closed(void *user, int err, const char *why)
{
    parley_client *pc = user;
    pl_mutex_lock(&pc->lock);
    pc->connection = 0;
    uint32_t cert = err == PARLEY_ERR_TLS ? pl_transport_cert_failures(pc->tr) : 0;
    if (cert)
        pl_sess_on_cert_failure(pc->sess, pl_clock_mono_ms(), cert, why);
    else
        pl_sess_on_closed(pc->sess, pl_clock_mono_ms(), err, why);
    pump(pc);
    pl_mutex_unlock(&pc->lock);
}

/* Non-fatal transport problems (an oversized frame) go to the host like
 * the session's own errors, and count towards the queue's limits. */
static void cb_on_error(void *user, int err, const char *why)
{
    parley_client *pc = user;
    pl_mutex_lock(&pc->lock);
    if (pl_sess_emit_error(pc->sess, err, why) != PARLEY_OK)
        PL_LOG_W(&pc->log, "error event lost: out of memory (%s)", why);
    collect_events(pc);
    update_flow(pc);
    pl_mutex_unlock(&pc->lock);
}

/* The session's frame is copied out under the lock so that API calls from
 * other threads may change the session while lws writes the copy. */
static int cb_peek_frame(void *user, const char **data, size_t *len)
{
    parley_client *pc = user;
    int have = 0;
    pl_mutex_lock(&pc->lock);
    const char *f;
    size_t n;
    if (pl_sess_peek_frame(pc->sess, &f, &n)) {
        if (n + 1 > pc->wcap) {
            char *nb = pl_realloc(&pc->alloc, pc->wbuf, n + 1);
            if (nb) {
                pc->wbuf = nb;
                pc->wcap = n + 1;
            }
        }
        if (n + 1 <= pc->wcap) {
            memcpy(pc->wbuf, f, n);
            pc->wbuf[n] = '\0';
            pl_sess_frame_written(pc->sess);
            pc->more_frames = pl_sess_has_frame(pc->sess);
            *data = pc->wbuf;
            *len = n;
            have = 1;
        }
    }
    if (have && atomic_load(&pc->rx_paused))
        update_flow(pc); /* the write queue may be low enough now */
    pl_mutex_unlock(&pc->lock);
    return have;
}

/* The frame left the session's queue when it was copied; what followed it
 * was looked at then, on this thread, under the lock. */
static int cb_frame_written(void *user)
{
    return ((parley_client *)user)->more_frames;
}

static void cb_on_wake(void *user)
{
    parley_client *pc = user;
    pl_mutex_lock(&pc->lock);
    pl_sess_tick(pc->sess, pl_clock_mono_ms());
    pump(pc);
    pl_mutex_unlock(&pc->lock);
}

static const pl_transport_cbs transport_cbs = {
    cb_on_open, cb_on_frame, cb_on_closed, cb_on_error, cb_peek_frame, cb_frame_written, cb_on_wake,
};

/* ---- creation ------------------------------------------------------------- */

/* The facade's own records in the journal; the session's namespaces are
 * 1..3. */
#define NS_FACADE 16

static int read_anon_id(parley_client *pc)
{
    size_t len = 0;
    const char *v = pc->journal ? pl_journal_get(pc->journal, NS_FACADE, ANON_RECORD, &len) : NULL;
    if (!v || len >= sizeof pc->anon_id)
        return PARLEY_ERR_NOT_FOUND;
    memcpy(pc->anon_id, v, len);
    pc->anon_id[len] = '\0';
    return PARLEY_OK;
}

int pl_client_save_anon_id(parley_client *pc)
{
    size_t len = strlen(pc->anon_id);
    return pc->journal ? pl_journal_put(pc->journal, NS_FACADE, ANON_RECORD, pc->anon_id, len, 1)
                       : PARLEY_OK;
}

/* The anonymous id is minted once and kept with the durable state, so the
 * same installation stays the same anonymous user across restarts. */
static int load_anon_id(parley_client *pc)
{
    if (read_anon_id(pc) == PARLEY_OK && pl_id_valid(pc->anon_id, PL_MAX_ID))
        return PARLEY_OK;
    char uuid[PL_UUID_STR_LEN + 1];
    int rc = pl_rand_uuid4(pc->rand, uuid);
    if (rc != PARLEY_OK)
        return rc;
    snprintf(pc->anon_id, sizeof pc->anon_id, "a-%s", uuid);
    return pl_client_save_anon_id(pc);
}

static int create_session(parley_client *pc, const parley_config *cfg, const pl_device *dev)
{
    pl_sess_config sc = {
        .app_id = cfg->app_id,
        .anon_id = pc->anon_id,
        .platform = dev->platform,
        .backoff_initial_ms = cfg->backoff_initial_ms,
        .backoff_max_ms = cfg->backoff_max_ms,
        .outbox_cap = cfg->outbox_cap,
        .journal = pc->journal,
        .sync_items = cfg->durability == PARLEY_DURABILITY_SYNC,
    };
    pc->sess = pl_sess_new(&pc->alloc, &sc, pc->rand, &pc->log);
    return pc->sess ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

/* The user's language without encoding or modifier ("en_US.UTF-8" and
 * "en_US@euro" are "en_US"; Windows says "en-US"), or "C". */
static void locale_name(char *locale)
{
    locale[strcspn(locale, ".@")] = '\0';
    if (!pl_id_valid(locale, PL_MAX_ATTR_KEY))
        strcpy(locale, "C");
}

/* Facts the platform gives; the host overrides any with
 * parley_set_device_fact. */
static int collect_device_facts(parley_client *pc, const parley_config *cfg, pl_device *dev)
{
    locale_name(dev->locale);
    const char *facts[][2] = {{"os", dev->os},
                              {"arch", dev->arch},
                              {"locale", dev->locale},
                              {"sdk_version", PARLEY_VERSION_STRING},
                              {"app_version", cfg->app_version}};
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        int rc = facts[i][1] ? pl_ctx_set_device(pc->ctx, facts[i][0], facts[i][1]) : PARLEY_OK;
        if (rc == PARLEY_ERR_NOMEM)
            return rc;
    }
    return PARLEY_OK;
}

static int create_context(parley_client *pc, const parley_config *cfg, pl_device *dev)
{
    pl_ctx_config cc = {
        .breadcrumb_cap = cfg->breadcrumb_cap,
        .interval_ms = cfg->context_interval_ms,
        .consent = cfg->consent,
        .redact = {.fn = cfg->redact_fn,
                   .text_fn = cfg->redact_text_fn,
                   .user = cfg->redact_user,
                   .builtin = cfg->default_redactor},
    };
    pc->ctx = pl_ctx_new(&pc->alloc, pc->sess, &cc, &pc->log);
    return pc->ctx ? collect_device_facts(pc, cfg, dev) : PARLEY_ERR_NOMEM;
}

/* Attachments go through the host's files, and copies of the host's bytes
 * through the journal's storage. */
static int create_attachments(parley_client *pc)
{
    const pl_alloc *a = &pc->alloc;
    pl_uploads_config uc = {pc->journal, pc->has_jio ? &pc->jio : NULL, {0}};
    pl_hostfile_io(a, &uc.files);
    if (!(pc->uploads = pl_uploads_new(a, pc->sess, &uc, &pc->log)) ||
        !(pc->downloads = pl_downloads_new(a, pc->sess, &uc.files, &pc->log)))
        return PARLEY_ERR_NOMEM;
    return PARLEY_OK;
}

/* The requests module knows no history: this hands it what it vouches for. */
static void keep_page(void *history, const pl_frame *f)
{
    pl_history_keep_page(history, f);
}

/* The order of registration is the order of what they send after each
 * welcome: the context, read marks, pending requests, proactive acks,
 * uploads, downloads, the push token. The local history keeps only the
 * history pages the requests module says the host asked for. */
static int create_features(parley_client *pc, const parley_config *cfg)
{
    const pl_alloc *a = &pc->alloc;
    if (!(pc->receipts = pl_receipts_new(a, pc->sess, pc->journal, &pc->log)) ||
        !(pc->history = pl_history_new(a, pc->sess, pc->journal, cfg->local_history,
                                       pl_clock_wall_ms, &pc->log)) ||
        !(pc->requests = pl_requests_new(a, pc->sess, &pc->log)) ||
        !(pc->typing = pl_typing_new(a, pc->sess, &pc->log)) ||
        !(pc->postbacks = pl_postbacks_new(a, pc->sess, pc->journal, &pc->log)) ||
        !(pc->proactive = pl_proactive_new(a, pc->sess, pc->journal, &pc->log)) ||
        !(pc->surveys = pl_surveys_new(a, pc->sess, pc->ctx, pc->proactive, pc->journal, &pc->log)))
        return PARLEY_ERR_NOMEM;
    pl_requests_set_page_sink(pc->requests, keep_page, pc->history);
    if (create_attachments(pc) != PARLEY_OK ||
        !(pc->push = pl_push_new(a, pc->sess, pc->journal, &pc->log)))
        return PARLEY_ERR_NOMEM;
    return PARLEY_OK;
}

/* The journal lives in the host's storage when it gave one, else in the
 * data dir. */
static int open_journal(parley_client *pc, const parley_config *cfg)
{
    pl_journal_io io;
    int rc = PARLEY_OK;
    if (cfg->has_storage) {
        /* ops.version set only once the lock exists: it says there is one to destroy. */
        rc = pl_storage_host_io(&pc->host, &io);
        if (rc == PARLEY_OK) {
            pc->host.ops = cfg->storage;
            pc->host.user = cfg->storage_user;
        }
        pc->jio = io;
    } else {
        rc = pl_journal_file_io(&pc->alloc, cfg->data_dir, &io, &pc->jio_state);
        /* The uploads' spool files get a file backend of their own: the
         * journal's caches the handles its disk thread uses too. */
        if (rc == PARLEY_OK)
            rc = pl_journal_file_io(&pc->alloc, cfg->data_dir, &pc->jio, &pc->spool_state);
    }
    if (rc == PARLEY_OK) {
        pc->has_jio = 1;
        rc = pl_journal_open(&pc->alloc, &io, cfg->has_key ? cfg->enc_key : NULL, &pc->log,
                             &pc->journal);
    }
    if (rc == PARLEY_ERR_AUTH)
        PL_LOG_E(&pc->log, "the journal was written with another encryption key");
    return rc;
}

/* Host storage, a data dir, or nothing (all in memory). */
static int open_durable_state(parley_client *pc, const parley_config *cfg)
{
    return cfg->has_storage || cfg->data_dir ? open_journal(pc, cfg) : PARLEY_OK;
}

static int create_transport(parley_client *pc, const parley_config *cfg)
{
    pl_transport_config tc = {
        .url = cfg->url,
        .allow_insecure = cfg->allow_insecure,
        .ca_file = cfg->ca_file,
        .ca_pem = cfg->ca_pem,
        .ca_pem_len = cfg->ca_pem_len,
        .pins = cfg->pins[0],
        .n_pins = cfg->n_pins,
        .resolve = cfg->resolve,
        .resolve_user = cfg->resolve_user,
    };
    return pl_transport_new(&pc->alloc, &tc, &transport_cbs, pc, &pc->log, &pc->tr);
}

static int check_config(const parley_config *cfg)
{
    if (!cfg->url || !cfg->app_id)
        return PARLEY_ERR_CONFIG;
    return pl_transport_check_url(cfg->url, cfg->allow_insecure);
}

/* On the disk thread, after a group commit: the items it made durable are
 * reported STORED. A parley_service() waiting on another thread returns
 * for them; the I/O thread has nothing to do with them. */
static void disk_synced(void *user)
{
    parley_client *pc = user;
    pl_mutex_lock(&pc->lock);
    uint32_t before = atomic_load(&pc->ev_count);
    pl_sess_on_synced(pc->sess, pl_journal_synced(pc->journal));
    collect_events(pc);
    int more = atomic_load(&pc->ev_count) > before;
    pl_mutex_unlock(&pc->lock);
    if (more && !pc->threaded && atomic_load(&pc->in_service))
        pl_transport_wake(pc->tr);
}

static int init_client(parley_client *pc, const parley_config *cfg)
{
    int rc = PARLEY_ERR_NOMEM;
    if (!(pc->rand = pl_rand_new(&pc->alloc, pl_entropy, NULL)))
        return rc;
    if ((rc = open_durable_state(pc, cfg)) != PARLEY_OK)
        return rc;
    pl_device dev;
    pl_device_read(&dev);
    if ((rc = load_anon_id(pc)) != PARLEY_OK || (rc = create_session(pc, cfg, &dev)) != PARLEY_OK ||
        (rc = create_context(pc, cfg, &dev)) != PARLEY_OK ||
        (rc = create_features(pc, cfg)) != PARLEY_OK ||
        (rc = create_transport(pc, cfg)) != PARLEY_OK)
        return rc;
    return pc->journal
               ? pl_disk_start(&pc->alloc, pc->journal, &pc->log, disk_synced, pc, &pc->disk)
               : PARLEY_OK;
}

int parley_client_new(const parley_config *cfg, parley_client **out)
{
    if (!cfg || !out)
        return PARLEY_ERR_INVALID_ARG;
    *out = NULL;
    int rc = check_config(cfg);
    if (rc != PARLEY_OK)
        return rc;
    parley_client *pc = pl_calloc(&cfg->alloc, 1, sizeof *pc);
    if (!pc)
        return PARLEY_ERR_NOMEM;
    pc->alloc = cfg->alloc;
    pc->log = (pl_log){cfg->log_fn, cfg->log_user, cfg->log_level};
    /* Transport calls made under `lock` may call back synchronously. */
    if (pl_mutex_init(&pc->lock, 1) != PARLEY_OK) {
        pl_free(&cfg->alloc, pc);
        return PARLEY_ERR_NOMEM;
    }
    if (pl_mutex_init(&pc->evlock, 0) != PARLEY_OK) {
        pl_mutex_destroy(&pc->lock);
        pl_free(&cfg->alloc, pc);
        return PARLEY_ERR_NOMEM;
    }
    atomic_init(&pc->ev_count, 0);
    atomic_init(&pc->rx_paused, 0);
    atomic_init(&pc->resume_asked, 0);
    atomic_init(&pc->running, 0);
    pc->ev_max = cfg->max_events;
    pc->ev_max_bytes = cfg->max_event_bytes;
    if ((rc = init_client(pc, cfg)) != PARLEY_OK) {
        parley_client_free(pc);
        return rc;
    }
    *out = pc;
    return PARLEY_OK;
}

void parley_client_free(parley_client *pc)
{
    if (!pc)
        return;
    if (pc->threaded)
        parley_stop(pc);
    /* The cursors' last moves, then one last commit: a clean exit leaves
     * everything on stable storage. */
    if (pc->sess) {
        pl_mutex_lock(&pc->lock);
        pl_sess_flush(pc->sess);
        pl_mutex_unlock(&pc->lock);
    }
    pl_disk_stop(pc->disk);
    pl_transport_free(pc->tr);
    pl_push_free(pc->push);
    pl_downloads_free(pc->downloads);
    pl_uploads_free(pc->uploads);
    pl_history_free(pc->history);
    pl_surveys_free(pc->surveys);
    pl_proactive_free(pc->proactive);
    pl_postbacks_free(pc->postbacks);
    pl_typing_free(pc->typing);
    pl_requests_free(pc->requests);
    pl_receipts_free(pc->receipts);
    pl_ctx_free(pc->ctx);
    pl_sess_free(pc->sess);
    pl_journal_close(pc->journal);
    if (pc->jio_state)
        pl_journal_file_io_free(&pc->alloc, pc->jio_state);
    if (pc->spool_state)
        pl_journal_file_io_free(&pc->alloc, pc->spool_state);
    if (pc->host.ops.version)
        pl_storage_host_done(&pc->host);
    pl_rand_free(pc->rand);
    pl_event_queue_clear(&pc->events);
    pl_mutex_destroy(&pc->lock);
    pl_mutex_destroy(&pc->evlock);
    pl_alloc a = pc->alloc;
    pl_free(&a, pc->wbuf);
    pl_free(&a, pc);
}

/* ---- running -------------------------------------------------------------- */

/* Called with `lock` held. */
static void go_online(parley_client *pc)
{
    if (pc->online_requested)
        return;
    pc->online_requested = 1;
    pl_sess_go_online(pc->sess, pl_clock_mono_ms());
    pump(pc);
}

static void io_thread(void *arg)
{
    parley_client *pc = arg;
    pl_thread_yield_to_host();
    pl_mutex_lock(&pc->lock);
    go_online(pc);
    pl_mutex_unlock(&pc->lock);
    while (atomic_load(&pc->running))
        pl_transport_service(pc->tr, -1);
}

int parley_start(parley_client *pc)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    if (pc->threaded)
        return PARLEY_ERR_STATE;
    atomic_store(&pc->running, 1);
    if (pl_thread_start(&pc->thread, io_thread, pc) != PARLEY_OK) {
        atomic_store(&pc->running, 0);
        return PARLEY_ERR_THREAD;
    }
    pc->threaded = 1;
    return PARLEY_OK;
}

/* Called with `lock` held, on the servicing thread (or with none running). */
static void go_offline(parley_client *pc)
{
    if (!pc->online_requested)
        return;
    pc->online_requested = 0;
    if (pc->connection) {
        pl_transport_close(pc->tr);
        pc->connection = 0;
    }
    pl_sess_go_offline(pc->sess, pl_clock_mono_ms());
    collect_events(pc);
}

int parley_stop(parley_client *pc)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    if (!pc->threaded)
        return PARLEY_ERR_STATE;
    atomic_store(&pc->running, 0);
    pl_transport_wake(pc->tr);
    pl_thread_join(&pc->thread);
    pc->threaded = 0;
    pl_mutex_lock(&pc->lock);
    go_offline(pc);
    pl_mutex_unlock(&pc->lock);
    /* One pass lets lws finish the close it was asked for. */
    pl_transport_service(pc->tr, 0);
    return PARLEY_OK;
}

int parley_reconnect_now(parley_client *pc)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    pl_sess_reconnect_now(pc->sess, pl_clock_mono_ms());
    return pl_client_leave(pc, PARLEY_OK);
}

/* Host-driven mode: the transport's follow-up of API calls made while no
 * thread was servicing (pl_client_leave). */
static void pump_if_due(parley_client *pc)
{
    if (!atomic_load(&pc->pump_due))
        return;
    pl_mutex_lock(&pc->lock);
    atomic_store(&pc->pump_due, 0);
    pump(pc);
    pl_mutex_unlock(&pc->lock);
}

/* Waits in lws' poll() on the connection's socket, its timers and the
 * cancel pipe, for at most the time left: no naps, and a wake-up only when
 * something happened. */
static int service_for(parley_client *pc, int timeout_ms)
{
    int64_t end = pl_clock_mono_ms() + timeout_ms;
    int rc = PARLEY_OK;
    for (;;) {
        pump_if_due(pc);
        int64_t left = end - pl_clock_mono_ms();
        if (atomic_load(&pc->ev_count) > 0 || left <= 0)
            left = 0; /* one pass without waiting, then return */
        rc = pl_transport_service(pc->tr, (int)left);
        if (rc != PARLEY_OK || left == 0 || atomic_load(&pc->ev_count) > 0 ||
            pl_clock_mono_ms() >= end)
            return rc;
    }
}

int parley_service(parley_client *pc, int timeout_ms)
{
    if (!pc || timeout_ms < 0)
        return PARLEY_ERR_INVALID_ARG;
    if (pc->threaded)
        return PARLEY_ERR_STATE;
    /* Before looking at pump_due: an API call on another thread either
     * sees this and wakes the poll, or is seen by pump_if_due. */
    atomic_store(&pc->in_service, 1);
    pl_mutex_lock(&pc->lock);
    go_online(pc);
    pl_mutex_unlock(&pc->lock);
    int rc = service_for(pc, timeout_ms);
    atomic_store(&pc->in_service, 0);
    return rc;
}

/* ---- host API ------------------------------------------------------------- */

/* Host API calls run the session under the lock, then make the servicing
 * thread act on whatever the call queued. */
void pl_client_enter(parley_client *pc)
{
    pl_mutex_lock(&pc->lock);
}

/* In host-driven mode with nobody servicing, the next parley_service()
 * does it (a game calls the API and parley_service() on one thread: no
 * cancel-pipe write per call); otherwise the servicing thread is woken. */
int pl_client_leave(parley_client *pc, int rc)
{
    collect_events(pc);
    pl_mutex_unlock(&pc->lock);
    pl_client_kick(pc);
    return rc;
}

void pl_client_kick(parley_client *pc)
{
    if (pc->threaded) {
        pl_transport_wake(pc->tr);
        return;
    }
    atomic_store(&pc->pump_due, 1);
    if (atomic_load(&pc->in_service))
        pl_transport_wake(pc->tr);
}
