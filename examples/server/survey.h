/* Surveys (CSAT, NPS, ...) and proactive messages: definitions and triggers
 * from the --surveys file, instances delivered to users and stored with
 * their answers, and the HTTP API around them. */
#ifndef PARLEY_SERVER_SURVEY_H
#define PARLEY_SERVER_SURVEY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "server.h"

struct ws_conn;

/* Creates the module's tables. 0 or -1. */
int survey_init(db *d);

/* An agent closed `conv_id`: delivers the survey of every "conv.closed"
 * trigger (at most once per conversation and survey). Call it after the
 * close is stored; it may run inside or outside a transaction. */
void survey_on_conv_closed(server *srv, const char *conv_id, int64_t now_ms);
/* A new tracked event / a change of screen: fires the matching triggers. */
void survey_on_event(server *srv, const char *user, const char *name, int64_t now_ms);
void survey_on_screen(server *srv, const char *user, const char *screen, int64_t now_ms);

/* After a welcome: the user's pending surveys (newest 10) and proactive
 * items not acknowledged yet (newest 32), oldest first. */
void survey_on_welcome(struct ws_conn *c);

/* Frame handlers (ws.c dispatch). */
void survey_on_submit(struct ws_conn *c, const cJSON *f);
void survey_on_dismiss(struct ws_conn *c, const cJSON *f);
void survey_on_proactive_ack(struct ws_conn *c, const cJSON *f);

/* identity_merge's part: survey instances and proactive items. 0 or -1. */
int survey_merge_user(db *d, const char *anon, const char *user);

/* HTTP API handlers (http_api.h, http_api_fn). */
unsigned survey_api_push(server *s, const char *user, const cJSON *body, cJSON **out);
unsigned survey_api_proactive(server *s, const char *user, const cJSON *body, cJSON **out);
unsigned survey_api_responses(server *s, const char *name, const cJSON *body, cJSON **out);

#endif
