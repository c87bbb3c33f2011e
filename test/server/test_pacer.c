/* Proactive deliveries waiting for their moment (pacer.c): delays, dwell
 * times cancelled by leaving the screen, no restart on a repeated screen,
 * one item per user and trigger, the bound. */
#include <stdio.h>
#include <string.h>

#include "pacer.h"
#include "testlib.h"

#define T0 INT64_C(1767000000000)

static void test_dwell(void)
{
    pacer *p = pacer_new();
    pacer_item it;

    CHECK(p != NULL);
    /* u1 enters the shop: due in 5 s. */
    CHECK_INT(pacer_add(p, "u1", 3, T0, T0 + 5000, "shop"), 1);
    CHECK_INT(pacer_next_due(p), T0 + 5000);
    /* The same screen again (a full context after a reconnect) keeps the clock. */
    CHECK_INT(pacer_add(p, "u1", 3, T0 + 1000, T0 + 6000, "shop"), 0);
    CHECK_INT(pacer_screen(p, "u1", "shop"), 0);
    CHECK_INT(pacer_next_due(p), T0 + 5000);
    CHECK_INT(pacer_take_due(p, T0 + 4999, &it), 0);
    /* Left after 2 s: nothing is delivered. */
    CHECK_INT(pacer_screen(p, "u1", "home"), 1);
    CHECK_INT(pacer_take_due(p, T0 + 5000, &it), 0);
    CHECK_INT(pacer_next_due(p), -1);
    /* Back, and staying: delivered once. */
    CHECK_INT(pacer_add(p, "u1", 3, T0 + 7000, T0 + 12000, "shop"), 1);
    CHECK_INT(pacer_take_due(p, T0 + 12000, &it), 1);
    CHECK_STR(it.user, "u1");
    CHECK_INT(it.trigger, 3);
    CHECK_INT(it.cause_ms, T0 + 7000);
    CHECK_STR(it.screen, "shop");
    CHECK_INT(pacer_take_due(p, T0 + 60000, &it), 0);
    pacer_free(p);
}

static void test_delays_and_users(void)
{
    pacer *p = pacer_new();
    pacer_item it;

    /* A delayed event trigger survives screen changes; users are apart. */
    CHECK_INT(pacer_add(p, "u1", 0, T0, T0 + 30000, NULL), 1);
    CHECK_INT(pacer_add(p, "u2", 1, T0, T0 + 2000, "shop"), 1);
    CHECK_INT(pacer_add(p, "u1", 1, T0, T0 + 9000, "shop"), 1);
    CHECK_INT(pacer_screen(p, "u1", NULL), 1);
    CHECK_INT(pacer_count(p), 2);
    CHECK_INT(pacer_take_due(p, T0 + 40000, &it), 1);
    CHECK_STR(it.user, "u2");
    CHECK_INT(pacer_take_due(p, T0 + 40000, &it), 1);
    CHECK_STR(it.user, "u1");
    CHECK_STR(it.screen, "");
    CHECK_INT(pacer_count(p), 0);
    CHECK_INT(pacer_add(p, "u3", 0, T0, T0, NULL), 1);
    CHECK_INT(pacer_add(p, "u3", 1, T0, T0, "x"), 1);
    pacer_forget(p, "u3");
    CHECK_INT(pacer_count(p), 0);
    pacer_free(p);
}

static void test_bounds(void)
{
    pacer *p = pacer_new();
    char user[PJ_MAX_ID + 2], screen[PACER_MAX_SCREEN + 2];
    int added = 0;

    memset(user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    memset(screen, 's', sizeof screen - 1);
    screen[sizeof screen - 1] = '\0';
    CHECK_INT(pacer_add(p, user, 0, T0, T0, NULL), -1);
    CHECK_INT(pacer_add(p, "u", 0, T0, T0, screen), -1);
    for (int i = 0; i < PACER_MAX_ITEMS + 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "user-%d", i);
        added += pacer_add(p, name, 0, T0, T0 + i, NULL) == 1;
    }
    CHECK_INT(added, PACER_MAX_ITEMS);
    CHECK_INT(pacer_next_due(p), T0);
    pacer_free(p);
}

int main(void)
{
    RUN(test_dwell);
    RUN(test_delays_and_users);
    RUN(test_bounds);
    return tl_finish();
}
