/* Agent presence: offline exactly when no console channel is open (after
 * the grace period), else the chosen status; every change reported once. */
#include <stdio.h>
#include <string.h>

#include "presence.h"
#include "testlib.h"

typedef struct log {
    char lines[32][64];
    int n;
} log_t;

static void on_change(void *ud, const char *agent, presence_t old, presence_t now)
{
    log_t *l = ud;

    if (l->n < 32)
        snprintf(l->lines[l->n++], 64, "%s %s>%s", agent, presence_name(old), presence_name(now));
}

static int count(void *ud, const char *agent, presence_t p)
{
    (void)agent;
    (void)p;
    ++*(int *)ud;
    return 0;
}

static void test_presence_lifecycle(void)
{
    log_t l = {0};
    presence_tab *t = presence_new(on_change, &l);
    int n = 0;

    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_INT(presence_get(t, "dana"), PRES_OFFLINE);
    /* First channel: the stored choice shows. */
    CHECK_INT(presence_channel_open(t, "dana", PRES_ONLINE, 1000), 0);
    CHECK_INT(presence_get(t, "dana"), PRES_ONLINE);
    /* A second tab changes nothing visible. */
    CHECK_INT(presence_channel_open(t, "dana", PRES_ONLINE, 1100), 0);
    CHECK_INT(presence_channels(t, "dana"), 2);
    CHECK_INT(presence_set_status(t, "dana", PRES_BUSY), 0);
    CHECK_INT(presence_get(t, "dana"), PRES_BUSY);
    presence_channel_closed(t, "dana", 2000);
    CHECK_INT(presence_tick(t, 2000), 0);
    CHECK_INT(presence_get(t, "dana"), PRES_BUSY);
    /* The last channel closes: still busy during the grace ... */
    presence_channel_closed(t, "dana", 3000);
    CHECK_INT(presence_tick(t, 3001), 3000 + PRESENCE_GRACE_MS);
    CHECK_INT(presence_get(t, "dana"), PRES_BUSY);
    /* ... a reload comes back within it: nothing announced ... */
    CHECK_INT(presence_channel_open(t, "dana", PRES_BUSY, 4000), 0);
    CHECK_INT(presence_tick(t, 9000), 0);
    CHECK_INT(presence_get(t, "dana"), PRES_BUSY);
    /* ... then leaves for good: offline once the grace is over. */
    presence_channel_closed(t, "dana", 10000);
    CHECK_INT(presence_tick(t, 10000 + PRESENCE_GRACE_MS - 1), 10000 + PRESENCE_GRACE_MS);
    CHECK_INT(presence_tick(t, 10000 + PRESENCE_GRACE_MS), 0);
    CHECK_INT(presence_get(t, "dana"), PRES_OFFLINE);
    CHECK_INT(l.n, 3);
    CHECK_STR(l.lines[0], "dana offline>online");
    CHECK_STR(l.lines[1], "dana online>busy");
    CHECK_STR(l.lines[2], "dana busy>offline");
    /* Choosing a status while offline is stored, not shown; the next
     * channel shows it. */
    CHECK_INT(presence_set_status(t, "dana", PRES_AWAY), 0);
    CHECK_INT(presence_get(t, "dana"), PRES_OFFLINE);
    CHECK_INT(presence_channel_open(t, "dana", PRES_AWAY, 20000), 0);
    CHECK_INT(presence_get(t, "dana"), PRES_AWAY);
    CHECK_INT(presence_channel_open(t, "sam", PRES_ONLINE, 20000), 0);
    presence_each(t, count, &n);
    CHECK_INT(n, 2);
    /* Offline is not a choice; a close without an open is ignored. */
    CHECK_INT(presence_set_status(t, "dana", PRES_OFFLINE), -1);
    presence_channel_closed(t, "ivy", 1);
    CHECK_INT(presence_get(t, "ivy"), PRES_OFFLINE);
    presence_free(t);
    presence_free(NULL);
}

static void test_presence_names(void)
{
    CHECK_STR(presence_name(PRES_BUSY), "busy");
    CHECK_STR(presence_name(PRES_OFFLINE), "offline");
    CHECK_INT(presence_parse_status("away"), PRES_AWAY);
    CHECK_INT(presence_parse_status("online"), PRES_ONLINE);
    CHECK_INT(presence_parse_status("offline"), -1);
    CHECK_INT(presence_parse_status("Online"), -1);
    CHECK_INT(presence_parse_status(NULL), -1);
}

int main(void)
{
    RUN(test_presence_lifecycle);
    RUN(test_presence_names);
    return tl_finish();
}
