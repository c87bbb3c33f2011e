/* The facade's internals, shared by client.c (lifecycle, threading, glue)
 * and the files holding the public API of each feature (api_*.c). Never
 * installed. */
#ifndef PARLEY_CLIENT_H
#define PARLEY_CLIENT_H

#include <stdatomic.h>

#include "disk.h"
#include "feature/downloads.h"
#include "feature/history.h"
#include "feature/postbacks.h"
#include "feature/proactive.h"
#include "feature/push.h"
#include "feature/receipts.h"
#include "feature/requests.h"
#include "feature/surveys.h"
#include "feature/typing.h"
#include "feature/uploads.h"
#include "feature/user_context.h"
#include "platform/thread.h"
#include "session/event.h"
#include "session/session.h"
#include "store/journal.h"
#include "store/storage.h"
#include "transport/transport.h"
#include "util/log.h"
#include "util/rand.h"

/* The least an out buffer for an id the library mints (a UUID, "c-" and a
 * UUID) must hold: PARLEY_ID_SIZE as it was in 0.1.0, which binaries built
 * then still pass. PARLEY_ID_SIZE grew for the server's ids, not these. */
#define PL_MINTED_ID_SIZE 64
_Static_assert(PL_UUID_STR_LEN + 3 <= PL_MINTED_ID_SIZE, "a minted id fits");

struct parley_client {
    pl_alloc alloc;
    pl_log log;
    pl_rand *rand;
    void *jio_state;      /* the journal's file backend */
    pl_storage_host host; /* or the host's storage */
    /* Where uploads spool the host's bytes: the host's storage, or a file
     * backend of its own over the data dir (spool_state). */
    pl_journal_io jio;
    void *spool_state;
    int has_jio;
    pl_journal *journal;
    pl_disk *disk; /* the journal's syncs and compactions; with a journal */
    pl_sess *sess;
    /* The feature modules (lib/feature/), each plugged into the session. */
    pl_ctx *ctx; /* the user's context */
    pl_postbacks *postbacks;
    pl_typing *typing;
    pl_receipts *receipts;
    pl_requests *requests;
    pl_surveys *surveys;
    pl_proactive *proactive;
    pl_history *history;
    pl_uploads *uploads;
    pl_downloads *downloads;
    pl_push *push;
    pl_transport *tr;
    char anon_id[PARLEY_ID_SIZE];

    pl_mutex lock;        /* recursive */
    int online_requested; /* go_online sent to the session */
    int connection;       /* the transport has an attempt or connection */
    char *wbuf;           /* copy of the frame being written */
    size_t wcap;
    int more_frames; /* another frame waited behind wbuf's (servicing thread only) */

    pl_mutex evlock;
    pl_event_queue events;
    atomic_uint ev_count;
    uint32_t ev_max; /* queue limits (parley_config_set_event_limits) */
    size_t ev_max_bytes;
    atomic_int rx_paused;    /* reading stopped: the queue reached a limit */
    atomic_int resume_asked; /* parley_poll woke the servicing thread to resume */

    pl_thread thread;
    atomic_int running;
    int threaded;
    /* Host-driven mode: a thread is inside parley_service(); else an API
     * call leaves the transport's follow-up (pump_due) to the next
     * parley_service() instead of writing lws' cancel pipe. */
    atomic_int in_service;
    atomic_int pump_due;
};

/* Every host API call that touches the engine runs between these: enter
 * takes the lock; leave hands the events produced to the host's queue,
 * unlocks, has the servicing thread act on what the call queued
 * (pl_client_kick), and returns rc. */
void pl_client_enter(parley_client *pc);
int pl_client_leave(parley_client *pc, int rc);
/* Makes the servicing thread look at the session again: wakes the I/O
 * thread, or a parley_service() running on another thread; with nobody
 * servicing, the next parley_service() does it. Without the lock. */
void pl_client_kick(parley_client *pc);

/* Journals pc->anon_id (synced), when the client has a journal. Under
 * the lock. PARLEY_OK, IO or NOMEM. */
int pl_client_save_anon_id(parley_client *pc);

#endif
