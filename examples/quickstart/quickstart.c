/* The README's example: start a conversation, send one message, print replies. */
#include <parley.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s wss://HOST:PORT/ CA.pem\n", argv[0]);
        return 2;
    }
    parley_config *cfg = parley_config_new();
    parley_config_set_url(cfg, argv[1]);
    parley_config_set_ca_file(cfg, argv[2]);
    parley_config_set_app_id(cfg, "quickstart");
    parley_client *pc;
    int rc = parley_client_new(cfg, &pc);
    parley_config_free(cfg);
    if (rc != PARLEY_OK) {
        fprintf(stderr, "parley_client_new: %s\n", parley_strerror(rc));
        return 1;
    }

    char conv[PARLEY_ID_SIZE];
    parley_conversation_start(pc, "Payment problem", conv, sizeof conv); /* works offline */
    parley_send_text(pc, conv, "My gems never arrived", NULL, 0);

    int replies = 0;
    for (int frame = 0; frame < 1000 && !replies; frame++) { /* your main loop */
        parley_service(pc, 16); /* waits up to 16 ms for the network; a game: 0, or parley_start */
        parley_event *ev;
        while (parley_poll(pc, &ev) == PARLEY_OK) {
            if (parley_event_type(ev) == PARLEY_EV_MESSAGE) {
                printf("%s: %s\n", parley_event_author_name(ev), parley_event_text(ev));
                replies++;
            }
            parley_event_free(ev);
        }
    }
    parley_client_free(pc);
    return replies ? 0 : 1;
}
