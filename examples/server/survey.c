#include "survey.h"

#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "deliver.h"
#include "json.h"
#include "store.h"
#include "survey_def.h"
#include "util.h"
#include "wire.h"

int survey_deliver(server *s, const char *user, const cJSON *def, const char *conv, int64_t now,
                   int64_t *n)
{
    cJSON *wire = survey_def_wire_copy(def);
    char *text = wire ? cJSON_PrintUnformatted(wire) : NULL;
    int rc = -1;

    cJSON_Delete(wire);
    /* A survey about no conversation is the server's own initiative. */
    if (text)
        rc = store_survey_add(s->store, user, pj_string(def, "name"), conv, conv == NULL, text, now,
                              n);
    if (rc == 0) {
        deliver_frame(s, user, "survey", wire_survey(*n, conv, conv == NULL, text));
        console_survey(s, *n);
    }
    cJSON_free(text);
    return rc;
}

typedef struct finishing {
    const cJSON *answers; /* NULL: a dismissal */
    char *why;
    size_t cap;
    int outcome;
    cJSON *def;
} finishing;

static int check_instance(void *ud, const store_survey *sv)
{
    finishing *fin = ud;

    fin->def = cJSON_Parse(sv->def);
    if (strcmp(sv->status, "pending") != 0)
        fin->outcome = SURVEY_IGNORED;
    else if (fin->def && fin->answers &&
             survey_def_answers_why(fin->def, fin->answers, fin->why, fin->cap))
        fin->outcome = SURVEY_BAD;
    else if (fin->def)
        fin->outcome = SURVEY_STORED;
    return 0;
}

int survey_finish(store *s, const char *user, int64_t n, const char *cid, const cJSON *answers,
                  char *buf, size_t cap)
{
    finishing fin = {answers, buf, cap, SURVEY_ERROR, NULL};
    char *text = answers ? cJSON_PrintUnformatted(answers) : NULL;
    int rc = store_survey_get(s, user, n, check_instance, &fin);

    if (rc == 0)
        fin.outcome = SURVEY_UNKNOWN;
    else if (rc < 0)
        fin.outcome = SURVEY_ERROR;
    else if (fin.outcome == SURVEY_STORED &&
             ((answers && !text) || store_survey_finish(s, n, answers ? "submitted" : "dismissed",
                                                        text, util_now_ms(), cid)))
        fin.outcome = SURVEY_ERROR;
    cJSON_Delete(fin.def);
    cJSON_free(text);
    return fin.outcome;
}

static int send_survey(void *ud, const store_survey *sv)
{
    ws_conn_send(ud, wire_survey(sv->n, sv->conv, sv->proactive, sv->def));
    return 0;
}

void survey_resend(ws_conn *c)
{
    store_survey_pending_each(ws_conn_server(c)->store, ws_conn_user(c), SURVEY_RESEND, send_survey,
                              c);
}
