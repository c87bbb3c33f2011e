/* A game embeds Parley: everything on the main thread, nothing blocking a
 * frame. The game reports where the player is every frame (only the latest
 * screen travels, at most once per context interval), records breadcrumbs
 * and a tracked event, scrubs the player's real name with its own redaction
 * hook (card numbers and e-mails are scrubbed by the built-in one), and the
 * player asks for help from inside the level. At the end the player signs
 * out and Parley forgets them.
 *
 * Usage: parley-game-context wss://localhost:8443 ca.pem [TOKEN]
 * TOKEN: what the game's backend gave to prove the player's id "pilot-7" (a
 * JWT or a user hash), for a server that verifies identities. */
#include <parley.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define REAL_NAME "Jane Player"

/* The game knows its player's real name and keeps it out of support. */
static void scrub_real_name(void *user, int field, char *text, size_t size)
{
    (void)user;
    (void)field;
    (void)size;
    for (char *p = strstr(text, REAL_NAME); p; p = strstr(p, REAL_NAME))
        memset(p, '*', strlen(REAL_NAME));
}

static parley_client *connect_client(const char *url, const char *ca)
{
    parley_config *cfg = parley_config_new();
    parley_client *pc = NULL;
    int rc = cfg ? PARLEY_OK : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK)
        rc = parley_config_set_url(cfg, url);
    if (rc == PARLEY_OK)
        rc = parley_config_set_app_id(cfg, "space-miner");
    if (rc == PARLEY_OK)
        rc = parley_config_set_ca_file(cfg, ca);
    if (rc == PARLEY_OK)
        rc = parley_config_set_app_version(cfg, "2.3.0");
    if (rc == PARLEY_OK) /* 20 breadcrumbs, a context patch at most every 500 ms */
        rc = parley_config_set_context_limits(cfg, 20, 500);
    if (rc == PARLEY_OK)
        rc = parley_config_set_redactor(cfg, scrub_real_name, NULL);
    if (rc == PARLEY_OK) /* the built-in card/e-mail scrubber stays on */
        rc = parley_config_set_default_redactor(cfg, 1);
    if (rc == PARLEY_OK) /* nothing of the context leaves until the player agrees */
        rc = parley_config_set_consent(cfg, 0);
    if (rc == PARLEY_OK)
        rc = parley_client_new(cfg, &pc);
    parley_config_free(cfg);
    if (rc != PARLEY_OK)
        fprintf(stderr, "game: cannot create the client: %s\n", parley_strerror(rc));
    return pc;
}

static void frame_sleep(void)
{
    struct timespec ts = {0, 16 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Draws the support UI for one event; returns 1 for a reply from support. */
static int show_event(const parley_event *ev)
{
    switch (parley_event_type(ev)) {
    case PARLEY_EV_MESSAGE:
        printf("game: [%s] %s\n",
               parley_event_author_name(ev) ? parley_event_author_name(ev) : "support",
               parley_event_text(ev));
        return parley_event_author_kind(ev) != PARLEY_AUTHOR_USER;
    case PARLEY_EV_ERROR: printf("game: (support problem: %s)\n", parley_event_text(ev)); return 0;
    default: return 0;
    }
}

/* One frame: the game's own work, then Parley's, without blocking. */
static int run_frame(parley_client *pc, int frame)
{
    char screen[32];
    snprintf(screen, sizeof screen, "level-%d", 1 + frame / 60);
    parley_set_screen(pc, screen);
    if (frame % 40 == 0) {
        char action[64];
        snprintf(action, sizeof action, "jumped over crater %d", frame / 40);
        parley_add_breadcrumb(pc, action);
    }
    parley_service(pc, 0);
    int replies = 0;
    parley_event *ev;
    while (parley_poll(pc, &ev) == PARLEY_OK) {
        replies += show_event(ev);
        parley_event_free(ev);
    }
    return replies;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s wss://HOST:PORT CA.pem [TOKEN]\n", argv[0]);
        return 1;
    }
    parley_client *pc = connect_client(argv[1], argv[2]);
    if (!pc)
        return 2;
    parley_identify(pc, "pilot-7", argc == 4 ? argv[3] : NULL);
    parley_set_attribute_str(pc, "plan", "vip");
    parley_set_attribute_num(pc, "level", 3);
    parley_set_attribute_bool(pc, "beta", 1);
    parley_set_attribute_null(pc, "guild");
    parley_set_attribute_json(pc, "ship", "{\"hull\":\"mk2\",\"upgrades\":[\"shield\"]}");
    parley_set_device_fact(pc, "gpu", "ExampleGPU 9000");
    parley_set_consent(pc, 1); /* the player said yes in the settings screen */
    if (parley_track_event(pc, "level_failed", "{\"level\":3,\"attempts\":5}") != PARLEY_OK)
        fprintf(stderr, "game: event not tracked\n");

    char conv[PARLEY_ID_SIZE];
    int replies = 0, asked = 0, rc = 2;
    for (int frame = 0; frame < 60 * 20 && rc == 2; frame++) {
        replies += run_frame(pc, frame);
        if (frame == 150 && !asked) {
            asked =
                parley_conversation_start(pc, "Stuck on level 3", conv, sizeof conv) == PARLEY_OK &&
                parley_send_text(pc, conv,
                                 "Hi, " REAL_NAME " here: the gate on level 3 never opens", NULL,
                                 0) == PARLEY_OK;
            if (!asked)
                break;
        }
        if (replies > 0)
            rc = 0;
        frame_sleep();
    }
    if (rc == 0) {
        printf("game: the player signs out\n");
        rc = parley_logout(pc) == PARLEY_OK ? 0 : 2;
    } else {
        fprintf(stderr, "game: no answer from support\n");
    }
    parley_client_free(pc);
    return rc;
}
