#include "proactive.h"

#include "deliver.h"
#include "store.h"
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

static int send_item(void *ud, const store_proactive *p)
{
    ws_conn_send(ud, wire_proactive(p->n, p->msg, p->created_ms));
    return 0;
}

void proactive_resend(ws_conn *c)
{
    store_proactive_pending_each(ws_conn_server(c)->store, ws_conn_user(c), PROACTIVE_RESEND,
                                 send_item, c);
}
