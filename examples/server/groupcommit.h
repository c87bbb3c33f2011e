/* When the open group of writes is committed (store.h, group commit): on
 * the loop's next turn after it opened, so that everything the server did
 * for the frames that arrived together shares one sync of the disk; then
 * the frames that waited for it go out (ws_group_done). Also at once, for
 * an answer that cannot wait in a queue (server.h: commit_now). */
#ifndef PARLEY_SERVER_GROUPCOMMIT_H
#define PARLEY_SERVER_GROUPCOMMIT_H

#include "server.h"

struct lws_context;

/* Turns grouping on for srv->store and sets srv->commit_now. 0, or -1
 * when out of memory. */
int groupcommit_start(server *srv, struct lws_context *ctx);
/* Commits what is open and stops; before the lws context goes. */
void groupcommit_stop(server *srv);

#endif
