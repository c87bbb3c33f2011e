/* Survey instances (CSAT, NPS, ...): a definition of the --surveys file
 * sent to a user, stored with its answers, and sent again after every
 * welcome while it is pending. Who decides to send one: triggers.c and
 * the agents' API (api_surveys.c). */
#ifndef PARLEY_SERVER_SURVEY_H
#define PARLEY_SERVER_SURVEY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "server.h"
#include "store.h"
#include "ws.h"

/* Resent after each welcome: the newest this many, oldest first. */
#define SURVEY_RESEND 10

/* Stores an instance of the definition `def` for `user` (about `conv`, or
 * the server's own initiative when NULL) and sends it to their connections;
 * its number in *n. 0 or -1. */
int survey_deliver(server *s, const char *user, const cJSON *def, const char *conv, int64_t now,
                   int64_t *n);

enum { SURVEY_STORED, SURVEY_IGNORED, SURVEY_UNKNOWN, SURVEY_BAD, SURVEY_ERROR };

/* Stores the first answer (or dismissal: `answers` NULL) of the user's
 * instance `n`: SURVEY_STORED, SURVEY_IGNORED when it was answered or
 * dismissed before, SURVEY_UNKNOWN, SURVEY_BAD with why in buf (answers
 * that do not fit the definition), SURVEY_ERROR. */
int survey_finish(store *s, const char *user, int64_t n, const char *cid, const cJSON *answers,
                  char *buf, size_t cap);

/* The user's pending instances to a connection after its welcome. */
void survey_resend(ws_conn *c);

#endif
