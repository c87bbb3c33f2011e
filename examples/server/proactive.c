#include "proactive.h"

#include "deliver.h"
#include "store.h"
#include "util.h"
#include "wire.h"

int proactive_deliver(server *s, const char *user, const cJSON *msg, int64_t now, int64_t *n)
{
    char *text = cJSON_PrintUnformatted(msg);
    int rc = text ? store_proactive_add(s->store, user, text, now, n) : -1;

    if (rc == 0)
        deliver_frame(s, user, "proactive", wire_proactive(*n, text, now));
    cJSON_free(text);
    return rc;
}

/* An item past its trigger's expiry (docs/routing.md) is done with, not
 * sent again. */
static int send_item(void *ud, const store_proactive *p)
{
    ws_conn *c = ud;
    store *st = ws_conn_server(c)->store;
    int64_t now = util_now_ms();

    if (store_proactive_expired(st, p->n, now) == 1)
        return store_proactive_ack(st, ws_conn_user(c), p->n, now) ? 1 : 0;
    ws_conn_send(c, wire_proactive(p->n, p->msg, p->created_ms));
    return 0;
}

void proactive_resend(ws_conn *c)
{
    store_proactive_pending_each(ws_conn_server(c)->store, ws_conn_user(c), PROACTIVE_RESEND,
                                 send_item, c);
}
