/* The support screen of a game, drawn by the game itself (here: printed).
 * It renders structured messages, a typing indicator, read marks and the
 * unread badge, the conversation list, older history, a help article, and
 * a survey with every kind of question; proactive content is muted during
 * a "boss fight" and shown afterwards. Host-driven: one call to
 * parley_service per frame, nothing blocks.
 *
 * Usage: parley-support-ui wss://localhost:8443 ca.pem [TOKEN]
 * TOKEN: what the game's backend gave to prove the player's id "ui-player"
 * (a JWT or a user hash), for a server that verifies identities. */
#include <parley.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct ui {
    parley_client *pc;
    char conv[PARLEY_ID_SIZE];
    int got_list, got_history, got_article, survey_sent;
    char survey_cid[PARLEY_ID_SIZE];
} ui;

static const char *s_or(const char *s)
{
    return s ? s : "";
}

static void draw_block(const parley_block *b, int depth)
{
    static const char *const kinds[] = {"?", "quick replies", "buttons", "card", "carousel"};
    int k = parley_block_kind(b);
    printf("%*s<%s>%s%s%s%s\n", depth * 2 + 4, "", kinds[k >= 1 && k <= 4 ? k : 0],
           parley_block_title(b) ? " " : "", s_or(parley_block_title(b)),
           parley_block_image_url(b) ? " image " : "", s_or(parley_block_image_url(b)));
    for (int j = 0; j < parley_block_option_count(b); j++) {
        const parley_option *o = parley_block_option(b, j);
        printf("%*s( %s )%s%s\n", depth * 2 + 6, "", parley_option_label(o),
               parley_option_payload(o) ? " -> " : "", s_or(parley_option_payload(o)));
    }
    for (int j = 0; j < parley_block_card_count(b); j++)
        draw_block(parley_block_card(b, j), depth + 1);
}

static void draw_message(ui *u, const parley_event *ev)
{
    printf("ui: %s: %s\n", s_or(parley_event_author_name(ev)), s_or(parley_event_text(ev)));
    for (int i = 0; i < parley_event_block_count(ev); i++)
        draw_block(parley_event_block(ev, i), 0);
    /* The screen is open: what is drawn is read. */
    if (parley_event_conversation_id(ev) && parley_event_seq(ev))
        parley_mark_read(u->pc, parley_event_conversation_id(ev), parley_event_seq(ev));
    uint32_t unread = 0;
    parley_unread_count(u->pc, NULL, &unread);
    printf("ui: unread badge: %u\n", unread);
}

static void draw_question(const parley_question *q)
{
    static const char *const kinds[] = {"?", "rating", "nps", "single", "multi", "text"};
    int k = parley_question_kind(q);
    printf("    %s [%s%s] %s", parley_question_id(q), kinds[k >= 1 && k <= 5 ? k : 0],
           parley_question_required(q) ? ", required" : "", s_or(parley_question_text(q)));
    if (k == PARLEY_Q_RATING || k == PARLEY_Q_NPS || k == PARLEY_Q_MULTI)
        printf(" (%d..%d %s/%s)", parley_question_min(q), parley_question_max(q),
               s_or(parley_question_min_label(q)), s_or(parley_question_max_label(q)));
    if (k == PARLEY_Q_TEXT)
        printf(" (at most %d bytes)", parley_question_max_length(q));
    printf("\n");
    for (int j = 0; j < parley_question_option_count(q); j++)
        printf("      - %s: %s\n", parley_question_option_id(q, j),
               parley_question_option_label(q, j));
    if (parley_question_show_if_question(q)) {
        printf("      shown when %s is", parley_question_show_if_question(q));
        for (int j = 0; j < parley_question_show_if_value_count(q); j++)
            printf(" %s", parley_question_show_if_value(q, j));
        printf("\n");
    }
}

/* Answers the NPS survey the way a player would tap through it. */
static void answer_survey(ui *u, const parley_survey *s)
{
    parley_survey_response *r = NULL;
    if (parley_survey_response_new(u->pc, parley_survey_id(s), &r) != PARLEY_OK)
        return;
    const char *picked[] = {"story", "events"};
    parley_survey_answer_number(r, "q1", 9);
    parley_survey_answer_choices(r, "q2", picked, 2);
    parley_survey_clear_answer(r, "q2"); /* the player changed their mind */
    parley_survey_answer_choices(r, "q2", picked, 1);
    printf("ui: q2 visible: %s\n", parley_survey_question_visible(r, "q2") ? "yes" : "no");
    char missing[PARLEY_SURVEY_ID_SIZE] = "";
    int rc = parley_survey_submit(r, missing, sizeof missing, u->survey_cid, sizeof u->survey_cid);
    printf("ui: survey submitted: %s%s\n", parley_strerror(rc), missing);
    parley_survey_response_free(r);
}

