#include "frame_surveys.h"

#include "console.h"
#include "json.h"
#include "store.h"
#include "survey.h"
#include "util.h"
#include "wire.h"

static void on_done(ws_conn *c, const cJSON *f, int submit)
{
    const char *cid = pj_string(f, "cid");
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(f, "answers");
    char why[256];
    int64_t n;
    int rc;

    if (!pj_is_ident(cid)) {
        ws_conn_error(c, "bad_frame", "needs a cid identifier", NULL);
        return;
    }
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, "survey")) ||
        (submit && !cJSON_IsObject(answers))) {
        ws_conn_error(c, "bad_frame",
                      submit ? "needs survey and an answers object" : "needs survey", cid);
        return;
    }
    rc = wire_parse_id(pj_string(f, "survey"), "sv-", &n)
             ? SURVEY_UNKNOWN
             : survey_finish(ws_conn_server(c)->store, ws_conn_user(c), n, cid,
                             submit ? answers : NULL, why, sizeof why);
    if (rc == SURVEY_UNKNOWN)
        ws_conn_error(c, "unknown_survey", "no such survey", cid);
    else if (rc == SURVEY_BAD)
        ws_conn_error(c, "bad_answer", why, cid);
    else if (rc == SURVEY_ERROR)
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
    else
        ws_conn_send(c, wire_ack(cid));
    if (rc == SURVEY_STORED)
        console_survey(ws_conn_server(c), n);
}

void frame_surveys_submit(ws_conn *c, const cJSON *f)
{
    on_done(c, f, 1);
}

void frame_surveys_dismiss(ws_conn *c, const cJSON *f)
{
    on_done(c, f, 0);
}

void frame_surveys_proactive_ack(ws_conn *c, const cJSON *f)
{
    const char *id = pj_string(f, "id");
    int64_t n;

    if (!pj_is_ident(id)) {
        ws_conn_error(c, "bad_frame", "proactive.ack needs an id", NULL);
        return;
    }
    /* An id that is not the user's is ignored, like an ack for an unknown
     * cid on the client. */
    if (wire_parse_id(id, "p-", &n) == 0 &&
        store_proactive_ack(ws_conn_server(c)->store, ws_conn_user(c), n, util_now_ms()))
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
}
