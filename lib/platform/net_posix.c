#include "platform/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "parley.h"

int pl_net_resolve_ipv4(const char *host, char (*out)[PL_NET_ADDR_MAX], int max, char *why,
                        size_t size)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(why, size, "cannot resolve %.120s: %s", host, gai_strerror(rc));
        return PARLEY_ERR_CONNECT;
    }
    int n = 0;
    for (const struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ai->ai_addr;
        if (ai->ai_family == AF_INET && inet_ntop(AF_INET, &sin->sin_addr, out[n], PL_NET_ADDR_MAX))
            n++;
    }
    freeaddrinfo(res);
    if (!n)
        snprintf(why, size, "cannot resolve %.120s: no IPv4 address", host);
    return n ? n : PARLEY_ERR_CONNECT;
}

int pl_net_is_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}
