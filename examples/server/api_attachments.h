/* The agents' HTTP API for files (docs/protocol.md, "Reference server HTTP
 * API"): an attachment's bytes, and an agent's file sent into a
 * conversation. */
#ifndef PARLEY_SERVER_API_ATTACHMENTS_H
#define PARLEY_SERVER_API_ATTACHMENTS_H

#include "http.h"

/* GET /api/attachments/{id} */
unsigned api_attachments_get(server *s, const char *id, http_file *f, cJSON **out);
/* POST /api/conversations/{id}/attachments?name=N&caption=C&agent=A */
unsigned api_attachments_post(server *s, const char *conv, http_file *f, cJSON **out);

#endif