static void draw_survey(ui *u, const parley_event *ev)
{
    const parley_survey *s = parley_event_survey(ev);
    printf("ui: survey %s (%s%s) \"%s\": %s\n", parley_survey_id(s), s_or(parley_survey_name(s)),
           parley_survey_is_proactive(s) ? ", proactive" : "", s_or(parley_survey_title(s)),
           s_or(parley_survey_intro(s)));
    if (parley_survey_conversation_id(s))
        printf("    about %s\n", parley_survey_conversation_id(s));
    for (int i = 0; i < parley_survey_question_count(s); i++)
        draw_question(parley_survey_question(s, i));
    answer_survey(u, s);
}

/* The first bot message: the player browses around. */
static void browse(ui *u)
{
    parley_list_conversations(u->pc, NULL, 0);
    parley_load_history(u->pc, u->conv, NULL, 5, NULL, 0);
    parley_get_article(u->pc, "refunds", NULL, 0);
}

static void on_event(ui *u, const parley_event *ev)
{
    switch (parley_event_type(ev)) {
    case PARLEY_EV_MESSAGE:
        draw_message(u, ev);
        if (parley_event_author_kind(ev) == PARLEY_AUTHOR_BOT && !u->got_list)
            browse(u);
        break;
    case PARLEY_EV_PROACTIVE: printf("ui: (proactive) %s\n", s_or(parley_event_text(ev))); break;
    case PARLEY_EV_TYPING:
        printf("ui: %s\n", parley_event_state(ev) == PARLEY_TYPING_ON ? "typing..." : "(stopped)");
        break;
    case PARLEY_EV_CONVERSATIONS:
        u->got_list = 1;
        printf("ui: %d conversation(s)\n", parley_event_item_count(ev));
        break;
    case PARLEY_EV_HISTORY:
        u->got_history = 1;
        printf("ui: %d older message(s)%s\n", parley_event_item_count(ev),
               parley_event_more(ev) ? ", more" : "");
        break;
    case PARLEY_EV_ARTICLE:
        u->got_article = 1;
        printf("ui: article \"%s\" (%zu bytes)\n", s_or(parley_event_title(ev)),
               strlen(s_or(parley_event_text(ev))));
        break;
    case PARLEY_EV_SURVEY: draw_survey(u, ev); break;
    case PARLEY_EV_MESSAGE_STATUS:
        if (parley_event_state(ev) == PARLEY_MSG_SENT &&
            strcmp(s_or(parley_event_client_id(ev)), u->survey_cid) == 0)
            u->survey_sent = 1;
        break;
    default: break;
    }
}

static parley_client *create(const char *url, const char *ca)
{
    parley_config *cfg = parley_config_new();
    parley_client *pc = NULL;
    if (cfg && parley_config_set_url(cfg, url) == PARLEY_OK &&
        parley_config_set_app_id(cfg, "space-miner") == PARLEY_OK &&
        parley_config_set_ca_file(cfg, ca) == PARLEY_OK &&
        parley_config_set_consent(cfg, 1) == PARLEY_OK)
        parley_client_new(cfg, &pc);
    parley_config_free(cfg);
    return pc;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s wss://HOST:PORT CA.pem [TOKEN]\n", argv[0]);
        return 1;
    }
    ui u = {0};
    if (!(u.pc = create(argv[1], argv[2]))) {
        fprintf(stderr, "ui: cannot create the client\n");
        return 2;
    }
    parley_identify(u.pc, "ui-player", argc == 4 ? argv[3] : NULL);
    parley_set_attribute_str(u.pc, "plan", "vip");
    parley_mute_proactive(u.pc, 1500); /* boss fight: nothing pops up */
    parley_track_event(u.pc, "level_failed", "{\"level\":3}");
    parley_conversation_start(u.pc, "Refunds", u.conv, sizeof u.conv);
    parley_set_typing(u.pc, u.conv, 1);
    parley_send_text(u.pc, u.conv, "How do refunds work?", NULL, 0);
    parley_set_typing(u.pc, u.conv, 0);
    for (int frame = 0; frame < 60 * 30; frame++) {
        parley_service(u.pc, 0);
        parley_event *ev;
        while (parley_poll(u.pc, &ev) == PARLEY_OK) {
            on_event(&u, ev);
            parley_event_free(ev);
        }
        if (u.got_list && u.got_history && u.got_article && u.survey_sent)
            break;
        struct timespec ts = {0, 16 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int ok = u.got_list && u.got_history && u.got_article && u.survey_sent;
    if (!ok)
        fprintf(stderr, "ui: list %d history %d article %d survey %d\n", u.got_list, u.got_history,
                u.got_article, u.survey_sent);
    parley_client_free(u.pc);
    return ok ? 0 : 2;
}
