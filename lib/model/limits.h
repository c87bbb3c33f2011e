/* The protocol's limits (docs/protocol.md), in one place: the codec holds
 * what arrives to them, the features what the host passes in, the
 * transport the size of a frame. Limits of the client's own (how many
 * requests may be pending, how many surveys are kept) live with the
 * feature they bound. */
#ifndef PARLEY_MODEL_LIMITS_H
#define PARLEY_MODEL_LIMITS_H

/* ---- every frame --------------------------------------------------------- */
#define PL_MAX_FRAME 65536
/* A welcome's limits.max_frame below this is ignored: every outbox item
 * over it would fail and leave the outbox for good. */
#define PL_MIN_FRAME 4096
#define PL_MAX_DEPTH 16
#define PL_MAX_STRING 16384
#define PL_MAX_TYPE 32
#define PL_MAX_ID 128
#define PL_SEQ_MAX 9007199254740991ULL /* 2^53 - 1 */

/* ---- conversations and messages ------------------------------------------ */
#define PL_MAX_TEXT 4096
#define PL_MAX_SUBJECT 256
/* What the host says about a request (conv.start "about"). */
#define PL_MAX_CATEGORY 64
#define PL_MAX_AREA 256
#define PL_MAX_HISTORY_LIMIT 500 /* history.get's limit */

/* ---- the user's context ("context", "event") ----------------------------- */
#define PL_MAX_ATTR_KEY 64
#define PL_MAX_ATTR_STR 1024
#define PL_MAX_ATTRS 100
#define PL_MAX_JSON_VALUE 4096 /* a JSON attribute value or event metadata */
#define PL_MAX_JSON_DEPTH 8
#define PL_MAX_SCREEN 256
#define PL_MAX_CRUMB 256
#define PL_MAX_CRUMBS 500
#define PL_MAX_DEVICE 32
#define PL_MAX_EVENT_NAME 64

/* ---- structured content ("Structured content") --------------------------- */
#define PL_MAX_BLOCKS 10
#define PL_MAX_OPTIONS 13 /* quick replies, buttons */
#define PL_MAX_CARDS 10
#define PL_MAX_LABEL 128
#define PL_MAX_TITLE 256
#define PL_MAX_PAYLOAD 1024
#define PL_MAX_URL 2048

/* ---- requests and their answers ------------------------------------------ */
#define PL_MAX_CONV_LIST 256
#define PL_MAX_PAGE 100 /* history.page messages */
#define PL_MAX_ARTICLES 20
#define PL_MAX_QUERY 256

/* ---- surveys ("survey") ---------------------------------------------------- */
#define PL_MAX_SURVEY_QUESTIONS 50
#define PL_MAX_SURVEY_OPTIONS 20
#define PL_MAX_SURVEY_TEXT 1024   /* title, intro, question text */
#define PL_MAX_SURVEY_LABEL 128   /* option and scale labels, definition name */
#define PL_MAX_SURVEY_ANSWER 4096 /* a text question's max_length */
#define PL_DEFAULT_SURVEY_ANSWER 1000

#endif
