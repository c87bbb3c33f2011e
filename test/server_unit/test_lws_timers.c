/* parley-server's libwebsockets keeps every connection's timers in one
 * sorted list per thread, and its build inserts into that list looking from
 * both ends (scripts/lws-patches/server/sul-insert-from-both-ends.patch).
 * An insert must land exactly where upstream's walk from the head puts it
 * (before the first element that does not sort before it, so among equal
 * times the newest comes first), and the two usual inserts at 10,000
 * connections, a validity check later than every timer listed and a short
 * tick earlier than all of them, must take a step or two instead of a walk
 * past every connection's timer (docs/scaling.md, "The timer list"). */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "testlib.h"

#define CONNS 10000

typedef struct timer {
    lws_dll2_t list;
    long long at;
    int id;
} timer;

static long compares;

static int by_time(const lws_dll2_t *a, const lws_dll2_t *b)
{
    const timer *x = lws_container_of(a, timer, list);
    const timer *y = lws_container_of(b, timer, list);

    compares++;
    return x->at > y->at ? 1 : x->at < y->at ? -1 : 0;
}

/* Upstream's place for t: before the first listed timer that is not
 * earlier, the same walk lws 4.1.6 does from the head. */
static lws_dll2_t *upstream_place(lws_dll2_owner_t *own, const timer *t)
{
    for (lws_dll2_t *p = lws_dll2_get_head(own); p; p = p->next)
        if (lws_container_of(p, timer, list)->at >= t->at)
            return p;
    return NULL;
}

/* Random times with many repeats, each insert checked against upstream's
 * place, then the whole list checked for order. */
static void test_same_place_as_upstream(void)
{
    lws_dll2_owner_t own = {0};
    static timer t[2000];
    int misplaced = 0;

    srand(17);
    for (int i = 0; i < 2000; i++) {
        t[i].at = rand() % 300;
        t[i].id = i;
        lws_dll2_t *want = upstream_place(&own, &t[i]);
        lws_dll2_add_sorted(&t[i].list, &own, by_time);
        misplaced += t[i].list.next != want;
    }
    CHECK_INT(misplaced, 0);
    CHECK_INT(own.count, 2000);

    long long prev = -1;
    int prev_id = -1, unordered = 0, older_first = 0;
    for (lws_dll2_t *p = lws_dll2_get_head(&own); p; p = p->next) {
        const timer *x = lws_container_of(p, timer, list);
        unordered += x->at < prev;
        older_first += x->at == prev && x->id > prev_id;
        prev = x->at;
        prev_id = x->id;
    }
    CHECK_INT(unordered, 0);
    CHECK_INT(older_first, 0);
}

/* The empty list, one element, and every position in a short list. */
static void test_small_lists(void)
{
    for (int n = 0; n < 6; n++) {
        for (int pos = 0; pos <= n; pos++) {
            lws_dll2_owner_t own = {0};
            timer t[7];
            memset(t, 0, sizeof t);
            for (int i = 0; i < n; i++) {
                t[i].at = 10 * (i + 1);
                lws_dll2_add_sorted(&t[i].list, &own, by_time);
            }
            t[n].at = 10 * pos + 5;
            lws_dll2_add_sorted(&t[n].list, &own, by_time);
            int at = 0;
            for (lws_dll2_t *p = lws_dll2_get_head(&own); p && p != &t[n].list; p = p->next)
                at++;
            CHECK_INT(at, pos);
            CHECK_INT(own.count, n + 1);
        }
    }
}

/* 10,000 connections' validity checks spread over 40 s, then the inserts
 * an idle server makes all the time. */
static void test_usual_inserts_do_not_walk(void)
{
    lws_dll2_owner_t own = {0};
    timer *conn = calloc(CONNS, sizeof *conn);
    timer late = {.at = 0}, tick = {.at = 0}, middle = {.at = 0};

    REQUIRE(conn);
    for (int i = 0; i < CONNS; i++) {
        conn[i].at = 1000000LL + 4000LL * i; /* µs: one every 4 ms */
        lws_dll2_add_sorted(&conn[i].list, &own, by_time);
    }

    /* a pinged connection's hangup check: later than everything */
    late.at = conn[CONNS - 1].at + 10000000LL;
    compares = 0;
    lws_dll2_add_sorted(&late.list, &own, by_time);
    CHECK(compares <= 2);
    CHECK(lws_dll2_get_tail(&own) == &late.list);

    /* the 250 ms pacing tick, group commit's zero-delay timer */
    tick.at = 250000;
    compares = 0;
    lws_dll2_add_sorted(&tick.list, &own, by_time);
    CHECK(compares <= 2);
    CHECK(lws_dll2_get_head(&own) == &tick.list);

    /* one in the middle still lands in its place */
    middle.at = conn[CONNS / 2].at + 1;
    lws_dll2_add_sorted(&middle.list, &own, by_time);
    CHECK(middle.list.prev == &conn[CONNS / 2].list);
    CHECK_INT(own.count, CONNS + 3);
    free(conn);
}

int main(void)
{
    RUN(test_same_place_as_upstream);
    RUN(test_small_lists);
    RUN(test_usual_inserts_do_not_walk);
    return tl_finish();
}
