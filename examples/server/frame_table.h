/* Every client frame type of parley.v1 and the handler that answers it:
 * the table main.c installs in the server for ws.c to dispatch by. */
#ifndef PARLEY_SERVER_FRAME_TABLE_H
#define PARLEY_SERVER_FRAME_TABLE_H

#include <stddef.h>

#include "ws.h"

const ws_route *frame_table(size_t *n);

#endif
