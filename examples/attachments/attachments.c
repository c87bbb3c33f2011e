/* A game's "report a problem" button: the screenshot it just rendered
 * (bytes in memory) and the log file it keeps on disk go to support as
 * attachments, with progress on screen; the device's push token is
 * registered so an agent's reply reaches the player after the game is
 * closed; the conversation's last messages stay on the device (local
 * history) and the screenshot is fetched back into memory as an agent
 * would see it. Host-driven: one parley_service per frame, nothing blocks.
 *
 * Usage: parley-attachments wss://HOST:PORT CA.pem DATA_DIR [TOKEN]
 * TOKEN: what the game's backend gave to prove the player's id
 * "reporter-1" (a JWT or a user hash), for a server that verifies them. */
#include <parley.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A 1x1 PNG: what a real game would get from its renderer. */
static const unsigned char screenshot[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
    0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f, 0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47,
    0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

typedef struct game {
    parley_client *pc;
    char conv[PARLEY_ID_SIZE], shot_cid[PARLEY_ID_SIZE], log_cid[PARLEY_ID_SIZE];
    char shot_id[128], fetch_req[PARLEY_ID_SIZE];
    int sent, failed, fetched_bytes, fetched;
} game;

static void on_attachment(game *g, const parley_event *ev)
{
    const char *name = parley_event_attachment_name(ev);
    switch (parley_event_state(ev)) {
    case PARLEY_ATT_PROGRESS:
        printf("[upload] %s %lld/%lld bytes\n", name ? name : "?",
               (long long)parley_event_bytes_done(ev), (long long)parley_event_bytes_total(ev));
        break;
    case PARLEY_ATT_UPLOADED: printf("[upload] %s: done\n", name ? name : "?"); break;
    case PARLEY_ATT_DATA: {
        char chunk[PARLEY_ATTACHMENT_CHUNK_SIZE];
        g->fetched_bytes += parley_event_attachment_chunk(ev, chunk, sizeof chunk);
        break;
    }
    case PARLEY_ATT_DOWNLOADED:
        printf("[download] the screenshot came back: %d bytes\n", g->fetched_bytes);
        g->fetched = 1;
        break;
    case PARLEY_ATT_FAILED:
        printf("[attachment] failed: %s\n", parley_event_text(ev) ? parley_event_text(ev) : "");
        g->failed = 1;
        break;
    default: break;
    }
}

/* Our own message acknowledged: once both files are in, ask the history
 * (the device answers first) for the screenshot's id and fetch it back. */
static void on_status(game *g, const parley_event *ev)
{
    const char *cid = parley_event_client_id(ev);
    if (parley_event_state(ev) == PARLEY_MSG_FAILED)
        g->failed = 1;
    if (parley_event_state(ev) != PARLEY_MSG_SENT || !cid)
        return;
    if (strcmp(cid, g->shot_cid) == 0 || strcmp(cid, g->log_cid) == 0)
        g->sent++;
    if (g->sent == 2)
        parley_load_history(g->pc, g->conv, NULL, 20, NULL, 0);
}

static void on_history(game *g, const parley_event *ev)
{
    for (int i = 0; i < parley_event_item_count(ev); i++) {
        const parley_event *m = parley_event_item(ev, i);
        const char *id = parley_event_attachment_id(m);
        if (id)
            printf("[history%s] #%s %s (%lld bytes)\n",
                   parley_event_from_device(ev) ? ", from the device" : "", parley_event_seq(m),
                   parley_event_attachment_name(m), (long long)parley_event_attachment_size(m));
        if (id && !g->shot_id[0] && strcmp(parley_event_attachment_type(m), "image/png") == 0) {
            snprintf(g->shot_id, sizeof g->shot_id, "%s", id);
            parley_fetch_attachment(g->pc, id, NULL, g->fetch_req, sizeof g->fetch_req);
        }
    }
}

static void on_event(game *g, const parley_event *ev)
{
    switch (parley_event_type(ev)) {
    case PARLEY_EV_ATTACHMENT: on_attachment(g, ev); break;
    case PARLEY_EV_MESSAGE_STATUS: on_status(g, ev); break;
    case PARLEY_EV_HISTORY: on_history(g, ev); break;
    case PARLEY_EV_ERROR:
        printf("[error] %s\n", parley_event_text(ev) ? parley_event_text(ev) : "");
        break;
    default: break;
    }
}

static parley_client *create(const char *url, const char *ca, const char *data_dir)
{
    parley_config *cfg = parley_config_new();
    parley_client *pc = NULL;
    if (cfg && parley_config_set_url(cfg, url) == PARLEY_OK &&
        parley_config_set_app_id(cfg, "space-miner") == PARLEY_OK &&
        parley_config_set_ca_file(cfg, ca) == PARLEY_OK &&
        parley_config_set_data_dir(cfg, data_dir) == PARLEY_OK &&
        parley_config_set_local_history(cfg, 50) == PARLEY_OK)
        parley_client_new(cfg, &pc);
    parley_config_free(cfg);
    return pc;
}

/* The game's own log, as it would be on disk when the player hits "report". */
static int write_log(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int i = 0; i < 2000; i++)
        fprintf(f, "frame %05d: shader cache miss on level 3\n", i);
    return fclose(f);
}

static int queue_report(game *g, const char *log_path)
{
    int rc = parley_conversation_start(g->pc, "Crash on level 3", g->conv, sizeof g->conv);
    if (rc == PARLEY_OK)
        rc = parley_send_attachment_bytes(g->pc, g->conv, screenshot, sizeof screenshot,
                                          "screenshot.png", "image/png", "What I saw", g->shot_cid,
                                          sizeof g->shot_cid);
    if (rc == PARLEY_OK)
        rc = parley_send_attachment(g->pc, g->conv, log_path, "game.log", "text/plain", NULL,
                                    g->log_cid, sizeof g->log_cid);
    if (rc != PARLEY_OK)
        fprintf(stderr, "attachments: %s\n", parley_strerror(rc));
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s wss://HOST:PORT CA.pem DATA_DIR [TOKEN]\n", argv[0]);
        return 1;
    }
    char log_path[1024];
    snprintf(log_path, sizeof log_path, "%s/game.log", argv[3]);
    game g = {0};
    if (!(g.pc = create(argv[1], argv[2], argv[3])) || write_log(log_path) != 0) {
        fprintf(stderr, "attachments: cannot create the client or the log in %s\n", argv[3]);
        parley_client_free(g.pc);
        return 2;
    }
    parley_identify(g.pc, "reporter-1", argc == 5 ? argv[4] : NULL);
    parley_set_push_token(g.pc, "fcm", "demo-device-token-1");
    if (queue_report(&g, log_path) != PARLEY_OK) {
        parley_client_free(g.pc);
        return 2;
    }
    for (int frame = 0; frame < 60 * 30 && !g.fetched && !g.failed; frame++) {
        parley_service(g.pc, 0);
        parley_event *ev;
        while (parley_poll(g.pc, &ev) == PARLEY_OK) {
            on_event(&g, ev);
            parley_event_free(ev);
        }
        struct timespec ts = {0, 16 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int ok = g.fetched && g.fetched_bytes == (int)sizeof screenshot;
    if (!ok)
        fprintf(stderr, "attachments: sent %d of 2, fetched %d bytes\n", g.sent, g.fetched_bytes);
    parley_client_free(g.pc);
    return ok ? 0 : 2;
}
