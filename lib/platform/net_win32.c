/* Winsock's getaddrinfo. Winsock must be started in the calling thread's
 * process before any call (libwebsockets starts it too, but a lookup may
 * come first); WSAStartup and WSACleanup count, so each call pairs its own. */
#include "platform/net.h"

#include <stdio.h>
#include <string.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include "parley.h"

static int ipv4_of(const struct addrinfo *res, char (*out)[PL_NET_ADDR_MAX], int max)
{
    int n = 0;
    for (const struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ai->ai_addr;
        if (ai->ai_family == AF_INET && inet_ntop(AF_INET, &sin->sin_addr, out[n], PL_NET_ADDR_MAX))
            n++;
    }
    return n;
}

int pl_net_resolve_ipv4(const char *host, char (*out)[PL_NET_ADDR_MAX], int max, char *why,
                        size_t size)
{
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        snprintf(why, size, "cannot resolve %.120s: Winsock unavailable", host);
        return PARLEY_ERR_CONNECT;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    int n = rc == 0 ? ipv4_of(res, out, max) : 0;
    if (rc == 0)
        freeaddrinfo(res);
    WSACleanup();
    if (rc != 0)
        snprintf(why, size, "cannot resolve %.120s: error %d", host, rc);
    else if (!n)
        snprintf(why, size, "cannot resolve %.120s: no IPv4 address", host);
    return n ? n : PARLEY_ERR_CONNECT;
}

int pl_net_is_numeric(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}
