/* The user's side of surveys and proactive messages: `survey.submit`,
 * `survey.dismiss` (acked once stored) and `proactive.ack`. */
#ifndef PARLEY_SERVER_FRAME_SURVEYS_H
#define PARLEY_SERVER_FRAME_SURVEYS_H

#include "ws.h"

void frame_surveys_submit(ws_conn *c, const cJSON *f);
void frame_surveys_dismiss(ws_conn *c, const cJSON *f);
void frame_surveys_proactive_ack(ws_conn *c, const cJSON *f);

#endif
