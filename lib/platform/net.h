/* Name resolution through the system's resolver (getaddrinfo: the hosts
 * file, nsswitch, the platform's DNS settings). It may block for the
 * resolver's whole timeout, so the library calls it on a helper thread
 * (transport/resolve.h). */
#ifndef PARLEY_PLATFORM_NET_H
#define PARLEY_PLATFORM_NET_H

#include <stddef.h>

/* The longest numeric address written: IPv6 with a scope, NUL included. */
#define PL_NET_ADDR_MAX 64

/* The IPv4 addresses of `host`, best first, as text into out[0..max-1]:
 * how many (at least 1), or PARLEY_ERR_CONNECT with why[size] filled. */
int pl_net_resolve_ipv4(const char *host, char (*out)[PL_NET_ADDR_MAX], int max, char *why,
                        size_t size);

/* 1 when `host` is an IPv4 or IPv6 address (nothing to resolve). */
int pl_net_is_numeric(const char *host);

#endif
