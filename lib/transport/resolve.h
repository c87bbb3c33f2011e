/* Name resolution off the servicing thread: a lookup runs on a helper
 * thread of its own and tells the transport when it is done, so neither
 * parley_service() nor the I/O thread ever waits for a DNS server. The
 * system's resolver does the work (getaddrinfo: /etc/hosts, nsswitch, the
 * platform's DNS settings), which libwebsockets 4.1's own asynchronous
 * resolver does not honour. Part of the transport. */
#ifndef PARLEY_RESOLVE_H
#define PARLEY_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "platform/net.h"
#include "util/alloc.h"

#define PL_RESOLVE_ADDR_MAX PL_NET_ADDR_MAX

/* Resolves `host` to the numeric addresses a client can connect to, best
 * first, written one after another into out[max][PL_RESOLVE_ADDR_MAX];
 * returns how many (at least 1) or a negative PARLEY_ERR_CONNECT, and
 * fills why[size] on failure. Runs on the helper thread; may block. */
typedef int (*pl_resolve_fn)(void *user, const char *host, char (*out)[PL_RESOLVE_ADDR_MAX],
                             int max, char *why, size_t size);

/* The default: the system's resolver (pl_net_resolve_ipv4), IPv4 only (the libwebsockets build
 * has no IPv6). */
int pl_resolve_system(void *user, const char *host, char (*out)[PL_RESOLVE_ADDR_MAX], int max,
                      char *why, size_t size);

/* 1 when `host` is an IPv4 or IPv6 address (no lookup needed). */
int pl_resolve_is_numeric(const char *host);

#define PL_RESOLVE_MAX 4 /* addresses kept per lookup */
#define PL_RESOLVE_WHY 160

typedef struct pl_lookup pl_lookup;

/* Starts resolving `host` (copied) with `fn` on a new helper thread.
 * `done(user)` is called on that thread once the result is ready, never
 * after pl_lookup_abandon() has returned (it must only wake the
 * servicing thread). Errors: NOMEM, THREAD. */
int pl_lookup_start(const pl_alloc *a, const char *host, pl_resolve_fn fn, void *fn_user,
                    void (*done)(void *user), void *user, pl_lookup **out);

/* Whether the lookup has finished; if so, its addresses (see
 * pl_resolve_fn: a count, or a negative error with `why`). */
int pl_lookup_finished(pl_lookup *l, int *count, char (*out)[PL_RESOLVE_ADDR_MAX],
                       char why[PL_RESOLVE_WHY]);

/* The caller is done with the lookup: freed now when it has finished, or
 * by its thread when the system's resolver returns (a lookup cannot be
 * interrupted). Not called back afterwards. NULL is a no-op. */
void pl_lookup_abandon(pl_lookup *l);

#endif
