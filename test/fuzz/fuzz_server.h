/* What the server fuzz targets share: parley-server's handlers driven
 * through their lws callbacks (ws_protocol, http_protocol) with a fake
 * libwebsockets (fuzz_lws.c) underneath, so no socket and no lws event
 * loop are involved and the server's sources stay as they are. One server
 * per process (SQLite in a private tmpfs directory, the shipped surveys,
 * flow and knowledge base), emptied before every input so that each input
 * runs alone. */
#ifndef PARLEY_FUZZ_SERVER_H
#define PARLEY_FUZZ_SERVER_H

#include <stddef.h>

#include <libwebsockets.h>

#include "server.h"

#define FZ_TOKEN "fuzz-agent-token"
#define FZ_CONNS 4

/* The fake connection behind a `struct lws *` (fuzz_lws.c). */
typedef struct fz_wsi {
    server *srv;
    int binary, final;
    int method; /* LWSHUMETH_*, -1 for none */
    const char *uri;
    const char *hdr[WSI_TOKEN_COUNT]; /* NULL when absent */
    int writable;                     /* a writeable callback was asked for */
    int killed;                       /* lws_set_timeout asked for a close */
    size_t written;
    void *user;       /* lws_wsi_user: the per-session data */
    void *opaque;     /* lws_{get,set}_opaque_user_data */
    const char *csrf; /* the X-Parley-CSRF header; NULL when absent */
} fz_wsi;

typedef struct fz_conn {
    fz_wsi wsi;
    void *pss; /* lws' per-session data */
    int open;
} fz_conn;

/* The server, set up on the first call; NULL when that failed. */
server *fz_server(void);
/* Every row of every table deleted; no connection open. */
void fz_server_reset(void);
/* Writes data[len] to the file `name` (may name a subdirectory "d/f") in the
 * process' private directory; its path (static, until the next call), or
 * NULL. The directory part must exist: see fz_tmp_dir. */
const char *fz_tmp_file(const char *name, const void *data, size_t len);
/* Creates (if needed) and returns the path of a subdirectory. */
const char *fz_tmp_dir(const char *name);

/* A WebSocket connection: opened on first use, one text (or binary) frame
 * delivered in `parts` fragments, writeable callbacks served until it has
 * nothing more to write; closed when a callback asks for it. */
void fz_ws_frame(fz_conn *c, const char *data, size_t len, int binary, int parts);
void fz_ws_close(fz_conn *c);

/* One HTTP transaction: `hdr` filled by the caller, body delivered in
 * `parts` pieces (Content-Length is the caller's business), the writes the
 * server asks for made at once (before the body, between its pieces and
 * after it), the response written to the end. */
void fz_http(fz_wsi *w, const char *path, const char *body, size_t body_len, int parts);

/* A user "u-fuzz" with an open conversation "c-fuzz" on connection c,
 * for targets that need something in the database. */
void fz_fixture(fz_conn *c);

/* The event loop's next turns, as parley-server's: writeable callbacks for
 * every open connection until none has more, the group commit's timer
 * (which lets out the frames held for the group), again until nothing is
 * left to do. Aborts when a group stays open or frames stay held after. */
void fz_serve_all(fz_conn *conns);

/* Runs the timers of 0 set before the call (fuzz_lws.c); how many ran. */
int fz_lws_run_due(void);

/* Lines of a script (see fuzz_srv_frames.c) run on conns[FZ_CONNS]. */
void fz_script(fz_conn *conns, const char *data, size_t size);

#endif
