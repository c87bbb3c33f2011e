/* Proactive deliveries waiting for their moment (docs/routing.md,
 * "Proactive triggers at the right moment"): a trigger with a delay or a
 * dwell time is not delivered when its cause happens but put here, due at
 * cause + delay (or + dwell); a dwell item is dropped when the user leaves
 * the screen before it is due. Pure and in memory: the server asks for the
 * items that are due on its timer and checks the other conditions (cap,
 * open conversations, attributes) then. */
#ifndef PARLEY_SERVER_PACER_H
#define PARLEY_SERVER_PACER_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* Items kept at most; beyond, new ones are refused (a flood of users
 * changing screens cannot grow the server without bound). */
#define PACER_MAX_ITEMS 10000
#define PACER_MAX_SCREEN 256

typedef struct pacer pacer;

typedef struct pacer_item {
    char user[PJ_MAX_ID + 1];
    int trigger;                       /* the trigger's index in its file */
    int64_t cause_ms;                  /* when the cause happened */
    int64_t due_ms;                    /* when to deliver */
    char screen[PACER_MAX_SCREEN + 1]; /* a dwell item: the screen to stay on; "" otherwise */
} pacer_item;

pacer *pacer_new(void);
void pacer_free(pacer *p);

/* Adds an item. An item of the same user and trigger already waiting is
 * kept as it is (a screen sent again, or a second event, does not restart
 * the clock). 1 when added, 0 when one was waiting, -1 when full (or the
 * user or screen is too long). */
int pacer_add(pacer *p, const char *user, int trigger, int64_t cause_ms, int64_t due_ms,
              const char *screen);

/* The user is now on `screen` (NULL: none): their dwell items for other
 * screens are dropped. The number dropped. */
size_t pacer_screen(pacer *p, const char *user, const char *screen);

/* Drops every item of `user` (e.g. merged into another user). */
void pacer_forget(pacer *p, const char *user);

/* The earliest due time, or -1 when nothing waits. */
int64_t pacer_next_due(const pacer *p);

/* Takes the earliest item due at or before now_ms into *out: 1, or 0 when
 * none is due. */
int pacer_take_due(pacer *p, int64_t now_ms, pacer_item *out);

size_t pacer_count(const pacer *p);

#endif
