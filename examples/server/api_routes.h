/* Every route of the agents' HTTP API and the handler that answers it: the
 * table main.c installs in the server for http.c to dispatch by. */
#ifndef PARLEY_SERVER_API_ROUTES_H
#define PARLEY_SERVER_API_ROUTES_H

#include <stddef.h>

#include "http.h"

const http_route *api_routes(size_t *n);
const http_file_route *api_file_routes(size_t *n);

#endif
